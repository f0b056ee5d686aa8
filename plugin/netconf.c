#include "plugin/netconf.h"

#include <ctype.h>
#include <string.h>

#include "lib/cni_env.h"
#include "lib/cni_netconf.h"

bool netconf_log_file(const char *text, char *out, size_t len)
{
	cJSON *root = cJSON_Parse(text);
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(root, "logFile");
	bool named = cJSON_IsString(f);

	snprintf(out, len, "%s", named ? f->valuestring : PODWIRE_DEFAULT_LOG);
	cJSON_Delete(root);
	return named;
}

static int opt_string(const cJSON *root, const char *key, const char **out, struct cni_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!cJSON_IsString(v))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "network config: \"%s\" must be a string", key);
	*out = v->valuestring;
	return 0;
}

static int parse_cluster_cidrs(const cJSON *root, struct netconf *c, struct cni_error *err)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "clusterCIDRs"), *item;

	if (!list)
		return 0;
	if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > NETCONF_MAX_CLUSTER_CIDRS)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "network config: \"clusterCIDRs\" must be a list of at most %d prefixes",
				NETCONF_MAX_CLUSTER_CIDRS);
	cJSON_ArrayForEach(item, list) {
		struct ip_prefix *p = &c->cluster[c->n_cluster];

		if (!cJSON_IsString(item) || ip_prefix_parse(p, item->valuestring) || !strchr(item->valuestring, '/'))
			return cni_fail(err, CNI_ERR_INVALID_CONFIG, "network config: clusterCIDRs[%u] is not address/prefix",
					c->n_cluster);
		ip_prefix_mask(p);
		c->n_cluster++;
	}
	return 0;
}

static int parse_podwire_fields(const cJSON *root, struct netconf *c, struct cni_error *err)
{
	const cJSON *mtu = cJSON_GetObjectItemCaseSensitive(root, "mtu");
	const cJSON *masq = cJSON_GetObjectItemCaseSensitive(root, "ipMasq");
	const char *iface, *log_file, *prefix;
	int ret;

	if ((ret = opt_string(root, "interface", &iface, err)) || (ret = opt_string(root, "logFile", &log_file, err)) ||
	    (ret = opt_string(root, "vethPrefix", &prefix, err)))
		return ret;
	if (iface && !cni_ifname_valid(iface))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "network config: interface \"%s\" is not a valid interface name",
				iface);
	snprintf(c->iface, sizeof(c->iface), "%s", iface ? iface : PODWIRE_DEFAULT_INTERFACE);
	/* Where logFile may point is judged when it is opened (main.c: ADD refuses, DEL goes on). */
	snprintf(c->log_file, sizeof(c->log_file), "%s", log_file ? log_file : PODWIRE_DEFAULT_LOG);
	if (prefix) {
		size_t len = strlen(prefix);
		bool ok = len >= 1 && len <= PODWIRE_VETH_PREFIX_MAX;

		for (size_t i = 0; ok && i < len; i++)
			ok = isalnum((unsigned char)prefix[i]) || prefix[i] == '-' || prefix[i] == '_';
		if (!ok)
			return cni_fail(err, CNI_ERR_INVALID_CONFIG,
					"network config: vethPrefix \"%s\" must be 1-%d letters, digits, '-' or '_'", prefix,
					PODWIRE_VETH_PREFIX_MAX);
	}
	snprintf(c->veth_prefix, sizeof(c->veth_prefix), "%s", prefix ? prefix : PODWIRE_DEFAULT_VETH_PREFIX);
	if (mtu) {
		/* IPv6 needs 1280 on every link (RFC 8200 §5); a smaller pod MTU would silently drop it. */
		if (!cJSON_IsNumber(mtu) || mtu->valuedouble < 1280 || mtu->valuedouble > 65535 ||
		    mtu->valuedouble != (double)mtu->valueint)
			return cni_fail(err, CNI_ERR_INVALID_CONFIG, "network config: \"mtu\" must be a whole number 1280-65535");
		c->mtu = (unsigned int)mtu->valueint;
	} else {
		c->mtu = PODWIRE_DEFAULT_MTU;
	}
	if (masq && !cJSON_IsBool(masq))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "network config: \"ipMasq\" must be true or false");
	c->masquerade = cJSON_IsTrue(masq);
	return parse_cluster_cidrs(root, c, err);
}

int netconf_parse(const char *text, struct netconf *c, struct cni_error *err)
{
	const cJSON *ipam, *type, *prev, *dns;
	int ret;

	memset(c, 0, sizeof(*c));
	c->version = CNI_VERSION_LATEST;
	c->text = text;
	if ((ret = cni_netconf_parse_header(text, &c->root, &c->version, c->name, sizeof(c->name), err)) ||
	    (ret = parse_podwire_fields(c->root, c, err)))
		return ret;
	ipam = cJSON_GetObjectItemCaseSensitive(c->root, "ipam");
	if (!cJSON_IsObject(ipam))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "network config: \"ipam\" must be an object with a \"type\"");
	type = cJSON_GetObjectItemCaseSensitive(ipam, "type");
	if (!cJSON_IsString(type) || !type->valuestring[0] || strchr(type->valuestring, '/') ||
	    strlen(type->valuestring) >= sizeof(c->ipam_type))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "network config: ipam.type must be a plugin name");
	snprintf(c->ipam_type, sizeof(c->ipam_type), "%s", type->valuestring);
	dns = cJSON_GetObjectItemCaseSensitive(c->root, "dns");
	if (dns && !cJSON_IsObject(dns))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "network config: \"dns\" must be an object");
	c->dns = dns;
	prev = cJSON_GetObjectItemCaseSensitive(c->root, "prevResult");
	if (prev) {
		if ((ret = cni_result_parse(prev, &c->prev, err))) {
			char msg[sizeof(err->msg)];

			snprintf(msg, sizeof(msg), "%s", err->msg);
			return cni_fail(err, CNI_ERR_DECODE, "prevResult: %.480s", msg);
		}
		c->has_prev = true;
	}
	return 0;
}

void netconf_free(struct netconf *c)
{
	cni_result_free(&c->prev);
	cJSON_Delete(c->root);
	c->root = NULL;
}

int netconf_refuse_masquerade(const struct netconf *c, struct cni_error *err)
{
	if (!c->masquerade)
		return 0;
	return cni_fail(err, CNI_ERR_INVALID_CONFIG,
			"network config %s: \"ipMasq\": true is not done by the plugin (it would need nftables on "
			"the host): podwired masquerades the node's pod CIDR (podwired --masquerade, on by default); "
			"remove \"ipMasq\" from the config", c->name);
}
