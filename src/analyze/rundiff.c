// SPDX-License-Identifier: GPL-2.0-only
/*
 * `sloprobe diff`: a baseline and an after run side by side, each change judged against the
 * noise rule of src/diff.h. Deterministic given the two files.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "analyze/runreport.h"
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

const char *analyze__run_label(const struct diff_rule *rule, int side)
{
	if (rule && rule->label[side] && *rule->label[side])
		return rule->label[side];
	return side ? "after" : "baseline";
}

/* A run's name (its --label, else "baseline" / "after") as text of the output's format. */
static const char *side_name(const struct analyze_out *o, int side, char *buf, size_t sz)
{
	return analyze__text(o, analyze__run_label(o->rule, side), buf, sz);
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
		table__cell(&t, "%s",
			    analyze__text(o, analyze__run_label(o->rule, i), v, sizeof(v)));
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
	if (r->alpha > 0)
		fprintf(o->f,
			"%sA rate's change (errors, failures, retries per call) must also be "
			"significant at %g %% (two-proportion z-test): not a difference chance "
			"alone makes at the runs' sizes.\n",
			analyze__md(o) ? "\n" : "  ", (1 - r->alpha) * 100);
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
	const char *head[] = { "OBJECTIVE", "TARGET", "BASELINE", "AFTER", "CHANGE" };
	const char *mdhead[] = { "Objective", "Target", "Baseline", "After", "Change" };
	char la[ANALYZE_VAL_MAX], lb[ANALYZE_VAL_MAX], w[ANALYZE_VAL_MAX],
		only[ANALYZE_VAL_MAX + 8];
	unsigned reg = 0, fixed = 0;
	struct table t;
	char x[96], y[96], v[ANALYZE_VAL_MAX];

	*regressed = false;
	if (!a->has_slo && !b->has_slo)
		return;
	analyze__heading(o, "SLO verdicts");
	/* The runs' labels, when given, head their columns. */
	if (o->rule && o->rule->label[0])
		head[2] = mdhead[2] = analyze__text(o, o->rule->label[0], la, sizeof(la));
	if (o->rule && o->rule->label[1])
		head[3] = mdhead[3] = analyze__text(o, o->rule->label[1], lb, sizeof(lb));
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
				snprintf(only, sizeof(only), "only in %s",
					 side_name(o, !before, w, sizeof(w)));
				c = only;
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
	char la[ANALYZE_VAL_MAX], lb[ANALYZE_VAL_MAX];

	analyze__line(o, "\n", NULL,
		      "%s: %u regressed, %u improved, %u unchanged, %u with few samples, %u only "
		      "in %s, %u only in %s",
		      what, c[DIFF_REGRESSED], c[DIFF_IMPROVED], c[DIFF_UNCHANGED],
		      c[DIFF_FEW_SAMPLES], added, side_name(o, 1, lb, sizeof(lb)), removed,
		      side_name(o, 0, la, sizeof(la)));
}

/* A row that only one run has (side 0: the baseline, 1: the run after), named and counted. */
static void only_in(struct analyze_out *o, int side, const char *name, uint64_t calls)
{
	char l[ANALYZE_VAL_MAX];

	analyze__line(o, "- ", "note", "only in %s: %s, %llu calls",
		      side_name(o, side, l, sizeof(l)), name, (unsigned long long)calls);
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
			fprintf(o->f, "%sonly in %s: %s (%s), %llu requests\n",
				analyze__md(o) ? "- " : "  ", side_name(o, 0, w, sizeof(w)),
				endpoint_cell(o, &a->eps[i], name, sizeof(name)),
				analyze__val(o, a->eps[i].service, 0, v, sizeof(v)),
				(unsigned long long)a->eps[i].count);
	for (unsigned k = 0; k < b->neps; k++)
		if (!seen[k])
			fprintf(o->f, "%sonly in %s: %s (%s), %llu requests\n",
				analyze__md(o) ? "- " : "  ", side_name(o, 1, w, sizeof(w)),
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
			only_in(o, 0, query_cell(o, a->dbqs[i].query, q, sizeof(q)),
				a->dbqs[i].count);
	for (unsigned k = 0; k < b->ndbqs; k++)
		if (!seen[k])
			only_in(o, 1, query_cell(o, b->dbqs[k].query, q, sizeof(q)),
				b->dbqs[k].count);

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

int rundiff__outbound(struct analyze_out *o, const struct run *a, const struct run *b)
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
	table__init(&t, "lnnnnnl", analyze__page(o) ? mdhead : head);
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
			only_in(o, 0, out_cell(o, &a->outs[i], q, sizeof(q)), a->outs[i].count);
	for (unsigned k = 0; k < b->nouts; k++)
		if (!seen[k])
			only_in(o, 1, out_cell(o, &b->outs[k], q, sizeof(q)), b->outs[k].count);
	free(bo);
	free(seen);
	return 0;
}

/* "before -> after" of one value, each as m shows it; "-" for a side that has none, or both. */
static const char *pair(const struct diff_value *m, char *buf, size_t sz)
{
	char x[48], y[48];

	if (isnan(m->before) && isnan(m->after)) {
		snprintf(buf, sz, "-");
		return buf;
	}
	snprintf(buf, sz, "%s -> %s", value(m, m->before, x, sizeof(x)),
		 value(m, m->after, y, sizeof(y)));
	return buf;
}

static double row_ratio(const struct run_cache_row *c)
{
	return c->hits + c->misses ? (double)c->hits / (c->hits + c->misses) : NAN;
}

/*
 * Pair the cache rows of two runs: on their id (client, server, command, pattern), then the
 * rest on command and pattern (another client or server name). b_of_a[i]: the index in b, or -1.
 */
static void match_cache_rows(const struct run *a, const struct run *b, int *b_of_a, bool *taken)
{
	for (unsigned i = 0; i < a->cache.nrows; i++) {
		b_of_a[i] = -1;
		for (unsigned k = 0; k < b->cache.nrows && b_of_a[i] < 0; k++)
			if (!taken[k] && !strcmp(a->cache.rows[i].id, b->cache.rows[k].id)) {
				b_of_a[i] = (int)k;
				taken[k] = true;
			}
	}
	for (unsigned i = 0; i < a->cache.nrows; i++) {
		const struct run_cache_row *x = &a->cache.rows[i];

		for (unsigned k = 0; k < b->cache.nrows && b_of_a[i] < 0; k++) {
			const struct run_cache_row *y = &b->cache.rows[k];

			if (!taken[k] && !strcmp(x->verb, y->verb) &&
			    !strcmp(x->pattern, y->pattern)) {
				b_of_a[i] = (int)k;
				taken[k] = true;
			}
		}
	}
}

/* The cache section of both runs: the hit ratio, each row's calls, p95 and hit ratio. */
int rundiff__cache(struct analyze_out *o, const struct run *a, const struct run *b)
{
	static const char *const head[] = { "COMMAND", "CALLS", "P95 MS", "HIT RATIO", "CHANGE" };
	static const char *const mdhead[] = { "Command and key pattern", "Calls", "p95 ms",
					      "Hit ratio", "Change" };
	int *bo = calloc(a->cache.nrows + 1, sizeof(*bo));
	bool *taken = calloc(b->cache.nrows + 1, sizeof(*taken));
	struct diff_value ratio = { .show = DIFF_SHOW_RATIO }, p95 = { .show = DIFF_SHOW_MS };
	unsigned both = 0;
	char v[ANALYZE_VAL_MAX], x[128], y[64], la[ANALYZE_VAL_MAX], lb[ANALYZE_VAL_MAX];
	struct table t;

	if (!bo || !taken) {
		free(bo);
		free(taken);
		return -ENOMEM;
	}
	match_cache_rows(a, b, bo, taken);
	analyze__heading(o, "Cache (Redis)");
	ratio.before = a->has_cache ? run__cache_hit_ratio(a, NULL, NULL) : -1;
	ratio.after = b->has_cache ? run__cache_hit_ratio(b, NULL, NULL) : -1;
	ratio.before = ratio.before < 0 ? NAN : ratio.before;
	ratio.after = ratio.after < 0 ? NAN : ratio.after;
	analyze__para(o, "Hit ratio of the run: %s (%s)", pair(&ratio, x, sizeof(x)),
		      change(&ratio, y, sizeof(y)));
	table__init(&t, "lnnnn", analyze__page(o) ? mdhead : head);
	for (unsigned i = 0; i < a->cache.nrows; i++) {
		const struct run_cache_row *r0 = &a->cache.rows[i], *r1;

		if (bo[i] < 0)
			continue;
		both++;
		r1 = &b->cache.rows[bo[i]];
		p95.before = hist_sparse__percentile(r0->hist, 95) / 1e6;
		p95.after = hist_sparse__percentile(r1->hist, 95) / 1e6;
		ratio.before = row_ratio(r0);
		ratio.after = row_ratio(r1);
		table__cell(&t, "%s", runreport__cache_row_name(o, r0->verb, r0->pattern, v, 1024));
		table__cell(&t, "%llu -> %llu", (unsigned long long)r0->count,
			    (unsigned long long)r1->count);
		table__cell(&t, "%s", pair(&p95, x, sizeof(x)));
		table__cell(&t, "%s", pair(&ratio, x, sizeof(x)));
		table__cell(&t, "%s", change(&ratio, y, sizeof(y)));
	}
	if (both)
		analyze__table(o, &t);
	else
		table__free(&t);
	analyze__line(o, "\n", NULL, "Rows: %u in both runs, %u only in %s, %u only in %s", both,
		      b->cache.nrows - both, side_name(o, 1, lb, sizeof(lb)), a->cache.nrows - both,
		      side_name(o, 0, la, sizeof(la)));
	for (unsigned i = 0; i < a->cache.nrows; i++)
		if (bo[i] < 0)
			only_in(o, 0,
				runreport__cache_row_name(o, a->cache.rows[i].verb,
							  a->cache.rows[i].pattern, v, sizeof(v)),
				a->cache.rows[i].count);
	for (unsigned k = 0; k < b->cache.nrows; k++)
		if (!taken[k])
			only_in(o, 1,
				runreport__cache_row_name(o, b->cache.rows[k].verb,
							  b->cache.rows[k].pattern, v, sizeof(v)),
				b->cache.rows[k].count);
	free(bo);
	free(taken);
	return 0;
}

static bool has_deps(const struct run *r)
{
	for (unsigned i = 0; i < r->neps; i++)
		if (r->eps[i].has_dep[RUN_DEP_CACHE] || r->eps[i].has_dep[RUN_DEP_OUTBOUND])
			return true;
	return false;
}

/* One value of an endpoint's calls in both runs; NaN for a run that did not follow them. */
static void dep_value(struct diff_value *m, enum diff_show show, const struct run_endpoint *x,
		      const struct run_endpoint *y, int kind, size_t off)
{
	m->show = show;
	m->before = x->has_dep[kind] ? *(const double *)((const char *)&x->dep[kind] + off) : NAN;
	m->after = y->has_dep[kind] ? *(const double *)((const char *)&y->dep[kind] + off) : NAN;
}

/* Cache and outbound calls per request of the endpoints both runs have. */
int rundiff__deps(struct analyze_out *o, const struct run *a, const struct run *b)
{
	static const char *const head[] = {
		"ENDPOINT", "CACHE/REQ",    "CHANGE", "HIT RATIO",
		"CHANGE",   "OUTBOUND/REQ", "CHANGE", "OUTBOUND MS/REQ"
	};
	static const char *const mdhead[] = { "Endpoint", "Cache calls / request",
					      "Change",	  "Cache hit ratio",
					      "Change",	  "Outbound calls / request",
					      "Change",	  "Outbound ms / request" };
	int *bo = calloc(a->neps + 1, sizeof(*bo));
	char name[ANALYZE_VAL_MAX], x[128], y[64];
	struct table t;
	unsigned n = 0;

	if (!bo || diff__match_endpoints(a, b, bo) < 0) {
		free(bo);
		return -ENOMEM;
	}
	table__init(&t, "lnnnnnnn", analyze__page(o) ? mdhead : head);
	for (unsigned i = 0; i < a->neps; i++) {
		const struct run_endpoint *e0 = &a->eps[i], *e1;
		struct diff_value m;

		if (bo[i] < 0)
			continue;
		e1 = &b->eps[bo[i]];
		if (!e0->has_dep[RUN_DEP_CACHE] && !e0->has_dep[RUN_DEP_OUTBOUND] &&
		    !e1->has_dep[RUN_DEP_CACHE] && !e1->has_dep[RUN_DEP_OUTBOUND])
			continue;
		n++;
		table__cell(&t, "%s", endpoint_cell(o, e0, name, sizeof(name)));
		dep_value(&m, DIFF_SHOW_QPR, e0, e1, RUN_DEP_CACHE,
			  offsetof(struct run_ep_dep, calls_per_request));
		table__cell(&t, "%s", pair(&m, x, sizeof(x)));
		table__cell(&t, "%s", change(&m, y, sizeof(y)));
		dep_value(&m, DIFF_SHOW_RATIO, e0, e1, RUN_DEP_CACHE,
			  offsetof(struct run_ep_dep, hit_ratio));
		table__cell(&t, "%s", pair(&m, x, sizeof(x)));
		table__cell(&t, "%s", change(&m, y, sizeof(y)));
		dep_value(&m, DIFF_SHOW_QPR, e0, e1, RUN_DEP_OUTBOUND,
			  offsetof(struct run_ep_dep, calls_per_request));
		table__cell(&t, "%s", pair(&m, x, sizeof(x)));
		table__cell(&t, "%s", change(&m, y, sizeof(y)));
		dep_value(&m, DIFF_SHOW_MS, e0, e1, RUN_DEP_OUTBOUND,
			  offsetof(struct run_ep_dep, ms_per_request));
		table__cell(&t, "%s", pair(&m, x, sizeof(x)));
	}
	if (n) {
		analyze__heading(o, analyze__page(o) ? "Cache and outbound calls per endpoint"
						     : "Cache and outbound calls per request");
		analyze__table(o, &t);
	} else {
		table__free(&t);
	}
	free(bo);
	return 0;
}

/* One (role, port) of the tcp section's peers, its counts summed over the peers; or a listener. */
struct tcp_key {
	bool listener, server;
	uint16_t port;
};

static void tcp_sum(const struct run *r, const struct tcp_key *k, uint64_t n[RUN_TCP_KIND_NR + 1])
{
	memset(n, 0, (RUN_TCP_KIND_NR + 1) * sizeof(*n));
	if (!r->has_tcp)
		return;
	if (k->listener) {
		for (unsigned i = 0; i < r->tcp.nlisteners; i++)
			if (r->tcp.listeners[i].port == k->port)
				n[RUN_TCP_KIND_NR] += r->tcp.listeners[i].drops;
		return;
	}
	for (unsigned i = 0; i < r->tcp.npeers; i++) {
		const struct run_tcp_peer *p = &r->tcp.peers[i];

		if (p->server == k->server && p->port == k->port)
			for (int j = 0; j < RUN_TCP_KIND_NR; j++)
				n[j] += p->n[j];
	}
}

static unsigned tcp_keys_add(struct tcp_key *keys, unsigned n, const struct tcp_key *k)
{
	for (unsigned i = 0; i < n; i++)
		if (keys[i].listener == k->listener && keys[i].server == k->server &&
		    keys[i].port == k->port)
			return n;
	keys[n] = *k;
	return n + 1;
}

/*
 * The kernel's saturation signs of both runs: listen-queue drops per port, retransmits and
 * resets per role and port (peers summed: their addresses and ports differ from run to run).
 */
int rundiff__tcp(struct analyze_out *o, const struct run *a, const struct run *b)
{
	static const char *const head[] = {
		"PORT", "ROLE", "COUNT", "BASELINE", "AFTER", "CHANGE"
	};
	static const char *const mdhead[] = {
		"Port", "Role", "Count", "Baseline", "After", "Change"
	};
	const struct run *r[2] = { a, b };
	unsigned cap = 0, nk = 0, rows = 0;
	struct tcp_key *keys;
	struct table t;
	char y[64], la[ANALYZE_VAL_MAX];

	for (int i = 0; i < 2; i++)
		cap += r[i]->tcp.nlisteners + r[i]->tcp.npeers;
	keys = calloc(cap + 1, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (int i = 0; i < 2; i++) {
		for (unsigned j = 0; j < r[i]->tcp.nlisteners; j++) {
			struct tcp_key k = { .listener = true,
					     .port = r[i]->tcp.listeners[j].port };

			nk = tcp_keys_add(keys, nk, &k);
		}
		for (unsigned j = 0; j < r[i]->tcp.npeers; j++) {
			struct tcp_key k = { .server = r[i]->tcp.peers[j].server,
					     .port = r[i]->tcp.peers[j].port };

			nk = tcp_keys_add(keys, nk, &k);
		}
	}
	analyze__heading(o, "TCP (what the kernel saw)");
	if (!a->has_tcp || !b->has_tcp)
		analyze__para(o,
			      "only the %s run has a tcp section (the other was recorded by an "
			      "older sloprobe)",
			      side_name(o, !a->has_tcp, la, sizeof(la)));
	table__init(&t, "rllrrn", analyze__page(o) ? mdhead : head);
	for (unsigned i = 0; i < nk; i++) {
		uint64_t n0[RUN_TCP_KIND_NR + 1], n1[RUN_TCP_KIND_NR + 1];

		tcp_sum(a, &keys[i], n0);
		tcp_sum(b, &keys[i], n1);
		for (int j = 0; j <= RUN_TCP_KIND_NR; j++) {
			struct diff_value m = { .show = DIFF_SHOW_COUNT };

			if ((keys[i].listener != (j == RUN_TCP_KIND_NR)) || (!n0[j] && !n1[j]))
				continue;
			m.before = a->has_tcp ? (double)n0[j] : NAN;
			m.after = b->has_tcp ? (double)n1[j] : NAN;
			table__cell(&t, "%u", keys[i].port);
			table__cell(&t, "%s",
				    keys[i].listener ? "listener"
				    : keys[i].server ? "server"
						     : "client");
			table__cell(&t, "%s",
				    j == RUN_TCP_KIND_NR ? "listen drops" : run_tcp_names[j]);
			table__cell(&t, a->has_tcp ? "%llu" : "-", (unsigned long long)n0[j]);
			table__cell(&t, b->has_tcp ? "%llu" : "-", (unsigned long long)n1[j]);
			table__cell(&t, "%s", change(&m, y, sizeof(y)));
			rows++;
		}
	}
	free(keys);
	if (rows)
		analyze__table(o, &t);
	else {
		table__free(&t);
		analyze__para(o, "no listen-queue drop, retransmit or reset in either run");
	}
	if (a->has_tcp && b->has_tcp && a->tcp.has_host && b->tcp.has_host)
		analyze__para(o, "host-wide listen overflows (/proc/net/netstat): %llu -> %llu",
			      (unsigned long long)a->tcp.host_overflows,
			      (unsigned long long)b->tcp.host_overflows);
	return 0;
}

/* "tuned (runs/tuned.json)" with a label, else the path as given. */
static void labelled_path(const struct analyze_out *o, const struct run *r, int side, char *buf,
			  size_t sz)
{
	char p[600], l[200], rel[600]; /* p and l fit the caller's ANALYZE_VAL_MAX */

	analyze__text(o, analyze__relpath(r->path, rel, sizeof(rel)), p, sizeof(p));
	if (o->rule->label[side])
		snprintf(buf, sz, "%s (%s)", analyze__text(o, o->rule->label[side], l, sizeof(l)),
			 p);
	else
		snprintf(buf, sz, "%s", p);
}

int rundiff__write(FILE *f, const struct run *a, const struct run *b, const struct diff_rule *rule,
		   enum table_fmt fmt, bool *slo_regressed)
{
	struct analyze_out o = { .f = f, .fmt = fmt, .rule = rule };
	char x[ANALYZE_VAL_MAX], y[ANALYZE_VAL_MAX];
	int err;

	labelled_path(&o, a, 0, x, sizeof(x));
	labelled_path(&o, b, 1, y, sizeof(y));
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
	if ((has_deps(a) || has_deps(b)) && (err = rundiff__deps(&o, a, b)))
		return err;
	if ((a->has_cache || b->has_cache) && (err = rundiff__cache(&o, a, b)))
		return err;
	if ((a->nouts || b->nouts) && (err = rundiff__outbound(&o, a, b)))
		return err;
	if ((a->has_tcp || b->has_tcp) && (err = rundiff__tcp(&o, a, b)))
		return err;
	if (o.err)
		return o.err;
	return ferror(f) ? -EIO : 0;
}
