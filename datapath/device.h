/* device.h — list, read and change WireGuard interfaces, whichever datapath runs them, as
 * wireguard-tools' ipc.h does.
 *
 * The data model is wgdevice.h's. Two backends implement the calls: the kernel module over
 * generic netlink (netlink.c) and a userspace datapath (podwire-wg or wireguard-go) over its
 * UAPI socket (uapi_client.c). device.c picks the backend per interface: the UAPI socket
 * /var/run/wireguard/NAME.sock when it exists (as wg does), else netlink. The backends only
 * know wgdevice.h, never this dispatcher. */
#ifndef PODWIRE_DATAPATH_DEVICE_H
#define PODWIRE_DATAPATH_DEVICE_H

#include <stddef.h>

#include "datapath/wgdevice.h"

enum datapath_kind {
	DATAPATH_NONE,
	DATAPATH_KERNEL,    /* the Linux module, over generic netlink */
	DATAPATH_USERSPACE, /* a UAPI socket: podwire-wg or wireguard-go */
};

/* Names of all WireGuard interfaces in this network namespace (kernel and userspace),
 * as a NUL-separated list ending with an empty string, in wg(8)'s order: kernel links
 * as the link dump gives them, then UAPI sockets as the directory lists them. Caller frees. */
int device_list(char **names);
/* Read the whole state of @name; *dev is allocated, free with wgdevice_free(). -ENODEV if none. */
int device_get(struct wgdevice **dev, const char *name);
/* Apply @dev (flags say what to change and how to merge). All-or-nothing where the
 * backend allows it. Returns 0 or -errno; @err (optional) gets the backend's message (a busy
 * port is named), then one of the notes below saying what became of the device. A caller
 * that deletes the device anyway cuts the note off. */
int device_set(struct wgdevice *dev, char *err, size_t err_len);
#define DEVICE_SET_RESTORED_NOTE " (nothing changed: the device was restored)"
#define DEVICE_SET_PARTIAL_NOTE " (the device may be partially changed: restoring it failed)"
/* Which datapath runs @name now (DATAPATH_NONE if no such WireGuard interface). */
enum datapath_kind device_kind(const char *name);
const char *datapath_kind_name(enum datapath_kind kind);

#endif
