// SPDX-License-Identifier: GPL-2.0-only
/*
 * The top of `report --format html`, what a reader must see before scrolling: did the SLOs
 * hold (a banner with the verdicts counted), which endpoint broke them and when, the biggest
 * causes with links to their evidence (endpoint section, query row, flag), and the whole run
 * over time: p95 of the endpoints that matter against their objectives, requests by status
 * class, error rate. Its own file because it ranks what the other sections only list.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "analyze/html.h"
#include "analyze/runhtml.h"
#include "analyze/runreport.h"
#include "analyze/saturation.h"
#include "analyze/svg.h"
#include "lib/units.h"

#define CAUSES	    3
#define OV_SERIES   4 /* endpoints on the overview's p95 chart */
#define OV_MARKS    8
#define CAUSE_LINKS 4

struct cause {
	int score;
	unsigned seq; /* the order found: ties keep it */
	char text[700];
	char href[CAUSE_LINKS][48];
	char label[CAUSE_LINKS][120];
	unsigned nlinks;
};

struct causes {
	struct cause *v;
	unsigned n, cap;
};

static struct cause *cause_new(struct causes *c, int score)
{
	struct cause *v;

	if (c->n == c->cap) {
		unsigned cap = c->cap ? c->cap * 2 : 16;

		if (!(v = realloc(c->v, cap * sizeof(*v))))
			return NULL;
		c->v = v;
		c->cap = cap;
	}
	v = &c->v[c->n++];
	memset(v, 0, sizeof(*v));
	v->score = score;
	v->seq = c->n - 1;
	return v;
}

static void cause_link(struct cause *c, const char *href, const char *label)
{
	if (c->nlinks == CAUSE_LINKS)
		return;
	snprintf(c->href[c->nlinks], sizeof(c->href[0]), "%s", href);
	html__ellipsize(label, 60, c->label[c->nlinks], sizeof(c->label[0]));
	c->nlinks++;
}

/* Flags and findings about a breaching endpoint outrank any other. */
#define ON_BREACH 100

static int kind_weight(const char *kind)
{
	static const struct {
		const char *kind;
		int w;
	} w[] = { { "n_plus_one", 50 },	      { "slow_query", 45 }, { "redundant", 40 },
		  { "long_transaction", 35 }, { "no_pooling", 30 }, { "large_offset", 20 },
		  { "select_star", 10 } };

	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		if (!strcmp(kind, w[i].kind))
			return w[i].w;
	return 15;
}

/* The slowest request kept whole of endpoint ep, as a waterfall (runhtml_exemplars.c). */
static void exemplar_link(struct cause *c, const struct run *r, int ep)
{
	int best = -1;
	char href[32];

	for (unsigned i = 0; i < r->nexemplars; i++) {
		const struct run_exemplar *x = &r->exemplars[i];

		if (x->ep == ep && (best < 0 || x->latency_ms > r->exemplars[best].latency_ms))
			best = (int)i;
	}
	if (best < 0)
		return;
	snprintf(href, sizeof(href), "#exemplar-%d", best);
	cause_link(c, href, "slowest request");
}

static void ep_link(struct cause *c, const struct run *r, int ep)
{
	char href[32], name[600];

	if (ep < 0)
		return;
	snprintf(href, sizeof(href), "#ep-%d", ep);
	cause_link(c, href, run__endpoint_name(&r->eps[ep], name, sizeof(name)));
	exemplar_link(c, r, ep);
}

/* The query's row in the hotspot table, when the table shows it. */
static void query_link(struct cause *c, const struct run *r, const char *query_id, unsigned top)
{
	char href[32];

	for (unsigned i = 0; query_id && i < r->ndbqs && i < top; i++) {
		if (!r->dbqs[i].query_id || strcmp(r->dbqs[i].query_id, query_id))
			continue;
		snprintf(href, sizeof(href), "#q-%u", i);
		cause_link(c, href, "query");
		return;
	}
}

static bool breached(const struct run *r, int ep)
{
	return ep >= 0 && runhtml__endpoint_breached(r, &r->eps[ep]);
}

static int flag_causes(struct causes *cs, const struct run *r, unsigned top)
{
	char q[RUNHTML_QUERY_CUT * 4 + 8], href[32];

	for (unsigned i = 0; i < r->nflags; i++) {
		const struct run_flag *fl = &r->flags[i];
		int ep = runhtml__endpoint_index(r, fl->endpoint);
		struct cause *c =
			cause_new(cs, kind_weight(fl->kind) + (breached(r, ep) ? ON_BREACH : 0));

		if (!c)
			return -ENOMEM;
		html__ellipsize(fl->query, RUNHTML_QUERY_CUT, q, sizeof(q));
		snprintf(c->text, sizeof(c->text), "%s%s%s%s%s (%llu %s): %s", fl->kind,
			 fl->endpoint ? " on " : "", fl->endpoint ? fl->endpoint : "",
			 fl->query ? ": " : "", fl->query ? q : "",
			 (unsigned long long)fl->occurrences,
			 fl->occurrences == 1 ? "time" : "times", fl->evidence);
		ep_link(c, r, ep);
		query_link(c, r, fl->query_id, top);
		snprintf(href, sizeof(href), "#flag-%u", i);
		cause_link(c, href, "flag");
	}
	return 0;
}

/* Endpoints that spend most of their time waiting for the database. */
static int db_share_causes(struct causes *cs, const struct run *r, unsigned top)
{
	char name[600], a[32];

	for (unsigned i = 0; i < r->neps; i++) {
		const struct run_endpoint *e = &r->eps[i];
		double mean = hist_sparse__mean(e->hist) / 1e6, share;
		struct cause *c;
		unsigned k = 0;

		if (!e->has_db || !e->db.requests || !(mean > 0))
			continue;
		share = e->db.db_time_ms_per_request / mean;
		if (share < 0.5)
			continue;
		if (!(c = cause_new(cs, 38 + (breached(r, (int)i) ? ON_BREACH : 0))))
			return -ENOMEM;
		snprintf(c->text, sizeof(c->text),
			 "%s spends %s of its time in the database (%.1f queries per request)",
			 run__endpoint_name(e, name, sizeof(name)),
			 analyze__pct(share, a, sizeof(a)), e->db.queries_per_request);
		ep_link(c, r, (int)i);
		for (unsigned q = 1; q < e->db.ntop; q++)
			if (e->db.top[q].ms_per_request > e->db.top[k].ms_per_request)
				k = q;
		if (e->db.ntop)
			query_link(c, r, e->db.top[k].query_id, top);
	}
	return 0;
}

static int saturation_causes(struct causes *cs, const struct run *r)
{
	char name[600], a[32];

	for (unsigned i = 0; r->has_timeline && i < r->timeline.nhttp; i++) {
		const struct run_series *s = &r->timeline.http[i];
		struct sat_point *p = calloc(s->n + 1, sizeof(*p));
		struct sat_result res;
		struct sat_opts so;
		struct cause *c;
		int found, ep;

		if (!p)
			return -ENOMEM;
		for (unsigned k = 0; k < s->n; k++)
			p[k] = (struct sat_point){ .t = s->p[k].t,
						   .rate = s->p[k].rate_per_s,
						   .p95 = s->p[k].p95,
						   .wait = s->p[k].wait_p95,
						   .count = s->p[k].count };
		saturation__default_opts(&so);
		found = saturation__find(p, s->n, &so, &res);
		free(p);
		if (found != 1)
			continue;
		snprintf(name, sizeof(name), "%s %s", s->method, s->route);
		ep = runhtml__endpoint_index(r, name);
		if (!(c = cause_new(cs, 42 + (breached(r, ep) ? ON_BREACH : 0))))
			return -ENOMEM;
		snprintf(c->text, sizeof(c->text),
			 "%s saturates at about %s requests/s from t=%.0f s: beyond it requests "
			 "queue and p95 climbs",
			 name, analyze__rate(res.rate, a, sizeof(a)), res.t);
		ep_link(c, r, ep);
		cause_link(c, "#saturation", "saturation");
	}
	return 0;
}

static int other_causes(struct causes *cs, const struct run *r)
{
	struct cause *c;
	uint64_t drops = 0;

	for (unsigned i = 0; r->has_cache && i < r->cache.nflags; i++) {
		const struct run_cache_flag *fl = &r->cache.flags[i];
		int ep = runhtml__endpoint_index(r, fl->endpoint);

		if (!(c = cause_new(cs, 25 + (breached(r, ep) ? ON_BREACH : 0))))
			return -ENOMEM;
		snprintf(c->text, sizeof(c->text), "cache %s%s%s: %s", fl->kind,
			 fl->endpoint ? " on " : "", fl->endpoint ? fl->endpoint : "",
			 fl->evidence);
		ep_link(c, r, ep);
		cause_link(c, "#cache", "cache");
	}
	for (unsigned i = 0; r->has_tcp && i < r->tcp.nlisteners; i++)
		drops += r->tcp.listeners[i].drops;
	if (drops) {
		if (!(c = cause_new(cs, 33)))
			return -ENOMEM;
		snprintf(c->text, sizeof(c->text),
			 "the kernel dropped %llu handshake packets: an accept queue was full",
			 (unsigned long long)drops);
		cause_link(c, "#tcp", "tcp");
	}
	return 0;
}

static int cmp_cause(const void *a, const void *b)
{
	const struct cause *x = a, *y = b;

	/* Higher first; equal scores keep the order found. */
	if (x->score != y->score)
		return y->score - x->score;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int causes_list(FILE *f, const struct run *r, const struct runreport_opts *o,
		       const unsigned *order)
{
	struct causes cs = { 0 };
	char name[600], href[32];
	int err;

	if ((err = flag_causes(&cs, r, o->top)) || (err = db_share_causes(&cs, r, o->top)) ||
	    (err = saturation_causes(&cs, r)) || (err = other_causes(&cs, r)))
		goto out;
	/* A breaching endpoint that nothing explains is named as such, not left out. */
	for (unsigned j = 0; j < r->neps; j++) {
		unsigned ep = order[j], n = cs.n;
		bool any = false;
		struct cause *c;

		if (!runhtml__endpoint_breached(r, &r->eps[ep]))
			break;
		snprintf(href, sizeof(href), "#ep-%u", ep);
		for (unsigned k = 0; k < n && !any; k++)
			for (unsigned l = 0; l < cs.v[k].nlinks && !any; l++)
				any = !strcmp(cs.v[k].href[l], href);
		if (any)
			continue;
		if (!(c = cause_new(&cs, ON_BREACH))) {
			err = -ENOMEM;
			goto out;
		}
		snprintf(c->text, sizeof(c->text),
			 "%s breached its objectives and no flag or saturation point explains it: "
			 "see its latency over time",
			 run__endpoint_name(&r->eps[ep], name, sizeof(name)));
		ep_link(c, r, (int)ep);
	}
	qsort(cs.v, cs.n, sizeof(*cs.v), cmp_cause);
	html__section_begin(f, 3, "Top causes", "causes");
	if (!cs.n)
		html__p(f, "muted", "none found: no database or cache flag, no saturation point");
	else
		fputs("<ol>\n", f);
	for (unsigned k = 0; k < cs.n && k < CAUSES; k++) {
		const struct cause *c = &cs.v[k];

		fputs("<li>", f);
		html__escape(f, c->text);
		for (unsigned l = 0; l < c->nlinks; l++) {
			fputs(l ? ", " : " (evidence: ", f);
			html__link(f, c->href[l], c->label[l]);
		}
		fputs(c->nlinks ? ")</li>\n" : "</li>\n", f);
	}
	if (cs.n)
		fputs("</ol>\n", f);
	html__section_end(f);
out:
	free(cs.v);
	return err;
}

/* The endpoints an objective is about, as links: up to 3, then "and N more". */
static void slo_endpoints(FILE *f, const struct run *r, const struct run_slo *s)
{
	char name[600], href[32];
	unsigned n = 0;

	for (unsigned i = 0; i < r->neps; i++) {
		if (!runhtml__slo_targets(s, &r->eps[i]))
			continue;
		if (++n > 3)
			continue;
		fputs(n > 1 ? ", " : "", f);
		snprintf(href, sizeof(href), "#ep-%u", i);
		html__link(f, href, run__endpoint_name(&r->eps[i], name, sizeof(name)));
	}
	if (n > 3)
		fprintf(f, " and %u more", n - 3);
	if (!n) {
		char cut[RUNHTML_QUERY_CUT * 4 + 8];

		html__ellipsize(s->target ? s->target : s->name, RUNHTML_QUERY_CUT, cut,
				sizeof(cut));
		html__escape(f, cut);
	}
}

static void banner(FILE *f, const struct run *r, const struct runreport_opts *o)
{
	unsigned pass = 0, breach = 0, insufficient = 0;
	const char *cls;
	char head[160], line[300], a[64];

	for (unsigned i = 0; i < r->nslo; i++) {
		const char *v = r->slo[i].verdict;

		pass += !strcmp(v, "pass");
		breach += !strcmp(v, "breach");
		insufficient += strcmp(v, "pass") && strcmp(v, "breach");
	}
	if (!r->nslo) {
		cls = "insufficient";
		snprintf(head, sizeof(head), "No SLO judged");
	} else if (breach) {
		cls = "breach";
		snprintf(head, sizeof(head), "SLOs breached: %u of %u objectives", breach, r->nslo);
	} else if (!pass) {
		cls = "insufficient";
		snprintf(head, sizeof(head),
			 "Insufficient data: none of %u objectives could be "
			 "judged",
			 r->nslo);
	} else {
		cls = "pass";
		snprintf(head, sizeof(head), "SLOs held: %u of %u objectives passed", pass,
			 r->nslo);
	}
	fprintf(f, "<div class=\"banner %s\" id=\"verdict\">\n<div class=\"head\">", cls);
	html__escape(f, head);
	fputs("</div>\n", f);
	if (!r->nslo) {
		html__p(f, NULL,
			"Record with --slo FILE, or run sloprobe report --slo FILE on this "
			"report, to judge it against objectives.");
	} else {
		snprintf(line, sizeof(line),
			 "%u breach, %u pass, %u insufficient data (verdicts %s)%s", breach, pass,
			 insufficient, o->slo_source ? o->slo_source : "as recorded",
			 run__incomplete(r) ? "; judged on incomplete data: events were lost" : "");
		html__p(f, NULL, line);
	}
	if (breach)
		fputs("<ul>\n", f);
	for (unsigned i = 0; i < r->nslo; i++) {
		const struct run_slo *s = &r->slo[i];

		if (strcmp(s->verdict, "breach"))
			continue;
		fputs("<li>", f);
		slo_endpoints(f, r, s);
		fputs(": ", f);
		html__escape(f, s->objective);
		analyze__slo_value(s, s->observed, a, sizeof(a));
		snprintf(line, sizeof(line), ", observed %s", a);
		html__escape(f, line);
		if (isfinite(s->first_breach_s)) {
			snprintf(line, sizeof(line), ", first breached at t=%.1f s",
				 s->first_breach_s);
			html__escape(f, line);
		}
		fputs("</li>\n", f);
	}
	if (breach)
		fputs("</ul>\n", f);
	fputs("</div>\n", f);
}

static void facts(FILE *f, const struct run *r)
{
	struct analyze_out o = { .fmt = TABLE_TEXT };
	uint64_t req = run__requests(r), e4 = 0, e5 = 0;
	char line[ANALYZE_VAL_MAX + 400], a[32], b[32], c[32], cmd[ANALYZE_VAL_MAX];

	for (unsigned i = 0; i < r->neps; i++) {
		e4 += r->eps[i].err4xx;
		e5 += r->eps[i].err5xx;
	}
	snprintf(line, sizeof(line),
		 "%llu requests on %u endpoint%s in %.1f s (%s/s); 4xx: %llu (%s), 5xx: %llu (%s)",
		 (unsigned long long)req, r->neps, r->neps == 1 ? "" : "s", r->duration_s,
		 analyze__rate(r->duration_s > 0 ? req / r->duration_s : NAN, a, sizeof(a)),
		 (unsigned long long)e4, analyze__pct(req ? (double)e4 / req : NAN, b, sizeof(b)),
		 (unsigned long long)e5, analyze__pct(req ? (double)e5 / req : NAN, c, sizeof(c)));
	html__p(f, NULL, line);
	if (r->has_command) {
		fputs("<p>Load: <code>", f);
		html__escape(f, runreport__command(&o, r, cmd, sizeof(cmd)));
		fprintf(f, "</code> (exit %lld)</p>\n", (long long)r->exit_status);
	}
}

/* The whole run per interval: every HTTP series added up at the same t. */
struct whole {
	double *t;
	uint64_t *count, *e4, *e5;
	unsigned n;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int whole_of(const struct run *r, struct whole *w)
{
	unsigned cap = 0, n = 0;

	memset(w, 0, sizeof(*w));
	for (unsigned i = 0; i < r->timeline.nhttp; i++)
		cap += r->timeline.http[i].n;
	w->t = calloc(cap + 1, sizeof(*w->t));
	w->count = calloc(cap + 1, sizeof(*w->count));
	w->e4 = calloc(cap + 1, sizeof(*w->e4));
	w->e5 = calloc(cap + 1, sizeof(*w->e5));
	if (!w->t || !w->count || !w->e4 || !w->e5)
		return -ENOMEM;
	for (unsigned i = 0; i < r->timeline.nhttp; i++)
		for (unsigned k = 0; k < r->timeline.http[i].n; k++)
			w->t[n++] = r->timeline.http[i].p[k].t;
	qsort(w->t, n, sizeof(*w->t), cmp_double);
	for (unsigned k = 0; k < n; k++)
		if (!w->n || w->t[k] - w->t[w->n - 1] > 1e-6)
			w->t[w->n++] = w->t[k];
	/* Every tick rolls every endpoint (agg__roll): the same t in each series. */
	for (unsigned i = 0; i < r->timeline.nhttp; i++) {
		const struct run_series *s = &r->timeline.http[i];
		unsigned j = 0;

		for (unsigned k = 0; k < s->n; k++) {
			while (j < w->n && w->t[j] < s->p[k].t - 1e-6)
				j++;
			if (j == w->n)
				break;
			w->count[j] += s->p[k].count;
			w->e4[j] += s->p[k].e4xx;
			w->e5[j] += s->p[k].e5xx;
		}
	}
	return 0;
}

static void whole_free(struct whole *w)
{
	free(w->t), free(w->count), free(w->e4), free(w->e5);
}

static const char *const status_names[] = { "2xx/3xx", "4xx", "5xx" };
static const char *const status_colors[] = { "#4a7fbf", "#e0a000", "#c62828" };
static const char *const error_names[] = { "4xx", "5xx" };
static const char *const error_colors[] = { "#e0a000", "#c62828" };

static int whole_charts(FILE *f, const struct run *r)
{
	struct svg_stack_point *rate, *errs;
	struct whole w;
	int err;

	if ((err = whole_of(r, &w)) || !w.n)
		goto out;
	rate = calloc(w.n, sizeof(*rate));
	errs = calloc(w.n, sizeof(*errs));
	if (!rate || !errs) {
		free(rate), free(errs);
		err = -ENOMEM;
		goto out;
	}
	for (unsigned k = 0; k < w.n; k++) {
		double iv = r->timeline.interval_s;
		double span = k ? w.t[k] - w.t[k - 1] : (w.t[0] > 0 && w.t[0] < iv ? w.t[0] : iv);
		uint64_t bad = w.e4[k] + w.e5[k];

		rate[k].t_s = errs[k].t_s = w.t[k];
		rate[k].span_s = errs[k].span_s = span;
		rate[k].partial = errs[k].partial =
			w.n >= 2 && k == w.n - 1 && iv > 0 && span < 0.95 * iv;
		if (!(span > 0))
			continue;
		rate[k].v[0] = (double)(w.count[k] > bad ? w.count[k] - bad : 0) / span;
		rate[k].v[1] = (double)w.e4[k] / span;
		rate[k].v[2] = (double)w.e5[k] / span;
		errs[k].v[0] = w.count[k] ? 100.0 * (double)w.e4[k] / (double)w.count[k] : 0;
		errs[k].v[1] = w.count[k] ? 100.0 * (double)w.e5[k] / (double)w.count[k] : 0;
	}
	html__figure_begin(f);
	err = svg__stacked(f, "Requests per second by status class", "requests/s", NULL,
			   status_names, status_colors, 3, rate, w.n);
	html__figure_end(f, "throughput of the whole run per interval, by status class");
	html__figure_begin(f);
	err = err ? err
		  : svg__stacked(f, "Error rate", "share of requests", "%", error_names,
				 error_colors, 2, errs, w.n);
	html__figure_end(f, "4xx and 5xx responses per interval, % of the interval's requests");
	free(rate);
	free(errs);
out:
	whole_free(&w);
	return err;
}

/* p95 per interval of the endpoints that matter most (breaching, then busiest). */
static int p95_chart(FILE *f, const struct run *r, const unsigned *order)
{
	struct svg_series ser[OV_SERIES];
	struct svg_tpoint *pts[OV_SERIES] = { 0 };
	struct svg_mark marks[OV_MARKS];
	struct svg_span *spans = NULL;
	char names[OV_SERIES][64], rules[300], cap[500];
	double partial = NAN;
	size_t ns = 0, nm = 0, nspans = 0;
	int err = 0;

	for (unsigned j = 0; j < r->neps && ns < OV_SERIES; j++) {
		const struct run_endpoint *e = &r->eps[order[j]];
		const struct run_series *s = runhtml__series_of(r, e);

		if (!s)
			continue;
		if (!(pts[ns] = runhtml__tpoints(r, s, &partial))) {
			err = -ENOMEM;
			goto out;
		}
		run__endpoint_name(e, names[ns], sizeof(names[ns]));
		ser[ns] = (struct svg_series){
			.name = names[ns], .points = pts[ns], .n = s->n, .no_p99 = true
		};
		/* The first series' p95 objectives: its line, and its breaches shaded. */
		for (unsigned i = 0; !ns && i < r->nslo && nm < OV_MARKS; i++) {
			const struct run_slo *o = &r->slo[i];

			if (!runhtml__slo_targets(o, e) || isnan(o->threshold_ms) ||
			    o->percentile != 95)
				continue;
			marks[nm++] = (struct svg_mark){ SVG_MARK_SLO, o->threshold_ms, 95,
							 o->objective };
		}
		ns++;
	}
	if (!ns)
		goto out;
	if (!runhtml__series_drawable(ser, ns)) {
		html__p(f, "muted", runhtml__undrawn(partial, rules, sizeof(rules)));
		goto out;
	}
	if (!(spans = calloc(nm * ser[0].n + 1, sizeof(*spans)))) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nm; i++)
		nspans += svg__breach_spans(ser[0].points, ser[0].n, r->timeline.interval_s, 95,
					    marks[i].ms, spans + nspans, ser[0].n);
	html__figure_begin(f);
	err = svg__timeline(f, "p95 per interval", ser, ns, marks, nm, spans, nspans, false);
	snprintf(cap, sizeof(cap),
		 "the endpoints that breached first, then the busiest; shaded: "
		 "intervals of the first over its p95 objective; %s",
		 runhtml__rules(partial, rules, sizeof(rules)));
	html__figure_end(f, cap);
out:
	free(spans);
	for (size_t k = 0; k < OV_SERIES; k++)
		free(pts[k]);
	return err;
}

int runhtml__overview(FILE *f, const struct run *r, const struct runreport_opts *o,
		      const unsigned *order)
{
	int err;

	html__section_begin(f, 2, "Overview", "overview");
	banner(f, r, o);
	facts(f, r);
	err = causes_list(f, r, o, order);
	if (!err && r->has_timeline && r->timeline.nhttp) {
		fputs("<div class=\"grid\">\n", f);
		err = p95_chart(f, r, order);
		if (!err)
			err = whole_charts(f, r);
		fputs("</div>\n", f);
	}
	html__section_end(f);
	return err;
}
