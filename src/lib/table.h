/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Tables for the analyzer's text and markdown output: cells are added row by row, widths are
 * measured once all rows are in, so text columns line up whatever the content.
 */
#ifndef SLOPROBE_TABLE_H
#define SLOPROBE_TABLE_H

#include <stdio.h>

enum table_fmt { TABLE_TEXT, TABLE_MARKDOWN };

#define TABLE_MAX_COLS 16

struct table {
	unsigned ncols;
	const char *head[TABLE_MAX_COLS];
	char align[TABLE_MAX_COLS]; /* 'l' or 'r' */
	char **cells;		    /* nrows x ncols, owned */
	unsigned nrows, ncells, cap;
	int err; /* sticky -ENOMEM */
};

/* align: one 'l' or 'r' per column ("lrr"). Header names are not copied. */
void table__init(struct table *t, const char *align, const char *const *head);
/*
 * The next cell, filling rows left to right; a NULL fmt is an empty cell. Controls and invalid
 * UTF-8 in it are escaped (textesc.h): a cell may hold any text.
 */
void table__cell(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Text: columns two spaces apart, each line prefixed by indent spaces, no trailing blanks.
 * Markdown: a pipe table, '|' in cells escaped (in code spans too: GFM splits cells first).
 * Markup in cells is the caller's: untrusted values go in as textesc__md_code spans. -ENOMEM
 * if a cell could not be stored. */
int table__print(const struct table *t, FILE *f, enum table_fmt fmt, int indent);
void table__free(struct table *t);
/* Display width of UTF-8 text in terminal columns (textesc__width). */
size_t table__width(const char *s);

#endif
