/* device_config.c — from a parsed config to the device wg setconf would set.
 *
 * wg(8)'s setconf starts from "replace everything" (config_read_init without append): the
 * private key, listen port and fwmark are set even when the file omits them, to zero, and
 * the peer list replaces the device's. Each [Peer] replaces that peer's allowed IPs. We
 * build the same, so the kernel and userspace backends see exactly what wg would send. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/device_config.h"
#include "lib/key.h"

static int peer_fail(char *err, size_t err_len, const struct config *conf, const struct config_peer *cp,
		     const char *fmt, const char *arg, const char *why)
{
	char pub[WG_KEY_LEN_BASE64], what[256];

	key_to_base64(pub, cp->public_key);
	snprintf(what, sizeof(what), fmt, arg);
	if (err && err_len)
		snprintf(err, err_len, "%s:%u: peer %s%s%s%s: %s: %s", conf->path ? conf->path : "(config)",
			 cp->line, pub, cp->name ? " (" : "", cp->name ? cp->name : "", cp->name ? ")" : "",
			 what, why);
	return -EINVAL;
}

static int add_peer(struct wgdevice *dev, const struct config *conf, const struct config_peer *cp,
		    char *err, size_t err_len)
{
	struct sockaddr_storage ss;
	socklen_t ss_len;
	struct wgpeer *peer;
	char why[256] = "";
	int ret;

	if ((cp->preshared_key_file || cp->preshared_key_command) && !cp->has_preshared_key)
		return peer_fail(err, err_len, conf, cp, "%s", "PresharedKey", "key source not loaded yet");
	peer = wgdevice_add_peer(dev);
	if (!peer)
		return -ENOMEM;
	peer->flags = WGPEER_HAS_PUBLIC_KEY | WGPEER_REPLACE_ALLOWEDIPS;
	memcpy(peer->public_key, cp->public_key, WG_KEY_LEN);
	if (cp->has_preshared_key) {
		peer->flags |= WGPEER_HAS_PRESHARED_KEY;
		memcpy(peer->preshared_key, cp->preshared_key, WG_KEY_LEN);
	}
	if (cp->has_persistent_keepalive) {
		peer->flags |= WGPEER_HAS_PERSISTENT_KEEPALIVE_INTERVAL;
		peer->persistent_keepalive_interval = cp->persistent_keepalive;
	}
	for (size_t i = 0; i < cp->n_allowed_ips; i++)
		if (!wgdevice_add_allowedip(peer, &cp->allowed_ips[i]))
			return -ENOMEM;
	if (!cp->endpoint)
		return 0;
	/* wg resolves endpoints while reading the file; so do we, before anything is set. */
	ret = endpoint_resolve(cp->endpoint, &ss, &ss_len, why, sizeof(why));
	if (ret)
		return peer_fail(err, err_len, conf, cp, "cannot resolve Endpoint '%s'", cp->endpoint,
				 why[0] ? why : strerror(-ret));
	if (ss_len > sizeof(peer->endpoint) || (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
		return peer_fail(err, err_len, conf, cp, "cannot resolve Endpoint '%s'", cp->endpoint,
				 "neither an IPv4 nor an IPv6 address");
	memcpy(&peer->endpoint, &ss, ss_len);
	return 0;
}

int device_from_config(struct wgdevice **out, const struct config *conf, const char *ifname,
		       char *err, size_t err_len)
{
	const struct config_interface *iface = &conf->iface;
	struct wgdevice *dev;
	int ret = 0;

	*out = NULL;
	if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ) {
		if (err && err_len)
			snprintf(err, err_len, "`%s': interface name is empty or too long", ifname ? ifname : "");
		return -EINVAL;
	}
	if ((iface->private_key_file || iface->private_key_command) && !iface->has_private_key) {
		if (err && err_len)
			snprintf(err, err_len, "%s: %s not loaded yet", conf->path ? conf->path : "(config)",
				 iface->private_key_file ? "PrivateKeyFile" : "PrivateKeyCommand");
		return -EINVAL;
	}
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	snprintf(dev->name, sizeof(dev->name), "%s", ifname);
	dev->flags = WGDEVICE_REPLACE_PEERS | WGDEVICE_HAS_PRIVATE_KEY | WGDEVICE_HAS_LISTEN_PORT |
		     WGDEVICE_HAS_FWMARK;
	if (iface->has_private_key) {
		memcpy(dev->private_key, iface->private_key, WG_KEY_LEN);
		/* For the caller's messages only: no HAS_PUBLIC_KEY, the datapath derives its own. */
		if (key_public_from_private(dev->public_key, dev->private_key))
			memset(dev->public_key, 0, WG_KEY_LEN);
	}
	dev->listen_port = iface->has_listen_port ? iface->listen_port : 0;
	dev->fwmark = iface->has_fwmark ? iface->fwmark : 0;
	for (size_t i = 0; i < conf->n_peers && !ret; i++)
		ret = add_peer(dev, conf, &conf->peers[i], err, err_len);
	if (ret) {
		if (ret == -ENOMEM && err && err_len)
			snprintf(err, err_len, "%s", strerror(ENOMEM));
		wgdevice_free(dev);
		return ret;
	}
	*out = dev;
	return 0;
}

static void print_key(FILE *f, const char *name, const uint8_t key[WG_KEY_LEN])
{
	char b64[WG_KEY_LEN_BASE64];

	key_to_base64(b64, key);
	fprintf(f, "%s = %s\n", name, b64);
	key_wipe(b64, sizeof(b64));
}

int device_config_print(FILE *f, const struct config *conf)
{
	const struct config_interface *iface = &conf->iface;
	char buf[IP_PREFIX_STRLEN];

	fprintf(f, "[Interface]\n");
	if (iface->has_listen_port)
		fprintf(f, "ListenPort = %u\n", iface->listen_port);
	if (iface->has_fwmark && iface->fwmark)
		fprintf(f, "FwMark = 0x%x\n", iface->fwmark);
	if (iface->has_private_key)
		print_key(f, "PrivateKey", iface->private_key);
	for (size_t i = 0; i < conf->n_peers; i++) {
		const struct config_peer *p = &conf->peers[i];

		fprintf(f, "\n[Peer]\n");
		print_key(f, "PublicKey", p->public_key);
		if (p->has_preshared_key)
			print_key(f, "PresharedKey", p->preshared_key);
		if (p->n_allowed_ips)
			fprintf(f, "AllowedIPs = ");
		for (size_t j = 0; j < p->n_allowed_ips; j++) {
			ip_prefix_format(&p->allowed_ips[j], buf, sizeof(buf));
			fprintf(f, "%s%s", buf, j + 1 < p->n_allowed_ips ? ", " : "\n");
		}
		if (p->endpoint)
			fprintf(f, "Endpoint = %s\n", p->endpoint);
		if (p->has_persistent_keepalive && p->persistent_keepalive)
			fprintf(f, "PersistentKeepalive = %u\n", p->persistent_keepalive);
	}
	return ferror(f) ? -EIO : 0;
}
