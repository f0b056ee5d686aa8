/* key_file.c — see key_file.h. */
#include "lib/key_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int key_file_open(const char *path, char *why, size_t why_len)
{
	struct stat st;
	int fd, ret = -EPERM;

	fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(why, why_len, "%s", strerror(errno));
		return ret;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		snprintf(why, why_len, "%s", strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(why, why_len, "not a regular file");
	} else if (st.st_uid != geteuid() && st.st_uid != 0) {
		/* Its owner can rewrite it (and so choose our key) or read it whenever it likes. */
		snprintf(why, why_len, "owned by uid %u, not by uid %u or root", (unsigned int)st.st_uid,
			 (unsigned int)geteuid());
	} else if (st.st_mode & 077) {
		snprintf(why, why_len, "readable by group or others (mode %04o); chmod 600 it",
			 (unsigned int)(st.st_mode & 07777));
	} else if (fcntl(fd, F_SETFL, 0)) {
		ret = -errno;
		snprintf(why, why_len, "%s", strerror(errno));
	} else {
		return fd;
	}
	close(fd);
	return ret;
}
