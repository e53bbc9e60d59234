// SPDX-License-Identifier: GPL-2.0-only
/*
 * The recorder's report (record/report.c) of a recording with a cache table and dependency
 * calls per endpoint: what the tables held is what the file says, and the file is a fixed point
 * of the loader and the writer, byte for byte, as for every report sloprobe writes.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyze/runslo.h"
#include "record/report.h"
#include "record/slotrack.h"
#include "run/runfile.h"

#define MS  1000000ull
#define APP "app:8000"
#define RDS "127.0.0.1:6379"

struct rec {
	struct agg agg;
	struct cacheagg *cache;
	struct slotrack *slo; /* judges the commands too; NULL: no --slo */
	struct report_meta m;
	char *json;
	size_t len;
	struct run r;
};

static void rec_init(struct rec *x)
{
	memset(x, 0, sizeof(*x));
	assert_int_equal(agg__init(&x->agg, 0), 0);
	x->m.hostname = "web1";
	x->m.kernel = "6.1.0";
	x->m.start.tv_sec = 1796032800; /* 2026-11-30T10:00:00Z */
	x->m.end.tv_sec = 1796032810;
	x->m.start_ns = 1000 * MS;
	x->m.duration_s = 10;
	x->m.interval_s = 1;
}

static void rec_free(struct rec *x)
{
	run__free(&x->r);
	free(x->json);
	cacheagg__free(x->cache);
	agg__free(&x->agg);
}

static struct agg_endpoint *request(struct rec *x, const char *route, uint64_t lat)
{
	struct agg_req q = { .method = "GET", .route = route, .status = 200, .t_start = 2000 * MS };
	int svc = agg__service(&x->agg, APP);

	assert_true(svc >= 0);
	q.service = (unsigned)svc;
	q.t_end = q.t_start + lat;
	return agg__add(&x->agg, &q);
}

static void cmd(struct rec *x, const char *verb, const char *pattern, uint32_t flags, uint64_t lat,
		unsigned hits, unsigned misses)
{
	struct cache_op op = { .flags = flags, .ts_start = 2000 * MS, .elements = -1 };

	op.ts_end = op.ts_start + lat;
	snprintf(op.verb, sizeof(op.verb), "%s", verb);
	snprintf(op.pattern, sizeof(op.pattern), "%s", pattern);
	op.hits = hits;
	op.misses = misses;
	op.keys = hits + misses;
	op.req_bytes = 30;
	op.reply_bytes = 10;
	struct cacheagg_row *row;

	if (flags & CACHE_OP_ERROR)
		strcpy(op.err, "WRONGTYPE");
	row = cacheagg__add(x->cache, &op, APP, RDS);
	assert_non_null(row);
	if (x->slo)
		slotrack__cache(x->slo, &row->slo, &op, APP, RDS);
}

/* The report written by the recorder, then loaded: x->json and x->r. */
static void write_and_load(struct rec *x)
{
	char err[RUNFILE_ERR_MAX];
	FILE *f = open_memstream(&x->json, &x->len);

	assert_non_null(f);
	assert_int_equal(report__write(f, &x->agg, &x->m), 0);
	assert_int_equal(fclose(f), 0);
	if (run__parse(&x->r, x->json, x->len, "rec", err, sizeof(err)))
		fail_msg("%s", err);
}

/* load(write(snapshot)) written again is the same file. */
static void assert_fixed_point(const struct rec *x)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	assert_int_equal(run__write(f, &x->r), 0);
	assert_int_equal(fclose(f), 0);
	if (len != x->len || memcmp(out, x->json, len))
		fail_msg("written again, the report differs:\n%s\n---\n%s", x->json, out);
	free(out);
}

static void has(const struct rec *x, const char *s)
{
	if (!strstr(x->json, s))
		fail_msg("report lacks %s:\n%s", s, x->json);
}

static void test_cache_section(void **state)
{
	struct cacheagg_opts o = { .large_value_bytes = 100 };
	struct agg_dep d = { .calls = 2, .ns = 0.8 * MS, .hits = 1, .misses = 1 };
	const struct run_cache_row *row;
	const struct run_endpoint *e;
	struct agg_endpoint *ep;
	struct rec x;

	rec_init(&x);
	x.cache = cacheagg__new(&o);
	assert_non_null(x.cache);
	x.m.cache = x.cache;
	ep = request(&x, "/plans/{id}", 5 * MS);
	request(&x, "/plans/{id}", 5 * MS);
	/* Per request: 2 calls, then 3 with a repeated key, hits 1 + 3 of 4 keys */
	agg__add_dep(ep, AGG_DEP_CACHE, &d);
	d = (struct agg_dep){
		.calls = 3, .ns = 1.2 * MS, .hits = 3, .misses = 0, .repeat = 1, .errors = 1
	};
	agg__add_dep(ep, AGG_DEP_CACHE, &d);
	cacheagg__conn_open(x.cache, APP, RDS, 1);
	cacheagg__conn_open(x.cache, APP, RDS, 2);
	cacheagg__conn_close(x.cache, APP, RDS, 3);
	for (int i = 0; i < 30; i++)
		cmd(&x, "GET", "plan:{id}", CACHE_OP_READ, MS, i % 3 != 0, i % 3 == 0);
	cacheagg__roll(x.cache, 1.0, 1.0);
	cmd(&x, "GET", "plan:{id}", CACHE_OP_READ | CACHE_OP_ERROR, 2 * MS, 0, 0);
	cmd(&x, "SET", "plan:{id}", CACHE_OP_WRITE | CACHE_OP_NO_TTL, MS, 0, 0);
	cmd(&x, "KEYS", "", CACHE_OP_SCAN_ALL, 9 * MS, 0, 0);
	cacheagg__roll(x.cache, 2.0, 1.0);
	cacheagg__roll(x.cache, 3.0, 1.0);
	cacheagg__repeat(x.cache, x.cache->rows[0]->id, "GET /plans/{id}", 3);
	cacheagg__finish(x.cache, 10);
	write_and_load(&x);
	assert_fixed_point(&x);

	has(&x, "\"cache\": {\n    \"system\": \"redis\",\n    \"commands\": 33,\n"
		"    \"errors\": 1,\n    \"hits\": 20,\n    \"misses\": 10,\n"
		"    \"hit_ratio\": 0.6667,\n");
	has(&x, "\"drops\": {\n      \"commands\": 0,\n      \"clients\": 0,\n"
		"      \"repeats\": 0,\n      \"flags\": 0,\n      \"unmatched\": 0,\n");
	has(&x, "      \"pubsub_connections\": 0\n    }\n  }");
	assert_true(x.r.has_cache);
	assert_string_equal(x.r.cache.system, "redis");
	assert_int_equal(x.r.cache.nrows, 3);
	/* By total time: GET 32 ms, KEYS 9 ms, SET 1 ms */
	row = &x.r.cache.rows[0];
	assert_string_equal(row->verb, "GET");
	assert_string_equal(row->pattern, "plan:{id}");
	assert_string_equal(row->client, APP);
	assert_string_equal(row->server, RDS);
	assert_int_equal(row->count, 31);
	assert_int_equal(row->reads, 31);
	assert_int_equal(row->hits, 20);
	assert_int_equal(row->misses, 10);
	assert_int_equal(row->errors, 1);
	assert_int_equal(row->errs.n, 1);
	assert_string_equal(row->errs.v[0].key, "WRONGTYPE");
	assert_int_equal(row->bytes_sent, 31 * 30);
	assert_int_equal(row->hist->count, 31);
	assert_int_equal(row->hist->sum, 32 * MS);
	assert_true(row->rate_per_s == 3.1);
	assert_int_equal(row->max_elements, -1);
	assert_int_equal(row->flags.n, 1);
	assert_string_equal(row->flags.v[0], "repeat_read");
	has(&x, "\"hit_ratio\": 0.6667,\n        \"writes\": 0,");
	has(&x, "\"max_elements\": null,");
	assert_string_equal(x.r.cache.rows[1].verb, "KEYS");
	assert_string_equal(x.r.cache.rows[1].pattern, "");
	assert_string_equal(x.r.cache.rows[1].flags.v[0], "scan_all");
	assert_int_equal(x.r.cache.rows[2].no_ttl, 1);
	/* SET has no read: no ratio */
	has(&x, "\"misses\": 0,\n        \"hit_ratio\": null,\n        \"writes\": 1,");

	assert_int_equal(x.r.cache.nclients, 1);
	assert_int_equal(x.r.cache.clients[0].opened, 2);
	assert_int_equal(x.r.cache.clients[0].peak, 2);
	assert_int_equal(x.r.cache.clients[0].live, 1);
	assert_int_equal(x.r.cache.clients[0].commands, 33);

	assert_int_equal(x.r.cache.nflags, 3);
	assert_string_equal(x.r.cache.flags[0].kind, "repeat_read");
	assert_string_equal(x.r.cache.flags[0].endpoint, "GET /plans/{id}");
	assert_string_equal(x.r.cache.flags[0].verb, "GET");
	assert_string_equal(x.r.cache.flags[0].id, x.r.cache.rows[0].id);
	assert_int_equal(x.r.cache.flags[0].occurrences, 1);
	assert_string_equal(x.r.cache.flags[1].kind, "scan_all");
	assert_null(x.r.cache.flags[1].endpoint);
	assert_string_equal(x.r.cache.flags[2].kind, "no_ttl");
	assert_string_equal(x.r.cache.flags[2].pattern, "plan:{id}");

	assert_true(x.r.cache.has_timeline);
	assert_true(x.r.cache.interval_s == 1);
	assert_int_equal(x.r.cache.npoints, 3);
	assert_int_equal(x.r.cache.points[0].count, 30);
	assert_int_equal(x.r.cache.points[0].hits, 20);
	assert_int_equal(x.r.cache.points[1].count, 3);
	assert_int_equal(x.r.cache.points[1].errors, 1);
	assert_true(x.r.cache.points[1].rate_per_s == 3);
	assert_true(isnan(x.r.cache.points[2].p95));
	has(&x, "\"p50\": null,");

	/* The endpoint's calls per request; no outbound calls were followed. */
	e = &x.r.eps[0];
	assert_true(e->has_dep[RUN_DEP_CACHE]);
	assert_false(e->has_dep[RUN_DEP_OUTBOUND]);
	assert_int_equal(e->dep[RUN_DEP_CACHE].requests, 2);
	assert_int_equal(e->dep[RUN_DEP_CACHE].with, 2);
	assert_true(e->dep[RUN_DEP_CACHE].calls_per_request == 2.5);
	assert_true(e->dep[RUN_DEP_CACHE].max_calls == 3);
	assert_true(e->dep[RUN_DEP_CACHE].ms_per_request == 1);
	assert_true(e->dep[RUN_DEP_CACHE].hit_ratio == 0.8);
	assert_int_equal(e->dep[RUN_DEP_CACHE].repeat, 1);
	has(&x, "\"cache\": {\n        \"requests\": 2,\n        \"requests_with_calls\": 2,\n"
		"        \"calls_per_request\": 2.5,\n        \"max_calls\": 3,\n"
		"        \"ms_per_request\": 1,\n        \"errors\": 1,\n        \"hits\": 4,\n"
		"        \"misses\": 1,\n        \"hit_ratio\": 0.8,\n"
		"        \"repeat_requests\": 1\n      }\n    }");
	assert_null(strstr(x.json, "\"outbound\""));
	rec_free(&x);
}

/* Outbound calls alone, and a cache whose reads had no key: ratios null, drops counted. */
static void test_outbound_and_drops(void **state)
{
	struct cacheagg_opts o = { .max_rows = 1 };
	struct agg_dep d = { .calls = 1, .ns = 120 * MS, .errors = 1 };
	struct agg_endpoint *ep;
	struct rec x;

	rec_init(&x);
	x.cache = cacheagg__new(&o);
	x.m.cache = x.cache;
	ep = request(&x, "/pay", 130 * MS);
	agg__add_dep(ep, AGG_DEP_HTTP, &d);
	d = (struct agg_dep){ 0 };
	agg__add_dep(ep, AGG_DEP_CACHE, &d);
	cmd(&x, "PING", "", 0, MS, 0, 0);
	{
		struct cache_op op = { .ts_start = 1, .ts_end = 2, .verb = "GET", .pattern = "k" };

		assert_null(cacheagg__add(x.cache, &op, APP, RDS));
	}
	cacheagg__finish(x.cache, 10);
	write_and_load(&x);
	assert_fixed_point(&x);
	has(&x, "\"outbound\": {\n        \"requests\": 1,\n        \"requests_with_calls\": 1,\n"
		"        \"calls_per_request\": 1,\n        \"max_calls\": 1,\n"
		"        \"ms_per_request\": 120,\n        \"errors\": 1\n      }");
	has(&x, "\"requests_with_calls\": 0,");
	has(&x, "\"hit_ratio\": null,\n        \"repeat_requests\": 0");
	has(&x, "\"hits\": 0,\n    \"misses\": 0,\n    \"hit_ratio\": null,");
	has(&x, "\"drops\": {\n      \"commands\": 1,");
	assert_int_equal(run__count(&x.r.cache.drops, "commands"), 1);
	assert_false(x.r.cache.has_timeline && x.r.cache.npoints);
	assert_true(isnan(x.r.eps[0].dep[RUN_DEP_CACHE].hit_ratio));
	rec_free(&x);
}

/* A recording without a cache table or dependency calls: no trace of either in the file. */
static void test_without_cache(void **state)
{
	struct rec x;

	rec_init(&x);
	request(&x, "/", MS);
	write_and_load(&x);
	assert_fixed_point(&x);
	assert_false(x.r.has_cache);
	assert_false(x.r.eps[0].has_dep[RUN_DEP_CACHE] || x.r.eps[0].has_dep[RUN_DEP_OUTBOUND]);
	assert_null(strstr(x.json, "\"cache\""));
	assert_null(strstr(x.json, "\"outbound\""));
	assert_null(strstr(x.json, "hit_ratio"));
	rec_free(&x);
}

/*
 * Cache SLOs judged while recording: the report's slo rows name the source, the kind and the
 * key pattern; re-judging the saved report (report --slo) gives the same verdicts from the cache
 * section, the hit ratio exactly.
 */
static void test_cache_slo(void **state)
{
	static const char text[] = "apiVersion: sloprobe/v1\n"
				   "kind: SLO\n"
				   "slos:\n"
				   "  - name: plan\n"
				   "    cache: {pattern: \"plan:*\"}\n"
				   "    objectives: [{hit_ratio: {ge: 75%}}, \"p(99)<=2ms\"]\n";
	struct runslo_notes notes;
	const struct run_slo *hit;
	struct slo_set *set;
	struct slotrack st;
	char err[256];
	struct rec x;

	set = slo__parse_string(text, sizeof(text) - 1, "c.yaml", err, sizeof(err));
	if (!set)
		fail_msg("%s", err);
	rec_init(&x);
	x.cache = cacheagg__new(NULL);
	assert_non_null(x.cache);
	x.m.cache = x.cache;
	assert_int_equal(slotrack__init(&st, set), 0);
	x.m.slo = x.slo = &st;
	/* 40 reads, 10 misses: 75 %; and a SET of 3 ms */
	for (int i = 0; i < 40; i++)
		cmd(&x, "GET", "plan:{id}", CACHE_OP_READ, MS, i % 4 != 0, i % 4 == 0);
	cmd(&x, "SET", "plan:{id}", CACHE_OP_WRITE, 3 * MS, 0, 0);
	slotrack__roll(&st, 10);
	slotrack__finish(&st);
	cacheagg__finish(x.cache, 10);
	write_and_load(&x);
	assert_fixed_point(&x);
	has(&x, "\"objective\": \"hit ratio >= 75%\",\n      \"target\": \"cache plan:{id}\",\n"
		"      \"matched\": true,\n      \"source\": \"cache\",\n"
		"      \"per\": \"endpoint\",\n      \"kind\": \"hit_ratio\",\n"
		"      \"target_ratio\": 0.75,\n      \"strict\": false,\n"
		"      \"unit\": \"ratio\",\n      \"observed\": 0.75,\n");
	assert_int_equal(x.r.nslo, 2);
	hit = &x.r.slo[1];
	assert_string_equal(hit->kind, "hit_ratio");
	assert_string_equal(hit->verdict, "pass");
	assert_int_equal(hit->good, 30);
	assert_int_equal(hit->total, 40);
	assert_true(isnan(hit->threshold_ms));
	assert_string_equal(x.r.slo[0].verdict, "breach"); /* the SET took 3 ms */

	/* report --slo: the same verdicts from the cache section */
	x.r.nslo = 0;
	assert_int_equal(runslo__evaluate(&x.r, set, &notes), 0);
	assert_int_equal(x.r.nslo, 2);
	assert_string_equal(x.r.slo[0].objective, "hit ratio >= 75%");
	assert_string_equal(x.r.slo[0].target, "cache plan:{id}");
	assert_string_equal(x.r.slo[0].verdict, "pass");
	assert_int_equal(x.r.slo[0].good, 30);
	assert_int_equal(x.r.slo[0].total, 40);
	assert_false(x.r.slo[0].approximate);
	assert_string_equal(x.r.slo[1].verdict, "breach");
	rec_free(&x);
	slotrack__free(&st);
	slo__free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache_section),
		cmocka_unit_test(test_outbound_and_drops),
		cmocka_unit_test(test_without_cache),
		cmocka_unit_test(test_cache_slo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
