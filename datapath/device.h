/* device.h — one view of a WireGuard interface, whichever datapath runs it.
 *
 * The types follow wireguard-tools' containers.h: a device owns a list of peers, a peer a
 * list of allowed IPs, and flag bits say how a set merges into what is there. Two backends
 * implement the calls: the kernel module over generic netlink (netlink.c) and a userspace
 * datapath (podwire-wg or wireguard-go) over its UAPI socket (uapi_client.c). device.c picks
 * the backend per interface: the UAPI socket /var/run/wireguard/NAME.sock when it exists (as
 * wg does), else netlink. */
#ifndef PODWIRE_DATAPATH_DEVICE_H
#define PODWIRE_DATAPATH_DEVICE_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "lib/ipaddr.h"
#include "lib/key.h"

enum wgdevice_flags {
	WGDEVICE_REPLACE_PEERS = 1U << 0,
	WGDEVICE_HAS_PRIVATE_KEY = 1U << 1,
	WGDEVICE_HAS_PUBLIC_KEY = 1U << 2,
	WGDEVICE_HAS_LISTEN_PORT = 1U << 3,
	WGDEVICE_HAS_FWMARK = 1U << 4,
};

enum wgpeer_flags {
	WGPEER_REMOVE_ME = 1U << 0,
	WGPEER_REPLACE_ALLOWEDIPS = 1U << 1,
	WGPEER_HAS_PUBLIC_KEY = 1U << 2,
	WGPEER_HAS_PRESHARED_KEY = 1U << 3,
	WGPEER_HAS_PERSISTENT_KEEPALIVE_INTERVAL = 1U << 4,
	WGPEER_UPDATE_ONLY = 1U << 5,
};

struct wgallowedip {
	struct ip_prefix prefix;
	struct wgallowedip *next_allowedip;
};

typedef union {
	struct sockaddr addr;
	struct sockaddr_in addr4;
	struct sockaddr_in6 addr6;
} wg_endpoint;

struct wgpeer {
	uint32_t flags; /* enum wgpeer_flags */
	uint8_t public_key[WG_KEY_LEN];
	uint8_t preshared_key[WG_KEY_LEN];
	wg_endpoint endpoint; /* sa_family 0: none */
	struct timespec last_handshake_time; /* CLOCK_REALTIME, zero: never */
	uint64_t rx_bytes, tx_bytes;
	uint16_t persistent_keepalive_interval;
	struct wgallowedip *first_allowedip, *last_allowedip;
	struct wgpeer *next_peer;
};

struct wgdevice {
	char name[IFNAMSIZ];
	uint32_t ifindex;
	uint32_t flags; /* enum wgdevice_flags */
	uint8_t public_key[WG_KEY_LEN];
	uint8_t private_key[WG_KEY_LEN];
	uint32_t fwmark;
	uint16_t listen_port;
	struct wgpeer *first_peer, *last_peer;
};

enum datapath_kind {
	DATAPATH_NONE,
	DATAPATH_KERNEL,    /* the Linux module, over generic netlink */
	DATAPATH_USERSPACE, /* a UAPI socket: podwire-wg or wireguard-go */
};

#define for_each_wgpeer(__dev, __peer) \
	for ((__peer) = (__dev)->first_peer; (__peer); (__peer) = (__peer)->next_peer)
#define for_each_wgallowedip(__peer, __allowedip) \
	for ((__allowedip) = (__peer)->first_allowedip; (__allowedip); (__allowedip) = (__allowedip)->next_allowedip)

/* Names of all WireGuard interfaces in this network namespace (kernel and userspace),
 * as a NUL-separated list ending with an empty string, sorted. Caller frees. */
int device_list(char **names);
/* Read the whole state of @name; *dev is allocated, free with device_free(). -ENODEV if none. */
int device_get(struct wgdevice **dev, const char *name);
/* Apply @dev (flags say what to change and how to merge). All-or-nothing where the
 * backend allows it. Returns 0 or -errno; @err (optional) gets the backend's message (a busy
 * port is named), then one of the notes below saying what became of the device. A caller
 * that deletes the device anyway cuts the note off. */
int device_set(struct wgdevice *dev, char *err, unsigned long err_len);
#define DEVICE_SET_RESTORED_NOTE " (nothing changed: the device was restored)"
#define DEVICE_SET_PARTIAL_NOTE " (the device may be partially changed: restoring it failed)"
/* Which datapath runs @name now (DATAPATH_NONE if no such WireGuard interface). */
enum datapath_kind device_kind(const char *name);
const char *datapath_kind_name(enum datapath_kind kind);

/* How link_create() picks a datapath. */
enum datapath_choice {
	DATAPATH_CHOICE_AUTO,      /* kernel when the module is there, else userspace */
	DATAPATH_CHOICE_KERNEL,
	DATAPATH_CHOICE_USERSPACE,
};
/* Create interface @name: `ip link add NAME type wireguard`, or, when the kernel has no
 * WireGuard (and @choice allows it), start the userspace datapath (podwire-wg, or the
 * program named by $WG_QUICK_USERSPACE_IMPLEMENTATION) and wait for its socket.
 * *used (optional) says which datapath now runs it. Logs one line naming the datapath. */
int link_create(const char *name, enum datapath_choice choice, enum datapath_kind *used);
/* Delete interface @name, kernel or userspace (the userspace process exits with it). */
int link_delete(const char *name);

void device_free(struct wgdevice *dev);
void peer_free(struct wgpeer *peer);
/* Append helpers for building a device to set. */
struct wgpeer *device_add_peer(struct wgdevice *dev);
struct wgallowedip *peer_add_allowedip(struct wgpeer *peer, const struct ip_prefix *prefix);

#endif
