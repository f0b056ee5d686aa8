/* podwired — the node daemon: publishes this node to the shared store and keeps the
 * WireGuard interface and routes equal to what the store says. Arguments only; the
 * work is in agent.c. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/agent.h"
#include "daemon/datapath_hold.h"
#include "mesh/mesh_store.h"
#include "mesh/node.h"
#include "lib/defaults.h"
#include "lib/log.h"
#include "lib/version.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: podwired [options]\n"
		"  --name NAME                 node name (default: hostname)\n"
		"  -i, --interface IFACE       WireGuard interface (default " PODWIRE_NODE_INTERFACE ")\n"
		"  --store file|etcd|kubernetes  store backend (default kubernetes in a pod, i.e. with\n"
		"                              KUBERNETES_SERVICE_HOST set, else file)\n"
		"  --kubeconfig FILE           Kubernetes API from a kubeconfig, YAML or JSON (implies\n"
		"                              --store kubernetes; default: the pod's service account)\n"
		"  --pod-cidr-allocation on|off  without Node.spec.podCIDRs, allocate a pod CIDR from\n"
		"                              --cluster-cidr (on, default) or stay not ready (off)\n"
				"  --store-dir DIR             file store directory (default /var/lib/podwire/store); it must exist\n"
		"  --store-dir-create          create the store directory if it is missing (a new cluster)\n"
		"  --etcd-endpoints URLS       etcd client URLs, comma-separated (implies --store etcd);\n"
		"                              an http:// URL is logged as a warning: use https://\n"
		"  --etcd-cacert FILE          CA certificates that sign the etcd members' certificates\n"
		"  --etcd-cert FILE, --etcd-key FILE  client certificate for etcd --client-cert-auth\n"
		"  --etcd-user NAME            etcd user (etcd auth enable); its password is read from\n"
		"  --etcd-password-file FILE   this file, or else the environment variable PODWIRE_ETCD_PASSWORD\n"
		"  --lease-ttl SECONDS         etcd lease of the node record (default 60, 0: none)\n"
		"  --cluster-cidr CIDR         pod CIDR pool (default 10.244.0.0/16)\n"
		"  --block-size LEN            pod CIDR block length (default 24)\n"
		"  --pod-cidr CIDR             fixed pod CIDR instead of allocating one\n"
		"  --tunnel-cidr CIDR          tunnel address pool (default 10.99.0.0/16)\n"
		"  --tunnel-ip IP              fixed tunnel address instead of allocating one\n"
		"  --cluster-cidr6 CIDR        IPv6 pod CIDR pool (dual stack, IPv6 only; off by default or '')\n"
		"  --block-size6 LEN           IPv6 pod CIDR block length (default 64)\n"
		"  --tunnel-cidr6 CIDR         IPv6 tunnel address pool (dual stack, IPv6 only; off by default or '')\n"
		"  --gateway-ranges CIDR[,..]  ranges outside the pools that a node (a gateway) may\n"
		"                              route as its pod CIDR (--pod-cidr); same on every node\n"
		"  --endpoint HOST:PORT        endpoint to advertise (default: from --endpoint-from, else the\n"
		"                              host's first IPv4 address, else its first IPv6 address)\n"
		"  --endpoint-from InternalIP|ExternalIP|annotation=NAME  with --store kubernetes, the endpoint's\n"
		"                              address from the Node: status.addresses (default InternalIP) or an\n"
		"                              annotation holding IP or HOST:PORT\n"
		"  --listen-port PORT          WireGuard port (default 51820)\n"
		"  --mtu MTU                   interface and pod MTU (default: the underlay's MTU at this node's\n"
		"                              address - 80, at least 1280; 1420 when unknown)\n"
		"  --persistent-keepalive SEC  keepalive towards every peer (default off; set behind NAT)\n"
		"  --labels K=V,...            labels / location published with the node\n"
		"  --datapath auto|kernel|userspace|external  (default auto: kernel module if present; external:\n"
		"                              another process makes and keeps the interface, see --datapath-only)\n"
		"  --datapath-only             only create the interface (as --datapath auto|kernel|userspace says)\n"
		"                              and keep it until SIGTERM, recreating it if it vanishes: a datapath\n"
		"                              that outlives podwired restarts (the DaemonSet's datapath container)\n"
		"  --metrics ADDR:PORT|off     Prometheus metrics (default 127.0.0.1:9586)\n"
		"  --private-key-file PATH     private key from a file (mode 0600)\n"
		"  --private-key-command CMD   private key from a command's output\n"
		"  --state-dir DIR             where a generated key is kept (default /var/lib/podwire)\n"
		"  --resync SECONDS            periodic full reconcile / re-resolution (default 30)\n"
		"  --heartbeat SECONDS         record heartbeat / lease keepalive (default 30)\n"
		"  --log-level error|warn|info|debug, --log-format text|json\n"
		"  --cni-conf-dir DIR          write this node's CNI conflist there once its pod CIDRs are known\n"
		"                              (e.g. /etc/cni/net.d; kept on exit, removed by --cleanup)\n"
		"  --cni-conf-template FILE    the conflist to fill in (default: manifests/10-podwire.conflist, built in)\n"
		"  --masquerade on|off         masquerade this node's pods towards destinations outside the\n"
		"                              cluster's pod ranges (nftables table inet podwired; default on)\n"
		"  --cleanup                   remove the interface, its routes, the CNI conflist, the masquerade\n"
		"                              table and this node's record, then exit\n"
		"  -h, --help, -v, --version\n");
}

static int parse_uint(const char *opt, const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || !*s || *end || *s == '-' || *out < min || *out > max) {
		log_err("%s: '%s' is not a number between %lu and %lu", opt, s, min, max);
		return -EINVAL;
	}
	return 0;
}

static int parse_prefix(const char *opt, const char *s, struct ip_prefix *p)
{
	struct ip_prefix masked;

	if (ip_prefix_parse(p, s) || !strchr(s, '/')) {
		log_err("%s: '%s' is not a CIDR prefix", opt, s);
		return -EINVAL;
	}
	masked = *p;
	ip_prefix_mask(&masked);
	if (!ip_addr_equal(&masked.addr, &p->addr)) {
		log_err("%s: '%s' has host bits set", opt, s);
		return -EINVAL;
	}
	return 0;
}

enum {
	OPT_NAME = 256, OPT_STORE, OPT_STORE_DIR, OPT_ETCD, OPT_LEASE, OPT_CLUSTER, OPT_BLOCK, OPT_POD, OPT_TUNNEL_CIDR,
	OPT_TUNNEL_IP, OPT_ENDPOINT, OPT_PORT, OPT_MTU, OPT_KEEPALIVE, OPT_LABELS, OPT_DATAPATH, OPT_METRICS,
	OPT_KEY_FILE, OPT_KEY_CMD, OPT_STATE, OPT_RESYNC, OPT_HEARTBEAT, OPT_LOG_LEVEL, OPT_LOG_FORMAT, OPT_CLEANUP,
	OPT_CLUSTER6, OPT_BLOCK6, OPT_TUNNEL_CIDR6, OPT_KUBECONFIG, OPT_POD_ALLOC,
	OPT_STORE_DIR_CREATE, OPT_CNI_CONF_DIR, OPT_CNI_CONF_TEMPLATE, OPT_ETCD_MORE, OPT_GATEWAY_RANGES,
	OPT_ENDPOINT_FROM, OPT_DATAPATH_ONLY, OPT_MASQUERADE,
};

static const struct option long_opts[] = {
	{ "name", required_argument, NULL, OPT_NAME },
	{ "interface", required_argument, NULL, 'i' },
	{ "store", required_argument, NULL, OPT_STORE },
	{ "store-dir", required_argument, NULL, OPT_STORE_DIR },
	{ "store-dir-create", no_argument, NULL, OPT_STORE_DIR_CREATE },
	{ "cni-conf-dir", required_argument, NULL, OPT_CNI_CONF_DIR },
	{ "cni-conf-template", required_argument, NULL, OPT_CNI_CONF_TEMPLATE },
	{ "etcd-endpoints", required_argument, NULL, OPT_ETCD },
	{ "etcd-cacert", required_argument, NULL, OPT_ETCD_MORE },
	{ "etcd-cert", required_argument, NULL, OPT_ETCD_MORE },
	{ "etcd-key", required_argument, NULL, OPT_ETCD_MORE },
	{ "etcd-user", required_argument, NULL, OPT_ETCD_MORE },
	{ "etcd-password-file", required_argument, NULL, OPT_ETCD_MORE },
	{ "kubeconfig", required_argument, NULL, OPT_KUBECONFIG },
	{ "pod-cidr-allocation", required_argument, NULL, OPT_POD_ALLOC },
	{ "masquerade", required_argument, NULL, OPT_MASQUERADE },
	{ "lease-ttl", required_argument, NULL, OPT_LEASE },
	{ "cluster-cidr", required_argument, NULL, OPT_CLUSTER },
	{ "block-size", required_argument, NULL, OPT_BLOCK },
	{ "pod-cidr", required_argument, NULL, OPT_POD },
	{ "tunnel-cidr", required_argument, NULL, OPT_TUNNEL_CIDR },
	{ "tunnel-ip", required_argument, NULL, OPT_TUNNEL_IP },
	{ "cluster-cidr6", required_argument, NULL, OPT_CLUSTER6 },
	{ "block-size6", required_argument, NULL, OPT_BLOCK6 },
	{ "tunnel-cidr6", required_argument, NULL, OPT_TUNNEL_CIDR6 },
	{ "gateway-ranges", required_argument, NULL, OPT_GATEWAY_RANGES },
	{ "endpoint", required_argument, NULL, OPT_ENDPOINT },
	{ "endpoint-from", required_argument, NULL, OPT_ENDPOINT_FROM },
	{ "listen-port", required_argument, NULL, OPT_PORT },
	{ "mtu", required_argument, NULL, OPT_MTU },
	{ "persistent-keepalive", required_argument, NULL, OPT_KEEPALIVE },
	{ "labels", required_argument, NULL, OPT_LABELS },
	{ "datapath", required_argument, NULL, OPT_DATAPATH },
	{ "datapath-only", no_argument, NULL, OPT_DATAPATH_ONLY },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "private-key-file", required_argument, NULL, OPT_KEY_FILE },
	{ "private-key-command", required_argument, NULL, OPT_KEY_CMD },
	{ "state-dir", required_argument, NULL, OPT_STATE },
	{ "resync", required_argument, NULL, OPT_RESYNC },
	{ "heartbeat", required_argument, NULL, OPT_HEARTBEAT },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
	{ "cleanup", no_argument, NULL, OPT_CLEANUP },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'v' },
	{ NULL, 0, NULL, 0 },
};

/* A missing store directory is a typo or shared storage that is not mounted: running on
 * an empty store would make this node a one-node cluster without a sign. So it is made only
 * when asked (--store-dir-create), and the log says so. */
static int store_dir_check(const char *dir, bool create)
{
	struct stat st;

	if (!stat(dir, &st)) {
		if (S_ISDIR(st.st_mode))
			return 0;
		log_err("--store-dir: '%s' is not a directory", dir);
		return -ENOTDIR;
	}
	if (errno != ENOENT || !create) {
		int err = errno;

		log_err("--store-dir: '%s': %s%s", dir, strerror(err),
			err == ENOENT ? " (is the shared store mounted? --store-dir-create makes a new, empty store)" : "");
		return -err;
	}
	if (!*dir || strlen(dir) >= PATH_MAX) {
		log_err("--store-dir: '%s': %s", dir, strerror(*dir ? ENAMETOOLONG : ENOENT));
		return -EINVAL;
	}
	/* mkdir -p: each parent in turn, then the directory itself. */
	for (char path[PATH_MAX], *p = strcpy(path, dir) + 1;; p++) {
		char c = *p;

		if (c && c != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST) {
			int err = errno;

			log_err("--store-dir-create: cannot create '%s': %s", path, strerror(err));
			return -err;
		}
		*p = c;
		if (!c)
			break;
	}
	log_warn("store directory %s did not exist: created it (--store-dir-create), this node starts a new, empty store",
		 dir);
	return 0;
}

static int parse_args(int argc, char *argv[], struct agent_options *o, bool *cleanup, bool *datapath_only)
{
	static char hostname[NODE_NAME_MAX];
	/* static: the options keep pointing into it (the Kubernetes store's location). */
	static struct mesh_store_args store;
	bool store_dir_create = false;
	unsigned long v;
	int c, idx = 0;

	mesh_store_args_default(&store);
	/* In a pod (the DaemonSet), the Kubernetes API is the store, as for Kilo and flannel. */
	if (getenv("KUBERNETES_SERVICE_HOST") && *getenv("KUBERNETES_SERVICE_HOST"))
		mesh_store_option(&store, "--store", "kubernetes");
	while ((c = getopt_long(argc, argv, "i:hv", long_opts, &idx)) != -1) {
		switch (c) {
		case OPT_NAME: o->name = optarg; break;
		case 'i': o->ifname = optarg; break;
		case OPT_STORE:
			if (mesh_store_option(&store, "--store", optarg))
				return -EINVAL;
			break;
		case OPT_STORE_DIR:
			if (mesh_store_option(&store, "--store-dir", optarg))
				return -EINVAL;
			break;
		case OPT_ETCD:
			if (mesh_store_option(&store, "--etcd-endpoints", optarg))
				return -EINVAL;
			break;
		case OPT_ETCD_MORE: {
			char opt[32];

			snprintf(opt, sizeof(opt), "--%s", long_opts[idx].name);
			if (mesh_store_option(&store, opt, optarg))
				return -EINVAL;
			break;
		}
		case OPT_KUBECONFIG:
			if (mesh_store_option(&store, "--kubeconfig", optarg))
				return -EINVAL;
			break;
		case OPT_STORE_DIR_CREATE: store_dir_create = true; break;
		case OPT_CNI_CONF_DIR: o->cni_conf_dir = optarg; break;
		case OPT_CNI_CONF_TEMPLATE: o->cni_conf_template = optarg; break;
		case OPT_POD_ALLOC:
			if (strcmp(optarg, "on") && strcmp(optarg, "off")) {
				log_err("--pod-cidr-allocation: '%s' is not on or off", optarg);
				return -EINVAL;
			}
			o->pod_cidr_allocation = !strcmp(optarg, "on");
			break;
		case OPT_MASQUERADE:
			if (!strcmp(optarg, "on") || !strcmp(optarg, "true")) {
				o->masquerade = true;
			} else if (!strcmp(optarg, "off") || !strcmp(optarg, "false")) {
				o->masquerade = false;
			} else {
				log_err("--masquerade: '%s' is not on or off", optarg);
				return -EINVAL;
			}
			break;
		case OPT_LEASE:
			if (parse_uint("--lease-ttl", optarg, 0, 86400, &v))
				return -EINVAL;
			o->lease_ttl = (int)v;
			break;
		case OPT_CLUSTER:
			if (parse_prefix("--cluster-cidr", optarg, &o->cluster_cidr))
				return -EINVAL;
			break;
		case OPT_BLOCK:
			if (parse_uint("--block-size", optarg, 1, 128, &v))
				return -EINVAL;
			o->block_len = (uint8_t)v;
			break;
		case OPT_POD:
			if (parse_prefix("--pod-cidr", optarg, &o->pod_cidr))
				return -EINVAL;
			o->has_pod_cidr = true;
			break;
		case OPT_TUNNEL_CIDR:
			if (parse_prefix("--tunnel-cidr", optarg, &o->tunnel_cidr))
				return -EINVAL;
			break;
		case OPT_CLUSTER6:
			/* Empty: single stack, so that a manifest can pass a ConfigMap value that is "". */
			if (!*optarg) {
				o->has_cluster_cidr6 = false;
				break;
			}
			if (parse_prefix("--cluster-cidr6", optarg, &o->cluster_cidr6))
				return -EINVAL;
			if (o->cluster_cidr6.addr.family != AF_INET6) {
				log_err("--cluster-cidr6: '%s' is not an IPv6 prefix", optarg);
				return -EINVAL;
			}
			o->has_cluster_cidr6 = true;
			break;
		case OPT_BLOCK6:
			if (parse_uint("--block-size6", optarg, 1, 128, &v))
				return -EINVAL;
			o->block_len6 = (uint8_t)v;
			break;
		case OPT_TUNNEL_CIDR6:
			if (!*optarg) {
				o->has_tunnel_cidr6 = false;
				break;
			}
			if (parse_prefix("--tunnel-cidr6", optarg, &o->tunnel_cidr6))
				return -EINVAL;
			if (o->tunnel_cidr6.addr.family != AF_INET6) {
				log_err("--tunnel-cidr6: '%s' is not an IPv6 prefix", optarg);
				return -EINVAL;
			}
			o->has_tunnel_cidr6 = true;
			break;
		case OPT_GATEWAY_RANGES: {
			char err[128] = "";

			if (cluster_gateway_ranges_parse(optarg, o->gateway_ranges, &o->n_gateway_ranges, err, sizeof(err))) {
				log_err("--gateway-ranges: %s", err);
				return -EINVAL;
			}
			break;
		}
		case OPT_TUNNEL_IP:
			if (ip_addr_parse(&o->tunnel_ip, optarg)) {
				log_err("--tunnel-ip: '%s' is not an IP address", optarg);
				return -EINVAL;
			}
			o->has_tunnel_ip = true;
			break;
		case OPT_ENDPOINT: {
			char host[128];
			uint16_t port;

			if (strlen(optarg) >= NODE_ENDPOINT_MAX || endpoint_split(optarg, host, sizeof(host), &port)) {
				log_err("--endpoint: '%s' is not HOST:PORT", optarg);
				return -EINVAL;
			}
			o->endpoint = optarg;
			break;
		}
		case OPT_ENDPOINT_FROM:
			if (strcmp(optarg, "InternalIP") && strcmp(optarg, "ExternalIP") &&
			    (strncmp(optarg, "annotation=", 11) || !optarg[11] || strlen(optarg) > 11 + 253)) {
				log_err("--endpoint-from: '%s' is not InternalIP, ExternalIP or annotation=NAME", optarg);
				return -EINVAL;
			}
			o->endpoint_from = optarg;
			break;
		case OPT_PORT:
			if (parse_uint("--listen-port", optarg, 1, 65535, &v))
				return -EINVAL;
			o->listen_port = (uint16_t)v;
			break;
		case OPT_MTU:
			if (parse_uint("--mtu", optarg, 576, 65535, &v))
				return -EINVAL;
			o->mtu = (uint32_t)v;
			break;
		case OPT_KEEPALIVE:
			if (parse_uint("--persistent-keepalive", optarg, 0, 65535, &v))
				return -EINVAL;
			o->persistent_keepalive = (uint16_t)v;
			break;
		case OPT_LABELS: o->labels = optarg; break;
		case OPT_DATAPATH:
			if (!strcmp(optarg, "auto"))
				o->datapath = DATAPATH_CHOICE_AUTO;
			else if (!strcmp(optarg, "kernel"))
				o->datapath = DATAPATH_CHOICE_KERNEL;
			else if (!strcmp(optarg, "userspace"))
				o->datapath = DATAPATH_CHOICE_USERSPACE;
			else if (!strcmp(optarg, "external"))
				o->datapath_external = true;
			else {
				log_err("--datapath: '%s' is not auto, kernel, userspace or external", optarg);
				return -EINVAL;
			}
			break;
		case OPT_METRICS: o->metrics_listen = optarg; break;
		case OPT_KEY_FILE: o->key.file = optarg; break;
		case OPT_KEY_CMD: o->key.command = optarg; break;
		case OPT_STATE: o->key.state_dir = optarg; break;
		case OPT_RESYNC:
			if (parse_uint("--resync", optarg, 1, 86400, &v))
				return -EINVAL;
			o->resync_seconds = (unsigned int)v;
			break;
		case OPT_HEARTBEAT:
			if (parse_uint("--heartbeat", optarg, 1, 86400, &v))
				return -EINVAL;
			o->heartbeat_seconds = (unsigned int)v;
			break;
		case OPT_LOG_LEVEL: {
			int level = log_level_parse(optarg);

			if (level < 0) {
				log_err("--log-level: '%s' is not error, warn, info or debug", optarg);
				return -EINVAL;
			}
			log_set_level((enum log_level)level);
			break;
		}
		case OPT_LOG_FORMAT: {
			int format = log_format_parse(optarg);

			if (format < 0) {
				log_err("--log-format: '%s' is not text or json", optarg);
				return -EINVAL;
			}
			log_set_format((enum log_format)format);
			/* A podwire-wg started as the datapath logs to the same stream, the same way. */
			setenv("PODWIRE_LOG_FORMAT", optarg, 1);
			break;
		}
		case OPT_CLEANUP: *cleanup = true; break;
		case OPT_DATAPATH_ONLY: *datapath_only = true; break;
		case 'h': usage(stdout); exit(0);
		case 'v': printf("podwired %s\n", PODWIRE_VERSION); exit(0);
		default: usage(stderr); return -EINVAL;
		}
	}
	if (optind < argc) {
		log_err("unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (!o->name) {
		if (gethostname(hostname, sizeof(hostname)) < 0)
			return -errno;
		hostname[sizeof(hostname) - 1] = '\0';
		o->name = hostname;
	}
	if (!node_name_valid(o->name)) {
		log_err("--name: '%s' is not a valid node name (letters, digits, '.', '_', '-'; at most 63)", o->name);
		return -EINVAL;
	}
	if (strlen(o->ifname) >= 16 || !*o->ifname || strchr(o->ifname, '/')) {
		log_err("--interface: '%s' is not a valid interface name", o->ifname);
		return -EINVAL;
	}
	if (*datapath_only && (o->datapath_external || *cleanup)) {
		log_err("--datapath-only: is the datapath itself; not with --datapath external or --cleanup");
		return -EINVAL;
	}
	if (*datapath_only)
		return 0;
	if (mesh_store_node(&store, o->name))
		return -EINVAL;
	o->store_backend = store.backend;
	o->store_location = store.location;
	if (o->block_len < o->cluster_cidr.cidr || o->block_len > ip_addr_bits(&o->cluster_cidr.addr)) {
		log_err("--block-size: /%u does not fit in the cluster CIDR", o->block_len);
		return -EINVAL;
	}
	if (o->has_cluster_cidr6 && (o->block_len6 < o->cluster_cidr6.cidr || o->block_len6 - o->cluster_cidr6.cidr > 16)) {
		log_err("--block-size6: /%u does not fit in the IPv6 cluster CIDR (at most 2^16 blocks)", o->block_len6);
		return -EINVAL;
	}
	if (o->cluster_cidr.addr.family != AF_INET || o->tunnel_cidr.addr.family != AF_INET) {
		log_err("--cluster-cidr and --tunnel-cidr are IPv4 prefixes (use --cluster-cidr6/--tunnel-cidr6)");
		return -EINVAL;
	}
	if (o->has_pod_cidr && !ip_prefix_contains(&o->cluster_cidr, &o->pod_cidr.addr)) {
		bool gateway = false;

		for (size_t i = 0; i < o->n_gateway_ranges && !gateway; i++)
			gateway = o->gateway_ranges[i].addr.family == o->pod_cidr.addr.family &&
				  o->gateway_ranges[i].cidr <= o->pod_cidr.cidr &&
				  ip_prefix_contains(&o->gateway_ranges[i], &o->pod_cidr.addr);
		if (!gateway) {
			log_err("--pod-cidr: not inside the cluster CIDR nor a --gateway-ranges entry");
			return -EINVAL;
		}
	}
	if (o->has_tunnel_ip && !ip_prefix_contains(&o->tunnel_cidr, &o->tunnel_ip)) {
		log_err("--tunnel-ip: not inside the tunnel CIDR");
		return -EINVAL;
	}
	if (o->key.file && o->key.command) {
		log_err("--private-key-file and --private-key-command exclude each other");
		return -EINVAL;
	}
	if (o->cni_conf_template && !o->cni_conf_dir) {
		log_err("--cni-conf-template: needs --cni-conf-dir (where to write the conflist)");
		return -EINVAL;
	}
	if (o->cni_conf_dir) {
		struct stat st;
		const char *why = stat(o->cni_conf_dir, &st) ? strerror(errno) :
				  !S_ISDIR(st.st_mode) ? "not a directory" : NULL;

		if (why) {
			log_err("--cni-conf-dir: '%s': %s", o->cni_conf_dir, why);
			return -EINVAL;
		}
	}
	if (!strcmp(o->store_backend, "file") && store_dir_check(o->store_location, store_dir_create && !*cleanup))
		return -EINVAL;
	return 0;
}

int main(int argc, char *argv[])
{
	struct agent_options o;
	bool cleanup = false, datapath_only = false;
	int ret;

	log_init(argv[0], LOG_LEVEL_INFO);
	log_set_format(LOG_FORMAT_DAEMON);
	agent_options_default(&o);
	if (parse_args(argc, argv, &o, &cleanup, &datapath_only))
		return 2;
	if (datapath_only)
		return datapath_hold(o.ifname, o.datapath, 1000) ? 1 : 0;
	ret = cleanup ? agent_cleanup(&o) : agent_run(&o);
	return ret ? 1 : 0;
}
