/* node.c — encode, decode and validate node records (see node.h for the format). */
#include "mesh/node.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lib/decimal.h"

/* Longer lines are not something podwire writes: refuse rather than truncate. */
#define NODE_LINE_MAX 1024

bool node_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (!len || len >= NODE_NAME_MAX || !isalnum((unsigned char)name[0]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '.' && name[i] != '_' && name[i] != '-')
			return false;
	return true;
}

void node_clear(struct node *n)
{
	free(n->observed);
	memset(n, 0, sizeof(*n));
}

int node_copy(struct node *dst, const struct node *src)
{
	*dst = *src;
	dst->observed = NULL;
	if (src->n_observed) {
		dst->observed = calloc(src->n_observed, sizeof(*src->observed));
		if (!dst->observed) {
			dst->n_observed = 0;
			return -ENOMEM;
		}
		memcpy(dst->observed, src->observed, src->n_observed * sizeof(*src->observed));
	}
	return 0;
}

int node_set_observed(struct node *n, const uint8_t key[WG_KEY_LEN], const char *endpoint)
{
	struct node_observed *grown;

	if (strlen(endpoint) >= NODE_ENDPOINT_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n->n_observed; i++) {
		if (!sodium_memcmp(n->observed[i].public_key, key, WG_KEY_LEN)) {
			snprintf(n->observed[i].endpoint, NODE_ENDPOINT_MAX, "%s", endpoint);
			return 0;
		}
	}
	if (n->n_observed >= NODE_MAX_OBSERVED)
		return -ENOSPC;
	grown = realloc(n->observed, (n->n_observed + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	n->observed = grown;
	memset(&grown[n->n_observed], 0, sizeof(*grown));
	memcpy(grown[n->n_observed].public_key, key, WG_KEY_LEN);
	snprintf(grown[n->n_observed].endpoint, NODE_ENDPOINT_MAX, "%s", endpoint);
	n->n_observed++;
	return 0;
}

int node_encode(const struct node *n, char **out)
{
	char key[WG_KEY_LEN_BASE64], buf[IP_PREFIX_STRLEN];
	const char *sep = "";
	size_t size = 0;
	FILE *f;

	*out = NULL;
	f = open_memstream(out, &size);
	if (!f)
		return -errno;
	fprintf(f, "# podwire node record: a wg config fragment (wg addconf IFACE FILE)\n[Peer]\n");
	fprintf(f, "# Name = %s\n", n->name);
	fprintf(f, "# TunnelIP = ");
	for (size_t i = 0; i < n->n_tunnel_ips; i++) {
		ip_addr_format(&n->tunnel_ips[i], buf, sizeof(buf));
		fprintf(f, "%s%s", i ? ", " : "", buf);
	}
	fputc('\n', f);
	if (n->n_pod_cidrs) {
		fprintf(f, "# PodCIDRs = ");
		for (size_t i = 0; i < n->n_pod_cidrs; i++) {
			ip_prefix_format(&n->pod_cidrs[i], buf, sizeof(buf));
			fprintf(f, "%s%s", i ? ", " : "", buf);
		}
		fputc('\n', f);
	}
	if (n->mtu)
		fprintf(f, "# MTU = %" PRIu32 "\n", n->mtu);
	if (n->labels[0])
		fprintf(f, "# Labels = %s\n", n->labels);
	fprintf(f, "# Heartbeat = %" PRId64 "\n", n->heartbeat);
	for (size_t i = 0; i < n->n_observed; i++) {
		key_to_base64(key, n->observed[i].public_key);
		fprintf(f, "# Observed = %s %s\n", key, n->observed[i].endpoint);
	}
	key_to_base64(key, n->public_key);
	fprintf(f, "PublicKey = %s\n", key);
	if (n->endpoint[0])
		fprintf(f, "Endpoint = %s\n", n->endpoint);
	fprintf(f, "AllowedIPs = ");
	for (size_t i = 0; i < n->n_tunnel_ips; i++) {
		ip_addr_format(&n->tunnel_ips[i], buf, sizeof(buf));
		fprintf(f, "%s%s/%u", sep, buf, ip_addr_bits(&n->tunnel_ips[i]));
		sep = ", ";
	}
	for (size_t i = 0; i < n->n_pod_cidrs; i++) {
		ip_prefix_format(&n->pod_cidrs[i], buf, sizeof(buf));
		fprintf(f, "%s%s", sep, buf);
		sep = ", ";
	}
	fputc('\n', f);
	if (n->persistent_keepalive)
		fprintf(f, "PersistentKeepalive = %u\n", n->persistent_keepalive);
	if (fclose(f)) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int fail(char *err, size_t err_len, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t err_len, unsigned int line, const char *fmt, ...)
{
	va_list ap;
	int off = 0;

	if (!err_len)
		return -EINVAL;
	if (line)
		off = snprintf(err, err_len, "line %u: ", line);
	if (off < 0 || (size_t)off >= err_len)
		off = 0;
	va_start(ap, fmt);
	vsnprintf(err + off, err_len - off, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if (!isprint((unsigned char)*s))
			return false;
	return true;
}

/* Comma-separated addresses: at most one per family. */
static int parse_tunnel_ips(struct node *n, char *value, char *err, size_t err_len, unsigned int line)
{
	for (char *save = NULL, *tok = strtok_r(value, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct ip_addr a;

		tok = trim(tok);
		if (ip_addr_parse(&a, tok))
			return fail(err, err_len, line, "TunnelIP: '%s' is not an IP address", tok);
		for (size_t i = 0; i < n->n_tunnel_ips; i++)
			if (n->tunnel_ips[i].family == a.family)
				return fail(err, err_len, line, "TunnelIP: more than one address of a family");
		if (n->n_tunnel_ips >= NODE_MAX_TUNNEL_IPS)
			return fail(err, err_len, line, "TunnelIP: too many addresses");
		n->tunnel_ips[n->n_tunnel_ips++] = a;
	}
	return 0;
}

static int parse_pod_cidrs(struct node *n, char *value, char *err, size_t err_len, unsigned int line)
{
	for (char *save = NULL, *tok = strtok_r(value, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct ip_prefix p, masked;

		tok = trim(tok);
		if (ip_prefix_parse(&p, tok) || !strchr(tok, '/'))
			return fail(err, err_len, line, "PodCIDRs: '%s' is not a prefix", tok);
		masked = p;
		ip_prefix_mask(&masked);
		if (!ip_addr_equal(&p.addr, &masked.addr))
			return fail(err, err_len, line, "PodCIDRs: '%s' has host bits set", tok);
		/* A pod block as wide as a default route would capture all traffic. */
		if (p.cidr < (p.addr.family == AF_INET ? 8 : 32))
			return fail(err, err_len, line, "PodCIDRs: '%s' is too wide", tok);
		if (n->n_pod_cidrs >= NODE_MAX_POD_CIDRS)
			return fail(err, err_len, line, "PodCIDRs: too many prefixes");
		n->pod_cidrs[n->n_pod_cidrs++] = p;
	}
	return 0;
}

/* Observed lines are appended as they come (the array doubles, so n lines cost O(n)) and
 * their duplicates resolved once at the end (dedupe_observed): node_set_observed() per line
 * compared each new key with all before it, O(n^2) in a record's lines. */
static int append_observed(struct node *n, const uint8_t key[WG_KEY_LEN], const char *endpoint)
{
	size_t have = n->n_observed;

	if (have >= NODE_MAX_OBSERVED)
		return -ENOSPC;
	if (!(have & (have - 1))) { /* 0 or a power of two: full */
		size_t cap = have < 8 ? 8 : have * 2;
		struct node_observed *grown = realloc(n->observed, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		n->observed = grown;
	}
	memset(&n->observed[have], 0, sizeof(n->observed[have]));
	memcpy(n->observed[have].public_key, key, WG_KEY_LEN);
	snprintf(n->observed[have].endpoint, NODE_ENDPOINT_MAX, "%s", endpoint);
	n->n_observed++;
	return 0;
}

static int cmp_observed_index(const void *a, const void *b, void *arg)
{
	const struct node_observed *v = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = memcmp(v[i].public_key, v[j].public_key, WG_KEY_LEN);

	return c ? c : (i < j ? -1 : i > j);
}

/* A key observed twice keeps its first place and its last endpoint, as node_set_observed()
 * line by line did. O(n log n). */
static int dedupe_observed(struct node *n)
{
	size_t *idx, k = 0;
	bool *drop;

	if (n->n_observed < 2)
		return 0;
	idx = malloc(n->n_observed * sizeof(*idx));
	drop = calloc(n->n_observed, sizeof(*drop));
	if (!idx || !drop) {
		free(idx);
		free(drop);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n->n_observed; i++)
		idx[i] = i;
	qsort_r(idx, n->n_observed, sizeof(*idx), cmp_observed_index, n->observed);
	for (size_t g = 0; g < n->n_observed;) {
		size_t e = g + 1;

		while (e < n->n_observed && !memcmp(n->observed[idx[e]].public_key, n->observed[idx[g]].public_key, WG_KEY_LEN))
			drop[idx[e++]] = true;
		if (e - g > 1)
			memcpy(n->observed[idx[g]].endpoint, n->observed[idx[e - 1]].endpoint, NODE_ENDPOINT_MAX);
		g = e;
	}
	for (size_t i = 0; i < n->n_observed; i++)
		if (!drop[i])
			n->observed[k++] = n->observed[i];
	n->n_observed = k;
	free(idx);
	free(drop);
	return 0;
}

static int parse_observed(struct node *n, char *value, char *err, size_t err_len, unsigned int line)
{
	char host[NODE_ENDPOINT_MAX];
	uint8_t key[WG_KEY_LEN];
	uint16_t port;
	char *sp = strchr(value, ' ');
	int ret;

	if (!sp)
		return fail(err, err_len, line, "Observed: expected 'KEY ENDPOINT'");
	*sp = '\0';
	if (key_from_base64(key, value))
		return fail(err, err_len, line, "Observed: bad public key");
	sp = trim(sp + 1);
	if (strlen(sp) >= NODE_ENDPOINT_MAX || endpoint_split(sp, host, sizeof(host), &port))
		return fail(err, err_len, line, "Observed: bad endpoint '%s'", sp);
	ret = append_observed(n, key, sp);
	if (ret == -ENOSPC)
		return fail(err, err_len, line, "Observed: more than %d entries", NODE_MAX_OBSERVED);
	return ret;
}

static int parse_comment(struct node *n, char *key, char *value, char *err, size_t err_len, unsigned int line)
{
	uint64_t v;

	if (!strcasecmp(key, "Name")) {
		if (!node_name_valid(value))
			return fail(err, err_len, line, "Name: '%.80s' is not a valid node name", value);
		snprintf(n->name, sizeof(n->name), "%s", value);
	} else if (!strcasecmp(key, "TunnelIP")) {
		return parse_tunnel_ips(n, value, err, err_len, line);
	} else if (!strcasecmp(key, "PodCIDRs")) {
		return parse_pod_cidrs(n, value, err, err_len, line);
	} else if (!strcasecmp(key, "MTU")) {
		/* RFC 791 minimum 576 .. jumbo frames. */
		if (decimal_parse(value, 65535, &v) || v < 576)
			return fail(err, err_len, line, "MTU: '%s' is not between 576 and 65535", value);
		n->mtu = v;
	} else if (!strcasecmp(key, "Labels")) {
		if (strlen(value) >= NODE_LABELS_MAX || !printable(value))
			return fail(err, err_len, line, "Labels: too long or not printable");
		snprintf(n->labels, sizeof(n->labels), "%s", value);
	} else if (!strcasecmp(key, "Heartbeat")) {
		char *end;

		errno = 0;
		n->heartbeat = strtoll(value, &end, 10);
		if (errno || *end || n->heartbeat < 0)
			return fail(err, err_len, line, "Heartbeat: '%s' is not a time", value);
	} else if (!strcasecmp(key, "Observed")) {
		return parse_observed(n, value, err, err_len, line);
	}
	/* Other comments are free text. */
	return 0;
}

static int parse_field(struct node *n, char *key, char *value, bool *has_key, char *err, size_t err_len,
		       unsigned int line)
{
	char host[NODE_ENDPOINT_MAX];
	uint16_t port;
	uint64_t v;

	if (!strcasecmp(key, "PublicKey")) {
		if (key_from_base64(n->public_key, value) || key_is_zero(n->public_key))
			return fail(err, err_len, line, "PublicKey: not a valid key");
		*has_key = true;
	} else if (!strcasecmp(key, "Endpoint")) {
		if (strlen(value) >= NODE_ENDPOINT_MAX || endpoint_split(value, host, sizeof(host), &port))
			return fail(err, err_len, line, "Endpoint: '%.80s' is not host:port", value);
		snprintf(n->endpoint, sizeof(n->endpoint), "%s", value);
	} else if (!strcasecmp(key, "AllowedIPs")) {
		/* Derived from TunnelIP and PodCIDRs; present for wg addconf, not trusted here. */
	} else if (!strcasecmp(key, "PersistentKeepalive")) {
		if (!strcasecmp(value, "off"))
			v = 0;
		else if (decimal_parse(value, 65535, &v))
			return fail(err, err_len, line, "PersistentKeepalive: '%s' is not 0..65535", value);
		n->persistent_keepalive = (uint16_t)v;
	} else {
		return fail(err, err_len, line, "unknown key '%.40s' in [Peer]", key);
	}
	return 0;
}

static int decode_lines(struct node *n, char *text, char *err, size_t err_len)
{
	bool in_peer = false, has_key = false;
	unsigned int line = 0;
	char *save = NULL;

	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *s, *eq;
		bool comment;
		int ret;

		line++; /* strtok skips empty lines; numbering counts non-empty lines only */
		if (strlen(l) > NODE_LINE_MAX)
			return fail(err, err_len, line, "line longer than %d bytes", NODE_LINE_MAX);
		s = trim(l);
		if (!*s)
			continue;
		if (!strcasecmp(s, "[Peer]")) {
			if (in_peer)
				return fail(err, err_len, line, "more than one [Peer] section");
			in_peer = true;
			continue;
		}
		if (*s == '[')
			return fail(err, err_len, line, "unexpected section '%.40s'", s);
		comment = *s == '#';
		if (comment)
			s = trim(s + 1);
		eq = strchr(s, '=');
		if (!eq) {
			if (comment)
				continue;
			return fail(err, err_len, line, "expected 'Key = value'");
		}
		*eq = '\0';
		if (!in_peer) {
			if (comment)
				continue;
			return fail(err, err_len, line, "field outside [Peer]");
		}
		if (comment)
			ret = parse_comment(n, trim(s), trim(eq + 1), err, err_len, line);
		else
			ret = parse_field(n, trim(s), trim(eq + 1), &has_key, err, err_len, line);
		if (ret)
			return ret;
	}
	if (!in_peer)
		return fail(err, err_len, 0, "no [Peer] section");
	if (!n->name[0])
		return fail(err, err_len, 0, "no '# Name =' line");
	if (!has_key)
		return fail(err, err_len, 0, "no PublicKey");
	if (!n->n_tunnel_ips)
		return fail(err, err_len, 0, "no '# TunnelIP =' line");
	return dedupe_observed(n);
}

int node_decode(struct node *n, const char *text, size_t len, char *err, size_t err_len)
{
	char *copy;
	int ret;

	memset(n, 0, sizeof(*n));
	if (len > NODE_RECORD_MAX)
		return fail(err, err_len, 0, "record of %zu bytes is larger than %d", len, NODE_RECORD_MAX);
	if (memchr(text, '\0', len))
		return fail(err, err_len, 0, "record contains a NUL byte");
	copy = strndup(text, len);
	if (!copy)
		return -ENOMEM;
	ret = decode_lines(n, copy, err, err_len);
	free(copy);
	if (ret)
		node_clear(n);
	return ret;
}
