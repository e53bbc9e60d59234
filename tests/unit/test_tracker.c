// SPDX-License-Identifier: GPL-2.0-only
/* The connection table of the recorder, fed with synthetic kernel events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <linux/types.h>

#include "abi/sockio.h"
#include "record/tracker.h"

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

/* A read of a whole GET request on connection id. */
static void request_ev(struct tracker *t, uint64_t id, uint64_t ts)
{
	static const char req[] = "GET /x HTTP/1.1\r\nHost: h\r\n\r\n";
	struct {
		struct sockio_data_ev e;
		char head[sizeof(req) - 1];
	} ev = {
		.e = {
			.type = SOCKIO_EV_DATA,
			.tgid = 4242,
			.conn_id = id,
			.ts_enter = ts,
			.ts_exit = ts + 1,
			.len = sizeof(req) - 1,
			.tid = 4242,
			.dir = SOCKIO_IN,
			.proto = SOCKIO_PROTO_HTTP,
			.flags = SOCKIO_F_REQ_START,
			.sys = SOCKIO_SYS_READ,
			.head_len = sizeof(req) - 1,
		},
	};

	memcpy(ev.head, req, sizeof(req) - 1);
	tracker__event(t, &ev, sizeof(ev));
}

/* A server write of head_len bytes of text on connection id, from ts to ts + 1. */
static void write_ev(struct tracker *t, uint64_t id, uint64_t ts, const char *text, __u8 flags)
{
	struct {
		struct sockio_data_ev e;
		char head[64];
	} ev = {
		.e = {
			.type = SOCKIO_EV_DATA,
			.tgid = 4242,
			.conn_id = id,
			.ts_enter = ts,
			.ts_exit = ts + 1,
			.len = (__s64)strlen(text),
			.tid = 4242,
			.dir = SOCKIO_OUT,
			.proto = SOCKIO_PROTO_HTTP,
			.flags = flags,
			.sys = SOCKIO_SYS_WRITE,
			.head_len = (__u32)strlen(text),
		},
	};

	memcpy(ev.head, text, strlen(text));
	tracker__event(t, &ev, sizeof(ev));
}

/*
 * A response of unknown length ends after quiet_ns without a write, even when no tick came in
 * the silence: a later write is not part of it (it is counted as bytes outside any response).
 * A write within quiet_ns still is.
 */
static void test_quiet_ends_unknown_length_without_a_tick(void **state)
{
	static const char head[] = "HTTP/1.1 200 OK\r\n\r\n";
	struct tracker_opts o = { .quiet_ns = 1000, .procroot = "/nonexistent" };
	struct tracker *t;
	struct agg a;

	assert_int_equal(agg__init(&a, 16), 0);
	assert_int_equal(tracker__new(&t, &o, &a), 0);
	open_ev(t, 1, 10);
	request_ev(t, 1, 100); /* read at 101: no arrival, the request starts there */
	write_ev(t, 1, 200, head, SOCKIO_F_RESP_START);
	write_ev(t, 1, 300, "part one", 0);  /* ends at 301 */
	write_ev(t, 1, 1300, "part two", 0); /* 999 ns of silence: still the response */
	write_ev(t, 1, 2301, "late", 0);     /* 1000 ns: the response ended at 1301 */
	assert_int_equal(a.neps, 1);
	assert_int_equal(a.eps[0]->count, 1);
	assert_int_equal(a.eps[0]->lat.max, 1301 - 101);
	assert_int_equal(tracker__http_stats(t)->garbage_out, 1);
	tracker__free(t);
	agg__free(&a);
}

/*
 * A full table evicts the connection used least recently, found without a scan: the oldest
 * opened one survives when it was used since.
 */
static void test_eviction_is_least_recently_used(void **state)
{
	struct tracker_opts o = { .max_conns = 4, .procroot = "/nonexistent" };
	struct tracker_stats st;
	struct tracker *t;
	struct agg a;

	assert_int_equal(agg__init(&a, 16), 0);
	assert_int_equal(tracker__new(&t, &o, &a), 0);
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
	tracker__free(t);
	agg__free(&a);
}

/* A close ends the connection and frees its slot; a close of an unknown id is harmless. */
static void test_close_frees_the_slot(void **state)
{
	struct tracker_opts o = { .max_conns = 2, .procroot = "/nonexistent" };
	struct sockio_close_ev c = {
		.type = SOCKIO_EV_CLOSE, .tgid = 4242, .conn_id = 1, .ts = 30
	};
	struct tracker_stats st;
	struct tracker *t;
	struct agg a;

	assert_int_equal(agg__init(&a, 16), 0);
	assert_int_equal(tracker__new(&t, &o, &a), 0);
	open_ev(t, 1, 10);
	open_ev(t, 2, 20);
	tracker__event(t, &c, sizeof(c));
	tracker__event(t, &c, sizeof(c));
	open_ev(t, 3, 40);
	tracker__stats(t, &st);
	assert_int_equal(st.conns_evicted, 0);
	assert_int_equal(st.conns_live, 2);
	assert_int_equal(st.closes, 2);
	tracker__free(t);
	agg__free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eviction_is_least_recently_used),
		cmocka_unit_test(test_close_frees_the_slot),
		cmocka_unit_test(test_quiet_ends_unknown_length_without_a_tick),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
