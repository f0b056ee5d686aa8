/* udp.h — the device's UDP sockets: one port for IPv4 and IPv6 (as wireguard-go and the
 * kernel), fwmark (SO_MARK), and batched receive/send with recvmmsg/sendmmsg. Where the
 * kernel has them, UDP segmentation offload (UDP_SEGMENT: one message per run of
 * equal-size datagrams to one peer) and UDP GRO (trains split by the receiver). */
#ifndef PODWIRE_US_UDP_H
#define PODWIRE_US_UDP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "datapath/userspace/udp_offload.h"

#define WG_UDP_BATCH 64
/* Room for a source address (the larger, IPv6, pktinfo) and a GSO segment size on send,
 * and for the destination address and the GRO segment size (an int) on receive. */
#define WG_UDP_TX_CTL_SIZE (CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(uint16_t)))
#define WG_UDP_RX_CTL_SIZE (CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int)))

/* Which of our addresses a datagram was sent to, to answer from it again ("sticky" source,
 * as the kernel's endpoint src4/src6 and wireguard-go's sticky sockets): on a host with
 * several addresses, a peer that reached us on one expects the answer from that one (a
 * firewall or NAT in between may let nothing else through). family 0: none, the kernel
 * picks the source. */
struct wg_udp_src {
	sa_family_t family;
	union {
		struct in_addr in4;
		struct in6_addr in6;
	};
};

struct wg_udp {
	int fd4, fd6; /* -1: not open */
	uint16_t port;
	uint32_t fwmark;
	/* Queued datagrams per family, flushed with one sendmmsg each: one message per
	 * datagram, or per run of datagrams when GSO is on. */
	struct wg_udp_queue {
		struct mmsghdr msgs[WG_UDP_BATCH];
		struct iovec iov[WG_UDP_BATCH];
		struct sockaddr_storage dst[WG_UDP_BATCH];
		struct wg_udp_src src[WG_UDP_BATCH]; /* family 0: no source asked for */
		unsigned int run_first[WG_UDP_BATCH], run_len[WG_UDP_BATCH];
		/* Per message: IP_PKTINFO / IPV6_PKTINFO naming the source when there is one,
		 * then UDP_SEGMENT when the message is a run of several datagrams. */
		union {
			char buf[WG_UDP_TX_CTL_SIZE];
			struct cmsghdr align;
		} ctl[WG_UDP_BATCH];
		unsigned int n;
	} q4, q6;
	uint64_t tx_dropped; /* queued datagrams the kernel refused (counted, not fatal) */
	bool offload;        /* wanted (PODWIRE_WG_OFFLOAD): set before the first bind */
	bool gso;            /* UDP_SEGMENT sends on; cleared for good if the kernel refuses one */
	bool gro;            /* UDP_GRO was switched on for the sockets of the last bind */
};

/* Per received datagram: the GRO segment size (0: a single datagram), whether it was
 * cut short by the buffer, and which of our addresses it (every segment of a GRO train
 * alike: the kernel only coalesces one flow) was sent to. */
struct wg_udp_rx_meta {
	uint16_t gso_size;
	bool truncated;
	struct wg_udp_src dst;
};

/* Offload starts as PODWIRE_WG_OFFLOAD says (invalid values count as on; main checks). */
void wg_udp_init(struct wg_udp *u);
/* Bind both families to @port (0: pick one, the same for both). On failure the current
 * sockets are kept. Returns 0 or -errno (-EADDRINUSE). */
int wg_udp_bind(struct wg_udp *u, uint16_t port);
/* Mark both sockets (and those bound later); on failure neither changes. */
int wg_udp_set_fwmark(struct wg_udp *u, uint32_t mark);
void wg_udp_close(struct wg_udp *u);
/* Send one datagram now, from @src when it is given and still ours (NULL: any). When it is
 * not (the address was removed), the datagram goes from the address the kernel picks, as
 * the kernel module does: sticky, not too sticky. Returns 0 or -errno. */
int wg_udp_send(struct wg_udp *u, const struct sockaddr *dst, const struct wg_udp_src *src,
		const void *buf, size_t len);
/* Queue a datagram (buffer kept until flush); flushes by itself when a batch is full.
 * With GSO, a run sent as one UDP_SEGMENT message has one destination and one source. */
int wg_udp_queue(struct wg_udp *u, const struct sockaddr *dst, const struct wg_udp_src *src,
		 const void *buf, size_t len);
int wg_udp_flush(struct wg_udp *u);
/* Receive up to @n datagrams without blocking into bufs[i] (each @size bytes); fills
 * lens[i] (bytes received), srcs[i] and meta[i] (GRO segment size, and our address it was
 * sent to); walk each with wg_udp_segment_next(). Returns the count (0: nothing) or -errno. */
int wg_udp_recv(int fd, uint8_t **bufs, size_t size, size_t *lens, struct sockaddr_storage *srcs,
		struct wg_udp_rx_meta *meta, unsigned int n);

#endif
