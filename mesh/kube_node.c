/* kube_node.c — node records to and from Node annotations (see kube_node.h). */
#include "mesh/kube_node.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mesh/node.h"

/* The annotations that make up the record, in the order they are compared. */
static const char *const record_annotations[] = {
	KUBE_ANN_PUBLIC_KEY, KUBE_ANN "endpoint", KUBE_ANN "tunnel-ips", KUBE_ANN "pod-cidrs", KUBE_ANN "observed",
	KUBE_ANN "mtu", KUBE_ANN "persistent-keepalive", KUBE_ANN "labels",
};
#define N_RECORD_ANNOTATIONS (sizeof(record_annotations) / sizeof(record_annotations[0]))

const char *kube_node_name(const cJSON *node)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(node, "metadata"), "name");

	return cJSON_IsString(n) ? n->valuestring : NULL;
}

const char *kube_node_annotation(const cJSON *node, const char *name)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(node, "metadata"), "annotations"), name);

	return cJSON_IsString(a) ? a->valuestring : NULL;
}

void kube_node_pod_cidrs(const cJSON *node, char *out, size_t len)
{
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(node, "spec");
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(spec, "podCIDRs"), *one, *item;
	size_t off = 0;

	out[0] = '\0';
	cJSON_ArrayForEach(item, list) {
		if (!cJSON_IsString(item))
			continue;
		off += (size_t)snprintf(out + off, off < len ? len - off : 0, "%s%s", off ? ", " : "", item->valuestring);
	}
	one = cJSON_GetObjectItemCaseSensitive(spec, "podCIDR");
	if (!off && cJSON_IsString(one))
		off = (size_t)snprintf(out, len, "%s", one->valuestring);
	if (off >= len)
		out[0] = '\0'; /* truncated: treat as none rather than use half a list */
}

int kube_node_address(const cJSON *node, const char *source, char *out, size_t len, char *why, size_t why_len)
{
	const cJSON *addrs = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(node, "status"), "addresses");
	const cJSON *a;

	if (!strncmp(source, "annotation=", 11)) {
		const char *v = kube_node_annotation(node, source + 11);
		struct ip_addr ip;
		char host[128];
		uint16_t port;

		if (!v)
			return -ENOENT;
		if (strlen(v) >= len || (ip_addr_parse(&ip, v) && endpoint_split(v, host, sizeof(host), &port))) {
			snprintf(why, why_len, "annotation %.100s is '%.100s', not an IP address nor HOST:PORT", source + 11, v);
			return -EINVAL;
		}
		snprintf(out, len, "%s", v);
		return 0;
	}
	cJSON_ArrayForEach(a, addrs) {
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(a, "type");
		const cJSON *addr = cJSON_GetObjectItemCaseSensitive(a, "address");
		struct ip_addr ip;

		if (!cJSON_IsString(type) || !cJSON_IsString(addr) || strcmp(type->valuestring, source) ||
		    ip_addr_parse(&ip, addr->valuestring))
			continue;
		ip_addr_format(&ip, out, len);
		return 0;
	}
	return -ENOENT;
}

/* One line of text: no control characters that could end a record line early. */
static bool one_line(const char *s)
{
	for (; *s; s++)
		if (!isprint((unsigned char)*s))
			return false;
	return true;
}

int kube_node_record(const cJSON *node, char **text, char *why, size_t why_len)
{
	const char *name = kube_node_name(node), *key = kube_node_annotation(node, KUBE_ANN_PUBLIC_KEY), *v;
	char cidrs[512];
	struct node parsed;
	size_t size = 0;
	FILE *f;
	int ret;

	*text = NULL;
	if (!key)
		return 0;
	if (!name || !node_name_valid(name)) {
		snprintf(why, why_len, "the name is not a valid podwire node name (at most 63 of [A-Za-z0-9._-])");
		return -EINVAL;
	}
	for (size_t i = 0; i < N_RECORD_ANNOTATIONS; i++) {
		v = kube_node_annotation(node, record_annotations[i]);
		if (v && (!one_line(v) || strlen(v) > NODE_RECORD_MAX / 2)) {
			snprintf(why, why_len, "annotation %s is not one line of printable text", record_annotations[i]);
			return -EINVAL;
		}
	}
	kube_node_pod_cidrs(node, cidrs, sizeof(cidrs));
	if (!one_line(cidrs)) {
		snprintf(why, why_len, "spec.podCIDRs is not printable text");
		return -EINVAL;
	}
	f = open_memstream(text, &size);
	if (!f)
		return -ENOMEM;
	fprintf(f, "# podwire node record from the annotations of Node %s\n[Peer]\n# Name = %s\n", name, name);
	fprintf(f, "# TunnelIP = %s\n", (v = kube_node_annotation(node, KUBE_ANN "tunnel-ips")) ? v : "");
	/* What the cluster assigned wins over what the node says it uses. */
	if (cidrs[0] || (v = kube_node_annotation(node, KUBE_ANN "pod-cidrs")))
		fprintf(f, "# PodCIDRs = %s\n", cidrs[0] ? cidrs : v);
	if ((v = kube_node_annotation(node, KUBE_ANN "mtu")))
		fprintf(f, "# MTU = %s\n", v);
	if ((v = kube_node_annotation(node, KUBE_ANN "labels")))
		fprintf(f, "# Labels = %s\n", v);
	if ((v = kube_node_annotation(node, KUBE_ANN "observed"))) {
		const char *p = v;

		while (*p) {
			size_t n = strcspn(p, ",");

			while (*p == ' ' && n)
				p++, n--;
			if (n)
				fprintf(f, "# Observed = %.*s\n", (int)n, p);
			p += n;
			if (*p == ',')
				p++;
		}
	}
	fprintf(f, "PublicKey = %s\n", key);
	if ((v = kube_node_annotation(node, KUBE_ANN "endpoint")))
		fprintf(f, "Endpoint = %s\n", v);
	if ((v = kube_node_annotation(node, KUBE_ANN "persistent-keepalive")))
		fprintf(f, "PersistentKeepalive = %s\n", v);
	if (fclose(f)) {
		free(*text);
		*text = NULL;
		return -ENOMEM;
	}
	/* Validate now, to name the Node in the message; mesh_build checks the rest. */
	ret = node_decode(&parsed, *text, strlen(*text), why, why_len);
	node_clear(&parsed);
	if (ret) {
		free(*text);
		*text = NULL;
	}
	return ret == -EINVAL ? -EINVAL : (ret ? ret : 1);
}

static char *join_prefixes(const struct ip_prefix *p, size_t n)
{
	char buf[NODE_MAX_POD_CIDRS * (IP_PREFIX_STRLEN + 2)] = "", one[IP_PREFIX_STRLEN];
	size_t off = 0;

	for (size_t i = 0; i < n; i++) {
		ip_prefix_format(&p[i], one, sizeof(one));
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? ", " : "", one);
	}
	return strdup(buf);
}

static char *join_addrs(const struct ip_addr *a, size_t n)
{
	char buf[NODE_MAX_TUNNEL_IPS * (IP_ADDR_STRLEN + 2)] = "", one[IP_ADDR_STRLEN];
	size_t off = 0;

	for (size_t i = 0; i < n; i++) {
		ip_addr_format(&a[i], one, sizeof(one));
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? ", " : "", one);
	}
	return strdup(buf);
}

static char *join_observed(const struct node *n)
{
	char *out = NULL, key[WG_KEY_LEN_BASE64];
	size_t size = 0;
	FILE *f;

	if (!n->n_observed)
		return NULL;
	f = open_memstream(&out, &size);
	if (!f)
		return NULL;
	for (size_t i = 0; i < n->n_observed; i++) {
		key_to_base64(key, n->observed[i].public_key);
		fprintf(f, "%s%s %s", i ? ", " : "", key, n->observed[i].endpoint);
	}
	if (fclose(f)) {
		free(out);
		return NULL;
	}
	return out;
}

static char *fmt_uint(unsigned long v)
{
	char *s;

	if (!v)
		return NULL;
	return asprintf(&s, "%lu", v) < 0 ? NULL : s;
}

int kube_node_annotations_for(const cJSON *node, const char *text, cJSON **patch)
{
	char *want[N_RECORD_ANNOTATIONS] = { 0 }, err[256], key[WG_KEY_LEN_BASE64];
	struct node n;
	int ret = node_decode(&n, text, strlen(text), err, sizeof(err));

	*patch = NULL;
	if (ret)
		return ret;
	key_to_base64(key, n.public_key);
	want[0] = strdup(key);
	want[1] = n.endpoint[0] ? strdup(n.endpoint) : NULL;
	want[2] = join_addrs(n.tunnel_ips, n.n_tunnel_ips);
	want[3] = n.n_pod_cidrs ? join_prefixes(n.pod_cidrs, n.n_pod_cidrs) : NULL;
	want[4] = join_observed(&n);
	want[5] = fmt_uint(n.mtu);
	want[6] = fmt_uint(n.persistent_keepalive);
	want[7] = n.labels[0] ? strdup(n.labels) : NULL;
	node_clear(&n);
	ret = 0;
	for (size_t i = 0; i < N_RECORD_ANNOTATIONS; i++) {
		const char *have = kube_node_annotation(node, record_annotations[i]);

		if ((!have && !want[i]) || (have && want[i] && !strcmp(have, want[i])))
			continue;
		if (!*patch && !(*patch = cJSON_CreateObject())) {
			ret = -ENOMEM;
			break;
		}
		if (want[i])
			cJSON_AddStringToObject(*patch, record_annotations[i], want[i]);
		else
			cJSON_AddNullToObject(*patch, record_annotations[i]);
	}
	for (size_t i = 0; i < N_RECORD_ANNOTATIONS; i++)
		free(want[i]);
	if (ret) {
		cJSON_Delete(*patch);
		*patch = NULL;
	}
	return ret;
}

cJSON *kube_node_annotations_removal(void)
{
	cJSON *o = cJSON_CreateObject();

	for (size_t i = 0; o && i < N_RECORD_ANNOTATIONS; i++)
		cJSON_AddNullToObject(o, record_annotations[i]);
	return o;
}

uint64_t kube_node_fingerprint(const cJSON *node)
{
	const cJSON *anns = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(node, "metadata"),
							     "annotations"), *a;
	crypto_generichash_state st;
	const char *name = kube_node_name(node);
	char cidrs[512];
	uint64_t out;

	crypto_generichash_init(&st, NULL, 0, sizeof(out));
	if (name)
		crypto_generichash_update(&st, (const unsigned char *)name, strlen(name) + 1);
	kube_node_pod_cidrs(node, cidrs, sizeof(cidrs));
	crypto_generichash_update(&st, (const unsigned char *)cidrs, strlen(cidrs) + 1);
	cJSON_ArrayForEach(a, anns) {
		if (!a->string || strncmp(a->string, KUBE_ANN, strlen(KUBE_ANN)) || !cJSON_IsString(a))
			continue;
		crypto_generichash_update(&st, (const unsigned char *)a->string, strlen(a->string) + 1);
		crypto_generichash_update(&st, (const unsigned char *)a->valuestring, strlen(a->valuestring) + 1);
	}
	crypto_generichash_final(&st, (unsigned char *)&out, sizeof(out));
	return out;
}
