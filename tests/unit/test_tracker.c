// SPDX-License-Identifier: GPL-2.0-only
/*
 * The connection table of the recorder and the sink its records go to, fed with synthetic
 * kernel events.
 */
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
#include "proto/db.h"
#include "record/agg.h"
#include "record/dbagg.h"
#include "record/dbtrack.h"
#include "record/sink.h"
#include "record/tracker.h"

/* A tracker whose records go through a sink to an agg; no process facts (procroot absent). */
struct fx {
	struct agg a;
	struct sink s;
	struct tracker *t;
};

static void fx_open(struct fx *f, const struct tracker_opts *o, const struct route_set *routes)
{
	const struct sink_opts so = { .procroot = "/nonexistent", .routes = routes };

	assert_int_equal(agg__init(&f->a, 16), 0);
	assert_int_equal(sink__init(&f->s, &so, &f->a, NULL, NULL), 0);
	f->t = tracker__new(o, &f->s);
	assert_non_null(f->t);
}

static void fx_close(struct fx *f)
{
	tracker__free(f->t);
	sink__free(&f->s);
	agg__free(&f->a);
}

static void open_ev(struct tracker *t, uint64_t id, uint64_t ts)
{
	struct sockio_open_ev e = {
		.type = SOCKIO_EV_OPEN,
		.tgid = 4242,
		.conn_id = id,
		.ts = ts,
		.fd = (uint32_t)id,
		.family = 2,
		.lport = 8000,
		.rport = 40000,
		.role = SOCKIO_ROLE_SERVER,
		.how = SOCKIO_HOW_ACCEPT,
		.comm = "app",
	};

	tracker__event(t, &e, sizeof(e));
}

/*
 * A read (dir SOCKIO_IN) or write of len bytes on connection id, from ts to ts + 1, held
 * whole in the event's head, by the process's main thread.
 */
static void data_ev(struct tracker *t, uint64_t id, uint64_t ts, __u8 dir, __u8 proto,
		    __u8 flags, const void *bytes, size_t len)
{
	struct {
		struct sockio_data_ev e;
		char head[128];
	} ev = {
		.e = {
			.type = SOCKIO_EV_DATA,
			.tgid = 4242,
			.conn_id = id,
			.ts_enter = ts,
			.ts_exit = ts + 1,
			.len = (__s64)len,
			.tid = 4242,
			.dir = dir,
			.proto = proto,
			.flags = flags,
			.sys = dir == SOCKIO_IN ? SOCKIO_SYS_READ : SOCKIO_SYS_WRITE,
			.head_len = (__u32)len,
		},
	};

	assert_true(len <= sizeof(ev.head));
	memcpy(ev.head, bytes, len);
	tracker__event(t, &ev, sizeof(ev));
}

/* A read of a whole GET request for target on connection id. */
static void get_ev(struct tracker *t, uint64_t id, uint64_t ts, const char *target)
{
	char req[128];
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", target);

	data_ev(t, id, ts, SOCKIO_IN, SOCKIO_PROTO_HTTP, SOCKIO_F_REQ_START, req, (size_t)n);
}

static void request_ev(struct tracker *t, uint64_t id, uint64_t ts)
{
	get_ev(t, id, ts, "/x");
}

/* A server write of text on connection id. */
static void write_ev(struct tracker *t, uint64_t id, uint64_t ts, const char *text, __u8 flags)
{
	data_ev(t, id, ts, SOCKIO_OUT, SOCKIO_PROTO_HTTP, flags, text, strlen(text));
}

/*
 * A response of unknown length ends after quiet_ns without a write, even when no tick came in
 * the silence: a later write is not part of it (it is counted as bytes outside any response).
 * A write within quiet_ns still is.
 */
static void test_quiet_ends_unknown_length_without_a_tick(void **state)
{
	static const char head[] = "HTTP/1.1 200 OK\r\n\r\n";
	struct tracker_opts o = { .quiet_ns = 1000 };
	struct fx f;
	struct tracker *t;

	fx_open(&f, &o, NULL);
	t = f.t;
	open_ev(t, 1, 10);
	request_ev(t, 1, 100); /* read at 101: no arrival, the request starts there */
	write_ev(t, 1, 200, head, SOCKIO_F_RESP_START);
	write_ev(t, 1, 300, "part one", 0);  /* ends at 301 */
	write_ev(t, 1, 1300, "part two", 0); /* 999 ns of silence: still the response */
	write_ev(t, 1, 2301, "late", 0);     /* 1000 ns: the response ended at 1301 */
	assert_int_equal(f.a.neps, 1);
	assert_int_equal(f.a.eps[0]->count, 1);
	assert_int_equal(f.a.eps[0]->lat.max, 1301 - 101);
	assert_int_equal(tracker__http_stats(t)->garbage_out, 1);
	fx_close(&f);
}

/*
 * A full table evicts the connection used least recently, found without a scan: the oldest
 * opened one survives when it was used since.
 */
static void test_eviction_is_least_recently_used(void **state)
{
	struct tracker_opts o = { .max_conns = 4 };
	struct tracker_stats st;
	struct tracker *t;
	struct fx f;

	fx_open(&f, &o, NULL);
	t = f.t;
	for (uint64_t id = 1; id <= 4; id++)
		open_ev(t, id, id * 10);
	request_ev(t, 1, 50); /* 1 is now the most recently used */
	open_ev(t, 5, 60);    /* the table is full: 2 goes */
	tracker__stats(t, &st);
	assert_int_equal(st.conns_evicted, 1);
	assert_int_equal(st.conns_live, 4);
	request_ev(t, 1, 70);
	tracker__stats(t, &st);
	assert_int_equal(st.orphan_data, 0);
	request_ev(t, 2, 80); /* gone: its data comes without an open */
	tracker__stats(t, &st);
	assert_int_equal(st.orphan_data, 1);
	/* ... and it took a slot: 3, the least recently used now, was evicted for it. */
	assert_int_equal(st.conns_evicted, 2);
	request_ev(t, 4, 90);
	request_ev(t, 5, 100);
	tracker__stats(t, &st);
	assert_int_equal(st.orphan_data, 1);
	fx_close(&f);
}

static void close_ev(struct tracker *t, uint64_t id, uint64_t ts)
{
	struct sockio_close_ev c = {
		.type = SOCKIO_EV_CLOSE, .tgid = 4242, .conn_id = id, .ts = ts
	};

	tracker__event(t, &c, sizeof(c));
}

/*
 * The index grows past many connections and loses none; closes take out exactly theirs; id 0
 * is an id like any other.
 */
static void test_many_connections_and_id_zero(void **state)
{
	enum { N = 3000 };
	struct tracker_opts o = { .max_conns = N + 1 };
	struct tracker_stats st;
	struct tracker *t;
	struct fx f;

	fx_open(&f, &o, NULL);
	t = f.t;
	for (uint64_t id = 0; id <= N; id++)
		open_ev(t, id * 1024, 10); /* ids that share their low bits */
	tracker__stats(t, &st);
	assert_int_equal(st.conns_live, N + 1);
	assert_int_equal(st.conns_evicted, 0);
	for (uint64_t id = 0; id <= N; id += 2)
		close_ev(t, id * 1024, 20);
	tracker__stats(t, &st);
	assert_int_equal(st.conns_live, N / 2);
	for (uint64_t id = 0; id <= N; id++)
		request_ev(t, id * 1024, 30);
	tracker__stats(t, &st);
	assert_int_equal(st.orphan_data, N / 2 + 1); /* the closed ones, 0 among them */
	assert_int_equal(st.conns_live, N + 1);
	assert_int_equal(st.conns_evicted, 0);
	close_ev(t, 0, 40);
	close_ev(t, 0, 41); /* gone already: nothing */
	tracker__stats(t, &st);
	assert_int_equal(st.conns_live, N);
	assert_int_equal(st.closes, N / 2 + 1 + 2);
	fx_close(&f);
}

/* A close ends the connection and frees its slot; a close of an unknown id is harmless. */
static void test_close_frees_the_slot(void **state)
{
	struct tracker_opts o = { .max_conns = 2 };
	struct sockio_close_ev c = {
		.type = SOCKIO_EV_CLOSE, .tgid = 4242, .conn_id = 1, .ts = 30
	};
	struct tracker_stats st;
	struct tracker *t;
	struct fx f;

	fx_open(&f, &o, NULL);
	t = f.t;
	open_ev(t, 1, 10);
	open_ev(t, 2, 20);
	tracker__event(t, &c, sizeof(c));
	tracker__event(t, &c, sizeof(c));
	open_ev(t, 3, 40);
	tracker__stats(t, &st);
	assert_int_equal(st.conns_evicted, 0);
	assert_int_equal(st.conns_live, 2);
	assert_int_equal(st.closes, 2);
	fx_close(&f);
}

/* A server's answer: a complete response of 2 bytes with status. */
static void respond_ev(struct tracker *t, uint64_t id, uint64_t ts, int status)
{
	char head[64];

	snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Length: 2\r\n\r\nok", status);
	write_ev(t, id, ts, head, SOCKIO_F_RESP_START);
}

/*
 * Requests on one keep-alive connection reach the sink as records of the connection's
 * service (named from the open event's comm when /proc has nothing) and one route per
 * normalized path; their latency runs from the read to the end of the response.
 */
static void test_keep_alive_records(void **state)
{
	struct tracker_opts o = {};
	struct sink_stats ss;
	struct fx f;

	fx_open(&f, &o, NULL);
	open_ev(f.t, 1, 10);
	get_ev(f.t, 1, 100, "/users/17?secret=1");
	respond_ev(f.t, 1, 150, 200);
	get_ev(f.t, 1, 200, "/users/42");
	respond_ev(f.t, 1, 260, 503);
	assert_int_equal(f.a.nservices, 1);
	assert_string_equal(f.a.services[0].name, "app:8000");
	assert_int_equal(f.a.neps, 1);
	assert_string_equal(f.a.eps[0]->route, "/users/{id}");
	assert_int_equal(f.a.eps[0]->count, 2);
	assert_int_equal(f.a.eps[0]->err5xx, 1);
	assert_int_equal(f.a.eps[0]->lat.max, 261 - 201);
	sink__stats(&f.s, &ss);
	assert_int_equal(ss.bad_target, 0);
	assert_int_equal(ss.unfinished, 0);
	fx_close(&f);
}

/* A --route pattern names the endpoint; a target that is not a path is {invalid}. */
static void test_route_patterns_and_bad_targets(void **state)
{
	struct route_set *rs = route_set__new();
	struct tracker_opts o = {};
	struct sink_stats ss;
	char err[128];
	struct fx f;

	assert_non_null(rs);
	assert_int_equal(route_set__add(rs, "/orders/{oid}/items", err, sizeof(err)), 0);
	fx_open(&f, &o, rs);
	open_ev(f.t, 1, 10);
	get_ev(f.t, 1, 100, "/orders/abc/items");
	respond_ev(f.t, 1, 150, 200);
	get_ev(f.t, 1, 200, "?q=1");
	respond_ev(f.t, 1, 250, 400);
	assert_int_equal(f.a.neps, 2);
	assert_string_equal(f.a.eps[0]->route, "/orders/{oid}/items");
	assert_string_equal(f.a.eps[1]->route, "{invalid}");
	sink__stats(&f.s, &ss);
	assert_int_equal(ss.bad_target, 1);
	fx_close(&f);
	route_set__free(rs);
}

/*
 * A process that exits with a request in flight aborts it and frees its connections; at
 * the end of tracing a request still unanswered is unfinished, not aborted.
 */
static void test_exit_aborts_flush_leaves_unfinished(void **state)
{
	struct sockio_exit_ev x = { .type = SOCKIO_EV_EXIT, .tgid = 4242, .ts = 300 };
	struct tracker_opts o = {};
	struct tracker_stats st;
	struct sink_stats ss;
	struct fx f;

	fx_open(&f, &o, NULL);
	open_ev(f.t, 1, 10);
	request_ev(f.t, 1, 100);
	tracker__event(f.t, &x, sizeof(x));
	tracker__stats(f.t, &st);
	assert_int_equal(st.conns_live, 0);
	assert_int_equal(st.exits, 1);
	assert_int_equal(f.a.eps[0]->aborted, 1);
	open_ev(f.t, 2, 400);
	request_ev(f.t, 2, 500);
	tracker__flush(f.t, 600);
	sink__stats(&f.s, &ss);
	assert_int_equal(ss.unfinished, 1);
	assert_int_equal(f.a.eps[0]->unfinished, 1);
	assert_int_equal(f.a.eps[0]->aborted, 1);
	fx_close(&f);
}

/* Events shorter than their type, or of no known type, are counted and change nothing. */
static void test_bad_events_counted(void **state)
{
	struct sockio_open_ev e = { .type = SOCKIO_EV_OPEN, .conn_id = 1 };
	__u32 bogus = 99;
	struct tracker_opts o = {};
	struct tracker_stats st;
	struct fx f;

	fx_open(&f, &o, NULL);
	tracker__event(f.t, &e, sizeof(e) - 1);
	tracker__event(f.t, &bogus, sizeof(bogus));
	tracker__event(f.t, &bogus, 2);
	tracker__stats(f.t, &st);
	assert_int_equal(st.events, 3);
	assert_int_equal(st.bad_events, 3);
	assert_int_equal(st.conns_live, 0);
	fx_close(&f);
}


/*
 * An outbound PostgreSQL connection (the client's first bytes a simple Query) goes to its
 * engine; the execution it finishes reaches the sink, which counts its fingerprint, and the
 * connection's parser counters are the table's. A connection whose first write is not
 * PostgreSQL is left alone and counted.
 */
static void test_pg_client_connection(void **state)
{
	static const char q[] = "Q\0\0\0\x0dselect 1\0";
	static const char reply[] = "C\0\0\0\x0dSELECT 1\0Z\0\0\0\x05I";
	const struct sink_opts so = { .procroot = "/nonexistent", .db_wire = true };
	struct sockio_open_ev o = {
		.type = SOCKIO_EV_OPEN, .tgid = 4242, .conn_id = 9, .ts = 10, .fd = 9,
		.family = 2, .lport = 40001, .rport = 5432, .role = SOCKIO_ROLE_CLIENT,
		.how = SOCKIO_HOW_CONNECT, .comm = "app",
	};
	struct tracker_opts to = {};
	struct dbagg_opts dbo = {};
	struct tracker_stats st;
	struct dbtrack dt;
	struct dbagg db;
	struct tracker *t;
	struct sink s;
	struct agg a;

	assert_int_equal(agg__init(&a, 16), 0);
	assert_int_equal(dbagg__init(&db, &dbo), 0);
	dbtrack__init(&dt, &db);
	assert_int_equal(sink__init(&s, &so, &a, &dt, NULL), 0);
	t = tracker__new(&to, &s);
	assert_non_null(t);
	tracker__event(t, &o, sizeof(o));
	data_ev(t, 9, 100, SOCKIO_OUT, SOCKIO_PROTO_PGSQL, 0, q, sizeof(q) - 1);
	data_ev(t, 9, 300, SOCKIO_IN, SOCKIO_PROTO_PGSQL, 0, reply, sizeof(reply) - 1);
	tracker__stats(t, &st);
	assert_int_equal(st.pg_conns, 1);
	assert_int_equal(st.pg_not, 0);
	assert_int_equal(st.pg.malformed, 0);
	assert_int_equal(db.nfps, 1);
	assert_int_equal(db.fps[0]->count[DB_PATH_WIRE], 1);
	assert_string_equal(db.fps[0]->client, "app");
	assert_string_equal(db.fps[0]->server, "0.0.0.0:5432");
	/* Not PostgreSQL: an HTTP request written by a client. */
	o.conn_id = 10;
	tracker__event(t, &o, sizeof(o));
	data_ev(t, 10, 400, SOCKIO_OUT, SOCKIO_PROTO_PGSQL, 0, "GET / HTTP/1.1\r\n", 16);
	tracker__stats(t, &st);
	assert_int_equal(st.pg_not, 1);
	assert_int_equal(st.pg_conns, 1);
	tracker__free(t);
	sink__free(&s);
	dbtrack__free(&dt);
	dbagg__free(&db);
	agg__free(&a);
}

/*
 * TLS decoded through OpenSSL's calls: a connection whose handshake said TLS (counted among the
 * ones we cannot decode) is decoded once its plaintext arrives (SOCKIO_F_TLS): counted as
 * such, its service marked tls, its requests rows like cleartext ones. One whose plaintext is
 * HTTP/2 stays undecoded, counted as HTTP/2. An outbound one counts when its plaintext is
 * HTTP; a cleartext connection of the same service leaves the mark alone.
 */
static void test_tls_decoded(void **state)
{
	static const char h2[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	struct sockio_open_ev co = {
		.type = SOCKIO_EV_OPEN, .tgid = 4242, .conn_id = 7, .ts = 10, .fd = 7,
		.family = 2, .lport = 40001, .rport = 443, .role = SOCKIO_ROLE_CLIENT,
		.how = SOCKIO_HOW_CONNECT, .comm = "app",
	};
	struct tracker_opts o = {};
	struct tracker_stats st;
	struct fx f;

	fx_open(&f, &o, NULL);
	open_ev(f.t, 1, 10);
	data_ev(f.t, 1, 20, SOCKIO_IN, SOCKIO_PROTO_TLS, 0, "", 0);
	tracker__stats(f.t, &st);
	assert_int_equal(st.tls, 1);
	data_ev(f.t, 1, 100, SOCKIO_IN, SOCKIO_PROTO_HTTP, SOCKIO_F_REQ_START | SOCKIO_F_TLS,
		"GET /a HTTP/1.1\r\nHost: h\r\n\r\n", 28);
	data_ev(f.t, 1, 150, SOCKIO_OUT, SOCKIO_PROTO_HTTP, SOCKIO_F_RESP_START | SOCKIO_F_TLS,
		"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 38);
	tracker__stats(f.t, &st);
	assert_int_equal(st.tls, 0);
	assert_int_equal(st.tls_in, 1);
	assert_int_equal(st.non_http, 0);
	assert_int_equal(f.a.nservices, 1);
	assert_true(f.a.services[0].tls);
	assert_int_equal(f.a.neps, 1);
	assert_int_equal(f.a.eps[0]->count, 1);
	assert_int_equal(f.a.eps[0]->lat.max, 151 - 101);
	/* HTTP/2 inside TLS (ALPN h2): known, not decoded. */
	open_ev(f.t, 2, 200);
	data_ev(f.t, 2, 210, SOCKIO_IN, SOCKIO_PROTO_TLS, 0, "", 0);
	data_ev(f.t, 2, 220, SOCKIO_IN, SOCKIO_PROTO_HTTP2, SOCKIO_F_TLS, h2, sizeof(h2) - 1);
	tracker__stats(f.t, &st);
	assert_int_equal(st.tls, 0);
	assert_int_equal(st.http2, 1);
	assert_int_equal(st.tls_in, 1);
	/*
	 * Older than the trace: the response of a request read before comes first, unnamed;
	 * the connection counts at its next request.
	 */
	open_ev(f.t, 4, 230);
	data_ev(f.t, 4, 240, SOCKIO_OUT, SOCKIO_PROTO_UNKNOWN, SOCKIO_F_RESP_START | SOCKIO_F_TLS,
		"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 38);
	tracker__stats(f.t, &st);
	assert_int_equal(st.tls_in, 1);
	data_ev(f.t, 4, 250, SOCKIO_IN, SOCKIO_PROTO_HTTP, SOCKIO_F_REQ_START | SOCKIO_F_TLS,
		"GET /a HTTP/1.1\r\nHost: h\r\n\r\n", 28);
	data_ev(f.t, 4, 260, SOCKIO_IN, SOCKIO_PROTO_HTTP, SOCKIO_F_TLS, "x", 1);
	tracker__stats(f.t, &st);
	assert_int_equal(st.tls_in, 2);
	assert_int_equal(st.tls, 0);
	/* A cleartext connection to the same service does not unmark it. */
	open_ev(f.t, 3, 300);
	get_ev(f.t, 3, 310, "/a");
	respond_ev(f.t, 3, 320, 200);
	assert_int_equal(f.a.nservices, 1);
	assert_true(f.a.services[0].tls);
	/* Outbound: counted once its plaintext names HTTP. */
	tracker__event(f.t, &co, sizeof(co));
	data_ev(f.t, 7, 400, SOCKIO_OUT, SOCKIO_PROTO_TLS, 0, "", 0);
	data_ev(f.t, 7, 410, SOCKIO_OUT, SOCKIO_PROTO_HTTP, SOCKIO_F_TLS,
		"GET / HTTP/1.1\r\nHost: h\r\n\r\n", 27);
	data_ev(f.t, 7, 420, SOCKIO_OUT, SOCKIO_PROTO_HTTP, SOCKIO_F_TLS,
		"GET / HTTP/1.1\r\nHost: h\r\n\r\n", 27);
	tracker__stats(f.t, &st);
	assert_int_equal(st.tls_out, 1);
	assert_int_equal(st.tls_in, 2);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eviction_is_least_recently_used),
		cmocka_unit_test(test_close_frees_the_slot),
		cmocka_unit_test(test_many_connections_and_id_zero),
		cmocka_unit_test(test_quiet_ends_unknown_length_without_a_tick),
		cmocka_unit_test(test_keep_alive_records),
		cmocka_unit_test(test_route_patterns_and_bad_targets),
		cmocka_unit_test(test_exit_aborts_flush_leaves_unfinished),
		cmocka_unit_test(test_bad_events_counted),
		cmocka_unit_test(test_pg_client_connection),
		cmocka_unit_test(test_tls_decoded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
