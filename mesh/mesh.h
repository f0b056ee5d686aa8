/* mesh.h — from the store's raw records to the set of peers this node should have.
 *
 * Every record is untrusted input: anyone who can write the store can write anything (the
 * trust model in README.md). A record is skipped (and named in a log line) when it does not
 * decode, when its name is not its key, when it claims this node's public key, when its
 * addresses fall outside the pools (and gateway ranges), when any of its pod CIDRs or tunnel
 * IPs is not a block the allocation registry gives to it (claims.h), or when it overlaps this
 * node's addresses. Between records, the one first seen (then created first in the store)
 * keeps a public key or an address range; of two that cannot be told apart neither does.
 * Names never decide. One bad record never stops the others. */
#ifndef PODWIRE_MESH_MESH_H
#define PODWIRE_MESH_MESH_H

#include <stddef.h>

#include "mesh/claims.h"
#include "mesh/firstseen.h"
#include "mesh/node.h"
#include "mesh/store.h"

struct mesh_policy {
	const struct node *self;		/* this node as it publishes itself */
	const struct ip_prefix *cluster_cidrs;	/* pod CIDRs must lie inside one; none: nowhere */
	size_t n_cluster_cidrs;
	const struct ip_prefix *tunnel_cidrs;	/* tunnel IPs must lie inside one; none: nowhere */
	size_t n_tunnel_cidrs;
	/* Ranges outside the pools that pod CIDRs may hold (a gateway's LAN), given by hand. */
	const struct ip_prefix *gateway_ranges;
	size_t n_gateway_ranges;
	/* The allocation registry (alloc/..., claims.h): a record's pod CIDRs and tunnel IPs
	 * count only where a valid claim gives exactly that block to the record's node. */
	const struct store_kv *claims;
	size_t n_claims;
	/* First-seen rounds of claims and records, kept across calls (podwired); NULL: a
	 * one-shot reader, for which everything in the store arrived at the same moment. */
	struct firstseen *claims_seen, *records_seen;
	/* The blocks of the records accepted in the last pass (claims.h), updated by each pass;
	 * NULL: a one-shot reader. */
	struct claims_holders *holders;
	/* Called for each skipped record; NULL: log_warn(). */
	void (*skip)(void *ctx, const char *key, const char *reason);
	void *skip_ctx;
};

/* Decode and validate @kvs (from store_list(STORE_NODES_PREFIX)). *nodes gets the valid
 * other nodes, sorted by name; *stored_self (if not NULL) this node's own record as stored,
 * when there is one (node_clear it). Skipped records are logged and counted in *skipped. */
int mesh_build(const struct store_kv *kvs, size_t n, const struct mesh_policy *pol, struct node **nodes,
	       size_t *n_nodes, size_t *skipped, struct node *stored_self);
void mesh_free(struct node *nodes, size_t n);

/* The nodes sorted by public key, to find the node behind a device peer in O(log n). The
 * index points into the node array it was built from and lives no longer than it. */
struct mesh_index {
	const struct node **v;
	size_t n;
};
/* 0, or -ENOMEM. */
int mesh_index_build(struct mesh_index *idx, const struct node *nodes, size_t n);
/* The node with public key @key, or NULL. */
const struct node *mesh_index_find(const struct mesh_index *idx, const uint8_t key[WG_KEY_LEN]);
void mesh_index_free(struct mesh_index *idx);

/* What another node observes as @peer's endpoint when it differs from what @peer advertises
 * (it sits behind NAT), or NULL. Any node can publish an observation, so it is only a hint
 * (reconcile.h): tried for a peer without a working session, in turn with the advertised
 * endpoint, and never in place of an endpoint a handshake came from. Observations by
 * @self_key are ignored (the device already knows what it sees). */
const char *mesh_observed_endpoint(const struct node *peer, const struct node *nodes, size_t n,
				   const uint8_t self_key[WG_KEY_LEN]);

#endif
