// SPDX-License-Identifier: GPL-2.0-only
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/http.h"

#define MAXREC 64

struct sink {
	struct http_rec recs[MAXREC];
	int n;
};

static void collect(void *ctx, const struct http_rec *r)
{
	struct sink *s = ctx;

	assert_true(s->n < MAXREC);
	s->recs[s->n++] = *r;
}

struct fixture {
	struct http_conn conn;
	struct http_stats st;
	struct sink sink;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	http_conn__init(&f->conn);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	http_conn__free(&f->conn);
	free(f);
	return 0;
}

/* A read fully captured. */
static void rd(struct fixture *f, uint64_t ts, const char *s)
{
	http_conn__read(&f->conn, &f->st, ts, 0, s, strlen(s), strlen(s), collect, &f->sink);
}

static void tail_of(const char *s, size_t n, const char **tail, size_t *tl)
{
	*tl = n < 8 ? n : 8;
	*tail = s + n - *tl;
}

/* A write fully captured (head = whole buffer, tail = its last bytes). */
static void wr(struct fixture *f, uint64_t t0, uint64_t t1, const char *s)
{
	const char *tail;
	size_t tl, n = strlen(s);

	tail_of(s, n, &tail, &tl);
	http_conn__write(&f->conn, &f->st, t0, t1, s, n, n, tail, tl, collect, &f->sink);
}

/* A continuation write as the kernel forwards it: no head, only length and tail. */
static void wr_short(struct fixture *f, uint64_t t0, uint64_t t1, const char *s)
{
	const char *tail;
	size_t tl, n = strlen(s);

	tail_of(s, n, &tail, &tl);
	http_conn__write(&f->conn, &f->st, t0, t1, NULL, 0, n, tail, tl, collect, &f->sink);
}

#define OK_12 "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nContent-Type: text/plain\r\n\r\n"

static void test_simple_get(void **state)
{
	struct fixture *f = *state;

	rd(f, 1000, "GET /items/42?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(f->sink.n, 0);
	wr(f, 50001000, 50002000, OK_12 "hello world!");
	assert_int_equal(f->sink.n, 1);
	assert_string_equal(f->sink.recs[0].method, "GET");
	assert_string_equal(f->sink.recs[0].target, "/items/42?x=1");
	assert_int_equal(f->sink.recs[0].status, 200);
	assert_int_equal(f->sink.recs[0].t_start, 1000);
	assert_int_equal(f->sink.recs[0].t_first, 50001000);
	assert_int_equal(f->sink.recs[0].t_end, 50002000);
	assert_int_equal(f->sink.recs[0].flags, 0);
	assert_int_equal(http_conn__pending(&f->conn), 0);
}

static void test_body_in_later_writes(void **state)
{
	struct fixture *f = *state;

	rd(f, 10, "GET / HTTP/1.1\r\n\r\n");
	wr(f, 20, 21, OK_12);
	assert_int_equal(f->sink.n, 0);
	wr_short(f, 30, 31, "hello ");
	assert_int_equal(f->sink.n, 0);
	wr_short(f, 40, 41, "world!");
	assert_int_equal(f->sink.n, 1);
	assert_int_equal(f->sink.recs[0].t_first, 20);
	assert_int_equal(f->sink.recs[0].t_end, 41);
	assert_int_equal(f->sink.recs[0].resp_bytes, strlen(OK_12) + 12);
}

static void test_chunked(void **state)
{
	struct fixture *f = *state;

	rd(f, 10, "GET /stream HTTP/1.1\r\n\r\n");
	wr(f, 20, 21, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	wr_short(f, 30, 31, "5\r\nhello\r\n");
	wr_short(f, 40, 41, "10\r\n0123456789abcdef\r\n");
	assert_int_equal(f->sink.n, 0);
	/* The terminator split over two writes still ends the response. */
	wr_short(f, 50, 51, "0\r\n");
	assert_int_equal(f->sink.n, 0);
	wr_short(f, 60, 61, "\r\n");
	assert_int_equal(f->sink.n, 1);
	assert_int_equal(f->sink.recs[0].t_end, 61);
	assert_int_equal(f->sink.recs[0].flags, 0);
}

static void test_chunked_single_write(void **state)
{
	struct fixture *f = *state;

	rd(f, 10, "GET / HTTP/1.1\r\n\r\n");
	wr(f, 20, 21,
	   "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
	assert_int_equal(f->sink.n, 1);
	assert_int_equal(f->sink.recs[0].t_end, 21);
}

static void test_request_split_in_line(void **state)
{
	struct fixture *f = *state;

	rd(f, 100, "GE");
	rd(f, 200, "T /ite");
	rd(f, 300, "ms/7 HTTP/1.1\r\nHo");
	rd(f, 400, "st: x\r\n\r\n");
	assert_int_equal(f->st.requests, 1);
	wr(f, 500, 600, "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
	assert_int_equal(f->sink.n, 1);
	assert_string_equal(f->sink.recs[0].target, "/items/7");
	assert_int_equal(f->sink.recs[0].status, 404);
	/* Latency starts at the first byte of the request. */
	assert_int_equal(f->sink.recs[0].t_start, 100);
	assert_int_equal(f->sink.recs[0].t_end, 600);
}

static void test_post_body_separate_read(void **state)
{
	struct fixture *f = *state;

	rd(f, 10, "POST /orders HTTP/1.1\r\nContent-Length: 18\r\n\r\n");
	/* A body that looks like a request line must not become one. */
	rd(f, 20, "GET / HTTP/1.1\r\n\r\n");
	assert_int_equal(f->st.requests, 1);
	wr(f, 30, 40, "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}");
	assert_int_equal(f->sink.n, 1);
	assert_string_equal(f->sink.recs[0].method, "POST");
	assert_int_equal(f->sink.recs[0].status, 201);
	rd(f, 50, "GET /next HTTP/1.1\r\n\r\n");
	assert_int_equal(f->st.requests, 2);
}

static void test_pipelined_one_read(void **state)
{
	struct fixture *f = *state;

	rd(f, 10,
	   "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nPOST /c HTTP/1.1\r\n"
	   "Content-Length: 3\r\n\r\nxyzGET /d HTTP/1.1\r\n\r\n");
	assert_int_equal(f->st.requests, 4);
	wr(f, 20, 21, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na");
	/* Two responses in one write. */
	wr(f, 30, 31,
	   "HTTP/1.1 500 Oops\r\nContent-Length: 1\r\n\r\nb"
	   "HTTP/1.1 201 OK\r\nContent-Length: 0\r\n\r\n");
	wr(f, 40, 41, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nd");
	assert_int_equal(f->sink.n, 4);
	assert_string_equal(f->sink.recs[0].target, "/a");
	assert_string_equal(f->sink.recs[1].target, "/b");
	assert_string_equal(f->sink.recs[2].target, "/c");
	assert_string_equal(f->sink.recs[3].target, "/d");
	assert_int_equal(f->sink.recs[1].status, 500);
	assert_int_equal(f->sink.recs[2].status, 201);
	assert_int_equal(f->sink.recs[0].flags, 0);
	assert_int_equal(f->sink.recs[3].flags, HTTP_REC_PIPELINED);
	assert_int_equal(f->sink.recs[3].t_start, 10);
	assert_int_equal(f->sink.recs[3].t_end, 41);
}

static void test_keepalive_sequence(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < 23; i++) {
		uint64_t t = (uint64_t)i * 1000000;

		rd(f, t, "GET /items/1 HTTP/1.1\r\n\r\n");
		wr(f, t + 50000, t + 50100, OK_12 "hello world!");
	}
	assert_int_equal(f->sink.n, 23);
	for (int i = 0; i < 23; i++)
		assert_int_equal(f->sink.recs[i].t_end - f->sink.recs[i].t_start, 50100);
}

static void test_garbage(void **state)
{
	struct fixture *f = *state;

	rd(f, 10, "\x16\x03\x01\x02\x00garbage");
	rd(f, 20, "get / http/1.1\r\n\r\n");
	rd(f, 30, "GET / HTTP/2.0\r\n\r\n");
	rd(f, 40, "GET /a b HTTP/1.1\r\n\r\n");
	assert_int_equal(f->st.requests, 0);
	assert_int_equal(f->st.garbage_in, 4);
	wr(f, 50, 51, "SSH-2.0-OpenSSH\r\n");
	assert_int_equal(f->st.garbage_out, 1);
	assert_int_equal(f->sink.n, 0);
	/* Garbage does not poison what follows. */
	rd(f, 60, "GET /ok HTTP/1.1\r\n\r\n");
	wr(f, 70, 71, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->sink.n, 1);
}

static void test_close_aborted(void **state)
{
	struct fixture *f = *state;

	rd(f, 10, "GET /slow HTTP/1.1\r\n\r\n");
	http_conn__close(&f->conn, &f->st, 99, collect, &f->sink);
	assert_int_equal(f->sink.n, 1);
	assert_int_equal(f->sink.recs[0].flags, HTTP_REC_ABORTED);
	assert_int_equal(f->sink.recs[0].status, 0);
	assert_int_equal(f->sink.recs[0].t_end, 99);
}

static void test_close_mid_head(void **state)
{
	struct fixture *f = *state;

	/* The client sent half a head and hung up: an aborted request, not nothing. */
	rd(f, 10, "GET /items/77 HTTP/1.1\r\nHost: t\r\n");
	http_conn__close(&f->conn, &f->st, 99, collect, &f->sink);
	assert_int_equal(f->sink.n, 1);
	assert_string_equal(f->sink.recs[0].target, "/items/77");
	assert_int_equal(f->sink.recs[0].flags, HTTP_REC_ABORTED);
	assert_int_equal(f->sink.recs[0].t_start, 10);
	/* The server may take EOF as the end of the head and answer: still one request. */
	rd(f, 50, "GET /items/78 HTTP/1.1\r\nHost: t\r\n");
	wr(f, 60, 61, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->sink.n, 2);
	assert_string_equal(f->sink.recs[1].target, "/items/78");
	assert_int_equal(f->sink.recs[1].status, 200);
	assert_int_equal(f->st.no_request, 0);
	http_conn__close(&f->conn, &f->st, 70, collect, &f->sink);
	assert_int_equal(f->sink.n, 2);
	/* Less than a request line is not a request. */
	rd(f, 110, "GET /ite");
	http_conn__close(&f->conn, &f->st, 199, collect, &f->sink);
	assert_int_equal(f->sink.n, 2);
}

static void test_close_mid_body(void **state)
{
	struct fixture *f = *state;

	rd(f, 10, "GET /big HTTP/1.1\r\n\r\n");
	wr(f, 20, 21, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
	wr_short(f, 30, 31, "some bytes");
	http_conn__close(&f->conn, &f->st, 99, collect, &f->sink);
	assert_int_equal(f->sink.n, 1);
	assert_int_equal(f->sink.recs[0].flags, HTTP_REC_INCOMPLETE);
	assert_int_equal(f->sink.recs[0].t_end, 31);
}

static void test_close_delimited(void **state)
{
	struct fixture *f = *state;

	rd(f, 10, "GET / HTTP/1.0\r\n\r\n");
	wr(f, 20, 21, "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>");
	wr_short(f, 30, 31, "</html>");
	assert_int_equal(f->sink.n, 0);
	http_conn__close(&f->conn, &f->st, 99, collect, &f->sink);
	assert_int_equal(f->sink.n, 1);
	assert_int_equal(f->sink.recs[0].t_end, 31);
	assert_int_equal(f->sink.recs[0].flags, HTTP_REC_LEN_UNKNOWN);
}

static void test_unknown_len_ended_by_next_request_and_idle(void **state)
{
	struct fixture *f = *state;

	rd(f, 10, "GET /1 HTTP/1.1\r\n\r\n");
	wr(f, 20, 21, "HTTP/1.1 200 OK\r\n\r\nbody");
	wr_short(f, 30, 31, "more");
	rd(f, 40, "GET /2 HTTP/1.1\r\n\r\n");
	assert_int_equal(f->sink.n, 1);
	assert_int_equal(f->sink.recs[0].t_end, 31);
	wr(f, 50, 51, "HTTP/1.1 200 OK\r\n\r\nbody");
	http_conn__idle(&f->conn, 51 + 999, 1000, collect, &f->sink);
	assert_int_equal(f->sink.n, 1);
	http_conn__idle(&f->conn, 51 + 1000, 1000, collect, &f->sink);
	assert_int_equal(f->sink.n, 2);
	assert_int_equal(f->sink.recs[1].t_end, 51);
	assert_int_equal(f->sink.recs[1].flags, HTTP_REC_LEN_UNKNOWN);
}

static void test_no_body_cases(void **state)
{
	struct fixture *f = *state;

	rd(f, 10, "HEAD /h HTTP/1.1\r\n\r\n");
	wr(f, 20, 21, "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n");
	rd(f, 30, "GET /n HTTP/1.1\r\n\r\n");
	wr(f, 40, 41, "HTTP/1.1 304 Not Modified\r\nContent-Length: 5000\r\n\r\n");
	rd(f, 50, "DELETE /d/1 HTTP/1.1\r\n\r\n");
	wr(f, 60, 61, "HTTP/1.1 204 No Content\r\n\r\n");
	assert_int_equal(f->sink.n, 3);
	assert_int_equal(f->sink.recs[0].t_end, 21);
	assert_int_equal(f->sink.recs[1].status, 304);
	assert_int_equal(f->sink.recs[2].status, 204);
	assert_string_equal(f->sink.recs[2].method, "DELETE");
}

static void test_continue_and_upgrade(void **state)
{
	struct fixture *f = *state;

	rd(f, 10, "POST /up HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
	wr(f, 20, 21, "HTTP/1.1 100 Continue\r\n\r\n");
	rd(f, 30, "data");
	wr(f, 40, 41, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	assert_int_equal(f->sink.n, 1);
	assert_int_equal(f->sink.recs[0].status, 200);
	assert_int_equal(f->sink.recs[0].t_first, 20);
	rd(f, 50, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
	wr(f, 60, 61, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
	assert_int_equal(f->sink.n, 2);
	assert_int_equal(f->sink.recs[1].status, 101);
	assert_int_equal(f->sink.recs[1].flags, HTTP_REC_UPGRADE);
	rd(f, 70, "\x81\x05hello");
	wr(f, 80, 81, "\x81\x05hello");
	assert_int_equal(f->st.after_upgrade, 2);
	assert_int_equal(f->st.garbage_in, 0);
}

static void test_truncated_capture(void **state)
{
	struct fixture *f = *state;
	char req[2048];
	size_t n;

	n = (size_t)snprintf(req, sizeof(req), "GET /search?q=%0900d HTTP/1.1\r\nHost: a\r\n\r\n",
			     7);
	/* The kernel captured the first 512 bytes of a longer read. */
	http_conn__read(&f->conn, &f->st, 10, 0, req, 512, n, collect, &f->sink);
	assert_int_equal(f->st.requests, 1);
	wr(f, 20, 21, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->sink.n, 1);
	assert_true(f->sink.recs[0].flags & HTTP_REC_TARGET_CUT);
	assert_int_equal(strncmp(f->sink.recs[0].target, "/search?q=0000", 14), 0);
	assert_int_equal(strlen(f->sink.recs[0].target), HTTP_TARGET_MAX - 1);
}

static void test_response_head_truncated(void **state)
{
	struct fixture *f = *state;
	char resp[1024];
	int n = snprintf(resp, sizeof(resp),
			 "HTTP/1.1 503 Busy\r\nX-Pad: %0600d\r\nContent-Length: 3\r\n\r\nabc", 1);

	rd(f, 10, "GET / HTTP/1.1\r\n\r\n");
	http_conn__write(&f->conn, &f->st, 20, 21, resp, 512, (uint64_t)n, resp + n - 8, 8, collect,
			 &f->sink);
	http_conn__close(&f->conn, &f->st, 30, collect, &f->sink);
	assert_int_equal(f->sink.n, 1);
	assert_int_equal(f->sink.recs[0].status, 503);
	assert_int_equal(f->sink.recs[0].flags, HTTP_REC_LEN_UNKNOWN);
}

static void test_no_request(void **state)
{
	struct fixture *f = *state;

	wr(f, 20, 21, "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->sink.n, 1);
	assert_int_equal(f->sink.recs[0].flags, HTTP_REC_NO_REQUEST);
	assert_int_equal(f->st.no_request, 1);
	/* with no request read, it is timed from its own write */
	assert_int_equal(f->sink.recs[0].t_start, 20);
	assert_int_equal(f->sink.recs[0].t_first, 20);
	assert_int_equal(f->sink.recs[0].t_end, 21);
}

static void test_pending_overflow(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < HTTP_PENDING_MAX + 3; i++)
		rd(f, 10, "GET / HTTP/1.1\r\n\r\n");
	assert_int_equal(f->st.pending_overflow, 3);
	assert_int_equal(http_conn__pending(&f->conn), HTTP_PENDING_MAX);
	http_conn__close(&f->conn, &f->st, 20, collect, &f->sink);
	assert_int_equal(f->sink.n, HTTP_PENDING_MAX);
}

static void test_parse_request_prefixes(void **state)
{
	static const char full[] = "PATCH /v1/x HTTP/1.1\r\ncontent-length:  17 \r\n\r\n";
	struct http_req_head h;

	/* Every strict prefix of a valid request is "need more", never "garbage". */
	for (size_t i = 0; i < sizeof(full) - 1; i++) {
		int r = http__parse_request(full, i, &h);

		/* nor a complete head: no blank line yet, not chunked */
		assert_true(r == 0 || r == 1);
		assert_int_equal(h.head_len, 0);
		assert_false(h.chunked);
		if (r == 0)
			assert_int_equal(h.content_length, -1);
	}
	assert_int_equal(http__parse_request(full, sizeof(full) - 1, &h), 1);
	assert_int_equal(h.head_len, sizeof(full) - 1);
	assert_int_equal(h.content_length, 17);
	assert_int_equal(h.method_len, 5);
	assert_int_equal(h.version_minor, 1);
	assert_int_equal(http__parse_request("GET / HTTP/1.1\n\n", 16, &h), 1);
	assert_int_equal(h.head_len, 16);
	assert_int_equal(
		http__parse_request("GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 38, &h), 1);
	assert_int_equal(h.content_length, -1);
	assert_int_equal(http__parse_request("VERYLONGMETHODNAME / HTTP/1.1\r\n", 31, &h), -1);
	assert_int_equal(http__parse_request(" / HTTP/1.1\r\n", 13, &h), -1);
	assert_int_equal(http__parse_request("GET  HTTP/1.1\r\n", 15, &h), -1);
}

static void test_parse_response(void **state)
{
	struct http_resp_head h;
	const char *s =
		"HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";

	assert_int_equal(http__parse_response(s, strlen(s), &h), 1);
	assert_int_equal(h.status, 429);
	assert_true(h.close);
	assert_int_equal(h.content_length, 0);
	assert_int_equal(h.head_len, strlen(s));
	assert_int_equal(http__parse_response("HTTP/1.1 20", 11, &h), 0);
	assert_int_equal(http__parse_response("HTTP/1.1 2x0 OK\r\n", 17, &h), -1);
	assert_int_equal(http__parse_response("HTTP/1.1 099 Low\r\n", 18, &h), -1);
	assert_int_equal(http__parse_response("HTTP/2 200\r\n", 12, &h), -1);
	assert_int_equal(http__parse_response("HTTP/1.1 200\r\n\r\n", 16, &h), 1);
	assert_int_equal(h.status, 200);
	assert_int_equal(h.head_len, 16);
}

/* Transfer-Encoding tokens: a whole comma-separated word, any case, then space, tab or ';'. */
static void test_header_tokens(void **state)
{
	static const struct {
		const char *te;
		bool chunked;
	} cases[] = {
		{ "chunked", true },	  { "CHUNKED", true },	  { "gzip, chunked", true },
		{ "gzip,chunked", true }, { "chunked\t", true },  { "chunked ", true },
		{ "chunked;x=1", true },  { "\tchunked", true },  { "chunkedx", false },
		{ "xchunked", false },	  { "chunked-x", false }, { "gzip", false },
		{ "chunke", false },	  { "chunked.", false },  { "", false },
	};
	struct http_req_head h;
	char buf[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = snprintf(buf, sizeof(buf),
				 "POST / HTTP/1.1\r\nTransfer-Encoding: %s\r\n\r\n", cases[i].te);

		assert_int_equal(http__parse_request(buf, (size_t)n, &h), 1);
		if (h.chunked != cases[i].chunked)
			fail_msg("\"%s\": chunked %d", cases[i].te, h.chunked);
	}
	{
		struct http_resp_head r;
		const char *yes = "HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\n\r\n";
		const char *no = "HTTP/1.1 200 OK\r\nConnection: closed\r\n\r\n";

		assert_int_equal(http__parse_response(yes, strlen(yes), &r), 1);
		assert_true(r.close);
		assert_int_equal(http__parse_response(no, strlen(no), &r), 1);
		assert_false(r.close);
	}
}

/* Method lengths, and a request line's end: CR LF, LF, or garbage. */
static void test_parse_request_limits(void **state)
{
	struct http_req_head h;

	/* 15 method characters fit HTTP_METHOD_MAX (16, NUL included); 16 do not */
	assert_int_equal(http__parse_request("ABCDEFGHIJKLMNO / HTTP/1.1\r\n\r\n", 30, &h), 1);
	assert_int_equal(h.method_len, 15);
	assert_int_equal(http__parse_request("ABCDEFGHIJKLMNOP / HTTP/1.1\r\n\r\n", 31, &h), -1);
	/* still reading the method: more is needed, up to 15 characters */
	assert_int_equal(http__parse_request("ABCDEFGHIJKLMNO", 15, &h), 0);
	assert_int_equal(http__parse_request("ABCDEFGHIJKLMNOP", 16, &h), -1);
	assert_int_equal(http__parse_request("", 0, &h), 0);
	assert_int_equal(http__parse_request("GET / HTTP/1.1\rX", 16, &h), -1);
	assert_int_equal(http__parse_request("GET / HTTP/1.1X", 15, &h), -1);
	assert_int_equal(http__parse_request("GET / HTTP/1.x\r\n", 16, &h), -1);
	assert_int_equal(http__parse_request("GET / HTTP/2.0\r\n", 16, &h), -1);
	assert_int_equal(http__parse_request("GET / HTTX", 10, &h), -1);
	assert_int_equal(http__parse_request("GET / HTTP/1.1\r", 15, &h), 0);
	assert_int_equal(http__parse_request("GET / HTTP/1.0\n", 15, &h), 1);
	assert_int_equal(h.head_len, 0);
	assert_int_equal(h.version_minor, 0);
	assert_int_equal(h.target_len, 1);
	assert_int_equal(http__parse_request("GET /a\x7f HTTP/1.1\r\n", 19, &h), -1);
	assert_int_equal(http__parse_request("get / HTTP/1.1\r\n", 16, &h), -1);
	assert_int_equal(http__parse_request("M-SEARCH_X * HTTP/1.1\r\n\r\n", 25, &h), 1);
	assert_int_equal(h.method_len, 10);
}

/* A status line: every prefix needs more; one without its line end is still a response. */
static void test_parse_response_prefixes(void **state)
{
	static const char full[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
	struct http_resp_head h;

	for (size_t i = 0; i < 12; i++)
		assert_int_equal(http__parse_response(full, i, &h), 0);
	assert_int_equal(http__parse_response(full, 15, &h), 1);
	assert_int_equal(h.status, 200);
	assert_int_equal(h.head_len, 0);
	assert_int_equal(h.content_length, -1);
	assert_int_equal(http__parse_response(full, sizeof(full) - 1, &h), 1);
	assert_int_equal(h.head_len, sizeof(full) - 1);
	assert_int_equal(h.content_length, 5);
	assert_int_equal(http__parse_response("HTTP/1.1X200", 12, &h), -1);
	assert_int_equal(http__parse_response("HTTP/1.1 100", 12, &h), 1);
	assert_int_equal(h.status, 100);
	assert_int_equal(http__parse_response("HTTX", 4, &h), -1);
}

/*
 * A chunked request body cannot be measured: it ends where a request line starts a read,
 * even one whose line continues in the next read.
 */
static void test_request_after_unknown_body(void **state)
{
	struct fixture *f = *state;

	rd(f, 10, "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
	rd(f, 11, "5\r\nhello\r\n0\r\n\r\n");
	assert_int_equal(f->st.requests, 1);
	assert_int_equal(f->st.garbage_in, 0);
	rd(f, 20, "GET /x HT");
	rd(f, 21, "TP/1.1\r\n\r\n");
	assert_int_equal(f->st.requests, 2);
	wr(f, 30, 31, "HTTP/1.1 204 No Content\r\n\r\n");
	wr(f, 40, 41, "HTTP/1.1 204 No Content\r\n\r\n");
	assert_int_equal(f->sink.n, 2);
	assert_string_equal(f->sink.recs[1].target, "/x");
	assert_int_equal(f->sink.recs[1].t_start, 20);
}

/* A connection reused after close keeps working, pipelining included. */
static void test_reuse_after_close(void **state)
{
	struct fixture *f = *state;

	rd(f, 10, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
	http_conn__close(&f->conn, &f->st, 20, collect, &f->sink);
	assert_int_equal(f->sink.n, 2);
	rd(f, 30, "GET /c HTTP/1.1\r\n\r\nGET /d HTTP/1.1\r\n\r\nGET /e HTTP/1.1\r\n\r\n");
	assert_int_equal(http_conn__pending(&f->conn), 3);
	wr(f, 40, 41, "HTTP/1.1 204 No Content\r\n\r\n");
	assert_int_equal(f->sink.n, 3);
	assert_string_equal(f->sink.recs[2].target, "/c");
	assert_int_equal(f->sink.recs[2].flags, 0);
}

/* Header names compare whole and ignoring case; a near miss is another header. */
static void test_header_names(void **state)
{
	struct http_req_head h;
	const char *near = "POST / HTTP/1.1\r\nContent-Lengtx: 5\r\n\r\n",
		   *upper = "POST / HTTP/1.1\r\nCONTENT-LENGTH: 5\r\n\r\n",
		   *te_upper = "POST / HTTP/1.1\r\nTRANSFER-ENCODING: chunked\r\n\r\n";
	struct http_resp_head r;

	assert_int_equal(http__parse_request(near, strlen(near), &h), 1);
	assert_int_equal(h.content_length, -1);
	assert_int_equal(http__parse_request(upper, strlen(upper), &h), 1);
	assert_int_equal(h.content_length, 5);
	/* 'A', the first upper-case letter, folds too */
	assert_int_equal(http__parse_request(te_upper, strlen(te_upper), &h), 1);
	assert_true(h.chunked);
	assert_int_equal(http__parse_response("HTTP/1.x 200 OK\r\n", 17, &r), -1);
	assert_int_equal(http__parse_response("HTTP/1.1 2", 10, &r), 0);
}

/* The arrival time is kept only when it is known and not after the read. */
static void test_arrival(void **state)
{
	struct fixture *f = *state;
	const char *req = "GET / HTTP/1.1\r\n\r\n";

	http_conn__read(&f->conn, &f->st, 10, 5, req, strlen(req), strlen(req), collect, &f->sink);
	http_conn__read(&f->conn, &f->st, 20, 21, req, strlen(req), strlen(req), collect, &f->sink);
	http_conn__read(&f->conn, &f->st, 30, 0, req, strlen(req), strlen(req), collect, &f->sink);
	http_conn__close(&f->conn, &f->st, 40, collect, &f->sink);
	assert_int_equal(f->sink.n, 3);
	assert_int_equal(f->sink.recs[0].t_arrival, 5);
	assert_int_equal(f->sink.recs[1].t_arrival, 0);
	assert_int_equal(f->sink.recs[2].t_arrival, 0);
}

/* Body bytes the kernel skipped: the next request line at a read boundary ends the body. */
static void test_read_gap(void **state)
{
	struct fixture *f = *state;

	rd(f, 10, "POST /up HTTP/1.1\r\nContent-Length: 100\r\n\r\n0123456789");
	http_conn__read_gap(&f->conn);
	rd(f, 15, "more body bytes"); /* the rest of the body: not garbage */
	assert_int_equal(f->st.garbage_in, 0);
	rd(f, 20, "GET /next HTTP/1.1\r\n\r\n");
	assert_int_equal(f->st.requests, 2);
	http_conn__close(&f->conn, &f->st, 30, collect, &f->sink);
	assert_string_equal(f->sink.recs[1].target, "/next");
	/* a gap outside a body changes nothing */
	rd(f, 40, "GET /a HTTP/1.1\r\n\r\n");
	http_conn__read_gap(&f->conn);
	rd(f, 50, "GET /b HTTP/1.1\r\n\r\n");
	assert_int_equal(f->st.requests, 4);
}

/*
 * A head joined over reads: a request line that turns out garbage is dropped and the next
 * read starts afresh; a head whose rest was not captured is still a request.
 */
static void test_joined_head_edges(void **state)
{
	struct fixture *f = *state;
	char big[2000];

	rd(f, 10, "GET /x HT");
	rd(f, 11, "XX/1.1\r\n\r\n");
	assert_int_equal(f->st.garbage_in, 1);
	assert_int_equal(f->st.requests, 0);
	rd(f, 20, "GET /y HTTP/1.1\r\n\r\n");
	assert_int_equal(f->st.requests, 1);
	wr(f, 21, 22, "HTTP/1.1 204 No Content\r\n\r\n");
	rd(f, 30, "GET /z HT");
	memset(big, 'a', sizeof(big));
	memcpy(big, "TP/1.1\r\nX-Big: ", 15);
	http_conn__read(&f->conn, &f->st, 31, 0, big, 40, sizeof(big), collect, &f->sink);
	assert_int_equal(f->st.requests, 2);
	wr(f, 50, 51, "HTTP/1.1 204 No Content\r\n\r\n");
	assert_int_equal(f->sink.n, 2);
	assert_string_equal(f->sink.recs[1].target, "/z");
	assert_int_equal(f->sink.recs[1].t_start, 30);
	assert_int_equal(f->sink.recs[1].flags, 0);
}

/* A target of HTTP_TARGET_MAX - 1 bytes is kept whole; one byte more is cut to that length. */
static void test_target_longest_kept_whole(void **state)
{
	struct fixture *f = *state;
	char req[HTTP_TARGET_MAX + 64], want[HTTP_TARGET_MAX + 1];

	for (size_t tl = HTTP_TARGET_MAX - 1; tl <= HTTP_TARGET_MAX; tl++) {
		int n;

		want[0] = '/';
		memset(want + 1, 'p', tl - 1);
		want[tl] = '\0';
		n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n\r\n", want);
		rd(f, 10, req);
		wr(f, 20, 21, "HTTP/1.1 204 No Content\r\n\r\n");
		assert_int_equal(n, tl + 17);
	}
	assert_int_equal(f->sink.n, 2);
	assert_int_equal(f->sink.recs[0].flags, 0);
	assert_int_equal(strlen(f->sink.recs[0].target), HTTP_TARGET_MAX - 1);
	assert_memory_equal(f->sink.recs[0].target, want, HTTP_TARGET_MAX - 1);
	assert_int_equal(f->sink.recs[0].status, 204);
	assert_int_equal(f->sink.recs[1].flags, HTTP_REC_TARGET_CUT);
	assert_int_equal(strlen(f->sink.recs[1].target), HTTP_TARGET_MAX - 1);
	assert_memory_equal(f->sink.recs[1].target, want, HTTP_TARGET_MAX - 1);
	assert_int_equal(f->sink.recs[1].status, 204);
}

/* Only a request read while an earlier one waits for its response is pipelined. */
static void test_pipelined_from_the_second_unanswered(void **state)
{
	struct fixture *f = *state;

	rd(f, 10, "GET /a HTTP/1.1\r\n\r\n");
	rd(f, 11, "GET /b HTTP/1.1\r\n\r\n");
	wr(f, 20, 21, "HTTP/1.1 204 No Content\r\n\r\n");
	wr(f, 22, 23, "HTTP/1.1 204 No Content\r\n\r\n");
	rd(f, 30, "GET /c HTTP/1.1\r\n\r\n");
	wr(f, 40, 41, "HTTP/1.1 204 No Content\r\n\r\n");
	assert_int_equal(f->sink.n, 3);
	assert_string_equal(f->sink.recs[0].target, "/a");
	assert_int_equal(f->sink.recs[0].flags, 0);
	assert_string_equal(f->sink.recs[1].target, "/b");
	assert_int_equal(f->sink.recs[1].flags, HTTP_REC_PIPELINED);
	/* once both were answered, the next one is alone again */
	assert_int_equal(f->sink.recs[2].flags, 0);
}

/* A head joined over reads is followed by its Content-Length body, then the next request. */
static void test_joined_head_then_body(void **state)
{
	struct fixture *f = *state;

	rd(f, 10, "POST /orders HTTP/1.1\r\nContent-Le");
	rd(f, 11, "ngth: 46\r\n\r\nGET /body1 HTTP/1.1\r\n\r\n");
	/* the body's other half, also shaped like a request line */
	rd(f, 12, "GET /body2 HTTP/1.1\r\n\r\n");
	assert_int_equal(f->st.requests, 1);
	rd(f, 13, "GET /next HTTP/1.1\r\n\r\n");
	assert_int_equal(f->st.requests, 2);
	assert_int_equal(f->st.garbage_in, 0);
	http_conn__close(&f->conn, &f->st, 20, collect, &f->sink);
	assert_int_equal(f->sink.n, 2);
	assert_string_equal(f->sink.recs[0].target, "/orders");
	assert_string_equal(f->sink.recs[1].target, "/next");
}

/* A head the response cut short (flushed as a request) leaves the next read a request line. */
static void test_request_after_head_ended_by_response(void **state)
{
	struct fixture *f = *state;

	rd(f, 10, "GET /a HTTP/1.1\r\nHost: t\r\n");
	wr(f, 20, 21, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->sink.n, 1);
	rd(f, 30, "GET /b HTTP/1.1\r\n\r\n");
	assert_int_equal(f->st.requests, 2);
	assert_int_equal(f->st.garbage_in, 0);
	wr(f, 40, 41, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->sink.n, 2);
	assert_string_equal(f->sink.recs[1].target, "/b");
	assert_int_equal(f->sink.recs[1].status, 200);
	assert_int_equal(f->sink.recs[1].t_start, 30);
}

/*
 * A read whose head was captured only in part: its body has no known length, so reads that
 * are not request lines are body, not garbage, until a request line starts a read.
 */
static void test_uncaptured_head_rest_makes_body_unknown(void **state)
{
	struct fixture *f = *state;
	static const char head[] = "POST /up HTTP/1.1\r\nContent-Length: 5000\r\n";
	char big[1000];

	memset(big, 'x', sizeof(big));
	memcpy(big, head, sizeof(head) - 1);
	/* the capture ends inside the Content-Length line */
	http_conn__read(&f->conn, &f->st, 10, 0, big, 30, sizeof(big), collect, &f->sink);
	assert_int_equal(f->st.requests, 1);
	rd(f, 11, "xxxxxxxx body bytes");
	assert_int_equal(f->st.garbage_in, 0);
	rd(f, 12, "GET /next HTTP/1.1\r\n\r\n");
	assert_int_equal(f->st.requests, 2);
	http_conn__close(&f->conn, &f->st, 20, collect, &f->sink);
	assert_int_equal(f->sink.n, 2);
	assert_string_equal(f->sink.recs[0].target, "/up");
	assert_string_equal(f->sink.recs[1].target, "/next");
}

/*
 * A response head cut by the capture: a final status (200 and up) is kept, an interim one
 * (1xx) is not the request's status.
 */
static void test_cut_response_head_keeps_final_status(void **state)
{
	struct fixture *f = *state;
	static const unsigned codes[] = { 200, 199 }, want[] = { 200, 0 };
	char resp[1024];

	for (int i = 0; i < 2; i++) {
		int n = snprintf(resp, sizeof(resp), "HTTP/1.1 %u X\r\nX-Pad: %0600d\r\n\r\n",
				 codes[i], 1);

		rd(f, 10, "GET / HTTP/1.1\r\n\r\n");
		http_conn__write(&f->conn, &f->st, 20, 21, resp, 100, (uint64_t)n, resp + n - 8, 8,
				 collect, &f->sink);
		http_conn__close(&f->conn, &f->st, 30, collect, &f->sink);
		assert_int_equal(f->sink.n, i + 1);
		assert_int_equal(f->sink.recs[i].status, want[i]);
		assert_int_equal(f->sink.recs[i].resp_bytes, n);
		/* its end is inferred: the last write seen, the head's own */
		assert_int_equal(f->sink.recs[i].t_end, 21);
		assert_int_equal(f->sink.recs[i].flags, HTTP_REC_LEN_UNKNOWN);
	}
}

/*
 * The chunked last-chunk is matched over bytes known to be contiguous only: after a write
 * whose bytes were not read (no head, no tail), a short "0\r\n\r\n" may be chunk data.
 */
static void test_chunked_end_not_matched_across_unread_write(void **state)
{
	struct fixture *f = *state;

	rd(f, 10, "GET /c HTTP/1.1\r\n\r\n");
	wr(f, 20, 21, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	wr_short(f, 30, 31, "5\r\nhello\r\n");
	/* "415\r\n" and the first 1019 bytes of that 1045-byte chunk, unread */
	http_conn__write(&f->conn, &f->st, 40, 41, NULL, 0, 1024, NULL, 0, collect, &f->sink);
	wr_short(f, 50, 51, "0\r\n\r\n");
	assert_int_equal(f->sink.n, 0);
	wr_short(f, 60, 61, "the rest of the chunk\r\n0\r\n\r\n");
	assert_int_equal(f->sink.n, 1);
	assert_int_equal(f->sink.recs[0].t_end, 61);
	assert_int_equal(f->sink.recs[0].flags, 0);
}

/* A request read while a response of known length is being written does not end it. */
static void test_request_during_sized_body_waits_for_it(void **state)
{
	struct fixture *f = *state;

	rd(f, 10, "GET /a HTTP/1.1\r\n\r\n");
	wr(f, 20, 21, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234");
	rd(f, 30, "GET /b HTTP/1.1\r\n\r\n");
	assert_int_equal(f->sink.n, 0);
	wr_short(f, 40, 41, "56789");
	assert_int_equal(f->sink.n, 1);
	assert_string_equal(f->sink.recs[0].target, "/a");
	assert_int_equal(f->sink.recs[0].t_end, 41);
	assert_int_equal(f->sink.recs[0].flags, 0);
	wr(f, 50, 51, "HTTP/1.1 204 No Content\r\n\r\n");
	assert_int_equal(f->sink.n, 2);
	assert_string_equal(f->sink.recs[1].target, "/b");
	assert_int_equal(f->sink.recs[1].status, 204);
	assert_int_equal(f->st.garbage_out, 0);
}

/* A pipelined request whose head starts after another in the same read and ends in the next. */
static void test_pipelined_head_continues_in_next_read(void **state)
{
	struct fixture *f = *state;

	rd(f, 10, "GET /a HTTP/1.1\r\n\r\nGET /b HT");
	rd(f, 20, "TP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(f->st.requests, 2);
	assert_int_equal(f->st.garbage_in, 0);
	wr(f, 30, 31, "HTTP/1.1 204 No Content\r\n\r\n");
	wr(f, 40, 41, "HTTP/1.1 204 No Content\r\n\r\n");
	assert_int_equal(f->sink.n, 2);
	assert_string_equal(f->sink.recs[0].target, "/a");
	assert_string_equal(f->sink.recs[1].target, "/b");
	assert_int_equal(f->sink.recs[1].t_start, 10);
	assert_int_equal(f->sink.recs[1].flags, HTTP_REC_PIPELINED);
}

/*
 * A request line the capture ended: its target is cut when the capture ended inside it, not
 * when the capture ended after it (in " HTTP/1."), whether in one read or joined over two.
 */
static void test_target_cut_only_when_capture_ends_inside_it(void **state)
{
	static const struct {
		const char *first;  /* a whole read, or NULL */
		const char *capped; /* the capture of a 1000-byte read */
		const char *target;
		unsigned flags;
	} cases[] = {
		{ NULL, "GET /abc HTTP/1.", "/abc", HTTP_REC_ABORTED },
		{ NULL, "GET /abc ", "/abc", HTTP_REC_ABORTED },
		{ NULL, "GET /abc", "/abc", HTTP_REC_ABORTED | HTTP_REC_TARGET_CUT },
		{ "GET /x", "yz HTTP/1", "/xyz", HTTP_REC_ABORTED },
		{ "GET /x", "yz", "/xyz", HTTP_REC_ABORTED | HTTP_REC_TARGET_CUT },
	};
	struct fixture *f = *state;
	char big[1000];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = strlen(cases[i].capped);

		memset(big, 'q', sizeof(big));
		memcpy(big, cases[i].capped, n);
		if (cases[i].first)
			rd(f, 10, cases[i].first);
		http_conn__read(&f->conn, &f->st, 11, 0, big, n, sizeof(big), collect, &f->sink);
		http_conn__close(&f->conn, &f->st, 20, collect, &f->sink);
		assert_int_equal(f->sink.n, i + 1);
		assert_string_equal(f->sink.recs[i].target, cases[i].target);
		if (f->sink.recs[i].flags != cases[i].flags)
			fail_msg("case %zu: flags %#x, want %#x", i, f->sink.recs[i].flags,
				 cases[i].flags);
	}
}

/* An unterminated chunked response closed by the peer ends at its last write. */
static void test_chunked_unterminated_ends_at_last_write(void **state)
{
	struct fixture *f = *state;

	rd(f, 10, "GET /c HTTP/1.1\r\n\r\n");
	wr(f, 20, 21, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	wr_short(f, 30, 31, "5\r\nhello\r\n");
	http_conn__close(&f->conn, &f->st, 99, collect, &f->sink);
	assert_int_equal(f->sink.n, 1);
	assert_int_equal(f->sink.recs[0].t_end, 31);
	assert_int_equal(f->sink.recs[0].flags, HTTP_REC_LEN_UNKNOWN);
	assert_int_equal(f->sink.recs[0].resp_bytes,
			 strlen("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") + 10);
}

/* A connection reused after a close mid-body or after an upgrade parses HTTP afresh. */
static void test_reuse_after_close_mid_body_and_upgrade(void **state)
{
	struct fixture *f = *state;

	rd(f, 10, "POST /up HTTP/1.1\r\nContent-Length: 100\r\n\r\n0123456789");
	http_conn__close(&f->conn, &f->st, 20, collect, &f->sink);
	rd(f, 30, "GET /new HTTP/1.1\r\n\r\n");
	wr(f, 40, 41, "HTTP/1.1 204 No Content\r\n\r\n");
	assert_int_equal(f->sink.n, 2);
	assert_string_equal(f->sink.recs[1].target, "/new");
	assert_int_equal(f->sink.recs[1].status, 204);
	rd(f, 50, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
	wr(f, 60, 61, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
	http_conn__close(&f->conn, &f->st, 70, collect, &f->sink);
	rd(f, 80, "GET /again HTTP/1.1\r\n\r\n");
	wr(f, 90, 91, "HTTP/1.1 204 No Content\r\n\r\n");
	assert_int_equal(f->sink.n, 4);
	assert_string_equal(f->sink.recs[3].target, "/again");
	assert_int_equal(f->sink.recs[3].flags, 0);
	assert_int_equal(f->st.after_upgrade, 0);
	assert_int_equal(f->st.requests, 4);
}

/*
 * The Host header, for the client side's destination: the first one, without the blanks
 * around it, any case of the name; absent, or past the bytes captured: none; cut to fit.
 */
static void test_host_header(void **state)
{
	struct fixture *f = *state;
	struct http_req_head h;
	const char *two = "GET / HTTP/1.1\r\nhOsT: \t api.example:8443 \t\r\nHost: b\r\n\r\n",
		   *none = "GET / HTTP/1.1\r\nHostx: a\r\n\r\n";
	char big[HTTP_HOST_MAX + 64], head[sizeof(big) + 64];

	assert_int_equal(http__parse_request(two, strlen(two), &h), 1);
	assert_int_equal(h.host_len, strlen("api.example:8443"));
	assert_memory_equal(h.host, "api.example:8443", h.host_len);
	assert_int_equal(http__parse_request(none, strlen(none), &h), 1);
	assert_null(h.host);
	assert_int_equal(h.host_len, 0);

	rd(f, 10, two);
	wr(f, 20, 21, "HTTP/1.1 204 No Content\r\n\r\n");
	assert_int_equal(f->sink.n, 1);
	assert_string_equal(f->sink.recs[0].host, "api.example:8443");

	memset(big, 'h', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(head, sizeof(head), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", big);
	rd(f, 30, head);
	wr(f, 40, 41, "HTTP/1.1 204 No Content\r\n\r\n");
	assert_int_equal(f->sink.n, 2);
	assert_int_equal(strlen(f->sink.recs[1].host), HTTP_HOST_MAX - 1);

	/* A head cut before its Host: the request counts, with no host. */
	http_conn__read(&f->conn, &f->st, 50, 0, two, 18, strlen(two), collect, &f->sink);
	wr(f, 60, 61, "HTTP/1.1 204 No Content\r\n\r\n");
	assert_int_equal(f->sink.n, 3);
	assert_string_equal(f->sink.recs[2].host, "");
}

/*
 * The client side is the same exchange with the directions swapped: the parser's request side
 * fed with the connection's writes, its response side with its reads (record/httpclient.c
 * passes a read's end as both its times). A body written in a second write is skipped; an
 * answer split over reads ends with its last byte.
 */
static void test_client_direction(void **state)
{
	struct fixture *f = *state;

	rd(f, 100, "POST /pay HTTP/1.1\r\nHost: psp\r\nContent-Length: 4\r\n\r\n");
	rd(f, 110, "abcd");
	assert_int_equal(f->st.garbage_in, 0);
	wr(f, 200, 200, "HTTP/1.1 201 Created\r\nContent-Length: 6\r\n\r\nab");
	wr(f, 300, 300, "cdef");
	assert_int_equal(f->sink.n, 1);
	assert_string_equal(f->sink.recs[0].method, "POST");
	assert_string_equal(f->sink.recs[0].host, "psp");
	assert_int_equal(f->sink.recs[0].status, 201);
	assert_int_equal(f->sink.recs[0].t_start, 100);
	assert_int_equal(f->sink.recs[0].t_first, 200);
	assert_int_equal(f->sink.recs[0].t_end, 300);
	assert_int_equal(f->sink.recs[0].flags, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_simple_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_in_later_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chunked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chunked_single_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_split_in_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_post_body_separate_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined_one_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keepalive_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_aborted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_mid_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_mid_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_delimited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_len_ended_by_next_request_and_idle,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_body_cases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_continue_and_upgrade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_capture, setup, teardown),
		cmocka_unit_test_setup_teardown(test_response_head_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_overflow, setup, teardown),
		cmocka_unit_test(test_parse_request_prefixes),
		cmocka_unit_test(test_parse_response),
		cmocka_unit_test(test_header_tokens),
		cmocka_unit_test(test_parse_request_limits),
		cmocka_unit_test(test_parse_response_prefixes),
		cmocka_unit_test_setup_teardown(test_request_after_unknown_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reuse_after_close, setup, teardown),
		cmocka_unit_test(test_header_names),
		cmocka_unit_test_setup_teardown(test_arrival, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_gap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_joined_head_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_target_longest_kept_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined_from_the_second_unanswered, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_joined_head_then_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_after_head_ended_by_response, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_uncaptured_head_rest_makes_body_unknown, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cut_response_head_keeps_final_status, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_chunked_end_not_matched_across_unread_write,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_during_sized_body_waits_for_it, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pipelined_head_continues_in_next_read, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_target_cut_only_when_capture_ends_inside_it,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_chunked_unterminated_ends_at_last_write, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reuse_after_close_mid_body_and_upgrade, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_host_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_direction, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
