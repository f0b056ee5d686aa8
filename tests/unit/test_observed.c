/* Finding nodes by public key (checked against a linear search) and the observed endpoints a
 * node publishes: only live peers, only where the address differs from the advertised one,
 * and "changed" only when the list really changed. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/observed.h"

#define NOW 1700000000

static void make_nodes(struct node *nodes, size_t n)
{
	memset(nodes, 0, n * sizeof(*nodes));
	for (size_t i = 0; i < n; i++) {
		snprintf(nodes[i].name, sizeof(nodes[i].name), "n%zu", i);
		/* Keys in no particular order: a hash of the index. */
		for (size_t b = 0; b < WG_KEY_LEN; b++)
			nodes[i].public_key[b] = (uint8_t)((i * 2654435761u) >> (b % 24)) ^ (uint8_t)b;
		nodes[i].public_key[0] = (uint8_t)(i * 37);
		nodes[i].public_key[1] = (uint8_t)(i >> 3);
		snprintf(nodes[i].endpoint, sizeof(nodes[i].endpoint), "192.0.2.%zu:51820", i + 1);
	}
}

static void test_index(void **state)
{
	struct node nodes[200];
	struct mesh_index idx;
	uint8_t absent[WG_KEY_LEN];

	for (size_t n = 0; n <= 200; n += 25) {
		make_nodes(nodes, n);
		assert_int_equal(mesh_index_build(&idx, nodes, n), 0);
		for (size_t i = 0; i < n; i++) {
			const struct node *want = NULL;

			for (size_t j = 0; j < n && !want; j++) /* the reference: a linear search */
				if (!memcmp(nodes[j].public_key, nodes[i].public_key, WG_KEY_LEN))
					want = &nodes[j];
			assert_ptr_equal(mesh_index_find(&idx, nodes[i].public_key), want);
		}
		memset(absent, 0xff, sizeof(absent));
		assert_null(mesh_index_find(&idx, absent));
		mesh_index_free(&idx);
	}
}

static struct wgpeer *peer_at(struct wgdevice *dev, const struct node *n, const char *ip, uint16_t port, int64_t hs)
{
	struct wgpeer *p = wgdevice_add_peer(dev);

	assert_non_null(p);
	memcpy(p->public_key, n->public_key, WG_KEY_LEN);
	if (ip) {
		p->endpoint.addr4.sin_family = AF_INET;
		p->endpoint.addr4.sin_port = htons(port);
		inet_pton(AF_INET, ip, &p->endpoint.addr4.sin_addr);
	}
	p->last_handshake_time.tv_sec = hs;
	return p;
}

static void test_observed(void **state)
{
	struct node nodes[5], self = { 0 }, stranger[1];
	struct wgdevice *dev = calloc(1, sizeof(*dev));
	struct mesh_index idx;

	make_nodes(nodes, 5);
	make_nodes(stranger, 1);
	stranger[0].public_key[2] ^= 0x55; /* a peer of the device that is no node */
	assert_int_equal(mesh_index_build(&idx, nodes, 5), 0);
	peer_at(dev, &nodes[0], "192.0.2.1", 51820, NOW - 10);	 /* where it says: nothing to add */
	peer_at(dev, &nodes[1], "198.51.100.7", 40001, NOW - 10); /* behind NAT: observed */
	peer_at(dev, &nodes[2], "198.51.100.8", 40002, NOW - OBSERVED_FRESH_SECONDS - 1); /* stale */
	peer_at(dev, &nodes[3], NULL, 0, NOW - 10);		 /* no endpoint */
	peer_at(dev, &nodes[4], "198.51.100.9", 40004, 0);	 /* never a handshake */
	peer_at(dev, &stranger[0], "198.51.100.10", 40005, NOW - 10);

	assert_true(observed_update(&self, dev, &idx, NOW));
	assert_int_equal(self.n_observed, 1);
	assert_memory_equal(self.observed[0].public_key, nodes[1].public_key, WG_KEY_LEN);
	assert_string_equal(self.observed[0].endpoint, "198.51.100.7:40001");
	/* The same view again: no change, so no republish. */
	assert_false(observed_update(&self, dev, &idx, NOW + 1));
	/* The NAT mapping moves: changed. */
	dev->first_peer->next_peer->endpoint.addr4.sin_port = htons(40011);
	assert_true(observed_update(&self, dev, &idx, NOW + 2));
	assert_string_equal(self.observed[0].endpoint, "198.51.100.7:40011");
	/* The session dies: the observation goes. */
	assert_true(observed_update(&self, dev, &idx, NOW + OBSERVED_FRESH_SECONDS + 20));
	assert_int_equal(self.n_observed, 0);
	assert_false(observed_update(&self, dev, &idx, NOW + OBSERVED_FRESH_SECONDS + 21));

	node_clear(&self);
	mesh_index_free(&idx);
	wgdevice_free(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index),
		cmocka_unit_test(test_observed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
