// SPDX-License-Identifier: GPL-2.0-only
/* SLOs judged while recording: rows, shared histograms, interval verdicts. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "agg.h"
#include "slotrack.h"

#define MS 1000000ull

static const char yaml[] = "apiVersion: sloprobe/v1\n"
			   "kind: SLO\n"
			   "slos:\n"
			   "  - name: items\n"
			   "    http: {route: /items}\n"
			   "    objectives:\n"
			   "      - {p: 95, le: 300ms}\n"
			   "      - {p: 99, le: 500ms}\n"
			   "      - {target: 99%, le: 300ms}\n"
			   "      - {errors: 5xx, le: 1%}\n"
			   "      - \"count>=1000\"\n";

struct fixture {
	struct slo_set *set;
	struct agg a;
	struct agg_endpoint *ep;
	struct slotrack st;
};

static int setup(void **state)
{
	static struct fixture f;
	struct agg_req ar = { .method = "GET", .route = "/items", .status = 200 };
	char err[256];

	memset(&f, 0, sizeof(f));
	f.set = slo__parse_string(yaml, sizeof(yaml) - 1, "test.yaml", err, sizeof(err));
	if (!f.set) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if (agg__init(&f.a, 16) || agg__service(&f.a, "app:8000") < 0)
		return -1;
	f.ep = agg__add(&f.a, &ar);
	if (!f.ep || slotrack__init(&f.st, f.set))
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	slotrack__free(&f->st);
	agg__free(&f->a);
	slo__free(f->set);
	return 0;
}

static void requests(struct fixture *f, unsigned n, uint64_t lat_ns, int status, uint64_t ts)
{
	for (unsigned i = 0; i < n; i++)
		slotrack__http(&f->st, &f->a, f->ep, lat_ns, status, ts);
}

static const struct slotrack_row *row(const struct fixture *f, const char *objective)
{
	for (unsigned i = 0; i < f->st.nrows; i++) {
		char buf[128];

		slo__format_objective(f->st.rows[i].o, buf, sizeof(buf));
		if (!strcmp(buf, objective))
			return &f->st.rows[i];
	}
	fail_msg("no row for %s", objective);
	return NULL;
}

/*
 * The percentile objectives of one SLO and endpoint share one histogram, filled once per
 * request; objectives written as a share have none. Both percentiles are still observed.
 */
static void test_percentile_rows_share_histogram(void **state)
{
	struct fixture *f = *state;
	const struct slotrack_row *p95, *p99, *share;
	struct slo_result res;

	for (unsigned ms = 1; ms <= 100; ms++)
		requests(f, 1, ms * MS, 200, 1);
	assert_int_equal(f->st.nrows, 5);
	p95 = row(f, "p95 <= 300 ms");
	p99 = row(f, "p99 <= 500 ms");
	share = row(f, "99% of requests <= 300 ms");
	assert_non_null(p95->h);
	assert_ptr_equal(p95->h, p99->h);
	assert_true(p95->h_own != p99->h_own);
	assert_null(share->h);
	assert_int_equal(p95->h->count, 100);
	slotrack__roll(&f->st, 1.0);
	slotrack__eval(p95, &res);
	assert_true(fabs(res.observed - 95) < 1);
	slotrack__eval(p99, &res);
	assert_true(fabs(res.observed - 99) < 1);
}

/* A count objective is judged on the run: an interval holding part of it is no breach. */
static void test_count_not_judged_per_interval(void **state)
{
	struct fixture *f = *state;
	const struct slotrack_row *cnt;
	struct slo_result res;

	for (unsigned t = 1; t <= 3; t++) {
		requests(f, 10, 10 * MS, 200, t);
		slotrack__roll(&f->st, t);
		assert_int_equal(f->st.win.breach, 0);
		assert_int_equal(f->st.win.pass, 4);
	}
	cnt = row(f, "count >= 1000");
	assert_true(cnt->first_breach_s < 0);
	assert_int_equal(cnt->breached_intervals, 0);
	assert_false(f->ep->slo.breach);
	slotrack__eval(cnt, &res);
	assert_int_equal(res.verdict, SLO_BREACH); /* 30 of 1000 over the run */
}

/* An interval whose responses were all protection statuses (429) judged no error rate. */
static void test_protected_only_window_insufficient(void **state)
{
	struct fixture *f = *state;
	const struct slotrack_row *errs;

	requests(f, 10, 10 * MS, 429, 1);
	slotrack__roll(&f->st, 1.0);
	errs = row(f, "5xx rate <= 1%");
	assert_int_equal(errs->breached_intervals, 0);
	/* latency rows pass (p95, p99, share), errors and count have nothing to judge */
	assert_int_equal(f->st.win.pass, 3);
	assert_int_equal(f->st.win.breach, 0);
	assert_int_equal(f->st.win.insufficient, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_percentile_rows_share_histogram, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_count_not_judged_per_interval, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_protected_only_window_insufficient, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
