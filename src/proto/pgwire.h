/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The client side of the PostgreSQL frontend/backend protocol (v3), over what the kernel
 * captures of each read and write: the first head_len bytes and the last tail_len bytes of
 * the len bytes transferred. Bytes in between are a gap.
 *
 * A query is a simple Query ('Q', its text as sent) or an extended-protocol Execute (the text
 * of the statement named in the Bind before it, from the Parse that defined it on this
 * connection). Each Query or Sync is answered by one ReadyForQuery ('Z'), in order; the Z ends
 * the queries of its group. A group with no Execute (asyncpg prepares with Parse/Describe/
 * Sync) is no execution and emits nothing.
 *
 * When a message header falls in a gap, framing is lost. A read whose tail ends with a
 * complete ReadyForQuery puts the parser back in step; the queries it ends are marked
 * PGWIRE_Q_APPROX only when their error or row count may have been in the lost bytes.
 */
#ifndef SLOPROBE_PGWIRE_H
#define SLOPROBE_PGWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PGWIRE_NAMES_MAX 256  /* prepared statement names kept per connection */
#define PGWIRE_TEXT_MAX	 4096 /* bytes of text kept per statement */
/* Bounds on memory, far above what drivers send; past them executions are counted, not kept. */
#define PGWIRE_GROUPS_MAX (1u << 16) /* outstanding Query/Sync groups per connection */
#define PGWIRE_EXECS_MAX  (1u << 20) /* Executes per Sync group */

struct pgwire_chunk {
	uint64_t ts_enter, ts_exit;
	uint64_t len;
	const uint8_t *head;
	size_t head_len;
	const uint8_t *tail;
	size_t tail_len;
};

enum pgwire_qflag {
	PGWIRE_Q_ERROR = 1 << 0,
	PGWIRE_Q_TRUNCATED = 1 << 1, /* text cut by the capture */
	PGWIRE_Q_PREPARED = 1 << 2,  /* Bind/Execute of a parsed statement */
	PGWIRE_Q_ABORTED = 1 << 3,   /* connection closed before the answer */
	PGWIRE_Q_APPROX = 1 << 4,
	PGWIRE_Q_UNKNOWN_STMT = 1 << 5, /* its Parse was not seen */
};

struct pgwire_query {
	const char *text; /* NULL when unknown; valid during the callback only */
	size_t text_len;
	const char *stmt_name; /* with PGWIRE_Q_UNKNOWN_STMT */
	unsigned flags;
	uint64_t ts_start; /* entry of the write that sent the group */
	uint64_t ts_first; /* exit of the first read after it with data; 0 if none */
	uint64_t ts_end;   /* exit of the read with its ReadyForQuery */
	char sqlstate[6];
	int64_t rows; /* from CommandComplete; -1 if unknown */
};

typedef void (*pgwire_emit_fn)(const struct pgwire_query *q, void *ctx);

enum pgwire_sniff {
	PGWIRE_SNIFF_NO = 0,
	PGWIRE_SNIFF_STARTUP = 1, /* startup, SSL/GSS encryption or cancel request */
	PGWIRE_SNIFF_MSG = 2,	  /* typed frontend messages that frame the write exactly */
};

/* Is the first write we see on a connection PostgreSQL? p: its first n of len bytes. */
int pgwire__sniff(const uint8_t *p, size_t n, uint64_t len);

/* Every way the parser can lose or doubt a query: all reach the report's db_stats. */
struct pgwire_stats {
	uint64_t malformed;	 /* impossible message lengths */
	uint64_t lost_sync;	 /* reads whose framing was lost in uncaptured bytes */
	uint64_t resync;	 /* ... and found again at a ReadyForQuery */
	uint64_t write_gaps;	 /* writes whose messages ran into uncaptured bytes */
	uint64_t queue_overflow; /* groups beyond PGWIRE_GROUPS_MAX: their queries lost */
	uint64_t execs_overflow; /* Executes beyond PGWIRE_EXECS_MAX in one group: lost */
	uint64_t names_evicted;	 /* statement names forgotten, PGWIRE_NAMES_MAX reached */
};

struct pgwire_conn;

struct pgwire_conn *pgwire_conn__new(void);
void pgwire_conn__free(struct pgwire_conn *c);
void pgwire_conn__write(struct pgwire_conn *c, const struct pgwire_chunk *ch, pgwire_emit_fn emit,
			void *ctx);
void pgwire_conn__read(struct pgwire_conn *c, const struct pgwire_chunk *ch, pgwire_emit_fn emit,
		       void *ctx);
/* Outstanding queries are emitted with PGWIRE_Q_ABORTED. */
void pgwire_conn__close(struct pgwire_conn *c, uint64_t ts, pgwire_emit_fn emit, void *ctx);
bool pgwire_conn__encrypted(const struct pgwire_conn *c);
const struct pgwire_stats *pgwire_conn__stats(const struct pgwire_conn *c);

#endif
