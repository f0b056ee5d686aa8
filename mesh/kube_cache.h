/* kube_cache.h — the Nodes of a cluster as the API server last told them: filled by one
 * paginated list, then kept current by the events of a watch, as client-go's informers keep
 * theirs. The daemon reads this cache on every reconcile instead of listing Nodes again, so
 * that the requests each podwired makes do not grow with the size of the cluster.
 *
 * Pure data: no I/O and no lock (kube_watch.h does both). The list arrives in pages
 * (GET /api/v1/nodes?limit=N&continue=TOKEN); the pages of a list build a new set that
 * replaces the cache only once the last page arrived, so a list cut short leaves the cache as
 * it was. The watch stream is framed here: one JSON event per line, lines split anywhere
 * across reads (HTTP chunks, HTTP/2 frames, TLS records). */
#ifndef PODWIRE_MESH_KUBE_CACHE_H
#define PODWIRE_MESH_KUBE_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

/* A watch event larger than this ends the watch: a Node is at most ~1.5 MiB in etcd. */
#define KUBE_EVENT_MAX (8U << 20)

struct kube_cache {
	cJSON *items;		/* array of Node objects; NULL until a first list completed */
	cJSON *pending;		/* the pages of a list in progress, or NULL */
	char pending_rv[64];	/* the resourceVersion of that list (its first page's) */
	char rv[64];		/* where the watch resumes: "" means list first */
	char *line;		/* a watch event not complete yet */
	size_t line_len;
};

/* What an event or a stretch of the stream did. */
#define KUBE_CACHE_CHANGED 1U	/* something podwire reads (kube_node_fingerprint) changed */
#define KUBE_CACHE_EXPIRED 2U	/* 410 Gone: the resourceVersion is too old, list again */
#define KUBE_CACHE_ERROR 4U	/* an ERROR event other than 410: the watch ends */

void kube_cache_init(struct kube_cache *c);
void kube_cache_free(struct kube_cache *c);
/* A page of a list (the NodeList @page, its items taken out of it). 1: more pages follow,
 * the token for the next in @cont; 0: that was the last page, the cache now holds the list
 * and watches from its resourceVersion; -EPROTO: @page is not a NodeList (the list is
 * dropped, the cache kept). */
int kube_cache_page(struct kube_cache *c, cJSON *page, char *cont, size_t cont_len);
/* Drop a list in progress (its continue token expired, or a request failed). */
void kube_cache_list_abort(struct kube_cache *c);
/* Apply one watch event (a JSON object) to the cache: KUBE_CACHE_* flags. Events without a
 * Node or of unknown type change nothing. */
unsigned int kube_cache_event(struct kube_cache *c, const char *json);
/* Feed @len bytes of the watch stream: each complete line is an event. KUBE_CACHE_* flags
 * of what they did (after EXPIRED or ERROR the rest is not read); -E2BIG when an event grows
 * over KUBE_EVENT_MAX, -ENOMEM. */
int kube_cache_feed(struct kube_cache *c, const char *data, size_t len);
/* A new watch starts: a half event of the last one is dropped. */
void kube_cache_stream_reset(struct kube_cache *c);
/* The cached Node named @name, or NULL. */
const cJSON *kube_cache_node(const struct kube_cache *c, const char *name);

#endif
