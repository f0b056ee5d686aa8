#include "ipam/ipam.h"

#include <errno.h>
#include <string.h>

#include "ipam/allocator.h"
#include "ipam/disk.h"
#include "lib/log.h"

struct owned {
	const char *id, *ifname;
	struct ip_addr addrs[IPAM_MAX_SETS * 2];
	unsigned int n;
};

static int collect_owned(const struct ip_addr *a, const char *id, const char *ifname, void *ctx)
{
	struct owned *o = ctx;

	if (strcmp(id, o->id) || strcmp(ifname, o->ifname) || o->n == sizeof(o->addrs) / sizeof(o->addrs[0]))
		return 0;
	o->addrs[o->n++] = *a;
	return 0;
}

static bool is_reserved(const struct ip_addr *a, void *ctx)
{
	return ipam_disk_is_reserved(ctx, a);
}

static int open_locked(const struct ipam_config *c, struct ipam_disk *d, struct cni_error *err)
{
	int ret = ipam_disk_open(d, c->data_dir, c->name);

	if (ret)
		return cni_fail(err, CNI_ERR_IO, "ipam: cannot open %s/%s: %s", c->data_dir, c->name, strerror(-ret));
	ret = ipam_disk_lock(d, c->lock_timeout);
	if (ret)
		ipam_disk_close(d);
	if (ret == -ETIMEDOUT)
		return cni_fail(err, CNI_ERR_TRY_AGAIN,
				"ipam: %s/%s/lock held by another plugin for %u s; try again later", c->data_dir,
				c->name, c->lock_timeout);
	if (ret)
		return cni_fail(err, CNI_ERR_IO, "ipam: cannot lock %s/%s/lock: %s", c->data_dir, c->name,
				strerror(-ret));
	return 0;
}

static void close_locked(struct ipam_disk *d)
{
	ipam_disk_unlock(d);
	ipam_disk_close(d);
}

/* The address of @o inside set @s, if any. */
static const struct ip_addr *owned_in_set(const struct owned *o, const struct ipam_range_set *s)
{
	for (unsigned int i = 0; i < o->n; i++)
		if (ipam_range_set_find(s, &o->addrs[i]) >= 0)
			return &o->addrs[i];
	return NULL;
}

static int allocate_one(const struct ipam_config *c, unsigned int si, struct ipam_disk *d, const struct cni_env *env,
			struct ip_addr *out, unsigned int *ri, struct cni_error *err)
{
	const struct ipam_range_set *set = &c->sets[si];
	struct ip_addr last;
	char subnet[IP_PREFIX_STRLEN];
	int ret;

	ret = ipam_allocate(set, ipam_disk_last_reserved(d, si, &last) ? NULL : &last, is_reserved, d, out, ri);
	if (ret) {
		ip_prefix_format(&set->ranges[0].subnet, subnet, sizeof(subnet));
		return cni_fail(err, CNI_ERR_RANGE_EXHAUSTED,
				"ipam: no free address left in range set %u (%s%s) of network %s", si, subnet,
				set->n > 1 ? ", …" : "", c->name);
	}
	ret = ipam_disk_reserve(d, out, env->container_id, env->ifname);
	if (ret)
		return cni_fail(err, CNI_ERR_IO, "ipam: cannot record reservation in %s/%s: %s", c->data_dir,
				c->name, strerror(-ret));
	ret = ipam_disk_set_last_reserved(d, si, out);
	if (ret)
		log_warn("%s: cannot update last_reserved_ip.%u: %s", c->name, si, strerror(-ret));
	return 0;
}

int ipam_add(const struct ipam_config *c, const struct cni_env *env, struct cni_result *res, struct cni_error *err)
{
	struct owned o = { .id = env->container_id, .ifname = env->ifname };
	struct ip_addr fresh[IPAM_MAX_SETS];
	unsigned int n_fresh = 0;
	struct ipam_disk d;
	int ret;

	cni_result_init(res);
	if ((ret = open_locked(c, &d, err)))
		return ret;
	ipam_disk_foreach(&d, collect_owned, &o);
	for (unsigned int si = 0; si < c->n_sets; si++) {
		const struct ip_addr *have = owned_in_set(&o, &c->sets[si]);
		struct cni_ip *ip = &res->ips[res->n_ips++];
		unsigned int ri = 0;

		memset(ip, 0, sizeof(*ip));
		ip->iface = -1;
		if (have) {
			ip->address.addr = *have;
			ri = (unsigned int)ipam_range_set_find(&c->sets[si], have);
		} else {
			ret = allocate_one(c, si, &d, env, &ip->address.addr, &ri, err);
			if (ret)
				goto undo;
			fresh[n_fresh++] = ip->address.addr;
		}
		ip->address.cidr = c->sets[si].ranges[ri].subnet.cidr;
		ip->gateway = c->sets[si].ranges[ri].gateway;
		ip->has_gateway = c->sets[si].ranges[ri].has_gateway;
	}
	memcpy(res->routes, c->routes, sizeof(c->routes[0]) * c->n_routes);
	res->n_routes = c->n_routes;
	close_locked(&d);
	return 0;
undo:
	/* Nothing half-done: a dual-stack ADD that fails on v6 gives its v4 address back. */
	while (n_fresh)
		ipam_disk_release(&d, &fresh[--n_fresh]);
	close_locked(&d);
	res->n_ips = 0;
	return ret;
}

int ipam_del(const struct ipam_config *c, const struct cni_env *env, struct cni_error *err)
{
	struct owned o = { .id = env->container_id, .ifname = env->ifname };
	struct ipam_disk d;
	int ret;

	if ((ret = open_locked(c, &d, err)))
		return ret;
	ipam_disk_foreach(&d, collect_owned, &o);
	for (unsigned int i = 0; i < o.n; i++) {
		ret = ipam_disk_release(&d, &o.addrs[i]);
		if (ret && ret != -ENOENT) {
			char a[IP_ADDR_STRLEN];

			ip_addr_format(&o.addrs[i], a, sizeof(a));
			close_locked(&d);
			return cni_fail(err, CNI_ERR_IO, "ipam: cannot release %s in %s/%s: %s", a, c->data_dir,
					c->name, strerror(-ret));
		}
	}
	close_locked(&d);
	return 0;
}

int ipam_check(const struct ipam_config *c, const struct cni_env *env, struct cni_error *err)
{
	struct owned o = { .id = env->container_id, .ifname = env->ifname };
	struct ipam_disk d;
	int ret;

	if ((ret = open_locked(c, &d, err)))
		return ret;
	ipam_disk_foreach(&d, collect_owned, &o);
	close_locked(&d);
	for (unsigned int si = 0; si < c->n_sets; si++)
		if (!owned_in_set(&o, &c->sets[si]))
			/* Not 3 (unknown container): that would tell the runtime it need not DEL. */
			return cni_fail(err, CNI_ERR_CHECK_FAILED,
					"ipam: %s/%s holds no address in range set %u of network %s",
					env->container_id, env->ifname, si, c->name);
	return 0;
}

struct gc_ctx {
	const struct ipam_config *c;
	struct ipam_disk *d;
	unsigned int released;
};

static int gc_visit(const struct ip_addr *a, const char *id, const char *ifname, void *ctx)
{
	struct gc_ctx *g = ctx;
	char buf[IP_ADDR_STRLEN];

	for (unsigned int i = 0; i < g->c->n_valid; i++)
		if (!strcmp(g->c->valid[i].container_id, id) && !strcmp(g->c->valid[i].ifname, ifname))
			return 0;
	ip_addr_format(a, buf, sizeof(buf));
	if (ipam_disk_release(g->d, a) == 0) {
		g->released++;
		log_info("%s: gc released %s of %s/%s", g->c->name, buf, id, ifname);
	}
	return 0;
}

int ipam_gc(const struct ipam_config *c, struct cni_error *err)
{
	struct ipam_disk d;
	struct gc_ctx g = { .c = c, .d = &d };
	int ret;

	/* Without the list every reservation would look stale: refuse rather than empty the pool. */
	if (!c->valid)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG,
				"GC needs \"cni.dev/valid-attachments\" (the attachments to keep) in the config");
	if ((ret = open_locked(c, &d, err)))
		return ret;
	ret = ipam_disk_foreach(&d, gc_visit, &g);
	close_locked(&d);
	if (ret)
		return cni_fail(err, CNI_ERR_IO, "ipam: cannot list %s/%s: %s", c->data_dir, c->name, strerror(-ret));
	return 0;
}

int ipam_status(const struct ipam_config *c, struct cni_error *err)
{
	struct ipam_disk d;
	struct ip_addr a;
	unsigned int ri;
	int ret;

	if ((ret = open_locked(c, &d, err))) {
		char why[sizeof(err->msg)];

		snprintf(why, sizeof(why), "%s", err->msg); /* cni_fail writes err->msg */
		return cni_fail(err, CNI_ERR_NOT_AVAILABLE, "%s", why);
	}
	for (unsigned int si = 0; si < c->n_sets; si++) {
		if (ipam_allocate(&c->sets[si], NULL, is_reserved, &d, &a, &ri)) {
			close_locked(&d);
			return cni_fail(err, CNI_ERR_NOT_AVAILABLE,
					"ipam: range set %u of network %s has no free address", si, c->name);
		}
	}
	close_locked(&d);
	return 0;
}
