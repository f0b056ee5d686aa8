/* The reconcile plan as a pure function: a resync of a correct device changes nothing, and
 * every difference becomes the smallest update (no REPLACE_PEERS, removals first). The
 * device is simulated by applying each plan to an in-memory struct wgdevice with wg's
 * merge rules. Also mesh_build's handling of hostile records. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/mesh.h"
#include "daemon/reconcile.h"

static void make_node(struct node *n, int i, const char *pod, const char *ep)
{
	uint8_t priv[WG_KEY_LEN] = { 0 };
	char ip[32];

	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "n%d", i);
	priv[2] = (uint8_t)i;
	priv[1] = 7;
	key_clamp(priv);
	assert_int_equal(key_public_from_private(n->public_key, priv), 0);
	snprintf(ip, sizeof(ip), "10.99.0.%d", i);
	assert_int_equal(ip_addr_parse(&n->tunnel_ips[0], ip), 0);
	n->n_tunnel_ips = 1;
	if (pod) {
		assert_int_equal(ip_prefix_parse(&n->pod_cidrs[0], pod), 0);
		n->n_pod_cidrs = 1;
	}
	if (ep)
		snprintf(n->endpoint, sizeof(n->endpoint), "%s", ep);
}

static int resolve_literal(const char *endpoint, wg_endpoint *out, void *ctx)
{
	return reconcile_resolve_default(endpoint, out, ctx);
}

/* Apply @u to @dev as the kernel would (only what the plan uses). */
static void apply(struct wgdevice *dev, const struct wgdevice *u)
{
	const struct wgpeer *up;

	assert_false(u->flags & WGDEVICE_REPLACE_PEERS);
	for_each_wgpeer(u, up) {
		struct wgpeer *p, *prev = NULL;

		for (p = dev->first_peer; p; prev = p, p = p->next_peer)
			if (!memcmp(p->public_key, up->public_key, WG_KEY_LEN))
				break;
		if (up->flags & WGPEER_REMOVE_ME) {
			assert_non_null(p);
			if (prev)
				prev->next_peer = p->next_peer;
			else
				dev->first_peer = p->next_peer;
			if (dev->last_peer == p)
				dev->last_peer = prev;
			p->next_peer = NULL;
			wgdevice_free_peer(p);
			continue;
		}
		if (!p) {
			assert_false(up->flags & WGPEER_UPDATE_ONLY);
			p = wgdevice_add_peer(dev);
			memcpy(p->public_key, up->public_key, WG_KEY_LEN);
		}
		if (up->flags & WGPEER_REPLACE_ALLOWEDIPS) {
			struct wgallowedip *a, *next;

			for (a = p->first_allowedip; a; a = next) {
				next = a->next_allowedip;
				free(a);
			}
			p->first_allowedip = p->last_allowedip = NULL;
		}
		for (struct wgallowedip *a = up->first_allowedip; a; a = a->next_allowedip)
			wgdevice_add_allowedip(p, &a->prefix);
		if (up->flags & WGPEER_HAS_PERSISTENT_KEEPALIVE_INTERVAL)
			p->persistent_keepalive_interval = up->persistent_keepalive_interval;
		if (up->endpoint.addr.sa_family)
			p->endpoint = up->endpoint;
	}
}

static size_t count_peers(const struct wgdevice *d)
{
	size_t n = 0;
	const struct wgpeer *p;

	for_each_wgpeer(d, p)
		n++;
	return n;
}

struct world {
	struct wgdevice dev;
	struct reconcile_state st;
	struct node nodes[8];
	size_t n;
	const char *eps[8];
};

static struct wgdevice *plan(struct world *w, struct reconcile_counts *c)
{
	struct reconcile_input in = {
		.current = &w->dev, .nodes = w->nodes, .n_nodes = w->n, .endpoints = w->eps,
		.persistent_keepalive = 0, .resolve = resolve_literal,
	};
	struct wgdevice *u;

	for (size_t i = 0; i < w->n; i++)
		w->eps[i] = w->nodes[i].endpoint[0] ? w->nodes[i].endpoint : NULL;
	assert_int_equal(reconcile_plan(&in, &w->st, &u, c), 0);
	if (u) {
		apply(&w->dev, u);
		assert_int_equal(reconcile_commit(&w->st, u), 0);
	}
	return u;
}

static void test_converge_and_resync(void **state)
{
	struct world w = { 0 };
	struct reconcile_counts c;
	struct wgdevice *u;
	struct wgpeer *p;
	char buf[64];

	snprintf(w.dev.name, sizeof(w.dev.name), "pnwg0");
	make_node(&w.nodes[0], 1, "10.244.1.0/24", "192.0.2.1:51820");
	make_node(&w.nodes[1], 2, "10.244.2.0/24", "[2001:db8::2]:51820");
	make_node(&w.nodes[2], 3, NULL, NULL); /* a client: no endpoint, no pods */
	w.n = 3;
	u = plan(&w, &c);
	assert_non_null(u);
	assert_int_equal(c.added, 3);
	wgdevice_free(u);
	assert_int_equal(count_peers(&w.dev), 3);
	p = w.dev.first_peer;
	ip_prefix_format(&p->first_allowedip->prefix, buf, sizeof(buf));
	assert_string_equal(buf, "10.99.0.1/32");
	ip_prefix_format(&p->first_allowedip->next_allowedip->prefix, buf, sizeof(buf));
	assert_string_equal(buf, "10.244.1.0/24");
	assert_int_equal(p->endpoint.addr.sa_family, AF_INET);
	assert_int_equal(ntohs(p->endpoint.addr4.sin_port), 51820);
	/* A resync of a converged device plans nothing at all. */
	assert_null(plan(&w, &c));
	assert_int_equal(c.unchanged, 3);
	/* Roaming moved an endpoint: the daemon does not fight it. */
	w.dev.first_peer->endpoint.addr4.sin_port = htons(40000);
	assert_null(plan(&w, &c));
	/* But a new endpoint in the store is applied (the DNS name moved). */
	snprintf(w.nodes[0].endpoint, sizeof(w.nodes[0].endpoint), "192.0.2.100:51820");
	u = plan(&w, &c);
	assert_non_null(u);
	assert_int_equal(c.updated, 1);
	assert_true(u->first_peer->flags & WGPEER_UPDATE_ONLY);
	assert_false(u->first_peer->flags & WGPEER_REPLACE_ALLOWEDIPS); /* IPs unchanged */
	assert_null(u->first_peer->next_peer);
	wgdevice_free(u);
	/* Pod CIDR change: only that peer's allowed IPs. */
	assert_int_equal(ip_prefix_parse(&w.nodes[1].pod_cidrs[0], "10.244.9.0/24"), 0);
	u = plan(&w, &c);
	assert_int_equal(c.updated, 1);
	assert_int_equal(c.unchanged, 2);
	assert_true(u->first_peer->flags & WGPEER_REPLACE_ALLOWEDIPS);
	assert_int_equal(u->first_peer->endpoint.addr.sa_family, 0);
	wgdevice_free(u);
	assert_null(plan(&w, &c));
	wgdevice_free(NULL);
	for (size_t i = 0; i < w.n; i++)
		node_clear(&w.nodes[i]);
	/* dev is on the stack: free its peers only */
	while (w.dev.first_peer) {
		p = w.dev.first_peer;
		w.dev.first_peer = p->next_peer;
		p->next_peer = NULL;
		wgdevice_free_peer(p);
	}
	reconcile_state_free(&w.st);
}

static void free_peers(struct wgdevice *d)
{
	while (d->first_peer) {
		struct wgpeer *p = d->first_peer;

		d->first_peer = p->next_peer;
		p->next_peer = NULL;
		wgdevice_free_peer(p);
	}
	d->last_peer = NULL;
}

static void test_leave_and_rotate(void **state)
{
	struct world w = { 0 };
	struct reconcile_counts c;
	struct wgdevice *u;

	make_node(&w.nodes[0], 1, "10.244.1.0/24", "192.0.2.1:51820");
	make_node(&w.nodes[1], 2, "10.244.2.0/24", "192.0.2.2:51820");
	make_node(&w.nodes[2], 3, "10.244.3.0/24", "192.0.2.3:51820");
	w.n = 3;
	wgdevice_free(plan(&w, &c));
	/* n2 leaves. */
	w.nodes[1] = w.nodes[2];
	w.n = 2;
	u = plan(&w, &c);
	assert_int_equal(c.removed, 1);
	assert_int_equal(c.unchanged, 2);
	assert_true(u->first_peer->flags & WGPEER_REMOVE_ME);
	wgdevice_free(u);
	assert_int_equal(count_peers(&w.dev), 2);
	/* n3 rotates its key: old peer removed first, new one added with the same IPs. */
	w.nodes[1].public_key[5] ^= 0x40;
	u = plan(&w, &c);
	assert_int_equal(c.removed, 1);
	assert_int_equal(c.added, 1);
	assert_int_equal(c.unchanged, 1);
	assert_true(u->first_peer->flags & WGPEER_REMOVE_ME);
	assert_non_null(u->first_peer->next_peer);
	assert_false(u->first_peer->next_peer->flags & (WGPEER_REMOVE_ME | WGPEER_UPDATE_ONLY));
	wgdevice_free(u);
	assert_null(plan(&w, &c));
	free_peers(&w.dev);
	reconcile_state_free(&w.st);
}

/* After a restart (no applied state), live peers are left exactly as they are. */
static void test_restart_touches_nothing(void **state)
{
	struct world w = { 0 };
	struct reconcile_counts c;

	make_node(&w.nodes[0], 1, "10.244.1.0/24", "192.0.2.1:51820");
	make_node(&w.nodes[1], 2, "10.244.2.0/24", "192.0.2.2:51820");
	w.n = 2;
	wgdevice_free(plan(&w, &c));
	reconcile_state_free(&w.st);
	/* peer 1 roamed and has a session */
	w.dev.first_peer->endpoint.addr4.sin_port = htons(1234);
	w.dev.first_peer->last_handshake_time.tv_sec = 1000;
	assert_null(plan(&w, &c));
	assert_int_equal(c.unchanged, 2);
	free_peers(&w.dev);
	reconcile_state_free(&w.st);
}

static char *enc(const struct node *n)
{
	char *t;

	assert_int_equal(node_encode(n, &t), 0);
	return t;
}

static void test_mesh_hostile(void **state)
{
	struct node self, a, b, dup, overl, outside, *nodes, stored;
	struct store_kv kvs[8];
	struct ip_prefix cluster;
	size_t n, skipped;
	struct mesh_policy pol = { .self = &self, .cluster_cidrs = &cluster, .n_cluster_cidrs = 1 };

	assert_int_equal(ip_prefix_parse(&cluster, "10.244.0.0/16"), 0);
	make_node(&self, 1, "10.244.1.0/24", "192.0.2.1:1");
	make_node(&a, 2, "10.244.2.0/24", "192.0.2.2:1");
	make_node(&b, 3, "10.244.3.0/24", "192.0.2.3:1");
	make_node(&dup, 4, "10.244.4.0/24", NULL);
	memcpy(dup.public_key, self.public_key, WG_KEY_LEN); /* claims our key */
	make_node(&overl, 5, "10.244.3.0/25", NULL);		/* overlaps b */
	make_node(&outside, 6, "192.168.0.0/24", NULL);		/* outside the cluster */
	kvs[0] = (struct store_kv){ "nodes/n1", enc(&self), 0 };
	kvs[1] = (struct store_kv){ "nodes/n2", enc(&a), 0 };
	kvs[2] = (struct store_kv){ "nodes/n3", enc(&b), 0 };
	kvs[3] = (struct store_kv){ "nodes/n4", enc(&dup), 0 };
	kvs[4] = (struct store_kv){ "nodes/n5", enc(&overl), 0 };
	kvs[5] = (struct store_kv){ "nodes/n6", enc(&outside), 0 };
	kvs[6] = (struct store_kv){ "nodes/n7", strdup("[Peer]\nPublicKey = garbage\n"), 0 };
	kvs[7] = (struct store_kv){ "nodes/x9", enc(&a), 0 }; /* name differs from key */
	for (int i = 0; i < 8; i++)
		kvs[i].value_len = strlen(kvs[i].value);
	assert_int_equal(mesh_build(kvs, 8, &pol, &nodes, &n, &skipped, &stored), 0);
	assert_int_equal(n, 2);
	assert_string_equal(nodes[0].name, "n2");
	assert_string_equal(nodes[1].name, "n3");
	assert_int_equal(skipped, 5);
	assert_string_equal(stored.name, "n1");
	assert_string_equal(mesh_endpoint_for(&nodes[0], nodes, n, self.public_key), "192.0.2.2:1");
	/* n3 observes n2 behind NAT: everyone else should use that. */
	assert_int_equal(node_set_observed(&nodes[1], nodes[0].public_key, "198.51.100.7:3333"), 0);
	assert_string_equal(mesh_endpoint_for(&nodes[0], nodes, n, self.public_key), "198.51.100.7:3333");
	/* ...but not n3's own observation of itself, nor ours. */
	assert_string_equal(mesh_endpoint_for(&nodes[1], nodes, n, self.public_key), "192.0.2.3:1");
	mesh_free(nodes, n);
	node_clear(&stored);
	for (int i = 0; i < 8; i++)
		free(kvs[i].value);
}

/* Conflicts between other records: the one backed by the store's claims wins, whatever its
 * name; a second record with a known key loses. */
static void test_mesh_conflicts(void **state)
{
	struct node self, legit, squatter, twin, *nodes;
	struct store_kv kvs[3], claims[2];
	size_t n, skipped;
	struct mesh_policy pol = { .self = &self, .claims = claims, .n_claims = 2 };

	make_node(&self, 1, "10.244.1.0/24", NULL);
	make_node(&legit, 2, "10.244.2.0/24", NULL);
	snprintf(legit.name, sizeof(legit.name), "zz-legit");
	make_node(&squatter, 3, "10.244.2.0/23", NULL); /* covers legit's block */
	snprintf(squatter.name, sizeof(squatter.name), "aa-squat");
	make_node(&twin, 4, "10.244.8.0/24", NULL);
	memcpy(twin.public_key, legit.public_key, WG_KEY_LEN);
	snprintf(twin.name, sizeof(twin.name), "mm-twin");
	kvs[0] = (struct store_kv){ "nodes/aa-squat", enc(&squatter), 0 };
	kvs[1] = (struct store_kv){ "nodes/mm-twin", enc(&twin), 0 };
	kvs[2] = (struct store_kv){ "nodes/zz-legit", enc(&legit), 0 };
	for (int i = 0; i < 3; i++)
		kvs[i].value_len = strlen(kvs[i].value);
	claims[0] = (struct store_kv){ "alloc/10.244.2.0_24", "zz-legit", 8 };
	claims[1] = (struct store_kv){ "alloc/10.99.0.2_32", "zz-legit", 8 };
	assert_int_equal(mesh_build(kvs, 3, &pol, &nodes, &n, &skipped, NULL), 0);
	assert_int_equal(n, 1);
	assert_string_equal(nodes[0].name, "zz-legit");
	assert_int_equal(skipped, 2);
	mesh_free(nodes, n);
	for (int i = 0; i < 3; i++)
		free(kvs[i].value);
}

/* A record whose own ranges overlap is skipped: otherwise a later record overlapping it
 * would slip past the one-neighbour overlap check. */
static void test_mesh_self_overlap(void **state)
{
	struct node self, twofold, later, *nodes;
	struct store_kv kvs[2];
	struct ip_prefix cluster;
	size_t n, skipped;
	struct mesh_policy pol = { .self = &self, .cluster_cidrs = &cluster, .n_cluster_cidrs = 1 };

	assert_int_equal(ip_prefix_parse(&cluster, "10.244.0.0/16"), 0);
	make_node(&self, 1, "10.244.1.0/24", NULL);
	make_node(&twofold, 2, "10.244.128.0/17", NULL);
	assert_int_equal(ip_prefix_parse(&twofold.pod_cidrs[1], "10.244.130.0/24"), 0);
	twofold.n_pod_cidrs = 2;
	make_node(&later, 3, "10.244.140.0/24", NULL);
	kvs[0] = (struct store_kv){ "nodes/n2", enc(&twofold), 0 };
	kvs[1] = (struct store_kv){ "nodes/n3", enc(&later), 0 };
	for (int i = 0; i < 2; i++)
		kvs[i].value_len = strlen(kvs[i].value);
	assert_int_equal(mesh_build(kvs, 2, &pol, &nodes, &n, &skipped, NULL), 0);
	assert_int_equal(skipped, 1);
	assert_int_equal(n, 1);
	assert_string_equal(nodes[0].name, "n3");
	mesh_free(nodes, n);
	for (int i = 0; i < 2; i++)
		free(kvs[i].value);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_converge_and_resync),
		cmocka_unit_test(test_leave_and_rotate),
		cmocka_unit_test(test_restart_touches_nothing),
		cmocka_unit_test(test_mesh_hostile),
		cmocka_unit_test(test_mesh_conflicts),
		cmocka_unit_test(test_mesh_self_overlap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
