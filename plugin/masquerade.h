/* masquerade.h — optional source NAT for pod traffic leaving the cluster (the spec's "ipMasq"):
 * per network N, nftables tables "ip podwire"/"ip6 podwire" hold a set N of pod addresses and
 * a chain masq-N hooked at postrouting that masquerades "saddr @N daddr != clusterCIDRs".
 * ADD adds the pod's addresses to the set and DEL removes them, so pods never share a rule
 * and parallel plugins never race on rule handles (each change is one nft transaction).
 * libnftables is loaded at run time (dlopen, as systemd does for its optional libraries):
 * building podwire needs no nftables headers and nodes without masquerade need no library. */
#ifndef PODWIRE_PLUGIN_MASQUERADE_H
#define PODWIRE_PLUGIN_MASQUERADE_H

#include "lib/cni_error.h"
#include "lib/ipaddr.h"

/* Masquerade @addrs (pod addresses) of @network unless the destination is in @cluster. */
int masquerade_add(const char *network, const struct ip_addr *addrs, unsigned int n, const struct ip_prefix *cluster,
	     unsigned int n_cluster, struct cni_error *err);
/* Forget @addrs; missing tables, sets or elements are fine (DEL is idempotent). */
int masquerade_del(const char *network, const struct ip_addr *addrs, unsigned int n, struct cni_error *err);

#endif
