// SPDX-License-Identifier: GPL-2.0-only
#include "lib/x86code.h"

long x86code__rdi_disp(const uint8_t *b, size_t n, uint8_t rex, uint8_t op)
{
	for (size_t i = 0; i + 7 <= n; i++) {
		size_t j = i;

		if (rex) {
			if (b[j++] != rex)
				continue;
		} else if (i && (b[i - 1] & 0xf0) == 0x40) {
			continue; /* a REX prefix changes the operand size */
		}
		if (b[j] != op)
			continue;
		if ((b[j + 1] & 0xc7) == 0x47)
			return b[j + 2];
		if ((b[j + 1] & 0xc7) == 0x87)
			return b[j + 2] | b[j + 3] << 8 | b[j + 4] << 16 | (long)b[j + 5] << 24;
	}
	return -1;
}

/*
 * Where to place the probe of a function. The kernel emulates a few instructions at a probe
 * (push, jmp, call, nop): a hit there costs ~1 us here, any other instruction is single-
 * stepped and costs ~10 us. Skip what is harmless to skip at a function's entry: endbr64,
 * and a mov $imm,%reg before a tail jump (PQsendQuery: mov $1,%edx; jmp internal) when reg
 * is no argument the program reads. The stack is untouched up to there, so a return probe
 * still finds the return address.
 */
size_t x86code__probe_offset(const uint8_t *b, size_t n, int nargs)
{
	static const int argreg[] = { 7, 6, 2, 1 }; /* rdi rsi rdx rcx */
	size_t off = 0;
	int reg;

	if (n >= 4 && b[0] == 0xf3 && b[1] == 0x0f && b[2] == 0x1e && b[3] == 0xfa)
		off = 4;
	if (off + 6 > n || b[off] < 0xb8 || b[off] > 0xbf ||
	    (b[off + 5] != 0xe9 && b[off + 5] != 0xeb))
		return off;
	reg = b[off] - 0xb8;
	for (int i = 0; i < nargs && i < 4; i++)
		if (argreg[i] == reg)
			return off;
	return off + 5;
}
