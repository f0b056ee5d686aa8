/* uapi_socket.c — listening on the UAPI socket and framing its requests. */
#include "datapath/userspace/uapi_socket.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "datapath/userspace/device.h"
#include "lib/log.h"
#include "lib/fdio.h"
#include "lib/key.h"

/* A set request bigger than this is refused (wg sends ~200 bytes per peer). */
#define UAPI_MAX_REQUEST (64U << 20)

int wg_uapi_listen(struct wg_uapi_server *s, const char *ifname)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t old;
	int fd, ret;

	memset(s, 0, sizeof(*s));
	s->listen_fd = -1;
	if (mkdir(WG_UAPI_SOCKET_DIR, 0755) && errno != EEXIST)
		return -errno;
	ret = snprintf(s->path, sizeof(s->path), "%s/%s.sock", WG_UAPI_SOCKET_DIR, ifname);
	if (ret < 0 || (size_t)ret >= sizeof(s->path))
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, s->path, strlen(s->path) + 1);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	old = umask(0077);
	ret = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	if (ret && errno == EADDRINUSE) {
		/* Stale socket left by a dead process? Only replace it if nobody answers. */
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (probe >= 0 && connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			close(probe);
			umask(old);
			close(fd);
			return -EADDRINUSE;
		}
		if (probe >= 0)
			close(probe);
		unlink(s->path);
		ret = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	}
	umask(old);
	if (ret || listen(fd, 16)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	s->listen_fd = fd;
	return 0;
}

struct conn {
	int fd;
	char *buf;
	size_t len, cap;
};

/* Read more bytes; returns >0, 0 on EOF, <0 on error or when the request is too big. */
static ssize_t conn_fill(struct conn *c)
{
	ssize_t n;

	if (c->len == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 4096;
		char *b;

		if (cap > UAPI_MAX_REQUEST)
			return -EMSGSIZE;
		b = key_realloc(c->buf, c->cap, cap); /* a set request holds keys */
		if (!b)
			return -ENOMEM;
		c->buf = b;
		c->cap = cap;
	}
	do
		n = read(c->fd, c->buf + c->len, c->cap - c->len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	c->len += (size_t)n;
	return n;
}

static void conn_consume(struct conn *c, size_t n)
{
	if (c->buf)
		sodium_memzero(c->buf, n);
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

static int reply_errno(int fd, int err)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "errno=%d\n\n", err);

	return fd_write_all(fd, line, (size_t)n);
}

/* Index just past the blank line ending a set body that starts at @from, or 0. */
static size_t find_body_end(const struct conn *c, size_t from)
{
	size_t i;

	if (from < c->len && c->buf[from] == '\n')
		return from + 1;
	for (i = from; i + 1 < c->len; i++)
		if (c->buf[i] == '\n' && c->buf[i + 1] == '\n')
			return i + 2;
	return 0;
}

void wg_uapi_serve_connection(struct wg_uapi_server *s, int fd)
{
	struct conn c = { .fd = fd };
	struct wg_uapi_request *req;
	struct timeval tv = { .tv_sec = 5 };
	char *nl, *out;
	size_t end, out_len;
	int ret;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	for (;;) {
		while (!(nl = c.len ? memchr(c.buf, '\n', c.len) : NULL))
			if (conn_fill(&c) <= 0)
				goto out;
		if ((size_t)(nl - c.buf) == 5 && !memcmp(c.buf, "get=1", 5)) {
			/* wireguard-go: the operation line must be followed by a blank line. */
			while (c.len < 7)
				if (conn_fill(&c) <= 0)
					goto out;
			if (c.buf[6] != '\n') {
				conn_consume(&c, 6);
				reply_errno(fd, -EINVAL);
				continue;
			}
			conn_consume(&c, 7);
			pthread_mutex_lock(s->lock);
			ret = wg_uapi_get(s->dev, &out, &out_len);
			pthread_mutex_unlock(s->lock);
			if (ret == 0) {
				ret = fd_write_all(fd, out, out_len);
				sodium_memzero(out, out_len);
				free(out);
				if (ret)
					goto out;
			}
			if (reply_errno(fd, ret))
				goto out;
		} else if ((size_t)(nl - c.buf) == 5 && !memcmp(c.buf, "set=1", 5)) {
			while (!(end = find_body_end(&c, 6))) {
				ssize_t n = conn_fill(&c);

				if (n == 0) {
					/* EOF without the blank line: take what came, as wireguard-go. */
					end = c.len;
					break;
				}
				if (n < 0) {
					reply_errno(fd, n == -EMSGSIZE ? -EINVAL : -EIO);
					goto out;
				}
			}
			/* Parsed outside the datapath lock: a big request must not stall traffic
			 * while its text is decoded; only applying it holds the lock. */
			ret = wg_uapi_parse(&req, c.buf + 6, end - 6, s->dev->name);
			conn_consume(&c, end);
			if (!ret) {
				pthread_mutex_lock(s->lock);
				ret = wg_uapi_apply(s->dev, req, &s->ops);
				pthread_mutex_unlock(s->lock);
				wg_uapi_request_free(req);
			}
			if (reply_errno(fd, ret))
				goto out;
		} else {
			log_err("%s: invalid UAPI operation", s->dev->name);
			goto out;
		}
	}
out:
	if (c.buf)
		sodium_memzero(c.buf, c.cap);
	free(c.buf);
}

static void *uapi_thread(void *arg)
{
	struct wg_uapi_server *s = arg;

	for (;;) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			break; /* shut down */
		}
		wg_uapi_serve_connection(s, fd);
		close(fd);
	}
	return NULL;
}

int wg_uapi_start(struct wg_uapi_server *s, struct wg_device *dev, pthread_mutex_t *lock,
		  const struct wg_uapi_ops *ops)
{
	int ret;

	s->dev = dev;
	s->lock = lock;
	s->ops = *ops;
	ret = pthread_create(&s->thread, NULL, uapi_thread, s);
	if (ret)
		return -ret;
	s->running = true;
	return 0;
}

void wg_uapi_stop(struct wg_uapi_server *s)
{
	if (s->listen_fd >= 0)
		shutdown(s->listen_fd, SHUT_RDWR);
	if (s->running)
		pthread_join(s->thread, NULL);
	s->running = false;
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		unlink(s->path);
	}
	s->listen_fd = -1;
}
