/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Before/after classification for `sloprobe diff`, as pure functions.
 *
 * A metric changed when the difference is larger than its noise threshold, max(rel x |before|,
 * floor), with the floor by kind of metric (docs/analyze.md). Runs with fewer than min_samples
 * requests (or executions) on either side are not judged: percentiles of a handful of requests
 * move by chance. A change of a rate (errors, retries per call) must also be unlikely to be
 * chance at the runs' sizes: 16 retries in 464 calls and 37 in 979 are the same rate.
 */
#ifndef SLOPROBE_DIFF_H
#define SLOPROBE_DIFF_H

#include <stdbool.h>
#include <stdint.h>

#include "run/runfile.h"

enum diff_metric {
	DIFF_LATENCY,	 /* HTTP percentile, ms; lower is better */
	DIFF_DB_LATENCY, /* query percentile, ms; lower is better */
	DIFF_DB_TIME,	 /* DB ms per request; lower is better */
	DIFF_ERROR_RATE, /* ratio 0..1; lower is better */
	DIFF_QPR,	 /* queries per request; lower is better */
	DIFF_RATE,	 /* per second; higher is better, informational */
};

enum diff_class {
	DIFF_UNCHANGED,
	DIFF_IMPROVED,
	DIFF_REGRESSED,
	DIFF_FEW_SAMPLES,
};

struct diff_rule {
	double rel;	      /* relative change that counts (0.05 = 5 %) */
	double lat_floor_ms;  /* HTTP latency (1 ms) */
	double db_floor_ms;   /* query latency and DB time per request (0.1 ms) */
	double err_floor;     /* error rate, absolute (0.001 = 0.1 percentage point) */
	double qpr_floor;     /* queries per request (0.5) */
	double rate_floor;    /* per second (0.1) */
	uint64_t min_samples; /* in both runs (20) */
	/* A rate's change must also be significant: two-sided p-value of a two-proportion z-test
	 * below this (0.05); 0 turns the test off. */
	double alpha;
	/* Names of the two runs in headings (--label); NULL: "baseline", "after". */
	const char *label[2];
};

void diff__default_rule(struct diff_rule *r);
/* The smallest difference that counts for a metric whose baseline value is before. */
double diff__threshold(const struct diff_rule *r, enum diff_metric m, double before);
/*
 * Two-sided p-value that rates before (of n_before) and after (of n_after) differ by chance
 * alone: the two-proportion z-test with pooled variance (normal approximation).
 */
double diff__rate_p_value(double before, double after, uint64_t n_before, uint64_t n_after);
/* NaN on either side counts as too few samples. */
enum diff_class diff__classify(const struct diff_rule *r, enum diff_metric m, double before,
			       double after, uint64_t n_before, uint64_t n_after);
/* regressed if any regressed, else improved if any improved, else unchanged; few samples if
 * every one had too few. */
enum diff_class diff__overall(const enum diff_class *c, unsigned n);
const char *diff__class_name(enum diff_class c);

/* How a compared value is shown. */
enum diff_show {
	DIFF_SHOW_COUNT,
	DIFF_SHOW_RATE,
	DIFF_SHOW_MS,
	DIFF_SHOW_RATIO,
	DIFF_SHOW_QPR,
};

/* One value of an endpoint or query in both runs, with its verdict. */
struct diff_value {
	const char *name; /* "p95 ms" */
	enum diff_show show;
	bool judged; /* has a verdict */
	enum diff_metric dm;
	double before, after;
	uint64_t nb, na; /* samples on each side */
	enum diff_class cls;
};

#define DIFF_VALUES_MAX 8

/*
 * The values diff compares for a pair of endpoints: requests, rate, p50, p95, p99, 5xx rate,
 * and queries and DB time per request when either side ran queries. Returns how many.
 */
unsigned diff__endpoint(const struct diff_rule *r, const struct run_endpoint *x,
			const struct run_endpoint *y, struct diff_value *v);
/* For a pair of queries: calls, rate, p50, p95, p99, error rate, total time. */
unsigned diff__query(const struct diff_rule *r, const struct run_dbq *x, const struct run_dbq *y,
		     struct diff_value *v);
/*
 * For a pair of outbound call rows: calls, p50, p95, p99 of the answered ones, failure rate
 * (calls without an answer), retries per call.
 */
unsigned diff__out_call(const struct diff_rule *r, const struct run_out_call *x,
			const struct run_out_call *y, struct diff_value *v);
/* The verdict of a pair: diff__overall of every judged value but throughput, which the load
 * generator decides. */
enum diff_class diff__values_overall(const struct diff_value *v, unsigned n);

/*
 * Pair the endpoints of two runs: first on (service, method, route), then the rest on
 * (method, route) where that pair is unique among the unpaired of both runs (a redeployed
 * container or another port renames the service). b_of_a[i] is the index in b of a's endpoint
 * i, or -1. Returns the number of pairs, or -ENOMEM.
 */
int diff__match_endpoints(const struct run *a, const struct run *b, int *b_of_a);
/* Queries pair on (system, query). */
int diff__match_queries(const struct run *a, const struct run *b, int *b_of_a);
/*
 * Outbound rows pair on (caller, destination, method, route), the destination being the Host
 * when there is one, else the peer: a provider's address may change between runs, its name
 * does not.
 */
int diff__match_outbound(const struct run *a, const struct run *b, int *b_of_a);
/* The verdict row of r for the same objective as s: name, objective and target (if both
 * have one) equal. */
const struct run_slo *diff__find_slo(const struct run *r, const struct run_slo *s);

#endif
