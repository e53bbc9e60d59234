/* SPDX-License-Identifier: GPL-2.0-only */
/* The first bytes of a function's code in an ELF file, found through its symbol tables. */
#ifndef SLOPROBE_ELFCODE_H
#define SLOPROBE_ELFCODE_H

#include <stddef.h>
#include <stdint.h>

struct elfcode;

/* NULL when the file cannot be read as ELF. */
struct elfcode *elfcode__open(const char *path);
/*
 * The first n bytes of func's code: 0, -ENOENT (no such function, or its code is not in an
 * executable section), -EINVAL (the section holds fewer than n bytes from there).
 */
int elfcode__func(struct elfcode *e, const char *func, uint8_t *buf, size_t n);
/* The same, of the code delta bytes after func's start (negative: before it). */
int elfcode__func_at(struct elfcode *e, const char *func, long delta, uint8_t *buf, size_t n);
void elfcode__close(struct elfcode *e);

#endif
