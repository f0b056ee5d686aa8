/* masquerade.h — podwired's source NAT for the node's pods (as flannel's --ip-masq): traffic
 * from this node's pod CIDRs to a destination outside the cluster's pod ranges leaves with
 * the node's own address. That gives pods the Internet (or any network without routes back to
 * pods), and also the other nodes' own addresses (kubelet, the API server, hostNetwork pods):
 * such a reply comes back over the underlay to this node's address instead of being routed
 * into WireGuard, where the sender's node address is not an allowed IP. Pod to pod traffic
 * (destination inside the cluster's ranges) keeps the pod's address.
 *
 * The rules live in one nftables table of podwired's own, "inet podwired" (both families),
 * replaced whole in one transaction (so applying twice changes nothing and no packet sees
 * half a table), and deleted by --cleanup. libnftables is loaded at run time (dlopen): the
 * podwire image carries it (Debian's libnftables1); the CNI plugins on the host need nothing. */
#ifndef PODWIRE_DAEMON_MASQUERADE_H
#define PODWIRE_DAEMON_MASQUERADE_H

#include <stddef.h>

#include "lib/ipaddr.h"

#define MASQUERADE_TABLE "podwired"

/* The nft commands that make the table (text in @buf): masquerade @pod (this node's pod
 * CIDRs, either family) towards anything outside @cluster. -ENOSPC: @buf too small. */
int masquerade_plan(const struct ip_prefix *pod, size_t n_pod, const struct ip_prefix *cluster, size_t n_cluster,
		    char *buf, size_t len);
/* Install (or replace) the table. On failure @why gets nft's or the loader's reason. */
int masquerade_apply(const struct ip_prefix *pod, size_t n_pod, const struct ip_prefix *cluster, size_t n_cluster,
		     char *why, size_t why_len);
/* Delete the table; a table that is not there is fine. */
int masquerade_remove(char *why, size_t why_len);

#endif
