/* peer add NAME: one-shot client onboarding, the angristan installer's job done
 * through the mesh store. A fresh key pair is made here, a tunnel address is claimed from
 * the tunnel CIDR with the store's compare-and-swap, and the client's record (public key
 * and address only) is written to the store, so every podwired adds it as a peer on its
 * next watch event. The client's wg0.conf, with every node as a [Peer], is printed, then
 * the same text as a QR code for the WireGuard phone apps. The private key exists only in
 * that output. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "mesh/mesh_store.h"
#include "cli/qr.h"
#include "cli/subcommands.h"
#include "mesh/cidr.h"
#include "mesh/mesh.h"
#include "lib/log.h"

/* Clients usually sit behind NAT: keep its mapping alive (the tutorial's value). */
#define CLIENT_KEEPALIVE 25

static void usage(const char *prog)
{
	fprintf(stderr,
		"Usage: %s peer add NAME [--tunnel-cidr CIDR] [--dns IP] [--no-qr]\n"
		"                         [--store file|etcd] [--store-dir DIR] [--etcd-endpoints URLS]\n",
		prog);
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
static int client_config(char **out, const uint8_t priv[WG_KEY_LEN], const struct ip_addr *addr, const char *dns,
			 const struct node *nodes, size_t n)
{
	char key[WG_KEY_LEN_BASE64], a[IP_ADDR_STRLEN], *peers = NULL;
	size_t peers_len = 0;
	int len, ret = client_peers(&peers, &peers_len, nodes, n);

	*out = NULL;
	if (ret) {
		free(peers);
		return ret;
	}
	ip_addr_format(addr, a, sizeof(a));
	key_to_base64(key, priv);
#define CLIENT_CONFIG(buf, size) \
	snprintf(buf, size, "[Interface]\nPrivateKey = %s\nAddress = %s/%u\n%s%s%s%s", key, a, ip_addr_bits(addr), \
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

static int peer_add(const char *name, const struct mesh_store_args *sa, const struct ip_prefix *tunnel_cidr,
		    const char *dns, bool qr)
{
	struct store *s = NULL;
	struct store_kv *kvs = NULL, *claims = NULL;
	size_t n_kvs = 0, n_claims = 0, n_nodes = 0, skipped = 0;
	struct node client = { 0 }, *nodes = NULL;
	uint8_t priv[WG_KEY_LEN];
	char key[STORE_KEY_MAX], *record = NULL, *conf = NULL, *existing = NULL;
	struct ip_prefix got;
	int ret;

	if (mesh_store_open(sa, &s))
		return -EIO;
	snprintf(key, sizeof(key), STORE_NODES_PREFIX "%s", name);
	if (!store_get(s, key, &existing, NULL)) {
		fprintf(stderr, "%s: peer add: a node or peer named '%s' already exists in the store\n", log_prog(), name);
		ret = -EEXIST;
		goto out;
	}
	ret = store_list(s, STORE_NODES_PREFIX, &kvs, &n_kvs);
	if (!ret)
		ret = store_list(s, STORE_ALLOC_PREFIX, &claims, &n_claims);
	if (ret) {
		fprintf(stderr, "%s: store: cannot list nodes: %s\n", log_prog(), strerror(-ret));
		goto out;
	}
	key_generate_private(priv);
	snprintf(client.name, sizeof(client.name), "%s", name);
	key_public_from_private(client.public_key, priv);
	{
		struct mesh_policy pol = { .self = &client, .claims = claims, .n_claims = n_claims };

		ret = mesh_build(kvs, n_kvs, &pol, &nodes, &n_nodes, &skipped, NULL);
		if (ret)
			goto out;
	}
	ret = cidr_allocate(s, tunnel_cidr, (uint8_t)ip_addr_bits(&tunnel_cidr->addr), 1, name, &got);
	if (ret) {
		fprintf(stderr, "%s: peer add: cannot claim a tunnel address in the tunnel CIDR: %s\n", log_prog(),
			ret == -ENOSPC ? "no address left" : strerror(-ret));
		goto out;
	}
	client.tunnel_ips[0] = got.addr;
	client.n_tunnel_ips = 1;
	client.heartbeat = (int64_t)time(NULL);
	snprintf(client.labels, sizeof(client.labels), "kind=client");
	ret = client_config(&conf, priv, &got.addr, dns, nodes, n_nodes);
	if (ret == -ENOENT) {
		fprintf(stderr, "%s: peer add: no node with an endpoint in the store to connect to\n", log_prog());
		cidr_release(s, &got, name);
		goto out;
	}
	if (!ret)
		ret = node_encode(&client, &record);
	if (!ret)
		ret = store_cas(s, key, NULL, record);
	if (ret) {
		fprintf(stderr, "%s: peer add: cannot write '%s' to the store: %s\n", log_prog(), name,
			ret == -ECANCELED ? "it appeared meanwhile" : strerror(-ret));
		cidr_release(s, &got, name);
		goto out;
	}
	fputs(conf, stdout);
	if (qr) {
		putchar('\n');
		ret = qr_print_utf8(stdout, conf);
		if (ret)
			fprintf(stderr, "%s: peer add: cannot draw the QR code: %s\n", log_prog(), strerror(-ret));
	}
out:
	sodium_memzero(priv, sizeof(priv));
	if (conf)
		sodium_memzero(conf, strlen(conf));
	free(conf);
	free(record);
	free(existing);
	mesh_free(nodes, n_nodes);
	store_kvs_free(kvs, n_kvs);
	store_kvs_free(claims, n_claims);
	store_close(s);
	return ret;
}

int peer_main(int argc, char *argv[])
{
	struct mesh_store_args sa;
	struct ip_prefix tunnel_cidr;
	const char *name = NULL, *dns = NULL;
	bool qr = true;

	mesh_store_args_default(&sa);
	ip_prefix_parse(&tunnel_cidr, "10.99.0.0/16");
	if (argc < 3 || strcmp(argv[1], "add")) {
		usage(log_prog());
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		int r = mesh_store_arg(&sa, argc, argv, &i);

		if (r < 0)
			return 1;
		if (r)
			continue;
		if (!strcmp(argv[i], "--tunnel-cidr") && i + 1 < argc) {
			if (ip_prefix_parse(&tunnel_cidr, argv[++i]) || !strchr(argv[i], '/')) {
				fprintf(stderr, "%s: --tunnel-cidr: '%s' is not a CIDR prefix\n", log_prog(), argv[i]);
				return 1;
			}
			ip_prefix_mask(&tunnel_cidr);
		} else if (!strcmp(argv[i], "--dns") && i + 1 < argc) {
			struct ip_addr a;

			dns = argv[++i];
			if (ip_addr_parse(&a, dns)) {
				fprintf(stderr, "%s: --dns: '%s' is not an IP address\n", log_prog(), dns);
				return 1;
			}
		} else if (!strcmp(argv[i], "--no-qr")) {
			qr = false;
		} else if (argv[i][0] != '-' && !name) {
			name = argv[i];
		} else {
			usage(log_prog());
			return 1;
		}
	}
	if (!name) {
		usage(log_prog());
		return 1;
	}
	if (!node_name_valid(name)) {
		fprintf(stderr, "%s: peer add: '%s' is not a valid name (letters, digits, '.', '_', '-'; at most 63)\n",
			log_prog(), name);
		return 1;
	}
	return peer_add(name, &sa, &tunnel_cidr, dns, qr) ? 1 : 0;
}
