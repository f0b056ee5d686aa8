/* quick_exec.c — start a program, give it stdin, collect stdout, wait for it; and print
 * each step the way wg-quick does ("[#] ..."), beside the command runner as wg-quick keeps it. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/quick.h"
#include "lib/fdio.h"

/* Hooks and key commands print little; more than this is a runaway program. */
#define QUICK_EXEC_MAX_OUTPUT (16u << 20)

void quick_log_cmd(const char *fmt, ...)
{
	va_list ap;

	fputs("[#] ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool quick_have_program(const char *name)
{
	const char *path = getenv("PATH"), *p, *colon;
	char full[PATH_MAX];
	struct stat st;

	if (strchr(name, '/'))
		return !access(name, X_OK);
	for (p = path ? path : "/usr/bin:/bin"; p && *p; p = colon ? colon + 1 : NULL) {
		size_t len;

		colon = strchr(p, ':');
		len = colon ? (size_t)(colon - p) : strlen(p);
		if (snprintf(full, sizeof(full), "%.*s/%s", (int)len, len ? p : ".", name) >= (int)sizeof(full))
			continue;
		if (!stat(full, &st) && S_ISREG(st.st_mode) && !access(full, X_OK))
			return true;
	}
	return false;
}

int quick_exec(char *const argv[], const char *input, char **output, int *status)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, ret = 0, wstatus;
	pid_t pid;

	if (output)
		*output = NULL;
	if ((input && pipe2(in, O_CLOEXEC)) || (output && pipe2(out, O_CLOEXEC))) {
		ret = -errno;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		goto out;
	}
	if (!pid) {
		if (input)
			dup2(in[0], STDIN_FILENO);
		if (output)
			dup2(out[1], STDOUT_FILENO);
		execvp(argv[0], argv);
		fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (input) {
		close(in[0]);
		in[0] = -1;
		/* A program that exits without reading its input is judged by its status. */
		fd_write_all(in[1], input, strlen(input));
		close(in[1]);
		in[1] = -1;
	}
	if (output) {
		close(out[1]);
		out[1] = -1;
		ret = fd_read_all(out[0], QUICK_EXEC_MAX_OUTPUT, output);
	}
	while (waitpid(pid, &wstatus, 0) < 0) {
		if (errno != EINTR) {
			ret = -errno;
			goto out;
		}
	}
	*status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	if (ret && output) {
		free(*output);
		*output = NULL;
	}
	return ret;
}
