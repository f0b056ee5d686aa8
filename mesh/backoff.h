/* backoff.h — how long to wait before trying a failed request again: exponential, with
 * jitter, and never sooner than the server asked (HTTP Retry-After).
 *
 * The delay doubles from @base_ms up to @max_ms; each wait is drawn in [delay/2, delay]
 * ("equal jitter"), so that the daemons of a cluster that all lost the API server at the same
 * moment do not come back at the same moment either. A Retry-After longer than the drawn
 * wait replaces it, with up to a tenth more so that those clients spread out too. The
 * randomness is passed in, so that tests can check the bounds of every step. */
#ifndef PODWIRE_MESH_BACKOFF_H
#define PODWIRE_MESH_BACKOFF_H

#include <stdint.h>

struct backoff {
	unsigned int base_ms, max_ms;
	unsigned int next_ms;		/* the upper bound of the next wait; 0: base_ms */
};

void backoff_init(struct backoff *b, unsigned int base_ms, unsigned int max_ms);
/* The request succeeded: the next failure waits base_ms again. */
void backoff_reset(struct backoff *b);
/* The wait before the next try after a failure, in ms, from @random (any 32-bit value)
 * and the server's Retry-After in ms (0: none). */
unsigned int backoff_next(struct backoff *b, uint32_t random, unsigned int retry_after_ms);

#endif
