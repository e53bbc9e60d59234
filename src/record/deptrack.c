// SPDX-License-Identifier: GPL-2.0-only
/*
 * Dependency calls per request: the Redis commands and outbound HTTP calls a request makes,
 * attributed by the same rules as its DB queries (dbtrack__decide) and added to its endpoint
 * when it is finalized. A cache key read more than once in one request (exact or thread
 * attribution only: a shared call is not known to be this request's) is the cache's N+1.
 */
#include <stdio.h>
#include <string.h>

#include "record/cacheagg.h"
#include "record/dbtrack.h"

void dbtrack__follow(struct dbtrack *t, enum agg_dep_kind kind, struct cacheagg *cache)
{
	t->dep_mask |= 1u << kind;
	if (cache)
		t->cache = cache;
}

static void key_add(struct dbtrack *t, struct dbreq_deps *d, uint64_t key, uint64_t row)
{
	unsigned i;

	for (i = 0; i < d->nkeys && d->key[i] != key; i++)
		;
	if (i < d->nkeys) {
		if (d->key_n[i] < UINT16_MAX)
			d->key_n[i]++;
		return;
	}
	if (d->nkeys == DBREQ_KEYS) {
		d->keys_cut++;
		return;
	}
	d->key[i] = key;
	d->key_row[i] = row;
	d->key_n[i] = 1;
	d->nkeys++;
}

void dbtrack__deps_add(struct dbtrack *t, int kind, const struct dbtrack_call *c,
		       struct dbreq **to, unsigned n, int conf)
{
	uint64_t lat = c->ts_end > c->ts_start ? c->ts_end - c->ts_start : 0;
	double share = 1.0 / n;

	struct exemplar_span sp = {
		.start = c->ts_start,
		.dur = lat,
		.ref = c->ex_ref,
		.ref2 = c->ex_ref2,
		.status = c->status,
		.kind = kind == AGG_DEP_CACHE ? EXEMPLAR_CACHE : EXEMPLAR_HTTP,
		.conf = (uint8_t)conf,
		.flags = (c->error ? EXEMPLAR_ERROR : 0) | (c->misses ? EXEMPLAR_MISS : 0) |
			 (c->hits && !c->misses ? EXEMPLAR_HIT : 0),
	};

	t->st.dep_attributed[kind][conf]++;
	for (unsigned i = 0; i < n; i++) {
		struct agg_dep *d = &to[i]->deps.d[kind];

		if (t->ex)
			exemplars__span(t->ex, &to[i]->sp, &sp);
		d->calls += share;
		d->ns += share * lat;
		d->errors += c->error ? share : 0;
		d->hits += share * c->hits;
		d->misses += share * c->misses;
	}
	if (n == 1 && conf != DBREQ_SHARED && c->key_hash)
		key_add(t, &to[0]->deps, c->key_hash, c->row_id);
}

uint64_t dbtrack__call(struct dbtrack *t, enum agg_dep_kind kind, const struct dbtrack_call *c)
{
	struct dbreq *out[DBTRACK_COVER_MAX];
	unsigned n;
	int conf;

	if (!(t->dep_mask & (1u << kind)))
		return 0;
	n = dbtrack__decide(t, c->tgid, c->tid, c->ts_start, c->ts_end, out, &conf);
	if (!n) {
		t->st.dep_outside[kind]++;
		return 0;
	}
	/* A pool worker's call: its request is known once the hand-off is (parked_resolve). */
	if (conf == DBTRACK_WAIT && dbtrack__park(t, kind, c, out, n))
		return DBTRACK_CALL_PARKED;
	if (conf == DBTRACK_WAIT)
		conf = DBREQ_SHARED;
	dbtrack__deps_add(t, kind, c, out, n, conf);
	return n == 1 && conf != DBREQ_SHARED ? out[0]->seq : 0;
}

void dbtrack__deps_finalize(struct dbtrack *t, struct dbreq *r, struct agg_endpoint *ep,
			    uint64_t latency_ns)
{
	char endpoint[AGG_METHOD_MAX + AGG_ROUTE_MAX + 2];
	struct dbreq_deps *d = &r->deps;

	if (!t->dep_mask)
		return;
	t->st.keys_cut += d->keys_cut;
	for (int k = 0; k < AGG_DEP_NR; k++) {
		struct agg_dep *x = &d->d[k];

		if (!(t->dep_mask & (1u << k)))
			continue;
		/* Shares are estimates: never more time in calls than the request lasted. */
		if (latency_ns && x->ns > latency_ns) {
			double f = latency_ns / x->ns;

			x->ns = latency_ns;
			x->calls *= f;
			x->errors *= f;
			x->hits *= f;
			x->misses *= f;
		}
		if (k == AGG_DEP_CACHE) {
			for (unsigned i = 0; i < d->nkeys; i++)
				if (d->key_n[i] > 1)
					x->repeat = 1;
		}
		agg__add_dep(ep, k, x);
	}
	if (!t->cache || !d->nkeys)
		return;
	snprintf(endpoint, sizeof(endpoint), "%s %s", ep->method, ep->route);
	for (unsigned i = 0; i < d->nkeys; i++)
		if (d->key_n[i] > 1)
			cacheagg__repeat(t->cache, d->key_row[i], endpoint, d->key_n[i]);
}
