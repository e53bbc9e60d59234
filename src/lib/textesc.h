/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Untrusted text made safe to show. Process names, request paths, SQL fingerprints, host names
 * and names read from files are set by whoever runs the traced programs or wrote the files;
 * every text sink (the live view and the record summary, the text and markdown reports and
 * diffs, warnings on stderr) shows them through these functions.
 *
 * Terminal and text: printable ASCII and valid UTF-8 pass through unchanged. C0 controls and
 * DEL become "\x1b" style escapes, and so does each byte that is not part of valid UTF-8
 * (stray continuation bytes, cut sequences, overlong forms, surrogates, beyond U+10FFFF). C1
 * controls encoded as UTF-8 (U+0080-U+009F: some terminals obey U+009B as CSI) and the code
 * points that reorder or break the line around them (bidi marks, embeddings, overrides and
 * isolates: U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069; U+2028, U+2029) become
 * "\u009b" style escapes, which tells them apart from a raw byte. A backslash is not doubled:
 * the output is for reading, and escaping twice changes nothing. The JSON report keeps the
 * exact value.
 *
 * Markdown: a value from traffic or a file is an inline code span, escaped as above inside. Nothing
 * in a code span is markup: no raw HTML, no links, no emphasis, and neither GitHub's nor GitLab's
 * autolinks of bare URLs, @mentions or #references (backslash escapes would not stop those: GitLab
 * links URLs in the rendered text). The fence is one backtick longer than the longest run of
 * backticks inside, so no content closes it early, and content with backticks is padded with
 * one space on each side, which the renderer strips. In a table '|' still splits cells, even
 * in a code span: table.c escapes it as "\|", which GFM tables honour everywhere in a row.
 * Plain markdown text (textesc__md_text: host names, times, versions, where a code span would
 * be noise) backslash-escapes the characters that start markup instead; it stops HTML, links,
 * images and emphasis, not the autolinks of bare URLs: values that can carry those are code.
 */
#ifndef SLOPROBE_TEXTESC_H
#define SLOPROBE_TEXTESC_H

#include <stddef.h>
#include <stdio.h>

/* Length of the longest prefix of s[0..n) that needs no escaping (n when none does). */
size_t textesc__clean(const char *s, size_t n);

/*
 * s[0..n) escaped, into buf (NUL-terminated when sz > 0), cut before the first character or
 * escape that does not fit whole. Returns the length of the whole result, as snprintf does.
 */
size_t textesc__term(char *buf, size_t sz, const char *s, size_t n);

/*
 * s[0..n) as an inline markdown code span, escaped inside as textesc__term does; an empty s
 * is an empty string. A cut (sz too small) shortens the content, never the fences. Returns
 * the length of the whole result.
 */
size_t textesc__md_code(char *buf, size_t sz, const char *s, size_t n);

/*
 * s[0..n) escaped as textesc__term does, and a backslash before each of \ ` * _ [ ] ( ) < > ! ~
 * & where it could start markup ('_' inside a word, '<' before a blank or '=', '&' before a
 * blank, '!' not before '[' stay): markdown shows it as text (in a table cell, '|' is escaped by
 * table.c). Returns the length of the whole result.
 */
size_t textesc__md_text(char *buf, size_t sz, const char *s, size_t n);

/*
 * Length of the character at s[0..n) (n > 0) if it is one: 1 for ASCII, 2-4 for a valid UTF-8
 * sequence in shortest form (no surrogate, nothing past U+10FFFF); 0 for a byte that starts
 * none. For sinks that keep valid text as it is and replace the rest (prom.c's label values).
 */
size_t textesc__utf8_len(const char *s, size_t n);

/* Writes s[0..n) escaped to f; plain stretches go out as they are. */
void textesc__write(FILE *f, const char *s, size_t n);

/* One line to f: the whole of fmt's result escaped (newlines in it too), then '\n'. */
void textesc__line(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Terminal columns of s[0..n), text as textesc__term writes it: 2 for East Asian wide and
 * fullwidth characters, 0 for combining marks and zero-width joiners, 1 for the rest.
 */
size_t textesc__width(const char *s, size_t n);

/* Bytes of the longest whole-character prefix of s[0..n) within max columns; *cols: its width. */
size_t textesc__fit(const char *s, size_t n, size_t max, size_t *cols);

/* The widest textesc__shorten: more columns are not kept. */
#define TEXTESC_SHORTEN_MAX 128

/*
 * s escaped and shortened to width terminal columns, a '~' at the end marking a cut; out holds
 * whole characters only. Returns the columns it takes: pad with the rest, as printf's "%-*s"
 * would if it counted columns rather than bytes.
 */
unsigned textesc__shorten(const char *s, unsigned width, char *out, size_t outsz);
/* s escaped, shortened and padded with blanks to width columns, to f: one column of a row. */
void textesc__column(FILE *f, const char *s, unsigned width);

#endif
