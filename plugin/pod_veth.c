#include "plugin/pod_veth.h"

#include <errno.h>
#include <net/if.h>
#include <linux/rtnetlink.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/nlroute.h"
#include "plugin/netns.h"
#include "plugin/sysctl.h"

/* Host end's MAC, the same on every host veth like Calico's ee:ee:ee:ee:ee:ee: it is locally
 * administered (bit 1 of the first octet), and pods only ever see it as their gateway. */
static const uint8_t gateway_mac[6] = { 0xee, 0xee, 0xee, 0xee, 0xee, 0xee };

void pod_veth_veth_name(char out[16], const char *prefix, const char *container_id, const char *ifname)
{
	unsigned char h[8];
	size_t plen = strlen(prefix), hex = 15 - plen;
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)container_id, strlen(container_id) + 1);
	crypto_generichash_update(&st, (const unsigned char *)ifname, strlen(ifname));
	crypto_generichash_final(&st, h, sizeof(h));
	memcpy(out, prefix, plen);
	for (size_t i = 0; i < hex && i / 2 < sizeof(h); i++)
		out[plen + i] = "0123456789abcdef"[(h[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
	out[plen + (hex < 2 * sizeof(h) ? hex : 2 * sizeof(h))] = '\0';
}

int pod_veth_open(struct pod_veth *w, const struct cni_env *env, const char *veth_prefix, bool need_pod,
		  struct cni_error *err)
{
	int ret;

	memset(w, 0, sizeof(*w));
	w->home_ns = w->pod_ns = -1;
	w->ifname = env->ifname;
	w->netns_path = env->netns;
	pod_veth_veth_name(w->host_veth, veth_prefix, env->container_id, env->ifname);
	if ((ret = netns_open_current(&w->home_ns)))
		return cni_fail(err, CNI_ERR_IO, "cannot open own network namespace: %s", strerror(-ret));
	if ((ret = nlroute_open(&w->host)))
		return cni_fail(err, CNI_ERR_NETLINK, "cannot open netlink socket: %s", strerror(-ret));
	if (env->netns) {
		ret = netns_open(env->netns, &w->pod_ns);
		if (ret && need_pod)
			return cni_fail(err, CNI_ERR_INVALID_ENV, "CNI_NETNS=%s: %s", env->netns,
					ret == -EINVAL ? "not a network namespace" : strerror(-ret));
	}
	if (w->pod_ns >= 0 && (ret = nlroute_open_in(&w->pod, w->pod_ns, w->home_ns)))
		return cni_fail(err, CNI_ERR_NETLINK, "CNI_NETNS=%s: cannot open netlink socket there: %s",
				env->netns, strerror(-ret));
	return 0;
}

void pod_veth_close(struct pod_veth *w)
{
	nlroute_close(w->pod);
	nlroute_close(w->host);
	if (w->pod_ns >= 0)
		close(w->pod_ns);
	if (w->home_ns >= 0)
		close(w->home_ns);
	w->pod = w->host = NULL;
	w->pod_ns = w->home_ns = -1;
}

static void gateway_of(int family, struct ip_addr *gw)
{
	ip_addr_parse(gw, family == AF_INET6 ? POD_VETH_GATEWAY_V6 : POD_VETH_GATEWAY_V4);
}

static void format_mac(const uint8_t mac[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

static int netlink_fail(struct cni_error *err, int ret, const char *fmt_obj, const char *obj, const char *what)
{
	return cni_fail(err, CNI_ERR_NETLINK, "%s %s: cannot %s: %s", fmt_obj, obj, what, nlroute_strerror(ret));
}

static struct nlroute_route host_route(int host_ifindex, const struct ip_addr *a)
{
	struct nlroute_route r = { .ifindex = host_ifindex, .scope = RT_SCOPE_LINK };

	r.dst.addr = *a;
	r.dst.cidr = (uint8_t)ip_addr_bits(a);
	return r;
}

static struct nlroute_route pod_route(int pod_ifindex, const struct cni_route *cr)
{
	struct nlroute_route r = { .ifindex = pod_ifindex, .has_gw = true, .onlink = true, .scope = RT_SCOPE_UNIVERSE };

	r.dst = cr->dst;
	r.gw = cr->gw;
	r.mtu = cr->mtu;
	r.advmss = cr->advmss;
	r.priority = cr->priority;
	r.table = cr->table;
	return r;
}

/* The pod's routes: IPAM's destinations (or a default route per family when it gives none),
 * each through the family's link-local gateway. */
static void plan_routes(const struct cni_result *ipam, bool has4, bool has6, struct cni_result *out)
{
	if (ipam->n_routes) {
		for (unsigned int i = 0; i < ipam->n_routes && out->n_routes < CNI_MAX_ROUTES; i++) {
			const struct cni_route *in = &ipam->routes[i];
			int fam = in->dst.addr.family;

			if ((fam == AF_INET && !has4) || (fam == AF_INET6 && !has6))
				continue;
			out->routes[out->n_routes] = *in;
			gateway_of(fam, &out->routes[out->n_routes].gw);
			out->routes[out->n_routes].has_gw = true;
			out->routes[out->n_routes].scope = -1;
			out->n_routes++;
		}
		return;
	}
	for (int fam = 0; fam < 2; fam++) {
		struct cni_route *r = &out->routes[out->n_routes];

		if (!(fam ? has6 : has4))
			continue;
		memset(r, 0, sizeof(*r));
		r->scope = -1;
		r->dst.addr.family = fam ? AF_INET6 : AF_INET;
		gateway_of(r->dst.addr.family, &r->gw);
		r->has_gw = true;
		out->n_routes++;
	}
}

static int configure_pod(struct pod_veth *w, const struct nlroute_link *pod, const struct cni_result *out,
			 bool has4, bool has6, struct cni_error *err)
{
	struct ip_addr gw;
	int ret;

	for (unsigned int i = 0; i < out->n_ips; i++) {
		char a[IP_PREFIX_STRLEN];

		/* No DAD: the address is ours by IPAM, and waiting for DAD delays the pod's first packet. */
		if ((ret = nlroute_addr_add(w->pod, pod->ifindex, &out->ips[i].address, true))) {
			ip_prefix_format(&out->ips[i].address, a, sizeof(a));
			return cni_fail(err, CNI_ERR_NETLINK, "pod interface %s: cannot add address %s: %s", w->ifname,
					a, nlroute_strerror(ret));
		}
	}
	for (int fam = 0; fam < 2; fam++) {
		if (!(fam ? has6 : has4))
			continue;
		gateway_of(fam ? AF_INET6 : AF_INET, &gw);
		if ((ret = nlroute_neigh_set_permanent(w->pod, pod->ifindex, &gw, gateway_mac)))
			return netlink_fail(err, ret, "pod interface", w->ifname, "add gateway neighbour");
	}
	for (unsigned int i = 0; i < out->n_routes; i++) {
		struct nlroute_route r = pod_route(pod->ifindex, &out->routes[i]);

		if ((ret = nlroute_route_add(w->pod, &r))) {
			char d[IP_PREFIX_STRLEN];

			ip_prefix_format(&r.dst, d, sizeof(d));
			return cni_fail(err, CNI_ERR_NETLINK, "pod interface %s: cannot add route %s: %s", w->ifname, d,
					nlroute_strerror(ret));
		}
	}
	return 0;
}

static int enable_forwarding(struct pod_veth *w, bool has4, bool has6, struct cni_error *err)
{
	int ret;

	if (has4 && (ret = sysctl_ensure("net/ipv4/ip_forward", "1")))
		return cni_fail(err, CNI_ERR_IO, "cannot enable net.ipv4.ip_forward: %s", strerror(-ret));
	if (has6 && (ret = sysctl_ensure("net/ipv6/conf/all/forwarding", "1")))
		return cni_fail(err, CNI_ERR_IO, "cannot enable net.ipv6.conf.all.forwarding: %s", strerror(-ret));
	return 0;
}

static int wire_up(struct pod_veth *w, unsigned int mtu, const struct cni_result *ipam, struct cni_result *out,
		   struct cni_error *err)
{
	struct nlroute_link host, pod;
	bool has4 = false, has6 = false;
	int ret;

	if ((ret = nlroute_link_get(w->host, w->host_veth, &host)))
		return netlink_fail(err, ret, "host veth", w->host_veth, "read link");
	if (!(host.flags & IFF_UP) && (ret = nlroute_link_set_up(w->host, host.ifindex, true)))
		return netlink_fail(err, ret, "host veth", w->host_veth, "set up");
	if ((ret = nlroute_link_get(w->pod, w->ifname, &pod)))
		return netlink_fail(err, ret, "pod interface", w->ifname, "read link");
	if ((ret = nlroute_link_set_up(w->pod, pod.ifindex, true)))
		return netlink_fail(err, ret, "pod interface", w->ifname, "set up");
	snprintf(out->ifaces[0].name, sizeof(out->ifaces[0].name), "%s", w->host_veth);
	format_mac(host.mac, out->ifaces[0].mac);
	snprintf(out->ifaces[1].name, sizeof(out->ifaces[1].name), "%s", w->ifname);
	format_mac(pod.mac, out->ifaces[1].mac);
	snprintf(out->ifaces[1].sandbox, sizeof(out->ifaces[1].sandbox), "%s", w->netns_path);
	out->ifaces[1].mtu = mtu;
	out->n_ifaces = 2;
	for (unsigned int i = 0; i < ipam->n_ips && i < CNI_MAX_IPS; i++) {
		struct cni_ip *ip = &out->ips[out->n_ips++];
		int fam = ipam->ips[i].address.addr.family;

		ip->address.addr = ipam->ips[i].address.addr;
		ip->address.cidr = (uint8_t)ip_addr_bits(&ip->address.addr);
		gateway_of(fam, &ip->gateway);
		ip->has_gateway = true;
		ip->iface = 1;
		has4 |= fam == AF_INET;
		has6 |= fam == AF_INET6;
	}
	plan_routes(ipam, has4, has6, out);
	if ((ret = configure_pod(w, &pod, out, has4, has6, err)))
		return ret;
	for (unsigned int i = 0; i < out->n_ips; i++) {
		struct nlroute_route r = host_route(host.ifindex, &out->ips[i].address.addr);

		if ((ret = nlroute_route_add(w->host, &r)))
			return netlink_fail(err, ret, "host veth", w->host_veth, "add route to the pod");
	}
	return enable_forwarding(w, has4, has6, err);
}

static bool has_family(const struct cni_result *r, int family)
{
	for (unsigned int i = 0; i < r->n_ips; i++)
		if (r->ips[i].address.addr.family == family)
			return true;
	return false;
}

static int create_veth(struct pod_veth *w, unsigned int mtu, bool has6, struct cni_error *err)
{
	char key[64];
	int ret;

	/* With IPv6 the host end must skip DAD on its link-local address, else for the first
	 * second or so it cannot resolve the pod's address (RFC 4862 §5.4: tentative addresses
	 * are not used); that sysctl exists only once the link does and counts only before up,
	 * so then the host end is created down and brought up by wire_up(). */
	ret = nlroute_veth_create(w->host, w->host_veth, gateway_mac, w->ifname, w->pod_ns, mtu, !has6);
	if (ret == -EEXIST)
		return cni_fail(err, CNI_ERR_NETLINK,
				"cannot create veth %s/%s: %s already exists in %s or %s exists on the host", w->host_veth,
				w->ifname, w->ifname, w->netns_path, w->host_veth);
	if (ret)
		return netlink_fail(err, ret, "veth", w->host_veth, "create");
	if (has6) {
		snprintf(key, sizeof(key), "net/ipv6/conf/%s/accept_dad", w->host_veth);
		if ((ret = sysctl_ensure(key, "0")))
			log_warn("%s: cannot disable DAD, IPv6 to the pod waits for it: %s", w->host_veth, strerror(-ret));
	}
	return 0;
}

int pod_veth_taken(struct pod_veth *w, struct cni_error *err)
{
	struct nlroute_link l;

	if (!nlroute_link_get(w->host, w->host_veth, &l))
		return cni_fail(err, CNI_ERR_NETLINK,
				"%s already exists on the host: this container and interface are attached (ADD again "
				"without DEL); their address is kept", w->host_veth);
	if (w->pod && !nlroute_link_get(w->pod, w->ifname, &l))
		return cni_fail(err, CNI_ERR_NETLINK, "%s already exists in %s; nothing was allocated", w->ifname,
				w->netns_path);
	return 0;
}

int pod_veth_up(struct pod_veth *w, unsigned int mtu, const struct cni_result *ipam, struct cni_result *out,
		struct cni_error *err)
{
	int ret, dret;

	cni_result_init(out);
	if ((ret = create_veth(w, mtu, has_family(ipam, AF_INET6), err)))
		return ret;
	ret = wire_up(w, mtu, ipam, out, err);
	if (ret) {
		/* Deleting one end takes the peer, its addresses, routes and neighbours with it. */
		dret = nlroute_link_delete(w->host, w->host_veth);
		if (dret && dret != -ENODEV)
			log_err("%s: cleanup after failed ADD: cannot delete: %s", w->host_veth, nlroute_strerror(dret));
		cni_result_init(out);
	}
	return ret;
}

static int check_fail_route(struct cni_error *err, const char *where, const struct ip_prefix *dst)
{
	char d[IP_PREFIX_STRLEN];

	ip_prefix_format(dst, d, sizeof(d));
	return cni_fail(err, CNI_ERR_CHECK_FAILED, "%s: route to %s is missing", where, d);
}

int pod_veth_check(struct pod_veth *w, const struct cni_result *prev, struct cni_error *err)
{
	struct nlroute_link host, pod;
	bool found;
	int ret;

	if (w->pod_ns < 0)
		return cni_fail(err, CNI_ERR_CHECK_FAILED, "CNI_NETNS=%s does not exist", w->netns_path);
	if ((ret = nlroute_link_get(w->pod, w->ifname, &pod)))
		return cni_fail(err, CNI_ERR_CHECK_FAILED, "pod interface %s in %s: %s", w->ifname, w->netns_path,
				nlroute_strerror(ret));
	if ((ret = nlroute_link_get(w->host, w->host_veth, &host)))
		return cni_fail(err, CNI_ERR_CHECK_FAILED, "host veth %s: %s", w->host_veth, nlroute_strerror(ret));
	/* A changed MTU is the silent failure (near-zero throughput through the tunnel). */
	for (unsigned int i = 0; i < prev->n_ifaces; i++)
		if (!strcmp(prev->ifaces[i].name, w->ifname) && prev->ifaces[i].mtu && prev->ifaces[i].mtu != pod.mtu)
			return cni_fail(err, CNI_ERR_CHECK_FAILED, "pod interface %s: MTU is %u, ADD set %u", w->ifname,
					pod.mtu, prev->ifaces[i].mtu);
	for (unsigned int i = 0; i < prev->n_ips; i++) {
		const struct cni_ip *ip = &prev->ips[i];
		char a[IP_PREFIX_STRLEN];
		struct nlroute_route hr = host_route(host.ifindex, &ip->address.addr);

		if (ip->iface < 0 || (unsigned int)ip->iface >= prev->n_ifaces ||
		    strcmp(prev->ifaces[ip->iface].name, w->ifname))
			continue;
		ip_prefix_format(&ip->address, a, sizeof(a));
		if ((ret = nlroute_addr_exists(w->pod, pod.ifindex, &ip->address, &found)))
			return netlink_fail(err, ret, "pod interface", w->ifname, "list addresses");
		if (!found)
			return cni_fail(err, CNI_ERR_CHECK_FAILED, "pod interface %s: address %s is missing", w->ifname, a);
		if ((ret = nlroute_route_exists(w->host, &hr, &found)))
			return netlink_fail(err, ret, "host veth", w->host_veth, "list routes");
		if (!found)
			return check_fail_route(err, "host", &hr.dst);
	}
	for (unsigned int i = 0; i < prev->n_routes; i++) {
		struct nlroute_route r = pod_route(pod.ifindex, &prev->routes[i]);

		r.has_gw = prev->routes[i].has_gw;
		if ((ret = nlroute_route_exists(w->pod, &r, &found)))
			return netlink_fail(err, ret, "pod interface", w->ifname, "list routes");
		if (!found)
			return check_fail_route(err, w->ifname, &r.dst);
	}
	return 0;
}

int pod_veth_down(struct pod_veth *w, struct cni_error *err)
{
	int ret = nlroute_link_delete(w->host, w->host_veth);

	if (ret && ret != -ENODEV)
		return netlink_fail(err, ret, "host veth", w->host_veth, "delete");
	return 0;
}
