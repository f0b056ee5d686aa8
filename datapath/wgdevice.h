/* wgdevice.h — the data model of a WireGuard interface, whichever datapath runs it: the
 * device, its peers and their allowed IPs, with flag bits saying how a set merges into what
 * is there, as in wireguard-tools' containers.h. The backends (netlink.c, uapi_client.c) and
 * everything that builds or reads a device use these types; which backend runs an interface
 * is device.h's business. */
#ifndef PODWIRE_DATAPATH_WGDEVICE_H
#define PODWIRE_DATAPATH_WGDEVICE_H

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

#define for_each_wgpeer(__dev, __peer) \
	for ((__peer) = (__dev)->first_peer; (__peer); (__peer) = (__peer)->next_peer)
#define for_each_wgallowedip(__peer, __allowedip) \
	for ((__allowedip) = (__peer)->first_allowedip; (__allowedip); (__allowedip) = (__allowedip)->next_allowedip)

/* Free @dev, its peers and their allowed IPs; key material is wiped first. NULL is fine. */
void wgdevice_free(struct wgdevice *dev);
/* Free one peer that is not (or no longer) in a device's list. */
void wgdevice_free_peer(struct wgpeer *peer);
/* Append an empty peer to @dev, or an allowed IP (@prefix may be NULL) to @peer; NULL when
 * out of memory. */
struct wgpeer *wgdevice_add_peer(struct wgdevice *dev);
struct wgallowedip *wgdevice_add_allowedip(struct wgpeer *peer, const struct ip_prefix *prefix);

#endif
