/* blake2s.h — BLAKE2s (RFC 7693), its keyed mode, HMAC-BLAKE2s and WireGuard's HKDF.
 * WireGuard builds every hash, MAC and key derivation on these (paper §5.4). */
#ifndef PODWIRE_US_BLAKE2S_H
#define PODWIRE_US_BLAKE2S_H

#include <stddef.h>
#include <stdint.h>

#define BLAKE2S_BLOCK_SIZE 64
#define BLAKE2S_HASH_SIZE 32
#define BLAKE2S_KEY_SIZE 32

struct blake2s_state {
	uint32_t h[8];
	uint32_t t[2];
	uint32_t f[2];
	uint8_t buf[BLAKE2S_BLOCK_SIZE];
	size_t buflen;
	size_t outlen;
};

/* Unkeyed (keylen 0) or keyed (keylen 1..32) hashing with outlen 1..32 (RFC 7693 §3.3). */
void blake2s_init(struct blake2s_state *s, size_t outlen, const uint8_t *key, size_t keylen);
void blake2s_update(struct blake2s_state *s, const uint8_t *in, size_t inlen);
void blake2s_final(struct blake2s_state *s, uint8_t *out);
/* One-shot: out = BLAKE2s(key, in), outlen bytes. */
void blake2s(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen,
	     const uint8_t *key, size_t keylen);

/* HMAC (RFC 2104) over BLAKE2s-256: WireGuard paper §5.4 "Hmac". */
void blake2s_hmac(uint8_t out[BLAKE2S_HASH_SIZE], const uint8_t *in, size_t inlen,
		  const uint8_t *key, size_t keylen);

/* WireGuard's KDF_n (paper §5.4, HKDF RFC 5869 with HMAC-BLAKE2s): derive up to three
 * 32-byte outputs from chaining key @ck and @input. NULL outputs are skipped. */
void blake2s_hkdf(uint8_t *t1, uint8_t *t2, uint8_t *t3, const uint8_t ck[BLAKE2S_HASH_SIZE],
		  const uint8_t *input, size_t inlen);

#endif
