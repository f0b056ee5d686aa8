#include "plugin/ipam_exec.h"
#include "lib/fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define MAX_OUTPUT (1 << 20)

static int find_plugin(const char *cni_path, const char *type, char *out, size_t len)
{
	const char *p = cni_path;

	while (*p) {
		size_t n = strcspn(p, ":");

		if (n && snprintf(out, len, "%.*s/%s", (int)n, p, type) < (int)len && access(out, X_OK) == 0)
			return 0;
		p += n;
		if (*p == ':')
			p++;
	}
	return -ENOENT;
}

/* environ with CNI_COMMAND replaced by @cmd; the array is ours, the strings are not. */
static char **delegate_env(const char *cmd_assignment)
{
	size_t n = 0, j = 0;
	char **envp;

	while (environ[n])
		n++;
	envp = calloc(n + 2, sizeof(*envp));
	if (!envp)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "CNI_COMMAND=", 12))
			envp[j++] = environ[i];
	envp[j++] = (char *)cmd_assignment;
	envp[j] = NULL;
	return envp;
}

/* Run @path with @config on stdin; *out gets stdout, *status the wait status. */
static int run_delegate(const char *path, char **envp, const char *config, char **out, int *status)
{
	posix_spawn_file_actions_t fa;
	int in[2], outp[2], ret;
	char *argv[] = { (char *)path, NULL };
	pid_t pid;

	if (pipe2(in, O_CLOEXEC))
		return -errno;
	if (pipe2(outp, O_CLOEXEC)) {
		ret = -errno;
		close(in[0]);
		close(in[1]);
		return ret;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, outp[1], STDOUT_FILENO);
	ret = -posix_spawn(&pid, path, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(outp[1]);
	if (ret) {
		close(in[1]);
		close(outp[0]);
		return ret;
	}
	/* The delegate reads all of stdin before answering, so writing first cannot deadlock;
	 * a delegate that exits early gives EPIPE, which SIGPIPE must not turn into our death. */
	signal(SIGPIPE, SIG_IGN);
	fd_write_all(in[1], config, strlen(config));
	close(in[1]);
	ret = fd_read_all(outp[0], MAX_OUTPUT, out);
	close(outp[0]);
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return ret;
}

static int delegate_failed(const char *type, const char *out, int status, struct cni_error *err)
{
	cJSON *json = cJSON_Parse(out);
	struct cni_error inner = { 0 };
	int ret;

	if (json && cni_error_from_json(json, &inner) == 0) {
		ret = cni_fail(err, inner.code, "%s: %s", type, inner.msg);
		snprintf(err->details, sizeof(err->details), "%s", inner.details);
	} else {
		ret = cni_fail(err, CNI_ERR_DELEGATE, "%s: failed (%s %d) without a CNI error: %.200s", type,
			       WIFEXITED(status) ? "exit" : "signal",
			       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), out);
	}
	cJSON_Delete(json);
	return ret;
}

int ipam_exec(const struct cni_env *env, enum cni_command cmd, const char *type, const char *config,
	      struct cni_result *res, struct cni_error *err)
{
	char path[PATH_MAX], assignment[32], *out = NULL, **envp;
	int status = 0, ret;
	cJSON *json;

	if (find_plugin(env->path, type, path, sizeof(path)))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "ipam plugin \"%s\" not found in CNI_PATH=%s", type,
				env->path);
	snprintf(assignment, sizeof(assignment), "CNI_COMMAND=%s", cni_command_name(cmd));
	envp = delegate_env(assignment);
	if (!envp)
		return cni_fail(err, CNI_ERR_IO, "out of memory");
	ret = run_delegate(path, envp, config, &out, &status);
	free(envp);
	if (ret) {
		free(out);
		return cni_fail(err, CNI_ERR_IO, "cannot run %s: %s", path, strerror(-ret));
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		ret = delegate_failed(type, out, status, err);
		free(out);
		return ret;
	}
	if (cmd != CNI_CMD_ADD) {
		free(out);
		return 0;
	}
	json = cJSON_Parse(out);
	free(out);
	if (!json)
		return cni_fail(err, CNI_ERR_DECODE, "%s: ADD printed no JSON result", type);
	ret = cni_result_parse(json, res, err);
	cJSON_Delete(json);
	if (ret) {
		char msg[sizeof(err->msg)];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		return cni_fail(err, CNI_ERR_DECODE, "%s: bad result: %.400s", type, msg);
	}
	return 0;
}
