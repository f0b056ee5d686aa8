/* node_fixture.h — a node record for the mesh and reconcile tests, made from a number: the
 * private key is derived from @i (so the public key is the same in every run and differs
 * between numbers), the tunnel IP is 10.99.0.@i, and the pod CIDR and endpoint are given
 * (NULL: none). Header only, like tests/unit/world.h; include it after cmocka.h. */
#ifndef PODWIRE_TESTS_UNIT_NODE_FIXTURE_H
#define PODWIRE_TESTS_UNIT_NODE_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/key.h"
#include "mesh/node.h"

static inline void node_fixture_make(struct node *n, const char *name, int i, const char *pod, const char *ep)
{
	uint8_t priv[WG_KEY_LEN] = { 0 };
	char ip[32];

	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", name);
	priv[2] = (uint8_t)i;
	priv[1] = 7;
	key_clamp(priv);
	assert_int_equal(key_public_from_private(n->public_key, priv), 0);
	snprintf(ip, sizeof(ip), "10.99.0.%d", i);
	assert_int_equal(ip_addr_parse(&n->tunnel_ips[0], ip), 0);
	n->n_tunnel_ips = 1;
	if (pod) {
		assert_int_equal(ip_prefix_parse(&n->pod_cidrs[0], pod), 0);
		n->n_pod_cidrs = 1;
	}
	if (ep)
		snprintf(n->endpoint, sizeof(n->endpoint), "%s", ep);
}

#endif
