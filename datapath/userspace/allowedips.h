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

/* Embedded in whatever owns prefixes (a peer): the list of its nodes in the trie, in the
 * order they were added, so that listing or removing one owner's prefixes costs what it owns,
 * not the size of the trie (the kernel's peer->allowedips_list). */
struct allowedips_owner {
	struct allowedips_node *first, *last;
};

struct allowedips {
	struct allowedips_node *root4, *root6;
	size_t count; /* prefixes with an owner */
};

void allowedips_init(struct allowedips *t);
/* Free every node; every owner's list is emptied. */
void allowedips_free(struct allowedips *t);
/* Map prefix (host bits ignored) to @owner, replacing any previous owner of that exact
 * prefix (it then moves to the end of @owner's list). Returns 0 or -ENOMEM / -EINVAL. */
int allowedips_insert(struct allowedips *t, const struct ip_prefix *prefix, struct allowedips_owner *owner);
/* Remove every prefix of @owner. */
void allowedips_remove_by_owner(struct allowedips *t, struct allowedips_owner *owner);
/* The owner of the longest prefix containing the address (family AF_INET: 4 bytes,
 * AF_INET6: 16 bytes), or NULL. */
struct allowedips_owner *allowedips_lookup(const struct allowedips *t, int family, const uint8_t *addr);
/* Call @fn for each prefix of @owner in insertion order; stops early when fn returns
 * non-zero and returns that value. */
int allowedips_walk_owner(const struct allowedips_owner *owner,
			  int (*fn)(const struct ip_prefix *prefix, void *ctx), void *ctx);

#endif
