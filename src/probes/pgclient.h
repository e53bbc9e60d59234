/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Loader for bpf/pgclient.bpf.c: PostgreSQL queries from libpq's API, one struct db_exec
 * (DB_PATH_LIBPQ) per query.
 *
 * Which libpq: every copy mapped by a running process (the system's libpq.so.5, copies
 * bundled in wheels such as psycopg2_binary.libs/libpq-*.so*, libraries inside containers),
 * found in /proc/PID/maps by pgclient__scan() and probed once per file for every process.
 *
 * Probes (a probe hit is a trap into the kernel: ~0.5 us here where the kernel emulates the
 * probed instruction, push or nop, ~10 us where it must single-step it):
 *   entry + return  PQexec PQexecParams PQprepare PQexecPrepared (the query, its result)
 *                   PQsendQuery PQsendQueryParams PQsendPrepare PQsendQueryPrepared (sent?)
 *                   PQgetResult (results of async queries; NULL ends one)
 *   entry           PQfinish (forget the connection's statements)
 * A query through PQexec makes 5 calls of probed functions (PQexec, the PQsendQuery and the
 * three PQgetResult inside it), an async one 1 + one per PQgetResult. Errors come from the
 * status the PGresult holds, read where the library's own PQresultStatus reads it: no probe
 * on PQresultStatus, which drivers call several times per query and whose first instruction
 * is single-stepped.
 *
 * Statement names: PQprepare / PQsendPrepare are not reported as executions (unless they
 * fail); their text is kept per (process, PGconn, name) and given to later executions of
 * the statement. Executions of statements prepared before tracing carry DB_EXEC_UNKNOWN_STMT
 * and the name.
 */
#ifndef SLOPROBE_PGCLIENT_USER_H
#define SLOPROBE_PGCLIENT_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "proto/db.h"
/* By path: this header has the same name, and its directory is searched first. */
#include "abi/pgclient.h"

#define PGCLIENT_STMTS_MAX 65536 /* statement names remembered, all processes */

struct pgclient_opts {
	uint32_t self_tgid;	/* never traced; 0: the caller */
	size_t text_max;	/* query bytes kept; 0: PGCLIENT_TEXT_DEFAULT, at most 2047 */
	unsigned ringbuf_bytes; /* 0: PGCLIENT_RINGBUF_DEFAULT */
	bool verbose;		/* one line on stderr per library probed or skipped */
	/* Whether to trace a process; asked once per process. NULL: every process. */
	bool (*want_pid)(uint32_t tgid, void *ctx);
	void *want_ctx;
};

struct pgclient_stats {
	uint64_t bpf[PGCLIENT_STAT_NR]; /* kernel counters, enum pgclient_stat */
	uint64_t queries;		/* db_exec records emitted */
	uint64_t prepares;		/* statements prepared (not emitted) */
	uint64_t unknown_stmt;		/* executions of statements prepared before tracing */
	uint64_t stmts_full;		/* statement names not kept: table full */
	uint64_t ignored;		/* events of processes want_pid declined */
	uint64_t bad_events;		/* shorter than their type says: a bug */
	uint64_t files;			/* libpq files probed */
	uint64_t files_failed;		/* libpq files that could not be probed */
	uint64_t files_no_layout;	/* probed, but result status unreadable (no errors) */
};

struct pgclient;

/* Loads, attaches nothing yet; on failure a negative errno and a one-line reason in err. */
int pgclient__open(struct pgclient **out, const struct pgclient_opts *o, db_exec_fn emit, void *ctx,
		   char *err, size_t errsz);
/* Probes libpq files mapped by processes not seen yet; call it every second or so. Returns
 * the number of files newly probed or a negative errno. */
int pgclient__scan(struct pgclient *p);
/* Drains the ring buffer without blocking; returns the number of events or a negative errno. */
int pgclient__consume(struct pgclient *p);
/* Readable when the ring buffer has crossed its wake-up threshold: poll it, and also consume
 * on a timer (small batches do not wake the reader). */
int pgclient__epoll_fd(struct pgclient *p);
void pgclient__stats(struct pgclient *p, struct pgclient_stats *out);
/* Sum of run_time_ns and run_cnt over our programs (non-zero with kernel.bpf_stats_enabled). */
void pgclient__run_stats(struct pgclient *p, uint64_t *run_ns, uint64_t *run_cnt);
/* Detaches and frees; p may be NULL. */
void pgclient__close(struct pgclient *p);

#endif
