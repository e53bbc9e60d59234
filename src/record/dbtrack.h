/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Queries per request: which inbound HTTP request each database query serves, and the
 * anti-patterns that need that link (N+1, redundant queries, long transactions).
 *
 * The kernel does not say which request a query serves, so it is decided when the query
 * completes, from the requests of the same process that are in flight and started before the
 * query did, and the confidence of each decision is kept:
 *   exact   the only request of the process in flight: it is the one;
 *   thread  several in flight, but exactly one was read by the thread that sent the query
 *           (thread-per-request servers);
 *   handoff several in flight, the query sent by a pool worker that the thread that read one
 *           of them handed it to (src/handoff.c): decided within the defer window;
 *   shared  otherwise (asyncio servers, hand-offs that cannot be followed):
 *           the query is divided equally among the requests in flight. Totals stay right
 *           (queries per request of an endpoint under uniform load is exact on average);
 *           a single request's count is an estimate.
 * Queries with no request in flight are counted as outside requests. Whatever the level, a
 * request is never given more DB time than its latency, nor more queries than started while it
 * was in flight (bound_clipped counts the requests cut).
 *
 * Paths with their own ring buffer (libpq) deliver a query after the response that ends its
 * request may already have been seen, so an ended request stays open to late queries for
 * defer_ns after its end (dbtrack__set_defer), and is only then added to its endpoint.
 */
#ifndef SLOPROBE_DBTRACK_H
#define SLOPROBE_DBTRACK_H

#include <stdbool.h>
#include <stdint.h>

#include "record/agg.h"
#include "proto/db.h"
#include "record/dbagg.h"
#include "record/exemplar.h"
#include "record/handoff.h"

struct cacheagg;

#define DBREQ_TOP  AGG_DB_TOP /* fingerprints kept per request */
#define DBREQ_RUNS 8	      /* N+1 candidate runs kept per request */
#define DBREQ_RAW  64	      /* raw-text hashes kept per request, for redundant queries */
/* PGconns followed for N+1 on the libpq path, which has no socket; the oldest is reused. */
#define DBTRACK_VCONNS	  256
#define DBTRACK_CLOSING	  4096 /* ended requests waiting for late queries */
#define DBTRACK_COVER_MAX 64   /* requests a query can be shared among */
#define DBTRACK_PARKED	  8192 /* queries waiting for their hand-off to be decided */
#define DBTRACK_PARK_CAND 16   /* requests a waiting query may still be shared among */
/* Hand-offs are decided HANDOFF_FIFO_NS after the hand-back: requests wait that and more. */
#define DBTRACK_HANDOFF_DEFER_NS (300 * 1000000ull)

enum dbreq_conf {
	DBREQ_EXACT = 0,
	DBREQ_THREAD = 1,
	DBREQ_SHARED = 2,
	/* Numbered last to keep the indices above; by strength it sits between thread and shared.
	 */
	DBREQ_HANDOFF = 3,
	DBREQ_CONF_NR,
};

/* A run of one fingerprint on one DB connection, handed to the request(s) it ran in. */
struct dbreq_run {
	uint64_t query_id, source_id;
	unsigned n;
	uint64_t total_ns; /* in the database */
	uint64_t span_ns;  /* first start to last end: what the loop costs the request */
	bool shared;
};

#define DBREQ_KEYS 32 /* cache keys read kept per request, for repeated reads */

/* Dependency calls of one request. */
struct dbreq_deps {
	struct agg_dep d[AGG_DEP_NR];
	uint64_t key[DBREQ_KEYS], key_row[DBREQ_KEYS];
	uint16_t key_n[DBREQ_KEYS];
	unsigned nkeys;
	unsigned keys_cut; /* keys beyond DBREQ_KEYS: not checked for repeats */
};

/* DB activity of the request currently in flight on an inbound connection. */
struct dbreq {
	struct dbreq *prev, *next; /* in-flight list */
	bool open;
	uint32_t tgid, tid; /* tid: the thread that read the request */
	uint64_t ts;	    /* request start */
	uint64_t resp_ts;   /* response started: later queries are not its own */
	uint64_t seq;
	double queries, db_ns;
	uint64_t window_queries; /* queries of its process that started while it was in flight */
	unsigned conf_mask;	 /* 1 << enum dbreq_conf */
	struct agg_db_fp top[DBREQ_TOP];
	unsigned ntop;
	uint64_t top_other; /* fingerprints beyond DBREQ_TOP */
	struct dbreq_run runs[DBREQ_RUNS];
	unsigned nruns;
	uint64_t raw[DBREQ_RAW], raw_qid[DBREQ_RAW];
	unsigned nraw;
	unsigned runs_cut, raw_cut; /* runs and raw hashes beyond the arrays: counted */
	struct dbreq_deps deps;
	/* What it did, one span each, for exemplars (NULL: nothing yet, or exemplars off). */
	struct exemplar_spans *sp;
	uint64_t ex_start, ex_end; /* as its endpoint counts it (dbtrack__req_answer); 0: unknown */
	uint16_t ex_status;
};

/* One outbound database connection. */
struct dbconn {
	struct dbconn *prev, *next; /* all open DB connections */
	uint32_t tgid;
	uint64_t conn_id;
	uint64_t opened_ts;
	uint64_t queries;
	char client[64], server[64];
	/* Current run of one fingerprint, for N+1. */
	uint64_t run_qid, run_src;
	unsigned run_n;
	uint64_t run_total, run_last_end, run_first_ts;
	uint64_t run_req_seq; /* the request the run started in (exact/thread), 0 */
	bool run_credited;    /* a shared run already handed to a request that ended */
	uint64_t tx_start;    /* BEGIN seen at, 0 outside a transaction */
	uint64_t tx_qid;
};

struct dbtrack_stats {
	uint64_t attributed[DBREQ_CONF_NR];
	uint64_t outside;	/* queries with no request in flight */
	uint64_t closed_early;	/* ended requests finalized early: waiting list full */
	uint64_t bound_clipped; /* requests whose DB time or query count was cut to the bound */
	uint64_t handoff_parked_full; /* shared at once: too many queries waiting */
	uint64_t handoff_undecided;   /* shared: a request ended before its hand-off was decided */
	uint64_t runs_cut;	      /* N+1 candidate runs beyond DBREQ_RUNS in a request */
	uint64_t raw_cut;   /* reads beyond DBREQ_RAW in a request: not checked as redundant */
	uint64_t cover_cut; /* queries with DBTRACK_COVER_MAX requests in flight or more */
	uint64_t dep_attributed[AGG_DEP_NR][DBREQ_CONF_NR];
	uint64_t dep_outside[AGG_DEP_NR]; /* calls with no request in flight */
	uint64_t keys_cut;		  /* cache keys beyond DBREQ_KEYS in a request */
};

/* A finished call of a dependency (Redis command, outbound HTTP call), for dbtrack__call. */
struct dbtrack_call {
	uint32_t tgid, tid;
	uint64_t ts_start, ts_end;
	bool error;
	unsigned hits, misses; /* cache reads */
	uint64_t key_hash;     /* cache reads: the literal key's hash, 0: none */
	uint64_t row_id;       /* the row the key's reads are flagged on (cacheagg) */
	uint64_t ticket;       /* parked: named to dbtrack.on_decided once decided; 0: not */
	/* Its span in an exemplar (struct exemplar_span): cache row id, or outbound labels. */
	uint64_t ex_ref;
	uint32_t ex_ref2;
	uint16_t status; /* outbound: the response's status, 0: none */
};

/*
 * A query or a dependency call of a pool worker whose run is not matched to a request yet:
 * it waits for the hand-off to be decided.
 */
struct dbtrack_parked {
	int dep; /* DBTRACK_QUERY, or the enum agg_dep_kind of call */
	uint32_t tgid, tid;
	uint64_t ts;		     /* start */
	uint64_t query_id, lat, raw; /* a query */
	struct dbtrack_call call;    /* a dependency call */
	uint64_t cand[DBTRACK_PARK_CAND]; /* the requests it may serve, by number */
	unsigned ncand;
};
#define DBTRACK_QUERY (-1)

/* An ended request, open to late queries until end_ts + defer_ns. */
struct dbreq_closing {
	struct dbreq r;
	struct agg_endpoint *ep; /* NULL: dropped, not added anywhere */
	uint64_t latency_ns, end_ts;
};

struct dbtrack {
	struct dbagg *db;
	struct dbreq head;   /* in-flight list sentinel */
	struct dbconn conns; /* DB connection list sentinel */
	uint64_t seq;
	struct dbtrack_stats st;
	struct dbconn *vconns; /* DBTRACK_VCONNS, allocated on first use */
	unsigned nvconns;
	uint64_t defer_ns;
	bool defer_all; /* every request waits (paths with a ring of their own), not just pools' */
	struct dbreq_closing *closing; /* ring of DBTRACK_CLOSING, oldest at head */
	unsigned head_i, nclosing;
	struct handoff *ho; /* thread-pool hand-offs followed; NULL: none */
	struct dbtrack_parked *parked;
	unsigned nparked;
	uint64_t now;		/* newest event time seen */
	bool db_off;		/* only dependency calls are followed, not queries */
	unsigned dep_mask;	/* 1 << enum agg_dep_kind followed */
	struct cacheagg *cache; /* where repeated key reads are flagged; NULL */
	/* A parked call with a ticket was decided: it serves request seq alone (0: not). */
	void (*on_decided)(void *ctx, int dep, uint64_t ticket, uint64_t seq);
	void *on_decided_ctx;
	struct exemplars *ex; /* requests kept whole per endpoint; NULL: not kept */
};

void dbtrack__init(struct dbtrack *t, struct dbagg *db);
void dbtrack__free(struct dbtrack *t);
/* Keep a few requests of each endpoint whole (record/exemplar.h), owned by t. -ENOMEM. */
int dbtrack__exemplars(struct dbtrack *t);
/* Keep ended requests open to late queries this long (0: finalize at once). -ENOMEM. */
int dbtrack__set_defer(struct dbtrack *t, uint64_t defer_ns);
/*
 * Follow thread-pool hand-offs (ho: initialized by the caller, kept by it) to attribute the
 * queries of pool workers; lengthens the defer window to DBTRACK_HANDOFF_DEFER_NS. -ENOMEM.
 */
int dbtrack__set_handoff(struct dbtrack *t, struct handoff *ho);
/* One event of bpf/handoff.bpf.c (include/abi/handoff_ev.h). */
void dbtrack__handoff_event(struct dbtrack *t, const struct handoff_ev *e);
/* Finalizes the ended requests whose wait is over (now_ns = 0: all of them). */
void dbtrack__tick(struct dbtrack *t, uint64_t now_ns);

/* Inbound request lifecycle (the tracker owns the struct dbreq, inside its connection). */
void dbtrack__req_start(struct dbtrack *t, struct dbreq *r, uint32_t tgid, uint32_t tid,
			uint64_t ts);
void dbtrack__req_responding(struct dbtrack *t, struct dbreq *r, uint64_t ts);
/*
 * The request finished (or was dropped: ep NULL). Once no late query can come, its DB work is
 * added to ep and the N+1 and redundant checks run with its latency. r is reset at once for
 * the next request on the connection.
 */
void dbtrack__req_end(struct dbtrack *t, struct dbreq *r, struct agg_endpoint *ep,
		      uint64_t latency_ns, uint64_t ts);
/*
 * The answered request r as its endpoint counts it (start: its arrival or first read, end,
 * status), for its exemplar; called before dbtrack__req_end.
 */
void dbtrack__req_answer(struct dbreq *r, uint64_t start, uint64_t end, unsigned status);
/* The connection holding r goes away. */
void dbtrack__req_drop(struct dbtrack *t, struct dbreq *r);

void dbtrack__conn_open(struct dbtrack *t, struct dbconn *c, uint32_t tgid, uint64_t conn_id,
			const char *client, const char *server, uint64_t ts);
void dbtrack__conn_close(struct dbtrack *t, struct dbconn *c, uint64_t ts);
/*
 * One finished query on c, or c == NULL for the paths without a socket (libpq: the PGconn in
 * x->conn_id stands for the connection; client names its process), already counted in f
 * (raw: its literal-bearing text's hash, 0: not a read). The sink (record/sink.h) calls it
 * for the first path that saw a fingerprint (wire, else libpq) only, so that enabling
 * several paths attributes a query and follows its runs once.
 */
void dbtrack__exec(struct dbtrack *t, struct dbconn *c, const struct db_exec *x, struct dbagg_fp *f,
		   uint64_t raw, const char *client);

/*
 * Which request(s) a call of a dependency (tgid/tid, running start..end) serves, by the rules
 * above. Returns how many were written to out (DBTRACK_COVER_MAX room; 0: outside requests)
 * and the confidence; shared calls give each of them 1/n. DBTRACK_WAIT: a pool worker's call
 * whose hand-off is not decided yet, among the n candidates in out (dbtrack__park).
 */
#define DBTRACK_WAIT (-1)
unsigned dbtrack__decide(struct dbtrack *t, uint32_t tgid, uint32_t tid, uint64_t start,
			 uint64_t end, struct dbreq **out, int *conf);
/* Keeps call c of kind dep until its hand-off is decided; false: no room (share it now). */
bool dbtrack__park(struct dbtrack *t, int dep, const struct dbtrack_call *c, struct dbreq **cand,
		   unsigned n);
/* Adds call c of kind dep to the n requests it serves, 1/n each, attributed with conf. */
void dbtrack__deps_add(struct dbtrack *t, int dep, const struct dbtrack_call *c,
		       struct dbreq **to, unsigned n, int conf);

/* Follow calls of this kind: every request counts for it (calls per request). */
void dbtrack__follow(struct dbtrack *t, enum agg_dep_kind kind, struct cacheagg *cache);
/*
 * A finished call of kind, attributed to the request(s) it serves. Returns the number (seq)
 * of the request when it is one by exact, thread or hand-off attribution, else 0; or
 * DBTRACK_CALL_PARKED: decided later, and then told to on_decided with c->ticket.
 */
#define DBTRACK_CALL_PARKED UINT64_MAX
uint64_t dbtrack__call(struct dbtrack *t, enum agg_dep_kind kind, const struct dbtrack_call *c);
/* The request's calls, when it is finalized: added to ep (record/deptrack.c). */
void dbtrack__deps_finalize(struct dbtrack *t, struct dbreq *r, struct agg_endpoint *ep,
			    uint64_t latency_ns);

const char *dbtrack__conf_name(int conf);

/*
 * N+1 flags that rest on shared attribution name every endpoint whose requests overlapped
 * the run. The endpoint that issues it has the run in (nearly) every request; one that only
 * overlapped has it in a few: flags with support under DBTRACK_NPLUS1_SUPPORT are weak, and
 * dropped when the same fingerprint has a stronger flag. Call once, when recording ends.
 */
#define DBTRACK_NPLUS1_SUPPORT 0.5
void dbtrack__finish(struct dbtrack *t, const struct agg *a);

/* The weakest attribution among a request's queries. */
int dbtrack__req_conf(const struct dbreq *r);

#endif
