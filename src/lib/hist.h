/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Log-linear latency histogram (HDR style).
 *
 * Values are nanoseconds. Below 2^HIST_SUB_BITS+1 ns every value has its own bucket; above,
 * each power-of-two range [2^e, 2^(e+1)) is split into 2^HIST_SUB_BITS equal sub-buckets, so a
 * bucket is at most 1/64 of its lower bound wide. Percentiles report the bucket midpoint,
 * clamped to the exact min and max, so the relative error is at most 1/128 (0.79 %).
 * Values from 1 ns to 2^HIST_MAX_EXP ns (~18 minutes) are resolved; larger ones land in the
 * last bucket (max stays exact).
 *
 * Histograms with the same layout merge by adding buckets, so per-interval histograms sum to
 * the whole-run histogram and reports from several runs or hosts can be merged.
 */
#ifndef SLOPROBE_HIST_H
#define SLOPROBE_HIST_H

#include <stdint.h>
#include <stdio.h>

#define HIST_SUB_BITS 6
#define HIST_SUB      (1u << HIST_SUB_BITS) /* sub-buckets per power of two */
#define HIST_LINEAR   (2u * HIST_SUB)	    /* values below this are exact */
#define HIST_MAX_EXP  40		    /* 2^40 ns = 1099.5 s */
#define HIST_NBUCKETS (HIST_LINEAR + (HIST_MAX_EXP - HIST_SUB_BITS - 1) * HIST_SUB)
/* Layout name written to reports so that readers refuse to merge other layouts. */
#define HIST_LAYOUT "log-linear-ns-6"

struct hist {
	uint64_t count;
	uint64_t sum; /* ns; wraps only after ~584 years of latency */
	uint64_t min;
	uint64_t max;
	uint64_t buckets[HIST_NBUCKETS];
};

void hist__init(struct hist *h);
void hist__add(struct hist *h, uint64_t ns);
void hist__add_n(struct hist *h, uint64_t ns, uint64_t n);
void hist__merge(struct hist *dst, const struct hist *src);
/* q in [0, 100]; 0 when empty. Rank is ceil(q/100 * count), as in nearest-rank percentiles. */
uint64_t hist__percentile(const struct hist *h, double q);
double hist__mean(const struct hist *h);
/* Count of values <= ns, exact when ns is a bucket upper bound, else up to one bucket off. */
uint64_t hist__count_le(const struct hist *h, uint64_t ns);

int hist__bucket_of(uint64_t ns);
uint64_t hist__bucket_lo(int idx); /* inclusive */
uint64_t hist__bucket_hi(int idx); /* inclusive */

/*
 * A histogram of the same layout holding its non-empty buckets only, ascending: how the analyzer
 * keeps the histograms of a report (a struct hist is 18 KiB, mostly zeros, per endpoint).
 * Percentiles and means are the same as those of the dense histogram with these buckets.
 */
struct hist_sparse {
	uint64_t count;
	uint64_t sum;
	uint64_t min; /* 0 when empty */
	uint64_t max;
	uint32_t n;	  /* non-empty buckets */
	uint16_t *idx;	  /* their indexes, ascending */
	uint64_t *counts; /* their counts, none 0 */
};

uint64_t hist_sparse__percentile(const struct hist_sparse *h, double q);
double hist_sparse__mean(const struct hist_sparse *h);
/* dst += src */
void hist__merge_sparse(struct hist *dst, const struct hist_sparse *src);

/*
 * bcc-style power-of-two bar chart in microseconds, fitting `width` columns (>= 60).
 * `indent` spaces prefix every line.
 */
void hist__print_log2(FILE *f, const struct hist *h, int indent, int width);

#endif
