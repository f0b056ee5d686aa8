/* kube_watch.h — a thread that follows the Nodes of a cluster and wakes podwired when
 * something it reads changed (the Kubernetes store, store_kubernetes.c).
 *
 * It lists the Nodes, then watches them (watch=1&allowWatchBookmarks=true) from the list's
 * resourceVersion, keeping the newest resourceVersion of events and bookmarks so that a
 * dropped watch resumes where it stopped. 410 Gone (the version was compacted away), as an
 * HTTP status or an ERROR event, means list again. Each Node's podwire.io/ annotations
 * and pod CIDRs are remembered as a digest, so kubelet's status updates wake nobody. A
 * failure is logged once and retried with backoff up to 5 s. */
#ifndef PODWIRE_MESH_KUBE_WATCH_H
#define PODWIRE_MESH_KUBE_WATCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <cJSON.h>

#include "mesh/kube_client.h"

struct kube_fingerprint {
	char *name;
	uint64_t digest;
};

struct kube_watch {
	struct kube_client *kc;
	int pipe[2];			/* readable: something changed */
	pthread_t thread;
	bool started;
	atomic_bool stop, broken;
	/* The thread's own. */
	char rv[64];
	struct kube_fingerprint *fps;
	size_t n_fps;
	char *line;
	size_t line_len;
	bool expired, changed;
	long watch_status;
	bool watch_down_logged;
};

/* metadata.resourceVersion of @obj, or NULL. */
const char *kube_resource_version(const cJSON *obj);
/* Start the thread (set w->pipe to -1 before, for kube_watch_stop after a failure). */
int kube_watch_start(struct kube_watch *w, struct kube_client *kc);
/* 1: something changed; 0: nothing; -EPIPE: the watch started over (list everything). */
int kube_watch_drain(struct kube_watch *w);
void kube_watch_stop(struct kube_watch *w);

#endif
