/* libFuzzer target for podwire-wg's receive path (receive.c, cookie.c, noise.c, replay.c,
 * timers.c): anyone who can reach the UDP port sends any datagram. Two real devices, A and
 * B, are wired back to back in memory through their I/O callbacks (device.h struct wg_io: no
 * TUN, no socket), and every input starts from the same established session: A sends B one
 * packet, which makes them do a full handshake; randomness and the clock are the fuzzer's
 * own, so an input replays the same way. The input is then a script of steps against B:
 *   0 a raw datagram from the input, its receiver index optionally patched to one B knows,
 *     so that it gets past the index lookup to decryption and the handshake code;
 *   1 a data message really sealed with A's current key (plaintext, counter optionally from
 *     the input), optionally with one byte flipped afterwards;
 *   2 time passing (timers of both run, everything in flight is delivered);
 *   3 the last datagram A sent, replayed, optionally with one byte flipped;
 *   4 a packet A's TUN reads (its destination made B's), sent by A's real send path;
 *   7 B's load threshold lowered, so that handshakes meet cookies and the ratelimiter.
 * Checked: nothing crashes, leaks or trips the sanitizers; B hands a packet to its TUN only
 * while it is processing a datagram that A really sealed and nobody changed, and then only
 * a valid IP packet from A's allowed address 10.0.0.1 with the bytes A sealed; A never
 * delivers anything (B's TUN sends nothing). */
#include <endian.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/userspace/crypt_pool.h"
#include "datapath/userspace/device.h"
#include "datapath/userspace/receive.h"
#include "datapath/userspace/send.h"
#include "lib/log.h"
#include "tests/fuzz/fuzz_logs.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NET_MAX 64
#define DGRAM_MAX 2048

struct dgram {
	int to;
	size_t len;
	uint8_t buf[DGRAM_MAX];
};

static struct world {
	uint64_t now, rng_counter;
	struct wg_clock clock;
	struct wg_random rng;
	struct wg_device dev[2]; /* A, B */
	struct wg_peer *peer[2];
	struct sockaddr_in addr[2];
	int self[2];
	struct dgram net[NET_MAX];
	size_t n_net;
	struct dgram last_from_a; /* what A sent last, for replays */
	/* What B may deliver right now: a packet sealed by A with these bytes, or nothing. */
	bool genuine;
	const uint8_t *sealed;
	size_t sealed_len;
	unsigned int delivered;
} *w;

static uint64_t fake_mono(void *ctx)
{
	return w->now;
}

static void fake_real(void *ctx, struct timespec *ts)
{
	ts->tv_sec = 1700000000 + (time_t)(w->now / NSEC_PER_SEC);
	ts->tv_nsec = (long)(w->now % NSEC_PER_SEC);
}

static void fake_fill(void *ctx, void *buf, size_t len)
{
	uint8_t seed[randombytes_SEEDBYTES] = { 0 };

	memcpy(seed, &w->rng_counter, sizeof(w->rng_counter));
	w->rng_counter++;
	randombytes_buf_deterministic(buf, len, seed);
}

static int net_send(void *ctx, const struct sockaddr *dst, const struct wg_udp_src *src, const void *buf,
		    size_t len)
{
	int self = *(int *)ctx;
	struct dgram *d;

	if (len > DGRAM_MAX)
		abort(); /* nothing we send is larger than a data message of MTU 1420 */
	if (self == 0) {
		w->last_from_a.to = 1;
		w->last_from_a.len = len;
		memcpy(w->last_from_a.buf, buf, len);
	}
	if (w->n_net == NET_MAX)
		return 0; /* the network drops it */
	d = &w->net[w->n_net++];
	d->to = !self;
	d->len = len;
	memcpy(d->buf, buf, len);
	return 0;
}

static int net_flush(void *ctx)
{
	return 0;
}

static int tun_deliver(void *ctx, const void *pkt, size_t len)
{
	int self = *(int *)ctx;
	const uint8_t *p = pkt;

	if (self == 0 || !w->genuine)
		abort(); /* a packet nobody sealed reached a TUN */
	/* What A sealed, cut to its IP length, from A's own address. */
	if (len < 20 || len > w->sealed_len || memcmp(pkt, w->sealed, len) || p[0] >> 4 != 4 ||
	    memcmp(p + 12, "\x0a\x00\x00\x01", 4))
		abort();
	w->delivered++;
	return 0;
}

static void receive(int to, uint8_t *buf, size_t len, const struct sockaddr_in *src)
{
	wg_receive_packet(&w->dev[to], buf, len, (const struct sockaddr *)src, NULL);
}

/* Everything in flight, in order, with what the devices answer meanwhile: all of it is real
 * traffic between A and B, which B may deliver (it carries A's sealed bytes when it is data). */
static void deliver_all(void)
{
	static struct dgram d;

	while (w->n_net) {
		d = w->net[0];
		memmove(w->net, w->net + 1, (w->n_net - 1) * sizeof(*w->net));
		w->n_net--;
		w->genuine = true;
		w->sealed = d.buf + MESSAGE_DATA_HEADER_LEN; /* opened in place */
		w->sealed_len = d.len;
		receive(d.to, d.buf, d.len, &w->addr[!d.to]);
		w->genuine = false;
	}
}

static void ip_packet(uint8_t *ip, size_t len)
{
	memset(ip, 0, len);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(len >> 8);
	ip[3] = (uint8_t)len;
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, "\x0a\x00\x00\x01", 4);
	memcpy(ip + 16, "\x0a\x00\x00\x02", 4);
}

static void world_start(void)
{
	static uint8_t buf[WG_PACKET_BUF_SIZE];
	uint8_t key[32];
	struct ip_prefix p;

	memset(w, 0, sizeof(*w));
	w->now = 1000 * NSEC_PER_SEC;
	w->clock = (struct wg_clock){ fake_mono, fake_real, NULL };
	w->rng = (struct wg_random){ fake_fill, NULL };
	for (int i = 0; i < 2; i++) {
		struct wg_io io = { net_send, NULL, net_flush, tun_deliver, &w->self[i] };

		w->self[i] = i;
		wg_device_init(&w->dev[i], i ? "fuzzb" : "fuzza", &w->clock, &w->rng, &io);
		w->dev[i].mtu = 1420;
		memset(key, 0x41 + i, sizeof(key));
		if (wg_device_set_private_key(&w->dev[i], key))
			abort();
		w->addr[i].sin_family = AF_INET;
		w->addr[i].sin_addr.s_addr = htonl(0xc0000201 + (uint32_t)i);
		w->addr[i].sin_port = htons(51820 + i);
	}
	for (int i = 0; i < 2; i++) {
		w->peer[i] = wg_device_add_peer(&w->dev[i], w->dev[!i].identity.public_key);
		if (!w->peer[i])
			abort();
		memcpy(&w->peer[i]->endpoint, &w->addr[!i], sizeof(w->addr[!i]));
		if (ip_prefix_parse(&p, i ? "10.0.0.1/32" : "10.0.0.2/32") ||
		    allowedips_insert(&w->dev[i].allowedips, &p, &w->peer[i]->allowedips))
			abort();
	}
	/* A's first packet starts the handshake; it then goes out with the session. */
	ip_packet(buf + WG_PACKET_HEADROOM, 100);
	wg_send_tun_packet(&w->dev[0], buf, 100);
	deliver_all();
	if (w->delivered != 1 || !w->peer[0]->kp_current || !w->peer[1]->kp_current)
		abort(); /* the fixture itself is broken */
}

static void world_stop(void)
{
	wg_device_free(&w->dev[0]);
	wg_device_free(&w->dev[1]);
}

/* The input, read front to back; reads past the end give zeros. */
struct input {
	const uint8_t *p;
	size_t left;
};

static uint8_t take_u8(struct input *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static uint16_t take_u16(struct input *in)
{
	return (uint16_t)(take_u8(in) | take_u8(in) << 8);
}

static size_t take_bytes(struct input *in, uint8_t *out, size_t want)
{
	size_t n = want < in->left ? want : in->left;

	memcpy(out, in->p, n);
	in->p += n;
	in->left -= n;
	return n;
}

/* An index B answers to: one of its keypairs' (by @which), or its handshake's. */
static uint32_t b_index(uint8_t which)
{
	struct wg_peer *peer = w->peer[1];
	struct wg_keypair *kps[3] = { peer->kp_current, peer->kp_previous, peer->kp_next };
	struct wg_keypair *kp = kps[which % 3];

	if (which & 4 || !kp)
		return peer->handshake_entry.index;
	return kp->noise.local_index;
}

static void flip(struct input *in, uint8_t *buf, size_t len)
{
	size_t at = take_u16(in);
	uint8_t x = take_u8(in);

	if (len && x) {
		buf[at % len] ^= x;
		w->genuine = false;
	}
}

static void step_raw(struct input *in, uint8_t op)
{
	static uint8_t buf[DGRAM_MAX];
	struct sockaddr_in src = w->addr[0];
	size_t len = take_u16(in) % DGRAM_MAX;

	len = take_bytes(in, buf, len);
	if (op & 0x10 && len >= 8) {
		/* data: key_idx at 4; response and cookie reply: receiver index at 8 and 4 */
		uint32_t idx = htole32(b_index(op >> 5));

		memcpy(buf + (buf[0] == MESSAGE_HANDSHAKE_RESPONSE && len >= 12 ? 8 : 4), &idx, 4);
	}
	if (op & 0x08)
		src.sin_addr.s_addr = htonl(0xc6336400 + take_u8(in)); /* another source */
	w->genuine = false;
	receive(1, buf, len, &src);
}

static void step_sealed(struct input *in, uint8_t op)
{
	static uint8_t buf[DGRAM_MAX], plain[DGRAM_MAX];
	struct wg_keypair *kp = w->peer[0]->kp_current;
	struct message_data *hdr = (struct message_data *)buf;
	size_t len = take_u16(in) % (DGRAM_MAX - MESSAGE_DATA_HEADER_LEN - NOISE_AUTHTAG_LEN);
	struct crypt_job job;
	uint64_t counter;

	len = take_bytes(in, plain, len);
	if (op & 0x10 && len >= 20)
		ip_packet(plain, len < 1400 ? len : 1400); /* a valid header, the fuzzer's payload after */
	if (!kp || !kp->noise.send_valid)
		return;
	if (op & 0x20) {
		counter = take_u16(in);
		counter |= (uint64_t)take_u16(in) << 16;
	} else {
		counter = kp->noise.send_counter++;
	}
	hdr->type = htole32(MESSAGE_DATA);
	hdr->key_idx = htole32(kp->noise.remote_index);
	hdr->counter = htole64(counter);
	memcpy(buf + MESSAGE_DATA_HEADER_LEN, plain, len);
	job = (struct crypt_job){ .encrypt = true, .key = kp->noise.send_key, .counter = counter,
				  .data = buf + MESSAGE_DATA_HEADER_LEN, .len = len };
	crypt_job_run(&job);
	w->genuine = true;
	w->sealed = plain;
	w->sealed_len = len;
	if (op & 0x40)
		flip(in, buf, MESSAGE_DATA_HEADER_LEN + job.out_len);
	receive(1, buf, MESSAGE_DATA_HEADER_LEN + job.out_len, &w->addr[0]);
	w->genuine = false;
}

static void step_time(struct input *in, uint8_t op)
{
	uint8_t n = take_u8(in);

	/* Up to 255 s in one step (REJECT_AFTER_TIME is 180 s), or milliseconds. */
	w->now += op & 0x10 ? n * NSEC_PER_SEC : n * NSEC_PER_MSEC;
	wg_device_tick(&w->dev[0]);
	wg_device_tick(&w->dev[1]);
	deliver_all();
}

static void step_replay(struct input *in, uint8_t op)
{
	static struct dgram d;

	if (!w->last_from_a.len)
		return;
	d = w->last_from_a;
	w->genuine = true;
	w->sealed = w->last_from_a.buf + MESSAGE_DATA_HEADER_LEN; /* A's sealed copy, not opened */
	w->sealed_len = 0; /* A's plaintext is gone: a replay must not be delivered at all */
	flip(in, d.buf, d.len);
	receive(1, d.buf, d.len, &w->addr[0]);
	w->genuine = false;
}

static void step_a_sends(struct input *in, uint8_t op)
{
	static uint8_t buf[WG_PACKET_BUF_SIZE];
	uint8_t *ip = buf + WG_PACKET_HEADROOM;
	size_t len = take_u16(in) % 1500;

	len = take_bytes(in, ip, len);
	if (len >= 20)
		memcpy(ip + 16, "\x0a\x00\x00\x02", 4);
	wg_send_tun_packet(&w->dev[0], buf, len);
	deliver_all();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (sodium_init() < 0)
		abort();
	fuzz_logs_to_null();
	w = calloc(1, sizeof(*w));
	if (!w)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	unsigned int steps = 0;

	world_start();
	while (in.left && steps++ < 64) {
		uint8_t op = take_u8(&in);

		switch (op & 0x07) {
		case 0:
		case 5:
			step_raw(&in, op);
			break;
		case 1:
		case 6:
			step_sealed(&in, op);
			break;
		case 2:
			step_time(&in, op);
			break;
		case 3:
			step_replay(&in, op);
			break;
		case 7:
			/* B under load (paper §5.3) after this many handshake messages in a second:
			 * cookie replies, mac2 and the ratelimiter, with A answering them for real. */
			w->dev[1].load_threshold = take_u8(&in) % 4;
			break;
		default:
			step_a_sends(&in, op);
			break;
		}
	}
	world_stop();
	return 0;
}
