/* tun_gso.c — userspace segmentation of TSO/USO super-packets from TUN. */
#include "datapath/userspace/tun_gso.h"

#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "datapath/userspace/be.h"
#include "datapath/userspace/inet_csum.h"

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

/* The kernel left the checksum at csum_start + csum_offset holding only the pseudo-header
 * sum (CHECKSUM_PARTIAL): sum from csum_start to the end into it. */
static int finish_checksum(const struct virtio_net_hdr *vh, uint8_t *pkt, size_t len)
{
	size_t start = le16toh(vh->csum_start), at = start + le16toh(vh->csum_offset);
	uint16_t c;

	if (at + 2 > len || start >= len)
		return -EINVAL;
	c = (uint16_t)~inet_csum_fold(inet_csum_add(0, pkt + start, len - start));
	/* UDP sends a computed zero as all ones (zero means "no checksum"). */
	if (c == 0 && le16toh(vh->csum_offset) == 6)
		c = 0xffff;
	be_put16(pkt + at, c);
	return 0;
}

struct layout {
	int family;
	size_t ip_len, l4_len, hdrs; /* IP header, TCP/UDP header, both */
	uint8_t proto;
};

/* Check the headers against the GSO type and the length we read. */
static int parse(const struct virtio_net_hdr *vh, const uint8_t *pkt, size_t len, struct layout *lo)
{
	uint8_t type = vh->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

	if (len < 20)
		return -EINVAL;
	if (pkt[0] >> 4 == 4) {
		lo->family = AF_INET;
		lo->ip_len = (size_t)(pkt[0] & 0xf) * 4;
		if (lo->ip_len < 20 || lo->ip_len > len || be_get16(pkt + 2) != len)
			return -EINVAL;
		/* A fragment cannot be segmented. */
		if (be_get16(pkt + 6) & 0x3fff)
			return -EINVAL;
		lo->proto = pkt[9];
	} else if (pkt[0] >> 4 == 6) {
		lo->family = AF_INET6;
		lo->ip_len = 40;
		if (len < 40 || (size_t)be_get16(pkt + 4) + 40 != len)
			return -EINVAL;
		lo->proto = pkt[6]; /* extension headers are not offered for segmentation */
	} else {
		return -EINVAL;
	}
	switch (type) {
	case VIRTIO_NET_HDR_GSO_TCPV4:
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (lo->proto != IPPROTO_TCP || (type == VIRTIO_NET_HDR_GSO_TCPV4) != (lo->family == AF_INET))
			return -EINVAL;
		if (lo->ip_len + 20 > len)
			return -EINVAL;
		lo->l4_len = (size_t)(pkt[lo->ip_len + 12] >> 4) * 4;
		if (lo->l4_len < 20)
			return -EINVAL;
		break;
	case VIRTIO_NET_HDR_GSO_UDP_L4:
		if (lo->proto != IPPROTO_UDP)
			return -EINVAL;
		lo->l4_len = 8;
		break;
	default: /* UFO (IP fragmentation) is never offered */
		return -EINVAL;
	}
	lo->hdrs = lo->ip_len + lo->l4_len;
	if (lo->hdrs >= len)
		return -EINVAL;
	return 0;
}

/* Make @seg (headers copied from the super-packet, @plen bytes of payload after them) the
 * @i-th of @n segments. */
static void fix_segment(const struct layout *lo, uint8_t *seg, size_t plen, unsigned int i, unsigned int n,
			uint16_t id, uint32_t seq, uint16_t gso_size)
{
	uint8_t *l4 = seg + lo->ip_len;
	size_t l4_total = lo->l4_len + plen;
	uint32_t sum;
	uint16_t c;

	if (lo->family == AF_INET) {
		be_put16(seg + 2, (uint16_t)(lo->hdrs + plen));
		be_put16(seg + 4, (uint16_t)(id + i));
		be_put16(seg + 10, 0);
		be_put16(seg + 10, (uint16_t)~inet_csum_fold(inet_csum_add(0, seg, lo->ip_len)));
		sum = inet_csum_pseudo(AF_INET, seg + 12, seg + 16, lo->proto, (uint32_t)l4_total);
	} else {
		be_put16(seg + 4, (uint16_t)l4_total);
		sum = inet_csum_pseudo(AF_INET6, seg + 8, seg + 24, lo->proto, (uint32_t)l4_total);
	}
	if (lo->proto == IPPROTO_TCP) {
		be_put32(l4 + 4, seq + (uint32_t)i * gso_size);
		if (i != n - 1)
			l4[13] &= (uint8_t)~(TCP_FIN | TCP_PSH); /* only the last segment ends or pushes */
		if (i != 0)
			l4[13] &= (uint8_t)~TCP_CWR; /* congestion window reduced: said once */
		be_put16(l4 + 16, 0);
		c = (uint16_t)~inet_csum_fold(inet_csum_add(sum, l4, l4_total));
		be_put16(l4 + 16, c);
	} else {
		be_put16(l4 + 4, (uint16_t)l4_total);
		be_put16(l4 + 6, 0);
		c = (uint16_t)~inet_csum_fold(inet_csum_add(sum, l4, l4_total));
		be_put16(l4 + 6, c ? c : 0xffff);
	}
}

/* Parse and check a GSO super-packet; fills the layout, the segment count and the first
 * segment's IPv4 ID and TCP sequence number. */
static int gso_plan(const struct virtio_net_hdr *vh, const uint8_t *pkt, size_t len, size_t max_seg_len,
		    struct layout *lo, unsigned int *n, uint16_t *id, uint32_t *seq)
{
	uint16_t gso_size = le16toh(vh->gso_size);
	size_t payload;
	int ret;

	if ((ret = parse(vh, pkt, len, lo)))
		return ret;
	payload = len - lo->hdrs;
	if (gso_size == 0 || lo->hdrs + gso_size > 65535)
		return -EINVAL;
	/* The kernel cuts its MSS (or UDP_SEGMENT size) to the MTU: a longer segment is a
	 * gso_size that was never offered. */
	if (max_seg_len && lo->hdrs + (payload < gso_size ? payload : gso_size) > max_seg_len)
		return -EMSGSIZE;
	*n = (unsigned int)((payload + gso_size - 1) / gso_size);
	*id = lo->family == AF_INET ? be_get16(pkt + 4) : 0;
	*seq = lo->proto == IPPROTO_TCP ? be_get32(pkt + lo->ip_len + 4) : 0;
	return 0;
}

int wg_tun_gso_split_part(const struct virtio_net_hdr *vh, const uint8_t *pkt, size_t len, unsigned int first,
			  uint8_t *const *outs, size_t *out_lens, unsigned int max, size_t max_seg_len)
{
	uint16_t gso_size = le16toh(vh->gso_size), id;
	struct layout lo;
	unsigned int i, n;
	uint32_t seq;
	size_t payload, plen;
	int ret;

	if ((vh->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_NONE)
		return -EINVAL;
	if ((ret = gso_plan(vh, pkt, len, max_seg_len, &lo, &n, &id, &seq)))
		return ret;
	payload = len - lo.hdrs;
	for (i = first; i < n && i - first < max; i++) {
		uint8_t *seg = outs[i - first];

		plen = payload - (size_t)i * gso_size < gso_size ? payload - (size_t)i * gso_size : gso_size;
		memcpy(seg, pkt, lo.hdrs);
		memcpy(seg + lo.hdrs, pkt + lo.hdrs + (size_t)i * gso_size, plen);
		fix_segment(&lo, seg, plen, i, n, id, seq, gso_size);
		out_lens[i - first] = lo.hdrs + plen;
	}
	return (int)(i > first ? i - first : 0);
}

int wg_tun_gso_split(const struct virtio_net_hdr *vh, uint8_t *pkt, size_t len, uint8_t *const *outs,
		     size_t *out_lens, unsigned int max, size_t max_seg_len)
{
	uint16_t gso_size = le16toh(vh->gso_size), id = 0;
	struct layout lo;
	size_t payload, plen;
	unsigned int i, n;
	uint32_t seq = 0;
	int ret;

	if (max == 0)
		return -ENOSPC;
	if ((vh->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_NONE) {
		if ((vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && (ret = finish_checksum(vh, pkt, len)))
			return ret;
		out_lens[0] = len;
		return 1;
	}
	if ((ret = gso_plan(vh, pkt, len, max_seg_len, &lo, &n, &id, &seq)))
		return ret;
	payload = len - lo.hdrs;
	if (n > max)
		return -ENOSPC;
	/* Last to first: segment 0 is cut in place once the others have copied the original
	 * headers. */
	for (i = n; i-- > 0;) {
		uint8_t *seg = i ? outs[i] : pkt;

		plen = payload - (size_t)i * gso_size < gso_size ? payload - (size_t)i * gso_size : gso_size;
		if (i) {
			memcpy(seg, pkt, lo.hdrs);
			memcpy(seg + lo.hdrs, pkt + lo.hdrs + (size_t)i * gso_size, plen);
		}
		fix_segment(&lo, seg, plen, i, n, id, seq, gso_size);
		out_lens[i] = lo.hdrs + plen;
	}
	return (int)n;
}
