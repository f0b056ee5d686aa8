/* uapi.h — the cross-platform configuration protocol of wireguard-go
 * (https://www.wireguard.com/xplatform/): "get=1" prints the device as key=value lines,
 * "set=1" changes it. Here a set is all-or-nothing: the whole request is parsed and
 * validated, the fwmark and the socket changed if asked (each fully or not at all, the
 * fwmark put back if the socket fails), and only then applied. */
#ifndef PODWIRE_US_UAPI_H
#define PODWIRE_US_UAPI_H

#include <stddef.h>
#include <stdint.h>

struct wg_device;

struct wg_uapi_ops {
	/* Bind the UDP sockets to @port (0: any) and report the bound port; on failure the
	 * old sockets stay. Returns 0 or -errno. */
	int (*set_listen_port)(void *ctx, uint16_t port, uint16_t *bound);
	/* Set SO_MARK on the sockets (0 clears). Returns 0 or -errno. */
	int (*set_fwmark)(void *ctx, uint32_t mark);
	/* Called after a successful set (e.g. to wake the event loop). May be NULL. */
	void (*changed)(void *ctx);
	void *ctx;
};

/* The "get" answer without the trailing errno line, in wireguard-go's order. Returns 0
 * (*out malloc'd, NUL-terminated) or -ENOMEM. */
int wg_uapi_get(const struct wg_device *dev, char **out, size_t *len);

/* A "set" request parsed and validated, not yet applied: the staging step. Parsing a big
 * request (thousands of peers) needs no device, so the UAPI thread does it without the
 * datapath lock, which it then holds only to apply the result. */
struct wg_uapi_request;

/* Parse the lines of a "set" request (everything after "set=1\n" up to the blank line);
 * @name only labels log messages. Returns 0 with *out to apply and free, or the errors of
 * wg_uapi_set() that the text alone decides (-EPROTO, -EINVAL, -ENOMEM), *out NULL. */
int wg_uapi_parse(struct wg_uapi_request **out, const char *body, size_t len, const char *name);
/* Apply a parsed request (under the caller's datapath lock). Errors as wg_uapi_set(). */
int wg_uapi_apply(struct wg_device *dev, const struct wg_uapi_request *req, const struct wg_uapi_ops *ops);
/* Wipe (it holds keys) and free; NULL is fine. */
void wg_uapi_request_free(struct wg_uapi_request *req);

/* wg_uapi_parse() then wg_uapi_apply(): apply the lines of a "set" request (everything after "set=1\n" up to the blank line).
 * Returns 0 or the negative errno wireguard-go would report: -EPROTO for a line without
 * '=', -EINVAL for a bad key or value, -EADDRINUSE when the port cannot be bound, -ENOMEM.
 * On error nothing is changed. */
int wg_uapi_set(struct wg_device *dev, const char *body, size_t len, const struct wg_uapi_ops *ops);

#endif
