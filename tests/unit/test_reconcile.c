/* The reconcile plan as a pure function: a resync of a correct device changes nothing, and
 * every difference becomes the smallest update (no REPLACE_PEERS, removals first). The
 * device is simulated by applying each plan to an in-memory struct wgdevice with wg's
 * merge rules. Endpoints observed by other nodes are only hints (test_hint_*); mesh_build's
 * handling of hostile records is in test_mesh.c. */
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
#include "tests/unit/node_fixture.h"

/* Node @i is named "n@i" (node_fixture.h). */
static void make_node(struct node *n, int i, const char *pod, const char *ep)
{
	char name[16];

	snprintf(name, sizeof(name), "n%d", i);
	node_fixture_make(n, name, i, pod, ep);
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
	const char *hints[8];
	int64_t now;
};

static struct wgdevice *plan(struct world *w, struct reconcile_counts *c)
{
	struct reconcile_input in = {
		.current = &w->dev, .nodes = w->nodes, .n_nodes = w->n, .endpoints = w->eps, .hints = w->hints,
		.now = w->now, .persistent_keepalive = 0, .resolve = resolve_literal,
	};
	struct wgdevice *u;

	for (size_t i = 0; i < w->n; i++)
		w->eps[i] = w->nodes[i].endpoint[0] ? w->nodes[i].endpoint : NULL;
	assert_int_equal(reconcile_plan(&in, &w->st, &u, c), 0);
	if (u) {
		apply(&w->dev, u);
		assert_int_equal(reconcile_commit(&w->st, u, w->now), 0);
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

static uint16_t port_of(const struct wgpeer *p)
{
	return ntohs(p->endpoint.addr4.sin_port);
}

/* An observed endpoint (any node may publish one) is tried only while the peer has no
 * working session, in turn with the advertised one; a session pins the endpoint. */
static void test_hint_only_without_session(void **state)
{
	struct world w = { .now = 100000 };
	struct reconcile_counts c;
	struct wgdevice *u;

	make_node(&w.nodes[0], 1, "10.244.1.0/24", "192.0.2.1:51820");
	w.n = 1;
	w.hints[0] = "198.51.100.9:4000";
	/* A new peer starts on what it advertises. */
	wgdevice_free(plan(&w, &c));
	assert_int_equal(port_of(w.dev.first_peer), 51820);
	/* No handshake yet, but not for long enough: stay. */
	w.now += RECONCILE_HINT_SECONDS - 1;
	assert_null(plan(&w, &c));
	/* Still nothing: try the observed one, then the advertised one again. */
	w.now += 1;
	u = plan(&w, &c);
	assert_non_null(u);
	wgdevice_free(u);
	assert_int_equal(port_of(w.dev.first_peer), 4000);
	w.now += RECONCILE_HINT_SECONDS;
	wgdevice_free(plan(&w, &c));
	assert_int_equal(port_of(w.dev.first_peer), 51820);
	/* A handshake came through from the advertised endpoint: a hostile hint changes nothing,
	 * however long it stays. */
	w.dev.first_peer->last_handshake_time.tv_sec = w.now;
	w.hints[0] = "203.0.113.66:6666";
	for (int i = 0; i < 10; i++) {
		w.now += RECONCILE_HINT_SECONDS;
		assert_null(plan(&w, &c));
	}
	assert_int_equal(port_of(w.dev.first_peer), 51820);
	/* Roaming moved the endpoint (authenticated packets from elsewhere): kept as well. */
	w.dev.first_peer->endpoint.addr4.sin_port = htons(7777);
	w.dev.first_peer->last_handshake_time.tv_sec = w.now;
	w.now += 60;
	assert_null(plan(&w, &c));
	assert_int_equal(port_of(w.dev.first_peer), 7777);
	/* The session died (no handshake for REJECT_AFTER_TIME): the endpoints are tried in
	 * turn again, the hint first as the advertised one was tried last. */
	w.now += RECONCILE_LIVE_SECONDS;
	wgdevice_free(plan(&w, &c));
	assert_int_equal(port_of(w.dev.first_peer), 6666);
	w.now += RECONCILE_HINT_SECONDS;
	wgdevice_free(plan(&w, &c));
	assert_int_equal(port_of(w.dev.first_peer), 51820);
	node_clear(&w.nodes[0]);
	free_peers(&w.dev);
	reconcile_state_free(&w.st);
}

/* After a restart, a peer whose session works keeps its endpoint even when a hint differs. */
static void test_hint_restart(void **state)
{
	struct world w = { .now = 5000 };
	struct reconcile_counts c;

	make_node(&w.nodes[0], 1, "10.244.1.0/24", "192.0.2.1:51820");
	w.n = 1;
	wgdevice_free(plan(&w, &c));
	reconcile_state_free(&w.st);
	w.dev.first_peer->endpoint.addr4.sin_port = htons(1234);
	w.dev.first_peer->last_handshake_time.tv_sec = w.now - 10;
	w.hints[0] = "203.0.113.66:6666";
	assert_null(plan(&w, &c));
	assert_int_equal(port_of(w.dev.first_peer), 1234);
	node_clear(&w.nodes[0]);
	free_peers(&w.dev);
	reconcile_state_free(&w.st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_converge_and_resync),
		cmocka_unit_test(test_leave_and_rotate),
		cmocka_unit_test(test_restart_touches_nothing),
		cmocka_unit_test(test_hint_only_without_session),
		cmocka_unit_test(test_hint_restart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
