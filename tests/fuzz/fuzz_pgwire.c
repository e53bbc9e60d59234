// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for pgwire.c: the input is a sequence of transfers
 *   [dir/len byte][head byte][tail byte][bytes...]
 * fed to one connection, each captured as its first head*4 and last tail/8 bytes, as the
 * kernel would. Checks: no crash, leak or UB; every query emitted has a sane time order and
 * a text within its length.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "proto/pgwire.h"

static void on_query(const struct pgwire_query *q, void *ctx)
{
	(void)ctx;
	CHECK(q->ts_end >= q->ts_start || (q->flags & PGWIRE_Q_ABORTED));
	CHECK(!q->text || strlen(q->text) == q->text_len);
	CHECK(q->text || q->stmt_name || !q->text_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pgwire_conn *c = pgwire_conn__new();
	uint64_t ts = 1;
	size_t off = 0;

	while (off + 3 <= size) {
		size_t len = (data[off] & 0x7f) + 1, head = data[off + 1] * 4, tail = data[off + 2] / 8;
		bool write = data[off] & 0x80;
		struct pgwire_chunk ch;

		off += 3;
		if (len > size - off)
			len = size - off;
		if (!len)
			break;
		ch = (struct pgwire_chunk){
			.ts_enter = ts,
			.ts_exit = ts + 1,
			.len = len,
			.head = data + off,
			.head_len = head < len ? head : len,
			.tail = data + off + len - (tail < len ? tail : len),
			.tail_len = tail < len ? tail : len,
		};
		ts += 2;
		if (write)
			pgwire_conn__write(c, &ch, on_query, NULL);
		else
			pgwire_conn__read(c, &ch, on_query, NULL);
		off += len;
	}
	pgwire_conn__close(c, ts, on_query, NULL);
	pgwire_conn__free(c);
	return 0;
}
