/* observed.h — which endpoints this node publishes as "observed": where the authenticated
 * packets of each other node really come from, when that differs from what the node
 * advertises. A node behind NAT knows only its private address; the nodes it talks to see
 * its public one, publish it in their records, and everyone else reads it from the store
 * (mesh_endpoint_for()), so two nodes behind NAT find each other: the store acts as the
 * signalling server. */
#ifndef PODWIRE_MESH_OBSERVED_H
#define PODWIRE_MESH_OBSERVED_H

#include <stdbool.h>
#include <stdint.h>

#include "datapath/wgdevice.h"
#include "mesh/mesh.h"
#include "mesh/node.h"

/* WireGuard paper §6.1: a session older than REJECT_AFTER_TIME (180 s) is dead, so an
 * endpoint last confirmed before that is not worth publishing as "observed". */
#define OBSERVED_FRESH_SECONDS 180

/* Replace @self's observed endpoints with what @dev shows now (@now: unix seconds): the
 * endpoint of each peer with a handshake in the last OBSERVED_FRESH_SECONDS whose node (in
 * @idx) advertises another one. True when the list changed, so the record is republished. */
bool observed_update(struct node *self, const struct wgdevice *dev, const struct mesh_index *idx, int64_t now);

#endif
