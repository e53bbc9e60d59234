// SPDX-License-Identifier: GPL-2.0-only
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/xmlesc.h"

static void esc_is(const char *in, size_t n, const char *want)
{
	char buf[256], *mem = NULL;
	size_t memsz = 0;
	FILE *f;

	assert_int_equal(xmlesc__buf(buf, sizeof(buf), in, n), strlen(want));
	assert_string_equal(buf, want);
	/* the FILE form writes the same bytes (inputs here hold no NUL) */
	if (memchr(in, '\0', n))
		return;
	f = open_memstream(&mem, &memsz);
	assert_non_null(f);
	xmlesc__write(f, in);
	fclose(f);
	assert_string_equal(mem, want);
	free(mem);
}

#define ESC_IS(lit, want) esc_is(lit, sizeof(lit) - 1, want)

static void test_markup(void **state)
{
	(void)state;
	ESC_IS("/a<b>&c\"d'e", "/a&lt;b&gt;&amp;c&quot;d&apos;e");
	ESC_IS("&amp;", "&amp;amp;");
	ESC_IS("]]>", "]]&gt;");
	ESC_IS("plain /v1/users/{id}", "plain /v1/users/{id}");
	ESC_IS("", "");
}

static void test_controls(void **state)
{
	(void)state;
	/* kept as references, which attributes do not fold to blanks */
	ESC_IS("a\tb\nc\rd", "a&#9;b&#10;c&#13;d");
	/* XML 1.0 cannot carry these at all, not even as &#1; */
	ESC_IS("a\x01"
	       "b\x1b[0m",
	       "a\\x01b\\x1b[0m");
	ESC_IS("a\0b", "a\\x00b");
	/* DEL is a legal XML character */
	ESC_IS("\x7f", "\x7f");
}

static void test_utf8(void **state)
{
	(void)state;
	ESC_IS("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	       "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	/* stray continuation, cut sequence, overlong '/', surrogate, beyond U+10FFFF */
	ESC_IS("\x80", "\xef\xbf\xbd");
	ESC_IS("a\xc3", "a\xef\xbf\xbd");
	ESC_IS("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd");
	ESC_IS("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	ESC_IS("\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	/* U+FFFE and U+FFFF are not XML characters; U+FFFD and U+10FFFF are */
	ESC_IS("\xef\xbf\xbe", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	ESC_IS("\xef\xbf\xbf", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	ESC_IS("\xef\xbf\xbd\xf4\x8f\xbf\xbf", "\xef\xbf\xbd\xf4\x8f\xbf\xbf");
}

static void test_text_keeps_lines(void **state)
{
	char *mem = NULL;
	size_t memsz = 0;
	FILE *f = open_memstream(&mem, &memsz);

	(void)state;
	assert_non_null(f);
	xmlesc__write_text(f, "a\tb\nc\rd<\x01");
	xmlesc__write_text(f, NULL);
	fclose(f);
	assert_string_equal(mem, "a\tb\nc&#13;d&lt;\\x01");
	free(mem);
}

static void test_cut(void **state)
{
	char buf[8];

	(void)state;
	/* "a&lt;" is 5 bytes, "&amp;" would end at 10: cut before it, the length is the whole */
	assert_int_equal(xmlesc__buf(buf, sizeof(buf), "a<&", 3), 10);
	assert_string_equal(buf, "a&lt;");
	/* exactly fits: 7 bytes and the NUL */
	assert_int_equal(xmlesc__buf(buf, sizeof(buf), "ab&amp", 6), 10);
	assert_string_equal(buf, "ab&amp;");
	assert_int_equal(xmlesc__buf(buf, sizeof(buf), "abcdefg", 7), 7);
	assert_string_equal(buf, "abcdefg");
	assert_int_equal(xmlesc__buf(buf, sizeof(buf), "abcdefgh", 8), 8);
	assert_string_equal(buf, "abcdefg");
	/* a multi-byte character is never split */
	assert_int_equal(xmlesc__buf(buf, 4, "ab\xc3\xa9", 4), 4);
	assert_string_equal(buf, "ab");
	assert_int_equal(xmlesc__buf(NULL, 0, "<", 1), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_markup), cmocka_unit_test(test_controls),
		cmocka_unit_test(test_utf8),   cmocka_unit_test(test_text_keeps_lines),
		cmocka_unit_test(test_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
