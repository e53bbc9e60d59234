// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>
#include <string.h>

#include "probes/sockio.h"
#include "proto/pgwire.h"
#include "record/dbtrack.h"
#include "record/pgconn.h"
#include "record/sink.h"

struct pgconn {
	struct sink *sink;
	struct pgwire_conn *pg;
	struct dbconn db;
	uint32_t tgid;
	uint64_t id;
	uint32_t wtid; /* thread of the last write */
	uint8_t *seg;  /* a write carried in segments, joined here */
	size_t seg_have;
	struct pgwire_chunk seg_ch; /* its times and length */
};

bool pgconn__sniff(const struct sockio_data_ev *e, size_t head_len)
{
	return e->dir == SOCKIO_OUT && e->len > 0 &&
	       pgwire__sniff(e->head, head_len, e->len) != PGWIRE_SNIFF_NO;
}

struct pgconn *pgconn__new(struct sink *s, uint32_t tgid, uint64_t conn_id, const char *client,
			   const char *server, uint64_t ts)
{
	struct pgconn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->pg = pgwire_conn__new();
	if (!c->pg) {
		free(c);
		return NULL;
	}
	c->sink = s;
	c->tgid = tgid;
	c->id = conn_id;
	sink__db_open(s, &c->db, tgid, conn_id, client, server, ts);
	return c;
}

static void on_pg_query(const struct pgwire_query *q, void *ctx)
{
	struct pgconn *c = ctx;
	struct db_exec x = {
		.path = DB_PATH_WIRE,
		.tgid = c->tgid,
		.tid = c->wtid,
		.conn_id = c->id,
		.ts_start = q->ts_start,
		.ts_first = q->ts_first,
		.ts_end = q->ts_end,
		.text = q->text,
		.text_len = q->text_len,
		.stmt_name = q->stmt_name,
		.rows = q->rows,
	};

	if (q->flags & PGWIRE_Q_ERROR) {
		x.flags |= DB_EXEC_ERROR;
		memcpy(x.sqlstate, q->sqlstate, sizeof(x.sqlstate));
	}
	if (q->flags & PGWIRE_Q_TRUNCATED)
		x.flags |= DB_EXEC_TRUNCATED;
	if (q->flags & PGWIRE_Q_PREPARED)
		x.flags |= DB_EXEC_PREPARED;
	if (q->flags & PGWIRE_Q_ABORTED)
		x.flags |= DB_EXEC_ABORTED;
	if (q->flags & PGWIRE_Q_APPROX)
		x.flags |= DB_EXEC_APPROX;
	if (q->flags & PGWIRE_Q_UNKNOWN_STMT)
		x.flags |= DB_EXEC_UNKNOWN_STMT;
	if (x.flags & DB_EXEC_ABORTED)
		return; /* not a latency: the answer never came */
	sink__db(c->sink, &c->db, &x, NULL, NULL);
}

/*
 * The segments of one write, joined: the parser gets the write whole (messages straddle the
 * segments). When a segment is missing, what came is handed over and the rest is a gap.
 */
static void seg_flush(struct pgconn *c)
{
	c->seg_ch.head = c->seg;
	c->seg_ch.head_len = c->seg_have;
	c->seg_ch.tail_len = 0;
	sockio__head_tail(c->seg, c->seg_have, c->seg_ch.len, &c->seg_ch.tail, &c->seg_ch.tail_len);
	pgwire_conn__write(c->pg, &c->seg_ch, on_pg_query, c);
	free(c->seg);
	c->seg = NULL;
	c->seg_have = 0;
}

/* Keeps a segment; true when it was the last one (the write is in c->seg_ch, whole). */
static bool seg_add(struct pgconn *c, const struct sockio_data_ev *e, size_t head_len)
{
	if (c->seg && (!e->seg_off || e->seg_off != c->seg_have))
		seg_flush(c); /* a segment was lost */
	if (!e->seg_off) {
		size_t n = (uint64_t)e->len < (size_t)SOCKIO_SEGS_MAX * SOCKIO_CAP_MAX
				   ? (size_t)e->len
				   : (size_t)SOCKIO_SEGS_MAX * SOCKIO_CAP_MAX;

		c->seg = malloc(n);
		c->seg_have = 0;
		c->seg_ch = (struct pgwire_chunk){
			.ts_enter = e->ts_enter,
			.ts_exit = e->ts_exit,
			.len = (uint64_t)e->len,
		};
		if (!c->seg)
			return false;
	}
	if (!c->seg || e->seg_off != c->seg_have)
		return false;
	if (head_len > c->seg_ch.len - c->seg_have)
		head_len = c->seg_ch.len - c->seg_have;
	if (c->seg_have + head_len > (size_t)SOCKIO_SEGS_MAX * SOCKIO_CAP_MAX)
		head_len = (size_t)SOCKIO_SEGS_MAX * SOCKIO_CAP_MAX - c->seg_have;
	memcpy(c->seg + c->seg_have, e->head, head_len);
	c->seg_have += head_len;
	if (c->seg_have < c->seg_ch.len && c->seg_have < (size_t)SOCKIO_SEGS_MAX * SOCKIO_CAP_MAX)
		return false;
	return true;
}

bool pgconn__data(struct pgconn *c, const struct sockio_data_ev *e, size_t head_len)
{
	struct pgwire_chunk ch = {
		.ts_enter = e->ts_enter,
		.ts_exit = e->ts_exit,
		.len = (uint64_t)e->len,
		.head = e->head,
		.head_len = head_len,
		.tail = e->tail,
		.tail_len = e->tail_len < SOCKIO_TAIL ? e->tail_len : SOCKIO_TAIL,
	};

	if (c->seg && !(e->flags & SOCKIO_F_SEGMENT))
		seg_flush(c);
	if (e->flags & SOCKIO_F_SEGMENT) {
		c->wtid = e->tid;
		if (seg_add(c, e, head_len))
			seg_flush(c);
		return false;
	}
	sockio__head_tail(e->head, head_len, ch.len, &ch.tail, &ch.tail_len);
	if (e->dir == SOCKIO_OUT) {
		c->wtid = e->tid;
		pgwire_conn__write(c->pg, &ch, on_pg_query, c);
	} else {
		pgwire_conn__read(c->pg, &ch, on_pg_query, c);
	}
	return pgwire_conn__encrypted(c->pg);
}

const struct pgwire_stats *pgconn__stats(const struct pgconn *c)
{
	return pgwire_conn__stats(c->pg);
}

void pgconn__free(struct pgconn *c, uint64_t ts)
{
	if (!c)
		return;
	free(c->seg); /* a write whose segments did not all come before the end */
	sink__db_close(c->sink, &c->db, ts);
	pgwire_conn__free(c->pg);
	free(c);
}
