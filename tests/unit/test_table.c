// SPDX-License-Identifier: GPL-2.0-only
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "lib/table.h"

static char *render(struct table *t, enum table_fmt fmt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_int_equal(table__print(t, f, fmt, 2), 0);
	fclose(f);
	return buf;
}

static void fill(struct table *t)
{
	static const char *const head[] = { "NAME", "COUNT", "NOTE" };

	table__init(t, "lrl", head);
	table__cell(t, "GET /a");
	table__cell(t, "%d", 5);
	table__cell(t, "x|y");
	table__cell(t, "GET /längere");
	table__cell(t, "%d", 12345);
	table__cell(t, NULL);
}

static void test_text(void **state)
{
	struct table t;
	char *s;

	fill(&t);
	s = render(&t, TABLE_TEXT);
	/* Widths count code points; the last column is not padded, empty cells leave no blanks. */
	assert_string_equal(s, "  NAME          COUNT  NOTE\n"
			       "  GET /a            5  x|y\n"
			       "  GET /längere  12345\n");
	free(s);
	table__free(&t);
}

static void test_markdown(void **state)
{
	struct table t;
	char *s;

	fill(&t);
	s = render(&t, TABLE_MARKDOWN);
	assert_string_equal(s, "| NAME | COUNT | NOTE |\n"
			       "|---|---:|---|\n"
			       "| GET /a | 5 | x\\|y |\n"
			       "| GET /längere | 12345 |  |\n");
	free(s);
	table__free(&t);
}

static void test_key_value(void **state)
{
	static const char *const head[] = { "", "" };
	struct table t;
	char *s;

	table__init(&t, "ll", head);
	table__cell(&t, "Host");
	table__cell(&t, "vm");
	s = render(&t, TABLE_TEXT);
	assert_string_equal(s, "  Host  vm\n"); /* no header line */
	free(s);
	table__free(&t);
	assert_int_equal(table__width("…ab"), 3);
}

static void test_untrusted_cells(void **state)
{
	static const char *const head[] = { "SERVICE", "N" };
	struct table t;
	char *s;

	table__init(&t, "ll", head);
	table__cell(&t, "%s", "\x1b]0;PWN\x07");
	table__cell(&t, "1");
	table__cell(&t, "%s", "\xe6\x97\xa5\xe6\x9c\xac"); /* 日本: 4 columns */
	table__cell(&t, "2");
	table__cell(&t, "%s", "bad\xff");
	table__cell(&t, "3");
	s = render(&t, TABLE_TEXT);
	/* Escaped as the cells are stored, and measured as escaped: the columns line up. */
	assert_string_equal(s, "  SERVICE         N\n"
			       "  \\x1b]0;PWN\\x07  1\n"
			       "  \xe6\x97\xa5\xe6\x9c\xac            2\n"
			       "  bad\\xff         3\n");
	free(s);
	s = render(&t, TABLE_MARKDOWN);
	assert_string_equal(s, "| SERVICE | N |\n"
			       "|---|---|\n"
			       "| \\x1b]0;PWN\\x07 | 1 |\n"
			       "| \xe6\x97\xa5\xe6\x9c\xac | 2 |\n"
			       "| bad\\xff | 3 |\n");
	free(s);
	table__free(&t);
	assert_int_equal(table__width("\xe6\x97\xa5\xe6\x9c\xac"), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_markdown),
		cmocka_unit_test(test_key_value),
		cmocka_unit_test(test_untrusted_cells),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
