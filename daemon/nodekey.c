/* nodekey.c — loading or creating the node's private key (see nodekey.h). */
#include "daemon/nodekey.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "lib/key_file.h"
#include "lib/spawn.h"

/* --private-key-command reads a secret store; it answers at once or not at all. */
#define KEY_COMMAND_TIMEOUT_MS_DEFAULT 30000

/* Parse the first line of @buf as a base64 key; wipes @buf. */
static int key_from_text(uint8_t key[WG_KEY_LEN], char *buf, size_t len)
{
	char *nl;
	int ret;

	buf[len] = '\0';
	nl = strpbrk(buf, "\r\n");
	if (nl)
		*nl = '\0';
	ret = key_from_base64(key, buf);
	sodium_memzero(buf, len);
	return ret;
}

static int read_fd(int fd, char *buf, size_t cap, size_t *len)
{
	*len = 0;
	while (*len < cap) {
		ssize_t r = read(fd, buf + *len, cap - *len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (!r)
			break;
		*len += (size_t)r;
	}
	return 0;
}

/* Read a child's output until it closes it, at most @timeout_ms in all. */
static int read_child(int fd, char *buf, size_t cap, size_t *len, int timeout_ms)
{
	struct timespec t0, t;
	int left = timeout_ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	*len = 0;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, left);
		ssize_t n;

		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0) {
			n = read(fd, buf + *len, cap - *len);
			if (n < 0 && errno != EINTR)
				return -errno;
			if (n == 0 || (n > 0 && (*len += (size_t)n) == cap))
				return 0;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = timeout_ms - (int)((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0)
			return -ETIMEDOUT;
	}
}

static int load_file(const char *path, uint8_t key[WG_KEY_LEN], char *err, size_t err_len)
{
	char buf[128], why[128];
	size_t len;
	int fd = key_file_open(path, why, sizeof(why)), ret;

	if (fd < 0) {
		snprintf(err, err_len, "%s: private key file: %s", path, why);
		return fd;
	}
	ret = read_fd(fd, buf, sizeof(buf) - 1, &len);
	close(fd);
	if (!ret)
		ret = key_from_text(key, buf, len);
	sodium_memzero(buf, sizeof(buf));
	if (ret)
		snprintf(err, err_len, "%s: not a base64 WireGuard private key", path);
	return ret;
}

static int load_command(const char *cmd, int timeout_ms, uint8_t key[WG_KEY_LEN], char *err, size_t err_len)
{
	char buf[128];
	int pipefd[2], status, ret;
	size_t len = 0;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return ret;
	}
	if (pid == 0) {
		spawn_child_reset_signals();
		setpgid(0, 0); /* its own group, so a timeout kills what the shell started too */
		dup2(pipefd[1], STDOUT_FILENO);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	ret = read_child(pipefd[0], buf, sizeof(buf) - 1, &len, timeout_ms);
	close(pipefd[0]);
	if (ret == -ETIMEDOUT) {
		/* A hung command must not hang the daemon (its SIGTERM waits behind us). */
		kill(-pid, SIGKILL);
		snprintf(err, err_len, "private key command did not finish within %d ms", timeout_ms);
	} else if (ret) {
		snprintf(err, err_len, "reading the private key command's output: %s", strerror(-ret));
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!ret && (!WIFEXITED(status) || WEXITSTATUS(status))) {
		snprintf(err, err_len, "private key command failed (status %d)", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		ret = -EIO;
	}
	if (!ret) {
		ret = key_from_text(key, buf, len);
		if (ret)
			snprintf(err, err_len, "private key command did not print a base64 key");
	}
	sodium_memzero(buf, sizeof(buf));
	return ret;
}

static int create_state_key(const char *dir, uint8_t key[WG_KEY_LEN], char *err, size_t err_len)
{
	char path[4096], text[WG_KEY_LEN_BASE64 + 1];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/private.key", dir);
	if (access(path, F_OK) == 0)
		return load_file(path, key, err, err_len);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		ret = -errno;
		snprintf(err, err_len, "%s: %s", dir, strerror(errno));
		return ret;
	}
	/* O_EXCL: two daemons starting at once must not both write a different key. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return load_file(path, key, err, err_len);
		ret = -errno;
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return ret;
	}
	key_generate_private(key);
	key_to_base64(text, key);
	text[WG_KEY_LEN_BASE64 - 1] = '\n';
	if (write(fd, text, WG_KEY_LEN_BASE64) != WG_KEY_LEN_BASE64 || fsync(fd) < 0) {
		ret = -EIO;
		snprintf(err, err_len, "%s: cannot write the new private key", path);
		unlink(path);
	}
	close(fd);
	sodium_memzero(text, sizeof(text));
	return ret;
}

int nodekey_load(const struct nodekey_source *src, uint8_t key[WG_KEY_LEN], char *err, size_t err_len)
{
	int ret;

	if (src->command)
		ret = load_command(src->command, src->command_timeout_ms ? src->command_timeout_ms : KEY_COMMAND_TIMEOUT_MS_DEFAULT,
				   key, err, err_len);
	else if (src->file)
		ret = load_file(src->file, key, err, err_len);
	else
		ret = create_state_key(src->state_dir ? src->state_dir : "/var/lib/podwire", key, err, err_len);
	if (!ret && key_is_zero(key)) {
		snprintf(err, err_len, "the private key is all zeros");
		ret = -EINVAL;
	}
	if (ret)
		sodium_memzero(key, WG_KEY_LEN);
	return ret;
}
