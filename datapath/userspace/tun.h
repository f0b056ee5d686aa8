/* tun.h — the TUN device carrying inner packets (no packet-info header). */
#ifndef PODWIRE_US_TUN_H
#define PODWIRE_US_TUN_H

#include <net/if.h>
#include <stdbool.h>

/* wireguard-go's DefaultMTU: 1500 minus the largest (IPv6) WireGuard overhead of 80. */
#define WG_TUN_DEFAULT_MTU 1420

/* Create (or attach to) TUN interface @name, non-blocking; sets the MTU when it creates
 * the device. Fills @ifindex. Unless PODWIRE_WG_OFFLOAD=0, it asks for IFF_VNET_HDR and
 * offers TSO4/TSO6 and checksum offload (and USO where the kernel has it), and logs what
 * it got; without them it is a plain TUN. wg_tun_has_vnet_hdr() tells which. Returns the
 * fd or -errno. */
int wg_tun_open(const char *name, int *ifindex);
/* Does @fd carry a virtio_net_hdr before each packet? */
bool wg_tun_has_vnet_hdr(int fd);
/* The interface's current MTU, or -errno. */
int wg_tun_mtu(const char *name);

#endif
