/* world.h — the unit tests' small world: two podwire-wg devices wired back to back through
 * an in-memory network, on a fake clock the test moves by hand. Device 0 owns 10.0.0.1 and
 * device 1 owns 10.0.0.2; each has the other as its only peer, with a known endpoint. The
 * network is a FIFO that the test drains with world_deliver(), so it decides when packets
 * arrive; world_seal_ip() gives a device one packet to send as if its TUN had read it.
 * Header only: the unit-test rule builds one .c per binary, and each test that wants the
 * world includes this after cmocka.h. */
#ifndef PODWIRE_TESTS_UNIT_WORLD_H
#define PODWIRE_TESTS_UNIT_WORLD_H

#include <netinet/in.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/userspace/device.h"
#include "datapath/userspace/receive.h"
#include "datapath/userspace/send.h"

struct fake_clock {
	uint64_t now;
};

static inline uint64_t world_mono(void *ctx)
{
	return ((struct fake_clock *)ctx)->now;
}

static inline void world_real(void *ctx, struct timespec *ts)
{
	uint64_t n = ((struct fake_clock *)ctx)->now;

	ts->tv_sec = 1700000000 + (time_t)(n / NSEC_PER_SEC);
	ts->tv_nsec = (long)(n % NSEC_PER_SEC);
}

#define WORLD_MAX_INFLIGHT 4096

struct datagram {
	int to; /* device index */
	struct sockaddr_in src;
	size_t len;
	uint8_t buf[256];
};

struct world;

/* What a device's I/O callbacks get: the world and which device they belong to. */
struct endpoint_ctx {
	struct world *w;
	int self;
};

struct world {
	struct fake_clock clock;
	struct wg_clock wclock;
	struct wg_device dev[2];
	struct wg_peer *peer[2]; /* dev[i]'s peer (the other device) */
	struct sockaddr_in addr[2];
	struct endpoint_ctx ctx[2];
	struct datagram *net;
	size_t n_net;
	bool drop_to[2];
	/* What each device sent, by message type, and delivered. */
	unsigned int sent[2][5];
	unsigned int delivered[2];
};

static inline int world_net_send(void *ctx, const struct sockaddr *dst, const struct wg_udp_src *src,
				 const void *buf, size_t len)
{
	struct endpoint_ctx *e = ctx;
	struct world *w = e->w;
	struct datagram *d;
	uint8_t type = ((const uint8_t *)buf)[0];

	assert_true(len <= sizeof(d->buf));
	if (type < 5)
		w->sent[e->self][type]++;
	if (w->drop_to[!e->self] || w->n_net == WORLD_MAX_INFLIGHT)
		return 0;
	d = &w->net[w->n_net++];
	d->to = !e->self;
	d->src = w->addr[e->self];
	d->len = len;
	memcpy(d->buf, buf, len);
	return 0;
}

static inline int world_net_flush(void *ctx)
{
	return 0;
}

static inline int world_tun_deliver(void *ctx, const void *pkt, size_t len)
{
	struct endpoint_ctx *e = ctx;

	e->w->delivered[e->self]++;
	return 0;
}

/* Hand every datagram on the network to its device, in order, until none is left
 * (answers the devices send meanwhile are delivered too). */
static inline void world_deliver(struct world *w)
{
	while (w->n_net) {
		struct datagram d = w->net[0];

		memmove(w->net, w->net + 1, (w->n_net - 1) * sizeof(*w->net));
		w->n_net--;
		wg_receive_packet(&w->dev[d.to], d.buf, d.len, (struct sockaddr *)&d.src, NULL);
	}
}

static inline struct world *world_new(void)
{
	struct world *w = calloc(1, sizeof(*w));
	uint8_t key[2][32];
	struct ip_prefix p;
	int i;

	assert_non_null(w);
	w->net = calloc(WORLD_MAX_INFLIGHT, sizeof(*w->net));
	assert_non_null(w->net);
	w->clock.now = 1000 * NSEC_PER_SEC;
	w->wclock = (struct wg_clock){ world_mono, world_real, &w->clock };
	for (i = 0; i < 2; i++) {
		struct wg_io io = { world_net_send, NULL, world_net_flush, world_tun_deliver, &w->ctx[i] };

		w->ctx[i] = (struct endpoint_ctx){ w, i };
		wg_device_init(&w->dev[i], i ? "pub" : "pua", &w->wclock, &wg_random_system, &io);
		w->dev[i].mtu = 1420;
		randombytes_buf(key[i], 32);
		assert_int_equal(wg_device_set_private_key(&w->dev[i], key[i]), 0);
		w->addr[i].sin_family = AF_INET;
		w->addr[i].sin_addr.s_addr = htonl(0xc0000201 + (uint32_t)i);
		w->addr[i].sin_port = htons(51820 + i);
	}
	sodium_memzero(key, sizeof(key));
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

static inline void world_free(struct world *w)
{
	wg_device_free(&w->dev[0]);
	wg_device_free(&w->dev[1]);
	free(w->net);
	free(w);
}

/* Device @from seals one 100-byte IPv4 (UDP) packet from inner address @src to @dst (4 bytes
 * each, network order); what it sends is left on the network (or staged behind a handshake)
 * until world_deliver(). */
static inline void world_seal_ip_addrs(struct world *w, int from, const char *src, const char *dst)
{
	static uint8_t buf[WG_PACKET_BUF_SIZE];
	uint8_t *ip = buf + WG_PACKET_HEADROOM;

	memset(ip, 0, 100);
	ip[0] = 0x45;
	ip[3] = 100;
	ip[9] = 17;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	wg_send_tun_packet(&w->dev[from], buf, 100);
}

/* The same from device @from's address to the other device's. */
static inline void world_seal_ip(struct world *w, int from)
{
	world_seal_ip_addrs(w, from, from ? "\x0a\x00\x00\x02" : "\x0a\x00\x00\x01",
			    from ? "\x0a\x00\x00\x01" : "\x0a\x00\x00\x02");
}

#endif
