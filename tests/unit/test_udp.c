/* udp: the batched send path, with UDP segmentation offload and GRO and with them forced
 * off, and the sticky source (alone and inside GSO runs and GRO trains). Loopback only: a
 * receiving socket of the test's own and a destination the kernel refuses locally (port
 * 0), so nothing leaves this host. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "datapath/userspace/udp.h"

static struct sockaddr_in loopback(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* A batch mixes peers: one refused destination must cost its own datagram only. */
static void test_refused_destination_drops_one(void **state)
{
	struct wg_udp u;
	struct sockaddr_in rx = loopback(0), bad = loopback(0), to;
	socklen_t len = sizeof(rx);
	char buf[16];
	int fd, got = 0;

	(void)state;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&rx, sizeof(rx)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&rx, &len), 0);
	to = loopback(ntohs(rx.sin_port));

	wg_udp_init(&u);
	assert_int_equal(wg_udp_bind(&u, 0), 0);
	assert_int_equal(wg_udp_queue(&u, (struct sockaddr *)&to, NULL, "one", 3), 0);
	assert_int_equal(wg_udp_queue(&u, (struct sockaddr *)&bad, NULL, "bad", 3), 0); /* port 0: EINVAL */
	assert_int_equal(wg_udp_queue(&u, (struct sockaddr *)&to, NULL, "two", 3), 0);
	assert_int_equal(wg_udp_queue(&u, (struct sockaddr *)&to, NULL, "three", 5), 0);
	assert_int_equal(wg_udp_flush(&u), -EINVAL);
	assert_int_equal(u.tx_dropped, 1);
	while (recv(fd, buf, sizeof(buf), 0) > 0)
		got++;
	assert_int_equal(got, 3);
	/* The queue is empty afterwards: a second flush sends nothing and fails nothing. */
	assert_int_equal(wg_udp_flush(&u), 0);
	assert_int_equal(u.tx_dropped, 1);
	wg_udp_close(&u);
	close(fd);
}

/* Queue a run to one wg_udp receiver (equal sizes, a short last one) and two datagrams to
 * a plain socket; receive through wg_udp_recv and walk the segments: every datagram comes
 * out whole and in order, coalesced by GRO or not. */
static void roundtrip(bool offload)
{
	static uint8_t data[8][1452], rxbuf[8][WG_UDP_GSO_MAX_BYTES + 64];
	const size_t sizes[8] = { 1452, 1452, 1452, 1452, 1452, 1452, 1452, 317 };
	struct wg_udp tx, rx;
	struct sockaddr_in to;
	struct sockaddr_storage srcs[8];
	struct wg_udp_rx_meta meta[8];
	uint8_t *bufs[8];
	size_t lens[8], off, start, len;
	unsigned int i, seen = 0, coalesced = 0;
	int n, tries;

	if (offload)
		unsetenv(WG_OFFLOAD_ENV);
	else
		setenv(WG_OFFLOAD_ENV, "0", 1);
	wg_udp_init(&tx);
	wg_udp_init(&rx);
	unsetenv(WG_OFFLOAD_ENV);
	assert_int_equal(wg_udp_bind(&tx, 0), 0);
	assert_int_equal(wg_udp_bind(&rx, 0), 0);
	/* This kernel (6.x) has both; forced off, neither is used. */
	assert_int_equal(tx.gso, offload);
	assert_int_equal(rx.gro, offload);
	to = loopback(rx.port);
	for (i = 0; i < 8; i++) {
		memset(data[i], 'a' + i, sizes[i]);
		data[i][0] = (uint8_t)i;
		bufs[i] = rxbuf[i];
		assert_int_equal(wg_udp_queue(&tx, (struct sockaddr *)&to, NULL, data[i], sizes[i]), 0);
	}
	assert_int_equal(wg_udp_flush(&tx), 0);
	assert_int_equal(tx.tx_dropped, 0);
	for (tries = 0; seen < 8 && tries < 1000; tries++) {
		n = wg_udp_recv(rx.fd4, bufs, sizeof(rxbuf[0]), lens, srcs, meta, 8);
		assert_true(n >= 0);
		if (n == 0) {
			usleep(1000);
			continue;
		}
		for (i = 0; i < (unsigned int)n; i++) {
			assert_false(meta[i].truncated);
			if (meta[i].gso_size)
				coalesced++;
			off = 0;
			while (wg_udp_segment_next(lens[i], meta[i].gso_size, false, &off, &start, &len)) {
				assert_true(seen < 8);
				assert_int_equal(len, sizes[seen]);
				assert_memory_equal(bufs[i] + start, data[seen], len);
				seen++;
			}
		}
	}
	assert_int_equal(seen, 8);
	/* One GSO send arrives as one GRO train on loopback; forced off, never. */
	if (offload)
		assert_true(coalesced >= 1);
	else
		assert_int_equal(coalesced, 0);
	wg_udp_close(&tx);
	wg_udp_close(&rx);
}

static void test_gso_gro_roundtrip(void **state)
{
	(void)state;
	roundtrip(true);
}

static void test_offload_forced_off_roundtrip(void **state)
{
	(void)state;
	roundtrip(false);
}

/* A GSO run to a refused destination is retried datagram by datagram: each is counted,
 * and the good datagrams around it still go. */
static void test_refused_gso_run_counts_each(void **state)
{
	struct wg_udp u;
	struct sockaddr_in rx = loopback(0), bad = loopback(0), to;
	socklen_t len = sizeof(rx);
	char buf[64], big[3][40];
	int fd, got = 0, i;

	(void)state;
	unsetenv(WG_OFFLOAD_ENV);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&rx, sizeof(rx)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&rx, &len), 0);
	to = loopback(ntohs(rx.sin_port));
	memset(big, 'x', sizeof(big));

	wg_udp_init(&u);
	assert_int_equal(wg_udp_bind(&u, 0), 0);
	assert_int_equal(wg_udp_queue(&u, (struct sockaddr *)&to, NULL, "one", 3), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(wg_udp_queue(&u, (struct sockaddr *)&bad, NULL, big[i], sizeof(big[i])), 0);
	assert_int_equal(wg_udp_queue(&u, (struct sockaddr *)&to, NULL, "two", 3), 0);
	assert_int_equal(wg_udp_queue(&u, (struct sockaddr *)&to, NULL, "six", 3), 0);
	assert_int_equal(wg_udp_flush(&u), -EINVAL);
	assert_int_equal(u.tx_dropped, 3);
	/* A refused destination is not the kernel refusing GSO: it stays on. */
	assert_true(u.gso);
	while (recv(fd, buf, sizeof(buf), 0) > 0)
		got++;
	assert_int_equal(got, 3);
	wg_udp_close(&u);
	close(fd);
}

/* A socket of the test's own on 127.0.0.1 that plays the peer. */
static int peer_socket(struct sockaddr_in *self)
{
	socklen_t len = sizeof(*self);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	*self = loopback(0);
	assert_int_equal(bind(fd, (struct sockaddr *)self, sizeof(*self)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)self, &len), 0);
	return fd;
}

/* Where the next datagram to @fd came from (it must be there already). */
static struct in_addr received_from(int fd)
{
	struct sockaddr_in from;
	socklen_t len = sizeof(from);
	char buf[16];

	assert_true(recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len) > 0);
	return from.sin_addr;
}

/* Every 127/8 address is ours, but the route's preferred source for 127.0.0.1 is
 * 127.0.0.1: an answer to a datagram sent to 127.0.0.5 leaves from 127.0.0.5 only if the
 * datapath keeps where the request went. */
static void test_sticky_source(void **state)
{
	struct wg_udp u;
	struct sockaddr_in me, to = loopback(0);
	struct sockaddr_storage src;
	struct wg_udp_rx_meta meta;
	uint8_t buf[64], *bufs[1] = { buf };
	size_t len;
	int fd;

	(void)state;
	fd = peer_socket(&me);
	wg_udp_init(&u);
	assert_int_equal(wg_udp_bind(&u, 0), 0);
	to.sin_port = htons(u.port);
	to.sin_addr.s_addr = htonl(0x7f000005);
	assert_int_equal(sendto(fd, "hello", 5, 0, (struct sockaddr *)&to, sizeof(to)), 5);
	assert_int_equal(wg_udp_recv(u.fd4, bufs, sizeof(buf), &len, &src, &meta, 1), 1);
	assert_int_equal(len, 5);
	assert_int_equal(meta.gso_size, 0);
	assert_int_equal(meta.dst.family, AF_INET);
	assert_int_equal(ntohl(meta.dst.in4.s_addr), 0x7f000005);

	assert_int_equal(wg_udp_send(&u, (struct sockaddr *)&src, &meta.dst, "re", 2), 0);
	assert_int_equal(ntohl(received_from(fd).s_addr), 0x7f000005);
	assert_int_equal(wg_udp_queue(&u, (struct sockaddr *)&src, &meta.dst, "re", 2), 0);
	assert_int_equal(wg_udp_flush(&u), 0);
	assert_int_equal(ntohl(received_from(fd).s_addr), 0x7f000005);
	/* Without a source, the route's: 127.0.0.1. */
	assert_int_equal(wg_udp_send(&u, (struct sockaddr *)&src, NULL, "re", 2), 0);
	assert_int_equal(ntohl(received_from(fd).s_addr), 0x7f000001);
	wg_udp_close(&u);
	close(fd);
}

/* A source address that is not ours (any more) is dropped, not the datagram. */
static void test_not_too_sticky(void **state)
{
	struct wg_udp u;
	struct sockaddr_in me;
	struct wg_udp_src gone = { .family = AF_INET };
	int fd;

	(void)state;
	fd = peer_socket(&me);
	gone.in4.s_addr = htonl(0xc0000201); /* 192.0.2.1, TEST-NET-1: never ours */
	wg_udp_init(&u);
	assert_int_equal(wg_udp_bind(&u, 0), 0);
	assert_int_equal(wg_udp_send(&u, (struct sockaddr *)&me, &gone, "one", 3), 0);
	assert_int_equal(ntohl(received_from(fd).s_addr), 0x7f000001);
	assert_int_equal(wg_udp_queue(&u, (struct sockaddr *)&me, &gone, "two", 3), 0);
	assert_int_equal(wg_udp_queue(&u, (struct sockaddr *)&me, NULL, "three", 5), 0);
	assert_int_equal(wg_udp_flush(&u), 0);
	assert_int_equal(u.tx_dropped, 0);
	assert_int_equal(ntohl(received_from(fd).s_addr), 0x7f000001);
	assert_int_equal(ntohl(received_from(fd).s_addr), 0x7f000001);
	wg_udp_close(&u);
	close(fd);
}

/* The source of the @n datagrams a wg_udp receiver gets next, in order, each as long as
 * @seg (GRO trains walked back into datagrams); how many arrived coalesced, and where
 * they were sent to, in *coalesced and *dst. */
static void receive_run(struct wg_udp *rx, unsigned int n, size_t seg, uint32_t *from,
			unsigned int *coalesced, struct wg_udp_src *dst)
{
	static uint8_t rxbuf[8][WG_UDP_GSO_MAX_BYTES + 64];
	struct sockaddr_storage srcs[8];
	struct wg_udp_rx_meta meta[8];
	uint8_t *bufs[8];
	size_t lens[8], off, start, len;
	unsigned int i, seen = 0;
	int got, tries;

	for (i = 0; i < 8; i++)
		bufs[i] = rxbuf[i];
	*coalesced = 0;
	for (tries = 0; seen < n && tries < 1000; tries++) {
		got = wg_udp_recv(rx->fd4, bufs, sizeof(rxbuf[0]), lens, srcs, meta, 8);
		assert_true(got >= 0);
		if (got == 0) {
			usleep(1000);
			continue;
		}
		for (i = 0; i < (unsigned int)got; i++) {
			const struct sockaddr_in *sin = (const struct sockaddr_in *)&srcs[i];

			if (meta[i].gso_size)
				(*coalesced)++;
			*dst = meta[i].dst;
			off = 0;
			while (wg_udp_segment_next(lens[i], meta[i].gso_size, meta[i].truncated, &off, &start,
						   &len)) {
				assert_true(seen < n);
				assert_int_equal(len, seg);
				assert_int_equal(bufs[i][start], (uint8_t)seen);
				from[seen++] = ntohl(sin->sin_addr.s_addr);
			}
		}
	}
	assert_int_equal(seen, n);
}

/* Equal-size datagrams to one peer from one sticky source: with offload, one UDP_SEGMENT
 * message carrying IP_PKTINFO as well, and the receiver sees a GRO train from that source
 * and learns (from its own IP_PKTINFO beside UDP_GRO) where it was sent. Forced off, the
 * same addresses datagram by datagram. */
static void run_with_source(bool offload)
{
	static uint8_t data[6][1200];
	struct wg_udp tx, rx;
	struct sockaddr_in to;
	struct wg_udp_src src = { .family = AF_INET }, dst;
	uint32_t from[6];
	unsigned int i, coalesced;

	if (offload)
		unsetenv(WG_OFFLOAD_ENV);
	else
		setenv(WG_OFFLOAD_ENV, "0", 1);
	wg_udp_init(&tx);
	wg_udp_init(&rx);
	unsetenv(WG_OFFLOAD_ENV);
	assert_int_equal(wg_udp_bind(&tx, 0), 0);
	assert_int_equal(wg_udp_bind(&rx, 0), 0);
	assert_int_equal(tx.gso, offload);
	to = loopback(rx.port);
	to.sin_addr.s_addr = htonl(0x7f000007); /* sent to 127.0.0.7 ... */
	src.in4.s_addr = htonl(0x7f000005);     /* ... from 127.0.0.5 */
	for (i = 0; i < 6; i++) {
		memset(data[i], 'a', sizeof(data[i]));
		data[i][0] = (uint8_t)i;
		assert_int_equal(wg_udp_queue(&tx, (struct sockaddr *)&to, &src, data[i], sizeof(data[i])), 0);
	}
	assert_int_equal(wg_udp_flush(&tx), 0);
	assert_int_equal(tx.tx_dropped, 0);
	assert_int_equal(tx.gso, offload); /* the pktinfo did not make the kernel refuse GSO */
	receive_run(&rx, 6, sizeof(data[0]), from, &coalesced, &dst);
	for (i = 0; i < 6; i++)
		assert_int_equal(from[i], 0x7f000005);
	if (offload)
		assert_true(coalesced >= 1);
	else
		assert_int_equal(coalesced, 0);
	assert_int_equal(dst.family, AF_INET);
	assert_int_equal(ntohl(dst.in4.s_addr), 0x7f000007);
	wg_udp_close(&tx);
	wg_udp_close(&rx);
}

static void test_gso_run_keeps_source(void **state)
{
	(void)state;
	run_with_source(true);
}

static void test_forced_off_keeps_source(void **state)
{
	(void)state;
	run_with_source(false);
}

/* One destination, equal sizes, two sources: one UDP_SEGMENT message has one source, so
 * the run is cut where the source changes and each datagram leaves from its own. */
static void test_gso_run_cut_where_source_changes(void **state)
{
	static uint8_t data[6][1000];
	const uint32_t want[6] = { 0x7f000005, 0x7f000005, 0x7f000005, 0x7f000006, 0x7f000006, 0x7f000001 };
	struct wg_udp tx, rx;
	struct sockaddr_in to;
	struct wg_udp_src src[6], dst;
	uint32_t from[6];
	unsigned int i, coalesced;

	(void)state;
	unsetenv(WG_OFFLOAD_ENV);
	wg_udp_init(&tx);
	wg_udp_init(&rx);
	assert_int_equal(wg_udp_bind(&tx, 0), 0);
	assert_int_equal(wg_udp_bind(&rx, 0), 0);
	assert_true(tx.gso);
	to = loopback(rx.port);
	for (i = 0; i < 6; i++) {
		memset(&src[i], 0, sizeof(src[i]));
		src[i].family = i < 5 ? AF_INET : 0; /* the last: no source, the route's 127.0.0.1 */
		src[i].in4.s_addr = htonl(want[i]);
		memset(data[i], 'b', sizeof(data[i]));
		data[i][0] = (uint8_t)i;
		assert_int_equal(wg_udp_queue(&tx, (struct sockaddr *)&to, &src[i], data[i], sizeof(data[i])), 0);
	}
	assert_int_equal(wg_udp_flush(&tx), 0);
	assert_int_equal(tx.tx_dropped, 0);
	receive_run(&rx, 6, sizeof(data[0]), from, &coalesced, &dst);
	for (i = 0; i < 6; i++)
		assert_int_equal(from[i], want[i]);
	wg_udp_close(&tx);
	wg_udp_close(&rx);
}

/* A GSO run from a source that is not ours: the datagrams still go (from the route's
 * address), none is counted dropped, and GSO stays on (a stale source is not the kernel
 * refusing segmentation). */
static void test_gso_run_stale_source(void **state)
{
	static uint8_t data[4][800];
	struct wg_udp tx, rx;
	struct sockaddr_in to;
	struct wg_udp_src gone = { .family = AF_INET }, dst;
	uint32_t from[4];
	unsigned int i, coalesced;

	(void)state;
	unsetenv(WG_OFFLOAD_ENV);
	gone.in4.s_addr = htonl(0xc0000201); /* 192.0.2.1, TEST-NET-1: never ours */
	wg_udp_init(&tx);
	wg_udp_init(&rx);
	assert_int_equal(wg_udp_bind(&tx, 0), 0);
	assert_int_equal(wg_udp_bind(&rx, 0), 0);
	to = loopback(rx.port);
	for (i = 0; i < 4; i++) {
		memset(data[i], 'c', sizeof(data[i]));
		data[i][0] = (uint8_t)i;
		assert_int_equal(wg_udp_queue(&tx, (struct sockaddr *)&to, &gone, data[i], sizeof(data[i])), 0);
	}
	assert_int_equal(wg_udp_flush(&tx), 0);
	assert_int_equal(tx.tx_dropped, 0);
	assert_true(tx.gso);
	receive_run(&rx, 4, sizeof(data[0]), from, &coalesced, &dst);
	for (i = 0; i < 4; i++)
		assert_int_equal(from[i], 0x7f000001);
	wg_udp_close(&tx);
	wg_udp_close(&rx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused_destination_drops_one),
		cmocka_unit_test(test_gso_gro_roundtrip),
		cmocka_unit_test(test_offload_forced_off_roundtrip),
		cmocka_unit_test(test_refused_gso_run_counts_each),
		cmocka_unit_test(test_sticky_source),
		cmocka_unit_test(test_not_too_sticky),
		cmocka_unit_test(test_gso_run_keeps_source),
		cmocka_unit_test(test_forced_off_keeps_source),
		cmocka_unit_test(test_gso_run_cut_where_source_changes),
		cmocka_unit_test(test_gso_run_stale_source),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
