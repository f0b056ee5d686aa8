/* CNI results per spec version: "version" on ips only before 1.0.0, interface/route extras
 * (mtu, advmss, …) only from 1.1.0, a parse/print round trip, and bad shapes refused with
 * code 6 naming the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/cni_result.h"

static const char *sample =
	"{\"cniVersion\":\"1.1.0\",\"interfaces\":[{\"name\":\"pw1\",\"mac\":\"ee:ee:ee:ee:ee:ee\"},"
	"{\"name\":\"eth0\",\"mac\":\"02:00:00:00:00:01\",\"mtu\":1420,\"sandbox\":\"/var/run/netns/x\"}],"
	"\"ips\":[{\"interface\":1,\"address\":\"10.1.0.5/32\",\"gateway\":\"169.254.1.1\"},"
	"{\"interface\":1,\"address\":\"fd00::5/128\",\"gateway\":\"fe80::1\"}],"
	"\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"169.254.1.1\",\"mtu\":1420,\"advmss\":1380}],"
	"\"dns\":{\"nameservers\":[\"10.1.0.1\"]}}";

static cJSON *roundtrip(enum cni_version v)
{
	struct cni_error err = { 0 };
	struct cni_result r;
	cJSON *in = cJSON_Parse(sample), *out;

	assert_non_null(in);
	assert_int_equal(cni_result_parse(in, &r, &err), 0);
	out = cni_result_to_json(&r, v);
	cni_result_free(&r);
	cJSON_Delete(in);
	return out;
}

static const cJSON *at(const cJSON *o, const char *key, int idx)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, key), idx);
}

static void test_versions(void **state)
{
	static const enum cni_version all[] = { CNI_V030, CNI_V031, CNI_V040, CNI_V100, CNI_V110 };

	(void)state;
	for (unsigned int i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		cJSON *o = roundtrip(all[i]);
		const cJSON *ip0 = at(o, "ips", 0), *ip1 = at(o, "ips", 1);
		const cJSON *eth0 = at(o, "interfaces", 1), *rt = at(o, "routes", 0);

		assert_string_equal(cJSON_GetObjectItem(o, "cniVersion")->valuestring, cni_version_str(all[i]));
		if (all[i] < CNI_V100) {
			assert_string_equal(cJSON_GetObjectItem(ip0, "version")->valuestring, "4");
			assert_string_equal(cJSON_GetObjectItem(ip1, "version")->valuestring, "6");
		} else {
			assert_null(cJSON_GetObjectItem(ip0, "version"));
		}
		if (all[i] == CNI_V110) {
			assert_int_equal(cJSON_GetObjectItem(eth0, "mtu")->valueint, 1420);
			assert_int_equal(cJSON_GetObjectItem(rt, "advmss")->valueint, 1380);
		} else {
			assert_null(cJSON_GetObjectItem(eth0, "mtu"));
			assert_null(cJSON_GetObjectItem(rt, "mtu"));
		}
		assert_string_equal(cJSON_GetObjectItem(ip1, "address")->valuestring, "fd00::5/128");
		assert_int_equal(cJSON_GetObjectItem(ip1, "interface")->valueint, 1);
		assert_string_equal(cJSON_GetObjectItem(eth0, "sandbox")->valuestring, "/var/run/netns/x");
		assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "dns"), "nameservers"), 0)->valuestring,
				    "10.1.0.1");
		cJSON_Delete(o);
	}
}

static void expect_bad(const char *json, const char *mentions)
{
	struct cni_error err = { 0 };
	struct cni_result r;
	cJSON *in = cJSON_Parse(json);

	assert_non_null(in);
	assert_int_equal(cni_result_parse(in, &r, &err), -CNI_ERR_DECODE);
	assert_int_equal(err.code, CNI_ERR_DECODE);
	if (!strstr(err.msg, mentions))
		fail_msg("msg \"%s\" does not mention \"%s\"", err.msg, mentions);
	cni_result_free(&r);
	cJSON_Delete(in);
}

static void test_bad_shapes(void **state)
{
	(void)state;
	expect_bad("[]", "must be a JSON object");
	expect_bad("{\"ips\":{}}", "\"ips\" must be a list");
	expect_bad("{\"ips\":[{\"address\":\"10.0.0.1\"}]}", "result.ips[0]: address");
	expect_bad("{\"ips\":[{\"address\":5}]}", "\"address\" must be a string");
	expect_bad("{\"ips\":[{\"address\":\"10.0.0.1/24\",\"gateway\":\"fe80::1\"}]}", "same family");
	expect_bad("{\"interfaces\":[{\"name\":\"a\"}],\"ips\":[{\"address\":\"10.0.0.1/24\",\"interface\":3}]}",
		   "out of range");
	expect_bad("{\"routes\":[{\"gw\":\"10.0.0.1\"}]}", "missing \"dst\"");
	expect_bad("{\"routes\":[{\"dst\":\"0.0.0.0/0\",\"mtu\":-1}]}", "\"mtu\" must be");
	expect_bad("{\"dns\":[]}", "\"dns\" must be an object");
}

static void test_versions_parse(void **state)
{
	enum cni_version v;

	(void)state;
	assert_int_equal(cni_version_parse("0.4.0", &v), 0);
	assert_int_equal(v, CNI_V040);
	assert_true(cni_version_parse("0.2.0", &v) < 0);
	assert_true(cni_version_parse("1.1", &v) < 0);
	assert_false(cni_version_has_check(CNI_V031));
	assert_true(cni_version_has_check(CNI_V040));
	assert_false(cni_version_has_status_gc(CNI_V100));
	assert_true(cni_version_has_status_gc(CNI_V110));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_bad_shapes),
		cmocka_unit_test(test_versions_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
