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

int wg_tun_open(const char *name, int *ifindex)
{
	struct ifreq ifr = { 0 };
	int fd, ret;

	if (!*name || strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	memset(&ifr, 0, sizeof(ifr));
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
