/* podwire — CNI plugin (spec 1.1.0, answering 0.3.0–1.1.0): wires a pod onto the node's
 * WireGuard mesh. stdout carries only the result or the error; logs go to a file. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cni_version.h"
#include "lib/log.h"
#include "plugin/log_file.h"
#include "plugin/cmd.h"

static int dispatch(const struct cni_env *env, const struct netconf *c, struct cni_error *err)
{
	switch (env->command) {
	case CNI_CMD_ADD: return cmd_add(env, c, err);
	case CNI_CMD_DEL: return cmd_del(env, c, err);
	case CNI_CMD_CHECK: return cmd_check(env, c, err);
	case CNI_CMD_STATUS: return cmd_status(env, c, err);
	case CNI_CMD_GC: return cmd_gc(env, c, err);
	case CNI_CMD_VERSION: return cmd_version();
	}
	return 0;
}

int main(int argc, char *argv[])
{
	const char *command = getenv("CNI_COMMAND");
	struct cni_error err = { 0 };
	struct netconf c;
	struct cni_env env = { 0 };
	char log_path[PATH_MAX], *text = NULL;
	FILE *log = NULL;
	int ret;

	log_init(argv[0], LOG_LEVEL_INFO);
	if (cni_about("podwire", argc, argv))
		return 0;
	memset(&c, 0, sizeof(c));
	c.version = CNI_VERSION_LATEST;
	if (command && !strcmp(command, "VERSION"))
		return cmd_version();
	text = cni_config_read();
	if (text) {
		/* The log file is named in the config, so open it before judging the environment:
		 * even "CNI_NETNS is not set" belongs in the log the operator reads. The IPAM
		 * plugin inherits stderr, so its messages land there too. */
		char why[PATH_MAX + 128];
		bool named = netconf_log_file(text, log_path, sizeof(log_path));

		/* The default (no logFile, or a config that is not JSON) is ours, under /var/log. */
		ret = log_file_open(log_path, named ? log_file_root() : LOG_FILE_ROOT, &log, why, sizeof(why));
		if (ret == -EPERM && named && command && !strcmp(command, "ADD")) {
			/* A path the config may not name: ADD is refused before anything is done. */
			ret = cni_fail(&err, CNI_ERR_INVALID_CONFIG, "network config: logFile \"%.256s\": %s", log_path, why);
			goto out;
		}
		/* Every other verb goes on (a DEL that failed here would leak the pod's address
		 * and veth), with its logs on stderr. */
		if (ret == -EPERM && named)
			log_warn("network config: logFile \"%.256s\" not used: %s", log_path, why);
		ret = 0;
		/* Cannot write it (read-only /var/log, ...): logs stay on stderr, which the spec
		 * allows for unstructured output. */
		if (log) {
			setvbuf(log, NULL, _IOLBF, 0);
			log_set_file(log);
			dup2(fileno(log), STDERR_FILENO);
		}
	}
	if ((ret = cni_env_read(&env, &err)))
		goto out;
	if (!text) {
		ret = cni_fail(&err, CNI_ERR_IO, "cannot read network config from stdin (empty or over 1 MiB)");
		goto out;
	}
	if (!(ret = netconf_parse(text, &c, &err)))
		ret = dispatch(&env, &c, &err);
out:
	if (ret) {
		cni_error_print(stdout, &err, cni_version_str(c.version));
		log_err("%s %s/%s: code %d: %s", command ? command : "-", env.container_id ? env.container_id : "-",
			env.ifname ? env.ifname : "-", err.code, err.msg);
	}
	netconf_free(&c);
	free(text);
	if (log) {
		log_set_file(NULL);
		fclose(log);
	}
	return ret ? 1 : 0;
}
