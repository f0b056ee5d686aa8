/* Node records as Node annotations: the record read from a Node (spec.podCIDRs winning
 * over the annotation), garbage refused with a reason, the merge patch that makes a Node
 * carry a record (and nothing when it already does), the watch's digest ignoring what
 * podwire does not read, and the node's address from status.addresses or an annotation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/kube_node.h"
#include "mesh/node.h"

#define KEY "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="
#define KEY2 "TPBD6EhAYbURYe951p+bAuB94QML5ef8sWh4yA5KgQg="

static cJSON *node_json(const char *annotations, const char *spec)
{
	char text[4096];
	cJSON *n;

	snprintf(text, sizeof(text), "{\"metadata\":{\"name\":\"n1\",\"resourceVersion\":\"7\",\"annotations\":{%s}},"
		 "\"spec\":{%s},\"status\":{\"conditions\":[]}}", annotations, spec);
	n = cJSON_Parse(text);
	assert_non_null(n);
	return n;
}

static void test_record(void **state)
{
	cJSON *n = node_json("\"podwire.io/public-key\":\"" KEY "\",\"podwire.io/tunnel-ips\":\"10.99.0.1\","
			     "\"podwire.io/pod-cidrs\":\"10.244.9.0/24\",\"podwire.io/endpoint\":\"192.0.2.1:51820\","
			     "\"podwire.io/observed\":\"" KEY2 " 198.51.100.7:4000\",\"podwire.io/mtu\":\"1380\"",
			     "\"podCIDRs\":[\"10.244.1.0/24\"]");
	char *text = NULL, why[256] = "", buf[IP_PREFIX_STRLEN];
	struct node parsed;

	(void)state;
	assert_int_equal(kube_node_record(n, &text, why, sizeof(why)), 1);
	assert_int_equal(node_decode(&parsed, text, strlen(text), why, sizeof(why)), 0);
	assert_string_equal(parsed.name, "n1");
	assert_string_equal(parsed.endpoint, "192.0.2.1:51820");
	assert_int_equal(parsed.mtu, 1380);
	assert_int_equal(parsed.n_pod_cidrs, 1);
	ip_prefix_format(&parsed.pod_cidrs[0], buf, sizeof(buf));
	assert_string_equal(buf, "10.244.1.0/24"); /* spec.podCIDRs wins over the annotation */
	assert_int_equal(parsed.n_observed, 1);
	assert_string_equal(parsed.observed[0].endpoint, "198.51.100.7:4000");
	node_clear(&parsed);
	free(text);
	cJSON_Delete(n);

	/* Without spec.podCIDRs, the annotation. Without a key, not a podwire node at all. */
	n = node_json("\"podwire.io/public-key\":\"" KEY "\",\"podwire.io/tunnel-ips\":\"10.99.0.1\","
		      "\"podwire.io/pod-cidrs\":\"10.244.9.0/24\"", "");
	assert_int_equal(kube_node_record(n, &text, why, sizeof(why)), 1);
	assert_non_null(strstr(text, "# PodCIDRs = 10.244.9.0/24\n"));
	free(text);
	cJSON_Delete(n);
	n = node_json("\"other.io/x\":\"y\"", "\"podCIDRs\":[\"10.244.1.0/24\"]");
	assert_int_equal(kube_node_record(n, &text, why, sizeof(why)), 0);
	assert_null(text);
	cJSON_Delete(n);
}

static void test_garbage(void **state)
{
	static const struct { const char *anns, *reason; } cases[] = {
		{ "\"podwire.io/public-key\":\"nope\",\"podwire.io/tunnel-ips\":\"10.99.0.1\"", "PublicKey" },
		{ "\"podwire.io/public-key\":\"" KEY "\",\"podwire.io/tunnel-ips\":\"x\"", "TunnelIP" },
		{ "\"podwire.io/public-key\":\"" KEY "\"", "TunnelIP" },
		{ "\"podwire.io/public-key\":\"" KEY "\",\"podwire.io/tunnel-ips\":\"10.99.0.1\","
		  "\"podwire.io/endpoint\":\"no port\"", "Endpoint" },
		/* A newline would smuggle a line into the record: refused before parsing. */
		{ "\"podwire.io/public-key\":\"" KEY "\",\"podwire.io/tunnel-ips\":\"10.99.0.1\\nEndpoint = 1.2.3.4:5\"",
		  "podwire.io/tunnel-ips" },
		{ "\"podwire.io/public-key\":\"" KEY "\",\"podwire.io/tunnel-ips\":\"10.99.0.1\","
		  "\"podwire.io/pod-cidrs\":\"0.0.0.0/0\"", "PodCIDRs" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *n = node_json(cases[i].anns, "");
		char *text = NULL, why[256] = "";

		assert_int_equal(kube_node_record(n, &text, why, sizeof(why)), -EINVAL);
		assert_null(text);
		if (!strstr(why, cases[i].reason))
			fail_msg("case %zu: reason '%s' does not name %s", i, why, cases[i].reason);
		cJSON_Delete(n);
	}
}

static void test_patch(void **state)
{
	cJSON *n = node_json("\"podwire.io/public-key\":\"" KEY "\",\"podwire.io/tunnel-ips\":\"10.99.0.1\","
			     "\"podwire.io/endpoint\":\"192.0.2.1:51820\",\"podwire.io/labels\":\"old\"", "");
	const char *record = "[Peer]\n# Name = n1\n# TunnelIP = 10.99.0.1\n# PodCIDRs = 10.244.1.0/24\n"
			     "PublicKey = " KEY "\nEndpoint = 192.0.2.1:51820\n";
	cJSON *patch = NULL, *same;
	char *text;

	(void)state;
	assert_int_equal(kube_node_annotations_for(n, record, &patch), 0);
	assert_non_null(patch);
	/* Only what differs: the pod CIDRs added, the labels removed. */
	assert_int_equal(cJSON_GetArraySize(patch), 2);
	assert_string_equal(cJSON_GetObjectItem(patch, "podwire.io/pod-cidrs")->valuestring, "10.244.1.0/24");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(patch, "podwire.io/labels")));
	cJSON_Delete(patch);
	cJSON_Delete(n);
	/* A Node that carries the record already needs no patch. */
	n = node_json("\"podwire.io/public-key\":\"" KEY "\",\"podwire.io/tunnel-ips\":\"10.99.0.1\","
		      "\"podwire.io/endpoint\":\"192.0.2.1:51820\",\"podwire.io/pod-cidrs\":\"10.244.1.0/24\"", "");
	assert_int_equal(kube_node_annotations_for(n, record, &patch), 0);
	assert_null(patch);
	/* And reading the record back gives the same node. */
	assert_int_equal(kube_node_record(n, &text, (char[64]){ 0 }, 64), 1);
	assert_non_null(strstr(text, "PublicKey = " KEY));
	free(text);
	assert_int_equal(kube_node_annotations_for(n, "not a record", &patch), -EINVAL);
	same = kube_node_annotations_removal();
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(same, "podwire.io/public-key")));
	cJSON_Delete(same);
	cJSON_Delete(n);
}

static void test_fingerprint(void **state)
{
	cJSON *a = node_json("\"podwire.io/public-key\":\"" KEY "\",\"kubeadm.io/x\":\"1\"", "\"podCIDRs\":[\"10.244.1.0/24\"]");
	cJSON *b = node_json("\"podwire.io/public-key\":\"" KEY "\",\"kubeadm.io/x\":\"2\"", "\"podCIDRs\":[\"10.244.1.0/24\"]");
	cJSON *c = node_json("\"podwire.io/public-key\":\"" KEY2 "\"", "\"podCIDRs\":[\"10.244.1.0/24\"]");
	cJSON *d = node_json("\"podwire.io/public-key\":\"" KEY "\",\"kubeadm.io/x\":\"1\"", "\"podCIDRs\":[\"10.244.2.0/24\"]");

	(void)state;
	/* Other annotations and the status are not podwire's business. */
	assert_true(kube_node_fingerprint(a) == kube_node_fingerprint(b));
	assert_true(kube_node_fingerprint(a) != kube_node_fingerprint(c));
	assert_true(kube_node_fingerprint(a) != kube_node_fingerprint(d));
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(c);
	cJSON_Delete(d);
}

static void test_address(void **state)
{
	cJSON *n = cJSON_Parse("{\"metadata\":{\"name\":\"n1\",\"annotations\":{\"example.com/ep\":\"203.0.113.7:4500\","
			       "\"example.com/ip\":\"2001:db8::7\",\"example.com/bad\":\"not an address\"}},"
			       "\"status\":{\"addresses\":[{\"type\":\"Hostname\",\"address\":\"n1\"},"
			       "{\"type\":\"InternalIP\",\"address\":\"garbage\"},{\"type\":\"InternalIP\",\"address\":\"fd00::1\"},"
			       "{\"type\":\"InternalIP\",\"address\":\"192.168.1.1\"},"
			       "{\"type\":\"ExternalIP\",\"address\":\"198.51.100.1\"}]}}");
	cJSON *bare = node_json("", "");
	char out[128], why[256];

	assert_non_null(n);
	/* The first InternalIP that is an address, whatever its family (kubelet's order). */
	assert_int_equal(kube_node_address(n, "InternalIP", out, sizeof(out), why, sizeof(why)), 0);
	assert_string_equal(out, "fd00::1");
	assert_int_equal(kube_node_address(n, "ExternalIP", out, sizeof(out), why, sizeof(why)), 0);
	assert_string_equal(out, "198.51.100.1");
	assert_int_equal(kube_node_address(n, "annotation=example.com/ep", out, sizeof(out), why, sizeof(why)), 0);
	assert_string_equal(out, "203.0.113.7:4500");
	assert_int_equal(kube_node_address(n, "annotation=example.com/ip", out, sizeof(out), why, sizeof(why)), 0);
	assert_string_equal(out, "2001:db8::7");
	assert_int_equal(kube_node_address(n, "annotation=example.com/bad", out, sizeof(out), why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "example.com/bad"));
	assert_int_equal(kube_node_address(n, "annotation=example.com/none", out, sizeof(out), why, sizeof(why)), -ENOENT);
	assert_int_equal(kube_node_address(bare, "InternalIP", out, sizeof(out), why, sizeof(why)), -ENOENT);
	cJSON_Delete(n);
	cJSON_Delete(bare);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_patch),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
