/* Writing the node's record (against the real file store): written when its text changed,
 * when forced or after publish_forget(), and otherwise left alone, so that a record deleted
 * behind the daemon's back comes back only when the caller forces it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/publish.h"

#define KEY STORE_NODES_PREFIX "pub-node"

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/pn-unit-publish.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

/* The record in the store, or NULL when there is none. */
static char *stored(struct store *s)
{
	char *v = NULL;
	size_t len;

	return store_get(s, KEY, &v, &len) ? NULL : v;
}

static void test_publish(void **state)
{
	struct publish p = { 0 };
	struct store *s = NULL;
	struct node self = { 0 };
	time_t before = time(NULL);
	char *v;

	assert_int_equal(store_open(&s, "file", dir, 0), 0);
	snprintf(self.name, sizeof(self.name), "pub-node");
	memset(self.public_key, 0x42, sizeof(self.public_key));
	snprintf(self.endpoint, sizeof(self.endpoint), "192.0.2.1:51820");
	assert_int_equal(ip_addr_parse(&self.tunnel_ips[0], "10.99.0.1"), 0);
	self.n_tunnel_ips = 1;
	assert_int_equal(ip_prefix_parse(&self.pod_cidrs[0], "10.244.1.0/24"), 0);
	self.n_pod_cidrs = 1;
	self.mtu = 1420;

	/* First publish: written, with a fresh heartbeat. */
	assert_int_equal(publish_node(&p, s, &self, 3600, false), 0);
	assert_true(self.heartbeat >= before && self.heartbeat <= time(NULL));
	assert_non_null(v = stored(s));
	assert_string_equal(v, p.text);
	free(v);

	/* Same text, heartbeat not due: not written again (a deleted record stays deleted). */
	assert_int_equal(store_del(s, KEY), 0);
	assert_int_equal(publish_node(&p, s, &self, 3600, false), 0);
	assert_null(stored(s));
	/* Forced: written. */
	assert_int_equal(publish_node(&p, s, &self, 3600, true), 0);
	assert_non_null(v = stored(s));
	free(v);

	/* A changed record is written without force, and is what the store then holds. */
	self.mtu = 1380;
	assert_int_equal(publish_node(&p, s, &self, 3600, false), 0);
	assert_non_null(v = stored(s));
	assert_non_null(strstr(v, "1380"));
	assert_string_equal(v, p.text);
	free(v);

	/* Forgotten (a lost lease): the next publish writes in full. */
	assert_int_equal(store_del(s, KEY), 0);
	publish_forget(&p);
	assert_null(p.text);
	assert_int_equal(publish_node(&p, s, &self, 3600, false), 0);
	assert_non_null(v = stored(s));
	free(v);

	publish_forget(&p);
	node_clear(&self);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_publish, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
