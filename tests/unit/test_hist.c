// SPDX-License-Identifier: GPL-2.0-only
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/hist.h"

/* Deterministic generator so failures reproduce. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng_next(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static double rng_unit(void)
{
	return (double)(rng_next() >> 11) / (double)(1ull << 53);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile, the definition hist__percentile follows. */
static uint64_t exact_pct(const uint64_t *sorted, size_t n, double q)
{
	double r = q / 100.0 * (double)n;
	size_t rank = (size_t)r;

	if ((double)rank < r)
		rank++;
	if (!rank)
		rank = 1;
	return sorted[rank - 1];
}

static void test_buckets_contiguous(void **state)
{
	assert_int_equal(hist__bucket_lo(0), 0);
	for (int i = 0; i + 1 < (int)HIST_NBUCKETS; i++) {
		assert_true(hist__bucket_lo(i) <= hist__bucket_hi(i));
		assert_int_equal(hist__bucket_hi(i) + 1, hist__bucket_lo(i + 1));
		assert_int_equal(hist__bucket_of(hist__bucket_lo(i)), i);
		assert_int_equal(hist__bucket_of(hist__bucket_hi(i)), i);
	}
	/* The last bucket ends at 2^40 - 1 and everything above clamps into it. */
	assert_int_equal(hist__bucket_hi(HIST_NBUCKETS - 1), (1ull << HIST_MAX_EXP) - 1);
	assert_int_equal(hist__bucket_of(UINT64_MAX), HIST_NBUCKETS - 1);
}

static void test_bucket_width_bound(void **state)
{
	/* A bucket's half width is at most 1/128 of its lower bound: the documented 0.79 %. */
	for (int i = HIST_LINEAR; i < (int)HIST_NBUCKETS; i++) {
		double lo = (double)hist__bucket_lo(i), hi = (double)hist__bucket_hi(i);

		assert_true((hi + 1 - lo) / 2 / lo <= 1.0 / 128 + 1e-12);
	}
}

static void test_empty_and_single(void **state)
{
	struct hist h;

	hist__init(&h);
	assert_int_equal(hist__percentile(&h, 50), 0);
	assert_true(hist__mean(&h) == 0.0);
	hist__add(&h, 50000000);
	/* One value: every percentile is that value exactly (clamped to min/max). */
	assert_int_equal(hist__percentile(&h, 1), 50000000);
	assert_int_equal(hist__percentile(&h, 50), 50000000);
	assert_int_equal(hist__percentile(&h, 99.9), 50000000);
	assert_int_equal(h.count, 1);
	assert_int_equal(h.min, 50000000);
	assert_int_equal(h.max, 50000000);
}

static void test_small_values_exact(void **state)
{
	struct hist h;

	hist__init(&h);
	for (uint64_t v = 1; v <= 100; v++)
		hist__add(&h, v);
	assert_int_equal(hist__percentile(&h, 50), 50);
	assert_int_equal(hist__percentile(&h, 99), 99);
	assert_int_equal(hist__percentile(&h, 100), 100);
	assert_int_equal(hist__percentile(&h, 0), 1);
	/* A rank that is not a whole number rounds up: ceil(99.5) = 100, ceil(0.5) = 1. */
	assert_int_equal(hist__percentile(&h, 99.5), 100);
	assert_int_equal(hist__percentile(&h, 0.5), 1);
	assert_int_equal(hist__percentile(&h, 50.01), 51);
	assert_int_equal(h.count, 100);
	assert_int_equal(h.sum, 5050);
	assert_true(hist__mean(&h) == 50.5);
}

/* Nearest rank over 4 values: p25 is the 1st, p60 the 3rd (ceil(2.4)), p75 the 3rd. */
static void test_rank_rounding(void **state)
{
	struct hist h;

	hist__init(&h);
	hist__add(&h, 4);
	hist__add(&h, 1);
	hist__add(&h, 3);
	hist__add(&h, 2);
	assert_int_equal(hist__percentile(&h, 25), 1);
	assert_int_equal(hist__percentile(&h, 25.1), 2);
	assert_int_equal(hist__percentile(&h, 50), 2);
	assert_int_equal(hist__percentile(&h, 60), 3);
	assert_int_equal(hist__percentile(&h, 75), 3);
	assert_int_equal(hist__percentile(&h, 75.1), 4);
	assert_int_equal(hist__percentile(&h, 99.99), 4);
}

/*
 * A bucket's midpoint is clamped to the exact min and max: 1006 and 1007 share the bucket
 * [1000, 1007] (midpoint 1003), so every percentile is 1006 or 1007, never 1003; p0 is the
 * exact min and p100 the exact max.
 */
static void test_clamped_to_min_max(void **state)
{
	struct hist h;

	hist__init(&h);
	assert_int_equal(hist__bucket_of(1006), hist__bucket_of(1000));
	assert_int_equal(hist__bucket_lo(hist__bucket_of(1006)), 1000);
	assert_int_equal(hist__bucket_hi(hist__bucket_of(1006)), 1007);
	hist__add(&h, 1006);
	hist__add(&h, 1006);
	assert_int_equal(hist__percentile(&h, 50), 1006);
	assert_int_equal(hist__percentile(&h, 0), 1006);
	hist__add(&h, 1007);
	assert_int_equal(hist__percentile(&h, 99), 1006);
	/* 2000 is in [2000, 2015], midpoint 2007, above the max: the max is shown. */
	hist__add(&h, 2000);
	assert_int_equal(hist__percentile(&h, 100), 2000);
	assert_int_equal(hist__percentile(&h, 99), 2000);
	assert_int_equal(hist__percentile(&h, 0), 1006);
	/* p0 is the min even where the min's bucket midpoint is above it. */
	hist__init(&h);
	hist__add(&h, 1000);
	hist__add(&h, 2000);
	assert_int_equal(hist__percentile(&h, 0), 1000);
	assert_int_equal(hist__percentile(&h, 50), 1003);
	assert_int_equal(hist__percentile(&h, 100), 2000);
	assert_int_equal(hist__percentile(&h, 150), 2000);
	assert_int_equal(hist__percentile(&h, -1), 1000);
}

struct dist_case {
	const char *name;
	uint64_t (*gen)(void);
};

/* 1 us .. 100 s, uniform in log space: exercises every octave. */
static uint64_t gen_loguniform(void)
{
	return (uint64_t)(1000.0 * pow(10.0, rng_unit() * 8.0));
}

static uint64_t gen_lognormal(void)
{
	double u1 = rng_unit() + 1e-12, u2 = rng_unit();
	double z = sqrt(-2.0 * log(u1)) * cos(2 * M_PI * u2);

	return (uint64_t)(20e6 * exp(0.6 * z)); /* median 20 ms */
}

static uint64_t gen_bimodal(void)
{
	/* A cache: 90 % hits near 300 us, 10 % misses near 80 ms. */
	if (rng_unit() < 0.9)
		return 250000 + rng_next() % 100000;
	return 70000000 + rng_next() % 20000000;
}

static uint64_t gen_constant_50ms(void)
{
	return 50000000 + rng_next() % 500000; /* 50 ms + up to 0.5 ms jitter */
}

static void check_dist(uint64_t (*gen)(void), size_t n)
{
	static const double qs[] = { 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 100 };
	uint64_t *v = malloc(n * sizeof(*v));
	struct hist *h = malloc(sizeof(*h));

	assert_non_null(v);
	assert_non_null(h);
	hist__init(h);
	for (size_t i = 0; i < n; i++) {
		v[i] = gen();
		hist__add(h, v[i]);
	}
	qsort(v, n, sizeof(*v), cmp_u64);
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		double want = (double)exact_pct(v, n, qs[i]);
		double got = (double)hist__percentile(h, qs[i]);

		/* hist.h and the README promise 1/128 (0.79 %) of the exact value at most. */
		if (fabs(got - want) / want > 1.0 / 128)
			fail_msg("q=%g want %.0f got %.0f (%.3f %%)", qs[i], want, got,
				 100 * fabs(got - want) / want);
	}
	assert_int_equal(h->count, n);
	assert_int_equal(h->min, v[0]);
	assert_int_equal(h->max, v[n - 1]);
	free(v);
	free(h);
}

static void test_dist_loguniform(void **state)
{
	check_dist(gen_loguniform, 200000);
}

static void test_dist_lognormal(void **state)
{
	check_dist(gen_lognormal, 100000);
}

static void test_dist_bimodal(void **state)
{
	check_dist(gen_bimodal, 100000);
}

static void test_dist_constant(void **state)
{
	check_dist(gen_constant_50ms, 23);
	check_dist(gen_constant_50ms, 1000);
}

static void test_merge_equals_union(void **state)
{
	struct hist *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b)), *u = malloc(sizeof(*u));

	hist__init(a);
	hist__init(b);
	hist__init(u);
	for (int i = 0; i < 50000; i++) {
		uint64_t x = gen_lognormal(), y = gen_bimodal();

		hist__add(a, x);
		hist__add(b, y);
		hist__add(u, x);
		hist__add(u, y);
	}
	hist__merge(a, b);
	assert_memory_equal(a, u, sizeof(*u));
	/* Merging an empty histogram changes nothing, min included. */
	hist__init(b);
	hist__merge(a, b);
	assert_memory_equal(a, u, sizeof(*u));
	free(a);
	free(b);
	free(u);
}

/*
 * 0 ns is a value like any other (bucket 0, e.g. a timestamp pair read within one clock tick):
 * a merge carries it over, so the merged percentiles and count_le() still see it.
 */
static void test_merge_keeps_zero_ns(void **state)
{
	struct hist a, b;

	hist__init(&a);
	hist__init(&b);
	hist__add(&a, 1000000); /* 1 ms */
	for (int i = 0; i < 3; i++)
		hist__add(&b, 0);
	hist__add(&b, 5000000); /* 5 ms */
	hist__merge(&a, &b);
	assert_int_equal(a.count, 5);
	assert_int_equal(a.buckets[0], 3);
	assert_int_equal(a.min, 0);
	assert_int_equal(a.max, 5000000);
	assert_int_equal(hist__count_le(&a, 0), 3);
	/* 0, 0, 0, 1 ms, 5 ms: p50 and p60 (rank 3) are 0 ns, p61 (rank 4) is 1 ms within 1/128 */
	assert_int_equal(hist__percentile(&a, 50), 0);
	assert_int_equal(hist__percentile(&a, 60), 0);
	assert_true(hist__percentile(&a, 61) >= 1000000 - 1000000 / 128);
	assert_true(hist__percentile(&a, 61) <= 1000000 + 1000000 / 128);
}

/* h's non-empty buckets, as the analyzer keeps them; idx and counts hold HIST_NBUCKETS. */
static void sparse_of(const struct hist *h, struct hist_sparse *s, uint16_t *idx, uint64_t *counts)
{
	memset(s, 0, sizeof(*s));
	s->idx = idx;
	s->counts = counts;
	for (int i = 0; i < (int)HIST_NBUCKETS; i++) {
		if (!h->buckets[i])
			continue;
		idx[s->n] = (uint16_t)i;
		counts[s->n++] = h->buckets[i];
	}
	s->count = h->count;
	s->sum = h->sum;
	s->min = h->count ? h->min : 0;
	s->max = h->max;
}

/* The sparse form gives the dense one's percentiles and mean, and merges back into it. */
static void test_sparse_same_as_dense(void **state)
{
	static uint16_t idx[HIST_NBUCKETS];
	static uint64_t counts[HIST_NBUCKETS];
	struct hist *h = malloc(sizeof(*h)), *back = malloc(sizeof(*back));
	struct hist_sparse s;

	assert_non_null(h);
	assert_non_null(back);
	for (int round = 0; round < 4; round++) {
		hist__init(h);
		for (int i = 0; i < 20000 * round; i++)
			hist__add(h, round == 1 ? gen_bimodal() : gen_lognormal());
		/* The last bucket, beyond the resolved range. */
		if (round == 3)
			hist__add(h, 3000ull * 1000000000ull);
		sparse_of(h, &s, idx, counts);
		for (double q = 0; q <= 100; q += 0.5)
			assert_int_equal(hist_sparse__percentile(&s, q), hist__percentile(h, q));
		assert_true(hist_sparse__mean(&s) == hist__mean(h));
		hist__init(back);
		hist__merge_sparse(back, &s);
		assert_memory_equal(back, h, sizeof(*h));
	}
	assert_int_equal(hist_sparse__percentile(&s, 100), 3000ull * 1000000000ull);
	free(h);
	free(back);
}

static void test_count_le(void **state)
{
	struct hist h;

	hist__init(&h);
	for (int i = 1; i <= 10; i++)
		hist__add(&h, (uint64_t)i * 1000000); /* 1..10 ms */
	assert_int_equal(hist__count_le(&h, 5000000), 5);
	assert_int_equal(hist__count_le(&h, 10000000), 10);
	assert_int_equal(hist__count_le(&h, 500000), 0);
	hist__add(&h, 0); /* bucket 0 */
	assert_int_equal(hist__count_le(&h, 0), 1);
	assert_int_equal(hist__count_le(&h, 5000000), 6);
}

static void test_huge_values(void **state)
{
	struct hist h;

	hist__init(&h);
	hist__add(&h, 3000ull * 1000000000ull); /* 50 minutes: beyond the resolved range */
	hist__add(&h, 1);
	assert_int_equal(h.max, 3000ull * 1000000000ull);
	assert_int_equal(hist__percentile(&h, 100), 3000ull * 1000000000ull);
	assert_int_equal(h.buckets[HIST_NBUCKETS - 1], 1);
}

static char *print_log2(const struct hist *h, int indent, int width)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	hist__print_log2(f, h, indent, width);
	fclose(f);
	return buf;
}

static void test_print_log2(void **state)
{
	struct hist h;
	char *buf;

	hist__init(&h);
	for (int i = 0; i < 4; i++)
		hist__add(&h, 50000000); /* 50 ms = 50000 us: slot 32768 -> 65535 */
	hist__add(&h, 3000);		 /* 3 us: slot 2 -> 3 */
	buf = print_log2(&h, 0, 80);
	assert_non_null(strstr(buf, "     usecs               : count     distribution\n"));
	assert_non_null(strstr(buf, "     32768 -> 65535      : 4         "
				    "|****************************************|\n"));
	assert_non_null(strstr(buf, "         2 -> 3          : 1         |**********              "
				    "                |\n"));
	/* Every line fits the width asked for. */
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		assert_true(strlen(line) <= 80);
	free(buf);
}

/*
 * The whole chart, slot by slot: from the first non-empty slot to the last, empty ones
 * included; bars scaled to the fullest slot, rounded up; the bar is width - indent - 39
 * columns, at least 10 and at most 40.
 */
static void test_print_log2_exact(void **state)
{
	struct hist h;
	char *buf;

	/* 500 ns (midpoint 501 ns: 0 us, slot 0) and 5 us (midpoint 5023 ns: slot 4 -> 7). */
	hist__init(&h);
	hist__add(&h, 500);
	for (int i = 0; i < 3; i++)
		hist__add(&h, 5000);
	buf = print_log2(&h, 2, 80);
	assert_string_equal(buf, "       usecs               : count     distribution\n"
				 "           0 -> 1          : 1         |*************          "
				 "                |\n"
				 "           2 -> 3          : 0         |                       "
				 "                |\n"
				 "           4 -> 7          : 3         |***********************"
				 "****************|\n");
	free(buf);

	/* 0 ns is in slot 0 too */
	hist__init(&h);
	hist__add(&h, 0);
	buf = print_log2(&h, 0, 49);
	assert_string_equal(buf, "     usecs               : count     distribution\n"
				 "         0 -> 1          : 1         |**********|\n");
	free(buf);

	/* Slots 4 -> 7 and 16 -> 31 (20 us, midpoint 20095 ns): no line before the first. */
	hist__init(&h);
	hist__add(&h, 5000);
	hist__add(&h, 5000);
	hist__add(&h, 20000);
	buf = print_log2(&h, 0, 45); /* 45 - 39 = 6 columns: raised to 10 */
	assert_string_equal(buf, "     usecs               : count     distribution\n"
				 "         4 -> 7          : 2         |**********|\n"
				 "         8 -> 15         : 0         |          |\n"
				 "        16 -> 31         : 1         |*****     |\n");
	free(buf);
	buf = print_log2(&h, 0, 48); /* 48 - 39 = 9 columns, one short: raised to 10 too */
	assert_non_null(strstr(buf, "         4 -> 7          : 2         |**********|\n"));
	assert_non_null(strstr(buf, "        16 -> 31         : 1         |*****     |\n"));
	free(buf);
	buf = print_log2(&h, 0, 50); /* 11 columns */
	assert_non_null(strstr(buf, "         4 -> 7          : 2         |***********|\n"));
	assert_non_null(strstr(buf, "        16 -> 31         : 1         |******     |\n"));
	free(buf);

	/* Nothing to draw: nothing printed. */
	hist__init(&h);
	buf = print_log2(&h, 0, 80);
	assert_string_equal(buf, "");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets_contiguous),
		cmocka_unit_test(test_bucket_width_bound),
		cmocka_unit_test(test_empty_and_single),
		cmocka_unit_test(test_small_values_exact),
		cmocka_unit_test(test_rank_rounding),
		cmocka_unit_test(test_clamped_to_min_max),
		cmocka_unit_test(test_dist_loguniform),
		cmocka_unit_test(test_dist_lognormal),
		cmocka_unit_test(test_dist_bimodal),
		cmocka_unit_test(test_dist_constant),
		cmocka_unit_test(test_merge_equals_union),
		cmocka_unit_test(test_merge_keeps_zero_ns),
		cmocka_unit_test(test_sparse_same_as_dense),
		cmocka_unit_test(test_count_le),
		cmocka_unit_test(test_huge_values),
		cmocka_unit_test(test_print_log2),
		cmocka_unit_test(test_print_log2_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
