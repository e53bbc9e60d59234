// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <sys/socket.h>
#include <json-c/json.h>

#include "record/report.h"
#include "record/tcpsat.h"
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
	       m->kstats[SOCKIO_STAT_TAIL_FAILED] +
	       m->kstats[SOCKIO_STAT_INFLIGHT_FAIL] + m->kstats[SOCKIO_STAT_TLS_UNBOUND] +
	       m->tstats.bad_events + m->sstats.endpoints_full + m->db_dropped +
	       report__wire_lost(m) + m->tstats.redis.unmatched + report__handoff_lost(m) +
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
	       m->tstats.redis.malformed + m->tstats.redis.lost_sync +
	       (m->hstats ? m->hstats->garbage_in + m->hstats->garbage_out : 0);
}

static int cmp_status(const void *pa, const void *pb)
{
	const struct agg_status *a = pa, *b = pb;

	return (int)a->code - (int)b->code;
}

static int cmp_top(const void *pa, const void *pb)
{
	const struct agg_db_fp *a = pa, *b = pb;

	if (a->ns != b->ns)
		return a->ns > b->ns ? -1 : 1;
	return a->query_id < b->query_id ? -1 : a->query_id > b->query_id;
}

/*
 * The snapshot: the recording's tables copied into the report model (struct run), which the
 * one writer of the schema (run__write) serialises for record, merge and the analyzer alike.
 * Every string and array lives in the run's arena; a NULL from any allocation is -ENOMEM.
 */
struct snap {
	struct run *r;
	const struct report_meta *m;
	bool nomem;   /* an allocation failed, or an object got more counters than room */
	unsigned cap; /* room of the counters being filled (counts_init) */
};

static void *alloc(struct snap *s, size_t n, size_t size)
{
	void *p = run__alloc(s->r, (n + 1) * size);

	s->nomem |= !p;
	return p;
}

static const char *str(struct snap *s, const char *v)
{
	const char *p = run__strdup(s->r, v);

	s->nomem |= v && !p;
	return p;
}

static const char *hex_id(struct snap *s, uint64_t id)
{
	char hex[20];

	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)id);
	return str(s, hex);
}

static struct hist_sparse *sparse(struct snap *s, const struct hist *h)
{
	struct hist_sparse *p = run__hist(s->r, h);

	s->nomem |= !p;
	return p;
}

/* Room for cap counters of an open-ended object, filled one at a time by count(). */
static void counts_init(struct snap *s, struct run_counts *c, unsigned cap)
{
	c->v = alloc(s, cap, sizeof(*c->v));
	c->n = 0;
	s->cap = cap;
}

/* A counter of the object counts_init opened, in the order of the calls (keys live as long as
 * the run). */
static void count(struct snap *s, struct run_counts *c, const char *key, uint64_t n)
{
	if (!c->v || c->n >= s->cap) {
		s->nomem = true;
		return;
	}
	c->v[c->n].key = key;
	c->v[c->n++].n = n;
}

/* Queries per request of an endpoint (src/dbtrack.h has the attribution rules). */
static void endpoint_db(struct snap *s, struct run_endpoint *re, const struct agg_endpoint *e)
{
	const struct dbagg *db = s->m->db;
	struct run_ep_db *d = &re->db;
	struct agg_db_fp top[AGG_DB_TOP];
	double n = e->db_reqs ? (double)e->db_reqs : 1;
	double mean_ms = e->lat.count ? hist__mean(&e->lat) / 1e6 : 0;

	re->has_db = true;
	d->requests = e->db_reqs;
	d->queries_per_request = e->db_queries / n;
	d->queries_per_request_max = e->db_max_queries;
	d->db_time_ms_per_request = e->db_ns / 1e6 / n;
	d->db_time_share = mean_ms > 0 ? e->db_ns / 1e6 / n / mean_ms : 0;
	d->attr_exact = e->db_conf[0];
	d->attr_thread = e->db_conf[1];
	d->attr_shared = e->db_conf[2];
	d->attr_handoff = e->db_conf[DBREQ_HANDOFF];
	/* The fingerprints behind the endpoint's DB time, most time first. */
	memcpy(top, e->db_top, e->db_ntop * sizeof(top[0]));
	qsort(top, e->db_ntop, sizeof(top[0]), cmp_top);
	d->top = alloc(s, e->db_ntop, sizeof(*d->top));
	if (!d->top)
		return;
	for (unsigned i = 0; i < e->db_ntop; i++) {
		const struct dbagg_fp *f = dbagg__find(db, top[i].query_id);
		struct run_top_query *t = &d->top[d->ntop++];

		t->query_id = hex_id(s, top[i].query_id);
		t->query = f ? str(s, f->text) : NULL;
		t->per_request = top[i].n / n;
		t->ms_per_request = top[i].ns / 1e6 / n;
	}
}

/* Calls to the cache or to other HTTP services per request (attributed like queries). */
static void endpoint_dep(struct run_endpoint *re, const struct agg_endpoint *e,
			 enum agg_dep_kind kind, enum run_dep rk)
{
	const struct agg_dep *d = &e->dep[kind];
	struct run_ep_dep *x = &re->dep[rk];
	double keys = d->hits + d->misses;

	if (!d->reqs)
		return;
	re->has_dep[rk] = true;
	x->requests = d->reqs;
	x->with = d->with;
	x->calls_per_request = d->calls / d->reqs;
	x->max_calls = d->max_calls;
	x->ms_per_request = d->ns / 1e6 / d->reqs;
	x->errors = d->errors;
	x->hits = d->hits;
	x->misses = d->misses;
	x->hit_ratio = keys > 0 ? d->hits / keys : NAN;
	x->repeat = d->repeat;
}

static void endpoint(struct snap *s, const struct agg *a, const struct agg_endpoint *e,
		     struct run_endpoint *re)
{
	const struct agg_service *sv = &a->services[e->service];
	struct agg_status st[AGG_STATUS_SLOTS];
	double duration_s = s->m->duration_s;
	unsigned nst = 0;

	re->service = str(s, sv->name);
	re->pids = alloc(s, sv->npids, sizeof(*re->pids));
	for (unsigned i = 0; re->pids && i < sv->npids; i++)
		re->pids[re->npids++] = sv->pids[i];
	re->comm = str(s, sv->comm);
	if (sv->container[0]) {
		re->container = str(s, sv->ctr_name[0] ? sv->ctr_name : sv->container);
		re->container_id = str(s, sv->container);
		re->runtime = str(s, sv->runtime);
		if (sv->image[0])
			re->image = str(s, sv->image);
		if (sv->compose_project[0])
			re->compose_project = str(s, sv->compose_project);
		if (sv->compose_service[0])
			re->compose_service = str(s, sv->compose_service);
	}
	re->cgroup = str(s, sv->cgroup);
	re->port = sv->port;
	re->tls = sv->tls;
	re->method = str(s, e->method);
	re->route = str(s, e->route);
	re->count = e->count;
	re->rate_per_s = duration_s > 0 ? e->count / duration_s : 0;

	for (unsigned i = 0; i < AGG_STATUS_SLOTS && e->status[i].code; i++)
		st[nst++] = e->status[i];
	qsort(st, nst, sizeof(st[0]), cmp_status);
	counts_init(s, &re->status, nst + 1); /* and "other" */
	for (unsigned i = 0; i < nst; i++) {
		char code[8];

		snprintf(code, sizeof(code), "%u", st[i].code);
		count(s, &re->status, str(s, code), st[i].count);
	}
	if (e->status_other)
		count(s, &re->status, "other", e->status_other);
	re->err4xx = e->err4xx;
	re->err5xx = e->err5xx;

	counts_init(s, &re->extra, 6);
	count(s, &re->extra, "aborted", e->aborted);
	count(s, &re->extra, "unfinished", e->unfinished);
	count(s, &re->extra, "incomplete", e->incomplete);
	count(s, &re->extra, "end_inferred", e->len_unknown);
	count(s, &re->extra, "pipelined", e->pipelined);
	count(s, &re->extra, "target_truncated", e->target_cut);
	/* The two parts of latency: the server's own time, and the wait before its first read. */
	re->has_ttfb = re->has_server = true;
	run__latency_dense(&e->ttfb, &re->ttfb);
	run__latency_dense(&e->server, &re->server);
	re->has_wait = e->wait.count;
	if (re->has_wait)
		run__latency_dense(&e->wait, &re->wait);
	re->hist = sparse(s, &e->lat);
	if (s->m->db)
		endpoint_db(s, re, e);
	endpoint_dep(re, e, AGG_DEP_CACHE, RUN_DEP_CACHE);
	endpoint_dep(re, e, AGG_DEP_HTTP, RUN_DEP_OUTBOUND);
}

static void db_query(struct snap *s, const struct dbagg_fp *f, struct run_dbq *q)
{
	const struct dbagg *db = s->m->db;
	int mp = dbagg__main_path(f);
	const struct hist *h = f->lat[mp];
	uint64_t n = f->count[mp];

	q->system = "postgresql";
	q->query_id = hex_id(s, f->query_id);
	q->query = str(s, f->text);
	q->raw_sample = f->raw ? str(s, f->raw) : NULL;
	q->truncated = f->truncated;
	q->unknown_statement = f->unknown_stmt;
	q->count = n;
	q->rate_per_s = s->m->duration_s > 0 ? n / s->m->duration_s : 0;
	q->errors = f->errors;
	counts_init(s, &q->sqlstates, DBAGG_SQLSTATES);
	for (int i = 0; i < DBAGG_SQLSTATES && f->states[i].code[0]; i++)
		count(s, &q->sqlstates, str(s, f->states[i].code), f->states[i].count);
	q->time_share = db->total_ns ? (double)h->sum / db->total_ns : 0;
	q->has_rows = f->rows_known;
	q->rows = f->rows;
	q->slow = f->slow;
	q->client = str(s, f->client);
	q->server = f->server[0] ? str(s, f->server) : NULL;
	q->main_path = dbagg__path_name(mp);
	q->has_first_byte = f->first_byte && f->first_byte->count;
	if (q->has_first_byte)
		run__latency_dense(f->first_byte, &q->first_byte);
	q->paths = alloc(s, DB_PATH_NR, sizeof(*q->paths));
	for (int p = 0; q->paths && p < DB_PATH_NR; p++) {
		struct run_db_path *dp;

		if (!f->lat[p])
			continue;
		dp = &q->paths[q->npaths++];
		dp->path = dbagg__path_name(p);
		dp->count = f->count[p];
		run__latency_dense(f->lat[p], &dp->lat);
	}
	q->hist = sparse(s, h);
}

static void hotspots(struct snap *s, int order, struct run_ids *ids)
{
	const struct dbagg *db = s->m->db;
	struct dbagg_fp **v = dbagg__sorted(db, order);

	ids->v = alloc(s, 10, sizeof(*ids->v));
	for (unsigned i = 0; v && ids->v && i < db->nfps && i < 10; i++)
		ids->v[ids->n++] = hex_id(s, v[i]->query_id);
	s->nomem |= !v && db->nfps;
	free(v);
}

/* When a flag was first seen (slow queries: the worst execution), in both clocks. */
static void flag_time(struct snap *s, struct run_flag *rf, uint64_t ts)
{
	const struct report_meta *m = s->m;
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
	rf->t_s = off / 1e9;
	rf->at = str(s, iso);
}

static void db_stats(struct snap *s, struct run_counts *c)
{
	const struct report_meta *m = s->m;
	const struct dbagg *db = m->db;
	static const char *const executions[DB_PATH_NR] = {
		[DB_PATH_WIRE] = "executions_wire",
		[DB_PATH_LIBPQ] = "executions_libpq",
		[DB_PATH_USDT] = "executions_usdt",
	};

	counts_init(s, c, 64); /* 63 with every path and the hand-off counters */
	for (int p = 0; p < DB_PATH_NR; p++)
		count(s, c, executions[p], db->execs[p]);
	count(s, c, "fingerprints", db->nfps);
	count(s, c, "fingerprints_dropped", db->fps_dropped);
	count(s, c, "flags_dropped", db->flags_dropped);
	count(s, c, "flags_overlap_removed", db->flags_overlap);
	count(s, c, "connections", m->tstats.pg_conns);
	count(s, c, "tls_connections", m->tstats.pg_tls);
	/* The wire parser: framing lost and found again, and every query it could not keep. */
	count(s, c, "wire_malformed", m->tstats.pg.malformed);
	count(s, c, "wire_lost_sync", m->tstats.pg.lost_sync);
	count(s, c, "wire_resync", m->tstats.pg.resync);
	count(s, c, "wire_write_gaps", m->tstats.pg.write_gaps);
	count(s, c, "wire_queue_overflow", m->tstats.pg.queue_overflow);
	count(s, c, "wire_execs_overflow", m->tstats.pg.execs_overflow);
	count(s, c, "wire_names_evicted", m->tstats.pg.names_evicted);
	if (m->dbt) {
		count(s, c, "attributed_exact", m->dbt->attributed[0]);
		count(s, c, "attributed_thread", m->dbt->attributed[1]);
		count(s, c, "attributed_shared", m->dbt->attributed[2]);
		count(s, c, "attributed_handoff", m->dbt->attributed[DBREQ_HANDOFF]);
		count(s, c, "bound_clipped", m->dbt->bound_clipped);
		count(s, c, "handoff_undecided", m->dbt->handoff_undecided);
		count(s, c, "n_plus_one_runs_cut", m->dbt->runs_cut);
		count(s, c, "redundant_checks_cut", m->dbt->raw_cut);
		count(s, c, "shared_among_max", m->dbt->cover_cut);
		count(s, c, "handoff_parked_full", m->dbt->handoff_parked_full);
		count(s, c, "outside_requests", m->dbt->outside);
		count(s, c, "requests_closed_early", m->dbt->closed_early);
	}
	if (m->ho) {
		/* Worker runs of thread pools and how each was matched (src/record/handoff.h). */
		count(s, c, "handoff_wakes", m->ho->wakes);
		count(s, c, "handoff_new_threads", m->ho->news);
		count(s, c, "handoff_hand_backs", m->ho->backs);
		count(s, c, "handoff_wakes_ignored", m->ho->wakes_ignored);
		count(s, c, "handoff_hand_backs_ignored", m->ho->backs_ignored);
		count(s, c, "handoff_runs", m->ho->runs);
		count(s, c, "handoff_runs_silent", m->ho->silent);
		count(s, c, "handoff_runs_forced", m->ho->forced);
		count(s, c, "handoff_runs_fifo", m->ho->fifo);
		count(s, c, "handoff_runs_unmatched", m->ho->unknown);
		count(s, c, "handoff_dropped", report__handoff_lost(m));
		/* Tables full: no event lost, the attribution of some queries falls back to shared.
		 */
		count(s, c, "handoff_tables_full",
		      m->ho->reqs_full + m->ho->runs_full + m->ho->procs_full + m->ho->acts_full);
	}
	/* Groups: "libpq.queries" is written as "libpq": { "queries": ... }. */
	if (m->db_paths & (1u << DB_PATH_LIBPQ)) {
		const struct pgclient_stats *p = &m->pgc;

		count(s, c, "libpq.files_probed", p->files);
		count(s, c, "libpq.files_failed", p->files_failed);
		count(s, c, "libpq.files_without_result_layout", p->files_no_layout);
		count(s, c, "libpq.queries", p->queries);
		count(s, c, "libpq.prepares", p->prepares);
		count(s, c, "libpq.unknown_statements", p->unknown_stmt);
		count(s, c, "libpq.ringbuf_full", p->bpf[PGCLIENT_STAT_RB_DROPS]);
		count(s, c, "libpq.async_not_followed", p->bpf[PGCLIENT_STAT_PENDING_LOST]);
		count(s, c, "libpq.state_full", p->bpf[PGCLIENT_STAT_NO_STATE]);
		count(s, c, "libpq.statements_table_full", p->stmts_full);
		count(s, c, "libpq.read_faults", p->bpf[PGCLIENT_STAT_READ_FAULT]);
		count(s, c, "libpq.discarded", p->bpf[PGCLIENT_STAT_DISCARDED]);
		count(s, c, "libpq.bad_events", p->bad_events);
	}
	if (m->db_paths & (1u << DB_PATH_USDT)) {
		const struct pgserver_stats *p = &m->pgs;

		count(s, c, "usdt.binaries_probed", p->files);
		count(s, c, "usdt.binaries_failed", p->files_failed);
		count(s, c, "usdt.queries", p->queries);
		count(s, c, "usdt.ringbuf_full", p->bpf[PGSERVER_STAT_RB_DROPS]);
		count(s, c, "usdt.state_full", p->bpf[PGSERVER_STAT_NO_STATE]);
		count(s, c, "usdt.read_faults", p->bpf[PGSERVER_STAT_READ_FAULT]);
		count(s, c, "usdt.unfinished", p->bpf[PGSERVER_STAT_UNFINISHED]);
		count(s, c, "usdt.bad_events", p->bad_events);
	}
}

static void db_section(struct snap *s)
{
	const struct dbagg *db = s->m->db;
	struct run *r = s->r;
	struct dbagg_fp **v = dbagg__sorted(db, DBAGG_BY_TOTAL);
	char paths[64];

	r->has_db = true;
	s->nomem |= !v && db->nfps;
	r->dbqs = alloc(s, db->nfps, sizeof(*r->dbqs));
	for (unsigned i = 0; v && r->dbqs && i < db->nfps; i++)
		if (v[i]->lat[dbagg__main_path(v[i])]) /* else its histogram could not be made */
			db_query(s, v[i], &r->dbqs[r->ndbqs++]);
	free(v);

	hotspots(s, DBAGG_BY_TOTAL, &r->hot_total);
	hotspots(s, DBAGG_BY_P95, &r->hot_p95);
	hotspots(s, DBAGG_BY_COUNT, &r->hot_count);

	r->flags = alloc(s, db->nflags, sizeof(*r->flags));
	for (unsigned i = 0; r->flags && i < db->nflags; i++) {
		const struct dbagg_flag *fl = &db->flags[i];
		const struct dbagg_fp *f = fl->query_id ? dbagg__find(db, fl->query_id) : NULL;
		struct run_flag *rf = &r->flags[r->nflags++];

		rf->kind = dbagg__flag_name(fl->kind);
		rf->query_id = fl->query_id ? hex_id(s, fl->query_id) : NULL;
		rf->query = f ? str(s, f->text) : NULL;
		rf->endpoint = fl->endpoint[0] ? str(s, fl->endpoint) : NULL;
		rf->evidence = str(s, fl->evidence);
		rf->occurrences = fl->occurrences;
		flag_time(s, rf, fl->ts);
		rf->support = NAN;
		if (fl->kind == DBAGG_FLAG_N_PLUS_ONE && fl->endpoint[0]) {
			rf->attribution = fl->shared < fl->occurrences ? "exact" : "shared";
			if (fl->shared >= fl->occurrences) {
				rf->support = fl->support;
				rf->confidence = fl->weak ? "low" : "high";
			}
		}
	}

	r->has_db_stats = true;
	r->db_probes = str(s, dbagg__path_names(s->m->db_paths, paths, sizeof(paths)));
	db_stats(s, &r->db_stats);
}

static struct hist_sparse *sparse_or_null(struct snap *s, const struct hist *h)
{
	return h && h->count ? sparse(s, h) : NULL;
}

static void out_call(struct snap *s, const struct outagg_row *o, struct run_out_call *c)
{
	struct outagg_status st[OUTAGG_STATUS_SLOTS];
	unsigned nst = 0;

	c->caller = str(s, o->caller);
	c->peer = str(s, o->peer);
	c->host = str(s, o->host);
	c->method = str(s, o->method);
	c->route = str(s, o->route);
	c->local = o->local;
	c->tls = o->tls;
	c->count = o->count;
	c->answered = o->answered;
	for (unsigned i = 0; i < OUTAGG_STATUS_SLOTS && o->status[i].code; i++)
		st[nst++] = o->status[i];
	qsort(st, nst, sizeof(st[0]), cmp_status);
	counts_init(s, &c->status, nst + 1);
	for (unsigned i = 0; i < nst; i++) {
		char code[8];

		snprintf(code, sizeof(code), "%u", st[i].code);
		count(s, &c->status, str(s, code), st[i].count);
	}
	if (o->status_other)
		count(s, &c->status, "other", o->status_other);
	c->err4xx = o->err4xx;
	c->err5xx = o->err5xx;
	counts_init(s, &c->failures, HTTP_CALL_FAIL_NR - 1);
	for (int k = HTTP_CALL_OK + 1; k < HTTP_CALL_FAIL_NR; k++)
		count(s, &c->failures, http_call__fail_name(k), o->fail[k]);
	c->retries = o->retries;
	counts_init(s, &c->extra, 5);
	count(s, &c->extra, "unfinished", o->unfinished);
	count(s, &c->extra, "end_inferred", o->len_unknown);
	count(s, &c->extra, "incomplete", o->incomplete);
	count(s, &c->extra, "pipelined", o->pipelined);
	count(s, &c->extra, "target_truncated", o->target_cut);
	c->connects = o->connects;
	c->hist = sparse(s, &o->lat);
	c->connect = sparse_or_null(s, o->connect);
	c->failure = sparse_or_null(s, o->failure);
}

/*
 * How the calls of kind were attributed to the inbound requests they serve (as queries are:
 * docs/db.md): in an object of their own (c initialized here), or a group of another.
 */
static void dep_attribution(struct snap *s, struct run_counts *c, bool group, int kind)
{
	static const char *const key[2][5] = {
		{ "exact", "thread", "shared", "handoff", "outside" },
		{ "attributed.exact", "attributed.thread", "attributed.shared",
		  "attributed.handoff", "attributed.outside" },
	};
	static const int conf[4] = { DBREQ_EXACT, DBREQ_THREAD, DBREQ_SHARED, DBREQ_HANDOFF };
	const struct dbtrack_stats *d = s->m->deps;

	if (!group)
		counts_init(s, c, 5);
	if (!d)
		return;
	for (int i = 0; i < 4; i++)
		count(s, c, key[group][i], d->dep_attributed[kind][conf[i]]);
	count(s, c, key[group][4], d->dep_outside[kind]);
}

static void outbound_stats(struct snap *s, struct run_counts *c)
{
	const struct report_meta *m = s->m;
	const struct outagg *a = m->out;
	const struct httpclient_stats *h = &m->tstats.http_out;

	counts_init(s, c, 38);
	count(s, c, "calls", a->st.calls);
	count(s, c, "rows", a->nrows);
	count(s, c, "rows_dropped", a->st.rows_dropped);
	count(s, c, "retry_window_ms", a->o.retry_window_ns / 1000000);
	count(s, c, "retry_ambiguous", a->st.retry_ambiguous);
	count(s, c, "retry_wait_forced", a->st.wait_forced);
	count(s, c, "retry_history_evicted", a->st.history_evicted);
	count(s, c, "out_of_memory", a->st.nomem);
	count(s, c, "connections", m->tstats.client[TRACKER_HTTP].conns);
	count(s, c, "not_http", m->tstats.client[TRACKER_HTTP].not );
	/* Left to --outbound=all: a process serving nothing calling a port listening here. */
	count(s, c, "load_generator_connections",
	      m->tstats.client[TRACKER_HTTP].local + m->kstats[SOCKIO_STAT_LOAD_GENERATOR]);
	count(s, c, "connects", m->tstats.connects);
	count(s, c, "connect_failures", m->tstats.connect_failed);
	count(s, c, "resets", m->tstats.resets);
	count(s, c, "fins", m->tstats.fins);
	count(s, c, "events_without_connection", m->tstats.client_orphans);
	count(s, c, "connects_not_followed", m->kstats[SOCKIO_STAT_OUTBOUND_LOST]);
	count(s, c, "unfinished_at_end", h->unfinished);
	count(s, c, "bad_targets", m->sstats.out_bad_target);
	count(s, c, "route_positions_collapsed", m->sstats.out_routes_collapsed);
	/* The HTTP parser on the client side: groups are written as objects. */
	count(s, c, "parser.requests", h->parser.requests);
	count(s, c, "parser.responses", h->parser.responses);
	count(s, c, "parser.unparsed_requests", h->parser.garbage_in);
	count(s, c, "parser.unparsed_responses", h->parser.garbage_out);
	count(s, c, "parser.responses_without_request", h->no_request);
	count(s, c, "parser.head_too_long", h->parser.hdr_overflow);
	count(s, c, "parser.pipeline_overflow", h->parser.pending_overflow);
	count(s, c, "parser.out_of_memory", h->parser.nomem);
	dep_attribution(s, c, true, AGG_DEP_HTTP);
}

static void outbound_section(struct snap *s)
{
	const struct outagg *a = s->m->out;
	struct run *r = s->r;

	r->has_outbound = true;
	r->outs = alloc(s, a->nrows, sizeof(*r->outs));
	for (unsigned i = 0; r->outs && i < a->nrows; i++)
		out_call(s, a->rows[i], &r->outs[r->nouts++]);
	r->out_dests = alloc(s, a->ndests, sizeof(*r->out_dests));
	for (unsigned i = 0; r->out_dests && i < a->ndests; i++) {
		const struct outagg_dest *d = a->dests[i];
		struct run_out_dest *rd = &r->out_dests[r->nout_dests++];

		rd->caller = str(s, d->caller);
		rd->peer = str(s, d->peer);
		rd->host = str(s, d->host);
		rd->local = d->local;
		rd->attempts = d->attempts;
		rd->failed = d->failed;
		rd->retries = d->retries;
		rd->retry_success = d->retry_success;
		rd->retry_exhausted = d->retry_exhausted;
		rd->backoff = sparse_or_null(s, d->backoff);
	}
	r->has_outbound_stats = true;
	outbound_stats(s, &r->outbound_stats);
}

_Static_assert((int)RUN_TCP_KIND_NR == (int)SOCKIO_TCP_KIND_NR &&
		       (int)RUN_TCP_RST_RECV == (int)SOCKIO_TCP_RST_RECV,
	       "the report's TCP counts are the kernel's");

static bool port_asked(const struct report_meta *m, uint16_t port)
{
	for (int i = 0; i < m->nports; i++)
		if (m->ports[i] == port)
			return true;
	return false;
}

/* Listeners per port: those that dropped, and those -P asked for (their zero is an answer). */
static void tcp_listeners(struct snap *s, const struct tcpsat *t)
{
	struct run_tcp *rt = &s->r->tcp;

	rt->listeners = alloc(s, t->nls, sizeof(*rt->listeners));
	for (unsigned i = 0; rt->listeners && i < t->nls; i++) {
		const struct tcpsat_listener *x = &t->ls[i];
		struct run_tcp_listener *l = NULL;

		if (!x->drops && !port_asked(s->m, x->port))
			continue;
		for (unsigned k = 0; k < rt->nlisteners; k++)
			if (rt->listeners[k].port == x->port)
				l = &rt->listeners[k];
		if (!l) {
			l = &rt->listeners[rt->nlisteners++];
			l->port = x->port;
		}
		l->sockets++;
		l->drops += x->drops;
		l->accept_queue_max =
			x->queued_max > l->accept_queue_max ? x->queued_max : l->accept_queue_max;
		l->backlog += x->backlog;
	}
	for (unsigned k = 0; k < rt->nlisteners; k++) {
		struct run_tcp_listener *l = &rt->listeners[k];
		uint64_t dup = tcpsat__port_double(t, l->port);

		l->drops = l->drops > dup ? l->drops - dup : 0;
	}
}

static void tcp_section(struct snap *s)
{
	const struct tcpsat *t = s->m->tcp;
	struct run_tcp *rt = &s->r->tcp;
	char addr[INET6_ADDRSTRLEN];

	s->r->has_tcp = true;
	tcp_listeners(s, t);
	rt->peers = alloc(s, t->npeers, sizeof(*rt->peers));
	for (unsigned i = 0; rt->peers && i < t->npeers; i++) {
		const struct tcpsat_peer *p = &t->peers[i];
		struct run_tcp_peer *rp;
		uint64_t any = 0;

		for (int k = 0; k < SOCKIO_TCP_KIND_NR; k++)
			any |= p->n[k];
		if (!any)
			continue; /* only the listener's double counts: in its drops */
		rp = &rt->peers[rt->npeers++];
		rp->server = p->server;
		rp->port = p->port;
		if (!inet_ntop(p->family == AF_INET6 ? AF_INET6 : AF_INET, p->addr, addr,
			       sizeof(addr)))
			snprintf(addr, sizeof(addr), "?");
		rp->peer = str(s, addr);
		memcpy(rp->n, p->n, sizeof(rp->n)); /* the first RUN_TCP_KIND_NR */
	}
	rt->points = alloc(s, t->npoints, sizeof(*rt->points));
	for (unsigned i = 0; rt->points && i < t->npoints; i++) {
		rt->points[rt->npoints].t = t->points[i].t;
		rt->points[rt->npoints].drops = t->points[i].drops;
		memcpy(rt->points[rt->npoints++].n, t->points[i].n, sizeof(t->points[i].n));
	}
	rt->has_host = t->has_netstat;
	rt->host_overflows = t->ns_overflows[1] - t->ns_overflows[0];
	rt->host_drops = t->ns_drops[1] - t->ns_drops[0];
	rt->peers_lost = s->m->kstats[SOCKIO_STAT_TCP_FULL];
	rt->listeners_lost = t->listeners_lost;
	rt->reads_failed = t->read_failed + t->points_lost;
}

static void cache_row(struct snap *s, const struct cacheagg_row *c, struct run_cache_row *rc)
{
	const struct cacheagg *ca = s->m->cache;
	unsigned nk = 0;

	rc->id = hex_id(s, c->id);
	rc->client = str(s, c->client);
	rc->server = c->server[0] ? str(s, c->server) : NULL;
	rc->verb = str(s, c->verb);
	rc->pattern = str(s, c->pattern);
	rc->raw_key = c->raw_key ? str(s, c->raw_key) : NULL;
	rc->count = c->count;
	rc->rate_per_s = s->m->duration_s > 0 ? c->count / s->m->duration_s : 0;
	rc->errors = c->errors;
	counts_init(s, &rc->errs, CACHEAGG_ERRS + 1);
	for (int i = 0; i < CACHEAGG_ERRS && c->errs[i].word[0]; i++)
		count(s, &rc->errs, str(s, c->errs[i].word), c->errs[i].count);
	if (c->errs_other)
		count(s, &rc->errs, "other", c->errs_other);
	rc->aborted = c->aborted;
	rc->pipelined = c->pipelined;
	rc->in_tx = c->in_tx;
	rc->end_inferred = c->approx;
	rc->reads = c->reads;
	rc->hits = c->hits;
	rc->misses = c->misses;
	rc->writes = c->writes;
	rc->no_ttl = c->no_ttl;
	rc->whole_reads = c->scan_all;
	rc->whole_reads_big = c->scan_big;
	rc->max_elements = c->max_elements;
	rc->bytes_sent = c->req_bytes;
	rc->bytes_received = c->reply_bytes;
	rc->max_value = c->max_value;
	rc->large_values = c->large_values;
	/* The kinds of the flags about this row, once each, in the order of the flags. */
	rc->flags.v = alloc(s, ca->nflags, sizeof(*rc->flags.v));
	for (unsigned i = 0; rc->flags.v && i < ca->nflags; i++) {
		const char *kind = cacheagg__flag_name(ca->flags[i].kind);
		bool seen = false;

		if (ca->flags[i].row_id != c->id)
			continue;
		for (unsigned k = 0; k < nk && !seen; k++)
			seen = !strcmp(rc->flags.v[k], kind);
		if (!seen)
			rc->flags.v[nk++] = kind;
	}
	rc->flags.n = nk;
	rc->hist = sparse(s, &c->lat);
}

/* The cache table (Redis), its flags, its pools and its points, as cacheagg__finish left it. */
static void cache_section(struct snap *s)
{
	const struct cacheagg *c = s->m->cache;
	const struct respconn_stats *rs = &s->m->tstats.redis;
	struct run_cache *rc = &s->r->cache;

	s->r->has_cache = true;
	rc->system = "redis";
	rc->rows = alloc(s, c->nrows, sizeof(*rc->rows));
	for (unsigned i = 0; rc->rows && i < c->nrows; i++)
		cache_row(s, c->rows[i], &rc->rows[rc->nrows++]);
	rc->clients = alloc(s, c->nclients, sizeof(*rc->clients));
	for (unsigned i = 0; rc->clients && i < c->nclients; i++) {
		const struct cacheagg_client *cl = &c->clients[i];
		struct run_cache_client *x = &rc->clients[rc->nclients++];

		x->client = str(s, cl->client);
		x->server = cl->server[0] ? str(s, cl->server) : NULL;
		x->opened = cl->opened;
		x->closed = cl->closed;
		x->live = cl->live;
		x->peak = cl->peak;
		x->commands = cl->commands;
	}
	rc->flags = alloc(s, c->nflags, sizeof(*rc->flags));
	for (unsigned i = 0; rc->flags && i < c->nflags; i++) {
		const struct cacheagg_flag *f = &c->flags[i];
		const struct cacheagg_row *row = cacheagg__find(c, f->row_id);
		struct run_cache_flag *x = &rc->flags[rc->nflags++];

		x->kind = cacheagg__flag_name(f->kind);
		x->id = row ? hex_id(s, f->row_id) : NULL;
		x->verb = row ? str(s, row->verb) : NULL;
		x->pattern = row ? str(s, row->pattern) : NULL;
		x->endpoint = f->endpoint[0] ? str(s, f->endpoint) : NULL;
		x->evidence = str(s, f->evidence);
		x->occurrences = f->count;
	}
	rc->has_timeline = true;
	rc->interval_s = s->m->interval_s;
	rc->points_dropped = c->tl_budget.dropped;
	rc->points = alloc(s, c->npoints, sizeof(*rc->points));
	for (unsigned i = 0; rc->points && i < c->npoints; i++) {
		const struct cacheagg_point *p = &c->points[i];
		struct run_cache_point *x = &rc->points[rc->npoints++];

		x->t = p->t_s;
		x->count = p->count;
		x->rate_per_s = p->interval_s > 0 ? p->count / p->interval_s : 0;
		x->p50 = p->count ? p->p50_ns / NS_PER_MS : NAN;
		x->p95 = p->count ? p->p95_ns / NS_PER_MS : NAN;
		x->p99 = p->count ? p->p99_ns / NS_PER_MS : NAN;
		x->errors = p->errors;
		x->hits = p->hits;
		x->misses = p->misses;
	}
	/*
	 * What the tables could not keep: commands of rows beyond them, pairs, repeats, flags;
	 * and what the engine could not match (src/record/respconn.h).
	 */
	dep_attribution(s, &rc->attribution, false, AGG_DEP_CACHE);
	counts_init(s, &rc->drops, 11);
	count(s, &rc->drops, "commands", c->rows_dropped);
	count(s, &rc->drops, "clients", c->clients_dropped);
	count(s, &rc->drops, "repeats", c->repeats_dropped);
	count(s, &rc->drops, "flags", c->flags_dropped);
	count(s, &rc->drops, "unmatched", rs->unmatched);
	count(s, &rc->drops, "lost_sync", rs->lost_sync);
	count(s, &rc->drops, "malformed", rs->malformed);
	count(s, &rc->drops, "end_inferred", rs->approx);
	count(s, &rc->drops, "orphan_replies", rs->orphan_replies);
	count(s, &rc->drops, "aborted", rs->aborted);
	count(s, &rc->drops, "pubsub_connections", rs->pubsub);
}

static void slo_section(struct snap *s, const struct slotrack *st)
{
	const struct report_meta *m = s->m;
	struct run_slo_summary *sum = &s->r->slo_summary;
	bool incomplete = report__incomplete(m);
	struct slotrack_tally t;
	struct run *r = s->r;

	r->has_slo = true;
	r->slo = alloc(s, st->nrows, sizeof(*r->slo));
	for (unsigned i = 0; r->slo && i < st->nrows; i++) {
		const struct slotrack_row *row = &st->rows[i];
		const struct slo_objective *o = row->o;
		struct run_slo *rs = &r->slo[r->nslo++];
		struct slo_result res;
		char buf[256];

		slotrack__eval(row, &res);
		rs->name = str(s, o->slo->name);
		slo__format_objective(o, buf, sizeof(buf));
		rs->objective = str(s, buf);
		rs->target = str(s, row->target);
		rs->service = row->service[0] ? str(s, row->service) : NULL;
		rs->matched = row->matched;
		rs->source = slo__source_name(o->slo->source);
		rs->per = o->slo->per == SLO_PER_ALL ? "all" : "endpoint";
		rs->kind = slo__kind_name(o);
		rs->threshold_ms = rs->percentile = rs->target_ratio = NAN;
		if (o->kind != SLO_OBJ_ERRORS && o->kind != SLO_OBJ_COUNT &&
		    o->kind != SLO_OBJ_HIT_RATIO)
			rs->threshold_ms = o->threshold_ns / NS_PER_MS;
		if (o->kind == SLO_OBJ_LATENCY || o->kind == SLO_OBJ_HIT_RATIO) {
			if (o->percentile)
				rs->percentile = o->ratio_ppb / 1e7;
			rs->target_ratio = o->ratio_ppb / 1e9;
		} else if (o->kind == SLO_OBJ_ERRORS) {
			rs->errors_are = str(s, o->errors_label);
			rs->target_ratio = o->ratio_ppb / 1e9;
		} else if (o->kind == SLO_OBJ_COUNT) {
			rs->has_min_count = true;
			rs->min_count = o->count;
		}
		rs->strict = o->strict;
		rs->unit = slo__unit_name(res.unit);
		rs->observed = res.observed;
		rs->target_value = res.target;
		rs->margin = res.margin;
		rs->has_counts = true;
		rs->n_total = row->run.total;
		/* Good events as SLOs count them: judged and not bad, whatever the kind. */
		rs->good = res.judged - res.bad;
		rs->total = res.judged;
		rs->n_errors = row->run.errors;
		rs->n_protected = row->run.protected_;
		rs->budget_consumed = res.budget_consumed;
		rs->verdict = slo__verdict_key(res.verdict);
		rs->first_breach_s = row->first_breach_s < 0 ? NAN : row->first_breach_s;
		rs->breached_intervals = row->breached_intervals;
		rs->approximate = res.approximate;
		rs->incomplete_data = incomplete;
		rs->line = o->line;
		rs->column = o->column;
	}

	slotrack__tally(st, &t);
	r->has_slo_summary = true;
	sum->file = str(s, st->set->file);
	sum->warmup_s = st->set->warmup_ns / 1e9;
	sum->objectives = st->nrows;
	sum->pass = t.pass;
	sum->breach = t.breach;
	sum->insufficient = t.insufficient;
	sum->rows_dropped = st->rows_dropped;
	sum->incomplete_data = incomplete;
	sum->dropped_pct = slo__drop_pct(report__dropped(m), m->tstats.events);
	r->max_drop_pct = m->max_drop_pct;
	sum->verdict = t.breach ? "breach" : t.insufficient ? "insufficient_data" : "pass";
}

static void series(struct snap *s, struct run_series *rs, const struct timeline *tl, bool http)
{
	rs->p = alloc(s, tl->n, sizeof(*rs->p));
	for (unsigned i = 0; rs->p && i < tl->n; i++) {
		const struct tl_point *p = &tl->p[i];
		struct run_tpoint *q = &rs->p[rs->n++];

		q->t = p->t_s;
		q->count = p->count;
		q->rate_per_s = p->interval_s > 0 ? p->count / p->interval_s : 0;
		q->p50 = p->p50_ns / NS_PER_MS;
		q->p95 = p->p95_ns / NS_PER_MS;
		q->p99 = p->p99_ns / NS_PER_MS;
		q->errors = p->errors;
		q->e5xx = http ? p->errors : 0;
		q->e4xx = http ? p->err4xx : 0;
		q->wait_p95 = http && p->wait_n ? p->wait_p95_ns / NS_PER_MS : NAN;
	}
}

/* Per interval, per endpoint and fingerprint: what the live view showed. */
static void timeline_section(struct snap *s, const struct agg *a, struct agg_endpoint **eps)
{
	const struct report_meta *m = s->m;
	struct run_timeline *t = &s->r->timeline;

	s->r->has_timeline = true;
	t->interval_s = m->interval_s;
	t->points_dropped = a->tl_budget.dropped + (m->db ? m->db->tl_budget.dropped : 0);
	t->http = alloc(s, a->neps, sizeof(*t->http));
	for (unsigned i = 0; t->http && i < a->neps; i++) {
		const struct agg_endpoint *e = eps[i];
		struct run_series *rs;

		if (!e->count || !e->tl.n)
			continue;
		rs = &t->http[t->nhttp++];
		rs->service = str(s, a->services[e->service].name);
		rs->method = str(s, e->method);
		rs->route = str(s, e->route);
		series(s, rs, &e->tl, true);
	}
	t->db = alloc(s, m->db ? m->db->nfps : 0, sizeof(*t->db));
	for (unsigned i = 0; t->db && m->db && i < m->db->nfps; i++) {
		const struct dbagg_fp *f = m->db->fps[i];
		struct run_series *rs;

		if (!f->tl.n)
			continue;
		rs = &t->db[t->ndb++];
		rs->query = str(s, f->text);
		series(s, rs, &f->tl, false);
	}
}

static json_object *definitions(const struct report_meta *m)
{
	json_object *o = json_object_new_object();
	static const struct {
		const char *key, *text;
	} texts[] = {
		{ "ttfb", "start of latency -> first response write" },
		{ "server", "first request byte read -> last response byte written" },
		{ "wait", "first request byte arrived -> read by the server (receive and accept "
			  "queues); requests whose arrival was seen" },
	};
	const char *latency =
		m->from_read ? "first request byte read -> last response byte written (end of the "
			       "response's framing; else the last write before the next request, "
			       "close or quiet_ms of silence)"
			     : "first request byte arrived at the server's socket (else, for "
			       "connections older than the trace, read) -> last response byte "
			       "written (end of the response's framing; else the last write "
			       "before the next request, close or quiet_ms of silence)";
	bool ok = o;

	ok = ok && !json_object_object_add(o, "latency", json_object_new_string(latency));
	ok = ok &&
	     !json_object_object_add(o, "latency_from",
				     json_object_new_string(m->from_read ? "read" : "arrival"));
	for (size_t i = 0; ok && i < sizeof(texts) / sizeof(texts[0]); i++)
		ok = !json_object_object_add(o, texts[i].key,
					     json_object_new_string(texts[i].text));
	/* Written as the report always had it: milliseconds to the microsecond. */
	ok = ok && !json_object_object_add(o, "quiet_ms",
					   json_object_new_double(round(m->quiet_ms * 1e3) / 1e3));
	ok = ok &&
	     !json_object_object_add(
		     o, "percentiles",
		     json_object_new_string("nearest rank over the histogram, error <= 0.79 %"));
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* --command-exit as applied: what was given, and what the status was mapped to. */
static void command_exit(struct snap *s, const struct cmdexit_map *map, int status)
{
	struct run *r = s->r;
	int code;

	r->has_exit_map = true;
	if (!map)
		return;
	r->exit_map = alloc(s, map->n, sizeof(*r->exit_map));
	for (unsigned i = 0; r->exit_map && i < map->n; i++) {
		r->exit_map[r->nexit_map].status = map->v[i].status;
		r->exit_map[r->nexit_map++].as = cmdexit__name(map->v[i].code);
	}
	code = cmdexit__lookup(map, status);
	r->exit_mapped = code < 0 ? NULL : cmdexit__name(code);
}

static void head(struct snap *s)
{
	const struct report_meta *m = s->m;
	struct run *r = s->r;
	char t[40];

	r->tool_version = SLOPROBE_VERSION;
	r->hostname = str(s, m->hostname);
	r->kernel = str(s, m->kernel);
	r->kernel_lacks.v = alloc(s, m->nkernel_lacks, sizeof(*r->kernel_lacks.v));
	for (unsigned i = 0; r->kernel_lacks.v && i < m->nkernel_lacks; i++)
		r->kernel_lacks.v[r->kernel_lacks.n++] = str(s, m->kernel_lacks[i]);
	report__iso8601(&m->start, t, sizeof(t));
	r->start = str(s, t);
	report__iso8601(&m->end, t, sizeof(t));
	r->end = str(s, t);
	r->duration_s = m->duration_s;
	if (m->command) {
		unsigned n = 0;

		while (m->command[n])
			n++;
		r->has_command = true;
		r->argv = alloc(s, n, sizeof(*r->argv));
		for (unsigned i = 0; r->argv && i < n; i++)
			r->argv[r->argc++] = str(s, m->command[i]);
		r->exit_status = m->command_status;
		command_exit(s, m->command_exit, m->command_status);
	}
	r->has_filters = true;
	r->filter_pids = alloc(s, m->npids, sizeof(*r->filter_pids));
	for (int i = 0; r->filter_pids && i < m->npids; i++)
		r->filter_pids[r->nfilter_pids++] = m->pids[i];
	r->filter_comm = str(s, m->comm);
	r->filter_cgroup = str(s, m->cgroup);
	r->filter_ports = alloc(s, m->nports, sizeof(*r->filter_ports));
	for (int i = 0; r->filter_ports && i < m->nports; i++)
		r->filter_ports[r->nfilter_ports++] = m->ports[i];
	r->definitions = definitions(m);
	s->nomem |= !r->definitions;

	r->events_total = m->tstats.events;
	r->events_dropped = report__dropped(m);
	counts_init(s, &r->events, 14);
	count(s, &r->events, "ringbuf_full", m->kstats[SOCKIO_STAT_RB_DROPS]);
	count(s, &r->events, "conn_state_lost", m->kstats[SOCKIO_STAT_CONN_LOST]);
	count(s, &r->events, "thread_state_lost", m->kstats[SOCKIO_STAT_INFLIGHT_FAIL]);
	count(s, &r->events, "user_read_faults", m->kstats[SOCKIO_STAT_READ_FAULT]);
	count(s, &r->events, "iovecs_not_walked", m->kstats[SOCKIO_STAT_IOV_CUT]);
	count(s, &r->events, "tail_calls_failed", m->kstats[SOCKIO_STAT_TAIL_FAILED]);
	count(s, &r->events, "malformed", m->tstats.bad_events);
	count(s, &r->events, "endpoint_table_full", m->sstats.endpoints_full);
	count(s, &r->events, "pipeline_overflow", m->hstats ? m->hstats->pending_overflow : 0);
	count(s, &r->events, "out_of_memory", m->hstats ? m->hstats->nomem : 0);
	count(s, &r->events, "db_queries_lost", m->db_dropped);
	count(s, &r->events, "wire_queries_lost", report__wire_lost(m));
	count(s, &r->events, "handoff_events_lost", report__handoff_lost(m));
	/* Only with --tls: the reports of runs without it stay as they were. */
	if (m->tls)
		count(s, &r->events, "tls_unbound", m->kstats[SOCKIO_STAT_TLS_UNBOUND]);
	counts_init(s, &r->connections, 12);
	count(s, &r->connections, "tracked", m->kstats[SOCKIO_STAT_TRACKED]);
	count(s, &r->connections, "opened", m->tstats.opens);
	count(s, &r->connections, "closed", m->tstats.closes);
	count(s, &r->connections, "peak", m->tstats.conns_peak);
	count(s, &r->connections, "evicted", m->tstats.conns_evicted);
	count(s, &r->connections, "open_event_lost", m->tstats.orphan_data);
	count(s, &r->connections, "tls", m->tstats.tls);
	count(s, &r->connections, "tls_outbound", m->tstats.tls_out_handshakes);
	count(s, &r->connections, "http2", m->tstats.http2);
	count(s, &r->connections, "other_protocol", m->tstats.non_http);
	if (m->tls) {
		count(s, &r->connections, "tls_decoded", m->tstats.tls_in);
		count(s, &r->connections, "tls_decoded_outbound", m->tstats.tls_out);
	}
	counts_init(s, &r->http_parser, 9);
	if (m->hstats) {
		count(s, &r->http_parser, "requests", m->hstats->requests);
		count(s, &r->http_parser, "responses", m->hstats->responses);
		count(s, &r->http_parser, "unparsed_requests", m->hstats->garbage_in);
		count(s, &r->http_parser, "unparsed_responses", m->hstats->garbage_out);
		count(s, &r->http_parser, "responses_without_request", m->sstats.no_request);
		count(s, &r->http_parser, "head_too_long", m->hstats->hdr_overflow);
	}
	count(s, &r->http_parser, "unfinished_at_end", m->sstats.unfinished);
	count(s, &r->http_parser, "bad_targets", m->sstats.bad_target);
	count(s, &r->http_parser, "route_positions_collapsed", m->sstats.routes_collapsed);
	r->has_bpf = true;
	r->bpf_stats = r->has_bpf_run = r->has_bpf_db_run = m->bpf_stats;
	r->bpf_run_ns = m->bpf_run_ns;
	r->bpf_run_cnt = m->bpf_run_cnt;
	r->bpf_db_run_ns = m->db_run_ns;
	r->bpf_db_run_cnt = m->db_run_cnt;
	r->has_bpf_ho_run = m->bpf_stats && m->ho_loaded;
	r->bpf_ho_run_ns = m->ho_run_ns;
	r->bpf_ho_run_cnt = m->ho_run_cnt;
}

static const char *label(struct snap *s, uint32_t id)
{
	return str(s, exemplars__label_str(s->m->ex, id));
}

static double ms_after(uint64_t ts, uint64_t start)
{
	return ts > start ? (ts - start) / NS_PER_MS : 0;
}

static void exemplar_span(struct snap *s, const struct exemplar *e, const struct exemplar_span *x,
			  struct run_span *sp)
{
	const struct cacheagg_row *row;

	sp->start_ms = ms_after(x->start, e->start);
	sp->duration_ms = x->dur / NS_PER_MS;
	sp->attribution = dbtrack__conf_name(x->conf);
	sp->error = x->flags & EXEMPLAR_ERROR;
	switch (x->kind) {
	case EXEMPLAR_QUERY:
		sp->kind = RUN_SPAN_QUERY;
		sp->query_id = hex_id(s, x->ref);
		break;
	case EXEMPLAR_CACHE:
		sp->kind = RUN_SPAN_CACHE;
		row = s->m->cache && x->ref ? cacheagg__find(s->m->cache, x->ref) : NULL;
		sp->cache_id = row ? hex_id(s, x->ref) : NULL;
		sp->verb = row ? str(s, row->verb) : NULL;
		sp->key = row ? str(s, row->pattern) : NULL;
		sp->hit = x->flags & EXEMPLAR_MISS ? 0 : x->flags & EXEMPLAR_HIT ? 1 : -1;
		break;
	default:
		sp->kind = RUN_SPAN_HTTP;
		sp->destination = label(s, (uint32_t)(x->ref >> 32));
		sp->route = label(s, (uint32_t)x->ref);
		sp->method = label(s, x->ref2);
		sp->status = x->status;
		break;
	}
}

/* Spans by start (then end): a pool worker's are attributed when its hand-off is decided. */
static int cmp_span(const void *pa, const void *pb)
{
	const struct run_span *a = pa, *b = pb;

	if (a->start_ms != b->start_ms)
		return a->start_ms < b->start_ms ? -1 : 1;
	if (a->duration_ms != b->duration_ms)
		return a->duration_ms < b->duration_ms ? -1 : 1;
	return a->kind - b->kind;
}

/* The exemplars of one endpoint (the run's endpoint k), slowest first, then typical ones. */
static void ep_exemplars(struct snap *s, const struct agg_endpoint *e, unsigned k)
{
	const struct exemplar *ex[EXEMPLAR_SLOWEST + 2];
	const struct run_endpoint *re = &s->r->eps[k];
	int why[EXEMPLAR_SLOWEST + 2];
	unsigned n = exemplar_ep__pick(e->ex, hist__percentile(&e->lat, 50),
				       hist__percentile(&e->lat, 95), ex, why);

	for (unsigned i = 0; i < n; i++) {
		struct run_exemplar *x = &s->r->exemplars[s->r->nexemplars++];
		unsigned nsp = ex[i]->sp ? ex[i]->sp->n : 0;

		x->service = re->service;
		x->method = re->method;
		x->route = re->route;
		x->ep = (int)k;
		x->pick = exemplar__pick_name(why[i]);
		x->t_s = ms_after(ex[i]->start, s->m->start_ns) / 1e3;
		x->latency_ms = ex[i]->lat / NS_PER_MS;
		x->status = ex[i]->status;
		x->pid = ex[i]->tgid;
		x->tid = ex[i]->tid;
		x->attribution = dbtrack__conf_name(ex[i]->conf);
		x->spans_cut = ex[i]->cut;
		x->spans = alloc(s, nsp, sizeof(*x->spans));
		for (unsigned j = 0; x->spans && j < nsp; j++)
			exemplar_span(s, ex[i], &ex[i]->sp->s[j], &x->spans[x->nspans++]);
		if (x->nspans)
			qsort(x->spans, x->nspans, sizeof(*x->spans), cmp_span);
	}
}

static void exemplars_section(struct snap *s, struct agg_endpoint **eps, unsigned neps)
{
	const struct exemplar_stats *st = &s->m->ex->st;
	unsigned k = 0;

	s->r->has_exemplars = true;
	s->r->exemplars =
		alloc(s, (size_t)s->r->neps * (EXEMPLAR_SLOWEST + 2), sizeof(*s->r->exemplars));
	/* The run's endpoints are the table's sorted ones with a request counted. */
	for (unsigned i = 0; s->r->exemplars && i < neps && k < s->r->neps; i++) {
		if (!eps[i]->count && !eps[i]->aborted && !eps[i]->unfinished)
			continue;
		if (eps[i]->count)
			ep_exemplars(s, eps[i], k);
		k++;
	}
	counts_init(s, &s->r->exemplar_stats, 5);
	count(s, &s->r->exemplar_stats, "offered", st->offered);
	count(s, &s->r->exemplar_stats, "spans_cut", st->spans_cut);
	count(s, &s->r->exemplar_stats, "spans_over_budget", st->spans_budget);
	count(s, &s->r->exemplar_stats, "nomem", st->nomem);
	count(s, &s->r->exemplar_stats, "labels_cut", st->labels_cut);
}

int report__snapshot(struct run *r, const struct agg *a, const struct report_meta *m)
{
	struct snap s = { .r = r, .m = m };
	struct agg_endpoint **eps;
	int err = run__init(r);

	if (err)
		return err;
	eps = agg__sorted(a);
	if (!eps) {
		run__free(r);
		return -ENOMEM;
	}
	head(&s);
	r->eps = alloc(&s, a->neps, sizeof(*r->eps));
	for (unsigned i = 0; r->eps && i < a->neps; i++)
		if (eps[i]->count || eps[i]->aborted || eps[i]->unfinished)
			endpoint(&s, a, eps[i], &r->eps[r->neps++]);
	if (m->db)
		db_section(&s);
	if (m->cache)
		cache_section(&s);
	if (m->out)
		outbound_section(&s);
	if (m->tcp)
		tcp_section(&s);
	if (m->slo)
		slo_section(&s, m->slo);
	timeline_section(&s, a, eps);
	if (m->ex && r->eps)
		exemplars_section(&s, eps, a->neps);
	free(eps);
	if (s.nomem) {
		run__free(r);
		return -ENOMEM;
	}
	return 0;
}

int report__write(FILE *f, const struct agg *a, const struct report_meta *m)
{
	struct run r;
	int err = report__snapshot(&r, a, m);

	if (err)
		return err;
	err = run__write(f, &r);
	run__free(&r);
	return err;
}
