// SPDX-License-Identifier: GPL-2.0-only
/*
 * `sloprobe report`: one run as text or as the markdown tuning report a team pastes into a
 * review. The output depends on the input file only (no clock, no locale), so it can be
 * compared against golden files.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "analyze/html.h"
#include "analyze/saturation.h"
#include "lib/textesc.h"

#define QUERY_TEXT  60 /* query text shown in text tables, code points */
#define QUERY_MD    100
#define COMMAND_MAX 160

const char *analyze__ms(double ms, char *buf, size_t sz)
{
	if (isnan(ms))
		snprintf(buf, sz, "-");
	else if (fabs(ms) >= 100)
		snprintf(buf, sz, "%.1f", ms);
	else if (fabs(ms) >= 1)
		snprintf(buf, sz, "%.2f", ms);
	else
		snprintf(buf, sz, "%.3f", ms);
	return buf;
}

const char *analyze__rate(double per_s, char *buf, size_t sz)
{
	if (isnan(per_s))
		snprintf(buf, sz, "-");
	else
		snprintf(buf, sz, per_s >= 100 ? "%.1f" : "%.2f", per_s);
	return buf;
}

const char *analyze__pct(double ratio, char *buf, size_t sz)
{
	if (isnan(ratio))
		snprintf(buf, sz, "-");
	else if (ratio == 0)
		snprintf(buf, sz, "0 %%");
	else
		snprintf(buf, sz, "%.2f %%", ratio * 100);
	return buf;
}

static bool md(const struct analyze_out *o)
{
	return o->fmt == TABLE_MARKDOWN;
}

void analyze__heading(struct analyze_out *o, const char *title)
{
	if (md(o))
		fprintf(o->f, "\n## %s\n\n", title);
	else
		fprintf(o->f, "\n%s\n", title);
}

void analyze__table(struct analyze_out *o, struct table *t)
{
	int err = table__print(t, o->f, o->fmt, 2);

	if (err && !o->err)
		o->err = err;
	table__free(t);
}

/* A paragraph (markdown) or an indented line (text). */
static void __attribute__((format(printf, 2, 3))) para(struct analyze_out *o, const char *fmt, ...)
{
	va_list ap;

	fputs(md(o) ? "" : "  ", o->f);
	va_start(ap, fmt);
	vfprintf(o->f, fmt, ap);
	va_end(ap);
	fputs(md(o) ? "\n\n" : "\n", o->f);
}

const char *analyze__cut(const char *s, size_t max, char *buf, size_t sz)
{
	html__ellipsize(s, max, buf, sz);
	return buf;
}

const char *analyze__val(const struct analyze_out *o, const char *s, size_t max, char *buf,
			 size_t sz)
{
	char esc[ANALYZE_VAL_MAX], cut[ANALYZE_VAL_MAX];

	/* Escaped before the cut, so the cut counts what is shown; then marked up whole. */
	s = s ? s : "";
	textesc__term(esc, sizeof(esc), s, strlen(s));
	s = max ? analyze__cut(esc, max, cut, sizeof(cut)) : esc;
	if (md(o))
		textesc__md_code(buf, sz, s, strlen(s));
	else
		snprintf(buf, sz, "%s", s);
	return buf;
}

const char *analyze__text(const struct analyze_out *o, const char *s, char *buf, size_t sz)
{
	s = s ? s : "";
	if (md(o))
		textesc__md_text(buf, sz, s, strlen(s));
	else
		textesc__term(buf, sz, s, strlen(s));
	return buf;
}

static bool shell_safe(const char *a)
{
	if (!*a)
		return false;
	for (; *a; a++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./"
			    ":=,+-@%",
			    *a))
			return false;
	return true;
}

/* The traced command as a shell would read it, cut to COMMAND_MAX code points. */
static const char *command_line(const struct analyze_out *o, const struct run *r, char *buf,
				size_t sz)
{
	char *line = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&line, &len);

	if (!m)
		return "";
	for (unsigned i = 0; i < r->argc; i++) {
		const char *a = r->argv[i];

		if (i)
			putc(' ', m);
		if (shell_safe(a)) {
			fputs(a, m);
			continue;
		}
		putc('\'', m);
		for (; *a; a++)
			fputs(*a == '\'' ? "'\\''" : (char[]){ *a, 0 }, m);
		putc('\'', m);
	}
	fclose(m);
	if (!line)
		return "";
	analyze__val(o, line, COMMAND_MAX, buf, sz);
	free(line);
	return buf;
}

static uint64_t total_queries(const struct run *r)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < r->ndbqs; i++)
		n += r->dbqs[i].count;
	return n;
}

/* "261 received, 3 dropped (ringbuf_full 3)": every non-zero loss counter is named. */
static void events_line(const struct analyze_out *o, const struct run *r, char *buf, size_t sz)
{
	size_t n = snprintf(buf, sz, "%llu received, %llu dropped",
			    (unsigned long long)r->events_total,
			    (unsigned long long)r->events_dropped);
	char k[ANALYZE_VAL_MAX];
	bool any = false;

	for (unsigned i = 0; i < r->events.n && n < sz; i++) {
		if (!r->events.v[i].n)
			continue;
		n += snprintf(buf + n, sz - n, "%s%s %llu", any ? ", " : " (",
			      analyze__text(o, r->events.v[i].key, k, sizeof(k)),
			      (unsigned long long)r->events.v[i].n);
		any = true;
	}
	if (any && n < sz)
		snprintf(buf + n, sz - n, ")");
}

/* Losses outside the event stream: fingerprints and flags the DB tables could not keep. */
static void db_drops_line(const struct run *r, char *buf, size_t sz)
{
	uint64_t fps = run__count(&r->db_stats, "fingerprints_dropped");
	uint64_t fl = run__count(&r->db_stats, "flags_dropped");

	buf[0] = 0;
	if (fps || fl)
		snprintf(buf, sz, "%llu executions of fingerprints beyond the table, %llu flags",
			 (unsigned long long)fps, (unsigned long long)fl);
}

static void scope(struct analyze_out *o, const struct run *r)
{
	static const char *const head[] = { "", "" };
	char a[512], b[ANALYZE_VAL_MAX], c[ANALYZE_VAL_MAX], d[ANALYZE_VAL_MAX];
	uint64_t req = run__requests(r), q = total_queries(r);
	struct table t;

	table__init(&t, "ll", head);
	if (md(o)) {
		t.head[0] = "Item";
		t.head[1] = "Value";
	}
	table__cell(&t, "Host");
	table__cell(&t, "%s, Linux %s", analyze__text(o, r->hostname, b, sizeof(b)),
		    analyze__text(o, r->kernel, c, sizeof(c)));
	table__cell(&t, "Window");
	table__cell(&t, "%s to %s (%.3f s)", analyze__text(o, r->start, b, sizeof(b)),
		    analyze__text(o, r->end, c, sizeof(c)), r->duration_s);
	if (r->nsources) {
		table__cell(&t, "Merged from");
		table__cell(&t, "%u reports", r->nsources);
	}
	table__cell(&t, "Load");
	if (r->has_command) {
		table__cell(&t, "%s (exit %lld)", command_line(o, r, b, sizeof(b)),
			    (long long)r->exit_status);
	} else {
		table__cell(&t, "not recorded (traced until stopped)");
	}
	table__cell(&t, "Traffic");
	if (r->has_db)
		snprintf(a, sizeof(a), "; %llu DB queries, %u fingerprints", (unsigned long long)q,
			 r->ndbqs);
	else
		snprintf(a, sizeof(a), "; database tracing off");
	table__cell(&t, "%llu HTTP requests on %u endpoint%s (%s/s)%s", (unsigned long long)req,
		    r->neps, r->neps == 1 ? "" : "s",
		    analyze__rate(r->duration_s > 0 ? req / r->duration_s : 0, c, 16), a);
	events_line(o, r, a, sizeof(a));
	table__cell(&t, "Events");
	table__cell(&t, "%s", a);
	db_drops_line(r, a, sizeof(a));
	if (a[0]) {
		table__cell(&t, "DB drops");
		table__cell(&t, "%s", a);
	}
	table__cell(&t, "Recorded by");
	table__cell(&t, "sloprobe %s", analyze__text(o, r->tool_version, d, sizeof(d)));
	analyze__table(o, &t);
}

const char *analyze__slo_value(const struct run_slo *s, double v, char *buf, size_t sz)
{
	char tmp[32];
	const char *u = s->unit ? s->unit : "";

	if (isnan(v) || !strcmp(u, "ratio"))
		return analyze__pct(v, buf, sz);
	if (!strcmp(u, "ms")) {
		snprintf(buf, sz, "%s ms", analyze__ms(v, tmp, sizeof(tmp)));
		return buf;
	}
	snprintf(buf, sz, "%g", v);
	return buf;
}

const char *analyze__budget(double b, char *buf, size_t sz)
{
	if (isinf(b)) {
		snprintf(buf, sz, "exceeded (none allowed)");
		return buf;
	}
	return analyze__pct(b, buf, sz);
}

const char *analyze__verdict(const char *v, bool upper)
{
	if (!strcmp(v, "breach"))
		return upper ? "BREACH" : "breach";
	if (!strcmp(v, "insufficient_data"))
		return "insufficient data";
	return v;
}

static void slo_section(struct analyze_out *o, const struct run *r, const char *source,
			const struct runslo_notes *notes)
{
	static const char *const head[] = { "OBJECTIVE",  "TARGET",  "SCOPE",
					    "OBSERVED",	  "MARGIN",  "BUDGET",
					    "GOOD/TOTAL", "VERDICT", "FIRST BREACH" };
	static const char *const mdhead[] = { "Objective",    "Target",	 "Scope",
					      "Observed",     "Margin",	 "Error budget used",
					      "Good / total", "Verdict", "First breach" };
	char title[160], a[48], b[48], c[48], v[ANALYZE_VAL_MAX];
	unsigned pass = 0, breach = 0, few = 0, approx = 0;
	struct table t;

	snprintf(title, sizeof(title), md(o) ? "SLO targets and verdicts (%s)" : "SLOs (%s)",
		 source);
	analyze__heading(o, title);
	if (!r->nslo) {
		para(o, "no objectives");
		return;
	}
	table__init(&t, "lllrrrrll", md(o) ? mdhead : head);
	for (unsigned i = 0; i < r->nslo; i++) {
		const struct run_slo *s = &r->slo[i];

		pass += !strcmp(s->verdict, "pass");
		breach += !strcmp(s->verdict, "breach");
		few += !strcmp(s->verdict, "insufficient_data");
		table__cell(&t, "%s", analyze__val(o, s->name, 0, v, sizeof(v)));
		table__cell(&t, "%s", analyze__text(o, s->objective, v, sizeof(v)));
		table__cell(&t, "%s",
			    s->target ? analyze__val(o, s->target, 0, v, sizeof(v)) : "-");
		table__cell(&t, "%s%s", s->approximate ? "~" : "",
			    analyze__slo_value(s, s->observed, a, sizeof(a)));
		approx += s->approximate;
		table__cell(&t, "%s", analyze__slo_value(s, s->margin, b, sizeof(b)));
		table__cell(&t, "%s", analyze__budget(s->budget_consumed, c, sizeof(c)));
		if (s->has_counts)
			table__cell(&t, "%llu/%llu", (unsigned long long)s->good,
				    (unsigned long long)s->total);
		else
			table__cell(&t, "-");
		table__cell(&t, "%s%s", analyze__verdict(s->verdict, true),
			    run__incomplete(r) && strcmp(s->verdict, "insufficient_data") ? "*" : "");
		if (isnan(s->first_breach_s))
			table__cell(&t, "-");
		else
			table__cell(&t, "t=%.1f s", s->first_breach_s);
	}
	analyze__table(o, &t);
	if (md(o))
		fputc('\n', o->f);
	para(o, "%u passed, %u breached, %u with insufficient data", pass, breach, few);
	if (run__incomplete(r))
		para(o,
		     "* judged on incomplete data: %.3g %% of the run's events were lost (%llu of "
		     "%llu); a lost request can hide a breach as well as make one",
		     slo__drop_pct(r->events_dropped, r->events_total),
		     (unsigned long long)r->events_dropped,
		     (unsigned long long)(r->events_total + r->events_dropped));
	if (approx)
		para(o,
		     "~ %u verdict%s counted from histogram buckets (a bucket straddles the "
		     "threshold: up to 0.79 %% of a value off)",
		     approx, approx == 1 ? "" : "s");
	if (notes && notes->recorded)
		para(o, "%u verdict%s taken from the exact counters recorded with the run",
		     notes->recorded, notes->recorded == 1 ? "" : "s");
	if (notes && notes->warmup_ignored)
		para(o, "the SLO file's warm-up is not applied: a saved report's histograms cover "
			"the whole window");
}

static void endpoints_section(struct analyze_out *o, const struct run *r)
{
	static const char *const head[] = { "SERVICE",	"ENDPOINT", "COUNT", "RATE/S", "P50",
					    "P95",	"P99",	    "MAX",   "4XX",    "5XX",
					    "5XX RATE", "429",	    "409" };
	static const char *const mdhead[] = { "Service", "Endpoint", "Requests", "Rate/s",
					      "p50 ms",	 "p95 ms",   "p99 ms",	 "max ms",
					      "4xx",	 "5xx",	     "5xx rate", "429",
					      "409" };
	char a[48], v[ANALYZE_VAL_MAX], w[ANALYZE_VAL_MAX];
	struct table t;
	bool notes = false;

	analyze__heading(o, md(o) ? "Measured per endpoint" : "HTTP endpoints (latency in ms)");
	if (!r->neps) {
		para(o, "no HTTP requests");
		return;
	}
	table__init(&t, "llrrrrrrrrrrr", md(o) ? mdhead : head);
	for (unsigned i = 0; i < r->neps; i++) {
		const struct run_endpoint *e = &r->eps[i];
		const struct hist_sparse *h = e->hist;

		table__cell(&t, "%s", analyze__val(o, e->service, 0, v, sizeof(v)));
		table__cell(&t, "%s",
			    analyze__val(o, run__endpoint_name(e, w, sizeof(w)), 0, v, sizeof(v)));
		table__cell(&t, "%llu", (unsigned long long)e->count);
		table__cell(&t, "%s", analyze__rate(e->rate_per_s, a, sizeof(a)));
		table__cell(&t, "%s",
			    analyze__ms(hist_sparse__percentile(h, 50) / 1e6, a, sizeof(a)));
		table__cell(&t, "%s",
			    analyze__ms(hist_sparse__percentile(h, 95) / 1e6, a, sizeof(a)));
		table__cell(&t, "%s",
			    analyze__ms(hist_sparse__percentile(h, 99) / 1e6, a, sizeof(a)));
		table__cell(&t, "%s", analyze__ms(h->max / 1e6, a, sizeof(a)));
		table__cell(&t, "%llu", (unsigned long long)e->err4xx);
		table__cell(&t, "%llu", (unsigned long long)e->err5xx);
		table__cell(
			&t, "%s",
			analyze__pct(e->count ? (double)e->err5xx / e->count : 0, a, sizeof(a)));
		table__cell(&t, "%llu", (unsigned long long)run__status(e, 429));
		table__cell(&t, "%llu", (unsigned long long)run__status(e, 409));
		for (unsigned k = 0; k < e->extra.n; k++)
			notes |= e->extra.v[k].n && strcmp(e->extra.v[k].key, "pipelined") &&
				 strcmp(e->extra.v[k].key, "end_inferred");
	}
	analyze__table(o, &t);
	if (!notes)
		return;
	/* Requests that never got an answer are not in the percentiles: say so. */
	if (md(o))
		fputc('\n', o->f);
	for (unsigned i = 0; i < r->neps; i++) {
		const struct run_endpoint *e = &r->eps[i];
		char line[512], a2[ANALYZE_VAL_MAX];
		size_t n = 0;

		for (unsigned k = 0; k < e->extra.n; k++) {
			if (!e->extra.v[k].n || !strcmp(e->extra.v[k].key, "pipelined") ||
			    !strcmp(e->extra.v[k].key, "end_inferred"))
				continue;
			n += snprintf(line + n, sizeof(line) - n, "%s%llu %s", n ? ", " : "",
				      (unsigned long long)e->extra.v[k].n,
				      analyze__text(o, e->extra.v[k].key, a2, sizeof(a2)));
			if (n >= sizeof(line))
				break;
		}
		if (n)
			fprintf(o->f, "%s%s (%s): %s\n", md(o) ? "- " : "  ",
				analyze__val(o, run__endpoint_name(e, w, sizeof(w)), 0, v,
					     sizeof(v)),
				analyze__val(o, e->service, 0, a2, sizeof(a2)), line);
	}
}

static void db_per_endpoint(struct analyze_out *o, const struct run *r)
{
	static const char *const head[] = { "ENDPOINT",	 "REQUESTS", "QUERIES/REQ", "MAX",
					    "DB MS/REQ", "DB SHARE", "TOP QUERY" };
	static const char *const mdhead[] = { "Endpoint", "Requests",	     "Queries / request",
					      "max",	  "DB ms / request", "DB share of latency",
					      "Top query" };
	char a[48], b[ANALYZE_VAL_MAX], c[ANALYZE_VAL_MAX];
	struct table t;
	unsigned n = 0;

	/* Without a single query the section would be a table of zeros. */
	for (unsigned i = 0; i < r->neps; i++)
		n += r->eps[i].has_db && r->eps[i].db.queries_per_request > 0;
	if (!n)
		return;
	analyze__heading(o, md(o) ? "Database work per endpoint" : "Queries per request");
	table__init(&t, "lrrrrrl", md(o) ? mdhead : head);
	for (unsigned i = 0; i < r->neps; i++) {
		const struct run_endpoint *e = &r->eps[i];
		double mean = hist_sparse__mean(e->hist) / 1e6;

		if (!e->has_db || !e->db.requests)
			continue;
		table__cell(&t, "%s",
			    analyze__val(o, run__endpoint_name(e, c, sizeof(c)), 0, b, sizeof(b)));
		table__cell(&t, "%llu", (unsigned long long)e->db.requests);
		table__cell(&t, "%.2f", e->db.queries_per_request);
		table__cell(&t, "%.0f", e->db.queries_per_request_max);
		table__cell(&t, "%s", analyze__ms(e->db.db_time_ms_per_request, a, sizeof(a)));
		table__cell(&t, "%s",
			    analyze__pct(mean > 0 ? e->db.db_time_ms_per_request / mean : 0, a,
					 sizeof(a)));
		/* The query behind most of the endpoint's DB time (reports of any order). */
		unsigned k = 0;

		for (unsigned q = 1; q < e->db.ntop; q++)
			if (e->db.top[q].ms_per_request > e->db.top[k].ms_per_request)
				k = q;
		if (e->db.ntop && e->db.top[k].query) {
			analyze__val(o, e->db.top[k].query, md(o) ? QUERY_MD : QUERY_TEXT, c,
				     sizeof(c));
			table__cell(&t, "%s (%.1f/req, %s ms/req)", c, e->db.top[k].per_request,
				    analyze__ms(e->db.top[k].ms_per_request, a, sizeof(a)));
		} else {
			table__cell(&t, "-");
		}
	}
	analyze__table(o, &t);
}

static void hotspots_section(struct analyze_out *o, const struct run *r, unsigned top)
{
	static const char *const head[] = { "#",   "QUERY",    "CALLS", "RATE/S", "P50", "P95",
					    "P99", "TOTAL MS", "SHARE", "ERRORS", "ROWS" };
	static const char *const mdhead[] = { "#",	"Query",    "Calls",
					      "Rate/s", "p50 ms",   "p95 ms",
					      "p99 ms", "Total ms", "Share of DB time",
					      "Errors", "Rows" };
	char a[48], c[ANALYZE_VAL_MAX];
	uint64_t total = 0;
	struct table t;

	if (!r->has_db)
		return;
	analyze__heading(o, md(o) ? "DB hotspots (by total time)"
				  : "DB hotspots (by total time, latency in ms)");
	if (!r->ndbqs) {
		para(o, "no queries");
		return;
	}
	for (unsigned i = 0; i < r->ndbqs; i++)
		total += r->dbqs[i].hist->sum;
	table__init(&t, "rlrrrrrrrrr", md(o) ? mdhead : head);
	/* The loader keeps the file's order, which is by total time. */
	for (unsigned i = 0; i < r->ndbqs && i < top; i++) {
		const struct run_dbq *q = &r->dbqs[i];
		const struct hist_sparse *h = q->hist;

		table__cell(&t, "%u", i + 1);
		table__cell(&t, "%s",
			    analyze__val(o, q->query, md(o) ? QUERY_MD : QUERY_TEXT, c, sizeof(c)));
		table__cell(&t, "%llu", (unsigned long long)q->count);
		table__cell(&t, "%s", analyze__rate(q->rate_per_s, a, sizeof(a)));
		table__cell(&t, "%s",
			    analyze__ms(hist_sparse__percentile(h, 50) / 1e6, a, sizeof(a)));
		table__cell(&t, "%s",
			    analyze__ms(hist_sparse__percentile(h, 95) / 1e6, a, sizeof(a)));
		table__cell(&t, "%s",
			    analyze__ms(hist_sparse__percentile(h, 99) / 1e6, a, sizeof(a)));
		table__cell(&t, "%.1f", h->sum / 1e6);
		table__cell(&t, "%s",
			    analyze__pct(total ? (double)h->sum / total : 0, a, sizeof(a)));
		table__cell(&t, "%llu", (unsigned long long)q->errors);
		if (q->has_rows)
			table__cell(&t, "%lld", (long long)q->rows);
		else
			table__cell(&t, "-");
	}
	analyze__table(o, &t);
	if (r->ndbqs > top) {
		if (md(o))
			fputc('\n', o->f);
		para(o, "%u more fingerprints in the JSON report", r->ndbqs - top);
	}
}

/* A flag's kind: a word of sloprobe's as it is (in bold: bold), anything else a value. */
static const char *kind_name(const struct analyze_out *o, const char *kind, bool bold, char *buf,
			     size_t sz)
{
	if (kind[0] && strspn(kind, "abcdefghijklmnopqrstuvwxyz_") == strlen(kind)) {
		snprintf(buf, sz, md(o) && bold ? "**%s**" : "%s", kind);
		return buf;
	}
	return analyze__val(o, kind, 0, buf, sz);
}

static void flags_section(struct analyze_out *o, const struct run *r)
{
	char c[ANALYZE_VAL_MAX];

	if (!r->has_db)
		return;
	analyze__heading(o, md(o) ? "Findings" : "DB flags");
	if (!r->nflags) {
		para(o, "none");
		return;
	}
	for (unsigned i = 0; i < r->nflags; i++) {
		const struct run_flag *f = &r->flags[i];

		fprintf(o->f, "%s%s", md(o) ? "- " : "  ",
			kind_name(o, f->kind, true, c, sizeof(c)));
		if (f->endpoint)
			fprintf(o->f, " on %s", analyze__val(o, f->endpoint, 0, c, sizeof(c)));
		if (f->query)
			fprintf(o->f, ": %s",
				analyze__val(o, f->query, md(o) ? QUERY_MD : QUERY_TEXT, c,
					     sizeof(c)));
		fprintf(o->f, " (%llu time%s)\n", (unsigned long long)f->occurrences,
			f->occurrences == 1 ? "" : "s");
		/* Evidence quotes queries and client names: a value, not prose of ours. */
		fprintf(o->f, "%s%s\n", md(o) ? "  " : "      ",
			analyze__val(o, f->evidence, 0, c, sizeof(c)));
	}
}

/* Saturation point of one timeline series; -ENOMEM, 0 (none) or 1 (*res). */
static int series_saturation(const struct run_series *s, struct sat_result *res)
{
	struct sat_point *p = calloc(s->n + 1, sizeof(*p));
	struct sat_opts so;
	int found;

	if (!p)
		return -ENOMEM;
	for (unsigned k = 0; k < s->n; k++) {
		p[k].t = s->p[k].t;
		p[k].rate = s->p[k].rate_per_s;
		p[k].p95 = s->p[k].p95;
		p[k].wait = s->p[k].wait_p95;
		p[k].count = s->p[k].count;
	}
	saturation__default_opts(&so);
	found = saturation__find(p, s->n, &so, res);
	free(p);
	return found;
}

static void saturation_section(struct analyze_out *o, const struct run *r)
{
	const struct run_timeline *tl = &r->timeline;
	unsigned found = 0;

	if (!r->has_timeline)
		return;
	analyze__heading(o, "Saturation");
	for (unsigned i = 0; i < tl->nhttp; i++) {
		const struct run_series *s = &tl->http[i];
		struct sat_result res;
		char a[32], b[32], c[32], e[ANALYZE_VAL_MAX], v[ANALYZE_VAL_MAX],
			w[ANALYZE_VAL_MAX];
		int ret = series_saturation(s, &res);

		if (ret < 0) {
			o->err = ret;
			return;
		}
		if (!ret)
			continue;
		found++;
		snprintf(e, sizeof(e), "%s %s", s->method, s->route);
		analyze__val(o, e, 0, v, sizeof(v));
		if (s->service)
			analyze__val(o, s->service, 0, w, sizeof(w));
		if (res.by_wait)
			fprintf(o->f,
				"%s%s%s%s: at capacity from t=%.0f s (%s/s): latency p95 %s -> "
				"%s "
				"ms by t=%.0f s",
				md(o) ? "- " : "  ", v, s->service ? " on " : "",
				s->service ? w : "", res.t, analyze__rate(res.rate, a, sizeof(a)),
				analyze__ms(res.p95, b, sizeof(b)),
				analyze__ms(res.p95_end, c, sizeof(c)), res.t_end);
		else
			fprintf(o->f,
				"%s%s%s%s: throughput stopped rising at %s/s (t=%.0f s) while "
				"p95 "
				"rose from %s to %s ms by t=%.0f s",
				md(o) ? "- " : "  ", v, s->service ? " on " : "",
				s->service ? w : "", analyze__rate(res.rate, a, sizeof(a)), res.t,
				analyze__ms(res.p95, b, sizeof(b)),
				analyze__ms(res.p95_end, c, sizeof(c)), res.t_end);
		/* The queueing behind it: requests waited for the server to read them. */
		if (isfinite(s->p[res.index].wait_p95) && isfinite(s->p[res.end].wait_p95))
			fprintf(o->f,
				"; requests queued before the server read them: p95 %s -> %s ms",
				analyze__ms(s->p[res.index].wait_p95, b, sizeof(b)),
				analyze__ms(s->p[res.end].wait_p95, c, sizeof(c)));
		fputc('\n', o->f);
	}
	if (!found)
		para(o,
		     "no saturation point in the timeline (%u intervals of %.1f s): throughput "
		     "kept up with the load, or p95 did not rise with it",
		     tl->nhttp ? tl->http[0].n : 0, tl->interval_s);
}

#define AND_OTHERS " and others"

/* The first flag of a kind, and the endpoints / queries it names, for one recommendation. */
static void list_of(const struct analyze_out *o, const struct run *r, const char *kind,
		    bool endpoint, char *buf, size_t sz)
{
	size_t n = 0;
	char c[ANALYZE_VAL_MAX];
	unsigned shown = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < r->nflags; i++) {
		const struct run_flag *f = &r->flags[i];
		const char *v = endpoint ? f->endpoint : f->query;
		bool dup = false;

		if (strcmp(f->kind, kind) || !v)
			continue;
		for (unsigned k = 0; k < i && !dup; k++) {
			const char *w = endpoint ? r->flags[k].endpoint : r->flags[k].query;

			dup = !strcmp(r->flags[k].kind, kind) && w && !strcmp(w, v);
		}
		if (dup)
			continue;
		analyze__val(o, v, QUERY_TEXT, c, sizeof(c));
		/* Whole values only: a code span cut short would leave its fence open. */
		if (++shown > 3 || n + strlen(c) + sizeof(", ") + sizeof(AND_OTHERS) > sz) {
			snprintf(buf + n, sz - n, AND_OTHERS);
			break;
		}
		n += snprintf(buf + n, sz - n, "%s%s", n ? ", " : "", c);
	}
}

static const struct run_flag *first_flag(const struct run *r, const char *kind)
{
	for (unsigned i = 0; i < r->nflags; i++)
		if (!strcmp(r->flags[i].kind, kind))
			return &r->flags[i];
	return NULL;
}

static const char *const known_kinds[] = { "n_plus_one",      "redundant",   "no_pooling",
					   "slow_query",      "select_star", "large_offset",
					   "long_transaction" };

/* One numbered line per recommendation; returns how many. */
/* Where recommendations go: numbered lines of o, or (list) an array of strings. */
struct advice {
	const struct analyze_out *o;
	bool list;
	unsigned n;
	char **items;
	int err;
};

static void __attribute__((format(printf, 2, 3))) item(struct advice *ad, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL, **v;

	va_start(ap, fmt);
	if (!ad->list) {
		fprintf(ad->o->f, md(ad->o) ? "%u. " : "  %u. ", ++ad->n);
		vfprintf(ad->o->f, fmt, ap);
	} else if (!ad->err) {
		v = realloc(ad->items, (ad->n + 2) * sizeof(*v));
		if (v)
			ad->items = v;
		if (!v || vasprintf(&s, fmt, ap) < 0) {
			ad->err = -ENOMEM;
		} else {
			s[strcspn(s, "\n")] = '\0';
			v[ad->n++] = s;
			v[ad->n] = NULL;
		}
	}
	va_end(ap);
}

static unsigned advice(struct advice *ad, const struct run *r)
{
	const struct analyze_out *o = ad->o;
	char q[1200], e[1200], v[ANALYZE_VAL_MAX];
	const struct run_flag *f;

	if ((f = first_flag(r, "n_plus_one"))) {
		list_of(o, r, "n_plus_one", true, e, sizeof(e));
		list_of(o, r, "n_plus_one", false, q, sizeof(q));
		item(ad,
		     "N+1 queries%s%s: %s runs once per row of an earlier query. Fetch the rows "
		     "in one query (a JOIN, or WHERE id = ANY(...)) or batch the lookups (eager "
		     "loading).\n",
		     e[0] ? " on " : "", e, q);
	}
	if ((f = first_flag(r, "redundant"))) {
		list_of(o, r, "redundant", true, e, sizeof(e));
		list_of(o, r, "redundant", false, q, sizeof(q));
		item(ad,
		     "Redundant queries%s%s: %s runs with the same values more than once per "
		     "request. Reuse the first result, or cache it with a short TTL.\n",
		     e[0] ? " on " : "", e, q);
	}
	if ((f = first_flag(r, "no_pooling"))) {
		item(ad,
		     "No connection pooling (%s). Use a connection pool (the driver's or the "
		     "framework's, or PgBouncer) so that queries reuse open connections.\n",
		     analyze__val(o, f->evidence, 0, v, sizeof(v)));
	}
	if ((f = first_flag(r, "slow_query"))) {
		list_of(o, r, "slow_query", false, q, sizeof(q));
		item(ad,
		     "Slow queries: %s (%s). Read the plan with EXPLAIN (ANALYZE, BUFFERS) and "
		     "add "
		     "the index its filter or sort needs.\n",
		     q, analyze__val(o, f->evidence, 0, v, sizeof(v)));
	}
	if ((f = first_flag(r, "select_star"))) {
		list_of(o, r, "select_star", false, q, sizeof(q));
		item(ad,
		     "SELECT * in %s: select the columns the code uses; fewer bytes are read "
		     "and "
		     "sent, and index-only scans become possible.\n",
		     q);
	}
	if ((f = first_flag(r, "large_offset"))) {
		list_of(o, r, "large_offset", false, q, sizeof(q));
		item(ad,
		     "Large OFFSET in %s: use keyset pagination (WHERE id > last_seen ORDER BY "
		     "id "
		     "LIMIT n) instead of OFFSET.\n",
		     q);
	}
	if ((f = first_flag(r, "long_transaction"))) {
		item(ad,
		     "Long transactions (%s): keep BEGIN..COMMIT short, with no network calls "
		     "or "
		     "waits inside; they hold locks and a connection.\n",
		     analyze__val(o, f->evidence, 0, v, sizeof(v)));
	}
	for (unsigned i = 0; i < r->nflags; i++) {
		bool known = false;

		for (size_t k = 0; k < sizeof(known_kinds) / sizeof(known_kinds[0]); k++)
			known |= !strcmp(r->flags[i].kind, known_kinds[k]);
		if (known)
			continue;
		item(ad, "%s: %s\n", kind_name(o, r->flags[i].kind, false, q, sizeof(q)),
		     analyze__val(o, r->flags[i].evidence, 0, v, sizeof(v)));
	}
	/* Endpoints that spend most of their time waiting for the database. */
	for (unsigned i = 0; i < r->neps; i++) {
		const struct run_endpoint *ep = &r->eps[i];
		double mean = hist_sparse__mean(ep->hist) / 1e6;
		char a[32];

		if (!ep->has_db || !ep->db.requests || mean <= 0 ||
		    ep->db.db_time_ms_per_request / mean < 0.5)
			continue;
		run__endpoint_name(ep, e, sizeof(e));
		item(ad,
		     "%s spends %s of its time in the database (%.1f queries per request): its "
		     "queries are where its latency is.\n",
		     analyze__val(o, e, 0, q, sizeof(q)),
		     analyze__pct(ep->db.db_time_ms_per_request / mean, a, sizeof(a)),
		     ep->db.queries_per_request);
	}
	for (unsigned i = 0; r->has_timeline && i < r->timeline.nhttp; i++) {
		const struct run_series *s = &r->timeline.http[i];
		struct sat_result res;
		char a[32];

		if (series_saturation(s, &res) != 1)
			continue;
		snprintf(e, sizeof(e), "%s %s", s->method, s->route);
		item(ad,
		     "%s saturates at about %s requests/s: beyond it requests queue and p95 "
		     "climbs. Keep the expected peak below it, or raise it (more workers or "
		     "instances, less work per request: see the findings above).\n",
		     analyze__val(o, e, 0, q, sizeof(q)), analyze__rate(res.rate, a, sizeof(a)));
	}
	return ad->n;
}

static void recommendations(struct analyze_out *o, const struct run *r)
{
	struct advice ad = { .o = o };

	analyze__heading(o, "Recommendations");
	if (!advice(&ad, r))
		para(o, "none: no database flag%s, no saturation point",
		     r->has_db ? " was raised" : " (database tracing was off)");
}

int runreport__advice(const struct run *r, char ***items, unsigned *n)
{
	struct analyze_out o = { .fmt = TABLE_TEXT };
	struct advice ad = { .o = &o, .list = true };

	advice(&ad, r);
	if (ad.err) {
		while (ad.n)
			free(ad.items[--ad.n]);
		free(ad.items);
		ad.items = NULL;
	}
	*items = ad.items;
	*n = ad.n;
	return ad.err;
}

int runreport__write(FILE *f, const struct run *r, const struct runreport_opts *opt)
{
	struct analyze_out o = { .f = f, .fmt = opt->fmt };
	char day[16], a[ANALYZE_VAL_MAX], b[ANALYZE_VAL_MAX];

	if (md(&o)) {
		snprintf(day, sizeof(day), "%.10s", r->start);
		fprintf(f, "# Tuning report: %s, %s\n",
			analyze__text(&o, r->hostname, a, sizeof(a)),
			analyze__text(&o, day, b, sizeof(b)));
		analyze__heading(&o, "Scope");
	} else {
		fprintf(f, "sloprobe report: %s\n", analyze__text(&o, r->path, a, sizeof(a)));
	}
	scope(&o, r);
	if (r->has_slo)
		slo_section(&o, r, opt->slo_source ? opt->slo_source : "as recorded",
			    opt->slo_notes);
	endpoints_section(&o, r);
	db_per_endpoint(&o, r);
	saturation_section(&o, r);
	hotspots_section(&o, r, opt->top);
	flags_section(&o, r);
	recommendations(&o, r);
	if (o.err)
		return o.err;
	return ferror(f) ? -EIO : 0;
}
