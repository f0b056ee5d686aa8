/* reresolve: which peers get a new endpoint (stale, name moved) and the state file. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "datapath/reresolve.h"

/* A resolver with a fixed table: "a.test" -> 10.0.0.1, "b.test" -> 10.0.0.2, "v6.test" ->
 * fd00::1; anything else fails like an NXDOMAIN. */
static int fake_resolve(const char *endpoint, struct sockaddr_storage *out, socklen_t *out_len, char *err,
			size_t err_len)
{
	char host[64];
	uint16_t port;

	if (endpoint_split(endpoint, host, sizeof(host), &port))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!strcmp(host, "v6.test")) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)out;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(port);
		inet_pton(AF_INET6, "fd00::1", &s->sin6_addr);
		*out_len = sizeof(*s);
		return 0;
	}
	if (strcmp(host, "a.test") && strcmp(host, "b.test")) {
		snprintf(err, err_len, "Name or service not known");
		return -EHOSTUNREACH;
	}
	struct sockaddr_in *s = (struct sockaddr_in *)out;

	s->sin_family = AF_INET;
	s->sin_port = htons(port);
	inet_pton(AF_INET, !strcmp(host, "a.test") ? "10.0.0.1" : "10.0.0.2", &s->sin_addr);
	*out_len = sizeof(*s);
	return 0;
}

static struct wgpeer *add_peer(struct wgdevice *dev, uint8_t id, const char *ip, uint16_t port, time_t handshake)
{
	struct wgpeer *p = wgdevice_add_peer(dev);

	memset(p->public_key, id, WG_KEY_LEN);
	p->endpoint.addr4.sin_family = AF_INET;
	p->endpoint.addr4.sin_port = htons(port);
	inet_pton(AF_INET, ip, &p->endpoint.addr4.sin_addr);
	p->last_handshake_time.tv_sec = handshake;
	return p;
}

static void list_add(struct reresolve_list *l, uint8_t id, const char *endpoint)
{
	l->v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
	memset(l->v[l->n].public_key, id, WG_KEY_LEN);
	l->v[l->n].endpoint = strdup(endpoint);
	l->n++;
}

static void test_stale(void **state)
{
	struct wgpeer p = { 0 };

	(void)state;
	assert_true(reresolve_peer_is_stale(&p, 1000, 135)); /* never had a handshake */
	p.last_handshake_time.tv_sec = 1000 - 135;
	assert_false(reresolve_peer_is_stale(&p, 1000, 135));
	p.last_handshake_time.tv_sec = 1000 - 136;
	assert_true(reresolve_peer_is_stale(&p, 1000, 135));
}

static void test_plan(void **state)
{
	struct wgdevice *dev = calloc(1, sizeof(*dev)), changes = { 0 };
	struct reresolve_list list = { 0 };
	struct wgpeer *c;
	char err[128];
	const time_t now = 100000;

	(void)state;
	snprintf(dev->name, sizeof(dev->name), "pqt0");
	add_peer(dev, 1, "10.0.0.9", 51820, now - 10);	 /* fresh: untouched although moved */
	add_peer(dev, 2, "10.0.0.9", 51820, now - 200);	 /* stale and moved: updated */
	add_peer(dev, 3, "10.0.0.1", 51820, 0);		 /* stale, same address: untouched */
	add_peer(dev, 4, "10.0.0.1", 51820, 0);		 /* stale, same address, new port: updated */
	add_peer(dev, 5, "10.0.0.9", 51820, 0);		 /* stale, name does not resolve */
	add_peer(dev, 7, "10.0.0.9", 51820, 0);		 /* stale, moved to IPv6 */
	list_add(&list, 1, "b.test:51820");
	list_add(&list, 2, "b.test:51820");
	list_add(&list, 3, "a.test:51820");
	list_add(&list, 4, "a.test:51821");
	list_add(&list, 5, "nx.test:51820");
	list_add(&list, 6, "a.test:51820");	/* not a peer of the device (any more): skipped */
	list_add(&list, 7, "[v6.test]:51820");

	assert_int_equal(reresolve_plan(dev, &list, now, 135, fake_resolve, &changes, err, sizeof(err)), 0);
	assert_string_equal(changes.name, "pqt0");
	assert_non_null(strstr(err, "nx.test"));
	c = changes.first_peer;
	assert_non_null(c);
	assert_int_equal(c->public_key[0], 2);
	assert_int_equal(c->flags, WGPEER_HAS_PUBLIC_KEY | WGPEER_UPDATE_ONLY);
	assert_int_equal(c->endpoint.addr4.sin_addr.s_addr, inet_addr("10.0.0.2"));
	assert_null(c->first_allowedip);
	c = c->next_peer;
	assert_non_null(c);
	assert_int_equal(c->public_key[0], 4);
	assert_int_equal(ntohs(c->endpoint.addr4.sin_port), 51821);
	c = c->next_peer;
	assert_non_null(c);
	assert_int_equal(c->public_key[0], 7);
	assert_int_equal(c->endpoint.addr.sa_family, AF_INET6);
	assert_null(c->next_peer);

	while ((c = changes.first_peer)) {
		changes.first_peer = c->next_peer;
		wgdevice_free_peer(c);
	}
	wgdevice_free(dev);
	reresolve_list_free(&list);
}

static void test_state_file(void **state)
{
	char dir[] = "/tmp/pq-unit-reresolve.XXXXXX";
	struct reresolve_list in = { 0 }, out = { 0 };
	char path[256];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	list_add(&in, 0x11, "peer.test:51820");
	list_add(&in, 0x22, "[fd00::1]:1");
	assert_int_equal(reresolve_state_write(dir, "pqt0", &in), 0);
	assert_int_equal(reresolve_state_read(dir, "pqt0", &out), 0);
	assert_int_equal(out.n, 2);
	assert_memory_equal(out.v[0].public_key, in.v[0].public_key, WG_KEY_LEN);
	assert_string_equal(out.v[0].endpoint, "peer.test:51820");
	assert_string_equal(out.v[1].endpoint, "[fd00::1]:1");
	reresolve_list_free(&out);
	/* A damaged file is an error, not a half list. */
	snprintf(path, sizeof(path), "%s/pqt1.endpoints", dir);
	f = fopen(path, "w");
	fputs("notakey peer.test:1\n", f);
	fclose(f);
	assert_int_equal(reresolve_state_read(dir, "pqt1", &out), -EINVAL);
	assert_int_equal(out.n, 0);
	assert_int_equal(reresolve_state_read(dir, "pqt-none", &out), -ENOENT);
	assert_int_equal(reresolve_state_remove(dir, "pqt0"), 0);
	assert_int_equal(reresolve_state_read(dir, "pqt0", &out), -ENOENT);
	assert_int_equal(reresolve_state_remove(dir, "pqt0"), 0);
	unlink(path);
	rmdir(dir);
	reresolve_list_free(&in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stale),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_state_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
