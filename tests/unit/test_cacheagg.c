// SPDX-License-Identifier: GPL-2.0-only
/*
 * The cache table: rows per client x server x command x key pattern, hits and misses, errors by
 * word, connections and pool size, the interval points, the flags and their thresholds, and
 * every drop counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "record/cacheagg.h"

#define MS  1000000ull
#define APP "app:8000"
#define RDS "127.0.0.1:6379"

static struct cacheagg *a;

static int setup(void **state)
{
	a = cacheagg__new(NULL);
	return a ? 0 : -1;
}

static int teardown(void **state)
{
	cacheagg__free(a);
	a = NULL;
	return 0;
}

/* A fresh table with options o. */
static void reopen(const struct cacheagg_opts *o)
{
	cacheagg__free(a);
	a = cacheagg__new(o);
	assert_non_null(a);
}

static struct cache_op op_of(const char *verb, const char *pattern, uint32_t flags, uint64_t lat)
{
	static uint64_t t = 1000 * MS;
	struct cache_op op = {
		.flags = flags,
		.tgid = 100,
		.tid = 100,
		.conn_id = 1,
		.ts_start = t,
		.ts_end = t + lat,
		.elements = -1,
	};

	t += 10 * MS;
	snprintf(op.verb, sizeof(op.verb), "%s", verb);
	snprintf(op.pattern, sizeof(op.pattern), "%s", pattern);
	return op;
}

static struct cacheagg_row *add(const char *verb, const char *pattern, uint32_t flags, uint64_t lat)
{
	struct cache_op op = op_of(verb, pattern, flags, lat);

	return cacheagg__add(a, &op, APP, RDS);
}

/* A read of keys keys, hits of them answered. */
static struct cacheagg_row *read_keys(const char *verb, const char *pattern, unsigned keys,
				      unsigned hits)
{
	struct cache_op op = op_of(verb, pattern, CACHE_OP_READ, MS);

	op.keys = keys;
	op.hits = hits;
	op.misses = keys - hits;
	return cacheagg__add(a, &op, APP, RDS);
}

static const struct cacheagg_flag *flag_of(int kind, unsigned nth)
{
	for (unsigned i = 0; i < a->nflags; i++)
		if (a->flags[i].kind == kind && !nth--)
			return &a->flags[i];
	return NULL;
}

static unsigned flags_of(int kind)
{
	unsigned n = 0;

	for (unsigned i = 0; i < a->nflags; i++)
		n += a->flags[i].kind == kind;
	return n;
}

static void test_defaults(void **state)
{
	struct cacheagg_opts o = { .max_rows = 3,
				   .large_value_bytes = 10,
				   .big_elements = 5,
				   .repeat_min = 4,
				   .low_hit_ratio = 0.9 };

	assert_int_equal(a->o.max_rows, CACHEAGG_ROWS_DEFAULT);
	assert_int_equal(a->o.large_value_bytes, 100 * 1024);
	assert_int_equal(a->o.big_elements, 1000);
	assert_int_equal(a->o.repeat_min, 2);
	assert_true(a->o.low_hit_ratio == 0.5);
	assert_false(a->o.raw_keys);
	/* open addressing, at most half full: room for every row from the start */
	assert_int_equal(a->index.cap, 4096);
	reopen(&o);
	assert_int_equal(a->o.max_rows, 3);
	assert_int_equal(a->o.large_value_bytes, 10);
	assert_int_equal(a->o.big_elements, 5);
	assert_int_equal(a->o.repeat_min, 4);
	assert_true(a->o.low_hit_ratio == 0.9);

	assert_string_equal(cacheagg__flag_name(0), "?");
	assert_string_equal(cacheagg__flag_name(CACHEAGG_FLAG_REPEAT_READ), "repeat_read");
	assert_string_equal(cacheagg__flag_name(CACHEAGG_FLAG_NO_TTL), "no_ttl");
	assert_string_equal(cacheagg__flag_name(CACHEAGG_FLAG_SCAN_ALL), "scan_all");
	assert_string_equal(cacheagg__flag_name(CACHEAGG_FLAG_LARGE_VALUE), "large_value");
	assert_string_equal(cacheagg__flag_name(CACHEAGG_FLAG_LOW_HIT_RATIO), "low_hit_ratio");
	assert_string_equal(cacheagg__flag_name(CACHEAGG_FLAG_LOW_HIT_RATIO + 1), "?");
	cacheagg__free(NULL);
}

/* FNV-1a of client, server, verb and pattern, each with its end: the same in every run. */
static void test_row_id_is_stable(void **state)
{
	struct cacheagg_row *r = add("GET", "user:{id}:plan", CACHE_OP_READ, MS);
	struct cache_op op = op_of("GET", "user:{id}:plan", 0, MS);

	assert_non_null(r);
	assert_int_equal(r->id, 0xde79e0a31a7dc107ull);
	assert_ptr_equal(cacheagg__find(a, r->id), r);
	assert_null(cacheagg__find(a, r->id + 1));
	/* Each part counts, and where one ends: ("app:8000", "1") is not ("app:800", "01"). */
	assert_ptr_not_equal(cacheagg__add(a, &op, "app:800", "0" RDS), r);
	assert_ptr_not_equal(cacheagg__add(a, &op, APP, "127.0.0.1:6380"), r);
	assert_ptr_not_equal(add("GET", "user:{id}", 0, MS), r);
	assert_ptr_not_equal(add("HGET", "user:{id}:plan", 0, MS), r);
	assert_ptr_equal(add("GET", "user:{id}:plan", 0, MS), r);
	assert_int_equal(a->nrows, 5);
	/* NULL names are "" */
	assert_ptr_equal(cacheagg__add(a, &op, NULL, NULL), cacheagg__add(a, &op, "", ""));
	assert_int_equal(a->nrows, 6);
}

static void test_counts(void **state)
{
	struct cache_op op = op_of("SET", "sess:{id}", CACHE_OP_WRITE | CACHE_OP_PIPELINED, 2 * MS);
	struct cacheagg_row *r;

	op.req_bytes = 100;
	op.reply_bytes = 5;
	op.value_bytes = 80;
	r = cacheagg__add(a, &op, APP, RDS);
	op.flags = CACHE_OP_WRITE | CACHE_OP_NO_TTL | CACHE_OP_IN_TX | CACHE_OP_APPROX;
	op.ts_end = op.ts_start + 4 * MS;
	op.value_bytes = 300;
	assert_ptr_equal(cacheagg__add(a, &op, APP, RDS), r);
	/* No reply: counted apart, no latency, its bytes sent only. */
	op.flags = CACHE_OP_WRITE | CACHE_OP_ABORTED | CACHE_OP_NO_TTL;
	op.value_bytes = 1000;
	assert_ptr_equal(cacheagg__add(a, &op, APP, RDS), r);
	/* A reply before the command (clock skew between CPUs) is 0 ns, never a wrap. */
	op.flags = CACHE_OP_WRITE;
	op.ts_end = op.ts_start - 1;
	op.value_bytes = 0;
	assert_ptr_equal(cacheagg__add(a, &op, APP, RDS), r);

	assert_int_equal(a->commands, 4);
	assert_int_equal(r->count, 3);
	assert_int_equal(r->aborted, 1);
	assert_int_equal(r->lat.count, 3);
	assert_int_equal(r->lat.sum, 6 * MS);
	assert_int_equal(r->lat.min, 0);
	assert_int_equal(r->writes, 3);
	assert_int_equal(r->no_ttl, 1);
	assert_int_equal(r->pipelined, 1);
	assert_int_equal(r->in_tx, 1);
	assert_int_equal(r->approx, 1);
	assert_int_equal(r->req_bytes, 400);
	assert_int_equal(r->reply_bytes, 15);
	assert_int_equal(r->max_value, 300);
	assert_int_equal(r->max_elements, -1);
	assert_int_equal(r->reads + r->hits + r->misses + r->errors, 0);
	assert_int_equal(r->win_count, 3);
	assert_int_equal(a->win.count, 3);
	assert_string_equal(r->client, APP);
	assert_string_equal(r->server, RDS);
	assert_string_equal(r->verb, "SET");
	assert_string_equal(r->pattern, "sess:{id}");
	assert_null(r->raw_key);
}

/* Up to CACHEAGG_ERRS words, then "other"; a word that is no error code is never kept. */
static void test_errors_by_word(void **state)
{
	static const char *const words[] = { "ERR",   "MOVED", "ERR",	   "WRONGTYPE", "NOAUTH",
					     "OOM",   "",      "user_42x", "ERR",	"ASK",
					     "ERR 1", "MOVED", "CROSSSLOT" };
	struct cacheagg_row *r = NULL;

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		struct cache_op op = op_of("GET", "k:{id}", CACHE_OP_ERROR | CACHE_OP_READ, MS);

		snprintf(op.err, sizeof(op.err), "%s", words[i]);
		r = cacheagg__add(a, &op, APP, RDS);
	}
	add("GET", "k:{id}", 0, MS);
	assert_int_equal(r->count, 14);
	assert_int_equal(r->errors, 13);
	assert_string_equal(r->errs[0].word, "ERR");
	assert_int_equal(r->errs[0].count, 3);
	assert_string_equal(r->errs[1].word, "MOVED");
	assert_int_equal(r->errs[1].count, 2);
	assert_string_equal(r->errs[2].word, "WRONGTYPE");
	assert_int_equal(r->errs[2].count, 1);
	assert_string_equal(r->errs[3].word, "NOAUTH");
	assert_int_equal(r->errs[3].count, 1);
	/* OOM, "", user_42x, ASK, "ERR 1", CROSSSLOT */
	assert_int_equal(r->errs_other, 6);
	assert_int_equal(r->win_errors, 13);
	assert_int_equal(a->win_errors, 13);
	/* Digits and underscores belong to codes too. */
	{
		struct cache_op op = op_of("EVALSHA", "", CACHE_OP_ERROR, MS);

		strcpy(op.err, "noscript");
		r = cacheagg__add(a, &op, APP, RDS);
		strcpy(op.err, "NO_SCRIPT2");
		cacheagg__add(a, &op, APP, RDS);
		assert_string_equal(r->errs[0].word, "NO_SCRIPT2");
		assert_int_equal(r->errs[0].count, 1);
		assert_int_equal(r->errs_other, 1);
	}
}

/* Two rows with one id (a 64-bit collision): the second's commands are dropped, not mixed in. */
static void test_id_collision(void **state)
{
	struct cacheagg_row *r = add("GET", "a", 0, MS);

	/* What another (client, server, verb, pattern) with the same hash would look like. */
	strcpy(r->pattern, "b");
	assert_null(add("GET", "a", 0, MS));
	assert_int_equal(a->rows_dropped, 1);
	assert_int_equal(r->count, 1);
	assert_ptr_equal(add("GET", "b", 0, MS), cacheagg__find(a, add("GET", "b", 0, MS)->id));
	/* The same for a (client, server) pair of the connection table. */
	strcpy(a->clients[0].server, "elsewhere");
	cacheagg__conn_open(a, APP, RDS, 1);
	assert_int_equal(a->clients_dropped, 1);
	assert_int_equal(a->clients[0].opened, 0);
	assert_int_equal(a->nclients, 1);
}

/* 40 reads of which 10 miss: 75 %; MGET counts its keys. */
static void test_hit_ratio(void **state)
{
	struct cacheagg_row *r = NULL, *m;

	assert_true(cacheagg__hit_ratio(a, NULL) == -1);
	for (int i = 0; i < 40; i++)
		r = read_keys("GET", "plan:{id}", 1, i % 4 != 0);
	assert_int_equal(r->reads, 40);
	assert_int_equal(r->hits, 30);
	assert_int_equal(r->misses, 10);
	assert_int_equal(r->win_hits, 30);
	assert_int_equal(r->win_misses, 10);
	assert_true(cacheagg__hit_ratio(a, NULL) == 0.75);
	assert_true(cacheagg__hit_ratio(a, "plan:{id}") == 0.75);
	m = read_keys("MGET", "user:{id}", 3, 1);
	assert_int_equal(m->reads, 1);
	assert_int_equal(m->hits, 1);
	assert_int_equal(m->misses, 2);
	assert_true(cacheagg__hit_ratio(a, "user:{id}") == 1.0 / 3);
	assert_true(cacheagg__hit_ratio(a, NULL) == 31.0 / 43);
	/* Writes and unknown patterns have no ratio. */
	add("SET", "cfg", CACHE_OP_WRITE, MS);
	assert_true(cacheagg__hit_ratio(a, "cfg") == -1);
	assert_true(cacheagg__hit_ratio(a, "nope") == -1);
	/* Hits and misses of a read only: a flag-less command's are not counted. */
	{
		struct cache_op op = op_of("GET", "plan:{id}", 0, MS);

		op.hits = 5;
		cacheagg__add(a, &op, APP, RDS);
	}
	assert_int_equal(r->hits, 30);
	assert_int_equal(a->win_hits, 31);
	assert_int_equal(a->win_misses, 12);
}

/* Connections per (client, server): live, peak (the pool), commands. */
static void test_pool(void **state)
{
	const struct cacheagg_client *c;

	/* A close first: the connection predates the trace; never below zero. */
	cacheagg__conn_close(a, APP, RDS, 1);
	for (int i = 0; i < 4; i++)
		cacheagg__conn_open(a, APP, RDS, 2);
	cacheagg__conn_close(a, APP, RDS, 3);
	cacheagg__conn_close(a, APP, RDS, 3);
	cacheagg__conn_open(a, APP, RDS, 4);
	cacheagg__conn_open(a, "worker:0", RDS, 4);
	add("GET", "a", 0, MS);
	add("GET", "b", CACHE_OP_ABORTED, MS);
	assert_int_equal(a->nclients, 2);
	c = &a->clients[0];
	assert_string_equal(c->client, APP);
	assert_string_equal(c->server, RDS);
	assert_int_equal(c->opened, 5);
	assert_int_equal(c->closed, 3);
	assert_int_equal(c->live, 3);
	assert_int_equal(c->peak, 4);
	assert_int_equal(c->commands, 2);
	c = &a->clients[1];
	assert_string_equal(c->client, "worker:0");
	assert_int_equal(c->opened, 1);
	assert_int_equal(c->peak, 1);
	assert_int_equal(c->commands, 0);
	assert_int_equal(a->clients_dropped, 0);
}

static void test_clients_full(void **state)
{
	char name[32];

	for (int i = 0; i < CACHEAGG_CLIENTS_MAX; i++) {
		snprintf(name, sizeof(name), "svc%d", i);
		cacheagg__conn_open(a, name, RDS, 1);
	}
	assert_int_equal(a->nclients, CACHEAGG_CLIENTS_MAX);
	assert_int_equal(a->clients_dropped, 0);
	cacheagg__conn_open(a, "late", RDS, 1);
	cacheagg__conn_close(a, "late", RDS, 1);
	{
		struct cache_op op = op_of("GET", "a", 0, MS);

		/* The command still has its row: only its client's stats are lost. */
		assert_non_null(cacheagg__add(a, &op, "late", RDS));
	}
	assert_int_equal(a->clients_dropped, 3);
	assert_int_equal(a->nclients, CACHEAGG_CLIENTS_MAX);
	cacheagg__conn_open(a, "svc63", RDS, 1);
	assert_int_equal(a->clients[63].opened, 2);
}

/* Beyond max_rows: the commands of new rows are counted, those of kept rows still go in. */
static void test_rows_full(void **state)
{
	struct cacheagg_opts o = { .max_rows = 2 };
	struct cacheagg_row *r;

	reopen(&o);
	r = add("GET", "a", 0, MS);
	assert_non_null(add("GET", "b", 0, MS));
	assert_null(add("GET", "c", 0, MS));
	assert_null(add("SET", "a", 0, MS));
	assert_ptr_equal(add("GET", "a", 0, MS), r);
	assert_int_equal(a->nrows, 2);
	assert_int_equal(a->rows_dropped, 2);
	assert_int_equal(a->commands, 5);
	assert_int_equal(r->count, 2);
	/* The client saw all five. */
	assert_int_equal(a->clients[0].commands, 5);
}

static void test_raw_keys(void **state)
{
	struct cacheagg_opts o = { .raw_keys = true };
	struct cache_op op = op_of("GET", "user:{id}", CACHE_OP_READ, MS);
	struct cacheagg_row *r;

	op.raw_key = "user:42";
	r = cacheagg__add(a, &op, APP, RDS);
	assert_null(r->raw_key);
	reopen(&o);
	r = cacheagg__add(a, &op, APP, RDS);
	op.raw_key = "user:43";
	cacheagg__add(a, &op, APP, RDS);
	assert_string_equal(r->raw_key, "user:42");
	op.raw_key = NULL;
	op.pattern[0] = 'x';
	assert_null(cacheagg__add(a, &op, APP, RDS)->raw_key);
}

/* One point per interval for the whole cache; rates per row; windows start again. */
static void test_roll(void **state)
{
	struct cacheagg_row *r;
	const struct cacheagg_point *p;
	struct hist h;

	hist__init(&h);
	hist__add_n(&h, MS, 10);
	hist__add(&h, 100 * MS);
	for (int i = 1; i <= 10; i++)
		r = read_keys("GET", "k", 1, i <= 6);
	{
		struct cache_op op = op_of("GET", "k", CACHE_OP_ERROR, 100 * MS);

		strcpy(op.err, "ERR");
		cacheagg__add(a, &op, APP, RDS);
	}
	cacheagg__roll(a, 2.0, 2.0);
	assert_int_equal(a->npoints, 1);
	p = &a->points[0];
	assert_true(p->t_s == 2.0 && p->interval_s == 2.0);
	assert_int_equal(p->count, 11);
	assert_int_equal(p->errors, 1);
	assert_int_equal(p->hits, 6);
	assert_int_equal(p->misses, 4);
	assert_int_equal(p->p50_ns, hist__percentile(&h, 50));
	assert_int_equal(p->p95_ns, hist__percentile(&h, 95));
	assert_int_equal(p->p99_ns, hist__percentile(&h, 99));
	assert_true(p->p50_ns < 2 * MS && p->p99_ns > 99 * MS);
	assert_true(r->rate == 5.5);
	assert_int_equal(r->win_count + r->win_hits + r->win_misses + r->win_errors, 0);
	assert_int_equal(a->win.count + a->win_hits + a->win_misses + a->win_errors, 0);
	assert_int_equal(r->count, 11);

	assert_int_equal(a->cap_points, 64);
	/* An empty interval is a point too, and a rate of 0. */
	cacheagg__roll(a, 4.0, 2.0);
	assert_int_equal(a->npoints, 2);
	assert_int_equal(a->points[1].count, 0);
	assert_int_equal(a->points[1].p95_ns, 0);
	assert_true(r->rate == 0);
	read_keys("GET", "k", 1, 1);
	cacheagg__roll(a, 5.0, 1.0);
	assert_true(r->rate == 1);
	cacheagg__roll(a, 5.0, 0);
	assert_true(r->rate == 0);

	/* p99 is not the max: 198 at 1 ms, 2 at 100 ms. */
	hist__init(&h);
	for (int i = 0; i < 200; i++) {
		read_keys("GET", "k", 1, 1);
		if (i >= 198)
			add("GET", "slow", 0, 100 * MS);
	}
	hist__add_n(&h, MS, 200);
	hist__add_n(&h, 100 * MS, 2);
	cacheagg__roll(a, 5.5, 0.5);
	p = &a->points[a->npoints - 1];
	assert_int_equal(p->count, 202);
	assert_int_equal(p->p99_ns, hist__percentile(&h, 99));
	assert_true(p->p99_ns < 2 * MS);
	/* p95 is the 95th of 100: 95 at 1 ms, 5 at 100 ms. */
	for (int i = 0; i < 100; i++)
		add("GET", "slow", 0, i < 95 ? MS : 100 * MS);
	cacheagg__roll(a, 5.75, 0.25);
	assert_true(a->points[a->npoints - 1].p95_ns < 2 * MS);
	assert_true(a->points[a->npoints - 1].p99_ns > 99 * MS);
	/* Points beyond the first 64 make room for themselves. */
	for (int i = 0; i < 63; i++)
		cacheagg__roll(a, 6.0 + i, 1.0);
	assert_int_equal(a->npoints, 69);
	assert_int_equal(a->cap_points, 128);
	assert_true(a->points[68].t_s == 68.0);

	/* The budget of points: beyond it, counted. */
	a->tl_budget.left = 1;
	cacheagg__roll(a, 70.0, 1.0);
	cacheagg__roll(a, 71.0, 1.0);
	assert_int_equal(a->npoints, 70);
	assert_int_equal(a->tl_budget.dropped, 1);
	assert_true(a->points[69].t_s == 70.0);
}

/* A key read n >= repeat_min times in one request, per row and endpoint. */
static void test_flag_repeat_read(void **state)
{
	struct cacheagg_row *r = read_keys("GET", "user:{id}:plan", 1, 1);
	struct cacheagg_row *s = read_keys("HGET", "cfg:{id}", 1, 1);
	const struct cacheagg_flag *f;

	cacheagg__repeat(a, r->id, "GET /items/{id}", 1); /* under repeat_min: not one */
	cacheagg__repeat(a, r->id, "GET /items/{id}", 2);
	cacheagg__repeat(a, r->id, "GET /items/{id}", 5);
	cacheagg__repeat(a, r->id, "GET /items/{id}", 2);
	cacheagg__repeat(a, r->id, "POST /orders", 3);
	cacheagg__repeat(a, s->id, NULL, 2);
	cacheagg__repeat(a, 12345, "GET /gone", 2); /* a row the table never kept */
	assert_int_equal(a->nrepeats, 4);
	assert_int_equal(a->repeats[0].requests, 3);
	assert_int_equal(a->repeats[0].reads, 9);
	assert_int_equal(a->repeats[0].max, 5);
	cacheagg__finish(a, 10);
	assert_int_equal(flags_of(CACHEAGG_FLAG_REPEAT_READ), 3);
	f = flag_of(CACHEAGG_FLAG_REPEAT_READ, 0);
	assert_int_equal(f->row_id, r->id);
	assert_string_equal(f->endpoint, "GET /items/{id}");
	assert_int_equal(f->count, 3);
	assert_string_equal(
		f->evidence,
		"3 requests read one key of this pattern 3.0 times each on average (up "
		"to 5): read it once per request (a per-request memo), or fetch the keys "
		"together (MGET, pipelining)");
	f = flag_of(CACHEAGG_FLAG_REPEAT_READ, 1);
	assert_string_equal(f->endpoint, "POST /orders");
	assert_int_equal(f->count, 1);
	assert_string_equal(
		f->evidence,
		"1 request read one key of this pattern 3.0 times each on average (up to "
		"3): read it once per request (a per-request memo), or fetch the keys "
		"together (MGET, pipelining)");
	f = flag_of(CACHEAGG_FLAG_REPEAT_READ, 2);
	assert_int_equal(f->row_id, s->id);
	assert_string_equal(f->endpoint, "");

	/* repeat_min 3: twice is not a repeat. */
	{
		struct cacheagg_opts o = { .repeat_min = 3 };

		reopen(&o);
		r = read_keys("GET", "k", 1, 1);
		cacheagg__repeat(a, r->id, "GET /", 2);
		assert_int_equal(a->nrepeats, 0);
		cacheagg__repeat(a, r->id, "GET /", 3);
		assert_int_equal(a->nrepeats, 1);
	}
}

static void test_repeats_full(void **state)
{
	struct cacheagg_row *r = read_keys("GET", "k", 1, 1);
	char ep[32];

	for (int i = 0; i < CACHEAGG_REPEATS_MAX; i++) {
		snprintf(ep, sizeof(ep), "GET /%d", i);
		cacheagg__repeat(a, r->id, ep, 2);
	}
	assert_int_equal(a->repeats_dropped, 0);
	cacheagg__repeat(a, r->id, "GET /late", 2);
	cacheagg__repeat(a, r->id, "GET /late", 2);
	assert_int_equal(a->repeats_dropped, 2);
	cacheagg__repeat(a, r->id, "GET /7", 4);
	assert_int_equal(a->repeats[7].requests, 2);
	/* More flags than the report keeps: counted. */
	cacheagg__finish(a, 1);
	assert_int_equal(a->nflags, CACHEAGG_FLAGS_MAX);
	assert_int_equal(a->flags_dropped, CACHEAGG_REPEATS_MAX - CACHEAGG_FLAGS_MAX);
	/* finish again: the same flags, not twice as many drops */
	cacheagg__finish(a, 1);
	assert_int_equal(a->nflags, CACHEAGG_FLAGS_MAX);
	assert_int_equal(a->flags_dropped, CACHEAGG_REPEATS_MAX - CACHEAGG_FLAGS_MAX);
}

/* Writes without a TTL on a pattern that no EXPIRE covers: more of them than EXPIREs. */
static void test_flag_no_ttl(void **state)
{
	const struct cacheagg_flag *f;
	struct cacheagg_row *w;

	for (int i = 0; i < 3; i++)
		w = add("SET", "sess:{id}", CACHE_OP_WRITE | CACHE_OP_NO_TTL, MS);
	add("SET", "sess:{id}", CACHE_OP_WRITE, MS); /* SET ... EX */
	for (int i = 0; i < 3; i++)
		add("EXPIRE", "sess:{id}", 0, MS);
	/* One a second client made, the other on another server: not the same keys. */
	{
		struct cache_op op =
			op_of("SET", "sess:{id}", CACHE_OP_WRITE | CACHE_OP_NO_TTL, MS);

		cacheagg__add(a, &op, "worker:0", RDS);
		op = op_of("SET", "other:{id}", CACHE_OP_WRITE | CACHE_OP_NO_TTL, MS);
		cacheagg__add(a, &op, APP, "10.0.0.2:6379");
		op = op_of("EXPIRE", "sess:{id}", 0, MS);
		cacheagg__add(a, &op, APP, "10.0.0.2:6379");
	}
	/* 4 without a TTL, 3 EXPIREs: flagged; "10.0.0.2:6379" sorts first. */
	cacheagg__finish(a, 1);
	assert_int_equal(flags_of(CACHEAGG_FLAG_NO_TTL), 2);
	f = flag_of(CACHEAGG_FLAG_NO_TTL, 0);
	assert_string_equal(cacheagg__find(a, f->row_id)->pattern, "other:{id}");
	assert_string_equal(f->evidence, "1 of 1 write set no TTL: keys of this pattern never "
					 "expire; give them one (SET ... EX, or EXPIRE)");
	f = flag_of(CACHEAGG_FLAG_NO_TTL, 1);
	assert_int_equal(f->row_id, w->id);
	assert_int_equal(f->count, 4);
	assert_string_equal(f->endpoint, "");
	assert_string_equal(f->evidence,
			    "4 of 5 writes set no TTL and EXPIRE ran 3 times: keys of this pattern "
			    "never expire; give them one (SET ... EX, or EXPIRE)");
	/* As many EXPIREs as writes without a TTL: each got one afterwards. */
	add("PEXPIRE", "sess:{id}", 0, MS);
	cacheagg__finish(a, 1);
	assert_int_equal(flags_of(CACHEAGG_FLAG_NO_TTL), 1);
	assert_string_equal(cacheagg__find(a, flag_of(CACHEAGG_FLAG_NO_TTL, 0)->row_id)->pattern,
			    "other:{id}");
	/* Commands without a key have no pattern to flag. */
	reopen(NULL);
	add("FLUSHALL", "", CACHE_OP_WRITE | CACHE_OP_NO_TTL, MS);
	cacheagg__finish(a, 1);
	assert_int_equal(a->nflags, 0);
	/* One EXPIRE: "1 time". */
	reopen(NULL);
	for (int i = 0; i < 2; i++)
		add("SET", "s:{id}", CACHE_OP_WRITE | CACHE_OP_NO_TTL, MS);
	add("EXPIRE", "s:{id}", 0, MS);
	cacheagg__finish(a, 1);
	assert_string_equal(flag_of(CACHEAGG_FLAG_NO_TTL, 0)->evidence,
			    "2 of 2 writes set no TTL and EXPIRE ran 1 time: keys of this pattern "
			    "never expire; give them one (SET ... EX, or EXPIRE)");
	/* Every command that sets a TTL counts: EXPIREAT, PEXPIREAT too; not PERSIST. */
	add("EXPIREAT", "s:{id}", 0, MS);
	cacheagg__finish(a, 1);
	assert_int_equal(a->nflags, 0);
	add("SET", "s:{id}", CACHE_OP_WRITE | CACHE_OP_NO_TTL, MS);
	add("PERSIST", "s:{id}", 0, MS);
	cacheagg__finish(a, 1);
	assert_int_equal(a->nflags, 1);
	add("PEXPIREAT", "s:{id}", 0, MS);
	cacheagg__finish(a, 1);
	assert_int_equal(a->nflags, 0);
}

/* KEYS always; whole-structure reads over big_elements (1000), not at it. */
static void test_flag_scan_all(void **state)
{
	struct cache_op op;
	const struct cacheagg_flag *f;
	struct cacheagg_row *r;

	op = op_of("KEYS", "", CACHE_OP_SCAN_ALL, MS);
	op.elements = 3;
	cacheagg__add(a, &op, APP, RDS);
	op.flags |= CACHE_OP_ABORTED;
	cacheagg__add(a, &op, APP, RDS);
	op = op_of("SMEMBERS", "tags:{id}", CACHE_OP_SCAN_ALL | CACHE_OP_READ, MS);
	op.elements = 1000;
	r = cacheagg__add(a, &op, APP, RDS);
	cacheagg__finish(a, 1);
	assert_int_equal(r->scan_all, 1);
	assert_int_equal(r->scan_big, 0);
	assert_int_equal(r->max_elements, 1000);
	assert_int_equal(a->nflags, 1);
	f = flag_of(CACHEAGG_FLAG_SCAN_ALL, 0);
	assert_int_equal(f->count, 2);
	assert_string_equal(f->evidence,
			    "KEYS ran 2 times: it walks every key while the server serves nothing "
			    "else; iterate with SCAN, or keep the keys in a set");
	op.elements = 1001;
	cacheagg__add(a, &op, APP, RDS);
	op.elements = 5000;
	cacheagg__add(a, &op, APP, RDS);
	/* Without the flag it is no whole-structure read (LRANGE 0 9), whatever its size. */
	op.flags = CACHE_OP_READ;
	op.elements = 9000;
	cacheagg__add(a, &op, APP, RDS);
	cacheagg__finish(a, 1);
	assert_int_equal(r->scan_all, 3);
	assert_int_equal(r->scan_big, 2);
	assert_int_equal(r->max_elements, 5000);
	assert_int_equal(flags_of(CACHEAGG_FLAG_SCAN_ALL), 2);
	/* SMEMBERS took more time than KEYS now: its row, and its flag, come first. */
	assert_ptr_equal(a->rows[0], r);
	f = flag_of(CACHEAGG_FLAG_SCAN_ALL, 0);
	assert_int_equal(f->row_id, r->id);
	assert_int_equal(f->count, 2);
	assert_string_equal(f->evidence,
			    "2 of 3 whole-structure reads returned more than 1000 elements (up to "
			    "5000): each reads and sends all of it; page it (SSCAN, HSCAN, LRANGE "
			    "with bounds) or keep it smaller");
}

static void test_flag_large_value(void **state)
{
	struct cacheagg_opts o = { .large_value_bytes = 1000 };
	struct cache_op op;
	struct cacheagg_row *r;

	reopen(&o);
	op = op_of("SET", "blob:{id}", CACHE_OP_WRITE, MS);
	op.value_bytes = 1000;
	r = cacheagg__add(a, &op, APP, RDS);
	cacheagg__finish(a, 1);
	assert_int_equal(r->large_values, 0);
	assert_int_equal(a->nflags, 0);
	op.value_bytes = 1001;
	cacheagg__add(a, &op, APP, RDS);
	op.value_bytes = 4096;
	cacheagg__add(a, &op, APP, RDS);
	cacheagg__finish(a, 1);
	assert_int_equal(r->large_values, 2);
	assert_int_equal(a->nflags, 1);
	assert_int_equal(flag_of(CACHEAGG_FLAG_LARGE_VALUE, 0)->count, 2);
	assert_string_equal(flag_of(CACHEAGG_FLAG_LARGE_VALUE, 0)->evidence,
			    "2 of 3 commands carried a value over 1000 bytes (largest 4096): the "
			    "server's one thread copies it meanwhile; split it (a hash, several "
			    "keys) or compress it");
}

/* A pattern's hit ratio under 0.5 over 20 keys or more, whatever the command. */
static void test_flag_low_hit_ratio(void **state)
{
	const struct cacheagg_flag *f;
	struct cacheagg_row *g, *m;

	/* 19 keys, all misses: too few to judge. */
	for (int i = 0; i < 19; i++)
		g = read_keys("GET", "plan:{id}", 1, 0);
	cacheagg__finish(a, 1);
	assert_int_equal(a->nflags, 0);
	/* 20 keys: 10 hits, exactly 0.5, is not under it. */
	reopen(NULL);
	for (int i = 0; i < 14; i++)
		g = read_keys("GET", "plan:{id}", 1, i < 4);
	m = read_keys("MGET", "plan:{id}", 6, 6);
	cacheagg__finish(a, 1);
	assert_true(cacheagg__hit_ratio(a, "plan:{id}") == 0.5);
	assert_int_equal(a->nflags, 0);
	/* One more miss: 10 of 21. */
	read_keys("GET", "plan:{id}", 1, 0);
	cacheagg__finish(a, 1);
	assert_int_equal(a->nflags, 1);
	f = flag_of(CACHEAGG_FLAG_LOW_HIT_RATIO, 0);
	assert_int_equal(f->row_id, g->id); /* the row with most keys read */
	assert_ptr_not_equal(g, m);
	assert_int_equal(f->count, 21);
	assert_string_equal(
		f->evidence,
		"hit ratio 47.6 % over 21 keys read (11 misses), under 50 %: most reads "
		"go on to the slower source; check the TTL and what the key is made of, "
		"or whether caching this pays");
	/* The flag names the row with most keys read, whichever comes first. */
	reopen(NULL);
	{
		struct cache_op op = op_of("MGET", "p:{id}", CACHE_OP_READ, 50 * MS);

		op.keys = op.misses = 10;
		cacheagg__add(a, &op, APP, RDS);
		for (int i = 0; i < 14; i++)
			g = read_keys("GET", "p:{id}", 1, i < 7);
		cacheagg__finish(a, 1);
		assert_string_equal(a->rows[0]->verb, "MGET");
		assert_int_equal(a->nflags, 1);
		assert_int_equal(a->flags[0].row_id, g->id);
		assert_int_equal(a->flags[0].count, 24);
	}
	/* The threshold is an option. */
	{
		struct cacheagg_opts o = { .low_hit_ratio = 0.8 };

		reopen(&o);
		for (int i = 0; i < 20; i++)
			read_keys("GET", "k", 1, i < 15);
		cacheagg__finish(a, 1);
		assert_int_equal(a->nflags, 1);
		assert_non_null(strstr(a->flags[0].evidence, "hit ratio 75.0 % over 20 keys read "
							     "(5 misses), under 80 %"));
	}
}

/* Rows by total time after finish, and the index follows them. */
static void test_finish_sorts(void **state)
{
	struct cacheagg_row *w = add("GET", "w", 0, MS), *y = add("GET", "y", 0, 5 * MS);
	struct cacheagg_row *z = add("GET", "z", 0, 3 * MS), *x = add("GET", "x", 0, MS);
	struct cache_op op = op_of("GET", "wz", 0, MS);
	struct cacheagg_row *s2, *s1;

	add("GET", "x", 0, 0);
	/* The same but for the server: by server. */
	s2 = cacheagg__add(a, &op, APP, "10.0.0.2:6379");
	s1 = cacheagg__add(a, &op, APP, "10.0.0.1:6379");
	cacheagg__finish(a, 1);
	assert_ptr_equal(a->rows[4], s1);
	assert_ptr_equal(a->rows[5], s2);
	assert_ptr_equal(a->rows[0], y);
	assert_ptr_equal(a->rows[1], z);
	/* x and w: 1 ms each; x has two commands */
	assert_ptr_equal(a->rows[2], x);
	assert_ptr_equal(a->rows[3], w);
	assert_int_equal(a->nrows, 6);
	for (unsigned i = 0; i < a->nrows; i++)
		assert_ptr_equal(cacheagg__find(a, a->rows[i]->id), a->rows[i]);
	/* A row added after finish is still found */
	assert_ptr_equal(add("GET", "w", 0, MS), w);
	assert_int_equal(w->count, 2);
}

/* Flags in a fixed order: repeats, rows by total time, then patterns by server and name. */
static void test_flag_order(void **state)
{
	struct cache_op op = op_of("SET", "b:{id}", CACHE_OP_WRITE | CACHE_OP_NO_TTL, MS);
	struct cacheagg_row *k;

	op.value_bytes = 1 << 20;
	cacheagg__add(a, &op, APP, RDS);
	k = add("KEYS", "", 0, 9 * MS);
	add("SET", "a:{id}", CACHE_OP_WRITE | CACHE_OP_NO_TTL, MS);
	cacheagg__repeat(a, k->id, "GET /", 2);
	cacheagg__finish(a, 1);
	assert_int_equal(a->nflags, 5);
	assert_int_equal(a->flags[0].kind, CACHEAGG_FLAG_REPEAT_READ);
	assert_int_equal(a->flags[1].kind, CACHEAGG_FLAG_SCAN_ALL);
	assert_string_equal(a->flags[1].evidence,
			    "KEYS ran 1 time: it walks every key while the server serves nothing "
			    "else; iterate with SCAN, or keep the keys in a set");
	assert_int_equal(a->flags[2].kind, CACHEAGG_FLAG_LARGE_VALUE);
	assert_int_equal(a->flags[3].kind, CACHEAGG_FLAG_NO_TTL);
	assert_string_equal(cacheagg__find(a, a->flags[3].row_id)->pattern, "a:{id}");
	assert_int_equal(a->flags[4].kind, CACHEAGG_FLAG_NO_TTL);
	assert_string_equal(cacheagg__find(a, a->flags[4].row_id)->pattern, "b:{id}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_row_id_is_stable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_by_word, setup, teardown),
		cmocka_unit_test_setup_teardown(test_id_collision, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hit_ratio, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clients_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rows_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raw_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roll, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flag_repeat_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repeats_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flag_no_ttl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flag_scan_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flag_large_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flag_low_hit_ratio, setup, teardown),
		cmocka_unit_test_setup_teardown(test_finish_sorts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flag_order, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
