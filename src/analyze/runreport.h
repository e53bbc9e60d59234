/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The sections of `sloprobe report` that runreport_findings.c, runreport_cache.c and
 * runreport_outbound.c write for runreport__write() (runreport.c), in the order they appear;
 * private to the four.
 */
#ifndef SLOPROBE_RUNREPORT_H
#define SLOPROBE_RUNREPORT_H

#include "analyze/analyze.h"

/* Queries and DB time per request of each endpoint that ran a query; nothing without one. */
void runreport__db_per_endpoint(struct analyze_out *o, const struct run *r);
/* Where each HTTP timeline series stopped keeping up with its load; o->err on -ENOMEM. */
void runreport__saturation(struct analyze_out *o, const struct run *r);
/* The top fingerprints by total time (the order of the file). */
void runreport__hotspots(struct analyze_out *o, const struct run *r, unsigned top);
void runreport__flags(struct analyze_out *o, const struct run *r);
/* A flag's kind: a word of sloprobe's as it is (bold in markdown with bold), else a value. */
const char *runreport__kind(const struct analyze_out *o, const char *kind, bool bold, char *buf,
			    size_t sz);

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

/* runreport_outbound.c. The traced endpoints as callers on the same host timed them. */
void runreport__client_view(struct analyze_out *o, const struct run *r);
/* The outbound calls by caller, destination and route (the first rows of the file). */
void runreport__outbound(struct analyze_out *o, const struct run *r);
/* Attempts, failures and retries of each destination that failed. */
void runreport__retries(struct analyze_out *o, const struct run *r);

#endif
