/* mesh.c — validating store records into the peer set (see mesh.h). */
#include "mesh/mesh.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mesh/cidr.h"
#include "mesh/claims.h"
#include "lib/log.h"

void mesh_free(struct node *nodes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		node_clear(&nodes[i]);
	free(nodes);
}

/* An empty list holds nothing: a reader that does not know the pools accepts no address. */
static bool inside_any(const struct ip_prefix *ranges, size_t n, const struct ip_prefix *p)
{
	for (size_t i = 0; i < n; i++)
		if (ip_prefix_covers(&ranges[i], p))
			return true;
	return false;
}

static void host_prefix(struct ip_prefix *p, const struct ip_addr *a)
{
	p->addr = *a;
	p->cidr = (uint8_t)ip_addr_bits(a);
}

/* Does any address range of @a overlap one of @b? Writes the clash into @what. */
static bool nodes_overlap(const struct node *a, const struct node *b, char *what, size_t len)
{
	struct ip_prefix pa[NODE_MAX_TUNNEL_IPS + NODE_MAX_POD_CIDRS], pb[NODE_MAX_TUNNEL_IPS + NODE_MAX_POD_CIDRS];
	size_t na = 0, nb = 0;

	for (size_t i = 0; i < a->n_tunnel_ips; i++)
		host_prefix(&pa[na++], &a->tunnel_ips[i]);
	for (size_t i = 0; i < a->n_pod_cidrs; i++)
		pa[na++] = a->pod_cidrs[i];
	for (size_t i = 0; i < b->n_tunnel_ips; i++)
		host_prefix(&pb[nb++], &b->tunnel_ips[i]);
	for (size_t i = 0; i < b->n_pod_cidrs; i++)
		pb[nb++] = b->pod_cidrs[i];
	for (size_t i = 0; i < na; i++)
		for (size_t j = 0; j < nb; j++)
			if (ip_prefix_overlaps(&pa[i], &pb[j])) {
				ip_prefix_format(&pa[i], what, len);
				return true;
			}
	return false;
}

static void skipped(const struct mesh_policy *pol, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void skipped(const struct mesh_policy *pol, const char *key, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (pol->skip)
		pol->skip(pol->skip_ctx, key, why);
	else
		log_warn("store record %s skipped: %s", key, why);
}

/* Does the registry give @block (a pod CIDR or a tunnel address of @n) to @n? */
static bool claimed_by_node(const struct node *n, const struct ip_prefix *block, const char *what,
			    const struct claims *reg, const struct claims_holders *holders, char *why, size_t len)
{
	const struct claim *c = claims_find(reg, block, n->name);
	struct ip_prefix masked = *block;
	char buf[IP_PREFIX_STRLEN], key[STORE_KEY_MAX];
	const char *holder;

	ip_prefix_format(block, buf, sizeof(buf));
	ip_prefix_mask(&masked);
	cidr_block_key(&masked, key, sizeof(key));
	holder = claims_holder(holders, key);
	if (ip_addr_equal(&masked.addr, &block->addr) && holder && !strcmp(holder, n->name))
		return true; /* its own since the last pass, whatever was done to the claim meanwhile */
	if (!ip_addr_equal(&masked.addr, &block->addr))
		snprintf(why, len, "%s %s is not a network address", what, buf);
	else if (!c)
		snprintf(why, len, "%s %s is not given to it by the allocation registry (no %.80s)", what, buf, key);
	else if (strcmp(c->owner, n->name))
		snprintf(why, len, "%s %s is claimed by node %.64s", what, buf, c->owner);
	else if (c->refused)
		snprintf(why, len, "%s %s: its claim %.80s is refused", what, buf, key);
	else
		return true;
	return false;
}

/* Every address range of @n must lie inside the pools (or, for pod CIDRs, a gateway range)
 * and be given to @n by the registry. */
static bool node_allowed(const struct node *n, const struct mesh_policy *pol, const struct claims *reg, char *why,
			 size_t len)
{
	char buf[IP_PREFIX_STRLEN];

	for (size_t i = 0; i < n->n_pod_cidrs; i++) {
		const struct ip_prefix *p = &n->pod_cidrs[i];

		if (!inside_any(pol->cluster_cidrs, pol->n_cluster_cidrs, p) &&
		    !inside_any(pol->gateway_ranges, pol->n_gateway_ranges, p)) {
			ip_prefix_format(p, buf, sizeof(buf));
			snprintf(why, len, "pod CIDR %s is outside the cluster CIDR and the gateway ranges", buf);
			return false;
		}
		if (!claimed_by_node(n, p, "pod CIDR", reg, pol->holders, why, len))
			return false;
	}
	for (size_t i = 0; i < n->n_tunnel_ips; i++) {
		struct ip_prefix p;

		host_prefix(&p, &n->tunnel_ips[i]);
		if (!inside_any(pol->tunnel_cidrs, pol->n_tunnel_cidrs, &p)) {
			ip_addr_format(&n->tunnel_ips[i], buf, sizeof(buf));
			snprintf(why, len, "tunnel IP %s is outside the tunnel CIDR", buf);
			return false;
		}
		if (!claimed_by_node(n, &p, "tunnel IP", reg, pol->holders, why, len))
			return false;
	}
	return true;
}

struct candidate {
	struct node node;
	const char *key;
	uint64_t round, created;	/* first seen (this name with this key), store's creation */
	bool accepted;
	struct ip_prefix ranges[NODE_MAX_TUNNEL_IPS + NODE_MAX_POD_CIDRS];
	size_t n_ranges;
};

static void candidate_ranges(struct candidate *c)
{
	c->n_ranges = 0;
	for (size_t i = 0; i < c->node.n_tunnel_ips; i++)
		host_prefix(&c->ranges[c->n_ranges++], &c->node.tunnel_ips[i]);
	for (size_t i = 0; i < c->node.n_pod_cidrs; i++)
		c->ranges[c->n_ranges++] = c->node.pod_cidrs[i];
}


/* Earliest first; the key only makes the order of candidates of one moment stable (they
 * never win over each other by it: see resolve_conflicts). */
static int cmp_candidate(const void *a, const void *b)
{
	const struct candidate *ca = a, *cb = b;
	int ord = claims_order(ca->round, ca->created, cb->round, cb->created);

	if (ord)
		return ord;
	if (ca->created != cb->created)
		return ca->created < cb->created ? -1 : 1;
	return strcmp(ca->key, cb->key);
}

static int cmp_node_name(const void *a, const void *b)
{
	return strcmp(((const struct node *)a)->name, ((const struct node *)b)->name);
}

/* Pass 1: each record on its own. Returns true if @c may join the mesh. */
static bool candidate_valid(struct candidate *c, const struct store_kv *kv, const struct mesh_policy *pol,
			    const struct claims *reg, struct node *stored_self)
{
	const char *name = kv->key + strlen(STORE_NODES_PREFIX);
	char err[256], what[IP_PREFIX_STRLEN];

	if (node_decode(&c->node, kv->value, kv->value_len, err, sizeof(err))) {
		skipped(pol, kv->key, "%s", err);
		return false;
	}
	if (strcmp(c->node.name, name)) {
		skipped(pol, kv->key, "its Name is '%s', not '%s'", c->node.name, name);
		return false;
	}
	if (!strcmp(name, pol->self->name)) {
		if (stored_self) {
			*stored_self = c->node; /* moves ownership of observed[] */
			memset(&c->node, 0, sizeof(c->node));
		}
		return false;
	}
	if (!sodium_memcmp(c->node.public_key, pol->self->public_key, WG_KEY_LEN)) {
		skipped(pol, kv->key, "it claims this node's public key");
		return false;
	}
	if (nodes_overlap(&c->node, pol->self, what, sizeof(what))) {
		skipped(pol, kv->key, "%s overlaps this node's addresses", what);
		return false;
	}
	if (!node_allowed(&c->node, pol, reg, err, sizeof(err))) {
		skipped(pol, kv->key, "%s", err);
		return false;
	}
	c->key = kv->key;
	c->created = kv->created;
	candidate_ranges(c);
	/* Pass 2 relies on accepted ranges never overlapping, a record's own among them. */
	for (size_t i = 0; i < c->n_ranges; i++) {
		for (size_t j = i + 1; j < c->n_ranges; j++) {
			if (ip_prefix_overlaps(&c->ranges[i], &c->ranges[j])) {
				ip_prefix_format(&c->ranges[j], what, sizeof(what));
				skipped(pol, kv->key, "its own ranges overlap at %s", what);
				return false;
			}
		}
	}
	return true;
}

/* An address range as [lo, hi] in one ordering for both families: byte 0 is the family,
 * then the address, v4 padded with zeros. Accepted ranges never overlap, so sorted by lo
 * their hi grow too, and the only accepted range that can overlap [lo, hi] is the last
 * one starting at or before hi. */
struct range {
	uint8_t lo[17], hi[17];
	size_t owner;
};

static void range_of(const struct ip_prefix *p, struct range *r)
{
	unsigned int bits = ip_addr_bits(&p->addr);

	memset(r, 0, sizeof(*r));
	r->lo[0] = r->hi[0] = p->addr.family == AF_INET6 ? 6 : 4;
	memcpy(r->lo + 1, p->addr.bytes, bits / 8);
	memcpy(r->hi + 1, p->addr.bytes, bits / 8);
	for (unsigned int i = p->cidr; i < bits; i++) {
		r->lo[1 + i / 8] &= (uint8_t)~(0x80 >> (i % 8));
		r->hi[1 + i / 8] |= (uint8_t)(0x80 >> (i % 8));
	}
}

struct accepted_set {
	struct range *ranges;
	size_t n_ranges, cap_ranges;
	const uint8_t **keys; /* sorted public keys */
	size_t *key_owner;
	size_t n_keys;
};

/* Index of the last range with lo <= @hi, or -1. */
static long range_floor(const struct accepted_set *set, const uint8_t hi[17])
{
	long lo = 0, up = (long)set->n_ranges - 1, found = -1;

	while (lo <= up) {
		long mid = (lo + up) / 2;

		if (memcmp(set->ranges[mid].lo, hi, 17) <= 0) {
			found = mid;
			lo = mid + 1;
		} else {
			up = mid - 1;
		}
	}
	return found;
}

static long key_search(const struct accepted_set *set, const uint8_t *key, bool *found)
{
	long lo = 0, up = (long)set->n_keys - 1;

	*found = false;
	while (lo <= up) {
		long mid = (lo + up) / 2;
		int cmp = memcmp(set->keys[mid], key, WG_KEY_LEN);

		if (!cmp) {
			*found = true;
			return mid;
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			up = mid - 1;
	}
	return lo; /* insertion point */
}

static int accept_candidate(struct accepted_set *set, const struct candidate *c, size_t idx, long key_at)
{
	const uint8_t **keys = realloc(set->keys, (set->n_keys + 1) * sizeof(*keys));
	size_t *owners = keys ? realloc(set->key_owner, (set->n_keys + 1) * sizeof(*owners)) : NULL;

	if (keys)
		set->keys = keys;
	if (!owners)
		return -ENOMEM;
	set->key_owner = owners;
	memmove(&keys[key_at + 1], &keys[key_at], (set->n_keys - (size_t)key_at) * sizeof(*keys));
	memmove(&owners[key_at + 1], &owners[key_at], (set->n_keys - (size_t)key_at) * sizeof(*owners));
	keys[key_at] = c->node.public_key;
	owners[key_at] = idx;
	set->n_keys++;
	for (size_t i = 0; i < c->n_ranges; i++) {
		struct range r;
		long at;

		range_of(&c->ranges[i], &r);
		r.owner = idx;
		if (set->n_ranges == set->cap_ranges) {
			size_t cap = set->cap_ranges ? set->cap_ranges * 2 : 64;
			struct range *grown = realloc(set->ranges, cap * sizeof(*grown));

			if (!grown)
				return -ENOMEM;
			set->ranges = grown;
			set->cap_ranges = cap;
		}
		at = range_floor(set, r.lo) + 1;
		memmove(&set->ranges[at + 1], &set->ranges[at], (set->n_ranges - (size_t)at) * sizeof(r));
		set->ranges[at] = r;
		set->n_ranges++;
	}
	return 0;
}

/* @c[i] clashes with the accepted @c[j] (same key, overlapping range): the earlier one keeps
 * it; of one moment neither does. */
static void clash(struct candidate *c, size_t i, size_t j, const struct mesh_policy *pol, const char *what)
{
	if (claims_order(c[j].round, c[j].created, c[i].round, c[i].created) < 0) {
		skipped(pol, c[i].key, "%s node %s, which was there first", what, c[j].node.name);
		return;
	}
	skipped(pol, c[i].key, "%s node %s, and neither is known to be first", what, c[j].node.name);
	if (c[j].accepted)
		skipped(pol, c[j].key, "%s node %s, and neither is known to be first", what, c[i].node.name);
	c[j].accepted = false;
}

static int resolve_conflicts(struct candidate *c, size_t count, const struct mesh_policy *pol)
{
	struct accepted_set set = { 0 };
	int ret = 0;

	for (size_t i = 0; i < count && !ret; i++) {
		char what[IP_PREFIX_STRLEN + 32];
		bool dup, clashed = false;
		long key_at = key_search(&set, c[i].node.public_key, &dup);

		/* A refused twin stays in the set: it keeps blocking what it blocked. */
		if (dup) {
			clash(c, i, set.key_owner[key_at], pol, "same public key as");
			clashed = true;
		}
		for (size_t j = 0; j < c[i].n_ranges && !clashed; j++) {
			struct range r;
			long at;

			range_of(&c[i].ranges[j], &r);
			at = range_floor(&set, r.hi);
			if (at >= 0 && memcmp(set.ranges[at].hi, r.lo, 17) >= 0) {
				char buf[IP_PREFIX_STRLEN];

				ip_prefix_format(&c[i].ranges[j], buf, sizeof(buf));
				snprintf(what, sizeof(what), "%s overlaps", buf);
				clash(c, i, set.ranges[at].owner, pol, what);
				clashed = true;
			}
		}
		if (clashed)
			continue;
		c[i].accepted = true;
		ret = accept_candidate(&set, &c[i], i, key_at);
	}
	free(set.ranges);
	free(set.keys);
	free(set.key_owner);
	return ret;
}

/* When each record was first seen with its public key: a record that takes over a known
 * node's key is new, and so later than that node. */
static int candidates_seen(struct candidate *c, size_t count, struct firstseen *seen)
{
	char **ids = calloc(count + 1, sizeof(*ids));
	uint64_t *rounds = calloc(count + 1, sizeof(*rounds));
	int ret = -ENOMEM;

	if (!ids || !rounds)
		goto out;
	for (size_t i = 0; i < count; i++) {
		char b64[WG_KEY_LEN_BASE64];

		key_to_base64(b64, c[i].node.public_key);
		if (asprintf(&ids[i], "%s=%s", c[i].key, b64) < 0) {
			ids[i] = NULL;
			goto out;
		}
	}
	ret = firstseen_update(seen, (const char *const *)ids, count, rounds);
	for (size_t i = 0; i < count && !ret; i++)
		c[i].round = rounds[i];
out:
	if (ids)
		for (size_t i = 0; i < count; i++)
			free(ids[i]);
	free(ids);
	free(rounds);
	return ret;
}

static void refuse_claim(void *ctx, const char *key, const char *why)
{
	skipped(ctx, key, "%s", why);
}

int mesh_build(const struct store_kv *kvs, size_t n, const struct mesh_policy *pol, struct node **nodes,
	       size_t *n_nodes, size_t *n_skipped, struct node *stored_self)
{
	size_t plen = strlen(STORE_NODES_PREFIX), count = 0, accepted = 0, n_allowed = 0;
	struct ip_prefix *allowed = calloc(pol->n_cluster_cidrs + pol->n_tunnel_cidrs + pol->n_gateway_ranges + 1,
					   sizeof(*allowed));
	struct candidate *c = calloc(n + 1, sizeof(*c));
	struct claims reg = { 0 };
	struct node *out = NULL;
	int ret = -ENOMEM;

	*nodes = NULL;
	*n_nodes = 0;
	*n_skipped = 0;
	if (stored_self)
		memset(stored_self, 0, sizeof(*stored_self));
	if (!c || !allowed)
		goto fail;
	for (size_t i = 0; i < pol->n_cluster_cidrs; i++)
		allowed[n_allowed++] = pol->cluster_cidrs[i];
	for (size_t i = 0; i < pol->n_tunnel_cidrs; i++)
		allowed[n_allowed++] = pol->tunnel_cidrs[i];
	for (size_t i = 0; i < pol->n_gateway_ranges; i++)
		allowed[n_allowed++] = pol->gateway_ranges[i];
	ret = claims_build(&reg, pol->claims, pol->n_claims, allowed, n_allowed, pol->claims_seen, pol->holders,
			   refuse_claim, (void *)pol);
	if (ret)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		if (strncmp(kvs[i].key, STORE_NODES_PREFIX, plen))
			continue;
		if (candidate_valid(&c[count], &kvs[i], pol, &reg, stored_self)) {
			count++;
			continue;
		}
		if (strcmp(kvs[i].key + plen, pol->self->name))
			(*n_skipped)++;
		node_clear(&c[count].node);
	}
	ret = candidates_seen(c, count, pol->records_seen);
	if (ret)
		goto fail;
	/* Pass 2: conflicts, earliest first. The accepted keys and address ranges are kept
	 * sorted, so each check is a binary search (5000 nodes). */
	qsort(c, count, sizeof(*c), cmp_candidate);
	ret = resolve_conflicts(c, count, pol);
	if (ret)
		goto fail;
	for (size_t i = 0; i < count; i++)
		accepted += c[i].accepted;
	*n_skipped += count - accepted;
	out = calloc(accepted + 1, sizeof(*out));
	if (!out) {
		ret = -ENOMEM;
		goto fail;
	}
	accepted = 0;
	for (size_t i = 0; i < count; i++) {
		if (c[i].accepted)
			out[accepted++] = c[i].node; /* moves observed[] */
		else
			node_clear(&c[i].node);
	}
	free(c);
	free(allowed);
	claims_free(&reg);
	qsort(out, accepted, sizeof(*out), cmp_node_name);
	if (pol->holders && claims_holders_set(pol->holders, out, accepted)) {
		mesh_free(out, accepted);
		return -ENOMEM;
	}
	*nodes = out;
	*n_nodes = accepted;
	return 0;
fail:
	for (size_t i = 0; c && i < count; i++)
		node_clear(&c[i].node);
	free(c);
	free(allowed);
	claims_free(&reg);
	return ret;
}

const char *mesh_observed_endpoint(const struct node *peer, const struct node *nodes, size_t n,
				   const uint8_t self_key[WG_KEY_LEN])
{
	for (size_t i = 0; i < n; i++) {
		/* Public keys are not secret: plain memcmp, and most nodes observe nothing. */
		if (!nodes[i].n_observed || &nodes[i] == peer || !memcmp(nodes[i].public_key, self_key, WG_KEY_LEN))
			continue;
		for (size_t j = 0; j < nodes[i].n_observed; j++)
			if (!memcmp(nodes[i].observed[j].public_key, peer->public_key, WG_KEY_LEN) &&
			    strcmp(nodes[i].observed[j].endpoint, peer->endpoint))
				return nodes[i].observed[j].endpoint;
	}
	return NULL;
}

static int cmp_node_ptr_key(const void *a, const void *b)
{
	return memcmp((*(const struct node *const *)a)->public_key, (*(const struct node *const *)b)->public_key,
		      WG_KEY_LEN);
}

int mesh_index_build(struct mesh_index *idx, const struct node *nodes, size_t n)
{
	idx->n = 0;
	idx->v = calloc(n + 1, sizeof(*idx->v));
	if (!idx->v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		idx->v[i] = &nodes[i];
	qsort(idx->v, n, sizeof(*idx->v), cmp_node_ptr_key);
	idx->n = n;
	return 0;
}

const struct node *mesh_index_find(const struct mesh_index *idx, const uint8_t key[WG_KEY_LEN])
{
	struct node k;
	const struct node *kp = &k, **hit;

	if (!idx->n)
		return NULL;
	memcpy(k.public_key, key, WG_KEY_LEN);
	hit = bsearch(&kp, idx->v, idx->n, sizeof(*idx->v), cmp_node_ptr_key);
	return hit ? *hit : NULL;
}

void mesh_index_free(struct mesh_index *idx)
{
	free(idx->v);
	idx->v = NULL;
	idx->n = 0;
}
