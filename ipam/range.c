#include "ipam/range.h"

#include <string.h>

static unsigned int addr_len(const struct ip_addr *a)
{
	return a->family == AF_INET6 ? 16 : 4;
}

int ipam_addr_cmp(const struct ip_addr *a, const struct ip_addr *b)
{
	int c = memcmp(a->bytes, b->bytes, addr_len(a));

	return c < 0 ? -1 : c > 0;
}

void ipam_addr_next(struct ip_addr *a)
{
	for (int i = (int)addr_len(a) - 1; i >= 0; i--)
		if (++a->bytes[i])
			break;
}

void ipam_addr_prev(struct ip_addr *a)
{
	for (int i = (int)addr_len(a) - 1; i >= 0; i--)
		if (a->bytes[i]--)
			break;
}

static int parse_addr_field(const cJSON *json, const char *key, struct ip_addr *out, bool *present,
			    const struct ipam_range *r, const char *what, struct cni_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(json, key);
	char subnet[IP_PREFIX_STRLEN];

	*present = false;
	if (!v)
		return 0;
	if (!cJSON_IsString(v))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "%s: \"%s\" must be a string", what, key);
	if (ip_addr_parse(out, v->valuestring))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "%s: %s \"%s\" is not an IP address", what, key,
				v->valuestring);
	if (!ip_prefix_contains(&r->subnet, out)) {
		ip_prefix_format(&r->subnet, subnet, sizeof(subnet));
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "%s: %s %s is outside subnet %s", what, key,
				v->valuestring, subnet);
	}
	*present = true;
	return 0;
}

int ipam_range_parse(const cJSON *json, struct ipam_range *r, const char *what, struct cni_error *err)
{
	const cJSON *subnet = cJSON_GetObjectItemCaseSensitive(json, "subnet");
	struct ip_addr last;
	bool present;
	int ret;

	memset(r, 0, sizeof(*r));
	if (!cJSON_IsObject(json))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "%s: must be an object", what);
	if (!subnet)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "%s: missing \"subnet\"", what);
	if (!cJSON_IsString(subnet))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "%s: \"subnet\" must be a string", what);
	if (ip_prefix_parse(&r->subnet, subnet->valuestring) || !strchr(subnet->valuestring, '/'))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "%s: subnet \"%s\" is not address/prefix", what,
				subnet->valuestring);
	ip_prefix_mask(&r->subnet);
	/* Like host-local: a subnet needs room for the network address, a gateway and a host. */
	if (r->subnet.cidr > ip_addr_bits(&r->subnet.addr) - 2)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "%s: subnet %s is too small to allocate from", what,
				subnet->valuestring);
	last = r->subnet.addr;
	for (unsigned int bit = r->subnet.cidr; bit < ip_addr_bits(&last); bit++)
		last.bytes[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
	/* IPv4 keeps the broadcast address out of the range (RFC 919). */
	if (last.family == AF_INET)
		ipam_addr_prev(&last);

	if ((ret = parse_addr_field(json, "rangeStart", &r->start, &present, r, what, err)))
		return ret;
	if (!present) {
		r->start = r->subnet.addr;
		ipam_addr_next(&r->start);
	}
	if ((ret = parse_addr_field(json, "rangeEnd", &r->end, &present, r, what, err)))
		return ret;
	if (!present)
		r->end = last;
	if (ipam_addr_cmp(&r->start, &r->end) > 0)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "%s: rangeStart is after rangeEnd", what);
	if ((ret = parse_addr_field(json, "gateway", &r->gateway, &r->has_gateway, r, what, err)))
		return ret;
	if (!r->has_gateway) {
		r->gateway = r->subnet.addr;
		ipam_addr_next(&r->gateway);
		r->has_gateway = true;
	}
	return 0;
}

bool ipam_range_contains(const struct ipam_range *r, const struct ip_addr *a)
{
	return a->family == r->start.family && ipam_addr_cmp(a, &r->start) >= 0 && ipam_addr_cmp(a, &r->end) <= 0;
}

int ipam_range_set_find(const struct ipam_range_set *set, const struct ip_addr *a)
{
	for (unsigned int i = 0; i < set->n; i++)
		if (ipam_range_contains(&set->ranges[i], a))
			return (int)i;
	return -1;
}

int ipam_range_set_parse(const cJSON *json, struct ipam_range_set *set, const char *what, struct cni_error *err)
{
	const cJSON *item;
	char name[96];
	int ret;

	memset(set, 0, sizeof(*set));
	if (!cJSON_IsArray(json) || cJSON_GetArraySize(json) == 0)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "%s: must be a non-empty list of ranges", what);
	if (cJSON_GetArraySize(json) > IPAM_MAX_RANGES)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "%s: more than %d ranges", what, IPAM_MAX_RANGES);
	cJSON_ArrayForEach(item, json) {
		struct ipam_range *r = &set->ranges[set->n];

		snprintf(name, sizeof(name), "%s[%u]", what, set->n);
		if ((ret = ipam_range_parse(item, r, name, err)))
			return ret;
		if (set->n && r->subnet.addr.family != set->ranges[0].subnet.addr.family)
			return cni_fail(err, CNI_ERR_INVALID_CONFIG, "%s: mixes IPv4 and IPv6 in one range set", name);
		for (unsigned int i = 0; i < set->n; i++)
			if (ipam_range_contains(&set->ranges[i], &r->start) ||
			    ipam_range_contains(&set->ranges[i], &r->end) ||
			    ipam_range_contains(r, &set->ranges[i].start))
				return cni_fail(err, CNI_ERR_INVALID_CONFIG, "%s: overlaps %s[%u]", name, what, i);
		set->n++;
	}
	return 0;
}
