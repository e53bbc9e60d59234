// SPDX-License-Identifier: GPL-2.0-only
#include "lib/x86code.h"

static size_t skip_endbr64(const uint8_t *b, size_t n)
{
	return n >= 4 && b[0] == 0xf3 && b[1] == 0x0f && b[2] == 0x1e && b[3] == 0xfa ? 4 : 0;
}

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
	size_t off;
	int reg;

	off = skip_endbr64(b, n);
	if (off + 6 > n || b[off] < 0xb8 || b[off] > 0xbf ||
	    (b[off + 5] != 0xe9 && b[off + 5] != 0xeb))
		return off;
	reg = b[off] - 0xb8;
	for (int i = 0; i < nargs && i < 4; i++)
		if (argreg[i] == reg)
			return off;
	return off + 5;
}

bool x86code__emulated(const uint8_t *b, size_t n)
{
	if (n >= 1 && (b[0] >= 0x50 && b[0] <= 0x57)) /* push %reg */
		return true;
	if (n >= 2 && b[0] == 0x41 && b[1] >= 0x50 && b[1] <= 0x57) /* push %r8-%r15 */
		return true;
	if (n >= 1 && b[0] == 0x90) /* nop */
		return true;
	return n >= 5 && (b[0] == 0xe8 || b[0] == 0xe9); /* call, jmp rel32 */
}

bool x86code__wrapper_call(const uint8_t *b, size_t n, long *target)
{
	size_t off = skip_endbr64(b, n);
	int32_t rel;

	if (off + 4 <= n && b[off] == 0x48 && b[off + 1] == 0x83 && b[off + 2] == 0xec)
		off += 4; /* sub $imm8,%rsp */
	else if (off + 7 <= n && b[off] == 0x48 && b[off + 1] == 0x81 && b[off + 2] == 0xec)
		off += 7; /* sub $imm32,%rsp */
	if (off + 5 > n || b[off] != 0xe8)
		return false;
	rel = (int32_t)((uint32_t)b[off + 1] | (uint32_t)b[off + 2] << 8 |
			(uint32_t)b[off + 3] << 16 | (uint32_t)b[off + 4] << 24);
	*target = (long)(off + 5) + rel;
	return true;
}
