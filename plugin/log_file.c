/* log_file.c — opening the CNI plugin's logFile safely. The plugin runs as root and the path
 * comes from a network config, which under Multus a tenant writes: "/etc/shadow", a symlink
 * planted in a log directory, or a FIFO would otherwise be appended to (or block on) as
 * root. So the file must lie below one directory the administrator chose, no symlink is
 * followed on the way, and only a regular file with a single link is appended to. */
#include "plugin/log_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *log_file_root(void)
{
	const char *dir = getenv(LOG_FILE_ROOT_ENV);

	return dir && dir[0] == '/' ? dir : LOG_FILE_ROOT;
}

static int refuse(char *why, size_t why_len, const char *reason)
{
	if (why && why_len)
		snprintf(why, why_len, "%s", reason);
	return -EPERM;
}

/* The part of @path below @root ("a/b.log"), or NULL when @path is not below it. */
static const char *below_root(const char *path, const char *root)
{
	size_t n = strlen(root);

	while (n > 1 && root[n - 1] == '/')
		n--;
	if (strncmp(path, root, n) || (n > 1 && path[n] != '/'))
		return NULL;
	path += n;
	while (*path == '/')
		path++;
	return path;
}

int log_file_check(const char *path, const char *root, char *why, size_t why_len)
{
	char reason[PATH_MAX + 64];
	const char *rel, *c, *end;

	if (path[0] != '/')
		return refuse(why, why_len, "must be an absolute path");
	if (strlen(path) >= PATH_MAX)
		return refuse(why, why_len, "path too long");
	rel = below_root(path, root);
	if (!rel || !*rel) {
		snprintf(reason, sizeof(reason), "must be a file below %s (%s in the runtime's environment allows another directory)",
			 root, LOG_FILE_ROOT_ENV);
		return refuse(why, why_len, reason);
	}
	for (c = rel; *c; c = *end ? end + 1 : end) {
		end = strchr(c, '/');
		if (!end)
			end = c + strlen(c);
		if (end == c || (end - c == 1 && c[0] == '.') || (end - c == 2 && c[0] == '.' && c[1] == '.'))
			return refuse(why, why_len, "must not contain empty, \".\" or \"..\" components");
	}
	if (path[strlen(path) - 1] == '/')
		return refuse(why, why_len, "names a directory");
	return 0;
}

static int open_failed(int err, const char *what, char *why, size_t why_len)
{
	char reason[128];

	/* A symlink (ELOOP with O_NOFOLLOW), a file where a directory should be, or a directory
	 * where the file should be: someone arranged the path; refuse rather than log elsewhere. */
	if (err == ELOOP || err == ENOTDIR || err == EISDIR || err == ENXIO) {
		snprintf(reason, sizeof(reason), "%s is %s", what,
			 err == ELOOP ? "a symbolic link" : err == ENOTDIR ? "not a directory" :
			 err == EISDIR ? "a directory" : "not a regular file");
		return refuse(why, why_len, reason);
	}
	if (why && why_len)
		snprintf(why, why_len, "%s: %s", what, strerror(err));
	return -err;
}

int log_file_open(const char *path, const char *root, FILE **out, char *why, size_t why_len)
{
	char rel[PATH_MAX], *c, *slash;
	struct stat st;
	int dir, fd, ret;
	FILE *f = NULL;

	*out = NULL;
	ret = log_file_check(path, root, why, why_len);
	if (ret)
		return ret;
	snprintf(rel, sizeof(rel), "%s", below_root(path, root));
	/* The root is the administrator's and may itself be a link (/var/log on another disk). */
	dir = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return open_failed(errno, "the log directory", why, why_len);
	for (c = rel; (slash = strchr(c, '/')); c = slash + 1) {
		int next;

		*slash = '\0';
		if (mkdirat(dir, c, 0755) && errno != EEXIST) {
			ret = open_failed(errno, c, why, why_len);
			close(dir);
			return ret;
		}
		next = openat(dir, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			int e = errno;

			/* With O_DIRECTORY a symlink fails as ENOTDIR: say which it was. */
			if (e == ENOTDIR && !fstatat(dir, c, &st, AT_SYMLINK_NOFOLLOW) && S_ISLNK(st.st_mode))
				e = ELOOP;
			ret = open_failed(e, c, why, why_len);
		} else {
			ret = 0;
		}
		close(dir);
		if (ret)
			return ret;
		dir = next;
	}
	/* O_NONBLOCK: a FIFO planted here must not hang the plugin before it is refused below. */
	fd = openat(dir, c, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC, 0600);
	ret = fd < 0 ? open_failed(errno, "the log file", why, why_len) : 0;
	close(dir);
	if (ret)
		return ret;
	if (fstat(fd, &st))
		ret = open_failed(errno, "the log file", why, why_len);
	else if (!S_ISREG(st.st_mode))
		ret = refuse(why, why_len, "not a regular file");
	else if (st.st_nlink != 1)
		ret = refuse(why, why_len, "has more than one hard link");
	else if (fcntl(fd, F_SETFL, O_APPEND))
		ret = open_failed(errno, "the log file", why, why_len);
	if (!ret && !(f = fdopen(fd, "a")))
		ret = open_failed(errno, "the log file", why, why_len);
	if (ret) {
		close(fd);
		return ret;
	}
	*out = f;
	return 0;
}
