// SPDX-License-Identifier: GPL-2.0-only
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "lib/u64map.h"

#define N 5000

static void test_put_get_replace(void **state)
{
	struct u64map m = { 0 };

	(void)state;
	assert_null(u64map__get(&m, 7));
	for (uint64_t k = 1; k <= N; k++)
		assert_int_equal(u64map__put(&m, k * 7919, k), 0);
	assert_int_equal(m.n, N);
	assert_true(m.cap >= 2 * N); /* grown, at most half full */
	for (uint64_t k = 1; k <= N; k++)
		assert_int_equal(*u64map__get(&m, k * 7919), k);
	assert_null(u64map__get(&m, 3));
	assert_int_equal(u64map__put(&m, 7919, 42), 0);
	assert_int_equal(m.n, N);
	assert_int_equal(*u64map__get(&m, 7919), 42);
	u64map__free(&m);
	assert_int_equal(m.cap, 0);
}

static bool odd_key(uint64_t key, uint64_t val, void *ctx)
{
	(*(unsigned *)ctx)++;
	return key & 1;
}

/*
 * Removal shifts entries back into the hole, across the end of the table too: every entry
 * must still be found afterwards, and each one must be looked at.
 */
static void test_remove_if(void **state)
{
	struct u64map m = { 0 };
	unsigned calls = 0;

	(void)state;
	/* Keys that crowd a small table: long probe runs that wrap around. */
	for (uint64_t k = 1; k <= 120; k++)
		assert_int_equal(u64map__put(&m, k, k * 10), 0);
	assert_int_equal(m.cap, 256);
	assert_int_equal(u64map__remove_if(&m, odd_key, &calls), 60);
	assert_true(calls >= 120);
	assert_int_equal(m.n, 60);
	for (uint64_t k = 1; k <= 120; k++) {
		uint64_t *v = u64map__get(&m, k);

		if (k & 1) {
			assert_null(v);
		} else {
			assert_non_null(v);
			assert_int_equal(*v, k * 10);
		}
	}
	u64map__free(&m);
}

static bool all(uint64_t key, uint64_t val, void *ctx)
{
	return true;
}

static void test_remove_all_then_reuse(void **state)
{
	struct u64map m = { 0 };

	(void)state;
	for (uint64_t k = 1; k <= N; k++)
		u64map__put(&m, u64map__mix(k) | 1, k);
	assert_int_equal(u64map__remove_if(&m, all, NULL), N);
	assert_int_equal(m.n, 0);
	for (size_t i = 0; i < m.cap; i++)
		assert_int_equal(m.keys[i], 0);
	assert_int_equal(u64map__put(&m, 9, 1), 0);
	assert_int_equal(*u64map__get(&m, 9), 1);
	u64map__free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_replace),
		cmocka_unit_test(test_remove_if),
		cmocka_unit_test(test_remove_all_then_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
