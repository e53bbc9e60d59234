/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Thread-pool hand-offs, from the scheduler and the socket layer (bpf/handoff.bpf.c): an
 * event-loop thread that read a request wakes a worker thread blocked on its job queue, and
 * the worker, done, writes a few bytes to the loop's self-pipe. Only processes userspace put
 * in `procs` are watched.
 */
#ifndef SLOPROBE_HANDOFF_EV_H
#define SLOPROBE_HANDOFF_EV_H

#define HANDOFF_PROCS_MAX	1024
#define HANDOFF_RINGBUF_DEFAULT (256 * 1024)
#define HANDOFF_BACK_MAX	8 /* a hand-back writes at most this many bytes */

enum handoff_ev_kind {
	HANDOFF_EV_WAKE = 1, /* futex WAKE of a thread in an untimed FUTEX_WAIT_BITSET */
	HANDOFF_EV_NEW = 2,  /* a new thread of the process runs for the first time */
	HANDOFF_EV_BACK = 3, /* a 1..HANDOFF_BACK_MAX byte write to an AF_UNIX socket */
};

struct handoff_ev {
	__u64 ts; /* ns, CLOCK_MONOTONIC */
	__u32 kind;
	__u32 tgid;
	__u32 tid;   /* the waker (WAKE, NEW), the writer (BACK) */
	__u32 wakee; /* WAKE, NEW; 0 for BACK */
	__u64 uaddr; /* WAKE: futex address the wakee waits on; BACK: bytes written */
};

enum handoff_stat {
	HANDOFF_STAT_WAKE,	 /* WAKE events sent */
	HANDOFF_STAT_NEW,	 /* NEW events sent */
	HANDOFF_STAT_BACK,	 /* BACK events sent */
	HANDOFF_STAT_WAKE_OTHER, /* in-process wakes of traced processes that were no hand-off */
	HANDOFF_STAT_DROPPED,	 /* ring buffer full: event lost */
	HANDOFF_STAT_NR,
};

#endif
