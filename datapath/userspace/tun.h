/* tun.h — the TUN device carrying inner packets (no packet-info header), and where it now
 * is: `ip link set IFACE netns NS` moves the interface while we keep its fd, and our UDP
 * sockets stay in the namespace we started in (as the kernel module and wireguard-go). */
#ifndef PODWIRE_US_TUN_H
#define PODWIRE_US_TUN_H

#include <net/if.h>
#include <stdbool.h>
#include <sys/types.h>

/* wireguard-go's DefaultMTU: 1500 minus the largest (IPv6) WireGuard overhead of 80. */
#define WG_TUN_DEFAULT_MTU 1420

/* Create (or attach to) TUN interface @name, non-blocking; sets the MTU when it creates
 * the device. Unless PODWIRE_WG_OFFLOAD=0, it asks for IFF_VNET_HDR and offers TSO4/TSO6
 * and checksum offload (and USO where the kernel has it), and logs what it got; without
 * them it is a plain TUN. wg_tun_has_vnet_hdr() tells which. Returns the fd or -errno. */
int wg_tun_open(const char *name);
/* Does @fd carry a virtio_net_hdr before each packet? */
bool wg_tun_has_vnet_hdr(int fd);

/* Queries about the interface behind a TUN fd, wherever it lives now. */
struct wg_tun_ctl {
	int home_ns; /* our own network namespace, to come back to */
	int sock;    /* an ioctl socket at home */
	dev_t home_dev;
	ino_t home_ino; /* home_ns's identity, to tell it from another namespace */
};

/* Remember the calling thread's namespace as home. Returns 0 or -errno (then call
 * wg_tun_ctl_free). */
int wg_tun_ctl_init(struct wg_tun_ctl *c);
void wg_tun_ctl_free(struct wg_tun_ctl *c);
/* The interface's current name (it can be renamed too). Returns 0, or -ENODEV when the
 * interface was deleted (a TUN fd outlives its device: the kernel then answers EBADFD). */
int wg_tun_name(int tun_fd, char name[IFNAMSIZ]);
/* The interface's current MTU, or -errno (-ENODEV: deleted, or met mid-move), looked up in whatever
 * namespace the interface is in now. Must run on the thread that called wg_tun_ctl_init:
 * it enters that namespace for a moment to open a socket there. */
int wg_tun_mtu(struct wg_tun_ctl *c, int tun_fd);

#endif
