/* Pod CIDR and tunnel address allocation through store compare-and-swap. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "mesh/cidr.h"

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/pn-unit-cidr.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void expect_nth(const char *pool_s, uint8_t len, uint64_t i, const char *want)
{
	struct ip_prefix pool, got;
	char buf[IP_PREFIX_STRLEN];

	assert_int_equal(ip_prefix_parse(&pool, pool_s), 0);
	assert_int_equal(cidr_block_nth(&pool, len, i, &got), 0);
	ip_prefix_format(&got, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void test_nth(void **state)
{
	struct ip_prefix pool, got;

	expect_nth("10.244.0.0/16", 24, 0, "10.244.0.0/24");
	expect_nth("10.244.0.0/16", 24, 255, "10.244.255.0/24");
	expect_nth("10.244.0.0/16", 26, 5, "10.244.1.64/26");
	expect_nth("10.99.0.0/16", 32, 258, "10.99.1.2/32");
	expect_nth("10.99.0.0/16", 32, 65535, "10.99.255.255/32");
	expect_nth("fd44::/48", 64, 0x1234, "fd44:0:0:1234::/64");
	expect_nth("fd99::/112", 128, 0x1ff, "fd99::1ff/128");
	assert_int_equal(ip_prefix_parse(&pool, "10.244.0.0/16"), 0);
	assert_int_equal(cidr_block_nth(&pool, 24, 256, &got), -ERANGE);
	assert_int_equal(cidr_block_nth(&pool, 8, 0, &got), -EINVAL);
}

static void test_allocate(void **state)
{
	struct ip_prefix pool, a, b, a2, c;
	struct store *s;
	char buf[IP_PREFIX_STRLEN];

	assert_int_equal(store_file_open(&s, dir), 0);
	assert_int_equal(ip_prefix_parse(&pool, "10.244.0.0/22"), 0);
	assert_int_equal(cidr_allocate(s, &pool, 24, 0, "n1", &a), 0);
	assert_int_equal(cidr_allocate(s, &pool, 24, 0, "n2", &b), 0);
	assert_false(ip_prefix_overlaps(&a, &b));
	/* A restarted node gets its own block back. */
	assert_int_equal(cidr_allocate(s, &pool, 24, 0, "n1", &a2), 0);
	assert_true(ip_prefix_equal(&a, &a2));
	assert_int_equal(cidr_allocate(s, &pool, 24, 0, "n3", &c), 0);
	assert_int_equal(cidr_allocate(s, &pool, 24, 0, "n4", &c), 0);
	ip_prefix_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "10.244.3.0/24");
	assert_int_equal(cidr_allocate(s, &pool, 24, 0, "n5", &c), -ENOSPC);
	/* Released blocks are handed out again. */
	assert_int_equal(cidr_release(s, &b, "not-owner"), 0);
	assert_int_equal(cidr_allocate(s, &pool, 24, 0, "n5", &c), -ENOSPC);
	assert_int_equal(cidr_release(s, &b, "n2"), 0);
	assert_int_equal(cidr_allocate(s, &pool, 24, 0, "n5", &c), 0);
	assert_true(ip_prefix_equal(&b, &c));
	store_close(s);
}

/* 12 processes allocate /32s at once from the same pool: all different. */
static void test_parallel(void **state)
{
	struct store *s;
	struct store_kv *kvs;
	size_t n;
	pid_t pids[12];

	for (int i = 0; i < 12; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			struct ip_prefix pool, got;
			struct store *cs;
			char me[16];

			snprintf(me, sizeof(me), "p%d", i);
			if (store_file_open(&cs, dir) || ip_prefix_parse(&pool, "10.99.0.0/24"))
				_exit(2);
			_exit(cidr_allocate(cs, &pool, 32, 1, me, &got) ? 1 : 0);
		}
	}
	for (int i = 0; i < 12; i++) {
		int status;

		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(store_file_open(&s, dir), 0);
	assert_int_equal(store_list(s, "alloc/", &kvs, &n), 0);
	/* one key per owner, twelve distinct owners, none at the network address */
	{
		size_t count = 0;

		for (size_t i = 0; i < n; i++) {
			if (strncmp(kvs[i].key, "alloc/10.99.0.", 14))
				continue;
			assert_string_not_equal(kvs[i].key, "alloc/10.99.0.0_32");
			for (size_t j = 0; j < i; j++)
				if (!strncmp(kvs[j].key, "alloc/10.99.0.", 14))
					assert_string_not_equal(kvs[i].value, kvs[j].value);
			count++;
		}
		assert_int_equal(count, 12);
	}
	store_kvs_free(kvs, n);
	store_close(s);
}

/* Fixed blocks (--pod-cidr, --tunnel-ip) are claimed, so allocations skip them, and a
 * fixed block that overlaps someone else's is refused. */
static void test_claim(void **state)
{
	struct ip_prefix pool, fixed, got, clash;
	struct store *s;
	char buf[IP_PREFIX_STRLEN];

	assert_int_equal(store_file_open(&s, dir), 0);
	assert_int_equal(ip_prefix_parse(&pool, "10.250.0.0/22"), 0);
	assert_int_equal(ip_prefix_parse(&fixed, "10.250.0.0/23"), 0); /* a bigger block than 24 */
	assert_int_equal(cidr_claim(s, &fixed, "big"), 0);
	assert_int_equal(cidr_claim(s, &fixed, "big"), 0); /* a restart: still ours */
	assert_int_equal(cidr_allocate(s, &pool, 24, 0, "n1", &got), 0);
	ip_prefix_format(&got, buf, sizeof(buf));
	assert_string_equal(buf, "10.250.2.0/24"); /* .0 and .1 are inside big's /23 */
	assert_int_equal(ip_prefix_parse(&clash, "10.250.1.0/24"), 0);
	assert_int_equal(cidr_claim(s, &clash, "n2"), -EADDRINUSE);
	assert_int_equal(cidr_claim(s, &got, "n2"), -EADDRINUSE);
	store_close(s);
}

/* A store whose create commits but whose answer is lost, so the client retries and hears
 * "exists" (etcd failing over to another member): the block is ours all the same. */
struct lossy_store {
	struct store base;
	struct store *inner;
	struct store_ops ops;
	int lost;
};

static struct store *lossy_inner(struct store *s)
{
	return ((struct lossy_store *)s)->inner;
}

static int lossy_list(struct store *s, const char *prefix, struct store_kv **kvs, size_t *n)
{
	return store_list(lossy_inner(s), prefix, kvs, n);
}

static int lossy_get(struct store *s, const char *key, char **value, size_t *len)
{
	return store_get(lossy_inner(s), key, value, len);
}

static int lossy_cas(struct store *s, const char *key, const char *expect, const char *value)
{
	struct lossy_store *l = (struct lossy_store *)s;
	int ret = store_cas(l->inner, key, expect, value);

	if (ret || expect)
		return ret;
	l->lost++;
	return store_cas(l->inner, key, expect, value); /* the retry: -ECANCELED */
}

static void test_lost_answer(void **state)
{
	struct lossy_store l = { 0 };
	struct ip_prefix pool, a, again, fixed;

	assert_int_equal(store_file_open(&l.inner, dir), 0);
	l.ops.list = lossy_list;
	l.ops.get = lossy_get;
	l.ops.cas = lossy_cas;
	l.base.ops = &l.ops;
	assert_int_equal(ip_prefix_parse(&pool, "10.251.0.0/22"), 0);
	assert_int_equal(cidr_allocate(&l.base, &pool, 24, 0, "n1", &a), 0);
	assert_int_equal(l.lost, 1);
	assert_int_equal(cidr_allocate(&l.base, &pool, 24, 0, "n1", &again), 0);
	assert_true(ip_prefix_equal(&a, &again)); /* one block, not two */
	assert_int_equal(ip_prefix_parse(&fixed, "10.251.3.0/24"), 0);
	assert_int_equal(cidr_claim(&l.base, &fixed, "n2"), 0);
	assert_int_equal(l.lost, 2);
	store_close(l.inner);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nth),
		cmocka_unit_test(test_allocate),
		cmocka_unit_test(test_parallel),
		cmocka_unit_test(test_claim),
		cmocka_unit_test(test_lost_answer),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
