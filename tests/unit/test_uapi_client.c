/* UAPI client: parse a canned get=1 reply and write a set=1 request over a socketpair,
 * the transport a real userspace datapath uses (wireguard.com/xplatform). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "datapath/uapi_client.h"
#include "lib/key.h"

/* RFC 7748 §6.1: Alice's private key and its public key. */
#define ALICE_PRIV_HEX "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
#define ALICE_PUB_B64 "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="
#define PEER1_HEX "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
#define PEER2_HEX "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"

static const char get_reply[] =
	"private_key=" ALICE_PRIV_HEX "\n"
	"listen_port=51820\n"
	"fwmark=0\n"
	"public_key=" PEER1_HEX "\n"
	"preshared_key=0000000000000000000000000000000000000000000000000000000000000000\n"
	"protocol_version=1\n"
	"endpoint=[fd00::2]:51821\n"
	"last_handshake_time_sec=1700000000\n"
	"last_handshake_time_nsec=5\n"
	"tx_bytes=1536\n"
	"rx_bytes=42\n"
	"persistent_keepalive_interval=25\n"
	"allowed_ip=10.0.0.2/32\n"
	"allowed_ip=fd00::/64\n"
	"public_key=" PEER2_HEX "\n"
	"endpoint=192.0.2.1:1234\n"
	"errno=0\n"
	"\n";

/* A FILE reading what was written into the other end of a socketpair. */
static FILE *feed(const char *text, int *other)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], text, strlen(text)), (ssize_t)strlen(text));
	*other = sv[1];
	return fdopen(sv[0], "r");
}

static void test_parse_get(void **state)
{
	struct wgdevice *dev = calloc(1, sizeof(*dev));
	struct wgpeer *p1, *p2;
	char b64[WG_KEY_LEN_BASE64];
	int other;
	FILE *f = feed(get_reply, &other);

	(void)state;
	assert_int_equal(uapi_parse_get_reply(f, dev), 0);
	assert_true(dev->flags & WGDEVICE_HAS_PRIVATE_KEY);
	assert_true(dev->flags & WGDEVICE_HAS_PUBLIC_KEY);
	key_to_base64(b64, dev->public_key);
	assert_string_equal(b64, ALICE_PUB_B64);
	assert_int_equal(dev->listen_port, 51820);
	assert_int_equal(dev->fwmark, 0);
	p1 = dev->first_peer;
	assert_non_null(p1);
	p2 = p1->next_peer;
	assert_non_null(p2);
	assert_ptr_equal(dev->last_peer, p2);
	assert_false(p1->flags & WGPEER_HAS_PRESHARED_KEY);
	assert_int_equal(p1->endpoint.addr.sa_family, AF_INET6);
	assert_int_equal(ntohs(p1->endpoint.addr6.sin6_port), 51821);
	assert_int_equal(p1->last_handshake_time.tv_sec, 1700000000);
	assert_int_equal(p1->last_handshake_time.tv_nsec, 5);
	assert_int_equal(p1->tx_bytes, 1536);
	assert_int_equal(p1->rx_bytes, 42);
	assert_int_equal(p1->persistent_keepalive_interval, 25);
	assert_non_null(p1->first_allowedip);
	assert_int_equal(p1->first_allowedip->prefix.addr.family, AF_INET);
	assert_int_equal(p1->first_allowedip->prefix.cidr, 32);
	assert_int_equal(p1->last_allowedip->prefix.addr.family, AF_INET6);
	assert_int_equal(p1->last_allowedip->prefix.cidr, 64);
	assert_int_equal(p2->endpoint.addr.sa_family, AF_INET);
	assert_null(p2->first_allowedip);
	wgdevice_free(dev);
	fclose(f);
	close(other);
}

static void test_parse_errors(void **state)
{
	static const char *const bad[] = {
		"listen_port=70000\n\n",			/* out of range */
		"public_key=abcd\n\n",				/* short key */
		"public_key=" PEER1_HEX "\nallowed_ip=10.0.0.0/33\n\n",
		"public_key=" PEER1_HEX "\nendpoint=nonsense\n\n",
		"garbage line\n\n",
		"listen_port=1\n",				/* connection ends before the blank line */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct wgdevice *dev = calloc(1, sizeof(*dev));
		int other;
		FILE *f = feed(bad[i], &other);

		close(other);
		assert_int_equal(uapi_parse_get_reply(f, dev), -EPROTO);
		wgdevice_free(dev);
		fclose(f);
	}
	{
		struct wgdevice *dev = calloc(1, sizeof(*dev));
		int other;
		FILE *f = feed("errno=19\n\n", &other);

		assert_int_equal(uapi_parse_get_reply(f, dev), -19);
		wgdevice_free(dev);
		fclose(f);
		close(other);
	}
}

static void test_write_set(void **state)
{
	struct wgdevice dev = { .flags = WGDEVICE_HAS_LISTEN_PORT | WGDEVICE_HAS_FWMARK | WGDEVICE_REPLACE_PEERS,
				.listen_port = 1234, .fwmark = 7 };
	struct ip_prefix pfx;
	struct wgpeer *p, *gone;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	p = wgdevice_add_peer(&dev);
	memset(p->public_key, 0x11, WG_KEY_LEN);
	p->flags = WGPEER_HAS_PUBLIC_KEY | WGPEER_REPLACE_ALLOWEDIPS | WGPEER_HAS_PERSISTENT_KEEPALIVE_INTERVAL |
		   WGPEER_UPDATE_ONLY;
	p->persistent_keepalive_interval = 0;
	p->endpoint.addr4.sin_family = AF_INET;
	p->endpoint.addr4.sin_port = htons(51820);
	p->endpoint.addr4.sin_addr.s_addr = htonl(0x0a000001);
	assert_int_equal(ip_prefix_parse(&pfx, "10.9.0.0/16"), 0);
	wgdevice_add_allowedip(p, &pfx);
	gone = wgdevice_add_peer(&dev);
	memset(gone->public_key, 0x22, WG_KEY_LEN);
	gone->flags = WGPEER_HAS_PUBLIC_KEY | WGPEER_REMOVE_ME;
	assert_int_equal(uapi_write_set_request(f, &dev), 0);
	fclose(f);
	assert_string_equal(text,
		"set=1\nlisten_port=1234\nfwmark=7\nreplace_peers=true\n"
		"public_key=1111111111111111111111111111111111111111111111111111111111111111\n"
		"update_only=true\nendpoint=10.0.0.1:51820\npersistent_keepalive_interval=0\n"
		"replace_allowed_ips=true\nallowed_ip=10.9.0.0/16\n"
		"public_key=2222222222222222222222222222222222222222222222222222222222222222\n"
		"remove=true\n\n");
	free(text);
	wgdevice_free_peer(p);
	wgdevice_free_peer(gone);
}

static void test_set_reply(void **state)
{
	int other;
	FILE *f;

	(void)state;
	f = feed("errno=0\n\n", &other);
	assert_int_equal(uapi_read_set_reply(f), 0);
	fclose(f);
	close(other);
	f = feed("errno=22\n\n", &other);
	assert_int_equal(uapi_read_set_reply(f), -22);
	fclose(f);
	close(other);
	f = feed("errno=-98\n\n", &other);	/* wireguard-go's sign */
	assert_int_equal(uapi_read_set_reply(f), -98);
	fclose(f);
	close(other);
	f = feed("bogus\n\n", &other);
	assert_int_equal(uapi_read_set_reply(f), -EPROTO);
	fclose(f);
	close(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_get),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_write_set),
		cmocka_unit_test(test_set_reply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
