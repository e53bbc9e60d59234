/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The sections of `sloprobe report` that runreport_findings.c, runreport_cache.c and
 * runreport_outbound.c write for runreport__write() (runreport.c), in the order they appear;
 * private to the four, and to runhtml.c for the outbound tables' cells.
 */
#ifndef SLOPROBE_RUNREPORT_H
#define SLOPROBE_RUNREPORT_H

#include "analyze/analyze.h"

/* The traced command as a shell would read it, cut to 160 code points, as a value of o. */
const char *runreport__command(const struct analyze_out *o, const struct run *r, char *buf,
			       size_t sz);
/* The scope table's rows (host, window, load, traffic, events, drops...) into t, initialized. */
void runreport__scope_cells(const struct analyze_out *o, const struct run *r, struct table *t);
/*
 * The rows of the per-endpoint DB table into t (initialized with o's titles); the number of
 * rows, 0 (and nothing to free) when no endpoint ran a query.
 */
unsigned runreport__db_per_endpoint_cells(const struct analyze_out *o, const struct run *r,
					  struct table *t);
/* The hotspot table's rows, the first top fingerprints (the file's order), into t. */
void runreport__hotspot_cells(const struct analyze_out *o, const struct run *r, unsigned top,
			      struct table *t);
/* The tcp section's listeners and peers tables (t[0], t[1]), each initialized. */
void runreport__tcp_cells(const struct analyze_out *o, const struct run *r, struct table t[2]);

/* Queries and DB time per request of each endpoint that ran a query; nothing without one. */
void runreport__db_per_endpoint(struct analyze_out *o, const struct run *r);
/* Where each HTTP timeline series stopped keeping up with its load; o->err on -ENOMEM. */
void runreport__saturation(struct analyze_out *o, const struct run *r);
/* runreport_tcp.c: which first sign of saturation came first (knee: t of the latency knee, NaN:
 * none); the tcp section's tables. */
void runreport__first_signs(struct analyze_out *o, const struct run *r, double knee);
void runreport__tcp(struct analyze_out *o, const struct run *r);
/* The top fingerprints by total time (the order of the file). */
void runreport__hotspots(struct analyze_out *o, const struct run *r, unsigned top);
void runreport__flags(struct analyze_out *o, const struct run *r);
/* A flag's kind: a word of sloprobe's as it is (bold in markdown with bold), else a value. */
const char *runreport__kind(const struct analyze_out *o, const char *kind, bool bold, char *buf,
			    size_t sz);
/*
 * One finding as a list item: its kind (bold), "on ENDPOINT" (NULL: none), ": SUBJECT" (text
 * already made a value by the caller; NULL: none), "(N UNIT)", then its evidence, indented.
 */
void runreport__finding(struct analyze_out *o, const char *kind, const char *endpoint,
			const char *subject, uint64_t n, const char *unit, const char *evidence);

/* runreport_cache.c: cache and outbound calls per request of each endpoint that has them. */
void runreport__deps_per_endpoint(struct analyze_out *o, const struct run *r);
/* The cache section: rows by total time (top of them), hit ratio, pools, flags. */
void runreport__cache(struct analyze_out *o, const struct run *r, unsigned top);
/* "GET user:{id}" as a value of o. */
const char *runreport__cache_row_name(const struct analyze_out *o, const char *verb,
				      const char *pattern, char *buf, size_t sz);
/* The first cache flag of a kind, or NULL. */
const struct run_cache_flag *runreport__cache_flag(const struct run *r, const char *kind);
/* The rows ("GET user:{id}") or endpoints the cache flags of a kind name: 3, then "and others". */
void runreport__cache_list(const struct analyze_out *o, const struct run *r, const char *kind,
			   bool endpoint, char *buf, size_t sz);
/* What the cache tables could not keep ("commands 3, flags 1"); "" when nothing. */
void runreport__cache_drops(const struct analyze_out *o, const struct run *r, char *buf, size_t sz);
void runreport__recommendations(struct analyze_out *o, const struct run *r);

/* runreport_exemplars.c: what one exemplar request did, for text and HTML alike. */
#define RUNREPORT_RUN_MIN 3 /* the same query this many times back to back: an N+1 run */
struct runreport_exsum {
	unsigned n[RUN_SPAN_NR];   /* spans by kind */
	unsigned misses, errors;   /* cache reads that missed; failed calls and error replies */
	unsigned run_n, run_first; /* the longest run of one query: length, index of its first */
	double run_ms;		   /* its first start to its last end */
};
void runreport__exemplar_sum(const struct run_exemplar *e, struct runreport_exsum *s);
/* "21 queries (20 x q3a1f0c2d N+1 run 640.0 ms), 1 cache call, 1 cache miss": plain text. */
void runreport__exemplar_line(const struct run_exemplar *e, char *buf, size_t sz);
/* runhtml_exemplars.c: the exemplars section of the HTML report, a waterfall each. */
int runhtml__exemplars(FILE *f, const struct run *r);
/* The exemplars, per endpoint, one line each: slowest first, then typical ones. */
void runreport__exemplars(struct analyze_out *o, const struct run *r);

/* runreport_outbound.c. The traced endpoints as callers on the same host timed them. */
void runreport__client_view(struct analyze_out *o, const struct run *r);
/* The outbound calls by caller, destination and route (the first rows of the file). */
void runreport__outbound(struct analyze_out *o, const struct run *r);
/* Attempts, failures and retries of each destination that failed. */
void runreport__retries(struct analyze_out *o, const struct run *r);

/*
 * The cells of the three outbound tables, for text, markdown and HTML alike: plain strings the
 * writer escapes for its format (the first 2 or 3 are names from traffic). Each table has its
 * columns' alignment as table__init takes it and titles (markdown's and HTML's).
 */
#define RUNREPORT_CELL	      ANALYZE_VAL_MAX
#define RUNREPORT_CALL_COLS   11
#define RUNREPORT_RETRY_COLS  9
#define RUNREPORT_CLIENT_COLS 9
extern const char runreport__call_align[], runreport__retry_align[], runreport__client_align[];
extern const char *const runreport__call_titles[RUNREPORT_CALL_COLS];
extern const char *const runreport__retry_titles[RUNREPORT_RETRY_COLS];
extern const char *const runreport__client_titles[RUNREPORT_CLIENT_COLS];
/* The note under the client view: what its gap columns are. */
extern const char runreport__client_gap[];
/* Caller, destination (tls marked), call, count, p50/p95/p99, 5xx, failures, retries, connect. */
void runreport__call_cells(const struct run_out_call *x, char (*v)[RUNREPORT_CELL]);
/* Whether a destination failed at all: only then has the retries table a row. */
bool runreport__retries_shown(const struct run *r);
void runreport__retry_cells(const struct run_out_dest *d, char (*v)[RUNREPORT_CELL]);
/*
 * The next pair, endpoint by endpoint, of a traced endpoint and a local caller's row of it
 * (same port, method and route), at or after (*ep, *call); false when none is left. Start at
 * 0, 0, and step *call for the pair after.
 */
bool runreport__client_pair(const struct run *r, unsigned *ep, unsigned *call);
void runreport__client_cells(const struct run_endpoint *e, const struct run_out_call *x,
			     char (*v)[RUNREPORT_CELL]);

/*
 * rundiff.c: the diff's sections the HTML diff shows as the text has them (a heading line, then
 * tables and lines); nothing when neither run has the kind. 0 or -ENOMEM.
 */
int rundiff__outbound(struct analyze_out *o, const struct run *a, const struct run *b);
int rundiff__cache(struct analyze_out *o, const struct run *a, const struct run *b);
int rundiff__deps(struct analyze_out *o, const struct run *a, const struct run *b);
int rundiff__tcp(struct analyze_out *o, const struct run *a, const struct run *b);

#endif
