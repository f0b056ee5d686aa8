/* agent.c — podwired's startup, event loop and one reconcile pass (see agent.h). */
#include "daemon/agent.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon/addresses.h"
#include "daemon/cniconf.h"
#include "daemon/debounce.h"
#include "daemon/endpoint_cache.h"
#include "daemon/iface.h"
#include "daemon/masquerade.h"
#include "daemon/metrics.h"
#include "daemon/publish.h"
#include "daemon/reconcile.h"
#include "mesh/backoff.h"
#include "mesh/cluster.h"
#include "mesh/mesh.h"
#include "mesh/node.h"
#include "mesh/observed.h"
#include "mesh/store.h"
#include "lib/defaults.h"
#include "lib/log.h"

#define BACKOFF_MAX_SECONDS 10

struct agent {
	const struct agent_options *o;
	struct store *store;
	struct node self;
	uint8_t private_key[WG_KEY_LEN];
	struct reconcile_state applied;
	struct endpoint_cache *endpoints;	/* DNS names in records, resolved in the background */
	struct metrics metrics;
	bool metrics_on;
	bool store_up;
	bool mesh_known;	/* a listing of the store has worked: there is a mesh to keep */
	struct backoff retry;		/* while the store fails: jittered, so nodes do not retry in step */
	double backoff;			/* seconds before the next try */
	struct publish published;	/* our record as last written */
	/* When each claim and record was first seen: the earliest claim wins (claims.h). */
	struct firstseen claims_seen, records_seen;
	struct claims_holders holders;
	/* Skipped records, "KEY: reason", logged once each while they stay the same. */
	struct string_set { char **v; size_t n; } skips_logged, skips_now;
};

static bool string_set_has(const struct string_set *set, const char *s)
{
	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->v[i], s))
			return true;
	return false;
}

static void string_set_clear(struct string_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->v[i]);
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

static void note_skip(void *ctx, const char *key, const char *reason)
{
	struct agent *a = ctx;
	char **grown, *line;

	if (asprintf(&line, "%s: %s", key, reason) < 0)
		return;
	if (!string_set_has(&a->skips_logged, line))
		log_warn("store record %s skipped: %s", key, reason);
	grown = realloc(a->skips_now.v, (a->skips_now.n + 1) * sizeof(*grown));
	if (!grown) {
		free(line);
		return;
	}
	a->skips_now.v = grown;
	a->skips_now.v[a->skips_now.n++] = line;
}

void agent_options_default(struct agent_options *o)
{
	memset(o, 0, sizeof(*o));
	o->ifname = PODWIRE_NODE_INTERFACE;
	o->store_backend = "file";
	o->store_location = "/var/lib/podwire/store";
	o->lease_ttl = 60;
	o->restart_grace = 600;
	ip_prefix_parse(&o->cluster_cidr, "10.244.0.0/16");
	o->block_len = 24;
	o->block_len6 = 64;
	ip_prefix_parse(&o->tunnel_cidr, "10.99.0.0/16");
	o->listen_port = 51820;
	o->endpoint_from = "InternalIP";
	o->datapath = DATAPATH_CHOICE_AUTO;
	o->metrics_listen = "127.0.0.1:9586";
	o->key.state_dir = "/var/lib/podwire";
	o->resync_seconds = 30;
	o->heartbeat_seconds = 30;
	o->pod_cidr_allocation = true;
	o->masquerade = true;
}

static int64_t now_seconds(void)
{
	return (int64_t)time(NULL);
}

static double monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reachability changes are logged once, not on every retry. */
static void store_state(struct agent *a, int err, const char *what)
{
	if (err && a->store_up) {
		/* The cause in the backend's words (etcd: refused, unknown host, timeout, TLS). */
		if (a->mesh_known)
			log_warn("store %s unreachable (%s: %s); keeping the last known mesh", a->store->ops->name,
				 what, store_strerror(a->store, err));
		else
			log_warn("store %s unreachable (%s: %s); nothing applied yet: this node joins the mesh once the "
				 "store answers, retrying", a->store->ops->name, what, store_strerror(a->store, err));
		a->store_up = false;
	} else if (!err && !a->store_up) {
		log_info("store %s reachable again", a->store->ops->name);
		a->store_up = true;
		a->backoff = 0;
		backoff_reset(&a->retry);
	}
	if (err) {
		pthread_mutex_lock(&a->metrics.lock);
		a->metrics.last_tick = monotonic();
		a->metrics.store_errors++;
		a->metrics.store_up = 0;
		pthread_mutex_unlock(&a->metrics.lock);
		a->backoff = backoff_next(&a->retry, randombytes_random(), 0) / 1000.0;
	} else {
		pthread_mutex_lock(&a->metrics.lock);
		a->metrics.store_up = 1;
		pthread_mutex_unlock(&a->metrics.lock);
	}
}

/* The readiness answer (/readyz) and its reason, logged when it changes. */
static void set_not_ready(struct agent *a, const char *why)
{
	pthread_mutex_lock(&a->metrics.lock);
	if (strcmp(a->metrics.not_ready, why))
		log_warn("not ready: %s", why);
	a->metrics.ready = 0;
	snprintf(a->metrics.not_ready, sizeof(a->metrics.not_ready), "%s", why);
	a->metrics.last_tick = monotonic();
	pthread_mutex_unlock(&a->metrics.lock);
}

static int publish(struct agent *a, bool force)
{
	return publish_node(&a->published, a->store, &a->self, a->o->heartbeat_seconds, force);
}

/* Scrape-time refresh (metrics thread): live counters straight from the device. */
static void refresh_metrics(struct metrics *m, void *ctx)
{
	const char *ifname = ctx;
	struct wgdevice *dev = NULL;

	if (device_get(&dev, ifname))
		return;
	metrics_update_counters(m, dev);
	wgdevice_free(dev);
}

/* Create the interface if it is missing and give it our key and port. */
static int ensure_interface(struct agent *a)
{
	const struct agent_options *o = a->o;
	struct wgdevice *dev = NULL, set = { 0 };
	struct ip_prefix addrs[NODE_MAX_TUNNEL_IPS];
	char err[256] = "";
	int ret;

	if (device_kind(o->ifname) == DATAPATH_NONE && o->datapath_external)
		return -EAGAIN;
	if (device_kind(o->ifname) == DATAPATH_NONE) {
		enum datapath_kind used;

		ret = link_create(o->ifname, o->datapath, &used);
		if (ret) {
			log_err("%s: cannot create the WireGuard interface: %s", o->ifname, strerror(-ret));
			return ret;
		}
	}
	ret = device_get(&dev, o->ifname);
	if (ret) {
		log_err("%s: cannot read the device: %s", o->ifname, strerror(-ret));
		return ret;
	}
	/* Setting the same key again is harmless, but an unchanged device is left alone. */
	if (sodium_memcmp(dev->private_key, a->private_key, WG_KEY_LEN) || dev->listen_port != o->listen_port) {
		snprintf(set.name, sizeof(set.name), "%s", o->ifname);
		set.flags = WGDEVICE_HAS_PRIVATE_KEY | WGDEVICE_HAS_LISTEN_PORT;
		memcpy(set.private_key, a->private_key, WG_KEY_LEN);
		set.listen_port = o->listen_port;
		ret = device_set(&set, err, sizeof(err));
		sodium_memzero(set.private_key, WG_KEY_LEN);
		if (ret) {
			log_err("%s: cannot set the private key and port: %s%s%s", o->ifname, strerror(-ret),
				err[0] ? ": " : "", err);
			wgdevice_free(dev);
			return ret;
		}
	}
	wgdevice_free(dev);
	/* The tunnel address with the tunnel CIDR's length: the kernel's subnet route then sends
	 * every tunnel address (other nodes, clients) into the interface. */
	for (size_t i = 0; i < a->self.n_tunnel_ips; i++) {
		addrs[i].addr = a->self.tunnel_ips[i];
		addrs[i].cidr = a->self.tunnel_ips[i].family == AF_INET6 ? o->tunnel_cidr6.cidr : o->tunnel_cidr.cidr;
	}
	ret = iface_configure(o->ifname, addrs, a->self.n_tunnel_ips, a->self.mtu);
	if (ret)
		log_err("%s: cannot configure address/MTU/up: %s", o->ifname, strerror(-ret));
	pthread_mutex_lock(&a->metrics.lock);
	snprintf(a->metrics.datapath, sizeof(a->metrics.datapath), "%s", datapath_kind_name(device_kind(o->ifname)));
	pthread_mutex_unlock(&a->metrics.lock);
	return ret;
}

struct pass {
	struct node *nodes;
	size_t n_nodes, skipped;
	struct node stored_self;
	struct wgdevice *dev;
	const char **endpoints, **hints;
	struct ip_prefix *routes;
	struct mesh_index index;
};

static void pass_free(struct pass *p)
{
	mesh_free(p->nodes, p->n_nodes);
	node_clear(&p->stored_self);
	wgdevice_free(p->dev);
	free(p->endpoints);
	free(p->hints);
	free(p->routes);
	mesh_index_free(&p->index);
}

/* The cluster's pools on our own record again, when it was lost with the rest (a Node
 * registered again); a refusal (other pools in the store) was logged at the start. */
static void pools_republish(struct agent *a)
{
	const struct agent_options *o = a->o;
	const struct cluster_pools mine = addresses_pools(o);
	struct cluster_pools stored;
	char err[256] = "";
	int ret = cluster_pools_publish(a->store, &mine, &stored, err, sizeof(err));

	if (ret && ret != -ENOTUNIQ && ret != -EBADMSG)
		store_state(a, ret, "pools");
}

/* This node's pod CIDRs leave the cluster with the node's address; the cluster's pod ranges
 * (both pools, the gateway ranges) are reached as they are. At startup before the CNI config
 * is written, so the first pod already has it, and again when the pod CIDRs change. */
static int apply_masquerade(struct agent *a)
{
	const struct agent_options *o = a->o;
	struct ip_prefix cluster[2 + CLUSTER_GATEWAY_RANGES_MAX];
	size_t n = 0;
	char why[256];
	int ret;

	cluster[n++] = o->cluster_cidr;
	if (o->has_cluster_cidr6)
		cluster[n++] = o->cluster_cidr6;
	for (size_t i = 0; i < o->n_gateway_ranges; i++)
		cluster[n++] = o->gateway_ranges[i];
	ret = masquerade_apply(a->self.pod_cidrs, a->self.n_pod_cidrs, cluster, n, why, sizeof(why));
	if (ret) {
		log_err("masquerade: cannot set up nftables table inet %s: %s (or run with --masquerade off)",
			MASQUERADE_TABLE, why);
		return ret;
	}
	log_info("masquerade: pods leave the cluster's pod ranges with this node's address (table inet %s)",
		 MASQUERADE_TABLE);
	return 0;
}

/* " (n2, n3)": the peers @update removes, by the names they had at the last pass (their
 * records are gone from the store now); one that pass did not know is shown by its key. */
static void removed_peer_names(struct agent *a, const struct wgdevice *update, char *out, size_t len)
{
	const struct wgpeer *peer;
	size_t used = 0;

	pthread_mutex_lock(&a->metrics.lock);
	for_each_wgpeer(update, peer) {
		char key[WG_KEY_LEN_BASE64];
		const char *name = key;
		int n;

		if (!(peer->flags & WGPEER_REMOVE_ME))
			continue;
		key_to_base64(key, peer->public_key);
		for (size_t i = 0; i < a->metrics.n_peers; i++)
			if (!strcmp(a->metrics.peers[i].public_key, key))
				name = a->metrics.peers[i].name;
		n = snprintf(out + used, len - used, "%s%s", used ? ", " : " (", name);
		if (n < 0 || (size_t)n >= len - used - 1) {
			out[used] = '\0';
			break;
		}
		used += (size_t)n;
	}
	pthread_mutex_unlock(&a->metrics.lock);
	if (used)
		snprintf(out + used, len - used, ")");
}

/* SIGTERM: the interface and routes stay, and with etcd the record must outlive its lease
 * too, or the other nodes drop this node's peer and routes while it restarts. */
static void keep_record_for_restart(struct agent *a, unsigned int signo)
{
	const struct agent_options *o = a->o;
	char key[STORE_KEY_MAX];
	int ret;

	if (!o->restart_grace || !a->published.text) {
		log_info("signal %u: exiting, %s and its routes stay up", signo, o->ifname);
		return;
	}
	snprintf(key, sizeof(key), STORE_NODES_PREFIX "%s", o->name);
	/* A store already known to be down is not waited for: the exit stays prompt. */
	if (a->store_up || !a->store->ops->linger || o->lease_ttl <= 0)
		ret = store_linger(a->store, key, a->published.text, o->restart_grace);
	else
		ret = -EHOSTUNREACH;
	if (ret > 0)
		log_info("signal %u: exiting, %s and its routes stay up; the record of node %s stays in the store "
			 "%d s (--restart-grace), so the other nodes keep it while podwired restarts", signo, o->ifname,
			 o->name, o->restart_grace);
	else if (ret < 0)
		log_warn("signal %u: exiting, %s and its routes stay up, but the record of node %s could not be "
			 "kept past its lease (%s): the other nodes drop it --lease-ttl seconds after the last heartbeat",
			 signo, o->ifname, o->name, strerror(-ret));
	else
		log_info("signal %u: exiting, %s and its routes stay up", signo, o->ifname);
}

/* One reconcile: store → validated nodes → incremental device update → routes →
 * write-back of our own record. Returns 0, or -errno with the store or device error. */
static int reconcile_pass(struct agent *a)
{
	const struct agent_options *o = a->o;
	struct ip_prefix clusters[2] = { o->cluster_cidr, o->cluster_cidr6 }, tunnels[2] = { o->tunnel_cidr, o->tunnel_cidr6 };
	struct mesh_policy pol = {
		.self = &a->self, .cluster_cidrs = clusters, .n_cluster_cidrs = o->has_cluster_cidr6 ? 2 : 1,
		.tunnel_cidrs = tunnels, .n_tunnel_cidrs = o->has_tunnel_cidr6 ? 2 : 1, .skip = note_skip, .skip_ctx = a,
		.gateway_ranges = o->gateway_ranges, .n_gateway_ranges = o->n_gateway_ranges,
		.claims_seen = &a->claims_seen, .records_seen = &a->records_seen, .holders = &a->holders,
	};
	struct store_kv *claims = NULL;
	size_t n_claims = 0;
	struct reconcile_input in = { 0 };
	struct reconcile_counts counts;
	struct wgdevice *update = NULL;
	struct store_kv *kvs = NULL;
	struct pass p = { 0 };
	struct metrics_peer *peers;
	size_t n_kvs = 0, n_routes = 0, added, removed;
	char err[256] = "";
	double t0 = monotonic();
	bool reclaimed = false;
	int ret;

	ret = store_list(a->store, STORE_NODES_PREFIX, &kvs, &n_kvs);
	if (!ret)
		ret = store_list(a->store, STORE_ALLOC_PREFIX, &claims, &n_claims);
	/* Reachable again only once the pass wrote what it had to (the "put" below): a store
	 * that lists from a cache and refuses writes would otherwise flap in the log. */
	if (ret) {
		store_state(a, ret, "list");
		store_kvs_free(kvs, n_kvs);
		return ret;
	}
	a->mesh_known = true;
	pol.claims = claims;
	pol.n_claims = n_claims;
	ret = mesh_build(kvs, n_kvs, &pol, &p.nodes, &p.n_nodes, &p.skipped, &p.stored_self);
	store_kvs_free(kvs, n_kvs);
	/* Our claims must stand in the store for peers to accept our record. */
	if (!ret) {
		int cret = addresses_reclaim(o, a->store, &a->self, claims, n_claims);

		store_state(a, cret < 0 ? cret : 0, "address claim");
		reclaimed = cret > 0;
	}
	store_kvs_free(claims, n_claims);
	string_set_clear(&a->skips_logged);
	a->skips_logged = a->skips_now;
	memset(&a->skips_now, 0, sizeof(a->skips_now));
	if (ret)
		goto out;
	ret = device_get(&p.dev, o->ifname);
	if (ret == -ENODEV || ret == -ENOENT) {
		/* The interface vanished (a userspace datapath crashed?): bring it back, or with an
		 * external datapath wait for its holder to. */
		log_warn("%s: interface is gone, %s", o->ifname,
			 o->datapath_external ? "waiting for the datapath (--datapath external) to make it again" :
			 "recreating it");
		ret = ensure_interface(a);
		if (!ret)
			ret = device_get(&p.dev, o->ifname);
	}
	/* A device without our key was made anew under us (an external datapath restarted, or
	 * someone ran ip link del/add): give it key, port, addresses and MTU again. */
	if (!ret && (sodium_memcmp(p.dev->private_key, a->private_key, WG_KEY_LEN) ||
		     p.dev->listen_port != o->listen_port)) {
		log_warn("%s: the device does not carry this node's key or port (made again?): configuring it",
			 o->ifname);
		wgdevice_free(p.dev);
		p.dev = NULL;
		ret = ensure_interface(a);
		if (!ret)
			ret = device_get(&p.dev, o->ifname);
	}
	if (ret) {
		log_err("%s: cannot read the device: %s", o->ifname, strerror(-ret));
		goto out;
	}
	p.endpoints = calloc(p.n_nodes + 1, sizeof(*p.endpoints));
	p.hints = calloc(p.n_nodes + 1, sizeof(*p.hints));
	p.routes = calloc(p.n_nodes * NODE_MAX_POD_CIDRS + 1, sizeof(*p.routes));
	if (!p.endpoints || !p.hints || !p.routes) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < p.n_nodes; i++) {
		p.endpoints[i] = p.nodes[i].endpoint[0] ? p.nodes[i].endpoint : NULL;
		p.hints[i] = mesh_observed_endpoint(&p.nodes[i], p.nodes, p.n_nodes, a->self.public_key);
		for (size_t j = 0; j < p.nodes[i].n_pod_cidrs; j++)
			p.routes[n_routes++] = p.nodes[i].pod_cidrs[j];
	}
	in = (struct reconcile_input){
		.current = p.dev, .nodes = p.nodes, .n_nodes = p.n_nodes, .endpoints = p.endpoints, .hints = p.hints,
		.now = now_seconds(), .persistent_keepalive = o->persistent_keepalive, .resolve = endpoint_cache_resolve,
		.resolve_ctx = a->endpoints,
	};
	endpoint_cache_begin_pass(a->endpoints);
	ret = reconcile_plan(&in, &a->applied, &update, &counts);
	if (ret)
		goto out;
	if (update) {
		ret = device_set(update, err, sizeof(err));
		if (ret) {
			log_err("%s: cannot update peers: %s%s%s", o->ifname, strerror(-ret), err[0] ? ": " : "", err);
			goto out;
		}
		reconcile_commit(&a->applied, update, in.now);
	}
	ret = iface_sync_routes(o->ifname, p.routes, n_routes, &added, &removed);
	if (update || added || removed) {
		char gone[256] = "";

		if (counts.removed)
			removed_peer_names(a, update, gone, sizeof(gone));
		log_info("%s: peers: %zu added, %zu removed%s, %zu updated, %zu unchanged; routes: %zu added, %zu removed (%.3f s)",
			 o->ifname, counts.added, counts.removed, gone, counts.updated, counts.unchanged, added, removed,
			 monotonic() - t0);
	}
	if (ret)
		goto out;
	ret = mesh_index_build(&p.index, p.nodes, p.n_nodes);
	if (ret)
		goto out;
	peers = metrics_peers_build(p.dev, p.nodes, &p.index);
	if (peers)
		metrics_set_peers(&a->metrics, peers, p.n_nodes);
	ret = addresses_follow_assigned(o, a->store, &a->self, &p.stored_self);
	if (ret < 0)
		goto out;
	if (ret > 0) {
		publish_forget(&a->published);
		/* The pod CIDRs may have changed (the cluster assigned others): the NAT follows. */
		if (o->masquerade)
			apply_masquerade(a);
	}
	ret = 0;
	/* Our record: republish when it is missing or stale in the store (deleted, lease lost
	 * during an outage), when our observations changed, or for the heartbeat. */
	{
		bool observed_changed = observed_update(&a->self, p.dev, &p.index, now_seconds());
		bool missing = !p.stored_self.name[0] ||
			       sodium_memcmp(p.stored_self.public_key, a->self.public_key, WG_KEY_LEN);
		int pret;

		/* A Node registered again has lost the pools too: carry them again. */
		if (missing || reclaimed)
			pools_republish(a);
		pret = publish(a, missing || observed_changed || reclaimed);

		store_state(a, pret, "put");
		if (pret)
			ret = pret;
	}
out:
	wgdevice_free(update);
	pthread_mutex_lock(&a->metrics.lock);
	a->metrics.reconcile_total++;
	if (ret)
		a->metrics.reconcile_errors++;
	a->metrics.records_skipped = p.skipped;
	a->metrics.reconcile_seconds_last = monotonic() - t0;
	a->metrics.reconcile_seconds_sum += a->metrics.reconcile_seconds_last;
	pthread_mutex_unlock(&a->metrics.lock);
	log_debug("reconcile: %zu nodes, %.3f s", p.n_nodes, monotonic() - t0);
	pass_free(&p);
	return ret;
}

/* Load the key into the agent only when it loads and derives completely: a failed reload
 * (a key file caught mid-rewrite, a failing key command) keeps the key in use. */
static int load_key(struct agent *a)
{
	uint8_t key[WG_KEY_LEN], pub[WG_KEY_LEN];
	char err[256] = "";
	int ret = nodekey_load(&a->o->key, key, err, sizeof(err));

	if (ret)
		log_err("private key: %s", err);
	else if (!(ret = key_public_from_private(pub, key))) {
		memcpy(a->private_key, key, WG_KEY_LEN);
		memcpy(a->self.public_key, pub, WG_KEY_LEN);
	}
	sodium_memzero(key, sizeof(key));
	return ret;
}

/* SIGHUP: a new key on disk means a rotation. */
static void reload_key(struct agent *a)
{
	uint8_t old_pub[WG_KEY_LEN];

	memcpy(old_pub, a->self.public_key, WG_KEY_LEN);
	if (load_key(a))
		return;
	if (!sodium_memcmp(old_pub, a->self.public_key, WG_KEY_LEN))
		return;
	log_info("private key changed: rotating");
	if (ensure_interface(a) == 0)
		store_state(a, publish(a, true), "put");
}

/* A retry pause of startup that SIGTERM/SIGINT end: a pod deleted while its node waits for
 * the API or a pod CIDR must stop at once, not at kubelet's SIGKILL. 1: asked to stop. */
static int pause_or_stop(int sfd, unsigned int seconds)
{
	struct pollfd pfd = { .fd = sfd, .events = POLLIN };
	struct signalfd_siginfo si;

	if (poll(&pfd, 1, (int)seconds * 1000) <= 0 || !(pfd.revents & POLLIN))
		return 0;
	if (read(sfd, &si, sizeof(si)) == sizeof(si) && (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)) {
		log_info("signal %u while starting: exiting", si.ssi_signo);
		return 1;
	}
	return 0;
}

/* Our endpoint: --endpoint, else what the store says of this node (the Kubernetes Node's
 * InternalIP, as kubelet reports it), else the first address of the host. */
static void endpoint_choose(struct agent *a)
{
	const struct agent_options *o = a->o;
	char addr[NODE_ENDPOINT_MAX] = "";
	struct ip_addr ip;
	int ret = -ENOENT;

	if (o->endpoint) {
		snprintf(a->self.endpoint, sizeof(a->self.endpoint), "%s", o->endpoint);
		return;
	}
	if (a->store->ops->node_address)
		ret = a->store->ops->node_address(a->store, o->name, o->endpoint_from, addr, sizeof(addr));
	if (!ret && !ip_addr_parse(&ip, addr))
		snprintf(a->self.endpoint, sizeof(a->self.endpoint), ip.family == AF_INET6 ? "[%s]:%u" : "%s:%u", addr,
			 o->listen_port);
	else if (!ret)
		snprintf(a->self.endpoint, sizeof(a->self.endpoint), "%s", addr);
	if (!ret) {
		log_info("endpoint %s: the %s of this node in the store", a->self.endpoint, o->endpoint_from);
		return;
	}
	if (a->store->ops->node_address)
		log_warn("the store has no %s for this node (%s): detecting the endpoint", o->endpoint_from,
			 strerror(-ret));
	if (iface_detect_endpoint(o->ifname, o->listen_port, a->self.endpoint, sizeof(a->self.endpoint)))
		log_warn("no address found to advertise; peers must learn this node's endpoint by roaming");
}

/* --mtu, else the underlay's at our endpoint address minus the tunnel's overhead, as wg-quick
 * does (the route MTU towards the peers, which share the node's underlay). Chosen once: pods
 * get it when they are created (the CNI config and the interface carry it). */
static void mtu_choose(struct agent *a)
{
	char host[NODE_ENDPOINT_MAX] = "", dev[IF_NAMESIZE + 8] = "";
	unsigned int underlay = 0;
	uint16_t port;

	if (a->o->mtu) {
		a->self.mtu = a->o->mtu;
		log_info("MTU %u (--mtu)", a->self.mtu);
		return;
	}
	if (a->self.endpoint[0] && !endpoint_split(a->self.endpoint, host, sizeof(host), &port))
		iface_underlay_mtu(host, &underlay, dev, sizeof(dev));
	a->self.mtu = iface_tunnel_mtu(underlay);
	if (underlay)
		log_info("MTU %u: the underlay's %u (%s, at %s) - 80 (--mtu overrides)", a->self.mtu, underlay, dev, host);
	else
		log_warn("MTU %u: the underlay's MTU at this node's address is unknown (--mtu sets it)", a->self.mtu);
}

static int startup(struct agent *a, int sfd)
{
	const struct agent_options *o = a->o;
	int ret;

	snprintf(a->self.name, sizeof(a->self.name), "%s", o->name);
	ret = load_key(a);
	if (ret)
		return ret;
	a->self.persistent_keepalive = o->persistent_keepalive;
	if (o->labels)
		snprintf(a->self.labels, sizeof(a->self.labels), "%s", o->labels);
	ret = store_open(&a->store, o->store_backend, o->store_location, o->lease_ttl);
	if (ret) {
		log_err("store %s %s: %s", o->store_backend, o->store_location, strerror(-ret));
		return ret;
	}
	a->store_up = true;
	endpoint_choose(a);
	mtu_choose(a);
	backoff_init(&a->retry, 1000, BACKOFF_MAX_SECONDS * 1000);
	/* Without our addresses there is nothing to publish: wait for the store. */
	for (unsigned int delay = 1;; delay = delay * 2 > BACKOFF_MAX_SECONDS ? BACKOFF_MAX_SECONDS : delay * 2) {
		ret = addresses_claim(o, a->store, &a->self);
		if (ret == -ENOSPC) {
			log_err("no free tunnel address or pod CIDR left in the cluster ranges");
			return ret;
		}
		if (ret == -EINVAL || ret == -EDOM)
			return ret;
		if (ret == -EAGAIN) {
			/* Not an outage: the Node has no pod CIDR yet. Kubelet keeps it NotReady while
			 * no CNI config exists, instead of wiring pods into a wrong range. */
			set_not_ready(a, "Node has no spec.podCIDRs and --pod-cidr-allocation is off: waiting for "
					 "the cluster to assign one (no CNI config written)");
			if (pause_or_stop(sfd, delay))
				return -EINTR;
			continue;
		}
		if (ret == -EADDRINUSE) {
			log_err("--tunnel-ip or --pod-cidr overlaps a block another node holds (store keys %s*)",
				STORE_ALLOC_PREFIX);
			return ret;
		}
		if (ret == -ENOTUNIQ || ret == -EBADMSG)
			return ret;
		store_state(a, ret, "address claim");
		if (!ret)
			break;
		if (pause_or_stop(sfd, delay))
			return -EINTR;
	}
	{
		char t[2][IP_ADDR_STRLEN] = { "", "" }, pc[2][IP_PREFIX_STRLEN] = { "", "" }, k[WG_KEY_LEN_BASE64];

		for (size_t i = 0; i < a->self.n_tunnel_ips; i++)
			ip_addr_format(&a->self.tunnel_ips[i], t[i], sizeof(t[i]));
		for (size_t i = 0; i < a->self.n_pod_cidrs; i++)
			ip_prefix_format(&a->self.pod_cidrs[i], pc[i], sizeof(pc[i]));
		key_to_base64(k, a->self.public_key);
		log_info("node %s: public key %s, tunnel %s%s%s, pod CIDR %s%s%s, endpoint %s", a->self.name, k, t[0],
			 t[1][0] ? " " : "", t[1], pc[0], pc[1][0] ? " " : "", pc[1],
			 a->self.endpoint[0] ? a->self.endpoint : "(none)");
	}
	/* An external datapath may start after us: wait for its interface. */
	for (unsigned int delay = 1; (ret = ensure_interface(a)) == -EAGAIN; delay = delay < 4 ? delay * 2 : 4) {
		set_not_ready(a, "waiting for the datapath (--datapath external) to create the interface");
		if (pause_or_stop(sfd, delay))
			return -EINTR;
	}
	if (ret)
		return ret;
	if (o->masquerade && (ret = apply_masquerade(a)))
		return ret;
	/* Only now: a runtime that finds the conflist wires pods into this node's range. */
	if (o->cni_conf_dir) {
		ret = cniconf_update(o->cni_conf_dir, o->cni_conf_template, o->ifname, a->self.mtu, a->self.pod_cidrs,
				     a->self.n_pod_cidrs);
		if (ret)
			return ret;
	}
	store_state(a, publish(a, true), "put");
	pthread_mutex_lock(&a->metrics.lock);
	a->metrics.ready = 1;
	a->metrics.not_ready[0] = '\0';
	pthread_mutex_unlock(&a->metrics.lock);
	return 0;
}

static int signals_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static void agent_free(struct agent *a)
{
	store_close(a->store);
	if (a->metrics_on)
		metrics_stop(&a->metrics);
	reconcile_state_free(&a->applied);
	endpoint_cache_free(a->endpoints);
	node_clear(&a->self);
	publish_forget(&a->published);
	string_set_clear(&a->skips_logged);
	string_set_clear(&a->skips_now);
	firstseen_free(&a->claims_seen);
	firstseen_free(&a->records_seen);
	claims_holders_free(&a->holders);
	sodium_memzero(a->private_key, WG_KEY_LEN);
}

int agent_run(const struct agent_options *o)
{
	struct agent a = { .o = o };
	struct debounce watch = { 0 };
	double next_resync, next_heartbeat;
	bool dirty = true, ready = false;
	int sfd, ret;

	metrics_init(&a.metrics, o->ifname, "none");
	a.metrics.refresh = refresh_metrics;
	a.metrics.refresh_ctx = (void *)o->ifname;
	/* Three missed resyncs (and a slow store's retries) before kubelet restarts us. */
	a.metrics.live_seconds = 3 * o->resync_seconds + 60;
	sfd = signals_fd();
	if (sfd < 0)
		return sfd;
	ret = endpoint_cache_new(&a.endpoints, o->resync_seconds);
	if (ret) {
		close(sfd);
		return ret;
	}
	if (o->metrics_listen && strcmp(o->metrics_listen, "off")) {
		ret = metrics_start(&a.metrics, o->metrics_listen);
		if (ret) {
			log_err("metrics: cannot listen on %s: %s", o->metrics_listen, strerror(-ret));
			close(sfd);
			metrics_stop(&a.metrics);
			endpoint_cache_free(a.endpoints);
			return ret;
		}
	}
	a.metrics_on = true;
	ret = startup(&a, sfd);
	if (ret == -EINTR) { /* stopped while waiting: nothing was changed, not a failure */
		ret = 0;
		goto out;
	}
	if (ret)
		goto out;
	next_resync = monotonic();
	next_heartbeat = monotonic() + o->heartbeat_seconds;
	for (;;) {
		struct pollfd pfd[2] = { { .fd = sfd, .events = POLLIN }, { .fd = store_watch_fd(a.store), .events = POLLIN } };
		double now = monotonic(), wake = next_resync < next_heartbeat ? next_resync : next_heartbeat;
		int timeout;

		wake = debounce_wake(&watch, wake);
		timeout = dirty ? 0 : (wake > now ? (int)((wake - now) * 1000) + 1 : 0);

		if (poll(pfd, pfd[1].fd >= 0 ? 2 : 1, timeout) < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
					keep_record_for_restart(&a, si.ssi_signo);
					ret = 0;
					break;
				}
				if (si.ssi_signo == SIGHUP) {
					reload_key(&a);
					dirty = true;
				}
			}
		}
		if (pfd[1].fd >= 0 && (pfd[1].revents & POLLIN)) {
			/* Broken watch (-EPIPE): the store came back, so look at everything. */
			if (store_watch_drain(a.store) != 0)
				debounce_change(&watch, monotonic());
		}
		now = monotonic();
		if (now >= next_heartbeat) {
			int hret = store_heartbeat(a.store);

			if (hret == -ENOENT) /* lease lost: the record must be written again */
				dirty = true, publish_forget(&a.published);
			else if (hret && a.store_up)
				store_state(&a, hret, "lease keepalive");
			next_heartbeat = now + (o->lease_ttl > 0 && (unsigned int)o->lease_ttl / 3 < o->heartbeat_seconds ?
							(unsigned int)o->lease_ttl / 3 : o->heartbeat_seconds);
		}
		pthread_mutex_lock(&a.metrics.lock);
		a.metrics.last_tick = now;
		pthread_mutex_unlock(&a.metrics.lock);
		if (dirty || now >= next_resync || debounce_due(&watch, now)) {
			int rret = reconcile_pass(&a);

			debounce_ran(&watch, monotonic());
			/* systemd's Type=notify: ready once published and reconciled; a no-op elsewhere. */
			if (!ready)
				ready = true, sd_notify(0, "READY=1");
			dirty = false;
			next_resync = monotonic() + (rret && !a.store_up ? a.backoff : o->resync_seconds);
		}
	}
out:
	sd_notify(0, "STOPPING=1");
	close(sfd);
	agent_free(&a);
	return ret;
}

/* The table goes whatever --masquerade says now (an earlier run may have made it); without
 * libnftables there is nothing to remove unless masquerade was asked for. */
static int remove_masquerade(const struct agent_options *o)
{
	char why[256];
	int ret = masquerade_remove(why, sizeof(why));

	if (ret == -ENOSYS && !o->masquerade) {
		log_info("masquerade: nothing to remove (%s)", why);
		return 0;
	}
	if (ret)
		log_warn("masquerade: cannot remove nftables table inet %s: %s", MASQUERADE_TABLE, why);
	else
		log_info("masquerade: nftables table inet %s removed", MASQUERADE_TABLE);
	return ret;
}

int agent_cleanup(const struct agent_options *o)
{
	struct store *s = NULL;
	char key[STORE_KEY_MAX];
	int ret = link_delete(o->ifname), sret, mret;

	if (ret && ret != -ENODEV)
		log_warn("%s: cannot delete the interface: %s", o->ifname, strerror(-ret));
	else
		log_info("%s: interface and its routes removed", o->ifname);
	if (o->cni_conf_dir) {
		int cret = cniconf_remove(o->cni_conf_dir, o->cni_conf_template);

		if (cret)
			log_warn("CNI config in %s: cannot remove: %s", o->cni_conf_dir, strerror(-cret));
		else
			log_info("CNI config in %s removed", o->cni_conf_dir);
		if (!ret || ret == -ENODEV)
			ret = cret;
	}
	mret = remove_masquerade(o);
	if (mret && (!ret || ret == -ENODEV))
		ret = mret;
	sret = store_open(&s, o->store_backend, o->store_location, 0);
	if (!sret) {
		struct store_kv *kvs = NULL;
		size_t n = 0;

		snprintf(key, sizeof(key), STORE_NODES_PREFIX "%s", o->name);
		sret = store_del(s, key);
		/* Give back every block this node holds. */
		if (!sret && !(sret = store_list(s, STORE_ALLOC_PREFIX, &kvs, &n)))
			for (size_t i = 0; i < n; i++)
				if (!strcmp(kvs[i].value, o->name))
					store_cas(s, kvs[i].key, o->name, NULL);
		store_kvs_free(kvs, n);
		store_close(s);
	}
	if (sret)
		log_warn("store: cannot remove node %s: %s", o->name, strerror(-sret));
	else
		log_info("node %s removed from the store", o->name);
	return ret && ret != -ENODEV ? ret : sret;
}
