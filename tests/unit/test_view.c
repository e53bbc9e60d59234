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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache_line),
		cmocka_unit_test(test_dep_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
