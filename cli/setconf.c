/* setconf.c — `podwirectl setconf|addconf|syncconf IFACE FILE`, as wg(8):
 *  setconf  makes the device exactly the file: peers replaced, and private key, listen
 *           port and fwmark reset when the file leaves them out;
 *  addconf  merges the file in: only what the file says changes;
 *  syncconf is setconf without disturbing what stays: instead of replacing all peers (which
 *           drops their sessions), peers missing from the file are removed one by one and
 *           the others updated in place, so live sessions survive. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/set.h"
#include "cli/subcommands.h"
#include "datapath/device.h"
#include "datapath/device_config.h"
#include "lib/config.h"
#include "lib/key.h"
#include "lib/log.h"

enum setconf_mode { MODE_SET, MODE_ADD, MODE_SYNC };

/* wg(8) reads plain wg configs; wg-quick's keys belong to `podwirectl up` (or `strip`). */
static const char *wg_quick_key(const struct config *conf)
{
	const struct config_interface *i = &conf->iface;

	if (i->n_addresses)
		return "Address";
	if (i->n_dns || i->dns_search.n)
		return "DNS";
	if (i->mtu)
		return "MTU";
	if (i->table_text)
		return "Table";
	if (i->pre_up.n)
		return "PreUp";
	if (i->post_up.n)
		return "PostUp";
	if (i->pre_down.n)
		return "PreDown";
	if (i->post_down.n)
		return "PostDown";
	if (i->save_config)
		return "SaveConfig";
	return NULL;
}

/* Set exactly the device fields the mode calls for (see the top of the file). */
static void apply_mode_flags(struct wgdevice *dev, const struct config *conf, enum setconf_mode mode)
{
	const struct config_interface *i = &conf->iface;
	bool has_key = i->has_private_key || i->private_key_file || i->private_key_command;
	size_t n = 0;
	struct wgpeer *peer;

	dev->flags &= ~(WGDEVICE_HAS_PRIVATE_KEY | WGDEVICE_HAS_LISTEN_PORT | WGDEVICE_HAS_FWMARK |
			WGDEVICE_REPLACE_PEERS);
	if (mode != MODE_ADD) {
		dev->flags |= WGDEVICE_HAS_PRIVATE_KEY | WGDEVICE_HAS_LISTEN_PORT | WGDEVICE_HAS_FWMARK;
		if (!has_key)
			key_wipe(dev->private_key, sizeof(dev->private_key));
		if (!i->has_listen_port)
			dev->listen_port = 0;
		if (!i->has_fwmark)
			dev->fwmark = 0;
	} else {
		dev->flags |= (has_key ? WGDEVICE_HAS_PRIVATE_KEY : 0) | (i->has_listen_port ? WGDEVICE_HAS_LISTEN_PORT : 0) |
			      (i->has_fwmark ? WGDEVICE_HAS_FWMARK : 0);
	}
	if (mode == MODE_SET)
		dev->flags |= WGDEVICE_REPLACE_PEERS;
	/* wg replaces a peer's allowed IPs when its section has an AllowedIPs line. */
	for_each_wgpeer(dev, peer) {
		peer->flags &= ~WGPEER_REPLACE_ALLOWEDIPS;
		if (mode != MODE_ADD || (n < conf->n_peers && conf->peers[n].n_allowed_ips))
			peer->flags |= WGPEER_REPLACE_ALLOWEDIPS;
		n++;
	}
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(*(const uint8_t *const *)a, *(const uint8_t *const *)b, WG_KEY_LEN);
}

/* syncconf: append a removal for every running peer the file does not name. */
static int add_removals(struct wgdevice *file)
{
	struct wgdevice *runtime;
	struct wgpeer *peer;
	const uint8_t **keys = NULL;
	size_t n = 0, i = 0;
	int ret = device_get(&runtime, file->name);

	if (ret < 0) {
		fprintf(stderr, "Unable to retrieve current interface configuration: %s\n", strerror(-ret));
		return ret;
	}
	for_each_wgpeer(file, peer)
		n++;
	if (n && !(keys = calloc(n, sizeof(*keys)))) {
		ret = -ENOMEM;
		goto out;
	}
	for_each_wgpeer(file, peer)
		keys[i++] = peer->public_key;
	if (n)
		qsort(keys, n, sizeof(*keys), key_cmp);
	for_each_wgpeer(runtime, peer) {
		const uint8_t *k = peer->public_key;
		struct wgpeer *gone;

		if (n && bsearch(&k, keys, n, sizeof(*keys), key_cmp))
			continue;
		gone = wgdevice_add_peer(file);
		if (!gone) {
			ret = -ENOMEM;
			goto out;
		}
		memcpy(gone->public_key, peer->public_key, WG_KEY_LEN);
		gone->flags = WGPEER_HAS_PUBLIC_KEY | WGPEER_REMOVE_ME;
	}
out:
	free(keys);
	wgdevice_free(runtime);
	return ret;
}

static int load_device(struct wgdevice **out, const char *ifname, const char *path, enum setconf_mode mode)
{
	struct config *conf = NULL;
	const char *bad;
	char err[512];
	int ret;

	*out = NULL;
	ret = config_parse_file(&conf, path, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "%s\nConfiguration parsing error\n", err);
		return ret;
	}
	bad = wg_quick_key(conf);
	if (bad) {
		fprintf(stderr, "%s:%u: `%s' is a wg-quick key, not valid here (see `%s strip')\n"
			"Configuration parsing error\n", path, conf->iface.wgquick_line, bad, log_prog());
		ret = -EINVAL;
		goto out;
	}
	ret = config_load_secrets(conf, err, sizeof(err));
	if (ret >= 0)
		ret = device_from_config(out, conf, ifname, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "%s\nConfiguration parsing error\n", err);
		goto out;
	}
	apply_mode_flags(*out, conf, mode);
out:
	config_free(conf);
	return ret;
}

int setconf_main(int argc, char *argv[])
{
	enum setconf_mode mode = !strcmp(argv[0], "addconf") ? MODE_ADD :
				 !strcmp(argv[0], "syncconf") ? MODE_SYNC : MODE_SET;
	struct wgdevice *dev;
	int ret;

	if (argc != 3) {
		bool help = subcommand_help_asked(argc, argv);

		fprintf(help ? stdout : stderr, "Usage: %s %s <interface> <configuration filename>\n", log_prog(), argv[0]);
		return help ? 0 : 1;
	}
	if (strlen(argv[1]) >= IFNAMSIZ) {
		fprintf(stderr, "Interface name is too long: `%s'\n", argv[1]);
		return 1;
	}
	ret = load_device(&dev, argv[1], argv[2], mode);
	if (ret < 0)
		return 1;
	snprintf(dev->name, sizeof(dev->name), "%s", argv[1]);
	if (mode == MODE_SYNC)
		ret = add_removals(dev);
	if (!ret)
		ret = set_apply(dev);
	wgdevice_free(dev);
	return ret ? 1 : 0;
}
