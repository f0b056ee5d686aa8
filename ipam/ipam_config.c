#include "ipam/ipam_config.h"

#include <stdlib.h>
#include <string.h>

static int parse_ranges(const cJSON *ipam, struct ipam_config *c, struct cni_error *err)
{
	const cJSON *ranges = cJSON_GetObjectItemCaseSensitive(ipam, "ranges");
	const cJSON *subnet = cJSON_GetObjectItemCaseSensitive(ipam, "subnet");
	const cJSON *item;
	char what[64];
	int ret;

	if (ranges && subnet)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "ipam: give either \"ranges\" or \"subnet\", not both");
	if (subnet) {
		/* host-local's short form: the ipam object itself is the one range. */
		cJSON *one = cJSON_CreateArray();

		cJSON_AddItemReferenceToArray(one, (cJSON *)ipam);
		ret = ipam_range_set_parse(one, &c->sets[0], "ipam", err);
		cJSON_Delete(one);
		c->n_sets = ret ? 0 : 1;
		return ret;
	}
	if (!ranges)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "ipam: missing \"ranges\" (or \"subnet\")");
	if (!cJSON_IsArray(ranges) || cJSON_GetArraySize(ranges) == 0)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "ipam: \"ranges\" must be a non-empty list of range lists");
	if (cJSON_GetArraySize(ranges) > IPAM_MAX_SETS)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "ipam: more than %d range sets", IPAM_MAX_SETS);
	cJSON_ArrayForEach(item, ranges) {
		snprintf(what, sizeof(what), "ipam.ranges[%u]", c->n_sets);
		if ((ret = ipam_range_set_parse(item, &c->sets[c->n_sets], what, err)))
			return ret;
		c->n_sets++;
	}
	for (unsigned int i = 0; i < c->n_sets; i++)
		for (unsigned int j = 0; j < i; j++)
			if (ip_prefix_overlaps(&c->sets[i].ranges[0].subnet, &c->sets[j].ranges[0].subnet))
				return cni_fail(err, CNI_ERR_INVALID_CONFIG,
						"ipam.ranges[%u] overlaps ipam.ranges[%u]", i, j);
	return 0;
}

static int parse_routes(const cJSON *ipam, struct ipam_config *c, struct cni_error *err)
{
	const cJSON *routes = cJSON_GetObjectItemCaseSensitive(ipam, "routes"), *item;
	char what[64];
	int ret;

	if (!routes)
		return 0;
	if (!cJSON_IsArray(routes))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "ipam: \"routes\" must be a list");
	if (cJSON_GetArraySize(routes) > CNI_MAX_ROUTES)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "ipam: more than %d routes", CNI_MAX_ROUTES);
	cJSON_ArrayForEach(item, routes) {
		snprintf(what, sizeof(what), "ipam.routes[%u]", c->n_routes);
		if ((ret = cni_route_parse(item, &c->routes[c->n_routes], what, CNI_ERR_INVALID_CONFIG, err)))
			return ret;
		c->n_routes++;
	}
	return 0;
}

static int parse_valid_attachments(const cJSON *root, struct ipam_config *c, struct cni_error *err)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "cni.dev/valid-attachments"), *item;

	if (!list)
		return 0;
	if (!cJSON_IsArray(list))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "\"cni.dev/valid-attachments\" must be a list");
	c->valid = calloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(*c->valid));
	if (!c->valid)
		return cni_fail(err, CNI_ERR_IO, "out of memory");
	cJSON_ArrayForEach(item, list) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "containerID");
		const cJSON *ifname = cJSON_GetObjectItemCaseSensitive(item, "ifname");

		if (!cJSON_IsString(id) || !cJSON_IsString(ifname))
			return cni_fail(err, CNI_ERR_INVALID_CONFIG,
					"\"cni.dev/valid-attachments\"[%u]: needs string \"containerID\" and \"ifname\"",
					c->n_valid);
		c->valid[c->n_valid].container_id = id->valuestring;
		c->valid[c->n_valid].ifname = ifname->valuestring;
		c->n_valid++;
	}
	return 0;
}

int ipam_config_parse(const char *text, struct ipam_config *c, struct cni_error *err)
{
	const cJSON *ipam, *dir, *timeout;
	int ret;

	memset(c, 0, sizeof(*c));
	c->version = CNI_VERSION_LATEST;
	if ((ret = cni_netconf_parse_header(text, &c->root, &c->version, c->name, sizeof(c->name), err)))
		return ret;
	ipam = cJSON_GetObjectItemCaseSensitive(c->root, "ipam");
	if (!cJSON_IsObject(ipam))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "network config: \"ipam\" must be an object");
	dir = cJSON_GetObjectItemCaseSensitive(ipam, "dataDir");
	if (dir && (!cJSON_IsString(dir) || dir->valuestring[0] != '/'))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "ipam: \"dataDir\" must be an absolute path string");
	snprintf(c->data_dir, sizeof(c->data_dir), "%s", dir ? dir->valuestring : IPAM_DEFAULT_DATA_DIR);
	timeout = cJSON_GetObjectItemCaseSensitive(ipam, "lockTimeout");
	if (timeout && (!cJSON_IsNumber(timeout) || timeout->valuedouble < 0 || timeout->valuedouble > 3600 ||
			timeout->valuedouble != (double)timeout->valueint))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "ipam: \"lockTimeout\" must be whole seconds 0-3600");
	c->lock_timeout = timeout ? (unsigned int)timeout->valueint : IPAM_DEFAULT_LOCK_TIMEOUT;
	if ((ret = parse_ranges(ipam, c, err)) || (ret = parse_routes(ipam, c, err)) ||
	    (ret = parse_valid_attachments(c->root, c, err)))
		return ret;
	return 0;
}

void ipam_config_free(struct ipam_config *c)
{
	free(c->valid);
	c->valid = NULL;
	cJSON_Delete(c->root);
	c->root = NULL;
}
