#include "lib/nlroute.h"

#include <errno.h>
#include <linux/if.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>
#include <sched.h>
#include <string.h>

int nlroute_errno(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case 0: return 0;
	case NLE_EXIST: return -EEXIST;
	case NLE_NODEV: return -ENODEV;
	case NLE_OBJ_NOTFOUND: return -ENOENT;
	case NLE_NOMEM: return -ENOMEM;
	case NLE_INVAL: return -EINVAL;
	case NLE_RANGE: return -ERANGE;
	case NLE_PERM: case NLE_NOACCESS: return -EPERM;
	case NLE_BUSY: return -EBUSY;
	case NLE_AGAIN: return -EAGAIN;
	case NLE_NOADDR: return -EADDRNOTAVAIL;
	case NLE_OPNOTSUPP: return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT: return -EAFNOSUPPORT;
	case NLE_MSGSIZE: return -EMSGSIZE;
	default: return -EIO;
	}
}

const char *nlroute_strerror(int err)
{
	if (err == -ENOENT)
		return "No such object";
	return strerror(err < 0 ? -err : err);
}

int nlroute_open(struct nl_sock **out)
{
	struct nl_sock *sk = nl_socket_alloc();
	int ret;

	if (!sk)
		return -ENOMEM;
	ret = nl_connect(sk, NETLINK_ROUTE);
	if (ret < 0) {
		nl_socket_free(sk);
		return nlroute_errno(ret);
	}
	*out = sk;
	return 0;
}

int nlroute_open_in(struct nl_sock **out, int netns_fd, int home_fd)
{
	int ret;

	if (setns(netns_fd, CLONE_NEWNET))
		return -errno;
	ret = nlroute_open(out);
	if (setns(home_fd, CLONE_NEWNET)) {
		/* Staying in the wrong namespace would misplace everything that follows. */
		ret = -errno;
		if (*out && ret)
			nlroute_close(*out);
	}
	return ret;
}

void nlroute_close(struct nl_sock *sk)
{
	if (sk)
		nl_socket_free(sk);
}

struct nl_addr *nlroute_addr_build(const struct ip_addr *a, unsigned int prefixlen)
{
	struct nl_addr *na = nl_addr_build(a->family, a->bytes, a->family == AF_INET6 ? 16 : 4);

	if (na)
		nl_addr_set_prefixlen(na, (int)prefixlen);
	return na;
}

static bool nl_addr_is(struct nl_addr *na, const struct ip_addr *a, unsigned int prefixlen)
{
	unsigned int len = a->family == AF_INET6 ? 16 : 4;

	/* The kernel sends no RTA_DST for a default route; libnl then holds an empty address. */
	if (na && prefixlen == 0 && nl_addr_get_prefixlen(na) == 0)
		return nl_addr_get_family(na) == a->family || nl_addr_get_len(na) == 0;
	return na && nl_addr_get_family(na) == a->family && nl_addr_get_len(na) == len &&
	       !memcmp(nl_addr_get_binary_addr(na), a->bytes, len) &&
	       (unsigned int)nl_addr_get_prefixlen(na) == prefixlen;
}

int nlroute_link_get(struct nl_sock *sk, const char *name, struct nlroute_link *out)
{
	struct rtnl_link *link = NULL;
	struct nl_addr *ll;
	int ret;

	ret = rtnl_link_get_kernel(sk, 0, name, &link);
	if (ret < 0) {
		ret = nlroute_errno(ret);
		return ret == -ENOENT ? -ENODEV : ret;
	}
	memset(out, 0, sizeof(*out));
	out->ifindex = rtnl_link_get_ifindex(link);
	out->mtu = rtnl_link_get_mtu(link);
	out->flags = rtnl_link_get_flags(link);
	snprintf(out->name, sizeof(out->name), "%s", rtnl_link_get_name(link));
	ll = rtnl_link_get_addr(link);
	if (ll && nl_addr_get_len(ll) == 6)
		memcpy(out->mac, nl_addr_get_binary_addr(ll), 6);
	rtnl_link_put(link);
	return 0;
}

int nlroute_path_mtu(struct nl_sock *sk, const struct ip_addr *dst, unsigned int *mtu)
{
	struct nl_addr *a = nlroute_addr_build(dst, ip_addr_bits(dst));
	struct rtnl_route *r = NULL;
	struct rtnl_link *link = NULL;
	uint32_t route_mtu = 0;
	int oif = 0, ret;

	*mtu = 0;
	if (!a)
		return -ENOMEM;
	ret = rtnl_route_lookup(sk, a, &r);
	nl_addr_put(a);
	if (ret < 0)
		return 0; /* no route: wg-quick's `ip route get ... || true` */
	if (rtnl_route_get_metric(r, RTAX_MTU, &route_mtu) < 0)
		route_mtu = 0;
	if (rtnl_route_get_nnexthops(r) > 0)
		oif = rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(r, 0));
	rtnl_route_put(r);
	if (route_mtu || oif <= 0) {
		*mtu = route_mtu;
		return 0;
	}
	ret = rtnl_link_get_kernel(sk, oif, NULL, &link);
	if (ret < 0)
		return nlroute_errno(ret);
	*mtu = rtnl_link_get_mtu(link);
	rtnl_link_put(link);
	return 0;
}

int nlroute_veth_create(struct nl_sock *sk, const char *name, const uint8_t *mac, const char *peer_name,
			int peer_netns_fd, unsigned int mtu, bool up)
{
	struct rtnl_link *link = rtnl_link_veth_alloc(), *peer;
	struct nl_addr *ll = NULL;
	int ret;

	if (!link)
		return -ENOMEM;
	peer = rtnl_link_veth_get_peer(link);
	rtnl_link_set_name(link, name);
	rtnl_link_set_name(peer, peer_name);
	if (mac) {
		ll = nl_addr_build(AF_LLC, mac, 6);
		rtnl_link_set_addr(link, ll);
	}
	if (mtu) {
		rtnl_link_set_mtu(link, mtu);
		rtnl_link_set_mtu(peer, mtu);
	}
	/* IFF_UP in the create request brings this end up without another round trip. Not the
	 * peer: the kernel configures it before the pair is joined and veth_open() then fails
	 * with ENOTCONN, so the caller brings the peer up in its namespace. */
	if (up)
		rtnl_link_set_flags(link, IFF_UP);
	if (peer_netns_fd >= 0)
		rtnl_link_set_ns_fd(peer, peer_netns_fd);
	ret = nlroute_errno(rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL));
	nl_addr_put(ll);
	rtnl_link_put(peer);
	rtnl_link_veth_release(link);
	return ret;
}

static int link_change(struct nl_sock *sk, int ifindex, struct rtnl_link *changes)
{
	struct rtnl_link *orig = rtnl_link_alloc();
	int ret;

	if (!orig)
		return -ENOMEM;
	rtnl_link_set_ifindex(orig, ifindex);
	ret = nlroute_errno(rtnl_link_change(sk, orig, changes, 0));
	rtnl_link_put(orig);
	return ret;
}

int nlroute_link_set_up(struct nl_sock *sk, int ifindex, bool up)
{
	struct rtnl_link *changes = rtnl_link_alloc();
	int ret;

	if (!changes)
		return -ENOMEM;
	if (up)
		rtnl_link_set_flags(changes, IFF_UP);
	else
		rtnl_link_unset_flags(changes, IFF_UP);
	ret = link_change(sk, ifindex, changes);
	rtnl_link_put(changes);
	return ret;
}

int nlroute_link_set_mtu(struct nl_sock *sk, int ifindex, unsigned int mtu)
{
	struct rtnl_link *changes = rtnl_link_alloc();
	int ret;

	if (!changes)
		return -ENOMEM;
	rtnl_link_set_mtu(changes, mtu);
	ret = link_change(sk, ifindex, changes);
	rtnl_link_put(changes);
	return ret;
}

int nlroute_link_rename(struct nl_sock *sk, int ifindex, const char *name)
{
	struct rtnl_link *changes = rtnl_link_alloc();
	int ret;

	if (!changes)
		return -ENOMEM;
	rtnl_link_set_name(changes, name);
	ret = link_change(sk, ifindex, changes);
	rtnl_link_put(changes);
	return ret;
}

int nlroute_link_delete(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *link = rtnl_link_alloc();
	int ret;

	if (!link)
		return -ENOMEM;
	rtnl_link_set_name(link, name);
	ret = nlroute_errno(rtnl_link_delete(sk, link));
	rtnl_link_put(link);
	return ret == -ENOENT ? -ENODEV : ret;
}

static struct rtnl_addr *addr_build(int ifindex, const struct ip_prefix *p)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	struct nl_addr *local;

	if (!a)
		return NULL;
	local = nlroute_addr_build(&p->addr, p->cidr);
	if (!local) {
		rtnl_addr_put(a);
		return NULL;
	}
	rtnl_addr_set_ifindex(a, ifindex);
	rtnl_addr_set_family(a, p->addr.family);
	rtnl_addr_set_local(a, local);
	rtnl_addr_set_prefixlen(a, p->cidr);
	nl_addr_put(local);
	return a;
}

int nlroute_addr_add(struct nl_sock *sk, int ifindex, const struct ip_prefix *p, bool nodad)
{
	struct rtnl_addr *a = addr_build(ifindex, p);
	int ret;

	if (!a)
		return -ENOMEM;
	if (nodad && p->addr.family == AF_INET6)
		rtnl_addr_set_flags(a, IFA_F_NODAD);
	ret = nlroute_errno(rtnl_addr_add(sk, a, NLM_F_EXCL));
	rtnl_addr_put(a);
	return ret;
}

int nlroute_addr_del(struct nl_sock *sk, int ifindex, const struct ip_prefix *p)
{
	struct rtnl_addr *a = addr_build(ifindex, p);
	int ret;

	if (!a)
		return -ENOMEM;
	ret = nlroute_errno(rtnl_addr_delete(sk, a, 0));
	rtnl_addr_put(a);
	return ret == -EADDRNOTAVAIL ? -ENOENT : ret;
}

int nlroute_addr_exists(struct nl_sock *sk, int ifindex, const struct ip_prefix *p, bool *found)
{
	struct nl_cache *cache;
	struct nl_object *obj;
	int ret;

	*found = false;
	ret = rtnl_addr_alloc_cache(sk, &cache);
	if (ret < 0)
		return nlroute_errno(ret);
	for (obj = nl_cache_get_first(cache); obj && !*found; obj = nl_cache_get_next(obj)) {
		struct rtnl_addr *a = (struct rtnl_addr *)obj;

		*found = rtnl_addr_get_ifindex(a) == ifindex &&
			 nl_addr_is(rtnl_addr_get_local(a), &p->addr, p->cidr);
	}
	nl_cache_free(cache);
	return 0;
}

static struct rtnl_route *route_build(const struct nlroute_route *r)
{
	struct rtnl_route *route = rtnl_route_alloc();
	struct rtnl_nexthop *nh;
	struct nl_addr *dst, *gw;
	int scope = r->scope;

	if (!route)
		return NULL;
	dst = nlroute_addr_build(&r->dst.addr, r->dst.cidr);
	if (!dst)
		goto fail;
	rtnl_route_set_family(route, (uint8_t)r->dst.addr.family);
	rtnl_route_set_dst(route, dst);
	nl_addr_put(dst);
	rtnl_route_set_table(route, r->table ? r->table : RT_TABLE_MAIN);
	rtnl_route_set_protocol(route, RTPROT_BOOT);
	if (scope < 0)
		scope = r->has_gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rtnl_route_set_scope(route, (uint8_t)scope);
	if (r->priority)
		rtnl_route_set_priority(route, r->priority);
	if (r->mtu && rtnl_route_set_metric(route, RTAX_MTU, r->mtu) < 0)
		goto fail;
	if (r->advmss && rtnl_route_set_metric(route, RTAX_ADVMSS, r->advmss) < 0)
		goto fail;
	nh = rtnl_route_nh_alloc();
	if (!nh)
		goto fail;
	if (r->ifindex)
		rtnl_route_nh_set_ifindex(nh, r->ifindex);
	if (r->has_gw) {
		gw = nlroute_addr_build(&r->gw, ip_addr_bits(&r->gw));
		if (!gw) {
			rtnl_route_nh_free(nh);
			goto fail;
		}
		rtnl_route_nh_set_gateway(nh, gw);
		nl_addr_put(gw);
	}
	if (r->onlink)
		rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
	rtnl_route_add_nexthop(route, nh);
	return route;
fail:
	rtnl_route_put(route);
	return NULL;
}

static int route_new(struct nl_sock *sk, const struct nlroute_route *r, int flags)
{
	struct rtnl_route *route = route_build(r);
	int ret;

	if (!route)
		return -ENOMEM;
	ret = nlroute_errno(rtnl_route_add(sk, route, flags));
	rtnl_route_put(route);
	return ret;
}

int nlroute_route_add(struct nl_sock *sk, const struct nlroute_route *r)
{
	return route_new(sk, r, NLM_F_EXCL);
}

int nlroute_route_replace(struct nl_sock *sk, const struct nlroute_route *r)
{
	return route_new(sk, r, NLM_F_REPLACE);
}

int nlroute_route_del(struct nl_sock *sk, const struct nlroute_route *r)
{
	struct rtnl_route *route = route_build(r);
	int ret;

	if (!route)
		return -ENOMEM;
	ret = nlroute_errno(rtnl_route_delete(sk, route, 0));
	rtnl_route_put(route);
	return ret == -ESRCH ? -ENOENT : ret;
}

static bool route_matches(struct rtnl_route *route, const struct nlroute_route *r)
{
	uint32_t table = r->table ? r->table : RT_TABLE_MAIN;
	struct rtnl_nexthop *nh;

	if (rtnl_route_get_table(route) != table || !nl_addr_is(rtnl_route_get_dst(route), &r->dst.addr, r->dst.cidr))
		return false;
	if (rtnl_route_get_nnexthops(route) < 1)
		return false;
	nh = rtnl_route_nexthop_n(route, 0);
	if (r->ifindex && rtnl_route_nh_get_ifindex(nh) != r->ifindex)
		return false;
	if (r->has_gw && !nl_addr_is(rtnl_route_nh_get_gateway(nh), &r->gw, ip_addr_bits(&r->gw)))
		return false;
	return true;
}

int nlroute_route_exists(struct nl_sock *sk, const struct nlroute_route *r, bool *found)
{
	struct nl_cache *cache;
	struct nl_object *obj;
	int ret;

	*found = false;
	ret = rtnl_route_alloc_cache(sk, r->dst.addr.family, 0, &cache);
	if (ret < 0)
		return nlroute_errno(ret);
	for (obj = nl_cache_get_first(cache); obj && !*found; obj = nl_cache_get_next(obj))
		*found = route_matches((struct rtnl_route *)obj, r);
	nl_cache_free(cache);
	return 0;
}

int nlroute_route_list_dev(struct nl_sock *sk, int ifindex, struct ip_prefix *out, unsigned int max, unsigned int *n)
{
	struct nl_cache *cache;
	struct nl_object *obj;
	int ret;

	*n = 0;
	ret = rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &cache);
	if (ret < 0)
		return nlroute_errno(ret);
	for (obj = nl_cache_get_first(cache); obj && *n < max; obj = nl_cache_get_next(obj)) {
		struct rtnl_route *route = (struct rtnl_route *)obj;
		struct nl_addr *dst = rtnl_route_get_dst(route);
		struct ip_prefix *p = &out[*n];
		unsigned int len;

		if (rtnl_route_get_table(route) != RT_TABLE_MAIN || rtnl_route_get_nnexthops(route) < 1 ||
		    rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(route, 0)) != ifindex || !dst)
			continue;
		len = nl_addr_get_len(dst);
		if ((nl_addr_get_family(dst) != AF_INET || len != 4) && (nl_addr_get_family(dst) != AF_INET6 || len != 16))
			continue;
		memset(p, 0, sizeof(*p));
		p->addr.family = nl_addr_get_family(dst);
		memcpy(p->addr.bytes, nl_addr_get_binary_addr(dst), len);
		p->cidr = (uint8_t)nl_addr_get_prefixlen(dst);
		(*n)++;
	}
	nl_cache_free(cache);
	return 0;
}

int nlroute_neigh_set_permanent(struct nl_sock *sk, int ifindex, const struct ip_addr *ip, const uint8_t mac[6])
{
	struct rtnl_neigh *n = rtnl_neigh_alloc();
	struct nl_addr *dst = NULL, *ll = NULL;
	int ret = -ENOMEM;

	if (!n)
		return -ENOMEM;
	dst = nlroute_addr_build(ip, ip_addr_bits(ip));
	ll = nl_addr_build(AF_LLC, mac, 6);
	if (!dst || !ll)
		goto out;
	rtnl_neigh_set_ifindex(n, ifindex);
	rtnl_neigh_set_family(n, ip->family);
	rtnl_neigh_set_dst(n, dst);
	rtnl_neigh_set_lladdr(n, ll);
	rtnl_neigh_set_state(n, NUD_PERMANENT);
	ret = nlroute_errno(rtnl_neigh_add(sk, n, NLM_F_CREATE | NLM_F_REPLACE));
out:
	nl_addr_put(dst);
	nl_addr_put(ll);
	rtnl_neigh_put(n);
	return ret;
}
