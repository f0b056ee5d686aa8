/* kube_node.h — a podwire node record as annotations on a Kubernetes Node object.
 *
 * What podwired publishes (all under "podwire.io/", values are single lines):
 *   public-key            base64 WireGuard public key
 *   endpoint              "host:port" this node is reached at (absent: none)
 *   tunnel-ips            "10.99.0.1[, fd99::1]"
 *   pod-cidrs             the pod CIDRs this node uses ("10.244.1.0/24[, ...]")
 *   observed              "KEY ENDPOINT, KEY ENDPOINT": where this node sees other nodes
 *                         (the NAT signalling of node records, node.h)
 *   mtu, persistent-keepalive, labels
 *   claims                address blocks this node holds ("10.99.0.1_32, 10.244.1.0_24"),
 *                         the store's "alloc/" keys (cidr.h)
 *   cluster-pools         the cluster's address pools (cluster.h), on the node that wrote
 *                         them first
 * Node.spec.podCIDRs, when set, wins over the pod-cidrs annotation: it is what the cluster
 * assigned (kube-controller-manager --allocate-node-cidrs) and what kubelet expects. */
#ifndef PODWIRE_MESH_KUBE_NODE_H
#define PODWIRE_MESH_KUBE_NODE_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#define KUBE_ANN "podwire.io/"
#define KUBE_ANN_PUBLIC_KEY KUBE_ANN "public-key"
#define KUBE_ANN_CLAIMS KUBE_ANN "claims"
#define KUBE_ANN_POOLS KUBE_ANN "cluster-pools"

/* metadata.name, or NULL. */
const char *kube_node_name(const cJSON *node);
/* metadata.annotations[@name] as a string, or NULL. */
const char *kube_node_annotation(const cJSON *node, const char *name);
/* spec.podCIDRs (or the older spec.podCIDR) joined with ", " into @out; "" when none. */
void kube_node_pod_cidrs(const cJSON *node, char *out, size_t len);
/* Where this node is reached, as the Node says it: the first status.addresses entry of
 * @source ("InternalIP" or "ExternalIP") that is an IP address, either family (kubelet lists
 * the node's primary family first), or with @source "annotation=NAME" the value of that
 * annotation, an IP address or HOST:PORT. Into @out: "IP" or "HOST:PORT". 0; -ENOENT when the
 * Node has none; -EINVAL (reason in @why) when the annotation is not an address. */
int kube_node_address(const cJSON *node, const char *source, char *out, size_t len, char *why, size_t why_len);
/* The node record (node.h) for @node in *text (malloc'd). 1: done; 0: not a podwire node (no
 * public-key annotation); -EINVAL: its annotations are not valid, the reason in @why. */
int kube_node_record(const cJSON *node, char **text, char *why, size_t why_len);
/* The annotations a merge patch needs so that @node carries the record @text: an object
 * with each podwire.io/ record annotation (null to remove one), or NULL when they are all
 * equal already. -EINVAL when @text is not a valid record. */
int kube_node_annotations_for(const cJSON *node, const char *text, cJSON **patch);
/* The record's annotations, all null: what removing the record patches. */
cJSON *kube_node_annotations_removal(void);
/* A digest of what podwire reads from @node (its podwire.io/ annotations and pod CIDRs):
 * the watch wakes the daemon only when it changes, not for each kubelet status update. */
uint64_t kube_node_fingerprint(const cJSON *node);

#endif
