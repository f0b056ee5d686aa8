/* nlroute.h — routing-netlink helpers over libnl-route: links (veth pairs, up, MTU, rename,
 * delete, lookup), addresses, routes (onlink, scope, table, mtu/advmss) and neighbours.
 * Functions take a connected NETLINK_ROUTE socket; a socket works in the network
 * namespace it was opened in, so a caller that needs two namespaces opens one socket in
 * each (see nlroute_open_in()). All return 0 or -errno; "not there" is -ENODEV for links
 * and -ENOENT for addresses, routes and neighbours, so callers can make deletes idempotent.
 * The file and its prefix are nlroute, not rtnl: libnl already owns rtnl_. */
#ifndef PODWIRE_NLROUTE_H
#define PODWIRE_NLROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/ipaddr.h"

struct nl_sock;
struct nl_addr;

struct nlroute_link {
	int ifindex;
	unsigned int mtu;
	unsigned int flags;	/* IFF_* */
	uint8_t mac[6];
	char name[16];
};

struct nlroute_route {
	struct ip_prefix dst;
	struct ip_addr gw;
	bool has_gw;
	int ifindex;		/* 0: none */
	bool onlink;		/* RTNH_F_ONLINK: gateway reachable on the link without a route */
	int scope;		/* RT_SCOPE_*; -1 picks link (no gw) or universe (gw) */
	uint32_t table;		/* 0: main */
	uint32_t priority;	/* metric; 0: kernel default */
	uint32_t mtu, advmss;	/* RTAX_MTU / RTAX_ADVMSS; 0: unset */
};

/* Open a NETLINK_ROUTE socket in the current network namespace. */
int nlroute_open(struct nl_sock **out);
/* Open one in the namespace @netns_fd and come back to @home_fd (both O_RDONLY netns fds). */
int nlroute_open_in(struct nl_sock **out, int netns_fd, int home_fd);
void nlroute_close(struct nl_sock *sk);
/* libnl folds kernel errnos into its own NLE_* codes (negative): fold one back to -errno. */
int nlroute_errno(int nle);
/* A libnl address for @a with @prefixlen (caller nl_addr_put()s it); NULL without memory. */
struct nl_addr *nlroute_addr_build(const struct ip_addr *a, unsigned int prefixlen);
/* Human text for the last -errno from these helpers (libnl's wording when it has one). */
const char *nlroute_strerror(int err);

int nlroute_link_get(struct nl_sock *sk, const char *name, struct nlroute_link *out);
/* The MTU towards @dst as `ip route get` shows it: the route's "mtu N" when it has one, else
 * the MTU of the device it leaves through. 0 in *mtu when no route leads there. */
int nlroute_path_mtu(struct nl_sock *sk, const struct ip_addr *dst, unsigned int *mtu);
/* Create veth @name (MAC @mac unless NULL) with peer @peer_name in namespace @peer_netns_fd
 * (-1: here), both with @mtu (0: default), in one request. @name comes up if @up; the peer
 * stays down (the kernel cannot open a veth end before its pair is complete). */
int nlroute_veth_create(struct nl_sock *sk, const char *name, const uint8_t *mac, const char *peer_name,
			int peer_netns_fd, unsigned int mtu, bool up);
int nlroute_link_set_up(struct nl_sock *sk, int ifindex, bool up);
int nlroute_link_set_mtu(struct nl_sock *sk, int ifindex, unsigned int mtu);
int nlroute_link_rename(struct nl_sock *sk, int ifindex, const char *name);
/* Delete a link by name; -ENODEV if it does not exist. */
int nlroute_link_delete(struct nl_sock *sk, const char *name);

/* Add @p (address and prefix length) on @ifindex; @nodad skips IPv6 duplicate detection. */
int nlroute_addr_add(struct nl_sock *sk, int ifindex, const struct ip_prefix *p, bool nodad);
int nlroute_addr_del(struct nl_sock *sk, int ifindex, const struct ip_prefix *p);
int nlroute_addr_exists(struct nl_sock *sk, int ifindex, const struct ip_prefix *p, bool *found);

/* Add @r; -EEXIST if a route with its table, dst and metric exists. */
int nlroute_route_add(struct nl_sock *sk, const struct nlroute_route *r);
/* Add @r or replace the route it matches (ip route replace), for reconcilers. */
int nlroute_route_replace(struct nl_sock *sk, const struct nlroute_route *r);
int nlroute_route_del(struct nl_sock *sk, const struct nlroute_route *r);
/* Is there a route with r's table, dst, ifindex and (if has_gw) gateway? */
int nlroute_route_exists(struct nl_sock *sk, const struct nlroute_route *r, bool *found);

/* Destinations of the main-table routes leaving through @ifindex (both families), up to @max. */
int nlroute_route_list_dev(struct nl_sock *sk, int ifindex, struct ip_prefix *out, unsigned int max, unsigned int *n);

/* Add or replace a permanent neighbour @ip -> @mac on @ifindex. */
int nlroute_neigh_set_permanent(struct nl_sock *sk, int ifindex, const struct ip_addr *ip, const uint8_t mac[6]);

#endif
