/* endpoint_cache: record endpoints resolved without stalling the daemon. IP literals at
 * once; a DNS name through a real resolver (glibc, with /etc/resolv.conf bind-mounted in a
 * private mount namespace to a nameserver this test runs on 127.0.0.1, which answers each
 * query only after DNS_DELAY_MS): the first pass does not wait for the slow answer beyond
 * its budget, a later pass picks it up, and the answer is cached (no new query) until its
 * TTL. Before, every reconcile called getaddrinfo() and waited for the answer, per record. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/endpoint_cache.h"
#include "daemon/reconcile.h"
#include "private_net.h"

#define DNS_DELAY_MS 1500
#define DNS_PORT 53

static int dns_fd = -1;
static atomic_int queries;
static atomic_bool dns_stop;
static pthread_t dns_thread;
static bool have_dns;

/* A nameserver for one name: every A query for slow.pn-unit gets 192.0.2.77 after
 * DNS_DELAY_MS; anything else NXDOMAIN, also late. */
static void *dns_serve(void *arg)
{
	unsigned char buf[512];

	while (!atomic_load(&dns_stop)) {
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(dns_fd, buf, sizeof(buf) - 16, 0, (struct sockaddr *)&from, &flen);
		size_t qend = 12;
		bool a_query, ours;

		if (n < 12)
			continue;
		atomic_fetch_add(&queries, 1);
		while (qend < (size_t)n && buf[qend])
			qend += buf[qend] + 1;
		qend += 5; /* the root label, QTYPE, QCLASS */
		if (qend > (size_t)n)
			continue;
		a_query = buf[qend - 4] == 0 && buf[qend - 3] == 1;
		ours = memmem(buf + 12, qend - 12, "\x04slow\x07pn-unit", 14) != NULL;
		usleep(DNS_DELAY_MS * 1000);
		buf[2] = 0x81; /* response, recursion desired */
		buf[3] = ours ? 0x80 : 0x83; /* recursion available; NXDOMAIN when not ours */
		buf[6] = 0, buf[7] = ours && a_query ? 1 : 0; /* answers */
		buf[8] = buf[9] = buf[10] = buf[11] = 0;
		n = (ssize_t)qend;
		if (ours && a_query) {
			static const unsigned char answer[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 77 };

			memcpy(buf + n, answer, sizeof(answer));
			n += sizeof(answer);
		}
		sendto(dns_fd, buf, (size_t)n, 0, (struct sockaddr *)&from, flen);
	}
	return NULL;
}

static int setup(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(DNS_PORT) };
	char conf[] = "/tmp/pn-unit-resolv.XXXXXX";
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200 * 1000 };
	FILE *f;
	int fd;

	/* Our own /etc/resolv.conf, seen by this process only. Without the privilege to make a
	 * mount namespace the DNS cases are skipped. */
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return 0;
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	dns_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (dns_fd < 0 || bind(dns_fd, (struct sockaddr *)&sa, sizeof(sa)))
		return 0; /* port 53 taken: skipped too */
	setsockopt(dns_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	fd = mkstemp(conf);
	if (fd < 0 || !(f = fdopen(fd, "w")))
		return -1;
	fprintf(f, "nameserver 127.0.0.1\noptions timeout:5 attempts:1\n");
	fclose(f);
	if (mount(conf, "/etc/resolv.conf", NULL, MS_BIND, NULL)) {
		unlink(conf);
		return 0;
	}
	unlink(conf);
	if (pthread_create(&dns_thread, NULL, dns_serve, NULL))
		return -1;
	have_dns = true;
	return 0;
}

static int teardown(void **state)
{
	if (have_dns) {
		atomic_store(&dns_stop, true);
		pthread_join(dns_thread, NULL);
		umount("/etc/resolv.conf");
	}
	if (dns_fd >= 0)
		close(dns_fd);
	return 0;
}

static void test_literals(void **state)
{
	struct endpoint_cache *c;
	wg_endpoint ep;
	char buf[64];

	assert_int_equal(endpoint_cache_new(&c, 30), 0);
	endpoint_cache_begin_pass(c);
	assert_int_equal(endpoint_cache_resolve("192.0.2.1:51820", &ep, c), 0);
	assert_int_equal(ep.addr.sa_family, AF_INET);
	assert_int_equal(ntohs(ep.addr4.sin_port), 51820);
	inet_ntop(AF_INET, &ep.addr4.sin_addr, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.1");
	assert_int_equal(endpoint_cache_resolve("[2001:db8::1]:7", &ep, c), 0);
	assert_int_equal(ep.addr.sa_family, AF_INET6);
	assert_int_equal(endpoint_cache_resolve("no-port", &ep, c), -EINVAL);
	assert_int_equal(endpoint_cache_resolve("[::1:51820", &ep, c), -EINVAL);
	endpoint_cache_free(c);
}

static void test_slow_dns(void **state)
{
	struct endpoint_cache *c;
	wg_endpoint ep;
	char buf[64];
	int ret = -EAGAIN, passes = 0, asked;

	if (!have_dns) {
		skip();
		return;
	}
	/* The fault: the resolver reconciles used before, getaddrinfo() on the caller's thread,
	 * returns only with the answer, DNS_DELAY_MS later (and a nameserver that never answers
	 * holds it for timeout x attempts). */
	asked = atomic_load(&queries);
	assert_int_equal(reconcile_resolve_default("slow.pn-unit:51820", &ep, NULL), 0);
	inet_ntop(AF_INET, &ep.addr4.sin_addr, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.77");
	assert_true(atomic_load(&queries) > asked);
	assert_int_equal(endpoint_cache_new(&c, 30), 0);
	/* First pass: the answer is DNS_DELAY_MS away, the budget ENDPOINT_CACHE_BUDGET_MS: no
	 * answer yet, and the other records of the pass are not held up (a second name waits
	 * for nothing once the budget is spent). */
	endpoint_cache_begin_pass(c);
	assert_int_equal(endpoint_cache_resolve("slow.pn-unit:51820", &ep, c), -EAGAIN);
	assert_int_equal(endpoint_cache_resolve("other.pn-unit:51820", &ep, c), -EAGAIN);
	assert_int_equal(endpoint_cache_resolve("192.0.2.9:1", &ep, c), 0);
	/* Later passes, as the daemon's resyncs: the answer arrives in the background. */
	while (ret == -EAGAIN && passes++ < 100) {
		usleep(100 * 1000);
		endpoint_cache_begin_pass(c);
		ret = endpoint_cache_resolve("slow.pn-unit:51820", &ep, c);
	}
	assert_int_equal(ret, 0);
	assert_true(passes > 1);
	inet_ntop(AF_INET, &ep.addr4.sin_addr, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.77");
	assert_int_equal(ntohs(ep.addr4.sin_port), 51820);
	/* Cached: more passes ask the nameserver nothing more. */
	asked = atomic_load(&queries);
	for (int i = 0; i < 5; i++) {
		endpoint_cache_begin_pass(c);
		assert_int_equal(endpoint_cache_resolve("slow.pn-unit:51820", &ep, c), 0);
	}
	assert_int_equal(atomic_load(&queries), asked);
	printf("slow.pn-unit answered after %d passes; %d queries in all\n", passes, asked);
	/* The name that does not exist: no address, and no new query for a while. */
	for (int i = 0; i < 100 && (ret = endpoint_cache_resolve("other.pn-unit:51820", &ep, c)) == -EAGAIN; i++) {
		usleep(100 * 1000);
		endpoint_cache_begin_pass(c);
	}
	assert_int_equal(ret, -EHOSTUNREACH);
	asked = atomic_load(&queries);
	assert_int_equal(endpoint_cache_resolve("other.pn-unit:51820", &ep, c), -EHOSTUNREACH);
	assert_int_equal(atomic_load(&queries), asked);
	/* Freed with a lookup in flight: cancelled, nothing leaks (ASan). */
	endpoint_cache_begin_pass(c);
	assert_int_equal(endpoint_cache_resolve("third.pn-unit:51820", &ep, c), -EAGAIN);
	endpoint_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_slow_dns),
	};
	/* Its nameserver binds 127.0.0.1:53: on a loopback of its own, a resolver the machine
	 * runs there does not skip the DNS cases. */
	private_net_enter("test_endpoint_cache");
	return cmocka_run_group_tests(tests, setup, teardown);
}
