// SPDX-License-Identifier: GPL-2.0-only
/*
 * The one writer of the report schema (run__write), for record, merge and the analyzer, and the
 * percentiles and sparse histograms it writes (run__latency, run__hist). It writes the layout
 * and key order the loader reads, so a report loaded and written again is the same file, byte
 * for byte; its own file because it shares nothing with the loader but the model.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "lib/hist.h"
#include "lib/json.h"
#include "run/histjson.h"
#include "run/run_priv.h"
#include "run/runfile.h"

static void w_latency(struct json *j, const char *key, const struct run_latency *l)
{
	json__key(j, key);
	json__begin_object(j);
	json__kv_fixed(j, "p50", l->p50, 3);
	json__kv_fixed(j, "p90", l->p90, 3);
	json__kv_fixed(j, "p95", l->p95, 3);
	json__kv_fixed(j, "p99", l->p99, 3);
	json__kv_fixed(j, "p999", l->p999, 3);
	json__kv_fixed(j, "max", l->max, 3);
	json__kv_fixed(j, "min", l->min, 3);
	json__kv_fixed(j, "mean", l->mean, 3);
	json__end_object(j);
}

/* A number the file may have had as null (NaN here). */
static void w_num(struct json *j, const char *key, double v, int decimals)
{
	json__key(j, key);
	if (isnan(v))
		json__null(j);
	else if (decimals < 0)
		json__double(j, v);
	else
		json__fixed(j, v, decimals);
}

/* The latency object's percentiles, ms, as the report writes them: p50, p90, p95, p99, p999. */
static const double latency_q[5] = { 50, 90, 95, 99, 99.9 };

static void latency_fill(struct run_latency *l, const double p[5], uint64_t count, uint64_t min,
			 uint64_t max, double mean)
{
	l->p50 = p[0] / 1e6;
	l->p90 = p[1] / 1e6;
	l->p95 = p[2] / 1e6;
	l->p99 = p[3] / 1e6;
	l->p999 = p[4] / 1e6;
	l->max = max / 1e6;
	l->min = count ? min / 1e6 : 0;
	l->mean = mean / 1e6;
}

void run__latency(const struct hist_sparse *h, struct run_latency *l)
{
	double p[5];

	for (int i = 0; i < 5; i++)
		p[i] = hist_sparse__percentile(h, latency_q[i]);
	latency_fill(l, p, h->count, h->min, h->max, hist_sparse__mean(h));
}

void run__latency_dense(const struct hist *h, struct run_latency *l)
{
	double p[5];

	for (int i = 0; i < 5; i++)
		p[i] = hist__percentile(h, latency_q[i]);
	latency_fill(l, p, h->count, h->min, h->max, hist__mean(h));
}

struct hist_sparse *run__hist(struct run *r, const struct hist *h)
{
	struct hist_sparse *s = run__alloc(r, sizeof(*s));
	uint32_t n = 0;

	if (!s)
		return NULL;
	for (int i = 0; i < (int)HIST_NBUCKETS; i++)
		n += !!h->buckets[i];
	s->idx = run__alloc(r, n * sizeof(*s->idx));
	s->counts = run__alloc(r, n * sizeof(*s->counts));
	if (!s->idx || !s->counts)
		return NULL;
	for (int i = 0; i < (int)HIST_NBUCKETS; i++) {
		if (!h->buckets[i])
			continue;
		s->idx[s->n] = (uint16_t)i;
		s->counts[s->n++] = h->buckets[i];
	}
	s->count = h->count;
	s->sum = h->sum;
	s->min = h->count ? h->min : 0;
	s->max = h->max;
	return s;
}

static void w_counts(struct json *j, const char *key, const struct run_counts *c)
{
	if (key) {
		json__key(j, key);
		json__begin_object(j);
	}
	for (unsigned i = 0; i < c->n; i++)
		json__kv_u64(j, c->v[i].key, c->v[i].n);
	if (key)
		json__end_object(j);
}

/* db_stats: plain counters, then each group ("libpq.queries") as an object, in first order. */
static void w_stats(struct json *j, const struct run_counts *c)
{
	for (unsigned i = 0; i < c->n; i++)
		if (!strchr(c->v[i].key, '.'))
			json__kv_u64(j, c->v[i].key, c->v[i].n);
	for (unsigned i = 0; i < c->n; i++) {
		const char *dot = strchr(c->v[i].key, '.');
		size_t len = dot ? (size_t)(dot - c->v[i].key) : 0;
		bool seen = false;
		char group[W_MAX];

		for (unsigned k = 0; dot && k < i && !seen; k++)
			seen = !strncmp(c->v[k].key, c->v[i].key, len + 1);
		if (!dot || seen)
			continue;
		snprintf(group, sizeof(group), "%.*s", (int)len, c->v[i].key);
		json__key(j, group);
		json__begin_object(j);
		for (unsigned k = i; k < c->n; k++)
			if (!strncmp(c->v[k].key, c->v[i].key, len + 1))
				json__kv_u64(j, c->v[k].key + len + 1, c->v[k].n);
		json__end_object(j);
	}
}

static void w_u64s(struct json *j, const char *key, const uint64_t *v, unsigned n)
{
	json__key(j, key);
	json__begin_array(j);
	for (unsigned i = 0; i < n; i++)
		json__u64(j, v[i]);
	json__end_array(j);
}

/* Any json-c value through the streaming writer (the passed-through "definitions"). */
static void w_jsonc(struct json *j, json_object *o)
{
	struct json_object_iterator it, end;

	switch (json_object_get_type(o)) {
	case json_type_null:
		json__null(j);
		break;
	case json_type_boolean:
		json__bool(j, json_object_get_boolean(o));
		break;
	case json_type_double:
		json__double(j, json_object_get_double(o));
		break;
	case json_type_int:
		if (json_object_get_int64(o) < 0)
			json__i64(j, json_object_get_int64(o));
		else
			json__u64(j, json_object_get_uint64(o));
		break;
	case json_type_string:
		json__string_n(j, json_object_get_string(o), json_object_get_string_len(o));
		break;
	case json_type_array:
		json__begin_array(j);
		for (size_t i = 0; i < json_object_array_length(o); i++)
			w_jsonc(j, json_object_array_get_idx(o, i));
		json__end_array(j);
		break;
	case json_type_object:
		json__begin_object(j);
		it = json_object_iter_begin(o);
		end = json_object_iter_end(o);
		for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
			json__key(j, json_object_iter_peek_name(&it));
			w_jsonc(j, json_object_iter_peek_value(&it));
		}
		json__end_object(j);
		break;
	}
}

/* The dense form of h in scratch, for the writer shared with the recorder. */
static const struct hist *dense(const struct hist_sparse *h, struct hist *scratch)
{
	hist__init(scratch);
	hist__merge_sparse(scratch, h);
	return scratch;
}

/* An endpoint's calls to the cache or to other HTTP services, per request. */
static void w_dep(struct json *j, const char *key, const struct run_ep_dep *d, bool cache)
{
	json__key(j, key);
	json__begin_object(j);
	json__kv_u64(j, "requests", d->requests);
	json__kv_u64(j, "requests_with_calls", d->with);
	json__kv_fixed(j, "calls_per_request", d->calls_per_request, 3);
	json__kv_fixed(j, "max_calls", d->max_calls, 3);
	json__kv_fixed(j, "ms_per_request", d->ms_per_request, 3);
	json__kv_fixed(j, "errors", d->errors, 3);
	if (cache) {
		json__kv_fixed(j, "hits", d->hits, 3);
		json__kv_fixed(j, "misses", d->misses, 3);
		w_num(j, "hit_ratio", d->hit_ratio, 4);
		json__kv_u64(j, "repeat_requests", d->repeat);
	}
	json__end_object(j);
}

static void w_endpoint(struct json *j, const struct run_endpoint *e, struct hist *scratch)
{
	const struct hist *h = dense(e->hist, scratch);
	double mean_ms = hist__mean(h) / 1e6;

	json__begin_object(j);
	json__kv_string(j, "service", e->service);
	w_u64s(j, "pids", e->pids, e->npids);
	json__kv_string(j, "comm", e->comm);
	json__kv_string(j, "container", e->container);
	if (e->container_id)
		json__kv_string(j, "container_id", e->container_id);
	if (e->image)
		json__kv_string(j, "image", e->image);
	if (e->compose_project)
		json__kv_string(j, "compose_project", e->compose_project);
	if (e->compose_service)
		json__kv_string(j, "compose_service", e->compose_service);
	if (e->runtime)
		json__kv_string(j, "runtime", e->runtime);
	if (e->cgroup)
		json__kv_string(j, "cgroup", e->cgroup);
	if (e->port >= 0)
		json__kv_u64(j, "port", e->port);
	if (e->tls)
		json__kv_bool(j, "tls", true);
	json__kv_string(j, "method", e->method);
	json__kv_string(j, "route", e->route);
	json__kv_u64(j, "count", e->count);
	json__kv_fixed(j, "rate_per_s", e->rate_per_s, 3);
	w_counts(j, "status", &e->status);
	json__key(j, "errors");
	json__begin_object(j);
	json__kv_u64(j, "4xx", e->err4xx);
	json__kv_u64(j, "5xx", e->err5xx);
	json__kv_fixed(j, "5xx_ratio", e->count ? (double)e->err5xx / e->count : 0, 6);
	json__end_object(j);
	w_counts(j, NULL, &e->extra);
	histjson__latency(j, "latency_ms", h);
	if (e->has_ttfb)
		w_latency(j, "ttfb_ms", &e->ttfb);
	if (e->has_server)
		w_latency(j, "server_ms", &e->server);
	if (e->has_wait)
		w_latency(j, "wait_ms", &e->wait);
	histjson__histogram(j, "histogram", h);
	if (e->has_db) {
		const struct run_ep_db *d = &e->db;

		json__key(j, "db");
		json__begin_object(j);
		json__kv_u64(j, "requests", d->requests);
		json__kv_fixed(j, "queries_per_request", d->queries_per_request, 3);
		json__kv_fixed(j, "queries_per_request_max", d->queries_per_request_max, 3);
		json__kv_fixed(j, "db_time_ms_per_request", d->db_time_ms_per_request, 3);
		/* From the unrounded times where the file or the recorder has it. */
		json__kv_fixed(j, "db_time_share",
			       !isnan(d->db_time_share) ? d->db_time_share
			       : mean_ms > 0		? d->db_time_ms_per_request / mean_ms
							: 0,
			       4);
		json__key(j, "attribution");
		json__begin_object(j);
		json__kv_u64(j, "exact", d->attr_exact);
		json__kv_u64(j, "thread", d->attr_thread);
		json__kv_u64(j, "shared", d->attr_shared);
		json__kv_u64(j, "handoff", d->attr_handoff);
		json__end_object(j);
		json__key(j, "top_queries");
		json__begin_array(j);
		for (unsigned i = 0; i < d->ntop; i++) {
			json__begin_object(j);
			json__kv_string(j, "query_id", d->top[i].query_id);
			json__kv_string(j, "query", d->top[i].query);
			json__kv_fixed(j, "per_request", d->top[i].per_request, 3);
			json__kv_fixed(j, "ms_per_request", d->top[i].ms_per_request, 3);
			json__end_object(j);
		}
		json__end_array(j);
		json__end_object(j);
	}
	if (e->has_dep[RUN_DEP_CACHE])
		w_dep(j, "cache", &e->dep[RUN_DEP_CACHE], true);
	if (e->has_dep[RUN_DEP_OUTBOUND])
		w_dep(j, "outbound", &e->dep[RUN_DEP_OUTBOUND], false);
	json__end_object(j);
}

static void w_dbq(struct json *j, const struct run_dbq *q, uint64_t db_total_ns,
		  struct hist *scratch)
{
	const struct hist *h = dense(q->hist, scratch);

	json__begin_object(j);
	json__kv_string(j, "system", q->system);
	json__kv_string(j, "query_id", q->query_id);
	json__kv_string(j, "query", q->query);
	if (q->raw_sample)
		json__kv_string(j, "raw_sample", q->raw_sample);
	json__kv_bool(j, "truncated", q->truncated);
	json__kv_bool(j, "unknown_statement", q->unknown_statement);
	json__kv_u64(j, "count", q->count);
	json__kv_fixed(j, "rate_per_s", q->rate_per_s, 3);
	json__kv_u64(j, "errors", q->errors);
	w_counts(j, "sqlstates", &q->sqlstates);
	json__kv_fixed(j, "total_ms", q->hist->sum / 1e6, 3);
	json__kv_fixed(j, "time_share",
		       !isnan(q->time_share) ? q->time_share
		       : db_total_ns	     ? (double)q->hist->sum / db_total_ns
					     : 0,
		       4);
	if (q->has_rows)
		json__kv_i64(j, "rows", q->rows);
	else
		json__kv_string(j, "rows", NULL);
	json__kv_u64(j, "slow", q->slow);
	if (q->client) /* older reports may lack it; the schema has no null for it */
		json__kv_string(j, "client", q->client);
	json__kv_string(j, "server", q->server);
	if (q->main_path)
		json__kv_string(j, "main_path", q->main_path);
	histjson__latency(j, "latency_ms", h);
	if (q->has_first_byte)
		w_latency(j, "first_byte_ms", &q->first_byte);
	json__key(j, "paths");
	json__begin_array(j);
	for (unsigned i = 0; i < q->npaths; i++) {
		json__begin_object(j);
		json__kv_string(j, "path", q->paths[i].path);
		json__kv_u64(j, "count", q->paths[i].count);
		w_latency(j, "latency_ms", &q->paths[i].lat);
		json__end_object(j);
	}
	json__end_array(j);
	histjson__histogram(j, "histogram", h);
	json__end_object(j);
}

static void w_ids(struct json *j, const char *key, const struct run_ids *ids)
{
	json__key(j, key);
	json__begin_array(j);
	for (unsigned i = 0; i < ids->n; i++)
		json__string(j, ids->v[i]);
	json__end_array(j);
}

static void w_db(struct json *j, const struct run *r, struct hist *scratch)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < r->ndbqs; i++)
		total += r->dbqs[i].hist->sum;
	json__key(j, "db");
	json__begin_array(j);
	for (unsigned i = 0; i < r->ndbqs; i++)
		w_dbq(j, &r->dbqs[i], total, scratch);
	json__end_array(j);
	json__key(j, "db_hotspots");
	json__begin_object(j);
	w_ids(j, "by_total_time", &r->hot_total);
	w_ids(j, "by_p95", &r->hot_p95);
	w_ids(j, "by_count", &r->hot_count);
	json__end_object(j);
	json__key(j, "db_flags");
	json__begin_array(j);
	for (unsigned i = 0; i < r->nflags; i++) {
		const struct run_flag *f = &r->flags[i];

		json__begin_object(j);
		json__kv_string(j, "kind", f->kind);
		if (f->query_id)
			json__kv_string(j, "query_id", f->query_id);
		json__kv_string(j, "query", f->query);
		json__kv_string(j, "endpoint", f->endpoint);
		json__kv_string(j, "evidence", f->evidence);
		json__kv_u64(j, "occurrences", f->occurrences);
		if (!isnan(f->t_s))
			json__kv_fixed(j, "t_s", f->t_s, 3);
		if (f->at)
			json__kv_string(j, "at", f->at);
		if (f->attribution)
			json__kv_string(j, "attribution", f->attribution);
		if (!isnan(f->support))
			json__kv_fixed(j, "support", f->support, 3);
		if (f->confidence)
			json__kv_string(j, "confidence", f->confidence);
		json__end_object(j);
	}
	json__end_array(j);
	if (r->has_db_stats) {
		json__key(j, "db_stats");
		json__begin_object(j);
		json__kv_string(j, "probes", r->db_probes);
		w_stats(j, &r->db_stats);
		json__end_object(j);
	}
}

/* {count, latency_ms, histogram} of a histogram that may be absent (null). */
static void w_hist_obj(struct json *j, const char *key, const struct hist_sparse *h,
		       struct hist *scratch)
{
	const struct hist *d;

	json__key(j, key);
	if (!h) {
		json__null(j);
		return;
	}
	d = dense(h, scratch);
	json__begin_object(j);
	json__kv_u64(j, "count", h->count);
	histjson__latency(j, "latency_ms", d);
	histjson__histogram(j, "histogram", d);
	json__end_object(j);
}

static void w_out_call(struct json *j, const struct run_out_call *c, struct hist *scratch)
{
	const struct hist *h;

	json__begin_object(j);
	json__kv_string(j, "caller", c->caller);
	json__kv_string(j, "peer", c->peer);
	json__kv_string(j, "host", c->host);
	json__kv_bool(j, "local", c->local);
	if (c->tls)
		json__kv_bool(j, "tls", true);
	json__kv_string(j, "method", c->method);
	json__kv_string(j, "route", c->route);
	json__kv_u64(j, "count", c->count);
	json__kv_u64(j, "answered", c->answered);
	w_counts(j, "status", &c->status);
	json__key(j, "errors");
	json__begin_object(j);
	json__kv_u64(j, "4xx", c->err4xx);
	json__kv_u64(j, "5xx", c->err5xx);
	json__end_object(j);
	w_counts(j, "failures", &c->failures);
	json__kv_u64(j, "retries", c->retries);
	w_counts(j, NULL, &c->extra);
	json__kv_u64(j, "connects", c->connects);
	h = dense(c->hist, scratch);
	histjson__latency(j, "latency_ms", h);
	histjson__histogram(j, "histogram", h);
	w_hist_obj(j, "connect", c->connect, scratch);
	w_hist_obj(j, "failure", c->failure, scratch);
	json__end_object(j);
}

static void w_outbound(struct json *j, const struct run *r, struct hist *scratch)
{
	json__key(j, "outbound");
	json__begin_object(j);
	json__key(j, "calls");
	json__begin_array(j);
	for (unsigned i = 0; i < r->nouts; i++)
		w_out_call(j, &r->outs[i], scratch);
	json__end_array(j);
	json__key(j, "destinations");
	json__begin_array(j);
	for (unsigned i = 0; i < r->nout_dests; i++) {
		const struct run_out_dest *d = &r->out_dests[i];

		json__begin_object(j);
		json__kv_string(j, "caller", d->caller);
		json__kv_string(j, "peer", d->peer);
		json__kv_string(j, "host", d->host);
		json__kv_bool(j, "local", d->local);
		json__kv_u64(j, "attempts", d->attempts);
		json__kv_u64(j, "failed", d->failed);
		json__kv_u64(j, "retries", d->retries);
		json__kv_u64(j, "retry_success", d->retry_success);
		json__kv_u64(j, "retry_exhausted", d->retry_exhausted);
		w_hist_obj(j, "backoff", d->backoff, scratch);
		json__end_object(j);
	}
	json__end_array(j);
	if (r->has_outbound_stats) {
		json__key(j, "stats");
		json__begin_object(j);
		w_stats(j, &r->outbound_stats);
		json__end_object(j);
	}
	json__end_object(j);
}

static void w_tcp_counts(struct json *j, const uint64_t *n)
{
	for (int k = 0; k < RUN_TCP_KIND_NR; k++)
		json__kv_u64(j, run_tcp_names[k], n[k]);
}

static void w_tcp(struct json *j, const struct run_tcp *t)
{
	json__key(j, "tcp");
	json__begin_object(j);
	json__key(j, "listeners");
	json__begin_array(j);
	for (unsigned i = 0; i < t->nlisteners; i++) {
		const struct run_tcp_listener *l = &t->listeners[i];

		json__begin_object(j);
		json__kv_u64(j, "port", l->port);
		json__kv_u64(j, "sockets", l->sockets);
		json__kv_u64(j, "drops", l->drops);
		json__kv_u64(j, "accept_queue_max", l->accept_queue_max);
		json__kv_u64(j, "backlog", l->backlog);
		json__end_object(j);
	}
	json__end_array(j);
	json__key(j, "peers");
	json__begin_array(j);
	for (unsigned i = 0; i < t->npeers; i++) {
		const struct run_tcp_peer *p = &t->peers[i];

		json__begin_object(j);
		json__kv_string(j, "role", p->server ? "server" : "client");
		json__kv_u64(j, "port", p->port);
		json__kv_string(j, "peer", p->peer);
		w_tcp_counts(j, p->n);
		json__end_object(j);
	}
	json__end_array(j);
	json__key(j, "host");
	if (t->has_host) {
		json__begin_object(j);
		json__kv_u64(j, "listen_overflows", t->host_overflows);
		json__kv_u64(j, "listen_drops", t->host_drops);
		json__end_object(j);
	} else {
		json__null(j);
	}
	json__key(j, "timeline");
	json__begin_array(j);
	for (unsigned i = 0; i < t->npoints; i++) {
		const struct run_tcp_point *p = &t->points[i];

		json__begin_object(j);
		json__kv_fixed(j, "t", p->t, 3);
		json__kv_u64(j, "drops", p->drops);
		w_tcp_counts(j, p->n);
		json__end_object(j);
	}
	json__end_array(j);
	json__kv_u64(j, "peers_lost", t->peers_lost);
	json__kv_u64(j, "listeners_lost", t->listeners_lost);
	json__kv_u64(j, "reads_failed", t->reads_failed);
	json__end_object(j);
}

/* hits / keys with 4 decimals; null when no key was read. */
static void w_ratio(struct json *j, const char *key, uint64_t hits, uint64_t keys)
{
	w_num(j, key, keys ? (double)hits / keys : NAN, 4);
}

static void w_cache_row(struct json *j, const struct run_cache_row *c, struct hist *scratch)
{
	const struct hist *h = dense(c->hist, scratch);

	json__begin_object(j);
	json__kv_string(j, "id", c->id);
	json__kv_string(j, "client", c->client);
	json__kv_string(j, "server", c->server);
	json__kv_string(j, "command", c->verb);
	json__kv_string(j, "pattern", c->pattern);
	if (c->raw_key)
		json__kv_string(j, "raw_key", c->raw_key);
	json__kv_u64(j, "count", c->count);
	json__kv_fixed(j, "rate_per_s", c->rate_per_s, 3);
	json__kv_u64(j, "errors", c->errors);
	w_counts(j, "errors_by_word", &c->errs);
	json__kv_u64(j, "aborted", c->aborted);
	json__kv_u64(j, "pipelined", c->pipelined);
	json__kv_u64(j, "in_transaction", c->in_tx);
	json__kv_u64(j, "end_inferred", c->end_inferred);
	json__kv_u64(j, "reads", c->reads);
	json__kv_u64(j, "hits", c->hits);
	json__kv_u64(j, "misses", c->misses);
	w_ratio(j, "hit_ratio", c->hits, c->hits + c->misses);
	json__kv_u64(j, "writes", c->writes);
	json__kv_u64(j, "writes_without_ttl", c->no_ttl);
	json__kv_u64(j, "whole_reads", c->whole_reads);
	json__kv_u64(j, "whole_reads_big", c->whole_reads_big);
	json__key(j, "max_elements");
	if (c->max_elements < 0)
		json__null(j);
	else
		json__i64(j, c->max_elements);
	json__key(j, "bytes");
	json__begin_object(j);
	json__kv_u64(j, "sent", c->bytes_sent);
	json__kv_u64(j, "received", c->bytes_received);
	json__kv_u64(j, "max_value", c->max_value);
	json__end_object(j);
	json__kv_u64(j, "large_values", c->large_values);
	json__kv_fixed(j, "total_ms", c->hist->sum / 1e6, 3);
	histjson__latency(j, "latency_ms", h);
	w_ids(j, "flags", &c->flags);
	histjson__histogram(j, "histogram", h);
	json__end_object(j);
}

static void w_cache_timeline(struct json *j, const struct run_cache *c)
{
	json__key(j, "timeline");
	json__begin_object(j);
	json__kv_fixed(j, "interval_s", c->interval_s, 3);
	json__kv_u64(j, "points_dropped", c->points_dropped);
	json__key(j, "points");
	json__begin_array(j);
	for (unsigned i = 0; i < c->npoints; i++) {
		const struct run_cache_point *p = &c->points[i];

		json__begin_object(j);
		json__kv_fixed(j, "t", p->t, 3);
		json__kv_u64(j, "count", p->count);
		json__kv_fixed(j, "rate_per_s", p->rate_per_s, 3);
		w_num(j, "p50", p->p50, 3);
		w_num(j, "p95", p->p95, 3);
		w_num(j, "p99", p->p99, 3);
		json__kv_u64(j, "errors", p->errors);
		json__kv_u64(j, "hits", p->hits);
		json__kv_u64(j, "misses", p->misses);
		w_ratio(j, "hit_ratio", p->hits, p->hits + p->misses);
		json__end_object(j);
	}
	json__end_array(j);
	json__end_object(j);
}

/* The cache section: the totals are the rows' (those the recorder could keep). */
static void w_cache(struct json *j, const struct run_cache *c, struct hist *scratch)
{
	uint64_t count = 0, errors = 0, hits = 0, misses = 0;

	for (unsigned i = 0; i < c->nrows; i++) {
		count += c->rows[i].count;
		errors += c->rows[i].errors;
		hits += c->rows[i].hits;
		misses += c->rows[i].misses;
	}
	json__key(j, "cache");
	json__begin_object(j);
	json__kv_string(j, "system", c->system);
	json__kv_u64(j, "commands", count);
	json__kv_u64(j, "errors", errors);
	json__kv_u64(j, "hits", hits);
	json__kv_u64(j, "misses", misses);
	w_ratio(j, "hit_ratio", hits, hits + misses);
	json__key(j, "rows");
	json__begin_array(j);
	for (unsigned i = 0; i < c->nrows; i++)
		w_cache_row(j, &c->rows[i], scratch);
	json__end_array(j);
	json__key(j, "clients");
	json__begin_array(j);
	for (unsigned i = 0; i < c->nclients; i++) {
		const struct run_cache_client *cl = &c->clients[i];

		json__begin_object(j);
		json__kv_string(j, "client", cl->client);
		json__kv_string(j, "server", cl->server);
		json__kv_u64(j, "opened", cl->opened);
		json__kv_u64(j, "closed", cl->closed);
		json__kv_u64(j, "live", cl->live);
		json__kv_u64(j, "peak", cl->peak);
		json__kv_u64(j, "commands", cl->commands);
		json__end_object(j);
	}
	json__end_array(j);
	json__key(j, "flags");
	json__begin_array(j);
	for (unsigned i = 0; i < c->nflags; i++) {
		const struct run_cache_flag *f = &c->flags[i];

		json__begin_object(j);
		json__kv_string(j, "kind", f->kind);
		json__kv_string(j, "id", f->id);
		json__kv_string(j, "command", f->verb);
		json__kv_string(j, "pattern", f->pattern);
		json__kv_string(j, "endpoint", f->endpoint);
		json__kv_string(j, "evidence", f->evidence);
		json__kv_u64(j, "occurrences", f->occurrences);
		json__end_object(j);
	}
	json__end_array(j);
	if (c->has_timeline)
		w_cache_timeline(j, c);
	w_counts(j, "attribution", &c->attribution);
	w_counts(j, "drops", &c->drops);
	json__end_object(j);
}

static void w_span(struct json *j, const struct run_span *sp)
{
	json__begin_object(j);
	json__kv_string(j, "kind", run_span_names[sp->kind]);
	json__kv_fixed(j, "start_ms", sp->start_ms, 3);
	json__kv_fixed(j, "duration_ms", sp->duration_ms, 3);
	json__kv_string(j, "attribution", sp->attribution);
	switch (sp->kind) {
	case RUN_SPAN_QUERY:
		json__kv_string(j, "query_id", sp->query_id);
		break;
	case RUN_SPAN_CACHE:
		json__kv_string(j, "cache_id", sp->cache_id);
		json__kv_string(j, "verb", sp->verb);
		json__kv_string(j, "key", sp->key);
		json__key(j, "hit");
		if (sp->hit < 0)
			json__null(j);
		else
			json__bool(j, sp->hit);
		json__kv_bool(j, "error", sp->error);
		break;
	default:
		json__kv_string(j, "destination", sp->destination);
		json__kv_string(j, "method", sp->method);
		json__kv_string(j, "route", sp->route);
		json__key(j, "status");
		if (sp->status)
			json__u64(j, sp->status);
		else
			json__null(j);
		json__kv_bool(j, "error", sp->error);
		break;
	}
	json__end_object(j);
}

static void w_exemplars(struct json *j, const struct run *r)
{
	json__key(j, "exemplars");
	json__begin_array(j);
	for (unsigned i = 0; i < r->nexemplars; i++) {
		const struct run_exemplar *e = &r->exemplars[i];

		json__begin_object(j);
		json__kv_string(j, "service", e->service);
		json__kv_string(j, "method", e->method);
		json__kv_string(j, "route", e->route);
		json__kv_string(j, "pick", e->pick);
		json__kv_fixed(j, "t_s", e->t_s, 3);
		json__kv_fixed(j, "latency_ms", e->latency_ms, 3);
		json__kv_u64(j, "status", e->status);
		json__kv_u64(j, "pid", e->pid);
		json__kv_u64(j, "tid", e->tid);
		json__kv_string(j, "attribution", e->attribution);
		json__kv_u64(j, "spans_cut", e->spans_cut);
		json__key(j, "spans");
		json__begin_array(j);
		for (unsigned k = 0; k < e->nspans; k++)
			w_span(j, &e->spans[k]);
		json__end_array(j);
		json__end_object(j);
	}
	json__end_array(j);
	w_counts(j, "exemplar_stats", &r->exemplar_stats);
}

static void w_slo(struct json *j, const struct run *r)
{
	json__key(j, "slo");
	json__begin_array(j);
	for (unsigned i = 0; i < r->nslo; i++) {
		const struct run_slo *s = &r->slo[i];

		json__begin_object(j);
		json__kv_string(j, "name", s->name);
		json__kv_string(j, "objective", s->objective);
		json__kv_string(j, "target", s->target);
		if (s->service)
			json__kv_string(j, "service", s->service);
		json__kv_bool(j, "matched", s->matched);
		json__kv_string(j, "source", s->source);
		json__kv_string(j, "per", s->per);
		json__kv_string(j, "kind", s->kind);
		if (!isnan(s->threshold_ms))
			json__kv_fixed(j, "threshold_ms", s->threshold_ms, 6);
		if (!isnan(s->percentile))
			json__kv_fixed(j, "percentile", s->percentile, 7);
		if (s->errors_are)
			json__kv_string(j, "errors_are", s->errors_are);
		if (!isnan(s->target_ratio))
			json__kv_fixed(j, "target_ratio", s->target_ratio, 9);
		if (s->has_min_count)
			json__kv_u64(j, "min_count", s->min_count);
		json__kv_bool(j, "strict", s->strict);
		json__kv_string(j, "unit", s->unit);
		w_num(j, "observed", s->observed, -1);
		w_num(j, "target_value", s->target_value, -1);
		w_num(j, "margin", s->margin, -1);
		json__kv_u64(j, "total", s->n_total);
		json__kv_u64(j, "good", s->good);
		json__kv_u64(j, "errors", s->n_errors);
		json__kv_u64(j, "protected", s->n_protected);
		/* Good out of judged, as the loader keeps them: files without judged say total. */
		json__kv_u64(j, "judged", s->total);
		json__kv_u64(j, "bad", s->total > s->good ? s->total - s->good : 0);
		w_num(j, "budget_consumed", s->budget_consumed, -1);
		json__kv_string(j, "verdict", s->verdict);
		w_num(j, "first_breach_s", s->first_breach_s, 3);
		json__kv_u64(j, "breached_intervals", s->breached_intervals);
		json__kv_bool(j, "approximate", s->approximate);
		json__kv_bool(j, "incomplete_data", s->incomplete_data);
		json__kv_u64(j, "line", s->line);
		json__kv_u64(j, "column", s->column);
		json__end_object(j);
	}
	json__end_array(j);
}

static void w_slo_summary(struct json *j, const struct run *r)
{
	const struct run_slo_summary *s = &r->slo_summary;

	json__key(j, "slo_summary");
	json__begin_object(j);
	json__kv_string(j, "file", s->file);
	w_num(j, "warmup_s", s->warmup_s, 3);
	json__kv_u64(j, "objectives", s->objectives);
	json__kv_u64(j, "pass", s->pass);
	json__kv_u64(j, "breach", s->breach);
	json__kv_u64(j, "insufficient_data", s->insufficient);
	json__kv_u64(j, "rows_dropped", s->rows_dropped);
	json__kv_bool(j, "incomplete_data", s->incomplete_data);
	w_num(j, "dropped_pct", s->dropped_pct, 4);
	w_num(j, "max_drop_pct", r->max_drop_pct, 4);
	json__kv_string(j, "verdict", s->verdict);
	json__end_object(j);
}

static void w_series(struct json *j, const struct run_series *s, bool http)
{
	json__begin_object(j);
	if (http) {
		json__kv_string(j, "service", s->service);
		json__kv_string(j, "method", s->method);
		json__kv_string(j, "route", s->route);
	} else {
		json__kv_string(j, "query", s->query);
	}
	json__key(j, "points");
	json__begin_array(j);
	for (unsigned i = 0; i < s->n; i++) {
		const struct run_tpoint *p = &s->p[i];

		json__begin_object(j);
		json__kv_fixed(j, "t", p->t, 3);
		json__kv_u64(j, "count", p->count);
		json__kv_fixed(j, "rate_per_s", p->rate_per_s, 3);
		w_num(j, "p50", p->p50, 3);
		w_num(j, "p95", p->p95, 3);
		w_num(j, "p99", p->p99, 3);
		json__kv_u64(j, "errors", p->errors);
		if (http) {
			json__kv_u64(j, "5xx", p->e5xx);
			json__kv_u64(j, "4xx", p->e4xx);
			if (!isnan(p->wait_p95))
				json__kv_fixed(j, "wait_p95", p->wait_p95, 3);
		}
		json__end_object(j);
	}
	json__end_array(j);
	json__end_object(j);
}

static void w_timeline(struct json *j, const struct run_timeline *t)
{
	json__key(j, "timeline");
	json__begin_object(j);
	json__kv_fixed(j, "interval_s", t->interval_s, 3);
	json__kv_u64(j, "points_dropped", t->points_dropped);
	json__key(j, "http");
	json__begin_array(j);
	for (unsigned i = 0; i < t->nhttp; i++)
		w_series(j, &t->http[i], true);
	json__end_array(j);
	json__key(j, "db");
	json__begin_array(j);
	for (unsigned i = 0; i < t->ndb; i++)
		w_series(j, &t->db[i], false);
	json__end_array(j);
	json__end_object(j);
}

void run__write_command(struct json *j, const struct run *r, bool failed)
{
	json__key(j, "command");
	if (!r->has_command) {
		json__null(j);
		return;
	}
	json__begin_object(j);
	json__key(j, "argv");
	json__begin_array(j);
	for (unsigned i = 0; i < r->argc; i++)
		json__string(j, r->argv[i]);
	json__end_array(j);
	json__kv_i64(j, "exit_status", r->exit_status);
	if (failed)
		json__kv_bool(j, "failed", r->exit_status != 0);
	/* A report from before --command-exit was saved has neither; the verdicts say null. */
	if (r->has_exit_map || failed) {
		json__key(j, "exit_map");
		if (!r->has_exit_map) {
			json__null(j);
		} else {
			json__begin_array(j);
			for (unsigned i = 0; i < r->nexit_map; i++) {
				json__begin_object(j);
				json__kv_i64(j, "status", r->exit_map[i].status);
				json__kv_string(j, "as", r->exit_map[i].as);
				json__end_object(j);
			}
			json__end_array(j);
		}
		json__kv_string(j, "exit_mapped", r->exit_mapped);
	}
	json__end_object(j);
}

int run__write(FILE *f, const struct run *r)
{
	struct hist *scratch = malloc(sizeof(*scratch));
	struct json *j = scratch ? json__new(f, true) : NULL;
	int err;

	if (!j) {
		free(scratch);
		return -ENOMEM;
	}
	json__begin_object(j);
	json__kv_string(j, "schema", RUNFILE_SCHEMA);
	json__key(j, "tool");
	json__begin_object(j);
	json__kv_string(j, "name", "sloprobe");
	json__kv_string(j, "version", r->tool_version);
	json__end_object(j);
	json__key(j, "host");
	json__begin_object(j);
	json__kv_string(j, "hostname", r->hostname);
	json__kv_string(j, "kernel", r->kernel);
	if (r->kernel_lacks.n) {
		json__key(j, "kernel_lacks");
		json__begin_array(j);
		for (unsigned i = 0; i < r->kernel_lacks.n; i++)
			json__string(j, r->kernel_lacks.v[i]);
		json__end_array(j);
	}
	json__end_object(j);
	json__key(j, "window");
	json__begin_object(j);
	json__kv_string(j, "start", r->start);
	json__kv_string(j, "end", r->end);
	json__kv_fixed(j, "duration_s", r->duration_s, 3);
	json__end_object(j);
	run__write_command(j, r, false);
	if (r->has_filters) {
		json__key(j, "filters");
		json__begin_object(j);
		w_u64s(j, "pids", r->filter_pids, r->nfilter_pids);
		json__kv_string(j, "comm", r->filter_comm);
		json__kv_string(j, "cgroup", r->filter_cgroup);
		w_u64s(j, "ports", r->filter_ports, r->nfilter_ports);
		json__end_object(j);
	}
	if (r->definitions) {
		json__key(j, "definitions");
		w_jsonc(j, r->definitions);
	}
	json__key(j, "events");
	json__begin_object(j);
	json__kv_u64(j, "total", r->events_total);
	json__kv_u64(j, "dropped", r->events_dropped);
	w_counts(j, NULL, &r->events);
	json__end_object(j);
	w_counts(j, "connections", &r->connections);
	w_counts(j, "http_parser", &r->http_parser);
	if (r->has_bpf) {
		json__key(j, "bpf");
		json__begin_object(j);
		json__kv_bool(j, "stats_enabled", r->bpf_stats);
		if (r->has_bpf_run) {
			json__kv_u64(j, "run_time_ns", r->bpf_run_ns);
			json__kv_u64(j, "run_cnt", r->bpf_run_cnt);
		}
		if (r->has_bpf_db_run) {
			json__kv_u64(j, "db_probes_run_time_ns", r->bpf_db_run_ns);
			json__kv_u64(j, "db_probes_run_cnt", r->bpf_db_run_cnt);
		}
		if (r->has_bpf_ho_run) {
			json__kv_u64(j, "handoff_run_time_ns", r->bpf_ho_run_ns);
			json__kv_u64(j, "handoff_run_cnt", r->bpf_ho_run_cnt);
		}
		json__end_object(j);
	}
	if (r->nsources) {
		json__key(j, "merged_from");
		json__begin_array(j);
		for (unsigned i = 0; i < r->nsources; i++) {
			json__begin_object(j);
			json__kv_string(j, "file", r->sources[i].path);
			json__kv_string(j, "hostname", r->sources[i].hostname);
			json__kv_string(j, "start", r->sources[i].start);
			json__kv_fixed(j, "duration_s", r->sources[i].duration_s, 3);
			json__end_object(j);
		}
		json__end_array(j);
	}
	json__key(j, "http");
	json__begin_array(j);
	for (unsigned i = 0; i < r->neps; i++)
		w_endpoint(j, &r->eps[i], scratch);
	json__end_array(j);
	if (r->has_db)
		w_db(j, r, scratch);
	if (r->has_cache)
		w_cache(j, &r->cache, scratch);
	if (r->has_outbound)
		w_outbound(j, r, scratch);
	if (r->has_tcp)
		w_tcp(j, &r->tcp);
	if (r->has_slo)
		w_slo(j, r);
	if (r->has_slo_summary)
		w_slo_summary(j, r);
	if (r->has_timeline)
		w_timeline(j, &r->timeline);
	if (r->has_exemplars)
		w_exemplars(j, r);
	json__end_object(j);
	err = json__finish(j);
	json__free(j);
	free(scratch);
	return err;
}
