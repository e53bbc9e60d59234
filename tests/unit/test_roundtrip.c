// SPDX-License-Identifier: GPL-2.0-only
/*
 * One writer of the report schema: what it writes, the loader reads back unchanged.
 *
 * Without arguments (tests/run): every report under tests/integration/fixtures is loaded,
 * written, loaded and written again; the two writes must be the same bytes, so no field the
 * loader reads is lost or changed by the writer (load(write(x)) == x, field by field).
 *
 * With --exact FILE... (tests/integration/conftest.py, after every `sloprobe record`): each
 * report that sloprobe wrote must come out of load + write byte for byte as it went in, so the
 * recorder and the writer that merge uses cannot drift apart.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/file.h"
#include "run/runfile.h"

#define FIXTURES "tests/integration/fixtures"

/* buf written by run__write of the report in buf/len; 0 or -errno with a message in err. */
static int rewrite(const char *path, const char *in, size_t inlen, char **out, size_t *outlen,
		   char *err, size_t errsz)
{
	struct run r;
	FILE *f;
	int ret = run__parse(&r, in, inlen, path, err, errsz);

	if (ret)
		return ret;
	f = open_memstream(out, outlen);
	if (!f) {
		run__free(&r);
		snprintf(err, errsz, "open_memstream: %s", strerror(errno));
		return -errno;
	}
	ret = run__write(f, &r);
	if (fclose(f) && !ret)
		ret = -EIO;
	run__free(&r);
	if (ret)
		snprintf(err, errsz, "run__write: %s", strerror(-ret));
	return ret;
}

/* The whole file, or NULL (a report is at most a few MB here). */
static char *slurp(const char *path, size_t *len)
{
	char *buf;

	return file__read(path, 1u << 30, &buf, len) ? NULL : buf;
}

/* The first line where a and b differ, both printed; 0 when they are the same. */
static int same_bytes(const char *what, const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i = 0, line = 1, start = 0;

	if (alen == blen && !memcmp(a, b, alen))
		return 0;
	while (i < alen && i < blen && a[i] == b[i]) {
		if (a[i] == '\n') {
			line++;
			start = i + 1;
		}
		i++;
	}
	fprintf(stderr, "%s: differs at line %zu:\n  was:       %.*s\n  rewritten: %.*s\n", what,
		line, (int)strcspn(a + start, "\n"), a + start, (int)strcspn(b + start, "\n"),
		b + start);
	return 1;
}

/* --exact: each file as sloprobe wrote it is a fixed point of load + write. */
static int exact(int argc, char **argv)
{
	int bad = 0;

	for (int i = 0; i < argc; i++) {
		char err[RUNFILE_ERR_MAX], *out = NULL, *in;
		size_t inlen, outlen = 0;

		in = slurp(argv[i], &inlen);
		if (!in) {
			fprintf(stderr, "%s: cannot read\n", argv[i]);
			bad++;
			continue;
		}
		if (rewrite(argv[i], in, inlen, &out, &outlen, err, sizeof(err))) {
			fprintf(stderr, "%s: %s\n", argv[i], err);
			bad++;
		} else {
			bad += same_bytes(argv[i], in, inlen, out, outlen);
		}
		free(in);
		free(out);
	}
	return bad ? 1 : 0;
}

static void test_fixtures_are_fixed_points_of_the_writer(void **state)
{
	DIR *d = opendir(FIXTURES);
	struct dirent *e;
	unsigned n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[512], err[RUNFILE_ERR_MAX], *in, *w1 = NULL, *w2 = NULL;
		size_t len = strlen(e->d_name), inlen, l1 = 0, l2 = 0;

		if (len < 6 || strcmp(e->d_name + len - 5, ".json"))
			continue;
		snprintf(path, sizeof(path), FIXTURES "/%s", e->d_name);
		in = slurp(path, &inlen);
		assert_non_null(in);
		if (rewrite(path, in, inlen, &w1, &l1, err, sizeof(err)) ||
		    rewrite(path, w1, l1, &w2, &l2, err, sizeof(err)))
			fail_msg("%s: %s", path, err);
		assert_int_equal(same_bytes(path, w1, l1, w2, l2), 0);
		free(in);
		free(w1);
		free(w2);
		n++;
	}
	closedir(d);
	/* ramp, db, baseline, after at least: a fixture directory that moved is no pass. */
	assert_true(n >= 4);
}

#define LAT "{\"p50\":1,\"p90\":1,\"p95\":1,\"p99\":1,\"p999\":1,\"max\":1,\"min\":1,\"mean\":1}"
#define HIST(n)                                                                                  \
	"\"histogram\":{\"layout\":\"log-linear-ns-6\",\"unit\":\"ns\",\"count\":" #n ","        \
	"\"sum\":" #n "000000,\"min\":1000000,\"max\":1000000,"                                  \
	"\"buckets\":[[999424,1007615," #n "]]}"

/*
 * Every optional member the recorder writes, those the writer of merge used to drop, and the
 * cache section and an endpoint's cache and outbound calls.
 */
static const char full[] =
	"{\"schema\":\"sloprobe.report/v1\",\"tool\":{\"name\":\"sloprobe\",\"version\":\"0.1.0\"},"
	"\"host\":{\"hostname\":\"web1\",\"kernel\":\"6.1.0\"},"
	"\"window\":{\"start\":\"2026-11-30T10:00:00.250Z\",\"end\":\"2026-11-30T10:00:10.250Z\","
	"\"duration_s\":10},\"command\":null,"
	"\"filters\":{\"pids\":[],\"comm\":null,\"cgroup\":null,\"ports\":[]},"
	"\"events\":{\"total\":100,\"dropped\":0},"
	"\"bpf\":{\"stats_enabled\":true,\"run_time_ns\":5,\"run_cnt\":6,"
	"\"db_probes_run_time_ns\":8,\"db_probes_run_cnt\":9,"
	"\"handoff_run_time_ns\":10,\"handoff_run_cnt\":11},"
	"\"http\":[{\"service\":\"app:8080\",\"pids\":[42],\"comm\":\"app\",\"container\":null,"
	"\"port\":8080,\"method\":\"GET\",\"route\":\"/\",\"count\":7,\"rate_per_s\":0.7,"
	"\"status\":{\"200\":7},\"errors\":{\"4xx\":0,\"5xx\":0,\"5xx_ratio\":0},"
	"\"latency_ms\":" LAT ",\"wait_ms\":" LAT "," HIST(7) ","
	"\"db\":{\"requests\":7,\"queries_per_request\":1,\"queries_per_request_max\":1,"
	"\"db_time_ms_per_request\":0.5,\"db_time_share\":0.4321,"
	"\"attribution\":{\"exact\":1,\"thread\":1,\"shared\":2,\"handoff\":3},"
	"\"top_queries\":[]},"
	"\"cache\":{\"requests\":7,\"requests_with_calls\":5,\"calls_per_request\":1.5,"
	"\"max_calls\":4,\"ms_per_request\":0.25,\"errors\":0.5,\"hits\":6.5,\"misses\":2,"
	"\"hit_ratio\":0.7647,\"repeat_requests\":2},"
	"\"outbound\":{\"requests\":7,\"requests_with_calls\":1,\"calls_per_request\":0.143,"
	"\"max_calls\":1,\"ms_per_request\":12.5,\"errors\":1}}],"
	"\"db\":[{\"system\":\"postgresql\",\"query_id\":\"0123456789abcdef\",\"query\":\"select ?\","
	"\"count\":7,\"errors\":0,\"rate_per_s\":0.7,\"total_ms\":7,\"rows\":null,\"client\":null,"
	"\"server\":null,\"main_path\":\"wire\",\"latency_ms\":" LAT ",\"first_byte_ms\":" LAT ","
	"\"paths\":[]," HIST(7) "}],"
	"\"db_flags\":[{\"kind\":\"n_plus_one\",\"query_id\":\"0123456789abcdef\","
	"\"query\":\"select ?\",\"endpoint\":\"GET /\",\"evidence\":\"6 in a row\","
	"\"occurrences\":2,\"t_s\":1.25,\"at\":\"2026-11-30T10:00:01.500Z\","
	"\"attribution\":\"shared\",\"support\":0.5,\"confidence\":\"low\"}],"
	"\"cache\":{\"system\":\"redis\",\"commands\":7,\"errors\":1,\"hits\":5,\"misses\":1,"
	"\"hit_ratio\":0.8333,\"rows\":[{\"id\":\"00000000000000aa\",\"client\":\"app:8080\","
	"\"server\":null,\"command\":\"GET\",\"pattern\":\"u:{id}\",\"raw_key\":\"u:1\","
	"\"count\":7,\"rate_per_s\":0.7,\"errors\":1,\"errors_by_word\":{\"MOVED\":1},"
	"\"aborted\":2,\"pipelined\":3,\"in_transaction\":1,\"end_inferred\":1,\"reads\":6,"
	"\"hits\":5,\"misses\":1,\"hit_ratio\":0.8333,\"writes\":0,\"writes_without_ttl\":0,"
	"\"whole_reads\":2,\"whole_reads_big\":1,\"max_elements\":1500,"
	"\"bytes\":{\"sent\":10,\"received\":20,\"max_value\":30},\"large_values\":1,"
	"\"total_ms\":7,\"latency_ms\":" LAT ",\"flags\":[\"scan_all\"]," HIST(7) "}],"
	"\"clients\":[{\"client\":\"app:8080\",\"server\":null,\"opened\":3,\"closed\":1,"
	"\"live\":2,\"peak\":3,\"commands\":9}],"
	"\"flags\":[{\"kind\":\"scan_all\",\"id\":\"00000000000000aa\",\"command\":\"GET\","
	"\"pattern\":\"u:{id}\",\"endpoint\":null,\"evidence\":\"1 of 2\",\"occurrences\":1}],"
	"\"timeline\":{\"interval_s\":1,\"points_dropped\":3,\"points\":[{\"t\":1,\"count\":7,"
	"\"rate_per_s\":7,\"p50\":1,\"p95\":1,\"p99\":1,\"errors\":1,\"hits\":5,\"misses\":1,"
	"\"hit_ratio\":0.8333}]},\"drops\":{\"commands\":4,\"clients\":0,\"repeats\":0,"
	"\"flags\":0}},"
	"\"slo\":[{\"name\":\"n\",\"objective\":\"count >= 5\",\"target\":\"http GET /\","
	"\"service\":\"app:8080\",\"matched\":true,\"source\":\"http\",\"per\":\"endpoint\","
	"\"kind\":\"count\",\"min_count\":5,\"strict\":true,\"unit\":\"count\",\"observed\":7,"
	"\"target_value\":5,\"margin\":2,\"total\":7,\"good\":7,\"errors\":1,\"protected\":0,"
	"\"judged\":7,\"bad\":0,\"budget_consumed\":null,\"verdict\":\"pass\","
	"\"first_breach_s\":2.5,\"breached_intervals\":4,\"approximate\":true,"
	"\"incomplete_data\":true,\"line\":3,\"column\":5}],"
	"\"slo_summary\":{\"file\":\"s.yaml\",\"warmup_s\":1,\"objectives\":1,\"pass\":1,"
	"\"breach\":0,\"insufficient_data\":0,\"rows_dropped\":0,\"incomplete_data\":true,"
	"\"dropped_pct\":0.25,\"max_drop_pct\":0.2,\"verdict\":\"pass\"},"
	"\"timeline\":{\"interval_s\":1,\"points_dropped\":2,\"http\":[{\"service\":\"app:8080\","
	"\"method\":\"GET\",\"route\":\"/\",\"points\":[{\"t\":1,\"count\":7,\"rate_per_s\":7,"
	"\"p50\":1,\"p95\":2,\"p99\":3,\"errors\":0,\"5xx\":0,\"4xx\":0,\"wait_p95\":0.5}]}],"
	"\"db\":[{\"query\":\"select ?\",\"points\":[{\"t\":1,\"count\":7,\"rate_per_s\":7,"
	"\"p50\":null,\"p95\":null,\"p99\":null,\"errors\":0}]}]}}";

/* The members merge's writer used to drop: each survives a write, with its value. */
static void test_fields_the_old_writer_dropped_come_back(void **state)
{
	static const char *const want[] = {
		"\"db_probes_run_cnt\": 9",
		"\"handoff_run_cnt\": 11",
		"\"db_time_share\": 0.4321",
		"\"handoff\": 3",
		"\"first_byte_ms\": {",
		"\"t_s\": 1.25,",
		"\"at\": \"2026-11-30T10:00:01.500Z\"",
		"\"attribution\": \"shared\"",
		"\"support\": 0.5,",
		"\"confidence\": \"low\"",
		"\"service\": \"app:8080\",\n      \"matched\": true",
		"\"min_count\": 5",
		"\"strict\": true",
		"\"target_value\": 5",
		"\"protected\": 0",
		"\"first_breach_s\": 2.5,",
		"\"breached_intervals\": 4",
		"\"column\": 5",
		"\"file\": \"s.yaml\"",
		"\"dropped_pct\": 0.25,",
		"\"max_drop_pct\": 0.2,",
		"\"points_dropped\": 2",
		"\"wait_p95\": 0.5\n",
		"\"p50\": null",
		"\"hit_ratio\": 0.7647,\n        \"repeat_requests\": 2",
		"\"calls_per_request\": 0.143,",
		"\"ms_per_request\": 12.5,\n        \"errors\": 1\n      }",
		"\"raw_key\": \"u:1\"",
		"\"MOVED\": 1",
		"\"in_transaction\": 1,",
		"\"max_elements\": 1500,",
		"\"max_value\": 30",
		"\"flags\": [\n          \"scan_all\"\n        ],",
		"\"peak\": 3,",
		"\"evidence\": \"1 of 2\",",
		"\"points_dropped\": 3,\n      \"points\": [",
		"\"drops\": {\n      \"commands\": 4,",
	};
	char err[RUNFILE_ERR_MAX], *w1 = NULL, *w2 = NULL;
	size_t l1 = 0, l2 = 0;

	if (rewrite("full", full, sizeof(full) - 1, &w1, &l1, err, sizeof(err)))
		fail_msg("%s", err);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(w1, want[i]))
			fail_msg("rewritten report lacks %s", want[i]);
	if (rewrite("full", w1, l1, &w2, &l2, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(same_bytes("full", w1, l1, w2, l2), 0);
	free(w1);
	free(w2);
}

/* Exemplars: one of each kind of span, the nulls a span may have; appended to full. */
static const char exemplars[] =
	",\"exemplars\":[{\"service\":\"app:8080\",\"method\":\"GET\",\"route\":\"/\","
	"\"pick\":\"slowest\",\"t_s\":1.5,\"latency_ms\":812.25,\"status\":200,\"pid\":42,"
	"\"tid\":43,\"attribution\":\"thread\",\"spans_cut\":2,\"spans\":["
	"{\"kind\":\"cache\",\"start_ms\":0.125,\"duration_ms\":0.25,\"attribution\":\"exact\","
	"\"cache_id\":\"00000000000000aa\",\"verb\":\"GET\",\"key\":\"u:{id}\",\"hit\":false,"
	"\"error\":false},"
	"{\"kind\":\"query\",\"start_ms\":1,\"duration_ms\":640.5,\"attribution\":\"thread\","
	"\"query_id\":\"0123456789abcdef\"},"
	"{\"kind\":\"cache\",\"start_ms\":641,\"duration_ms\":0.001,\"attribution\":\"shared\","
	"\"cache_id\":null,\"verb\":null,\"key\":null,\"hit\":null,\"error\":true},"
	"{\"kind\":\"http\",\"start_ms\":700,\"duration_ms\":100,\"attribution\":\"handoff\","
	"\"destination\":\"127.0.0.1:9000\",\"method\":\"POST\",\"route\":\"/pay/{id}\","
	"\"status\":null,\"error\":true}]},"
	"{\"service\":\"app:8080\",\"method\":\"GET\",\"route\":\"/\",\"pick\":\"p50\","
	"\"t_s\":2,\"latency_ms\":1,\"status\":200,\"pid\":42,\"tid\":44,"
	"\"attribution\":\"exact\",\"spans_cut\":0,\"spans\":[]}],"
	"\"exemplar_stats\":{\"offered\":7,\"spans_cut\":2,\"spans_over_budget\":0,\"nomem\":0,"
	"\"labels_cut\":0}}";

/* full + exemplars as one report; the caller frees it. */
static char *with_exemplars(const char *ex, size_t *len)
{
	char *buf = malloc(sizeof(full) + strlen(ex));

	assert_non_null(buf);
	memcpy(buf, full, sizeof(full) - 2); /* without the closing brace and the NUL */
	strcpy(buf + sizeof(full) - 2, ex);
	*len = strlen(buf);
	return buf;
}

static void test_exemplars_come_back(void **state)
{
	static const char *const want[] = {
		"\"pick\": \"slowest\",\n      \"t_s\": 1.5,\n      \"latency_ms\": 812.25,",
		"\"spans_cut\": 2,",
		"\"hit\": false,",
		"\"cache_id\": null,\n          \"verb\": null,\n          \"key\": null,\n"
		"          \"hit\": null,\n          \"error\": true",
		"\"query_id\": \"0123456789abcdef\"",
		"\"route\": \"/pay/{id}\",\n          \"status\": null,",
		"\"attribution\": \"handoff\"",
		"\"pick\": \"p50\"",
		"\"spans\": []",
		"\"exemplar_stats\": {\n    \"offered\": 7,",
	};
	char err[RUNFILE_ERR_MAX], *w1 = NULL, *w2 = NULL, *in;
	size_t l1 = 0, l2 = 0, len;
	struct run r;

	in = with_exemplars(exemplars, &len);
	assert_int_equal(run__parse(&r, in, len, "ex", err, sizeof(err)), 0);
	assert_int_equal(r.nexemplars, 2);
	assert_int_equal(r.exemplars[0].ep, 0);
	assert_int_equal(r.exemplars[0].nspans, 4);
	assert_int_equal(r.exemplars[0].spans[2].hit, -1);
	assert_int_equal(r.exemplars[0].spans[0].hit, 0);
	assert_int_equal(r.exemplars[0].spans[3].kind, RUN_SPAN_HTTP);
	assert_int_equal(r.exemplars[0].spans[3].status, 0);
	run__free(&r);
	if (rewrite("ex", in, len, &w1, &l1, err, sizeof(err)))
		fail_msg("%s", err);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(w1, want[i]))
			fail_msg("rewritten report lacks %s", want[i]);
	if (rewrite("ex", w1, l1, &w2, &l2, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(same_bytes("ex", w1, l1, w2, l2), 0);
	free(in);
	free(w1);
	free(w2);
}

/* An exemplar of no endpoint, a span of an unknown kind: refused, naming the field. */
static void test_bad_exemplars_refused(void **state)
{
	static const struct {
		const char *from, *to, *msg;
	} bad[] = {
		{ "\"route\":\"/\",\"pick\":\"slowest\"", "\"route\":\"/x\",\"pick\":\"slowest\"",
		  "exemplars[0].route: names no endpoint" },
		{ "{\"kind\":\"query\"", "{\"kind\":\"mongo\"", "exemplars[0].spans[1].kind" },
		{ "\"pick\":\"p50\"", "\"pick\":\"p99\"", "exemplars[1].pick" },
		{ "\"query_id\":\"0123456789abcdef\"", "\"query_id\":\"select 1\"",
		  "exemplars[0].spans[1].query_id" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[RUNFILE_ERR_MAX], ex[sizeof(exemplars) + 64], *in, *at;
		size_t len, n;
		struct run r;

		at = strstr(exemplars, bad[i].from);
		assert_non_null(at);
		n = (size_t)(at - exemplars);
		snprintf(ex, sizeof(ex), "%.*s%s%s", (int)n, exemplars, bad[i].to,
			 at + strlen(bad[i].from));
		in = with_exemplars(ex, &len);
		assert_int_equal(run__parse(&r, in, len, "ex", err, sizeof(err)), -EINVAL);
		if (!strstr(err, bad[i].msg))
			fail_msg("%s: want %s", err, bad[i].msg);
		free(in);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures_are_fixed_points_of_the_writer),
		cmocka_unit_test(test_fields_the_old_writer_dropped_come_back),
		cmocka_unit_test(test_exemplars_come_back),
		cmocka_unit_test(test_bad_exemplars_refused),
	};

	if (argc > 1 && !strcmp(argv[1], "--exact"))
		return exact(argc - 2, argv + 2);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
