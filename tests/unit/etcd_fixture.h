/* etcd_fixture.h — real etcd members for the etcd store tests, started from the test's own
 * temporary directory (etcd_dir: data, logs and certificates), and what they share: a shell
 * command, openssl's CA, server (127.0.0.1) and client certificates plus a CA that signed
 * nothing, a member serving https:// with --client-cert-auth, and a store opened at a formatted
 * location. Header only, like tests/unit/world.h; include it after cmocka.h, and with
 * private_net.h when the test enters a network namespace of its own. */
#ifndef PODWIRE_TESTS_UNIT_ETCD_FIXTURE_H
#define PODWIRE_TESTS_UNIT_ETCD_FIXTURE_H

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mesh/store.h"

static char etcd_dir[64];

/* The exit status of the shell command (-1: it did not exit). */
static inline int etcd_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int etcd_sh(const char *fmt, ...)
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

/* etcd --name @name as a one-member cluster, its data and log in etcd_dir, with @extra
 * (NULL-ended, may be NULL) after the URLs. */
static inline pid_t etcd_start(const char *name, const char *client, const char *peer, const char *const *extra)
{
	char data[128], cluster[160];
	const char *argv[32] = { "etcd", "--name", name, "--data-dir", data, "--listen-client-urls", client,
				 "--advertise-client-urls", client, "--listen-peer-urls", peer,
				 "--initial-advertise-peer-urls", peer, "--initial-cluster", cluster };
	size_t n = 15;
	pid_t pid;

	snprintf(data, sizeof(data), "%s/%s", etcd_dir, name);
	snprintf(cluster, sizeof(cluster), "%s=%s", name, peer);
	for (; extra && *extra && n < 30; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		char log[160];
		int fd;

		snprintf(log, sizeof(log), "%s/%s.log", etcd_dir, name);
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execvp("etcd", (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* The member stopped (even a SIGSTOPped one) and reaped; nothing when it never started. */
static inline void etcd_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGCONT);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* 0 once the shell command @health succeeds, tried every 0.1 s for 15 s; -1 otherwise. */
static inline int etcd_wait(const char *health)
{
	for (int i = 0; i < 150; i++) {
		if (!etcd_sh("%s >/dev/null 2>&1", health))
			return 0;
		usleep(100 * 1000);
	}
	return -1;
}

/* openssl makes in etcd_dir a CA (ca.crt), a server certificate for 127.0.0.1 (server.crt,
 * server.key), a client certificate (client.crt, client.key), and a second CA that signed
 * nothing here (other.crt): a client trusting it must not connect. */
static inline int etcd_make_certs(void)
{
	return etcd_sh("cd '%s' && umask 077 && "
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
		       etcd_dir);
}

/* etcd_dir made from @template (ending in XXXXXX), with etcd_make_certs()' files in it. */
static inline int etcd_dir_make(const char *template)
{
	snprintf(etcd_dir, sizeof(etcd_dir), "%s", template);
	return mkdtemp(etcd_dir) && !etcd_make_certs() ? 0 : -1;
}

/* etcd_dir and all in it removed (nothing when it was never named). */
static inline int etcd_dir_remove(void)
{
	return etcd_dir[0] ? etcd_sh("rm -rf '%s'", etcd_dir) : 0;
}

/* A member serving only https:// at @client with etcd_make_certs()' server certificate, and
 * --client-cert-auth: a client must show a certificate signed by ca.crt. */
static inline pid_t etcd_start_tls(const char *name, const char *client, const char *peer)
{
	char crt[96], key[96], ca[96];
	const char *const tls[] = { "--cert-file", crt, "--key-file", key, "--trusted-ca-file", ca,
				    "--client-cert-auth", NULL };

	snprintf(crt, sizeof(crt), "%s/server.crt", etcd_dir);
	snprintf(key, sizeof(key), "%s/server.key", etcd_dir);
	snprintf(ca, sizeof(ca), "%s/ca.crt", etcd_dir);
	return etcd_start(name, client, peer, tls);
}

/* 0 once the https:// member at @url answers a client with the client certificate. */
static inline int etcd_wait_tls(const char *url)
{
	char health[1024];

	snprintf(health, sizeof(health),
		 "curl -sf -m 1 --cacert '%s/ca.crt' --cert '%s/client.crt' --key '%s/client.key' -X POST -d '{}' "
		 "%s/v3/maintenance/status",
		 etcd_dir, etcd_dir, etcd_dir, url);
	return etcd_wait(health);
}

/* store_etcd_open() at the location made from @fmt, with a 5 s call timeout. */
static inline int etcd_open_at(struct store **s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline int etcd_open_at(struct store **s, const char *fmt, ...)
{
	char loc[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(loc, sizeof(loc), fmt, ap);
	va_end(ap);
	return store_etcd_open(s, loc, 5);
}

#endif
