/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Exemplars: a few whole requests per endpoint, kept with everything that happened inside them
 * (each query, Redis command and outbound call: when it started, how long it took, how it was
 * attributed), so that a person can see one request rather than read a sum of many.
 *
 * Per endpoint: the EXEMPLAR_SLOWEST slowest requests, and the latest request of each latency
 * octave, from which the report picks the ones whose octave holds the endpoint's p50 and p95
 * (typical requests). Offering a request costs a comparison with the slowest kept and one
 * pointer swap for its octave: the spans a request gathered while in flight are handed over,
 * not copied (a copy is made only when a request is both among the slowest and its octave's
 * latest). Bounds: EXEMPLAR_SPANS spans per request (the rest counted in cut), and
 * EXEMPLAR_HELD_MAX spans held by all exemplars (a request kept beyond it keeps no spans, and
 * its spans are counted in cut too). Pure: no time, no I/O; tests/unit/test_exemplar.c.
 */
#ifndef SLOPROBE_EXEMPLAR_H
#define SLOPROBE_EXEMPLAR_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/u64map.h"

#define EXEMPLAR_SLOWEST  5  /* slowest requests kept per endpoint */
#define EXEMPLAR_OCTAVES  24 /* latency octaves of typical requests: 2^13 ns (8 us) and up */
#define EXEMPLAR_OCT_MIN  13
#define EXEMPLAR_SPANS	  64	 /* spans kept per request */
#define EXEMPLAR_HELD_MAX 262144 /* spans held by all exemplars (40 bytes each: 10 MiB) */
#define EXEMPLAR_LABELS	  4096	 /* distinct outbound labels (destination, method, route) */

enum exemplar_kind {
	EXEMPLAR_QUERY = 0,
	EXEMPLAR_CACHE = 1,
	EXEMPLAR_HTTP = 2,
	EXEMPLAR_KIND_NR,
};

enum exemplar_span_flag {
	EXEMPLAR_ERROR = 1, /* an error reply, a failed call */
	EXEMPLAR_HIT = 2,   /* a cache read: every key answered */
	EXEMPLAR_MISS = 4,  /* a cache read: a key was nil or empty */
};

/* One thing a request did. Times are absolute (CLOCK_MONOTONIC ns) until reported. */
struct exemplar_span {
	uint64_t start, dur;
	/* query: its query id; cache: its cacheagg row id; http: destination << 32 | route labels
	 */
	uint64_t ref;
	uint32_t ref2; /* http: the method's label */
	uint16_t status;
	uint8_t kind;  /* enum exemplar_kind */
	uint8_t conf;  /* enum dbreq_conf */
	uint8_t flags; /* enum exemplar_span_flag */
};

/* The spans of one request, in the order they were attributed to it (the report sorts them). */
struct exemplar_spans {
	unsigned n, cap;
	uint64_t cut; /* beyond EXEMPLAR_SPANS */
	struct exemplar_span s[];
};

struct exemplar {
	uint64_t seq;	     /* the request's number; 0: an empty slot */
	uint64_t start, lat; /* ns: start (CLOCK_MONOTONIC) and latency */
	uint32_t tgid, tid;
	uint16_t status;
	uint8_t conf;		   /* the weakest attribution of its queries */
	uint64_t cut;		   /* spans not kept: beyond EXEMPLAR_SPANS, or the budget spent */
	struct exemplar_spans *sp; /* NULL: no span kept */
};

/* The exemplars of one endpoint. */
struct exemplar_ep {
	struct exemplar slow[EXEMPLAR_SLOWEST]; /* unordered */
	unsigned nslow;
	struct exemplar oct[EXEMPLAR_OCTAVES];
};

struct exemplar_stats {
	uint64_t offered;      /* requests offered */
	uint64_t spans_cut;    /* spans of requests beyond EXEMPLAR_SPANS */
	uint64_t spans_budget; /* spans of kept requests beyond EXEMPLAR_HELD_MAX */
	uint64_t nomem;	       /* spans or endpoints that memory could not hold */
	uint64_t labels_cut;   /* outbound labels beyond EXEMPLAR_LABELS, shown as "?" */
};

struct exemplars {
	uint64_t held; /* spans held by exemplars */
	struct exemplar_stats st;
	char **labels; /* label 0 is "?" */
	unsigned nlabels;
	struct u64map lmap; /* hash of a label -> its index */
};

void exemplars__init(struct exemplars *x);
void exemplars__free(struct exemplars *x);

/* Appends s to *sp (allocated on first use); counts what does not fit. */
void exemplars__span(struct exemplars *x, struct exemplar_spans **sp,
		     const struct exemplar_span *s);
/* Frees *sp (NULL is fine) and sets it NULL. */
void exemplar_spans__free(struct exemplar_spans **sp);

/*
 * Offers a finished request to its endpoint's exemplars (*ep allocated on first use). e->sp
 * is taken either way: kept, or freed.
 */
void exemplars__offer(struct exemplars *x, struct exemplar_ep **ep, struct exemplar *e);
void exemplar_ep__free(struct exemplar_ep *ep);

/* The octave slot of a latency. */
unsigned exemplar__octave(uint64_t lat);

enum exemplar_pick { EXEMPLAR_PICK_SLOWEST, EXEMPLAR_PICK_P50, EXEMPLAR_PICK_P95 };

/*
 * The exemplars to report: the slowest (slowest first), then the typical ones nearest p50 and
 * p95 (latencies, ns) when they are not among the slowest. Returns how many were written to
 * out and why (room: EXEMPLAR_SLOWEST + 2).
 */
unsigned exemplar_ep__pick(const struct exemplar_ep *ep, uint64_t p50, uint64_t p95,
			   const struct exemplar **out, int *why);
const char *exemplar__pick_name(int why);

/* A label's number (0: "?", none left) and back. */
uint32_t exemplars__label(struct exemplars *x, const char *s);
const char *exemplars__label_str(const struct exemplars *x, uint32_t id);

#endif
