/* store_file.c — the embedded default store: a directory on storage all nodes share.
 *
 * nodes/NAME is the file DIR/NAME.conf (a valid wg config, so the directory is the
 * tutorial's shared peers.conf split per node); every other key prefix/name is
 * DIR/.podwire/prefix/name. Writers take flock(2) on DIR/.lock and replace files by
 * rename(2), so readers never see half a record and need no lock. inotify(7) on DIR is
 * the watch. Leases do not exist here: liveness is the record's Heartbeat line. */
#include "mesh/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"

struct store_file {
	struct store base;
	char *dir;
	int lock_fd;
	int inotify_fd;
	/* Files the last listing of each prefix skipped, "\nNAME: reason\n" each: logged once
	 * while they stay. */
	struct store_skips skips[STORE_SKIPS_PREFIXES];
};

static struct store_file *to_file(struct store *s) { return (struct store_file *)s; }

static int key_path(struct store_file *fs, const char *key, char *path, size_t len)
{
	size_t np = strlen(STORE_NODES_PREFIX);
	int n;

	if (!store_key_valid(key))
		return -EINVAL;
	if (!strncmp(key, STORE_NODES_PREFIX, np))
		n = snprintf(path, len, "%s/%s.conf", fs->dir, key + np);
	else
		n = snprintf(path, len, "%s/.podwire/%s", fs->dir, key);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static const char *file_type_name(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	return "not a regular file";
}

/* Read a store file whole. Anyone who can write the directory can put anything there, and
 * the daemon has one thread: so the file is opened without following a symlink and without
 * blocking (a FIFO opened for reading would wait for a writer forever), and only a regular
 * file of at most STORE_VALUE_MAX bytes is read. Otherwise the error says why in @why:
 * -ELOOP (a symlink), -EINVAL (a directory, FIFO, socket or device), -EFBIG (too large). */
static int read_whole(const char *path, char **value, size_t *len, char *why, size_t why_len)
{
	size_t cap, used = 0;
	struct stat st;
	char *buf;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		ret = -errno;
		if (ret == -ELOOP)
			snprintf(why, why_len, "a symbolic link");
		else if (ret == -ENXIO) /* open(2) of a socket */
			snprintf(why, why_len, "a socket, not a regular file");
		else
			snprintf(why, why_len, "%s", strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		snprintf(why, why_len, "%s", strerror(-ret));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, why_len, "%s, not a regular file", file_type_name(st.st_mode));
		ret = -EINVAL;
		goto out;
	}
	if (st.st_size > (off_t)STORE_VALUE_MAX) {
		snprintf(why, why_len, "%lld bytes, larger than %u", (long long)st.st_size, STORE_VALUE_MAX);
		ret = -EFBIG;
		goto out;
	}
	/* One more than the bound: a file that grew meanwhile is caught, not cut. */
	cap = (size_t)st.st_size < STORE_VALUE_MAX ? (size_t)st.st_size + 1 : STORE_VALUE_MAX + 1;
	buf = malloc(cap + 1);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	while (used < cap) {
		ssize_t r = read(fd, buf + used, cap - used);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			snprintf(why, why_len, "%s", strerror(-ret));
			break;
		}
		if (!r)
			break;
		used += (size_t)r;
	}
	if (!ret && used > STORE_VALUE_MAX) {
		snprintf(why, why_len, "more than %u bytes", STORE_VALUE_MAX);
		ret = -EFBIG;
	}
	if (ret) {
		free(buf);
		goto out;
	}
	buf[used] = '\0';
	*value = buf;
	if (len)
		*len = used;
out:
	close(fd);
	return ret;
}

static int lock_store(struct store_file *fs)
{
	while (flock(fs->lock_fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static void unlock_store(struct store_file *fs) { flock(fs->lock_fd, LOCK_UN); }

/* Write by rename so that readers see the old or the new file, never a mix. */
static int write_atomic(struct store_file *fs, const char *path, const char *value)
{
	char tmp[PATH_MAX];
	size_t len = strlen(value), off = 0;
	const char *slash = strrchr(path, '/');
	int fd, ret = 0;

	if (snprintf(tmp, sizeof(tmp), "%.*s/.tmp.%d.XXXXXX", (int)(slash - path), path, getpid()) >=
	    (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t w = write(fd, value + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			ret = -errno;
			break;
		}
		off += (size_t)w;
	}
	/* Records are world-readable like a peers.conf: they hold no secret. */
	if (!ret && fchmod(fd, 0644) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

static int ensure_parent(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int file_get(struct store *s, const char *key, char **value, size_t *len)
{
	char path[PATH_MAX], why[128] = "";
	int ret = key_path(to_file(s), key, path, sizeof(path));

	if (ret)
		return ret;
	ret = read_whole(path, value, len, why, sizeof(why));
	if (ret && ret != -ENOENT && ret != -ENOMEM)
		log_warn("store file %s: cannot read: %s", path, why);
	return ret;
}

static int cmp_kv(const void *a, const void *b)
{
	return strcmp(((const struct store_kv *)a)->key, ((const struct store_kv *)b)->key);
}

/* A skipped file is logged when it first shows up, not at every listing. */
static void note_skip(struct store_file *fs, char *const *logged, char **now, const char *name, const char *why)
{
	char *line, *grown;
	size_t have = *now ? strlen(*now) : 0;

	if (asprintf(&line, "\n%s: %s\n", name, why) < 0)
		return;
	if (!*logged || !strstr(*logged, line))
		log_warn("store file %s/%s skipped: %s", fs->dir, name, why);
	grown = realloc(*now, have + strlen(line) + 1);
	if (grown) {
		memcpy(grown + have, line, strlen(line) + 1);
		*now = grown;
	}
	free(line);
}

/* @missing_ok: a directory that does not exist lists as empty (a key prefix nobody wrote
 * yet); otherwise it is an error. */
static int list_dir(struct store_file *fs, const char *dir, const char *prefix, const char *suffix, bool missing_ok,
		    struct store_kv **kvs, size_t *n)
{
	size_t cap = 0, slen = strlen(suffix), total = 0;
	struct store_kv *out = NULL;
	struct dirent *de;
	DIR *d = opendir(dir);
	char *skips = NULL, **logged = store_skips_slot(fs->skips, prefix);
	int ret = 0;

	*kvs = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT && missing_ok ? 0 : -errno;
	while ((de = readdir(d))) {
		size_t nlen = strlen(de->d_name);
		char path[PATH_MAX], why[128] = "", *key;
		struct store_kv kv = { 0 };

		if (de->d_name[0] == '.' || nlen <= slen || strcmp(de->d_name + nlen - slen, suffix))
			continue;
		if (asprintf(&key, "%s%.*s", prefix, (int)(nlen - slen), de->d_name) < 0) {
			ret = -ENOMEM;
			break;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		kv.key = key;
		ret = read_whole(path, &kv.value, &kv.value_len, why, sizeof(why));
		if (ret == -ENOENT) { /* deleted meanwhile */
			free(key);
			ret = 0;
			continue;
		}
		if (ret && ret != -ENOMEM) {
			/* Not a record, or not one we hold: the others are listed all the same. */
			note_skip(fs, logged, &skips, de->d_name, why);
			free(key);
			ret = 0;
			continue;
		}
		if (ret) {
			free(key);
			break;
		}
		total += sizeof(kv) + nlen + kv.value_len + 2;
		if (total > STORE_LIST_MAX) {
			log_err("store file %s: the records hold more than %u bytes in all: not listed, the last "
				"applied mesh stays", dir, STORE_LIST_MAX);
			free(kv.key);
			free(kv.value);
			ret = -EFBIG;
			break;
		}
		if (*n == cap) {
			struct store_kv *grown = realloc(out, (cap ? cap * 2 : 16) * sizeof(*out));

			if (!grown) {
				free(kv.key);
				free(kv.value);
				ret = -ENOMEM;
				break;
			}
			out = grown;
			cap = cap ? cap * 2 : 16;
		}
		out[(*n)++] = kv;
	}
	closedir(d);
	if (!ret) {
		free(*logged);
		*logged = skips;
	} else {
		free(skips);
	}
	if (ret) {
		store_kvs_free(out, *n);
		*n = 0;
		return ret;
	}
	if (*n)
		qsort(out, *n, sizeof(*out), cmp_kv);
	*kvs = out;
	return 0;
}

static int file_list(struct store *s, const char *prefix, struct store_kv **kvs, size_t *n)
{
	struct store_file *fs = to_file(s);
	char dir[PATH_MAX];
	size_t plen = strlen(prefix);

	if (!plen || prefix[plen - 1] != '/' || strchr(prefix, '/') != prefix + plen - 1)
		return -EINVAL;
	/* The store directory itself gone (moved away, an unmounted share) is an outage, not a
	 * mesh without nodes: an empty listing would remove every peer and route. */
	if (!strcmp(prefix, STORE_NODES_PREFIX))
		return list_dir(fs, fs->dir, prefix, ".conf", false, kvs, n);
	snprintf(dir, sizeof(dir), "%s/.podwire/%.*s", fs->dir, (int)(plen - 1), prefix);
	return list_dir(fs, dir, prefix, "", true, kvs, n);
}

static int file_put(struct store *s, const char *key, const char *value, bool leased)
{
	struct store_file *fs = to_file(s);
	char path[PATH_MAX];
	int ret = key_path(fs, key, path, sizeof(path));

	if (ret)
		return ret;
	if (strlen(value) > STORE_VALUE_MAX) /* no other node would list it */
		return -EFBIG;
	ret = ensure_parent(path);
	if (ret)
		return ret;
	ret = lock_store(fs);
	if (ret)
		return ret;
	ret = write_atomic(fs, path, value);
	unlock_store(fs);
	return ret;
}

static int file_del(struct store *s, const char *key)
{
	struct store_file *fs = to_file(s);
	char path[PATH_MAX];
	int ret = key_path(fs, key, path, sizeof(path));

	if (ret)
		return ret;
	ret = lock_store(fs);
	if (ret)
		return ret;
	if (unlink(path) < 0 && errno != ENOENT)
		ret = -errno;
	unlock_store(fs);
	return ret;
}

static int file_cas(struct store *s, const char *key, const char *expect, const char *value)
{
	struct store_file *fs = to_file(s);
	char path[PATH_MAX], why[128] = "", *cur = NULL;
	int ret = key_path(fs, key, path, sizeof(path)), got;

	if (ret)
		return ret;
	if (value && strlen(value) > STORE_VALUE_MAX)
		return -EFBIG;
	ret = ensure_parent(path);
	if (ret)
		return ret;
	ret = lock_store(fs);
	if (ret)
		return ret;
	got = read_whole(path, &cur, NULL, why, sizeof(why));
	if (got && got != -ENOENT) {
		log_warn("store file %s: cannot read: %s", path, why);
		ret = got;
		goto out;
	}
	if ((expect && (got || strcmp(cur, expect))) || (!expect && !got)) {
		ret = -ECANCELED;
		goto out;
	}
	if (value)
		ret = write_atomic(fs, path, value);
	else if (unlink(path) < 0)
		ret = -errno;
out:
	unlock_store(fs);
	free(cur);
	return ret;
}

static int file_watch_fd(struct store *s) { return to_file(s)->inotify_fd; }

static int file_watch_drain(struct store *s)
{
	struct store_file *fs = to_file(s);
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	int changed = 0;

	for (;;) {
		ssize_t len = read(fs->inotify_fd, buf, sizeof(buf));

		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0)
			return errno == EAGAIN ? changed : -errno;
		for (char *p = buf; p < buf + len;) {
			struct inotify_event *ev = (struct inotify_event *)p;

			if (ev->mask & (IN_Q_OVERFLOW | IN_IGNORED))
				changed = 1;
			/* Temporary files and the lock start with '.': not records. */
			else if (ev->len && ev->name[0] != '.')
				changed = 1;
			p += sizeof(*ev) + ev->len;
		}
	}
}

static int file_heartbeat(struct store *s) { return 0; }

static void file_close(struct store *s)
{
	struct store_file *fs = to_file(s);

	if (fs->inotify_fd >= 0)
		close(fs->inotify_fd);
	if (fs->lock_fd >= 0)
		close(fs->lock_fd);
	free(fs->dir);
	store_skips_free(fs->skips);
	free(fs);
}

static const struct store_ops file_ops = {
	.name = "file",
	.list = file_list,
	.get = file_get,
	.put = file_put,
	.del = file_del,
	.cas = file_cas,
	.watch_fd = file_watch_fd,
	.watch_drain = file_watch_drain,
	.heartbeat = file_heartbeat,
	.close = file_close,
};

int store_file_open(struct store **s, const char *dir)
{
	struct store_file *fs = calloc(1, sizeof(*fs));
	char path[PATH_MAX];
	int ret;

	*s = NULL;
	if (!fs)
		return -ENOMEM;
	fs->base.ops = &file_ops;
	fs->lock_fd = fs->inotify_fd = -1;
	fs->dir = strdup(dir);
	if (!fs->dir) {
		ret = -ENOMEM;
		goto fail;
	}
	/* The directory must exist: a missing one is a typo or unmounted shared storage, and
	 * only podwired --store-dir-create makes a new one. */
	snprintf(path, sizeof(path), "%s/.lock", dir);
	fs->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fs->lock_fd < 0) {
		ret = -errno;
		goto fail;
	}
	fs->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fs->inotify_fd < 0) {
		ret = -errno;
		goto fail;
	}
	if (inotify_add_watch(fs->inotify_fd, dir,
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF) < 0) {
		ret = -errno;
		goto fail;
	}
	*s = &fs->base;
	return 0;
fail:
	file_close(&fs->base);
	return ret;
}
