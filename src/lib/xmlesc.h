/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Untrusted text as XML 1.0 content, for the JUnit report of `sloprobe report|diff --format junit`.
 *
 * Routes, services and SLO names come from traffic and files: they may hold < & " ' and bytes
 * XML cannot carry at all. The output is the same in element content and in attribute values
 * (either quote): & < > " ' become entities; tab, newline and CR become character references,
 * so an attribute keeps them instead of the parser folding them to blanks. XML 1.0 has no way
 * to write the other C0 controls, even as references: they become "\x01" style text, as the
 * text reports show them (lib/textesc.h). Each byte that is not part of valid UTF-8 (and the
 * non-characters U+FFFE, U+FFFF, which XML also refuses) becomes U+FFFD. Everything else
 * passes through unchanged.
 */
#ifndef SLOPROBE_XMLESC_H
#define SLOPROBE_XMLESC_H

#include <stddef.h>
#include <stdio.h>

/*
 * s[0..n) escaped into buf (NUL-terminated when sz > 0), cut before the first character or
 * escape that does not fit whole. Returns the length of the whole result, as snprintf does.
 */
size_t xmlesc__buf(char *buf, size_t sz, const char *s, size_t n);

/* s (NULL: nothing) escaped to f. */
void xmlesc__write(FILE *f, const char *s);
/* The same for element content only: tab and newline stay as they are, which is easier to read. */
void xmlesc__write_text(FILE *f, const char *s);

#endif
