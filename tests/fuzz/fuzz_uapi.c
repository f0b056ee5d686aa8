/* libFuzzer target for podwire-wg's UAPI (uapi.c, uapi_socket.c): any local process allowed
 * on /var/run/wireguard/IFACE.sock sends any bytes, so the request reader, the "set" parser
 * and the apply step must neither crash, leak nor loop. The input goes two ways into a real
 * in-memory device that already has a key, a port, a fwmark and a peer:
 *  - as a connection: written to one end of a socketpair, served by
 *    wg_uapi_serve_connection() on the other; every answer must end in a line
 *    "errno=N" with N one of wireguard-go's (0, -EPROTO, -EINVAL, -EADDRINUSE, -ENOMEM, -EIO);
 *  - as the body of one "set": a refusal must leave the device exactly as it was (its "get"
 *    dump before and after, byte for byte), and an accepted set must dump a state that,
 *    written back as a set into a fresh device, dumps the same (round trip).
 * The socket operations are the fuzzer's: port 666 and fwmark 666 fail, as a port in use
 * would, so that the put-back paths run too. */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "datapath/userspace/device.h"
#include "datapath/userspace/uapi.h"
#include "datapath/userspace/uapi_socket.h"
#include "lib/log.h"
#include "tests/fuzz/fuzz_logs.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAILING 666

static uint64_t fake_now = 1000 * NSEC_PER_SEC;

static uint64_t fake_mono(void *ctx)
{
	return fake_now;
}

static void fake_real(void *ctx, struct timespec *ts)
{
	ts->tv_sec = 1700000000;
	ts->tv_nsec = 0;
}

static const struct wg_clock fake_clock = { fake_mono, fake_real, NULL };

/* Deterministic randomness, so that an input replays the same way. */
static void fake_fill(void *ctx, void *buf, size_t len)
{
	static uint64_t n;
	uint8_t seed[randombytes_SEEDBYTES] = { 0 };

	memcpy(seed, &n, sizeof(n));
	n++;
	randombytes_buf_deterministic(buf, len, seed);
}

static const struct wg_random fake_random = { fake_fill, NULL };

static int null_send(void *ctx, const struct sockaddr *dst, const struct wg_udp_src *src, const void *buf,
		     size_t len)
{
	return 0;
}

static int null_flush(void *ctx)
{
	return 0;
}

static int null_deliver(void *ctx, const void *pkt, size_t len)
{
	return 0;
}

static int fake_listen_port(void *ctx, uint16_t port, uint16_t *bound)
{
	if (port == FAILING)
		return -EADDRINUSE;
	*bound = port ? port : 51000; /* "any port": the kernel picks one */
	return 0;
}

static int fake_fwmark(void *ctx, uint32_t mark)
{
	return mark == FAILING ? -EPERM : 0;
}

static const struct wg_uapi_ops fake_ops = { fake_listen_port, fake_fwmark, NULL, NULL };

/* The device every input starts from. */
static const char start_state[] = "private_key=a8dd2aee8b1aca2e4d7a6d6a0f8a9f1f0e4c3b2a19181716151413121110090f\n"
				  "listen_port=51820\n"
				  "fwmark=7\n"
				  "public_key=58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376\n"
				  "endpoint=192.0.2.1:51820\n"
				  "persistent_keepalive_interval=25\n"
				  "allowed_ip=10.0.0.0/24\n"
				  "allowed_ip=fd00::/64\n";

static void device_new(struct wg_device *dev)
{
	struct wg_io io = { null_send, NULL, null_flush, null_deliver, NULL };

	wg_device_init(dev, "fuzz0", &fake_clock, &fake_random, &io);
	dev->mtu = 1420;
}

static char *dump(const struct wg_device *dev)
{
	char *out;
	size_t len;

	if (wg_uapi_get(dev, &out, &len))
		abort();
	return out;
}

static int protocol_errno(long e)
{
	return e == 0 || e == -EPROTO || e == -EINVAL || e == -EADDRINUSE || e == -ENOMEM || e == -EIO;
}

struct server {
	struct wg_uapi_server s;
	struct wg_device dev;
	pthread_mutex_t lock;
	int fd;
};

static void *serve(void *arg)
{
	struct server *sv = arg;

	wg_uapi_serve_connection(&sv->s, sv->fd);
	close(sv->fd);
	return NULL;
}

/* Every answer is some "key=value" lines and "errno=N", and ends with a blank line. */
static void check_answers(const char *a, size_t len)
{
	const char *p = a, *end = a + len;

	while (p < end) {
		const char *blank = memmem(p, (size_t)(end - p), "\n\n", 2), *last;
		char *num_end;
		long e;

		if (!blank)
			abort(); /* an answer cut short */
		for (last = blank; last > p && last[-1] != '\n'; last--)
			;
		if (strncmp(last, "errno=", 6))
			abort();
		e = strtol(last + 6, &num_end, 10);
		if (num_end != blank || !protocol_errno(e))
			abort();
		p = blank + 2;
	}
}

/* The input as one client connection. */
static void as_connection(const uint8_t *data, size_t size)
{
	struct server *sv;
	pthread_t t;
	int sp[2], bufsize = 1 << 20;
	char *answers = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;

	/* The whole request is written before the server starts: it must fit the socket buffer
	 * (unix sockets take about 200 KiB without raising net.core.wmem_max). */
	if (size > 64 * 1024 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp))
		return;
	setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
	if (write(sp[0], data, size) != (ssize_t)size)
		abort();
	shutdown(sp[0], SHUT_WR);
	sv = calloc(1, sizeof(*sv));
	if (!sv)
		abort();
	device_new(&sv->dev);
	sv->s.dev = &sv->dev;
	if (wg_uapi_set(sv->s.dev, start_state, sizeof(start_state) - 1, &fake_ops))
		abort();
	pthread_mutex_init(&sv->lock, NULL);
	sv->s.lock = &sv->lock;
	sv->s.ops = fake_ops;
	sv->fd = sp[1];
	if (pthread_create(&t, NULL, serve, sv))
		abort();
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			answers = realloc(answers, cap);
			if (!answers)
				abort();
		}
		n = read(sp[0], answers + len, cap - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	pthread_join(t, NULL);
	close(sp[0]);
	check_answers(answers, len);
	free(answers);
	wg_device_free(&sv->dev);
	pthread_mutex_destroy(&sv->lock);
	free(sv);
}

/* A "get" dump as a "set" body that recreates it: the counters and times are not settable. */
static char *dump_as_set(const char *d)
{
	char *out = malloc(strlen(d) + sizeof("replace_peers=true\n")), *o = out;
	const char *p = d;

	if (!out)
		abort();
	o += sprintf(o, "replace_peers=true\n");
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p + 1) : strlen(p);

		if (strncmp(p, "last_handshake_time_", 20) && strncmp(p, "tx_bytes=", 9) && strncmp(p, "rx_bytes=", 9)) {
			memcpy(o, p, l);
			o += l;
		}
		p += l;
	}
	*o = '\0';
	return out;
}

/* The input as the body of one "set". */
static void as_set_body(const uint8_t *data, size_t size)
{
	struct wg_device dev, again;
	char *before, *after, *body, *again_dump;
	int ret;

	device_new(&dev);
	if (wg_uapi_set(&dev, start_state, sizeof(start_state) - 1, &fake_ops))
		abort();
	before = dump(&dev);
	ret = wg_uapi_set(&dev, (const char *)data, size, &fake_ops);
	after = dump(&dev);
	if (ret) {
		/* -ENOMEM may leave part applied (documented); nothing else may. */
		if (!protocol_errno(ret) || (ret != -ENOMEM && strcmp(before, after)))
			abort();
	} else {
		body = dump_as_set(after);
		device_new(&again);
		if (wg_uapi_set(&again, body, strlen(body), &fake_ops))
			abort();
		again_dump = dump(&again);
		if (strcmp(after, again_dump))
			abort();
		free(again_dump);
		free(body);
		wg_device_free(&again);
	}
	free(before);
	free(after);
	wg_device_free(&dev);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (sodium_init() < 0)
		abort();
	fuzz_logs_to_null();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	as_connection(data, size);
	as_set_body(data, size);
	return 0;
}
