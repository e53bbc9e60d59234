/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SLOs judged while recording (record --slo FILE). Each objective of an SLO gets one row per
 * matching endpoint, fingerprint or cache key pattern (per: endpoint), or one row for all of
 * them (per: all).
 * A row keeps exact counters (struct slo_counts) for the current interval and for the run:
 * the interval's verdict marks breaches live, the run's is the final verdict.
 */
#ifndef SLOPROBE_SLOTRACK_H
#define SLOPROBE_SLOTRACK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "proto/cache.h"
#include "record/agg.h"
#include "record/dbagg.h"
#include "run/slo.h"

#define SLOTRACK_ROWS_MAX 4096 /* rows beyond this are counted, not kept */

struct slotrack_row {
	const struct slo_objective *o;
	/* "GET /items/{id} (uvicorn:8000)", a fingerprint, a key pattern, "all ..." */
	char subject[256];
	char target[300]; /* "http GET /items/{id}", "db select ...", "cache user:{id}", selector */
	char service[AGG_SERVICE_MAX]; /* per-endpoint HTTP rows */
	bool matched;		       /* false: nothing matched its selector */
	/*
	 * Per-endpoint HTTP and DB rows: the endpoint's or fingerprint's, marked live. A key
	 * pattern's row has none: several cache rows (commands, clients, servers) feed it, and the
	 * live view lists it when it breached (win_breach).
	 */
	struct slo_link *link;
	struct slo_counts run, win;
	struct hist *h;	       /* latencies judged, for the observed percentile; or NULL */
	bool h_own;	       /* h is filled and freed by this row (objectives of one SLO
				* and subject share it) */
	double first_breach_s; /* end of the first interval that breached; < 0: none */
	unsigned breached_intervals;
	bool win_breach; /* the last interval breached */
};

struct slotrack_tally {
	unsigned pass, breach, insufficient;
};

struct slotrack {
	const struct slo_set *set;
	uint64_t start_ns; /* recording's start (CLOCK_MONOTONIC), from which warmup counts:
			    * set by the caller when it starts */
	struct slotrack_row *rows;
	unsigned nrows, cap;
	unsigned *all_rows; /* per (SLO, objective) of per: all SLOs: its row, or -1 */
	uint64_t rows_dropped;
	struct slotrack_tally win; /* verdicts of the last interval */
	uint64_t cache_unjudged; /* commands of cache rows not kept (the table was full) */
};

int slotrack__init(struct slotrack *st, const struct slo_set *set);
void slotrack__free(struct slotrack *st);

/* One answered request of ep (status 0: no response), ended at ts_ns. */
void slotrack__http(struct slotrack *st, const struct agg *a, struct agg_endpoint *ep,
		    uint64_t lat_ns, int status, uint64_t ts_ns);
/* One execution of fingerprint f by a client of this service name. */
void slotrack__db(struct slotrack *st, struct dbagg_fp *f, const char *service, uint64_t lat_ns,
		  bool failed, uint64_t ts_ns);

/*
 * One cache command of a cache row whose link is l (NULL: the row was not kept, the command
 * is only counted in cache_unjudged), by a client of this service name to server ("addr:port",
 * may be NULL). Aborted commands have no latency and are not judged.
 */
void slotrack__cache(struct slotrack *st, struct slo_link *l, const struct cache_op *op,
		     const char *client, const char *server);

/*
 * The recording ended: objectives that matched nothing get a row of their own, which can
 * only be judged "insufficient data" (an objective never silently disappears).
 */
void slotrack__finish(struct slotrack *st);

/* Close an interval that ended at t_s seconds after the start: judge and clear windows. */
void slotrack__roll(struct slotrack *st, double t_s);

void slotrack__eval(const struct slotrack_row *r, struct slo_result *res);
void slotrack__tally(const struct slotrack *st, struct slotrack_tally *t);

/* The verdict table, one objective per line. */
/* incomplete: the run lost too much to trust them; every verdict says so. */
void slotrack__print(const struct slotrack *st, FILE *f, bool incomplete);

#endif
