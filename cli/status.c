/* status: the mesh as a table — every node in the store joined with what the local
 * WireGuard device knows about it: endpoint, pod CIDRs, last handshake, transfer, state.
 * MTU problems are flagged, because a wrong MTU shows as near-zero throughput rather than
 * as an error: records whose MTU differs from ours, and a tunnel MTU that does not leave
 * WireGuard's 80 bytes of overhead (IPv6 40 + UDP 8 + WireGuard 32) on the underlay. */
#include <errno.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mesh/mesh_store.h"
#include "cli/subcommands.h"
#include "mesh/cluster.h"
#include "mesh/mesh.h"
#include "datapath/device.h"
#include "lib/defaults.h"
#include "lib/log.h"

/* WireGuard's worst-case overhead: outer IPv6 header 40 + UDP 8 + message header and tag 32. */
#define WG_OVERHEAD 80
/* WireGuard paper §6.1: REJECT_AFTER_TIME; no handshake for longer means no session. */
#define SESSION_SECONDS 180

struct skip_note {
	char key[STORE_KEY_MAX];
	char reason[256];
};

struct skips {
	struct skip_note *v;
	size_t n;
};

static void note_skip(void *ctx, const char *key, const char *reason)
{
	struct skips *s = ctx;
	struct skip_note *grown = realloc(s->v, (s->n + 1) * sizeof(*grown));

	if (!grown)
		return;
	s->v = grown;
	snprintf(s->v[s->n].key, sizeof(s->v[s->n].key), "%s", key);
	snprintf(s->v[s->n].reason, sizeof(s->v[s->n].reason), "%s", reason);
	s->n++;
}

static unsigned int read_mtu(const char *ifname)
{
	char path[128];
	unsigned int mtu = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/mtu", ifname);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%u", &mtu) != 1)
		mtu = 0;
	fclose(f);
	return mtu;
}

/* Smallest MTU among the other interfaces that are up: the underlay WireGuard rides on. */
static unsigned int underlay_mtu(const char *ifname)
{
	struct ifaddrs *ifs, *i;
	unsigned int min = 0;

	if (getifaddrs(&ifs) < 0)
		return 0;
	for (i = ifs; i; i = i->ifa_next) {
		unsigned int mtu;

		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP) ||
		    (i->ifa_flags & IFF_LOOPBACK) || !strcmp(i->ifa_name, ifname) || device_kind(i->ifa_name) != DATAPATH_NONE)
			continue;
		mtu = read_mtu(i->ifa_name);
		if (mtu && (!min || mtu < min))
			min = mtu;
	}
	freeifaddrs(ifs);
	return min;
}

static void format_bytes(char *buf, size_t len, uint64_t b)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (!u)
		snprintf(buf, len, "%" PRIu64 " B", b);
	else
		snprintf(buf, len, "%.2f %s", v, units[u]);
}

static void format_ago(char *buf, size_t len, const struct wgpeer *p)
{
	long ago;

	if (!p) {
		snprintf(buf, len, "-");
		return;
	}
	if (!p->last_handshake_time.tv_sec) {
		snprintf(buf, len, "never");
		return;
	}
	ago = (long)(time(NULL) - p->last_handshake_time.tv_sec);
	if (ago < 120)
		snprintf(buf, len, "%lds ago", ago < 0 ? 0 : ago);
	else if (ago < 7200)
		snprintf(buf, len, "%ldm ago", ago / 60);
	else
		snprintf(buf, len, "%ldh ago", ago / 3600);
}

static const struct wgpeer *find_peer(const struct wgdevice *dev, const uint8_t *key)
{
	const struct wgpeer *p;

	if (!dev)
		return NULL;
	for_each_wgpeer(dev, p)
		if (!memcmp(p->public_key, key, WG_KEY_LEN))
			return p;
	return NULL;
}

static void print_row(const struct node *n, const struct wgpeer *p, bool self, unsigned int our_mtu,
		      bool have_dev, int *mtu_flags)
{
	char ep[NODE_ENDPOINT_MAX] = "-", cidrs[128] = "", tunnel[IP_ADDR_STRLEN] = "-", hs[32], rx[32], tx[32],
	     xfer[80] = "-", state[64];

	if (p && p->endpoint.addr.sa_family)
		endpoint_format(&p->endpoint.addr, ep, sizeof(ep));
	else if (n->endpoint[0])
		snprintf(ep, sizeof(ep), "%s", n->endpoint);
	for (size_t i = 0; i < n->n_pod_cidrs; i++) {
		char c[IP_PREFIX_STRLEN];

		ip_prefix_format(&n->pod_cidrs[i], c, sizeof(c));
		snprintf(cidrs + strlen(cidrs), sizeof(cidrs) - strlen(cidrs), "%s%s", i ? "," : "", c);
	}
	if (!cidrs[0])
		snprintf(cidrs, sizeof(cidrs), "-");
	if (n->n_tunnel_ips)
		ip_addr_format(&n->tunnel_ips[0], tunnel, sizeof(tunnel));
	format_ago(hs, sizeof(hs), p);
	if (p) {
		format_bytes(rx, sizeof(rx), p->rx_bytes);
		format_bytes(tx, sizeof(tx), p->tx_bytes);
		snprintf(xfer, sizeof(xfer), "%s / %s", rx, tx);
	}
	if (self)
		snprintf(state, sizeof(state), "this node");
	else if (!have_dev)
		snprintf(state, sizeof(state), "no device");
	else if (!p)
		snprintf(state, sizeof(state), "not applied");
	else if (!p->last_handshake_time.tv_sec)
		snprintf(state, sizeof(state), "waiting");
	else if (time(NULL) - p->last_handshake_time.tv_sec > SESSION_SECONDS)
		snprintf(state, sizeof(state), "stale");
	else
		snprintf(state, sizeof(state), "up");
	if (!self && n->mtu && our_mtu && n->mtu != our_mtu) {
		snprintf(state + strlen(state), sizeof(state) - strlen(state), ", MTU %u!", n->mtu);
		(*mtu_flags)++;
	}
	printf("%-16s %-24s %-30s %-15s %-10s %-24s %s\n", n->name, ep, cidrs, tunnel, self ? "-" : hs,
	       self ? "-" : xfer, state);
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f, "Usage: %s status [-i IFACE] [--store file|etcd] [--store-dir DIR] [--etcd-endpoints URLS]\n"
		   "       [--etcd-cacert FILE] [--etcd-cert FILE --etcd-key FILE] [--etcd-user NAME]\n"
		   "       [--etcd-password-file FILE]  (or the password in PODWIRE_ETCD_PASSWORD)\n",
		prog);
}

int status_main(int argc, char *argv[])
{
	struct mesh_store_args sa;
	const char *ifname = PODWIRE_NODE_INTERFACE;
	struct store *s = NULL;
	struct store_kv *kvs = NULL, *claims = NULL;
	size_t n_kvs = 0, n_claims = 0, n_nodes = 0, skipped = 0;
	struct node self = { 0 }, stored_self = { 0 }, *nodes = NULL;
	struct wgdevice *dev = NULL;
	struct skips skips = { 0 };
	unsigned int our_mtu, under;
	int ret, mtu_flags = 0;

	mesh_store_args_default(&sa);
	for (int i = 1; i < argc; i++) {
		int r = mesh_store_arg(&sa, argc, argv, &i);

		if (r < 0)
			return 1;
		if (r)
			continue;
		if ((!strcmp(argv[i], "-i") || !strcmp(argv[i], "--interface")) && i + 1 < argc) {
			ifname = argv[++i];
		} else if (subcommand_help_asked(argc, argv)) {
			usage(stdout, log_prog());
			return 0;
		} else {
			usage(stderr, log_prog());
			return 1;
		}
	}
	if (mesh_store_open(&sa, &s))
		return 1;
	ret = store_list(s, STORE_NODES_PREFIX, &kvs, &n_kvs);
	if (!ret)
		ret = store_list(s, STORE_ALLOC_PREFIX, &claims, &n_claims);
	if (ret) {
		fprintf(stderr, "%s: store %s %s: cannot list nodes: %s\n", log_prog(), sa.backend, sa.location,
			store_strerror(s, ret));
		goto out;
	}
	if (device_get(&dev, ifname)) {
		fprintf(stderr, "%s: %s: no such WireGuard interface here; showing the store only\n", log_prog(), ifname);
		dev = NULL;
	}
	/* Which record is this node: the one carrying the device's public key. */
	if (dev) {
		memcpy(self.public_key, dev->public_key, WG_KEY_LEN);
		for (size_t i = 0; i < n_kvs; i++) {
			struct node n;
			char err[8];

			if (!node_decode(&n, kvs[i].value, kvs[i].value_len, err, sizeof(err)) &&
			    !memcmp(n.public_key, dev->public_key, WG_KEY_LEN)) {
				snprintf(self.name, sizeof(self.name), "%s", n.name);
				node_clear(&n);
				break;
			}
			node_clear(&n);
		}
	}
	{
		struct mesh_policy pol = { .self = &self, .claims = claims, .n_claims = n_claims, .skip = note_skip,
					   .skip_ctx = &skips };
		struct ip_prefix cluster[2], tunnel[2];
		struct cluster_pools pools;
		char err[256] = "";

		/* Judged as the nodes judge them: against the pools podwired published. */
		if (!cluster_pools_read(s, &pools, err, sizeof(err))) {
			cluster_pools_ranges(&pools, cluster, &pol.n_cluster_cidrs, tunnel, &pol.n_tunnel_cidrs);
			pol.cluster_cidrs = cluster;
			pol.tunnel_cidrs = tunnel;
		} else {
			fprintf(stderr, "%s: store key %s: %s: no record can be judged without the cluster's pools\n",
				log_prog(), CLUSTER_POOLS_KEY, err[0] ? err : "missing or unreadable");
		}

		ret = mesh_build(kvs, n_kvs, &pol, &nodes, &n_nodes, &skipped, &stored_self);
		if (ret)
			goto out;
	}
	our_mtu = dev ? read_mtu(ifname) : 0;
	printf("%-16s %-24s %-30s %-15s %-10s %-24s %s\n", "NODE", "ENDPOINT", "POD CIDRS", "TUNNEL IP", "HANDSHAKE",
	       "TRANSFER (RX / TX)", "STATE");
	if (stored_self.name[0])
		print_row(&stored_self, NULL, true, our_mtu, dev != NULL, &mtu_flags);
	for (size_t i = 0; i < n_nodes; i++)
		print_row(&nodes[i], find_peer(dev, nodes[i].public_key), false, our_mtu, dev != NULL, &mtu_flags);
	if (dev) {
		const struct wgpeer *p;

		for_each_wgpeer(dev, p) {
			bool known = false;

			for (size_t i = 0; i < n_nodes && !known; i++)
				known = !memcmp(nodes[i].public_key, p->public_key, WG_KEY_LEN);
			if (!known) {
				char k[WG_KEY_LEN_BASE64];

				key_to_base64(k, p->public_key);
				printf("peer %s is on %s but in no valid store record\n", k, ifname);
			}
		}
	}
	for (size_t i = 0; i < skips.n; i++)
		printf("skipped record %s: %s\n", skips.v[i].key, skips.v[i].reason);
	if (mtu_flags)
		printf("warning: %d node(s) publish an MTU different from %s's %u: expect poor throughput\n", mtu_flags,
		       ifname, our_mtu);
	{
		struct cluster_pools pools;
		char desc[512], err[256] = "";
		int pret = cluster_pools_read(s, &pools, err, sizeof(err));

		if (!pret)
			cluster_pools_describe(&pools, desc, sizeof(desc));
		printf("store %s %s: %s%s\n", sa.backend, sa.location, pret ? "" : "cluster pools ",
		       !pret ? desc : pret == -ENOENT ? "no cluster pools yet (no podwired has started on this store)" :
		       pret == -EBADMSG ? err : store_strerror(s, pret));
	}
	under = dev ? underlay_mtu(ifname) : 0;
	if (our_mtu && under && our_mtu + WG_OVERHEAD > under)
		printf("warning: %s MTU %u exceeds the underlay MTU %u minus WireGuard's %d bytes: set it to %u\n",
		       ifname, our_mtu, under, WG_OVERHEAD, under - WG_OVERHEAD);
out:
	mesh_free(nodes, n_nodes);
	node_clear(&stored_self);
	free(skips.v);
	wgdevice_free(dev);
	store_kvs_free(kvs, n_kvs);
	store_kvs_free(claims, n_claims);
	store_close(s);
	return ret ? 1 : 0;
}
