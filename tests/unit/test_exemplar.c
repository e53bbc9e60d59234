// SPDX-License-Identifier: GPL-2.0-only
/* The exemplar store: slowest kept, typical picks, bounds and what is cut, counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "record/exemplar.h"

#define MS 1000000ull

/* A request of lat with n query spans (ids 1..n), offered. */
static void offer(struct exemplars *x, struct exemplar_ep **ep, uint64_t seq, uint64_t lat,
		  unsigned n)
{
	struct exemplar e = { .seq = seq, .start = seq * 1000 * MS, .lat = lat, .status = 200 };

	for (unsigned i = 0; i < n; i++) {
		struct exemplar_span s = { .start = e.start + i, .dur = 1, .ref = i + 1 };

		exemplars__span(x, &e.sp, &s);
	}
	exemplars__offer(x, ep, &e);
	assert_null(e.sp); /* taken, kept or freed */
}

static void test_slowest_kept_in_order(void **state)
{
	struct exemplars x;
	struct exemplar_ep *ep = NULL;
	const struct exemplar *out[EXEMPLAR_SLOWEST + 2];
	int why[EXEMPLAR_SLOWEST + 2];
	unsigned n;

	exemplars__init(&x);
	/* 100 requests of 1..100 ms in a shuffled order (37 is prime to 100). */
	for (unsigned i = 0; i < 100; i++)
		offer(&x, &ep, i + 1, (uint64_t)((i * 37) % 100 + 1) * MS, 3);
	n = exemplar_ep__pick(ep, 50 * MS, 95 * MS, out, why);
	assert_true(n >= EXEMPLAR_SLOWEST);
	for (unsigned i = 0; i < EXEMPLAR_SLOWEST; i++) {
		assert_int_equal(why[i], EXEMPLAR_PICK_SLOWEST);
		assert_int_equal(out[i]->lat, (100 - i) * MS);
		assert_int_equal(out[i]->sp->n, 3);
	}
	assert_int_equal(x.st.offered, 100);
	exemplar_ep__free(ep);
	exemplars__free(&x);
}

/* Equal latencies: the first seen stays, and is listed first. */
static void test_ties_keep_the_first(void **state)
{
	struct exemplars x;
	struct exemplar_ep *ep = NULL;
	const struct exemplar *out[EXEMPLAR_SLOWEST + 2];
	int why[EXEMPLAR_SLOWEST + 2];

	exemplars__init(&x);
	for (unsigned i = 1; i <= 8; i++)
		offer(&x, &ep, i, 10 * MS, 0);
	assert_int_equal(exemplar_ep__pick(ep, 10 * MS, 10 * MS, out, why), EXEMPLAR_SLOWEST + 1);
	for (unsigned i = 0; i < EXEMPLAR_SLOWEST; i++)
		assert_int_equal(out[i]->seq, i + 1);
	/* The octave keeps the latest: request 8, as typical (p50 and p95 alike: once). */
	assert_int_equal(why[EXEMPLAR_SLOWEST], EXEMPLAR_PICK_P50);
	assert_int_equal(out[EXEMPLAR_SLOWEST]->seq, 8);
	exemplar_ep__free(ep);
	exemplars__free(&x);
}

static void test_typical_picks(void **state)
{
	struct exemplars x;
	struct exemplar_ep *ep = NULL;
	const struct exemplar *out[EXEMPLAR_SLOWEST + 2];
	int why[EXEMPLAR_SLOWEST + 2];
	unsigned n, seq = 1;

	exemplars__init(&x);
	assert_int_equal(exemplar__octave(0), 0);
	assert_int_equal(exemplar__octave(1ull << EXEMPLAR_OCT_MIN), 0);
	assert_int_equal(exemplar__octave((2ull << EXEMPLAR_OCT_MIN) - 1), 0);
	assert_int_equal(exemplar__octave(2ull << EXEMPLAR_OCT_MIN), 1);
	assert_int_equal(exemplar__octave(~0ull), EXEMPLAR_OCTAVES - 1);
	/* 5 slow ones of 1 s first, then 2 ms requests (octave of 2^20..2^21 ns) and 60 ms ones. */
	for (unsigned i = 0; i < 5; i++)
		offer(&x, &ep, seq++, 1000 * MS, 1);
	for (unsigned i = 0; i < 10; i++)
		offer(&x, &ep, seq++, 2 * MS + i, 2);
	for (unsigned i = 0; i < 3; i++)
		offer(&x, &ep, seq++, 60 * MS + i, 4);
	n = exemplar_ep__pick(ep, 2 * MS, 61 * MS, out, why);
	assert_int_equal(n, EXEMPLAR_SLOWEST + 2);
	assert_int_equal(why[5], EXEMPLAR_PICK_P50);
	assert_int_equal(out[5]->seq, 15); /* the latest 2 ms request */
	assert_int_equal(out[5]->sp->n, 2);
	assert_int_equal(why[6], EXEMPLAR_PICK_P95);
	assert_int_equal(out[6]->seq, 18);
	assert_int_equal(out[6]->sp->n, 4);
	/* p50 in an empty octave: the nearest kept. */
	n = exemplar_ep__pick(ep, 8 * MS, 8 * MS, out, why);
	assert_int_equal(n, EXEMPLAR_SLOWEST + 1);
	assert_int_equal(out[5]->seq, 15);
	assert_string_equal(exemplar__pick_name(why[5]), "p50");
	assert_int_equal(exemplar_ep__pick(NULL, 1, 1, out, why), 0);
	exemplar_ep__free(ep);
	exemplars__free(&x);
}

/* 70 spans: 64 kept, 6 counted; the copy a slowest request gives its octave is whole. */
static void test_spans_cut(void **state)
{
	struct exemplars x;
	struct exemplar_ep *ep = NULL;
	const struct exemplar *out[EXEMPLAR_SLOWEST + 2];
	int why[EXEMPLAR_SLOWEST + 2];

	exemplars__init(&x);
	offer(&x, &ep, 1, 5 * MS, EXEMPLAR_SPANS + 6);
	assert_int_equal(x.st.spans_cut, 6);
	assert_int_equal(exemplar_ep__pick(ep, 5 * MS, 5 * MS, out, why), 1);
	assert_int_equal(out[0]->sp->n, EXEMPLAR_SPANS);
	assert_int_equal(out[0]->cut, 6);
	for (unsigned i = 0; i < EXEMPLAR_SPANS; i++)
		assert_int_equal(out[0]->sp->s[i].ref, i + 1);
	/* Held: the slowest slot's spans and its octave's copy. */
	assert_int_equal(x.held, 2 * EXEMPLAR_SPANS);
	assert_int_equal(ep->oct[exemplar__octave(5 * MS)].sp->n, EXEMPLAR_SPANS);
	assert_int_equal(ep->oct[exemplar__octave(5 * MS)].cut, 6);
	exemplar_ep__free(ep);
	exemplars__free(&x);
}

/*
 * More spans than EXEMPLAR_HELD_MAX offered: what is held never passes it, a request kept
 * beyond it keeps no spans and counts them cut; replacing one frees its spans for others.
 */
static void test_budget(void **state)
{
	enum { NEP = EXEMPLAR_HELD_MAX / (EXEMPLAR_SPANS * (EXEMPLAR_SLOWEST + 1)) + 2 };
	struct exemplar_ep **eps = calloc(NEP, sizeof(*eps));
	struct exemplars x;
	uint64_t seq = 1;

	assert_non_null(eps);
	exemplars__init(&x);
	/* Each endpoint: 6 requests in one octave, 64 spans each: 5 slowest, 1 octave slot. */
	for (unsigned e = 0; e < NEP; e++) {
		for (unsigned i = 0; i < EXEMPLAR_SLOWEST + 1; i++) {
			offer(&x, &eps[e], seq++, 3 * MS + i, EXEMPLAR_SPANS);
			assert_true(x.held <= EXEMPLAR_HELD_MAX);
		}
	}
	assert_true(x.st.spans_budget > 0);
	assert_true(x.held > EXEMPLAR_HELD_MAX - (EXEMPLAR_SPANS * 2));
	{
		const struct exemplar *last = &eps[NEP - 1]->slow[0];

		assert_null(last->sp);
		assert_int_equal(last->cut, EXEMPLAR_SPANS);
	}
	/* The first endpoint's slowest replaced by a slower one: its spans are held instead. */
	{
		uint64_t held = x.held;

		offer(&x, &eps[0], seq++, 4 * MS, 10);
		assert_true(x.held <= held);
	}
	for (unsigned e = 0; e < NEP; e++)
		exemplar_ep__free(eps[e]);
	free(eps);
	exemplars__free(&x);
}

static void test_labels(void **state)
{
	struct exemplars x;
	uint32_t a, b;

	exemplars__init(&x);
	assert_string_equal(exemplars__label_str(&x, 0), "?");
	a = exemplars__label(&x, "127.0.0.1:80");
	b = exemplars__label(&x, "/pay/{id}");
	assert_true(a && b && a != b);
	assert_int_equal(exemplars__label(&x, "127.0.0.1:80"), a);
	assert_string_equal(exemplars__label_str(&x, a), "127.0.0.1:80");
	assert_string_equal(exemplars__label_str(&x, b), "/pay/{id}");
	assert_string_equal(exemplars__label_str(&x, 9999), "?");
	for (unsigned i = 0; i < EXEMPLAR_LABELS; i++) {
		char s[32];

		snprintf(s, sizeof(s), "/r%u", i);
		exemplars__label(&x, s);
	}
	/* 2 + 4096 distinct labels, room for 4095 (0 is "?"): 3 shown as "?", counted. */
	assert_int_equal(x.st.labels_cut, 3);
	assert_int_equal(exemplars__label(&x, "/another"), 0);
	assert_int_equal(x.st.labels_cut, 4);
	exemplars__free(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slowest_kept_in_order),
		cmocka_unit_test(test_ties_keep_the_first),
		cmocka_unit_test(test_typical_picks),
		cmocka_unit_test(test_spans_cut),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_labels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
