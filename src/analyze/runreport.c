// SPDX-License-Identifier: GPL-2.0-only
/*
 * `sloprobe report`: one run as text or as the markdown tuning report a team pastes into a
 * review. The output depends on the input file only (no clock, no locale), so it can be
 * compared against golden files.
 *
 * Here: the formats every renderer shares (analyze.h), the scope, the SLO verdicts and the
 * HTTP endpoints; the DB sections, saturation and recommendations are in runreport_findings.c.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/analyze.h"
#include "analyze/html.h"
#include "analyze/runreport.h"
#include "lib/textesc.h"
#include "lib/units.h"

#define COMMAND_MAX 160

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

bool analyze__md(const struct analyze_out *o)
{
	return o->fmt == TABLE_MARKDOWN;
}

bool analyze__html(const struct analyze_out *o)
{
	return o->fmt == TABLE_HTML;
}

bool analyze__page(const struct analyze_out *o)
{
	return o->fmt != TABLE_TEXT;
}

void analyze__heading(struct analyze_out *o, const char *title)
{
	if (analyze__html(o)) {
		fputs("<h2>", o->f);
		html__escape(o->f, title);
		fputs("</h2>\n", o->f);
	} else if (analyze__md(o)) {
		fprintf(o->f, "\n## %s\n\n", title);
	} else {
		fprintf(o->f, "\n%s\n", title);
	}
}

void analyze__table(struct analyze_out *o, struct table *t)
{
	int err = table__print(t, o->f, o->fmt, 2);

	if (err && !o->err)
		o->err = err;
	table__free(t);
}

static void vline(struct analyze_out *o, const char *md_prefix, const char *md_end, const char *cls,
		  const char *fmt, va_list ap)
{
	char *s = NULL;

	if (!analyze__html(o)) {
		fputs(analyze__md(o) ? md_prefix : "  ", o->f);
		vfprintf(o->f, fmt, ap);
		fputs(analyze__md(o) ? md_end : "\n", o->f);
		return;
	}
	/* The words are the text renderer's, values in them as text shows them: escaped once. */
	if (vasprintf(&s, fmt, ap) < 0) {
		if (!o->err)
			o->err = -ENOMEM;
		return;
	}
	html__p(o->f, cls, s);
	free(s);
}

/* A paragraph (markdown, HTML) or an indented line (text). */
void __attribute__((format(printf, 2, 3)))
analyze__para(struct analyze_out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(o, "", "\n\n", NULL, fmt, ap);
	va_end(ap);
}

void __attribute__((format(printf, 4, 5)))
analyze__line(struct analyze_out *o, const char *md_prefix, const char *cls, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(o, md_prefix, "\n", cls, fmt, ap);
	va_end(ap);
}

const char *analyze__relpath(const char *path, char *buf, size_t sz)
{
	char cwd[4096];
	size_t n;

	if (!path)
		path = "";
	if (path[0] == '/' && getcwd(cwd, sizeof(cwd)) && (n = strlen(cwd)) > 1 &&
	    !strncmp(path, cwd, n) && path[n] == '/')
		path += n + 1;
	snprintf(buf, sz, "%s", path);
	return buf;
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
	if (analyze__md(o))
		textesc__md_code(buf, sz, s, strlen(s));
	else
		snprintf(buf, sz, "%s", s);
	return buf;
}

const char *analyze__text(const struct analyze_out *o, const char *s, char *buf, size_t sz)
{
	s = s ? s : "";
	if (analyze__md(o))
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
const char *runreport__command(const struct analyze_out *o, const struct run *r, char *buf,
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

/* "; 1200 Redis commands, hit ratio 75.00 %" after the DB part of the traffic line. */
static void cache_traffic(const struct run *r, char *buf, size_t sz)
{
	uint64_t cmds = 0;
	size_t n = strlen(buf);
	char pct[32];
	double ratio = run__cache_hit_ratio(r, NULL, NULL);

	for (unsigned i = 0; i < r->cache.nrows; i++)
		cmds += r->cache.rows[i].count;
	if (n < sz)
		snprintf(buf + n, sz - n, "; %llu Redis command%s, hit ratio %s",
			 (unsigned long long)cmds, cmds == 1 ? "" : "s",
			 ratio < 0 ? "-" : analyze__pct(ratio, pct, sizeof(pct)));
}

void runreport__scope_cells(const struct analyze_out *o, const struct run *r, struct table *t)
{
	static const char *const head[] = { "", "" };
	char a[512], b[ANALYZE_VAL_MAX], c[ANALYZE_VAL_MAX], d[ANALYZE_VAL_MAX];
	uint64_t req = run__requests(r), q = total_queries(r);

	table__init(t, "ll", head);
	if (analyze__md(o)) {
		t->head[0] = "Item";
		t->head[1] = "Value";
	}
	table__cell(t, "Host");
	table__cell(t, "%s, Linux %s", analyze__text(o, r->hostname, b, sizeof(b)),
		    analyze__text(o, r->kernel, c, sizeof(c)));
	if (r->kernel_lacks.n) {
		/* Names of [a-z0-9_] (run_load_section.c): nothing to escape. */
		size_t n = 0;

		a[0] = '\0';
		for (unsigned i = 0; i < r->kernel_lacks.n && n < sizeof(a); i++)
			n += snprintf(a + n, sizeof(a) - n, "%s%s", i ? ", " : "",
				      r->kernel_lacks.v[i]);
		table__cell(t, "Kernel lacks");
		table__cell(t, "%s (docs/kernels.md)", a);
	}
	table__cell(t, "Window");
	table__cell(t, "%s to %s (%.3f s)", analyze__text(o, r->start, b, sizeof(b)),
		    analyze__text(o, r->end, c, sizeof(c)), r->duration_s);
	if (r->nsources) {
		table__cell(t, "Merged from");
		table__cell(t, "%u reports", r->nsources);
	}
	table__cell(t, "Load");
	if (r->has_command) {
		char map[256], how[320] = "";

		run__exit_map_str(r, map, sizeof(map));
		if (r->exit_mapped)
			snprintf(how, sizeof(how), ": %s by --command-exit %s", r->exit_mapped,
				 map);
		else if (map[0] && r->exit_status)
			snprintf(how, sizeof(how), ", not mapped by --command-exit %s", map);
		else if (map[0])
			snprintf(how, sizeof(how), "; --command-exit %s", map);
		table__cell(t, "%s (exit %lld%s)", runreport__command(o, r, b, sizeof(b)),
			    (long long)r->exit_status, how);
	} else {
		table__cell(t, "not recorded (traced until stopped)");
	}
	table__cell(t, "Traffic");
	if (r->has_db)
		snprintf(a, sizeof(a), "; %llu DB queries, %u fingerprints", (unsigned long long)q,
			 r->ndbqs);
	else
		snprintf(a, sizeof(a), "; database tracing off");
	if (r->has_cache)
		cache_traffic(r, a, sizeof(a));
	table__cell(t, "%llu HTTP requests on %u endpoint%s (%s/s)%s", (unsigned long long)req,
		    r->neps, r->neps == 1 ? "" : "s",
		    analyze__rate(r->duration_s > 0 ? req / r->duration_s : 0, c, 16), a);
	events_line(o, r, a, sizeof(a));
	table__cell(t, "Events");
	table__cell(t, "%s", a);
	db_drops_line(r, a, sizeof(a));
	if (a[0]) {
		table__cell(t, "DB drops");
		table__cell(t, "%s", a);
	}
	runreport__cache_drops(o, r, a, sizeof(a));
	if (a[0]) {
		table__cell(t, "Cache drops");
		table__cell(t, "%s", a);
	}
	table__cell(t, "Recorded by");
	table__cell(t, "sloprobe %s", analyze__text(o, r->tool_version, d, sizeof(d)));
}

static void scope(struct analyze_out *o, const struct run *r)
{
	struct table t;

	runreport__scope_cells(o, r, &t);
	analyze__table(o, &t);
}

const char *analyze__slo_value(const struct run_slo *s, double v, char *buf, size_t sz)
{
	char tmp[32];
	const char *u = s->unit ? s->unit : "";

	if (isnan(v) || !strcmp(u, "ratio"))
		return analyze__pct(v, buf, sz);
	if (!strcmp(u, "ms")) {
		snprintf(buf, sz, "%s ms", units__ms(v, tmp, sizeof(tmp)));
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

	snprintf(title, sizeof(title),
		 analyze__md(o) ? "SLO targets and verdicts (%s)" : "SLOs (%s)", source);
	analyze__heading(o, title);
	if (!r->nslo) {
		analyze__para(o, "no objectives");
		return;
	}
	table__init(&t, "lllrrrrll", analyze__md(o) ? mdhead : head);
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
			    run__incomplete(r) && strcmp(s->verdict, "insufficient_data") ? "*"
											  : "");
		if (isnan(s->first_breach_s))
			table__cell(&t, "-");
		else
			table__cell(&t, "t=%.1f s", s->first_breach_s);
	}
	analyze__table(o, &t);
	if (analyze__md(o))
		fputc('\n', o->f);
	analyze__para(o, "%u passed, %u breached, %u with insufficient data", pass, breach, few);
	if (run__incomplete(r))
		analyze__para(
			o,
			"* judged on incomplete data: %.3g %% of the run's events were lost "
			"(%llu of %llu); a lost request can hide a breach as well as make one",
			slo__drop_pct(r->events_dropped, r->events_total),
			(unsigned long long)r->events_dropped,
			(unsigned long long)(r->events_total + r->events_dropped));
	if (approx)
		analyze__para(
			o,
			"~ %u verdict%s counted from histogram buckets (a bucket straddles the "
			"threshold: up to 0.79 %% of a value off)",
			approx, approx == 1 ? "" : "s");
	if (notes && notes->recorded)
		analyze__para(o, "%u verdict%s taken from the exact counters recorded with the run",
			      notes->recorded, notes->recorded == 1 ? "" : "s");
	if (notes && notes->warmup_ignored)
		analyze__para(
			o,
			"the SLO file's warm-up is not applied: a saved report's histograms cover "
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

	analyze__heading(o, analyze__md(o) ? "Measured per endpoint"
					   : "HTTP endpoints (latency in ms)");
	if (!r->neps) {
		analyze__para(o, "no HTTP requests");
		return;
	}
	table__init(&t, "llrrrrrrrrrrr", analyze__md(o) ? mdhead : head);
	for (unsigned i = 0; i < r->neps; i++) {
		const struct run_endpoint *e = &r->eps[i];
		const struct hist_sparse *h = e->hist;

		table__cell(&t, "%s", analyze__val(o, e->service, 0, v, sizeof(v)));
		table__cell(&t, "%s",
			    analyze__val(o, run__endpoint_name(e, w, sizeof(w)), 0, v, sizeof(v)));
		table__cell(&t, "%llu", (unsigned long long)e->count);
		table__cell(&t, "%s", analyze__rate(e->rate_per_s, a, sizeof(a)));
		table__cell(&t, "%s",
			    units__ms(hist_sparse__percentile(h, 50) / 1e6, a, sizeof(a)));
		table__cell(&t, "%s",
			    units__ms(hist_sparse__percentile(h, 95) / 1e6, a, sizeof(a)));
		table__cell(&t, "%s",
			    units__ms(hist_sparse__percentile(h, 99) / 1e6, a, sizeof(a)));
		table__cell(&t, "%s", units__ms(h->max / 1e6, a, sizeof(a)));
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
	if (analyze__md(o))
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
			fprintf(o->f, "%s%s (%s): %s\n", analyze__md(o) ? "- " : "  ",
				analyze__val(o, run__endpoint_name(e, w, sizeof(w)), 0, v,
					     sizeof(v)),
				analyze__val(o, e->service, 0, a2, sizeof(a2)), line);
	}
}

int runreport__write(FILE *f, const struct run *r, const struct runreport_opts *opt)
{
	struct analyze_out o = { .f = f, .fmt = opt->fmt };
	char day[16], a[ANALYZE_VAL_MAX], b[ANALYZE_VAL_MAX];

	if (analyze__md(&o)) {
		snprintf(day, sizeof(day), "%.10s", r->start);
		fprintf(f, "# Tuning report: %s, %s\n",
			analyze__text(&o, r->hostname, a, sizeof(a)),
			analyze__text(&o, day, b, sizeof(b)));
		analyze__heading(&o, "Scope");
	} else {
		fprintf(f, "sloprobe report: %s\n",
			analyze__text(&o, analyze__relpath(r->path, b, sizeof(b)), a, sizeof(a)));
	}
	scope(&o, r);
	if (r->has_slo)
		slo_section(&o, r, opt->slo_source ? opt->slo_source : "as recorded",
			    opt->slo_notes);
	endpoints_section(&o, r);
	runreport__client_view(&o, r);
	runreport__db_per_endpoint(&o, r);
	runreport__deps_per_endpoint(&o, r);
	runreport__saturation(&o, r);
	runreport__tcp(&o, r);
	runreport__hotspots(&o, r, opt->top);
	runreport__flags(&o, r);
	runreport__exemplars(&o, r);
	runreport__cache(&o, r, opt->top);
	runreport__outbound(&o, r);
	runreport__retries(&o, r);
	runreport__recommendations(&o, r);
	if (o.err)
		return o.err;
	return ferror(f) ? -EIO : 0;
}
