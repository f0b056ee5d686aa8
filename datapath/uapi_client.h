/* uapi_client.h — the userspace backend of the device API: the cross-platform UAPI
 * (https://www.wireguard.com/xplatform/) spoken over /var/run/wireguard/NAME.sock by
 * podwire-wg and wireguard-go. */
#ifndef PODWIRE_DATAPATH_UAPI_CLIENT_H
#define PODWIRE_DATAPATH_UAPI_CLIENT_H

#include <stdbool.h>
#include <stdio.h>

#include "datapath/wgdevice.h"

/* Directory of the sockets, fixed as in wg(8) and wireguard-go. */
#define UAPI_SOCKET_DIR "/var/run/wireguard"

/* Does a live socket for @name exist (a stale one is not counted)? */
bool uapi_has_interface(const char *name);
/* Interfaces with a live socket, NUL-separated, ending with an empty string. Caller frees. */
int uapi_list_devices(char **names);
int uapi_get_device(struct wgdevice **dev, const char *name);
int uapi_set_device(struct wgdevice *dev, char *err, size_t err_len);

/* The protocol halves, over any stream (tests drive them through a socketpair):
 * parse a "get=1" reply up to its blank line; write a "set=1" request. Both return 0 or
 * -errno; uapi_parse_get_reply() returns -EPROTO on malformed lines and the peer's
 * errno=N when it is not 0. */
int uapi_parse_get_reply(FILE *f, struct wgdevice *dev);
int uapi_write_set_request(FILE *f, const struct wgdevice *dev);
/* Read the "errno=N" answer to a set; returns -N (0 on success). */
int uapi_read_set_reply(FILE *f);

#endif
