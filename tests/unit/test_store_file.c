/* The file store: put/get/list/del, compare-and-swap, the inotify watch, and that a node
 * file is a config wg(8) itself accepts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "mesh/store.h"

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/pn-unit-store.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void test_kv(void **state)
{
	struct store *s, *s2;
	struct store_kv *kvs;
	char *v;
	size_t n, len;

	assert_int_equal(store_file_open(&s, dir), 0);
	assert_int_equal(store_file_open(&s2, dir), 0);
	assert_int_equal(store_watch_drain(s), 0);
	assert_int_equal(store_put(s, "nodes/b", "[Peer]\n# Name = b\n", false), 0);
	assert_int_equal(store_put(s, "nodes/a", "[Peer]\n# Name = a\n", true), 0);
	assert_int_equal(store_put(s, "alloc/10.0.0.0_24", "a", false), 0);
	/* The other handle (another node) sees the change through inotify. */
	assert_int_equal(store_watch_drain(s2), 1);
	assert_int_equal(store_watch_drain(s2), 0);
	assert_int_equal(store_get(s2, "nodes/a", &v, &len), 0);
	assert_string_equal(v, "[Peer]\n# Name = a\n");
	assert_int_equal(len, strlen(v));
	free(v);
	assert_int_equal(store_get(s2, "nodes/zz", &v, &len), -ENOENT);
	assert_int_equal(store_list(s2, "nodes/", &kvs, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(kvs[0].key, "nodes/a");
	assert_string_equal(kvs[1].key, "nodes/b");
	store_kvs_free(kvs, n);
	assert_int_equal(store_list(s2, "alloc/", &kvs, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(kvs[0].value, "a");
	store_kvs_free(kvs, n);
	assert_int_equal(store_del(s, "nodes/b"), 0);
	assert_int_equal(store_del(s, "nodes/b"), 0);
	assert_int_equal(store_watch_drain(s2), 1);
	assert_int_equal(store_list(s2, "nodes/", &kvs, &n), 0);
	assert_int_equal(n, 1);
	store_kvs_free(kvs, n);
	/* Keys that would escape the directory are refused. */
	assert_int_equal(store_put(s, "nodes/../x", "x", false), -EINVAL);
	assert_int_equal(store_put(s, "nodes/.x", "x", false), -EINVAL);
	assert_int_equal(store_put(s, "nodes/a/b", "x", false), -EINVAL);
	assert_int_equal(store_put(s, "noslash", "x", false), -EINVAL);
	store_close(s);
	store_close(s2);
}

static void test_cas(void **state)
{
	struct store *s;
	char *v;

	assert_int_equal(store_file_open(&s, dir), 0);
	assert_int_equal(store_cas(s, "alloc/x", NULL, "one"), 0);
	assert_int_equal(store_cas(s, "alloc/x", NULL, "two"), -ECANCELED);
	assert_int_equal(store_cas(s, "alloc/x", "two", "three"), -ECANCELED);
	assert_int_equal(store_cas(s, "alloc/x", "one", "three"), 0);
	assert_int_equal(store_get(s, "alloc/x", &v, NULL), 0);
	assert_string_equal(v, "three");
	free(v);
	assert_int_equal(store_cas(s, "alloc/x", "three", NULL), 0);
	assert_int_equal(store_get(s, "alloc/x", &v, NULL), -ENOENT);
	assert_int_equal(store_cas(s, "alloc/x", "three", NULL), -ECANCELED);
	store_close(s);
}

/* The store directory moved away (an unmounted share) fails the listing: an empty one would
 * make podwired remove every peer. A key prefix nobody wrote yet still lists as empty. */
static void test_list_missing_dir(void **state)
{
	struct store *s;
	struct store_kv *kvs = NULL;
	char away[80];
	size_t n = 7;

	assert_int_equal(store_file_open(&s, dir), 0);
	assert_int_equal(store_put(s, "nodes/a", "[Peer]\n# Name = a\n", false), 0);
	assert_int_equal(store_list(s, "other/", &kvs, &n), 0);
	assert_int_equal(n, 0);
	snprintf(away, sizeof(away), "%s.away", dir);
	assert_int_equal(rename(dir, away), 0);
	assert_int_equal(store_list(s, "nodes/", &kvs, &n), -ENOENT);
	assert_int_equal(n, 0);
	assert_null(kvs);
	assert_int_equal(rename(away, dir), 0);
	assert_int_equal(store_list(s, "nodes/", &kvs, &n), 0);
	assert_int_equal(n, 1);
	store_kvs_free(kvs, n);
	store_close(s);
}

/* Many processes claiming the same key: exactly one wins (flock serialises them). */
static void test_cas_race(void **state)
{
	int wins = 0;

	for (int i = 0; i < 8; i++) {
		if (fork() == 0) {
			struct store *s;
			char me[16];

			snprintf(me, sizeof(me), "p%d", i);
			if (store_file_open(&s, dir))
				_exit(2);
			_exit(store_cas(s, "alloc/race", NULL, me) == 0 ? 0 : 1);
		}
	}
	for (int i = 0; i < 8; i++) {
		int status;

		wait(&status);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) < 2);
		wins += WEXITSTATUS(status) == 0;
	}
	assert_int_equal(wins, 1);
}

static void test_wg_accepts_record(void **state)
{
	struct store *s;
	char cmd[256];
	int rc;

	if (system("command -v wg >/dev/null 2>&1")) {
		skip();
		return;
	}
	assert_int_equal(store_file_open(&s, dir), 0);
	assert_int_equal(store_put(s, "nodes/w",
				   "[Peer]\n# Name = w\n# TunnelIP = 10.99.0.9\n"
				   "PublicKey = hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=\n"
				   "Endpoint = 192.0.2.1:51820\nAllowedIPs = 10.99.0.9/32\n", false),
			 0);
	store_close(s);
	/* `wg strip`-like check without a device: wg-quick strip needs a file; use wg's parser via
	 * `wg setconf` on a missing device, which parses first and fails only on the device. */
	snprintf(cmd, sizeof(cmd), "wg setconf pn-no-such-dev %s/w.conf 2>&1 | grep -q 'Unable to modify'", dir);
	rc = system(cmd);
	assert_int_equal(rc, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kv),
		cmocka_unit_test(test_cas),
		cmocka_unit_test(test_list_missing_dir),
		cmocka_unit_test(test_cas_race),
		cmocka_unit_test(test_wg_accepts_record),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
