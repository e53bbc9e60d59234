// SPDX-License-Identifier: GPL-2.0-only
/* User route patterns (--route): parsing, precedence and matching; route.h has the rules. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/route.h"
#include "proto/route_priv.h"

enum seg_kind {
	SEG_LITERAL,
	SEG_GLOB,
	SEG_PARAM,
	SEG_INT,
	SEG_FLOAT,
	SEG_UUID,
	SEG_PATH,
};

struct route_seg {
	uint16_t off; /* into route_pattern.text */
	uint16_t len;
	uint8_t kind;
};

struct route_pattern {
	char *text;
	unsigned nseg;
	unsigned nlit;
	unsigned npath;
	unsigned nglob;
	unsigned order;
	struct route_seg seg[ROUTE_PATTERN_MAX_SEGS];
};

/* Kept sorted by precedence so that the first pattern that matches is the answer. */
struct route_set {
	struct route_pattern **pat;
	size_t n;
	size_t cap;
	unsigned next_order;
};

struct route_set *route_set__new(void)
{
	return calloc(1, sizeof(struct route_set));
}

void route_set__free(struct route_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->pat[i]->text);
		free(s->pat[i]);
	}
	free(s->pat);
	free(s);
}

static int set_err(char *err, size_t errsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int set_err(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (err && errsz) {
		va_start(ap, fmt);
		vsnprintf(err, errsz, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool is_name(const char *p, size_t n)
{
	if (!n || route__is_digit(p[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!route__is_alpha(p[i]) && !route__is_digit(p[i]) && p[i] != '_')
			return false;
	return true;
}

static const struct {
	const char *name;
	enum seg_kind kind;
} route__converters[] = {
	{ "str", SEG_PARAM }, { "int", SEG_INT },   { "float", SEG_FLOAT },
	{ "uuid", SEG_UUID }, { "path", SEG_PATH },
};

/* Parses {name} or {name:conv} that is known to span the whole segment p[0..n). */
static int parse_param(struct route_pattern *rp, struct route_seg *sg, char *err, size_t errsz)
{
	const char *p = rp->text + sg->off + 1;
	size_t n = sg->len - 2, nlen;
	const char *colon = memchr(p, ':', n);
	unsigned i;

	if (!n)
		return set_err(err, errsz, "empty parameter '{}'");
	nlen = colon ? (size_t)(colon - p) : n;
	if (!is_name(p, nlen))
		return set_err(err, errsz,
			       "invalid parameter name in '%.*s': use [A-Za-z_][A-Za-z0-9_]*",
			       (int)sg->len, p - 1);
	for (i = 0; i < rp->nseg; i++) {
		const struct route_seg *o = &rp->seg[i];
		const char *q = rp->text + o->off + 1;
		const char *oc;
		size_t olen;

		if (o->kind < SEG_PARAM)
			continue;
		oc = memchr(q, ':', o->len - 2);
		olen = oc ? (size_t)(oc - q) : (size_t)o->len - 2;
		if (olen == nlen && !memcmp(q, p, nlen))
			return set_err(err, errsz, "duplicate parameter name '%.*s'", (int)nlen, p);
	}
	sg->kind = SEG_PARAM;
	if (!colon)
		return 0;
	for (i = 0; i < sizeof(route__converters) / sizeof(route__converters[0]); i++) {
		const char *c = route__converters[i].name;

		if (strlen(c) == n - nlen - 1 && !memcmp(c, colon + 1, n - nlen - 1)) {
			sg->kind = route__converters[i].kind;
			return 0;
		}
	}
	return set_err(err, errsz,
		       "unknown converter '%.*s' in '%.*s' (known: str, int, float, uuid, path)",
		       (int)(n - nlen - 1), colon + 1, (int)sg->len, p - 1);
}

static int parse_seg(struct route_pattern *rp, struct route_seg *sg, char *err, size_t errsz)
{
	const char *p = rp->text + sg->off;
	int depth = 0, pairs = 0;

	for (size_t i = 0; i < sg->len; i++) {
		if (p[i] == '{') {
			if (depth)
				return set_err(err, errsz, "nested braces in '%.*s'", (int)sg->len,
					       p);
			depth = 1;
			pairs++;
		} else if (p[i] == '}') {
			if (!depth)
				return set_err(err, errsz, "unbalanced braces in '%.*s'",
					       (int)sg->len, p);
			depth = 0;
		}
	}
	if (depth)
		return set_err(err, errsz, "unbalanced braces in '%.*s'", (int)sg->len, p);
	if (!pairs) {
		sg->kind = memchr(p, '*', sg->len) ? SEG_GLOB : SEG_LITERAL;
		return 0;
	}
	if (pairs > 1 || p[0] != '{' || p[sg->len - 1] != '}')
		return set_err(err, errsz, "a parameter must be a whole segment, not '%.*s'",
			       (int)sg->len, p);
	return parse_param(rp, sg, err, errsz);
}

static int parse_pattern(struct route_pattern *rp, char *err, size_t errsz)
{
	const char *t = rp->text;
	size_t len = strlen(t), i, start;

	for (i = 0; i < len; i++) {
		unsigned char c = t[i];

		if (c <= 0x20 || c == 0x7f)
			return set_err(err, errsz, "space or control byte at offset %zu", i);
		if (c == '?' || c == '#')
			return set_err(err, errsz,
				       "'%c' can never match: query and fragment are stripped "
				       "before matching",
				       c);
	}
	for (start = 1;; start = i + 1) {
		const char *slash = memchr(t + start, '/', len - start);
		struct route_seg *sg;
		int err_;

		i = slash ? (size_t)(slash - t) : len;
		if (rp->nseg == ROUTE_PATTERN_MAX_SEGS)
			return set_err(err, errsz, "more than %d segments", ROUTE_PATTERN_MAX_SEGS);
		sg = &rp->seg[rp->nseg];
		sg->off = start;
		sg->len = i - start;
		err_ = parse_seg(rp, sg, err, errsz);
		if (err_)
			return err_;
		rp->nseg++;
		if (sg->kind == SEG_LITERAL || sg->kind == SEG_GLOB)
			rp->nlit++;
		rp->nglob += sg->kind == SEG_GLOB;
		if (sg->kind == SEG_PATH) {
			rp->npath++;
			if (slash)
				return set_err(err, errsz, "'%.*s' must be the last segment",
					       (int)sg->len, t + sg->off);
		}
		if (!slash)
			break;
	}
	return 0;
}

/* Negative when a must be tried before b. */
static int precedes(const struct route_pattern *a, const struct route_pattern *b)
{
	if (a->nlit != b->nlit)
		return a->nlit > b->nlit ? -1 : 1;
	if (a->npath != b->npath)
		return a->npath < b->npath ? -1 : 1;
	if (a->nglob != b->nglob)
		return a->nglob < b->nglob ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

int route_set__add(struct route_set *s, const char *pattern, char *err, size_t errsz)
{
	struct route_pattern *rp;
	size_t len, at;
	int ret;

	if (err && errsz)
		err[0] = '\0';
	if (!s || !pattern)
		return set_err(err, errsz, "no pattern");
	len = strnlen(pattern, ROUTE_PATTERN_MAX + 1);
	if (pattern[0] != '/')
		return set_err(err, errsz, "must start with '/'");
	if (len > ROUTE_PATTERN_MAX)
		return set_err(err, errsz, "longer than %d bytes", ROUTE_PATTERN_MAX);

	rp = calloc(1, sizeof(*rp));
	if (!rp || !(rp->text = strdup(pattern))) {
		ret = -ENOMEM;
		set_err(err, errsz, "out of memory");
		goto err_free;
	}
	ret = parse_pattern(rp, err, errsz);
	if (ret)
		goto err_free;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		struct route_pattern **pat = realloc(s->pat, cap * sizeof(*pat));

		if (!pat) {
			ret = -ENOMEM;
			set_err(err, errsz, "out of memory");
			goto err_free;
		}
		s->pat = pat;
		s->cap = cap;
	}
	rp->order = s->next_order++;
	for (at = s->n; at > 0 && precedes(rp, s->pat[at - 1]) < 0; at--)
		;
	memmove(s->pat + at + 1, s->pat + at, (s->n - at) * sizeof(*s->pat));
	s->pat[at] = rp;
	s->n++;
	return 0;

err_free:
	if (rp)
		free(rp->text);
	free(rp);
	return ret;
}

static bool glob_match(const char *p, size_t pn, const char *s, size_t sn)
{
	size_t pi = 0, si = 0, star = SIZE_MAX, mark = 0;

	/* One backtrack point suffices for '*'-only globs: linear in practice, no recursion. */
	while (si < sn) {
		if (pi < pn && p[pi] == '*') {
			star = pi++;
			mark = si;
		} else if (pi < pn && p[pi] == s[si]) {
			pi++;
			si++;
		} else if (star != SIZE_MAX) {
			pi = star + 1;
			si = ++mark;
		} else {
			return false;
		}
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

static bool is_float(const char *p, size_t n)
{
	size_t i = 0, d;

	while (i < n && route__is_digit(p[i]))
		i++;
	if (!i)
		return false;
	if (i == n)
		return true;
	if (p[i++] != '.')
		return false;
	for (d = i; i < n && route__is_digit(p[i]); i++)
		;
	return i == n && i > d;
}

static bool seg_match(const struct route_pattern *rp, const struct route_seg *sg, const char *p,
		      size_t n)
{
	const char *lit = rp->text + sg->off;
	size_t i;

	switch (sg->kind) {
	case SEG_LITERAL:
		return n == sg->len && !memcmp(lit, p, n);
	case SEG_GLOB:
		return glob_match(lit, sg->len, p, n);
	case SEG_PARAM:
		return n > 0;
	case SEG_INT:
		for (i = 0; i < n && route__is_digit(p[i]); i++)
			;
		return n > 0 && i == n;
	case SEG_FLOAT:
		return is_float(p, n);
	case SEG_UUID:
		return route__is_uuid(p, n);
	default:
		return false;
	}
}

static bool pattern_match(const struct route_pattern *rp, const char *path, size_t plen)
{
	size_t i = 1, end;

	for (unsigned k = 0; k < rp->nseg; k++) {
		const struct route_seg *sg = &rp->seg[k];
		const char *slash;

		if (sg->kind == SEG_PATH)
			return i < plen;
		slash = memchr(path + i, '/', plen - i);
		end = slash ? (size_t)(slash - path) : plen;
		if (!seg_match(rp, sg, path + i, end - i))
			return false;
		if (!slash)
			return k + 1 == rp->nseg;
		i = end + 1;
	}
	return false;
}

const char *route_set__match(const struct route_set *s, const char *path, size_t len)
{
	const char *p = NULL;
	size_t plen = 0;
	int flags;

	if (!s || !path || !len || route__split_target(path, len, &p, &plen, &flags) != FORM_PATH)
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		if (pattern_match(s->pat[i], p, plen))
			return s->pat[i]->text;
	return NULL;
}
