/* IPAM allocator and ranges: host-local's rules (defaults, rangeStart/End, gateway exclusion,
 * resuming after last_reserved_ip with wraparound, exhaustion, IPv6), checked against a
 * brute-force walk of the same ranges. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ipam/allocator.h"
#include "ipam/range.h"

#define MAX_TAKEN 1024

struct taken {
	struct ip_addr a[MAX_TAKEN];
	unsigned int n;
};

static bool is_taken(const struct ip_addr *a, void *ctx)
{
	struct taken *t = ctx;

	for (unsigned int i = 0; i < t->n; i++)
		if (ip_addr_equal(&t->a[i], a))
			return true;
	return false;
}

static void take(struct taken *t, const struct ip_addr *a)
{
	assert_true(t->n < MAX_TAKEN);
	t->a[t->n++] = *a;
}

static void parse_set(const char *json, struct ipam_range_set *set)
{
	struct cni_error err = { 0 };
	cJSON *j = cJSON_Parse(json);

	assert_non_null(j);
	assert_int_equal(ipam_range_set_parse(j, set, "ranges", &err), 0);
	cJSON_Delete(j);
}

static int parse_set_err(const char *json, struct cni_error *err)
{
	struct ipam_range_set set;
	cJSON *j = cJSON_Parse(json);
	int ret;

	assert_non_null(j);
	ret = ipam_range_set_parse(j, &set, "ranges", err);
	cJSON_Delete(j);
	return ret;
}

static void assert_addr(const struct ip_addr *a, const char *want)
{
	char buf[IP_ADDR_STRLEN];

	ip_addr_format(a, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void alloc_expect(const struct ipam_range_set *set, const struct ip_addr *last, struct taken *t, const char *want)
{
	struct ip_addr out;
	unsigned int ri;

	assert_int_equal(ipam_allocate(set, last, is_taken, t, &out, &ri), 0);
	assert_addr(&out, want);
	take(t, &out);
}

static void test_defaults(void **state)
{
	struct ipam_range_set set;

	(void)state;
	parse_set("[{\"subnet\":\"10.1.2.0/24\"}]", &set);
	assert_int_equal(set.n, 1);
	assert_addr(&set.ranges[0].start, "10.1.2.1");
	assert_addr(&set.ranges[0].end, "10.1.2.254");	/* broadcast excluded */
	assert_true(set.ranges[0].has_gateway);
	assert_addr(&set.ranges[0].gateway, "10.1.2.1");
	/* host bits in subnet are masked */
	parse_set("[{\"subnet\":\"10.1.2.77/24\"}]", &set);
	assert_addr(&set.ranges[0].subnet.addr, "10.1.2.0");
}

static void test_gateway_excluded_and_sequential(void **state)
{
	struct ipam_range_set set;
	struct taken t = { .n = 0 };

	(void)state;
	parse_set("[{\"subnet\":\"10.1.2.0/24\"}]", &set);
	alloc_expect(&set, NULL, &t, "10.1.2.2");	/* .1 is the gateway */
	alloc_expect(&set, &t.a[0], &t, "10.1.2.3");
	parse_set("[{\"subnet\":\"10.1.2.0/24\",\"gateway\":\"10.1.2.5\",\"rangeStart\":\"10.1.2.4\",\"rangeEnd\":\"10.1.2.6\"}]",
		  &set);
	t.n = 0;
	alloc_expect(&set, NULL, &t, "10.1.2.4");
	alloc_expect(&set, &t.a[0], &t, "10.1.2.6");	/* skips the gateway .5 */
	{
		struct ip_addr out;
		unsigned int ri;

		assert_int_equal(ipam_allocate(&set, &t.a[1], is_taken, &t, &out, &ri), -ENOSPC);
	}
}

static void test_wraparound_from_last_reserved(void **state)
{
	struct ipam_range_set set;
	struct taken t = { .n = 0 };
	struct ip_addr last, a;

	(void)state;
	parse_set("[{\"subnet\":\"10.9.0.0/29\"}]", &set);	/* .2-.6 usable */
	ip_addr_parse(&last, "10.9.0.4");
	alloc_expect(&set, &last, &t, "10.9.0.5");	/* resumes after last, not at the start */
	alloc_expect(&set, &t.a[0], &t, "10.9.0.6");
	alloc_expect(&set, &t.a[1], &t, "10.9.0.2");	/* wraps around past the end */
	/* a released address is handed out only after a full lap */
	ip_addr_parse(&a, "10.9.0.3");
	alloc_expect(&set, &a, &t, "10.9.0.4");
}

static void test_exhaustion(void **state)
{
	struct ipam_range_set set;
	struct taken t = { .n = 0 };
	struct ip_addr out;
	unsigned int ri;

	(void)state;
	parse_set("[{\"subnet\":\"10.3.0.0/24\"}]", &set);
	for (int i = 0; i < 253; i++) {
		assert_int_equal(ipam_allocate(&set, t.n ? &t.a[t.n - 1] : NULL, is_taken, &t, &out, &ri), 0);
		assert_false(is_taken(&out, &t));
		take(&t, &out);
	}
	assert_int_equal(ipam_allocate(&set, &t.a[t.n - 1], is_taken, &t, &out, &ri), -ENOSPC);
	assert_int_equal(ipam_allocate(&set, NULL, is_taken, &t, &out, &ri), -ENOSPC);
	/* free one in the middle: it is found from anywhere */
	t.a[100] = t.a[--t.n];
	assert_int_equal(ipam_allocate(&set, &t.a[5], is_taken, &t, &out, &ri), 0);
}

static void test_multiple_ranges_round_robin(void **state)
{
	struct ipam_range_set set;
	struct taken t = { .n = 0 };

	(void)state;
	parse_set("[{\"subnet\":\"10.5.0.0/30\"},{\"subnet\":\"10.6.0.0/30\"}]", &set);
	assert_int_equal(set.n, 2);
	/* a /30 has .1 (gateway) and .2 usable */
	alloc_expect(&set, NULL, &t, "10.5.0.2");
	alloc_expect(&set, &t.a[0], &t, "10.6.0.2");
	{
		struct ip_addr out;
		unsigned int ri;

		assert_int_equal(ipam_allocate(&set, &t.a[1], is_taken, &t, &out, &ri), -ENOSPC);
	}
}

static void test_ipv6(void **state)
{
	struct ipam_range_set set;
	struct taken t = { .n = 0 };
	struct ip_addr last;

	(void)state;
	parse_set("[{\"subnet\":\"fd00:10::/64\"}]", &set);
	assert_addr(&set.ranges[0].end, "fd00:10::ffff:ffff:ffff:ffff");	/* no broadcast in v6 */
	alloc_expect(&set, NULL, &t, "fd00:10::2");
	/* carry across bytes */
	ip_addr_parse(&last, "fd00:10::ff");
	alloc_expect(&set, &last, &t, "fd00:10::100");
	/* wrap from the very end */
	alloc_expect(&set, &set.ranges[0].end, &t, "fd00:10::3");
	parse_set("[{\"subnet\":\"fd00:11::/126\"}]", &set);	/* ::1 gw, ::2, ::3 */
	t.n = 0;
	alloc_expect(&set, NULL, &t, "fd00:11::2");
	alloc_expect(&set, &t.a[0], &t, "fd00:11::3");
}

static void test_brute_force_agrees(void **state)
{
	struct ipam_range_set set;
	struct taken t = { .n = 0 };
	struct ip_addr out, cur;
	unsigned int ri, expected = 0;

	(void)state;
	parse_set("[{\"subnet\":\"10.7.0.0/26\",\"rangeStart\":\"10.7.0.10\",\"rangeEnd\":\"10.7.0.40\",\"gateway\":\"10.7.0.20\"},"
		  "{\"subnet\":\"10.8.0.0/28\"}]", &set);
	/* brute force: count addresses in ranges minus gateways */
	for (unsigned int r = 0; r < set.n; r++)
		for (cur = set.ranges[r].start;; ipam_addr_next(&cur)) {
			if (!ip_addr_equal(&cur, &set.ranges[r].gateway))
				expected++;
			if (ip_addr_equal(&cur, &set.ranges[r].end))
				break;
		}
	assert_int_equal(expected, 30 + 13);
	while (ipam_allocate(&set, t.n ? &t.a[t.n - 1] : NULL, is_taken, &t, &out, &ri) == 0) {
		assert_true(ipam_range_contains(&set.ranges[ri], &out));
		assert_false(ip_addr_equal(&out, &set.ranges[ri].gateway));
		assert_false(is_taken(&out, &t));
		take(&t, &out);
	}
	assert_int_equal(t.n, expected);
}

static void test_bad_ranges(void **state)
{
	struct cni_error err = { 0 };

	(void)state;
	assert_int_equal(parse_set_err("[{\"subnet\":\"10.0.0.0/31\"}]", &err), -CNI_ERR_INVALID_CONFIG);
	assert_non_null(strstr(err.msg, "too small"));
	assert_int_equal(parse_set_err("[{\"subnet\":\"10.0.0.0\"}]", &err), -CNI_ERR_INVALID_CONFIG);
	assert_int_equal(parse_set_err("[{\"subnet\":42}]", &err), -CNI_ERR_INVALID_CONFIG);
	assert_non_null(strstr(err.msg, "must be a string"));
	assert_int_equal(parse_set_err("[{\"subnet\":\"10.0.0.0/24\",\"rangeStart\":\"10.0.1.5\"}]", &err),
			 -CNI_ERR_INVALID_CONFIG);
	assert_non_null(strstr(err.msg, "outside subnet"));
	assert_int_equal(parse_set_err("[{\"subnet\":\"10.0.0.0/24\",\"rangeStart\":\"10.0.0.9\",\"rangeEnd\":\"10.0.0.8\"}]",
				       &err), -CNI_ERR_INVALID_CONFIG);
	assert_int_equal(parse_set_err("[{\"subnet\":\"10.0.0.0/24\"},{\"subnet\":\"fd00::/64\"}]", &err),
			 -CNI_ERR_INVALID_CONFIG);
	assert_non_null(strstr(err.msg, "mixes"));
	assert_int_equal(parse_set_err("[{\"subnet\":\"10.0.0.0/24\"},{\"subnet\":\"10.0.0.0/25\"}]", &err),
			 -CNI_ERR_INVALID_CONFIG);
	assert_non_null(strstr(err.msg, "overlaps"));
	assert_int_equal(parse_set_err("[]", &err), -CNI_ERR_INVALID_CONFIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_gateway_excluded_and_sequential),
		cmocka_unit_test(test_wraparound_from_last_reserved),
		cmocka_unit_test(test_exhaustion),
		cmocka_unit_test(test_multiple_ranges_round_robin),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_brute_force_agrees),
		cmocka_unit_test(test_bad_ranges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
