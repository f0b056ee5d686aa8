/* `show` formats as wg(8) prints them: units, durations, handshake ages, peer order by
 * latest handshake, dump lines, showconf — with a pinned clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/show_format.h"
#include "lib/key.h"

static void test_bytes(void **state)
{
	char buf[64];
	static const struct {
		uint64_t b;
		const char *want;
	} cases[] = {
		{ 0, "0 B" }, { 1023, "1023 B" }, { 1024, "1.00 KiB" }, { 1536, "1.50 KiB" },
		{ 1048575, "1024.00 KiB" }, { 1048576, "1.00 MiB" }, { 5ULL << 30, "5.00 GiB" },
		{ 3ULL << 40, "3.00 TiB" }, { 5000ULL << 40, "5000.00 TiB" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		show_format_bytes(buf, sizeof(buf), cases[i].b, false);
		assert_string_equal(buf, cases[i].want);
	}
	show_format_bytes(buf, sizeof(buf), 1536, true);
	assert_string_equal(buf, "1.50 \x1b[36mKiB\x1b[0m");
}

static void test_durations(void **state)
{
	char buf[256];
	struct timespec t = { .tv_sec = 1000000 };

	(void)state;
	show_format_duration(buf, sizeof(buf), 63, false);
	assert_string_equal(buf, "1 minute, 3 seconds");
	show_format_duration(buf, sizeof(buf), 25, false);
	assert_string_equal(buf, "25 seconds");
	show_format_duration(buf, sizeof(buf), 365ULL * 86400 + 2 * 86400 + 3600 + 1, false);
	assert_string_equal(buf, "1 year, 2 days, 1 hour, 1 second");
	show_format_ago(buf, sizeof(buf), &t, 1000000, false);
	assert_string_equal(buf, "Now");
	show_format_ago(buf, sizeof(buf), &t, 1000000 + 120, false);
	assert_string_equal(buf, "2 minutes ago");
	show_format_ago(buf, sizeof(buf), &t, 1000000 - 1, false);
	assert_string_equal(buf, "(System clock wound backward; connection problems may ensue.)");
}

static struct wgpeer *add_peer(struct wgdevice *dev, uint8_t fill, time_t handshake)
{
	struct wgpeer *p = wgdevice_add_peer(dev);

	memset(p->public_key, fill, WG_KEY_LEN);
	p->flags = WGPEER_HAS_PUBLIC_KEY;
	p->last_handshake_time.tv_sec = handshake;
	return p;
}

static void test_sort(void **state)
{
	struct wgdevice *dev = calloc(1, sizeof(*dev));
	struct wgpeer *p;
	uint8_t order[5], n = 0;

	(void)state;
	add_peer(dev, 1, 0);
	add_peer(dev, 2, 100);
	add_peer(dev, 3, 0);
	add_peer(dev, 4, 300);
	add_peer(dev, 5, 200);
	show_sort_peers(dev);
	for_each_wgpeer(dev, p)
		order[n++] = p->public_key[0];
	assert_int_equal(n, 5);
	/* Newest handshake first, never-handshaked last in their original order. */
	assert_memory_equal(order, ((uint8_t[]){ 4, 5, 2, 1, 3 }), 5);
	assert_int_equal(dev->last_peer->public_key[0], 3);
	wgdevice_free(dev);
}

static char *capture(void (*fn)(FILE *, void *), void *arg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	fn(f, arg);
	fclose(f);
	return text;
}

static struct wgdevice *sample_device(void)
{
	struct wgdevice *dev = calloc(1, sizeof(*dev));
	struct ip_prefix pfx;
	struct wgpeer *p;

	snprintf(dev->name, sizeof(dev->name), "wg0");
	dev->listen_port = 51820;
	dev->fwmark = 0x20;
	p = add_peer(dev, 0, 1000);
	p->rx_bytes = 2048;
	p->tx_bytes = 10;
	p->persistent_keepalive_interval = 25;
	p->endpoint.addr6.sin6_family = AF_INET6;
	p->endpoint.addr6.sin6_port = htons(51820);
	p->endpoint.addr6.sin6_addr.s6_addr[15] = 1;
	ip_prefix_parse(&pfx, "10.0.0.0/24");
	wgdevice_add_allowedip(p, &pfx);
	ip_prefix_parse(&pfx, "fd00::/64");
	wgdevice_add_allowedip(p, &pfx);
	p->public_key[0] = 0xff;
	return dev;
}

static void print_dump(FILE *f, void *dev) { show_keyword(f, dev, "dump", false); }
static void print_allowed(FILE *f, void *dev) { show_keyword(f, dev, "allowed-ips", true); }
static void print_conf(FILE *f, void *dev) { show_config(f, dev); }
static void print_pretty(FILE *f, void *dev)
{
	struct show_style style = { .out = f, .color = false, .now = 1063 };

	show_pretty(&style, dev);
}

static void test_outputs(void **state)
{
	struct wgdevice *dev = sample_device();
	char *text;

	(void)state;
	text = capture(print_dump, dev);
	assert_string_equal(text, "(none)\t(none)\t51820\t0x20\n"
		"/wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\t(none)\t[::1]:51820\t10.0.0.0/24,fd00::/64\t1000\t2048\t10\t25\n");
	free(text);
	text = capture(print_allowed, dev);
	assert_string_equal(text, "wg0\t/wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\t10.0.0.0/24 fd00::/64\n");
	free(text);
	text = capture(print_conf, dev);
	assert_string_equal(text, "[Interface]\nListenPort = 51820\nFwMark = 0x20\n\n[Peer]\n"
		"PublicKey = /wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nAllowedIPs = 10.0.0.0/24, fd00::/64\n"
		"Endpoint = [::1]:51820\nPersistentKeepalive = 25\n");
	free(text);
	text = capture(print_pretty, dev);
	assert_string_equal(text, "interface: wg0\n  listening port: 51820\n  fwmark: 0x20\n\n"
		"peer: /wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n  endpoint: [::1]:51820\n"
		"  allowed ips: 10.0.0.0/24, fd00::/64\n  latest handshake: 1 minute, 3 seconds ago\n"
		"  transfer: 2.00 KiB received, 10 B sent\n  persistent keepalive: every 25 seconds\n");
	free(text);
	assert_false(show_keyword(stdout, dev, "bogus", false));
	wgdevice_free(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_sort),
		cmocka_unit_test(test_outputs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
