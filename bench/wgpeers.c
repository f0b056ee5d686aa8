/* bench/wgpeers.c — many WireGuard peers in one process, for bench/scale.sh. It builds and
 * answers handshake messages with podwire-wg's own protocol code (noise.c, cookie.c), so it
 * can drive podwire-wg and wireguard-go alike:
 *   wgpeers genkeys N
 *       N key pairs, "private public" in base64, one pair a line.
 *   wgpeers handshake KEYS DUT_PUBLIC HOST PORT SECONDS WINDOW
 *       Initiations from every identity in KEYS (round robin, each one built fresh) to the
 *       device under test, WINDOW of them in flight; prints completed handshakes (responses
 *       received) per second. Lost or answered-with-a-cookie initiations are counted and
 *       replaced by new ones.
 *   wgpeers respond KEYS DUT_PUBLIC BASEPORT WARMUP SECONDS
 *       Identity i listens on 127.0.0.1:BASEPORT+i, answers the device's initiations and
 *       counts the data messages it receives (not opened) during SECONDS after WARMUP.
 *   wgpeers blast N SECONDS
 *       Plain UDP (1372-byte payloads, 1400-byte IP packets) to 10.98.(i/256).(i%256):9 for
 *       i = 0..N-1 in turn, as fast as sendmmsg goes: the traffic the device under test
 *       seals to its N peers.
 * Built and run by bench/scale.sh against build/'s libraries. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "datapath/userspace/cookie.h"
#include "datapath/userspace/messages.h"
#include "datapath/userspace/noise.h"
#include "lib/key.h"

struct ident {
	struct noise_static_identity id;
	struct noise_handshake hs; /* with the device under test */
	struct cookie cookie;      /* mac1 key of the device under test */
	uint64_t ts;               /* next timestamp's seconds: grows per initiation */
	int fd;                    /* respond: this identity's socket */
	uint64_t data;             /* respond: data messages counted */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void key_print(const uint8_t key[32])
{
	char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];

	fputs(sodium_bin2base64(b64, sizeof(b64), key, 32, sodium_base64_VARIANT_ORIGINAL), stdout);
}

/* Read "private public" lines; every identity is set up towards @dut. */
static struct ident *load_keys(const char *path, const uint8_t dut[32], size_t *n)
{
	char priv[128], pub[128];
	struct ident *v = NULL;
	size_t cap = 0;
	uint8_t key[32];
	FILE *f = fopen(path, "r");

	*n = 0;
	if (!f) {
		fprintf(stderr, "wgpeers: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	while (fscanf(f, "%127s %127s", priv, pub) == 2) {
		if (*n == cap) {
			struct ident *nv = realloc(v, (cap = cap ? 2 * cap : 1024) * sizeof(*v));

			if (!nv)
				break;
			v = nv;
		}
		memset(&v[*n], 0, sizeof(v[*n]));
		if (key_from_base64(key, priv) || noise_identity_set(&v[*n].id, key)) {
			fprintf(stderr, "wgpeers: %s: line %zu: not a private key\n", path, *n + 1);
			fclose(f);
			free(v);
			return NULL;
		}
		noise_handshake_init(&v[*n].hs, &v[*n].id, dut);
		cookie_init(&v[*n].cookie, dut);
		v[*n].ts = (uint64_t)time(NULL) + 0x400000000000000aULL; /* TAI64 label */
		v[*n].fd = -1;
		(*n)++;
	}
	fclose(f);
	sodium_memzero(key, sizeof(key));
	return v;
}

static int genkeys(long n)
{
	uint8_t priv[32], pub[32];

	for (long i = 0; i < n; i++) {
		randombytes_buf(priv, sizeof(priv));
		priv[0] &= 248;
		priv[31] = (priv[31] & 127) | 64;
		crypto_scalarmult_base(pub, priv);
		key_print(priv);
		putchar(' ');
		key_print(pub);
		putchar('\n');
	}
	sodium_memzero(priv, sizeof(priv));
	return 0;
}

/* Message @seq of the run, from identity seq % n, sender index seq + 1. */
static int build_initiation(struct ident *who, uint32_t index, struct message_handshake_initiation *msg)
{
	uint8_t eph[32], ts[NOISE_TIMESTAMP_LEN] = { 0 };
	uint64_t sec = who->ts++;
	int ret;

	for (int i = 0; i < 8; i++)
		ts[i] = (uint8_t)(sec >> (56 - 8 * i));
	randombytes_buf(eph, sizeof(eph));
	ret = noise_handshake_create_initiation(msg, &who->hs, &who->id, index, eph, ts);
	sodium_memzero(eph, sizeof(eph));
	if (!ret)
		cookie_add_macs((uint8_t *)msg, sizeof(*msg), &who->cookie, now_ns());
	return ret;
}

static int handshake(struct ident *v, size_t n, const char *host, int port, double secs, int window)
{
	struct sockaddr_in dut = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct message_handshake_initiation msg;
	uint64_t seq = 0, done = 0, cookies = 0, lost = 0, t0, t;
	uint8_t buf[256];
	int fd, inflight = 0;

	if (inet_pton(AF_INET, host, &dut.sin_addr) != 1)
		return fprintf(stderr, "wgpeers: %s: not an IPv4 address\n", host), 1;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&dut, sizeof(dut)))
		return perror("wgpeers: socket"), 1;
	t0 = now_ns();
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		t = now_ns();
		if ((double)(t - t0) / 1e9 >= secs)
			break;
		while (inflight < window) {
			if (build_initiation(&v[seq % n], (uint32_t)(seq + 1), &msg) == 0 &&
			    send(fd, &msg, sizeof(msg), 0) == (ssize_t)sizeof(msg))
				inflight++;
			seq++;
		}
		if (poll(&p, 1, 50) <= 0) {
			/* Nothing for 50 ms: what is in flight was dropped. */
			lost += (uint64_t)inflight;
			inflight = 0;
			continue;
		}
		while ((r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			uint32_t type;

			memcpy(&type, buf, 4);
			if (type == MESSAGE_HANDSHAKE_RESPONSE && r == (ssize_t)sizeof(struct message_handshake_response))
				done++;
			else if (type == MESSAGE_HANDSHAKE_COOKIE)
				cookies++;
			else
				continue;
			if (inflight > 0)
				inflight--;
		}
	}
	t = now_ns();
	printf("handshakes %.0f per s (%llu in %.2f s, window %d, %zu initiators); cookie replies %llu, lost %llu\n",
	       (double)done / ((double)(t - t0) / 1e9), (unsigned long long)done, (double)(t - t0) / 1e9, window, n,
	       (unsigned long long)cookies, (unsigned long long)lost);
	close(fd);
	return 0;
}

static struct noise_handshake *lookup_one(void *ctx, const uint8_t pub[NOISE_PUBLIC_KEY_LEN])
{
	struct ident *who = ctx;

	return sodium_memcmp(pub, who->hs.remote_static, 32) ? NULL : &who->hs;
}

/* The device under test is each identity's only peer. */
static void answer(struct ident *who, const uint8_t *buf, size_t len, const struct sockaddr_in *src, uint32_t index)
{
	const struct message_handshake_initiation *init = (const void *)buf;
	struct message_handshake_response resp;
	struct noise_handshake *hs;
	uint8_t eph[32];

	if (len != sizeof(*init))
		return;
	hs = noise_handshake_consume_initiation(init, &who->id, lookup_one, who, now_ns());
	if (!hs)
		return;
	randombytes_buf(eph, sizeof(eph));
	if (noise_handshake_create_response(&resp, hs, index, eph) == 0) {
		cookie_add_macs((uint8_t *)&resp, sizeof(resp), &who->cookie, now_ns());
		sendto(who->fd, &resp, sizeof(resp), 0, (const struct sockaddr *)src, sizeof(*src));
	}
	sodium_memzero(eph, sizeof(eph));
}

static int respond(struct ident *v, size_t n, int base, double warmup, double secs)
{
	struct rlimit rl;
	struct epoll_event ev[64];
	uint64_t t0 = now_ns(), start = 0, pkts = 0, bytes = 0, hs_sent = 0;
	uint32_t index = 1;
	size_t peers_seen = 0, i;
	static uint8_t buf[65536];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < n + 64) {
		rl.rlim_cur = rl.rlim_max < n + 64 ? rl.rlim_max : n + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (i = 0; i < n; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)(base + (int)i)),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		struct epoll_event e = { .events = EPOLLIN, .data.u64 = i };
		int sz = 4 << 20;

		v[i].fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (v[i].fd < 0 || bind(v[i].fd, (struct sockaddr *)&a, sizeof(a)) ||
		    epoll_ctl(ep, EPOLL_CTL_ADD, v[i].fd, &e))
			return fprintf(stderr, "wgpeers: port %d: %s\n", base + (int)i, strerror(errno)), 1;
		setsockopt(v[i].fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		uint64_t t = now_ns();
		int k;

		if (!start && (double)(t - t0) / 1e9 >= warmup)
			start = t, pkts = bytes = 0;
		if (start && (double)(t - start) / 1e9 >= secs)
			break;
		k = epoll_wait(ep, ev, 64, 20);
		for (int e = 0; e < k; e++) {
			struct ident *who = &v[ev[e].data.u64];
			struct sockaddr_in src;
			socklen_t sl = sizeof(src);
			ssize_t r;

			while ((r = recvfrom(who->fd, buf, sizeof(buf), 0, (struct sockaddr *)&src, &sl)) > 0) {
				if (buf[0] == MESSAGE_HANDSHAKE_INITIATION) {
					answer(who, buf, (size_t)r, &src, index++);
					hs_sent++;
				} else if (buf[0] == MESSAGE_DATA) {
					if (!who->data++)
						peers_seen++;
					pkts++;
					bytes += (uint64_t)r;
				}
				sl = sizeof(src);
			}
		}
	}
	printf("data %.0f kpps %.1f Mbit/s (UDP payload) from %zu of %zu peers; handshake responses %llu\n",
	       (double)pkts / secs / 1e3, (double)bytes * 8 / secs / 1e6, peers_seen, n,
	       (unsigned long long)hs_sent);
	return 0;
}

static int blast(long n, double secs)
{
	enum { BATCH = 64, PAYLOAD = 1372 };
	static uint8_t payload[PAYLOAD];
	struct sockaddr_in dst[BATCH];
	struct mmsghdr m[BATCH];
	struct iovec iov = { payload, PAYLOAD };
	uint64_t t0 = now_ns(), sent = 0;
	long next = 0;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return perror("wgpeers: socket"), 1;
	memset(m, 0, sizeof(m));
	for (int i = 0; i < BATCH; i++) {
		m[i].msg_hdr.msg_name = &dst[i];
		m[i].msg_hdr.msg_namelen = sizeof(dst[i]);
		m[i].msg_hdr.msg_iov = &iov;
		m[i].msg_hdr.msg_iovlen = 1;
	}
	while ((double)(now_ns() - t0) / 1e9 < secs) {
		int r;

		for (int i = 0; i < BATCH; i++, next = (next + 1) % n) {
			dst[i] = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(9),
						       .sin_addr.s_addr = htonl(0x0a620000u | (uint32_t)next) };
		}
		r = sendmmsg(fd, m, BATCH, 0);
		if (r > 0)
			sent += (uint64_t)r;
	}
	printf("blast %.0f kpps offered to %ld destinations\n", (double)sent / secs / 1e3, n);
	return 0;
}

int main(int argc, char **argv)
{
	uint8_t dut[32];
	struct ident *v;
	size_t n;
	int ret;

	if (sodium_init() < 0)
		return 1;
	if (argc == 3 && !strcmp(argv[1], "genkeys"))
		return genkeys(atol(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "blast"))
		return blast(atol(argv[2]) > 0 ? atol(argv[2]) : 1, atof(argv[3]));
	if ((argc == 8 && !strcmp(argv[1], "handshake")) || (argc == 7 && !strcmp(argv[1], "respond"))) {
		if (key_from_base64(dut, argv[3]))
			return fprintf(stderr, "wgpeers: %s: not a public key\n", argv[3]), 2;
		v = load_keys(argv[2], dut, &n);
		if (!v || !n)
			return 1;
		if (argv[1][0] == 'h')
			ret = handshake(v, n, argv[4], atoi(argv[5]), atof(argv[6]), atoi(argv[7]));
		else
			ret = respond(v, n, atoi(argv[4]), atof(argv[5]), atof(argv[6]));
		sodium_memzero(v, n * sizeof(*v));
		free(v);
		return ret;
	}
	fprintf(stderr, "usage: wgpeers genkeys N | handshake KEYS DUT_PUBLIC HOST PORT SECONDS WINDOW |\n"
			"       respond KEYS DUT_PUBLIC BASEPORT WARMUP SECONDS | blast N SECONDS\n");
	return 2;
}
