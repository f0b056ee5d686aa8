/* agent.h — podwired's life: bring the node up, publish it, and keep the WireGuard
 * interface and routes equal to the store, serve metrics, and publish what it observes of
 * its peers' endpoints (the signalling half of NAT-to-NAT traversal).
 *
 * Startup: load (or create) the private key, claim a tunnel address and a pod CIDR through
 * the store, create the interface if it is not there (kernel or userspace, link_create()),
 * and publish this node's record. Then an event loop waits on the store's watch, signals
 * and a periodic resync timer, and runs one reconcile per wake-up (store changes are
 * coalesced: 200 ms after the first, at most one a second). SIGTERM/SIGINT leave the
 * interface and routes in place (pods keep working while the daemon restarts); SIGHUP
 * re-reads the private key (rotation). If the store is unreachable, the last applied mesh
 * stays, the store is retried with exponential backoff, and each change of reachability is
 * logged once. */
#ifndef PODWIRE_DAEMON_AGENT_H
#define PODWIRE_DAEMON_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/nodekey.h"
#include "datapath/link.h"
#include "lib/ipaddr.h"
#include "mesh/cluster.h"

struct agent_options {
	const char *name;		/* node name (default: hostname) */
	const char *ifname;		/* WireGuard interface (default PODWIRE_NODE_INTERFACE) */
	const char *store_backend;	/* "file", "etcd" or "kubernetes" */
	const char *store_location;	/* directory, etcd URLs, or "node=NAME[;kubeconfig=PATH]" */
	/* Without a pod CIDR from the store (Node.spec.podCIDRs), allocate one from
	 * cluster_cidr; off: stay not ready, write no CNI config, until the cluster gives one. */
	bool pod_cidr_allocation;
	int lease_ttl;			/* etcd lease for the own record, seconds */
	struct ip_prefix cluster_cidr;	/* pod CIDR blocks come from here */
	uint8_t block_len;		/* pod CIDR block length */
	bool has_pod_cidr;
	struct ip_prefix pod_cidr;	/* fixed instead of allocated */
	struct ip_prefix tunnel_cidr;	/* tunnel addresses come from here */
	bool has_tunnel_ip;
	struct ip_addr tunnel_ip;	/* fixed instead of allocated */
	/* Dual stack: IPv6 pools, used when set; one tunnel carries both families. */
	bool has_cluster_cidr6, has_tunnel_cidr6;
	struct ip_prefix cluster_cidr6;
	uint8_t block_len6;
	struct ip_prefix tunnel_cidr6;
	/* Ranges outside the pools that records may carry as pod CIDRs (gateways). */
	struct ip_prefix gateway_ranges[CLUSTER_GATEWAY_RANGES_MAX];
	size_t n_gateway_ranges;
	const char *endpoint;		/* advertised "host:port"; NULL: from the store, else detected */
	/* Where the store's own record of this node says its address is (the Kubernetes store:
	 * "InternalIP", "ExternalIP" or "annotation=NAME" of the Node). */
	const char *endpoint_from;
	uint16_t listen_port;
	uint32_t mtu;			/* 0: from the underlay (iface_tunnel_mtu) */
	uint16_t persistent_keepalive;	/* towards every peer (NAT-ed nodes need it) */
	const char *labels;
	enum datapath_choice datapath;
	/* The interface is made and kept by another process (podwired --datapath-only, the
	 * DaemonSet's datapath container): wait for it, never create it. */
	bool datapath_external;
	const char *metrics_listen;	/* NULL or "off": no metrics */
	struct nodekey_source key;
	unsigned int resync_seconds;	/* periodic full reconcile, also re-resolves DNS endpoints */
	unsigned int heartbeat_seconds;	/* republish the record's Heartbeat / keep the lease */
	const char *cni_conf_dir;	/* write the node's CNI conflist here (NULL: don't) */
	const char *cni_conf_template;	/* its template (NULL: the built-in one) */
	bool masquerade;		/* NAT the pods towards outside the cluster (daemon/masquerade.h) */
};

void agent_options_default(struct agent_options *o);
/* Run until SIGTERM/SIGINT. Returns 0 or -errno (startup failures). */
int agent_run(const struct agent_options *o);
/* --cleanup: delete the interface (its routes go with it), the CNI conflist written with
 * --cni-conf-dir, the masquerade table, this node's record and its address claims. */
int agent_cleanup(const struct agent_options *o);

#endif
