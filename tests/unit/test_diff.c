// SPDX-License-Identifier: GPL-2.0-only
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "diff.h"

#define U DIFF_UNCHANGED
#define I DIFF_IMPROVED
#define R DIFF_REGRESSED
#define F DIFF_FEW_SAMPLES

/* The documented default rule (docs/analyze.md), case by case. */
static void test_classify_table(void **state)
{
	static const struct {
		enum diff_metric m;
		double before, after;
		uint64_t nb, na;
		enum diff_class want;
	} t[] = {
		/* latency: more than 5 % AND more than 1 ms */
		{ DIFF_LATENCY, 50, 52.4, 100, 100, U }, /* +4.8 % */
		{ DIFF_LATENCY, 50, 52.6, 100, 100, R }, /* +5.2 %, +2.6 ms */
		{ DIFF_LATENCY, 50, 47.4, 100, 100, I },
		{ DIFF_LATENCY, 10, 10.9, 100, 100, U }, /* +9 % but under 1 ms */
		{ DIFF_LATENCY, 10, 11.1, 100, 100, R },
		{ DIFF_LATENCY, 0.2, 0.9, 100, 100, U }, /* +350 %, 0.7 ms */
		{ DIFF_LATENCY, 50, 52.5, 100, 100, U }, /* exactly the threshold: not more */
		{ DIFF_LATENCY, 50, 80, 19, 100, F },	 /* under min_samples on one side */
		{ DIFF_LATENCY, 50, 80, 100, 19, F },
		{ DIFF_LATENCY, 50, 80, 20, 20, R },
		{ DIFF_LATENCY, NAN, 80, 100, 100, F },
		/* query latency: 0.1 ms floor */
		{ DIFF_DB_LATENCY, 0.5, 0.58, 100, 100, U },
		{ DIFF_DB_LATENCY, 0.5, 0.65, 100, 100, R },
		{ DIFF_DB_TIME, 10, 2, 100, 100, I },
		/* error rate: 0.1 percentage point floor, or 5 % of the baseline rate */
		{ DIFF_ERROR_RATE, 0, 0.0009, 1000, 1000, U },
		{ DIFF_ERROR_RATE, 0, 0.002, 1000, 1000, R },
		{ DIFF_ERROR_RATE, 0.05, 0.052, 1000, 1000, U }, /* 0.2 pt < 5 % of 5 % */
		{ DIFF_ERROR_RATE, 0.05, 0.053, 1000, 1000, R },
		{ DIFF_ERROR_RATE, 0.01, 0, 1000, 1000, I },
		/* queries per request: 0.5 floor */
		{ DIFF_QPR, 21, 2, 50, 50, I },
		{ DIFF_QPR, 2, 2.4, 50, 50, U },
		{ DIFF_QPR, 2, 3, 50, 50, R },
		/* throughput: higher is better */
		{ DIFF_RATE, 100, 120, 100, 100, I },
		{ DIFF_RATE, 100, 80, 100, 100, R },
		{ DIFF_RATE, 100, 104, 100, 100, U },
		{ DIFF_RATE, 0.5, 0.55, 100, 100, U },
	};
	struct diff_rule r;

	diff__default_rule(&r);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum diff_class got =
			diff__classify(&r, t[i].m, t[i].before, t[i].after, t[i].nb, t[i].na);

		if (got != t[i].want)
			fail_msg("case %zu: %g -> %g: %s, want %s", i, t[i].before, t[i].after,
				 diff__class_name(got), diff__class_name(t[i].want));
	}
}

static void test_configurable(void **state)
{
	struct diff_rule r;

	diff__default_rule(&r);
	r.rel = 0.20;
	assert_int_equal(diff__classify(&r, DIFF_LATENCY, 50, 58, 100, 100), U);
	assert_int_equal(diff__classify(&r, DIFF_LATENCY, 50, 61, 100, 100), R);
	r.lat_floor_ms = 20;
	assert_int_equal(diff__classify(&r, DIFF_LATENCY, 50, 65, 100, 100), U);
	r.min_samples = 1000;
	assert_int_equal(diff__classify(&r, DIFF_LATENCY, 50, 500, 999, 5000), F);
	assert_true(diff__threshold(&r, DIFF_LATENCY, 200) == 40);
	assert_true(diff__threshold(&r, DIFF_LATENCY, 10) == 20);
}

static void test_overall(void **state)
{
	enum diff_class a[] = { U, I, U }, b[] = { I, R, I }, c[] = { F, F }, d[] = { F, U },
			e[] = { F, I };

	assert_int_equal(diff__overall(a, 3), I);
	assert_int_equal(diff__overall(b, 3), R); /* a regression is never hidden */
	assert_int_equal(diff__overall(c, 2), F);
	assert_int_equal(diff__overall(d, 2), U);
	assert_int_equal(diff__overall(e, 2), I);
	assert_int_equal(diff__overall(a, 0), U);
	assert_string_equal(diff__class_name(F), "few samples");
}

static struct run_endpoint ep(const char *service, const char *method, const char *route)
{
	return (struct run_endpoint){ .service = service, .method = method, .route = route };
}

static void test_match_endpoints(void **state)
{
	struct run_endpoint ea[] = {
		ep("app:8080", "GET", "/items/{id}"),
		ep("app:8080", "POST", "/orders"),
		ep("0123abcd4567:80", "GET", "/health"), /* redeployed container: renamed */
		ep("a:1", "GET", "/dup"),		 /* ambiguous: two on each side */
		ep("b:1", "GET", "/dup"),
		ep("app:8080", "GET", "/gone"),
	};
	struct run_endpoint eb[] = {
		ep("app:8080", "POST", "/orders"),
		ep("app:8080", "GET", "/items/{id}"),
		ep("fedc9876ba54:80", "GET", "/health"),
		ep("c:1", "GET", "/dup"),
		ep("d:1", "GET", "/dup"),
		ep("app:8080", "GET", "/new"),
	};
	struct run a = { .eps = ea, .neps = 6 }, b = { .eps = eb, .neps = 6 };
	int bo[6];

	assert_int_equal(diff__match_endpoints(&a, &b, bo), 3);
	assert_int_equal(bo[0], 1);
	assert_int_equal(bo[1], 0);
	assert_int_equal(bo[2], 2);
	assert_int_equal(bo[3], -1);
	assert_int_equal(bo[4], -1);
	assert_int_equal(bo[5], -1);
}

static void test_match_queries(void **state)
{
	struct run_dbq qa[2] = { { .system = "postgresql", .query = "select ?" },
				 { .system = "postgresql", .query = "select * from t" } };
	struct run_dbq qb[2] = { { .system = "postgresql", .query = "select * from t" },
				 { .system = "mysql", .query = "select ?" } };
	struct run a = { .dbqs = qa, .ndbqs = 2 }, b = { .dbqs = qb, .ndbqs = 2 };
	int bo[2];

	assert_int_equal(diff__match_queries(&a, &b, bo), 1);
	assert_int_equal(bo[0], -1);
	assert_int_equal(bo[1], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify_table), cmocka_unit_test(test_configurable),
		cmocka_unit_test(test_overall),	       cmocka_unit_test(test_match_endpoints),
		cmocka_unit_test(test_match_queries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
