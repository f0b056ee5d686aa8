/* blake2s.c — BLAKE2s as specified in RFC 7693, plus the HMAC and HKDF WireGuard uses. */
#include "datapath/userspace/blake2s.h"

#include <sodium.h>
#include <string.h>

/* RFC 7693 §2.6: the IV is SHA-256's. */
static const uint32_t blake2s_iv[8] = {
	0x6A09E667UL, 0xBB67AE85UL, 0x3C6EF372UL, 0xA54FF53AUL,
	0x510E527FUL, 0x9B05688CUL, 0x1F83D9ABUL, 0x5BE0CD19UL,
};

/* RFC 7693 §2.7: message word permutations, ten rounds for BLAKE2s. */
static const uint8_t blake2s_sigma[10][16] = {
	{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
	{ 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
	{ 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4 },
	{ 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8 },
	{ 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13 },
	{ 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9 },
	{ 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11 },
	{ 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10 },
	{ 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5 },
	{ 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0 },
};

static inline uint32_t ror32(uint32_t w, unsigned int c)
{
	return (w >> c) | (w << (32 - c));
}

static inline uint32_t load32_le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void store32_le(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

/* RFC 7693 §3.1: the mixing function G with BLAKE2s rotations (16, 12, 8, 7). */
#define G(a, b, c, d, x, y)                   \
	do {                                  \
		a = a + b + (x);              \
		d = ror32(d ^ a, 16);         \
		c = c + d;                    \
		b = ror32(b ^ c, 12);         \
		a = a + b + (y);              \
		d = ror32(d ^ a, 8);          \
		c = c + d;                    \
		b = ror32(b ^ c, 7);          \
	} while (0)

/* RFC 7693 §3.2: compression function F. */
static void blake2s_compress(struct blake2s_state *s, const uint8_t block[BLAKE2S_BLOCK_SIZE])
{
	uint32_t m[16], v[16];
	int i;

	for (i = 0; i < 16; i++)
		m[i] = load32_le(block + 4 * i);
	for (i = 0; i < 8; i++) {
		v[i] = s->h[i];
		v[i + 8] = blake2s_iv[i];
	}
	v[12] ^= s->t[0];
	v[13] ^= s->t[1];
	v[14] ^= s->f[0];
	v[15] ^= s->f[1];
	for (i = 0; i < 10; i++) {
		const uint8_t *sg = blake2s_sigma[i];

		G(v[0], v[4], v[8], v[12], m[sg[0]], m[sg[1]]);
		G(v[1], v[5], v[9], v[13], m[sg[2]], m[sg[3]]);
		G(v[2], v[6], v[10], v[14], m[sg[4]], m[sg[5]]);
		G(v[3], v[7], v[11], v[15], m[sg[6]], m[sg[7]]);
		G(v[0], v[5], v[10], v[15], m[sg[8]], m[sg[9]]);
		G(v[1], v[6], v[11], v[12], m[sg[10]], m[sg[11]]);
		G(v[2], v[7], v[8], v[13], m[sg[12]], m[sg[13]]);
		G(v[3], v[4], v[9], v[14], m[sg[14]], m[sg[15]]);
	}
	for (i = 0; i < 8; i++)
		s->h[i] ^= v[i] ^ v[i + 8];
}

static void blake2s_increment_counter(struct blake2s_state *s, uint32_t inc)
{
	s->t[0] += inc;
	s->t[1] += (s->t[0] < inc);
}

void blake2s_init(struct blake2s_state *s, size_t outlen, const uint8_t *key, size_t keylen)
{
	int i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < 8; i++)
		s->h[i] = blake2s_iv[i];
	/* RFC 7693 §2.5: parameter block word 0 = 0x0101kknn. */
	s->h[0] ^= 0x01010000UL ^ ((uint32_t)keylen << 8) ^ (uint32_t)outlen;
	s->outlen = outlen;
	if (keylen) {
		/* The key, padded to a full block, is the first block. */
		memcpy(s->buf, key, keylen);
		s->buflen = BLAKE2S_BLOCK_SIZE;
	}
}

void blake2s_update(struct blake2s_state *s, const uint8_t *in, size_t inlen)
{
	while (inlen) {
		/* The last block must be kept back for final(), so compress only when more input
		 * follows a full buffer. */
		if (s->buflen == BLAKE2S_BLOCK_SIZE) {
			blake2s_increment_counter(s, BLAKE2S_BLOCK_SIZE);
			blake2s_compress(s, s->buf);
			s->buflen = 0;
		}
		size_t n = BLAKE2S_BLOCK_SIZE - s->buflen;

		if (n > inlen)
			n = inlen;
		memcpy(s->buf + s->buflen, in, n);
		s->buflen += n;
		in += n;
		inlen -= n;
	}
}

void blake2s_final(struct blake2s_state *s, uint8_t *out)
{
	uint8_t full[BLAKE2S_HASH_SIZE];
	int i;

	blake2s_increment_counter(s, (uint32_t)s->buflen);
	memset(s->buf + s->buflen, 0, BLAKE2S_BLOCK_SIZE - s->buflen);
	s->f[0] = 0xFFFFFFFFUL;
	blake2s_compress(s, s->buf);
	for (i = 0; i < 8; i++)
		store32_le(full + 4 * i, s->h[i]);
	memcpy(out, full, s->outlen);
	sodium_memzero(full, sizeof(full));
	sodium_memzero(s, sizeof(*s));
}

void blake2s(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen,
	     const uint8_t *key, size_t keylen)
{
	struct blake2s_state s;

	blake2s_init(&s, outlen, key, keylen);
	blake2s_update(&s, in, inlen);
	blake2s_final(&s, out);
}

void blake2s_hmac(uint8_t out[BLAKE2S_HASH_SIZE], const uint8_t *in, size_t inlen,
		  const uint8_t *key, size_t keylen)
{
	uint8_t x_key[BLAKE2S_BLOCK_SIZE] = { 0 };
	uint8_t i_hash[BLAKE2S_HASH_SIZE];
	struct blake2s_state s;
	int i;

	/* RFC 2104 §2: keys longer than a block are hashed first. */
	if (keylen > BLAKE2S_BLOCK_SIZE)
		blake2s(x_key, BLAKE2S_HASH_SIZE, key, keylen, NULL, 0);
	else
		memcpy(x_key, key, keylen);

	for (i = 0; i < BLAKE2S_BLOCK_SIZE; i++)
		x_key[i] ^= 0x36;
	blake2s_init(&s, BLAKE2S_HASH_SIZE, NULL, 0);
	blake2s_update(&s, x_key, BLAKE2S_BLOCK_SIZE);
	blake2s_update(&s, in, inlen);
	blake2s_final(&s, i_hash);

	for (i = 0; i < BLAKE2S_BLOCK_SIZE; i++)
		x_key[i] ^= 0x5c ^ 0x36;
	blake2s_init(&s, BLAKE2S_HASH_SIZE, NULL, 0);
	blake2s_update(&s, x_key, BLAKE2S_BLOCK_SIZE);
	blake2s_update(&s, i_hash, BLAKE2S_HASH_SIZE);
	blake2s_final(&s, out);

	sodium_memzero(x_key, sizeof(x_key));
	sodium_memzero(i_hash, sizeof(i_hash));
}

void blake2s_hkdf(uint8_t *t1, uint8_t *t2, uint8_t *t3, const uint8_t ck[BLAKE2S_HASH_SIZE],
		  const uint8_t *input, size_t inlen)
{
	uint8_t secret[BLAKE2S_HASH_SIZE], out[BLAKE2S_HASH_SIZE + 1];

	/* RFC 5869 extract, then expand: T_i = HMAC(secret, T_{i-1} || i). */
	blake2s_hmac(secret, input, inlen, ck, BLAKE2S_HASH_SIZE);
	out[0] = 1;
	blake2s_hmac(out, out, 1, secret, BLAKE2S_HASH_SIZE);
	if (t1)
		memcpy(t1, out, BLAKE2S_HASH_SIZE);
	if (t2 || t3) {
		out[BLAKE2S_HASH_SIZE] = 2;
		blake2s_hmac(out, out, BLAKE2S_HASH_SIZE + 1, secret, BLAKE2S_HASH_SIZE);
		if (t2)
			memcpy(t2, out, BLAKE2S_HASH_SIZE);
	}
	if (t3) {
		out[BLAKE2S_HASH_SIZE] = 3;
		blake2s_hmac(out, out, BLAKE2S_HASH_SIZE + 1, secret, BLAKE2S_HASH_SIZE);
		memcpy(t3, out, BLAKE2S_HASH_SIZE);
	}
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(out, sizeof(out));
}
