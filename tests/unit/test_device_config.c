/* device_from_config(): a parsed config becomes the device `wg setconf` would send. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "datapath/device_config.h"

/* RFC 7748 §6.1 keys. */
#define PRIV "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo="
#define PUB_A "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="
#define PUB_B "3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08="
#define PSK "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
#define LONG_LABEL "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static struct config *parse(const char *text)
{
	struct config *conf;
	char err[512];

	if (config_parse(&conf, "t.conf", text, err, sizeof(err)))
		fail_msg("%s", err);
	return conf;
}

static void test_setconf_flags(void **state)
{
	struct config *conf = parse("[Interface]\nPrivateKey = " PRIV "\nListenPort = 51820\nFwMark = 0x20\n"
				    "Address = 10.0.0.1/24\n"
				    "[Peer]\nPublicKey = " PUB_A "\nPresharedKey = " PSK "\n"
				    "AllowedIPs = 10.0.0.2/32, fd00::/64\nEndpoint = 192.0.2.1:51820\n"
				    "PersistentKeepalive = 25\n"
				    "[Peer]\nPublicKey = " PUB_B "\nEndpoint = [2001:db8::1]:1\n");
	struct wgdevice *dev;
	struct wgpeer *peer;
	struct wgallowedip *a;
	uint8_t key[WG_KEY_LEN];
	char err[512], buf[64];
	int n = 0;

	(void)state;
	assert_int_equal(device_from_config(&dev, conf, "pa0", err, sizeof(err)), 0);
	assert_string_equal(dev->name, "pa0");
	assert_int_equal(dev->flags, WGDEVICE_REPLACE_PEERS | WGDEVICE_HAS_PRIVATE_KEY | WGDEVICE_HAS_LISTEN_PORT |
					     WGDEVICE_HAS_FWMARK);
	key_from_base64(key, PRIV);
	assert_memory_equal(dev->private_key, key, WG_KEY_LEN);
	key_from_base64(key, PUB_A);
	assert_memory_equal(dev->public_key, key, WG_KEY_LEN); /* RFC 7748: Alice's public key */
	assert_int_equal(dev->listen_port, 51820);
	assert_int_equal(dev->fwmark, 0x20);

	peer = dev->first_peer;
	assert_int_equal(peer->flags, WGPEER_HAS_PUBLIC_KEY | WGPEER_REPLACE_ALLOWEDIPS | WGPEER_HAS_PRESHARED_KEY |
					      WGPEER_HAS_PERSISTENT_KEEPALIVE_INTERVAL);
	assert_memory_equal(peer->public_key, key, WG_KEY_LEN);
	key_from_base64(key, PSK);
	assert_memory_equal(peer->preshared_key, key, WG_KEY_LEN);
	assert_int_equal(peer->persistent_keepalive_interval, 25);
	assert_int_equal(peer->endpoint.addr.sa_family, AF_INET);
	assert_int_equal(ntohs(peer->endpoint.addr4.sin_port), 51820);
	endpoint_format(&peer->endpoint.addr, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.1:51820");
	for_each_wgallowedip(peer, a)
		n++;
	assert_int_equal(n, 2);
	ip_prefix_format(&peer->last_allowedip->prefix, buf, sizeof(buf));
	assert_string_equal(buf, "fd00::/64");

	peer = peer->next_peer;
	assert_non_null(peer);
	assert_int_equal(peer->flags, WGPEER_HAS_PUBLIC_KEY | WGPEER_REPLACE_ALLOWEDIPS);
	assert_null(peer->first_allowedip);
	endpoint_format(&peer->endpoint.addr, buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8::1]:1");
	assert_null(peer->next_peer);
	wgdevice_free(dev);
	config_free(conf);
}

static void test_empty_config_resets(void **state)
{
	struct config *conf = parse("");
	struct wgdevice *dev;
	char err[512];

	(void)state;
	/* wg setconf with an empty file: no key, port 0, fwmark 0, no peers — all replaced. */
	assert_int_equal(device_from_config(&dev, conf, "pa1", err, sizeof(err)), 0);
	assert_true(dev->flags & WGDEVICE_REPLACE_PEERS);
	assert_true(dev->flags & WGDEVICE_HAS_PRIVATE_KEY);
	assert_true(key_is_zero(dev->private_key));
	assert_int_equal(dev->listen_port, 0);
	assert_null(dev->first_peer);
	wgdevice_free(dev);
	config_free(conf);
}

static void test_errors(void **state)
{
	struct config *conf;
	struct wgdevice *dev = (struct wgdevice *)1;
	char err[512];

	(void)state;
	conf = parse("[Interface]\nPrivateKeyFile = /nonexistent\n");
	assert_int_equal(device_from_config(&dev, conf, "pa2", err, sizeof(err)), -EINVAL);
	assert_null(dev);
	assert_string_equal(err, "t.conf: PrivateKeyFile not loaded yet");
	config_free(conf);

	conf = parse("[Peer]\nPublicKey = " PUB_A "\n");
	assert_int_equal(device_from_config(&dev, conf, "a-name-too-long-for-linux", err, sizeof(err)), -EINVAL);
	config_free(conf);

	/* A name that cannot resolve without asking anyone: a 64-byte label cannot be put in a
	 * DNS query (RFC 1035 §2.3.4 allows 63), so the resolver fails before sending. */
	conf = parse("[Peer]\n# Name = far\nPublicKey = " PUB_B "\nEndpoint = " LONG_LABEL ".example:1\n");
	assert_int_not_equal(device_from_config(&dev, conf, "pa3", err, sizeof(err)), 0);
	assert_null(dev);
	assert_non_null(strstr(err, "t.conf:1: peer " PUB_B " (far): cannot resolve Endpoint '" LONG_LABEL ".example:1': "));
	config_free(conf);
}

static void test_print(void **state)
{
	struct config *conf = parse("[Interface]\nPrivateKey = " PRIV "\nListenPort = 7\nAddress = 10.0.0.1/24\n"
				    "[Peer]\nPublicKey = " PUB_A "\nAllowedIPs = 10.0.0.2/32,fd00::/64\n"
				    "Endpoint = host.example:5\nPersistentKeepalive = 9\n");
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	struct config *again;
	char err[512];

	(void)state;
	assert_non_null(f);
	assert_int_equal(device_config_print(f, conf), 0);
	fclose(f);
	assert_string_equal(out, "[Interface]\nListenPort = 7\nPrivateKey = " PRIV "\n\n[Peer]\nPublicKey = " PUB_A
				 "\nAllowedIPs = 10.0.0.2/32, fd00::/64\nEndpoint = host.example:5\nPersistentKeepalive = 9\n");
	/* What we print, we read back. */
	assert_int_equal(config_parse(&again, "again.conf", out, err, sizeof(err)), 0);
	assert_int_equal(again->peers[0].n_allowed_ips, 2);
	config_free(again);
	free(out);
	config_free(conf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_setconf_flags),
		cmocka_unit_test(test_empty_config_resets),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_print),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
