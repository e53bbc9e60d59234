// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "host/scan.h"
#include "lib/hist.h"
#include "lib/textesc.h"
#include "record/agg.h"
#include "record/cacheagg.h"
#include "record/dbagg.h"
#include "record/outagg.h"
#include "record/prom.h"
#include "record/report.h"

#define LABELS_MAX  1024
#define SUMMARY_MAX 120 /* bytes of a fingerprint kept in db_query_summary */

/* One rendering: where to, in which format, with which bounds. */
struct out {
	FILE *f;
	bool om; /* OpenMetrics 1.0.0, else Prometheus text 0.0.4 */
	uint64_t bounds[PROM_NBOUNDS];
};

/* OpenTelemetry's default bounds of http.server.request.duration, in milliseconds. */
static const double otel_ms[PROM_NBOUNDS] = { 5,   10,	25,   50,   75,	  100,	250,
					      500, 750, 1000, 2500, 5000, 7500, 10000 };

void prom__bounds(uint64_t b[PROM_NBOUNDS])
{
	for (int i = 0; i < PROM_NBOUNDS; i++) {
		uint64_t want = (uint64_t)(otel_ms[i] * 1e6);
		int idx = hist__bucket_of(want);
		uint64_t below = hist__bucket_lo(idx) - 1, above = hist__bucket_hi(idx);

		b[i] = want - below <= above - want ? below : above;
	}
}

/*
 * Label values escaped as both formats say: backslash, double quote and newline. Both want
 * UTF-8, and Prometheus refuses a whole scrape over one invalid label value: a byte that is not
 * part of valid UTF-8 (a route or a key from traffic can hold any) becomes U+FFFD.
 */
static void put_label(char *buf, size_t sz, size_t *n, const char *name, const char *v, size_t vlen)
{
	if (*n + 1 >= sz)
		return;
	*n += snprintf(buf + *n, sz - *n, "%s%s=\"", *n ? "," : "", name);
	for (size_t i = 0; i < vlen && v[i] && *n + 3 < sz; i++) {
		char c = v[i];
		size_t len;

		if (c == '\\' || c == '"') {
			buf[(*n)++] = '\\';
			buf[(*n)++] = c;
		} else if (c == '\n') {
			buf[(*n)++] = '\\';
			buf[(*n)++] = 'n';
		} else if ((unsigned char)c < 0x80) {
			buf[(*n)++] = c;
		} else {
			len = textesc__utf8_len(v + i, vlen - i);
			if (*n + (len ? len : 3) + 2 >= sz)
				break; /* never half a character */
			memcpy(buf + *n, len ? v + i : "\xef\xbf\xbd", len ? len : 3);
			*n += len ? len : 3;
			i += len ? len - 1 : 0;
		}
	}
	if (*n + 2 < sz) {
		buf[(*n)++] = '"';
		buf[*n] = '\0';
	} else {
		*n = sz - 1; /* cut: never a half label; the caller's line still parses */
		buf[*n] = '\0';
	}
}

static void label(char *buf, size_t *n, const char *name, const char *v)
{
	put_label(buf, LABELS_MAX, n, name, v, v ? strlen(v) : 0);
}

/* "addr:port" or "[v6]:port" into server_address and server_port labels. */
static void label_server(char *buf, size_t *n, const char *peer)
{
	const char *colon = peer ? strrchr(peer, ':') : NULL;
	const char *a = peer;
	size_t alen;

	if (!colon || colon == peer)
		return;
	alen = colon - peer;
	if (a[0] == '[' && alen >= 2 && a[alen - 1] == ']') {
		a++;
		alen -= 2;
	}
	put_label(buf, LABELS_MAX, n, "server_address", a, alen);
	label(buf, n, "server_port", colon + 1);
}

/*
 * HELP text, escaped as the format says: backslash and newline in both, the double quote too in
 * OpenMetrics (where a bare one is not allowed).
 */
static void put_help(struct out *o, const char *help)
{
	for (const char *c = help; *c; c++) {
		if (*c == '\\' || (*c == '"' && o->om))
			fprintf(o->f, "\\%c", *c);
		else if (*c == '\n')
			fputs("\\n", o->f);
		else
			fputc(*c, o->f);
	}
}

/*
 * A family's metadata. OpenMetrics names a counter's family without the _total its samples
 * carry, and states the unit that the name ends with (OpenMetrics: the unit MUST be the name's
 * suffix, so a name without one gets no UNIT line).
 */
static void family(struct out *o, const char *name, const char *type, const char *help)
{
	size_t n = strlen(name);

	if (o->om && !strcmp(type, "counter") && has_suffix(name, n, "_total"))
		n -= strlen("_total");
	fprintf(o->f, "# HELP %.*s ", (int)n, name);
	put_help(o, help);
	fprintf(o->f, "\n# TYPE %.*s %s\n", (int)n, name, type);
	if (o->om && has_suffix(name, n, "_seconds"))
		fprintf(o->f, "# UNIT %.*s seconds\n", (int)n, name);
}

/* ns as seconds, every digit kept (a double's %g would round 2.516582399 to 2.5165824). */
static const char *seconds(uint64_t ns, char *buf, size_t sz)
{
	int n = snprintf(buf, sz, "%" PRIu64 ".%09" PRIu64, ns / 1000000000, ns % 1000000000);

	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
	return buf;
}

/*
 * One histogram's samples. The bounds are bucket edges, never a whole number of seconds, so each
 * le value is already the canonical number OpenMetrics asks for (which would want "1.0" for a
 * whole second): the two formats print them alike (test_prom checks the bounds).
 */
static void histogram(struct out *o, const char *name, const char *labels, const struct hist *h)
{
	uint64_t cum = 0;
	char le[32], sum[32];
	int b = 0;

	for (int i = 0; i < (int)HIST_NBUCKETS && b < PROM_NBOUNDS; i++) {
		while (b < PROM_NBOUNDS && hist__bucket_lo(i) > o->bounds[b]) {
			fprintf(o->f, "%s_bucket{%s,le=\"%s\"} %" PRIu64 "\n", name, labels,
				seconds(o->bounds[b], le, sizeof(le)), cum);
			b++;
		}
		cum += h->buckets[i];
	}
	for (; b < PROM_NBOUNDS; b++)
		fprintf(o->f, "%s_bucket{%s,le=\"%s\"} %" PRIu64 "\n", name, labels,
			seconds(o->bounds[b], le, sizeof(le)), cum);
	fprintf(o->f, "%s_bucket{%s,le=\"+Inf\"} %" PRIu64 "\n", name, labels, h->count);
	fprintf(o->f, "%s_sum{%s} %s\n", name, labels, seconds(h->sum, sum, sizeof(sum)));
	fprintf(o->f, "%s_count{%s} %" PRIu64 "\n", name, labels, h->count);
}

static void http_server(struct out *o, const struct agg *a)
{
	char l[LABELS_MAX];
	size_t n;

	family(o, "http_server_request_duration_seconds", "histogram",
	       "Duration of HTTP server requests (answered), per service, method and route.");
	for (unsigned i = 0; i < a->neps; i++) {
		const struct agg_endpoint *e = a->eps[i];

		n = 0;
		l[0] = '\0';
		label(l, &n, "service_name", a->services[e->service].name);
		label(l, &n, "http_request_method", e->method);
		label(l, &n, "http_route", e->route);
		histogram(o, "http_server_request_duration_seconds", l, &e->lat);
	}
	family(o, "http_server_responses_total", "counter",
	       "HTTP server responses per status code (sloprobe keeps one latency histogram per "
	       "route, not per code).");
	for (unsigned i = 0; i < a->neps; i++) {
		const struct agg_endpoint *e = a->eps[i];
		char code[8];

		n = 0;
		l[0] = '\0';
		label(l, &n, "service_name", a->services[e->service].name);
		label(l, &n, "http_request_method", e->method);
		label(l, &n, "http_route", e->route);
		for (unsigned k = 0; k < AGG_STATUS_SLOTS && e->status[k].count; k++) {
			snprintf(code, sizeof(code), "%u", e->status[k].code);
			fprintf(o->f,
				"http_server_responses_total{%s,http_response_status_code=\"%s\"} "
				"%" PRIu64 "\n",
				l, code, e->status[k].count);
		}
		if (e->status_other)
			fprintf(o->f,
				"http_server_responses_total{%s,http_response_status_code="
				"\"other\"} "
				"%" PRIu64 "\n",
				l, e->status_other);
	}
}

static void db_rows(struct out *o, const struct dbagg *d)
{
	char l[LABELS_MAX], id[20];
	size_t n, slen;

	for (unsigned i = 0; i < d->nfps; i++) {
		const struct dbagg_fp *fp = d->fps[i];
		const struct hist *h = fp->lat[dbagg__main_path(fp)];

		if (!h)
			continue;
		snprintf(id, sizeof(id), "%016" PRIx64, fp->query_id);
		slen = fp->text ? strlen(fp->text) : 0;
		if (slen > SUMMARY_MAX) {
			slen = SUMMARY_MAX; /* never half a UTF-8 character */
			while (slen && ((unsigned char)fp->text[slen] & 0xc0) == 0x80)
				slen--;
		}
		n = 0;
		l[0] = '\0';
		label(l, &n, "db_system_name", "postgresql");
		label(l, &n, "db_query_id", id);
		put_label(l, LABELS_MAX, &n, "db_query_summary", fp->text, slen);
		label(l, &n, "service_name", fp->client);
		label_server(l, &n, fp->server);
		histogram(o, "db_client_operation_duration_seconds", l, h);
	}
}

static void cache_rows(struct out *o, const struct cacheagg *c)
{
	char l[LABELS_MAX];
	size_t n;

	for (unsigned i = 0; i < c->nrows; i++) {
		const struct cacheagg_row *r = c->rows[i];

		n = 0;
		l[0] = '\0';
		label(l, &n, "db_system_name", "redis");
		label(l, &n, "db_operation_name", r->verb);
		label(l, &n, "db_query_summary", r->pattern);
		label(l, &n, "service_name", r->client);
		label_server(l, &n, r->server);
		histogram(o, "db_client_operation_duration_seconds", l, &r->lat);
	}
}

/* The labels of an outbound row: caller, method, route, Host, peer. */
static void client_labels(char *l, const struct outagg_row *r)
{
	size_t n = 0;

	l[0] = '\0';
	label(l, &n, "service_name", r->caller);
	label(l, &n, "http_request_method", r->method);
	label(l, &n, "url_template", r->route);
	label(l, &n, "server_host", r->host);
	label_server(l, &n, r->peer);
}

/*
 * What --jsonl has of outbound rows beside the latency: the answers by status code and the
 * calls that got none, by kind (OpenTelemetry's error.type); connect failures have no method
 * or route, their labels are empty.
 */
static void http_client_counts(struct out *o, const struct outagg *oa)
{
	char l[LABELS_MAX];

	family(o, "http_client_responses_total", "counter",
	       "Answered outbound HTTP calls per status code.");
	for (unsigned i = 0; i < oa->nrows; i++) {
		const struct outagg_row *r = oa->rows[i];

		client_labels(l, r);
		for (unsigned k = 0; k < OUTAGG_STATUS_SLOTS && r->status[k].count; k++)
			fprintf(o->f,
				"http_client_responses_total{%s,http_response_status_code=\"%u\"} "
				"%" PRIu64 "\n",
				l, r->status[k].code, r->status[k].count);
		if (r->status_other)
			fprintf(o->f,
				"http_client_responses_total{%s,http_response_status_code="
				"\"other\"} "
				"%" PRIu64 "\n",
				l, r->status_other);
	}
	family(o, "http_client_failures_total", "counter",
	       "Outbound HTTP calls that got no answer, per kind of failure.");
	for (unsigned i = 0; i < oa->nrows; i++) {
		const struct outagg_row *r = oa->rows[i];

		client_labels(l, r);
		for (int k = HTTP_CALL_OK + 1; k < HTTP_CALL_FAIL_NR; k++)
			if (r->fail[k])
				fprintf(o->f,
					"http_client_failures_total{%s,error_type=\"%s\"} %" PRIu64
					"\n",
					l, http_call__fail_name(k), r->fail[k]);
	}
}

static void http_client(struct out *o, const struct outagg *oa)
{
	char l[LABELS_MAX];

	family(o, "http_client_request_duration_seconds", "histogram",
	       "Duration of outbound HTTP calls (answered), per caller, method, route and peer.");
	for (unsigned i = 0; i < oa->nrows; i++) {
		const struct outagg_row *r = oa->rows[i];

		if (!r->method[0])
			continue; /* connect failures: no request, no latency */
		client_labels(l, r);
		histogram(o, "http_client_request_duration_seconds", l, &r->lat);
	}
	http_client_counts(o, oa);
}

static void counter(struct out *o, const char *name, const char *help, uint64_t v)
{
	family(o, name, "counter", help);
	fprintf(o->f, "%s %" PRIu64 "\n", name, v);
}

static void own(struct out *o, const struct report_meta *m, uint64_t scrapes)
{
	const struct {
		const char *reason;
		uint64_t n;
	} drops[] = {
		{ "ring_buffer_full", m->kstats[SOCKIO_STAT_RB_DROPS] },
		{ "connection_lost", m->kstats[SOCKIO_STAT_CONN_LOST] },
		{ "no_thread_storage", m->kstats[SOCKIO_STAT_INFLIGHT_FAIL] },
		{ "tls_unbound", m->kstats[SOCKIO_STAT_TLS_UNBOUND] },
		{ "bad_event", m->tstats.bad_events },
		{ "endpoints_full", m->sstats.endpoints_full },
		{ "db_probe", m->db_dropped },
		{ "pg_wire_overflow", report__wire_lost(m) },
		{ "redis_unmatched", m->tstats.redis.unmatched },
		{ "handoff", report__handoff_lost(m) },
		{ "http_parser", m->hstats ? m->hstats->pending_overflow + m->hstats->nomem : 0 },
	};

	counter(o, "sloprobe_events_total", "Events read from the kernel.", m->tstats.events);
	family(o, "sloprobe_events_dropped_total", "counter",
	       "Events lost, by cause; their sum is the report's dropped count.");
	for (size_t i = 0; i < sizeof(drops) / sizeof(drops[0]); i++)
		fprintf(o->f, "sloprobe_events_dropped_total{reason=\"%s\"} %" PRIu64 "\n",
			drops[i].reason, drops[i].n);
	counter(o, "sloprobe_transfers_unframed_total", "Transfers the parsers could not frame.",
		report__unframed(m));
	family(o, "sloprobe_connections", "gauge", "Connections tracked now.");
	fprintf(o->f, "sloprobe_connections %" PRIu64 "\n", (uint64_t)m->tstats.conns_live);
	counter(o, "sloprobe_scrapes_total", "Scrapes answered before this one.", scrapes);
}

int prom__render(FILE *f, const struct prom_src *src)
{
	struct out o = { .f = f, .om = src->fmt == PROM_OPENMETRICS };

	prom__bounds(o.bounds);
	if (src->agg)
		http_server(&o, src->agg);
	if (src->db || src->cache) {
		family(&o, "db_client_operation_duration_seconds", "histogram",
		       "Duration of database operations: PostgreSQL per query fingerprint, Redis "
		       "per command and key pattern.");
		if (src->db)
			db_rows(&o, src->db);
		if (src->cache)
			cache_rows(&o, src->cache);
	}
	if (src->out)
		http_client(&o, src->out);
	if (src->meta)
		own(&o, src->meta, src->scrapes);
	if (o.om)
		fputs("# EOF\n", f); /* OpenMetrics: the end, so that a cut body is seen as one */
	return ferror(f) ? -EIO : 0;
}
