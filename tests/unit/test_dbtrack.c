// SPDX-License-Identifier: GPL-2.0-only
/* Queries per request and N+1 runs, driven with synthetic requests and queries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "agg.h"
#include "dbagg.h"
#include "dbtrack.h"

#define MS    1000000ull
#define TGID  100
#define T_EVL 100 /* event-loop thread: reads requests */
#define T_WRK 101 /* worker thread: sends the queries */

struct fixture {
	struct agg a;
	struct dbagg db;
	struct dbtrack t;
	struct agg_endpoint *ep;
	struct dbconn conn;
};

static int setup(void **state)
{
	static struct fixture f;
	struct dbagg_opts o = { 0 };
	struct agg_req ar = { .method = "GET", .route = "/list", .status = 200 };

	memset(&f, 0, sizeof(f));
	if (agg__init(&f.a, 16) || dbagg__init(&f.db, &o))
		return -1;
	agg__service(&f.a, "app:8000");
	f.ep = agg__add(&f.a, &ar);
	if (!f.ep)
		return -1;
	dbtrack__init(&f.t, &f.db);
	dbtrack__conn_open(&f.t, &f.conn, TGID, 1, "app:8000", "127.0.0.1:5432", 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	dbtrack__free(&f->t);
	dbagg__free(&f->db);
	agg__free(&f->a);
	return 0;
}

static void query_tid(struct fixture *f, uint32_t tid, const char *sql, uint64_t start,
		      uint64_t lat);

static void query(struct fixture *f, const char *sql, uint64_t start, uint64_t lat)
{
	query_tid(f, T_WRK, sql, start, lat);
}

static void query_tid(struct fixture *f, uint32_t tid, const char *sql, uint64_t start,
		      uint64_t lat)
{
	struct db_exec x = {
		.path = DB_PATH_WIRE,
		.tgid = TGID,
		.tid = tid,
		.conn_id = 1,
		.ts_start = start,
		.ts_end = start + lat,
		.text = sql,
		.text_len = strlen(sql),
		.rows = 1,
	};

	dbtrack__exec(&f->t, &f->conn, &x, NULL, NULL);
}

/* One source query, then n item queries of 10 ms each from start; returns the end. */
static uint64_t n_plus_one(struct fixture *f, uint64_t start, unsigned n)
{
	query(f, "select id from items", start, 1 * MS);
	start += 2 * MS;
	for (unsigned i = 0; i < n; i++, start += 11 * MS)
		query(f, "select * from item where id = 7", start, 10 * MS);
	return start;
}

static unsigned count_flags(const struct fixture *f, int kind, const char *endpoint)
{
	unsigned n = 0;

	for (unsigned i = 0; i < f->db.nflags; i++)
		n += f->db.flags[i].kind == kind && !strcmp(f->db.flags[i].endpoint, endpoint);
	return n;
}

/* The only request in flight: its run is its own, 21 queries, flagged on its endpoint. */
static void test_exact_run(void **state)
{
	struct fixture *f = *state;
	struct dbreq r = { 0 };
	uint64_t end;

	dbtrack__req_start(&f->t, &r, TGID, T_EVL, 1 * MS);
	end = n_plus_one(f, 2 * MS, 20);
	dbtrack__req_responding(&f->t, &r, end);
	dbtrack__req_end(&f->t, &r, f->ep, end - 1 * MS, end + 1 * MS);
	dbtrack__conn_close(&f->t, &f->conn, end + 10 * MS);
	assert_int_equal(f->ep->db_reqs, 1);
	assert_true(f->ep->db_queries == 21.0);
	assert_int_equal(f->ep->db_conf[DBREQ_EXACT], 1);
	assert_int_equal(count_flags(f, DBAGG_FLAG_N_PLUS_ONE, "GET /list"), 1);
	assert_int_equal(count_flags(f, DBAGG_FLAG_N_PLUS_ONE, ""), 0);
	assert_int_equal(f->t.st.outside, 0);
}

/*
 * Two requests in flight, queries from a worker thread: shared. Both end while the run is
 * still open on the pooled connection (nothing else ran on it), and the run is closed only when
 * the connection goes away: it was credited to the requests, so it is not "outside".
 */
static void test_shared_run_closed_after_requests(void **state)
{
	struct fixture *f = *state;
	struct dbreq r1 = { 0 }, r2 = { 0 };
	uint64_t end;

	dbtrack__req_start(&f->t, &r1, TGID, T_EVL, 1 * MS);
	dbtrack__req_start(&f->t, &r2, TGID, T_EVL, 1 * MS + 1000);
	end = n_plus_one(f, 2 * MS, 20);
	dbtrack__req_responding(&f->t, &r1, end);
	dbtrack__req_end(&f->t, &r1, f->ep, end - 1 * MS, end + 1 * MS);
	dbtrack__req_responding(&f->t, &r2, end + 2 * MS);
	dbtrack__req_end(&f->t, &r2, f->ep, end, end + 3 * MS);
	dbtrack__conn_close(&f->t, &f->conn, end + 1000 * MS);
	assert_int_equal(f->ep->db_reqs, 2);
	assert_true(f->ep->db_queries > 20.99 && f->ep->db_queries < 21.01);
	assert_int_equal(f->ep->db_conf[DBREQ_SHARED], 2);
	assert_int_equal(count_flags(f, DBAGG_FLAG_N_PLUS_ONE, "GET /list"), 1);
	assert_int_equal(count_flags(f, DBAGG_FLAG_N_PLUS_ONE, ""), 0);
}

/* The same run with no request in flight is flagged, as outside any traced request. */
static void test_run_outside_requests(void **state)
{
	struct fixture *f = *state;
	uint64_t end = n_plus_one(f, 2 * MS, 20);

	dbtrack__conn_close(&f->t, &f->conn, end + 10 * MS);
	assert_int_equal(f->t.st.outside, 21);
	assert_int_equal(count_flags(f, DBAGG_FLAG_N_PLUS_ONE, ""), 1);
	assert_int_equal(count_flags(f, DBAGG_FLAG_N_PLUS_ONE, "GET /list"), 0);
}

/*
 * A late query (libpq events come through their own ring buffer, after the response that ended
 * their request): an ended request waits defer_ns for them before it is added to its endpoint.
 */
static void test_late_query_waits_for_defer(void **state)
{
	struct fixture *f = *state;
	struct dbreq r = { 0 };
	struct db_exec x = {
		.path = DB_PATH_LIBPQ,
		.tgid = TGID,
		.tid = T_EVL,
		.conn_id = 0xabc,
		.ts_start = 10 * MS,
		.ts_end = 20 * MS,
		.text = "select 1",
		.text_len = 8,
		.rows = -1,
	};

	assert_int_equal(dbtrack__set_defer(&f->t, 300 * MS), 0);
	dbtrack__req_start(&f->t, &r, TGID, T_EVL, 1 * MS);
	dbtrack__req_responding(&f->t, &r, 30 * MS);
	dbtrack__req_end(&f->t, &r, f->ep, 29 * MS, 31 * MS);
	dbtrack__exec(&f->t, NULL, &x, "app:8000", NULL);
	dbtrack__tick(&f->t, 330 * MS);
	assert_int_equal(f->ep->db_reqs, 0);
	dbtrack__tick(&f->t, 331 * MS);
	assert_int_equal(f->ep->db_reqs, 1);
	assert_true(f->ep->db_queries == 1.0);
	assert_int_equal(f->ep->db_conf[DBREQ_EXACT], 1);
	assert_int_equal(f->t.st.outside, 0);
	/* Another late one, after the wait: no request left to take it. */
	x.ts_start = 25 * MS;
	dbtrack__exec(&f->t, NULL, &x, "app:8000", NULL);
	assert_int_equal(f->t.st.outside, 1);
}

/* Two different queries per request are not a run. */
static void test_two_queries_not_flagged(void **state)
{
	struct fixture *f = *state;
	struct dbreq r = { 0 };

	for (unsigned i = 0; i < 10; i++) {
		uint64_t t0 = (1 + 10 * i) * MS;

		dbtrack__req_start(&f->t, &r, TGID, T_EVL, t0);
		query(f, "select 1 from a where id = 1", t0 + 1 * MS, 3 * MS);
		query(f, "select 1 from b where id = 1", t0 + 5 * MS, 3 * MS);
		dbtrack__req_responding(&f->t, &r, t0 + 9 * MS);
		dbtrack__req_end(&f->t, &r, f->ep, 8 * MS, t0 + 9 * MS);
	}
	dbtrack__conn_close(&f->t, &f->conn, 200 * MS);
	assert_int_equal(f->ep->db_reqs, 10);
	assert_true(f->ep->db_queries == 20.0);
	assert_int_equal(f->db.nflags, 0);
}

#define T_WRK2 102

/*
 * uvicorn with a pool: L reads /list (3 queries, worker 1) and /health (none, worker 2) and
 * hands each to a worker. The queries are the /list request's, decided by the hand-offs
 * within the defer window; /health has none.
 */
static void test_handoff(void **state)
{
	struct fixture *f = *state;
	struct agg_req ar = { .method = "GET", .route = "/health", .status = 200 };
	struct agg_endpoint *health = agg__add(&f->a, &ar);
	struct dbreq r1 = { 0 }, r2 = { 0 };
	struct handoff ho;
	struct handoff_ev ev = { .tgid = TGID, .kind = HANDOFF_EV_WAKE, .tid = T_EVL };

	handoff__init(&ho);
	assert_int_equal(dbtrack__set_handoff(&f->t, &ho), 0);
	dbtrack__req_start(&f->t, &r1, TGID, T_EVL, 1 * MS);
	ev.ts = 2 * MS;
	ev.wakee = T_WRK;
	dbtrack__handoff_event(&f->t, &ev);
	dbtrack__req_start(&f->t, &r2, TGID, T_EVL, 3 * MS);
	ev.ts = 4 * MS;
	ev.wakee = T_WRK2;
	dbtrack__handoff_event(&f->t, &ev);
	query(f, "select 1 from a where id = 1", 5 * MS, 1 * MS);
	ev = (struct handoff_ev){
		.tgid = TGID, .kind = HANDOFF_EV_BACK, .tid = T_WRK2, .ts = 6 * MS
	};
	dbtrack__handoff_event(&f->t, &ev);
	dbtrack__req_end(&f->t, &r2, health, 4 * MS, 7 * MS);
	query(f, "select 1 from b where id = 1", 8 * MS, 1 * MS);
	query(f, "select 1 from c where id = 1", 10 * MS, 1 * MS);
	ev.tid = T_WRK;
	ev.ts = 12 * MS;
	dbtrack__handoff_event(&f->t, &ev);
	dbtrack__req_end(&f->t, &r1, f->ep, 12 * MS, 13 * MS);
	/* Nothing decided before the hand-backs have settled. */
	dbtrack__tick(&f->t, 14 * MS);
	assert_int_equal(f->t.nparked, 1);
	dbtrack__tick(&f->t, 400 * MS);
	assert_int_equal(f->t.nparked, 0);
	assert_int_equal(f->ep->db_reqs, 1);
	assert_true(f->ep->db_queries == 3.0);
	assert_int_equal(f->ep->db_conf[DBREQ_HANDOFF], 1);
	assert_int_equal(health->db_reqs, 1);
	assert_true(health->db_queries == 0.0);
	assert_int_equal(health->db_conf[DBREQ_EXACT], 1);
	/* One handed off; the later two had /list alone in flight. */
	assert_int_equal(f->t.st.attributed[DBREQ_HANDOFF], 1);
	assert_int_equal(f->t.st.attributed[DBREQ_EXACT], 2);
	assert_int_equal(f->t.st.attributed[DBREQ_SHARED], 0);
	assert_int_equal(f->t.st.bound_clipped, 0);
	handoff__free(&ho);
}

/* Two requests of 10 ms share a 100 ms query: each keeps at most its latency in DB time. */
static void test_bound(void **state)
{
	struct fixture *f = *state;
	struct dbreq r1 = { 0 }, r2 = { 0 };

	dbtrack__req_start(&f->t, &r1, TGID, T_EVL, 1 * MS);
	dbtrack__req_start(&f->t, &r2, TGID + 0, T_EVL + 5, 1 * MS);
	query(f, "select pg_sleep(0.1)", 2 * MS, 100 * MS);
	dbtrack__req_end(&f->t, &r1, f->ep, 10 * MS, 11 * MS);
	dbtrack__req_end(&f->t, &r2, f->ep, 10 * MS, 11 * MS);
	assert_int_equal(f->ep->db_reqs, 2);
	assert_true(f->ep->db_ns == 20.0 * MS);
	assert_true(f->ep->db_queries > 0.199 && f->ep->db_queries < 0.201);
	assert_int_equal(f->t.st.bound_clipped, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exact_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_run_closed_after_requests, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_run_outside_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_query_waits_for_defer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_queries_not_flagged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
