/* event_loop.c — epoll over TUN, UDP, a wake-up eventfd, rtnetlink link events and a
 * signalfd. Packets are read in batches and sent in batches (sendmmsg); buffers are
 * allocated once at start. */
#include "datapath/userspace/event_loop.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "datapath/userspace/receive.h"
#include "datapath/userspace/send.h"
#include "datapath/userspace/tun.h"
#include "datapath/userspace/tun_gso.h"
#include "lib/log.h"

enum { EV_TUN = 1, EV_UDP4, EV_UDP6, EV_WAKE, EV_NETLINK, EV_SIGNAL };

static int io_send(void *ctx, const struct sockaddr *dst, const struct wg_udp_src *src,
		   const void *buf, size_t len)
{
	return wg_udp_send(&((struct wg_loop *)ctx)->udp, dst, src, buf, len);
}

static int io_queue(void *ctx, const struct sockaddr *dst, const struct wg_udp_src *src,
		    const void *buf, size_t len)
{
	return wg_udp_queue(&((struct wg_loop *)ctx)->udp, dst, src, buf, len);
}

static int io_flush(void *ctx)
{
	return wg_udp_flush(&((struct wg_loop *)ctx)->udp);
}

static int io_deliver(void *ctx, const void *pkt, size_t len)
{
	struct wg_loop *l = ctx;

	if (l->tun_vnet) {
		/* The packet lies in one of our batch buffers, valid until handle_udp() ends and
		 * writes the queue (TCP segments of a flow coalesced). */
		if (!wg_tun_gro_add(&l->gro, (uint8_t *)pkt, len)) {
			wg_tun_gro_flush(&l->gro, l->tun_fd, &l->dev.stats.tx_errors);
			wg_tun_gro_add(&l->gro, (uint8_t *)pkt, len);
		}
		return 0;
	}
	if (write(l->tun_fd, pkt, len) < 0)
		return -errno;
	return 0;
}

static int epoll_add(struct wg_loop *l, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	if (fd < 0)
		return 0;
	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/* Called by the UAPI thread with the lock held. */
static int uapi_set_listen_port(void *ctx, uint16_t port, uint16_t *bound)
{
	struct wg_loop *l = ctx;
	int ret = wg_udp_bind(&l->udp, port);

	if (ret)
		return ret == -EADDRINUSE ? ret : -EADDRINUSE;
	/* The old sockets were closed (and so left the epoll set); add the new ones. */
	epoll_add(l, l->udp.fd4, EV_UDP4);
	epoll_add(l, l->udp.fd6, EV_UDP6);
	*bound = l->udp.port;
	return 0;
}

static int uapi_set_fwmark(void *ctx, uint32_t mark)
{
	return wg_udp_set_fwmark(&((struct wg_loop *)ctx)->udp, mark);
}

static void uapi_changed(void *ctx)
{
	struct wg_loop *l = ctx;
	uint64_t one = 1;

	/* Timers may now be due sooner than the loop's sleep: wake it. */
	if (write(l->wake_fd, &one, sizeof(one)) < 0)
		log_debug("%s: cannot wake the event loop", l->dev.name);
}

static int open_link_watch(void)
{
	struct sockaddr_nl snl = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&snl, sizeof(snl))) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

int wg_loop_init(struct wg_loop *l, const char *ifname, int tun_fd, struct wg_uapi_server *uapi,
		 unsigned int crypt_threads)
{
	const struct wg_io io = { io_send, io_queue, io_flush, io_deliver, l };
	const struct wg_uapi_ops ops = { uapi_set_listen_port, uapi_set_fwmark, uapi_changed, l };
	sigset_t sigs;
	int i, ret;

	memset(l, 0, sizeof(*l));
	l->tun_fd = tun_fd;
	l->tun_vnet = wg_tun_has_vnet_hdr(tun_fd);
	l->udp_rx_budget = WG_LOOP_BATCH;
	wg_tun_gro_init(&l->gro);
	l->epfd = l->wake_fd = l->nl_fd = l->sig_fd = -1;
	l->tun_ctl.home_ns = l->tun_ctl.sock = -1;
	l->uapi = *uapi;
	pthread_mutex_init(&l->lock, NULL);
	wg_udp_init(&l->udp);
	wg_device_init(&l->dev, ifname, &wg_clock_system, &wg_random_system, &io);
	ret = wg_tun_ctl_init(&l->tun_ctl);
	if (ret)
		return ret;
	ret = wg_tun_mtu(&l->tun_ctl, tun_fd);
	l->dev.mtu = ret > 0 ? (unsigned int)ret : WG_TUN_DEFAULT_MTU;

	for (i = 0; i < WG_LOOP_BATCH; i++) {
		l->bufs[i] = malloc(WG_PACKET_BUF_SIZE);
		if (!l->bufs[i])
			return -ENOMEM;
	}
	l->jumbo = malloc(WG_MAX_PACKET);
	if (!l->jumbo)
		return -ENOMEM;
	ret = crypt_pool_start(&l->pool, crypt_threads);
	if (ret)
		return ret;
	l->pool_started = true;
	{
		bool offload;

		if (wg_offload_from_env(&offload)) {
			log_err("%s: %s=%s: invalid value: use 0 (off) or 1 (on)", ifname, WG_OFFLOAD_ENV,
				getenv(WG_OFFLOAD_ENV));
			return -EINVAL;
		}
	}
	ret = wg_udp_bind(&l->udp, 0);
	if (ret)
		return ret;
	l->dev.listen_port = l->udp.port;
	log_info("%s: offload: UDP GSO %s, UDP GRO %s%s", ifname, l->udp.gso ? "on" : "off",
		 l->udp.gro ? "on" : "off", l->udp.offload ? "" : " (" WG_OFFLOAD_ENV "=0)");

	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->epfd < 0 || l->wake_fd < 0)
		return -errno;
	l->nl_fd = open_link_watch();
	if (l->nl_fd < 0)
		return l->nl_fd;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	l->sig_fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l->sig_fd < 0)
		return -errno;
	if ((ret = epoll_add(l, tun_fd, EV_TUN)) || (ret = epoll_add(l, l->udp.fd4, EV_UDP4)) ||
	    (ret = epoll_add(l, l->udp.fd6, EV_UDP6)) || (ret = epoll_add(l, l->wake_fd, EV_WAKE)) ||
	    (ret = epoll_add(l, l->nl_fd, EV_NETLINK)) || (ret = epoll_add(l, l->sig_fd, EV_SIGNAL)))
		return ret;
	return wg_uapi_start(&l->uapi, &l->dev, &l->lock, &ops);
}

/* Returns -ENODEV when our link went away. The kernel also announces RTM_DELLINK here when
 * the link only moves to another namespace (ip link set IFACE netns NS), and by then the
 * ifindex we knew may belong to another link: so whatever the message says, only the TUN fd
 * decides. A moved link stays attached to it; a deleted one (in whichever namespace it was)
 * is detached before the message is sent. */
static int handle_netlink(struct wg_loop *l)
{
	uint8_t buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	char name[IFNAMSIZ];
	bool dellink = false;
	ssize_t n;

	while ((n = recv(l->nl_fd, buf, sizeof(buf), 0)) > 0) {
		struct nlmsghdr *h;
		size_t len = (size_t)n;

		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len))
			if (h->nlmsg_type == RTM_DELLINK)
				dellink = true;
	}
	if (dellink && wg_tun_name(l->tun_fd, name) == -ENODEV)
		return -ENODEV;
	return 0;
}

/* Seal packets 0..n-1 of the batch in parallel, then send them in order (sendmmsg). */
static void seal_and_send(struct wg_loop *l, unsigned int n)
{
	unsigned int i, k = 0;

	for (i = 0; i < n; i++) {
		if (wg_send_prepare(&l->dev, l->bufs[i], l->lens[i], &l->jobs[k], &l->job_peer[k]))
			l->job_buf[k++] = i;
	}
	crypt_pool_run(&l->pool, l->jobs, k);
	for (i = 0; i < k; i++)
		wg_send_finish(l->job_peer[i], l->bufs[l->job_buf[i]], l->lens[l->job_buf[i]], &l->jobs[i]);
	wg_udp_flush(&l->udp);
}

/* A super-packet alone in slot 0 with more segments than a batch holds (a small MTU: at
 * 576 bytes a 64 KB super-packet is over 100 segments): copied aside, then sealed and sent
 * one batch of its segments at a time, in order. */
static void split_in_parts(struct wg_loop *l, const struct virtio_net_hdr *vh, size_t len)
{
	uint8_t *outs[WG_LOOP_BATCH];
	unsigned int i, first = 0;
	int k;

	memcpy(l->jumbo, l->bufs[0] + WG_PACKET_HEADROOM, len);
	for (i = 0; i < WG_LOOP_BATCH; i++)
		outs[i] = l->bufs[i] + WG_PACKET_HEADROOM;
	while ((k = wg_tun_gso_split_part(vh, l->jumbo, len, first, outs, l->lens, WG_LOOP_BATCH, l->dev.mtu)) > 0) {
		seal_and_send(l, (unsigned int)k);
		first += (unsigned int)k;
	}
	if (k < 0)
		l->tun_bad_gso++;
}

/* The packet read into slot @n with its virtio_net_hdr: cut it into slots n, n+1, ...
 * Returns how many slots it fills (0: dropped), or -ENOSPC when the batch must go first. */
static int split_tun_packet(struct wg_loop *l, unsigned int n, size_t r)
{
	uint8_t *outs[WG_LOOP_BATCH];
	struct virtio_net_hdr vh;
	unsigned int i;
	int segs;

	if (r < WG_VNET_HDR_LEN) {
		l->tun_bad_gso++;
		return 0;
	}
	memcpy(&vh, l->bufs[n] + WG_PACKET_HEADROOM - WG_VNET_HDR_LEN, sizeof(vh));
	for (i = n; i < WG_LOOP_BATCH; i++)
		outs[i - n] = l->bufs[i] + WG_PACKET_HEADROOM;
	segs = wg_tun_gso_split(&vh, l->bufs[n] + WG_PACKET_HEADROOM, r - WG_VNET_HDR_LEN, outs, l->lens + n,
				WG_LOOP_BATCH - n, l->dev.mtu);
	if (segs == -EMSGSIZE) {
		/* Our MTU is polled once a second: ask again before calling the packet bad. */
		int mtu = wg_tun_mtu(&l->tun_ctl, l->tun_fd);

		if (mtu > 0 && (unsigned int)mtu != l->dev.mtu) {
			l->dev.mtu = (unsigned int)mtu;
			segs = wg_tun_gso_split(&vh, l->bufs[n] + WG_PACKET_HEADROOM, r - WG_VNET_HDR_LEN, outs,
						l->lens + n, WG_LOOP_BATCH - n, l->dev.mtu);
		}
	}
	if (segs == -ENOSPC && n > 0)
		return segs;
	if (segs == -ENOSPC) {
		split_in_parts(l, &vh, r - WG_VNET_HDR_LEN);
		return 0;
	}
	if (segs < 0) {
		l->tun_bad_gso++;
		return 0;
	}
	return segs;
}

/* Read up to a batch from TUN (super-packets cut into their segments), seal it in
 * parallel, then send it in order. */
static int handle_tun(struct wg_loop *l)
{
	unsigned int n = 0;
	uint8_t *swap;
	ssize_t r;
	int segs;

	while (n < WG_LOOP_BATCH) {
		if (l->tun_vnet)
			r = read(l->tun_fd, l->bufs[n] + WG_PACKET_HEADROOM - WG_VNET_HDR_LEN,
				 WG_MAX_PACKET + WG_VNET_HDR_LEN);
		else
			r = read(l->tun_fd, l->bufs[n] + WG_PACKET_HEADROOM, WG_MAX_PACKET);
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -errno; /* EBADFD / EIO: the device is gone */
		}
		if (!l->tun_vnet) {
			l->lens[n++] = (size_t)r;
			continue;
		}
		segs = split_tun_packet(l, n, (size_t)r);
		if (segs == -ENOSPC) {
			/* Not enough slots left: send what we have, move the packet to slot 0. */
			seal_and_send(l, n);
			swap = l->bufs[0];
			l->bufs[0] = l->bufs[n];
			l->bufs[n] = swap;
			n = 0;
			segs = split_tun_packet(l, 0, (size_t)r);
			/* One batch per turn: reading on until TUN is empty kept a TCP sender's
			 * ring (refilled as fast as we drain it) ahead of the ACKs and pings
			 * waiting on UDP. */
			n += (unsigned int)(segs > 0 ? segs : 0);
			break;
		}
		n += (unsigned int)segs;
	}
	seal_and_send(l, n);
	return 0;
}

/* One batch of UDP segments: classify, open the data messages in parallel, finish them in
 * arrival order, then the handshake messages (which may retire keypairs the data still
 * names). */
static void handle_udp_segments(struct wg_loop *l, unsigned int n)
{
	unsigned int i, j, k = 0;

	for (i = 0; i < n; i++) {
		l->rx_kind[i] = (uint8_t)wg_receive_prepare(&l->dev, l->seg_ptr[i], l->seg_len[i],
							    &l->jobs[k], &l->job_kp[k]);
		if (l->rx_kind[i] == WG_RX_DATA)
			l->job_buf[k++] = i;
	}
	crypt_pool_run(&l->pool, l->jobs, k);
	for (j = 0; j < k; j++) {
		unsigned int b = l->job_buf[j];

		wg_receive_data_finish(&l->dev, l->seg_ptr[b], l->seg_len[b],
				       (struct sockaddr *)&l->srcs[l->seg_src[b]], &l->rx_meta[l->seg_src[b]].dst,
				       &l->jobs[j], l->job_kp[j]);
	}
	for (i = 0; i < n; i++)
		if (l->rx_kind[i] == WG_RX_HANDSHAKE)
			wg_receive_handshake(&l->dev, l->seg_ptr[i], l->seg_len[i],
					     (struct sockaddr *)&l->srcs[l->seg_src[i]], &l->rx_meta[l->seg_src[i]].dst);
}

/* How many datagrams to ask for next, after @n brought @segs segments: about one batch of
 * segments. A GRO train holds up to ~45: taking 64 of them (2880 segments) at once kept the
 * loop from TUN, and the ACKs and pings waiting there, for milliseconds. */
static unsigned int udp_budget(int n, unsigned int segs)
{
	unsigned int b = segs ? (unsigned int)(WG_LOOP_BATCH * (unsigned int)n / segs) : WG_LOOP_BATCH;

	return b < 1 ? 1 : b > WG_LOOP_BATCH ? WG_LOOP_BATCH : b;
}

/* Read a batch of datagrams; a GRO train is split back into its datagrams, each handled
 * (and, if bad, dropped and counted) on its own. */
static void handle_udp(struct wg_loop *l, int fd)
{
	unsigned int nseg = 0, segs = 0;
	size_t off, start, len;
	int i, n;

	if (fd < 0)
		return;
	n = wg_udp_recv(fd, l->bufs, WG_PACKET_BUF_SIZE, l->lens, l->srcs, l->rx_meta, l->udp_rx_budget);
	for (i = 0; i < n; i++) {
		off = 0;
		while (wg_udp_segment_next(l->lens[i], l->rx_meta[i].gso_size, l->rx_meta[i].truncated,
					   &off, &start, &len)) {
			l->seg_ptr[nseg] = l->bufs[i] + start;
			l->seg_len[nseg] = len;
			l->seg_src[nseg] = (unsigned int)i;
			segs++;
			if (++nseg == WG_LOOP_BATCH) {
				handle_udp_segments(l, nseg);
				nseg = 0;
			}
		}
	}
	if (nseg)
		handle_udp_segments(l, nseg);
	if (n > 0)
		l->udp_rx_budget = udp_budget(n, segs);
	if (l->tun_vnet)
		wg_tun_gro_flush(&l->gro, l->tun_fd, &l->dev.stats.tx_errors);
	wg_udp_flush(&l->udp);
}

/* Timers are checked at their nearest deadline, and at least this often: events arm new
 * deadlines without waking the loop. */
#define WG_LOOP_TICK (100 * NSEC_PER_MSEC)

int wg_loop_run(struct wg_loop *l)
{
	struct epoll_event evs[8];
	uint64_t next_tick = 0, t, drain;
	int i, n, timeout, ret = 0;

	for (;;) {
		t = wg_clock_now(l->dev.clock);
		timeout = 0;
		if (next_tick > t)
			timeout = (int)((next_tick - t + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);
		n = epoll_wait(l->epfd, evs, 8, timeout);
		if (n < 0 && errno != EINTR)
			return -errno;
		pthread_mutex_lock(&l->lock);
		for (i = 0; i < n && !ret; i++) {
			switch (evs[i].data.u32) {
			case EV_TUN:
				ret = handle_tun(l);
				if (ret) {
					/* The interface was deleted (EBADFD), wherever it lived: a clean
					 * stop, as for RTM_DELLINK. */
					if (ret == -EBADFD)
						log_info("%s: interface deleted, shutting down", l->dev.name);
					else
						log_info("%s: TUN device closed: %s", l->dev.name, strerror(-ret));
					ret = -ENODEV;
				}
				break;
			case EV_UDP4:
				handle_udp(l, l->udp.fd4);
				break;
			case EV_UDP6:
				handle_udp(l, l->udp.fd6);
				break;
			case EV_WAKE:
				if (read(l->wake_fd, &drain, sizeof(drain)) == sizeof(drain))
					next_tick = 0; /* configuration changed: run timers now */
				break;
			case EV_NETLINK:
				ret = handle_netlink(l);
				if (ret)
					log_info("%s: interface deleted, shutting down", l->dev.name);
				break;
			case EV_SIGNAL: {
				struct signalfd_siginfo si;

				if (read(l->sig_fd, &si, sizeof(si)) == sizeof(si)) {
					log_info("%s: signal %u, shutting down", l->dev.name, si.ssi_signo);
					ret = 1;
				}
				break;
			}
			}
		}
		t = wg_clock_now(l->dev.clock);
		if (!ret && next_tick <= t) {
			uint64_t deadline = wg_device_tick(&l->dev);

			wg_udp_flush(&l->udp);
			next_tick = t + WG_LOOP_TICK;
			if (deadline && deadline < next_tick)
				next_tick = deadline;
		}
		if (t >= l->next_mtu_check) {
			int mtu = wg_tun_mtu(&l->tun_ctl, l->tun_fd);

			/* The MTU bounds padding (paper §5.4.6); wg-quick sets it after we start,
			 * and it may change after the link moved to another namespace. */
			if (mtu > 0)
				l->dev.mtu = (unsigned int)mtu;
			l->next_mtu_check = t + NSEC_PER_SEC;
		}
		pthread_mutex_unlock(&l->lock);
		if (ret)
			return ret > 0 || ret == -ENODEV ? 0 : ret;
	}
}

void wg_loop_free(struct wg_loop *l)
{
	const struct wg_device_stats *st = &l->dev.stats;
	int i;

	wg_uapi_stop(&l->uapi);
	if (l->pool_started)
		crypt_pool_stop(&l->pool);
	l->pool_started = false;
	log_info("%s: dropped: malformed=%llu invalid_mac=%llu bad_handshake=%llu bad_data=%llu "
		 "replayed=%llu bad_inner=%llu cookies_sent=%llu ratelimited=%llu overloaded=%llu no_peer=%llu no_endpoint=%llu "
		 "tx_errors=%llu bad_tun_gso=%llu",
		 l->dev.name, (unsigned long long)st->rx_malformed, (unsigned long long)st->rx_invalid_mac,
		 (unsigned long long)st->rx_bad_handshake, (unsigned long long)st->rx_bad_data,
		 (unsigned long long)st->rx_replayed, (unsigned long long)st->rx_bad_inner,
		 (unsigned long long)st->rx_cookie_sent, (unsigned long long)st->rx_ratelimited,
		 (unsigned long long)st->rx_overloaded, (unsigned long long)st->tx_no_peer,
		 (unsigned long long)st->tx_no_endpoint, (unsigned long long)(st->tx_errors + l->udp.tx_dropped),
		 (unsigned long long)l->tun_bad_gso);
	pthread_mutex_lock(&l->lock);
	wg_device_free(&l->dev);
	wg_udp_close(&l->udp);
	pthread_mutex_unlock(&l->lock);
	for (i = 0; i < WG_LOOP_BATCH; i++)
		free(l->bufs[i]);
	free(l->jumbo);
	if (l->tun_fd >= 0)
		close(l->tun_fd);
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->wake_fd >= 0)
		close(l->wake_fd);
	if (l->nl_fd >= 0)
		close(l->nl_fd);
	if (l->sig_fd >= 0)
		close(l->sig_fd);
	wg_tun_ctl_free(&l->tun_ctl);
	pthread_mutex_destroy(&l->lock);
}
