/* udp: the batched send path. Loopback only: a receiving socket of the test's own and a
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused_destination_drops_one),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
