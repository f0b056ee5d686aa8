/* event_loop.h — the running interface: one thread that reads TUN and UDP in batches,
 * runs timers and watches for the link being deleted or a signal; the UAPI thread
 * configures the same device under a shared lock. */
#ifndef PODWIRE_US_EVENT_LOOP_H
#define PODWIRE_US_EVENT_LOOP_H

#include <pthread.h>
#include <stdint.h>

#include "datapath/userspace/crypt_pool.h"
#include "datapath/userspace/device.h"
#include "datapath/userspace/tun.h"
#include "datapath/userspace/tun_gro.h"
#include "datapath/userspace/uapi_socket.h"
#include "datapath/userspace/udp.h"

#define WG_LOOP_BATCH WG_UDP_BATCH

struct wg_loop {
	struct wg_device dev;
	struct wg_udp udp;
	struct wg_uapi_server uapi;
	pthread_mutex_t lock;
	int tun_fd;
	struct wg_tun_ctl tun_ctl; /* the interface's MTU, wherever it has been moved */
	int epfd, wake_fd, nl_fd, sig_fd;
	uint8_t *bufs[WG_LOOP_BATCH]; /* WG_PACKET_BUF_SIZE each, allocated once */
	struct sockaddr_storage srcs[WG_LOOP_BATCH];
	size_t lens[WG_LOOP_BATCH];
	uint64_t next_mtu_check;
	/* One batch's crypto jobs, and which buffer / peer / keypair each belongs to. */
	struct crypt_pool pool;
	bool pool_started;
	struct crypt_job jobs[WG_LOOP_BATCH];
	unsigned int job_buf[WG_LOOP_BATCH];
	struct wg_peer *job_peer[WG_LOOP_BATCH];
	struct wg_keypair *job_kp[WG_LOOP_BATCH];
	uint8_t rx_kind[WG_LOOP_BATCH];
	/* UDP receive: per datagram GRO metadata and which of our addresses it was sent to,
	 * then the segments (datagrams after GRO is undone) handled as one batch: where each
	 * starts, how long, which datagram. */
	struct wg_udp_rx_meta rx_meta[WG_LOOP_BATCH];
	uint8_t *seg_ptr[WG_LOOP_BATCH];
	size_t seg_len[WG_LOOP_BATCH];
	unsigned int seg_src[WG_LOOP_BATCH];
	unsigned int udp_rx_budget; /* datagrams to ask for: about a batch of segments */
	/* TUN with a virtio_net_hdr (TSO offered): super-packets are cut in userspace. */
	bool tun_vnet;
	uint64_t tun_bad_gso; /* super-packets dropped whole for bad headers */
	uint8_t *jumbo; /* a super-packet of more segments than a batch, while it is cut */
	struct wg_tun_gro gro; /* with tun_vnet: what UDP brought, coalesced at the batch's end */
};

/* Take ownership of an open TUN fd and a listening UAPI server; bind UDP to a random
 * port; start @crypt_threads crypto workers (0: crypto on the event thread).
 * SIGTERM/SIGINT/SIGHUP must already be blocked in the calling thread.
 * Returns 0 or -errno. */
int wg_loop_init(struct wg_loop *l, const char *ifname, int tun_fd, struct wg_uapi_server *uapi,
		 unsigned int crypt_threads);
/* Run until the interface is deleted (in whichever namespace it then is: moving it to
 * another one is not a deletion) or a termination signal arrives. Returns 0 on a clean
 * stop or -errno. */
int wg_loop_run(struct wg_loop *l);
/* Stop the UAPI thread, remove the socket, close everything, wipe keys. */
void wg_loop_free(struct wg_loop *l);

#endif
