/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Which request a worker thread of a thread pool serves (FastAPI sync endpoints under uvicorn,
 * executors fed by an event loop): the loop thread L reads a request, hands it to a worker W
 * (wakes it on its job queue, or starts it), and W hands back by writing a byte to L's
 * self-pipe. A run of W lasts from the hand-off to the hand-back; W's queries in it serve
 * one request: one read by L before the hand-off and answered after the hand-back.
 *
 * Matching runs to requests ("R-B"): a run left with one candidate is forced to it (that
 * cannot be wrong), repeatedly; the rest take the oldest candidate in hand-off order, which
 * is the order the loop queued them. A worker that was idle but not yet blocked on its queue
 * gets its job without a wake-up: its run ("silent") is known by its hand-back and dated from
 * its first query. Queries and requests come from another ring buffer than the kernel events
 * here: everything is judged only once the events up to then have surely been read.
 * No BPF here: the events come from bpf/handoff.bpf.c through the caller.
 */
#ifndef SLOPROBE_HANDOFF_MOD_H
#define SLOPROBE_HANDOFF_MOD_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#include "abi/handoff_ev.h"

#define HANDOFF_PROCS 64 /* processes followed */
/*
 * Requests of one process kept for matching: they stay until the defer window ends (300 ms),
 * so the table grows with the request rate (ab at 10 000/s needs ~3000), up to this bound.
 */
#define HANDOFF_REQS	 1024
#define HANDOFF_REQS_MAX (1u << 16)
#define HANDOFF_RUNS	 1024 /* worker runs of one process kept */
#define HANDOFF_READERS	 64   /* threads of one process that read requests, newest kept */
#define HANDOFF_ACTS	 4096 /* queries of one process waiting to be dated to their run */
/* Events of both ring buffers up to now - SETTLE are in: only then a run is judged. */
#define HANDOFF_SETTLE_NS (30 * 1000000ull)
/* Forced matches of later runs may still free a candidate: the FIFO guess waits longer. */
#define HANDOFF_FIFO_NS (60 * 1000000ull)
#define HANDOFF_KEEP_NS (2000 * 1000000ull) /* judged runs kept for late queries */
/*
 * The worker queues its result for the loop before it writes the byte, and may lose the GIL
 * in between: the loop can answer the request before the hand-back. Its answer is only known
 * to follow the worker's last query, and the hand-back minus this.
 */
#define HANDOFF_BACK_LATE_NS (20 * 1000000ull)

enum handoff_verdict {
	HANDOFF_WAIT = 0, /* not decided yet: ask again later */
	HANDOFF_YES = 1,  /* *seq is the request */
	HANDOFF_NONE = 2, /* no hand-off decides it: share it as before */
};

enum handoff_run_kind {
	HANDOFF_RUN_WAKE,
	HANDOFF_RUN_NEW,
	HANDOFF_RUN_SILENT,
};

enum handoff_run_state {
	HANDOFF_RUN_OPEN,    /* no hand-back yet */
	HANDOFF_RUN_CLOSED,  /* handed back, not matched yet */
	HANDOFF_RUN_MATCHED, /* req_seq is its request */
	HANDOFF_RUN_UNKNOWN, /* no candidate left: its queries are shared */
};

struct handoff_req {
	uint64_t seq; /* the caller's request number */
	uint32_t reader;
	bool taken, gone;
	bool held;		   /* by an earlier run, while matching by order */
	uint64_t read_ts, resp_ts; /* resp_ts 0: not answered yet */
};

struct handoff_run {
	uint32_t tid, waker; /* waker 0: silent */
	uint8_t kind, state;
	bool forced;
	uint64_t h_ts, b_ts; /* hand-off, hand-back (0: not yet) */
	uint64_t last_end;   /* end of its last query seen */
	uint64_t req_seq;
};

/* A query of a worker, dated to its run once the run's hand-off has surely been seen. */
struct handoff_act {
	uint32_t tid;
	uint64_t start, end;
};

struct handoff_proc {
	uint32_t tgid; /* 0: free slot */
	uint32_t readers[HANDOFF_READERS];
	unsigned nreaders, readers_next; /* when full, readers_next is replaced next */
	struct handoff_req *reqs;	 /* by read time */
	unsigned nreqs, reqs_cap;
	struct handoff_run *runs; /* by hand-off time */
	unsigned nruns;
	struct handoff_act *acts;
	unsigned nacts;
	uint64_t runs_seen;
};

struct handoff_stats {
	uint64_t wakes, news, backs;
	uint64_t wakes_ignored;		/* not from a reader, to a reader, or to a busy worker */
	uint64_t backs_ignored;		/* from a thread with no run */
	uint64_t runs, silent;		/* runs started; of them, by a first query */
	uint64_t forced, fifo, unknown; /* runs matched by force, by order; left unmatched */
	uint64_t reqs_full, runs_full, procs_full; /* dropped: tables full */
	uint64_t acts_full; /* queries not dated: their runs keep wider candidate sets */
};

struct handoff {
	struct handoff_proc procs[HANDOFF_PROCS];
	struct handoff_stats st;
	/* A process seen for the first time (to watch it in the kernel); may be NULL. */
	void (*on_proc)(void *ctx, uint32_t tgid);
	/*
	 * Reads the hand-off events waiting in the kernel's ring (may be NULL). The rings are
	 * read in turn, so a request can end, or a query complete, before the wake-up that
	 * preceded it is read: before judging a process to hand nothing off, this is asked.
	 */
	void (*pull)(void *ctx);
	void *ctx;
};

void handoff__init(struct handoff *h);
void handoff__free(struct handoff *h);

/* Kernel events (include/abi/handoff_ev.h), one at a time or as they come from the ring. */
void handoff__event(struct handoff *h, const struct handoff_ev *e);
void handoff__wake(struct handoff *h, uint32_t tgid, uint32_t waker, uint32_t wakee, uint64_t ts,
		   bool new_thread);
void handoff__back(struct handoff *h, uint32_t tgid, uint32_t tid, uint64_t ts);

/* Requests: read by reader at ts; answered (response started) at ts; no longer needed. */
void handoff__req_start(struct handoff *h, uint32_t tgid, uint64_t seq, uint32_t reader,
			uint64_t ts);
void handoff__req_answer(struct handoff *h, uint32_t tgid, uint64_t seq, uint64_t ts);
void handoff__req_gone(struct handoff *h, uint32_t tgid, uint64_t seq);

/* Has tgid handed work to a pool thread yet? Only then do its requests wait for decisions. */
bool handoff__pool(struct handoff *h, uint32_t tgid);

/* Matches the runs whose time has come (now: the newest event time seen). */
void handoff__decide(struct handoff *h, uint64_t now);
/* A query of thread tid ran from start to end: its run was not over before end. */
void handoff__activity(struct handoff *h, uint32_t tgid, uint32_t tid, uint64_t start,
		       uint64_t end);
/* The request that the query thread tid of tgid started at ts serves (enum handoff_verdict). */
int handoff__query(struct handoff *h, uint32_t tgid, uint32_t tid, uint64_t ts, uint64_t now,
		   uint64_t *seq);

#endif
