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

/* Apply the lines of a "set" request (everything after "set=1\n" up to the blank line).
 * Returns 0 or the negative errno wireguard-go would report: -EPROTO for a line without
 * '=', -EINVAL for a bad key or value, -EADDRINUSE when the port cannot be bound, -ENOMEM.
 * On error nothing is changed. */
int wg_uapi_set(struct wg_device *dev, const char *body, size_t len, const struct wg_uapi_ops *ops);

#endif
