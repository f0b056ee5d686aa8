/* cluster.c — the cluster's address pools in the store (see cluster.h). */
#include "mesh/cluster.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/decimal.h"
#include "lib/log.h"

int cluster_pools_encode(const struct cluster_pools *p, char **out)
{
	char c[IP_PREFIX_STRLEN], t[IP_PREFIX_STRLEN], c6[IP_PREFIX_STRLEN] = "", t6[IP_PREFIX_STRLEN] = "";
	char b6[32] = "";
	int n;

	ip_prefix_format(&p->cluster_cidr, c, sizeof(c));
	ip_prefix_format(&p->tunnel_cidr, t, sizeof(t));
	if (p->has_cluster_cidr6) {
		ip_prefix_format(&p->cluster_cidr6, c6, sizeof(c6));
		snprintf(b6, sizeof(b6), "%u", p->block_len6);
	}
	if (p->has_tunnel_cidr6)
		ip_prefix_format(&p->tunnel_cidr6, t6, sizeof(t6));
	n = asprintf(out,
		     "# The cluster's address pools, written by the first podwired on this store.\n"
		     "# Every podwired must be started with the same ones; podwirectl peer add uses them.\n"
		     "ClusterCIDR = %s\nBlockSize = %u\nTunnelCIDR = %s\n%s%s%s%s%s%s%s%s%s",
		     c, p->block_len, t, c6[0] ? "ClusterCIDR6 = " : "", c6, c6[0] ? "\n" : "",
		     b6[0] ? "BlockSize6 = " : "", b6, b6[0] ? "\n" : "", t6[0] ? "TunnelCIDR6 = " : "", t6,
		     t6[0] ? "\n" : "");
	return n < 0 ? -ENOMEM : 0;
}

static int parse_prefix(struct ip_prefix *p, const char *v, int family)
{
	struct ip_prefix masked;

	if (ip_prefix_parse(p, v) || !strchr(v, '/') || p->addr.family != family)
		return -EINVAL;
	masked = *p;
	ip_prefix_mask(&masked);
	return ip_addr_equal(&masked.addr, &p->addr) ? 0 : -EINVAL;
}

static int parse_line(struct cluster_pools *p, const char *key, const char *v, unsigned int *seen)
{
	uint64_t n;

	if (!strcmp(key, "ClusterCIDR")) {
		*seen |= 1;
		return parse_prefix(&p->cluster_cidr, v, AF_INET);
	}
	if (!strcmp(key, "TunnelCIDR")) {
		*seen |= 2;
		return parse_prefix(&p->tunnel_cidr, v, AF_INET);
	}
	if (!strcmp(key, "BlockSize") || !strcmp(key, "BlockSize6")) {
		if (decimal_parse(v, 128, &n) || !n)
			return -EINVAL;
		*(key[9] ? &p->block_len6 : &p->block_len) = (uint8_t)n;
		*seen |= key[9] ? 0 : 4;
		return 0;
	}
	if (!strcmp(key, "ClusterCIDR6")) {
		p->has_cluster_cidr6 = true;
		return parse_prefix(&p->cluster_cidr6, v, AF_INET6);
	}
	if (!strcmp(key, "TunnelCIDR6")) {
		p->has_tunnel_cidr6 = true;
		return parse_prefix(&p->tunnel_cidr6, v, AF_INET6);
	}
	return -ENOENT;
}

int cluster_pools_decode(struct cluster_pools *p, const char *text, char *err, size_t err_len)
{
	const char *line = text;
	unsigned int lineno = 0, seen = 0;

	memset(p, 0, sizeof(*p));
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[256], *eq, *key, *v, *end;
		int ret;

		lineno++;
		if (len >= sizeof(buf)) {
			snprintf(err, err_len, "line %u: too long", lineno);
			return -EINVAL;
		}
		memcpy(buf, line, len);
		buf[len] = '\0';
		line = nl ? nl + 1 : line + len;
		for (key = buf; *key == ' ' || *key == '\t'; key++)
			;
		if (!*key || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			snprintf(err, err_len, "line %u: not 'Key = value'", lineno);
			return -EINVAL;
		}
		for (end = eq; end > key && (end[-1] == ' ' || end[-1] == '\t'); end--)
			;
		*end = '\0';
		for (v = eq + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (end = v + strlen(v); end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'); end--)
			;
		*end = '\0';
		ret = parse_line(p, key, v, &seen);
		if (ret == -ENOENT) {
			snprintf(err, err_len, "line %u: unknown key '%s'", lineno, key);
			return -EINVAL;
		}
		if (ret) {
			snprintf(err, err_len, "line %u: invalid %s '%s'", lineno, key, v);
			return -EINVAL;
		}
	}
	if (seen != 7) {
		snprintf(err, err_len, "%s is missing", !(seen & 1) ? "ClusterCIDR" : !(seen & 2) ? "TunnelCIDR" : "BlockSize");
		return -EINVAL;
	}
	if (p->has_cluster_cidr6 && !p->block_len6)
		p->block_len6 = 64;
	return 0;
}

bool cluster_pools_equal(const struct cluster_pools *a, const struct cluster_pools *b)
{
	if (!ip_prefix_equal(&a->cluster_cidr, &b->cluster_cidr) || a->block_len != b->block_len ||
	    !ip_prefix_equal(&a->tunnel_cidr, &b->tunnel_cidr) || a->has_cluster_cidr6 != b->has_cluster_cidr6 ||
	    a->has_tunnel_cidr6 != b->has_tunnel_cidr6)
		return false;
	if (a->has_cluster_cidr6 &&
	    (!ip_prefix_equal(&a->cluster_cidr6, &b->cluster_cidr6) || a->block_len6 != b->block_len6))
		return false;
	return !a->has_tunnel_cidr6 || ip_prefix_equal(&a->tunnel_cidr6, &b->tunnel_cidr6);
}

void cluster_pools_describe(const struct cluster_pools *p, char *buf, size_t len)
{
	char c[IP_PREFIX_STRLEN], t[IP_PREFIX_STRLEN], c6[IP_PREFIX_STRLEN] = "", t6[IP_PREFIX_STRLEN] = "";
	int n;

	ip_prefix_format(&p->cluster_cidr, c, sizeof(c));
	ip_prefix_format(&p->tunnel_cidr, t, sizeof(t));
	n = snprintf(buf, len, "--cluster-cidr %s --block-size %u --tunnel-cidr %s", c, p->block_len, t);
	if (n < 0 || (size_t)n >= len)
		return;
	if (p->has_cluster_cidr6) {
		ip_prefix_format(&p->cluster_cidr6, c6, sizeof(c6));
		n += snprintf(buf + n, len - (size_t)n, " --cluster-cidr6 %s --block-size6 %u", c6, p->block_len6);
	}
	if (n >= 0 && (size_t)n < len && p->has_tunnel_cidr6) {
		ip_prefix_format(&p->tunnel_cidr6, t6, sizeof(t6));
		snprintf(buf + n, len - (size_t)n, " --tunnel-cidr6 %s", t6);
	}
}

int cluster_pools_read(struct store *s, struct cluster_pools *p, char *err, size_t err_len)
{
	char *text = NULL;
	int ret = store_get(s, CLUSTER_POOLS_KEY, &text, NULL);

	if (ret == -ENOTUNIQ) {
		snprintf(err, err_len, "the store holds differing values (the Kubernetes store names the Nodes)");
		return -EBADMSG;
	}
	if (ret)
		return ret;
	ret = cluster_pools_decode(p, text, err, err_len) ? -EBADMSG : 0;
	free(text);
	return ret;
}

int cluster_pools_publish(struct store *s, const struct cluster_pools *mine, struct cluster_pools *stored,
			  char *err, size_t err_len)
{
	char *text = NULL;
	int ret;

	ret = cluster_pools_encode(mine, &text);
	if (ret)
		return ret;
	/* Create only if absent: two first nodes racing both end up comparing with the winner. */
	ret = store_cas(s, CLUSTER_POOLS_KEY, NULL, text);
	free(text);
	if (ret != -ECANCELED) {
		if (!ret)
			*stored = *mine;
		return ret;
	}
	ret = cluster_pools_read(s, stored, err, err_len);
	if (ret)
		return ret;
	return cluster_pools_equal(mine, stored) ? 0 : -ENOTUNIQ;
}

int cluster_pools_check(struct store *s, const struct cluster_pools *mine)
{
	struct cluster_pools stored;
	char err[256] = "", want[512], have[512];
	int ret = cluster_pools_publish(s, mine, &stored, err, sizeof(err));

	if (ret == -ENOTUNIQ) {
		cluster_pools_describe(&stored, have, sizeof(have));
		cluster_pools_describe(mine, want, sizeof(want));
		log_err("store key %s: the cluster's pools are %s, but this node was started with %s: start it with "
			"the cluster's pools (addresses outside them are skipped by every other node)",
			CLUSTER_POOLS_KEY, have, want);
	} else if (ret == -EBADMSG) {
		log_err("store key %s: cannot read the cluster's pools: %s", CLUSTER_POOLS_KEY, err);
	}
	return ret;
}

void cluster_pools_ranges(const struct cluster_pools *p, struct ip_prefix cluster[2], size_t *n_cluster,
			  struct ip_prefix tunnel[2], size_t *n_tunnel)
{
	*n_cluster = *n_tunnel = 0;
	cluster[(*n_cluster)++] = p->cluster_cidr;
	if (p->has_cluster_cidr6)
		cluster[(*n_cluster)++] = p->cluster_cidr6;
	tunnel[(*n_tunnel)++] = p->tunnel_cidr;
	if (p->has_tunnel_cidr6)
		tunnel[(*n_tunnel)++] = p->tunnel_cidr6;
}

int cluster_gateway_ranges_parse(const char *list, struct ip_prefix *out, size_t *n, char *err, size_t err_len)
{
	char *copy = strdup(list), *save = NULL;
	int ret = 0;

	*n = 0;
	if (!copy)
		return -ENOMEM;
	for (char *t = strtok_r(copy, ", ", &save); t && !ret; t = strtok_r(NULL, ", ", &save)) {
		struct ip_prefix p, masked;

		if (*n == CLUSTER_GATEWAY_RANGES_MAX) {
			snprintf(err, err_len, "more than %d ranges", CLUSTER_GATEWAY_RANGES_MAX);
			ret = -EINVAL;
		} else if (ip_prefix_parse(&p, t) || !strchr(t, '/')) {
			snprintf(err, err_len, "'%.64s' is not a CIDR prefix", t);
			ret = -EINVAL;
		} else {
			masked = p;
			ip_prefix_mask(&masked);
			if (!ip_addr_equal(&p.addr, &masked.addr)) {
				snprintf(err, err_len, "'%.64s' has host bits set", t);
				ret = -EINVAL;
			} else {
				out[(*n)++] = p;
			}
		}
	}
	free(copy);
	return ret;
}
