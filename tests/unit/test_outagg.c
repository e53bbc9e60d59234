// SPDX-License-Identifier: GPL-2.0-only
/*
 * Outbound calls by destination and route: counts, failures by kind, and the retries found
 * among them (window, thread, inbound request, overlap, chains), from synthetic calls.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "record/outagg.h"

#define MS 1000000ull
#define S  1000000000ull

static struct outagg *agg(uint64_t window_ns, unsigned max_rows)
{
	struct outagg_opts o = { .retry_window_ns = window_ns, .max_rows = max_rows };
	struct outagg *a;

	assert_int_equal(outagg__new(&a, &o), 0);
	return a;
}

/* A call of python3 (tid 7) to 10.0.0.1:443 "api", GET route, from start to end. */
static struct http_call call(const char *route, uint64_t start, uint64_t end, unsigned status,
			     int fail)
{
	return (struct http_call){
		.tgid = 7,
		.tid = 7,
		.caller = "python3",
		.peer = "10.0.0.1:443",
		.host = "api",
		.method = "GET",
		.target = route,
		.status = status,
		.fail = fail,
		.ts_start = start,
		.ts_end = end,
	};
}

static struct outagg_row *add(struct outagg *a, struct http_call c, uint64_t req)
{
	return outagg__add(a, &c, c.target, req);
}

static const struct outagg_dest *dest(const struct outagg *a, const char *host)
{
	for (unsigned i = 0; i < a->ndests; i++)
		if (!strcmp(a->dests[i]->host, host))
			return a->dests[i];
	fail_msg("no destination %s", host);
	return NULL;
}

/*
 * urllib3's Retry(total=3) on 503: four attempts, three retries, the chain ends in a success;
 * each backoff is the start of a retry minus the end of the attempt before it.
 */
static void test_retry_chain_success(void **state)
{
	struct outagg *a = agg(0, 0);
	const struct outagg_dest *d;
	struct outagg_row *r;

	add(a, call("/pay", 0, 10 * MS, 503, HTTP_CALL_OK), 0);
	add(a, call("/pay", 10 * MS, 20 * MS, 503, HTTP_CALL_OK), 0);	    /* backoff 0 */
	add(a, call("/pay", 220 * MS, 230 * MS, 503, HTTP_CALL_OK), 0);	    /* 200 ms */
	r = add(a, call("/pay", 630 * MS, 640 * MS, 200, HTTP_CALL_OK), 0); /* 400 ms */
	outagg__finish(a);
	d = dest(a, "api");
	assert_int_equal(r->count, 4);
	assert_int_equal(r->answered, 4);
	assert_int_equal(r->err5xx, 3);
	assert_int_equal(r->retries, 3);
	assert_int_equal(d->attempts, 4);
	assert_int_equal(d->failed, 3);
	assert_int_equal(d->retries, 3);
	assert_int_equal(d->retry_success, 1);
	assert_int_equal(d->retry_exhausted, 0);
	assert_int_equal(d->backoff->count, 3);
	assert_int_equal(d->backoff->min, 0);
	assert_int_equal(d->backoff->max, 400 * MS);
	assert_int_equal(d->backoff->sum, 600 * MS);
	outagg__free(a);
}

/* A retry starts at most the window after the failure ended: at it, a retry; 1 ns later not. */
static void test_window_boundary(void **state)
{
	struct outagg *a = agg(5 * S, 0);
	const struct outagg_dest *d;

	add(a, call("/a", 0, 1 * S, 0, HTTP_CALL_TIMEOUT), 0);
	add(a, call("/a", 6 * S, 7 * S, 0, HTTP_CALL_TIMEOUT), 0);    /* exactly 5 s: retry */
	add(a, call("/a", 12 * S + 1, 13 * S, 200, HTTP_CALL_OK), 0); /* 5 s + 1 ns: not */
	outagg__finish(a);
	d = dest(a, "api");
	assert_int_equal(d->retries, 1);
	assert_int_equal(d->retry_success, 0);
	/* The chain of two timeouts was never retried again: it failed. */
	assert_int_equal(d->retry_exhausted, 1);
	assert_int_equal(d->backoff->max, 5 * S);
	outagg__free(a);
}

/* The default window is 30 s. */
static void test_default_window(void **state)
{
	struct outagg *a = agg(0, 0);

	assert_int_equal(a->o.retry_window_ns, OUTAGG_RETRY_WINDOW_NS);
	assert_int_equal(OUTAGG_RETRY_WINDOW_NS, 30 * S);
	add(a, call("/a", 0, 1, 0, HTTP_CALL_RESET), 0);
	add(a, call("/a", 30 * S + 1, 30 * S + 2, 200, HTTP_CALL_OK), 0);
	add(a, call("/b", 0, 1, 0, HTTP_CALL_RESET), 0);
	add(a, call("/b", 30 * S + 2, 30 * S + 3, 200, HTTP_CALL_OK), 0);
	outagg__finish(a);
	assert_int_equal(dest(a, "api")->retries, 1);
	outagg__free(a);
}

/*
 * Every failure kind is counted in its column, with the time to the failure; 4xx other than
 * 429 is not a failure to retry, 429 is.
 */
static void test_failure_kinds(void **state)
{
	struct outagg *a = agg(0, 0);
	struct outagg_row *r;

	for (int k = HTTP_CALL_OK + 1; k < HTTP_CALL_FAIL_NR; k++)
		r = add(a, call("/k", k * S, k * S + (uint64_t)k * MS, 0, k), 0);
	outagg__finish(a);
	assert_int_equal(r->count, HTTP_CALL_FAIL_NR - 1);
	assert_int_equal(r->answered, 0);
	for (int k = HTTP_CALL_OK + 1; k < HTTP_CALL_FAIL_NR; k++)
		assert_int_equal(r->fail[k], 1);
	assert_int_equal(r->failure->count, HTTP_CALL_FAIL_NR - 1);
	assert_int_equal(r->failure->max, (HTTP_CALL_FAIL_NR - 1) * MS);
	assert_int_equal(r->lat.count, 0);
	outagg__free(a);

	a = agg(0, 0);
	add(a, call("/404", 0, 1, 404, HTTP_CALL_OK), 0);
	add(a, call("/404", 10, 11, 404, HTTP_CALL_OK), 0);
	add(a, call("/429", 0, 1, 429, HTTP_CALL_OK), 0);
	add(a, call("/429", 10, 11, 200, HTTP_CALL_OK), 0);
	outagg__finish(a);
	assert_int_equal(dest(a, "api")->failed, 1);
	assert_int_equal(dest(a, "api")->retries, 1);
	outagg__free(a);
}

/*
 * A refused connect has no request: it is retried by the next attempt to its peer, whatever
 * its route, and it retries a failed call to its peer.
 */
static void test_connect_failure_matches_any_route(void **state)
{
	struct outagg *a = agg(0, 0);
	struct http_call c = call("", 100, 101, 0, HTTP_CALL_REFUSED);
	struct outagg_row *conn;

	c.method = "";
	c.host = "";
	c.flags = HTTP_CALL_NO_CONNECTION;
	add(a, call("/x", 0, 50, 0, HTTP_CALL_TIMEOUT), 0);
	conn = outagg__add(a, &c, NULL, 0);		    /* retries the timeout */
	add(a, call("/y", 300, 400, 200, HTTP_CALL_OK), 0); /* retries the refused connect */
	outagg__finish(a);
	assert_string_equal(conn->method, "");
	assert_string_equal(conn->route, "");
	assert_string_equal(conn->host, "");
	assert_int_equal(conn->fail[HTTP_CALL_REFUSED], 1);
	assert_int_equal(conn->retries, 1);
	assert_int_equal(dest(a, "")->retries, 1);
	assert_int_equal(dest(a, "api")->retries, 1);
	assert_int_equal(dest(a, "api")->retry_success, 1);
	outagg__free(a);
}

/* Calls of two different inbound requests never retry each other; of one, they do. */
static void test_other_request_is_not_a_retry(void **state)
{
	struct outagg *a = agg(0, 0);

	add(a, call("/a", 0, 10, 503, HTTP_CALL_OK), 1);
	add(a, call("/a", 20, 30, 200, HTTP_CALL_OK), 2);
	add(a, call("/b", 0, 10, 503, HTTP_CALL_OK), 3);
	add(a, call("/b", 20, 30, 200, HTTP_CALL_OK), 3);
	add(a, call("/c", 0, 10, 503, HTTP_CALL_OK), 4);
	add(a, call("/c", 20, 30, 200, HTTP_CALL_OK), 0); /* not attributed: may be */
	outagg__finish(a);
	assert_int_equal(dest(a, "api")->retries, 2);
	outagg__free(a);
}

/*
 * A thread with several calls of one row in flight (a load generator) cannot be told from one
 * retrying: a failure overlapped by another call of its thread is not matched.
 */
static void test_overlapping_calls_are_ambiguous(void **state)
{
	struct outagg *a = agg(0, 0);

	add(a, call("/a", 0, 100, 503, HTTP_CALL_OK), 0);
	add(a, call("/a", 50, 150, 200, HTTP_CALL_OK), 0);  /* in flight with it */
	add(a, call("/a", 200, 300, 200, HTTP_CALL_OK), 0); /* nothing left to retry */
	outagg__finish(a);
	assert_int_equal(dest(a, "api")->retries, 0);
	assert_int_equal(a->st.retry_ambiguous, 0); /* the overlapping call was not a failure */
	outagg__free(a);

	a = agg(0, 0);
	add(a, call("/a", 50, 150, 200, HTTP_CALL_OK), 0);
	add(a, call("/a", 0, 160, 503, HTTP_CALL_OK), 0); /* a failure with another in flight */
	add(a, call("/a", 200, 300, 200, HTTP_CALL_OK), 0);
	outagg__finish(a);
	assert_int_equal(dest(a, "api")->retries, 0);
	assert_int_equal(a->st.retry_ambiguous, 1);
	outagg__free(a);

	/* Another thread's calls do not make it ambiguous. */
	a = agg(0, 0);
	struct http_call other = call("/a", 50, 150, 200, HTTP_CALL_OK);

	other.tid = 8;
	add(a, call("/a", 0, 100, 503, HTTP_CALL_OK), 0);
	outagg__add(a, &other, "/a", 0);
	add(a, call("/a", 200, 300, 200, HTTP_CALL_OK), 0);
	outagg__finish(a);
	assert_int_equal(dest(a, "api")->retries, 1);
	outagg__free(a);
}

/*
 * Of two failures that could be retried, the one of the retrying thread is; among equals, the
 * latest. Each failure is retried once.
 */
static void test_same_thread_then_latest(void **state)
{
	struct outagg *a = agg(0, 0);
	struct http_call t8 = call("/a", 0, 10, 503, HTTP_CALL_OK);
	struct outagg_row *r;

	t8.tid = 8;
	add(a, call("/a", 0, 20, 503, HTTP_CALL_OK), 0); /* tid 7, ended at 20 */
	outagg__add(a, &t8, "/a", 0);			 /* tid 8, ended at 10 */
	t8.ts_start = 30;
	t8.ts_end = 40;
	t8.status = 200;
	outagg__add(a, &t8, "/a", 0); /* tid 8: retries its own failure, backoff 20 */
	r = add(a, call("/a", 50, 60, 200, HTTP_CALL_OK), 0); /* tid 7: its own, backoff 30 */
	outagg__finish(a);
	assert_int_equal(r->retries, 2);
	assert_int_equal(dest(a, "api")->retry_success, 2);
	assert_int_equal(dest(a, "api")->backoff->min, 20);
	assert_int_equal(dest(a, "api")->backoff->max, 30);
	outagg__free(a);

	a = agg(0, 0);
	add(a, call("/a", 0, 10, 503, HTTP_CALL_OK), 0);
	add(a, call("/b", 0, 15, 503, HTTP_CALL_OK), 0);
	add(a, call("/a", 20, 30, 200, HTTP_CALL_OK), 0);
	add(a, call("/a", 40, 50, 200, HTTP_CALL_OK), 0); /* /a's failure was retried already */
	outagg__finish(a);
	assert_int_equal(dest(a, "api")->retries, 1);
	assert_int_equal(dest(a, "api")->backoff->max, 10);
	outagg__free(a);

	/* Failures of two other threads: the one that ended last is retried (backoff 10). */
	a = agg(0, 0);
	t8 = call("/a", 0, 10, 503, HTTP_CALL_OK);
	t8.tid = 8;
	outagg__add(a, &t8, "/a", 0);
	t8 = call("/a", 0, 20, 503, HTTP_CALL_OK);
	t8.tid = 9;
	outagg__add(a, &t8, "/a", 0);
	t8 = call("/a", 5, 15, 503, HTTP_CALL_OK);
	t8.tid = 10;
	outagg__add(a, &t8, "/a", 0);
	add(a, call("/a", 30, 40, 200, HTTP_CALL_OK), 0);
	outagg__finish(a);
	assert_int_equal(dest(a, "api")->retries, 1);
	assert_int_equal(dest(a, "api")->backoff->max, 10);
	outagg__free(a);
}

/* Unfinished calls are neither answered nor failed, and never failures to retry. */
static void test_unfinished(void **state)
{
	struct outagg *a = agg(0, 0);
	struct http_call c = call("/a", 0, 10, 0, HTTP_CALL_OK);
	struct outagg_row *r;

	c.flags = HTTP_CALL_UNFINISHED;
	r = outagg__add(a, &c, "/a", 0);
	add(a, call("/a", 20, 30, 200, HTTP_CALL_OK), 0);
	outagg__finish(a);
	assert_int_equal(r->count, 2);
	assert_int_equal(r->unfinished, 1);
	assert_int_equal(r->answered, 1);
	assert_int_equal(dest(a, "api")->failed, 0);
	assert_int_equal(dest(a, "api")->retries, 0);
	outagg__free(a);
}

/*
 * Rows: one per caller, peer, Host, method and route; a full table counts what it drops; a
 * response without a status line is answered, under "other"; connect times are kept.
 */
static void test_rows(void **state)
{
	struct outagg *a = agg(0, 2);
	struct http_call c = call("/a", 0, 5, 200, HTTP_CALL_OK);
	struct outagg_row *r;

	c.connect_ns = 3;
	c.flags = HTTP_CALL_LOCAL;
	r = outagg__add(a, &c, "/a", 0);
	assert_true(r->local);
	assert_ptr_equal(add(a, call("/a", 10, 12, 0, HTTP_CALL_OK), 0), r);
	c.host = "other";
	assert_non_null(outagg__add(a, &c, "/a", 0));
	assert_null(add(a, call("/b", 20, 22, 200, HTTP_CALL_OK), 0));
	outagg__finish(a);
	assert_int_equal(a->nrows, 2);
	assert_int_equal(a->ndests, 2);
	assert_int_equal(a->st.calls, 4);
	assert_int_equal(a->st.rows_dropped, 1);
	assert_int_equal(r->answered, 2);
	assert_int_equal(r->status[0].code, 200);
	assert_int_equal(r->status[0].count, 1);
	assert_int_equal(r->status_other, 1);
	assert_int_equal(r->connects, 1);
	assert_int_equal(r->connect->max, 3);
	assert_int_equal(r->lat.max, 5);
	outagg__free(a);
}

/*
 * The history of a caller and peer keeps OUTAGG_HISTORY attempts: a failure pushed out of it
 * within the window is counted, and a chain pushed out with retries counts as exhausted.
 */
static void test_history_eviction(void **state)
{
	struct outagg *a = agg(0, 0);
	char route[32];

	add(a, call("/f", 0, 10, 503, HTTP_CALL_OK), 0);
	add(a, call("/f", 20, 30, 503, HTTP_CALL_OK), 0); /* a retry, failed again */
	for (unsigned i = 0; i < OUTAGG_HISTORY; i++) {	  /* the second /f goes with the last */
		snprintf(route, sizeof(route), "/r%u", i);
		add(a, call(route, 100 + i, 100 + i, 200, HTTP_CALL_OK), 0);
	}
	assert_int_equal(a->st.history_evicted, 1);
	assert_int_equal(dest(a, "api")->retry_exhausted, 1);
	add(a, call("/f", 1000, 1010, 200, HTTP_CALL_OK), 0); /* too late: forgotten */
	outagg__finish(a);
	assert_int_equal(dest(a, "api")->retries, 1);
	assert_int_equal(dest(a, "api")->retry_success, 0);
	outagg__free(a);
}

/*
 * A pool worker's attempts wait for their inbound request (tickets): the failed one of one
 * request is not retried by the next request's call, whatever order the decisions come in;
 * within one request it is. A call known at once waits behind them; finish judges the rest.
 */
static void test_waiting_for_request(void **state)
{
	struct outagg *a = agg(0, 0);
	const struct outagg_dest *d;
	struct http_call c;

	c = call("/pay", 0, 10 * MS, 503, HTTP_CALL_OK);
	outagg__add_waiting(a, &c, c.target, 1);
	c = call("/pay", 20 * MS, 30 * MS, 200, HTTP_CALL_OK); /* the next request's */
	outagg__add_waiting(a, &c, c.target, 2);
	d = dest(a, "api");
	assert_int_equal(d->attempts, 2); /* counted at once */
	outagg__decided(a, 2, 6);
	outagg__decided(a, 99, 6);     /* unknown: ignored */
	assert_int_equal(a->nwait, 2); /* the head still waits */
	outagg__decided(a, 1, 5);
	assert_int_equal(a->nwait, 0);
	assert_int_equal(d->retries, 0);
	/* Same request: a retry, judged after the waiting attempt before it. */
	c = call("/pay", 100 * MS, 110 * MS, 503, HTTP_CALL_OK);
	outagg__add_waiting(a, &c, c.target, 3);
	add(a, call("/pay", 150 * MS, 160 * MS, 200, HTTP_CALL_OK), 7);
	assert_int_equal(a->nwait, 2);
	assert_int_equal(d->retries, 0);
	outagg__decided(a, 3, 7);
	assert_int_equal(d->retries, 1);
	assert_int_equal(d->retry_success, 1);
	assert_int_equal(d->backoff->max, 40 * MS);
	/* Never decided: judged at the end, its request unknown (a retry by the rules). */
	c = call("/pay", 200 * MS, 210 * MS, 503, HTTP_CALL_OK);
	outagg__add_waiting(a, &c, c.target, 4);
	c = call("/pay", 300 * MS, 310 * MS, 200, HTTP_CALL_OK);
	outagg__add_waiting(a, &c, c.target, 5);
	outagg__finish(a);
	assert_int_equal(a->nwait, 0);
	assert_int_equal(d->retries, 2);
	assert_int_equal(a->st.wait_forced, 0);
	outagg__free(a);
}

/* More attempts waiting than the FIFO holds: the oldest is judged as it is, counted. */
static void test_waiting_overflow(void **state)
{
	struct outagg *a = agg(0, 0);
	struct http_call c;

	for (unsigned i = 0; i <= OUTAGG_WAIT_MAX; i++) {
		c = call("/pay", i * MS, i * MS + 1, 200, HTTP_CALL_OK);
		outagg__add_waiting(a, &c, c.target, i + 1);
	}
	assert_int_equal(a->st.wait_forced, 1);
	assert_int_equal(a->nwait, OUTAGG_WAIT_MAX);
	outagg__decided(a, 2, 1);
	assert_int_equal(a->nwait, OUTAGG_WAIT_MAX - 1);
	outagg__finish(a);
	assert_int_equal(dest(a, "api")->attempts, OUTAGG_WAIT_MAX + 1);
	outagg__free(a);
}

/* Rows by attempts, most first; ties by caller, peer, Host, method, route. */
static void test_rows_sorted(void **state)
{
	struct outagg *a = agg(0, 0);
	struct http_call c = call("/z", 0, 5, 200, HTTP_CALL_OK);
	struct outagg_row *z = NULL;

	add(a, call("/b", 0, 5, 200, HTTP_CALL_OK), 0);
	add(a, call("/a", 0, 5, 200, HTTP_CALL_OK), 0);
	for (int i = 0; i < 3; i++) {
		z = add(a, call("/z", 10 * i, 10 * i + 5, 200, HTTP_CALL_OK), 0);
		assert_int_equal(z->status[0].count, (uint64_t)i + 1);
	}
	c.caller = "curl";
	add(a, c, 0);
	outagg__finish(a);
	assert_int_equal(a->nrows, 4);
	assert_ptr_equal(a->rows[0], z);
	assert_string_equal(a->rows[1]->caller, "curl");
	assert_string_equal(a->rows[2]->route, "/a");
	assert_string_equal(a->rows[3]->route, "/b");
	outagg__free(a);
}

/*
 * Each interval's window (--jsonl): the calls a row added since the last roll, the percentiles
 * of the answered ones, reset by the roll; summed over the intervals, the row's totals.
 */
static void test_roll_windows(void **state)
{
	struct outagg *a = agg(0, 0);
	struct outagg_row *x, *y;
	struct http_call c;
	uint64_t count = 0, answered = 0, failed = 0, e5 = 0;

	(void)state;
	/* interval 1: /x 4 answered of 10, 20, 30, 40 ms (one a 500), one unfinished */
	for (unsigned i = 1; i <= 4; i++)
		x = add(a, call("/x", i * S, i * S + i * 10 * MS, i == 2 ? 500 : 200, HTTP_CALL_OK),
			i);
	c = call("/x", 5 * S, 5 * S, 0, HTTP_CALL_OK);
	c.flags = HTTP_CALL_UNFINISHED;
	add(a, c, 9);
	outagg__roll(a, 1);
	assert_true(x->last.t_s == 1);
	assert_int_equal(x->last.count, 5);
	assert_int_equal(x->last.answered, 4);
	assert_int_equal(x->last.failed, 0);
	assert_int_equal(x->last.err5xx, 1);
	assert_int_equal(x->last.err4xx, 0);
	/* nearest rank: the 2nd and 4th of 4, at most one bucket (1/64) above */
	assert_true(x->last.p50_ns >= 20 * MS && x->last.p50_ns <= 20 * MS + 20 * MS / 64);
	assert_true(x->last.p95_ns >= 40 * MS && x->last.p95_ns <= 40 * MS + 40 * MS / 64);
	assert_int_equal(x->last.p99_ns, x->last.p95_ns);
	count += x->last.count;
	answered += x->last.answered;
	e5 += x->last.err5xx;
	/* interval 2: /x one refused connection's request, 1 ms; /y one 404 */
	add(a, call("/x", 6 * S, 6 * S + MS, 0, HTTP_CALL_REFUSED), 10);
	y = add(a, call("/y", 7 * S, 7 * S + 2 * MS, 404, HTTP_CALL_OK), 11);
	outagg__roll(a, 2);
	assert_int_equal(x->last.count, 1);
	assert_int_equal(x->last.failed, 1);
	assert_int_equal(x->last.answered, 0);
	assert_int_equal(x->last.p50_ns, 0); /* nothing answered: no latency */
	assert_int_equal(y->last.count, 1);
	assert_int_equal(y->last.err4xx, 1);
	assert_true(y->last.p50_ns >= 2 * MS && y->last.p50_ns <= 2 * MS + 2 * MS / 64);
	count += x->last.count;
	failed += x->last.failed;
	/* interval 3: quiet, a point of zeros */
	outagg__roll(a, 3);
	assert_true(x->last.t_s == 3);
	assert_int_equal(x->last.count, 0);
	assert_int_equal(x->last.p95_ns, 0);
	assert_int_equal(count, x->count);
	assert_int_equal(answered, x->answered);
	assert_int_equal(failed, x->fail[HTTP_CALL_REFUSED]);
	assert_int_equal(e5, x->err5xx);
	outagg__free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retry_chain_success),
		cmocka_unit_test(test_window_boundary),
		cmocka_unit_test(test_default_window),
		cmocka_unit_test(test_failure_kinds),
		cmocka_unit_test(test_connect_failure_matches_any_route),
		cmocka_unit_test(test_other_request_is_not_a_retry),
		cmocka_unit_test(test_overlapping_calls_are_ambiguous),
		cmocka_unit_test(test_same_thread_then_latest),
		cmocka_unit_test(test_unfinished),
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_rows_sorted),
		cmocka_unit_test(test_history_eviction),
		cmocka_unit_test(test_waiting_for_request),
		cmocka_unit_test(test_waiting_overflow),
		cmocka_unit_test(test_roll_windows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
