/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * record --jsonl: one JSON object per interval, written and flushed as the interval ends: the
 * points the timelines just took (endpoints, fingerprints, the cache), the outbound rows' last
 * points and the SLO marks of the interval. Nothing is computed twice: it reads the tables after
 * their roll.
 */
#ifndef SLOPROBE_JSONL_H
#define SLOPROBE_JSONL_H

#include <stdio.h>

struct agg;
struct dbagg;
struct cacheagg;
struct slotrack;
struct outagg;

struct jsonl_src {
	const struct agg *agg;
	const struct dbagg *db;	      /* or NULL */
	const struct cacheagg *cache; /* or NULL */
	const struct slotrack *slot;  /* or NULL */
	const struct outagg *out;     /* or NULL; rolled (outagg__roll) at t_s */
	unsigned long long dropped;   /* events lost so far (report__dropped) */
	unsigned long long events;
};

/*
 * The line of the interval that ended t_s seconds after the start and lasted interval_s; rows
 * without a point at t_s (quiet, or the timeline budget spent) are left out. 0, -ENOMEM or
 * -EIO.
 */
int jsonl__interval(FILE *f, const struct jsonl_src *src, double t_s, double interval_s);

#endif
