// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "run/histjson.h"
#include "record/report.h"
#include "run/runfile.h"

#define NS_PER_MS 1e6

void report__iso8601(const struct timespec *ts, char *out, size_t outsz)
{
	struct tm tm;
	char buf[24];

	gmtime_r(&ts->tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, outsz, "%.19s.%03dZ", buf, (int)(ts->tv_nsec / 1000000 % 1000));
}

uint64_t report__dropped(const struct report_meta *m)
{
	return m->kstats[SOCKIO_STAT_RB_DROPS] + m->kstats[SOCKIO_STAT_CONN_LOST] +
	       m->kstats[SOCKIO_STAT_INFLIGHT_FAIL] + m->tstats.bad_events +
	       m->tstats.endpoints_full + m->db_dropped + report__wire_lost(m) +
	       report__handoff_lost(m) +
	       (m->hstats ? m->hstats->pending_overflow + m->hstats->nomem : 0);
}

bool report__incomplete(const struct report_meta *m)
{
	return slo__data_incomplete(report__dropped(m), m->tstats.events, m->max_drop_pct);
}

uint64_t report__handoff_lost(const struct report_meta *m)
{
	return m->ho ? m->ho_kstats[HANDOFF_STAT_DROPPED] : 0;
}

uint64_t report__wire_lost(const struct report_meta *m)
{
	return m->tstats.pg.queue_overflow + m->tstats.pg.execs_overflow;
}

uint64_t report__unframed(const struct report_meta *m)
{
	const struct pgwire_stats *pg = &m->tstats.pg;

	return pg->malformed + pg->write_gaps + m->kstats[SOCKIO_STAT_IOV_CUT] +
	       (m->hstats ? m->hstats->garbage_in + m->hstats->garbage_out : 0);
}

static int cmp_status(const void *pa, const void *pb)
{
	const struct agg_status *a = pa, *b = pb;

	return (int)a->code - (int)b->code;
}

static void query_id(struct json *j, const char *k, uint64_t id)
{
	char hex[20];

	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)id);
	if (k)
		json__kv_string(j, k, hex);
	else
		json__string(j, hex);
}

static int cmp_top(const void *pa, const void *pb)
{
	const struct agg_db_fp *a = pa, *b = pb;

	if (a->ns != b->ns)
		return a->ns > b->ns ? -1 : 1;
	return a->query_id < b->query_id ? -1 : a->query_id > b->query_id;
}

/* Queries per request of an endpoint (src/dbtrack.h has the attribution rules). */
static void endpoint_db(struct json *j, const struct dbagg *db, const struct agg_endpoint *e)
{
	struct agg_db_fp top[AGG_DB_TOP];
	double n = e->db_reqs ? (double)e->db_reqs : 1;
	double mean_ms = e->lat.count ? hist__mean(&e->lat) / 1e6 : 0;

	json__key(j, "db");
	json__begin_object(j);
	json__kv_u64(j, "requests", e->db_reqs);
	json__kv_fixed(j, "queries_per_request", e->db_queries / n, 3);
	json__kv_fixed(j, "queries_per_request_max", e->db_max_queries, 3);
	json__kv_fixed(j, "db_time_ms_per_request", e->db_ns / 1e6 / n, 3);
	json__kv_fixed(j, "db_time_share", mean_ms > 0 ? e->db_ns / 1e6 / n / mean_ms : 0, 4);
	json__key(j, "attribution");
	json__begin_object(j);
	json__kv_u64(j, "exact", e->db_conf[0]);
	json__kv_u64(j, "thread", e->db_conf[1]);
	json__kv_u64(j, "shared", e->db_conf[2]);
	json__kv_u64(j, "handoff", e->db_conf[DBREQ_HANDOFF]);
	json__end_object(j);
	/* The fingerprints behind the endpoint's DB time, most time first. */
	memcpy(top, e->db_top, e->db_ntop * sizeof(top[0]));
	qsort(top, e->db_ntop, sizeof(top[0]), cmp_top);
	json__key(j, "top_queries");
	json__begin_array(j);
	for (unsigned i = 0; i < e->db_ntop; i++) {
		const struct dbagg_fp *f = dbagg__find(db, top[i].query_id);

		json__begin_object(j);
		query_id(j, "query_id", top[i].query_id);
		json__kv_string(j, "query", f ? f->text : NULL);
		json__kv_fixed(j, "per_request", top[i].n / n, 3);
		json__kv_fixed(j, "ms_per_request", top[i].ns / 1e6 / n, 3);
		json__end_object(j);
	}
	json__end_array(j);
	json__end_object(j);
}

static void db_fp(struct json *j, const struct dbagg *db, const struct dbagg_fp *f,
		  double duration_s)
{
	int mp = dbagg__main_path(f);
	const struct hist *h = f->lat[mp];
	uint64_t n = f->count[mp], total = h ? h->sum : 0;

	if (!h)
		return; /* its histogram could not be allocated */
	json__begin_object(j);
	json__kv_string(j, "system", "postgresql");
	query_id(j, "query_id", f->query_id);
	json__kv_string(j, "query", f->text);
	if (f->raw)
		json__kv_string(j, "raw_sample", f->raw);
	json__kv_bool(j, "truncated", f->truncated);
	json__kv_bool(j, "unknown_statement", f->unknown_stmt);
	json__kv_u64(j, "count", n);
	json__kv_fixed(j, "rate_per_s", duration_s > 0 ? n / duration_s : 0, 3);
	json__kv_u64(j, "errors", f->errors);
	json__key(j, "sqlstates");
	json__begin_object(j);
	for (int i = 0; i < DBAGG_SQLSTATES && f->states[i].code[0]; i++)
		json__kv_u64(j, f->states[i].code, f->states[i].count);
	json__end_object(j);
	json__kv_fixed(j, "total_ms", total / 1e6, 3);
	json__kv_fixed(j, "time_share", db->total_ns ? (double)total / db->total_ns : 0, 4);
	if (f->rows_known)
		json__kv_i64(j, "rows", f->rows);
	else
		json__kv_string(j, "rows", NULL);
	json__kv_u64(j, "slow", f->slow);
	json__kv_string(j, "client", f->client);
	json__kv_string(j, "server", f->server[0] ? f->server : NULL);
	json__kv_string(j, "main_path", dbagg__path_name(mp));
	histjson__latency(j, "latency_ms", h);
	if (f->first_byte && f->first_byte->count)
		histjson__latency(j, "first_byte_ms", f->first_byte);
	json__key(j, "paths");
	json__begin_array(j);
	for (int p = 0; p < DB_PATH_NR; p++) {
		if (!f->lat[p])
			continue;
		json__begin_object(j);
		json__kv_string(j, "path", dbagg__path_name(p));
		json__kv_u64(j, "count", f->count[p]);
		histjson__latency(j, "latency_ms", f->lat[p]);
		json__end_object(j);
	}
	json__end_array(j);
	histjson__histogram(j, "histogram", h);
	json__end_object(j);
}

static void points(struct json *j, const struct timeline *tl, bool http)
{
	json__key(j, "points");
	json__begin_array(j);
	for (unsigned i = 0; i < tl->n; i++) {
		const struct tl_point *p = &tl->p[i];

		json__begin_object(j);
		json__kv_fixed(j, "t", p->t_s, 3);
		json__kv_u64(j, "count", p->count);
		json__kv_fixed(j, "rate_per_s", p->interval_s > 0 ? p->count / p->interval_s : 0,
			       3);
		json__kv_fixed(j, "p50", p->p50_ns / NS_PER_MS, 3);
		json__kv_fixed(j, "p95", p->p95_ns / NS_PER_MS, 3);
		json__kv_fixed(j, "p99", p->p99_ns / NS_PER_MS, 3);
		json__kv_u64(j, "errors", p->errors);
		if (http) {
			json__kv_u64(j, "5xx", p->errors);
			json__kv_u64(j, "4xx", p->err4xx);
			if (p->wait_n)
				json__kv_fixed(j, "wait_p95", p->wait_p95_ns / NS_PER_MS, 3);
		}
		json__end_object(j);
	}
	json__end_array(j);
}

/* Per interval, per endpoint and fingerprint: what the live view showed. */
static void timeline_section(struct json *j, const struct agg *a, struct agg_endpoint **eps,
			     const struct report_meta *m)
{
	json__key(j, "timeline");
	json__begin_object(j);
	json__kv_fixed(j, "interval_s", m->interval_s, 3);
	json__kv_u64(j, "points_dropped",
		     a->tl_budget.dropped + (m->db ? m->db->tl_budget.dropped : 0));
	json__key(j, "http");
	json__begin_array(j);
	for (unsigned i = 0; i < a->neps; i++) {
		const struct agg_endpoint *e = eps[i];

		if (!e->count || !e->tl.n)
			continue;
		json__begin_object(j);
		json__kv_string(j, "service", a->services[e->service].name);
		json__kv_string(j, "method", e->method);
		json__kv_string(j, "route", e->route);
		points(j, &e->tl, true);
		json__end_object(j);
	}
	json__end_array(j);
	json__key(j, "db");
	json__begin_array(j);
	for (unsigned i = 0; m->db && i < m->db->nfps; i++) {
		const struct dbagg_fp *f = m->db->fps[i];

		if (!f->tl.n)
			continue;
		json__begin_object(j);
		json__kv_string(j, "query", f->text);
		points(j, &f->tl, false);
		json__end_object(j);
	}
	json__end_array(j);
	json__end_object(j);
}

static void slo_section(struct json *j, const struct slotrack *st, const struct report_meta *m)
{
	bool incomplete = report__incomplete(m);
	struct slotrack_tally t;

	json__key(j, "slo");
	json__begin_array(j);
	for (unsigned i = 0; i < st->nrows; i++) {
		const struct slotrack_row *r = &st->rows[i];
		const struct slo_objective *o = r->o;
		char buf[256];
		struct slo_result res;

		slotrack__eval(r, &res);
		json__begin_object(j);
		json__kv_string(j, "name", o->slo->name);
		slo__format_objective(o, buf, sizeof(buf));
		json__kv_string(j, "objective", buf);
		json__kv_string(j, "target", r->target);
		if (r->service[0])
			json__kv_string(j, "service", r->service);
		json__kv_bool(j, "matched", r->matched);
		json__kv_string(j, "source", o->slo->source == SLO_HTTP ? "http" : "db");
		json__kv_string(j, "per", o->slo->per == SLO_PER_ALL ? "all" : "endpoint");
		json__kv_string(j, "kind", slo__kind_name(o));
		if (o->kind != SLO_OBJ_ERRORS && o->kind != SLO_OBJ_COUNT)
			json__kv_fixed(j, "threshold_ms", o->threshold_ns / NS_PER_MS, 6);
		if (o->kind == SLO_OBJ_LATENCY) {
			if (o->percentile)
				json__kv_fixed(j, "percentile", o->ratio_ppb / 1e7, 7);
			json__kv_fixed(j, "target_ratio", o->ratio_ppb / 1e9, 9);
		} else if (o->kind == SLO_OBJ_ERRORS) {
			json__kv_string(j, "errors_are", o->errors_label);
			json__kv_fixed(j, "target_ratio", o->ratio_ppb / 1e9, 9);
		} else if (o->kind == SLO_OBJ_COUNT) {
			json__kv_u64(j, "min_count", o->count);
		}
		json__kv_bool(j, "strict", o->strict);
		json__kv_string(j, "unit", slo__unit_name(res.unit));
		json__kv_double(j, "observed", res.observed);
		json__kv_double(j, "target_value", res.target);
		json__kv_double(j, "margin", res.margin);
		json__kv_u64(j, "total", r->run.total);
		/* Good events as SLOs count them: judged and not bad, whatever the kind. */
		json__kv_u64(j, "good", res.judged - res.bad);
		json__kv_u64(j, "errors", r->run.errors);
		json__kv_u64(j, "protected", r->run.protected_);
		json__kv_u64(j, "judged", res.judged);
		json__kv_u64(j, "bad", res.bad);
		json__kv_double(j, "budget_consumed", res.budget_consumed);
		json__kv_string(j, "verdict", slo__verdict_key(res.verdict));
		json__key(j, "first_breach_s");
		if (r->first_breach_s < 0)
			json__null(j);
		else
			json__fixed(j, r->first_breach_s, 3);
		json__kv_u64(j, "breached_intervals", r->breached_intervals);
		json__kv_bool(j, "approximate", res.approximate);
		json__kv_bool(j, "incomplete_data", incomplete);
		json__kv_u64(j, "line", o->line);
		json__kv_u64(j, "column", o->column);
		json__end_object(j);
	}
	json__end_array(j);

	slotrack__tally(st, &t);
	json__key(j, "slo_summary");
	json__begin_object(j);
	json__kv_string(j, "file", st->set->file);
	json__kv_fixed(j, "warmup_s", st->set->warmup_ns / 1e9, 3);
	json__kv_u64(j, "objectives", st->nrows);
	json__kv_u64(j, "pass", t.pass);
	json__kv_u64(j, "breach", t.breach);
	json__kv_u64(j, "insufficient_data", t.insufficient);
	json__kv_u64(j, "rows_dropped", st->rows_dropped);
	json__kv_bool(j, "incomplete_data", incomplete);
	json__kv_fixed(j, "dropped_pct", slo__drop_pct(report__dropped(m), m->tstats.events), 4);
	json__kv_fixed(j, "max_drop_pct", m->max_drop_pct, 4);
	json__kv_string(j, "verdict",
			t.breach	 ? "breach"
			: t.insufficient ? "insufficient_data"
					 : "pass");
	json__end_object(j);
}

/* When a flag was first seen (slow queries: the worst execution), in both clocks. */
static void flag_time(struct json *j, const struct report_meta *m, uint64_t ts)
{
	uint64_t off = ts > m->start_ns ? ts - m->start_ns : 0;
	struct timespec at = m->start;
	char iso[40];

	at.tv_sec += off / 1000000000ull;
	at.tv_nsec += off % 1000000000ull;
	if (at.tv_nsec >= 1000000000L) {
		at.tv_sec++;
		at.tv_nsec -= 1000000000L;
	}
	report__iso8601(&at, iso, sizeof(iso));
	json__kv_fixed(j, "t_s", off / 1e9, 3);
	json__kv_string(j, "at", iso);
}

static void db_section(struct json *j, const struct report_meta *m)
{
	const struct dbagg *db = m->db;
	struct dbagg_fp **v = dbagg__sorted(db, DBAGG_BY_TOTAL);
	static const char *const orders[] = { "by_total_time", "by_p95", "by_count" };
	char paths[64];

	json__key(j, "db");
	json__begin_array(j);
	for (unsigned i = 0; v && i < db->nfps; i++)
		db_fp(j, db, v[i], m->duration_s);
	json__end_array(j);
	free(v);

	json__key(j, "db_hotspots");
	json__begin_object(j);
	for (int o = 0; o < 3; o++) {
		v = dbagg__sorted(db, o);
		json__key(j, orders[o]);
		json__begin_array(j);
		for (unsigned i = 0; v && i < db->nfps && i < 10; i++)
			query_id(j, NULL, v[i]->query_id);
		json__end_array(j);
		free(v);
	}
	json__end_object(j);

	json__key(j, "db_flags");
	json__begin_array(j);
	for (unsigned i = 0; i < db->nflags; i++) {
		const struct dbagg_flag *fl = &db->flags[i];
		const struct dbagg_fp *f = fl->query_id ? dbagg__find(db, fl->query_id) : NULL;

		json__begin_object(j);
		json__kv_string(j, "kind", dbagg__flag_name(fl->kind));
		if (fl->query_id)
			query_id(j, "query_id", fl->query_id);
		json__kv_string(j, "query", f ? f->text : NULL);
		json__kv_string(j, "endpoint", fl->endpoint[0] ? fl->endpoint : NULL);
		json__kv_string(j, "evidence", fl->evidence);
		json__kv_u64(j, "occurrences", fl->occurrences);
		flag_time(j, m, fl->ts);
		if (fl->kind == DBAGG_FLAG_N_PLUS_ONE && fl->endpoint[0]) {
			json__kv_string(j, "attribution",
					fl->shared < fl->occurrences ? "exact" : "shared");
			if (fl->shared >= fl->occurrences) {
				json__kv_fixed(j, "support", fl->support, 3);
				json__kv_string(j, "confidence", fl->weak ? "low" : "high");
			}
		}
		json__end_object(j);
	}
	json__end_array(j);

	json__key(j, "db_stats");
	json__begin_object(j);
	json__kv_string(j, "probes", dbagg__path_names(m->db_paths, paths, sizeof(paths)));
	for (int p = 0; p < DB_PATH_NR; p++) {
		char k[32];

		snprintf(k, sizeof(k), "executions_%s", dbagg__path_name(p));
		json__kv_u64(j, k, db->execs[p]);
	}
	json__kv_u64(j, "fingerprints", db->nfps);
	json__kv_u64(j, "fingerprints_dropped", db->fps_dropped);
	json__kv_u64(j, "flags_dropped", db->flags_dropped);
	json__kv_u64(j, "flags_overlap_removed", db->flags_overlap);
	json__kv_u64(j, "connections", m->tstats.pg_conns);
	json__kv_u64(j, "tls_connections", m->tstats.pg_tls);
	/* The wire parser: framing lost and found again, and every query it could not keep. */
	json__kv_u64(j, "wire_malformed", m->tstats.pg.malformed);
	json__kv_u64(j, "wire_lost_sync", m->tstats.pg.lost_sync);
	json__kv_u64(j, "wire_resync", m->tstats.pg.resync);
	json__kv_u64(j, "wire_write_gaps", m->tstats.pg.write_gaps);
	json__kv_u64(j, "wire_queue_overflow", m->tstats.pg.queue_overflow);
	json__kv_u64(j, "wire_execs_overflow", m->tstats.pg.execs_overflow);
	json__kv_u64(j, "wire_names_evicted", m->tstats.pg.names_evicted);
	if (m->dbt) {
		json__kv_u64(j, "attributed_exact", m->dbt->attributed[0]);
		json__kv_u64(j, "attributed_thread", m->dbt->attributed[1]);
		json__kv_u64(j, "attributed_shared", m->dbt->attributed[2]);
		json__kv_u64(j, "attributed_handoff", m->dbt->attributed[DBREQ_HANDOFF]);
		json__kv_u64(j, "bound_clipped", m->dbt->bound_clipped);
		json__kv_u64(j, "handoff_undecided", m->dbt->handoff_undecided);
		json__kv_u64(j, "n_plus_one_runs_cut", m->dbt->runs_cut);
		json__kv_u64(j, "redundant_checks_cut", m->dbt->raw_cut);
		json__kv_u64(j, "shared_among_max", m->dbt->cover_cut);
		json__kv_u64(j, "handoff_parked_full", m->dbt->handoff_parked_full);
		json__kv_u64(j, "outside_requests", m->dbt->outside);
		json__kv_u64(j, "requests_closed_early", m->dbt->closed_early);
	}
	if (m->ho) {
		/* Worker runs of thread pools and how each was matched (src/handoff.h). */
		json__kv_u64(j, "handoff_wakes", m->ho->wakes);
		json__kv_u64(j, "handoff_new_threads", m->ho->news);
		json__kv_u64(j, "handoff_hand_backs", m->ho->backs);
		json__kv_u64(j, "handoff_wakes_ignored", m->ho->wakes_ignored);
		json__kv_u64(j, "handoff_hand_backs_ignored", m->ho->backs_ignored);
		json__kv_u64(j, "handoff_runs", m->ho->runs);
		json__kv_u64(j, "handoff_runs_silent", m->ho->silent);
		json__kv_u64(j, "handoff_runs_forced", m->ho->forced);
		json__kv_u64(j, "handoff_runs_fifo", m->ho->fifo);
		json__kv_u64(j, "handoff_runs_unmatched", m->ho->unknown);
		json__kv_u64(j, "handoff_dropped", report__handoff_lost(m));
		/* Tables full: no event lost, the attribution of some queries falls back to shared.
		 */
		json__kv_u64(j, "handoff_tables_full",
			     m->ho->reqs_full + m->ho->runs_full + m->ho->procs_full +
				     m->ho->acts_full);
		if (m->bpf_stats) {
			json__kv_u64(j, "handoff_bpf_run_ns", m->ho_run_ns);
			json__kv_u64(j, "handoff_bpf_run_cnt", m->ho_run_cnt);
		}
	}
	if (m->db_paths & (1u << DB_PATH_LIBPQ)) {
		const struct pgclient_stats *c = &m->pgc;

		json__key(j, "libpq");
		json__begin_object(j);
		json__kv_u64(j, "files_probed", c->files);
		json__kv_u64(j, "files_failed", c->files_failed);
		json__kv_u64(j, "files_without_result_layout", c->files_no_layout);
		json__kv_u64(j, "queries", c->queries);
		json__kv_u64(j, "prepares", c->prepares);
		json__kv_u64(j, "unknown_statements", c->unknown_stmt);
		json__kv_u64(j, "ringbuf_full", c->bpf[PGCLIENT_STAT_RB_DROPS]);
		json__kv_u64(j, "async_not_followed", c->bpf[PGCLIENT_STAT_PENDING_LOST]);
		json__kv_u64(j, "state_full", c->bpf[PGCLIENT_STAT_NO_STATE]);
		json__kv_u64(j, "statements_table_full", c->stmts_full);
		json__kv_u64(j, "read_faults", c->bpf[PGCLIENT_STAT_READ_FAULT]);
		json__kv_u64(j, "discarded", c->bpf[PGCLIENT_STAT_DISCARDED]);
		json__kv_u64(j, "bad_events", c->bad_events);
		json__end_object(j);
	}
	if (m->db_paths & (1u << DB_PATH_USDT)) {
		const struct pgserver_stats *s = &m->pgs;

		json__key(j, "usdt");
		json__begin_object(j);
		json__kv_u64(j, "binaries_probed", s->files);
		json__kv_u64(j, "binaries_failed", s->files_failed);
		json__kv_u64(j, "queries", s->queries);
		json__kv_u64(j, "ringbuf_full", s->bpf[PGSERVER_STAT_RB_DROPS]);
		json__kv_u64(j, "state_full", s->bpf[PGSERVER_STAT_NO_STATE]);
		json__kv_u64(j, "read_faults", s->bpf[PGSERVER_STAT_READ_FAULT]);
		json__kv_u64(j, "unfinished", s->bpf[PGSERVER_STAT_UNFINISHED]);
		json__kv_u64(j, "bad_events", s->bad_events);
		json__end_object(j);
	}
	json__end_object(j);
}

static void endpoint(struct json *j, const struct agg *a, const struct agg_endpoint *e,
		     double duration_s, const struct dbagg *db)
{
	const struct agg_service *s = &a->services[e->service];
	struct agg_status st[AGG_STATUS_SLOTS];
	unsigned nst = 0;
	char code[8];

	json__begin_object(j);
	json__kv_string(j, "service", s->name);
	json__key(j, "pids");
	json__begin_array(j);
	for (unsigned i = 0; i < s->npids; i++)
		json__u64(j, s->pids[i]);
	json__end_array(j);
	json__kv_string(j, "comm", s->comm);
	if (s->container[0]) {
		json__kv_string(j, "container", s->container);
		json__kv_string(j, "runtime", s->runtime);
	} else {
		json__key(j, "container");
		json__null(j);
	}
	json__kv_string(j, "cgroup", s->cgroup);
	json__kv_u64(j, "port", s->port);
	json__kv_string(j, "method", e->method);
	json__kv_string(j, "route", e->route);
	json__kv_u64(j, "count", e->count);
	json__kv_fixed(j, "rate_per_s", duration_s > 0 ? e->count / duration_s : 0, 3);

	for (unsigned i = 0; i < AGG_STATUS_SLOTS && e->status[i].code; i++)
		st[nst++] = e->status[i];
	qsort(st, nst, sizeof(st[0]), cmp_status);
	json__key(j, "status");
	json__begin_object(j);
	for (unsigned i = 0; i < nst; i++) {
		snprintf(code, sizeof(code), "%u", st[i].code);
		json__kv_u64(j, code, st[i].count);
	}
	if (e->status_other)
		json__kv_u64(j, "other", e->status_other);
	json__end_object(j);

	json__key(j, "errors");
	json__begin_object(j);
	json__kv_u64(j, "4xx", e->err4xx);
	json__kv_u64(j, "5xx", e->err5xx);
	json__kv_fixed(j, "5xx_ratio", e->count ? (double)e->err5xx / e->count : 0, 6);
	json__end_object(j);

	json__kv_u64(j, "aborted", e->aborted);
	json__kv_u64(j, "unfinished", e->unfinished);
	json__kv_u64(j, "incomplete", e->incomplete);
	json__kv_u64(j, "end_inferred", e->len_unknown);
	json__kv_u64(j, "pipelined", e->pipelined);
	json__kv_u64(j, "target_truncated", e->target_cut);
	histjson__latency(j, "latency_ms", &e->lat);
	histjson__latency(j, "ttfb_ms", &e->ttfb);
	/* The two parts of latency: the server's own time, and the wait before its first read. */
	histjson__latency(j, "server_ms", &e->server);
	if (e->wait.count)
		histjson__latency(j, "wait_ms", &e->wait);
	histjson__histogram(j, "histogram", &e->lat);
	if (db)
		endpoint_db(j, db, e);
	json__end_object(j);
}

int report__write(FILE *f, const struct agg *a, const struct report_meta *m)
{
	struct json *j = json__new(f, true);
	struct agg_endpoint **eps;
	char start[40], end[40];
	int err;

	if (!j)
		return -ENOMEM;
	eps = agg__sorted(a);
	if (!eps) {
		json__free(j);
		return -ENOMEM;
	}
	report__iso8601(&m->start, start, sizeof(start));
	report__iso8601(&m->end, end, sizeof(end));

	json__begin_object(j);
	json__kv_string(j, "schema", RUNFILE_SCHEMA); /* what the analyzer reads */

	json__key(j, "tool");
	json__begin_object(j);
	json__kv_string(j, "name", "sloprobe");
	json__kv_string(j, "version", SLOPROBE_VERSION);
	json__end_object(j);

	json__key(j, "host");
	json__begin_object(j);
	json__kv_string(j, "hostname", m->hostname);
	json__kv_string(j, "kernel", m->kernel);
	json__end_object(j);

	json__key(j, "window");
	json__begin_object(j);
	json__kv_string(j, "start", start);
	json__kv_string(j, "end", end);
	json__kv_fixed(j, "duration_s", m->duration_s, 3);
	json__end_object(j);

	json__key(j, "command");
	if (m->command) {
		json__begin_object(j);
		json__key(j, "argv");
		json__begin_array(j);
		for (const char *const *p = m->command; *p; p++)
			json__string(j, *p);
		json__end_array(j);
		json__kv_i64(j, "exit_status", m->command_status);
		json__end_object(j);
	} else {
		json__null(j);
	}

	json__key(j, "filters");
	json__begin_object(j);
	json__key(j, "pids");
	json__begin_array(j);
	for (int i = 0; i < m->npids; i++)
		json__u64(j, m->pids[i]);
	json__end_array(j);
	json__kv_string(j, "comm", m->comm);
	json__kv_string(j, "cgroup", m->cgroup);
	json__key(j, "ports");
	json__begin_array(j);
	for (int i = 0; i < m->nports; i++)
		json__u64(j, m->ports[i]);
	json__end_array(j);
	json__end_object(j);

	json__key(j, "definitions");
	json__begin_object(j);
	json__kv_string(
		j, "latency",
		m->from_read ? "first request byte read -> last response byte written (end of the "
			       "response's framing; else the last write before the next request, "
			       "close or quiet_ms of silence)"
			     : "first request byte arrived at the server's socket (else, for "
			       "connections older than the trace, read) -> last response byte "
			       "written (end of the response's framing; else the last write "
			       "before the next request, close or quiet_ms of silence)");
	json__kv_string(j, "latency_from", m->from_read ? "read" : "arrival");
	json__kv_string(j, "ttfb", "start of latency -> first response write");
	json__kv_string(j, "server", "first request byte read -> last response byte written");
	json__kv_string(j, "wait",
			"first request byte arrived -> read by the server (receive and accept "
			"queues); requests whose arrival was seen");
	json__kv_fixed(j, "quiet_ms", m->quiet_ms, 3);
	json__kv_string(j, "percentiles", "nearest rank over the histogram, error <= 0.79 %");
	json__end_object(j);

	json__key(j, "events");
	json__begin_object(j);
	json__kv_u64(j, "total", m->tstats.events);
	json__kv_u64(j, "dropped", report__dropped(m));
	json__kv_u64(j, "ringbuf_full", m->kstats[SOCKIO_STAT_RB_DROPS]);
	json__kv_u64(j, "conn_state_lost", m->kstats[SOCKIO_STAT_CONN_LOST]);
	json__kv_u64(j, "thread_state_lost", m->kstats[SOCKIO_STAT_INFLIGHT_FAIL]);
	json__kv_u64(j, "user_read_faults", m->kstats[SOCKIO_STAT_READ_FAULT]);
	json__kv_u64(j, "iovecs_not_walked", m->kstats[SOCKIO_STAT_IOV_CUT]);
	json__kv_u64(j, "malformed", m->tstats.bad_events);
	json__kv_u64(j, "endpoint_table_full", m->tstats.endpoints_full);
	json__kv_u64(j, "pipeline_overflow", m->hstats ? m->hstats->pending_overflow : 0);
	json__kv_u64(j, "out_of_memory", m->hstats ? m->hstats->nomem : 0);
	json__kv_u64(j, "db_queries_lost", m->db_dropped);
	json__kv_u64(j, "wire_queries_lost", report__wire_lost(m));
	json__kv_u64(j, "handoff_events_lost", report__handoff_lost(m));
	json__end_object(j);

	json__key(j, "connections");
	json__begin_object(j);
	json__kv_u64(j, "tracked", m->kstats[SOCKIO_STAT_TRACKED]);
	json__kv_u64(j, "opened", m->tstats.opens);
	json__kv_u64(j, "closed", m->tstats.closes);
	json__kv_u64(j, "peak", m->tstats.conns_peak);
	json__kv_u64(j, "evicted", m->tstats.conns_evicted);
	json__kv_u64(j, "open_event_lost", m->tstats.orphan_data);
	json__kv_u64(j, "tls", m->tstats.tls);
	json__kv_u64(j, "http2", m->tstats.http2);
	json__kv_u64(j, "other_protocol", m->tstats.non_http);
	json__end_object(j);

	json__key(j, "http_parser");
	json__begin_object(j);
	if (m->hstats) {
		json__kv_u64(j, "requests", m->hstats->requests);
		json__kv_u64(j, "responses", m->hstats->responses);
		json__kv_u64(j, "unparsed_requests", m->hstats->garbage_in);
		json__kv_u64(j, "unparsed_responses", m->hstats->garbage_out);
		json__kv_u64(j, "responses_without_request", m->tstats.no_request);
		json__kv_u64(j, "head_too_long", m->hstats->hdr_overflow);
	}
	json__kv_u64(j, "unfinished_at_end", m->tstats.unfinished);
	json__kv_u64(j, "bad_targets", m->tstats.bad_target);
	json__kv_u64(j, "route_positions_collapsed", m->tstats.routes_collapsed);
	json__end_object(j);

	json__key(j, "bpf");
	json__begin_object(j);
	json__kv_bool(j, "stats_enabled", m->bpf_stats);
	if (m->bpf_stats) {
		json__kv_u64(j, "run_time_ns", m->bpf_run_ns);
		json__kv_u64(j, "run_cnt", m->bpf_run_cnt);
		json__kv_u64(j, "db_probes_run_time_ns", m->db_run_ns);
		json__kv_u64(j, "db_probes_run_cnt", m->db_run_cnt);
	}
	json__end_object(j);

	json__key(j, "http");
	json__begin_array(j);
	for (unsigned i = 0; i < a->neps; i++)
		if (eps[i]->count || eps[i]->aborted || eps[i]->unfinished)
			endpoint(j, a, eps[i], m->duration_s, m->db);
	json__end_array(j);
	if (m->db)
		db_section(j, m);
	if (m->slo)
		slo_section(j, m->slo, m);
	timeline_section(j, a, eps, m);

	json__end_object(j);
	err = json__finish(j);
	json__free(j);
	free(eps);
	return err;
}
