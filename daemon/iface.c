/* iface.c — addresses, MTU and pod routes of the WireGuard interface (see iface.h). */
#include "daemon/iface.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <net/if.h>
#include <linux/rtnetlink.h>
#include <netlink/route/route.h>

#include "lib/log.h"
#include "lib/nlroute.h"

int iface_configure(const char *ifname, const struct ip_prefix *addrs, size_t n_addrs, unsigned int mtu)
{
	struct nlroute_link link;
	struct nl_sock *sk;
	int ret = nlroute_open(&sk);

	if (ret)
		return ret;
	ret = nlroute_link_get(sk, ifname, &link);
	if (ret)
		goto out;
	for (size_t i = 0; i < n_addrs; i++) {
		bool found = false;

		ret = nlroute_addr_exists(sk, link.ifindex, &addrs[i], &found);
		if (!ret && !found)
			ret = nlroute_addr_add(sk, link.ifindex, &addrs[i], true);
		if (ret == -EEXIST)
			ret = 0;
		if (ret)
			goto out;
	}
	if (mtu && link.mtu != mtu) {
		ret = nlroute_link_set_mtu(sk, link.ifindex, mtu);
		if (ret)
			goto out;
	}
	if (!(link.flags & IFF_UP))
		ret = nlroute_link_set_up(sk, link.ifindex, true);
out:
	nlroute_close(sk);
	return ret;
}

struct wanted_route {
	struct ip_prefix p;
	size_t idx;
};

/* Order for bsearch: family, prefix length, then the (masked) address. */
static int cmp_prefix(const struct ip_prefix *a, const struct ip_prefix *b)
{
	if (a->addr.family != b->addr.family)
		return a->addr.family - b->addr.family;
	if (a->cidr != b->cidr)
		return a->cidr - b->cidr;
	return memcmp(a->addr.bytes, b->addr.bytes, a->addr.family == AF_INET6 ? 16 : 4);
}

static int cmp_wanted(const void *a, const void *b)
{
	return cmp_prefix(&((const struct wanted_route *)a)->p, &((const struct wanted_route *)b)->p);
}

struct route_walk {
	int ifindex;
	struct wanted_route *want; /* sorted */
	size_t n_want;
	bool *present;
	struct ip_prefix *stale;
	size_t n_stale, cap_stale;
};

static bool nl_to_prefix(struct nl_addr *a, struct ip_prefix *out)
{
	int family = nl_addr_get_family(a);
	unsigned int len = nl_addr_get_len(a);

	memset(out, 0, sizeof(*out));
	if ((family != AF_INET || len != 4) && (family != AF_INET6 || len != 16)) {
		/* the default route has an empty address */
		if (len)
			return false;
	}
	out->addr.family = family;
	if (len)
		memcpy(out->addr.bytes, nl_addr_get_binary_addr(a), len);
	out->cidr = (uint8_t)nl_addr_get_prefixlen(a);
	return true;
}

static void visit_route(struct nl_object *obj, void *arg)
{
	struct rtnl_route *r = (struct rtnl_route *)obj;
	struct route_walk *w = arg;
	struct rtnl_nexthop *nh;
	struct ip_prefix p;

	if (rtnl_route_get_table(r) != RT_TABLE_MAIN || rtnl_route_get_protocol(r) == RTPROT_KERNEL ||
	    rtnl_route_get_type(r) != RTN_UNICAST || rtnl_route_get_nnexthops(r) != 1)
		return;
	nh = rtnl_route_nexthop_n(r, 0);
	if (rtnl_route_nh_get_ifindex(nh) != w->ifindex || !nl_to_prefix(rtnl_route_get_dst(r), &p))
		return;
	/* IPv6 multicast and link-local routes the kernel adds per link are not ours. */
	if (p.addr.family == AF_INET6 && (p.addr.bytes[0] == 0xff || (p.addr.bytes[0] == 0xfe && p.addr.bytes[1] == 0x80)))
		return;
	{
		struct wanted_route k = { .p = p }, *hit;

		ip_prefix_mask(&k.p);
		hit = w->n_want ? bsearch(&k, w->want, w->n_want, sizeof(k), cmp_wanted) : NULL;
		if (hit) {
			w->present[hit->idx] = true;
			return;
		}
	}
	if (w->n_stale == w->cap_stale) {
		size_t cap = w->cap_stale ? w->cap_stale * 2 : 16;
		struct ip_prefix *grown = realloc(w->stale, cap * sizeof(*grown));

		if (!grown)
			return;
		w->stale = grown;
		w->cap_stale = cap;
	}
	w->stale[w->n_stale++] = p;
}

int iface_sync_routes(const char *ifname, const struct ip_prefix *want, size_t n_want, size_t *added,
		      size_t *removed)
{
	struct route_walk w = { .n_want = n_want };
	struct nl_cache *cache = NULL;
	struct nlroute_link link;
	struct nl_sock *sk;
	int ret = nlroute_open(&sk), first_err = 0;

	*added = *removed = 0;
	if (ret)
		return ret;
	ret = nlroute_link_get(sk, ifname, &link);
	if (ret)
		goto out;
	w.ifindex = link.ifindex;
	w.present = calloc(n_want + 1, sizeof(*w.present));
	w.want = calloc(n_want + 1, sizeof(*w.want));
	if (!w.present || !w.want) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n_want; i++) {
		w.want[i].p = want[i];
		ip_prefix_mask(&w.want[i].p);
		w.want[i].idx = i;
	}
	qsort(w.want, n_want, sizeof(*w.want), cmp_wanted);
	if (rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &cache) < 0) {
		ret = -EIO;
		goto out;
	}
	nl_cache_foreach(cache, visit_route, &w);
	for (size_t i = 0; i < w.n_stale; i++) {
		struct nlroute_route r = { .dst = w.stale[i], .ifindex = link.ifindex, .scope = -1 };

		ret = nlroute_route_del(sk, &r);
		if (ret && ret != -ENOENT && !first_err)
			first_err = ret;
		else if (!ret)
			(*removed)++;
	}
	for (size_t i = 0; i < n_want; i++) {
		struct nlroute_route r = { .dst = want[i], .ifindex = link.ifindex, .scope = -1 };

		if (w.present[i])
			continue;
		ret = nlroute_route_add(sk, &r);
		if (ret && ret != -EEXIST) {
			char buf[IP_PREFIX_STRLEN];

			ip_prefix_format(&want[i], buf, sizeof(buf));
			log_warn("%s: cannot add route %s: %s", ifname, buf, nlroute_strerror(ret));
			if (!first_err)
				first_err = ret;
		} else if (!ret) {
			(*added)++;
		}
	}
	ret = first_err;
out:
	if (cache)
		nl_cache_free(cache);
	free(w.present);
	free(w.want);
	free(w.stale);
	nlroute_close(sk);
	return ret;
}

int iface_endpoint_pick(const struct ifaddrs *list, const char *skip_ifname, unsigned int port, char *out,
			size_t len)
{
	/* IPv4 first, as before; an IPv6-only node then gets its first IPv6 address. */
	for (int family = AF_INET; family; family = family == AF_INET ? AF_INET6 : 0) {
		for (const struct ifaddrs *i = list; i; i = i->ifa_next) {
			char addr[IP_ADDR_STRLEN];

			if (!i->ifa_addr || i->ifa_addr->sa_family != family || !(i->ifa_flags & IFF_UP) ||
			    (i->ifa_flags & IFF_LOOPBACK) || !strcmp(i->ifa_name, skip_ifname))
				continue;
			if (family == AF_INET) {
				/* 169.254/16 (RFC 3927) is link-local: pods' gateway address, never
				 * reachable from peers. */
				if ((ntohl(((const struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr) >> 16) == 0xa9fe)
					continue;
				inet_ntop(AF_INET, &((const struct sockaddr_in *)i->ifa_addr)->sin_addr, addr, sizeof(addr));
				snprintf(out, len, "%s:%u", addr, port);
				return 0;
			}
			/* fe80::/10 needs a scope no peer can name. */
			if (IN6_IS_ADDR_LINKLOCAL(&((const struct sockaddr_in6 *)i->ifa_addr)->sin6_addr))
				continue;
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, addr, sizeof(addr));
			snprintf(out, len, "[%s]:%u", addr, port);
			return 0;
		}
	}
	return -EADDRNOTAVAIL;
}

unsigned int iface_tunnel_mtu(unsigned int underlay)
{
	if (!underlay)
		return 1500 - 80;
	return underlay < 1280 + 80 ? 1280 : underlay - 80;
}

/* The name of the interface in @list (getifaddrs) holding @want, into @dev; false when none
 * holds it (an address behind NAT). */
static bool iface_holding(const struct ifaddrs *list, const struct ip_addr *want, char *dev, size_t dev_len)
{
	for (const struct ifaddrs *i = list; i; i = i->ifa_next) {
		struct ip_addr have = { 0 };

		if (!i->ifa_addr || i->ifa_addr->sa_family != want->family)
			continue;
		have.family = want->family;
		memcpy(have.bytes, want->family == AF_INET ? (const void *)&((const struct sockaddr_in *)i->ifa_addr)->sin_addr :
							     (const void *)&((const struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
		       want->family == AF_INET ? 4 : 16);
		if (ip_addr_equal(&have, want)) {
			snprintf(dev, dev_len, "%s", i->ifa_name);
			return true;
		}
	}
	return false;
}

int iface_underlay_mtu(const char *host, unsigned int *mtu, char *dev, size_t dev_len)
{
	struct nlroute_link link;
	struct ifaddrs *ifs;
	struct ip_addr ip;
	struct nl_sock *sk;
	bool held;
	int ret;

	*mtu = 0;
	dev[0] = '\0';
	if (ip_addr_parse(&ip, host))
		return -EINVAL;
	if (getifaddrs(&ifs) < 0)
		return -errno;
	held = iface_holding(ifs, &ip, dev, dev_len);
	freeifaddrs(ifs);
	ret = nlroute_open(&sk);
	if (ret)
		return ret;
	/* getifaddrs' AF_PACKET entries carry the MTU; read it from the link instead. */
	if (held && !nlroute_link_get(sk, dev, &link))
		*mtu = link.mtu;
	if (!*mtu) {
		ret = nlroute_path_mtu(sk, &ip, mtu);
		if (!ret && *mtu)
			snprintf(dev, dev_len, "route");
	}
	nlroute_close(sk);
	return ret;
}

int iface_detect_endpoint(const char *skip_ifname, unsigned int port, char *out, size_t len)
{
	struct ifaddrs *ifs;
	int ret;

	if (getifaddrs(&ifs) < 0)
		return -errno;
	ret = iface_endpoint_pick(ifs, skip_ifname, port, out, len);
	freeifaddrs(ifs);
	return ret;
}
