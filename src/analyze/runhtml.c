// SPDX-License-Identifier: GPL-2.0-only
/*
 * `report --format html`: one self-contained page (html.h) with inline SVG charts (svg.h). The
 * overview first (runhtml_overview.c), then everything the text report has, drawn where a
 * picture says more: SLO verdicts, the endpoints (breaching first) with their histogram, CDF,
 * p95/p99 and errors over time and status codes, DB work per endpoint, saturation, tcp, DB
 * hotspots over time and their flags, cache, outbound, recommendations. Tables are the text
 * renderer's cells (runreport*.c) wherever it has them. The diff is runhtml_diff.c.
 */
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "analyze/html.h"
#include "analyze/runhtml.h"
#include "analyze/runreport.h"
#include "analyze/svg.h"
#include "lib/units.h"
#include "run/slo.h"

#define DB_SERIES     4 /* queries drawn over time, most DB time first */
#define PARTIAL_SHARE 0.95

const char *runhtml__verdict_class(const char *v)
{
	if (!strcmp(v, "pass"))
		return "pass";
	if (!strcmp(v, "breach"))
		return "breach";
	return "insufficient";
}

double runhtml__span(const struct run *r, const struct run_tpoint *p, unsigned k)
{
	double iv = r->timeline.interval_s;

	if (k)
		return p[k].t - p[k - 1].t;
	return p[0].t > 0 && (!(iv > 0) || p[0].t < iv) ? p[0].t : iv;
}

bool runhtml__partial(const struct run *r, const struct run_tpoint *p, unsigned n, unsigned k)
{
	double iv = r->timeline.interval_s;

	/* The recorder ends the run with whatever was left of an interval (session__finish). */
	return n >= 2 && k == n - 1 && iv > 0 && p[k].t - p[k - 1].t < PARTIAL_SHARE * iv;
}

struct svg_tpoint *runhtml__tpoints(const struct run *r, const struct run_series *s,
				    double *partial_s)
{
	struct svg_tpoint *p = calloc(s->n + 1, sizeof(*p));
	uint64_t min95 = svg__min_samples(95), min99 = svg__min_samples(99);

	*partial_s = NAN;
	for (unsigned k = 0; p && k < s->n; k++) {
		const struct run_tpoint *x = &s->p[k];

		p[k].t_s = x->t;
		p[k].p95_ms = x->count >= min95 ? x->p95 : NAN;
		p[k].p99_ms = x->count >= min99 ? x->p99 : NAN;
		p[k].rate = x->rate_per_s;
		if (runhtml__partial(r, s->p, s->n, k)) {
			*partial_s = x->t - s->p[k - 1].t;
			p[k].p95_ms = p[k].p99_ms = p[k].rate = NAN;
		}
	}
	return p;
}

bool runhtml__drawable(const struct svg_tpoint *p, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (isfinite(p[k].p95_ms) || isfinite(p[k].p99_ms))
			return true;
	return false;
}

bool runhtml__series_drawable(const struct svg_series *s, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (runhtml__drawable(s[k].points, s[k].n))
			return true;
	return false;
}

const char *runhtml__undrawn(double partial_s, char *buf, size_t sz)
{
	size_t n = snprintf(buf, sz,
			    "Percentiles per interval not drawn: no interval had %llu requests "
			    "or more",
			    (unsigned long long)svg__min_samples(95));

	if (isfinite(partial_s) && n < sz)
		snprintf(buf + n, sz - n,
			 " (the last, %.1f s long, is left out: the end of the "
			 "run cut it short)",
			 partial_s);
	return buf;
}

const char *runhtml__rules(double partial_s, char *buf, size_t sz)
{
	size_t n = snprintf(buf, sz,
			    "p95 drawn for intervals of >= %llu requests, p99 for >= %llu "
			    "(fewer: a gap)",
			    (unsigned long long)svg__min_samples(95),
			    (unsigned long long)svg__min_samples(99));

	if (isfinite(partial_s) && n < sz)
		snprintf(buf + n, sz - n,
			 "; the last interval (%.1f s, cut short by the end of "
			 "the run) is left out",
			 partial_s);
	return buf;
}

const struct run_series *runhtml__series_of(const struct run *r, const struct run_endpoint *e)
{
	for (unsigned i = 0; r->has_timeline && i < r->timeline.nhttp; i++) {
		const struct run_series *s = &r->timeline.http[i];

		if (!strcmp(s->method, e->method) && !strcmp(s->route, e->route) &&
		    (!s->service || !strcmp(s->service, e->service)))
			return s;
	}
	return NULL;
}

int runhtml__endpoint_index(const struct run *r, const char *name)
{
	char buf[600];

	for (unsigned i = 0; name && i < r->neps; i++)
		if (!strcmp(run__endpoint_name(&r->eps[i], buf, sizeof(buf)), name))
			return (int)i;
	return -1;
}

bool runhtml__slo_targets(const struct run_slo *s, const struct run_endpoint *e)
{
	char m[32];
	const char *t = s->target, *route;
	size_t n;

	/* "http GET /items/{id}", "http GET /admin*": the method, then a route pattern. */
	if (!t || strncmp(t, "http ", 5))
		return false;
	t += 5;
	route = strchr(t, ' ');
	if (!route || (n = (size_t)(route - t)) >= sizeof(m))
		return false;
	memcpy(m, t, n);
	m[n] = '\0';
	route++;
	if (strcmp(m, "*") && strcmp(m, e->method))
		return false;
	if (s->service && e->service && strcmp(s->service, e->service))
		return false;
	return !strcmp(route, e->route) || !fnmatch(route, e->route, 0);
}

bool runhtml__endpoint_breached(const struct run *r, const struct run_endpoint *e)
{
	for (unsigned i = 0; i < r->nslo; i++)
		if (!strcmp(r->slo[i].verdict, "breach") && runhtml__slo_targets(&r->slo[i], e))
			return true;
	return false;
}

unsigned *runhtml__endpoint_order(const struct run *r)
{
	unsigned *o = calloc(r->neps + 1, sizeof(*o)), n = 0;

	for (int pass = 0; o && pass < 2; pass++)
		for (unsigned i = 0; i < r->neps; i++)
			if (runhtml__endpoint_breached(r, &r->eps[i]) == !pass)
				o[n++] = i;
	return o;
}

void runhtml__table(FILE *f, const char *caption, struct table *t, const char *const *titles,
		    const char *align, int cut_col, const char *row_id)
{
	char cut[RUNHTML_QUERY_CUT * 4 + 8], id[48];
	const char *cells[TABLE_MAX_COLS], *tips[TABLE_MAX_COLS] = { 0 };
	struct html_row row = { .cells = cells, .titles = tips, .n = t->ncols, .align = align };

	html__table_begin_aligned(f, caption, titles, t->ncols, align);
	for (unsigned i = 0; i < t->nrows; i++) {
		for (unsigned c = 0; c < t->ncols; c++) {
			size_t k = (size_t)i * t->ncols + c;

			cells[c] = k < t->ncells && t->cells[k] ? t->cells[k] : "";
			tips[c] = NULL;
		}
		if (cut_col >= 0 && (unsigned)cut_col < t->ncols &&
		    html__ellipsize(cells[cut_col], RUNHTML_QUERY_CUT, cut, sizeof(cut))) {
			tips[cut_col] = cells[cut_col];
			cells[cut_col] = cut;
		}
		if (row_id)
			snprintf(id, sizeof(id), "%s%u", row_id, i);
		row.id = row_id ? id : NULL;
		html__row(f, &row);
	}
	html__table_end(f);
	table__free(t);
}

struct svg_bucket *runhtml__buckets(const struct hist_sparse *h, size_t *n)
{
	struct svg_bucket *b = calloc(h->n ? h->n : 1, sizeof(*b));

	*n = 0;
	if (!b)
		return NULL;
	for (uint32_t i = 0; i < h->n; i++) {
		b[*n].lo_ns = hist__bucket_lo(h->idx[i]);
		b[*n].hi_ns = hist__bucket_hi(h->idx[i]);
		b[(*n)++].count = h->counts[i];
	}
	return b;
}

size_t runhtml__slo_marks(const struct run *r, const struct run_endpoint *e, struct svg_mark *m,
			  char (*labels)[64], int *pct_of)
{
	size_t n = 0;

	for (unsigned i = 0; i < r->nslo && n < RUNHTML_MARKS; i++) {
		const struct run_slo *s = &r->slo[i];

		if (!runhtml__slo_targets(s, e) || isnan(s->threshold_ms))
			continue;
		m[n].kind = SVG_MARK_SLO;
		m[n].ms = s->threshold_ms;
		m[n].pct = !isnan(s->percentile)     ? s->percentile
			   : !isnan(s->target_ratio) ? s->target_ratio * 100
						     : NAN;
		snprintf(labels[n], 64, "%s", s->objective);
		m[n].label = labels[n];
		pct_of[n] = isnan(s->percentile) ? 0 : (int)s->percentile;
		n++;
	}
	return n;
}

/* Breach spans of p against the p95/p99 marks; caller frees; NULL on ENOMEM. */
static struct svg_span *spans_of(const struct run *r, const struct svg_tpoint *p, size_t n,
				 const struct svg_mark *marks, const int *pct_of, size_t nmarks,
				 size_t *nspans)
{
	/* At most one span per point and mark (points apart in time are not merged). */
	struct svg_span *spans = calloc(nmarks * n + 1, sizeof(*spans));

	*nspans = 0;
	for (size_t i = 0; spans && i < nmarks; i++)
		if (pct_of[i] == 95 || pct_of[i] == 99)
			*nspans += svg__breach_spans(p, n, r->timeline.interval_s, pct_of[i],
						     marks[i].ms, spans + *nspans, n);
	return spans;
}

static int timeline_chart(FILE *f, const struct run *r, const struct run_series *s,
			  const struct svg_mark *marks, const int *pct_of, size_t nmarks)
{
	double partial;
	struct svg_tpoint *p = runhtml__tpoints(r, s, &partial);
	size_t nspans = 0;
	struct svg_span *spans = p ? spans_of(r, p, s->n, marks, pct_of, nmarks, &nspans) : NULL;
	struct svg_series ser = { .name = NULL, .points = p, .n = s->n };
	char cap[400], rules[300];
	int err;

	if (!p || !spans) {
		free(p);
		free(spans);
		return -ENOMEM;
	}
	if (!runhtml__drawable(p, s->n)) {
		html__p(f, "muted", runhtml__undrawn(partial, rules, sizeof(rules)));
		free(spans);
		free(p);
		return 0;
	}
	html__figure_begin(f);
	err = svg__timeline(f, "p95 and p99 per interval", &ser, 1, marks, nmarks, spans, nspans,
			    true);
	snprintf(cap, sizeof(cap),
		 "solid: p95, dashed: p99, shaded: intervals over an SLO "
		 "threshold; %s",
		 runhtml__rules(partial, rules, sizeof(rules)));
	html__figure_end(f, cap);
	free(spans);
	free(p);
	return err;
}

static const char *const status_names[] = { "2xx/3xx", "4xx", "5xx" };
static const char *const status_colors[] = { "#4a7fbf", "#e0a000", "#c62828" };

/* Requests of a series by status class per interval, as rates; caller frees. */
static struct svg_stack_point *status_points(const struct run *r, const struct run_series *s)
{
	struct svg_stack_point *p = calloc(s->n + 1, sizeof(*p));

	for (unsigned k = 0; p && k < s->n; k++) {
		const struct run_tpoint *x = &s->p[k];
		double span = runhtml__span(r, s->p, k);
		uint64_t err = x->e4xx + x->e5xx;

		p[k].t_s = x->t;
		p[k].span_s = span;
		p[k].partial = runhtml__partial(r, s->p, s->n, k);
		if (!(span > 0))
			continue;
		p[k].v[0] = (double)(x->count > err ? x->count - err : 0) / span;
		p[k].v[1] = (double)x->e4xx / span;
		p[k].v[2] = (double)x->e5xx / span;
	}
	return p;
}

static int errors_chart(FILE *f, const struct run *r, const struct run_series *s)
{
	struct svg_stack_point *p;
	uint64_t errs = 0;
	int err;

	for (unsigned k = 0; k < s->n; k++)
		errs += s->p[k].e4xx + s->p[k].e5xx;
	if (!errs)
		return 0;
	if (!(p = status_points(r, s)))
		return -ENOMEM;
	html__figure_begin(f);
	err = svg__stacked(f, "Requests per second by status class", "requests/s", NULL,
			   status_names, status_colors, 3, p, s->n);
	html__figure_end(f, "per interval: answered 2xx/3xx, 4xx and 5xx");
	free(p);
	return err;
}

/* "1200 requests, p50 12.1 / p95 40.3 / p99 88 ms, 3 4xx, 0 5xx; 21.0 queries per request" */
static void endpoint_line(FILE *f, const struct run_endpoint *e)
{
	char a[32], b[32], c[32], line[400];
	size_t n;

	n = snprintf(line, sizeof(line),
		     "%llu requests, p50 %s / p95 %s / p99 %s ms, %llu 4xx, "
		     "%llu 5xx",
		     (unsigned long long)e->count,
		     units__ms(hist_sparse__percentile(e->hist, 50) / 1e6, a, sizeof(a)),
		     units__ms(hist_sparse__percentile(e->hist, 95) / 1e6, b, sizeof(b)),
		     units__ms(hist_sparse__percentile(e->hist, 99) / 1e6, c, sizeof(c)),
		     (unsigned long long)e->err4xx, (unsigned long long)e->err5xx);
	if (e->has_db && e->db.requests && e->db.queries_per_request > 0 && n < sizeof(line))
		snprintf(line + n, sizeof(line) - n, "; %.1f queries and %s DB ms per request",
			 e->db.queries_per_request,
			 units__ms(e->db.db_time_ms_per_request, a, sizeof(a)));
	html__p(f, NULL, line);
}

static int endpoint_charts(FILE *f, const struct run *r, unsigned idx)
{
	const struct run_endpoint *e = &r->eps[idx];
	struct svg_mark marks[RUNHTML_MARKS + 2];
	char labels[RUNHTML_MARKS][64], title[600], id[32];
	int pct_of[RUNHTML_MARKS + 2] = { 0 };
	size_t nb, nm = runhtml__slo_marks(r, e, marks, labels, pct_of);
	struct svg_bucket *b = runhtml__buckets(e->hist, &nb);
	const struct run_series *s = runhtml__series_of(r, e);
	bool breached = runhtml__endpoint_breached(r, e);
	struct svg_dist d;
	int err;

	if (!b)
		return -ENOMEM;
	run__endpoint_name(e, title, sizeof(title));
	if (breached)
		strncat(title, " (SLO breached)", sizeof(title) - strlen(title) - 1);
	snprintf(id, sizeof(id), "ep-%u", idx);
	html__section_begin(f, 3, title, id);
	endpoint_line(f, e);
	/* The observed p95 and p99 as markers next to the thresholds. */
	marks[nm] = (struct svg_mark){ SVG_MARK_PERCENTILE,
				       hist_sparse__percentile(e->hist, 95) / 1e6, 95, "p95" };
	marks[nm + 1] = (struct svg_mark){ SVG_MARK_PERCENTILE,
					   hist_sparse__percentile(e->hist, 99) / 1e6, 99, "p99" };
	html__figure_begin(f);
	err = svg__histogram(f, "Latency histogram", b, nb, marks, nm);
	html__figure_end(f, "requests per bar, 8 bars per doubling of latency; dashed: SLO "
			    "thresholds");
	d = (struct svg_dist){ .name = NULL, .buckets = b, .n = nb };
	html__figure_begin(f);
	err = err ? err : svg__cdf(f, "Latency CDF", &d, 1, marks, e->hist->count ? nm + 2 : nm);
	html__figure_end(f, "share of requests at or under a latency; dots: observed p95, p99");
	if (!err && s)
		err = timeline_chart(f, r, s, marks, pct_of, nm);
	if (!err && s)
		err = errors_chart(f, r, s);
	html__section_end(f);
	free(b);
	return err;
}

static void scope_section(FILE *f, const struct run *r)
{
	static const char *const head[] = { "Item", "Value" };
	struct analyze_out o = { .fmt = TABLE_TEXT };
	struct table t;

	html__section_begin(f, 2, "Scope", "scope");
	runreport__scope_cells(&o, r, &t);
	runhtml__table(f, NULL, &t, head, "ll", -1, NULL);
	html__section_end(f);
}

static void slo_table(FILE *f, const struct run *r, const char *source,
		      const struct runslo_notes *notes)
{
	unsigned approx = 0;
	char line[300];
	static const char *const head[] = { "Objective",    "Target",  "Scope",
					    "Observed",	    "Margin",  "Budget used",
					    "Good / total", "Verdict", "First breach" };
	static const char align[] = "lllrrrrvr";
	char obs[64], mar[64], bud[48], gt[48], fb[32], cap[300], vd[64];
	char scope[RUNHTML_QUERY_CUT * 4 + 8];

	snprintf(cap, sizeof(cap), "SLO verdicts (%s)", source);
	html__table_begin_aligned(f, cap, head, 9, align);
	for (unsigned i = 0; i < r->nslo; i++) {
		const struct run_slo *s = &r->slo[i];
		const char *cells[9], *tips[9] = { 0 };
		struct html_row row = { .cls = runhtml__verdict_class(s->verdict),
					.cells = cells,
					.titles = tips,
					.n = 9,
					.align = align };

		obs[0] = '~';
		analyze__slo_value(s, s->observed, obs + s->approximate, sizeof(obs) - 1);
		approx += s->approximate;
		analyze__slo_value(s, s->margin, mar, sizeof(mar));
		analyze__budget(s->budget_consumed, bud, sizeof(bud));
		snprintf(gt, sizeof(gt), s->has_counts ? "%llu/%llu" : "-",
			 (unsigned long long)s->good, (unsigned long long)s->total);
		snprintf(fb, sizeof(fb), isnan(s->first_breach_s) ? "-" : "t=%.1f s",
			 s->first_breach_s);
		cells[0] = s->name;
		cells[1] = s->objective;
		/* A DB objective's scope is a fingerprint: cut, whole in the tooltip. */
		cells[2] = s->target ? s->target : "-";
		if (html__ellipsize(cells[2], RUNHTML_QUERY_CUT, scope, sizeof(scope))) {
			tips[2] = cells[2];
			cells[2] = scope;
		}
		cells[3] = obs;
		cells[4] = mar;
		cells[5] = bud;
		cells[6] = gt;
		snprintf(vd, sizeof(vd), "%s%s", analyze__verdict(s->verdict, false),
			 run__incomplete(r) && strcmp(s->verdict, "insufficient_data")
				 ? " (incomplete data)"
				 : "");
		cells[7] = vd;
		cells[8] = fb;
		html__row(f, &row);
	}
	html__table_end(f);
	/* The text report's notes under its table, in its words. */
	if (run__incomplete(r)) {
		snprintf(line, sizeof(line),
			 "(incomplete data): %.3g %% of the run's events were lost (%llu of %llu); "
			 "a "
			 "lost request can hide a breach as well as make one",
			 slo__drop_pct(r->events_dropped, r->events_total),
			 (unsigned long long)r->events_dropped,
			 (unsigned long long)(r->events_total + r->events_dropped));
		html__p(f, "note", line);
	}
	if (approx) {
		snprintf(line, sizeof(line),
			 "~ %u verdict%s counted from histogram buckets (a bucket straddles the "
			 "threshold: up to 0.79 %% of a value off)",
			 approx, approx == 1 ? "" : "s");
		html__p(f, "muted", line);
	}
	if (notes && notes->recorded) {
		snprintf(line, sizeof(line),
			 "%u verdict%s taken from the exact counters recorded with the run",
			 notes->recorded, notes->recorded == 1 ? "" : "s");
		html__p(f, "muted", line);
	}
	if (notes && notes->warmup_ignored)
		html__p(f, "muted",
			"the SLO file's warm-up is not applied: a saved report's histograms cover "
			"the whole window");
}

static void endpoint_table(FILE *f, const struct run *r, const unsigned *order)
{
	static const char *const head[] = { "Endpoint", "Service", "Requests", "Rate/s", "p50 ms",
					    "p95 ms",	"p99 ms",  "max ms",   "4xx",	 "5xx",
					    "5xx rate", "429",	   "409" };
	static const char align[] = "llrrrrrrrrrrr";
	char v[13][300], line[600], extra[512], name[300];

	html__table_begin_aligned(f, "HTTP endpoints (breaching first)", head, 13, align);
	for (unsigned j = 0; j < r->neps; j++) {
		const struct run_endpoint *e = &r->eps[order[j]];
		const char *cells[13];
		struct html_row row = { .cells = cells, .n = 13, .align = align };

		row.cls = runhtml__endpoint_breached(r, e) ? "breach" : NULL;
		run__endpoint_name(e, v[0], sizeof(v[0]));
		snprintf(v[1], sizeof(v[1]), "%s", e->service);
		snprintf(v[2], sizeof(v[2]), "%llu", (unsigned long long)e->count);
		analyze__rate(e->rate_per_s, v[3], sizeof(v[3]));
		units__ms(hist_sparse__percentile(e->hist, 50) / 1e6, v[4], sizeof(v[4]));
		units__ms(hist_sparse__percentile(e->hist, 95) / 1e6, v[5], sizeof(v[5]));
		units__ms(hist_sparse__percentile(e->hist, 99) / 1e6, v[6], sizeof(v[6]));
		units__ms(e->hist->max / 1e6, v[7], sizeof(v[7]));
		snprintf(v[8], sizeof(v[8]), "%llu", (unsigned long long)e->err4xx);
		snprintf(v[9], sizeof(v[9]), "%llu", (unsigned long long)e->err5xx);
		analyze__pct(e->count ? (double)e->err5xx / e->count : 0, v[10], sizeof(v[10]));
		snprintf(v[11], sizeof(v[11]), "%llu", (unsigned long long)run__status(e, 429));
		snprintf(v[12], sizeof(v[12]), "%llu", (unsigned long long)run__status(e, 409));
		for (int k = 0; k < 13; k++)
			cells[k] = v[k];
		html__row(f, &row);
	}
	html__table_end(f);
	/* Requests that never got an answer are not in the percentiles: say so (text report). */
	for (unsigned j = 0; j < r->neps; j++) {
		const struct run_endpoint *e = &r->eps[order[j]];
		size_t n = 0;

		for (unsigned k = 0; k < e->extra.n && n < sizeof(extra); k++) {
			if (!e->extra.v[k].n || !strcmp(e->extra.v[k].key, "pipelined") ||
			    !strcmp(e->extra.v[k].key, "end_inferred"))
				continue;
			n += snprintf(extra + n, sizeof(extra) - n, "%s%llu %s", n ? ", " : "",
				      (unsigned long long)e->extra.v[k].n, e->extra.v[k].key);
		}
		if (!n)
			continue;
		snprintf(line, sizeof(line), "%s (%s): %s",
			 run__endpoint_name(e, name, sizeof(name)), e->service, extra);
		html__p(f, "muted", line);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every status code of every endpoint: one column per code seen anywhere. */
static int status_table(FILE *f, const struct run *r, const unsigned *order)
{
	const char **keys, **head;
	char(*v)[32], name[600], align[TABLE_MAX_COLS + 1];
	unsigned nk = 0, cap = 0;

	for (unsigned i = 0; i < r->neps; i++)
		cap += r->eps[i].status.n;
	keys = calloc(cap + 1, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (unsigned i = 0; i < r->neps; i++)
		for (unsigned k = 0; k < r->eps[i].status.n; k++) {
			const char *key = r->eps[i].status.v[k].key;
			bool seen = false;

			for (unsigned x = 0; x < nk && !seen; x++)
				seen = !strcmp(keys[x], key);
			if (!seen)
				keys[nk++] = key;
		}
	if (!nk) {
		free(keys);
		return 0;
	}
	/* "other" sorts after the digits, where it belongs. */
	qsort(keys, nk, sizeof(*keys), cmp_str);
	head = calloc(nk + 2, sizeof(*head));
	v = calloc(nk + 2, sizeof(*v));
	if (!head || !v) {
		free(keys), free(head), free(v);
		return -ENOMEM;
	}
	head[0] = "Endpoint";
	memcpy(head + 1, keys, nk * sizeof(*keys));
	memset(align, 'r', sizeof(align));
	align[0] = 'l';
	html__table_begin_aligned(f, "Responses by status code", head, nk + 1,
				  nk + 1 <= TABLE_MAX_COLS ? align : NULL);
	for (unsigned j = 0; j < r->neps; j++) {
		const struct run_endpoint *e = &r->eps[order[j]];
		const char **cells = head; /* reused: the header is written */

		cells[0] = run__endpoint_name(e, name, sizeof(name));
		for (unsigned k = 0; k < nk; k++) {
			snprintf(v[k], sizeof(v[k]), "%llu",
				 (unsigned long long)run__count(&e->status, keys[k]));
			cells[k + 1] = v[k];
		}
		html__table_row(f, NULL, cells, nk + 1);
	}
	html__table_end(f);
	free(keys), free(head), free(v);
	return 0;
}

static void db_per_endpoint(FILE *f, const struct run *r)
{
	static const char *const head[] = { "Endpoint", "Requests",	   "Queries / request",
					    "max",	"DB ms / request", "DB share of latency",
					    "Top query" };
	struct analyze_out o = { .fmt = TABLE_TEXT };
	struct table t;

	if (!runreport__db_per_endpoint_cells(&o, r, &t))
		return;
	runhtml__table(f, "Database work per endpoint", &t, head, "lrrrrrl", 6, NULL);
}

/* Cache and outbound calls per request of the endpoints that made them. */
static void deps_table(FILE *f, const struct run *r)
{
	static const char *const head[] = {
		"Endpoint",	   "Cache calls / request",    "Cache ms / request",
		"Cache hit ratio", "Outbound calls / request", "Outbound ms / request",
		"Outbound errors"
	};
	char v[7][300];
	const char *cells[7];
	bool any = false;

	for (unsigned i = 0; i < r->neps; i++)
		any |= r->eps[i].has_dep[RUN_DEP_CACHE] || r->eps[i].has_dep[RUN_DEP_OUTBOUND];
	if (!any)
		return;
	html__table_begin(f, "Cache and outbound calls per request", head, 7);
	for (unsigned i = 0; i < r->neps; i++) {
		const struct run_endpoint *e = &r->eps[i];
		const struct run_ep_dep *c = &e->dep[RUN_DEP_CACHE], *h = &e->dep[RUN_DEP_OUTBOUND];

		if (!e->has_dep[RUN_DEP_CACHE] && !e->has_dep[RUN_DEP_OUTBOUND])
			continue;
		run__endpoint_name(e, v[0], sizeof(v[0]));
		for (int k = 1; k < 7; k++)
			snprintf(v[k], sizeof(v[k]), "-");
		if (e->has_dep[RUN_DEP_CACHE]) {
			snprintf(v[1], sizeof(v[1]), "%.2f", c->calls_per_request);
			units__ms(c->ms_per_request, v[2], sizeof(v[2]));
			analyze__pct(c->hit_ratio, v[3], sizeof(v[3]));
		}
		if (e->has_dep[RUN_DEP_OUTBOUND]) {
			snprintf(v[4], sizeof(v[4]), "%.2f", h->calls_per_request);
			units__ms(h->ms_per_request, v[5], sizeof(v[5]));
			snprintf(v[6], sizeof(v[6]), "%.0f", h->errors);
		}
		for (int k = 0; k < 7; k++)
			cells[k] = v[k];
		html__table_row(f, NULL, cells, 7);
	}
	html__table_end(f);
}

static int endpoints_section(FILE *f, const struct run *r, const unsigned *order)
{
	int err = 0;

	html__section_begin(f, 2, "Endpoints", "endpoints");
	endpoint_table(f, r, order);
	if ((err = status_table(f, r, order)))
		return err;
	db_per_endpoint(f, r);
	deps_table(f, r);
	/* Every endpoint is charted; beyond the first few, folded. */
	for (unsigned j = 0; j < r->neps && !err; j++) {
		if (j == RUNHTML_OPEN_EPS) {
			char sum[96];

			snprintf(sum, sizeof(sum), "%u more endpoints", r->neps - RUNHTML_OPEN_EPS);
			html__details_begin(f, sum, false);
		}
		err = endpoint_charts(f, r, order[j]);
	}
	if (r->neps > RUNHTML_OPEN_EPS)
		html__details_end(f);
	html__section_end(f);
	return err;
}

/*
 * The lines of a text section (runreport*.c) as paragraphs: the text renderer's words, each
 * line escaped for HTML; its heading (the first line) dropped for ours. -ENOMEM.
 */
static int text_lines(FILE *f, void (*section)(struct analyze_out *, const struct run *),
		      const struct run *r, const char *cls)
{
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	struct analyze_out o = { .fmt = TABLE_TEXT };
	bool first = true;

	if (!(o.f = open_memstream(&buf, &len)))
		return -ENOMEM;
	section(&o, r);
	if (fclose(o.f) || o.err) {
		free(buf);
		return o.err ? o.err : -ENOMEM;
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (first) {
			first = false;
			continue;
		}
		html__p(f, cls, line + strspn(line, " "));
	}
	free(buf);
	return 0;
}

static int saturation_section(FILE *f, const struct run *r)
{
	int err;

	if (!r->has_timeline)
		return 0;
	html__section_begin(f, 2, "Saturation", "saturation");
	err = text_lines(f, runreport__saturation, r, NULL);
	html__section_end(f);
	return err;
}

static const char *const tcp_names[] = { "listen drops", "retransmits", "resets sent",
					 "resets received" };
static const char *const tcp_colors[] = { "#c62828", "#e0a000", "#8e44ad", "#4a7fbf" };

static int tcp_section(FILE *f, const struct run *r)
{
	static const char *const lhead[] = { "Port", "Sockets", "Handshake packets dropped",
					     "Accept queue max", "Backlog" };
	static const char *const phead[] = {
		"Role",	       "Port",		 "Peer", "Retransmits", "SYN retransmits",
		"Resets sent", "Resets received"
	};
	const struct run_tcp *tcp = &r->tcp;
	struct analyze_out o = { .fmt = TABLE_TEXT };
	struct svg_stack_point *p;
	struct table t[2];
	char line[200];
	int err = 0;

	if (!r->has_tcp || (!tcp->nlisteners && !tcp->npeers && !tcp->npoints))
		return 0;
	html__section_begin(f, 2, "TCP (what the kernel saw)", "tcp");
	if (tcp->npoints) {
		if (!(p = calloc(tcp->npoints, sizeof(*p))))
			return -ENOMEM;
		for (unsigned k = 0; k < tcp->npoints; k++) {
			const struct run_tcp_point *x = &tcp->points[k];

			p[k].t_s = x->t;
			p[k].span_s =
				k ? x->t - tcp->points[k - 1].t
				  : fmin(x->t, r->timeline.interval_s > 0 ? r->timeline.interval_s
									  : x->t);
			p[k].v[0] = (double)x->drops;
			p[k].v[1] = (double)(x->n[RUN_TCP_RETRANS] + x->n[RUN_TCP_SYN_RETRANS]);
			p[k].v[2] = (double)x->n[RUN_TCP_RST_SENT];
			p[k].v[3] = (double)x->n[RUN_TCP_RST_RECV];
			p[k].partial = k && k + 1 == tcp->npoints && r->timeline.interval_s > 0 &&
				       p[k].span_s < PARTIAL_SHARE * r->timeline.interval_s;
		}
		html__figure_begin(f);
		err = svg__stacked(f, "Drops, retransmits and resets per interval", "packets", NULL,
				   tcp_names, tcp_colors, 4, p, tcp->npoints);
		html__figure_end(f, "per interval: SYNs dropped by full accept queues, "
				    "retransmits (SYN included), resets sent and received");
		free(p);
	}
	runreport__tcp_cells(&o, r, t);
	if (t[0].nrows)
		runhtml__table(f, "Listeners", &t[0], lhead, "rrrrr", -1, NULL);
	else
		table__free(&t[0]);
	if (t[1].nrows)
		runhtml__table(f, "Peers with retransmits or resets", &t[1], phead, "lrlrrrr", -1,
			       NULL);
	else
		table__free(&t[1]);
	if (tcp->has_host) {
		snprintf(line, sizeof(line),
			 "host-wide (/proc/net/netstat): %llu listen overflows, %llu listen drops",
			 (unsigned long long)tcp->host_overflows,
			 (unsigned long long)tcp->host_drops);
		html__p(f, NULL, line);
	}
	if (tcp->peers_lost || tcp->listeners_lost || tcp->reads_failed) {
		snprintf(line, sizeof(line),
			 "not counted: %llu peer counts, %llu listeners, "
			 "%llu reads",
			 (unsigned long long)tcp->peers_lost,
			 (unsigned long long)tcp->listeners_lost,
			 (unsigned long long)tcp->reads_failed);
		html__p(f, "muted", line);
	}
	html__section_end(f);
	return err;
}

/* p95 per interval of the queries with the most DB time (the file's order). */
static int db_timeline(FILE *f, const struct run *r)
{
	struct svg_series ser[DB_SERIES];
	struct svg_tpoint *pts[DB_SERIES] = { 0 };
	char names[DB_SERIES][64], rules[300], cap[400];
	double partial = NAN;
	size_t ns = 0;
	int err = 0;

	for (unsigned i = 0; i < r->ndbqs && ns < DB_SERIES; i++) {
		const struct run_series *s = NULL;

		for (unsigned k = 0; r->has_timeline && k < r->timeline.ndb && !s; k++)
			if (r->timeline.db[k].query && r->dbqs[i].query_id &&
			    (!strcmp(r->timeline.db[k].query, r->dbqs[i].query_id) ||
			     (r->dbqs[i].query &&
			      !strcmp(r->timeline.db[k].query, r->dbqs[i].query))))
				s = &r->timeline.db[k];
		if (!s)
			continue;
		if (!(pts[ns] = runhtml__tpoints(r, s, &partial))) {
			err = -ENOMEM;
			goto out;
		}
		for (unsigned k = 0; k < s->n; k++)
			pts[ns][k].p99_ms = NAN;
		html__ellipsize(r->dbqs[i].query, 20, names[ns], sizeof(names[ns]));
		ser[ns] = (struct svg_series){
			.name = names[ns], .points = pts[ns], .n = s->n, .no_p99 = true
		};
		ns++;
	}
	if (!ns)
		goto out;
	if (!runhtml__series_drawable(ser, ns)) {
		html__p(f, "muted", runhtml__undrawn(partial, rules, sizeof(rules)));
		goto out;
	}
	html__figure_begin(f);
	err = svg__timeline(f, "Query p95 per interval", ser, ns, NULL, 0, NULL, 0, false);
	snprintf(cap, sizeof(cap), "the %zu queries with the most DB time; %s", ns,
		 runhtml__rules(partial, rules, sizeof(rules)));
	html__figure_end(f, cap);
out:
	for (size_t k = 0; k < DB_SERIES; k++)
		free(pts[k]);
	return err;
}

static void flags_list(FILE *f, const struct run *r)
{
	char line[1400], q[RUNHTML_QUERY_CUT * 4 + 8], id[32];

	html__section_begin(f, 3, "DB flags", "db-flags");
	if (!r->nflags)
		html__p(f, "muted", "none");
	for (unsigned i = 0; i < r->nflags; i++) {
		const struct run_flag *fl = &r->flags[i];

		html__ellipsize(fl->query, RUNHTML_QUERY_CUT, q, sizeof(q));
		snprintf(line, sizeof(line), "%s%s%s%s%s (%llu %s): %s", fl->kind,
			 fl->endpoint ? " on " : "", fl->endpoint ? fl->endpoint : "",
			 fl->query ? ", " : "", fl->query ? q : "",
			 (unsigned long long)fl->occurrences,
			 fl->occurrences == 1 ? "time" : "times", fl->evidence);
		snprintf(id, sizeof(id), "flag-%u", i);
		fprintf(f, "<p class=\"note\" id=\"%s\"", id);
		if (fl->query) {
			fputs(" title=\"", f);
			html__escape(f, fl->query);
			putc('"', f);
		}
		putc('>', f);
		html__escape(f, line);
		fputs("</p>\n", f);
	}
	html__section_end(f);
}

static int db_section(FILE *f, const struct run *r, unsigned top)
{
	static const char *const head[] = { "#",      "Query",	  "Calls",
					    "Rate/s", "p50 ms",	  "p95 ms",
					    "p99 ms", "Total ms", "Share of DB time",
					    "Errors", "Rows" };
	struct analyze_out o = { .fmt = TABLE_TEXT };
	unsigned n = r->ndbqs < top ? r->ndbqs : top;
	char line[96];
	struct svg_bar *bars;
	struct table t;
	int err = 0;

	if (!r->has_db)
		return 0;
	if (!(bars = calloc(n + 1, sizeof(*bars))))
		return -ENOMEM;
	html__section_begin(f, 2, "DB hotspots", "db");
	if (!r->ndbqs)
		html__p(f, "muted", "no queries");
	for (unsigned i = 0; i < n; i++) {
		bars[i].label = r->dbqs[i].query;
		bars[i].value = r->dbqs[i].hist->sum / 1e6;
	}
	if (n) {
		html__figure_begin(f);
		err = svg__hbars(f, "Total time per query fingerprint", bars, n, "ms");
		html__figure_end(f, "the fingerprints that took the most database time");
		runreport__hotspot_cells(&o, r, top, &t);
		/* The text cut the query at 60: the whole one goes back in, cut at 80, here. */
		for (unsigned i = 0; i < t.nrows; i++) {
			char **cell = &t.cells[(size_t)i * t.ncols + 1];
			char *whole = strdup(r->dbqs[i].query ? r->dbqs[i].query : "");

			if (whole) {
				free(*cell);
				*cell = whole;
			}
		}
		runhtml__table(f, "by total time", &t, head, "rlrrrrrrrrr", 1, "q-");
		if (r->ndbqs > top) {
			snprintf(line, sizeof(line), "%u more fingerprints in the JSON report",
				 r->ndbqs - top);
			html__p(f, "muted", line);
		}
	}
	if (!err)
		err = db_timeline(f, r);
	flags_list(f, r);
	html__section_end(f);
	free(bars);
	return err;
}

/* The cache's p95, p99 and command rate per interval, by the rules of the HTTP timelines. */
static int cache_timeline(FILE *f, const struct run *r)
{
	const struct run_cache *c = &r->cache;
	struct svg_tpoint *p;
	struct svg_series ser = { .name = NULL, .n = c->npoints };
	uint64_t min95 = svg__min_samples(95), min99 = svg__min_samples(99);
	char rules[300], cap[400];
	double partial = NAN, iv = c->interval_s;
	int err;

	if (!c->has_timeline || !c->npoints)
		return 0;
	if (!(p = calloc(c->npoints, sizeof(*p))))
		return -ENOMEM;
	for (unsigned k = 0; k < c->npoints; k++) {
		const struct run_cache_point *x = &c->points[k];

		p[k] = (struct svg_tpoint){ x->t, x->count >= min95 ? x->p95 : NAN,
					    x->count >= min99 ? x->p99 : NAN, x->rate_per_s };
		if (k && k + 1 == c->npoints && iv > 0 && x->t - c->points[k - 1].t < 0.95 * iv) {
			partial = x->t - c->points[k - 1].t;
			p[k].p95_ms = p[k].p99_ms = p[k].rate = NAN;
		}
	}
	ser.points = p;
	if (!runhtml__drawable(p, c->npoints)) {
		html__p(f, "muted", runhtml__undrawn(partial, rules, sizeof(rules)));
		free(p);
		return 0;
	}
	html__figure_begin(f);
	err = svg__timeline(f, "Cache commands: p95 and p99 per interval", &ser, 1, NULL, 0, NULL,
			    0, true);
	snprintf(cap, sizeof(cap), "solid: p95, dashed: p99, grey: commands per second; %s",
		 runhtml__rules(partial, rules, sizeof(rules)));
	html__figure_end(f, cap);
	free(p);
	return err;
}

/* The cache's rows by total time, its hit ratio, pools and flags. */
static int cache_section(FILE *f, const struct run *r, unsigned top)
{
	static const char *const head[] = { "Command and key pattern",
					    "Client",
					    "Calls",
					    "p50 ms",
					    "p95 ms",
					    "p99 ms",
					    "Total ms",
					    "Hit ratio",
					    "Errors" };
	const struct run_cache *c = &r->cache;
	char v[9][300], line[1200];
	const char *cells[9];
	uint64_t hits, keys;
	double ratio;

	int err;

	if (!r->has_cache)
		return 0;
	html__section_begin(f, 2, "Cache (Redis)", "cache");
	html__table_begin_aligned(f, NULL, head, 9, "llrrrrrrr");
	for (unsigned i = 0; i < c->nrows && i < top; i++) {
		const struct run_cache_row *row = &c->rows[i];
		uint64_t k = row->hits + row->misses;

		snprintf(v[0], sizeof(v[0]), "%s%s%s", row->verb, *row->pattern ? " " : "",
			 row->pattern);
		snprintf(v[1], sizeof(v[1]), "%s", row->client);
		snprintf(v[2], sizeof(v[2]), "%llu", (unsigned long long)row->count);
		units__ms(hist_sparse__percentile(row->hist, 50) / 1e6, v[3], sizeof(v[3]));
		units__ms(hist_sparse__percentile(row->hist, 95) / 1e6, v[4], sizeof(v[4]));
		units__ms(hist_sparse__percentile(row->hist, 99) / 1e6, v[5], sizeof(v[5]));
		snprintf(v[6], sizeof(v[6]), "%.1f", row->hist->sum / 1e6);
		analyze__pct(k ? (double)row->hits / k : NAN, v[7], sizeof(v[7]));
		snprintf(v[8], sizeof(v[8]), "%llu", (unsigned long long)row->errors);
		for (int x = 0; x < 9; x++)
			cells[x] = v[x];
		html__table_row_aligned(f, NULL, cells, 9, "llrrrrrrr");
	}
	html__table_end(f);
	if (c->nrows > top) {
		snprintf(line, sizeof(line), "%u more rows in the JSON report", c->nrows - top);
		html__p(f, "muted", line);
	}
	ratio = run__cache_hit_ratio(r, &hits, &keys);
	snprintf(line, sizeof(line), "Hit ratio of the run: %s (%llu of %llu keys read answered)",
		 analyze__pct(ratio < 0 ? NAN : ratio, v[0], sizeof(v[0])),
		 (unsigned long long)hits, (unsigned long long)keys);
	html__p(f, NULL, line);
	for (unsigned i = 0; i < c->nclients; i++) {
		const struct run_cache_client *cl = &c->clients[i];

		snprintf(line, sizeof(line),
			 "Connections of %s to %s: pool of %llu (most open at once), %llu opened, "
			 "%llu closed, %llu commands",
			 cl->client, cl->server ? cl->server : "?", (unsigned long long)cl->peak,
			 (unsigned long long)cl->opened, (unsigned long long)cl->closed,
			 (unsigned long long)cl->commands);
		html__p(f, NULL, line);
	}
	for (unsigned i = 0; i < c->nflags; i++) {
		const struct run_cache_flag *fl = &c->flags[i];

		snprintf(line, sizeof(line), "%s%s%s%s%s%s%s: %s", fl->kind,
			 fl->endpoint ? " on " : "", fl->endpoint ? fl->endpoint : "",
			 fl->verb ? ", " : "", fl->verb ? fl->verb : "",
			 fl->pattern && *fl->pattern ? " " : "", fl->pattern ? fl->pattern : "",
			 fl->evidence);
		html__p(f, "note", line);
	}
	err = cache_timeline(f, r);
	html__section_end(f);
	return err;
}

/* A row of cells made by runreport_outbound.c, text columns aligned as the text report has them. */
static void cells_row(FILE *f, char (*v)[RUNREPORT_CELL], size_t n, const char *align)
{
	const char *cells[RUNREPORT_CALL_COLS]; /* the widest of the three tables */

	for (size_t i = 0; i < n; i++)
		cells[i] = v[i];
	html__table_row_aligned(f, NULL, cells, n, align);
}

/*
 * The outbound calls (top of them), the retries of the destinations that failed and the client
 * view of the traced endpoints; the cells are the text report's (runreport_outbound.c).
 */
static void outbound_section(FILE *f, const struct run *r, unsigned top)
{
	char v[RUNREPORT_CALL_COLS][RUNREPORT_CELL], line[64];
	unsigned ep = 0, call = 0;

	/* None without a call: the page of a run without outbound calls stays as it was. */
	if (!r->nouts)
		return;
	html__section_begin(f, 2, "Outbound HTTP calls", "outbound");
	html__table_begin_aligned(f, NULL, runreport__call_titles, RUNREPORT_CALL_COLS,
				  runreport__call_align);
	for (unsigned i = 0; i < r->nouts && i < top; i++) {
		runreport__call_cells(&r->outs[i], v);
		cells_row(f, v, RUNREPORT_CALL_COLS, runreport__call_align);
	}
	html__table_end(f);
	if (r->nouts > top) {
		snprintf(line, sizeof(line), "%u more rows in the JSON report", r->nouts - top);
		html__p(f, "muted", line);
	}
	if (runreport__retries_shown(r)) {
		html__section_begin(f, 3, "Retries by destination", "retries");
		html__table_begin_aligned(f, NULL, runreport__retry_titles, RUNREPORT_RETRY_COLS,
					  runreport__retry_align);
		for (unsigned i = 0; i < r->nout_dests; i++) {
			if (!r->out_dests[i].failed)
				continue;
			runreport__retry_cells(&r->out_dests[i], v);
			cells_row(f, v, RUNREPORT_RETRY_COLS, runreport__retry_align);
		}
		html__table_end(f);
		html__section_end(f);
	}
	if (runreport__client_pair(r, &ep, &call)) {
		html__section_begin(f, 3, "Client view of endpoints", "client-view");
		html__table_begin_aligned(f, NULL, runreport__client_titles, RUNREPORT_CLIENT_COLS,
					  runreport__client_align);
		for (; runreport__client_pair(r, &ep, &call); call++) {
			runreport__client_cells(&r->eps[ep], &r->outs[call], v);
			cells_row(f, v, RUNREPORT_CLIENT_COLS, runreport__client_align);
		}
		html__table_end(f);
		html__p(f, "muted", runreport__client_gap);
		html__section_end(f);
	}
	html__section_end(f);
}

static int advice_section(FILE *f, const struct run *r)
{
	char **items;
	unsigned n;
	int err = runreport__advice(r, &items, &n);

	if (err)
		return err;
	html__section_begin(f, 2, "Recommendations", "advice");
	if (!n)
		html__p(f, "muted", "none");
	for (unsigned i = 0; i < n; i++) {
		html__p(f, NULL, items[i]);
		free(items[i]);
	}
	free(items);
	html__section_end(f);
	return 0;
}

int runhtml__report(FILE *f, const struct run *r, const struct runreport_opts *o)
{
	unsigned *order = runhtml__endpoint_order(r);
	char title[600], rel[400];
	int err = 0;

	if (!order)
		return -ENOMEM;
	snprintf(title, sizeof(title), "sloprobe report: %s (%s, %.10s)",
		 analyze__relpath(r->path, rel, sizeof(rel)), r->hostname, r->start);
	html__begin(f, title);
	err = runhtml__overview(f, r, o, order);
	if (!err && r->has_slo) {
		html__section_begin(f, 2, "SLOs", "slo");
		slo_table(f, r, o->slo_source ? o->slo_source : "as recorded", o->slo_notes);
		html__section_end(f);
	}
	if (!err)
		scope_section(f, r);
	if (!err)
		err = endpoints_section(f, r, order);
	if (!err)
		err = runhtml__exemplars(f, r);
	if (!err)
		err = saturation_section(f, r);
	if (!err)
		err = tcp_section(f, r);
	if (!err)
		err = db_section(f, r, o->top);
	if (!err)
		err = cache_section(f, r, o->top);
	if (!err)
		outbound_section(f, r, o->top);
	if (!err)
		err = advice_section(f, r);
	free(order);
	if (err)
		return err;
	html__sort_script(f);
	return html__end(f);
}
