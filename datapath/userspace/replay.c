/* replay.c — RFC 6479-style anti-replay bitmap: a ring of 64-bit words indexed by the
 * counter's high bits, where moving ahead clears the words it skips. */
#include "datapath/userspace/replay.h"

#include <string.h>

#define REPLAY_WORDS (REPLAY_BITS_TOTAL / REPLAY_WORD_BITS)

void replay_init(struct replay_window *w)
{
	memset(w, 0, sizeof(*w));
}

bool replay_check_and_update(struct replay_window *w, uint64_t counter)
{
	uint64_t index, cur_index, skip, i, bit;

	if (w->counter >= REJECT_AFTER_MESSAGES + 1 || counter >= REJECT_AFTER_MESSAGES)
		return false;
	/* Work with counter + 1 so that w->counter == 0 can mean "nothing seen". */
	counter++;
	if (counter + REPLAY_WINDOW_SIZE < w->counter)
		return false;

	index = counter / REPLAY_WORD_BITS;
	if (counter > w->counter) {
		cur_index = w->counter / REPLAY_WORD_BITS;
		skip = index - cur_index;
		if (skip > REPLAY_WORDS)
			skip = REPLAY_WORDS;
		for (i = 1; i <= skip; i++)
			w->bitmap[(cur_index + i) % REPLAY_WORDS] = 0;
		w->counter = counter;
	}
	index %= REPLAY_WORDS;
	bit = 1ULL << (counter % REPLAY_WORD_BITS);
	if (w->bitmap[index] & bit)
		return false;
	w->bitmap[index] |= bit;
	return true;
}
