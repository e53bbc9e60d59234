// SPDX-License-Identifier: GPL-2.0-only
/*
 * The loader's part for the services a request calls besides its database: the "cache" section
 * (Redis rows, clients, flags, points) and the "cache" and "outbound" objects of an endpoint.
 * Its own file because it is a protocol's, as run_load_section.c is the HTTP and DB parts'.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "run/run_load.h"
#include "run/run_priv.h"
#include "run/runfile.h"

/* An error code as the recorder keeps them (ERR, WRONGTYPE), or "other". */
static bool word_key(const char *k)
{
	if (!strcmp(k, "other"))
		return true;
	if (!*k)
		return false;
	for (; *k; k++)
		if (!((*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') || *k == '_'))
			return false;
	return true;
}

/* A flag kind: a word of ours, lower case. */
static bool kind_ok(const char *k)
{
	return *k && strspn(k, "abcdefghijklmnopqrstuvwxyz_") == strlen(k);
}

static int get_dep(struct ld *l, json_object *o, const char *w, const char *k, bool cache,
		   struct run_endpoint *e, int kind)
{
	struct run_ep_dep *d = &e->dep[kind];
	char ww[W_MAX];
	json_object *x;
	int err = ld__get(l, o, w, k, T_OBJ, 0, &x);

	if (err || !x)
		return err;
	e->has_dep[kind] = true;
	ld__wpath(ww, "%s.%s", w, k);
	if ((err = ld__get_u64(l, x, ww, "requests", REQ, &d->requests)) ||
	    (err = ld__get_u64(l, x, ww, "requests_with_calls", REQ, &d->with)) ||
	    (err = ld__get_pos(l, x, ww, "calls_per_request", REQ, &d->calls_per_request)) ||
	    (err = ld__get_pos(l, x, ww, "max_calls", REQ, &d->max_calls)) ||
	    (err = ld__get_pos(l, x, ww, "ms_per_request", REQ, &d->ms_per_request)) ||
	    (err = ld__get_pos(l, x, ww, "errors", REQ, &d->errors)))
		return err;
	d->hit_ratio = NAN;
	if (cache && ((err = ld__get_pos(l, x, ww, "hits", REQ, &d->hits)) ||
		      (err = ld__get_pos(l, x, ww, "misses", REQ, &d->misses)) ||
		      (err = ld__get_pos(l, x, ww, "hit_ratio", REQ | NULLOK, &d->hit_ratio)) ||
		      (err = ld__get_u64(l, x, ww, "repeat_requests", REQ, &d->repeat))))
		return err;
	if (d->with > d->requests)
		return ld__fail(l, ww, "requests_with_calls", "%llu, but requests is %llu",
				(unsigned long long)d->with, (unsigned long long)d->requests);
	if (d->repeat > d->requests)
		return ld__fail(l, ww, "repeat_requests", "%llu, but requests is %llu",
				(unsigned long long)d->repeat, (unsigned long long)d->requests);
	if (d->calls_per_request > d->max_calls + MS_SLACK)
		return ld__fail(l, ww, "calls_per_request", "%g is above max_calls (%g)",
				d->calls_per_request, d->max_calls);
	if (d->hit_ratio > 1)
		return ld__fail(l, ww, "hit_ratio", "%g is above 1", d->hit_ratio);
	return 0;
}

int ld__load_ep_deps(struct ld *l, json_object *o, const char *w, struct run_endpoint *e)
{
	int err = get_dep(l, o, w, "cache", true, e, RUN_DEP_CACHE);

	return err ? err : get_dep(l, o, w, "outbound", false, e, RUN_DEP_OUTBOUND);
}

/* Counts of one row that are parts of another: errors of count, writes without a TTL... */
static int part_of(struct ld *l, const char *w, const char *k, uint64_t part, const char *whole_k,
		   uint64_t whole)
{
	if (part <= whole)
		return 0;
	return ld__fail(l, w, k, "%llu, but %s is %llu", (unsigned long long)part, whole_k,
			(unsigned long long)whole);
}

static int check_cache_row(struct ld *l, const char *w, const struct run_cache_row *c)
{
	uint64_t words = 0;
	int err;

	for (unsigned i = 0; i < c->errs.n; i++) {
		if (c->errs.v[i].n > c->errors - words)
			return ld__fail(l, w, "errors_by_word", "add up to more than errors (%llu)",
					(unsigned long long)c->errors);
		words += c->errs.v[i].n;
	}
	if ((err = part_of(l, w, "errors", c->errors, "count", c->count)) ||
	    (err = part_of(l, w, "reads", c->reads, "count", c->count)) ||
	    (err = part_of(l, w, "writes", c->writes, "count", c->count)) ||
	    (err = part_of(l, w, "writes_without_ttl", c->no_ttl, "writes", c->writes)) ||
	    (err = part_of(l, w, "whole_reads", c->whole_reads, "count", c->count)) ||
	    (err = part_of(l, w, "whole_reads_big", c->whole_reads_big, "whole_reads",
			   c->whole_reads)) ||
	    (err = part_of(l, w, "large_values", c->large_values, "count", c->count)) ||
	    (err = part_of(l, w, "pipelined", c->pipelined, "count", c->count)) ||
	    (err = part_of(l, w, "in_transaction", c->in_tx, "count", c->count)) ||
	    (err = part_of(l, w, "end_inferred", c->end_inferred, "count", c->count)))
		return err;
	if (c->hist->count != c->count)
		return ld__fail(l, w, "count", "%llu, but the histogram holds %llu",
				(unsigned long long)c->count, (unsigned long long)c->hist->count);
	return 0;
}

int ld__load_cache_row(struct ld *l, json_object *x, const char *w, void *row)
{
	struct run_cache_row *c = row;
	char ww[W_MAX];
	json_object *b;
	bool has_max;
	double ratio;
	int err;

	if (!x || !json_object_is_type(x, json_type_object))
		return ld__fail(l, w, NULL, "must be an object");
	if ((err = ld__get_query_id(l, x, w, "id", REQ, &c->id)) ||
	    (err = ld__get_str(l, x, w, "client", REQ, &c->client)) ||
	    (err = ld__get_str(l, x, w, "server", REQ | NULLOK, &c->server)) ||
	    (err = ld__get_str(l, x, w, "command", REQ, &c->verb)) ||
	    (err = ld__get_str(l, x, w, "pattern", REQ, &c->pattern)) ||
	    (err = ld__get_str(l, x, w, "raw_key", 0, &c->raw_key)) ||
	    (err = ld__get_u64(l, x, w, "count", REQ, &c->count)) ||
	    (err = ld__get_pos(l, x, w, "rate_per_s", REQ, &c->rate_per_s)) ||
	    (err = ld__get_u64(l, x, w, "errors", REQ, &c->errors)) ||
	    (err = ld__get_counts(l, x, w, "errors_by_word", 0, &c->errs, word_key)) ||
	    (err = ld__get_u64(l, x, w, "aborted", 0, &c->aborted)) ||
	    (err = ld__get_u64(l, x, w, "pipelined", 0, &c->pipelined)) ||
	    (err = ld__get_u64(l, x, w, "in_transaction", 0, &c->in_tx)) ||
	    (err = ld__get_u64(l, x, w, "end_inferred", 0, &c->end_inferred)) ||
	    (err = ld__get_u64(l, x, w, "reads", REQ, &c->reads)) ||
	    (err = ld__get_u64(l, x, w, "hits", REQ, &c->hits)) ||
	    (err = ld__get_u64(l, x, w, "misses", REQ, &c->misses)) ||
	    (err = ld__get_pos(l, x, w, "hit_ratio", NULLOK, &ratio)) ||
	    (err = ld__get_u64(l, x, w, "writes", 0, &c->writes)) ||
	    (err = ld__get_u64(l, x, w, "writes_without_ttl", 0, &c->no_ttl)) ||
	    (err = ld__get_u64(l, x, w, "whole_reads", 0, &c->whole_reads)) ||
	    (err = ld__get_u64(l, x, w, "whole_reads_big", 0, &c->whole_reads_big)) ||
	    (err = ld__get_i64(l, x, w, "max_elements", NULLOK, &c->max_elements, &has_max)) ||
	    (err = ld__get(l, x, w, "bytes", T_OBJ, 0, &b)) ||
	    (err = ld__get_u64(l, x, w, "large_values", 0, &c->large_values)) ||
	    (err = ld__get_pos(l, x, w, "total_ms", REQ, &(double){ 0 })) ||
	    (err = ld__get_latency(l, x, w, "latency_ms", REQ, &(struct run_latency){ 0 }, NULL)) ||
	    (err = ld__get_strings(l, x, w, "flags", &c->flags, kind_ok,
				   "a flag kind (lower case)")) ||
	    (err = ld__get_hist(l, x, w, &c->hist)))
		return err;
	if (!*c->verb)
		return ld__fail(l, w, "command", "must not be empty");
	if (has_max && c->max_elements < 0)
		return ld__fail(l, w, "max_elements", "must not be negative");
	c->max_elements = has_max ? c->max_elements : -1;
	/* Recomputed from hits and misses; a ratio the counts cannot give is not ours. */
	if (!isnan(ratio) && c->hits + c->misses &&
	    fabs(ratio - (double)c->hits / (c->hits + c->misses)) > 0.0001)
		return ld__fail(l, w, "hit_ratio", "%g, but hits and misses give %.4f", ratio,
				(double)c->hits / (c->hits + c->misses));
	if (b) {
		ld__wpath(ww, "%s.bytes", w);
		if ((err = ld__get_u64(l, b, ww, "sent", 0, &c->bytes_sent)) ||
		    (err = ld__get_u64(l, b, ww, "received", 0, &c->bytes_received)) ||
		    (err = ld__get_u64(l, b, ww, "max_value", 0, &c->max_value)))
			return err;
	}
	return check_cache_row(l, w, c);
}

static int load_clients(struct ld *l, json_object *o, struct run_cache *c)
{
	char ww[W_MAX];
	json_object *a;
	int err = ld__get(l, o, "cache", "clients", T_ARR, 0, &a);

	if (err || !a)
		return err;
	c->clients = run__alloc(l->r, (json_object_array_length(a) + 1) * sizeof(*c->clients));
	if (!c->clients)
		return ld__nomem(l);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *x = json_object_array_get_idx(a, i);
		struct run_cache_client *cl = &c->clients[i];

		ld__wpath(ww, "cache.clients[%zu]", i);
		if (!x || !json_object_is_type(x, json_type_object))
			return ld__fail(l, ww, NULL, "must be an object");
		if ((err = ld__get_str(l, x, ww, "client", REQ, &cl->client)) ||
		    (err = ld__get_str(l, x, ww, "server", REQ | NULLOK, &cl->server)) ||
		    (err = ld__get_u64(l, x, ww, "opened", REQ, &cl->opened)) ||
		    (err = ld__get_u64(l, x, ww, "closed", REQ, &cl->closed)) ||
		    (err = ld__get_u64(l, x, ww, "live", REQ, &cl->live)) ||
		    (err = ld__get_u64(l, x, ww, "peak", REQ, &cl->peak)) ||
		    (err = ld__get_u64(l, x, ww, "commands", REQ, &cl->commands)))
			return err;
		/* Connections older than the trace close uncounted: live is at most opened. */
		if ((err = part_of(l, ww, "live", cl->live, "peak", cl->peak)) ||
		    (err = part_of(l, ww, "peak", cl->peak, "opened", cl->opened)))
			return err;
		c->nclients++;
	}
	return 0;
}

static int load_flags(struct ld *l, json_object *o, struct run_cache *c)
{
	char ww[W_MAX];
	json_object *a;
	int err = ld__get(l, o, "cache", "flags", T_ARR, 0, &a);

	if (err || !a)
		return err;
	c->flags = run__alloc(l->r, (json_object_array_length(a) + 1) * sizeof(*c->flags));
	if (!c->flags)
		return ld__nomem(l);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *x = json_object_array_get_idx(a, i);
		struct run_cache_flag *f = &c->flags[i];

		ld__wpath(ww, "cache.flags[%zu]", i);
		if (!x || !json_object_is_type(x, json_type_object))
			return ld__fail(l, ww, NULL, "must be an object");
		if ((err = ld__get_str(l, x, ww, "kind", REQ, &f->kind)) ||
		    (err = ld__get_query_id(l, x, ww, "id", REQ | NULLOK, &f->id)) ||
		    (err = ld__get_str(l, x, ww, "command", REQ | NULLOK, &f->verb)) ||
		    (err = ld__get_str(l, x, ww, "pattern", REQ | NULLOK, &f->pattern)) ||
		    (err = ld__get_str(l, x, ww, "endpoint", REQ | NULLOK, &f->endpoint)) ||
		    (err = ld__get_str(l, x, ww, "evidence", REQ, &f->evidence)) ||
		    (err = ld__get_u64(l, x, ww, "occurrences", REQ, &f->occurrences)))
			return err;
		if (!kind_ok(f->kind))
			return ld__fail(l, ww, "kind", "must be a flag kind (lower case)");
		c->nflags++;
	}
	return 0;
}

static int load_points(struct ld *l, json_object *o, struct run_cache *c)
{
	char ww[W_MAX];
	json_object *t, *a;
	int err = ld__get(l, o, "cache", "timeline", T_OBJ, 0, &t);

	if (err || !t)
		return err;
	c->has_timeline = true;
	if ((err = ld__get_pos(l, t, "cache.timeline", "interval_s", REQ, &c->interval_s)) ||
	    (err = ld__get_u64(l, t, "cache.timeline", "points_dropped", 0, &c->points_dropped)) ||
	    (err = ld__get(l, t, "cache.timeline", "points", T_ARR, REQ, &a)))
		return err;
	if (c->interval_s <= 0)
		return ld__fail(l, "cache.timeline", "interval_s", "must be positive");
	c->points = run__alloc(l->r, (json_object_array_length(a) + 1) * sizeof(*c->points));
	if (!c->points)
		return ld__nomem(l);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *x = json_object_array_get_idx(a, i);
		struct run_cache_point *p = &c->points[i];

		ld__wpath(ww, "cache.timeline.points[%zu]", i);
		if (!x || !json_object_is_type(x, json_type_object))
			return ld__fail(l, ww, NULL, "must be an object");
		if ((err = ld__get_pos(l, x, ww, "t", REQ, &p->t)) ||
		    (err = ld__get_u64(l, x, ww, "count", REQ, &p->count)) ||
		    (err = ld__get_pos(l, x, ww, "rate_per_s", REQ, &p->rate_per_s)) ||
		    (err = ld__get_pos(l, x, ww, "p50", REQ | NULLOK, &p->p50)) ||
		    (err = ld__get_pos(l, x, ww, "p95", REQ | NULLOK, &p->p95)) ||
		    (err = ld__get_pos(l, x, ww, "p99", REQ | NULLOK, &p->p99)) ||
		    (err = ld__get_u64(l, x, ww, "errors", REQ, &p->errors)) ||
		    (err = ld__get_u64(l, x, ww, "hits", REQ, &p->hits)) ||
		    (err = ld__get_u64(l, x, ww, "misses", REQ, &p->misses)) ||
		    (err = ld__get_pos(l, x, ww, "hit_ratio", NULLOK, &(double){ 0 })))
			return err;
		if (i && p->t < c->points[i - 1].t)
			return ld__fail(l, ww, "t", "goes back in time");
		if ((err = part_of(l, ww, "errors", p->errors, "count", p->count)))
			return err;
		if (p->p95 < p->p50)
			return ld__fail(l, ww, "p95", "%g is below p50 (%g)", p->p95, p->p50);
		if (p->p99 < p->p95)
			return ld__fail(l, ww, "p99", "%g is below p95 (%g)", p->p99, p->p95);
		c->npoints++;
	}
	return 0;
}

/* The section's totals, which the writer computes from the rows, agree with them. */
static int check_totals(struct ld *l, json_object *o, const struct run_cache *c)
{
	static const char *const keys[] = { "commands", "errors", "hits", "misses" };
	uint64_t sum[4] = { 0 }, v;
	int err;

	for (unsigned i = 0; i < c->nrows; i++) {
		sum[0] += c->rows[i].count;
		sum[1] += c->rows[i].errors;
		sum[2] += c->rows[i].hits;
		sum[3] += c->rows[i].misses;
	}
	for (int k = 0; k < 4; k++) {
		if ((err = ld__get_u64(l, o, "cache", keys[k], REQ, &v)))
			return err;
		if (v != sum[k])
			return ld__fail(l, "cache", keys[k], "%llu, but the rows add up to %llu",
					(unsigned long long)v, (unsigned long long)sum[k]);
	}
	return ld__get_pos(l, o, "cache", "hit_ratio", REQ | NULLOK, &(double){ 0 });
}

int ld__load_cache(struct ld *l, json_object *root)
{
	struct run *r = l->r;
	struct run_cache *c = &r->cache;
	json_object *o, *a;
	int err = ld__get(l, root, "", "cache", T_OBJ, NULLOK, &o);

	if (err || !o)
		return err;
	r->has_cache = true;
	if ((err = ld__get_str(l, o, "cache", "system", REQ, &c->system)) ||
	    (err = ld__get(l, o, "cache", "rows", T_ARR, REQ, &a)) ||
	    (err = ld__rows_of(l, S_CACHE_ROWS, (void **)&c->rows, &c->nrows)) ||
	    (err = check_totals(l, o, c)) || (err = load_clients(l, o, c)) ||
	    (err = load_flags(l, o, c)) || (err = load_points(l, o, c)) ||
	    (err = ld__get_counts(l, o, "cache", "attribution", 0, &c->attribution, NULL)) ||
	    (err = ld__get_counts(l, o, "cache", "drops", 0, &c->drops, NULL)))
		return err;
	return 0;
}
