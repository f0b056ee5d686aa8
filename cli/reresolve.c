/* reresolve: `podwirectl reresolve IFACE [--interval S] [--stale S] [--config CONF]`.
 *
 * Re-resolve the DNS endpoints of IFACE's peers that had no handshake for --stale
 * seconds (135, as wireguard-tools' reresolve-dns.sh) and rewrite only those whose address
 * changed. The names come from what `podwirectl up` recorded in /run/podwire/IFACE.endpoints,
 * or from --config CONF. Once, or every --interval seconds until killed. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/subcommands.h"
#include "datapath/reresolve.h"
#include "lib/config.h"
#include "lib/log.h"

static int usage(FILE *f)
{
	fprintf(f, "Usage: %s reresolve <interface> [--interval SECONDS] [--stale SECONDS] [--config CONFIG_FILE]\n",
		log_prog());
	return f == stdout ? 0 : 1;
}

static int parse_seconds(const char *opt, const char *s, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || !*s || *end || *s == '-' || v > 86400 * 365) {
		log_err("%s: `%s' is not a number of seconds", opt, s);
		return -EINVAL;
	}
	*out = (unsigned int)v;
	return 0;
}

static int load_list(const char *ifname, const char *conf_path, struct reresolve_list *list)
{
	char err[512];
	struct config *conf = NULL;
	int ret;

	if (!conf_path) {
		ret = reresolve_state_read(RERESOLVE_STATE_DIR, ifname, list);
		if (ret == -ENOENT)
			/* `up' records only the endpoints its own file names: peers that a hook added
			 * (PostUp = podwirectl addconf %i peers.conf) are not there. */
			log_err("%s: no endpoints recorded in %s/%s.endpoints: `podwirectl up' records the endpoints of "
				"its own config file only, and there were none (peers added by a PostUp addconf, or the "
				"interface was not brought up by `podwirectl up'); name the file with the peers: "
				"--config FILE", ifname, RERESOLVE_STATE_DIR, ifname);
		else if (ret)
			log_err("%s: cannot read %s/%s.endpoints: %s", ifname, RERESOLVE_STATE_DIR, ifname, strerror(-ret));
		return ret;
	}
	ret = config_parse_file(&conf, conf_path, err, sizeof(err));
	if (ret) {
		log_err("%s", err);
		return ret;
	}
	ret = reresolve_list_from_config(list, conf);
	config_free(conf);
	return ret;
}

int reresolve_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "stale", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	unsigned int interval = 0, stale = RERESOLVE_STALE_SECONDS, updated;
	const char *conf_path = NULL, *ifname;
	struct reresolve_list list;
	char err[512];
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (parse_seconds("--interval", optarg, &interval))
				return 1;
			break;
		case 's':
			if (parse_seconds("--stale", optarg, &stale))
				return 1;
			break;
		case 'c':
			conf_path = optarg;
			break;
		case 'h':
			return usage(stdout);
		default:
			return usage(stderr);
		}
	}
	if (optind != argc - 1)
		return usage(stderr);
	ifname = argv[optind];
	if (!config_valid_ifname(ifname)) {
		log_err("`%s' is not a valid interface name", ifname);
		return 1;
	}
	if (load_list(ifname, conf_path, &list))
		return 1;
	for (;;) {
		ret = reresolve_once(ifname, &list, time(NULL), stale, endpoint_resolve, &updated, err, sizeof(err));
		if (err[0])
			log_err("%s", err);
		if (!ret && updated)
			log_info("%s: updated %u endpoint%s", ifname, updated, updated == 1 ? "" : "s");
		/* A single pass reports failure; a loop keeps going (the name may come back). */
		if (!interval || ret == -ENODEV)
			break;
		sleep(interval);
	}
	reresolve_list_free(&list);
	return ret ? 1 : 0;
}
