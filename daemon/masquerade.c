#include "daemon/masquerade.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The five calls of libnftables(3) used here; its ABI is versioned by the soname. */
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

static int nftables_open(struct nftables_api *api, char *why, size_t why_len)
{
	memset(api, 0, sizeof(*api));
	api->lib = dlopen(LIBNFTABLES, RTLD_NOW | RTLD_LOCAL);
	if (!api->lib) {
		snprintf(why, why_len, "%s (Debian package libnftables1) cannot be loaded: %s", LIBNFTABLES, dlerror());
		return -ENOSYS;
	}
	*(void **)&api->ctx_new = dlsym(api->lib, "nft_ctx_new");
	*(void **)&api->ctx_free = dlsym(api->lib, "nft_ctx_free");
	*(void **)&api->buffer_error = dlsym(api->lib, "nft_ctx_buffer_error");
	*(void **)&api->get_error_buffer = dlsym(api->lib, "nft_ctx_get_error_buffer");
	*(void **)&api->run_cmd_from_buffer = dlsym(api->lib, "nft_run_cmd_from_buffer");
	if (!api->ctx_new || !api->ctx_free || !api->buffer_error || !api->get_error_buffer ||
	    !api->run_cmd_from_buffer) {
		dlclose(api->lib);
		snprintf(why, why_len, "%s lacks the libnftables(3) API", LIBNFTABLES);
		return -ENOSYS;
	}
	return 0;
}

/* Run @cmds as one transaction (libnftables applies a buffer atomically). */
static int nftables_run(const char *cmds, char *why, size_t why_len)
{
	struct nftables_api api;
	struct nft_ctx *ctx;
	int ret;

	if ((ret = nftables_open(&api, why, why_len)))
		return ret;
	ctx = api.ctx_new(0);
	if (!ctx) {
		dlclose(api.lib);
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	api.buffer_error(ctx);
	ret = api.run_cmd_from_buffer(ctx, cmds) ? -EIO : 0;
	if (ret) {
		const char *msg = api.get_error_buffer(ctx);

		snprintf(why, why_len, "%s", msg && *msg ? msg : "nft command failed");
		why[strcspn(why, "\n")] = '\0';
	}
	api.ctx_free(ctx);
	dlclose(api.lib);
	return ret;
}

struct text {
	char *buf;
	size_t len, size;
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
	n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= t->size - t->len)
		t->overflow = true;
	else
		t->len += (size_t)n;
}

/* One rule per pod CIDR: "ip saddr POD ip daddr != { POD, CLUSTER..., multicast } masquerade".
 * An anonymous nftables set refuses overlapping intervals: a range inside another listed
 * one (the pod CIDR inside its pool) is left out. */
static void plan_rule(struct text *t, const struct ip_prefix *pod, const struct ip_prefix *cluster, size_t n_cluster)
{
	const char *fam = pod->addr.family == AF_INET6 ? "ip6" : "ip";
	char a[IP_PREFIX_STRLEN];
	bool first = true;

	ip_prefix_format(pod, a, sizeof(a));
	text_add(t, "add rule inet " MASQUERADE_TABLE " postrouting %s saddr %s %s daddr != {", fam, a, fam);
	/* Index n_cluster stands for the pod CIDR itself. */
	for (size_t i = 0; i <= n_cluster; i++) {
		const struct ip_prefix *p = i < n_cluster ? &cluster[i] : pod;
		bool covered = false;

		if (p->addr.family != pod->addr.family)
			continue;
		for (size_t j = 0; j <= n_cluster && !covered; j++) {
			const struct ip_prefix *q = j < n_cluster ? &cluster[j] : pod;

			covered = j != i && ip_prefix_covers(q, p) && (!ip_prefix_covers(p, q) || j < i);
		}
		if (covered)
			continue;
		ip_prefix_format(p, a, sizeof(a));
		text_add(t, "%s %s", first ? "" : ",", a);
		first = false;
	}
	/* Multicast and (IPv6) link-local never leave the link: nothing to translate. */
	text_add(t, ", %s } masquerade fully-random\n", pod->addr.family == AF_INET6 ? "ff00::/8, fe80::/10" : "224.0.0.0/4");
}

int masquerade_plan(const struct ip_prefix *pod, size_t n_pod, const struct ip_prefix *cluster, size_t n_cluster,
		    char *buf, size_t len)
{
	struct text t = { .buf = buf, .size = len };

	/* "add" then "delete" then "add": the table is replaced whether it existed or not, and
	 * the whole buffer is one transaction. */
	text_add(&t, "add table inet " MASQUERADE_TABLE "\n");
	text_add(&t, "delete table inet " MASQUERADE_TABLE "\n");
	text_add(&t, "add table inet " MASQUERADE_TABLE "\n");
	/* fully-random: the source port is drawn at random, not tried in order, as flannel does
	 * (--random-fully), so concurrent connections do not race for the same port. */
	text_add(&t, "add chain inet " MASQUERADE_TABLE
		     " postrouting { type nat hook postrouting priority srcnat; policy accept; }\n");
	for (size_t i = 0; i < n_pod; i++)
		plan_rule(&t, &pod[i], cluster, n_cluster);
	return t.overflow || !len ? -ENOSPC : 0;
}

int masquerade_apply(const struct ip_prefix *pod, size_t n_pod, const struct ip_prefix *cluster, size_t n_cluster,
		     char *why, size_t why_len)
{
	char cmds[8192];

	if (masquerade_plan(pod, n_pod, cluster, n_cluster, cmds, sizeof(cmds))) {
		snprintf(why, why_len, "too many cluster ranges for one table");
		return -ENOSPC;
	}
	return nftables_run(cmds, why, why_len);
}

int masquerade_remove(char *why, size_t why_len)
{
	/* "add" first: deleting a table that is not there is an error, adding one is not. */
	return nftables_run("add table inet " MASQUERADE_TABLE "\ndelete table inet " MASQUERADE_TABLE "\n", why,
			    why_len);
}
