/* The cluster's pools in the store (mesh/cluster.c): the first node writes them, a node
 * with other pools is refused with both named, a broken record is refused with its line. */
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

#include "mesh/cluster.h"

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/pn-unit-cluster.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static struct cluster_pools pools(const char *c, unsigned int block, const char *t, const char *c6, const char *t6)
{
	struct cluster_pools p = { .block_len = (uint8_t)block, .block_len6 = 64 };

	assert_int_equal(ip_prefix_parse(&p.cluster_cidr, c), 0);
	assert_int_equal(ip_prefix_parse(&p.tunnel_cidr, t), 0);
	if (c6) {
		p.has_cluster_cidr6 = true;
		assert_int_equal(ip_prefix_parse(&p.cluster_cidr6, c6), 0);
	}
	if (t6) {
		p.has_tunnel_cidr6 = true;
		assert_int_equal(ip_prefix_parse(&p.tunnel_cidr6, t6), 0);
	}
	return p;
}

static void test_roundtrip(void **state)
{
	struct cluster_pools a[] = {
		pools("10.244.0.0/16", 24, "10.99.0.0/16", NULL, NULL),
		pools("10.128.0.0/9", 26, "10.96.0.0/12", "fd44::/48", "fd99::/112"),
		pools("10.1.0.0/16", 24, "10.2.0.0/24", NULL, "fd99::/112"),
	}, back;
	char *text, err[128];

	for (size_t i = 0; i < sizeof(a) / sizeof(a[0]); i++) {
		assert_int_equal(cluster_pools_encode(&a[i], &text), 0);
		assert_int_equal(cluster_pools_decode(&back, text, err, sizeof(err)), 0);
		assert_true(cluster_pools_equal(&a[i], &back));
		free(text);
	}
	assert_false(cluster_pools_equal(&a[0], &a[1]));
	back = a[0];
	back.block_len = 25;
	assert_false(cluster_pools_equal(&a[0], &back));
}

static void test_decode_errors(void **state)
{
	static const struct { const char *text, *err; } cases[] = {
		{ "ClusterCIDR = 10.244.0.0/16\nBlockSize = 24\n", "TunnelCIDR is missing" },
		{ "ClusterCIDR = 10.244.0.0/16\nBlockSize = 24\nTunnelCIDR = 10.99.0.1/16\n",
		  "line 3: invalid TunnelCIDR '10.99.0.1/16'" },
		{ "ClusterCIDR = fd00::/8\n", "line 1: invalid ClusterCIDR 'fd00::/8'" },
		{ "# c\nBlockSize = 200\n", "line 2: invalid BlockSize '200'" },
		{ "Color = blue\n", "line 1: unknown key 'Color'" },
		{ "garbage\n", "line 1: not 'Key = value'" },
	};
	struct cluster_pools p;
	char err[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(cluster_pools_decode(&p, cases[i].text, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, cases[i].err);
	}
}

static void test_publish(void **state)
{
	struct cluster_pools first = pools("10.244.0.0/16", 24, "10.99.0.0/16", NULL, NULL),
			     other = pools("10.244.0.0/16", 24, "10.98.0.0/16", NULL, NULL), stored, read;
	struct store *s;
	char err[128], desc[256];
	FILE *f;
	char path[128];

	assert_int_equal(store_file_open(&s, dir), 0);
	assert_int_equal(cluster_pools_read(s, &read, err, sizeof(err)), -ENOENT);
	assert_int_equal(cluster_pools_publish(s, &first, &stored, err, sizeof(err)), 0);
	assert_true(cluster_pools_equal(&first, &stored));
	/* The same pools again: accepted; other pools: refused, and the stored ones returned. */
	assert_int_equal(cluster_pools_publish(s, &first, &stored, err, sizeof(err)), 0);
	assert_int_equal(cluster_pools_publish(s, &other, &stored, err, sizeof(err)), -ENOTUNIQ);
	assert_true(cluster_pools_equal(&first, &stored));
	cluster_pools_describe(&stored, desc, sizeof(desc));
	assert_string_equal(desc, "--cluster-cidr 10.244.0.0/16 --block-size 24 --tunnel-cidr 10.99.0.0/16");
	assert_int_equal(cluster_pools_read(s, &read, err, sizeof(err)), 0);
	assert_true(cluster_pools_equal(&first, &read));
	/* A damaged record is an error with its reason, never "no pools". */
	snprintf(path, sizeof(path), "%s/.podwire/cluster/pools", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("TunnelCIDR = nope\n", f);
	fclose(f);
	assert_int_equal(cluster_pools_read(s, &read, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "line 1: invalid TunnelCIDR 'nope'");
	assert_int_equal(cluster_pools_publish(s, &first, &stored, err, sizeof(err)), -EBADMSG);
	store_close(s);
}

static void test_missing_store_dir(void **state)
{
	struct store *s;
	char path[128];

	/* A missing directory is not created: a typo must not become an empty cluster. */
	snprintf(path, sizeof(path), "%s/no-such-dir", dir);
	assert_int_equal(store_file_open(&s, path), -ENOENT);
	assert_int_equal(access(path, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test_setup_teardown(test_publish, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_store_dir, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
