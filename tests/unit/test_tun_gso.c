/* tun_gso: cutting TSO/USO super-packets from TUN. Every segment is checked against a
 * reference built here independently: lengths, IPv4 IDs, TCP sequence numbers and flags,
 * payload bytes, and checksums recomputed with a plain byte-by-byte sum. */
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
#include <sys/socket.h>
#include <cmocka.h>

#include "datapath/userspace/tun_gso.h"

#define MAXSEG 64

static uint8_t pkt[65536 + 64], out[MAXSEG][65536];
static uint8_t *outs[MAXSEG];
static size_t lens[MAXSEG];

/* Reference one's-complement sum, a byte at a time. */
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

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Build a super-packet: IPv4 (with @ip_opts bytes of options) or IPv6, TCP (with 12
 * bytes of options) or UDP, @payload bytes of a counting pattern. Returns its length. */
static size_t build(int family, uint8_t proto, size_t ip_opts, size_t payload, uint8_t tcp_flags)
{
	size_t ip = family == AF_INET ? 20 + ip_opts : 40, l4 = proto == IPPROTO_TCP ? 32 : 8;
	size_t len = ip + l4 + payload, i;
	uint8_t *t = pkt + ip;

	memset(pkt, 0, ip + l4);
	if (family == AF_INET) {
		pkt[0] = (uint8_t)(0x40 | (ip / 4));
		pkt[2] = (uint8_t)(len >> 8), pkt[3] = (uint8_t)len;
		pkt[4] = 0x12, pkt[5] = 0xfe; /* ID 0x12fe: wraps past 0x12ff */
		pkt[6] = 0x40;                /* DF */
		pkt[8] = 64, pkt[9] = proto;
		memcpy(pkt + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
		for (i = 20; i < ip; i++)
			pkt[i] = 1; /* NOP options */
	} else {
		pkt[0] = 0x60;
		pkt[4] = (uint8_t)((len - 40) >> 8), pkt[5] = (uint8_t)(len - 40);
		pkt[6] = proto, pkt[7] = 64;
		pkt[8] = 0xfd, pkt[23] = 1, pkt[24] = 0xfd, pkt[39] = 2;
	}
	t[0] = 0x30, t[1] = 0x39, t[2] = 0x14, t[3] = 0x51; /* ports 12345 -> 5201 */
	if (proto == IPPROTO_TCP) {
		memcpy(t + 4, "\xff\xff\xfa\x00", 4); /* seq near the wrap */
		memcpy(t + 8, "\x00\x00\x00\x07", 4);
		t[12] = (uint8_t)((l4 / 4) << 4);
		t[13] = tcp_flags;
		t[14] = 0x01, t[15] = 0xf5;
		t[20] = 1, t[21] = 1, t[22] = 8, t[23] = 10; /* NOP NOP timestamp */
		memset(t + 24, 0x5a, 8);
		t[16] = 0xab, t[17] = 0xcd; /* kernel's partial sum: must be replaced */
	} else {
		t[4] = (uint8_t)((l4 + payload) >> 8), t[5] = (uint8_t)(l4 + payload);
	}
	for (i = 0; i < payload; i++)
		pkt[ip + l4 + i] = (uint8_t)(i * 7 + i / 251);
	return len;
}

static void check_segments(int family, uint8_t proto, size_t ip_opts, size_t payload, uint16_t mss,
			   uint8_t flags)
{
	static uint8_t orig[65536];
	size_t ip = family == AF_INET ? 20 + ip_opts : 40, l4 = proto == IPPROTO_TCP ? 32 : 8;
	size_t len = build(family, proto, ip_opts, payload, flags), want_n = (payload + mss - 1) / mss, i;
	struct virtio_net_hdr vh = { 0 };
	int n;

	memcpy(orig, pkt, len);
	vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh.gso_type = proto == IPPROTO_UDP ? VIRTIO_NET_HDR_GSO_UDP_L4
		      : family == AF_INET  ? VIRTIO_NET_HDR_GSO_TCPV4
					   : VIRTIO_NET_HDR_GSO_TCPV6;
	vh.gso_size = htole16(mss);
	vh.hdr_len = htole16((uint16_t)(ip + l4));
	vh.csum_start = htole16((uint16_t)ip);
	vh.csum_offset = htole16(proto == IPPROTO_TCP ? 16 : 6);
	n = wg_tun_gso_split(&vh, pkt, len, outs, lens, MAXSEG, 0);
	assert_int_equal(n, want_n);
	for (i = 0; i < (size_t)n; i++) {
		const uint8_t *s = i ? outs[i] : pkt, *t = s + ip;
		size_t plen = i + 1 < (size_t)n ? mss : payload - i * mss;
		uint32_t sum;

		assert_int_equal(lens[i], ip + l4 + plen);
		assert_memory_equal(s + ip + l4, orig + ip + l4 + i * mss, plen);
		if (family == AF_INET) {
			assert_int_equal(be16(s + 2), ip + l4 + plen);
			assert_int_equal(be16(s + 4), (uint16_t)(0x12fe + i));
			assert_int_equal(ref_fold(ref_sum(0, s, ip)), 0xffff);
			assert_memory_equal(s + 20, orig + 20, ip - 20); /* options kept */
			sum = ref_sum(0, s + 12, 8);
		} else {
			assert_int_equal(be16(s + 4), l4 + plen);
			sum = ref_sum(0, s + 8, 32);
		}
		sum += proto + (uint32_t)(l4 + plen);
		assert_int_equal(ref_fold(ref_sum(sum, t, l4 + plen)), 0xffff);
		if (proto == IPPROTO_TCP) {
			uint8_t want = flags;

			assert_int_equal(be32(t + 4), (uint32_t)(0xfffffa00u + i * mss));
			assert_int_equal(be32(t + 8), 7);
			if (i + 1 < (size_t)n)
				want &= (uint8_t)~0x09; /* FIN, PSH only on the last */
			if (i > 0)
				want &= (uint8_t)~0x80; /* CWR only on the first */
			assert_int_equal(t[13], want);
			assert_memory_equal(t + 20, orig + ip + 20, 12); /* options kept */
		} else {
			assert_int_equal(be16(t + 4), 8 + plen);
			assert_int_not_equal(be16(t + 6), 0);
		}
	}
}

static int setup(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < MAXSEG; i++)
		outs[i] = out[i];
	return 0;
}

static void test_tcp4(void **state)
{
	(void)state;
	check_segments(AF_INET, IPPROTO_TCP, 0, 10 * 1368, 1368, 0x18);      /* exact multiple */
	check_segments(AF_INET, IPPROTO_TCP, 0, 10 * 1368 + 1, 1368, 0x19);  /* 1-byte last, FIN|PSH|ACK */
	check_segments(AF_INET, IPPROTO_TCP, 8, 65535 - 28 - 32, 1100, 0x90); /* max size, options, CWR */
	check_segments(AF_INET, IPPROTO_TCP, 0, 999, 1368, 0x18);            /* shorter than one segment */
	check_segments(AF_INET, IPPROTO_TCP, 0, 7777, 777, 0x10);            /* odd mss, odd payload */
}

static void test_tcp6(void **state)
{
	(void)state;
	check_segments(AF_INET6, IPPROTO_TCP, 0, 20 * 1348, 1348, 0x18);
	check_segments(AF_INET6, IPPROTO_TCP, 0, 3 * 1348 + 1347, 1348, 0x99);
	check_segments(AF_INET6, IPPROTO_TCP, 0, 65535 - 40 - 32, 1211, 0x10);
}

static void test_udp4_udp6(void **state)
{
	(void)state;
	check_segments(AF_INET, IPPROTO_UDP, 0, 5 * 1392 + 3, 1392, 0);
	check_segments(AF_INET6, IPPROTO_UDP, 0, 4 * 1372, 1372, 0);
	check_segments(AF_INET6, IPPROTO_UDP, 0, 1, 1372, 0);
}

static void test_plain_packet_checksum_completed(void **state)
{
	struct virtio_net_hdr vh = { 0 };
	size_t len = build(AF_INET, IPPROTO_UDP, 0, 333, 0);
	uint32_t sum;

	(void)state;
	/* As the kernel hands it over: the pseudo-header sum in the checksum field. */
	sum = ref_sum(0, pkt + 12, 8) + IPPROTO_UDP + 8 + 333;
	pkt[26] = (uint8_t)(ref_fold(sum) >> 8), pkt[27] = (uint8_t)ref_fold(sum);
	vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh.csum_start = htole16(20);
	vh.csum_offset = htole16(6);
	assert_int_equal(wg_tun_gso_split(&vh, pkt, len, outs, lens, MAXSEG, 0), 1);
	assert_int_equal(lens[0], len);
	/* Pseudo header plus segment sums to all ones. */
	assert_int_equal(ref_fold(ref_sum(ref_sum(0, pkt + 12, 8) + IPPROTO_UDP + 8 + 333, pkt + 20, 8 + 333)), 0xffff);
	/* Without NEEDS_CSUM the packet is untouched. */
	vh.flags = 0;
	pkt[26] = 0x12;
	assert_int_equal(wg_tun_gso_split(&vh, pkt, len, outs, lens, MAXSEG, 0), 1);
	assert_int_equal(pkt[26], 0x12);
	/* A checksum position past the end is bad input. */
	vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh.csum_start = htole16((uint16_t)len);
	assert_int_equal(wg_tun_gso_split(&vh, pkt, len, outs, lens, MAXSEG, 0), -EINVAL);
}

/* Bad super-packets: refused whole, the buffer left as it was, no segment written. */
static void expect_bad(struct virtio_net_hdr vh, size_t len, int want)
{
	static uint8_t before[65536];

	memcpy(before, pkt, sizeof(before));
	memset(out[1], 0xee, 64);
	assert_int_equal(wg_tun_gso_split(&vh, pkt, len, outs, lens, MAXSEG, 0), want);
	assert_memory_equal(pkt, before, len);
	assert_int_equal(out[1][0], 0xee);
}

static void test_bad_super_packets(void **state)
{
	struct virtio_net_hdr vh = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4 };
	size_t len;

	(void)state;
	vh.gso_size = htole16(1000);
	vh.csum_start = htole16(20);
	vh.csum_offset = htole16(16);
	len = build(AF_INET, IPPROTO_TCP, 0, 5000, 0x10);
	expect_bad((struct virtio_net_hdr){ .gso_type = VIRTIO_NET_HDR_GSO_TCPV4 }, len, -EINVAL); /* gso_size 0 */
	expect_bad(vh, len - 1, -EINVAL);  /* IP length says more than was read */
	expect_bad(vh, 30, -EINVAL);       /* truncated TCP header */
	expect_bad(vh, 10, -EINVAL);       /* truncated IP header */
	{
		struct virtio_net_hdr v6 = vh;

		v6.gso_type = VIRTIO_NET_HDR_GSO_TCPV6; /* IPv4 packet, IPv6 type */
		expect_bad(v6, len, -EINVAL);
		v6.gso_type = VIRTIO_NET_HDR_GSO_UDP; /* UFO is never offered */
		expect_bad(v6, len, -EINVAL);
	}
	pkt[32] = 0x40; /* TCP data offset 16 bytes: below the minimum */
	expect_bad(vh, len, -EINVAL);
	len = build(AF_INET, IPPROTO_UDP, 0, 5000, 0); /* UDP with the TCP type */
	expect_bad(vh, len, -EINVAL);
	len = build(AF_INET, IPPROTO_TCP, 0, 5000, 0x10);
	pkt[6] = 0x20; /* a fragment (MF) */
	expect_bad(vh, len, -EINVAL);
	len = build(AF_INET, IPPROTO_TCP, 0, 0, 0x10); /* headers only: nothing to segment */
	expect_bad(vh, len, -EINVAL);
	len = build(AF_INET6, IPPROTO_TCP, 0, 5000, 0x10); /* IPv6 with the IPv4 type */
	expect_bad(vh, len, -EINVAL);
	pkt[6] = 0; /* IPv6 extension header first: not offered */
	vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	expect_bad(vh, len, -EINVAL);
	/* More segments than room: -ENOSPC, nothing changed. */
	len = build(AF_INET, IPPROTO_TCP, 0, 65000, 0x10);
	vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	vh.gso_size = htole16(100);
	expect_bad(vh, len, -ENOSPC);
}

/* A gso_size the kernel never offers (a segment longer than the MTU): refused whole. */
static void test_segment_longer_than_mtu(void **state)
{
	struct virtio_net_hdr vh = { .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = htole16(1000) };
	static uint8_t before[65536];
	size_t len;

	(void)state;
	len = build(AF_INET, IPPROTO_TCP, 0, 5000, 0x10); /* segments of 20 + 32 + 1000 bytes */
	memcpy(before, pkt, sizeof(before));
	assert_int_equal(wg_tun_gso_split(&vh, pkt, len, outs, lens, MAXSEG, 1051), -EMSGSIZE);
	assert_memory_equal(pkt, before, len);
	assert_int_equal(wg_tun_gso_split(&vh, pkt, len, outs, lens, MAXSEG, 1052), 5);
	/* UDP: 20 + 8 + 1400 does not fit 1420. */
	vh.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
	vh.gso_size = htole16(1400);
	len = build(AF_INET, IPPROTO_UDP, 0, 5000, 0);
	assert_int_equal(wg_tun_gso_split(&vh, pkt, len, outs, lens, MAXSEG, 1420), -EMSGSIZE);
	vh.gso_size = htole16(1392);
	assert_int_equal(wg_tun_gso_split(&vh, pkt, len, outs, lens, MAXSEG, 1420), 4);
	/* A gso_size above the MTU is harmless when all the payload fits one segment. */
	vh.gso_size = htole16(9000);
	len = build(AF_INET6, IPPROTO_UDP, 0, 500, 0);
	vh.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
	assert_int_equal(wg_tun_gso_split(&vh, pkt, len, outs, lens, MAXSEG, 1420), 1);
}

/* More segments than a batch (a small MTU): cut a batch at a time, the super-packet kept. */
static void test_split_in_parts(void **state)
{
	static uint8_t orig[65536];
	struct virtio_net_hdr vh = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4 };
	size_t mss = 300, payload = 150 * 300 + 77, len, i, seen = 0;
	unsigned int first = 0;
	int k;

	(void)state;
	len = build(AF_INET, IPPROTO_TCP, 0, payload, 0x18); /* ACK, PSH */
	vh.gso_size = htole16((uint16_t)mss);
	memcpy(orig, pkt, len);
	assert_int_equal(wg_tun_gso_split(&vh, pkt, len, outs, lens, MAXSEG, 0), -ENOSPC);
	while ((k = wg_tun_gso_split_part(&vh, pkt, len, first, outs, lens, MAXSEG, 0)) > 0) {
		assert_true(k == MAXSEG || first + (unsigned int)k == 151);
		for (i = 0; i < (size_t)k; i++, seen++) {
			const uint8_t *s = outs[i], *t = s + 20;
			size_t plen = seen < 150 ? mss : 77;

			assert_int_equal(lens[i], 52 + plen);
			assert_memory_equal(s + 52, orig + 52 + seen * mss, plen);
			assert_int_equal(be16(s + 4), (uint16_t)(0x12fe + seen));
			assert_int_equal(ref_fold(ref_sum(0, s, 20)), 0xffff);
			assert_int_equal(ref_fold(ref_sum(ref_sum(0, s + 12, 8) + IPPROTO_TCP + 32 + plen, t, 32 + plen)),
					 0xffff);
			assert_int_equal(be32(t + 4), (uint32_t)(0xfffffa00u + seen * mss));
			assert_int_equal(t[13], seen == 150 ? 0x18 : 0x10); /* PSH only on the last */
		}
		first += (unsigned int)k;
	}
	assert_int_equal(k, 0);
	assert_int_equal(seen, 151);
	assert_memory_equal(pkt, orig, len);
	/* Past the end: nothing; a bad super-packet: refused. */
	assert_int_equal(wg_tun_gso_split_part(&vh, pkt, len, 151, outs, lens, MAXSEG, 0), 0);
	assert_int_equal(wg_tun_gso_split_part(&vh, pkt, len, 0, outs, lens, MAXSEG, 100), -EMSGSIZE);
	vh.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
	assert_int_equal(wg_tun_gso_split_part(&vh, pkt, len, 0, outs, lens, MAXSEG, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_tcp4, setup),
		cmocka_unit_test_setup(test_tcp6, setup),
		cmocka_unit_test_setup(test_udp4_udp6, setup),
		cmocka_unit_test_setup(test_plain_packet_checksum_completed, setup),
		cmocka_unit_test_setup(test_bad_super_packets, setup),
		cmocka_unit_test_setup(test_segment_longer_than_mtu, setup),
		cmocka_unit_test_setup(test_split_in_parts, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
