/* Why an etcd store cannot be reached, said as the cause, against real etcd members started
 * here (skipped without the etcd and openssl binaries), in a network namespace of the test's
 * own: every way is -EHOSTUNREACH to the caller (the daemon keeps its mesh alike), and
 * store_strerror() names which one it was, from libcurl's code and error buffer, with what to
 * check, never "No route to host":
 *  - a port where nothing listens: "Connection refused";
 *  - a mistyped host name: "unknown host" and the name;
 *  - a hung etcd (SIGSTOPped: the kernel still accepts the connection): "timed out", after
 *    the 5 s call timeout, and the store works again, with no error left, once it runs;
 *  - an etcd with --client-cert-auth and no client certificate given: the TLS session
 *    refused, pointing at --etcd-cert/--etcd-key;
 *  - a CA that did not sign etcd's certificate: "not trusted", naming the CA file;
 *  - two members down in two ways: both named, each with its cause. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "mesh/store.h"
#include "etcd_fixture.h"
#include "private_net.h"

#define PLAIN_URL "http://127.0.0.1:23841"
#define TLS_URL "https://127.0.0.1:23843"
#define CLOSED_URL "http://127.0.0.1:23849"
#define TYPO_URL "http://etcd-typo.invalid:23841"

static pid_t plain_pid, tls_pid;

static int setup(void **state)
{
	if (etcd_sh("{ command -v etcd && command -v openssl && command -v curl; } >/dev/null") != 0)
		return 0;
	if (etcd_dir_make("/tmp/pn-unit-etcderr.XXXXXX"))
		return -1;
	plain_pid = etcd_start("pn-unit-plain", PLAIN_URL, "http://127.0.0.1:23842", NULL);
	tls_pid = etcd_start_tls("pn-unit-tlserr", TLS_URL, "http://127.0.0.1:23844");
	if (etcd_wait("curl -sf -m 1 -X POST -d '{}' " PLAIN_URL "/v3/maintenance/status"))
		return -1;
	return etcd_wait_tls(TLS_URL) ? -1 : 0;
}

static int teardown(void **state)
{
	etcd_stop(plain_pid);
	etcd_stop(tls_pid);
	return etcd_dir_remove();
}

/* The listing fails as unreachable, and the cause names every one of @want (NULL-ended). */
static void expect_cause(struct store *s, const char *const *want)
{
	struct store_kv *kvs = NULL;
	size_t n = 0;
	const char *why;

	assert_int_equal(store_list(s, "nodes/", &kvs, &n), -EHOSTUNREACH);
	why = store_strerror(s, -EHOSTUNREACH);
	fprintf(stderr, "cause: %s\n", why);
	assert_null(strstr(why, "No route to host"));
	for (; *want; want++) {
		if (!strstr(why, *want))
			fail_msg("'%s' lacks '%s'", why, *want);
	}
}

static bool have_etcd(void)
{
	if (plain_pid <= 0) {
		skip();
		return false;
	}
	return true;
}

static void test_refused(void **state)
{
	struct store *s;

	if (!have_etcd())
		return;
	assert_int_equal(etcd_open_at(&s, CLOSED_URL), 0);
	expect_cause(s, (const char *const[]){ CLOSED_URL ": Connection refused", "port 23849", "nothing listens there",
					       NULL });
	store_close(s);
}

static void test_unknown_host(void **state)
{
	struct store *s;

	if (!have_etcd())
		return;
	assert_int_equal(etcd_open_at(&s, TYPO_URL), 0);
	expect_cause(s, (const char *const[]){ TYPO_URL ": unknown host", "etcd-typo.invalid", "a typo", NULL });
	store_close(s);
}

static void test_hung(void **state)
{
	struct store *s;
	struct store_kv *kvs = NULL;
	size_t n = 0;
	struct timespec t0, t1;
	double dt;

	if (!have_etcd())
		return;
	assert_int_equal(etcd_open_at(&s, PLAIN_URL), 0);
	assert_int_equal(store_put(s, "nodes/h1", "record h1", false), 0);
	assert_string_equal(store_strerror(s, 0), strerror(0));
	assert_int_equal(kill(plain_pid, SIGSTOP), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_cause(s, (const char *const[]){ PLAIN_URL ": timed out", "did not answer within 5000 ms", "hung", NULL });
	clock_gettime(CLOCK_MONOTONIC, &t1);
	dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_int_equal(kill(plain_pid, SIGCONT), 0);
	assert_true(dt >= 4.5 && dt < 8);
	/* Running again: the listing works and no cause is left over. */
	assert_int_equal(store_list(s, "nodes/", &kvs, &n), 0);
	assert_int_equal(n, 1);
	store_kvs_free(kvs, n);
	assert_string_equal(store_strerror(s, -EIO), strerror(EIO));
	store_close(s);
}

static void test_no_client_cert(void **state)
{
	struct store *s;

	if (!have_etcd())
		return;
	assert_int_equal(etcd_open_at(&s, TLS_URL ";cacert=%s/ca.crt", etcd_dir), 0);
	expect_cause(s, (const char *const[]){ TLS_URL ": etcd refused the TLS session", "no client certificate",
					       "--etcd-cert and --etcd-key", NULL });
	store_close(s);
	/* With the certificate it works: the cause above was the missing one. */
	assert_int_equal(etcd_open_at(&s, TLS_URL ";cacert=%s/ca.crt;cert=%s/client.crt;key=%s/client.key",
				      etcd_dir, etcd_dir, etcd_dir),
			 0);
	assert_int_equal(store_put(s, "nodes/c1", "record c1", false), 0);
	store_close(s);
}

static void test_untrusted_ca(void **state)
{
	struct store *s;
	char other[96];

	if (!have_etcd())
		return;
	snprintf(other, sizeof(other), "--etcd-cacert %s/other.crt", etcd_dir);
	assert_int_equal(etcd_open_at(&s, TLS_URL ";cacert=%s/other.crt;cert=%s/client.crt;key=%s/client.key",
				      etcd_dir, etcd_dir, etcd_dir),
			 0);
	expect_cause(s, (const char *const[]){ TLS_URL ": etcd's certificate is not trusted", other, NULL });
	store_close(s);
}

static void test_two_members(void **state)
{
	struct store *s;

	if (!have_etcd())
		return;
	assert_int_equal(etcd_open_at(&s, CLOSED_URL "," TYPO_URL), 0);
	expect_cause(s, (const char *const[]){ CLOSED_URL ": Connection refused", "; " TYPO_URL ": unknown host", NULL });
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_unknown_host),
		cmocka_unit_test(test_hung),
		cmocka_unit_test(test_no_client_cert),
		cmocka_unit_test(test_untrusted_ca),
		cmocka_unit_test(test_two_members),
	};

	private_net_enter("test_store_etcd_errors");
	return cmocka_run_group_tests(tests, setup, teardown);
}
