/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The live tables as Prometheus text (exposition format 0.0.4) or OpenMetrics 1.0.0 text, for
 * record --listen, in one walk whatever the format: names
 * and labels of the OpenTelemetry semantic conventions turned into Prometheus names the way
 * the OpenTelemetry exporters do (dots to underscores, the unit as a suffix).
 *
 * Latency histograms have fixed "le" bounds: the OpenTelemetry defaults (5 ms .. 10 s), each
 * moved to the nearest edge of sloprobe's log-linear buckets, so that every cumulative count is
 * exact (a bucket of ours never straddles a bound); the bound printed is that edge, in seconds.
 */
#ifndef SLOPROBE_PROM_H
#define SLOPROBE_PROM_H

#include <stdint.h>
#include <stdio.h>

#define PROM_NBOUNDS 14

struct agg;
struct dbagg;
struct cacheagg;
struct outagg;
struct report_meta;

enum prom_fmt {
	PROM_TEXT,	  /* Prometheus text exposition format 0.0.4 */
	PROM_OPENMETRICS, /* OpenMetrics 1.0.0 text: counters' families named without _total, */
	/* # UNIT of the _seconds families, le bounds canonical, # EOF at the end */
};

/* What is rendered; a NULL table is left out (its metric family too). */
struct prom_src {
	const struct agg *agg;
	const struct dbagg *db;
	const struct cacheagg *cache;
	const struct outagg *out;
	const struct report_meta *meta; /* sloprobe's own counters, or NULL */
	uint64_t scrapes;		/* answered scrapes before this one */
	enum prom_fmt fmt;
};

/* The bounds in nanoseconds, inclusive: a value v is counted under le=b when v <= b. */
void prom__bounds(uint64_t b[PROM_NBOUNDS]);
/* Writes every family in src->fmt; 0 or -EIO when f failed. */
int prom__render(FILE *f, const struct prom_src *src);

#endif
