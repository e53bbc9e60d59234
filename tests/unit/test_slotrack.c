// SPDX-License-Identifier: GPL-2.0-only
/* SLOs judged while recording: rows, shared histograms, interval verdicts. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "record/agg.h"
#include "record/slotrack.h"

#define MS  1000000ull
#define SEC (1000 * MS)

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

/* At the end, only objectives without any row get one, unmatched; row 0 included. */
static void test_finish_rows(void **state)
{
	struct fixture *f = *state;

	slotrack__finish(&f->st);
	assert_int_equal(f->st.nrows, 5);
	for (unsigned i = 0; i < 5; i++) {
		assert_false(f->st.rows[i].matched);
		assert_ptr_equal(f->st.rows[i].o, &f->set->slos[0].obj[i]);
		assert_string_equal(f->st.rows[i].subject, "/items (nothing matched)");
	}
	slotrack__free(&f->st);
	assert_int_equal(slotrack__init(&f->st, f->set), 0);
	requests(f, 1, 1 * MS, 200, 1);
	assert_int_equal(f->st.nrows, 5);
	slotrack__finish(&f->st);
	assert_int_equal(f->st.nrows, 5);
	assert_true(f->st.rows[0].matched);
}

/*
 * An interval may end at the start itself (t = 0 s): its breach is the first one, kept when
 * later intervals breach too ("< 0" alone means none).
 */
static void test_first_breach_at_start(void **state)
{
	struct fixture *f = *state;
	const struct slotrack_row *p95;

	requests(f, 10, 400 * MS, 200, 0); /* p95 <= 300 ms breached */
	slotrack__roll(&f->st, 0.0);
	p95 = row(f, "p95 <= 300 ms");
	assert_int_equal(p95->breached_intervals, 1);
	assert_true(p95->first_breach_s == 0.0);
	requests(f, 10, 400 * MS, 200, 1);
	slotrack__roll(&f->st, 1.0);
	assert_int_equal(p95->breached_intervals, 2);
	assert_true(p95->first_breach_s == 0.0);
	/* an objective that never breached still says none */
	assert_true(row(f, "p99 <= 500 ms")->first_breach_s < 0);
}

static const char yaml2[] = "apiVersion: sloprobe/v1\n"
			    "kind: SLO\n"
			    "warmup: 10s\n"
			    "slos:\n"
			    "  - name: everything\n"
			    "    per: all\n"
			    "    http: all\n"
			    "    objectives: [{p: 50, le: 100ms}]\n"
			    "  - name: items\n"
			    "    http: {route: /items, container: c}\n"
			    "    objectives:\n"
			    "      - {p: 95, le: 300ms}\n"
			    "      - {errors: 5xx, le: 1%}\n"
			    "  - name: orders\n"
			    "    db: {query: \"select * from orders*\"}\n"
			    "    objectives: [\"avg<10ms\"]\n"
			    "  - name: users\n"
			    "    db: {query: \"select * from users\"}\n"
			    "    objectives: [{errors: failed, le: 50%}]\n"
			    "  - name: ghost\n"
			    "    http: {route: /ghost}\n"
			    "    objectives: [\"p(99)<1s\", \"count>=5\"]\n";

struct fixture2 {
	struct slo_set *set;
	struct agg a;
	struct agg_endpoint *items, *other;
	struct dbagg_fp orders, users;
	struct slotrack st;
};

#define START (1000 * MS) /* the recording's start; warmup ends 10 s later */
#define T0    (START + 10000 * MS)

static int setup2(void **state)
{
	static struct fixture2 f;
	struct agg_req ar = { .method = "GET", .route = "/items", .status = 200 };
	char err[256];

	memset(&f, 0, sizeof(f));
	f.set = slo__parse_string(yaml2, sizeof(yaml2) - 1, "slo.yaml", err, sizeof(err));
	if (!f.set) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if (agg__init(&f.a, 16) || agg__service(&f.a, "c:8000") < 0)
		return -1;
	strcpy(f.a.services[0].comm, "app");
	strcpy(f.a.services[0].container, "c"); /* a one-letter container id */
	f.items = agg__add(&f.a, &ar);
	ar.route = "/other";
	f.other = agg__add(&f.a, &ar);
	f.orders.text = "select * from orders where id = $1";
	f.users.text = "select * from users";
	if (!f.items || !f.other || slotrack__init(&f.st, f.set))
		return -1;
	f.st.start_ns = START;
	*state = &f;
	return 0;
}

static int teardown2(void **state)
{
	struct fixture2 *f = *state;

	slotrack__free(&f->st);
	free(f->orders.slo.rows);
	free(f->users.slo.rows);
	agg__free(&f->a);
	slo__free(f->set);
	return 0;
}

static const struct slotrack_row *row2(const struct fixture2 *f, const char *slo,
				       const char *subject)
{
	for (unsigned i = 0; i < f->st.nrows; i++)
		if (!strcmp(f->st.rows[i].o->slo->name, slo) &&
		    !strcmp(f->st.rows[i].subject, subject))
			return &f->st.rows[i];
	fail_msg("no row for %s %s", slo, subject);
	return NULL;
}

static char *print_as(const struct slotrack *st, bool incomplete)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	slotrack__print(st, f, incomplete);
	fclose(f);
	return buf;
}

static char *print(const struct slotrack *st)
{
	return print_as(st, false);
}

/*
 * Rows: one for the per: all SLO, made at the start; one per objective and matching endpoint
 * (the container selector matches the one-letter container) or fingerprint on its first
 * observation; and at the end one per objective that matched nothing. Then the table.
 */
static void test_rows_and_table(void **state)
{
	struct fixture2 *f = *state;
	const struct slotrack_row *all, *p95, *errs, *avg;
	struct slotrack_tally t;
	char *out;

	assert_int_equal(f->st.nrows, 1);
	all = &f->st.rows[0];
	assert_string_equal(all->subject, "all HTTP endpoints");
	assert_string_equal(all->target, "all HTTP endpoints");
	for (int i = 0; i < 4; i++)
		slotrack__http(&f->st, &f->a, f->items, 200 * MS, i ? 200 : 500, T0 + i);
	slotrack__http(&f->st, &f->a, f->other, 50 * MS, 200, T0);
	slotrack__db(&f->st, &f->orders, "c:8000", 12 * MS, false, T0);
	slotrack__db(&f->st, &f->users, "c:8000", 12 * MS, false, T0);
	assert_int_equal(f->st.nrows, 5);
	all = row2(f, "everything", "all HTTP endpoints");
	p95 = row2(f, "items", "GET /items (c:8000)");
	errs = &f->st.rows[p95 - f->st.rows + 1];
	avg = row2(f, "orders", "select * from orders where id = $1");
	assert_string_equal(p95->target, "http GET /items");
	assert_string_equal(p95->service, "c:8000");
	assert_string_equal(avg->target, "db select * from orders where id = $1");
	assert_int_equal(f->items->slo.nrows, 3); /* everything, p95, errors */
	assert_int_equal(f->other->slo.nrows, 1);
	assert_int_equal(f->orders.slo.nrows, 1);
	assert_int_equal(f->users.slo.nrows, 1);
	assert_true(f->users.slo.matched);
	slotrack__roll(&f->st, 1.0);
	assert_int_equal(all->run.total, 5);
	assert_int_equal(p95->run.total, 4);
	assert_int_equal(errs->run.errors, 1);
	assert_int_equal(avg->run.total, 1);
	assert_int_equal(avg->run.sum_ns, 12 * MS);
	/*
	 * everything: p50 of 4 x 200 and 1 x 50 ms breaches 100 ms; 5xx 1 of 4; avg 12 ms; the
	 * users query did not fail
	 */
	assert_int_equal(f->st.rows[4].run.errors, 0);
	assert_int_equal(f->st.win.pass, 2);
	assert_int_equal(f->st.win.breach, 3);
	assert_int_equal(f->st.win.insufficient, 0);
	assert_true(f->items->slo.breach);
	assert_true(f->orders.slo.breach);
	assert_false(f->other->slo.breach); /* the per: all row has no link of its own */

	slotrack__finish(&f->st);
	assert_int_equal(f->st.nrows, 7);
	assert_string_equal(f->st.rows[5].subject, "/ghost (nothing matched)");
	assert_string_equal(f->st.rows[6].subject, "/ghost (nothing matched)");
	assert_false(f->st.rows[5].matched);
	assert_false(f->st.rows[6].matched);
	assert_ptr_equal(f->st.rows[5].o, &f->set->slos[4].obj[0]);
	assert_ptr_equal(f->st.rows[6].o, &f->set->slos[4].obj[1]);
	assert_true(f->st.rows[0].matched && f->st.rows[4].matched);
	slotrack__finish(&f->st); /* twice: nothing more */
	assert_int_equal(f->st.nrows, 7);

	/* a count that matched nothing is 0: a breach, as in report --slo */
	slotrack__tally(&f->st, &t);
	assert_int_equal(t.pass, 2);
	assert_int_equal(t.breach, 4);
	assert_int_equal(t.insufficient, 1);
	out = print(&f->st);
	assert_string_equal(out, "\n"
				 "SLO verdicts (slo.yaml): 2 pass, 4 breach, 1 insufficient data\n"
				 "VERDICT      SLO              SUBJECT                            "
				 "OBJECTIVE               OBSERVED      MARGIN  SAMPLES\n"
				 "BREACH       everything       all HTTP endpoints                 "
				 "p50 <= 100 ms          200.00 ms  -100.00 ms        5\n"
				 "pass         items            GET /items (c:8000)                "
				 "p95 <= 300 ms          200.00 ms   100.00 ms        4\n"
				 "BREACH       items            GET /items (c:8000)                "
				 "5xx rate <= 1%           25.000%    -24.000%        4\n"
				 "BREACH       orders           select * from orders where id = $1 "
				 "avg < 10 ms             12.00 ms    -2.00 ms        1\n"
				 "pass         users            select * from users                "
				 "failure rate <= 50%       0.000%     50.000%        1\n"
				 "insufficient ghost            /ghost (nothing matched)           "
				 "p99 < 1 s                      -           -        0\n"
				 "BREACH       ghost            /ghost (nothing matched)           "
				 "count >= 5                     0          -5        0\n");
	free(out);
	/* Judged on incomplete data: every pass and breach says so, insufficient data needs not. */
	out = print_as(&f->st, true);
	assert_non_null(strstr(out, "\nBREACH*      everything "));
	assert_non_null(strstr(out, "\npass*        items "));
	assert_non_null(strstr(out, "\ninsufficient ghost "));
	assert_null(strstr(out, "\nBREACH "));
	assert_null(strstr(out, "\npass "));
	assert_non_null(strstr(out, "\n* judged on incomplete data: events were lost"));
	free(out);
}

/* Observations that end within warmup of the start are not judged; at warmup they are. */
static void test_warmup_not_judged(void **state)
{
	struct fixture2 *f = *state;
	const struct slotrack_row *p95;

	slotrack__http(&f->st, &f->a, f->items, 900 * MS, 500, START);
	slotrack__http(&f->st, &f->a, f->items, 900 * MS, 500, T0 - 1);
	slotrack__db(&f->st, &f->orders, "c:8000", 900 * MS, true, T0 - 1);
	p95 = row2(f, "items", "GET /items (c:8000)");
	assert_int_equal(p95->win.total, 0);
	assert_int_equal(f->st.rows[0].win.total, 0);
	assert_int_equal(p95->h->count, 0);
	slotrack__http(&f->st, &f->a, f->items, 100 * MS, 200, T0);
	slotrack__db(&f->st, &f->orders, "c:8000", 1 * MS, false, T0);
	assert_int_equal(p95->win.total, 1);
	assert_int_equal(p95->win.good, 1);
	assert_int_equal(p95->h->count, 1);
	assert_int_equal(f->st.rows[0].win.total, 1);
	assert_int_equal(row2(f, "orders", "select * from orders where id = $1")->win.total, 1);
	slotrack__roll(&f->st, 11.0);
	assert_int_equal(f->st.win.breach, 0);
	assert_int_equal(f->st.win.pass, 4);
}

/*
 * Intervals: a breach marks its subject until the next roll, counts once per interval and
 * keeps the first breach's time; each interval starts from empty counters, the run adds them.
 */
static void test_intervals(void **state)
{
	struct fixture2 *f = *state;
	const struct slotrack_row *p95;

	slotrack__http(&f->st, &f->a, f->items, 400 * MS, 200, T0);
	slotrack__roll(&f->st, 11.0);
	p95 = row2(f, "items", "GET /items (c:8000)");
	assert_int_equal(p95->breached_intervals, 1);
	assert_true(p95->first_breach_s == 11.0);
	assert_true(f->items->slo.breach);
	assert_int_equal(p95->win.total, 0);
	for (int i = 0; i < 3; i++)
		slotrack__http(&f->st, &f->a, f->items, 100 * MS, 200, T0 + 1);
	slotrack__roll(&f->st, 12.0);
	assert_int_equal(p95->breached_intervals, 1);
	assert_false(f->items->slo.breach);
	assert_int_equal(f->st.win.breach, 0);
	assert_int_equal(p95->run.total, 4);
	assert_int_equal(p95->run.good, 3);
	slotrack__http(&f->st, &f->a, f->items, 500 * MS, 200, T0 + 2);
	slotrack__roll(&f->st, 13.0);
	assert_int_equal(p95->breached_intervals, 2);
	assert_true(p95->first_breach_s == 11.0);
	/* the orders row breaches first at 0.5 s (an interval shorter than a second) */
	slotrack__db(&f->st, &f->orders, "c:8000", 20 * MS, false, T0);
	slotrack__roll(&f->st, 0.5);
	slotrack__db(&f->st, &f->orders, "c:8000", 20 * MS, false, T0);
	slotrack__roll(&f->st, 13.5);
	assert_true(row2(f, "orders", "select * from orders where id = $1")->first_breach_s == 0.5);
	/* an interval without observations judges nothing */
	slotrack__roll(&f->st, 14.0);
	assert_int_equal(f->st.win.insufficient, f->st.nrows);
	assert_int_equal(p95->run.total, 5);
}

/* More rows than SLOTRACK_ROWS_MAX: the rest are counted and said, never linked. */
static void test_rows_max(void **state)
{
	struct fixture2 *f = *state;
	struct agg a;
	struct agg_req ar = { .method = "GET", .status = 200 };
	unsigned n = (SLOTRACK_ROWS_MAX - 1) / 2 + 1; /* 2 rows each, after the per: all one */
	struct agg_endpoint *ep = NULL;
	char route[32], *out;

	assert_int_equal(agg__init(&a, n + 1), 0);
	assert_true(agg__service(&a, "c:8000") >= 0);
	strcpy(a.services[0].container, "c");
	for (unsigned i = 0; i <= n; i++) {
		snprintf(route, sizeof(route), "/items%u", i);
		ar.route = route;
		ep = agg__add(&a, &ar);
		assert_non_null(ep);
		/* "/items*" is not the SLO's glob: point the endpoint at /items by hand */
		strcpy(ep->route, "/items");
		slotrack__http(&f->st, &a, ep, 1 * MS, 200, T0);
	}
	assert_int_equal(f->st.nrows, SLOTRACK_ROWS_MAX);
	assert_int_equal(f->st.rows_dropped, 3);
	assert_int_equal(ep->slo.nrows, 1); /* the per: all row only */
	assert_int_equal(f->st.rows[SLOTRACK_ROWS_MAX - 1].win.total, 1);
	assert_int_equal(f->st.rows[0].win.total, n + 1);
	assert_int_equal(f->st.rows[1].win.total, 1);
	out = print(&f->st);
	assert_non_null(strstr(out, "\nsloprobe: warning: 3 SLO rows not kept (more than 4096)\n"));
	free(out);
	agg__free(&a);
}

/* The first SLO of the file may be a DB one: a fingerprint it matches gets its rows too. */
static void test_db_slo_listed_first(void **state)
{
	static const char text[] = "apiVersion: sloprobe/v1\n"
				   "kind: SLO\n"
				   "slos:\n"
				   "  - name: orders\n"
				   "    db: {query: \"select * from orders*\"}\n"
				   "    objectives: [\"avg<10ms\"]\n"
				   "  - name: all-db\n"
				   "    db: all\n"
				   "    objectives: [{errors: failed, le: 50%}]\n";
	struct dbagg_fp orders = { .text = "select * from orders where id = $1" };
	struct slo_set *set;
	struct slotrack st;
	char err[256];

	set = slo__parse_string(text, sizeof(text) - 1, "db.yaml", err, sizeof(err));
	if (!set)
		fail_msg("%s", err);
	assert_int_equal(slotrack__init(&st, set), 0);
	slotrack__db(&st, &orders, "c:8000", 12 * MS, false, 1);
	assert_int_equal(st.nrows, 2);
	assert_int_equal(orders.slo.nrows, 2);
	assert_ptr_equal(st.rows[0].o, &set->slos[0].obj[0]);
	assert_ptr_equal(st.rows[1].o, &set->slos[1].obj[0]);
	assert_string_equal(st.rows[0].target, "db select * from orders where id = $1");
	slotrack__roll(&st, 1.0);
	/* avg 12 ms breaches "avg < 10 ms"; no failure passes the failure rate */
	assert_int_equal(st.rows[0].run.total, 1);
	assert_int_equal(st.rows[0].breached_intervals, 1);
	assert_true(orders.slo.breach);
	assert_int_equal(st.win.breach, 1);
	assert_int_equal(st.win.pass, 1);
	slotrack__free(&st);
	free(orders.slo.rows);
	slo__free(set);
}

/* A set of SLOs judged on one endpoint GET /items of service app:8000. */
struct one_ep {
	struct slo_set *set;
	struct agg a;
	struct agg_endpoint *ep;
	struct slotrack st;
};

static void one_ep_init(struct one_ep *f, const char *text)
{
	struct agg_req ar = { .method = "GET", .route = "/items", .status = 200 };
	char err[256];

	memset(f, 0, sizeof(*f));
	f->set = slo__parse_string(text, strlen(text), "one.yaml", err, sizeof(err));
	if (!f->set)
		fail_msg("%s", err);
	assert_int_equal(agg__init(&f->a, 16), 0);
	assert_true(agg__service(&f->a, "app:8000") >= 0);
	f->ep = agg__add(&f->a, &ar);
	assert_non_null(f->ep);
	assert_int_equal(slotrack__init(&f->st, f->set), 0);
}

static void one_ep_free(struct one_ep *f)
{
	slotrack__free(&f->st);
	agg__free(&f->a);
	slo__free(f->set);
}

/*
 * A per: all SLO listed after others: the endpoint is linked to its row, found past the
 * objectives of the SLOs before it.
 */
static void test_per_all_slo_listed_later(void **state)
{
	struct one_ep f;
	const struct slotrack_row *all = NULL;

	one_ep_init(&f, "apiVersion: sloprobe/v1\n"
			"kind: SLO\n"
			"slos:\n"
			"  - name: items\n"
			"    http: {route: /items}\n"
			"    objectives: [\"p(95)<300ms\", \"max<1s\"]\n"
			"  - name: everything\n"
			"    per: all\n"
			"    http: all\n"
			"    objectives: [\"avg<100ms\"]\n");
	assert_int_equal(f.st.nrows, 1); /* the per: all row, made at the start */
	slotrack__http(&f.st, &f.a, f.ep, 200 * MS, 200, 1);
	assert_int_equal(f.st.nrows, 3);
	assert_int_equal(f.ep->slo.nrows, 3); /* p95, max and the per: all avg */
	for (unsigned i = 0; i < f.st.nrows; i++)
		if (f.st.rows[i].o == &f.set->slos[1].obj[0])
			all = &f.st.rows[i];
	assert_non_null(all);
	assert_string_equal(all->subject, "all HTTP endpoints");
	assert_int_equal(all->win.total, 1);
	assert_int_equal(all->win.sum_ns, 200 * MS);
	slotrack__roll(&f.st, 1.0);
	assert_int_equal(all->breached_intervals, 1); /* avg 200 ms */
	assert_int_equal(f.st.win.breach, 1);
	assert_int_equal(f.st.win.pass, 2); /* p95 and max */
	one_ep_free(&f);
}

/*
 * min_samples holds for the run's verdict only: one observation is enough to judge an
 * interval, and the run still needs min_samples.
 */
static void test_interval_ignores_min_samples(void **state)
{
	struct one_ep f;
	struct slo_result res;

	one_ep_init(&f, "apiVersion: sloprobe/v1\n"
			"kind: SLO\n"
			"slos:\n"
			"  - name: items\n"
			"    min_samples: 3\n"
			"    http: {route: /items}\n"
			"    objectives: [\"max<100ms\"]\n");
	slotrack__http(&f.st, &f.a, f.ep, 200 * MS, 200, 1);
	slotrack__roll(&f.st, 1.0);
	assert_int_equal(f.st.win.breach, 1);
	assert_int_equal(f.st.rows[0].breached_intervals, 1);
	assert_true(f.st.rows[0].first_breach_s == 1.0);
	assert_true(f.ep->slo.breach);
	slotrack__eval(&f.st.rows[0], &res);
	assert_int_equal(res.verdict, SLO_INSUFFICIENT); /* 1 of 3 samples */
	slotrack__http(&f.st, &f.a, f.ep, 50 * MS, 200, 2);
	slotrack__roll(&f.st, 2.0);
	assert_int_equal(f.st.win.pass, 1);
	assert_false(f.ep->slo.breach); /* the mark of row 0 lasts one interval */
	slotrack__eval(&f.st.rows[0], &res);
	assert_int_equal(res.verdict, SLO_INSUFFICIENT); /* 2 of 3 */
	slotrack__http(&f.st, &f.a, f.ep, 50 * MS, 200, 3);
	slotrack__roll(&f.st, 3.0);
	slotrack__eval(&f.st.rows[0], &res);
	assert_int_equal(res.verdict, SLO_BREACH); /* 3 samples, max 200 ms */
	assert_int_equal(f.st.rows[0].breached_intervals, 1);
	one_ep_free(&f);
}

static const char yaml_cache[] = "apiVersion: sloprobe/v1\n"
				 "kind: SLO\n"
				 "slos:\n"
				 "  - name: plan\n"
				 "    cache: {pattern: \"user:{id}:*\"}\n"
				 "    objectives:\n"
				 "      - {hit_ratio: {ge: 90%}}\n"
				 "      - {p: 99, le: 5ms}\n"
				 "      - {errors: failed, le: 10%}\n"
				 "  - name: redis\n"
				 "    cache: all\n"
				 "    per: all\n"
				 "    objectives: [\"hit_ratio>=50%\", \"p(50)<=1ms\"]\n"
				 "  - name: gets\n"
				 "    cache: {command: get, service: \"api*\"}\n"
				 "    objectives: [\"hit_ratio>=99%\"]\n";

/*
 * Cache rows of a recording: GET and SET of user:{id}:plan, GET of user:{id}:lock written
 * only, GET of sess:{id}; a cache row's link lives in the row (cacheagg's), here in the fixture.
 */
struct fixture3 {
	struct slo_set *set;
	struct slo_link get, set_, lock, sess, ping;
	struct slotrack st;
};

static int setup3(void **state)
{
	static struct fixture3 f;
	char err[256];

	memset(&f, 0, sizeof(f));
	f.set = slo__parse_string(yaml_cache, sizeof(yaml_cache) - 1, "cache.yaml", err,
				  sizeof(err));
	if (!f.set) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if (slotrack__init(&f.st, f.set))
		return -1;
	*state = &f;
	return 0;
}

static int teardown3(void **state)
{
	struct fixture3 *f = *state;

	slotrack__free(&f->st);
	free(f->get.rows);
	free(f->set_.rows);
	free(f->lock.rows);
	free(f->sess.rows);
	free(f->ping.rows);
	slo__free(f->set);
	return 0;
}

/* A command of the api:0 client to 127.0.0.1:6379, answered after lat_ns at ts. */
static void cmd(struct fixture3 *f, struct slo_link *l, const char *verb, const char *pattern,
		uint32_t flags, unsigned hits, unsigned misses, uint64_t lat_ns, uint64_t ts)
{
	struct cache_op op = { .flags = flags,
			       .ts_start = ts - lat_ns,
			       .ts_end = ts,
			       .keys = hits + misses,
			       .hits = hits,
			       .misses = misses };

	snprintf(op.verb, sizeof(op.verb), "%s", verb);
	snprintf(op.pattern, sizeof(op.pattern), "%s", pattern);
	slotrack__cache(&f->st, l, &op, "api:0", "127.0.0.1:6379");
}

/* n GETs of user:{id}:plan, hits of them found */
static void gets(struct fixture3 *f, unsigned n, unsigned hits, uint64_t ts)
{
	for (unsigned i = 0; i < n; i++)
		cmd(f, &f->get, "GET", "user:{id}:plan", CACHE_OP_READ, i < hits, i >= hits, 1 * MS,
		    ts);
}

static const struct slotrack_row *row3(const struct fixture3 *f, const char *slo,
				       const char *objective, const char *subject)
{
	for (unsigned i = 0; i < f->st.nrows; i++) {
		char buf[128];

		slo__format_objective(f->st.rows[i].o, buf, sizeof(buf));
		if (!strcmp(f->st.rows[i].o->slo->name, slo) && !strcmp(buf, objective) &&
		    !strcmp(f->st.rows[i].subject, subject))
			return &f->st.rows[i];
	}
	fail_msg("no row for %s %s %s", slo, objective, subject);
	return NULL;
}

/*
 * One row per objective and key pattern, shared by the cache rows of the pattern (GET and
 * SET); hit ratios only once the pattern was read, and only the reads' keys count. Exactly
 * 90 % of 20 keys meets "ge: 90%"; the table says so.
 */
static void test_cache_rows_per_pattern(void **state)
{
	struct fixture3 *f = *state;
	const struct slotrack_row *hit, *p99, *fail, *all_hit, *all_p50, *gets_hit;
	struct slo_result res;
	char *out;

	assert_int_equal(f->st.nrows, 2); /* the per: all ones */
	cmd(f, &f->set_, "SET", "user:{id}:plan", CACHE_OP_WRITE, 0, 0, 2 * MS, 1 * SEC);
	assert_int_equal(f->st.nrows, 4);   /* p99 and failures of the pattern; no hit ratio */
	assert_int_equal(f->set_.nrows, 3); /* and the per: all p50 */
	assert_false(f->set_.reads);
	p99 = row3(f, "plan", "p99 <= 5 ms", "user:{id}:plan");
	assert_string_equal(p99->target, "cache user:{id}:plan");
	assert_null(p99->link);
	assert_string_equal(p99->service, "");
	assert_int_equal(p99->win.total, 1);
	assert_int_equal(p99->h->count, 1);

	gets(f, 20, 18, 2 * SEC);
	/* the GET row shares p99 and failures, adds the pattern's hit ratio and gets' */
	assert_int_equal(f->st.nrows, 6);
	assert_int_equal(f->get.nrows, 6);
	assert_true(f->get.reads);
	hit = row3(f, "plan", "hit ratio >= 90%", "user:{id}:plan");
	fail = row3(f, "plan", "failure rate <= 10%", "user:{id}:plan");
	all_hit = row3(f, "redis", "hit ratio >= 50%", "all cache commands");
	all_p50 = row3(f, "redis", "p50 <= 1 ms", "all cache commands");
	gets_hit = row3(f, "gets", "hit ratio >= 99%", "user:{id}:plan");
	assert_string_equal(gets_hit->target, "cache user:{id}:plan");
	assert_int_equal(p99->win.total, 21);
	assert_int_equal(p99->h->count, 21);
	assert_int_equal(fail->win.total, 21);
	assert_int_equal(hit->win.total, 20);
	assert_int_equal(hit->win.good, 18);
	assert_null(hit->h);
	assert_int_equal(all_hit->win.total, 20);
	assert_int_equal(all_p50->win.total, 21);

	/* the other pattern gets rows of its own, the per: all ones add it up */
	cmd(f, &f->sess, "GET", "sess:{id}", CACHE_OP_READ, 0, 1, 1 * MS, 3 * SEC);
	assert_int_equal(f->st.nrows, 7); /* gets' hit ratio of sess:{id} */
	assert_int_equal(f->sess.nrows, 3);
	assert_int_equal(all_hit->win.total, 21);
	assert_int_equal(hit->win.total, 20);

	slotrack__roll(&f->st, 1.0);
	slotrack__finish(&f->st);
	assert_int_equal(f->st.nrows, 7);
	slotrack__eval(hit, &res);
	assert_int_equal(res.verdict, SLO_PASS); /* 18 of 20: exactly 90 % */
	assert_true(fabs(res.observed - 0.9) < 1e-12);
	assert_int_equal(res.judged, 20);
	slotrack__eval(gets_hit, &res);
	assert_int_equal(res.verdict, SLO_BREACH);
	slotrack__eval(row3(f, "gets", "hit ratio >= 99%", "sess:{id}"), &res);
	assert_int_equal(res.verdict, SLO_INSUFFICIENT); /* 1 key of 20 */
	out = print(&f->st);
	assert_string_equal(out,
			    "\n"
			    "SLO verdicts (cache.yaml): 5 pass, 1 breach, 1 insufficient data\n"
			    "VERDICT      SLO              SUBJECT                            "
			    "OBJECTIVE               OBSERVED      MARGIN  SAMPLES\n"
			    "pass         redis            all cache commands                 "
			    "hit ratio >= 50%         85.714%     35.714%       21\n"
			    "pass         redis            all cache commands                 "
			    "p50 <= 1 ms              1.00 ms     0.00 ms       22\n"
			    "pass         plan             user:{id}:plan                     "
			    "p99 <= 5 ms              2.00 ms     3.00 ms       21\n"
			    "pass         plan             user:{id}:plan                     "
			    "failure rate <= 10%       0.000%     10.000%       21\n"
			    "pass         plan             user:{id}:plan                     "
			    "hit ratio >= 90%         90.000%      0.000%       20\n"
			    "BREACH       gets             user:{id}:plan                     "
			    "hit ratio >= 99%         90.000%     -9.000%       20\n"
			    "insufficient gets             sess:{id}                          "
			    "hit ratio >= 99%          0.000%    -99.000%        1\n");
	free(out);
}

/*
 * Intervals: each is judged on one read as enough, the run needs 20 keys. A key pattern row
 * that breached says so (win_breach) until the next interval; the cache rows feeding it carry
 * no mark of their own.
 */
static void test_cache_intervals(void **state)
{
	struct fixture3 *f = *state;
	const struct slotrack_row *hit, *p99, *p50;
	struct slo_result res;

	cmd(f, &f->set_, "SET", "user:{id}:plan", CACHE_OP_WRITE, 0, 0, 1 * MS, 1 * SEC);
	gets(f, 2, 1, 1 * SEC); /* 50 %: the pattern's hit ratio breaches */
	slotrack__roll(&f->st, 1.0);
	hit = row3(f, "plan", "hit ratio >= 90%", "user:{id}:plan");
	p99 = row3(f, "plan", "p99 <= 5 ms", "user:{id}:plan");
	p50 = row3(f, "redis", "p50 <= 1 ms", "all cache commands");
	assert_int_equal(hit->breached_intervals, 1);
	assert_true(hit->first_breach_s == 1.0);
	assert_true(hit->win_breach);
	assert_false(p99->win_breach);
	assert_false(f->get.breach);
	slotrack__eval(hit, &res);
	assert_int_equal(res.verdict, SLO_INSUFFICIENT); /* 2 keys of 20 */

	gets(f, 18, 18, 2 * SEC);
	slotrack__roll(&f->st, 2.0);
	assert_false(hit->win_breach);
	assert_int_equal(hit->breached_intervals, 1);
	slotrack__eval(hit, &res);
	assert_int_equal(res.verdict, SLO_PASS); /* 19 of 20 */
	assert_int_equal(res.judged, 20);

	/* a slow SET breaches the pattern's p99 and the p50 of all */
	cmd(f, &f->set_, "SET", "user:{id}:plan", CACHE_OP_WRITE, 0, 0, 9 * MS, 3 * SEC);
	slotrack__roll(&f->st, 3.0);
	assert_true(p99->win_breach);
	assert_true(p50->win_breach);
	assert_int_equal(f->st.win.breach, 2);
	/* an interval without a command judges nothing, and breaches nothing */
	slotrack__roll(&f->st, 4.0);
	assert_false(p99->win_breach);
	assert_false(p50->win_breach);
	assert_int_equal(p50->breached_intervals, 1);
	assert_int_equal(f->st.win.insufficient, f->st.nrows);
}

/*
 * A read queued in MULTI says no hit or miss (its answer is inside EXEC's): the row gets its
 * hit ratios on its first real read. Errors are failures; aborted commands are not judged;
 * commands of cache rows that were not kept are counted and said.
 */
static void test_cache_reads_errors_aborted(void **state)
{
	struct fixture3 *f = *state;
	const struct slotrack_row *fail, *p99;
	char *out;

	cmd(f, &f->get, "GET", "user:{id}:plan", CACHE_OP_IN_TX, 0, 0, 1 * MS, 1 * SEC);
	assert_true(f->get.matched);
	assert_false(f->get.reads);
	assert_int_equal(f->get.nrows, 3); /* p99, failures, per: all p50 */
	cmd(f, &f->get, "GET", "user:{id}:plan", CACHE_OP_READ | CACHE_OP_ERROR, 0, 0, 1 * MS,
	    1 * SEC);
	assert_true(f->get.reads);
	assert_int_equal(f->get.nrows, 6);
	gets(f, 1, 1, 1 * SEC);
	assert_int_equal(row3(f, "plan", "hit ratio >= 90%", "user:{id}:plan")->win.total, 1);
	fail = row3(f, "plan", "failure rate <= 10%", "user:{id}:plan");
	p99 = row3(f, "plan", "p99 <= 5 ms", "user:{id}:plan");
	assert_int_equal(fail->win.total, 3);
	assert_int_equal(fail->win.errors, 1);

	cmd(f, &f->get, "GET", "user:{id}:plan", CACHE_OP_READ | CACHE_OP_ABORTED, 0, 0, 0,
	    1 * SEC);
	assert_int_equal(p99->win.total, 3);
	cmd(f, NULL, "GET", "user:{id}:plan", CACHE_OP_READ, 1, 0, 1 * MS, 1 * SEC);
	cmd(f, NULL, "GET", "user:{id}:plan", CACHE_OP_READ, 1, 0, 1 * MS, 1 * SEC);
	assert_int_equal(f->st.cache_unjudged, 2);
	assert_int_equal(p99->win.total, 3);
	out = print(&f->st);
	assert_non_null(strstr(out, "\nsloprobe: warning: 2 cache commands not judged (the cache "
				    "table was full)\n"));
	free(out);
}

static void cache_init(struct fixture3 *f, const char *text)
{
	char err[256];

	memset(f, 0, sizeof(*f));
	f->set = slo__parse_string(text, strlen(text), "c.yaml", err, sizeof(err));
	if (!f->set)
		fail_msg("%s", err);
	assert_int_equal(slotrack__init(&f->st, f->set), 0);
}

/*
 * A pattern only written has no hit ratio row of its own: at the end the objective gets the
 * row of an objective nothing matched, saying no read did. Commands without a key match no
 * pattern glob; with cache: all they are the "(no key)" subject. Warmup holds.
 */
static void test_cache_no_reads_keyless_warmup(void **state)
{
	struct fixture3 f;

	cache_init(&f, "apiVersion: sloprobe/v1\n"
		       "kind: SLO\n"
		       "warmup: 1s\n"
		       "slos:\n"
		       "  - name: locks\n"
		       "    cache: {pattern: \"lock:*\"}\n"
		       "    objectives: [\"hit_ratio>=90%\", \"p(99)<5ms\"]\n"
		       "  - name: any\n"
		       "    cache: all\n"
		       "    objectives: [\"max<=1s\"]\n");
	f.st.start_ns = 1 * SEC;
	cmd(&f, &f.lock, "SET", "lock:{id}", CACHE_OP_WRITE, 0, 0, 1 * MS, 2 * SEC - 1);
	cmd(&f, &f.ping, "PING", "", 0, 0, 0, 1 * MS, 2 * SEC);
	assert_int_equal(f.lock.nrows, 2); /* locks' p99, any's max */
	assert_int_equal(f.ping.nrows, 1); /* any's max only */
	slotrack__roll(&f.st, 1.0);
	slotrack__finish(&f.st);
	assert_int_equal(f.st.nrows, 4);
	assert_string_equal(f.st.rows[0].subject, "lock:{id}");
	assert_string_equal(f.st.rows[0].target, "cache lock:{id}"); /* row 0 too */
	assert_int_equal(f.st.rows[0].run.total, 0); /* in the warmup */
	assert_string_equal(f.st.rows[1].subject, "lock:{id}");
	assert_string_equal(f.st.rows[2].subject, "(no key)");
	assert_string_equal(f.st.rows[2].target, "cache (no key)");
	assert_int_equal(f.st.rows[2].run.total, 1);
	assert_ptr_equal(f.st.rows[3].o, &f.set->slos[0].obj[0]);
	assert_false(f.st.rows[3].matched);
	assert_string_equal(f.st.rows[3].subject, "cache pattern=lock:* (no read matched)");
	free(f.lock.rows);
	free(f.ping.rows);
	slotrack__free(&f.st);
	slo__free(f.set);
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
		cmocka_unit_test_setup_teardown(test_finish_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_breach_at_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rows_and_table, setup2, teardown2),
		cmocka_unit_test_setup_teardown(test_warmup_not_judged, setup2, teardown2),
		cmocka_unit_test_setup_teardown(test_intervals, setup2, teardown2),
		cmocka_unit_test_setup_teardown(test_rows_max, setup2, teardown2),
		cmocka_unit_test(test_db_slo_listed_first),
		cmocka_unit_test(test_per_all_slo_listed_later),
		cmocka_unit_test(test_interval_ignores_min_samples),
		cmocka_unit_test_setup_teardown(test_cache_rows_per_pattern, setup3, teardown3),
		cmocka_unit_test_setup_teardown(test_cache_intervals, setup3, teardown3),
		cmocka_unit_test_setup_teardown(test_cache_reads_errors_aborted, setup3, teardown3),
		cmocka_unit_test(test_cache_no_reads_keyless_warmup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
