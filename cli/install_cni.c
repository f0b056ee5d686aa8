/* install-cni: copy the CNI plugins podwire and podwire-ipam into a CNI binary directory (the
 * host's /opt/cni/bin, mounted into the DaemonSet's init container), as flannel's and
 * Calico's installers do. Each plugin is first copied beside its final name, synced, and only
 * when both copies are complete renamed over the old ones: a runtime that runs a plugin
 * meanwhile gets the old file or the new one, never half of one, and a failed copy leaves
 * the directory as it was. The temporary names are unique (mkstemp), never the PID: in an
 * init container install-cni is PID 1 every time, so a file left by a killed run would block
 * every later one. Leftovers of earlier runs are removed.
 *
 * Everything that can refuse is checked before anything is written: the directory must be
 * writable, and with --conf-dir no CNI config of another network may sort before podwire's
 * (a runtime uses the first one, so pods would get the old network). */
#include <cJSON.h>
#include <dirent.h>
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
/* Where the image keeps them when they are not beside podwirectl. */
#define INSTALL_CNI_IMAGE_DIR "/usr/local/lib/podwire/cni"
/* The conflist podwired writes (daemon/cniconf.h). */
#define INSTALL_CNI_CONFLIST "10-podwire.conflist"
#define INSTALL_CNI_TMP ".podwire-install."
#define INSTALL_CNI_CONF_MAX (1 << 20)

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

/* The plugins beside this podwirectl (a build directory), else the image's directory. */
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
	snprintf(dir, len, "%s", INSTALL_CNI_IMAGE_DIR);
	return has_plugins(dir) ? 0 : -ENOENT;
}

/* Copy @src into a new temporary file in @dest_dir; its path in @tmp. */
static int copy_to_temp(const char *src, const char *dest_dir, const char *name, char *tmp, size_t len)
{
	char buf[65536];
	int in, out, ret = 0;
	ssize_t n;

	if (snprintf(tmp, len, "%s/.%s" INSTALL_CNI_TMP "XXXXXX", dest_dir, name) >= (int)len)
		return -ENAMETOOLONG;
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = mkostemp(tmp, O_CLOEXEC);
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

/* A temporary file of an earlier run that was killed (".podwire.podwire-install.XXXXXX"). */
static bool is_leftover(const char *name)
{
	for (size_t i = 0; i < N_PLUGINS; i++) {
		size_t n = strlen(plugins[i]);

		if (name[0] == '.' && !strncmp(name + 1, plugins[i], n) &&
		    !strncmp(name + 1 + n, INSTALL_CNI_TMP, strlen(INSTALL_CNI_TMP)))
			return true;
	}
	return false;
}

static void remove_leftovers(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d)))
		if (is_leftover(e->d_name) && !unlinkat(dirfd(d), e->d_name, 0))
			log_info("install-cni: %s/%s: removed (left by an earlier run)", dir, e->d_name);
	closedir(d);
}

/* The files runtimes read as CNI configs (libcni's ConfFiles: by extension). */
static int is_conf_name(const struct dirent *e)
{
	const char *dot = strrchr(e->d_name, '.');

	return dot && (!strcmp(dot, ".conf") || !strcmp(dot, ".conflist") || !strcmp(dot, ".json"));
}

/* Does this config use the podwire plugin? @what gets the network and its first plugin type. */
static bool conf_is_podwire(const char *text, char *what, size_t len)
{
	cJSON *root = cJSON_Parse(text), *plugins, *p;
	const cJSON *name, *type = NULL;
	bool ours = false;

	if (!cJSON_IsObject(root)) {
		snprintf(what, len, "not valid JSON");
		cJSON_Delete(root);
		return false;
	}
	name = cJSON_GetObjectItemCaseSensitive(root, "name");
	plugins = cJSON_GetObjectItemCaseSensitive(root, "plugins");
	if (cJSON_IsArray(plugins)) {
		cJSON_ArrayForEach(p, plugins) {
			const cJSON *t = cJSON_GetObjectItemCaseSensitive(p, "type");

			if (!type && cJSON_IsString(t))
				type = t;
			ours = ours || (cJSON_IsString(t) && !strcmp(t->valuestring, "podwire"));
		}
	} else {
		type = cJSON_GetObjectItemCaseSensitive(root, "type");
		ours = cJSON_IsString(type) && !strcmp(type->valuestring, "podwire");
	}
	snprintf(what, len, "network \"%.64s\", plugin %.64s", cJSON_IsString(name) ? name->valuestring : "?",
		 cJSON_IsString(type) ? type->valuestring : "?");
	cJSON_Delete(root);
	return ours;
}

/* Runtimes (libcni's ConfFiles, as kubelet, containerd and CRI-O use it) take the first config
 * in lexical order: one of another network before podwire's would be the one pods get. Each is
 * named; 0 when there is none. */
static int check_conf_dir(const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, is_conf_name, alphasort), found = 0;

	if (n < 0) {
		log_err("install-cni: --conf-dir %s: %s", dir, strerror(errno));
		return -errno;
	}
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX + 256], what[192], *text = NULL;
		int fd, ret;

		if (strcmp(names[i]->d_name, INSTALL_CNI_CONFLIST) >= 0)
			break;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		ret = fd < 0 ? -errno : fd_read_all(fd, INSTALL_CNI_CONF_MAX, &text);
		if (fd >= 0)
			close(fd);
		if (ret)
			snprintf(what, sizeof(what), "unreadable: %s", strerror(-ret));
		if (ret || !conf_is_podwire(text, what, sizeof(what))) {
			log_err("install-cni: %s: a CNI config of another network (%s) that runtimes load before "
				"podwire's %s: remove it from %s first", path, what, INSTALL_CNI_CONFLIST, dir);
			found++;
		}
		free(text);
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return found ? -EEXIST : 0;
}

int install_cni_main(int argc, char *argv[])
{
	const char *dest = "/opt/cni/bin", *from = NULL, *conf_dir = NULL;
	/* Room for a directory of PATH_MAX and a plugin's (temporary) name. */
	char src_dir[PATH_MAX], tmp[N_PLUGINS][PATH_MAX + 64], src[PATH_MAX + 64], final[PATH_MAX + 64];
	struct stat st;
	size_t copied = 0;
	bool dest_given = false;
	int ret = 0, dfd;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("Usage: %s install-cni [--from DIR] [--conf-dir CONF_DIR] [DEST_DIR]\n"
			       "Copies podwire and podwire-ipam into DEST_DIR (default /opt/cni/bin), each renamed into\n"
			       "place only once both are copied. DIR defaults to podwirectl's own directory, else %s.\n"
			       "With --conf-dir (the host's /etc/cni/net.d), refuses while a CNI config of another network\n"
			       "sorts before podwire's %s there: runtimes use the first one.\n",
			       log_prog(), INSTALL_CNI_IMAGE_DIR, INSTALL_CNI_CONFLIST);
			return 0;
		} else if (!strcmp(argv[i], "--from") && i + 1 < argc) {
			from = argv[++i];
		} else if (!strcmp(argv[i], "--conf-dir") && i + 1 < argc) {
			conf_dir = argv[++i];
		} else if (argv[i][0] == '-' || dest_given) {
			fprintf(stderr, "Usage: %s install-cni [--from DIR] [--conf-dir CONF_DIR] [DEST_DIR]\n", log_prog());
			return 1;
		} else {
			dest = argv[i];
			dest_given = true;
		}
	}
	if (strlen(dest) >= PATH_MAX || (from && strlen(from) >= PATH_MAX) || (conf_dir && strlen(conf_dir) >= PATH_MAX)) {
		log_err("install-cni: a directory name longer than %d bytes", PATH_MAX - 1);
		return 1;
	}
	errno = 0;
	if (stat(dest, &st) < 0 || !S_ISDIR(st.st_mode)) {
		log_err("install-cni: %s: %s (mount the host's CNI binary directory there)", dest,
			errno ? strerror(errno) : "not a directory");
		return 1;
	}
	if (access(dest, W_OK) < 0) {
		log_err("install-cni: %s: not writable: %s (mount the host's CNI binary directory read-write)", dest,
			strerror(errno));
		return 1;
	}
	if (from) {
		snprintf(src_dir, sizeof(src_dir), "%s", from);
		if (!has_plugins(src_dir)) {
			log_err("install-cni: --from %s: podwire and podwire-ipam are not both there, executable", from);
			return 1;
		}
	} else if (find_source(src_dir, sizeof(src_dir))) {
		log_err("install-cni: podwire and podwire-ipam are neither beside podwirectl nor in %s (give --from DIR)",
			INSTALL_CNI_IMAGE_DIR);
		return 1;
	}
	if (conf_dir && check_conf_dir(conf_dir))
		return 1;
	remove_leftovers(dest);
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
