#include "lib/log.h"
#include "plugin/cmd.h"
#include "plugin/ipam_exec.h"
#include "plugin/masquerade.h"
#include "plugin/pod_veth.h"

/* Idempotent (SPEC "DEL"): a gone netns, a gone veth and released addresses all succeed. The
 * veth is found by its derived name, so DEL works even when the netns has vanished. */
int cmd_del(const struct cni_env *env, const struct netconf *c, struct cni_error *err)
{
	struct ip_addr addrs[2 * CNI_MAX_IPS];
	unsigned int n = 0;
	struct pod_veth w;
	int ret;

	if (!(ret = pod_veth_open(&w, env, c->veth_prefix, false, err))) {
		/* The masquerade set is keyed by address: learn them while the veth still routes them. */
		if (c->masquerade)
			pod_veth_addresses(&w, addrs, CNI_MAX_IPS, &n);
		ret = pod_veth_down(&w, err);
	}
	pod_veth_close(&w);
	if (ret)
		return ret;
	if (c->masquerade) {
		for (unsigned int i = 0; i < c->prev.n_ips; i++)
			addrs[n++] = c->prev.ips[i].address.addr;
		masquerade_del(c->name, addrs, n, err);
	}
	if ((ret = ipam_exec(env, CNI_CMD_DEL, c->ipam_type, c->text, NULL, err)))
		return ret;
	log_info("%s/%s: DEL %s", env->container_id, env->ifname, w.host_veth);
	return 0;
}
