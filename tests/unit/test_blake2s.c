/* test_blake2s.c — BLAKE2s against RFC 7693 (Appendix B "abc", Appendix E self-test grand
 * hash), keyed vectors from the BLAKE2 reference blake2s-kat.txt (key 00..1f, input
 * 00..n-1), and HMAC / HKDF values cross-computed with Python's hashlib + hmac. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "datapath/userspace/blake2s.h"

static void hex2bin(uint8_t *out, const char *hex)
{
	size_t len;

	assert_int_equal(sodium_hex2bin(out, strlen(hex) / 2, hex, strlen(hex), NULL, &len, NULL), 0);
}

static void assert_hex(const uint8_t *got, size_t len, const char *hex)
{
	uint8_t want[64];

	hex2bin(want, hex);
	assert_memory_equal(got, want, len);
}

static void test_rfc7693_abc(void **state)
{
	uint8_t out[32];

	blake2s(out, 32, (const uint8_t *)"abc", 3, NULL, 0);
	assert_hex(out, 32, "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
}

/* RFC 7693 Appendix E: deterministic inputs, all output lengths, keyed and unkeyed. */
static void selftest_seq(uint8_t *out, size_t len, uint32_t seed)
{
	uint32_t t, a = 0xDEAD4BAD * seed, b = 1;
	size_t i;

	for (i = 0; i < len; i++) {
		t = a + b;
		a = b;
		b = t;
		out[i] = (t >> 24) & 0xFF;
	}
}

static void test_rfc7693_selftest(void **state)
{
	static const size_t md_len[4] = { 16, 20, 28, 32 };
	static const size_t in_len[6] = { 0, 3, 64, 65, 255, 1024 };
	uint8_t in[1024], md[32], key[32];
	struct blake2s_state ctx;
	size_t i, j;

	blake2s_init(&ctx, 32, NULL, 0);
	for (i = 0; i < 4; i++) {
		for (j = 0; j < 6; j++) {
			selftest_seq(in, in_len[j], (uint32_t)in_len[j]);
			blake2s(md, md_len[i], in, in_len[j], NULL, 0);
			blake2s_update(&ctx, md, md_len[i]);
			selftest_seq(key, md_len[i], (uint32_t)md_len[i]);
			blake2s(md, md_len[i], in, in_len[j], key, md_len[i]);
			blake2s_update(&ctx, md, md_len[i]);
		}
	}
	blake2s_final(&ctx, md);
	assert_hex(md, 32, "6a411f08ce25adcdfb02aba641451cec53c598b24f4fc787fbdc88797f4c1dfe");
}

static void test_keyed_kat(void **state)
{
	static const struct {
		size_t n;
		const char *hex;
	} kat[] = {
		{ 0, "48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49" },
		{ 1, "40d15fee7c328830166ac3f918650f807e7e01e177258cdc0a39b11f598066f1" },
		{ 2, "6bb71300644cd3991b26ccd4d274acd1adeab8b1d7914546c1198bbe9fc9d803" },
		{ 63, "c65382513f07460da39833cb666c5ed82e61b9e998f4b0c4287cee56c3cc9bcd" },
		{ 64, "8975b0577fd35566d750b362b0897a26c399136df07bababbde6203ff2954ed4" },
		{ 65, "21fe0ceb0052be7fb0f004187cacd7de67fa6eb0938d927677f2398c132317a8" },
		{ 255, "3fb735061abc519dfe979e54c1ee5bfad0a9d858b3315bad34bde999efd724dd" },
	};
	uint8_t key[32], in[256], out[32];
	size_t i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	for (i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		blake2s(out, 32, in, kat[i].n, key, 32);
		assert_hex(out, 32, kat[i].hex);
	}
}

/* Feeding the input in any split gives the same digest (block boundary handling). */
static void test_incremental(void **state)
{
	uint8_t in[300], whole[32], parts[32];
	struct blake2s_state s;
	size_t split, i;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7);
	blake2s(whole, 32, in, sizeof(in), NULL, 0);
	for (split = 0; split <= sizeof(in); split += 13) {
		blake2s_init(&s, 32, NULL, 0);
		blake2s_update(&s, in, split);
		blake2s_update(&s, in + split, sizeof(in) - split);
		blake2s_final(&s, parts);
		assert_memory_equal(whole, parts, 32);
	}
}

static void test_hmac(void **state)
{
	uint8_t out[32], longkey[100] = { 0 };

	blake2s_hmac(out, (const uint8_t *)"The quick brown fox", 19, (const uint8_t *)"key", 3);
	assert_hex(out, 32, "8717096fc5e7ac53d11d990acd4380c9ddd7bd8da5d8b5bc29855e6c98a866a4");
	/* Keys longer than a block are hashed first (RFC 2104). */
	blake2s_hmac(out, (const uint8_t *)"x", 1, longkey, sizeof(longkey));
	assert_hex(out, 32, "bd8b612994664ccc28c9046384f82ce431af5148798cd41af9e3de07597b59bb");
}

static void test_hkdf(void **state)
{
	uint8_t ck[32], t1[32], t2[32], t3[32], only1[32];
	const char *in = "input keying material";
	size_t i;

	for (i = 0; i < 32; i++)
		ck[i] = (uint8_t)i;
	blake2s_hkdf(t1, t2, t3, ck, (const uint8_t *)in, strlen(in));
	assert_hex(t1, 32, "d49ec1ae587b690ec2d4c38d1802dd052d26ab3338bc0b665629ece5dfc61ae1");
	assert_hex(t2, 32, "46d705e3e5cbc140bbfdf613d3733a0c3905bf21d5e1b34213c5a2a883b10553");
	assert_hex(t3, 32, "17e6966e3a04136a899866a1650d1a323fdcdcb19956e0e97c6be5291850b302");
	/* Output aliasing the chaining key (as noise.c does) gives the same T1. */
	memcpy(only1, ck, 32);
	blake2s_hkdf(only1, NULL, NULL, only1, (const uint8_t *)in, strlen(in));
	assert_memory_equal(only1, t1, 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7693_abc),
		cmocka_unit_test(test_rfc7693_selftest),
		cmocka_unit_test(test_keyed_kat),
		cmocka_unit_test(test_incremental),
		cmocka_unit_test(test_hmac),
		cmocka_unit_test(test_hkdf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
