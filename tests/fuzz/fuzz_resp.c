// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for resp.c and resp_key.c. The input is one direction of a connection,
 * parsed as commands and as replies:
 *   - whole, then split into chunks whose sizes are read off the input's own bytes (forwards,
 *     then from the end): the values and stats must be the same however it is split;
 *   - split the same way with every third chunk a gap (resp_stream__skip), resyncing when
 *     the framing is lost: no crash, sane values.
 * Every key seen, and the input itself, goes through resp__key_pattern: no digit may survive
 * in a pattern but in a version ("v2") or an escape ("\x01"), and a cut pattern ends "...".
 * Checks in every callback: the stream is idle, the value is within the bytes given.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "proto/resp.h"

struct seen {
	struct resp_stream *s;
	uint64_t digest; /* of every value's fields but ts_first */
	uint64_t values, bytes;
	uint64_t ts; /* of the current feed */
};

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static bool alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A word with a digit in a pattern is a version: [vV] and one or two digits. */
static void check_pattern(const char *o, size_t n)
{
	CHECK(strlen(o) == n);
	for (size_t i = 0; i < n;) {
		size_t j = i, digits = 0;

		if (o[i] == '\\') {
			CHECK(i + 3 < n && o[i + 1] == 'x');
			i += 4;
			continue;
		}
		while (j < n && alnum(o[j])) {
			digits += o[j] >= '0' && o[j] <= '9';
			j++;
		}
		if (j == i) {
			i++;
			continue;
		}
		if (digits)
			CHECK((o[i] == 'v' || o[i] == 'V') && digits == j - i - 1 && digits <= 2);
		i = j;
	}
}

static void pattern(const uint8_t *key, size_t len, size_t outsz)
{
	char full[4096], cut[256];
	size_t n = resp__key_pattern(key, len, full, sizeof(full)), m;

	check_pattern(full, n);
	outsz = outsz % sizeof(cut);
	m = resp__key_pattern(key, len, cut, outsz);
	if (!outsz) {
		CHECK(m == 0);
		return;
	}
	CHECK(m < outsz && strlen(cut) == m);
	if (n < outsz && n < sizeof(full) - 1)
		CHECK(m == n && !memcmp(cut, full, n));
	else if (m >= 3)
		CHECK(!memcmp(cut + m - 3, "...", 3));
}

static void on_value(const struct resp_value *v, void *ctx)
{
	struct seen *s = ctx;
	uint64_t h = s->digest;

	CHECK(resp_stream__idle(s->s));
	CHECK(v->bytes >= 2);
	CHECK(v->ts_first <= s->ts);
	CHECK(memchr(v->err, 0, sizeof(v->err)) && memchr(v->verb, 0, sizeof(v->verb)));
	CHECK(v->max_bulk < v->bytes);
	if (s->s->dir == RESP_CMD) {
		CHECK(v->type == RESP_T_ARRAY && v->n >= 1 && v->nargs < (uint64_t)v->n);
		CHECK(v->info.read_keys <= v->nargs);
		CHECK(!v->key || v->key_len <= RESP_KEY_MAX);
		CHECK(v->key || !v->key_len);
		if (v->key)
			pattern(v->key, v->key_len, v->key_len * 7 + v->n);
	} else {
		CHECK(v->type >= RESP_T_SIMPLE && v->type <= RESP_T_OTHER);
		CHECK(!v->key && !v->verb[0]);
		if (v->type == RESP_T_ARRAY || v->type == RESP_T_PUSH)
			CHECK((int64_t)v->nil_elems + v->err_elems <= v->n);
		else if (v->type == RESP_T_MAP)
			CHECK((int64_t)v->nil_elems + v->err_elems <= 2 * v->n);
		else
			CHECK(!v->nil_elems && !v->err_elems);
	}
	h = mix(h, &v->type, sizeof(v->type));
	h = mix(h, &v->bytes, sizeof(v->bytes));
	h = mix(h, &v->n, sizeof(v->n));
	h = mix(h, &v->nil_elems, sizeof(v->nil_elems));
	h = mix(h, &v->err_elems, sizeof(v->err_elems));
	h = mix(h, &v->max_bulk, sizeof(v->max_bulk));
	h = mix(h, v->err, strlen(v->err));
	h = mix(h, v->verb, strlen(v->verb));
	h = mix(h, &v->nargs, sizeof(v->nargs));
	h = mix(h, &v->key_len, sizeof(v->key_len));
	if (v->key)
		h = mix(h, v->key, v->key_len);
	h = mix(h, &v->key_cut, sizeof(v->key_cut));
	h = mix(h, &v->inline_cmd, sizeof(v->inline_cmd));
	h = mix(h, &v->info.flags, sizeof(v->info.flags));
	h = mix(h, &v->info.read_keys, sizeof(v->info.read_keys));
	h = mix(h, &v->info.multi, 5 * sizeof(bool));
	s->digest = h;
	s->values++;
	s->bytes += v->bytes;
}

/* Size of the chunk at off: read off the input, so that the fuzzer steers the splits. */
static size_t chunk(const uint8_t *data, size_t size, size_t off, bool back)
{
	uint8_t b = back ? data[size - 1 - off] : data[off];
	size_t k = (b % 23) + 1;

	return k < size - off ? k : size - off;
}

static void run(enum resp_dir dir, const uint8_t *data, size_t size)
{
	struct resp_stream whole, split;
	struct seen a = { .s = &whole, .ts = 1 }, b = { .s = &split };
	bool ok;

	resp_stream__init(&whole, dir);
	ok = resp_stream__feed(&whole, data, size, 1, on_value, &a);
	CHECK(ok == whole.synced);
	CHECK(a.values == whole.stats.values && a.bytes <= size);
	CHECK(!whole.stats.lost_sync && !whole.stats.skipped);
	CHECK(!resp_stream__idle(&whole) || ok);

	for (int back = 0; back < 2; back++) {
		resp_stream__init(&split, dir);
		b.digest = 0;
		b.values = b.bytes = 0;
		for (size_t off = 0; off < size;) {
			size_t k = chunk(data, size, off, back);

			b.ts = off + 1;
			resp_stream__feed(&split, data + off, k, off + 1, on_value, &b);
			off += k;
		}
		CHECK(b.digest == a.digest && b.values == a.values);
		CHECK(!memcmp(&split.stats, &whole.stats, sizeof(whole.stats)));
		CHECK(split.synced == whole.synced);
		CHECK(resp_stream__idle(&split) == resp_stream__idle(&whole));
	}

	resp_stream__init(&split, dir);
	b.values = b.bytes = 0;
	for (size_t off = 0, i = 0; off < size; i++) {
		size_t k = chunk(data, size, off, false);

		b.ts = off + 1;
		if (i % 3 == 2) {
			bool was = split.synced;

			if (!resp_stream__skip(&split, k)) {
				CHECK(!split.synced && !resp_stream__idle(&split));
				if (was)
					CHECK(split.stats.lost_sync >= 1);
				resp_stream__resync(&split);
				CHECK(resp_stream__idle(&split));
			}
		} else if (!resp_stream__feed(&split, data + off, k, off + 1, on_value, &b)) {
			CHECK(!split.synced);
			resp_stream__resync(&split);
		}
		off += k;
	}
	CHECK(b.values == split.stats.values);
	CHECK(b.bytes <= size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run(RESP_CMD, data, size);
	run(RESP_REPLY, data, size);
	pattern(data, size, size ? data[0] : 0);
	return 0;
}
