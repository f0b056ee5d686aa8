/* YAML to cJSON (mesh/yaml_json.c): a kubeconfig as kind writes it reads as its JSON form;
 * plain scalars by the core schema, quoted ones stay strings; aliases expand, but a
 * "billion laughs" document and deep nesting are refused; duplicate keys, non-scalar keys,
 * syntax errors and empty input are refused with the line; and kube_client_init takes a
 * YAML kubeconfig like its JSON form. */
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

#include "mesh/kube_client.h"
#include "mesh/yaml_json.h"

/* kind get kubeconfig's shape (data shortened: "LS0t" is base64 of "---"). */
static const char kind_yaml[] =
	"apiVersion: v1\n"
	"clusters:\n"
	"- cluster:\n"
	"    certificate-authority-data: LS0t\n"
	"    server: https://127.0.0.1:40711\n"
	"  name: kind-kind\n"
	"contexts:\n"
	"- context:\n"
	"    cluster: kind-kind\n"
	"    user: kind-kind\n"
	"  name: kind-kind\n"
	"current-context: kind-kind\n"
	"kind: Config\n"
	"preferences: {}\n"
	"users:\n"
	"- name: kind-kind\n"
	"  user:\n"
	"    token: \"0123456789\"\n";

static const char kind_json[] =
	"{\"apiVersion\":\"v1\",\"clusters\":[{\"cluster\":{\"certificate-authority-data\":\"LS0t\","
	"\"server\":\"https://127.0.0.1:40711\"},\"name\":\"kind-kind\"}],\"contexts\":[{\"context\":"
	"{\"cluster\":\"kind-kind\",\"user\":\"kind-kind\"},\"name\":\"kind-kind\"}],\"current-context\":"
	"\"kind-kind\",\"kind\":\"Config\",\"preferences\":{},\"users\":[{\"name\":\"kind-kind\",\"user\":"
	"{\"token\":\"0123456789\"}}]}";

static char *parse_print(const char *yaml, int *ret, char *err, size_t err_len)
{
	cJSON *j = NULL;
	char *s;

	*ret = yaml_json_parse(yaml, strlen(yaml), &j, err, err_len);
	if (*ret) {
		assert_null(j);
		return NULL;
	}
	s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return s;
}

static void test_kubeconfig(void **state)
{
	char err[256] = "";
	int ret;
	char *s = parse_print(kind_yaml, &ret, err, sizeof(err));

	assert_int_equal(ret, 0);
	assert_string_equal(s, kind_json);
	free(s);
}

static void test_scalars(void **state)
{
	static const struct {
		const char *yaml, *json;
	} cases[] = {
		{ "a: \nb: ~\nc: null\nd: NULL", "{\"a\":null,\"b\":null,\"c\":null,\"d\":null}" },
		{ "a: true\nb: False\nc: yes\nd: 'true'", "{\"a\":true,\"b\":false,\"c\":\"yes\",\"d\":\"true\"}" },
		{ "a: 42\nb: -1.5\nc: 1e3\nd: \"42\"\ne: 0x1f\nf: 1.2.3", "{\"a\":42,\"b\":-1.5,\"c\":1000,\"d\":\"42\",\"e\":\"0x1f\",\"f\":\"1.2.3\"}" },
		{ "a: |\n  two\n  lines\nb: >-\n  folded\n  text", "{\"a\":\"two\\nlines\\n\",\"b\":\"folded text\"}" },
		{ "- x\n- [1, 'y']\n- {k: v}", "[\"x\",[1,\"y\"],{\"k\":\"v\"}]" },
		{ "base: &b {server: s}\ncopy: *b", "{\"base\":{\"server\":\"s\"},\"copy\":{\"server\":\"s\"}}" },
		{ "{\"json\": [\"is\", \"yaml\"]}", "{\"json\":[\"is\",\"yaml\"]}" },
		{ "first: 1\n---\nsecond: 2\n", "{\"first\":1}" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";
		int ret;
		char *s = parse_print(cases[i].yaml, &ret, err, sizeof(err));

		if (ret)
			fail_msg("case %zu: %d %s", i, ret, err);
		if (strcmp(s, cases[i].json))
			fail_msg("case %zu: got %s, want %s", i, s, cases[i].json);
		free(s);
	}
}

static void test_refused(void **state)
{
	static const struct {
		const char *yaml;
		int ret;
		const char *err;
	} cases[] = {
		{ "a: 1\nb: 2\na: 3\n", -EINVAL, "line 3 column 1: key 'a' given twice" },
		{ "? [x]\n: 1\n", -EINVAL, "line 1 column 3: a mapping key that is not a scalar" },
		{ "a: [1, 2\nb: 3\n", -EINVAL, "line 2 column" },
		{ "a: *nothing\n", -EINVAL, "line 1 column" },
		{ "", -EINVAL, "no YAML document" },
		{ "# only a comment\n", -EINVAL, "no YAML document" },
		{ "a: \"x\\0y\"\n", -EINVAL, "a NUL character in a scalar" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";
		int ret;
		char *s = parse_print(cases[i].yaml, &ret, err, sizeof(err));

		if (ret != cases[i].ret || !strstr(err, cases[i].err))
			fail_msg("case %zu: got %d '%s' (%s), want %d '%s'", i, ret, err, s ? s : "", cases[i].ret,
				 cases[i].err);
	}
}

/* Nine levels of ten aliases each: 10^9 values if expanded. */
static void test_billion_laughs(void **state)
{
	char yaml[2048], err[256] = "";
	size_t n = 0;
	int ret;

	n += (size_t)snprintf(yaml + n, sizeof(yaml) - n, "a0: &a0 [lol]\n");
	for (int l = 1; l < 10; l++) {
		n += (size_t)snprintf(yaml + n, sizeof(yaml) - n, "a%d: &a%d [", l, l);
		for (int k = 0; k < 10; k++)
			n += (size_t)snprintf(yaml + n, sizeof(yaml) - n, "%s*a%d", k ? "," : "", l - 1);
		n += (size_t)snprintf(yaml + n, sizeof(yaml) - n, "]\n");
	}
	assert_true(n < sizeof(yaml));
	assert_null(parse_print(yaml, &ret, err, sizeof(err)));
	assert_int_equal(ret, -E2BIG);
	assert_non_null(strstr(err, "too many values"));
}

static void test_deep(void **state)
{
	char yaml[512], err[256] = "";
	int ret;

	memset(yaml, '[', 200);
	yaml[200] = '\0';
	memset(yaml + 200, ']', 200);
	yaml[400] = '\0';
	assert_null(parse_print(yaml, &ret, err, sizeof(err)));
	assert_int_equal(ret, -E2BIG);
	assert_non_null(strstr(err, "nested too deeply"));
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void test_kube_client_yaml(void **state)
{
	char dir[] = "/tmp/test_yaml_json.XXXXXX", path[64], err[512] = "";
	struct kube_client c;
	int ret;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/config", dir);
	write_file(path, kind_yaml);
	ret = kube_client_init(&c, path, err, sizeof(err));
	if (ret && ret != -ELIBACC) /* libcurl is loaded last; its absence is not this test's */
		fail_msg("%d %s", ret, err);
	assert_string_equal(c.server, "https://127.0.0.1:40711");
	assert_string_equal(c.ca_data, "---");
	assert_string_equal(c.token, "0123456789");
	kube_client_free(&c);

	write_file(path, "apiVersion: v1\nclusters: [\n");
	assert_int_equal(kube_client_init(&c, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "neither JSON nor YAML: line"));
	kube_client_free(&c);
	write_file(path, "just a string\n");
	assert_int_equal(kube_client_init(&c, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a mapping"));
	kube_client_free(&c);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kubeconfig),
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_billion_laughs),
		cmocka_unit_test(test_deep),
		cmocka_unit_test(test_kube_client_yaml),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
