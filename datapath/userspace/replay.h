/* replay.h — the sliding window that rejects replayed or too-old transport counters
 * (WireGuard paper §5.4.6, RFC 6479's bitmap scheme as the kernel's counter.c). */
#ifndef PODWIRE_US_REPLAY_H
#define PODWIRE_US_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define REPLAY_BITS_TOTAL 8192
#define REPLAY_WORD_BITS 64
/* One word of the ring is always being recycled, so the usable window is one word less. */
#define REPLAY_WINDOW_SIZE (REPLAY_BITS_TOTAL - REPLAY_WORD_BITS)
/* WireGuard paper §6.1: REJECT_AFTER_MESSAGES = 2^64 - 2^13 - 1 (2^13 = the window). */
#define REJECT_AFTER_MESSAGES (UINT64_MAX - REPLAY_BITS_TOTAL - 1)

struct replay_window {
	uint64_t counter; /* highest accepted counter + 1; 0 = nothing yet */
	uint64_t bitmap[REPLAY_BITS_TOTAL / REPLAY_WORD_BITS];
};

void replay_init(struct replay_window *w);
/* Accept @counter once: returns true and records it, or false for a replay, a counter too
 * far behind the window, or one past REJECT_AFTER_MESSAGES. Call only after the packet
 * authenticated, so forged counters cannot move the window. */
bool replay_check_and_update(struct replay_window *w, uint64_t counter);

#endif
