/* node.h — a node's record in the shared store, which is also a valid entry of the shared
 * peers list.
 *
 * The record is a valid wg(8) config fragment: one [Peer] section with PublicKey, Endpoint
 * and AllowedIPs, so `wg addconf IFACE record` or `cat STOREDIR/NAME.conf ... > peers.conf` consume it
 * as the tutorial's shared peers.conf. The podwire-only fields ride along as "# Key = value"
 * comment lines, which wg ignores. The private key is never part of a record. */
#ifndef PODWIRE_MESH_NODE_H
#define PODWIRE_MESH_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/ipaddr.h"
#include "lib/key.h"

#define NODE_NAME_MAX 64	/* with the NUL */
#define NODE_MAX_TUNNEL_IPS 2	/* one v4, one v6 */
#define NODE_MAX_POD_CIDRS 4
/* Keeps a record within the store's STORE_VALUE_MAX (store.h): NODE_RECORD_MAX is 64 KiB. */
#define NODE_MAX_OBSERVED 480
#define NODE_LABELS_MAX 256
#define NODE_ENDPOINT_MAX 128
/* A record larger than this is refused: hostile or corrupt (one line per observed peer). */
#define NODE_RECORD_MAX (NODE_MAX_OBSERVED * 128 + 4096)

/* What this node saw as the source of another node's authenticated packets (from the
 * device's peer endpoints): the NAT-ed address others should try (NAT-to-NAT traversal, the
 * store acting as signalling server). */
struct node_observed {
	uint8_t public_key[WG_KEY_LEN];
	char endpoint[NODE_ENDPOINT_MAX];
};

struct node {
	char name[NODE_NAME_MAX];
	uint8_t public_key[WG_KEY_LEN];
	char endpoint[NODE_ENDPOINT_MAX];	/* "host:port" the node sees itself at; "" if none */
	struct ip_addr tunnel_ips[NODE_MAX_TUNNEL_IPS];
	size_t n_tunnel_ips;
	struct ip_prefix pod_cidrs[NODE_MAX_POD_CIDRS];
	size_t n_pod_cidrs;
	uint32_t mtu;				/* 0: unknown */
	uint16_t persistent_keepalive;		/* 0: off */
	char labels[NODE_LABELS_MAX];		/* "k=v,k=v" */
	int64_t heartbeat;			/* unix seconds of the last publication */
	struct node_observed *observed;		/* owned, may be NULL */
	size_t n_observed;
};

/* Is @name usable as a node name (and store key / file name): ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$ */
bool node_name_valid(const char *name);

/* Write @n as a record into a malloc'd string (*out). Returns 0 or -errno. */
int node_encode(const struct node *n, char **out);
/* Parse and validate a record. On error returns -EINVAL and writes the reason into @err;
 * @n is then left empty (node_clear). The caller owns @n and must node_clear() it. */
int node_decode(struct node *n, const char *text, size_t len, char *err, size_t err_len);
/* Free what @n owns and zero it. */
void node_clear(struct node *n);
/* Deep copy. Returns 0 or -ENOMEM. */
int node_copy(struct node *dst, const struct node *src);
/* Add or update an observed endpoint. Returns 0, -ENOSPC or -ENOMEM. */
int node_set_observed(struct node *n, const uint8_t key[WG_KEY_LEN], const char *endpoint);

#endif
