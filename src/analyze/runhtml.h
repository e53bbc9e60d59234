/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the HTML report's files share (runhtml.c: the report's sections, runhtml_overview.c: its
 * overview, runhtml_diff.c: the diff): timelines made fit to draw, endpoints found by name and
 * ordered, tables of the text renderer's cells. Private to src/analyze/runhtml*.c.
 */
#ifndef SLOPROBE_RUNHTML_H
#define SLOPROBE_RUNHTML_H

#include <stdbool.h>
#include <stdio.h>

#include "analyze/analyze.h"
#include "analyze/svg.h"

#define RUNHTML_QUERY_CUT 80 /* fingerprint code points in a cell; the whole in its title */
#define RUNHTML_OPEN_EPS  4  /* endpoints whose charts are open; the rest in <details> */

/*
 * A timeline series as the charts draw it: an interval's p95 only with svg__min_samples(95)
 * requests or more, its p99 with svg__min_samples(99); the last interval, when the end of the
 * run cut it short, left out. *partial_s: that interval's length (NaN: none). Caller frees.
 */
struct svg_tpoint *runhtml__tpoints(const struct run *r, const struct run_series *s,
				    double *partial_s);
/* Whether any point has a p95 or p99 left to draw. */
bool runhtml__drawable(const struct svg_tpoint *p, size_t n);
/* Whether any of n series has such a point. */
bool runhtml__series_drawable(const struct svg_series *s, size_t n);
/* What a reader is told instead of a timeline with nothing left to draw, and why. */
const char *runhtml__undrawn(double partial_s, char *buf, size_t sz);
/* The caption's words for the rules above: "p95 drawn for intervals of >= 20 requests...". */
const char *runhtml__rules(double partial_s, char *buf, size_t sz);
/* Whether point k of a series (length n, points at t) is the last interval, cut short. */
bool runhtml__partial(const struct run *r, const struct run_tpoint *p, unsigned n, unsigned k);
/* The interval of point k: from the previous point's t (or t - interval) to its t. */
double runhtml__span(const struct run *r, const struct run_tpoint *p, unsigned k);

/* The HTTP series of an endpoint, or NULL. */
const struct run_series *runhtml__series_of(const struct run *r, const struct run_endpoint *e);
/* The index of the endpoint "METHOD route" (a flag's, a series'), or -1. */
int runhtml__endpoint_index(const struct run *r, const char *name);
/* Whether an SLO row is aimed at the endpoint (its target selects it). */
bool runhtml__slo_targets(const struct run_slo *s, const struct run_endpoint *e);
/* Whether any objective aimed at the endpoint breached. */
bool runhtml__endpoint_breached(const struct run *r, const struct run_endpoint *e);
/* Endpoint indexes, breaching ones first, then by requests (the file's order); caller frees. */
unsigned *runhtml__endpoint_order(const struct run *r);

#define RUNHTML_MARKS 8 /* SLO thresholds drawn on one chart */
/* "pass", "breach" or "insufficient": the row classes of a verdict. */
const char *runhtml__verdict_class(const char *verdict);
/* The buckets of h for the charts; caller frees; NULL on ENOMEM. */
struct svg_bucket *runhtml__buckets(const struct hist_sparse *h, size_t *n);
/*
 * The latency objectives aimed at an endpoint as SLO marks (at most RUNHTML_MARKS; labels
 * their objectives, pct_of their percentile or 0). Returns how many.
 */
size_t runhtml__slo_marks(const struct run *r, const struct run_endpoint *e, struct svg_mark *m,
			  char (*labels)[64], int *pct_of);

/*
 * A table of the text renderer's cells (table.h) with the given titles, alignment ('v' the
 * verdict) and caption; frees t. cut_col >= 0: that column's cells cut to RUNHTML_QUERY_CUT
 * code points, whole in a title. row_id: a prefix for the rows' ids ("q-": q-0, q-1...), or NULL.
 */
void runhtml__table(FILE *f, const char *caption, struct table *t, const char *const *titles,
		    const char *align, int cut_col, const char *row_id);

/* The report's first section: verdict banner, top causes, the whole run over time. */
int runhtml__overview(FILE *f, const struct run *r, const struct runreport_opts *o,
		      const unsigned *order);

#endif
