// SPDX-License-Identifier: GPL-2.0-only
/*
 * `diff --format html`: two runs on one page. A banner first (which objectives changed verdict,
 * which endpoints got faster or slower), then the SLO table with the observed values, the
 * endpoints and queries with their changes (queries per request, DB ms per request) and those
 * found in one run only, the before/after charts, and the diff's cache, outbound, per-request
 * dependency and tcp sections: the text diff's (rundiff.c), written as HTML.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "analyze/html.h"
#include "analyze/runhtml.h"
#include "analyze/runreport.h"
#include "analyze/svg.h"
#include "lib/units.h"

#define DIFF_CHARTS 10 /* endpoints with before/after charts, in the baseline's order */

static int diff_endpoint(FILE *f, const struct run *a, const struct run *b,
			 const struct diff_rule *rule, const struct run_endpoint *x,
			 const struct run_endpoint *y)
{
	struct svg_mark marks[RUNHTML_MARKS];
	char labels[RUNHTML_MARKS][64], title[600], rules[300], cap[400];
	int pct_of[RUNHTML_MARKS];
	size_t na, nb, nm = runhtml__slo_marks(b, y, marks, labels, pct_of);
	struct svg_bucket *ba = runhtml__buckets(x->hist, &na),
			  *bb = runhtml__buckets(y->hist, &nb);
	const struct run_series *sa = runhtml__series_of(a, x), *sb = runhtml__series_of(b, y);
	struct svg_dist d[2] = { { a->path, ba, na }, { b->path, bb, nb } };
	int err;

	if (!nm)
		nm = runhtml__slo_marks(a, x, marks, labels, pct_of);
	if (!ba || !bb) {
		free(ba);
		free(bb);
		return -ENOMEM;
	}
	d[0].name = analyze__run_label(rule, 0);
	d[1].name = analyze__run_label(rule, 1);
	run__endpoint_name(x, title, sizeof(title));
	html__section_begin(f, 3, title, NULL);
	html__figure_begin(f);
	err = svg__cdf(f, "Latency CDF, before and after", d, 2, marks, nm);
	html__figure_end(f, "share of requests at or under a latency");
	if (!err && sa && sb) {
		double pa_partial, pb_partial;
		struct svg_tpoint *pa = runhtml__tpoints(a, sa, &pa_partial);
		struct svg_tpoint *pb = runhtml__tpoints(b, sb, &pb_partial);
		struct svg_series s[2] = {
			{ .name = analyze__run_label(rule, 0), .points = pa, .n = sa->n },
			{ .name = analyze__run_label(rule, 1), .points = pb, .n = sb->n }
		};

		if (pa && pb) {
			html__figure_begin(f);
			err = svg__timeline(f, "p95 and p99 per interval, before and after", s, 2,
					    marks, nm, NULL, 0, false);
			snprintf(cap, sizeof(cap), "solid: p95, dashed: p99; %s",
				 runhtml__rules(isfinite(pb_partial) ? pb_partial : pa_partial,
						rules, sizeof(rules)));
			html__figure_end(f, cap);
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

/* What one run has alone (side 0: the baseline, 1: the run after), named by its --label. */
static void only_in(FILE *f, const struct diff_rule *rule, int side, const char *what,
		    const char *name, uint64_t n, const char *unit, const char *cls)
{
	char q[RUNHTML_QUERY_CUT * 4 + 8], line[RUNHTML_QUERY_CUT * 4 + 200];
	const char *run = rule && rule->label[side] && *rule->label[side] ? rule->label[side]
			  : side					  ? "the run after"
									  : "the baseline";

	html__ellipsize(name, RUNHTML_QUERY_CUT, q, sizeof(q));
	fprintf(f, "<p class=\"%s\" title=\"", cls);
	html__escape(f, name);
	fputs("\">", f);
	snprintf(line, sizeof(line), "%s only in ", what);
	html__escape(f, line);
	html__escape(f, run);
	snprintf(line, sizeof(line), ": %s (%llu %s)", q, (unsigned long long)n, unit);
	html__escape(f, line);
	fputs("</p>\n", f);
}

static int diff_queries(FILE *f, const struct run *a, const struct run *b,
			const struct diff_rule *rule)
{
	static const char *const head[] = { "Query", "Calls", "p95 ms", "Total ms", "Verdict" };
	static const char align[] = "lrrrv";
	int *bo = calloc(a->ndbqs + 1, sizeof(*bo));
	bool *seen = calloc(b->ndbqs + 1, sizeof(*seen));
	char v[4][64], p0[32], p1[32], cut[RUNHTML_QUERY_CUT * 4 + 8];

	if (!bo || !seen || diff__match_queries(a, b, bo) < 0) {
		free(bo);
		free(seen);
		return -ENOMEM;
	}
	html__section_begin(f, 2, "DB queries", "db");
	html__table_begin_aligned(f, NULL, head, 5, align);
	for (unsigned i = 0; i < a->ndbqs; i++) {
		const struct run_dbq *x = &a->dbqs[i], *y;
		const char *cells[5] = { cut, v[0], v[1], v[2], v[3] };
		const char *tips[5] = { NULL };
		struct html_row row = { .cells = cells, .titles = tips, .n = 5, .align = align };
		struct diff_value dv[DIFF_VALUES_MAX];
		enum diff_class c;
		unsigned n;

		if (bo[i] < 0)
			continue;
		seen[bo[i]] = true;
		y = &b->dbqs[bo[i]];
		n = diff__query(rule, x, y, dv);
		c = diff__values_overall(dv, n);
		if (html__ellipsize(x->query, RUNHTML_QUERY_CUT, cut, sizeof(cut)))
			tips[0] = x->query;
		/* dv: calls, rate, p50, p95, p99, error rate, total ms */
		snprintf(v[0], sizeof(v[0]), "%llu -> %llu", (unsigned long long)x->count,
			 (unsigned long long)y->count);
		snprintf(v[1], sizeof(v[1]), "%s -> %s", units__ms(dv[3].before, p0, 32),
			 units__ms(dv[3].after, p1, 32));
		snprintf(v[2], sizeof(v[2]), "%.1f -> %.1f", dv[6].before, dv[6].after);
		snprintf(v[3], sizeof(v[3]), "%s", diff__class_name(c));
		row.cls = class_css(c);
		html__row(f, &row);
	}
	html__table_end(f);
	/* What one run has alone is often the headline: the N+1 query is gone. */
	for (unsigned i = 0; i < a->ndbqs; i++)
		if (bo[i] < 0)
			only_in(f, rule, 0, "gone: query", a->dbqs[i].query, a->dbqs[i].count,
				"calls", "note");
	for (unsigned i = 0; i < b->ndbqs; i++)
		if (!seen[i])
			only_in(f, rule, 1, "new: query", b->dbqs[i].query, b->dbqs[i].count,
				"calls", "note");
	html__section_end(f);
	free(bo);
	free(seen);
	return 0;
}

/* "21.00 -> 1.00" of a value, "-" when neither run has it. */
static const char *pair_of(const struct diff_value *v, bool ms, char *buf, size_t sz)
{
	char x[32], y[32];

	if (isnan(v->before) && isnan(v->after))
		return snprintf(buf, sz, "-"), buf;
	if (ms)
		snprintf(buf, sz, "%s -> %s", units__ms(v->before, x, sizeof(x)),
			 units__ms(v->after, y, sizeof(y)));
	else
		snprintf(buf, sz, "%.2f -> %.2f", v->before, v->after);
	return buf;
}

static const char *slo_cell(const struct run_slo *s, char *buf, size_t sz)
{
	char v[48];

	if (!s)
		return snprintf(buf, sz, "-"), buf;
	snprintf(buf, sz, "%s (%s)", analyze__verdict(s->verdict, false),
		 analyze__slo_value(s, s->observed, v, sizeof(v)));
	return buf;
}

#define BANNER_ITEMS 4 /* changed objectives and endpoints named in the banner, each kind */

struct diff_counts {
	unsigned reg, fixed, faster, slower;
	/* "items: p95 <= 300 ms", "GET /list: p95 52.69 -> 21.36 ms" */
	char reg_names[BANNER_ITEMS][200], fixed_names[BANNER_ITEMS][200];
	char faster_names[BANNER_ITEMS][400], slower_names[BANNER_ITEMS][400];
};

static void slo_section(FILE *f, const struct run *a, const struct run *b,
			const struct diff_rule *rule, struct diff_counts *dc)
{
	const char *head[] = { "Objective", "Target", "Baseline", "After", "Change" };
	static const char align[] = "llllv"; /* the change is the verdict cell */

	html__section_begin(f, 2, "SLO verdicts", "slo");
	if (rule->label[0])
		head[2] = rule->label[0];
	if (rule->label[1])
		head[3] = rule->label[1];
	html__table_begin_aligned(f, NULL, head, 5, align);
	for (int side = 0; side < 2; side++) {
		const struct run *r = side ? b : a, *other = side ? a : b;

		for (unsigned i = 0; i < r->nslo; i++) {
			const struct run_slo *s = &r->slo[i], *u = diff__find_slo(other, s);
			const struct run_slo *before = side ? u : s, *after = side ? s : u;
			const char *cells[5], *c = "-", *cls = NULL;
			char x[96], y[96];
			struct html_row row = { .cells = cells, .n = 5, .align = align };

			if (side && u)
				continue; /* listed with the baseline */
			if (before && after && !strcmp(before->verdict, "pass") &&
			    !strcmp(after->verdict, "breach")) {
				c = "regression";
				cls = "regressed";
				if (dc->reg < BANNER_ITEMS)
					snprintf(dc->reg_names[dc->reg], sizeof(dc->reg_names[0]),
						 "%s: %s", s->name, s->objective);
				dc->reg++;
			} else if (before && after && !strcmp(before->verdict, "breach") &&
				   !strcmp(after->verdict, "pass")) {
				c = "fixed";
				cls = "improved";
				if (dc->fixed < BANNER_ITEMS)
					snprintf(dc->fixed_names[dc->fixed],
						 sizeof(dc->fixed_names[0]), "%s: %s", s->name,
						 s->objective);
				dc->fixed++;
			} else if (!before || !after) {
				c = before ? "only in baseline" : "only in after";
			} else {
				cls = runhtml__verdict_class(after->verdict);
			}
			cells[0] = s->name;
			cells[1] = s->objective;
			cells[2] = slo_cell(before, x, sizeof(x));
			cells[3] = slo_cell(after, y, sizeof(y));
			cells[4] = c;
			row.cls = cls;
			html__row(f, &row);
		}
	}
	html__table_end(f);
	html__section_end(f);
}

static int endpoints(FILE *f, const struct run *a, const struct run *b,
		     const struct diff_rule *rule, struct diff_counts *dc, int *bo)
{
	static const char *const head[] = {
		"Endpoint", "Requests",		 "p50 ms",	    "p95 ms", "p99 ms",
		"5xx rate", "Queries / request", "DB ms / request", "Verdict"
	};
	static const char align[] = "lrrrrrrrv";
	struct svg_pair *pairs = calloc(a->neps + 1, sizeof(*pairs));
	char(*names)[300] = calloc(a->neps + 1, sizeof(*names));
	bool *seen = calloc(b->neps + 1, sizeof(*seen));
	unsigned np = 0, charts = 0;
	char v[8][96];
	int err = 0;

	if (!pairs || !names || !seen) {
		err = -ENOMEM;
		goto out;
	}
	html__section_begin(f, 2, "Endpoints", "endpoints");
	html__table_begin_aligned(f, NULL, head, 9, align);
	for (unsigned i = 0; i < a->neps; i++) {
		const struct run_endpoint *x = &a->eps[i], *y;
		struct diff_value dv[DIFF_VALUES_MAX], qpr = { 0 }, dbt = { 0 };
		const char *cells[9];
		struct html_row row = { .cells = cells, .n = 9, .align = align };
		char p0[32], p1[32];
		enum diff_class c;
		unsigned n;

		if (bo[i] < 0)
			continue;
		y = &b->eps[bo[i]];
		seen[bo[i]] = true;
		n = diff__endpoint(rule, x, y, dv);
		c = diff__values_overall(dv, n);
		qpr.before = qpr.after = dbt.before = dbt.after = NAN;
		for (unsigned k = 0; k < n; k++) {
			if (dv[k].dm == DIFF_QPR)
				qpr = dv[k];
			else if (dv[k].dm == DIFF_DB_TIME)
				dbt = dv[k];
		}
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
		pair_of(&qpr, false, v[5], sizeof(v[5]));
		pair_of(&dbt, true, v[6], sizeof(v[6]));
		snprintf(v[7], sizeof(v[7]), "%s", diff__class_name(c));
		if (c == DIFF_IMPROVED && dc->faster < BANNER_ITEMS)
			snprintf(dc->faster_names[dc->faster], sizeof(dc->faster_names[0]),
				 "%s: p95 %s ms", names[np], v[2]);
		if (c == DIFF_REGRESSED && dc->slower < BANNER_ITEMS)
			snprintf(dc->slower_names[dc->slower], sizeof(dc->slower_names[0]),
				 "%s: p95 %s ms", names[np], v[2]);
		dc->faster += c == DIFF_IMPROVED;
		dc->slower += c == DIFF_REGRESSED;
		pairs[np].label = names[np];
		cells[0] = names[np];
		for (int k = 0; k < 8; k++)
			cells[k + 1] = v[k];
		row.cls = class_css(c);
		html__row(f, &row);
		np++;
	}
	html__table_end(f);
	for (unsigned i = 0; i < a->neps; i++)
		if (bo[i] < 0)
			only_in(f, rule, 0, "gone: endpoint",
				run__endpoint_name(&a->eps[i], v[0], sizeof(v[0])), a->eps[i].count,
				"requests", "note");
	for (unsigned i = 0; i < b->neps; i++)
		if (!seen[i])
			only_in(f, rule, 1, "new: endpoint",
				run__endpoint_name(&b->eps[i], v[0], sizeof(v[0])), b->eps[i].count,
				"requests", "note");
	if (np) {
		html__figure_begin(f);
		err = svg__pairs(f, "p50, p95 and p99 before and after",
				 analyze__run_label(rule, 0), analyze__run_label(rule, 1), pairs,
				 np < 12 ? np : 12);
		html__figure_end(f, "per endpoint: p50, p95, p99; lighter: before");
	}
	for (unsigned i = 0; i < a->neps && !err && charts < DIFF_CHARTS; i++) {
		if (bo[i] < 0)
			continue;
		err = diff_endpoint(f, a, b, rule, &a->eps[i], &b->eps[bo[i]]);
		charts++;
	}
	html__section_end(f);
out:
	free(pairs);
	free(names);
	free(seen);
	return err;
}

/*
 * One of the text diff's sections (rundiff.c) written as HTML: its heading, tables and lines.
 * Left out when it writes nothing (no endpoint of both runs has calls).
 */
static int diff_section(FILE *f, const char *id,
			int (*section)(struct analyze_out *, const struct run *,
				       const struct run *),
			const struct run *a, const struct run *b, const struct diff_rule *rule)
{
	char *buf = NULL;
	size_t len = 0;
	struct analyze_out o = { .fmt = TABLE_HTML, .rule = rule };
	int err;

	if (!(o.f = open_memstream(&buf, &len)))
		return -ENOMEM;
	err = section(&o, a, b);
	if (fclose(o.f) && !err)
		err = -ENOMEM;
	if (!err && o.err)
		err = o.err;
	if (!err && len) {
		fprintf(f, "<section id=\"%s\">\n", id);
		fwrite(buf, 1, len, f);
		html__section_end(f);
	}
	free(buf);
	return err;
}

static bool has_deps(const struct run *r)
{
	for (unsigned i = 0; i < r->neps; i++)
		if (r->eps[i].has_dep[RUN_DEP_CACHE] || r->eps[i].has_dep[RUN_DEP_OUTBOUND])
			return true;
	return false;
}

/* One list item per name (the first BANNER_ITEMS of n, stride apart), a badge of the change. */
static void banner_items(FILE *f, const char *what, const char *cls, const char *names,
			 size_t stride, unsigned n)
{
	for (unsigned i = 0; i < n && i < BANNER_ITEMS; i++) {
		fputs("<li>", f);
		html__badge(f, cls, what);
		putc(' ', f);
		html__escape(f, names + i * stride);
		fputs("</li>\n", f);
	}
	if (n > BANNER_ITEMS)
		fprintf(f, "<li>and %u more %s</li>\n", n - BANNER_ITEMS, what);
}

/* The banner: which objectives changed verdict, which endpoints improved or regressed. */
static void banner(FILE *f, const struct diff_counts *dc, bool slo)
{
	const char *cls = dc->reg ? "breach" : dc->slower && !dc->faster ? "insufficient" : "pass";
	char head[200], line[200];

	if (dc->reg)
		snprintf(head, sizeof(head), "%u objective%s regressed (passed, now breached)",
			 dc->reg, dc->reg == 1 ? "" : "s");
	else if (dc->fixed)
		snprintf(head, sizeof(head), "%u objective%s fixed (breached, now pass)", dc->fixed,
			 dc->fixed == 1 ? "" : "s");
	else
		snprintf(head, sizeof(head),
			 slo ? "No objective changed verdict" : "No SLO judged");
	snprintf(line, sizeof(line),
		 "%u objective%s regressed, %u fixed; %u endpoint%s improved, %u regressed",
		 dc->reg, dc->reg == 1 ? "" : "s", dc->fixed, dc->faster,
		 dc->faster == 1 ? "" : "s", dc->slower);
	fprintf(f, "<div class=\"banner %s\" id=\"verdict\">\n<div class=\"head\">", cls);
	html__escape(f, head);
	fputs("</div>\n", f);
	html__p(f, NULL, line);
	fputs("<ul>\n", f);
#define ITEMS(what, cls, v, n) banner_items(f, what, cls, v[0], sizeof(v[0]), n)
	ITEMS("objective regressed", "regressed", dc->reg_names, dc->reg);
	ITEMS("objective fixed", "improved", dc->fixed_names, dc->fixed);
	ITEMS("endpoint regressed", "regressed", dc->slower_names, dc->slower);
	ITEMS("endpoint improved", "improved", dc->faster_names, dc->faster);
#undef ITEMS
	fputs("</ul>\n</div>\n", f);
}

/* "tuned (runs/tuned.json)" with a label, else the path; relative to here when under it. */
static void labelled(const struct run *r, const struct diff_rule *rule, int side, char *buf,
		     size_t sz)
{
	char p[400];

	analyze__relpath(r->path, p, sizeof(p));
	if (rule->label[side])
		snprintf(buf, sz, "%s (%s)", rule->label[side], p);
	else
		snprintf(buf, sz, "%s", p);
}

int runhtml__diff(FILE *f, const struct run *a, const struct run *b, const struct diff_rule *rule,
		  bool *slo_regressed)
{
	int *bo = calloc(a->neps + 1, sizeof(*bo));
	char title[1100], ra[500], rb[500];
	struct diff_counts dc = { 0 };
	char *body = NULL;
	size_t len = 0;
	FILE *m = NULL;
	int err = 0;

	*slo_regressed = false;
	if (!bo || diff__match_endpoints(a, b, bo) < 0 || !(m = open_memstream(&body, &len))) {
		err = -ENOMEM;
		goto out;
	}
	/* The body first, for the counts the banner above it needs. */
	if (a->has_slo || b->has_slo)
		slo_section(m, a, b, rule, &dc);
	*slo_regressed = dc.reg > 0;
	err = endpoints(m, a, b, rule, &dc, bo);
	if (!err && (a->ndbqs || b->ndbqs))
		err = diff_queries(m, a, b, rule);
	if (!err && (has_deps(a) || has_deps(b)))
		err = diff_section(m, "deps", rundiff__deps, a, b, rule);
	if (!err && (a->has_cache || b->has_cache))
		err = diff_section(m, "cache", rundiff__cache, a, b, rule);
	if (!err && (a->nouts || b->nouts))
		err = diff_section(m, "outbound", rundiff__outbound, a, b, rule);
	if (!err && (a->has_tcp || b->has_tcp))
		err = diff_section(m, "tcp", rundiff__tcp, a, b, rule);
	if (fclose(m) && !err)
		err = -ENOMEM;
	m = NULL;
	if (err)
		goto out;
	labelled(a, rule, 0, ra, sizeof(ra));
	labelled(b, rule, 1, rb, sizeof(rb));
	snprintf(title, sizeof(title), "sloprobe diff: %s vs %s", ra, rb);
	html__begin(f, title);
	html__section_begin(f, 2, "Overview", "overview");
	banner(f, &dc, a->has_slo || b->has_slo);
	snprintf(title, sizeof(title),
		 "A change counts when it exceeds %g %% of the baseline and %g ms (HTTP latency), "
		 "with at least %llu requests in both runs%s.",
		 rule->rel * 100, rule->lat_floor_ms, (unsigned long long)rule->min_samples,
		 rule->alpha > 0 ? "; a rate's change must also be significant (z-test)" : "");
	html__p(f, "note", title);
	html__section_end(f);
	fwrite(body, 1, len, f);
	html__sort_script(f);
	err = html__end(f);
out:
	if (m)
		fclose(m);
	free(body);
	free(bo);
	return err;
}
