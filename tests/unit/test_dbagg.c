// SPDX-License-Identifier: GPL-2.0-only
/* The fingerprint table: executions per path, errors, the flags of the whole run, pooling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "record/dbagg.h"
#include "proto/sqlnorm.h"

#define MS 1000000ull

static struct dbagg d;

static int setup(void **state)
{
	struct dbagg_opts o = { 0 };

	return dbagg__init(&d, &o);
}

static int teardown(void **state)
{
	dbagg__free(&d);
	return 0;
}

static struct db_exec exec_of(const char *sql, int path, uint64_t start, uint64_t lat)
{
	struct db_exec x = {
		.path = (uint8_t)path,
		.tgid = 100,
		.tid = 100,
		.conn_id = 1,
		.ts_start = start,
		.ts_end = start + lat,
		.text = sql,
		.text_len = sql ? strlen(sql) : 0,
		.rows = 1,
	};

	return x;
}

static struct dbagg_fp *add(const char *sql, int path, uint64_t start, uint64_t lat, uint64_t *raw)
{
	struct db_exec x = exec_of(sql, path, start, lat);
	uint64_t r;

	return dbagg__add(&d, &x, "app:8000", "127.0.0.1:5432", raw ? raw : &r);
}

static const struct dbagg_flag *flag_of(int kind, uint64_t qid)
{
	for (unsigned i = 0; i < d.nflags; i++)
		if (d.flags[i].kind == kind && d.flags[i].query_id == qid)
			return &d.flags[i];
	return NULL;
}

/* The documented defaults (docs/db.md) when the options are left at 0. */
static void test_defaults(void **state)
{
	struct dbagg_opts o = { .max_fps = 33, .nplus1_min = 7, .offset_min = 10 };

	assert_int_equal(d.o.slow_ns, 1000 * MS);
	assert_int_equal(d.o.nplus1_min, 5);
	assert_int_equal(d.o.nplus1_gap_ns, 10 * MS);
	assert_int_equal(d.o.nplus1_total_ns, 50 * MS);
	assert_int_equal(d.o.nplus1_share_pct, 10);
	assert_int_equal(d.o.offset_min, 1000);
	assert_int_equal(d.o.long_tx_ns, 1000 * MS);
	assert_int_equal(d.o.max_fps, DBAGG_FP_DEFAULT);
	/* open addressing: a power of two, at least twice the fingerprints kept */
	assert_int_equal(d.index.cap, 4096);
	dbagg__free(&d);
	assert_int_equal(dbagg__init(&d, &o), 0);
	assert_int_equal(d.index.cap, 128);
	assert_int_equal(d.o.nplus1_min, 7);
	assert_int_equal(d.o.offset_min, 10);
	assert_int_equal(d.o.slow_ns, 1000 * MS);
	o.max_fps = 32;
	dbagg__free(&d);
	assert_int_equal(dbagg__init(&d, &o), 0);
	assert_int_equal(d.index.cap, 64);

	assert_string_equal(dbagg__flag_name(0), "?");
	assert_string_equal(dbagg__flag_name(DBAGG_FLAG_N_PLUS_ONE), "n_plus_one");
	assert_string_equal(dbagg__flag_name(DBAGG_FLAG_LONG_TX), "long_transaction");
	assert_string_equal(dbagg__flag_name(DBAGG_FLAG_SLOW), "slow_query");
	assert_string_equal(dbagg__flag_name(DBAGG_FLAG_SLOW + 1), "?");
	assert_string_equal(dbagg__path_name(DB_PATH_WIRE), "wire");
	assert_string_equal(dbagg__path_name(DB_PATH_USDT), "usdt");
	assert_string_equal(dbagg__path_name(DB_PATH_NR), "?");
	assert_string_equal(dbagg__path_name(-1), "?");
}

static void test_path_names(void **state)
{
	char buf[32];

	assert_string_equal(dbagg__path_names(0, buf, sizeof(buf)), "");
	assert_string_equal(dbagg__path_names(1u << DB_PATH_LIBPQ, buf, sizeof(buf)), "libpq");
	assert_string_equal(dbagg__path_names(7, buf, sizeof(buf)), "wire,libpq,usdt");
	assert_string_equal(dbagg__path_names(5, buf, sizeof(buf)), "wire,usdt");
	assert_string_equal(dbagg__path_names(7, buf, 8), "wire,li");
	/* bits past the last path name no path */
	assert_string_equal(dbagg__path_names(1u << DB_PATH_NR, buf, sizeof(buf)), "");
	assert_string_equal(dbagg__path_names(0xff, buf, sizeof(buf)), "wire,libpq,usdt");
}

/* One fingerprint for the same query with other literals; the raw hash tells them apart. */
static void test_add(void **state)
{
	uint64_t r1, r2, r3;
	struct dbagg_fp *f =
		add("SELECT name FROM items WHERE id = 1", DB_PATH_WIRE, 10 * MS, 2 * MS, &r1);
	struct db_exec x =
		exec_of("select name from items where id = 3", DB_PATH_WIRE, 20 * MS, 1 * MS);

	assert_non_null(f);
	assert_string_equal(f->text, "select name from items where id = ?");
	assert_int_equal(f->verb, SQL_VERB_SELECT);
	assert_int_equal(f->count[DB_PATH_WIRE], 1);
	assert_int_equal(f->first_ts, 10 * MS);
	assert_int_equal(f->last_ts, 12 * MS);
	assert_string_equal(f->client, "app:8000");
	assert_string_equal(f->server, "127.0.0.1:5432");
	assert_int_equal(f->max_offset, -1);
	assert_false(f->truncated);
	assert_false(f->unknown_stmt);
	assert_null(f->raw);
	assert_int_equal(f->win.count, 1);
	assert_int_equal(f->win.min, 2 * MS);
	assert_int_equal(f->win_count, 1);
	assert_int_equal(f->lat[DB_PATH_WIRE]->count, 1);
	assert_null(f->lat[DB_PATH_LIBPQ]);
	assert_ptr_equal(
		add("select name from items where id = 2", DB_PATH_WIRE, 13 * MS, 1 * MS, &r2), f);
	assert_ptr_equal(
		add("select name from items where id = 1", DB_PATH_WIRE, 15 * MS, 3 * MS, &r3), f);
	assert_true(r1 != 0 && r1 != r2);
	assert_true(r1 == r3);
	x.rows = -1; /* not known: not added */
	assert_ptr_equal(dbagg__add(&d, &x, NULL, NULL, &r2), f);
	x.rows = 0; /* known: none */
	x.ts_start = 22 * MS;
	x.ts_end = 22 * MS;
	assert_ptr_equal(dbagg__add(&d, &x, NULL, NULL, &r2), f);
	assert_int_equal(d.nfps, 1);
	assert_int_equal(d.execs[DB_PATH_WIRE], 5);
	assert_int_equal(d.total_ns, 7 * MS);
	assert_int_equal(dbagg__fp_total(f), 7 * MS);
	assert_int_equal(f->rows, 3);
	assert_int_equal(f->rows_known, 4);
	assert_int_equal(f->win.min, 0);
	assert_int_equal(f->win.max, 3 * MS);
	assert_int_equal(f->last_ts, 22 * MS);
	assert_ptr_equal(dbagg__find(&d, f->query_id), f);
	assert_null(dbagg__find(&d, f->query_id + 1));
	assert_null(dbagg__find(&d, 0));
	assert_int_equal(dbagg__main_path(f), DB_PATH_WIRE);
}

/*
 * A higher-ranked path that starts to see a fingerprint takes its errors, SQLSTATEs, rows,
 * slow executions and times to the first byte over from scratch: never more errors than the
 * main path's executions.
 */
static void test_main_path_change(void **state)
{
	struct db_exec x = exec_of("select 1", DB_PATH_LIBPQ, 10 * MS, 2000 * MS);
	struct dbagg_fp *f;
	uint64_t r;

	x.flags = DB_EXEC_ERROR;
	memcpy(x.sqlstate, "57014", 6);
	x.rows = 7;
	x.ts_first = 1510 * MS; /* 1.5 s to the first byte */
	f = dbagg__add(&d, &x, "app:8000", "127.0.0.1:5432", &r);
	assert_non_null(f);
	assert_int_equal(f->errors, 1);
	assert_int_equal(f->slow, 1);
	assert_int_equal(f->rows, 7);
	assert_int_equal(f->rows_known, 1);
	assert_string_equal(f->states[0].code, "57014");
	assert_int_equal(f->first_byte->count, 1);
	x = exec_of("select 1", DB_PATH_WIRE, 20 * MS, 1 * MS);
	x.rows = -1;
	x.ts_first = 20 * MS + 300000; /* 0.3 ms */
	assert_ptr_equal(dbagg__add(&d, &x, "app:8000", "127.0.0.1:5432", &r), f);
	assert_int_equal(f->first_byte->count, 1);
	assert_int_equal(f->first_byte->max, 300000);
	assert_int_equal(dbagg__main_path(f), DB_PATH_WIRE);
	assert_int_equal(f->count[DB_PATH_WIRE], 1);
	assert_int_equal(f->errors, 0);
	assert_int_equal(f->win_errors, 0);
	assert_int_equal(f->slow, 0);
	assert_int_equal(f->slow_worst_ns, 0);
	assert_int_equal(f->rows, 0);
	assert_int_equal(f->rows_known, 0);
	assert_int_equal(f->states[0].code[0], 0);
	assert_int_equal(f->states[0].count, 0);
	assert_int_equal(d.total_ns, 1 * MS);
}

/*
 * A fingerprint no path has counted an execution of (its histogram could not be allocated)
 * has no DB time.
 */
static void test_fp_total_no_execution(void **state)
{
	struct dbagg_fp f = { 0 };

	assert_int_equal(dbagg__main_path(&f), DB_PATH_WIRE);
	assert_int_equal(dbagg__fp_total(&f), 0);
}

/* dbagg__free leaves an empty table: freeing it again (an error path's cleanup) is harmless. */
static void test_free_empties(void **state)
{
	add("select a from t", DB_PATH_WIRE, 10 * MS, 1 * MS, NULL);
	add("select b from t", DB_PATH_LIBPQ, 10 * MS, 1 * MS, NULL);
	dbagg__flag(&d, DBAGG_FLAG_SLOW, 1, "", 0, "x");
	dbagg__free(&d);
	assert_int_equal(d.nfps, 0);
	assert_null(d.fps);
	assert_null(d.index.slots);
	assert_null(d.cache);
	assert_int_equal(d.nflags, 0);
	assert_int_equal(d.total_ns, 0);
	dbagg__free(&d);
	assert_int_equal(d.nfps, 0);
}

/* Paths: the first of wire, libpq, usdt that saw a query gives its main count and time. */
static void test_paths(void **state)
{
	struct dbagg_fp *f = add("select 1", DB_PATH_LIBPQ, 10 * MS, 2 * MS, NULL);

	assert_int_equal(dbagg__main_path(f), DB_PATH_LIBPQ);
	assert_int_equal(d.total_ns, 2 * MS);
	assert_int_equal(f->win.count, 1);
	assert_ptr_equal(add("select 1", DB_PATH_USDT, 10 * MS, 1 * MS, NULL), f);
	assert_int_equal(dbagg__main_path(f), DB_PATH_LIBPQ);
	assert_int_equal(d.total_ns, 2 * MS);
	assert_int_equal(f->win.count, 1);
	assert_int_equal(f->count[DB_PATH_USDT], 1);
	assert_int_equal(f->lat[DB_PATH_USDT]->count, 1);
	/* wire ranks first: DB time is its alone from now on, libpq's 2 ms leave the total */
	assert_ptr_equal(add("select 1", DB_PATH_WIRE, 20 * MS, 3 * MS, NULL), f);
	assert_int_equal(dbagg__main_path(f), DB_PATH_WIRE);
	assert_int_equal(d.total_ns, 3 * MS);
	assert_int_equal(f->win.count, 2);
	assert_ptr_equal(add("select 1", DB_PATH_LIBPQ, 20 * MS, 4 * MS, NULL), f);
	assert_int_equal(d.total_ns, 3 * MS);
	assert_int_equal(f->win.count, 2);
	assert_int_equal(f->count[DB_PATH_LIBPQ], 2);
	assert_int_equal(dbagg__fp_total(f), 3 * MS);
	assert_int_equal(d.execs[DB_PATH_LIBPQ], 2);
	assert_int_equal(d.execs[DB_PATH_WIRE], 1);
	assert_int_equal(d.execs[DB_PATH_USDT], 1);
}

/* A statement prepared before recording started: named, never guessed. */
static void test_unknown_statement(void **state)
{
	char *name = strdup("s1"), *empty = strdup("");
	struct db_exec x = exec_of(NULL, DB_PATH_WIRE, 10 * MS, 1 * MS);
	struct dbagg_fp *f, *g;
	uint64_t raw = 1;

	x.stmt_name = name;
	f = dbagg__add(&d, &x, "app:8000", NULL, &raw);
	assert_non_null(f);
	assert_string_equal(f->text, "<prepared statement s1>");
	assert_true(f->unknown_stmt);
	assert_int_equal(raw, 0);
	assert_string_equal(f->server, "");
	assert_ptr_equal(dbagg__add(&d, &x, "app:8000", NULL, &raw), f);
	assert_ptr_equal(dbagg__find(&d, f->query_id), f);
	x.stmt_name = empty;
	g = dbagg__add(&d, &x, "app:8000", NULL, &raw);
	assert_string_equal(g->text, "<prepared statement (unnamed)>");
	x.stmt_name = NULL;
	assert_ptr_equal(dbagg__add(&d, &x, "app:8000", NULL, &raw), g);
	x.text_len = 5; /* a length without text, or text of no length: no text either */
	assert_ptr_equal(dbagg__add(&d, &x, "app:8000", NULL, &raw), g);
	x.text = empty;
	x.text_len = 0;
	assert_ptr_equal(dbagg__add(&d, &x, "app:8000", NULL, &raw), g);
	assert_int_equal(d.nfps, 2);
	assert_int_equal(f->count[DB_PATH_WIRE], 2);
	free(name);
	free(empty);
}

/* Errors by SQLSTATE, the first 8 distinct kept; an unknown one is "?????". */
static void test_errors(void **state)
{
	static const char *const codes[] = { "23505", "23505", "",	"40001", "40P01",
					     "42601", "42P01", "57014", "22012", "XX000" };
	struct dbagg_fp *f = NULL;

	for (unsigned i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		struct db_exec x = exec_of("select 1/0", DB_PATH_WIRE, (10 + i) * MS, 1 * MS);
		uint64_t raw;

		x.flags = DB_EXEC_ERROR;
		strcpy(x.sqlstate, codes[i]);
		f = dbagg__add(&d, &x, "app:8000", NULL, &raw);
	}
	add("select 1/0", DB_PATH_WIRE, 30 * MS, 1 * MS, NULL);
	assert_int_equal(f->errors, 10);
	assert_int_equal(f->win_errors, 10);
	assert_string_equal(f->states[0].code, "23505");
	assert_int_equal(f->states[0].count, 2);
	assert_string_equal(f->states[1].code, "?????");
	assert_int_equal(f->states[1].count, 1);
	assert_string_equal(f->states[7].code, "22012");
	assert_int_equal(f->states[7].count, 1);
	for (unsigned i = 0; i < DBAGG_SQLSTATES; i++)
		assert_string_not_equal(f->states[i].code, "XX000");
}

/*
 * The libpq probe clears only the first byte of the SQLSTATE it could not read: what follows
 * may be left from an earlier error. Unknown is unknown, "?????", whatever those bytes are.
 */
static void test_error_unknown_sqlstate(void **state)
{
	struct db_exec x = exec_of("select 1/0", DB_PATH_LIBPQ, 10 * MS, 1 * MS);
	struct dbagg_fp *f;
	uint64_t raw;

	x.flags = DB_EXEC_ERROR;
	memcpy(x.sqlstate, "23505", 6); /* an earlier error's */
	x.sqlstate[0] = '\0';
	f = dbagg__add(&d, &x, "app:8000", NULL, &raw);
	assert_int_equal(f->errors, 1);
	assert_string_equal(f->states[0].code, "?????");
	assert_int_equal(f->states[0].count, 1);
	assert_int_equal(f->states[1].code[0], 0);
}

/* Slow queries: at the threshold (1 s) and over it, the worst kept. */
static void test_slow(void **state)
{
	struct dbagg_fp *f = add("select pg_sleep(1)", DB_PATH_WIRE, 10 * MS, 1000 * MS - 1, NULL);
	const struct dbagg_flag *fl;

	assert_int_equal(f->slow, 0);
	add("select pg_sleep(1)", DB_PATH_WIRE, 2000 * MS, 1500 * MS, NULL);
	add("select pg_sleep(1)", DB_PATH_WIRE, 4000 * MS, 1000 * MS, NULL);
	add("select pg_sleep(1)", DB_PATH_WIRE, 6000 * MS, 1200 * MS, NULL);
	assert_int_equal(f->slow, 3);
	assert_int_equal(f->slow_worst_ns, 1500 * MS);
	assert_int_equal(f->slow_worst_ts, 2000 * MS);
	dbagg__finish(&d, 10.0);
	fl = flag_of(DBAGG_FLAG_SLOW, f->query_id);
	assert_non_null(fl);
	assert_string_equal(fl->evidence, "3 of 4 executions over 1000 ms, worst 1500.0 ms");
	assert_int_equal(fl->ts, 2000 * MS);
	assert_int_equal(d.nflags, 1);
}

/*
 * The flags of the whole run: SELECT * (or t.*), an OFFSET literal of 1000 or more; never on
 * a truncated text.
 */
static void test_finish_flags(void **state)
{
	struct dbagg_fp *star = add("select * from orders", DB_PATH_WIRE, 10 * MS, 1 * MS, NULL);
	struct dbagg_fp *tstar =
		add("select o.* from orders o", DB_PATH_WIRE, 11 * MS, 1 * MS, NULL);
	struct dbagg_fp *cols = add("select id from orders", DB_PATH_WIRE, 12 * MS, 1 * MS, NULL);
	struct dbagg_fp *off = add("select id from t order by id offset 1000", DB_PATH_WIRE,
				   13 * MS, 1 * MS, NULL);
	struct dbagg_fp *off2 =
		add("select id from u order by id offset 999", DB_PATH_WIRE, 14 * MS, 1 * MS, NULL);
	struct db_exec x = exec_of("select * from big", DB_PATH_WIRE, 15 * MS, 1 * MS);
	struct dbagg_fp *cut;
	const struct dbagg_flag *fl;
	uint64_t raw;

	add("select * from orders", DB_PATH_WIRE, 20 * MS, 1 * MS, NULL);
	add("select id from t order by id offset 5000", DB_PATH_WIRE, 21 * MS, 1 * MS, NULL);
	add("select id from t order by id offset 20", DB_PATH_WIRE, 22 * MS, 1 * MS, NULL);
	x.flags = DB_EXEC_TRUNCATED;
	cut = dbagg__add(&d, &x, "app:8000", NULL, &raw);
	assert_true(cut->truncated);
	assert_int_equal(off->max_offset, 5000);
	assert_int_equal(off2->max_offset, 999);
	dbagg__finish(&d, 10.0);
	fl = flag_of(DBAGG_FLAG_SELECT_STAR, star->query_id);
	assert_non_null(fl);
	assert_string_equal(fl->evidence, "SELECT * ran 2 times: every column is read and sent");
	assert_string_equal(fl->endpoint, "");
	assert_int_equal(fl->ts, 10 * MS);
	assert_non_null(flag_of(DBAGG_FLAG_SELECT_STAR, tstar->query_id));
	assert_null(flag_of(DBAGG_FLAG_SELECT_STAR, cols->query_id));
	assert_null(flag_of(DBAGG_FLAG_SELECT_STAR, off->query_id));
	assert_null(flag_of(DBAGG_FLAG_SELECT_STAR, cut->query_id));
	fl = flag_of(DBAGG_FLAG_LARGE_OFFSET, off->query_id);
	assert_non_null(fl);
	assert_string_equal(fl->evidence, "OFFSET up to 5000: the server reads and discards those "
					  "rows; use keyset pagination");
	assert_null(flag_of(DBAGG_FLAG_LARGE_OFFSET, off2->query_id));
	assert_int_equal(d.nflags, 3);
	/* an OFFSET of exactly 1000 */
	add("select id from u order by id offset 1000", DB_PATH_WIRE, 30 * MS, 1 * MS, NULL);
	assert_int_equal(off2->max_offset, 1000);
	dbagg__finish(&d, 10.0);
	assert_non_null(flag_of(DBAGG_FLAG_LARGE_OFFSET, off2->query_id));
	assert_int_equal(flag_of(DBAGG_FLAG_SELECT_STAR, star->query_id)->occurrences, 2);
}

/* Time to the first answer byte, when it falls within the query. */
static void test_first_byte(void **state)
{
	struct db_exec x = exec_of("select 1", DB_PATH_WIRE, 10 * MS, 4 * MS);
	struct dbagg_fp *f;
	uint64_t raw;

	x.ts_first = 10 * MS; /* not after the start */
	f = dbagg__add(&d, &x, "app:8000", NULL, &raw);
	assert_null(f->first_byte);
	x.ts_first = 15 * MS; /* after the end */
	dbagg__add(&d, &x, "app:8000", NULL, &raw);
	assert_null(f->first_byte);
	x.ts_first = 14 * MS;
	dbagg__add(&d, &x, "app:8000", NULL, &raw);
	x.ts_first = 11 * MS;
	dbagg__add(&d, &x, "app:8000", NULL, &raw);
	assert_non_null(f->first_byte);
	assert_int_equal(f->first_byte->count, 2);
	assert_int_equal(f->first_byte->min, 1 * MS);
	assert_int_equal(f->first_byte->max, 4 * MS);
}

/* The same kind, fingerprint and endpoint again is an occurrence; at most 256 flags. */
static void test_flags(void **state)
{
	struct dbagg_flag *a = dbagg__flag(&d, DBAGG_FLAG_REDUNDANT, 7, "GET /a", 5, "first %d", 1);
	struct dbagg_flag *b = dbagg__flag(&d, DBAGG_FLAG_REDUNDANT, 7, "GET /a", 6, "second");

	assert_ptr_equal(a, b);
	assert_int_equal(a->occurrences, 2);
	assert_string_equal(a->evidence, "first 1");
	assert_int_equal(a->ts, 5);
	assert_ptr_not_equal(dbagg__flag(&d, DBAGG_FLAG_REDUNDANT, 7, "GET /b", 6, "x"), a);
	assert_ptr_not_equal(dbagg__flag(&d, DBAGG_FLAG_SLOW, 7, "GET /a", 6, "x"), a);
	assert_ptr_not_equal(dbagg__flag(&d, DBAGG_FLAG_REDUNDANT, 8, "GET /a", 6, "x"), a);
	b = dbagg__flag(&d, DBAGG_FLAG_LONG_TX, 0, NULL, 6, "x");
	assert_string_equal(b->endpoint, "");
	assert_ptr_equal(dbagg__flag(&d, DBAGG_FLAG_LONG_TX, 0, "", 7, "y"), b);
	assert_int_equal(d.nflags, 5);
	for (unsigned i = d.nflags; i < DBAGG_FLAGS_MAX; i++)
		assert_non_null(dbagg__flag(&d, DBAGG_FLAG_SLOW, 100 + i, "", 0, "x"));
	assert_null(dbagg__flag(&d, DBAGG_FLAG_SLOW, 1, "", 0, "x"));
	assert_int_equal(d.flags_dropped, 1);
	assert_ptr_equal(dbagg__flag(&d, DBAGG_FLAG_REDUNDANT, 7, "GET /a", 6, "x"), a);
	assert_int_equal(a->occurrences, 3);
	/* dbtrack__finish removes flags by moving the rest down: a slot used again starts clean. */
	a->shared = 4;
	a->support = 0.5;
	a->weak = true;
	d.nflags = 0;
	assert_ptr_equal(dbagg__flag(&d, DBAGG_FLAG_SLOW, 9, "", 1, "z"), a);
	assert_int_equal(a->occurrences, 1);
	assert_int_equal(a->shared, 0);
	assert_true(a->support == 0);
	assert_false(a->weak);
}

static void conns(const char *client, unsigned opened, unsigned closed, uint64_t life_ns,
		  uint64_t queries)
{
	for (unsigned i = 0; i < opened; i++)
		dbagg__conn_open(&d, client, "db:5432", (100 + i) * MS);
	for (unsigned i = 0; i < closed; i++)
		dbagg__conn_close(&d, client, "db:5432", life_ns, i ? 0 : queries, 500 * MS);
}

/*
 * No pooling: a client that opened at least 10 connections, with at most 5 queries and at
 * most 1 s per connection on average. Each rule at its boundary and one step past it.
 */
static void test_no_pooling(void **state)
{
	const struct dbagg_flag *fl;

	static const struct {
		unsigned opened, closed;
		uint64_t life_ns, queries;
		unsigned flags;
	} cases[] = {
		{ 10, 10, 1000 * MS, 50, 1 },	  /* flagged: every bound met exactly */
		{ 9, 9, 1 * MS, 9, 0 },		  /* 9 connections */
		{ 11, 10, 2 * MS, 10, 1 },	  /* 11 */
		{ 10, 10, 1 * MS, 51, 0 },	  /* 5.1 queries per connection */
		{ 10, 10, 1000 * MS + 1, 10, 0 }, /* over 1 s per connection */
		{ 10, 0, 0, 0, 0 },		  /* none closed yet */
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dbagg__free(&d);
		setup(state);
		conns("x", cases[i].opened, cases[i].closed, cases[i].life_ns, cases[i].queries);
		dbagg__finish(&d, 5.0);
		if (d.nflags != cases[i].flags)
			fail_msg("case %u: %u flags", i, d.nflags);
	}
	dbagg__free(&d);
	setup(state);
	conns("a", 10, 10, 1000 * MS, 50);
	conns("f", 11, 10, 2 * MS, 10);
	dbagg__finish(&d, 5.0);
	/* one flag: a second client is an occurrence of it */
	assert_int_equal(d.nflags, 1);
	fl = &d.flags[0];
	assert_int_equal(fl->kind, DBAGG_FLAG_NO_POOLING);
	assert_int_equal(fl->query_id, 0);
	assert_int_equal(fl->ts, 100 * MS);
	assert_int_equal(fl->occurrences, 2);
	assert_string_equal(fl->evidence, "a opened 10 connections to db:5432 (2.0/s), 5.0 "
					  "queries and 1000.0 ms per connection");
	assert_int_equal(d.clients[0].opened, 10);
	assert_int_equal(d.clients[0].closed, 10);
	assert_int_equal(d.clients[0].life_ns, 10000 * MS);
	assert_int_equal(d.clients[0].queries, 50);
	assert_int_equal(d.clients[0].first_ts, 100 * MS);
	assert_int_equal(d.clients[0].last_ts, 500 * MS);
	/* a run of no length: no rate */
	dbagg__free(&d);
	setup(state);
	conns("a", 10, 10, 1 * MS, 10);
	dbagg__finish(&d, 0);
	assert_string_equal(d.flags[0].evidence, "a opened 10 connections to db:5432 (0.0/s), 1.0 "
						 "queries and 1.0 ms per connection");
	/* at most 64 (client, server) pairs are followed */
	for (unsigned i = 0; i < DBAGG_CLIENTS_MAX; i++) {
		char name[16];

		snprintf(name, sizeof(name), "c%u", i);
		dbagg__conn_open(&d, name, "db:5432", 0);
	}
	/* "a" and c0 .. c62: c63 is not followed */
	assert_int_equal(d.nclients, DBAGG_CLIENTS_MAX);
	assert_string_equal(d.clients[DBAGG_CLIENTS_MAX - 1].client, "c62");
	assert_int_equal(d.clients[DBAGG_CLIENTS_MAX - 1].opened, 1);
	dbagg__conn_close(&d, "c63", "db:5432", 1, 1, 1);
	assert_int_equal(d.nclients, DBAGG_CLIENTS_MAX);
}

/* A full client table is checked to its last entry, and not past it. */
static void test_no_pooling_full(void **state)
{
	struct dbagg_opts o = { 0 };
	struct dbagg *h = malloc(sizeof(*h)); /* on the heap: a read past its end shows */

	assert_non_null(h);
	assert_int_equal(dbagg__init(h, &o), 0);
	for (unsigned i = 0; i < DBAGG_CLIENTS_MAX; i++) {
		char name[16];

		snprintf(name, sizeof(name), "c%u", i);
		for (unsigned k = 0; k < 10; k++)
			dbagg__conn_open(h, name, "db:5432", 0);
		dbagg__conn_close(h, name, "db:5432", i < DBAGG_CLIENTS_MAX - 1 ? 2000 * MS : 1, 1,
				  1);
	}
	dbagg__finish(h, 1.0);
	assert_int_equal(h->nflags, 1);
	assert_string_equal(h->flags[0].evidence, "c63 opened 10 connections to db:5432 (10.0/s), "
						  "1.0 queries and 0.0 ms per connection");
	dbagg__free(h);
	free(h);
}

/* An interval ends: rates, the window histograms and error counts start again. */
static void test_roll(void **state)
{
	struct dbagg_fp *f = add("select a from t", DB_PATH_WIRE, 10 * MS, 2 * MS, NULL);
	struct dbagg_fp *g = add("select b from t", DB_PATH_WIRE, 10 * MS, 2 * MS, NULL);
	struct db_exec x = exec_of("select a from t", DB_PATH_WIRE, 20 * MS, 4 * MS);
	uint64_t raw;

	x.flags = DB_EXEC_ERROR;
	dbagg__add(&d, &x, "app:8000", NULL, &raw);
	dbagg__roll(&d, 1.0, 0.5);
	assert_true(f->rate == 4.0);
	assert_true(g->rate == 2.0);
	assert_int_equal(f->win_count, 0);
	assert_int_equal(f->win_errors, 0);
	assert_int_equal(f->win.count, 0);
	assert_int_equal(f->win.min, UINT64_MAX);
	assert_int_equal(f->tl.n, 1);
	assert_int_equal(g->tl.n, 1);
	assert_int_equal(f->tl.p[0].count, 2);
	assert_int_equal(f->tl.p[0].errors, 1);
	assert_true(f->tl.p[0].t_s == 1.0);
	dbagg__roll(&d, 2.0, 0);
	assert_true(f->rate == 0.0);
	assert_int_equal(f->tl.n, 2);
	assert_int_equal(f->tl.p[1].errors, 0);
	assert_int_equal(f->tl.p[1].count, 0);
}

/* Hotspots: by total time, p95 or count, descending; ties in text order. */
static void test_sorted(void **state)
{
	struct dbagg_fp **v;

	add("select 2", DB_PATH_WIRE, 10 * MS, 1 * MS, NULL);
	add("select 2", DB_PATH_WIRE, 20 * MS, 1 * MS, NULL);
	add("select 2", DB_PATH_WIRE, 30 * MS, 1 * MS, NULL);
	add("select 3", DB_PATH_WIRE, 10 * MS, 5 * MS, NULL);
	add("select 1", DB_PATH_WIRE, 10 * MS, 3 * MS, NULL);
	add("select 4", DB_PATH_WIRE, 10 * MS, 3 * MS, NULL);
	v = dbagg__sorted(&d, DBAGG_BY_TOTAL);
	assert_string_equal(v[0]->text, "select ?");
	free(v);
	dbagg__free(&d);
	setup(state);
	add("select a from t", DB_PATH_WIRE, 10 * MS, 1 * MS, NULL);
	add("select a from t", DB_PATH_WIRE, 20 * MS, 1 * MS, NULL);
	add("select a from t", DB_PATH_WIRE, 30 * MS, 1 * MS, NULL);
	add("select b from t", DB_PATH_WIRE, 10 * MS, 5 * MS, NULL);
	add("select d from t", DB_PATH_WIRE, 10 * MS, 3 * MS, NULL);
	add("select c from t", DB_PATH_WIRE, 10 * MS, 3 * MS, NULL);
	v = dbagg__sorted(&d, DBAGG_BY_TOTAL);
	assert_string_equal(v[0]->text, "select b from t");
	assert_string_equal(v[1]->text, "select a from t");
	assert_string_equal(v[2]->text, "select c from t");
	assert_string_equal(v[3]->text, "select d from t");
	free(v);
	v = dbagg__sorted(&d, DBAGG_BY_COUNT);
	assert_string_equal(v[0]->text, "select a from t");
	assert_string_equal(v[1]->text, "select b from t");
	assert_string_equal(v[2]->text, "select c from t");
	assert_string_equal(v[3]->text, "select d from t");
	free(v);
	v = dbagg__sorted(&d, DBAGG_BY_P95);
	assert_string_equal(v[0]->text, "select b from t");
	assert_string_equal(v[1]->text, "select c from t");
	assert_string_equal(v[2]->text, "select d from t");
	assert_string_equal(v[3]->text, "select a from t");
	free(v);
}

/* A full table: executions of new fingerprints are counted as dropped. */
static void test_max_fps(void **state)
{
	struct dbagg_opts o = { .max_fps = 2 };
	uint64_t raw;
	struct db_exec x = exec_of("select c from t", DB_PATH_WIRE, 10 * MS, 1 * MS);

	dbagg__free(&d);
	assert_int_equal(dbagg__init(&d, &o), 0);
	assert_non_null(add("select a from t", DB_PATH_WIRE, 10 * MS, 1 * MS, NULL));
	assert_non_null(add("select b from t", DB_PATH_WIRE, 10 * MS, 1 * MS, NULL));
	assert_null(dbagg__add(&d, &x, "app:8000", NULL, &raw));
	assert_int_equal(d.fps_dropped, 1);
	assert_non_null(add("select a from t", DB_PATH_WIRE, 10 * MS, 1 * MS, NULL));
	assert_int_equal(d.nfps, 2);
	/* more than 64 fingerprints: the table grows */
	dbagg__free(&d);
	setup(state);
	for (unsigned i = 0; i < 100; i++) {
		char sql[32];

		snprintf(sql, sizeof(sql), "select c%u from t", i);
		assert_non_null(add(sql, DB_PATH_WIRE, 10 * MS, 1 * MS, NULL));
	}
	assert_int_equal(d.nfps, 100);
	assert_string_equal(d.fps[99]->text, "select c99 from t");
	assert_ptr_equal(dbagg__find(&d, d.fps[42]->query_id), d.fps[42]);
}

/* raw_sql keeps the first raw text of each fingerprint. */
static void test_raw_sql(void **state)
{
	struct dbagg_opts o = { .raw_sql = true };
	struct dbagg_fp *f;

	dbagg__free(&d);
	assert_int_equal(dbagg__init(&d, &o), 0);
	f = add("select a from t where id = 42", DB_PATH_WIRE, 10 * MS, 1 * MS, NULL);
	add("select a from t where id = 43", DB_PATH_WIRE, 10 * MS, 1 * MS, NULL);
	assert_string_equal(f->raw, "select a from t where id = 42");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fp_total_no_execution, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_empties, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_main_path_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_statement, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_unknown_sqlstate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_finish_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_pooling, setup, teardown),
		cmocka_unit_test(test_no_pooling_full),
		cmocka_unit_test_setup_teardown(test_roll, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sorted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_fps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raw_sql, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
