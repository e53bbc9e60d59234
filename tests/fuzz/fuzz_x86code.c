// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for x86code.c:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *	tests/fuzz/fuzz_x86code.c src/lib/x86code.c -o build/fuzz_x86code
 *
 * Input: byte 0 picks the REX prefix asked for, byte 1 the opcode and the number of
 * arguments; the rest is a function's first bytes (read off a file no one vetted). Whatever
 * the bytes, nothing is read past them, a displacement found is one the bytes hold (8 or
 * 32 bits), a probe offset stays inside the bytes, at 0, 4, 5 or 9, and a wrapper's call
 * lies inside the bytes with its target within 2^31 of it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lib/x86code.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t rex, op, *code;
	size_t n, off;
	int nargs;
	long d;

	if (size < 2)
		return 0;
	rex = data[0] & 1 ? 0x48 : 0;
	op = data[1] & 1 ? 0x8d : 0x8b;
	nargs = (data[1] >> 1) & 7;
	n = size - 2;
	/* An exact-size copy, so that ASan sees any read past the end. */
	code = malloc(n ? n : 1);
	if (!code)
		return 0;
	memcpy(code, data + 2, n);
	d = x86code__rdi_disp(code, n, rex, op);
	CHECK(d >= -1 && d <= 0xffffffffl);
	CHECK(d == -1 || n >= 7);
	off = x86code__probe_offset(code, n, nargs);
	CHECK(off <= n || off == 0);
	CHECK(off == 0 || off == 4 || off == 5 || off == 9);
	if (x86code__wrapper_call(code, n, &d)) {
		CHECK(n >= 5);
		CHECK(d >= 5 - 2147483648l && d <= 16 + 2147483647l);
	}
	x86code__emulated(code, n);
	free(code);
	return 0;
}
