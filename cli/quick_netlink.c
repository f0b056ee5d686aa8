/* quick_netlink.c — the `ip` commands wg-quick runs, as rtnetlink requests through libnl-route.
 *
 * Each request is built the way iproute2 builds it, so that `ip addr`, `ip route` and
 * `ip route` afterwards show exactly what they show after wg-quick: routes are protocol
 * "boot" with link scope for IPv4 (iproute2's default for a route without gateway) and
 * universe scope for IPv6 (lib/nlroute.c's helpers leave libnl's default protocol "static",
 * which `ip route` would show). Policy rules are in quick_rule.c. */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <stdlib.h>
#include <string.h>

#include "cli/quick.h"
#include "lib/nlroute.h"

int quick_link_index(const char *name)
{
	struct nl_sock *sk;
	struct rtnl_link *link = NULL;
	int ret;

	ret = nlroute_open(&sk);
	if (ret)
		return ret;
	ret = rtnl_link_get_kernel(sk, 0, name, &link);
	if (ret < 0)
		ret = ret == -NLE_OBJ_NOTFOUND || ret == -NLE_NODEV ? -ENODEV : nlroute_errno(ret);
	else
		ret = rtnl_link_get_ifindex(link);
	rtnl_link_put(link);
	nl_socket_free(sk);
	return ret;
}

int quick_link_mtu(int ifindex, uint32_t *mtu)
{
	struct nl_sock *sk;
	struct rtnl_link *link = NULL;
	int ret;

	ret = nlroute_open(&sk);
	if (ret)
		return ret;
	ret = rtnl_link_get_kernel(sk, ifindex, NULL, &link);
	if (ret < 0) {
		ret = nlroute_errno(ret);
	} else {
		*mtu = rtnl_link_get_mtu(link);
		ret = 0;
	}
	rtnl_link_put(link);
	nl_socket_free(sk);
	return ret;
}

int quick_link_set_mtu_up(int ifindex, uint32_t mtu)
{
	struct nl_sock *sk;
	struct rtnl_link *orig = NULL, *change = NULL;
	int ret;

	ret = nlroute_open(&sk);
	if (ret)
		return ret;
	ret = rtnl_link_get_kernel(sk, ifindex, NULL, &orig);
	if (ret < 0)
		goto out;
	change = rtnl_link_alloc();
	if (!change) {
		ret = -NLE_NOMEM;
		goto out;
	}
	/* One request for both, as `ip link set mtu M up` sends. */
	rtnl_link_set_mtu(change, mtu);
	rtnl_link_set_flags(change, IFF_UP);
	ret = rtnl_link_change(sk, orig, change, 0);
out:
	rtnl_link_put(change);
	rtnl_link_put(orig);
	nl_socket_free(sk);
	return nlroute_errno(ret);
}

int quick_addr_add(int ifindex, const struct ip_prefix *prefix)
{
	struct nl_sock *sk;
	struct rtnl_addr *addr = NULL;
	struct nl_addr *local = NULL;
	int ret;

	ret = nlroute_open(&sk);
	if (ret)
		return ret;
	addr = rtnl_addr_alloc();
	local = nlroute_addr_build(&prefix->addr, prefix->cidr);
	if (!addr || !local) {
		ret = -NLE_NOMEM;
		goto out;
	}
	rtnl_addr_set_ifindex(addr, ifindex);
	rtnl_addr_set_family(addr, prefix->addr.family);
	ret = rtnl_addr_set_local(addr, local);
	if (ret < 0)
		goto out;
	rtnl_addr_set_prefixlen(addr, prefix->cidr);
	ret = rtnl_addr_add(sk, addr, NLM_F_EXCL);
out:
	nl_addr_put(local);
	rtnl_addr_put(addr);
	nl_socket_free(sk);
	return nlroute_errno(ret);
}

struct addr_walk {
	int ifindex, family;
	struct ip_prefix *v;
	size_t n;
	int err;
};

static void addr_walk_one(struct nl_object *obj, void *arg)
{
	struct addr_walk *w = arg;
	struct rtnl_addr *a = (struct rtnl_addr *)obj;
	struct nl_addr *local = rtnl_addr_get_local(a);
	struct ip_prefix *grown;

	if (w->err || rtnl_addr_get_ifindex(a) != w->ifindex || rtnl_addr_get_family(a) != w->family || !local)
		return;
	if (nl_addr_get_len(local) != (w->family == AF_INET6 ? 16u : 4u))
		return;
	grown = realloc(w->v, (w->n + 1) * sizeof(*w->v));
	if (!grown) {
		w->err = -ENOMEM;
		return;
	}
	w->v = grown;
	memset(&w->v[w->n], 0, sizeof(w->v[w->n]));
	w->v[w->n].addr.family = w->family;
	memcpy(w->v[w->n].addr.bytes, nl_addr_get_binary_addr(local), nl_addr_get_len(local));
	w->v[w->n].cidr = (uint8_t)rtnl_addr_get_prefixlen(a);
	w->n++;
}

int quick_addr_list(int ifindex, int family, struct ip_prefix **out, size_t *n)
{
	struct nl_sock *sk;
	struct nl_cache *cache = NULL;
	struct addr_walk w = { .ifindex = ifindex, .family = family };
	int ret;

	*out = NULL;
	*n = 0;
	ret = nlroute_open(&sk);
	if (ret)
		return ret;
	ret = rtnl_addr_alloc_cache(sk, &cache);
	if (ret < 0) {
		ret = nlroute_errno(ret);
		goto out;
	}
	nl_cache_foreach(cache, addr_walk_one, &w);
	ret = w.err;
	if (ret) {
		free(w.v);
		goto out;
	}
	*out = w.v;
	*n = w.n;
out:
	nl_cache_free(cache);
	nl_socket_free(sk);
	return ret;
}

int quick_route_add(int ifindex, const struct ip_prefix *prefix, uint32_t table)
{
	struct nl_sock *sk;
	struct rtnl_route *route = NULL;
	struct rtnl_nexthop *nh = NULL;
	struct nl_addr *dst = NULL;
	int ret;

	ret = nlroute_open(&sk);
	if (ret)
		return ret;
	route = rtnl_route_alloc();
	nh = rtnl_route_nh_alloc();
	dst = nlroute_addr_build(&prefix->addr, prefix->cidr);
	if (!route || !nh || !dst) {
		ret = -NLE_NOMEM;
		goto out;
	}
	rtnl_route_set_family(route, (uint8_t)prefix->addr.family);
	ret = rtnl_route_set_dst(route, dst);
	if (ret < 0)
		goto out;
	rtnl_route_set_table(route, table ? table : RT_TABLE_MAIN);
	rtnl_route_set_protocol(route, RTPROT_BOOT);
	rtnl_route_set_type(route, RTN_UNICAST);
	/* iproute2: no gateway means link scope for IPv4; IPv6 routes are always universe. */
	rtnl_route_set_scope(route, prefix->addr.family == AF_INET6 ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
	rtnl_route_nh_set_ifindex(nh, ifindex);
	rtnl_route_add_nexthop(route, nh);
	nh = NULL;
	ret = rtnl_route_add(sk, route, NLM_F_EXCL);
out:
	if (nh)
		rtnl_route_nh_free(nh);
	nl_addr_put(dst);
	rtnl_route_put(route);
	nl_socket_free(sk);
	return nlroute_errno(ret);
}

struct route_walk {
	int ifindex;	       /* 0: any device */
	uint32_t table;
	const struct ip_prefix *match; /* NULL: any destination */
	bool default_only;
	bool found;
	int oif;
	uint32_t mtu;
};

static bool route_via(struct rtnl_route *r, int ifindex, int *oif)
{
	struct rtnl_nexthop *nh;

	if (rtnl_route_get_nnexthops(r) < 1)
		return false;
	nh = rtnl_route_nexthop_n(r, 0);
	*oif = rtnl_route_nh_get_ifindex(nh);
	return !ifindex || *oif == ifindex;
}

static void route_walk_one(struct nl_object *obj, void *arg)
{
	struct route_walk *w = arg;
	struct rtnl_route *r = (struct rtnl_route *)obj;
	struct nl_addr *dst = rtnl_route_get_dst(r);
	unsigned int len = dst ? nl_addr_get_prefixlen(dst) : 0;
	int oif = 0;

	if (w->found || rtnl_route_get_table(r) != w->table || !route_via(r, w->ifindex, &oif))
		return;
	if (w->default_only && len)
		return;
	if (w->match) {
		struct ip_prefix p = { .cidr = (uint8_t)len };

		if (len > w->match->cidr)
			return;
		p.addr.family = w->match->addr.family;
		if (dst && nl_addr_get_len(dst))
			memcpy(p.addr.bytes, nl_addr_get_binary_addr(dst), nl_addr_get_len(dst));
		if (!ip_prefix_contains(&p, &w->match->addr))
			return;
	}
	w->found = true;
	w->oif = oif;
	if (rtnl_route_get_metric(r, RTAX_MTU, &w->mtu) < 0)
		w->mtu = 0;
}

static int route_walk(int family, struct route_walk *w)
{
	struct nl_sock *sk;
	struct nl_cache *cache = NULL;
	int ret;

	ret = nlroute_open(&sk);
	if (ret)
		return ret;
	ret = rtnl_route_alloc_cache(sk, family, 0, &cache);
	if (ret < 0) {
		ret = nlroute_errno(ret);
	} else {
		nl_cache_foreach(cache, route_walk_one, w);
		ret = 0;
	}
	nl_cache_free(cache);
	nl_socket_free(sk);
	return ret;
}

int quick_route_match(int ifindex, const struct ip_prefix *prefix, bool *found)
{
	struct route_walk w = { .ifindex = ifindex, .table = RT_TABLE_MAIN, .match = prefix };
	int ret = route_walk(prefix->addr.family, &w);

	*found = w.found;
	return ret;
}

int quick_table_in_use(int family, uint32_t table, bool *used)
{
	struct route_walk w = { .table = table };
	int ret = route_walk(family, &w);

	*used = w.found;
	return ret;
}

/* "mtu N" of a route when it has one, else the MTU of the device it leaves through, as
 * set_mtu_up reads them from `ip route get` / `ip link show`. */
static int route_or_device_mtu(uint32_t route_mtu, int oif, uint32_t *mtu)
{
	*mtu = 0;
	if (route_mtu) {
		*mtu = route_mtu;
		return 0;
	}
	if (oif <= 0)
		return 0;
	return quick_link_mtu(oif, mtu);
}

int quick_route_get_mtu(const struct ip_addr *dst, uint32_t *mtu)
{
	struct nl_sock *sk;
	unsigned int m = 0;
	int ret = nlroute_open(&sk);

	*mtu = 0;
	if (ret)
		return ret;
	ret = nlroute_path_mtu(sk, dst, &m);
	nl_socket_free(sk);
	*mtu = m;
	return ret;
}

int quick_default_route_mtu(uint32_t *mtu)
{
	struct route_walk w = { .table = RT_TABLE_MAIN, .default_only = true };
	int ret = route_walk(AF_INET, &w);

	*mtu = 0;
	if (ret || !w.found)
		return ret;
	return route_or_device_mtu(w.mtu, w.oif, mtu);
}
