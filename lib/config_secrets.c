/* config_secrets.c — keys kept out of the config file: PrivateKeyFile,
 * PrivateKeyCommand, PresharedKeyFile, PresharedKeyCommand.
 *
 * A key file must be private to its owner, as ssh insists for identity files: a key that
 * group or others can read, or that another user owns, is no longer a secret, so it is
 * refused rather than used (lib/key_file.c; a FIFO or device is refused too). A
 * command (e.g. reading a Kubernetes Secret or a password store) runs through /bin/sh -c;
 * its output, trimmed, must be one base64 key. Every buffer that held a key is wiped. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "lib/config.h"
#include "lib/key_file.h"

/* Room for a key and generous whitespace around it; more is not a key. */
#define SECRET_MAX 256

struct secret_ctx {
	const struct config *conf;
	unsigned int line; /* of the key source being loaded */
	char *err;
	size_t err_len;
};

static int secret_fail(const struct secret_ctx *c, const char *what, const char *source, const char *why)
{
	if (!c->err || !c->err_len)
		return -EINVAL;
	/* PATH:LINE: as every other config error (the line of the key source). */
	snprintf(c->err, c->err_len, "%s:%u: %s '%s': %s", c->conf->path, c->line, what, source, why);
	return -EINVAL;
}

/* Trim whitespace and decode; the buffer is wiped by the caller. */
static int decode_secret(uint8_t key[WG_KEY_LEN], char *buf, size_t n)
{
	char *s = buf;

	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	buf[n] = '\0';
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return key_from_base64(key, s);
}

/* Read at most SECRET_MAX bytes of @fd into @buf (SECRET_MAX + 1 long); -EFBIG if more. */
static int read_secret(int fd, char *buf, size_t *n)
{
	ssize_t r;

	*n = 0;
	for (;;) {
		r = read(fd, buf + *n, SECRET_MAX + 1 - *n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return 0;
		*n += (size_t)r;
		if (*n > SECRET_MAX)
			return -EFBIG;
	}
}

/* A relative key file is taken relative to the config file's directory. */
static int key_file_path(const struct config *conf, const char *file, char *out, size_t len)
{
	const char *slash = conf->path ? strrchr(conf->path, '/') : NULL;
	int n;

	if (file[0] == '/' || !slash)
		n = snprintf(out, len, "%s", file);
	else
		n = snprintf(out, len, "%.*s/%s", (int)(slash - conf->path), conf->path, file);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int load_key_file(const struct secret_ctx *c, uint8_t key[WG_KEY_LEN], const char *what, const char *file)
{
	char buf[SECRET_MAX + 1], path[4096], why[128];
	size_t n = 0;
	int fd, ret;

	if (key_file_path(c->conf, file, path, sizeof(path)))
		return secret_fail(c, what, file, "path too long");
	fd = key_file_open(path, why, sizeof(why));
	if (fd < 0)
		return secret_fail(c, what, file, why);
	ret = read_secret(fd, buf, &n);
	if (ret) {
		ret = secret_fail(c, what, file, ret == -EFBIG ? "too long to be a key" : strerror(-ret));
		goto out;
	}
	if (decode_secret(key, buf, n))
		ret = secret_fail(c, what, file, "does not hold a 44-character base64 WireGuard key");
out:
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	return ret;
}

static int load_key_command(const struct secret_ctx *c, uint8_t key[WG_KEY_LEN], const char *what,
			    const char *command)
{
	char buf[SECRET_MAX + 1], why[128];
	size_t n = 0;
	int status, ret;
	FILE *f;

	fflush(NULL);
	/* popen() runs "/bin/sh -c COMMAND"; its stdin and stderr are ours. */
	f = popen(command, "re");
	if (!f)
		return secret_fail(c, what, command, strerror(errno));
	ret = read_secret(fileno(f), buf, &n);
	status = pclose(f);
	if (ret) {
		ret = secret_fail(c, what, command, ret == -EFBIG ? "printed too much to be a key" : strerror(-ret));
		goto out;
	}
	if (status == -1) {
		ret = secret_fail(c, what, command, strerror(errno));
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		if (WIFEXITED(status))
			snprintf(why, sizeof(why), "exited with status %d", WEXITSTATUS(status));
		else
			snprintf(why, sizeof(why), "killed by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		ret = secret_fail(c, what, command, why);
		goto out;
	}
	if (decode_secret(key, buf, n))
		ret = secret_fail(c, what, command, "did not print a 44-character base64 WireGuard key");
out:
	sodium_memzero(buf, sizeof(buf));
	return ret;
}

static int load_one(const struct secret_ctx *c, uint8_t key[WG_KEY_LEN], const char *base,
		    const char *file, const char *command)
{
	char what[32];

	snprintf(what, sizeof(what), "%s%s", base, file ? "File" : "Command");
	return file ? load_key_file(c, key, what, file) : load_key_command(c, key, what, command);
}

int config_load_secrets(struct config *conf, char *err, size_t err_len)
{
	struct secret_ctx c = { .conf = conf, .err = err, .err_len = err_len };
	struct config_interface *iface = &conf->iface;
	uint8_t (*keys)[WG_KEY_LEN];
	size_t n = conf->n_peers + 1, i;
	int ret = 0;

	if (sodium_init() < 0)
		return -EIO;
	/* Load everything first and change @conf only when all of it worked. */
	keys = sodium_allocarray(n, WG_KEY_LEN);
	if (!keys)
		return -ENOMEM;
	c.line = iface->private_key_source_line;
	if (iface->private_key_file || iface->private_key_command)
		ret = load_one(&c, keys[0], "PrivateKey", iface->private_key_file, iface->private_key_command);
	for (i = 0; !ret && i < conf->n_peers; i++) {
		struct config_peer *peer = &conf->peers[i];

		c.line = peer->preshared_key_source_line;
		if (peer->preshared_key_file || peer->preshared_key_command)
			ret = load_one(&c, keys[i + 1], "PresharedKey", peer->preshared_key_file,
				       peer->preshared_key_command);
	}
	if (ret)
		goto out;
	if (iface->private_key_file || iface->private_key_command) {
		memcpy(iface->private_key, keys[0], WG_KEY_LEN);
		iface->has_private_key = true;
	}
	for (i = 0; i < conf->n_peers; i++) {
		struct config_peer *peer = &conf->peers[i];

		if (!peer->preshared_key_file && !peer->preshared_key_command)
			continue;
		memcpy(peer->preshared_key, keys[i + 1], WG_KEY_LEN);
		peer->has_preshared_key = true;
	}
out:
	sodium_free(keys); /* sodium_free wipes before it frees */
	return ret;
}
