/* test_rx_train.c — a GRO train (datagrams coalesced by UDP_GRO) holding a bad segment is
 * dropped segment by segment: the train is walked back into its datagrams
 * (wg_udp_segment_next) and each goes through the receive path's batch halves, as the
 * event loop does, so only the bad one is counted and the good ones around it arrive.
 * Two podwire-wg devices back to back through an in-memory network (world.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <netinet/in.h>
#include <sodium.h>

#include "datapath/userspace/crypt_pool.h"
#include "datapath/userspace/device.h"
#include "datapath/userspace/receive.h"
#include "datapath/userspace/udp_offload.h"
#include "tests/unit/world.h"

/* A session from dev 0 to dev 1, confirmed; the network empty. */
static struct world *session(void)
{
	struct world *w = world_new();

	world_seal_ip(w, 0);
	world_deliver(w);
	assert_int_equal(w->delivered[1], 1);
	assert_int_equal(w->n_net, 0);
	return w;
}

/* Device 0 seals @n packets for device 1; their @n data messages, taken off the network, are
 * concatenated into @train as UDP_GRO hands them over. Returns the train's length and the
 * segment size in @gso. */
static size_t make_train(struct world *w, uint8_t *train, unsigned int n, uint16_t *gso)
{
	size_t len = 0;

	for (unsigned int i = 0; i < n; i++)
		world_seal_ip(w, 0);
	assert_int_equal(w->n_net, n);
	for (unsigned int i = 0; i < n; i++) {
		assert_int_equal(w->net[i].buf[0], MESSAGE_DATA);
		if (i + 1 < n)
			assert_int_equal(w->net[i].len, w->net[0].len);
		memcpy(train + len, w->net[i].buf, w->net[i].len);
		len += w->net[i].len;
	}
	*gso = (uint16_t)w->net[0].len;
	w->n_net = 0;
	return len;
}

/* The event loop's path for one train: segments classified, opened, finished in order. */
static void receive_train(struct world *w, uint8_t *train, size_t len, uint16_t gso, bool truncated)
{
	struct crypt_job jobs[16];
	struct wg_keypair *kps[16];
	uint8_t *seg[16];
	size_t seg_len[16], off = 0, start, slen;
	unsigned int n = 0, k = 0, i;
	enum wg_rx_kind kind[16];

	while (wg_udp_segment_next(len, gso, truncated, &off, &start, &slen)) {
		assert_true(n < 16);
		seg[n] = train + start;
		seg_len[n++] = slen;
	}
	for (i = 0; i < n; i++) {
		kind[i] = wg_receive_prepare(&w->dev[1], seg[i], seg_len[i], &jobs[k], &kps[k]);
		if (kind[i] == WG_RX_DATA)
			k++;
	}
	for (i = 0; i < k; i++)
		crypt_job_run(&jobs[i]);
	for (i = 0, k = 0; i < n; i++)
		if (kind[i] == WG_RX_DATA) {
			wg_receive_data_finish(&w->dev[1], seg[i], seg_len[i], (struct sockaddr *)&w->addr[0], NULL,
					       &jobs[k], kps[k]);
			k++;
		}
}

static void test_bad_segment_dropped_alone(void **state)
{
	static uint8_t train[8 * 256];
	struct world *w = session();
	uint16_t gso;
	size_t len;

	(void)state;
	len = make_train(w, train, 5, &gso);
	train[gso + 40] ^= 1; /* segment 1's ciphertext: fails authentication */
	receive_train(w, train, len, gso, false);
	assert_int_equal(w->delivered[1], 1 + 4);
	assert_int_equal(w->dev[1].stats.rx_bad_data, 1);
	assert_int_equal(w->dev[1].stats.rx_malformed, 0);
	world_free(w);
}

static void test_garbage_and_short_last_segment(void **state)
{
	static uint8_t train[8 * 256];
	struct world *w = session();
	uint16_t gso;
	size_t len;

	(void)state;
	len = make_train(w, train, 4, &gso);
	/* Segment 2 is not WireGuard at all, and a short last one (3 bytes) follows the train. */
	memset(train + 2 * gso, 0xa5, gso);
	memcpy(train + len, "\x04\x00\x00", 3);
	len += 3;
	receive_train(w, train, len, gso, false);
	assert_int_equal(w->delivered[1], 1 + 3);
	assert_int_equal(w->dev[1].stats.rx_malformed + w->dev[1].stats.rx_bad_data, 2);
	world_free(w);
}

static void test_truncated_train_loses_its_last_segment(void **state)
{
	static uint8_t train[8 * 256];
	struct world *w = session();
	uint16_t gso;
	size_t len;

	(void)state;
	len = make_train(w, train, 3, &gso);
	/* MSG_TRUNC: the buffer was too short, the last segment is cut and must not be opened. */
	receive_train(w, train, len - 10, gso, true);
	assert_int_equal(w->delivered[1], 1 + 2);
	assert_int_equal(w->dev[1].stats.rx_malformed, 1);
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_segment_dropped_alone),
		cmocka_unit_test(test_garbage_and_short_last_segment),
		cmocka_unit_test(test_truncated_train_loses_its_last_segment),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
