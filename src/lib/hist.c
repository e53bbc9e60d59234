// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>

#include "lib/hist.h"

void hist__init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

int hist__bucket_of(uint64_t ns)
{
	int e, shift;

	if (ns < HIST_LINEAR)
		return (int)ns;
	e = 63 - __builtin_clzll(ns);
	if (e >= HIST_MAX_EXP)
		return HIST_NBUCKETS - 1;
	shift = e - HIST_SUB_BITS;
	return HIST_LINEAR + (e - HIST_SUB_BITS - 1) * HIST_SUB + (int)((ns >> shift) - HIST_SUB);
}

uint64_t hist__bucket_lo(int idx)
{
	int k, e;

	if (idx < (int)HIST_LINEAR)
		return (uint64_t)idx;
	k = idx - HIST_LINEAR;
	e = k / HIST_SUB + HIST_SUB_BITS + 1;
	return ((uint64_t)(k % HIST_SUB) + HIST_SUB) << (e - HIST_SUB_BITS);
}

uint64_t hist__bucket_hi(int idx)
{
	int e;

	if (idx < (int)HIST_LINEAR)
		return (uint64_t)idx;
	e = (idx - HIST_LINEAR) / HIST_SUB + HIST_SUB_BITS + 1;
	return hist__bucket_lo(idx) + (1ull << (e - HIST_SUB_BITS)) - 1;
}

void hist__add_n(struct hist *h, uint64_t ns, uint64_t n)
{
	if (!n)
		return;
	h->buckets[hist__bucket_of(ns)] += n;
	h->count += n;
	h->sum += ns * n;
	if (ns < h->min)
		h->min = ns;
	if (ns > h->max)
		h->max = ns;
}

void hist__add(struct hist *h, uint64_t ns)
{
	hist__add_n(h, ns, 1);
}

void hist__merge(struct hist *dst, const struct hist *src)
{
	if (!src->count)
		return;
	for (int i = 0; i < (int)HIST_NBUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

/* Nearest rank of percentile q out of count (count > 0, 0 < q < 100). */
static uint64_t rank_of(uint64_t count, double q)
{
	double r = q / 100.0 * (double)count;
	uint64_t rank = (uint64_t)r;

	if ((double)rank < r)
		rank++;
	return rank ? rank : 1;
}

/* What a percentile falling in bucket i reports: its midpoint, within [min, max]. */
static uint64_t bucket_value(int i, uint64_t min, uint64_t max)
{
	uint64_t mid = hist__bucket_lo(i) + (hist__bucket_hi(i) - hist__bucket_lo(i)) / 2;

	if (mid < min)
		mid = min;
	if (mid > max)
		mid = max;
	return mid;
}

uint64_t hist__percentile(const struct hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (!h->count)
		return 0;
	if (q <= 0)
		return h->min;
	if (q >= 100)
		return h->max;
	rank = rank_of(h->count, q);
	for (int i = 0; i < (int)HIST_NBUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank)
			return bucket_value(i, h->min, h->max);
	}
	return h->max;
}

double hist__mean(const struct hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}

uint64_t hist_sparse__percentile(const struct hist_sparse *h, double q)
{
	uint64_t rank, seen = 0;

	if (!h->count)
		return 0;
	if (q <= 0)
		return h->min;
	if (q >= 100)
		return h->max;
	rank = rank_of(h->count, q);
	for (uint32_t i = 0; i < h->n; i++) {
		seen += h->counts[i];
		if (seen >= rank)
			return bucket_value(h->idx[i], h->min, h->max);
	}
	return h->max;
}

double hist_sparse__mean(const struct hist_sparse *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}

void hist__merge_sparse(struct hist *dst, const struct hist_sparse *src)
{
	if (!src->count)
		return;
	for (uint32_t i = 0; i < src->n; i++)
		dst->buckets[src->idx[i]] += src->counts[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t hist__count_le(const struct hist *h, uint64_t ns)
{
	uint64_t n = 0;
	int last = hist__bucket_of(ns);

	for (int i = 0; i <= last; i++)
		n += h->buckets[i];
	return n;
}

/* Largest power-of-two microsecond slot we print: 2^31 us is ~36 minutes. */
#define LOG2_SLOTS 32

void hist__print_log2(FILE *f, const struct hist *h, int indent, int width)
{
	uint64_t slots[LOG2_SLOTS] = { 0 }, top = 0;
	int first = -1, last = -1, bar;

	for (int i = 0; i < (int)HIST_NBUCKETS; i++) {
		uint64_t us;
		int s;

		if (!h->buckets[i])
			continue;
		us = (hist__bucket_lo(i) + (hist__bucket_hi(i) - hist__bucket_lo(i)) / 2) / 1000;
		s = us ? 63 - __builtin_clzll(us) : 0;
		if (s >= LOG2_SLOTS)
			s = LOG2_SLOTS - 1;
		slots[s] += h->buckets[i];
	}
	for (int s = 0; s < LOG2_SLOTS; s++) {
		if (!slots[s])
			continue;
		if (first < 0)
			first = s;
		last = s;
		if (slots[s] > top)
			top = slots[s];
	}
	if (first < 0)
		return;
	/* "%10s -> %-10s : %-9s |" is 38 columns, plus the closing bar. */
	bar = width - indent - 39;
	if (bar < 10)
		bar = 10;
	if (bar > 40)
		bar = 40;
	fprintf(f, "%*s%10s%-14s : %-9s distribution\n", indent, "", "usecs", "", "count");
	for (int s = first; s <= last; s++) {
		uint64_t lo = s ? 1ull << s : 0, hi = (1ull << (s + 1)) - 1;
		int stars = top ? (int)((slots[s] * (uint64_t)bar + top - 1) / top) : 0;

		fprintf(f, "%*s%10llu -> %-10llu : %-9llu |%-*.*s|\n", indent, "",
			(unsigned long long)lo, (unsigned long long)hi,
			(unsigned long long)slots[s], bar, stars,
			"****************************************");
	}
}
