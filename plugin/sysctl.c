#include "plugin/sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int sysctl_ensure(const char *key, const char *value)
{
	char path[256], cur[64];
	size_t len = strlen(value);
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "/proc/sys/%s", key) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, cur, sizeof(cur) - 1);
	if (n >= 0) {
		cur[n] = '\0';
		cur[strcspn(cur, "\n")] = '\0';
		if (!strcmp(cur, value)) {
			close(fd);
			return 0;
		}
	}
	n = pwrite(fd, value, len, 0);
	if (n != (ssize_t)len) {
		int ret = n < 0 ? -errno : -EIO;

		close(fd);
		return ret;
	}
	return close(fd) ? -errno : 0;
}
