/* observed.c — this node's observations of the others' endpoints (see observed.h). */
#include "mesh/observed.h"

#include <stdlib.h>
#include <string.h>

#include "lib/ipaddr.h"

bool observed_update(struct node *self, const struct wgdevice *dev, const struct mesh_index *idx, int64_t now)
{
	struct node fresh = { 0 };
	const struct node *node;
	const struct wgpeer *p;
	bool changed;

	for_each_wgpeer(dev, p) {
		char ep[ENDPOINT_STRLEN];

		if (!p->endpoint.addr.sa_family || !p->last_handshake_time.tv_sec ||
		    now - p->last_handshake_time.tv_sec > OBSERVED_FRESH_SECONDS)
			continue;
		endpoint_format(&p->endpoint.addr, ep, sizeof(ep));
		node = mesh_index_find(idx, p->public_key);
		if (node && strcmp(node->endpoint, ep))
			node_set_observed(&fresh, p->public_key, ep);
	}
	changed = fresh.n_observed != self->n_observed;
	/* Field by field: the endpoint buffers hold stale bytes after their NUL. */
	for (size_t i = 0; i < fresh.n_observed && !changed; i++)
		changed = memcmp(fresh.observed[i].public_key, self->observed[i].public_key, WG_KEY_LEN) ||
			  strcmp(fresh.observed[i].endpoint, self->observed[i].endpoint);
	if (changed) {
		free(self->observed);
		self->observed = fresh.observed;
		self->n_observed = fresh.n_observed;
	} else {
		free(fresh.observed);
	}
	return changed;
}
