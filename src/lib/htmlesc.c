// SPDX-License-Identifier: GPL-2.0-only
/*
 * In lib, not in analyze/html.c, so that lib/table.c's HTML tables escape values as the rest of
 * the page does.
 */
#include <stdint.h>
#include <string.h>

#include "lib/htmlesc.h"

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */
#define ELLIPSIS    "\xe2\x80\xa6" /* U+2026 */

/*
 * Length (1..4) of the well-formed UTF-8 character at s, or 0 if the bytes there do not form
 * one: bad lead or continuation byte, cut short, overlong, surrogate or above U+10FFFF.
 */
static size_t utf8_char(const unsigned char *s, size_t n, uint32_t *cp)
{
	static const uint32_t shortest[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	uint32_t c = s[0];
	size_t len, k;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0) {
		len = 2;
		c &= 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3;
		c &= 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4;
		c &= 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[k] & 0x3f);
	}
	if (c < shortest[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

void htmlesc__write_n(FILE *f, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0, len;
	const char *rep;
	uint32_t cp;

	if (!s)
		return;
	while (i < n) {
		len = utf8_char(s + i, n - i, &cp);
		if (!len) {
			/* Each byte that starts no valid character is replaced on its own. */
			len = 1;
			rep = REPLACEMENT;
		} else if (cp == '&') {
			rep = "&amp;";
		} else if (cp == '<') {
			rep = "&lt;";
		} else if (cp == '>') {
			rep = "&gt;";
		} else if (cp == '"') {
			rep = "&quot;";
		} else if (cp == '\'') {
			rep = "&#39;";
		} else if ((cp < 0x20 && cp != '\t' && cp != '\n') || cp == 0xfffe ||
			   cp == 0xffff) {
			/* Not characters XML allows (CR would be normalised away). */
			rep = REPLACEMENT;
		} else {
			i += len;
			continue;
		}
		fwrite(s + run, 1, i - run, f);
		fputs(rep, f);
		i += len;
		run = i;
	}
	fwrite(s + run, 1, i - run, f);
}

void htmlesc__write(FILE *f, const char *s)
{
	if (s)
		htmlesc__write_n(f, s, strlen(s));
}

int htmlesc__ellipsize(const char *str, size_t max_chars, char *out, size_t outsz)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	size_t n = strlen((const char *)s), i = 0, chars = 0, len, keep = 0;
	/* Byte offset after max_chars - 1 characters: where the ellipsis goes if needed. */
	size_t cut = 0;
	uint32_t cp;

	if (!outsz)
		return 0;
	while (i < n) {
		len = utf8_char(s + i, n - i, &cp);
		if (!len)
			len = 1;
		if (chars == max_chars || i + len + 1 > outsz)
			break;
		i += len;
		chars++;
		if (chars + 1 <= max_chars && i + sizeof(ELLIPSIS) <= outsz)
			cut = i;
	}
	if (i == n) {
		memcpy(out, s, n);
		out[n] = '\0';
		return 0;
	}
	keep = cut;
	if (max_chars && keep + sizeof(ELLIPSIS) <= outsz) {
		memcpy(out, s, keep);
		memcpy(out + keep, ELLIPSIS, sizeof(ELLIPSIS));
	} else {
		out[0] = '\0';
	}
	return 1;
}
