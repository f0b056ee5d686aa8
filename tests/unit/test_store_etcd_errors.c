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
#include "private_net.h"

#define PLAIN_URL "http://127.0.0.1:23841"
#define TLS_URL "https://127.0.0.1:23843"
#define CLOSED_URL "http://127.0.0.1:23849"
#define TYPO_URL "http://etcd-typo.invalid:23841"

static char dir[64];
static pid_t plain_pid, tls_pid;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static pid_t etcd_start(const char *name, const char *client, const char *peer, const char *const *extra)
{
	char data[128], cluster[160];
	const char *argv[32] = { "etcd", "--name", name, "--data-dir", data, "--listen-client-urls", client,
				 "--advertise-client-urls", client, "--listen-peer-urls", peer,
				 "--initial-advertise-peer-urls", peer, "--initial-cluster", cluster };
	size_t n = 15;
	pid_t pid;

	snprintf(data, sizeof(data), "%s/%s", dir, name);
	snprintf(cluster, sizeof(cluster), "%s=%s", name, peer);
	for (; extra && *extra && n < 30; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		char log[160];
		int fd;

		snprintf(log, sizeof(log), "%s/%s.log", dir, name);
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execvp("etcd", (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static int setup(void **state)
{
	static const char *const tls_extra[] = { "--cert-file", NULL, "--key-file", NULL, "--trusted-ca-file", NULL,
						 "--client-cert-auth", NULL };
	const char *tls[9];
	char crt[96], key[96], ca[96];

	if (sh("{ command -v etcd && command -v openssl && command -v curl; } >/dev/null") != 0)
		return 0;
	snprintf(dir, sizeof(dir), "/tmp/pn-unit-etcderr.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	/* A CA, etcd's certificate for 127.0.0.1, a client certificate, and a CA that signed nothing. */
	if (sh("cd '%s' && umask 077 && "
	       "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key "
	       "-out ca.crt -days 1 -subj /CN=pn-unit-ca 2>/dev/null && "
	       "printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth,clientAuth\\n' >server.ext && "
	       "printf 'extendedKeyUsage=clientAuth\\n' >client.ext && "
	       "for who in server client; do "
	       "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $who.key -out $who.csr "
	       "-subj /CN=pn-unit-$who 2>/dev/null && "
	       "openssl x509 -req -in $who.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out $who.crt -days 1 "
	       "-extfile $who.ext 2>/dev/null || exit 1; done && "
	       "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout other.key "
	       "-out other.crt -days 1 -subj /CN=pn-unit-other 2>/dev/null",
	       dir))
		return -1;
	snprintf(crt, sizeof(crt), "%s/server.crt", dir);
	snprintf(key, sizeof(key), "%s/server.key", dir);
	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	memcpy(tls, tls_extra, sizeof(tls_extra));
	tls[1] = crt, tls[3] = key, tls[5] = ca;
	plain_pid = etcd_start("pn-unit-plain", PLAIN_URL, "http://127.0.0.1:23842", NULL);
	tls_pid = etcd_start("pn-unit-tlserr", TLS_URL, "http://127.0.0.1:23844", tls);
	return sh("cd '%s' && for i in $(seq 150); do "
		  "curl -sf -m 1 -X POST -d '{}' " PLAIN_URL "/v3/maintenance/status >/dev/null && "
		  "curl -sf -m 1 --cacert ca.crt --cert client.crt --key client.key -X POST -d '{}' " TLS_URL
		  "/v3/maintenance/status >/dev/null && exit 0; sleep 0.1; done; exit 1",
		  dir) ? -1 : 0;
}

static int teardown(void **state)
{
	pid_t pids[] = { plain_pid, tls_pid };

	for (size_t i = 0; i < 2; i++)
		if (pids[i] > 0) {
			kill(pids[i], SIGCONT);
			kill(pids[i], SIGTERM);
			waitpid(pids[i], NULL, 0);
		}
	return dir[0] ? sh("rm -rf '%s'", dir) : 0;
}

static int open_at(struct store **s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int open_at(struct store **s, const char *fmt, ...)
{
	char loc[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(loc, sizeof(loc), fmt, ap);
	va_end(ap);
	return store_etcd_open(s, loc, 5);
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
	assert_int_equal(open_at(&s, CLOSED_URL), 0);
	expect_cause(s, (const char *const[]){ CLOSED_URL ": Connection refused", "port 23849", "nothing listens there",
					       NULL });
	store_close(s);
}

static void test_unknown_host(void **state)
{
	struct store *s;

	if (!have_etcd())
		return;
	assert_int_equal(open_at(&s, TYPO_URL), 0);
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
	assert_int_equal(open_at(&s, PLAIN_URL), 0);
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
	assert_int_equal(open_at(&s, TLS_URL ";cacert=%s/ca.crt", dir), 0);
	expect_cause(s, (const char *const[]){ TLS_URL ": etcd refused the TLS session", "no client certificate",
					       "--etcd-cert and --etcd-key", NULL });
	store_close(s);
	/* With the certificate it works: the cause above was the missing one. */
	assert_int_equal(open_at(&s, TLS_URL ";cacert=%s/ca.crt;cert=%s/client.crt;key=%s/client.key", dir, dir, dir), 0);
	assert_int_equal(store_put(s, "nodes/c1", "record c1", false), 0);
	store_close(s);
}

static void test_untrusted_ca(void **state)
{
	struct store *s;
	char other[96];

	if (!have_etcd())
		return;
	snprintf(other, sizeof(other), "--etcd-cacert %s/other.crt", dir);
	assert_int_equal(open_at(&s, TLS_URL ";cacert=%s/other.crt;cert=%s/client.crt;key=%s/client.key", dir, dir, dir),
			 0);
	expect_cause(s, (const char *const[]){ TLS_URL ": etcd's certificate is not trusted", other, NULL });
	store_close(s);
}

static void test_two_members(void **state)
{
	struct store *s;

	if (!have_etcd())
		return;
	assert_int_equal(open_at(&s, CLOSED_URL "," TYPO_URL), 0);
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
