// SPDX-License-Identifier: GPL-2.0-only
/*
 * `sloprobe diff`: a baseline and an after run side by side, each change judged against the
 * noise rule of src/diff.h. Deterministic given the two files.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "lib/units.h"

#define QUERY_TEXT 60
#define QUERY_MD   100

static const char *query_cell(const struct analyze_out *o, const char *q, char *buf, size_t sz)
{
	return analyze__val(o, q, analyze__md(o) ? QUERY_MD : QUERY_TEXT, buf, sz);
}

/* "GET /items/{id}" as a value of o. */
static const char *endpoint_cell(const struct analyze_out *o, const struct run_endpoint *e,
				 char *buf, size_t sz)
{
	char name[ANALYZE_VAL_MAX];

	return analyze__val(o, run__endpoint_name(e, name, sizeof(name)), 0, buf, sz);
}

static const char *value(const struct diff_value *m, double v, char *buf, size_t sz)
{
	switch (m->show) {
	case DIFF_SHOW_COUNT:
		snprintf(buf, sz, "%.0f", v);
		return buf;
	case DIFF_SHOW_RATE:
		return analyze__rate(v, buf, sz);
	case DIFF_SHOW_MS:
		return units__ms(v, buf, sz);
	case DIFF_SHOW_RATIO:
		return analyze__pct(v, buf, sz);
	default:
		snprintf(buf, sz, isnan(v) ? "-" : "%.2f", v);
		return buf;
	}
}

/* "+29.7 ms (+58.7 %)", "+0.50 pt", "+8.7 %". */
static const char *change(const struct diff_value *m, char *buf, size_t sz)
{
	double d = m->after - m->before;
	char rel[32] = "", a[32];

	if (isnan(d) || d == 0) {
		snprintf(buf, sz, isnan(d) ? "-" : "0");
		return buf;
	}
	if (m->before != 0)
		snprintf(rel, sizeof(rel), "%+.1f %%", d / fabs(m->before) * 100);
	switch (m->show) {
	case DIFF_SHOW_MS:
		units__ms(fabs(d), a, sizeof(a));
		if (rel[0])
			snprintf(buf, sz, "%c%s ms (%s)", d < 0 ? '-' : '+', a, rel);
		else
			snprintf(buf, sz, "%c%s ms", d < 0 ? '-' : '+', a);
		break;
	case DIFF_SHOW_RATIO:
		snprintf(buf, sz, "%+.2f pt", d * 100);
		break;
	case DIFF_SHOW_QPR:
		if (rel[0])
			snprintf(buf, sz, "%+.2f (%s)", d, rel);
		else
			snprintf(buf, sz, "%+.2f", d);
		break;
	default:
		snprintf(buf, sz, "%s", rel[0] ? rel : (d ? "new" : "0"));
		break;
	}
	return buf;
}

static void runs_section(struct analyze_out *o, const struct run *a, const struct run *b)
{
	static const char *const head[] = { "RUN",	"FILE",	    "HOST",    "START",
					    "DURATION", "REQUESTS", "DROPPED", "SLOPROBE" };
	static const char *const mdhead[] = {
		"Run", "File", "Host", "Start", "Duration", "Requests", "Events dropped", "sloprobe"
	};
	const struct run *r[2] = { a, b };
	char v[ANALYZE_VAL_MAX];
	struct table t;

	table__init(&t, "lllllrrl", analyze__md(o) ? mdhead : head);
	for (int i = 0; i < 2; i++) {
		table__cell(&t, i ? "after" : "baseline");
		table__cell(&t, "%s", analyze__text(o, r[i]->path, v, sizeof(v)));
		table__cell(&t, "%s", analyze__text(o, r[i]->hostname, v, sizeof(v)));
		table__cell(&t, "%s", analyze__text(o, r[i]->start, v, sizeof(v)));
		table__cell(&t, "%.3f s", r[i]->duration_s);
		table__cell(&t, "%llu", (unsigned long long)run__requests(r[i]));
		table__cell(&t, "%llu", (unsigned long long)r[i]->events_dropped);
		table__cell(&t, "%s", analyze__text(o, r[i]->tool_version, v, sizeof(v)));
	}
	analyze__table(o, &t);
}

static void rule_para(struct analyze_out *o)
{
	const struct diff_rule *r = o->rule;

	fprintf(o->f,
		"%sA change counts when it exceeds %g %% of the baseline value and an absolute "
		"floor: %g ms for HTTP latency, %g ms for query latency and DB time per request, "
		"%g percentage points for error rates, %g queries per request, %g/s for "
		"throughput; with at least %llu requests (or executions) in both runs, else "
		"\"few samples\". Throughput is shown but does not decide the verdict.\n",
		analyze__md(o) ? "\n" : "\n  ", r->rel * 100, r->lat_floor_ms, r->db_floor_ms,
		r->err_floor * 100, r->qpr_floor, r->rate_floor,
		(unsigned long long)r->min_samples);
}

static const char *slo_cell(const struct run_slo *s, char *buf, size_t sz)
{
	char v[48];

	snprintf(buf, sz, "%s (%s)", analyze__verdict(s->verdict, true),
		 analyze__slo_value(s, s->observed, v, sizeof(v)));
	return buf;
}

static void slo_section(struct analyze_out *o, const struct run *a, const struct run *b,
			bool *regressed)
{
	static const char *const head[] = { "OBJECTIVE", "TARGET", "BASELINE", "AFTER", "CHANGE" };
	static const char *const mdhead[] = { "Objective", "Target", "Baseline", "After",
					      "Change" };
	unsigned reg = 0, fixed = 0;
	struct table t;
	char x[96], y[96], v[ANALYZE_VAL_MAX];

	*regressed = false;
	if (!a->has_slo && !b->has_slo)
		return;
	analyze__heading(o, "SLO verdicts");
	table__init(&t, "lllll", analyze__md(o) ? mdhead : head);
	for (int side = 0; side < 2; side++) {
		const struct run *r = side ? b : a, *other = side ? a : b;

		for (unsigned i = 0; i < r->nslo; i++) {
			const struct run_slo *s = &r->slo[i], *u = diff__find_slo(other, s);
			const struct run_slo *before = side ? u : s, *after = side ? s : u;
			const char *c = "-";

			if (side && u)
				continue; /* listed with the baseline */
			if (before && after && !strcmp(before->verdict, "pass") &&
			    !strcmp(after->verdict, "breach")) {
				c = "REGRESSION";
				reg++;
			} else if (before && after && !strcmp(before->verdict, "breach") &&
				   !strcmp(after->verdict, "pass")) {
				c = "fixed";
				fixed++;
			} else if (!before || !after) {
				c = before ? "only in baseline" : "only in after";
			}
			table__cell(&t, "%s", analyze__val(o, s->name, 0, v, sizeof(v)));
			table__cell(&t, "%s", analyze__text(o, s->objective, v, sizeof(v)));
			table__cell(&t, "%s", before ? slo_cell(before, x, sizeof(x)) : "-");
			table__cell(&t, "%s", after ? slo_cell(after, y, sizeof(y)) : "-");
			table__cell(&t, "%s", c);
		}
	}
	analyze__table(o, &t);
	fprintf(o->f, "%s%u objective%s regressed (passed, now breached), %u fixed\n",
		analyze__md(o) ? "\n" : "  ", reg, reg == 1 ? "" : "s", fixed);
	*regressed = reg > 0;
}

static void counts_para(struct analyze_out *o, const char *what, const unsigned *c, unsigned added,
			unsigned removed)
{
	fprintf(o->f,
		"%s%s: %u regressed, %u improved, %u unchanged, %u with few samples, %u only "
		"in after, %u only in baseline\n",
		analyze__md(o) ? "\n" : "  ", what, c[DIFF_REGRESSED], c[DIFF_IMPROVED],
		c[DIFF_UNCHANGED], c[DIFF_FEW_SAMPLES], added, removed);
}

static void details(struct analyze_out *o, struct table *t, const char *name,
		    const struct diff_value *m, unsigned n)
{
	char x[48], y[48], z[64];

	for (unsigned i = 0; i < n; i++) {
		table__cell(t, "%s", i ? "" : name);
		table__cell(t, "%s", m[i].name);
		table__cell(t, "%s", value(&m[i], m[i].before, x, sizeof(x)));
		table__cell(t, "%s", value(&m[i], m[i].after, y, sizeof(y)));
		table__cell(t, "%s", change(&m[i], z, sizeof(z)));
		table__cell(t, "%s", m[i].judged ? diff__class_name(m[i].cls) : "");
	}
}

static const char *const sum_head[] = { "ENDPOINT", "SERVICE",	"REQUESTS", "P95 MS",
					"CHANGE",   "5XX RATE", "VERDICT" };
static const char *const sum_mdhead[] = { "Endpoint", "Service",  "Requests", "p95 ms",
					  "Change",   "5xx rate", "Verdict" };
static const char *const det_head[] = { "ENDPOINT", "METRIC", "BASELINE",
					"AFTER",    "CHANGE", "VERDICT" };
static const char *const det_mdhead[] = { "Endpoint", "Metric", "Baseline",
					  "After",    "Change", "Verdict" };

static int endpoints_section(struct analyze_out *o, const struct run *a, const struct run *b)
{
	int *bo = calloc(a->neps + 1, sizeof(*bo));
	bool *seen = calloc(b->neps + 1, sizeof(*seen));
	unsigned cls[4] = { 0 }, added = 0, removed = 0;
	struct diff_value m[DIFF_VALUES_MAX];
	struct table t;
	char name[ANALYZE_VAL_MAX], v[ANALYZE_VAL_MAX], w[ANALYZE_VAL_MAX], x[64], y[64], z[64];

	if (!bo || !seen || diff__match_endpoints(a, b, bo) < 0) {
		free(bo);
		free(seen);
		return -ENOMEM;
	}
	analyze__heading(o, "HTTP endpoints");
	table__init(&t, "llllrll", analyze__md(o) ? sum_mdhead : sum_head);
	for (unsigned i = 0; i < a->neps; i++) {
		const struct run_endpoint *x0 = &a->eps[i], *y0;
		enum diff_class c;
		unsigned n;

		if (bo[i] < 0) {
			removed++;
			continue;
		}
		y0 = &b->eps[bo[i]];
		seen[bo[i]] = true;
		n = diff__endpoint(o->rule, x0, y0, m);
		c = diff__values_overall(m, n);
		cls[c]++;
		table__cell(&t, "%s", endpoint_cell(o, x0, name, sizeof(name)));
		if (strcmp(x0->service, y0->service))
			table__cell(&t, "%s -> %s", analyze__val(o, x0->service, 0, v, sizeof(v)),
				    analyze__val(o, y0->service, 0, w, sizeof(w)));
		else
			table__cell(&t, "%s", analyze__val(o, x0->service, 0, v, sizeof(v)));
		table__cell(&t, "%llu -> %llu", (unsigned long long)x0->count,
			    (unsigned long long)y0->count);
		table__cell(&t, "%s -> %s", value(&m[3], m[3].before, x, sizeof(x)),
			    value(&m[3], m[3].after, y, sizeof(y)));
		table__cell(&t, "%s", change(&m[3], z, sizeof(z)));
		table__cell(&t, "%s -> %s", value(&m[5], m[5].before, x, sizeof(x)),
			    value(&m[5], m[5].after, y, sizeof(y)));
		table__cell(&t, "%s", diff__class_name(c));
	}
	for (unsigned k = 0; k < b->neps; k++)
		added += !seen[k];
	analyze__table(o, &t);
	counts_para(o, "Endpoints", cls, added, removed);

	for (unsigned i = 0; i < a->neps; i++)
		if (bo[i] < 0)
			fprintf(o->f, "%sonly in baseline: %s (%s), %llu requests\n",
				analyze__md(o) ? "- " : "  ",
				endpoint_cell(o, &a->eps[i], name, sizeof(name)),
				analyze__val(o, a->eps[i].service, 0, v, sizeof(v)),
				(unsigned long long)a->eps[i].count);
	for (unsigned k = 0; k < b->neps; k++)
		if (!seen[k])
			fprintf(o->f, "%sonly in after: %s (%s), %llu requests\n",
				analyze__md(o) ? "- " : "  ",
				endpoint_cell(o, &b->eps[k], name, sizeof(name)),
				analyze__val(o, b->eps[k].service, 0, v, sizeof(v)),
				(unsigned long long)b->eps[k].count);

	if (a->neps - removed) {
		analyze__heading(o, "HTTP endpoints in detail");
		table__init(&t, "llrrrl", analyze__md(o) ? det_mdhead : det_head);
		for (unsigned i = 0; i < a->neps; i++) {
			unsigned n;

			if (bo[i] < 0)
				continue;
			n = diff__endpoint(o->rule, &a->eps[i], &b->eps[bo[i]], m);
			details(o, &t, endpoint_cell(o, &a->eps[i], name, sizeof(name)), m, n);
		}
		analyze__table(o, &t);
	}
	free(bo);
	free(seen);
	return 0;
}

static int queries_section(struct analyze_out *o, const struct run *a, const struct run *b)
{
	static const char *const head[] = { "QUERY", "CALLS", "P95 MS", "CHANGE", "VERDICT" };
	static const char *const mdhead[] = { "Query", "Calls", "p95 ms", "Change", "Verdict" };
	int *bo = calloc(a->ndbqs + 1, sizeof(*bo));
	bool *seen = calloc(b->ndbqs + 1, sizeof(*seen));
	unsigned cls[4] = { 0 }, added = 0, removed = 0;
	struct diff_value m[DIFF_VALUES_MAX];
	struct table t;
	char q[ANALYZE_VAL_MAX], x[64], y[64], z[64];

	if (!bo || !seen || diff__match_queries(a, b, bo) < 0) {
		free(bo);
		free(seen);
		return -ENOMEM;
	}
	analyze__heading(o, "DB queries");
	table__init(&t, "lllll", analyze__md(o) ? mdhead : head);
	for (unsigned i = 0; i < a->ndbqs; i++) {
		enum diff_class c;
		unsigned n;

		if (bo[i] < 0) {
			removed++;
			continue;
		}
		seen[bo[i]] = true;
		n = diff__query(o->rule, &a->dbqs[i], &b->dbqs[bo[i]], m);
		c = diff__values_overall(m, n);
		cls[c]++;
		table__cell(&t, "%s", query_cell(o, a->dbqs[i].query, q, sizeof(q)));
		table__cell(&t, "%llu -> %llu", (unsigned long long)a->dbqs[i].count,
			    (unsigned long long)b->dbqs[bo[i]].count);
		table__cell(&t, "%s -> %s", value(&m[3], m[3].before, x, sizeof(x)),
			    value(&m[3], m[3].after, y, sizeof(y)));
		table__cell(&t, "%s", change(&m[3], z, sizeof(z)));
		table__cell(&t, "%s", diff__class_name(c));
	}
	for (unsigned k = 0; k < b->ndbqs; k++)
		added += !seen[k];
	analyze__table(o, &t);
	counts_para(o, "Queries", cls, added, removed);
	for (unsigned i = 0; i < a->ndbqs; i++)
		if (bo[i] < 0)
			fprintf(o->f, "%sonly in baseline: %s, %llu calls\n",
				analyze__md(o) ? "- " : "  ",
				query_cell(o, a->dbqs[i].query, q, sizeof(q)),
				(unsigned long long)a->dbqs[i].count);
	for (unsigned k = 0; k < b->ndbqs; k++)
		if (!seen[k])
			fprintf(o->f, "%sonly in after: %s, %llu calls\n",
				analyze__md(o) ? "- " : "  ",
				query_cell(o, b->dbqs[k].query, q, sizeof(q)),
				(unsigned long long)b->dbqs[k].count);

	if (a->ndbqs - removed) {
		analyze__heading(o, "DB queries in detail");
		table__init(&t, "llrrrl", analyze__md(o) ? det_mdhead : det_head);
		t.head[0] = analyze__md(o) ? "Query" : "QUERY";
		for (unsigned i = 0; i < a->ndbqs; i++) {
			unsigned n;

			if (bo[i] < 0)
				continue;
			n = diff__query(o->rule, &a->dbqs[i], &b->dbqs[bo[i]], m);
			details(o, &t, query_cell(o, a->dbqs[i].query, q, sizeof(q)), m, n);
		}
		analyze__table(o, &t);
	}
	free(bo);
	free(seen);
	return 0;
}

/* "python3 -> api.example:443 GET /pay", or "... (connect)" for connect failures. */
static const char *out_cell(const struct analyze_out *o, const struct run_out_call *c, char *buf,
			    size_t sz)
{
	char name[ANALYZE_VAL_MAX];

	snprintf(name, sizeof(name), "%s -> %s %s", c->caller, c->host[0] ? c->host : c->peer,
		 c->method[0] ? c->method : "(connect)");
	if (c->route[0])
		snprintf(name + strlen(name), sizeof(name) - strlen(name), " %s", c->route);
	return analyze__val(o, name, 0, buf, sz);
}

static int outbound_section(struct analyze_out *o, const struct run *a, const struct run *b)
{
	static const char *const head[] = { "CALL",	    "CALLS",	    "P95 MS", "CHANGE",
					    "FAILURE RATE", "RETRIES/CALL", "VERDICT" };
	static const char *const mdhead[] = { "Call",	      "Calls",		"p95 ms", "Change",
					      "Failure rate", "Retries / call", "Verdict" };
	int *bo = calloc(a->nouts + 1, sizeof(*bo));
	bool *seen = calloc(b->nouts + 1, sizeof(*seen));
	unsigned cls[4] = { 0 }, added = 0, removed = 0;
	struct diff_value m[DIFF_VALUES_MAX];
	struct table t;
	char q[ANALYZE_VAL_MAX], x[64], y[64], z[64];

	if (!bo || !seen || diff__match_outbound(a, b, bo) < 0) {
		free(bo);
		free(seen);
		return -ENOMEM;
	}
	analyze__heading(o, "Outbound HTTP calls");
	table__init(&t, "lllllll", analyze__md(o) ? mdhead : head);
	for (unsigned i = 0; i < a->nouts; i++) {
		enum diff_class c;
		unsigned n;

		if (bo[i] < 0) {
			removed++;
			continue;
		}
		seen[bo[i]] = true;
		n = diff__out_call(o->rule, &a->outs[i], &b->outs[bo[i]], m);
		c = diff__values_overall(m, n);
		cls[c]++;
		table__cell(&t, "%s", out_cell(o, &a->outs[i], q, sizeof(q)));
		table__cell(&t, "%llu -> %llu", (unsigned long long)a->outs[i].count,
			    (unsigned long long)b->outs[bo[i]].count);
		table__cell(&t, "%s -> %s", value(&m[2], m[2].before, x, sizeof(x)),
			    value(&m[2], m[2].after, y, sizeof(y)));
		table__cell(&t, "%s", change(&m[2], z, sizeof(z)));
		table__cell(&t, "%s -> %s", value(&m[4], m[4].before, x, sizeof(x)),
			    value(&m[4], m[4].after, y, sizeof(y)));
		table__cell(&t, "%s -> %s", value(&m[5], m[5].before, x, sizeof(x)),
			    value(&m[5], m[5].after, y, sizeof(y)));
		table__cell(&t, "%s", diff__class_name(c));
	}
	for (unsigned k = 0; k < b->nouts; k++)
		added += !seen[k];
	analyze__table(o, &t);
	counts_para(o, "Calls", cls, added, removed);
	for (unsigned i = 0; i < a->nouts; i++)
		if (bo[i] < 0)
			fprintf(o->f, "%sonly in baseline: %s, %llu calls\n",
				analyze__md(o) ? "- " : "  ",
				out_cell(o, &a->outs[i], q, sizeof(q)),
				(unsigned long long)a->outs[i].count);
	for (unsigned k = 0; k < b->nouts; k++)
		if (!seen[k])
			fprintf(o->f, "%sonly in after: %s, %llu calls\n",
				analyze__md(o) ? "- " : "  ",
				out_cell(o, &b->outs[k], q, sizeof(q)),
				(unsigned long long)b->outs[k].count);
	free(bo);
	free(seen);
	return 0;
}

int rundiff__write(FILE *f, const struct run *a, const struct run *b, const struct diff_rule *rule,
		   enum table_fmt fmt, bool *slo_regressed)
{
	struct analyze_out o = { .f = f, .fmt = fmt, .rule = rule };
	char x[ANALYZE_VAL_MAX], y[ANALYZE_VAL_MAX];
	int err;

	analyze__text(&o, a->path, x, sizeof(x));
	analyze__text(&o, b->path, y, sizeof(y));
	if (analyze__md(&o)) {
		fprintf(f, "# Tuning diff: %s vs %s\n", x, y);
		analyze__heading(&o, "Runs");
	} else {
		fprintf(f, "sloprobe diff: %s -> %s\n\n", x, y);
	}
	runs_section(&o, a, b);
	rule_para(&o);
	slo_section(&o, a, b, slo_regressed);
	if ((err = endpoints_section(&o, a, b)))
		return err;
	if ((a->ndbqs || b->ndbqs) && (err = queries_section(&o, a, b)))
		return err;
	if ((a->nouts || b->nouts) && (err = outbound_section(&o, a, b)))
		return err;
	if (o.err)
		return o.err;
	return ferror(f) ? -EIO : 0;
}
