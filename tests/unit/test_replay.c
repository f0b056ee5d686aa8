/* test_replay.c — the anti-replay window against the kernel selftest's edge cases
 * (selftest/counter.c) and against a brute-force reference (a set of every counter seen
 * plus the "too old" rule). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "datapath/userspace/replay.h"

static void test_edge_cases(void **state)
{
	struct replay_window *w = malloc(sizeof(*w));
	uint64_t i;

	replay_init(w);
#define T(n, v) assert_int_equal(replay_check_and_update(w, (n)), (v))
	T(0, true);
	T(1, true);
	T(1, false);
	T(9, true);
	T(8, true);
	T(7, true);
	T(7, false);
	T(REPLAY_WINDOW_SIZE, true);
	T(REPLAY_WINDOW_SIZE - 1, true);
	T(REPLAY_WINDOW_SIZE - 1, false);
	T(REPLAY_WINDOW_SIZE - 2, true);
	T(2, true);
	T(2, false);
	T(REPLAY_WINDOW_SIZE + 16, true);
	T(3, false); /* now too old */
	T(REPLAY_WINDOW_SIZE + 16, false);
	T(REPLAY_WINDOW_SIZE * 4, true);
	T(REPLAY_WINDOW_SIZE * 4 - (REPLAY_WINDOW_SIZE - 1), true); /* oldest still inside */
	T(10, false);
	T(REPLAY_WINDOW_SIZE * 4 - REPLAY_WINDOW_SIZE, true);        /* the last one inside */
	T(REPLAY_WINDOW_SIZE * 4 - REPLAY_WINDOW_SIZE - 1, false);   /* just outside */
	T(REPLAY_WINDOW_SIZE * 4 - (REPLAY_WINDOW_SIZE - 1), false);
	T(REJECT_AFTER_MESSAGES, false);
	T(REJECT_AFTER_MESSAGES - 1, true);
	T(REJECT_AFTER_MESSAGES - 1, false);
	T(REJECT_AFTER_MESSAGES, false);
	T(REJECT_AFTER_MESSAGES + 1, false);
	T(UINT64_MAX, false);

	/* Every counter in a window in reverse order, then all again: accepted once each. */
	replay_init(w);
	for (i = REPLAY_WINDOW_SIZE + 1; i-- > 1;)
		T(i, true);
	T(0, true); /* exactly WINDOW behind the highest: still inside */
	for (i = 0; i <= REPLAY_WINDOW_SIZE; i++)
		T(i, false);
	/* Big jump clears the whole ring. */
	replay_init(w);
	for (i = 1; i <= REPLAY_BITS_TOTAL; i++)
		T(i, true);
	T(REPLAY_BITS_TOTAL * 3, true);
	for (i = REPLAY_BITS_TOTAL * 3 - REPLAY_WINDOW_SIZE + 1; i < REPLAY_BITS_TOTAL * 3; i++)
		T(i, true);
#undef T
	free(w);
}

/* Reference: accept n iff not seen and n + WINDOW >= highest seen (kernel counter.c). */
static void test_against_bruteforce(void **state)
{
	const uint64_t span = 40000;
	struct replay_window *w = malloc(sizeof(*w));
	uint8_t *seen = calloc(span, 1);
	uint64_t highest = 0, n;
	bool any = false, want;
	int i;

	srand(7);
	replay_init(w);
	for (i = 0; i < 300000; i++) {
		/* Mostly near the front, sometimes far behind, sometimes jumps. */
		uint64_t base = any ? highest : 0;
		int r = rand() % 100;

		if (r < 70)
			n = base + (uint64_t)(rand() % 64);
		else if (r < 80)
			n = base > REPLAY_WINDOW_SIZE + 2 ? base - REPLAY_WINDOW_SIZE - 1 + (uint64_t)(rand() % 3) : 0;
		else if (r < 95)
			n = base > 9000 ? base - (uint64_t)(rand() % 9000) : (uint64_t)(rand() % 9000);
		else
			n = base + (uint64_t)(rand() % 3000);
		if (n >= span)
			break;
		want = !seen[n] && (!any || n + REPLAY_WINDOW_SIZE >= highest);
		assert_int_equal(replay_check_and_update(w, n), want);
		if (want) {
			seen[n] = 1;
			if (!any || n > highest)
				highest = n;
			any = true;
		}
	}
	free(seen);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edge_cases),
		cmocka_unit_test(test_against_bruteforce),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
