/* udp_offload: which queued datagrams share one UDP_SEGMENT send, and how a GRO train is
 * walked back into datagrams. Checked against a straightforward reference: the runs must
 * cover the queue in order, each run one destination, equal sizes but a shorter last. */
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
#include <sys/uio.h>
#include <cmocka.h>

#include "datapath/userspace/udp_offload.h"

static struct sockaddr_storage addr4(uint32_t ip, uint16_t port)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;

	in->sin_family = AF_INET;
	in->sin_port = htons(port);
	in->sin_addr.s_addr = htonl(ip);
	return ss;
}

static struct sockaddr_storage addr6(uint8_t last, uint16_t port)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(port);
	in6->sin6_addr.s6_addr[0] = 0xfd;
	in6->sin6_addr.s6_addr[15] = last;
	return ss;
}

/* Split a whole queue into runs; lens[] gets each run's length. */
static unsigned int runs_of(const struct iovec *iov, const struct sockaddr_storage *dst, unsigned int n,
			    unsigned int *lens)
{
	unsigned int i = 0, r = 0, len;

	while (i < n) {
		len = wg_udp_gso_run(iov + i, dst + i, n - i);
		assert_true(len >= 1 && len <= n - i);
		lens[r++] = len;
		i += len;
	}
	return r;
}

static void test_runs_equal_sizes_one_peer(void **state)
{
	struct iovec iov[10];
	struct sockaddr_storage dst[10];
	unsigned int lens[10], i;

	(void)state;
	for (i = 0; i < 10; i++) {
		iov[i] = (struct iovec){ .iov_base = NULL, .iov_len = 1452 };
		dst[i] = addr4(0x0a000001, 51820);
	}
	iov[9].iov_len = 97; /* the last, short segment stays in the run */
	assert_int_equal(runs_of(iov, dst, 10, lens), 1);
	assert_int_equal(lens[0], 10);
}

static void test_runs_break_on_peer_family_port_and_size(void **state)
{
	struct iovec iov[9];
	struct sockaddr_storage dst[9];
	unsigned int lens[9];
	const size_t sz[9] = { 1000, 1000, 1000, 1000, 600, 1000, 1000, 1000, 1000 };
	unsigned int i;

	(void)state;
	for (i = 0; i < 9; i++)
		iov[i] = (struct iovec){ .iov_base = NULL, .iov_len = sz[i] };
	dst[0] = dst[1] = addr4(0x0a000001, 51820);
	dst[2] = addr4(0x0a000002, 51820); /* another peer */
	dst[3] = addr4(0x0a000002, 51820);
	dst[4] = addr4(0x0a000002, 51820); /* short: ends that run */
	dst[5] = addr4(0x0a000002, 51820); /* after a short one: a new run */
	dst[6] = addr4(0x0a000002, 51821); /* another port */
	dst[7] = addr6(2, 51821);          /* another family */
	dst[8] = addr6(2, 51821);
	assert_int_equal(runs_of(iov, dst, 9, lens), 5);
	assert_int_equal(lens[0], 2);
	assert_int_equal(lens[1], 3);
	assert_int_equal(lens[2], 1);
	assert_int_equal(lens[3], 1);
	assert_int_equal(lens[4], 2);
}

static void test_runs_never_grow_a_segment(void **state)
{
	/* A longer datagram after the first cannot ride in its run: segments are cut at the
	 * first's size. */
	struct iovec iov[3] = { { NULL, 500 }, { NULL, 501 }, { NULL, 500 } };
	struct sockaddr_storage dst[3];
	unsigned int lens[3];

	(void)state;
	dst[0] = dst[1] = dst[2] = addr6(1, 1);
	assert_int_equal(runs_of(iov, dst, 3, lens), 2);
	assert_int_equal(lens[0], 1);
	assert_int_equal(lens[1], 2);
}

static void test_runs_capped_by_segments_and_bytes(void **state)
{
	struct iovec iov[64];
	struct sockaddr_storage dst[64];
	unsigned int lens[64], i, r, total = 0;

	(void)state;
	for (i = 0; i < 64; i++) {
		iov[i] = (struct iovec){ NULL, 1452 };
		dst[i] = addr4(0x0a000001, 1);
	}
	r = runs_of(iov, dst, 64, lens);
	for (i = 0; i < r; i++) {
		assert_true((size_t)lens[i] * 1452 <= WG_UDP_GSO_MAX_BYTES);
		assert_true(lens[i] <= WG_UDP_GSO_MAX_SEGS);
		total += lens[i];
	}
	assert_int_equal(total, 64);
	assert_int_equal(lens[0], WG_UDP_GSO_MAX_BYTES / 1452);
	/* Small datagrams: the segment cap binds. */
	for (i = 0; i < 64; i++)
		iov[i].iov_len = 32;
	assert_int_equal(wg_udp_gso_run(iov, dst, 64), WG_UDP_GSO_MAX_SEGS);
}

static void test_runs_empty_datagram_alone(void **state)
{
	struct iovec iov[3] = { { NULL, 0 }, { NULL, 0 }, { NULL, 32 } };
	struct sockaddr_storage dst[3];

	(void)state;
	dst[0] = dst[1] = dst[2] = addr4(1, 1);
	assert_int_equal(wg_udp_gso_run(iov, dst, 3), 1);
	assert_int_equal(wg_udp_gso_run(iov + 2, dst + 2, 1), 1);
	assert_int_equal(wg_udp_gso_run(iov, dst, 0), 0);
}

/* Reference: the segments of a train, written out by hand. */
static void expect_segments(size_t len, uint16_t gso, bool trunc, const size_t *starts, const size_t *lens,
			    unsigned int n)
{
	size_t off = 0, start, seg;
	unsigned int i = 0;

	while (wg_udp_segment_next(len, gso, trunc, &off, &start, &seg)) {
		assert_true(i < n);
		assert_int_equal(start, starts[i]);
		assert_int_equal(seg, lens[i]);
		i++;
	}
	assert_int_equal(i, n);
	/* Once done, it stays done. */
	assert_false(wg_udp_segment_next(len, gso, trunc, &off, &start, &seg));
}

static void test_segments_of_trains(void **state)
{
	(void)state;
	/* Not coalesced: one datagram. */
	expect_segments(1452, 0, false, (size_t[]){ 0 }, (size_t[]){ 1452 }, 1);
	/* Exact multiple. */
	expect_segments(3 * 1452, 1452, false, (size_t[]){ 0, 1452, 2904 }, (size_t[]){ 1452, 1452, 1452 }, 3);
	/* Odd size with a short last segment. */
	expect_segments(2 * 1001 + 33, 1001, false, (size_t[]){ 0, 1001, 2002 }, (size_t[]){ 1001, 1001, 33 }, 3);
	/* gso_size as large as the datagram, or larger: one datagram. */
	expect_segments(500, 500, false, (size_t[]){ 0 }, (size_t[]){ 500 }, 1);
	expect_segments(500, 1500, false, (size_t[]){ 0 }, (size_t[]){ 500 }, 1);
	/* An empty datagram is one empty (malformed) segment, not none. */
	expect_segments(0, 0, false, (size_t[]){ 0 }, (size_t[]){ 0 }, 1);
	expect_segments(0, 100, false, (size_t[]){ 0 }, (size_t[]){ 0 }, 1);
}

static void test_truncated_train_loses_only_the_cut_segment(void **state)
{
	(void)state;
	expect_segments(2 * 100 + 40, 100, true, (size_t[]){ 0, 100, 200 }, (size_t[]){ 100, 100, 0 }, 3);
	expect_segments(700, 0, true, (size_t[]){ 0 }, (size_t[]){ 0 }, 1);
}

static void test_tiny_gso_size_walks_every_byte(void **state)
{
	/* A nonsensical gso_size still ends: every piece goes to the receive path on its own
	 * (where a 1-byte message is malformed). */
	size_t off = 0, start, seg, count = 0, sum = 0;

	(void)state;
	while (wg_udp_segment_next(65535, 1, false, &off, &start, &seg)) {
		assert_int_equal(start, sum);
		sum += seg;
		count++;
	}
	assert_int_equal(count, 65535);
	assert_int_equal(sum, 65535);
}

static void test_env_switch(void **state)
{
	bool on = false;

	(void)state;
	unsetenv(WG_OFFLOAD_ENV);
	assert_int_equal(wg_offload_from_env(&on), 0);
	assert_true(on);
	setenv(WG_OFFLOAD_ENV, "0", 1);
	assert_int_equal(wg_offload_from_env(&on), 0);
	assert_false(on);
	setenv(WG_OFFLOAD_ENV, "off", 1);
	assert_int_equal(wg_offload_from_env(&on), 0);
	assert_false(on);
	setenv(WG_OFFLOAD_ENV, "1", 1);
	assert_int_equal(wg_offload_from_env(&on), 0);
	assert_true(on);
	setenv(WG_OFFLOAD_ENV, "yes please", 1);
	assert_int_equal(wg_offload_from_env(&on), -EINVAL);
	unsetenv(WG_OFFLOAD_ENV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runs_equal_sizes_one_peer),
		cmocka_unit_test(test_runs_break_on_peer_family_port_and_size),
		cmocka_unit_test(test_runs_never_grow_a_segment),
		cmocka_unit_test(test_runs_capped_by_segments_and_bytes),
		cmocka_unit_test(test_runs_empty_datagram_alone),
		cmocka_unit_test(test_segments_of_trains),
		cmocka_unit_test(test_truncated_train_loses_only_the_cut_segment),
		cmocka_unit_test(test_tiny_gso_size_walks_every_byte),
		cmocka_unit_test(test_env_switch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
