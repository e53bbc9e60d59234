/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-interval history of one endpoint or fingerprint, for the report's "timeline": what the
 * live view showed each interval, kept so that the analyzer can find when an objective broke
 * and where a ramp saturated.
 */
#ifndef SLOPROBE_TIMELINE_H
#define SLOPROBE_TIMELINE_H

#include <stdint.h>

#include "lib/hist.h"

#define TIMELINE_POINTS_DEFAULT (1u << 20) /* points kept per table, HTTP or DB (~32 MiB) */

struct tl_point {
	double t_s; /* end of the interval, seconds since the start */
	double interval_s;
	uint64_t count;
	uint64_t errors; /* HTTP: 5xx; DB: failed executions */
	uint64_t err4xx;
	uint64_t p50_ns, p95_ns, p99_ns;
	uint64_t wait_n;      /* HTTP: requests whose arrival was seen */
	uint64_t wait_p95_ns; /* ... and the p95 of their wait before the server read them */
};

struct timeline {
	struct tl_point *p;
	unsigned n, cap;
};

/*
 * Points of every series of a table (HTTP endpoints, DB fingerprints) share one budget: beyond
 * it they are counted, dropped.
 */
struct timeline_budget {
	uint64_t left;
	uint64_t dropped;
};

/*
 * Appends the point of an interval whose window histogram is win (wait: its requests' waits
 * before the server read them, or NULL). 0, or -ENOMEM/-ENOSPC.
 */
int timeline__add(struct timeline *tl, struct timeline_budget *b, double t_s, double interval_s,
		  const struct hist *win, const struct hist *wait, uint64_t errors,
		  uint64_t err4xx);
void timeline__free(struct timeline *tl);

#endif
