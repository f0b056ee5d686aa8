#include "plugin/cmd.h"
#include "plugin/ipam_exec.h"

/* CNI 1.1.0 GC: veths vanish with their pod's netns, so what can leak is IPAM reservations;
 * the IPAM plugin releases those not in "cni.dev/valid-attachments". */
int cmd_gc(const struct cni_env *env, const struct netconf *c, struct cni_error *err)
{
	if (!cni_version_has_status_gc(c->version))
		return cni_fail(err, CNI_ERR_INCOMPATIBLE_VERSION, "GC needs cniVersion 1.1.0, config has %s",
				cni_version_str(c->version));
	return ipam_exec(env, CNI_CMD_GC, c->ipam_type, c->text, NULL, err);
}
