// SPDX-License-Identifier: GPL-2.0-only
/* The Prometheus text of record --listen, byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "record/agg.h"
#include "record/cacheagg.h"
#include "record/dbagg.h"
#include "record/outagg.h"
#include "record/prom.h"
#include "record/report.h"

#define MS 1000000ull

static char *render(const struct prom_src *src)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	assert_int_equal(prom__render(f, src), 0);
	fclose(f);
	return out;
}

/* The OpenTelemetry bounds moved to our bucket edges: each an inclusive upper edge, 1/64 near. */
static void test_bounds(void **state)
{
	static const uint64_t want[PROM_NBOUNDS] = {
		4980735,   9961471,   24903679,	 49807359,   75497471,	 99614719,   249561087,
		499122175, 746586111, 998244351, 2516582399, 5033164799, 7516192767, 10066329599,
	};
	static const double otel_s[PROM_NBOUNDS] = { 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
						     0.5,   0.75, 1,	 2.5,  5,     7.5, 10 };
	uint64_t b[PROM_NBOUNDS];

	prom__bounds(b);
	for (int i = 0; i < PROM_NBOUNDS; i++) {
		double rel = (b[i] - otel_s[i] * 1e9) / (otel_s[i] * 1e9);

		assert_int_equal(b[i], want[i]);
		assert_int_equal(hist__bucket_hi(hist__bucket_of(b[i])), b[i]);
		/* Never a whole second: le is then canonical in OpenMetrics as printed ("1.0"). */
		assert_true(b[i] % 1000000000);
		assert_true(rel < 1.0 / 64 && rel > -1.0 / 64);
	}
}

static void add(struct agg *a, unsigned svc, const char *route, unsigned status, uint64_t ns)
{
	struct agg_req q = { .service = svc, .method = "GET", .route = route, .status = status };

	q.t_start = q.t_read = 1000;
	q.t_first = q.t_end = 1000 + ns;
	assert_non_null(agg__add(a, &q));
}

#define H "http_server_request_duration_seconds"
#define L "{service_name=\"app:8000\",http_request_method=\"GET\",http_route=\"/items/{id}\""

static const char want_http[] =
	"# HELP " H " Duration of HTTP server requests (answered), per service, method and "
	"route.\n"
	"# TYPE " H " histogram\n" H "_bucket" L ",le=\"0.004980735\"} 1\n" H "_bucket" L
	",le=\"0.009961471\"} 1\n" H "_bucket" L ",le=\"0.024903679\"} 1\n" H "_bucket" L
	",le=\"0.049807359\"} 2\n" H "_bucket" L ",le=\"0.075497471\"} 3\n" H "_bucket" L
	",le=\"0.099614719\"} 3\n" H "_bucket" L ",le=\"0.249561087\"} 3\n" H "_bucket" L
	",le=\"0.499122175\"} 3\n" H "_bucket" L ",le=\"0.746586111\"} 3\n" H "_bucket" L
	",le=\"0.998244351\"} 3\n" H "_bucket" L ",le=\"2.516582399\"} 3\n" H "_bucket" L
	",le=\"5.033164799\"} 3\n" H "_bucket" L ",le=\"7.516192767\"} 3\n" H "_bucket" L
	",le=\"10.066329599\"} 3\n" H "_bucket" L ",le=\"+Inf\"} 4\n" H "_sum" L
	"} 12.102614719\n" H "_count" L "} 4\n" H
	"_bucket{service_name=\"app:8000\",http_request_method=\"GET\",http_route=\"/a\\\"b\\\\c\","
	"le=\"0.004980735\"} 1\n";

/*
 * Values at a bound's edge and one nanosecond past it land on either side: the fold is exact.
 * A route with a quote and a backslash is escaped.
 */
static void test_http(void **state)
{
	struct agg a;
	struct prom_src src = { .agg = &a };
	unsigned svc;
	char *s;

	assert_int_equal(agg__init(&a, 0), 0);
	svc = (unsigned)agg__service(&a, "app:8000");
	add(&a, svc, "/items/{id}", 200, 3 * MS);
	add(&a, svc, "/items/{id}", 500, 49807359);
	add(&a, svc, "/items/{id}", 200, 49807360);
	add(&a, svc, "/items/{id}", 200, 12 * 1000 * MS);
	add(&a, svc, "/a\"b\\c", 404, 1 * MS);
	s = render(&src);
	assert_memory_equal(s, want_http, strlen(want_http));
	assert_non_null(strstr(
		s, "# TYPE http_server_responses_total counter\n"
		   "http_server_responses_total" L ",http_response_status_code=\"200\"} 3\n"
		   "http_server_responses_total" L ",http_response_status_code=\"500\"} 1\n"));
	assert_non_null(strstr(s, ",http_route=\"/a\\\"b\\\\c\",http_response_status_code=\"404\"} "
				  "1\n"));
	/* No DB, cache, outbound or meta: no such family. */
	assert_null(strstr(s, "db_client"));
	assert_null(strstr(s, "sloprobe_"));
	free(s);
	agg__free(&a);
}

/*
 * Both formats want UTF-8 label values, and Prometheus drops a whole scrape over one that is
 * not: each byte outside valid UTF-8 becomes U+FFFD, valid characters stay as they are.
 */
static void test_label_utf8(void **state)
{
	struct agg a;
	struct prom_src src = { .agg = &a };
	unsigned svc;
	char *s;

	assert_int_equal(agg__init(&a, 0), 0);
	svc = (unsigned)agg__service(&a, "app:8000");
	add(&a, svc, "/caf\xe9/\xc3\xa9/\xed\xa0\x80/\xf0\x9f\x98\x80/\xc3", 200, 1 * MS);
	for (int fmt = PROM_TEXT; fmt <= PROM_OPENMETRICS; fmt++) {
		src.fmt = fmt;
		s = render(&src);
		assert_non_null(
			strstr(s, "http_route=\"/caf\xef\xbf\xbd/\xc3\xa9/\xef\xbf\xbd"
				  "\xef\xbf\xbd\xef\xbf\xbd/\xf0\x9f\x98\x80/\xef\xbf\xbd\"} 1\n"));
		free(s);
	}
	agg__free(&a);
}

static void test_db_and_cache(void **state)
{
	struct dbagg d;
	struct cacheagg *c = cacheagg__new(NULL);
	struct dbagg_opts o = { 0 };
	const char *sql = "SELECT name FROM users WHERE id = 42";
	struct db_exec x = { .path = DB_PATH_WIRE,
			     .ts_start = 10,
			     .ts_end = 10 + 2 * MS,
			     .text = sql,
			     .text_len = strlen(sql),
			     .rows = 1 };
	struct cache_op op = { .flags = CACHE_OP_READ,
			       .ts_start = 1,
			       .ts_end = 1 + 7 * MS,
			       .verb = "GET",
			       .pattern = "user:{id}",
			       .hits = 1 };
	struct prom_src src = { .db = &d, .cache = c };
	struct dbagg_fp *f;
	uint64_t raw;
	char *s, want[512];

	assert_non_null(c);
	assert_int_equal(dbagg__init(&d, &o), 0);
	f = dbagg__add(&d, &x, "app:8000", "127.0.0.1:5432", &raw);
	assert_non_null(f);
	assert_non_null(cacheagg__add(c, &op, "app:8000", "[::1]:6379"));
	s = render(&src);
	/* The fingerprint, never the literal. */
	assert_null(strstr(s, "42"));
	snprintf(want, sizeof(want),
		 "db_client_operation_duration_seconds_count{db_system_name=\"postgresql\","
		 "db_query_id=\"%016llx\",db_query_summary=\"%s\",service_name=\"app:8000\","
		 "server_address=\"127.0.0.1\",server_port=\"5432\"} 1\n",
		 (unsigned long long)f->query_id, f->text);
	assert_non_null(strstr(s, want));
	assert_non_null(strstr(s, "db_client_operation_duration_seconds_bucket{db_system_name="
				  "\"postgresql\""));
	assert_non_null(
		strstr(s, "db_client_operation_duration_seconds_bucket{db_system_name=\"redis\","
			  "db_operation_name=\"GET\",db_query_summary=\"user:{id}\",service_name="
			  "\"app:8000\",server_address=\"::1\",server_port=\"6379\",le="
			  "\"0.004980735\"} 0\n"));
	assert_non_null(strstr(s, "server_port=\"6379\",le=\"0.009961471\"} 1\n"));
	assert_non_null(strstr(s, "server_port=\"6379\"} 0.007\n"));
	/* One family for both systems: one TYPE line. */
	assert_null(strstr(strstr(s, "# TYPE db_client") + 1, "# TYPE db_client"));
	free(s);
	dbagg__free(&d);
	cacheagg__free(c);
}

/* sloprobe's own counters: every cause of a drop, summing to the report's count. */
/*
 * Outbound rows: the latency of answered calls, the answers by status code and the calls with
 * none by kind, which the JSONL lines also count.
 */
static void test_http_client(void **state)
{
	struct outagg *o;
	struct prom_src src = { 0 };
	struct http_call c = { .tgid = 7,
			       .tid = 7,
			       .caller = "py",
			       .peer = "127.0.0.1:9000",
			       .host = "api",
			       .method = "GET",
			       .target = "/v1/x",
			       .ts_start = 1 * MS,
			       .ts_end = 4 * MS };
	char *s;

	(void)state;
	assert_int_equal(outagg__new(&o, NULL), 0);
	c.status = 200;
	assert_non_null(outagg__add(o, &c, "/v1/x", 0));
	c.status = 503;
	assert_non_null(outagg__add(o, &c, "/v1/x", 0));
	c.status = 0;
	c.fail = HTTP_CALL_RESET;
	assert_non_null(outagg__add(o, &c, "/v1/x", 0));
	/* a connect failure: no method, no route */
	c.fail = HTTP_CALL_REFUSED;
	c.flags = HTTP_CALL_NO_CONNECTION;
	c.method = NULL;
	assert_non_null(outagg__add(o, &c, NULL, 0));
	src.out = o;
	s = render(&src);
#define CL                                                                                         \
	"{service_name=\"py\",http_request_method=\"GET\",url_template=\"/v1/x\","                 \
	"server_host=\"api\",server_address=\"127.0.0.1\",server_port=\"9000\""
	assert_non_null(strstr(s, "http_client_request_duration_seconds_count" CL "} 2\n"));
	if (!strstr(s, "# TYPE http_client_responses_total counter\n"
		       "http_client_responses_total" CL ",http_response_status_code=\"200\"} 1\n"
		       "http_client_responses_total" CL ",http_response_status_code=\"503\"} 1\n"
		       "# HELP http_client_failures_total "))
		fail_msg("%s", s);
	assert_non_null(strstr(s, "http_client_failures_total" CL ",error_type=\"reset\"} 1\n"));
	assert_non_null(strstr(s, "http_client_failures_total{service_name=\"py\","
				  "http_request_method=\"\",url_template=\"\",server_host=\"\","
				  "server_address=\"127.0.0.1\",server_port=\"9000\","
				  "error_type=\"refused\"} 1\n"));
#undef CL
	free(s);
	outagg__free(o);
}

static void test_own(void **state)
{
	struct report_meta m;
	struct prom_src src = { .meta = &m, .scrapes = 7 };
	char *s;

	memset(&m, 0, sizeof(m));
	m.tstats.events = 1234;
	m.kstats[SOCKIO_STAT_RB_DROPS] = 5;
	m.sstats.endpoints_full = 2;
	m.tstats.conns_live = 3;
	s = render(&src);
	assert_non_null(strstr(s, "# TYPE sloprobe_events_total counter\nsloprobe_events_total "
				  "1234\n"));
	assert_non_null(
		strstr(s, "sloprobe_events_dropped_total{reason=\"ring_buffer_full\"} 5\n"));
	assert_non_null(strstr(s, "sloprobe_events_dropped_total{reason=\"endpoints_full\"} 2\n"));
	assert_non_null(strstr(s, "sloprobe_events_dropped_total{reason=\"connection_lost\"} 0\n"));
	assert_non_null(strstr(s, "# TYPE sloprobe_connections gauge\nsloprobe_connections 3\n"));
	assert_non_null(strstr(s, "sloprobe_scrapes_total 7\n"));
	assert_int_equal(report__dropped(&m), 7);
	free(s);
}

/* Every family at once, one row or more each, for both formats. */
struct full {
	struct agg a;
	struct dbagg d;
	struct cacheagg *c;
	struct outagg *o;
	struct report_meta m;
	struct prom_src src;
};

static void full_init(struct full *t)
{
	const char *sql = "SELECT name FROM users WHERE id = 42";
	struct db_exec x = { .path = DB_PATH_WIRE,
			     .ts_start = 10,
			     .ts_end = 10 + 2 * MS,
			     .text = sql,
			     .text_len = strlen(sql),
			     .rows = 1 };
	struct cache_op op = { .flags = CACHE_OP_READ,
			       .ts_start = 1,
			       .ts_end = 1 + 7 * MS,
			       .verb = "GET",
			       .pattern = "user:{id}",
			       .hits = 1 };
	struct http_call c = { .tgid = 7,
			       .tid = 7,
			       .caller = "py",
			       .peer = "127.0.0.1:9000",
			       .host = "api",
			       .method = "GET",
			       .target = "/v1/x",
			       .ts_start = 1 * MS,
			       .ts_end = 4 * MS,
			       .status = 200 };
	struct dbagg_opts dopts = { 0 };
	uint64_t raw;
	unsigned svc;

	memset(t, 0, sizeof(*t));
	assert_int_equal(agg__init(&t->a, 0), 0);
	svc = (unsigned)agg__service(&t->a, "app:8000");
	add(&t->a, svc, "/items/{id}", 200, 3 * MS);
	add(&t->a, svc, "/items/{id}", 500, 1000 * MS); /* a whole second: le="1.0" is not ours */
	add(&t->a, svc, "/a\"b\\c\nd", 404, 1 * MS);
	assert_int_equal(dbagg__init(&t->d, &dopts), 0);
	assert_non_null(dbagg__add(&t->d, &x, "app:8000", "127.0.0.1:5432", &raw));
	t->c = cacheagg__new(NULL);
	assert_non_null(t->c);
	assert_non_null(cacheagg__add(t->c, &op, "app:8000", "[::1]:6379"));
	assert_int_equal(outagg__new(&t->o, NULL), 0);
	assert_non_null(outagg__add(t->o, &c, "/v1/x", 0));
	c.status = 0;
	c.fail = HTTP_CALL_RESET;
	assert_non_null(outagg__add(t->o, &c, "/v1/x", 0));
	t->m.tstats.events = 1234;
	t->m.kstats[SOCKIO_STAT_RB_DROPS] = 5;
	t->m.tstats.conns_live = 3;
	t->src = (struct prom_src){
		.agg = &t->a, .db = &t->d, .cache = t->c, .out = t->o, .meta = &t->m, .scrapes = 2
	};
}

static void full_free(struct full *t)
{
	agg__free(&t->a);
	dbagg__free(&t->d);
	cacheagg__free(t->c);
	outagg__free(t->o);
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

/*
 * The 0.0.4 text of every family is byte for byte what it was before OpenMetrics came: the
 * hash and length of the 127 lines this very src rendered at commit 373f7c5 (the exact prefixes
 * of test_http above show a part of it in the clear).
 */
static void test_text_unchanged(void **state)
{
	struct full t;
	char *s;

	full_init(&t);
	s = render(&t.src);
	if (strlen(s) != 18550 || fnv1a(s) != 0x46da97ed0695654cull)
		fail_msg("0.0.4 text changed (%zu bytes, %016llx):\n%s", strlen(s),
			 (unsigned long long)fnv1a(s), s);
	full_free(&t);
	free(s);
}

#define LINES_MAX 512

/* "# TYPE NAME counter" */
static bool counter_type(const char *l)
{
	const char *sp = strncmp(l, "# TYPE ", 7) ? NULL : strchr(l + 7, ' ');

	return sp && !strcmp(sp, " counter");
}

/*
 * The OpenMetrics text of every family is the 0.0.4 text with only what OpenMetrics changes:
 * a counter's family (HELP and TYPE) is named without "_total", each family whose name ends in
 * _seconds has "# UNIT NAME seconds" after its TYPE, and "# EOF" ends the body. Undo just these
 * and the 0.0.4 text comes back, byte for byte.
 */
static void test_openmetrics(void **state)
{
	struct full t;
	char *om, *text, *back = NULL, *line, *save, *lines[LINES_MAX];
	size_t n = 0, len;
	FILE *f;
	int units = 0, counters = 0, nl = 0;

	full_init(&t);
	text = render(&t.src);
	t.src.fmt = PROM_OPENMETRICS;
	om = render(&t.src);
	len = strlen(om);
	assert_true(len > 6 && !strcmp(om + len - 6, "# EOF\n"));
	assert_non_null(strstr(om, "# HELP http_server_request_duration_seconds Duration of HTTP "
				   "server requests (answered), per service, method and route.\n"
				   "# TYPE http_server_request_duration_seconds histogram\n"
				   "# UNIT http_server_request_duration_seconds seconds\n"
				   "http_server_request_duration_seconds_bucket{service_name="
				   "\"app:8000\",http_request_method=\"GET\",http_route="
				   "\"/items/{id}\",le=\"0.004980735\"} 1\n"));
	assert_non_null(strstr(om, "le=\"+Inf\"} 2\nhttp_server_request_duration_seconds_sum{"));
	/* Label values escaped: backslash, double quote, newline. */
	assert_non_null(strstr(om, "http_server_request_duration_seconds_count{service_name="
				   "\"app:8000\",http_request_method=\"GET\",http_route="
				   "\"/a\\\"b\\\\c\\nd\"} 1\n"));
	assert_non_null(
		strstr(om, "# HELP http_server_responses HTTP server responses per status "
			   "code (sloprobe keeps one latency histogram per route, not per "
			   "code).\n# TYPE http_server_responses counter\nhttp_server_responses_"
			   "total{service_name=\"app:8000\""));
	assert_non_null(strstr(om, "# TYPE db_client_operation_duration_seconds histogram\n"
				   "# UNIT db_client_operation_duration_seconds seconds\n"));
	assert_non_null(strstr(om, "# TYPE http_client_failures counter\nhttp_client_failures_"
				   "total{"));
	assert_non_null(strstr(om, "# HELP sloprobe_events Events read from the kernel.\n"
				   "# TYPE sloprobe_events counter\nsloprobe_events_total 1234\n"));
	assert_non_null(strstr(om,
			       "# TYPE sloprobe_events_dropped counter\n"
			       "sloprobe_events_dropped_total{reason=\"ring_buffer_full\"} 5\n"));
	assert_non_null(strstr(om, "# TYPE sloprobe_connections gauge\nsloprobe_connections 3\n"));
	assert_non_null(strstr(om, "\nsloprobe_scrapes_total 2\n# EOF\n"));

	/* Back to 0.0.4: the only differences are the ones above. */
	for (line = strtok_r(om, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		assert_true(nl < LINES_MAX);
		lines[nl++] = line;
	}
	f = open_memstream(&back, &n);
	assert_non_null(f);
	for (int i = 0; i < nl; i++) {
		const char *sp = strchr(lines[i] + 2, ' ');

		line = lines[i];
		if (!strncmp(line, "# UNIT ", 7)) {
			sp = strchr(line + 7, ' ');
			assert_non_null(sp);
			assert_string_equal(sp, " seconds");
			assert_true(!strncmp(sp - 8, "_seconds", 8));
			units++;
			continue;
		}
		if (!strcmp(line, "# EOF")) {
			assert_int_equal(i, nl - 1);
			continue;
		}
		/* A counter family's metadata: its TYPE line, and the HELP line before it. */
		if (counter_type(line) ||
		    (!strncmp(line, "# HELP ", 7) && i + 1 < nl && counter_type(lines[i + 1]))) {
			sp = strchr(line + 7, ' ');
			assert_false(!strncmp(sp - 6, "_total", 6));
			fprintf(f, "%.*s_total%s\n", (int)(sp - line), line, sp);
			counters += counter_type(line);
			continue;
		}
		fprintf(f, "%s\n", line);
	}
	fclose(f);
	assert_string_equal(back, text);
	assert_int_equal(units, 3);    /* the three latency histograms */
	assert_int_equal(counters, 7); /* every counter family */
	free(back);
	free(text);
	free(om);
	full_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounds),	     cmocka_unit_test(test_http),
		cmocka_unit_test(test_db_and_cache), cmocka_unit_test(test_http_client),
		cmocka_unit_test(test_own),	     cmocka_unit_test(test_text_unchanged),
		cmocka_unit_test(test_openmetrics),  cmocka_unit_test(test_label_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
