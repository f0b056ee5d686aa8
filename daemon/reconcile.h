/* reconcile.h — turning the device's peers into the mesh's, one small change at a time.
 *
 * The plan is an incremental struct wgdevice for device_set(): new nodes are added,
 * vanished ones removed (WGPEER_REMOVE_ME, listed first so a rotated key's allowed IPs are
 * free when its new peer claims them), and a peer whose allowed IPs, keepalive or endpoint
 * differ gets exactly that update (WGPEER_UPDATE_ONLY). It never sets WGDEVICE_REPLACE_PEERS
 * and never touches a peer that is already right, so a resync (or a daemon restart) resets
 * no session: the WireGuard paper's handshake state lives in the peer, which survives.
 *
 * Endpoints: the device's endpoint follows the last authenticated packet (roaming, paper
 * §2.1), so a peer with a working session (a handshake within RECONCILE_LIVE_SECONDS) keeps
 * its endpoint whatever the store says. Otherwise the plan sets an endpoint when what the
 * peer's record advertises resolves to something other than what was last applied (a new
 * node, a DNS name that moved), or when the peer has none. An endpoint other nodes observed
 * (a hint: any node can publish one, mesh.h) is tried only for a peer without a working
 * session, in turn with the advertised one, each for RECONCILE_HINT_SECONDS. */
#ifndef PODWIRE_DAEMON_RECONCILE_H
#define PODWIRE_DAEMON_RECONCILE_H

#include <stddef.h>

#include "mesh/node.h"
#include "datapath/device.h"

/* WireGuard paper §6.1: no session outlives REJECT_AFTER_TIME without a new handshake. */
#define RECONCILE_LIVE_SECONDS 180
/* Two handshake attempts (REKEY_TIMEOUT, 5 s) before the other endpoint is tried. */
#define RECONCILE_HINT_SECONDS 10

struct reconcile_applied {
	uint8_t public_key[WG_KEY_LEN];
	wg_endpoint endpoint;
	int64_t since;				/* unix seconds it was applied */
};

/* What the daemon last applied per peer; starts empty. */
struct reconcile_state {
	struct reconcile_applied *v;
	size_t n;
};

struct reconcile_counts {
	size_t added, removed, updated, unchanged;
};

/* Resolve "host:port" (a literal or a DNS name) into @out; 0 or -errno. */
typedef int (*reconcile_resolve_fn)(const char *endpoint, wg_endpoint *out, void *ctx);

struct reconcile_input {
	const struct wgdevice *current;		/* the device as read now */
	const struct node *nodes;		/* desired peers (mesh_build) */
	size_t n_nodes;
	const char *const *endpoints;		/* per node: advertised endpoint text or NULL */
	const char *const *hints;		/* per node: observed endpoint or NULL; NULL: none */
	int64_t now;				/* unix seconds, as the device's handshake times */
	uint16_t persistent_keepalive;		/* this node's keepalive towards all peers */
	reconcile_resolve_fn resolve;
	void *resolve_ctx;
};

/* Build the update. *update is NULL when nothing differs. */
int reconcile_plan(const struct reconcile_input *in, const struct reconcile_state *st, struct wgdevice **update,
		   struct reconcile_counts *counts);
/* After device_set(@update) succeeded at @now: remember what was applied. */
int reconcile_commit(struct reconcile_state *st, const struct wgdevice *update, int64_t now);
void reconcile_state_free(struct reconcile_state *st);

/* The allowed IPs of a node's peer: tunnel IPs as /32 and /128, then the pod CIDRs. */
size_t reconcile_allowed_ips(const struct node *n, struct ip_prefix *out, size_t max);

/* The default resolver: endpoint_resolve() from lib/ipaddr.h. */
int reconcile_resolve_default(const char *endpoint, wg_endpoint *out, void *ctx);

#endif
