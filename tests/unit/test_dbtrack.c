// SPDX-License-Identifier: GPL-2.0-only
/* Queries per request and N+1 runs, driven with synthetic requests and queries. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "record/agg.h"
#include "record/cacheagg.h"
#include "record/dbagg.h"
#include "record/dbtrack.h"
#include "record/sink.h"

#define MS    1000000ull
#define TGID  100
#define T_EVL 100 /* event-loop thread: reads requests */
#define T_WRK 101 /* worker thread: sends the queries */

struct fixture {
	struct agg a;
	struct dbagg db;
	struct dbtrack t;
	struct sink s; /* executions enter through it, as when recording */
	struct agg_endpoint *ep;
	struct dbconn conn;
};

static int setup(void **state)
{
	static struct fixture f;
	const struct sink_opts so = { .procroot = "/nonexistent" };
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
	if (sink__init(&f.s, &so, &f.a, &f.t, NULL))
		return -1;
	dbtrack__conn_open(&f.t, &f.conn, TGID, 1, "app:8000", "127.0.0.1:5432", 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sink__free(&f->s);
	dbtrack__free(&f->t);
	dbagg__free(&f->db);
	agg__free(&f->a);
	return 0;
}

static void query_tid(struct fixture *f, uint32_t tid, const char *sql, uint64_t start,
		      uint64_t lat);
static void again(void **state);
static const struct dbagg_flag *find_flag(const struct fixture *f, int kind, const char *endpoint);

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

	sink__db(&f->s, &f->conn, &x, NULL, NULL);
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

/*
 * A shared run still open when the requests end is credited to each that was in flight from
 * its first query on, one that started with it included.
 */
static void test_shared_run_credited_from_its_start(void **state)
{
	struct fixture *f = *state;
	struct dbreq r1 = { 0 }, r2 = { 0 };
	const struct dbagg_flag *fl;
	uint64_t end;

	dbtrack__req_start(&f->t, &r1, TGID, T_EVL, 1 * MS);
	dbtrack__req_start(&f->t, &r2, TGID, T_EVL, 4 * MS); /* the first item query's start */
	end = n_plus_one(f, 2 * MS, 20);
	dbtrack__req_responding(&f->t, &r1, end);
	dbtrack__req_end(&f->t, &r1, f->ep, end - 1 * MS, end + 1 * MS);
	dbtrack__req_responding(&f->t, &r2, end + 2 * MS);
	dbtrack__req_end(&f->t, &r2, f->ep, end, end + 3 * MS);
	fl = find_flag(f, DBAGG_FLAG_N_PLUS_ONE, "GET /list");
	assert_non_null(fl);
	assert_int_equal(fl->occurrences, 2);
	assert_int_equal(fl->shared, 2);
	dbtrack__conn_close(&f->t, &f->conn, end + 1000 * MS);
	assert_int_equal(fl->occurrences, 2);
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

/* Outside requests the database time decides alone: 50 ms flagged, 5 ns less not. */
static void test_run_outside_requests_threshold(void **state)
{
	struct fixture *f = *state;
	uint64_t t = 10 * MS;

	query(f, "select id from items", 1 * MS, 1 * MS);
	for (unsigned i = 0; i < 5; i++, t += 11 * MS)
		query(f, "select * from item where id = 7", t, 10 * MS);
	query(f, "select 2", t, 1 * MS);
	assert_int_equal(count_flags(f, DBAGG_FLAG_N_PLUS_ONE, ""), 1);
	assert_string_equal(
		f->db.flags[0].evidence,
		"5 consecutive executions on one connection, 50.0 ms in all, outside any "
		"traced request");
	again(state);
	f = *state;
	t = 10 * MS;
	query(f, "select id from items", 1 * MS, 1 * MS);
	for (unsigned i = 0; i < 5; i++, t += 11 * MS)
		query(f, "select * from item where id = 7", t, 10 * MS - 1);
	query(f, "select 2", t, 1 * MS);
	assert_int_equal(f->db.nflags, 0);
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
	sink__db(&f->s, NULL, &x, "app:8000", NULL);
	dbtrack__tick(&f->t, 330 * MS);
	assert_int_equal(f->ep->db_reqs, 0);
	dbtrack__tick(&f->t, 331 * MS);
	assert_int_equal(f->ep->db_reqs, 1);
	assert_true(f->ep->db_queries == 1.0);
	assert_int_equal(f->ep->db_conf[DBREQ_EXACT], 1);
	assert_int_equal(f->t.st.outside, 0);
	/* Another late one, after the wait: no request left to take it. */
	x.ts_start = 25 * MS;
	sink__db(&f->s, NULL, &x, "app:8000", NULL);
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

/*
 * The same hand-offs with a worker's Redis command and outbound call instead of queries: they
 * wait for the hand-off as queries do (parked), then count for /list alone, a cache read that
 * missed with its miss; /health has none.
 */
static void test_handoff_calls(void **state)
{
	struct fixture *f = *state;
	struct agg_req ar = { .method = "GET", .route = "/health", .status = 200 };
	struct agg_endpoint *health = agg__add(&f->a, &ar);
	struct dbreq r1 = { 0 }, r2 = { 0 };
	struct handoff ho;
	struct handoff_ev ev = { .tgid = TGID, .kind = HANDOFF_EV_WAKE, .tid = T_EVL };
	struct dbtrack_call get = {
		.tgid = TGID, .tid = T_WRK, .ts_start = 5 * MS, .ts_end = 6 * MS, .misses = 1
	};
	struct dbtrack_call out = {
		.tgid = TGID, .tid = T_WRK, .ts_start = 8 * MS, .ts_end = 11 * MS, .error = true
	};

	handoff__init(&ho);
	assert_int_equal(dbtrack__set_handoff(&f->t, &ho), 0);
	dbtrack__follow(&f->t, AGG_DEP_CACHE, NULL);
	dbtrack__follow(&f->t, AGG_DEP_HTTP, NULL);
	dbtrack__req_start(&f->t, &r1, TGID, T_EVL, 1 * MS);
	ev.ts = 2 * MS;
	ev.wakee = T_WRK;
	dbtrack__handoff_event(&f->t, &ev);
	dbtrack__req_start(&f->t, &r2, TGID, T_EVL, 3 * MS);
	ev.ts = 4 * MS;
	ev.wakee = T_WRK2;
	dbtrack__handoff_event(&f->t, &ev);
	/* Two requests in flight, neither on the worker's thread: both calls wait. */
	assert_true(dbtrack__call(&f->t, AGG_DEP_CACHE, &get) == DBTRACK_CALL_PARKED);
	assert_true(dbtrack__call(&f->t, AGG_DEP_HTTP, &out) == DBTRACK_CALL_PARKED);
	assert_int_equal(f->t.nparked, 2);
	ev = (struct handoff_ev){
		.tgid = TGID, .kind = HANDOFF_EV_BACK, .tid = T_WRK2, .ts = 6 * MS
	};
	dbtrack__handoff_event(&f->t, &ev);
	dbtrack__req_end(&f->t, &r2, health, 4 * MS, 7 * MS);
	ev.tid = T_WRK;
	ev.ts = 12 * MS;
	dbtrack__handoff_event(&f->t, &ev);
	dbtrack__req_end(&f->t, &r1, f->ep, 12 * MS, 13 * MS);
	dbtrack__tick(&f->t, 400 * MS);
	assert_int_equal(f->t.nparked, 0);
	assert_true(f->ep->dep[AGG_DEP_CACHE].calls == 1.0);
	assert_true(f->ep->dep[AGG_DEP_CACHE].misses == 1.0);
	assert_true(f->ep->dep[AGG_DEP_CACHE].ns == 1.0 * MS);
	assert_true(f->ep->dep[AGG_DEP_HTTP].calls == 1.0);
	assert_true(f->ep->dep[AGG_DEP_HTTP].errors == 1.0);
	assert_true(f->ep->dep[AGG_DEP_HTTP].ns == 3.0 * MS);
	assert_true(health->dep[AGG_DEP_CACHE].calls == 0.0);
	assert_true(health->dep[AGG_DEP_HTTP].calls == 0.0);
	assert_int_equal(health->dep[AGG_DEP_CACHE].reqs, 1);
	assert_int_equal(f->t.st.dep_attributed[AGG_DEP_CACHE][DBREQ_HANDOFF], 1);
	assert_int_equal(f->t.st.dep_attributed[AGG_DEP_HTTP][DBREQ_HANDOFF], 1);
	assert_int_equal(f->t.st.dep_attributed[AGG_DEP_CACHE][DBREQ_SHARED], 0);
	assert_int_equal(f->t.st.attributed[DBREQ_HANDOFF], 0); /* no query */
	handoff__free(&ho);
}

static uint64_t cache_read(struct fixture *f, uint32_t tgid, uint64_t key, uint64_t row,
			   uint64_t start, bool miss)
{
	struct dbtrack_call c = { .tgid = tgid,
				  .tid = T_WRK,
				  .ts_start = start,
				  .ts_end = start + MS / 10,
				  .hits = !miss,
				  .misses = miss,
				  .key_hash = key,
				  .row_id = row };

	return dbtrack__call(&f->t, AGG_DEP_CACHE, &c);
}

/*
 * One request's calls (record/deptrack.c): exact calls name their request; a key read 3
 * times is its repeat (flagged on the endpoint once, with its reads), keys beyond DBREQ_KEYS
 * are counted as cut; an outbound call longer than the request is cut to it, its count
 * scaled alike; calls with no request in flight are outside; a shared read is no repeat.
 */
static void test_calls_per_request(void **state)
{
	struct fixture *f = *state;
	const struct cacheagg_opts co = { .repeat_min = 2 };
	struct cacheagg *cache = cacheagg__new(&co);
	struct dbtrack_call out = {
		.tgid = TGID, .tid = T_WRK, .ts_start = 2 * MS, .ts_end = 32 * MS, .error = true
	};
	struct dbreq r1 = { 0 }, r2 = { 0 }, r3 = { 0 };
	const struct agg_dep *c = &f->ep->dep[AGG_DEP_CACHE], *h = &f->ep->dep[AGG_DEP_HTTP];

	assert_non_null(cache);
	assert_int_equal(dbtrack__call(&f->t, AGG_DEP_HTTP, &out), 0); /* not followed yet */
	dbtrack__follow(&f->t, AGG_DEP_CACHE, cache);
	dbtrack__follow(&f->t, AGG_DEP_HTTP, NULL);
	dbtrack__req_start(&f->t, &r1, TGID, T_WRK, 1 * MS);
	for (int i = 0; i < 2; i++)
		assert_true(cache_read(f, TGID, 11, 5, 2 * MS + i, false) == r1.seq);
	assert_true(r1.seq != 0);
	cache_read(f, TGID, 12, 6, 3 * MS, true);
	for (uint64_t k = 0; k < DBREQ_KEYS + 3; k++)
		cache_read(f, TGID, 100 + k, 7, 4 * MS, true);
	assert_true(dbtrack__call(&f->t, AGG_DEP_HTTP, &out) == r1.seq);
	assert_int_equal(cache_read(f, TGID + 1, 11, 5, 5 * MS, false), 0); /* no request */
	assert_int_equal(f->t.st.dep_outside[AGG_DEP_CACHE], 1);
	assert_int_equal(f->t.st.dep_attributed[AGG_DEP_CACHE][DBREQ_EXACT], 3 + DBREQ_KEYS + 3);
	assert_int_equal(f->t.st.dep_attributed[AGG_DEP_HTTP][DBREQ_EXACT], 1);
	dbtrack__req_end(&f->t, &r1, f->ep, 20 * MS, 21 * MS);
	dbtrack__tick(&f->t, 0);
	assert_int_equal(c->reqs, 1);
	assert_int_equal(c->with, 1);
	assert_true(c->calls == 3 + DBREQ_KEYS + 3);
	assert_true(c->hits == 2 && c->misses == 1 + DBREQ_KEYS + 3);
	assert_int_equal(c->repeat, 1);
	/* 30 ms of calls in a 20 ms request: cut to 20 ms, 2/3 of a call. */
	assert_true(h->ns == 20 * MS);
	assert_true(fabs(h->calls - 2.0 / 3) < 1e-9 && fabs(h->errors - 2.0 / 3) < 1e-9);
	/* 32 keys kept (11, 12 and 30 others): 5 beyond. */
	assert_int_equal(f->t.st.keys_cut, 5);
	assert_int_equal(cache->nrepeats, 1);
	assert_int_equal(cache->repeats[0].row_id, 5);
	assert_string_equal(cache->repeats[0].endpoint, "GET /list");
	assert_int_equal(cache->repeats[0].reads, 2);
	assert_int_equal(cache->repeats[0].max, 2);
	/* Two requests on other threads: the reads are shared, no repeat, no request named. */
	dbtrack__req_start(&f->t, &r2, TGID, T_EVL, 40 * MS);
	dbtrack__req_start(&f->t, &r3, TGID, T_WRK2, 41 * MS);
	assert_int_equal(cache_read(f, TGID, 11, 5, 42 * MS, false), 0);
	assert_int_equal(cache_read(f, TGID, 11, 5, 43 * MS, false), 0);
	dbtrack__req_end(&f->t, &r2, f->ep, 10 * MS, 50 * MS);
	dbtrack__req_end(&f->t, &r3, f->ep, 10 * MS, 51 * MS);
	dbtrack__tick(&f->t, 0);
	assert_int_equal(f->t.st.dep_attributed[AGG_DEP_CACHE][DBREQ_SHARED], 2);
	assert_int_equal(c->reqs, 3);
	assert_true(c->calls == 3 + DBREQ_KEYS + 3 + 2);
	assert_int_equal(c->repeat, 1);
	assert_int_equal(cache->repeats[0].reads, 2);
	/*
	 * A request that reads each key once: no repeat. Its 30 ms BLPOP (a hit) and an instant
	 * read make more than its 20 ms: its calls and hits are cut alike.
	 */
	dbtrack__req_start(&f->t, &r2, TGID, T_WRK, 60 * MS);
	cache_read(f, TGID, 13, 8, 61 * MS, false);
	{
		struct dbtrack_call blpop = { .tgid = TGID, .tid = T_WRK, .ts_start = 62 * MS,
					      .ts_end = 92 * MS, .hits = 1, .key_hash = 14,
					      .row_id = 9 };
		struct dbtrack_call instant = { .tgid = TGID, .tid = T_WRK, .ts_start = 93 * MS,
						.ts_end = 93 * MS, .misses = 1, .key_hash = 15 };

		dbtrack__call(&f->t, AGG_DEP_CACHE, &blpop);
		dbtrack__call(&f->t, AGG_DEP_CACHE, &instant);
	}
	dbtrack__req_end(&f->t, &r2, f->ep, 20 * MS, 94 * MS);
	dbtrack__tick(&f->t, 0);
	{
		double k = 20.0 / 30.1; /* the request over its calls' time */

		assert_int_equal(c->repeat, 1);
		assert_int_equal(cache->nrepeats, 1);
		assert_true(fabs(c->calls - (3 + DBREQ_KEYS + 3 + 2 + 3 * k)) < 1e-9);
		assert_true(fabs(c->hits - (2 + 2 + 2 * k)) < 1e-9);
		assert_true(fabs(c->misses - (1 + DBREQ_KEYS + 3 + k)) < 1e-9);
	}
	cacheagg__free(cache);
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
	/* The query's row among the endpoint's top queries is cut alike: 2 x 0.1 of it. */
	assert_int_equal(f->ep->db_ntop, 1);
	assert_true(f->ep->db_top[0].n > 0.199 && f->ep->db_top[0].n < 0.201);
	assert_true(f->ep->db_top[0].ns > 19.99 * MS && f->ep->db_top[0].ns < 20.01 * MS);
}

static const struct dbagg_flag *find_flag(const struct fixture *f, int kind, const char *endpoint)
{
	for (unsigned i = 0; i < f->db.nflags; i++)
		if (f->db.flags[i].kind == kind && !strcmp(f->db.flags[i].endpoint, endpoint))
			return &f->db.flags[i];
	return NULL;
}

/* Restarts the fixture: a test of several independent requests. */
static void again(void **state)
{
	teardown(state);
	assert_int_equal(setup(state), 0);
}

/*
 * One request (exact) with a source query at 1 ms, then n executions of one fingerprint of
 * lat ns each, gap ns apart (end to next start); the request ends later, its latency is
 * latency ns. Returns the N+1 flags on its endpoint.
 */
static unsigned nplus1_request(struct fixture *f, unsigned n, uint64_t lat, uint64_t gap,
			       uint64_t latency)
{
	struct dbreq r = { 0 };
	uint64_t t = 2 * MS;

	dbtrack__req_start(&f->t, &r, TGID, T_EVL, 1 * MS);
	query(f, "select id from items", 1 * MS, 1 * MS);
	for (unsigned i = 0; i < n; i++, t += lat + gap)
		query(f, "select * from item where id = 7", t, lat);
	query(f, "select count(*) from items", t, 1 * MS);
	dbtrack__req_responding(&f->t, &r, t + 1 * MS);
	dbtrack__req_end(&f->t, &r, f->ep, latency, t + 1 * MS);
	return count_flags(f, DBAGG_FLAG_N_PLUS_ONE, "GET /list");
}

/*
 * The N+1 rule (docs/db.md): at least 5 consecutive executions, each within 10 ms of the
 * previous one's end, totalling at least 50 ms in the database or spanning at least 10 % of
 * the request. Each boundary and one step below it.
 */
static void test_nplus1_thresholds(void **state)
{
	struct fixture *f = *state;

	/* 5 runs of 20 ms: flagged on the database time alone (share 1 % of 10 s) */
	assert_int_equal(nplus1_request(f, 5, 20 * MS, 1 * MS, 10000 * MS), 1);
	again(state);
	f = *state;
	assert_int_equal(nplus1_request(f, 4, 20 * MS, 1 * MS, 10000 * MS), 0);
	again(state);
	f = *state;
	/* exactly 50 ms in the database; then 5 ns less */
	assert_int_equal(nplus1_request(f, 5, 10 * MS, 1 * MS, 10000 * MS), 1);
	again(state);
	f = *state;
	assert_int_equal(nplus1_request(f, 5, 10 * MS - 1, 1 * MS, 10000 * MS), 0);
	again(state);
	f = *state;
	/* 5 x 1 ms, 1 ms apart: a span of 9 ms, exactly 10 % of 90 ms; then of 90 ms + 1 ns */
	assert_int_equal(nplus1_request(f, 5, 1 * MS, 1 * MS, 90 * MS), 1);
	assert_string_equal(find_flag(f, DBAGG_FLAG_N_PLUS_ONE, "GET /list")->evidence,
			    "after \"select id from items\", 5 consecutive executions on one "
			    "connection, 5.00 ms in the database over 9.00 ms = 10 % of a 90.00 ms "
			    "request (attribution: exact)");
	again(state);
	f = *state;
	assert_int_equal(nplus1_request(f, 5, 1 * MS, 1 * MS, 90 * MS + 1), 0);
	again(state);
	f = *state;
	/* 10 ms between one's end and the next start still continue the run; 10 ms + 1 ns not */
	assert_int_equal(nplus1_request(f, 5, 20 * MS, 10 * MS, 10000 * MS), 1);
	again(state);
	f = *state;
	assert_int_equal(nplus1_request(f, 5, 20 * MS, 10 * MS + 1, 10000 * MS), 0);
}

/* --n-plus-one N sets the run length: 3 is enough then. */
static void test_nplus1_option(void **state)
{
	struct fixture *f = *state;

	f->db.o.nplus1_min = 3;
	assert_int_equal(nplus1_request(f, 3, 20 * MS, 1 * MS, 10000 * MS), 1);
	again(state);
	f = *state;
	f->db.o.nplus1_min = 3;
	assert_int_equal(nplus1_request(f, 2, 20 * MS, 1 * MS, 10000 * MS), 0);
}

/* The evidence of a run: its source, length, database time, span and share. */
static void test_nplus1_evidence(void **state)
{
	struct fixture *f = *state;
	struct dbreq r = { 0 };
	const struct dbagg_flag *fl;
	uint64_t end;

	dbtrack__req_start(&f->t, &r, TGID, T_EVL, 1 * MS);
	end = n_plus_one(f, 2 * MS, 20); /* items from 4 ms, 10 ms each, 11 ms apart */
	dbtrack__req_responding(&f->t, &r, end);
	dbtrack__req_end(&f->t, &r, f->ep, end - 1 * MS, end + 1 * MS);
	fl = find_flag(f, DBAGG_FLAG_N_PLUS_ONE, "GET /list");
	assert_non_null(fl);
	assert_string_equal(fl->evidence,
			    "after \"select id from items\", 20 consecutive executions on one "
			    "connection, 200.00 ms in the database over 219.00 ms = 98 % of a "
			    "223.00 ms request (attribution: exact)");
	assert_int_equal(fl->occurrences, 1);
	assert_int_equal(fl->shared, 0);
	assert_int_equal(fl->ts, 1 * MS);
	assert_non_null(dbagg__find(&f->db, fl->query_id));
	assert_string_equal(dbagg__find(&f->db, fl->query_id)->text,
			    "select * from item where id = ?");
}

/*
 * Thread attribution: two requests in flight, read by two threads; a query sent by one of
 * them is that request's alone. A query from a third thread is shared.
 */
static void test_thread_attribution(void **state)
{
	struct fixture *f = *state;
	struct agg_req ar = { .method = "GET", .route = "/health", .status = 200 };
	struct agg_endpoint *health = agg__add(&f->a, &ar);
	struct dbreq r1 = { 0 }, r2 = { 0 };

	dbtrack__req_start(&f->t, &r1, TGID, 200, 1 * MS);
	dbtrack__req_start(&f->t, &r2, TGID, 201, 2 * MS);
	query_tid(f, 200, "select 1 from a where id = 1", 3 * MS, 1 * MS);
	query_tid(f, 200, "select 1 from b where id = 1", 5 * MS, 1 * MS);
	query_tid(f, 202, "select 1 from c where id = 1", 7 * MS, 2 * MS);
	dbtrack__req_end(&f->t, &r1, f->ep, 10 * MS, 11 * MS);
	dbtrack__req_end(&f->t, &r2, health, 10 * MS, 12 * MS);
	assert_int_equal(f->t.st.attributed[DBREQ_THREAD], 2);
	assert_int_equal(f->t.st.attributed[DBREQ_SHARED], 1);
	assert_int_equal(f->t.st.attributed[DBREQ_EXACT], 0);
	assert_true(f->ep->db_queries == 2.5);
	assert_true(f->ep->db_ns == 3.0 * MS);
	assert_int_equal(f->ep->db_conf[DBREQ_SHARED], 1); /* weakest attribution */
	assert_true(health->db_queries == 0.5);
	assert_true(health->db_ns == 1.0 * MS);
	assert_int_equal(health->db_conf[DBREQ_SHARED], 1);
	again(state);
	f = *state;
	/* thread only: the request counts as "thread", the other as exact (no query) */
	health = agg__add(&f->a, &ar);
	memset(&r1, 0, sizeof(r1));
	memset(&r2, 0, sizeof(r2));
	dbtrack__req_start(&f->t, &r1, TGID, 200, 1 * MS);
	dbtrack__req_start(&f->t, &r2, TGID, 201, 2 * MS);
	query_tid(f, 201, "select 1 from a where id = 1", 3 * MS, 1 * MS);
	dbtrack__req_end(&f->t, &r1, f->ep, 10 * MS, 11 * MS);
	dbtrack__req_end(&f->t, &r2, health, 10 * MS, 12 * MS);
	assert_int_equal(f->ep->db_conf[DBREQ_EXACT], 1);
	assert_true(f->ep->db_queries == 0.0);
	assert_int_equal(health->db_conf[DBREQ_THREAD], 1);
	assert_true(health->db_queries == 1.0);
	assert_int_equal(dbtrack__req_conf(&r2), DBREQ_THREAD);
	assert_string_equal(dbtrack__conf_name(DBREQ_EXACT), "exact");
	assert_string_equal(dbtrack__conf_name(DBREQ_THREAD), "thread");
	assert_string_equal(dbtrack__conf_name(DBREQ_SHARED), "shared");
	assert_string_equal(dbtrack__conf_name(DBREQ_HANDOFF), "handoff");
	assert_string_equal(dbtrack__conf_name(DBREQ_CONF_NR), "?");
	assert_string_equal(dbtrack__conf_name(-1), "?");
}

/*
 * Redundant: the same read with the same literals twice or more in one request (exact or
 * thread attribution), one flag per group; writes and shared queries are never flagged.
 */
static void test_redundant(void **state)
{
	struct fixture *f = *state;
	struct dbreq r = { 0 }, r2 = { 0 };
	const struct dbagg_flag *fl;

	dbtrack__req_start(&f->t, &r, TGID, T_EVL, 1 * MS);
	query(f, "select name from items where id = 1", 2 * MS, 1 * MS);
	query(f, "select name from items where id = 2", 4 * MS, 1 * MS);
	query(f, "select name from items where id = 1", 6 * MS, 1 * MS);
	query(f, "update items set n = 1 where id = 1", 8 * MS, 1 * MS);
	query(f, "update items set n = 1 where id = 1", 10 * MS, 1 * MS);
	query(f, "select name from items where id = 1", 12 * MS, 1 * MS);
	dbtrack__req_end(&f->t, &r, f->ep, 20 * MS, 21 * MS);
	assert_int_equal(count_flags(f, DBAGG_FLAG_REDUNDANT, "GET /list"), 1);
	fl = find_flag(f, DBAGG_FLAG_REDUNDANT, "GET /list");
	assert_string_equal(fl->evidence, "the same query with the same parameters ran 3 times in "
					  "one request: a cache candidate");
	assert_string_equal(dbagg__find(&f->db, fl->query_id)->text,
			    "select name from items where id = ?");
	assert_int_equal(fl->occurrences, 1);
	assert_int_equal(f->db.nflags, 1);

	/* a WITH query is a read too; twice in a request */
	memset(&r, 0, sizeof(r));
	dbtrack__req_start(&f->t, &r, TGID, T_EVL, 30 * MS);
	query(f, "with x as (select 1) select * from x", 31 * MS, 1 * MS);
	query(f, "with x as (select 1) select * from x", 33 * MS, 1 * MS);
	dbtrack__req_end(&f->t, &r, f->ep, 10 * MS, 40 * MS);
	assert_int_equal(count_flags(f, DBAGG_FLAG_REDUNDANT, "GET /list"), 2);

	/* once per request is not redundant, even in every request */
	again(state);
	f = *state;
	for (unsigned i = 0; i < 3; i++) {
		memset(&r, 0, sizeof(r));
		dbtrack__req_start(&f->t, &r, TGID, T_EVL, (10 * i + 1) * MS);
		query(f, "select name from items where id = 1", (10 * i + 2) * MS, 1 * MS);
		dbtrack__req_end(&f->t, &r, f->ep, 5 * MS, (10 * i + 5) * MS);
	}
	assert_int_equal(f->db.nflags, 0);

	/* shared between two requests: not known to be one request's */
	memset(&r, 0, sizeof(r));
	dbtrack__req_start(&f->t, &r, TGID, T_EVL, 100 * MS);
	dbtrack__req_start(&f->t, &r2, TGID, T_EVL, 100 * MS);
	query(f, "select name from items where id = 1", 101 * MS, 1 * MS);
	query(f, "select name from items where id = 1", 103 * MS, 1 * MS);
	dbtrack__req_end(&f->t, &r, f->ep, 10 * MS, 110 * MS);
	dbtrack__req_end(&f->t, &r2, f->ep, 10 * MS, 110 * MS);
	assert_int_equal(f->t.st.attributed[DBREQ_SHARED], 2);
	assert_int_equal(f->db.nflags, 0);
}

/* Long transactions: BEGIN .. COMMIT / ROLLBACK on one connection for 1 s or more. */
static void test_long_transaction(void **state)
{
	struct fixture *f = *state;
	const struct dbagg_flag *fl;

	query(f, "begin", 10 * MS, 1 * MS);
	query(f, "select 1", 20 * MS, 1 * MS);
	query(f, "rollback", 1009 * MS, 1 * MS); /* ends 1 s after BEGIN started */
	assert_int_equal(count_flags(f, DBAGG_FLAG_LONG_TX, ""), 1);
	fl = find_flag(f, DBAGG_FLAG_LONG_TX, "");
	assert_string_equal(fl->evidence, "app:8000 held a transaction open on 127.0.0.1:5432 for "
					  "1000.0 ms (BEGIN .. ROLLBACK)");
	assert_int_equal(fl->query_id, 0);
	assert_int_equal(fl->ts, 10 * MS);
	/* 1 ns under a second */
	query(f, "begin", 2000 * MS, 1 * MS);
	query(f, "commit", 2999 * MS, 1 * MS - 1);
	assert_int_equal(fl->occurrences, 1);
	/* a COMMIT with no BEGIN since the last one ended */
	query(f, "commit", 9000 * MS, 1 * MS);
	assert_int_equal(fl->occurrences, 1);
	query(f, "begin", 10000 * MS, 1 * MS);
	query(f, "commit", 12000 * MS, 1 * MS);
	assert_int_equal(fl->occurrences, 2);
	assert_int_equal(f->db.nflags, 1);
	again(state);
	f = *state;
	query(f, "begin", 10 * MS, 1 * MS);
	query(f, "commit", 1100 * MS, 1 * MS);
	assert_string_equal(find_flag(f, DBAGG_FLAG_LONG_TX, "")->evidence,
			    "app:8000 held a transaction open on 127.0.0.1:5432 for 1091.0 ms "
			    "(BEGIN .. COMMIT)");
}

/* libpq: no socket, the PGconn stands for the connection in N+1 runs and transactions. */
static void test_pgconn_stands_for_connection(void **state)
{
	struct fixture *f = *state;
	struct db_exec x = {
		.path = DB_PATH_LIBPQ,
		.tgid = TGID,
		.tid = T_EVL,
		.conn_id = 0xabc,
		.rows = -1,
	};
	const char *sql[] = { "begin", "select 1", "commit" };

	for (unsigned i = 0; i < 3; i++) {
		x.text = sql[i];
		x.text_len = strlen(sql[i]);
		x.ts_start = (1 + 1000 * i) * MS;
		x.ts_end = x.ts_start + 1 * MS;
		sink__db(&f->s, NULL, &x, "app:8000", NULL);
	}
	assert_int_equal(f->t.nvconns, 1);
	assert_string_equal(f->t.vconns[0].server, "PGconn 0xabc");
	assert_int_equal(f->t.vconns[0].queries, 3);
	assert_string_equal(find_flag(f, DBAGG_FLAG_LONG_TX, "")->evidence,
			    "app:8000 held a transaction open on PGconn 0xabc for 2001.0 ms "
			    "(BEGIN .. COMMIT)");
	/* another PGconn gets its own stand-in; the same one again does not */
	x.conn_id = 0xdef;
	sink__db(&f->s, NULL, &x, "app:8000", NULL);
	x.conn_id = 0xabc;
	sink__db(&f->s, NULL, &x, "app:8000", NULL);
	assert_int_equal(f->t.nvconns, 2);
	assert_int_equal(f->t.vconns[0].queries, 4);
	/* the server's side (usdt) serves no request and no connection */
	x.path = DB_PATH_USDT;
	x.text = "select 42";
	x.text_len = 9;
	sink__db(&f->s, NULL, &x, "app:8000", NULL);
	assert_int_equal(f->t.vconns[0].queries, 4);
	assert_int_equal(f->t.st.outside, 5);
}

/* At most DBTRACK_COVER_MAX requests share one query; reaching it is counted. */
static void test_cover_max(void **state)
{
	struct fixture *f = *state;
	static struct dbreq r[DBTRACK_COVER_MAX + 1];

	memset(r, 0, sizeof(r));
	for (unsigned i = 0; i < DBTRACK_COVER_MAX - 1; i++)
		dbtrack__req_start(&f->t, &r[i], TGID, T_EVL, 1 * MS);
	query(f, "select 1", 2 * MS, 1 * MS);
	assert_int_equal(f->t.st.cover_cut, 0);
	assert_true(r[0].queries == 1.0 / (DBTRACK_COVER_MAX - 1));
	dbtrack__req_start(&f->t, &r[DBTRACK_COVER_MAX - 1], TGID, T_EVL, 1 * MS);
	dbtrack__req_start(&f->t, &r[DBTRACK_COVER_MAX], TGID, T_EVL, 1 * MS);
	query(f, "select 2", 4 * MS, 1 * MS);
	assert_int_equal(f->t.st.cover_cut, 1);
	assert_true(r[0].queries == 1.0 / (DBTRACK_COVER_MAX - 1) + 1.0 / DBTRACK_COVER_MAX);
	assert_true(r[DBTRACK_COVER_MAX].queries == 0.0);
	for (unsigned i = 0; i <= DBTRACK_COVER_MAX; i++)
		dbtrack__req_drop(&f->t, &r[i]);
	assert_ptr_equal(f->t.head.next, &f->t.head);
}

/* A request's top fingerprints: repeats add up, the first AGG_DB_TOP distinct ones kept. */
static void test_request_top(void **state)
{
	struct fixture *f = *state;
	struct dbreq r = { 0 };
	char sql[64];

	dbtrack__req_start(&f->t, &r, TGID, T_EVL, 1 * MS);
	query(f, "select 1 from t0", 2 * MS, 1 * MS);
	query(f, "select 1 from t0", 4 * MS, 3 * MS);
	for (unsigned i = 1; i <= AGG_DB_TOP; i++) {
		snprintf(sql, sizeof(sql), "select 1 from t%u", i);
		query(f, sql, (10 + 2 * i) * MS, 1 * MS);
	}
	dbtrack__req_end(&f->t, &r, f->ep, 100 * MS, 101 * MS);
	assert_int_equal(r.ntop, AGG_DB_TOP);
	assert_int_equal(r.top_other, 1);
	assert_int_equal(f->ep->db_ntop, AGG_DB_TOP);
	assert_true(f->ep->db_top[0].n == 2.0);
	assert_true(f->ep->db_top[0].ns == 4.0 * MS);
	assert_true(f->ep->db_top[1].n == 1.0);
	assert_string_equal(dbagg__find(&f->db, f->ep->db_top[7].query_id)->text,
			    "select ? from t7");
	assert_true(f->ep->db_queries == AGG_DB_TOP + 2);
}

/* A defer window of 1 ns still makes every ended request wait for late queries. */
static void test_defer_window(void **state)
{
	struct fixture *f = *state;
	struct dbreq r = { 0 };

	assert_int_equal(dbtrack__set_defer(&f->t, 1), 0);
	assert_true(f->t.defer_all);
	dbtrack__req_start(&f->t, &r, TGID, T_EVL, 1 * MS);
	dbtrack__req_end(&f->t, &r, f->ep, 5 * MS, 6 * MS);
	assert_int_equal(f->ep->db_reqs, 0);
	assert_int_equal(f->t.nclosing, 1);
	dbtrack__tick(&f->t, 6 * MS);
	assert_int_equal(f->ep->db_reqs, 0);
	dbtrack__tick(&f->t, 6 * MS + 1);
	assert_int_equal(f->ep->db_reqs, 1);
	assert_int_equal(f->t.nclosing, 0);
	assert_int_equal(dbtrack__set_defer(&f->t, 0), 0);
	assert_false(f->t.defer_all);
	dbtrack__free(&f->t);
	assert_null(f->t.closing);
	assert_int_equal(f->t.nclosing, 0);
	assert_int_equal(f->t.nvconns, 0);
	assert_int_equal(f->t.nparked, 0);
}

/*
 * A run on a connection shared by two requests in flight, closed by another query while both
 * still are: credited to both, flagged as shared.
 */
static void test_shared_run_in_flight(void **state)
{
	struct fixture *f = *state;
	struct dbreq r1 = { 0 }, r2 = { 0 };
	const struct dbagg_flag *fl;
	uint64_t end;

	dbtrack__req_start(&f->t, &r1, TGID, T_EVL, 1 * MS);
	dbtrack__req_start(&f->t, &r2, TGID, T_EVL, 1 * MS);
	end = n_plus_one(f, 2 * MS, 6);
	query(f, "select 2", end, 1 * MS); /* ends the run */
	assert_int_equal(r1.nruns, 1);
	assert_int_equal(r2.nruns, 1);
	assert_true(r1.runs[0].shared);
	assert_int_equal(r1.runs[0].n, 6);
	assert_int_equal(r1.runs[0].total_ns, 60 * MS);
	assert_int_equal(r1.runs[0].span_ns, 65 * MS);
	dbtrack__req_end(&f->t, &r1, f->ep, 100 * MS, end + 2 * MS);
	dbtrack__req_end(&f->t, &r2, f->ep, 100 * MS, end + 3 * MS);
	fl = find_flag(f, DBAGG_FLAG_N_PLUS_ONE, "GET /list");
	assert_non_null(fl);
	assert_int_equal(fl->occurrences, 2);
	assert_int_equal(fl->shared, 2);
	assert_non_null(strstr(fl->evidence, "(attribution: shared)"));
	dbtrack__finish(&f->t, &f->a);
	assert_true(f->db.flags[0].support == 1.0);
	assert_false(f->db.flags[0].weak);
	/* a request that answered before the run ended was not waiting on it */
	again(state);
	f = *state;
	memset(&r1, 0, sizeof(r1));
	memset(&r2, 0, sizeof(r2));
	dbtrack__req_start(&f->t, &r1, TGID, T_EVL, 1 * MS);
	dbtrack__req_start(&f->t, &r2, TGID, T_EVL, 1 * MS);
	end = n_plus_one(f, 2 * MS, 6);
	dbtrack__req_responding(&f->t, &r2, 60 * MS); /* the run ends at 69 ms */
	query(f, "select 2", end, 1 * MS);
	assert_int_equal(r1.nruns, 1);
	assert_int_equal(r2.nruns, 0);
}

/* Two connections: closing one leaves the other in the list, with its run. */
static void test_two_connections(void **state)
{
	struct fixture *f = *state;
	struct dbconn c2;
	struct dbreq r = { 0 };
	struct db_exec x = {
		.path = DB_PATH_WIRE, .tgid = TGID, .tid = T_WRK, .conn_id = 2, .rows = 1
	};
	uint64_t t = 20 * MS;

	dbtrack__conn_open(&f->t, &c2, TGID, 2, "app:8000", "127.0.0.1:5432", 5 * MS);
	dbtrack__req_start(&f->t, &r, TGID, T_EVL, 10 * MS);
	query(f, "select 1", 11 * MS, 1 * MS);
	dbtrack__conn_close(&f->t, &f->conn, 15 * MS);
	x.text = "select id from items";
	x.text_len = strlen(x.text);
	x.ts_start = t;
	x.ts_end = t + 1 * MS;
	sink__db(&f->s, &c2, &x, NULL, NULL);
	x.text = "select * from item where id = 7";
	x.text_len = strlen(x.text);
	for (unsigned i = 0; i < 5; i++) {
		x.ts_start = t += 2 * MS;
		x.ts_end = t + 20 * MS;
		t += 20 * MS;
		sink__db(&f->s, &c2, &x, NULL, NULL);
	}
	dbtrack__req_end(&f->t, &r, f->ep, t + 1 * MS - 10 * MS, t + 1 * MS);
	assert_int_equal(count_flags(f, DBAGG_FLAG_N_PLUS_ONE, "GET /list"), 1);
	assert_int_equal(f->db.nclients, 1);
	assert_int_equal(f->db.clients[0].opened, 2);
	assert_int_equal(f->db.clients[0].closed, 1);
	assert_int_equal(f->db.clients[0].life_ns, 15 * MS);
	assert_int_equal(f->db.clients[0].queries, 1);
	dbtrack__conn_close(&f->t, &c2, 200 * MS);
	assert_int_equal(f->db.clients[0].life_ns, 15 * MS + 195 * MS);
	assert_int_equal(f->db.clients[0].queries, 7);
	assert_ptr_equal(f->t.conns.next, &f->t.conns);
	/* the fixture's teardown does not close it again */
	dbtrack__conn_open(&f->t, &f->conn, TGID, 1, "app:8000", "127.0.0.1:5432", 300 * MS);
}

/*
 * A worker's query with 16 requests in flight (the most a waiting query keeps) whose run is
 * never handed back: when the requests are about to be finalized it is shared among them.
 */
static void test_handoff_undecided_shared(void **state)
{
	struct fixture *f = *state;
	static struct dbreq r[DBTRACK_PARK_CAND];
	struct handoff ho;
	struct handoff_ev ev = {
		.tgid = TGID, .kind = HANDOFF_EV_WAKE, .tid = T_EVL, .wakee = T_WRK, .ts = 3 * MS
	};

	memset(r, 0, sizeof(r));
	handoff__init(&ho);
	assert_int_equal(dbtrack__set_handoff(&f->t, &ho), 0);
	for (unsigned i = 0; i < DBTRACK_PARK_CAND; i++)
		dbtrack__req_start(&f->t, &r[i], TGID, T_EVL, 1 * MS + i);
	dbtrack__handoff_event(&f->t, &ev);
	query(f, "select 1 from a where id = 1", 5 * MS, 1 * MS);
	assert_int_equal(f->t.nparked, 1);
	for (unsigned i = 0; i < DBTRACK_PARK_CAND; i++)
		dbtrack__req_end(&f->t, &r[i], f->ep, 9 * MS, 10 * MS);
	assert_int_equal(f->t.nclosing, DBTRACK_PARK_CAND);
	dbtrack__tick(&f->t, 300 * MS);
	assert_int_equal(f->t.nparked, 1);
	assert_int_equal(f->ep->db_reqs, 0);
	/*
	 * A request covering a query started at 5 ms ends after 5 ms: it is finalized after
	 * 305 ms. The query waits until then, not 1 ns longer.
	 */
	dbtrack__tick(&f->t, 305 * MS - 1);
	assert_int_equal(f->t.nparked, 1);
	dbtrack__tick(&f->t, 305 * MS);
	assert_int_equal(f->t.nparked, 0);
	assert_int_equal(f->ep->db_reqs, 0);
	dbtrack__tick(&f->t, 310 * MS);
	assert_int_equal(f->t.nparked, 0);
	assert_int_equal(f->t.st.handoff_undecided, 1);
	assert_int_equal(f->t.st.attributed[DBREQ_SHARED], 1);
	assert_int_equal(f->t.st.outside, 0);
	assert_int_equal(f->ep->db_reqs, DBTRACK_PARK_CAND);
	assert_int_equal(f->ep->db_conf[DBREQ_SHARED], DBTRACK_PARK_CAND);
	assert_true(f->ep->db_queries == 1.0);
	handoff__free(&ho);
}

/*
 * The waiting list is full: the oldest ended request is finalized early, and a waiting query
 * it may have sent is decided (shared) first, so that it is not lost to it.
 */
static void test_closing_full(void **state)
{
	struct fixture *f = *state;
	struct dbreq r0 = { 0 }, r1 = { 0 }, r = { 0 };
	struct handoff ho;
	struct handoff_ev ev = {
		.tgid = TGID, .kind = HANDOFF_EV_WAKE, .tid = T_EVL, .wakee = T_WRK, .ts = 3 * MS
	};

	handoff__init(&ho);
	assert_int_equal(dbtrack__set_handoff(&f->t, &ho), 0);
	dbtrack__req_start(&f->t, &r0, TGID, T_EVL, 1 * MS);
	dbtrack__req_start(&f->t, &r1, TGID, T_EVL, 2 * MS);
	dbtrack__handoff_event(&f->t, &ev);
	query(f, "select 1 from a where id = 1", 5 * MS, 1 * MS);
	assert_int_equal(f->t.nparked, 1);
	dbtrack__req_end(&f->t, &r0, f->ep, 9 * MS, 10 * MS);
	dbtrack__req_end(&f->t, &r1, f->ep, 9 * MS, 10 * MS);
	for (unsigned i = 2; i < DBTRACK_CLOSING; i++) {
		dbtrack__req_start(&f->t, &r, TGID, T_EVL, 20 * MS);
		dbtrack__req_end(&f->t, &r, f->ep, 1 * MS, 21 * MS);
	}
	assert_int_equal(f->t.nclosing, DBTRACK_CLOSING);
	assert_int_equal(f->ep->db_reqs, 0);
	dbtrack__req_start(&f->t, &r, TGID, T_EVL, 20 * MS);
	dbtrack__req_end(&f->t, &r, f->ep, 1 * MS, 21 * MS);
	assert_int_equal(f->t.st.closed_early, 1);
	assert_int_equal(f->t.nclosing, DBTRACK_CLOSING);
	assert_int_equal(f->ep->db_reqs, 1);
	assert_true(f->ep->db_queries == 0.5);
	assert_int_equal(f->t.nparked, 0);
	assert_int_equal(f->t.st.handoff_undecided, 1);
	handoff__free(&ho);
}

/*
 * A pool's hand-offs lengthen the defer window (dbtrack__set_handoff after --db-probe libpq's
 * dbtrack__set_defer): a request already waiting keeps waiting, now for the longer window.
 */
static void test_defer_lengthened_keeps_waiting_requests(void **state)
{
	struct fixture *f = *state;
	struct dbreq r = { 0 };
	struct handoff ho;

	handoff__init(&ho);
	assert_int_equal(dbtrack__set_defer(&f->t, 100 * MS), 0);
	dbtrack__req_start(&f->t, &r, TGID, T_EVL, 1 * MS);
	query(f, "select 1", 2 * MS, 1 * MS);
	dbtrack__req_end(&f->t, &r, f->ep, 9 * MS, 10 * MS);
	assert_int_equal(f->t.nclosing, 1);
	assert_int_equal(dbtrack__set_handoff(&f->t, &ho), 0);
	assert_int_equal(f->t.defer_ns, DBTRACK_HANDOFF_DEFER_NS);
	assert_int_equal(f->t.nclosing, 1);
	/* 100 ms after its end it still waits: the window is 300 ms now */
	dbtrack__tick(&f->t, 110 * MS);
	assert_int_equal(f->ep->db_reqs, 0);
	dbtrack__tick(&f->t, 310 * MS);
	assert_int_equal(f->ep->db_reqs, 1);
	assert_true(f->ep->db_queries == 1.0);
	assert_int_equal(f->ep->db_conf[DBREQ_EXACT], 1);
	assert_int_equal(f->t.nclosing, 0);
	handoff__free(&ho);
}

/* A request of reads "select name from items where id = <ids[i]>", 10 us each, 1 ms apart. */
static void reads_request(struct fixture *f, struct dbreq *r, uint64_t t0, const unsigned *ids,
			  unsigned n)
{
	char sql[64];

	memset(r, 0, sizeof(*r));
	dbtrack__req_start(&f->t, r, TGID, T_EVL, t0);
	for (unsigned i = 0; i < n; i++) {
		snprintf(sql, sizeof(sql), "select name from items where id = %u", ids[i]);
		query(f, sql, t0 + (1 + i) * MS, 10000);
	}
}

/*
 * The redundant check keeps the first DBREQ_RAW (64) reads of a request: a repeat as the 64th
 * is flagged; as the 65th it is not looked at, and counted in raw_cut. Writes are never kept,
 * so they are not counted there either.
 */
static void test_redundant_reads_kept_per_request(void **state)
{
	struct fixture *f = *state;
	unsigned ids[DBREQ_RAW + 1];
	struct dbreq r;
	const struct dbagg_flag *fl;

	/* ids 1 .. 63, then 1 again as the 64th read; a write after them */
	for (unsigned i = 0; i < DBREQ_RAW - 1; i++)
		ids[i] = i + 1;
	ids[DBREQ_RAW - 1] = 1;
	reads_request(f, &r, 1 * MS, ids, DBREQ_RAW);
	query(f, "update items set n = 1 where id = 1", 90 * MS, 10000);
	dbtrack__req_end(&f->t, &r, f->ep, 10000 * MS, 100 * MS);
	assert_int_equal(r.nraw, DBREQ_RAW);
	assert_int_equal(f->t.st.raw_cut, 0);
	assert_int_equal(count_flags(f, DBAGG_FLAG_REDUNDANT, "GET /list"), 1);
	fl = find_flag(f, DBAGG_FLAG_REDUNDANT, "GET /list");
	assert_string_equal(fl->evidence, "the same query with the same parameters ran 2 times in "
					  "one request: a cache candidate");
	/* ids 1 .. 64, then 1 again as the 65th: beyond the reads kept */
	for (unsigned i = 0; i < DBREQ_RAW; i++)
		ids[i] = i + 1;
	ids[DBREQ_RAW] = 1;
	reads_request(f, &r, 200 * MS, ids, DBREQ_RAW + 1);
	dbtrack__req_end(&f->t, &r, f->ep, 10000 * MS, 300 * MS);
	assert_int_equal(r.nraw, DBREQ_RAW);
	assert_int_equal(f->t.st.raw_cut, 1);
	assert_int_equal(fl->occurrences, 1);
	assert_int_equal(f->db.nflags, 1);
	assert_int_equal(f->ep->db_reqs, 2);
	assert_true(f->ep->db_queries == 2 * DBREQ_RAW + 2);
}

/*
 * One request with a source query, then n N+1 runs back to back: 5 executions of 10 ms (50 ms
 * in the database, flagged on that alone) of "select v from t<k>", k = 1 .. n, each after the
 * previous fingerprint. Returns the N+1 flags on its endpoint.
 */
static unsigned runs_request(struct fixture *f, unsigned n)
{
	struct dbreq r = { 0 };
	uint64_t t = 2 * MS;
	char sql[32];

	dbtrack__req_start(&f->t, &r, TGID, T_EVL, 1 * MS);
	query(f, "select v from t0", t, 1 * MS);
	t += 2 * MS;
	for (unsigned k = 1; k <= n; k++) {
		snprintf(sql, sizeof(sql), "select v from t%u", k);
		for (unsigned i = 0; i < 5; i++, t += 11 * MS)
			query(f, sql, t, 10 * MS);
	}
	dbtrack__req_end(&f->t, &r, f->ep, t, t + 1 * MS);
	return count_flags(f, DBAGG_FLAG_N_PLUS_ONE, "GET /list");
}

/*
 * A request keeps DBREQ_RUNS (8) N+1 runs: all 8 are flagged. Of 9, the 9th (still going when
 * the request ends) is counted in runs_cut, not flagged; of 10, the 9th (ended by the 10th)
 * is too.
 */
static void test_runs_kept_per_request(void **state)
{
	struct fixture *f = *state;
	char sql[32];

	assert_int_equal(runs_request(f, DBREQ_RUNS), DBREQ_RUNS);
	assert_int_equal(f->t.st.runs_cut, 0);
	again(state);
	f = *state;
	assert_int_equal(runs_request(f, DBREQ_RUNS + 1), DBREQ_RUNS);
	assert_int_equal(f->t.st.runs_cut, 1);
	again(state);
	f = *state;
	assert_int_equal(runs_request(f, DBREQ_RUNS + 2), DBREQ_RUNS);
	assert_int_equal(f->t.st.runs_cut, 2);
	/* the first 8 are the ones kept (each is also redundant: the same text 5 times) */
	for (unsigned i = 0, k = 0; i < f->db.nflags; i++) {
		if (f->db.flags[i].kind != DBAGG_FLAG_N_PLUS_ONE)
			continue;
		snprintf(sql, sizeof(sql), "select v from t%u", ++k);
		assert_string_equal(dbagg__find(&f->db, f->db.flags[i].query_id)->text, sql);
	}
}

/*
 * The waiting list is full and the oldest ended request is finalized early. A waiting query
 * with 16 requests it may serve (the most it keeps), none of them that one, is not decided
 * for it: it keeps waiting for its hand-off, and is shared among its own at the end.
 */
static void test_closing_full_other_query_waits(void **state)
{
	struct fixture *f = *state;
	static struct dbreq r[DBTRACK_PARK_CAND];
	struct dbreq old = { 0 }, rr = { 0 };
	struct handoff ho;
	struct handoff_ev ev = {
		.tgid = TGID, .kind = HANDOFF_EV_WAKE, .tid = T_EVL, .wakee = T_WRK, .ts = 2 * MS
	};

	memset(r, 0, sizeof(r));
	handoff__init(&ho);
	assert_int_equal(dbtrack__set_handoff(&f->t, &ho), 0);
	/* answered before the query started: it cannot be the query's */
	dbtrack__req_start(&f->t, &old, TGID, T_EVL, 1 * MS);
	dbtrack__handoff_event(&f->t, &ev);
	dbtrack__req_end(&f->t, &old, f->ep, 2 * MS, 3 * MS);
	assert_int_equal(f->t.nclosing, 1);
	for (unsigned i = 0; i < DBTRACK_PARK_CAND; i++)
		dbtrack__req_start(&f->t, &r[i], TGID, T_EVL, 4 * MS + i);
	query(f, "select 1 from a where id = 1", 5 * MS, 1 * MS);
	assert_int_equal(f->t.nparked, 1);
	assert_int_equal(f->t.parked[0].ncand, DBTRACK_PARK_CAND);
	for (unsigned i = 1; i < DBTRACK_CLOSING; i++) {
		dbtrack__req_start(&f->t, &rr, TGID, T_EVL, 20 * MS);
		dbtrack__req_end(&f->t, &rr, f->ep, 1 * MS, 21 * MS);
	}
	assert_int_equal(f->t.nclosing, DBTRACK_CLOSING);
	dbtrack__req_start(&f->t, &rr, TGID, T_EVL, 20 * MS);
	dbtrack__req_end(&f->t, &rr, f->ep, 1 * MS, 21 * MS);
	assert_int_equal(f->t.st.closed_early, 1);
	assert_int_equal(f->ep->db_reqs, 1);
	assert_true(f->ep->db_queries == 0.0);
	assert_int_equal(f->t.nparked, 1);
	assert_int_equal(f->t.st.handoff_undecided, 0);
	assert_int_equal(f->t.st.attributed[DBREQ_SHARED], 0);
	/* the end of the recording decides it: shared among the 16 still in flight */
	dbtrack__tick(&f->t, 0);
	assert_int_equal(f->t.nparked, 0);
	assert_int_equal(f->t.st.attributed[DBREQ_SHARED], 1);
	assert_true(r[0].queries == 1.0 / DBTRACK_PARK_CAND);
	assert_true(r[DBTRACK_PARK_CAND - 1].queries == 1.0 / DBTRACK_PARK_CAND);
	for (unsigned i = 0; i < DBTRACK_PARK_CAND; i++)
		dbtrack__req_drop(&f->t, &r[i]);
	handoff__free(&ho);
}

/*
 * A run of another process (its own connection, no request of its own in flight) spans a
 * request of ours: when that request ends, the run is not credited to it. It stays outside
 * any traced request, and is flagged so when its connection closes.
 */
static void test_other_process_run_not_credited(void **state)
{
	struct fixture *f = *state;
	struct dbconn c2;
	struct dbreq r = { 0 };
	struct db_exec x = {
		.path = DB_PATH_WIRE, .tgid = TGID + 1, .tid = TGID + 1, .conn_id = 2, .rows = 1
	};
	uint64_t t = 4 * MS;

	dbtrack__conn_open(&f->t, &c2, TGID + 1, 2, "worker", "127.0.0.1:5432", 0);
	dbtrack__req_start(&f->t, &r, TGID, T_EVL, 1 * MS);
	x.text = "select id from items";
	x.text_len = strlen(x.text);
	x.ts_start = 2 * MS;
	x.ts_end = 3 * MS;
	sink__db(&f->s, &c2, &x, NULL, NULL);
	x.text = "select * from item where id = 7";
	x.text_len = strlen(x.text);
	for (unsigned i = 0; i < 6; i++, t += 11 * MS) {
		x.ts_start = t;
		x.ts_end = t + 10 * MS;
		sink__db(&f->s, &c2, &x, NULL, NULL);
	}
	dbtrack__req_responding(&f->t, &r, 80 * MS);
	dbtrack__req_end(&f->t, &r, f->ep, 79 * MS, 81 * MS);
	assert_int_equal(f->ep->db_reqs, 1);
	assert_true(f->ep->db_queries == 0.0);
	assert_int_equal(r.nruns, 0);
	assert_int_equal(f->t.st.outside, 7);
	assert_int_equal(count_flags(f, DBAGG_FLAG_N_PLUS_ONE, "GET /list"), 0);
	dbtrack__conn_close(&f->t, &c2, 100 * MS);
	assert_int_equal(count_flags(f, DBAGG_FLAG_N_PLUS_ONE, ""), 1);
	assert_string_equal(
		f->db.flags[0].evidence,
		"6 consecutive executions on one connection, 60.0 ms in all, outside any "
		"traced request");
}

static struct dbagg_flag *nplus1_flag(struct fixture *f, uint64_t qid, const char *endpoint,
				      uint64_t occurrences, uint64_t shared)
{
	struct dbagg_flag *fl = dbagg__flag(&f->db, DBAGG_FLAG_N_PLUS_ONE, qid, endpoint, 0, "x");

	fl->occurrences = occurrences;
	fl->shared = shared;
	return fl;
}

/*
 * N+1 flags that rest on shared runs only have a support (occurrences per request of the
 * endpoint); under 0.5 they are weak, and a weak flag is dropped when its fingerprint has a
 * flag on another endpoint that is not weak, or is weak with more support (or as much,
 * earlier).
 */
static void test_finish_weak_flags(void **state)
{
	struct fixture *f = *state;
	struct agg_req ar = { .method = "GET", .route = "/health", .status = 200 };
	struct agg_endpoint *health = agg__add(&f->a, &ar);
	const char *kept[] = { "1 GET /health", "2 GET /health", "3 GET /list",
			       "4 GET /list",	"5 GET /list",	 "5 ",
			       "6 GET /list",	"7 GET /list",	 "7 GET /health" };

	f->ep->db_reqs = 10;
	health->db_reqs = 5;
	/* 1: weak on /list (2 of 10), exact on /health: the weak one goes */
	nplus1_flag(f, 1, "GET /list", 2, 2);
	nplus1_flag(f, 1, "GET /health", 1, 0);
	/* 2: weak on both, 0.2 on /list, 0.4 on /health: /list goes */
	nplus1_flag(f, 2, "GET /list", 2, 2);
	nplus1_flag(f, 2, "GET /health", 2, 2);
	/* 3: as much support (0.2) on both: the later one goes */
	nplus1_flag(f, 3, "GET /list", 2, 2);
	nplus1_flag(f, 3, "GET /health", 1, 1);
	/* 4: alone, weak: kept */
	nplus1_flag(f, 4, "GET /list", 1, 1);
	/* 5: an N+1 outside requests does not make an endpoint's weak flag a shadow */
	nplus1_flag(f, 5, "GET /list", 1, 1);
	nplus1_flag(f, 5, "", 1, 0);
	/* 6: neither does another kind of flag */
	nplus1_flag(f, 6, "GET /list", 1, 1);
	dbagg__flag(&f->db, DBAGG_FLAG_REDUNDANT, 6, "GET /health", 0, "x");
	/* 7: partly shared: not weak, so nothing is dropped; support 1 at most */
	nplus1_flag(f, 7, "GET /list", 3, 2);
	nplus1_flag(f, 7, "GET /health", 9, 9);
	dbtrack__finish(&f->t, &f->a);
	assert_int_equal(f->db.flags_overlap, 3);
	assert_int_equal(f->db.nflags, 10);
	for (unsigned i = 0, k = 0; i < f->db.nflags; i++) {
		char buf[64];

		if (f->db.flags[i].kind != DBAGG_FLAG_N_PLUS_ONE)
			continue;
		snprintf(buf, sizeof(buf), "%llu %s", (unsigned long long)f->db.flags[i].query_id,
			 f->db.flags[i].endpoint);
		assert_string_equal(buf, kept[k++]);
	}
	assert_true(f->db.flags[0].support == 0.0); /* exact: no support computed */
	assert_false(f->db.flags[0].weak);
	assert_true(f->db.flags[1].support == 0.4);
	assert_true(f->db.flags[1].weak);
	assert_true(f->db.flags[2].support == 0.2);
	assert_true(f->db.flags[3].support == 0.1);
	assert_true(f->db.flags[9].support == 1.0);
	assert_false(f->db.flags[9].weak);
	assert_false(f->db.flags[8].weak); /* 2 of 3 shared */
	assert_true(f->db.flags[8].support == 0.0);
}

/*
 * A run that ends with its request is flagged once, on its endpoint. The same fingerprint going
 * on right after the end is the loop's tail: not added to the run, and no N+1 of its own
 * outside requests (it follows itself, not a source query).
 */
static void test_run_ends_with_request(void **state)
{
	struct fixture *f = *state;
	struct dbreq r = { 0 };
	const struct dbagg_flag *fl;
	uint64_t end, t;

	dbtrack__req_start(&f->t, &r, TGID, T_EVL, 1 * MS);
	end = n_plus_one(f, 2 * MS, 5); /* items at 4 .. 48 ms, the last ends at 58 ms */
	dbtrack__req_responding(&f->t, &r, end);
	dbtrack__req_end(&f->t, &r, f->ep, end - 1 * MS, end);
	fl = find_flag(f, DBAGG_FLAG_N_PLUS_ONE, "GET /list");
	assert_non_null(fl);
	assert_non_null(strstr(fl->evidence, " 5 consecutive executions "));
	/* 5 more, each within 10 ms of the previous end */
	t = end + 2 * MS;
	for (unsigned i = 0; i < 5; i++, t += 11 * MS)
		query(f, "select * from item where id = 7", t, 10 * MS);
	query(f, "select 2", t, 1 * MS);
	dbtrack__conn_close(&f->t, &f->conn, t + 10 * MS);
	assert_int_equal(f->t.st.outside, 6);
	assert_int_equal(fl->occurrences, 1);
	assert_int_equal(count_flags(f, DBAGG_FLAG_N_PLUS_ONE, ""), 0);
	/* the connection is reopened: the fixture's teardown does not close it again */
	dbtrack__conn_open(&f->t, &f->conn, TGID, 1, "app:8000", "127.0.0.1:5432", t + 20 * MS);
}

/*
 * A pool worker's queries date its run: /health, answered (35 ms) before the worker's last
 * query ended (40 ms), was not waiting on it, so the run and its queries are /list's, read
 * later, even though a guess in read order would give them to /health.
 */
static void test_handoff_worker_last_query(void **state)
{
	struct fixture *f = *state;
	struct agg_req ar = { .method = "GET", .route = "/health", .status = 200 };
	struct agg_endpoint *health = agg__add(&f->a, &ar);
	struct dbreq r1 = { 0 }, r2 = { 0 };
	struct handoff ho;
	struct handoff_ev ev = {
		.tgid = TGID, .kind = HANDOFF_EV_WAKE, .tid = T_EVL, .wakee = T_WRK, .ts = 3 * MS
	};

	handoff__init(&ho);
	assert_int_equal(dbtrack__set_handoff(&f->t, &ho), 0);
	dbtrack__req_start(&f->t, &r1, TGID, T_EVL, 1 * MS);
	dbtrack__req_start(&f->t, &r2, TGID, T_EVL, 2 * MS);
	dbtrack__handoff_event(&f->t, &ev);
	query(f, "select 1 from a where id = 1", 5 * MS, 1 * MS);
	dbtrack__req_end(&f->t, &r1, health, 34 * MS, 35 * MS);
	query(f, "select 1 from b where id = 1", 30 * MS, 10 * MS);
	ev = (struct handoff_ev){
		.tgid = TGID, .kind = HANDOFF_EV_BACK, .tid = T_WRK, .ts = 41 * MS
	};
	dbtrack__handoff_event(&f->t, &ev);
	dbtrack__req_end(&f->t, &r2, f->ep, 40 * MS, 42 * MS);
	assert_int_equal(f->t.nparked, 2);
	dbtrack__tick(&f->t, 400 * MS);
	assert_int_equal(f->t.nparked, 0);
	assert_int_equal(f->t.st.attributed[DBREQ_HANDOFF], 2);
	assert_int_equal(f->ep->db_reqs, 1);
	assert_true(f->ep->db_queries == 2.0);
	assert_true(f->ep->db_ns == 11.0 * MS);
	assert_int_equal(f->ep->db_conf[DBREQ_HANDOFF], 1);
	assert_int_equal(health->db_reqs, 1);
	assert_true(health->db_queries == 0.0);
	handoff__free(&ho);
}

/*
 * The evidence quotes the source query's fingerprint up to 60 characters: one of 60 whole, one
 * of 61 as its first 60 and "...".
 */
static void test_nplus1_evidence_long_source(void **state)
{
	static const struct {
		const char *src, *evidence;
	} cases[] = {
		{ "select abcdefghijklmnopqrstuvwxyzabcdefghijklmnop from items",
		  "after \"select abcdefghijklmnopqrstuvwxyzabcdefghijklmnop from items\", 5 "
		  "consecutive" },
		{ "select abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq from items",
		  "after \"select abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq from item...\", 5 "
		  "consecutive" },
	};
	struct fixture *f = *state;

	for (unsigned k = 0; k < 2; k++) {
		struct dbreq r = { 0 };
		const struct dbagg_flag *fl;
		uint64_t t = 4 * MS;

		assert_int_equal(strlen(cases[k].src), 60 + k);
		dbtrack__req_start(&f->t, &r, TGID, T_EVL, 1 * MS);
		query(f, cases[k].src, 2 * MS, 1 * MS);
		for (unsigned i = 0; i < 5; i++, t += 11 * MS)
			query(f, "select * from item where id = 7", t, 10 * MS);
		dbtrack__req_end(&f->t, &r, f->ep, t, t + 1 * MS);
		fl = find_flag(f, DBAGG_FLAG_N_PLUS_ONE, "GET /list");
		assert_non_null(fl);
		assert_memory_equal(fl->evidence, cases[k].evidence, strlen(cases[k].evidence));
		again(state);
		f = *state;
	}
}

/* A shared N+1 flag on an endpoint with no request added up (all dropped) has no support. */
static void test_finish_support_no_requests(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(f->ep->db_reqs, 0);
	nplus1_flag(f, 1, "GET /list", 2, 2);
	dbtrack__finish(&f->t, &f->a);
	assert_int_equal(f->db.nflags, 1);
	assert_true(f->db.flags[0].support == 0.0);
	assert_true(f->db.flags[0].weak);
}

/* The exemplar of the only request of ep: its slowest slot (one request offered). */
static const struct exemplar *only_exemplar(const struct fixture *f)
{
	assert_non_null(f->ep->ex);
	assert_int_equal(f->ep->ex->nslow, 1);
	return &f->ep->ex->slow[0];
}

/*
 * What a request did, as spans (record/exemplar.h): its own query, cache read and outbound call
 * (exact), a query shared with a request on another thread, in the order they finished, with
 * their starts, durations, references and attribution; its exemplar times it as its endpoint
 * does (dbtrack__req_answer). Beyond EXEMPLAR_SPANS, spans are counted, not kept.
 */
static void test_exemplar_spans(void **state)
{
	struct fixture *f = *state;
	struct dbreq r1 = { 0 }, r2 = { 0 };
	struct dbtrack_call out = { .tgid = TGID, .tid = T_WRK, .ts_start = 6 * MS,
				    .ts_end = 8 * MS, .status = 503, .error = true };
	const struct exemplar *e;
	const struct exemplar_span *sp;
	uint32_t dst, route, get;

	assert_int_equal(dbtrack__exemplars(&f->t), 0);
	dbtrack__follow(&f->t, AGG_DEP_CACHE, NULL);
	dbtrack__follow(&f->t, AGG_DEP_HTTP, NULL);
	dst = exemplars__label(f->t.ex, "127.0.0.1:9000");
	route = exemplars__label(f->t.ex, "/pay/{id}");
	get = exemplars__label(f->t.ex, "GET");
	out.ex_ref = (uint64_t)dst << 32 | route;
	out.ex_ref2 = get;
	dbtrack__req_start(&f->t, &r1, TGID, T_WRK, 1 * MS);
	query(f, "select 1", 2 * MS, 1 * MS);
	{
		struct dbtrack_call c = { .tgid = TGID, .tid = T_WRK, .ts_start = 4 * MS,
					  .ts_end = 5 * MS, .misses = 1, .ex_ref = 77 };

		dbtrack__call(&f->t, AGG_DEP_CACHE, &c);
	}
	dbtrack__call(&f->t, AGG_DEP_HTTP, &out);
	/* A second request on another thread; a query of a third thread: shared by both. */
	dbtrack__req_start(&f->t, &r2, TGID, T_EVL, 9 * MS);
	query_tid(f, T_WRK2, "select 2", 10 * MS, 2 * MS);
	assert_int_equal(r1.sp->n, 4);
	assert_int_equal(r2.sp->n, 1);
	assert_int_equal(r2.sp->s[0].conf, DBREQ_SHARED);
	dbtrack__req_answer(&r1, 1 * MS - 500, 13 * MS, 201);
	dbtrack__req_end(&f->t, &r1, f->ep, 12 * MS, 13 * MS);
	assert_null(r1.sp); /* handed to the exemplar */
	e = only_exemplar(f);
	assert_int_equal(e->seq, r1.seq);
	assert_int_equal(e->start, 1 * MS - 500);
	assert_int_equal(e->lat, 12 * MS + 500);
	assert_int_equal(e->status, 201);
	assert_int_equal(e->tid, T_WRK);
	assert_int_equal(e->conf, DBREQ_SHARED);
	assert_int_equal(e->sp->n, 4);
	sp = e->sp->s;
	assert_int_equal(sp[0].kind, EXEMPLAR_QUERY);
	assert_int_equal(sp[0].start, 2 * MS);
	assert_int_equal(sp[0].dur, 1 * MS);
	assert_int_equal(sp[0].conf, DBREQ_EXACT);
	assert_true(dbagg__find(&f->db, sp[0].ref) != NULL);
	assert_string_equal(dbagg__find(&f->db, sp[0].ref)->text, "select ?");
	assert_int_equal(sp[1].kind, EXEMPLAR_CACHE);
	assert_int_equal(sp[1].ref, 77);
	assert_int_equal(sp[1].flags, EXEMPLAR_MISS);
	assert_int_equal(sp[1].start, 4 * MS);
	assert_int_equal(sp[2].kind, EXEMPLAR_HTTP);
	assert_int_equal(sp[2].status, 503);
	assert_int_equal(sp[2].flags, EXEMPLAR_ERROR);
	assert_int_equal(sp[2].dur, 2 * MS);
	assert_string_equal(exemplars__label_str(f->t.ex, sp[2].ref >> 32), "127.0.0.1:9000");
	assert_string_equal(exemplars__label_str(f->t.ex, (uint32_t)sp[2].ref), "/pay/{id}");
	assert_string_equal(exemplars__label_str(f->t.ex, sp[2].ref2), "GET");
	assert_int_equal(sp[3].kind, EXEMPLAR_QUERY);
	assert_int_equal(sp[3].conf, DBREQ_SHARED);
	assert_int_equal(sp[3].start, 10 * MS);
	/* r2: 70 queries of its own (the only request in flight now): 64 kept, 7 cut. */
	for (unsigned i = 0; i < 70; i++)
		query_tid(f, T_EVL, "select 3", 20 * MS + i * MS, MS / 2);
	assert_int_equal(r2.sp->n, EXEMPLAR_SPANS);
	assert_int_equal(r2.sp->cut, 7);
	assert_int_equal(f->t.ex->st.spans_cut, 7);
	/* Dropped with its connection: its spans go with it, nothing offered. */
	dbtrack__req_drop(&f->t, &r2);
	assert_null(r2.sp);
	assert_int_equal(f->t.ex->st.offered, 1);
}

/* A request waiting for late queries: the waiting copy owns its spans, late ones join them. */
static void test_exemplar_spans_late(void **state)
{
	struct fixture *f = *state;
	struct dbreq r = { 0 };
	const struct exemplar *e;

	assert_int_equal(dbtrack__exemplars(&f->t), 0);
	assert_int_equal(dbtrack__set_defer(&f->t, 50 * MS), 0);
	dbtrack__req_start(&f->t, &r, TGID, T_WRK, 1 * MS);
	query(f, "select 1", 2 * MS, 1 * MS);
	dbtrack__req_answer(&r, 1 * MS, 10 * MS, 200);
	dbtrack__req_end(&f->t, &r, f->ep, 9 * MS, 10 * MS);
	assert_null(r.sp);
	assert_null(f->ep->ex);
	query(f, "select 2", 4 * MS, 1 * MS); /* delivered late, started inside the request */
	/* The connection's next request starts: the waiting one is not disturbed. */
	dbtrack__req_start(&f->t, &r, TGID, T_WRK, 20 * MS);
	dbtrack__tick(&f->t, 0);
	e = only_exemplar(f);
	assert_int_equal(e->sp->n, 2);
	assert_int_equal(e->sp->s[1].start, 4 * MS);
	assert_int_equal(e->lat, 9 * MS);
	dbtrack__req_drop(&f->t, &r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exact_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_run_closed_after_requests, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_shared_run_credited_from_its_start, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_run_outside_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_outside_requests_threshold, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_late_query_waits_for_defer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_queries_not_flagged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_calls_per_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nplus1_thresholds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nplus1_option, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nplus1_evidence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thread_attribution, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redundant, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pgconn_stands_for_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cover_max, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_top, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defer_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_run_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_connections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_undecided_shared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_closing_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_finish_weak_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defer_lengthened_keeps_waiting_requests, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_redundant_reads_kept_per_request, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_runs_kept_per_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_closing_full_other_query_waits, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_other_process_run_not_credited, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_run_ends_with_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_worker_last_query, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nplus1_evidence_long_source, setup, teardown),
		cmocka_unit_test_setup_teardown(test_finish_support_no_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exemplar_spans, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exemplar_spans_late, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
