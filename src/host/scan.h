/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Byte-range helpers the procfs parsers of src/host/ share: character classes, literal matches
 * and whole-token numbers over (pointer, length), never assuming a NUL. Its own header because
 * container.c, procinfo.c, proc_net.c and procfs.c all use them; static inline, so each file
 * keeps its own copy of what it calls, as when they were statics of one file.
 */
#ifndef SLOPROBE_SCAN_H
#define SLOPROBE_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline int hex_val(unsigned char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static inline bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline bool mem_eq(const char *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	return n == l && !memcmp(p, lit, l);
}

static inline bool has_prefix(const char *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	return n >= l && !memcmp(p, lit, l);
}

static inline bool has_suffix(const char *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	return n >= l && !memcmp(p + n - l, lit, l);
}

/* Whole token must be decimal and fit in max. */
static inline bool parse_dec(const char *p, size_t n, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;

	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned d;

		if (!is_digit(p[i]))
			return false;
		d = p[i] - '0';
		if (x > (max - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*v = x;
	return true;
}

static inline bool parse_hex(const char *p, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	if (!n || n > 16)
		return false;
	for (size_t i = 0; i < n; i++) {
		int d = hex_val(p[i]);

		if (d < 0)
			return false;
		x = x << 4 | (unsigned)d;
	}
	*v = x;
	return true;
}

#endif
