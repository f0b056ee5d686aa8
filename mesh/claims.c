/* claims.c — judging the store's address claims (see claims.h). */
#include "mesh/claims.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/cidr.h"
#include "mesh/node.h"

int claims_order(uint64_t round_a, uint64_t created_a, uint64_t round_b, uint64_t created_b)
{
	if (round_a != round_b)
		return round_a < round_b ? -1 : 1;
	if (created_a && created_b && created_a != created_b)
		return created_a < created_b ? -1 : 1;
	return 0;
}

/* Family, then address, then length: a block's containing blocks come before it. */
static int cmp_block(const struct ip_prefix *a, const struct ip_prefix *b)
{
	int r;

	if (a->addr.family != b->addr.family)
		return a->addr.family < b->addr.family ? -1 : 1;
	r = memcmp(a->addr.bytes, b->addr.bytes, ip_addr_bits(&a->addr) / 8);
	if (r)
		return r;
	return a->cidr < b->cidr ? -1 : a->cidr > b->cidr;
}

/* By block, then owner: the Kubernetes store lists a block once for each Node claiming it. */
static int cmp_claim(const void *a, const void *b)
{
	const struct claim *ca = a, *cb = b;
	int r = cmp_block(&ca->block, &cb->block);

	return r ? r : strcmp(ca->owner, cb->owner);
}

static int cmp_claim_block(const void *a, const void *b)
{
	return cmp_block(&((const struct claim *)a)->block, &((const struct claim *)b)->block);
}

static void refuse(struct claim *c, claims_refuse_fn fn, void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void refuse(struct claim *c, claims_refuse_fn fn, void *ctx, const char *fmt, ...)
{
	char why[400];
	va_list ap;

	if (c->refused)
		return; /* one reason is enough */
	c->refused = true;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (fn)
		fn(ctx, c->key, why);
}

/* The block of a claim key, when the key is its canonical form. */
static const char *parse_key(const char *key, struct ip_prefix *out)
{
	char buf[STORE_KEY_MAX], canon[STORE_KEY_MAX], *us;

	snprintf(buf, sizeof(buf), "%s", key + strlen(STORE_ALLOC_PREFIX));
	us = strrchr(buf, '_');
	if (!us)
		return "it names no block (ADDRESS_LENGTH)";
	*us = '/';
	if (ip_prefix_parse(out, buf) || !strchr(buf, '/'))
		return "it names no block (ADDRESS_LENGTH)";
	ip_prefix_mask(out);
	if (cidr_block_key(out, canon, sizeof(canon)) || strcmp(canon, key))
		return "it is not the canonical key of its block";
	return NULL;
}

/* Overlapping claims of two owners, as index pairs into claims->v. */
struct pairs {
	size_t (*v)[2];
	size_t n, cap;
};

static int pairs_add(struct pairs *p, size_t a, size_t b)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		size_t (*grown)[2] = realloc(p->v, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		p->v = grown;
		p->cap = cap;
	}
	p->v[p->n][0] = a;
	p->v[p->n++][1] = b;
	return 0;
}

/* Blocks nest or are disjoint, so the blocks overlapping one are exactly its containing
 * blocks, which the sort by block puts before it: a stack of the current chain finds every
 * overlapping pair once. */
static int find_overlaps(const struct claims *c, const bool *invalid, struct pairs *out)
{
	size_t stack[130], depth = 0;

	for (size_t i = 0; i < c->n; i++) {
		if (invalid[i])
			continue;
		while (depth && !ip_prefix_covers(&c->v[stack[depth - 1]].block, &c->v[i].block))
			depth--;
		for (size_t d = 0; d < depth; d++)
			if (strcmp(c->v[stack[d]].owner, c->v[i].owner) && pairs_add(out, stack[d], i))
				return -ENOMEM;
		if (depth < sizeof(stack) / sizeof(stack[0]))
			stack[depth++] = i;
	}
	return 0;
}

static int cmp_time(const void *a, const void *b, void *arg)
{
	const struct claims *c = arg;
	const struct claim *ca = &c->v[*(const size_t *)a], *cb = &c->v[*(const size_t *)b];

	if (ca->round != cb->round)
		return ca->round < cb->round ? -1 : 1;
	return ca->created < cb->created ? -1 : ca->created > cb->created;
}

/* The earliest claim wins: in first-seen (then creation) order, a claim overlapping an
 * accepted earlier claim of another owner is refused; claims of the same moment that overlap
 * each other are all refused, as neither is known to be first. */
static int judge_overlaps(struct claims *c, const struct pairs *pr, claims_refuse_fn fn, void *ctx)
{
	size_t *order = calloc(c->n + 1, sizeof(*order)), *start = calloc(c->n + 2, sizeof(*start));
	size_t *adj = calloc(2 * pr->n + 1, sizeof(*adj)), *fill = calloc(c->n + 1, sizeof(*fill));
	int ret = -ENOMEM;

	if (!order || !start || !adj || !fill)
		goto out;
	/* Each claim's overlapping partners, in one array (CSR). */
	for (size_t i = 0; i < pr->n; i++) {
		start[pr->v[i][0] + 1]++;
		start[pr->v[i][1] + 1]++;
	}
	for (size_t i = 0; i < c->n; i++)
		start[i + 1] += start[i];
	for (size_t i = 0; i < pr->n; i++) {
		size_t a = pr->v[i][0], b = pr->v[i][1];

		adj[start[a] + fill[a]++] = b;
		adj[start[b] + fill[b]++] = a;
	}
	for (size_t i = 0; i < c->n; i++)
		order[i] = i;
	qsort_r(order, c->n, sizeof(*order), cmp_time, c);
	for (size_t g = 0, end; g < c->n; g = end) {
		const struct claim *first = &c->v[order[g]];

		for (end = g; end < c->n && !claims_order(first->round, first->created, c->v[order[end]].round,
							   c->v[order[end]].created); end++)
			;
		/* Against what was accepted before this moment. */
		for (size_t k = g; k < end; k++) {
			struct claim *x = &c->v[order[k]];

			for (size_t e = start[order[k]]; e < start[order[k] + 1] && !x->refused; e++) {
				const struct claim *p = &c->v[adj[e]];

				if (!p->refused && claims_order(p->round, p->created, x->round, x->created) < 0)
					refuse(x, fn, ctx, "it overlaps %.200s of node %.64s, claimed earlier", p->key,
					       p->owner);
			}
		}
		/* Within this moment: fill[] marks the ties found, refused after the scan. */
		for (size_t k = g; k < end; k++) {
			size_t i = order[k];

			fill[i] = SIZE_MAX;
			for (size_t e = start[i]; e < start[i + 1] && !c->v[i].refused; e++) {
				const struct claim *p = &c->v[adj[e]];

				if (!p->refused && !claims_order(p->round, p->created, c->v[i].round, c->v[i].created)) {
					fill[i] = adj[e];
					break;
				}
			}
		}
		for (size_t k = g; k < end; k++) {
			size_t i = order[k];

			if (fill[i] != SIZE_MAX)
				refuse(&c->v[i], fn, ctx, "it overlaps %.200s of node %.64s, and neither is known to be earlier",
				       c->v[fill[i]].key, c->v[fill[i]].owner);
		}
	}
	ret = 0;
out:
	free(order);
	free(start);
	free(adj);
	free(fill);
	return ret;
}

static int cmp_holder(const void *a, const void *b)
{
	return strcmp(((const struct claims_holder *)a)->key, ((const struct claims_holder *)b)->key);
}

const char *claims_holder(const struct claims_holders *h, const char *key)
{
	struct claims_holder k, *hit;

	if (!h || !h->n || snprintf(k.key, sizeof(k.key), "%s", key) >= (int)sizeof(k.key))
		return NULL;
	hit = bsearch(&k, h->v, h->n, sizeof(k), cmp_holder);
	return hit ? hit->owner : NULL;
}

int claims_holders_set(struct claims_holders *h, const struct node *nodes, size_t n)
{
	struct claims_holder *v = calloc(n * (NODE_MAX_TUNNEL_IPS + NODE_MAX_POD_CIDRS) + 1, sizeof(*v));
	size_t m = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct ip_prefix blocks[NODE_MAX_TUNNEL_IPS + NODE_MAX_POD_CIDRS];
		size_t nb = 0;

		for (size_t j = 0; j < nodes[i].n_tunnel_ips; j++) {
			blocks[nb].addr = nodes[i].tunnel_ips[j];
			blocks[nb++].cidr = (uint8_t)ip_addr_bits(&nodes[i].tunnel_ips[j]);
		}
		for (size_t j = 0; j < nodes[i].n_pod_cidrs; j++)
			blocks[nb++] = nodes[i].pod_cidrs[j];
		for (size_t j = 0; j < nb; j++) {
			if (cidr_block_key(&blocks[j], v[m].key, sizeof(v[m].key)))
				continue;
			snprintf(v[m].owner, sizeof(v[m].owner), "%s", nodes[i].name);
			m++;
		}
	}
	qsort(v, m, sizeof(*v), cmp_holder);
	free(h->v);
	h->v = v;
	h->n = m;
	return 0;
}

void claims_holders_free(struct claims_holders *h)
{
	free(h->v);
	h->v = NULL;
	h->n = 0;
}

int claims_build(struct claims *c, const struct store_kv *kvs, size_t n, const struct ip_prefix *allowed,
		 size_t n_allowed, struct firstseen *seen, const struct claims_holders *holders,
		 claims_refuse_fn fn, void *ctx)
{
	size_t plen = strlen(STORE_ALLOC_PREFIX);
	const char **ids = calloc(n + 1, sizeof(*ids));
	uint64_t *rounds = calloc(n + 1, sizeof(*rounds));
	bool *invalid = NULL;
	struct pairs pr = { 0 };
	int ret = -ENOMEM;

	c->n = 0;
	c->v = calloc(n + 1, sizeof(*c->v));
	if (!c->v || !ids || !rounds)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct claim *cl = &c->v[c->n];
		const char *why;
		char *id;

		if (strncmp(kvs[i].key, STORE_ALLOC_PREFIX, plen))
			continue;
		memset(cl, 0, sizeof(*cl));
		cl->key = kvs[i].key;
		cl->owner = kvs[i].value;
		/* Written once: a rewritten claim is a new one (etcd's mod_revision). */
		cl->created = kvs[i].revision ? kvs[i].revision : kvs[i].created;
		why = parse_key(kvs[i].key, &cl->block);
		if (why) {
			if (fn)
				fn(ctx, kvs[i].key, why);
			continue;
		}
		/* Its identity is the block and its owner: given back and taken by another is new. */
		if (asprintf(&id, "%s=%s", cl->key, cl->owner) < 0)
			goto out;
		ids[c->n++] = id;
	}
	ret = firstseen_update(seen, ids, c->n, rounds);
	if (ret)
		goto out;
	for (size_t i = 0; i < c->n; i++)
		c->v[i].round = rounds[i];
	qsort(c->v, c->n, sizeof(*c->v), cmp_claim);
	ret = -ENOMEM;
	invalid = calloc(c->n + 1, sizeof(*invalid));
	if (!invalid)
		goto out;
	for (size_t i = 0; i < c->n; i++) {
		struct claim *cl = &c->v[i];
		bool inside = false;

		for (size_t j = 0; j < n_allowed && !inside; j++)
			inside = ip_prefix_covers(&allowed[j], &cl->block);
		const char *holder = claims_holder(holders, cl->key);

		if (!node_name_valid(cl->owner))
			refuse(cl, fn, ctx, "its owner '%.64s' is not a node name", cl->owner);
		else if (!inside)
			refuse(cl, fn, ctx, "the block is outside the cluster and tunnel pools and the gateway ranges");
		else if (holder && strcmp(holder, cl->owner))
			refuse(cl, fn, ctx, "the block is node %.64s's, whose record lists it (a block changes hands only once "
			       "given back)", holder);
		invalid[i] = cl->refused;
	}
	ret = find_overlaps(c, invalid, &pr);
	if (ret)
		goto out;
	ret = judge_overlaps(c, &pr, fn, ctx);
out:
	if (ids)
		for (size_t i = 0; i < n && ids[i]; i++)
			free((char *)ids[i]);
	free(ids);
	free(rounds);
	free(invalid);
	free(pr.v);
	if (ret)
		claims_free(c);
	return ret;
}

const struct claim *claims_find(const struct claims *c, const struct ip_prefix *block, const char *owner)
{
	struct claim k = { .block = *block };
	const struct claim *hit, *first, *end = c->v + c->n;

	ip_prefix_mask(&k.block);
	hit = c->n ? bsearch(&k, c->v, c->n, sizeof(k), cmp_claim_block) : NULL;
	if (!hit || !owner)
		return hit;
	for (first = hit; first > c->v && !cmp_block(&first[-1].block, &k.block); first--)
		;
	for (const struct claim *p = first; p < end && !cmp_block(&p->block, &k.block); p++)
		if (!strcmp(p->owner, owner))
			return p;
	return first;
}

void claims_free(struct claims *c)
{
	free(c->v);
	c->v = NULL;
	c->n = 0;
}
