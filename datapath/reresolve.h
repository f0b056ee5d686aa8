/* reresolve.h — follow peers whose endpoint is a DNS name that changes address.
 *
 * WireGuard resolves an endpoint once, when it is set. wireguard-tools' contrib
 * reresolve-dns.sh sets the endpoint again for every peer that has had no handshake for
 * 135 s; this module does the same without touching peers whose address did not change:
 * the name is resolved and only a different address is written, with UPDATE_ONLY so that a
 * peer removed meanwhile is not re-created and keys, allowed IPs and sessions stay.
 * `podwirectl reresolve` and the daemon share it. The clock and the resolver are passed in. */
#ifndef PODWIRE_DATAPATH_RERESOLVE_H
#define PODWIRE_DATAPATH_RERESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <time.h>

#include "datapath/device.h"
#include "lib/config.h"
#include "lib/key.h"

/* reresolve-dns.sh's threshold: while traffic flows a handshake happens every
 * REKEY_AFTER_TIME = 120 s (WireGuard paper §6.2), so 135 s without one means trouble. */
#define RERESOLVE_STALE_SECONDS 135
/* Where `podwirectl up` records the endpoint names of an interface (IFACE.endpoints). */
#define RERESOLVE_STATE_DIR "/run/podwire"

struct reresolve_peer {
	uint8_t public_key[WG_KEY_LEN];
	char *endpoint;		/* as written in the config: "host:port" or "[v6]:port" */
};

struct reresolve_list {
	struct reresolve_peer *v;
	size_t n;
};

/* Same contract as endpoint_resolve() in lib/ipaddr.h, which is the one used in production. */
typedef int (*reresolve_resolver)(const char *endpoint, struct sockaddr_storage *out, socklen_t *out_len,
				  char *err, size_t err_len);

/* The peers of @conf that have an Endpoint. */
int reresolve_list_from_config(struct reresolve_list *list, const struct config *conf);
void reresolve_list_free(struct reresolve_list *list);

/* The state file DIR/IFACE.endpoints: one "PUBLIC_KEY ENDPOINT" line per peer. */
int reresolve_state_write(const char *dir, const char *ifname, const struct reresolve_list *list);
/* -ENOENT when the interface has no state file. */
int reresolve_state_read(const char *dir, const char *ifname, struct reresolve_list *list);
int reresolve_state_remove(const char *dir, const char *ifname);

/* Has @peer gone @stale seconds (or forever) without a handshake at time @now? */
bool reresolve_peer_is_stale(const struct wgpeer *peer, time_t now, unsigned int stale);

/* Which endpoints to rewrite: for each listed peer present in @dev and stale, resolve its
 * name; when the address differs from the peer's endpoint, add an UPDATE_ONLY peer carrying
 * only the new endpoint to @changes (whose name is set from @dev). A name that does not
 * resolve is skipped and reported in @err (the others still go ahead). */
int reresolve_plan(const struct wgdevice *dev, const struct reresolve_list *list, time_t now, unsigned int stale,
		   reresolve_resolver resolve, struct wgdevice *changes, char *err, size_t err_len);

/* One pass over interface @ifname: device_get, reresolve_plan, device_set of the changes.
 * *updated (optional) counts rewritten endpoints. */
int reresolve_once(const char *ifname, const struct reresolve_list *list, time_t now, unsigned int stale,
		   reresolve_resolver resolve, unsigned int *updated, char *err, size_t err_len);

#endif
