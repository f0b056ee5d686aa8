/* store.h — the shared store podwired publishes to and watches.
 *
 * One small interface, several backends, like wireguard-tools' ipc.c picks netlink or UAPI:
 * "file" (a directory on shared storage, one peers.conf-style file per node, flock for
 * writes, inotify for watching; store_file.c) and "etcd" (etcd v3 through its JSON gateway;
 * store_etcd.c), and "kubernetes" (annotations on the Node objects; store_kubernetes.c).
 * The store is a key/value map with string keys:
 *   nodes/NAME   a node record (node.h)
 *   alloc/BLOCK  which node owns a pod CIDR block (cidr.h)
 * Values are text. Every call returns 0 or -errno; -ECANCELED from store_cas() means
 * "the current value is not what you expected". */
#ifndef PODWIRE_MESH_STORE_H
#define PODWIRE_MESH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_NODES_PREFIX "nodes/"
#define STORE_ALLOC_PREFIX "alloc/"
#define STORE_KEY_MAX 256 /* with the NUL */
/* Bounds on what a listing holds, so that one writer cannot make every node read or keep
 * unbounded data: a value larger than STORE_VALUE_MAX is skipped, with a log line naming
 * its key, and the others are listed; a listing larger than STORE_LIST_MAX in all (keys,
 * values and their bookkeeping) fails with -EFBIG, and the daemon keeps the mesh it last
 * applied. A node record (node.h NODE_RECORD_MAX) always fits in STORE_VALUE_MAX. */
#define STORE_VALUE_MAX (64U << 10)
#define STORE_LIST_MAX (256U << 20)

struct store_kv {
	char *key;
	char *value;
	size_t value_len;
	/* The store's own order, which no writer can set: when the key was created (etcd's
	 * create_revision) and when its value was last written (mod_revision). A claim is
	 * written once, so for claims the last write is what counts: a rewritten claim is a new
	 * one. 0 where the backend has none (file). */
	uint64_t created, revision;
};

struct store;

struct store_ops {
	const char *name;
	/* All pairs whose key starts with @prefix, sorted by key. */
	int (*list)(struct store *s, const char *prefix, struct store_kv **kvs, size_t *n);
	/* Read one key: -ENOENT if absent. *value is malloc'd and NUL-terminated. */
	int (*get)(struct store *s, const char *key, char **value, size_t *len);
	/* Write @key; with @leased, it lives only while store_heartbeat() keeps it alive. */
	int (*put)(struct store *s, const char *key, const char *value, bool leased);
	int (*del)(struct store *s, const char *key);
	/* Atomically: if the value of @key equals @expect (NULL: key absent), set it to @value
	 * (NULL: delete). Otherwise -ECANCELED. */
	int (*cas)(struct store *s, const char *key, const char *expect, const char *value);
	/* A descriptor that becomes readable when something may have changed; -1 if none. */
	int (*watch_fd)(struct store *s);
	/* Consume the pending notifications; returns 1 if anything changed, 0 if not, -errno if
	 * the watch broke (the caller then lists everything again). */
	int (*watch_drain)(struct store *s);
	/* Keep the lease of leased keys alive. */
	int (*heartbeat)(struct store *s);
	void (*close)(struct store *s);
	/* Optional, NULL when the backend has no say: the pod CIDRs the cluster itself assigned
	 * to node @name, comma-separated into @out ("" when none). The Kubernetes store answers
	 * from Node.spec.podCIDRs (kube-controller-manager --allocate-node-cidrs). */
	int (*assigned_pod_cidrs)(struct store *s, const char *name, char *out, size_t len);
	/* Optional: the address node @name is reached at as the cluster says it, "IP" or
	 * "HOST:PORT" into @out; @source says which (the Kubernetes store: "InternalIP",
	 * "ExternalIP" or "annotation=NAME" of the Node, kube_node.h). -ENOENT: none. */
	int (*node_address)(struct store *s, const char *name, const char *source, char *out, size_t len);
};

struct store {
	const struct store_ops *ops;
};

/* Open a backend by name: "file" with @location a directory, "etcd" with @location one
 * or more "http://host:port" URLs separated by commas. @lease_ttl seconds (etcd). */
int store_open(struct store **s, const char *backend, const char *location, int lease_ttl);
int store_file_open(struct store **s, const char *dir);
int store_etcd_open(struct store **s, const char *endpoints, int lease_ttl);
/* "kubernetes": @location is "node=NAME" for the in-cluster configuration, or
 * "node=NAME;kubeconfig=PATH" (store_kubernetes.c). */
int store_kubernetes_open(struct store **s, const char *location);

static inline int store_list(struct store *s, const char *prefix, struct store_kv **kvs, size_t *n)
{
	return s->ops->list(s, prefix, kvs, n);
}
static inline int store_get(struct store *s, const char *key, char **value, size_t *len)
{
	return s->ops->get(s, key, value, len);
}
static inline int store_put(struct store *s, const char *key, const char *value, bool leased)
{
	return s->ops->put(s, key, value, leased);
}
static inline int store_del(struct store *s, const char *key) { return s->ops->del(s, key); }
static inline int store_cas(struct store *s, const char *key, const char *expect, const char *value)
{
	return s->ops->cas(s, key, expect, value);
}
static inline int store_watch_fd(struct store *s) { return s->ops->watch_fd(s); }
static inline int store_watch_drain(struct store *s) { return s->ops->watch_drain(s); }
static inline int store_heartbeat(struct store *s) { return s->ops->heartbeat(s); }
static inline void store_close(struct store *s)
{
	if (s)
		s->ops->close(s);
}
void store_kvs_free(struct store_kv *kvs, size_t n);
/* What the last listing of a prefix skipped, kept by the backends so that each skipped
 * file or key is logged once while it stays, not at every listing. */
#define STORE_SKIPS_PREFIXES 4
struct store_skips {
	char prefix[32];
	char *lines;
};
/* The lines slot of @prefix in @skips (STORE_SKIPS_PREFIXES of them): its own, a free one,
 * or else the first. */
char **store_skips_slot(struct store_skips *skips, const char *prefix);
void store_skips_free(struct store_skips *skips);
/* Is @key usable: printable ASCII without "..", spaces or leading '/', at most 255 bytes. */
bool store_key_valid(const char *key);

#endif
