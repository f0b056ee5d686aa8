/* udp.c — UDP sockets for the WireGuard port. */
#include "datapath/userspace/udp.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

void wg_udp_init(struct wg_udp *u)
{
	bool on = true;

	memset(u, 0, sizeof(*u));
	u->fd4 = u->fd6 = -1;
	wg_offload_from_env(&on);
	u->offload = on;
	u->gso = on;
}

/* Offload on a fresh socket, best effort: GRO is asked for, GSO is probed (a kernel
 * without UDP_SEGMENT refuses the getsockopt). */
static void socket_offload(struct wg_udp *u, int fd, bool *gso, bool *gro)
{
	int one = 1, val;
	socklen_t len = sizeof(val);

	*gso = *gro = false;
	if (!u->offload)
		return;
	*gso = getsockopt(fd, SOL_UDP, UDP_SEGMENT, &val, &len) == 0;
	*gro = setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) == 0;
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
	{
		bool gso4 = true, gro4 = true, gso6 = true, gro6 = true;

		if (fd4 >= 0)
			socket_offload(u, fd4, &gso4, &gro4);
		if (fd6 >= 0)
			socket_offload(u, fd6, &gso6, &gro6);
		/* GSO once refused stays off; GRO needs no agreement (the cmsg says). */
		u->gso = u->gso && gso4 && gso6;
		u->gro = (fd4 >= 0 && gro4) || (fd6 >= 0 && gro6);
	}
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

/* Append one control message to @h, whose buffer has room for all of them (each call
 * site's buffer is sized for what it may put). */
static void put_cmsg(struct msghdr *h, int level, int type, const void *data, size_t len)
{
	struct cmsghdr *c = (struct cmsghdr *)((uint8_t *)h->msg_control + h->msg_controllen);

	memset(c, 0, CMSG_SPACE(len));
	c->cmsg_level = level;
	c->cmsg_type = type;
	c->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(c), data, len);
	h->msg_controllen += CMSG_SPACE(len);
}

/* Point @h at @ctl (WG_UDP_TX_CTL_SIZE bytes, cmsg-aligned) and fill it: IP_PKTINFO /
 * IPV6_PKTINFO naming @src as the source when it is one of @family, then UDP_SEGMENT
 * when @seg (the GSO segment size) is not 0. No control at all when neither applies. */
static void build_ctl(struct msghdr *h, void *ctl, sa_family_t family, const struct wg_udp_src *src,
		      uint16_t seg)
{
	h->msg_control = ctl;
	h->msg_controllen = 0;
	if (src && src->family == family) {
		if (family == AF_INET) {
			struct in_pktinfo pi = { .ipi_spec_dst = src->in4 };

			put_cmsg(h, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
		} else {
			struct in6_pktinfo pi6 = { .ipi6_addr = src->in6 };

			put_cmsg(h, IPPROTO_IPV6, IPV6_PKTINFO, &pi6, sizeof(pi6));
		}
	}
	if (seg)
		put_cmsg(h, SOL_UDP, UDP_SEGMENT, &seg, sizeof(seg));
	if (!h->msg_controllen)
		h->msg_control = NULL;
}

/* A source address that is no longer ours makes the kernel refuse the datagram (EINVAL);
 * then it goes without one, from whatever address the route gives. */
static bool stale_src(const struct wg_udp_src *src, int err)
{
	return src && src->family && (err == EINVAL || err == EADDRNOTAVAIL || err == ENETUNREACH);
}

/* One datagram from @src (NULL or family 0: any), or without it when it is stale. */
static int send_one(int fd, const struct sockaddr *dst, const struct wg_udp_src *src, const void *buf,
		    size_t len)
{
	union {
		char buf[WG_UDP_TX_CTL_SIZE];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { (void *)buf, len };
	struct msghdr m = {
		.msg_name = (void *)dst, .msg_namelen = addr_len(dst), .msg_iov = &iov, .msg_iovlen = 1,
	};

	build_ctl(&m, ctl.buf, dst->sa_family, src, 0);
	if (sendmsg(fd, &m, 0) >= 0)
		return 0;
	if (!m.msg_controllen || !stale_src(src, errno))
		return -errno;
	m.msg_control = NULL;
	m.msg_controllen = 0;
	return sendmsg(fd, &m, 0) < 0 ? -errno : 0;
}

int wg_udp_send(struct wg_udp *u, const struct sockaddr *dst, const struct wg_udp_src *src,
		const void *buf, size_t len)
{
	int fd = dst->sa_family == AF_INET6 ? u->fd6 : u->fd4;

	if (fd < 0)
		return -EAFNOSUPPORT;
	return send_one(fd, dst, src, buf, len);
}

/* A send failed with a full socket buffer: wait briefly rather than drop, so TCP inside
 * does not see loss for what is only local backpressure. True: try again. */
static bool wait_writable(int fd, int err)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };

	if (err == EINTR)
		return true;
	return (err == EAGAIN || err == ENOBUFS) && poll(&pfd, 1, 10) > 0;
}

/* A GSO message the kernel refused: its datagrams one by one, each still from the run's
 * source (or, if that is stale, without it). EIO is the kernel saying the route cannot do
 * UDP segmentation (no checksum offload on the device): GSO goes off for good. Anything
 * else (a refused destination, a path MTU below the segment size, a source address that
 * went away) is that run's problem, and the single sends show which datagrams really
 * fail. */
static int resend_run(struct wg_udp *u, int fd, struct wg_udp_queue *q, unsigned int first,
		      unsigned int len, int err)
{
	unsigned int i;
	int r, ret = 0;

	if (err == EIO && u->gso) {
		u->gso = false;
		log_warn("UDP segmentation offload refused by the kernel (%s): sending datagrams one by one",
			 strerror(err));
	}
	for (i = first; i < first + len; i++) {
		const struct sockaddr *dst = (const struct sockaddr *)&q->dst[i];

		while ((r = send_one(fd, dst, &q->src[i], q->iov[i].iov_base, q->iov[i].iov_len)) < 0) {
			if (wait_writable(fd, -r))
				continue;
			if (!ret)
				ret = r;
			u->tx_dropped++;
			break;
		}
	}
	return ret;
}

static bool same_src(const struct wg_udp_src *a, const struct wg_udp_src *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET)
		return a->in4.s_addr == b->in4.s_addr;
	if (a->family == AF_INET6)
		return !memcmp(&a->in6, &b->in6, sizeof(a->in6));
	return true;
}

/* How many datagrams from @i go out as one UDP_SEGMENT message: a run to one destination
 * (wg_udp_gso_run) cut where the source changes, since one message has one source. A
 * prefix of a run is a run (only its last datagram may be shorter). */
static unsigned int gso_run(const struct wg_udp_queue *q, unsigned int i)
{
	unsigned int len = wg_udp_gso_run(q->iov + i, q->dst + i, q->n - i), k;

	for (k = 1; k < len; k++)
		if (!same_src(&q->src[i], &q->src[i + k]))
			break;
	return k;
}

/* Build one message per datagram, or per run of datagrams for UDP_SEGMENT. */
static unsigned int build_messages(struct wg_udp *u, struct wg_udp_queue *q)
{
	unsigned int i = 0, m = 0, len;

	while (i < q->n) {
		struct msghdr *h = &q->msgs[m].msg_hdr;

		len = u->gso ? gso_run(q, i) : 1;
		memset(&q->msgs[m], 0, sizeof(q->msgs[m]));
		h->msg_name = &q->dst[i];
		h->msg_namelen = addr_len((struct sockaddr *)&q->dst[i]);
		h->msg_iov = &q->iov[i];
		h->msg_iovlen = len;
		build_ctl(h, q->ctl[m].buf, q->dst[i].ss_family, &q->src[i],
			  len > 1 ? (uint16_t)q->iov[i].iov_len : 0);
		q->run_first[m] = i;
		q->run_len[m] = len;
		m++;
		i += len;
	}
	return m;
}

/* Send the queue. sendmmsg stops at the first message it cannot send, and the queue mixes
 * peers: a failure (no route to one endpoint, a firewall rule) drops that message's
 * datagrams only, counted in u->tx_dropped, and the rest still go. Returns the first
 * error, or 0. */
static int flush_queue(struct wg_udp *u, int fd, struct wg_udp_queue *q)
{
	unsigned int done = 0, nmsgs;
	int n, err, r, ret = 0;

	if (q->n && fd < 0) { /* no socket of that family */
		u->tx_dropped += q->n;
		q->n = 0;
		return -EAFNOSUPPORT;
	}
	nmsgs = build_messages(u, q);
	while (done < nmsgs) {
		n = sendmmsg(fd, q->msgs + done, nmsgs - done, 0);
		if (n < 0) {
			unsigned int first = q->run_first[done];

			err = errno;
			if (wait_writable(fd, err))
				continue;
			if (q->run_len[done] > 1) {
				/* Also when the source is stale: the single sends drop it per datagram. */
				r = resend_run(u, fd, q, first, q->run_len[done], err);
			} else if (q->msgs[done].msg_hdr.msg_controllen && stale_src(&q->src[first], err)) {
				q->src[first].family = 0;
				build_ctl(&q->msgs[done].msg_hdr, q->ctl[done].buf, q->dst[first].ss_family, NULL, 0);
				continue;
			} else {
				r = -err;
				u->tx_dropped++;
			}
			if (!ret)
				ret = r;
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
	int ret = 0;

	if (q->n == WG_UDP_BATCH)
		ret = flush_queue(u, dst->sa_family == AF_INET6 ? u->fd6 : u->fd4, q);
	memset(&q->dst[q->n], 0, sizeof(q->dst[q->n]));
	memcpy(&q->dst[q->n], dst, addr_len(dst));
	q->iov[q->n].iov_base = (void *)buf;
	q->iov[q->n].iov_len = len;
	/* Kept only when it can be used on this family's socket, so that runs compare alike. */
	memset(&q->src[q->n], 0, sizeof(q->src[q->n]));
	if (src && src->family == dst->sa_family)
		q->src[q->n] = *src;
	q->n++;
	return ret;
}

/* What the kernel says about one received datagram: the GRO segment size (UDP_GRO) and
 * our address it was sent to (IP_PKTINFO / IPV6_PKTINFO). */
static void meta_from_cmsgs(struct msghdr *m, struct wg_udp_rx_meta *meta)
{
	struct cmsghdr *c;

	meta->gso_size = 0;
	memset(&meta->dst, 0, sizeof(meta->dst));
	for (c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		/* The kernel puts an int; read what is there, whatever its size. */
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
			size_t dlen = c->cmsg_len - CMSG_LEN(0);
			uint16_t v16;
			int v;

			if (dlen >= sizeof(v)) {
				memcpy(&v, CMSG_DATA(c), sizeof(v));
				meta->gso_size = v > 0 && v <= UINT16_MAX ? (uint16_t)v : 0;
			} else if (dlen >= sizeof(v16)) {
				memcpy(&v16, CMSG_DATA(c), sizeof(v16));
				meta->gso_size = v16;
			}
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
			   c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			meta->dst.family = AF_INET;
			meta->dst.in4 = pi.ipi_addr;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
			   c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
			struct in6_pktinfo pi6;

			memcpy(&pi6, CMSG_DATA(c), sizeof(pi6));
			meta->dst.family = AF_INET6;
			meta->dst.in6 = pi6.ipi6_addr;
		}
	}
}

int wg_udp_recv(int fd, uint8_t **bufs, size_t size, size_t *lens, struct sockaddr_storage *srcs,
		struct wg_udp_rx_meta *meta, unsigned int n)
{
	struct mmsghdr msgs[WG_UDP_BATCH];
	struct iovec iov[WG_UDP_BATCH];
	union {
		char buf[WG_UDP_RX_CTL_SIZE];
		struct cmsghdr align;
	} ctl[WG_UDP_BATCH];
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
		msgs[i].msg_hdr.msg_control = ctl[i].buf;
		msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i].buf);
	}
	got = recvmmsg(fd, msgs, n, MSG_DONTWAIT, NULL);
	if (got < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -errno;
	for (i = 0; i < (unsigned int)got; i++) {
		lens[i] = msgs[i].msg_len;
		/* Truncated (bigger than our buffer): the segment cut is malformed. */
		meta[i].truncated = msgs[i].msg_hdr.msg_flags & MSG_TRUNC;
		meta_from_cmsgs(&msgs[i].msg_hdr, &meta[i]);
	}
	return got;
}
