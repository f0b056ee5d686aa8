/* cniconf.h — the node's CNI network configuration, written by podwired (--cni-conf-dir).
 *
 * Every node needs a conflist whose IPAM ranges are the pod CIDRs this node claimed:
 * a shared, fixed range would hand out the same pod addresses on every node. As flannel and
 * Kilo do, podwired writes it once the pod CIDRs are known: a template (the shipped
 * manifests/10-podwire.conflist unless --cni-conf-template names another) with the "podwire"
 * plugin's "interface" set to the node's WireGuard interface, its "mtu" to the interface's
 * (@mtu; 0 keeps the template's), and its "ipam.ranges" set to the
 * node's pod CIDRs, one range set per address family (routes of a family without a pod CIDR
 * are dropped). It is written atomically (temporary
 * file + rename), only when its content changes, so the runtime never reads half a file. */
#ifndef PODWIRE_DAEMON_CNICONF_H
#define PODWIRE_DAEMON_CNICONF_H

#include <stddef.h>

#include "lib/ipaddr.h"

#define CNICONF_DEFAULT_NAME "10-podwire.conflist"

/* The conflist text for this node (malloc'd in *out). @template_text NULL: the built-in
 * template, identical to manifests/10-podwire.conflist. -EINVAL with the reason in @err when
 * the template is not JSON or has no plugin of type "podwire". */
int cniconf_render(const char *template_text, const char *ifname, unsigned int mtu, const struct ip_prefix *pod_cidrs,
		   size_t n,
		   char **out, char *err, size_t err_len);
/* The file name in --cni-conf-dir: the template's base name, or CNICONF_DEFAULT_NAME. */
void cniconf_file_name(const char *template_path, char *name, size_t len);
/* Render and write DIR/NAME if it differs; *changed says whether it was written. */
int cniconf_write(const char *dir, const char *template_path, const char *ifname, unsigned int mtu,
		  const struct ip_prefix *pod_cidrs, size_t n, int *changed, char *err, size_t err_len);
/* podwired's call: cniconf_write(), logging what happened. */
int cniconf_update(const char *dir, const char *template_path, const char *ifname, unsigned int mtu,
		   const struct ip_prefix *pod_cidrs, size_t n);
/* Remove DIR/NAME (--cleanup); 0 when it is not there. */
int cniconf_remove(const char *dir, const char *template_path);

#endif
