// SPDX-License-Identifier: GPL-2.0-only
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/hist.h"
#include "lib/units.h"
#include "run/slo.h"

#define MS 1000000ull

static const char *header = "apiVersion: sloprobe/v1\nkind: SLO\n";

static struct slo_set *parse(const char *text, char *err, size_t errsz)
{
	return slo__parse_string(text, strlen(text), "t.yaml", err, errsz);
}

/* header + body must parse; returns the set */
static struct slo_set *parse_ok(const char *body)
{
	char buf[4096], err[256];
	struct slo_set *s;

	snprintf(buf, sizeof(buf), "%s%s", header, body);
	s = parse(buf, err, sizeof(err));
	if (!s)
		fail_msg("unexpected error: %s", err);
	return s;
}

/* text (no header added) must fail with exactly msg */
static void expect_err(const char *text, const char *msg)
{
	char err[256];
	struct slo_set *s = parse(text, err, sizeof(err));

	if (s) {
		slo__free(s);
		fail_msg("parsed, expected: %s", msg);
	}
	assert_string_equal(err, msg);
}

static void expect_body_err(const char *body, const char *msg)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s%s", header, body);
	expect_err(buf, msg);
}

static char *fmt_obj(const struct slo_objective *o)
{
	static char buf[128];

	slo__format_objective(o, buf, sizeof(buf));
	return buf;
}

static void test_duration(void **state)
{
	static const struct {
		const char *s;
		uint64_t ns;
	} ok[] = {
		{ "300ms", 300 * MS },
		{ "0.5s", 500 * MS },
		{ "250us", 250000 },
		{ "20ns", 20 },
		{ "1.5ms", 1500000 },
		{ "2m", 120000 * MS },
		{ "0ms", 0 },
		{ "300 ms", 300 * MS },
		{ "1.000000000s", 1000 * MS },
		{ "0.000001ms", 1 },
		{ "18446744073ms", 18446744073000000ull },
	};
	static const struct {
		const char *s, *why;
	} bad[] = {
		{ "300", "missing unit (ns, us, ms, s or m)" },
		{ "ms", "expected a number before the unit" },
		{ "-1ms", "negative duration" },
		{ "1e999s", "unknown unit (use ns, us, ms, s or m)" },
		{ "1.5.5ms", "expected a number" },
		{ "1.ms", "expected digits after '.'" },
		{ ".5s", "expected a number" },
		{ "0.5ns", "too many decimals" },
		{ "1h", "unknown unit (use ns, us, ms, s or m)" },
		{ "18446744074s", "too large" },
		{ "99999999999999999999999ms", "too large" },
		{ "", "expected a number before the unit" },
		{ "5 MS", "unknown unit (use ns, us, ms, s or m)" },
	};
	uint64_t ns;
	const char *why;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ns = 7;
		assert_int_equal(slo__parse_duration(ok[i].s, &ns, &why), 0);
		assert_int_equal(ns, ok[i].ns);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		assert_int_equal(slo__parse_duration(bad[i].s, &ns, &why), -22);
		assert_string_equal(why, bad[i].why);
	}
	/* why is optional */
	assert_int_equal(slo__parse_duration("x", &ns, NULL), -22);
}

static void test_ratio(void **state)
{
	static const struct {
		const char *s;
		uint64_t ppb;
	} ok[] = {
		{ "0.5%", 5000000 },	  { "0.005", 5000000 }, { "99%", 990000000 },
		{ "100%", SLO_PPB },	  { "1", SLO_PPB },	{ "0", 0 },
		{ "99.999%", 999990000 }, { "0.0000001%", 1 },	{ "0.5 %", 5000000 },
		{ "0.000000001", 1 },
	};
	static const struct {
		const char *s, *why;
	} bad[] = {
		{ "101%", "above 100%" },
		{ "1.5", "above 1 (a percentage needs %)" },
		{ "-1%", "negative ratio" },
		{ "%", "expected a ratio (0.005) or a percentage (0.5%)" },
		{ "5%%", "expected a ratio (0.005) or a percentage (0.5%)" },
		{ "abc", "expected a ratio (0.005) or a percentage (0.5%)" },
		{ "0.00000001%", "too many decimals" },
		{ "1e-3", "expected a ratio (0.005) or a percentage (0.5%)" },
	};
	uint64_t ppb, pct;
	const char *why;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(slo__parse_ratio(ok[i].s, &ppb, &why), 0);
		assert_int_equal(ppb, ok[i].ppb);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		assert_int_equal(slo__parse_ratio(bad[i].s, &ppb, &why), -22);
		assert_string_equal(why, bad[i].why);
	}
	assert_int_equal(slo__parse_percentile("95", &pct, &why), 0);
	assert_int_equal(pct, 950000000);
	assert_int_equal(slo__parse_percentile("99.9", &pct, &why), 0);
	assert_int_equal(pct, 999000000);
	assert_int_equal(slo__parse_percentile("100", &pct, &why), 0);
	assert_int_equal(pct, SLO_PPB);
	assert_int_equal(slo__parse_percentile("0", &pct, &why), -22);
	assert_string_equal(why, "percentile must be above 0 and at most 100");
	assert_int_equal(slo__parse_percentile("100.1", &pct, &why), -22);
	assert_int_equal(slo__parse_percentile("-5", &pct, &why), -22);
}

static void test_format(void **state)
{
	/* The SLO grammar reads back what units__ns_exact() writes of a threshold. */
	static const uint64_t ns[] = { 0, 1, 1000, 1234567, 300 * MS, 1500 * MS, UINT64_MAX };
	char buf[64];
	uint64_t back;

	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		units__ns_exact(ns[i], buf, sizeof(buf));
		assert_int_equal(slo__parse_duration(buf, &back, NULL), 0);
		assert_true(back == ns[i]);
	}
	slo__format_ratio(5000000, buf, sizeof(buf));
	assert_string_equal(buf, "0.5%");
	slo__format_ratio(999500000, buf, sizeof(buf));
	assert_string_equal(buf, "99.95%");
	slo__format_ratio(SLO_PPB, buf, sizeof(buf));
	assert_string_equal(buf, "100%");
	/* truncation stays NUL-terminated */
	assert_int_equal(slo__format_ratio(999500000, buf, 4), 6);
	assert_string_equal(buf, "99.");
}

static void test_k6(void **state)
{
	static const struct {
		const char *in, *out;
		enum slo_obj_kind kind;
	} ok[] = {
		{ "p(95)<=300ms", "p95 <= 300 ms", SLO_OBJ_LATENCY },
		{ "p(99.9)<1s", "p99.9 < 1 s", SLO_OBJ_LATENCY },
		{ "avg<200ms", "avg < 200 ms", SLO_OBJ_AVG },
		{ "max<=2s", "max <= 2 s", SLO_OBJ_MAX },
		{ "min<1ms", "min < 1 ms", SLO_OBJ_MIN },
		{ "med<100ms", "p50 < 100 ms", SLO_OBJ_LATENCY },
		{ "rate<0.005", "5xx rate < 0.5%", SLO_OBJ_ERRORS },
		{ "rate<=1%", "5xx rate <= 1%", SLO_OBJ_ERRORS },
		{ "count>=100", "count >= 100", SLO_OBJ_COUNT },
		{ "count>5", "count > 5", SLO_OBJ_COUNT },
		{ " p(95) < 250 ", "p95 < 250 ms", SLO_OBJ_LATENCY }, /* bare number: ms, as k6 */
		{ "p(90)<0.5", "p90 < 500 us", SLO_OBJ_LATENCY },
		{ "hit_ratio>=90%", "hit ratio >= 90%", SLO_OBJ_HIT_RATIO },
		{ "hit_ratio > 0.995", "hit ratio > 99.5%", SLO_OBJ_HIT_RATIO },
	};
	static const struct {
		const char *in, *why;
	} bad[] = {
		{ "p(95)>300ms", "latency objectives take < or <= (an upper bound)" },
		{ "rate>0.95", "rate is the error rate: it takes < or <=" },
		{ "count<100", "count takes > or >= (a minimum number of observations)" },
		{ "p(95)==300ms", "only <, <=, > and >= are supported" },
		{ "p95<300ms", "expected p(N), med, avg, min, max, rate, count or hit_ratio" },
		{ "p(0)<300ms", "percentile must be above 0 and at most 100" },
		{ "p(95<300ms", "expected p(N) with a percentile N" },
		{ "avg", "expected an operator (<, <=, >, >=)" },
		{ "avg<", "expected a value after the operator" },
		{ "avg<300xs", "unknown unit (use ns, us, ms, s or m)" },
		{ "rate<2", "above 1 (a percentage needs %)" },
		{ "average<3ms", "expected p(N), med, avg, min, max, rate, count or hit_ratio" },
		{ "hit_ratio<90%", "hit_ratio is a floor: it takes > or >=" },
		{ "hit_ratio>=90", "above 1 (a percentage needs %)" },
		{ "hit_ratio>=5ms", "expected a ratio (0.005) or a percentage (0.5%)" },
		{ "hit_ratios>=0.9",
		  "expected p(N), med, avg, min, max, rate, count or hit_ratio" },
		{ "count>=1.5", "too many decimals" },
	};
	const char *why;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct slo_objective o = { 0 };

		assert_int_equal(slo__parse_k6(ok[i].in, &o, &why), 0);
		assert_int_equal(o.kind, ok[i].kind);
		if (o.kind == SLO_OBJ_ERRORS)
			strcpy(o.errors_label, "5xx");
		assert_string_equal(fmt_obj(&o), ok[i].out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct slo_objective o = { 0 };

		why = NULL;
		assert_int_equal(slo__parse_k6(bad[i].in, &o, &why), -22);
		assert_string_equal(why, bad[i].why);
	}
}

static void test_status_set(void **state)
{
	struct slo_status_set s = { 0 };
	const char *why;

	assert_int_equal(slo__status_set_add(&s, "5xx", &why), 0);
	assert_int_equal(slo__status_set_add(&s, "429", &why), 0);
	assert_true(slo__status_in(&s, 500));
	assert_true(slo__status_in(&s, 599));
	assert_true(slo__status_in(&s, 429));
	assert_false(slo__status_in(&s, 499));
	assert_false(slo__status_in(&s, 600));
	assert_false(slo__status_in(&s, -1));
	assert_false(slo__status_in(&s, 0));
	assert_int_equal(slo__status_set_add(&s, "6xx", &why), -22);
	assert_string_equal(why, "expected a status (429), a class (5xx) or failed");
	assert_int_equal(slo__status_set_add(&s, "42", &why), -22);
	assert_int_equal(slo__status_set_add(&s, "4x9", &why), -22);
	assert_int_equal(slo__status_set_add(&s, "099", &why), -22);
}

static const char *full_file =
	"apiVersion: sloprobe/v1\n"
	"kind: SLO\n"
	"description: shop\n"
	"warmup: 30s\n"
	"min_samples: 200\n"
	"slos:\n"
	"  - name: checkout\n"
	"    displayName: Checkout\n"
	"    http: {method: POST, route: /api/checkout*, comm: gunicorn}\n"
	"    objectives:\n"
	"      - {p: 95, le: 300ms}\n"
	"      - {p: 99, lt: 1s, name: tail}\n"
	"      - {le: 300ms, target: 99%}\n"
	"      - {errors: 5xx, le: 0.5%}\n"
	"      - {errors: [5xx, 404], lt: 0.01, displayName: errs}\n"
	"  - name: search\n"
	"    http: {route: \"/api/search*\", container: \"shop-*\", service: \"*:8080\"}\n"
	"    per: all\n"
	"    protection: [429, 503]\n"
	"    min_samples: 5\n"
	"    objectives:\n"
	"      - \"p(99.9)<1s\"\n"
	"      - \"med<50ms\"\n"
	"      - {threshold: \"rate<0.01\", errors: [4xx, 5xx]}\n"
	"      - \"count>=100\"\n"
	"      - \"avg<200ms\"\n"
	"      - \"max<=2s\"\n"
	"  - name: orders\n"
	"    db: {query: \"select * from orders where user_id = *\"}\n"
	"    objectives: [\"p(99)<=20ms\", \"rate<1%\", {errors: failed, le: 0.1%}]\n"
	"  - name: all-db\n"
	"    db: all\n"
	"    objectives: [{p: 95, le: 50ms}]\n"
	"  - name: all-http\n"
	"    http: all\n"
	"    objectives: [\"p(50)<1s\"]\n";

static void test_parse_full(void **state)
{
	char err[256], buf[128];
	struct slo_set *s = parse(full_file, err, sizeof(err));
	struct slo *c, *se, *o, *a;

	if (!s)
		fail_msg("%s", err);
	assert_string_equal(s->file, "t.yaml");
	assert_int_equal(s->warmup_ns, 30000 * MS);
	assert_int_equal(s->min_samples, 200);
	assert_int_equal(s->nslos, 5);
	/* default protection */
	assert_true(slo__status_in(&s->protection, 429));
	assert_true(slo__status_in(&s->protection, 409));
	assert_false(slo__status_in(&s->protection, 503));

	c = &s->slos[0];
	assert_string_equal(c->name, "checkout");
	assert_string_equal(c->display_name, "Checkout");
	assert_int_equal(c->source, SLO_HTTP);
	assert_string_equal(c->method, "POST");
	assert_string_equal(c->route, "/api/checkout*");
	assert_string_equal(c->comm, "gunicorn");
	assert_null(c->service);
	assert_null(c->container);
	assert_int_equal(c->per, SLO_PER_ENDPOINT);
	assert_int_equal(c->min_samples, 200);
	assert_true(slo__status_in(&c->protection, 409));
	assert_int_equal(c->line, 7);
	assert_int_equal(c->column, 5);
	assert_int_equal(c->nobj, 5);
	assert_string_equal(c->obj[0].name, "p95 <= 300 ms");
	assert_int_equal(c->obj[0].line, 11);
	assert_int_equal(c->obj[0].column, 9);
	assert_true(c->obj[0].percentile);
	assert_int_equal(c->obj[0].ratio_ppb, 950000000);
	assert_int_equal(c->obj[0].threshold_ns, 300 * MS);
	assert_false(c->obj[0].strict);
	assert_string_equal(c->obj[1].name, "tail");
	assert_string_equal(fmt_obj(&c->obj[1]), "p99 < 1 s");
	assert_string_equal(c->obj[2].name, "99% of requests <= 300 ms");
	assert_false(c->obj[2].percentile);
	assert_string_equal(c->obj[3].name, "5xx rate <= 0.5%");
	assert_true(slo__status_in(&c->obj[3].errors, 503));
	assert_false(slo__status_in(&c->obj[3].errors, 404));
	assert_string_equal(c->obj[4].name, "errs");
	assert_string_equal(fmt_obj(&c->obj[4]), "5xx,404 rate < 1%");
	assert_true(slo__status_in(&c->obj[4].errors, 404));
	assert_ptr_equal(c->obj[4].slo, c);

	se = &s->slos[1];
	assert_int_equal(se->per, SLO_PER_ALL);
	assert_int_equal(se->min_samples, 5);
	assert_true(slo__status_in(&se->protection, 503));
	assert_false(slo__status_in(&se->protection, 409));
	assert_int_equal(se->nobj, 6);
	assert_string_equal(se->obj[0].name, "p99.9 < 1 s");
	assert_string_equal(se->obj[1].name, "p50 < 50 ms");
	assert_string_equal(se->obj[2].name, "4xx,5xx rate < 1%");
	assert_true(slo__status_in(&se->obj[2].errors, 404));
	assert_string_equal(se->obj[3].name, "count >= 100");
	assert_string_equal(se->obj[4].name, "avg < 200 ms");
	assert_string_equal(se->obj[5].name, "max <= 2 s");
	slo__format_selector(se, buf, sizeof(buf));
	assert_string_equal(buf, "/api/search* service=*:8080 container=shop-*");

	o = &s->slos[2];
	assert_int_equal(o->source, SLO_DB);
	assert_string_equal(o->query, "select * from orders where user_id = *");
	assert_false(slo__status_in(&o->protection, 429)); /* no protection for queries */
	assert_string_equal(o->obj[1].name, "failure rate < 1%");
	assert_true(slo__status_in(&o->obj[1].errors, SLO_DB_FAILED));
	assert_string_equal(o->obj[2].name, "failure rate <= 0.1%");
	slo__format_selector(o, buf, sizeof(buf));
	assert_string_equal(buf, "db query=select * from orders where user_id = *");

	a = &s->slos[3];
	assert_null(a->query);
	assert_null(a->service);
	assert_string_equal(a->obj[0].name, "p95 <= 50 ms");
	slo__format_selector(a, buf, sizeof(buf));
	assert_string_equal(buf, "all DB queries");
	slo__format_selector(&s->slos[4], buf, sizeof(buf));
	assert_string_equal(buf, "all HTTP endpoints");
	slo__format_selector(c, buf, sizeof(buf));
	assert_string_equal(buf, "POST /api/checkout* comm=gunicorn");
	slo__free(s);
}

static void test_parse_defaults(void **state)
{
	struct slo_set *s = parse_ok("protection: []\n"
				     "slos:\n"
				     "- name: a\n"
				     "  http: {route: /x}\n"
				     "  objectives: [\"p(95)<1s\"]\n"
				     "- name: b\n"
				     "  http: {route: /y}\n"
				     "  protection: 429\n"
				     "  objectives: [{target: 0.999, le: 1s}]\n");

	assert_int_equal(s->warmup_ns, 0);
	assert_int_equal(s->min_samples, 1);
	assert_false(slo__status_in(&s->protection, 429));
	assert_false(slo__status_in(&s->slos[0].protection, 429));
	assert_true(slo__status_in(&s->slos[1].protection, 429));
	assert_string_equal(s->slos[1].obj[0].name, "99.9% of requests <= 1 s");
	slo__free(s);
}

/*
 * Cache SLOs: the selector's keys, hit ratio in both forms, latency and failures of commands,
 * and min_samples: 20 unless the file or the SLO gives one.
 */
static void test_parse_cache(void **state)
{
	struct slo_set *s = parse_ok("slos:\n"
				     "- name: plan\n"
				     "  cache: {pattern: \"user:{id}:plan\", command: GET, "
				     "service: \"api*\", server: \"127.0.0.1:6379\"}\n"
				     "  objectives:\n"
				     "  - {hit_ratio: {ge: 90%}}\n"
				     "  - {hit_ratio: {gt: 0.5}, name: most}\n"
				     "  - \"hit_ratio>=75%\"\n"
				     "  - {threshold: \"hit_ratio > 99.5%\"}\n"
				     "  - {p: 99, le: 5ms}\n"
				     "  - {target: 99%, lt: 2ms}\n"
				     "  - \"rate<1%\"\n"
				     "  - {errors: failed, le: 0.1%}\n"
				     "  - \"count>=10\"\n"
				     "- name: all\n"
				     "  cache: all\n"
				     "  per: all\n"
				     "  objectives: [\"p(99)<5ms\"]\n"
				     "- name: own\n"
				     "  cache: {command: \"H*\"}\n"
				     "  min_samples: 3\n"
				     "  objectives: [\"p(99)<5ms\"]\n");
	const struct slo *c = &s->slos[0];
	char buf[160];

	assert_int_equal(s->nslos, 3);
	assert_int_equal(c->source, SLO_CACHE);
	assert_string_equal(c->pattern, "user:{id}:plan");
	assert_string_equal(c->command, "GET");
	assert_string_equal(c->service, "api*");
	assert_string_equal(c->server, "127.0.0.1:6379");
	assert_null(c->query);
	assert_null(c->route);
	assert_int_equal(c->min_samples, SLO_CACHE_MIN_SAMPLES);
	assert_int_equal(SLO_CACHE_MIN_SAMPLES, 20);
	assert_false(slo__status_in(&c->protection, 429)); /* no protection for commands */
	assert_int_equal(c->nobj, 9);
	assert_int_equal(c->obj[0].kind, SLO_OBJ_HIT_RATIO);
	assert_int_equal(c->obj[0].ratio_ppb, 900000000);
	assert_false(c->obj[0].strict);
	assert_string_equal(c->obj[0].name, "hit ratio >= 90%");
	assert_int_equal(c->obj[0].line, 7);
	assert_int_equal(c->obj[0].column, 5);
	assert_string_equal(c->obj[1].name, "most");
	assert_string_equal(fmt_obj(&c->obj[1]), "hit ratio > 50%");
	assert_true(c->obj[1].strict);
	assert_string_equal(c->obj[2].name, "hit ratio >= 75%");
	assert_string_equal(c->obj[3].name, "hit ratio > 99.5%");
	assert_int_equal(c->obj[3].ratio_ppb, 995000000);
	assert_string_equal(c->obj[4].name, "p99 <= 5 ms");
	assert_string_equal(c->obj[5].name, "99% of commands < 2 ms");
	assert_string_equal(c->obj[6].name, "failure rate < 1%");
	assert_true(slo__status_in(&c->obj[6].errors, SLO_DB_FAILED));
	assert_false(slo__status_in(&c->obj[6].errors, 500));
	assert_string_equal(c->obj[7].name, "failure rate <= 0.1%");
	assert_string_equal(c->obj[8].name, "count >= 10");
	assert_string_equal(slo__kind_name(&c->obj[0]), "hit_ratio");
	assert_string_equal(slo__kind_name(&c->obj[4]), "latency_percentile");
	assert_string_equal(slo__source_name(c->source), "cache");
	assert_string_equal(slo__source_name(SLO_HTTP), "http");
	assert_string_equal(slo__source_name(SLO_DB), "db");
	slo__format_selector(c, buf, sizeof(buf));
	assert_string_equal(buf, "cache pattern=user:{id}:plan command=GET service=api* "
				 "server=127.0.0.1:6379");
	slo__format_scope(c, buf, sizeof(buf));
	assert_string_equal(buf, "cache pattern=user:{id}:plan command=GET service=api* "
				 "server=127.0.0.1:6379");
	assert_int_equal(s->slos[1].per, SLO_PER_ALL);
	slo__format_selector(&s->slos[1], buf, sizeof(buf));
	assert_string_equal(buf, "all cache commands");
	slo__format_scope(&s->slos[1], buf, sizeof(buf));
	assert_string_equal(buf, "all cache commands");
	assert_int_equal(s->slos[2].min_samples, 3);
	slo__format_selector(&s->slos[2], buf, sizeof(buf));
	assert_string_equal(buf, "cache command=H*");
	slo__free(s);

	/* a file's min_samples is every SLO's, cache ones too, even below 20 */
	s = parse_ok("min_samples: 5\nslos:\n- name: c\n  cache: all\n"
		     "  objectives: [\"hit_ratio>=90%\"]\n- name: h\n  http: all\n"
		     "  objectives: [\"p(95)<1s\"]\n");
	assert_int_equal(s->slos[0].min_samples, 5);
	assert_int_equal(s->slos[1].min_samples, 5);
	slo__free(s);
	/* without one, HTTP and DB SLOs keep 1 */
	s = parse_ok("slos:\n- name: c\n  cache: all\n  objectives: [\"hit_ratio>=90%\"]\n"
		     "- name: d\n  db: all\n  objectives: [\"p(95)<1s\"]\n");
	assert_int_equal(s->slos[0].min_samples, 20);
	assert_int_equal(s->slos[1].min_samples, 1);
	slo__free(s);
}

/* Every mistake in a cache SLO is one line at the key or value at fault. */
static void test_cache_errors(void **state)
{
	static const struct {
		const char *slo, *msg;
	} e[] = {
		{ "cache: {}\n  objectives: [\"p(99)<5ms\"]",
		  "t.yaml:5:10: empty cache selector: give pattern, command, service or server, or "
		  "write cache: all" },
		{ "cache: {key: \"user:*\"}\n  objectives: [\"p(99)<5ms\"]",
		  "t.yaml:5:11: unknown key \"key\" in cache selector (expected pattern, command, "
		  "service, server)" },
		{ "cache: [GET]\n  objectives: [\"p(99)<5ms\"]",
		  "t.yaml:5:10: cache selector: expected a mapping or all" },
		{ "cache: {pattern: \"\"}\n  objectives: [\"p(99)<5ms\"]",
		  "t.yaml:5:20: pattern: empty value" },
		{ "cache: all\n  http: all\n  objectives: [\"p(99)<5ms\"]",
		  "t.yaml:6:3: an SLO takes cache or http, not both" },
		{ "http: all\n  objectives: [\"p(99)<5ms\"]\n  cache: all",
		  "t.yaml:7:3: an SLO takes http or cache, not both" },
		{ "db: all\n  cache: all\n  objectives: [\"p(99)<5ms\"]",
		  "t.yaml:6:3: an SLO takes db or cache, not both" },
		{ "cache: all\n  protection: [429]\n  objectives: [\"p(99)<5ms\"]",
		  "t.yaml:6:3: protection applies to HTTP SLOs only" },
		{ "cache: all\n  objectives: [{hit_ratio: 90%}]",
		  "t.yaml:6:28: hit_ratio: expected a mapping: hit_ratio: {ge: 90%}" },
		{ "cache: all\n  objectives: [{hit_ratio: {}}]",
		  "t.yaml:6:28: hit_ratio needs ge or gt (e.g. hit_ratio: {ge: 90%})" },
		{ "cache: all\n  objectives: [{hit_ratio: {le: 10%}}]",
		  "t.yaml:6:29: hit_ratio is a floor: give ge or gt (e.g. hit_ratio: {ge: 90%})" },
		{ "cache: all\n  objectives: [{hit_ratio: {lt: 10%}}]",
		  "t.yaml:6:29: hit_ratio is a floor: give ge or gt (e.g. hit_ratio: {ge: 90%})" },
		{ "cache: all\n  objectives: [{hit_ratio: {ge: 90%, gt: 80%}}]",
		  "t.yaml:6:38: give ge or gt, not both" },
		{ "cache: all\n  objectives: [{hit_ratio: {ge: 90}}]",
		  "t.yaml:6:33: ge: bad ratio \"90\": above 1 (a percentage needs %)" },
		{ "cache: all\n  objectives: [{hit_ratio: {gt: 101%}}]",
		  "t.yaml:6:33: gt: bad ratio \"101%\": above 100%" },
		{ "cache: all\n  objectives: [{hit_ratio: {ge: 90%}, le: 5ms}]",
		  "t.yaml:6:39: hit_ratio cannot be combined with le" },
		{ "cache: all\n  objectives: [{p: 99, hit_ratio: {ge: 90%}}]",
		  "t.yaml:6:17: hit_ratio cannot be combined with p" },
		{ "cache: all\n  objectives: [{hit_ratio: {ge: 90%}, errors: failed}]",
		  "t.yaml:6:39: hit_ratio cannot be combined with errors" },
		{ "cache: all\n  objectives: [{hit_ratio: {ge: 90%}, threshold: \"p(99)<1s\"}]",
		  "t.yaml:6:39: hit_ratio cannot be combined with threshold" },
		{ "cache: all\n  objectives: [{hit_ratio: {ge: 90%, x: 1}}]",
		  "t.yaml:6:38: unknown key \"x\" in hit_ratio (expected ge, gt, le, lt)" },
		{ "cache: all\n  objectives: [\"hit_ratio<=90%\"]",
		  "t.yaml:6:16: bad objective \"hit_ratio<=90%\": hit_ratio is a floor: it takes > "
		  "or >=" },
		{ "cache: all\n  objectives: [{errors: 5xx, le: 1%}]",
		  "t.yaml:6:25: errors: a cache SLO counts failed commands (error replies): write "
		  "failed" },
		{ "cache: all\n  objectives: [{le: 1s}]",
		  "t.yaml:6:16: objective needs p, target, errors, hit_ratio or threshold" },
		{ "cache: all\n  objectives: [\"p(99)>5ms\"]",
		  "t.yaml:6:16: bad objective \"p(99)>5ms\": latency objectives take < or <= (an "
		  "upper bound)" },
	};

	for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
		char body[512];

		snprintf(body, sizeof(body), "slos:\n- name: a\n  %s\n", e[i].slo);
		expect_body_err(body, e[i].msg);
	}
}

static void test_parse_file(void **state)
{
	char path[] = "/tmp/test_slo.XXXXXX", err[256];
	int fd = mkstemp(path);
	struct slo_set *s;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, full_file, strlen(full_file)), (int)strlen(full_file));
	close(fd);
	s = slo__parse_file(path, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(s->nslos, 5);
	assert_string_equal(s->file, path);
	slo__free(s);
	unlink(path);
	assert_null(slo__parse_file(path, err, sizeof(err)));
	assert_true(strstr(err, "No such file or directory") != NULL);
	assert_null(slo__parse_file("docs/examples/missing.yaml", err, sizeof(err)));
	assert_string_equal(err, "docs/examples/missing.yaml: No such file or directory");
}

static void test_example_file(void **state)
{
	char err[256];
	struct slo_set *s = slo__parse_file("docs/examples/slo.yaml", err, sizeof(err));

	if (!s)
		fail_msg("%s", err);
	assert_int_equal(s->nslos, 5);
	assert_int_equal(s->warmup_ns, 30000 * MS);
	slo__free(s);
}

static void test_errors(void **state)
{
	/* header and structure */
	expect_err("", "t.yaml:1:1: empty SLO file");
	expect_err("kind: SLO\n", "t.yaml:1:1: missing apiVersion: sloprobe/v1");
	expect_err("apiVersion: openslo/v1\n",
		   "t.yaml:1:13: unsupported apiVersion \"openslo/v1\" (expected sloprobe/v1)");
	expect_err("apiVersion: sloprobe/v1\n", "t.yaml:1:1: missing kind: SLO");
	expect_err("apiVersion: sloprobe/v1\nkind: SLOSet\n",
		   "t.yaml:2:7: unsupported kind \"SLOSet\" (expected SLO)");
	expect_err("- a\n- b\n", "t.yaml:1:1: the SLO file: expected a mapping");
	expect_body_err("", "t.yaml:1:1: missing slos: the list of SLOs");
	expect_body_err("slos: []\n", "t.yaml:3:7: slos: empty list");
	expect_body_err("slos: {a: 1}\n", "t.yaml:3:7: slos: expected a list");
	/* unknown and duplicate keys */
	expect_body_err("warmpu: 10s\n",
			"t.yaml:3:1: unknown key \"warmpu\" in the SLO file (expected apiVersion, "
			"kind, description, warmup, min_samples, protection, slos)");
	expect_body_err("warmup: 1s\nwarmup: 2s\n",
			"t.yaml:4:1: duplicate key \"warmup\" (first at line 3)");
	expect_body_err("slos:\n- name: a\n  htp: {route: /x}\n",
			"t.yaml:5:3: unknown key \"htp\" in SLO (expected name, displayName, "
			"description, http, db, cache, per, min_samples, protection, objectives)");
	expect_body_err("slos:\n- name: a\n  http: {rout: /x}\n",
			"t.yaml:5:10: unknown key \"rout\" in http selector (expected method, "
			"route, service, comm, container)");
	expect_body_err(
		"slos:\n- name: a\n  http: {route: /x}\n  objectives: [{p: 95, le: 1s, "
		"pp: 1}]\n",
		"t.yaml:6:32: unknown key \"pp\" in objective (expected name, "
		"displayName, description, threshold, p, target, le, lt, errors, hit_ratio)");
	expect_body_err("slos:\n- name: a\n  http: {route: /x, route: /y}\n",
			"t.yaml:5:21: duplicate key \"route\" (first at line 5)");
	/* wrong types */
	expect_body_err("min_samples: many\n",
			"t.yaml:3:14: min_samples: expected a non-negative integer, got \"many\"");
	expect_body_err("min_samples: -1\n",
			"t.yaml:3:14: min_samples: expected a non-negative integer, got \"-1\"");
	expect_body_err("warmup: [1s]\n", "t.yaml:3:9: warmup: expected a value, not a list");
	expect_body_err("warmup: {a: 1}\n", "t.yaml:3:9: warmup: expected a value, not a mapping");
	expect_body_err("warmup:\n", "t.yaml:3:8: warmup: empty value");
	expect_body_err("slos:\n- name: [a]\n", "t.yaml:4:9: name: expected a value, not a list");
	expect_body_err("slos:\n- name: a\n  http: [/x]\n",
			"t.yaml:5:9: http selector: expected a mapping or all");
	expect_body_err("slos:\n- name: a\n  http: {route: /x}\n  objectives: {p: 95}\n",
			"t.yaml:6:15: objectives: expected a list");
	/* bad values */
	expect_body_err(
		"warmup: 300\n",
		"t.yaml:3:9: warmup: bad duration \"300\": missing unit (ns, us, ms, s or m)");
	expect_body_err("warmup: -1ms\n",
			"t.yaml:3:9: warmup: bad duration \"-1ms\": negative duration");
	expect_body_err(
		"warmup: 1e999s\n",
		"t.yaml:3:9: warmup: bad duration \"1e999s\": unknown unit (use ns, us, ms, "
		"s or m)");
	expect_body_err(
		"protection: [429, 6xx]\n",
		"t.yaml:3:19: protection: bad entry \"6xx\": expected a status (429), a class "
		"(5xx) or failed");
	expect_body_err("protection: [failed]\n",
			"t.yaml:3:14: protection: failed applies to DB and cache SLOs only");
	expect_body_err("protection: [[429]]\n",
			"t.yaml:3:14: protection: expected a value, not a list");
	expect_body_err("slos:\n- name: a\n  http: {route: /x}\n  per: each\n",
			"t.yaml:6:8: per: expected endpoint or all, got \"each\"");
	/* SLO structure */
	expect_body_err("slos:\n- http: {route: /x}\n", "t.yaml:4:3: SLO without a name");
	expect_body_err("slos:\n- name: a\n  objectives: [\"p(95)<1s\"]\n",
			"t.yaml:4:3: SLO \"a\": missing http, db or cache selector");
	expect_body_err("slos:\n- name: a\n  http: {route: /x}\n  db: all\n",
			"t.yaml:6:3: an SLO takes http or db, not both");
	expect_body_err("slos:\n- name: a\n  http: {}\n",
			"t.yaml:5:9: empty http selector: give method, route, service, comm or "
			"container, or write http: all");
	expect_body_err("slos:\n- name: a\n  db: {}\n",
			"t.yaml:5:7: empty db selector: give query or service, or write db: all");
	expect_body_err("slos:\n- name: a\n  http: {route: \"\"}\n",
			"t.yaml:5:17: route: empty value");
	expect_body_err("slos:\n- name: a\n  http: some\n",
			"t.yaml:5:9: http selector: expected a mapping or all");
	expect_body_err("slos:\n- name: a\n  http: {route: /x}\n",
			"t.yaml:4:3: SLO \"a\": missing objectives");
	expect_body_err("slos:\n- name: a\n  http: {route: /x}\n  objectives: []\n",
			"t.yaml:6:15: objectives: empty list");
	expect_body_err("slos:\n- name: a\n  db: all\n  protection: [429]\n",
			"t.yaml:6:3: protection applies to HTTP SLOs only");
	expect_body_err("slos:\n- name: a\n  http: all\n  objectives: [\"p(95)<1s\"]\n"
			"- name: a\n  http: all\n  objectives: [\"p(95)<1s\"]\n",
			"t.yaml:7:9: duplicate SLO name \"a\" (first at line 4)");
	/* objectives */
	{
		static const struct {
			const char *obj, *msg;
		} o[] = {
			{ "\"p(95)<300\"", NULL },
			{ "\"p(95)>300ms\"", "t.yaml:7:5: bad objective \"p(95)>300ms\": latency "
					     "objectives take < or <= (an upper bound)" },
			{ "{p: 95}",
			  "t.yaml:7:5: latency objective needs le or lt (e.g. le: 300ms)" },
			{ "{le: 1s}",
			  "t.yaml:7:5: objective needs p, target, errors or threshold" },
			{ "{p: 95, le: 1s, lt: 2s}", "t.yaml:7:21: give le or lt, not both" },
			{ "{p: 95, target: 99%, le: 1s}",
			  "t.yaml:7:13: give p or target, not both" },
			{ "{p: 101, le: 1s}", "t.yaml:7:9: p: bad percentile \"101\": percentile "
					      "must be above 0 and at most 100" },
			{ "{p: 95, le: 300}", "t.yaml:7:17: le: bad duration \"300\": missing unit "
					      "(ns, us, ms, s or m)" },
			{ "{target: 101%, le: 1s}",
			  "t.yaml:7:14: target: bad ratio \"101%\": above 100%" },
			{ "{target: 0, le: 1s}", "t.yaml:7:14: target: must be above 0" },
			{ "{target: 99, le: 1s}", "t.yaml:7:14: target: bad ratio \"99\": above 1 "
						  "(a percentage needs %)" },
			{ "{errors: 5xx}",
			  "t.yaml:7:5: error-rate objective needs le or lt (e.g. le: 0.5%)" },
			{ "{errors: 5xx, le: 300ms}", "t.yaml:7:23: le: bad ratio \"300ms\": "
						      "expected a ratio (0.005) or a percentage "
						      "(0.5%)" },
			{ "{errors: 5xx, p: 95, le: 1%}",
			  "t.yaml:7:19: errors cannot be combined with p" },
			{ "{errors: [5xx, 429], le: 1%}",
			  "t.yaml:7:20: errors: 429 is a protection status of this SLO; it never "
			  "counts as an error" },
			{ "{errors: failed, le: 1%}",
			  "t.yaml:7:14: errors: failed applies to DB and cache SLOs only" },
			{ "{hit_ratio: {ge: 90%}}",
			  "t.yaml:7:6: hit_ratio applies to cache SLOs only" },
			{ "\"hit_ratio>=90%\"",
			  "t.yaml:7:5: hit_ratio applies to cache SLOs only" },
			{ "{errors: 7xx, le: 1%}",
			  "t.yaml:7:14: errors: bad entry \"7xx\": expected "
			  "a status (429), a class (5xx) or failed" },
			{ "{threshold: \"p(95)<1s\", le: 1s}",
			  "t.yaml:7:29: threshold cannot be combined with le" },
			{ "{threshold: \"p(95)<1s\", errors: 5xx}",
			  "t.yaml:7:29: errors applies to rate thresholds only" },
			{ "{threshold: \"rate<=2\"}",
			  "t.yaml:7:17: threshold: bad objective "
			  "\"rate<=2\": above 1 (a percentage needs %)" },
			{ "[p, 95]", "t.yaml:7:5: objective: expected a mapping" },
		};

		for (size_t i = 0; i < sizeof(o) / sizeof(o[0]); i++) {
			char body[512];

			snprintf(body, sizeof(body),
				 "slos:\n- name: a\n  http: all\n  objectives:\n  - %s\n",
				 o[i].obj);
			if (o[i].msg)
				expect_body_err(body, o[i].msg);
			else
				slo__free(parse_ok(body));
		}
	}
	expect_body_err("slos:\n- name: a\n  db: all\n  objectives: [{errors: 5xx, le: 1%}]\n",
			"t.yaml:6:25: errors: a DB SLO counts failed queries: write failed");
}

static void test_yaml_errors(void **state)
{
	expect_err("apiVersion: sloprobe/v1\nkind: [SLO\n",
		   "t.yaml:3:1: YAML syntax: did not find expected ',' or ']' while parsing a "
		   "flow sequence");
	expect_err("apiVersion: sloprobe/v1\n  kind: SLO\n",
		   "t.yaml:2:7: YAML syntax: mapping values are not allowed in this context");
	expect_err("a: *nope\n", "t.yaml:1:4: YAML syntax: found undefined alias");
	expect_err("apiVersion: sloprobe/v1\nkind: SLO\nslos:\n- name: a\n  http: all\n"
		   "  objectives: [\"p(95)<1s\"]\n---\nx: 1\n",
		   "t.yaml:8:1: only one YAML document is allowed");
	expect_body_err("warmup: \"1s\\0\"\n", "t.yaml:3:9: warmup: NUL byte in value");
	expect_body_err("? [a]\n: 1\n", "t.yaml:3:3: the SLO file: keys must be strings");
	/* an alias to an SLO repeats its name */
	expect_body_err("slos:\n- &s {name: a, http: all, objectives: [\"p(95)<1s\"]}\n- *s\n",
			"t.yaml:4:13: duplicate SLO name \"a\" (first at line 4)");
}

/*
 * CPU time allowed for 4 MiB: a quadratic parser takes minutes. Under ASan (make mutate) every
 * access is checked and the same linear parse takes several times longer.
 */
#if defined(__SANITIZE_ADDRESS__)
#define PARSE_CPU_MAX 5.0
#else
#define PARSE_CPU_MAX 1.0
#endif

/* Parses len bytes of text, expecting msg, in well under a second of CPU time. */
static void expect_err_fast(const char *text, size_t len, const char *msg)
{
	struct timespec a, b;
	struct slo_set *s;
	char err[256];
	double cpu;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	s = slo__parse_string(text, len, "t.yaml", err, sizeof(err));
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	cpu = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	if (s) {
		slo__free(s);
		fail_msg("parsed, expected: %s", msg);
	}
	assert_string_equal(err, msg);
	if (cpu > PARSE_CPU_MAX)
		fail_msg("%.2f s of CPU for %zu bytes", cpu, len);
}

/* A file of 4 MiB (the size limit) less 64 bytes: header, then fill repeated, then tail. */
static char *big(const char *head, const char *fill, const char *tail, size_t *len)
{
	size_t n = SLO_FILE_MAX - 64, hl = strlen(head), fl = strlen(fill), tl = strlen(tail);
	char *buf = malloc(n + 1);
	size_t off = hl;

	assert_non_null(buf);
	memcpy(buf, head, hl);
	while (off + fl + tl <= n) {
		memcpy(buf + off, fill, fl);
		off += fl;
	}
	memcpy(buf + off, tail, tl);
	off += tl;
	buf[off] = '\0';
	*len = off;
	return buf;
}

/*
 * libyaml's own loader took time quadratic in the nesting depth (100 KB of "[" took 15 s, a
 * file at the size limit minutes), in the number of anchors and of %TAG directives: every file
 * under the size limit is now refused or read in well under a second.
 */
static void test_limits(void **state)
{
	static const struct {
		const char *head, *fill, *tail, *msg;
	} c[] = {
		{ "", "[", "", "t.yaml:1:65: nested more than 64 levels deep" },
		{ "", "{a: ", "", "t.yaml:1:257: nested more than 64 levels deep" },
		{ "", "- ", "x\n", "t.yaml:1:129: nested more than 64 levels deep" },
		{ "slos:\n- ", "[{a: ", "", "t.yaml:2:158: nested more than 64 levels deep" },
		{ "a: [", "1, ", "1]\n", "t.yaml:1:599996: more than 200000 YAML nodes" },
		{ "a: [&a 1", ", *a", "]\n",
		  "t.yaml:1:1: unknown key \"a\" in the SLO file (expected apiVersion, kind, "
		  "description, warmup, min_samples, protection, slos)" },
		{ "", "%TAG !t! tag:x,2000:\n", "--- x\n",
		  "t.yaml:17:1: more than 16 YAML directives" },
	};
	char *buf, line[2048];
	size_t len, off;

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		buf = big(c[i].head, c[i].fill, c[i].tail, &len);
		expect_err_fast(buf, len, c[i].msg);
		free(buf);
	}

	/* Block mappings nested by indentation: 65 levels take 2 KB. */
	buf = malloc(SLO_FILE_MAX);
	assert_non_null(buf);
	off = 0;
	for (int d = 0; off + 200 < SLO_FILE_MAX; d++) {
		snprintf(line, sizeof(line), "%*sk%d:\n", d % 1000, "", d);
		memcpy(buf + off, line, strlen(line));
		off += strlen(line);
	}
	expect_err_fast(buf, off, "t.yaml:65:65: nested more than 64 levels deep");

	/* Many anchors, each used once: hashed, not searched. */
	off = 0;
	off += snprintf(buf + off, SLO_FILE_MAX - off, "[");
	for (int i = 0; i < 90000; i++)
		off += snprintf(buf + off, SLO_FILE_MAX - off, "&a%d 1, *a%d, ", i, i);
	off += snprintf(buf + off, SLO_FILE_MAX - off, "1]\n");
	expect_err_fast(buf, off, "t.yaml:1:1: the SLO file: expected a mapping");

	/*
	 * A billion laughs within the schema: one objective with a 600-entry status list,
	 * aliased 10 times per SLO, the list of 10 aliased by 1000 SLOs: 6 million entries to
	 * check from a 44 KB file (it took 4.8 s and was accepted).
	 */
	off = snprintf(buf, SLO_FILE_MAX,
		       "%sslos:\n- name: s0\n  http: all\n  objectives: &o\n"
		       "  - &obj {le: 1%%, errors: [",
		       header);
	for (int i = 0; i < 600; i++)
		off += snprintf(buf + off, SLO_FILE_MAX - off, "%s%d", i ? "," : "", 500 + i % 100);
	off += snprintf(buf + off, SLO_FILE_MAX - off, "]}\n");
	for (int i = 0; i < 9; i++)
		off += snprintf(buf + off, SLO_FILE_MAX - off, "  - *obj\n");
	for (int i = 1; i < 1000; i++)
		off += snprintf(buf + off, SLO_FILE_MAX - off,
				"- name: s%d\n  http: all\n  objectives: *o\n", i);
	expect_err_fast(buf, off, "t.yaml:7:27: aliases expand the file to more than 200000 nodes");
	free(buf);

	/* Aliases: undefined, to the node they are in, an anchor given twice. */
	expect_err("a: *nope\n", "t.yaml:1:4: YAML syntax: found undefined alias");
	expect_err("a: &x [1, *x]\n", "t.yaml:1:11: alias *x inside its own anchor");
	expect_err("a: &x 1\nb: &x 2\n", "t.yaml:2:4: duplicate anchor &x (first at line 1)");
	/* Ordinary anchors still work. */
	slo__free(parse_ok("protection: &p [429]\nslos:\n- name: a\n  http: all\n"
			   "  protection: *p\n  objectives: [&o \"p(95)<1s\"]\n"
			   "- name: b\n  http: all\n  objectives: [*o]\n"));
}

/* --- verdicts --- */

static struct slo slo_one(uint64_t min_samples)
{
	struct slo s = { .name = "t", .source = SLO_HTTP, .min_samples = min_samples };

	slo__status_set_add(&s.protection, "429", NULL);
	slo__status_set_add(&s.protection, "409", NULL);
	return s;
}

static struct slo_objective obj_k6(const struct slo *s, const char *k6)
{
	struct slo_objective o = { .slo = s };

	assert_int_equal(slo__parse_k6(k6, &o, NULL), 0);
	if (o.kind == SLO_OBJ_ERRORS) {
		slo__status_set_add(&o.errors, "5xx", NULL);
		strcpy(o.errors_label, "5xx");
	}
	return o;
}

static void test_verdict_percentile(void **state)
{
	struct slo s = slo_one(20);
	struct slo_objective o = obj_k6(&s, "p(95)<=300ms");
	struct slo_counts c;
	struct slo_result r;
	struct hist h;

	/* 19 requests at 100 ms and 1 at 900 ms: 19/20 = 95 % good -> p95 = 100 ms, pass */
	slo__counts_init(&c);
	hist__init(&h);
	for (int i = 0; i < 19; i++) {
		slo__count(&o, &c, 100 * MS, 200);
		hist__add(&h, 100 * MS);
	}
	slo__count(&o, &c, 900 * MS, 200);
	hist__add(&h, 900 * MS);
	c.h = &h;
	slo__eval(&o, &c, &r);
	assert_int_equal(r.verdict, SLO_PASS);
	assert_int_equal(r.unit, SLO_UNIT_MS);
	assert_int_equal(r.judged, 20);
	assert_int_equal(r.bad, 1);
	assert_true(fabs(r.target - 300.0) < 1e-9);
	assert_true(fabs(r.observed - 100.0) < 100.0 / 128);
	assert_true(fabs(r.margin - (300.0 - r.observed)) < 1e-9);
	/* 1 bad out of an allowance of 5 % of 20 = 1: exactly spent */
	assert_true(fabs(r.budget_consumed - 1.0) < 1e-9);
	assert_false(r.approximate);

	/* one more bad request: 19/21 < 95 % -> breach, p95 shown above the threshold */
	slo__count(&o, &c, 900 * MS, 200);
	hist__add(&h, 900 * MS);
	slo__eval(&o, &c, &r);
	assert_int_equal(r.verdict, SLO_BREACH);
	assert_int_equal(r.bad, 2);
	assert_true(r.observed > 300.0);
	assert_true(r.margin < 0);
	assert_true(fabs(r.budget_consumed - 2.0 / 1.05) < 1e-9);

	/* without a histogram the percentile is unknown, the verdict is not */
	c.h = NULL;
	slo__eval(&o, &c, &r);
	assert_int_equal(r.verdict, SLO_BREACH);
	assert_true(isnan(r.observed));
	assert_true(isnan(r.margin));
}

static void test_verdict_boundary(void **state)
{
	struct slo s = slo_one(1);
	struct slo_objective le = obj_k6(&s, "p(95)<=300ms"), lt = obj_k6(&s, "p(95)<300ms");
	struct slo_counts cle, clt;
	struct slo_result r;

	/* exactly at the threshold: good for <=, bad for < */
	slo__counts_init(&cle);
	slo__counts_init(&clt);
	for (int i = 0; i < 100; i++) {
		slo__count(&le, &cle, 300 * MS, 200);
		slo__count(&lt, &clt, 300 * MS, 200);
	}
	slo__eval(&le, &cle, &r);
	assert_int_equal(r.verdict, SLO_PASS);
	assert_int_equal(r.bad, 0);
	assert_true(r.budget_consumed == 0.0);
	slo__eval(&lt, &clt, &r);
	assert_int_equal(r.verdict, SLO_BREACH);
	assert_int_equal(r.bad, 100);
	assert_true(fabs(r.budget_consumed - 20.0) < 1e-9);
	/* one ns under passes < */
	slo__counts_init(&clt);
	slo__count(&lt, &clt, 300 * MS - 1, 200);
	slo__eval(&lt, &clt, &r);
	assert_int_equal(r.verdict, SLO_PASS);

	/* p99.9 needs ceil(0.999 n) good: 999 of 1000 passes, 998 fails */
	{
		struct slo_objective o = obj_k6(&s, "p(99.9)<=1s");
		struct slo_counts c;

		slo__counts_init(&c);
		for (int i = 0; i < 999; i++)
			slo__count(&o, &c, 1000 * MS, 200);
		slo__count(&o, &c, 1001 * MS, 200);
		slo__eval(&o, &c, &r);
		assert_int_equal(r.verdict, SLO_PASS);
		assert_true(fabs(r.budget_consumed - 1.0) < 1e-9);
		c.good--;
		slo__eval(&o, &c, &r);
		assert_int_equal(r.verdict, SLO_BREACH);
	}
	/* p100 (max) allows no bad request: budget infinite once one is over */
	{
		struct slo_objective o = obj_k6(&s, "p(100)<=1s");
		struct slo_counts c;

		slo__counts_init(&c);
		slo__count(&o, &c, 2000 * MS, 200);
		slo__eval(&o, &c, &r);
		assert_int_equal(r.verdict, SLO_BREACH);
		assert_true(isinf(r.budget_consumed));
	}
}

static void test_verdict_threshold_form(void **state)
{
	struct slo s = slo_one(1);
	struct slo_objective o = {
		.slo = &s, .kind = SLO_OBJ_LATENCY, .threshold_ns = 300 * MS, .ratio_ppb = 990000000
	};
	struct slo_counts c;
	struct slo_result r;

	assert_string_equal(fmt_obj(&o), "99% of requests <= 300 ms");
	slo__counts_init(&c);
	for (int i = 0; i < 995; i++)
		slo__count(&o, &c, 10 * MS, 200);
	for (int i = 0; i < 5; i++)
		slo__count(&o, &c, 400 * MS, 200);
	slo__eval(&o, &c, &r);
	assert_int_equal(r.verdict, SLO_PASS);
	assert_int_equal(r.unit, SLO_UNIT_RATIO);
	assert_true(fabs(r.observed - 0.995) < 1e-12);
	assert_true(fabs(r.target - 0.99) < 1e-12);
	assert_true(fabs(r.margin - 0.005) < 1e-12);
	assert_true(fabs(r.budget_consumed - 0.5) < 1e-9);
}

static void test_verdict_min_samples(void **state)
{
	struct slo s = slo_one(100);
	struct slo_objective o = obj_k6(&s, "p(95)<=300ms");
	struct slo_counts c;
	struct slo_result r;

	slo__counts_init(&c);
	slo__eval(&o, &c, &r);
	assert_int_equal(r.verdict, SLO_INSUFFICIENT);
	for (int i = 0; i < 99; i++)
		slo__count(&o, &c, 1 * MS, 200);
	slo__eval(&o, &c, &r);
	assert_int_equal(r.verdict, SLO_INSUFFICIENT); /* min_samples - 1: never a pass */
	assert_int_equal(r.judged, 99);
	slo__count(&o, &c, 1 * MS, 200);
	slo__eval(&o, &c, &r);
	assert_int_equal(r.verdict, SLO_PASS); /* exactly min_samples */

	/* a breach below min_samples is insufficient too */
	slo__counts_init(&c);
	slo__count(&o, &c, 5000 * MS, 200);
	slo__eval(&o, &c, &r);
	assert_int_equal(r.verdict, SLO_INSUFFICIENT);
	assert_int_equal(r.bad, 1);

	/* min_samples 0 still needs one observation */
	s.min_samples = 0;
	slo__counts_init(&c);
	slo__eval(&o, &c, &r);
	assert_int_equal(r.verdict, SLO_INSUFFICIENT);

	/* count objectives are never insufficient */
	s.min_samples = 1000;
	{
		struct slo_objective n = obj_k6(&s, "count>=3");

		slo__counts_init(&c);
		slo__count(&n, &c, 1, 200);
		slo__count(&n, &c, 1, 429);
		slo__eval(&n, &c, &r);
		assert_int_equal(r.verdict, SLO_BREACH);
		assert_true(r.margin == -1.0);
		slo__count(&n, &c, 1, 500);
		slo__eval(&n, &c, &r);
		assert_int_equal(r.verdict, SLO_PASS);
		assert_int_equal(r.unit, SLO_UNIT_COUNT);
		assert_true(r.observed == 3.0);
	}
	assert_string_equal(slo__verdict_str(SLO_INSUFFICIENT), "insufficient data");
	assert_string_equal(slo__verdict_str(SLO_PASS), "pass");
	assert_string_equal(slo__verdict_str(SLO_BREACH), "breach");
}

static void test_verdict_errors(void **state)
{
	struct slo s = slo_one(10);
	struct slo_objective o = obj_k6(&s, "rate<=1%");
	struct slo_objective lat = obj_k6(&s, "p(50)<=10ms");
	struct slo_counts c, cl;
	struct slo_result r;

	slo__counts_init(&c);
	slo__counts_init(&cl);
	/* 190 OK, 2 x 500, 5 x 429 and 3 x 409 (protection), 10 x 404 (not 5xx) */
	for (int i = 0; i < 190; i++) {
		slo__count(&o, &c, MS, 200);
		slo__count(&lat, &cl, MS, 200);
	}
	for (int i = 0; i < 2; i++) {
		slo__count(&o, &c, MS, 500);
		slo__count(&lat, &cl, MS, 500);
	}
	for (int i = 0; i < 5; i++) {
		slo__count(&o, &c, 50 * MS, 429);
		slo__count(&lat, &cl, 50 * MS, 429);
	}
	for (int i = 0; i < 3; i++) {
		slo__count(&o, &c, 50 * MS, 409);
		slo__count(&lat, &cl, 50 * MS, 409);
	}
	for (int i = 0; i < 10; i++) {
		slo__count(&o, &c, MS, 404);
		slo__count(&lat, &cl, MS, 404);
	}
	assert_int_equal(c.total, 210);
	assert_int_equal(c.protected_, 8);
	assert_int_equal(c.errors, 2);
	slo__eval(&o, &c, &r);
	/* 2 errors over 202 judged (protection excluded) = 0.99 % <= 1 % */
	assert_int_equal(r.verdict, SLO_PASS);
	assert_int_equal(r.judged, 202);
	assert_int_equal(r.bad, 2);
	assert_int_equal(r.protected_, 8);
	assert_true(fabs(r.observed - 2.0 / 202) < 1e-12);
	assert_true(fabs(r.margin - (0.01 - 2.0 / 202)) < 1e-12);
	assert_true(fabs(r.budget_consumed - 2.0 / 2.02) < 1e-9);

	/* latency objectives count protection statuses like any response */
	slo__eval(&lat, &cl, &r);
	assert_int_equal(r.judged, 210);
	assert_int_equal(r.bad, 8);
	assert_int_equal(r.protected_, 8);

	/* a third 500: 3/203 > 1 % */
	slo__count(&o, &c, MS, 503);
	slo__eval(&o, &c, &r);
	assert_int_equal(r.verdict, SLO_BREACH);
	assert_true(r.margin < 0);
	assert_true(r.budget_consumed > 1.0);

	/* boundary: exactly at the ceiling passes <=, fails < */
	{
		struct slo_objective le = obj_k6(&s, "rate<=0.5%"), lt = obj_k6(&s, "rate<0.5%");

		slo__counts_init(&c);
		for (int i = 0; i < 199; i++)
			slo__count(&le, &c, MS, 200);
		slo__count(&le, &c, MS, 502);
		slo__eval(&le, &c, &r);
		assert_int_equal(r.verdict, SLO_PASS);
		assert_true(fabs(r.budget_consumed - 1.0) < 1e-9);
		slo__eval(&lt, &c, &r);
		assert_int_equal(r.verdict, SLO_BREACH);
	}
	/* only protection statuses: nothing to judge */
	slo__counts_init(&c);
	for (int i = 0; i < 50; i++)
		slo__count(&o, &c, MS, 429);
	slo__eval(&o, &c, &r);
	assert_int_equal(r.verdict, SLO_INSUFFICIENT);
	assert_int_equal(r.judged, 0);
	assert_int_equal(r.protected_, 50);
	/* 0 % allowed: any error makes the budget infinite */
	{
		struct slo_objective z = obj_k6(&s, "rate<=0");

		slo__counts_init(&c);
		for (int i = 0; i < 20; i++)
			slo__count(&z, &c, MS, 200);
		slo__eval(&z, &c, &r);
		assert_int_equal(r.verdict, SLO_PASS);
		assert_true(r.budget_consumed == 0.0);
		slo__count(&z, &c, MS, 500);
		slo__eval(&z, &c, &r);
		assert_int_equal(r.verdict, SLO_BREACH);
		assert_true(isinf(r.budget_consumed));
	}
}

static void test_verdict_db(void **state)
{
	struct slo s = { .name = "db", .source = SLO_DB, .min_samples = 1 };
	struct slo_objective o = { .slo = &s };
	struct slo_counts c;
	struct slo_result r;

	/* a DB SLO ignores HTTP protection even if set */
	slo__status_set_add(&s.protection, "429", NULL);
	assert_int_equal(slo__parse_k6("rate<10%", &o, NULL), 0);
	slo__status_set_add(&o.errors, "failed", NULL);
	strcpy(o.errors_label, "failed");
	slo__counts_init(&c);
	for (int i = 0; i < 9; i++)
		slo__count(&o, &c, MS, 0);
	slo__count(&o, &c, MS, SLO_DB_FAILED);
	slo__eval(&o, &c, &r);
	assert_int_equal(r.verdict, SLO_BREACH);
	assert_int_equal(r.bad, 1);
	assert_int_equal(r.protected_, 0);
	assert_string_equal(fmt_obj(&o), "failure rate < 10%");
}

/* A hit ratio of keys read: exactly at the floor meets ge and misses gt, in integers. */
static void test_verdict_hit_ratio(void **state)
{
	struct slo s = { .name = "c", .source = SLO_CACHE, .min_samples = 1 };
	struct slo_objective ge = obj_k6(&s, "hit_ratio>=90%"), gt = obj_k6(&s, "hit_ratio>90%");
	struct slo_counts cge, cgt;
	struct slo_result r;

	slo__counts_init(&cge);
	slo__counts_init(&cgt);
	/* 9 hits and 1 miss over reads of 1 and 2 keys: exactly 90 % */
	slo__count_reads(&ge, &cge, 1, 0);
	slo__count_reads(&ge, &cge, 8, 1);
	slo__count_reads(&gt, &cgt, 9, 1);
	assert_int_equal(cge.total, 10);
	assert_int_equal(cge.good, 9);
	slo__eval(&ge, &cge, &r);
	assert_int_equal(r.verdict, SLO_PASS);
	assert_int_equal(r.unit, SLO_UNIT_RATIO);
	assert_int_equal(r.judged, 10);
	assert_int_equal(r.bad, 1);
	assert_true(fabs(r.observed - 0.9) < 1e-12);
	assert_true(fabs(r.target - 0.9) < 1e-12);
	assert_true(fabs(r.margin) < 1e-12);
	/* 1 miss of an allowance of 10 % of 10: exactly spent */
	assert_true(fabs(r.budget_consumed - 1.0) < 1e-9);
	slo__eval(&gt, &cgt, &r);
	assert_int_equal(r.verdict, SLO_BREACH);
	/* one more miss: 9 of 11 is under 90 % */
	slo__count_reads(&ge, &cge, 0, 1);
	slo__eval(&ge, &cge, &r);
	assert_int_equal(r.verdict, SLO_BREACH);
	assert_int_equal(r.bad, 2);
	assert_true(fabs(r.observed - 9.0 / 11) < 1e-12);
	assert_true(r.margin < 0);
	assert_true(fabs(r.budget_consumed - 2.0 / 1.1) < 1e-9);
	/* one more hit over it: 10 of 11 > 90 % passes gt too */
	slo__count_reads(&gt, &cgt, 1, 0);
	slo__eval(&gt, &cgt, &r);
	assert_int_equal(r.verdict, SLO_PASS);

	/* 999999999 of 1e9 keys against 99.9999999 %: exact where a double would round */
	{
		struct slo_objective o = { .slo = &s,
					   .kind = SLO_OBJ_HIT_RATIO,
					   .ratio_ppb = SLO_PPB - 1 };
		struct slo_counts c = { .total = SLO_PPB, .good = SLO_PPB - 1 };

		slo__eval(&o, &c, &r);
		assert_int_equal(r.verdict, SLO_PASS);
		c.good--;
		slo__eval(&o, &c, &r);
		assert_int_equal(r.verdict, SLO_BREACH);
	}
	/* a floor of 100 % allows no miss: the budget is infinite after one */
	{
		struct slo_objective o = obj_k6(&s, "hit_ratio>=100%");
		struct slo_counts c;

		slo__counts_init(&c);
		slo__count_reads(&o, &c, 5, 0);
		slo__eval(&o, &c, &r);
		assert_int_equal(r.verdict, SLO_PASS);
		assert_true(r.budget_consumed == 0.0);
		slo__count_reads(&o, &c, 0, 1);
		slo__eval(&o, &c, &r);
		assert_int_equal(r.verdict, SLO_BREACH);
		assert_true(isinf(r.budget_consumed));
	}
}

/*
 * Commands are no keys read: a hit ratio ignores slo__count() and the other objectives ignore
 * slo__count_reads(); the histogram of a saved report gives a hit ratio nothing either.
 */
static void test_hit_ratio_counts_keys(void **state)
{
	struct slo s = { .name = "c", .source = SLO_CACHE, .min_samples = 1 };
	struct slo_objective hit = obj_k6(&s, "hit_ratio>=50%"), p99 = obj_k6(&s, "p(99)<5ms"),
			     rate = obj_k6(&s, "rate<=50%");
	struct slo_counts ch, cp, cr;
	struct slo_result r;
	struct hist h;

	slo__status_set_add(&rate.errors, "failed", NULL);
	strcpy(rate.errors_label, "failed");
	slo__counts_init(&ch);
	slo__counts_init(&cp);
	slo__counts_init(&cr);
	slo__count(&hit, &ch, 9 * MS, 0);
	slo__count(&p99, &cp, 1 * MS, 0);
	slo__count(&rate, &cr, 1 * MS, SLO_DB_FAILED);
	slo__count(&rate, &cr, 1 * MS, 0);
	slo__count_reads(&p99, &cp, 3, 4);
	slo__count_reads(&rate, &cr, 3, 4);
	assert_int_equal(ch.total, 0);
	assert_int_equal(cp.total, 1);
	assert_int_equal(cp.good, 1);
	assert_int_equal(cr.total, 2);
	assert_int_equal(cr.errors, 1);
	slo__eval(&hit, &ch, &r);
	assert_int_equal(r.verdict, SLO_INSUFFICIENT); /* no key read */
	assert_true(isnan(r.observed));
	slo__eval(&rate, &cr, &r);
	assert_int_equal(r.verdict, SLO_PASS); /* 1 failed of 2 is 50 % */
	assert_string_equal(fmt_obj(&rate), "failure rate <= 50%");
	hist__init(&h);
	hist__add(&h, 1 * MS);
	slo__counts_from_hist(&hit, &ch, &h, NULL, 0);
	assert_int_equal(ch.total, 0);
	assert_int_equal(ch.good, 0);
	slo__count_reads(&hit, &ch, 1, 1);
	slo__eval(&hit, &ch, &r);
	assert_int_equal(r.verdict, SLO_PASS);
	assert_int_equal(r.judged, 2);
}

/*
 * No verdict on a handful of reads: the minimum counts keys read, and the default of a cache
 * SLO is 20. 19 keys, all hits, are insufficient data; the 20th decides.
 */
static void test_hit_ratio_min_samples(void **state)
{
	struct slo_set *set = parse_ok("slos:\n- name: c\n  cache: all\n"
				       "  objectives: [{hit_ratio: {ge: 90%}}]\n");
	const struct slo_objective *o = &set->slos[0].obj[0];
	struct slo_counts c;
	struct slo_result r;

	slo__counts_init(&c);
	slo__eval(o, &c, &r);
	assert_int_equal(r.verdict, SLO_INSUFFICIENT);
	slo__count_reads(o, &c, 19, 0);
	slo__eval(o, &c, &r);
	assert_int_equal(r.verdict, SLO_INSUFFICIENT);
	assert_int_equal(r.judged, 19);
	assert_true(fabs(r.observed - 1.0) < 1e-12); /* shown, not judged */
	slo__count_reads(o, &c, 0, 1);
	slo__eval(o, &c, &r);
	assert_int_equal(r.verdict, SLO_PASS); /* 19 of 20: 95 % */
	/* a breach on 2 reads is insufficient data too */
	slo__counts_init(&c);
	slo__count_reads(o, &c, 0, 2);
	slo__eval(o, &c, &r);
	assert_int_equal(r.verdict, SLO_INSUFFICIENT);
	assert_int_equal(r.bad, 2);
	slo__free(set);
}

static void test_verdict_stats(void **state)
{
	struct slo s = slo_one(1);
	struct slo_objective avg = obj_k6(&s, "avg<=200ms"), mx = obj_k6(&s, "max<2s"),
			     mn = obj_k6(&s, "min<=1ms");
	struct slo_counts c;
	struct slo_result r;

	slo__counts_init(&c);
	slo__count(&avg, &c, 100 * MS, 200);
	slo__count(&avg, &c, 300 * MS, 200);
	slo__eval(&avg, &c, &r);
	assert_int_equal(r.verdict, SLO_PASS); /* mean exactly 200 ms */
	assert_true(fabs(r.observed - 200.0) < 1e-9);
	assert_true(r.margin == 0.0);
	assert_true(isnan(r.budget_consumed));
	slo__count(&avg, &c, 200 * MS + 1, 200);
	slo__eval(&avg, &c, &r);
	assert_int_equal(r.verdict, SLO_BREACH);
	slo__eval(&mx, &c, &r);
	assert_int_equal(r.verdict, SLO_PASS);
	assert_true(fabs(r.observed - 300.0) < 1e-9);
	assert_true(fabs(r.margin - 1700.0) < 1e-9);
	slo__eval(&mn, &c, &r);
	assert_int_equal(r.verdict, SLO_BREACH);
	assert_true(fabs(r.observed - 100.0) < 1e-9);
	slo__count(&mx, &c, 2000 * MS, 200);
	slo__eval(&mx, &c, &r);
	assert_int_equal(r.verdict, SLO_BREACH);
}

/*
 * Only latency and error objectives have bad events. A min, max, avg or count objective judges
 * the run as a whole: none of its observations is bad, passing or breaching, so the report's
 * good (judged - bad) is every judged observation.
 */
static void test_stat_objectives_no_bad_events(void **state)
{
	struct slo s = slo_one(1);
	/* 100, 300 and 2500 ms: avg 966.67 ms, max 2.5 s, min 100 ms, count 3 */
	struct {
		const char *k6;
		enum slo_verdict verdict;
	} cases[] = {
		{ "avg<=200ms", SLO_BREACH }, { "avg<=1s", SLO_PASS },
		{ "max<2s", SLO_BREACH },     { "max<=2500ms", SLO_PASS },
		{ "min<=1ms", SLO_BREACH },   { "min<=100ms", SLO_PASS },
		{ "count>=5", SLO_BREACH },   { "count>=3", SLO_PASS },
	};
	struct slo_counts c;
	struct slo_result r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct slo_objective o = obj_k6(&s, cases[i].k6);

		slo__counts_init(&c);
		slo__count(&o, &c, 100 * MS, 200);
		slo__count(&o, &c, 300 * MS, 500);
		slo__count(&o, &c, 2500 * MS, 200);
		slo__eval(&o, &c, &r);
		assert_int_equal(r.verdict, cases[i].verdict);
		assert_int_equal(r.judged, 3);
		assert_int_equal(r.bad, 0);
		assert_false(r.approximate);
		assert_int_equal(r.protected_, 0);
	}
}

static void test_counts_merge(void **state)
{
	struct slo s = slo_one(1);
	struct slo_objective o = obj_k6(&s, "p(90)<=10ms");
	struct slo_counts a, b, all;

	slo__counts_init(&a);
	slo__counts_init(&b);
	slo__counts_init(&all);
	for (int i = 1; i <= 30; i++) {
		slo__count(&o, i % 3 ? &a : &b, (uint64_t)i * MS, i % 7 ? 200 : 429);
		slo__count(&o, &all, (uint64_t)i * MS, i % 7 ? 200 : 429);
	}
	slo__counts_merge(&a, &b);
	assert_int_equal(a.total, all.total);
	assert_int_equal(a.good, all.good);
	assert_int_equal(a.good, 10);
	assert_int_equal(a.protected_, 4);
	assert_int_equal(a.sum_ns, all.sum_ns);
	assert_int_equal(a.min_ns, MS);
	assert_int_equal(a.max_ns, 30 * MS);
	/* merging into empty counters takes the source's min */
	slo__counts_init(&all);
	slo__counts_merge(&all, &b);
	assert_int_equal(all.min_ns, 3 * MS);
}

/*
 * Counters merged from a part counted from histogram buckets are approximate as a whole, in
 * either order; exact parts merged stay exact. The verdict says so.
 */
static void test_counts_merge_approximate(void **state)
{
	struct slo s = slo_one(1);
	struct slo_objective o = obj_k6(&s, "p(95)<=300ms");
	struct slo_counts exact, from_h, merged;
	struct slo_result r;
	struct hist h;

	hist__init(&h);
	slo__counts_init(&exact);
	for (int i = 0; i < 200; i++) {
		hist__add(&h, (uint64_t)(i + 1) * 2 * MS); /* 2 .. 400 ms */
		slo__count(&o, &exact, (uint64_t)(i + 1) * MS, 200);
	}
	slo__counts_from_hist(&o, &from_h, &h, NULL, 0);
	assert_true(from_h.approximate); /* 300 ms is inside a bucket holding values */
	assert_false(exact.approximate);

	merged = exact;
	slo__counts_merge(&merged, &from_h);
	assert_int_equal(merged.total, 400);
	assert_true(merged.approximate);
	slo__eval(&o, &merged, &r);
	assert_true(r.approximate);

	merged = from_h;
	slo__counts_merge(&merged, &exact);
	assert_true(merged.approximate);

	merged = exact;
	slo__counts_merge(&merged, &exact);
	assert_int_equal(merged.total, 400);
	assert_false(merged.approximate);
	slo__eval(&o, &merged, &r);
	assert_false(r.approximate);
}

static void test_counts_from_hist(void **state)
{
	struct slo s = slo_one(1);
	struct slo_objective o = obj_k6(&s, "p(95)<=300ms"), e = obj_k6(&s, "rate<1%");
	struct slo_status_count st[] = { { 200, 180 }, { 500, 1 }, { 429, 19 } };
	struct slo_counts c, exact;
	struct slo_result r, rx;
	struct hist h;
	uint64_t hi;

	hist__init(&h);
	slo__counts_init(&exact);
	for (int i = 0; i < 200; i++) {
		uint64_t ns = (uint64_t)(i + 1) * 2 * MS; /* 2 .. 400 ms */

		hist__add(&h, ns);
		slo__count(&o, &exact, ns, 200);
	}
	slo__counts_from_hist(&o, &c, &h, st, 3);
	assert_int_equal(c.total, 200);
	assert_int_equal(c.protected_, 19);
	assert_true(c.approximate); /* 300 ms is inside a bucket holding values */
	/* the straddling bucket counts iff its midpoint is within: off by at most one bucket */
	assert_true(c.good >= exact.good - 2 && c.good <= exact.good + 2);
	slo__eval(&o, &c, &r);
	slo__eval(&o, &exact, &rx);
	assert_int_equal(r.verdict, rx.verdict);
	assert_true(r.approximate);

	/* a bucket's upper bound as threshold is exact */
	hi = hist__bucket_hi(hist__bucket_of(300 * MS));
	o.threshold_ns = hi;
	slo__counts_init(&exact);
	for (int i = 0; i < 200; i++)
		slo__count(&o, &exact, (uint64_t)(i + 1) * 2 * MS, 200);
	slo__counts_from_hist(&o, &c, &h, NULL, 0);
	assert_false(c.approximate);
	assert_int_equal(c.good, exact.good);

	/* thresholds outside [min, max] are exact */
	o.threshold_ns = 1 * MS;
	slo__counts_from_hist(&o, &c, &h, NULL, 0);
	assert_int_equal(c.good, 0);
	assert_false(c.approximate);
	o.threshold_ns = 400 * MS;
	slo__counts_from_hist(&o, &c, &h, NULL, 0);
	assert_int_equal(c.good, 200);
	assert_false(c.approximate);

	/* the error rate comes from the statuses, exactly */
	slo__counts_from_hist(&e, &c, &h, st, 3);
	assert_int_equal(c.total, 200);
	assert_int_equal(c.errors, 1);
	assert_int_equal(c.protected_, 19);
	assert_false(c.approximate);
	slo__eval(&e, &c, &r);
	assert_int_equal(r.judged, 181);
	assert_int_equal(r.verdict, SLO_PASS);
}

/*
 * The observed percentile is a bucket midpoint, which can fall on the other side of the
 * threshold than the exact counters. It is then shown at the threshold, on the side the
 * counters prove: a breach never shows a percentile within the objective, a pass never one
 * beyond it. 50.2 ms and 49.9 ms both lie in the bucket [49807360, 50331647] ns, midpoint
 * 50069503 ns.
 */
static void test_observed_side_of_threshold(void **state)
{
	struct slo s = slo_one(1);
	struct slo_objective le = obj_k6(&s, "p(95)<=50.1ms"), lt = obj_k6(&s, "p(95)<50.1ms");
	struct slo_counts c;
	struct slo_result r;
	struct hist h;

	assert_int_equal(hist__bucket_lo(hist__bucket_of(50200000)), 49807360);
	assert_int_equal(hist__bucket_hi(hist__bucket_of(49900000)), 50331647);
	/* breach: 1 request took 1 ms, 20 took 50.2 ms; the bucket says 50.07 ms */
	hist__init(&h);
	slo__counts_init(&c);
	slo__count(&le, &c, 1 * MS, 200);
	hist__add(&h, 1 * MS);
	for (int i = 0; i < 20; i++) {
		slo__count(&le, &c, 50200000, 200);
		hist__add(&h, 50200000);
	}
	c.h = &h;
	assert_int_equal(hist__percentile(&h, 95), 50069503);
	slo__eval(&le, &c, &r);
	assert_int_equal(r.verdict, SLO_BREACH);
	assert_true(r.observed == 50.100001); /* one ns above the threshold */
	assert_true(r.target == 50.1);
	assert_true(r.margin < 0 && r.margin > -0.0000011);
	slo__eval(&lt, &c, &r);
	assert_int_equal(r.verdict, SLO_BREACH);
	assert_true(r.observed == 50.1); /* at the threshold: outside "< 50.1 ms" */
	assert_true(r.margin == 0.0);

	/* pass: 20 requests took 49.9 ms, 1 took 50.3 ms; the bucket says 50.07 ms */
	le = obj_k6(&s, "p(95)<=50ms");
	lt = obj_k6(&s, "p(95)<50ms");
	hist__init(&h);
	slo__counts_init(&c);
	for (int i = 0; i < 20; i++) {
		slo__count(&le, &c, 49900000, 200);
		hist__add(&h, 49900000);
	}
	slo__count(&le, &c, 50300000, 200);
	hist__add(&h, 50300000);
	c.h = &h;
	assert_int_equal(hist__percentile(&h, 95), 50069503);
	slo__eval(&le, &c, &r);
	assert_int_equal(r.verdict, SLO_PASS);
	assert_true(r.observed == 50.0);
	assert_true(r.margin == 0.0);
	slo__eval(&lt, &c, &r);
	assert_int_equal(r.verdict, SLO_PASS);
	assert_true(r.observed == 49.999999); /* one ns under the threshold */

	/* on the right side already: shown as the bucket says */
	for (int k = 0; k < 2; k++) {
		le = obj_k6(&s, k ? "p(95)<=40ms" : "p(95)<=60ms");
		slo__counts_init(&c);
		for (int i = 0; i < 20; i++)
			slo__count(&le, &c, 49900000, 200);
		slo__count(&le, &c, 50300000, 200);
		c.h = &h;
		slo__eval(&le, &c, &r);
		assert_int_equal(r.verdict, k ? SLO_BREACH : SLO_PASS);
		assert_true(r.observed == 50.069503);
	}
	assert_true(fabs(r.margin - (40 - 50.069503)) < 1e-12);
}

/* Counters from a histogram at small exact values and at a straddled bucket. */
static void test_counts_from_hist_exact(void **state)
{
	struct slo s = slo_one(1);
	struct slo_objective o = {
		.slo = &s,
		.kind = SLO_OBJ_LATENCY,
		.percentile = true,
		.strict = true,
		.threshold_ns = 100,
		.ratio_ppb = SLO_PPB / 2,
	};
	struct slo_objective mx = obj_k6(&s, "max<=1ms"), mn = obj_k6(&s, "min<=1ms"),
			     e = obj_k6(&s, "rate<=1%");
	struct slo_status_count st[] = { { 200, 12 }, { 503, 1 } };
	struct slo_counts c;
	struct slo_result r;
	struct hist h;

	/* below 128 ns every value has its own bucket: "< 100 ns" counts 10 and 99, not 100 */
	hist__init(&h);
	hist__add(&h, 10);
	hist__add(&h, 99);
	hist__add(&h, 100);
	slo__counts_from_hist(&o, &c, &h, NULL, 0);
	assert_int_equal(c.total, 3);
	assert_int_equal(c.good, 2);
	assert_false(c.approximate);
	assert_true(c.h == &h);
	assert_int_equal(c.sum_ns, 209);
	assert_int_equal(c.min_ns, 10);
	assert_int_equal(c.max_ns, 100);
	o.threshold_ns = 101;
	slo__counts_from_hist(&o, &c, &h, NULL, 0);
	assert_int_equal(c.good, 3);
	o.threshold_ns = 99;
	slo__counts_from_hist(&o, &c, &h, NULL, 0);
	assert_int_equal(c.good, 1);
	o.threshold_ns = 0; /* "< 0 ns": nothing */
	slo__counts_from_hist(&o, &c, &h, NULL, 0);
	assert_int_equal(c.good, 0);
	o.strict = false;
	slo__counts_from_hist(&o, &c, &h, NULL, 0);
	assert_int_equal(c.good, 0);
	o.threshold_ns = 99;
	slo__counts_from_hist(&o, &c, &h, NULL, 0);
	assert_int_equal(c.good, 2);

	/*
	 * 1001 and 2000: the threshold 1003 is the midpoint of [1000, 1007], which counts as
	 * within (approximate); at 1002 it does not. Statuses do not change a latency total.
	 */
	hist__init(&h);
	hist__add(&h, 1001);
	hist__add(&h, 2000);
	o.threshold_ns = 1003;
	slo__counts_from_hist(&o, &c, &h, st, 2);
	assert_int_equal(c.total, 2);
	assert_int_equal(c.good, 1);
	assert_int_equal(c.errors, 0);
	assert_true(c.approximate);
	slo__eval(&o, &c, &r);
	assert_int_equal(r.verdict, SLO_PASS);
	assert_true(r.approximate);
	assert_true(r.observed == 0.001003); /* p50: the midpoint, within the threshold */
	o.threshold_ns = 1002;
	slo__counts_from_hist(&o, &c, &h, NULL, 0);
	assert_int_equal(c.good, 0);
	assert_true(c.approximate);
	slo__eval(&o, &c, &r);
	assert_int_equal(r.verdict, SLO_BREACH);
	assert_true(r.observed == 0.001003);
	o.threshold_ns = 1007; /* the bucket's upper bound: exact */
	slo__counts_from_hist(&o, &c, &h, NULL, 0);
	assert_int_equal(c.good, 1);
	assert_false(c.approximate);
	/* a straddled bucket without values is no approximation */
	hist__add(&h, 3000);
	o.threshold_ns = 1500;
	assert_int_equal(hist__bucket_lo(hist__bucket_of(1500)), 1488);
	slo__counts_from_hist(&o, &c, &h, NULL, 0);
	assert_int_equal(c.good, 1);
	assert_false(c.approximate);

	/* a 0 ns observation (bucket 0) is within any threshold */
	hist__init(&h);
	hist__add(&h, 0);
	hist__add(&h, 5);
	hist__add(&h, 1000);
	o.strict = false;
	o.threshold_ns = 7;
	slo__counts_from_hist(&o, &c, &h, NULL, 0);
	assert_int_equal(c.good, 2);
	hist__add(&h, 3000);

	/* min and max from the histogram's exact extremes */
	slo__counts_from_hist(&mx, &c, &h, NULL, 0);
	slo__eval(&mx, &c, &r);
	assert_int_equal(r.verdict, SLO_PASS);
	assert_true(r.observed == 0.003);
	slo__counts_from_hist(&mn, &c, &h, NULL, 0);
	slo__eval(&mn, &c, &r);
	assert_true(r.observed == 0.0);

	/* no histogram: an error rate from the statuses alone */
	slo__counts_from_hist(&e, &c, NULL, st, 2);
	assert_int_equal(c.total, 13);
	assert_int_equal(c.errors, 1);
	assert_null(c.h);
	slo__eval(&e, &c, &r);
	assert_int_equal(r.verdict, SLO_BREACH);
	assert_int_equal(r.judged, 13);
	/* an empty histogram and no statuses: nothing */
	hist__init(&h);
	slo__counts_from_hist(&o, &c, &h, NULL, 0);
	assert_int_equal(c.total, 0);
	assert_int_equal(c.good, 0);
	slo__eval(&o, &c, &r);
	assert_int_equal(r.verdict, SLO_INSUFFICIENT);
	assert_true(isnan(r.observed));
}

/* Boundaries of avg, min, max and count, strict and not; an objective with no SLO. */
static void test_verdict_stat_boundaries(void **state)
{
	struct slo s = slo_one(1);
	struct slo_objective avg_lt = obj_k6(&s, "avg<200ms"), avg_le = obj_k6(&s, "avg<=200ms");
	struct slo_objective max_lt = obj_k6(&s, "max<300ms"), min_lt = obj_k6(&s, "min<100ms");
	struct slo_objective cnt_gt = obj_k6(&s, "count>2"), cnt_ge = obj_k6(&s, "count>=2");
	struct slo_objective lone = { .kind = SLO_OBJ_MAX, .threshold_ns = 10 };
	struct slo_counts c;
	struct slo_result r;

	slo__counts_init(&c);
	slo__count(&avg_lt, &c, 100 * MS, 200);
	slo__count(&avg_lt, &c, 300 * MS, 200);
	slo__eval(&avg_lt, &c, &r); /* mean exactly 200 ms */
	assert_int_equal(r.verdict, SLO_BREACH);
	assert_true(r.observed == 200.0);
	assert_int_equal(r.judged, 2);
	slo__eval(&avg_le, &c, &r);
	assert_int_equal(r.verdict, SLO_PASS);
	slo__eval(&max_lt, &c, &r); /* max exactly 300 ms */
	assert_int_equal(r.verdict, SLO_BREACH);
	assert_true(r.observed == 300.0);
	assert_true(r.margin == 0.0);
	slo__eval(&min_lt, &c, &r); /* min exactly 100 ms */
	assert_int_equal(r.verdict, SLO_BREACH);
	assert_true(r.observed == 100.0);
	slo__eval(&cnt_gt, &c, &r); /* count exactly 2 */
	assert_int_equal(r.verdict, SLO_BREACH);
	assert_true(r.margin == 0.0);
	slo__eval(&cnt_ge, &c, &r);
	assert_int_equal(r.verdict, SLO_PASS);
	assert_int_equal(r.judged, 2);
	assert_int_equal(r.unit, SLO_UNIT_COUNT);
	assert_true(r.target == 2.0);
	assert_true(isnan(r.budget_consumed));

	/* a share of 1 ppb still needs one good observation: the ceiling, not a rounding */
	{
		struct slo_objective tiny = {
			.slo = &s, .kind = SLO_OBJ_LATENCY, .threshold_ns = 1, .ratio_ppb = 1
		};

		slo__counts_init(&c);
		slo__count(&tiny, &c, 2, 200);
		slo__eval(&tiny, &c, &r);
		assert_int_equal(r.verdict, SLO_BREACH);
		slo__count(&tiny, &c, 1, 200);
		slo__eval(&tiny, &c, &r);
		assert_int_equal(r.verdict, SLO_PASS);
	}

	/* without an SLO, one observation is enough */
	slo__counts_init(&c);
	slo__count(&lone, &c, 10, 200);
	slo__eval(&lone, &c, &r);
	assert_int_equal(r.verdict, SLO_PASS);
	slo__count(&lone, &c, 11, 0);
	slo__eval(&lone, &c, &r);
	assert_int_equal(r.verdict, SLO_BREACH);
	assert_true(r.observed == 0.000011);
	assert_int_equal(c.protected_, 0);

	assert_string_equal(slo__verdict_str((enum slo_verdict)7), "?");
	assert_string_equal(slo__verdict_key(SLO_PASS), "pass");
	assert_string_equal(slo__verdict_key(SLO_BREACH), "breach");
	assert_string_equal(slo__verdict_key(SLO_INSUFFICIENT), "insufficient_data");
	assert_string_equal(slo__unit_name(SLO_UNIT_MS), "ms");
	assert_string_equal(slo__unit_name(SLO_UNIT_RATIO), "ratio");
	assert_string_equal(slo__unit_name(SLO_UNIT_COUNT), "count");
}

static void test_match(void **state)
{
	struct slo_set *s =
		parse_ok("slos:\n"
			 "- name: a\n"
			 "  http: {method: POST, route: \"/api/*\", comm: \"gunic?rn\", container: "
			 "\"shop-[ab]\"}\n"
			 "  objectives: [\"p(95)<1s\"]\n"
			 "- name: b\n"
			 "  http: {route: \"/items/{id}\"}\n"
			 "  objectives: [\"p(95)<1s\"]\n"
			 "- name: c\n"
			 "  db: {query: \"SELECT * FROM orders*\", service: \"api*\"}\n"
			 "  objectives: [\"p(95)<1s\"]\n"
			 "- name: d\n"
			 "  db: all\n"
			 "  objectives: [\"p(95)<1s\"]\n");
	const struct slo *a = &s->slos[0], *b = &s->slos[1], *c = &s->slos[2], *d = &s->slos[3];

	assert_true(slo__match_http(a, "POST", "/api/checkout/{id}", "x:80", "gunicorn", "shop-a"));
	assert_true(slo__match_http(a, "post", "/api/x", NULL, "gunicorn", "shop-b"));
	assert_false(slo__match_http(a, "GET", "/api/x", NULL, "gunicorn", "shop-a"));
	assert_false(slo__match_http(a, "POST", "/apix", NULL, "gunicorn", "shop-a"));
	assert_false(slo__match_http(a, "POST", "/api/x", NULL, "gunicorn", "shop-c"));
	assert_false(slo__match_http(a, "POST", "/api/x", NULL, "gunicorn", NULL));
	assert_false(slo__match_http(a, "POST", "/api/x", NULL, "uvicorn", "shop-a"));
	/* braces are literal in fnmatch */
	assert_true(slo__match_http(b, "GET", "/items/{id}", NULL, NULL, NULL));
	assert_false(slo__match_http(b, "GET", "/items/7", NULL, NULL, NULL));
	assert_false(slo__match_db(b, "/items/{id}", NULL));
	/* fingerprints are lower case: the query glob ignores case */
	assert_true(slo__match_db(c, "select * from orders where id = $1", "api:8000"));
	assert_false(slo__match_db(c, "select * from orders where id = $1", NULL));
	assert_false(slo__match_db(c, "select * from users", "api:8000"));
	assert_false(slo__match_http(c, "GET", "/", NULL, NULL, NULL));
	assert_true(slo__match_db(d, "begin", NULL));
	assert_false(slo__match_http(d, "GET", "/", NULL, NULL, NULL));
	slo__free(s);
}

/*
 * Cache selectors: the command ignores case, the pattern does not, a command without a key
 * matches no pattern (not even "*"), and the client's service and the server are globs.
 */
static void test_match_cache(void **state)
{
	struct slo_set *s =
		parse_ok("slos:\n"
			 "- name: a\n"
			 "  cache: {pattern: \"user:{id}:*\", command: \"h*get\"}\n"
			 "  objectives: [\"p(95)<1s\"]\n"
			 "- name: b\n"
			 "  cache: {pattern: \"*\", service: \"api*\", server: \"*:6379\"}\n"
			 "  objectives: [\"p(95)<1s\"]\n"
			 "- name: c\n"
			 "  cache: all\n"
			 "  objectives: [\"p(95)<1s\"]\n"
			 "- name: d\n"
			 "  db: all\n"
			 "  objectives: [\"p(95)<1s\"]\n");
	const struct slo *a = &s->slos[0], *b = &s->slos[1], *c = &s->slos[2], *d = &s->slos[3];

	assert_true(slo__match_cache(a, "HGET", "user:{id}:plan", NULL, NULL));
	assert_true(slo__match_cache(a, "HMGET", "user:{id}:plan", "x", "y"));
	assert_false(slo__match_cache(a, "GET", "user:{id}:plan", NULL, NULL));
	assert_false(slo__match_cache(a, "HGET", "USER:{id}:plan", NULL, NULL));
	assert_false(slo__match_cache(a, "HGET", "user:42:plan", NULL, NULL));
	assert_true(slo__match_cache(b, "GET", "k", "api:0", "127.0.0.1:6379"));
	assert_false(slo__match_cache(b, "PING", "", "api:0", "127.0.0.1:6379"));
	assert_false(slo__match_cache(b, "PING", NULL, "api:0", "127.0.0.1:6379"));
	assert_false(slo__match_cache(b, "GET", "k", NULL, "127.0.0.1:6379"));
	assert_false(slo__match_cache(b, "GET", "k", "api:0", NULL));
	assert_false(slo__match_cache(b, "GET", "k", "api:0", "127.0.0.1:6380"));
	assert_true(slo__match_cache(c, "PING", "", NULL, NULL));
	assert_true(slo__match_cache(c, "GET", "k", NULL, NULL));
	assert_false(slo__match_cache(d, "GET", "k", NULL, NULL));
	assert_false(slo__match_db(c, "select 1", NULL));
	assert_false(slo__match_http(c, "GET", "/", NULL, NULL, NULL));
	slo__free(s);
}

static void test_warmup(void **state)
{
	struct slo_set s = { .warmup_ns = 30000 * MS };

	assert_false(slo__after_warmup(&s, 1000, 1000));
	assert_false(slo__after_warmup(&s, 1000, 1000 + 30000 * MS - 1));
	assert_true(slo__after_warmup(&s, 1000, 1000 + 30000 * MS));
	assert_false(slo__after_warmup(&s, 1000, 999)); /* before the start */
	s.warmup_ns = 0;
	assert_true(slo__after_warmup(&s, 1000, 1000));
	s.warmup_ns = UINT64_MAX;
	assert_false(slo__after_warmup(&s, 1000, UINT64_MAX));
}

/* More than max_pct percent of all events lost: 1 of 1000 is 0.1 %, at the limit, not past it. */
static void test_data_incomplete(void **state)
{
	assert_false(slo__data_incomplete(0, 0, 0.1));
	assert_false(slo__data_incomplete(0, 1000, 0));
	assert_true(slo__data_incomplete(1, 1000000, 0));
	assert_false(slo__data_incomplete(1, 999, 0.1));
	assert_true(slo__data_incomplete(2, 999, 0.1));
	assert_true(slo__data_incomplete(1, 998, 0.1));
	assert_false(slo__data_incomplete(1000, 0, 100));
	assert_true(slo__data_incomplete(1000, 0, 99.99));
	assert_float_equal(slo__drop_pct(1, 999), 0.1, 1e-12);
	assert_float_equal(slo__drop_pct(0, 0), 0, 0);
	assert_float_equal(slo__drop_pct(3, 1), 75, 1e-12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_ratio),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_k6),
		cmocka_unit_test(test_status_set),
		cmocka_unit_test(test_parse_full),
		cmocka_unit_test(test_parse_defaults),
		cmocka_unit_test(test_parse_cache),
		cmocka_unit_test(test_cache_errors),
		cmocka_unit_test(test_parse_file),
		cmocka_unit_test(test_example_file),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_yaml_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_verdict_percentile),
		cmocka_unit_test(test_verdict_boundary),
		cmocka_unit_test(test_verdict_threshold_form),
		cmocka_unit_test(test_verdict_min_samples),
		cmocka_unit_test(test_verdict_errors),
		cmocka_unit_test(test_verdict_db),
		cmocka_unit_test(test_verdict_hit_ratio),
		cmocka_unit_test(test_hit_ratio_counts_keys),
		cmocka_unit_test(test_hit_ratio_min_samples),
		cmocka_unit_test(test_verdict_stats),
		cmocka_unit_test(test_stat_objectives_no_bad_events),
		cmocka_unit_test(test_counts_merge),
		cmocka_unit_test(test_counts_merge_approximate),
		cmocka_unit_test(test_counts_from_hist),
		cmocka_unit_test(test_observed_side_of_threshold),
		cmocka_unit_test(test_counts_from_hist_exact),
		cmocka_unit_test(test_verdict_stat_boundaries),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_match_cache),
		cmocka_unit_test(test_warmup),
		cmocka_unit_test(test_data_incomplete),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
