// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/htmlesc.h"
#include "lib/table.h"
#include "lib/textesc.h"

void table__init(struct table *t, const char *align, const char *const *head)
{
	memset(t, 0, sizeof(*t));
	t->ncols = strlen(align);
	if (t->ncols > TABLE_MAX_COLS)
		t->ncols = TABLE_MAX_COLS;
	for (unsigned i = 0; i < t->ncols; i++) {
		t->align[i] = align[i];
		t->head[i] = head[i];
	}
}

void table__cell(struct table *t, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;

	if (t->err)
		return;
	if (t->ncells == t->cap) {
		unsigned cap = t->cap ? t->cap * 2 : 64;
		char **c = realloc(t->cells, cap * sizeof(*c));

		if (!c) {
			t->err = -ENOMEM;
			return;
		}
		t->cells = c;
		t->cap = cap;
	}
	if (fmt) {
		va_start(ap, fmt);
		if (vasprintf(&s, fmt, ap) < 0)
			s = NULL;
		va_end(ap);
	} else {
		s = strdup("");
	}
	if (s && textesc__clean(s, strlen(s)) != strlen(s)) {
		/* Cells hold names from traffic and files: escaped once, then measured. */
		size_t n = strlen(s), need = textesc__term(NULL, 0, s, n) + 1;
		char *e = malloc(need);

		if (e)
			textesc__term(e, need, s, n);
		free(s);
		s = e;
	}
	if (!s) {
		t->err = -ENOMEM;
		return;
	}
	t->cells[t->ncells++] = s;
	t->nrows = (t->ncells + t->ncols - 1) / t->ncols;
}

size_t table__width(const char *s)
{
	return textesc__width(s, strlen(s));
}

static const char *cell(const struct table *t, unsigned r, unsigned c)
{
	unsigned i = r * t->ncols + c;

	return i < t->ncells ? t->cells[i] : "";
}

static void md_cell(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '\n')
			putc(' ', f);
		else
			putc(*s, f);
	}
}

static bool any_head(const struct table *t)
{
	for (unsigned c = 0; c < t->ncols; c++)
		if (*t->head[c])
			return true;
	return false;
}

void table__html_cell(FILE *f, const char *tag, const char *align, size_t i)
{
	fprintf(f, "<%s", tag);
	if (align && i && align[i] == 'l')
		fputs(" style=\"text-align:left;overflow-wrap:break-word\"", f);
	else if (align && !i && (align[i] == 'r' || align[i] == 'n'))
		fputs(" style=\"text-align:right\"", f);
	else if (align && align[i] == 'v')
		fputs(" class=\"verdict\"", f);
	putc('>', f);
}

static void html_print(const struct table *t, FILE *f)
{
	fputs("<table>\n", f);
	if (any_head(t)) {
		fputs("<thead><tr>", f);
		for (unsigned c = 0; c < t->ncols; c++) {
			table__html_cell(f, "th", t->align, c);
			htmlesc__write(f, t->head[c]);
			fputs("</th>", f);
		}
		fputs("</tr></thead>\n", f);
	}
	fputs("<tbody>\n", f);
	for (unsigned r = 0; r < t->nrows; r++) {
		fputs("<tr>", f);
		for (unsigned c = 0; c < t->ncols; c++) {
			table__html_cell(f, "td", t->align, c);
			htmlesc__write(f, cell(t, r, c));
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</tbody>\n</table>\n", f);
}

int table__print(const struct table *t, FILE *f, enum table_fmt fmt, int indent)
{
	size_t w[TABLE_MAX_COLS] = { 0 };
	unsigned last;

	if (t->err)
		return t->err;
	if (fmt == TABLE_HTML) {
		html_print(t, f);
		return 0;
	}
	if (fmt == TABLE_MARKDOWN) {
		for (unsigned c = 0; c < t->ncols; c++) {
			fputs(c ? " | " : "| ", f);
			md_cell(f, t->head[c]);
		}
		fputs(" |\n|", f);
		for (unsigned c = 0; c < t->ncols; c++)
			fputs(t->align[c] == 'r' ? "---:|" : "---|", f);
		putc('\n', f);
		for (unsigned r = 0; r < t->nrows; r++) {
			for (unsigned c = 0; c < t->ncols; c++) {
				fputs(c ? " | " : "| ", f);
				md_cell(f, cell(t, r, c));
			}
			fputs(" |\n", f);
		}
		return 0;
	}
	for (unsigned c = 0; c < t->ncols; c++) {
		w[c] = table__width(t->head[c]);
		for (unsigned r = 0; r < t->nrows; r++)
			if (table__width(cell(t, r, c)) > w[c])
				w[c] = table__width(cell(t, r, c));
	}
	for (int r = -1; r < (int)t->nrows; r++) {
		const char *v;

		if (r < 0 && !any_head(t))
			continue; /* a key-value table: no header line */

		/* The last non-empty cell ends the line: no trailing blanks. */
		for (last = t->ncols; last > 0; last--) {
			v = r < 0 ? t->head[last - 1] : cell(t, r, last - 1);
			if (*v)
				break;
		}
		fprintf(f, "%*s", indent, "");
		for (unsigned c = 0; c < last; c++) {
			size_t pad;

			v = r < 0 ? t->head[c] : cell(t, r, c);
			pad = w[c] - table__width(v);
			if (t->align[c] == 'r')
				fprintf(f, "%*s%s", (int)pad, "", v);
			else if (c + 1 < last)
				fprintf(f, "%s%*s", v, (int)pad, "");
			else
				fputs(v, f);
			if (c + 1 < last)
				fputs("  ", f);
		}
		putc('\n', f);
	}
	return 0;
}

void table__free(struct table *t)
{
	for (unsigned i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}
