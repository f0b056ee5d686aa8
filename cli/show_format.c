/* show_format.c — wg(8)'s output formats for a device (see show_format.h).
 *
 * Scripts parse `wg show` output, so every space, tab and unit here matches wireguard-tools'
 * show.c/showconf.c; the human view is the one place with colors, and those are stripped
 * unless the terminal (or WG_COLOR_MODE=always) wants them, exactly as wg's terminal.c. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/show_format.h"
#include "lib/key.h"

#define RESET "\x1b[0m"
#define BOLD "\x1b[1m"
#define FG_RED "\x1b[31m"
#define FG_GREEN "\x1b[32m"
#define FG_YELLOW "\x1b[33m"
#define FG_CYAN "\x1b[36m"

/* "[host]:port" with getnameinfo's longest host and service. */
#define EP_TEXT_LEN (NI_MAXHOST + NI_MAXSERV + 4)

void show_style_from_env(struct show_style *style, FILE *out)
{
	const char *mode = getenv("WG_COLOR_MODE"), *hide = getenv("WG_HIDE_KEYS");

	style->out = out;
	if (mode && !strcmp(mode, "always"))
		style->color = true;
	else if (mode && !strcmp(mode, "never"))
		style->color = false;
	else
		style->color = isatty(fileno(out));
	style->show_keys = hide && !strcmp(hide, "never");
	style->now = time(NULL);
}

/* Drop "ESC [ ... m" sequences in place. */
static void strip_colors(char *s)
{
	char *w = s;

	while (*s) {
		if (s[0] == '\x1b' && s[1] == '[') {
			const char *m = strchr(s, 'm');

			if (m) {
				s = (char *)m + 1;
				continue;
			}
		}
		*w++ = *s++;
	}
	*w = '\0';
}

static void term_printf(const struct show_style *style, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void term_printf(const struct show_style *style, const char *fmt, ...)
{
	char *buf;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (!style->color)
		strip_colors(buf);
	fputs(buf, style->out);
	free(buf);
}

/* Colors are added to these strings unconditionally and stripped by term_printf. */
void show_format_bytes(char *buf, size_t len, uint64_t b, bool color)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = b;
	int unit = -1;

	if (b < 1024) {
		snprintf(buf, len, "%u " FG_CYAN "B" RESET, (unsigned int)b);
	} else {
		while (unit < 3 && v >= 1024) {
			v /= 1024;
			unit++;
		}
		snprintf(buf, len, "%.2f " FG_CYAN "%s" RESET, v, units[unit]);
	}
	if (!color)
		strip_colors(buf);
}

size_t show_format_duration(char *buf, size_t len, unsigned long long left, bool color)
{
	static const struct {
		const char *name;
		unsigned long long seconds;
	} parts[] = {
		{ "year", 365ULL * 24 * 60 * 60 }, { "day", 24 * 60 * 60 }, { "hour", 60 * 60 },
		{ "minute", 60 }, { "second", 1 },
	};
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		unsigned long long n = left / parts[i].seconds;
		int w;

		left %= parts[i].seconds;
		if (!n || off >= len)
			continue;
		w = snprintf(buf + off, len - off, "%s%llu " FG_CYAN "%s%s" RESET, off ? ", " : "", n, parts[i].name,
			     n == 1 ? "" : "s");
		if (w > 0)
			off = off + w < len ? off + w : len - 1;
	}
	if (!color && len) {
		strip_colors(buf);
		off = strlen(buf);
	}
	return off;
}

void show_format_ago(char *buf, size_t len, const struct timespec *t, time_t now, bool color)
{
	size_t off;

	if (now == t->tv_sec) {
		snprintf(buf, len, "Now");
	} else if (now < t->tv_sec) {
		snprintf(buf, len, "(" FG_RED "System clock wound backward; connection problems may ensue." RESET ")");
		if (!color)
			strip_colors(buf);
	} else {
		/* now > tv_sec here, so the difference fits unsigned even when tv_sec is far in
		 * the past (a reported time is anyone's); signed, it could overflow. */
		off = show_format_duration(buf, len, (unsigned long long)now - (unsigned long long)t->tv_sec, color);
		snprintf(buf + off, len - off, " ago");
	}
}

static bool handshake_never(const struct wgpeer *p)
{
	return !p->last_handshake_time.tv_sec && !p->last_handshake_time.tv_nsec;
}

static int peer_cmp(const void *first, const void *second)
{
	const struct wgpeer *a = *(const struct wgpeer *const *)first, *b = *(const struct wgpeer *const *)second;
	const struct timespec *ta = &a->last_handshake_time, *tb = &b->last_handshake_time;

	if (handshake_never(a) && !handshake_never(b))
		return 1;
	if (handshake_never(b) && !handshake_never(a))
		return -1;
	/* Compared, not subtracted: the times come from the kernel or a UAPI daemon, and a
	 * difference of two extreme ones overflows. */
	if (ta->tv_sec != tb->tv_sec)
		return ta->tv_sec < tb->tv_sec ? 1 : -1;
	return ta->tv_nsec < tb->tv_nsec ? 1 : ta->tv_nsec > tb->tv_nsec ? -1 : 0;
}

void show_sort_peers(struct wgdevice *dev)
{
	struct wgpeer *peer, **v;
	size_t n = 0, i = 0;

	for_each_wgpeer(dev, peer)
		n++;
	if (!n)
		return;
	v = calloc(n, sizeof(*v));
	if (!v)
		return;
	for_each_wgpeer(dev, peer)
		v[i++] = peer;
	/* glibc's qsort is a merge sort here, so equal peers keep their order as in wg. */
	qsort(v, n, sizeof(*v), peer_cmp);
	dev->first_peer = v[0];
	for (i = 1; i < n; i++)
		v[i - 1]->next_peer = v[i];
	v[n - 1]->next_peer = NULL;
	dev->last_peer = v[n - 1];
	free(v);
}

/* The key in base64, or "(none)" for an all-zero or absent key. */
static const char *key_text(char buf[WG_KEY_LEN_BASE64], const uint8_t key[WG_KEY_LEN], bool have)
{
	if (!have || key_is_zero(key))
		return "(none)";
	key_to_base64(buf, key);
	return buf;
}

static const char *secret_text(const struct show_style *style, char buf[WG_KEY_LEN_BASE64],
			       const uint8_t key[WG_KEY_LEN])
{
	return style->show_keys ? key_text(buf, key, true) : "(hidden)";
}

static bool has_endpoint(const struct wgpeer *p)
{
	return p->endpoint.addr.sa_family == AF_INET || p->endpoint.addr.sa_family == AF_INET6;
}

/* Numeric "host:port", brackets around IPv6 hosts. */
static const char *endpoint_text(char *buf, size_t len, const wg_endpoint *ep)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	socklen_t sl = ep->addr.sa_family == AF_INET ? sizeof(ep->addr4) : sizeof(ep->addr6);
	int ret = getnameinfo(&ep->addr, sl, host, sizeof(host), serv, sizeof(serv),
			      NI_DGRAM | NI_NUMERICSERV | NI_NUMERICHOST);

	if (ret)
		snprintf(buf, len, "%s", gai_strerror(ret));
	else if (ep->addr.sa_family == AF_INET6 && strchr(host, ':'))
		snprintf(buf, len, "[%s]:%s", host, serv);
	else
		snprintf(buf, len, "%s:%s", host, serv);
	return buf;
}

static const char *ip_text(char buf[INET6_ADDRSTRLEN], const struct wgallowedip *a)
{
	buf[0] = '\0';
	if (a->prefix.addr.family == AF_INET || a->prefix.addr.family == AF_INET6)
		inet_ntop(a->prefix.addr.family, a->prefix.addr.bytes, buf, INET6_ADDRSTRLEN);
	return buf;
}

void show_pretty(const struct show_style *s, struct wgdevice *dev)
{
	char kb[WG_KEY_LEN_BASE64], ipb[INET6_ADDRSTRLEN], text[EP_TEXT_LEN], text2[128];
	struct wgpeer *peer;
	struct wgallowedip *a;

	term_printf(s, RESET);
	term_printf(s, FG_GREEN BOLD "interface" RESET ": " FG_GREEN "%s" RESET "\n", dev->name);
	if (dev->flags & WGDEVICE_HAS_PUBLIC_KEY)
		term_printf(s, "  " BOLD "public key" RESET ": %s\n", key_text(kb, dev->public_key, true));
	if (dev->flags & WGDEVICE_HAS_PRIVATE_KEY)
		term_printf(s, "  " BOLD "private key" RESET ": %s\n", secret_text(s, kb, dev->private_key));
	if (dev->listen_port)
		term_printf(s, "  " BOLD "listening port" RESET ": %u\n", dev->listen_port);
	if (dev->fwmark)
		term_printf(s, "  " BOLD "fwmark" RESET ": 0x%x\n", dev->fwmark);
	if (dev->first_peer) {
		show_sort_peers(dev);
		term_printf(s, "\n");
	}
	for_each_wgpeer(dev, peer) {
		term_printf(s, FG_YELLOW BOLD "peer" RESET ": " FG_YELLOW "%s" RESET "\n",
			    key_text(kb, peer->public_key, true));
		if (peer->flags & WGPEER_HAS_PRESHARED_KEY)
			term_printf(s, "  " BOLD "preshared key" RESET ": %s\n", secret_text(s, kb, peer->preshared_key));
		if (has_endpoint(peer))
			term_printf(s, "  " BOLD "endpoint" RESET ": %s\n", endpoint_text(text, sizeof(text), &peer->endpoint));
		term_printf(s, "  " BOLD "allowed ips" RESET ": ");
		for_each_wgallowedip(peer, a)
			term_printf(s, "%s" FG_CYAN "/" RESET "%u%s", ip_text(ipb, a), a->prefix.cidr,
				    a->next_allowedip ? ", " : "\n");
		if (!peer->first_allowedip)
			term_printf(s, "(none)\n");
		if (peer->last_handshake_time.tv_sec) {
			show_format_ago(text, sizeof(text), &peer->last_handshake_time, s->now, true);
			term_printf(s, "  " BOLD "latest handshake" RESET ": %s\n", text);
		}
		if (peer->rx_bytes || peer->tx_bytes) {
			show_format_bytes(text, sizeof(text), peer->rx_bytes, true);
			show_format_bytes(text2, sizeof(text2), peer->tx_bytes, true);
			term_printf(s, "  " BOLD "transfer" RESET ": %s received, %s sent\n", text, text2);
		}
		if (peer->persistent_keepalive_interval) {
			show_format_duration(text, sizeof(text), peer->persistent_keepalive_interval, true);
			term_printf(s, "  " BOLD "persistent keepalive" RESET ": every %s\n", text);
		}
		if (peer->next_peer)
			term_printf(s, "\n");
	}
	key_wipe(kb, sizeof(kb));
}

static void prefix_name(FILE *out, const struct wgdevice *dev, bool with_interface)
{
	if (with_interface)
		fprintf(out, "%s\t", dev->name);
}

static void print_allowedips(FILE *out, const struct wgpeer *peer, char sep, char end)
{
	char ipb[INET6_ADDRSTRLEN];
	struct wgallowedip *a;

	for_each_wgallowedip(peer, a)
		fprintf(out, "%s/%u%c", ip_text(ipb, a), a->prefix.cidr, a->next_allowedip ? sep : end);
	if (!peer->first_allowedip)
		fprintf(out, "(none)%c", end);
}

static void print_fwmark(FILE *out, uint32_t fwmark, char end)
{
	if (fwmark)
		fprintf(out, "0x%x%c", fwmark, end);
	else
		fprintf(out, "off%c", end);
}

static void show_dump(FILE *out, const struct wgdevice *dev, bool with_interface)
{
	char kb[WG_KEY_LEN_BASE64], ep[EP_TEXT_LEN];
	struct wgpeer *peer;

	prefix_name(out, dev, with_interface);
	fprintf(out, "%s\t", key_text(kb, dev->private_key, dev->flags & WGDEVICE_HAS_PRIVATE_KEY));
	fprintf(out, "%s\t%u\t", key_text(kb, dev->public_key, dev->flags & WGDEVICE_HAS_PUBLIC_KEY), dev->listen_port);
	print_fwmark(out, dev->fwmark, '\n');
	for_each_wgpeer(dev, peer) {
		prefix_name(out, dev, with_interface);
		fprintf(out, "%s\t", key_text(kb, peer->public_key, true));
		fprintf(out, "%s\t", key_text(kb, peer->preshared_key, peer->flags & WGPEER_HAS_PRESHARED_KEY));
		fprintf(out, "%s\t", has_endpoint(peer) ? endpoint_text(ep, sizeof(ep), &peer->endpoint) : "(none)");
		print_allowedips(out, peer, ',', '\t');
		fprintf(out, "%llu\t%" PRIu64 "\t%" PRIu64 "\t", (unsigned long long)peer->last_handshake_time.tv_sec,
			peer->rx_bytes, peer->tx_bytes);
		if (peer->persistent_keepalive_interval)
			fprintf(out, "%u\n", peer->persistent_keepalive_interval);
		else
			fprintf(out, "off\n");
	}
	key_wipe(kb, sizeof(kb));
}

static const char *const keywords[] = {
	"public-key", "private-key", "listen-port", "fwmark", "peers", "preshared-keys", "endpoints",
	"allowed-ips", "latest-handshakes", "transfer", "persistent-keepalive", "dump",
};

bool show_keyword_valid(const char *keyword)
{
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (!strcmp(keyword, keywords[i]))
			return true;
	return false;
}

/* Per-peer keywords: one line per peer, "KEY\tVALUE". */
static void show_peer_keyword(FILE *out, const struct wgdevice *dev, const char *kw, bool with_interface)
{
	char kb[WG_KEY_LEN_BASE64], kb2[WG_KEY_LEN_BASE64], ep[EP_TEXT_LEN];
	struct wgpeer *peer;

	for_each_wgpeer(dev, peer) {
		prefix_name(out, dev, with_interface);
		fputs(key_text(kb, peer->public_key, true), out);
		if (!strcmp(kw, "peers")) {
			fputc('\n', out);
			continue;
		}
		fputc('\t', out);
		if (!strcmp(kw, "preshared-keys")) {
			fprintf(out, "%s\n", key_text(kb2, peer->preshared_key, peer->flags & WGPEER_HAS_PRESHARED_KEY));
		} else if (!strcmp(kw, "endpoints")) {
			fprintf(out, "%s\n", has_endpoint(peer) ? endpoint_text(ep, sizeof(ep), &peer->endpoint) : "(none)");
		} else if (!strcmp(kw, "allowed-ips")) {
			print_allowedips(out, peer, ' ', '\n');
		} else if (!strcmp(kw, "latest-handshakes")) {
			fprintf(out, "%llu\n", (unsigned long long)peer->last_handshake_time.tv_sec);
		} else if (!strcmp(kw, "transfer")) {
			fprintf(out, "%" PRIu64 "\t%" PRIu64 "\n", peer->rx_bytes, peer->tx_bytes);
		} else if (!strcmp(kw, "persistent-keepalive")) {
			if (peer->persistent_keepalive_interval)
				fprintf(out, "%u\n", peer->persistent_keepalive_interval);
			else
				fprintf(out, "off\n");
		}
	}
	key_wipe(kb2, sizeof(kb2));
}

bool show_keyword(FILE *out, const struct wgdevice *dev, const char *kw, bool with_interface)
{
	char kb[WG_KEY_LEN_BASE64];

	if (!show_keyword_valid(kw))
		return false;
	if (!strcmp(kw, "dump")) {
		show_dump(out, dev, with_interface);
	} else if (!strcmp(kw, "public-key")) {
		prefix_name(out, dev, with_interface);
		fprintf(out, "%s\n", key_text(kb, dev->public_key, dev->flags & WGDEVICE_HAS_PUBLIC_KEY));
	} else if (!strcmp(kw, "private-key")) {
		prefix_name(out, dev, with_interface);
		fprintf(out, "%s\n", key_text(kb, dev->private_key, dev->flags & WGDEVICE_HAS_PRIVATE_KEY));
		key_wipe(kb, sizeof(kb));
	} else if (!strcmp(kw, "listen-port")) {
		prefix_name(out, dev, with_interface);
		fprintf(out, "%u\n", dev->listen_port);
	} else if (!strcmp(kw, "fwmark")) {
		prefix_name(out, dev, with_interface);
		print_fwmark(out, dev->fwmark, '\n');
	} else {
		show_peer_keyword(out, dev, kw, with_interface);
	}
	return true;
}

void show_config(FILE *out, const struct wgdevice *dev)
{
	char kb[WG_KEY_LEN_BASE64], ipb[INET6_ADDRSTRLEN], ep[EP_TEXT_LEN];
	struct wgpeer *peer;
	struct wgallowedip *a;

	fprintf(out, "[Interface]\n");
	if (dev->listen_port)
		fprintf(out, "ListenPort = %u\n", dev->listen_port);
	if (dev->fwmark)
		fprintf(out, "FwMark = 0x%x\n", dev->fwmark);
	if (dev->flags & WGDEVICE_HAS_PRIVATE_KEY) {
		key_to_base64(kb, dev->private_key);
		fprintf(out, "PrivateKey = %s\n", kb);
	}
	fprintf(out, "\n");
	for_each_wgpeer(dev, peer) {
		key_to_base64(kb, peer->public_key);
		fprintf(out, "[Peer]\nPublicKey = %s\n", kb);
		if (peer->flags & WGPEER_HAS_PRESHARED_KEY) {
			key_to_base64(kb, peer->preshared_key);
			fprintf(out, "PresharedKey = %s\n", kb);
		}
		if (peer->first_allowedip)
			fprintf(out, "AllowedIPs = ");
		for_each_wgallowedip(peer, a)
			fprintf(out, "%s/%d%s", ip_text(ipb, a), a->prefix.cidr, a->next_allowedip ? ", " : "\n");
		if (has_endpoint(peer))
			fprintf(out, "Endpoint = %s\n", endpoint_text(ep, sizeof(ep), &peer->endpoint));
		if (peer->persistent_keepalive_interval)
			fprintf(out, "PersistentKeepalive = %u\n", peer->persistent_keepalive_interval);
		if (peer->next_peer)
			fprintf(out, "\n");
	}
	key_wipe(kb, sizeof(kb));
}
