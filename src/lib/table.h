/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Tables for the analyzer's text, markdown and HTML output: cells are added row by row, widths
 * are measured once all rows are in, so text columns line up whatever the content.
 */
#ifndef SLOPROBE_TABLE_H
#define SLOPROBE_TABLE_H

#include <stdio.h>

enum table_fmt { TABLE_TEXT, TABLE_MARKDOWN, TABLE_HTML };

#define TABLE_MAX_COLS 16

struct table {
	unsigned ncols;
	const char *head[TABLE_MAX_COLS];
	char align[TABLE_MAX_COLS]; /* 'l' or 'r' */
	char **cells;		    /* nrows x ncols, owned */
	unsigned nrows, ncells, cap;
	int err; /* sticky -ENOMEM */
};

/*
 * align: a letter per column ("lrr"): 'l' left, 'r' right; 'n' numbers that text and markdown
 * align left ("5 -> 7" pairs, which read from the arrow) and HTML right, as its other numbers;
 * 'v' the verdict cell of HTML (left, coloured by its row's class), left in text and markdown.
 * Header names are not copied.
 */
void table__init(struct table *t, const char *align, const char *const *head);
/*
 * The next cell, filling rows left to right; a NULL fmt is an empty cell. Controls and invalid
 * UTF-8 in it are escaped (textesc.h): a cell may hold any text.
 */
void table__cell(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Text: columns two spaces apart, each line prefixed by indent spaces, no trailing blanks.
 * Markdown: a pipe table, '|' in cells escaped (in code spans too: GFM splits cells first).
 * Markup in cells is the caller's: untrusted values go in as textesc__md_code spans.
 * HTML: a <table> as analyze/html.h writes them (indent unused): a <thead> when any header is
 * named (the page's script sorts such a table by a click on a header), every cell and header
 * escaped (lib/htmlesc.h), each cell aligned by table__html_cell. -ENOMEM if a cell could not
 * be stored. */
int table__print(const struct table *t, FILE *f, enum table_fmt fmt, int indent);
/*
 * Opens cell i ("<td ...>" or "<th ...>") of a row aligned by align (NULL: the page's default).
 * The page's style (analyze/html.c) right-aligns every column but the first, for numbers; a
 * text column further right ('l') is aligned left inline and may wrap anywhere, as the first
 * column does, rather than widen the table; a number in the first column ('r') is aligned right
 * inline, as is 'n'; 'v' is the verdict cell. Every other column stays as the style has it, so a
 * page without such columns is unchanged. The one place alignment becomes markup: html.c's tables
 * and table__print's agree.
 */
void table__html_cell(FILE *f, const char *tag, const char *align, size_t i);
void table__free(struct table *t);
/* Display width of UTF-8 text in terminal columns (textesc__width). */
size_t table__width(const char *s);

#endif
