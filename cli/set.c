/* set.c — `podwirectl set IFACE ...`: wg(8)'s set over the device API.
 *
 * The whole command line is parsed into one struct wgdevice before anything is sent, so a
 * typo anywhere changes nothing. Options and their spelling are wg's (wireguard-tools
 * v1.0.20210914), plus `update-only` after a peer (the kernel's WGPEER_F_UPDATE_ONLY:
 * change the peer only if it already exists). */
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/set.h"
#include "cli/subcommands.h"
#include "datapath/device.h"
#include "lib/key.h"
#include "lib/log.h"

static void set_usage(FILE *f, const char *cmd)
{
	fprintf(f, "Usage: %s %s <interface> [listen-port <port>] [fwmark <mark>] [private-key <file path>] "
		"[peer <base64 public key> [remove] [update-only] [preshared-key <file path>] [endpoint <ip>:<port>] "
		"[persistent-keepalive <interval seconds>] [allowed-ips <ip1>/<cidr1>[,<ip2>/<cidr2>]...] ]...\n",
		log_prog(), cmd);
}

/* A key file holds one base64 key and optional trailing whitespace; an empty file (or
 * /dev/null) means "no key", which removes it — as wg reads key files. */
static int read_key_file(uint8_t key[WG_KEY_LEN], const char *path)
{
	char text[WG_KEY_LEN_BASE64] = { 0 };
	size_t n;
	int c, ret = -EINVAL;
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(stderr, "Unable to open key file `%s': %s\n", path, strerror(errno));
		return -errno;
	}
	n = fread(text, 1, WG_KEY_LEN_BASE64 - 1, f);
	if (n == 0 && feof(f) && !ferror(f)) {
		memset(key, 0, WG_KEY_LEN);
		ret = 0;
		goto out;
	}
	if (n != WG_KEY_LEN_BASE64 - 1) {
		fprintf(stderr, "Invalid length key in key file `%s'\n", path);
		goto out;
	}
	while ((c = getc(f)) != EOF) {
		if (!isspace(c)) {
			fprintf(stderr, "Found trailing character in key file `%s'\n", path);
			goto out;
		}
	}
	if (key_from_base64(key, text) < 0) {
		fprintf(stderr, "Key in key file `%s' is not the correct length or format\n", path);
		goto out;
	}
	ret = 0;
out:
	key_wipe(text, sizeof(text));
	fclose(f);
	return ret;
}

static int parse_port(uint16_t *port, const char *value)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(value, &end, 10);
	if (!*value || *end || errno || v > 65535 || !isdigit((unsigned char)*value)) {
		fprintf(stderr, "Listen port is not a number from 0 to 65535: `%s'\n", value);
		return -EINVAL;
	}
	*port = v;
	return 0;
}

/* "off", decimal, or 0x-prefixed hex, as wg's parse_fwmark. */
static int parse_fwmark(uint32_t *fwmark, const char *value)
{
	int base = 10;
	char *end;
	unsigned long long v;

	if (!strcasecmp(value, "off")) {
		*fwmark = 0;
		return 0;
	}
	if (!isdigit((unsigned char)value[0]))
		goto err;
	if (strlen(value) > 2 && value[0] == '0' && value[1] == 'x')
		base = 16;
	errno = 0;
	v = strtoull(value, &end, base);
	if (*end || errno || v > UINT32_MAX)
		goto err;
	*fwmark = v;
	return 0;
err:
	fprintf(stderr, "Fwmark is neither 0/off nor 0-0xffffffff: `%s'\n", value);
	return -EINVAL;
}

static int parse_keepalive(uint16_t *interval, const char *value)
{
	char *end;
	unsigned long v;

	if (!strcasecmp(value, "off")) {
		*interval = 0;
		return 0;
	}
	errno = 0;
	v = strtoul(value, &end, 10);
	if (!isdigit((unsigned char)value[0]) || *end || errno || v > 65535) {
		fprintf(stderr, "Persistent keepalive interval is neither 0/off nor 1-65535: `%s'\n", value);
		return -EINVAL;
	}
	*interval = v;
	return 0;
}

static int parse_endpoint(wg_endpoint *ep, const char *value)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char why[128];

	if (endpoint_resolve(value, &ss, &len, why, sizeof(why)) < 0) {
		fprintf(stderr, "Unable to resolve endpoint `%s': %s\n", value, why);
		return -EINVAL;
	}
	if (len > sizeof(*ep))
		return -EINVAL;
	memset(ep, 0, sizeof(*ep));
	memcpy(ep, &ss, len);
	return 0;
}

int set_parse_allowedips(struct wgpeer *peer, const char *value)
{
	char *copy = strdup(value), *tok, *save = NULL;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	peer->flags |= WGPEER_REPLACE_ALLOWEDIPS;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct ip_prefix prefix;
		char *end;

		while (isspace((unsigned char)*tok))
			tok++;
		end = tok + strlen(tok);
		while (end > tok && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (!*tok)
			continue;
		if (ip_prefix_parse(&prefix, tok) < 0) {
			fprintf(stderr, "AllowedIP is not in the correct format: `%s'\n", tok);
			ret = -EINVAL;
			break;
		}
		if (!wgdevice_add_allowedip(peer, &prefix)) {
			ret = -ENOMEM;
			break;
		}
	}
	free(copy);
	return ret;
}

/* Two-word options (NAME VALUE) on the device or, after `peer`, on that peer. */
static int parse_option(struct wgdevice *dev, struct wgpeer *peer, const char *name, const char *value)
{
	int ret;

	if (!peer && !strcmp(name, "listen-port")) {
		ret = parse_port(&dev->listen_port, value);
		dev->flags |= ret ? 0 : WGDEVICE_HAS_LISTEN_PORT;
	} else if (!peer && !strcmp(name, "fwmark")) {
		ret = parse_fwmark(&dev->fwmark, value);
		dev->flags |= ret ? 0 : WGDEVICE_HAS_FWMARK;
	} else if (!peer && !strcmp(name, "private-key")) {
		ret = read_key_file(dev->private_key, value);
		dev->flags |= ret ? 0 : WGDEVICE_HAS_PRIVATE_KEY;
	} else if (peer && !strcmp(name, "preshared-key")) {
		ret = read_key_file(peer->preshared_key, value);
		peer->flags |= ret ? 0 : WGPEER_HAS_PRESHARED_KEY;
	} else if (peer && !strcmp(name, "endpoint")) {
		ret = parse_endpoint(&peer->endpoint, value);
	} else if (peer && !strcmp(name, "persistent-keepalive")) {
		ret = parse_keepalive(&peer->persistent_keepalive_interval, value);
		peer->flags |= ret ? 0 : WGPEER_HAS_PERSISTENT_KEEPALIVE_INTERVAL;
	} else if (peer && !strcmp(name, "allowed-ips")) {
		ret = set_parse_allowedips(peer, value);
	} else {
		fprintf(stderr, "Invalid argument: %s\n", name);
		ret = -EINVAL;
	}
	return ret;
}

int set_parse_args(struct wgdevice *dev, int argc, char *argv[])
{
	struct wgpeer *peer = NULL;
	int ret;

	while (argc > 0) {
		if (!strcmp(argv[0], "peer") && argc >= 2) {
			peer = wgdevice_add_peer(dev);
			if (!peer)
				return -ENOMEM;
			if (key_from_base64(peer->public_key, argv[1]) < 0) {
				fprintf(stderr, "Key is not the correct length or format: `%s'\n", argv[1]);
				return -EINVAL;
			}
			peer->flags |= WGPEER_HAS_PUBLIC_KEY;
			argv += 2;
			argc -= 2;
		} else if (peer && !strcmp(argv[0], "remove")) {
			peer->flags |= WGPEER_REMOVE_ME;
			argv++;
			argc--;
		} else if (peer && !strcmp(argv[0], "update-only")) {
			peer->flags |= WGPEER_UPDATE_ONLY;
			argv++;
			argc--;
		} else if (argc >= 2) {
			ret = parse_option(dev, peer, argv[0], argv[1]);
			if (ret < 0)
				return ret;
			argv += 2;
			argc -= 2;
		} else {
			fprintf(stderr, "Invalid argument: %s\n", argv[0]);
			return -EINVAL;
		}
	}
	return 0;
}

/* Apply @dev and explain a failure the way wg does, adding the backend's reason. */
int set_apply(struct wgdevice *dev)
{
	char err[512];
	int ret = device_set(dev, err, sizeof(err));

	if (ret < 0)
		fprintf(stderr, "Unable to modify interface: %s\n", err[0] ? err : strerror(-ret));
	return ret;
}

int set_main(int argc, char *argv[])
{
	struct wgdevice *dev;
	int ret;

	if (argc < 3) {
		bool help = subcommand_help_asked(argc, argv);

		set_usage(help ? stdout : stderr, argv[0]);
		return help ? 0 : 1;
	}
	if (strlen(argv[1]) >= IFNAMSIZ) {
		fprintf(stderr, "Interface name is too long: `%s'\n", argv[1]);
		return 1;
	}
	dev = calloc(1, sizeof(*dev));
	if (!dev) {
		perror("calloc");
		return 1;
	}
	snprintf(dev->name, sizeof(dev->name), "%s", argv[1]);
	ret = set_parse_args(dev, argc - 2, argv + 2);
	if (!ret)
		ret = set_apply(dev);
	wgdevice_free(dev);
	return ret ? 1 : 0;
}
