// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/runslo.h"

/* Statuses of an endpoint; "other" (codes the recorder did not keep) as status 0. */
static size_t http_statuses(const struct run_endpoint *e, struct slo_status_count *st)
{
	size_t n = 0;

	for (unsigned i = 0; i < e->status.n; i++) {
		st[n].status = strcmp(e->status.v[i].key, "other") ? atoi(e->status.v[i].key) : 0;
		st[n++].count = e->status.v[i].n;
	}
	return n;
}

static size_t db_statuses(const struct run_dbq *q, struct slo_status_count *st)
{
	st[0].status = SLO_DB_FAILED;
	st[0].count = q->errors;
	st[1].status = 0;
	st[1].count = q->count > q->errors ? q->count - q->errors : 0;
	return 2;
}

/* A cache row's commands: failed ones (error replies) and the others, all answered. */
static size_t cache_statuses(const struct run_cache_row *c, struct slo_status_count *st)
{
	st[0].status = SLO_DB_FAILED;
	st[0].count = c->errors;
	st[1].status = 0;
	st[1].count = c->count > c->errors ? c->count - c->errors : 0;
	return 2;
}

static bool matches(const struct slo *s, const struct run *r, unsigned i)
{
	if (s->source == SLO_HTTP) {
		const struct run_endpoint *e = &r->eps[i];

		return slo__match_http(s, e->method, e->route, e->service, e->comm, e->container);
	}
	if (s->source == SLO_CACHE) {
		const struct run_cache_row *c = &r->cache.rows[i];

		return slo__match_cache(s, c->verb, c->pattern, c->client, c->server);
	}
	return slo__match_db(s, r->dbqs[i].query, r->dbqs[i].client);
}

static unsigned nitems(const struct slo *s, const struct run *r)
{
	if (s->source == SLO_CACHE)
		return r->has_cache ? r->cache.nrows : 0;
	return s->source == SLO_HTTP ? r->neps : r->ndbqs;
}

/*
 * Whether item i is judged by a verdict of item one: itself, or for cache SLOs every matching
 * row of its key pattern (per: endpoint is per pattern, as while recording); one < 0: every
 * matching item.
 */
static bool in_scope(const struct slo *s, const struct run *r, int one, unsigned i)
{
	if (one < 0 || s->source != SLO_CACHE)
		return one < 0 ? matches(s, r, i) : (int)i == one;
	/* The pattern first: it rules most rows out without a glob. */
	return !strcmp(r->cache.rows[i].pattern, r->cache.rows[one].pattern) && matches(s, r, i);
}

/*
 * Whether cache row e opens a verdict of its own for objective o: the first matching row of its
 * pattern, and for a hit ratio the pattern was read (a pattern only written has none).
 */
static bool pattern_first(const struct slo_objective *o, const struct run *r, unsigned e)
{
	const struct slo *s = o->slo;
	bool read = false;

	for (unsigned i = 0; i < r->cache.nrows; i++) {
		if (!in_scope(s, r, (int)e, i))
			continue;
		if (i < e)
			return false;
		read |= r->cache.rows[i].reads > 0;
	}
	return o->kind != SLO_OBJ_HIT_RATIO || read;
}

static const struct run_slo *recorded(const struct run_slo *old, unsigned nold,
				      const struct run_slo *row)
{
	for (unsigned i = 0; i < nold; i++)
		if (old[i].has_counts && !strcmp(old[i].name, row->name) &&
		    !strcmp(old[i].objective, row->objective) && old[i].target && row->target &&
		    !strcmp(old[i].target, row->target))
			return &old[i];
	return NULL;
}

/* Fill row from the counters of item one, or of every matching item when one < 0. */
static void judge(struct run *r, const struct slo_objective *o, int one, struct run_slo *row,
		  struct slo_status_count *st, struct hist *h)
{
	const struct slo *s = o->slo;
	struct slo_counts c;
	struct slo_result res;
	size_t nst = 0;

	uint64_t hits = 0, misses = 0;

	hist__init(h);
	for (unsigned i = 0; i < nitems(s, r); i++) {
		if (!in_scope(s, r, one, i))
			continue;
		if (s->source == SLO_HTTP) {
			size_t k = http_statuses(&r->eps[i], st + nst);

			hist__merge_sparse(h, r->eps[i].hist);
			nst += k;
		} else if (s->source == SLO_CACHE) {
			nst += cache_statuses(&r->cache.rows[i], st + nst);
			hist__merge_sparse(h, r->cache.rows[i].hist);
			hits += r->cache.rows[i].hits;
			misses += r->cache.rows[i].misses;
		} else {
			nst += db_statuses(&r->dbqs[i], st + nst);
			hist__merge_sparse(h, r->dbqs[i].hist);
		}
	}
	slo__counts_from_hist(o, &c, h, st, nst);
	/* The report keeps every row's hits and misses: a hit ratio is exact. */
	slo__count_reads(o, &c, hits, misses);
	slo__eval(o, &c, &res);
	row->kind = slo__kind_name(o);
	row->unit = slo__unit_name(res.unit);
	row->verdict = slo__verdict_key(res.verdict);
	row->threshold_ms = o->kind == SLO_OBJ_ERRORS || o->kind == SLO_OBJ_COUNT ||
					    o->kind == SLO_OBJ_HIT_RATIO
				    ? NAN
				    : o->threshold_ns / 1e6;
	row->percentile = o->kind == SLO_OBJ_LATENCY && o->percentile ? o->ratio_ppb / 1e7 : NAN;
	row->target_ratio = o->kind == SLO_OBJ_LATENCY || o->kind == SLO_OBJ_ERRORS ||
					    o->kind == SLO_OBJ_HIT_RATIO
				    ? (double)o->ratio_ppb / SLO_PPB
				    : NAN;
	row->observed = res.observed;
	row->target_value = res.target;
	row->margin = res.margin;
	row->budget_consumed = res.budget_consumed;
	row->first_breach_s = NAN;
	row->has_counts = o->kind == SLO_OBJ_LATENCY || o->kind == SLO_OBJ_ERRORS ||
			  o->kind == SLO_OBJ_HIT_RATIO;
	row->total = res.judged;
	row->good = res.judged - (res.bad < res.judged ? res.bad : res.judged);
	row->approximate = res.approximate;
}

/*
 * What a recorded verdict says of its objective beside the figures (record/report.c,
 * slo_section): the source, per, the service of a per-endpoint HTTP row (the endpoint's; DB and
 * cache rows have none, as while recording), whether anything matched, the file position.
 */
static void describe(struct run *r, const struct slo_objective *o, int e, struct run_slo *row)
{
	const struct slo *s = o->slo;

	row->source = slo__source_name(s->source);
	row->per = s->per == SLO_PER_ALL ? "all" : "endpoint";
	row->service = e >= 0 && s->source == SLO_HTTP ? r->eps[e].service : NULL;
	row->matched = e >= 0;
	for (unsigned i = 0; !row->matched && i < nitems(s, r); i++)
		row->matched = matches(s, r, i);
	row->strict = o->strict;
	if (o->kind == SLO_OBJ_ERRORS)
		row->errors_are = run__strdup(r, o->errors_label);
	if (o->kind == SLO_OBJ_COUNT) {
		row->has_min_count = true;
		row->min_count = o->count;
	}
	row->line = o->line;
	row->column = o->column;
	row->offline = true;
}

struct ctx {
	struct run *r;
	const struct run_slo *old;
	unsigned nold;
	struct run_slo *rows;
	struct slo_status_count *st;
	struct hist *h;
	struct runslo_notes *notes;
};

/* One verdict row: of item e, or of every matching item when e < 0. */
static int emit(struct ctx *x, const struct slo_objective *o, int e)
{
	const struct slo *s = o->slo;
	struct run *r = x->r;
	struct run_slo *row = &x->rows[r->nslo];
	const struct run_slo *rec;
	char buf[512];

	memset(row, 0, sizeof(*row));
	row->name = s->name;
	slo__format_objective(o, buf, sizeof(buf));
	row->objective = run__strdup(r, buf);
	if (e >= 0 && s->source == SLO_HTTP)
		snprintf(buf, sizeof(buf), "http %s %s", r->eps[e].method, r->eps[e].route);
	else if (e >= 0 && s->source == SLO_CACHE)
		snprintf(buf, sizeof(buf), "cache %s",
			 r->cache.rows[e].pattern[0] ? r->cache.rows[e].pattern : "(no key)");
	else if (e >= 0)
		snprintf(buf, sizeof(buf), "db %s", r->dbqs[e].query);
	else
		slo__format_scope(s, buf, sizeof(buf));
	row->target = run__strdup(r, buf);
	if (!row->objective || !row->target)
		return -ENOMEM;
	rec = recorded(x->old, x->nold, row);
	if (rec) {
		*row = *rec;
		x->notes->recorded++;
	} else {
		judge(r, o, e, row, x->st, x->h);
		describe(r, o, e, row);
	}
	r->nslo++;
	return 0;
}

int runslo__evaluate(struct run *r, const struct slo_set *set, struct runslo_notes *notes)
{
	struct ctx x = { .r = r, .old = r->slo, .nold = r->nslo, .notes = notes };
	unsigned cap = 0, nst = 2;
	int err = 0;

	memset(notes, 0, sizeof(*notes));
	notes->warmup_ignored = set->warmup_ns > 0;
	for (unsigned i = 0; i < r->neps; i++)
		nst += r->eps[i].status.n;
	nst += 2 * r->ndbqs + (r->has_cache ? 2 * r->cache.nrows : 0);
	for (unsigned i = 0; i < set->nslos; i++) {
		const struct slo *s = &set->slos[i];
		unsigned m = 0;

		for (unsigned k = 0; k < nitems(s, r) && s->per == SLO_PER_ENDPOINT; k++)
			m += matches(s, r, k);
		cap += s->nobj * (m ? m : 1);
	}
	x.rows = run__alloc(r, (cap + 1) * sizeof(*x.rows));
	x.h = run__alloc(r, sizeof(*x.h));
	x.st = calloc(nst, sizeof(*x.st));
	if (!x.rows || !x.h || !x.st) {
		free(x.st);
		return -ENOMEM;
	}
	r->slo = x.rows;
	r->nslo = 0;
	r->has_slo = true;
	for (unsigned i = 0; i < set->nslos && !err; i++) {
		const struct slo *s = &set->slos[i];

		for (unsigned k = 0; k < s->nobj && !err; k++) {
			unsigned found = 0;

			for (unsigned e = 0; s->per == SLO_PER_ENDPOINT && e < nitems(s, r) && !err;
			     e++) {
				if (!matches(s, r, e))
					continue;
				if (s->source == SLO_CACHE && !pattern_first(&s->obj[k], r, e))
					continue;
				err = emit(&x, &s->obj[k], (int)e);
				found++;
			}
			/* per: all, or nothing matched (then judged on nothing: never a pass) */
			if (!found && !err)
				err = emit(&x, &s->obj[k], -1);
		}
	}
	free(x.st);
	return err;
}
