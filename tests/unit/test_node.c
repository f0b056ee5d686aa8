/* Node records: encode/decode round trip, and hostile records refused with a reason. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/node.h"

static const char *pub = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";

static void make_node(struct node *n)
{
	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "node-1");
	assert_int_equal(key_from_base64(n->public_key, pub), 0);
	snprintf(n->endpoint, sizeof(n->endpoint), "192.0.2.1:51820");
	assert_int_equal(ip_addr_parse(&n->tunnel_ips[0], "10.99.0.1"), 0);
	assert_int_equal(ip_addr_parse(&n->tunnel_ips[1], "fd99::1"), 0);
	n->n_tunnel_ips = 2;
	assert_int_equal(ip_prefix_parse(&n->pod_cidrs[0], "10.244.1.0/24"), 0);
	assert_int_equal(ip_prefix_parse(&n->pod_cidrs[1], "fd44:0:0:1::/64"), 0);
	n->n_pod_cidrs = 2;
	n->mtu = 1420;
	n->persistent_keepalive = 25;
	snprintf(n->labels, sizeof(n->labels), "zone=a,rack=3");
	n->heartbeat = 1764000000;
}

static void test_roundtrip(void **state)
{
	struct node a, b;
	char *text, *text2, err[256];

	(void)state;
	make_node(&a);
	assert_int_equal(node_set_observed(&a, a.public_key, "[2001:db8::1]:4000"), 0);
	assert_int_equal(node_encode(&a, &text), 0);
	/* wg(8) reads the fields it knows. */
	assert_non_null(strstr(text, "[Peer]\n"));
	assert_non_null(strstr(text, "PublicKey = hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=\n"));
	assert_non_null(strstr(text, "AllowedIPs = 10.99.0.1/32, fd99::1/128, 10.244.1.0/24, fd44:0:0:1::/64\n"));
	assert_non_null(strstr(text, "Endpoint = 192.0.2.1:51820\n"));
	assert_int_equal(node_decode(&b, text, strlen(text), err, sizeof(err)), 0);
	assert_string_equal(b.name, "node-1");
	assert_memory_equal(b.public_key, a.public_key, WG_KEY_LEN);
	assert_string_equal(b.endpoint, a.endpoint);
	assert_int_equal(b.n_tunnel_ips, 2);
	assert_true(ip_addr_equal(&b.tunnel_ips[1], &a.tunnel_ips[1]));
	assert_int_equal(b.n_pod_cidrs, 2);
	assert_true(ip_prefix_equal(&b.pod_cidrs[1], &a.pod_cidrs[1]));
	assert_int_equal(b.mtu, 1420);
	assert_int_equal(b.persistent_keepalive, 25);
	assert_string_equal(b.labels, "zone=a,rack=3");
	assert_int_equal(b.heartbeat, 1764000000);
	assert_int_equal(b.n_observed, 1);
	assert_string_equal(b.observed[0].endpoint, "[2001:db8::1]:4000");
	assert_int_equal(node_encode(&b, &text2), 0);
	assert_string_equal(text, text2);
	free(text);
	free(text2);
	node_clear(&a);
	node_clear(&b);
}

static void expect_bad(const char *text, const char *reason)
{
	struct node n;
	char err[256] = "";

	if (node_decode(&n, text, strlen(text), err, sizeof(err)) != -EINVAL)
		fail_msg("accepted: %.200s", text);
	if (!strstr(err, reason))
		fail_msg("record refused for '%s', expected '%s'", err, reason);
	assert_int_equal(n.n_observed, 0);
	assert_null(n.observed);
}

#define GOOD_HEAD "[Peer]\n# Name = n2\n# TunnelIP = 10.99.0.2\n"
#define GOOD_KEY "PublicKey = hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=\n"

static void test_hostile(void **state)
{
	char *big;

	(void)state;
	expect_bad("", "no [Peer]");
	expect_bad(GOOD_HEAD "PublicKey = AAAA\n", "PublicKey");
	expect_bad(GOOD_HEAD "PublicKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "PublicKey");
	expect_bad(GOOD_HEAD, "no PublicKey");
	expect_bad("[Peer]\n# Name = ../etc\n# TunnelIP = 10.99.0.2\n" GOOD_KEY, "Name");
	expect_bad("[Peer]\n# TunnelIP = 10.99.0.2\n" GOOD_KEY, "Name");
	expect_bad("[Peer]\n# Name = n2\n" GOOD_KEY, "TunnelIP");
	expect_bad("[Peer]\n# Name = n2\n# TunnelIP = 10.99.0.2, 10.99.0.3\n" GOOD_KEY, "TunnelIP");
	expect_bad(GOOD_HEAD "# PodCIDRs = 0.0.0.0/0\n" GOOD_KEY, "too wide");
	expect_bad(GOOD_HEAD "# PodCIDRs = 10.244.1.5/24\n" GOOD_KEY, "host bits");
	expect_bad(GOOD_HEAD "# PodCIDRs = 10.244.1.0\n" GOOD_KEY, "not a prefix");
	expect_bad(GOOD_HEAD "# MTU = 100\n" GOOD_KEY, "MTU");
	expect_bad(GOOD_HEAD GOOD_KEY "Endpoint = nowhere\n", "Endpoint");
	expect_bad(GOOD_HEAD GOOD_KEY "[Peer]\n", "more than one");
	expect_bad("[Interface]\n" GOOD_HEAD GOOD_KEY, "unexpected section");
	expect_bad(GOOD_HEAD GOOD_KEY "Bogus = 1\n", "unknown key");
	big = malloc(NODE_RECORD_MAX + 100);
	memset(big, '#', NODE_RECORD_MAX + 99);
	big[NODE_RECORD_MAX + 99] = '\0';
	expect_bad(big, "larger than");
	memset(big, 'x', 2000);
	memcpy(big, GOOD_HEAD "# Labels = ", strlen(GOOD_HEAD "# Labels = "));
	big[2000] = '\0';
	expect_bad(big, "longer than");
	free(big);
}

/* Observed lines: a key seen twice keeps its first place and its last endpoint, many keys
 * decode (in linear time: bench/record.sh), and more than NODE_MAX_OBSERVED lines are
 * refused by name. */
static void test_observed_lines(void **state)
{
	static const char *const keys[] = { "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=",
					    "gN65BkIKy1eCE9pP1wdc8ROUtkHLF2PfAqYdyYBz6EA=",
					    "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=" };
	size_t size = 64 * 1024 + 4096, off = 0;
	char *text = malloc(size), err[256];
	uint8_t k0[WG_KEY_LEN], k1[WG_KEY_LEN];
	struct node n;

	assert_non_null(text);
	off += snprintf(text + off, size - off, "[Peer]\n# Name = o\n# TunnelIP = 10.99.0.7\n");
	off += snprintf(text + off, size - off, "# Observed = %s 192.0.2.1:1\n", keys[1]);
	off += snprintf(text + off, size - off, "# Observed = %s 192.0.2.2:2\n", keys[0]);
	off += snprintf(text + off, size - off, "# Observed = %s 192.0.2.3:3\n", keys[1]);
	off += snprintf(text + off, size - off, "# Observed = %s 192.0.2.4:4\n", keys[2]);
	off += snprintf(text + off, size - off, "# Observed = %s 192.0.2.5:5\n", keys[1]);
	snprintf(text + off, size - off, "PublicKey = %s\n", keys[0]);
	assert_int_equal(node_decode(&n, text, strlen(text), err, sizeof(err)), 0);
	assert_int_equal(n.n_observed, 3);
	assert_int_equal(key_from_base64(k1, keys[1]), 0);
	assert_int_equal(key_from_base64(k0, keys[0]), 0);
	assert_memory_equal(n.observed[0].public_key, k1, WG_KEY_LEN);
	assert_string_equal(n.observed[0].endpoint, "192.0.2.5:5");
	assert_memory_equal(n.observed[1].public_key, k0, WG_KEY_LEN);
	assert_string_equal(n.observed[1].endpoint, "192.0.2.2:2");
	assert_string_equal(n.observed[2].endpoint, "192.0.2.4:4");
	node_clear(&n);

	off = (size_t)snprintf(text, size, "[Peer]\n# Name = o\n# TunnelIP = 10.99.0.7\n");
	for (int i = 0; i <= NODE_MAX_OBSERVED; i++) {
		uint8_t raw[WG_KEY_LEN] = { (uint8_t)(i >> 8), (uint8_t)i, 1 };
		char b64[WG_KEY_LEN_BASE64];

		key_to_base64(b64, raw);
		if (i == NODE_MAX_OBSERVED) {
			snprintf(text + off, size - off, "PublicKey = %s\n", keys[0]);
			assert_int_equal(node_decode(&n, text, strlen(text), err, sizeof(err)), 0);
			assert_int_equal(n.n_observed, NODE_MAX_OBSERVED);
			node_clear(&n);
		}
		off += snprintf(text + off, size - off, "# Observed = %s 198.51.100.%d:%d\n", b64, i % 250, i + 1);
	}
	snprintf(text + off, size - off, "PublicKey = %s\n", keys[0]);
	assert_int_equal(node_decode(&n, text, strlen(text), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "Observed: more than 480 entries"));
	free(text);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(node_name_valid("node-1.example_a"));
	assert_false(node_name_valid(""));
	assert_false(node_name_valid(".hidden"));
	assert_false(node_name_valid("a/b"));
	assert_false(node_name_valid("a b"));
	assert_false(node_name_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_observed_lines),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
