/* endpoint_cache.h — resolving the endpoints of store records without stalling podwired.
 *
 * A record's Endpoint may be a DNS name, as in a wg-quick config. Resolving it with a plain
 * getaddrinfo() on the daemon's only thread at every reconcile let any writer of the store
 * stall every node (a name whose DNS server never answers costs ~10 s a lookup, per record,
 * per pass). Here an IP literal is parsed at once, and a name is resolved in the
 * background (glibc's getaddrinfo_a), its answer kept for @ttl seconds (the resync
 * interval: what `--resync` promises for re-resolution, as wireguard-tools'
 * reresolve-dns.sh does for wg-quick). One reconcile waits for fresh answers at most
 * ENDPOINT_CACHE_BUDGET_MS in all; a name still unanswered keeps its last address (or none
 * yet) and is applied at a later pass. At most ENDPOINT_CACHE_MAX names are kept. */
#ifndef PODWIRE_DAEMON_ENDPOINT_CACHE_H
#define PODWIRE_DAEMON_ENDPOINT_CACHE_H

#include <stdint.h>

#include "datapath/wgdevice.h"

#define ENDPOINT_CACHE_BUDGET_MS 200
#define ENDPOINT_CACHE_MAX 4096
/* A failed lookup is not tried again sooner than this. */
#define ENDPOINT_CACHE_NEGATIVE_SECONDS 30

struct endpoint_cache;

int endpoint_cache_new(struct endpoint_cache **c, unsigned int ttl_seconds);
/* Cancel what is in flight and free everything. */
void endpoint_cache_free(struct endpoint_cache *c);
/* Before each reconcile: a new time budget. */
void endpoint_cache_begin_pass(struct endpoint_cache *c);
/* A reconcile_resolve_fn (reconcile.h) with @ctx the cache: 0 and *out, -EAGAIN while a
 * name has no answer yet, -EHOSTUNREACH when it has none, -EINVAL for a malformed one. */
int endpoint_cache_resolve(const char *endpoint, wg_endpoint *out, void *ctx);

#endif
