/* rollback_plan(): the set that undoes a failed set touches exactly what the failed set
 * touched — restored fields and peers, removed newcomers, re-added casualties — and leaves
 * the other peers (and their sessions) alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "datapath/rollback.h"

static struct wgpeer *peer(struct wgdevice *dev, uint8_t id, const char *ip)
{
	struct wgpeer *p = wgdevice_add_peer(dev);
	struct ip_prefix pfx;

	memset(p->public_key, id, WG_KEY_LEN);
	p->flags = WGPEER_HAS_PUBLIC_KEY;
	if (ip) {
		assert_int_equal(ip_prefix_parse(&pfx, ip), 0);
		wgdevice_add_allowedip(p, &pfx);
	}
	return p;
}

static const struct wgpeer *find(const struct wgdevice *dev, uint8_t id)
{
	const struct wgpeer *p;

	for (p = dev->first_peer; p; p = p->next_peer)
		if (p->public_key[0] == id)
			return p;
	return NULL;
}

static size_t count(const struct wgdevice *dev)
{
	size_t n = 0;

	for (const struct wgpeer *p = dev->first_peer; p; p = p->next_peer)
		n++;
	return n;
}

static void test_incremental(void **state)
{
	struct wgdevice *before = calloc(1, sizeof(*before)), *tried = calloc(1, sizeof(*tried)), *plan;
	const struct wgpeer *p;
	struct wgpeer *b1;

	(void)state;
	before->fwmark = 7;
	before->listen_port = 1000;
	b1 = peer(before, 1, "10.1.0.0/16");
	b1->persistent_keepalive_interval = 25;
	peer(before, 2, "10.2.0.0/16");
	peer(before, 3, "10.3.0.0/16");
	tried->flags = WGDEVICE_HAS_FWMARK;
	tried->fwmark = 9;
	peer(tried, 1, "10.9.0.0/16")->flags |= WGPEER_REPLACE_ALLOWEDIPS;	/* changed */
	peer(tried, 2, NULL)->flags |= WGPEER_REMOVE_ME;			/* removed */
	peer(tried, 4, "10.4.0.0/16");						/* added */
	peer(tried, 5, NULL)->flags |= WGPEER_UPDATE_ONLY;			/* never existed */

	assert_int_equal(rollback_plan(&plan, before, tried), 0);
	assert_true(plan->flags & WGDEVICE_HAS_FWMARK);
	assert_int_equal(plan->fwmark, 7);
	assert_false(plan->flags & (WGDEVICE_HAS_LISTEN_PORT | WGDEVICE_HAS_PRIVATE_KEY | WGDEVICE_REPLACE_PEERS));
	assert_int_equal(count(plan), 3);
	p = find(plan, 1);
	assert_non_null(p);
	assert_true(p->flags & WGPEER_REPLACE_ALLOWEDIPS);
	assert_int_equal(p->persistent_keepalive_interval, 25);
	assert_int_equal(p->first_allowedip->prefix.addr.bytes[1], 1);
	assert_null(p->first_allowedip->next_allowedip);
	p = find(plan, 2);
	assert_non_null(p);
	assert_false(p->flags & WGPEER_REMOVE_ME);
	assert_non_null(p->first_allowedip);
	p = find(plan, 4);
	assert_non_null(p);
	assert_true(p->flags & WGPEER_REMOVE_ME);
	assert_null(find(plan, 3));	/* untouched: its session must survive */
	assert_null(find(plan, 5));
	wgdevice_free(plan);
	wgdevice_free(before);
	wgdevice_free(tried);
}

static void test_replace_peers(void **state)
{
	struct wgdevice *before = calloc(1, sizeof(*before)), *tried = calloc(1, sizeof(*tried)), *plan;

	(void)state;
	memset(before->private_key, 0x42, WG_KEY_LEN);
	peer(before, 1, "10.1.0.0/16");
	peer(before, 2, "10.2.0.0/16");
	tried->flags = WGDEVICE_REPLACE_PEERS | WGDEVICE_HAS_PRIVATE_KEY;
	peer(tried, 2, "10.22.0.0/16");
	peer(tried, 3, NULL);
	assert_int_equal(rollback_plan(&plan, before, tried), 0);
	assert_true(plan->flags & WGDEVICE_HAS_PRIVATE_KEY);
	assert_memory_equal(plan->private_key, before->private_key, WG_KEY_LEN);
	assert_false(plan->flags & WGDEVICE_REPLACE_PEERS);
	assert_int_equal(count(plan), 3);
	assert_non_null(find(plan, 1));	/* dropped by replace-peers: back */
	assert_false(find(plan, 1)->flags & WGPEER_REMOVE_ME);
	assert_true(find(plan, 3)->flags & WGPEER_REMOVE_ME);
	wgdevice_free(plan);
	wgdevice_free(before);
	wgdevice_free(tried);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_incremental),
		cmocka_unit_test(test_replace_peers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
