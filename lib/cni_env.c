#include "lib/cni_env.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fdio.h"

#define MAX_CONFIG (1 << 20)

static const char *const command_names[] = { "ADD", "DEL", "CHECK", "STATUS", "GC", "VERSION" };

const char *cni_command_name(enum cni_command c)
{
	return command_names[c];
}

int cni_container_id_valid(const char *id)
{
	if (!id || !isalnum((unsigned char)id[0]))
		return 0;
	for (const char *p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
			return 0;
	return 1;
}

int cni_ifname_valid(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len > 15 || !strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p))
			return 0;
	return 1;
}

static int need(const char *name, const char **out, struct cni_error *err)
{
	const char *v = getenv(name);

	if (!v || !*v)
		return cni_fail(err, CNI_ERR_INVALID_ENV, "required environment variable %s is not set", name);
	*out = v;
	return 0;
}

int cni_env_read(struct cni_env *env, struct cni_error *err)
{
	const char *cmd = getenv("CNI_COMMAND");
	int ret;

	memset(env, 0, sizeof(*env));
	if (!cmd || !*cmd)
		return cni_fail(err, CNI_ERR_INVALID_ENV, "required environment variable CNI_COMMAND is not set");
	for (unsigned int i = 0;; i++) {
		if (i == sizeof(command_names) / sizeof(command_names[0]))
			return cni_fail(err, CNI_ERR_INVALID_ENV,
					"CNI_COMMAND=%s: unknown command (want ADD, DEL, CHECK, STATUS, GC or VERSION)", cmd);
		if (!strcmp(cmd, command_names[i])) {
			env->command = (enum cni_command)i;
			break;
		}
	}
	env->args = getenv("CNI_ARGS");
	env->netns = getenv("CNI_NETNS");
	if (env->netns && !*env->netns)
		env->netns = NULL;
	switch (env->command) {
	case CNI_CMD_VERSION:
		return 0;
	case CNI_CMD_STATUS:
	case CNI_CMD_GC:
		return need("CNI_PATH", &env->path, err);
	case CNI_CMD_ADD:
	case CNI_CMD_CHECK:
		if ((ret = need("CNI_NETNS", &env->netns, err)))
			return ret;
		/* fall through */
	case CNI_CMD_DEL:
		if ((ret = need("CNI_CONTAINERID", &env->container_id, err)) ||
		    (ret = need("CNI_IFNAME", &env->ifname, err)) ||
		    (ret = need("CNI_PATH", &env->path, err)))
			return ret;
		if (!cni_container_id_valid(env->container_id))
			return cni_fail(err, CNI_ERR_INVALID_ENV,
					"CNI_CONTAINERID=%s: must start with a letter or digit and contain only letters, digits, '_', '.', '-'",
					env->container_id);
		if (!cni_ifname_valid(env->ifname))
			return cni_fail(err, CNI_ERR_INVALID_ENV,
					"CNI_IFNAME=%s: not a valid interface name (1-15 bytes, no '/', ':' or spaces)",
					env->ifname);
		return 0;
	}
	return 0;
}

char *cni_config_read(void)
{
	char *buf;

	return fd_read_all(STDIN_FILENO, MAX_CONFIG, &buf) ? NULL : buf;
}
