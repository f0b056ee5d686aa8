/* random.h — the one source of randomness (ephemeral keys, indices, jitter, cookie
 * secrets), injectable so handshakes can be replayed against fixed test vectors. */
#ifndef PODWIRE_US_RANDOM_H
#define PODWIRE_US_RANDOM_H

#include <stddef.h>
#include <stdint.h>

struct wg_random {
	void (*fill)(void *ctx, void *buf, size_t len);
	void *ctx;
};

/* libsodium's randombytes (getrandom(2)). */
extern const struct wg_random wg_random_system;

static inline uint32_t wg_random_u32(const struct wg_random *r)
{
	uint32_t v;

	r->fill(r->ctx, &v, sizeof(v));
	return v;
}

#endif
