/* tun_gro.h — coalescing what is written to TUN: consecutive TCP segments of one flow
 * (as Linux GRO would join them) go to the kernel as one super-packet with a
 * virtio_net_hdr (TSO type, partial checksum), so the stack above handles one packet
 * instead of dozens. Everything else is written as it is. Packets are written in arrival
 * order within each flow. */
#ifndef PODWIRE_US_TUN_GRO_H
#define PODWIRE_US_TUN_GRO_H

#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define WG_TUN_GRO_MAX 64

struct wg_tun_gro {
	struct wg_tun_gro_pkt {
		uint8_t *data;    /* the IP packet; its headers are rewritten when it leads a group */
		size_t len;
		int next;         /* next packet of its group, -1: last */
	} pkts[WG_TUN_GRO_MAX];
	unsigned int n;
	struct wg_tun_gro_group {
		unsigned int first, last, count;
		size_t mss, payload; /* first segment's payload, and the sum */
		size_t ip_len, hdrs; /* the first packet's IP header, IP and TCP headers */
		int family;
		uint32_t next_seq;
		bool tcp, closed;
	} groups[WG_TUN_GRO_MAX];
	unsigned int ngroups;
};

void wg_tun_gro_init(struct wg_tun_gro *g);
/* Queue one packet (kept, not copied, until flushed). Returns false when the queue is full:
 * flush first. */
bool wg_tun_gro_add(struct wg_tun_gro *g, uint8_t *pkt, size_t len);
/* Group @i of the queue as one write: the header in @vh, the pieces in iov[0..return). The
 * leading packet's headers are rewritten for a group of more than one. iov must hold
 * WG_TUN_GRO_MAX + 1 entries; iov[0] is @vh. */
int wg_tun_gro_build(struct wg_tun_gro *g, unsigned int i, struct virtio_net_hdr *vh, struct iovec *iov);
/* Write every group to @fd (writev) and empty the queue. Returns 0 or the first -errno
 * (the other groups are still written); @errors counts failed writes. */
int wg_tun_gro_flush(struct wg_tun_gro *g, int fd, uint64_t *errors);

#endif
