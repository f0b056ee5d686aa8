/* addresses.c — claiming this node's tunnel addresses and pod CIDRs (see addresses.h). */
#include "daemon/addresses.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "daemon/cniconf.h"
#include "lib/log.h"
#include "mesh/cidr.h"
#include "mesh/cluster.h"

/* The pod CIDRs the cluster assigned this node (Node.spec.podCIDRs), when the store knows
 * them: they win over allocation, as kubelet and kube-proxy use them too. Families without
 * a pool here (IPv6 without --cluster-cidr6) are left out. 1: taken; 0: none. */
static int assigned_pod_cidrs(const struct agent_options *o, struct store *s, struct node *self)
{
	char list[512], *save = NULL;
	size_t n = 0;
	int ret;

	if (!s->ops->assigned_pod_cidrs)
		return 0;
	ret = s->ops->assigned_pod_cidrs(s, o->name, list, sizeof(list));
	if (ret)
		return ret;
	for (char *t = strtok_r(list, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		const struct ip_prefix *pool = NULL;
		struct ip_prefix p, masked;

		if (ip_prefix_parse(&p, t) || !strchr(t, '/')) {
			log_err("Node %s: spec.podCIDRs entry '%s' is not a CIDR prefix", o->name, t);
			return -EINVAL;
		}
		masked = p;
		ip_prefix_mask(&masked);
		if (p.addr.family == AF_INET)
			pool = &o->cluster_cidr;
		else if (o->has_cluster_cidr6)
			pool = &o->cluster_cidr6;
		if (!pool) {
			/* A dual-stack cluster: without the IPv6 pool here, every other node skips a
			 * record carrying this block, so it is left out, and said loudly. */
			log_warn("Node %s: spec.podCIDRs entry %s left out: no --cluster-cidr6 (a dual-stack or IPv6 "
				 "cluster: set it, in the DaemonSet the ConfigMap's cluster-cidr6, to "
				 "kube-controller-manager's IPv6 --cluster-cidr)", o->name, t);
			continue;
		}
		if (!ip_addr_equal(&p.addr, &masked.addr) || !ip_prefix_contains(pool, &p.addr) || p.cidr < pool->cidr) {
			char pc[IP_PREFIX_STRLEN];

			ip_prefix_format(pool, pc, sizeof(pc));
			log_err("Node %s: spec.podCIDRs entry %s is not a block of the cluster CIDR %s (--cluster-cidr must "
				"be kube-controller-manager's --cluster-cidr)", o->name, t, pc);
			return -EDOM;
		}
		if (n < NODE_MAX_POD_CIDRS)
			self->pod_cidrs[n++] = p;
	}
	self->n_pod_cidrs = n;
	return n ? 1 : 0;
}

struct cluster_pools addresses_pools(const struct agent_options *o)
{
	return (struct cluster_pools) {
		.cluster_cidr = o->cluster_cidr, .block_len = o->block_len, .tunnel_cidr = o->tunnel_cidr,
		.has_cluster_cidr6 = o->has_cluster_cidr6, .cluster_cidr6 = o->cluster_cidr6, .block_len6 = o->block_len6,
		.has_tunnel_cidr6 = o->has_tunnel_cidr6, .tunnel_cidr6 = o->tunnel_cidr6,
	};
}

int addresses_claim(const struct agent_options *o, struct store *s, struct node *self)
{
	const struct cluster_pools mine = addresses_pools(o);
	struct ip_prefix got;
	int ret;

	/* The first node publishes the pools; the others must have the same (cluster.h). */
	ret = cluster_pools_check(s, &mine);
	if (ret)
		return ret;
	if (o->has_tunnel_ip) {
		got.addr = o->tunnel_ip;
		got.cidr = (uint8_t)ip_addr_bits(&o->tunnel_ip);
		ret = cidr_claim(s, &got, o->name);
		if (ret)
			return ret;
		self->tunnel_ips[0] = o->tunnel_ip;
	} else {
		/* Skip block 0: the tunnel network's own address. */
		ret = cidr_allocate(s, &o->tunnel_cidr, (uint8_t)ip_addr_bits(&o->tunnel_cidr.addr), 1, o->name, &got);
		if (ret)
			return ret;
		self->tunnel_ips[0] = got.addr;
	}
	self->n_tunnel_ips = 1;
	if (o->has_tunnel_cidr6) {
		ret = cidr_allocate(s, &o->tunnel_cidr6, 128, 1, o->name, &got);
		if (ret)
			return ret;
		self->tunnel_ips[self->n_tunnel_ips++] = got.addr;
	}
	ret = o->has_pod_cidr ? 0 : assigned_pod_cidrs(o, s, self);
	if (ret < 0)
		return ret;
	if (ret > 0)
		return 0; /* the cluster's, in self->pod_cidrs */
	if (!o->has_pod_cidr && !o->pod_cidr_allocation)
		return -EAGAIN;
	if (o->has_pod_cidr) {
		ret = cidr_claim(s, &o->pod_cidr, o->name);
		if (ret)
			return ret;
		self->pod_cidrs[0] = o->pod_cidr;
	} else {
		ret = cidr_allocate(s, &o->cluster_cidr, o->block_len, 0, o->name, &got);
		if (ret)
			return ret;
		self->pod_cidrs[0] = got;
	}
	self->n_pod_cidrs = 1;
	if (o->has_cluster_cidr6) {
		ret = cidr_allocate(s, &o->cluster_cidr6, o->block_len6, 0, o->name, &got);
		if (ret)
			return ret;
		self->pod_cidrs[self->n_pod_cidrs++] = got;
	}
	return 0;
}

static bool same_prefixes(const struct ip_prefix *x, size_t n_x, const struct ip_prefix *y, size_t n_y)
{
	if (n_x != n_y)
		return false;
	for (size_t i = 0; i < n_x; i++)
		if (!ip_prefix_equal(&x[i], &y[i]))
			return false;
	return true;
}

int addresses_follow_assigned(const struct agent_options *o, struct store *s, struct node *self,
			      const struct node *stored)
{
	struct ip_prefix old[NODE_MAX_POD_CIDRS];
	size_t n_old = self->n_pod_cidrs;
	char was[IP_PREFIX_STRLEN], now[IP_PREFIX_STRLEN];
	int ret;

	if (o->has_pod_cidr || !stored->name[0] || !stored->n_pod_cidrs ||
	    same_prefixes(stored->pod_cidrs, stored->n_pod_cidrs, self->pod_cidrs, self->n_pod_cidrs))
		return 0;
	memcpy(old, self->pod_cidrs, sizeof(old));
	ret = assigned_pod_cidrs(o, s, self);
	if (ret <= 0 || same_prefixes(old, n_old, self->pod_cidrs, self->n_pod_cidrs)) {
		memcpy(self->pod_cidrs, old, sizeof(old));
		self->n_pod_cidrs = n_old;
		/* No assignment: another writer changed our record; write it again. */
		return ret < 0 ? ret : !ret;
	}
	ip_prefix_format(&old[0], was, sizeof(was));
	ip_prefix_format(&self->pod_cidrs[0], now, sizeof(now));
	log_warn("Node %s: spec.podCIDRs %s replaces the pod CIDR %s this node allocated; pods started before keep "
		 "their addresses and need a restart", o->name, now, was);
	if (o->cni_conf_dir) {
		ret = cniconf_update(o->cni_conf_dir, o->cni_conf_template, o->ifname, self->mtu, self->pod_cidrs,
				     self->n_pod_cidrs);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < n_old; i++) {
		bool kept = false;

		for (size_t j = 0; j < self->n_pod_cidrs; j++)
			kept |= ip_prefix_equal(&old[i], &self->pod_cidrs[j]);
		if (!kept && (ret = cidr_release(s, &old[i], o->name))) {
			ip_prefix_format(&old[i], was, sizeof(was));
			log_warn("pod CIDR %s: cannot release this node's claim: %s", was, store_strerror(s, ret));
		}
	}
	return 1; /* written again in full */
}

static bool claimed_by(const struct store_kv *claims, size_t n, const char *key, const char *owner)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(claims[i].key, key) && !strcmp(claims[i].value, owner))
			return true;
	return false;
}

int addresses_reclaim(const struct agent_options *o, struct store *s, const struct node *self,
		      const struct store_kv *claims, size_t n_claims)
{
	struct ip_prefix blocks[NODE_MAX_TUNNEL_IPS + NODE_MAX_POD_CIDRS];
	size_t n = 0;
	int done = 0;

	for (size_t i = 0; i < self->n_tunnel_ips; i++)
		blocks[n++] = (struct ip_prefix){ self->tunnel_ips[i], (uint8_t)ip_addr_bits(&self->tunnel_ips[i]) };
	for (size_t i = 0; i < self->n_pod_cidrs; i++)
		blocks[n++] = self->pod_cidrs[i];
	for (size_t i = 0; i < n; i++) {
		char key[STORE_KEY_MAX], pc[IP_PREFIX_STRLEN];
		int ret = cidr_block_key(&blocks[i], key, sizeof(key));

		if (ret)
			return ret;
		if (claimed_by(claims, n_claims, key, o->name))
			continue;
		ip_prefix_format(&blocks[i], pc, sizeof(pc));
		ret = cidr_claim(s, &blocks[i], o->name);
		if (ret == -EADDRINUSE) {
			log_err("%s: this node's block is gone from the store and another node claims it now; peers "
				"skip this node until that claim goes", pc);
			continue;
		}
		if (ret)
			return ret;
		log_warn("%s: this node's claim was gone from the store (Node deleted and registered again?): "
			 "claimed again", pc);
		done++;
	}
	return done;
}
