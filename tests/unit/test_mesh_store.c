/* The store options podwired and podwirectl share: defaults, --etcd-endpoints implying etcd,
 * the order of options not mattering, bad values refused, argv walking. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/log.h"
#include "mesh/mesh_store.h"

static void test_defaults(void **state)
{
	struct mesh_store_args a;

	mesh_store_args_default(&a);
	assert_string_equal(a.backend, "file");
	assert_string_equal(a.location, "/var/lib/podwire/store");
	assert_int_equal(mesh_store_option(&a, "--store", "etcd"), 0);
	assert_string_equal(a.location, "http://127.0.0.1:2379");
	assert_int_equal(mesh_store_option(&a, "--store", "file"), 0);
	assert_string_equal(a.location, "/var/lib/podwire/store");
}

/* Every order of the same options gives the same store. */
static void test_order(void **state)
{
	static const char *const opts[3][2] = {
		{ "--store-dir", "/shared/podwire" },
		{ "--etcd-endpoints", "http://etcd:2379" },
		{ "--store", "etcd" },
	};
	static const int orders[6][3] = { { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 }, { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 } };

	for (int o = 0; o < 6; o++) {
		struct mesh_store_args a;

		mesh_store_args_default(&a);
		for (int k = 0; k < 3; k++)
			assert_int_equal(mesh_store_option(&a, opts[orders[o][k]][0], opts[orders[o][k]][1]), 0);
		assert_string_equal(a.backend, "etcd");
		assert_string_equal(a.location, "http://etcd:2379");
	}
	for (int o = 0; o < 2; o++) {
		struct mesh_store_args a;

		mesh_store_args_default(&a);
		assert_int_equal(mesh_store_option(&a, opts[o ? 2 : 0][0], opts[o ? 2 : 0][1]), 0);
		assert_int_equal(mesh_store_option(&a, opts[o ? 0 : 2][0], opts[o ? 0 : 2][1]), 0);
		assert_string_equal(a.backend, "etcd");
		assert_string_equal(a.location, "http://127.0.0.1:2379"); /* the directory is not a URL */
	}
}

static void test_bad(void **state)
{
	struct mesh_store_args a;

	mesh_store_args_default(&a);
	assert_int_equal(mesh_store_option(&a, "--store", "consul"), -EINVAL);
	assert_int_equal(mesh_store_option(&a, "--stor", "file"), -EINVAL);
	assert_string_equal(a.backend, "file");
	assert_string_equal(a.location, "/var/lib/podwire/store");
}

static void test_argv(void **state)
{
	char *argv[] = { "status", "-i", "wg0", "--store-dir", "/d", "--store", "etcd", "--store-dir" };
	struct mesh_store_args a;
	int i = 1;

	mesh_store_args_default(&a);
	assert_int_equal(mesh_store_arg(&a, 8, argv, &i), 0); /* -i is not a store option */
	i = 3;
	assert_int_equal(mesh_store_arg(&a, 8, argv, &i), 1);
	assert_int_equal(i, 4);
	assert_string_equal(a.location, "/d");
	i = 5;
	assert_int_equal(mesh_store_arg(&a, 8, argv, &i), 1);
	assert_string_equal(a.backend, "etcd");
	i = 7;
	assert_int_equal(mesh_store_arg(&a, 8, argv, &i), -1); /* no value */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_argv),
	};

	log_init("test_mesh_store", LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
