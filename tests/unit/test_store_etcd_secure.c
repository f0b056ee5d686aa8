/* The etcd store against two real etcd members started here on 127.0.0.1 (skipped without
 * the etcd, etcdctl and openssl binaries):
 *  - one serving only https:// with client certificate authentication (--client-cert-auth),
 *    with a CA, server and client certificates that openssl makes in the test;
 *  - one with etcd's user/password authentication, the README's RBAC roles (each node may
 *    write only its own record), and auth tokens that expire after 2 seconds. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "mesh/store.h"
#include "private_net.h"

#define TLS_URL "https://127.0.0.1:23811"
#define AUTH_URL "http://127.0.0.1:23813"

static char dir[64];
static pid_t tls_pid, auth_pid;

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

static int etcd_wait(const char *health)
{
	for (int i = 0; i < 150; i++) {
		if (!sh("%s >/dev/null 2>&1", health))
			return 0;
		usleep(100 * 1000);
	}
	return -1;
}

/* openssl makes a CA, a server certificate for 127.0.0.1 and a client certificate. */
static int make_certs(void)
{
	return sh("cd '%s' && umask 077 && "
		  "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key "
		  "-out ca.crt -days 1 -subj /CN=pn-unit-ca 2>/dev/null && "
		  "printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth,clientAuth\\n' >server.ext && "
		  "printf 'extendedKeyUsage=clientAuth\\n' >client.ext && "
		  "for who in server client; do "
		  "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $who.key -out $who.csr "
		  "-subj /CN=pn-unit-$who 2>/dev/null && "
		  "openssl x509 -req -in $who.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out $who.crt -days 1 "
		  "-extfile $who.ext 2>/dev/null || exit 1; done && "
		  /* a second CA that signed nothing here: a client trusting it must not connect */
		  "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout other.key "
		  "-out other.crt -days 1 -subj /CN=pn-unit-other 2>/dev/null",
		  dir);
}

#define CTL "ETCDCTL_API=3 etcdctl --endpoints " AUTH_URL " "
#define ROOT CTL "--user root:rootpw "

/* The README's RBAC example, for nodes n1 and n2. */
static int make_users(void)
{
	static const char *const steps[] = {
		CTL "user add root --new-user-password rootpw --interactive=false",
		CTL "user grant-role root root",
		CTL "auth enable",
		ROOT "role add podwire-node-n1",
		ROOT "role grant-permission podwire-node-n1 readwrite nodes/n1",
		ROOT "role grant-permission podwire-node-n1 read alloc/ nodes0",
		ROOT "role grant-permission podwire-node-n1 --prefix=true readwrite alloc/",
		ROOT "role grant-permission podwire-node-n1 readwrite cluster/pools",
		ROOT "user add n1 --new-user-password n1pw --interactive=false",
		ROOT "user grant-role n1 podwire-node-n1",
		ROOT "role add podwire-node-n2",
		ROOT "role grant-permission podwire-node-n2 readwrite nodes/n2",
		ROOT "role grant-permission podwire-node-n2 read alloc/ nodes0",
		ROOT "role grant-permission podwire-node-n2 --prefix=true readwrite alloc/",
		ROOT "role grant-permission podwire-node-n2 readwrite cluster/pools",
		ROOT "user add n2 --new-user-password n2pw --interactive=false",
		ROOT "user grant-role n2 podwire-node-n2",
	};

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (sh("%s >/dev/null", steps[i])) {
			fprintf(stderr, "failed: %s\n", steps[i]);
			return -1;
		}
	return sh("cd '%s' && umask 077 && echo n1pw >n1.pw && echo n2pw >n2.pw && echo wrong >bad.pw", dir);
}

static int setup(void **state)
{
	static const char *const tls_extra[] = { "--cert-file", NULL, "--key-file", NULL, "--trusted-ca-file", NULL,
						 "--client-cert-auth", NULL };
	const char *tls[9];
	static const char *const auth_extra[] = { "--auth-token-ttl", "2", NULL };
	char crt[96], key[96], ca[96];

	if (sh("{ command -v etcd && command -v etcdctl && command -v openssl; } >/dev/null") != 0)
		return 0;
	snprintf(dir, sizeof(dir), "/tmp/pn-unit-etcds.XXXXXX");
	if (!mkdtemp(dir) || make_certs())
		return -1;
	snprintf(crt, sizeof(crt), "%s/server.crt", dir);
	snprintf(key, sizeof(key), "%s/server.key", dir);
	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	memcpy(tls, tls_extra, sizeof(tls_extra));
	tls[1] = crt, tls[3] = key, tls[5] = ca;
	tls_pid = etcd_start("pn-unit-tls", TLS_URL, "http://127.0.0.1:23812", tls);
	auth_pid = etcd_start("pn-unit-auth", AUTH_URL, "http://127.0.0.1:23814", auth_extra);
	if (etcd_wait("curl -sf -m 1 --cacert /dev/null -X POST -d '{}' " AUTH_URL "/v3/maintenance/status") ||
	    make_users())
		return -1;
	return sh("cd '%s' && for i in $(seq 150); do curl -sf -m 1 --cacert ca.crt --cert client.crt --key client.key "
		  "-X POST -d '{}' " TLS_URL "/v3/maintenance/status >/dev/null && exit 0; sleep 0.1; done; exit 1",
		  dir) ? -1 : 0;
}

static int teardown(void **state)
{
	if (tls_pid > 0) {
		kill(tls_pid, SIGTERM);
		waitpid(tls_pid, NULL, 0);
	}
	if (auth_pid > 0) {
		kill(auth_pid, SIGTERM);
		waitpid(auth_pid, NULL, 0);
	}
	return dir[0] ? sh("rm -rf '%s'", dir) : 0;
}

static bool wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
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

/* TLS with client certificates: the store works, watch included; without the client
 * certificate, or trusting another CA, etcd cannot be reached; wrong options are refused
 * when the store is opened, naming what is wrong. */
static void test_tls(void **state)
{
	struct store *s, *w;
	struct store_kv *kvs;
	size_t n;
	char *v;

	if (tls_pid <= 0) {
		skip();
		return;
	}
	assert_int_equal(open_at(&s, TLS_URL ";cacert=%s/ca.crt;cert=%s/client.crt;key=%s/client.key", dir, dir, dir), 0);
	assert_int_equal(open_at(&w, TLS_URL ";cacert=%s/ca.crt;cert=%s/client.crt;key=%s/client.key", dir, dir, dir), 0);
	assert_int_equal(store_put(s, "nodes/t1", "record t1", true), 0);
	assert_int_equal(store_get(w, "nodes/t1", &v, &n), 0);
	assert_string_equal(v, "record t1");
	free(v);
	/* The watch thread connects over TLS too: a change wakes it. */
	assert_int_equal(store_put(s, "nodes/t2", "record t2", false), 0);
	for (int i = 0; i < 50 && !wait_readable(store_watch_fd(w), 100); i++)
		assert_int_equal(store_put(s, "nodes/t2", "record t2", false), 0);
	assert_true(wait_readable(store_watch_fd(w), 3000));
	assert_int_equal(store_list(w, "nodes/", &kvs, &n), 0);
	assert_int_equal(n, 2);
	store_kvs_free(kvs, n);
	assert_int_equal(store_cas(s, "alloc/t", NULL, "t1"), 0);
	store_close(w);
	store_close(s);

	/* No client certificate: etcd --client-cert-auth refuses the handshake. */
	assert_int_equal(open_at(&s, TLS_URL ";cacert=%s/ca.crt", dir), 0);
	assert_int_equal(store_list(s, "nodes/", &kvs, &n), -EHOSTUNREACH);
	store_close(s);
	/* A CA that did not sign the server's certificate: not trusted. */
	assert_int_equal(open_at(&s, TLS_URL ";cacert=%s/other.crt;cert=%s/client.crt;key=%s/client.key", dir, dir, dir), 0);
	assert_int_equal(store_list(s, "nodes/", &kvs, &n), -EHOSTUNREACH);
	store_close(s);
	/* Refused at once: a certificate without its key, TLS files for http://, a missing file,
	 * an unknown option. */
	assert_int_equal(open_at(&s, TLS_URL ";cert=%s/client.crt", dir), -EINVAL);
	assert_int_equal(open_at(&s, "http://127.0.0.1:23811;cacert=%s/ca.crt", dir), -EINVAL);
	assert_int_equal(open_at(&s, TLS_URL ";cacert=%s/none.crt", dir), -ENOENT);
	assert_int_equal(open_at(&s, TLS_URL ";bogus=1"), -EINVAL);
	assert_int_equal(open_at(&s, TLS_URL ";cacert=%s", dir), -EINVAL); /* a directory */
}

/* A token taken now, through etcd's own gateway with curl. */
static int fresh_token(const char *user, const char *pw, char *out, size_t len)
{
	char cmd[512];
	FILE *p;
	int ok;

	snprintf(cmd, sizeof(cmd),
		 "curl -sf -X POST -d '{\"name\":\"%s\",\"password\":\"%s\"}' " AUTH_URL
		 "/v3/auth/authenticate | python3 -c 'import sys,json; print(json.load(sys.stdin)[\"token\"])'",
		 user, pw);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	ok = fgets(out, (int)len, p) != NULL;
	pclose(p);
	out[strcspn(out, "\n")] = '\0';
	return ok && out[0] ? 0 : -1;
}

static bool token_refused(const char *token)
{
	return sh("curl -s -o /dev/null -w '%%{http_code}' -H 'Authorization: %s' -X POST -d '{\"key\":\"bm9kZXMv\"}' "
		  AUTH_URL "/v3/kv/range | grep -q 401",
		  token) == 0;
}

/* User/password authentication and the README's RBAC: each node writes its own record and
 * claims, reads everyone's, and etcd refuses its write of another node's record. */
static void test_auth_rbac(void **state)
{
	struct store *n1, *n2, *bad;
	struct store_kv *kvs;
	char token[512];
	size_t n;

	if (auth_pid <= 0) {
		skip();
		return;
	}
	assert_int_equal(open_at(&n1, AUTH_URL ";user=n1;password-file=%s/n1.pw", dir), 0);
	/* The password from the environment instead of a file. */
	setenv("PODWIRE_ETCD_PASSWORD", "n2pw", 1);
	assert_int_equal(open_at(&n2, AUTH_URL ";user=n2"), 0);
	unsetenv("PODWIRE_ETCD_PASSWORD");
	usleep(300 * 1000); /* let n2's watch stream open */
	while (wait_readable(store_watch_fd(n2), 200))
		store_watch_drain(n2);

	assert_int_equal(store_put(n1, "nodes/n1", "record n1", true), 0);
	assert_int_equal(store_put(n2, "nodes/n2", "record n2", true), 0);
	/* n2's watch, authenticated as n2 and allowed to read [alloc/, nodes0), saw it. */
	assert_true(wait_readable(store_watch_fd(n2), 3000));
	assert_int_equal(store_watch_drain(n2), 1);
	/* The hostile writer: n1 overwriting or deleting n2's record is refused by etcd. */
	assert_int_equal(store_put(n1, "nodes/n2", "hijacked", false), -EACCES);
	assert_int_equal(store_cas(n1, "nodes/n2", "record n2", "hijacked"), -EACCES);
	assert_int_equal(store_del(n1, "nodes/n2"), -EACCES);
	assert_int_equal(store_put(n1, "nodes/n3", "a record for nobody", false), -EACCES);
	/* Claims and the pools stay open to every node (first come, first served by CAS). */
	assert_int_equal(store_cas(n1, "alloc/10.244.1.0_24", NULL, "n1"), 0);
	assert_int_equal(store_cas(n2, "alloc/10.244.1.0_24", NULL, "n2"), -ECANCELED);
	assert_int_equal(store_cas(n2, "cluster/pools", NULL, "pools"), 0);
	assert_int_equal(store_list(n1, "nodes/", &kvs, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(kvs[1].value, "record n2");
	store_kvs_free(kvs, n);

	/* Tokens live 2 s unused here (--auth-token-ttl 2; each use extends a token, so its
	 * expiry cannot be polled for): after 3.5 s idle, one taken now is refused, n1's too, and
	 * n1's next call authenticates again by itself. */
	assert_int_equal(fresh_token("n1", "n1pw", token, sizeof(token)), 0);
	assert_false(token_refused(token));
	usleep(3500 * 1000);
	assert_true(token_refused(token));
	assert_int_equal(store_list(n1, "nodes/", &kvs, &n), 0);
	assert_int_equal(n, 2);
	store_kvs_free(kvs, n);
	assert_int_equal(store_put(n1, "nodes/n1", "record n1 again", true), 0);
	store_close(n1);
	store_close(n2);

	/* A wrong password: refused by etcd (-EACCES), and said so in the log. */
	assert_int_equal(open_at(&bad, AUTH_URL ";user=n1;password-file=%s/bad.pw", dir), 0);
	assert_int_equal(store_list(bad, "nodes/", &kvs, &n), -EACCES);
	store_close(bad);
	/* No password at all, or a password file without a user: refused at open. */
	assert_int_equal(open_at(&bad, AUTH_URL ";user=n1"), -EINVAL);
	assert_int_equal(open_at(&bad, AUTH_URL ";password-file=%s/n1.pw", dir), -EINVAL);
	/* Without a user, etcd with auth enabled refuses the anonymous listing. */
	assert_int_equal(open_at(&bad, AUTH_URL), 0);
	assert_true(store_list(bad, "nodes/", &kvs, &n) < 0);
	store_close(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_auth_rbac),
	};
	private_net_enter("test_store_etcd_secure");
	return cmocka_run_group_tests(tests, setup, teardown);
}
