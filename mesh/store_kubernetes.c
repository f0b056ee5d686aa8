/* store_kubernetes.c — the store on the Kubernetes API: node records and address claims
 * live as podwire.io/ annotations on the Node objects (kube_node.h), as Kilo and flannel keep
 * theirs. A DaemonSet has the API from the start, when an etcd inside the cluster would
 * need pod networking first.
 *
 *   list/get  the watch's cache of Nodes (kube_watch.h), or before it holds a complete list,
 *             GET /api/v1/nodes in pages: each Node with a podwire.io/public-key annotation is a
 *             record "nodes/NAME"; each block in a podwire.io/claims annotation, and each
 *             spec.podCIDRs entry, is a claim "alloc/BLOCK" owned by that Node (a block that two
 *             Nodes claim is listed once for each, and the claims registry judges them).
 *   put/del   a JSON merge patch of this node's own Node, carrying the resourceVersion just
 *             read: a concurrent writer makes it 409 Conflict, and podwired reads again and
 *             retries. Only the own Node is ever written, through its status subresource
 *             (PATCH /api/v1/nodes/NAME/status, as flannel writes its annotations): the API
 *             server keeps the spec on a status write but takes metadata, so the RBAC is
 *             nodes get/list/watch and nodes/status patch, and no token of podwire's can
 *             taint or cordon a Node.
 *   cas       on "alloc/BLOCK": create only when no Node claims it, then read back; if
 *             another Node claims it too (two nodes raced), the later one gives it up, so
 *             at most one keeps each block. "cluster/pools" (podwire.io/cluster-pools) is
 *             written on this Node when no Node carries other pools, so every Node carries
 *             them; it reads as the value most Nodes carry (pools_list).
 *   watch     a thread lists Nodes in pages and then watches them into a cache
 *             (kube_watch.h), as an informer does, reconnecting from the last
 *             resourceVersion seen; 410 Gone (expired) means list again. It wakes the daemon
 *             only when something podwire reads changed, not for kubelet's status updates;
 *             the daemon's periodic resync reads the cache, so in steady state a podwired
 *             makes one watch request per 5 minutes whatever the size of the cluster.
 * Leases do not exist here: a Node deleted from the cluster takes its record with it. */
#include "mesh/kube_client.h"
#include "mesh/kube_node.h"
#include "mesh/kube_watch.h"
#include "mesh/node.h"
#include "mesh/store.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "lib/log.h"

#define PATCH_TRIES 8

struct store_k8s {
	struct store base;
	struct kube_client kc;
	CURL *curl;			/* the daemon's thread */
	char node[NODE_NAME_MAX];
	long last_status;		/* of the daemon's requests, to log a refusal once */
	char **logged;			/* "NAME: reason" of skipped Nodes already logged */
	size_t n_logged;
	struct kube_watch watch;
};

static struct store_k8s *to_k8s(struct store *s) { return (struct store_k8s *)s; }

/* An HTTP status to -errno; refusals are logged when they start. */
static int status_error(struct store_k8s *ks, const char *what, long status, const char *message)
{
	int ret;

	switch (status) {
	case 401: ret = -EACCES; break;
	case 403: ret = -EPERM; break;
	case 404: ret = -ENOENT; break;
	case 409: ret = -ECANCELED; break;
	case 410: ret = -ESTALE; break;
	case 429: ret = -EBUSY; break;
	default: ret = -EPROTO; break;
	}
	if ((status == 401 || status == 403 || ret == -EPROTO || ret == -EBUSY) && status != ks->last_status)
		log_warn("kubernetes: %s: HTTP %ld%s: %.200s", what, status,
			 status == 401 ? " (token refused: the token file is read again)" :
			 status == 403 ? " (the ClusterRole must allow nodes get/list/watch and nodes/status patch)" : "",
			 message);
	ks->last_status = status;
	return ret;
}

static int reply_error(struct store_k8s *ks, const char *what, const struct kube_reply *r)
{
	return status_error(ks, what, r->status, kube_reply_message(r));
}

/* All Nodes, listed now in pages (not from the watch's cache), into @c. */
static int list_now(struct store_k8s *ks, struct kube_cache *c)
{
	struct kube_outcome out;
	int ret;

	kube_cache_init(c);
	ret = kube_list_nodes(&ks->kc, ks->curl, c, KUBE_LIST_LIMIT, &out);
	if (ret == -EPROTO)
		ret = status_error(ks, "list nodes", out.status, out.why);
	else if (!ret)
		ks->last_status = 200;
	if (ret)
		kube_cache_free(c);
	return ret;
}

static int fetch_node(struct store_k8s *ks, const char *name, struct kube_reply *r)
{
	char path[128];
	int ret;

	snprintf(path, sizeof(path), "/api/v1/nodes/%s", name);
	ret = kube_client_request(&ks->kc, ks->curl, "GET", path, NULL, NULL, r);
	if (ret)
		return ret;
	if (r->status != 200 || !cJSON_IsObject(r->json)) {
		ret = reply_error(ks, path, r);
		kube_reply_free(r);
		return ret;
	}
	return 0;
}


/* Patch this node's annotations through nodes/NAME/status: @build gets the Node as it is now and returns the
 * annotations to merge (NULL: nothing to change, or *err set). Guarded by resourceVersion;
 * a 409 reads the Node again and builds again. */
typedef cJSON *(*build_fn)(const cJSON *node, void *ctx, int *err);

static int patch_self(struct store_k8s *ks, build_fn build, void *ctx)
{
	char path[128];
	int ret = -ECANCELED;

	snprintf(path, sizeof(path), "/api/v1/nodes/%s/status", ks->node);
	for (int tries = 0; tries < PATCH_TRIES && ret == -ECANCELED; tries++) {
		struct kube_reply cur, r;
		cJSON *body, *meta, *anns;
		const char *rv;
		char *text;
		int err = 0;

		ret = fetch_node(ks, ks->node, &cur);
		if (ret == -ENOENT)
			log_warn("kubernetes: Node %s does not exist (is --name the Kubernetes node name?)", ks->node);
		if (ret)
			return ret;
		rv = kube_resource_version(cur.json);
		anns = build(cur.json, ctx, &err);
		if (!anns || !rv) {
			kube_reply_free(&cur);
			cJSON_Delete(anns);
			return err ? err : (rv ? 0 : -EPROTO);
		}
		body = cJSON_CreateObject();
		meta = cJSON_AddObjectToObject(body, "metadata");
		cJSON_AddStringToObject(meta, "resourceVersion", rv);
		cJSON_AddItemToObject(meta, "annotations", anns);
		kube_reply_free(&cur);
		text = cJSON_PrintUnformatted(body);
		cJSON_Delete(body);
		if (!text)
			return -ENOMEM;
		ret = kube_client_request(&ks->kc, ks->curl, "PATCH", path, "application/merge-patch+json", text, &r);
		free(text);
		if (ret)
			return ret;
		ret = r.status == 200 ? 0 : reply_error(ks, "patch own node", &r);
		if (ret == -ECANCELED)
			log_info("kubernetes: Node %s changed meanwhile (409 Conflict): reading it again", ks->node);
		kube_reply_free(&r);
	}
	return ret;
}

static int cmp_kv(const void *a, const void *b)
{
	return strcmp(((const struct store_kv *)a)->key, ((const struct store_kv *)b)->key);
}

static bool string_in(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

/* Log each skipped Node once while its reason stays the same. */
static void skips_update(struct store_k8s *ks, char **now, size_t n_now)
{
	for (size_t i = 0; i < n_now; i++)
		if (!string_in(ks->logged, ks->n_logged, now[i]))
			log_warn("kubernetes: Node %s; skipped", now[i]);
	for (size_t i = 0; i < ks->n_logged; i++)
		free(ks->logged[i]);
	free(ks->logged);
	ks->logged = now;
	ks->n_logged = n_now;
}

static int kv_add(struct store_kv **kvs, size_t *n, const char *key, const char *value)
{
	struct store_kv *grown = realloc(*kvs, (*n + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	*kvs = grown;
	grown[*n].key = strdup(key);
	grown[*n].value = strdup(value);
	grown[*n].value_len = strlen(value);
	grown[*n].created = grown[*n].revision = 0;
	if (!grown[*n].key || !grown[*n].value) {
		free(grown[*n].key);
		free(grown[*n].value);
		return -ENOMEM;
	}
	(*n)++;
	return 0;
}

#define CLAIMS_ANNOTATION 1U	/* the Node's podwire.io/claims, which the node writes itself */
#define CLAIMS_SPEC 2U		/* its spec.podCIDRs, which the cluster assigned */

/* The claims of one Node from @sources: its claims annotation and its spec.podCIDRs. Blocks
 * as in keys: "10.244.1.0_24". @fn gets each; duplicates are harmless. */
static int each_claim(const cJSON *node, unsigned int sources, int (*fn)(const char *block, void *ctx), void *ctx)
{
	const char *anns[2] = { kube_node_annotation(node, KUBE_ANN_CLAIMS), NULL };
	char cidrs[512];
	int ret = 0;

	kube_node_pod_cidrs(node, cidrs, sizeof(cidrs));
	anns[1] = cidrs;
	for (int a = 0; a < 2 && !ret; a++) {
		if (!(sources & (1U << a)))
			continue;
		char *copy = anns[a] ? strdup(anns[a]) : NULL, *save = NULL;

		if (anns[a] && !copy)
			return -ENOMEM;
		for (char *t = copy ? strtok_r(copy, ", ", &save) : NULL; t && !ret; t = strtok_r(NULL, ", ", &save)) {
			char key[STORE_KEY_MAX], *slash;

			snprintf(key, sizeof(key), STORE_ALLOC_PREFIX "%s", t);
			if ((slash = strchr(key + strlen(STORE_ALLOC_PREFIX), '/')))
				*slash = '_';
			if (store_key_valid(key))
				ret = fn(key + strlen(STORE_ALLOC_PREFIX), ctx);
		}
		free(copy);
	}
	return ret;
}

struct claim_list {
	struct store_kv **kvs;
	size_t *n;
	const char *owner;
	uint64_t created;
};

static int add_claim(const char *block, void *ctx)
{
	struct claim_list *cl = ctx;
	char key[STORE_KEY_MAX];
	int ret;

	snprintf(key, sizeof(key), STORE_ALLOC_PREFIX "%s", block);
	/* A block that two Nodes claim is listed for each: the claims registry (claims.h) judges
	 * them, the spec.podCIDRs entry as the older. Keeping only the first listed would let
	 * the Node whose name sorts first take another's block. */
	for (size_t i = 0; i < *cl->n; i++)
		if (!strcmp((*cl->kvs)[i].key, key) && !strcmp((*cl->kvs)[i].value, cl->owner))
			return 0;
	ret = kv_add(cl->kvs, cl->n, key, cl->owner);
	if (!ret)
		(*cl->kvs)[*cl->n - 1].created = (*cl->kvs)[*cl->n - 1].revision = cl->created;
	return ret;
}

/* "cluster/pools": the podwire.io/cluster-pools that most Nodes carry. Any podwired can
 * patch any Node (RBAC cannot limit patch to one), so the first Node listed must not decide:
 * a Node whose name sorts first could make every podwired started afterwards refuse the
 * cluster's real pools. A tie leaves the pools unknown (-ENOTUNIQ). Each Node that differs
 * from the most is named. */
#define POOLS_VALUES_MAX 8

struct pools_value {
	const char *value, *node;	/* the annotation, the first Node carrying it */
	size_t count;
};

static int pools_list(const cJSON *items, struct store_kv **kvs, size_t *n)
{
	struct pools_value v[POOLS_VALUES_MAX];
	size_t nv = 0, best = 0;
	bool tie = false;
	const cJSON *item;

	cJSON_ArrayForEach(item, items) {
		const char *pools = kube_node_annotation(item, KUBE_ANN_POOLS), *name = kube_node_name(item);
		size_t i;

		if (!pools || !name)
			continue;
		for (i = 0; i < nv && strcmp(v[i].value, pools); i++)
			;
		if (i == nv && nv == POOLS_VALUES_MAX) {
			log_warn("kubernetes: Node %.64s: %s differs from the other Nodes': ignored", name, KUBE_ANN_POOLS);
			continue;
		}
		if (i == nv)
			v[nv++] = (struct pools_value){ pools, name, 0 };
		v[i].count++;
	}
	if (!nv)
		return 0;
	for (size_t i = 1; i < nv; i++)
		if (v[i].count > v[best].count)
			best = i;
	for (size_t i = 0; i < nv; i++) {
		if (i == best)
			continue;
		tie = tie || v[i].count == v[best].count;
		log_warn("kubernetes: Node %.64s%s: %s differs from that of Node %.64s%s", v[i].node,
			 v[i].count > 1 ? " and others" : "", KUBE_ANN_POOLS, v[best].node,
			 v[i].count == v[best].count ? ", and as many Nodes carry each: the cluster's pools are unknown" :
			 " (which more Nodes carry): ignored");
	}
	return tie ? -ENOTUNIQ : kv_add(kvs, n, "cluster/pools", v[best].value);
}

static int list_items(struct store_k8s *ks, const cJSON *items, const char *prefix, struct store_kv **kvs, size_t *n)
{
	char **skips = NULL;
	size_t n_skips = 0;
	const cJSON *item;
	int ret = 0;

	if (!strncmp(prefix, "cluster/", 8))
		return pools_list(items, kvs, n);
	cJSON_ArrayForEach(item, items) {
		const char *name = kube_node_name(item);
		char key[STORE_KEY_MAX];

		if (!name)
			continue;
		if (!strcmp(prefix, STORE_NODES_PREFIX)) {
			char *text = NULL, why[256] = "", *line;
			int r = kube_node_record(item, &text, why, sizeof(why));

			if (r == -EINVAL) {
				char **grown = realloc(skips, (n_skips + 1) * sizeof(*grown));

				if (grown && asprintf(&line, "%.100s: %s", name, why) >= 0)
					grown[n_skips++] = line;
				if (grown)
					skips = grown;
				continue;
			}
			if (r < 0) {
				ret = r;
				break;
			}
			if (r == 1) {
				snprintf(key, sizeof(key), STORE_NODES_PREFIX "%s", name);
				ret = kv_add(kvs, n, key, text);
			}
			free(text);
		} else if (!strcmp(prefix, STORE_ALLOC_PREFIX)) {
			/* The cluster's assignments are older than any claim a node writes itself
			 * (claims.h: the earlier creation wins an overlap); annotations come second. */
			struct claim_list cl = { kvs, n, name, 1 };

			ret = each_claim(item, CLAIMS_SPEC, add_claim, &cl);
		}
		if (ret)
			break;
	}
	if (!ret && !strcmp(prefix, STORE_ALLOC_PREFIX)) {
		cJSON_ArrayForEach(item, items) {
			struct claim_list cl = { kvs, n, kube_node_name(item), 2 };

			if (cl.owner && (ret = each_claim(item, CLAIMS_ANNOTATION, add_claim, &cl)))
				break;
		}
	}
	if (!strcmp(prefix, STORE_NODES_PREFIX) && !ret)
		skips_update(ks, skips, n_skips);
	else {
		for (size_t i = 0; i < n_skips; i++)
			free(skips[i]);
		free(skips);
	}
	return ret;
}

struct list_call {
	struct store_k8s *ks;
	const char *prefix;
	struct store_kv **kvs;
	size_t *n;
};

static int list_cached(const cJSON *items, void *ctx)
{
	struct list_call *lc = ctx;

	return list_items(lc->ks, items, lc->prefix, lc->kvs, lc->n);
}

/* From the watch's cache once it holds a complete list: a reconcile costs the API server
 * nothing. Before that (starting, or the API unreachable since the start), a list now. */
static int k8s_list(struct store *s, const char *prefix, struct store_kv **kvs, size_t *n)
{
	struct store_k8s *ks = to_k8s(s);
	struct list_call call = { ks, prefix, kvs, n };
	int ret;

	*kvs = NULL;
	*n = 0;
	ret = kube_watch_read(&ks->watch, list_cached, &call);
	if (ret == -EAGAIN) {
		struct kube_cache c;

		ret = list_now(ks, &c);
		if (ret)
			return ret;
		ret = list_items(ks, c.items, prefix, kvs, n);
		kube_cache_free(&c);
	}
	if (ret) {
		store_kvs_free(*kvs, *n);
		*kvs = NULL;
		*n = 0;
		return ret;
	}
	if (*n)
		qsort(*kvs, *n, sizeof(**kvs), cmp_kv);
	return 0;
}

static int k8s_get(struct store *s, const char *key, char **value, size_t *len)
{
	const char *slash = strchr(key, '/');
	char prefix[STORE_KEY_MAX];
	struct store_kv *kvs;
	size_t n;
	int ret;

	if (!slash)
		return -ENOENT;
	snprintf(prefix, sizeof(prefix), "%.*s", (int)(slash - key + 1), key);
	ret = k8s_list(s, prefix, &kvs, &n);
	if (ret)
		return ret;
	ret = -ENOENT;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(kvs[i].key, key))
			continue;
		*value = kvs[i].value;
		if (len)
			*len = kvs[i].value_len;
		kvs[i].value = NULL;
		ret = 0;
		break;
	}
	store_kvs_free(kvs, n);
	return ret;
}

static cJSON *build_record(const cJSON *node, void *ctx, int *err)
{
	cJSON *patch = NULL;

	*err = kube_node_annotations_for(node, ctx, &patch);
	return patch;
}

static cJSON *build_removal(const cJSON *node, void *ctx, int *err)
{
	if (!kube_node_annotation(node, KUBE_ANN_PUBLIC_KEY))
		return NULL;
	return kube_node_annotations_removal();
}

/* Only this node's own record is written: its name is the Node this daemon runs on. */
static bool own_record(struct store_k8s *ks, const char *key)
{
	return !strncmp(key, STORE_NODES_PREFIX, strlen(STORE_NODES_PREFIX)) &&
	       !strcmp(key + strlen(STORE_NODES_PREFIX), ks->node);
}

struct own_check {
	const char *node, *text;
};

/* 1 when the cached own Node carries the record @ctx's text already. */
static int own_carries(const cJSON *items, void *ctx)
{
	const struct own_check *oc = ctx;
	const cJSON *item;

	cJSON_ArrayForEach(item, items) {
		const char *name = kube_node_name(item);
		cJSON *patch = NULL;
		int err;

		if (!name || strcmp(name, oc->node))
			continue;
		err = kube_node_annotations_for(item, oc->text, &patch);
		cJSON_Delete(patch);
		return err ? err : !patch;
	}
	return 0;
}

static int k8s_put(struct store *s, const char *key, const char *value, bool leased)
{
	struct store_k8s *ks = to_k8s(s);
	struct own_check oc = { ks->node, value };

	if (!own_record(ks, key))
		return -EPERM;
	/* The daemon writes its record again for the heartbeat; the Node already carries it
	 * (the cache says so) most of the time, and then asking the API server costs it a GET
	 * per node per heartbeat for nothing. */
	if (kube_watch_read(&ks->watch, own_carries, &oc) == 1)
		return 0;
	return patch_self(ks, build_record, (void *)value);
}

/* Claims: edit the list in this node's claims annotation, or its cluster-pools one. */
struct claim_edit {
	const char *annotation;
	const char *item;	/* block, or the pools text */
	bool add;
	bool found;
};

static cJSON *build_claim(const cJSON *node, void *ctx, int *err)
{
	struct claim_edit *e = ctx;
	const char *have = kube_node_annotation(node, e->annotation);
	char *copy, *save = NULL, *out = NULL;
	size_t size = 0;
	FILE *f;
	cJSON *anns;
	bool first = true;

	e->found = false;
	if (strcmp(e->annotation, KUBE_ANN_CLAIMS)) { /* a single value */
		e->found = have != NULL;
		if ((e->add && have && !strcmp(have, e->item)) || (!e->add && (!have || strcmp(have, e->item))))
			return NULL;
		anns = cJSON_CreateObject();
		if (e->add)
			cJSON_AddStringToObject(anns, e->annotation, e->item);
		else
			cJSON_AddNullToObject(anns, e->annotation);
		return anns;
	}
	copy = strdup(have ? have : "");
	f = copy ? open_memstream(&out, &size) : NULL;
	if (!f) {
		free(copy);
		*err = -ENOMEM;
		return NULL;
	}
	for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		if (!strcmp(t, e->item)) {
			e->found = true;
			if (!e->add)
				continue;
		}
		fprintf(f, "%s%s", first ? "" : ", ", t);
		first = false;
	}
	if (e->add && !e->found)
		fprintf(f, "%s%s", first ? "" : ", ", e->item);
	free(copy);
	if (fclose(f)) {
		*err = -ENOMEM;
		return NULL;
	}
	if (e->add == e->found) { /* already there / not there */
		free(out);
		return NULL;
	}
	anns = cJSON_CreateObject();
	if (out[0])
		cJSON_AddStringToObject(anns, e->annotation, out);
	else
		cJSON_AddNullToObject(anns, e->annotation);
	free(out);
	return anns;
}

struct holder_search {
	const char *block;
	bool found;
};

static int match_claim(const char *block, void *ctx)
{
	struct holder_search *h = ctx;

	if (!strcmp(block, h->block))
		h->found = true;
	return 0;
}

/* Does a Node other than this one hold @key ("alloc/BLOCK" or "cluster/NAME")? *lower: one
 * whose name sorts before this node's does. */
static int held_by_other(struct store_k8s *ks, const char *key, const char *value, bool *held, bool *lower)
{
	struct kube_cache c;
	const cJSON *item;
	bool before = *held = false;
	int ret;

	/* Listed now, not read from the cache: the read-back after a claim must see the
	 * claims written just before. Claims are rare (a node's first start). */
	if (lower)
		*lower = false;
	ret = list_now(ks, &c);
	if (ret)
		return ret;
	cJSON_ArrayForEach(item, c.items) {
		const char *name = kube_node_name(item);

		if (!name || !strcmp(name, ks->node))
			continue;
		if (!strncmp(key, STORE_ALLOC_PREFIX, strlen(STORE_ALLOC_PREFIX))) {
			struct holder_search h = { key + strlen(STORE_ALLOC_PREFIX), false };

			each_claim(item, CLAIMS_ANNOTATION | CLAIMS_SPEC, match_claim, &h);
			before = h.found;
		} else {
			const char *pools = kube_node_annotation(item, KUBE_ANN_POOLS);

			before = pools && (!value || strcmp(pools, value));
		}
		*held = *held || before;
		if (before && lower && strcmp(name, ks->node) < 0)
			*lower = true;
	}
	kube_cache_free(&c);
	return 0;
}

static int k8s_cas(struct store *s, const char *key, const char *expect, const char *value)
{
	struct store_k8s *ks = to_k8s(s);
	bool alloc = !strncmp(key, STORE_ALLOC_PREFIX, strlen(STORE_ALLOC_PREFIX));
	struct claim_edit e = { alloc ? KUBE_ANN_CLAIMS : KUBE_ANN_POOLS, alloc ? key + strlen(STORE_ALLOC_PREFIX) : value,
				value != NULL, false };
	bool held, lower;
	int ret;

	if (!alloc && strcmp(key, "cluster/pools"))
		return -ENOTSUP;
	if (value && expect)
		return -ENOTSUP; /* claims are created or given back, never handed over */
	if (!value && !expect)
		return -EINVAL;
	if (!value) {
		/* Give back: only what this node holds. */
		if (alloc && strcmp(expect, ks->node))
			return -ECANCELED;
		e.item = alloc ? e.item : expect;
		ret = patch_self(ks, build_claim, &e);
		return ret ? ret : (e.found ? 0 : -ECANCELED);
	}
	if (alloc && strcmp(value, ks->node))
		return -EPERM;
	/* The pools: every Node carries them once they agree, so that no single Node decides
	 * what the cluster's pools are (pools_list). */
	ret = held_by_other(ks, key, alloc ? NULL : value, &held, NULL);
	if (ret)
		return ret;
	if (held)
		return -ECANCELED;
	ret = patch_self(ks, build_claim, &e);
	if (ret)
		return ret;
	/* Read back: a Node that claimed the same block meanwhile means a race, and then this
	 * node gives the block up: the other may have read back before this claim was written
	 * and kept it. Both may give it up; then each tries its next block, the one with the
	 * higher name after a longer pause, so that they do not meet again. */
	ret = held_by_other(ks, key, alloc ? NULL : value, &held, &lower);
	if (ret || !held)
		return ret;
	log_info("kubernetes: %s is claimed by another Node too: giving it up", key);
	e.add = false;
	ret = patch_self(ks, build_claim, &e);
	usleep(10000 + randombytes_uniform(50000) + (lower ? 500000 : 0));
	return ret ? ret : -ECANCELED;
}

static int k8s_del(struct store *s, const char *key)
{
	struct store_k8s *ks = to_k8s(s);

	if (own_record(ks, key))
		return patch_self(ks, build_removal, NULL);
	if (!strncmp(key, STORE_ALLOC_PREFIX, strlen(STORE_ALLOC_PREFIX))) {
		int ret = k8s_cas(s, key, ks->node, NULL);

		return ret == -ECANCELED ? 0 : ret;
	}
	return -EPERM;
}

static int k8s_heartbeat(struct store *s) { return 0; }

static int k8s_assigned_pod_cidrs(struct store *s, const char *name, char *out, size_t len)
{
	struct store_k8s *ks = to_k8s(s);
	struct kube_reply r;
	int ret = fetch_node(ks, name, &r);

	if (ret == -ENOENT)
		log_warn("kubernetes: Node %s does not exist (is --name the Kubernetes node name?)", name);
	if (ret)
		return ret;
	kube_node_pod_cidrs(r.json, out, len);
	kube_reply_free(&r);
	return 0;
}

static int k8s_node_address(struct store *s, const char *name, const char *source, char *out, size_t len)
{
	struct store_k8s *ks = to_k8s(s);
	struct kube_reply r;
	char why[256] = "";
	int ret = fetch_node(ks, name, &r);

	if (ret)
		return ret;
	ret = kube_node_address(r.json, source, out, len, why, sizeof(why));
	if (ret == -EINVAL)
		log_warn("kubernetes: Node %s: %s", name, why);
	kube_reply_free(&r);
	return ret;
}

static int k8s_watch_fd(struct store *s) { return to_k8s(s)->watch.pipe[0]; }

static int k8s_watch_drain(struct store *s) { return kube_watch_drain(&to_k8s(s)->watch); }

static void k8s_close(struct store *s)
{
	struct store_k8s *ks = to_k8s(s);

	kube_watch_stop(&ks->watch);
	if (ks->curl)
		ks->kc.lc->easy_cleanup(ks->curl);
	for (size_t i = 0; i < ks->n_logged; i++)
		free(ks->logged[i]);
	free(ks->logged);
	kube_client_free(&ks->kc);
	free(ks);
}

static const struct store_ops k8s_ops = {
	.name = "kubernetes",
	.list = k8s_list,
	.get = k8s_get,
	.put = k8s_put,
	.del = k8s_del,
	.cas = k8s_cas,
	.watch_fd = k8s_watch_fd,
	.watch_drain = k8s_watch_drain,
	.heartbeat = k8s_heartbeat,
	.close = k8s_close,
	.assigned_pod_cidrs = k8s_assigned_pod_cidrs,
	.node_address = k8s_node_address,
};

int store_kubernetes_open(struct store **s, const char *location)
{
	struct store_k8s *ks = calloc(1, sizeof(*ks));
	const char *kubeconfig = NULL;
	char *copy = strdup(location), *save = NULL, err[512] = "";
	int ret = -EINVAL;

	*s = NULL;
	if (!ks || !copy) {
		free(ks);
		free(copy);
		return -ENOMEM;
	}
	ks->base.ops = &k8s_ops;
	ks->watch.pipe[0] = ks->watch.pipe[1] = -1;
	for (char *t = strtok_r(copy, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
		if (!strncmp(t, "node=", 5))
			snprintf(ks->node, sizeof(ks->node), "%s", t + 5);
		else if (!strncmp(t, "kubeconfig=", 11))
			kubeconfig = t + 11;
	}
	if (!node_name_valid(ks->node)) {
		log_err("kubernetes store: location '%s' names no valid node", location);
		free(copy);
		free(ks);
		return -EINVAL;
	}
	ret = kube_client_init(&ks->kc, kubeconfig, err, sizeof(err));
	free(copy);
	if (ret) {
		log_err("kubernetes store: %s", err);
		kube_client_free(&ks->kc);
		free(ks);
		return ret;
	}
	log_info("kubernetes store: API server %s (%s), Node %s", ks->kc.server, ks->kc.source, ks->node);
	ks->curl = ks->kc.lc->easy_init();
	if (!ks->curl) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = kube_watch_start(&ks->watch, &ks->kc);
	if (ret)
		goto fail;
	*s = &ks->base;
	return 0;
fail:
	k8s_close(&ks->base);
	return ret;
}
