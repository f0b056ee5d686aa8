/* peer.h — a WireGuard peer: its handshake, its three transport keypairs (previous,
 * current, next as in the kernel's noise.c), endpoint, counters and timer deadlines; and
 * the table mapping our 32-bit receiver indices back to peers and keypairs (paper §5.4.1). */
#ifndef PODWIRE_US_PEER_H
#define PODWIRE_US_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "datapath/userspace/allowedips.h"
#include "datapath/userspace/cookie.h"
#include "datapath/userspace/noise.h"
#include "datapath/userspace/udp.h"

struct wg_device;
struct wg_peer;
struct wg_keypair;

struct wg_index_entry {
	uint32_t index;
	struct wg_peer *peer;
	struct wg_keypair *keypair; /* NULL: the entry names the peer's pending handshake */
	struct wg_index_entry *next;
	bool hashed;
};

struct wg_keypair {
	struct noise_keypair noise;
	struct wg_index_entry entry;
};

#define WG_INDEX_BUCKETS 1024

struct wg_index_table {
	struct wg_index_entry *buckets[WG_INDEX_BUCKETS];
};

struct wg_staged_packet {
	uint8_t *buf; /* MESSAGE_DATA_HEADER_LEN headroom, then the packet */
	size_t len;
};

struct wg_peer {
	struct wg_device *dev;
	struct wg_peer *next_peer, *prev_peer; /* the device's peer list */
	struct wg_peer *pubkey_next;		/* the device's public key bucket */
	struct noise_handshake handshake;
	struct wg_index_entry handshake_entry;
	struct cookie cookie;
	struct wg_keypair *kp_previous, *kp_current, *kp_next;

	struct allowedips_owner allowedips; /* this peer's prefixes in dev->allowedips */
	struct sockaddr_storage endpoint; /* ss_family 0: unknown */
	struct wg_udp_src endpoint_src;   /* our address it last reached us on (sticky) */
	uint64_t rx_bytes, tx_bytes;
	struct timespec last_handshake; /* CLOCK_REALTIME of the last completed handshake */
	uint16_t persistent_keepalive_interval; /* seconds, 0: off */

	/* Timer deadlines in clock ns, 0 = not pending (kernel timers.c's timer_list). */
	uint64_t timer_retransmit_handshake, timer_send_keepalive, timer_new_handshake;
	uint64_t timer_zero_key_material, timer_persistent_keepalive;
	unsigned int timer_handshake_attempts;
	bool timer_need_another_keepalive, sent_lastminute_handshake;
	uint64_t last_sent_handshake;

	struct wg_staged_packet staged[MAX_STAGED_PACKETS];
	unsigned int staged_head, staged_count;
};

/* Create a peer for @public_key on @dev (not yet linked into the device list).
 * Returns NULL on allocation failure. */
struct wg_peer *wg_peer_create(struct wg_device *dev, const uint8_t public_key[NOISE_PUBLIC_KEY_LEN]);
/* Unhash, wipe and free everything the peer owns. */
void wg_peer_destroy(struct wg_peer *peer);

/* The peer owning an allowed-IPs entry, NULL for none. */
static inline struct wg_peer *wg_peer_of_allowedips(struct allowedips_owner *o)
{
	return o ? (struct wg_peer *)((char *)o - offsetof(struct wg_peer, allowedips)) : NULL;
}

/* Install a freshly derived keypair under the handshake's index (kernel noise.c
 * add_new_keypair rules). */
void wg_peer_add_keypair(struct wg_peer *peer, struct wg_keypair *kp);
/* A packet authenticated under @kp: promote "next" to "current" when it is the first use
 * (the responder's confirmation). Returns true when that promotion happened. */
bool wg_peer_received_with_keypair(struct wg_peer *peer, struct wg_keypair *kp);
/* Drop all keypairs and the handshake in progress (zero key material, paper §6.3). */
void wg_peer_clear_keys(struct wg_peer *peer);
/* Queue a packet (copied) for when a session exists; the oldest is dropped when full. */
int wg_peer_stage_packet(struct wg_peer *peer, const uint8_t *pkt, size_t len);
void wg_peer_purge_staged(struct wg_peer *peer);

void wg_index_init(struct wg_index_table *t);
/* Give @entry a fresh random index unused in @t, and hash it. */
void wg_index_insert(struct wg_index_table *t, struct wg_index_entry *entry, const struct wg_random *rng);
/* @new takes over @old's index (handshake -> keypair). */
void wg_index_replace(struct wg_index_table *t, struct wg_index_entry *old, struct wg_index_entry *new);
void wg_index_remove(struct wg_index_table *t, struct wg_index_entry *entry);
struct wg_index_entry *wg_index_lookup(const struct wg_index_table *t, uint32_t index);

#endif
