// SPDX-License-Identifier: GPL-2.0-only
/*
 * `--format html` of report and diff: one self-contained page (src/html.h) with inline SVG
 * charts (src/svg.h): per endpoint the latency histogram and CDF with the SLO thresholds, the
 * p95/p99 timeline against the SLO line, the top DB fingerprints as bars, the cache and outbound
 * tables; for diff the before/after overlays.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "analyze/html.h"
#include "analyze/runreport.h"
#include "analyze/svg.h"
#include "lib/units.h"

#define CHART_ENDPOINTS 10 /* endpoints that get charts, busiest first */
#define MAX_MARKS	8

static const char *verdict_class(const char *v)
{
	if (!strcmp(v, "pass"))
		return "pass";
	if (!strcmp(v, "breach"))
		return "breach";
	return "insufficient";
}

/* The buckets of h for the charts; caller frees. */
static struct svg_bucket *buckets_of(const struct hist_sparse *h, size_t *n)
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

/* Latency SLO rows aimed at an endpoint: thresholds to draw. */
static size_t slo_marks(const struct run *r, const char *method, const char *route,
			struct svg_mark *m, char (*labels)[64], int *pct_of)
{
	char target[512];
	size_t n = 0;

	snprintf(target, sizeof(target), "http %s %s", method, route);
	for (unsigned i = 0; i < r->nslo && n < MAX_MARKS; i++) {
		const struct run_slo *s = &r->slo[i];

		if (!s->target || strcmp(s->target, target) || isnan(s->threshold_ms))
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

static const struct run_series *series_of(const struct run *r, const struct run_endpoint *e)
{
	for (unsigned i = 0; r->has_timeline && i < r->timeline.nhttp; i++) {
		const struct run_series *s = &r->timeline.http[i];

		if (!strcmp(s->method, e->method) && !strcmp(s->route, e->route) &&
		    (!s->service || !strcmp(s->service, e->service)))
			return s;
	}
	return NULL;
}

/* A point's t is the end of its interval; an empty interval has no percentile: a gap. */
static struct svg_tpoint *tpoints(const struct run_series *s)
{
	struct svg_tpoint *p = calloc(s->n + 1, sizeof(*p));

	for (unsigned k = 0; p && k < s->n; k++) {
		p[k].t_s = s->p[k].t;
		p[k].p95_ms = s->p[k].count ? s->p[k].p95 : NAN;
		p[k].p99_ms = s->p[k].count ? s->p[k].p99 : NAN;
		p[k].rate = s->p[k].rate_per_s;
	}
	return p;
}

static int timeline_chart(FILE *f, const struct run *r, const struct run_series *s,
			  const struct svg_mark *marks, const int *pct_of, size_t nmarks)
{
	struct svg_tpoint *p = tpoints(s);
	/* At most one span per point and mark (points apart in time are not merged). */
	size_t per_mark = s->n, nspans = 0;
	struct svg_span *spans = calloc(nmarks * per_mark + 1, sizeof(*spans));
	struct svg_series ser = { .name = NULL, .n = s->n };
	int err;

	if (!p || !spans) {
		free(p);
		free(spans);
		return -ENOMEM;
	}
	ser.points = p;
	for (size_t i = 0; i < nmarks; i++)
		if (pct_of[i] == 95 || pct_of[i] == 99)
			nspans += svg__breach_spans(p, s->n, r->timeline.interval_s, pct_of[i],
						    marks[i].ms, spans + nspans, per_mark);
	html__figure_begin(f);
	err = svg__timeline(f, "p95 and p99 per interval", &ser, 1, marks, nmarks, spans, nspans,
			    true);
	html__figure_end(f, "solid: p95, dashed: p99, shaded: intervals over an SLO threshold");
	free(spans);
	free(p);
	return err;
}

static int endpoint_charts(FILE *f, const struct run *r, const struct run_endpoint *e)
{
	struct svg_mark marks[MAX_MARKS + 2];
	char labels[MAX_MARKS][64], title[600];
	int pct_of[MAX_MARKS + 2] = { 0 };
	size_t nb, nm = slo_marks(r, e->method, e->route, marks, labels, pct_of);
	struct svg_bucket *b = buckets_of(e->hist, &nb);
	const struct run_series *s = series_of(r, e);
	struct svg_dist d;
	int err;

	if (!b)
		return -ENOMEM;
	run__endpoint_name(e, title, sizeof(title));
	html__section_begin(f, 3, title, NULL);
	/* The observed p95 and p99 as markers next to the thresholds. */
	marks[nm] = (struct svg_mark){ SVG_MARK_PERCENTILE,
				       hist_sparse__percentile(e->hist, 95) / 1e6, 95, "p95" };
	marks[nm + 1] = (struct svg_mark){ SVG_MARK_PERCENTILE,
					   hist_sparse__percentile(e->hist, 99) / 1e6, 99, "p99" };
	html__figure_begin(f);
	err = svg__histogram(f, "Latency histogram", b, nb, marks, nm);
	html__figure_end(f, "requests per histogram bucket; dashed: SLO thresholds");
	d = (struct svg_dist){ .name = NULL, .buckets = b, .n = nb };
	html__figure_begin(f);
	err = err ? err : svg__cdf(f, "Latency CDF", &d, 1, marks, e->hist->count ? nm + 2 : nm);
	html__figure_end(f, "share of requests at or under a latency");
	if (!err && s)
		err = timeline_chart(f, r, s, marks, pct_of, nm);
	html__section_end(f);
	free(b);
	return err;
}

static void scope_table(FILE *f, const struct run *r)
{
	static const char *const head[] = { "Item", "Value" };
	char v[1024];
	const char *cells[2];

	html__table_begin(f, NULL, head, 2);
#define ROW(k, ...)                                                                                \
	do {                                                                                       \
		snprintf(v, sizeof(v), __VA_ARGS__);                                               \
		cells[0] = k;                                                                      \
		cells[1] = v;                                                                      \
		html__table_row(f, NULL, cells, 2);                                                \
	} while (0)
	ROW("Host", "%s, Linux %s", r->hostname, r->kernel);
	ROW("Window", "%s to %s (%.3f s)", r->start, r->end, r->duration_s);
	ROW("Traffic", "%llu HTTP requests on %u endpoint%s; %u DB fingerprints",
	    (unsigned long long)run__requests(r), r->neps, r->neps == 1 ? "" : "s", r->ndbqs);
	ROW("Events", "%llu received, %llu dropped", (unsigned long long)r->events_total,
	    (unsigned long long)r->events_dropped);
	for (unsigned i = 0; i < r->events.n; i++)
		if (r->events.v[i].n)
			ROW("  dropped", "%s %llu", r->events.v[i].key,
			    (unsigned long long)r->events.v[i].n);
	ROW("Recorded by", "sloprobe %s", r->tool_version);
#undef ROW
	html__table_end(f);
}

static void slo_table(FILE *f, const struct run *r, const char *source)
{
	static const char *const head[] = { "Objective",    "Target",  "Scope",
					    "Observed",	    "Margin",  "Budget used",
					    "Good / total", "Verdict", "First breach" };
	char obs[64], mar[64], bud[48], gt[48], fb[32], cap[300], vd[64];

	snprintf(cap, sizeof(cap), "SLO verdicts (%s)", source);
	html__table_begin(f, cap, head, 9);
	for (unsigned i = 0; i < r->nslo; i++) {
		const struct run_slo *s = &r->slo[i];
		const char *cells[9];

		analyze__slo_value(s, s->observed, obs, sizeof(obs));
		analyze__slo_value(s, s->margin, mar, sizeof(mar));
		analyze__budget(s->budget_consumed, bud, sizeof(bud));
		snprintf(gt, sizeof(gt), s->has_counts ? "%llu/%llu" : "-",
			 (unsigned long long)s->good, (unsigned long long)s->total);
		snprintf(fb, sizeof(fb), isnan(s->first_breach_s) ? "-" : "t=%.1f s",
			 s->first_breach_s);
		cells[0] = s->name;
		cells[1] = s->objective;
		cells[2] = s->target ? s->target : "-";
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
		html__table_row(f, verdict_class(s->verdict), cells, 9);
	}
	html__table_end(f);
}

static void endpoint_table(FILE *f, const struct run *r)
{
	static const char *const head[] = { "Endpoint", "Service", "Requests", "Rate/s",
					    "p50 ms",	"p95 ms",  "p99 ms",   "max ms",
					    "4xx",	"5xx",	   "429",      "409" };
	char v[12][64];

	html__table_begin(f, "HTTP endpoints", head, 12);
	for (unsigned i = 0; i < r->neps; i++) {
		const struct run_endpoint *e = &r->eps[i];
		const char *cells[12];

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
		snprintf(v[10], sizeof(v[10]), "%llu", (unsigned long long)run__status(e, 429));
		snprintf(v[11], sizeof(v[11]), "%llu", (unsigned long long)run__status(e, 409));
		for (int k = 0; k < 12; k++)
			cells[k] = v[k];
		html__table_row(f, NULL, cells, 12);
	}
	html__table_end(f);
}

static int db_section(FILE *f, const struct run *r, unsigned top)
{
	static const char *const head[] = { "Query", "Calls", "p95 ms", "Total ms", "Errors" };
	struct svg_bar *bars;
	unsigned n = r->ndbqs < top ? r->ndbqs : top;
	char v[4][48];
	int err;

	if (!r->ndbqs)
		return 0;
	bars = calloc(n + 1, sizeof(*bars));
	if (!bars)
		return -ENOMEM;
	html__section_begin(f, 2, "DB hotspots", "db");
	for (unsigned i = 0; i < n; i++) {
		bars[i].label = r->dbqs[i].query;
		bars[i].value = r->dbqs[i].hist->sum / 1e6;
	}
	html__figure_begin(f);
	err = svg__hbars(f, "Total time per query fingerprint", bars, n, "ms");
	html__figure_end(f, "the fingerprints that took the most database time");
	html__table_begin(f, NULL, head, 5);
	for (unsigned i = 0; i < r->ndbqs && i < top; i++) {
		const struct run_dbq *q = &r->dbqs[i];
		const char *cells[5] = { q->query, v[0], v[1], v[2], v[3] };

		snprintf(v[0], sizeof(v[0]), "%llu", (unsigned long long)q->count);
		units__ms(hist_sparse__percentile(q->hist, 95) / 1e6, v[1], sizeof(v[1]));
		snprintf(v[2], sizeof(v[2]), "%.1f", q->hist->sum / 1e6);
		snprintf(v[3], sizeof(v[3]), "%llu", (unsigned long long)q->errors);
		html__table_row(f, NULL, cells, 5);
	}
	html__table_end(f);
	for (unsigned i = 0; i < r->nflags; i++) {
		const struct run_flag *fl = &r->flags[i];
		char line[1200];

		snprintf(line, sizeof(line), "%s%s%s%s%s: %s", fl->kind, fl->endpoint ? " on " : "",
			 fl->endpoint ? fl->endpoint : "", fl->query ? ", " : "",
			 fl->query ? fl->query : "", fl->evidence);
		html__p(f, "note", line);
	}
	html__section_end(f);
	free(bars);
	return err;
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

/* The cache's rows by total time, its hit ratio, pools and flags. */
static void cache_section(FILE *f, const struct run *r, unsigned top)
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

	if (!r->has_cache)
		return;
	html__section_begin(f, 2, "Cache (Redis)", "cache");
	html__table_begin(f, NULL, head, 9);
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
		html__table_row(f, NULL, cells, 9);
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
	html__section_end(f);
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

int runhtml__report(FILE *f, const struct run *r, const struct runreport_opts *o)
{
	char title[300], **items;
	unsigned n;
	int err = 0;

	snprintf(title, sizeof(title), "sloprobe report: %s, %.10s", r->hostname, r->start);
	html__begin(f, title);
	html__section_begin(f, 2, "Scope", "scope");
	scope_table(f, r);
	html__section_end(f);
	if (r->has_slo) {
		html__section_begin(f, 2, "SLOs", "slo");
		slo_table(f, r, o->slo_source ? o->slo_source : "as recorded");
		html__section_end(f);
	}
	html__section_begin(f, 2, "Endpoints", "endpoints");
	endpoint_table(f, r);
	deps_table(f, r);
	for (unsigned i = 0; i < r->neps && i < CHART_ENDPOINTS && !err; i++)
		err = endpoint_charts(f, r, &r->eps[i]);
	if (r->neps > CHART_ENDPOINTS)
		html__p(f, "muted", "charts for the busiest endpoints only");
	html__section_end(f);
	if (!err)
		err = db_section(f, r, o->top);
	if (!err)
		cache_section(f, r, o->top);
	if (!err)
		outbound_section(f, r, o->top);
	if (!err)
		err = runhtml__exemplars(f, r);
	if (!err && !(err = runreport__advice(r, &items, &n))) {
		html__section_begin(f, 2, "Recommendations", "advice");
		if (!n)
			html__p(f, "muted", "none");
		for (unsigned i = 0; i < n; i++) {
			html__p(f, NULL, items[i]);
			free(items[i]);
		}
		free(items);
		html__section_end(f);
	}
	if (err)
		return err;
	return html__end(f);
}

/* diff */

static int diff_endpoint(FILE *f, const struct run *a, const struct run *b,
			 const struct run_endpoint *x, const struct run_endpoint *y)
{
	struct svg_mark marks[MAX_MARKS];
	char labels[MAX_MARKS][64], title[600];
	int pct_of[MAX_MARKS];
	size_t na, nb, nm = slo_marks(b, y->method, y->route, marks, labels, pct_of);
	struct svg_bucket *ba = buckets_of(x->hist, &na), *bb = buckets_of(y->hist, &nb);
	const struct run_series *sa = series_of(a, x), *sb = series_of(b, y);
	struct svg_dist d[2] = { { "before", ba, na }, { "after", bb, nb } };
	int err;

	if (!nm)
		nm = slo_marks(a, x->method, x->route, marks, labels, pct_of);
	if (!ba || !bb) {
		free(ba);
		free(bb);
		return -ENOMEM;
	}
	run__endpoint_name(x, title, sizeof(title));
	html__section_begin(f, 3, title, NULL);
	html__figure_begin(f);
	err = svg__cdf(f, "Latency CDF, before and after", d, 2, marks, nm);
	html__figure_end(f, "share of requests at or under a latency");
	if (!err && sa && sb) {
		struct svg_tpoint *pa = tpoints(sa), *pb = tpoints(sb);
		struct svg_series s[2] = { { "before", pa, sa->n }, { "after", pb, sb->n } };

		if (pa && pb) {
			html__figure_begin(f);
			err = svg__timeline(f, "p95 and p99 per interval, before and after", s, 2,
					    marks, nm, NULL, 0, false);
			html__figure_end(f, "solid: p95, dashed: p99");
		} else {
			err = -ENOMEM;
		}
		free(pa);
		free(pb);
	}
	html__section_end(f);
	free(ba);
	free(bb);
	return err;
}

static const char *class_css(enum diff_class c)
{
	switch (c) {
	case DIFF_IMPROVED:
		return "improved";
	case DIFF_REGRESSED:
		return "regressed";
	default:
		return "unchanged";
	}
}

static int diff_queries(FILE *f, const struct run *a, const struct run *b,
			const struct diff_rule *rule)
{
	static const char *const head[] = { "Query", "Calls", "p95 ms", "Total ms", "Verdict" };
	int *bo = calloc(a->ndbqs + 1, sizeof(*bo));
	char v[4][64], p0[32], p1[32];

	if (!bo || diff__match_queries(a, b, bo) < 0) {
		free(bo);
		return -ENOMEM;
	}
	html__section_begin(f, 2, "DB queries", "db");
	html__table_begin(f, NULL, head, 5);
	for (unsigned i = 0; i < a->ndbqs; i++) {
		const struct run_dbq *x = &a->dbqs[i], *y;
		const char *cells[5] = { x->query, v[0], v[1], v[2], v[3] };
		struct diff_value dv[DIFF_VALUES_MAX];
		enum diff_class c;
		unsigned n;

		if (bo[i] < 0)
			continue;
		y = &b->dbqs[bo[i]];
		n = diff__query(rule, x, y, dv);
		c = diff__values_overall(dv, n);
		/* dv: calls, rate, p50, p95, p99, error rate, total ms */
		snprintf(v[0], sizeof(v[0]), "%llu -> %llu", (unsigned long long)x->count,
			 (unsigned long long)y->count);
		snprintf(v[1], sizeof(v[1]), "%s -> %s", units__ms(dv[3].before, p0, 32),
			 units__ms(dv[3].after, p1, 32));
		snprintf(v[2], sizeof(v[2]), "%.1f -> %.1f", dv[6].before, dv[6].after);
		snprintf(v[3], sizeof(v[3]), "%s", diff__class_name(c));
		html__table_row(f, class_css(c), cells, 5);
	}
	html__table_end(f);
	html__section_end(f);
	free(bo);
	return 0;
}

int runhtml__diff(FILE *f, const struct run *a, const struct run *b, const struct diff_rule *rule,
		  bool *slo_regressed)
{
	static const char *const head[] = { "Endpoint", "Requests", "p50 ms", "p95 ms",
					    "p99 ms",	"5xx rate", "Verdict" };
	static const char *const slo_head[] = { "Objective", "Target", "Baseline", "After" };
	int *bo = calloc(a->neps + 1, sizeof(*bo));
	struct svg_pair *pairs = calloc(a->neps + 1, sizeof(*pairs));
	char title[600], v[7][96], (*names)[300] = calloc(a->neps + 1, sizeof(*names));
	unsigned np = 0, charts = 0;
	int err = 0;

	*slo_regressed = false;
	if (!bo || !pairs || !names || diff__match_endpoints(a, b, bo) < 0) {
		err = -ENOMEM;
		goto out;
	}
	snprintf(title, sizeof(title), "sloprobe diff: %s vs %s", a->path, b->path);
	html__begin(f, title);
	snprintf(title, sizeof(title),
		 "A change counts when it exceeds %g %% of the baseline and %g ms (HTTP latency), "
		 "with at least %llu requests in both runs.",
		 rule->rel * 100, rule->lat_floor_ms, (unsigned long long)rule->min_samples);
	html__p(f, "note", title);

	if (a->has_slo || b->has_slo) {
		html__section_begin(f, 2, "SLO verdicts", "slo");
		html__table_begin(f, NULL, slo_head, 4);
		for (unsigned i = 0; i < a->nslo; i++) {
			const struct run_slo *s = &a->slo[i], *t = diff__find_slo(b, s);
			const char *cells[4];
			bool reg;

			reg = t && !strcmp(s->verdict, "pass") && !strcmp(t->verdict, "breach");
			*slo_regressed |= reg;
			cells[0] = s->name;
			cells[1] = s->objective;
			cells[2] = analyze__verdict(s->verdict, false);
			cells[3] = t ? analyze__verdict(t->verdict, false) : "-";
			html__table_row(f,
					reg ? "regressed"
					: t ? verdict_class(t->verdict)
					    : NULL,
					cells, 4);
		}
		html__table_end(f);
		html__section_end(f);
	}

	html__section_begin(f, 2, "Endpoints", "endpoints");
	html__table_begin(f, NULL, head, 7);
	for (unsigned i = 0; i < a->neps; i++) {
		const struct run_endpoint *x = &a->eps[i], *y;
		struct diff_value dv[DIFF_VALUES_MAX];
		const char *cells[7];
		char p0[32], p1[32];
		enum diff_class c;
		unsigned n;

		if (bo[i] < 0)
			continue;
		y = &b->eps[bo[i]];
		n = diff__endpoint(rule, x, y, dv);
		c = diff__values_overall(dv, n);
		/* dv: requests, rate, p50, p95, p99, 5xx rate, then the DB ones */
		run__endpoint_name(x, names[np], sizeof(names[np]));
		snprintf(v[0], sizeof(v[0]), "%llu -> %llu", (unsigned long long)x->count,
			 (unsigned long long)y->count);
		for (int k = 0; k < 3; k++) {
			pairs[np].before[k] = dv[2 + k].before;
			pairs[np].after[k] = dv[2 + k].after;
			snprintf(v[1 + k], sizeof(v[1 + k]), "%s -> %s",
				 units__ms(dv[2 + k].before, p0, sizeof(p0)),
				 units__ms(dv[2 + k].after, p1, sizeof(p1)));
		}
		snprintf(v[4], sizeof(v[4]), "%s -> %s", analyze__pct(dv[5].before, p0, sizeof(p0)),
			 analyze__pct(dv[5].after, p1, sizeof(p1)));
		snprintf(v[5], sizeof(v[5]), "%s", diff__class_name(c));
		pairs[np].label = names[np];
		cells[0] = names[np];
		for (int k = 0; k < 6; k++)
			cells[k + 1] = v[k];
		html__table_row(f, class_css(c), cells, 7);
		np++;
	}
	html__table_end(f);
	if (np) {
		html__figure_begin(f);
		err = svg__pairs(f, "p50, p95 and p99 before and after", "before", "after", pairs,
				 np < 12 ? np : 12);
		html__figure_end(f, "per endpoint: p50, p95, p99; lighter: before");
	}
	for (unsigned i = 0; i < a->neps && !err && charts < CHART_ENDPOINTS; i++) {
		if (bo[i] < 0)
			continue;
		err = diff_endpoint(f, a, b, &a->eps[i], &b->eps[bo[i]]);
		charts++;
	}
	html__section_end(f);
	if (!err && (a->ndbqs || b->ndbqs))
		err = diff_queries(f, a, b, rule);
	if (!err)
		err = html__end(f);
out:
	free(bo);
	free(pairs);
	free(names);
	return err;
}
