// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HTTP client engine of outbound connections, through the connection table and the sink,
 * fed with synthetic kernel events: calls timed from the request's write to the response's
 * last read, connect times, and how calls without an answer failed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <linux/types.h>

#include "abi/sockio.h"
#include "record/agg.h"
#include "record/httpclient.h"
#include "record/outagg.h"
#include "record/sink.h"
#include "record/tracker.h"

struct fx {
	struct agg a;
	struct sink s;
	struct outagg *out;
	struct tracker *t;
};

static void fx_open_tls(struct fx *f, bool tls)
{
	const struct sink_opts so = { .procroot = "/nonexistent" };
	const struct tracker_opts to = { .quiet_ns = 1000, .tls = tls };

	assert_int_equal(agg__init(&f->a, 16), 0);
	assert_int_equal(sink__init(&f->s, &so, &f->a, NULL, NULL), 0);
	assert_int_equal(outagg__new(&f->out, NULL), 0);
	assert_int_equal(sink__follow_outbound(&f->s, f->out, false), 0);
	f->t = tracker__new(&to, &f->s);
	assert_non_null(f->t);
}

static void fx_open(struct fx *f)
{
	fx_open_tls(f, false);
}

static void fx_close(struct fx *f)
{
	tracker__free(f->t);
	outagg__free(f->out);
	sink__free(&f->s);
	agg__free(&f->a);
}

/* A connection of process 77 ("client") to 10.0.0.9:8080 (raddr), from 10.0.0.1. */
static void open_ev(struct tracker *t, uint64_t id, uint64_t ts, uint8_t raddr0)
{
	struct sockio_open_ev e = {
		.type = SOCKIO_EV_OPEN,
		.tgid = 77,
		.tid = 78,
		.conn_id = id,
		.ts = ts,
		.fd = (uint32_t)id,
		.family = 2,
		.lport = 40000,
		.rport = 8080,
		.role = SOCKIO_ROLE_CLIENT,
		.how = SOCKIO_HOW_CONNECT,
		.laddr = { 10, 0, 0, 1 },
		.raddr = { raddr0, 0, 0, 9 },
		.comm = "client",
	};

	tracker__event(t, &e, sizeof(e));
}

static void client_ev(struct tracker *t, uint64_t id, __u8 what, uint64_t start, uint64_t ts,
		      int err)
{
	/* Without a connection: curl, another process. */
	struct sockio_client_ev e = {
		.type = SOCKIO_EV_CLIENT,
		.tgid = id ? 77 : 99,
		.tid = 78,
		.conn_id = id,
		.ts_start = start,
		.ts = ts,
		.err = err,
		.what = what,
		.family = 2,
		.rport = 80,
		.raddr = { 127, 0, 0, 1 },
		.comm = "curl",
	};

	tracker__event(t, &e, sizeof(e));
}

/* A write (dir SOCKIO_OUT) or read of text from ts to ts + 1, named proto by the kernel. */
static void proto_ev(struct tracker *t, uint64_t id, uint64_t ts, __u8 dir, __u8 proto,
		     __u8 flags, const char *text)
{
	struct {
		struct sockio_data_ev e;
		char head[256];
	} ev = {
		.e = {
			.type = SOCKIO_EV_DATA,
			.tgid = 77,
			.conn_id = id,
			.ts_enter = ts,
			.ts_exit = ts + 1,
			.len = (__s64)strlen(text),
			.tid = 78,
			.dir = dir,
			.proto = proto,
			.flags = flags,
			.sys = dir == SOCKIO_IN ? SOCKIO_SYS_READ : SOCKIO_SYS_WRITE,
			.head_len = (__u32)strlen(text),
		},
	};

	assert_true(strlen(text) <= sizeof(ev.head));
	memcpy(ev.head, text, strlen(text));
	tracker__event(t, &ev, sizeof(ev));
}

static void data_ev(struct tracker *t, uint64_t id, uint64_t ts, __u8 dir, const char *text)
{
	proto_ev(t, id, ts, dir, SOCKIO_PROTO_HTTP, 0, text);
}

static void close_ev(struct tracker *t, uint64_t id, uint64_t ts)
{
	struct sockio_close_ev c = { .type = SOCKIO_EV_CLOSE, .tgid = 77, .conn_id = id, .ts = ts };

	tracker__event(t, &c, sizeof(c));
}

static const char req[] = "GET /users/42?token=secret HTTP/1.1\r\nHost: api.example\r\n\r\n";
static const char resp_head[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";

static struct outagg_row *find(struct fx *f, const char *method, const char *route)
{
	for (unsigned i = 0; i < f->out->nrows; i++)
		if (!strcmp(f->out->rows[i]->method, method) &&
		    !strcmp(f->out->rows[i]->route, route))
			return f->out->rows[i];
	return NULL;
}

static struct outagg_row *row(struct fx *f, const char *method, const char *route)
{
	struct outagg_row *r = find(f, method, route);

	if (!r)
		fail_msg("no row %s %s", method, route);
	return r;
}

/*
 * A call runs from the write of its request to the read of its response's last byte, split
 * over reads; its route is normalized without the query; the connect time is the first
 * call's; the Host header names the destination.
 */
static void test_call_timed_and_named(void **state)
{
	struct outagg_row *r;
	struct fx f;

	fx_open(&f);
	open_ev(f.t, 1, 100, 10);
	client_ev(f.t, 1, SOCKIO_CL_CONNECT, 90, 140, 0);
	data_ev(f.t, 1, 200, SOCKIO_OUT, req);
	data_ev(f.t, 1, 300, SOCKIO_IN, resp_head);
	data_ev(f.t, 1, 400, SOCKIO_IN, "0123456789"); /* ends at 401 */
	data_ev(f.t, 1, 500, SOCKIO_OUT, req);	       /* the second call: no connect */
	data_ev(f.t, 1, 600, SOCKIO_IN, "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n");
	r = row(&f, "GET", "/users/{id}");
	assert_string_equal(r->host, "api.example");
	assert_string_equal(r->peer, "10.0.0.9:8080");
	assert_string_equal(r->caller, "client");
	assert_false(r->local);
	assert_int_equal(r->count, 2);
	assert_int_equal(r->answered, 2);
	assert_int_equal(r->err5xx, 1);
	assert_int_equal(r->lat.min, 601 - 500);
	assert_int_equal(r->lat.max, 401 - 200);
	assert_int_equal(r->connects, 1);
	assert_int_equal(r->connect->max, 50);
	fx_close(&f);
}

/*
 * Calls without an answer: a reset makes a reset, the server's FIN a close, the client's own
 * close a timeout (time to the failure: from the write to the close).
 */
static void test_unanswered(void **state)
{
	struct outagg_row *r;
	struct fx f;

	fx_open(&f);
	open_ev(f.t, 1, 100, 10);
	data_ev(f.t, 1, 200, SOCKIO_OUT, req);
	client_ev(f.t, 1, SOCKIO_CL_RESET, 0, 250, 0);
	close_ev(f.t, 1, 260);
	open_ev(f.t, 2, 300, 10);
	data_ev(f.t, 2, 400, SOCKIO_OUT, req);
	client_ev(f.t, 2, SOCKIO_CL_FIN, 0, 450, 0);
	close_ev(f.t, 2, 470);
	open_ev(f.t, 3, 500, 10);
	data_ev(f.t, 3, 600, SOCKIO_OUT, req);
	close_ev(f.t, 3, 900);
	r = row(&f, "GET", "/users/{id}");
	assert_int_equal(r->count, 3);
	assert_int_equal(r->answered, 0);
	assert_int_equal(r->fail[HTTP_CALL_RESET], 1);
	assert_int_equal(r->fail[HTTP_CALL_CLOSED], 1);
	assert_int_equal(r->fail[HTTP_CALL_TIMEOUT], 1);
	assert_int_equal(r->failure->min, 60);
	assert_int_equal(r->failure->max, 300);
	/* The FIN and close came after every answer: nothing failed. */
	open_ev(f.t, 4, 1000, 10);
	data_ev(f.t, 4, 1100, SOCKIO_OUT, req);
	data_ev(f.t, 4, 1200, SOCKIO_IN, "HTTP/1.1 204 No Content\r\n\r\n");
	client_ev(f.t, 4, SOCKIO_CL_FIN, 0, 1300, 0);
	close_ev(f.t, 4, 1400);
	assert_int_equal(r->count, 4);
	assert_int_equal(r->answered, 1);
	assert_int_equal(r->fail[HTTP_CALL_CLOSED], 1);
	fx_close(&f);
}

/*
 * HTTPS: the kernel names the connection TLS from the client's handshake, then (--tls) sends
 * OpenSSL's plaintext, named HTTP: the calls are counted, marked tls. Without --tls the
 * handshake makes the connection one we do not follow.
 */
static void test_https_after_handshake(void **state)
{
	static const char hello[] = "\x16\x03\x01\x00\x05hello";
	struct tracker_stats st;
	struct outagg_row *r;
	struct fx f;

	for (int tls = 0; tls < 2; tls++) {
		fx_open_tls(&f, tls);
		open_ev(f.t, 1, 100, 10);
		proto_ev(f.t, 1, 150, SOCKIO_OUT, SOCKIO_PROTO_TLS, 0, hello);
		proto_ev(f.t, 1, 200, SOCKIO_OUT, SOCKIO_PROTO_HTTP, SOCKIO_F_TLS, req);
		proto_ev(f.t, 1, 300, SOCKIO_IN, SOCKIO_PROTO_HTTP, SOCKIO_F_TLS, resp_head);
		proto_ev(f.t, 1, 400, SOCKIO_IN, SOCKIO_PROTO_HTTP, SOCKIO_F_TLS, "0123456789");
		close_ev(f.t, 1, 500);
		tracker__stats(f.t, &st);
		assert_int_equal(st.tls_out_handshakes, 1);
		if (!tls) {
			assert_null(find(&f, "GET", "/users/{id}"));
			assert_int_equal(st.client_events, 1);
			fx_close(&f);
			continue;
		}
		r = row(&f, "GET", "/users/{id}");
		assert_true(r->tls);
		assert_int_equal(r->count, 1);
		assert_int_equal(r->answered, 1);
		assert_int_equal(r->lat.max, 401 - 200);
		assert_int_equal(st.tls_out, 1);
		assert_int_equal(st.client[TRACKER_HTTP].conns, 1);
		fx_close(&f);
	}
}

/* Tracing ends: the call in flight is unfinished, not a failure. */
static void test_unfinished_at_end(void **state)
{
	struct tracker_stats st;
	struct outagg_row *r;
	struct fx f;

	fx_open(&f);
	open_ev(f.t, 1, 100, 127);
	data_ev(f.t, 1, 200, SOCKIO_OUT, req);
	tracker__flush(f.t, 5000);
	r = row(&f, "GET", "/users/{id}");
	assert_true(r->local);
	assert_int_equal(r->count, 1);
	assert_int_equal(r->unfinished, 1);
	assert_int_equal(r->fail[HTTP_CALL_TIMEOUT], 0);
	tracker__stats(f.t, &st);
	assert_int_equal(st.http_out.unfinished, 1);
	assert_int_equal(st.client[TRACKER_HTTP].conns, 1);
	fx_close(&f);
}

/*
 * Connects that fail: at once (no connection: the event names the peer and the process), or
 * later on a tracked connection, or given up on while pending; a pending result that comes
 * after the final one is ignored.
 */
static void test_connect_failures(void **state)
{
	struct tracker_stats st;
	struct outagg_row *r;
	struct fx f;

	fx_open(&f);
	client_ev(f.t, 0, SOCKIO_CL_CONNECT, 100, 150, -ECONNREFUSED);
	open_ev(f.t, 2, 200, 10);
	client_ev(f.t, 2, SOCKIO_CL_CONNECT, 190, 200, -EINPROGRESS);
	client_ev(f.t, 2, SOCKIO_CL_CONNECT, 190, 3190, -ETIMEDOUT);
	close_ev(f.t, 2, 3200);
	open_ev(f.t, 3, 4000, 10);
	client_ev(f.t, 3, SOCKIO_CL_CONNECT, 3990, 4000, -EINPROGRESS);
	close_ev(f.t, 3, 4500); /* the client gave up */
	open_ev(f.t, 4, 5000, 10);
	client_ev(f.t, 4, SOCKIO_CL_CONNECT, 4990, 5010, 0);
	client_ev(f.t, 4, SOCKIO_CL_CONNECT, 4990, 5000, -EINPROGRESS); /* late: ignored */
	close_ev(f.t, 4, 5100);
	open_ev(f.t, 5, 6000, 10);
	client_ev(f.t, 5, SOCKIO_CL_CONNECT, 5990, 6000, -ENETUNREACH);
	close_ev(f.t, 5, 6100);
	tracker__stats(f.t, &st);
	assert_int_equal(st.connects, 4);
	assert_int_equal(st.connect_failed, 4);
	assert_int_equal(f.out->nrows, 2);
	for (unsigned i = 0; i < f.out->nrows; i++) {
		r = f.out->rows[i];
		assert_string_equal(r->method, "");
		assert_string_equal(r->route, "");
		if (!strcmp(r->peer, "10.0.0.9:8080")) {
			assert_string_equal(r->caller, "client");
			assert_int_equal(r->count, 3);
			assert_int_equal(r->fail[HTTP_CALL_CONNECT_TIMEOUT], 2);
			assert_int_equal(r->fail[HTTP_CALL_UNREACHABLE], 1);
			assert_int_equal(r->failure->max, 3000);
			assert_int_equal(r->failure->min, 10);
			assert_int_equal(r->retries, 2);
			continue;
		}
		assert_string_equal(r->peer, "127.0.0.1:80");
		assert_string_equal(r->caller, "curl");
		assert_true(r->local);
		assert_int_equal(r->count, 1);
		assert_int_equal(r->fail[HTTP_CALL_REFUSED], 1);
		assert_int_equal(r->failure->max, 50);
	}
	/* Each failed connect to the peer repeated the one before it: two retries. */
	assert_int_equal(f.out->ndests, 2);
	fx_close(&f);
}

/* The engine's connection counts; a first write that is not HTTP leaves the connection. */
static void test_not_http(void **state)
{
	struct tracker_stats st;
	struct fx f;

	fx_open(&f);
	open_ev(f.t, 1, 100, 10);
	data_ev(f.t, 1, 200, SOCKIO_OUT, "\x16\x03\x01 hello");
	data_ev(f.t, 1, 300, SOCKIO_OUT, req);
	tracker__stats(f.t, &st);
	assert_int_equal(st.client[TRACKER_HTTP].not, 1);
	assert_int_equal(st.client[TRACKER_HTTP].conns, 0);
	assert_int_equal(f.out->nrows, 0);
	fx_close(&f);
}

/* A traced server's connection: process 55 serving on 8080. */
static void server_open_ev(struct tracker *t, uint64_t id)
{
	struct sockio_open_ev e = {
		.type = SOCKIO_EV_OPEN,
		.tgid = 55,
		.conn_id = id,
		.ts = 1,
		.fd = (uint32_t)id,
		.family = 2,
		.lport = 8080,
		.rport = 40000,
		.role = SOCKIO_ROLE_SERVER,
		.how = SOCKIO_HOW_ACCEPT,
		.comm = "server",
	};

	tracker__event(t, &e, sizeof(e));
}

/*
 * By default a process that serves nothing calling a traced port of this host (a load
 * generator) is left alone: its connection says so once, and is no call; a remote peer, or
 * --outbound=all, is followed.
 */
static void test_load_generator(void **state)
{
	struct tracker_stats st;
	struct fx f;

	for (int all = 0; all < 2; all++) {
		fx_open(&f);
		f.s.out_all = all;
		server_open_ev(f.t, 100);
		open_ev(f.t, 1, 100, 127); /* 127.0.0.9:8080 */
		data_ev(f.t, 1, 200, SOCKIO_OUT, req);
		data_ev(f.t, 1, 300, SOCKIO_IN, "HTTP/1.1 204 No Content\r\n\r\n");
		open_ev(f.t, 2, 100, 10); /* 10.0.0.9:8080: not this host */
		data_ev(f.t, 2, 200, SOCKIO_OUT, req);
		data_ev(f.t, 2, 300, SOCKIO_IN, "HTTP/1.1 204 No Content\r\n\r\n");
		tracker__stats(f.t, &st);
		assert_int_equal(st.client[TRACKER_HTTP].local, all ? 0 : 1);
		assert_int_equal(st.client[TRACKER_HTTP].conns, all ? 2 : 1);
		assert_int_equal(f.out->nrows, all ? 2 : 1);
		fx_close(&f);
	}
}

/* The mapping of connect errors to failure kinds. */
static void test_connect_fail_kinds(void **state)
{
	assert_int_equal(httpclient__connect_fail(ECONNREFUSED), HTTP_CALL_REFUSED);
	assert_int_equal(httpclient__connect_fail(ETIMEDOUT), HTTP_CALL_CONNECT_TIMEOUT);
	assert_int_equal(httpclient__connect_fail(0), HTTP_CALL_CONNECT_TIMEOUT);
	assert_int_equal(httpclient__connect_fail(ENETUNREACH), HTTP_CALL_UNREACHABLE);
	assert_int_equal(httpclient__connect_fail(EHOSTUNREACH), HTTP_CALL_UNREACHABLE);
	assert_int_equal(httpclient__connect_fail(ECONNRESET), HTTP_CALL_RESET);
	assert_int_equal(httpclient__connect_fail(ECONNABORTED), HTTP_CALL_CONNECT_ERROR);
	assert_string_equal(http_call__fail_name(HTTP_CALL_CONNECT_TIMEOUT), "connect_timeout");
	assert_string_equal(http_call__fail_name(HTTP_CALL_FAIL_NR), "?");
}

/*
 * An answer without framing ends on the quiet after its last read, or at the next request;
 * a chunked one at its last chunk, however long the pauses between chunks.
 */
static void test_unframed_and_chunked(void **state)
{
	static const char chunked[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				      "5\r\nhello\r\n";
	struct outagg_row *r;
	struct fx f;

	fx_open(&f);
	open_ev(f.t, 1, 100, 10);
	data_ev(f.t, 1, 200, SOCKIO_OUT, req);
	data_ev(f.t, 1, 300, SOCKIO_IN, "HTTP/1.1 200 OK\r\n\r\nsome");
	data_ev(f.t, 1, 400, SOCKIO_IN, "more"); /* ends at 401 */
	tracker__tick(f.t, 1400);		 /* 999 ns of quiet: still going */
	assert_null(find(&f, "GET", "/users/{id}"));
	tracker__tick(f.t, 1401);
	r = row(&f, "GET", "/users/{id}");
	assert_int_equal(r->answered, 1);
	assert_int_equal(r->len_unknown, 1);
	assert_int_equal(r->lat.max, 401 - 200);

	data_ev(f.t, 1, 2000, SOCKIO_OUT, req);
	data_ev(f.t, 1, 2100, SOCKIO_IN, chunked);
	tracker__tick(f.t, 100000);
	assert_int_equal(r->answered, 1);
	data_ev(f.t, 1, 200000, SOCKIO_IN, "0\r\n\r\n");
	assert_int_equal(r->answered, 2);
	assert_int_equal(r->lat.max, 200001 - 2000);

	data_ev(f.t, 1, 300000, SOCKIO_OUT, req);
	data_ev(f.t, 1, 300100, SOCKIO_IN, "HTTP/1.1 200 OK\r\n\r\nsome");
	data_ev(f.t, 1, 300200, SOCKIO_OUT, req); /* the next request ends it at 300101 */
	assert_int_equal(r->answered, 3);
	assert_int_equal(r->len_unknown, 2);
	assert_int_equal(r->lat.min, 300101 - 300000);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_call_timed_and_named),
		cmocka_unit_test(test_unanswered),
		cmocka_unit_test(test_unfinished_at_end),
		cmocka_unit_test(test_https_after_handshake),
		cmocka_unit_test(test_connect_failures),
		cmocka_unit_test(test_not_http),
		cmocka_unit_test(test_connect_fail_kinds),
		cmocka_unit_test(test_unframed_and_chunked),
		cmocka_unit_test(test_load_generator),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
