/* The per-peer metrics snapshot after a reconcile: one entry per node in the nodes' order,
 * counters from the device's peer where it has one, and what a scrape then renders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/metrics.h"
#include "datapath/wgdevice.h"
#include "mesh/mesh.h"

static void test_peers_build(void **state)
{
	struct node nodes[3] = { 0 };
	struct wgdevice *dev = calloc(1, sizeof(*dev));
	struct mesh_index idx;
	struct metrics_peer *mp;
	struct wgpeer *p;
	struct metrics m;
	char b64[WG_KEY_LEN_BASE64], *text;

	for (int i = 0; i < 3; i++) {
		snprintf(nodes[i].name, sizeof(nodes[i].name), "node-%c", 'c' - i);
		memset(nodes[i].public_key, 0x30 - i * 8, WG_KEY_LEN);
	}
	/* The device has n0 and n2 (n1 was just added by this pass) and a peer no node claims. */
	p = wgdevice_add_peer(dev);
	memcpy(p->public_key, nodes[2].public_key, WG_KEY_LEN);
	p->rx_bytes = 200, p->tx_bytes = 201, p->last_handshake_time.tv_sec = 1700000002;
	p = wgdevice_add_peer(dev);
	memset(p->public_key, 0x77, WG_KEY_LEN);
	p->rx_bytes = 999;
	p = wgdevice_add_peer(dev);
	memcpy(p->public_key, nodes[0].public_key, WG_KEY_LEN);
	p->rx_bytes = 100, p->tx_bytes = 101, p->last_handshake_time.tv_sec = 1700000000;

	assert_int_equal(mesh_index_build(&idx, nodes, 3), 0);
	mp = metrics_peers_build(dev, nodes, &idx);
	assert_non_null(mp);
	for (int i = 0; i < 3; i++) {
		key_to_base64(b64, nodes[i].public_key);
		assert_string_equal(mp[i].name, nodes[i].name);
		assert_string_equal(mp[i].public_key, b64);
	}
	assert_int_equal(mp[0].rx_bytes, 100);
	assert_int_equal(mp[0].tx_bytes, 101);
	assert_int_equal(mp[0].last_handshake, 1700000000);
	assert_int_equal(mp[1].rx_bytes, 0);
	assert_int_equal(mp[1].last_handshake, 0);
	assert_int_equal(mp[2].rx_bytes, 200);
	assert_int_equal(mp[2].last_handshake, 1700000002);

	metrics_init(&m, "wg-pods", "userspace");
	metrics_set_peers(&m, mp, 3);
	text = metrics_render(&m);
	assert_non_null(text);
	assert_non_null(strstr(text, "node=\"node-c\""));
	assert_non_null(strstr(text, "node=\"node-a\""));
	assert_null(strstr(text, " 999\n")); /* the stranger is not a node: not reported */
	free(text);
	free(m.peers);
	pthread_mutex_destroy(&m.lock);
	mesh_index_free(&idx);
	wgdevice_free(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peers_build),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
