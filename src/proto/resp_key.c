// SPDX-License-Identifier: GPL-2.0-only
/*
 * Key patterns (resp.h: resp__key_pattern). A key is split into parts at ':' '/' '|' '#' ','
 * '=' and, inside those, at '.'; the separators are kept. What identifies one object becomes
 * {id}; the rest is kept, so that the pattern names the kind of object and never one of them.
 */
#include <string.h>

#include "proto/resp.h"

/*
 * The output is built from tokens ("{id}", an escaped byte, a literal byte) that are never
 * split: when the pattern does not fit, it ends at the last token after which "..." fits.
 */
struct pat_out {
	char *buf;
	size_t cap;  /* bytes available before the NUL */
	size_t len;  /* bytes written */
	size_t safe; /* the longest len that still leaves room for "..." */
	bool cut;
};

static void pat_put(struct pat_out *o, const char *s, size_t n)
{
	if (o->cut)
		return;
	if (n > o->cap - o->len) {
		size_t dots = o->cap - o->safe < 3 ? o->cap - o->safe : 3;

		o->len = o->safe;
		memcpy(o->buf + o->len, "...", dots);
		o->len += dots;
		o->cut = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	if (o->cap - o->len >= 3)
		o->safe = o->len;
}

/* A literal byte; not printable, and the backslash that escapes, as \xNN. */
static void pat_byte(struct pat_out *o, uint8_t c)
{
	static const char hex[] = "0123456789abcdef";
	char e[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };

	if (c >= 0x20 && c < 0x7f && c != '\\') {
		char ch = c;

		pat_put(o, &ch, 1);
	} else {
		pat_put(o, e, 4);
	}
}

static void pat_id(struct pat_out *o)
{
	if (o)
		pat_put(o, "{id}", 4);
}

/* ':' and its kind separate the parts of a key; '.' separates too, but only inside one. */
static bool pat_sep(uint8_t c)
{
	return c == ':' || c == '/' || c == '|' || c == '#' || c == ',' || c == '=';
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(uint8_t c)
{
	return is_alpha(c) || is_digit(c);
}

static bool is_hex(uint8_t c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* 8-4-4-4-12 hex digits. */
static bool is_uuid(const uint8_t *p, size_t n)
{
	if (n < 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? p[i] != '-' : !is_hex(p[i]))
			return false;
	}
	return true;
}

/* A token (session, API key, JWT piece): 20+ of [A-Za-z0-9+_-], both cases and a digit. */
static bool is_token(const uint8_t *p, size_t n)
{
	bool up = false, low = false, dig = false;

	if (n < 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (c >= 'A' && c <= 'Z')
			up = true;
		else if (c >= 'a' && c <= 'z')
			low = true;
		else if (is_digit(c))
			dig = true;
		else if (c != '+' && c != '_' && c != '-')
			return false;
	}
	return up && low && dig;
}

/*
 * One word (a run of letters and digits) with a digit in it. Whole {id}: hex of 8+ ("9f8e7d6c",
 * a hash, an object id), or letters and digits mixed more than once ("a1b2", "x9k2"), where no
 * part can be told from the identifier. Kept: "v" and one or two digits, a version ("v1",
 * "v12"): a schema marker of a few values at most, which makes the pattern readable and
 * cannot single out an object. Else its digit run becomes {id} ("user42" -> "user{id}").
 * Returns the literal bytes written (or that would be, with o NULL).
 */
static size_t pat_word(struct pat_out *o, const uint8_t *p, size_t n)
{
	size_t hex = 0, turns = 0, lit = 0;

	for (size_t i = 0; i < n; i++) {
		hex += is_hex(p[i]);
		if (i && is_digit(p[i]) != is_digit(p[i - 1]))
			turns++;
	}
	if ((hex == n && n >= 8) || turns >= 2) {
		pat_id(o);
		return 0;
	}
	if ((n == 2 || n == 3) && (p[0] == 'v' || p[0] == 'V') && is_digit(p[1])) {
		for (size_t i = 0; o && i < n; i++)
			pat_byte(o, p[i]);
		return n;
	}
	for (size_t i = 0; i < n;) {
		if (is_digit(p[i])) {
			while (i < n && is_digit(p[i]))
				i++;
			pat_id(o);
		} else {
			if (o)
				pat_byte(o, p[i]);
			lit++;
			i++;
		}
	}
	return lit;
}

/* A part between separators, or with o NULL how many literal bytes it would keep. */
static size_t pat_scan(struct pat_out *o, const uint8_t *p, size_t n)
{
	size_t lit = 0;

	for (size_t i = 0; i < n;) {
		size_t j = i;
		bool digit = false;

		if ((!i || !is_alnum(p[i - 1])) && is_uuid(p + i, n - i) &&
		    (i + 36 == n || !is_alnum(p[i + 36]))) {
			pat_id(o);
			i += 36;
			continue;
		}
		while (j < n && is_alnum(p[j])) {
			digit |= is_digit(p[j]);
			j++;
		}
		if (j == i) {
			if (o)
				pat_byte(o, p[i]);
			lit++;
			i++;
		} else if (!digit) {
			for (size_t k = i; o && k < j; k++)
				pat_byte(o, p[k]);
			lit += j - i;
			i = j;
		} else {
			lit += pat_word(o, p + i, j - i);
			i = j;
		}
	}
	return lit;
}

/* Longest literal text a part may keep: longer, it is a value (a URL, a sentence, a blob). */
#define PAT_PART_MAX 40

static void pat_part(struct pat_out *o, const uint8_t *p, size_t n)
{
	if (!n)
		return;
	if (is_token(p, n) || pat_scan(NULL, p, n) > PAT_PART_MAX)
		pat_id(o);
	else
		pat_scan(o, p, n);
}

size_t resp__key_pattern(const uint8_t *key, size_t len, char *out, size_t outsz)
{
	struct pat_out o = { .buf = out };
	size_t i = 0;

	if (!outsz)
		return 0;
	o.cap = outsz - 1;
	while (i < len && !o.cut) {
		size_t j = i;

		if (pat_sep(key[i])) {
			pat_byte(&o, key[i++]);
			continue;
		}
		while (j < len && !pat_sep(key[j]))
			j++;
		if (memchr(key + i, '@', j - i)) {
			/* An e-mail address: its domain is part of the identity. */
			pat_id(&o);
		} else {
			for (size_t k = i; k < j;) {
				const uint8_t *dot = memchr(key + k, '.', j - k);
				size_t e = dot ? (size_t)(dot - key) : j;

				pat_part(&o, key + k, e - k);
				if (dot)
					pat_byte(&o, '.');
				k = e + 1;
			}
		}
		i = j;
	}
	out[o.len] = 0;
	return o.len;
}
