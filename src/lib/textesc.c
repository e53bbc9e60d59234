// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/textesc.h"

#define ESC_MAX 7 /* "\u202e" */
/*
 * What markdown text escapes with a backslash: what starts HTML, links and images, code,
 * emphasis and strike-through, entity references ("&#x202e;" would bring back a character the
 * terminal escaping took out), and the backslash itself. '|' is the table's to escape
 * (table.c): twice would be "\\|".
 */
#define MD_SPECIALS "\\`*_[]()<>!~&"

/* Length of the valid UTF-8 sequence at s (a non-ASCII lead byte), 0 if there is none. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	uint32_t v, min;
	size_t len;

	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

size_t textesc__utf8_len(const char *s, size_t n)
{
	uint32_t cp;

	if ((unsigned char)s[0] < 0x80)
		return 1;
	return utf8_seq((const unsigned char *)s, n, &cp);
}

/* Code points a terminal obeys or that move the text around them: see textesc.h. */
static bool cp_unsafe(uint32_t cp)
{
	return cp <= 0x9f || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * The character at s (n > 0): its length in bytes; esc gets its escape ("" when it is shown
 * as it is).
 */
static size_t next(const unsigned char *s, size_t n, char esc[ESC_MAX + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint32_t cp;
	size_t len;

	esc[0] = '\0';
	if (s[0] >= 0x20 && s[0] < 0x7f)
		return 1;
	len = s[0] < 0x80 ? 0 : utf8_seq(s, n, &cp);
	if (!len) {
		snprintf(esc, ESC_MAX + 1, "\\x%c%c", hex[s[0] >> 4], hex[s[0] & 0xf]);
		return 1;
	}
	if (cp_unsafe(cp))
		snprintf(esc, ESC_MAX + 1, "\\u%04x", (unsigned)cp);
	return len;
}

size_t textesc__clean(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	char esc[ESC_MAX + 1];
	size_t i = 0, len;

	while (i < n) {
		/* The common case, kept tight: the live view calls this for every cell. */
		while (i < n && s[i] >= 0x20 && s[i] < 0x7f)
			i++;
		if (i == n)
			break;
		len = next(s + i, n - i, esc);
		if (esc[0])
			break;
		i += len;
	}
	return i;
}

struct out {
	char *buf;
	size_t sz, at, need;
	bool full;
};

/* Appends p[0..len) whole or, once something did not fit, nothing more. */
static void out_put(struct out *o, const char *p, size_t len)
{
	o->need += len;
	if (o->full || o->at + len >= o->sz) {
		o->full = true;
		return;
	}
	memcpy(o->buf + o->at, p, len);
	o->at += len;
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9');
}

/*
 * Specials that cannot start markup where they are, left as they are so that plain values
 * read plainly ("ringbuf_full", "p95 <= 300 ms"): '_' inside a word (no emphasis there), '<'
 * not followed by what opens a tag, comment or autolink, '&' not followed by what opens an
 * entity, '!' not before '[' (an image). At either end of the value the neighbour is unknown:
 * escaped.
 */
static bool md_inert(const char *s, size_t i, size_t n)
{
	char prev = i ? s[i - 1] : 0, next = i + 1 < n ? s[i + 1] : 0;

	switch (s[i]) {
	case '_':
		return is_alnum(prev) && is_alnum(next);
	case '<':
		return next && !is_alpha(next) && !strchr("/!?", next);
	case '&':
		return next && !is_alpha(next) && next != '#';
	case '!':
		return next && next != '[';
	default:
		return false;
	}
}

/* md: a backslash before each character of MD_SPECIALS too. */
static void out_escaped(struct out *o, const char *str, size_t n, bool md)
{
	const unsigned char *s = (const unsigned char *)str;
	char esc[ESC_MAX + 1];
	size_t i = 0, len;

	while (i < n) {
		len = next(s + i, n - i, esc);
		if (esc[0]) {
			out_put(o, esc, strlen(esc));
		} else if (md && strchr(MD_SPECIALS, str[i]) && !md_inert(str, i, n)) {
			esc[0] = '\\';
			esc[1] = str[i];
			out_put(o, esc, 2);
		} else {
			out_put(o, str + i, len);
		}
		i += len;
	}
}

size_t textesc__term(char *buf, size_t sz, const char *s, size_t n)
{
	struct out o = { .buf = buf, .sz = sz };

	if (textesc__clean(s, n) == n && n < sz) {
		memcpy(buf, s, n);
		buf[n] = '\0';
		return n;
	}
	out_escaped(&o, s, n, false);
	if (sz)
		buf[o.at] = '\0';
	return o.need;
}

size_t textesc__md_text(char *buf, size_t sz, const char *s, size_t n)
{
	struct out o = { .buf = buf, .sz = sz };

	out_escaped(&o, s, n, true);
	if (sz)
		buf[o.at] = '\0';
	return o.need;
}

size_t textesc__md_code(char *buf, size_t sz, const char *s, size_t n)
{
	char fence[64];
	size_t run = 0, longest = 0, flen, pad, start;
	struct out o = { .buf = buf, .sz = sz };

	if (sz)
		buf[0] = '\0';
	if (!n)
		return 0;
	/* Escapes hold no backtick: the runs of the input are those of the content. */
	for (size_t i = 0; i < n; i++) {
		run = s[i] == '`' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	flen = longest + 1;
	if (flen > sizeof(fence) - 1) {
		/* No fence would be long enough to print: show it as text without backticks. */
		return textesc__md_code(buf, sz, "(backticks)", 11);
	}
	memset(fence, '`', flen);
	fence[flen] = '\0';
	pad = longest ? 1 : 0;
	/* Room for the closing fence is kept whatever the content: a cut never opens a span. */
	if (sz < 2 * (flen + pad) + 1)
		return 2 * (flen + pad) + n;
	o.sz = sz - flen - pad;
	out_put(&o, fence, flen);
	out_put(&o, " ", pad);
	start = o.at;
	out_escaped(&o, s, n, false);
	o.full = false;
	o.sz = sz;
	out_put(&o, " ", pad);
	out_put(&o, fence, flen);
	/* Two fences with nothing between are one run of backticks, no span: then nothing. */
	buf[o.at == start + pad + flen ? 0 : o.at] = '\0';
	return o.need;
}

void textesc__write(FILE *f, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	char esc[ESC_MAX + 1];
	size_t i = 0, ok;

	while (i < n) {
		ok = textesc__clean(str + i, n - i);
		fwrite(str + i, 1, ok, f);
		i += ok;
		if (i == n)
			break;
		i += next(s + i, n - i, esc);
		fputs(esc, f);
	}
}

void textesc__line(FILE *f, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		textesc__write(f, fmt, strlen(fmt));
	} else {
		textesc__write(f, s, n);
		free(s);
	}
	putc('\n', f);
}

/* Columns of a code point a terminal shows: the ranges of Markus Kuhn's wcwidth(). */
static unsigned cp_width(uint32_t cp)
{
	static const uint32_t zero[][2] = {
		{ 0x0300, 0x036f },   { 0x0483, 0x0489 }, { 0x0591, 0x05bd }, { 0x0610, 0x061a },
		{ 0x064b, 0x065f },   { 0x1ab0, 0x1aff }, { 0x1dc0, 0x1dff }, { 0x200b, 0x200d },
		{ 0x20d0, 0x20ff },   { 0xfe00, 0xfe0f }, { 0xfe20, 0xfe2f }, { 0xfeff, 0xfeff },
		{ 0xe0100, 0xe01ef },
	};
	static const uint32_t wide[][2] = {
		{ 0x1100, 0x115f },   { 0x2e80, 0x303e },   { 0x3041, 0x33ff },
		{ 0x3400, 0x4dbf },   { 0x4e00, 0x9fff },   { 0xa000, 0xa4cf },
		{ 0xac00, 0xd7a3 },   { 0xf900, 0xfaff },   { 0xfe30, 0xfe4f },
		{ 0xff00, 0xff60 },   { 0xffe0, 0xffe6 },   { 0x1f300, 0x1f64f },
		{ 0x1f900, 0x1f9ff }, { 0x20000, 0x2fffd }, { 0x30000, 0x3fffd },
	};

	if (cp < 0x300)
		return 1;
	for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
		if (cp >= zero[i][0] && cp <= zero[i][1])
			return 0;
	for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++)
		if (cp >= wide[i][0] && cp <= wide[i][1])
			return 2;
	return 1;
}

/* Bytes and columns of the character at s (n > 0); a byte that is no character counts 1. */
static size_t char_cols(const unsigned char *s, size_t n, unsigned *cols)
{
	uint32_t cp;
	size_t len;

	*cols = 1;
	if (s[0] < 0x80)
		return 1;
	len = utf8_seq(s, n, &cp);
	if (!len)
		return 1;
	*cols = cp_width(cp);
	return len;
}

size_t textesc__width(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, w = 0;
	unsigned c;

	while (i < n) {
		i += char_cols(s + i, n - i, &c);
		w += c;
	}
	return w;
}

size_t textesc__fit(const char *str, size_t n, size_t max, size_t *cols)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, w = 0, len;
	unsigned c;

	while (i < n) {
		len = char_cols(s + i, n - i, &c);
		if (w + c > max)
			break;
		w += c;
		i += len;
	}
	*cols = w;
	return i;
}

unsigned textesc__shorten(const char *s, unsigned width, char *out, size_t outsz)
{
	/* Four bytes a column at most (but for zero-width runs, which are cut then). */
	char esc[TEXTESC_SHORTEN_MAX * 4 + 8];
	size_t need = textesc__term(esc, sizeof(esc), s, strlen(s)), n = strlen(esc), cols, keep;
	bool cut;

	if (!outsz)
		return 0;
	if (width > TEXTESC_SHORTEN_MAX)
		width = TEXTESC_SHORTEN_MAX;
	keep = textesc__fit(esc, n, width, &cols);
	cut = keep < n || need > n;
	if (cut && width)
		keep = textesc__fit(esc, n, width - 1, &cols);
	/* Whole characters only (escaped text is valid UTF-8), and room for the '~'. */
	while (keep && keep + 2 > outsz) {
		cut = true;
		while (keep && ((unsigned char)esc[--keep] & 0xc0) == 0x80)
			;
	}
	textesc__fit(esc, keep, width, &cols);
	memcpy(out, esc, keep);
	if (cut && width && keep + 2 <= outsz) {
		out[keep++] = '~';
		cols++;
	}
	out[keep] = '\0';
	return cols;
}

void textesc__column(FILE *f, const char *s, unsigned width)
{
	char buf[TEXTESC_SHORTEN_MAX * 4 + 8];
	unsigned cols = textesc__shorten(s, width, buf, sizeof(buf));

	fprintf(f, "%s%*s", buf, (int)(width - cols), "");
}
