/* test_uapi.c — the UAPI protocol on a device without sockets: get output in
 * wireguard-go's order and format, set semantics (update_only, remove, replace_*,
 * a peer with our own key), and all-or-nothing sets with wireguard-go's negative errno values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <sodium.h>

#include "datapath/userspace/device.h"
#include "datapath/userspace/uapi.h"
#include "datapath/userspace/uapi_socket.h"

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

static int null_send(void *ctx, const struct sockaddr *dst, const struct wg_udp_src *src, const void *buf,
		     size_t len)
{
	return 0;
}

static int null_deliver(void *ctx, const void *pkt, size_t len)
{
	return 0;
}

static uint16_t bound_port;
static int port_result;

static int set_port(void *ctx, uint16_t port, uint16_t *bound)
{
	if (port_result)
		return port_result;
	*bound = port ? port : 40000;
	bound_port = *bound;
	return 0;
}

static uint32_t socket_mark; /* what the (fake) sockets are marked with */

static int set_mark(void *ctx, uint32_t mark)
{
	socket_mark = mark;
	return 0;
}

static const struct wg_uapi_ops ops = { set_port, set_mark, NULL, NULL };

static struct wg_device *dev_new(void)
{
	static const struct wg_io io = { null_send, NULL, NULL, null_deliver, NULL };
	struct wg_device *d = calloc(1, sizeof(*d));

	wg_device_init(d, "pu-test", &wg_clock_system, &wg_random_system, &io);
	return d;
}

static char *get(struct wg_device *d)
{
	char *out;
	size_t len;

	assert_int_equal(wg_uapi_get(d, &out, &len), 0);
	assert_int_equal(strlen(out), len);
	return out;
}

static int set(struct wg_device *d, const char *body)
{
	return wg_uapi_set(d, body, strlen(body), &ops);
}

#define PRIV "e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a"
#define PUB1 "b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33"
#define PUB2 "58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376"
#define PSK "188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52"

static void test_get_format(void **state)
{
	struct wg_device *d = dev_new();
	char *out;

	out = get(d);
	assert_string_equal(out, ""); /* nothing set: not even listen_port */
	free(out);
	assert_int_equal(set(d, "private_key=" PRIV "\nlisten_port=51820\nfwmark=0\n"
				"public_key=" PUB1 "\npreshared_key=" PSK "\nendpoint=[fd00::1]:51821\n"
				"persistent_keepalive_interval=25\nallowed_ip=10.1.2.3/24\n"
				"allowed_ip=fd00:1::/64\nallowed_ip=0.0.0.0/0\n"
				"public_key=" PUB2 "\nprotocol_version=1\nendpoint=192.0.2.1:7\n"), 0);
	out = get(d);
	assert_string_equal(out,
			    "private_key=" PRIV "\nlisten_port=51820\n"
			    "public_key=" PUB1 "\npreshared_key=" PSK "\nprotocol_version=1\n"
			    "endpoint=[fd00::1]:51821\nlast_handshake_time_sec=0\nlast_handshake_time_nsec=0\n"
			    /* turning persistent keepalive on sent an initiation at once */
			    "tx_bytes=148\nrx_bytes=0\npersistent_keepalive_interval=25\n"
			    "allowed_ip=10.1.2.0/24\nallowed_ip=fd00:1::/64\nallowed_ip=0.0.0.0/0\n"
			    "public_key=" PUB2 "\npreshared_key=0000000000000000000000000000000000000000000000000000000000000000\n"
			    "protocol_version=1\nendpoint=192.0.2.1:7\nlast_handshake_time_sec=0\n"
			    "last_handshake_time_nsec=0\ntx_bytes=0\nrx_bytes=0\npersistent_keepalive_interval=0\n");
	free(out);
	wg_device_free(d);
	free(d);
}

static void test_set_is_all_or_nothing(void **state)
{
	struct wg_device *d = dev_new();
	char *before, *after;
	static const struct {
		const char *body;
		int err;
	} bad[] = {
		{ "listen_port=70000\n", -EINVAL },
		{ "listen_port=-1\n", -EINVAL },
		{ "fwmark=0x10\n", -EINVAL },
		{ "private_key=abc\n", -EINVAL },
		{ "nonsense=1\n", -EINVAL },
		{ "no equals sign\n", -EPROTO },
		{ "replace_peers=yes\n", -EINVAL },
		{ "public_key=" PUB2 "\nallowed_ip=10.0.0.0/33\n", -EINVAL },
		{ "public_key=" PUB2 "\nallowed_ip=10.0.0.1\n", -EINVAL },
		{ "public_key=" PUB2 "\nendpoint=no.such.host:1\n", -EINVAL },
		{ "public_key=" PUB2 "\nendpoint=10.0.0.1\n", -EINVAL },
		{ "public_key=" PUB2 "\nprotocol_version=2\n", -EINVAL },
		{ "public_key=" PUB2 "\npersistent_keepalive_interval=65536\n", -EINVAL },
		{ "public_key=" PUB2 "\nlisten_port=1\n", -EINVAL }, /* device key in a peer */
		{ "public_key=zz\n", -EINVAL },
		/* A good change followed by a bad line changes nothing. */
		{ "listen_port=1234\nreplace_peers=true\npublic_key=" PUB2 "\nallowed_ip=10.9.0.0/16\nremove=maybe\n", -EINVAL },
	};
	size_t i;

	assert_int_equal(set(d, "private_key=" PRIV "\nlisten_port=51820\npublic_key=" PUB1 "\nallowed_ip=10.0.0.0/8\n"), 0);
	before = get(d);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(set(d, bad[i].body), bad[i].err);
		after = get(d);
		assert_string_equal(before, after);
		free(after);
	}
	/* The port cannot be bound: -EADDRINUSE and nothing else applied. */
	port_result = -EADDRINUSE;
	assert_int_equal(set(d, "listen_port=9\nreplace_peers=true\n"), -EADDRINUSE);
	/* ...and a fwmark set in the same request is taken back from the sockets. */
	assert_int_equal(set(d, "fwmark=7\nlisten_port=9\n"), -EADDRINUSE);
	assert_int_equal(socket_mark, 0);
	port_result = 0;
	after = get(d);
	assert_string_equal(before, after);
	free(after);
	free(before);
	wg_device_free(d);
	free(d);
}

static void test_peer_semantics(void **state)
{
	struct wg_device *d = dev_new();
	char *out;

	assert_int_equal(set(d, "private_key=" PRIV "\n"), 0);
	/* update_only does not create. */
	assert_int_equal(set(d, "public_key=" PUB1 "\nupdate_only=true\nallowed_ip=10.0.0.0/8\n"), 0);
	assert_int_equal(d->peer_count, 0);
	assert_int_equal(set(d, "public_key=" PUB1 "\nallowed_ip=10.0.0.0/8\nallowed_ip=10.1.0.0/16\n"), 0);
	assert_int_equal(set(d, "public_key=" PUB1 "\nreplace_allowed_ips=true\nallowed_ip=10.2.0.0/16\n"), 0);
	out = get(d);
	assert_non_null(strstr(out, "allowed_ip=10.2.0.0/16\n"));
	assert_null(strstr(out, "10.0.0.0/8"));
	free(out);
	/* A shared peers list names us too: our own public key as a peer is ignored. */
	{
		uint8_t priv[32], pub[32];
		char hex[65], body[200];

		sodium_hex2bin(priv, 32, PRIV, 64, NULL, NULL, NULL);
		crypto_scalarmult_curve25519_base(pub, priv);
		sodium_bin2hex(hex, sizeof(hex), pub, 32);
		snprintf(body, sizeof(body), "public_key=%s\nallowed_ip=10.5.0.0/16\n", hex);
		assert_int_equal(set(d, body), 0);
		assert_int_equal(d->peer_count, 1);
	}
	assert_int_equal(set(d, "public_key=" PUB1 "\nremove=true\n"), 0);
	assert_int_equal(d->peer_count, 0);
	assert_int_equal(set(d, "public_key=" PUB1 "\npublic_key=" PUB2 "\n"), 0);
	assert_int_equal(set(d, "replace_peers=true\npublic_key=" PUB2 "\n"), 0);
	assert_int_equal(d->peer_count, 1);
	/* Zero private key clears it. */
	assert_int_equal(set(d, "private_key=0000000000000000000000000000000000000000000000000000000000000000\n"), 0);
	out = get(d);
	assert_null(strstr(out, "private_key="));
	free(out);
	/* listen_port=0 binds somewhere and reports it. */
	assert_int_equal(set(d, "listen_port=0\n"), 0);
	assert_int_equal(d->listen_port, 40000);
	wg_device_free(d);
	free(d);
}

/* A set with @n peers (random keys, one allowed IP each), then @tail, then the blank line. */
static char *big_set(size_t n, const char *tail, size_t *len)
{
	size_t cap = 16 + n * 200 + strlen(tail), off = 0;
	char *b = malloc(cap), hex[65];
	uint8_t key[32];

	assert_non_null(b);
	off += (size_t)snprintf(b + off, cap - off, "set=1\n");
	for (size_t i = 0; i < n; i++) {
		randombytes_buf(key, sizeof(key));
		sodium_bin2hex(hex, sizeof(hex), key, sizeof(key));
		off += (size_t)snprintf(b + off, cap - off, "public_key=%s\nallowed_ip=10.%zu.%zu.0/24\n", hex,
					 i / 256 % 256, i % 256);
	}
	off += (size_t)snprintf(b + off, cap - off, "%s%s\n", tail, tail[0] ? "\n" : "");
	*len = off;
	return b;
}

struct serve_arg {
	struct wg_uapi_server *s;
	int fd;
};

static void *serve(void *arg)
{
	struct serve_arg *a = arg;

	wg_uapi_serve_connection(a->s, a->fd);
	return NULL;
}

/* Read one "errno=N\n\n" reply; fail (rather than hang) if none comes in a minute, which only
 * happens when the server is stuck, e.g. waiting for the lock this test holds. */
static int read_errno(int fd)
{
	char buf[64];
	size_t n = 0;
	int e;

	while (n < sizeof(buf) - 1 && !(n >= 2 && buf[n - 1] == '\n' && buf[n - 2] == '\n')) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		assert_int_equal(poll(&p, 1, 60000), 1);
		r = read(fd, buf + n, sizeof(buf) - 1 - n);
		assert_true(r > 0);
		n += (size_t)r;
	}
	buf[n] = '\0';
	assert_int_equal(sscanf(buf, "errno=%d", &e), 1);
	return e;
}

static size_t count(const char *text, const char *what)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

/* A big set is parsed outside the datapath lock: with the lock held by "the datapath" (this
 * test), a 2000-peer request that turns out bad at its last line is still answered (it never
 * needs the lock), and a good one is parsed into its staging structure, waits for the lock
 * only to be applied, and then is there in full. */
static void test_big_set_parsed_outside_lock(void **state)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct wg_device *d = dev_new();
	struct wg_uapi_server srv = { .listen_fd = -1, .lock = &lock, .dev = d, .ops = ops };
	struct serve_arg a = { .s = &srv };
	const size_t peers = 2000;
	pthread_t t;
	size_t len;
	char *body, *out;
	int sv[2];

	assert_int_equal(sodium_init() < 0, 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	a.fd = sv[1];
	assert_int_equal(pthread_create(&t, NULL, serve, &a), 0);

	pthread_mutex_lock(&lock); /* the datapath is busy for as long as this test likes */
	body = big_set(peers, "allowed_ip=10.0.0.0/33", &len);
	assert_int_equal(write(sv[0], body, len), (ssize_t)len);
	assert_int_equal(read_errno(sv[0]), -EINVAL); /* answered while the lock is held */
	free(body);

	body = big_set(peers, "", &len);
	assert_int_equal(write(sv[0], body, len), (ssize_t)len);
	free(body);
	pthread_mutex_unlock(&lock);
	assert_int_equal(read_errno(sv[0]), 0);
	shutdown(sv[0], SHUT_WR);
	pthread_join(t, NULL);
	close(sv[0]);
	close(sv[1]);

	out = get(d);
	assert_int_equal(count(out, "public_key="), peers);
	assert_int_equal(count(out, "allowed_ip="), peers);
	sodium_memzero(out, strlen(out));
	free(out);
	wg_device_free(d);
	free(d);
}

/* The staging structure on its own: parsing needs no device; a parse error leaves nothing
 * to apply; the parsed request applies as wg_uapi_set would. */
static void test_parse_then_apply(void **state)
{
	static const char good[] = "listen_port=5555\npublic_key=" PUB1 "\nallowed_ip=10.9.0.0/24\n";
	static const char bad[] = "listen_port=5555\npublic_key=" PUB1 "\nallowed_ip=nonsense\n";
	struct wg_uapi_request *r = (void *)1;
	struct wg_device *d;
	char *out;

	assert_int_equal(wg_uapi_parse(&r, bad, strlen(bad), "pu-test"), -EINVAL);
	assert_null(r);
	assert_int_equal(wg_uapi_parse(&r, "no equals\n", 10, "pu-test"), -EPROTO);
	assert_null(r);
	assert_int_equal(wg_uapi_parse(&r, good, strlen(good), "pu-test"), 0);
	assert_non_null(r);
	d = dev_new();
	assert_int_equal(wg_uapi_apply(d, r, &ops), 0);
	wg_uapi_request_free(r);
	out = get(d);
	assert_non_null(strstr(out, "listen_port=5555\n"));
	assert_non_null(strstr(out, "allowed_ip=10.9.0.0/24\n"));
	free(out);
	wg_device_free(d);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_format),
		cmocka_unit_test(test_set_is_all_or_nothing),
		cmocka_unit_test(test_peer_semantics),
		cmocka_unit_test(test_parse_then_apply),
		cmocka_unit_test(test_big_set_parsed_outside_lock),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
