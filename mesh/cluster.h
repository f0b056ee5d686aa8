/* cluster.h — the cluster's address pools, kept in the store under "cluster/pools".
 *
 * The first podwired to start on a store writes the pools it was given (pod CIDR pool and
 * block size, tunnel pool, and their IPv6 twins); every later podwired checks that it was
 * given the same ones, and `podwirectl peer add` takes its client addresses from them. So
 * the daemons and the CLI cannot disagree about where tunnel addresses come from: a node or
 * client outside the pools would be skipped by every other node. The record is text, one
 * "Key = value" line per pool, like the node records. */
#ifndef PODWIRE_MESH_CLUSTER_H
#define PODWIRE_MESH_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh/store.h"
#include "lib/ipaddr.h"

#define CLUSTER_POOLS_KEY "cluster/pools"

struct cluster_pools {
	struct ip_prefix cluster_cidr;	/* IPv4 pod CIDR pool */
	uint8_t block_len;		/* its block length */
	struct ip_prefix tunnel_cidr;	/* IPv4 tunnel address pool */
	bool has_cluster_cidr6, has_tunnel_cidr6;
	struct ip_prefix cluster_cidr6;
	uint8_t block_len6;
	struct ip_prefix tunnel_cidr6;
};

/* The record text (malloc'd). */
int cluster_pools_encode(const struct cluster_pools *p, char **out);
/* Parse a record; -EINVAL with the line and reason in @err. */
int cluster_pools_decode(struct cluster_pools *p, const char *text, char *err, size_t err_len);
bool cluster_pools_equal(const struct cluster_pools *a, const struct cluster_pools *b);
/* One line for messages: "cluster 10.244.0.0/16 (/24 blocks), tunnel 10.99.0.0/16[, ...]". */
void cluster_pools_describe(const struct cluster_pools *p, char *buf, size_t len);
/* Write @mine if the store has no pools yet. 0 when the store's pools are @mine (written now
 * or before); -ENOTUNIQ when they differ (then *stored holds them); -EBADMSG when the
 * stored record does not parse (reason in @err); other -errno from the store. */
int cluster_pools_publish(struct store *s, const struct cluster_pools *mine, struct cluster_pools *stored,
			  char *err, size_t err_len);
/* podwired's start: cluster_pools_publish(), logging a refusal with both sets of pools named.
 * -ENOTUNIQ and -EBADMSG are for good; any other error is the store being away (retry). */
int cluster_pools_check(struct store *s, const struct cluster_pools *mine);
/* Read the store's pools: -ENOENT when no podwired has written them yet; -EBADMSG (reason in
 * @err) when they do not parse, or when the store cannot tell one value (Kubernetes Nodes
 * tied between differing pools). */
int cluster_pools_read(struct store *s, struct cluster_pools *p, char *err, size_t err_len);

/* The pools as the lists a mesh policy takes (mesh.h): @cluster and @tunnel get one or two
 * prefixes each (IPv4, and IPv6 when the pools have it). */
void cluster_pools_ranges(const struct cluster_pools *p, struct ip_prefix cluster[2], size_t *n_cluster,
			  struct ip_prefix tunnel[2], size_t *n_tunnel);

/* Gateway ranges: prefixes outside the pools that a node's record may carry as pod CIDRs
 * (a gateway announcing a LAN), given by hand as "CIDR[,CIDR...]". */
#define CLUSTER_GATEWAY_RANGES_MAX 8
/* 0, or -EINVAL with the entry and the reason in @err. */
int cluster_gateway_ranges_parse(const char *list, struct ip_prefix *out, size_t *n, char *err, size_t err_len);

#endif
