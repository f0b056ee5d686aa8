/* udp.c — UDP sockets for the WireGuard port. */
#include "datapath/userspace/udp.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

void wg_udp_init(struct wg_udp *u)
{
	memset(u, 0, sizeof(*u));
	u->fd4 = u->fd6 = -1;
}

static int open_socket(int family, uint16_t port, uint32_t mark, uint16_t *bound)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fd, one = 1, bufsize = 4 << 20;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)))
		goto fail;
	/* Learn which of our addresses each datagram was sent to (sticky source). */
	if (family == AF_INET ? setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one))
			      : setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)))
		goto fail;
	if (mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)))
		goto fail;
	/* Bigger buffers absorb bursts between batches; best effort (no CAP_NET_ADMIN: the
	 * plain variants are capped by sysctl). */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsize, sizeof(bufsize)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufsize, sizeof(bufsize)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		len = sizeof(*in6);
	}
	if (bind(fd, (struct sockaddr *)&ss, len))
		goto fail;
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		goto fail;
	*bound = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					 : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
fail:
	{
		int err = -errno;

		close(fd);
		return err;
	}
}

int wg_udp_bind(struct wg_udp *u, uint16_t port)
{
	int fd4, fd6, tries;
	uint16_t bound4 = 0, bound6 = 0;

	/* wireguard-go: with port 0, pick one for IPv4 and retry if IPv6 has it taken. */
	for (tries = 0; tries < 16; tries++) {
		fd4 = open_socket(AF_INET, port, u->fwmark, &bound4);
		if (fd4 < 0 && fd4 != -EAFNOSUPPORT)
			return fd4;
		fd6 = open_socket(AF_INET6, fd4 >= 0 ? bound4 : port, u->fwmark, &bound6);
		if (fd6 >= 0 || fd6 == -EAFNOSUPPORT)
			break;
		if (fd4 >= 0)
			close(fd4);
		if (port != 0 || fd6 != -EADDRINUSE)
			return fd6;
	}
	if (fd4 < 0 && fd6 < 0)
		return fd4;
	wg_udp_close(u);
	u->fd4 = fd4;
	u->fd6 = fd6;
	u->port = fd4 >= 0 ? bound4 : bound6;
	return 0;
}

int wg_udp_set_fwmark(struct wg_udp *u, uint32_t mark)
{
	int ret;

	if (u->fd4 >= 0 && setsockopt(u->fd4, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)))
		return -errno;
	if (u->fd6 >= 0 && setsockopt(u->fd6, SOL_SOCKET, SO_MARK, &mark, sizeof(mark))) {
		ret = -errno;
		/* Both sockets or neither: put the IPv4 one back. */
		if (u->fd4 >= 0)
			setsockopt(u->fd4, SOL_SOCKET, SO_MARK, &u->fwmark, sizeof(u->fwmark));
		return ret;
	}
	u->fwmark = mark;
	return 0;
}

void wg_udp_close(struct wg_udp *u)
{
	wg_udp_flush(u);
	if (u->fd4 >= 0)
		close(u->fd4);
	if (u->fd6 >= 0)
		close(u->fd6);
	u->fd4 = u->fd6 = -1;
}

static socklen_t addr_len(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* Fill @ctl with the control message naming @src as the source, for @family's socket.
 * Returns its length, 0 for none. */
static size_t src_cmsg(uint8_t *ctl, size_t size, sa_family_t family, const struct wg_udp_src *src)
{
	struct msghdr m = { .msg_control = ctl, .msg_controllen = size };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	if (!src || src->family != family)
		return 0;
	memset(ctl, 0, size);
	if (family == AF_INET) {
		struct in_pktinfo pi = { .ipi_spec_dst = src->in4 };

		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		return CMSG_SPACE(sizeof(pi));
	}
	struct in6_pktinfo pi6 = { .ipi6_addr = src->in6 };

	c->cmsg_level = IPPROTO_IPV6;
	c->cmsg_type = IPV6_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(pi6));
	memcpy(CMSG_DATA(c), &pi6, sizeof(pi6));
	return CMSG_SPACE(sizeof(pi6));
}

/* A source address that is no longer ours makes the kernel refuse the datagram (EINVAL);
 * then it goes without one, from whatever address the route gives. */
static bool stale_src(const struct msghdr *m, int err)
{
	return m->msg_controllen && (err == EINVAL || err == EADDRNOTAVAIL || err == ENETUNREACH);
}

int wg_udp_send(struct wg_udp *u, const struct sockaddr *dst, const struct wg_udp_src *src,
		const void *buf, size_t len)
{
	int fd = dst->sa_family == AF_INET6 ? u->fd6 : u->fd4;
	uint8_t ctl[CMSG_SPACE(sizeof(struct in6_pktinfo))] __attribute__((aligned(8)));
	struct iovec iov = { (void *)buf, len };
	struct msghdr m = {
		.msg_name = (void *)dst, .msg_namelen = addr_len(dst), .msg_iov = &iov, .msg_iovlen = 1,
	};

	if (fd < 0)
		return -EAFNOSUPPORT;
	m.msg_controllen = src_cmsg(ctl, sizeof(ctl), dst->sa_family, src);
	m.msg_control = m.msg_controllen ? ctl : NULL;
	if (sendmsg(fd, &m, 0) >= 0)
		return 0;
	if (!stale_src(&m, errno))
		return -errno;
	m.msg_control = NULL;
	m.msg_controllen = 0;
	return sendmsg(fd, &m, 0) < 0 ? -errno : 0;
}

/* Send the queue. sendmmsg stops at the first datagram it cannot send, and the queue mixes
 * peers: a failure (no route to one endpoint, a firewall rule) drops that datagram only,
 * counted in u->tx_dropped, and the rest still go. Returns the first error, or 0. */
static int flush_queue(struct wg_udp *u, int fd, struct wg_udp_queue *q)
{
	unsigned int done = 0;
	int n, ret = 0;

	if (q->n && fd < 0) { /* no socket of that family */
		u->tx_dropped += q->n;
		q->n = 0;
		return -EAFNOSUPPORT;
	}
	while (done < q->n) {
		n = sendmmsg(fd, q->msgs + done, q->n - done, 0);
		if (n < 0) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			if (errno == EINTR)
				continue;
			if (stale_src(&q->msgs[done].msg_hdr, errno)) {
				q->msgs[done].msg_hdr.msg_control = NULL;
				q->msgs[done].msg_hdr.msg_controllen = 0;
				continue;
			}
			/* A full socket buffer: wait briefly rather than drop, so TCP inside does
			 * not see loss for what is only local backpressure. */
			if ((errno == EAGAIN || errno == ENOBUFS) && poll(&pfd, 1, 10) > 0)
				continue;
			if (!ret)
				ret = -errno;
			u->tx_dropped++;
			done++;
			continue;
		}
		done += (unsigned int)n;
	}
	q->n = 0;
	return ret;
}

int wg_udp_flush(struct wg_udp *u)
{
	int r4 = flush_queue(u, u->fd4, &u->q4), r6 = flush_queue(u, u->fd6, &u->q6);

	return r4 ? r4 : r6;
}

int wg_udp_queue(struct wg_udp *u, const struct sockaddr *dst, const struct wg_udp_src *src,
		 const void *buf, size_t len)
{
	struct wg_udp_queue *q = dst->sa_family == AF_INET6 ? &u->q6 : &u->q4;
	struct mmsghdr *m;
	int ret = 0;

	if (q->n == WG_UDP_BATCH)
		ret = flush_queue(u, dst->sa_family == AF_INET6 ? u->fd6 : u->fd4, q);
	m = &q->msgs[q->n];
	memset(m, 0, sizeof(*m));
	memcpy(&q->dst[q->n], dst, addr_len(dst));
	q->iov[q->n].iov_base = (void *)buf;
	q->iov[q->n].iov_len = len;
	m->msg_hdr.msg_name = &q->dst[q->n];
	m->msg_hdr.msg_namelen = addr_len(dst);
	m->msg_hdr.msg_iov = &q->iov[q->n];
	m->msg_hdr.msg_iovlen = 1;
	m->msg_hdr.msg_controllen = src_cmsg(q->ctl[q->n], sizeof(q->ctl[q->n]), dst->sa_family, src);
	m->msg_hdr.msg_control = m->msg_hdr.msg_controllen ? q->ctl[q->n] : NULL;
	q->n++;
	return ret;
}

/* Our address a datagram was sent to, from its IP_PKTINFO / IPV6_PKTINFO. */
static void dst_from_cmsg(struct msghdr *m, struct wg_udp_src *dst)
{
	struct cmsghdr *c;

	memset(dst, 0, sizeof(*dst));
	for (c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			dst->family = AF_INET;
			dst->in4 = pi.ipi_addr;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
			   c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
			struct in6_pktinfo pi6;

			memcpy(&pi6, CMSG_DATA(c), sizeof(pi6));
			dst->family = AF_INET6;
			dst->in6 = pi6.ipi6_addr;
		}
	}
}

int wg_udp_recv(int fd, uint8_t **bufs, size_t size, size_t *lens, struct sockaddr_storage *srcs,
		struct wg_udp_src *dsts, unsigned int n)
{
	struct mmsghdr msgs[WG_UDP_BATCH];
	struct iovec iov[WG_UDP_BATCH];
	uint8_t ctl[WG_UDP_BATCH][CMSG_SPACE(sizeof(struct in6_pktinfo))] __attribute__((aligned(8)));
	unsigned int i;
	int got;

	if (n > WG_UDP_BATCH)
		n = WG_UDP_BATCH;
	memset(msgs, 0, sizeof(msgs[0]) * n);
	for (i = 0; i < n; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = size;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &srcs[i];
		msgs[i].msg_hdr.msg_namelen = sizeof(srcs[i]);
		msgs[i].msg_hdr.msg_control = ctl[i];
		msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i]);
	}
	got = recvmmsg(fd, msgs, n, MSG_DONTWAIT, NULL);
	if (got < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -errno;
	for (i = 0; i < (unsigned int)got; i++) {
		/* Truncated datagrams (bigger than our buffer) are malformed: mark them. */
		lens[i] = msgs[i].msg_hdr.msg_flags & MSG_TRUNC ? 0 : msgs[i].msg_len;
		dst_from_cmsg(&msgs[i].msg_hdr, &dsts[i]);
	}
	return got;
}
