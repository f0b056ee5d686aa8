/* allowedips.h — cryptokey routing (WireGuard paper §2): a longest-prefix-match trie per
 * address family mapping inner addresses to the peer allowed to use them. Outgoing packets
 * pick their peer by destination; incoming packets are dropped unless their source maps
 * back to the peer that sent them. */
#ifndef PODWIRE_US_ALLOWEDIPS_H
#define PODWIRE_US_ALLOWEDIPS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/ipaddr.h"

struct allowedips_node;

struct allowedips {
	struct allowedips_node *root4, *root6;
	uint64_t seq; /* insertion counter: entries are listed in the order they were added */
	size_t count;
};

void allowedips_init(struct allowedips *t);
/* Free every node. */
void allowedips_free(struct allowedips *t);
/* Map prefix (host bits ignored) to @peer, replacing any previous owner of that exact
 * prefix. Returns 0 or -ENOMEM / -EINVAL. */
int allowedips_insert(struct allowedips *t, const struct ip_prefix *prefix, void *peer);
/* Remove every prefix owned by @peer. */
void allowedips_remove_by_peer(struct allowedips *t, void *peer);
/* The peer owning the longest prefix containing the address (family AF_INET: 4 bytes,
 * AF_INET6: 16 bytes), or NULL. */
void *allowedips_lookup(const struct allowedips *t, int family, const uint8_t *addr);
/* Call @fn for each prefix of @peer in insertion order; stops early when fn returns
 * non-zero and returns that value. Returns -ENOMEM if the listing cannot be built. */
int allowedips_walk_peer(const struct allowedips *t, void *peer,
			 int (*fn)(const struct ip_prefix *prefix, void *ctx), void *ctx);

#endif
