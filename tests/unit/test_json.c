// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <float.h>
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

#include "lib/json.h"

#define RFC "\xef\xbf\xbd" /* U+FFFD as UTF-8 */

struct out {
	FILE *f;
	char *buf;
	size_t len;
	struct json *j;
};

static void out_open(struct out *o, bool pretty)
{
	o->buf = NULL;
	o->len = 0;
	o->f = open_memstream(&o->buf, &o->len);
	assert_non_null(o->f);
	o->j = json__new(o->f, pretty);
	assert_non_null(o->j);
}

/* Exact comparison; the length check catches anything after an embedded NUL. */
static void out_expect(struct out *o, int rc, const char *want)
{
	assert_int_equal(json__finish(o->j), rc);
	assert_string_equal(o->buf, want);
	assert_int_equal(o->len, strlen(want));
}

static void out_close(struct out *o)
{
	json__free(o->j);
	fclose(o->f);
	free(o->buf);
}

/* One document written in compact mode by `calls` (which use `o.j`) must read `want`. */
#define CHECK_DOC(rc, want, calls)                                                                 \
	do {                                                                                       \
		struct out o;                                                                      \
		out_open(&o, false);                                                               \
		calls;                                                                             \
		out_expect(&o, rc, want);                                                          \
		out_close(&o);                                                                     \
	} while (0)

#define CHECK_VALUE(want, call)	  CHECK_DOC(0, want "\n", call)
#define CHECK_MISUSE(want, calls) CHECK_DOC(-EINVAL, want, calls)

static void test_compact_nesting(void **state)
{
	struct out o;

	out_open(&o, false);
	json__begin_object(o.j);
	json__kv_u64(o.j, "a", 1);
	json__key(o.j, "b");
	json__begin_array(o.j);
	json__u64(o.j, 1);
	json__u64(o.j, 2);
	json__begin_object(o.j);
	json__kv_bool(o.j, "t", true);
	json__kv_bool(o.j, "f", false);
	json__key(o.j, "n");
	json__null(o.j);
	json__end_object(o.j);
	json__begin_array(o.j);
	json__end_array(o.j);
	json__end_array(o.j);
	json__key(o.j, "e");
	json__begin_object(o.j);
	json__end_object(o.j);
	json__kv_string(o.j, "s", "x");
	json__kv_i64(o.j, "i", -5);
	json__kv_double(o.j, "d", 0.25);
	json__kv_fixed(o.j, "x", 1.5, 3);
	json__end_object(o.j);
	out_expect(&o, 0,
		   "{\"a\":1,\"b\":[1,2,{\"t\":true,\"f\":false,\"n\":null},[]],\"e\":{},"
		   "\"s\":\"x\",\"i\":-5,\"d\":0.25,\"x\":1.5}\n");
	out_close(&o);
}

static void test_pretty_nesting(void **state)
{
	struct out o;

	out_open(&o, true);
	json__begin_object(o.j);
	json__kv_u64(o.j, "a", 1);
	json__key(o.j, "b");
	json__begin_array(o.j);
	json__u64(o.j, 1);
	json__u64(o.j, 2);
	json__end_array(o.j);
	json__key(o.j, "e");
	json__begin_object(o.j);
	json__end_object(o.j);
	json__key(o.j, "f");
	json__begin_array(o.j);
	json__end_array(o.j);
	json__end_object(o.j);
	out_expect(&o, 0,
		   "{\n"
		   "  \"a\": 1,\n"
		   "  \"b\": [\n"
		   "    1,\n"
		   "    2\n"
		   "  ],\n"
		   "  \"e\": {},\n"
		   "  \"f\": []\n"
		   "}\n");
	out_close(&o);

	out_open(&o, true);
	json__begin_array(o.j);
	json__begin_object(o.j);
	json__kv_string(o.j, "k\n", NULL);
	json__key(o.j, "o");
	json__begin_object(o.j);
	json__kv_bool(o.j, "deep", true);
	json__end_object(o.j);
	json__end_object(o.j);
	json__begin_array(o.j);
	json__begin_array(o.j);
	json__end_array(o.j);
	json__end_array(o.j);
	json__string(o.j, "z");
	json__end_array(o.j);
	out_expect(&o, 0,
		   "[\n"
		   "  {\n"
		   "    \"k\\n\": null,\n"
		   "    \"o\": {\n"
		   "      \"deep\": true\n"
		   "    }\n"
		   "  },\n"
		   "  [\n"
		   "    []\n"
		   "  ],\n"
		   "  \"z\"\n"
		   "]\n");
	out_close(&o);

	out_open(&o, true);
	json__u64(o.j, 3);
	out_expect(&o, 0, "3\n");
	out_close(&o);
}

static void test_empty_top_level(void **state)
{
	CHECK_VALUE("{}", {
		json__begin_object(o.j);
		json__end_object(o.j);
	});
	CHECK_VALUE("[]", {
		json__begin_array(o.j);
		json__end_array(o.j);
	});
	CHECK_VALUE("\"\"", json__string(o.j, ""));
	CHECK_VALUE("\"\"", json__string_n(o.j, "abc", 0));
}

static void test_escapes(void **state)
{
	CHECK_VALUE("\"q\\\"b\\\\s/\\n\\t\\r\\b\\f\"", json__string(o.j, "q\"b\\s/\n\t\r\b\f"));
	CHECK_VALUE("\"\\u0001\\u001f\\u000b\\u001b \x7f~\"",
		    json__string(o.j, "\x01\x1f\x0b\x1b \x7f~"));
	CHECK_VALUE("\"a\\u0000b\\u0000\"", json__string_n(o.j, "a\0b\0", 4));
	CHECK_VALUE("null", json__string(o.j, NULL));
	CHECK_VALUE("null", json__string_n(o.j, NULL, 3));
	/* Keys go through the same escaping. */
	CHECK_VALUE("{\"\\\"\\u0002\\u2028\":1}", {
		json__begin_object(o.j);
		json__kv_u64(o.j, "\"\x02\xe2\x80\xa8", 1);
		json__end_object(o.j);
	});
}

static void test_line_separators(void **state)
{
	/* U+2027 and U+202A are the neighbours and pass through. */
	CHECK_VALUE("\"a\\u2028b\\u2029c\xe2\x80\xa7\xe2\x80\xaa\"",
		    json__string(o.j, "a\xe2\x80\xa8"
				      "b\xe2\x80\xa9"
				      "c\xe2\x80\xa7\xe2\x80\xaa"));
}

static void test_valid_utf8(void **state)
{
	/* 2, 3 and 4 byte forms and the edges of the valid ranges. */
	static const char s[] = "\xc3\xa9"	    /* U+00E9 */
				"\xc2\x80"	    /* U+0080 */
				"\xdf\xbf"	    /* U+07FF */
				"\xe0\xa0\x80"	    /* U+0800 */
				"\xe2\x82\xac"	    /* U+20AC */
				"\xed\x9f\xbf"	    /* U+D7FF */
				"\xee\x80\x80"	    /* U+E000 */
				"\xef\xbf\xbd"	    /* U+FFFD */
				"\xf0\x90\x80\x80"  /* U+10000 */
				"\xf0\x9f\x98\x80"  /* U+1F600 */
				"\xf4\x8f\xbf\xbf"; /* U+10FFFF */
	char want[sizeof(s) + 3];
	struct out o;

	snprintf(want, sizeof(want), "\"%s\"\n", s);
	out_open(&o, false);
	json__string(o.j, s);
	out_expect(&o, 0, want);
	out_close(&o);
}

static void test_invalid_utf8(void **state)
{
	/* Lone continuation bytes, one replacement each. */
	CHECK_VALUE("\"" RFC "a" RFC RFC "\"", json__string(o.j, "\x80"
								 "a\xbf\x80"));
	/* Bytes that never occur in UTF-8. */
	CHECK_VALUE("\"" RFC RFC RFC RFC "\"", json__string(o.j, "\xc0\xc1\xf5\xff"));
	/* Overlong '/': C0 cannot start anything, the continuation is then alone. */
	CHECK_VALUE("\"" RFC RFC "\"", json__string(o.j, "\xc0\xaf"));
	/* Overlong 3 and 4 byte forms fail at the second byte. */
	CHECK_VALUE("\"" RFC RFC RFC "\"", json__string(o.j, "\xe0\x80\xaf"));
	CHECK_VALUE("\"" RFC RFC RFC RFC "\"", json__string(o.j, "\xf0\x80\x80\xaf"));
	/* Surrogates D800 and DFFF encoded directly. */
	CHECK_VALUE("\"" RFC RFC RFC "x\"", json__string(o.j, "\xed\xa0\x80x"));
	CHECK_VALUE("\"" RFC RFC RFC "\"", json__string(o.j, "\xed\xbf\xbf"));
	/* U+110000 and a 5-byte lead. */
	CHECK_VALUE("\"" RFC RFC RFC RFC "\"", json__string(o.j, "\xf4\x90\x80\x80"));
	CHECK_VALUE("\"" RFC RFC RFC RFC RFC "\"", json__string(o.j, "\xf8\x88\x80\x80\x80"));
	/* Truncated sequences: one replacement for the valid prefix, then go on. */
	CHECK_VALUE("\"a" RFC "\"", json__string(o.j, "a\xe2\x82"));
	CHECK_VALUE("\"" RFC "z\"", json__string(o.j, "\xe2\x82z"));
	CHECK_VALUE("\"" RFC "x\"", json__string(o.j, "\xf0\x9f\x98x"));
	CHECK_VALUE("\"" RFC "\xc3\xa9\"", json__string(o.j, "\xf0\x9f\xc3\xa9"));
	CHECK_VALUE("\"" RFC "\\\"\"", json__string(o.j, "\xc3\""));
	/* string_n must not read past n even when the sequence continues in memory. */
	CHECK_VALUE("\"" RFC "\"", json__string_n(o.j, "\xc3\xa9", 1));
	CHECK_VALUE("\"" RFC "\"", json__string_n(o.j, "\xf0\x9f\x98\x80", 3));
	/* NUL after a lead byte is both a truncation and an escape. */
	CHECK_VALUE("\"" RFC "\\u0000\"", json__string_n(o.j, "\xe2\0", 2));
}

static void test_integers(void **state)
{
	CHECK_VALUE("0", json__u64(o.j, 0));
	CHECK_VALUE("18446744073709551615", json__u64(o.j, UINT64_MAX));
	CHECK_VALUE("-9223372036854775808", json__i64(o.j, INT64_MIN));
	CHECK_VALUE("9223372036854775807", json__i64(o.j, INT64_MAX));
	CHECK_VALUE("-1", json__i64(o.j, -1));
	CHECK_VALUE("true", json__bool(o.j, true));
	CHECK_VALUE("false", json__bool(o.j, false));
	CHECK_VALUE("null", json__null(o.j));
}

static void test_doubles(void **state)
{
	CHECK_VALUE("0.1", json__double(o.j, 0.1));
	CHECK_VALUE("1e+300", json__double(o.j, 1e300));
	CHECK_VALUE("3", json__double(o.j, 3.0));
	CHECK_VALUE("100", json__double(o.j, 100.0));
	CHECK_VALUE("0", json__double(o.j, 0.0));
	/* Sign kept so the value reads back bit for bit. */
	CHECK_VALUE("-0", json__double(o.j, -0.0));
	CHECK_VALUE("-1.5", json__double(o.j, -1.5));
	CHECK_VALUE("null", json__double(o.j, NAN));
	CHECK_VALUE("null", json__double(o.j, INFINITY));
	CHECK_VALUE("null", json__double(o.j, -INFINITY));
	/* 15, 16 and 17 digits needed. */
	CHECK_VALUE("123456.789", json__double(o.j, 123456.789));
	CHECK_VALUE("0.3333333333333333", json__double(o.j, 1.0 / 3.0));
	CHECK_VALUE("0.30000000000000004", json__double(o.j, 0.1 + 0.2));
	CHECK_VALUE("9007199254740992", json__double(o.j, 9007199254740992.0));
	CHECK_VALUE("1e+15", json__double(o.j, 1e15));
	CHECK_VALUE("1e-7", json__double(o.j, 1e-7));
	CHECK_VALUE("0.0001", json__double(o.j, 1e-4));
	CHECK_VALUE("1.7976931348623157e+308", json__double(o.j, DBL_MAX));
	CHECK_VALUE("4.94065645841247e-324", json__double(o.j, 4.9406564584124654e-324));
	CHECK_VALUE("[null,1]", {
		json__begin_array(o.j);
		json__double(o.j, NAN);
		json__double(o.j, 1.0);
		json__end_array(o.j);
	});
}

/* Deterministic generator so failures reproduce. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng_next(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

/* Random bit patterns cover every exponent, subnormals included. */
static void test_double_round_trip(void **state)
{
	int done = 0;

	while (done < 20000) {
		uint64_t bits = rng_next();
		struct out o;
		double v, back;
		char *end;

		memcpy(&v, &bits, sizeof(v));
		if (!isfinite(v))
			continue;
		out_open(&o, false);
		json__double(o.j, v);
		assert_int_equal(json__finish(o.j), 0);
		assert_true(o.len >= 2 && o.buf[o.len - 1] == '\n');
		assert_null(strpbrk(o.buf, ",nNiI"));
		back = strtod(o.buf, &end);
		assert_ptr_equal(end, o.buf + o.len - 1);
		assert_memory_equal(&back, &v, sizeof(v));
		out_close(&o);
		done++;
	}
}

static void test_fixed(void **state)
{
	CHECK_VALUE("12.346", json__fixed(o.j, 12.3456, 3));
	CHECK_VALUE("2.5", json__fixed(o.j, 2.5000, 4));
	CHECK_VALUE("7", json__fixed(o.j, 7.0, 2));
	/* Trimming stops at the point: integer zeros stay. */
	CHECK_VALUE("100", json__fixed(o.j, 100.0, 2));
	CHECK_VALUE("100", json__fixed(o.j, 100.0, 0));
	CHECK_VALUE("10.05", json__fixed(o.j, 10.05, 2));
	CHECK_VALUE("-1.25", json__fixed(o.j, -1.25, 3));
	CHECK_VALUE("0", json__fixed(o.j, 0.0, 3));
	CHECK_VALUE("0", json__fixed(o.j, -0.0, 3));
	CHECK_VALUE("0", json__fixed(o.j, -0.0001, 3));
	CHECK_VALUE("0", json__fixed(o.j, -0.3, 0));
	CHECK_VALUE("-0.001", json__fixed(o.j, -0.001, 3));
	CHECK_VALUE("null", json__fixed(o.j, NAN, 3));
	CHECK_VALUE("null", json__fixed(o.j, -INFINITY, 3));
	/* decimals clamped to 0..9 */
	CHECK_VALUE("1.234567891", json__fixed(o.j, 1.234567891234, 20));
	CHECK_VALUE("3", json__fixed(o.j, 2.7, -1));
	CHECK_VALUE("100000000000000000000", json__fixed(o.j, 1e20, 9));
	CHECK_VALUE("{\"p99\":1.5}", {
		json__begin_object(o.j);
		json__kv_fixed(o.j, "p99", 1.5, 3);
		json__end_object(o.j);
	});
}

/*
 * Locales are usually absent in containers, so these skip there; with locale data installed
 * (or LOCPATH pointing at a localedef output) they run.
 */
static bool use_numeric_locale(const char *const *names, const char *want_1_5)
{
	char buf[16];

	for (; *names; names++) {
		if (!setlocale(LC_NUMERIC, *names))
			continue;
		/* Prove printf really is affected, else the test could not fail. */
		snprintf(buf, sizeof(buf), "%.1f", 1.5);
		if (!strcmp(buf, want_1_5))
			return true;
	}
	setlocale(LC_NUMERIC, "C");
	return false;
}

/* Runs even when an assertion failed, so later tests see the C locale again. */
static int restore_locale(void **state)
{
	setlocale(LC_NUMERIC, "C");
	return 0;
}

static void check_locale_numbers(void)
{
	CHECK_VALUE("[0.1,-2.25,1e-7,1.2345678901234567e+300,1234567.5,0.5,12.346,1000000]", {
		json__begin_array(o.j);
		json__double(o.j, 0.1);
		json__double(o.j, -2.25);
		json__double(o.j, 1e-7);
		json__double(o.j, 1.2345678901234567e300);
		json__double(o.j, 1234567.5);
		json__fixed(o.j, 0.5, 2);
		json__fixed(o.j, 12.3456, 3);
		json__fixed(o.j, 1e6, 2);
		json__end_array(o.j);
	});
}

/* The same expectations hold in the C locale, which keeps them honest where others skip. */
static void test_locale_c(void **state)
{
	check_locale_numbers();
}

static void test_locale_comma(void **state)
{
	static const char *const names[] = { "de_DE.UTF-8", "de_DE.utf8", "de_DE",
					     "fr_FR.UTF-8", "fr_FR.utf8", "nl_NL.UTF-8",
					     "ru_RU.UTF-8", NULL };

	if (!use_numeric_locale(names, "1,5"))
		skip();
	check_locale_numbers();
}

static void test_locale_multibyte_point(void **state)
{
	/* U+066B ARABIC DECIMAL SEPARATOR */
	static const char *const names[] = { "ps_AF.UTF-8", "ps_AF.utf8", NULL };

	if (!use_numeric_locale(names, "1\u066b5"))
		skip();
	check_locale_numbers();
}

static void test_misuse(void **state)
{
	/* Unbalanced. */
	CHECK_MISUSE("{", json__begin_object(o.j));
	CHECK_MISUSE("[[]", {
		json__begin_array(o.j);
		json__begin_array(o.j);
		json__end_array(o.j);
	});
	CHECK_MISUSE("", json__end_object(o.j));
	CHECK_MISUSE("", json__end_array(o.j));
	CHECK_MISUSE("[", {
		json__begin_array(o.j);
		json__end_object(o.j);
	});
	CHECK_MISUSE("{", {
		json__begin_object(o.j);
		json__end_array(o.j);
	});
	CHECK_MISUSE("[]", {
		json__begin_array(o.j);
		json__end_array(o.j);
		json__end_array(o.j);
	});
	/* Key outside an object. */
	CHECK_MISUSE("", json__key(o.j, "a"));
	CHECK_MISUSE("[", {
		json__begin_array(o.j);
		json__key(o.j, "a");
	});
	CHECK_MISUSE("", json__kv_u64(o.j, "a", 1));
	/* Value without key inside an object. */
	CHECK_MISUSE("{", {
		json__begin_object(o.j);
		json__u64(o.j, 1);
	});
	CHECK_MISUSE("{", {
		json__begin_object(o.j);
		json__begin_array(o.j);
	});
	CHECK_MISUSE("{\"a\":1", {
		json__begin_object(o.j);
		json__kv_u64(o.j, "a", 1);
		json__string(o.j, "b");
	});
	/* Key without value. */
	CHECK_MISUSE("{\"a\":", {
		json__begin_object(o.j);
		json__key(o.j, "a");
		json__key(o.j, "b");
	});
	CHECK_MISUSE("{\"a\":", {
		json__begin_object(o.j);
		json__key(o.j, "a");
		json__end_object(o.j);
	});
	CHECK_MISUSE("{", {
		json__begin_object(o.j);
		json__key(o.j, NULL);
	});
	/* Two top-level values. */
	CHECK_MISUSE("1", {
		json__u64(o.j, 1);
		json__u64(o.j, 2);
	});
	CHECK_MISUSE("{}", {
		json__begin_object(o.j);
		json__end_object(o.j);
		json__begin_object(o.j);
	});
	CHECK_MISUSE("null", {
		json__string(o.j, NULL);
		json__null(o.j);
	});
	/* Nothing at all is not a JSON document. */
	CHECK_MISUSE("", (void)0);
	/* Sticky: nothing is written after the first misuse, even balanced calls. */
	CHECK_MISUSE("[1", {
		json__begin_array(o.j);
		json__u64(o.j, 1);
		json__key(o.j, "x");
		json__u64(o.j, 2);
		json__end_array(o.j);
	});
	/* Calls after finish. */
	CHECK_MISUSE("1\n", {
		json__u64(o.j, 1);
		assert_int_equal(json__finish(o.j), 0);
		json__u64(o.j, 2);
	});
	CHECK_MISUSE("1\n", {
		json__u64(o.j, 1);
		assert_int_equal(json__finish(o.j), 0);
	});
}

static void test_depth(void **state)
{
	char want[2 * JSON_MAX_DEPTH + 2];
	int i;

	for (i = 0; i < JSON_MAX_DEPTH; i++) {
		want[i] = '[';
		want[2 * JSON_MAX_DEPTH - 1 - i] = ']';
	}
	want[2 * JSON_MAX_DEPTH] = '\n';
	want[2 * JSON_MAX_DEPTH + 1] = '\0';
	CHECK_DOC(0, want, {
		for (i = 0; i < JSON_MAX_DEPTH; i++)
			json__begin_array(o.j);
		for (i = 0; i < JSON_MAX_DEPTH; i++)
			json__end_array(o.j);
	});

	want[JSON_MAX_DEPTH] = '\0';
	CHECK_MISUSE(want, {
		for (i = 0; i < JSON_MAX_DEPTH; i++)
			json__begin_array(o.j);
		json__begin_object(o.j);
		for (i = 0; i <= JSON_MAX_DEPTH; i++)
			json__end_array(o.j);
	});
}

static void test_write_failure(void **state)
{
	struct json *j;
	FILE *f;
	int i;

	/* Small enough to sit in the stdio buffer: only the final flush fails. */
	f = fopen("/dev/full", "w");
	assert_non_null(f);
	j = json__new(f, false);
	assert_non_null(j);
	json__u64(j, 1);
	assert_int_equal(json__finish(j), -EIO);
	json__free(j);
	fclose(f);

	/* Larger than the buffer: writes fail along the way. */
	f = fopen("/dev/full", "w");
	assert_non_null(f);
	j = json__new(f, true);
	assert_non_null(j);
	json__begin_array(j);
	for (i = 0; i < 100000; i++)
		json__string(j, "some text to fill the stdio buffer");
	json__end_array(j);
	assert_int_equal(json__finish(j), -EIO);
	json__free(j);
	fclose(f);

	/* Misuse wins over I/O: it is the bug to fix first. */
	f = fopen("/dev/full", "w");
	assert_non_null(f);
	j = json__new(f, false);
	assert_non_null(j);
	json__begin_array(j);
	assert_int_equal(json__finish(j), -EINVAL);
	json__free(j);
	fclose(f);

	json__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compact_nesting),
		cmocka_unit_test(test_pretty_nesting),
		cmocka_unit_test(test_empty_top_level),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_line_separators),
		cmocka_unit_test(test_valid_utf8),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_doubles),
		cmocka_unit_test(test_double_round_trip),
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_locale_c),
		cmocka_unit_test_teardown(test_locale_comma, restore_locale),
		cmocka_unit_test_teardown(test_locale_multibyte_point, restore_locale),
		cmocka_unit_test(test_misuse),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_write_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
