/* config.c — the wg-quick INI file into struct config.
 *
 * Every line is classified as wg-quick does it (lib/config_line.c): keys wg-quick consumes
 * in [Interface] are parsed with its splitting rules, everything else with wg(8)'s
 * (whitespace removed, "Key=" matched case-insensitively). Where wg-quick would hand a line
 * to wg and wg would refuse it, we refuse it here, with the line number, before anything is
 * applied. Key material never appears in messages. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "lib/config.h"
#include "lib/config_line.h"
#include "lib/decimal.h"

struct parser {
	struct config *conf;
	const char *path;
	unsigned int lineno;
	enum config_section section;
	bool wgquick_interface;
	bool peer_has_public_key;
	char *err;
	size_t err_len;
};

static int fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!p->err || !p->err_len)
		return -EINVAL;
	n = snprintf(p->err, p->err_len, "%s:%u: ", p->path, p->lineno);
	if (n < 0 || (size_t)n >= p->err_len)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->err_len - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Grow *arr (of *n elements of @size) by one zeroed element; returns it or NULL. */
static void *array_push(void *arr_ptr, size_t *n, size_t size)
{
	void **arr = arr_ptr;
	char *grown;

	if (*n >= SIZE_MAX / size - 1)
		return NULL;
	grown = realloc(*arr, (*n + 1) * size);
	if (!grown)
		return NULL;
	*arr = grown;
	memset(grown + *n * size, 0, size);
	return grown + (*n)++ * size;
}

static int strings_push(struct config_strings *s, const char *value)
{
	char *copy = strdup(value), **slot;

	if (!copy)
		return -ENOMEM;
	slot = array_push(&s->v, &s->n, sizeof(*s->v));
	if (!slot) {
		free(copy);
		return -ENOMEM;
	}
	*slot = copy;
	return 0;
}

static int replace_string(char **dst, const char *value)
{
	char *copy = strdup(value);

	if (!copy)
		return -ENOMEM;
	free(*dst);
	*dst = copy;
	return 0;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* The text after "Key=" in wg(8)'s compacted line, or NULL when the key differs.
 * Like wg's get_value(), an empty value does not match. */
static const char *wg_value(const char *compact, const char *key)
{
	size_t klen = strlen(key);

	if (strncasecmp(compact, key, klen) || compact[klen] != '=' || !compact[klen + 1])
		return NULL;
	return compact + klen + 1;
}

static int push_prefix(struct parser *p, struct ip_prefix **arr, size_t *n, const char *key, const char *entry)
{
	struct ip_prefix prefix, *slot;
	const char *why = ip_prefix_parse_reason(&prefix, entry);

	if (why)
		return fail(p, "invalid %s '%s': %s", key, entry, why);
	slot = array_push(arr, n, sizeof(**arr));
	if (!slot)
		return -ENOMEM;
	*slot = prefix;
	return 0;
}

/* wg-quick splits Address and DNS with ${value//,/ } and word splitting on IFS. */
static int for_each_word(struct parser *p, const char *value, const char *key,
			 int (*fn)(struct parser *p, const char *key, const char *word))
{
	char *copy = strdup(value), *word, *save = NULL;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	for (word = strtok_r(copy, ", \t\n", &save); word && !ret; word = strtok_r(NULL, ", \t\n", &save))
		ret = fn(p, key, word);
	free(copy);
	return ret;
}

static int add_address(struct parser *p, const char *key, const char *word)
{
	return push_prefix(p, &p->conf->iface.addresses, &p->conf->iface.n_addresses, key, word);
}

static bool dns_looks_like_address(const char *v)
{
	/* wg-quick: [[ $v =~ (^[0-9.]+$)|(^.*:.*$) ]] decides server versus search domain. */
	if (strchr(v, ':'))
		return true;
	for (; *v; v++)
		if ((*v < '0' || *v > '9') && *v != '.')
			return false;
	return true;
}

static int add_dns(struct parser *p, const char *key, const char *word)
{
	struct config_interface *iface = &p->conf->iface;
	struct ip_addr addr, *slot;

	if (!dns_looks_like_address(word))
		return strings_push(&iface->dns_search, word);
	if (ip_addr_parse(&addr, word))
		return fail(p, "invalid DNS '%s': not an IPv4 or IPv6 address", word);
	slot = array_push(&iface->dns, &iface->n_dns, sizeof(*iface->dns));
	if (!slot)
		return -ENOMEM;
	*slot = addr;
	return 0;
}

/* Names iproute2 knows without /etc/iproute2/rt_tables, then that file (and the one the
 * distribution ships), as `ip route add ... table NAME` would resolve them. */
static int table_by_name(const char *name, uint32_t *id)
{
	static const char *const files[] = { "/etc/iproute2/rt_tables", "/usr/share/iproute2/rt_tables" };
	char line[256], word[128];
	unsigned long n;

	if (!strcmp(name, "main")) {
		*id = 254;
		return 0;
	}
	if (!strcmp(name, "local")) {
		*id = 255;
		return 0;
	}
	if (!strcmp(name, "default")) {
		*id = 253;
		return 0;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		FILE *f = fopen(files[i], "re");

		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "%lu %127s", &n, word) == 2 && !strcmp(word, name) && n && n <= UINT32_MAX) {
				*id = (uint32_t)n;
				fclose(f);
				return 0;
			}
		fclose(f);
	}
	return -ENOENT;
}

static int parse_table(struct parser *p, const char *value)
{
	struct config_interface *iface = &p->conf->iface;
	uint64_t n;
	int ret;

	ret = replace_string(&iface->table_text, value);
	if (ret)
		return ret;
	/* wg-quick compares with off/auto after nocasematch is switched off: case matters. */
	if (!strcmp(value, "off")) {
		iface->table = CONFIG_TABLE_OFF;
	} else if (!*value || !strcmp(value, "auto")) {
		iface->table = CONFIG_TABLE_AUTO;
	} else if (all_digits(value)) {
		if (decimal_parse(value, UINT32_MAX, &n) || !n)
			return fail(p, "invalid Table '%s': table number out of range 1-4294967295", value);
		iface->table = CONFIG_TABLE_ID;
		iface->table_id = (uint32_t)n;
	} else if (!table_by_name(value, &iface->table_id)) {
		iface->table = CONFIG_TABLE_ID;
	} else {
		return fail(p, "invalid Table '%s': not off, auto, a number or a table name from rt_tables", value);
	}
	return 0;
}

static int parse_mtu(struct parser *p, const char *value)
{
	uint64_t n;

	if (!*value) {
		p->conf->iface.mtu = 0;
		return 0;
	}
	/* 68: the smallest MTU IPv4 allows (RFC 791); 65535: the largest a link can carry. */
	if (decimal_parse(value, 65535, &n) || n < 68)
		return fail(p, "invalid MTU '%s': must be a number from 68 to 65535", value);
	p->conf->iface.mtu = (uint32_t)n;
	return 0;
}

static int parse_save_config(struct parser *p, const char *value)
{
	/* wg-quick's read_bool runs under nocasematch. */
	if (!strcasecmp(value, "true"))
		p->conf->iface.save_config = true;
	else if (!strcasecmp(value, "false"))
		p->conf->iface.save_config = false;
	else
		return fail(p, "invalid SaveConfig '%s': neither true nor false", value);
	return 0;
}

static int parse_wgquick_key(struct parser *p, const struct config_line *l)
{
	struct config_interface *iface = &p->conf->iface;
	const char *k = l->key, *v = l->value;

	if (!l->has_equals)
		return fail(p, "expected '%s = VALUE'", k);
	if (!strcasecmp(k, "Address"))
		return for_each_word(p, v, "Address", add_address);
	if (!strcasecmp(k, "DNS"))
		return for_each_word(p, v, "DNS", add_dns);
	if (!strcasecmp(k, "MTU"))
		return parse_mtu(p, v);
	if (!strcasecmp(k, "Table"))
		return parse_table(p, v);
	if (!strcasecmp(k, "SaveConfig"))
		return parse_save_config(p, v);
	if (!strcasecmp(k, "PreUp"))
		return strings_push(&iface->pre_up, v);
	if (!strcasecmp(k, "PostUp"))
		return strings_push(&iface->post_up, v);
	if (!strcasecmp(k, "PreDown"))
		return strings_push(&iface->pre_down, v);
	return strings_push(&iface->post_down, v);
}

enum secret_source { SECRET_INLINE, SECRET_FILE, SECRET_COMMAND };

/* The three ways to give one secret are exclusive; the same way twice: the last wins. */
static int check_secret_source(struct parser *p, const char *base, enum secret_source kind,
			       bool has_inline, const char *file, const char *command)
{
	static const char *const suffix[] = { "", "File", "Command" };
	enum secret_source other;

	if (kind != SECRET_INLINE && has_inline)
		other = SECRET_INLINE;
	else if (kind != SECRET_FILE && file)
		other = SECRET_FILE;
	else if (kind != SECRET_COMMAND && command)
		other = SECRET_COMMAND;
	else
		return 0;
	return fail(p, "%s%s conflicts with an earlier %s%s line: give the key one way only",
		    base, suffix[kind], base, suffix[other]);
}

static int parse_secret_source(struct parser *p, const struct config_line *l, const char *base,
			       bool has_inline, char **file, char **command)
{
	enum secret_source kind = strcasecmp(l->key + strlen(base), "File") ? SECRET_COMMAND : SECRET_FILE;
	int ret = check_secret_source(p, base, kind, has_inline, *file, *command);

	if (ret)
		return ret;
	if (!l->has_equals || !*l->value)
		return fail(p, "%s%s has no value", base, kind == SECRET_FILE ? "File" : "Command");
	return replace_string(kind == SECRET_FILE ? file : command, l->value);
}

static int parse_key_value(struct parser *p, uint8_t key[WG_KEY_LEN], const char *name, const char *value,
			   bool secret)
{
	if (!key_from_base64(key, value))
		return 0;
	sodium_memzero(key, WG_KEY_LEN);
	if (secret)
		return fail(p, "invalid %s: not a 44-character base64 WireGuard key", name);
	return fail(p, "invalid %s '%s': not a 44-character base64 WireGuard key", name, value);
}

/* wg's parse_port() hands the value to getaddrinfo(), which also knows service names from
 * /etc/services ("ntp" is 123): a local lookup, nothing leaves the machine. */
static int udp_service_port(const char *name, uint64_t *port)
{
	struct servent se, *found = NULL;
	char buf[1024];

	if (getservbyname_r(name, "udp", &se, buf, sizeof(buf), &found) || !found)
		return -ENOENT;
	*port = ntohs((uint16_t)found->s_port);
	return 0;
}

static int parse_interface_line(struct parser *p, const struct config_line *l)
{
	struct config_interface *iface = &p->conf->iface;
	const char *v;
	uint64_t n;

	if (p->wgquick_interface && config_key_is_wgquick(l->key)) {
		if (!iface->wgquick_line)
			iface->wgquick_line = p->lineno;
		return parse_wgquick_key(p, l);
	}
	if (config_key_is_extension(l->key, CONFIG_SECTION_INTERFACE)) {
		iface->private_key_source_line = p->lineno;
		return parse_secret_source(p, l, "PrivateKey", iface->has_private_key,
					   &iface->private_key_file, &iface->private_key_command);
	}
	if ((v = wg_value(l->compact, "ListenPort"))) {
		/* wg(8) takes a number or a UDP service name; "off" is not a port. */
		if (decimal_parse(v, 65535, &n) && (all_digits(v) || udp_service_port(v, &n)))
			return fail(p, "invalid ListenPort '%s': must be a number from 0 to 65535 or a UDP service name", v);
		iface->has_listen_port = true;
		iface->listen_port = (uint16_t)n;
		return 0;
	}
	if ((v = wg_value(l->compact, "FwMark"))) {
		char *end = NULL;
		int base = 10;

		if (!strcasecmp(v, "off")) {
			iface->has_fwmark = true;
			iface->fwmark = 0;
			return 0;
		}
		/* wg's parse_fwmark: decimal, or hex after a lowercase "0x". */
		if (strlen(v) > 2 && v[0] == '0' && v[1] == 'x')
			base = 16;
		errno = 0;
		n = (v[0] >= '0' && v[0] <= '9') ? strtoul(v, &end, base) : ULONG_MAX;
		if (n == ULONG_MAX || errno || *end || n > UINT32_MAX)
			return fail(p, "invalid FwMark '%s': neither 0/off nor 0-0xffffffff", v);
		iface->has_fwmark = true;
		iface->fwmark = (uint32_t)n;
		return 0;
	}
	if ((v = wg_value(l->compact, "PrivateKey"))) {
		int ret = check_secret_source(p, "PrivateKey", SECRET_INLINE, false,
					      iface->private_key_file, iface->private_key_command);
		if (ret)
			return ret;
		ret = parse_key_value(p, iface->private_key, "PrivateKey", v, true);
		iface->has_private_key = !ret;
		return ret;
	}
	return -ENOENT;
}

/* wg(8) resolves Endpoint at once; we only check its shape here and resolve when applying. */
static const char *endpoint_error(const char *v)
{
	char host[256];
	uint16_t port;
	const char *colon;

	if (!endpoint_split(v, host, sizeof(host), &port))
		return NULL;
	if (v[0] == '[') {
		const char *close = strchr(v, ']');

		if (!close)
			return "no matching ']'";
		if (close == v + 1)
			return "empty host";
		if ((size_t)(close - v - 1) >= sizeof(host))
			return "host name too long";
		if (close[1] != ':' || !close[2])
			return "no port after ']'";
		return "port must be a number from 0 to 65535";
	}
	colon = strrchr(v, ':');
	if (!colon || !colon[1])
		return "no port: expected HOST:PORT or [IPV6]:PORT";
	if (colon == v)
		return "empty host";
	if (strchr(v, ':') != colon)
		return "an IPv6 address needs brackets: [IPV6]:PORT";
	if ((size_t)(colon - v) >= sizeof(host))
		return "host name too long";
	return "port must be a number from 0 to 65535";
}

static int parse_allowed_ips(struct parser *p, struct config_peer *peer, const char *v)
{
	const char *entry = v, *comma;
	char buf[IP_PREFIX_STRLEN + 8];
	int ret;

	/* wg's parse_allowedips: strsep on ',', so empty entries are errors too. */
	for (;;) {
		size_t len;

		comma = strchr(entry, ',');
		len = comma ? (size_t)(comma - entry) : strlen(entry);
		if (len >= sizeof(buf))
			return fail(p, "invalid AllowedIPs '%.*s': not an IPv4 or IPv6 address", (int)len, entry);
		memcpy(buf, entry, len);
		buf[len] = '\0';
		ret = push_prefix(p, &peer->allowed_ips, &peer->n_allowed_ips, "AllowedIPs", buf);
		if (ret || !comma)
			return ret;
		entry = comma + 1;
	}
}

static int parse_peer_line(struct parser *p, const struct config_line *l)
{
	struct config_peer *peer = &p->conf->peers[p->conf->n_peers - 1];
	const char *v, *why;
	uint64_t n;
	int ret;

	if (config_key_is_extension(l->key, CONFIG_SECTION_PEER)) {
		peer->preshared_key_source_line = p->lineno;
		return parse_secret_source(p, l, "PresharedKey", peer->has_preshared_key,
					   &peer->preshared_key_file, &peer->preshared_key_command);
	}
	if ((v = wg_value(l->compact, "PublicKey"))) {
		ret = parse_key_value(p, peer->public_key, "PublicKey", v, false);
		p->peer_has_public_key = !ret;
		return ret;
	}
	if ((v = wg_value(l->compact, "PresharedKey"))) {
		ret = check_secret_source(p, "PresharedKey", SECRET_INLINE, false,
					  peer->preshared_key_file, peer->preshared_key_command);
		if (ret)
			return ret;
		ret = parse_key_value(p, peer->preshared_key, "PresharedKey", v, true);
		peer->has_preshared_key = !ret;
		return ret;
	}
	if ((v = wg_value(l->compact, "Endpoint"))) {
		why = endpoint_error(v);
		if (why)
			return fail(p, "invalid Endpoint '%s': %s", v, why);
		return replace_string(&peer->endpoint, v);
	}
	if ((v = wg_value(l->compact, "AllowedIPs")))
		return parse_allowed_ips(p, peer, v);
	if ((v = wg_value(l->compact, "PersistentKeepalive"))) {
		if (!strcasecmp(v, "off"))
			n = 0;
		else if (decimal_parse(v, 65535, &n))
			return fail(p, "invalid PersistentKeepalive '%s': neither 0/off nor 1-65535", v);
		peer->has_persistent_keepalive = true;
		peer->persistent_keepalive = (uint16_t)n;
		return 0;
	}
	return -ENOENT;
}

/* Leaving a [Peer]: wg's config_read_finish() refuses a peer without a public key. */
static int finish_peer(struct parser *p)
{
	if (p->section != CONFIG_SECTION_PEER || p->peer_has_public_key)
		return 0;
	p->lineno = p->conf->peers[p->conf->n_peers - 1].line;
	return fail(p, "[Peer] has no PublicKey");
}

static int enter_section(struct parser *p, const struct config_line *l)
{
	enum config_section section;
	struct config_peer *peer;
	bool wgquick_interface;
	unsigned int lineno = p->lineno;
	int ret;

	config_line_section(l, &section, &wgquick_interface);
	if (section == CONFIG_SECTION_NONE)
		return fail(p, "unknown section '%s': expected [Interface] or [Peer]", l->key);
	ret = finish_peer(p);
	if (ret)
		return ret;
	p->section = section;
	p->wgquick_interface = wgquick_interface;
	if (section == CONFIG_SECTION_INTERFACE) {
		p->conf->has_interface = true;
		return 0;
	}
	peer = array_push(&p->conf->peers, &p->conf->n_peers, sizeof(*p->conf->peers));
	if (!peer)
		return -ENOMEM;
	peer->line = lineno;
	p->peer_has_public_key = false;
	return 0;
}

/* "# Name = x" names the section it stands in; the first such comment wins. */
static int take_name_comment(struct parser *p, const struct config_line *l)
{
	const char *s = l->raw, *end;
	char **name;

	if (*s++ != '#' || p->section == CONFIG_SECTION_NONE)
		return 0;
	while (*s == ' ' || *s == '\t')
		s++;
	if (strncasecmp(s, "Name", 4))
		return 0;
	s += 4;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s++ != '=')
		return 0;
	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	name = p->section == CONFIG_SECTION_PEER ? &p->conf->peers[p->conf->n_peers - 1].name : &p->conf->iface.name;
	if (*name || end == s)
		return 0;
	*name = strndup(s, (size_t)(end - s));
	return *name ? 0 : -ENOMEM;
}

static int parse_line(struct parser *p, const struct config_line *l)
{
	int ret;

	if (l->is_comment)
		return take_name_comment(p, l);
	if (l->key[0] == '[')
		return enter_section(p, l);
	if (p->section == CONFIG_SECTION_NONE)
		return fail(p, "'%s' is outside of an [Interface] or [Peer] section", l->key);
	if (p->section == CONFIG_SECTION_INTERFACE)
		ret = parse_interface_line(p, l);
	else
		ret = parse_peer_line(p, l);
	if (ret != -ENOENT)
		return ret;
	if (!l->has_equals)
		return fail(p, "expected 'KEY = VALUE', found '%s'", l->key);
	if (!strchr(l->compact, '=')[1])
		return fail(p, "%s has no value", l->key);
	if (p->section == CONFIG_SECTION_INTERFACE && config_key_is_wgquick(l->key))
		return fail(p, "'%s' is a wg-quick key, but wg-quick reads it only after an exact [Interface] header",
			    l->key);
	return fail(p, "unknown key '%s' in %s", l->key,
		    p->section == CONFIG_SECTION_PEER ? "[Peer]" : "[Interface]");
}

int config_parse(struct config **out, const char *path, const char *text, char *err, size_t err_len)
{
	struct parser p = { .path = path ? path : "(config)", .err = err, .err_len = err_len };
	struct config_line l;
	const char *start = text, *nl;
	int ret = 0;

	*out = NULL;
	if (err && err_len)
		err[0] = '\0';
	p.conf = calloc(1, sizeof(*p.conf));
	if (!p.conf)
		return -ENOMEM;
	p.conf->path = strdup(p.path);
	if (!p.conf->path) {
		ret = -ENOMEM;
		goto out;
	}
	/* bash's `read ... || [[ -n $line ]]`: a last line without '\n' still counts. */
	while (*start) {
		nl = strchr(start, '\n');
		p.lineno++;
		ret = config_line_split(&l, start, nl ? (size_t)(nl - start) : strlen(start));
		if (ret)
			goto out;
		ret = parse_line(&p, &l);
		config_line_free(&l);
		if (ret)
			goto out;
		if (!nl)
			break;
		start = nl + 1;
	}
	ret = finish_peer(&p);
out:
	if (ret == -ENOMEM && err && err_len)
		snprintf(err, err_len, "%s: %s", p.path, strerror(ENOMEM));
	if (ret) {
		config_free(p.conf);
		return ret;
	}
	*out = p.conf;
	return 0;
}

static void strings_free(struct config_strings *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

void config_free(struct config *conf)
{
	struct config_interface *iface;

	if (!conf)
		return;
	iface = &conf->iface;
	free(conf->path);
	free(iface->name);
	free(iface->addresses);
	free(iface->private_key_file);
	free(iface->private_key_command);
	free(iface->dns);
	strings_free(&iface->dns_search);
	free(iface->table_text);
	strings_free(&iface->pre_up);
	strings_free(&iface->post_up);
	strings_free(&iface->pre_down);
	strings_free(&iface->post_down);
	for (size_t i = 0; i < conf->n_peers; i++) {
		struct config_peer *peer = &conf->peers[i];

		free(peer->name);
		free(peer->preshared_key_file);
		free(peer->preshared_key_command);
		free(peer->endpoint);
		free(peer->allowed_ips);
		sodium_memzero(peer, sizeof(*peer));
	}
	free(conf->peers);
	sodium_memzero(conf, sizeof(*conf));
	free(conf);
}
