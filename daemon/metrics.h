/* metrics.h — Prometheus text exposition of the daemon's state, served by
 * libmicrohttpd on its own thread (default 127.0.0.1:9586, like wireguard_exporter's port
 * neighbourhood). The daemon fills a snapshot after each reconcile; scrapes read it under
 * a lock, never touch the store, and refresh only the per-peer counters from the device
 * (the refresh callback), so byte counts and handshake ages are live. The same server
 * answers the kubelet's probes: /healthz (the daemon's loop runs) and /readyz (the node is
 * up), 200 or 503 with the reason. */
#ifndef PODWIRE_DAEMON_METRICS_H
#define PODWIRE_DAEMON_METRICS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh/node.h"

struct metrics_peer {
	char name[NODE_NAME_MAX];
	char public_key[WG_KEY_LEN_BASE64];
	uint64_t rx_bytes, tx_bytes;
	int64_t last_handshake; /* unix seconds, 0: never */
};

struct metrics {
	pthread_mutex_t lock;
	char ifname[16];
	char datapath[16];
	uint64_t reconcile_total, reconcile_errors, store_errors, records_skipped;
	double reconcile_seconds_last, reconcile_seconds_sum;
	int store_up;
	/* Health (/healthz, /readyz): ready once the node is up (addresses, interface, CNI
	 * config); not_ready says why not. last_tick (monotonic seconds) is when the daemon's
	 * loop last ran: alive while it is within live_seconds. */
	int ready;
	char not_ready[256];
	double last_tick;
	unsigned int live_seconds;
	struct metrics_peer *peers;
	size_t n_peers;
	struct MHD_Daemon *httpd;
	/* Called (without the lock) before each scrape so that counters are live. */
	void (*refresh)(struct metrics *m, void *ctx);
	void *refresh_ctx;
};

/* Start serving on "ADDR:PORT" (IPv4 or [IPv6]). */
int metrics_start(struct metrics *m, const char *listen);
void metrics_stop(struct metrics *m);
void metrics_init(struct metrics *m, const char *ifname, const char *datapath);
/* Replace the per-peer snapshot (takes ownership of @peers). */
void metrics_set_peers(struct metrics *m, struct metrics_peer *peers, size_t n);
/* The per-peer snapshot after a reconcile pass: one entry per node of @idx (built from
 * @nodes), in @nodes' order, with the counters of @dev's peer for that node where the
 * device has it (zero for a peer just added). NULL when out of memory. */
struct wgdevice;
struct mesh_index;
struct metrics_peer *metrics_peers_build(const struct wgdevice *dev, const struct node *nodes,
					 const struct mesh_index *idx);
/* Update the counters of the peers in the snapshot from @dev (by public key). */
void metrics_update_counters(struct metrics *m, const struct wgdevice *dev);
/* Render into a malloc'd string (also what the HTTP handler serves). */
char *metrics_render(struct metrics *m);

#endif
