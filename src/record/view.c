// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/textesc.h"
#include "lib/units.h"
#include "record/view.h"

#define ROUTE_COL 29

struct row {
	const struct agg_endpoint *e;
	uint64_t count; /* what the table ranks by */
	uint64_t svc_count;
};

static int cmp_row(const void *pa, const void *pb)
{
	const struct row *x = pa, *y = pb;
	int c;

	if (x->svc_count != y->svc_count)
		return x->svc_count > y->svc_count ? -1 : 1;
	if (x->e->service != y->e->service)
		return x->e->service < y->e->service ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	c = strcmp(x->e->method, y->e->method);
	return c ? c : strcmp(x->e->route, y->e->route);
}

/* Rows with traffic, grouped by service (busiest first), busiest endpoint first. */
static struct row *rows_of(const struct agg *a, bool window, size_t *n)
{
	struct row *rows = calloc(a->neps ? a->neps : 1, sizeof(*rows));
	uint64_t *svc = calloc(a->nservices ? a->nservices : 1, sizeof(*svc));
	size_t k = 0;

	if (!rows || !svc) {
		free(rows);
		free(svc);
		*n = 0;
		return NULL;
	}
	for (unsigned i = 0; i < a->neps; i++) {
		const struct agg_endpoint *e = a->eps[i];
		uint64_t c = window ? e->win_count : e->count;

		if (!c && (window || !e->aborted))
			continue;
		rows[k].e = e;
		rows[k].count = c;
		svc[e->service] += c;
		k++;
	}
	for (size_t i = 0; i < k; i++)
		rows[i].svc_count = svc[rows[i].e->service];
	qsort(rows, k, sizeof(*rows), cmp_row);
	free(svc);
	*n = k;
	return rows;
}

static void service_line(FILE *f, const struct agg_service *s)
{
	char line[VIEW_WIDTH + 1], name[VIEW_WIDTH + 1], rt[VIEW_WIDTH + 1], comm[VIEW_WIDTH + 1];
	int n;

	/* Names are the traced processes' own: escaped (textesc.h), as the rest of the view. */
	textesc__shorten(s->name, VIEW_WIDTH, name, sizeof(name));
	n = snprintf(line, sizeof(line), "%s", name);
	if (s->container[0] && n < VIEW_WIDTH) {
		textesc__shorten(s->runtime, VIEW_WIDTH, rt, sizeof(rt));
		textesc__shorten(s->comm, VIEW_WIDTH, comm, sizeof(comm));
		n += snprintf(line + n, sizeof(line) - n, "  %s %s", rt, comm);
	}
	if (n < VIEW_WIDTH)
		n += snprintf(line + n, sizeof(line) - n, "  pid%s", s->npids > 1 ? "s" : "");
	for (unsigned i = 0; i < s->npids && n < VIEW_WIDTH - 12; i++)
		n += snprintf(line + n, sizeof(line) - n, " %u", s->pids[i]);
	if (s->npids && n >= VIEW_WIDTH - 12 && n < VIEW_WIDTH - 4)
		snprintf(line + n, sizeof(line) - n, " ...");
	/* The parts are clean: only a character split by the cut above is not, and goes. */
	line[textesc__clean(line, strlen(line))] = '\0';
	fprintf(f, "%s\n", line);
}

static void table_head(FILE *f)
{
	fprintf(f, "  %-7s %-*s %7s %7s %7s %7s %7s %7s %5s %5s\n", "METHOD", ROUTE_COL, "ROUTE",
		"COUNT", "REQ/S", "P50", "P95", "P99", "MAX", "4XX", "5XX");
}

/* An endpoint or query that breached an objective this interval: "!", red on a terminal. */
static const char *mark(bool breach, bool tty)
{
	if (!breach)
		return " ";
	return tty ? "\033[1;31m!\033[0m" : "!";
}

static void table_row(FILE *f, const struct agg_endpoint *e, uint64_t count, double rate,
		      const struct hist *h, uint64_t e4, uint64_t e5, const char *mk)
{
	char route[4 * ROUTE_COL + 2], method[4 * 7 + 2], p50[16], p95[16], p99[16], max[16];
	unsigned rcols = textesc__shorten(e->route, ROUTE_COL, route, sizeof(route));
	unsigned mcols = textesc__shorten(e->method, 7, method, sizeof(method));

	units__ns_short(hist__percentile(h, 50), p50, sizeof(p50));
	units__ns_short(hist__percentile(h, 95), p95, sizeof(p95));
	units__ns_short(hist__percentile(h, 99), p99, sizeof(p99));
	units__ns_short(h->max, max, sizeof(max));
	/* Padded by columns, not bytes: "é" is two bytes, "日" two columns. */
	fprintf(f, "%s %s%*s %s%*s %7llu %7.1f %7s %7s %7s %7s %5llu %5llu\n", mk, method,
		7 - mcols, "", route, ROUTE_COL - rcols, "", (unsigned long long)count, rate, p50,
		p95, p99, max, (unsigned long long)e4, (unsigned long long)e5);
}

static void footer(FILE *f, const struct view_footer *ft)
{
	fprintf(f, "events %llu  dropped %llu  unparsed %llu  aborted %llu  connections %llu\n",
		(unsigned long long)ft->events, (unsigned long long)ft->dropped,
		(unsigned long long)ft->unparsed, (unsigned long long)ft->aborted,
		(unsigned long long)ft->conns);
	if (ft->slo)
		fprintf(f, "SLO this interval: %u ok, %u breached (marked !), %u without data\n",
			ft->slo_pass, ft->slo_breach, ft->slo_idle);
	if (ft->tcp_drops || ft->tcp_retrans || ft->tcp_resets)
		fprintf(f,
			"TCP this interval: %llu handshake packets dropped (accept queue full), "
			"%llu retransmits, %llu resets\n",
			(unsigned long long)ft->tcp_drops, (unsigned long long)ft->tcp_retrans,
			(unsigned long long)ft->tcp_resets);
}

/*
 * Where the time went when requests queued before the server read them: worth a line only
 * when the wait is a real part of latency (saturation, a full accept queue).
 */
static void wait_line(FILE *f, const struct agg_endpoint *e)
{
	uint64_t w95 = hist__percentile(&e->wait, 95), l95 = hist__percentile(&e->lat, 95);
	char w50[16], w95s[16], s95[16];

	if (!e->wait.count || w95 < 1000000 || w95 * 10 < l95)
		return;
	units__ns_short(hist__percentile(&e->wait, 50), w50, sizeof(w50));
	units__ns_short(w95, w95s, sizeof(w95s));
	units__ns_short(hist__percentile(&e->server, 95), s95, sizeof(s95));
	fprintf(f, "    queued before the server read: p50 %s, p95 %s (server's own p95 %s)\n", w50,
		w95s, s95);
}

/* Queries per request of an endpoint, whole run so far. */
static void db_line(FILE *f, const struct agg_endpoint *e, const struct hist *lat)
{
	/* Most certain first; "shared" is an estimate and says so. */
	static const char *const name[] = { "exact", "by thread", "shared (estimated)",
					    "by hand-off" };
	static const int order[] = { 0, 1, 3, 2 };
	double q = e->db_queries / e->db_reqs, ms = e->db_ns / 1e6 / e->db_reqs;
	double mean = lat->count ? hist__mean(lat) / 1e6 : 0;
	uint64_t all = 0;
	char mix[96] = "";
	size_t n = 0;

	for (int k = 0; k < 4; k++)
		all += e->db_conf[k];
	for (int k = 0; k < 4 && all; k++) {
		uint64_t c = e->db_conf[order[k]];
		double pct = 100.0 * c / all;

		if (c && n < sizeof(mix))
			n += snprintf(mix + n, sizeof(mix) - n,
				      pct < 1 ? "%s%s <1 %%" : "%s%s %.0f %%", n ? ", " : "",
				      name[order[k]], pct);
	}
	fprintf(f,
		"    db: %.1f queries/request (max %.0f), %.2f ms/request = %.0f %% of latency\n",
		q, e->db_max_queries, ms, mean > 0 ? 100 * ms / mean : 0);
	fprintf(f, "        requests attributed %s\n", mix);
}

/* Cache and outbound calls per request of an endpoint, whole run so far. */
static void dep_lines(FILE *f, const struct agg_endpoint *e)
{
	static const char *const name[AGG_DEP_NR] = { "cache", "outbound" };

	for (int k = 0; k < AGG_DEP_NR; k++) {
		const struct agg_dep *d = &e->dep[k];

		if (!d->reqs)
			continue;
		fprintf(f, "    %s: %.1f calls/req, %.2f ms/req", name[k], d->calls / d->reqs,
			d->ns / 1e6 / d->reqs);
		if (k == AGG_DEP_CACHE && d->hits + d->misses > 0)
			fprintf(f, ", hit %.1f %%", 100 * d->hits / (d->hits + d->misses));
		if (d->errors > 0)
			fprintf(f, ", %.0f error%s", d->errors, d->errors == 1 ? "" : "s");
		fputc('\n', f);
	}
}

void view__cache(FILE *f, const struct cacheagg *c, double secs, bool window)
{
	uint64_t hits = window ? c->win_hits : 0, misses = window ? c->win_misses : 0;
	uint64_t errors = window ? c->win_errors : 0;
	unsigned live = 0, peak = 0;
	struct hist *all = NULL;
	const struct hist *h = &c->win;
	char p95[16], ratio[16] = "-";

	if (!c->nrows)
		return;
	if (!window) {
		/* The run's p95 from every row's histogram: once, at the end. */
		all = malloc(sizeof(*all));
		if (!all)
			return;
		hist__init(all);
		for (unsigned i = 0; i < c->nrows; i++) {
			hist__merge(all, &c->rows[i]->lat);
			hits += c->rows[i]->hits;
			misses += c->rows[i]->misses;
			errors += c->rows[i]->errors;
		}
		h = all;
	}
	for (unsigned i = 0; i < c->nclients; i++) {
		live += c->clients[i].live;
		peak += c->clients[i].peak;
	}
	if (hits + misses)
		snprintf(ratio, sizeof(ratio), "%.1f %%", 100.0 * hits / (hits + misses));
	units__ns_short(hist__percentile(h, 95), p95, sizeof(p95));
	fprintf(f,
		"\nCACHE  %llu commands  %.1f/s  hit %s  p95 %s  errors %llu  connections %u "
		"(peak %u)\n",
		(unsigned long long)h->count, secs > 0 ? h->count / secs : 0, ratio,
		h->count ? p95 : "-", (unsigned long long)errors, live, peak);
	free(all);
}

static void db_flags(const struct dbagg *db, const struct dbagg_fp *fp, char *out, size_t sz)
{
	size_t n = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < db->nflags && n < sz; i++) {
		static const char *const tag[] = {
			[DBAGG_FLAG_N_PLUS_ONE] = "N+1",  [DBAGG_FLAG_REDUNDANT] = "dup",
			[DBAGG_FLAG_SELECT_STAR] = "*",	  [DBAGG_FLAG_LARGE_OFFSET] = "ofs",
			[DBAGG_FLAG_LONG_TX] = "tx",	  [DBAGG_FLAG_SLOW] = "slow",
			[DBAGG_FLAG_NO_POOLING] = "pool",
		};
		const struct dbagg_flag *fl = &db->flags[i];

		if (fl->query_id != fp->query_id || fl->kind >= (int)(sizeof(tag) / sizeof(tag[0])))
			continue;
		if (strstr(out, tag[fl->kind]))
			continue;
		n += snprintf(out + n, sz - n, "%s%s", n ? "," : "", tag[fl->kind]);
	}
	if (fp->errors && n < sz)
		snprintf(out + n, sz - n, "%serr", n ? "," : "");
}

#define QUERY_COL 42

/* Hotspots by total time: the whole run, or the interval (its own histograms). */
static void db_table(FILE *f, const struct dbagg *db, unsigned max_rows, bool window, double secs,
		     bool tty)
{
	struct dbagg_fp **v = dbagg__sorted(db, DBAGG_BY_TOTAL);
	uint64_t total = 0, all = 0;
	unsigned shown = 0, rows = 0;

	if (!v)
		return;
	for (unsigned i = 0; i < db->nfps; i++) {
		const struct dbagg_fp *fp = v[i];
		const struct hist *h = fp->lat[dbagg__main_path(fp)];

		if (window)
			h = &fp->win;
		all += h ? h->count : 0;
		total += h ? h->sum : 0;
	}
	fprintf(f, "\nDATABASE  %llu queries  %.1f/s\n", (unsigned long long)all,
		secs > 0 ? all / secs : 0);
	fprintf(f, "  %-*s %7s %7s %7s %7s %7s %5s %s\n", QUERY_COL, "QUERY", "COUNT", "QPS", "P50",
		"P95", "P99", "TIME%", "FLAGS");
	for (unsigned i = 0; i < db->nfps; i++) {
		const struct dbagg_fp *fp = v[i];
		const struct hist *h = window ? &fp->win : fp->lat[dbagg__main_path(fp)];
		char q[4 * QUERY_COL + 2], p50[16], p95[16], p99[16], flags[24];
		uint64_t n = h ? h->count : 0;
		unsigned qcols;

		if (!n)
			continue;
		rows++;
		if (max_rows && shown == max_rows)
			continue;
		qcols = textesc__shorten(fp->text, QUERY_COL, q, sizeof(q));
		units__ns_short(hist__percentile(h, 50), p50, sizeof(p50));
		units__ns_short(hist__percentile(h, 95), p95, sizeof(p95));
		units__ns_short(hist__percentile(h, 99), p99, sizeof(p99));
		db_flags(db, fp, flags, sizeof(flags));
		fprintf(f, "%s %s%*s %7llu %7.1f %7s %7s %7s %5.1f %s\n",
			mark(window && fp->slo.breach, tty), q, QUERY_COL - qcols, "",
			(unsigned long long)n, secs > 0 ? n / secs : 0, p50, p95, p99,
			total ? 100.0 * h->sum / total : 0, flags);
		shown++;
	}
	if (shown < rows)
		fprintf(f, "  ... %u more queries\n", rows - shown);
	if (!rows)
		fprintf(f, "  (no queries%s)\n", window ? " in this interval" : "");
	free(v);
}

static void table(FILE *f, const struct agg *a, const struct view_opts *o, bool window, double secs)
{
	size_t n, shown = 0;
	struct row *rows = rows_of(a, window, &n);
	int last_svc = -1;

	for (size_t i = 0; i < n; i++) {
		const struct agg_endpoint *e = rows[i].e;
		const struct hist *h = window ? &e->win : &e->lat;

		if (o->max_rows && shown == o->max_rows)
			break;
		if ((int)e->service != last_svc) {
			if (last_svc >= 0)
				fputc('\n', f);
			service_line(f, &a->services[e->service]);
			table_head(f);
			last_svc = e->service;
		}
		table_row(f, e, rows[i].count, secs > 0 ? rows[i].count / secs : 0, h,
			  window ? e->win_4xx : e->err4xx, window ? e->win_5xx : e->err5xx,
			  mark(window && e->slo.breach, o->tty));
		if (o->hist && h->count)
			hist__print_log2(f, h, 4, VIEW_WIDTH - 4);
		if (!window)
			wait_line(f, e);
		if (o->db && e->db_reqs && e->db_queries > 0)
			db_line(f, e, &e->lat);
		dep_lines(f, e);
		shown++;
	}
	if (shown < n)
		fprintf(f, "  ... %zu more endpoints\n", n - shown);
	if (!n)
		fprintf(f, "  (no requests%s)\n", window ? " in this interval" : "");
	free(rows);
}

/* Cache objectives that breached in the interval just judged, one line each, marked. */
static void cache_marks(FILE *f, const struct slotrack *st, bool tty)
{
	unsigned n = 0;

	for (unsigned i = 0; i < st->nrows; i++) {
		const struct slotrack_row *r = &st->rows[i];
		char obj[64];

		if (!r->win_breach || r->o->slo->source != SLO_CACHE || n++ >= VIEW_CACHE_MARKS)
			continue;
		slo__format_objective(r->o, obj, sizeof(obj));
		fprintf(f, "%s ", mark(true, tty));
		/* Names from the SLO file and key patterns from the traffic: escaped. */
		textesc__column(f, r->o->slo->name, 16);
		putc(' ', f);
		textesc__column(f, r->subject, 34);
		putc(' ', f);
		textesc__write(f, obj, strlen(obj));
		putc('\n', f);
	}
	if (n > VIEW_CACHE_MARKS)
		fprintf(f, "  ... %u more cache objectives breached\n", n - VIEW_CACHE_MARKS);
}

void view__interval(FILE *f, const struct agg *a, const struct view_opts *o, double elapsed_s,
		    double interval_s, const struct view_footer *ft)
{
	uint64_t total = 0;
	char clock[16];
	time_t now = time(NULL);
	struct tm tm;

	for (unsigned i = 0; i < a->neps; i++)
		total += a->eps[i]->win_count;
	localtime_r(&now, &tm);
	strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	if (o->tty)
		fputs("\033[H\033[J", f);
	else
		fputc('\n', f);
	fprintf(f, "%s  +%.0fs  %llu requests  %.1f/s\n", clock, elapsed_s,
		(unsigned long long)total, interval_s > 0 ? total / interval_s : 0);
	table(f, a, o, true, interval_s);
	if (o->db && o->db->nfps)
		db_table(f, o->db, o->db_rows, true, interval_s, o->tty);
	if (o->cache)
		view__cache(f, o->cache, interval_s, true);
	if (o->slo)
		cache_marks(f, o->slo, o->tty);
	footer(f, ft);
	fflush(f);
}

void view__summary(FILE *f, const struct agg *a, const struct view_opts *o, double duration_s,
		   const struct view_footer *ft)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < a->neps; i++)
		total += a->eps[i]->count;
	fprintf(f, "\nSummary: %.1fs, %llu requests, %.1f/s\n", duration_s,
		(unsigned long long)total, duration_s > 0 ? total / duration_s : 0);
	table(f, a, o, false, duration_s);
	if (o->db && o->db->nfps)
		db_table(f, o->db, o->db_rows, false, duration_s, o->tty);
	if (o->cache)
		view__cache(f, o->cache, duration_s, false);
	footer(f, ft);
	fflush(f);
}
