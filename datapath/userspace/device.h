/* device.h — one userspace WireGuard interface: identity, peers, allowed IPs, the index
 * table and the I/O it is wired to. The I/O is a table of callbacks so that unit tests can
 * connect two devices back to back and drive them with a fake clock. */
#ifndef PODWIRE_US_DEVICE_H
#define PODWIRE_US_DEVICE_H

#include <net/if.h>
#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "datapath/userspace/allowedips.h"
#include "datapath/userspace/clock.h"
#include "datapath/userspace/cookie.h"
#include "datapath/userspace/noise.h"
#include "datapath/userspace/peer.h"
#include "datapath/userspace/random.h"
#include "datapath/userspace/ratelimiter.h"
#include "datapath/userspace/udp.h"

/* Room before an inner packet for the data header, and after it for padding and the tag. */
#define WG_PACKET_HEADROOM MESSAGE_DATA_HEADER_LEN
#define WG_PACKET_TAILROOM (MESSAGE_PADDING_MULTIPLE + NOISE_AUTHTAG_LEN)
#define WG_MAX_PACKET 65535
/* Peers hashed by public key, as the kernel's pubkey_hashtable (2^11 buckets). */
#define WG_PUBKEY_BUCKETS 2048
#define WG_PACKET_BUF_SIZE (WG_PACKET_HEADROOM + WG_MAX_PACKET + WG_PACKET_TAILROOM)

struct wg_io {
	/* Send one datagram now (the buffer may be reused on return), from @src if not NULL. */
	int (*send)(void *ctx, const struct sockaddr *dst, const struct wg_udp_src *src,
		    const void *buf, size_t len);
	/* Queue one datagram whose buffer stays valid until flush(); NULL: use send(). */
	int (*queue)(void *ctx, const struct sockaddr *dst, const struct wg_udp_src *src,
		     const void *buf, size_t len);
	int (*flush)(void *ctx);
	/* Hand a decrypted inner packet to the TUN device. */
	int (*deliver)(void *ctx, const void *pkt, size_t len);
	void *ctx;
};

/* Counters for what was dropped and why (malformed input is counted, never fatal). */
struct wg_device_stats {
	uint64_t rx_malformed;     /* wrong size or type */
	uint64_t rx_invalid_mac;   /* handshake message with bad mac1/mac2 */
	uint64_t rx_bad_handshake; /* failed to authenticate, replayed or unknown peer */
	uint64_t rx_bad_data;      /* unknown index, expired key, failed decryption */
	uint64_t rx_replayed;      /* transport counter already seen or too old */
	uint64_t rx_bad_inner;     /* inner packet not IP, wrong length or source not allowed */
	uint64_t rx_cookie_sent;   /* initiations answered with a cookie (under load) */
	uint64_t rx_ratelimited;   /* valid cookie, but too many handshakes from that source */
	uint64_t rx_overloaded;    /* under load, no cookie, and half the second spent on replies */
	uint64_t tx_no_peer;       /* TUN packet to an address no peer is allowed */
	uint64_t tx_no_endpoint;   /* peer has no endpoint yet */
	uint64_t tx_errors;
};

struct wg_device {
	char name[IFNAMSIZ];
	const struct wg_clock *clock;
	const struct wg_random *rng;
	struct wg_io io;
	struct noise_static_identity identity;
	struct cookie_checker cookie_checker;
	struct allowedips allowedips;
	struct wg_index_table index;
	struct wg_peer *first_peer, *last_peer; /* in the order they were added */
	unsigned int peer_count;
	struct wg_peer *pubkey_buckets[WG_PUBKEY_BUCKETS];
	uint8_t pubkey_hash_key[crypto_shorthash_KEYBYTES];
	uint16_t listen_port;
	uint32_t fwmark;
	unsigned int mtu; /* for padding (paper §5.4.6); 0: pad to the multiple only */
	/* Under load (paper §5.3): more than load_threshold handshake messages with a valid
	 * mac1 in a second, or more than WG_LOAD_BUSY_NS of that second spent on handshake
	 * work over more than load_threshold / WG_LOAD_BUSY_MIN_DIV of them (a responder too
	 * slow to see that many), switches cookie checking on for the next second. */
	unsigned int load_threshold;
	uint64_t load_window_start, under_load_until, load_busy_ns;
	unsigned int load_count;
	struct ratelimiter ratelimiter;
	struct wg_device_stats stats;
};

/* Default load threshold, as the kernel's MAX_QUEUED_INCOMING_HANDSHAKES / 8. */
#define WG_DEFAULT_LOAD_THRESHOLD 512
/* Handshake work (DH) per second that is load at the default threshold: an eighth of the
 * event thread. The kernel counts handshakes waiting in its queue; here the socket is the
 * queue, and work that takes this long is what makes one build up. */
#define WG_LOAD_BUSY_NS (NSEC_PER_SEC / 8)
/* ... but only over more than load_threshold / WG_LOAD_BUSY_MIN_DIV (16) handshake messages in
 * that second. A handful is never load, however slow the CPU: a few nodes starting at once
 * under emulation must not make each other wait a retry (REKEY_TIMEOUT) for a cookie. */
#define WG_LOAD_BUSY_MIN_DIV 32
/* Under load, handshake work (cookie replies included) past half a second drops further
 * cookie-less messages unanswered until the second is over: the other half is for data,
 * or a flood faster than our replies fills the socket and delays data by seconds. */
#define WG_LOAD_DROP_NS (NSEC_PER_SEC / 2)

void wg_device_init(struct wg_device *dev, const char *name, const struct wg_clock *clock,
		    const struct wg_random *rng, const struct wg_io *io);
/* Remove all peers and free everything (keys wiped). */
void wg_device_free(struct wg_device *dev);
/* Set (or clear, with all zeros) the private key; peers whose public key now equals ours
 * are removed, as wireguard-go and the kernel do. Returns 0 or -EINVAL. */
int wg_device_set_private_key(struct wg_device *dev, const uint8_t key[NOISE_PUBLIC_KEY_LEN]);
struct wg_peer *wg_device_lookup_peer(const struct wg_device *dev, const uint8_t public_key[NOISE_PUBLIC_KEY_LEN]);
/* Create and append a peer. Returns it, or NULL (-ENOMEM). */
struct wg_peer *wg_device_add_peer(struct wg_device *dev, const uint8_t public_key[NOISE_PUBLIC_KEY_LEN]);
void wg_device_remove_peer(struct wg_device *dev, struct wg_peer *peer);
void wg_device_remove_all_peers(struct wg_device *dev);
/* Run every peer's expired timers; returns the nearest pending deadline (0: none). */
uint64_t wg_device_tick(struct wg_device *dev);
/* Is cookie checking on? Counts one handshake message (its mac1 valid) against the load window. */
bool wg_device_under_load(struct wg_device *dev);
/* Count the handshake work (a message taken past the cookie check, or a cookie reply)
 * begun at @started. */
void wg_device_handshake_work(struct wg_device *dev, uint64_t started);
/* Under load: has this second's handshake work used up WG_LOAD_DROP_NS? */
bool wg_device_overloaded(const struct wg_device *dev);

#endif
