// SPDX-License-Identifier: GPL-2.0-only
/*
 * The outbound section of a report: loaded and checked across its fields, written back byte
 * for byte, merged, and paired and compared by diff.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyze/diff.h"
#include "analyze/merge.h"
#include "run/runfile.h"

#define LAT "{\"p50\":1,\"p90\":1,\"p95\":1,\"p99\":1,\"p999\":1,\"max\":1,\"min\":1,\"mean\":1}"
/* A histogram of n values of 1 ms, and an empty one. */
#define H1MS(n)                                                                                    \
	"{\"layout\":\"log-linear-ns-6\",\"unit\":\"ns\",\"count\":" #n ",\"sum\":" #n "000000,"   \
	"\"min\":1000000,\"max\":1000000,\"buckets\":[[999424,1007615," #n "]]}"
#define H0 "{\"layout\":\"log-linear-ns-6\",\"unit\":\"ns\",\"count\":0,\"buckets\":[]}"

static const char report[] =
	"{\"schema\":\"sloprobe.report/v1\","
	"\"tool\":{\"name\":\"sloprobe\",\"version\":\"0.1.0\"},"
	"\"host\":{\"hostname\":\"web1\",\"kernel\":\"6.1.0\"},"
	"\"window\":{\"start\":\"2026-11-30T10:00:00.250Z\",\"end\":\"2026-11-30T10:00:10.250Z\","
	"\"duration_s\":10},\"command\":null,"
	"\"events\":{\"total\":100,\"dropped\":0},\"http\":[],"
	"\"outbound\":{\"calls\":[{\"caller\":\"app\",\"peer\":\"10.0.0.7:443\","
	"\"host\":\"api.psp\",\"local\":false,\"method\":\"POST\",\"route\":\"/v1/charges\","
	"\"count\":6,\"answered\":4,\"status\":{\"200\":3,\"503\":1},"
	"\"errors\":{\"4xx\":0,\"5xx\":1},\"failures\":{\"refused\":0,\"reset\":1,\"timeout\":1,"
	"\"connect_timeout\":0,\"unreachable\":0,\"closed\":0,\"connect_error\":0},"
	"\"retries\":3,\"unfinished\":0,\"end_inferred\":0,\"incomplete\":0,\"pipelined\":0,"
	"\"target_truncated\":0,\"connects\":1,\"latency_ms\":" LAT ",\"histogram\":" H1MS(
		4) ","
		   "\"connect\":{\"count\":1,\"latency_ms\":" LAT ",\"histogram\":" H1MS(
			   1) "},"
			      "\"failure\":{\"count\":2,\"latency_ms\":" LAT ",\"histogram\":" H1MS(
				      2) "}},"
					 "{\"caller\":\"app\",\"peer\":\"10.0.0.8:80\",\"host\":"
					 "\"\",\"local\":false,"
					 "\"method\":\"\",\"route\":\"\",\"count\":1,\"answered\":"
					 "0,\"status\":{},"
					 "\"errors\":{\"4xx\":0,\"5xx\":0},\"failures\":{"
					 "\"refused\":1,\"reset\":0,\"timeout\":0,"
					 "\"connect_timeout\":0,\"unreachable\":0,\"closed\":0,"
					 "\"connect_error\":0},"
					 "\"retries\":0,\"unfinished\":0,\"end_inferred\":0,"
					 "\"incomplete\":0,\"pipelined\":0,"
					 "\"target_truncated\":0,\"connects\":0,\"latency_ms\":" LAT
					 ",\"histogram\":" H0 ","
					 "\"connect\":null,\"failure\":{\"count\":1,\"latency_"
					 "ms\":" LAT ",\"histogram\":" H1MS(
						 1) "}}],"
						    "\"destinations\":[{\"caller\":\"app\","
						    "\"peer\":\"10.0.0.7:443\",\"host\":\"api."
						    "psp\","
						    "\"local\":false,\"attempts\":6,\"failed\":3,"
						    "\"retries\":3,\"retry_success\":1,"
						    "\"retry_exhausted\":0,\"backoff\":{\"count\":"
						    "3,\"latency_ms\":" LAT ",\"histogram\":"
						    "{\"layout\":\"log-linear-ns-6\",\"unit\":"
						    "\"ns\",\"count\":3,\"sum\":202000000,"
						    "\"min\":1000000,\"max\":200000000,\"buckets\":"
						    "[[999424,1007615,2],[199229440,201326591,1]]}"
						    "}},"
						    "{\"caller\":\"app\",\"peer\":\"10.0.0.8:80\","
						    "\"host\":\"\",\"local\":false,"
						    "\"attempts\":1,\"failed\":1,\"retries\":0,"
						    "\"retry_success\":0,\"retry_exhausted\":0,"
						    "\"backoff\":null}],"
						    "\"stats\":{\"calls\":7,\"rows\":2,\"retry_"
						    "window_ms\":30000,"
						    "\"parser\":{\"requests\":6}}}}";

static char *replace(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	char *out;

	assert_non_null(p);
	out = malloc(strlen(s) - strlen(from) + strlen(to) + 1);
	sprintf(out, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
	return out;
}

static void load(struct run *r, const char *text)
{
	char err[RUNFILE_ERR_MAX];

	if (run__parse(r, text, strlen(text), "t.json", err, sizeof(err)))
		fail_msg("%s", err);
}

static char *written(const struct run *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(run__write(f, r), 0);
	fclose(f);
	return buf;
}

static void test_load(void **state)
{
	struct run r;

	load(&r, report);
	assert_true(r.has_outbound);
	assert_int_equal(r.nouts, 2);
	assert_string_equal(r.outs[0].host, "api.psp");
	assert_int_equal(r.outs[0].count, 6);
	assert_int_equal(r.outs[0].retries, 3);
	assert_int_equal(run__count(&r.outs[0].failures, "timeout"), 1);
	assert_int_equal(r.outs[0].connect->count, 1);
	assert_null(r.outs[1].connect);
	assert_int_equal(r.nout_dests, 2);
	assert_int_equal(r.out_dests[0].backoff->max, 200000000);
	assert_null(r.out_dests[1].backoff);
	assert_true(r.has_outbound_stats);
	assert_int_equal(run__count(&r.outbound_stats, "retry_window_ms"), 30000);
	assert_int_equal(run__count(&r.outbound_stats, "parser.requests"), 6);
	run__free(&r);
}

/* The writer writes what the loader reads: load + write is a fixed point. */
static void test_write_fixed_point(void **state)
{
	struct run r, r2;
	char *a, *b;

	load(&r, report);
	a = written(&r);
	load(&r2, a);
	b = written(&r2);
	assert_string_equal(a, b);
	assert_non_null(strstr(a, "\"outbound\": {"));
	assert_non_null(strstr(a, "\"connect\": null"));
	free(a);
	free(b);
	run__free(&r);
	run__free(&r2);
}

/* Rows whose fields disagree are refused, naming the field. */
static void test_inconsistent(void **state)
{
	static const struct {
		const char *from, *to, *msg;
	} cases[] = {
		{ "\"count\":6,\"answered\":4", "\"count\":7,\"answered\":4",
		  "outbound.calls[0].count: 7, but answered, failures and unfinished add up to 6" },
		{ "\"status\":{\"200\":3,\"503\":1}", "\"status\":{\"200\":2,\"503\":1}",
		  "outbound.calls[0].status: adds up to 3, but answered is 4" },
		{ "\"connects\":1", "\"connects\":2",
		  "outbound.calls[0].connects: 2, but connect holds 1" },
		{ "\"retries\":3,\"retry_success\":1", "\"retries\":2,\"retry_success\":1",
		  "outbound.destinations[0].backoff: does not hold one backoff per retry (2)" },
		{ "\"retry_success\":1,\"retry_exhausted\":0",
		  "\"retry_success\":3,\"retry_exhausted\":1",
		  "outbound.destinations[0].retries: 3, fewer than the chains that ended" },
		{ "\"timeout\":1,", "\"timeout\":1,\"lost\":1,",
		  "outbound.calls[0].failures: unexpected key 'lost'" },
		{ "\"stats\":{", "\"stats\":{\"x\":-1,", NULL },
	};
	char err[RUNFILE_ERR_MAX];
	struct run r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *t = replace(report, cases[i].from, cases[i].to);

		assert_int_equal(run__parse(&r, t, strlen(t), "t.json", err, sizeof(err)), -EINVAL);
		if (cases[i].msg && strcmp(err, cases[i].msg))
			fail_msg("case %zu: %s", i, err);
		free(t);
	}
}

/* Two runs merged: rows and destinations joined, their counts and histograms added. */
static void test_merge(void **state)
{
	struct merge_notes notes;
	const struct run *in[2];
	char err[RUNFILE_ERR_MAX];
	struct run a, b, m;
	char *t = replace(report, "\"hostname\":\"web1\"", "\"hostname\":\"web2\"");

	load(&a, report);
	load(&b, t);
	in[0] = &a;
	in[1] = &b;
	assert_int_equal(merge__runs(&m, in, 2, &notes, err, sizeof(err)), 0);
	assert_true(m.has_outbound);
	assert_int_equal(m.nouts, 2);
	assert_int_equal(m.outs[0].count, 12);
	assert_int_equal(m.outs[0].retries, 6);
	assert_int_equal(run__count(&m.outs[0].failures, "reset"), 2);
	assert_int_equal(run__count(&m.outs[0].status, "200"), 6);
	assert_int_equal(m.outs[0].hist->count, 8);
	assert_int_equal(m.outs[0].connect->count, 2);
	assert_null(m.outs[1].connect);
	assert_int_equal(m.nout_dests, 2);
	assert_int_equal(m.out_dests[0].retries, 6);
	assert_int_equal(m.out_dests[0].backoff->count, 6);
	assert_null(m.out_dests[1].backoff);
	assert_int_equal(run__count(&m.outbound_stats, "calls"), 14);
	assert_int_equal(run__count(&m.outbound_stats, "rows"), 2);
	assert_int_equal(run__count(&m.outbound_stats, "retry_window_ms"), 30000);
	/* The merged report is a report. */
	free(written(&m));
	run__free(&m);
	run__free(&a);
	run__free(&b);
	free(t);
}

/*
 * diff pairs rows on caller, destination (the Host, else the peer), method and route: a new
 * address of the provider still pairs; it compares the failure rate and retries per call.
 */
static void test_diff(void **state)
{
	struct diff_value v[DIFF_VALUES_MAX];
	struct diff_rule rule;
	struct run a, b;
	char *t = replace(report, "\"peer\":\"10.0.0.7:443\"", "\"peer\":\"10.0.0.9:443\"");
	int bo[2];
	unsigned n;

	diff__default_rule(&rule);
	rule.min_samples = 1;
	load(&a, report);
	load(&b, t);
	assert_int_equal(diff__match_outbound(&a, &b, bo), 2);
	assert_int_equal(bo[0], 0);
	assert_int_equal(bo[1], 1);
	n = diff__out_call(&rule, &a.outs[0], &b.outs[0], v);
	assert_int_equal(n, 6);
	assert_string_equal(v[4].name, "failure rate");
	assert_true(fabs(v[4].before - 3.0 / 6) < 1e-9); /* a reset, a timeout and a 503 */
	assert_string_equal(v[5].name, "retries/call");
	assert_true(fabs(v[5].after - 0.5) < 1e-9);
	assert_int_equal(diff__values_overall(v, n), DIFF_UNCHANGED);
	/* A peer without a Host pairs on the peer: a new one does not. */
	free(t);
	t = replace(report, "\"peer\":\"10.0.0.8:80\"", "\"peer\":\"10.0.0.9:80\"");
	run__free(&b);
	load(&b, t);
	assert_int_equal(diff__match_outbound(&a, &b, bo), 1);
	assert_int_equal(bo[1], -1);
	run__free(&a);
	run__free(&b);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load),	     cmocka_unit_test(test_write_fixed_point),
		cmocka_unit_test(test_inconsistent), cmocka_unit_test(test_merge),
		cmocka_unit_test(test_diff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
