// SPDX-License-Identifier: GPL-2.0-only
/*
 * SVG charts and HTML building blocks. With SVG_SAMPLE_OUT=PATH set, test_sample_page also
 * writes a page with every chart and edge case to PATH, which
 * tests/integration/test_html_render.py parses as XML and renders in Chromium.
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/hist.h"
#include "analyze/html.h"
#include "analyze/svg.h"

#define MS 1000000ull /* ns */

/* Debian's cmocka has no assert_double_equal. */
#define assert_near(got, want, eps)                                                                \
	do {                                                                                       \
		double g_ = (got), w_ = (want);                                                    \
		if (!(fabs(g_ - w_) <= (eps)))                                                     \
			fail_msg("%s: got %.17g want %.17g", #got, g_, w_);                        \
	} while (0)

struct out {
	FILE *f;
	char *buf;
	size_t len;
};

static void out_open(struct out *o)
{
	o->buf = NULL;
	o->len = 0;
	o->f = open_memstream(&o->buf, &o->len);
	assert_non_null(o->f);
}

/* Closes the stream; the caller frees o->buf. */
static char *out_close(struct out *o)
{
	assert_int_equal(fclose(o->f), 0);
	return o->buf;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0, len = strlen(needle);

	for (const char *p = strstr(hay, needle); p; p = strstr(p + len, needle))
		n++;
	return n;
}

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static char *escaped(const char *s, size_t n)
{
	struct out o;

	out_open(&o);
	html__escape_n(o.f, s, n);
	return out_close(&o);
}

static void check_escape(const char *in, size_t n, const char *want)
{
	char *got = escaped(in, n);

	assert_string_equal(got, want);
	free(got);
}

#define ESC(in, want) check_escape(in, sizeof(in) - 1, want)
#define FFFD	      "\xef\xbf\xbd"

static void test_escape(void **state)
{
	ESC("a<b & \"c\" 'd' >", "a&lt;b &amp; &quot;c&quot; &#39;d&#39; &gt;");
	ESC("plain text", "plain text");
	ESC("", "");
	/* Valid UTF-8 passes unchanged: 2, 3 and 4 byte sequences. */
	ESC("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	/* Each byte that starts nothing valid becomes one U+FFFD. */
	ESC("x\xffy", "x" FFFD "y");
	ESC("\xc0\xaf", FFFD FFFD);		      /* overlong '/' */
	ESC("ab\xe2\x82", "ab" FFFD FFFD);	      /* cut short at the end */
	ESC("\xed\xa0\x80", FFFD FFFD FFFD);	      /* surrogate U+D800 */
	ESC("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD); /* above U+10FFFF */
	ESC("\xe2\x82<", FFFD FFFD "&lt;");
	/* XML forbids C0 controls but tab and newline, and U+FFFE/U+FFFF. */
	ESC("a\001b\tc\nd\re", "a" FFFD "b\tc\nd" FFFD "e");
	ESC("\xef\xbf\xbe\xef\xbf\xbf", FFFD FFFD);
	/* NUL inside the counted length is replaced too, not a terminator. */
	check_escape("a\0b", 3, "a" FFFD "b");

	char *got = escaped(NULL, 4);

	assert_string_equal(got, "");
	free(got);
}

static void test_ellipsize(void **state)
{
	char out[64];

	assert_int_equal(html__ellipsize("hello", 10, out, sizeof(out)), 0);
	assert_string_equal(out, "hello");
	assert_int_equal(html__ellipsize("hello", 5, out, sizeof(out)), 0);
	assert_string_equal(out, "hello");
	assert_int_equal(html__ellipsize("hello world", 5, out, sizeof(out)), 1);
	assert_string_equal(out, "hell\xe2\x80\xa6");
	/* Characters, not bytes: never a split sequence. */
	assert_int_equal(html__ellipsize("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 3, out, sizeof(out)),
			 1);
	assert_string_equal(out, "\xc3\xa9\xc3\xa9\xe2\x80\xa6");
	/* The output buffer limits too: "a" + ellipsis + NUL is 5 bytes. */
	assert_int_equal(html__ellipsize("abcdef", 10, out, 5), 1);
	assert_string_equal(out, "a\xe2\x80\xa6");
	assert_int_equal(html__ellipsize("abc", 10, out, 4), 0);
	assert_string_equal(out, "abc");
	assert_int_equal(html__ellipsize("abc", 0, out, sizeof(out)), 1);
	assert_string_equal(out, "");
	assert_int_equal(html__ellipsize(NULL, 5, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	/* A stray byte counts as one character and is kept for the escaper to replace. */
	assert_int_equal(html__ellipsize("\xff\xffxyz", 3, out, sizeof(out)), 1);
	assert_string_equal(out, "\xff\xff\xe2\x80\xa6");
}

static void check_ticks(size_t n, const double *got, size_t want_n, const double *want)
{
	assert_int_equal(n, want_n);
	for (size_t i = 0; i < n; i++) {
		/* Exact: the ticks must be the doubles nearest the decimal values. */
		if (got[i] != want[i])
			fail_msg("tick %zu: got %.17g want %.17g", i, got[i], want[i]);
	}
}

#define TICKS(fn, lo, hi, max, ...)                                                                \
	do {                                                                                       \
		const double want[] = { __VA_ARGS__ };                                             \
		double got[64];                                                                    \
		size_t n = fn(lo, hi, max, got, 64);                                               \
		check_ticks(n, got, sizeof(want) / sizeof(want[0]), want);                         \
	} while (0)

static void test_ticks_linear(void **state)
{
	TICKS(svg__ticks_linear, 0, 97, 6, 0, 20, 40, 60, 80, 100);
	TICKS(svg__ticks_linear, 0, 100, 6, 0, 20, 40, 60, 80, 100);
	TICKS(svg__ticks_linear, 0, 0.3, 5, 0, 0.1, 0.2, 0.3);
	TICKS(svg__ticks_linear, 0, 0.7, 6, 0, 0.2, 0.4, 0.6, 0.8);
	TICKS(svg__ticks_linear, 0, 0, 6, 0, 0.2, 0.4, 0.6, 0.8, 1);
	TICKS(svg__ticks_linear, 5, 5, 6, 5, 6, 7, 8, 9, 10);
	TICKS(svg__ticks_linear, -3, 7, 6, -5, 0, 5, 10);
	TICKS(svg__ticks_linear, 1234, 5678, 5, 0, 2000, 4000, 6000);
	TICKS(svg__ticks_linear, 0, 390, 6, 0, 100, 200, 300, 400);
	TICKS(svg__ticks_linear, 0, 40, 10, 0, 5, 10, 15, 20, 25, 30, 35, 40);
	TICKS(svg__ticks_linear, 100, 0, 3, 0, 50, 100); /* reversed bounds */
	/* Tiny and huge spans keep exact values. */
	TICKS(svg__ticks_linear, 0, 0.0009, 4, 0, 0.0005, 0.001);
	TICKS(svg__ticks_linear, 0, 3e9, 4, 0, 1e9, 2e9, 3e9);
	TICKS(svg__ticks_linear, 1e17, 1e17 + 32, 6, 1e17, 1e17 + 32);

	double t[4];

	assert_int_equal(svg__ticks_linear(NAN, 1, 6, t, 4), 0);
	assert_int_equal(svg__ticks_linear(0, INFINITY, 6, t, 4), 0);
	/* cap bounds the writes. */
	assert_int_equal(svg__ticks_linear(0, 100, 6, t, 4), 4);
	assert_true(t[3] == 60);
}

static void test_ticks_log(void **state)
{
	TICKS(svg__ticks_log, 1, 1000, 12, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000);
	TICKS(svg__ticks_log, 0.003, 0.7, 12, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1);
	TICKS(svg__ticks_log, 10, 950, 12, 10, 20, 50, 100, 200, 500, 1000);
	/* 1 us .. 1000 s in ms: too many for 1-2-5, one tick a decade. */
	TICKS(svg__ticks_log, 0.001, 1e6, 12, 0.001, 0.01, 0.1, 1, 10, 100, 1000, 1e4, 1e5, 1e6);
	/* Even fewer: every third decade, aligned on 10^0. */
	TICKS(svg__ticks_log, 0.001, 1e9, 6, 0.001, 1, 1000, 1e6, 1e9);
	/* A single value gets a neighbour either side. */
	TICKS(svg__ticks_log, 50, 50, 12, 20, 50, 100);
	TICKS(svg__ticks_log, 50.3, 50.9, 12, 50, 100);

	double t[4];

	assert_int_equal(svg__ticks_log(0, 10, 12, t, 4), 0);
	assert_int_equal(svg__ticks_log(-1, 10, 12, t, 4), 0);
	assert_int_equal(svg__ticks_log(1, NAN, 12, t, 4), 0);
}

static void test_map(void **state)
{
	struct svg_scale lin = { 0, 100, 70, 880, false };
	struct svg_scale log = { 1, 1000, 70, 880, true };
	struct svg_scale inv = { 0, 40, 270, 40, false };
	struct svg_scale flat = { 5, 5, 0, 100, false };

	assert_near(svg__map(&lin, 50), 475, 1e-9);
	assert_near(svg__map(&lin, 0), 70, 1e-9);
	assert_near(svg__map(&log, 1), 70, 1e-9);
	assert_near(svg__map(&log, 10), 340, 1e-9);
	assert_near(svg__map(&log, 100), 610, 1e-9);
	assert_near(svg__map(&log, 1000), 880, 1e-9);
	/* Zero and negatives clamp to the domain start rather than -inf. */
	assert_near(svg__map(&log, 0), 70, 1e-9);
	assert_near(svg__map(&log, -5), 70, 1e-9);
	assert_near(svg__map(&inv, 10), 212.5, 1e-9);
	assert_near(svg__map(&flat, 5), 50, 1e-9);
}

static void test_format(void **state)
{
	char b[32];

	svg__fmt_value(50.594, b, sizeof(b));
	assert_string_equal(b, "50.6");
	svg__fmt_value(1234.4, b, sizeof(b));
	assert_string_equal(b, "1234");
	svg__fmt_value(0.125, b, sizeof(b));
	assert_string_equal(b, "0.125");
	svg__fmt_value(0.000123456, b, sizeof(b));
	assert_string_equal(b, "0.000123");
	svg__fmt_value(2, b, sizeof(b));
	assert_string_equal(b, "2");
	svg__fmt_value(0, b, sizeof(b));
	assert_string_equal(b, "0");
	svg__fmt_value(-12.34, b, sizeof(b));
	assert_string_equal(b, "-12.3");
	svg__fmt_value(-0.0001, b, sizeof(b));
	assert_string_equal(b, "-0.0001");
	svg__fmt_value(INFINITY, b, sizeof(b));
	assert_string_equal(b, "n/a");
}

/*
 * Known data whose log axis is exactly [1 ms, 1 s]: the plot spans x 70..880, so 10 ms is at
 * 340 and 100 ms at 610; counts 0..40 span y 270..40.
 */
static const struct svg_bucket known[] = {
	{ 1 * MS, 1 * MS + 15624, 10 },
	{ 5 * MS, 5 * MS + 78124, 0 }, /* empty buckets draw nothing */
	{ 100 * MS, 101 * MS - 1, 40 },
	{ 900 * MS, 950 * MS - 1, 5 },
};

static const struct svg_mark known_marks[] = {
	{ SVG_MARK_SLO, 100, 95, "p95 SLO 100 ms" },
	{ SVG_MARK_PERCENTILE, 10, 50, "p50 10 ms" },
	{ SVG_MARK_PERCENTILE, NAN, 99, "skipped" },
};

static char *histogram(const struct svg_bucket *b, size_t n, const struct svg_mark *m, size_t nm)
{
	struct out o;

	out_open(&o);
	assert_int_equal(svg__histogram(o.f, "GET /items/{id} <latency>", b, n, m, nm), 0);
	return out_close(&o);
}

static void test_histogram(void **state)
{
	char *s = histogram(known, 4, known_marks, 3);

	assert_true(starts_with(
		s, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 900 320\""));
	assert_int_equal(count(s, "class=\"bar\""), 3);
	assert_int_equal(count(s, "class=\"slo\""), 1);
	assert_int_equal(count(s, "class=\"pmark\""), 1);
	assert_non_null(strstr(s, "<line class=\"slo\" x1=\"610.0\" y1=\"40.0\" x2=\"610.0\" "
				  "y2=\"270.0\""));
	assert_non_null(strstr(s, "<line class=\"pmark\" x1=\"340.0\" y1=\"40.0\""));
	/* 40 requests, the highest bar, fills the plot; 10 requests a quarter of it. */
	assert_non_null(strstr(s, "<rect class=\"bar\" x=\"610.0\" y=\"40.0\" width=\"1.5\" "
				  "height=\"230.0\">"));
	assert_non_null(strstr(s, "<rect class=\"bar\" x=\"70.0\" y=\"212.5\""));
	assert_non_null(strstr(s, ">p95 SLO 100 ms</text>"));
	assert_null(strstr(s, "skipped"));
	/* Axis labels: 1-2-5 from 1 ms to 1 s, counts 0..40 by 10. */
	assert_non_null(strstr(s, ">1 ms</text>"));
	assert_non_null(strstr(s, ">500 ms</text>"));
	assert_non_null(strstr(s, ">1 s</text>"));
	/* Nine ms ticks (1 s is the tenth) and the two mark labels. */
	assert_int_equal(count(s, " ms</text>"), 11);
	assert_non_null(strstr(s, ">40</text>"));
	assert_non_null(strstr(s, "GET /items/{id} &lt;latency&gt;"));
	assert_non_null(strstr(s, "<title>100 ms to 101 ms: 40</title>"));
	assert_true(strlen(s) > 7 && !strcmp(s + strlen(s) - 7, "</svg>\n"));
	free(s);
}

static void test_histogram_huge_range(void **state)
{
	const struct svg_bucket b[] = {
		{ 1000, 1015, 3 },		   /* 1 us */
		{ 1000000 * MS, 1001000 * MS, 1 }, /* 1000 s */
	};
	char *s = histogram(b, 2, NULL, 0);

	assert_int_equal(count(s, "class=\"bar\""), 2);
	/* One tick a decade from 1 us to 10000 s (the last bucket ends past 1000 s). */
	assert_non_null(strstr(s, ">1 \xc2\xb5s</text>"));
	assert_non_null(strstr(s, ">10000 s</text>"));
	/* 11 x ticks, y ticks 0..5 (3 requests, but never fractions), title, axis titles. */
	assert_int_equal(count(s, "</text>"), 11 + 6 + 3);
	assert_non_null(strstr(s, ">5</text>"));
	free(s);
}

static void test_histogram_single_and_zero(void **state)
{
	const struct svg_bucket one[] = { { 50331648, 50855935, 23 } };
	const struct svg_bucket zero[] = { { 0, 0, 0 }, { 10, 10, 0 } };
	const struct svg_bucket first[] = { { 0, 0, 4 } };
	char *s = histogram(one, 1, NULL, 0);

	assert_int_equal(count(s, "class=\"bar\""), 1);
	assert_non_null(strstr(s, ">50 ms</text>"));
	assert_non_null(strstr(s, ">100 ms</text>"));
	free(s);

	s = histogram(zero, 2, known_marks, 2);
	assert_non_null(strstr(s, "class=\"nodata\""));
	assert_int_equal(count(s, "class=\"bar\""), 0);
	free(s);

	s = histogram(NULL, 0, NULL, 0);
	assert_non_null(strstr(s, ">no data</text>"));
	assert_non_null(strstr(s, "viewBox=\"0 0 900 120\""));
	free(s);

	/* Bucket [0, 0] still gets a place on the log axis. */
	s = histogram(first, 1, NULL, 0);
	assert_int_equal(count(s, "class=\"bar\""), 1);
	free(s);

	assert_int_equal(svg__histogram(NULL, "x", one, 1, NULL, 0), -EINVAL);
}

static void test_cdf(void **state)
{
	const struct svg_bucket before[] = {
		{ 100 * MS, 101 * MS - 1, 40 }, /* out of order on purpose */
		{ 1 * MS, 1 * MS + 15624, 10 },
		{ 900 * MS, 950 * MS - 1, 50 },
	};
	const struct svg_dist d[] = {
		{ "before", before, 3 },
		{ "empty", known + 1, 1 },
		{ "after", known, 4 },
	};
	struct out o;
	char *s;

	out_open(&o);
	assert_int_equal(svg__cdf(o.f, "CDF", d, 3, known_marks, 3), 0);
	s = out_close(&o);
	assert_int_equal(count(s, "<polyline class=\"cdf\""), 2);
	/* Starts at 0 % at 1 ms; 10/100 at 1.015625 ms; 50 % at 101 ms; 100 % at 950 ms. */
	assert_non_null(strstr(s, "points=\"70.0,270.0 71.8,247.0 611.2,155.0 874.0,40.0\""));
	/* The SLO: vertical at 100 ms, horizontal at 95 %, a ring where they cross. */
	assert_non_null(strstr(s, "<line class=\"slo\" x1=\"610.0\" y1=\"40.0\""));
	assert_non_null(strstr(s, "<line class=\"slo\" x1=\"70.0\" y1=\"51.5\" x2=\"880.0\" "
				  "y2=\"51.5\""));
	assert_non_null(strstr(s, "<circle class=\"slo-target\" cx=\"610.0\" cy=\"51.5\""));
	assert_non_null(strstr(s, "<circle class=\"pmark\" cx=\"340.0\" cy=\"155.0\""));
	/* Legend: the two drawn series, colours in order. */
	assert_non_null(strstr(s, ">before</text>"));
	assert_non_null(strstr(s, ">after</text>"));
	assert_null(strstr(s, ">empty</text>"));
	assert_non_null(strstr(s, ">100%</text>"));
	free(s);

	out_open(&o);
	assert_int_equal(svg__cdf(o.f, "CDF", d + 1, 1, NULL, 0), 0);
	s = out_close(&o);
	assert_non_null(strstr(s, "class=\"nodata\""));
	free(s);
}

static const struct svg_tpoint tl[] = {
	{ 10, 100, 120, 50 },
	{ 20, 200, 390, 80 },
	{ 30, NAN, NAN, 0 },
	{ 40, 150, 170, 60 },
};

static void test_timeline(void **state)
{
	const struct svg_mark slo = { SVG_MARK_SLO, 180, 95, "p95 SLO 180 ms" };
	const struct svg_series s1 = { NULL, tl, 4, false };
	struct svg_span spans[4];
	struct out o;
	size_t n;
	char *s;

	n = svg__breach_spans(tl, 4, 10, 95, 180, spans, 4);
	assert_int_equal(n, 1);
	assert_near(spans[0].t0_s, 10, 0);
	assert_near(spans[0].t1_s, 20, 0);

	out_open(&o);
	assert_int_equal(svg__timeline(o.f, "p95/p99", &s1, 1, &slo, 1, spans, n, false), 0);
	s = out_close(&o);
	/* x: 0..40 s over 70..880; y: 0..400 ms over 270..40. */
	assert_non_null(strstr(s, "<path class=\"tl-p95\""));
	assert_non_null(strstr(s, "d=\"M272.5 212.5 L475.0 155.0\"/>"));
	assert_non_null(strstr(s, "d=\"M272.5 201.0 L475.0 45.8\"/>"));
	/* After the gap, 40 s stands alone: a dot. */
	assert_non_null(strstr(s, "<circle class=\"tl-p95-dot\" cx=\"880.0\" cy=\"183.8\""));
	assert_int_equal(count(s, "-dot\""), 2);
	assert_non_null(strstr(s, "<line class=\"slo\" x1=\"70.0\" y1=\"166.5\" x2=\"880.0\""));
	assert_non_null(strstr(s, "<rect class=\"breach\" x=\"272.5\" y=\"40.0\" width=\"202.5\" "
				  "height=\"230.0\""));
	assert_null(strstr(s, "tl-rate"));
	assert_non_null(strstr(s, ">SLO breach</text>"));
	assert_non_null(strstr(s, ">400</text>"));
	free(s);

	/* Overlay with the rate of the first series on a right axis. */
	const struct svg_series two[] = { { "before", tl, 4, false }, { "after", tl, 2, false } };

	out_open(&o);
	assert_int_equal(svg__timeline(o.f, "overlay", two, 2, &slo, 1, NULL, 0, true), 0);
	s = out_close(&o);
	assert_int_equal(count(s, "<path class=\"tl-p95\""), 2);
	assert_int_equal(count(s, "<path class=\"tl-rate\""), 1);
	/* The legend sits beside a short title... */
	assert_non_null(strstr(s, " y=\"22.0\">before p95</text>"));
	assert_non_null(strstr(s, " y=\"22.0\">after p99</text>"));
	assert_non_null(strstr(s, ">requests/s</text>"));
	assert_null(strstr(s, "class=\"breach\""));
	free(s);

	/* ...and above the plot when the title leaves no room. */
	out_open(&o);
	assert_int_equal(svg__timeline(o.f, "GET /customers/{id}/orders: p95 and p99 over time",
				       two, 2, &slo, 1, NULL, 0, true),
			 0);
	s = out_close(&o);
	assert_non_null(strstr(s, " y=\"37.0\">before p95</text>"));
	free(s);
}

static void test_timeline_edges(void **state)
{
	const struct svg_tpoint one = { 5, 42, 57, 10 };
	const struct svg_tpoint none[] = { { 1, NAN, NAN, 3 }, { NAN, 1, 1, 1 } };
	const struct svg_series s1 = { "run", &one, 1, false }, s0 = { "run", none, 2, false };
	struct out o;
	char *s;

	out_open(&o);
	assert_int_equal(svg__timeline(o.f, "one", &s1, 1, NULL, 0, NULL, 0, true), 0);
	s = out_close(&o);
	assert_null(strstr(s, "<path"));
	assert_int_equal(count(s, "<circle class=\"tl-p9"), 2);
	assert_int_equal(count(s, "<circle class=\"tl-rate-dot\""), 1);
	free(s);

	out_open(&o);
	assert_int_equal(svg__timeline(o.f, "none", &s0, 1, NULL, 0, NULL, 0, true), 0);
	s = out_close(&o);
	assert_non_null(strstr(s, "class=\"nodata\""));
	free(s);

	/* Spans: merged while consecutive intervals breach, split by a good one or a gap. */
	const struct svg_tpoint p[] = {
		{ 1, 500, 0, 0 }, { 2, 500, 0, 0 }, { 3, 10, 0, 0 },
		{ 4, 500, 0, 0 }, { 6, 500, 0, 0 }, { 7, NAN, 0, 0 },
	};
	struct svg_span sp[2];

	assert_int_equal(svg__breach_spans(p, 6, 1, 95, 300, sp, 2), 3);
	assert_near(sp[0].t0_s, 0, 0);
	assert_near(sp[0].t1_s, 2, 0);
	assert_near(sp[1].t0_s, 3, 0);
	assert_near(sp[1].t1_s, 4, 0);
	assert_int_equal(svg__breach_spans(p, 6, 1, 99, 300, sp, 2), 0);
}

static void test_hbars(void **state)
{
	const struct svg_bar bars[] = {
		{ "SELECT * FROM orders WHERE customer_id = $1 AND created_at < $2 ORDER BY "
		  "created_at DESC LIMIT $3",
		  1234.5 },
		{ "skipped", NAN },
		{ "SELECT 1", 12.5 },
	};
	struct out o;
	char *s;

	out_open(&o);
	assert_int_equal(svg__hbars(o.f, "Top DB time", bars, 3, "ms"), 0);
	s = out_close(&o);
	assert_int_equal(count(s, "class=\"hbar\""), 2);
	assert_non_null(strstr(s, "viewBox=\"0 0 900 124\""));
	/* Full text in the tooltip, a truncated one on the chart: 46 monospace characters. */
	assert_non_null(strstr(s, "<title>SELECT * FROM orders WHERE customer_id = $1 AND "
				  "created_at &lt; $2 ORDER BY created_at DESC LIMIT $3: 1234 "
				  "ms</title>"));
	assert_non_null(strstr(s, ">SELECT * FROM orders WHERE customer_id = $1 A\xe2\x80\xa6</"));
	/* 0..1500 over 330..810: 1234.5 is 395.0 wide, 12.5 is 4.0. */
	assert_non_null(strstr(s, "<rect class=\"hbar\" x=\"330.0\" y=\"44.0\" width=\"395.0\""));
	assert_non_null(strstr(s, "<rect class=\"hbar\" x=\"330.0\" y=\"66.0\" width=\"4.0\""));
	assert_non_null(strstr(s, ">12.5 ms</text>"));
	assert_null(strstr(s, "skipped"));
	free(s);

	out_open(&o);
	assert_int_equal(svg__hbars(o.f, "Top DB time", bars + 1, 1, "ms"), 0);
	s = out_close(&o);
	assert_non_null(strstr(s, "class=\"nodata\""));
	free(s);
}

static void test_pairs(void **state)
{
	const struct svg_pair p[] = {
		{ "GET /items/{id}", { 10, 50, 100 }, { 8, 30, NAN } },
		{ "POST /orders", { 20, 80, 200 }, { 20, 60, 90 } },
	};
	struct out o;
	char *s;

	out_open(&o);
	assert_int_equal(svg__pairs(o.f, "before/after", "baseline", "tuned", p, 2), 0);
	s = out_close(&o);
	assert_int_equal(count(s, "class=\"pair-before\""), 6);
	assert_int_equal(count(s, "class=\"pair-after\""), 5);
	/* 0..200 over 270..40: 100 ms is half the plot high. */
	assert_non_null(strstr(s, "y=\"155.0\" width=\"16.0\" height=\"115.0\" fill=\"#a7b1bd\">"
				  "<title>GET /items/{id} p99: 100 ms before, n/a ms after"));
	assert_non_null(strstr(s, ">baseline</text>"));
	assert_non_null(strstr(s, ">tuned</text>"));
	assert_int_equal(count(s, ">p95</text>"), 2);
	free(s);

	out_open(&o);
	assert_int_equal(svg__pairs(o.f, "none", NULL, NULL, NULL, 0), 0);
	s = out_close(&o);
	assert_non_null(strstr(s, "class=\"nodata\""));
	free(s);
}

/* Coordinates and labels must not follow LC_NUMERIC; runs where a comma locale exists. */
static void test_locale(void **state)
{
	static const char *const names[] = { "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", NULL };
	const char *const *n;
	char *s, b[32];

	for (n = names; *n; n++) {
		if (setlocale(LC_ALL, *n))
			break;
	}
	if (!*n)
		skip();
	snprintf(b, sizeof(b), "%.1f", 1.5);
	if (strcmp(b, "1,5")) {
		setlocale(LC_ALL, "C");
		skip();
	}
	s = histogram(known, 4, known_marks, 3);
	svg__fmt_value(50.594, b, sizeof(b));
	setlocale(LC_ALL, "C");
	assert_non_null(strstr(s, "x1=\"610.0\""));
	assert_null(strstr(s, "610,0"));
	assert_string_equal(b, "50.6");
	free(s);
}

static int restore_locale(void **state)
{
	setlocale(LC_ALL, "C");
	return 0;
}

static void test_html_page(void **state)
{
	const char *const head[] = { "objective", "target", "observed", "verdict" };
	const char *const row[] = { "GET /a <b>", "300 ms", "412 ms", "breach" };
	struct out o;
	char *s;

	out_open(&o);
	html__begin(o.f, "Run \"A\" & B");
	html__section_begin(o.f, 2, "SLO <verdicts>", "slo");
	html__table_begin(o.f, "caption", head, 4);
	html__table_row(o.f, "breach", row, 4);
	html__table_row(o.f, NULL, NULL, 2);
	html__table_end(o.f);
	html__badge(o.f, "pass", "pass");
	html__p(o.f, "note", "text & more");
	html__section_end(o.f);
	assert_int_equal(html__end(o.f), 0);
	s = out_close(&o);
	assert_true(starts_with(s, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
				   "<meta charset=\"utf-8\"/>"));
	assert_non_null(strstr(s, "<title>Run &quot;A&quot; &amp; B</title>"));
	assert_non_null(strstr(s, "<h1>Run &quot;A&quot; &amp; B</h1>"));
	assert_non_null(strstr(s, "<section id=\"slo\">\n<h2>SLO &lt;verdicts&gt;</h2>"));
	assert_non_null(strstr(s, "<thead><tr><th>objective</th><th>target</th><th>observed</th>"
				  "<th>verdict</th></tr></thead>"));
	assert_non_null(strstr(s, "<tr class=\"breach\"><td>GET /a &lt;b&gt;</td><td>300 ms</td>"
				  "<td>412 ms</td><td>breach</td></tr>"));
	assert_non_null(strstr(s, "<tr><td></td><td></td></tr>"));
	assert_non_null(strstr(s, "<span class=\"badge pass\">pass</span>"));
	assert_non_null(strstr(s, "<p class=\"note\">text &amp; more</p>"));
	/* Self-contained: no fetches, no scripts. */
	assert_null(strstr(s, "<script"));
	assert_null(strstr(s, "url("));
	assert_null(strstr(s, "@import"));
	assert_null(strstr(s, "src="));
	assert_string_equal(s + strlen(s) - 16, "</body>\n</html>\n");
	free(s);
}

/* Text columns after the first are aligned left inline; the first and the numbers are not. */
static void test_html_table_aligned(void **state)
{
	const char *const head[] = { "Caller", "Destination", "Calls" };
	const char *const row[] = { "app", "api <x> (tls)", "60" };
	struct out o;
	char *s;

	out_open(&o);
	html__table_begin_aligned(o.f, NULL, head, 3, "llr");
	html__table_row_aligned(o.f, NULL, row, 3, "llr");
	html__table_end(o.f);
	s = out_close(&o);
	assert_string_equal(
		s, "<table>\n<thead><tr><th>Caller</th>"
		   "<th style=\"text-align:left;overflow-wrap:break-word\">Destination</th>"
		   "<th>Calls</th></tr></thead>\n<tbody>\n<tr><td>app</td>"
		   "<td style=\"text-align:left;overflow-wrap:break-word\">api &lt;x&gt; "
		   "(tls)</td><td>60</td></tr>\n</tbody>\n</table>\n");
	free(s);
}

static void test_write_error(void **state)
{
	FILE *f = fopen("/dev/full", "w");

	if (!f)
		skip();
	setvbuf(f, NULL, _IONBF, 0);
	assert_int_equal(svg__histogram(f, "x", known, 4, NULL, 0), -EIO);
	clearerr(f);
	html__begin(f, "x");
	assert_int_equal(html__end(f), -EIO);
	fclose(f);
}

/* A log-linear histogram (hist.h) exported as the report does: the non-empty buckets. */
static size_t export_hist(const struct hist *h, struct svg_bucket *out, size_t cap)
{
	size_t n = 0;

	for (int i = 0; i < (int)HIST_NBUCKETS && n < cap; i++) {
		if (h->buckets[i])
			out[n++] = (struct svg_bucket){ hist__bucket_lo(i), hist__bucket_hi(i),
							h->buckets[i] };
	}
	return n;
}

/* Deterministic log-normal-ish latencies around `median_ms`. */
static void fill_hist(struct hist *h, double median_ms, double spread, int n, uint64_t seed)
{
	hist__init(h);
	for (int i = 0; i < n; i++) {
		double u = 0;

		for (int k = 0; k < 6; k++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			u += (double)(seed >> 11) / (double)(1ull << 53);
		}
		hist__add(h, (uint64_t)(median_ms * 1e6 * exp((u - 3) * spread)));
	}
}

static void sample_charts(FILE *f)
{
	static struct hist before, after;
	struct svg_bucket bb[HIST_NBUCKETS], ab[HIST_NBUCKETS];
	struct svg_tpoint tb[60], ta[60];
	struct svg_span spans[60];
	size_t nb, na, ns;
	const struct svg_bucket huge[] = { { 1000, 1015, 3 }, { 1000000 * MS, 1001000 * MS, 1 } };
	const struct svg_bar bars[] = {
		{ "SELECT o.id, o.total, c.name FROM orders o JOIN customers c ON c.id = "
		  "o.customer_id WHERE o.created_at > $1 AND o.status <> $2",
		  8123.4 },
		{ "SELECT * FROM items WHERE id = $1", 2950 },
		{ "UPDATE stock SET qty = qty - $1 WHERE item_id = $2 -- \"quoted\" & <tagged>",
		  410.25 },
		{ "bad utf-8: \xff\xfe \xc3( end", 12 },
	};
	const struct svg_pair pairs[] = {
		{ "GET /items/{id}", { 12, 48, 95 }, { 6, 21, 40 } },
		{ "POST /orders", { 35, 310, 620 }, { 30, 140, 260 } },
		{ "GET /customers/{id}/orders?with=a-very-long-query-string",
		  { 20, 90, 180 },
		  { 22, 95, NAN } },
	};

	fill_hist(&before, 120, 0.5, 20000, 1);
	fill_hist(&after, 45, 0.4, 20000, 2);
	nb = export_hist(&before, bb, HIST_NBUCKETS);
	na = export_hist(&after, ab, HIST_NBUCKETS);

	const struct svg_mark marks[] = {
		{ SVG_MARK_SLO, 300, 95, "p95 SLO 300 ms" },
		{ SVG_MARK_SLO, 800, 99, "p99 SLO 800 ms" },
		{ SVG_MARK_PERCENTILE, hist__percentile(&before, 50) / 1e6, 50, "p50" },
		{ SVG_MARK_PERCENTILE, hist__percentile(&before, 95) / 1e6, 95, "p95" },
		{ SVG_MARK_PERCENTILE, hist__percentile(&before, 99) / 1e6, 99, "p99" },
	};
	const struct svg_dist dists[] = { { "before", bb, nb }, { "after", ab, na } };

	for (int i = 0; i < 60; i++) {
		double t = (i + 1) * 5.0;

		tb[i] = (struct svg_tpoint){ t, 80 + i * 6.0, 140 + i * 11.0, 20 + i * 3.0 };
		ta[i] = (struct svg_tpoint){ t, 40 + i * 2.0, 70 + i * 4.0, 20 + i * 3.0 };
		if (i == 30) /* an interval without requests */
			tb[i].p95_ms = tb[i].p99_ms = NAN;
	}
	ns = svg__breach_spans(tb, 60, 5, 95, 300, spans, 60);
	const struct svg_series both[] = { { "before", tb, 60, false },
					   { "after", ta, 60, false } };
	const struct svg_mark slo = { SVG_MARK_SLO, 300, 95, "p95 SLO 300 ms" };
	const struct svg_series one = { "only", tb, 1, false };

	html__section_begin(f, 2, "Charts", "charts");
	html__figure_begin(f);
	svg__histogram(f, "GET /items/{id}: latency", bb, nb, marks, 5);
	html__figure_end(f, "histogram with SLO lines and percentile markers");
	html__figure_begin(f);
	svg__cdf(f, "GET /items/{id}: CDF before/after", dists, 2, marks, 5);
	html__figure_end(f, "CDF overlay");
	html__figure_begin(f);
	svg__timeline(f, "GET /items/{id}: p95/p99 over time", both, 2, &slo, 1, spans, ns, true);
	html__figure_end(f, "timeline with breaches");
	html__figure_begin(f);
	svg__hbars(f, "Top DB fingerprints by total time", bars, 4, "ms");
	html__figure_end(f, NULL);
	html__figure_begin(f);
	svg__pairs(f, "p50/p95/p99 before and after", "baseline", "tuned", pairs, 3);
	html__figure_end(f, NULL);
	html__section_end(f);

	html__section_begin(f, 2, "Edge cases", "edges");
	svg__histogram(f, "1 us .. 1000 s", huge, 2, NULL, 0);
	svg__histogram(f, "empty", NULL, 0, NULL, 0);
	svg__cdf(f, "empty", NULL, 0, NULL, 0);
	svg__timeline(f, "single point", &one, 1, &slo, 1, NULL, 0, false);
	svg__timeline(f, "empty", NULL, 0, NULL, 0, NULL, 0, false);
	svg__hbars(f, "empty", NULL, 0, NULL);
	svg__pairs(f, "empty", NULL, NULL, NULL, 0);
	html__section_end(f);
}

static void test_sample_page(void **state)
{
	const char *const head[] = { "objective", "target", "observed", "margin", "verdict" };
	const char *const rows[][5] = {
		{ "GET /items/{id} p95", "300 ms", "412 ms", "-112 ms", "breach" },
		{ "GET /items/{id} 5xx", "0.5 %", "0.1 %", "0.4 %", "pass" },
		{ "POST /orders p99 <all> & \"quoted\" \xff", "800 ms", "n/a", "", "insufficient" },
	};
	const char *path = getenv("SVG_SAMPLE_OUT");
	struct out o;
	char *s;

	out_open(&o);
	html__begin(o.f, "sloprobe sample report <test> & \"charts\"");
	html__p(o.f, "muted", "Generated by tests/unit/test_svg.c");
	html__section_begin(o.f, 2, "SLO verdicts", "slo");
	html__table_begin(o.f, NULL, head, 5);
	for (size_t i = 0; i < 3; i++)
		html__table_row(o.f, rows[i][4], rows[i], 5);
	html__table_end(o.f);
	html__p(o.f, NULL, "Badges: ");
	html__badge(o.f, "improved", "improved");
	html__badge(o.f, "regressed", "regressed");
	html__badge(o.f, "unchanged", "unchanged");
	html__p(o.f, "note", "URLs in text are fine: https://example.com/x?a=1&b=2");
	html__section_end(o.f);
	sample_charts(o.f);
	assert_int_equal(html__end(o.f), 0);
	s = out_close(&o);
	assert_int_equal(count(s, "<svg "), 12);
	assert_int_equal(count(s, "</svg>"), 12);
	assert_int_equal(count(s, "class=\"nodata\""), 5);
	if (path) {
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		assert_int_equal(fwrite(s, 1, strlen(s), f), strlen(s));
		assert_int_equal(fclose(f), 0);
	}
	free(s);
}

static void test_min_samples(void **state)
{
	(void)state;
	/* At least one request above the percentile: else p99 of 16 requests is their max. */
	assert_int_equal(svg__min_samples(50), 2);
	assert_int_equal(svg__min_samples(90), 10);
	assert_int_equal(svg__min_samples(95), 20);
	assert_int_equal(svg__min_samples(99), 100);
	assert_int_equal(svg__min_samples(99.9), 1000);
	assert_int_equal(svg__min_samples(100), 1);
	assert_int_equal(svg__min_samples(0), 1);
	assert_int_equal(svg__min_samples(NAN), 1);
}

static void test_rebin(void **state)
{
	struct svg_bucket in[HIST_SUB * 2 + 4], out[HIST_SUB * 2 + 4];
	size_t n = 0, k;
	uint64_t total = 0;

	(void)state;
	/* Bucket 0, then every sub-bucket of two octaves: [2^20, 2^21) and [2^21, 2^22) ns. */
	in[n++] = (struct svg_bucket){ 0, 0, 5 };
	for (int e = 20; e <= 21; e++)
		for (unsigned i = 0; i < HIST_SUB; i++) {
			uint64_t w = (1ull << e) / HIST_SUB, lo = (1ull << e) + i * w;

			in[n++] = (struct svg_bucket){ lo, lo + w - 1, 1 + i % 3 };
		}
	for (size_t i = 0; i < n; i++)
		total += in[i].count;
	k = svg__rebin(in, n, 8, out);
	/* 0 alone, then 8 an octave: 8 sub-buckets of 64 in each bin. */
	assert_int_equal(k, 1 + 16);
	assert_int_equal(out[0].lo_ns, 0);
	assert_int_equal(out[0].count, 5);
	assert_int_equal(out[1].lo_ns, 1ull << 20);
	assert_int_equal(out[1].hi_ns, (1ull << 20) + (1ull << 17) - 1);
	assert_int_equal(out[8].hi_ns, (1ull << 21) - 1);
	assert_int_equal(out[9].lo_ns, 1ull << 21);
	assert_int_equal(out[16].hi_ns, (1ull << 22) - 1);
	for (size_t i = 1; i < k; i++)
		total -= out[i].count;
	assert_int_equal(total, 5);
	/* Sparse input: buckets apart in one bin still merge, in distinct bins stay. */
	in[0] = (struct svg_bucket){ 1000 * MS, 1000 * MS + 15624, 2 };
	in[1] = (struct svg_bucket){ 1001 * MS, 1001 * MS + 15624, 3 };
	in[2] = (struct svg_bucket){ 1400 * MS, 1400 * MS + 15624, 4 };
	k = svg__rebin(in, 3, 8, in); /* in place */
	assert_int_equal(k, 2);
	assert_int_equal(in[0].count, 5);
	assert_int_equal(in[0].hi_ns, 1001 * MS + 15624);
	assert_int_equal(in[1].count, 4);
	/* The exact values below 128 ns are one bin per value's eighth of its octave. */
	in[0] = (struct svg_bucket){ 64, 64, 1 };
	in[1] = (struct svg_bucket){ 71, 71, 1 };
	in[2] = (struct svg_bucket){ 72, 72, 1 };
	assert_int_equal(svg__rebin(in, 3, 8, out), 2);
	assert_int_equal(svg__rebin(in, 0, 8, out), 0);
}

static void test_place_labels(void **state)
{
	struct svg_box b[4] = {
		{ 100, 50, 60, 13 }, /* placed where asked */
		{ 120, 52, 60, 13 }, /* overlaps the first: moves down a row */
		{ 300, 50, 60, 13 }, /* clear of both */
		{ 110, 50, 60, 13 }, /* 50 and 63 covered, 76 too (the second at 65): 89 */
	};

	(void)state;
	assert_int_equal(svg__place_labels(b, 4, 40, 270), 0);
	assert_true(b[0].y == 50 && b[1].y == 65 && b[2].y == 50 && b[3].y == 89);
	/* Out of room at the bottom: up instead. */
	struct svg_box c[2] = { { 0, 250, 50, 13 }, { 10, 255, 50, 13 } };

	assert_int_equal(svg__place_labels(c, 2, 40, 270), 0);
	assert_true(c[0].y == 250 && c[1].y == 229);
	/* No room at all: left at the band's edge nearest to where it was asked for, counted. */
	struct svg_box d[2] = { { 0, 0, 50, 13 }, { 10, 2, 50, 13 } };

	assert_int_equal(svg__place_labels(d, 2, 0, 14), 1);
	assert_true(d[1].y == 1);
	/* Asked for above the band (a threshold's label at the plot's top): inside it, not over
	 * the legend above; below it likewise. */
	struct svg_box e[2] = { { 0, 4, 50, 13 }, { 100, 280, 50, 13 } };

	assert_int_equal(svg__place_labels(e, 2, 40, 270), 0);
	assert_true(e[0].y == 40 && e[1].y == 257);
}

static void test_stacked(void **state)
{
	static const char *const names[] = { "ok", "5xx" };
	const struct svg_stack_point p[] = {
		{ 1, 1, { 10, 0 }, false },
		{ 2, 1, { 8, 2 }, false },
		{ 2.5, 0.5, { 4, 0 }, true },
	};
	struct out o;
	char *s;

	(void)state;
	out_open(&o);
	assert_int_equal(svg__stacked(o.f, "rate", "requests/s", NULL, names, NULL, 2, p, 3), 0);
	s = out_close(&o);
	/* Zero layers draw nothing: 1 + 2 + 1 rects, the last hollow. */
	assert_int_equal(count(s, "<rect class=\"stack\""), 3);
	assert_int_equal(count(s, "<rect class=\"stack partial\""), 1);
	assert_non_null(strstr(s, "hollow: partial last interval (0.5 s)"));
	assert_non_null(strstr(s, ">5xx at t=2.0 s: 2</title>"));
	free(s);
	out_open(&o);
	assert_int_equal(svg__stacked(o.f, "none", "x", NULL, names, NULL, 2, NULL, 0), 0);
	s = out_close(&o);
	assert_non_null(strstr(s, "class=\"nodata\""));
	free(s);
	assert_int_equal(svg__stacked(NULL, "x", "x", NULL, names, NULL, 2, p, 3), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_ellipsize),
		cmocka_unit_test(test_ticks_linear),
		cmocka_unit_test(test_ticks_log),
		cmocka_unit_test(test_map),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_histogram_huge_range),
		cmocka_unit_test(test_histogram_single_and_zero),
		cmocka_unit_test(test_cdf),
		cmocka_unit_test(test_timeline),
		cmocka_unit_test(test_timeline_edges),
		cmocka_unit_test(test_hbars),
		cmocka_unit_test(test_pairs),
		cmocka_unit_test_teardown(test_locale, restore_locale),
		cmocka_unit_test(test_html_page),
		cmocka_unit_test(test_html_table_aligned),
		cmocka_unit_test(test_write_error),
		cmocka_unit_test(test_sample_page),
		cmocka_unit_test(test_min_samples),
		cmocka_unit_test(test_rebin),
		cmocka_unit_test(test_place_labels),
		cmocka_unit_test(test_stacked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
