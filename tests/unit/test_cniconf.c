/* The node's CNI conflist (daemon/cniconf.c): the template with the node's interface and pod
 * CIDRs filled in, written atomically and only when it changes; the built-in template is the
 * shipped manifests/10-podwire.conflist. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "daemon/cniconf.h"
#include "lib/fdio.h"

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/pn-unit-cniconf.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;

	assert_non_null(f);
	assert_int_equal(fd_read_all(fileno(f), 1 << 20, &text), 0);
	fclose(f);
	return text;
}

/* The manifest sits beside this file's tree; tests run from the top of it. */
static void test_builtin_is_the_manifest(void **state)
{
	char *shipped = slurp("manifests/10-podwire.conflist"), *out, err[128];
	cJSON *a, *b;

	assert_int_equal(cniconf_render(NULL, "wg-pods", 0, NULL, 0, &out, err, sizeof(err)), 0);
	a = cJSON_Parse(shipped);
	b = cJSON_Parse(out);
	assert_non_null(a);
	assert_non_null(b);
	assert_true(cJSON_Compare(a, b, true));
	assert_string_equal(cJSON_GetObjectItem(a, "cniVersion")->valuestring, "1.1.0");
	cJSON_Delete(a);
	cJSON_Delete(b);
	free(out);
	free(shipped);
}

static void test_render(void **state)
{
	struct ip_prefix cidrs[2];
	char *out, err[128];
	cJSON *c, *plugin, *ranges;

	assert_int_equal(ip_prefix_parse(&cidrs[0], "10.244.3.0/24"), 0);
	assert_int_equal(ip_prefix_parse(&cidrs[1], "fd44:0:0:3::/64"), 0);
	assert_int_equal(cniconf_render(NULL, "pnw1", 0, cidrs, 2, &out, err, sizeof(err)), 0);
	c = cJSON_Parse(out);
	plugin = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "plugins"), 0);
	assert_string_equal(cJSON_GetObjectItem(plugin, "interface")->valuestring, "pnw1");
	ranges = cJSON_GetObjectItem(cJSON_GetObjectItem(plugin, "ipam"), "ranges");
	assert_int_equal(cJSON_GetArraySize(ranges), 2);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetArrayItem(ranges, 0), 0), "subnet")->valuestring,
			    "10.244.3.0/24");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetArrayItem(ranges, 1), 0), "subnet")->valuestring,
			    "fd44:0:0:3::/64");
	/* The other plugins and fields stay as the template has them. */
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(c, "plugins"), 1), "type")->valuestring,
			    "portmap");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(plugin, "ipam"), "routes")), 2);
	cJSON_Delete(c);
	free(out);

	/* IPv4 only: the template's ::/0 route goes, as no pod gets an IPv6 address. */
	assert_int_equal(cniconf_render(NULL, "pnw1", 0, cidrs, 1, &out, err, sizeof(err)), 0);
	c = cJSON_Parse(out);
	plugin = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "plugins"), 0);
	ranges = cJSON_GetObjectItem(cJSON_GetObjectItem(plugin, "ipam"), "routes");
	assert_int_equal(cJSON_GetArraySize(ranges), 1);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(ranges, 0), "dst")->valuestring, "0.0.0.0/0");
	cJSON_Delete(c);
	free(out);

	/* The interface's MTU replaces the template's; 0 keeps it. */
	assert_int_equal(cniconf_render(NULL, "pnw1", 1320, cidrs, 1, &out, err, sizeof(err)), 0);
	c = cJSON_Parse(out);
	plugin = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "plugins"), 0);
	assert_int_equal(cJSON_GetObjectItem(plugin, "mtu")->valueint, 1320);
	cJSON_Delete(c);
	free(out);
	assert_int_equal(cniconf_render(NULL, "pnw1", 0, cidrs, 1, &out, err, sizeof(err)), 0);
	c = cJSON_Parse(out);
	plugin = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "plugins"), 0);
	assert_int_equal(cJSON_GetObjectItem(plugin, "mtu")->valueint, 1420);
	cJSON_Delete(c);
	free(out);

	/* A single-plugin .conf works too; an ipam section is made when it is missing. */
	assert_int_equal(cniconf_render("{\"cniVersion\":\"1.0.0\",\"name\":\"x\",\"type\":\"podwire\",\"vethPrefix\":\"v\"}",
					"wg-pods", 0, cidrs, 1, &out, err, sizeof(err)), 0);
	c = cJSON_Parse(out);
	assert_string_equal(cJSON_GetObjectItem(c, "vethPrefix")->valuestring, "v");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(c, "ipam"), "type")->valuestring, "podwire-ipam");
	cJSON_Delete(c);
	free(out);

	assert_int_equal(cniconf_render("{\"plugins\":[{\"type\":\"bridge\"}]}", "w", 0, cidrs, 1, &out, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "no plugin of type \"podwire\" in it");
	assert_int_equal(cniconf_render("{nope", "w", 0, cidrs, 1, &out, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "not a JSON object");
	assert_int_equal(cniconf_render("{\"type\":\"podwire\",\"ipam\":[]}", "w", 0, cidrs, 1, &out, err, sizeof(err)),
			 -EINVAL);
}

static void test_write(void **state)
{
	struct ip_prefix cidr;
	char path[128], tmpl[128], err[256], *text;
	struct stat st1, st2;
	int changed;
	FILE *f;

	assert_int_equal(ip_prefix_parse(&cidr, "10.244.7.0/24"), 0);
	assert_int_equal(cniconf_write(dir, NULL, "wg-pods", 0, &cidr, 1, &changed, err, sizeof(err)), 0);
	assert_int_equal(changed, 1);
	snprintf(path, sizeof(path), "%s/10-podwire.conflist", dir);
	assert_int_equal(stat(path, &st1), 0);
	assert_int_equal(st1.st_mode & 0777, 0644);
	text = slurp(path);
	assert_non_null(strstr(text, "\"10.244.7.0/24\""));
	free(text);
	/* Unchanged: not rewritten (same inode), so a runtime watching the directory sees nothing. */
	assert_int_equal(cniconf_write(dir, NULL, "wg-pods", 0, &cidr, 1, &changed, err, sizeof(err)), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(stat(path, &st2), 0);
	assert_int_equal(st1.st_ino, st2.st_ino);
	/* A template names the file; no temporary file is left behind. */
	snprintf(tmpl, sizeof(tmpl), "%s/05-mine.conflist", dir);
	f = fopen(tmpl, "w");
	fputs("{\"cniVersion\":\"1.1.0\",\"name\":\"m\",\"plugins\":[{\"type\":\"podwire\"}]}", f);
	fclose(f);
	assert_int_equal(mkdir(strcat(strcpy(path, dir), "/out"), 0755), 0);
	assert_int_equal(cniconf_write(path, tmpl, "wg-pods", 0, &cidr, 1, &changed, err, sizeof(err)), 0);
	assert_int_equal(system(strcat(strcat(strcpy(err, "test \"$(ls -A "), path), ")\" = 05-mine.conflist")), 0);
	assert_int_equal(cniconf_remove(path, tmpl), 0);
	assert_int_equal(cniconf_remove(path, tmpl), 0);
	assert_int_equal(system(strcat(strcat(strcpy(err, "test -z \"$(ls -A "), path), ")\"")), 0);
	/* Errors name the template or the file. */
	assert_int_equal(cniconf_write(dir, "/nonexistent/t.conflist", "w", 0, &cidr, 1, &changed, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "template /nonexistent/t.conflist: No such file or directory");
	assert_int_equal(cniconf_write("/nonexistent", NULL, "w", 0, &cidr, 1, &changed, err, sizeof(err)), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_is_the_manifest),
		cmocka_unit_test(test_render),
		cmocka_unit_test_setup_teardown(test_write, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
