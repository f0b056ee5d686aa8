/* ratelimiter.h — per-source token buckets for handshake messages that passed the cookie
 * check under load (kernel ratelimiter.c): a cookie proves the address, this bounds how
 * much DH work one address can cause. IPv4 sources are keyed by address, IPv6 by /64. */
#ifndef PODWIRE_US_RATELIMITER_H
#define PODWIRE_US_RATELIMITER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* Kernel ratelimiter.c: 20 handshakes per second per source, bursts of 5. */
#define RATELIMITER_PACKETS_PER_SECOND 20
#define RATELIMITER_BURST 5
#define RATELIMITER_SLOTS 4096

struct ratelimiter_entry {
	uint64_t last;   /* clock ns of the last update; 0: free slot */
	uint64_t tokens; /* in ns of budget */
	uint8_t key[9];  /* family byte + 4 (v4) or 8 (v6 /64) address bytes */
};

struct ratelimiter {
	struct ratelimiter_entry slots[RATELIMITER_SLOTS];
	struct ratelimiter_entry scratch[RATELIMITER_SLOTS]; /* for the rebuild in gc */
	uint64_t last_gc;
	unsigned int used;    /* at most 3/4 of RATELIMITER_SLOTS */
	uint64_t evicted;     /* sources dropped to make room before their bucket refilled */
};

void ratelimiter_init(struct ratelimiter *r);
/* May a handshake from @src be processed at @now? Takes a token if so. A new source always
 * gets an entry: when the table is at its limit, entries whose bucket has refilled are
 * collected, else the least recently seen one near the new source's slot is evicted. */
bool ratelimiter_allow(struct ratelimiter *r, const struct sockaddr *src, uint64_t now);

#endif
