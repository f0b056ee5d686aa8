/* uapi.c — wireguard-go's configuration protocol (device/uapi.go) over struct wg_device. */
#include "datapath/userspace/uapi.h"

#include <errno.h>
#include <netdb.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/userspace/device.h"
#include "datapath/userspace/send.h"
#include "datapath/userspace/timers.h"
#include "lib/ipaddr.h"
#include "lib/decimal.h"
#include "lib/key.h"
#include "lib/log.h"

struct strbuf {
	char *s;
	size_t len, cap;
	int err;
};

static void sb_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->err)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->err = -EINVAL;
			return;
		}
		if (b->s && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = (b->cap ? b->cap * 2 : 1024) + (size_t)n;
		char *s = key_realloc(b->s, b->cap, cap); /* the output holds keys */

		if (!s) {
			b->err = -ENOMEM;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
}

static void sb_key(struct strbuf *b, const char *name, const uint8_t key[32])
{
	char hex[65];

	sodium_bin2hex(hex, sizeof(hex), key, 32);
	sb_printf(b, "%s=%s\n", name, hex);
	sodium_memzero(hex, sizeof(hex));
}

static int print_allowed_ip(const struct ip_prefix *p, void *ctx)
{
	char buf[IP_PREFIX_STRLEN];

	ip_prefix_format(p, buf, sizeof(buf));
	sb_printf(ctx, "allowed_ip=%s\n", buf);
	return 0;
}

int wg_uapi_get(const struct wg_device *dev, char **out, size_t *len)
{
	struct strbuf b = { 0 };
	const struct wg_peer *p;

	/* Order and format as wireguard-go's IpcGetOperation. */
	if (dev->identity.has_identity)
		sb_key(&b, "private_key", dev->identity.private_key);
	if (dev->listen_port)
		sb_printf(&b, "listen_port=%u\n", dev->listen_port);
	if (dev->fwmark)
		sb_printf(&b, "fwmark=%u\n", dev->fwmark);
	for (p = dev->first_peer; p; p = p->next_peer) {
		char ep[ENDPOINT_STRLEN];

		sb_key(&b, "public_key", p->handshake.remote_static);
		sb_key(&b, "preshared_key", p->handshake.preshared_key);
		sb_printf(&b, "protocol_version=1\n");
		if (p->endpoint.ss_family) {
			endpoint_format((const struct sockaddr *)&p->endpoint, ep, sizeof(ep));
			sb_printf(&b, "endpoint=%s\n", ep);
		}
		sb_printf(&b, "last_handshake_time_sec=%lld\n", (long long)p->last_handshake.tv_sec);
		sb_printf(&b, "last_handshake_time_nsec=%ld\n", (long)p->last_handshake.tv_nsec);
		sb_printf(&b, "tx_bytes=%llu\n", (unsigned long long)p->tx_bytes);
		sb_printf(&b, "rx_bytes=%llu\n", (unsigned long long)p->rx_bytes);
		sb_printf(&b, "persistent_keepalive_interval=%u\n", p->persistent_keepalive_interval);
		allowedips_walk_owner(&p->allowedips, print_allowed_ip, &b);
	}
	sb_printf(&b, "%s", "");
	if (b.err) {
		if (b.s)
			sodium_memzero(b.s, b.cap);
		free(b.s);
		return b.err;
	}
	*out = b.s;
	*len = b.len;
	return 0;
}

/* One peer's part of a set request. */
struct peer_change {
	uint8_t public_key[32];
	bool remove, update_only;
	bool has_psk, has_endpoint, has_keepalive, replace_allowed_ips;
	uint8_t psk[32];
	struct sockaddr_storage endpoint;
	uint16_t keepalive;
	struct ip_prefix *aips;
	size_t n_aips, cap_aips;
};

struct wg_uapi_request {
	bool has_private_key, has_port, has_fwmark, replace_peers;
	uint8_t private_key[32];
	uint16_t port;
	uint32_t fwmark;
	struct peer_change *peers;
	size_t n_peers, cap_peers;
};

void wg_uapi_request_free(struct wg_uapi_request *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n_peers; i++) {
		free(r->peers[i].aips);
		sodium_memzero(r->peers[i].psk, 32);
	}
	if (r->peers)
		sodium_memzero(r->peers, r->cap_peers * sizeof(*r->peers));
	free(r->peers);
	sodium_memzero(r, sizeof(*r));
	free(r);
}

/* A 32-byte key as 64 hex digits, as Go's hex.DecodeString + length check. */
static int parse_hex_key(uint8_t key[32], const char *v)
{
	size_t bin_len;

	if (strlen(v) != 64 || sodium_hex2bin(key, 32, v, 64, NULL, &bin_len, NULL) || bin_len != 32)
		return -EINVAL;
	return 0;
}

static int parse_bool_true(const char *v)
{
	return strcmp(v, "true") ? -EINVAL : 0;
}

/* netip.ParseAddrPort: a literal address and port, no name resolution. */
static int parse_endpoint(struct sockaddr_storage *ss, const char *v)
{
	char host[ENDPOINT_STRLEN], port[8];
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV, .ai_socktype = SOCK_DGRAM };
	struct addrinfo *res;
	uint16_t portnum;

	if (endpoint_split(v, host, sizeof(host), &portnum))
		return -EINVAL;
	snprintf(port, sizeof(port), "%u", portnum);
	if (getaddrinfo(host, port, &hints, &res))
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

static int add_allowed_ip(struct peer_change *pc, const char *v)
{
	struct ip_prefix p;

	/* netip.ParsePrefix needs the "/bits" part. */
	if (!strchr(v, '/') || ip_prefix_parse(&p, v))
		return -EINVAL;
	if (pc->n_aips == pc->cap_aips) {
		size_t cap = pc->cap_aips ? pc->cap_aips * 2 : 8;
		struct ip_prefix *a = realloc(pc->aips, cap * sizeof(*a));

		if (!a)
			return -ENOMEM;
		pc->aips = a;
		pc->cap_aips = cap;
	}
	pc->aips[pc->n_aips++] = p;
	return 0;
}

static int device_line(struct wg_uapi_request *r, const char *key, const char *v)
{
	uint64_t n;

	if (!strcmp(key, "private_key")) {
		r->has_private_key = true;
		return parse_hex_key(r->private_key, v);
	}
	if (!strcmp(key, "listen_port")) {
		r->has_port = true;
		if (decimal_parse(v, 65535, &n))
			return -EINVAL;
		r->port = (uint16_t)n;
		return 0;
	}
	if (!strcmp(key, "fwmark")) {
		r->has_fwmark = true;
		if (decimal_parse(v, UINT32_MAX, &n))
			return -EINVAL;
		r->fwmark = (uint32_t)n;
		return 0;
	}
	if (!strcmp(key, "replace_peers")) {
		r->replace_peers = true;
		return parse_bool_true(v);
	}
	return -EINVAL;
}

static int peer_line(struct peer_change *pc, const char *key, const char *v)
{
	uint64_t n;

	if (!strcmp(key, "update_only")) {
		pc->update_only = true;
		return parse_bool_true(v);
	}
	if (!strcmp(key, "remove")) {
		pc->remove = true;
		return parse_bool_true(v);
	}
	if (!strcmp(key, "preshared_key")) {
		pc->has_psk = true;
		return parse_hex_key(pc->psk, v);
	}
	if (!strcmp(key, "endpoint")) {
		pc->has_endpoint = true;
		return parse_endpoint(&pc->endpoint, v);
	}
	if (!strcmp(key, "persistent_keepalive_interval")) {
		pc->has_keepalive = true;
		if (decimal_parse(v, 65535, &n))
			return -EINVAL;
		pc->keepalive = (uint16_t)n;
		return 0;
	}
	if (!strcmp(key, "replace_allowed_ips")) {
		/* Everything listed before it in this peer's section is replaced too. */
		pc->replace_allowed_ips = true;
		pc->n_aips = 0;
		return parse_bool_true(v);
	}
	if (!strcmp(key, "allowed_ip"))
		return add_allowed_ip(pc, v);
	if (!strcmp(key, "protocol_version"))
		return strcmp(v, "1") ? -EINVAL : 0;
	return -EINVAL;
}

static int new_peer_change(struct wg_uapi_request *r, const char *v)
{
	struct peer_change *pc;

	if (r->n_peers == r->cap_peers) {
		size_t cap = r->cap_peers ? r->cap_peers * 2 : 8;
		struct peer_change *p = key_realloc(r->peers, r->cap_peers * sizeof(*p), cap * sizeof(*p)); /* PSKs */

		if (!p)
			return -ENOMEM;
		r->peers = p;
		r->cap_peers = cap;
	}
	pc = &r->peers[r->n_peers++];
	memset(pc, 0, sizeof(*pc));
	return parse_hex_key(pc->public_key, v);
}

static int parse_lines(struct wg_uapi_request *r, const char *body, size_t len, const char *name)
{
	const char *p = body, *end = body + len;
	char line[512];
	int ret;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *eq;

		if (l == 0)
			break;
		if (l >= sizeof(line)) {
			log_err("%s: UAPI set: line too long", name);
			return -EINVAL;
		}
		memcpy(line, p, l);
		line[l] = '\0';
		p += l + (nl ? 1 : 0);
		eq = strchr(line, '=');
		if (!eq) {
			log_err("%s: UAPI set: cannot parse line \"%s\": no '='", name, line);
			return -EPROTO;
		}
		*eq = '\0';
		if (!strcmp(line, "public_key"))
			ret = new_peer_change(r, eq + 1);
		else if (r->n_peers == 0)
			ret = device_line(r, line, eq + 1);
		else
			ret = peer_line(&r->peers[r->n_peers - 1], line, eq + 1);
		if (ret) {
			/* Keys are never echoed. */
			bool secret = strstr(line, "key") != NULL;

			log_err("%s: UAPI set: invalid %s%s%s", name, line, secret ? "" : " value ",
				secret ? "" : eq + 1);
			sodium_memzero(line, sizeof(line));
			return ret;
		}
		sodium_memzero(line, sizeof(line));
	}
	return 0;
}

static int apply_peer(struct wg_device *dev, const struct peer_change *pc)
{
	struct wg_peer *peer;
	bool keepalive_on = false;
	size_t i;
	int ret = 0;

	/* As the kernel and wireguard-go: a peer with our own public key is ignored (one shared
	 * peers list serves every node). */
	if (dev->identity.has_identity &&
	    !sodium_memcmp(pc->public_key, dev->identity.public_key, 32))
		return 0;
	peer = wg_device_lookup_peer(dev, pc->public_key);
	if (!peer) {
		if (pc->update_only || pc->remove)
			return 0;
		peer = wg_device_add_peer(dev, pc->public_key);
		if (!peer)
			return -ENOMEM;
	}
	if (pc->remove) {
		wg_device_remove_peer(dev, peer);
		return 0;
	}
	if (pc->has_psk)
		memcpy(peer->handshake.preshared_key, pc->psk, 32);
	if (pc->has_endpoint) {
		/* A new endpoint forgets which of our addresses the old one used. */
		peer->endpoint = pc->endpoint;
		memset(&peer->endpoint_src, 0, sizeof(peer->endpoint_src));
	}
	if (pc->has_keepalive) {
		keepalive_on = peer->persistent_keepalive_interval == 0 && pc->keepalive != 0;
		peer->persistent_keepalive_interval = pc->keepalive;
		if (!pc->keepalive)
			peer->timer_persistent_keepalive = 0;
	}
	if (pc->replace_allowed_ips)
		allowedips_remove_by_owner(&dev->allowedips, &peer->allowedips);
	for (i = 0; i < pc->n_aips; i++)
		if ((ret = allowedips_insert(&dev->allowedips, &pc->aips[i], &peer->allowedips)))
			break;
	/* wireguard-go: turning persistent keepalive on sends one at once. */
	if (keepalive_on)
		wg_send_keepalive(peer);
	wg_send_staged_packets(peer);
	return ret;
}

int wg_uapi_parse(struct wg_uapi_request **out, const char *body, size_t len, const char *name)
{
	struct wg_uapi_request *r = calloc(1, sizeof(*r));
	int ret;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	ret = parse_lines(r, body, len, name);
	if (ret) {
		wg_uapi_request_free(r);
		return ret;
	}
	*out = r;
	return 0;
}

/* Everything that can be wrong with a request was found by wg_uapi_parse(). The two steps
 * that can still fail run before anything else changes: the fwmark (both sockets or
 * neither), then the socket rebind, which puts the old fwmark back when it fails. Running
 * out of memory while applying peers is reported (errno=-12), with what was applied kept. */
int wg_uapi_apply(struct wg_device *dev, const struct wg_uapi_request *r, const struct wg_uapi_ops *ops)
{
	uint32_t old_fwmark = dev->fwmark;
	bool fwmark_set = false;
	uint16_t bound;
	size_t i;
	int ret = 0;

	if (r->has_fwmark && r->fwmark != dev->fwmark && ops && ops->set_fwmark) {
		ret = ops->set_fwmark(ops->ctx, r->fwmark);
		if (ret) {
			log_err("%s: cannot set fwmark %u: %s", dev->name, r->fwmark, strerror(-ret));
			return -EADDRINUSE;
		}
		fwmark_set = true;
	}
	if (r->has_port && ops && ops->set_listen_port &&
	    (r->port != dev->listen_port || r->port == 0)) {
		ret = ops->set_listen_port(ops->ctx, r->port, &bound);
		if (ret) {
			log_err("%s: cannot set listen_port %u: %s", dev->name, r->port, strerror(-ret));
			if (fwmark_set)
				ops->set_fwmark(ops->ctx, old_fwmark);
			return ret;
		}
		dev->listen_port = bound;
	}
	if (r->has_fwmark)
		dev->fwmark = r->fwmark;
	if (r->has_private_key)
		wg_device_set_private_key(dev, r->private_key);
	if (r->replace_peers)
		wg_device_remove_all_peers(dev);
	for (i = 0; i < r->n_peers && !ret; i++)
		ret = apply_peer(dev, &r->peers[i]);
	if (ops && ops->changed)
		ops->changed(ops->ctx);
	return ret;
}

int wg_uapi_set(struct wg_device *dev, const char *body, size_t len, const struct wg_uapi_ops *ops)
{
	struct wg_uapi_request *r;
	int ret = wg_uapi_parse(&r, body, len, dev->name);

	if (ret)
		return ret;
	ret = wg_uapi_apply(dev, r, ops);
	wg_uapi_request_free(r);
	return ret;
}
