/* strip: print the wg(8) part of a wg-quick config, as `wg-quick strip CONFIG`.
 *
 * CONFIG is an interface name (/etc/wireguard/NAME.conf) or a path ending in NAME.conf,
 * as wg-quick takes it. Unlike wg-quick we parse the whole file first, so a broken config
 * is refused with its line and reason instead of being passed on. Nothing is resolved and
 * no key file or command is read; the key sources stay in the output (lib/config.h says why). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/subcommands.h"
#include "lib/config.h"
#include "lib/log.h"

/* wg-quick warns when the file and its directory both let others in. */
static void warn_world_accessible(const char *path)
{
	char real[PATH_MAX], dir[PATH_MAX], *slash;
	struct stat f, d;

	if (!realpath(path, real) || stat(real, &f))
		return;
	snprintf(dir, sizeof(dir), "%s", real);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	if (stat(dir, &d))
		return;
	if (f.st_mode & d.st_mode & 0007)
		fprintf(stderr, "Warning: `%s' is world accessible\n", real);
}

/* The config's directory as an absolute path, for its relative key files; NULL if unknown. */
static const char *config_dir(const char *path, char *dir, size_t len)
{
	char real[PATH_MAX], *slash;

	if (!realpath(path, real))
		return NULL;
	slash = strrchr(real, '/');
	if (!slash)
		return NULL;
	if (slash == real)
		slash[1] = '\0';
	else
		*slash = '\0';
	snprintf(dir, len, "%s", strcmp(real, "/") ? real : "");
	return dir;
}

int strip_main(int argc, char *argv[])
{
	char path[PATH_MAX], ifname[16], err[PATH_MAX + 512], dir[PATH_MAX];
	struct config *conf = NULL;
	char *text = NULL, *stripped = NULL;
	int ret;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))) {
		printf("Usage: %s %s [ CONFIG_FILE | INTERFACE ]\n\n"
		       "Prints the part of a wg-quick config that wg(8) reads, as `wg-quick strip'. INTERFACE\n"
		       "means /etc/wireguard/INTERFACE.conf. The key sources PrivateKeyFile, PrivateKeyCommand,\n"
		       "PresharedKeyFile and PresharedKeyCommand are kept (relative files made absolute), so that\n"
		       "`%s syncconf IFACE <(%s strip IFACE)' keeps the keys; nothing is read or run here.\n",
		       log_prog(), argv[0], log_prog(), log_prog());
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "Usage: %s %s [ CONFIG_FILE | INTERFACE ]\n", log_prog(), argv[0]);
		return 1;
	}
	/* wg-quick's order: NAME means /etc/wireguard/NAME.conf; the file must exist; only
	 * then must its name be an interface name followed by ".conf". */
	if (config_valid_ifname(argv[1]))
		snprintf(path, sizeof(path), "/etc/wireguard/%s.conf", argv[1]);
	else
		snprintf(path, sizeof(path), "%s", argv[1]);
	if (access(path, F_OK)) {
		fprintf(stderr, "%s: `%s' does not exist\n", log_prog(), path);
		return 1;
	}
	ret = config_resolve_path(argv[1], path, sizeof(path), ifname, sizeof(ifname), err, sizeof(err));
	if (ret) {
		fprintf(stderr, "%s: %s\n", log_prog(), err);
		return 1;
	}
	warn_world_accessible(path);
	ret = config_read_file(path, &text, err, sizeof(err));
	if (!ret)
		ret = config_parse(&conf, path, text, err, sizeof(err));
	config_free(conf);
	if (!ret && config_strip(text, config_dir(path, dir, sizeof(dir)), &stripped)) {
		snprintf(err, sizeof(err), "%s: %s", path, strerror(ENOMEM));
		ret = -ENOMEM;
	}
	config_text_free(text);
	if (ret) {
		fprintf(stderr, "%s: %s\n", log_prog(), err);
		return 1;
	}
	ret = fputs(stripped, stdout) == EOF || fflush(stdout) == EOF ? -errno : 0;
	config_text_free(stripped);
	if (ret)
		fprintf(stderr, "%s: %s: cannot write to stdout: %s\n", log_prog(), path, strerror(-ret));
	return ret ? 1 : 0;
}
