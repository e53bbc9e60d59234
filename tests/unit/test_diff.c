// SPDX-License-Identifier: GPL-2.0-only
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyze/analyze.h"
#include "analyze/diff.h"

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
		/* error rate: 0.1 percentage point floor, or 5 % of the baseline rate, and
		 * significant at 95 % */
		{ DIFF_ERROR_RATE, 0, 0.0009, 100000, 100000, U },
		{ DIFF_ERROR_RATE, 0, 0.002, 100000, 100000, R },
		{ DIFF_ERROR_RATE, 0.05, 0.052, 100000, 100000, U }, /* 0.2 pt < 5 % of 5 % */
		{ DIFF_ERROR_RATE, 0.05, 0.053, 100000, 100000, R }, /* p = 0.0024 */
		{ DIFF_ERROR_RATE, 0.01, 0, 1000, 1000, I },	     /* 10 -> 0: p = 0.0015 */
		/* Over the floors but chance at these sizes: 2 errors in 1000 after none in
		 * 1000 (p = 0.16); the demo's 16 retries in 464 calls, then 37 in 979 (p = 0.75).
		 */
		{ DIFF_ERROR_RATE, 0, 0.002, 1000, 1000, U },
		{ DIFF_ERROR_RATE, 16.0 / 464, 37.0 / 979, 464, 979, U },
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

static void test_rate_p_value(void **state)
{
	(void)state;
	/* Values of the z-test computed independently (Python: math.erfc). */
	assert_float_equal(diff__rate_p_value(16.0 / 464, 37.0 / 979, 464, 979), 0.75481, 1e-5);
	assert_float_equal(diff__rate_p_value(0, 0.01, 1000, 1000), 0.0015233, 1e-7);
	assert_float_equal(diff__rate_p_value(0, 0.002, 1000, 1000), 0.15709, 1e-5);
	/* Same rate: 1; all against none: as good as 0; no runs: 1. */
	assert_float_equal(diff__rate_p_value(0.1, 0.1, 100, 300), 1, 1e-12);
	assert_float_equal(diff__rate_p_value(0, 1, 50, 50), 0, 1e-20);
	assert_float_equal(diff__rate_p_value(0, 0, 50, 50), 1, 0);
	assert_float_equal(diff__rate_p_value(0.5, 0.1, 0, 50), 1, 0);
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
	/* --confidence 0: the floors alone judge a rate. */
	diff__default_rule(&r);
	assert_int_equal(diff__classify(&r, DIFF_ERROR_RATE, 0, 0.002, 1000, 1000), U);
	r.alpha = 0;
	assert_int_equal(diff__classify(&r, DIFF_ERROR_RATE, 0, 0.002, 1000, 1000), R);
	r.alpha = 0.2; /* 80 %: p = 0.16 is below */
	assert_int_equal(diff__classify(&r, DIFF_ERROR_RATE, 0, 0.002, 1000, 1000), R);
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
	assert_string_equal(diff__class_name(U), "unchanged");
	assert_string_equal(diff__class_name(I), "improved");
	assert_string_equal(diff__class_name(R), "regressed");
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

/* diff__overall reads n verdicts, no more (a heap array shows a read past it). */
static void test_overall_reads_n(void **state)
{
	enum diff_class *c = malloc(2 * sizeof(*c));

	assert_non_null(c);
	c[0] = U;
	c[1] = F;
	assert_int_equal(diff__overall(c, 2), U);
	assert_int_equal(diff__overall(c + 1, 1), F);
	free(c);
}

/* Arrays exactly as long as they say, on the heap, as the report reader makes them. */
static struct run_endpoint *eps_of(const struct run_endpoint *e, unsigned n)
{
	struct run_endpoint *v = malloc((n ? n : 1) * sizeof(*v));

	assert_non_null(v);
	memcpy(v, e, n * sizeof(*v));
	return v;
}

static void test_match_endpoints_edges(void **state)
{
	const struct run_endpoint ea[] = {
		ep("x:1", "GET", "/dup"), ep("y:1", "GET", "/dup"),
		ep("z:1", "GET", "/dup"), /* renamed: one left on each side, paired */
	};
	const struct run_endpoint eb[] = {
		ep("x:1", "GET", "/dup"),
		ep("y:1", "GET", "/dup"),
		ep("w:1", "GET", "/dup"),
	};
	struct run a = { .eps = eps_of(ea, 3), .neps = 3 }, b = { .eps = eps_of(eb, 3), .neps = 3 };
	int bo[4] = { 7, 7, 7, 7 };

	assert_int_equal(diff__match_endpoints(&a, &b, bo), 3);
	assert_int_equal(bo[0], 0);
	assert_int_equal(bo[1], 1);
	assert_int_equal(bo[2], 2);
	/* one on each side, renamed: paired on method and route */
	a.neps = 1;
	a.eps[0] = ep("q:1", "GET", "/one");
	b.neps = 1;
	b.eps[0] = ep("r:2", "GET", "/one");
	assert_int_equal(diff__match_endpoints(&a, &b, bo), 1);
	assert_int_equal(bo[0], 0);
	/* nothing on one side */
	a.neps = 0;
	assert_int_equal(diff__match_endpoints(&a, &b, bo), 0);
	free(a.eps);
	/* one left unpaired: compared with its own kind, nothing past the array */
	a.eps = eps_of(ea, 1);
	a.neps = 1;
	b.neps = 0;
	assert_int_equal(diff__match_endpoints(&a, &b, bo), 0);
	assert_int_equal(bo[0], -1);
	free(a.eps);
	free(b.eps);
}

/* Each query of AFTER pairs once, even with the same text twice in BASELINE. */
static void test_match_queries_once(void **state)
{
	struct run_dbq *qa = calloc(2, sizeof(*qa)), *qb = calloc(2, sizeof(*qb));
	struct run a = { .dbqs = qa, .ndbqs = 2 }, b = { .dbqs = qb, .ndbqs = 2 };
	int bo[4];

	qa[0] = qb[0] = qa[1] = qb[1] = (struct run_dbq){ .system = "postgresql", .query = "q" };
	assert_int_equal(diff__match_queries(&a, &b, bo), 2);
	assert_int_equal(bo[0], 0);
	assert_int_equal(bo[1], 1);
	b.ndbqs = 1;
	assert_int_equal(diff__match_queries(&a, &b, bo), 1);
	assert_int_equal(bo[0], 0);
	assert_int_equal(bo[1], -1);
	free(qa);
	/* one query on each side, different: compared, nothing past the arrays */
	qa = calloc(1, sizeof(*qa));
	qa[0] = (struct run_dbq){ .system = "postgresql", .query = "other" };
	a.dbqs = qa;
	a.ndbqs = 1;
	assert_int_equal(diff__match_queries(&a, &b, bo), 0);
	assert_int_equal(bo[0], -1);
	free(qa);
	free(qb);
}

static struct hist *hist_ms(unsigned from, unsigned to)
{
	struct hist *h = malloc(sizeof(*h));

	assert_non_null(h);
	hist__init(h);
	for (unsigned v = from; v <= to; v++)
		hist__add(h, v * 1000000ull);
	return h;
}

/* A report's form of h (the analyzer keeps its non-empty buckets only). Freed with sparse_free. */
static struct hist_sparse *sparse_of(const struct hist *h)
{
	struct hist_sparse *s = calloc(1, sizeof(*s));
	unsigned n = 0;

	assert_non_null(s);
	s->idx = calloc(HIST_NBUCKETS, sizeof(*s->idx));
	s->counts = calloc(HIST_NBUCKETS, sizeof(*s->counts));
	assert_true(s->idx && s->counts);
	for (unsigned i = 0; i < HIST_NBUCKETS; i++) {
		if (!h->buckets[i])
			continue;
		s->idx[n] = i;
		s->counts[n++] = h->buckets[i];
	}
	s->n = n;
	s->count = h->count;
	s->sum = h->sum;
	s->min = h->count ? h->min : 0;
	s->max = h->max;
	return s;
}

static void sparse_free(struct hist_sparse *s)
{
	free(s->idx);
	free(s->counts);
	free(s);
}

static double ms_at(const struct hist_sparse *h, double q)
{
	return hist_sparse__percentile(h, q) / 1e6;
}

/* The values of an endpoint pair: what each is, from where, and its verdict. */
static void test_endpoint_values(void **state)
{
	struct run_endpoint x = ep("app:1", "GET", "/a"), y = x;
	struct diff_value v[DIFF_VALUES_MAX];
	struct diff_rule r;

	struct hist *hx = hist_ms(1, 100), *hy = hist_ms(101, 200), empty;

	diff__default_rule(&r);
	for (unsigned k = 1; k <= 100; k++)
		hist__add(hy, k * 10000000ull); /* 10 .. 1000 ms: p49 and p50 apart */
	x.hist = sparse_of(hx);
	y.hist = sparse_of(hy);
	x.count = y.count = 100;
	x.rate_per_s = 10;
	y.rate_per_s = 10.05;
	x.err5xx = 1;
	y.err5xx = 3;
	x.has_db = true;
	x.db = (struct run_ep_db){ .requests = 50,
				   .queries_per_request = 2,
				   .db_time_ms_per_request = 1 };
	assert_int_equal(diff__endpoint(&r, &x, &y, v), 6); /* no DB on one side: no DB rows */
	y.has_db = true;
	y.db = (struct run_ep_db){ .requests = 19,
				   .queries_per_request = 0,
				   .db_time_ms_per_request = 0.5 };
	assert_int_equal(diff__endpoint(&r, &x, &y, v), 8);
	assert_string_equal(v[0].name, "requests");
	assert_false(v[0].judged);
	assert_true(v[0].before == 100 && v[0].after == 100);
	assert_string_equal(v[1].name, "rate/s");
	assert_int_equal(v[1].cls, U);
	assert_string_equal(v[2].name, "p50 ms");
	assert_true(v[2].before == ms_at(x.hist, 50) && v[2].after == ms_at(y.hist, 50));
	assert_true(v[2].after != ms_at(y.hist, 49));
	assert_int_equal(v[2].cls, R);
	assert_int_equal(v[2].show, DIFF_SHOW_MS);
	assert_string_equal(v[3].name, "p95 ms");
	assert_true(v[3].before == ms_at(x.hist, 95) && v[3].after == ms_at(y.hist, 95));
	assert_true(v[3].after != ms_at(y.hist, 96));
	assert_string_equal(v[4].name, "p99 ms");
	assert_true(v[4].before == ms_at(x.hist, 99) && v[4].after == ms_at(y.hist, 99));
	assert_string_equal(v[5].name, "5xx rate");
	assert_true(v[5].before == 0.01 && v[5].after == 0.03);
	/* 1 then 3 errors in 100 requests: over the floors, but chance (p = 0.31). */
	assert_int_equal(v[5].cls, U);
	r.alpha = 0;
	assert_int_equal(diff__endpoint(&r, &x, &y, v), 8);
	assert_int_equal(v[5].cls, R);
	r.alpha = 0.05;
	assert_int_equal(v[5].show, DIFF_SHOW_RATIO);
	assert_string_equal(v[6].name, "queries/request");
	assert_true(v[6].before == 2 && v[6].after == 0);
	assert_int_equal(v[6].nb, 50); /* requests with DB work, not all requests */
	assert_int_equal(v[6].na, 19);
	assert_int_equal(v[6].cls, F); /* 19 requests with DB work after */
	assert_string_equal(v[7].name, "DB ms/request");
	assert_true(v[7].before == 1 && v[7].after == 0.5);
	assert_int_equal(diff__values_overall(v, 8), R);
	/* neither side ran a query: no DB rows */
	x.db.queries_per_request = 0;
	assert_int_equal(diff__endpoint(&r, &x, &y, v), 6);
	/* no requests: ratios and percentiles unknown, not zero */
	x.count = 0;
	sparse_free(x.hist);
	hist__init(&empty);
	x.hist = sparse_of(&empty);
	assert_int_equal(diff__endpoint(&r, &x, &y, v), 6);
	assert_true(isnan(v[2].before));
	assert_true(isnan(v[5].before));
	assert_int_equal(v[2].cls, F);
	sparse_free(x.hist);
	sparse_free(y.hist);
	free(hx);
	free(hy);
}

static void test_query_values(void **state)
{
	struct run_dbq x = {
		.system = "postgresql", .query = "q", .count = 100, .rate_per_s = 5, .errors = 0
	};
	struct run_dbq y = x;
	struct diff_value v[DIFF_VALUES_MAX];
	struct diff_rule r;

	struct hist *h = hist_ms(1, 100);

	diff__default_rule(&r);
	x.hist = sparse_of(h);
	y.hist = sparse_of(h);
	y.errors = 2;
	assert_int_equal(diff__query(&r, &x, &y, v), 7);
	assert_string_equal(v[0].name, "calls");
	assert_false(v[0].judged);
	assert_string_equal(v[1].name, "rate/s");
	assert_string_equal(v[2].name, "p50 ms");
	assert_true(v[2].before == ms_at(x.hist, 50));
	assert_true(v[2].after != ms_at(y.hist, 49));
	assert_int_equal(v[2].dm, DIFF_DB_LATENCY);
	assert_string_equal(v[3].name, "p95 ms");
	assert_true(v[3].before == ms_at(x.hist, 95));
	assert_string_equal(v[4].name, "p99 ms");
	assert_true(v[4].before == ms_at(x.hist, 99));
	assert_true(v[4].after == ms_at(y.hist, 99) && v[4].after != ms_at(y.hist, 100));
	assert_string_equal(v[5].name, "error rate");
	assert_true(v[5].after == 0.02);
	/* 0 then 2 errors in 100: chance (p = 0.16). */
	assert_int_equal(v[5].cls, U);
	r.alpha = 0;
	assert_int_equal(diff__query(&r, &x, &y, v), 7);
	assert_int_equal(v[5].cls, R);
	r.alpha = 0.05;
	assert_string_equal(v[6].name, "total ms");
	assert_true(v[6].before == 5050.0);
	assert_false(v[6].judged);
	assert_int_equal(diff__values_overall(v, 7), R);
	y.errors = 0;
	assert_int_equal(diff__query(&r, &x, &y, v), 7);
	assert_int_equal(diff__values_overall(v, 7), U);
	sparse_free(x.hist);
	sparse_free(y.hist);
	free(h);
}

/*
 * A query's p50 and p95 in each run are its 50th and 95th of 100 calls by nearest rank, not a
 * neighbour: after, 49 calls of 100 ms, the 50th of 150 ms, 44 of 200 ms, the 95th of 300 ms
 * and 5 of 1000 ms, so p50 is 150 ms and p95 300 ms, within the histogram's 1/64 resolution.
 */
static void test_query_percentiles_by_rank(void **state)
{
	static const struct {
		unsigned n, ms;
	} after[] = { { 49, 100 }, { 1, 150 }, { 44, 200 }, { 1, 300 }, { 5, 1000 } };
	struct run_dbq x = { .system = "postgresql", .query = "q", .count = 100 }, y = x;
	struct diff_value v[DIFF_VALUES_MAX];
	struct hist *hx = hist_ms(1, 100), *hy = malloc(sizeof(*hy));
	struct diff_rule r;

	assert_non_null(hy);
	hist__init(hy);
	for (unsigned k = 0; k < sizeof(after) / sizeof(after[0]); k++)
		for (unsigned i = 0; i < after[k].n; i++)
			hist__add(hy, after[k].ms * 1000000ull);
	diff__default_rule(&r);
	x.hist = sparse_of(hx);
	y.hist = sparse_of(hy);
	assert_int_equal(diff__query(&r, &x, &y, v), 7);
	assert_string_equal(v[2].name, "p50 ms");
	assert_true(fabs(v[2].before - 50) < 1 && fabs(v[2].after - 150) < 3);
	assert_int_equal(v[2].cls, R);
	assert_string_equal(v[3].name, "p95 ms");
	assert_true(fabs(v[3].before - 95) < 2 && fabs(v[3].after - 300) < 5);
	assert_string_equal(v[4].name, "p99 ms");
	assert_true(fabs(v[4].after - 1000) < 16);
	/* total time: 49 x 100 + 150 + 44 x 200 + 300 + 5 x 1000 ms */
	assert_true(v[6].after == 19150);
	sparse_free(x.hist);
	sparse_free(y.hist);
	free(hx);
	free(hy);
}

/* DB rows when either side ran queries: none before and half a query per request after. */
static void test_endpoint_db_rows_when_either_queried(void **state)
{
	struct run_endpoint x = ep("app:1", "GET", "/a"), y = x;
	struct diff_value v[DIFF_VALUES_MAX];
	struct diff_rule r;
	struct hist empty;

	diff__default_rule(&r);
	hist__init(&empty);
	x.hist = sparse_of(&empty);
	y.hist = sparse_of(&empty);
	x.has_db = y.has_db = true;
	x.db = (struct run_ep_db){ .requests = 100, .queries_per_request = 0 };
	y.db = (struct run_ep_db){ .requests = 100, .queries_per_request = 0.5 };
	assert_int_equal(diff__endpoint(&r, &x, &y, v), 8);
	assert_string_equal(v[6].name, "queries/request");
	assert_true(v[6].before == 0 && v[6].after == 0.5);
	assert_int_equal(diff__endpoint(&r, &y, &x, v), 8);
	assert_true(v[6].before == 0.5 && v[6].after == 0);
	y.db.queries_per_request = 0;
	assert_int_equal(diff__endpoint(&r, &x, &y, v), 6);
	sparse_free(x.hist);
	sparse_free(y.hist);
}

/* Only judged values other than throughput decide the overall verdict, the first included. */
static void test_values_overall(void **state)
{
	struct diff_value v[3] = {
		{ .judged = true, .dm = DIFF_LATENCY, .cls = R },
		{ .judged = true, .dm = DIFF_LATENCY, .cls = U },
		{ .judged = true, .dm = DIFF_RATE, .cls = R },
	};

	assert_int_equal(diff__values_overall(v, 2), R);
	assert_int_equal(diff__values_overall(v + 1, 2), U); /* throughput does not decide */
	v[0] = (struct diff_value){ .judged = false, .dm = DIFF_LATENCY, .cls = U };
	v[1].cls = F;
	assert_int_equal(diff__values_overall(v, 2), F); /* an unjudged value is no verdict */
	assert_int_equal(diff__values_overall(v, 0), U);
}

static void test_find_slo(void **state)
{
	struct run_slo s[] = {
		{ .name = "a", .objective = "p95 <= 300 ms", .target = "http GET /x" },
		{ .name = "a", .objective = "p95 <= 300 ms", .target = "http GET /y" },
		{ .name = "b", .objective = "p99 <= 1 s", .target = NULL },
	};
	struct run r = { .slo = s, .nslo = 3 };
	struct run_slo q = { .name = "a", .objective = "p95 <= 300 ms", .target = "http GET /y" };

	assert_ptr_equal(diff__find_slo(&r, &q), &s[1]);
	q.target = NULL; /* no target: the first of that name and objective */
	assert_ptr_equal(diff__find_slo(&r, &q), &s[0]);
	q.target = "http GET /z";
	assert_null(diff__find_slo(&r, &q));
	q.name = "b";
	q.objective = "p99 <= 1 s";
	assert_ptr_equal(diff__find_slo(&r, &q), &s[2]);
	q.objective = "p99 <= 2 s";
	assert_null(diff__find_slo(&r, &q));
	r.nslo = 0;
	q.objective = "p99 <= 1 s";
	assert_null(diff__find_slo(&r, &q));
}

/* An outbound call's failure rate counts what a retry follows: no answer, a 429 or a 5xx. */
static void test_out_call_failures(void **state)
{
	struct run_count fx[] = { { "refused", 3 }, { "timeout", 2 } };
	struct run_count sx[] = { { "200", 80 }, { "429", 5 }, { "503", 10 } };
	struct run_count sy[] = { { "200", 100 } };
	struct run_out_call x = { .count = 100, .answered = 95, .err5xx = 10, .retries = 20 };
	struct run_out_call y = { .count = 100, .answered = 100 };
	struct diff_value v[DIFF_VALUES_MAX];
	struct diff_rule r;
	struct hist *h = hist_ms(1, 100);
	unsigned n;

	diff__default_rule(&r);
	x.failures = (struct run_counts){ fx, 2 };
	x.status = (struct run_counts){ sx, 3 };
	y.status = (struct run_counts){ sy, 1 };
	x.hist = sparse_of(h);
	y.hist = sparse_of(h);
	n = diff__out_call(&r, &x, &y, v);
	assert_int_equal(n, 6);
	assert_string_equal(v[4].name, "failure rate");
	assert_true(fabs(v[4].before - 0.20) < 1e-12); /* 5 unanswered + 5 x 429 + 10 x 5xx */
	assert_true(v[4].after == 0);
	assert_int_equal(v[4].cls, I);
	assert_string_equal(v[5].name, "retries/call");
	assert_true(fabs(v[5].before - 0.2) < 1e-12);
	sparse_free(x.hist);
	sparse_free(y.hist);
	free(h);
}

/*
 * The prose of a diff section (rundiff.c) in each format: the same words, text and markdown as
 * they always were, HTML escaped into <h2> and <p> (runhtml_diff.c puts them in its page).
 */
static void test_prose_formats(void **state)
{
	static const char *const want[] = {
		"\nCache (Redis) <x>\n  Rows: 1 & 2\n  only in baseline: <b>\n",
		"\n## Cache (Redis) <x>\n\nRows: 1 & 2\n\n- only in baseline: <b>\n",
		"<h2>Cache (Redis) &lt;x&gt;</h2>\n<p>Rows: 1 &amp; 2</p>\n"
		"<p class=\"note\">only in baseline: &lt;b&gt;</p>\n",
	};
	static const enum table_fmt fmts[] = { TABLE_TEXT, TABLE_MARKDOWN, TABLE_HTML };

	for (int i = 0; i < 3; i++) {
		struct analyze_out o = { .fmt = fmts[i] };
		char *buf = NULL;
		size_t len = 0;

		o.f = open_memstream(&buf, &len);
		assert_non_null(o.f);
		analyze__heading(&o, "Cache (Redis) <x>");
		analyze__para(&o, "Rows: %d & %d", 1, 2);
		analyze__line(&o, "- ", "note", "only in %s: %s", "baseline", "<b>");
		fclose(o.f);
		assert_int_equal(o.err, 0);
		assert_string_equal(buf, want[i]);
		assert_int_equal(analyze__page(&o), i > 0);
		assert_int_equal(analyze__html(&o), i == 2);
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify_table),
		cmocka_unit_test(test_rate_p_value),
		cmocka_unit_test(test_configurable),
		cmocka_unit_test(test_overall),
		cmocka_unit_test(test_match_endpoints),
		cmocka_unit_test(test_match_queries),
		cmocka_unit_test(test_overall_reads_n),
		cmocka_unit_test(test_match_endpoints_edges),
		cmocka_unit_test(test_match_queries_once),
		cmocka_unit_test(test_endpoint_values),
		cmocka_unit_test(test_query_values),
		cmocka_unit_test(test_query_percentiles_by_rank),
		cmocka_unit_test(test_endpoint_db_rows_when_either_queried),
		cmocka_unit_test(test_values_overall),
		cmocka_unit_test(test_find_slo),
		cmocka_unit_test(test_out_call_failures),
		cmocka_unit_test(test_prose_formats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
