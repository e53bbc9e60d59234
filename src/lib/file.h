/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef SLOPROBE_FILE_H
#define SLOPROBE_FILE_H

#include <stddef.h>

/*
 * The whole of a file ("-": standard input) in a malloc'd buffer, NUL-terminated (the NUL not
 * counted in *len). 0, or a negative errno: -EFBIG when it holds more than max bytes, -EISDIR
 * for a directory; the caller says which file in its message.
 */
int file__read(const char *path, size_t max, char **buf, size_t *len);

#endif
