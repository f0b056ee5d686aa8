/* podwire-ipam — CNI IPAM plugin with host-local semantics (ranges, reservations on disk
 * under flock, one address per range set) plus the GC and STATUS verbs of CNI 1.1.0.
 * main only reads the environment and stdin, calls the verb, and prints the answer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipam/ipam.h"
#include "lib/cni_env.h"
#include "lib/cni_version.h"
#include "lib/log.h"

static int run(const struct cni_env *env, const struct ipam_config *c, struct cni_error *err)
{
	struct cni_result res;
	int ret;

	switch (env->command) {
	case CNI_CMD_ADD:
		ret = ipam_add(c, env, &res, err);
		if (!ret && cni_result_print(&res, c->version))
			ret = cni_fail(err, CNI_ERR_IO, "cannot write result to stdout");
		cni_result_free(&res);
		return ret;
	case CNI_CMD_DEL:
		return ipam_del(c, env, err);
	case CNI_CMD_CHECK:
		if (!cni_version_has_check(c->version))
			return cni_fail(err, CNI_ERR_INCOMPATIBLE_VERSION, "CHECK needs cniVersion 0.4.0 or later, config has %s",
					cni_version_str(c->version));
		return ipam_check(c, env, err);
	case CNI_CMD_GC:
	case CNI_CMD_STATUS:
		if (!cni_version_has_status_gc(c->version))
			return cni_fail(err, CNI_ERR_INCOMPATIBLE_VERSION, "%s needs cniVersion 1.1.0, config has %s",
					cni_command_name(env->command), cni_version_str(c->version));
		return env->command == CNI_CMD_GC ? ipam_gc(c, err) : ipam_status(c, err);
	case CNI_CMD_VERSION:
		break;
	}
	return 0;
}

int main(int argc, char *argv[])
{
	struct cni_error err = { 0 };
	struct ipam_config c;
	struct cni_env env;
	char *text = NULL;
	int ret;

	log_init(argv[0], LOG_LEVEL_INFO);
	if (cni_about("podwire-ipam", argc, argv))
		return 0;
	memset(&c, 0, sizeof(c));
	c.version = CNI_VERSION_LATEST;
	if ((ret = cni_env_read(&env, &err)))
		goto out;
	if (env.command == CNI_CMD_VERSION)
		return cni_version_print() ? 1 : 0;
	text = cni_config_read();
	if (!text) {
		ret = cni_fail(&err, CNI_ERR_IO, "cannot read network config from stdin (empty or over 1 MiB)");
		goto out;
	}
	if (!(ret = ipam_config_parse(text, &c, &err)))
		ret = run(&env, &c, &err);
out:
	if (ret) {
		cni_error_print(stdout, &err, cni_version_str(c.version));
		log_err("%s", err.msg);
	}
	ipam_config_free(&c);
	free(text);
	return ret ? 1 : 0;
}
