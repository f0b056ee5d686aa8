/* install-cni: copy the CNI plugins podwire and podwire-ipam into a CNI binary directory (the
 * host's /opt/cni/bin, mounted into the DaemonSet's init container), as flannel's and
 * Calico's installers do. Each plugin is first copied beside its final name, synced, and only
 * when both copies are complete renamed over the old ones: a runtime that runs a plugin
 * meanwhile gets the old file or the new one, never half of one, and a failed copy leaves
 * the directory as it was. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/subcommands.h"
#include "lib/fdio.h"
#include "lib/log.h"

static const char *const plugins[] = { "podwire", "podwire-ipam" };
#define N_PLUGINS (sizeof(plugins) / sizeof(plugins[0]))
/* Where `make install` put them (the Makefile's CNIBINDIR). */
#ifndef PODWIRE_CNI_BIN_DIR
#define PODWIRE_CNI_BIN_DIR "/opt/cni/bin"
#endif
/* Where the image keeps them when they are not beside podwirectl. */
#define INSTALL_CNI_IMAGE_DIR "/usr/local/lib/podwire/cni"

static bool has_plugins(const char *dir)
{
	char p[PATH_MAX + 64];

	for (size_t i = 0; i < N_PLUGINS; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, plugins[i]);
		if (access(p, X_OK))
			return false;
	}
	return true;
}

/* The plugins beside this podwirectl (a build directory), else where `make install` put
 * them (an installed podwirectl sits in BINDIR, the plugins in CNIBINDIR), else the image's
 * directory. */
static int find_source(char *dir, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", dir, len - 1);

	if (n > 0) {
		char *slash;

		dir[n] = '\0';
		slash = strrchr(dir, '/');
		if (slash) {
			*slash = '\0';
			if (has_plugins(dir))
				return 0;
		}
	}
	snprintf(dir, len, "%s", PODWIRE_CNI_BIN_DIR);
	if (has_plugins(dir))
		return 0;
	snprintf(dir, len, "%s", INSTALL_CNI_IMAGE_DIR);
	return has_plugins(dir) ? 0 : -ENOENT;
}

static bool same_dir(const char *a, const char *b)
{
	struct stat sa, sb;

	return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Copy @src into a new temporary file in @dest_dir; its path in @tmp. */
static int copy_to_temp(const char *src, const char *dest_dir, const char *name, char *tmp, size_t len)
{
	char buf[65536];
	int in, out, ret = 0;
	ssize_t n;

	snprintf(tmp, len, "%s/.%s.podwire-install.%ld", dest_dir, name, (long)getpid());
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	if (out < 0) {
		ret = -errno;
		close(in);
		return ret;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if ((ret = fd_write_all(out, buf, (size_t)n)))
			break;
	if (n < 0)
		ret = -errno;
	if (!ret && (fchmod(out, 0755) < 0 || fsync(out) < 0))
		ret = -errno;
	if (close(out) < 0 && !ret)
		ret = -errno;
	close(in);
	if (ret)
		unlink(tmp);
	return ret;
}

int install_cni_main(int argc, char *argv[])
{
	const char *dest = PODWIRE_CNI_BIN_DIR, *from = NULL;
	/* Room for a directory of PATH_MAX and a plugin's (temporary) name. */
	char src_dir[PATH_MAX], tmp[N_PLUGINS][PATH_MAX + 64], src[PATH_MAX + 64], final[PATH_MAX + 64];
	struct stat st;
	size_t copied = 0;
	int ret = 0, dfd;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("Usage: %s install-cni [--from DIR] [DEST_DIR]\n"
			       "Copies podwire and podwire-ipam into DEST_DIR (default %s), each renamed into\n"
			       "place only once both are copied. DIR defaults to podwirectl's own directory, else %s\n"
			       "(where make install puts them), else %s.\n",
			       log_prog(), PODWIRE_CNI_BIN_DIR, PODWIRE_CNI_BIN_DIR, INSTALL_CNI_IMAGE_DIR);
			return 0;
		} else if (!strcmp(argv[i], "--from") && i + 1 < argc) {
			from = argv[++i];
		} else if (argv[i][0] == '-' || i != argc - 1) {
			fprintf(stderr, "Usage: %s install-cni [--from DIR] [DEST_DIR]\n", log_prog());
			return 1;
		} else {
			dest = argv[i];
		}
	}
	if (strlen(dest) >= PATH_MAX || (from && strlen(from) >= PATH_MAX)) {
		log_err("install-cni: a directory name longer than %d bytes", PATH_MAX - 1);
		return 1;
	}
	errno = 0;
	if (stat(dest, &st) < 0 || !S_ISDIR(st.st_mode)) {
		log_err("install-cni: %s: %s (mount the host's CNI binary directory there)", dest,
			errno ? strerror(errno) : "not a directory");
		return 1;
	}
	if (from) {
		snprintf(src_dir, sizeof(src_dir), "%s", from);
		if (!has_plugins(src_dir)) {
			log_err("install-cni: --from %s: podwire and podwire-ipam are not both there, executable", from);
			return 1;
		}
	} else if (find_source(src_dir, sizeof(src_dir))) {
		log_err("install-cni: podwire and podwire-ipam are neither beside podwirectl nor in %s or %s (give "
			"--from DIR)", PODWIRE_CNI_BIN_DIR, INSTALL_CNI_IMAGE_DIR);
		return 1;
	}
	if (same_dir(src_dir, dest)) {
		printf("podwire and podwire-ipam are already in %s\n", dest);
		return fflush(stdout) ? 1 : 0;
	}
	for (; copied < N_PLUGINS; copied++) {
		snprintf(src, sizeof(src), "%s/%s", src_dir, plugins[copied]);
		ret = copy_to_temp(src, dest, plugins[copied], tmp[copied], sizeof(tmp[copied]));
		if (ret) {
			log_err("install-cni: %s into %s: %s", src, dest, strerror(-ret));
			break;
		}
	}
	if (ret) { /* nothing renamed yet: the directory is as it was */
		for (size_t i = 0; i < copied; i++)
			unlink(tmp[i]);
		return 1;
	}
	for (size_t i = 0; i < N_PLUGINS; i++) {
		snprintf(final, sizeof(final), "%s/%s", dest, plugins[i]);
		if (rename(tmp[i], final) < 0) {
			log_err("install-cni: %s: %s", final, strerror(errno));
			for (size_t j = i; j < N_PLUGINS; j++)
				unlink(tmp[j]);
			return 1;
		}
		printf("installed %s\n", final);
	}
	/* The renames themselves survive a crash only once the directory is synced. */
	dfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return fflush(stdout) ? 1 : 0;
}
