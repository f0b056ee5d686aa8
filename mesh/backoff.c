/* backoff.c — jittered exponential backoff (see backoff.h). */
#include "mesh/backoff.h"

void backoff_init(struct backoff *b, unsigned int base_ms, unsigned int max_ms)
{
	b->base_ms = base_ms ? base_ms : 1;
	b->max_ms = max_ms < b->base_ms ? b->base_ms : max_ms;
	b->next_ms = 0;
}

void backoff_reset(struct backoff *b)
{
	b->next_ms = 0;
}

unsigned int backoff_next(struct backoff *b, uint32_t random, unsigned int retry_after_ms)
{
	unsigned int cap = b->next_ms ? b->next_ms : b->base_ms, half = cap / 2, wait;

	wait = half + (unsigned int)(random % ((uint64_t)(cap - half) + 1));
	b->next_ms = cap > b->max_ms / 2 ? b->max_ms : cap * 2;
	if (retry_after_ms > wait) {
		unsigned int spread = retry_after_ms / 10;

		wait = retry_after_ms + (spread ? (unsigned int)(random % ((uint64_t)spread + 1)) : 0);
	}
	return wait;
}
