// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "lib/hist.h"
#include "record/agg.h"
#include "record/cacheagg.h"
#include "record/dbagg.h"
#include "record/outagg.h"
#include "record/prom.h"
#include "record/report.h"

#define LABELS_MAX  1024
#define SUMMARY_MAX 120 /* bytes of a fingerprint kept in db_query_summary */

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

/* Label values escaped as the format says: backslash, double quote and newline. */
static void put_label(char *buf, size_t sz, size_t *n, const char *name, const char *v, size_t vlen)
{
	if (*n + 1 >= sz)
		return;
	*n += snprintf(buf + *n, sz - *n, "%s%s=\"", *n ? "," : "", name);
	for (size_t i = 0; i < vlen && v[i] && *n + 3 < sz; i++) {
		char c = v[i];

		if (c == '\\' || c == '"') {
			buf[(*n)++] = '\\';
			buf[(*n)++] = c;
		} else if (c == '\n') {
			buf[(*n)++] = '\\';
			buf[(*n)++] = 'n';
		} else {
			buf[(*n)++] = c;
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

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
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

static void histogram(FILE *f, const char *name, const char *labels, const struct hist *h,
		      const uint64_t *bounds)
{
	uint64_t cum = 0;
	char le[32], sum[32];
	int b = 0;

	for (int i = 0; i < (int)HIST_NBUCKETS && b < PROM_NBOUNDS; i++) {
		while (b < PROM_NBOUNDS && hist__bucket_lo(i) > bounds[b]) {
			fprintf(f, "%s_bucket{%s,le=\"%s\"} %" PRIu64 "\n", name, labels,
				seconds(bounds[b], le, sizeof(le)), cum);
			b++;
		}
		cum += h->buckets[i];
	}
	for (; b < PROM_NBOUNDS; b++)
		fprintf(f, "%s_bucket{%s,le=\"%s\"} %" PRIu64 "\n", name, labels,
			seconds(bounds[b], le, sizeof(le)), cum);
	fprintf(f, "%s_bucket{%s,le=\"+Inf\"} %" PRIu64 "\n", name, labels, h->count);
	fprintf(f, "%s_sum{%s} %s\n", name, labels, seconds(h->sum, sum, sizeof(sum)));
	fprintf(f, "%s_count{%s} %" PRIu64 "\n", name, labels, h->count);
}

static void http_server(FILE *f, const struct agg *a, const uint64_t *bounds)
{
	char l[LABELS_MAX];
	size_t n;

	family(f, "http_server_request_duration_seconds", "histogram",
	       "Duration of HTTP server requests (answered), per service, method and route.");
	for (unsigned i = 0; i < a->neps; i++) {
		const struct agg_endpoint *e = a->eps[i];

		n = 0;
		l[0] = '\0';
		label(l, &n, "service_name", a->services[e->service].name);
		label(l, &n, "http_request_method", e->method);
		label(l, &n, "http_route", e->route);
		histogram(f, "http_server_request_duration_seconds", l, &e->lat, bounds);
	}
	family(f, "http_server_responses_total", "counter",
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
			fprintf(f,
				"http_server_responses_total{%s,http_response_status_code=\"%s\"} "
				"%" PRIu64 "\n",
				l, code, e->status[k].count);
		}
		if (e->status_other)
			fprintf(f,
				"http_server_responses_total{%s,http_response_status_code="
				"\"other\"} "
				"%" PRIu64 "\n",
				l, e->status_other);
	}
}

static void db_rows(FILE *f, const struct dbagg *d, const uint64_t *bounds)
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
		histogram(f, "db_client_operation_duration_seconds", l, h, bounds);
	}
}

static void cache_rows(FILE *f, const struct cacheagg *c, const uint64_t *bounds)
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
		histogram(f, "db_client_operation_duration_seconds", l, &r->lat, bounds);
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
static void http_client_counts(FILE *f, const struct outagg *o)
{
	char l[LABELS_MAX];

	family(f, "http_client_responses_total", "counter",
	       "Answered outbound HTTP calls per status code.");
	for (unsigned i = 0; i < o->nrows; i++) {
		const struct outagg_row *r = o->rows[i];

		client_labels(l, r);
		for (unsigned k = 0; k < OUTAGG_STATUS_SLOTS && r->status[k].count; k++)
			fprintf(f,
				"http_client_responses_total{%s,http_response_status_code=\"%u\"} "
				"%" PRIu64 "\n",
				l, r->status[k].code, r->status[k].count);
		if (r->status_other)
			fprintf(f,
				"http_client_responses_total{%s,http_response_status_code="
				"\"other\"} "
				"%" PRIu64 "\n",
				l, r->status_other);
	}
	family(f, "http_client_failures_total", "counter",
	       "Outbound HTTP calls that got no answer, per kind of failure.");
	for (unsigned i = 0; i < o->nrows; i++) {
		const struct outagg_row *r = o->rows[i];

		client_labels(l, r);
		for (int k = HTTP_CALL_OK + 1; k < HTTP_CALL_FAIL_NR; k++)
			if (r->fail[k])
				fprintf(f,
					"http_client_failures_total{%s,error_type=\"%s\"} %" PRIu64
					"\n",
					l, http_call__fail_name(k), r->fail[k]);
	}
}

static void http_client(FILE *f, const struct outagg *o, const uint64_t *bounds)
{
	char l[LABELS_MAX];

	family(f, "http_client_request_duration_seconds", "histogram",
	       "Duration of outbound HTTP calls (answered), per caller, method, route and peer.");
	for (unsigned i = 0; i < o->nrows; i++) {
		const struct outagg_row *r = o->rows[i];

		if (!r->method[0])
			continue; /* connect failures: no request, no latency */
		client_labels(l, r);
		histogram(f, "http_client_request_duration_seconds", l, &r->lat, bounds);
	}
	http_client_counts(f, o);
}

static void counter(FILE *f, const char *name, const char *help, uint64_t v)
{
	family(f, name, "counter", help);
	fprintf(f, "%s %" PRIu64 "\n", name, v);
}

static void own(FILE *f, const struct report_meta *m, uint64_t scrapes)
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

	counter(f, "sloprobe_events_total", "Events read from the kernel.", m->tstats.events);
	family(f, "sloprobe_events_dropped_total", "counter",
	       "Events lost, by cause; their sum is the report's dropped count.");
	for (size_t i = 0; i < sizeof(drops) / sizeof(drops[0]); i++)
		fprintf(f, "sloprobe_events_dropped_total{reason=\"%s\"} %" PRIu64 "\n",
			drops[i].reason, drops[i].n);
	counter(f, "sloprobe_transfers_unframed_total", "Transfers the parsers could not frame.",
		report__unframed(m));
	family(f, "sloprobe_connections", "gauge", "Connections tracked now.");
	fprintf(f, "sloprobe_connections %" PRIu64 "\n", (uint64_t)m->tstats.conns_live);
	counter(f, "sloprobe_scrapes_total", "Scrapes answered before this one.", scrapes);
}

int prom__render(FILE *f, const struct prom_src *src)
{
	uint64_t bounds[PROM_NBOUNDS];

	prom__bounds(bounds);
	if (src->agg)
		http_server(f, src->agg, bounds);
	if (src->db || src->cache) {
		family(f, "db_client_operation_duration_seconds", "histogram",
		       "Duration of database operations: PostgreSQL per query fingerprint, Redis "
		       "per command and key pattern.");
		if (src->db)
			db_rows(f, src->db, bounds);
		if (src->cache)
			cache_rows(f, src->cache, bounds);
	}
	if (src->out)
		http_client(f, src->out, bounds);
	if (src->meta)
		own(f, src->meta, src->scrapes);
	return ferror(f) ? -EIO : 0;
}
