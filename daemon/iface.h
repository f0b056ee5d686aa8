/* iface.h — the node's WireGuard interface as the kernel's routing sees it: its tunnel
 * addresses, MTU, up state, and one route per remote pod CIDR through it.
 *
 * The daemon owns the routes on its interface: every route there that the kernel did not
 * add itself (proto kernel, the tunnel subnet) and that is not wanted is removed. So a
 * restart after a node left cleans up, and nothing else on the host is touched. */
#ifndef PODWIRE_DAEMON_IFACE_H
#define PODWIRE_DAEMON_IFACE_H

#include <ifaddrs.h>
#include <stddef.h>

#include "lib/ipaddr.h"

/* Add @addrs (tunnel IP with the tunnel CIDR's length) if missing, set @mtu (0: leave),
 * bring @ifname up. */
int iface_configure(const char *ifname, const struct ip_prefix *addrs, size_t n_addrs, unsigned int mtu);
/* The endpoint this node advertises when neither --endpoint nor the store gives one:
 * "ADDR:@port" with the first IPv4 address in @list (getifaddrs order) of an interface that
 * is up, not loopback, not @skip_ifname (our own WireGuard interface) and not link-local;
 * without any, "[ADDR]:@port" with the first such IPv6 address. -EADDRNOTAVAIL if none. */
int iface_endpoint_pick(const struct ifaddrs *list, const char *skip_ifname, unsigned int port, char *out,
			size_t len);
/* iface_endpoint_pick() over this network namespace's addresses. */
int iface_detect_endpoint(const char *skip_ifname, unsigned int port, char *out, size_t len);
/* The tunnel MTU for an underlay MTU: @underlay - 80 (IPv6 40 + UDP 8 + WireGuard 32, the
 * overhead wg-quick takes off), never below 1280 (IPv6's minimum link MTU, RFC 8200 §5);
 * 1420 when the underlay is unknown (0), wg-quick's fallback of 1500 - 80. */
unsigned int iface_tunnel_mtu(unsigned int underlay);
/* The underlay's MTU at this node's address @host (an IP address, its endpoint's): the MTU
 * of the interface holding it, and its name in @dev; for an address none holds (behind NAT),
 * the MTU of the route towards it, as wg-quick's `ip route get` (@dev then says "route"). */
int iface_underlay_mtu(const char *host, unsigned int *mtu, char *dev, size_t dev_len);
/* Make the routes through @ifname equal to @want. @added and @removed count the changes. */
int iface_sync_routes(const char *ifname, const struct ip_prefix *want, size_t n_want, size_t *added,
		      size_t *removed);

#endif
