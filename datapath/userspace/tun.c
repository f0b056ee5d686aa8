/* tun.c — opening the TUN device, and asking about it after it may have moved. */
#include "datapath/userspace/tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datapath/userspace/udp_offload.h"
#include "lib/log.h"

/* Debian 12's headers predate UDP segmentation offload on TUN (Linux 6.2). */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

static int ifreq_ioctl(unsigned long req, struct ifreq *ifr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, req, ifr))
		ret = -errno;
	close(fd);
	return ret;
}

bool wg_tun_has_vnet_hdr(int fd)
{
	struct ifreq ifr = { 0 };

	return ioctl(fd, TUNGETIFF, &ifr) == 0 && (ifr.ifr_flags & IFF_VNET_HDR);
}

static int open_tun(const char *name, short flags)
{
	struct ifreq ifr = { 0 };
	int fd, ret;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = flags;
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

/* Offer the kernel what we can segment ourselves: with USO if it has it, else TCP only.
 * Returns 0 (and whether USO is on) or -errno. */
static int set_offload(int fd, bool *uso)
{
	const unsigned long tcp = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;

	*uso = ioctl(fd, TUNSETOFFLOAD, tcp | TUN_F_USO4 | TUN_F_USO6) == 0;
	if (*uso)
		return 0;
	return ioctl(fd, TUNSETOFFLOAD, tcp) ? -errno : 0;
}

int wg_tun_open(const char *name)
{
	struct ifreq ifr = { 0 };
	bool offload = true, uso = false;
	int fd, ret;

	if (!*name || strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	wg_offload_from_env(&offload);
	fd = -1;
	if (offload) {
		fd = open_tun(name, IFF_TUN | IFF_NO_PI | IFF_VNET_HDR);
		if (fd >= 0 && (ret = set_offload(fd, &uso))) {
			log_info("%s: TUN offload unavailable (%s): packets one by one", name, strerror(-ret));
			close(fd);
			fd = -1;
		} else if (fd < 0) {
			log_info("%s: TUN virtio_net_hdr unavailable (%s): packets one by one", name,
				 strerror(-fd));
		}
	}
	if (fd < 0)
		fd = open_tun(name, IFF_TUN | IFF_NO_PI);
	if (fd < 0)
		return fd;
	log_info("%s: offload: TUN TSO4/TSO6 and checksum %s, USO %s", name,
		 offload && wg_tun_has_vnet_hdr(fd) ? "on" : "off", uso ? "on" : "off");
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_mtu = WG_TUN_DEFAULT_MTU;
	ret = ifreq_ioctl(SIOCSIFMTU, &ifr);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

int wg_tun_ctl_init(struct wg_tun_ctl *c)
{
	struct stat st;

	memset(c, 0, sizeof(*c));
	c->sock = -1;
	/* thread-self: a network namespace belongs to a thread, not to the process. */
	c->home_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (c->home_ns < 0)
		return -errno;
	c->sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (c->sock < 0 || fstat(c->home_ns, &st))
		return -errno;
	c->home_dev = st.st_dev;
	c->home_ino = st.st_ino;
	return 0;
}

void wg_tun_ctl_free(struct wg_tun_ctl *c)
{
	if (c->sock >= 0)
		close(c->sock);
	if (c->home_ns >= 0)
		close(c->home_ns);
	c->sock = c->home_ns = -1;
}

int wg_tun_name(int tun_fd, char name[IFNAMSIZ])
{
	struct ifreq ifr = { 0 };

	if (ioctl(tun_fd, TUNGETIFF, &ifr))
		return errno == EBADFD ? -ENODEV : -errno;
	memcpy(name, ifr.ifr_name, IFNAMSIZ);
	name[IFNAMSIZ - 1] = '\0';
	return 0;
}

/* Open an AF_INET socket inside namespace @ns_fd and come back home. */
static int socket_in_ns(struct wg_tun_ctl *c, int ns_fd)
{
	int fd, ret;

	if (setns(ns_fd, CLONE_NEWNET))
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ret = fd < 0 ? -errno : fd;
	if (setns(c->home_ns, CLONE_NEWNET)) {
		/* Staying in the interface's namespace would put every socket this thread
		 * opens later there: report it rather than carry on there. */
		ret = -errno;
		if (fd >= 0)
			close(fd);
	}
	return ret;
}

/* A socket in the namespace the interface is in now: c->sock when that is home, else a
 * new one the caller closes. Never kept: a socket of ours in the interface's namespace
 * would keep that namespace (and so the interface) alive after `ip netns del`. */
static int ctl_socket(struct wg_tun_ctl *c, int tun_fd)
{
	struct stat st;
	int ns_fd, fd;

	ns_fd = ioctl(tun_fd, TUNGETDEVNETNS);
	if (ns_fd < 0) {
		if (errno == EBADFD)
			return -ENODEV;
		/* Before Linux 5.2 there is no asking; assume the interface stayed home. */
		return errno == ENOTTY || errno == EINVAL ? c->sock : -errno;
	}
	if (fstat(ns_fd, &st))
		fd = -errno;
	else if (st.st_dev == c->home_dev && st.st_ino == c->home_ino)
		fd = c->sock;
	else
		fd = socket_in_ns(c, ns_fd);
	close(ns_fd);
	return fd;
}

int wg_tun_mtu(struct wg_tun_ctl *c, int tun_fd)
{
	struct ifreq ifr = { 0 };
	int fd, ret;

	ret = wg_tun_name(tun_fd, ifr.ifr_name);
	if (ret)
		return ret;
	fd = ctl_socket(c, tun_fd);
	if (fd < 0)
		return fd;
	ret = ioctl(fd, SIOCGIFMTU, &ifr) ? -errno : ifr.ifr_mtu;
	if (fd != c->sock)
		close(fd);
	return ret;
}
