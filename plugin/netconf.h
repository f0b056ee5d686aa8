/* netconf.h — the podwire plugin's network configuration (one entry of a conflist):
 *   "interface"  node WireGuard interface whose MTU pods inherit (default "wg-pods")
 *   "mtu"        pod MTU when that interface is absent (default 1420)
 *   "logFile"    where the plugin logs (default /var/log/podwire/cni.log; stdout is the result);
 *                only below /var/log (or $PODWIRE_CNI_LOG_DIR), else ADD fails: see log_file.h
 *   "vethPrefix" host-side veth name prefix (default "pw"), the rest is a hash of container+ifname
 *   "ipMasq"     false, or absent: the plugin does no NAT on the host. podwired masquerades the
 *                node's pod CIDR (its --masquerade, on by default), so the plugin needs neither
 *                nftables nor a library on the host; true is refused on ADD and STATUS
 *                (netconf_refuse_masquerade) and ignored on DEL, so old pods still go
 *   "clusterCIDRs" accepted (and checked) for configs written for ipMasq; unused
 *   "ipam"       delegated IPAM plugin config ({"type": "podwire-ipam" | "host-local", ...})
 *   "dns", "prevResult", "cni.dev/valid-attachments" as the CNI spec defines them. */
#ifndef PODWIRE_PLUGIN_NETCONF_H
#define PODWIRE_PLUGIN_NETCONF_H

#include <cJSON.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/cni_result.h"
#include "lib/cni_version.h"
#include "lib/defaults.h"

#define PODWIRE_DEFAULT_INTERFACE PODWIRE_NODE_INTERFACE
#define PODWIRE_DEFAULT_MTU 1420
#define PODWIRE_DEFAULT_LOG "/var/log/podwire/cni.log"
#define PODWIRE_DEFAULT_VETH_PREFIX "pw"
#define PODWIRE_VETH_PREFIX_MAX 7
#define NETCONF_MAX_CLUSTER_CIDRS 16

struct netconf {
	enum cni_version version;
	char name[256];
	char iface[16];
	unsigned int mtu;		/* configured fallback */
	char log_file[PATH_MAX];
	char veth_prefix[PODWIRE_VETH_PREFIX_MAX + 1];
	char ipam_type[64];
	bool masquerade;		/* "ipMasq": true was asked for (and is refused) */
	struct ip_prefix cluster[NETCONF_MAX_CLUSTER_CIDRS];
	unsigned int n_cluster;
	bool has_prev;
	struct cni_result prev;
	const cJSON *dns;		/* points into root */
	const char *text;		/* raw stdin, passed unchanged to the IPAM plugin */
	cJSON *root;
};

/* Only "logFile" is read (as written, or the default), so errors in the rest can still be
 * logged where the user looks; log_file_open() judges it. True when the config named it. */
bool netconf_log_file(const char *text, char *out, size_t len);
/* Parse stdin's JSON: code 6 malformed, 1 unknown cniVersion, 2 unsupported field, 7 the rest. */
int netconf_parse(const char *text, struct netconf *c, struct cni_error *err);
void netconf_free(struct netconf *c);

/* ADD and STATUS with "ipMasq": true: a CNI_ERR_INVALID_CONFIG error that points at podwired's
 * --masquerade (the NAT the plugin used to set up through libnftables, which hosts lack). */
int netconf_refuse_masquerade(const struct netconf *c, struct cni_error *err);

#endif
