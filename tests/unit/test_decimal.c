/* decimal: what machine-written numbers may look like, and the bound. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/decimal.h"

static void test_accepts(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(decimal_parse("0", 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(decimal_parse("65535", 65535, &v), 0);
	assert_int_equal(v, 65535);
	assert_int_equal(decimal_parse("007", 10, &v), 0); /* leading zeros are decimal, not octal */
	assert_int_equal(v, 7);
	assert_int_equal(decimal_parse("18446744073709551615", UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
}

static void test_refuses(void **state)
{
	static const char *bad[] = { "", "-1", "+1", " 1", "1 ", "0x10", "1e3", "12a", "65536",
				     "18446744073709551616" };
	uint64_t v = 42;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(decimal_parse(bad[i], i == 9 ? UINT64_MAX : 65535, &v), -EINVAL);
	assert_int_equal(v, 42); /* untouched on error */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
