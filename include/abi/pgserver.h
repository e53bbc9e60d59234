/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PostgreSQL server path shared by bpf/pgserver.bpf.c and src/probes/pgserver.c: the USDT probes
 * of the postgres binary, postgresql:query__start / query__done (simple query protocol:
 * PostgreSQL fires them only in exec_simple_query) and transaction__abort (errors).
 */
#ifndef SLOPROBE_PGSERVER_H
#define SLOPROBE_PGSERVER_H

#define PGSERVER_TEXT_MAX	  2048 /* cap of the query text an event carries */
#define PGSERVER_TEXT_DEFAULT	  512
#define PGSERVER_BACKENDS_DEFAULT 2048	/* backends with a query in flight, LRU */
#define PGSERVER_PROCS_DEFAULT	  16384 /* per-process verdicts of userspace, LRU */
#define PGSERVER_RINGBUF_DEFAULT  (4u << 20)

enum pgserver_ev_type {
	PGSERVER_EV_QUERY = 1,
};

enum pgserver_flag {
	PGSERVER_F_ERROR = 1 << 0,	 /* the transaction aborted while the query ran */
	PGSERVER_F_END_UNKNOWN = 1 << 1, /* no query__done and no abort: ts_end is ts_start */
	PGSERVER_F_EXITED = 1 << 2,	 /* the backend exited with the query in flight */
	PGSERVER_F_TRUNCATED = 1 << 3,	 /* text is a prefix of the query */
	PGSERVER_F_READ_FAULT = 1 << 4,	 /* text could not be read */
};

enum pgserver_stat {
	PGSERVER_STAT_RB_DROPS = 0, /* ring buffer full: query lost */
	PGSERVER_STAT_READ_FAULT,   /* query text not readable */
	PGSERVER_STAT_NO_STATE,	    /* backends map full: query not followed */
	PGSERVER_STAT_UNFINISHED,   /* a query ended without query__done (error, exit) */
	PGSERVER_STAT_NR,
};

struct pgserver_ev {
	__u32 type;
	__u32 pid; /* backend process */
	__u64 ts_start;
	__u64 ts_end;
	__u64 ts_abort; /* transaction__abort while the query ran; 0 if none */
	__u16 flags;
	__u16 text_len;
	__u32 pad;
	char text[PGSERVER_TEXT_MAX]; /* sent truncated after text_len bytes */
};

#define PGSERVER_EV_HDR ((unsigned long)&((struct pgserver_ev *)0)->text)

#endif
