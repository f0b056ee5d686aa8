/* netlink.h — the kernel backend of the device API: WireGuard's generic netlink family
 * ("wireguard", include/uapi/linux/wireguard.h) through libnl-genl-3. */
#ifndef PODWIRE_DATAPATH_NETLINK_H
#define PODWIRE_DATAPATH_NETLINK_H

#include <stdbool.h>
#include <stddef.h>

#include "datapath/wgdevice.h"

struct nlmsghdr;

/* Is @name a link of kind "wireguard" in this namespace? */
bool kernel_has_interface(const char *name);
/* Kernel WireGuard links, NUL-separated, ending with an empty string. Caller frees. */
int kernel_list_devices(char **names);
/* WG_CMD_GET_DEVICE, following the multi-part dump; -ENODEV if no such device,
 * -EPROTONOSUPPORT if the kernel has no wireguard family. */
int kernel_get_device(struct wgdevice **dev, const char *name);
/* Merge one message of the WG_CMD_GET_DEVICE dump into @dev: the device attributes, and its
 * slice of the peers (a peer whose key repeats the last one continues it). A message or
 * attribute that does not parse is skipped, as is anything the uapi header does not allow.
 * Returns 0 or -ENOMEM. Apart from the socket, so that it can be fed any bytes
 * (tests/fuzz/fuzz_netlink.c). */
int kernel_parse_device_message(struct wgdevice *dev, struct nlmsghdr *nlh);
/* An NLMSG_ERROR (or ack): its error (0 or -errno, -EBADMSG when too short for one), and in
 * @extack the kernel's extended-ack message ("" without one). Also apart from the socket. */
int kernel_parse_error_message(struct nlmsghdr *nlh, char *extack, size_t extack_len);
/* WG_CMD_SET_DEVICE, split over as many messages as the peer list needs. On failure @err
 * gets "operation: kernel message" (the extended ack when the kernel sent one). */
int kernel_set_device(struct wgdevice *dev, char *err, size_t err_len);

#endif
