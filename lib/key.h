/* key.h — WireGuard's 32-byte Curve25519 keys and their base64 form, as wg(8) prints them. */
#ifndef PODWIRE_KEY_H
#define PODWIRE_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WG_KEY_LEN 32
#define WG_KEY_LEN_BASE64 45 /* 44 characters and the NUL */

/* Encode @key as exactly 44 base64 characters ending in '='. */
void key_to_base64(char out[WG_KEY_LEN_BASE64], const uint8_t key[WG_KEY_LEN]);
/* Decode exactly 44 characters; the padding and unused bits must be right, as wg checks.
 * Returns 0 or -EINVAL. */
int key_from_base64(uint8_t key[WG_KEY_LEN], const char *base64);
/* Constant-time comparisons. */
bool key_equal(const uint8_t a[WG_KEY_LEN], const uint8_t b[WG_KEY_LEN]);
bool key_is_zero(const uint8_t key[WG_KEY_LEN]);
/* A fresh private key, clamped (RFC 7748 §5) like wg genkey. */
void key_generate_private(uint8_t key[WG_KEY_LEN]);
/* A fresh preshared key: 32 random bytes. */
void key_generate_preshared(uint8_t key[WG_KEY_LEN]);
/* Clamp a private key in place (RFC 7748 §5). */
void key_clamp(uint8_t key[WG_KEY_LEN]);
/* X25519 public key of @private_key; returns 0 or -EINVAL. */
int key_public_from_private(uint8_t public_key[WG_KEY_LEN], const uint8_t private_key[WG_KEY_LEN]);
/* Erase key material (sodium_memzero). */
void key_wipe(void *key, size_t len);
/* realloc() for buffers that hold key material: the old block is wiped before it is freed,
 * where realloc would leave a copy in the heap. On failure returns NULL and @p is intact. */
void *key_realloc(void *p, size_t old_size, size_t new_size);

#endif
