/* tun_gro.c — TCP coalescing of packets written to TUN. */
#include "datapath/userspace/tun_gro.h"

#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "datapath/userspace/be.h"
#include "datapath/userspace/inet_csum.h"

#define TCP_ACK 0x10
#define TCP_PSH 0x08
/* Largest IP packet a TUN write carries. */
#define GRO_MAX_LEN 65535

struct tcp_view {
	int family;
	size_t ip_len, hdrs, payload;
	const uint8_t *tcp;
};

/* A TCP segment that may join a group: plain IPv4 (no options, not a fragment) or IPv6
 * without extension headers, ACK with at most PSH besides, data, a valid checksum (the
 * group goes up with a partial checksum the kernel will not check again). */
static bool tcp_candidate(const uint8_t *p, size_t len, struct tcp_view *v)
{
	uint32_t sum;
	size_t thl;

	if (len >= 20 && p[0] == 0x45) {
		if (p[9] != IPPROTO_TCP || be_get16(p + 2) != len || (be_get16(p + 6) & 0x3fff))
			return false;
		v->family = AF_INET;
		v->ip_len = 20;
		sum = inet_csum_pseudo(AF_INET, p + 12, p + 16, IPPROTO_TCP, (uint32_t)(len - 20));
	} else if (len >= 40 && p[0] >> 4 == 6) {
		if (p[6] != IPPROTO_TCP || (size_t)be_get16(p + 4) + 40 != len)
			return false;
		v->family = AF_INET6;
		v->ip_len = 40;
		sum = inet_csum_pseudo(AF_INET6, p + 8, p + 24, IPPROTO_TCP, (uint32_t)(len - 40));
	} else {
		return false;
	}
	if (v->ip_len + 20 > len)
		return false;
	v->tcp = p + v->ip_len;
	thl = (size_t)(v->tcp[12] >> 4) * 4;
	if (thl < 20 || v->ip_len + thl >= len)
		return false;
	if ((v->tcp[13] & ~(TCP_ACK | TCP_PSH)) || !(v->tcp[13] & TCP_ACK))
		return false;
	v->hdrs = v->ip_len + thl;
	v->payload = len - v->hdrs;
	return inet_csum_fold(inet_csum_add(sum, v->tcp, len - v->ip_len)) == 0xffff;
}

static bool same_flow(const uint8_t *a, const uint8_t *b, const struct tcp_view *va, const struct tcp_view *vb)
{
	if (va->family != vb->family)
		return false;
	if (va->family == AF_INET && memcmp(a + 12, b + 12, 8))
		return false;
	if (va->family == AF_INET6 && memcmp(a + 8, b + 8, 32))
		return false;
	return !memcmp(va->tcp, vb->tcp, 4); /* ports */
}

/* May @p (view @vp) follow group @gr, whose first packet is @f (view @vf)? */
static bool can_join(const struct wg_tun_gro_group *gr, const uint8_t *f, const struct tcp_view *vf,
		     const uint8_t *p, const struct tcp_view *vp)
{
	if (gr->closed || gr->count >= WG_TUN_GRO_MAX || vp->hdrs != vf->hdrs)
		return false;
	if (vf->family == AF_INET) {
		/* TOS, TTL and DF as the first; IDs are the kernel's to renumber. */
		if (f[1] != p[1] || f[8] != p[8] || (f[6] & 0x40) != (p[6] & 0x40))
			return false;
	} else if (memcmp(f, p, 4) || f[7] != p[7]) {
		return false; /* traffic class, flow label, hop limit */
	}
	if (be_get32(vp->tcp + 4) != gr->next_seq || memcmp(vf->tcp + 8, vp->tcp + 8, 4) || /* ack */
	    memcmp(vf->tcp + 14, vp->tcp + 14, 2) ||                                      /* window */
	    memcmp(vf->tcp + 20, vp->tcp + 20, vf->hdrs - vf->ip_len - 20))               /* options */
		return false;
	return vp->payload <= gr->mss && vf->hdrs + gr->payload + vp->payload <= GRO_MAX_LEN;
}

void wg_tun_gro_init(struct wg_tun_gro *g)
{
	g->n = g->ngroups = 0;
}

static void new_group(struct wg_tun_gro *g, unsigned int i, const struct tcp_view *v, bool tcp)
{
	struct wg_tun_gro_group *gr = &g->groups[g->ngroups++];

	*gr = (struct wg_tun_gro_group){ .first = i, .last = i, .count = 1, .tcp = tcp, .closed = !tcp };
	if (tcp) {
		gr->mss = gr->payload = v->payload;
		gr->next_seq = be_get32(v->tcp + 4) + (uint32_t)v->payload;
		gr->closed = v->tcp[13] & TCP_PSH;
		gr->family = v->family;
		gr->ip_len = v->ip_len;
		gr->hdrs = v->hdrs;
	}
}

/* The first packet's view, as checked when it was added. */
static void group_view(const struct wg_tun_gro *g, const struct wg_tun_gro_group *gr, struct tcp_view *v)
{
	const struct wg_tun_gro_pkt *f = &g->pkts[gr->first];

	v->family = gr->family;
	v->ip_len = gr->ip_len;
	v->hdrs = gr->hdrs;
	v->tcp = f->data + gr->ip_len;
	v->payload = f->len - gr->hdrs;
}

bool wg_tun_gro_add(struct wg_tun_gro *g, uint8_t *pkt, size_t len)
{
	struct tcp_view v, vf;
	unsigned int i = g->n, k;

	if (g->n == WG_TUN_GRO_MAX)
		return false;
	g->pkts[i] = (struct wg_tun_gro_pkt){ pkt, len, -1 };
	g->n++;
	if (!tcp_candidate(pkt, len, &v)) {
		new_group(g, i, NULL, false);
		return true;
	}
	/* The flow's newest group only: joining an older one would reorder the flow. */
	for (k = g->ngroups; k-- > 0;) {
		struct wg_tun_gro_group *gr = &g->groups[k];
		const uint8_t *f = g->pkts[gr->first].data;

		if (!gr->tcp)
			continue;
		group_view(g, gr, &vf);
		if (!same_flow(f, pkt, &vf, &v))
			continue;
		if (!can_join(gr, f, &vf, pkt, &v))
			break;
		g->pkts[gr->last].next = (int)i;
		gr->last = i;
		gr->count++;
		gr->payload += v.payload;
		gr->next_seq += (uint32_t)v.payload;
		if (v.payload < gr->mss || (v.tcp[13] & TCP_PSH))
			gr->closed = true;
		return true;
	}
	new_group(g, i, &v, true);
	return true;
}

int wg_tun_gro_build(struct wg_tun_gro *g, unsigned int i, struct virtio_net_hdr *vh, struct iovec *iov)
{
	const struct wg_tun_gro_group *gr = &g->groups[i];
	struct wg_tun_gro_pkt *f = &g->pkts[gr->first];
	struct tcp_view v;
	uint8_t *tcp, *p = f->data;
	size_t l4_total;
	uint32_t sum;
	int n = 1, j;

	memset(vh, 0, sizeof(*vh));
	iov[0] = (struct iovec){ vh, sizeof(*vh) };
	if (gr->count == 1) {
		iov[1] = (struct iovec){ f->data, f->len };
		return 2;
	}
	group_view(g, gr, &v);
	tcp = p + v.ip_len;
	l4_total = v.hdrs - v.ip_len + gr->payload;
	if (v.family == AF_INET) {
		be_put16(p + 2, (uint16_t)(v.hdrs + gr->payload));
		be_put16(p + 10, 0);
		be_put16(p + 10, (uint16_t)~inet_csum_fold(inet_csum_add(0, p, 20)));
		sum = inet_csum_pseudo(AF_INET, p + 12, p + 16, IPPROTO_TCP, (uint32_t)l4_total);
	} else {
		be_put16(p + 4, (uint16_t)l4_total);
		sum = inet_csum_pseudo(AF_INET6, p + 8, p + 24, IPPROTO_TCP, (uint32_t)l4_total);
	}
	if (g->pkts[gr->last].data[v.ip_len + 13] & TCP_PSH)
		tcp[13] |= TCP_PSH;
	/* CHECKSUM_PARTIAL: the field holds the pseudo-header sum, the kernel adds the rest. */
	be_put16(tcp + 16, inet_csum_fold(sum));
	vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh->gso_type = v.family == AF_INET ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
	vh->hdr_len = htole16((uint16_t)v.hdrs);
	vh->gso_size = htole16((uint16_t)gr->mss);
	vh->csum_start = htole16((uint16_t)v.ip_len);
	vh->csum_offset = htole16(16);
	iov[n++] = (struct iovec){ p, f->len };
	for (j = f->next; j >= 0; j = g->pkts[j].next)
		iov[n++] = (struct iovec){ g->pkts[j].data + v.hdrs, g->pkts[j].len - v.hdrs };
	return n;
}

int wg_tun_gro_flush(struct wg_tun_gro *g, int fd, uint64_t *errors)
{
	struct iovec iov[WG_TUN_GRO_MAX + 1];
	struct virtio_net_hdr vh;
	unsigned int i;
	int n, ret = 0;

	for (i = 0; i < g->ngroups; i++) {
		n = wg_tun_gro_build(g, i, &vh, iov);
		if (writev(fd, iov, n) < 0) {
			if (!ret)
				ret = -errno;
			(*errors)++;
		}
	}
	g->n = g->ngroups = 0;
	return ret;
}
