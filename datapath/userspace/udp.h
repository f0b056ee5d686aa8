/* udp.h — the device's UDP sockets: one port for IPv4 and IPv6 (as wireguard-go and the
 * kernel), fwmark (SO_MARK), and batched receive/send with recvmmsg/sendmmsg. */
#ifndef PODWIRE_US_UDP_H
#define PODWIRE_US_UDP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define WG_UDP_BATCH 64

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
	/* Queued datagrams per family, flushed with one sendmmsg each. */
	struct wg_udp_queue {
		struct mmsghdr msgs[WG_UDP_BATCH];
		struct iovec iov[WG_UDP_BATCH];
		struct sockaddr_storage dst[WG_UDP_BATCH];
		/* IP_PKTINFO / IPV6_PKTINFO naming the source, when there is one */
		uint8_t ctl[WG_UDP_BATCH][CMSG_SPACE(sizeof(struct in6_pktinfo))] __attribute__((aligned(8)));
		unsigned int n;
	} q4, q6;
	uint64_t tx_dropped; /* queued datagrams the kernel refused (counted, not fatal) */
};

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
/* Queue a datagram (buffer kept until flush); flushes by itself when a batch is full. */
int wg_udp_queue(struct wg_udp *u, const struct sockaddr *dst, const struct wg_udp_src *src,
		 const void *buf, size_t len);
int wg_udp_flush(struct wg_udp *u);
/* Receive up to @n datagrams without blocking into bufs[i] (each @size bytes); fills
 * lens[i], srcs[i] and dsts[i] (our address it was sent to). Returns the count (0:
 * nothing) or -errno. */
int wg_udp_recv(int fd, uint8_t **bufs, size_t size, size_t *lens, struct sockaddr_storage *srcs,
		struct wg_udp_src *dsts, unsigned int n);

#endif
