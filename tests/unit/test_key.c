/* Keys: base64 form exactly as wg prints and accepts it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/key.h"

/* RFC 7748 §6.1 test vector: Alice's private and public key. */
static const char *alice_priv = "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=";
static const char *alice_pub = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";

static void test_roundtrip_and_rfc7748(void **state)
{
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	char out[WG_KEY_LEN_BASE64];

	(void)state;
	assert_int_equal(key_from_base64(priv, alice_priv), 0);
	key_to_base64(out, priv);
	assert_string_equal(out, alice_priv);
	assert_int_equal(key_public_from_private(pub, priv), 0);
	key_to_base64(out, pub);
	assert_string_equal(out, alice_pub);
}

static void test_malformed(void **state)
{
	static const char *bad[] = {
		"", "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo",	/* short, no padding */
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo==",	/* long */
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCp=",	/* unused bits set */
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LC!=",	/* not base64 */
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCoA",	/* no '=' */
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25L=o=",	/* '=' inside */
		"dwdtCnMYpX08FsFy bJmRd9ML4frwJkqsXf7pR25LCo=",	/* space inside */
	};
	uint8_t key[WG_KEY_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(key_from_base64(key, bad[i]), -EINVAL);
}

static void test_generate_clamped(void **state)
{
	uint8_t a[WG_KEY_LEN], b[WG_KEY_LEN];

	(void)state;
	for (int i = 0; i < 100; i++) {
		key_generate_private(a);
		assert_int_equal(a[0] & 7, 0);
		assert_int_equal(a[31] & 128, 0);
		assert_int_equal(a[31] & 64, 64);
	}
	key_generate_preshared(b);
	assert_false(key_equal(a, b));
	memcpy(b, a, sizeof(a));
	assert_true(key_equal(a, b));
	memset(b, 0, sizeof(b));
	assert_true(key_is_zero(b));
	assert_false(key_is_zero(a));
}

/* key_realloc keeps the content (shrinking or growing) and starts from NULL like realloc. */
static void test_key_realloc(void **state)
{
	char *p = key_realloc(NULL, 0, 8);

	(void)state;
	assert_non_null(p);
	memcpy(p, "secret!", 8);
	p = key_realloc(p, 8, 4096);
	assert_non_null(p);
	assert_string_equal(p, "secret!");
	p = key_realloc(p, 4096, 4);
	assert_non_null(p);
	assert_memory_equal(p, "secr", 4);
	key_wipe(p, 4);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_realloc),
		cmocka_unit_test(test_roundtrip_and_rfc7748),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_generate_clamped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
