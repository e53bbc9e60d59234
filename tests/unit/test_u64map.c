// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
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
		assert_int_equal(m.slots[i].key, 0);
	assert_int_equal(u64map__put(&m, 9, 1), 0);
	assert_int_equal(*u64map__get(&m, 9), 1);
	u64map__free(&m);
}

/* The n-th key (from 1) whose home slot in a table of cap slots is home. */
static uint64_t key_at(size_t cap, size_t home, unsigned nth)
{
	for (uint64_t k = 1;; k++)
		if ((u64map__mix(k) & (cap - 1)) == home && !--nth)
			return k;
}

/* Slot of key, or -1. */
static long slot_of(const struct u64map *m, uint64_t key)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key == key)
			return (long)i;
	return -1;
}

/*
 * Deleting from the middle of a probe run: later entries whose home is at or before the hole
 * move back into it, one whose home is after the hole stays.
 */
static void test_del_in_chain(void **state)
{
	const size_t h = 100;
	uint64_t a = key_at(256, h, 1), b = key_at(256, h, 2), c = key_at(256, h, 3);
	uint64_t d = key_at(256, h + 1, 1), e = key_at(256, h + 5, 1);
	struct u64map m = { 0 };

	(void)state;
	assert_true(u64map__put(&m, a, 1) == 0 && u64map__put(&m, b, 2) == 0);
	assert_true(u64map__put(&m, c, 3) == 0 && u64map__put(&m, d, 4) == 0);
	assert_int_equal(u64map__put(&m, e, 5), 0);
	assert_int_equal(m.cap, 256);
	/* a b c d at h..h+3, a gap, e at its home h+5 */
	assert_int_equal(slot_of(&m, d), h + 3);
	assert_int_equal(slot_of(&m, e), h + 5);

	assert_true(u64map__del(&m, b));
	assert_int_equal(m.n, 4);
	assert_int_equal(slot_of(&m, a), h);
	assert_int_equal(slot_of(&m, c), h + 1);
	assert_int_equal(slot_of(&m, d), h + 2); /* its home h+1 is not after the hole */
	assert_int_equal(m.slots[h + 3].key, 0);
	assert_int_equal(slot_of(&m, e), h + 5);
	assert_null(u64map__get(&m, b));
	assert_int_equal(*u64map__get(&m, a), 1);
	assert_int_equal(*u64map__get(&m, c), 3);
	assert_int_equal(*u64map__get(&m, d), 4);
	assert_int_equal(*u64map__get(&m, e), 5);
	assert_false(u64map__del(&m, b));
	assert_int_equal(m.n, 4);

	/* The head of the run: c moves back to h, d stays at its home h+1. */
	assert_true(u64map__del(&m, a));
	assert_int_equal(slot_of(&m, c), h);
	assert_int_equal(slot_of(&m, d), h + 1);
	assert_int_equal(m.slots[h + 2].key, 0);

	/* Re-inserted, b takes the first free slot of its run; a new value replaces. */
	assert_int_equal(u64map__put(&m, b, 20), 0);
	assert_int_equal(slot_of(&m, b), h + 2);
	assert_int_equal(*u64map__get(&m, b), 20);
	assert_int_equal(u64map__put(&m, b, 21), 0);
	assert_int_equal(*u64map__get(&m, b), 21);
	assert_int_equal(m.n, 4);
	u64map__free(&m);
}

/* A run that wraps from the last slot to the first, deleted from either side of the end. */
static void test_del_wrap(void **state)
{
	const size_t last = 255;
	uint64_t x = key_at(256, last, 1), y = key_at(256, last, 2), z = key_at(256, last, 3);
	uint64_t w = key_at(256, 0, 1), q = key_at(256, 2, 1);
	struct u64map m = { 0 };

	(void)state;
	/* x y z w at 255, 0, 1, 2; q (home 2) at 3 */
	assert_true(u64map__put(&m, x, 1) == 0 && u64map__put(&m, y, 2) == 0);
	assert_true(u64map__put(&m, z, 3) == 0 && u64map__put(&m, w, 4) == 0);
	assert_int_equal(u64map__put(&m, q, 5), 0);
	assert_int_equal(slot_of(&m, x), 255);
	assert_int_equal(slot_of(&m, w), 2);
	assert_int_equal(slot_of(&m, q), 3);

	assert_true(u64map__del(&m, x));
	assert_int_equal(slot_of(&m, y), 255); /* back across the end */
	assert_int_equal(slot_of(&m, z), 0);
	assert_int_equal(slot_of(&m, w), 1);
	assert_int_equal(slot_of(&m, q), 2); /* its home */
	assert_int_equal(m.slots[3].key, 0);

	/* Hole at 0 with the run's home at 255 behind it: w (home 0) stays out of 255. */
	assert_true(u64map__del(&m, y));
	assert_int_equal(slot_of(&m, z), 255);
	assert_int_equal(slot_of(&m, w), 0);
	assert_int_equal(slot_of(&m, q), 2);
	assert_int_equal(m.slots[1].key, 0);
	assert_true(u64map__del(&m, z));
	assert_int_equal(slot_of(&m, w), 0); /* home 0 is not before the hole at 255 */
	assert_int_equal(m.slots[255].key, 0);
	assert_int_equal(m.n, 2);
	assert_int_equal(*u64map__get(&m, w), 4);
	assert_int_equal(*u64map__get(&m, q), 5);
	assert_null(u64map__get(&m, x));
	assert_null(u64map__get(&m, z));
	u64map__free(&m);
}

/* Key 0 marks empty slots: it lives beside the table, and counts like any key. */
static void test_key_zero(void **state)
{
	struct u64map m = { 0 };
	unsigned calls = 0;

	(void)state;
	assert_null(u64map__get(&m, 0));
	assert_false(u64map__del(&m, 0));
	assert_int_equal(u64map__put(&m, 0, 7), 0);
	assert_int_equal(m.cap, 0); /* nothing allocated for it */
	assert_int_equal(m.n, 1);
	assert_int_equal(*u64map__get(&m, 0), 7);
	assert_int_equal(u64map__put(&m, 0, 8), 0);
	assert_int_equal(m.n, 1);
	assert_int_equal(*u64map__get(&m, 0), 8);
	for (uint64_t k = 1; k <= 4; k++)
		assert_int_equal(u64map__put(&m, k, k), 0);
	assert_int_equal(m.n, 5);
	for (size_t i = 0, used = 0; i < m.cap; i++) {
		used += m.slots[i].key != 0;
		if (i == m.cap - 1)
			assert_int_equal(used, 4); /* not in the table */
	}
	assert_true(u64map__del(&m, 0));
	assert_false(u64map__del(&m, 0));
	assert_null(u64map__get(&m, 0));
	assert_int_equal(m.n, 4);
	assert_int_equal(*u64map__get(&m, 3), 3);

	/* remove_if offers key 0 too */
	assert_int_equal(u64map__put(&m, 0, 9), 0);
	assert_int_equal(u64map__remove_if(&m, odd_key, &calls), 2);
	assert_int_equal(calls, 5);
	assert_int_equal(*u64map__get(&m, 0), 9);
	assert_int_equal(u64map__remove_if(&m, all, NULL), 3);
	assert_null(u64map__get(&m, 0));
	assert_int_equal(m.n, 0);
	assert_int_equal(u64map__put(&m, 0, 1), 0);
	u64map__free(&m);
	assert_null(u64map__get(&m, 0));
	assert_int_equal(m.n, 0);
}

/* After reserve(n), n keys go in without a new table. */
static void test_reserve(void **state)
{
	struct u64map m = { 0 };
	struct u64map_slot *slots;

	(void)state;
	assert_int_equal(u64map__reserve(&m, 2000), 0);
	assert_int_equal(m.cap, 4096);
	assert_int_equal(m.n, 0);
	slots = m.slots;
	assert_int_equal(u64map__put(&m, 0, 0), 0);
	for (uint64_t k = 1; k < 2048; k++)
		assert_int_equal(u64map__put(&m, k * 31, k), 0);
	assert_ptr_equal(m.slots, slots); /* up to half full: 2048 */
	assert_int_equal(m.cap, 4096);
	assert_int_equal(m.n, 2048);
	assert_int_equal(u64map__put(&m, 1, 1), 0); /* one more grows it */
	assert_int_equal(m.cap, 8192);
	for (uint64_t k = 1; k < 2048; k++)
		assert_int_equal(*u64map__get(&m, k * 31), k);
	assert_int_equal(*u64map__get(&m, 0), 0);
	assert_int_equal(u64map__reserve(&m, 10), 0); /* never shrinks */
	assert_int_equal(m.cap, 8192);
	assert_int_equal(u64map__reserve(&m, 4096), 0); /* exactly half full: enough */
	assert_int_equal(m.cap, 8192);
	assert_int_equal(u64map__reserve(&m, 4097), 0);
	assert_int_equal(m.cap, 16384);
	assert_int_equal(*u64map__get(&m, 31), 1);
	assert_int_equal(u64map__reserve(&m, SIZE_MAX / 2), -ENOMEM);
	assert_int_equal(m.cap, 16384);
	u64map__free(&m);

	assert_int_equal(u64map__reserve(&m, 32), 0);
	assert_int_equal(m.cap, 64);
	assert_int_equal(u64map__reserve(&m, 1), 0);
	assert_int_equal(m.cap, 64);
	u64map__free(&m);
	assert_int_equal(u64map__reserve(&m, 1), 0);
	assert_int_equal(m.cap, 16);
	u64map__free(&m);
}

/*
 * Random puts and deletes on few keys in a small table (long runs, wrapping), against a plain
 * array: after every step each key is found with its value, or not at all.
 */
static void test_del_random(void **state)
{
	enum { KEYS = 100, STEPS = 20000 };
	uint64_t val[KEYS] = { 0 }, s = 12345;
	bool in[KEYS] = { false };
	struct u64map m = { 0 };
	size_t n = 0;

	(void)state;
	assert_int_equal(u64map__reserve(&m, KEYS), 0);
	assert_int_equal(m.cap, 256);
	for (unsigned step = 0; step < STEPS; step++) {
		unsigned k;

		s = s * 6364136223846793005ull + 1442695040888963407ull;
		k = (unsigned)(s >> 33) % KEYS;
		if (s >> 63) {
			assert_int_equal(u64map__del(&m, k), in[k]);
			n -= in[k];
			in[k] = false;
		} else {
			assert_int_equal(u64map__put(&m, k, step), 0);
			n += !in[k];
			in[k] = true;
			val[k] = step;
		}
		assert_int_equal(m.n, n);
		for (unsigned i = 0; i < KEYS; i++) {
			uint64_t *v = u64map__get(&m, i);

			if (in[i]) {
				assert_non_null(v);
				assert_int_equal(*v, val[i]);
			} else {
				assert_null(v);
			}
		}
	}
	assert_int_equal(m.cap, 256);
	u64map__free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_replace),
		cmocka_unit_test(test_remove_if),
		cmocka_unit_test(test_remove_all_then_reuse),
		cmocka_unit_test(test_del_in_chain),
		cmocka_unit_test(test_del_wrap),
		cmocka_unit_test(test_key_zero),
		cmocka_unit_test(test_reserve),
		cmocka_unit_test(test_del_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
