// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for route.c, route_pattern.c and route_limit.c:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *	tests/fuzz/fuzz_route.c src/proto/route.c src/proto/route_pattern.c \
 *	src/proto/route_limit.c -o build/fuzz_route
 *
 * Input: byte 0 picks the output size, byte 1 the limiter's buffer size; the rest up to the
 * first '\n' is tried as a pattern, all of it as a request target.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "proto/route.h"

static const char *const patterns[] = {
	"/",	    "/users/{id}", "/users/me",	   "/files/{p:path}", "/static/*.js",
	"/a/*b*c*", "/i/{n:int}",  "/f/{v:float}", "/u/{x:uuid}",     "/{rest:path}",
};

static void check_route(const char *out, size_t outsz, int ret)
{
	const char *p;

	CHECK(strlen(out) < outsz);
	if (ret < 0) {
		CHECK(ret == -EINVAL);
		CHECK(!out[0]);
		return;
	}
	CHECK(!(ret & ~(ROUTE_TRUNCATED | ROUTE_HAD_QUERY | ROUTE_HAD_FRAGMENT | ROUTE_ESCAPED)));
	for (p = out; *p; p++)
		CHECK(*p >= 0x21 && *p < 0x7f && *p != '"' && *p != '\\');
	if (out[0] != '/') {
		CHECK(!strncmp(out, "{authority}", strlen(out)) || !strcmp(out, "*"));
		return;
	}
	/* Raw braces are escaped: any brace is an {id} placeholder, possibly cut at the end. */
	for (p = strchr(out, '{'); p; p = strchr(p + 1, '{'))
		CHECK(!strncmp(p, "{id}", strlen(p) < 4 ? strlen(p) : 4));
	CHECK(!strchr(out, '?') && !strchr(out, '#'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct route_set *set;
	struct route_limiter *lim;
	struct route_set *one;
	char out[300], before[300], err[128];
	const char *target, *nl, *m;
	size_t outsz, limsz, len;
	int ret;

	if (size < 2)
		return 0;
	if (!set) {
		set = route_set__new();
		for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++)
			CHECK(!route_set__add(set, patterns[i], NULL, 0));
	}
	outsz = 1 + data[0];
	limsz = 1 + data[1] % 140;
	target = (const char *)data + 2;
	len = size - 2;

	/* The target is handed over without a NUL: ASan sees any read past len. */
	{
		char *copy = malloc(len ? len : 1);

		memcpy(copy, target, len);
		memset(out, 'Z', sizeof(out));
		ret = route__normalize(copy, len, out, outsz);
		CHECK(out[outsz] == 'Z');
		check_route(out, outsz, ret);
		m = route_set__match(set, copy, len);
		if (m)
			CHECK(m[0] == '/');
		free(copy);
	}

	/* The limiter gets the normalized route in a buffer of another size. */
	if (ret >= 0 && strlen(out) < limsz) {
		lim = route_limiter__new(2, 16);
		CHECK(lim);
		for (int round = 0; round < 3; round++) {
			char r[300];
			int changed;

			memcpy(r, out, strlen(out) + 1);
			memcpy(before, r, sizeof(before));
			changed = route_limiter__apply(lim, round == 1 ? "b" : "a", r, limsz);
			CHECK(changed == 0 || changed == 1);
			CHECK(strlen(r) < limsz);
			if (!changed)
				CHECK(!strcmp(r, before));
			if (before[0] == '/')
				CHECK(r[0] == '/');
		}
		route_limiter__free(lim);
	}

	/* The first line as a pattern: NUL-terminated, as argv gives it. */
	nl = memchr(target, '\n', len);
	len = nl ? (size_t)(nl - target) : len;
	if (len < sizeof(out)) {
		memcpy(out, target, len);
		out[len] = '\0';
		one = route_set__new();
		CHECK(one);
		err[0] = '\0';
		ret = route_set__add(one, out, err, sizeof(err));
		if (ret) {
			CHECK(ret == -EINVAL && err[0] && !strchr(err, '\n'));
		} else {
			m = route_set__match(one, target, size - 2);
			if (m)
				CHECK(!strcmp(m, out));
		}
		route_set__free(one);
	}
	return 0;
}
