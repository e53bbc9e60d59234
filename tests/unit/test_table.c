// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
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

#define LEFT  " style=\"text-align:left;overflow-wrap:break-word\""
#define RIGHT " style=\"text-align:right\""

static void test_html(void **state)
{
	static const char *const head[] = { "Name <a>", "Calls", "Change", "Note" };
	struct table t;
	char *s;

	/* 'n': left in text and markdown, right (the page's default) in HTML. */
	table__init(&t, "lnrl", head);
	table__cell(&t, "GET /a?x=1&y=<script>\"'");
	table__cell(&t, "%d -> %d", 5, 7);
	table__cell(&t, "+40.0 %%");
	table__cell(&t, NULL);
	table__cell(&t, "%s", "bad\xff \x1b[2J");
	s = render(&t, TABLE_HTML);
	/*
	 * Markup escaped, as html.c escapes; controls and invalid UTF-8 as the text report shows
	 * them (escaped when stored); the row short of cells filled with empty ones; a header row
	 * in <thead>, which the page's script sorts by.
	 */
	assert_string_equal(s, "<table>\n"
			       "<thead><tr><th>Name &lt;a&gt;</th><th>Calls</th><th>Change</th>"
			       "<th" LEFT ">Note</th></tr></thead>\n"
			       "<tbody>\n"
			       "<tr><td>GET /a?x=1&amp;y=&lt;script&gt;&quot;&#39;</td>"
			       "<td>5 -&gt; 7</td><td>+40.0 %</td><td" LEFT "></td></tr>\n"
			       "<tr><td>bad\\xff \\x1b[2J</td><td></td><td></td>"
			       "<td" LEFT "></td></tr>\n"
			       "</tbody>\n</table>\n");
	free(s);
	s = render(&t, TABLE_TEXT);
	assert_string_equal(s, "  Name <a>                 Calls    Change  Note\n"
			       "  GET /a?x=1&y=<script>\"'  5 -> 7  +40.0 %\n"
			       "  bad\\xff \\x1b[2J\n");
	free(s);
	s = render(&t, TABLE_MARKDOWN);
	assert_string_equal(s, "| Name <a> | Calls | Change | Note |\n"
			       "|---|---|---:|---|\n"
			       "| GET /a?x=1&y=<script>\"' | 5 -> 7 | +40.0 % |  |\n"
			       "| bad\\xff \\x1b[2J |  |  |  |\n");
	free(s);
	table__free(&t);
}

static void test_html_align_and_empty(void **state)
{
	static const char *const head[] = { "Port", "Role", "Verdict" };
	static const char *const none[] = { "", "" };
	struct table t;
	char *s;

	/* A number first is right-aligned inline (the page's style aligns a first column left). */
	table__init(&t, "rlv", head);
	table__cell(&t, "%d", 8000);
	table__cell(&t, "server");
	table__cell(&t, "regressed");
	s = render(&t, TABLE_HTML);
	assert_string_equal(s, "<table>\n"
			       "<thead><tr><th" RIGHT ">Port</th><th" LEFT ">Role</th>"
			       "<th class=\"verdict\">Verdict</th></tr></thead>\n"
			       "<tbody>\n"
			       "<tr><td" RIGHT ">8000</td><td" LEFT ">server</td>"
			       "<td class=\"verdict\">regressed</td></tr>\n"
			       "</tbody>\n</table>\n");
	free(s);
	table__free(&t);

	/* No rows: the header and an empty body, still a well-formed table. */
	table__init(&t, "rlv", head);
	s = render(&t, TABLE_HTML);
	assert_string_equal(s, "<table>\n"
			       "<thead><tr><th" RIGHT ">Port</th><th" LEFT ">Role</th>"
			       "<th class=\"verdict\">Verdict</th></tr></thead>\n"
			       "<tbody>\n</tbody>\n</table>\n");
	free(s);
	table__free(&t);

	/* A key-value table has no header row: no <thead>, nothing to sort by. */
	table__init(&t, "ll", none);
	table__cell(&t, "Host");
	table__cell(&t, "vm & co");
	s = render(&t, TABLE_HTML);
	assert_string_equal(s, "<table>\n<tbody>\n"
			       "<tr><td>Host</td><td" LEFT ">vm &amp; co</td></tr>\n"
			       "</tbody>\n</table>\n");
	free(s);
	table__free(&t);
}

static void test_html_error_sticky(void **state)
{
	static const char *const head[] = { "A" };
	struct table t;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	table__init(&t, "l", head);
	t.err = -ENOMEM; /* a cell that could not be stored: nothing printed, the error returned */
	table__cell(&t, "x");
	assert_int_equal(table__print(&t, f, TABLE_HTML, 0), -ENOMEM);
	fclose(f);
	assert_int_equal(len, 0);
	free(buf);
	table__free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_markdown),
		cmocka_unit_test(test_key_value),
		cmocka_unit_test(test_untrusted_cells),
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_html_align_and_empty),
		cmocka_unit_test(test_html_error_sticky),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
