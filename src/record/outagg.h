/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Outbound HTTP calls of a recording: rows caller x destination (peer and Host) x method x
 * route, with status codes, latency, connect times and failures by kind, and the retries
 * found among them, per destination.
 *
 * A retry is an attempt that repeats a failed one: the same caller, peer and Host, method and
 * route (a connect failure, which has no request, matches any attempt to its peer), starting
 * at most retry_window_ns (OUTAGG_RETRY_WINDOW_NS, 30 s) after the failed attempt ended.
 * Failed: a failure kind (proto/httpcall.h), or a status clients retry (429, 5xx). Among
 * several failed attempts the one of the same thread is taken, then the one that ended last;
 * each is retried at most once, and the chain of retries ends in a success (retry_success) or
 * in a failure never retried within the window (retry_exhausted). 30 s covers the backoffs of
 * common clients (urllib3 0.1-8 s, curl --retry 1-16 s, SDKs up to 20 s) and keeps a call
 * repeated every minute by a loop from counting as a retry of the last one.
 *
 * The wire does not say that an attempt is a retry, so two rules keep independent calls out:
 * attempts attributed to different inbound requests (record/dbtrack.h) are never retries of
 * each other, and a thread with several calls of one row in flight at once (a load generator,
 * a concurrent batch) cannot be told apart from one retrying: its overlapping attempts are not
 * matched (retry_ambiguous counts them). A loop calling the same route right after a call
 * that failed for good is counted as a retry: there is nothing to tell it from one.
 */
#ifndef SLOPROBE_OUTAGG_H
#define SLOPROBE_OUTAGG_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/hist.h"
#include "lib/u64map.h"
#include "proto/httpcall.h"

#define OUTAGG_ROWS_DEFAULT    2000 /* rows kept; calls of more are counted as dropped */
#define OUTAGG_RETRY_WINDOW_NS (30 * 1000000000ull)
#define OUTAGG_HISTORY	       128 /* recent attempts kept per caller x peer, to find retries */
#define OUTAGG_STATUS_SLOTS    16  /* distinct status codes kept per row */
#define OUTAGG_CALLER_MAX      64
#define OUTAGG_METHOD_MAX      HTTP_METHOD_MAX
#define OUTAGG_ROUTE_MAX       128

struct outagg_opts {
	unsigned max_rows;	  /* 0: OUTAGG_ROWS_DEFAULT */
	uint64_t retry_window_ns; /* 0: OUTAGG_RETRY_WINDOW_NS */
};

/* Caller x peer x Host: where the retries are counted. */
struct outagg_dest {
	char caller[OUTAGG_CALLER_MAX];
	char peer[HTTP_CALL_PEER_MAX];
	char host[HTTP_HOST_MAX];
	bool local;
	uint64_t attempts, failed;
	uint64_t retries;	  /* attempts that repeated a failed one */
	uint64_t retry_success;	  /* chains of retries that ended in a success */
	uint64_t retry_exhausted; /* ... that ended failed */
	struct hist *backoff;	  /* start of a retry - end of the attempt it repeats; NULL: none */
};

struct outagg_status {
	uint16_t code;
	uint64_t count;
};

/*
 * One interval of a row, for --jsonl: what the row added in the interval outagg__roll closed
 * last. Summed over the intervals, the counts are the row's.
 */
struct outagg_point {
	double t_s; /* end of that interval; 0: none closed yet */
	uint64_t count, answered, failed, err4xx, err5xx;
	uint64_t p50_ns, p95_ns, p99_ns; /* of its answered calls; 0 when none */
};

struct outagg_row {
	uint64_t id; /* hash of its names: --jsonl follows a row from one interval to the next */
	char caller[OUTAGG_CALLER_MAX];
	char peer[HTTP_CALL_PEER_MAX];
	char host[HTTP_HOST_MAX];
	char method[OUTAGG_METHOD_MAX]; /* "" for connect failures */
	char route[OUTAGG_ROUTE_MAX];	/* "" for connect failures */
	bool local;
	bool tls; /* its calls were HTTPS, decoded through OpenSSL's calls */
	struct outagg_dest *dest;
	uint64_t count;	   /* attempts: answered + failed (fail[]) + unfinished */
	uint64_t answered; /* a response was read and the call did not fail */
	struct outagg_status status[OUTAGG_STATUS_SLOTS];
	uint64_t status_other;
	uint64_t err4xx, err5xx;
	uint64_t fail[HTTP_CALL_FAIL_NR]; /* [HTTP_CALL_OK] unused */
	uint64_t retries;
	uint64_t unfinished, len_unknown, incomplete, pipelined, target_cut;
	uint64_t connects;    /* calls that opened their connection, with its connect time */
	struct hist lat;      /* answered calls: first request byte written -> last byte read */
	struct hist *connect; /* connect times; NULL: none */
	struct hist *failure; /* failed calls: start -> the failure seen; NULL: none */
	/*
	 * The current interval, reset by outagg__roll: one window histogram per row, as each
	 * endpoint has one (record/agg.h), so as bounded as the rows (max_rows); made on the
	 * row's first answered call, as rows of connect failures never need one.
	 */
	struct hist *win;
	uint64_t win_count, win_answered, win_failed, win_4xx, win_5xx;
	struct outagg_point last;
};

struct outagg_stats {
	uint64_t calls;		  /* records added */
	uint64_t rows_dropped;	  /* calls of rows beyond max_rows */
	uint64_t retry_ambiguous; /* attempts overlapping another of their row and thread */
	uint64_t history_evicted; /* failed attempts pushed out of the history before the
				   * window ended: a retry of them would be missed */
	uint64_t nomem;		  /* calls not counted for want of memory */
	uint64_t wait_forced;	  /* attempts judged for retries before their request was known:
				   * more than OUTAGG_WAIT_MAX waiting */
};

/* Attempts whose inbound request is not known yet (a pool worker's), then those after them. */
#define OUTAGG_WAIT_MAX 8192
struct outagg_wait;

struct outagg {
	struct outagg_opts o;
	struct outagg_row **rows; /* insertion order; sorted by outagg__finish */
	unsigned nrows, cap_rows;
	struct outagg_dest **dests;
	unsigned ndests, cap_dests;
	struct u64map row_ix, dest_ix, link_ix; /* id -> pointer */
	struct outagg_link **links;
	unsigned nlinks, cap_links;
	/*
	 * Retries are found in the order attempts ended, each knowing its inbound request (a
	 * retry is one within the same request): from the first attempt still waiting for its
	 * request on, attempts are judged once it is known (outagg__decided).
	 */
	struct outagg_wait *wait; /* FIFO of nwait from wait_head, ring of OUTAGG_WAIT_MAX */
	unsigned wait_head, nwait;
	struct outagg_stats st;
};

int outagg__new(struct outagg **out, const struct outagg_opts *o);
void outagg__free(struct outagg *a);
/*
 * One finished call, its route already named (NULL or "" without a request); req: the number
 * of the inbound request it was attributed to alone (record/dbtrack.h), 0: none or several.
 * Returns its row, NULL when the table is full (counted).
 */
struct outagg_row *outagg__add(struct outagg *a, const struct http_call *c, const char *route,
			       uint64_t req);
/*
 * The same for a call whose request is decided later (a pool worker's: record/dbtrack.h):
 * it is counted now, judged for retries once outagg__decided(ticket) names its request.
 * ticket: the caller's, never 0, unique among those waiting.
 */
struct outagg_row *outagg__add_waiting(struct outagg *a, const struct http_call *c,
				       const char *route, uint64_t ticket);
/* The call of ticket serves request req (0: none alone); unknown tickets are ignored. */
void outagg__decided(struct outagg *a, uint64_t ticket, uint64_t req);
/*
 * Closes the interval that ended t_s seconds after the start: each row's window becomes its
 * last point (percentiles of its answered calls), then starts again empty.
 */
void outagg__roll(struct outagg *a, double t_s);
/* Chains still open are closed; rows sorted by count (ties: caller, peer, method, route). Once. */
void outagg__finish(struct outagg *a);

#endif
