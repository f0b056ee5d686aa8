/* Jittered exponential backoff: every wait within [cap/2, cap] of a cap that doubles up to the
 * maximum, for the smallest and largest random draws and a sweep between; a Retry-After
 * longer than the draw wins (never sooner than the server asked, at most a tenth later);
 * a success starts again from the base. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mesh/backoff.h"

static void test_doubling_bounds(void **state)
{
	uint32_t draws[] = { 0, 1, 12345, 0x7fffffff, 0xfffffffe, 0xffffffff };

	for (size_t d = 0; d < sizeof(draws) / sizeof(draws[0]); d++) {
		struct backoff b;
		unsigned int cap = 200;

		backoff_init(&b, 200, 30000);
		for (int step = 0; step < 12; step++) {
			unsigned int w = backoff_next(&b, draws[d], 0);

			assert_in_range(w, cap / 2, cap);
			cap = cap * 2 > 30000 ? 30000 : cap * 2;
		}
		/* At the maximum it stays there. */
		assert_in_range(backoff_next(&b, draws[d], 0), 15000, 30000);
	}
}

static void test_jitter_spreads(void **state)
{
	struct backoff b;
	unsigned int lo = ~0U, hi = 0;

	/* The same step with different draws: waits spread over the whole half-interval. */
	for (uint32_t r = 0; r < 5000; r++) {
		unsigned int w;

		backoff_init(&b, 1000, 30000);
		w = backoff_next(&b, r * 2654435761U, 0);
		lo = w < lo ? w : lo;
		hi = w > hi ? w : hi;
	}
	assert_true(lo < 520);
	assert_true(hi > 980);
}

static void test_retry_after(void **state)
{
	struct backoff b;
	unsigned int w;

	backoff_init(&b, 200, 30000);
	w = backoff_next(&b, 0xffffffff, 5000);
	assert_in_range(w, 5000, 5500);
	w = backoff_next(&b, 0, 5000);
	assert_int_equal(w, 5000);
	/* A Retry-After shorter than the backoff does not shorten it. */
	for (int i = 0; i < 10; i++)
		backoff_next(&b, 0, 0);
	assert_in_range(backoff_next(&b, 0, 1000), 15000, 30000);
}

static void test_reset(void **state)
{
	struct backoff b;

	backoff_init(&b, 200, 30000);
	for (int i = 0; i < 8; i++)
		backoff_next(&b, 0, 0);
	assert_true(backoff_next(&b, 0, 0) >= 15000);
	backoff_reset(&b);
	assert_in_range(backoff_next(&b, 0xffffffff, 0), 100, 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doubling_bounds),
		cmocka_unit_test(test_jitter_spreads),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
