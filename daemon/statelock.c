/* statelock.c — the state directory's lock file (see statelock.h). */
#include "daemon/statelock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fdio.h"

static void read_holder(int fd, struct statelock_holder *holder)
{
	char buf[128] = "", *end;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	long pid;

	memset(holder, 0, sizeof(*holder));
	if (n <= 0)
		return;
	buf[n] = '\0';
	pid = strtol(buf, &end, 10);
	if (end == buf || pid <= 0)
		return;
	holder->pid = (pid_t)pid;
	if (*end == ' ')
		sscanf(end + 1, "%63[^\n]", holder->node);
}

int statelock_take(const char *dir, const char *node, bool create, struct statelock_holder *holder, char *path,
		   size_t path_len)
{
	char text[96];
	int fd, ret, len;

	memset(holder, 0, sizeof(*holder));
	if (snprintf(path, path_len, "%s/%s", dir, STATELOCK_FILE) >= (int)path_len)
		return -ENAMETOOLONG;
	if (create && mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	/* O_NOFOLLOW: a symlink planted here must not make us create or truncate its target. */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
		if (ret == -EBUSY)
			read_holder(fd, holder);
		close(fd);
		return ret;
	}
	len = snprintf(text, sizeof(text), "%ld %s\n", (long)getpid(), node);
	ret = ftruncate(fd, 0) < 0 ? -errno : fd_write_all(fd, text, (size_t)len);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}
