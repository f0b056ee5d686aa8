/* quick_save.c — wg-quick's save_config: on `down` with SaveConfig = true (or `save`), the
 * running interface is written back over its config file: an [Interface] block rebuilt from
 * the link (Address lines from the addresses it has, DNS from resolvconf, MTU when the file
 * set one, Table, SaveConfig, the hooks), then what showconf prints after its "[Interface]"
 * line. A key that came from PrivateKeyFile, PrivateKeyCommand, PresharedKeyFile or
 * PresharedKeyCommand is written back as that line, never as the key itself: the source stays
 * where the secret lives (a running key changed by hand is not saved over it). The text goes
 * to a fresh mode-0600 file made with mkstemp (O_EXCL: no symlink or stale file is followed
 * or reused) in FILE's directory, synced, renamed over FILE. FILE is already the config's
 * resolved path (quick_open does wg-quick's readlink -f), so a symlinked config has its
 * target rewritten and the link kept, as wg-quick does. */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/quick.h"
#include "cli/show_format.h"
#include "datapath/device.h"

static void write_addresses(FILE *f, struct quick *q)
{
	static const int families[] = { AF_INET, AF_INET6 };
	char text[IP_PREFIX_STRLEN];

	for (size_t i = 0; i < 2; i++) {
		struct ip_prefix *v = NULL;
		size_t n = 0;

		if (quick_addr_list(q->ifindex, families[i], &v, &n))
			continue;
		for (size_t j = 0; j < n; j++) {
			ip_prefix_format(&v[j], text, sizeof(text));
			fprintf(f, "Address = %s\n", text);
		}
		free(v);
	}
}

static void write_dns(FILE *f, struct quick *q)
{
	char *list = NULL, *line, *save = NULL;
	regex_t re;

	if (quick_dns_list(q, &list))
		return;
	if (!regcomp(&re, "^nameserver ([a-zA-Z0-9_=+:%.-]+)$", REG_EXTENDED)) {
		for (line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			regmatch_t m[2];

			if (!regexec(&re, line, 2, m, 0))
				fprintf(f, "DNS = %.*s\n", (int)(m[1].rm_eo - m[1].rm_so), line + m[1].rm_so);
		}
		regfree(&re);
	}
	free(list);
}

static void write_hooks(FILE *f, const char *key, const struct config_strings *hooks)
{
	for (size_t i = 0; i < hooks->n; i++)
		fprintf(f, "%s = %s\n", key, hooks->v[i]);
}

static const struct config_peer *config_peer_by_key(const struct config *conf, const char *key_b64)
{
	uint8_t key[WG_KEY_LEN];

	if (key_from_base64(key, key_b64))
		return NULL;
	for (size_t i = 0; i < conf->n_peers; i++)
		if (!sodium_memcmp(conf->peers[i].public_key, key, WG_KEY_LEN))
			return &conf->peers[i];
	return NULL;
}

/* Write showconf's @text with every key that has a source in the config replaced by that
 * source's line: "PrivateKey = " in the [Interface] section, "PresharedKey = " in a [Peer]
 * section whose PublicKey the config knows. Edits @text in place (it is wiped by the caller). */
static void write_with_key_sources(FILE *f, char *text, const struct config *conf)
{
	const struct config_interface *ifc = &conf->iface;
	const struct config_peer *peer = NULL;
	bool in_peer = false;
	char *line, *next;

	for (line = text; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!strcmp(line, "[Peer]")) {
			in_peer = true;
			peer = NULL;
		} else if (in_peer && !strncmp(line, "PublicKey = ", 12)) {
			peer = config_peer_by_key(conf, line + 12);
		} else if (!in_peer && !strncmp(line, "PrivateKey = ", 13) && ifc->private_key_file) {
			fprintf(f, "PrivateKeyFile = %s%s", ifc->private_key_file, next ? "\n" : "");
			continue;
		} else if (!in_peer && !strncmp(line, "PrivateKey = ", 13) && ifc->private_key_command) {
			fprintf(f, "PrivateKeyCommand = %s%s", ifc->private_key_command, next ? "\n" : "");
			continue;
		} else if (in_peer && peer && !strncmp(line, "PresharedKey = ", 15) && peer->preshared_key_file) {
			fprintf(f, "PresharedKeyFile = %s%s", peer->preshared_key_file, next ? "\n" : "");
			continue;
		} else if (in_peer && peer && !strncmp(line, "PresharedKey = ", 15) && peer->preshared_key_command) {
			fprintf(f, "PresharedKeyCommand = %s%s", peer->preshared_key_command, next ? "\n" : "");
			continue;
		}
		fprintf(f, "%s%s", line, next ? "\n" : "");
	}
}

/* showconf's text with its first "[Interface]\n" replaced by our [Interface] block. */
static int write_config(FILE *f, struct quick *q, const struct wgdevice *dev)
{
	const struct config_interface *ifc = &q->conf->iface;
	char *shown = NULL, *rest;
	size_t shown_len = 0;
	FILE *mem = open_memstream(&shown, &shown_len);
	uint32_t mtu;

	if (!mem)
		return -ENOMEM;
	show_config(mem, dev);
	if (fclose(mem)) {
		free(shown);
		return -ENOMEM;
	}
	/* $(wg showconf) drops the trailing newlines; echo adds one back. */
	while (shown_len && shown[shown_len - 1] == '\n')
		shown[--shown_len] = '\0';
	rest = strstr(shown, "[Interface]\n");
	if (rest) {
		*rest = '\0';
		write_with_key_sources(f, shown, q->conf);
	}
	fputs("[Interface]\n", f);
	write_addresses(f, q);
	write_dns(f, q);
	if (ifc->mtu && !quick_link_mtu(q->ifindex, &mtu))
		fprintf(f, "MTU = %u\n", mtu);
	if (ifc->table_text && ifc->table_text[0])
		fprintf(f, "Table = %s\n", ifc->table_text);
	if (ifc->save_config)
		fputs("SaveConfig = true\n", f);
	write_hooks(f, "PreUp", &ifc->pre_up);
	write_hooks(f, "PostUp", &ifc->post_up);
	write_hooks(f, "PreDown", &ifc->pre_down);
	write_hooks(f, "PostDown", &ifc->post_down);
	write_with_key_sources(f, rest ? rest + strlen("[Interface]\n") : shown, q->conf);
	fputc('\n', f);
	sodium_memzero(shown, shown_len);
	free(shown);
	return 0;
}

/* A fresh file beside @path (so the rename stays on one file system): mkstemp opens it
 * O_CREAT|O_EXCL, which never follows a symlink or reuses a file someone left there, with
 * mode 0600 whatever the umask or the old file's mode. */
static int open_temp(const char *path, char *tmp, size_t tmp_len)
{
	int fd;

	if ((size_t)snprintf(tmp, tmp_len, "%s.XXXXXX", path) >= tmp_len)
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600)) {
		int ret = -errno;

		close(fd);
		unlink(tmp);
		return ret;
	}
	return fd;
}

int quick_save_config(struct quick *q, char *err, size_t err_len)
{
	struct wgdevice *dev = NULL;
	char tmp[PATH_MAX + 8];
	struct stat st;
	FILE *f;
	int fd, ret;

	/* q->path was resolved when the config was read; if it has since become a symlink
	 * (or anything but a file), rename would replace that, not the config the user meant. */
	if (!lstat(q->path, &st) && !S_ISREG(st.st_mode)) {
		snprintf(err, err_len, "Could not write configuration file %s: %s", q->path,
			 S_ISLNK(st.st_mode) ? "it became a symbolic link after it was read" : "not a regular file");
		return -EINVAL;
	}
	quick_log_cmd("wg showconf %s", q->ifname);
	ret = device_get(&dev, q->ifname);
	if (ret) {
		snprintf(err, err_len, "%s: cannot read the interface: %s", q->ifname, strerror(-ret));
		return ret;
	}
	fd = open_temp(q->path, tmp, sizeof(tmp));
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		ret = fd < 0 ? fd : -errno;
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		snprintf(err, err_len, "Could not write configuration file %s: cannot create a temporary file: %s",
			 q->path, strerror(-ret));
		wgdevice_free(dev);
		return ret;
	}
	ret = write_config(f, q, dev);
	wgdevice_free(dev);
	if (!ret && (fflush(f) || fsync(fileno(f))))
		ret = -errno;
	if (fclose(f) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, q->path))
		ret = -errno;
	if (ret) {
		unlink(tmp);
		snprintf(err, err_len, "Could not write configuration file %s: %s", q->path, strerror(-ret));
	}
	return ret;
}
