/* udp: the batched send path and the sticky source. Loopback only: a receiving socket of the test's own and a
 * destination the kernel refuses locally (port 0), so nothing leaves this host. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
	struct wg_udp_src dst;
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
	assert_int_equal(wg_udp_recv(u.fd4, bufs, sizeof(buf), &len, &src, &dst, 1), 1);
	assert_int_equal(len, 5);
	assert_int_equal(dst.family, AF_INET);
	assert_int_equal(ntohl(dst.in4.s_addr), 0x7f000005);

	assert_int_equal(wg_udp_send(&u, (struct sockaddr *)&src, &dst, "re", 2), 0);
	assert_int_equal(ntohl(received_from(fd).s_addr), 0x7f000005);
	assert_int_equal(wg_udp_queue(&u, (struct sockaddr *)&src, &dst, "re", 2), 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused_destination_drops_one),
		cmocka_unit_test(test_sticky_source),
		cmocka_unit_test(test_not_too_sticky),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
