/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libpq call path shared by bpf/pgclient.bpf.c and src/probes/pgclient.c.
 *
 * The kernel side times each query from the entry of the outermost libpq API call that sends
 * it (PQexec*, PQprepare, PQsend*) to the return of PQexec* / PQprepare, or for PQsend* to
 * the PQgetResult that returns NULL on that PGconn, and reads the status of the results
 * libpq hands back. One event per query reaches userspace, with its text or statement name.
 */
#ifndef SLOPROBE_PGCLIENT_H
#define SLOPROBE_PGCLIENT_H

#define PGCLIENT_TEXT_MAX	 2048 /* cap of the query text an event carries */
#define PGCLIENT_TEXT_DEFAULT	 512
#define PGCLIENT_NAME_MAX	 64 /* NAMEDATALEN: longer names are cut by the server too */
#define PGCLIENT_CMD_MAX	 32 /* command tag of the last result ("SELECT 23") */
#define PGCLIENT_SQLSTATE_MAX	 8
#define PGCLIENT_CONNS_DEFAULT	 8192  /* PGconns with async queries, LRU */
#define PGCLIENT_PENDING_DEFAULT 8192  /* pipeline slots of PGconns, LRU */
#define PGCLIENT_PROCS_DEFAULT	 16384 /* per-process verdicts of userspace, LRU */
#define PGCLIENT_RINGBUF_DEFAULT (4u << 20)
#define PGCLIENT_PIPELINE_SLOTS	 8 /* async queries followed per PGconn at once */

/* The API call a query was sent with. */
enum pgclient_fn {
	PGCLIENT_FN_EXEC = 1,		 /* PQexec(conn, command) */
	PGCLIENT_FN_EXEC_PARAMS,	 /* PQexecParams(conn, command, ...) */
	PGCLIENT_FN_PREPARE,		 /* PQprepare(conn, stmtName, query, ...) */
	PGCLIENT_FN_EXEC_PREPARED,	 /* PQexecPrepared(conn, stmtName, ...) */
	PGCLIENT_FN_SEND_QUERY,		 /* PQsendQuery(conn, command) */
	PGCLIENT_FN_SEND_QUERY_PARAMS,	 /* PQsendQueryParams(conn, command, ...) */
	PGCLIENT_FN_SEND_PREPARE,	 /* PQsendPrepare(conn, stmtName, query, ...) */
	PGCLIENT_FN_SEND_QUERY_PREPARED, /* PQsendQueryPrepared(conn, stmtName, ...) */
	PGCLIENT_FN_GET_RESULT,		 /* PQgetResult(conn): never starts a query */
	PGCLIENT_FN_NR,
};

enum pgclient_ev_type {
	PGCLIENT_EV_QUERY = 1, /* a query ended: struct pgclient_ev */
	PGCLIENT_EV_CLOSE = 2, /* PQfinish(conn): struct pgclient_close_ev */
};

enum pgclient_flag {
	PGCLIENT_F_ERROR = 1 << 0,	/* a result had an error status */
	PGCLIENT_F_TRUNCATED = 1 << 1,	/* text is a prefix of the command */
	PGCLIENT_F_NO_RESULT = 1 << 2,	/* PQexec* returned NULL / PQsend* returned 0: not sent */
	PGCLIENT_F_DISCARDED = 1 << 3,	/* results never read: ended by PQexec* or PQfinish */
	PGCLIENT_F_NO_LAYOUT = 1 << 4,	/* PGresult layout of this libpq unknown: no status */
	PGCLIENT_F_READ_FAULT = 1 << 5, /* text or name could not be read */
};

/* libpq's ExecStatusType values that matter here (stable since PostgreSQL 7.4 / 14). */
#define PGCLIENT_PGRES_BAD_RESPONSE	5
#define PGCLIENT_PGRES_FATAL_ERROR	7
#define PGCLIENT_PGRES_PIPELINE_SYNC	10
#define PGCLIENT_PGRES_PIPELINE_ABORTED 11
#define PGCLIENT_STATUS_NONE		0xff /* no result read */

/*
 * The attach cookie of every return probe: where PGresult keeps its status, command tag and
 * error fields in this libpq build, learnt by userspace from the library's own accessors.
 * 0 means unknown.
 */
#define PGCLIENT_COOKIE(status, cmd, errfields)                                                    \
	((__u64)(status) | (__u64)(cmd) << 16 | (__u64)(errfields) << 32)
#define PGCLIENT_COOKIE_STATUS(c)    ((c)&0xffff)
#define PGCLIENT_COOKIE_CMD(c)	     (((c) >> 16) & 0xffff)
#define PGCLIENT_COOKIE_ERRFIELDS(c) (((c) >> 32) & 0xffff)
/* PGMessageField: { next; char code; char contents[]; } since PostgreSQL 7.4. */
#define PGCLIENT_FIELD_CODE_OFF	    8
#define PGCLIENT_FIELD_CONTENTS_OFF 9
#define PGCLIENT_FIELDS_WALK	    16 /* error fields looked at for the SQLSTATE ('C') */

/* Per-CPU counters, summed by userspace. */
enum pgclient_stat {
	PGCLIENT_STAT_RB_DROPS = 0, /* ring buffer full: query lost */
	PGCLIENT_STAT_READ_FAULT,   /* text, name or result not readable */
	PGCLIENT_STAT_STALE_CALL,   /* a call's return never came (longjmp, missed probe) */
	PGCLIENT_STAT_PENDING_LOST, /* async query not followed: state gone (LRU), or more
				       than PGCLIENT_PIPELINE_SLOTS in flight on a PGconn */
	PGCLIENT_STAT_DISCARDED,    /* async queries whose results were thrown away */
	PGCLIENT_STAT_NO_STATE,	    /* map full: a call could not be followed */
	PGCLIENT_STAT_NR,
};

struct pgclient_ev {
	__u32 type;
	__u32 tgid;
	__u32 tid;
	__u8 fn;     /* enum pgclient_fn of the call that sent the query */
	__u8 status; /* ExecStatusType of the last result, or PGCLIENT_STATUS_NONE */
	__u16 flags;
	__u64 conn; /* PGconn pointer */
	__u64 ts_start;
	__u64 ts_end;
	__u32 results; /* non-NULL results handed to the application */
	__u16 name_len;
	__u16 text_len;
	char sqlstate[PGCLIENT_SQLSTATE_MAX];
	char cmd[PGCLIENT_CMD_MAX];
	char name[PGCLIENT_NAME_MAX]; /* statement name of PQ*Prepare* / PQ*Prepared */
	char text[PGCLIENT_TEXT_MAX]; /* sent truncated after text_len bytes */
};

/* An event is sent without the unused part of text[]. */
#define PGCLIENT_EV_HDR ((unsigned long)&((struct pgclient_ev *)0)->text)

struct pgclient_close_ev {
	__u32 type;
	__u32 tgid;
	__u64 conn;
	__u64 ts;
};

#endif
