/* config_file.c — where a config lives and how it is read: wg-quick's NAME or PATH rule,
 * interface names, and reading the file whole (wiped after parsing: it may hold keys). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "lib/config.h"

/* A config file is text a person wrote; anything bigger is a mistake. */
#define CONFIG_MAX_SIZE (16U << 20)

/* Read all of @path into a NUL-terminated buffer; a NUL inside is an error. */
static int read_text(const char *path, char **text, size_t *len, char *err, size_t err_len)
{
	struct stat st;
	size_t cap, n = 0;
	ssize_t r;
	char *buf = NULL, *grown;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		ret = -errno;
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = -EISDIR;
		goto fail;
	}
	cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
	for (;;) {
		if (cap > CONFIG_MAX_SIZE + 1) {
			ret = -EFBIG;
			goto fail;
		}
		grown = malloc(cap);
		if (!grown) {
			ret = -ENOMEM;
			goto fail;
		}
		if (buf) {
			memcpy(grown, buf, n);
			sodium_memzero(buf, n);
			free(buf);
		}
		buf = grown;
		while (n < cap - 1 && (r = read(fd, buf + n, cap - 1 - n)) != 0) {
			if (r < 0) {
				if (errno == EINTR)
					continue;
				ret = -errno;
				goto fail;
			}
			n += (size_t)r;
		}
		if (n < cap - 1)
			break;
		cap *= 2;
	}
	close(fd);
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	if (buf) {
		sodium_memzero(buf, n);
		free(buf);
	}
	if (err && err_len)
		snprintf(err, err_len, "%s: %s", path, strerror(-ret));
	return ret;
}

int config_read_file(const char *path, char **out, char *err, size_t err_len)
{
	char *text = NULL, *nul;
	size_t len = 0;
	unsigned int line = 1;
	int ret;

	*out = NULL;
	ret = read_text(path, &text, &len, err, err_len);
	if (ret)
		return ret;
	nul = memchr(text, '\0', len);
	if (!nul) {
		*out = text;
		return 0;
	}
	for (const char *c = text; c < nul; c++)
		line += *c == '\n';
	if (err && err_len)
		snprintf(err, err_len, "%s:%u: contains a NUL byte", path, line);
	sodium_memzero(text, len);
	free(text);
	return -EINVAL;
}

void config_text_free(char *text)
{
	if (!text)
		return;
	sodium_memzero(text, strlen(text));
	free(text);
}

int config_parse_file(struct config **out, const char *path, char *err, size_t err_len)
{
	char *text;
	int ret;

	*out = NULL;
	ret = config_read_file(path, &text, err, err_len);
	if (ret)
		return ret;
	ret = config_parse(out, path, text, err, err_len);
	config_text_free(text);
	return ret;
}

bool config_valid_ifname(const char *name)
{
	size_t n = strlen(name);

	if (n < 1 || n > 15)
		return false;
	for (; *name; name++)
		if (!((*name >= 'a' && *name <= 'z') || (*name >= 'A' && *name <= 'Z') ||
		      (*name >= '0' && *name <= '9') || strchr("_=+.-", *name)))
			return false;
	return true;
}

int config_resolve_path(const char *arg, char *path, size_t path_len, char *ifname, size_t ifname_len,
			char *err, size_t err_len)
{
	const char *base, *suffix;
	size_t n;

	/* wg-quick: a bare interface name means /etc/wireguard/NAME.conf ... */
	if (config_valid_ifname(arg)) {
		if ((size_t)snprintf(path, path_len, "/etc/wireguard/%s.conf", arg) >= path_len ||
		    strlen(arg) >= ifname_len)
			goto too_long;
		strcpy(ifname, arg);
		return 0;
	}
	/* ... anything else must end in "/NAME.conf" (or be "NAME.conf") with a valid NAME. */
	base = strrchr(arg, '/');
	base = base ? base + 1 : arg;
	suffix = strrchr(base, '.');
	n = suffix ? (size_t)(suffix - base) : 0;
	if (!suffix || strcmp(suffix, ".conf") || !n || n > 15) {
		if (err && err_len)
			snprintf(err, err_len, "`%s': the config file must be a valid interface name, followed by .conf", arg);
		return -EINVAL;
	}
	if (strlen(arg) >= path_len || n >= ifname_len)
		goto too_long;
	memcpy(ifname, base, n);
	ifname[n] = '\0';
	if (!config_valid_ifname(ifname)) {
		if (err && err_len)
			snprintf(err, err_len, "`%s': the config file must be a valid interface name, followed by .conf", arg);
		return -EINVAL;
	}
	strcpy(path, arg);
	return 0;
too_long:
	if (err && err_len)
		snprintf(err, err_len, "`%s': path too long", arg);
	return -ENAMETOOLONG;
}
