/* claims.h — the allocation registry: which node each address block belongs to.
 *
 * The store's "alloc/BLOCK" keys (cidr.h) are created by compare-and-swap, but any writer of
 * the store can create one, so they are judged before a record may use them:
 *   - the key must be the canonical key of its block, its value a valid node name, and the
 *     block must lie inside one of the allowed ranges (the cluster and tunnel pools and the
 *     configured gateway ranges);
 *   - the earliest claim wins. Earliest is the round in which this process first saw the
 *     claim (firstseen.h), then the store's order of its last write (store_kv.revision,
 *     etcd's mod_revision: a claim is written once, so a rewritten one is new). A claim
 *     that overlaps a claim of another owner that is no later is refused; when neither is
 *     known to be earlier, both are. Neither name nor number of claims ever decides;
 *   - a block that an accepted record held in the last pass stays its holder's while the
 *     record lists it (claims_holders): a claim rewritten or deleted and made again for
 *     another node does not move it.
 * A node's record then counts only with the blocks the registry gives it (mesh.h). */
#ifndef PODWIRE_MESH_CLAIMS_H
#define PODWIRE_MESH_CLAIMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh/firstseen.h"
#include "mesh/node.h"
#include "mesh/store.h"
#include "lib/ipaddr.h"

struct claim {
	struct ip_prefix block;		/* masked */
	const char *key;		/* "alloc/..." (the caller's store_kv) */
	const char *owner;		/* its value */
	uint64_t round, created;
	bool refused;
};

struct claims {
	struct claim *v;		/* valid and refused, sorted by block */
	size_t n;
};

/* Called with the key and the reason of each refused claim. */
typedef void (*claims_refuse_fn)(void *ctx, const char *key, const char *why);

/* Who holds each block, as far as this process knows: the blocks of the records it accepted
 * in its last pass, sorted by key. Kept across passes by podwired. */
struct claims_holder {
	char key[64];			/* "alloc/BLOCK" */
	char owner[64];
};
struct claims_holders {
	struct claims_holder *v;
	size_t n;
};
/* The holder of @key, or NULL. @h may be NULL (a one-shot reader: none). */
const char *claims_holder(const struct claims_holders *h, const char *key);
/* Replace the holders by the blocks of @nodes. 0 or -ENOMEM (then @h is unchanged). */
int claims_holders_set(struct claims_holders *h, const struct node *nodes, size_t n);
void claims_holders_free(struct claims_holders *h);

/* Judge the claims among @kvs (keys under STORE_ALLOC_PREFIX; others are ignored). @seen
 * keeps the first-seen rounds across calls, @holders the holders of the last pass (both
 * NULL: a one-shot reader). The claims point into @kvs, which must outlive them. 0 or
 * -ENOMEM. */
int claims_build(struct claims *c, const struct store_kv *kvs, size_t n, const struct ip_prefix *allowed,
		 size_t n_allowed, struct firstseen *seen, const struct claims_holders *holders,
		 claims_refuse_fn refuse, void *ctx);
/* The claim of exactly @block (masked or not), refused or not: @owner's when @owner is not
 * NULL and has one (a block may be claimed by several owners), else any; NULL if there is
 * none. */
const struct claim *claims_find(const struct claims *c, const struct ip_prefix *block, const char *owner);
void claims_free(struct claims *c);

/* Which of two entries came first: <0 @a, >0 @b, 0 when that cannot be told. */
int claims_order(uint64_t round_a, uint64_t created_a, uint64_t round_b, uint64_t created_b);

#endif
