// SPDX-License-Identifier: GPL-2.0-only
/*
 * Exemplars of merged runs: per merged endpoint the MERGE_SLOWEST slowest requests of all
 * inputs, and of their typical requests the one nearest the merged p50 and the one nearest the
 * merged p95. Times move to the merged run's start.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "analyze/merge_priv.h"
#include "run/runfile.h"

#define MERGE_SLOWEST 5 /* as record/exemplar.h keeps per endpoint */

struct cand {
	const struct run_exemplar *e;
	const struct run *in;
};

static int copy_span(struct run *out, struct run_span *d, const struct run_span *s)
{
	*d = *s;
	d->attribution = run__strdup(out, s->attribution);
	d->query_id = run__strdup(out, s->query_id);
	d->cache_id = run__strdup(out, s->cache_id);
	d->verb = run__strdup(out, s->verb);
	d->key = run__strdup(out, s->key);
	d->destination = run__strdup(out, s->destination);
	d->method = run__strdup(out, s->method);
	d->route = run__strdup(out, s->route);
	if (!d->attribution || (s->query_id && !d->query_id) || (s->cache_id && !d->cache_id) ||
	    (s->verb && !d->verb) || (s->key && !d->key) || (s->destination && !d->destination) ||
	    (s->method && !d->method) || (s->route && !d->route))
		return -ENOMEM;
	return 0;
}

static int add(struct run *out, int k, const struct cand *c, const char *pick)
{
	struct run_exemplar *d = &out->exemplars[out->nexemplars];
	const struct run_exemplar *s = c->e;
	const struct run_endpoint *ep = &out->eps[k];
	int err = 0;

	*d = *s;
	d->service = ep->service;
	d->method = ep->method;
	d->route = ep->route;
	d->ep = k;
	d->pick = pick;
	d->attribution = run__strdup(out, s->attribution);
	d->t_s = s->t_s + (c->in->start_ms - out->start_ms) / 1e3;
	d->spans = run__alloc(out, (s->nspans + 1) * sizeof(*d->spans));
	if (!d->spans || !d->attribution)
		return -ENOMEM;
	for (unsigned i = 0; i < s->nspans && !err; i++)
		err = copy_span(out, &d->spans[i], &s->spans[i]);
	out->nexemplars++;
	return err;
}

static bool same_ep(const struct run_exemplar *e, const struct run_endpoint *ep)
{
	return !strcmp(e->service, ep->service) && !strcmp(e->method, ep->method) &&
	       !strcmp(e->route, ep->route);
}

/* The typical candidate nearest q ms not already chosen; NULL: none. */
static const struct cand *nearest(const struct cand *c, unsigned n, double q,
				  const struct cand *const *taken, unsigned ntaken)
{
	const struct cand *best = NULL;

	for (unsigned i = 0; i < n; i++) {
		bool used = false;

		if (!strcmp(c[i].e->pick, "slowest"))
			continue;
		for (unsigned t = 0; t < ntaken && !used; t++)
			used = taken[t]->e == c[i].e;
		if (!used &&
		    (!best || fabs(c[i].e->latency_ms - q) < fabs(best->e->latency_ms - q)))
			best = &c[i];
	}
	return best;
}

static int merge_ep(struct run *out, int k, const struct run *const *in, unsigned n, struct cand *c)
{
	const struct run_endpoint *ep = &out->eps[k];
	const struct cand *taken[MERGE_SLOWEST + 2];
	unsigned nc = 0, nt = 0;
	int err = 0;

	for (unsigned i = 0; i < n; i++)
		for (unsigned j = 0; j < in[i]->nexemplars; j++)
			if (same_ep(&in[i]->exemplars[j], ep))
				c[nc++] = (struct cand){ &in[i]->exemplars[j], in[i] };
	/* The slowest: a selection, stable (inputs' order) among equal latencies. */
	for (unsigned s = 0; s < MERGE_SLOWEST && !err; s++) {
		const struct cand *best = NULL;

		for (unsigned i = 0; i < nc; i++) {
			bool used = false;

			if (strcmp(c[i].e->pick, "slowest"))
				continue;
			for (unsigned t = 0; t < nt && !used; t++)
				used = taken[t] == &c[i];
			if (!used && (!best || c[i].e->latency_ms > best->e->latency_ms))
				best = &c[i];
		}
		if (!best)
			break;
		taken[nt++] = best;
		err = add(out, k, best, "slowest");
	}
	for (int q = 0; q < 2 && !err && ep->hist; q++) {
		double v = hist_sparse__percentile(ep->hist, q ? 95 : 50) / 1e6;
		const struct cand *t = nearest(c, nc, v, taken, nt);

		if (t) {
			taken[nt++] = t;
			err = add(out, k, t, q ? "p95" : "p50");
		}
	}
	return err;
}

int merge__exemplars(struct run *out, const struct run *const *in, unsigned n)
{
	const struct run_counts *st[n];
	unsigned total = 0, m = 0;
	struct cand *c;
	int err = 0;

	for (unsigned i = 0; i < n; i++) {
		if (!in[i]->has_exemplars)
			continue;
		st[m++] = &in[i]->exemplar_stats;
		total += in[i]->nexemplars;
	}
	if (!m)
		return 0;
	out->has_exemplars = true;
	out->exemplars = run__alloc(out, (total + 1) * sizeof(*out->exemplars));
	c = run__alloc(out, (total + 1) * sizeof(*c));
	if (!out->exemplars || !c)
		return -ENOMEM;
	for (unsigned k = 0; k < out->neps && !err; k++)
		err = merge_ep(out, (int)k, in, n, c);
	return err ? err : merge__counts(out, &out->exemplar_stats, st, m, NULL);
}
