// SPDX-License-Identifier: GPL-2.0-only
/* The DB sections of several runs: queries grouped by fingerprint, hotspots, flags, counters. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/merge.h"
#include "analyze/merge_priv.h"

#define HOTSPOTS 10 /* as src/report.c */

static void query_key(const void *item, const char *k[3])
{
	const struct run_dbq *q = item;

	k[0] = q->system;
	k[1] = q->query;
	k[2] = "";
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
	if ((err = merge__counts(out, &q->sqlstates, counts, n, NULL)))
		return err;
	q->hist = merge__hist(out, hists, n);
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

/* ISO 8601 time a is before b (NULL or unreadable: never). */
static bool earlier(const char *a, const char *b)
{
	int64_t x, y;

	if (!a || run__parse_time(a, &x))
		return false;
	return !b || run__parse_time(b, &y) || x < y;
}

/* A flag's t_s counts from the start of the merged window, like its time of first sight. */
void merge__flag_times(struct run *out)
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

int merge__db(struct run *out, const struct run *const *in, unsigned n, struct merge_notes *notes)
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
	items = merge__flatten(base, count, n, sizeof(*in[0]->dbqs), &total);
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
	err = merge__group_by_key(items, total, query_key, group, first, &out->ndbqs, off, members);
	for (unsigned g = 0; g < out->ndbqs && !err; g++) {
		out->dbqs[g] = *(const struct run_dbq *)items[first[g]];
		err = merge_query(out, &out->dbqs[g],
				  (const struct run_dbq *const *)members + off[g],
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
				    merge__same_str(out->flags[x].query_id, f->query_id) &&
				    merge__same_str(out->flags[x].endpoint, f->endpoint))
					break;
			if (x == out->nflags) {
				out->flags[out->nflags++] = *f;
				continue;
			}
			out->flags[x].occurrences += f->occurrences;
			/* First seen: the earliest input that saw it (t_s set once start is known).
			 */
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
		out->db_probes = merge__join_distinct(out, probes, ns);
		if (!out->db_probes) {
			err = -ENOMEM;
			goto out;
		}
		if ((err = merge__counts(out, &out->db_stats, stats, ns, NULL)))
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
