/* pod_veth.h — how a pod is joined to the node without a bridge (the Calico layout):
 * a veth pair, the pod end named CNI_IFNAME inside the pod namespace with its addresses as
 * /32 and /128, default routes via the link-local gateways 169.254.1.1 and fe80::1 (onlink),
 * which a permanent neighbour entry maps to the host end's fixed MAC, so no host address is
 * spent per pod and no ARP/ND for the gateway ever leaves the pod. The host end carries no
 * address; the host reaches the pod through a /32 (/128) route on it. Traffic between pods
 * and to other nodes is plain routing on the host (and through the WireGuard interface). */
#ifndef PODWIRE_PLUGIN_POD_VETH_H
#define PODWIRE_PLUGIN_POD_VETH_H

#include <stdint.h>

#include "lib/cni_env.h"
#include "lib/cni_result.h"

struct nl_sock;

#define POD_VETH_GATEWAY_V4 "169.254.1.1"
#define POD_VETH_GATEWAY_V6 "fe80::1"

struct pod_veth {
	int home_ns;		/* the namespace the plugin started in (the host's) */
	int pod_ns;		/* -1 when CNI_NETNS is absent or gone */
	struct nl_sock *host, *pod;
	char host_veth[16];
	const char *ifname;
	const char *netns_path;
};

/* "PREFIX" + hex of a keyed hash of container ID and ifname, 15 bytes at most: stable, so
 * DEL finds the veth without any state, and distinct per attachment. */
void pod_veth_veth_name(char out[16], const char *prefix, const char *container_id, const char *ifname);
/* Open namespaces and netlink sockets. @need_pod: fail (code 4) if CNI_NETNS is not a netns;
 * otherwise a missing netns just leaves pod_ns = -1. */
int pod_veth_open(struct pod_veth *w, const struct cni_env *env, const char *veth_prefix, bool need_pod,
		  struct cni_error *err);
void pod_veth_close(struct pod_veth *w);

/* Before ADD allocates anything: fail (code 101) when this attachment's host veth or the pod's
 * CNI_IFNAME already exists, so a repeated ADD never reaches the release path that would hand
 * a live pod's address to the next pod. */
int pod_veth_taken(struct pod_veth *w, struct cni_error *err);
/* Create and configure everything for the addresses in @ipam; on success @out describes it
 * (interfaces host/pod, ips, routes). On failure nothing created remains. */
int pod_veth_up(struct pod_veth *w, unsigned int mtu, const struct cni_result *ipam, struct cni_result *out,
		struct cni_error *err);
/* Compare the live state with @prev (the ADD result); code 103 names what is missing. */
int pod_veth_check(struct pod_veth *w, const struct cni_result *prev, struct cni_error *err);
/* Remove the veth pair (and with it the pod end, the host routes, the neighbours).
 * Succeeds when it is already gone. */
int pod_veth_down(struct pod_veth *w, struct cni_error *err);

#endif
