/* quick_route.c — wg-quick's add_route, add_default, set_mtu_up and the rule half of del_if.
 *
 * Full tunnel (an allowed IP of length 0 with Table=auto) is wg-quick's policy routing: the
 * tunnel's own UDP packets carry fwmark T (the FwMark, else the first free table from 51820),
 * everything else without that mark looks up table T whose default route is the tunnel, and
 * "lookup main suppress_prefixlength 0" lets more specific routes of main win first
 * (https://www.wireguard.com/netns/#improved-rule-based-routing). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/quick.h"
#include "datapath/device.h"
#include "lib/log.h"

struct route_item {
	struct ip_prefix prefix;
	char text[IP_PREFIX_STRLEN];
};

/* `sort -nr -k 2 -t /` under LC_ALL=C: prefix length descending, then the whole line
 * compared bytewise, also reversed (sort's last-resort comparison follows -r). */
static int route_item_cmp(const void *a, const void *b)
{
	const struct route_item *x = a, *y = b;

	if (x->prefix.cidr != y->prefix.cidr)
		return x->prefix.cidr < y->prefix.cidr ? 1 : -1;
	return strcmp(y->text, x->text);
}

static int collect_allowed_ips(const struct wgdevice *dev, struct route_item **out, size_t *n)
{
	struct wgpeer *peer;
	struct wgallowedip *aip;
	struct route_item *v = NULL, *grown;
	size_t count = 0;

	for_each_wgpeer(dev, peer) {
		for_each_wgallowedip(peer, aip) {
			grown = realloc(v, (count + 1) * sizeof(*v));
			if (!grown) {
				free(v);
				return -ENOMEM;
			}
			v = grown;
			v[count].prefix = aip->prefix;
			ip_prefix_mask(&v[count].prefix);
			ip_prefix_format(&v[count].prefix, v[count].text, sizeof(v[count].text));
			count++;
		}
	}
	if (count)
		qsort(v, count, sizeof(*v), route_item_cmp);
	*out = v;
	*n = count;
	return 0;
}

static const char *family_flag(int family)
{
	return family == AF_INET6 ? "-6" : "-4";
}

/* Like wg-quick, write only when the value differs: in a container /proc/sys is read-only
 * and the runtime sets the value (compose `sysctls:`) before we start. */
static int write_sysctl(const char *path, const char *value)
{
	ssize_t len = (ssize_t)strlen(value);
	char now[16] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret = 0;

	if (fd >= 0) {
		ssize_t r = read(fd, now, sizeof(now) - 1);

		close(fd);
		if (r > 0 && !strncmp(now, value, (size_t)len) && (now[len] == '\n' || now[len] == '\0'))
			return 0;
	}
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, value, (size_t)len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

/* The table (= fwmark) of a full tunnel: the interface's FwMark when it has one, else the
 * first table from 51820 on that has no IPv4 or IPv6 route, which then becomes the FwMark. */
static int choose_table(struct quick *q)
{
	struct wgdevice *dev = NULL, set = { 0 };
	uint32_t table = QUICK_DEFAULT_TABLE;
	bool used4, used6;
	int ret;

	ret = device_get(&dev, q->ifname);
	if (ret)
		return ret;
	if (dev->fwmark) {
		q->table = dev->fwmark;
		wgdevice_free(dev);
		return 0;
	}
	wgdevice_free(dev);
	for (;;) {
		ret = quick_table_in_use(AF_INET, table, &used4);
		if (!ret)
			ret = quick_table_in_use(AF_INET6, table, &used6);
		if (ret)
			return ret;
		if (!used4 && !used6)
			break;
		table++;
	}
	quick_log_cmd("wg set %s fwmark %u", q->ifname, table);
	snprintf(set.name, sizeof(set.name), "%s", q->ifname);
	set.flags = WGDEVICE_HAS_FWMARK;
	set.fwmark = table;
	ret = device_set(&set, NULL, 0);
	if (ret)
		return ret;
	q->table = table;
	return 0;
}

static int add_default(struct quick *q, const struct route_item *item)
{
	int family = item->prefix.addr.family;
	int ret;

	if (!q->table) {
		ret = choose_table(q);
		if (ret)
			return ret;
	}
	quick_log_cmd("ip %s route add %s dev %s table %u", family_flag(family), item->text, q->ifname, q->table);
	ret = quick_route_add(q->ifindex, &item->prefix, q->table);
	if (ret)
		return ret;
	q->rules_set = true;
	q->full_tunnel[family == AF_INET6] = true;
	quick_log_cmd("ip %s rule add not fwmark %u table %u", family_flag(family), q->table, q->table);
	ret = quick_rule_add_fwmark(family, q->table, q->table);
	if (ret)
		return ret;
	quick_log_cmd("ip %s rule add table main suppress_prefixlength 0", family_flag(family));
	ret = quick_rule_add_suppress(family);
	if (ret)
		return ret;
	/* Replies to the tunnel's own packets must pass rp_filter with their mark
	 * (wg-quick sets this for IPv4 only, and never resets it). */
	if (family == AF_INET) {
		quick_log_cmd("sysctl -q net.ipv4.conf.all.src_valid_mark=1");
		ret = write_sysctl("/proc/sys/net/ipv4/conf/all/src_valid_mark", "1");
		if (ret)
			return ret;
	}
	q->firewall_set = true;
	return quick_firewall_add(q, family, q->table);
}

static int add_route(struct quick *q, const struct route_item *item)
{
	const struct config_interface *ifc = &q->conf->iface;
	bool found;
	int ret;

	if (ifc->table == CONFIG_TABLE_OFF)
		return 0;
	if (ifc->table == CONFIG_TABLE_ID) {
		quick_log_cmd("ip %s route add %s dev %s table %s", family_flag(item->prefix.addr.family), item->text,
			      q->ifname, ifc->table_text ? ifc->table_text : "?");
		return quick_route_add(q->ifindex, &item->prefix, ifc->table_id);
	}
	if (!item->prefix.cidr)
		return add_default(q, item);
	ret = quick_route_match(q->ifindex, &item->prefix, &found);
	if (ret || found)
		return ret;
	quick_log_cmd("ip %s route add %s dev %s", family_flag(item->prefix.addr.family), item->text, q->ifname);
	return quick_route_add(q->ifindex, &item->prefix, 0);
}

int quick_add_routes(struct quick *q)
{
	struct wgdevice *dev = NULL;
	struct route_item *items = NULL;
	size_t n = 0;
	int ret;

	ret = device_get(&dev, q->ifname);
	if (ret)
		return ret;
	ret = collect_allowed_ips(dev, &items, &n);
	wgdevice_free(dev);
	for (size_t i = 0; !ret && i < n; i++) {
		ret = add_route(q, &items[i]);
		if (ret)
			log_err("%s: cannot add route %s: %s", q->ifname, items[i].text, strerror(-ret));
	}
	free(items);
	return ret;
}

/* Which families have a /0 allowed IP; true if any does. */
static bool default_allowed_ips(const struct wgdevice *dev, bool full[2])
{
	struct wgpeer *peer;
	struct wgallowedip *aip;

	for_each_wgpeer(dev, peer)
		for_each_wgallowedip(peer, aip)
			if (!aip->prefix.cidr)
				full[aip->prefix.addr.family == AF_INET6] = true;
	return full[0] || full[1];
}

int quick_del_rules(struct quick *q)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct wgdevice *dev = NULL;
	uint32_t table = q->table;
	bool full[2] = { q->full_tunnel[0], q->full_tunnel[1] };
	unsigned int n;
	int ret;

	if (q->conf->iface.table != CONFIG_TABLE_AUTO)
		return 0;
	/* After a failed `up` the flags say what was added; on `down` the interface does. */
	if (!q->rules_set && !device_get(&dev, q->ifname)) {
		if (dev->fwmark && default_allowed_ips(dev, full))
			table = dev->fwmark;
		wgdevice_free(dev);
	}
	if (!table)
		return 0;
	for (size_t i = 0; i < 2; i++) {
		ret = quick_rule_delete_table(families[i], table, &n);
		while (!ret && n--)
			quick_log_cmd("ip %s rule delete table %u", family_flag(families[i]), table);
		if (ret)
			return ret;
		if (!full[i])
			continue;
		ret = quick_rule_delete_suppress(families[i], &n);
		while (!ret && n--)
			quick_log_cmd("ip %s rule delete table main suppress_prefixlength 0", family_flag(families[i]));
		if (ret)
			return ret;
	}
	return 0;
}

static bool endpoint_address(const wg_endpoint *ep, struct ip_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (ep->addr.sa_family == AF_INET) {
		a->family = AF_INET;
		a->v4 = ep->addr4.sin_addr;
		return true;
	}
	/* wg-quick's pattern ^\[?([a-z0-9:.]+)\]?:[0-9]+$ skips scoped (fe80::1%eth0) endpoints. */
	if (ep->addr.sa_family == AF_INET6 && !ep->addr6.sin6_scope_id) {
		a->family = AF_INET6;
		a->v6 = ep->addr6.sin6_addr;
		return true;
	}
	return false;
}

int quick_set_mtu_up(struct quick *q)
{
	struct wgdevice *dev = NULL;
	struct wgpeer *peer;
	struct ip_addr a;
	uint32_t mtu = 0, m;
	int ret;

	if (q->conf->iface.mtu) {
		quick_log_cmd("ip link set mtu %u up dev %s", q->conf->iface.mtu, q->ifname);
		return quick_link_set_mtu_up(q->ifindex, q->conf->iface.mtu);
	}
	ret = device_get(&dev, q->ifname);
	if (ret)
		return ret;
	/* The largest MTU towards any endpoint, as set_mtu_up computes it. */
	for_each_wgpeer(dev, peer) {
		if (!endpoint_address(&peer->endpoint, &a))
			continue;
		ret = quick_route_get_mtu(&a, &m);
		if (ret)
			break;
		if (m > mtu)
			mtu = m;
	}
	wgdevice_free(dev);
	if (ret)
		return ret;
	if (!mtu) {
		ret = quick_default_route_mtu(&mtu);
		if (ret)
			return ret;
	}
	if (!mtu)
		mtu = QUICK_FALLBACK_MTU;
	quick_log_cmd("ip link set mtu %u up dev %s", mtu - QUICK_MTU_OVERHEAD, q->ifname);
	return quick_link_set_mtu_up(q->ifindex, mtu - QUICK_MTU_OVERHEAD);
}
