/* mesh_build against hostile store records: the allocation registry decides which node owns
 * which addresses (the earliest claim wins, never a name or a count), records count only with
 * what the registry gives them, a known public key cannot be taken over, and observations
 * of other nodes' endpoints are only reported as hints. Also firstseen's rounds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/claims.h"
#include "mesh/firstseen.h"
#include "mesh/mesh.h"
#include "tests/unit/node_fixture.h"

/* A store: records and claims, as store_list() returns them (sorted by key). */
struct fake_store {
	struct store_kv nodes[16], claims[32];
	size_t n_nodes, n_claims;
	char skips[16][512];
	size_t n_skips;
};

static int cmp_kv(const void *a, const void *b)
{
	return strcmp(((const struct store_kv *)a)->key, ((const struct store_kv *)b)->key);
}

static void put_node(struct fake_store *fs, const struct node *n)
{
	struct store_kv *kv = &fs->nodes[fs->n_nodes++];

	assert_int_equal(asprintf(&kv->key, "nodes/%s", n->name) > 0, 1);
	assert_int_equal(node_encode(n, &kv->value), 0);
	kv->value_len = strlen(kv->value);
	kv->created = 0;
	qsort(fs->nodes, fs->n_nodes, sizeof(fs->nodes[0]), cmp_kv);
}

static void put_claim(struct fake_store *fs, const char *block, const char *owner, uint64_t created)
{
	struct store_kv *kv = &fs->claims[fs->n_claims++];

	assert_int_equal(asprintf(&kv->key, "alloc/%s", block) > 0, 1);
	kv->value = strdup(owner);
	kv->value_len = strlen(owner);
	kv->created = created;
	qsort(fs->claims, fs->n_claims, sizeof(fs->claims[0]), cmp_kv);
}

/* A node as podwired would have it: record plus claims of its tunnel IP and pod CIDR. */
static void put_legit(struct fake_store *fs, const char *name, int i, const char *pod, const char *pod_key)
{
	struct node n;
	char tk[32];

	node_fixture_make(&n, name, i, pod, NULL);
	put_node(fs, &n);
	snprintf(tk, sizeof(tk), "10.99.0.%d_32", i);
	put_claim(fs, tk, name, 0);
	if (pod_key)
		put_claim(fs, pod_key, name, 0);
	node_clear(&n);
}

static void fake_store_free(struct fake_store *fs)
{
	for (size_t i = 0; i < fs->n_nodes; i++) {
		free(fs->nodes[i].key);
		free(fs->nodes[i].value);
	}
	for (size_t i = 0; i < fs->n_claims; i++) {
		free(fs->claims[i].key);
		free(fs->claims[i].value);
	}
}

static void note(void *ctx, const char *key, const char *why)
{
	struct fake_store *fs = ctx;

	if (fs->n_skips < 16)
		snprintf(fs->skips[fs->n_skips++], sizeof(fs->skips[0]), "%s: %s", key, why);
}

static bool skipped_with(const struct fake_store *fs, const char *key, const char *why)
{
	for (size_t i = 0; i < fs->n_skips; i++)
		if (!strncmp(fs->skips[i], key, strlen(key)) && strstr(fs->skips[i], why))
			return true;
	return false;
}

/* What a reader (podwired) has: its own record, the pools, its memory of earlier passes; and
 * the store it reads, with the names of the nodes the last build() accepted. */
struct world {
	struct fake_store fs;
	char accepted[256];
	struct node self;
	struct ip_prefix cluster, tunnel, gateway;
	struct mesh_policy pol;
	struct firstseen claims_seen, records_seen;
	struct claims_holders holders;
};

static void world_init(struct world *w, bool remember)
{
	memset(w, 0, sizeof(*w));
	node_fixture_make(&w->self, "self", 1, "10.244.1.0/24", NULL);
	assert_int_equal(ip_prefix_parse(&w->cluster, "10.244.0.0/16"), 0);
	assert_int_equal(ip_prefix_parse(&w->tunnel, "10.99.0.0/16"), 0);
	w->pol = (struct mesh_policy){
		.self = &w->self, .cluster_cidrs = &w->cluster, .n_cluster_cidrs = 1,
		.tunnel_cidrs = &w->tunnel, .n_tunnel_cidrs = 1, .skip = note,
		.claims_seen = remember ? &w->claims_seen : NULL, .records_seen = remember ? &w->records_seen : NULL,
		.holders = remember ? &w->holders : NULL,
	};
}

static void world_free(struct world *w)
{
	fake_store_free(&w->fs);
	node_clear(&w->self);
	firstseen_free(&w->claims_seen);
	firstseen_free(&w->records_seen);
	claims_holders_free(&w->holders);
}

/* Build from the store; the names of the accepted nodes, comma-separated, into w->accepted. */
static void build(struct world *w)
{
	struct fake_store *fs = &w->fs;
	struct node *nodes;
	size_t n, skipped;

	w->pol.claims = fs->claims;
	w->pol.n_claims = fs->n_claims;
	w->pol.skip_ctx = fs;
	fs->n_skips = 0;
	assert_int_equal(mesh_build(fs->nodes, fs->n_nodes, &w->pol, &nodes, &n, &skipped, NULL), 0);
	w->accepted[0] = 0;
	for (size_t i = 0; i < n; i++)
		snprintf(w->accepted + strlen(w->accepted), sizeof(w->accepted) - strlen(w->accepted), "%s%s",
			 i ? "," : "", nodes[i].name);
	mesh_free(nodes, n);
}

/* The victim, zz-victim (node 2), with its pod CIDR 10.244.2.0/24 claimed: accepted. */
static void put_victim(struct world *w)
{
	put_legit(&w->fs, "zz-victim", 2, "10.244.2.0/24", "10.244.2.0_24");
	build(w);
	assert_string_equal(w->accepted, "zz-victim");
}

/* The attacker, aa-evil (node 9), with its own tunnel address claimed and @pod in its record. */
static void put_evil(struct world *w, struct node *evil, const char *pod)
{
	node_fixture_make(evil, "aa-evil", 9, pod, NULL);
	put_node(&w->fs, evil);
	put_claim(&w->fs, "10.99.0.9_32", "aa-evil", 0);
}

/* Finding 1: a later claim of a sub-block (or a superset) of the victim's pod CIDR, with a
 * name that sorts first and more blocks than the victim, takes nothing. */
static void test_hijack_refused(void **state)
{
	const char *blocks[][2] = {
		{ "10.244.2.0/25", "10.244.2.0_25" },	/* inside the victim's */
		{ "10.244.0.0/16", "10.244.0.0_16" },	/* around it */
		{ "10.244.2.0/24", NULL },		/* the very block, unclaimed */
	};

	for (size_t b = 0; b < sizeof(blocks) / sizeof(blocks[0]); b++) {
		struct world w;
		struct node evil;

		world_init(&w, true);
		put_victim(&w);
		/* The attacker arrives: its own tunnel address, extra blocks, the victim's range. */
		put_evil(&w, &evil, blocks[b][0]);
		put_claim(&w.fs, "10.244.30.0_24", "aa-evil", 0);
		put_claim(&w.fs, "10.244.31.0_24", "aa-evil", 0);
		if (blocks[b][1])
			put_claim(&w.fs, blocks[b][1], "aa-evil", 0);
		build(&w);
		assert_string_equal(w.accepted, "zz-victim");
		assert_true(skipped_with(&w.fs, "nodes/aa-evil", "10.244."));
		if (blocks[b][1]) {
			char key[64];

			snprintf(key, sizeof(key), "alloc/%s", blocks[b][1]);
			assert_true(skipped_with(&w.fs, key, "of node zz-victim, claimed earlier"));
		} else {
			assert_true(skipped_with(&w.fs, "nodes/aa-evil", "is claimed by node zz-victim"));
		}
		/* And again on the next pass: the order is remembered, not recomputed by name. */
		build(&w);
		assert_string_equal(w.accepted, "zz-victim");
		node_clear(&evil);
		world_free(&w);
	}
}

/* Overlapping claims first seen together (a reader that just started) with no creation
 * order: neither is used, so the attacker still takes nothing. With etcd's create_revision
 * the earlier claim wins whatever the names. */
static void test_same_moment(void **state)
{
	for (int with_revision = 0; with_revision < 2; with_revision++) {
		struct world w;
		struct node evil;

		world_init(&w, false);
		put_legit(&w.fs, "zz-victim", 2, "10.244.2.0/24", NULL);
		put_claim(&w.fs, "10.244.2.0_24", "zz-victim", with_revision ? 10 : 0);
		put_evil(&w, &evil, "10.244.2.0/25");
		put_claim(&w.fs, "10.244.2.0_25", "aa-evil", with_revision ? 20 : 0);
		build(&w);
		assert_string_equal(w.accepted, with_revision ? "zz-victim" : "");
		assert_true(skipped_with(&w.fs, "alloc/10.244.2.0_25", with_revision ? "claimed earlier" :
				       "neither is known to be earlier"));
		node_clear(&evil);
		world_free(&w);
	}
}

/* Records may hold only pool addresses (or gateway ranges) the registry gives them. */
static void test_only_registry_addresses(void **state)
{
	struct world w;
	struct node n;

	world_init(&w, true);
	put_legit(&w.fs, "ok", 2, "10.244.2.0/24", "10.244.2.0_24");
	put_legit(&w.fs, "unclaimed", 3, "10.244.3.0/24", NULL);
	put_legit(&w.fs, "outside", 4, "8.0.0.0/8", "8.0.0.0_8");
	put_legit(&w.fs, "gateway", 5, "192.168.50.0/24", "192.168.50.0_24");
	node_fixture_make(&n, "badtunnel", 6, "10.244.6.0/24", NULL);
	assert_int_equal(ip_addr_parse(&n.tunnel_ips[0], "1.1.1.1"), 0);
	put_node(&w.fs, &n);
	put_claim(&w.fs, "10.244.6.0_24", "badtunnel", 0);
	put_claim(&w.fs, "1.1.1.1_32", "badtunnel", 0);
	node_clear(&n);
	build(&w);
	assert_string_equal(w.accepted, "ok");
	assert_true(skipped_with(&w.fs, "nodes/unclaimed", "not given to it by the allocation registry"));
	assert_true(skipped_with(&w.fs, "nodes/outside", "outside the cluster CIDR"));
	assert_true(skipped_with(&w.fs, "alloc/8.0.0.0_8", "outside the cluster and tunnel pools"));
	assert_true(skipped_with(&w.fs, "nodes/badtunnel", "tunnel IP 1.1.1.1 is outside the tunnel CIDR"));
	/* A gateway range given by hand lets the gateway's claimed LAN in. */
	assert_int_equal(ip_prefix_parse(&w.gateway, "192.168.0.0/16"), 0);
	w.pol.gateway_ranges = &w.gateway;
	w.pol.n_gateway_ranges = 1;
	build(&w);
	assert_string_equal(w.accepted, "gateway,ok");
	/* Without pools (a reader that does not know them) nothing is accepted. */
	w.pol.n_cluster_cidrs = w.pol.n_tunnel_cidrs = w.pol.n_gateway_ranges = 0;
	build(&w);
	assert_string_equal(w.accepted, "");
	world_free(&w);
}

/* A record that takes over a known node's public key, with addresses of its own, is
 * refused; the node keeps its key. Seen together with no order, neither is used. */
static void test_key_takeover(void **state)
{
	for (int remember = 0; remember < 2; remember++) {
		struct world w;
		struct node twin, victim;

		world_init(&w, remember);
		put_legit(&w.fs, "zz-victim", 2, "10.244.2.0/24", "10.244.2.0_24");
		if (remember) {
			build(&w);
			assert_string_equal(w.accepted, "zz-victim");
		}
		node_fixture_make(&victim, "zz-victim", 2, NULL, NULL);
		node_fixture_make(&twin, "aa-twin", 9, "10.244.9.0/24", NULL);
		memcpy(twin.public_key, victim.public_key, WG_KEY_LEN);
		put_node(&w.fs, &twin);
		put_claim(&w.fs, "10.99.0.9_32", "aa-twin", 0);
		put_claim(&w.fs, "10.244.9.0_24", "aa-twin", 0);
		build(&w);
		assert_string_equal(w.accepted, remember ? "zz-victim" : "");
		assert_true(skipped_with(&w.fs, "nodes/aa-twin", "same public key as node zz-victim"));
		node_clear(&twin);
		node_clear(&victim);
		world_free(&w);
	}
}

/* A writer that rewrites the victim's claim for itself, or deletes it and claims the block
 * anew, moves nothing while the victim's record lists the block: a running reader keeps it
 * with its holder. (A reader that starts afterwards cannot tell: README, trust model.) */
static void test_claim_rewritten(void **state)
{
	for (int deleted = 0; deleted < 2; deleted++) {
		struct world w;
		struct node evil;

		world_init(&w, true);
		put_victim(&w);
		for (size_t i = 0; i < w.fs.n_claims; i++) {
			if (strcmp(w.fs.claims[i].key, "alloc/10.244.2.0_24"))
				continue;
			if (deleted) { /* gone for one pass */
				free(w.fs.claims[i].key);
				free(w.fs.claims[i].value);
				w.fs.claims[i] = w.fs.claims[--w.fs.n_claims];
				qsort(w.fs.claims, w.fs.n_claims, sizeof(w.fs.claims[0]), cmp_kv);
				build(&w);
				assert_string_equal(w.accepted, "zz-victim");
				put_claim(&w.fs, "10.244.2.0_24", "aa-evil", 0);
			} else {
				free(w.fs.claims[i].value);
				w.fs.claims[i].value = strdup("aa-evil");
				w.fs.claims[i].value_len = 7;
			}
			break;
		}
		put_evil(&w, &evil, "10.244.2.0/24");
		build(&w);
		assert_string_equal(w.accepted, "zz-victim");
		assert_true(skipped_with(&w.fs, "alloc/10.244.2.0_24", "the block is node zz-victim's"));
		/* Once the victim's record gives the block up, the registry decides again. */
		w.fs.n_nodes = 0;
		for (size_t i = 0; i < 2; i++) {
			free(w.fs.nodes[i].key);
			free(w.fs.nodes[i].value);
		}
		put_node(&w.fs, &evil);
		build(&w);
		build(&w);
		assert_string_equal(w.accepted, "aa-evil");
		node_clear(&evil);
		world_free(&w);
	}
}

/* Claims the registry refuses on their own: a key that is not canonical, a bad owner. */
static void test_claim_shapes(void **state)
{
	struct fake_store fs = { 0 };
	struct claims reg;
	struct ip_prefix pools[2], p;

	assert_int_equal(ip_prefix_parse(&pools[0], "10.244.0.0/16"), 0);
	assert_int_equal(ip_prefix_parse(&pools[1], "10.99.0.0/16"), 0);
	put_claim(&fs, "10.244.1.7_24", "a", 0);	/* host bits: not canonical */
	put_claim(&fs, "10.244.2.0_24", "bad name!", 0);
	put_claim(&fs, "junk", "a", 0);
	put_claim(&fs, "10.244.3.0_24", "a", 0);
	assert_int_equal(claims_build(&reg, fs.claims, fs.n_claims, pools, 2, NULL, NULL, note, &fs), 0);
	assert_true(skipped_with(&fs, "alloc/10.244.1.7_24", "not the canonical key"));
	assert_true(skipped_with(&fs, "alloc/10.244.2.0_24", "not a node name"));
	assert_true(skipped_with(&fs, "alloc/junk", "names no block"));
	assert_int_equal(ip_prefix_parse(&p, "10.244.3.0/24"), 0);
	assert_non_null(claims_find(&reg, &p, NULL));
	assert_false(claims_find(&reg, &p, NULL)->refused);
	assert_int_equal(ip_prefix_parse(&p, "10.244.2.0/24"), 0);
	assert_true(claims_find(&reg, &p, NULL)->refused);
	claims_free(&reg);
	fake_store_free(&fs);
}

/* One block listed for two owners (the Kubernetes store lists a block once for each Node
 * claiming it): the older claim wins, of one moment neither does, and claims_find gives each
 * owner its own claim whatever the listing order. */
static void test_claim_two_owners(void **state)
{
	struct ip_prefix pools[1], p;

	assert_int_equal(ip_prefix_parse(&pools[0], "10.99.0.0/16"), 0);
	assert_int_equal(ip_prefix_parse(&p, "10.99.0.3/32"), 0);
	for (int older = 0; older < 3; older++) {
		struct fake_store fs = { 0 };
		struct claims reg;

		/* "aa" sorts before "n2": the name must not decide. created 1 = spec.podCIDRs. */
		put_claim(&fs, "10.99.0.3_32", "aa", older == 1 ? 1 : 2);
		put_claim(&fs, "10.99.0.3_32", "n2", older == 2 ? 1 : 2);
		assert_int_equal(claims_build(&reg, fs.claims, fs.n_claims, pools, 1, NULL, NULL, note, &fs), 0);
		assert_int_equal(reg.n, 2);
		assert_string_equal(claims_find(&reg, &p, "aa")->owner, "aa");
		assert_string_equal(claims_find(&reg, &p, "n2")->owner, "n2");
		assert_non_null(claims_find(&reg, &p, "other"));
		assert_true(claims_find(&reg, &p, "aa")->refused == (older != 1));
		assert_true(claims_find(&reg, &p, "n2")->refused == (older != 2));
		claims_free(&reg);
		fake_store_free(&fs);
	}
}

/* Rounds: kept while an id stays, new ids get the current round, gone ids are forgotten. */
static void test_firstseen(void **state)
{
	struct firstseen fs = { 0 };
	const char *r1[] = { "b", "a" }, *r2[] = { "c", "a", "a" }, *r3[] = { "b", "a" };
	uint64_t got[3];

	assert_int_equal(firstseen_update(&fs, r1, 2, got), 0);
	assert_int_equal(got[0], 1);
	assert_int_equal(got[1], 1);
	assert_int_equal(firstseen_update(&fs, r2, 3, got), 0);
	assert_int_equal(got[0], 2);
	assert_int_equal(got[1], 1);
	assert_int_equal(got[2], 1);
	assert_int_equal(fs.n, 2);
	assert_int_equal(firstseen_update(&fs, r3, 2, got), 0);
	assert_int_equal(got[0], 3); /* "b" was gone in round 2 */
	assert_int_equal(got[1], 1);
	assert_int_equal(firstseen_update(NULL, r3, 2, got), 0);
	assert_int_equal(got[0], 0);
	firstseen_free(&fs);
}

/* Observed endpoints come back only as hints, never for the observer itself or for us. */
static void test_observed_hint(void **state)
{
	struct node nodes[2], self;

	node_fixture_make(&self, "self", 1, NULL, NULL);
	node_fixture_make(&nodes[0], "n2", 2, NULL, "192.0.2.2:1");
	node_fixture_make(&nodes[1], "n3", 3, NULL, "192.0.2.3:1");
	assert_null(mesh_observed_endpoint(&nodes[0], nodes, 2, self.public_key));
	assert_int_equal(node_set_observed(&nodes[1], nodes[0].public_key, "198.51.100.7:3333"), 0);
	assert_string_equal(mesh_observed_endpoint(&nodes[0], nodes, 2, self.public_key), "198.51.100.7:3333");
	assert_int_equal(node_set_observed(&nodes[1], nodes[1].public_key, "198.51.100.8:1"), 0);
	assert_null(mesh_observed_endpoint(&nodes[1], nodes, 2, self.public_key));
	assert_null(mesh_observed_endpoint(&nodes[0], nodes, 2, nodes[1].public_key));
	node_clear(&nodes[0]);
	node_clear(&nodes[1]);
	node_clear(&self);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hijack_refused),
		cmocka_unit_test(test_same_moment),
		cmocka_unit_test(test_only_registry_addresses),
		cmocka_unit_test(test_key_takeover),
		cmocka_unit_test(test_claim_rewritten),
		cmocka_unit_test(test_claim_shapes),
		cmocka_unit_test(test_claim_two_owners),
		cmocka_unit_test(test_firstseen),
		cmocka_unit_test(test_observed_hint),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
