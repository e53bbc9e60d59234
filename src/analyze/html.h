/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Self-contained HTML pages for reports: inline CSS, no external resources, and at most one tiny
 * inline script (html__sort_script) that the page reads well without.
 *
 * The output is also well-formed XML (void elements self-closed, numeric character references
 * only), so tests can parse a page with any XML parser and inline SVG from svg.h drops straight
 * in. All text goes through html__escape: markup characters are escaped, invalid UTF-8 and
 * characters XML forbids (C0 controls but tab and newline, U+FFFE, U+FFFF) become U+FFFD.
 *
 * Writers take a FILE; write to memory with open_memstream. Errors are sticky in the FILE, so
 * callers check ferror once (html__end does and returns -EIO).
 */
#ifndef SLOPROBE_HTML_H
#define SLOPROBE_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Writes s (NUL-terminated; NULL writes nothing) escaped for text and attribute values. */
void html__escape(FILE *f, const char *s);
void html__escape_n(FILE *f, const char *s, size_t n);

/*
 * Copies at most max_chars characters of s into out (size outsz, always NUL-terminated),
 * ending with U+2026 when something was cut, and never splitting a UTF-8 sequence. An invalid
 * byte counts as one character. Returns 1 if s was shortened, else 0.
 */
int html__ellipsize(const char *s, size_t max_chars, char *out, size_t outsz);

/* <!DOCTYPE html>, head with title and inline CSS, <body>, and an <h1> with the title. */
void html__begin(FILE *f, const char *title);
/* Closes the page. 0, or -EIO if any write to f failed. */
int html__end(FILE *f);

/* <section> with an <hN> heading (level 2..4) and an optional id ("" or NULL: none). */
void html__section_begin(FILE *f, int level, const char *title, const char *id);
void html__section_end(FILE *f);
/* <p class="cls">text</p>; cls may be NULL. Classes with a style: note, muted. */
void html__p(FILE *f, const char *cls, const char *text);

/*
 * Tables: the first column is a label, the others are right-aligned numbers. Row classes with a
 * style: pass, breach, insufficient, improved, regressed, unchanged. Cells may be NULL (empty).
 */
void html__table_begin(FILE *f, const char *caption, const char *const *headers, size_t ncols);
void html__table_row(FILE *f, const char *cls, const char *const *cells, size_t ncols);
void html__table_end(FILE *f);
/*
 * The same with each column's alignment as table__init takes it, a letter per column: 'l' left
 * (text), 'r' right (numbers), 'v' the verdict cell (table__html_cell). Without align the first
 * column is left, the others right.
 */
void html__table_begin_aligned(FILE *f, const char *caption, const char *const *headers,
			       size_t ncols, const char *align);
void html__table_row_aligned(FILE *f, const char *cls, const char *const *cells, size_t ncols,
			     const char *align);

/*
 * One row with everything optional: an id (a link target), a class, per-cell alignment as above
 * ('v': the verdict cell, coloured by the row's class), and per-cell titles (the whole text of a
 * cell that was cut; NULL or "": none).
 */
struct html_row {
	const char *id, *cls;
	const char *const *cells;
	const char *const *titles;
	size_t n;
	const char *align;
};
void html__row(FILE *f, const struct html_row *row);

/* <details> (open or closed) with a <summary>, and its end. */
void html__details_begin(FILE *f, const char *summary, bool open);
void html__details_end(FILE *f);
/* <a href="href">text</a>, inline. */
void html__link(FILE *f, const char *href, const char *text);
/* The inline script that sorts a table by the column whose head is clicked. */
void html__sort_script(FILE *f);

/* <span class="badge cls">text</span>: a coloured verdict inline (same classes as rows). */
void html__badge(FILE *f, const char *cls, const char *text);

/* <figure class="chart"> around an svg__* chart, with an optional caption below it. */
void html__figure_begin(FILE *f);
void html__figure_end(FILE *f, const char *caption);

#endif
