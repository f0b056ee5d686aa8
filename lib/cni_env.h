/* cni_env.h — the CNI_* environment a runtime passes to a plugin (CNI SPEC "Parameters"). */
#ifndef PODWIRE_CNI_ENV_H
#define PODWIRE_CNI_ENV_H

#include "lib/cni_error.h"

enum cni_command { CNI_CMD_ADD, CNI_CMD_DEL, CNI_CMD_CHECK, CNI_CMD_STATUS, CNI_CMD_GC, CNI_CMD_VERSION };

struct cni_env {
	enum cni_command command;
	const char *container_id;	/* CNI_CONTAINERID */
	const char *netns;		/* CNI_NETNS (may be NULL for DEL) */
	const char *ifname;		/* CNI_IFNAME */
	const char *args;		/* CNI_ARGS (may be NULL) */
	const char *path;		/* CNI_PATH */
};

/* Read and validate the variables @command needs; code 4 names the variable and why. */
int cni_env_read(struct cni_env *env, struct cni_error *err);
const char *cni_command_name(enum cni_command c);
/* The network configuration a runtime writes to stdin (NUL-terminated, caller frees);
 * NULL when unreadable or over 1 MiB, which no sane config reaches. */
char *cni_config_read(void);
/* SPEC: container ID starts alphanumeric, then alphanumerics, '_', '.', '-'. */
int cni_container_id_valid(const char *id);
/* SPEC: interface name 1-15 bytes, not "." or "..", no '/', ':' or whitespace. */
int cni_ifname_valid(const char *name);

#endif
