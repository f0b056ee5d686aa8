/* fdio.c — whole reads and writes on file descriptors. */
#include "lib/fdio.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

int fd_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int fd_read_all(int fd, size_t max, char **out)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *grown;
	int ret = 0;

	*out = NULL;
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (len + 1 == cap) {
			if (cap > max) {
				ret = -EFBIG;
				break;
			}
			grown = realloc(buf, cap * 2);
			if (!grown) {
				ret = -ENOMEM;
				break;
			}
			buf = grown;
			cap *= 2;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			break;
		}
		if (!r)
			break;
		len += (size_t)r;
	}
	if (!ret && len > max)
		ret = -EFBIG;
	if (ret) {
		free(buf);
		return ret;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}
