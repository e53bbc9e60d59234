// SPDX-License-Identifier: GPL-2.0-only
/*
 * report --slo on a saved report's cache section: one verdict per key pattern (its rows of
 * every command, client and server together), hit ratios exact from the rows' hits and misses,
 * latency from their histograms, failures from their errors; verdicts recorded with the run
 * kept.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyze/runslo.h"
#include "run/runfile.h"
#include "run/slo.h"

#define MS 1000000ull

static const char yaml[] = "apiVersion: sloprobe/v1\n"
			   "kind: SLO\n"
			   "slos:\n"
			   "  - name: plan\n"
			   "    cache: {pattern: \"user:*\"}\n"
			   "    objectives:\n"
			   "      - {hit_ratio: {ge: 90%}}\n"
			   "      - {p: 99, le: 5ms}\n"
			   "      - {errors: failed, le: 5%}\n"
			   "  - name: gets\n"
			   "    cache: {command: GET, service: \"api*\"}\n"
			   "    objectives: [\"hit_ratio>90%\"]\n"
			   "  - name: locks\n"
			   "    cache: {pattern: \"lock:*\"}\n"
			   "    objectives: [\"hit_ratio>=90%\", \"max<=1s\"]\n"
			   "  - name: redis\n"
			   "    cache: all\n"
			   "    per: all\n"
			   "    min_samples: 1\n"
			   "    objectives: [\"hit_ratio>=80%\", \"count>=30\"]\n";

struct fixture {
	struct slo_set *set;
	struct run r;
};

/* n commands of ms milliseconds each, as a histogram owned by r. */
static struct hist_sparse *lat(struct run *r, unsigned n, unsigned ms)
{
	struct hist *h = malloc(sizeof(*h));
	struct hist_sparse *s;

	assert_non_null(h);
	hist__init(h);
	for (unsigned i = 0; i < n; i++)
		hist__add(h, ms * MS);
	s = run__hist(r, h);
	free(h);
	assert_non_null(s);
	return s;
}

static void row(struct run *r, const char *client, const char *verb, const char *pattern,
		uint64_t count, uint64_t errors, uint64_t hits, uint64_t misses, unsigned ms)
{
	struct run_cache_row *c = &r->cache.rows[r->cache.nrows++];

	c->client = client;
	c->server = "127.0.0.1:6379";
	c->verb = verb;
	c->pattern = pattern;
	c->count = count;
	c->errors = errors;
	c->reads = hits + misses ? count : 0;
	c->hits = hits;
	c->misses = misses;
	c->max_elements = -1;
	c->hist = lat(r, (unsigned)count, ms);
}

/*
 * user:{id}:plan: 20 GETs of api (18 keys found) and 5 SETs (one failed) of worker, 1 to 4 ms;
 * sess:{id}: one GET, a miss; lock:{id}: 4 SETs only; PING: no key.
 */
static int setup(void **state)
{
	static struct fixture f;
	char err[256];

	memset(&f, 0, sizeof(f));
	f.set = slo__parse_string(yaml, sizeof(yaml) - 1, "c.yaml", err, sizeof(err));
	if (!f.set || run__init(&f.r))
		return -1;
	f.r.has_cache = true;
	f.r.cache.rows = run__alloc(&f.r, 8 * sizeof(*f.r.cache.rows));
	if (!f.r.cache.rows)
		return -1;
	row(&f.r, "api:8000", "GET", "user:{id}:plan", 20, 0, 18, 2, 1);
	row(&f.r, "worker", "SET", "user:{id}:plan", 5, 1, 0, 0, 4);
	row(&f.r, "api:8000", "GET", "sess:{id}", 1, 0, 0, 1, 1);
	row(&f.r, "api:8000", "SET", "lock:{id}", 4, 0, 0, 0, 2);
	row(&f.r, "api:8000", "PING", "", 2, 0, 0, 0, 1);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	run__free(&f->r);
	slo__free(f->set);
	return 0;
}

static const struct run_slo *verdict(const struct run *r, const char *name, const char *objective,
				     const char *target)
{
	for (unsigned i = 0; i < r->nslo; i++)
		if (!strcmp(r->slo[i].name, name) && !strcmp(r->slo[i].objective, objective) &&
		    !strcmp(r->slo[i].target, target))
			return &r->slo[i];
	fail_msg("no verdict %s / %s / %s", name, objective, target);
	return NULL;
}

static void test_per_pattern(void **state)
{
	struct fixture *f = *state;
	struct runslo_notes notes;
	const struct run_slo *s;

	assert_int_equal(runslo__evaluate(&f->r, f->set, &notes), 0);
	assert_int_equal(notes.recorded, 0);
	/* plan: 3 of user:{id}:plan; gets: 2 patterns; locks: 2; redis: 2 */
	assert_int_equal(f->r.nslo, 9);

	/* 18 of 20 keys: exactly 90 % */
	s = verdict(&f->r, "plan", "hit ratio >= 90%", "cache user:{id}:plan");
	assert_string_equal(s->verdict, "pass");
	assert_string_equal(s->kind, "hit_ratio");
	assert_string_equal(s->unit, "ratio");
	assert_true(s->has_counts);
	assert_int_equal(s->good, 18);
	assert_int_equal(s->total, 20);
	assert_true(fabs(s->observed - 0.9) < 1e-12);
	assert_true(fabs(s->target_ratio - 0.9) < 1e-12);
	assert_true(isnan(s->threshold_ms));
	assert_true(isnan(s->percentile));
	assert_false(s->approximate);
	/* GETs and SETs of the pattern: 25 commands, the slowest 4 ms */
	s = verdict(&f->r, "plan", "p99 <= 5 ms", "cache user:{id}:plan");
	assert_string_equal(s->verdict, "pass");
	assert_int_equal(s->total, 25);
	assert_int_equal(s->good, 25);
	/* 1 failed of 25: 4 % */
	s = verdict(&f->r, "plan", "failure rate <= 5%", "cache user:{id}:plan");
	assert_string_equal(s->verdict, "pass");
	assert_true(fabs(s->observed - 0.04) < 1e-12);

	/* GETs of api only: 90 % is not above 90 %; sess:{id} has 1 key of 20 */
	s = verdict(&f->r, "gets", "hit ratio > 90%", "cache user:{id}:plan");
	assert_string_equal(s->verdict, "breach");
	s = verdict(&f->r, "gets", "hit ratio > 90%", "cache sess:{id}");
	assert_string_equal(s->verdict, "insufficient_data");
	assert_int_equal(s->total, 1);

	/* lock:{id} was only written: its max has a verdict, its hit ratio none of its own */
	s = verdict(&f->r, "locks", "max <= 1 s", "cache lock:{id}");
	assert_string_equal(s->verdict, "insufficient_data"); /* 4 commands of 20 */
	s = verdict(&f->r, "locks", "hit ratio >= 90%", "cache pattern=lock:*");
	assert_string_equal(s->verdict, "insufficient_data");
	assert_int_equal(s->total, 0);

	/* all of them: 18 of 21 keys, 32 commands (the PINGs too) */
	s = verdict(&f->r, "redis", "hit ratio >= 80%", "all cache commands");
	assert_string_equal(s->verdict, "pass");
	assert_int_equal(s->good, 18);
	assert_int_equal(s->total, 21);
	s = verdict(&f->r, "redis", "count >= 30", "all cache commands");
	assert_string_equal(s->verdict, "pass");
	assert_true(s->observed == 32);
}

/* A verdict recorded with the run for the same objective and pattern is kept as it was. */
static void test_recorded_kept(void **state)
{
	struct fixture *f = *state;
	struct runslo_notes notes;
	struct run_slo *old = run__alloc(&f->r, sizeof(*old));
	const struct run_slo *s;

	assert_non_null(old);
	old->name = "plan";
	old->objective = "hit ratio >= 90%";
	old->target = "cache user:{id}:plan";
	old->verdict = "breach";
	old->has_counts = true;
	old->good = 17;
	old->total = 20;
	f->r.slo = old;
	f->r.nslo = 1;
	f->r.has_slo = true;
	assert_int_equal(runslo__evaluate(&f->r, f->set, &notes), 0);
	assert_int_equal(notes.recorded, 1);
	s = verdict(&f->r, "plan", "hit ratio >= 90%", "cache user:{id}:plan");
	assert_string_equal(s->verdict, "breach");
	assert_int_equal(s->good, 17);
}

/* A report recorded without --redis has no cache section: nothing matches, nothing passes. */
static void test_no_cache_section(void **state)
{
	struct fixture *f = *state;
	struct runslo_notes notes;
	const struct run_slo *s;

	f->r.has_cache = false;
	assert_int_equal(runslo__evaluate(&f->r, f->set, &notes), 0);
	assert_int_equal(f->r.nslo, 8); /* one per objective */
	s = verdict(&f->r, "plan", "hit ratio >= 90%", "cache pattern=user:*");
	assert_string_equal(s->verdict, "insufficient_data");
	s = verdict(&f->r, "redis", "count >= 30", "all cache commands");
	assert_string_equal(s->verdict, "breach");
}

/*
 * Offline verdicts describe their objective as recorded ones do (record/report.c): source,
 * per, the endpoint's service on per-endpoint HTTP rows, none on DB rows and on per: all.
 */
static void test_described_as_recorded(void **state)
{
	static const char http_yaml[] = "apiVersion: sloprobe/v1\n"
					"kind: SLO\n"
					"slos:\n"
					"  - name: items\n"
					"    http: {route: \"/items/*\"}\n"
					"    objectives: [\"p(95)<=40ms\", {errors: 5xx, le: 1%}]\n"
					"  - name: all\n"
					"    http: all\n"
					"    per: all\n"
					"    objectives: [\"count>=1\"]\n"
					"  - name: q\n"
					"    db: {query: \"select*\"}\n"
					"    objectives: [\"p(99)<=5ms\"]\n";
	struct fixture *f = *state;
	struct runslo_notes notes;
	struct slo_set *set;
	const struct run_slo *s;
	struct run_endpoint *e;
	struct run_dbq *q;
	char err[256];

	set = slo__parse_string(http_yaml, sizeof(http_yaml) - 1, "h.yaml", err, sizeof(err));
	assert_non_null(set);
	e = f->r.eps = run__alloc(&f->r, sizeof(*e));
	q = f->r.dbqs = run__alloc(&f->r, sizeof(*q));
	assert_non_null(e);
	assert_non_null(q);
	e->service = "api:8000";
	e->comm = "api";
	e->method = "GET";
	e->route = "/items/{id}";
	e->count = 3;
	e->hist = lat(&f->r, 3, 50);
	f->r.neps = 1;
	q->query = "select ?";
	q->client = "api:8000";
	q->count = 2;
	q->hist = lat(&f->r, 2, 1);
	f->r.ndbqs = 1;
	assert_int_equal(runslo__evaluate(&f->r, set, &notes), 0);
	s = verdict(&f->r, "items", "p95 <= 40 ms", "http GET /items/{id}");
	assert_string_equal(s->verdict, "breach");
	assert_string_equal(s->source, "http");
	assert_string_equal(s->per, "endpoint");
	assert_string_equal(s->service, "api:8000");
	assert_true(s->matched);
	assert_true(s->offline);
	assert_int_equal(s->line, 6);
	s = verdict(&f->r, "items", "5xx rate <= 1%", "http GET /items/{id}");
	assert_string_equal(s->errors_are, "5xx");
	s = verdict(&f->r, "all", "count >= 1", "all HTTP endpoints");
	assert_string_equal(s->source, "http");
	assert_string_equal(s->per, "all");
	assert_null(s->service);
	assert_true(s->has_min_count);
	assert_int_equal(s->min_count, 1);
	s = verdict(&f->r, "q", "p99 <= 5 ms", "db select ?");
	assert_string_equal(s->source, "db");
	assert_null(s->service);
	slo__free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_per_pattern, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recorded_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_cache_section, setup, teardown),
		cmocka_unit_test_setup_teardown(test_described_as_recorded, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
