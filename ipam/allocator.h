/* allocator.h — which address to hand out next (host-local's allocator): walk the ranges of
 * a set round-robin starting just after the last reserved address, skip gateways and
 * addresses already taken, wrap around once. How reservations are stored is disk.h's job. */
#ifndef PODWIRE_IPAM_ALLOCATOR_H
#define PODWIRE_IPAM_ALLOCATOR_H

#include <stdbool.h>

#include "ipam/range.h"

/* Is @a already reserved? */
typedef bool (*ipam_reserved_fn)(const struct ip_addr *a, void *ctx);

/* Pick a free address of @set after @last (NULL: from the first range's start).
 * Returns 0 with *out and *range_idx, or -ENOSPC when every address is taken. */
int ipam_allocate(const struct ipam_range_set *set, const struct ip_addr *last, ipam_reserved_fn reserved,
		  void *ctx, struct ip_addr *out, unsigned int *range_idx);

#endif
