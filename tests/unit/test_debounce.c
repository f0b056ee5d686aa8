/* Coalescing store watch events: a change is reconciled DEBOUNCE_SETTLE_SECONDS after it
 * arrives, never sooner than DEBOUNCE_GAP_SECONDS after the last pass, and a burst of
 * changes costs one pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "daemon/debounce.h"

static void test_settle(void **state)
{
	struct debounce d = { 0 };

	/* Nothing pending: nothing due, the caller's wake-up stands. */
	assert_false(debounce_due(&d, 100.0));
	assert_true(debounce_wake(&d, 130.0) == 130.0);
	/* Long after the last pass (never): due after the settle time only. */
	debounce_change(&d, 100.0);
	assert_false(debounce_due(&d, 100.0));
	assert_false(debounce_due(&d, 100.0 + DEBOUNCE_SETTLE_SECONDS / 2));
	assert_true(debounce_due(&d, 100.0 + DEBOUNCE_SETTLE_SECONDS));
	assert_true(debounce_wake(&d, 130.0) == 100.0 + DEBOUNCE_SETTLE_SECONDS);
	/* An earlier wake-up (a resync) stays earlier. */
	assert_true(debounce_wake(&d, 100.1) == 100.1);
	debounce_ran(&d, 100.5);
	assert_false(debounce_due(&d, 1000.0));
	assert_true(debounce_wake(&d, 130.0) == 130.0);
}

static void test_gap_and_burst(void **state)
{
	struct debounce d = { 0 };
	double due;

	debounce_ran(&d, 50.0);
	/* Right after a pass: the gap, not the settle time, decides. */
	debounce_change(&d, 50.1);
	due = debounce_wake(&d, 1e9);
	assert_true(due == 50.0 + DEBOUNCE_GAP_SECONDS);
	assert_false(debounce_due(&d, due - 0.01));
	/* More changes while one is pending: the first one's time stays (one pass for all). */
	debounce_change(&d, 50.5);
	debounce_change(&d, 50.9);
	assert_true(debounce_wake(&d, 1e9) == due);
	assert_true(debounce_due(&d, due));
	debounce_ran(&d, due);
	/* A writer changing its record in a loop: at most one pass a gap. */
	for (int i = 0; i < 10; i++) {
		double last = due;

		debounce_change(&d, last + 0.01);
		due = debounce_wake(&d, 1e9);
		assert_true(due >= last + DEBOUNCE_GAP_SECONDS);
		debounce_ran(&d, due);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_settle),
		cmocka_unit_test(test_gap_and_burst),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
