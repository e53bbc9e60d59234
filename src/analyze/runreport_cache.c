// SPDX-License-Identifier: GPL-2.0-only
/*
 * What `sloprobe report` shows of the services a request calls besides its database: the cache
 * and outbound calls per request of each endpoint, and the cache section (Redis rows by total
 * time, hit ratio, pools, flags). Its own file because it reads the cache parts of a run only;
 * nothing here is written for a run without them, so those reports stay as they were.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analyze/analyze.h"
#include "analyze/runreport.h"
#include "lib/units.h"

#define PATTERN_TEXT 40 /* key pattern shown in text tables, code points */
#define PATTERN_MD   80

const char *runreport__cache_row_name(const struct analyze_out *o, const char *verb,
				      const char *pattern, char *buf, size_t sz)
{
	char name[ANALYZE_VAL_MAX];

	snprintf(name, sizeof(name), "%s%s%s", verb ? verb : "?", pattern && *pattern ? " " : "",
		 pattern ? pattern : "");
	return analyze__val(o, name, analyze__md(o) ? PATTERN_MD : PATTERN_TEXT, buf, sz);
}

/* "2.00 calls/req (max 3), 0.400 ms/req, hit 75.00 %, ..." of one kind of calls. */
static void dep_line(const struct run_ep_dep *d, bool cache, char *buf, size_t sz)
{
	char ms[32], pct[32];
	size_t n;

	n = snprintf(buf, sz, "%.2f calls/req (max %.0f), %s ms/req", d->calls_per_request,
		     d->max_calls, units__ms(d->ms_per_request, ms, sizeof(ms)));
	if (cache && n < sz)
		n += snprintf(buf + n, sz - n, ", hit %s", analyze__pct(d->hit_ratio, pct, 32));
	if (cache && d->repeat && n < sz)
		n += snprintf(buf + n, sz - n, ", %llu request%s read one key more than once",
			      (unsigned long long)d->repeat, d->repeat == 1 ? "" : "s");
	if (d->errors > 0 && n < sz)
		snprintf(buf + n, sz - n, ", %.0f error%s", d->errors,
			 d->errors >= 0.5 && d->errors < 1.5 ? "" : "s");
}

void runreport__deps_per_endpoint(struct analyze_out *o, const struct run *r)
{
	static const char *const kind[RUN_DEP_NR] = { "cache", "outbound" };
	char v[ANALYZE_VAL_MAX], w[ANALYZE_VAL_MAX], s[ANALYZE_VAL_MAX], line[512];
	unsigned n = 0;

	for (unsigned i = 0; i < r->neps; i++)
		n += r->eps[i].has_dep[RUN_DEP_CACHE] || r->eps[i].has_dep[RUN_DEP_OUTBOUND];
	if (!n)
		return;
	analyze__heading(o, analyze__md(o) ? "Cache and outbound calls per endpoint"
					   : "Cache and outbound calls per request");
	for (unsigned i = 0; i < r->neps; i++) {
		const struct run_endpoint *e = &r->eps[i];
		uint64_t reqs = 0;

		if (!e->has_dep[RUN_DEP_CACHE] && !e->has_dep[RUN_DEP_OUTBOUND])
			continue;
		for (int k = 0; k < RUN_DEP_NR; k++)
			if (e->has_dep[k] && e->dep[k].requests > reqs)
				reqs = e->dep[k].requests;
		fprintf(o->f, "%s%s on %s (%llu request%s)\n", analyze__md(o) ? "- " : "  ",
			analyze__val(o, run__endpoint_name(e, w, sizeof(w)), 0, v, sizeof(v)),
			analyze__val(o, e->service, 0, s, sizeof(s)), (unsigned long long)reqs,
			reqs == 1 ? "" : "s");
		for (int k = 0; k < RUN_DEP_NR; k++) {
			if (!e->has_dep[k])
				continue;
			dep_line(&e->dep[k], k == RUN_DEP_CACHE, line, sizeof(line));
			fprintf(o->f, "%s%s: %s\n", analyze__md(o) ? "  - " : "    ", kind[k],
				line);
		}
	}
}

/* Rows whose errors or unanswered commands the table cannot show: one line each. */
static void row_notes(struct analyze_out *o, const struct run_cache *c, unsigned top)
{
	char v[ANALYZE_VAL_MAX], k[ANALYZE_VAL_MAX], line[512];
	bool first = true;

	for (unsigned i = 0; i < c->nrows && i < top; i++) {
		const struct run_cache_row *row = &c->rows[i];
		size_t n = 0;

		if (!row->errors && !row->aborted)
			continue;
		for (unsigned e = 0; e < row->errs.n && n < sizeof(line); e++)
			n += snprintf(line + n, sizeof(line) - n, "%s%s %llu", e ? ", " : "errors ",
				      analyze__text(o, row->errs.v[e].key, k, sizeof(k)),
				      (unsigned long long)row->errs.v[e].n);
		if (row->aborted && n < sizeof(line))
			snprintf(line + n, sizeof(line) - n, "%s%llu never answered", n ? "; " : "",
				 (unsigned long long)row->aborted);
		if (first && analyze__md(o))
			fputc('\n', o->f);
		first = false;
		fprintf(o->f, "%s%s: %s\n", analyze__md(o) ? "- " : "  ",
			runreport__cache_row_name(o, row->verb, row->pattern, v, sizeof(v)), line);
	}
}

static void rows_table(struct analyze_out *o, const struct run_cache *c, unsigned top)
{
	static const char *const head[] = { "#",	"COMMAND",   "CLIENT",	  "CALLS",
					    "RATE/S",	"P50",	     "P95",	  "P99",
					    "TOTAL MS", "HITS/KEYS", "HIT RATIO", "ERRORS" };
	static const char *const mdhead[] = { "#",	   "Command and key pattern",
					      "Client",	   "Calls",
					      "Rate/s",	   "p50 ms",
					      "p95 ms",	   "p99 ms",
					      "Total ms",  "Keys hit / read",
					      "Hit ratio", "Errors" };
	char a[48], v[ANALYZE_VAL_MAX];
	struct table t;

	table__init(&t, "rllrrrrrrrrr", analyze__md(o) ? mdhead : head);
	for (unsigned i = 0; i < c->nrows && i < top; i++) {
		const struct run_cache_row *row = &c->rows[i];
		const struct hist_sparse *h = row->hist;
		uint64_t keys = row->hits + row->misses;

		table__cell(&t, "%u", i + 1);
		table__cell(&t, "%s",
			    runreport__cache_row_name(o, row->verb, row->pattern, v, sizeof(v)));
		table__cell(&t, "%s", analyze__val(o, row->client, 0, v, sizeof(v)));
		table__cell(&t, "%llu", (unsigned long long)row->count);
		table__cell(&t, "%s", analyze__rate(row->rate_per_s, a, sizeof(a)));
		table__cell(&t, "%s",
			    units__ms(hist_sparse__percentile(h, 50) / 1e6, a, sizeof(a)));
		table__cell(&t, "%s",
			    units__ms(hist_sparse__percentile(h, 95) / 1e6, a, sizeof(a)));
		table__cell(&t, "%s",
			    units__ms(hist_sparse__percentile(h, 99) / 1e6, a, sizeof(a)));
		table__cell(&t, "%.1f", h->sum / 1e6);
		if (keys)
			table__cell(&t, "%llu/%llu", (unsigned long long)row->hits,
				    (unsigned long long)keys);
		else
			table__cell(&t, "-");
		table__cell(&t, "%s", analyze__pct(keys ? (double)row->hits / keys : NAN, a, 48));
		table__cell(&t, "%llu", (unsigned long long)row->errors);
	}
	analyze__table(o, &t);
}

/* Connections per client and server: the most open at once is the pool's size. */
static void pools(struct analyze_out *o, const struct run_cache *c)
{
	char v[ANALYZE_VAL_MAX], w[ANALYZE_VAL_MAX];

	for (unsigned i = 0; i < c->nclients; i++) {
		const struct run_cache_client *cl = &c->clients[i];

		analyze__para(o,
			      "Connections of %s to %s: pool of %llu (most open at once), %llu "
			      "opened, %llu closed, %llu commands",
			      analyze__val(o, cl->client, 0, v, sizeof(v)),
			      analyze__val(o, cl->server ? cl->server : "?", 0, w, sizeof(w)),
			      (unsigned long long)cl->peak, (unsigned long long)cl->opened,
			      (unsigned long long)cl->closed, (unsigned long long)cl->commands);
	}
}

/* What a flag's occurrences count (cacheagg.h): requests, keys read, or commands. */
static const char *occurrences_of(const char *kind, uint64_t n)
{
	if (!strcmp(kind, "repeat_read"))
		return n == 1 ? "request" : "requests";
	if (!strcmp(kind, "low_hit_ratio"))
		return n == 1 ? "key read" : "keys read";
	return n == 1 ? "command" : "commands";
}

void runreport__cache(struct analyze_out *o, const struct run *r, unsigned top)
{
	const struct run_cache *c = &r->cache;
	char a[48], v[ANALYZE_VAL_MAX];
	uint64_t hits, keys;
	double ratio;

	if (!r->has_cache)
		return;
	analyze__heading(o, analyze__md(o) ? "Cache (Redis)" : "Cache (Redis, latency in ms)");
	if (!c->nrows) {
		analyze__para(o, "no commands");
	} else {
		rows_table(o, c, top);
		row_notes(o, c, top);
		if (analyze__md(o))
			fputc('\n', o->f);
		if (c->nrows > top)
			analyze__para(o, "%u more rows in the JSON report", c->nrows - top);
		ratio = run__cache_hit_ratio(r, &hits, &keys);
		if (keys)
			analyze__para(o,
				      "Hit ratio of the run: %s (%llu of %llu keys read answered)",
				      analyze__pct(ratio, a, sizeof(a)), (unsigned long long)hits,
				      (unsigned long long)keys);
		else
			analyze__para(o, "Hit ratio of the run: - (no key read)");
	}
	pools(o, c);
	analyze__heading(o, analyze__md(o) ? "Cache findings" : "Cache flags");
	if (!c->nflags) {
		analyze__para(o, "none");
		return;
	}
	for (unsigned i = 0; i < c->nflags; i++) {
		const struct run_cache_flag *f = &c->flags[i];
		const char *name = NULL;

		if (f->verb)
			name = runreport__cache_row_name(o, f->verb, f->pattern, v, sizeof(v));
		runreport__finding(o, f->kind, f->endpoint, name, f->occurrences,
				   occurrences_of(f->kind, f->occurrences), f->evidence);
	}
}

void runreport__cache_drops(const struct analyze_out *o, const struct run *r, char *buf, size_t sz)
{
	char k[ANALYZE_VAL_MAX];
	size_t n = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < r->cache.drops.n && n < sz; i++)
		if (r->cache.drops.v[i].n)
			n += snprintf(buf + n, sz - n, "%s%s %llu", n ? ", " : "",
				      analyze__text(o, r->cache.drops.v[i].key, k, sizeof(k)),
				      (unsigned long long)r->cache.drops.v[i].n);
	if (r->cache.points_dropped && n < sz)
		snprintf(buf + n, sz - n, "%sinterval points %llu", n ? ", " : "",
			 (unsigned long long)r->cache.points_dropped);
}

const struct run_cache_flag *runreport__cache_flag(const struct run *r, const char *kind)
{
	for (unsigned i = 0; i < r->cache.nflags; i++)
		if (!strcmp(r->cache.flags[i].kind, kind))
			return &r->cache.flags[i];
	return NULL;
}

#define AND_OTHERS " and others"

void runreport__cache_list(const struct analyze_out *o, const struct run *r, const char *kind,
			   bool endpoint, char *buf, size_t sz)
{
	char c[ANALYZE_VAL_MAX], w[ANALYZE_VAL_MAX];
	unsigned shown = 0;
	size_t n = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < r->cache.nflags; i++) {
		const struct run_cache_flag *f = &r->cache.flags[i];
		bool dup = false;

		if (strcmp(f->kind, kind) || (endpoint ? !f->endpoint : !f->verb))
			continue;
		if (endpoint)
			analyze__val(o, f->endpoint, 0, c, sizeof(c));
		else
			runreport__cache_row_name(o, f->verb, f->pattern, c, sizeof(c));
		/* The same name twice (two clients, two endpoints of one row) is named once. */
		for (unsigned k = 0; k < i && !dup; k++) {
			const struct run_cache_flag *g = &r->cache.flags[k];

			if (strcmp(g->kind, kind) || (endpoint ? !g->endpoint : !g->verb))
				continue;
			if (endpoint)
				analyze__val(o, g->endpoint, 0, w, sizeof(w));
			else
				runreport__cache_row_name(o, g->verb, g->pattern, w, sizeof(w));
			dup = !strcmp(c, w);
		}
		if (dup)
			continue;
		/* Whole values only: a code span cut short would leave its fence open. */
		if (++shown > 3 || n + strlen(c) + sizeof(", ") + sizeof(AND_OTHERS) > sz) {
			snprintf(buf + n, sz - n, AND_OTHERS);
			break;
		}
		n += snprintf(buf + n, sz - n, "%s%s", n ? ", " : "", c);
	}
}
