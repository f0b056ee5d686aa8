/* tun.c — opening the TUN device. */
#include "datapath/userspace/tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
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

int wg_tun_mtu(const char *name)
{
	struct ifreq ifr = { 0 };
	int ret;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ret = ifreq_ioctl(SIOCGIFMTU, &ifr);
	return ret ? ret : ifr.ifr_mtu;
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

int wg_tun_open(const char *name, int *ifindex)
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
	*ifindex = (int)if_nametoindex(name);
	return fd;
}
