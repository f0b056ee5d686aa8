/* addresses.h — this node's tunnel addresses and pod CIDRs: claimed (or found again) in the
 * store at start, and replaced when the cluster assigns pod CIDRs later.
 *
 * Pod CIDRs the cluster assigned (Node.spec.podCIDRs, when the store knows them) win over
 * --pod-cidr allocation, as kubelet and kube-proxy use them too; each must be a block of the
 * cluster CIDR of its family. A family without a pool here (IPv6 without --cluster-cidr6) is
 * left out. */
#ifndef PODWIRE_DAEMON_ADDRESSES_H
#define PODWIRE_DAEMON_ADDRESSES_H

#include "daemon/agent.h"
#include "mesh/node.h"
#include "mesh/store.h"

/* The cluster's pools as this node's flags give them (what it publishes and compares). */
struct cluster_pools addresses_pools(const struct agent_options *o);
/* Claim @self's tunnel addresses and pod CIDRs from @o's pools (or its fixed ones) in @s,
 * after checking that the pools agree with the cluster's (cluster.h). -EAGAIN: the Node has
 * no pod CIDR and allocation is off; -EINVAL/-EDOM: an assigned pod CIDR is unusable;
 * -ENOSPC, -EADDRINUSE, or the store's error. */
int addresses_claim(const struct agent_options *o, struct store *s, struct node *self);

/* The cluster assigned this node pod CIDRs after it had allocated its own: the assignment
 * wins, as at start, so the CNI config, @self and the claims follow it. @stored: our record
 * as the store shows it, where spec.podCIDRs already wins; only when it differs from @self
 * is the Node read again. 1: @self's record must be written again in full (the pod CIDRs
 * changed, or another writer changed the record); 0: nothing to do; -errno. */
int addresses_follow_assigned(const struct agent_options *o, struct store *s, struct node *self,
			      const struct node *stored);

/* Claim again each of @self's blocks (tunnel addresses, pod CIDRs) that @claims (the store's
 * "alloc/" listing) no longer gives to this node: its Node was deleted and registered again
 * (the claims annotation went with it), or the store lost the keys. Without them every peer
 * skips our record. Returns how many were claimed again (logged), or -errno. */
int addresses_reclaim(const struct agent_options *o, struct store *s, const struct node *self,
		      const struct store_kv *claims, size_t n_claims);

#endif
