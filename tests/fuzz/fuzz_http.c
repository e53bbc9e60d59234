// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for http.c (built by `make fuzz`, run briefly by `make test`).
 *
 * The input is a script of transfers on one connection: each starts with a control byte
 * (bits 0-1: read, write, idle, close-and-reopen; bits 2-7: how much of the transfer is
 * captured) and a length byte, then that many payload bytes. Both pure parsers also see the
 * whole input. Checks: no crash or leak (ASan), every emitted record is well formed, and every
 * request parsed is accounted for: emitted, still pending, or counted as dropped.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "proto/http.h"

static uint64_t emitted;

static void emit(void *ctx, const struct http_rec *rec)
{
	(void)ctx;
	CHECK(memchr(rec->method, 0, sizeof(rec->method)));
	CHECK(memchr(rec->target, 0, sizeof(rec->target)));
	CHECK(memchr(rec->host, 0, sizeof(rec->host)));
	CHECK(rec->status < 1000);
	CHECK(!rec->t_first || rec->t_first >= rec->t_start);
	CHECK(rec->t_end >= rec->t_start);
	emitted++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_stats st = {};
	struct http_conn c;
	struct http_req_head rq;
	struct http_resp_head rs;
	uint64_t ts = 1000, dropped;
	size_t i = 0;

	if (http__parse_request((const char *)data, size, &rq) == 1) {
		CHECK(rq.method_len && rq.target_len && rq.head_len <= size);
		/* The Host header's value lies inside the input, past the request line. */
		CHECK(!rq.host ||
		      (rq.host > rq.target && rq.host + rq.host_len <= (const char *)data + size));
	}
	if (http__parse_response((const char *)data, size, &rs) == 1)
		CHECK(rs.status >= 100 && rs.status <= 999 && rs.head_len <= size);

	emitted = 0;
	http_conn__init(&c);
	while (i + 2 <= size) {
		unsigned op = data[i] & 3, keep = data[i] >> 2;
		size_t len = data[i + 1], cap;
		const uint8_t *p = data + i + 2;

		i += 2;
		if (len > size - i)
			len = size - i;
		/* Captures are cut like the kernel cuts them: the head only, or none. */
		cap = keep >= 32 ? len : len * keep / 32;
		ts += 1000;
		switch (op) {
		case 0:
			http_conn__read(&c, &st, ts, ts > 7 ? ts - 7 : 0, p, cap, len, emit, NULL);
			break;
		case 1:
			http_conn__write(&c, &st, ts, ts + 10, p, cap, len,
					 p + len - (len < 8 ? len : 8), len < 8 ? len : 8, emit,
					 NULL);
			break;
		case 2:
			http_conn__idle(&c, ts + (uint64_t)len * 10000000, 200000000, emit, NULL);
			break;
		default:
			http_conn__close(&c, &st, ts, emit, NULL);
			http_conn__free(&c);
			http_conn__init(&c);
			break;
		}
		i += len;
	}
	http_conn__close(&c, &st, ts + 1000, emit, NULL);
	CHECK(http_conn__pending(&c) == 0);
	http_conn__free(&c);

	dropped = st.pending_overflow + st.nomem;
	CHECK(emitted <= st.requests + st.responses);
	CHECK(st.requests <= emitted + dropped);
	return 0;
}
