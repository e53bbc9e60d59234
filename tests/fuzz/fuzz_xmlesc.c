// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for xmlesc.c:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *	tests/fuzz/fuzz_xmlesc.c src/lib/xmlesc.c -o build/fuzz_xmlesc
 *
 * Input: byte 0 picks a buffer size; the rest is the text. Whatever the bytes, the output is
 * XML 1.0 content good in an attribute of either quote: valid UTF-8 of XML characters only,
 * no raw < > " ' or control character, every & starts one of the entities written; a cut is a
 * prefix of the whole that ends between pieces; the FILE forms write the same.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lib/xmlesc.h"

static const char *const entities[] = { "&amp;",  "&lt;", "&gt;",  "&quot;",
					"&apos;", "&#9;", "&#10;", "&#13;" };

/* Bytes of the entity at s, 0 if none. */
static size_t entity(const char *s)
{
	for (size_t i = 0; i < sizeof(entities) / sizeof(entities[0]); i++)
		if (!strncmp(s, entities[i], strlen(entities[i])))
			return strlen(entities[i]);
	return 0;
}

/* Length of the UTF-8 character of an XML code point at s (s[0] >= 0x80), 0 if invalid. */
static size_t xml_char(const unsigned char *s)
{
	uint32_t cp;
	size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;

	if (!len || s[0] > 0xf4)
		return 0;
	cp = s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < (len == 2   ? 0x80u
		  : len == 3 ? 0x800u
			     : 0x10000u) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
		return 0;
	return len;
}

/* out is attribute-safe XML (text: tab and newline may also be raw). */
static void check_xml(const char *out, bool text)
{
	const unsigned char *u = (const unsigned char *)out;

	for (size_t i = 0; u[i];) {
		size_t len;

		if (u[i] == '&') {
			len = entity(out + i);
			CHECK(len > 0);
		} else if (u[i] >= 0x80) {
			len = xml_char(u + i);
			CHECK(len > 0);
		} else {
			CHECK(u[i] != '<' && u[i] != '>' && u[i] != '"' && u[i] != '\'');
			CHECK(u[i] >= 0x20 || (text && (u[i] == '\t' || u[i] == '\n')));
			len = 1;
		}
		i += len;
	}
}

static char *written(void (*fn)(FILE *, const char *), const char *s)
{
	char *mem = NULL;
	size_t sz = 0;
	FILE *f = open_memstream(&mem, &sz);

	CHECK(f);
	fn(f, s);
	fclose(f);
	return mem;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data + 1;
	size_t n, need, sz;
	char *full, *cut, *str, *w;

	if (size < 1)
		return 0;
	n = size - 1;
	sz = data[0] % 64 + 1;
	need = xmlesc__buf(NULL, 0, s, n);
	full = malloc(need + 1);
	cut = malloc(sz);
	str = malloc(n + 1);
	CHECK(full && cut && str);
	CHECK(xmlesc__buf(full, need + 1, s, n) == need);
	CHECK(strlen(full) == need && need >= n);
	check_xml(full, false);

	/* a cut: a prefix of the whole, and itself whole pieces */
	CHECK(xmlesc__buf(cut, sz, s, n) == need);
	CHECK(strlen(cut) < sz && !strncmp(cut, full, strlen(cut)));
	check_xml(cut, false);
	if (need < sz)
		CHECK(!strcmp(cut, full));

	/* the FILE forms, up to the first NUL */
	memcpy(str, s, n);
	str[n] = '\0';
	w = written(xmlesc__write, str);
	CHECK(xmlesc__buf(NULL, 0, str, strlen(str)) == strlen(w));
	CHECK(!strncmp(w, full, strlen(w)));
	free(w);
	w = written(xmlesc__write_text, str);
	check_xml(w, true);
	free(w);

	free(full);
	free(cut);
	free(str);
	return 0;
}
