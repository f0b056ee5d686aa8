/* ipam.h — podwire-ipam's verbs over the allocator (which address) and the disk store (how it
 * is kept and locked). Each returns 0 or -code after filling @err (lib/cni_error.h). */
#ifndef PODWIRE_IPAM_IPAM_H
#define PODWIRE_IPAM_IPAM_H

#include "ipam/ipam_config.h"
#include "lib/cni_env.h"
#include "lib/cni_result.h"

/* One address per range set for CNI_CONTAINERID/CNI_IFNAME; the same ones again if that
 * attachment already holds addresses. */
int ipam_add(const struct ipam_config *c, const struct cni_env *env, struct cni_result *res, struct cni_error *err);
/* Release the attachment's addresses; succeeds when there are none. */
int ipam_del(const struct ipam_config *c, const struct cni_env *env, struct cni_error *err);
/* Does the attachment still hold an address in every range set? */
int ipam_check(const struct ipam_config *c, const struct cni_env *env, struct cni_error *err);
/* Release every reservation of the network not in "cni.dev/valid-attachments". */
int ipam_gc(const struct ipam_config *c, struct cni_error *err);
/* Code 50 when the store is unusable or a range set has no free address left. */
int ipam_status(const struct ipam_config *c, struct cni_error *err);

#endif
