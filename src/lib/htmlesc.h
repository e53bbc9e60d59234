/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Untrusted text in an HTML page that is also well-formed XML (analyze/html.h): markup
 * characters become entities (the same in text and in attribute values), invalid UTF-8 and the
 * characters XML forbids (C0 controls but tab and newline, U+FFFE, U+FFFF) become U+FFFD.
 * analyze/html.c's page writers and lib/table.c's HTML tables both escape through here, so a
 * value reads the same in every part of a page.
 */
#ifndef SLOPROBE_HTMLESC_H
#define SLOPROBE_HTMLESC_H

#include <stddef.h>
#include <stdio.h>

/* s[0..n) escaped to f; s NULL writes nothing. */
void htmlesc__write_n(FILE *f, const char *s, size_t n);
/* The same of a NUL-terminated s. */
void htmlesc__write(FILE *f, const char *s);
/*
 * Copies at most max_chars characters of s into out (size outsz, always NUL-terminated),
 * ending with U+2026 when something was cut, and never splitting a UTF-8 sequence. An invalid
 * byte counts as one character. Returns 1 if s was shortened, else 0.
 */
int htmlesc__ellipsize(const char *s, size_t max_chars, char *out, size_t outsz);

#endif
