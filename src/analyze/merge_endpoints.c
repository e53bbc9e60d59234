// SPDX-License-Identifier: GPL-2.0-only
/* The endpoints of several runs grouped by service, method and route, and combined. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/merge.h"
#include "analyze/merge_priv.h"

static int cmp_status(const void *pa, const void *pb)
{
	const struct run_count *a = pa, *b = pb;
	bool oa = !strcmp(a->key, "other"), ob = !strcmp(b->key, "other");

	if (oa != ob)
		return oa - ob;
	return strcmp(a->key, b->key);
}

static void ep_key(const void *item, const char *k[3])
{
	const struct run_endpoint *e = item;

	k[0] = e->service;
	k[1] = e->method;
	k[2] = e->route;
}

/*
 * Calls to the cache and to other HTTP services: requests add up, per-request figures weighted
 * by them, the most calls in a request is the largest; the hit ratio from the merged hits.
 */
static void merge_deps(struct run_endpoint *e, const struct run_endpoint *const *m, unsigned n)
{
	for (int k = 0; k < RUN_DEP_NR && n > 1; k++) {
		struct run_ep_dep *d = &e->dep[k];
		double calls = 0, ms = 0;

		e->has_dep[k] = false;
		memset(d, 0, sizeof(*d));
		for (unsigned i = 0; i < n; i++) {
			const struct run_ep_dep *x = &m[i]->dep[k];

			if (!m[i]->has_dep[k])
				continue;
			e->has_dep[k] = true;
			d->requests += x->requests;
			d->with += x->with;
			calls += x->calls_per_request * x->requests;
			ms += x->ms_per_request * x->requests;
			if (x->max_calls > d->max_calls)
				d->max_calls = x->max_calls;
			d->errors += x->errors;
			d->hits += x->hits;
			d->misses += x->misses;
			d->repeat += x->repeat;
		}
		d->calls_per_request = d->requests ? calls / d->requests : 0;
		d->ms_per_request = d->requests ? ms / d->requests : 0;
		d->hit_ratio = d->hits + d->misses > 0 ? d->hits / (d->hits + d->misses) : NAN;
	}
}

/* Merge the members of one endpoint group into e. */
static int merge_endpoint(struct run *out, struct run_endpoint *e,
			  const struct run_endpoint *const *m, unsigned n, double duration_s,
			  struct merge_notes *notes)
{
	const struct run_counts *counts[n];
	const uint64_t *pids[n];
	const struct hist_sparse *hists[n];
	const char *s[n];
	unsigned npids[n], ntop = 0, ndb = 0;
	double qpr = 0, dbms = 0;
	int err;

	*e = *m[0];
	for (unsigned i = 0; i < n; i++) {
		pids[i] = m[i]->pids;
		npids[i] = m[i]->npids;
		hists[i] = m[i]->hist;
	}
	if ((err = merge__union_u64(out, &e->pids, &e->npids, pids, npids, n)))
		return err;
	for (unsigned i = 0; i < n; i++)
		s[i] = m[i]->comm;
	e->comm = merge__join_distinct(out, s, n);
	for (unsigned i = 0; i < n; i++)
		s[i] = m[i]->container;
	e->container = merge__join_distinct(out, s, n);
	for (unsigned i = 0; i < n; i++)
		s[i] = m[i]->container_id;
	e->container_id = merge__join_distinct(out, s, n);
	for (unsigned i = 0; i < n; i++)
		s[i] = m[i]->image;
	e->image = merge__join_distinct(out, s, n);
	for (unsigned i = 0; i < n; i++)
		s[i] = m[i]->compose_project;
	e->compose_project = merge__join_distinct(out, s, n);
	for (unsigned i = 0; i < n; i++)
		s[i] = m[i]->compose_service;
	e->compose_service = merge__join_distinct(out, s, n);
	for (unsigned i = 0; i < n; i++)
		s[i] = m[i]->cgroup;
	e->cgroup = merge__join_distinct(out, s, n);
	e->count = e->err4xx = e->err5xx = 0;
	for (unsigned i = 0; i < n; i++) {
		if (e->port < 0)
			e->port = m[i]->port;
		if (!e->runtime)
			e->runtime = m[i]->runtime;
		e->tls |= m[i]->tls;
		e->count += m[i]->count;
		e->err4xx += m[i]->err4xx;
		e->err5xx += m[i]->err5xx;
	}
	e->rate_per_s = duration_s > 0 ? e->count / duration_s : 0;
	for (unsigned i = 0; i < n; i++)
		counts[i] = &m[i]->status;
	if ((err = merge__counts(out, &e->status, counts, n, NULL)))
		return err;
	qsort(e->status.v, e->status.n, sizeof(*e->status.v), cmp_status);
	for (unsigned i = 0; i < n; i++)
		counts[i] = &m[i]->extra;
	if ((err = merge__counts(out, &e->extra, counts, n, NULL)))
		return err;
	/* TTFB percentiles come without a histogram: they cannot be combined. */
	if (n > 1 && (e->has_ttfb || e->has_server || e->has_wait)) {
		e->has_ttfb = e->has_server = e->has_wait = false;
		notes->ttfb++;
	}
	e->hist = merge__hist(out, hists, n);
	if (!e->hist)
		return -ENOMEM;
	merge_deps(e, m, n);

	e->has_db = false;
	memset(&e->db, 0, sizeof(e->db));
	for (unsigned i = 0; i < n; i++) {
		const struct run_ep_db *d = &m[i]->db;

		if (!m[i]->has_db)
			continue;
		e->has_db = true;
		ndb++;
		e->db.requests += d->requests;
		qpr += d->queries_per_request * d->requests;
		dbms += d->db_time_ms_per_request * d->requests;
		if (d->queries_per_request_max > e->db.queries_per_request_max)
			e->db.queries_per_request_max = d->queries_per_request_max;
		e->db.attr_exact += d->attr_exact;
		e->db.attr_thread += d->attr_thread;
		e->db.attr_shared += d->attr_shared;
		e->db.attr_handoff += d->attr_handoff;
		ntop += d->ntop;
	}
	/* One input keeps its share; several: the writer divides by the merged mean. */
	e->db.db_time_share = n == 1 ? m[0]->db.db_time_share : NAN;
	if (!e->has_db)
		return 0;
	if (e->db.requests) {
		e->db.queries_per_request = qpr / e->db.requests;
		e->db.db_time_ms_per_request = dbms / e->db.requests;
	}
	/* Top queries: per-request figures weighted by each input's requests. */
	e->db.top = run__alloc(out, (ntop + 1) * sizeof(*e->db.top));
	if (!e->db.top)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		const struct run_ep_db *d = &m[i]->db;

		for (unsigned k = 0; m[i]->has_db && k < d->ntop; k++) {
			const struct run_top_query *q = &d->top[k];
			struct run_top_query *t;
			unsigned x;

			for (x = 0; x < e->db.ntop && strcmp(e->db.top[x].query_id, q->query_id);
			     x++)
				;
			t = &e->db.top[x];
			if (x == e->db.ntop) {
				e->db.ntop++;
				t->query_id = q->query_id;
				t->query = q->query;
			}
			if (!t->query)
				t->query = q->query;
			t->per_request += q->per_request * d->requests;
			t->ms_per_request += q->ms_per_request * d->requests;
		}
	}
	for (unsigned x = 0; x < e->db.ntop; x++) {
		e->db.top[x].per_request /= e->db.requests ? e->db.requests : 1;
		e->db.top[x].ms_per_request /= e->db.requests ? e->db.requests : 1;
	}
	return 0;
}

static int cmp_top(const void *pa, const void *pb)
{
	const struct run_top_query *a = pa, *b = pb;

	if (a->ms_per_request != b->ms_per_request)
		return a->ms_per_request < b->ms_per_request ? 1 : -1;
	return strcmp(a->query_id, b->query_id);
}

static int cmp_ep(const void *pa, const void *pb)
{
	const struct run_endpoint *a = pa, *b = pb;
	int c;

	if (a->count != b->count)
		return a->count < b->count ? 1 : -1;
	if ((c = strcmp(a->service, b->service)) || (c = strcmp(a->method, b->method)))
		return c;
	return strcmp(a->route, b->route);
}

int merge__endpoints(struct run *out, const struct run *const *in, unsigned n,
		     struct merge_notes *notes)
{
	const void *base[n ? n : 1], **items, **members = NULL;
	unsigned count[n ? n : 1], total, *group = NULL, *first = NULL, *off = NULL;
	int err = 0;

	for (unsigned i = 0; i < n; i++) {
		base[i] = in[i]->eps;
		count[i] = in[i]->neps;
	}
	items = merge__flatten(base, count, n, sizeof(*in[0]->eps), &total);
	out->eps = run__alloc(out, (total + 1) * sizeof(*out->eps));
	group = calloc(total + 1, sizeof(*group));
	first = calloc(total + 1, sizeof(*first));
	off = calloc(total + 2, sizeof(*off));
	members = calloc(total + 1, sizeof(*members));
	if (!items || !out->eps || !group || !first || !off || !members) {
		err = -ENOMEM;
		goto out;
	}
	err = merge__group_by_key(items, total, ep_key, group, first, &out->neps, off, members);
	for (unsigned g = 0; g < out->neps && !err; g++) {
		struct run_endpoint *e = &out->eps[g];

		*e = *(const struct run_endpoint *)items[first[g]];
		err = merge_endpoint(out, e, (const struct run_endpoint *const *)members + off[g],
				     off[g + 1] - off[g], out->duration_s, notes);
		if (!err && e->has_db)
			qsort(e->db.top, e->db.ntop, sizeof(*e->db.top), cmp_top);
	}
	if (!err)
		qsort(out->eps, out->neps, sizeof(*out->eps), cmp_ep);
out:
	free(items);
	free(group);
	free(first);
	free(off);
	free(members);
	return err;
}
