// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

#include "proto/route.h"

enum target_form {
	FORM_PATH, /* origin form, or absolute form reduced to its path */
	FORM_ASTERISK,
	FORM_AUTHORITY,
};

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_hex(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_uuid(const char *p, size_t n)
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
	if (is_uuid(p, n))
		return true;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (is_digit(c))
			has_digit = true;
		else
			digits = false;
		if (is_alpha(c))
			has_alpha = true;
		if (!is_hex(c))
			hex = false;
		if (!is_digit(c) && !is_alpha(c) && c != '-' && c != '_')
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

	if (!n || !is_alpha(p[0]))
		return 0;
	for (i = 1; i < n; i++)
		if (!is_alpha(p[i]) && !is_digit(p[i]) && p[i] != '+' && p[i] != '-' && p[i] != '.')
			break;
	return i;
}

static bool is_authority(const char *p, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (!is_alpha(c) && !is_digit(c) && (!c || !strchr("-._~!$&'()*+,;=:[]%@", c)))
			return false;
	}
	return true;
}

/*
 * Shared by normalize and match so that a pattern sees exactly the path the normalized route
 * was made from. Returns a target_form or -EINVAL; *path is set for FORM_PATH only.
 */
static int split_target(const char *t, size_t len, const char **path, size_t *plen, int *flags)
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
	form = split_target(target, len, &path, &plen, &flags);
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
	if (!n || is_digit(p[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_alpha(p[i]) && !is_digit(p[i]) && p[i] != '_')
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

	while (i < n && is_digit(p[i]))
		i++;
	if (!i)
		return false;
	if (i == n)
		return true;
	if (p[i++] != '.')
		return false;
	for (d = i; i < n && is_digit(p[i]); i++)
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
		for (i = 0; i < n && is_digit(p[i]); i++)
			;
		return n > 0 && i == n;
	case SEG_FLOAT:
		return is_float(p, n);
	case SEG_UUID:
		return is_uuid(p, n);
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

	if (!s || !path || !len || split_target(path, len, &p, &plen, &flags) != FORM_PATH)
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		if (pattern_match(s->pat[i], p, plen))
			return s->pat[i]->text;
	return NULL;
}

/*
 * Limiter: one open-addressing table of 64-bit keys. A value's key is a hash of its parent's
 * key and the value's bytes, and that key is also the key of the position below it, so one
 * entry serves as "value seen at the parent" and as "position with its own child count".
 */
#define LIMITER_MAX_PROBE 64
#define LIMITER_ROOT_TAG  0x73636f7065ull /* "scope": never a parent key in practice */

struct limiter_entry {
	uint64_t key;	 /* 0: empty */
	uint32_t nchild; /* distinct literal values seen below */
	uint32_t collapsed;
};

struct route_limiter {
	struct limiter_entry *tab;
	size_t mask;
	size_t used;
	size_t max_tracked;
	unsigned max_distinct;
	uint64_t k[2];
	uint64_t ncollapsed;
	uint64_t nuntracked;
};

#define ROTL64(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

static void sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = ROTL64(v[1], 13);
	v[1] ^= v[0];
	v[0] = ROTL64(v[0], 32);
	v[2] += v[3];
	v[3] = ROTL64(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = ROTL64(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = ROTL64(v[1], 17);
	v[1] ^= v[2];
	v[2] = ROTL64(v[2], 32);
}

static void sip_block(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sip_round(v);
	sip_round(v);
	v[0] ^= m;
}

/* SipHash-2-4 of the message le64(first) || p[0..n); keyed so crafted paths cannot collide. */
uint64_t route__siphash(const uint64_t k[2], uint64_t first, const char *p, size_t n)
{
	uint64_t v[4] = {
		0x736f6d6570736575ull ^ k[0],
		0x646f72616e646f6dull ^ k[1],
		0x6c7967656e657261ull ^ k[0],
		0x7465646279746573ull ^ k[1],
	};
	uint64_t m;
	size_t i, j;

	sip_block(v, first);
	for (i = 0; i + 8 <= n; i += 8) {
		for (m = 0, j = 0; j < 8; j++)
			m |= (uint64_t)(unsigned char)p[i + j] << (8 * j);
		sip_block(v, m);
	}
	m = (uint64_t)(n + 8) << 56;
	for (j = 0; i + j < n; j++)
		m |= (uint64_t)(unsigned char)p[i + j] << (8 * j);
	sip_block(v, m);
	v[2] ^= 0xff;
	for (j = 0; j < 4; j++)
		sip_round(v);
	m = v[0] ^ v[1] ^ v[2] ^ v[3];
	return m ? m : 1;
}

struct route_limiter *route_limiter__new(unsigned max_distinct, unsigned max_tracked)
{
	struct route_limiter *l;
	size_t cap = 8;

	if (!max_distinct)
		max_distinct = ROUTE_LIMIT_DISTINCT;
	if (!max_tracked)
		max_tracked = ROUTE_LIMIT_TRACKED;
	/* Load stays under 2/3, so probe runs stay short and LIMITER_MAX_PROBE is rarely hit. */
	while (cap < (size_t)max_tracked + max_tracked / 2)
		cap *= 2;
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->tab = calloc(cap, sizeof(*l->tab));
	if (!l->tab) {
		free(l);
		return NULL;
	}
	l->mask = cap - 1;
	l->max_tracked = max_tracked;
	l->max_distinct = max_distinct;
	if (getrandom(l->k, sizeof(l->k), GRND_NONBLOCK) != sizeof(l->k)) {
		struct timespec ts;

		/* Without entropy the table still works; it is only easier to attack. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		l->k[0] = (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)l;
		l->k[1] = (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)l->tab;
	}
	return l;
}

void route_limiter__free(struct route_limiter *l)
{
	if (!l)
		return;
	free(l->tab);
	free(l);
}

uint64_t route_limiter__collapsed(const struct route_limiter *l)
{
	return l ? l->ncollapsed : 0;
}

uint64_t route_limiter__untracked(const struct route_limiter *l)
{
	return l ? l->nuntracked : 0;
}

/* NULL when absent and either !insert or there is no room (table full or probe run too long). */
static struct limiter_entry *limiter_get(struct route_limiter *l, uint64_t key, bool insert)
{
	size_t i = key & l->mask;

	for (unsigned probe = 0; probe < LIMITER_MAX_PROBE && probe <= l->mask; probe++) {
		struct limiter_entry *e = &l->tab[(i + probe) & l->mask];

		if (e->key == key)
			return e;
		if (e->key)
			continue;
		if (!insert || l->used >= l->max_tracked)
			return NULL;
		e->key = key;
		l->used++;
		return e;
	}
	return NULL;
}

static bool is_placeholder(const char *p, size_t n)
{
	return n >= 2 && p[0] == '{' && p[n - 1] == '}';
}

/*
 * Puts "{*}" in place of route[at..at+n) and returns the new length. If the route would no
 * longer fit in sz, whole segments are dropped from its end first; if even that is not enough,
 * the route is cut before the segment and 0 is returned.
 */
static size_t replace_segment(char *route, size_t len, size_t sz, size_t at, size_t n)
{
	while (len - n + 3 >= sz && len > at + n) {
		char *slash = strrchr(route + at + n, '/');

		*slash = '\0';
		len = slash - route;
	}
	if (len - n + 3 < sz) {
		memmove(route + at + 3, route + at + n, len - at - n + 1);
		memcpy(route + at, "{*}", 3);
		return len - n + 3;
	}
	route[at > 1 ? at - 1 : 1] = '\0';
	return 0;
}

int route_limiter__apply(struct route_limiter *l, const char *scope, char *route, size_t sz)
{
	struct limiter_entry *node;
	uint64_t key;
	size_t len, at = 1;
	int changed = 0;

	if (!route || !sz)
		return -EINVAL;
	len = strnlen(route, sz);
	if (len == sz)
		return -EINVAL;
	if (!l || route[0] != '/')
		return 0;
	if (!scope)
		scope = "";
	key = route__siphash(l->k, LIMITER_ROOT_TAG, scope, strlen(scope));
	node = limiter_get(l, key, true);
	for (;;) {
		char *seg = route + at;
		char *slash = strchr(seg, '/');
		size_t n = slash ? (size_t)(slash - seg) : len - at;
		bool collapse = false, last = !slash;
		struct limiter_entry *child = NULL;
		uint64_t ckey = 0;

		if (is_placeholder(seg, n)) {
			ckey = route__siphash(l->k, key, seg, n);
			if (!last)
				child = limiter_get(l, ckey, true);
		} else if (!node) {
			collapse = true;
			l->nuntracked++;
		} else if (node->collapsed) {
			collapse = true;
		} else {
			ckey = route__siphash(l->k, key, seg, n);
			child = limiter_get(l, ckey, false);
			if (child) {
				/* seen before: keep */
			} else if (node->nchild >= l->max_distinct) {
				node->collapsed = 1;
				l->ncollapsed++;
				collapse = true;
			} else if ((child = limiter_get(l, ckey, true))) {
				node->nchild++;
			} else {
				collapse = true;
				l->nuntracked++;
			}
		}
		if (collapse) {
			changed = 1;
			len = replace_segment(route, len, sz, at, n);
			if (!len)
				break;
			n = 3;
			last = !route[at + n];
			ckey = route__siphash(l->k, key, "{*}", 3);
			if (!last)
				child = limiter_get(l, ckey, true);
		}
		if (last)
			break;
		key = ckey;
		node = child;
		at += n + 1;
	}
	return changed;
}
