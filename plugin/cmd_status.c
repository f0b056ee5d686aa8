#include "plugin/cmd.h"
#include "plugin/node_iface.h"
#include "plugin/ipam_exec.h"

/* CNI 1.1.0 STATUS: 50 ("cannot service ADD") is for an unusable node; a missing WireGuard
 * interface means new pods would have no cross-node connectivity. */
int cmd_status(const struct cni_env *env, const struct netconf *c, struct cni_error *err)
{
	int ret;

	if (!cni_version_has_status_gc(c->version))
		return cni_fail(err, CNI_ERR_INCOMPATIBLE_VERSION, "STATUS needs cniVersion 1.1.0, config has %s",
				cni_version_str(c->version));
	if ((ret = netconf_refuse_masquerade(c, err)))
		return ret;
	if (!node_iface_mtu(c->iface))
		return cni_fail(err, CNI_ERR_NOT_AVAILABLE,
				"node interface %s does not exist (is podwired running?)", c->iface);
	/* SPEC: a plugin that delegates must ask its delegate too. */
	return ipam_exec(env, CNI_CMD_STATUS, c->ipam_type, c->text, NULL, err);
}
