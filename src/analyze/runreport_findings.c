// SPDX-License-Identifier: GPL-2.0-only
/*
 * What `sloprobe report` found beyond the HTTP numbers: DB work per endpoint, DB hotspots and
 * flags, saturation points, and the recommendations drawn from them (also the list the HTML
 * report shows). Its own file because these sections read the DB and timeline parts of a run
 * and know what each flag means; runreport.c writes the summary, SLO and endpoint sections.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "analyze/runreport.h"
#include "analyze/saturation.h"
#include "lib/units.h"

#define QUERY_TEXT 60 /* query text shown in text tables, code points */
#define QUERY_MD   100

unsigned runreport__db_per_endpoint_cells(const struct analyze_out *o, const struct run *r,
					  struct table *t)
{
	static const char *const head[] = { "ENDPOINT",	 "REQUESTS", "QUERIES/REQ", "MAX",
					    "DB MS/REQ", "DB SHARE", "TOP QUERY" };
	static const char *const mdhead[] = { "Endpoint", "Requests",	     "Queries / request",
					      "max",	  "DB ms / request", "DB share of latency",
					      "Top query" };
	char a[48], b[ANALYZE_VAL_MAX], c[ANALYZE_VAL_MAX];
	unsigned n = 0;

	/* Without a single query the section would be a table of zeros. */
	for (unsigned i = 0; i < r->neps; i++)
		n += r->eps[i].has_db && r->eps[i].db.queries_per_request > 0;
	if (!n)
		return 0;
	table__init(t, "lrrrrrl", analyze__md(o) ? mdhead : head);
	for (unsigned i = 0; i < r->neps; i++) {
		const struct run_endpoint *e = &r->eps[i];
		double mean = hist_sparse__mean(e->hist) / 1e6;

		if (!e->has_db || !e->db.requests)
			continue;
		table__cell(t, "%s",
			    analyze__val(o, run__endpoint_name(e, c, sizeof(c)), 0, b, sizeof(b)));
		table__cell(t, "%llu", (unsigned long long)e->db.requests);
		table__cell(t, "%.2f", e->db.queries_per_request);
		table__cell(t, "%.0f", e->db.queries_per_request_max);
		table__cell(t, "%s", units__ms(e->db.db_time_ms_per_request, a, sizeof(a)));
		table__cell(t, "%s",
			    analyze__pct(mean > 0 ? e->db.db_time_ms_per_request / mean : 0, a,
					 sizeof(a)));
		/* The query behind most of the endpoint's DB time (reports of any order). */
		unsigned k = 0;

		for (unsigned q = 1; q < e->db.ntop; q++)
			if (e->db.top[q].ms_per_request > e->db.top[k].ms_per_request)
				k = q;
		if (e->db.ntop && e->db.top[k].query) {
			analyze__val(o, e->db.top[k].query, analyze__md(o) ? QUERY_MD : QUERY_TEXT,
				     c, sizeof(c));
			table__cell(t, "%s (%.1f/req, %s ms/req)", c, e->db.top[k].per_request,
				    units__ms(e->db.top[k].ms_per_request, a, sizeof(a)));
		} else {
			table__cell(t, "-");
		}
	}
	return n;
}

void runreport__db_per_endpoint(struct analyze_out *o, const struct run *r)
{
	struct table t;

	if (!runreport__db_per_endpoint_cells(o, r, &t))
		return;
	analyze__heading(o, analyze__md(o) ? "Database work per endpoint" : "Queries per request");
	analyze__table(o, &t);
}

void runreport__hotspot_cells(const struct analyze_out *o, const struct run *r, unsigned top,
			      struct table *t)
{
	static const char *const head[] = { "#",   "QUERY",    "CALLS", "RATE/S", "P50", "P95",
					    "P99", "TOTAL MS", "SHARE", "ERRORS", "ROWS" };
	static const char *const mdhead[] = { "#",	"Query",    "Calls",
					      "Rate/s", "p50 ms",   "p95 ms",
					      "p99 ms", "Total ms", "Share of DB time",
					      "Errors", "Rows" };
	char a[48], c[ANALYZE_VAL_MAX];
	uint64_t total = 0;

	for (unsigned i = 0; i < r->ndbqs; i++)
		total += r->dbqs[i].hist->sum;
	table__init(t, "rlrrrrrrrrr", analyze__md(o) ? mdhead : head);
	/* The loader keeps the file's order, which is by total time. */
	for (unsigned i = 0; i < r->ndbqs && i < top; i++) {
		const struct run_dbq *q = &r->dbqs[i];
		const struct hist_sparse *h = q->hist;

		table__cell(t, "%u", i + 1);
		table__cell(t, "%s",
			    analyze__val(o, q->query, analyze__md(o) ? QUERY_MD : QUERY_TEXT, c,
					 sizeof(c)));
		table__cell(t, "%llu", (unsigned long long)q->count);
		table__cell(t, "%s", analyze__rate(q->rate_per_s, a, sizeof(a)));
		table__cell(t, "%s", units__ms(hist_sparse__percentile(h, 50) / 1e6, a, sizeof(a)));
		table__cell(t, "%s", units__ms(hist_sparse__percentile(h, 95) / 1e6, a, sizeof(a)));
		table__cell(t, "%s", units__ms(hist_sparse__percentile(h, 99) / 1e6, a, sizeof(a)));
		table__cell(t, "%.1f", h->sum / 1e6);
		table__cell(t, "%s",
			    analyze__pct(total ? (double)h->sum / total : 0, a, sizeof(a)));
		table__cell(t, "%llu", (unsigned long long)q->errors);
		if (q->has_rows)
			table__cell(t, "%lld", (long long)q->rows);
		else
			table__cell(t, "-");
	}
}

void runreport__hotspots(struct analyze_out *o, const struct run *r, unsigned top)
{
	struct table t;

	if (!r->has_db)
		return;
	analyze__heading(o, analyze__md(o) ? "DB hotspots (by total time)"
					   : "DB hotspots (by total time, latency in ms)");
	if (!r->ndbqs) {
		analyze__para(o, "no queries");
		return;
	}
	runreport__hotspot_cells(o, r, top, &t);
	analyze__table(o, &t);
	if (r->ndbqs > top) {
		if (analyze__md(o))
			fputc('\n', o->f);
		analyze__para(o, "%u more fingerprints in the JSON report", r->ndbqs - top);
	}
}

const char *runreport__kind(const struct analyze_out *o, const char *kind, bool bold, char *buf,
			    size_t sz)
{
	if (kind[0] && strspn(kind, "abcdefghijklmnopqrstuvwxyz_") == strlen(kind)) {
		snprintf(buf, sz, analyze__md(o) && bold ? "**%s**" : "%s", kind);
		return buf;
	}
	return analyze__val(o, kind, 0, buf, sz);
}

void runreport__flags(struct analyze_out *o, const struct run *r)
{
	char c[ANALYZE_VAL_MAX];

	if (!r->has_db)
		return;
	analyze__heading(o, analyze__md(o) ? "Findings" : "DB flags");
	if (!r->nflags) {
		analyze__para(o, "none");
		return;
	}
	for (unsigned i = 0; i < r->nflags; i++) {
		const struct run_flag *f = &r->flags[i];
		const char *q = NULL;

		if (f->query)
			q = analyze__val(o, f->query, analyze__md(o) ? QUERY_MD : QUERY_TEXT, c,
					 sizeof(c));
		runreport__finding(o, f->kind, f->endpoint, q, f->occurrences,
				   f->occurrences == 1 ? "time" : "times", f->evidence);
	}
}

void runreport__finding(struct analyze_out *o, const char *kind, const char *endpoint,
			const char *subject, uint64_t n, const char *unit, const char *evidence)
{
	char c[ANALYZE_VAL_MAX];

	fprintf(o->f, "%s%s", analyze__md(o) ? "- " : "  ",
		runreport__kind(o, kind, true, c, sizeof(c)));
	if (endpoint)
		fprintf(o->f, " on %s", analyze__val(o, endpoint, 0, c, sizeof(c)));
	if (subject)
		fprintf(o->f, ": %s", subject);
	fprintf(o->f, " (%llu %s)\n", (unsigned long long)n, unit);
	/* Evidence quotes queries and client names: a value, not prose of ours. */
	fprintf(o->f, "%s%s\n", analyze__md(o) ? "  " : "      ",
		analyze__val(o, evidence, 0, c, sizeof(c)));
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

void runreport__saturation(struct analyze_out *o, const struct run *r)
{
	const struct run_timeline *tl = &r->timeline;
	unsigned found = 0;
	double knee = NAN;

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
		if (isnan(knee) || res.t < knee)
			knee = res.t;
		snprintf(e, sizeof(e), "%s %s", s->method, s->route);
		analyze__val(o, e, 0, v, sizeof(v));
		if (s->service)
			analyze__val(o, s->service, 0, w, sizeof(w));
		if (res.by_wait)
			fprintf(o->f,
				"%s%s%s%s: at capacity from t=%.0f s (%s/s): latency p95 %s -> "
				"%s "
				"ms by t=%.0f s",
				analyze__md(o) ? "- " : "  ", v, s->service ? " on " : "",
				s->service ? w : "", res.t, analyze__rate(res.rate, a, sizeof(a)),
				units__ms(res.p95, b, sizeof(b)),
				units__ms(res.p95_end, c, sizeof(c)), res.t_end);
		else
			fprintf(o->f,
				"%s%s%s%s: throughput stopped rising at %s/s (t=%.0f s) while "
				"p95 "
				"rose from %s to %s ms by t=%.0f s",
				analyze__md(o) ? "- " : "  ", v, s->service ? " on " : "",
				s->service ? w : "", analyze__rate(res.rate, a, sizeof(a)), res.t,
				units__ms(res.p95, b, sizeof(b)),
				units__ms(res.p95_end, c, sizeof(c)), res.t_end);
		/* The queueing behind it: requests waited for the server to read them. */
		if (isfinite(s->p[res.index].wait_p95) && isfinite(s->p[res.end].wait_p95))
			fprintf(o->f,
				"; requests queued before the server read them: p95 %s -> %s ms",
				units__ms(s->p[res.index].wait_p95, b, sizeof(b)),
				units__ms(s->p[res.end].wait_p95, c, sizeof(c)));
		fputc('\n', o->f);
	}
	if (!found)
		analyze__para(
			o,
			"no saturation point in the timeline (%u intervals of %.1f s): throughput "
			"kept up with the load, or p95 did not rise with it",
			tl->nhttp ? tl->http[0].n : 0, tl->interval_s);
	runreport__first_signs(o, r, knee);
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
		fprintf(ad->o->f, analyze__md(ad->o) ? "%u. " : "  %u. ", ++ad->n);
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

static const char *const cache_kinds[] = { "repeat_read", "no_ttl", "scan_all", "large_value",
					   "low_hit_ratio" };

/* The cache's flags (src/record/cacheagg.h): one recommendation per kind. */
static void cache_advice(struct advice *ad, const struct run *r)
{
	const struct analyze_out *o = ad->o;
	char q[1200], e[1200], v[ANALYZE_VAL_MAX];

	if (runreport__cache_flag(r, "repeat_read")) {
		runreport__cache_list(o, r, "repeat_read", true, e, sizeof(e));
		runreport__cache_list(o, r, "repeat_read", false, q, sizeof(q));
		item(ad,
		     "Repeated cache reads%s%s: %s reads one key more than once per request. Read "
		     "it once and keep the value for the rest of the request (a per-request memo), "
		     "or fetch the keys together (MGET, pipelining).\n",
		     e[0] ? " on " : "", e, q);
	}
	if (runreport__cache_flag(r, "no_ttl")) {
		runreport__cache_list(o, r, "no_ttl", false, q, sizeof(q));
		item(ad,
		     "Cache keys without a TTL: %s. Give each write one (SET ... EX) so that stale "
		     "values expire and the cache's memory stays bounded.\n",
		     q);
	}
	/* The evidence is in the flags above: the advice names the rows only. */
	if (runreport__cache_flag(r, "scan_all")) {
		runreport__cache_list(o, r, "scan_all", false, q, sizeof(q));
		item(ad,
		     "Whole-keyspace or whole-structure reads: %s. Iterate with SCAN, "
		     "SSCAN or HSCAN, or read bounded ranges: the server serves no one "
		     "else meanwhile.\n",
		     q);
	}
	if (runreport__cache_flag(r, "large_value")) {
		runreport__cache_list(o, r, "large_value", false, q, sizeof(q));
		item(ad,
		     "Large cache values in %s: split them (a hash, several keys) or "
		     "compress them; every read and write copies them whole.\n",
		     q);
	}
	if (runreport__cache_flag(r, "low_hit_ratio")) {
		runreport__cache_list(o, r, "low_hit_ratio", false, q, sizeof(q));
		item(ad,
		     "Low cache hit ratio on %s: most reads go on to the slower source. "
		     "Check the TTL and the parts of the key (a time or a request id in "
		     "it never hits twice), or stop caching it.\n",
		     q);
	}
	for (unsigned i = 0; i < r->cache.nflags; i++) {
		bool known = false;

		for (size_t k = 0; k < sizeof(cache_kinds) / sizeof(cache_kinds[0]); k++)
			known |= !strcmp(r->cache.flags[i].kind, cache_kinds[k]);
		if (!known)
			item(ad, "%s: %s\n",
			     runreport__kind(o, r->cache.flags[i].kind, false, q, sizeof(q)),
			     analyze__val(o, r->cache.flags[i].evidence, 0, v, sizeof(v)));
	}
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
		item(ad, "%s: %s\n", runreport__kind(o, r->flags[i].kind, false, q, sizeof(q)),
		     analyze__val(o, r->flags[i].evidence, 0, v, sizeof(v)));
	}
	cache_advice(ad, r);
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

void runreport__recommendations(struct analyze_out *o, const struct run *r)
{
	struct advice ad = { .o = o };

	analyze__heading(o, "Recommendations");
	if (!advice(&ad, r))
		analyze__para(o, "none: no database flag%s,%s no saturation point",
			      r->has_db ? " was raised" : " (database tracing was off)",
			      r->has_cache ? " no cache flag," : "");
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
