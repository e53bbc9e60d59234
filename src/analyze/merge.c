// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "analyze/merge.h"
#include "lib/u64map.h"

#define HOTSPOTS 10 /* as src/report.c */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = ((const int64_t *)a)[0], y = ((const int64_t *)b)[0];

	return x < y ? -1 : x > y;
}

double merge__covered_s(const struct run *const *in, unsigned n)
{
	int64_t(*iv)[2] = malloc((n + 1) * sizeof(*iv));
	int64_t cur_lo = 0, cur_hi = 0;
	double total = 0;

	if (!iv)
		return NAN;
	for (unsigned i = 0; i < n; i++) {
		iv[i][0] = in[i]->start_ms;
		iv[i][1] = in[i]->start_ms + (int64_t)llround(in[i]->duration_s * 1000);
	}
	qsort(iv, n, sizeof(*iv), cmp_i64);
	for (unsigned i = 0; i < n; i++) {
		if (i && iv[i][0] <= cur_hi) {
			if (iv[i][1] > cur_hi)
				cur_hi = iv[i][1];
			continue;
		}
		if (i)
			total += (cur_hi - cur_lo) / 1000.0;
		cur_lo = iv[i][0];
		cur_hi = iv[i][1];
	}
	if (n)
		total += (cur_hi - cur_lo) / 1000.0;
	free(iv);
	return total;
}

/* Distinct values joined with ","; NULL when all are NULL. */
static const char *join_distinct(struct run *out, const char *const *v, unsigned n)
{
	size_t len = 1;
	char *s, *p;

	for (unsigned i = 0; i < n; i++)
		if (v[i])
			len += strlen(v[i]) + 1;
	if (len == 1)
		return NULL;
	s = p = run__alloc(out, len);
	if (!s)
		return NULL;
	for (unsigned i = 0; i < n; i++) {
		bool seen = !v[i];

		for (unsigned k = 0; k < i && !seen; k++)
			seen = v[k] && !strcmp(v[k], v[i]);
		if (seen)
			continue;
		p += sprintf(p, "%s%s", p == s ? "" : ",", v[i]);
	}
	return s;
}

/* Counters of several objects added key by key, in order of first appearance; max_key is a
 * high-water mark (max, not sum). */
static int merge_counts(struct run *out, struct run_counts *dst, const struct run_counts **src,
			unsigned n, const char *max_key)
{
	unsigned cap = 0;

	for (unsigned i = 0; i < n; i++)
		cap += src[i]->n;
	dst->n = 0;
	dst->v = run__alloc(out, (cap + 1) * sizeof(*dst->v));
	if (!dst->v)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		for (unsigned k = 0; k < src[i]->n; k++) {
			const struct run_count *c = &src[i]->v[k];
			unsigned d;

			for (d = 0; d < dst->n && strcmp(dst->v[d].key, c->key); d++)
				;
			if (d == dst->n) {
				dst->v[d].key = run__strdup(out, c->key);
				if (!dst->v[d].key)
					return -ENOMEM;
				dst->n++;
			}
			if (max_key && !strcmp(c->key, max_key))
				dst->v[d].n = c->n > dst->v[d].n ? c->n : dst->v[d].n;
			else
				dst->v[d].n += c->n;
		}
	}
	return 0;
}

static int cmp_status(const void *pa, const void *pb)
{
	const struct run_count *a = pa, *b = pb;
	bool oa = !strcmp(a->key, "other"), ob = !strcmp(b->key, "other");

	if (oa != ob)
		return oa - ob;
	return strcmp(a->key, b->key);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorted union of integer lists. */
static int union_u64(struct run *out, uint64_t **dst, unsigned *dn, const uint64_t *const *src,
		     const unsigned *sn, unsigned n)
{
	unsigned cap = 0, k = 0;

	for (unsigned i = 0; i < n; i++)
		cap += sn[i];
	*dst = run__alloc(out, (cap + 1) * sizeof(**dst));
	if (!*dst)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = 0; j < sn[i]; j++)
			(*dst)[k++] = src[i][j];
	qsort(*dst, k, sizeof(**dst), cmp_u64);
	*dn = 0;
	for (unsigned i = 0; i < k; i++)
		if (!i || (*dst)[i] != (*dst)[*dn - 1])
			(*dst)[(*dn)++] = (*dst)[i];
	return 0;
}

static struct hist_sparse *merged_hist(struct run *out, const struct hist_sparse *const *h,
				       unsigned n)
{
	struct hist *m = malloc(sizeof(*m));
	struct hist_sparse *s;

	if (!m)
		return NULL;
	hist__init(m);
	for (unsigned i = 0; i < n; i++)
		hist__merge_sparse(m, h[i]);
	s = run__hist(out, m);
	free(m);
	return s;
}

/* FNV-1a over a key of three strings; never 0, the map's empty key. */
static uint64_t key_hash(const char *const k[3])
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (unsigned i = 0; i < 3; i++)
		for (const unsigned char *c = (const unsigned char *)k[i];; c++) {
			h = (h ^ *c) * 0x100000001b3ull;
			if (!*c)
				break;
		}
	return h | 1;
}

/*
 * Groups the n items (endpoints or queries of every input, in input order) by their key:
 * group[i] is the group of item i, first[g] the first item of group g, *ngroups their number,
 * and members lists the items group by group, each group's from off[g] to off[g + 1]. Linear
 * (a hash map with chains): reports of 100 000 endpoints merge too. 0 or -ENOMEM.
 */
static int group_by_key(const void *const *items, unsigned n,
			void (*key)(const void *item, const char *k[3]), unsigned *group,
			unsigned *first, unsigned *ngroups, unsigned *off, const void **members)
{
	unsigned *chain = calloc(n + 1, sizeof(*chain)), *fill = calloc(n + 1, sizeof(*fill));
	struct u64map heads = { 0 }; /* key hash -> newest group of that hash */
	int err = 0;

	*ngroups = 0;
	if (!chain || !fill) {
		err = -ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < n; i++) {
		const char *k[3], *kg[3];
		uint64_t h, *head;
		unsigned g;

		key(items[i], k);
		h = key_hash(k);
		head = u64map__get(&heads, h);
		for (g = head ? (unsigned)*head : UINT_MAX; g != UINT_MAX; g = chain[g]) {
			key(items[first[g]], kg);
			if (!strcmp(k[0], kg[0]) && !strcmp(k[1], kg[1]) && !strcmp(k[2], kg[2]))
				break;
		}
		if (g == UINT_MAX) {
			g = (*ngroups)++;
			first[g] = i;
			chain[g] = head ? (unsigned)*head : UINT_MAX;
			if (u64map__put(&heads, h, g)) {
				err = -ENOMEM;
				goto out;
			}
		}
		group[i] = g;
	}
	memset(off, 0, (*ngroups + 1) * sizeof(*off));
	for (unsigned i = 0; i < n; i++)
		off[group[i] + 1]++;
	for (unsigned g = 0; g < *ngroups; g++)
		off[g + 1] += off[g];
	memcpy(fill, off, (*ngroups + 1) * sizeof(*fill));
	for (unsigned i = 0; i < n; i++)
		members[fill[group[i]]++] = items[i];
out:
	u64map__free(&heads);
	free(chain);
	free(fill);
	return err;
}

static void ep_key(const void *item, const char *k[3])
{
	const struct run_endpoint *e = item;

	k[0] = e->service;
	k[1] = e->method;
	k[2] = e->route;
}

static void query_key(const void *item, const char *k[3])
{
	const struct run_dbq *q = item;

	k[0] = q->system;
	k[1] = q->query;
	k[2] = "";
}

/*
 * The items of every input's array (each of count[i] elements of size sz at base[i]) in one
 * array of pointers, for group_by_key. NULL when out of memory.
 */
static const void **flatten(const void *const *base, const unsigned *count, unsigned n, size_t sz,
			    unsigned *total)
{
	const void **items;
	unsigned k = 0;

	*total = 0;
	for (unsigned i = 0; i < n; i++)
		*total += count[i];
	items = calloc(*total + 1, sizeof(*items));
	for (unsigned i = 0; items && i < n; i++)
		for (unsigned j = 0; j < count[i]; j++)
			items[k++] = (const char *)base[i] + j * sz;
	return items;
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
	if ((err = union_u64(out, &e->pids, &e->npids, pids, npids, n)))
		return err;
	for (unsigned i = 0; i < n; i++)
		s[i] = m[i]->comm;
	e->comm = join_distinct(out, s, n);
	for (unsigned i = 0; i < n; i++)
		s[i] = m[i]->container;
	e->container = join_distinct(out, s, n);
	for (unsigned i = 0; i < n; i++)
		s[i] = m[i]->cgroup;
	e->cgroup = join_distinct(out, s, n);
	e->count = e->err4xx = e->err5xx = 0;
	for (unsigned i = 0; i < n; i++) {
		if (e->port < 0)
			e->port = m[i]->port;
		if (!e->runtime)
			e->runtime = m[i]->runtime;
		e->count += m[i]->count;
		e->err4xx += m[i]->err4xx;
		e->err5xx += m[i]->err5xx;
	}
	e->rate_per_s = duration_s > 0 ? e->count / duration_s : 0;
	for (unsigned i = 0; i < n; i++)
		counts[i] = &m[i]->status;
	if ((err = merge_counts(out, &e->status, counts, n, NULL)))
		return err;
	qsort(e->status.v, e->status.n, sizeof(*e->status.v), cmp_status);
	for (unsigned i = 0; i < n; i++)
		counts[i] = &m[i]->extra;
	if ((err = merge_counts(out, &e->extra, counts, n, NULL)))
		return err;
	/* TTFB percentiles come without a histogram: they cannot be combined. */
	if (n > 1 && (e->has_ttfb || e->has_server || e->has_wait)) {
		e->has_ttfb = e->has_server = e->has_wait = false;
		notes->ttfb++;
	}
	e->hist = merged_hist(out, hists, n);
	if (!e->hist)
		return -ENOMEM;

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

static int merge_endpoints(struct run *out, const struct run *const *in, unsigned n,
			   struct merge_notes *notes)
{
	const void *base[n ? n : 1], **items, **members = NULL;
	unsigned count[n ? n : 1], total, *group = NULL, *first = NULL, *off = NULL;
	int err = 0;

	for (unsigned i = 0; i < n; i++) {
		base[i] = in[i]->eps;
		count[i] = in[i]->neps;
	}
	items = flatten(base, count, n, sizeof(*in[0]->eps), &total);
	out->eps = run__alloc(out, (total + 1) * sizeof(*out->eps));
	group = calloc(total + 1, sizeof(*group));
	first = calloc(total + 1, sizeof(*first));
	off = calloc(total + 2, sizeof(*off));
	members = calloc(total + 1, sizeof(*members));
	if (!items || !out->eps || !group || !first || !off || !members) {
		err = -ENOMEM;
		goto out;
	}
	err = group_by_key(items, total, ep_key, group, first, &out->neps, off, members);
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

static int path_rank(const char *p)
{
	static const char *const order[] = { "wire", "libpq", "usdt" };

	for (int i = 0; p && i < 3; i++)
		if (!strcmp(p, order[i]))
			return i;
	return 3;
}

static int merge_query(struct run *out, struct run_dbq *q, const struct run_dbq *const *m,
		       unsigned n, double duration_s, struct merge_notes *notes)
{
	const struct run_counts *counts[n];
	const struct hist_sparse *hists[n];
	unsigned npaths = 0;
	bool mixed = false;
	int err;

	*q = *m[0];
	q->count = q->errors = q->slow = 0;
	q->rows = 0;
	q->has_rows = false;
	for (unsigned i = 0; i < n; i++) {
		q->count += m[i]->count;
		q->errors += m[i]->errors;
		q->slow += m[i]->slow;
		q->truncated |= m[i]->truncated;
		q->unknown_statement |= m[i]->unknown_statement;
		if (m[i]->has_rows) {
			q->has_rows = true;
			q->rows += m[i]->rows;
		}
		if (!q->raw_sample)
			q->raw_sample = m[i]->raw_sample;
		if (!q->client)
			q->client = m[i]->client;
		if (!q->server)
			q->server = m[i]->server;
		if (path_rank(m[i]->main_path) < path_rank(q->main_path))
			q->main_path = m[i]->main_path;
		mixed |= path_rank(m[i]->main_path) != path_rank(m[0]->main_path);
		counts[i] = &m[i]->sqlstates;
		hists[i] = m[i]->hist;
		npaths += m[i]->npaths;
	}
	notes->mixed_paths += mixed;
	/* First-byte percentiles come without a histogram, like TTFB: they cannot be combined. */
	if (n > 1 && q->has_first_byte) {
		q->has_first_byte = false;
		notes->first_byte++;
	}
	q->rate_per_s = duration_s > 0 ? q->count / duration_s : 0;
	q->time_share = NAN; /* of the merged run's DB time: the writer computes it */
	if ((err = merge_counts(out, &q->sqlstates, counts, n, NULL)))
		return err;
	q->hist = merged_hist(out, hists, n);
	if (!q->hist)
		return -ENOMEM;
	if (n == 1)
		return 0;
	/*
	 * Paths: counts add; the main path's percentiles come from the merged histogram; a
	 * secondary path has no histogram, so its percentiles survive only from a single input.
	 */
	q->paths = run__alloc(out, (npaths + 1) * sizeof(*q->paths));
	if (!q->paths)
		return -ENOMEM;
	q->npaths = 0;
	for (unsigned i = 0; i < n; i++) {
		for (unsigned k = 0; k < m[i]->npaths; k++) {
			const struct run_db_path *p = &m[i]->paths[k];
			unsigned x;

			for (x = 0; x < q->npaths && strcmp(q->paths[x].path, p->path); x++)
				;
			if (x == q->npaths) {
				q->paths[q->npaths++] = *p;
				continue;
			}
			q->paths[x].count += p->count;
			q->paths[x].lat.p50 = NAN; /* seen twice: percentiles unknown */
		}
	}
	for (unsigned x = 0; x < q->npaths; x++) {
		if (q->main_path && !strcmp(q->paths[x].path, q->main_path) && !mixed) {
			run__latency(q->hist, &q->paths[x].lat);
			continue;
		}
		if (!isnan(q->paths[x].lat.p50))
			continue;
		notes->paths++;
		memmove(&q->paths[x], &q->paths[x + 1], (q->npaths - x - 1) * sizeof(*q->paths));
		q->npaths--;
		x--;
	}
	return 0;
}

static int cmp_q_total(const void *pa, const void *pb)
{
	const struct run_dbq *a = pa, *b = pb;

	if (a->hist->sum != b->hist->sum)
		return a->hist->sum < b->hist->sum ? 1 : -1;
	return strcmp(a->query, b->query);
}

static int cmp_q_p95(const void *pa, const void *pb)
{
	const struct run_dbq *a = *(const struct run_dbq *const *)pa;
	const struct run_dbq *b = *(const struct run_dbq *const *)pb;
	uint64_t x = hist_sparse__percentile(a->hist, 95), y = hist_sparse__percentile(b->hist, 95);

	if (x != y)
		return x < y ? 1 : -1;
	return strcmp(a->query, b->query);
}

static int cmp_q_count(const void *pa, const void *pb)
{
	const struct run_dbq *a = *(const struct run_dbq *const *)pa;
	const struct run_dbq *b = *(const struct run_dbq *const *)pb;

	if (a->count != b->count)
		return a->count < b->count ? 1 : -1;
	return strcmp(a->query, b->query);
}

static int hotspots(struct run *out)
{
	const struct run_dbq **v = calloc(out->ndbqs + 1, sizeof(*v));
	unsigned top = out->ndbqs < HOTSPOTS ? out->ndbqs : HOTSPOTS;
	struct run_ids *ids[] = { &out->hot_total, &out->hot_p95, &out->hot_count };
	int (*cmp[])(const void *, const void *) = { NULL, cmp_q_p95, cmp_q_count };

	if (!v)
		return -ENOMEM;
	for (int o = 0; o < 3; o++) {
		ids[o]->v = run__alloc(out, (top + 1) * sizeof(*ids[o]->v));
		if (!ids[o]->v) {
			free(v);
			return -ENOMEM;
		}
		for (unsigned i = 0; i < out->ndbqs; i++)
			v[i] = &out->dbqs[i];
		if (cmp[o])
			qsort(v, out->ndbqs, sizeof(*v), cmp[o]);
		for (ids[o]->n = 0; ids[o]->n < top; ids[o]->n++)
			ids[o]->v[ids[o]->n] = v[ids[o]->n]->query_id;
	}
	free(v);
	return 0;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* ISO 8601 time a is before b (NULL or unreadable: never). */
static bool earlier(const char *a, const char *b)
{
	int64_t x, y;

	if (!a || run__parse_time(a, &x))
		return false;
	return !b || run__parse_time(b, &y) || x < y;
}

/* A flag's t_s counts from the start of the merged window, like its time of first sight. */
static void flag_times(struct run *out)
{
	for (unsigned i = 0; i < out->nflags; i++) {
		struct run_flag *f = &out->flags[i];
		int64_t at;

		if (!f->at || run__parse_time(f->at, &at))
			f->t_s = NAN;
		else
			f->t_s = at > out->start_ms ? (at - out->start_ms) / 1e3 : 0;
	}
}

static int merge_db(struct run *out, const struct run *const *in, unsigned n,
		    struct merge_notes *notes)
{
	unsigned fcap = 0, ns = 0, count[n ? n : 1], total = 0, *group = NULL, *first = NULL;
	const void *base[n ? n : 1], **items = NULL, **members = NULL;
	const struct run_counts *stats[n];
	const char *probes[n];
	unsigned *off = NULL;
	int err = 0;

	for (unsigned i = 0; i < n; i++) {
		out->has_db |= in[i]->has_db;
		base[i] = in[i]->dbqs;
		count[i] = in[i]->ndbqs;
		fcap += in[i]->nflags;
	}
	if (!out->has_db)
		return 0;
	items = flatten(base, count, n, sizeof(*in[0]->dbqs), &total);
	out->dbqs = run__alloc(out, (total + 1) * sizeof(*out->dbqs));
	out->flags = run__alloc(out, (fcap + 1) * sizeof(*out->flags));
	group = calloc(total + 1, sizeof(*group));
	first = calloc(total + 1, sizeof(*first));
	off = calloc(total + 2, sizeof(*off));
	members = calloc(total + 1, sizeof(*members));
	if (!items || !out->dbqs || !out->flags || !group || !first || !off || !members) {
		err = -ENOMEM;
		goto out;
	}
	err = group_by_key(items, total, query_key, group, first, &out->ndbqs, off, members);
	for (unsigned g = 0; g < out->ndbqs && !err; g++) {
		out->dbqs[g] = *(const struct run_dbq *)items[first[g]];
		err = merge_query(out, &out->dbqs[g], (const struct run_dbq *const *)members + off[g],
				  off[g + 1] - off[g], out->duration_s, notes);
	}
	if (err)
		goto out;
	qsort(out->dbqs, out->ndbqs, sizeof(*out->dbqs), cmp_q_total);
	if ((err = hotspots(out)))
		goto out;

	/* Flags: one per kind, query and endpoint, occurrences added, the first evidence kept. */
	for (unsigned i = 0; i < n; i++) {
		for (unsigned j = 0; j < in[i]->nflags; j++) {
			const struct run_flag *f = &in[i]->flags[j];
			unsigned x;

			for (x = 0; x < out->nflags; x++)
				if (!strcmp(out->flags[x].kind, f->kind) &&
				    same_str(out->flags[x].query_id, f->query_id) &&
				    same_str(out->flags[x].endpoint, f->endpoint))
					break;
			if (x == out->nflags) {
				out->flags[out->nflags++] = *f;
				continue;
			}
			out->flags[x].occurrences += f->occurrences;
			/* First seen: the earliest input that saw it (t_s set once start is known). */
			if (earlier(f->at, out->flags[x].at))
				out->flags[x].at = f->at;
		}
	}

	for (unsigned i = 0; i < n; i++) {
		if (!in[i]->has_db_stats)
			continue;
		out->has_db_stats = true;
		stats[ns] = &in[i]->db_stats;
		probes[ns++] = in[i]->db_probes;
	}
	if (out->has_db_stats) {
		out->db_probes = join_distinct(out, probes, ns);
		if (!out->db_probes) {
			err = -ENOMEM;
			goto out;
		}
		if ((err = merge_counts(out, &out->db_stats, stats, ns, NULL)))
			goto out;
		/* Fingerprints are counted once however many inputs saw them. */
		for (unsigned x = 0; x < out->db_stats.n; x++)
			if (!strcmp(out->db_stats.v[x].key, "fingerprints"))
				out->db_stats.v[x].n = out->ndbqs;
	}
out:
	free(items);
	free(group);
	free(first);
	free(off);
	free(members);
	return err;
}

static bool same_command(const struct run *a, const struct run *b)
{
	if (a->has_command != b->has_command)
		return false;
	if (!a->has_command)
		return true;
	if (a->argc != b->argc || a->exit_status != b->exit_status)
		return false;
	for (unsigned i = 0; i < a->argc; i++)
		if (strcmp(a->argv[i], b->argv[i]))
			return false;
	return true;
}

static int merge_head(struct run *out, const struct run *const *in, unsigned n)
{
	const struct run_counts *c[n];
	const uint64_t *u[n];
	const char *s[n];
	unsigned un[n], nf = 0;
	bool same = true, has_db_run = true;
	int err;

	out->tool_version = SLOPROBE_VERSION;
	for (unsigned i = 0; i < n; i++)
		s[i] = in[i]->hostname;
	out->hostname = join_distinct(out, s, n);
	for (unsigned i = 0; i < n; i++)
		s[i] = in[i]->kernel;
	out->kernel = join_distinct(out, s, n);
	out->start_ms = in[0]->start_ms;
	out->end_ms = in[0]->end_ms;
	for (unsigned i = 1; i < n; i++) {
		if (in[i]->start_ms < out->start_ms)
			out->start_ms = in[i]->start_ms;
		if (in[i]->end_ms > out->end_ms)
			out->end_ms = in[i]->end_ms;
	}
	out->duration_s = merge__covered_s(in, n);
	if (!out->hostname || !out->kernel || isnan(out->duration_s))
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		if (in[i]->start_ms == out->start_ms && !out->start)
			out->start = in[i]->start;
		if (in[i]->end_ms == out->end_ms && !out->end)
			out->end = in[i]->end;
	}
	for (unsigned i = 1; i < n; i++)
		same &= same_command(in[0], in[i]);
	if (same && in[0]->has_command) {
		out->has_command = true;
		out->argv = in[0]->argv;
		out->argc = in[0]->argc;
		out->exit_status = in[0]->exit_status;
	}

	/* Filters: union of the lists; a name filter only if all inputs agree. */
	for (unsigned i = 0; i < n; i++) {
		if (!in[i]->has_filters)
			continue;
		if (!out->has_filters) {
			out->filter_comm = in[i]->filter_comm;
			out->filter_cgroup = in[i]->filter_cgroup;
		}
		if (!same_str(out->filter_comm, in[i]->filter_comm))
			out->filter_comm = NULL;
		if (!same_str(out->filter_cgroup, in[i]->filter_cgroup))
			out->filter_cgroup = NULL;
		out->has_filters = true;
		u[nf] = in[i]->filter_pids;
		un[nf++] = in[i]->nfilter_pids;
	}
	if ((err = union_u64(out, &out->filter_pids, &out->nfilter_pids, u, un, nf)))
		return err;
	nf = 0;
	for (unsigned i = 0; i < n; i++) {
		if (!in[i]->has_filters)
			continue;
		u[nf] = in[i]->filter_ports;
		un[nf++] = in[i]->nfilter_ports;
	}
	if ((err = union_u64(out, &out->filter_ports, &out->nfilter_ports, u, un, nf)))
		return err;
	for (unsigned i = 0; i < n && !out->definitions; i++)
		if (in[i]->definitions)
			out->definitions = json_object_get(in[i]->definitions);

	for (unsigned i = 0; i < n; i++) {
		out->events_total += in[i]->events_total;
		out->events_dropped += in[i]->events_dropped;
		c[i] = &in[i]->events;
	}
	if ((err = merge_counts(out, &out->events, c, n, NULL)))
		return err;
	for (unsigned i = 0; i < n; i++)
		c[i] = &in[i]->connections;
	/* Peak concurrent connections is a high-water mark, not a sum. */
	if ((err = merge_counts(out, &out->connections, c, n, "peak")))
		return err;
	for (unsigned i = 0; i < n; i++)
		c[i] = &in[i]->http_parser;
	if ((err = merge_counts(out, &out->http_parser, c, n, NULL)))
		return err;
	out->bpf_stats = out->has_bpf_run = true;
	for (unsigned i = 0; i < n; i++) {
		out->has_bpf |= in[i]->has_bpf;
		out->bpf_stats &= in[i]->bpf_stats;
		out->has_bpf_run &= in[i]->has_bpf_run;
		out->bpf_run_ns += in[i]->bpf_run_ns;
		out->bpf_run_cnt += in[i]->bpf_run_cnt;
		out->bpf_db_run_ns += in[i]->bpf_db_run_ns;
		out->bpf_db_run_cnt += in[i]->bpf_db_run_cnt;
		has_db_run &= in[i]->has_bpf_db_run;
	}
	out->has_bpf_run &= out->has_bpf;
	out->has_bpf_db_run = has_db_run && out->has_bpf_run;
	return 0;
}

int merge__runs(struct run *out, const struct run *const *in, unsigned n, struct merge_notes *notes,
		char *err, size_t errsz)
{
	int ret;

	memset(notes, 0, sizeof(*notes));
	if (!n) {
		snprintf(err, errsz, "nothing to merge");
		return -EINVAL;
	}
	ret = run__init(out);
	if (ret)
		goto fail;
	out->path = "merged";
	out->sources = run__alloc(out, n * sizeof(*out->sources));
	if (!out->sources) {
		ret = -ENOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < n; i++) {
		out->sources[i].path = in[i]->path;
		out->sources[i].hostname = in[i]->hostname;
		out->sources[i].start = in[i]->start;
		out->sources[i].duration_s = in[i]->duration_s;
		notes->timeline |= in[i]->has_timeline;
		notes->slo |= in[i]->has_slo;
	}
	out->nsources = n;
	/* start and end are those of the earliest and latest input (each has both) */
	if ((ret = merge_head(out, in, n)) || (ret = merge_endpoints(out, in, n, notes)) ||
	    (ret = merge_db(out, in, n, notes)))
		goto fail;
	flag_times(out);
	return 0;
fail:
	snprintf(err, errsz, "%s", strerror(-ret));
	run__free(out);
	return ret;
}
