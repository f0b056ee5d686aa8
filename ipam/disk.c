#include "ipam/disk.h"
#include "lib/fdio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* host-local separates the two fields with CRLF; keeping it lets either plugin read the files. */
#define OWNER_SEP "\r\n"

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

int ipam_disk_open(struct ipam_disk *d, const char *data_dir, const char *network)
{
	char path[PATH_MAX];
	int ret;

	d->dirfd = d->lockfd = -1;
	if (snprintf(path, sizeof(path), "%s/%s", data_dir, network) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if ((ret = mkdir_p(path)))
		return ret;
	d->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->dirfd < 0)
		return -errno;
	d->lockfd = openat(d->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (d->lockfd < 0) {
		ret = -errno;
		ipam_disk_close(d);
		return ret;
	}
	return 0;
}

void ipam_disk_close(struct ipam_disk *d)
{
	if (d->lockfd >= 0)
		close(d->lockfd);
	if (d->dirfd >= 0)
		close(d->dirfd);
	d->dirfd = d->lockfd = -1;
}

/* SIGALRM only has to interrupt flock(2): a handler installed without SA_RESTART does. */
static void lock_alarm(int sig)
{
	(void)sig;
}

int ipam_disk_lock(struct ipam_disk *d, unsigned int timeout_s)
{
	struct sigaction sa = { .sa_handler = lock_alarm }, old;
	int ret = 0;

	if (timeout_s) {
		sigemptyset(&sa.sa_mask);
		sigaction(SIGALRM, &sa, &old);
		alarm(timeout_s);
	}
	if (flock(d->lockfd, LOCK_EX))
		ret = errno == EINTR && timeout_s ? -ETIMEDOUT : -errno;
	if (timeout_s) {
		alarm(0);
		sigaction(SIGALRM, &old, NULL);
	}
	return ret;
}

void ipam_disk_unlock(struct ipam_disk *d)
{
	flock(d->lockfd, LOCK_UN);
}

bool ipam_disk_is_reserved(struct ipam_disk *d, const struct ip_addr *a)
{
	char name[IP_ADDR_STRLEN];

	ip_addr_format(a, name, sizeof(name));
	return faccessat(d->dirfd, name, F_OK, 0) == 0;
}

int ipam_disk_reserve(struct ipam_disk *d, const struct ip_addr *a, const char *id, const char *ifname)
{
	char name[IP_ADDR_STRLEN], owner[512];
	int fd, ret, len;

	ip_addr_format(a, name, sizeof(name));
	len = snprintf(owner, sizeof(owner), "%s" OWNER_SEP "%s", id, ifname);
	if (len < 0 || len >= (int)sizeof(owner))
		return -ENAMETOOLONG;
	fd = openat(d->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	ret = fd_write_all(fd, owner, (size_t)len);
	if (close(fd) && !ret)
		ret = -errno;
	if (ret)
		unlinkat(d->dirfd, name, 0);
	return ret;
}

int ipam_disk_release(struct ipam_disk *d, const struct ip_addr *a)
{
	char name[IP_ADDR_STRLEN];

	ip_addr_format(a, name, sizeof(name));
	if (unlinkat(d->dirfd, name, 0))
		return -errno;
	return 0;
}

static int read_small(int dirfd, const char *name, char *buf, size_t size)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

int ipam_disk_last_reserved(struct ipam_disk *d, unsigned int set, struct ip_addr *out)
{
	char name[64], buf[IP_ADDR_STRLEN + 2];
	int ret;

	snprintf(name, sizeof(name), "last_reserved_ip.%u", set);
	if ((ret = read_small(d->dirfd, name, buf, sizeof(buf))))
		return ret;
	buf[strcspn(buf, "\r\n")] = '\0';
	return ip_addr_parse(out, buf) ? -EINVAL : 0;
}

int ipam_disk_set_last_reserved(struct ipam_disk *d, unsigned int set, const struct ip_addr *a)
{
	char name[64], tmp[80], buf[IP_ADDR_STRLEN];
	int fd, ret;

	/* Written aside and renamed so a crash never leaves a half-written file. */
	snprintf(name, sizeof(name), "last_reserved_ip.%u", set);
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	ip_addr_format(a, buf, sizeof(buf));
	fd = openat(d->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	ret = fd_write_all(fd, buf, strlen(buf));
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && renameat(d->dirfd, tmp, d->dirfd, name))
		ret = -errno;
	if (ret)
		unlinkat(d->dirfd, tmp, 0);
	return ret;
}

int ipam_disk_foreach(struct ipam_disk *d, ipam_disk_visit_fn fn, void *ctx)
{
	int fd = dup(d->dirfd), ret = 0;
	struct dirent *de;
	DIR *dir;

	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		ret = -errno;
		close(fd);
		return ret;
	}
	rewinddir(dir);
	while (!ret && (de = readdir(dir))) {
		char buf[512], *ifname;
		struct ip_addr a;

		/* Only files named like an address are reservations. */
		if (ip_addr_parse(&a, de->d_name))
			continue;
		if (read_small(d->dirfd, de->d_name, buf, sizeof(buf)))
			continue;
		ifname = strstr(buf, OWNER_SEP);
		if (ifname) {
			*ifname = '\0';
			ifname += strlen(OWNER_SEP);
		} else {
			ifname = buf + strlen(buf);	/* old host-local files: ID only */
		}
		buf[strcspn(buf, "\r\n")] = '\0';
		ret = fn(&a, buf, ifname, ctx);
	}
	closedir(dir);
	return ret;
}
