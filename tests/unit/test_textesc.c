// SPDX-License-Identifier: GPL-2.0-only
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/textesc.h"

/* in[0..n) through textesc__term, checked against want and its returned length. */
static void term_is(const char *in, size_t n, const char *want)
{
	char buf[256];

	assert_int_equal(textesc__term(buf, sizeof(buf), in, n), strlen(want));
	assert_string_equal(buf, want);
	/* Escaped text is clean: a second pass changes nothing. */
	assert_int_equal(textesc__clean(buf, strlen(buf)), strlen(buf));
}

#define TERM_IS(lit, want) term_is(lit, sizeof(lit) - 1, want)

static void test_c0_and_del(void **state)
{
	TERM_IS("a\x1b"
		"b",
		"a\\x1bb");
	TERM_IS("\x07", "\\x07");
	TERM_IS("\x7f", "\\x7f");
	TERM_IS("a\0b", "a\\x00b");
	TERM_IS("\t\n\r", "\\x09\\x0a\\x0d");
	/* CSI: red background, reset. */
	TERM_IS("\x1b[41mred\x1b[0m", "\\x1b[41mred\\x1b[0m");
	/* OSC: set the window title, ended by BEL or by ST (ESC \). */
	TERM_IS("\x1b]0;PWN\x07", "\\x1b]0;PWN\\x07");
	TERM_IS("\x1b]0;PWN\x1b\\", "\\x1b]0;PWN\\x1b\\");
}

static void test_c1_in_utf8(void **state)
{
	/* U+009B is CSI to a terminal that reads C1 in UTF-8; U+0085 is NEL. */
	TERM_IS("\xc2\x9b"
		"31m",
		"\\u009b31m");
	TERM_IS("\xc2\x85", "\\u0085");
	TERM_IS("\xc2\x80\xc2\x9f", "\\u0080\\u009f");
	/* U+00A0 (no-break space) is the first printable one past C1. */
	TERM_IS("\xc2\xa0", "\xc2\xa0");
}

static void test_invalid_utf8(void **state)
{
	TERM_IS("\x9b", "\\x9b");		    /* a C1 byte alone: a stray continuation */
	TERM_IS("\xff\xfe", "\\xff\\xfe");	    /* never in UTF-8 */
	TERM_IS("ab\xc3", "ab\\xc3");		    /* cut at the end */
	TERM_IS("\xc3(", "\\xc3(");		    /* lead byte, no continuation */
	TERM_IS("\xc0\xaf", "\\xc0\\xaf");	    /* overlong '/' */
	TERM_IS("\xe0\x80\xaf", "\\xe0\\x80\\xaf"); /* overlong '/', 3 bytes */
	TERM_IS("\xed\xa0\x80", "\\xed\\xa0\\x80"); /* surrogate U+D800 */
	TERM_IS("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* U+110000 */
	/* One bad byte does not take the valid character after it. */
	TERM_IS("\xe6\x97\xa5\xe6\x97", "\xe6\x97\xa5\\xe6\\x97");
}

static size_t u8(const char *s)
{
	return textesc__utf8_len(s, strlen(s));
}

/* One character's length, or 0 where none starts: the checks of test_invalid_utf8, per byte. */
static void test_utf8_len(void **state)
{
	assert_int_equal(u8("a"), 1);
	assert_int_equal(u8("\n"), 1);
	assert_int_equal(u8("\xc3\xa9x"), 2);
	assert_int_equal(u8("\xe2\x82\xac"), 3);
	assert_int_equal(u8("\xf0\x9f\x98\x80"), 4);
	assert_int_equal(u8("\xf4\x8f\xbf\xbf"), 4); /* U+10FFFF */
	assert_int_equal(u8("\xe9"), 0);	     /* Latin-1, not UTF-8 */
	assert_int_equal(u8("\xa9"), 0);	     /* a continuation byte alone */
	assert_int_equal(u8("\xc0\xaf"), 0);	     /* overlong '/' */
	assert_int_equal(u8("\xe0\x80\xaf"), 0);     /* overlong too */
	assert_int_equal(u8("\xed\xa0\x80"), 0);     /* a surrogate */
	assert_int_equal(u8("\xf4\x90\x80\x80"), 0); /* past U+10FFFF */
	assert_int_equal(u8("\xff"), 0);
	assert_int_equal(textesc__utf8_len("\xe2\x82\xac", 2), 0); /* cut by n */
	assert_int_equal(u8("\xc3"
			    "a"),
			 0);
}

static void test_bidi_and_separators(void **state)
{
	TERM_IS("abc\xe2\x80\xae"
		"def",
		"abc\\u202edef");	    /* RIGHT-TO-LEFT OVERRIDE */
	TERM_IS("\xe2\x81\xa6", "\\u2066"); /* LEFT-TO-RIGHT ISOLATE */
	TERM_IS("\xe2\x80\xa8\xe2\x80\xa9", "\\u2028\\u2029");
	TERM_IS("\xe2\x80\x8f", "\\u200f");
	/* The zero-width joiner of emoji sequences stays. */
	TERM_IS("\xe2\x80\x8d", "\xe2\x80\x8d");
}

static void test_plain_unchanged(void **state)
{
	TERM_IS("caf\xc3\xa9", "caf\xc3\xa9");
	TERM_IS("\xe6\x97\xa5\xe6\x9c\xac", "\xe6\x97\xa5\xe6\x9c\xac"); /* 日本 */
	TERM_IS("GET /items/{id}", "GET /items/{id}");
	/* A backslash is not doubled. */
	TERM_IS("a\\x1b", "a\\x1b");
	TERM_IS("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"); /* U+1F600 */
	assert_int_equal(textesc__clean("abc\x1b", 4), 3);
	assert_int_equal(textesc__clean("\xc3\xa9\xc2\x9b", 4), 2);
	assert_int_equal(textesc__clean("\xe6\x97\xa5\xe6\x9c\xac", 6), 6);
}

static void test_term_cut(void **state)
{
	char buf[8];

	/* An escape that does not fit is left out whole; the length says what was needed. */
	assert_int_equal(textesc__term(buf, 5, "ab\x1b", 3), 6);
	assert_string_equal(buf, "ab");
	assert_int_equal(textesc__term(buf, 7, "ab\x1b", 3), 6);
	assert_string_equal(buf, "ab\\x1b");
	/* So is a character. */
	assert_int_equal(textesc__term(buf, 2, "\xc3\xa9", 2), 2);
	assert_string_equal(buf, "");
	assert_int_equal(textesc__term(buf, 4, "a\xc3\xa9", 3), 3);
	assert_string_equal(buf, "a\xc3\xa9");
	assert_int_equal(textesc__term(NULL, 0, "\x1b", 1), 4);
}

static void md_code_is(const char *in, const char *want)
{
	char buf[256];

	assert_int_equal(textesc__md_code(buf, sizeof(buf), in, strlen(in)), strlen(want));
	assert_string_equal(buf, want);
}

static void test_md_code(void **state)
{
	md_code_is("GET /a", "`GET /a`");
	/* Markup inside a code span is text: HTML, links, images, autolinks, mentions. */
	md_code_is("/<img src=x onerror=alert(1)>", "`/<img src=x onerror=alert(1)>`");
	md_code_is("/[x](http://evil)", "`/[x](http://evil)`");
	md_code_is("![i](http://evil/a.png) https://evil @all #1",
		   "`![i](http://evil/a.png) https://evil @all #1`");
	md_code_is("select 1 as \"\x1b]0;PWN\x07\"", "`select 1 as \"\\x1b]0;PWN\\x07\"`");
	/* The fence outgrows the backticks inside; padded so an edge backtick stays inside. */
	md_code_is("a`b", "`` a`b ``");
	md_code_is("``x`", "``` ``x` ```");
	md_code_is("`", "`` ` ``");
	md_code_is("", "");
	/* '|' is the table's business (table.c). */
	md_code_is("x|y", "`x|y`");
}

static void test_md_code_cut(void **state)
{
	char buf[16];

	/* Cut content, never an open fence. */
	assert_int_equal(textesc__md_code(buf, 6, "abcdef", 6), 8);
	assert_string_equal(buf, "`abc`");
	assert_int_equal(textesc__md_code(buf, 10, "a`bcdef", 7), 13);
	assert_string_equal(buf, "`` a`b ``");
	/* The escape does not fit: left out whole. */
	assert_int_equal(textesc__md_code(buf, 6, "ab\x1b", 3), 8);
	assert_string_equal(buf, "`ab`");
	/* Not even the fences and a character fit: nothing. */
	textesc__md_code(buf, 2, "abc", 3);
	assert_string_equal(buf, "");
	textesc__md_code(buf, 3, "abc", 3);
	assert_string_equal(buf, "");
	textesc__md_code(buf, 4, "abc", 3);
	assert_string_equal(buf, "`a`");
}

static void md_text_is(const char *in, const char *want)
{
	char buf[256];

	assert_int_equal(textesc__md_text(buf, sizeof(buf), in, strlen(in)), strlen(want));
	assert_string_equal(buf, want);
}

static void test_md_text(void **state)
{
	md_text_is("vm-01.example", "vm-01.example");
	md_text_is("<img src=x>", "\\<img src=x\\>");
	md_text_is("[x](http://evil)", "\\[x\\]\\(http://evil\\)");
	md_text_is("![a](b)", "\\!\\[a\\]\\(b\\)");
	md_text_is("_a_ b*c~d`e", "\\_a\\_ b\\*c\\~d\\`e");
	md_text_is("&#x202e; &amp;", "\\&#x202e; \\&amp;");
	md_text_is("<!-- </b> <?x <a", "\\<!-- \\</b\\> \\<?x \\<a");
	/* Where they start nothing, they read as they are. */
	md_text_is("ringbuf_full 5, p95 <= 300 ms, a & b", "ringbuf_full 5, p95 <= 300 ms, a & b");
	md_text_is("x<", "x\\<");
	md_text_is("a\\b", "a\\\\b");
	md_text_is("x|y", "x|y");
	md_text_is("\x1b[1m", "\\x1b\\[1m");
}

static void test_width(void **state)
{
	size_t cols;

	assert_int_equal(textesc__width("abc", 3), 3);
	assert_int_equal(textesc__width("caf\xc3\xa9", 5), 4);
	assert_int_equal(textesc__width("\xe6\x97\xa5\xe6\x9c\xac", 6), 4); /* 日本 */
	assert_int_equal(textesc__width("e\xcc\x81", 3), 1);		    /* e + U+0301 */
	assert_int_equal(textesc__width("\xef\xbc\xa1", 3), 2);		    /* fullwidth A */
	assert_int_equal(textesc__width("\\x1b", 4), 4);
	/* 日本語 in 5 columns: two characters. */
	assert_int_equal(textesc__fit("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 9, 5, &cols), 6);
	assert_int_equal(cols, 4);
	/* A combining mark stays with its letter. */
	assert_int_equal(textesc__fit("e\xcc\x81x", 4, 1, &cols), 3);
	assert_int_equal(cols, 1);
}

static void shorten_is(const char *in, unsigned width, const char *want, unsigned cols)
{
	char buf[64];

	assert_int_equal(textesc__shorten(in, width, buf, sizeof(buf)), cols);
	assert_string_equal(buf, want);
}

static void test_shorten(void **state)
{
	char buf[8];

	shorten_is("GET /a", 10, "GET /a", 6);
	shorten_is("GET /abcdef", 6, "GET /~", 6);
	shorten_is("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 5, "\xe6\x97\xa5\xe6\x9c\xac~", 5);
	shorten_is("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 4, "\xe6\x97\xa5~", 3);
	shorten_is("a\x1b"
		   "b",
		   10, "a\\x1bb", 6);
	shorten_is("\x1b]0;PWN\x07", 6, "\\x1b]~", 6);
	/* out is the limit: whole characters, the cut marked. */
	assert_int_equal(textesc__shorten("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 10, buf, 8), 4);
	assert_string_equal(buf, "\xc3\xa9\xc3\xa9\xc3\xa9~");
}

static void test_line_and_write(void **state)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	assert_non_null(f);
	textesc__line(f, "sloprobe: warning: %s: path '%s' skipped", "api.json",
		      "/a\n\x1b]0;x\x07");
	textesc__write(f, "ok \xc3\xa9 \xc2\x9b", 8);
	textesc__column(f, "\xe6\x97\xa5", 4);
	fputc('|', f);
	fclose(f);
	assert_string_equal(s, "sloprobe: warning: api.json: path '/a\\x0a\\x1b]0;x\\x07' skipped\n"
			       "ok \xc3\xa9 \\u009b"
			       "\xe6\x97\xa5  |");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_c0_and_del),	cmocka_unit_test(test_c1_in_utf8),
		cmocka_unit_test(test_invalid_utf8),	cmocka_unit_test(test_bidi_and_separators),
		cmocka_unit_test(test_plain_unchanged), cmocka_unit_test(test_term_cut),
		cmocka_unit_test(test_md_code),		cmocka_unit_test(test_md_code_cut),
		cmocka_unit_test(test_md_text),		cmocka_unit_test(test_width),
		cmocka_unit_test(test_shorten),		cmocka_unit_test(test_line_and_write),
		cmocka_unit_test(test_utf8_len),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
