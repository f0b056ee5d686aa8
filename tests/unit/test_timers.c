/* test_timers.c — two podwire-wg devices wired back to back through an in-memory network,
 * driven by a fake clock through hours of protocol time: first packet triggers a
 * handshake, passive keepalives, rekey every REKEY_AFTER_TIME under traffic, giving up
 * after REKEY_ATTEMPT_TIME when the peer is gone, zeroing keys after 3 x REJECT_AFTER_TIME,
 * persistent keepalives, and a responder-initiated session. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <endian.h>
#include <netinet/in.h>
#include <sodium.h>

#include "tests/unit/world.h"

/* Send one 100-byte IPv4 packet from device @from to the other one. */
static void send_ip(struct world *w, int from)
{
	world_seal_ip(w, from);
	world_deliver(w);
}

/* Advance time in 50 ms steps, running both devices' timers and the network. */
static void run_for(struct world *w, uint64_t ns)
{
	uint64_t end = w->clock.now + ns;

	while (w->clock.now < end) {
		w->clock.now += 50 * NSEC_PER_MSEC;
		wg_device_tick(&w->dev[0]);
		wg_device_tick(&w->dev[1]);
		world_deliver(w);
	}
}

static void test_first_packet_handshake_and_keepalive(void **state)
{
	struct world *w = world_new();

	send_ip(w, 0);
	assert_int_equal(w->sent[0][MESSAGE_HANDSHAKE_INITIATION], 1);
	assert_int_equal(w->sent[1][MESSAGE_HANDSHAKE_RESPONSE], 1);
	/* The staged packet went out right after the response. */
	assert_int_equal(w->delivered[1], 1);
	assert_non_null(w->peer[0]->kp_current);
	assert_non_null(w->peer[1]->kp_current); /* confirmed by the first data packet */
	assert_int_not_equal(w->peer[0]->last_handshake.tv_sec, 0);
	/* Paper §6.5: B got data and sent nothing back: it sends a keepalive after 10 s. */
	run_for(w, 9 * NSEC_PER_SEC);
	assert_int_equal(w->sent[1][MESSAGE_DATA], 0);
	run_for(w, 2 * NSEC_PER_SEC);
	assert_int_equal(w->sent[1][MESSAGE_DATA], 1);
	/* Then everything is quiet: no more messages for a long idle time (before zeroing). */
	run_for(w, 200 * NSEC_PER_SEC);
	assert_int_equal(w->sent[0][MESSAGE_HANDSHAKE_INITIATION], 1);
	assert_int_equal(w->sent[1][MESSAGE_DATA], 1);
	world_free(w);
}

static void test_rekey_under_traffic_for_hours(void **state)
{
	struct world *w = world_new();
	unsigned int i, seconds = 3 * 3600;

	for (i = 0; i < seconds; i++) {
		send_ip(w, 0);
		if (i % 7 == 0)
			send_ip(w, 1);
		run_for(w, NSEC_PER_SEC);
	}
	/* Every packet arrived through all the rekeys. */
	assert_int_equal(w->delivered[1], seconds);
	assert_int_equal(w->delivered[0], (seconds + 6) / 7);
	/* Paper §6.2: a new session every REKEY_AFTER_TIME (120 s) plus a few seconds. */
	assert_in_range(w->sent[0][MESSAGE_HANDSHAKE_INITIATION] + w->sent[1][MESSAGE_HANDSHAKE_INITIATION],
			seconds / 130, seconds / 120 + 2);
	world_free(w);
}

static void test_give_up_when_peer_gone(void **state)
{
	struct world *w = world_new();

	w->drop_to[1] = true;
	send_ip(w, 0);
	run_for(w, 3600 * NSEC_PER_SEC);
	/* One initiation plus retries every REKEY_TIMEOUT until attempts exceed
	 * MAX_TIMER_HANDSHAKES (kernel timers.c): 1 + 19, then silence. */
	assert_int_equal(w->sent[0][MESSAGE_HANDSHAKE_INITIATION], 1 + MAX_TIMER_HANDSHAKES + 1);
	assert_int_equal(w->peer[0]->staged_count, 0); /* staged packets dropped */
	assert_int_equal(w->delivered[1], 0);
	/* The peer comes back: the next packet starts a fresh handshake and gets through. */
	w->drop_to[1] = false;
	send_ip(w, 0);
	assert_int_equal(w->delivered[1], 1);
	world_free(w);
}

static void test_zero_keys_after_3x_reject(void **state)
{
	struct world *w = world_new();

	send_ip(w, 0);
	assert_non_null(w->peer[0]->kp_current);
	run_for(w, 3 * REJECT_AFTER_TIME - 20 * NSEC_PER_SEC);
	assert_non_null(w->peer[0]->kp_current);
	run_for(w, 21 * NSEC_PER_SEC);
	assert_null(w->peer[0]->kp_current);
	assert_null(w->peer[0]->kp_previous);
	assert_null(w->peer[1]->kp_current);
	/* Traffic afterwards simply makes a new session. */
	send_ip(w, 1);
	assert_int_equal(w->delivered[0], 1);
	world_free(w);
}

static void test_persistent_keepalive(void **state)
{
	struct world *w = world_new();

	w->peer[0]->persistent_keepalive_interval = 25;
	send_ip(w, 0);
	run_for(w, 600 * NSEC_PER_SEC);
	/* The first packet, 600/25 keepalives, and one confirmation keepalive for each new
	 * session made as keys pass REJECT_AFTER_TIME (180 s). */
	assert_in_range(w->sent[0][MESSAGE_DATA], 1 + 600 / 25, 1 + 600 / 25 + 600 / 180 + 1);
	assert_in_range(w->sent[0][MESSAGE_HANDSHAKE_INITIATION], 1 + 600 / 180 - 1, 1 + 600 / 180 + 1);
	world_free(w);
}

static void test_expired_session_not_used(void **state)
{
	struct world *w = world_new();

	send_ip(w, 1); /* B initiates this time */
	assert_int_equal(w->delivered[0], 1);
	assert_int_equal(w->sent[1][MESSAGE_HANDSHAKE_INITIATION], 1);
	/* Idle past REJECT_AFTER_TIME: the old keys must not be used; a handshake comes first. */
	run_for(w, REJECT_AFTER_TIME + NSEC_PER_SEC);
	send_ip(w, 0);
	assert_int_equal(w->sent[0][MESSAGE_HANDSHAKE_INITIATION], 1);
	assert_int_equal(w->delivered[1], 1);
	world_free(w);
}

/* Send a 100-byte IPv4 packet from device @from with the given inner addresses. */
static void send_ip_from(struct world *w, int from, const char *src, const char *dst)
{
	world_seal_ip_addrs(w, from, src, dst);
	world_deliver(w);
}

/* Cryptokey routing (paper §2): packets to an address no peer owns are not sent; packets
 * whose inner source the sending peer may not use are dropped on receipt. */
static void test_cryptokey_routing(void **state)
{
	struct world *w = world_new();
	struct ip_prefix p;

	send_ip_from(w, 0, "\x0a\x00\x00\x01", "\x0a\x00\x00\x09");
	assert_int_equal(w->dev[0].stats.tx_no_peer, 1);
	assert_int_equal(w->sent[0][MESSAGE_HANDSHAKE_INITIATION], 0);
	/* Device 0 routes 10.0.0.9 to device 1, but device 1 only accepts 10.0.0.1 from 0. */
	assert_int_equal(ip_prefix_parse(&p, "10.0.0.9/32"), 0);
	assert_int_equal(allowedips_insert(&w->dev[0].allowedips, &p, &w->peer[0]->allowedips), 0);
	send_ip_from(w, 0, "\x0a\x00\x00\x05", "\x0a\x00\x00\x09");
	assert_int_equal(w->delivered[1], 0);
	assert_int_equal(w->dev[1].stats.rx_bad_inner, 1);
	send_ip_from(w, 0, "\x0a\x00\x00\x01", "\x0a\x00\x00\x09");
	assert_int_equal(w->delivered[1], 1);
	world_free(w);
}

/* Paper §5.3 under load: the responder answers with a cookie instead of a response; the
 * initiator's retry carries mac2 made with that cookie and is accepted. */
static void test_cookie_reply_under_load(void **state)
{
	struct world *w = world_new();

	w->dev[1].load_threshold = 0;
	send_ip(w, 0);
	assert_int_equal(w->sent[1][MESSAGE_HANDSHAKE_COOKIE], 1);
	assert_int_equal(w->sent[1][MESSAGE_HANDSHAKE_RESPONSE], 0);
	assert_true(w->peer[0]->cookie.is_valid);
	run_for(w, REKEY_TIMEOUT + NSEC_PER_SEC / 2);
	assert_int_equal(w->sent[1][MESSAGE_HANDSHAKE_RESPONSE], 1);
	assert_int_equal(w->delivered[1], 1);
	assert_int_equal(w->dev[1].stats.rx_cookie_sent, 1);
	world_free(w);
}

/* Hand dev[1] @n initiations from 198.51.100.x with random bodies, their mac1 valid or not,
 * as a flood would; what dev[1] sends back is discarded. */
static void flood_initiations(struct world *w, int n, bool valid_mac1)
{
	struct message_handshake_initiation msg;
	struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = htons(40000) };
	struct cookie mac1;

	cookie_init(&mac1, w->dev[1].identity.public_key);
	for (int i = 0; i < n; i++) {
		randombytes_buf(&msg, sizeof(msg));
		msg.type = htole32(MESSAGE_HANDSHAKE_INITIATION);
		cookie_add_macs((uint8_t *)&msg, sizeof(msg), &mac1, w->clock.now);
		if (!valid_mac1)
			msg.macs.mac1[0] ^= 0xff;
		src.sin_addr.s_addr = htonl(0xc6336400u + (uint32_t)(i & 255));
		wg_receive_packet(&w->dev[1], (uint8_t *)&msg, sizeof(msg), (struct sockaddr *)&src, NULL);
	}
	w->n_net = 0;
}

/* Initiations with a wrong mac1 cost one BLAKE2s each and are dropped: however many come,
 * they must not switch cookies on, or anyone who can reach the port (without knowing our
 * public key) makes every real initiator wait for a cookie round trip and its retry. */
static void test_invalid_mac1_flood_is_not_load(void **state)
{
	struct world *w = world_new();

	w->dev[1].load_threshold = 8;
	flood_initiations(w, 200, false);
	assert_int_equal(w->dev[1].stats.rx_invalid_mac, 200);
	send_ip(w, 0);
	assert_int_equal(w->sent[1][MESSAGE_HANDSHAKE_COOKIE], 0);
	assert_int_equal(w->sent[1][MESSAGE_HANDSHAKE_RESPONSE], 1);
	assert_int_equal(w->delivered[1], 1);
	world_free(w);
}

/* The same number with a valid mac1 is load: the next initiation gets a cookie. */
static void test_valid_mac1_flood_is_load(void **state)
{
	struct world *w = world_new();

	w->dev[1].load_threshold = 8;
	flood_initiations(w, 200, true);
	assert_true(w->dev[1].stats.rx_cookie_sent > 0);
	w->sent[1][MESSAGE_HANDSHAKE_COOKIE] = 0;
	send_ip(w, 0);
	assert_int_equal(w->sent[1][MESSAGE_HANDSHAKE_COOKIE], 1);
	assert_int_equal(w->sent[1][MESSAGE_HANDSHAKE_RESPONSE], 0);
	world_free(w);
}

/* A clock that moves 1 ms each time it is read: a responder on a slow CPU, where each
 * handshake takes milliseconds. */
static uint64_t slow_mono(void *ctx)
{
	return ((struct fake_clock *)ctx)->now += NSEC_PER_SEC / 1000;
}

/* Too slow to see load_threshold messages in a second, a responder still turns cookies on:
 * an eighth of its time on handshake work is load. (Counting messages alone, a flood kept
 * it busy with DH forever, and data and new handshakes starved.) */
static void test_slow_responder_turns_cookies_on(void **state)
{
	struct world *w = world_new();
	struct wg_clock slow = { slow_mono, world_real, &w->clock };

	w->dev[1].clock = &slow;
	flood_initiations(w, 200, true);
	assert_true(w->dev[1].stats.rx_bad_handshake < 200);
	assert_true(w->dev[1].stats.rx_cookie_sent > 0);
	world_free(w);
}

/* A clock that moves 40 ms each time it is read: far slower than any real CPU (or an
 * emulated one), so that a few handshakes take more than WG_LOAD_BUSY_NS. */
static uint64_t crawling_mono(void *ctx)
{
	return ((struct fake_clock *)ctx)->now += 40 * NSEC_PER_MSEC;
}

/* However slow, a handful of handshakes is not load: the next initiation gets its response
 * at once, not a cookie and a retry REKEY_TIMEOUT later (what a few nodes starting together
 * in an emulated VM, with the ASan build, risked). Past load_threshold / WG_LOAD_BUSY_MIN_DIV of them in
 * the second, the time they took is. */
static void test_few_slow_handshakes_are_not_load(void **state)
{
	struct world *w = world_new();
	struct wg_clock crawling = { crawling_mono, world_real, &w->clock };
	uint64_t window;

	w->dev[1].clock = &crawling;
	flood_initiations(w, 4, true);
	window = w->dev[1].load_window_start;
	assert_true(w->dev[1].load_busy_ns > WG_LOAD_BUSY_NS);
	send_ip(w, 0);
	assert_int_equal(w->dev[1].load_window_start, window); /* all in one second */
	assert_int_equal(w->sent[1][MESSAGE_HANDSHAKE_COOKIE], 0);
	assert_int_equal(w->sent[1][MESSAGE_HANDSHAKE_RESPONSE], 1);
	assert_int_equal(w->delivered[1], 1);
	/* The same time over more messages than that is load. */
	w->dev[1].load_window_start = w->clock.now;
	w->dev[1].load_count = WG_DEFAULT_LOAD_THRESHOLD / WG_LOAD_BUSY_MIN_DIV;
	w->dev[1].load_busy_ns = WG_LOAD_BUSY_NS + 1;
	flood_initiations(w, 1, true);
	assert_int_equal(w->dev[1].stats.rx_cookie_sent, 1);
	world_free(w);
}

/* Under load, once half of the second went into handshake work, cookie-less initiations are
 * dropped unanswered until the second is over: a flood faster than the replies must not fill
 * the socket and hold data up behind it. */
static void test_overloaded_drops_cookieless(void **state)
{
	struct world *w = world_new();

	w->dev[1].load_threshold = 0;
	flood_initiations(w, 10, true);
	assert_int_equal(w->dev[1].stats.rx_cookie_sent, 10);
	w->dev[1].load_busy_ns = WG_LOAD_DROP_NS + 1;
	flood_initiations(w, 10, true);
	assert_int_equal(w->dev[1].stats.rx_cookie_sent, 10);
	assert_int_equal(w->dev[1].stats.rx_overloaded, 10);
	w->clock.now += NSEC_PER_SEC;
	flood_initiations(w, 1, true);
	assert_int_equal(w->dev[1].stats.rx_cookie_sent, 11);
	assert_int_equal(w->dev[1].stats.rx_overloaded, 10);
	world_free(w);
}

/* A new private key (a rotation) re-handshakes with the first packet, even within
 * REKEY_TIMEOUT of the last initiation (kernel: wg_noise_reset_last_sent_handshake). */
static void test_key_change_rehandshakes_at_once(void **state)
{
	struct world *w = world_new();
	uint8_t key[32];
	struct ip_prefix p;

	send_ip(w, 0);
	assert_int_equal(w->sent[0][MESSAGE_HANDSHAKE_INITIATION], 1);
	assert_int_equal(w->delivered[1], 1);
	run_for(w, 1 * NSEC_PER_SEC);
	randombytes_buf(key, sizeof(key));
	assert_int_equal(wg_device_set_private_key(&w->dev[0], key), 0);
	/* B learns A's new key from the store, as podwired would tell it. */
	wg_device_remove_peer(&w->dev[1], w->peer[1]);
	w->peer[1] = wg_device_add_peer(&w->dev[1], w->dev[0].identity.public_key);
	assert_non_null(w->peer[1]);
	memcpy(&w->peer[1]->endpoint, &w->addr[0], sizeof(w->addr[0]));
	assert_int_equal(ip_prefix_parse(&p, "10.0.0.1/32"), 0);
	assert_int_equal(allowedips_insert(&w->dev[1].allowedips, &p, &w->peer[1]->allowedips), 0);
	send_ip(w, 0);
	assert_int_equal(w->sent[0][MESSAGE_HANDSHAKE_INITIATION], 2);
	assert_int_equal(w->delivered[1], 2);
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_packet_handshake_and_keepalive),
		cmocka_unit_test(test_rekey_under_traffic_for_hours),
		cmocka_unit_test(test_give_up_when_peer_gone),
		cmocka_unit_test(test_zero_keys_after_3x_reject),
		cmocka_unit_test(test_persistent_keepalive),
		cmocka_unit_test(test_expired_session_not_used),
		cmocka_unit_test(test_cookie_reply_under_load),
		cmocka_unit_test(test_invalid_mac1_flood_is_not_load),
		cmocka_unit_test(test_valid_mac1_flood_is_load),
		cmocka_unit_test(test_slow_responder_turns_cookies_on),
		cmocka_unit_test(test_few_slow_handshakes_are_not_load),
		cmocka_unit_test(test_overloaded_drops_cookieless),
		cmocka_unit_test(test_cryptokey_routing),
		cmocka_unit_test(test_key_change_rehandshakes_at_once),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
