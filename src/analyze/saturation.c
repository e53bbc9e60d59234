// SPDX-License-Identifier: GPL-2.0-only
#include <math.h>

#include "analyze/saturation.h"

void saturation__default_opts(struct sat_opts *o)
{
	o->window = 3;
	o->flat = 0.05;
	o->ramp = 0.5;
	o->rise = 0.2;
	o->min_count = 5;
	o->wait_min = 1.0;
	o->wait_share = 0.25;
}

static bool usable(const struct sat_point *p, const struct sat_opts *o)
{
	return p->count >= o->min_count && isfinite(p->p95) && isfinite(p->rate);
}

/* Index of the n-th usable point after i, or -1. */
static int next_usable(const struct sat_point *p, unsigned n, unsigned i, unsigned nth,
		       const struct sat_opts *o)
{
	for (unsigned k = i + 1; k < n; k++) {
		if (!usable(&p[k], o))
			continue;
		if (!--nth)
			return (int)k;
	}
	return -1;
}

static bool find_by_ramp(const struct sat_point *p, unsigned n, const struct sat_opts *o,
			 struct sat_result *res);

/* Interval k is the saturation point, confirmed at end. */
static bool found(const struct sat_point *p, unsigned k, unsigned end, bool by_wait,
		  struct sat_result *res)
{
	res->index = k;
	res->by_wait = by_wait;
	res->t = p[k].t;
	res->rate = p[k].rate;
	res->p95 = p[k].p95;
	res->end = end;
	res->t_end = p[end].t;
	res->p95_end = p[end].p95;
	return true;
}

static bool queued(const struct sat_point *p, const struct sat_opts *o)
{
	return isfinite(p->wait) && p->wait >= o->wait_min && p->wait >= o->wait_share * p->p95;
}

static bool find_by_wait(const struct sat_point *p, unsigned n, const struct sat_opts *o,
			 struct sat_result *res)
{
	unsigned w = o->window ? o->window : 1;

	for (unsigned k = 0; k < n; k++) {
		bool all = true;
		int end;

		if (!usable(&p[k], o) || !queued(&p[k], o))
			continue;
		end = next_usable(p, n, k, w, o);
		if (end < 0)
			return false;
		for (unsigned j = k + 1; j <= (unsigned)end && all; j++)
			all = !usable(&p[j], o) || queued(&p[j], o);
		if (!all)
			continue;
		return found(p, k, (unsigned)end, true, res);
	}
	return false;
}

bool saturation__find(const struct sat_point *p, unsigned n, const struct sat_opts *o,
		      struct sat_result *res)
{
	res->by_wait = false;
	if (find_by_ramp(p, n, o, res))
		return true;
	return find_by_wait(p, n, o, res);
}

static bool find_by_ramp(const struct sat_point *p, unsigned n, const struct sat_opts *o,
			 struct sat_result *res)
{
	double first = NAN, peak = 0;
	unsigned w = o->window ? o->window : 1;

	for (unsigned k = 0; k < n; k++) {
		bool plateau = true;
		int end;

		if (!usable(&p[k], o))
			continue;
		if (isnan(first))
			first = p[k].rate;
		if (p[k].rate > peak)
			peak = p[k].rate;
		if (p[k].rate < peak * (1 - o->flat) || peak < first * (1 + o->ramp))
			continue;
		end = next_usable(p, n, k, w, o);
		if (end < 0)
			break;
		for (unsigned j = k + 1; j <= (unsigned)end && plateau; j++) {
			if (!usable(&p[j], o))
				continue;
			plateau = p[j].rate <= peak * (1 + o->flat) && p[j].p95 >= p[k].p95;
		}
		if (!plateau || p[end].p95 < p[k].p95 * (1 + o->rise))
			continue;
		return found(p, k, (unsigned)end, false, res);
	}
	return false;
}

const char *const sat_signal_names[SAT_NR] = {
	[SAT_DROPS] = "listen-queue drops",
	[SAT_RETRANS] = "retransmits",
	[SAT_KNEE] = "latency knee",
};

unsigned saturation__order(const double first[SAT_NR], enum sat_signal order[SAT_NR])
{
	unsigned n = 0;

	for (int i = 0; i < SAT_NR; i++) {
		unsigned k;

		if (isnan(first[i]))
			continue;
		/* Insertion: after every signal seen at the same time or earlier. */
		for (k = n; k > 0 && first[order[k - 1]] > first[i]; k--)
			order[k] = order[k - 1];
		order[k] = i;
		n++;
	}
	return n;
}

double saturation__first_t(const double *t, const uint64_t *c, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (c[i])
			return t[i];
	return NAN;
}
