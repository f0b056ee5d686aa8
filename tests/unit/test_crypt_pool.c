/* test_crypt_pool.c — the fork-join crypto pool: a batch sealed by several workers is
 * byte-for-byte what sealing it in order on one thread gives, opening restores it and
 * flags exactly the tampered packets; repeated over many batches to shake out races
 * (run it under the ASan/TSan builds). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "datapath/userspace/crypt_pool.h"

#define N 64
#define LEN 1420
#define TAG 16

static void test_parallel_equals_sequential(void **state)
{
	static uint8_t plain[N][LEN + TAG], par[N][LEN + TAG], seq[N][LEN + TAG];
	struct crypt_job jp[N], js[N];
	struct crypt_pool pool;
	uint8_t key[32];
	int round, i;

	randombytes_buf(key, sizeof(key));
	assert_int_equal(crypt_pool_start(&pool, 3), 0);
	for (round = 0; round < 300; round++) {
		size_t n = 1 + (size_t)(round % N);

		for (i = 0; i < (int)n; i++) {
			size_t len = 1 + (size_t)((round * 131 + i * 17) % LEN);

			randombytes_buf(plain[i], len);
			memcpy(par[i], plain[i], len);
			memcpy(seq[i], plain[i], len);
			jp[i] = (struct crypt_job){ .encrypt = true, .key = key, .counter = (uint64_t)(round * N + i),
						    .data = par[i], .len = len };
			js[i] = jp[i];
			js[i].data = seq[i];
		}
		crypt_pool_run(&pool, jp, n);
		for (i = 0; i < (int)n; i++) {
			crypt_job_run(&js[i]);
			assert_int_equal(jp[i].out_len, js[i].len + TAG);
			assert_memory_equal(par[i], seq[i], jp[i].out_len);
		}
		/* Open them again in parallel, one in four tampered. */
		for (i = 0; i < (int)n; i++) {
			if (i % 4 == 3)
				par[i][0] ^= 0x80;
			jp[i] = (struct crypt_job){ .encrypt = false, .key = key, .counter = js[i].counter,
						    .data = par[i], .len = js[i].out_len };
		}
		crypt_pool_run(&pool, jp, n);
		for (i = 0; i < (int)n; i++) {
			assert_int_equal(jp[i].ok, i % 4 != 3);
			if (jp[i].ok) {
				assert_int_equal(jp[i].out_len, js[i].len);
				assert_memory_equal(par[i], plain[i], js[i].len);
			}
		}
	}
	crypt_pool_stop(&pool);
}

static void test_no_workers(void **state)
{
	uint8_t buf[64 + TAG] = { 0 }, key[32] = { 1 };
	struct crypt_job j = { .encrypt = true, .key = key, .counter = 5, .data = buf, .len = 64 };
	struct crypt_pool pool;

	assert_int_equal(crypt_pool_start(&pool, 0), 0);
	crypt_pool_run(&pool, &j, 1);
	assert_true(j.ok);
	assert_int_equal(j.out_len, 64 + TAG);
	j = (struct crypt_job){ .encrypt = false, .key = key, .counter = 6, .data = buf, .len = 64 + TAG };
	crypt_pool_run(&pool, &j, 1);
	assert_false(j.ok); /* wrong nonce */
	crypt_pool_stop(&pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parallel_equals_sequential),
		cmocka_unit_test(test_no_workers),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
