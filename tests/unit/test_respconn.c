// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Redis client engine through the connection table and the sink, fed with synthetic
 * kernel events: pipelines split anywhere, the slices of a read, MULTI/EXEC, lost framing,
 * segments, pushes, pub/sub, and commands never answered.
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
#include "record/agg.h"
#include "record/cacheagg.h"
#include "record/sink.h"
#include "record/tracker.h"

struct fx {
	struct agg a;
	struct sink s;
	struct cacheagg *c;
	struct tracker *t;
};

static void fx_open(struct fx *f)
{
	const struct sink_opts so = { .procroot = "/nonexistent" };
	const struct tracker_opts to = { 0 };

	assert_int_equal(agg__init(&f->a, 16), 0);
	assert_int_equal(sink__init(&f->s, &so, &f->a, NULL, NULL), 0);
	f->c = cacheagg__new(NULL);
	assert_non_null(f->c);
	sink__follow_cache(&f->s, f->c);
	f->t = tracker__new(&to, &f->s);
	assert_non_null(f->t);
}

static void fx_close(struct fx *f)
{
	tracker__free(f->t);
	sink__free(&f->s);
	cacheagg__free(f->c);
	agg__free(&f->a);
}

static void open_client(struct fx *f, uint64_t id)
{
	struct sockio_open_ev e = {
		.type = SOCKIO_EV_OPEN,
		.tgid = 77,
		.conn_id = id,
		.ts = 1,
		.fd = 9,
		.family = 2,
		.lport = 50000,
		.rport = 6379,
		.role = SOCKIO_ROLE_CLIENT,
		.how = SOCKIO_HOW_CONNECT,
		.comm = "app",
	};

	tracker__event(f->t, &e, sizeof(e));
}

/*
 * A transfer of len bytes on the connection, from ts to ts + 1; head_len of them captured
 * from the start (the rest a gap), tail_len from the end; flags/seg_off for segments.
 */
static void xfer(struct fx *f, uint64_t id, uint64_t ts, __u8 dir, const char *bytes, size_t len,
		 size_t head_len, size_t tail_len, __u8 flags, uint32_t seg_off)
{
	size_t sz = sizeof(struct sockio_data_ev) + head_len;
	struct sockio_data_ev *e = calloc(1, sz);

	assert_non_null(e);
	e->type = SOCKIO_EV_DATA;
	e->tgid = 77;
	e->conn_id = id;
	e->ts_enter = ts;
	e->ts_exit = ts + 1;
	e->len = (__s64)len;
	e->tid = 77;
	e->dir = dir;
	e->proto = SOCKIO_PROTO_REDIS;
	e->flags = flags;
	e->sys = dir == SOCKIO_IN ? SOCKIO_SYS_READ : SOCKIO_SYS_WRITE;
	e->head_len = (__u32)head_len;
	e->seg_off = seg_off;
	memcpy(e->head, bytes + seg_off, head_len);
	if (tail_len) {
		e->tail_len = (__u8)tail_len;
		memcpy(e->tail, bytes + len - tail_len, tail_len);
	}
	tracker__event(f->t, e, sz);
	free(e);
}

static void w(struct fx *f, uint64_t ts, const char *s)
{
	xfer(f, 1, ts, SOCKIO_OUT, s, strlen(s), strlen(s), 0, 0, 0);
}

static void r(struct fx *f, uint64_t ts, const char *s)
{
	xfer(f, 1, ts, SOCKIO_IN, s, strlen(s), strlen(s), 0, 0, 0);
}

static const struct cacheagg_row *row(struct fx *f, const char *verb, const char *pattern)
{
	for (unsigned i = 0; i < f->c->nrows; i++)
		if (!strcmp(f->c->rows[i]->verb, verb) && !strcmp(f->c->rows[i]->pattern, pattern))
			return f->c->rows[i];
	fail_msg("no row %s %s", verb, pattern);
	return NULL;
}

static struct respconn_stats stats(struct fx *f)
{
	struct tracker_stats st;

	tracker__stats(f->t, &st);
	return st.redis;
}

#define GET(n, k) "*2\r\n$3\r\nGET\r\n$" #n "\r\n" k "\r\n"

/* A pipeline written in one write, answered over two reads split inside a reply. */
static void test_pipeline_split_reads(void **state)
{
	struct fx f;
	char cmds[4096] = "", replies[4096] = "";

	fx_open(&f);
	open_client(&f, 1);
	for (int i = 0; i < 10; i++) {
		strcat(cmds, "*2\r\n$3\r\nGET\r\n$6\r\nuser:");
		sprintf(cmds + strlen(cmds), "%d\r\n", i);
		strcat(replies, i % 2 ? "$-1\r\n" : "$3\r\npro\r\n");
	}
	w(&f, 1000, cmds);
	xfer(&f, 1, 2000, SOCKIO_IN, replies, 20, 20, 0, 0, 0); /* cut inside the 3rd reply */
	xfer(&f, 1, 5000, SOCKIO_IN, replies + 20, strlen(replies) - 20, strlen(replies) - 20, 0, 0,
	     0);
	const struct cacheagg_row *g = row(&f, "GET", "user:{id}");
	assert_int_equal(g->count, 10);
	assert_int_equal(g->hits, 5);
	assert_int_equal(g->misses, 5);
	assert_int_equal(g->pipelined, 9);
	/* The slices add up to the time the connection was busy: 1000 -> 5001. */
	assert_int_equal(g->lat.sum, 5001 - 1000);
	assert_int_equal(stats(&f).commands, 10);
	fx_close(&f);
}

/* Byte-at-a-time writes and reads give the same command. */
static void test_byte_at_a_time(void **state)
{
	struct fx f;
	const char *cmd = "*3\r\n$3\r\nSET\r\n$5\r\nk:123\r\n$2\r\nvv\r\n";
	const char *rep = "+OK\r\n";

	fx_open(&f);
	open_client(&f, 1);
	/* The first write names the protocol (drivers write whole commands); then bytes. */
	xfer(&f, 1, 100, SOCKIO_OUT, cmd, 12, 12, 0, 0, 0);
	for (size_t i = 12; i < strlen(cmd); i++)
		xfer(&f, 1, 100 + i, SOCKIO_OUT, cmd + i, 1, 1, 0, 0, 0);
	for (size_t i = 0; i < strlen(rep); i++)
		xfer(&f, 1, 500 + i, SOCKIO_IN, rep + i, 1, 1, 0, 0, 0);
	const struct cacheagg_row *s = row(&f, "SET", "k:{id}");
	assert_int_equal(s->count, 1);
	assert_int_equal(s->no_ttl, 1);
	assert_int_equal(s->lat.sum, 505 - 100);
	fx_close(&f);
}

/* MULTI/EXEC: queued commands answered +QUEUED, run by EXEC, timed with it. */
static void test_multi_exec(void **state)
{
	struct fx f;

	fx_open(&f);
	open_client(&f, 1);
	w(&f, 100, "*1\r\n$5\r\nMULTI\r\n" GET(3, "k:1") "*1\r\n$4\r\nEXEC\r\n");
	r(&f, 300, "+OK\r\n+QUEUED\r\n*1\r\n$1\r\nx\r\n");
	assert_int_equal(row(&f, "MULTI", "")->count, 1);
	assert_int_equal(row(&f, "EXEC", "")->count, 1);
	assert_int_equal(row(&f, "GET", "k:{id}")->in_tx, 1);
	/* Its answer is inside EXEC's: neither hit nor miss. */
	assert_int_equal(row(&f, "GET", "k:{id}")->reads, 0);
	/* A WATCHed key changed: EXEC answers nil, the queued command failed. */
	w(&f, 400, "*1\r\n$5\r\nMULTI\r\n" GET(3, "k:2") "*1\r\n$4\r\nEXEC\r\n");
	r(&f, 500, "+OK\r\n+QUEUED\r\n*-1\r\n");
	assert_int_equal(row(&f, "GET", "k:{id}")->errors, 1);
	fx_close(&f);
}

/* A reply larger than the capture: head, gap, tail; a bulk string keeps the framing. */
static void test_gap_in_bulk_keeps_framing(void **state)
{
	struct fx f;
	char big[3000];

	fx_open(&f);
	open_client(&f, 1);
	w(&f, 100, GET(5, "big:1"));
	memset(big, 'v', sizeof(big));
	memcpy(big, "$2988\r\n", 7);
	memcpy(big + 2995, "\r\n", 2);
	big[2997] = '\0';
	/* 2997 bytes: 512 captured, then a gap, then the last 32. */
	xfer(&f, 1, 200, SOCKIO_IN, big, 2997, 512, 32, 0, 0);
	assert_int_equal(row(&f, "GET", "big:{id}")->count, 1);
	assert_int_equal(row(&f, "GET", "big:{id}")->hits, 1);
	assert_int_equal(stats(&f).lost_sync, 0);
	fx_close(&f);
}

/* A gap between small replies loses the framing: a lone command ends with the last read. */
static void test_lost_framing_lone_command(void **state)
{
	struct fx f;
	char arr[4000] = "*300\r\n";

	fx_open(&f);
	open_client(&f, 1);
	w(&f, 100, "*2\r\n$4\r\nKEYS\r\n$1\r\n*\r\n");
	for (int i = 0; i < 300; i++)
		strcat(arr, "$4\r\nk:aa\r\n");
	xfer(&f, 1, 200, SOCKIO_IN, arr, strlen(arr), 256, 32, 0, 0);
	xfer(&f, 1, 400, SOCKIO_IN, arr, 100, 0, 32, 0, 0); /* more of it */
	w(&f, 1000, "*1\r\n$4\r\nPING\r\n");
	r(&f, 1100, "+PONG\r\n");
	const struct cacheagg_row *k = row(&f, "KEYS", "");
	assert_int_equal(k->count, 1);
	assert_int_equal(k->approx, 1);
	/* It ended with the last read before the next write: 100 -> 401. */
	assert_int_equal(k->lat.sum, 401 - 100);
	assert_int_equal(row(&f, "PING", "")->count, 1);
	assert_int_equal(stats(&f).lost_sync, 1);
	assert_int_equal(stats(&f).unmatched, 0);
	fx_close(&f);
}

/* With several commands pending, lost framing cannot be matched: they are counted. */
static void test_lost_framing_pipeline_counted(void **state)
{
	struct fx f;
	char arr[4000] = "*300\r\n";

	fx_open(&f);
	open_client(&f, 1);
	w(&f, 100, "*2\r\n$4\r\nKEYS\r\n$1\r\n*\r\n" GET(3, "k:1"));
	for (int i = 0; i < 300; i++)
		strcat(arr, "$4\r\nk:aa\r\n");
	strcat(arr, "$-1\r\n");
	xfer(&f, 1, 200, SOCKIO_IN, arr, strlen(arr), 256, 32, 0, 0);
	assert_int_equal(stats(&f).unmatched, 2);
	/* The next exchange is matched again. */
	w(&f, 1000, GET(3, "k:2"));
	r(&f, 1100, "$1\r\nx\r\n");
	assert_int_equal(row(&f, "GET", "k:{id}")->count, 1);
	fx_close(&f);
}

/* A long write in segments; one of them lost: framing lost, counted, then found again. */
static void test_segments(void **state)
{
	struct fx f;
	size_t n = 0, cap = 2048;
	char *buf = malloc(64 * 1024);
	char rep[4096 * 5] = "";

	fx_open(&f);
	open_client(&f, 1);
	for (int i = 0; i < 1000; i++) /* 22 bytes each: 22 000 bytes */
		n += (size_t)sprintf(buf + n, "*2\r\n$3\r\nGET\r\n$3\r\nk:%d\r\n", i % 10);
	assert_int_equal(n, 22000);
	for (size_t off = 0; off < n; off += cap) {
		size_t k = n - off < cap ? n - off : cap;

		xfer(&f, 1, 100, SOCKIO_OUT, buf, n, k, 0, SOCKIO_F_SEGMENT, (uint32_t)off);
	}
	for (int i = 0; i < 1000; i++)
		strcat(rep, "$1\r\nx\r\n");
	r(&f, 500, rep);
	assert_int_equal(row(&f, "GET", "k:{id}")->count, 1000);
	/* The same write with its 3rd segment lost: framing lost, nothing misattributed. */
	for (size_t off = 0; off < n; off += cap) {
		size_t k = n - off < cap ? n - off : cap;

		if (off != 2 * cap)
			xfer(&f, 1, 1000, SOCKIO_OUT, buf, n, k, 0, SOCKIO_F_SEGMENT,
			     (uint32_t)off);
	}
	r(&f, 1500, rep);
	assert_int_equal(stats(&f).lost_sync, 1);
	assert_true(row(&f, "GET", "k:{id}")->count + stats(&f).orphan_replies +
			    stats(&f).unmatched >=
		    2000);
	/* The next exchange is matched again. */
	w(&f, 2000, GET(3, "z:1"));
	r(&f, 2100, "$1\r\nx\r\n");
	assert_int_equal(row(&f, "GET", "z:{id}")->count, 1);
	free(buf);
	fx_close(&f);
}

/* RESP3 pushes are not replies; after SUBSCRIBE (RESP2), nothing is matched any more. */
static void test_push_and_pubsub(void **state)
{
	struct fx f;

	fx_open(&f);
	open_client(&f, 1);
	w(&f, 100, GET(3, "k:1"));
	r(&f, 200, ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n$1\r\nx\r\n");
	assert_int_equal(row(&f, "GET", "k:{id}")->count, 1);
	w(&f, 300, "*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\nch\r\n");
	r(&f, 400, "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
	r(&f, 500, "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n");
	assert_int_equal(stats(&f).pubsub, 1);
	assert_int_equal(stats(&f).orphan_replies, 0);
	assert_int_equal(f.c->nrows, 1);
	fx_close(&f);
}

/* Replies to commands sent before tracing: orphans. Commands never answered: aborted. */
static void test_orphans_and_aborted(void **state)
{
	struct fx f;
	struct sockio_close_ev ce = {
		.type = SOCKIO_EV_CLOSE, .tgid = 77, .conn_id = 1, .ts = 900
	};

	fx_open(&f);
	open_client(&f, 1);
	w(&f, 100, GET(3, "k:1"));
	r(&f, 200, "$1\r\nx\r\n+OK\r\n"); /* one reply too many */
	w(&f, 300, GET(3, "k:2") GET(3, "k:3"));
	tracker__event(f.t, &ce, sizeof(ce));
	assert_int_equal(stats(&f).orphan_replies, 1);
	assert_int_equal(stats(&f).aborted, 2);
	assert_int_equal(row(&f, "GET", "k:{id}")->count, 1);
	assert_int_equal(row(&f, "GET", "k:{id}")->aborted, 2);
	fx_close(&f);
}

/* Errors keep their first word; MGET counts a hit or miss per key. */
static void test_errors_and_mget(void **state)
{
	struct fx f;

	fx_open(&f);
	open_client(&f, 1);
	w(&f, 100, GET(3, "l:1"));
	r(&f, 200, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
	w(&f, 300, "*4\r\n$4\r\nMGET\r\n$3\r\nu:1\r\n$3\r\nu:2\r\n$3\r\nu:3\r\n");
	r(&f, 400, "*3\r\n$1\r\na\r\n$-1\r\n$1\r\nc\r\n");
	assert_int_equal(row(&f, "GET", "l:{id}")->errors, 1);
	assert_string_equal(row(&f, "GET", "l:{id}")->errs[0].word, "WRONGTYPE");
	assert_int_equal(row(&f, "MGET", "u:{id}")->hits, 2);
	assert_int_equal(row(&f, "MGET", "u:{id}")->misses, 1);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipeline_split_reads),
		cmocka_unit_test(test_byte_at_a_time),
		cmocka_unit_test(test_multi_exec),
		cmocka_unit_test(test_gap_in_bulk_keeps_framing),
		cmocka_unit_test(test_lost_framing_lone_command),
		cmocka_unit_test(test_lost_framing_pipeline_counted),
		cmocka_unit_test(test_segments),
		cmocka_unit_test(test_push_and_pubsub),
		cmocka_unit_test(test_orphans_and_aborted),
		cmocka_unit_test(test_errors_and_mget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
