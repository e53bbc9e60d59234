// SPDX-License-Identifier: GPL-2.0-only
/*
 * Objective counters and verdicts. slo__count() runs for every observation of a live
 * recording, so it only compares and adds; nothing here allocates.
 */
#include <math.h>
#include <string.h>

#include "lib/hist.h"
#include "run/slo.h"

typedef unsigned __int128 u128;

void slo__counts_init(struct slo_counts *c)
{
	memset(c, 0, sizeof(*c));
}

static bool is_protected(const struct slo_objective *o, int status)
{
	return o->slo && o->slo->source == SLO_HTTP && slo__status_in(&o->slo->protection, status);
}

static bool within(const struct slo_objective *o, uint64_t ns)
{
	return o->strict ? ns < o->threshold_ns : ns <= o->threshold_ns;
}

void slo__count(const struct slo_objective *o, struct slo_counts *c, uint64_t ns, int status)
{
	bool prot = is_protected(o, status);

	if (o->kind == SLO_OBJ_HIT_RATIO)
		return; /* its observations are keys read: slo__count_reads */
	if (!c->total || ns < c->min_ns)
		c->min_ns = ns;
	if (ns > c->max_ns)
		c->max_ns = ns;
	c->sum_ns += ns;
	c->total++;
	c->protected_ += prot;
	if (o->kind == SLO_OBJ_LATENCY)
		c->good += within(o, ns);
	else if (o->kind == SLO_OBJ_ERRORS && !prot)
		c->errors += slo__status_in(&o->errors, status);
}

void slo__count_reads(const struct slo_objective *o, struct slo_counts *c, uint64_t hits,
		      uint64_t misses)
{
	if (o->kind != SLO_OBJ_HIT_RATIO)
		return;
	c->total += hits + misses;
	c->good += hits;
}

void slo__counts_merge(struct slo_counts *dst, const struct slo_counts *src)
{
	if (!src->total)
		return;
	if (!dst->total || src->min_ns < dst->min_ns)
		dst->min_ns = src->min_ns;
	if (src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
	dst->total += src->total;
	dst->good += src->good;
	dst->errors += src->errors;
	dst->protected_ += src->protected_;
	dst->sum_ns += src->sum_ns;
	dst->approximate |= src->approximate;
}

/*
 * Observations within the threshold, from buckets. The bucket that straddles the threshold
 * counts as within iff its midpoint is: the same rule hist__percentile() reports, so the verdict
 * agrees with the percentile shown. Exact when the threshold is a bucket's upper bound or lies
 * outside [min, max].
 */
static uint64_t hist_within(const struct slo_objective *o, const struct hist *h, bool *approx)
{
	uint64_t t, n = 0, lo, hi;
	int b;

	if (o->strict && !o->threshold_ns)
		return 0;
	t = o->strict ? o->threshold_ns - 1 : o->threshold_ns;
	if (t >= h->max)
		return h->count;
	if (t < h->min)
		return 0;
	b = hist__bucket_of(t);
	for (int i = 0; i < b; i++)
		n += h->buckets[i];
	lo = hist__bucket_lo(b);
	hi = hist__bucket_hi(b);
	if (t == hi)
		return n + h->buckets[b];
	*approx = *approx || h->buckets[b];
	return lo + (hi - lo) / 2 <= t ? n + h->buckets[b] : n;
}

void slo__counts_from_hist(const struct slo_objective *o, struct slo_counts *c,
			   const struct hist *h, const struct slo_status_count *st, size_t nst)
{
	uint64_t st_total = 0;

	slo__counts_init(c);
	c->h = h;
	if (o->kind == SLO_OBJ_HIT_RATIO)
		return; /* keys read are no latencies: slo__count_reads */
	if (h && h->count) {
		c->total = h->count;
		c->sum_ns = h->sum;
		c->min_ns = h->min;
		c->max_ns = h->max;
		if (o->kind == SLO_OBJ_LATENCY)
			c->good = hist_within(o, h, &c->approximate);
	}
	for (size_t i = 0; i < nst; i++) {
		bool prot = is_protected(o, st[i].status);

		st_total += st[i].count;
		c->protected_ += prot ? st[i].count : 0;
		if (o->kind == SLO_OBJ_ERRORS && !prot && slo__status_in(&o->errors, st[i].status))
			c->errors += st[i].count;
	}
	/* An error rate rests on the statuses, which count every response. */
	if (o->kind == SLO_OBJ_ERRORS && nst)
		c->total = st_total;
}

/* ceil(total * ppb / 1e9): the nearest rank, in integers */
static uint64_t need_good(uint64_t total, uint64_t ppb)
{
	u128 x = (u128)total * ppb;

	return (uint64_t)((x + SLO_PPB - 1) / SLO_PPB);
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static double budget(uint64_t bad, double allowed)
{
	if (allowed > 0)
		return (double)bad / allowed;
	return bad ? INFINITY : 0.0;
}

static bool bound_ok(const struct slo_objective *o, uint64_t v)
{
	return o->strict ? v < o->threshold_ns : v <= o->threshold_ns;
}

static void eval_latency(const struct slo_objective *o, const struct slo_counts *c,
			 struct slo_result *r)
{
	uint64_t good = c->good > c->total ? c->total : c->good, v;
	bool pass = good >= need_good(c->total, o->ratio_ppb);

	r->judged = c->total;
	r->bad = c->total - good;
	r->verdict = pass ? SLO_PASS : SLO_BREACH;
	r->budget_consumed =
		budget(r->bad, (double)(SLO_PPB - o->ratio_ppb) / SLO_PPB * (double)c->total);
	if (!o->percentile) {
		r->unit = SLO_UNIT_RATIO;
		r->target = (double)o->ratio_ppb / SLO_PPB;
		r->observed = c->total ? (double)good / (double)c->total : NAN;
		r->margin = r->observed - r->target;
		return;
	}
	r->unit = SLO_UNIT_MS;
	r->target = ms(o->threshold_ns);
	r->observed = r->margin = NAN;
	if (!c->h || !c->h->count || !c->total)
		return;
	v = hist__percentile(c->h, (double)o->ratio_ppb / (SLO_PPB / 100));
	/* The bucket value may sit on the wrong side of the threshold: the counters decide. */
	if (pass && !bound_ok(o, v))
		v = o->strict ? o->threshold_ns - 1 : o->threshold_ns;
	else if (!pass && bound_ok(o, v))
		v = o->strict ? o->threshold_ns : o->threshold_ns + 1;
	r->observed = ms(v);
	r->margin = r->target - r->observed;
}

static void eval_errors(const struct slo_objective *o, const struct slo_counts *c,
			struct slo_result *r)
{
	uint64_t judged = c->total > c->protected_ ? c->total - c->protected_ : 0;
	u128 lhs = (u128)c->errors * SLO_PPB, rhs = (u128)o->ratio_ppb * judged;

	r->judged = judged;
	r->bad = c->errors;
	r->unit = SLO_UNIT_RATIO;
	r->verdict = (o->strict ? lhs < rhs : lhs <= rhs) ? SLO_PASS : SLO_BREACH;
	r->target = (double)o->ratio_ppb / SLO_PPB;
	r->observed = judged ? (double)c->errors / (double)judged : 0.0;
	r->margin = r->target - r->observed;
	r->budget_consumed = budget(c->errors, r->target * (double)judged);
}

/* hits * 1e9 >= floor * keys read: exactly 90 % meets ge 90 %, in integers. */
static void eval_hit_ratio(const struct slo_objective *o, const struct slo_counts *c,
			   struct slo_result *r)
{
	uint64_t hits = c->good > c->total ? c->total : c->good;
	u128 lhs = (u128)hits * SLO_PPB, rhs = (u128)o->ratio_ppb * c->total;

	r->judged = c->total;
	r->bad = c->total - hits;
	r->unit = SLO_UNIT_RATIO;
	r->verdict = (o->strict ? lhs > rhs : lhs >= rhs) ? SLO_PASS : SLO_BREACH;
	r->target = (double)o->ratio_ppb / SLO_PPB;
	r->observed = c->total ? (double)hits / (double)c->total : NAN;
	r->margin = r->observed - r->target;
	/* Misses are its bad events: the floor allows (1 - floor) of the keys read. */
	r->budget_consumed =
		budget(r->bad, (double)(SLO_PPB - o->ratio_ppb) / SLO_PPB * (double)c->total);
}

static void eval_stat(const struct slo_objective *o, const struct slo_counts *c,
		      struct slo_result *r)
{
	uint64_t v = o->kind == SLO_OBJ_MIN ? c->min_ns : c->max_ns;
	bool pass;

	r->judged = c->total;
	r->unit = SLO_UNIT_MS;
	r->target = ms(o->threshold_ns);
	if (o->kind == SLO_OBJ_AVG) {
		u128 sum = c->sum_ns, lim = (u128)o->threshold_ns * c->total;

		pass = o->strict ? sum < lim : sum <= lim;
		r->observed = c->total ? (double)c->sum_ns / (double)c->total / 1e6 : NAN;
	} else {
		pass = bound_ok(o, v);
		r->observed = c->total ? ms(v) : NAN;
	}
	r->verdict = pass ? SLO_PASS : SLO_BREACH;
	r->margin = r->target - r->observed;
}

void slo__eval(const struct slo_objective *o, const struct slo_counts *c, struct slo_result *r)
{
	uint64_t min = o->slo ? o->slo->min_samples : 1;

	memset(r, 0, sizeof(*r));
	r->approximate = c->approximate;
	r->protected_ = c->protected_;
	r->budget_consumed = NAN;
	switch (o->kind) {
	case SLO_OBJ_LATENCY:
		eval_latency(o, c, r);
		break;
	case SLO_OBJ_ERRORS:
		eval_errors(o, c, r);
		break;
	case SLO_OBJ_HIT_RATIO:
		eval_hit_ratio(o, c, r);
		break;
	case SLO_OBJ_AVG:
	case SLO_OBJ_MIN:
	case SLO_OBJ_MAX:
		eval_stat(o, c, r);
		break;
	case SLO_OBJ_COUNT:
		/* A count is its own minimum: never "insufficient". */
		r->judged = c->total;
		r->unit = SLO_UNIT_COUNT;
		r->observed = (double)c->total;
		r->target = (double)o->count;
		r->margin = r->observed - r->target;
		r->verdict = (o->strict ? c->total > o->count : c->total >= o->count) ? SLO_PASS
										      : SLO_BREACH;
		return;
	}
	if (!r->judged || r->judged < min)
		r->verdict = SLO_INSUFFICIENT;
}

const char *slo__verdict_str(enum slo_verdict v)
{
	switch (v) {
	case SLO_PASS:
		return "pass";
	case SLO_BREACH:
		return "breach";
	case SLO_INSUFFICIENT:
		return "insufficient data";
	}
	return "?";
}

const char *slo__verdict_key(enum slo_verdict v)
{
	return v == SLO_PASS ? "pass" : v == SLO_BREACH ? "breach" : "insufficient_data";
}

const char *slo__unit_name(enum slo_unit u)
{
	return u == SLO_UNIT_MS ? "ms" : u == SLO_UNIT_RATIO ? "ratio" : "count";
}
