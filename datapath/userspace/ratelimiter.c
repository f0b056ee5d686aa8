/* ratelimiter.c — token buckets in an open-addressing table, idle entries dropped every
 * second. */
#include "datapath/userspace/ratelimiter.h"

#include <netinet/in.h>
#include <string.h>

#include "datapath/userspace/clock.h"

#define PACKET_COST (NSEC_PER_SEC / RATELIMITER_PACKETS_PER_SECOND)
#define TOKEN_MAX (PACKET_COST * RATELIMITER_BURST)

void ratelimiter_init(struct ratelimiter *r)
{
	memset(r, 0, sizeof(*r));
}

static size_t key_hash(const uint8_t key[9])
{
	uint64_t h = 1469598103934665603ULL;
	int i;

	for (i = 0; i < 9; i++)
		h = (h ^ key[i]) * 1099511628211ULL;
	return (size_t)(h ^ h >> 29);
}

/* Drop entries idle for a second (their bucket would be full again anyway) and rebuild the
 * table so probe chains stay intact. */
static void gc(struct ratelimiter *r, uint64_t now)
{
	struct ratelimiter_entry *keep = r->scratch;
	unsigned int i, n = 0;

	for (i = 0; i < RATELIMITER_SLOTS; i++)
		if (r->slots[i].last && r->slots[i].last + NSEC_PER_SEC > now)
			keep[n++] = r->slots[i];
	memset(r->slots, 0, sizeof(r->slots));
	r->used = 0;
	for (i = 0; i < n; i++) {
		size_t j = key_hash(keep[i].key) % RATELIMITER_SLOTS;

		while (r->slots[j].last)
			j = (j + 1) % RATELIMITER_SLOTS;
		r->slots[j] = keep[i];
		r->used++;
	}
	r->last_gc = now;
}

bool ratelimiter_allow(struct ratelimiter *r, const struct sockaddr *src, uint64_t now)
{
	uint8_t key[9] = { 0 };
	size_t j;

	if (src->sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &((const struct sockaddr_in *)src)->sin_addr, 4);
	} else if (src->sa_family == AF_INET6) {
		key[0] = 6;
		memcpy(key + 1, &((const struct sockaddr_in6 *)src)->sin6_addr, 8);
	} else {
		return false;
	}
	if (now >= r->last_gc + NSEC_PER_SEC)
		gc(r, now);
	for (j = key_hash(key) % RATELIMITER_SLOTS; r->slots[j].last; j = (j + 1) % RATELIMITER_SLOTS) {
		struct ratelimiter_entry *e = &r->slots[j];

		if (memcmp(e->key, key, sizeof(key)))
			continue;
		e->tokens += now - e->last;
		if (e->tokens > TOKEN_MAX)
			e->tokens = TOKEN_MAX;
		e->last = now;
		if (e->tokens < PACKET_COST)
			return false;
		e->tokens -= PACKET_COST;
		return true;
	}
	/* A new source; refuse when the table is mostly full (too many sources at once). */
	if (r->used >= RATELIMITER_SLOTS * 3 / 4)
		return false;
	memcpy(r->slots[j].key, key, sizeof(key));
	r->slots[j].last = now ? now : 1;
	r->slots[j].tokens = TOKEN_MAX - PACKET_COST;
	r->used++;
	return true;
}
