#include <string.h>

#include "lib/log.h"
#include "plugin/cmd.h"
#include "plugin/node_iface.h"
#include "plugin/ipam_exec.h"
#include "plugin/pod_veth.h"

/* A chained ADD keeps what earlier plugins reported and appends ours (SPEC: "plugins SHOULD
 * echo the contents of the prevResult field"). */
static void merge_prev(const struct cni_result *prev, struct cni_result *res)
{
	struct cni_result ours = *res;
	unsigned int off = prev->n_ifaces;

	memcpy(res->ifaces, prev->ifaces, sizeof(prev->ifaces[0]) * prev->n_ifaces);
	res->n_ifaces = prev->n_ifaces;
	for (unsigned int i = 0; i < ours.n_ifaces && res->n_ifaces < CNI_MAX_IFACES; i++)
		res->ifaces[res->n_ifaces++] = ours.ifaces[i];
	memcpy(res->ips, prev->ips, sizeof(prev->ips[0]) * prev->n_ips);
	res->n_ips = prev->n_ips;
	for (unsigned int i = 0; i < ours.n_ips && res->n_ips < CNI_MAX_IPS; i++) {
		res->ips[res->n_ips] = ours.ips[i];
		if (res->ips[res->n_ips].iface >= 0)
			res->ips[res->n_ips].iface += (int)off;
		res->n_ips++;
	}
	memcpy(res->routes, prev->routes, sizeof(prev->routes[0]) * prev->n_routes);
	res->n_routes = prev->n_routes;
	for (unsigned int i = 0; i < ours.n_routes && res->n_routes < CNI_MAX_ROUTES; i++)
		res->routes[res->n_routes++] = ours.routes[i];
}

int cmd_add(const struct cni_env *env, const struct netconf *c, struct cni_error *err)
{
	struct cni_result ipam, res;
	struct pod_veth w;
	struct cni_error ignored;
	unsigned int mtu;
	int ret;

	cni_result_init(&ipam);
	cni_result_init(&res);
	if ((ret = netconf_refuse_masquerade(c, err)))
		return ret;
	if ((ret = pod_veth_open(&w, env, c->veth_prefix, true, err)))
		goto out;
	/* A second ADD for a live attachment: IPAM would hand back the pod's own address, the
	 * veth could not be made, and the release below would free an address still in use. */
	if ((ret = pod_veth_taken(&w, err)))
		goto out;
	/* Pods get the tunnel's MTU so nothing they send has to be fragmented inside it. */
	mtu = node_iface_mtu(c->iface);
	if (!mtu) {
		log_info("%s: node interface %s not present, pod MTU %u from config", env->container_id, c->iface, c->mtu);
		mtu = c->mtu;
	}
	if ((ret = ipam_exec(env, CNI_CMD_ADD, c->ipam_type, c->text, &ipam, err)))
		goto out;
	if (ipam.n_ips == 0) {
		ret = cni_fail(err, CNI_ERR_INVALID_CONFIG, "ipam plugin %s returned no address", c->ipam_type);
		goto release;
	}
	if ((ret = pod_veth_up(&w, mtu, &ipam, &res, err)))
		goto release;
	if (c->has_prev)
		merge_prev(&c->prev, &res);
	res.dns = cJSON_Duplicate(c->dns ? c->dns : ipam.dns, 1);
	if (cni_result_print(&res, c->version)) {
		/* A runtime that got no result will not DEL what it does not know of. */
		ret = cni_fail(err, CNI_ERR_IO, "cannot write result to stdout");
		goto unwire;
	}
	log_info("%s/%s: ADD %s mtu %u, %u address(es)", env->container_id, env->ifname, w.host_veth, mtu, ipam.n_ips);
	goto out;
unwire:
	pod_veth_down(&w, &ignored);
release:
	/* Nothing half-created: give the addresses back. */
	if (ipam_exec(env, CNI_CMD_DEL, c->ipam_type, c->text, NULL, &ignored))
		log_err("%s/%s: cleanup after failed ADD: %s", env->container_id, env->ifname, ignored.msg);
out:
	pod_veth_close(&w);
	cni_result_free(&ipam);
	cni_result_free(&res);
	return ret;
}
