/* test_noise.c — Noise_IKpsk2 against fixed vectors derived independently by
 * tests/unit/noise_vectors.py (Python hashlib + cryptography, following the paper), then
 * live handshakes between two in-process parties: keys agree, replayed initiations and
 * wrong preshared keys never yield a session, unknown static keys are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "datapath/userspace/cookie.h"
#include "datapath/userspace/noise.h"

/* Output of tests/unit/noise_vectors.py. */
#define S_I_PRIV "78660f3a76e5189611224acb7d665909ee59be9d6a05e88994764c90b419164d"
#define S_R_PRIV "405ea69d9c4cde87ae2f11f751dcb0e934846cf3a38c28980a25cd8cf355e36e"
#define E_I_PRIV "e8393b192fc90f9ca781853bb517e6ecdb4765ea1d2c9f869c9a8a5dc1c5dd65"
#define E_R_PRIV "78f4d70e01a0611e5c828fa291d7f152376bface59f12375ac133417562a4e67"
#define INITIATION "01000000443322111fb22d22843e83c5616c4e80caa091331a66ff0e74573e68e084dd145172a45c887006ed4facd758cbf74d23d791a8ad13910525629a4a2f395835df13044854fefcb33ec767ea9ad23311fedd543bb4de2e7784d2c1809b4e23df258f76f5e4067e0cd3dc98dc40d51da109920dadc1f95c23220f93afe03227210200000000000000000000000000000000"
#define RESPONSE "020000008877665544332211cfb82a4c40ec91c20e0c4c131a3bdb7933b30187945a5205f25d5faa6eb68e678ea6dac991e27a92f17cbd3fcc9b3ed8256d315d5f553f94462963417c538ced00000000000000000000000000000000"
#define KEEPALIVE "0400000088776655000000000000000085d32546449e773e0e753d0731d30d99"
#define T_SEND_I "f99b403ef82d75c0a90c49433084d4d5b6a12968354d892e6e830649a1a72268"
#define T_RECV_I "d321e508bcabcac940f18a2407c80b053f71f23d5b6dc548d88f16abb8036826"
#define TIMESTAMP "400000006553f1000a000000"

static void hex(uint8_t *out, size_t len, const char *h)
{
	size_t got;

	assert_int_equal(sodium_hex2bin(out, len, h, strlen(h), NULL, &got, NULL), 0);
	assert_int_equal(got, len);
}

struct party {
	struct noise_static_identity id;
	struct noise_handshake hs; /* the handshake with the other party */
	struct cookie cookie;
};

static struct noise_handshake *lookup_one(void *ctx, const uint8_t pub[32])
{
	struct party *p = ctx;

	return !memcmp(pub, p->hs.remote_static, 32) ? &p->hs : NULL;
}

static void setup_pair(struct party *i, struct party *r, const uint8_t si[32], const uint8_t sr[32],
		       const uint8_t *psk_i, const uint8_t *psk_r)
{
	memset(i, 0, sizeof(*i));
	memset(r, 0, sizeof(*r));
	assert_int_equal(noise_identity_set(&i->id, si), 0);
	assert_int_equal(noise_identity_set(&r->id, sr), 0);
	noise_handshake_init(&i->hs, &i->id, r->id.public_key);
	noise_handshake_init(&r->hs, &r->id, i->id.public_key);
	if (psk_i)
		memcpy(i->hs.preshared_key, psk_i, 32);
	if (psk_r)
		memcpy(r->hs.preshared_key, psk_r, 32);
	cookie_init(&i->cookie, r->id.public_key);
	cookie_init(&r->cookie, i->id.public_key);
}

static void test_fixed_vectors(void **state)
{
	uint8_t si[32], sr[32], ei[32], er[32], ts[12], psk[32], want_init[148], want_resp[92];
	uint8_t tsend[32], trecv[32], want_ka[32], ka[32], nonce[12] = { 0 };
	struct message_handshake_initiation init;
	struct message_handshake_response resp;
	struct noise_keypair kpi, kpr;
	struct party i, r;
	size_t k;

	hex(si, 32, S_I_PRIV);
	hex(sr, 32, S_R_PRIV);
	hex(ei, 32, E_I_PRIV);
	hex(er, 32, E_R_PRIV);
	hex(ts, 12, TIMESTAMP);
	hex(want_init, 148, INITIATION);
	hex(want_resp, 92, RESPONSE);
	hex(tsend, 32, T_SEND_I);
	hex(trecv, 32, T_RECV_I);
	hex(want_ka, 32, KEEPALIVE);
	for (k = 0; k < 32; k++)
		psk[k] = (uint8_t)k;
	setup_pair(&i, &r, si, sr, psk, psk);

	assert_int_equal(noise_handshake_create_initiation(&init, &i.hs, &i.id, 0x11223344, ei, ts), 0);
	cookie_add_macs((uint8_t *)&init, sizeof(init), &i.cookie, 1);
	assert_memory_equal(&init, want_init, sizeof(init));

	assert_ptr_equal(noise_handshake_consume_initiation(&init, &r.id, lookup_one, &r, 1), &r.hs);
	assert_int_equal(noise_handshake_create_response(&resp, &r.hs, 0x55667788, er), 0);
	cookie_add_macs((uint8_t *)&resp, sizeof(resp), &r.cookie, 1);
	assert_memory_equal(&resp, want_resp, sizeof(resp));

	assert_int_equal(noise_handshake_consume_response(&resp, &i.hs, &i.id), 0);
	assert_int_equal(noise_handshake_begin_session(&i.hs, &kpi, 1), 0);
	assert_int_equal(noise_handshake_begin_session(&r.hs, &kpr, 1), 0);
	assert_memory_equal(kpi.send_key, tsend, 32);
	assert_memory_equal(kpi.recv_key, trecv, 32);
	assert_memory_equal(kpr.recv_key, tsend, 32);
	assert_memory_equal(kpr.send_key, trecv, 32);
	assert_true(kpi.i_am_the_initiator);
	assert_false(kpr.i_am_the_initiator);
	assert_int_equal(kpi.remote_index, 0x55667788);
	assert_int_equal(kpr.remote_index, 0x11223344);

	/* The first transport message (a keepalive, counter 0) matches too. */
	memcpy(ka, "\x04\0\0\0\x88\x77\x66\x55\0\0\0\0\0\0\0\0", 16);
	crypto_aead_chacha20poly1305_ietf_encrypt(ka + 16, NULL, NULL, 0, NULL, 0, NULL, nonce, kpi.send_key);
	assert_memory_equal(ka, want_ka, 32);
}

static void handshake(struct party *i, struct party *r, uint64_t now, const struct timespec *wall,
		      bool expect_ok, struct noise_keypair *kpi, struct noise_keypair *kpr)
{
	struct message_handshake_initiation init;
	struct message_handshake_response resp;
	uint8_t e[32], ts[12];

	randombytes_buf(e, 32);
	noise_tai64n(ts, wall);
	assert_int_equal(noise_handshake_create_initiation(&init, &i->hs, &i->id, 1, e, ts), 0);
	assert_ptr_equal(noise_handshake_consume_initiation(&init, &r->id, lookup_one, r, now), &r->hs);
	randombytes_buf(e, 32);
	assert_int_equal(noise_handshake_create_response(&resp, &r->hs, 2, e), 0);
	if (!expect_ok) {
		assert_int_not_equal(noise_handshake_consume_response(&resp, &i->hs, &i->id), 0);
		return;
	}
	assert_int_equal(noise_handshake_consume_response(&resp, &i->hs, &i->id), 0);
	assert_int_equal(noise_handshake_begin_session(&i->hs, kpi, now), 0);
	assert_int_equal(noise_handshake_begin_session(&r->hs, kpr, now), 0);
}

static void test_live_sessions(void **state)
{
	uint8_t si[32], sr[32], psk[32];
	struct noise_keypair kpi, kpr;
	struct timespec wall = { .tv_sec = 1700000000 };
	struct party i, r;
	int n;

	randombytes_buf(si, 32);
	randombytes_buf(sr, 32);
	randombytes_buf(psk, 32);
	setup_pair(&i, &r, si, sr, psk, psk);
	for (n = 0; n < 20; n++) {
		wall.tv_sec += 1;
		handshake(&i, &r, (uint64_t)(n + 1) * NSEC_PER_SEC, &wall, true, &kpi, &kpr);
		assert_memory_equal(kpi.send_key, kpr.recv_key, 32);
		assert_memory_equal(kpi.recv_key, kpr.send_key, 32);
		assert_memory_not_equal(kpi.send_key, kpi.recv_key, 32);
	}
}

static void test_wrong_psk(void **state)
{
	uint8_t si[32], sr[32], psk1[32], psk2[32];
	struct noise_keypair kpi, kpr;
	struct timespec wall = { .tv_sec = 1700000000 };
	struct party i, r;

	randombytes_buf(si, 32);
	randombytes_buf(sr, 32);
	randombytes_buf(psk1, 32);
	memcpy(psk2, psk1, 32);
	psk2[31] ^= 1;
	setup_pair(&i, &r, si, sr, psk1, psk2);
	handshake(&i, &r, NSEC_PER_SEC, &wall, false, &kpi, &kpr);
	assert_int_equal(i.hs.state, HANDSHAKE_CREATED_INITIATION); /* still waiting */
	/* And with one side having no psk at all. */
	setup_pair(&i, &r, si, sr, psk1, NULL);
	handshake(&i, &r, NSEC_PER_SEC, &wall, false, &kpi, &kpr);
}

static void test_replay_and_flood(void **state)
{
	struct message_handshake_initiation init, init2;
	uint8_t si[32], sr[32], e[32], ts[12];
	struct timespec wall = { .tv_sec = 1700000000 };
	struct party i, r, stranger;

	randombytes_buf(si, 32);
	randombytes_buf(sr, 32);
	setup_pair(&i, &r, si, sr, NULL, NULL);
	randombytes_buf(e, 32);
	noise_tai64n(ts, &wall);
	assert_int_equal(noise_handshake_create_initiation(&init, &i.hs, &i.id, 7, e, ts), 0);
	assert_non_null(noise_handshake_consume_initiation(&init, &r.id, lookup_one, &r, NSEC_PER_SEC));
	/* A fresh initiation with a newer timestamp inside 1/50 s is flood-limited... */
	wall.tv_sec++;
	noise_tai64n(ts, &wall);
	assert_int_equal(noise_handshake_create_initiation(&init2, &i.hs, &i.id, 8, e, ts), 0);
	assert_null(noise_handshake_consume_initiation(&init2, &r.id, lookup_one, &r,
						       NSEC_PER_SEC + NSEC_PER_SEC / 100));
	/* ...and accepted after it. */
	assert_non_null(noise_handshake_consume_initiation(&init2, &r.id, lookup_one, &r,
							   NSEC_PER_SEC + NSEC_PER_SEC / 40));
	/* The first message again, much later: its timestamp is not newer -> replay. */
	assert_null(noise_handshake_consume_initiation(&init, &r.id, lookup_one, &r, 100 * NSEC_PER_SEC));
	/* Timestamps within the same 2^24 ns bucket compare equal: still a replay. */
	wall.tv_nsec = 1000;
	noise_tai64n(ts, &wall);
	assert_int_equal(noise_handshake_create_initiation(&init2, &i.hs, &i.id, 9, e, ts), 0);
	assert_null(noise_handshake_consume_initiation(&init2, &r.id, lookup_one, &r, 200 * NSEC_PER_SEC));

	/* A responder that does not know the initiator's key finds no handshake. */
	randombytes_buf(si, 32);
	setup_pair(&stranger, &r, si, sr, NULL, NULL);
	noise_handshake_init(&r.hs, &r.id, sr); /* r knows only some other key */
	wall.tv_sec += 10;
	noise_tai64n(ts, &wall);
	assert_int_equal(noise_handshake_create_initiation(&init, &stranger.hs, &stranger.id, 1, e, ts), 0);
	assert_null(noise_handshake_consume_initiation(&init, &r.id, lookup_one, &r, 300 * NSEC_PER_SEC));
	/* A tampered message fails authentication. */
	init.encrypted_timestamp[0] ^= 1;
	assert_null(noise_handshake_consume_initiation(&init, &r.id, lookup_one, &r, 400 * NSEC_PER_SEC));
}

static void test_tai64n(void **state)
{
	struct timespec t = { .tv_sec = 0x12345678, .tv_nsec = 123456789 };
	uint8_t out[12];

	noise_tai64n(out, &t);
	/* 2^62 + 10 + seconds, big-endian; nanoseconds rounded down to 2^24. */
	assert_memory_equal(out, "\x40\x00\x00\x00\x12\x34\x56\x82", 8);
	assert_int_equal((uint32_t)out[8] << 24 | out[9] << 16 | out[10] << 8 | out[11],
			 123456789 & ~((1u << 24) - 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed_vectors),
		cmocka_unit_test(test_live_sessions),
		cmocka_unit_test(test_wrong_psk),
		cmocka_unit_test(test_replay_and_flood),
		cmocka_unit_test(test_tai64n),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
