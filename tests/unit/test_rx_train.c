/* test_rx_train.c — a GRO train (datagrams coalesced by UDP_GRO) holding a bad segment is
 * dropped segment by segment: the train is walked back into its datagrams
 * (wg_udp_segment_next) and each goes through the receive path's batch halves, as the
 * event loop does, so only the bad one is counted and the good ones around it arrive.
 * Two podwire-wg devices back to back through an in-memory network (as test_timers.c). */
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
#include "datapath/userspace/send.h"
#include "datapath/userspace/udp_offload.h"

struct fake_clock {
	uint64_t now;
};

static uint64_t fake_mono(void *ctx)
{
	return ((struct fake_clock *)ctx)->now;
}

static void fake_real(void *ctx, struct timespec *ts)
{
	uint64_t n = ((struct fake_clock *)ctx)->now;

	ts->tv_sec = 1700000000 + (time_t)(n / NSEC_PER_SEC);
	ts->tv_nsec = (long)(n % NSEC_PER_SEC);
}

#define MAX_INFLIGHT 4096

struct datagram {
	int to; /* device index */
	struct sockaddr_in src;
	size_t len;
	uint8_t buf[256];
};

struct world {
	struct fake_clock clock;
	struct wg_clock wclock;
	struct wg_device dev[2];
	struct wg_peer *peer[2]; /* dev[i]'s peer (the other device) */
	struct sockaddr_in addr[2];
	struct datagram *net;
	size_t n_net;
	bool drop_to[2];
	/* What each device sent, by message type, and delivered. */
	unsigned int sent[2][5];
	unsigned int delivered[2];
};

struct endpoint_ctx {
	struct world *w;
	int self;
};

static struct endpoint_ctx ctxs[2];

static int net_send(void *ctx, const struct sockaddr *dst, const struct wg_udp_src *src, const void *buf,
		    size_t len)
{
	struct endpoint_ctx *e = ctx;
	struct world *w = e->w;
	struct datagram *d;
	uint8_t type = ((const uint8_t *)buf)[0];

	assert_true(len <= sizeof(d->buf));
	if (type < 5)
		w->sent[e->self][type]++;
	if (w->drop_to[!e->self] || w->n_net == MAX_INFLIGHT)
		return 0;
	d = &w->net[w->n_net++];
	d->to = !e->self;
	d->src = w->addr[e->self];
	d->len = len;
	memcpy(d->buf, buf, len);
	return 0;
}

static int net_flush(void *ctx)
{
	return 0;
}

static int deliver(void *ctx, const void *pkt, size_t len)
{
	struct endpoint_ctx *e = ctx;

	e->w->delivered[e->self]++;
	return 0;
}

static void deliver_network(struct world *w)
{
	while (w->n_net) {
		struct datagram d = w->net[0];

		memmove(w->net, w->net + 1, (w->n_net - 1) * sizeof(*w->net));
		w->n_net--;
		wg_receive_packet(&w->dev[d.to], d.buf, d.len, (struct sockaddr *)&d.src, NULL);
	}
}

static struct world *world_new(void)
{
	struct world *w = calloc(1, sizeof(*w));
	uint8_t key[2][32];
	struct ip_prefix p;
	int i;

	w->net = calloc(MAX_INFLIGHT, sizeof(*w->net));
	w->clock.now = 1000 * NSEC_PER_SEC;
	w->wclock = (struct wg_clock){ fake_mono, fake_real, &w->clock };
	for (i = 0; i < 2; i++) {
		struct wg_io io = { net_send, NULL, net_flush, deliver, &ctxs[i] };

		ctxs[i] = (struct endpoint_ctx){ w, i };
		wg_device_init(&w->dev[i], i ? "pub" : "pua", &w->wclock, &wg_random_system, &io);
		w->dev[i].mtu = 1420;
		randombytes_buf(key[i], 32);
		assert_int_equal(wg_device_set_private_key(&w->dev[i], key[i]), 0);
		w->addr[i].sin_family = AF_INET;
		w->addr[i].sin_addr.s_addr = htonl(0xc0000201 + (uint32_t)i);
		w->addr[i].sin_port = htons(51820 + i);
	}
	for (i = 0; i < 2; i++) {
		w->peer[i] = wg_device_add_peer(&w->dev[i], w->dev[!i].identity.public_key);
		assert_non_null(w->peer[i]);
		memcpy(&w->peer[i]->endpoint, &w->addr[!i], sizeof(w->addr[!i]));
		/* dev 0 owns 10.0.0.1, dev 1 owns 10.0.0.2 */
		assert_int_equal(ip_prefix_parse(&p, i ? "10.0.0.1/32" : "10.0.0.2/32"), 0);
		assert_int_equal(allowedips_insert(&w->dev[i].allowedips, &p, &w->peer[i]->allowedips), 0);
	}
	return w;
}

static void world_free(struct world *w)
{
	wg_device_free(&w->dev[0]);
	wg_device_free(&w->dev[1]);
	free(w->net);
	free(w);
}

/* Device @from seals one 100-byte IPv4 packet for the other one (left on the network). */
static void send_ip(struct world *w, int from)
{
	static uint8_t buf[WG_PACKET_BUF_SIZE];
	uint8_t *ip = buf + WG_PACKET_HEADROOM;

	memset(ip, 0, 100);
	ip[0] = 0x45;
	ip[3] = 100;
	ip[9] = 17;
	memcpy(ip + 12, from ? "\x0a\x00\x00\x02" : "\x0a\x00\x00\x01", 4);
	memcpy(ip + 16, from ? "\x0a\x00\x00\x01" : "\x0a\x00\x00\x02", 4);
	wg_send_tun_packet(&w->dev[from], buf, 100);
}

/* A session from dev 0 to dev 1, confirmed; the network empty. */
static struct world *session(void)
{
	struct world *w = world_new();

	send_ip(w, 0);
	deliver_network(w);
	assert_int_equal(w->delivered[1], 1);
	assert_int_equal(w->n_net, 0);
	return w;
}

/* Concatenate the @n data messages on the network into @train, as UDP_GRO hands them over;
 * returns the train's length and the segment size in @gso. */
static size_t make_train(struct world *w, uint8_t *train, unsigned int n, uint16_t *gso)
{
	size_t len = 0;

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
	for (int i = 0; i < 5; i++)
		send_ip(w, 0);
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
	for (int i = 0; i < 4; i++)
		send_ip(w, 0);
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
	for (int i = 0; i < 3; i++)
		send_ip(w, 0);
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
