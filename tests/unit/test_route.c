// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "proto/route.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Set: getrandom() fails, as it does without entropy early in boot (EAGAIN, GRND_NONBLOCK). */
static bool no_entropy;

/* Takes the place of the C library's in this binary, so that a test can take entropy away. */
ssize_t getrandom(void *buf, size_t buflen, unsigned int flags)
{
	if (no_entropy) {
		errno = EAGAIN;
		return -1;
	}
	return syscall(SYS_getrandom, buf, buflen, flags);
}

#define T ROUTE_TRUNCATED
#define Q ROUTE_HAD_QUERY
#define F ROUTE_HAD_FRAGMENT
#define E ROUTE_ESCAPED

struct norm_case {
	const char *in;
	size_t len;   /* 0: strlen(in) */
	size_t outsz; /* 0: ROUTE_MAX_LEN */
	const char *want;
	int ret;
};

static void check_norm(const struct norm_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char out[512];
		size_t len = c[i].len ? c[i].len : strlen(c[i].in);
		size_t outsz = c[i].outsz ? c[i].outsz : ROUTE_MAX_LEN;
		int ret;

		/* Canary after outsz: normalize must not write past it. */
		memset(out, 'Z', sizeof(out));
		ret = route__normalize(c[i].in, len, out, outsz);
		if (strcmp(out, c[i].want) || ret != c[i].ret)
			print_error("case %zu: input %.*s\n", i, (int)len, c[i].in);
		assert_string_equal(out, c[i].want);
		assert_int_equal(ret, c[i].ret);
		assert_true(strlen(out) < outsz);
		assert_int_equal(out[outsz], 'Z');
	}
}

static void test_norm_ids(void **state)
{
	static const struct norm_case c[] = {
		{ "/", 0, 0, "/", 0 },
		{ "/users/123", 0, 0, "/users/{id}", 0 },
		{ "/users/0/posts/456789", 0, 0, "/users/{id}/posts/{id}", 0 },
		{ "/12345678901234567890123456789", 0, 0, "/{id}", 0 },
		{ "/u/550e8400-e29b-41d4-a716-446655440000", 0, 0, "/u/{id}", 0 },
		{ "/u/550E8400-E29B-41D4-A716-446655440000/x", 0, 0, "/u/{id}/x", 0 },
		{ "/blob/deadbeefcafebabe", 0, 0, "/blob/{id}", 0 },
		{ "/blob/DEADBEEF0123456789abcdef01234567", 0, 0, "/blob/{id}", 0 },
		{ "/blob/0123456789abcdef", 0, 0, "/blob/{id}", 0 },
		/* 'A' is a hex digit too: 16 of them make an id where a token needs 20 */
		{ "/blob/A0123456789BCDEF", 0, 0, "/blob/{id}", 0 },
		{ "/t/AbCdEfGhIjKlMnOpQr5t", 0, 0, "/t/{id}", 0 },
		{ "/t/a_b-c_d-e_f-g_h-i_j1", 0, 0, "/t/{id}", 0 },
		{ "/t/dQw4w9WgXcQdQw4w9WgXcQ/raw", 0, 0, "/t/{id}/raw", 0 },
	};

	check_norm(c, ARRAY_SIZE(c));
}

static void test_norm_not_ids(void **state)
{
	static const struct norm_case c[] = {
		{ "/v1", 0, 0, "/v1", 0 },
		{ "/api/v2/users", 0, 0, "/api/v2/users", 0 },
		{ "/healthz", 0, 0, "/healthz", 0 },
		{ "/static/app.js", 0, 0, "/static/app.js", 0 },
		{ "/abc", 0, 0, "/abc", 0 },
		{ "/abc123", 0, 0, "/abc123", 0 },
		/* 15 hex characters, no digit: too short for hex, not a token */
		{ "/blob/deadbeefcafebab", 0, 0, "/blob/deadbeefcafebab", 0 },
		/* 19-character token */
		{ "/t/AbCdEfGhIjKlMnOpQr5", 0, 0, "/t/AbCdEfGhIjKlMnOpQr5", 0 },
		/* 20 letters and no digit: a word, not a token */
		{ "/docs/internationalization", 0, 0, "/docs/internationalization", 0 },
		{ "/t/____________________--", 0, 0, "/t/____________________--", 0 },
		/* '.' is not a token character: fingerprinted assets are left to the limiter */
		{ "/static/app.3f2a9c1d8e7b6a5f.js", 0, 0, "/static/app.3f2a9c1d8e7b6a5f.js", 0 },
		{ "/u/550e8400-e29b-41d4-a716-44665544000", 0, 0, "/u/{id}", 0 }, /* token rule */
		/* 36 bytes, but not a UUID's */
		{ "/u/static.app-min.js.and.some.more.txts", 0, 0,
		  "/u/static.app-min.js.and.some.more.txts", 0 },
		{ "/x/-1", 0, 0, "/x/-1", 0 },
		{ "/x/1.5", 0, 0, "/x/1.5", 0 },
		/* no percent-decoding, no case folding */
		{ "/a%20b/CamelCase", 0, 0, "/a%20b/CamelCase", 0 },
		{ "/a/../b/./c", 0, 0, "/a/../b/./c", 0 },
	};

	check_norm(c, ARRAY_SIZE(c));
}

static void test_norm_query_fragment(void **state)
{
	static const struct norm_case c[] = {
		{ "/search?q=secret", 0, 0, "/search", Q },
		{ "/users/42?token=abc&x=1", 0, 0, "/users/{id}", Q },
		{ "/a?", 0, 0, "/a", Q },
		{ "/a#frag", 0, 0, "/a", F },
		{ "/a?b=1#c", 0, 0, "/a", Q | F },
		/* '?' inside the fragment is not a query */
		{ "/a#b?c", 0, 0, "/a", F },
		{ "/?q", 0, 0, "/", Q },
		{ "/a/?q", 0, 0, "/a/", Q },
		/* the query's own bytes are never looked at, even if they need escaping */
		{ "/a?\x01\"", 0, 0, "/a", Q },
	};

	check_norm(c, ARRAY_SIZE(c));
}

static void test_norm_forms(void **state)
{
	static const struct norm_case c[] = {
		{ "http://example.com:8080/path?q=1", 0, 0, "/path", Q },
		{ "https://example.com", 0, 0, "/", 0 },
		{ "http://", 0, 0, "/", 0 },
		{ "http://example.com?x=1", 0, 0, "/", Q },
		{ "HTTP://Example.COM/Users/17/", 0, 0, "/Users/{id}/", 0 },
		{ "http://user@h:1/a//b", 0, 0, "/a//b", 0 },
		/* a scheme of one letter, and one with a digit, '+', '-' and '.' after the first */
		{ "h://x/a", 0, 0, "/a", 0 },
		{ "s3+a-b.c://x/a", 0, 0, "/a", 0 },
		{ "*", 0, 0, "*", 0 },
		{ "example.com:443", 0, 0, "{authority}", 0 },
		{ "[::1]:8443", 0, 0, "{authority}", 0 },
		{ "//", 0, 0, "//", 0 },
		{ "/a//b/", 0, 0, "/a//b/", 0 },
		{ "/a/", 0, 0, "/a/", 0 },
		/* len, not the NUL, ends the input */
		{ "/users/123XYZ", 10, 0, "/users/{id}", 0 },
		{ "/a\0b", 4, 0, "/a%00b", E },
	};

	check_norm(c, ARRAY_SIZE(c));
}

static void test_norm_escape(void **state)
{
	static const struct norm_case c[] = {
		{ "/a b", 0, 0, "/a%20b", E },
		{ "/a\tb\r\n", 0, 0, "/a%09b%0D%0A", E },
		{ "/\x7f\x80\xff", 0, 0, "/%7F%80%FF", E },
		{ "/caf\xc3\xa9", 0, 0, "/caf%C3%A9", E },
		{ "/\"x\\", 0, 0, "/%22x%5C", E },
		/* raw braces cannot pass for placeholders */
		{ "/{id}", 0, 0, "/%7Bid%7D", E },
		{ "/12 3", 0, 0, "/12%203", E },
		{ "/a b?q", 0, 0, "/a%20b", E | Q },
		/* printable ASCII other than " \ { } is kept: '!' and '~' are the ends of it */
		{ "/~user/!x", 0, 0, "/~user/!x", 0 },
		{ "/%41'()*+,;=:@$&[]", 0, 0, "/%41'()*+,;=:@$&[]", 0 },
	};

	check_norm(c, ARRAY_SIZE(c));
}

static void test_norm_truncate(void **state)
{
	static const struct norm_case c[] = {
		/* exactly fits */
		{ "/users/123", 0, 12, "/users/{id}", 0 },
		{ "/users/123/profile", 0, 12, "/users/{id}", T },
		{ "/users/123/profile", 0, 11, "/users", T },
		{ "/users/123/profile", 0, 20, "/users/{id}/profile", 0 },
		{ "/users/123/profile?x", 0, 12, "/users/{id}", T | Q },
		/* a first segment too long on its own is cut inside */
		{ "/abcdefghij", 0, 6, "/abcd", T },
		/* never inside a %XX */
		{ "/ab\001cd", 0, 5, "/ab", T },
		{ "/ab\001cd", 0, 7, "/ab%01", T | E },
		/* a %XX counts 3 bytes towards the fit: exactly, and one short */
		{ "/x/a b", 0, 9, "/x/a%20b", E },
		{ "/x/a b", 0, 8, "/x", T },
		/* an id does not fit in part */
		{ "/123456", 0, 4, "/", T },
		{ "/a", 0, 1, "", T },
		{ "/a", 0, 2, "/", T },
		{ "*", 0, 1, "", T },
		{ "host:1", 0, 6, "{auth", T },
		/* the trailing empty segment is a segment too */
		{ "/abc/", 0, 5, "/abc", T },
	};

	check_norm(c, ARRAY_SIZE(c));
}

static void test_norm_truncate_128(void **state)
{
	char in[400], out[ROUTE_MAX_LEN + 1];
	size_t n = 0;
	int ret;

	/* "/seg00/seg01/..." 6 bytes per segment: 21 whole segments fit in 127 bytes. */
	for (int i = 0; i < 60; i++)
		n += sprintf(in + n, "/seg%02d", i);
	out[ROUTE_MAX_LEN] = 'Z';
	ret = route__normalize(in, n, out, ROUTE_MAX_LEN);
	assert_int_equal(ret, T);
	assert_int_equal(strlen(out), 21 * 6);
	assert_memory_equal(out, in, 21 * 6);
	assert_int_equal(out[ROUTE_MAX_LEN], 'Z');
}

static void test_norm_invalid(void **state)
{
	static const struct {
		const char *in;
		size_t len;
	} c[] = {
		{ "", 0 },
		{ "?q=1", 4 },
		{ "#f", 2 },
		{ "foo/bar", 7 },
		{ "GET / HTTP/1.1", 14 },
		{ "\x16\x03\x01\x02", 4 },
		{ "http:/x", 7 },
		{ "host\0:443", 9 },
		/* a scheme starts with a letter and has no '~' */
		{ "1http://x/a", 11 },
		{ "h~ttp://x/a", 11 },
	};
	char out[16];

	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		strcpy(out, "junk");
		assert_int_equal(route__normalize(c[i].in, c[i].len, out, sizeof(out)), -EINVAL);
		assert_string_equal(out, "");
	}
	assert_int_equal(route__normalize(NULL, 0, out, sizeof(out)), -EINVAL);
	assert_int_equal(route__normalize("/a", 2, out, 0), -EINVAL);
	assert_int_equal(route__normalize("/a", 2, NULL, 8), -EINVAL);
}

static void test_norm_random_is_safe(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	char in[64], out[ROUTE_MAX_LEN];

	/* Whatever the bytes, the route is printable, JSON-safe and brace-free. */
	for (int round = 0; round < 20000; round++) {
		size_t n = 1 + round % sizeof(in);
		int ret;

		for (size_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			in[i] = (char)(x & 0xff);
		}
		in[0] = '/';
		ret = route__normalize(in, n, out, sizeof(out));
		assert_true(ret >= 0);
		for (const char *p = out; *p; p++) {
			assert_true(*p >= 0x21 && *p < 0x7f);
			assert_true(*p != '"' && *p != '\\');
		}
		for (const char *p = strchr(out, '{'); p; p = strchr(p + 1, '{'))
			assert_memory_equal(p, "{id}", 4);
	}
}

struct err_case {
	const char *pattern;
	const char *err;
};

static void test_set_errors(void **state)
{
	static const struct err_case c[] = {
		{ "users", "must start with '/'" },
		{ "", "must start with '/'" },
		{ "*", "must start with '/'" },
		{ "/a/{b", "unbalanced braces in '{b'" },
		{ "/a/b}", "unbalanced braces in 'b}'" },
		{ "/{a/b}", "unbalanced braces in '{a'" },
		{ "/a/{{b}}", "nested braces in '{{b}}'" },
		{ "/a/{}", "empty parameter '{}'" },
		{ "/a{b}", "a parameter must be a whole segment, not 'a{b}'" },
		{ "/{a}.json", "a parameter must be a whole segment, not '{a}.json'" },
		{ "/{a}{b}", "a parameter must be a whole segment, not '{a}{b}'" },
		{ "/{p:path}/x", "'{p:path}' must be the last segment" },
		{ "/{x:foo}",
		  "unknown converter 'foo' in '{x:foo}' (known: str, int, float, uuid, path)" },
		{ "/{x:}", "unknown converter '' in '{x:}' (known: str, int, float, uuid, path)" },
		{ "/{1x}", "invalid parameter name in '{1x}': use [A-Za-z_][A-Za-z0-9_]*" },
		{ "/{a-b}", "invalid parameter name in '{a-b}': use [A-Za-z_][A-Za-z0-9_]*" },
		{ "/{-a}", "invalid parameter name in '{-a}': use [A-Za-z_][A-Za-z0-9_]*" },
		{ "/{:int}", "invalid parameter name in '{:int}': use [A-Za-z_][A-Za-z0-9_]*" },
		{ "/{x}/{x:int}", "duplicate parameter name 'x'" },
		{ "/{x:int}/{x}", "duplicate parameter name 'x'" },
		{ "/{x:int}/{y}/{x:str}", "duplicate parameter name 'x'" },
		{ "/a b", "space or control byte at offset 2" },
		{ "/ab\x7f", "space or control byte at offset 3" },
		{ "/\x01", "space or control byte at offset 1" },
		{ "/a?b=1",
		  "'?' can never match: query and fragment are stripped before matching" },
		{ "/a#b", "'#' can never match: query and fragment are stripped before matching" },
	};
	struct route_set *s = route_set__new();
	char err[160];

	assert_non_null(s);
	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		strcpy(err, "junk");
		assert_int_equal(route_set__add(s, c[i].pattern, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, c[i].err);
	}
	/* '~' and '!' (0x7e, 0x21) are printable: fine in a pattern */
	assert_int_equal(route_set__add(s, "/~me/!x", err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(route_set__match(s, "/~me/!x", 7), "/~me/!x");
	route_set__free(s);
	s = route_set__new();
	/* Nothing was added: nothing matches. */
	assert_null(route_set__match(s, "/a/b", 4));
	assert_null(route_set__match(s, "/users", 6));
	/* err is optional, and a short one is cut, not overrun */
	assert_int_equal(route_set__add(s, "x", NULL, 0), -EINVAL);
	memset(err, 'Z', sizeof(err));
	assert_int_equal(route_set__add(s, "x", err, 5), -EINVAL);
	assert_string_equal(err, "must");
	assert_int_equal(err[5], 'Z');
	assert_int_equal(route_set__add(s, NULL, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "no pattern");
	/* no err, but a size: nothing written */
	assert_int_equal(route_set__add(s, "/ok", NULL, sizeof(err)), 0);
	assert_int_equal(route_set__add(s, "x", NULL, sizeof(err)), -EINVAL);
	route_set__free(s);
}

static void test_set_limits(void **state)
{
	struct route_set *s = route_set__new();
	char p[400], err[128];
	size_t n;

	/* 256 bytes is fine, 257 is not */
	memset(p, 'a', sizeof(p));
	p[0] = '/';
	p[ROUTE_PATTERN_MAX] = '\0';
	assert_int_equal(route_set__add(s, p, err, sizeof(err)), 0);
	assert_string_equal(route_set__match(s, p, ROUTE_PATTERN_MAX), p);
	p[ROUTE_PATTERN_MAX] = 'a';
	p[ROUTE_PATTERN_MAX + 1] = '\0';
	assert_int_equal(route_set__add(s, p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "longer than 256 bytes");

	/* 64 segments are fine, 65 are not */
	for (n = 0; n < 64 * 2; n += 2)
		memcpy(p + n, "/a", 2);
	p[n] = '\0';
	assert_int_equal(route_set__add(s, p, err, sizeof(err)), 0);
	assert_string_equal(route_set__match(s, p, n), p);
	strcpy(p + n, "/a");
	assert_int_equal(route_set__add(s, p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "more than 64 segments");
	route_set__free(s);
}

struct match_case {
	const char *path;
	const char *want; /* NULL: no match */
};

static struct route_set *set_of(const char *const *patterns, size_t n)
{
	struct route_set *s = route_set__new();
	char err[128];

	assert_non_null(s);
	for (size_t i = 0; i < n; i++) {
		int ret = route_set__add(s, patterns[i], err, sizeof(err));

		if (ret)
			print_error("%s: %s\n", patterns[i], err);
		assert_int_equal(ret, 0);
	}
	return s;
}

static void check_match(const struct route_set *s, const struct match_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *got = route_set__match(s, c[i].path, strlen(c[i].path));

		if (got != c[i].want && (!got || !c[i].want || strcmp(got, c[i].want)))
			print_error("case %zu: path %s\n", i, c[i].path);
		if (!c[i].want)
			assert_null(got);
		else
			assert_string_equal(got ? got : "(null)", c[i].want);
	}
}

static void test_set_precedence(void **state)
{
	static const char *const pats[] = {
		"/{rest:path}",	   "/users/{id}",   "/users/me",    "/users/{id}/posts",
		"/files/{p:path}", "/files/{name}", "/static/*.js", "/static/app.js",
		"/items/{n:int}",  "/items/{n}",    "/a/{x}",	    "/a/{y}",
		"/b/{y}/c",	   "/b/x/{z}",
	};
	static const struct match_case c[] = {
		/* more literal segments win, whatever the order of declaration */
		{ "/users/me", "/users/me" },
		{ "/users/42", "/users/{id}" },
		{ "/users/42/posts?x=1", "/users/{id}/posts" },
		/* {id} needs a non-empty segment; {rest:path} a non-empty rest */
		{ "/users/", "/{rest:path}" },
		{ "/", NULL },
		/* then fewer path captures */
		{ "/files/a", "/files/{name}" },
		{ "/files/a/b/", "/files/{p:path}" },
		{ "/files", "/{rest:path}" },
		{ "/files/", "/{rest:path}" },
		/* then fewer globs */
		{ "/static/app.js", "/static/app.js" },
		{ "/static/vendor.js", "/static/*.js" },
		{ "/static/app.css", "/{rest:path}" },
		/* then declaration order */
		{ "/items/12", "/items/{n:int}" },
		{ "/items/abc", "/items/{n}" },
		{ "/a/1", "/a/{x}" },
		{ "/b/x/c", "/b/{y}/c" },
		/* targets are reduced like route__normalize() does */
		{ "http://h:80/users/me?x#y", "/users/me" },
		{ "/users/me#frag", "/users/me" },
		{ "*", NULL },
		{ "example.com:443", NULL },
		{ "?q", NULL },
	};
	struct route_set *s = set_of(pats, ARRAY_SIZE(pats));

	check_match(s, c, ARRAY_SIZE(c));
	route_set__free(s);
}

static void test_set_order_reversed(void **state)
{
	static const char *const pats[] = { "/a/{y}", "/a/{x}", "/items/{n}", "/items/{n:int}" };
	static const struct match_case c[] = {
		{ "/a/1", "/a/{y}" },
		{ "/items/12", "/items/{n}" },
	};
	struct route_set *s = set_of(pats, ARRAY_SIZE(pats));

	check_match(s, c, ARRAY_SIZE(c));
	route_set__free(s);
}

static void test_set_segments(void **state)
{
	static const char *const pats[] = {
		"/",	  "/p/{x:path}",  "/glob/*",	  "/g2/*b*c",	"/g3/x*",
		"/g4/**", "/u/{id:uuid}", "/f/{v:float}", "/s/{v:str}", "/users/me",
		"/t//x",  "/e/",	  "/g5/ab*ba",	  "/i/{v:int}",
	};
	static const struct match_case c[] = {
		{ "/", "/" },
		{ "/p/a", "/p/{x:path}" },
		{ "/p/a/b/c", "/p/{x:path}" },
		{ "/p//", "/p/{x:path}" },
		{ "/p/", NULL },
		{ "/p", NULL },
		{ "/glob/", "/glob/*" },
		{ "/glob/x.y", "/glob/*" },
		{ "/glob/x/y", NULL },
		{ "/g2/xbyc", "/g2/*b*c" },
		{ "/g2/bc", "/g2/*b*c" },
		{ "/g2/abcbcbd", NULL },
		{ "/g2/abcbcbc", "/g2/*b*c" },
		{ "/g2/b", NULL },
		{ "/g3/x", "/g3/x*" },
		{ "/g3/xyz", "/g3/x*" },
		{ "/g3/yx", NULL },
		{ "/g3/x/y", NULL },
		{ "/g4/", "/g4/**" },
		/* what comes after a '*' matches after what came before it, never over it */
		{ "/g5/aba", NULL },
		{ "/g5/abba", "/g5/ab*ba" },
		{ "/i/12", "/i/{v:int}" },
		{ "/i/x1", NULL },
		{ "/i/", NULL },
		{ "/u/550e8400-E29B-41d4-a716-446655440000", "/u/{id:uuid}" },
		{ "/u/550e8400-e29b-41d4-a716-44665544000", NULL },
		{ "/f/1", "/f/{v:float}" },
		{ "/f/1.25", "/f/{v:float}" },
		{ "/f/1.", NULL },
		{ "/f/.5", NULL },
		{ "/f/1e3", NULL },
		{ "/s/anything%2Fhere", "/s/{v:str}" },
		{ "/s/", NULL },
		/* case-sensitive, no decoding */
		{ "/Users/me", NULL },
		{ "/users/m%65", NULL },
		{ "/users/me/", NULL },
		{ "/t//x", "/t//x" },
		{ "/t/x", NULL },
		{ "/e/", "/e/" },
		{ "/e", NULL },
	};
	struct route_set *s = set_of(pats, ARRAY_SIZE(pats));

	check_match(s, c, ARRAY_SIZE(c));
	/* the returned string is the set's copy of the pattern, as written */
	{
		char pat[] = "/copy/{x}";
		struct route_set *t = route_set__new();
		const char *got;

		assert_int_equal(route_set__add(t, pat, NULL, 0), 0);
		pat[1] = 'X';
		got = route_set__match(t, "/copy/1", 7);
		assert_string_equal(got, "/copy/{x}");
		assert_ptr_not_equal(got, pat);
		route_set__free(t);
	}
	assert_null(route_set__match(NULL, "/", 1));
	assert_null(route_set__match(s, NULL, 0));
	assert_null(route_set__match(s, NULL, 5));
	route_set__free(s);
	route_set__free(NULL);
}

static void test_set_many(void **state)
{
	struct route_set *s = route_set__new();
	char p[64];

	/* Growth past the initial capacity keeps the order. */
	for (int i = 0; i < 100; i++) {
		snprintf(p, sizeof(p), "/r%d/{x}", i);
		assert_int_equal(route_set__add(s, p, NULL, 0), 0);
	}
	assert_int_equal(route_set__add(s, "/{a}/{b}", NULL, 0), 0);
	assert_int_equal(route_set__add(s, "/r42/lit", NULL, 0), 0);
	assert_string_equal(route_set__match(s, "/r42/lit", 8), "/r42/lit");
	assert_string_equal(route_set__match(s, "/r42/zz", 7), "/r42/{x}");
	assert_string_equal(route_set__match(s, "/r999/zz", 8), "/{a}/{b}");
	route_set__free(s);
}

/* The target ends at len, not at a NUL: bytes after it are no part of the last segment. */
static void test_set_match_target_ends_at_len(void **state)
{
	static const char *const pats[] = { "/f/{v:float}", "/i/{n:int}", "/l/ab", "/g/a*b" };
	static const struct {
		const char *target;
		size_t len;
		const char *want;
	} c[] = {
		{ "/f/12", 4, "/f/{v:float}" },	  /* "/f/1" */
		{ "/f/1.25", 6, "/f/{v:float}" }, /* "/f/1.2" */
		{ "/f/1.5", 5, NULL },		  /* "/f/1." */
		{ "/i/12", 4, "/i/{n:int}" },
		{ "/i/1x", 4, "/i/{n:int}" },
		{ "/l/abc", 5, "/l/ab" },
		{ "/l/ab", 4, NULL },
		{ "/g/abb", 5, "/g/a*b" },
		{ "/g/abc", 5, "/g/a*b" },
		{ "/g/acb", 5, NULL },
	};
	struct route_set *s = set_of(pats, ARRAY_SIZE(pats));

	/*
	 * Each target twice: as given, with the rest of the string after len, then as exactly len
	 * bytes on the heap, where a sanitizer build sees a read past them.
	 */
	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		char *t = malloc(c[i].len);

		assert_non_null(t);
		memcpy(t, c[i].target, c[i].len);
		for (int heap = 0; heap < 2; heap++) {
			const char *got = route_set__match(s, heap ? t : c[i].target, c[i].len);

			if (!c[i].want != !got)
				print_error("case %zu: %.*s\n", i, (int)c[i].len, c[i].target);
			if (c[i].want)
				assert_string_equal(got ? got : "(null)", c[i].want);
			else
				assert_null(got);
		}
		free(t);
	}
	route_set__free(s);
}

static int apply(struct route_limiter *l, const char *scope, const char *in, char *out, size_t sz)
{
	snprintf(out, sz, "%s", in);
	return route_limiter__apply(l, scope, out, sz);
}

static void test_limit_files(void **state)
{
	struct route_limiter *l = route_limiter__new(0, 0);
	char in[64], r[ROUTE_MAX_LEN];

	assert_non_null(l);
	for (int i = 0; i < 100; i++) {
		snprintf(in, sizeof(in), "/files/name%d", i);
		assert_int_equal(apply(l, "svc\tGET", in, r, sizeof(r)), 0);
		assert_string_equal(r, in);
		/* seen values stay as they are */
		assert_int_equal(apply(l, "svc\tGET", in, r, sizeof(r)), 0);
	}
	assert_int_equal(route_limiter__collapsed(l), 0);
	assert_int_equal(apply(l, "svc\tGET", "/files/name100", r, sizeof(r)), 1);
	assert_string_equal(r, "/files/{*}");
	assert_int_equal(route_limiter__collapsed(l), 1);
	assert_int_equal(apply(l, "svc\tGET", "/files/name101", r, sizeof(r)), 1);
	assert_string_equal(r, "/files/{*}");
	/* earlier values collapse on their next occurrence */
	assert_int_equal(apply(l, "svc\tGET", "/files/name0", r, sizeof(r)), 1);
	assert_string_equal(r, "/files/{*}");
	assert_int_equal(route_limiter__collapsed(l), 1);
	/* the parent itself is still one of few values */
	assert_int_equal(apply(l, "svc\tGET", "/files", r, sizeof(r)), 0);
	assert_string_equal(r, "/files");
	assert_int_equal(apply(l, "svc\tGET", "/other/x", r, sizeof(r)), 0);
	assert_string_equal(r, "/other/x");
	/* placeholders pass and are not counted */
	assert_int_equal(apply(l, "svc\tGET", "/files/{id}", r, sizeof(r)), 0);
	assert_string_equal(r, "/files/{id}");
	/* other scopes are independent */
	assert_int_equal(apply(l, "svc\tPOST", "/files/name0", r, sizeof(r)), 0);
	assert_string_equal(r, "/files/name0");
	assert_int_equal(apply(l, "svc2\tGET", "/files/name150", r, sizeof(r)), 0);
	assert_string_equal(r, "/files/name150");
	assert_int_equal(route_limiter__untracked(l), 0);
	route_limiter__free(l);
}

static void test_limit_placeholders_not_counted(void **state)
{
	struct route_limiter *l = route_limiter__new(3, 1000);
	char r[ROUTE_MAX_LEN];

	assert_int_equal(apply(l, "s", "/u/a", r, sizeof(r)), 0);
	assert_int_equal(apply(l, "s", "/u/{id}", r, sizeof(r)), 0);
	assert_int_equal(apply(l, "s", "/u/{*}", r, sizeof(r)), 0);
	assert_int_equal(apply(l, "s", "/u/{}", r, sizeof(r)), 0); /* any {...}, even empty */
	assert_int_equal(apply(l, "s", "/u/b", r, sizeof(r)), 0);
	assert_int_equal(apply(l, "s", "/u/c", r, sizeof(r)), 0);
	assert_string_equal(r, "/u/c");
	assert_int_equal(apply(l, "s", "/u/d", r, sizeof(r)), 1);
	assert_string_equal(r, "/u/{*}");
	assert_int_equal(apply(l, "s", "/u/{id}", r, sizeof(r)), 0);
	assert_string_equal(r, "/u/{id}");
	/* values below a placeholder are tracked like any other position */
	assert_int_equal(apply(l, "s", "/u/{id}/p1", r, sizeof(r)), 0);
	assert_int_equal(apply(l, "s", "/u/{id}/p2", r, sizeof(r)), 0);
	assert_int_equal(apply(l, "s", "/u/{id}/p3", r, sizeof(r)), 0);
	assert_int_equal(apply(l, "s", "/u/{id}/p4", r, sizeof(r)), 1);
	assert_string_equal(r, "/u/{id}/{*}");
	assert_int_equal(route_limiter__collapsed(l), 2);
	route_limiter__free(l);
}

static void test_limit_nested(void **state)
{
	struct route_limiter *l = route_limiter__new(100, 100000);
	char in[64], r[ROUTE_MAX_LEN];

	/* many names above a fixed leaf: collapse at the name, keep the leaf */
	for (int i = 0; i < 150; i++) {
		snprintf(in, sizeof(in), "/files/d%d/x", i);
		assert_int_equal(apply(l, "s", in, r, sizeof(r)), i >= 100);
		assert_string_equal(r, i < 100 ? in : "/files/{*}/x");
	}
	assert_int_equal(route_limiter__collapsed(l), 1);
	/* below the collapsed position values are counted anew: "x" and 99 more */
	for (int i = 0; i < 100; i++) {
		snprintf(in, sizeof(in), "/files/new%d/v%d", i, i);
		assert_int_equal(apply(l, "s", in, r, sizeof(r)), 1);
		snprintf(in, sizeof(in), "/files/{*}/v%d", i);
		assert_string_equal(r, i < 99 ? in : "/files/{*}/{*}");
	}
	assert_int_equal(route_limiter__collapsed(l), 2);

	/* many leaves under one name: collapse at the leaf only */
	for (int i = 0; i < 120; i++) {
		snprintf(in, sizeof(in), "/docs/a/p%d", i);
		assert_int_equal(apply(l, "s", in, r, sizeof(r)), i >= 100);
		assert_string_equal(r, i < 100 ? in : "/docs/a/{*}");
	}
	assert_int_equal(apply(l, "s", "/docs/b/p1", r, sizeof(r)), 0);
	assert_string_equal(r, "/docs/b/p1");
	assert_int_equal(apply(l, "s", "/docs/a/", r, sizeof(r)), 1);
	assert_string_equal(r, "/docs/a/{*}");
	assert_int_equal(route_limiter__collapsed(l), 3);
	route_limiter__free(l);
}

static void test_limit_memory_bound(void **state)
{
	/* 4 entries: the scope and three values */
	struct route_limiter *l = route_limiter__new(100, 4);
	char r[ROUTE_MAX_LEN];

	assert_int_equal(apply(l, "s", "/a", r, sizeof(r)), 0);
	assert_int_equal(apply(l, "s", "/b", r, sizeof(r)), 0);
	assert_int_equal(apply(l, "s", "/c", r, sizeof(r)), 0);
	assert_string_equal(r, "/c");
	assert_int_equal(route_limiter__untracked(l), 0);
	/* full: new values become {*}, known ones stay */
	assert_int_equal(apply(l, "s", "/d", r, sizeof(r)), 1);
	assert_string_equal(r, "/{*}");
	assert_int_equal(apply(l, "s", "/a", r, sizeof(r)), 0);
	assert_string_equal(r, "/a");
	assert_int_equal(apply(l, "s", "/a/x", r, sizeof(r)), 1);
	assert_string_equal(r, "/a/{*}");
	/* below an untracked position every literal is {*}, placeholders stay */
	assert_int_equal(apply(l, "s", "/e/f/{id}/g", r, sizeof(r)), 1);
	assert_string_equal(r, "/{*}/{*}/{id}/{*}");
	/* a new scope cannot even be tracked */
	assert_int_equal(apply(l, "t", "/a", r, sizeof(r)), 1);
	assert_string_equal(r, "/{*}");
	assert_int_equal(route_limiter__untracked(l), 6);
	assert_int_equal(route_limiter__collapsed(l), 0);
	route_limiter__free(l);
}

static void test_limit_leaf_placeholder_free(void **state)
{
	/* The scope, "a" and "b": a placeholder at the end of a route takes no entry. */
	struct route_limiter *l = route_limiter__new(100, 3);
	char r[ROUTE_MAX_LEN];

	assert_int_equal(apply(l, "s", "/a/{id}", r, sizeof(r)), 0);
	assert_int_equal(apply(l, "s", "/a/{*}", r, sizeof(r)), 0);
	assert_int_equal(apply(l, "s", "/b", r, sizeof(r)), 0);
	assert_string_equal(r, "/b");
	assert_int_equal(apply(l, "s", "/c", r, sizeof(r)), 1);
	assert_string_equal(r, "/{*}");
	route_limiter__free(l);
}

static void test_limit_memory_bound_large(void **state)
{
	struct route_limiter *l = route_limiter__new(1000000, 1000);
	char in[64], r[ROUTE_MAX_LEN];
	int kept = 0;

	for (int i = 0; i < 5000; i++) {
		snprintf(in, sizeof(in), "/k/v%d", i);
		if (!apply(l, "s", in, r, sizeof(r)))
			kept++;
		else
			assert_string_equal(r, "/k/{*}");
	}
	/* the scope, "k" and 998 values, minus what the probe limit refused */
	assert_true(kept <= 998);
	assert_true(kept >= 990);
	assert_int_equal(route_limiter__untracked(l), 5000 - kept);
	route_limiter__free(l);
}

static void test_limit_edges(void **state)
{
	struct route_limiter *l = route_limiter__new(1, 100);
	char r[ROUTE_MAX_LEN], buf[8];

	assert_int_equal(apply(l, "s", "*", r, sizeof(r)), 0);
	assert_string_equal(r, "*");
	assert_int_equal(apply(l, "s", "{authority}", r, sizeof(r)), 0);
	assert_int_equal(apply(l, "s", "/", r, sizeof(r)), 0);
	assert_string_equal(r, "/");
	/* "" was the first value at the root of s: the next one collapses */
	assert_int_equal(apply(l, "s", "/a/b", r, sizeof(r)), 1);
	assert_string_equal(r, "/{*}/b");
	assert_int_equal(apply(NULL, "s", "/a", r, sizeof(r)), 0);
	assert_int_equal(apply(l, NULL, "/x", r, sizeof(r)), 0);
	assert_string_equal(r, "/x");

	/* a longer route must still fit its buffer */
	assert_int_equal(apply(l, "s", "/a/b", buf, 5), 1);
	assert_string_equal(buf, "/{*}");
	assert_int_equal(apply(l, "s", "/a", buf, 4), 1);
	assert_string_equal(buf, "/");
	assert_int_equal(apply(l, "x", "/a", buf, sizeof(buf)), 0);
	assert_int_equal(apply(l, "x", "/b/cd/e", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "/{*}/cd");
	/* below the root, a {*} that does not fit ends the route before its '/' */
	assert_int_equal(apply(l, "y", "/ab/x", r, sizeof(r)), 0);
	assert_int_equal(apply(l, "y", "/ab/cd", buf, 7), 1);
	assert_string_equal(buf, "/ab");
	assert_int_equal(apply(l, "y", "/ab/cd", buf, 8), 1);
	assert_string_equal(buf, "/ab/{*}");

	assert_int_equal(route_limiter__apply(l, "s", NULL, 8), -EINVAL);
	assert_int_equal(route_limiter__apply(l, "s", buf, 0), -EINVAL);
	memcpy(buf, "/abcdefg", 8);
	assert_int_equal(route_limiter__apply(l, "s", buf, 8), -EINVAL);
	assert_int_equal(route_limiter__collapsed(NULL), 0);
	assert_int_equal(route_limiter__untracked(NULL), 0);
	route_limiter__free(l);
	route_limiter__free(NULL);
}

/*
 * max_tracked entries are all there is and all there are: the scope and max_tracked - 1 values
 * are kept, the next value is {*}. Up to 42 entries the table has at most 64 slots, so no probe
 * run is ever cut short and the count is exact.
 */
static void test_limit_small_tables_hold_max_tracked(void **state)
{
	char in[32], r[ROUTE_MAX_LEN];

	for (unsigned mt = 1; mt <= 42; mt++) {
		struct route_limiter *l = route_limiter__new(1000, mt);

		assert_non_null(l);
		for (unsigned i = 0; i + 1 < mt; i++) {
			snprintf(in, sizeof(in), "/v%u", i);
			assert_int_equal(apply(l, "s", in, r, sizeof(r)), 0);
			assert_string_equal(r, in);
		}
		snprintf(in, sizeof(in), "/v%u", mt);
		assert_int_equal(apply(l, "s", in, r, sizeof(r)), 1);
		assert_string_equal(r, "/{*}");
		assert_int_equal(route_limiter__untracked(l), 1);
		/* the ones kept are still known */
		if (mt > 1) {
			assert_int_equal(apply(l, "s", "/v0", r, sizeof(r)), 0);
			assert_string_equal(r, "/v0");
		}
		route_limiter__free(l);
	}
}

/* Without entropy for its hash key, the limiter works all the same (route_limiter__new). */
static void test_limit_without_entropy(void **state)
{
	struct route_limiter *l;
	char r[ROUTE_MAX_LEN];

	no_entropy = true;
	l = route_limiter__new(2, 100);
	no_entropy = false;
	assert_non_null(l);
	assert_int_equal(apply(l, "s", "/a/x", r, sizeof(r)), 0);
	assert_int_equal(apply(l, "s", "/b", r, sizeof(r)), 0);
	assert_int_equal(apply(l, "s", "/a", r, sizeof(r)), 0);
	assert_string_equal(r, "/a");
	assert_int_equal(apply(l, "s", "/c/x", r, sizeof(r)), 1);
	assert_string_equal(r, "/{*}/x");
	assert_int_equal(route_limiter__collapsed(l), 1);
	assert_int_equal(apply(l, "t", "/c", r, sizeof(r)), 0);
	assert_int_equal(route_limiter__untracked(l), 0);
	route_limiter__free(l);
}

/* apply() on a buffer of exactly sz bytes, which must come back as want. */
static void check_apply_exact(struct route_limiter *l, const char *scope, const char *in, size_t sz,
			      int ret, const char *want)
{
	/* on the heap, exactly sz bytes: a sanitizer build sees an access past them */
	char *buf = malloc(sz);

	assert_non_null(buf);
	assert_true(strlen(in) < sz);
	memcpy(buf, in, strlen(in) + 1);
	assert_int_equal(route_limiter__apply(l, scope, buf, sz), ret);
	assert_string_equal(buf, want);
	free(buf);
}

/* route is only sz bytes: a collapse that does not fit cuts the route and stops there. */
static void test_limit_route_cut_within_sz(void **state)
{
	struct route_limiter *l = route_limiter__new(1, 100);

	check_apply_exact(l, "s", "/a", 3, 0, "/a");
	/* a full route whose first segment goes: the segments after it are dropped first */
	check_apply_exact(l, "z", "/xy/c", 6, 0, "/xy/c");
	check_apply_exact(l, "z", "/ab/c", 6, 1, "/{*}");
	/* the root's second value: "/{*}" needs 5 bytes */
	check_apply_exact(l, "s", "/bb", 4, 1, "/");
	check_apply_exact(l, "s", "/b", 4, 1, "/");
	check_apply_exact(l, "s", "/b", 5, 1, "/{*}");
	/* below the root the route ends before the '/' of the {*} that does not fit */
	check_apply_exact(l, "y", "/ab/x", 6, 0, "/ab/x");
	check_apply_exact(l, "y", "/ab/cd", 7, 1, "/ab");
	check_apply_exact(l, "y", "/ab/c", 7, 1, "/ab");
	check_apply_exact(l, "y", "/ab/c", 8, 1, "/ab/{*}");
	/* the segments after it go first to make room */
	check_apply_exact(l, "y", "/ab/c/d", 8, 1, "/ab/{*}");
	route_limiter__free(l);
}

/*
 * Keys are SipHash-2-4 (route.h): the reference vectors of the SipHash paper, key 00 01 .. 0f
 * and message 00 01 .. (len - 1), here its first 8 bytes as first and the rest as p. Lengths
 * 8 to 24 give p every partial block and one or two whole blocks.
 */
static void test_siphash_reference_vectors(void **state)
{
	/* len 8 to 24; checked against OpenSSL's SIPHASH too */
	static const uint64_t want[] = {
		0x93f5f5799a932462ull, 0x9e0082df0ba9e4b0ull, 0x7a5dbbc594ddb9f3ull,
		0xf4b32f46226bada7ull, 0x751e8fbc860ee5fbull, 0x14ea5627c0843d90ull,
		0xf723ca908e7af2eeull, 0xa129ca6149be45e5ull, 0x3f2acc7f57c29bdbull,
		0x699ae9f52cbe4794ull, 0x4bc1b3f0968dd39cull, 0xbb6dc91da77961bdull,
		0xbed65cf21aa2ee98ull, 0xd0f2cbb02e3b67c7ull, 0x93536795e3a33e88ull,
		0xa80c038ccd5ccec8ull, 0xb8ad50c6f649af94ull,
	};
	const uint64_t k[2] = { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull };

	for (size_t len = 8; len < 8 + ARRAY_SIZE(want); len++) {
		/* p on the heap, exactly len - 8 bytes: a sanitizer build sees a read past them */
		char *p = malloc(len > 8 ? len - 8 : 1);

		assert_non_null(p);
		for (size_t i = 8; i < len; i++)
			p[i - 8] = (char)i;
		if (route__siphash(k, 0x0706050403020100ull, p, len - 8) != want[len - 8])
			print_error("message of %zu bytes\n", len);
		assert_int_equal(route__siphash(k, 0x0706050403020100ull, p, len - 8),
				 want[len - 8]);
		free(p);
	}
}

static void test_pipeline(void **state)
{
	static const char *const raw[] = {
		"/api/v1/users/123?x=1",
		"/api/v1/users/456",
		"/api/v1/users/me",
	};
	struct route_limiter *l = route_limiter__new(2, 100);
	char r[ROUTE_MAX_LEN];

	/* ids collapse to one route before the limiter sees them */
	for (size_t i = 0; i < ARRAY_SIZE(raw); i++) {
		assert_true(route__normalize(raw[i], strlen(raw[i]), r, sizeof(r)) >= 0);
		assert_int_equal(route_limiter__apply(l, "svc\tGET", r, sizeof(r)), 0);
	}
	assert_string_equal(r, "/api/v1/users/me");
	assert_int_equal(route_limiter__collapsed(l), 0);
	route_limiter__free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_norm_ids),
		cmocka_unit_test(test_norm_not_ids),
		cmocka_unit_test(test_norm_query_fragment),
		cmocka_unit_test(test_norm_forms),
		cmocka_unit_test(test_norm_escape),
		cmocka_unit_test(test_norm_truncate),
		cmocka_unit_test(test_norm_truncate_128),
		cmocka_unit_test(test_norm_invalid),
		cmocka_unit_test(test_norm_random_is_safe),
		cmocka_unit_test(test_set_errors),
		cmocka_unit_test(test_set_limits),
		cmocka_unit_test(test_set_precedence),
		cmocka_unit_test(test_set_order_reversed),
		cmocka_unit_test(test_set_segments),
		cmocka_unit_test(test_set_many),
		cmocka_unit_test(test_set_match_target_ends_at_len),
		cmocka_unit_test(test_limit_files),
		cmocka_unit_test(test_limit_placeholders_not_counted),
		cmocka_unit_test(test_limit_nested),
		cmocka_unit_test(test_limit_memory_bound),
		cmocka_unit_test(test_limit_leaf_placeholder_free),
		cmocka_unit_test(test_limit_memory_bound_large),
		cmocka_unit_test(test_limit_edges),
		cmocka_unit_test(test_limit_small_tables_hold_max_tracked),
		cmocka_unit_test(test_limit_without_entropy),
		cmocka_unit_test(test_limit_route_cut_within_sz),
		cmocka_unit_test(test_siphash_reference_vectors),
		cmocka_unit_test(test_pipeline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
