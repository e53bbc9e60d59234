/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The little of x86-64 machine code a uprobe loader reads: pure functions over the first
 * bytes of a function (found by lib/elfcode.h), unit-tested and fuzzed.
 */
#ifndef SLOPROBE_X86CODE_H
#define SLOPROBE_X86CODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The displacement from %rdi of the first load in b[0..n) matching: opcode op, REX prefix
 * rex (0 for none), ModRM with base %rdi and an 8- or 32-bit displacement; -1 if none.
 */
long x86code__rdi_disp(const uint8_t *b, size_t n, uint8_t rex, uint8_t op);
/*
 * The offset in a function's first n bytes b where its entry probe is cheapest and still
 * right for a program that reads its first nargs arguments (at most n).
 */
size_t x86code__probe_offset(const uint8_t *b, size_t n, int nargs);
/*
 * Whether the kernel emulates the instruction at b[0..n) when a uprobe hits it (push of a
 * register, nop, jmp, call): no single-step, a fraction of the cost.
 */
bool x86code__emulated(const uint8_t *b, size_t n);
/*
 * A thin wrapper's callee: b[0..n) starts with at most an endbr64 and a sub of an immediate
 * from %rsp, then a call rel32 (OpenSSL's SSL_read_ex calling its ssl_read_internal). Its
 * target as an offset from b (negative: before it) in *target; false if b is not that.
 */
bool x86code__wrapper_call(const uint8_t *b, size_t n, long *target);

#endif
