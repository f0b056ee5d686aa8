/* tun_gro: coalescing TCP segments written to TUN. The reference is the segmenter run
 * backwards: a coalesced group, cut again by wg_tun_gso_split as the kernel would, must
 * give back the original packets byte for byte; packets that must not join stay alone
 * and untouched. Checksums of the originals come from a plain byte-by-byte sum. */
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "datapath/userspace/tun_gro.h"
#include "datapath/userspace/tun_gso.h"

#define NPKT 80

static uint8_t pkts[NPKT][2048], orig[NPKT][2048], joined[70000], segbuf[WG_TUN_GRO_MAX][70000];
static size_t plens[NPKT];

static uint32_t ref_sum(uint32_t s, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		s += i % 2 ? p[i] : (uint32_t)p[i] << 8;
	return s;
}

static uint16_t ref_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

struct seg_spec {
	int family;
	uint8_t src;      /* last address byte: tells flows apart */
	uint16_t sport;
	uint32_t seq, ack;
	uint16_t id, window;
	uint8_t flags, proto;
	size_t payload;
	bool bad_csum;
};

/* Packet @k from @s: IPv4 or IPv6, TCP with a 12-byte timestamp option, valid checksums. */
static void make(unsigned int k, struct seg_spec s)
{
	uint8_t *p = pkts[k];
	size_t ip = s.family == AF_INET ? 20 : 40, l4 = s.proto == IPPROTO_UDP ? 8 : 32, len = ip + l4 + s.payload, i;
	uint8_t *t = p + ip;
	uint32_t sum;

	if (!s.proto)
		s.proto = IPPROTO_TCP;
	l4 = s.proto == IPPROTO_UDP ? 8 : 32;
	len = ip + l4 + s.payload;
	memset(p, 0, ip + l4);
	if (s.family == AF_INET) {
		p[0] = 0x45, p[2] = (uint8_t)(len >> 8), p[3] = (uint8_t)len;
		p[4] = (uint8_t)(s.id >> 8), p[5] = (uint8_t)s.id, p[6] = 0x40, p[8] = 64, p[9] = s.proto;
		p[12] = 10, p[15] = s.src, p[16] = 10, p[19] = 2;
		p[11] = 0;
		p[10] = 0;
		{
			uint16_t c = (uint16_t)~ref_fold(ref_sum(0, p, 20));

			p[10] = (uint8_t)(c >> 8), p[11] = (uint8_t)c;
		}
		sum = ref_sum(0, p + 12, 8);
	} else {
		p[0] = 0x60, p[4] = (uint8_t)((len - 40) >> 8), p[5] = (uint8_t)(len - 40), p[6] = s.proto, p[7] = 64;
		p[8] = 0xfd, p[23] = s.src, p[24] = 0xfd, p[39] = 2;
		sum = ref_sum(0, p + 8, 32);
	}
	t[0] = (uint8_t)(s.sport >> 8), t[1] = (uint8_t)s.sport, t[2] = 0x14, t[3] = 0x51;
	if (s.proto == IPPROTO_TCP) {
		t[4] = (uint8_t)(s.seq >> 24), t[5] = (uint8_t)(s.seq >> 16), t[6] = (uint8_t)(s.seq >> 8), t[7] = (uint8_t)s.seq;
		t[8] = (uint8_t)(s.ack >> 24), t[9] = (uint8_t)(s.ack >> 16), t[10] = (uint8_t)(s.ack >> 8), t[11] = (uint8_t)s.ack;
		t[12] = 0x80, t[13] = s.flags ? s.flags : 0x10;
		t[14] = (uint8_t)(s.window >> 8), t[15] = (uint8_t)s.window;
		t[20] = 1, t[21] = 1, t[22] = 8, t[23] = 10;
		memset(t + 24, 0x33, 8);
	} else {
		t[4] = (uint8_t)((l4 + s.payload) >> 8), t[5] = (uint8_t)(l4 + s.payload);
	}
	for (i = 0; i < s.payload; i++)
		t[l4 + i] = (uint8_t)(s.seq + i * 13);
	sum = ref_sum(sum + s.proto + (uint32_t)(l4 + s.payload), t, l4 + s.payload);
	{
		uint16_t c = (uint16_t)~ref_fold(sum);
		size_t at = s.proto == IPPROTO_TCP ? 16 : 6;

		if (s.bad_csum)
			c ^= 1;
		t[at] = (uint8_t)(c >> 8), t[at + 1] = (uint8_t)c;
	}
	plens[k] = len;
	memcpy(orig[k], p, len);
}

/* Add packets 0..n-1. */
static void add_all(struct wg_tun_gro *g, unsigned int n)
{
	unsigned int i;

	wg_tun_gro_init(g);
	for (i = 0; i < n; i++)
		assert_true(wg_tun_gro_add(g, pkts[i], plens[i]));
}

/* Group @gi must hold exactly packets @idx[0..n) and cut back into their originals. */
static void expect_group(struct wg_tun_gro *g, unsigned int gi, const unsigned int *idx, unsigned int n)
{
	struct iovec iov[WG_TUN_GRO_MAX + 1];
	struct virtio_net_hdr vh;
	uint8_t *outs[WG_TUN_GRO_MAX];
	size_t lens[WG_TUN_GRO_MAX], len = 0;
	int cnt, i, segs;

	assert_true(gi < g->ngroups);
	assert_int_equal(g->groups[gi].count, n);
	cnt = wg_tun_gro_build(g, gi, &vh, iov);
	assert_int_equal(cnt, (int)n + 1);
	assert_ptr_equal(iov[0].iov_base, &vh);
	for (i = 1; i < cnt; i++) {
		memcpy(joined + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	if (n == 1) {
		/* Alone: written as it came, with an all-zero header. */
		struct virtio_net_hdr zero = { 0 };

		assert_memory_equal(&vh, &zero, sizeof(vh));
		assert_int_equal(len, plens[idx[0]]);
		assert_memory_equal(joined, orig[idx[0]], len);
		return;
	}
	assert_int_equal(vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	for (i = 0; i < WG_TUN_GRO_MAX; i++)
		outs[i] = segbuf[i];
	segs = wg_tun_gso_split(&vh, joined, len, outs, lens, WG_TUN_GRO_MAX, 0);
	assert_int_equal(segs, (int)n);
	for (i = 0; i < segs; i++) {
		const uint8_t *s = i ? outs[i] : joined;

		assert_int_equal(lens[i], plens[idx[i]]);
		assert_memory_equal(s, orig[idx[i]], lens[i]);
	}
}

static void flow_run(int family)
{
	struct wg_tun_gro g;
	unsigned int idx[20], i;

	/* 19 full segments and a short last one with PSH. */
	for (i = 0; i < 20; i++) {
		make(i, (struct seg_spec){ .family = family, .src = 1, .sport = 40000, .seq = 0xfffff000u + i * 1368,
					   .ack = 99, .id = (uint16_t)(0xfff0 + i), .window = 500,
					   .flags = i == 19 ? 0x18 : 0x10, .payload = i == 19 ? 77 : 1368 });
		idx[i] = i;
	}
	add_all(&g, 20);
	assert_int_equal(g.ngroups, 1);
	expect_group(&g, 0, idx, 20);
}

static void test_one_flow_ipv4(void **state)
{
	(void)state;
	flow_run(AF_INET);
}

static void test_one_flow_ipv6(void **state)
{
	(void)state;
	flow_run(AF_INET6);
}

static void test_interleaved_flows_keep_order(void **state)
{
	struct wg_tun_gro g;

	(void)state;
	/* A1 B1 A2 B2 A3, then A5 (a gap: new group), A6 joins it, A4 (late): alone after them. */
	make(0, (struct seg_spec){ .family = AF_INET, .src = 1, .sport = 1, .seq = 1000, .payload = 1000, .id = 1 });
	make(1, (struct seg_spec){ .family = AF_INET6, .src = 2, .sport = 2, .seq = 5000, .payload = 900 });
	make(2, (struct seg_spec){ .family = AF_INET, .src = 1, .sport = 1, .seq = 2000, .payload = 1000, .id = 2 });
	make(3, (struct seg_spec){ .family = AF_INET6, .src = 2, .sport = 2, .seq = 5900, .payload = 900 });
	make(4, (struct seg_spec){ .family = AF_INET, .src = 1, .sport = 1, .seq = 3000, .payload = 1000, .id = 3 });
	make(5, (struct seg_spec){ .family = AF_INET, .src = 1, .sport = 1, .seq = 5000, .payload = 1000, .id = 5 });
	make(6, (struct seg_spec){ .family = AF_INET, .src = 1, .sport = 1, .seq = 6000, .payload = 1000, .id = 6 });
	make(7, (struct seg_spec){ .family = AF_INET, .src = 1, .sport = 1, .seq = 4000, .payload = 1000, .id = 4 });
	add_all(&g, 8);
	assert_int_equal(g.ngroups, 4);
	expect_group(&g, 0, (unsigned int[]){ 0, 2, 4 }, 3);
	expect_group(&g, 1, (unsigned int[]){ 1, 3 }, 2);
	expect_group(&g, 2, (unsigned int[]){ 5, 6 }, 2);
	expect_group(&g, 3, (unsigned int[]){ 7 }, 1);
}

static void test_what_must_not_join(void **state)
{
	struct wg_tun_gro g;
	const struct seg_spec base = { .family = AF_INET, .src = 1, .sport = 7, .payload = 1000, .window = 9 };
	struct seg_spec s;
	unsigned int i, n = 0;

	(void)state;
	/* Each pair: a good first segment, then one that differs in one way. */
	struct seg_spec second[9];

	for (i = 0; i < 9; i++)
		second[i] = base;
	second[0].ack = 1;            /* another ack */
	second[1].window = 10;        /* another window */
	second[2].flags = 0x11;       /* FIN */
	second[3].flags = 0x14;       /* RST */
	second[4].bad_csum = true;    /* a bad checksum is the kernel's to drop */
	second[5].proto = IPPROTO_UDP; /* not TCP */
	second[6].payload = 1001;     /* longer than the first */
	second[7].seq = 1;            /* not the next sequence number */
	second[8].sport = 8;          /* another flow: joins nothing of this one */
	for (i = 0; i < 9; i++) {
		s = base;
		s.seq = 100000 * (i + 1);
		s.sport = (uint16_t)(100 + i);
		make(n++, s);
		second[i].seq = second[i].seq ? second[i].seq : s.seq + 1000;
		second[i].sport = i == 8 ? 999 : s.sport;
		make(n++, second[i]);
	}
	add_all(&g, n);
	assert_int_equal(g.ngroups, n);
	for (i = 0; i < n; i++)
		expect_group(&g, i, (unsigned int[]){ i }, 1);
}

static void test_short_or_push_closes_group(void **state)
{
	struct wg_tun_gro g;

	(void)state;
	make(0, (struct seg_spec){ .family = AF_INET6, .src = 1, .sport = 1, .seq = 0, .payload = 1000 });
	make(1, (struct seg_spec){ .family = AF_INET6, .src = 1, .sport = 1, .seq = 1000, .payload = 10 });
	make(2, (struct seg_spec){ .family = AF_INET6, .src = 1, .sport = 1, .seq = 1010, .payload = 1000, .flags = 0x18 });
	make(3, (struct seg_spec){ .family = AF_INET6, .src = 1, .sport = 1, .seq = 2010, .payload = 1000 });
	add_all(&g, 4);
	assert_int_equal(g.ngroups, 3);
	expect_group(&g, 0, (unsigned int[]){ 0, 1 }, 2);
	expect_group(&g, 1, (unsigned int[]){ 2 }, 1);
	expect_group(&g, 2, (unsigned int[]){ 3 }, 1);
}

static void test_size_cap(void **state)
{
	struct wg_tun_gro g;
	unsigned int i, idx[64];

	(void)state;
	/* 64 x 1368 bytes would pass 65535: the group stops below it, the rest starts anew. */
	for (i = 0; i < 64; i++) {
		make(i, (struct seg_spec){ .family = AF_INET, .src = 1, .sport = 1, .seq = i * 1368, .payload = 1368,
					   .id = (uint16_t)i });
		idx[i] = i;
	}
	add_all(&g, 64);
	assert_false(wg_tun_gro_add(&g, pkts[0], plens[0])); /* full */
	assert_int_equal(g.ngroups, 2);
	assert_int_equal(g.groups[0].count, (65535 - 52) / 1368);
	expect_group(&g, 0, idx, (65535 - 52) / 1368);
	expect_group(&g, 1, idx + (65535 - 52) / 1368, 64 - (65535 - 52) / 1368);
}

static void test_flush_writes_each_group(void **state)
{
	struct wg_tun_gro g;
	uint64_t errors = 0;
	uint8_t buf[70000];
	int fds[2];
	ssize_t r;

	(void)state;
	make(0, (struct seg_spec){ .family = AF_INET, .src = 1, .sport = 1, .seq = 0, .payload = 100 });
	make(1, (struct seg_spec){ .family = AF_INET, .src = 1, .sport = 1, .seq = 100, .payload = 100 });
	make(2, (struct seg_spec){ .family = AF_INET, .proto = IPPROTO_UDP, .src = 3, .sport = 1, .payload = 50 });
	add_all(&g, 3);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds), 0);
	assert_int_equal(wg_tun_gro_flush(&g, fds[0], &errors), 0);
	assert_int_equal(errors, 0);
	assert_int_equal(g.n, 0);
	r = read(fds[1], buf, sizeof(buf));
	assert_int_equal(r, (ssize_t)(WG_VNET_HDR_LEN + 52 + 200));
	r = read(fds[1], buf, sizeof(buf));
	assert_int_equal(r, (ssize_t)(WG_VNET_HDR_LEN + plens[2]));
	assert_memory_equal(buf + WG_VNET_HDR_LEN, orig[2], plens[2]);
	close(fds[1]);
	/* A write that fails is counted; the queue is emptied anyway. (Leading a group
	 * rewrote packet 0: build it again.) */
	make(0, (struct seg_spec){ .family = AF_INET, .src = 1, .sport = 1, .seq = 0, .payload = 100 });
	add_all(&g, 3);
	assert_int_equal(wg_tun_gro_flush(&g, fds[0], &errors), -EPIPE);
	assert_int_equal(errors, 2);
	assert_int_equal(g.n, 0);
	close(fds[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_flow_ipv4),
		cmocka_unit_test(test_one_flow_ipv6),
		cmocka_unit_test(test_interleaved_flows_keep_order),
		cmocka_unit_test(test_what_must_not_join),
		cmocka_unit_test(test_short_or_push_closes_group),
		cmocka_unit_test(test_size_cap),
		cmocka_unit_test(test_flush_writes_each_group),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
