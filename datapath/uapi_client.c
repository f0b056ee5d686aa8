/* uapi_client.c — talk to a userspace datapath over its UAPI socket.
 *
 * The protocol is WireGuard's cross-platform interface (wireguard.com/xplatform): the client
 * writes "get=1\n\n" or "set=1\n" followed by key=value lines and a blank line; the server
 * answers key=value lines ending with "errno=N" and a blank line. Keys are hex, not base64.
 * Socket discovery and the stale-socket cleanup follow wg(8)'s ipc-uapi.h. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "datapath/uapi_client.h"
#include "lib/decimal.h"
#include "lib/key.h"

static int socket_path(char *buf, size_t len, const char *name)
{
	int n = snprintf(buf, len, "%s/%s.sock", UAPI_SOCKET_DIR, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Connect to NAME's socket; a socket nobody listens on is removed, as wg does. */
static int uapi_open(const char *name)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ret;

	if (!name || !*name || strlen(name) >= IFNAMSIZ || strchr(name, '/'))
		return -EINVAL;
	ret = socket_path(addr.sun_path, sizeof(addr.sun_path), name);
	if (ret < 0)
		return ret;
	if (stat(addr.sun_path, &st) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EBADF;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		ret = -errno;
		if (ret == -ECONNREFUSED)
			unlink(addr.sun_path);
		close(fd);
		return ret;
	}
	return fd;
}

bool uapi_has_interface(const char *name)
{
	int fd = uapi_open(name);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

int uapi_list_devices(char **names)
{
	DIR *dir;
	struct dirent *ent;
	char *buf = NULL;
	size_t len = 0, cap = 0;

	*names = NULL;
	dir = opendir(UAPI_SOCKET_DIR);
	if (!dir) {
		if (errno != ENOENT)
			return -errno;
		*names = calloc(1, 1);
		return *names ? 0 : -ENOMEM;
	}
	while ((ent = readdir(dir))) {
		size_t n = strlen(ent->d_name);
		char name[IFNAMSIZ];

		if (n <= 5 || n - 5 >= IFNAMSIZ || strcmp(ent->d_name + n - 5, ".sock"))
			continue;
		memcpy(name, ent->d_name, n - 5);
		name[n - 5] = '\0';
		if (!uapi_has_interface(name))
			continue;
		if (len + n + 2 > cap) {
			char *nb = realloc(buf, cap = (cap + n + 2) * 2);

			if (!nb) {
				free(buf);
				closedir(dir);
				return -ENOMEM;
			}
			buf = nb;
		}
		memcpy(buf + len, name, n - 5 + 1);
		len += n - 5 + 1;
	}
	closedir(dir);
	if (!buf && !(buf = malloc(1)))
		return -ENOMEM;
	buf[len] = '\0';
	*names = buf;
	return 0;
}

static int hex_to_key(uint8_t key[WG_KEY_LEN], const char *hex)
{
	if (strlen(hex) != WG_KEY_LEN * 2)
		return -EINVAL;
	for (int i = 0; i < WG_KEY_LEN * 2; i++) {
		char c = hex[i];
		int v;

		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return -EINVAL;
		if (i & 1)
			key[i / 2] |= v;
		else
			key[i / 2] = v << 4;
	}
	return 0;
}

static void key_to_hex(char hex[WG_KEY_LEN * 2 + 1], const uint8_t key[WG_KEY_LEN])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < WG_KEY_LEN; i++) {
		hex[i * 2] = digits[key[i] >> 4];
		hex[i * 2 + 1] = digits[key[i] & 0xf];
	}
	hex[WG_KEY_LEN * 2] = '\0';
}

/* "errno=N": wireguard-go sends the errno negated ("errno=-98"), others positive. */
static int parse_errno(const char *s, int *out)
{
	uint64_t n;

	if (*s == '-')
		s++;
	if (decimal_parse(s, INT_MAX, &n))
		return -EINVAL;
	*out = (int)n;
	return 0;
}

/* "1.2.3.4:51820" or "[fe80::1%eth0]:51820", always numeric in UAPI replies. */
static int parse_endpoint(wg_endpoint *ep, const char *s)
{
	char host[INET6_ADDRSTRLEN + IFNAMSIZ + 2];
	const char *port;
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV, .ai_socktype = SOCK_DGRAM };
	struct addrinfo *res;
	size_t n;

	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		n = close - s - 1;
		if (n >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, n);
		port = close + 2;
	} else {
		const char *colon = strrchr(s, ':');

		if (!colon)
			return -EINVAL;
		n = colon - s;
		if (n >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, n);
		port = colon + 1;
	}
	host[n] = '\0';
	if (getaddrinfo(host, port, &hints, &res))
		return -EINVAL;
	if (res->ai_addrlen > sizeof(*ep)) {
		freeaddrinfo(res);
		return -EINVAL;
	}
	memset(ep, 0, sizeof(*ep));
	memcpy(ep, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

static int parse_get_line(struct wgdevice *dev, struct wgpeer **peer, const char *key, const char *value)
{
	struct wgpeer *p = *peer;
	uint64_t n;
	int ret = 0;

	if (!strcmp(key, "private_key") && !p) {
		ret = hex_to_key(dev->private_key, value);
		if (!ret && !key_is_zero(dev->private_key)) {
			dev->flags |= WGDEVICE_HAS_PRIVATE_KEY;
			if (!key_public_from_private(dev->public_key, dev->private_key))
				dev->flags |= WGDEVICE_HAS_PUBLIC_KEY;
		}
	} else if (!strcmp(key, "listen_port") && !p) {
		if (!(ret = decimal_parse(value, UINT16_MAX, &n))) {
			dev->listen_port = n;
			dev->flags |= WGDEVICE_HAS_LISTEN_PORT;
		}
	} else if (!strcmp(key, "fwmark") && !p) {
		if (!(ret = decimal_parse(value, UINT32_MAX, &n))) {
			dev->fwmark = n;
			dev->flags |= WGDEVICE_HAS_FWMARK;
		}
	} else if (!strcmp(key, "public_key")) {
		p = wgdevice_add_peer(dev);
		if (!p)
			return -ENOMEM;
		*peer = p;
		ret = hex_to_key(p->public_key, value);
		p->flags |= WGPEER_HAS_PUBLIC_KEY;
	} else if (!p) {
		/* Unknown device-level keys are skipped for forward compatibility. */
		return 0;
	} else if (!strcmp(key, "preshared_key")) {
		ret = hex_to_key(p->preshared_key, value);
		if (!ret && !key_is_zero(p->preshared_key))
			p->flags |= WGPEER_HAS_PRESHARED_KEY;
	} else if (!strcmp(key, "endpoint")) {
		ret = parse_endpoint(&p->endpoint, value);
	} else if (!strcmp(key, "persistent_keepalive_interval")) {
		if (!(ret = decimal_parse(value, UINT16_MAX, &n))) {
			p->persistent_keepalive_interval = n;
			p->flags |= WGPEER_HAS_PERSISTENT_KEEPALIVE_INTERVAL;
		}
	} else if (!strcmp(key, "allowed_ip")) {
		struct ip_prefix prefix;

		ret = ip_prefix_parse(&prefix, value);
		if (!ret && !strchr(value, '/'))
			ret = -EINVAL;
		if (!ret && !wgdevice_add_allowedip(p, &prefix))
			ret = -ENOMEM;
	} else if (!strcmp(key, "last_handshake_time_sec")) {
		if (!(ret = decimal_parse(value, INT64_MAX, &n)))
			p->last_handshake_time.tv_sec = n;
	} else if (!strcmp(key, "last_handshake_time_nsec")) {
		if (!(ret = decimal_parse(value, 999999999, &n)))
			p->last_handshake_time.tv_nsec = n;
	} else if (!strcmp(key, "rx_bytes")) {
		if (!(ret = decimal_parse(value, UINT64_MAX, &n)))
			p->rx_bytes = n;
	} else if (!strcmp(key, "tx_bytes")) {
		if (!(ret = decimal_parse(value, UINT64_MAX, &n)))
			p->tx_bytes = n;
	}
	return ret ? -EPROTO : 0;
}

int uapi_parse_get_reply(FILE *f, struct wgdevice *dev)
{
	struct wgpeer *peer = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int ret = -EPROTO, peer_errno = 0;

	while ((len = getline(&line, &cap, f)) > 0) {
		char *eq;

		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (!len) {
			ret = peer_errno ? -peer_errno : 0;
			goto out;
		}
		eq = strchr(line, '=');
		if (!eq)
			goto out;
		*eq = '\0';
		if (!strcmp(line, "errno")) {
			if (parse_errno(eq + 1, &peer_errno))
				goto out;
			continue;
		}
		ret = parse_get_line(dev, &peer, line, eq + 1);
		key_wipe(line, len);
		if (ret < 0)
			goto out;
		ret = -EPROTO;
	}
out:
	if (line) {
		key_wipe(line, cap);
		free(line);
	}
	return ret;
}

int uapi_write_set_request(FILE *f, const struct wgdevice *dev)
{
	char hex[WG_KEY_LEN * 2 + 1];
	struct wgpeer *peer;
	struct wgallowedip *a;

	fputs("set=1\n", f);
	if (dev->flags & WGDEVICE_HAS_PRIVATE_KEY) {
		key_to_hex(hex, dev->private_key);
		fprintf(f, "private_key=%s\n", hex);
	}
	if (dev->flags & WGDEVICE_HAS_LISTEN_PORT)
		fprintf(f, "listen_port=%u\n", dev->listen_port);
	if (dev->flags & WGDEVICE_HAS_FWMARK)
		fprintf(f, "fwmark=%" PRIu32 "\n", dev->fwmark);
	if (dev->flags & WGDEVICE_REPLACE_PEERS)
		fputs("replace_peers=true\n", f);
	for_each_wgpeer(dev, peer) {
		key_to_hex(hex, peer->public_key);
		fprintf(f, "public_key=%s\n", hex);
		if (peer->flags & WGPEER_REMOVE_ME) {
			fputs("remove=true\n", f);
			continue;
		}
		if (peer->flags & WGPEER_UPDATE_ONLY)
			fputs("update_only=true\n", f);
		if (peer->flags & WGPEER_HAS_PRESHARED_KEY) {
			key_to_hex(hex, peer->preshared_key);
			fprintf(f, "preshared_key=%s\n", hex);
		}
		if (peer->endpoint.addr.sa_family == AF_INET || peer->endpoint.addr.sa_family == AF_INET6) {
			char ep[ENDPOINT_STRLEN];

			endpoint_format(&peer->endpoint.addr, ep, sizeof(ep));
			fprintf(f, "endpoint=%s\n", ep);
		}
		if (peer->flags & WGPEER_HAS_PERSISTENT_KEEPALIVE_INTERVAL)
			fprintf(f, "persistent_keepalive_interval=%u\n", peer->persistent_keepalive_interval);
		if (peer->flags & WGPEER_REPLACE_ALLOWEDIPS)
			fputs("replace_allowed_ips=true\n", f);
		for_each_wgallowedip(peer, a) {
			char buf[IP_PREFIX_STRLEN];

			ip_prefix_format(&a->prefix, buf, sizeof(buf));
			fprintf(f, "allowed_ip=%s\n", buf);
		}
	}
	fputs("\n", f);
	key_wipe(hex, sizeof(hex));
	return fflush(f) ? -errno : 0;
}

int uapi_read_set_reply(FILE *f)
{
	char line[64];
	int ret = -EPROTO;
	bool seen = false;

	while (fgets(line, sizeof(line), f)) {
		int n;

		if (!strcmp(line, "\n"))
			return seen ? ret : -EPROTO;
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "errno=", 6) || parse_errno(line + 6, &n))
			return -EPROTO;
		ret = -n;
		seen = true;
	}
	/* wireguard-go closes without the blank line after some errors. */
	return seen ? ret : -EPROTO;
}

/* Two stdio streams over one socket: reading and writing one FILE needs seeks sockets lack. */
static int uapi_streams(const char *name, FILE **in, FILE **out)
{
	int fd = uapi_open(name), fd2;

	if (fd < 0)
		return fd == -ENOENT ? -ENODEV : fd;
	fd2 = dup(fd);
	if (fd2 < 0) {
		close(fd);
		return -errno;
	}
	*out = fdopen(fd, "w");
	*in = fdopen(fd2, "r");
	if (!*in || !*out) {
		if (*out)
			fclose(*out);
		else
			close(fd);
		if (*in)
			fclose(*in);
		else
			close(fd2);
		return -ENOMEM;
	}
	return 0;
}

int uapi_get_device(struct wgdevice **out, const char *name)
{
	struct wgdevice *dev;
	FILE *in, *wr;
	int ret;

	*out = NULL;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	snprintf(dev->name, sizeof(dev->name), "%s", name);
	dev->ifindex = if_nametoindex(name);
	ret = uapi_streams(name, &in, &wr);
	if (ret < 0) {
		free(dev);
		return ret;
	}
	fputs("get=1\n\n", wr);
	if (fflush(wr))
		ret = -errno;
	else
		ret = uapi_parse_get_reply(in, dev);
	fclose(wr);
	fclose(in);
	if (ret < 0) {
		wgdevice_free(dev);
		return ret;
	}
	*out = dev;
	return 0;
}

int uapi_set_device(struct wgdevice *dev, char *err, size_t err_len)
{
	FILE *in, *wr;
	int ret;

	ret = uapi_streams(dev->name, &in, &wr);
	if (ret < 0) {
		if (err)
			snprintf(err, err_len, "cannot connect to %s/%s.sock: %s", UAPI_SOCKET_DIR, dev->name,
				 strerror(-ret));
		return ret;
	}
	ret = uapi_write_set_request(wr, dev);
	if (!ret)
		ret = uapi_read_set_reply(in);
	fclose(wr);
	fclose(in);
	if (ret < 0 && err)
		snprintf(err, err_len, "userspace datapath refused set: %s", strerror(-ret));
	return ret;
}
