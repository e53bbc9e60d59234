// SPDX-License-Identifier: GPL-2.0-only
/*
 * The CI renderers (analyze/civerdict.h) on runs built in memory: the JSON verdicts and the
 * JUnit XML, checked byte for byte where the whole output is short, by exact lines otherwise.
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

#include "analyze/civerdict.h"
#include "lib/hist.h"
#include "run/runfile.h"

#define MS 1000000ull

static void new_run(struct run *r, const char *path, unsigned neps, unsigned nslo)
{
	assert_int_equal(run__init(r), 0);
	r->path = path;
	r->tool_version = "0.1.0";
	r->hostname = "vm";
	r->max_drop_pct = NAN;
	r->events_total = 1000;
	r->eps = run__alloc(r, (neps + 1) * sizeof(*r->eps));
	r->slo = run__alloc(r, (nslo + 1) * sizeof(*r->slo));
	assert_non_null(r->eps);
	assert_non_null(r->slo);
	r->has_slo = nslo > 0;
}

/* An endpoint of n requests of ms milliseconds each. */
static void ep(struct run *r, const char *route, unsigned n, unsigned ms)
{
	struct run_endpoint *e = &r->eps[r->neps++];
	struct hist h;

	memset(e, 0, sizeof(*e));
	e->service = "api:8000";
	e->comm = "api";
	e->method = "GET";
	e->route = route;
	e->count = n;
	e->rate_per_s = n;
	hist__init(&h);
	for (unsigned i = 0; i < n; i++)
		hist__add(&h, ms * MS);
	e->hist = run__hist(r, &h);
	assert_non_null(e->hist);
}

static struct run_slo *slo(struct run *r, const char *name, const char *objective,
			   const char *target, const char *verdict, double observed,
			   double target_v)
{
	struct run_slo *s = &r->slo[r->nslo++];

	memset(s, 0, sizeof(*s));
	s->name = name;
	s->objective = objective;
	s->target = target;
	s->verdict = verdict;
	s->unit = "ms";
	s->kind = "latency_percentile";
	s->observed = observed;
	s->target_value = target_v;
	s->margin = target_v - observed;
	s->budget_consumed = NAN;
	s->first_breach_s = NAN;
	s->threshold_ms = s->percentile = s->target_ratio = NAN;
	return s;
}

/* What render wrote for a and b; free it. */
static char *render(int (*fn)(FILE *, const struct run *, const char *), const struct run *r,
		    const char *file)
{
	char *mem = NULL;
	size_t sz = 0;
	FILE *f = open_memstream(&mem, &sz);

	assert_non_null(f);
	assert_int_equal(fn(f, r, file), 0);
	fclose(f);
	return mem;
}

typedef int (*diff_fn)(FILE *, const struct run *, const struct run *, const struct diff_rule *,
		       bool *);

/* fn's output with the default rule and --label baseline=la --label after=lb (NULL: none). */
static char *render_labelled(diff_fn fn, const struct run *a, const struct run *b, bool *regressed,
			     const char *la, const char *lb)
{
	struct diff_rule rule;
	char *mem = NULL;
	size_t sz = 0;
	FILE *f = open_memstream(&mem, &sz);

	assert_non_null(f);
	diff__default_rule(&rule);
	rule.label[0] = la;
	rule.label[1] = lb;
	assert_int_equal(fn(f, a, b, &rule, regressed), 0);
	fclose(f);
	return mem;
}

static char *render_diff(diff_fn fn, const struct run *a, const struct run *b, bool *regressed)
{
	return render_labelled(fn, a, b, regressed, NULL, NULL);
}

static void has(const char *out, const char *line)
{
	if (!strstr(out, line))
		fail_msg("missing: %s\nin:\n%s", line, out);
}

static void test_report_json(void **state)
{
	struct run r;
	struct run_slo *s;
	char *out;

	(void)state;
	new_run(&r, "run.json", 0, 3);
	s = slo(&r, "api", "p95 <= 40 ms", "http GET /a", "breach", 52.5, 40);
	s->has_counts = true;
	s->good = 3;
	s->total = 40;
	s->budget_consumed = INFINITY;
	s->first_breach_s = 2.5;
	slo(&r, "api", "p99 <= 100 ms", "http GET /a", "pass", 60.25, 100);
	slo(&r, "db", "avg <= 1 ms", "db SELECT 1", "insufficient_data", NAN, 1);
	out = render(civerdict__report_json, &r, NULL);
	has(out, "  \"schema\": \"sloprobe.verdicts/v1\",\n  \"kind\": \"report\",\n");
	has(out, "    \"command\": null,\n");
	has(out, "  \"slo\": {\n    \"judged\": \"recorded\",\n    \"file\": null,\n"
		 "    \"verdict\": \"breach\",\n    \"incomplete_data\": false,\n"
		 "    \"objectives\": 3,\n    \"pass\": 1,\n    \"breach\": 1,\n"
		 "    \"insufficient_data\": 1\n  },\n");
	/* an infinite budget is null, and exceeded */
	has(out,
	    "      \"observed\": 52.5,\n      \"target_value\": 40,\n      \"margin\": -12.5,\n"
	    "      \"budget_consumed\": null,\n      \"budget_exceeded\": true,\n"
	    "      \"good\": 3,\n      \"judged\": 40,\n");
	has(out, "      \"first_breach_s\": 2.5\n");
	/* no counters: null, not 0 */
	has(out,
	    "      \"margin\": 39.75,\n      \"budget_consumed\": null,\n"
	    "      \"budget_exceeded\": false,\n      \"good\": null,\n      \"judged\": null,\n");
	has(out, "      \"verdict\": \"insufficient_data\",\n      \"unit\": \"ms\",\n"
		 "      \"observed\": null,\n");
	has(out, "      \"insufficient_data\": true,\n      \"incomplete_data\": false,\n");
	free(out);
	/* judged offline; a run that lost too much marks every verdict */
	r.events_dropped = 10;
	r.has_command = true;
	r.argc = 2;
	r.argv = run__alloc(&r, 2 * sizeof(*r.argv));
	r.argv[0] = "k6";
	r.argv[1] = "run";
	r.exit_status = 99;
	out = render(civerdict__report_json, &r, "slo.yaml");
	has(out, "    \"judged\": \"offline\",\n    \"file\": \"slo.yaml\",\n");
	/* a report from before --command-exit was saved: null, not [] */
	has(out, "      \"exit_status\": 99,\n      \"failed\": true,\n"
		 "      \"exit_map\": null,\n      \"exit_mapped\": null\n");
	has(out, "      \"dropped\": 10,\n      \"dropped_pct\": 0.99009901,\n"
		 "      \"max_drop_pct\": 0.1,\n      \"incomplete_data\": true\n");
	assert_null(strstr(out, "\"incomplete_data\": false"));
	free(out);
	/* --command-exit 99=load-failed,3=breach as saved */
	r.has_exit_map = true;
	r.exit_map = run__alloc(&r, 2 * sizeof(*r.exit_map));
	r.exit_map[0] = (struct run_exit_map){ 99, "load-failed" };
	r.exit_map[1] = (struct run_exit_map){ 3, "breach" };
	r.nexit_map = 2;
	r.exit_mapped = "load-failed";
	out = render(civerdict__report_json, &r, NULL);
	has(out, "      \"failed\": true,\n      \"exit_map\": [\n        {\n"
		 "          \"status\": 99,\n          \"as\": \"load-failed\"\n        },\n"
		 "        {\n          \"status\": 3,\n          \"as\": \"breach\"\n        }\n"
		 "      ],\n      \"exit_mapped\": \"load-failed\"\n");
	free(out);
	run__free(&r);
}

static void test_report_junit(void **state)
{
	struct run r;
	struct run_slo *s;
	char *out;

	(void)state;
	new_run(&r, "run.json", 0, 2);
	s = slo(&r, "a<b", "p95 <= 40 ms", "http GET /x?\"&'<>", "breach", 52.5, 40);
	s->has_counts = true;
	s->good = 3;
	s->total = 40;
	s->budget_consumed = 18.5;
	slo(&r, "a<b", "p99 <= 9 ms", "http GET /y", "insufficient_data", NAN, 9)->offline = true;
	/* suites: the run's 12.5 s; recorded verdicts: after the 2.5 s warm-up; offline: all */
	r.duration_s = 12.5;
	r.has_slo_summary = true;
	r.slo_summary.warmup_s = 2.5;
	out = render(civerdict__report_junit, &r, NULL);
	assert_string_equal(
		out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<testsuites name=\"sloprobe report run.json\" tests=\"3\" failures=\"1\" "
		"errors=\"0\" skipped=\"1\" time=\"12.500\">\n"
		"  <testsuite name=\"run\" tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"0\" "
		"time=\"12.500\">\n"
		"    <testcase classname=\"sloprobe.run\" name=\"events lost\" time=\"12.500\"/>\n"
		"  </testsuite>\n"
		"  <testsuite name=\"SLO a&lt;b\" tests=\"2\" failures=\"1\" errors=\"0\" "
		"skipped=\"1\" time=\"12.500\">\n"
		"    <testcase classname=\"sloprobe.slo.a&lt;b\" name=\"p95 &lt;= 40 ms: http GET "
		"/x?&quot;&amp;&apos;&lt;&gt;\" time=\"10.000\">\n"
		"      <failure type=\"breach\" message=\"p95 &lt;= 40 ms breached on http GET "
		"/x?&quot;&amp;&apos;&lt;&gt;: observed 52.50 ms, target 40.00 ms\">SLO: a&lt;b\n"
		"objective: p95 &lt;= 40 ms\n"
		"target: http GET /x?&quot;&amp;&apos;&lt;&gt;\n"
		"service: -\n"
		"verdict: breach\n"
		"observed: 52.50 ms\n"
		"target value: 40.00 ms\n"
		"margin: -12.50 ms\n"
		"error budget used: 1850.00 %\n"
		"good/judged: 3/40\n"
		"</failure>\n"
		"    </testcase>\n"
		"    <testcase classname=\"sloprobe.slo.a&lt;b\" name=\"p99 &lt;= 9 ms: http GET "
		"/y\" "
		"time=\"12.500\">\n"
		"      <skipped message=\"insufficient data: 0 observations judged\">SLO: a&lt;b\n"
		"objective: p99 &lt;= 9 ms\n"
		"target: http GET /y\n"
		"service: -\n"
		"verdict: insufficient data\n"
		"observed: -\n"
		"target value: 9.00 ms\n"
		"margin: -\n"
		"error budget used: -\n"
		"</skipped>\n"
		"    </testcase>\n"
		"  </testsuite>\n"
		"</testsuites>\n");
	free(out);
	/* a failed load test fails the run suite */
	r.has_command = true;
	r.argc = 1;
	r.argv = run__alloc(&r, sizeof(*r.argv));
	r.argv[0] = "k6";
	r.exit_status = 99;
	out = render(civerdict__report_junit, &r, "s.yaml");
	has(out, "<testsuites name=\"sloprobe report run.json --slo s.yaml\" tests=\"4\" "
		 "failures=\"2\" errors=\"0\" skipped=\"1\"");
	has(out,
	    "    <testcase classname=\"sloprobe.run\" name=\"load-test command exit status\" "
	    "time=\"12.500\">\n      <failure type=\"command_failed\" message=\"k6 exited with "
	    "status 99\"/>\n    </testcase>\n");
	free(out);
	/* mapped by --command-exit: its own type, the mapping in the message; ok: no failure */
	r.has_exit_map = true;
	r.exit_map = run__alloc(&r, sizeof(*r.exit_map));
	r.exit_map[0] = (struct run_exit_map){ 99, "load-failed" };
	r.nexit_map = 1;
	r.exit_mapped = "load-failed";
	out = render(civerdict__report_junit, &r, "s.yaml");
	has(out, "<failure type=\"load_failed\" message=\"k6 exited with status 99 "
		 "(--command-exit 99=load-failed)\"/>");
	free(out);
	r.exit_map[0].as = r.exit_mapped = "breach";
	out = render(civerdict__report_junit, &r, "s.yaml");
	has(out, "<failure type=\"breach\" message=\"k6 exited with status 99 "
		 "(--command-exit 99=breach)\"/>");
	free(out);
	r.exit_map[0].as = r.exit_mapped = "ok";
	out = render(civerdict__report_junit, &r, "s.yaml");
	has(out, "    <testcase classname=\"sloprobe.run\" name=\"load-test command exit status\" "
		 "time=\"12.500\"/>\n");
	has(out, "tests=\"4\" failures=\"1\"");
	free(out);
	run__free(&r);
}

/* baseline: /a 30 x 10 ms, /b 30 x 10 ms, /gone; after: /a 30 x 30 ms (regressed), /b the
 * same, /new; objective "fast" passed, now breaches; "slow" breached, now passes. */
static void diff_runs(struct run *a, struct run *b)
{
	new_run(a, "a.json", 3, 2);
	new_run(b, "b.json", 3, 2);
	ep(a, "/a", 30, 10);
	ep(a, "/b", 30, 10);
	ep(a, "/gone", 30, 10);
	ep(b, "/a", 30, 30);
	ep(b, "/b", 30, 10);
	ep(b, "/new", 5, 10);
	slo(a, "fast", "p95 <= 20 ms", "http GET /a", "pass", 10, 20);
	slo(b, "fast", "p95 <= 20 ms", "http GET /a", "breach", 30, 20);
	slo(a, "slow", "p95 <= 9 ms", "http GET /b", "breach", 10, 9);
	slo(b, "slow", "p95 <= 9 ms", "http GET /b", "pass", 8, 9);
}

static void test_diff_json(void **state)
{
	struct run a, b;
	bool regressed = false;
	char *out;

	(void)state;
	diff_runs(&a, &b);
	out = render_diff(civerdict__diff_json, &a, &b, &regressed);
	assert_true(regressed);
	has(out, "  \"slo_changes\": {\n    \"regressed\": 1,\n    \"fixed\": 1\n  },\n");
	has(out, "      \"change\": \"regressed\",\n      \"baseline\": {\n"
		 "        \"verdict\": \"pass\",\n");
	has(out, "      \"change\": \"fixed\",\n");
	has(out, "        \"route\": \"/a\",\n        \"class\": \"regressed\",\n"
		 "        \"count_baseline\": 30,\n        \"count_after\": 30,\n");
	has(out, "        \"route\": \"/gone\",\n        \"class\": \"only_in_baseline\",\n"
		 "        \"count_baseline\": 30,\n        \"count_after\": null,\n"
		 "        \"values\": []\n");
	has(out, "        \"route\": \"/new\",\n        \"class\": \"only_in_after\",\n"
		 "        \"count_baseline\": null,\n        \"count_after\": 5,\n");
	has(out, "    \"http\": {\n      \"unchanged\": 1,\n      \"improved\": 0,\n"
		 "      \"regressed\": 1,\n      \"few_samples\": 0,\n"
		 "      \"only_in_baseline\": 1,\n      \"only_in_after\": 1\n    },\n");
	has(out, "            \"metric\": \"p95 ms\",\n");
	has(out, "            \"class\": \"regressed\"\n");
	free(out);
	/* the other way round, slow regressed and fast is fixed */
	regressed = false;
	out = render_diff(civerdict__diff_json, &b, &a, &regressed);
	assert_true(regressed);
	has(out, "  \"slo_changes\": {\n    \"regressed\": 1,\n    \"fixed\": 1\n  },\n");
	free(out);
	run__free(&a);
	run__free(&b);
}

static void test_diff_junit(void **state)
{
	struct run a, b;
	bool regressed = false;
	char *out;

	(void)state;
	diff_runs(&a, &b);
	a.duration_s = 20;
	b.duration_s = 30; /* every suite and case: AFTER's */
	out = render_diff(civerdict__diff_junit, &a, &b, &regressed);
	assert_true(regressed);
	/* run: events lost; SLO: fast (failure), slow; http: /a (failure), /b, /gone and /new
	 * (skipped) */
	has(out, "<testsuites name=\"sloprobe diff a.json b.json\" tests=\"7\" failures=\"2\" "
		 "errors=\"0\" skipped=\"2\" time=\"30.000\">\n");
	has(out, "  <testsuite name=\"SLO verdicts\" tests=\"2\" failures=\"1\" errors=\"0\" "
		 "skipped=\"0\" time=\"30.000\">\n");
	has(out,
	    "    <testcase classname=\"sloprobe.diff.slo\" name=\"fast p95 &lt;= 20 ms: http "
	    "GET /a\" time=\"30.000\">\n      <failure type=\"slo_regressed\" message=\"regressed: "
	    "passed in the baseline (10.00 ms), breaches after (30.00 ms)\">");
	has(out, "  <testsuite name=\"HTTP endpoints\" tests=\"4\" failures=\"1\" errors=\"0\" "
		 "skipped=\"2\" time=\"30.000\">\n");
	has(out,
	    "    <testcase classname=\"sloprobe.diff.http\" name=\"GET /a (api:8000)\" "
	    "time=\"30.000\">\n      <failure type=\"regressed\" message=\"regressed: p50 ms: ");
	has(out, "    <testcase classname=\"sloprobe.diff.http\" name=\"GET /b (api:8000)\" "
		 "time=\"30.000\"/>\n");
	has(out, "name=\"GET /gone (api:8000)\" time=\"30.000\">\n      <skipped message=\"only in "
		 "baseline\"/>\n");
	has(out, "name=\"GET /new (api:8000)\" time=\"30.000\">\n      <skipped message=\"only in "
		 "after\"/>\n");
	assert_null(strstr(out, "DB queries"));
	/* No label: no label property, and the messages as they always were. */
	has(out, "    <properties>\n      <property name=\"baseline\" value=\"a.json\"/>\n"
		 "      <property name=\"after\" value=\"b.json\"/>\n    </properties>\n");
	assert_null(strstr(out, ".label"));
	free(out);

	/* --label: in the root's name and the properties, and naming the sides in messages. */
	out = render_labelled(civerdict__diff_junit, &a, &b, &regressed, "main", "pr-42 <x>");
	has(out, "<testsuites name=\"sloprobe diff a.json b.json --label baseline=main --label "
		 "after=pr-42 &lt;x&gt;\" tests=\"7\"");
	has(out, "      <property name=\"baseline.label\" value=\"main\"/>\n");
	has(out, "      <property name=\"after.label\" value=\"pr-42 &lt;x&gt;\"/>\n");
	has(out, "<failure type=\"slo_regressed\" message=\"regressed: passed in main (10.00 ms), "
		 "breaches in pr-42 &lt;x&gt; (30.00 ms)\">");
	has(out, "<failure type=\"regressed\" message=\"regressed: p50 ms: main 10.00 ms -&gt; "
		 "pr-42 &lt;x&gt; 30.00 ms (+200.0 %)");
	has(out, "name=\"GET /gone (api:8000)\" time=\"30.000\">\n      <skipped message=\"only in "
		 "main\"/>\n");
	has(out, "name=\"GET /new (api:8000)\" time=\"30.000\">\n      <skipped message=\"only in "
		 "pr-42 &lt;x&gt;\"/>\n");
	/* Case names stay as they are, whatever the labels: CI keeps a case's history by name. */
	has(out, "name=\"after: events lost\"");
	free(out);
	run__free(&a);
	run__free(&b);
}

/* diff --fail-on regression counts what the JUnit fails: /a regressed; the other way, none. */
static void test_regressions(void **state)
{
	struct diff_rule rule;
	struct run a, b;
	unsigned n[3] = { 9, 9, 9 };

	(void)state;
	diff_runs(&a, &b);
	diff__default_rule(&rule);
	assert_int_equal(civerdict__regressions(&a, &b, &rule, n), 1);
	assert_int_equal(n[0], 1);
	assert_int_equal(n[1], 0);
	assert_int_equal(n[2], 0);
	assert_int_equal(civerdict__regressions(&b, &a, &rule, n), 0);
	assert_int_equal(n[0], 0);
	/* 30 ms against 10 ms is within a 250 % noise rule */
	rule.rel = 2.5;
	assert_int_equal(civerdict__regressions(&a, &b, &rule, n), 0);
	/* too few samples on a side: not judged, not a regression */
	diff__default_rule(&rule);
	rule.min_samples = 31;
	assert_int_equal(civerdict__regressions(&a, &b, &rule, n), 0);
	run__free(&a);
	run__free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_json), cmocka_unit_test(test_report_junit),
		cmocka_unit_test(test_diff_json),   cmocka_unit_test(test_diff_junit),
		cmocka_unit_test(test_regressions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
