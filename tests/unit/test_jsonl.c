// SPDX-License-Identifier: GPL-2.0-only
/* record --jsonl: the line of an interval, from the points the tables' rolls just took. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "record/agg.h"
#include "record/jsonl.h"
#include "record/outagg.h"

#define MS 1000000ull

static void add(struct agg *a, unsigned svc, const char *route, unsigned status, uint64_t ns)
{
	struct agg_req q = { .service = svc, .method = "GET", .route = route, .status = status };

	q.t_start = q.t_read = 1000;
	q.t_first = q.t_end = 1000 + ns;
	assert_non_null(agg__add(a, &q));
}

static char *line(const struct jsonl_src *src, double t_s, double iv)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	assert_int_equal(jsonl__interval(f, src, t_s, iv), 0);
	fclose(f);
	return out;
}

static void test_intervals(void **state)
{
	struct agg a;
	struct jsonl_src src = { .agg = &a, .events = 40, .dropped = 1 };
	unsigned svc;
	char *s;

	assert_int_equal(agg__init(&a, 0), 0);
	svc = (unsigned)agg__service(&a, "app:8000");
	add(&a, svc, "/items/{id}", 200, 50 * MS);
	add(&a, svc, "/items/{id}", 503, 60 * MS);
	add(&a, svc, "/items/{id}", 404, 70 * MS);
	add(&a, svc, "/health", 200, 1 * MS);
	agg__roll(&a, 1, 1);
	s = line(&src, 1, 1);
	assert_string_equal(
		s,
		"{\"t_s\":1,\"interval_s\":1,\"endpoints\":[{\"service\":\"app:8000\",\"method\":"
		"\"GET\",\"route\":\"/items/{id}\",\"count\":3,\"4xx\":1,\"5xx\":1,\"p50_ms\":"
		"60.031,\"p95_ms\":69.73,\"p99_ms\":69.73},{\"service\":\"app:8000\",\"method\":"
		"\"GET\",\"route\":\"/health\",\"count\":1,\"4xx\":0,\"5xx\":0,\"p50_ms\":1,"
		"\"p95_ms\":1,\"p99_ms\":1}],\"requests\":4,\"events\":40,\"dropped\":1}\n");
	free(s);
	/* A quiet interval: its endpoints have a point of 0 requests, left out. */
	agg__roll(&a, 2.5, 1.5);
	s = line(&src, 2.5, 1.5);
	assert_string_equal(s, "{\"t_s\":2.5,\"interval_s\":1.5,\"endpoints\":[],\"requests\":0,"
			       "\"events\":40,\"dropped\":1}\n");
	free(s);
	/* No point at that time (a roll that did not happen): nothing is made up. */
	add(&a, svc, "/health", 200, 1 * MS);
	s = line(&src, 3.5, 1);
	assert_non_null(strstr(s, "\"endpoints\":[],\"requests\":0"));
	free(s);
	agg__free(&a);
}

static void call(struct outagg *o, unsigned status, int fail, uint64_t ms)
{
	struct http_call c = { .tgid = 7,
			       .tid = 7,
			       .conn_id = 1,
			       .caller = "python3",
			       .peer = "10.0.0.1:443",
			       .host = "api",
			       .method = "GET",
			       .target = "/v1/x",
			       .status = status,
			       .fail = fail,
			       .ts_start = 10,
			       .ts_end = 10 + ms * 1000000 };

	assert_non_null(outagg__add(o, &c, "/v1/x", 0));
}

/*
 * Outbound rows: what each added in the interval, with the percentiles of its answered calls
 * (null when none was answered); rows that added nothing left out.
 */
static void test_outbound(void **state)
{
	struct agg a;
	struct outagg *o;
	struct jsonl_src src = { .agg = &a, .out = NULL };
	const char *row = "{\"caller\":\"python3\",\"peer\":\"10.0.0.1:443\",\"host\":\"api\","
			  "\"method\":\"GET\",\"route\":\"/v1/x\",";
	char want[512];
	char *s;

	(void)state;
	assert_int_equal(agg__init(&a, 0), 0);
	assert_int_equal(outagg__new(&o, NULL), 0);
	src.out = o;
	/*
	 * 20 answered of 1..20 ms (one a 503, one a 404), one failed: p50 the 10th, p95 the 19th,
	 * p99 the 20th, each as the histogram has it (the top of its bucket, at most 1/64 above)
	 */
	for (unsigned ms = 1; ms <= 20; ms++)
		call(o, ms == 7 ? 503 : ms == 9 ? 404 : 200, HTTP_CALL_OK, ms);
	call(o, 0, HTTP_CALL_FAIL_NR - 1, 100);
	outagg__roll(o, 1);
	s = line(&src, 1, 1);
	snprintf(want, sizeof(want),
		 "\"outbound\":[%s\"count\":21,\"answered\":20,\"failed\":1,\"4xx\":1,\"5xx\":1,"
		 "\"p50_ms\":10.027,\"p95_ms\":19.005,\"p99_ms\":20}]",
		 row);
	if (!strstr(s, want))
		fail_msg("missing %s in %s", want, s);
	free(s);
	outagg__roll(o, 2);
	s = line(&src, 2, 1);
	assert_non_null(strstr(s, "\"outbound\":[]"));
	free(s);
	/* only a failure: no percentiles */
	call(o, 0, HTTP_CALL_FAIL_NR - 1, 5);
	outagg__roll(o, 3);
	s = line(&src, 3, 1);
	snprintf(want, sizeof(want),
		 "\"outbound\":[%s\"count\":1,\"answered\":0,\"failed\":1,\"4xx\":0,\"5xx\":0,"
		 "\"p50_ms\":null,\"p95_ms\":null,\"p99_ms\":null}]",
		 row);
	if (!strstr(s, want))
		fail_msg("missing %s in %s", want, s);
	free(s);
	/* a line at another time than the last roll shows no row */
	call(o, 200, HTTP_CALL_OK, 3);
	s = line(&src, 4, 1);
	assert_non_null(strstr(s, "\"outbound\":[]"));
	free(s);
	outagg__roll(o, 4);
	s = line(&src, 4, 1);
	assert_non_null(strstr(s, "\"count\":1,\"answered\":1,"));
	assert_non_null(strstr(s, "\"p50_ms\":3,\"p95_ms\":3,\"p99_ms\":3}"));
	free(s);
	outagg__free(o);
	agg__free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intervals),
		cmocka_unit_test(test_outbound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
