#include "plugin/masquerade.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

/* The five calls of libnftables(3) we use; its ABI is versioned by the soname. */
struct nft_ctx;
struct nftables_api {
	void *lib;
	struct nft_ctx *(*ctx_new)(uint32_t flags);
	void (*ctx_free)(struct nft_ctx *ctx);
	int (*buffer_error)(struct nft_ctx *ctx);
	const char *(*get_error_buffer)(struct nft_ctx *ctx);
	int (*run_cmd_from_buffer)(struct nft_ctx *ctx, const char *buf);
};

#define LIBNFTABLES "libnftables.so.1"

static int nftables_open(struct nftables_api *api, struct cni_error *err)
{
	memset(api, 0, sizeof(*api));
	api->lib = dlopen(LIBNFTABLES, RTLD_NOW | RTLD_LOCAL);
	if (!api->lib)
		return cni_fail(err, CNI_ERR_UNSUPPORTED_FIELD,
				"ipMasq needs %s (Debian package libnftables1), which cannot be loaded: %s", LIBNFTABLES,
				dlerror());
	*(void **)&api->ctx_new = dlsym(api->lib, "nft_ctx_new");
	*(void **)&api->ctx_free = dlsym(api->lib, "nft_ctx_free");
	*(void **)&api->buffer_error = dlsym(api->lib, "nft_ctx_buffer_error");
	*(void **)&api->get_error_buffer = dlsym(api->lib, "nft_ctx_get_error_buffer");
	*(void **)&api->run_cmd_from_buffer = dlsym(api->lib, "nft_run_cmd_from_buffer");
	if (!api->ctx_new || !api->ctx_free || !api->buffer_error || !api->get_error_buffer ||
	    !api->run_cmd_from_buffer) {
		dlclose(api->lib);
		return cni_fail(err, CNI_ERR_UNSUPPORTED_FIELD, "ipMasq: %s lacks the libnftables(3) API", LIBNFTABLES);
	}
	return 0;
}

/* Run @cmds as one transaction; on failure *why gets nft's message (caller frees). */
static int nftables_run(const char *cmds, char **why)
{
	struct nftables_api api;
	struct cni_error err;
	struct nft_ctx *ctx;
	int ret;

	*why = NULL;
	if (nftables_open(&api, &err)) {
		*why = strdup(err.msg);
		return -ENOSYS;
	}
	ctx = api.ctx_new(0);
	if (!ctx) {
		dlclose(api.lib);
		return -ENOMEM;
	}
	api.buffer_error(ctx);
	ret = api.run_cmd_from_buffer(ctx, cmds) ? -EIO : 0;
	if (ret) {
		const char *msg = api.get_error_buffer(ctx);

		*why = strdup(msg && *msg ? msg : "nft command failed");
		if (*why)
			(*why)[strcspn(*why, "\n")] = '\0';
	}
	api.ctx_free(ctx);
	dlclose(api.lib);
	return ret;
}

struct text {
	char buf[16384];
	size_t len;
	bool overflow;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(t->buf) - t->len)
		t->overflow = true;
	else
		t->len += (size_t)n;
}

static const char *table_family(int family)
{
	return family == AF_INET6 ? "ip6" : "ip";
}

/* One family's table, chain, set and rule, then the elements. */
static void plan_add(struct text *t, const char *network, int family, const struct ip_addr *addrs, unsigned int n,
		     const struct ip_prefix *cluster, unsigned int n_cluster)
{
	const char *tf = table_family(family);
	char a[IP_PREFIX_STRLEN];
	bool first = true;

	text_add(t, "add table %s podwire\n", tf);
	text_add(t, "add chain %s podwire masq-%s { type nat hook postrouting priority srcnat; policy accept; }\n", tf,
		 network);
	text_add(t, "add set %s podwire %s { type %s; }\n", tf, network, family == AF_INET6 ? "ipv6_addr" : "ipv4_addr");
	/* Flush and re-add in the same transaction: the chain holds exactly one rule however
	 * many plugins ran this concurrently. */
	text_add(t, "flush chain %s podwire masq-%s\n", tf, network);
	text_add(t, "add rule %s podwire masq-%s %s saddr @%s", tf, network, tf, network);
	for (unsigned int i = 0; i < n_cluster; i++) {
		if (cluster[i].addr.family != family)
			continue;
		ip_prefix_format(&cluster[i], a, sizeof(a));
		if (first)
			text_add(t, " %s daddr != { %s", tf, a);
		else
			text_add(t, ", %s", a);
		first = false;
	}
	text_add(t, "%s masquerade\n", first ? "" : " }");
	for (unsigned int i = 0; i < n; i++) {
		if (addrs[i].family != family)
			continue;
		ip_addr_format(&addrs[i], a, sizeof(a));
		text_add(t, "add element %s podwire %s { %s }\n", tf, network, a);
	}
}

int masquerade_add(const char *network, const struct ip_addr *addrs, unsigned int n, const struct ip_prefix *cluster,
	     unsigned int n_cluster, struct cni_error *err)
{
	struct text *t = calloc(1, sizeof(*t));
	bool has[2] = { false, false };
	char *why;
	int ret;

	if (!t)
		return cni_fail(err, CNI_ERR_IO, "out of memory");
	for (unsigned int i = 0; i < n; i++)
		has[addrs[i].family == AF_INET6] = true;
	if (has[0])
		plan_add(t, network, AF_INET, addrs, n, cluster, n_cluster);
	if (has[1])
		plan_add(t, network, AF_INET6, addrs, n, cluster, n_cluster);
	if (t->overflow) {
		free(t);
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "ipMasq: too many clusterCIDRs");
	}
	ret = nftables_run(t->buf, &why);
	free(t);
	if (ret) {
		ret = cni_fail(err, ret == -ENOSYS ? CNI_ERR_UNSUPPORTED_FIELD : CNI_ERR_IO,
			       "ipMasq: cannot set up nftables table podwire for %s: %s", network, why ? why : "");
		free(why);
		return ret;
	}
	return 0;
}

int masquerade_del(const char *network, const struct ip_addr *addrs, unsigned int n, struct cni_error *err)
{
	for (unsigned int i = 0; i < n; i++) {
		char cmd[256], a[IP_ADDR_STRLEN], *why;

		/* One transaction per element: a missing one must not block deleting the others. */
		ip_addr_format(&addrs[i], a, sizeof(a));
		snprintf(cmd, sizeof(cmd), "delete element %s podwire %s { %s }\n", table_family(addrs[i].family),
			 network, a);
		if (nftables_run(cmd, &why))
			log_info("%s: masquerade entry %s already gone (%s)", network, a, why ? why : "");
		free(why);
	}
	return 0;
}
