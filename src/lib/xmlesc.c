// SPDX-License-Identifier: GPL-2.0-only
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/xmlesc.h"

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

/*
 * Length of the valid UTF-8 sequence of a code point XML accepts at s[0..n) (2 to 4 bytes,
 * s[0] >= 0x80), or 0 when there is none.
 */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF, and the two non-characters XML refuses */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
		return 0;
	return len;
}

/* The escape of ASCII byte c, or NULL when it stands for itself; tmp holds a built one. */
static const char *ascii_escape(unsigned char c, char tmp[8], bool text)
{
	if (text && (c == '\t' || c == '\n'))
		return NULL;
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&apos;";
	case '\t':
		return "&#9;";
	case '\n':
		return "&#10;";
	case '\r':
		return "&#13;";
	}
	if (c < 0x20) {
		snprintf(tmp, 8, "\\x%02x", c);
		return tmp;
	}
	return NULL;
}

/*
 * The piece that stands for the character at s[0..n) (n > 0): its bytes (*len), and how many
 * input bytes it takes (*used).
 */
static const char *piece(const char *s, size_t n, char tmp[8], size_t *len, size_t *used, bool text)
{
	const unsigned char *u = (const unsigned char *)s;
	const char *p;

	*used = 1;
	if (u[0] < 0x80) {
		p = ascii_escape(u[0], tmp, text);
		*len = p ? strlen(p) : 1;
		return p ? p : s;
	}
	if ((*len = utf8_len(u, n))) {
		*used = *len;
		return s;
	}
	*len = 3;
	return REPLACEMENT;
}

size_t xmlesc__buf(char *buf, size_t sz, const char *s, size_t n)
{
	size_t out = 0;
	bool cut = false;

	for (size_t i = 0; i < n;) {
		char tmp[8];
		size_t len, used;
		const char *p = piece(s + i, n - i, tmp, &len, &used, false);

		/* a piece goes in whole or not at all: a cut never splits an entity */
		if (!cut && out + len < sz)
			memcpy(buf + out, p, len);
		else if (!cut && sz)
			buf[out] = '\0', cut = true;
		out += len;
		i += used;
	}
	if (sz && !cut)
		buf[out] = '\0';
	return out;
}

static void write(FILE *f, const char *s, bool text)
{
	size_t n = s ? strlen(s) : 0;

	for (size_t i = 0; i < n;) {
		char tmp[8];
		size_t len, used;
		const char *p = piece(s + i, n - i, tmp, &len, &used, text);

		fwrite(p, 1, len, f);
		i += used;
	}
}

void xmlesc__write(FILE *f, const char *s)
{
	write(f, s, false);
}

void xmlesc__write_text(FILE *f, const char *s)
{
	write(f, s, true);
}
