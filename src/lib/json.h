/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Streaming JSON writer.
 *
 * Output goes straight to a FILE as calls are made, so reports of any size need no buffering
 * and no allocation after json__new. Misuse (unbalanced containers, a key outside an object, a
 * value without a key inside an object, a second top-level value, nesting deeper than
 * JSON_MAX_DEPTH, no value at all) is sticky: every later call is a no-op and json__finish
 * returns -EINVAL, so callers check one return value instead of every call.
 *
 * Strings are emitted as valid UTF-8 whatever the input: invalid sequences become U+FFFD, and
 * U+2028/U+2029 are escaped so the output is also a valid JavaScript literal. Numbers never
 * depend on the locale.
 */
#ifndef SLOPROBE_JSON_H
#define SLOPROBE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 64

struct json;

/* NULL on ENOMEM. pretty: 2-space indent and "key": value; otherwise no whitespace at all. */
struct json *json__new(FILE *f, bool pretty);
/* Writes the final newline and flushes. 0, -EINVAL after misuse, -EIO if a write failed. */
int json__finish(struct json *j);
/* Does not close the FILE. */
void json__free(struct json *j);

void json__begin_object(struct json *j);
void json__end_object(struct json *j);
void json__begin_array(struct json *j);
void json__end_array(struct json *j);
void json__key(struct json *j, const char *k);

void json__string(struct json *j, const char *s); /* NULL -> null */
/* s may contain NUL bytes (written as \u0000); NULL -> null. */
void json__string_n(struct json *j, const char *s, size_t n);
void json__u64(struct json *j, uint64_t v);
void json__i64(struct json *j, int64_t v);
/* Shortest of 15, 16 or 17 significant digits that reads back as v; NaN and inf -> null. */
void json__double(struct json *j, double v);
/* decimals clamped to 0..9, trailing zeros trimmed, -0 -> 0; NaN and inf -> null. */
void json__fixed(struct json *j, double v, int decimals);
void json__bool(struct json *j, bool v);
void json__null(struct json *j);

void json__kv_string(struct json *j, const char *k, const char *s);
void json__kv_u64(struct json *j, const char *k, uint64_t v);
void json__kv_i64(struct json *j, const char *k, int64_t v);
void json__kv_double(struct json *j, const char *k, double v);
void json__kv_fixed(struct json *j, const char *k, double v, int decimals);
void json__kv_bool(struct json *j, const char *k, bool v);

#endif
