// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/diff.h"

void diff__default_rule(struct diff_rule *r)
{
	/* One assignment: the labels (none) too. */
	*r = (struct diff_rule){ .rel = 0.05,
				 .lat_floor_ms = 1.0,
				 .db_floor_ms = 0.1,
				 .err_floor = 0.001,
				 .qpr_floor = 0.5,
				 .rate_floor = 0.1,
				 .min_samples = 20,
				 .alpha = 0.05 };
}

double diff__threshold(const struct diff_rule *r, enum diff_metric m, double before)
{
	double floor;

	switch (m) {
	case DIFF_LATENCY:
		floor = r->lat_floor_ms;
		break;
	case DIFF_DB_LATENCY:
	case DIFF_DB_TIME:
		floor = r->db_floor_ms;
		break;
	case DIFF_ERROR_RATE:
		floor = r->err_floor;
		break;
	case DIFF_QPR:
		floor = r->qpr_floor;
		break;
	default:
		floor = r->rate_floor;
		break;
	}
	return fmax(r->rel * fabs(before), floor);
}

double diff__rate_p_value(double before, double after, uint64_t n_before, uint64_t n_after)
{
	/* The counts behind the rates; the pooled rate is what both would be without a change. */
	double x = round(before * (double)n_before), y = round(after * (double)n_after);
	double nb = (double)n_before, na = (double)n_after, pool, se;

	if (!n_before || !n_after)
		return 1;
	pool = (x + y) / (nb + na);
	se = sqrt(pool * (1 - pool) * (1 / nb + 1 / na));
	if (!(se > 0))
		return x / nb == y / na ? 1 : 0;
	return erfc(fabs(y / na - x / nb) / se / M_SQRT2);
}

enum diff_class diff__classify(const struct diff_rule *r, enum diff_metric m, double before,
			       double after, uint64_t n_before, uint64_t n_after)
{
	double d = after - before;

	if (n_before < r->min_samples || n_after < r->min_samples || isnan(before) || isnan(after))
		return DIFF_FEW_SAMPLES;
	if (fabs(d) <= diff__threshold(r, m, before))
		return DIFF_UNCHANGED;
	if (m == DIFF_ERROR_RATE && r->alpha > 0 &&
	    diff__rate_p_value(before, after, n_before, n_after) >= r->alpha)
		return DIFF_UNCHANGED;
	if (m == DIFF_RATE)
		d = -d;
	return d < 0 ? DIFF_IMPROVED : DIFF_REGRESSED;
}

enum diff_class diff__overall(const enum diff_class *c, unsigned n)
{
	bool improved = false, judged = false;

	for (unsigned i = 0; i < n; i++) {
		if (c[i] == DIFF_REGRESSED)
			return DIFF_REGRESSED;
		improved |= c[i] == DIFF_IMPROVED;
		judged |= c[i] != DIFF_FEW_SAMPLES;
	}
	if (improved)
		return DIFF_IMPROVED;
	return judged || !n ? DIFF_UNCHANGED : DIFF_FEW_SAMPLES;
}

const char *diff__class_name(enum diff_class c)
{
	switch (c) {
	case DIFF_IMPROVED:
		return "improved";
	case DIFF_REGRESSED:
		return "regressed";
	case DIFF_FEW_SAMPLES:
		return "few samples";
	default:
		return "unchanged";
	}
}

static bool same_ep(const struct run_endpoint *x, const struct run_endpoint *y, bool service)
{
	return (!service || !strcmp(x->service, y->service)) && !strcmp(x->method, y->method) &&
	       !strcmp(x->route, y->route);
}

/* Unpaired endpoints of r with x's method and route, other than skip. */
static unsigned count_unpaired(const struct run *r, const bool *paired,
			       const struct run_endpoint *x, unsigned *last)
{
	unsigned n = 0;

	for (unsigned i = 0; i < r->neps; i++) {
		if (paired[i] || !same_ep(&r->eps[i], x, false))
			continue;
		n++;
		*last = i;
	}
	return n;
}

int diff__match_endpoints(const struct run *a, const struct run *b, int *b_of_a)
{
	bool *pa = calloc(a->neps + 1, sizeof(*pa)), *pb = calloc(b->neps + 1, sizeof(*pb));
	unsigned ia, ib;
	int n = 0;

	if (!pa || !pb) {
		free(pa);
		free(pb);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < a->neps; i++) {
		b_of_a[i] = -1;
		for (unsigned k = 0; k < b->neps; k++) {
			if (pb[k] || !same_ep(&a->eps[i], &b->eps[k], true))
				continue;
			b_of_a[i] = (int)k;
			pa[i] = pb[k] = true;
			n++;
			break;
		}
	}
	for (unsigned i = 0; i < a->neps; i++) {
		if (pa[i])
			continue;
		if (count_unpaired(a, pa, &a->eps[i], &ia) != 1 ||
		    count_unpaired(b, pb, &a->eps[i], &ib) != 1)
			continue;
		b_of_a[i] = (int)ib;
		pa[i] = pb[ib] = true;
		n++;
	}
	free(pa);
	free(pb);
	return n;
}

/*
 * Pairs rows i of a with rows k of b that same() finds equal, each of b once, in a's order;
 * b_of_a[i] = k or -1. Returns the pairs, or -ENOMEM.
 */
static int match_rows(const struct run *a, unsigned na, const struct run *b, unsigned nb,
		      bool (*same)(const struct run *a, unsigned i, const struct run *b,
				   unsigned k),
		      int *b_of_a)
{
	bool *pb = calloc(nb + 1, sizeof(*pb));
	int n = 0;

	if (!pb)
		return -ENOMEM;
	for (unsigned i = 0; i < na; i++) {
		b_of_a[i] = -1;
		for (unsigned k = 0; k < nb; k++) {
			if (pb[k] || !same(a, i, b, k))
				continue;
			b_of_a[i] = (int)k;
			pb[k] = true;
			n++;
			break;
		}
	}
	free(pb);
	return n;
}

static bool same_query(const struct run *a, unsigned i, const struct run *b, unsigned k)
{
	return !strcmp(a->dbqs[i].system, b->dbqs[k].system) &&
	       !strcmp(a->dbqs[i].query, b->dbqs[k].query);
}

int diff__match_queries(const struct run *a, const struct run *b, int *b_of_a)
{
	return match_rows(a, a->ndbqs, b, b->ndbqs, same_query, b_of_a);
}

static const char *out_dest(const struct run_out_call *c)
{
	return c->host[0] ? c->host : c->peer;
}

static bool same_out(const struct run *a, unsigned i, const struct run *b, unsigned k)
{
	const struct run_out_call *x = &a->outs[i], *y = &b->outs[k];

	return !strcmp(x->caller, y->caller) && !strcmp(out_dest(x), out_dest(y)) &&
	       !strcmp(x->method, y->method) && !strcmp(x->route, y->route);
}

int diff__match_outbound(const struct run *a, const struct run *b, int *b_of_a)
{
	return match_rows(a, a->nouts, b, b->nouts, same_out, b_of_a);
}

static bool same_str(const char *a, const char *b)
{
	return !a || !b || !strcmp(a, b);
}

static double pctl(const struct hist_sparse *h, double q)
{
	return h->count ? hist_sparse__percentile(h, q) / 1e6 : NAN;
}

static double ratio(uint64_t part, uint64_t n)
{
	return n ? (double)part / n : NAN;
}

static struct diff_value value(const struct diff_rule *r, const char *name, enum diff_show show,
			       bool judged, enum diff_metric dm, double before, double after,
			       uint64_t nb, uint64_t na)
{
	return (struct diff_value){
		.name = name,
		.show = show,
		.judged = judged,
		.dm = dm,
		.before = before,
		.after = after,
		.nb = nb,
		.na = na,
		.cls = judged ? diff__classify(r, dm, before, after, nb, na) : DIFF_UNCHANGED,
	};
}

/* p50, p95 and p99 of two latency histograms of nx and ny samples, judged by metric m. */
static unsigned percentiles(const struct diff_rule *r, enum diff_metric m,
			    const struct hist_sparse *x, const struct hist_sparse *y, uint64_t nx,
			    uint64_t ny, struct diff_value *v)
{
	static const char *const name[] = { "p50 ms", "p95 ms", "p99 ms" };
	static const double p[] = { 50, 95, 99 };

	for (unsigned i = 0; i < 3; i++)
		v[i] = value(r, name[i], DIFF_SHOW_MS, true, m, pctl(x, p[i]), pctl(y, p[i]), nx,
			     ny);
	return 3;
}

unsigned diff__endpoint(const struct diff_rule *r, const struct run_endpoint *x,
			const struct run_endpoint *y, struct diff_value *v)
{
	uint64_t nx = x->count, ny = y->count;
	unsigned n = 0;

	v[n++] = value(r, "requests", DIFF_SHOW_COUNT, false, 0, nx, ny, nx, ny);
	v[n++] = value(r, "rate/s", DIFF_SHOW_RATE, true, DIFF_RATE, x->rate_per_s, y->rate_per_s,
		       nx, ny);
	n += percentiles(r, DIFF_LATENCY, x->hist, y->hist, nx, ny, v + n);
	v[n++] = value(r, "5xx rate", DIFF_SHOW_RATIO, true, DIFF_ERROR_RATE, ratio(x->err5xx, nx),
		       ratio(y->err5xx, ny), nx, ny);
	/* Endpoints without a query on either side: no DB rows. */
	if (x->has_db && y->has_db &&
	    (x->db.queries_per_request > 0 || y->db.queries_per_request > 0)) {
		nx = x->db.requests;
		ny = y->db.requests;
		v[n++] = value(r, "queries/request", DIFF_SHOW_QPR, true, DIFF_QPR,
			       x->db.queries_per_request, y->db.queries_per_request, nx, ny);
		v[n++] = value(r, "DB ms/request", DIFF_SHOW_MS, true, DIFF_DB_TIME,
			       x->db.db_time_ms_per_request, y->db.db_time_ms_per_request, nx, ny);
	}
	return n;
}

/* Failed as the retry logic counts them (http_call__failed): no answer, 429 or 5xx. */
static uint64_t out_failed(const struct run_out_call *c)
{
	uint64_t n = c->err5xx + run__count(&c->status, "429");

	for (unsigned i = 0; i < c->failures.n; i++)
		n += c->failures.v[i].n;
	return n;
}

unsigned diff__out_call(const struct diff_rule *r, const struct run_out_call *x,
			const struct run_out_call *y, struct diff_value *v)
{
	uint64_t nx = x->count, ny = y->count, ax = x->answered, ay = y->answered;
	unsigned n = 0;

	v[n++] = value(r, "calls", DIFF_SHOW_COUNT, false, 0, nx, ny, nx, ny);
	n += percentiles(r, DIFF_LATENCY, x->hist, y->hist, ax, ay, v + n);
	v[n++] = value(r, "failure rate", DIFF_SHOW_RATIO, true, DIFF_ERROR_RATE,
		       ratio(out_failed(x), nx), ratio(out_failed(y), ny), nx, ny);
	v[n++] = value(r, "retries/call", DIFF_SHOW_RATIO, true, DIFF_ERROR_RATE,
		       ratio(x->retries, nx), ratio(y->retries, ny), nx, ny);
	return n;
}

unsigned diff__query(const struct diff_rule *r, const struct run_dbq *x, const struct run_dbq *y,
		     struct diff_value *v)
{
	uint64_t nx = x->count, ny = y->count;
	unsigned n = 0;

	v[n++] = value(r, "calls", DIFF_SHOW_COUNT, false, 0, nx, ny, nx, ny);
	v[n++] = value(r, "rate/s", DIFF_SHOW_RATE, true, DIFF_RATE, x->rate_per_s, y->rate_per_s,
		       nx, ny);
	n += percentiles(r, DIFF_DB_LATENCY, x->hist, y->hist, nx, ny, v + n);
	v[n++] = value(r, "error rate", DIFF_SHOW_RATIO, true, DIFF_ERROR_RATE,
		       ratio(x->errors, nx), ratio(y->errors, ny), nx, ny);
	v[n++] = value(r, "total ms", DIFF_SHOW_MS, false, 0, x->hist->sum / 1e6,
		       y->hist->sum / 1e6, nx, ny);
	return n;
}

enum diff_class diff__values_overall(const struct diff_value *v, unsigned n)
{
	enum diff_class c[DIFF_VALUES_MAX];
	unsigned k = 0;

	for (unsigned i = 0; i < n && k < DIFF_VALUES_MAX; i++)
		if (v[i].judged && v[i].dm != DIFF_RATE)
			c[k++] = v[i].cls;
	return diff__overall(c, k);
}

const struct run_slo *diff__find_slo(const struct run *r, const struct run_slo *s)
{
	for (unsigned i = 0; i < r->nslo; i++)
		if (!strcmp(r->slo[i].name, s->name) &&
		    !strcmp(r->slo[i].objective, s->objective) &&
		    same_str(r->slo[i].target, s->target))
			return &r->slo[i];
	return NULL;
}
