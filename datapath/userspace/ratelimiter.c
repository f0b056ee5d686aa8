/* ratelimiter.c — token buckets in an open-addressing (linear probing) table of bounded size.
 *
 * An entry whose bucket has refilled is the same as no entry at all (a new source starts with
 * a full bucket), so collecting those loses nothing: that happens every second, and early
 * (at most every PACKET_COST) when the table reaches its limit. If it is still at the limit
 * (many sources with cookies at once), a new source evicts the least recently seen of the
 * first EVICT_WINDOW entries on its probe path, as an LRU would: the table never fills, and a
 * legitimate new peer is never locked out by a crowd (the kernel's ratelimiter refuses new
 * sources beyond its max_entries until its once-a-second gc instead). */
#include "datapath/userspace/ratelimiter.h"

#include <netinet/in.h>
#include <string.h>

#include "datapath/userspace/clock.h"

#define PACKET_COST (NSEC_PER_SEC / RATELIMITER_PACKETS_PER_SECOND)
#define TOKEN_MAX (PACKET_COST * RATELIMITER_BURST)
/* Load factor 3/4 keeps linear-probing chains short. */
#define USED_MAX (RATELIMITER_SLOTS * 3 / 4)
#define EVICT_WINDOW 16

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
	return (size_t)(h ^ h >> 29) % RATELIMITER_SLOTS;
}

static bool refilled(const struct ratelimiter_entry *e, uint64_t now)
{
	return now - e->last >= TOKEN_MAX || e->tokens + (now - e->last) >= TOKEN_MAX;
}

/* Drop entries whose bucket is full again and rebuild the table so probe chains stay
 * intact. */
static void gc(struct ratelimiter *r, uint64_t now)
{
	struct ratelimiter_entry *keep = r->scratch;
	unsigned int i, n = 0;

	for (i = 0; i < RATELIMITER_SLOTS; i++)
		if (r->slots[i].last && !refilled(&r->slots[i], now))
			keep[n++] = r->slots[i];
	memset(r->slots, 0, sizeof(r->slots));
	r->used = 0;
	for (i = 0; i < n; i++) {
		size_t j = key_hash(keep[i].key);

		while (r->slots[j].last)
			j = (j + 1) % RATELIMITER_SLOTS;
		r->slots[j] = keep[i];
		r->used++;
	}
	r->last_gc = now;
}

/* Is @k cyclically in (@i, @j]? */
static bool between(size_t i, size_t k, size_t j)
{
	return i <= j ? i < k && k <= j : i < k || k <= j;
}

/* Empty slot @i, moving later entries of the run back so that every entry stays reachable
 * from its home slot (Knuth, TAOCP vol. 3, 6.4 Algorithm R). */
static void remove_at(struct ratelimiter *r, size_t i)
{
	size_t j = i;

	for (;;) {
		r->slots[i].last = 0;
		for (;;) {
			j = (j + 1) % RATELIMITER_SLOTS;
			if (!r->slots[j].last) {
				r->used--;
				return;
			}
			if (!between(i, key_hash(r->slots[j].key), j))
				break;
		}
		r->slots[i] = r->slots[j];
		i = j;
	}
}

/* The least recently seen of the first EVICT_WINDOW entries from @home on. */
static void evict_near(struct ratelimiter *r, size_t home)
{
	size_t j = home, victim = RATELIMITER_SLOTS;
	unsigned int seen = 0;

	for (; seen < EVICT_WINDOW; j = (j + 1) % RATELIMITER_SLOTS) {
		if (!r->slots[j].last)
			continue;
		if (victim == RATELIMITER_SLOTS || r->slots[j].last < r->slots[victim].last)
			victim = j;
		seen++;
	}
	remove_at(r, victim);
	r->evicted++;
}

bool ratelimiter_allow(struct ratelimiter *r, const struct sockaddr *src, uint64_t now)
{
	uint8_t key[9] = { 0 };
	size_t home, j;

	if (src->sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &((const struct sockaddr_in *)src)->sin_addr, 4);
	} else if (src->sa_family == AF_INET6) {
		key[0] = 6;
		memcpy(key + 1, &((const struct sockaddr_in6 *)src)->sin6_addr, 8);
	} else {
		return false;
	}
	if (!now)
		now = 1; /* 0 marks a free slot */
	if (now >= r->last_gc + NSEC_PER_SEC)
		gc(r, now);
	home = key_hash(key);
	for (j = home; r->slots[j].last; j = (j + 1) % RATELIMITER_SLOTS) {
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
	/* A new source with the table at its limit: collect refilled entries (not more often
	 * than a token refills), then make room by eviction if that was not enough. */
	if (r->used >= USED_MAX && now >= r->last_gc + PACKET_COST)
		gc(r, now);
	if (r->used >= USED_MAX)
		evict_near(r, home);
	for (j = home; r->slots[j].last; j = (j + 1) % RATELIMITER_SLOTS)
		;
	memcpy(r->slots[j].key, key, sizeof(key));
	r->slots[j].last = now;
	r->slots[j].tokens = TOKEN_MAX - PACKET_COST;
	r->used++;
	return true;
}
