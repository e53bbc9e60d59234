// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "analyze/merge.h"
#include "run/runfile.h"

#define LAT "{\"p50\":1,\"p90\":1,\"p95\":1,\"p99\":1,\"p999\":1,\"max\":1,\"min\":1,\"mean\":1}"

/* A complete report: every section the loader reads, with values the tests check. */
static const char fixture[] =
	"{\"schema\":\"sloprobe.report/v1\","
	"\"tool\":{\"name\":\"sloprobe\",\"version\":\"0.1.0\"},"
	"\"host\":{\"hostname\":\"web1\",\"kernel\":\"6.1.0\"},"
	"\"window\":{\"start\":\"2026-11-30T10:00:00.250Z\",\"end\":\"2026-11-30T10:00:10.250Z\","
	"\"duration_s\":10},"
	"\"command\":{\"argv\":[\"wrk\",\"-d10s\"],\"exit_status\":0},"
	"\"filters\":{\"pids\":[],\"comm\":null,\"cgroup\":null,\"ports\":[8080]},"
	"\"definitions\":{\"quiet_ms\":200,\"latency\":\"first byte to last\"},"
	"\"events\":{\"total\":100,\"dropped\":3,\"ringbuf_full\":2,\"malformed\":1},"
	"\"connections\":{\"tracked\":5,\"peak\":2},"
	"\"http_parser\":{\"requests\":30},"
	"\"bpf\":{\"stats_enabled\":false},"
	"\"http\":[{\"service\":\"app:8080\",\"pids\":[42],\"comm\":\"app\",\"container\":null,"
	"\"port\":8080,\"method\":\"GET\",\"route\":\"/items/{id}\",\"count\":30,"
	"\"rate_per_s\":3,\"status\":{\"200\":28,\"429\":1,\"500\":1},"
	"\"errors\":{\"4xx\":1,\"5xx\":1,\"5xx_ratio\":0.033333},\"aborted\":2,"
	"\"latency_ms\":" LAT ",\"ttfb_ms\":" LAT ","
	"\"histogram\":{\"layout\":\"log-linear-ns-6\",\"unit\":\"ns\",\"count\":30,"
	"\"sum\":1018000000,\"min\":1000000,\"max\":50500000,"
	"\"buckets\":[[999424,1007615,10],[50331648,50855935,20]]},"
	"\"db\":{\"requests\":30,\"queries_per_request\":2,\"queries_per_request_max\":3,"
	"\"db_time_ms_per_request\":1.5,\"attribution\":{\"exact\":30,\"thread\":0,\"shared\":0},"
	"\"top_queries\":[{\"query_id\":\"0123456789abcdef\",\"query\":\"select ?\","
	"\"per_request\":2,\"ms_per_request\":1.5}]}}],"
	"\"db\":[{\"system\":\"postgresql\",\"query_id\":\"0123456789abcdef\",\"query\":\"select "
	"?\","
	"\"truncated\":false,\"count\":60,\"errors\":1,\"rate_per_s\":6,"
	"\"sqlstates\":{\"57014\":1},\"total_ms\":60,\"rows\":60,\"slow\":0,\"client\":\"app\","
	"\"server\":null,\"main_path\":\"wire\",\"latency_ms\":" LAT ","
	"\"paths\":[{\"path\":\"wire\",\"count\":60,\"latency_ms\":" LAT "}],"
	"\"histogram\":{\"layout\":\"log-linear-ns-6\",\"unit\":\"ns\",\"count\":60,"
	"\"sum\":60000000,\"min\":1000000,\"max\":1000000,\"buckets\":[[999424,1007615,60]]}}],"
	"\"db_hotspots\":{\"by_total_time\":[\"0123456789abcdef\"],\"by_p95\":[],\"by_count\":[]},"
	"\"db_flags\":[{\"kind\":\"n_plus_one\",\"query_id\":\"0123456789abcdef\","
	"\"query\":\"select ?\",\"endpoint\":\"GET /items/{id}\",\"evidence\":\"20 in a row\","
	"\"occurrences\":4},{\"kind\":\"no_pooling\",\"query\":null,\"endpoint\":null,"
	"\"evidence\":\"app opened 50 connections\"}],"
	"\"db_stats\":{\"probes\":\"wire\",\"fingerprints\":1,\"fingerprints_dropped\":0},"
	"\"slo\":[{\"name\":\"items\",\"objective\":\"p95 <= 60 ms\","
	"\"target\":\"http GET /items/{id}\",\"kind\":\"latency_percentile\",\"threshold_ms\":60,"
	"\"percentile\":95,\"target_ratio\":0.95,\"observed\":50.594,\"margin\":9.406,\"good\":30,"
	"\"total\":30,\"budget_consumed\":0,\"verdict\":\"pass\",\"first_breach_s\":null}],"
	"\"timeline\":{\"interval_s\":1,\"http\":[{\"service\":\"app:8080\",\"method\":\"GET\","
	"\"route\":\"/items/{id}\",\"points\":["
	"{\"t\":0,\"count\":10,\"rate_per_s\":10,\"p50\":1,\"p95\":50.5,\"p99\":50.5,\"errors\":0,"
	"\"5xx\":0,\"4xx\":0},"
	"{\"t\":1,\"count\":0,\"rate_per_s\":0,\"p50\":null,\"p95\":null,\"p99\":null,"
	"\"errors\":0}]}],\"db\":[]}}";

static char *replace(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	char *out;

	assert_non_null(p);
	out = malloc(strlen(s) - strlen(from) + strlen(to) + 1);
	sprintf(out, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
	return out;
}

/* The count of the bucket holding ns. */
static uint64_t bucket(const struct hist_sparse *h, uint64_t ns)
{
	for (uint32_t i = 0; i < h->n; i++)
		if (h->idx[i] == hist__bucket_of(ns))
			return h->counts[i];
	return 0;
}

static void assert_hist_equal(const struct hist_sparse *a, const struct hist_sparse *b)
{
	assert_int_equal(a->count, b->count);
	assert_int_equal(a->sum, b->sum);
	assert_int_equal(a->min, b->min);
	assert_int_equal(a->max, b->max);
	assert_int_equal(a->n, b->n);
	assert_memory_equal(a->idx, b->idx, a->n * sizeof(*a->idx));
	assert_memory_equal(a->counts, b->counts, a->n * sizeof(*a->counts));
}

/* A sparse histogram holds exactly the dense one's buckets and figures. */
static void assert_hist_is(const struct hist_sparse *s, const struct hist *d)
{
	struct hist *x = malloc(sizeof(*x));

	assert_non_null(x);
	hist__init(x);
	hist__merge_sparse(x, s);
	assert_memory_equal(x->buckets, d->buckets, sizeof(d->buckets));
	assert_int_equal(s->count, d->count);
	assert_int_equal(s->sum, d->sum);
	assert_int_equal(s->min, d->min);
	assert_int_equal(s->max, d->max);
	free(x);
}

static void test_load_fixture(void **state)
{
	struct run r;
	char err[RUNFILE_ERR_MAX];
	const struct run_endpoint *e;
	const struct run_dbq *q;

	assert_int_equal(run__parse(&r, fixture, strlen(fixture), "f.json", err, sizeof(err)), 0);
	assert_string_equal(r.hostname, "web1");
	assert_string_equal(r.tool_version, "0.1.0");
	assert_int_equal(r.start_ms, 1796032800250ll);
	assert_int_equal(r.end_ms - r.start_ms, 10000);
	assert_true(r.has_command);
	assert_int_equal(r.argc, 2);
	assert_string_equal(r.argv[1], "-d10s");
	assert_int_equal(r.nfilter_ports, 1);
	assert_int_equal(r.filter_ports[0], 8080);
	assert_null(r.filter_comm);
	assert_int_equal(r.events_total, 100);
	assert_int_equal(r.events_dropped, 3);
	assert_int_equal(r.events.n, 2);
	assert_int_equal(run__count(&r.events, "ringbuf_full"), 2);
	assert_int_equal(run__count(&r.connections, "peak"), 2);

	assert_int_equal(r.neps, 1);
	e = &r.eps[0];
	assert_string_equal(e->service, "app:8080");
	assert_null(e->container);
	assert_int_equal(e->port, 8080);
	assert_int_equal(e->count, 30);
	assert_int_equal(run__status(e, 200), 28);
	assert_int_equal(run__status(e, 429), 1);
	assert_int_equal(run__status(e, 404), 0);
	assert_int_equal(e->err5xx, 1);
	assert_int_equal(run__count(&e->extra, "aborted"), 2);
	assert_true(e->has_ttfb);
	/* The histogram is rebuilt bucket by bucket: percentiles come out of it again. */
	assert_int_equal(e->hist->count, 30);
	assert_int_equal(e->hist->sum, 1018000000);
	assert_int_equal(e->hist->min, 1000000);
	assert_int_equal(e->hist->max, 50500000);
	assert_int_equal(e->hist->n, 2);
	assert_int_equal(bucket(e->hist, 1000000), 10);
	assert_int_equal(bucket(e->hist, 50500000), 20);
	assert_int_equal(hist_sparse__percentile(e->hist, 30), 1003519);
	assert_int_equal(hist_sparse__percentile(e->hist, 95), 50500000); /* clamped to max */
	assert_true(e->has_db);
	assert_int_equal(e->db.requests, 30);
	assert_true(e->db.queries_per_request == 2);
	assert_int_equal(e->db.ntop, 1);
	assert_string_equal(e->db.top[0].query, "select ?");

	assert_true(r.has_db);
	assert_int_equal(r.ndbqs, 1);
	q = &r.dbqs[0];
	assert_int_equal(q->count, 60);
	assert_int_equal(run__count(&q->sqlstates, "57014"), 1);
	assert_true(q->has_rows);
	assert_int_equal(q->rows, 60);
	assert_null(q->server);
	assert_int_equal(q->npaths, 1);
	assert_ptr_equal(run__find_query(&r, "0123456789abcdef"), q);
	assert_int_equal(r.hot_total.n, 1);
	assert_int_equal(r.nflags, 2);
	assert_int_equal(r.flags[0].occurrences, 4);
	assert_int_equal(r.flags[1].occurrences, 1); /* absent: one */
	assert_null(r.flags[1].query_id);
	assert_string_equal(r.db_probes, "wire");
	assert_int_equal(run__count(&r.db_stats, "fingerprints"), 1);

	assert_true(r.has_slo);
	assert_int_equal(r.nslo, 1);
	assert_string_equal(r.slo[0].verdict, "pass");
	assert_string_equal(r.slo[0].unit, "ms");
	assert_true(r.slo[0].has_counts);
	assert_int_equal(r.slo[0].good, 30);
	assert_true(isnan(r.slo[0].first_breach_s));
	assert_true(r.slo[0].observed == 50.594);

	assert_true(r.has_timeline);
	assert_int_equal(r.timeline.nhttp, 1);
	assert_int_equal(r.timeline.http[0].n, 2);
	assert_true(r.timeline.http[0].p[0].p95 == 50.5);
	assert_true(isnan(r.timeline.http[0].p[1].p95));
	assert_int_equal(r.timeline.ndb, 0);
	run__free(&r);
}

/* Parse the fixture with one substitution; the error must be exactly want (NULL: none). */
/* base with from replaced by to is refused with the message want (NULL: loads). */
static void expect_error_in(const char *base, const char *from, const char *to, const char *want)
{
	char *s = replace(base, from, to), err[RUNFILE_ERR_MAX];
	struct run r;

	if (!want) {
		assert_int_equal(run__parse(&r, s, strlen(s), "f.json", err, sizeof(err)), 0);
		run__free(&r);
		free(s);
		return;
	}
	if (run__parse(&r, s, strlen(s), "f.json", err, sizeof(err)) != -22) {
		run__free(&r);
		fail_msg("%s -> %s: no error, expected %s", from, to, want);
	}
	assert_string_equal(err, want);
	free(s);
}

static void expect_error(const char *from, const char *to, const char *want)
{
	expect_error_in(fixture, from, to, want);
}

/*
 * A run is judged on incomplete data past the --max-drop-pct it was recorded with, kept in
 * slo_summary; without one, past the default 0.1 %. The fixture lost 3 of 100 events.
 */
static void test_incomplete_uses_the_recorded_drop_limit(void **state)
{
	static const struct {
		const char *summary;
		bool incomplete;
	} cases[] = {
		{ "", true },
		{ "\"slo_summary\":{\"max_drop_pct\":5},", false },
		{ "\"slo_summary\":{\"max_drop_pct\":3},", false }, /* at the limit: not beyond */
		{ "\"slo_summary\":{\"max_drop_pct\":2.9},", true },
		{ "\"slo_summary\":{\"max_drop_pct\":null},", true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char to[128], err[RUNFILE_ERR_MAX], *s;
		struct run r;

		snprintf(to, sizeof(to), "%s\"events\":", cases[i].summary);
		s = replace(fixture, "\"events\":", to);
		assert_int_equal(run__parse(&r, s, strlen(s), "f.json", err, sizeof(err)), 0);
		if (run__incomplete(&r) != cases[i].incomplete)
			fail_msg("%s: incomplete %d", cases[i].summary, !cases[i].incomplete);
		run__free(&r);
		free(s);
	}
}

static void expect_raw_error(const char *s, const char *want)
{
	char err[RUNFILE_ERR_MAX];
	struct run r;

	assert_int_equal(run__parse(&r, s, strlen(s), "f.json", err, sizeof(err)), -22);
	assert_string_equal(err, want);
}

static void test_malformed_json(void **state)
{
	expect_raw_error("", "empty file");
	expect_raw_error("{\"schema\":", "malformed JSON: unexpected end of file");
	expect_raw_error("{\n  \"a\" 1}",
			 "malformed JSON at line 2, column 7: object property name separator ':' "
			 "expected");
	expect_raw_error("{\"schema\":\"sloprobe.report/v1\",}",
			 "malformed JSON at line 1, column 32: unexpected character");
	expect_raw_error("\"\xff\"", "malformed JSON at line 1, column 2: invalid utf-8 string");
	expect_raw_error("[1]", "not a sloprobe report: the top level is an array");
	expect_raw_error("{}", "not a sloprobe report: no \"schema\"");
	expect_raw_error("{\"schema\":2}", "schema: must be a string");
	expect_raw_error("{\"schema\":\"k6/v1\"}", "not a sloprobe report (schema 'k6/v1')");
	/* Valid JSON the recorder does not write is still JSON: no false alarm. */
	expect_error("{\"quiet_ms\":200,\"latency\":\"first byte to last\"}",
		     "{\"s\":\"\\\"\\\\\\/"
		     "\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\xc3\xa9\xf4\x8f\xbf\xbf\","
		     "\"n\":[-0,0,-0.5e-3,1E+2,1e5,0.25,-9223372036854775808,"
		     "18446744073709551615],\"e\":[{},[],[[]],{\"\":null}],\"b\":[true,false]}",
		     NULL);
	expect_raw_error("[NaN]", "malformed JSON at line 1, column 2: unexpected character");
	expect_raw_error("[-01]",
			 "malformed JSON at line 1, column 4: array value separator ',' expected");
	expect_raw_error("[1.]", "malformed JSON at line 1, column 4: unexpected character");
	expect_raw_error("[\"a\tb\"]",
			 "malformed JSON at line 1, column 4: control character in a string");
	expect_raw_error("[\"\xed\xa0\x80\"]",
			 "malformed JSON at line 1, column 3: invalid utf-8 string");
	expect_raw_error("[\"\xc0\xaf\"]",
			 "malformed JSON at line 1, column 3: invalid utf-8 string");
	expect_raw_error("null", "not a sloprobe report: the top level is null");
	expect_raw_error(" 42\n", "not a sloprobe report: the top level is a number");
	expect_raw_error("  ", "malformed JSON: unexpected end of file");
	/* NUL bytes never reach json-c */
	{
		char err[RUNFILE_ERR_MAX];
		struct run r;

		assert_int_equal(run__parse(&r, "{}\0x", 4, "f", err, sizeof(err)), -22);
		assert_string_equal(err, "malformed JSON: NUL byte");
	}
}

static void test_unknown_schema_and_layout(void **state)
{
	expect_error("sloprobe.report/v1", "sloprobe.report/v2",
		     "unknown schema version 'sloprobe.report/v2' (this sloprobe reads "
		     "sloprobe.report/v1)");
	expect_error("\"layout\":\"log-linear-ns-6\"", "\"layout\":\"log-linear-ns-7\"",
		     "http[0].histogram.layout: unknown histogram layout 'log-linear-ns-7' (this "
		     "sloprobe reads log-linear-ns-6)");
	expect_error("\"unit\":\"ns\"", "\"unit\":\"us\"",
		     "http[0].histogram.unit: unknown unit 'us' (want ns)");
}

static void test_bad_fields(void **state)
{
	expect_error("\"count\":30,", "\"count\":\"30\",", "http[0].count: must be an integer");
	expect_error("\"count\":30,", "\"count\":-30,", "http[0].count: must not be negative");
	expect_error("\"count\":30,", "\"count\":31,",
		     "http[0].count: 31, but the histogram holds 30");
	expect_error("\"route\":\"/items/{id}\",", "", "http[0].route: missing");
	expect_error("\"method\":\"GET\"", "\"method\":\"\"", "http[0].method: must not be empty");
	expect_error("\"hostname\":\"web1\"", "\"hostname\":null",
		     "host.hostname: must be a string, not null");
	expect_error("\"start\":\"2026-11-30T10:00:00.250Z\"", "\"start\":\"yesterday\"",
		     "window.start: 'yesterday' is not a UTC ISO 8601 time");
	expect_error("\"end\":\"2026-11-30T10:00:10.250Z\"", "\"end\":\"2026-11-30T09:00:00Z\"",
		     "window.end: before start");
	expect_error("\"200\":28", "\"2000\":28", "http[0].status: unexpected key '2000'");
	expect_error("[999424,1007615,10]", "[999424,1007616,10]",
		     "http[0].histogram.buckets[0]: [999424, 1007616] is not a bucket of layout "
		     "log-linear-ns-6");
	expect_error("[999424,1007615,10]", "[999424,1007615]",
		     "http[0].histogram.buckets[0]: must be [lo_ns, hi_ns, count]");
	expect_error("[999424,1007615,10]", "[999424,1007615,0]",
		     "http[0].histogram.buckets[0]: empty bucket");
	expect_error("[[999424,1007615,10],[50331648,50855935,20]]",
		     "[[50331648,50855935,20],[999424,1007615,10]]",
		     "http[0].histogram.buckets[1]: buckets must be in ascending order");
	expect_error("\"count\":30,\"sum\"", "\"count\":29,\"sum\"",
		     "http[0].histogram.count: 29, but the buckets hold 30");
	expect_error("\"min\":1000000,\"max\":50500000", "\"min\":900000,\"max\":50500000",
		     "http[0].histogram.min: 900000 is outside the first bucket");
	expect_error("\"query_id\":\"0123456789abcdef\",\"query\":\"select ?\",\"truncated\"",
		     "\"query_id\":\"0123456789ABCDEF\",\"query\":\"select ?\",\"truncated\"",
		     "db[0].query_id: '0123456789ABCDEF' is not a 16-digit hex query id");
	expect_error("\"verdict\":\"pass\"", "\"verdict\":\"ok\"",
		     "slo[0].verdict: 'ok' is none of pass, breach, insufficient_data");
	expect_error("{\"t\":1,",
		     "{\"t\":0.5,\"x\":1,\"t2\":1,\"count\":0,\"rate_per_s\":0},{\"t\":0.25,",
		     "timeline.http[0].points[2].t: goes back in time");
	expect_error("\"interval_s\":1", "\"interval_s\":0",
		     "timeline.interval_s: must be positive");
	expect_error("\"kind\":\"n_plus_one\"", "\"kind\":7", "db_flags[0].kind: must be a string");
}

/*
 * Numbers no recording produces together: json-c clamped a sum of 2^64 + 5 to 2^64 - 1, which
 * was loaded, and merge printed the mean of that.
 */
static void test_inconsistent(void **state)
{
	expect_error("\"sum\":1018000000", "\"sum\":18446744073709551621",
		     "http[0].histogram.sum: 18446744073709551621 is out of range (at most "
		     "18446744073709551615)");
	expect_error("\"sum\":1018000000", "\"sum\":1844674407370955161500",
		     "http[0].histogram.sum: 1844674407370955161500 is out of range (at most "
		     "18446744073709551615)");
	expect_error("\"port\":8080", "\"port\":-9223372036854775809",
		     "http[0].port: -9223372036854775809 is out of range (at least "
		     "-9223372036854775808)");
	expect_error("{\"t\":0,\"count\":10,", "{\"t\":0,\"count\":100000000000000000000,",
		     "timeline.http[0].points[0].count: 100000000000000000000 is out of range (at "
		     "most 18446744073709551615)");
	/* 10 values in [1000000, 1007615] and 20 in [50331648, 50500000] */
	expect_error("\"sum\":1018000000", "\"sum\":1020076151",
		     "http[0].histogram.sum: 1020076151 exceeds what the buckets and max allow "
		     "(1020076150)");
	expect_error("\"sum\":1018000000", "\"sum\":1016632959",
		     "http[0].histogram.sum: 1016632959 is less than the buckets and min allow "
		     "(1016632960)");
	expect_error("\"sum\":60000000,\"min\":1000000,\"max\":1000000",
		     "\"sum\":60000000,\"min\":1000001,\"max\":1000000",
		     "db[0].histogram.min: 1000001 is above max (1000000)");
	expect_error("\"200\":28", "\"200\":29", "http[0].status: adds up to 31, but count is 30");
	expect_error("\"4xx\":1", "\"4xx\":0",
		     "http[0].errors.4xx: 0, but status has 1 4xx responses (and 0 other)");
	expect_error("\"5xx\":1,\"5xx_ratio\"", "\"5xx\":2,\"5xx_ratio\"",
		     "http[0].errors.5xx: 2, but status has 1 5xx responses (and 0 other)");
	/* Codes without a slot of their own: other is 4xx or 5xx, not both. */
	expect_error("\"200\":28,\"429\":1,\"500\":1}", "\"200\":29,\"other\":1}",
		     "http[0].errors: 4xx and 5xx count 2 responses of status \"other\", which has "
		     "1");
	expect_error("\"200\":28,\"429\":1,\"500\":1},\"errors\":{\"4xx\":1,\"5xx\":1",
		     "\"200\":27,\"other\":3},\"errors\":{\"4xx\":1,\"5xx\":1", NULL);
	expect_error("\"shared\":0}", "\"shared\":1}",
		     "http[0].db.attribution: 31 requests, but requests is 30");
	expect_error("\"queries_per_request_max\":3", "\"queries_per_request_max\":1.5",
		     "http[0].db.queries_per_request: 2 is above queries_per_request_max (1.5)");
	expect_error("\"p99\":1,\"p999\":1", "\"p99\":1,\"p999\":0.5",
		     "http[0].latency_ms.p999: 0.5 is below p99 (1)");
	expect_error("\"max\":1,\"min\":1,\"mean\":1", "\"max\":1,\"min\":1.5,\"mean\":1",
		     "http[0].latency_ms.min: 1.5 is above p50 (1)");
	expect_error("\"errors\":1,\"rate_per_s\":6", "\"errors\":61,\"rate_per_s\":6",
		     "db[0].errors: 61, but count is 60");
	expect_error("\"slow\":0", "\"slow\":61", "db[0].slow: 61, but count is 60");
	expect_error("{\"57014\":1}", "{\"57014\":1,\"40001\":1}",
		     "db[0].sqlstates: add up to 2, but errors is 1");
	expect_error("\"good\":30", "\"good\":31", "slo[0].good: 31, but total is 30");
	expect_error("\"good\":30", "\"good\":30,\"judged\":29",
		     "slo[0].good: 30, but judged is 29");
	expect_error("\"p50\":1,\"p95\":50.5", "\"p50\":60,\"p95\":50.5",
		     "timeline.http[0].points[0].p95: 50.5 is below p50 (60)");
	expect_error("\"errors\":0,\"5xx\":0,\"4xx\":0}", "\"errors\":0,\"5xx\":6,\"4xx\":5}",
		     "timeline.http[0].points[0]: 4xx and 5xx add up to 11, but count is 10");
	/* json-c keeps the last of two, silently */
	expect_error("\"bpf\":{\"stats_enabled\":false},",
		     "\"bpf\":{\"stats_enabled\":false},\"host\":{},", "host: given twice");
	expect_error("\"interval_s\":1,", "\"interval_s\":1,\"interval_s\":2,",
		     "timeline.interval_s: given twice");
}

#define CACHE_EP                                                                                   \
	"\"ms_per_request\":1.5}]},\"cache\":{\"requests\":30,\"requests_with_calls\":20,"         \
	"\"calls_per_request\":2,\"max_calls\":3,\"ms_per_request\":0.5,\"errors\":0,\"hits\":40," \
	"\"misses\":10,\"hit_ratio\":0.8,\"repeat_requests\":1},\"outbound\":{\"requests\":30,"    \
	"\"requests_with_calls\":3,\"calls_per_request\":0.1,\"max_calls\":1,\"ms_per_request\":"  \
	"5,"                                                                                       \
	"\"errors\":1}}],"
#define CACHE                                                                                      \
	"\"cache\":{\"system\":\"redis\",\"commands\":10,\"errors\":1,\"hits\":6,\"misses\":2,"    \
	"\"hit_ratio\":0.75,\"rows\":[{\"id\":\"00000000000000aa\",\"client\":\"app:8080\","       \
	"\"server\":\"127.0.0.1:6379\",\"command\":\"GET\",\"pattern\":\"u:{id}\",\"count\":10,"   \
	"\"rate_per_s\":1,\"errors\":1,\"errors_by_word\":{\"ERR\":1},\"reads\":8,\"hits\":6,"     \
	"\"misses\":2,\"hit_ratio\":0.75,\"writes\":0,\"writes_without_ttl\":0,\"whole_reads\":1," \
	"\"whole_reads_big\":0,\"max_elements\":5,\"total_ms\":10,\"latency_ms\":" LAT ","         \
	"\"flags\":[],\"histogram\":{\"layout\":\"log-linear-ns-6\",\"unit\":\"ns\",\"count\":10," \
	"\"sum\":10000000,\"min\":1000000,\"max\":1000000,\"buckets\":[[999424,1007615,10]]}}],"   \
	"\"clients\":[{\"client\":\"app:8080\",\"server\":\"127.0.0.1:6379\",\"opened\":2,"        \
	"\"closed\":0,\"live\":2,\"peak\":2,\"commands\":10}],\"flags\":[{\"kind\":\"scan_all\","  \
	"\"id\":\"00000000000000aa\",\"command\":\"GET\",\"pattern\":\"u:{id}\",\"endpoint\":"     \
	"null,"                                                                                    \
	"\"evidence\":\"e\",\"occurrences\":1}],\"timeline\":{\"interval_s\":1,\"points\":[{"      \
	"\"t\":1,"                                                                                 \
	"\"count\":10,\"rate_per_s\":10,\"p50\":1,\"p95\":1,\"p99\":1,\"errors\":1,\"hits\":6,"    \
	"\"misses\":2}]},\"drops\":{\"commands\":0}},"

/* The cache section and an endpoint's cache and outbound objects: loaded, and checked. */
static void test_cache(void **state)
{
	char *a = replace(fixture, "\"ms_per_request\":1.5}]}}],", CACHE_EP);
	char *b = replace(a, "\"slo\":[", CACHE "\"slo\":["), err[RUNFILE_ERR_MAX];
	const struct run_ep_dep *d;
	struct run r;

	if (run__parse(&r, b, strlen(b), "c.json", err, sizeof(err)))
		fail_msg("%s", err);
	assert_true(r.has_cache);
	assert_string_equal(r.cache.system, "redis");
	assert_int_equal(r.cache.nrows, 1);
	assert_string_equal(r.cache.rows[0].verb, "GET");
	assert_int_equal(r.cache.rows[0].max_elements, 5);
	assert_null(r.cache.rows[0].raw_key);
	assert_int_equal(r.cache.rows[0].errs.n, 1);
	assert_int_equal(r.cache.nclients, 1);
	assert_int_equal(r.cache.nflags, 1);
	assert_null(r.cache.flags[0].endpoint);
	assert_int_equal(r.cache.npoints, 1);
	assert_int_equal(run__count(&r.cache.drops, "commands"), 0);
	assert_true(run__cache_hit_ratio(&r, NULL, NULL) == 0.75);
	d = &r.eps[0].dep[RUN_DEP_CACHE];
	assert_true(r.eps[0].has_dep[RUN_DEP_CACHE] && r.eps[0].has_dep[RUN_DEP_OUTBOUND]);
	assert_int_equal(d->with, 20);
	assert_true(d->hit_ratio == 0.8 && d->hits == 40 && d->repeat == 1);
	assert_true(isnan(r.eps[0].dep[RUN_DEP_OUTBOUND].hit_ratio));
	assert_true(r.eps[0].dep[RUN_DEP_OUTBOUND].ms_per_request == 5);
	run__free(&r);

	expect_error_in(b, "\"commands\":10,", "\"commands\":11,",
			"cache.commands: 11, but the rows add up to 10");
	expect_error_in(b, "\"system\":\"redis\",", "", "cache.system: missing");
	expect_error_in(b, "\"rate_per_s\":1,\"errors\":1,", "\"rate_per_s\":1,\"errors\":11,",
			"cache.rows[0].errors: 11, but count is 10");
	expect_error_in(b, "{\"ERR\":1}", "{\"ERR\":2}",
			"cache.rows[0].errors_by_word: add up to more than errors (1)");
	expect_error_in(b, "{\"ERR\":1}", "{\"err\":1}",
			"cache.rows[0].errors_by_word: unexpected key 'err'");
	expect_error_in(b, "\"misses\":2,\"hit_ratio\":0.75,\"writes\"",
			"\"misses\":2,\"hit_ratio\":0.5,\"writes\"",
			"cache.rows[0].hit_ratio: 0.5, but hits and misses give 0.7500");
	expect_error_in(b, "\"whole_reads_big\":0", "\"whole_reads_big\":2",
			"cache.rows[0].whole_reads_big: 2, but whole_reads is 1");
	expect_error_in(b, "\"writes_without_ttl\":0", "\"writes_without_ttl\":1",
			"cache.rows[0].writes_without_ttl: 1, but writes is 0");
	expect_error_in(b, "\"count\":10,\"rate_per_s\":1,", "\"count\":9,\"rate_per_s\":1,",
			"cache.rows[0].count: 9, but the histogram holds 10");
	expect_error_in(b, "\"00000000000000aa\",\"client", "\"xyz\",\"client",
			"cache.rows[0].id: 'xyz' is not a 16-digit hex query id");
	expect_error_in(b, "\"command\":\"GET\",\"pattern\":\"u:{id}\",\"count",
			"\"command\":\"\",\"pattern\":\"u:{id}\",\"count",
			"cache.rows[0].command: must not be empty");
	expect_error_in(b, "\"max_elements\":5", "\"max_elements\":-1",
			"cache.rows[0].max_elements: must not be negative");
	expect_error_in(b, "\"flags\":[],", "\"flags\":[\"X\"],",
			"cache.rows[0].flags[0]: must be a flag kind (lower case)");
	expect_error_in(b, "\"live\":2", "\"live\":3", "cache.clients[0].live: 3, but peak is 2");
	expect_error_in(b, "\"live\":2,\"peak\":2", "\"live\":2,\"peak\":3",
			"cache.clients[0].peak: 3, but opened is 2");
	expect_error_in(b, "\"kind\":\"scan_all\"", "\"kind\":\"Scan\"",
			"cache.flags[0].kind: must be a flag kind (lower case)");
	expect_error_in(b, "\"evidence\":\"e\",", "", "cache.flags[0].evidence: missing");
	expect_error_in(b, "\"interval_s\":1,\"points\"", "\"interval_s\":0,\"points\"",
			"cache.timeline.interval_s: must be positive");
	expect_error_in(b, "\"errors\":1,\"hits\":6,\"misses\":2}]",
			"\"errors\":11,\"hits\":6,\"misses\":2}]",
			"cache.timeline.points[0].errors: 11, but count is 10");
	expect_error_in(b, "\"drops\":{\"commands\":0}", "\"drops\":{\"commands\":0},\"drops\":{}",
			"cache.drops: given twice");
	/* Members the loader does not know are skipped, as at the top level. */
	expect_error_in(b, "\"drops\":{", "\"future\":[1],\"drops\":{", NULL);
	expect_error_in(b, "\"requests_with_calls\":20", "\"requests_with_calls\":31",
			"http[0].cache.requests_with_calls: 31, but requests is 30");
	expect_error_in(b, "\"repeat_requests\":1", "\"repeat_requests\":31",
			"http[0].cache.repeat_requests: 31, but requests is 30");
	expect_error_in(b, "\"calls_per_request\":2,", "\"calls_per_request\":4,",
			"http[0].cache.calls_per_request: 4 is above max_calls (3)");
	expect_error_in(b, "\"hit_ratio\":0.8,", "\"hit_ratio\":1.5,",
			"http[0].cache.hit_ratio: 1.5 is above 1");
	expect_error_in(b, "\"hit_ratio\":0.8,", "", "http[0].cache.hit_ratio: missing");
	expect_error_in(b, "\"ms_per_request\":5,\"errors\":1", "\"ms_per_request\":5",
			"http[0].outbound.errors: missing");
	/* "cache": null is no section */
	expect_error_in(a, "\"slo\":[", "\"cache\":null,\"slo\":[", NULL);
	free(a);
	free(b);
}

/* s written to a temporary file and loaded from it, in blocks. */
static int load_file(struct run *r, const char *s, size_t len, char *err)
{
	char path[] = "/tmp/test_runfile.XXXXXX";
	int fd = mkstemp(path);
	int ret;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, len), (ssize_t)len);
	close(fd);
	ret = run__load(r, path, err, RUNFILE_ERR_MAX);
	unlink(path);
	return ret;
}

/*
 * A file is read in 1 MiB blocks, a member or row at a time: the same report whether values
 * straddle blocks or outgrow them, errors at the same place as from memory.
 */
static void test_load_file(void **state)
{
	size_t big = 3 << 20, n;
	char *blob = malloc(big + 1), *s, *a = NULL, *b = NULL, err[RUNFILE_ERR_MAX], want[128];
	size_t na = 0, nb = 0, p;
	struct run r, m;
	FILE *f;

	assert_non_null(blob);
	/* A 3 MiB member (one piece larger than the window), then rows after it. */
	memset(blob, 'x', big);
	memcpy(blob, "{\"blob\":\"", 9);
	memcpy(blob + big - 2, "\"}", 2);
	blob[big] = '\0';
	s = replace(fixture, "{\"quiet_ms\":200,\"latency\":\"first byte to last\"}", blob);
	assert_int_equal(load_file(&r, s, strlen(s), err), 0);
	assert_int_equal(run__parse(&m, s, strlen(s), "f", err, sizeof(err)), 0);
	f = open_memstream(&a, &na);
	assert_int_equal(run__write(f, &r), 0);
	fclose(f);
	f = open_memstream(&b, &nb);
	assert_int_equal(run__write(f, &m), 0);
	fclose(f);
	assert_true(na > big);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na);
	run__free(&r);
	run__free(&m);
	free(a);
	free(b);
	free(s);

	/*
	 * On line 3, a 4-byte UTF-8 sequence across the first block's end, then an overlong one:
	 * refused where it starts, as from memory. Then an integer across the end.
	 */
	p = strstr(fixture, "{\"quiet_ms\"") - fixture;
	n = (1 << 20) - 2 - strlen("\"a\\u00e9") - p;
	memset(blob, ' ', n);
	blob[0] = '\n';
	blob[1] = '\n';
	strcpy(blob + n, "\"a\\u00e9\xf0\x9f\x98\x80\xe0\x80\x80\"");
	snprintf(want, sizeof(want), "malformed JSON at line 3, column %zu: invalid utf-8 string",
		 n - 2 + 1 + strlen("\"a\\u00e9\xf0\x9f\x98\x80"));
	s = replace(fixture, "{\"quiet_ms\":200,\"latency\":\"first byte to last\"}", blob);
	assert_int_equal(load_file(&r, s, strlen(s), err), -EINVAL);
	assert_string_equal(err, want);
	assert_int_equal(run__parse(&r, s, strlen(s), "f", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, want);
	free(s);
	strcpy(blob + n, "{\"n\":[1,99999999999999999999999999999999999999]}");
	s = replace(fixture, "{\"quiet_ms\":200,\"latency\":\"first byte to last\"}", blob);
	assert_int_equal(load_file(&r, s, strlen(s), err), -EINVAL);
	assert_string_equal(err,
			    "definitions.n[1]: 999999999999999999999999... is out of range (at "
			    "most 18446744073709551615)");
	free(s);
	/* Cut inside a UTF-8 sequence: the end of the file, not a bad byte. */
	s = replace(fixture, "{\"quiet_ms\":200,\"latency\":\"first byte to last\"}", blob);
	strcpy(strstr(s, "{\"n\""), "\"\xf0\x9f");
	assert_int_equal(load_file(&r, s, strlen(s), err), -EINVAL);
	assert_string_equal(err, "malformed JSON: unexpected end of file");
	free(s);
	free(blob);

	assert_int_equal(run__load(&r, "/nonexistent.json", err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "No such file or directory");
	assert_int_equal(run__load(&r, "/tmp", err, sizeof(err)), -EISDIR);
}

/* db_stats of the libpq and usdt paths hold an object each: read, merged and written back. */
static void test_db_stats_groups(void **state)
{
	char *s = replace(fixture, "\"fingerprints\":1,\"fingerprints_dropped\":0}",
			  "\"fingerprints\":1,\"libpq\":{\"queries\":3,\"ringbuf_full\":1},"
			  "\"fingerprints_dropped\":0,\"usdt\":{\"queries\":2}}");
	char err[RUNFILE_ERR_MAX], *a = NULL;
	struct run r, m, back;
	const struct run *in[2] = { &r, &r };
	struct merge_notes notes;
	size_t na = 0;
	FILE *f;

	assert_int_equal(run__parse(&r, s, strlen(s), "f", err, sizeof(err)), 0);
	assert_int_equal(run__count(&r.db_stats, "libpq.queries"), 3);
	assert_int_equal(run__count(&r.db_stats, "usdt.queries"), 2);
	assert_int_equal(run__count(&r.db_stats, "fingerprints_dropped"), 0);
	assert_int_equal(merge__runs(&m, in, 2, &notes, err, sizeof(err)), 0);
	f = open_memstream(&a, &na);
	assert_int_equal(run__write(f, &m), 0);
	fclose(f);
	assert_non_null(
		strstr(a, "\"libpq\": {\n      \"queries\": 6,\n      \"ringbuf_full\": 2\n"));
	assert_int_equal(run__parse(&back, a, na, "m", err, sizeof(err)), 0);
	assert_int_equal(run__count(&back.db_stats, "usdt.queries"), 4);
	run__free(&back);
	run__free(&m);
	run__free(&r);
	free(a);
	free(s);
	expect_error("\"fingerprints\":1,", "\"fingerprints\":1,\"libpq\":{\"queries\":-1},",
		     "db_stats.libpq.queries: must not be negative");
}

/* Write a loaded report back and read it again: same model, same bytes the second time. */
static void test_write_roundtrip(void **state)
{
	char err[RUNFILE_ERR_MAX], *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	struct run r, s, t;
	FILE *f;

	assert_int_equal(run__parse(&r, fixture, strlen(fixture), "f", err, sizeof(err)), 0);
	f = open_memstream(&a, &na);
	assert_int_equal(run__write(f, &r), 0);
	fclose(f);
	assert_int_equal(run__parse(&s, a, na, "a", err, sizeof(err)), 0);
	assert_int_equal(s.neps, 1);
	assert_hist_equal(s.eps[0].hist, r.eps[0].hist);
	assert_hist_equal(s.dbqs[0].hist, r.dbqs[0].hist);
	assert_int_equal(run__status(&s.eps[0], 500), 1);
	assert_int_equal(s.nflags, 2);
	/* The timeline and SLO verdicts are written too: record and merge share this writer. */
	assert_true(s.has_timeline);
	assert_int_equal(s.timeline.http[0].n, 2);
	assert_true(s.timeline.http[0].p[0].p95 == 50.5);
	assert_true(isnan(s.timeline.http[0].p[1].p95));
	assert_int_equal(s.nslo, 1);
	assert_string_equal(s.slo[0].verdict, "pass");
	assert_true(s.slo[0].observed == 50.594);
	f = open_memstream(&b, &nb);
	assert_int_equal(run__write(f, &s), 0);
	fclose(f);
	assert_int_equal(run__parse(&t, b, nb, "b", err, sizeof(err)), 0);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na);
	run__free(&r);
	run__free(&s);
	run__free(&t);
	free(a);
	free(b);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng_next(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

/* Latencies from 100 us to ~1 s, log-uniform. */
static uint64_t gen(void)
{
	double u = (double)(rng_next() >> 11) / (double)(1ull << 53);

	return (uint64_t)(1e5 * pow(1e4, u));
}

/* A one-endpoint, one-query run holding values v, serialized and loaded like a real file. */
static void make_run(struct run *out, const char *host, int64_t start_ms, double dur,
		     const uint64_t *v, size_t n, unsigned pid, uint64_t errors)
{
	char err[RUNFILE_ERR_MAX], *buf = NULL, t[40];
	struct run r;
	struct run_endpoint *e;
	struct run_dbq *q;
	struct hist *h;
	size_t len = 0;
	FILE *f;

	assert_int_equal(run__init(&r), 0);
	r.tool_version = "0.1.0";
	r.hostname = host;
	r.kernel = "6.1";
	run__format_time(start_ms, t, sizeof(t));
	r.start = run__strdup(&r, t);
	run__format_time(start_ms + (int64_t)(dur * 1000), t, sizeof(t));
	r.end = run__strdup(&r, t);
	r.duration_s = dur;
	r.events_total = n * 4;
	r.events_dropped = 1;
	r.has_db = true;
	r.neps = 1;
	r.eps = e = run__alloc(&r, sizeof(*e));
	e->service = "app:8080";
	e->comm = "app";
	e->port = 8080;
	e->method = "GET";
	e->route = "/items/{id}";
	e->pids = run__alloc(&r, sizeof(*e->pids));
	e->pids[0] = pid;
	e->npids = 1;
	e->count = n;
	e->rate_per_s = n / dur;
	e->status.v = run__alloc(&r, 2 * sizeof(*e->status.v));
	e->status.v[0] = (struct run_count){ "200", n - errors };
	e->status.v[1] = (struct run_count){ "500", errors };
	e->status.n = errors ? 2 : 1;
	e->err5xx = errors;
	h = malloc(sizeof(*h));
	assert_non_null(h);
	hist__init(h);
	for (size_t i = 0; i < n; i++)
		hist__add(h, v[i]);
	e->hist = run__hist(&r, h);
	free(h);
	assert_non_null(e->hist);
	r.ndbqs = 1;
	r.dbqs = q = run__alloc(&r, sizeof(*q));
	q->system = "postgresql";
	q->query_id = "00000000000000aa";
	q->query = "select ?";
	q->count = n;
	q->hist = e->hist;
	q->main_path = "wire";
	f = open_memstream(&buf, &len);
	assert_int_equal(run__write(f, &r), 0);
	fclose(f);
	run__free(&r);
	assert_int_equal(run__parse(out, buf, len, host, err, sizeof(err)), 0);
	free(buf);
}

static void test_merge_equals_union(void **state)
{
	enum { N = 20000 };
	static const double qs[] = { 1, 25, 50, 90, 95, 99, 99.9, 100 };
	uint64_t *v = malloc(N * sizeof(*v));
	struct hist *u = malloc(sizeof(*u));
	struct run a, b, m, back;
	const struct run *in[2] = { &a, &b };
	struct merge_notes notes;
	char err[RUNFILE_ERR_MAX], *buf = NULL;
	size_t len = 0;
	FILE *f;

	hist__init(u);
	for (int i = 0; i < N; i++) {
		v[i] = gen();
		hist__add(u, v[i]);
	}
	/* Two hosts, the same 10 s: the first half on one, the second on the other. */
	make_run(&a, "web1", 1796032800000ll, 10, v, N / 2, 100, 3);
	make_run(&b, "web2", 1796032800000ll, 10, v + N / 2, N - N / 2, 200, 5);
	assert_int_equal(merge__runs(&m, in, 2, &notes, err, sizeof(err)), 0);
	assert_int_equal(m.neps, 1);
	assert_hist_is(m.eps[0].hist, u);
	assert_int_equal(m.eps[0].hist->count, N);
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		assert_int_equal(hist_sparse__percentile(m.eps[0].hist, qs[i]),
				 hist__percentile(u, qs[i]));
	assert_int_equal(m.eps[0].count, N);
	assert_int_equal(run__status(&m.eps[0], 500), 8);
	assert_int_equal(run__status(&m.eps[0], 200), N - 8);
	assert_int_equal(m.eps[0].err5xx, 8);
	assert_int_equal(m.eps[0].npids, 2);
	assert_int_equal(m.eps[0].pids[1], 200);
	assert_string_equal(m.hostname, "web1,web2");
	assert_true(m.duration_s == 10); /* concurrent windows: covered once */
	assert_true(m.eps[0].rate_per_s == N / 10.0);
	assert_int_equal(m.events_dropped, 2);
	assert_int_equal(m.ndbqs, 1);
	assert_int_equal(m.dbqs[0].count, N);
	assert_hist_is(m.dbqs[0].hist, u);
	assert_int_equal(m.nsources, 2);

	/* The merged report reads back with the same histogram. */
	f = open_memstream(&buf, &len);
	assert_int_equal(run__write(f, &m), 0);
	fclose(f);
	assert_int_equal(run__parse(&back, buf, len, "m", err, sizeof(err)), 0);
	assert_hist_equal(back.eps[0].hist, m.eps[0].hist);
	run__free(&back);
	free(buf);
	run__free(&m);
	run__free(&a);
	run__free(&b);
	free(u);
	free(v);
}

static void test_merge_windows(void **state)
{
	uint64_t v[30];
	struct run a, b, c;
	const struct run *in[3] = { &a, &b, &c };

	for (int i = 0; i < 30; i++)
		v[i] = 1000000 + i;
	make_run(&a, "h", 1796032800000ll, 10, v, 30, 1, 0);
	make_run(&b, "h", 1796032805000ll, 10, v, 30, 1, 0);  /* overlaps a by 5 s */
	make_run(&c, "h", 1796036400000ll, 2.5, v, 30, 1, 0); /* an hour later */
	assert_true(merge__covered_s(in, 1) == 10);
	assert_true(merge__covered_s(in, 2) == 15);
	assert_true(merge__covered_s(in, 3) == 17.5);
	{
		struct run m;
		struct merge_notes notes;
		char err[RUNFILE_ERR_MAX];

		assert_int_equal(merge__runs(&m, in, 3, &notes, err, sizeof(err)), 0);
		assert_string_equal(m.start, a.start);
		assert_string_equal(m.end, c.end);
		assert_string_equal(m.hostname, "h");
		assert_int_equal(m.eps[0].npids, 1);
		assert_int_equal(m.eps[0].count, 90);
		assert_true(m.eps[0].rate_per_s == 90 / 17.5);
		run__free(&m);
	}
	run__free(&a);
	run__free(&b);
	run__free(&c);
}

/* Endpoints and flags of different keys stay apart; flags of one key add occurrences. */
static void test_merge_fixture_twice(void **state)
{
	char err[RUNFILE_ERR_MAX], *other = replace(fixture, "\"route\":\"/items/{id}\",",
						    "\"route\":\"/users/{id}\",");
	struct run a, b, m;
	const struct run *in[2] = { &a, &b };
	struct merge_notes notes;

	assert_int_equal(run__parse(&a, fixture, strlen(fixture), "a", err, sizeof(err)), 0);
	assert_int_equal(run__parse(&b, other, strlen(other), "b", err, sizeof(err)), 0);
	assert_int_equal(merge__runs(&m, in, 2, &notes, err, sizeof(err)), 0);
	assert_int_equal(m.neps, 2);
	assert_false(m.eps[0].has_ttfb && m.eps[1].has_ttfb && notes.ttfb);
	assert_int_equal(notes.ttfb, 0); /* each endpoint from one input: TTFB kept */
	assert_true(notes.timeline);
	assert_true(notes.slo);
	assert_false(m.has_slo);
	assert_int_equal(m.ndbqs, 1);
	assert_int_equal(m.dbqs[0].count, 120);
	assert_int_equal(m.dbqs[0].errors, 2);
	assert_int_equal(run__count(&m.dbqs[0].sqlstates, "57014"), 2);
	assert_int_equal(m.dbqs[0].rows, 120);
	assert_int_equal(m.nflags, 2);
	assert_int_equal(m.flags[0].occurrences, 8);
	assert_int_equal(m.flags[1].occurrences, 2);
	assert_int_equal(run__count(&m.db_stats, "fingerprints"), 1);
	assert_int_equal(run__count(&m.connections, "peak"), 2);     /* a high-water mark */
	assert_int_equal(run__count(&m.connections, "tracked"), 10); /* a sum */
	assert_int_equal(m.eps[0].db.requests, 30);
	/* the query's path: counts added, percentiles from the merged histogram */
	assert_int_equal(m.dbqs[0].npaths, 1);
	assert_string_equal(m.dbqs[0].paths[0].path, "wire");
	assert_int_equal(m.dbqs[0].paths[0].count, 120);
	assert_true(m.dbqs[0].rate_per_s == 12);
	assert_int_equal(notes.paths, 0);
	assert_int_equal(notes.mixed_paths, 0);
	/* hotspots by each order: the one query */
	assert_int_equal(m.hot_total.n, 1);
	assert_int_equal(m.hot_p95.n, 1);
	assert_int_equal(m.hot_count.n, 1);
	assert_string_equal(m.hot_count.v[0], "0123456789abcdef");
	assert_int_equal(m.nsources, 2);
	assert_string_equal(m.sources[0].path, "a");
	assert_string_equal(m.sources[1].path, "b");
	assert_string_equal(m.sources[1].hostname, "web1");
	assert_true(m.sources[1].duration_s == 10);
	run__free(&m);
	run__free(&a);
	run__free(&b);
	free(other);
}

static char *replace_all(const char *s, const char *const *pairs, unsigned n)
{
	char *cur = strdup(s);

	for (unsigned i = 0; i < n; i++) {
		char *next = replace(cur, pairs[2 * i], pairs[2 * i + 1]);

		free(cur);
		cur = next;
	}
	return cur;
}

/*
 * Three endpoints from two inputs (grouped by key, each its own group), two queries (each
 * from its own input), and the same endpoint in both: top queries weighted by requests.
 */
static void test_merge_groups(void **state)
{
	char err[RUNFILE_ERR_MAX], *b1, *b2;
	struct run a, b, m;
	const struct run *in[2] = { &a, &b };
	struct merge_notes notes;
	struct run_endpoint *e;
	struct run_dbq *q;

	b1 = replace(fixture, "\"route\":\"/items/{id}\",", "\"route\":\"/orders\",");
	b2 = replace(b1,
		     "\"db\":[{\"system\":\"postgresql\",\"query_id\":\"0123456789abcdef\","
		     "\"query\":\"select ?\",",
		     "\"db\":[{\"system\":\"postgresql\",\"query_id\":\"fedcba9876543210\","
		     "\"query\":\"select ? from t\",");
	free(b1);
	assert_int_equal(run__parse(&a, fixture, strlen(fixture), "a", err, sizeof(err)), 0);
	assert_int_equal(run__parse(&b, b2, strlen(b2), "b", err, sizeof(err)), 0);
	/* a second endpoint in a: /users/{id}, a copy of its first */
	e = run__alloc(&a, 2 * sizeof(*e));
	e[0] = e[1] = a.eps[0];
	e[1].route = "/aaa";
	e[1].count = 10;
	a.eps = e;
	a.neps = 2;
	/* and b's query too, second in a */
	q = run__alloc(&a, 2 * sizeof(*q));
	q[0] = q[1] = a.dbqs[0];
	q[1].query_id = "fedcba9876543210";
	q[1].query = "select ? from t";
	a.dbqs = q;
	a.ndbqs = 2;
	if (merge__runs(&m, in, 2, &notes, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(m.neps, 3);
	assert_string_equal(m.eps[0].route, "/items/{id}");
	assert_int_equal(m.eps[0].count, 30);
	assert_string_equal(m.eps[1].route, "/orders");
	assert_int_equal(m.eps[1].count, 30);
	assert_string_equal(m.eps[2].route, "/aaa"); /* fewest requests: last */
	assert_int_equal(m.eps[2].count, 10);
	assert_int_equal(m.ndbqs, 2);
	assert_string_equal(m.dbqs[0].query, "select ? from t"); /* by total time */
	assert_string_equal(m.dbqs[1].query, "select ?");
	assert_int_equal(m.dbqs[0].count, 120);
	assert_int_equal(m.dbqs[1].count, 60);
	assert_int_equal(m.dbqs[0].npaths, 1);
	assert_int_equal(m.dbqs[0].paths[0].count, 120);
	assert_int_equal(m.hot_count.n, 2);
	assert_int_equal(m.hot_total.n, 2);
	run__free(&m);
	run__free(&a);
	run__free(&b);
	free(b2);

	/* the same endpoint twice: requests add, top queries weighted by them */
	assert_int_equal(run__parse(&a, fixture, strlen(fixture), "a", err, sizeof(err)), 0);
	b1 = replace(fixture,
		     "\"db\":{\"requests\":30,\"queries_per_request\":2,"
		     "\"queries_per_request_max\":3,",
		     "\"db\":{\"requests\":10,\"queries_per_request\":4,"
		     "\"queries_per_request_max\":5,");
	b2 = replace(b1, "\"per_request\":2,\"ms_per_request\":1.5}",
		     "\"per_request\":4,\"ms_per_request\":3.5},{\"query_id\":\"fedcba9876543210\","
		     "\"query\":\"select ? from t\",\"per_request\":1,\"ms_per_request\":9}");
	free(b1);
	b1 = b2;
	b2 = replace(b1, "\"status\":{\"200\":28,", "\"status\":{\"204\":28,");
	free(b1);
	b1 = b2; /* attributions add up to at most the requests with DB work */
	b2 = replace(b1, "\"attribution\":{\"exact\":30,", "\"attribution\":{\"exact\":10,");
	free(b1);
	if (run__parse(&b, b2, strlen(b2), "b", err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(merge__runs(&m, in, 2, &notes, err, sizeof(err)), 0);
	assert_int_equal(m.neps, 1);
	assert_int_equal(m.eps[0].count, 60);
	assert_int_equal(m.eps[0].db.requests, 40);
	assert_true(m.eps[0].db.queries_per_request == 2.5);
	assert_true(m.eps[0].db.db_time_ms_per_request == 1.5);
	assert_int_equal(run__count(&m.eps[0].extra, "aborted"), 4);
	assert_int_equal(m.eps[0].err4xx, 2);
	assert_int_equal(m.eps[0].err5xx, 2);
	/* statuses in key order, "other" last */
	assert_int_equal(m.eps[0].status.n, 4);
	assert_string_equal(m.eps[0].status.v[0].key, "200");
	assert_string_equal(m.eps[0].status.v[1].key, "204");
	assert_int_equal(m.eps[0].status.v[1].n, 28);
	assert_string_equal(m.eps[0].status.v[2].key, "429");
	assert_int_equal(m.eps[0].status.v[2].n, 2);
	/* top queries by DB time per request, largest first */
	assert_int_equal(m.eps[0].db.ntop, 2);
	assert_string_equal(m.eps[0].db.top[0].query_id, "fedcba9876543210");
	assert_true(m.eps[0].db.top[0].ms_per_request == 2.25);
	assert_true(m.eps[0].db.top[1].per_request == 2.5);
	assert_true(m.eps[0].db.top[1].ms_per_request == 2.0);
	assert_int_equal(notes.ttfb, 1);
	run__free(&m);
	run__free(&a);
	run__free(&b);
	free(b2);
}

/* A query's fields from several inputs: the first known client, truncation, the best path. */
static void test_merge_query_fields(void **state)
{
	static const char *const first[] = {
		"\"client\":\"app\",",
		"",
		"\"main_path\":\"wire\",",
		"\"main_path\":\"libpq\",",
		"\"paths\":[{\"path\":\"wire\",",
		"\"paths\":[{\"path\":\"libpq\",",
	};
	static const char *const second[] = {
		"\"truncated\":false,", "\"truncated\":true,\"unknown_statement\":true,",
		"\"duration_s\":10}",	"\"duration_s\":0}",
		"\"server\":null,",	"\"server\":\"10.0.0.1:5432\",",
	};
	char err[RUNFILE_ERR_MAX], *t1 = replace_all(fixture, first, 3),
				   *t2 = replace_all(fixture, second, 3);
	struct run a, b, m;
	const struct run *in[2] = { &a, &b };
	struct merge_notes notes;

	if (run__parse(&a, t1, strlen(t1), "a", err, sizeof(err)))
		fail_msg("%s", err);
	if (run__parse(&b, t2, strlen(t2), "b", err, sizeof(err)))
		fail_msg("%s", err);
	assert_null(a.dbqs[0].client);
	assert_int_equal(merge__runs(&m, in, 2, &notes, err, sizeof(err)), 0);
	assert_int_equal(m.ndbqs, 1);
	assert_string_equal(m.dbqs[0].client, "app");
	assert_true(m.dbqs[0].truncated);
	assert_true(m.dbqs[0].unknown_statement);
	assert_string_equal(m.dbqs[0].server, "10.0.0.1:5432");
	assert_string_equal(m.dbqs[0].main_path, "wire");
	assert_int_equal(notes.mixed_paths, 1);
	assert_int_equal(m.dbqs[0].npaths, 2); /* each path from one input: kept */
	assert_string_equal(m.dbqs[0].paths[0].path, "libpq");
	assert_string_equal(m.dbqs[0].paths[1].path, "wire");
	run__free(&m);
	run__free(&a);
	/* no time covered: no rates */
	assert_int_equal(run__parse(&a, t2, strlen(t2), "a", err, sizeof(err)), 0);
	assert_int_equal(merge__runs(&m, in, 2, &notes, err, sizeof(err)), 0);
	assert_true(m.duration_s == 0);
	assert_true(m.dbqs[0].rate_per_s == 0);
	assert_true(m.eps[0].rate_per_s == 0);
	run__free(&m);
	run__free(&a);
	run__free(&b);
	free(t1);
	free(t2);
}

/* Flags join on kind, query and endpoint; a command is kept only when all inputs ran it. */
static void test_merge_flags_and_command(void **state)
{
	char err[RUNFILE_ERR_MAX];
	char *b1 =
		replace(fixture, "\"db_flags\":[",
			"\"db_flags\":[{\"kind\":\"redundant\",\"query_id\":\"0123456789abcdef\","
			"\"query\":\"select ?\",\"endpoint\":\"GET /items/{id}\","
			"\"evidence\":\"twice\",\"occurrences\":1},");
	char *b2 = replace(fixture, "\"argv\":[\"wrk\",", "\"argv\":[\"ab\",");
	struct run a, b, m;
	const struct run *in[2] = { &a, &b };
	struct merge_notes notes;

	assert_int_equal(run__parse(&a, fixture, strlen(fixture), "a", err, sizeof(err)), 0);
	assert_int_equal(run__parse(&b, b1, strlen(b1), "b", err, sizeof(err)), 0);
	assert_int_equal(merge__runs(&m, in, 2, &notes, err, sizeof(err)), 0);
	assert_int_equal(m.nflags, 3);
	assert_string_equal(m.flags[0].kind, "n_plus_one");
	assert_int_equal(m.flags[0].occurrences, 8);
	assert_string_equal(m.flags[2].kind, "redundant");
	assert_int_equal(m.flags[2].occurrences, 1);
	assert_true(m.has_command);
	assert_int_equal(m.argc, 2);
	assert_string_equal(m.argv[0], "wrk");
	assert_string_equal(m.argv[1], "-d10s");
	run__free(&m);
	run__free(&b);
	assert_int_equal(run__parse(&b, b2, strlen(b2), "b", err, sizeof(err)), 0);
	assert_int_equal(merge__runs(&m, in, 2, &notes, err, sizeof(err)), 0);
	assert_false(m.has_command); /* wrk and ab */
	run__free(&m);
	run__free(&a);
	run__free(&b);
	free(b1);
	free(b2);
}

/*
 * record --command-exit as saved: loaded, written back byte for byte, checked against the exit
 * status, and kept by merge only when every input ran the same command with the same map.
 */
static void test_command_exit_map(void **state)
{
	static const char from[] = "\"exit_status\":0}";
	static const char map[] = "\"exit_status\":99,\"exit_map\":[{\"status\":99,\"as\":"
				  "\"load-failed\"},{\"status\":3,\"as\":\"breach\"}],"
				  "\"exit_mapped\":\"load-failed\"}";
	char err[RUNFILE_ERR_MAX], *doc = replace(fixture, from, map), *out = NULL, *b2;
	char buf[64];
	size_t n = 0;
	struct run r, s, m;
	const struct run *in[2] = { &r, &s };
	struct merge_notes notes;
	FILE *f;

	(void)state;
	assert_int_equal(run__parse(&r, doc, strlen(doc), "f", err, sizeof(err)), 0);
	assert_true(r.has_exit_map);
	assert_int_equal(r.nexit_map, 2);
	assert_int_equal(r.exit_map[1].status, 3);
	assert_string_equal(r.exit_map[1].as, "breach");
	assert_string_equal(r.exit_mapped, "load-failed");
	assert_string_equal(run__exit_map_str(&r, buf, sizeof(buf)), "99=load-failed,3=breach");
	f = open_memstream(&out, &n);
	assert_int_equal(run__write(f, &r), 0);
	fclose(f);
	assert_non_null(strstr(out, "\"exit_status\": 99,\n    \"exit_map\": [\n"));
	assert_non_null(strstr(out, "\"exit_mapped\": \"load-failed\"\n  },"));
	assert_int_equal(run__parse(&s, out, n, "g", err, sizeof(err)), 0);
	assert_int_equal(s.nexit_map, 2);
	assert_string_equal(s.exit_mapped, "load-failed");
	/* merged with itself: kept */
	assert_int_equal(merge__runs(&m, in, 2, &notes, err, sizeof(err)), 0);
	assert_true(m.has_command && m.has_exit_map);
	assert_int_equal(m.nexit_map, 2);
	assert_string_equal(m.exit_mapped, "load-failed");
	run__free(&m);
	run__free(&s);
	/* another map: the merged report has no command */
	b2 = replace(doc, "{\"status\":3,\"as\":\"breach\"}", "{\"status\":3,\"as\":\"ok\"}");
	assert_int_equal(run__parse(&s, b2, strlen(b2), "h", err, sizeof(err)), 0);
	assert_int_equal(merge__runs(&m, in, 2, &notes, err, sizeof(err)), 0);
	assert_false(m.has_command);
	run__free(&m);
	run__free(&s);
	free(b2);
	/* a report without it: none, and none written */
	run__free(&r);
	free(out);
	out = NULL;
	assert_int_equal(run__parse(&r, fixture, strlen(fixture), "f", err, sizeof(err)), 0);
	assert_false(r.has_exit_map);
	f = open_memstream(&out, &n);
	assert_int_equal(run__write(f, &r), 0);
	fclose(f);
	assert_null(strstr(out, "exit_map"));
	run__free(&r);
	free(out);
	/* refused: inconsistent, unknown, out of range, twice, half of it */
	expect_error_in(doc, "\"exit_mapped\":\"load-failed\"", "\"exit_mapped\":null",
			"command.exit_mapped: 'null' is not what exit_map says of status 99 "
			"('load-failed')");
	expect_error_in(doc, "\"exit_status\":99", "\"exit_status\":1",
			"command.exit_mapped: 'load-failed' is not what exit_map says of status 1 "
			"('null')");
	expect_error_in(doc, "\"as\":\"breach\"", "\"as\":\"fail\"",
			"command.exit_map.as: 'fail' is not ok, breach or load-failed");
	expect_error_in(doc, "\"status\":3,", "\"status\":256,",
			"command.exit_map.status: 256 is not 1 to 255");
	expect_error_in(doc, "\"status\":3,", "\"status\":99,",
			"command.exit_map.status: 99 twice");
	expect_error_in(doc, ",\"exit_mapped\":\"load-failed\"", "",
			"command.exit_mapped: missing");
	expect_error(from, "\"exit_status\":0,\"exit_mapped\":null}",
		     "command.exit_mapped: without exit_map");
	free(doc);
}

static void test_time(void **state)
{
	int64_t ms;
	char buf[40];

	assert_int_equal(run__parse_time("2026-11-30T10:25:25.042Z", &ms), 0);
	run__format_time(ms, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-30T10:25:25.042Z");
	assert_int_equal(run__parse_time("2026-11-30T10:25:25Z", &ms), 0);
	assert_int_equal(ms % 1000, 0);
	assert_int_equal(run__parse_time("2026-11-30T10:25:25.5Z", &ms), 0);
	assert_int_equal(ms % 1000, 500);
	assert_int_equal(run__parse_time("2026-11-30T10:25:25.042+01:00", &ms), -22);
	assert_int_equal(run__parse_time("2026-11-30T10:25:25.Z", &ms), -22);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_fixture),
		cmocka_unit_test(test_malformed_json),
		cmocka_unit_test(test_unknown_schema_and_layout),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_inconsistent),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_db_stats_groups),
		cmocka_unit_test(test_write_roundtrip),
		cmocka_unit_test(test_merge_equals_union),
		cmocka_unit_test(test_merge_windows),
		cmocka_unit_test(test_merge_fixture_twice),
		cmocka_unit_test(test_merge_groups),
		cmocka_unit_test(test_merge_query_fields),
		cmocka_unit_test(test_merge_flags_and_command),
		cmocka_unit_test(test_command_exit_map),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_incomplete_uses_the_recorded_drop_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
