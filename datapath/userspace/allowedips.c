/* allowedips.c — a path-compressed binary trie (like the kernel's allowedips.c): every
 * node holds a prefix; a node without an owner only joins two diverging subtrees. Each
 * owner keeps its nodes on a list, and each node knows its parent, so an owner's prefixes
 * are listed and removed without walking the trie. */
#include "datapath/userspace/allowedips.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct allowedips_node {
	struct allowedips_node *child[2], *parent;
	struct allowedips_owner *owner;
	struct allowedips_node *owner_prev, *owner_next; /* the owner's list */
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
	if (n->owner)
		n->owner->first = n->owner->last = NULL;
	free(n);
}

void allowedips_free(struct allowedips *t)
{
	free_tree(t->root4);
	free_tree(t->root6);
	t->root4 = t->root6 = NULL;
	t->count = 0;
}

static void owner_append(struct allowedips_owner *o, struct allowedips_node *n)
{
	n->owner = o;
	n->owner_prev = o->last;
	n->owner_next = NULL;
	if (o->last)
		o->last->owner_next = n;
	else
		o->first = n;
	o->last = n;
}

static void owner_unlink(struct allowedips_node *n)
{
	struct allowedips_owner *o = n->owner;

	if (n->owner_prev)
		n->owner_prev->owner_next = n->owner_next;
	else
		o->first = n->owner_next;
	if (n->owner_next)
		n->owner_next->owner_prev = n->owner_prev;
	else
		o->last = n->owner_prev;
	n->owner = NULL;
	n->owner_prev = n->owner_next = NULL;
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

static struct allowedips_node *node_new(const uint8_t *bits, unsigned int len, uint8_t cidr)
{
	struct allowedips_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	memcpy(n->bits, bits, len);
	mask_bits(n->bits, cidr, len);
	n->cidr = cidr;
	n->len = (uint8_t)len;
	return n;
}

/* Hang @n where @link points, below @parent (NULL: a root). */
static void attach(struct allowedips_node **link, struct allowedips_node *parent, struct allowedips_node *n)
{
	*link = n;
	n->parent = parent;
}

int allowedips_insert(struct allowedips *t, const struct ip_prefix *prefix, struct allowedips_owner *owner)
{
	unsigned int len, maxbits, c;
	struct allowedips_node **link, *parent = NULL, *n, *fresh, *mid;
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
	if (cidr > maxbits || !owner)
		return -EINVAL;

	for (;;) {
		n = *link;
		if (!n) {
			fresh = node_new(key, len, cidr);
			if (!fresh)
				return -ENOMEM;
			attach(link, parent, fresh);
			break;
		}
		c = common_bits(key, n->bits, cidr < n->cidr ? cidr : n->cidr);
		if (c == n->cidr && c == cidr) {
			if (n->owner == owner)
				return 0;
			if (n->owner)
				owner_unlink(n);
			else
				t->count++;
			owner_append(owner, n);
			return 0;
		}
		if (c == n->cidr) {
			/* n is a strict prefix of the new one: descend. */
			parent = n;
			link = &n->child[bit_at(key, n->cidr)];
			continue;
		}
		fresh = node_new(key, len, cidr);
		if (!fresh)
			return -ENOMEM;
		if (c == cidr) {
			/* The new prefix contains n: it becomes n's parent. */
			attach(&fresh->child[bit_at(n->bits, cidr)], fresh, n);
			attach(link, parent, fresh);
			break;
		}
		/* They diverge at bit c: join them under an ownerless node of length c. */
		mid = node_new(key, len, (uint8_t)c);
		if (!mid) {
			free(fresh);
			return -ENOMEM;
		}
		attach(&mid->child[bit_at(key, c)], mid, fresh);
		attach(&mid->child[bit_at(n->bits, c)], mid, n);
		attach(link, parent, mid);
		break;
	}
	owner_append(owner, fresh);
	t->count++;
	return 0;
}

static struct allowedips_node **link_to(struct allowedips *t, const struct allowedips_node *n)
{
	if (n->parent)
		return &n->parent->child[n->parent->child[1] == n];
	return n->len == 4 ? &t->root4 : &t->root6;
}

/* @n has just lost its owner: free it unless it still joins two subtrees, and so on upwards
 * for ownerless parents left with a single child (an ownerless node always has two). */
static void prune(struct allowedips *t, struct allowedips_node *n)
{
	while (n && !n->owner && !(n->child[0] && n->child[1])) {
		struct allowedips_node *parent = n->parent, *only = n->child[0] ? n->child[0] : n->child[1];

		*link_to(t, n) = only;
		if (only)
			only->parent = parent;
		free(n);
		if (only)
			return; /* the parent keeps as many children as it had */
		n = parent;
	}
}

void allowedips_remove_by_owner(struct allowedips *t, struct allowedips_owner *owner)
{
	while (owner->first) {
		struct allowedips_node *n = owner->first;

		owner_unlink(n);
		t->count--;
		prune(t, n);
	}
}

struct allowedips_owner *allowedips_lookup(const struct allowedips *t, int family, const uint8_t *addr)
{
	const struct allowedips_node *n = family == AF_INET ? t->root4 : family == AF_INET6 ? t->root6 : NULL;
	unsigned int maxbits = family == AF_INET ? 32 : 128;
	struct allowedips_owner *best = NULL;

	while (n) {
		if (common_bits(addr, n->bits, n->cidr) != n->cidr)
			break;
		if (n->owner)
			best = n->owner;
		if (n->cidr == maxbits)
			break;
		n = n->child[bit_at(addr, n->cidr)];
	}
	return best;
}

int allowedips_walk_owner(const struct allowedips_owner *owner,
			  int (*fn)(const struct ip_prefix *prefix, void *ctx), void *ctx)
{
	struct ip_prefix p;
	int ret = 0;

	for (const struct allowedips_node *n = owner->first; n && !ret; n = n->owner_next) {
		memset(&p, 0, sizeof(p));
		p.addr.family = n->len == 16 ? AF_INET6 : AF_INET;
		memcpy(p.addr.bytes, n->bits, n->len);
		p.cidr = n->cidr;
		ret = fn(&p, ctx);
	}
	return ret;
}
