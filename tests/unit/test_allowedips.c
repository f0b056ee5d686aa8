/* test_allowedips.c — the trie against a brute-force reference: a table of every prefix
 * that answers a lookup by trying each prefix length from longest to shortest. 100k random
 * v4 and v6 prefixes, 100k lookups each, then peer removal and per-peer listing (each
 * owner's list must hold exactly its reference prefixes, in insertion order), and finally
 * removal of every owner, which must leave an empty trie. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "datapath/userspace/allowedips.h"

#define NPEERS 64
#define NPREFIXES 100000
#define NLOOKUPS 100000

struct ref_entry {
	uint8_t used, cidr, len;
	uint8_t bits[16];
	int peer;
	uint64_t seq;
};

struct ref {
	struct ref_entry *slots;
	size_t cap;
	uint64_t seq;
};

static uint64_t rnd64(void)
{
	return (uint64_t)rand() << 42 ^ (uint64_t)rand() << 21 ^ (uint64_t)rand();
}

static void mask(uint8_t *bits, unsigned int cidr, unsigned int len)
{
	unsigned int i;

	for (i = cidr; i < len * 8; i++)
		bits[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
}

static size_t ref_hash(const uint8_t *bits, uint8_t cidr, uint8_t len)
{
	uint64_t h = 1469598103934665603ULL ^ cidr ^ (uint64_t)len << 8;
	unsigned int i;

	for (i = 0; i < len; i++)
		h = (h ^ bits[i]) * 1099511628211ULL;
	return (size_t)h;
}

static struct ref_entry *ref_find(struct ref *r, const uint8_t *bits, uint8_t cidr, uint8_t len, bool create)
{
	size_t i = ref_hash(bits, cidr, len) % r->cap;

	for (;; i = (i + 1) % r->cap) {
		struct ref_entry *e = &r->slots[i];

		if (!e->used) {
			if (!create)
				return NULL;
			e->used = 1;
			e->cidr = cidr;
			e->len = len;
			memcpy(e->bits, bits, len);
			e->peer = -1;
			return e;
		}
		if (e->cidr == cidr && e->len == len && !memcmp(e->bits, bits, len))
			return e;
	}
}

static void ref_insert(struct ref *r, const struct ip_prefix *p, int peer)
{
	uint8_t len = p->addr.family == AF_INET ? 4 : 16, bits[16];
	struct ref_entry *e;

	memcpy(bits, p->addr.bytes, len);
	mask(bits, p->cidr, len);
	e = ref_find(r, bits, p->cidr, len, true);
	if (e->peer != peer)
		e->seq = ++r->seq;
	e->peer = peer;
}

static int ref_lookup(struct ref *r, const uint8_t *addr, uint8_t len)
{
	uint8_t bits[16];
	int cidr;

	for (cidr = len * 8; cidr >= 0; cidr--) {
		struct ref_entry *e;

		memcpy(bits, addr, len);
		mask(bits, (unsigned int)cidr, len);
		e = ref_find(r, bits, (uint8_t)cidr, len, false);
		if (e && e->peer >= 0)
			return e->peer;
	}
	return -1;
}

static struct allowedips_owner peers[NPEERS];

static int peer_index(const struct allowedips_owner *p)
{
	return p ? (int)(p - peers) : -1;
}

struct owner_walk {
	const struct ref_entry **want; /* the owner's reference entries, by seq */
	size_t n, seen;
	bool ok;
};

static int match_ref(const struct ip_prefix *p, void *ctx)
{
	struct owner_walk *w = ctx;
	const struct ref_entry *e = w->seen < w->n ? w->want[w->seen] : NULL;
	uint8_t len = p->addr.family == AF_INET ? 4 : 16;

	w->ok = w->ok && e && e->len == len && e->cidr == p->cidr && !memcmp(e->bits, p->addr.bytes, len);
	w->seen++;
	return 0;
}

static int by_ref_seq(const void *a, const void *b)
{
	const struct ref_entry *x = *(const struct ref_entry *const *)a, *y = *(const struct ref_entry *const *)b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Every owner lists exactly its reference prefixes in insertion order; the count adds up. */
static void check_listings(const struct allowedips *t, const struct ref *r)
{
	const struct ref_entry **want = calloc(r->cap, sizeof(*want));
	size_t total = 0;

	assert_non_null(want);
	for (int i = 0; i < NPEERS; i++) {
		struct owner_walk w = { .want = want, .ok = true };

		for (size_t s = 0; s < r->cap; s++)
			if (r->slots[s].used && r->slots[s].peer == i)
				want[w.n++] = &r->slots[s];
		qsort(want, w.n, sizeof(*want), by_ref_seq);
		assert_int_equal(allowedips_walk_owner(&peers[i], match_ref, &w), 0);
		assert_true(w.ok);
		assert_int_equal(w.seen, w.n);
		total += w.n;
	}
	assert_int_equal(t->count, total);
	free(want);
}

static void random_prefix(struct ip_prefix *p, int family)
{
	uint64_t a = rnd64(), b = rnd64();

	memset(p, 0, sizeof(*p));
	p->addr.family = family;
	if (family == AF_INET) {
		memcpy(p->addr.bytes, &a, 4);
		/* Bias toward realistic lengths but cover 0..32. */
		p->cidr = rand() % 4 ? (uint8_t)(8 + rand() % 25) : (uint8_t)(rand() % 33);
	} else {
		/* Share a few top bits so prefixes nest. */
		p->addr.bytes[0] = 0xfd;
		memcpy(p->addr.bytes + 1, &a, 7);
		memcpy(p->addr.bytes + 8, &b, 8);
		p->cidr = rand() % 4 ? (uint8_t)(16 + rand() % 113) : (uint8_t)(rand() % 129);
	}
}

static void check_family(int family)
{
	uint8_t len = family == AF_INET ? 4 : 16;
	struct ip_prefix *inserted = calloc(NPREFIXES, sizeof(*inserted));
	struct allowedips t;
	struct ref r = { .cap = NPREFIXES * 4 };
	uint8_t addr[16];
	int i;

	r.slots = calloc(r.cap, sizeof(*r.slots));
	allowedips_init(&t);
	for (i = 0; i < NPREFIXES; i++) {
		int peer = rand() % NPEERS;

		random_prefix(&inserted[i], family);
		assert_int_equal(allowedips_insert(&t, &inserted[i], &peers[peer]), 0);
		ref_insert(&r, &inserted[i], peer);
	}
	for (i = 0; i < NLOOKUPS; i++) {
		if (i % 2) {
			uint64_t a = rnd64(), b = rnd64();

			memcpy(addr, &a, 8);
			memcpy(addr + 8, &b, 8);
			if (family == AF_INET6)
				addr[0] = 0xfd;
		} else {
			/* An address inside an inserted prefix, random below its length. */
			const struct ip_prefix *p = &inserted[rand() % NPREFIXES];
			uint64_t a = rnd64(), b = rnd64();
			unsigned int bit;

			memcpy(addr, p->addr.bytes, len);
			for (bit = p->cidr; bit < len * 8u; bit++) {
				uint64_t v = bit < 64 ? a >> bit : b >> (bit - 64);

				if (v & 1)
					addr[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
				else
					addr[bit / 8] &= (uint8_t)~(0x80 >> (bit % 8));
			}
		}
		assert_int_equal(peer_index(allowedips_lookup(&t, family, addr)), ref_lookup(&r, addr, len));
	}

	/* Remove a third of the peers; lookups must now skip them. */
	for (i = 0; i < NPEERS; i += 3) {
		size_t s;

		allowedips_remove_by_owner(&t, &peers[i]);
		for (s = 0; s < r.cap; s++)
			if (r.slots[s].used && r.slots[s].peer == i)
				r.slots[s].peer = -1;
	}
	check_listings(&t, &r);
	for (i = 0; i < NLOOKUPS / 4; i++) {
		const struct ip_prefix *p = &inserted[rand() % NPREFIXES];

		memcpy(addr, p->addr.bytes, len);
		addr[len - 1] ^= (uint8_t)rand();
		assert_int_equal(peer_index(allowedips_lookup(&t, family, addr)), ref_lookup(&r, addr, len));
	}
	check_listings(&t, &r);

	/* Removing every owner prunes every node. */
	for (i = 0; i < NPEERS; i++)
		allowedips_remove_by_owner(&t, &peers[i]);
	assert_int_equal(t.count, 0);
	assert_null(t.root4);
	assert_null(t.root6);
	allowedips_free(&t);
	free(r.slots);
	free(inserted);
}

static void test_random_v4(void **state)
{
	srand(4);
	check_family(AF_INET);
}

static void test_random_v6(void **state)
{
	srand(6);
	check_family(AF_INET6);
}

struct listing {
	char out[8][IP_PREFIX_STRLEN];
	int n;
};

static int collect(const struct ip_prefix *p, void *ctx)
{
	struct listing *l = ctx;

	if (l->n < 8)
		ip_prefix_format(p, l->out[l->n], sizeof(l->out[0]));
	l->n++;
	return 0;
}

static void insert_str(struct allowedips *t, const char *s, struct allowedips_owner *peer)
{
	struct ip_prefix p;

	assert_int_equal(ip_prefix_parse(&p, s), 0);
	assert_int_equal(allowedips_insert(t, &p, peer), 0);
}

static void test_listing_and_masking(void **state)
{
	struct allowedips t;
	struct listing l = { 0 };
	uint8_t a4[4] = { 10, 1, 2, 3 }, a6[16] = { 0xfd, 0 };

	allowedips_init(&t);
	insert_str(&t, "10.1.2.3/24", &peers[1]);  /* host bits are dropped */
	insert_str(&t, "fd00::1/64", &peers[1]);
	insert_str(&t, "10.0.0.0/8", &peers[2]);
	insert_str(&t, "0.0.0.0/0", &peers[1]);
	insert_str(&t, "10.1.2.0/24", &peers[2]); /* moves to peer 2 */
	allowedips_walk_owner(&peers[1], collect, &l);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.out[0], "fd00::/64");
	assert_string_equal(l.out[1], "0.0.0.0/0");
	assert_ptr_equal(allowedips_lookup(&t, AF_INET, a4), &peers[2]);
	assert_ptr_equal(allowedips_lookup(&t, AF_INET6, a6), &peers[1]);
	a4[0] = 11;
	assert_ptr_equal(allowedips_lookup(&t, AF_INET, a4), &peers[1]);
	allowedips_remove_by_owner(&t, &peers[1]);
	assert_null(allowedips_lookup(&t, AF_INET, a4));
	assert_null(allowedips_lookup(&t, AF_INET6, a6));
	a4[0] = 10;
	assert_ptr_equal(allowedips_lookup(&t, AF_INET, a4), &peers[2]);
	allowedips_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_v4),
		cmocka_unit_test(test_random_v6),
		cmocka_unit_test(test_listing_and_masking),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
