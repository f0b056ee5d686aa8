/* node_iface.c — the node's WireGuard interface, looked up over rtnetlink (see node_iface.h). */
#include "plugin/node_iface.h"

#include "lib/nlroute.h"

unsigned int node_iface_mtu(const char *iface)
{
	struct nlroute_link link;
	struct nl_sock *sk;
	int ret;

	if (nlroute_open(&sk))
		return 0;
	ret = nlroute_link_get(sk, iface, &link);
	nlroute_close(sk);
	return ret ? 0 : link.mtu;
}
