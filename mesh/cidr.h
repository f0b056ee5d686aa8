/* cidr.h — handing out blocks of a cluster CIDR through the store (dynamic addresses).
 *
 * A block is claimed by creating the key "alloc/ADDR_LEN" with compare-and-swap ("create
 * only if absent"), whose value is the owner's name. Two nodes racing for the same block:
 * exactly one create succeeds, the other moves on. The same mechanism gives pod CIDRs
 * (e.g. /24 blocks of 10.244.0.0/16) and single tunnel addresses (/32 blocks). */
#ifndef PODWIRE_MESH_CIDR_H
#define PODWIRE_MESH_CIDR_H

#include <stdint.h>

#include "mesh/store.h"
#include "lib/ipaddr.h"

/* The store key for @block: "alloc/10.244.3.0_24". */
int cidr_block_key(const struct ip_prefix *block, char *key, size_t len);
/* Block number @index of size @block_len inside @pool (index < 2^(block_len - pool.cidr)). */
int cidr_block_nth(const struct ip_prefix *pool, uint8_t block_len, uint64_t index, struct ip_prefix *out);
/* Give @owner a block of length @block_len from @pool: the one it already owns if any,
 * else the lowest free one (skipping @skip_first blocks, e.g. 1 to keep the network
 * address out of a /32 pool). -ENOSPC when the pool is full. */
int cidr_allocate(struct store *s, const struct ip_prefix *pool, uint8_t block_len, uint64_t skip_first,
		  const char *owner, struct ip_prefix *out);
/* Claim a block given by hand (--pod-cidr, --tunnel-ip) for @owner, so that allocations
 * skip it. 0 when it is @owner's already; -EADDRINUSE when any block overlapping it is
 * someone else's. */
int cidr_claim(struct store *s, const struct ip_prefix *block, const char *owner);
/* Give up @block if @owner holds it. */
int cidr_release(struct store *s, const struct ip_prefix *block, const char *owner);

#endif
