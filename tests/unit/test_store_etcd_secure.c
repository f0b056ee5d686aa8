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
#include "etcd_fixture.h"
#include "private_net.h"

#define TLS_URL "https://127.0.0.1:23811"
#define AUTH_URL "http://127.0.0.1:23813"

static pid_t tls_pid, auth_pid;

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
		if (etcd_sh("%s >/dev/null", steps[i])) {
			fprintf(stderr, "failed: %s\n", steps[i]);
			return -1;
		}
	return etcd_sh("cd '%s' && umask 077 && echo n1pw >n1.pw && echo n2pw >n2.pw && echo wrong >bad.pw", etcd_dir);
}

static int setup(void **state)
{
	static const char *const auth_extra[] = { "--auth-token-ttl", "2", NULL };

	if (etcd_sh("{ command -v etcd && command -v etcdctl && command -v openssl; } >/dev/null") != 0)
		return 0;
	if (etcd_dir_make("/tmp/pn-unit-etcds.XXXXXX"))
		return -1;
	tls_pid = etcd_start_tls("pn-unit-tls", TLS_URL, "http://127.0.0.1:23812");
	auth_pid = etcd_start("pn-unit-auth", AUTH_URL, "http://127.0.0.1:23814", auth_extra);
	if (etcd_wait("curl -sf -m 1 --cacert /dev/null -X POST -d '{}' " AUTH_URL "/v3/maintenance/status") ||
	    make_users())
		return -1;
	return etcd_wait_tls(TLS_URL) ? -1 : 0;
}

static int teardown(void **state)
{
	etcd_stop(tls_pid);
	etcd_stop(auth_pid);
	return etcd_dir_remove();
}

static bool wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
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
	assert_int_equal(etcd_open_at(&s, TLS_URL ";cacert=%s/ca.crt;cert=%s/client.crt;key=%s/client.key",
				      etcd_dir, etcd_dir, etcd_dir),
			 0);
	assert_int_equal(etcd_open_at(&w, TLS_URL ";cacert=%s/ca.crt;cert=%s/client.crt;key=%s/client.key",
				      etcd_dir, etcd_dir, etcd_dir),
			 0);
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
	assert_int_equal(etcd_open_at(&s, TLS_URL ";cacert=%s/ca.crt", etcd_dir), 0);
	assert_int_equal(store_list(s, "nodes/", &kvs, &n), -EHOSTUNREACH);
	store_close(s);
	/* A CA that did not sign the server's certificate: not trusted. */
	assert_int_equal(etcd_open_at(&s, TLS_URL ";cacert=%s/other.crt;cert=%s/client.crt;key=%s/client.key",
				      etcd_dir, etcd_dir, etcd_dir),
			 0);
	assert_int_equal(store_list(s, "nodes/", &kvs, &n), -EHOSTUNREACH);
	store_close(s);
	/* Refused at once: a certificate without its key, TLS files for http://, a missing file,
	 * an unknown option. */
	assert_int_equal(etcd_open_at(&s, TLS_URL ";cert=%s/client.crt", etcd_dir), -EINVAL);
	assert_int_equal(etcd_open_at(&s, "http://127.0.0.1:23811;cacert=%s/ca.crt", etcd_dir), -EINVAL);
	assert_int_equal(etcd_open_at(&s, TLS_URL ";cacert=%s/none.crt", etcd_dir), -ENOENT);
	assert_int_equal(etcd_open_at(&s, TLS_URL ";bogus=1"), -EINVAL);
	assert_int_equal(etcd_open_at(&s, TLS_URL ";cacert=%s", etcd_dir), -EINVAL); /* a directory */
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
	return etcd_sh("curl -s -o /dev/null -w '%%{http_code}' -H 'Authorization: %s' -X POST -d '{\"key\":\"bm9kZXMv\"}' "
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
	assert_int_equal(etcd_open_at(&n1, AUTH_URL ";user=n1;password-file=%s/n1.pw", etcd_dir), 0);
	/* The password from the environment instead of a file. */
	setenv("PODWIRE_ETCD_PASSWORD", "n2pw", 1);
	assert_int_equal(etcd_open_at(&n2, AUTH_URL ";user=n2"), 0);
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
	assert_int_equal(etcd_open_at(&bad, AUTH_URL ";user=n1;password-file=%s/bad.pw", etcd_dir), 0);
	assert_int_equal(store_list(bad, "nodes/", &kvs, &n), -EACCES);
	store_close(bad);
	/* No password at all, or a password file without a user: refused at open. */
	assert_int_equal(etcd_open_at(&bad, AUTH_URL ";user=n1"), -EINVAL);
	assert_int_equal(etcd_open_at(&bad, AUTH_URL ";password-file=%s/n1.pw", etcd_dir), -EINVAL);
	/* Without a user, etcd with auth enabled refuses the anonymous listing. */
	assert_int_equal(etcd_open_at(&bad, AUTH_URL), 0);
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
