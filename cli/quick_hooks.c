/* quick_hooks.c — wg-quick's execute_hooks: each PreUp/PostUp/PreDown/PostDown line runs in
 * bash with %i replaced by the interface name, in file order. wg-quick evaluates them in a
 * subshell of a `set -e -o pipefail` script with extglob on; the same options are given to
 * bash here so a hook fails exactly when it fails there. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/quick.h"

/* Replace every %i of @hook with @ifname. */
static char *hook_expand(const char *hook, const char *ifname)
{
	size_t n = 0, len;
	const char *p;
	char *out, *o;

	for (p = hook; (p = strstr(p, "%i")); p += 2)
		n++;
	len = strlen(hook) + n * strlen(ifname) + 1;
	out = malloc(len);
	if (!out)
		return NULL;
	for (o = out, p = hook; *p;) {
		if (p[0] == '%' && p[1] == 'i') {
			o = stpcpy(o, ifname);
			p += 2;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

int quick_run_hooks(struct quick *q, const char *phase, const struct config_strings *hooks,
		    char *err, size_t err_len)
{
	for (size_t i = 0; i < hooks->n; i++) {
		char *cmd = hook_expand(hooks->v[i], q->ifname);
		char *argv[] = { "bash", "-e", "-o", "pipefail", "-O", "extglob", "-c", cmd, NULL };
		int status, ret;

		if (!cmd)
			return -ENOMEM;
		fprintf(stderr, "[#] %s\n", cmd);
		ret = quick_exec(argv, NULL, NULL, &status);
		if (!ret && status) {
			snprintf(err, err_len, "%s hook `%s' failed with exit status %d", phase, cmd, status);
			ret = -ECANCELED;
		} else if (ret) {
			snprintf(err, err_len, "%s hook `%s': cannot run bash: %s", phase, cmd, strerror(-ret));
		}
		free(cmd);
		if (ret)
			return ret;
	}
	return 0;
}
