/* allowedips.c — a path-compressed binary trie (like the kernel's allowedips.c): every
 * node holds a prefix; a node without a peer only joins two diverging subtrees. */
#include "datapath/userspace/allowedips.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct allowedips_node {
	struct allowedips_node *child[2];
	void *peer;
	uint64_t seq;
	uint8_t bits[16];
	uint8_t cidr;
	uint8_t len; /* address bytes: 4 or 16 */
};

void allowedips_init(struct allowedips *t)
{
	memset(t, 0, sizeof(*t));
}

static void free_tree(struct allowedips_node *n)
{
	if (!n)
		return;
	free_tree(n->child[0]);
	free_tree(n->child[1]);
	free(n);
}

void allowedips_free(struct allowedips *t)
{
	free_tree(t->root4);
	free_tree(t->root6);
	t->root4 = t->root6 = NULL;
	t->count = 0;
}

static inline unsigned int bit_at(const uint8_t *bits, unsigned int i)
{
	return (bits[i / 8] >> (7 - i % 8)) & 1;
}

/* Number of leading bits @a and @b share, at most @limit. */
static unsigned int common_bits(const uint8_t *a, const uint8_t *b, unsigned int limit)
{
	unsigned int i = 0;

	while (i + 8 <= limit && a[i / 8] == b[i / 8])
		i += 8;
	while (i < limit && bit_at(a, i) == bit_at(b, i))
		i++;
	return i;
}

static void mask_bits(uint8_t *bits, unsigned int cidr, unsigned int len)
{
	unsigned int i;

	for (i = cidr; i < len * 8; i++)
		bits[i / 8] &= ~(0x80 >> (i % 8));
}

static struct allowedips_node *node_new(const uint8_t *bits, unsigned int len, uint8_t cidr,
					void *peer, uint64_t seq)
{
	struct allowedips_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	memcpy(n->bits, bits, len);
	mask_bits(n->bits, cidr, len);
	n->cidr = cidr;
	n->len = (uint8_t)len;
	n->peer = peer;
	n->seq = seq;
	return n;
}

int allowedips_insert(struct allowedips *t, const struct ip_prefix *prefix, void *peer)
{
	unsigned int len, maxbits, c;
	struct allowedips_node **link, *n, *fresh, *mid;
	const uint8_t *key = prefix->addr.bytes;
	uint8_t cidr = prefix->cidr;

	if (prefix->addr.family == AF_INET) {
		len = 4;
		link = &t->root4;
	} else if (prefix->addr.family == AF_INET6) {
		len = 16;
		link = &t->root6;
	} else {
		return -EINVAL;
	}
	maxbits = len * 8;
	if (cidr > maxbits || !peer)
		return -EINVAL;

	for (;;) {
		n = *link;
		if (!n) {
			fresh = node_new(key, len, cidr, peer, ++t->seq);
			if (!fresh)
				return -ENOMEM;
			*link = fresh;
			t->count++;
			return 0;
		}
		c = common_bits(key, n->bits, cidr < n->cidr ? cidr : n->cidr);
		if (c == n->cidr && c == cidr) {
			if (!n->peer)
				t->count++;
			if (n->peer != peer)
				n->seq = ++t->seq;
			n->peer = peer;
			return 0;
		}
		if (c == n->cidr) {
			/* n is a strict prefix of the new one: descend. */
			link = &n->child[bit_at(key, n->cidr)];
			continue;
		}
		fresh = node_new(key, len, cidr, peer, ++t->seq);
		if (!fresh)
			return -ENOMEM;
		if (c == cidr) {
			/* The new prefix contains n: it becomes n's parent. */
			fresh->child[bit_at(n->bits, cidr)] = n;
			*link = fresh;
			t->count++;
			return 0;
		}
		/* They diverge at bit c: join them under a peerless node of length c. */
		mid = node_new(key, len, (uint8_t)c, NULL, 0);
		if (!mid) {
			free(fresh);
			return -ENOMEM;
		}
		mid->child[bit_at(key, c)] = fresh;
		mid->child[bit_at(n->bits, c)] = n;
		*link = mid;
		t->count++;
		return 0;
	}
}

/* Drop @peer from the subtree at @link and prune nodes that no longer carry anything. */
static size_t remove_peer(struct allowedips_node **link, void *peer)
{
	struct allowedips_node *n = *link;
	size_t removed;

	if (!n)
		return 0;
	removed = remove_peer(&n->child[0], peer) + remove_peer(&n->child[1], peer);
	if (n->peer == peer) {
		n->peer = NULL;
		removed++;
	}
	if (n->peer)
		return removed;
	if (!n->child[0] || !n->child[1]) {
		*link = n->child[0] ? n->child[0] : n->child[1];
		free(n);
	}
	return removed;
}

void allowedips_remove_by_peer(struct allowedips *t, void *peer)
{
	t->count -= remove_peer(&t->root4, peer);
	t->count -= remove_peer(&t->root6, peer);
}

void *allowedips_lookup(const struct allowedips *t, int family, const uint8_t *addr)
{
	const struct allowedips_node *n = family == AF_INET ? t->root4 : family == AF_INET6 ? t->root6 : NULL;
	unsigned int maxbits = family == AF_INET ? 32 : 128;
	void *best = NULL;

	while (n) {
		if (common_bits(addr, n->bits, n->cidr) != n->cidr)
			break;
		if (n->peer)
			best = n->peer;
		if (n->cidr == maxbits)
			break;
		n = n->child[bit_at(addr, n->cidr)];
	}
	return best;
}

struct walk_list {
	const struct allowedips_node **v;
	size_t len, cap;
};

static int collect(const struct allowedips_node *n, void *peer, struct walk_list *l)
{
	if (!n)
		return 0;
	if (n->peer == peer) {
		if (l->len == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 16;
			const struct allowedips_node **v = realloc(l->v, cap * sizeof(*v));

			if (!v)
				return -ENOMEM;
			l->v = v;
			l->cap = cap;
		}
		l->v[l->len++] = n;
	}
	if (collect(n->child[0], peer, l) || collect(n->child[1], peer, l))
		return -ENOMEM;
	return 0;
}

static int by_seq(const void *a, const void *b)
{
	const struct allowedips_node *x = *(const struct allowedips_node *const *)a;
	const struct allowedips_node *y = *(const struct allowedips_node *const *)b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int allowedips_walk_peer(const struct allowedips *t, void *peer,
			 int (*fn)(const struct ip_prefix *prefix, void *ctx), void *ctx)
{
	struct walk_list l = { 0 };
	struct ip_prefix p;
	size_t i;
	int ret = 0;

	if (collect(t->root4, peer, &l) || collect(t->root6, peer, &l))
		goto nomem;
	if (l.len)
		qsort(l.v, l.len, sizeof(*l.v), by_seq);
	for (i = 0; i < l.len && !ret; i++) {
		const struct allowedips_node *n = l.v[i];

		memset(&p, 0, sizeof(p));
		p.addr.family = n->len == 16 ? AF_INET6 : AF_INET;
		memcpy(p.addr.bytes, n->bits, n->len);
		p.cidr = n->cidr;
		ret = fn(&p, ctx);
	}
	free(l.v);
	return ret;
nomem:
	free(l.v);
	return -ENOMEM;
}
