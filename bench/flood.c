/* bench/flood.c — a handshake-initiation flood at a WireGuard responder, for bench/flood.sh.
 *   flood [-b] [-k KEYFILE -l LEGIT_SRC] DUT_PUBLIC HOST PORT SRC_BASE NSRC PPS SECONDS
 * Sends 148-byte initiations (message type 1) to HOST:PORT at PPS per second for SECONDS,
 * each from the next of NSRC source addresses SRC_BASE, SRC_BASE+1, ... in turn (set per
 * datagram with IP_PKTINFO: the namespace must own them, e.g. `ip route add local
 * SRC_BASE/16 dev lo`). The body is random, so the responder's Noise step fails after its
 * first DH; mac1 is valid (keyed BLAKE2s with HASH("mac1----" || DUT_PUBLIC), podwire-wg's own
 * cookie.c) so the flood gets past the cheap check — with -b mac1 is wrong, the cheap drop.
 * Cookie replies (type 3, 64 bytes) that come back to the flood addresses are counted, with
 * the time of the first one after the flood's start and a count per second.
 * With -k/-l, a legitimate peer (KEYFILE: "private public" in base64, the first line; the
 * responder must have its public key as a peer) starts a real handshake from LEGIT_SRC every
 * 500 ms during the flood. A cookie reply is consumed (cookie.c) and the initiation is sent
 * again at once with mac2, so what is timed is the responder (a real initiator waits for its
 * retry timer, 5 s, before it uses the cookie). An attempt succeeds when the handshake
 * response comes back; it fails after 1 s without one.
 * Prints one line of key=value pairs. Built and run by bench/flood.sh against build/'s
 * libraries. */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <netinet/in.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "datapath/userspace/cookie.h"
#include "datapath/userspace/messages.h"
#include "datapath/userspace/noise.h"
#include "lib/key.h"

enum { BATCH = 32, MAX_SECONDS = 600, LEGIT_EVERY_MS = 500, LEGIT_TIMEOUT_MS = 1000, MAX_ATTEMPTS = 1024 };

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_state;

static uint64_t xorshift(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* The legitimate peer: one handshake attempt at a time. */
struct legit {
	int fd;
	struct noise_static_identity id;
	struct noise_handshake hs;
	struct cookie cookie;
	uint64_t ts;         /* real time (ns) in the last initiation's timestamp */
	uint32_t index;      /* sender index of the initiation in flight */
	uint64_t started;    /* attempt start, 0: none in flight */
	unsigned int cookies_this; /* cookie replies in the current attempt */
	unsigned int attempts, ok, cookies_total;
	double ms[MAX_ATTEMPTS];
};

static int legit_load(struct legit *l, const char *path, const uint8_t dut[32])
{
	char priv[128], pub[128];
	uint8_t key[32];
	FILE *f = fopen(path, "r");
	int ret = -EINVAL;

	if (!f)
		return -errno;
	if (fscanf(f, "%127s %127s", priv, pub) == 2 && key_from_base64(key, priv) == 0 && noise_identity_set(&l->id, key) == 0)
		ret = 0;
	fclose(f);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(priv, sizeof(priv));
	if (ret)
		return ret;
	noise_handshake_init(&l->hs, &l->id, dut);
	cookie_init(&l->cookie, dut);
	return 0;
}

static void legit_send(struct legit *l, const struct sockaddr_in *dut)
{
	struct message_handshake_initiation msg;
	uint8_t eph[32], ts[NOISE_TIMESTAMP_LEN] = { 0 };
	struct timespec rt;
	uint64_t v, sec;
	uint32_t nsec;

	/* TAI64N of the real time, and always later than the last one: the responder drops a
	 * timestamp not greater than the last it accepted from this key (another run's too). */
	clock_gettime(CLOCK_REALTIME, &rt);
	v = (uint64_t)rt.tv_sec * 1000000000ULL + (uint64_t)rt.tv_nsec;
	if (v <= l->ts)
		v = l->ts + 1;
	l->ts = v;
	sec = v / 1000000000ULL + 0x400000000000000aULL;
	nsec = (uint32_t)(v % 1000000000ULL);
	for (int i = 0; i < 8; i++)
		ts[i] = (uint8_t)(sec >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		ts[8 + i] = (uint8_t)(nsec >> (24 - 8 * i));
	randombytes_buf(eph, sizeof(eph));
	l->index = (uint32_t)xorshift() | 1;
	if (noise_handshake_create_initiation(&msg, &l->hs, &l->id, l->index, eph, ts) == 0) {
		cookie_add_macs((uint8_t *)&msg, sizeof(msg), &l->cookie, now_ns());
		sendto(l->fd, &msg, sizeof(msg), 0, (const struct sockaddr *)dut, sizeof(*dut));
	}
	sodium_memzero(eph, sizeof(eph));
}

static void legit_receive(struct legit *l, const struct sockaddr_in *dut)
{
	uint8_t buf[256];
	ssize_t r;

	while ((r = recv(l->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		uint32_t type, receiver;

		if (!l->started || r < 12)
			continue;
		memcpy(&type, buf, 4);
		type = le32toh(type);
		/* The receiver index: after the type in a cookie reply, after the sender's in a response. */
		memcpy(&receiver, buf + (type == MESSAGE_HANDSHAKE_RESPONSE ? 8 : 4), 4);
		if (le32toh(receiver) != l->index)
			continue;
		if (type == MESSAGE_HANDSHAKE_COOKIE && r == (ssize_t)sizeof(struct message_handshake_cookie)) {
			if (cookie_reply_consume((const void *)buf, &l->cookie, now_ns()) == 0) {
				l->cookies_this++;
				l->cookies_total++;
				legit_send(l, dut);
			}
		} else if (type == MESSAGE_HANDSHAKE_RESPONSE && r == (ssize_t)sizeof(struct message_handshake_response)) {
			if (l->ok < MAX_ATTEMPTS)
				l->ms[l->ok] = (double)(now_ns() - l->started) / 1e6;
			l->ok++;
			l->started = 0;
		}
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int parse_addr(const char *s, struct in_addr *a)
{
	if (inet_pton(AF_INET, s, a) != 1) {
		fprintf(stderr, "flood: %s: not an IPv4 address\n", s);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct message_handshake_initiation msgs[BATCH];
	static uint8_t cmsgbuf[BATCH][CMSG_SPACE(sizeof(struct in_pktinfo))];
	static uint64_t per_second[MAX_SECONDS + 2];
	struct sockaddr_in dut = { .sin_family = AF_INET }, lsrc = { .sin_family = AF_INET };
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	struct in_addr base;
	struct cookie mac1;
	struct legit legit = { .fd = -1 };
	const char *keyfile = NULL, *legit_src = NULL;
	uint64_t t0, t, sent = 0, cookies = 0, other = 0, first_cookie = 0, next_legit;
	uint8_t dutpub[32], rbuf[256];
	long nsrc, pps;
	double secs;
	int bad_mac1 = 0, fd, opt, sz = 8 << 20;

	while ((opt = getopt(argc, argv, "bk:l:")) != -1) {
		if (opt == 'b')
			bad_mac1 = 1;
		else if (opt == 'k')
			keyfile = optarg;
		else if (opt == 'l')
			legit_src = optarg;
		else
			goto usage;
	}
	if (argc - optind != 7 || !keyfile != !legit_src)
		goto usage;
	argv += optind;
	nsrc = atol(argv[4]);
	pps = atol(argv[5]);
	secs = atof(argv[6]);
	if (sodium_init() < 0)
		return 1;
	if (key_from_base64(dutpub, argv[0]))
		return fprintf(stderr, "flood: %s: not a public key\n", argv[0]), 2;
	if (parse_addr(argv[1], &dut.sin_addr) || parse_addr(argv[3], &base))
		return 2;
	dut.sin_port = htons((uint16_t)atoi(argv[2]));
	if (nsrc < 1 || nsrc > 1 << 24 || pps < 1 || !(secs > 0 && secs <= MAX_SECONDS))
		return fprintf(stderr, "flood: NSRC, PPS and SECONDS must be positive (SECONDS at most %d)\n",
			       MAX_SECONDS), 2;
	randombytes_buf(&rng_state, sizeof(rng_state));
	rng_state |= 1;
	cookie_init(&mac1, dutpub);

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return perror("flood: socket"), 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	memset(mm, 0, sizeof(mm));
	for (int i = 0; i < BATCH; i++) {
		struct cmsghdr *c;

		iov[i] = (struct iovec){ &msgs[i], sizeof(msgs[i]) };
		mm[i].msg_hdr = (struct msghdr){ .msg_name = &dut, .msg_namelen = sizeof(dut), .msg_iov = &iov[i],
						 .msg_iovlen = 1, .msg_control = cmsgbuf[i],
						 .msg_controllen = sizeof(cmsgbuf[i]) };
		c = CMSG_FIRSTHDR(&mm[i].msg_hdr);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
	}
	if (keyfile) {
		int ret = legit_load(&legit, keyfile, dutpub);

		if (ret)
			return fprintf(stderr, "flood: %s: %s\n", keyfile, strerror(-ret)), 2;
		if (parse_addr(legit_src, &lsrc.sin_addr))
			return 2;
		legit.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (legit.fd < 0 || bind(legit.fd, (struct sockaddr *)&lsrc, sizeof(lsrc)))
			return fprintf(stderr, "flood: %s: %s\n", legit_src, strerror(errno)), 1;
	}

	t0 = now_ns();
	next_legit = t0 + 200000000ULL;
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = legit.fd, .events = POLLIN } };
		double el;
		long due;
		int n, r;

		t = now_ns();
		el = (double)(t - t0) / 1e9;
		if (el >= secs)
			break;
		if (legit.fd >= 0) {
			if (legit.started && t - legit.started > LEGIT_TIMEOUT_MS * 1000000ULL)
				legit.started = 0; /* failed: counted as attempts - ok */
			if (!legit.started && t >= next_legit && legit.attempts < MAX_ATTEMPTS) {
				legit.started = t;
				legit.cookies_this = 0;
				legit.attempts++;
				legit_send(&legit, &dut);
				next_legit = t + LEGIT_EVERY_MS * 1000000ULL;
			}
		}
		due = (long)(el * (double)pps) - (long)sent;
		n = due > BATCH ? BATCH : (int)due;
		for (int i = 0; i < n; i++) {
			uint8_t *m = (uint8_t *)&msgs[i];
			struct in_pktinfo pi = { 0 };
			uint32_t src = ntohl(base.s_addr) + (uint32_t)((sent + (uint64_t)i) % (uint64_t)nsrc);

			for (size_t k = 0; k + 8 <= offsetof(struct message_handshake_initiation, macs); k += 8) {
				uint64_t w = xorshift();

				memcpy(m + k, &w, 8);
			}
			msgs[i].type = htole32(MESSAGE_HANDSHAKE_INITIATION);
			cookie_add_macs((uint8_t *)&msgs[i], sizeof(msgs[i]), &mac1, t);
			if (bad_mac1)
				msgs[i].macs.mac1[0] ^= 0xff;
			pi.ipi_spec_dst.s_addr = htonl(src);
			memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mm[i].msg_hdr)), &pi, sizeof(pi));
		}
		if (n > 0) {
			r = sendmmsg(fd, mm, (unsigned int)n, 0);
			if (r > 0)
				sent += (uint64_t)r;
			else if (errno != EAGAIN && errno != ENOBUFS)
				return perror("flood: sendmmsg"), 1;
		}
		/* Wait for what comes back only when ahead of the rate. */
		if (poll(p, legit.fd >= 0 ? 2 : 1, n < BATCH ? 1 : 0) < 0 && errno != EINTR)
			return perror("flood: poll"), 1;
		while ((r = (int)recv(fd, rbuf, sizeof(rbuf), MSG_DONTWAIT)) > 0) {
			t = now_ns();
			if (rbuf[0] == MESSAGE_HANDSHAKE_COOKIE && r == (int)sizeof(struct message_handshake_cookie)) {
				if (!cookies++)
					first_cookie = t;
				per_second[(t - t0) / 1000000000ULL <= MAX_SECONDS ? (t - t0) / 1000000000ULL : MAX_SECONDS]++;
			} else {
				other++;
			}
		}
		if (legit.fd >= 0)
			legit_receive(&legit, &dut);
	}
	if (legit.started)
		legit.attempts--; /* still in flight when the time was up: neither */
	t = now_ns();
	printf("sent=%llu send_pps=%.0f sources=%ld mac1=%s cookies=%llu", (unsigned long long)sent,
	       (double)sent / ((double)(t - t0) / 1e9), nsrc, bad_mac1 ? "invalid" : "valid",
	       (unsigned long long)cookies);
	if (cookies)
		printf(" first_cookie_ms=%.1f", (double)(first_cookie - t0) / 1e6);
	else
		printf(" first_cookie_ms=none");
	printf(" cookie_fraction=%.3f other_replies=%llu cookies_per_s=", sent ? (double)cookies / (double)sent : 0,
	       (unsigned long long)other);
	for (int s = 0; s < (int)secs + (secs > (int)secs); s++)
		printf("%s%llu", s ? "," : "", (unsigned long long)per_second[s]);
	if (legit.fd >= 0) {
		unsigned int k = legit.ok < MAX_ATTEMPTS ? legit.ok : MAX_ATTEMPTS;

		qsort(legit.ms, k, sizeof(double), cmp_double);
		printf(" legit_ok=%u legit_attempts=%u legit_cookies=%u", legit.ok, legit.attempts, legit.cookies_total);
		if (k)
			printf(" legit_ms_p50=%.1f legit_ms_max=%.1f", legit.ms[k / 2], legit.ms[k - 1]);
		else
			printf(" legit_ms_p50=none legit_ms_max=none");
	}
	putchar('\n');
	sodium_memzero(&legit, sizeof(legit));
	return 0;
usage:
	fprintf(stderr, "usage: flood [-b] [-k KEYFILE -l LEGIT_SRC] DUT_PUBLIC HOST PORT SRC_BASE NSRC PPS SECONDS\n");
	return 2;
}
