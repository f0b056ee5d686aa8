/* udp: the batched send path, with UDP segmentation offload and GRO and with them forced
 * off. Loopback only: a receiving socket of the test's own and a destination the kernel
 * refuses locally (port 0), so nothing leaves this host. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
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
	assert_int_equal(wg_udp_queue(&u, (struct sockaddr *)&to, "one", 3), 0);
	assert_int_equal(wg_udp_queue(&u, (struct sockaddr *)&bad, "bad", 3), 0); /* port 0: EINVAL */
	assert_int_equal(wg_udp_queue(&u, (struct sockaddr *)&to, "two", 3), 0);
	assert_int_equal(wg_udp_queue(&u, (struct sockaddr *)&to, "three", 5), 0);
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
		assert_int_equal(wg_udp_queue(&tx, (struct sockaddr *)&to, data[i], sizes[i]), 0);
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
	assert_int_equal(wg_udp_queue(&u, (struct sockaddr *)&to, "one", 3), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(wg_udp_queue(&u, (struct sockaddr *)&bad, big[i], sizeof(big[i])), 0);
	assert_int_equal(wg_udp_queue(&u, (struct sockaddr *)&to, "two", 3), 0);
	assert_int_equal(wg_udp_queue(&u, (struct sockaddr *)&to, "six", 3), 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused_destination_drops_one),
		cmocka_unit_test(test_gso_gro_roundtrip),
		cmocka_unit_test(test_offload_forced_off_roundtrip),
		cmocka_unit_test(test_refused_gso_run_counts_each),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
