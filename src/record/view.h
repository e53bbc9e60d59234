/* SPDX-License-Identifier: GPL-2.0-only */
/* The terminal view: one table per interval, grouped by service, and the final summary. */
#ifndef SLOPROBE_VIEW_H
#define SLOPROBE_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "record/agg.h"
#include "record/cacheagg.h"
#include "record/dbagg.h"
#include "record/slotrack.h"

#define VIEW_WIDTH	 100
#define VIEW_CACHE_MARKS 5 /* cache objectives listed when they breached; more are counted */

struct view_footer {
	uint64_t events;
	uint64_t dropped;
	uint64_t unparsed;
	uint64_t aborted;
	uint64_t conns;
	bool slo;				 /* --slo given: show the tally */
	unsigned slo_pass, slo_breach, slo_idle; /* objectives in the last interval */
	/* The kernel's first signs of saturation in the last interval: a line when any */
	uint64_t tcp_drops, tcp_retrans, tcp_resets;
};

struct view_opts {
	bool tty;		      /* redraw in place instead of appending */
	bool hist;		      /* log2 histogram under each row */
	unsigned max_rows;	      /* endpoint rows per table, 0: no limit */
	const struct dbagg *db;	      /* database table below the HTTP one; NULL: none */
	unsigned db_rows;	      /* fingerprint rows, 0: no limit */
	const struct cacheagg *cache; /* the cache's line below the tables; NULL: none */
	/* --slo: the cache objectives that breached in the last interval are listed below the
	 * cache's line (the cache has no table whose rows could be marked); NULL: none */
	const struct slotrack *slo;
};

/* The current interval (the endpoints' window histograms). elapsed_s: since tracing started. */
void view__interval(FILE *f, const struct agg *a, const struct view_opts *o, double elapsed_s,
		    double interval_s, const struct view_footer *ft);
/*
 * The cache in one line, when its table has rows: commands, rate, hit ratio, p95, errors,
 * connections. window: the current interval (before cacheagg__roll), else the whole run.
 */
void view__cache(FILE *f, const struct cacheagg *c, double secs, bool window);
/* Whole-run table. */
void view__summary(FILE *f, const struct agg *a, const struct view_opts *o, double duration_s,
		   const struct view_footer *ft);

#endif
