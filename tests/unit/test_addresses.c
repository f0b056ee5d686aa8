/* Claiming a node's tunnel addresses and pod CIDRs (against the real file store, which has
 * no Node.spec.podCIDRs): allocated from the pools or fixed, distinct between nodes, found
 * again on restart, -EAGAIN when allocation is off, a record that another writer changed is
 * written again without taking its pod CIDRs, and claims lost from the store (a Node
 * registered again) are made again, unless another node holds the block meanwhile. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/addresses.h"

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/pn-unit-addresses.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void expect_node(const struct node *n, const char *tunnel, const char *pod)
{
	char t[IP_ADDR_STRLEN], pc[IP_PREFIX_STRLEN];

	assert_int_equal(n->n_tunnel_ips, 1);
	assert_int_equal(n->n_pod_cidrs, 1);
	ip_addr_format(&n->tunnel_ips[0], t, sizeof(t));
	ip_prefix_format(&n->pod_cidrs[0], pc, sizeof(pc));
	assert_string_equal(t, tunnel);
	assert_string_equal(pc, pod);
}

static void test_claim(void **state)
{
	struct agent_options o;
	struct store *s = NULL;
	struct node a = { 0 }, b = { 0 }, again = { 0 }, c = { 0 };

	assert_int_equal(store_open(&s, "file", dir, 0), 0);
	agent_options_default(&o);
	o.name = "addr-a";
	/* Allocated: block 0 of the tunnel pool is the network's own address. */
	assert_int_equal(addresses_claim(&o, s, &a), 0);
	expect_node(&a, "10.99.0.1", "10.244.0.0/24");
	o.name = "addr-b";
	assert_int_equal(addresses_claim(&o, s, &b), 0);
	expect_node(&b, "10.99.0.2", "10.244.1.0/24");
	/* A restart finds its claims again. */
	o.name = "addr-a";
	assert_int_equal(addresses_claim(&o, s, &again), 0);
	expect_node(&again, "10.99.0.1", "10.244.0.0/24");
	/* Fixed ones: claimed as given; one another node holds is refused. */
	o.name = "addr-c";
	o.has_tunnel_ip = true;
	assert_int_equal(ip_addr_parse(&o.tunnel_ip, "10.99.7.7"), 0);
	o.has_pod_cidr = true;
	assert_int_equal(ip_prefix_parse(&o.pod_cidr, "10.244.9.0/24"), 0);
	assert_int_equal(addresses_claim(&o, s, &c), 0);
	expect_node(&c, "10.99.7.7", "10.244.9.0/24");
	assert_int_equal(ip_prefix_parse(&o.pod_cidr, "10.244.1.0/24"), 0);
	assert_int_equal(addresses_claim(&o, s, &c), -EADDRINUSE);
	/* Pools other than the cluster's are refused before anything is claimed. */
	agent_options_default(&o);
	o.name = "addr-d";
	assert_int_equal(ip_prefix_parse(&o.cluster_cidr, "10.245.0.0/16"), 0);
	assert_true(addresses_claim(&o, s, &c) < 0);
	store_close(s);
}

static void test_allocation_off(void **state)
{
	struct agent_options o;
	struct store *s = NULL;
	struct node n = { 0 };

	assert_int_equal(store_open(&s, "file", dir, 0), 0);
	agent_options_default(&o);
	o.name = "addr-off";
	o.pod_cidr_allocation = false;
	/* The file store assigns no pod CIDRs: wait for one, with the tunnel address held. */
	assert_int_equal(addresses_claim(&o, s, &n), -EAGAIN);
	assert_int_equal(n.n_tunnel_ips, 1);
	assert_int_equal(n.n_pod_cidrs, 0);
	store_close(s);
}

static void test_follow(void **state)
{
	struct agent_options o;
	struct store *s = NULL;
	struct node self = { 0 }, stored = { 0 };

	assert_int_equal(store_open(&s, "file", dir, 0), 0);
	agent_options_default(&o);
	o.name = "addr-f";
	snprintf(self.name, sizeof(self.name), "%s", o.name);
	assert_int_equal(addresses_claim(&o, s, &self), 0);
	/* The store shows our record as we wrote it, or none: nothing to do. */
	stored = self;
	assert_int_equal(addresses_follow_assigned(&o, s, &self, &stored), 0);
	memset(&stored, 0, sizeof(stored));
	assert_int_equal(addresses_follow_assigned(&o, s, &self, &stored), 0);
	/* Another writer changed our pod CIDR, and the cluster assigned none: ours stays, and
	 * our record must be written again. */
	stored = self;
	assert_int_equal(ip_prefix_parse(&stored.pod_cidrs[0], "10.244.200.0/24"), 0);
	assert_int_equal(addresses_follow_assigned(&o, s, &self, &stored), 1);
	expect_node(&self, "10.99.0.1", "10.244.0.0/24");
	store_close(s);
}

static void test_reclaim(void **state)
{
	struct agent_options o;
	struct store *s = NULL;
	struct store_kv *kvs = NULL;
	struct node a = { 0 };
	size_t n = 0;

	assert_int_equal(store_open(&s, "file", dir, 0), 0);
	agent_options_default(&o);
	o.name = "addr-a";
	assert_int_equal(addresses_claim(&o, s, &a), 0);
	/* Everything in place: nothing to do. */
	assert_int_equal(store_list(s, STORE_ALLOC_PREFIX, &kvs, &n), 0);
	assert_int_equal(addresses_reclaim(&o, s, &a, kvs, n), 0);
	store_kvs_free(kvs, n);
	/* Both claims gone (the Node's annotations went with it): both made again. */
	assert_int_equal(store_del(s, "alloc/10.99.0.1_32"), 0);
	assert_int_equal(store_del(s, "alloc/10.244.0.0_24"), 0);
	assert_int_equal(store_list(s, STORE_ALLOC_PREFIX, &kvs, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(addresses_reclaim(&o, s, &a, kvs, n), 2);
	store_kvs_free(kvs, n);
	assert_int_equal(store_list(s, STORE_ALLOC_PREFIX, &kvs, &n), 0);
	assert_int_equal(n, 2);
	store_kvs_free(kvs, n);
	/* Gone and taken by another node meanwhile: not taken back. */
	assert_int_equal(store_del(s, "alloc/10.244.0.0_24"), 0);
	assert_int_equal(store_cas(s, "alloc/10.244.0.0_24", NULL, "addr-b"), 0);
	assert_int_equal(store_list(s, STORE_ALLOC_PREFIX, &kvs, &n), 0);
	assert_int_equal(addresses_reclaim(&o, s, &a, kvs, n), 0);
	store_kvs_free(kvs, n);
	{
		char *v = NULL;

		assert_int_equal(store_get(s, "alloc/10.244.0.0_24", &v, NULL), 0);
		assert_string_equal(v, "addr-b");
		free(v);
	}
	node_clear(&a);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_claim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allocation_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_follow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reclaim, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
