#include "lib/cni_result.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void cni_result_init(struct cni_result *r)
{
	memset(r, 0, sizeof(*r));
}

void cni_result_free(struct cni_result *r)
{
	cJSON_Delete(r->dns);
	r->dns = NULL;
}

static int get_string(const cJSON *o, const char *key, const char **out, bool required,
		      const char *what, int code, struct cni_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*out = NULL;
	if (!v) {
		if (required)
			return cni_fail(err, code, "%s: missing \"%s\"", what, key);
		return 0;
	}
	if (!cJSON_IsString(v))
		return cni_fail(err, code, "%s: \"%s\" must be a string", what, key);
	*out = v->valuestring;
	return 0;
}

static int get_uint(const cJSON *o, const char *key, unsigned int *out, const char *what, int code,
		    struct cni_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v)
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 4294967295.0)
		return cni_fail(err, code, "%s: \"%s\" must be a non-negative number", what, key);
	*out = (unsigned int)v->valuedouble;
	return 0;
}

int cni_route_parse(const cJSON *json, struct cni_route *rt, const char *what, int code, struct cni_error *err)
{
	const char *dst, *gw;
	const cJSON *scope;
	int ret;

	memset(rt, 0, sizeof(*rt));
	rt->scope = -1;
	if (!cJSON_IsObject(json))
		return cni_fail(err, code, "%s: must be an object", what);
	if ((ret = get_string(json, "dst", &dst, true, what, code, err)) ||
	    (ret = get_string(json, "gw", &gw, false, what, code, err)))
		return ret;
	if (ip_prefix_parse(&rt->dst, dst) || !strchr(dst, '/'))
		return cni_fail(err, code, "%s: dst \"%s\" is not an address/prefix", what, dst);
	ip_prefix_mask(&rt->dst);
	if (gw) {
		if (ip_addr_parse(&rt->gw, gw) || rt->gw.family != rt->dst.addr.family)
			return cni_fail(err, code, "%s: gw \"%s\" is not an address of dst's family", what, gw);
		rt->has_gw = true;
	}
	if ((ret = get_uint(json, "mtu", &rt->mtu, what, code, err)) ||
	    (ret = get_uint(json, "advmss", &rt->advmss, what, code, err)) ||
	    (ret = get_uint(json, "priority", &rt->priority, what, code, err)) ||
	    (ret = get_uint(json, "table", &rt->table, what, code, err)))
		return ret;
	scope = cJSON_GetObjectItemCaseSensitive(json, "scope");
	if (scope) {
		if (!cJSON_IsNumber(scope) || scope->valueint < 0 || scope->valueint > 255)
			return cni_fail(err, code, "%s: \"scope\" must be a number 0-255", what);
		rt->scope = scope->valueint;
	}
	return 0;
}

static int parse_iface(const cJSON *j, struct cni_iface *ifc, const char *what, struct cni_error *err)
{
	const char *name, *mac, *sandbox;
	int ret;

	if (!cJSON_IsObject(j))
		return cni_fail(err, CNI_ERR_DECODE, "%s: must be an object", what);
	if ((ret = get_string(j, "name", &name, true, what, CNI_ERR_DECODE, err)) ||
	    (ret = get_string(j, "mac", &mac, false, what, CNI_ERR_DECODE, err)) ||
	    (ret = get_string(j, "sandbox", &sandbox, false, what, CNI_ERR_DECODE, err)) ||
	    (ret = get_uint(j, "mtu", &ifc->mtu, what, CNI_ERR_DECODE, err)))
		return ret;
	snprintf(ifc->name, sizeof(ifc->name), "%s", name);
	snprintf(ifc->mac, sizeof(ifc->mac), "%s", mac ? mac : "");
	snprintf(ifc->sandbox, sizeof(ifc->sandbox), "%s", sandbox ? sandbox : "");
	return 0;
}

static int parse_ip(const cJSON *j, struct cni_ip *ip, const char *what, struct cni_error *err)
{
	const char *addr, *gw;
	const cJSON *iface;
	int ret;

	if (!cJSON_IsObject(j))
		return cni_fail(err, CNI_ERR_DECODE, "%s: must be an object", what);
	if ((ret = get_string(j, "address", &addr, true, what, CNI_ERR_DECODE, err)) ||
	    (ret = get_string(j, "gateway", &gw, false, what, CNI_ERR_DECODE, err)))
		return ret;
	if (ip_prefix_parse(&ip->address, addr) || !strchr(addr, '/'))
		return cni_fail(err, CNI_ERR_DECODE, "%s: address \"%s\" is not an address/prefix", what, addr);
	if (gw) {
		if (ip_addr_parse(&ip->gateway, gw) || ip->gateway.family != ip->address.addr.family)
			return cni_fail(err, CNI_ERR_DECODE, "%s: gateway \"%s\" is not an address of the same family",
					what, gw);
		ip->has_gateway = true;
	}
	ip->iface = -1;
	iface = cJSON_GetObjectItemCaseSensitive(j, "interface");
	if (iface) {
		if (!cJSON_IsNumber(iface) || iface->valueint < 0)
			return cni_fail(err, CNI_ERR_DECODE, "%s: \"interface\" must be an index", what);
		ip->iface = iface->valueint;
	}
	return 0;
}

/* The optional list @key of @json, at most @max long (NULL when absent). */
static int get_list(const cJSON *json, const char *key, int max, const cJSON **out, struct cni_error *err)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(json, key);

	*out = arr;
	if (!arr)
		return 0;
	if (!cJSON_IsArray(arr))
		return cni_fail(err, CNI_ERR_DECODE, "result: \"%s\" must be a list", key);
	if (cJSON_GetArraySize(arr) > max)
		return cni_fail(err, CNI_ERR_DECODE, "result: more than %d \"%s\"", max, key);
	return 0;
}

int cni_result_parse(const cJSON *json, struct cni_result *r, struct cni_error *err)
{
	const cJSON *ifaces, *ips, *routes, *item, *dns;
	char what[64];
	int ret;

	cni_result_init(r);
	if (!cJSON_IsObject(json))
		return cni_fail(err, CNI_ERR_DECODE, "result: must be a JSON object");
	if ((ret = get_list(json, "interfaces", CNI_MAX_IFACES, &ifaces, err)) ||
	    (ret = get_list(json, "ips", CNI_MAX_IPS, &ips, err)) ||
	    (ret = get_list(json, "routes", CNI_MAX_ROUTES, &routes, err)))
		return ret;
	cJSON_ArrayForEach(item, ifaces) {
		snprintf(what, sizeof(what), "result.interfaces[%u]", r->n_ifaces);
		if ((ret = parse_iface(item, &r->ifaces[r->n_ifaces++], what, err)))
			return ret;
	}
	cJSON_ArrayForEach(item, ips) {
		snprintf(what, sizeof(what), "result.ips[%u]", r->n_ips);
		if ((ret = parse_ip(item, &r->ips[r->n_ips], what, err)))
			return ret;
		if (r->ips[r->n_ips].iface >= (int)r->n_ifaces)
			return cni_fail(err, CNI_ERR_DECODE, "%s: interface %d out of range", what,
					r->ips[r->n_ips].iface);
		r->n_ips++;
	}
	cJSON_ArrayForEach(item, routes) {
		snprintf(what, sizeof(what), "result.routes[%u]", r->n_routes);
		if ((ret = cni_route_parse(item, &r->routes[r->n_routes++], what, CNI_ERR_DECODE, err)))
			return ret;
	}
	dns = cJSON_GetObjectItemCaseSensitive(json, "dns");
	if (dns) {
		if (!cJSON_IsObject(dns))
			return cni_fail(err, CNI_ERR_DECODE, "result: \"dns\" must be an object");
		r->dns = cJSON_Duplicate(dns, 1);
	}
	return 0;
}

static void add_addr(cJSON *o, const char *key, const struct ip_addr *a)
{
	char buf[IP_ADDR_STRLEN];

	ip_addr_format(a, buf, sizeof(buf));
	cJSON_AddStringToObject(o, key, buf);
}

static void add_prefix(cJSON *o, const char *key, const struct ip_prefix *p)
{
	char buf[IP_PREFIX_STRLEN];

	ip_prefix_format(p, buf, sizeof(buf));
	cJSON_AddStringToObject(o, key, buf);
}

cJSON *cni_result_to_json(const struct cni_result *r, enum cni_version v)
{
	cJSON *o = cJSON_CreateObject(), *arr;
	unsigned int i;

	cJSON_AddStringToObject(o, "cniVersion", cni_version_str(v));
	if (r->n_ifaces) {
		arr = cJSON_AddArrayToObject(o, "interfaces");
		for (i = 0; i < r->n_ifaces; i++) {
			cJSON *it = cJSON_CreateObject();

			cJSON_AddStringToObject(it, "name", r->ifaces[i].name);
			if (r->ifaces[i].mac[0])
				cJSON_AddStringToObject(it, "mac", r->ifaces[i].mac);
			if (v >= CNI_V110 && r->ifaces[i].mtu)
				cJSON_AddNumberToObject(it, "mtu", r->ifaces[i].mtu);
			if (r->ifaces[i].sandbox[0])
				cJSON_AddStringToObject(it, "sandbox", r->ifaces[i].sandbox);
			cJSON_AddItemToArray(arr, it);
		}
	}
	arr = cJSON_AddArrayToObject(o, "ips");
	for (i = 0; i < r->n_ips; i++) {
		const struct cni_ip *ip = &r->ips[i];
		cJSON *it = cJSON_CreateObject();

		/* Before 1.0.0 each ip names its family ("Result" in SPEC 0.3.x/0.4.0). */
		if (v < CNI_V100)
			cJSON_AddStringToObject(it, "version", ip->address.addr.family == AF_INET6 ? "6" : "4");
		if (ip->iface >= 0)
			cJSON_AddNumberToObject(it, "interface", ip->iface);
		add_prefix(it, "address", &ip->address);
		if (ip->has_gateway)
			add_addr(it, "gateway", &ip->gateway);
		cJSON_AddItemToArray(arr, it);
	}
	if (r->n_routes) {
		arr = cJSON_AddArrayToObject(o, "routes");
		for (i = 0; i < r->n_routes; i++) {
			const struct cni_route *rt = &r->routes[i];
			cJSON *it = cJSON_CreateObject();

			add_prefix(it, "dst", &rt->dst);
			if (rt->has_gw)
				add_addr(it, "gw", &rt->gw);
			if (v >= CNI_V110) {
				if (rt->mtu)
					cJSON_AddNumberToObject(it, "mtu", rt->mtu);
				if (rt->advmss)
					cJSON_AddNumberToObject(it, "advmss", rt->advmss);
				if (rt->priority)
					cJSON_AddNumberToObject(it, "priority", rt->priority);
				if (rt->table)
					cJSON_AddNumberToObject(it, "table", rt->table);
				if (rt->scope >= 0)
					cJSON_AddNumberToObject(it, "scope", rt->scope);
			}
			cJSON_AddItemToArray(arr, it);
		}
	}
	cJSON_AddItemToObject(o, "dns", r->dns ? cJSON_Duplicate(r->dns, 1) : cJSON_CreateObject());
	return o;
}

int cni_result_print(const struct cni_result *r, enum cni_version v)
{
	cJSON *o = cni_result_to_json(r, v);
	char *s = cJSON_Print(o);
	int ret = 0;

	if (!s || printf("%s\n", s) < 0 || fflush(stdout))
		ret = -EIO;
	cJSON_free(s);
	cJSON_Delete(o);
	return ret;
}
