// SPDX-License-Identifier: GPL-2.0-only
/* The live view's cache line and an endpoint's cache and outbound lines, as printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "record/view.h"

#define MS 1000000ull

static void read_key(struct cacheagg *c, unsigned hit, uint64_t lat, bool error)
{
	struct cache_op op = {
		.flags = CACHE_OP_READ, .ts_start = 1, .verb = "GET", .pattern = "k:{id}"
	};

	op.ts_end = op.ts_start + lat;
	op.hits = hit;
	op.misses = !hit;
	if (error) {
		op.flags |= CACHE_OP_ERROR;
		strcpy(op.err, "ERR");
	}
	assert_non_null(cacheagg__add(c, &op, "app:8000", "127.0.0.1:6379"));
}

static char *print_cache(const struct cacheagg *c, double secs, bool window)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	view__cache(f, c, secs, window);
	fclose(f);
	return out;
}

static void test_cache_line(void **state)
{
	struct cacheagg *c = cacheagg__new(NULL);
	char *s;

	assert_non_null(c);
	/* An empty table: no line. */
	s = print_cache(c, 1, true);
	assert_string_equal(s, "");
	free(s);
	cacheagg__conn_open(c, "app:8000", "127.0.0.1:6379", 1);
	cacheagg__conn_open(c, "app:8000", "127.0.0.1:6379", 1);
	cacheagg__conn_close(c, "app:8000", "127.0.0.1:6379", 1);
	for (int i = 0; i < 4; i++)
		read_key(c, i > 0, MS, i == 3);
	s = print_cache(c, 2, true);
	assert_string_equal(s, "\nCACHE  4 commands  2.0/s  hit 75.0 %  p95 1.00ms  errors 1  "
			       "connections 1 (peak 2)\n");
	free(s);
	cacheagg__roll(c, 2, 2);
	/* An interval without commands, then the whole run. */
	s = print_cache(c, 1, true);
	assert_string_equal(s, "\nCACHE  0 commands  0.0/s  hit -  p95 -  errors 0  connections 1 "
			       "(peak 2)\n");
	free(s);
	read_key(c, 0, 3 * MS, false);
	s = print_cache(c, 10, false);
	assert_string_equal(s, "\nCACHE  5 commands  0.5/s  hit 60.0 %  p95 3.00ms  errors 1  "
			       "connections 1 (peak 2)\n");
	free(s);
	cacheagg__free(c);
}

/* Under an endpoint of the summary: its calls per request, only for the kinds followed. */
static void test_dep_lines(void **state)
{
	struct agg a;
	struct agg_req q = { .method = "GET",
			     .route = "/plans/{id}",
			     .status = 200,
			     .t_start = MS,
			     .t_end = 5 * MS };
	struct agg_dep d = { .calls = 2, .ns = 0.4 * MS, .hits = 3, .misses = 1 };
	struct view_opts o = { 0 };
	struct view_footer ft = { 0 };
	struct agg_endpoint *e;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	assert_int_equal(agg__init(&a, 0), 0);
	q.service = (unsigned)agg__service(&a, "app:8000");
	e = agg__add(&a, &q);
	f = open_memstream(&out, &len);
	view__summary(f, &a, &o, 1, &ft);
	fclose(f);
	assert_null(strstr(out, "cache:"));
	free(out);
	agg__add_dep(e, AGG_DEP_CACHE, &d);
	d = (struct agg_dep){ .calls = 1, .ns = 120 * MS, .errors = 1 };
	agg__add_dep(e, AGG_DEP_HTTP, &d);
	f = open_memstream(&out, &len);
	view__summary(f, &a, &o, 1, &ft);
	fclose(f);
	assert_non_null(strstr(out, "\n    cache: 2.0 calls/req, 0.40 ms/req, hit 75.0 %\n"
				    "    outbound: 1.0 calls/req, 120.00 ms/req, 1 error\n"));
	free(out);
	agg__free(&a);
}

/*
 * With --slo, the cache objectives that breached in the interval just judged are listed below
 * the tables (the cache has no rows to mark): five at most, the rest counted; HTTP objectives
 * are marked on their endpoints instead.
 */
static void test_cache_marks(void **state)
{
	static const char text[] = "apiVersion: sloprobe/v1\n"
				   "kind: SLO\n"
				   "slos:\n"
				   "  - name: hits\n"
				   "    cache: all\n"
				   "    objectives: [{hit_ratio: {ge: 90%}}]\n"
				   "  - name: web\n"
				   "    http: all\n"
				   "    per: all\n"
				   "    objectives: [\"p(99)<1ms\"]\n";
	struct slo_link links[7] = { 0 };
	struct view_opts o = { 0 };
	struct view_footer ft = { 0 };
	struct slo_set *set;
	struct slotrack st;
	struct agg a;
	char err[256], *out = NULL;
	size_t len = 0;
	FILE *f;

	set = slo__parse_string(text, sizeof(text) - 1, "v.yaml", err, sizeof(err));
	if (!set)
		fail_msg("%s", err);
	assert_int_equal(slotrack__init(&st, set), 0);
	assert_int_equal(agg__init(&a, 0), 0);
	for (int i = 0; i < 7; i++) {
		struct cache_op op = { .flags = CACHE_OP_READ,
				       .ts_start = 1,
				       .ts_end = 2,
				       .verb = "GET",
				       .keys = 1,
				       .misses = 1 };

		snprintf(op.pattern, sizeof(op.pattern), "p%d:{id}", i);
		slotrack__cache(&st, &links[i], &op, "app:8000", "127.0.0.1:6379");
	}
	st.rows[0].win.total = 1; /* the HTTP p99 breaches too */
	slotrack__roll(&st, 1.0);
	assert_int_equal(st.win.breach, 8);
	o.slo = &st;
	f = open_memstream(&out, &len);
	view__interval(f, &a, &o, 1, 1, &ft);
	fclose(f);
	assert_non_null(strstr(out, "\n! hits             p0:{id}                            "
				    "hit ratio >= 90%\n"
				    "! hits             p1:{id}                            "
				    "hit ratio >= 90%\n"));
	assert_non_null(strstr(out, "\n! hits             p4:{id}                            "
				    "hit ratio >= 90%\n"
				    "  ... 2 more cache objectives breached\n"));
	assert_null(strstr(out, "p5:{id}"));
	assert_null(strstr(out, "web"));
	assert_null(strstr(out, "TCP this interval"));
	free(out);
	/* The kernel's signs get a line when there are any. */
	ft.tcp_drops = 7, ft.tcp_retrans = 12, ft.tcp_resets = 1;
	f = open_memstream(&out, &len);
	view__interval(f, &a, &o, 1, 1, &ft);
	fclose(f);
	assert_non_null(strstr(out,
			       "\nTCP this interval: 7 handshake packets dropped (accept queue "
			       "full), 12 retransmits, 1 resets\n"));
	ft.tcp_drops = ft.tcp_retrans = ft.tcp_resets = 0;
	free(out);
	/* the next interval breached nothing: no line */
	slotrack__roll(&st, 2.0);
	out = NULL;
	f = open_memstream(&out, &len);
	view__interval(f, &a, &o, 2, 1, &ft);
	fclose(f);
	assert_null(strstr(out, "hits"));
	free(out);
	for (int i = 0; i < 7; i++)
		free(links[i].rows);
	agg__free(&a);
	slotrack__free(&st);
	slo__free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache_line),
		cmocka_unit_test(test_dep_lines),
		cmocka_unit_test(test_cache_marks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
