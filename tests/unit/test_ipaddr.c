/* Addresses, prefixes and endpoints: the syntax wg accepts and the way it prints them. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/ipaddr.h"

static void test_prefix_parse_format(void **state)
{
	static const struct { const char *in, *out; } ok[] = {
		{ "10.0.0.1/24", "10.0.0.1/24" },   { "10.0.0.1", "10.0.0.1/32" },
		{ "0.0.0.0/0", "0.0.0.0/0" },	    { "::/0", "::/0" },
		{ "fd00::1", "fd00::1/128" },	    { "FD00:0:0::1/64", "fd00::1/64" },
		{ "192.168.1.255/32", "192.168.1.255/32" },
	};
	static const char *bad[] = { "", "/24", "10.0.0.1/", "10.0.0.1/33", "fd00::/129", "10.0.0.1/-1",
				     "10.0.0.1/2x", "10.0.0/24", "host/24", "10.0.0.1/24/1", " 10.0.0.1/24" };
	struct ip_prefix p;
	char buf[IP_PREFIX_STRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(ip_prefix_parse(&p, ok[i].in), 0);
		ip_prefix_format(&p, buf, sizeof(buf));
		assert_string_equal(buf, ok[i].out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ip_prefix_parse(&p, bad[i]), -EINVAL);
}

/* The reasons a prefix is refused; ip_prefix_parse() refuses exactly those inputs. */
static void test_prefix_parse_reason(void **state)
{
	static const struct { const char *in, *why; } cases[] = {
		{ "10.0.0.0/8", NULL }, { "fd00::/64", NULL }, { "10.0.0.1", NULL }, { "10.0.0.0/08", NULL },
		{ "", "empty entry" }, { "/8", "not an IPv4 or IPv6 address" },
		{ "10.0.0.256/8", "not an IPv4 address" }, { "fd00::g/64", "not an IPv6 address" },
		{ "10.0.0.0/33", "prefix length out of range" }, { "fd00::/129", "prefix length out of range" },
		{ "10.0.0.0/99999999999999999999", "prefix length out of range" },
		{ "10.0.0.0/", "prefix length is not a number" }, { "10.0.0.0/+8", "prefix length is not a number" },
		{ "10.0.0.0/8 ", "prefix length is not a number" }, { "10.0.0.0/0x8", "prefix length is not a number" },
	};
	struct ip_prefix p;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = ip_prefix_parse_reason(&p, cases[i].in);

		if (cases[i].why)
			assert_string_equal(why, cases[i].why);
		else
			assert_null(why);
		assert_int_equal(ip_prefix_parse(&p, cases[i].in), cases[i].why ? -EINVAL : 0);
	}
	assert_null(ip_prefix_parse_reason(&p, "10.0.0.0/08"));
	assert_int_equal(p.cidr, 8);
}

static void test_prefix_mask_contains_overlap(void **state)
{
	struct ip_prefix a, b;
	struct ip_addr x;
	char buf[IP_PREFIX_STRLEN];

	(void)state;
	assert_int_equal(ip_prefix_parse(&a, "10.1.2.3/15"), 0);
	ip_prefix_mask(&a);
	ip_prefix_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "10.0.0.0/15");
	assert_int_equal(ip_prefix_parse(&b, "fd00:abcd::ff/20"), 0);
	ip_prefix_mask(&b);
	ip_prefix_format(&b, buf, sizeof(buf));
	assert_string_equal(buf, "fd00:a000::/20");

	assert_int_equal(ip_addr_parse(&x, "10.1.255.255"), 0);
	assert_true(ip_prefix_contains(&a, &x));
	assert_int_equal(ip_addr_parse(&x, "10.2.0.0"), 0);
	assert_false(ip_prefix_contains(&a, &x));
	assert_false(ip_prefix_contains(&b, &x));

	assert_int_equal(ip_prefix_parse(&b, "10.1.7.0/24"), 0);
	assert_true(ip_prefix_overlaps(&a, &b));
	assert_true(ip_prefix_covers(&a, &b));
	assert_false(ip_prefix_covers(&b, &a)); /* a /24 holds not all of a /15 around it */
	assert_true(ip_prefix_covers(&a, &a));
	assert_int_equal(ip_prefix_parse(&b, "10.2.0.0/16"), 0);
	assert_false(ip_prefix_overlaps(&a, &b));
	assert_false(ip_prefix_covers(&a, &b));
	assert_int_equal(ip_prefix_parse(&b, "::/0"), 0);
	assert_false(ip_prefix_covers(&b, &a)); /* another family */
	assert_int_equal(ip_prefix_parse(&b, "10.1.0.0/15"), 0);
	assert_true(ip_prefix_equal(&a, &b));
}

static void test_endpoint_split(void **state)
{
	char host[64];
	uint16_t port;

	(void)state;
	assert_int_equal(endpoint_split("192.0.2.1:51820", host, sizeof(host), &port), 0);
	assert_string_equal(host, "192.0.2.1");
	assert_int_equal(port, 51820);
	assert_int_equal(endpoint_split("[2001:db8::1]:443", host, sizeof(host), &port), 0);
	assert_string_equal(host, "2001:db8::1");
	assert_int_equal(port, 443);
	assert_int_equal(endpoint_split("node1.example.tld:51820", host, sizeof(host), &port), 0);
	assert_string_equal(host, "node1.example.tld");
	static const char *bad[] = { "192.0.2.1", "192.0.2.1:", "192.0.2.1:65536", "2001:db8::1:51820",
				     "[2001:db8::1]51820", "[2001:db8::1", ":51820", "[]:1", "h:x1", "h:-1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(endpoint_split(bad[i], host, sizeof(host), &port), -EINVAL);
}

static void test_endpoint_resolve_format(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[ENDPOINT_STRLEN], err[128];

	(void)state;
	assert_int_equal(endpoint_resolve("192.0.2.7:51820", &ss, &len, err, sizeof(err)), 0);
	endpoint_format((struct sockaddr *)&ss, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.7:51820");
	assert_int_equal(endpoint_resolve("[2001:db8:0::7]:1", &ss, &len, err, sizeof(err)), 0);
	endpoint_format((struct sockaddr *)&ss, buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8::7]:1");
	assert_int_equal(endpoint_resolve("nonsense", &ss, &len, err, sizeof(err)), -EINVAL);
	assert_true(strlen(err) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_parse_format),
		cmocka_unit_test(test_prefix_parse_reason),
		cmocka_unit_test(test_prefix_mask_contains_overlap),
		cmocka_unit_test(test_endpoint_split),
		cmocka_unit_test(test_endpoint_resolve_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
