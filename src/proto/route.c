// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "proto/route.h"
#include "proto/route_priv.h"

bool route__is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

bool route__is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_hex(unsigned char c)
{
	return route__is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool route__is_uuid(const char *p, size_t n)
{
	if (n != 36)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (p[i] != '-')
				return false;
		} else if (!is_hex(p[i])) {
			return false;
		}
	}
	return true;
}

/* Ids are what makes raw paths explode; everything else is left for the limiter to judge. */
static bool is_id(const char *p, size_t n)
{
	bool digits = true, hex = true, token = true, has_digit = false, has_alpha = false;

	if (!n)
		return false;
	if (route__is_uuid(p, n))
		return true;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (route__is_digit(c))
			has_digit = true;
		else
			digits = false;
		if (route__is_alpha(c))
			has_alpha = true;
		if (!is_hex(c))
			hex = false;
		if (!route__is_digit(c) && !route__is_alpha(c) && c != '-' && c != '_')
			token = false;
	}
	return digits || (hex && n >= 16) || (token && n >= 20 && has_digit && has_alpha);
}

/* Raw braces are encoded too so that every '{' in a route starts a placeholder. */
static bool needs_escape(unsigned char c)
{
	return c < 0x21 || c >= 0x7f || c == '"' || c == '\\' || c == '{' || c == '}';
}

static size_t scheme_len(const char *p, size_t n)
{
	size_t i;

	if (!n || !route__is_alpha(p[0]))
		return 0;
	for (i = 1; i < n; i++)
		if (!route__is_alpha(p[i]) && !route__is_digit(p[i]) && p[i] != '+' &&
		    p[i] != '-' && p[i] != '.')
			break;
	return i;
}

static bool is_authority(const char *p, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (!route__is_alpha(c) && !route__is_digit(c) &&
		    (!c || !strchr("-._~!$&'()*+,;=:[]%@", c)))
			return false;
	}
	return true;
}

/*
 * Shared by normalize and match so that a pattern sees exactly the path the normalized route
 * was made from. Returns a target_form or -EINVAL; *path is set for FORM_PATH only.
 */
int route__split_target(const char *t, size_t len, const char **path, size_t *plen, int *flags)
{
	size_t n = 0, s, a;

	*flags = 0;
	while (n < len && t[n] != '?' && t[n] != '#')
		n++;
	/* A '?' after the '#' belongs to the fragment; a '#' after the '?' ends the query. */
	if (n < len && t[n] == '?')
		*flags |= ROUTE_HAD_QUERY;
	if (n < len && memchr(t + n, '#', len - n))
		*flags |= ROUTE_HAD_FRAGMENT;
	if (!n)
		return -EINVAL;
	if (t[0] == '/') {
		*path = t;
		*plen = n;
		return FORM_PATH;
	}
	if (n == 1 && t[0] == '*')
		return FORM_ASTERISK;
	s = scheme_len(t, n);
	if (s && n - s >= 3 && !memcmp(t + s, "://", 3)) {
		for (a = s + 3; a < n && t[a] != '/'; a++)
			;
		if (a == n) {
			*path = "/";
			*plen = 1;
		} else {
			*path = t + a;
			*plen = n - a;
		}
		return FORM_PATH;
	}
	if (is_authority(t, n))
		return FORM_AUTHORITY;
	return -EINVAL;
}

static int copy_str(char *out, size_t outsz, const char *s)
{
	size_t n = strlen(s);

	if (n < outsz) {
		memcpy(out, s, n + 1);
		return 0;
	}
	memcpy(out, s, outsz - 1);
	out[outsz - 1] = '\0';
	return ROUTE_TRUNCATED;
}

static size_t escaped_len(const char *p, size_t n)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		len += needs_escape(p[i]) ? 3 : 1;
	return len;
}

/* Copies whole characters of p (a %XX counts as one) while they fit in room bytes. */
static size_t escape(const char *p, size_t n, char *out, size_t room, int *flags)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (!needs_escape(c)) {
			if (o + 1 > room)
				break;
			out[o++] = c;
			continue;
		}
		if (o + 3 > room)
			break;
		out[o++] = '%';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 15];
		*flags |= ROUTE_ESCAPED;
	}
	return o;
}

static int normalize_path(const char *path, size_t plen, char *out, size_t outsz)
{
	size_t cap = outsz - 1, o = 0, i = 1, end;
	int flags = 0;

	for (;;) {
		const char *seg = path + i;
		const char *slash = memchr(seg, '/', plen - i);
		bool id;
		size_t need;

		end = slash ? (size_t)(slash - path) : plen;
		id = is_id(seg, end - i);
		need = 1 + (id ? 4 : escaped_len(seg, end - i));
		if (o + need > cap) {
			flags |= ROUTE_TRUNCATED;
			/* A lone giant first segment is still better shown in part than as "/". */
			if (!o && cap) {
				out[o++] = '/';
				if (!id)
					o += escape(seg, end - i, out + o, cap - o, &flags);
			}
			break;
		}
		out[o++] = '/';
		if (id) {
			memcpy(out + o, "{id}", 4);
			o += 4;
		} else {
			o += escape(seg, end - i, out + o, cap - o, &flags);
		}
		if (end == plen)
			break;
		i = end + 1;
	}
	out[o] = '\0';
	return flags;
}

int route__normalize(const char *target, size_t len, char *out, size_t outsz)
{
	const char *path = NULL;
	size_t plen = 0;
	int flags, form;

	if (!out || !outsz)
		return -EINVAL;
	out[0] = '\0';
	if (!target || !len)
		return -EINVAL;
	form = route__split_target(target, len, &path, &plen, &flags);
	switch (form) {
	case FORM_PATH:
		return flags | normalize_path(path, plen, out, outsz);
	case FORM_ASTERISK:
		return flags | copy_str(out, outsz, "*");
	case FORM_AUTHORITY:
		return flags | copy_str(out, outsz, "{authority}");
	default:
		return -EINVAL;
	}
}
