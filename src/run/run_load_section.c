// SPDX-License-Identifier: GPL-2.0-only
/*
 * The loader's sections: the report's fixed head, each row of its arrays (endpoints, queries,
 * flags, verdicts, timeline series) and the checks across the fields of one row. What a report
 * holds, apart from how its text is read (run_load.c) and how a field is checked
 * (run_load_field.c).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "lib/jscan.h"
#include "run/run_load.h"
#include "run/run_priv.h"
#include "run/runfile.h"

bool ld__status_key(const char *k)
{
	if (!strcmp(k, "other"))
		return true;
	return strlen(k) == 3 && k[0] >= '1' && k[0] <= '9' && k[1] >= '0' && k[1] <= '9' &&
	       k[2] >= '0' && k[2] <= '9';
}

static bool sqlstate_key(const char *k)
{
	if (strlen(k) != 5)
		return false;
	for (int i = 0; i < 5; i++)
		if (!((k[i] >= '0' && k[i] <= '9') || (k[i] >= 'A' && k[i] <= 'Z') || k[i] == '?'))
			return false;
	return true;
}

static int load_ep_db(struct ld *l, json_object *o, const char *w, struct run_endpoint *e)
{
	char ww[W_MAX], wq[W_MAX], num[48];
	json_object *d, *a, *t;
	struct run_ep_db *db = &e->db;
	unsigned __int128 attributed;
	int err = ld__get(l, o, w, "db", T_OBJ, 0, &d);

	if (err || !d)
		return err;
	e->has_db = true;
	ld__wpath(ww, "%s.db", w);
	if ((err = ld__get_u64(l, d, ww, "requests", REQ, &db->requests)) ||
	    (err = ld__get_pos(l, d, ww, "queries_per_request", REQ, &db->queries_per_request)) ||
	    (err = ld__get_pos(l, d, ww, "queries_per_request_max", REQ,
			       &db->queries_per_request_max)) ||
	    (err = ld__get_pos(l, d, ww, "db_time_ms_per_request", REQ,
			       &db->db_time_ms_per_request)) ||
	    (err = ld__get(l, d, ww, "attribution", T_OBJ, REQ, &a)))
		return err;
	ld__wpath(wq, "%s.attribution", ww);
	if ((err = ld__get_u64(l, a, wq, "exact", REQ, &db->attr_exact)) ||
	    (err = ld__get_u64(l, a, wq, "thread", REQ, &db->attr_thread)) ||
	    (err = ld__get_u64(l, a, wq, "shared", REQ, &db->attr_shared)) ||
	    (err = ld__get_u64(l, a, wq, "handoff", 0, &db->attr_handoff)) ||
	    (err = ld__get_pos(l, d, ww, "db_time_share", 0, &db->db_time_share)) ||
	    (err = ld__get(l, d, ww, "top_queries", T_ARR, REQ, &t)))
		return err;
	/* Each request with queries is attributed once, by one of the rules. */
	attributed = (unsigned __int128)db->attr_exact + db->attr_thread + db->attr_shared +
		     db->attr_handoff;
	if (attributed > db->requests)
		return ld__fail(l, wq, NULL, "%s requests, but requests is %llu",
				ld__u128_str(attributed, num, sizeof(num)),
				(unsigned long long)db->requests);
	if (db->queries_per_request > db->queries_per_request_max + MS_SLACK)
		return ld__fail(l, ww, "queries_per_request",
				"%g is above queries_per_request_max (%g)", db->queries_per_request,
				db->queries_per_request_max);
	db->top = run__alloc(l->r, (json_object_array_length(t) + 1) * sizeof(*db->top));
	if (!db->top)
		return ld__nomem(l);
	for (size_t i = 0; i < json_object_array_length(t); i++) {
		json_object *q = json_object_array_get_idx(t, i);
		struct run_top_query *tq = &db->top[i];

		ld__wpath(wq, "%s.top_queries[%zu]", ww, i);
		if (!q || !json_object_is_type(q, json_type_object))
			return ld__fail(l, wq, NULL, "must be an object");
		if ((err = ld__get_query_id(l, q, wq, "query_id", REQ, &tq->query_id)) ||
		    (err = ld__get_str(l, q, wq, "query", REQ | NULLOK, &tq->query)) ||
		    (err = ld__get_pos(l, q, wq, "per_request", REQ, &tq->per_request)) ||
		    (err = ld__get_pos(l, q, wq, "ms_per_request", REQ, &tq->ms_per_request)))
			return err;
		db->ntop++;
	}
	return 0;
}

/*
 * Every response counted has its status in "status" (codes that found no slot under "other"),
 * and is a 4xx or a 5xx error by that status.
 */
static int check_status(struct ld *l, const char *w, const struct run_endpoint *e)
{
	unsigned __int128 all = 0;
	uint64_t c4 = 0, c5 = 0, other = 0;
	char ww[W_MAX], num[48];

	for (unsigned i = 0; i < e->status.n; i++) {
		const struct run_count *c = &e->status.v[i];

		all += c->n;
		if (!strcmp(c->key, "other"))
			other += c->n;
		else if (c->key[0] == '4')
			c4 += c->n;
		else if (c->key[0] >= '5')
			c5 += c->n;
	}
	if (all != e->count)
		return ld__fail(l, w, "status", "adds up to %s, but count is %llu",
				ld__u128_str(all, num, sizeof(num)), (unsigned long long)e->count);
	ld__wpath(ww, "%s.errors", w);
	if (e->err4xx < c4 || e->err4xx - c4 > other)
		return ld__fail(l, ww, "4xx",
				"%llu, but status has %llu 4xx responses (and %llu other)",
				(unsigned long long)e->err4xx, (unsigned long long)c4,
				(unsigned long long)other);
	if (e->err5xx < c5 || e->err5xx - c5 > other)
		return ld__fail(l, ww, "5xx",
				"%llu, but status has %llu 5xx responses (and %llu other)",
				(unsigned long long)e->err5xx, (unsigned long long)c5,
				(unsigned long long)other);
	if ((e->err4xx - c4) + (e->err5xx - c5) > other)
		return ld__fail(
			l, ww, NULL,
			"4xx and 5xx count %llu responses of status \"other\", which has %llu",
			(unsigned long long)((e->err4xx - c4) + (e->err5xx - c5)),
			(unsigned long long)other);
	return 0;
}

static const char *const ep_extra[] = { "aborted",	"unfinished", "incomplete",
					"end_inferred", "pipelined",  "target_truncated" };

static int load_endpoint(struct ld *l, json_object *o, const char *w, struct run_endpoint *e)
{
	char ww[W_MAX];
	json_object *x;
	int64_t port;
	bool has_port;
	int err;

	if (!o || !json_object_is_type(o, json_type_object))
		return ld__fail(l, w, NULL, "must be an object");
	if ((err = ld__get_str(l, o, w, "service", REQ, &e->service)) ||
	    (err = ld__get_u64_array(l, o, w, "pids", REQ, &e->pids, &e->npids)) ||
	    (err = ld__get_str(l, o, w, "comm", REQ, &e->comm)) ||
	    (err = ld__get_str(l, o, w, "container", REQ | NULLOK, &e->container)) ||
	    (err = ld__get_str(l, o, w, "container_id", 0, &e->container_id)) ||
	    (err = ld__get_str(l, o, w, "image", 0, &e->image)) ||
	    (err = ld__get_str(l, o, w, "compose_project", 0, &e->compose_project)) ||
	    (err = ld__get_str(l, o, w, "compose_service", 0, &e->compose_service)) ||
	    (err = ld__get_str(l, o, w, "runtime", 0, &e->runtime)) ||
	    (err = ld__get_str(l, o, w, "cgroup", 0, &e->cgroup)) ||
	    (err = ld__get_i64(l, o, w, "port", 0, &port, &has_port)) ||
	    (err = ld__get_bool(l, o, w, "tls", 0, &e->tls)) ||
	    (err = ld__get_str(l, o, w, "method", REQ, &e->method)) ||
	    (err = ld__get_str(l, o, w, "route", REQ, &e->route)) ||
	    (err = ld__get_u64(l, o, w, "count", REQ, &e->count)) ||
	    (err = ld__get_pos(l, o, w, "rate_per_s", REQ, &e->rate_per_s)) ||
	    (err = ld__get_counts(l, o, w, "status", REQ, &e->status, ld__status_key)) ||
	    (err = ld__get(l, o, w, "errors", T_OBJ, REQ, &x)))
		return err;
	if (has_port && (port < 0 || port > 65535))
		return ld__fail(l, w, "port", "%lld is not a port", (long long)port);
	e->port = has_port ? (int)port : -1;
	if (!*e->method || !*e->route)
		return ld__fail(l, w, *e->method ? "route" : "method", "must not be empty");
	ld__wpath(ww, "%s.errors", w);
	if ((err = ld__get_u64(l, x, ww, "4xx", REQ, &e->err4xx)) ||
	    (err = ld__get_u64(l, x, ww, "5xx", REQ, &e->err5xx)))
		return err;
	e->extra.v = run__alloc(l->r, sizeof(ep_extra) / sizeof(ep_extra[0]) * sizeof(*e->extra.v));
	if (!e->extra.v)
		return ld__nomem(l);
	for (size_t i = 0; i < sizeof(ep_extra) / sizeof(ep_extra[0]); i++) {
		uint64_t n;

		if (!json_object_object_get_ex(o, ep_extra[i], NULL))
			continue;
		if ((err = ld__get_u64(l, o, w, ep_extra[i], 0, &n)))
			return err;
		e->extra.v[e->extra.n].key = ep_extra[i];
		e->extra.v[e->extra.n++].n = n;
	}
	/* Recomputed from the histogram, but a report with them out of order is not ours. */
	if ((err = ld__get_latency(l, o, w, "latency_ms", REQ, &(struct run_latency){ 0 }, NULL)) ||
	    (err = ld__get_latency(l, o, w, "ttfb_ms", 0, &e->ttfb, &e->has_ttfb)) ||
	    (err = ld__get_latency(l, o, w, "server_ms", 0, &e->server, &e->has_server)) ||
	    (err = ld__get_latency(l, o, w, "wait_ms", 0, &e->wait, &e->has_wait)) ||
	    (err = ld__get_hist(l, o, w, &e->hist)))
		return err;
	if (e->hist->count != e->count)
		return ld__fail(l, w, "count", "%llu, but the histogram holds %llu",
				(unsigned long long)e->count, (unsigned long long)e->hist->count);
	if ((err = check_status(l, w, e)) || (err = load_ep_db(l, o, w, e)))
		return err;
	return ld__load_ep_deps(l, o, w, e);
}

/*
 * Failed and slow executions are executions of the query, and a failure has at most one
 * SQLSTATE (one slot per code; those beyond the slots are not listed).
 */
static int check_dbq(struct ld *l, const char *w, const struct run_dbq *q)
{
	unsigned __int128 states = 0;
	char num[48];

	if (q->errors > q->count)
		return ld__fail(l, w, "errors", "%llu, but count is %llu",
				(unsigned long long)q->errors, (unsigned long long)q->count);
	if (q->slow > q->count)
		return ld__fail(l, w, "slow", "%llu, but count is %llu",
				(unsigned long long)q->slow, (unsigned long long)q->count);
	for (unsigned i = 0; i < q->sqlstates.n; i++)
		states += q->sqlstates.v[i].n;
	if (states > q->errors)
		return ld__fail(l, w, "sqlstates", "add up to %s, but errors is %llu",
				ld__u128_str(states, num, sizeof(num)),
				(unsigned long long)q->errors);
	return 0;
}

static int load_dbq(struct ld *l, json_object *o, const char *w, struct run_dbq *q)
{
	char ww[W_MAX];
	json_object *p;
	bool has_rows;
	int err;

	if (!o || !json_object_is_type(o, json_type_object))
		return ld__fail(l, w, NULL, "must be an object");
	if ((err = ld__get_str(l, o, w, "system", REQ, &q->system)) ||
	    (err = ld__get_query_id(l, o, w, "query_id", REQ, &q->query_id)) ||
	    (err = ld__get_str(l, o, w, "query", REQ, &q->query)) ||
	    (err = ld__get_str(l, o, w, "raw_sample", 0, &q->raw_sample)) ||
	    (err = ld__get_bool(l, o, w, "truncated", 0, &q->truncated)) ||
	    (err = ld__get_bool(l, o, w, "unknown_statement", 0, &q->unknown_statement)) ||
	    (err = ld__get_u64(l, o, w, "count", REQ, &q->count)) ||
	    (err = ld__get_u64(l, o, w, "errors", REQ, &q->errors)) ||
	    (err = ld__get_pos(l, o, w, "rate_per_s", REQ, &q->rate_per_s)) ||
	    (err = ld__get_counts(l, o, w, "sqlstates", 0, &q->sqlstates, sqlstate_key)) ||
	    (err = ld__get_pos(l, o, w, "total_ms", REQ, &(double){ 0 })) ||
	    (err = ld__get_pos(l, o, w, "time_share", 0, &q->time_share)) ||
	    (err = ld__get_i64(l, o, w, "rows", NULLOK, &q->rows, &has_rows)) ||
	    (err = ld__get_u64(l, o, w, "slow", 0, &q->slow)) ||
	    (err = ld__get_str(l, o, w, "client", NULLOK, &q->client)) ||
	    (err = ld__get_str(l, o, w, "server", NULLOK, &q->server)) ||
	    (err = ld__get_str(l, o, w, "main_path", 0, &q->main_path)) ||
	    (err = ld__get_latency(l, o, w, "latency_ms", REQ, &(struct run_latency){ 0 }, NULL)) ||
	    (err = ld__get_latency(l, o, w, "first_byte_ms", 0, &q->first_byte,
				   &q->has_first_byte)) ||
	    (err = ld__get(l, o, w, "paths", T_ARR, REQ, &p)))
		return err;
	q->has_rows = has_rows;
	q->paths = run__alloc(l->r, (json_object_array_length(p) + 1) * sizeof(*q->paths));
	if (!q->paths)
		return ld__nomem(l);
	for (size_t i = 0; i < json_object_array_length(p); i++) {
		json_object *x = json_object_array_get_idx(p, i);
		struct run_db_path *dp = &q->paths[i];

		ld__wpath(ww, "%s.paths[%zu]", w, i);
		if (!x || !json_object_is_type(x, json_type_object))
			return ld__fail(l, ww, NULL, "must be an object");
		if ((err = ld__get_str(l, x, ww, "path", REQ, &dp->path)) ||
		    (err = ld__get_u64(l, x, ww, "count", REQ, &dp->count)) ||
		    (err = ld__get_latency(l, x, ww, "latency_ms", REQ, &dp->lat, NULL)))
			return err;
		q->npaths++;
	}
	if ((err = ld__get_hist(l, o, w, &q->hist)))
		return err;
	if (q->hist->count != q->count)
		return ld__fail(l, w, "count", "%llu, but the histogram holds %llu",
				(unsigned long long)q->count, (unsigned long long)q->hist->count);
	return check_dbq(l, w, q);
}

static int load_ids(struct ld *l, json_object *o, const char *w, const char *k, struct run_ids *ids)
{
	return ld__get_strings(l, o, w, k, ids, ld__query_id_ok, "a 16-digit hex query id");
}

/*
 * The counters of db_stats, those of its objects (one per probe path, "libpq": {"queries": 3})
 * as "libpq.queries".
 */
int ld__get_stats(struct ld *l, json_object *o, const char *what, struct run_counts *c)
{
	struct json_object_iterator it, end;
	size_t n = 0;
	char ww[W_MAX];
	int err;

	it = json_object_iter_begin(o);
	end = json_object_iter_end(o);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		json_object *v = json_object_iter_peek_value(&it);

		n += v && json_object_is_type(v, json_type_object) ? json_object_object_length(v)
								   : 1;
	}
	c->n = 0;
	c->v = run__alloc(l->r, (n + 1) * sizeof(*c->v));
	if (!c->v)
		return ld__nomem(l);
	it = json_object_iter_begin(o);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *key = json_object_iter_peek_name(&it);
		json_object *v = json_object_iter_peek_value(&it);
		struct json_object_iterator in, in_end;
		char name[W_MAX];

		if (!v || !json_object_is_type(v, json_type_object)) {
			if ((err = ld__u64_of(l, v, what, key, &c->v[c->n].n)))
				return err;
			if (!(c->v[c->n++].key = run__strdup(l->r, key)))
				return ld__nomem(l);
			continue;
		}
		if (strchr(key, '.'))
			return ld__fail(l, what, key, "unexpected '.' in the name of a group");
		ld__wpath(ww, "%s.%s", what, key);
		in = json_object_iter_begin(v);
		in_end = json_object_iter_end(v);
		for (; !json_object_iter_equal(&in, &in_end); json_object_iter_next(&in)) {
			const char *k = json_object_iter_peek_name(&in);

			if ((err = ld__u64_of(l, json_object_iter_peek_value(&in), ww, k,
					      &c->v[c->n].n)))
				return err;
			snprintf(name, sizeof(name), "%s.%s", key, k);
			if (!(c->v[c->n++].key = run__strdup(l->r, name)))
				return ld__nomem(l);
		}
	}
	return 0;
}

int ld__load_flag(struct ld *l, json_object *x, const char *w, void *row)
{
	struct run_flag *f = row;
	int err;

	if (!x || !json_object_is_type(x, json_type_object))
		return ld__fail(l, w, NULL, "must be an object");
	if ((err = ld__get_str(l, x, w, "kind", REQ, &f->kind)) ||
	    (err = ld__get_query_id(l, x, w, "query_id", 0, &f->query_id)) ||
	    (err = ld__get_str(l, x, w, "query", REQ | NULLOK, &f->query)) ||
	    (err = ld__get_str(l, x, w, "endpoint", REQ | NULLOK, &f->endpoint)) ||
	    (err = ld__get_str(l, x, w, "evidence", REQ, &f->evidence)) ||
	    (err = ld__get_u64(l, x, w, "occurrences", 0, &f->occurrences)) ||
	    (err = ld__get_pos(l, x, w, "t_s", 0, &f->t_s)) ||
	    (err = ld__get_str(l, x, w, "at", 0, &f->at)) ||
	    (err = ld__get_str(l, x, w, "attribution", 0, &f->attribution)) ||
	    (err = ld__get_pos(l, x, w, "support", 0, &f->support)) ||
	    (err = ld__get_str(l, x, w, "confidence", 0, &f->confidence)))
		return err;
	if (!json_object_object_get_ex(x, "occurrences", NULL))
		f->occurrences = 1;
	return 0;
}

static int load_db(struct ld *l, json_object *root)
{
	struct run *r = l->r;
	json_object *a;
	int err = ld__get(l, root, "", "db", T_ARR, 0, &a);

	if (err || !a)
		return err;
	r->has_db = true;
	if ((err = ld__rows_of(l, S_DB, (void **)&r->dbqs, &r->ndbqs)))
		return err;
	if ((err = ld__get(l, root, "", "db_hotspots", T_OBJ, 0, &a)))
		return err;
	if (a && ((err = load_ids(l, a, "db_hotspots", "by_total_time", &r->hot_total)) ||
		  (err = load_ids(l, a, "db_hotspots", "by_p95", &r->hot_p95)) ||
		  (err = load_ids(l, a, "db_hotspots", "by_count", &r->hot_count))))
		return err;
	if ((err = ld__get(l, root, "", "db_flags", T_ARR, 0, &a)))
		return err;
	if (a && (err = ld__rows_of(l, S_FLAGS, (void **)&r->flags, &r->nflags)))
		return err;
	if (!r->flags && !(r->flags = run__alloc(r, sizeof(*r->flags))))
		return ld__nomem(l);
	if ((err = ld__get(l, root, "", "db_stats", T_OBJ, 0, &a)) || !a)
		return err;
	r->has_db_stats = true;
	if ((err = ld__get_str(l, a, "db_stats", "probes", REQ, &r->db_probes)))
		return err;
	/* db_stats is counters plus the probes string: read it as counters without probes. */
	json_object_object_del(a, "probes");
	return ld__get_stats(l, a, "db_stats", &r->db_stats);
}

/* Unit of observed and margin when the file does not say: from the kind of objective. */
static const char *slo_unit_of(const struct run_slo *s)
{
	const char *k = s->kind ? s->kind : "";

	if (strstr(k, "error") || strstr(k, "rate") || !strcmp(k, "latency_threshold") ||
	    !strcmp(k, "hit_ratio"))
		return "ratio";
	if (!strcmp(k, "count"))
		return "count";
	if (strstr(k, "latency") || (!isnan(s->threshold_ms) && !isnan(s->percentile)))
		return "ms";
	return NULL;
}

static const char *const verdicts[] = { "pass", "breach", "insufficient_data" };

int ld__load_slo_row(struct ld *l, json_object *x, const char *w, void *row)
{
	struct run_slo *s = row;
	int64_t min_count;
	bool known = false;
	uint64_t good, total, judged;
	json_object *t;
	int err;

	if (!x || !json_object_is_type(x, json_type_object))
		return ld__fail(l, w, NULL, "must be an object");
	if ((err = ld__get_str(l, x, w, "name", REQ, &s->name)) ||
	    (err = ld__get_str(l, x, w, "objective", REQ, &s->objective)) ||
	    (err = ld__get_str(l, x, w, "target", NULLOK, &s->target)) ||
	    (err = ld__get_str(l, x, w, "service", NULLOK, &s->service)) ||
	    (err = ld__get_bool(l, x, w, "matched", NULLOK, &s->matched)) ||
	    (err = ld__get_str(l, x, w, "source", NULLOK, &s->source)) ||
	    (err = ld__get_str(l, x, w, "per", NULLOK, &s->per)) ||
	    (err = ld__get_str(l, x, w, "kind", NULLOK, &s->kind)) ||
	    (err = ld__get_str(l, x, w, "errors_are", NULLOK, &s->errors_are)) ||
	    (err = ld__get_i64(l, x, w, "min_count", NULLOK, &min_count, &s->has_min_count)) ||
	    (err = ld__get_bool(l, x, w, "strict", NULLOK, &s->strict)) ||
	    (err = ld__get_bool(l, x, w, "incomplete_data", NULLOK, &s->incomplete_data)) ||
	    (err = ld__get_str(l, x, w, "verdict", REQ, &s->verdict)) ||
	    (err = ld__get_str(l, x, w, "unit", NULLOK, &s->unit)) ||
	    (err = ld__get_bool(l, x, w, "approximate", NULLOK, &s->approximate)) ||
	    (err = ld__get_num(l, x, w, "threshold_ms", NULLOK, &s->threshold_ms)) ||
	    (err = ld__get_num(l, x, w, "percentile", NULLOK, &s->percentile)) ||
	    (err = ld__get_num(l, x, w, "target_ratio", NULLOK, &s->target_ratio)) ||
	    (err = ld__get_num(l, x, w, "observed", NULLOK, &s->observed)) ||
	    (err = ld__get_num(l, x, w, "target_value", NULLOK, &s->target_value)) ||
	    (err = ld__get_num(l, x, w, "margin", NULLOK, &s->margin)) ||
	    (err = ld__get_num(l, x, w, "budget_consumed", NULLOK, &s->budget_consumed)) ||
	    (err = ld__get_num(l, x, w, "first_breach_s", NULLOK, &s->first_breach_s)) ||
	    (err = ld__get_u64(l, x, w, "good", NULLOK, &good)) ||
	    (err = ld__get_u64(l, x, w, "total", NULLOK, &total)) ||
	    (err = ld__get_u64(l, x, w, "judged", NULLOK, &judged)) ||
	    (err = ld__get_u64(l, x, w, "errors", NULLOK, &s->n_errors)) ||
	    (err = ld__get_u64(l, x, w, "protected", NULLOK, &s->n_protected)) ||
	    (err = ld__get_u64(l, x, w, "breached_intervals", NULLOK, &s->breached_intervals)) ||
	    (err = ld__get_u64(l, x, w, "line", NULLOK, &s->line)) ||
	    (err = ld__get_u64(l, x, w, "column", NULLOK, &s->column)))
		return err;
	if (s->has_min_count && min_count < 0)
		return ld__fail(l, w, "min_count", "must not be negative");
	s->min_count = (uint64_t)min_count;
	s->n_total = total;
	for (size_t k = 0; k < sizeof(verdicts) / sizeof(verdicts[0]); k++)
		known |= !strcmp(s->verdict, verdicts[k]);
	if (!known)
		return ld__fail(l, w, "verdict",
				"'%.40s' is none of pass, breach, insufficient_data", s->verdict);
	s->has_counts = json_object_object_get_ex(x, "total", &t) && t;
	if (!s->unit)
		s->unit = slo_unit_of(s);
	s->good = good;
	/* Good out of judged, as re-judging counts (protected responses are neither). */
	s->total = json_object_object_get_ex(x, "judged", &t) && t ? judged : total;
	if (s->has_counts && json_object_object_get_ex(x, "good", &t) && t && s->good > s->total)
		return ld__fail(l, w, "good", "%llu, but %s is %llu", (unsigned long long)s->good,
				json_object_object_get_ex(x, "judged", &t) && t ? "judged"
										: "total",
				(unsigned long long)s->total);
	return 0;
}

static int load_slo(struct ld *l, json_object *root)
{
	struct run *r = l->r;
	json_object *a;
	int err = ld__get(l, root, "", "slo", T_ARR, NULLOK, &a);

	if (err || !a)
		return err;
	r->has_slo = true;
	return ld__rows_of(l, S_SLO, (void **)&r->slo, &r->nslo);
}

static int load_series(struct ld *l, json_object *x, const char *ww, bool http,
		       struct run_series *s)
{
	char wp[W_MAX], num[48];
	json_object *pts;
	int err;

	if (!x || !json_object_is_type(x, json_type_object))
		return ld__fail(l, ww, NULL, "must be an object");
	if (http) {
		if ((err = ld__get_str(l, x, ww, "service", 0, &s->service)) ||
		    (err = ld__get_str(l, x, ww, "method", REQ, &s->method)) ||
		    (err = ld__get_str(l, x, ww, "route", REQ, &s->route)))
			return err;
	} else if ((err = ld__get_str(l, x, ww, "query", REQ, &s->query))) {
		return err;
	}
	if ((err = ld__get(l, x, ww, "points", T_ARR, REQ, &pts)))
		return err;
	s->p = run__alloc(l->r, (json_object_array_length(pts) + 1) * sizeof(*s->p));
	if (!s->p)
		return ld__nomem(l);
	for (size_t k = 0; k < json_object_array_length(pts); k++) {
		json_object *y = json_object_array_get_idx(pts, k);
		struct run_tpoint *p = &s->p[k];

		ld__wpath(wp, "%s.points[%zu]", ww, k);
		if (!y || !json_object_is_type(y, json_type_object))
			return ld__fail(l, wp, NULL, "must be an object");
		if ((err = ld__get_pos(l, y, wp, "t", REQ, &p->t)) ||
		    (err = ld__get_u64(l, y, wp, "count", REQ, &p->count)) ||
		    (err = ld__get_pos(l, y, wp, "rate_per_s", REQ, &p->rate_per_s)) ||
		    (err = ld__get_pos(l, y, wp, "p50", NULLOK, &p->p50)) ||
		    (err = ld__get_pos(l, y, wp, "p95", NULLOK, &p->p95)) ||
		    (err = ld__get_pos(l, y, wp, "p99", NULLOK, &p->p99)) ||
		    (err = ld__get_u64(l, y, wp, "errors", NULLOK, &p->errors)) ||
		    (err = ld__get_u64(l, y, wp, "5xx", NULLOK, &p->e5xx)) ||
		    (err = ld__get_u64(l, y, wp, "4xx", NULLOK, &p->e4xx)) ||
		    (err = ld__get_pos(l, y, wp, "wait_p95", NULLOK, &p->wait_p95)))
			return err;
		if (k && p->t < s->p[k - 1].t)
			return ld__fail(l, wp, "t", "goes back in time");
		/* An interval's errors are among its requests; its percentiles are ordered. */
		if (p->errors > p->count)
			return ld__fail(l, wp, "errors", "%llu, but count is %llu",
					(unsigned long long)p->errors,
					(unsigned long long)p->count);
		if ((unsigned __int128)p->e4xx + p->e5xx > p->count)
			return ld__fail(l, wp, NULL, "4xx and 5xx add up to %s, but count is %llu",
					ld__u128_str((unsigned __int128)p->e4xx + p->e5xx, num,
						     sizeof(num)),
					(unsigned long long)p->count);
		if (p->p95 < p->p50)
			return ld__fail(l, wp, "p95", "%g is below p50 (%g)", p->p95, p->p50);
		if (p->p99 < p->p95)
			return ld__fail(l, wp, "p99", "%g is below p95 (%g)", p->p99, p->p95);
		s->n++;
	}
	return 0;
}

int ld__load_http_series(struct ld *l, json_object *x, const char *w, void *row)
{
	return load_series(l, x, w, true, row);
}

int ld__load_db_series(struct ld *l, json_object *x, const char *w, void *row)
{
	return load_series(l, x, w, false, row);
}

static int load_timeline(struct ld *l, json_object *root)
{
	struct run *r = l->r;
	struct run_timeline *t = &r->timeline;
	json_object *o, *a;
	int err = ld__get(l, root, "", "timeline", T_OBJ, NULLOK, &o);

	if (err || !o)
		return err;
	r->has_timeline = true;
	if ((err = ld__get_pos(l, o, "timeline", "interval_s", REQ, &t->interval_s)))
		return err;
	if (t->interval_s <= 0)
		return ld__fail(l, "timeline", "interval_s", "must be positive");
	if ((err = ld__get_u64(l, o, "timeline", "points_dropped", 0, &t->points_dropped)))
		return err;
	if ((err = ld__get(l, o, "timeline", "http", T_ARR, 0, &a)) ||
	    (a && (err = ld__rows_of(l, S_TL_HTTP, (void **)&t->http, &t->nhttp))) ||
	    (err = ld__get(l, o, "timeline", "db", T_ARR, 0, &a)) ||
	    (a && (err = ld__rows_of(l, S_TL_DB, (void **)&t->db, &t->ndb))))
		return err;
	return 0;
}

/* The fixed, non-counter top-level sections. */

/* The string of a --command-exit value, or NULL. */
static const char *exit_as(const char *s)
{
	static const char *const names[] = { "ok", "breach", "load-failed" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i]))
			return names[i];
	return NULL;
}

/*
 * command.exit_map and exit_mapped (record --command-exit as applied): optional, both or
 * neither; statuses 1 to 255, each once; exit_mapped what exit_status maps to, or null.
 */
static int exit_map(struct ld *l, json_object *o)
{
	struct run *r = l->r;
	const char *mapped = NULL, *want = NULL;
	json_object *a;
	size_t n;
	int err;

	if ((err = ld__get(l, o, "command", "exit_map", T_ARR, 0, &a)))
		return err;
	if (!a)
		return json_object_object_get_ex(o, "exit_mapped", NULL)
			       ? ld__fail(l, "command", "exit_mapped", "without exit_map")
			       : 0;
	if ((err = ld__get_str(l, o, "command", "exit_mapped", REQ | NULLOK, &mapped)))
		return err;
	n = json_object_array_length(a);
	r->exit_map = run__alloc(r, (n + 1) * sizeof(*r->exit_map));
	if (!r->exit_map)
		return ld__nomem(l);
	for (size_t i = 0; i < n; i++) {
		json_object *x = json_object_array_get_idx(a, i);
		struct run_exit_map *m = &r->exit_map[i];
		const char *as;

		if (!x || !json_object_is_type(x, json_type_object))
			return ld__fail(l, "command.exit_map", NULL, "must be objects");
		if ((err = ld__get_i64(l, x, "command.exit_map", "status", REQ, &m->status,
				       NULL)) ||
		    (err = ld__get_str(l, x, "command.exit_map", "as", REQ, &as)))
			return err;
		if (m->status < 1 || m->status > 255)
			return ld__fail(l, "command.exit_map", "status", "%lld is not 1 to 255",
					(long long)m->status);
		m->as = exit_as(as);
		if (!m->as)
			return ld__fail(l, "command.exit_map", "as",
					"'%.40s' is not ok, breach or load-failed", as);
		for (size_t k = 0; k < i; k++)
			if (r->exit_map[k].status == m->status)
				return ld__fail(l, "command.exit_map", "status", "%lld twice",
						(long long)m->status);
		if (m->status == r->exit_status)
			want = m->as;
	}
	r->nexit_map = (unsigned)n;
	if (mapped ? !want || strcmp(mapped, want) : want != NULL)
		return ld__fail(l, "command", "exit_mapped",
				"'%.40s' is not what exit_map says of status %lld ('%s')",
				mapped ? mapped : "null", (long long)r->exit_status,
				want ? want : "null");
	r->exit_mapped = want;
	r->has_exit_map = true;
	return 0;
}

/* host.kernel_lacks: names as probes/kfeat.c gives them, [a-z0-9_], nothing to escape. */
static bool hook_name_ok(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_");

	return n && n < 64 && !s[n];
}

static int load_head(struct ld *l, json_object *root)
{
	struct run *r = l->r;
	json_object *o, *a;
	int err;

	if ((err = ld__get(l, root, "", "tool", T_OBJ, REQ, &o)) ||
	    (err = ld__get_str(l, o, "tool", "version", REQ, &r->tool_version)) ||
	    (err = ld__get(l, root, "", "host", T_OBJ, REQ, &o)) ||
	    (err = ld__get_str(l, o, "host", "hostname", REQ, &r->hostname)) ||
	    (err = ld__get_str(l, o, "host", "kernel", REQ, &r->kernel)) ||
	    (err = ld__get_strings(l, o, "host", "kernel_lacks", &r->kernel_lacks, hook_name_ok,
				   "a tracepoint's name")) ||
	    (err = ld__get(l, root, "", "window", T_OBJ, REQ, &o)) ||
	    (err = ld__get_str(l, o, "window", "start", REQ, &r->start)) ||
	    (err = ld__get_str(l, o, "window", "end", REQ, &r->end)) ||
	    (err = ld__get_pos(l, o, "window", "duration_s", REQ, &r->duration_s)))
		return err;
	if (run__parse_time(r->start, &r->start_ms))
		return ld__fail(l, "window", "start", "'%.40s' is not a UTC ISO 8601 time",
				r->start);
	if (run__parse_time(r->end, &r->end_ms))
		return ld__fail(l, "window", "end", "'%.40s' is not a UTC ISO 8601 time", r->end);
	if (r->end_ms < r->start_ms)
		return ld__fail(l, "window", "end", "before start");

	if ((err = ld__get(l, root, "", "command", T_OBJ, NULLOK, &o)))
		return err;
	if (o) {
		r->has_command = true;
		if ((err = ld__get(l, o, "command", "argv", T_ARR, REQ, &a)) ||
		    (err = ld__get_i64(l, o, "command", "exit_status", REQ, &r->exit_status, NULL)))
			return err;
		r->argv = run__alloc(r, (json_object_array_length(a) + 1) * sizeof(*r->argv));
		if (!r->argv)
			return ld__nomem(l);
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			json_object *x = json_object_array_get_idx(a, i);

			if (!x || !json_object_is_type(x, json_type_string))
				return ld__fail(l, "command.argv", NULL, "must be strings");
			r->argv[r->argc] = run__strdup(r, json_object_get_string(x));
			if (!r->argv[r->argc++])
				return ld__nomem(l);
		}
		if ((err = exit_map(l, o)))
			return err;
	}
	if ((err = ld__get(l, root, "", "filters", T_OBJ, 0, &o)))
		return err;
	if (o) {
		r->has_filters = true;
		if ((err = ld__get_u64_array(l, o, "filters", "pids", 0, &r->filter_pids,
					     &r->nfilter_pids)) ||
		    (err = ld__get_str(l, o, "filters", "comm", NULLOK, &r->filter_comm)) ||
		    (err = ld__get_str(l, o, "filters", "cgroup", NULLOK, &r->filter_cgroup)) ||
		    (err = ld__get_u64_array(l, o, "filters", "ports", 0, &r->filter_ports,
					     &r->nfilter_ports)))
			return err;
	}
	if ((err = ld__get(l, root, "", "definitions", T_OBJ, 0, &o)))
		return err;
	if (o)
		r->definitions = json_object_get(o);

	if ((err = ld__get(l, root, "", "slo_summary", T_OBJ, NULLOK, &o)))
		return err;
	if (o) {
		struct run_slo_summary *ss = &r->slo_summary;

		r->has_slo_summary = true;
		if ((err = ld__get_num(l, o, "slo_summary", "max_drop_pct", NULLOK,
				       &r->max_drop_pct)) ||
		    (err = ld__get_str(l, o, "slo_summary", "file", NULLOK, &ss->file)) ||
		    (err = ld__get_pos(l, o, "slo_summary", "warmup_s", NULLOK, &ss->warmup_s)) ||
		    (err = ld__get_u64(l, o, "slo_summary", "objectives", NULLOK,
				       &ss->objectives)) ||
		    (err = ld__get_u64(l, o, "slo_summary", "pass", NULLOK, &ss->pass)) ||
		    (err = ld__get_u64(l, o, "slo_summary", "breach", NULLOK, &ss->breach)) ||
		    (err = ld__get_u64(l, o, "slo_summary", "insufficient_data", NULLOK,
				       &ss->insufficient)) ||
		    (err = ld__get_u64(l, o, "slo_summary", "rows_dropped", NULLOK,
				       &ss->rows_dropped)) ||
		    (err = ld__get_bool(l, o, "slo_summary", "incomplete_data", NULLOK,
					&ss->incomplete_data)) ||
		    (err = ld__get_pos(l, o, "slo_summary", "dropped_pct", NULLOK,
				       &ss->dropped_pct)) ||
		    (err = ld__get_str(l, o, "slo_summary", "verdict", NULLOK, &ss->verdict)))
			return err;
	}
	if ((err = ld__get(l, root, "", "events", T_OBJ, REQ, &o)) ||
	    (err = ld__get_u64(l, o, "events", "total", REQ, &r->events_total)) ||
	    (err = ld__get_u64(l, o, "events", "dropped", REQ, &r->events_dropped)))
		return err;
	json_object_object_del(o, "total");
	json_object_object_del(o, "dropped");
	if ((err = ld__get_counts(l, root, "", "events", REQ, &r->events, NULL)) ||
	    (err = ld__get_counts(l, root, "", "connections", 0, &r->connections, NULL)) ||
	    (err = ld__get_counts(l, root, "", "http_parser", 0, &r->http_parser, NULL)) ||
	    (err = ld__get(l, root, "", "bpf", T_OBJ, 0, &o)))
		return err;
	if (o) {
		r->has_bpf = true;
		if ((err = ld__get_bool(l, o, "bpf", "stats_enabled", REQ, &r->bpf_stats)) ||
		    (err = ld__get_u64(l, o, "bpf", "run_time_ns", 0, &r->bpf_run_ns)) ||
		    (err = ld__get_u64(l, o, "bpf", "run_cnt", 0, &r->bpf_run_cnt)) ||
		    (err = ld__get_u64(l, o, "bpf", "db_probes_run_time_ns", 0,
				       &r->bpf_db_run_ns)) ||
		    (err = ld__get_u64(l, o, "bpf", "db_probes_run_cnt", 0, &r->bpf_db_run_cnt)) ||
		    (err = ld__get_u64(l, o, "bpf", "handoff_run_time_ns", 0, &r->bpf_ho_run_ns)) ||
		    (err = ld__get_u64(l, o, "bpf", "handoff_run_cnt", 0, &r->bpf_ho_run_cnt)))
			return err;
		r->has_bpf_run = json_object_object_get_ex(o, "run_time_ns", NULL);
		r->has_bpf_db_run = json_object_object_get_ex(o, "db_probes_run_time_ns", NULL);
		r->has_bpf_ho_run = json_object_object_get_ex(o, "handoff_run_time_ns", NULL);
	}
	return 0;
}

int ld__load(struct ld *l, json_object *root)
{
	struct run *r = l->r;
	json_object *o;
	const char *s;
	int err;

	if (!json_object_is_type(root, json_type_object))
		return ld__fail(l, "", NULL,
				"not a sloprobe report: the top level is not an object");
	if (!json_object_object_get_ex(root, "schema", &o))
		return ld__fail(l, "", NULL, "not a sloprobe report: no \"schema\"");
	if (!o || !json_object_is_type(o, json_type_string))
		return ld__fail(l, "", "schema", "must be a string");
	s = json_object_get_string(o);
	if (strcmp(s, RUNFILE_SCHEMA)) {
		if (!strncmp(s, "sloprobe.report/", 16))
			return ld__fail(l, "", NULL,
					"unknown schema version '%.40s' (this sloprobe "
					"reads " RUNFILE_SCHEMA ")",
					s);
		return ld__fail(l, "", NULL, "not a sloprobe report (schema '%.40s')", s);
	}
	/* Scanned before anything was loaded, reported once the file is known to be a report. */
	if (l->js->range[0]) {
		snprintf(l->err, l->errsz, "%s", l->js->range);
		return -EINVAL;
	}
	if (l->dup[0]) {
		snprintf(l->err, l->errsz, "%s", l->dup);
		return -EINVAL;
	}
	if ((err = load_head(l, root)))
		return err;
	if ((err = ld__get(l, root, "", "http", T_ARR, REQ, &o)) ||
	    (err = ld__rows_of(l, S_HTTP, (void **)&r->eps, &r->neps)))
		return err;
	if ((err = load_db(l, root)) || (err = ld__load_cache(l, root)) ||
	    (err = ld__load_outbound(l, root)) || (err = ld__load_tcp(l, root)) ||
	    (err = load_slo(l, root)) || (err = load_timeline(l, root)) ||
	    (err = ld__load_exemplars(l, root)))
		return err;
	return 0;
}

int ld__load_endpoint_row(struct ld *l, json_object *o, const char *w, void *row)
{
	return load_endpoint(l, o, w, row);
}

int ld__load_dbq_row(struct ld *l, json_object *o, const char *w, void *row)
{
	return load_dbq(l, o, w, row);
}
