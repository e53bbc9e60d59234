/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A strict JSON scanner (RFC 8259, UTF-8 in shortest form) over a buffer or over a file read in
 * blocks. It checks the syntax of the whole input in one pass while its caller walks the outer
 * structure (jscan__open, jscan__more, jscan__key) and takes the values it wants as pieces:
 * the bytes of one value, contiguous, for a DOM parser. So a report of any size is checked
 * whole, but never held whole, neither as text nor as a DOM.
 *
 * DOM parsers clamp an integer beyond 64 bits to the largest one without a word; the scanner
 * notes the first such integer with the path of its field ("http[3].histogram.sum").
 *
 * Every function returns 0 (jscan__more: 0 or 1) or a negative errno, the first error sticking:
 * -EINVAL with a one-line message in s->msg for malformed input, -EFBIG beyond the size limit,
 * -ENOMEM, or the errno of a failed read.
 */
#ifndef SLOPROBE_JSCAN_H
#define SLOPROBE_JSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSCAN_DEPTH   64 /* containers nested in one another */
#define JSCAN_KEY_MAX 48 /* longest key kept for paths (longer ones are cut) */
#define JSCAN_MSG_MAX 256

struct jscan_step {
	int64_t index; /* an array element; -1: an object member */
	char key[JSCAN_KEY_MAX];
};

struct jscan {
	const char *buf; /* the window: input bytes base .. base + len */
	size_t len, pos;
	char *own; /* the window's storage when reading a file */
	size_t cap;
	int fd; /* -1: buf is the whole input */
	bool eof;
	uint64_t base;
	uint64_t max;  /* size limit of the input */
	size_t piece;  /* window offset where the piece being taken starts; SIZE_MAX: none */
	unsigned line; /* of the byte at pos, 1-based */
	uint64_t bol;  /* input offset of its line's first byte */
	unsigned piece_line, piece_col; /* where the last piece taken starts */
	int nest;			/* containers open */
	int npath;
	struct jscan_step path[JSCAN_DEPTH + 1];
	int err;
	char msg[JSCAN_MSG_MAX];
	char range[JSCAN_MSG_MAX]; /* first integer out of range: "path: message"; "" if none */
};

/* Scan len bytes of buf, which must outlive s. */
void jscan__init_mem(struct jscan *s, const char *buf, size_t len);
/* Scan what fd reads, at most max bytes. 0 or -ENOMEM. */
int jscan__init_fd(struct jscan *s, int fd, uint64_t max);
void jscan__free(struct jscan *s);

/* Next byte after white space, not consumed; -1 at the end of the input or on error. */
int jscan__peek(struct jscan *s);
/* Consume the opening c ('{' or '[') of a container after white space. */
int jscan__open(struct jscan *s, char c);
/*
 * In a container: 1 when another member or element follows (after its ','), 0 once the
 * closing close ('}' or ']') is consumed. first: nothing was read in it yet.
 */
int jscan__more(struct jscan *s, char close, bool first);
/*
 * The key of an object member and its ':'; the key (raw, cut at JSCAN_KEY_MAX - 1 bytes) goes
 * to key and onto the path. jscan__pop takes it off after the value.
 */
int jscan__key(struct jscan *s, char *key, size_t keysz);
/* An array element's index onto the path. */
void jscan__push_index(struct jscan *s, int64_t i);
void jscan__pop(struct jscan *s);
/* Check one value and skip it. */
int jscan__skip(struct jscan *s);
/*
 * Check one value and return its bytes (p, n), valid until the next call on s;
 * s->piece_line and s->piece_col say where it starts.
 */
int jscan__take(struct jscan *s, const char **p, size_t *n);
/* Only white space may follow. */
int jscan__end(struct jscan *s);

/* The path of the value being scanned, "http[3].histogram.sum", into buf. */
void jscan__path(const struct jscan *s, char *buf, size_t sz);
/* Fail with "malformed JSON at line L, column C: why" at the current position. */
int jscan__fail(struct jscan *s, const char *why);

#endif
