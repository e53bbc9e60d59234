// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "analyze/merge.h"
#include "analyze/merge_priv.h"
#include "lib/u64map.h"

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
const char *merge__join_distinct(struct run *out, const char *const *v, unsigned n)
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
int merge__counts(struct run *out, struct run_counts *dst, const struct run_counts **src,
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

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorted union of integer lists. */
int merge__union_u64(struct run *out, uint64_t **dst, unsigned *dn, const uint64_t *const *src,
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

struct hist_sparse *merge__hist(struct run *out, const struct hist_sparse *const *h, unsigned n)
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
int merge__group_by_key(const void *const *items, unsigned n,
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

/*
 * The items of every input's array (each of count[i] elements of size sz at base[i]) in one
 * array of pointers, for merge__group_by_key. NULL when out of memory.
 */
const void **merge__flatten(const void *const *base, const unsigned *count, unsigned n, size_t sz,
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

bool merge__same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
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
	/* The same --command-exit too, or the merged report would claim one it was not run with */
	if (a->has_exit_map != b->has_exit_map || a->nexit_map != b->nexit_map)
		return false;
	for (unsigned i = 0; i < a->nexit_map; i++)
		if (a->exit_map[i].status != b->exit_map[i].status ||
		    strcmp(a->exit_map[i].as, b->exit_map[i].as))
			return false;
	return true;
}

/* What any of the runs' kernels lacked: the merged numbers lack it in part. */
static int merge_lacks(struct run *out, const struct run *const *in, unsigned n)
{
	unsigned total = 0;

	for (unsigned i = 0; i < n; i++)
		total += in[i]->kernel_lacks.n;
	if (!total)
		return 0;
	out->kernel_lacks.v = run__alloc(out, total * sizeof(*out->kernel_lacks.v));
	if (!out->kernel_lacks.v)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		for (unsigned k = 0; k < in[i]->kernel_lacks.n; k++) {
			const char *v = in[i]->kernel_lacks.v[k];
			bool seen = false;

			for (unsigned m = 0; m < out->kernel_lacks.n && !seen; m++)
				seen = !strcmp(out->kernel_lacks.v[m], v);
			if (!seen &&
			    !(out->kernel_lacks.v[out->kernel_lacks.n++] = run__strdup(out, v)))
				return -ENOMEM;
		}
	}
	return 0;
}

static int merge_head(struct run *out, const struct run *const *in, unsigned n)
{
	const struct run_counts *c[n];
	const uint64_t *u[n];
	const char *s[n];
	unsigned un[n], nf = 0;
	bool same = true, has_db_run = true, has_ho_run = true;
	int err;

	out->tool_version = SLOPROBE_VERSION;
	for (unsigned i = 0; i < n; i++)
		s[i] = in[i]->hostname;
	out->hostname = merge__join_distinct(out, s, n);
	for (unsigned i = 0; i < n; i++)
		s[i] = in[i]->kernel;
	out->kernel = merge__join_distinct(out, s, n);
	if ((err = merge_lacks(out, in, n)))
		return err;
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
		out->has_exit_map = in[0]->has_exit_map;
		out->exit_map = in[0]->exit_map;
		out->nexit_map = in[0]->nexit_map;
		out->exit_mapped = in[0]->exit_mapped;
	}

	/* Filters: union of the lists; a name filter only if all inputs agree. */
	for (unsigned i = 0; i < n; i++) {
		if (!in[i]->has_filters)
			continue;
		if (!out->has_filters) {
			out->filter_comm = in[i]->filter_comm;
			out->filter_cgroup = in[i]->filter_cgroup;
		}
		if (!merge__same_str(out->filter_comm, in[i]->filter_comm))
			out->filter_comm = NULL;
		if (!merge__same_str(out->filter_cgroup, in[i]->filter_cgroup))
			out->filter_cgroup = NULL;
		out->has_filters = true;
		u[nf] = in[i]->filter_pids;
		un[nf++] = in[i]->nfilter_pids;
	}
	if ((err = merge__union_u64(out, &out->filter_pids, &out->nfilter_pids, u, un, nf)))
		return err;
	nf = 0;
	for (unsigned i = 0; i < n; i++) {
		if (!in[i]->has_filters)
			continue;
		u[nf] = in[i]->filter_ports;
		un[nf++] = in[i]->nfilter_ports;
	}
	if ((err = merge__union_u64(out, &out->filter_ports, &out->nfilter_ports, u, un, nf)))
		return err;
	for (unsigned i = 0; i < n && !out->definitions; i++)
		if (in[i]->definitions)
			out->definitions = json_object_get(in[i]->definitions);

	for (unsigned i = 0; i < n; i++) {
		out->events_total += in[i]->events_total;
		out->events_dropped += in[i]->events_dropped;
		c[i] = &in[i]->events;
	}
	if ((err = merge__counts(out, &out->events, c, n, NULL)))
		return err;
	for (unsigned i = 0; i < n; i++)
		c[i] = &in[i]->connections;
	/* Peak concurrent connections is a high-water mark, not a sum. */
	if ((err = merge__counts(out, &out->connections, c, n, "peak")))
		return err;
	for (unsigned i = 0; i < n; i++)
		c[i] = &in[i]->http_parser;
	if ((err = merge__counts(out, &out->http_parser, c, n, NULL)))
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
		out->bpf_ho_run_ns += in[i]->bpf_ho_run_ns;
		out->bpf_ho_run_cnt += in[i]->bpf_ho_run_cnt;
		has_ho_run &= in[i]->has_bpf_ho_run;
	}
	out->has_bpf_run &= out->has_bpf;
	out->has_bpf_db_run = has_db_run && out->has_bpf_run;
	out->has_bpf_ho_run = has_ho_run && out->has_bpf_run;
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
		notes->timeline |= in[i]->has_timeline || (in[i]->has_tcp && in[i]->tcp.npoints);
		notes->slo |= in[i]->has_slo;
		notes->cache |= in[i]->has_cache;
	}
	out->nsources = n;
	/* start and end are those of the earliest and latest input (each has both) */
	if ((ret = merge_head(out, in, n)) || (ret = merge__endpoints(out, in, n, notes)) ||
	    (ret = merge__db(out, in, n, notes)) || (ret = merge__outbound(out, in, n)) ||
	    (ret = merge__tcp(out, in, n)) || (ret = merge__exemplars(out, in, n)))
		goto fail;
	merge__flag_times(out);
	return 0;
fail:
	snprintf(err, errsz, "%s", strerror(-ret));
	run__free(out);
	return ret;
}
