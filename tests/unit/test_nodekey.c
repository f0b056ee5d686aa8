/* The node's private key: created once 0600 and kept, read from a file or a command,
 * refused when others can read it; and the metrics text a scrape returns. */
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

#include "daemon/metrics.h"
#include "daemon/nodekey.h"

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/pn-unit-key.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void test_state_dir(void **state)
{
	struct nodekey_source src = { .state_dir = NULL };
	uint8_t a[WG_KEY_LEN], b[WG_KEY_LEN];
	char sub[128], path[160], err[256];
	struct stat st;

	snprintf(sub, sizeof(sub), "%s/state", dir);
	src.state_dir = sub;
	assert_int_equal(nodekey_load(&src, a, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/private.key", sub);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* A restart finds the same key. */
	assert_int_equal(nodekey_load(&src, b, err, sizeof(err)), 0);
	assert_memory_equal(a, b, WG_KEY_LEN);
	/* Readable by others: refused with the path and the fix in the message. */
	chmod(path, 0644);
	assert_int_equal(nodekey_load(&src, b, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "chmod 600"));
}

static void test_file_and_command(void **state)
{
	static const char *priv = "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=";
	struct nodekey_source src = { 0 };
	uint8_t k[WG_KEY_LEN], want[WG_KEY_LEN];
	char path[128], cmd[256], err[256];
	FILE *f;

	assert_int_equal(key_from_base64(want, priv), 0);
	snprintf(path, sizeof(path), "%s/k", dir);
	f = fopen(path, "w");
	fprintf(f, "%s\n", priv);
	fclose(f);
	chmod(path, 0600);
	src.file = path;
	assert_int_equal(nodekey_load(&src, k, err, sizeof(err)), 0);
	assert_memory_equal(k, want, WG_KEY_LEN);
	snprintf(cmd, sizeof(cmd), "cat %s", path);
	src.command = cmd;
	assert_int_equal(nodekey_load(&src, k, err, sizeof(err)), 0);
	assert_memory_equal(k, want, WG_KEY_LEN);
	src.command = "echo not-a-key";
	assert_int_equal(nodekey_load(&src, k, err, sizeof(err)), -EINVAL);
	assert_null(strstr(err, "not-a-key")); /* the command's output never reaches messages */
	src.command = "exit 3";
	assert_int_equal(nodekey_load(&src, k, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "status 3"));
	/* A command that hangs is killed: the daemon's start (and its SIGTERM) never waits forever. */
	src.command = "sleep 30";
	src.command_timeout_ms = 300;
	assert_int_equal(nodekey_load(&src, k, err, sizeof(err)), -ETIMEDOUT);
	assert_non_null(strstr(err, "did not finish within 300 ms"));
}

/* Only a regular file owned by us (or root) is a key file: a FIFO is refused at once (it
 * would block the daemon's start forever), a directory is refused, and so is a file another
 * user owns (it can choose our key), each with the path and the reason. */
static void test_file_type_and_owner(void **state)
{
	static const char *priv = "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=";
	struct nodekey_source src = { 0 };
	uint8_t k[WG_KEY_LEN];
	char path[128], err[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	src.file = path;
	assert_int_equal(nodekey_load(&src, k, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "not a regular file"));

	snprintf(path, sizeof(path), "%s/adir", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(nodekey_load(&src, k, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "not a regular file"));

	snprintf(path, sizeof(path), "%s/theirs", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", priv);
	fclose(f);
	chmod(path, 0600);
	if (geteuid() != 0) {
		/* Only root can give a file away; the check itself is the same code path. */
		print_message("not root: the other-owner case is not exercised\n");
		return;
	}
	assert_int_equal(chown(path, 65534, 65534), 0);
	assert_int_equal(nodekey_load(&src, k, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "owned by uid 65534"));
	/* Owned by root (we are root here) it is accepted. */
	assert_int_equal(chown(path, 0, 0), 0);
	assert_int_equal(nodekey_load(&src, k, err, sizeof(err)), 0);
}

static void test_metrics_text(void **state)
{
	struct metrics m;
	struct metrics_peer *p = calloc(1, sizeof(*p));
	char *text;

	metrics_init(&m, "pnwg0", "userspace");
	snprintf(p->name, sizeof(p->name), "n2");
	snprintf(p->public_key, sizeof(p->public_key), "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=");
	p->rx_bytes = 1234;
	p->tx_bytes = 99;
	p->last_handshake = 1700000000;
	metrics_set_peers(&m, p, 1);
	m.reconcile_total = 7;
	m.store_errors = 2;
	text = metrics_render(&m);
	assert_non_null(text);
	assert_non_null(strstr(text, "podwire_datapath_info{interface=\"pnwg0\",datapath=\"userspace\"} 1\n"));
	assert_non_null(strstr(text, "podwire_peer_receive_bytes_total{interface=\"pnwg0\",node=\"n2\","
				     "public_key=\"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=\"} 1234\n"));
	assert_non_null(strstr(text, "podwire_peer_transmit_bytes_total{interface=\"pnwg0\",node=\"n2\""));
	assert_non_null(strstr(text, "} 1700000000\n"));
	assert_non_null(strstr(text, "podwire_reconcile_total 7\n"));
	assert_non_null(strstr(text, "# TYPE podwire_store_errors_total counter\npodwire_store_errors_total 2\n"));
	free(text);
	metrics_stop(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_dir),
		cmocka_unit_test(test_file_and_command),
		cmocka_unit_test(test_file_type_and_owner),
		cmocka_unit_test(test_metrics_text),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
