/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Loader for bpf/pgserver.bpf.c: PostgreSQL queries as the server runs them, one struct
 * db_exec (DB_PATH_USDT, tgid = backend pid) per query, from the USDT probes of the postgres
 * binaries of running servers (found through /proc/PID/exe by pgserver__scan(), probed once
 * per binary for every process).
 *
 * Coverage: PostgreSQL fires query__start / query__done only for the simple query protocol
 * (exec_simple_query). Queries sent with the extended protocol (Parse/Bind/Execute: libpq's
 * PQexecParams and PQexecPrepared, psycopg 3 with parameters or once it prepares a statement,
 * asyncpg, JDBC, pgx) are not seen on this path.
 *
 * Cost: two probe hits per query (the probes sit on nops, which the kernel emulates: ~0.5 us
 * a hit here) and ~1 us of BPF time, plus one hit per aborted transaction.
 */
#ifndef SLOPROBE_PGSERVER_USER_H
#define SLOPROBE_PGSERVER_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "proto/db.h"
/* By path: this header has the same name, and its directory is searched first. */
#include "abi/pgserver.h"

struct pgserver_opts {
	size_t text_max;	/* query bytes kept; 0: PGSERVER_TEXT_DEFAULT, at most 2047 */
	unsigned ringbuf_bytes; /* 0: PGSERVER_RINGBUF_DEFAULT */
	bool verbose;		/* one line on stderr per binary probed or skipped */
	/* Whether to trace a backend; asked once per process. NULL: every backend. */
	bool (*want_pid)(uint32_t pid, void *ctx);
	void *want_ctx;
};

struct pgserver_stats {
	uint64_t bpf[PGSERVER_STAT_NR]; /* kernel counters, enum pgserver_stat */
	uint64_t queries;		/* db_exec records emitted */
	uint64_t ignored;		/* events of backends want_pid declined */
	uint64_t bad_events;		/* shorter than their type says: a bug */
	uint64_t files;			/* postgres binaries probed */
	uint64_t files_failed;		/* postgres binaries that could not be probed */
};

struct pgserver;

/* Loads, attaches nothing yet; on failure a negative errno and a one-line reason in err. */
int pgserver__open(struct pgserver **out, const struct pgserver_opts *o, db_exec_fn emit, void *ctx,
		   char *err, size_t errsz);
/* Probes the binaries of postgres processes not seen yet; call it every second or so.
 * Returns the number of binaries newly probed or a negative errno. */
int pgserver__scan(struct pgserver *p);
int pgserver__consume(struct pgserver *p);
int pgserver__epoll_fd(struct pgserver *p);
void pgserver__stats(struct pgserver *p, struct pgserver_stats *out);
void pgserver__run_stats(struct pgserver *p, uint64_t *run_ns, uint64_t *run_cnt);
/* Detaches and frees; p may be NULL. */
void pgserver__close(struct pgserver *p);

/*
 * The client address of a backend from its process title ("postgres: user db
 * 127.0.0.1(41234) idle"): "127.0.0.1:41234", "[::1]:41234" or "local". -ENOENT if the
 * title has none (not a client backend, or update_process_title off).
 */
int pgserver__client_addr(uint32_t pid, char *out, size_t outsz);

#endif
