/* updown.c — podwirectl up / down / save: wg-quick's cmd_up, cmd_down and cmd_save.
 *
 * Differences from wg-quick, on purpose (issue 6): the whole file is parsed, secrets are
 * loaded and endpoints resolved before anything is applied, so a bad config changes nothing;
 * a failing hook names itself and its exit status; `down` of a full tunnel removes only its own
 * "suppress_prefixlength 0" rules (quick_rule.c). `up` also records the peers' endpoint names for
 * `podwirectl reresolve` (datapath/reresolve.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/quick.h"
#include "cli/subcommands.h"
#include "datapath/device.h"
#include "datapath/device_config.h"
#include "datapath/link.h"
#include "datapath/reresolve.h"
#include "lib/log.h"

int quick_open(struct quick *q, const char *conf_or_iface, char *err, size_t err_len)
{
	char path[PATH_MAX], dir[PATH_MAX], *slash;
	struct stat st, dst;
	int ret;

	memset(q, 0, sizeof(*q));
	ret = config_resolve_path(conf_or_iface, path, sizeof(path), q->ifname, sizeof(q->ifname), err, err_len);
	if (ret)
		return ret;
	if (access(path, F_OK)) {
		snprintf(err, err_len, "`%s' does not exist", path);
		return -ENOENT;
	}
	/* wg-quick works on readlink -f of the file (SaveConfig replaces that one). */
	if (!realpath(path, q->path)) {
		ret = -errno;
		snprintf(err, err_len, "`%s': %s", path, strerror(errno));
		return ret;
	}
	snprintf(dir, sizeof(dir), "%s", q->path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	if (!stat(q->path, &st) && !stat(dir, &dst) && (st.st_mode & dst.st_mode & 0007))
		fprintf(stderr, "Warning: `%s' is world accessible\n", q->path);
	return config_parse_file(&q->conf, q->path, err, err_len);
}

void quick_close(struct quick *q)
{
	config_free(q->conf);
	q->conf = NULL;
}

/* wg-quick's del_if, limited to what this `up` did: unset_dns, remove_firewall, the
 * full-tunnel rules, the link (its addresses and routes go with it). */
static void undo_up(struct quick *q)
{
	if (q->dns_set)
		quick_dns_unset(q);
	if (q->firewall_set)
		quick_firewall_remove(q);
	if (q->link_created) {
		quick_del_rules(q);
		quick_log_cmd("ip link delete dev %s", q->ifname);
		link_delete(q->ifname);
		reresolve_state_remove(RERESOLVE_STATE_DIR, q->ifname);
	}
	q->link_created = q->dns_set = q->firewall_set = q->rules_set = false;
}

static int add_addresses(struct quick *q, char *err, size_t err_len)
{
	const struct config_interface *ifc = &q->conf->iface;
	char text[IP_PREFIX_STRLEN];
	int ret;

	for (size_t i = 0; i < ifc->n_addresses; i++) {
		ip_prefix_format(&ifc->addresses[i], text, sizeof(text));
		quick_log_cmd("ip %s address add %s dev %s", ifc->addresses[i].addr.family == AF_INET6 ? "-6" : "-4",
			      text, q->ifname);
		ret = quick_addr_add(q->ifindex, &ifc->addresses[i]);
		if (ret) {
			snprintf(err, err_len, "%s: cannot add address %s: %s", q->ifname, text, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static int record_endpoints(struct quick *q)
{
	struct reresolve_list list;
	int ret = reresolve_list_from_config(&list, q->conf);

	if (ret)
		return ret;
	ret = list.n ? reresolve_state_write(RERESOLVE_STATE_DIR, q->ifname, &list) : 0;
	reresolve_list_free(&list);
	return ret;
}

int quick_up(struct quick *q, char *err, size_t err_len)
{
	struct wgdevice *dev = NULL;
	enum datapath_kind used;
	char why[256] = "";
	int ret;

	if (quick_link_index(q->ifname) >= 0) {
		snprintf(err, err_len, "`%s' already exists", q->ifname);
		return -EEXIST;
	}
	/* Everything that can fail on a bad config happens before anything is applied. */
	ret = config_load_secrets(q->conf, err, err_len);
	if (ret)
		return ret;
	ret = device_from_config(&dev, q->conf, q->ifname, err, err_len);
	if (ret)
		return ret;
	ret = quick_run_hooks(q, "PreUp", &q->conf->iface.pre_up, err, err_len);
	if (ret)
		goto out;
	quick_log_cmd("ip link add %s type wireguard", q->ifname);
	ret = link_create(q->ifname, DATAPATH_CHOICE_AUTO, &used);
	if (ret) {
		snprintf(err, err_len, "%s: cannot create the interface: %s", q->ifname, strerror(-ret));
		goto out;
	}
	q->link_created = true;
	ret = quick_link_index(q->ifname);
	if (ret < 0) {
		snprintf(err, err_len, "%s: the interface vanished: %s", q->ifname, strerror(-ret));
		goto out;
	}
	q->ifindex = ret;
	quick_log_cmd("wg setconf %s /dev/fd/63", q->ifname);
	ret = device_set(dev, why, sizeof(why));
	if (ret) {
		/* The interface is ours and is deleted below: whether it was restored is moot. */
		char *note = strstr(why, DEVICE_SET_RESTORED_NOTE);

		if (note || (note = strstr(why, DEVICE_SET_PARTIAL_NOTE)))
			*note = '\0';
		snprintf(err, err_len, "%s: cannot set the configuration: %s", q->ifname, why[0] ? why : strerror(-ret));
		goto out;
	}
	ret = add_addresses(q, err, err_len);
	if (ret)
		goto out;
	ret = quick_set_mtu_up(q);
	if (ret) {
		snprintf(err, err_len, "%s: cannot set the MTU and bring it up: %s", q->ifname, strerror(-ret));
		goto out;
	}
	ret = quick_dns_set(q);
	if (ret) {
		snprintf(err, err_len, "%s: cannot set DNS: %s", q->ifname,
			 ret == -ENOENT ? "resolvconf is not installed" : strerror(-ret));
		goto out;
	}
	ret = quick_add_routes(q);
	if (ret) {
		snprintf(err, err_len, "%s: cannot set up routing: %s", q->ifname, strerror(-ret));
		goto out;
	}
	ret = record_endpoints(q);
	if (ret) {
		snprintf(err, err_len, "%s: cannot record endpoints in %s: %s", q->ifname, RERESOLVE_STATE_DIR,
			 strerror(-ret));
		goto out;
	}
	ret = quick_run_hooks(q, "PostUp", &q->conf->iface.post_up, err, err_len);
out:
	wgdevice_free(dev);
	if (ret)
		undo_up(q);
	return ret;
}

/* wg-quick: [[ " $(wg show interfaces) " == *" $INTERFACE "* ]] */
static bool is_wireguard_interface(const char *name)
{
	return device_kind(name) != DATAPATH_NONE;
}

int quick_down(struct quick *q, char *err, size_t err_len)
{
	int ret;

	if (!is_wireguard_interface(q->ifname)) {
		snprintf(err, err_len, "`%s' is not a WireGuard interface", q->ifname);
		return -ENODEV;
	}
	ret = quick_link_index(q->ifname);
	if (ret < 0) {
		snprintf(err, err_len, "%s: %s", q->ifname, strerror(-ret));
		return ret;
	}
	q->ifindex = ret;
	ret = quick_run_hooks(q, "PreDown", &q->conf->iface.pre_down, err, err_len);
	if (ret)
		return ret;
	if (q->conf->iface.save_config) {
		ret = quick_save_config(q, err, err_len);
		if (ret)
			return ret;
	}
	ret = quick_del_rules(q);
	if (ret) {
		snprintf(err, err_len, "%s: cannot delete routing rules: %s", q->ifname, strerror(-ret));
		return ret;
	}
	quick_log_cmd("ip link delete dev %s", q->ifname);
	ret = link_delete(q->ifname);
	if (ret) {
		snprintf(err, err_len, "%s: cannot delete the interface: %s", q->ifname, strerror(-ret));
		return ret;
	}
	/* Like wg-quick, these two are best effort once the link is gone. */
	quick_dns_unset(q);
	quick_firewall_remove(q);
	reresolve_state_remove(RERESOLVE_STATE_DIR, q->ifname);
	return quick_run_hooks(q, "PostDown", &q->conf->iface.post_down, err, err_len);
}

static int usage(int argc, char *argv[])
{
	bool help = subcommand_help_asked(argc, argv);

	fprintf(help ? stdout : stderr, "Usage: %s %s [ CONFIG_FILE | INTERFACE ]\n", log_prog(), argv[0]);
	return help ? 0 : 1;
}

/* The environment wg-quick gives its hooks and helpers. */
static void prepare_process(void)
{
	setenv("LC_ALL", "C", 1);
	signal(SIGPIPE, SIG_IGN);
}

static int run(int argc, char *argv[], int (*step)(struct quick *, char *, size_t))
{
	struct quick q;
	char err[1024] = "";
	int ret;

	if (argc != 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return usage(argc, argv);
	prepare_process();
	ret = quick_open(&q, argv[1], err, sizeof(err));
	if (!ret)
		ret = step(&q, err, sizeof(err));
	if (ret)
		log_err("%s", err[0] ? err : strerror(-ret));
	quick_close(&q);
	return ret ? 1 : 0;
}

static int save_step(struct quick *q, char *err, size_t err_len)
{
	int ret;

	if (!is_wireguard_interface(q->ifname)) {
		snprintf(err, err_len, "`%s' is not a WireGuard interface", q->ifname);
		return -ENODEV;
	}
	ret = quick_link_index(q->ifname);
	if (ret < 0)
		return ret;
	q->ifindex = ret;
	return quick_save_config(q, err, err_len);
}

int up_main(int argc, char *argv[])
{
	return run(argc, argv, quick_up);
}

int down_main(int argc, char *argv[])
{
	return run(argc, argv, quick_down);
}

int save_main(int argc, char *argv[])
{
	return run(argc, argv, save_step);
}
