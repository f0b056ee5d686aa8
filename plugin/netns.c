#include "plugin/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

int netns_open(const char *path, int *fd)
{
	int f = open(path, O_RDONLY | O_CLOEXEC), type;

	if (f < 0)
		return -errno;
	/* NS_GET_NSTYPE (Linux 4.11) answers only for nsfs files, so a regular file or a
	 * mount namespace handle is refused here instead of failing later in setns(). */
	type = ioctl(f, NS_GET_NSTYPE);
	if (type != CLONE_NEWNET) {
		close(f);
		return -EINVAL;
	}
	*fd = f;
	return 0;
}

int netns_open_current(int *fd)
{
	return netns_open("/proc/self/ns/net", fd);
}

int netns_enter(int fd)
{
	return setns(fd, CLONE_NEWNET) ? -errno : 0;
}
