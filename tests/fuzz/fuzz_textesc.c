// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for textesc.c:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *	tests/fuzz/fuzz_textesc.c src/lib/textesc.c -o build/fuzz_textesc
 *
 * Input: byte 0 picks a buffer size and a column width; the rest is the text. Whatever the
 * bytes, what comes out is clean, escaping it again changes nothing, a cut is a prefix of the
 * whole, and a code span's fences are whole and longer than any backtick run inside.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lib/textesc.h"

static bool clean(const char *s)
{
	return textesc__clean(s, strlen(s)) == strlen(s);
}

static void check_code_span(const char *out, size_t content_max)
{
	size_t n = strlen(out), fence = strspn(out, "`"), run = 0;

	if (!n)
		return;
	CHECK(fence > 0 && n >= 2 * fence);
	for (size_t i = 0; i < fence; i++)
		CHECK(out[n - 1 - i] == '`');
	CHECK(n == 2 * fence || out[n - 1 - fence] != '`');
	for (size_t i = fence; i < n - fence; i++) {
		run = out[i] == '`' ? run + 1 : 0;
		CHECK(run < fence);
	}
	CHECK(n - 2 * fence <= content_max + 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data + 1;
	size_t n, need, sz;
	char *full, *again, *cut, *md, col[TEXTESC_SHORTEN_MAX * 4 + 8];
	unsigned width, cols;

	if (size < 1)
		return 0;
	n = size - 1;
	sz = data[0] % 64 + 1;
	width = data[0] % 40;

	need = textesc__term(NULL, 0, s, n);
	full = malloc(need + 1);
	again = malloc(need + 1);
	cut = malloc(sz);
	md = malloc(need + 200);
	CHECK(full && again && cut && md);

	CHECK(textesc__term(full, need + 1, s, n) == need);
	CHECK(strlen(full) == need);
	CHECK(clean(full));
	CHECK(textesc__term(again, need + 1, full, need) == need);
	CHECK(!strcmp(full, again));
	CHECK(textesc__width(full, need) <= need);
	if (textesc__clean(s, n) == n)
		CHECK(need == n && !memcmp(full, s, n));

	CHECK(textesc__term(cut, sz, s, n) == need);
	CHECK(strlen(cut) < sz && !strncmp(cut, full, strlen(cut)));

	textesc__md_code(md, need + 200, s, n);
	CHECK(clean(md));
	check_code_span(md, need);
	textesc__md_code(md, sz, s, n);
	CHECK(strlen(md) < sz);
	check_code_span(md, need);

	textesc__md_text(md, need + 200, s, n);
	CHECK(clean(md));

	/* shorten takes a string: the text up to its first NUL. */
	memcpy(again, s, n < need ? n : need);
	again[n < need ? n : need] = '\0';
	cols = textesc__shorten(again, width, col, sizeof(col));
	CHECK(clean(col) && cols <= width && textesc__width(col, strlen(col)) == cols);

	free(full);
	free(again);
	free(cut);
	free(md);
	return 0;
}
