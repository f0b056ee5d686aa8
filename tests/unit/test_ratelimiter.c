/* test_ratelimiter.c — handshake rate limiting per source (kernel selftest/ratelimiter.c
 * in spirit): a burst of 5 passes, the 6th waits for 1/20 s of refill, sources are
 * independent, IPv6 sources in one /64 share a bucket, idle entries are collected. */
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
	/* Many sources: the table refuses new ones when nearly full, and collects them once
	 * idle for a second. */
	for (i = 0; i < RATELIMITER_SLOTS; i++) {
		char addr[32];
		struct sockaddr_storage s;

		snprintf(addr, sizeof(addr), "10.%d.%d.1", i / 256, i % 256);
		s = v4(addr);
		ALLOW(r, s, t);
	}
	{
		struct sockaddr_storage s = v4("198.51.100.1");

		assert_false(ALLOW(r, s, t));
		assert_true(ALLOW(r, s, t + 2 * NSEC_PER_SEC));
	}
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_and_refill),
		cmocka_unit_test(test_v6_prefix_and_gc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
