#include "plugin/cmd.h"
#include "plugin/node_iface.h"
#include "plugin/ipam_exec.h"
#include "plugin/pod_veth.h"

int cmd_check(const struct cni_env *env, const struct netconf *c, struct cni_error *err)
{
	struct pod_veth w;
	int ret;

	if (!cni_version_has_check(c->version))
		return cni_fail(err, CNI_ERR_INCOMPATIBLE_VERSION, "CHECK needs cniVersion 0.4.0 or later, config has %s",
				cni_version_str(c->version));
	if (!c->has_prev)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "CHECK needs \"prevResult\" (the result of ADD)");
	if (!node_iface_mtu(c->iface))
		return cni_fail(err, CNI_ERR_NODE_INTERFACE,
				"node interface %s does not exist: pods reach only this node until podwired creates it",
				c->iface);
	if ((ret = ipam_exec(env, CNI_CMD_CHECK, c->ipam_type, c->text, NULL, err)))
		return ret;
	if (!(ret = pod_veth_open(&w, env, c->veth_prefix, false, err)))
		ret = pod_veth_check(&w, &c->prev, err);
	pod_veth_close(&w);
	return ret;
}
