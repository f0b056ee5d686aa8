/* peer add NAME: one-shot client onboarding, the angristan installer's job done
 * through the mesh store. A fresh key pair is made here, a tunnel address is claimed from
 * the cluster's tunnel pool (the one podwired published under cluster/pools, so the nodes
 * accept the client) with the store's compare-and-swap, and the client's record (public key
 * and address only) is written to the store, so every podwired adds it as a peer on its
 * next watch event. The client's wg0.conf, with every node as a [Peer], is printed; the same
 * text as a QR code for the WireGuard phone apps goes to the terminal only (stdout when it is
 * one, else stderr when that is one), so `peer add x > wg0.conf` writes a clean config. The
 * private key exists only in that output.
 * peer config NAME --from OLD.conf: the same config again, with the nodes the store has now,
 * the client's key read back from the config it was given (the store has only the public key).
 * peer remove NAME: deletes a client's record and gives back its addresses. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "mesh/mesh_store.h"
#include "cli/qr.h"
#include "lib/config.h"
#include "cli/subcommands.h"
#include "mesh/cidr.h"
#include "mesh/cluster.h"
#include "mesh/mesh.h"
#include "lib/log.h"

/* Clients usually sit behind NAT: keep its mapping alive (the tutorial's value). */
#define CLIENT_KEEPALIVE 25

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s peer add NAME [--dns IP] [--no-qr] [--tunnel-cidr CIDR] [--gateway-ranges CIDR[,CIDR]]\n"
		"                         [--store file|etcd] [--store-dir DIR] [--etcd-endpoints URLS]\n"
		"       %s peer config NAME --from OLD.conf [--dns IP] [--no-qr] [--gateway-ranges CIDR[,CIDR]]\n"
		"                         [--store file|etcd] [--store-dir DIR] [--etcd-endpoints URLS]\n"
		"       %s peer remove NAME [--store file|etcd] [--store-dir DIR] [--etcd-endpoints URLS]\n"
		"The client's address comes from the cluster's tunnel pool in the store (written by podwired);\n"
		"--tunnel-cidr, if given, must be that pool. The QR code is drawn only on a terminal.\n"
		"Only the nodes' pod CIDRs inside the cluster pool (or --gateway-ranges, as given to podwired)\n"
		"and claimed in the store go into the config; other records are skipped, each named on stderr.\n"
		"`peer config' prints a client's config again with the nodes the store has now (a client made\n"
		"before a node joined reaches it with the new one), keeping its key (read from OLD.conf, the\n"
		"config it was given) and addresses; DNS too unless --dns is given.\n",
		prog, prog, prog);
}

/* The client's [Peer] sections: every node that can be dialled. No secrets here, so the
 * growing memstream buffer is fine. */
static int client_peers(char **out, size_t *size, const struct node *nodes, size_t n)
{
	char key[WG_KEY_LEN_BASE64], a[IP_ADDR_STRLEN];
	size_t peers = 0;
	FILE *f = open_memstream(out, size);

	if (!f)
		return -errno;
	for (size_t i = 0; i < n; i++) {
		const char *sep = "";

		/* A node without an endpoint (another client) cannot be dialled. */
		if (!nodes[i].endpoint[0])
			continue;
		key_to_base64(key, nodes[i].public_key);
		fprintf(f, "\n[Peer]\n# Name = %s\nPublicKey = %s\nEndpoint = %s\nAllowedIPs = ", nodes[i].name, key,
			nodes[i].endpoint);
		for (size_t j = 0; j < nodes[i].n_tunnel_ips; j++) {
			ip_addr_format(&nodes[i].tunnel_ips[j], a, sizeof(a));
			fprintf(f, "%s%s/%u", sep, a, ip_addr_bits(&nodes[i].tunnel_ips[j]));
			sep = ", ";
		}
		for (size_t j = 0; j < nodes[i].n_pod_cidrs; j++) {
			char c[IP_PREFIX_STRLEN];

			ip_prefix_format(&nodes[i].pod_cidrs[j], c, sizeof(c));
			fprintf(f, "%s%s", sep, c);
			sep = ", ";
		}
		fprintf(f, "\nPersistentKeepalive = %d\n", CLIENT_KEEPALIVE);
		peers++;
	}
	if (fclose(f)) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return peers ? 0 : -ENOENT;
}

/* The client's configuration: its key and address, and every node as a peer. The part with
 * the private key is formatted once into a buffer of its final size (a growing buffer would
 * leave copies of the key in freed memory); the caller wipes it. */
static int client_config(char **out, const uint8_t priv[WG_KEY_LEN], const struct node *client, const char *dns,
			 const struct node *nodes, size_t n)
{
	char key[WG_KEY_LEN_BASE64], a[NODE_MAX_TUNNEL_IPS * (IP_ADDR_STRLEN + 8)] = "", *peers = NULL;
	size_t peers_len = 0;
	int len, ret = client_peers(&peers, &peers_len, nodes, n);

	*out = NULL;
	if (ret) {
		free(peers);
		return ret;
	}
	for (size_t i = 0; i < client->n_tunnel_ips; i++) {
		char one[IP_ADDR_STRLEN];

		ip_addr_format(&client->tunnel_ips[i], one, sizeof(one));
		snprintf(a + strlen(a), sizeof(a) - strlen(a), "%s%s/%u", i ? ", " : "", one,
			 ip_addr_bits(&client->tunnel_ips[i]));
	}
	key_to_base64(key, priv);
#define CLIENT_CONFIG(buf, size) \
	snprintf(buf, size, "[Interface]\nPrivateKey = %s\nAddress = %s\n%s%s%s%s", key, a, \
		 dns ? "DNS = " : "", dns ? dns : "", dns ? "\n" : "", peers)
	len = CLIENT_CONFIG(NULL, 0);
	*out = len < 0 ? NULL : malloc((size_t)len + 1);
	if (*out)
		CLIENT_CONFIG(*out, (size_t)len + 1);
#undef CLIENT_CONFIG
	sodium_memzero(key, sizeof(key));
	free(peers);
	return *out ? 0 : -ENOMEM;
}

/* The cluster's pools as podwired published them; --tunnel-cidr may only repeat them. */
static int tunnel_pools(struct store *s, const struct mesh_store_args *sa, const struct ip_prefix *given,
			struct cluster_pools *pools)
{
	char err[256] = "", c[IP_PREFIX_STRLEN];
	int ret = cluster_pools_read(s, pools, err, sizeof(err));

	if (ret == -ENOENT) {
		fprintf(stderr, "%s: peer add: store %s %s has no cluster pools (key %s): no podwired has started on "
			"it yet, so there is no node to connect to\n", log_prog(), sa->backend, sa->location,
			CLUSTER_POOLS_KEY);
		return ret;
	}
	if (ret) {
		fprintf(stderr, "%s: peer add: store key %s: %s\n", log_prog(), CLUSTER_POOLS_KEY,
			ret == -EBADMSG ? err : store_strerror(s, ret));
		return ret;
	}
	if (given && !ip_prefix_equal(given, &pools->tunnel_cidr) &&
	    !(pools->has_tunnel_cidr6 && ip_prefix_equal(given, &pools->tunnel_cidr6))) {
		char want[IP_PREFIX_STRLEN];

		ip_prefix_format(given, c, sizeof(c));
		ip_prefix_format(&pools->tunnel_cidr, want, sizeof(want));
		fprintf(stderr, "%s: peer add: --tunnel-cidr '%s' is not the cluster's tunnel pool %s: the nodes would "
			"skip the client (leave --tunnel-cidr out)\n", log_prog(), c, want);
		return -EINVAL;
	}
	return 0;
}

/* A client address from each tunnel pool the cluster has (IPv4, and IPv6 in dual stack). */
static int claim_client_addresses(struct store *s, const struct cluster_pools *pools, struct node *client)
{
	const struct ip_prefix *pool[2] = { &pools->tunnel_cidr, pools->has_tunnel_cidr6 ? &pools->tunnel_cidr6 : NULL };
	struct ip_prefix got;
	int ret;

	for (size_t i = 0; i < 2 && pool[i]; i++) {
		/* Skip block 0: the tunnel network's own address, as podwired does. */
		ret = cidr_allocate(s, pool[i], (uint8_t)ip_addr_bits(&pool[i]->addr), 1, client->name, &got);
		if (ret) {
			char c[IP_PREFIX_STRLEN];

			ip_prefix_format(pool[i], c, sizeof(c));
			fprintf(stderr, "%s: peer add: cannot claim a tunnel address in %s: %s\n", log_prog(), c,
				ret == -ENOSPC ? "no address left" : store_strerror(s, ret));
			return ret;
		}
		client->tunnel_ips[client->n_tunnel_ips++] = got.addr;
	}
	return 0;
}

static void release_client_addresses(struct store *s, const struct node *client)
{
	for (size_t i = 0; i < client->n_tunnel_ips; i++) {
		struct ip_prefix p = { .addr = client->tunnel_ips[i], .cidr = (uint8_t)ip_addr_bits(&client->tunnel_ips[i]) };

		cidr_release(s, &p, client->name);
	}
}

/* Where the QR code goes: the terminal the user looks at, never into a redirected config. */
static FILE *qr_stream(void)
{
	if (isatty(STDOUT_FILENO))
		return stdout;
	if (isatty(STDERR_FILENO))
		return stderr;
	return NULL;
}

/* The nodes a client's config lists: the store's records as the nodes themselves judge them
 * (only what the allocation registry gives each node, inside the pools or @gateways). */
static int client_mesh(struct store *s, const struct cluster_pools *pools, const struct node *client,
		       const struct ip_prefix *gateways, size_t n_gateways, struct node **nodes, size_t *n_nodes)
{
	struct ip_prefix cluster[2], tunnel[2];
	size_t n_cluster, n_tunnel, n_kvs = 0, n_claims = 0, skipped = 0;
	struct store_kv *kvs = NULL, *claims = NULL;
	struct mesh_policy pol = { .self = client, .cluster_cidrs = cluster, .tunnel_cidrs = tunnel,
				   .gateway_ranges = gateways, .n_gateway_ranges = n_gateways };
	int ret = store_list(s, STORE_NODES_PREFIX, &kvs, &n_kvs);

	if (!ret)
		ret = store_list(s, STORE_ALLOC_PREFIX, &claims, &n_claims);
	if (ret) {
		fprintf(stderr, "%s: store: cannot list nodes: %s\n", log_prog(), store_strerror(s, ret));
		goto out;
	}
	cluster_pools_ranges(pools, cluster, &n_cluster, tunnel, &n_tunnel);
	pol.n_cluster_cidrs = n_cluster;
	pol.n_tunnel_cidrs = n_tunnel;
	pol.claims = claims;
	pol.n_claims = n_claims;
	ret = mesh_build(kvs, n_kvs, &pol, nodes, n_nodes, &skipped, NULL);
out:
	store_kvs_free(kvs, n_kvs);
	store_kvs_free(claims, n_claims);
	return ret;
}

/* The config on stdout (with genkey's warning when that is a file others may read), then
 * the QR code on the terminal. */
static int client_print(const char *verb, const char *name, const char *conf, bool qr)
{
	FILE *qr_out;
	int ret;

	warn_if_stdout_world_accessible();
	if (fputs(conf, stdout) == EOF || fflush(stdout) == EOF) {
		ret = -errno;
		/* A new client's key was only in that output: the record it left is useless. */
		if (!strcmp(verb, "add"))
			fprintf(stderr, "%s: peer add: cannot write the client config to stdout: %s (the client '%s' is "
				"in the store: `%s peer remove %s' takes it out)\n", log_prog(), strerror(-ret), name,
				log_prog(), name);
		else
			fprintf(stderr, "%s: peer %s: cannot write the client config to stdout: %s\n", log_prog(), verb,
				strerror(-ret));
		return ret;
	}
	qr_out = qr ? qr_stream() : NULL;
	if (qr_out) {
		fputc('\n', qr_out);
		ret = qr_print_utf8(qr_out, conf);
		if (ret)
			fprintf(stderr, "%s: peer %s: cannot draw the QR code: %s\n", log_prog(), verb, strerror(-ret));
	}
	return 0;
}

static int peer_add(const char *name, const struct mesh_store_args *sa, const struct ip_prefix *tunnel_cidr,
		    const char *dns, bool qr, const struct ip_prefix *gateways, size_t n_gateways)
{
	struct store *s = NULL;
	size_t n_nodes = 0;
	struct node client = { 0 }, *nodes = NULL;
	struct cluster_pools pools;
	uint8_t priv[WG_KEY_LEN];
	char key[STORE_KEY_MAX], *record = NULL, *conf = NULL, *existing = NULL;
	int ret;

	if (mesh_store_open(sa, &s))
		return -EIO;
	snprintf(key, sizeof(key), STORE_NODES_PREFIX "%s", name);
	ret = store_get(s, key, &existing, NULL);
	if (!ret) {
		fprintf(stderr, "%s: peer add: a node or peer named '%s' already exists in the store\n", log_prog(), name);
		ret = -EEXIST;
		goto out;
	}
	if (ret != -ENOENT) {
		fprintf(stderr, "%s: peer add: store %s %s: %s\n", log_prog(), sa->backend, sa->location,
			store_strerror(s, ret));
		goto out;
	}
	ret = tunnel_pools(s, sa, tunnel_cidr, &pools);
	if (ret)
		goto out;
	key_generate_private(priv);
	snprintf(client.name, sizeof(client.name), "%s", name);
	key_public_from_private(client.public_key, priv);
	ret = client_mesh(s, &pools, &client, gateways, n_gateways, &nodes, &n_nodes);
	if (ret)
		goto out;
	ret = claim_client_addresses(s, &pools, &client);
	if (ret) {
		release_client_addresses(s, &client);
		goto out;
	}
	client.heartbeat = (int64_t)time(NULL);
	snprintf(client.labels, sizeof(client.labels), "kind=client");
	ret = client_config(&conf, priv, &client, dns, nodes, n_nodes);
	if (ret == -ENOENT) {
		fprintf(stderr, "%s: peer add: no node with an endpoint in the store to connect to\n", log_prog());
		release_client_addresses(s, &client);
		goto out;
	}
	if (!ret)
		ret = node_encode(&client, &record);
	if (!ret)
		ret = store_cas(s, key, NULL, record);
	if (ret) {
		fprintf(stderr, "%s: peer add: cannot write '%s' to the store: %s\n", log_prog(), name,
			ret == -ECANCELED ? "it appeared meanwhile" : store_strerror(s, ret));
		release_client_addresses(s, &client);
		goto out;
	}
	ret = client_print("add", name, conf, qr);
out:
	sodium_memzero(priv, sizeof(priv));
	if (conf)
		sodium_memzero(conf, strlen(conf));
	free(conf);
	free(record);
	free(existing);
	node_clear(&client);
	mesh_free(nodes, n_nodes);
	store_close(s);
	return ret;
}

/* The DNS line of @c as one value ("10.0.0.1, example.com"), or NULL when it has none. */
static char *config_dns_text(const struct config *c)
{
	char *text = NULL;
	size_t size = 0;
	const char *sep = "";
	FILE *f;

	if (!c->iface.n_dns && !c->iface.dns_search.n)
		return NULL;
	f = open_memstream(&text, &size);
	if (!f)
		return NULL;
	for (size_t i = 0; i < c->iface.n_dns; i++) {
		char a[IP_ADDR_STRLEN];

		ip_addr_format(&c->iface.dns[i], a, sizeof(a));
		fprintf(f, "%s%s", sep, a);
		sep = ", ";
	}
	for (size_t i = 0; i < c->iface.dns_search.n; i++) {
		fprintf(f, "%s%s", sep, c->iface.dns_search.v[i]);
		sep = ", ";
	}
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

/* The client's own private key, from the config it was given (@from): the store holds only
 * its public key, so the key it runs with comes from the client's side and must match. */
static int client_key_from(uint8_t priv[WG_KEY_LEN], char **dns, const char *from, const struct node *client)
{
	struct config *c = NULL;
	char err[512] = "", want[WG_KEY_LEN_BASE64], got[WG_KEY_LEN_BASE64];
	uint8_t pub[WG_KEY_LEN];
	int ret = config_parse_file(&c, from, err, sizeof(err));

	if (!ret)
		ret = config_load_secrets(c, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "%s: peer config: --from %s\n", log_prog(), err);
		goto out;
	}
	if (!c->iface.has_private_key) {
		fprintf(stderr, "%s: peer config: --from %s: no PrivateKey in [Interface] (give the config that "
			"`peer add %s' printed)\n", log_prog(), from, client->name);
		ret = -EINVAL;
		goto out;
	}
	key_public_from_private(pub, c->iface.private_key);
	if (!key_equal(pub, client->public_key)) {
		key_to_base64(got, pub);
		key_to_base64(want, client->public_key);
		fprintf(stderr, "%s: peer config: --from %s: its PrivateKey is not %s's (public key %s, the store has "
			"%s)\n", log_prog(), from, client->name, got, want);
		ret = -EINVAL;
		goto out;
	}
	memcpy(priv, c->iface.private_key, WG_KEY_LEN);
	if (dns && !*dns)
		*dns = config_dns_text(c);
out:
	config_free(c);
	return ret;
}

/* The store's record of peer @name into *@text (its key into @key); a failure said as
 * "peer CMD: 'NAME': " and @missing when there is no such record, or the store's cause. */
static int peer_record_get(struct store *s, const char *cmd, const char *name, const char *missing,
			   char key[STORE_KEY_MAX], char **text, size_t *len)
{
	int ret;

	snprintf(key, STORE_KEY_MAX, STORE_NODES_PREFIX "%s", name);
	ret = store_get(s, key, text, len);
	if (ret)
		fprintf(stderr, "%s: peer %s: '%s': %s\n", log_prog(), cmd, name,
			ret == -ENOENT ? missing : store_strerror(s, ret));
	return ret;
}

/* peer config NAME --from OLD.conf: the client's config again, with the nodes the store has
 * now, its own key and addresses kept, so a client made before a node joined reaches it. */
static int peer_config(const char *name, const struct mesh_store_args *sa, const char *from, const char *dns,
		       bool qr, const struct ip_prefix *gateways, size_t n_gateways)
{
	struct store *s = NULL;
	struct node client = { 0 }, *nodes = NULL;
	struct cluster_pools pools;
	size_t n_nodes = 0, len = 0;
	uint8_t priv[WG_KEY_LEN];
	char key[STORE_KEY_MAX], *text = NULL, *conf = NULL, *old_dns = NULL, err[256] = "";
	int ret;

	if (mesh_store_open(sa, &s))
		return -EIO;
	ret = peer_record_get(s, "config", name, "no such peer in the store (`peer add' makes one)", key, &text,
			      &len);
	if (ret)
		goto out;
	ret = node_decode(&client, text, len, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "%s: peer config: store record %s: %s\n", log_prog(), key, err);
		goto out;
	}
	if (strcmp(client.labels, "kind=client")) {
		fprintf(stderr, "%s: peer config: '%s' is a node, not a client made by `peer add'\n", log_prog(), name);
		ret = -EPERM;
		goto out;
	}
	ret = client_key_from(priv, dns ? NULL : &old_dns, from, &client);
	if (ret)
		goto out;
	ret = tunnel_pools(s, sa, NULL, &pools);
	if (!ret)
		ret = client_mesh(s, &pools, &client, gateways, n_gateways, &nodes, &n_nodes);
	if (!ret)
		ret = client_config(&conf, priv, &client, dns ? dns : old_dns, nodes, n_nodes);
	if (ret == -ENOENT)
		fprintf(stderr, "%s: peer config: no node with an endpoint in the store to connect to\n", log_prog());
	if (!ret)
		ret = client_print("config", name, conf, qr);
out:
	sodium_memzero(priv, sizeof(priv));
	if (conf)
		sodium_memzero(conf, strlen(conf));
	free(conf);
	free(old_dns);
	free(text);
	node_clear(&client);
	mesh_free(nodes, n_nodes);
	store_close(s);
	return ret;
}

/* Only clients: a node's record comes back with its next heartbeat, and taking it out is
 * `podwired --cleanup` on that node. */
static int peer_remove(const char *name, const struct mesh_store_args *sa)
{
	struct store *s = NULL;
	struct store_kv *claims = NULL;
	struct node n = { 0 };
	size_t n_claims = 0, released = 0;
	char key[STORE_KEY_MAX], *text = NULL, err[256] = "";
	size_t len = 0;
	int ret;

	if (mesh_store_open(sa, &s))
		return -EIO;
	ret = peer_record_get(s, "remove", name, "no such peer in the store", key, &text, &len);
	if (ret)
		goto out;
	if (!node_decode(&n, text, len, err, sizeof(err)) && strcmp(n.labels, "kind=client")) {
		fprintf(stderr, "%s: peer remove: '%s' is a node, not a client made by `peer add': stop it with "
			"`podwired --cleanup' on that node\n", log_prog(), name);
		ret = -EPERM;
		goto out;
	}
	/* Compare-and-delete: a record rewritten meanwhile is not removed blindly. */
	ret = store_cas(s, key, text, NULL);
	if (ret) {
		fprintf(stderr, "%s: peer remove: cannot delete '%s': %s\n", log_prog(), name,
			ret == -ECANCELED ? "it changed meanwhile, try again" : store_strerror(s, ret));
		goto out;
	}
	ret = store_list(s, STORE_ALLOC_PREFIX, &claims, &n_claims);
	for (size_t i = 0; !ret && i < n_claims; i++)
		if (!strcmp(claims[i].value, name) && !store_cas(s, claims[i].key, name, NULL))
			released++;
	if (ret)
		fprintf(stderr, "%s: peer remove: '%s' removed, but its addresses were not released: %s\n", log_prog(),
			name, store_strerror(s, ret));
	else
		printf("peer %s removed (%zu address%s released)\n", name, released, released == 1 ? "" : "es");
out:
	node_clear(&n);
	free(text);
	store_kvs_free(claims, n_claims);
	store_close(s);
	return ret;
}

int peer_main(int argc, char *argv[])
{
	struct mesh_store_args sa;
	struct ip_prefix tunnel_cidr;
	const char *name = NULL, *dns = NULL, *from = NULL, *verb;
	bool qr = true, has_tunnel_cidr = false, add, config;
	struct ip_prefix gateways[CLUSTER_GATEWAY_RANGES_MAX];
	size_t n_gateways = 0;

	mesh_store_args_default(&sa);
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))) {
		usage(stdout, log_prog());
		return 0;
	}
	if (argc < 3 || (strcmp(argv[1], "add") && strcmp(argv[1], "remove") && strcmp(argv[1], "config"))) {
		usage(stderr, log_prog());
		return 1;
	}
	verb = argv[1];
	add = !strcmp(verb, "add");
	config = !strcmp(verb, "config");
	for (int i = 2; i < argc; i++) {
		int r = mesh_store_arg(&sa, argc, argv, &i);

		if (r < 0)
			return 1;
		if (r)
			continue;
		if (add && !strcmp(argv[i], "--tunnel-cidr") && i + 1 < argc) {
			if (ip_prefix_parse(&tunnel_cidr, argv[++i]) || !strchr(argv[i], '/')) {
				fprintf(stderr, "%s: --tunnel-cidr: '%s' is not a CIDR prefix\n", log_prog(), argv[i]);
				return 1;
			}
			ip_prefix_mask(&tunnel_cidr);
			has_tunnel_cidr = true;
		} else if (config && !strcmp(argv[i], "--from") && i + 1 < argc) {
			from = argv[++i];
		} else if ((add || config) && !strcmp(argv[i], "--dns") && i + 1 < argc) {
			struct ip_addr a;

			dns = argv[++i];
			if (ip_addr_parse(&a, dns)) {
				fprintf(stderr, "%s: --dns: '%s' is not an IP address\n", log_prog(), dns);
				return 1;
			}
		} else if ((add || config) && !strcmp(argv[i], "--gateway-ranges") && i + 1 < argc) {
			char err[128] = "";

			if (cluster_gateway_ranges_parse(argv[++i], gateways, &n_gateways, err, sizeof(err))) {
				fprintf(stderr, "%s: --gateway-ranges: %s\n", log_prog(), err);
				return 1;
			}
		} else if ((add || config) && !strcmp(argv[i], "--no-qr")) {
			qr = false;
		} else if (argv[i][0] != '-' && !name) {
			name = argv[i];
		} else {
			usage(stderr, log_prog());
			return 1;
		}
	}
	if (!name) {
		usage(stderr, log_prog());
		return 1;
	}
	if (!node_name_valid(name)) {
		fprintf(stderr, "%s: peer %s: '%s' is not a valid name (letters, digits, '.', '_', '-'; at most 63)\n",
			log_prog(), verb, name);
		return 1;
	}
	if (config && !from) {
		fprintf(stderr, "%s: peer config %s: --from OLD.conf is missing: the store has only the client's public "
			"key, its private key comes from the config it was given\n", log_prog(), name);
		return 1;
	}
	if (config)
		return peer_config(name, &sa, from, dns, qr, gateways, n_gateways) ? 1 : 0;
	if (!add)
		return peer_remove(name, &sa) ? 1 : 0;
	return peer_add(name, &sa, has_tunnel_cidr ? &tunnel_cidr : NULL, dns, qr, gateways, n_gateways) ? 1 : 0;
}
