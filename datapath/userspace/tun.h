/* tun.h — the TUN device carrying inner packets (no packet-info header). */
#ifndef PODWIRE_US_TUN_H
#define PODWIRE_US_TUN_H

#include <net/if.h>

/* wireguard-go's DefaultMTU: 1500 minus the largest (IPv6) WireGuard overhead of 80. */
#define WG_TUN_DEFAULT_MTU 1420

/* Create (or attach to) TUN interface @name, non-blocking; sets the MTU when it creates
 * the device. Fills @ifindex. Returns the fd or -errno. */
int wg_tun_open(const char *name, int *ifindex);
/* The interface's current MTU, or -errno. */
int wg_tun_mtu(const char *name);

#endif
