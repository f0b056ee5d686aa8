/* podwired's masquerade table: the nft commands it applies, one rule per pod CIDR that
 * exempts the cluster's pod ranges (without overlapping intervals, which nft refuses). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/masquerade.h"

static struct ip_prefix P(const char *s)
{
	struct ip_prefix p;

	assert_int_equal(ip_prefix_parse(&p, s), 0);
	return p;
}

#define HEAD "add table inet podwired\ndelete table inet podwired\nadd table inet podwired\n" \
	     "add chain inet podwired postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"

static void test_plan_dual_stack(void **state)
{
	struct ip_prefix pod[] = { P("10.244.3.0/24"), P("fd44:0:0:3::/64") };
	struct ip_prefix cluster[] = { P("10.244.0.0/16"), P("fd44::/48"), P("10.244.0.0/16"), P("192.168.50.0/24") };
	char buf[4096];

	(void)state;
	assert_int_equal(masquerade_plan(pod, 2, cluster, 4, buf, sizeof(buf)), 0);
	assert_string_equal(buf, HEAD
		"add rule inet podwired postrouting ip saddr 10.244.3.0/24 ip daddr != "
		"{ 10.244.0.0/16, 192.168.50.0/24, 224.0.0.0/4 } masquerade fully-random\n"
		"add rule inet podwired postrouting ip6 saddr fd44:0:0:3::/64 ip6 daddr != "
		"{ fd44::/48, ff00::/8, fe80::/10 } masquerade fully-random\n");
}

/* A pod CIDR outside the pools (a gateway's, or IPv6 without --cluster-cidr6) is exempt itself. */
static void test_plan_pod_outside_pools(void **state)
{
	struct ip_prefix pod[] = { P("fd00:9::/64") };
	struct ip_prefix cluster[] = { P("10.244.0.0/16") };
	char buf[4096];

	(void)state;
	assert_int_equal(masquerade_plan(pod, 1, cluster, 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, HEAD "add rule inet podwired postrouting ip6 saddr fd00:9::/64 ip6 daddr != "
				      "{ fd00:9::/64, ff00::/8, fe80::/10 } masquerade fully-random\n");
}

static void test_plan_too_small(void **state)
{
	struct ip_prefix pod[] = { P("10.244.3.0/24") };
	char buf[64];

	(void)state;
	assert_int_equal(masquerade_plan(pod, 1, NULL, 0, buf, sizeof(buf)), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_dual_stack),
		cmocka_unit_test(test_plan_pod_outside_pools),
		cmocka_unit_test(test_plan_too_small),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
