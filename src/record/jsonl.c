// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "lib/json.h"
#include "record/agg.h"
#include "record/cacheagg.h"
#include "record/dbagg.h"
#include "record/jsonl.h"
#include "record/outagg.h"
#include "record/slotrack.h"

/* The point a roll at t_s added, or NULL (none: the budget was spent). */
static const struct tl_point *point_at(const struct timeline *tl, double t_s)
{
	if (!tl->n || tl->p[tl->n - 1].t_s != t_s)
		return NULL;
	return &tl->p[tl->n - 1];
}

static void latency(struct json *j, const struct tl_point *p)
{
	json__kv_fixed(j, "p50_ms", p->p50_ns / 1e6, 3);
	json__kv_fixed(j, "p95_ms", p->p95_ns / 1e6, 3);
	json__kv_fixed(j, "p99_ms", p->p99_ns / 1e6, 3);
}

static uint64_t endpoints(struct json *j, const struct agg *a, double t_s)
{
	uint64_t total = 0;

	json__key(j, "endpoints");
	json__begin_array(j);
	for (unsigned i = 0; i < a->neps; i++) {
		const struct agg_endpoint *e = a->eps[i];
		const struct tl_point *p = point_at(&e->tl, t_s);

		if (!p || !p->count)
			continue;
		total += p->count;
		json__begin_object(j);
		json__kv_string(j, "service", a->services[e->service].name);
		json__kv_string(j, "method", e->method);
		json__kv_string(j, "route", e->route);
		json__kv_u64(j, "count", p->count);
		json__kv_u64(j, "4xx", p->err4xx);
		json__kv_u64(j, "5xx", p->errors);
		latency(j, p);
		if (p->wait_n) {
			json__kv_u64(j, "wait_n", p->wait_n);
			json__kv_fixed(j, "wait_p95_ms", p->wait_p95_ns / 1e6, 3);
		}
		json__end_object(j);
	}
	json__end_array(j);
	return total;
}

static void queries(struct json *j, const struct dbagg *d, double t_s)
{
	char id[20];

	json__key(j, "db");
	json__begin_array(j);
	for (unsigned i = 0; i < d->nfps; i++) {
		const struct dbagg_fp *f = d->fps[i];
		const struct tl_point *p = point_at(&f->tl, t_s);

		if (!p || !p->count)
			continue;
		snprintf(id, sizeof(id), "%016" PRIx64, f->query_id);
		json__begin_object(j);
		json__kv_string(j, "query_id", id);
		json__kv_u64(j, "count", p->count);
		json__kv_u64(j, "errors", p->errors);
		latency(j, p);
		json__end_object(j);
	}
	json__end_array(j);
}

static void cache(struct json *j, const struct cacheagg *c, double t_s)
{
	const struct cacheagg_point *p = c->npoints ? &c->points[c->npoints - 1] : NULL;

	json__key(j, "cache");
	if (!p || p->t_s != t_s) {
		json__null(j);
		return;
	}
	json__begin_object(j);
	json__kv_u64(j, "count", p->count);
	json__kv_u64(j, "errors", p->errors);
	json__kv_u64(j, "hits", p->hits);
	json__kv_u64(j, "misses", p->misses);
	json__kv_fixed(j, "p50_ms", p->p50_ns / 1e6, 3);
	json__kv_fixed(j, "p95_ms", p->p95_ns / 1e6, 3);
	json__kv_fixed(j, "p99_ms", p->p99_ns / 1e6, 3);
	json__end_object(j);
}

/*
 * The outbound rows that had calls in the interval: the points outagg__roll took at t_s.
 * Percentiles of the answered calls, null when none was answered (all failed or unfinished).
 */
static void outbound(struct json *j, const struct outagg *o, double t_s)
{
	json__key(j, "outbound");
	json__begin_array(j);
	for (unsigned i = 0; i < o->nrows; i++) {
		const struct outagg_row *r = o->rows[i];
		const struct outagg_point *p = &r->last;

		if (p->t_s != t_s || !p->count)
			continue;
		json__begin_object(j);
		json__kv_string(j, "caller", r->caller);
		json__kv_string(j, "peer", r->peer);
		json__kv_string(j, "host", r->host);
		json__kv_string(j, "method", r->method);
		json__kv_string(j, "route", r->route);
		json__kv_u64(j, "count", p->count);
		json__kv_u64(j, "answered", p->answered);
		json__kv_u64(j, "failed", p->failed);
		json__kv_u64(j, "4xx", p->err4xx);
		json__kv_u64(j, "5xx", p->err5xx);
		json__kv_fixed(j, "p50_ms", p->answered ? p->p50_ns / 1e6 : NAN, 3);
		json__kv_fixed(j, "p95_ms", p->answered ? p->p95_ns / 1e6 : NAN, 3);
		json__kv_fixed(j, "p99_ms", p->answered ? p->p99_ns / 1e6 : NAN, 3);
		json__end_object(j);
	}
	json__end_array(j);
}

/* The interval's verdicts, as the live view marks them, and the rows that breached. */
static void slo(struct json *j, const struct slotrack *st)
{
	json__key(j, "slo");
	json__begin_object(j);
	json__kv_u64(j, "pass", st->win.pass);
	json__kv_u64(j, "breach", st->win.breach);
	json__kv_u64(j, "insufficient", st->win.insufficient);
	json__key(j, "breached");
	json__begin_array(j);
	for (unsigned i = 0; i < st->nrows; i++) {
		const struct slotrack_row *r = &st->rows[i];

		if (!r->win_breach)
			continue;
		json__begin_object(j);
		json__kv_string(j, "objective", r->o->name);
		json__kv_string(j, "subject", r->subject);
		json__end_object(j);
	}
	json__end_array(j);
	json__end_object(j);
}

int jsonl__interval(FILE *f, const struct jsonl_src *src, double t_s, double interval_s)
{
	struct json *j = json__new(f, false);
	uint64_t requests;
	int err;

	if (!j)
		return -ENOMEM;
	json__begin_object(j);
	json__kv_fixed(j, "t_s", t_s, 3);
	json__kv_fixed(j, "interval_s", interval_s, 3);
	requests = endpoints(j, src->agg, t_s);
	json__kv_u64(j, "requests", requests);
	if (src->db)
		queries(j, src->db, t_s);
	if (src->cache)
		cache(j, src->cache, t_s);
	if (src->out)
		outbound(j, src->out, t_s);
	if (src->slot)
		slo(j, src->slot);
	json__kv_u64(j, "events", src->events);
	json__kv_u64(j, "dropped", src->dropped);
	json__end_object(j);
	err = json__finish(j);
	json__free(j);
	return err;
}
