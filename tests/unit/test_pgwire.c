// SPDX-License-Identifier: GPL-2.0-only
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/pgwire.h"

/* A byte buffer to build protocol messages in. */
struct buf {
	uint8_t b[1 << 16];
	size_t n;
};

static void put32(struct buf *b, uint32_t v)
{
	b->b[b->n++] = v >> 24;
	b->b[b->n++] = v >> 16;
	b->b[b->n++] = v >> 8;
	b->b[b->n++] = v;
}

/* type, then the body given as pieces; a piece of NULL adds a NUL, else its bytes. */
static void msg(struct buf *b, char type, int npieces, ...)
{
	size_t start;
	va_list ap;

	b->b[b->n++] = type;
	start = b->n;
	put32(b, 0);
	va_start(ap, npieces);
	for (int i = 0; i < npieces; i++) {
		const char *s = va_arg(ap, const char *);

		if (!s) {
			b->b[b->n++] = 0;
		} else {
			memcpy(b->b + b->n, s, strlen(s));
			b->n += strlen(s);
		}
	}
	va_end(ap);
	b->n -= 0;
	{
		uint32_t len = b->n - start;

		b->b[start] = len >> 24;
		b->b[start + 1] = len >> 16;
		b->b[start + 2] = len >> 8;
		b->b[start + 3] = len;
	}
}

#define Z(b)	   msg(b, 'Z', 1, "I")
#define CC(b, tag) msg(b, 'C', 2, tag, NULL)
#define SYNC(b)	   msg(b, 'S', 0)

struct got {
	int n;
	int total;	   /* every query emitted, also past the 64 kept */
	uint64_t lat_sum;  /* their latencies added up */
	uint64_t last_end; /* end of the last one */
	bool overlap;	   /* one started before the one before it ended */
	struct {
		char text[256];
		char name[64];
		unsigned flags;
		uint64_t ts_start, ts_first, ts_end;
		char sqlstate[6];
		int64_t rows;
	} q[64];
};

static void on_query(const struct pgwire_query *q, void *ctx)
{
	struct got *g = ctx;

	if (g->total && q->ts_start < g->last_end)
		g->overlap = true;
	g->total++;
	g->lat_sum += q->ts_end - q->ts_start;
	g->last_end = q->ts_end;
	if (g->n == 64)
		return;
	snprintf(g->q[g->n].text, sizeof(g->q[g->n].text), "%.*s", (int)q->text_len,
		 q->text ? q->text : "");
	snprintf(g->q[g->n].name, sizeof(g->q[g->n].name), "%s", q->stmt_name ? q->stmt_name : "");
	g->q[g->n].flags = q->flags;
	g->q[g->n].ts_start = q->ts_start;
	g->q[g->n].ts_first = q->ts_first;
	g->q[g->n].ts_end = q->ts_end;
	memcpy(g->q[g->n].sqlstate, q->sqlstate, 6);
	g->q[g->n].rows = q->rows;
	g->n++;
}

/* Feeds b as one transfer, captured whole or as head/tail. */
static void feed(struct pgwire_conn *c, const struct buf *b, bool write, uint64_t ts, size_t head,
		 size_t tail, struct got *g)
{
	struct pgwire_chunk ch = {
		.ts_enter = ts,
		.ts_exit = ts + 1,
		.len = b->n,
		.head = b->b,
		.head_len = head < b->n ? head : b->n,
		.tail = b->b + b->n - (tail < b->n ? tail : b->n),
		.tail_len = tail < b->n ? tail : b->n,
	};

	if (write)
		pgwire_conn__write(c, &ch, on_query, g);
	else
		pgwire_conn__read(c, &ch, on_query, g);
}

static void feed_all(struct pgwire_conn *c, const struct buf *b, bool write, uint64_t ts,
		     struct got *g)
{
	feed(c, b, write, ts, b->n, b->n, g);
}

/*
 * Feeds b as one transfer whose head and tail are captured into buffers of their own, as the
 * probes hand them over, each exactly as long as what it holds (on the heap: a sanitizer build
 * sees a read past either).
 */
static void feed_split(struct pgwire_conn *c, const struct buf *b, bool write, uint64_t ts,
		       size_t head, size_t tail, struct got *g)
{
	uint8_t *h = malloc(head ? head : 1), *t = malloc(tail ? tail : 1);
	struct pgwire_chunk ch = {
		.ts_enter = ts,
		.ts_exit = ts + 1,
		.len = b->n,
		.head = h,
		.head_len = head,
		.tail = t,
		.tail_len = tail,
	};

	assert_non_null(h);
	assert_non_null(t);
	assert_true(head <= b->n && tail <= b->n);
	memcpy(h, b->b, head);
	memcpy(t, b->b + b->n - tail, tail);
	if (write)
		pgwire_conn__write(c, &ch, on_query, g);
	else
		pgwire_conn__read(c, &ch, on_query, g);
	free(h);
	free(t);
}

static void startup(struct pgwire_conn *c, struct got *g)
{
	struct buf w = { 0 }, r = { 0 };

	put32(&w, 8);
	put32(&w, 80877103); /* SSLRequest */
	feed_all(c, &w, true, 1, g);
	r.b[r.n++] = 'N';
	feed_all(c, &r, false, 2, g);
	w.n = 0;
	put32(&w, 8 + 14);
	put32(&w, 196608);
	memcpy(w.b + w.n, "user\0postgres\0\0", 14);
	w.n += 14;
	feed_all(c, &w, true, 3, g);
	r.n = 0;
	msg(&r, 'R', 1, "\0\0\0\0");
	msg(&r, 'S', 4, "server_version", NULL, "15.8", NULL);
	msg(&r, 'K', 1, "12345678");
	Z(&r);
	feed_all(c, &r, false, 4, g);
}

static void test_simple_query(void **state)
{
	struct pgwire_conn *c = pgwire_conn__new();
	struct buf w = { 0 }, r = { 0 };
	struct got g = { 0 };

	startup(c, &g);
	assert_int_equal(g.n, 0);
	msg(&w, 'Q', 2, "select pg_sleep(0.05)", NULL);
	feed_all(c, &w, true, 100, &g);
	msg(&r, 'T', 1, "\0\1pg_sleep\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
	msg(&r, 'D', 1, "\0\1\0\0\0\0");
	CC(&r, "SELECT 1");
	Z(&r);
	feed_all(c, &r, false, 150, &g);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.q[0].text, "select pg_sleep(0.05)");
	assert_int_equal(g.q[0].ts_start, 100);
	assert_int_equal(g.q[0].ts_first, 151);
	assert_int_equal(g.q[0].ts_end, 151);
	assert_int_equal(g.q[0].rows, 1);
	assert_int_equal(g.q[0].flags, 0);
	assert_false(pgwire_conn__encrypted(c));
	pgwire_conn__free(c);
}

static void test_extended_named_and_unknown(void **state)
{
	struct pgwire_conn *c = pgwire_conn__new();
	struct buf w = { 0 }, r = { 0 };
	struct got g = { 0 };

	startup(c, &g);
	/* asyncpg: prepare first (no execution), then bind/execute by name. */
	msg(&w, 'P', 4, "__asyncpg_stmt_1__", NULL, "select $1::int + 1", NULL);
	msg(&w, 'D', 2, "S__asyncpg_stmt_1__", NULL);
	SYNC(&w);
	feed_all(c, &w, true, 10, &g);
	msg(&r, '1', 0);
	msg(&r, 't', 1, "\0\1\0\0\0\x17");
	msg(&r, 'T', 1, "\0\0");
	Z(&r);
	feed_all(c, &r, false, 11, &g);
	assert_int_equal(g.n, 0);
	for (int i = 0; i < 3; i++) {
		w.n = r.n = 0;
		msg(&w, 'B', 4, "", NULL, "__asyncpg_stmt_1__", NULL);
		msg(&w, 'E', 2, "", NULL);
		SYNC(&w);
		feed_all(c, &w, true, 20 + 10 * i, &g);
		msg(&r, '2', 0);
		msg(&r, 'D', 1,
		    "\0\1\0\0\0\1"
		    "2");
		CC(&r, "SELECT 1");
		Z(&r);
		feed_all(c, &r, false, 25 + 10 * i, &g);
	}
	assert_int_equal(g.n, 3);
	for (int i = 0; i < 3; i++) {
		assert_string_equal(g.q[i].text, "select $1::int + 1");
		assert_true(g.q[i].flags & PGWIRE_Q_PREPARED);
		assert_int_equal(g.q[i].rows, 1);
	}
	/* A statement prepared before we looked. */
	w.n = r.n = 0;
	msg(&w, 'B', 4, "", NULL, "stmt_x", NULL);
	msg(&w, 'E', 2, "", NULL);
	SYNC(&w);
	feed_all(c, &w, true, 90, &g);
	msg(&r, '2', 0);
	CC(&r, "UPDATE 3");
	Z(&r);
	feed_all(c, &r, false, 95, &g);
	assert_int_equal(g.n, 4);
	assert_true(g.q[3].flags & PGWIRE_Q_UNKNOWN_STMT);
	assert_string_equal(g.q[3].name, "stmt_x");
	assert_int_equal(g.q[3].rows, 3);
	pgwire_conn__free(c);
}

static void test_error_sqlstate(void **state)
{
	struct pgwire_conn *c = pgwire_conn__new();
	struct buf w = { 0 }, r = { 0 };
	struct got g = { 0 };

	startup(c, &g);
	msg(&w, 'Q', 2, "select 1/0", NULL);
	feed_all(c, &w, true, 10, &g);
	msg(&r, 'E', 8, "SERROR", NULL, "VERROR", NULL, "C22012", NULL, "Mdivision by zero", NULL);
	r.b[r.n++] = 0;
	/* fix the length for the terminating NUL */
	r.b[4]++;
	Z(&r);
	feed_all(c, &r, false, 12, &g);
	assert_int_equal(g.n, 1);
	assert_true(g.q[0].flags & PGWIRE_Q_ERROR);
	assert_string_equal(g.q[0].sqlstate, "22012");
	pgwire_conn__free(c);
}

/* A big result captured as 64 head bytes and 32 tail bytes per read, over several reads. */
static void test_big_result_with_gaps(void **state)
{
	struct pgwire_conn *c = pgwire_conn__new();
	static struct buf r;
	struct buf w = { 0 }, part;
	struct got g = { 0 };
	size_t off = 0;

	startup(c, &g);
	msg(&w, 'Q', 2, "select * from generate_series(1, 5000)", NULL);
	feed(c, &w, true, 10, 64, 32, &g);
	r.n = 0;
	msg(&r, 'T', 1, "\0\1generate_series\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
	while (r.n < sizeof(r.b) - 64)
		msg(&r, 'D', 1, "\0\1\0\0\0\0041234");
	CC(&r, "SELECT 5000");
	Z(&r);
	/* Reads of 1000 bytes: message boundaries fall in the gaps. */
	while (off < r.n) {
		part.n = r.n - off < 1000 ? r.n - off : 1000;
		memcpy(part.b, r.b + off, part.n);
		feed(c, &part, false, 20 + off, 64, 32, &g);
		off += part.n;
	}
	assert_int_equal(g.n, 1);
	assert_string_equal(g.q[0].text, "select * from generate_series(1, 5000)");
	assert_int_equal(g.q[0].rows, 5000);
	assert_int_equal(g.q[0].ts_first, 21);
	pgwire_conn__free(c);
}

/* The same session split into 1-byte transfers gives the same answer. */
static void test_byte_by_byte(void **state)
{
	struct pgwire_conn *c = pgwire_conn__new();
	struct buf w = { 0 }, r = { 0 }, one = { .n = 1 };
	struct got g = { 0 };

	startup(c, &g);
	msg(&w, 'P', 4, "", NULL, "select $1", NULL);
	msg(&w, 'B', 4, "", NULL, "", NULL);
	msg(&w, 'E', 2, "", NULL);
	SYNC(&w);
	for (size_t i = 0; i < w.n; i++) {
		one.b[0] = w.b[i];
		feed_all(c, &one, true, 100 + i, &g);
	}
	msg(&r, '1', 0);
	msg(&r, '2', 0);
	CC(&r, "SELECT 1");
	Z(&r);
	for (size_t i = 0; i < r.n; i++) {
		one.b[0] = r.b[i];
		feed_all(c, &one, false, 1000 + i, &g);
	}
	/*
	 * Message bodies split over transfers are not reassembled: the text is cut and the row
	 * count unknown, but the query, its start and its end are exact.
	 */
	assert_int_equal(g.n, 1);
	assert_int_equal(g.q[0].ts_start, 100);
	assert_int_equal(g.q[0].ts_end, 1000 + r.n);
	assert_true(g.q[0].flags & PGWIRE_Q_TRUNCATED || !g.q[0].text[0]);
	assert_int_equal(g.q[0].rows, -1);
	pgwire_conn__free(c);
}

static void test_pipeline_and_close(void **state)
{
	struct pgwire_conn *c = pgwire_conn__new();
	struct buf w = { 0 }, r = { 0 };
	struct got g = { 0 };

	startup(c, &g);
	msg(&w, 'P', 4, "", NULL, "select 1", NULL);
	msg(&w, 'B', 4, "", NULL, "", NULL);
	msg(&w, 'E', 2, "", NULL);
	SYNC(&w);
	msg(&w, 'P', 4, "", NULL, "select 2", NULL);
	msg(&w, 'B', 4, "", NULL, "", NULL);
	msg(&w, 'E', 2, "", NULL);
	SYNC(&w);
	msg(&w, 'Q', 2, "select 3", NULL);
	feed_all(c, &w, true, 10, &g);
	msg(&r, '1', 0);
	msg(&r, '2', 0);
	CC(&r, "SELECT 1");
	Z(&r);
	feed_all(c, &r, false, 20, &g);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.q[0].text, "select 1");
	r.n = 0;
	msg(&r, '1', 0);
	msg(&r, '2', 0);
	CC(&r, "SELECT 1");
	Z(&r);
	feed_all(c, &r, false, 30, &g);
	assert_int_equal(g.n, 2);
	/* The text of the second unnamed Parse, not the first. */
	assert_string_equal(g.q[1].text, "select 2");
	pgwire_conn__close(c, 40, on_query, &g);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.q[2].text, "select 3");
	assert_true(g.q[2].flags & PGWIRE_Q_ABORTED);
	pgwire_conn__free(c);
}

/* asyncpg executemany and PgJDBC executeBatch: many Bind/Execute, one Sync, one write. */
static void test_batch_of_1000_executes(void **state)
{
	struct pgwire_conn *c = pgwire_conn__new();
	static struct buf w, r;
	struct got g = { 0 };
	const struct pgwire_stats *st;

	startup(c, &g);
	w.n = r.n = 0;
	msg(&w, 'P', 4, "ins", NULL, "insert into t values ($1)", NULL);
	for (int i = 0; i < 1000; i++) {
		msg(&w, 'B', 4, "", NULL, "ins", NULL);
		msg(&w, 'E', 2, "", NULL);
	}
	SYNC(&w);
	assert_true(w.n > 16000);
	feed_all(c, &w, true, 1000, &g);
	msg(&r, '1', 0);
	for (int i = 0; i < 1000; i++) {
		msg(&r, '2', 0);
		CC(&r, "INSERT 0 1");
	}
	Z(&r);
	feed_all(c, &r, false, 4000, &g);
	assert_int_equal(g.total, 1000);
	assert_string_equal(g.q[0].text, "insert into t values ($1)");
	assert_int_equal(g.q[63].rows, 1);
	/* The batch took 4001 - 1000 ns: its executions share that time, one after another. */
	assert_int_equal(g.lat_sum, 3001);
	assert_int_equal(g.q[0].ts_start, 1000);
	assert_int_equal(g.last_end, 4001);
	assert_false(g.overlap);
	st = pgwire_conn__stats(c);
	assert_int_equal(st->execs_overflow + st->queue_overflow + st->write_gaps + st->lost_sync,
			 0);
	pgwire_conn__free(c);
}

/* psycopg 3 pipeline mode: groups sent before the first is answered queue up, unbounded. */
static void test_pipeline_of_300_groups(void **state)
{
	struct pgwire_conn *c = pgwire_conn__new();
	static struct buf w, r;
	struct got g = { 0 };

	startup(c, &g);
	w.n = r.n = 0;
	for (int i = 0; i < 300; i++) {
		msg(&w, 'P', 4, "", NULL, "select 1", NULL);
		msg(&w, 'B', 4, "", NULL, "", NULL);
		msg(&w, 'E', 2, "", NULL);
		SYNC(&w);
		msg(&r, '1', 0);
		msg(&r, '2', 0);
		CC(&r, "SELECT 1");
		Z(&r);
	}
	feed_all(c, &w, true, 100, &g);
	feed_all(c, &r, false, 700, &g);
	assert_int_equal(g.total, 300);
	/* All answered in one read: the connection was busy 601 ns, not 300 x 601. */
	assert_int_equal(g.lat_sum, 601);
	assert_false(g.overlap);
	assert_int_equal(pgwire_conn__stats(c)->queue_overflow, 0);
	pgwire_conn__free(c);
}

/* A write whose middle was not captured: its later messages are lost, and that is counted. */
static void test_write_gap_counted(void **state)
{
	struct pgwire_conn *c = pgwire_conn__new();
	static struct buf w;
	struct got g = { 0 };

	startup(c, &g);
	w.n = 0;
	for (int i = 0; i < 100; i++)
		msg(&w, 'Q', 2, "select 1", NULL);
	feed(c, &w, true, 10, 100, 10, &g);
	assert_int_equal(pgwire_conn__stats(c)->write_gaps, 1);
	pgwire_conn__free(c);
}

/*
 * asyncpg prepares with Parse/Describe/Flush (no Sync) and executes later: the execution is
 * dated from its Bind, not from the Parse. PgJDBC sends BEGIN with the first query: the
 * BEGIN gets none of the group's time.
 */
static void test_execution_dated_from_bind_begin_takes_no_time(void **state)
{
	struct pgwire_conn *c = pgwire_conn__new();
	static struct buf w, r;
	struct got g = { 0 };

	startup(c, &g);
	w.n = r.n = 0;
	msg(&w, 'P', 4, "s1", NULL, "select pg_sleep(0.01)", NULL);
	msg(&w, 'D', 2, "Ss1", NULL);
	msg(&w, 'H', 0);
	feed_all(c, &w, true, 100, &g);
	msg(&r, '1', 0);
	msg(&r, 't', 1, "\0\0");
	msg(&r, 'n', 0);
	feed_all(c, &r, false, 200, &g);
	w.n = r.n = 0;
	msg(&w, 'B', 4, "", NULL, "s1", NULL);
	msg(&w, 'E', 2, "", NULL);
	SYNC(&w);
	feed_all(c, &w, true, 30000, &g);
	msg(&r, '2', 0);
	CC(&r, "SELECT 1");
	Z(&r);
	feed_all(c, &r, false, 40000, &g);
	assert_int_equal(g.total, 1);
	assert_int_equal(g.q[0].ts_start, 30000);
	assert_int_equal(g.q[0].ts_end, 40001);

	w.n = r.n = 0;
	msg(&w, 'P', 4, "", NULL, "BEGIN", NULL);
	msg(&w, 'B', 4, "", NULL, "", NULL);
	msg(&w, 'E', 2, "", NULL);
	msg(&w, 'P', 4, "", NULL, "update t set a = 1", NULL);
	msg(&w, 'B', 4, "", NULL, "", NULL);
	msg(&w, 'E', 2, "", NULL);
	SYNC(&w);
	feed_all(c, &w, true, 50000, &g);
	msg(&r, '1', 0);
	msg(&r, '2', 0);
	CC(&r, "BEGIN");
	msg(&r, '1', 0);
	msg(&r, '2', 0);
	CC(&r, "UPDATE 1");
	Z(&r);
	feed_all(c, &r, false, 60000, &g);
	assert_int_equal(g.total, 3);
	assert_string_equal(g.q[1].text, "BEGIN");
	assert_int_equal(g.q[1].ts_end - g.q[1].ts_start, 0);
	assert_string_equal(g.q[2].text, "update t set a = 1");
	assert_int_equal(g.q[2].ts_start, 50000);
	assert_int_equal(g.q[2].ts_end, 60001);
	pgwire_conn__free(c);
}

static void test_tls(void **state)
{
	struct pgwire_conn *c = pgwire_conn__new();
	struct buf w = { 0 }, r = { .n = 1, .b = { 'S' } };
	struct got g = { 0 };

	put32(&w, 8);
	put32(&w, 80877103);
	feed_all(c, &w, true, 1, &g);
	feed_all(c, &r, false, 2, &g);
	assert_true(pgwire_conn__encrypted(c));
	pgwire_conn__free(c);
}

static void test_sniff(void **state)
{
	struct buf b = { 0 };
	static const char *const no[] = {
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /a HTTP/1.1\r\n",
		"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
		"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
		"hello world",
		"",
	};

	put32(&b, 8);
	put32(&b, 80877103);
	assert_int_equal(pgwire__sniff(b.b, b.n, b.n), PGWIRE_SNIFF_STARTUP);
	b.n = 0;
	msg(&b, 'Q', 2, "select 1", NULL);
	assert_int_equal(pgwire__sniff(b.b, b.n, b.n), PGWIRE_SNIFF_MSG);
	/* A length that runs past the write is not ours. */
	assert_int_equal(pgwire__sniff(b.b, b.n - 1, b.n - 1), PGWIRE_SNIFF_NO);
	b.n = 0;
	msg(&b, 'P', 4, "", NULL, "select 1", NULL);
	msg(&b, 'B', 4, "", NULL, "", NULL);
	msg(&b, 'E', 2, "", NULL);
	SYNC(&b);
	assert_int_equal(pgwire__sniff(b.b, b.n, b.n), PGWIRE_SNIFF_MSG);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (pgwire__sniff((const uint8_t *)no[i], strlen(no[i]), strlen(no[i])) !=
		    PGWIRE_SNIFF_NO)
			fail_msg("sniffed '%s' as PostgreSQL", no[i]);
}

/* Sniffing a write whose capture ends early: whole messages first, else not ours. */
static void test_sniff_partial(void **state)
{
	struct buf b = { 0 };
	size_t one;

	msg(&b, 'Q', 2, "select 1", NULL);
	one = b.n;
	msg(&b, 'Q', 2, "select 2", NULL);
	/* one whole message, the next cut by the capture: ours */
	assert_int_equal(pgwire__sniff(b.b, one + 2, b.n), PGWIRE_SNIFF_MSG);
	/* the same bytes as a whole write: the second message runs past its end */
	assert_int_equal(pgwire__sniff(b.b, one + 2, one + 2), PGWIRE_SNIFF_NO);
	/* not even one whole message in sight */
	assert_int_equal(pgwire__sniff(b.b, 3, b.n), PGWIRE_SNIFF_NO);
	assert_int_equal(pgwire__sniff(b.b, 4, b.n), PGWIRE_SNIFF_NO);
	/* a whole header is enough to walk to the next message */
	assert_int_equal(pgwire__sniff(b.b, 5, b.n), PGWIRE_SNIFF_MSG);
	/* startup messages up to 10000 bytes */
	b.n = 0;
	put32(&b, 10000);
	put32(&b, 196608);
	assert_int_equal(pgwire__sniff(b.b, 8, 10000), PGWIRE_SNIFF_STARTUP);
	b.n = 0;
	put32(&b, 10001);
	put32(&b, 196608);
	assert_int_equal(pgwire__sniff(b.b, 8, 10001), PGWIRE_SNIFF_NO);
	b.n = 0;
	put32(&b, 8);
	put32(&b, 80877102); /* CancelRequest... of 8 bytes, written as 9 */
	assert_int_equal(pgwire__sniff(b.b, 8, 9), PGWIRE_SNIFF_NO);
	/* each untyped first message: startup, SSL, GSS encryption, cancel */
	for (uint32_t code = 80877102; code <= 80877104; code++) {
		b.n = 0;
		put32(&b, code == 80877102 ? 16 : 8);
		put32(&b, code);
		assert_int_equal(pgwire__sniff(b.b, 8, code == 80877102 ? 16 : 8),
				 PGWIRE_SNIFF_STARTUP);
	}
	b.n = 0;
	put32(&b, 8);
	put32(&b, 80877105);
	assert_int_equal(pgwire__sniff(b.b, 8, 8), PGWIRE_SNIFF_NO);
}

/* Queries whose text is not all captured: cut at what was, or empty when nothing was. */
static void test_query_text_captured(void **state)
{
	struct pgwire_conn *c = pgwire_conn__new();
	static struct buf w, r;
	struct got g = { 0 };
	char sql[200];

	startup(c, &g);
	memset(sql, 'x', sizeof(sql) - 1);
	sql[sizeof(sql) - 1] = '\0';
	memcpy(sql, "select ", 7);
	/* 20 head bytes: the Q header and 15 bytes of its text, no NUL */
	w.n = 0;
	msg(&w, 'Q', 2, sql, NULL);
	feed(c, &w, true, 10, 20, 0, &g);
	/* the header only: the text is in the gap */
	feed(c, &w, true, 20, 5, 4, &g);
	/* an empty query string is no truncation */
	w.n = 0;
	msg(&w, 'Q', 1, NULL);
	feed_all(c, &w, true, 30, &g);
	r.n = 0;
	Z(&r);
	Z(&r);
	Z(&r);
	feed_all(c, &r, false, 40, &g);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.q[0].text, "select xxxxxxxx");
	assert_int_equal(g.q[0].flags, PGWIRE_Q_TRUNCATED);
	assert_string_equal(g.q[1].text, "");
	assert_int_equal(g.q[1].flags, PGWIRE_Q_TRUNCATED);
	assert_string_equal(g.q[2].text, "");
	assert_int_equal(g.q[2].flags, 0);
	/* answered in one read: each starts when the one before it ended */
	assert_int_equal(g.q[0].ts_end, 41);
	assert_int_equal(g.q[2].ts_start, 41);
	assert_int_equal(pgwire_conn__stats(c)->write_gaps, 0);
	pgwire_conn__free(c);
}

/*
 * Errors: an ErrorResponse whose fields were not captured still marks its query; one with no
 * query waiting (a failed login) marks nothing; in a group, the Executes after the failed one
 * are skipped by the server and not reported.
 */
static void test_errors_uncaptured_and_skipped(void **state)
{
	struct pgwire_conn *c = pgwire_conn__new();
	static struct buf w, r;
	struct got g = { 0 };
	char text[300];

	startup(c, &g);
	r.n = 0;
	msg(&r, 'E', 4, "SFATAL", NULL, "C28P01", NULL);
	CC(&r, "SELECT 1"); /* nor does a stray CommandComplete */
	feed_all(c, &r, false, 5, &g);
	assert_int_equal(g.n, 0);

	w.n = 0;
	msg(&w, 'Q', 2, "select 1/0", NULL);
	feed_all(c, &w, true, 10, &g);
	memset(text, 'm', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	r.n = 0;
	msg(&r, 'E', 6, "SERROR", NULL, "C22012", NULL, text, NULL);
	Z(&r);
	feed(c, &r, false, 20, 5, 6, &g); /* the E header and the Z: the fields are in the gap */
	assert_int_equal(g.n, 1);
	assert_int_equal(g.q[0].flags, PGWIRE_Q_ERROR);
	assert_string_equal(g.q[0].sqlstate, "");

	w.n = r.n = 0;
	msg(&w, 'P', 4, "", NULL, "select 1", NULL);
	msg(&w, 'B', 4, "", NULL, "", NULL);
	msg(&w, 'E', 2, "", NULL);
	msg(&w, 'P', 4, "", NULL, "select 1/0", NULL);
	msg(&w, 'B', 4, "", NULL, "", NULL);
	msg(&w, 'E', 2, "", NULL);
	msg(&w, 'P', 4, "", NULL, "select 3", NULL);
	msg(&w, 'B', 4, "", NULL, "", NULL);
	msg(&w, 'E', 2, "", NULL);
	msg(&w, 'B', 4, "", NULL, "", NULL);
	msg(&w, 'E', 2, "", NULL);
	SYNC(&w);
	feed_all(c, &w, true, 100, &g);
	msg(&r, '1', 0);
	msg(&r, '2', 0);
	CC(&r, "SELECT 1");
	msg(&r, '1', 0);
	msg(&r, '2', 0);
	msg(&r, 'E', 4, "SERROR", NULL, "C22012", NULL);
	Z(&r);
	feed_all(c, &r, false, 200, &g);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.q[1].text, "select 1");
	assert_int_equal(g.q[1].flags, PGWIRE_Q_PREPARED);
	assert_int_equal(g.q[1].rows, 1);
	assert_string_equal(g.q[2].text, "select 1/0");
	assert_int_equal(g.q[2].flags, PGWIRE_Q_PREPARED | PGWIRE_Q_ERROR);
	assert_string_equal(g.q[2].sqlstate, "22012");
	/* the two left share the group's time: 100 .. 201 */
	assert_int_equal(g.q[1].ts_start, 100);
	assert_int_equal(g.q[1].ts_end, 150);
	assert_int_equal(g.q[2].ts_end, 201);
	pgwire_conn__free(c);
}

/* A group of transaction control only (BEGIN and SAVEPOINT) shares its time among them all. */
static void test_tx_control_only_group(void **state)
{
	struct pgwire_conn *c = pgwire_conn__new();
	static struct buf w, r;
	struct got g = { 0 };

	startup(c, &g);
	w.n = r.n = 0;
	msg(&w, 'P', 4, "", NULL, "\n\t begin", NULL);
	msg(&w, 'B', 4, "", NULL, "", NULL);
	msg(&w, 'E', 2, "", NULL);
	msg(&w, 'P', 4, "", NULL, "SAVEPOINT a", NULL);
	msg(&w, 'B', 4, "", NULL, "", NULL);
	msg(&w, 'E', 2, "", NULL);
	SYNC(&w);
	feed_all(c, &w, true, 100, &g);
	msg(&r, '1', 0);
	msg(&r, '2', 0);
	CC(&r, "BEGIN");
	msg(&r, '1', 0);
	msg(&r, '2', 0);
	CC(&r, "SAVEPOINT");
	Z(&r);
	feed_all(c, &r, false, 199, &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.q[0].ts_start, 100);
	assert_int_equal(g.q[0].ts_end, 150);
	assert_int_equal(g.q[1].ts_start, 150);
	assert_int_equal(g.q[1].ts_end, 200);
	assert_int_equal(g.q[0].rows, -1); /* "BEGIN" has no row count */
	/* with another statement, BEGIN gets none: " begin" with leading blanks too */
	w.n = r.n = 0;
	msg(&w, 'P', 4, "", NULL, "  begin", NULL);
	msg(&w, 'B', 4, "", NULL, "", NULL);
	msg(&w, 'E', 2, "", NULL);
	msg(&w, 'P', 4, "", NULL, "select 1", NULL);
	msg(&w, 'B', 4, "", NULL, "", NULL);
	msg(&w, 'E', 2, "", NULL);
	SYNC(&w);
	feed_all(c, &w, true, 300, &g);
	msg(&r, '1', 0);
	msg(&r, '2', 0);
	CC(&r, "BEGIN");
	msg(&r, '1', 0);
	msg(&r, '2', 0);
	CC(&r, "SELECT 1");
	Z(&r);
	feed_all(c, &r, false, 399, &g);
	assert_int_equal(g.n, 4);
	assert_int_equal(g.q[2].ts_end, 300);
	assert_int_equal(g.q[3].ts_start, 300);
	assert_int_equal(g.q[3].ts_end, 400);
	pgwire_conn__free(c);
}

/*
 * Lost framing: a read with an impossible message length. Only a read that ends with a
 * whole, valid ReadyForQuery (length 5, status I, E or T) puts the parser back in step.
 */
static void test_resync(void **state)
{
	struct pgwire_conn *c = pgwire_conn__new();
	static struct buf w, r;
	struct got g = { 0 };

	startup(c, &g);
	w.n = 0;
	msg(&w, 'Q', 2, "select 1", NULL);
	feed_all(c, &w, true, 10, &g);
	r.n = 0;
	r.b[r.n++] = 'D';
	put32(&r, 2); /* impossible */
	r.b[r.n++] = 'Z';
	put32(&r, 6);
	r.b[r.n++] = 'I';
	r.b[r.n++] = 'I';
	feed_all(c, &r, false, 20, &g);
	assert_int_equal(g.n, 0);
	assert_int_equal(pgwire_conn__stats(c)->malformed, 1);
	assert_int_equal(pgwire_conn__stats(c)->lost_sync, 1);
	assert_int_equal(pgwire_conn__stats(c)->resync, 0);
	r.n = 0;
	msg(&r, 'Z', 1, "X"); /* status X: not a ReadyForQuery */
	feed_all(c, &r, false, 30, &g);
	assert_int_equal(g.n, 0);
	r.n = 0;
	CC(&r, "SELECT 7");
	Z(&r);
	feed_all(c, &r, false, 40, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.q[0].flags, PGWIRE_Q_APPROX);
	assert_int_equal(g.q[0].rows, 7);
	assert_int_equal(g.q[0].ts_end, 41);
	assert_int_equal(pgwire_conn__stats(c)->resync, 1);
	pgwire_conn__free(c);
}

/* A startup message is at most 10000 bytes: a longer "startup" is framed as typed messages. */
static void test_startup_bound(void **state)
{
	for (uint32_t len = 10000; len <= 10001; len++) {
		struct pgwire_conn *c = pgwire_conn__new();
		static struct buf w, r;
		struct got g = { 0 };

		memset(&w, 0, sizeof(w));
		put32(&w, len);
		put32(&w, 196608);
		w.n = len;
		feed_all(c, &w, true, 1, &g);
		w.n = r.n = 0;
		msg(&w, 'Q', 2, "select 1", NULL);
		feed_all(c, &w, true, 10, &g);
		Z(&r);
		feed_all(c, &r, false, 20, &g);
		assert_int_equal(g.n, len == 10000 ? 1 : 0);
		pgwire_conn__free(c);
	}
}

/*
 * Statement names: Close forgets one; past PGWIRE_NAMES_MAX the least recently set name is
 * forgotten, and that is counted.
 */
static void test_statement_names(void **state)
{
	struct pgwire_conn *c = pgwire_conn__new();
	static struct buf w, r;
	struct got g = { 0 };
	char name[16], sql[32];

	startup(c, &g);
	w.n = r.n = 0;
	msg(&w, 'P', 4, "s1", NULL, "select 1", NULL);
	msg(&w, 'C', 2, "Ss1", NULL);
	msg(&w, 'B', 4, "", NULL, "s1", NULL);
	msg(&w, 'E', 2, "", NULL);
	SYNC(&w);
	feed_all(c, &w, true, 10, &g);
	msg(&r, '1', 0);
	msg(&r, '3', 0);
	msg(&r, '2', 0);
	Z(&r);
	feed_all(c, &r, false, 20, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.q[0].flags, PGWIRE_Q_PREPARED | PGWIRE_Q_UNKNOWN_STMT);
	assert_string_equal(g.q[0].name, "s1");
	pgwire_conn__free(c);

	/*
	 * 257 names: the least recently set goes; n0, unless it was set again before the last
	 * (then n1).
	 */
	for (int again = 0; again < 2; again++) {
		const char *gone = again ? "n1" : "n0", *kept = again ? "n0" : "n1";

		c = pgwire_conn__new();
		memset(&g, 0, sizeof(g));
		startup(c, &g);
		w.n = r.n = 0;
		for (unsigned i = 0; i <= PGWIRE_NAMES_MAX; i++) {
			snprintf(name, sizeof(name), "n%u", i);
			snprintf(sql, sizeof(sql), "select %u", i);
			if (again && i == PGWIRE_NAMES_MAX)
				msg(&w, 'P', 4, "n0", NULL, "select 0", NULL);
			msg(&w, 'P', 4, name, NULL, sql, NULL);
		}
		msg(&w, 'B', 4, "", NULL, gone, NULL);
		msg(&w, 'E', 2, "", NULL);
		msg(&w, 'B', 4, "", NULL, kept, NULL);
		msg(&w, 'E', 2, "", NULL);
		msg(&w, 'B', 4, "", NULL, "n256", NULL);
		msg(&w, 'E', 2, "", NULL);
		SYNC(&w);
		feed_all(c, &w, true, 30, &g);
		Z(&r);
		feed_all(c, &r, false, 40, &g);
		assert_int_equal(pgwire_conn__stats(c)->names_evicted, 1);
		assert_int_equal(g.n, 3);
		assert_true(g.q[0].flags & PGWIRE_Q_UNKNOWN_STMT);
		assert_string_equal(g.q[0].name, gone);
		assert_string_equal(g.q[1].text, again ? "select 0" : "select 1");
		assert_string_equal(g.q[2].text, "select 256");
		pgwire_conn__free(c);
	}
}

/*
 * Head and tail are separate captures: bytes run on from one into the other when they touch,
 * wherever that falls, and a header byte in a gap of even one byte loses the write's framing.
 */
static void test_head_and_tail_captured_apart(void **state)
{
	/* two Queries of 14 bytes; where the head ends, and the gap after it */
	static const struct {
		size_t head, gap;
	} c[] = {
		{ 14, 0 }, /* the second message all in the tail */
		{ 16, 0 }, /* its header split */
		{ 19, 0 }, /* its body all in the tail */
		{ 16, 1 },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct pgwire_conn *conn = pgwire_conn__new();
		struct buf w = { 0 }, r = { 0 };
		struct got g = { 0 };

		startup(conn, &g);
		msg(&w, 'Q', 2, "select 1", NULL);
		msg(&w, 'Q', 2, "select 2", NULL);
		feed_split(conn, &w, true, 10, c[i].head, w.n - c[i].head - c[i].gap, &g);
		Z(&r);
		Z(&r);
		feed_all(conn, &r, false, 20, &g);
		assert_int_equal(g.n, c[i].gap ? 1 : 2);
		assert_string_equal(g.q[0].text, "select 1");
		if (!c[i].gap) {
			assert_string_equal(g.q[1].text, "select 2");
			assert_int_equal(g.q[1].flags, 0);
		}
		assert_int_equal(pgwire_conn__stats(conn)->write_gaps, c[i].gap);
		pgwire_conn__free(conn);
	}
}

/* A message may be up to 1 GiB long; a longer length is malformed and loses the framing. */
static void test_message_length_bound(void **state)
{
	for (uint64_t mlen = 1u << 30; mlen <= (1u << 30) + 1; mlen++) {
		bool bad = mlen > 1u << 30;
		struct pgwire_conn *c = pgwire_conn__new();
		struct buf w = { 0 }, head = { 0 }, tail = { 0 };
		struct got g = { 0 };
		const struct pgwire_stats *st = pgwire_conn__stats(c);
		struct pgwire_chunk ch = { .ts_enter = 20, .ts_exit = 21 };

		startup(c, &g);
		msg(&w, 'Q', 2, "select huge", NULL);
		feed_all(c, &w, true, 10, &g);
		/* a DataRow of mlen, then the ReadyForQuery: only its header and the Z captured */
		head.b[head.n++] = 'D';
		put32(&head, mlen);
		Z(&tail);
		ch.len = 1 + mlen + tail.n;
		ch.head = head.b;
		ch.head_len = head.n;
		ch.tail = tail.b;
		ch.tail_len = tail.n;
		pgwire_conn__read(c, &ch, on_query, &g);
		assert_int_equal(g.n, 1);
		assert_int_equal(g.q[0].ts_end, 21);
		assert_int_equal(g.q[0].flags, bad ? PGWIRE_Q_APPROX : 0);
		assert_int_equal(st->malformed, bad);
		assert_int_equal(st->lost_sync, bad);
		assert_int_equal(st->resync, bad);
		pgwire_conn__free(c);

		/* the sniffer draws the same line: a Query of that length, 5 bytes seen */
		w.n = 0;
		w.b[w.n++] = 'Q';
		put32(&w, mlen);
		assert_int_equal(pgwire__sniff(w.b, w.n, 1 + mlen),
				 bad ? PGWIRE_SNIFF_NO : PGWIRE_SNIFF_MSG);
	}
}

/*
 * The untyped first message is read from its first 8 bytes (length and code) only when they
 * were captured: with 7, an SSLRequest cannot be told and the reply 'S' is not taken for TLS.
 */
static void test_startup_needs_8_captured_bytes(void **state)
{
	for (size_t head = 7; head <= 8; head++) {
		struct pgwire_conn *c = pgwire_conn__new();
		struct buf w = { 0 }, r = { .n = 1, .b = { 'S' } };
		struct got g = { 0 };

		put32(&w, 8);
		put32(&w, 80877103); /* SSLRequest */
		feed_split(c, &w, true, 1, head, 0, &g);
		feed_all(c, &r, false, 2, &g);
		assert_int_equal(pgwire_conn__encrypted(c), head == 8);
		pgwire_conn__free(c);
	}
}

/* GSSAPI encryption: 'G' encrypts the rest; 'N' is followed by the startup in plaintext. */
static void test_gssenc(void **state)
{
	for (int accepted = 0; accepted <= 1; accepted++) {
		struct pgwire_conn *c = pgwire_conn__new();
		struct buf w = { 0 }, r = { 0 };
		struct got g = { 0 };

		put32(&w, 8);
		put32(&w, 80877104); /* GSSENCRequest */
		feed_all(c, &w, true, 1, &g);
		r.b[r.n++] = accepted ? 'G' : 'N';
		feed_all(c, &r, false, 2, &g);
		assert_int_equal(pgwire_conn__encrypted(c), accepted);
		w.n = 0;
		put32(&w, 8 + 14);
		put32(&w, 196608);
		memcpy(w.b + w.n, "user\0postgres\0\0", 14);
		w.n += 14;
		feed_all(c, &w, true, 3, &g);
		r.n = 0;
		msg(&r, 'R', 1, "\0\0\0\0");
		Z(&r);
		feed_all(c, &r, false, 4, &g);
		w.n = r.n = 0;
		msg(&w, 'Q', 2, "select 1", NULL);
		feed_all(c, &w, true, 10, &g);
		CC(&r, "SELECT 1");
		Z(&r);
		feed_all(c, &r, false, 20, &g);
		/* encrypted, nothing is parsed; in plaintext the query is */
		assert_int_equal(g.n, accepted ? 0 : 1);
		if (!accepted)
			assert_string_equal(g.q[0].text, "select 1");
		pgwire_conn__free(c);
	}
}

/*
 * An Execute runs the statement of the Bind before it; when that Bind's statement name could
 * not be read (63 bytes is the longest name kept, or its body was not captured), the Execute is
 * of an unknown statement, never of the one bound before.
 */
static void test_bind_of_unreadable_name(void **state)
{
	struct pgwire_conn *c = pgwire_conn__new();
	static struct buf w, r;
	struct got g = { 0 };
	char n63[64], n64[65];

	memset(n63, 'a', 63);
	n63[63] = '\0';
	memset(n64, 'b', 64);
	n64[64] = '\0';
	startup(c, &g);
	w.n = r.n = 0;
	msg(&w, 'P', 4, n63, NULL, "select 63", NULL);
	msg(&w, 'P', 4, n64, NULL, "select 64", NULL);
	msg(&w, 'B', 4, "", NULL, n63, NULL);
	msg(&w, 'E', 2, "", NULL);
	msg(&w, 'B', 4, "", NULL, n64, NULL);
	msg(&w, 'E', 2, "", NULL);
	SYNC(&w);
	feed_all(c, &w, true, 10, &g);
	Z(&r);
	feed_all(c, &r, false, 20, &g);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.q[0].text, "select 63");
	assert_int_equal(g.q[0].flags, PGWIRE_Q_PREPARED);
	assert_string_equal(g.q[1].text, "");
	assert_int_equal(g.q[1].flags, PGWIRE_Q_PREPARED | PGWIRE_Q_UNKNOWN_STMT);
	assert_string_equal(g.q[1].name, "?");

	/* a Bind whose body fell in the gap of its write, after one that bound n63 */
	w.n = r.n = 0;
	msg(&w, 'B', 4, "", NULL, n63, NULL);
	msg(&w, 'E', 2, "", NULL);
	SYNC(&w);
	feed_all(c, &w, true, 30, &g);
	w.n = 0;
	msg(&w, 'B', 4, "", NULL, n63, NULL);
	msg(&w, 'E', 2, "", NULL);
	SYNC(&w);
	feed(c, &w, true, 40, 5, w.n - 5 - 64, &g); /* the B header, then its last bytes on */
	Z(&r);
	Z(&r);
	feed_all(c, &r, false, 50, &g);
	assert_int_equal(g.n, 4);
	assert_string_equal(g.q[2].text, "select 63");
	assert_int_equal(g.q[3].flags, PGWIRE_Q_PREPARED | PGWIRE_Q_UNKNOWN_STMT);
	assert_string_equal(g.q[3].name, "?");
	assert_int_equal(pgwire_conn__stats(c)->write_gaps, 0);
	pgwire_conn__free(c);
}

/*
 * EmptyQueryResponse and PortalSuspended end an Execute like a CommandComplete, without a row
 * count; with no query waiting (a connection we began to watch in the middle) they are ignored.
 */
static void test_empty_query_and_portal_suspended(void **state)
{
	struct pgwire_conn *c = pgwire_conn__new();
	static struct buf w, r;
	struct got g = { 0 };

	startup(c, &g);
	r.n = 0;
	msg(&r, 'I', 0);
	msg(&r, 's', 0);
	feed_all(c, &r, false, 5, &g);
	assert_int_equal(g.n, 0);

	w.n = r.n = 0;
	msg(&w, 'P', 4, "", NULL, "", NULL);
	msg(&w, 'B', 4, "", NULL, "", NULL);
	msg(&w, 'E', 2, "", NULL);
	msg(&w, 'P', 4, "", NULL, "select 2", NULL);
	msg(&w, 'B', 4, "", NULL, "", NULL);
	msg(&w, 'E', 2, "", NULL);
	msg(&w, 'P', 4, "", NULL, "select 3", NULL);
	msg(&w, 'B', 4, "", NULL, "", NULL);
	msg(&w, 'E', 2, "", NULL);
	SYNC(&w);
	feed_all(c, &w, true, 10, &g);
	msg(&r, '1', 0);
	msg(&r, '2', 0);
	msg(&r, 'I', 0);
	msg(&r, '1', 0);
	msg(&r, '2', 0);
	msg(&r, 's', 0);
	msg(&r, '1', 0);
	msg(&r, '2', 0);
	CC(&r, "SELECT 3");
	Z(&r);
	feed_all(c, &r, false, 20, &g);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.q[0].rows, -1);
	assert_string_equal(g.q[1].text, "select 2");
	assert_int_equal(g.q[1].rows, -1);
	assert_string_equal(g.q[2].text, "select 3");
	assert_int_equal(g.q[2].rows, 3);
	pgwire_conn__free(c);
}

/*
 * Back in step at a ReadyForQuery, the CommandComplete right before it gives the row count as
 * it would in step, replacing one counted before the framing was lost. It is found with a tag
 * of 1 to 58 bytes (the last 64 bytes before the Z are searched); past that, the count from
 * before stands, and the query is approximate anyway.
 */
static void test_resync_row_count_of_last_command(void **state)
{
	char t58[64], t59[64];
	const struct {
		const char *tag;
		int64_t rows;
	} c[] = {
		{ "X", -1 },	     { " 7", 7 },     { "7", -1 }, { "SELECT 7", 7 },
		{ "INSERT 0 7", 7 }, { "BEGIN", -1 }, { t58, 58 }, { t59, 3 },
	};

	memset(t58, 'x', 55);
	strcpy(t58 + 55, " 58");
	memset(t59, 'x', 56);
	strcpy(t59 + 56, " 59");
	assert_int_equal(strlen(t58), 58);
	assert_int_equal(strlen(t59), 59);
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct pgwire_conn *conn = pgwire_conn__new();
		struct buf w = { 0 }, r = { 0 };
		struct got g = { 0 };

		startup(conn, &g);
		msg(&w, 'Q', 2, "select 1; select 2", NULL);
		feed_all(conn, &w, true, 10, &g);
		CC(&r, "SELECT 3");
		r.b[r.n++] = 'D';
		put32(&r, 2); /* impossible: the framing is lost */
		feed_all(conn, &r, false, 20, &g);
		r.n = 0;
		CC(&r, c[i].tag);
		Z(&r);
		feed_all(conn, &r, false, 30, &g);
		if (g.n != 1 || g.q[0].rows != c[i].rows)
			print_error("tag '%s'\n", c[i].tag);
		assert_int_equal(g.n, 1);
		assert_int_equal(g.q[0].flags, PGWIRE_Q_APPROX);
		assert_int_equal(g.q[0].rows, c[i].rows);
		assert_int_equal(pgwire_conn__stats(conn)->resync, 1);
		pgwire_conn__free(conn);
	}
}

/* PgJDBC with a fetch size and server-side cursors bind to named portals, and close them. */
static void test_named_portal(void **state)
{
	struct pgwire_conn *c = pgwire_conn__new();
	static struct buf w, r;
	struct got g = { 0 };

	startup(c, &g);
	w.n = r.n = 0;
	msg(&w, 'P', 4, "s1", NULL, "select * from t", NULL);
	msg(&w, 'B', 4, "C_1", NULL, "s1", NULL);
	msg(&w, 'E', 2, "C_1", NULL);
	SYNC(&w);
	feed_all(c, &w, true, 10, &g);
	msg(&r, '1', 0);
	msg(&r, '2', 0);
	CC(&r, "SELECT 2");
	Z(&r);
	feed_all(c, &r, false, 20, &g);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.q[0].text, "select * from t");
	assert_int_equal(g.q[0].flags, PGWIRE_Q_PREPARED);
	assert_int_equal(g.q[0].rows, 2);
	/* closing a portal leaves the statement of the same name */
	w.n = r.n = 0;
	msg(&w, 'B', 4, "s1", NULL, "s1", NULL);
	msg(&w, 'E', 2, "s1", NULL);
	msg(&w, 'C', 2, "Ps1", NULL);
	msg(&w, 'B', 4, "", NULL, "s1", NULL);
	msg(&w, 'E', 2, "", NULL);
	SYNC(&w);
	feed_all(c, &w, true, 30, &g);
	Z(&r);
	feed_all(c, &r, false, 40, &g);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.q[1].text, "select * from t");
	assert_string_equal(g.q[2].text, "select * from t");
	assert_int_equal(g.q[2].flags, PGWIRE_Q_PREPARED);
	pgwire_conn__free(c);
}

/* Closing one statement leaves the others, and names set after it, their own text. */
static void test_close_keeps_other_statements(void **state)
{
	struct pgwire_conn *c = pgwire_conn__new();
	static struct buf w, r;
	struct got g = { 0 };

	startup(c, &g);
	w.n = r.n = 0;
	msg(&w, 'P', 4, "s1", NULL, "select 1", NULL);
	msg(&w, 'P', 4, "s2", NULL, "select 2", NULL);
	msg(&w, 'P', 4, "s3", NULL, "select 3", NULL);
	msg(&w, 'P', 4, "", NULL, "select 0", NULL);
	/* s1, then s3 that took its place, then the unnamed statement */
	msg(&w, 'C', 2, "Ss1", NULL);
	msg(&w, 'C', 2, "Ss3", NULL);
	msg(&w, 'C', 2, "S", NULL);
	msg(&w, 'P', 4, "s4", NULL, "select 4", NULL);
	msg(&w, 'P', 4, "s5", NULL, "select 5", NULL);
	msg(&w, 'B', 4, "", NULL, "s2", NULL);
	msg(&w, 'E', 2, "", NULL);
	msg(&w, 'B', 4, "", NULL, "s4", NULL);
	msg(&w, 'E', 2, "", NULL);
	msg(&w, 'B', 4, "", NULL, "s5", NULL);
	msg(&w, 'E', 2, "", NULL);
	msg(&w, 'B', 4, "", NULL, "s1", NULL);
	msg(&w, 'E', 2, "", NULL);
	msg(&w, 'B', 4, "", NULL, "", NULL);
	msg(&w, 'E', 2, "", NULL);
	SYNC(&w);
	feed_all(c, &w, true, 10, &g);
	Z(&r);
	feed_all(c, &r, false, 20, &g);
	assert_int_equal(g.n, 5);
	assert_string_equal(g.q[0].text, "select 2");
	assert_string_equal(g.q[1].text, "select 4");
	assert_string_equal(g.q[2].text, "select 5");
	assert_int_equal(g.q[3].flags, PGWIRE_Q_PREPARED | PGWIRE_Q_UNKNOWN_STMT);
	assert_string_equal(g.q[3].name, "s1");
	assert_int_equal(g.q[4].flags, PGWIRE_Q_PREPARED | PGWIRE_Q_UNKNOWN_STMT);
	assert_string_equal(g.q[4].name, "");
	pgwire_conn__free(c);
}

/*
 * The row count is the last word of the CommandComplete tag when it is all digits and not the
 * first word: 0 and 9 are digits, "X7" is no count.
 */
static void test_row_count_of_tags(void **state)
{
	static const struct {
		const char *tag;
		int64_t rows;
	} c[] = {
		{ "SELECT 9", 9 },	{ "UPDATE 0", 0 },
		{ "INSERT 0 19", 19 },	{ "SELECT 1234567890", 1234567890 },
		{ "MERGE 3", 3 },	{ "BEGIN", -1 },
		{ "CREATE TABLE", -1 }, { "9", -1 },
		{ "A X7", -1 },		{ "A 7X", -1 },
	};
	struct pgwire_conn *conn = pgwire_conn__new();
	struct got g = { 0 };

	startup(conn, &g);
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct buf w = { 0 }, r = { 0 };

		msg(&w, 'Q', 2, "select", NULL);
		feed_all(conn, &w, true, 10 * i, &g);
		CC(&r, c[i].tag);
		Z(&r);
		feed_all(conn, &r, false, 10 * i + 5, &g);
		assert_int_equal(g.n, i + 1);
		if (g.q[i].rows != c[i].rows)
			print_error("tag '%s'\n", c[i].tag);
		assert_int_equal(g.q[i].rows, c[i].rows);
	}
	pgwire_conn__free(conn);
}

/*
 * After an SSLRequest answered 'N', whatever came in the same read after the 'N' is framed as
 * messages from its first byte: captured in the head only, in head and tail apart, and with a
 * header that the next read completes.
 */
static void test_ssl_refused_rest_of_read(void **state)
{
	for (int k = 0; k < 3; k++) {
		struct pgwire_conn *c = pgwire_conn__new();
		struct buf w = { 0 }, r = { 0 }, next = { 0 };
		struct got g = { 0 };
		const struct pgwire_stats *st = pgwire_conn__stats(c);

		put32(&w, 8);
		put32(&w, 80877103);
		feed_all(c, &w, true, 1, &g);
		r.b[r.n++] = 'N';
		msg(&r, 'n', 0); /* NoData: a header only */
		msg(&r, 'n', 0);
		if (k == 0) {
			/* the last byte of the read is the last of the head */
			feed(c, &r, false, 2, r.n, 0, &g);
		} else if (k == 1) {
			/* the second header runs on from the head into the tail */
			feed_split(c, &r, false, 2, 8, r.n - 8, &g);
		} else {
			/* the read ends one byte short of the second header */
			next.b[next.n++] = r.b[--r.n];
			msg(&next, 'n', 0);
			feed_all(c, &r, false, 2, &g);
			feed_all(c, &next, false, 3, &g);
		}
		assert_false(pgwire_conn__encrypted(c));
		assert_int_equal(st->malformed + st->lost_sync, 0);
		pgwire_conn__free(c);
	}
}

/* The SQLSTATE is found whatever the order of the ErrorResponse fields: here the first. */
static void test_error_sqlstate_first_field(void **state)
{
	struct pgwire_conn *c = pgwire_conn__new();
	struct buf w = { 0 }, r = { 0 };
	struct got g = { 0 };

	startup(c, &g);
	msg(&w, 'Q', 2, "select * from nope", NULL);
	feed_all(c, &w, true, 10, &g);
	msg(&r, 'E', 7, "C42P01", NULL, "SERROR", NULL, "Mrelation \"nope\" does not exist", NULL,
	    NULL);
	Z(&r);
	feed_all(c, &r, false, 20, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.q[0].flags, PGWIRE_Q_ERROR);
	assert_string_equal(g.q[0].sqlstate, "42P01");
	pgwire_conn__free(c);
}

/* A Parse whose text runs into the gap of its write keeps the text up to the gap. */
static void test_parse_text_cut_by_capture(void **state)
{
	struct pgwire_conn *c = pgwire_conn__new();
	static struct buf w, r;
	struct got g = { 0 };
	char sql[201], want[64];

	memset(sql, 'x', sizeof(sql) - 1);
	sql[sizeof(sql) - 1] = '\0';
	memcpy(sql, "select * from t where ", 22);
	startup(c, &g);
	w.n = r.n = 0;
	msg(&w, 'P', 4, "s1", NULL, sql, NULL);
	/* 40 head bytes: the header, "s1" and its NUL, then 32 bytes of the text */
	feed(c, &w, true, 10, 40, 8, &g);
	w.n = 0;
	msg(&w, 'B', 4, "", NULL, "s1", NULL);
	msg(&w, 'E', 2, "", NULL);
	SYNC(&w);
	feed_all(c, &w, true, 20, &g);
	Z(&r);
	feed_all(c, &r, false, 30, &g);
	assert_int_equal(g.n, 1);
	snprintf(want, sizeof(want), "%.32s", sql);
	assert_string_equal(g.q[0].text, want);
	assert_int_equal(g.q[0].flags, PGWIRE_Q_PREPARED | PGWIRE_Q_TRUNCATED);
	assert_int_equal(pgwire_conn__stats(c)->write_gaps, 0);
	pgwire_conn__free(c);
}

/*
 * PGWIRE_GROUPS_MAX groups wait for their answers at most: the next one is lost and counted,
 * and the ReadyForQuery meant for it finds none left. The connection is freed with none of it
 * left behind.
 */
static void test_groups_bound(void **state)
{
	struct pgwire_conn *c = pgwire_conn__new();
	static struct buf w, r;
	struct got g = { 0 };

	startup(c, &g);
	w.n = r.n = 0;
	for (unsigned i = 0; i < PGWIRE_GROUPS_MAX; i++) {
		msg(&w, 'Q', 2, "select 1", NULL);
		if (w.n > sizeof(w.b) - 64) {
			feed_all(c, &w, true, 10, &g);
			w.n = 0;
		}
	}
	/* the one too many is a Sync group: its Execute goes with it */
	msg(&w, 'P', 4, "", NULL, "select 2", NULL);
	msg(&w, 'B', 4, "", NULL, "", NULL);
	msg(&w, 'E', 2, "", NULL);
	SYNC(&w);
	feed_all(c, &w, true, 10, &g);
	assert_int_equal(pgwire_conn__stats(c)->queue_overflow, 1);
	for (unsigned i = 0; i <= PGWIRE_GROUPS_MAX; i++) {
		Z(&r);
		if (r.n > sizeof(r.b) - 64 || i == PGWIRE_GROUPS_MAX) {
			feed_all(c, &r, false, 20, &g);
			r.n = 0;
		}
	}
	assert_int_equal(g.total, PGWIRE_GROUPS_MAX);
	assert_string_equal(g.q[63].text, "select 1");
	assert_int_equal(pgwire_conn__stats(c)->queue_overflow, 1);
	pgwire_conn__free(c);
}

/*
 * PGWIRE_EXECS_MAX Executes are kept in one Sync group: the next one is lost and counted. Each
 * kept one takes about 100 bytes, so this holds some 100 MiB for a moment.
 */
static void test_execs_bound(void **state)
{
	struct pgwire_conn *c = pgwire_conn__new();
	static struct buf w, r;
	struct got g = { 0 };

	startup(c, &g);
	w.n = r.n = 0;
	/* Executes of a statement prepared before we looked: no text to copy */
	msg(&w, 'B', 4, "", NULL, "s", NULL);
	for (unsigned i = 0; i <= PGWIRE_EXECS_MAX; i++) {
		msg(&w, 'E', 2, "", NULL);
		if (w.n > sizeof(w.b) - 64) {
			feed_all(c, &w, true, 10, &g);
			w.n = 0;
		}
	}
	SYNC(&w);
	feed_all(c, &w, true, 10, &g);
	assert_int_equal(pgwire_conn__stats(c)->execs_overflow, 1);
	Z(&r);
	feed_all(c, &r, false, 20, &g);
	assert_int_equal(g.total, PGWIRE_EXECS_MAX);
	assert_int_equal(g.q[63].flags, PGWIRE_Q_PREPARED | PGWIRE_Q_UNKNOWN_STMT);
	assert_string_equal(g.q[63].name, "s");
	pgwire_conn__free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_query),
		cmocka_unit_test(test_extended_named_and_unknown),
		cmocka_unit_test(test_error_sqlstate),
		cmocka_unit_test(test_big_result_with_gaps),
		cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_pipeline_and_close),
		cmocka_unit_test(test_batch_of_1000_executes),
		cmocka_unit_test(test_pipeline_of_300_groups),
		cmocka_unit_test(test_write_gap_counted),
		cmocka_unit_test(test_execution_dated_from_bind_begin_takes_no_time),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_sniff),
		cmocka_unit_test(test_sniff_partial),
		cmocka_unit_test(test_query_text_captured),
		cmocka_unit_test(test_errors_uncaptured_and_skipped),
		cmocka_unit_test(test_tx_control_only_group),
		cmocka_unit_test(test_resync),
		cmocka_unit_test(test_startup_bound),
		cmocka_unit_test(test_statement_names),
		cmocka_unit_test(test_head_and_tail_captured_apart),
		cmocka_unit_test(test_message_length_bound),
		cmocka_unit_test(test_startup_needs_8_captured_bytes),
		cmocka_unit_test(test_gssenc),
		cmocka_unit_test(test_bind_of_unreadable_name),
		cmocka_unit_test(test_empty_query_and_portal_suspended),
		cmocka_unit_test(test_resync_row_count_of_last_command),
		cmocka_unit_test(test_named_portal),
		cmocka_unit_test(test_close_keeps_other_statements),
		cmocka_unit_test(test_row_count_of_tags),
		cmocka_unit_test(test_ssl_refused_rest_of_read),
		cmocka_unit_test(test_error_sqlstate_first_field),
		cmocka_unit_test(test_parse_text_cut_by_capture),
		cmocka_unit_test(test_groups_bound),
		cmocka_unit_test(test_execs_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
