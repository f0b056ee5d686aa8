/* cmd.h — the podwire plugin's CNI verbs, one file each like the reference plugins' cmdAdd,
 * cmdDel, cmdCheck. Each returns 0 (having printed its result, if any) or -code after
 * filling @err; main prints the error. */
#ifndef PODWIRE_PLUGIN_CMD_H
#define PODWIRE_PLUGIN_CMD_H

#include "lib/cni_env.h"
#include "plugin/netconf.h"

int cmd_add(const struct cni_env *env, const struct netconf *c, struct cni_error *err);
int cmd_del(const struct cni_env *env, const struct netconf *c, struct cni_error *err);
int cmd_check(const struct cni_env *env, const struct netconf *c, struct cni_error *err);
int cmd_status(const struct cni_env *env, const struct netconf *c, struct cni_error *err);
int cmd_gc(const struct cni_env *env, const struct netconf *c, struct cni_error *err);
int cmd_version(void);

#endif
