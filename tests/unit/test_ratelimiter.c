/* test_ratelimiter.c — handshake rate limiting per source (kernel selftest/ratelimiter.c
 * in spirit): a burst of 5 passes, the 6th waits for 1/20 s of refill, sources are
 * independent, IPv6 sources in one /64 share a bucket, refilled entries are collected, and
 * a crowd of sources cannot fill the table (the oldest entries are evicted). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "datapath/userspace/clock.h"
#include "datapath/userspace/ratelimiter.h"

static struct sockaddr_storage v4(const char *a)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;

	in->sin_family = AF_INET;
	inet_pton(AF_INET, a, &in->sin_addr);
	return ss;
}

static struct sockaddr_storage v6(const char *a)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

	in6->sin6_family = AF_INET6;
	inet_pton(AF_INET6, a, &in6->sin6_addr);
	return ss;
}

#define ALLOW(r, ss, t) ratelimiter_allow((r), (struct sockaddr *)&(ss), (t))

static void test_burst_and_refill(void **state)
{
	struct ratelimiter *r = malloc(sizeof(*r));
	struct sockaddr_storage a = v4("192.0.2.1"), b = v4("192.0.2.2");
	uint64_t t = 10 * NSEC_PER_SEC;
	int i;

	ratelimiter_init(r);
	for (i = 0; i < RATELIMITER_BURST; i++)
		assert_true(ALLOW(r, a, t));
	assert_false(ALLOW(r, a, t));
	assert_true(ALLOW(r, b, t)); /* another source is not affected */
	assert_false(ALLOW(r, a, t + NSEC_PER_SEC / RATELIMITER_PACKETS_PER_SECOND - 1));
	assert_true(ALLOW(r, a, t + NSEC_PER_SEC / RATELIMITER_PACKETS_PER_SECOND + 1));
	/* Sustained: 20 per second, no more. */
	{
		int allowed = 0;
		uint64_t s = t + NSEC_PER_SEC;

		for (i = 0; i < 1000; i++)
			allowed += ALLOW(r, a, s + (uint64_t)i * NSEC_PER_SEC / 100);
		assert_in_range(allowed, 10 * RATELIMITER_PACKETS_PER_SECOND - 1,
				10 * RATELIMITER_PACKETS_PER_SECOND + RATELIMITER_BURST + 1);
	}
	free(r);
}

static void test_v6_prefix_and_gc(void **state)
{
	struct ratelimiter *r = malloc(sizeof(*r));
	struct sockaddr_storage a = v6("fd00:1:2:3::1"), b = v6("fd00:1:2:3::ffff"), c = v6("fd00:1:2:4::1");
	uint64_t t = 10 * NSEC_PER_SEC;
	int i;

	ratelimiter_init(r);
	for (i = 0; i < RATELIMITER_BURST; i++) {
		if (i % 2)
			assert_true(ALLOW(r, a, t));
		else
			assert_true(ALLOW(r, b, t));
	}
	assert_false(ALLOW(r, a, t)); /* same /64 */
	assert_true(ALLOW(r, c, t));  /* other /64 */
	/* Idle long enough for the bucket to refill: collected at the next gc, losslessly. */
	assert_true(r->used > 0);
	assert_true(ALLOW(r, c, t + 2 * NSEC_PER_SEC));
	assert_int_equal(r->used, 1);
	free(r);
}

static struct sockaddr_storage nth_source(int i)
{
	char addr[32];

	snprintf(addr, sizeof(addr), "10.%d.%d.%d", i / 65536, i / 256 % 256, i % 256);
	return v4(addr);
}

/* A crowd of sources (each with a cookie, each spending its burst) cannot fill the table: a
 * new source is always let in, the table stays within its bound by evicting the least
 * recently seen entry near the new one, and every entry left is still found (its bucket
 * still empty: a lost entry would come back with a fresh burst). */
static void test_full_table_evicts_oldest(void **state)
{
	struct ratelimiter *r = malloc(sizeof(*r));
	uint64_t t = 10 * NSEC_PER_SEC;
	const int crowd = RATELIMITER_SLOTS, fresh = 200;
	int i, k, still_limited = 0;

	ratelimiter_init(r);
	/* Each crowd source spends its whole burst, one microsecond after the previous one. */
	for (i = 0; i < crowd; i++) {
		struct sockaddr_storage s = nth_source(i);

		for (k = 0; k < RATELIMITER_BURST; k++)
			ALLOW(r, s, t + (uint64_t)i * 1000);
		assert_true(r->used <= RATELIMITER_SLOTS * 3 / 4);
	}
	assert_int_equal(r->used, RATELIMITER_SLOTS * 3 / 4);
	assert_true(r->evicted >= (uint64_t)(crowd - RATELIMITER_SLOTS * 3 / 4));
	/* New sources, still within the crowd's refill time: each is let in. */
	t += (uint64_t)crowd * 1000;
	for (i = 0; i < fresh; i++) {
		struct sockaddr_storage s = nth_source(100000 + i);

		assert_true(ALLOW(r, s, t + (uint64_t)i));
		assert_int_equal(r->used, RATELIMITER_SLOTS * 3 / 4);
	}
	/* The fresh ones are found again (4 tokens left, then refused), none was lost. */
	for (i = 0; i < fresh; i++) {
		struct sockaddr_storage s = nth_source(100000 + i);

		for (k = 1; k < RATELIMITER_BURST; k++)
			assert_true(ALLOW(r, s, t + fresh));
		assert_false(ALLOW(r, s, t + fresh));
	}
	/* The evicted ones were the oldest: the newest quarter of the crowd is all still there,
	 * its buckets still empty. */
	for (i = crowd - crowd / 4; i < crowd; i++) {
		struct sockaddr_storage s = nth_source(i);

		still_limited += !ALLOW(r, s, t + fresh);
	}
	assert_int_equal(still_limited, crowd / 4);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_and_refill),
		cmocka_unit_test(test_v6_prefix_and_gc),
		cmocka_unit_test(test_full_table_evicts_oldest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
