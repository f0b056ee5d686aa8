#include "lib/key.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static void sodium_ready(void)
{
	/* sodium_init() is idempotent and thread-safe; it only fails without entropy. */
	if (sodium_init() < 0)
		abort();
}

void key_to_base64(char out[WG_KEY_LEN_BASE64], const uint8_t key[WG_KEY_LEN])
{
	sodium_bin2base64(out, WG_KEY_LEN_BASE64, key, WG_KEY_LEN, sodium_base64_VARIANT_ORIGINAL);
}

int key_from_base64(uint8_t key[WG_KEY_LEN], const char *base64)
{
	size_t len = 0;
	const char *end = NULL;
	uint8_t tmp[WG_KEY_LEN];

	if (strlen(base64) != WG_KEY_LEN_BASE64 - 1 || base64[WG_KEY_LEN_BASE64 - 2] != '=')
		return -EINVAL;
	/* libsodium rejects non-zero unused bits and wrong padding, exactly the checks wg does. */
	if (sodium_base642bin(tmp, sizeof(tmp), base64, WG_KEY_LEN_BASE64 - 1, NULL, &len, &end,
			      sodium_base64_VARIANT_ORIGINAL) || len != WG_KEY_LEN ||
	    end != base64 + WG_KEY_LEN_BASE64 - 1) {
		sodium_memzero(tmp, sizeof(tmp));
		return -EINVAL;
	}
	memcpy(key, tmp, WG_KEY_LEN);
	sodium_memzero(tmp, sizeof(tmp));
	return 0;
}

bool key_equal(const uint8_t a[WG_KEY_LEN], const uint8_t b[WG_KEY_LEN])
{
	return sodium_memcmp(a, b, WG_KEY_LEN) == 0;
}

bool key_is_zero(const uint8_t key[WG_KEY_LEN])
{
	return sodium_is_zero(key, WG_KEY_LEN);
}

void key_clamp(uint8_t key[WG_KEY_LEN])
{
	key[0] &= 248;
	key[31] = (key[31] & 127) | 64;
}

void key_generate_preshared(uint8_t key[WG_KEY_LEN])
{
	sodium_ready();
	randombytes_buf(key, WG_KEY_LEN);
}

void key_generate_private(uint8_t key[WG_KEY_LEN])
{
	key_generate_preshared(key);
	key_clamp(key);
}

int key_public_from_private(uint8_t public_key[WG_KEY_LEN], const uint8_t private_key[WG_KEY_LEN])
{
	sodium_ready();
	/* libsodium refuses only an all-zero result; wg prints the all-zero point then, so do we. */
	if (crypto_scalarmult_curve25519_base(public_key, private_key) != 0)
		memset(public_key, 0, WG_KEY_LEN);
	return 0;
}

void key_wipe(void *key, size_t len)
{
	sodium_memzero(key, len);
}

void *key_realloc(void *p, size_t old_size, size_t new_size)
{
	void *n = malloc(new_size);

	if (!n)
		return NULL;
	if (p) {
		memcpy(n, p, old_size < new_size ? old_size : new_size);
		sodium_memzero(p, old_size);
		free(p);
	}
	return n;
}
