/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Saturation point of a ramp, from a timeline: the interval after which throughput stops
 * rising while p95 keeps rising. A pure function over the points, so tests feed it synthetic
 * ramps.
 *
 * Interval k is the saturation point when, counting only intervals with at least min_count
 * requests:
 *   - throughput had ramped up: the peak rate so far is at least (1 + ramp) x the first rate,
 *     and k's rate is within flat of that peak;
 *   - in each of the next `window` intervals the rate stays at most (1 + flat) x the peak;
 *   - p95 never falls below k's p95 in those intervals and ends at least (1 + rise) x k's p95.
 * A server already at capacity when the load starts shows no ramp; where the points carry the
 * wait before the server read the requests, interval k is then the saturation point when, in
 * k and each of the next `window` usable intervals, requests queued: wait p95 at least
 * wait_min ms and wait_share x p95.
 */
#ifndef SLOPROBE_SATURATION_H
#define SLOPROBE_SATURATION_H

#include <stdbool.h>
#include <stdint.h>

struct sat_point {
	double t;    /* s since the window start */
	double rate; /* per second */
	double p95;  /* ms; NaN when the interval had no request */
	uint64_t count;
	double wait; /* p95 of the wait before the server read the requests, ms; NaN: unknown */
};

struct sat_opts {
	unsigned window;    /* intervals that must confirm the plateau (3) */
	double flat;	    /* throughput within this of the peak is flat (0.05) */
	double ramp;	    /* the peak must exceed the first rate by this (0.5) */
	double rise;	    /* p95 must rise by this over the window (0.2) */
	uint64_t min_count; /* intervals with fewer requests are skipped (5) */
	double wait_min;    /* ms of wait that count as queueing (1) */
	double wait_share;  /* ... and share of p95 (0.25) */
};

struct sat_result {
	unsigned index;	       /* into the points */
	bool by_wait;	       /* found by the wait rule: requests began to queue */
	double t, rate, p95;   /* at the saturation point */
	unsigned end;	       /* index of the end of the confirming window */
	double t_end, p95_end; /* there */
};

/*
 * The first signs of saturation: the latency knee (the saturation point above) and what the
 * kernel saw, listen-queue drops and retransmits (the tcp section). first[i]: t of the first
 * interval with signal i; NaN: never. order gets the signals seen, earliest first (a tie keeps
 * the order of the enum: the kernel's drops are the most direct sign). Returns how many.
 */
enum sat_signal { SAT_DROPS, SAT_RETRANS, SAT_KNEE, SAT_NR };
extern const char *const sat_signal_names[SAT_NR];
unsigned saturation__order(const double first[SAT_NR], enum sat_signal order[SAT_NR]);
/* t of the first of n intervals with a count (t[i], c[i]); NaN when none. */
double saturation__first_t(const double *t, const uint64_t *c, unsigned n);

void saturation__default_opts(struct sat_opts *o);
/* true and *res when the points show a saturation point. */
bool saturation__find(const struct sat_point *p, unsigned n, const struct sat_opts *o,
		      struct sat_result *res);

#endif
