/* kube_watch.h — a thread that keeps the cache of a cluster's Nodes (kube_cache.h) current,
 * as a client-go informer does, and wakes podwired when something it reads changed (the
 * Kubernetes store, store_kubernetes.c).
 *
 * It lists the Nodes in pages (limit/continue; an expired continue token, 410 Gone, starts
 * the list over), then watches them (watch=1&allowWatchBookmarks=true) from the list's
 * resourceVersion, keeping the newest resourceVersion of events and bookmarks so that a
 * dropped watch resumes where it stopped. 410 Gone (the version was compacted away), as an
 * HTTP status or an ERROR event, means list again. Only changes of a Node's podwire.io/
 * annotations or pod CIDRs wake the daemon, not kubelet's status updates.
 *
 * A failure (unreachable, 429, 5xx, a stream cut in the middle of an event, an event too
 * large) keeps the cache as it was, is logged once per cause, and is retried with jittered
 * exponential backoff up to 30 s, never sooner than a Retry-After asks. */
#ifndef PODWIRE_MESH_KUBE_WATCH_H
#define PODWIRE_MESH_KUBE_WATCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <cJSON.h>

#include "mesh/backoff.h"
#include "mesh/kube_cache.h"
#include "mesh/kube_client.h"

/* Nodes per page of a list: kube-apiserver's own default for informers is 500. */
#define KUBE_LIST_LIMIT 500

struct kube_watch {
	struct kube_client *kc;
	int pipe[2];			/* readable: something changed */
	pthread_t thread;
	bool started;
	atomic_bool stop, broken;
	pthread_mutex_t lock;		/* the cache: the thread writes it, the daemon reads it */
	struct kube_cache cache;
	bool synced;			/* the cache holds a complete list */
	/* The thread's own. */
	unsigned int stream_flags;	/* of the watch in progress (KUBE_CACHE_*) */
	int stream_err;
	struct backoff backoff;
	int cause;			/* kube_outcome.cause of the failure logged last, 0: none */
};

/* What a list or a watch request ended with, for the caller's message. */
struct kube_outcome {
	long status;			/* HTTP status, 0 when no answer */
	unsigned int retry_after_ms;	/* Retry-After of a 429 or 503 */
	char why[160];			/* the cause in words */
	int cause;			/* the same as a number: HTTP status, or 1000 + CURLcode */
};

/* metadata.resourceVersion of @obj, or NULL. */
const char *kube_resource_version(const cJSON *obj);
/* List all Nodes in pages of @limit into @c (kube_cache_page), with @curl. 0: listed;
 * -EHOSTUNREACH: no answer; -EPROTO: an error status or a reply that is not a NodeList
 * (@out says which). A continue token that expired (410) starts the list over, once. */
int kube_list_nodes(struct kube_client *kc, CURL *curl, struct kube_cache *c, unsigned int limit,
		    struct kube_outcome *out);
/* Start the thread (set w->pipe to -1 before, for kube_watch_stop after a failure). */
int kube_watch_start(struct kube_watch *w, struct kube_client *kc);
/* 1: something changed; 0: nothing; -EPIPE: the watch started over (list everything). */
int kube_watch_drain(struct kube_watch *w);
/* Run @fn on the cached Nodes (a cJSON array) under the cache's lock, when the cache holds a
 * complete list: its return value. -EAGAIN when it does not (yet). */
int kube_watch_read(struct kube_watch *w, int (*fn)(const cJSON *items, void *ctx), void *ctx);
void kube_watch_stop(struct kube_watch *w);

#endif
