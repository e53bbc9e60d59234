// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/jscan.h"

#define BLOCK (1u << 20) /* read size, and the window's first size */

void jscan__init_mem(struct jscan *s, const char *buf, size_t len)
{
	memset(s, 0, sizeof(*s));
	s->buf = buf;
	s->len = len;
	s->fd = -1;
	s->eof = true;
	s->max = UINT64_MAX;
	s->piece = SIZE_MAX;
	s->line = 1;
}

int jscan__init_fd(struct jscan *s, int fd, uint64_t max)
{
	jscan__init_mem(s, NULL, 0);
	s->own = malloc(BLOCK);
	if (!s->own)
		return -ENOMEM;
	s->buf = s->own;
	s->cap = BLOCK;
	s->fd = fd;
	s->eof = false;
	s->max = max;
	return 0;
}

void jscan__free(struct jscan *s)
{
	free(s->own);
	s->own = NULL;
	s->buf = NULL;
}

static int set_err(struct jscan *s, int err, const char *msg)
{
	if (!s->err) {
		s->err = err;
		snprintf(s->msg, sizeof(s->msg), "%s", msg);
	}
	return s->err;
}

static unsigned column(const struct jscan *s)
{
	return (unsigned)(s->base + s->pos - s->bol + 1);
}

/* at: input offset of the byte at fault, on the current line. */
static int fail_at(struct jscan *s, uint64_t at, const char *why)
{
	char msg[JSCAN_MSG_MAX];

	snprintf(msg, sizeof(msg), "malformed JSON at line %u, column %llu: %s", s->line,
		 (unsigned long long)(at - s->bol + 1), why);
	return set_err(s, -EINVAL, msg);
}

int jscan__fail(struct jscan *s, const char *why)
{
	return fail_at(s, s->base + s->pos, why);
}

/*
 * Make s->buf[s->pos] readable: 1, or 0 at the end of the input (or on an error). Bytes before
 * pos are dropped from the window unless they belong to the piece being taken.
 */
static int fill(struct jscan *s)
{
	size_t keep;
	ssize_t r;

	if (s->pos < s->len)
		return 1;
	if (s->eof || s->err)
		return 0;
	keep = s->piece != SIZE_MAX ? s->piece : s->pos;
	memmove(s->own, s->own + keep, s->len - keep);
	s->base += keep;
	s->len -= keep;
	s->pos -= keep;
	if (s->piece != SIZE_MAX)
		s->piece -= keep;
	if (s->cap - s->len < BLOCK / 2) {
		char *p = realloc(s->own, 2 * s->cap);

		if (!p) {
			set_err(s, -ENOMEM, strerror(ENOMEM));
			return 0;
		}
		s->own = p;
		s->buf = p;
		s->cap *= 2;
	}
	do
		r = read(s->fd, s->own + s->len, s->cap - s->len);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		set_err(s, -errno, strerror(errno));
		return 0;
	}
	if (!r) {
		s->eof = true;
		return 0;
	}
	s->len += r;
	if (s->base + s->len > s->max) {
		set_err(s, -EFBIG, strerror(EFBIG));
		return 0;
	}
	return 1;
}

/* The byte at pos, or -1 at the end of the input or on an error. */
static inline int cur(struct jscan *s)
{
	if (s->pos == s->len && !fill(s))
		return -1;
	return (unsigned char)s->buf[s->pos];
}

/* At the end of the input or on an error: which one. */
static int ended(struct jscan *s)
{
	if (s->err)
		return s->err;
	if (!s->base && !s->len)
		return set_err(s, -EINVAL, "empty file");
	return set_err(s, -EINVAL, "malformed JSON: unexpected end of file");
}

static int unexpected(struct jscan *s, int c, const char *why)
{
	if (c < 0)
		return ended(s);
	/* A NUL byte is never part of a report, and a message could not show where it is. */
	if (!c)
		return set_err(s, -EINVAL, "malformed JSON: NUL byte");
	return jscan__fail(s, why);
}

static int ws(struct jscan *s)
{
	for (;;) {
		int c = cur(s);

		if (c == '\n') {
			s->line++;
			s->bol = s->base + s->pos + 1;
		} else if (c != ' ' && c != '\t' && c != '\r') {
			return c;
		}
		s->pos++;
	}
}

int jscan__peek(struct jscan *s)
{
	return s->err ? -1 : ws(s);
}

static bool hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/*
 * The rest of a UTF-8 sequence whose first byte, lead, was consumed (shortest form only): 0,
 * -1 for a bad byte, -2 at the end of the input (or on a read error).
 */
static int utf8_rest(struct jscan *s, int lead)
{
	int n, lo = 0x80, hi = 0xbf;

	if (lead >= 0xc2 && lead <= 0xdf) {
		n = 1;
	} else if (lead >= 0xe0 && lead <= 0xef) {
		n = 2;
		if (lead == 0xe0)
			lo = 0xa0; /* overlong */
		if (lead == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (lead >= 0xf0 && lead <= 0xf4) {
		n = 3;
		if (lead == 0xf0)
			lo = 0x90; /* overlong */
		if (lead == 0xf4)
			hi = 0x8f; /* beyond U+10FFFF */
	} else {
		return -1;
	}
	for (int i = 0; i < n; i++) {
		int c = cur(s);

		if (c < 0)
			return -2;
		if (c < lo || c > hi)
			return -1;
		s->pos++;
		lo = 0x80;
		hi = 0xbf;
	}
	return 0;
}

/* A string at its opening quote; its raw bytes, cut, into key if given. */
static int string(struct jscan *s, char *key, size_t keysz)
{
	size_t k = 0;

	s->pos++;
	for (;;) {
		int c;

		/* The common case, a run of plain ASCII, without a call per byte. */
		while (s->pos < s->len) {
			c = (unsigned char)s->buf[s->pos];
			if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80)
				break;
			if (key && k + 1 < keysz)
				key[k++] = (char)c;
			s->pos++;
		}
		c = cur(s);
		if (c == '"') {
			s->pos++;
			break;
		}
		if (c < 0x20)
			return unexpected(s, c, "control character in a string");
		if (c >= 0x80) {
			/* The window may move while the sequence is read: keep an input offset. */
			uint64_t at = s->base + s->pos;

			s->pos++;
			switch (utf8_rest(s, c)) {
			case -1:
				return fail_at(s, at, "invalid utf-8 string");
			case -2:
				return ended(s);
			}
			continue;
		}
		if (c == '\\') {
			if (key && k + 1 < keysz)
				key[k++] = '\\';
			s->pos++;
			c = cur(s);
			if (c == 'u') {
				s->pos++;
				for (int i = 0; i < 4; i++, s->pos++)
					if (!hex(c = cur(s)))
						return unexpected(s, c, "invalid string sequence");
				continue;
			}
			if (!c || !strchr("\"\\/bfnrt", c))
				return unexpected(s, c, "invalid string sequence");
			if (key && k + 1 < keysz)
				key[k++] = (char)c;
			s->pos++;
			continue;
		}
	}
	if (key)
		key[k] = '\0';
	return 0;
}

static int literal(struct jscan *s, const char *word)
{
	for (; *word; word++, s->pos++) {
		int c = cur(s);

		if (c != *word)
			return unexpected(s, c, "unexpected character");
	}
	return 0;
}

static bool digit(int c)
{
	return c >= '0' && c <= '9';
}

/* Note an integer literal beyond int64 (negative) or uint64 (positive), once. */
static void range_check(struct jscan *s, bool neg, const char *digits, size_t n, size_t ndigits)
{
	static const char umax[] = "18446744073709551615", imin[] = "9223372036854775808";
	const char *lim = neg ? imin : umax;
	size_t ln = strlen(lim), off;
	char path[JSCAN_MSG_MAX / 2];

	if (s->range[0] || ndigits < ln || (ndigits == ln && memcmp(digits, lim, ln) <= 0))
		return;
	jscan__path(s, path, sizeof(path));
	off = (size_t)snprintf(s->range, sizeof(s->range), "%s: %s%.*s%s", path, neg ? "-" : "",
			       (int)n, digits, ndigits > n ? "..." : "");
	if (off < sizeof(s->range))
		snprintf(s->range + off, sizeof(s->range) - off, " is out of range (at %s %s%s)",
			 neg ? "least" : "most", neg ? "-" : "", lim);
}

static int number(struct jscan *s)
{
	char digits[24];
	size_t n = 0, ndigits = 0;
	bool neg = false, integer = true;
	int c = cur(s);

	if (c == '-') {
		neg = true;
		s->pos++;
		c = cur(s);
	}
	if (!digit(c))
		return unexpected(s, c, "unexpected character");
	if (c == '0') {
		digits[n++] = '0';
		ndigits = 1;
		s->pos++;
		c = cur(s);
	} else {
		for (; digit(c); s->pos++, c = cur(s)) {
			if (n < sizeof(digits))
				digits[n++] = (char)c;
			ndigits++;
		}
	}
	if (c == '.') {
		integer = false;
		s->pos++;
		c = cur(s);
		if (!digit(c))
			return unexpected(s, c, "unexpected character");
		while (digit(c)) {
			s->pos++;
			c = cur(s);
		}
	}
	if (c == 'e' || c == 'E') {
		integer = false;
		s->pos++;
		c = cur(s);
		if (c == '+' || c == '-') {
			s->pos++;
			c = cur(s);
		}
		if (!digit(c))
			return unexpected(s, c, "unexpected character");
		while (digit(c)) {
			s->pos++;
			c = cur(s);
		}
	}
	if (s->err)
		return s->err;
	if (integer)
		range_check(s, neg, digits, n, ndigits);
	return 0;
}

int jscan__open(struct jscan *s, char c)
{
	int got = jscan__peek(s);

	if (s->err)
		return s->err;
	if (got != c)
		return unexpected(s, got, "unexpected character");
	if (s->nest == JSCAN_DEPTH)
		return jscan__fail(s, "nesting too deep");
	s->nest++;
	s->pos++;
	return 0;
}

int jscan__more(struct jscan *s, char close, bool first)
{
	int c = jscan__peek(s);

	if (s->err)
		return s->err;
	if (c == close) {
		s->pos++;
		s->nest--;
		return 0;
	}
	if (first)
		return 1;
	if (c == ',') {
		s->pos++;
		return 1;
	}
	return unexpected(s, c,
			  close == '}' ? "object value separator ',' expected"
				       : "array value separator ',' expected");
}

int jscan__key(struct jscan *s, char *key, size_t keysz)
{
	char k[JSCAN_KEY_MAX];
	int c = jscan__peek(s);

	if (s->err)
		return s->err;
	if (c != '"')
		return unexpected(s, c,
				  c == '}' ? "unexpected character"
					   : "quoted object property name expected");
	if (string(s, k, sizeof(k)))
		return s->err;
	c = ws(s);
	if (c != ':')
		return unexpected(s, c, "object property name separator ':' expected");
	s->pos++;
	if (key)
		snprintf(key, keysz, "%s", k);
	if (s->npath <= JSCAN_DEPTH) {
		s->path[s->npath].index = -1;
		memcpy(s->path[s->npath].key, k, sizeof(k));
	}
	s->npath++;
	return 0;
}

void jscan__push_index(struct jscan *s, int64_t i)
{
	if (s->npath <= JSCAN_DEPTH)
		s->path[s->npath].index = i;
	s->npath++;
}

void jscan__pop(struct jscan *s)
{
	if (s->npath)
		s->npath--;
}

static int value(struct jscan *s);

static int container(struct jscan *s, char open)
{
	char close = open == '{' ? '}' : ']';
	int64_t i = 0;
	int more;

	if (jscan__open(s, open))
		return s->err;
	while ((more = jscan__more(s, close, !i)) == 1) {
		if (open == '{') {
			if (jscan__key(s, NULL, 0))
				return s->err;
		} else {
			jscan__push_index(s, i);
		}
		i++;
		if (value(s))
			return s->err;
		jscan__pop(s);
	}
	return more;
}

static int value(struct jscan *s)
{
	int c = ws(s);

	switch (c) {
	case '{':
	case '[':
		return container(s, (char)c);
	case '"':
		return string(s, NULL, 0);
	case 't':
		return literal(s, "true");
	case 'f':
		return literal(s, "false");
	case 'n':
		return literal(s, "null");
	default:
		if (c == '-' || digit(c))
			return number(s);
		return unexpected(s, c, "unexpected character");
	}
}

int jscan__skip(struct jscan *s)
{
	return s->err ? s->err : value(s);
}

int jscan__take(struct jscan *s, const char **p, size_t *n)
{
	if (jscan__peek(s) < 0)
		return ended(s);
	s->piece = s->pos;
	s->piece_line = s->line;
	s->piece_col = column(s);
	value(s);
	*p = s->buf + s->piece;
	*n = s->pos - s->piece;
	s->piece = SIZE_MAX;
	return s->err;
}

int jscan__end(struct jscan *s)
{
	int c = jscan__peek(s);

	if (s->err)
		return s->err;
	if (c < 0)
		return 0;
	return unexpected(s, c, "data after the report");
}

void jscan__path(const struct jscan *s, char *buf, size_t sz)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < s->npath && i <= JSCAN_DEPTH && off < sz; i++) {
		const struct jscan_step *p = &s->path[i];

		if (p->index >= 0)
			off += snprintf(buf + off, sz - off, "[%lld]", (long long)p->index);
		else
			off += snprintf(buf + off, sz - off, "%s%s", i ? "." : "", p->key);
	}
}
