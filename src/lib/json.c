// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"

struct json {
	FILE *f;
	/* Bit d set: the container at depth d + 1 is an object. JSON_MAX_DEPTH fits in 64 bits. */
	uint64_t objects;
	int depth;
	bool pretty;
	bool first;    /* nothing written yet in the innermost open container */
	bool have_key; /* innermost object has a key waiting for its value */
	bool started;  /* the top-level value has begun */
	bool misuse;
	bool finished;
};

_Static_assert(JSON_MAX_DEPTH <= 64, "objects bitmask is 64 bits");

struct json *json__new(FILE *f, bool pretty)
{
	struct json *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->f = f;
	j->pretty = pretty;
	return j;
}

void json__free(struct json *j)
{
	free(j);
}

/* Every entry point checks this first, which is what makes misuse sticky. */
static bool usable(struct json *j)
{
	if (j->finished)
		j->misuse = true;
	return !j->misuse;
}

static bool in_object(const struct json *j)
{
	return j->depth > 0 && (j->objects >> (j->depth - 1)) & 1;
}

static void newline(struct json *j, int depth)
{
	putc('\n', j->f);
	for (int i = 0; i < 2 * depth; i++)
		putc(' ', j->f);
}

/* Comma and line break before an array element or an object key. */
static void separate(struct json *j)
{
	if (!j->first)
		putc(',', j->f);
	j->first = false;
	if (j->pretty)
		newline(j, j->depth);
}

/* Checks that a value may go here and writes what precedes it. */
static bool value_start(struct json *j)
{
	if (!usable(j))
		return false;
	if (j->depth == 0) {
		if (j->started) {
			j->misuse = true;
			return false;
		}
		j->started = true;
		return true;
	}
	if (in_object(j)) {
		if (!j->have_key) {
			j->misuse = true;
			return false;
		}
		j->have_key = false;
		return true;
	}
	separate(j);
	return true;
}

static void open_container(struct json *j, bool object)
{
	if (!usable(j))
		return;
	if (j->depth >= JSON_MAX_DEPTH) {
		j->misuse = true;
		return;
	}
	if (!value_start(j))
		return;
	putc(object ? '{' : '[', j->f);
	if (object)
		j->objects |= 1ull << j->depth;
	else
		j->objects &= ~(1ull << j->depth);
	j->depth++;
	j->first = true;
}

static void close_container(struct json *j, bool object)
{
	if (!usable(j))
		return;
	if (j->depth == 0 || in_object(j) != object || j->have_key) {
		j->misuse = true;
		return;
	}
	/* Empty containers stay on one line: {} and []. */
	if (j->pretty && !j->first)
		newline(j, j->depth - 1);
	putc(object ? '}' : ']', j->f);
	j->depth--;
	/* The parent had at least this child, so its next member needs a comma. */
	j->first = false;
}

void json__begin_object(struct json *j)
{
	open_container(j, true);
}

void json__end_object(struct json *j)
{
	close_container(j, true);
}

void json__begin_array(struct json *j)
{
	open_container(j, false);
}

void json__end_array(struct json *j)
{
	close_container(j, false);
}

/*
 * Length of the UTF-8 sequence at s if it is well formed (shortest form, no surrogates, at most
 * U+10FFFF), else the length of its maximal invalid subpart, so that one U+FFFD replaces it
 * and scanning resumes at the first byte that could start something valid.
 */
static size_t utf8_seq(const unsigned char *s, size_t n, bool *valid)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need, k;

	*valid = false;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 1;
	}
	for (k = 1; k <= need; k++) {
		if (k >= n || s[k] < lo || s[k] > hi)
			return k;
		lo = 0x80;
		hi = 0xbf;
	}
	*valid = true;
	return need + 1;
}

static void put_string(struct json *j, const unsigned char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, run = 0, len;
	char ctl[7] = "\\u00";
	const char *esc;
	bool valid;

	putc('"', j->f);
	while (i < n) {
		unsigned char c = s[i];

		if (c < 0x80) {
			if (c >= 0x20 && c != '"' && c != '\\') {
				i++;
				continue;
			}
			len = 1;
			switch (c) {
			case '"':
				esc = "\\\"";
				break;
			case '\\':
				esc = "\\\\";
				break;
			case '\n':
				esc = "\\n";
				break;
			case '\t':
				esc = "\\t";
				break;
			case '\r':
				esc = "\\r";
				break;
			case '\b':
				esc = "\\b";
				break;
			case '\f':
				esc = "\\f";
				break;
			default:
				ctl[4] = hex[c >> 4];
				ctl[5] = hex[c & 0xf];
				esc = ctl;
				break;
			}
		} else {
			len = utf8_seq(s + i, n - i, &valid);
			if (!valid) {
				esc = "\xef\xbf\xbd";
			} else if (c == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] & 0xfe) == 0xa8) {
				/* Legal in JSON, but not in JavaScript before ES2019. */
				esc = s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029";
			} else {
				i += len;
				continue;
			}
		}
		fwrite(s + run, 1, i - run, j->f);
		fputs(esc, j->f);
		i += len;
		run = i;
	}
	fwrite(s + run, 1, i - run, j->f);
	putc('"', j->f);
}

void json__key(struct json *j, const char *k)
{
	if (!usable(j))
		return;
	if (!in_object(j) || j->have_key || !k) {
		j->misuse = true;
		return;
	}
	separate(j);
	put_string(j, (const unsigned char *)k, strlen(k));
	putc(':', j->f);
	if (j->pretty)
		putc(' ', j->f);
	j->have_key = true;
}

static void put_raw(struct json *j, const char *text)
{
	if (value_start(j))
		fputs(text, j->f);
}

void json__string_n(struct json *j, const char *s, size_t n)
{
	if (!s) {
		put_raw(j, "null");
		return;
	}
	if (value_start(j))
		put_string(j, (const unsigned char *)s, n);
}

void json__string(struct json *j, const char *s)
{
	json__string_n(j, s, s ? strlen(s) : 0);
}

void json__u64(struct json *j, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	put_raw(j, buf);
}

void json__i64(struct json *j, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	put_raw(j, buf);
}

/*
 * printf formats floating point with the LC_NUMERIC decimal point, which may be ',' or even a
 * multibyte character. Rewrite a %g or %f result in place: whatever is not a digit, sign or
 * 'e' can only be the decimal point. Leading zeros of the exponent go too ("1e-07" -> "1e-7").
 */
static void c_number(char *buf)
{
	const char *in = buf;
	char *out = buf;
	bool exp_lead = false;

	while (*in) {
		char c = *in;

		if (c >= '0' && c <= '9') {
			in++;
			if (exp_lead && c == '0' && *in >= '0' && *in <= '9')
				continue;
			exp_lead = false;
			*out++ = c;
		} else if (c == '-' || c == '+' || c == 'e') {
			in++;
			exp_lead |= c == 'e';
			*out++ = c;
		} else {
			while (*in && !(*in >= '0' && *in <= '9') && *in != '-' && *in != '+' &&
			       *in != 'e')
				in++;
			*out++ = '.';
		}
	}
	*out = '\0';
}

void json__double(struct json *j, double v)
{
	char buf[64];
	int prec;

	if (!isfinite(v)) {
		json__null(j);
		return;
	}
	/* strtod reads the same locale snprintf wrote, so the check holds before the rewrite. */
	for (prec = 15; prec < 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	if (prec == 17)
		snprintf(buf, sizeof(buf), "%.17g", v);
	c_number(buf);
	put_raw(j, buf);
}

void json__fixed(struct json *j, double v, int decimals)
{
	/* DBL_MAX has 309 integer digits; the rest is sign, point and 9 decimals. */
	char buf[400];
	size_t len;

	if (!isfinite(v)) {
		json__null(j);
		return;
	}
	if (decimals < 0)
		decimals = 0;
	if (decimals > 9)
		decimals = 9;
	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	c_number(buf);
	if (strchr(buf, '.')) {
		len = strlen(buf);
		while (buf[len - 1] == '0')
			len--;
		if (buf[len - 1] == '.')
			len--;
		buf[len] = '\0';
	}
	/* Anything that rounds to zero, including -0 itself, prints as a plain 0. */
	put_raw(j, strcmp(buf, "-0") ? buf : "0");
}

void json__bool(struct json *j, bool v)
{
	put_raw(j, v ? "true" : "false");
}

void json__null(struct json *j)
{
	put_raw(j, "null");
}

void json__kv_string(struct json *j, const char *k, const char *s)
{
	json__key(j, k);
	json__string(j, s);
}

void json__kv_u64(struct json *j, const char *k, uint64_t v)
{
	json__key(j, k);
	json__u64(j, v);
}

void json__kv_i64(struct json *j, const char *k, int64_t v)
{
	json__key(j, k);
	json__i64(j, v);
}

void json__kv_double(struct json *j, const char *k, double v)
{
	json__key(j, k);
	json__double(j, v);
}

void json__kv_fixed(struct json *j, const char *k, double v, int decimals)
{
	json__key(j, k);
	json__fixed(j, v, decimals);
}

void json__kv_bool(struct json *j, const char *k, bool v)
{
	json__key(j, k);
	json__bool(j, v);
}

int json__finish(struct json *j)
{
	int err = 0;

	if (usable(j) && (j->depth || !j->started))
		j->misuse = true;
	if (!j->misuse)
		putc('\n', j->f);
	j->finished = true;
	if (fflush(j->f) || ferror(j->f))
		err = -EIO;
	/* A program bug matters more than a full disk; report it first. */
	if (j->misuse)
		err = -EINVAL;
	return err;
}
