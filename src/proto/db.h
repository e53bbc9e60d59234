// SPDX-License-Identifier: GPL-2.0-only
/*
 * One database query execution as one observation path saw it. Every path (client wire
 * protocol from the socket tracepoints, libpq uprobes, server USDT) turns what it sees into
 * this record and hands it to the DB aggregator, which fingerprints the text, merges the paths
 * and attributes the query to the HTTP request it serves.
 */
#ifndef SLOPROBE_DB_H
#define SLOPROBE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum db_path {
	DB_PATH_WIRE = 0,  /* client side, PostgreSQL frontend/backend protocol on the socket */
	DB_PATH_LIBPQ = 1, /* client side, libpq API calls (uprobes) */
	DB_PATH_USDT = 2,  /* server side, postgresql:query__start / query__done */
	DB_PATH_NR,
};

enum db_exec_flag {
	DB_EXEC_ERROR = 1 << 0,	       /* the server answered with an ErrorResponse / call failed */
	DB_EXEC_TRUNCATED = 1 << 1,    /* text is a prefix of the query: never flag on it */
	DB_EXEC_PREPARED = 1 << 2,     /* execution of a prepared statement */
	DB_EXEC_ABORTED = 1 << 3,      /* connection closed or process exited before completion */
	DB_EXEC_APPROX = 1 << 4,       /* completion found after lost framing: time may be late */
	DB_EXEC_UNKNOWN_STMT = 1 << 5, /* prepared before tracing started: text unknown */
};

struct db_exec {
	uint8_t path;	   /* enum db_path */
	uint32_t flags;	   /* enum db_exec_flag */
	uint32_t tgid;	   /* client process (server process for DB_PATH_USDT) */
	uint32_t tid;	   /* thread that sent the query */
	uint64_t conn_id;  /* sockio connection id (wire), PGconn pointer (libpq), 0 */
	uint64_t ts_start; /* ns, CLOCK_MONOTONIC: query sent / call entered / started */
	uint64_t ts_first; /* first response byte read; 0 if unknown */
	uint64_t ts_end;   /* ReadyForQuery read / call returned / done */
	const char *text;  /* raw SQL (literals included); NULL if unknown */
	size_t text_len;
	const char *stmt_name; /* prepared statement name when text is unknown; else NULL */
	char sqlstate[6];      /* "" unless DB_EXEC_ERROR and known */
	int64_t rows;	       /* from the CommandComplete tag; -1 if unknown */
};

/* Query latency: start to end (0 if the clock readings are out of order). */
static inline uint64_t db_exec__latency(const struct db_exec *x)
{
	return x->ts_end > x->ts_start ? x->ts_end - x->ts_start : 0;
}

/* How a path hands over its executions; the record is valid during the call only. */
typedef void (*db_exec_fn)(const struct db_exec *x, void *ctx);

#endif
