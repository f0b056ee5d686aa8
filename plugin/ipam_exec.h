/* ipam_exec.h — delegating to the IPAM plugin as the CNI spec says: find ipam.type in
 * CNI_PATH, run it with the same CNI_* environment (CNI_COMMAND set to the verb) and the
 * same network config on stdin, and read its result or error from stdout. */
#ifndef PODWIRE_PLUGIN_IPAM_EXEC_H
#define PODWIRE_PLUGIN_IPAM_EXEC_H

#include "lib/cni_env.h"
#include "lib/cni_result.h"

/* Run @type for @cmd. For ADD @res receives the parsed result; errors from the delegate keep
 * its code, and its msg is prefixed with the plugin name. */
int ipam_exec(const struct cni_env *env, enum cni_command cmd, const char *type, const char *config,
	      struct cni_result *res, struct cni_error *err);

#endif
