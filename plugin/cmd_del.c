#include "lib/log.h"
#include "plugin/cmd.h"
#include "plugin/ipam_exec.h"
#include "plugin/pod_veth.h"

/* Idempotent (SPEC "DEL"): a gone netns, a gone veth and released addresses all succeed. The
 * veth is found by its derived name, so DEL works even when the netns has vanished. */
int cmd_del(const struct cni_env *env, const struct netconf *c, struct cni_error *err)
{
	struct pod_veth w;
	int ret;

	if (!(ret = pod_veth_open(&w, env, c->veth_prefix, false, err)))
		ret = pod_veth_down(&w, err);
	pod_veth_close(&w);
	if (ret)
		return ret;
	if ((ret = ipam_exec(env, CNI_CMD_DEL, c->ipam_type, c->text, NULL, err)))
		return ret;
	log_info("%s/%s: DEL %s", env->container_id, env->ifname, w.host_veth);
	return 0;
}
