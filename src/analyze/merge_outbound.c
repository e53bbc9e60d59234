// SPDX-License-Identifier: GPL-2.0-only
/*
 * The outbound sections of several runs: call rows grouped by caller, peer, Host, method and
 * route, destinations by caller, peer and Host, counters added. Retries are counted within
 * each run (a retry never spans two recordings), so the merged counts are sums.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/merge.h"
#include "analyze/merge_priv.h"

/* A row with its key's last three strings joined: grouping keys have three strings. */
struct keyed {
	const void *item;
	const char *k[3];
	char *joined;
};

static void keyed_key(const void *item, const char *k[3])
{
	const struct keyed *x = item;

	memcpy(k, x->k, sizeof(x->k));
}

/* NULL when every input lacks it. */
static struct hist_sparse *hist_or_null(struct run *out, const struct hist_sparse *const *h,
					unsigned n, bool *nomem)
{
	const struct hist_sparse *v[n ? n : 1];
	unsigned k = 0;
	struct hist_sparse *s;

	for (unsigned i = 0; i < n; i++)
		if (h[i])
			v[k++] = h[i];
	if (!k)
		return NULL;
	s = merge__hist(out, v, k);
	*nomem |= !s;
	return s;
}

static int merge_call(struct run *out, struct run_out_call *c, const struct keyed *const *m,
		      unsigned n)
{
	const struct run_counts *st[n], *fl[n], *ex[n];
	const struct hist_sparse *h[n], *ch[n], *fh[n];
	bool nomem = false;
	int err;

	*c = *(const struct run_out_call *)m[0]->item;
	c->count = c->answered = c->err4xx = c->err5xx = c->retries = c->connects = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct run_out_call *x = m[i]->item;

		c->count += x->count;
		c->answered += x->answered;
		c->err4xx += x->err4xx;
		c->err5xx += x->err5xx;
		c->retries += x->retries;
		c->connects += x->connects;
		c->local |= x->local;
		c->tls |= x->tls;
		st[i] = &x->status;
		fl[i] = &x->failures;
		ex[i] = &x->extra;
		h[i] = x->hist;
		ch[i] = x->connect;
		fh[i] = x->failure;
	}
	if ((err = merge__counts(out, &c->status, st, n, NULL)) ||
	    (err = merge__counts(out, &c->failures, fl, n, NULL)) ||
	    (err = merge__counts(out, &c->extra, ex, n, NULL)))
		return err;
	c->hist = merge__hist(out, h, n);
	c->connect = hist_or_null(out, ch, n, &nomem);
	c->failure = hist_or_null(out, fh, n, &nomem);
	return !c->hist || nomem ? -ENOMEM : 0;
}

static int merge_dest(struct run *out, struct run_out_dest *d, const struct keyed *const *m,
		      unsigned n)
{
	const struct hist_sparse *h[n];
	bool nomem = false;

	*d = *(const struct run_out_dest *)m[0]->item;
	d->attempts = d->failed = d->retries = d->retry_success = d->retry_exhausted = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct run_out_dest *x = m[i]->item;

		d->attempts += x->attempts;
		d->failed += x->failed;
		d->retries += x->retries;
		d->retry_success += x->retry_success;
		d->retry_exhausted += x->retry_exhausted;
		d->local |= x->local;
		h[i] = x->backoff;
	}
	d->backoff = hist_or_null(out, h, n, &nomem);
	return nomem ? -ENOMEM : 0;
}

/*
 * Groups the rows of every input (calls: call true) and merges each group into out's array
 * at *dst (of *ndst rows). 0 or -ENOMEM.
 */
static int group(struct run *out, const struct run *const *in, unsigned n, bool call, void **dst,
		 unsigned *ndst)
{
	unsigned total = 0, k = 0, ng = 0, *grp = NULL, *first = NULL, *off = NULL;
	size_t sz = call ? sizeof(struct run_out_call) : sizeof(struct run_out_dest);
	const struct keyed **members = NULL;
	struct keyed *v = NULL;
	const void **items = NULL;
	int err = -ENOMEM;

	for (unsigned i = 0; i < n; i++)
		total += call ? in[i]->nouts : in[i]->nout_dests;
	v = calloc(total + 1, sizeof(*v));
	items = calloc(total + 1, sizeof(*items));
	grp = calloc(total + 1, sizeof(*grp));
	first = calloc(total + 1, sizeof(*first));
	off = calloc(total + 2, sizeof(*off));
	members = calloc(total + 1, sizeof(*members));
	*dst = run__alloc(out, (total + 1) * sz);
	if (!v || !items || !grp || !first || !off || !members || !*dst)
		goto out;
	for (unsigned i = 0; i < n; i++) {
		unsigned rows = call ? in[i]->nouts : in[i]->nout_dests;

		for (unsigned j = 0; j < rows; j++, k++) {
			const struct run_out_call *c = &in[i]->outs[call ? j : 0];
			const struct run_out_dest *d = &in[i]->out_dests[call ? 0 : j];

			v[k].item = call ? (const void *)c : (const void *)d;
			v[k].k[0] = call ? c->caller : d->caller;
			v[k].k[1] = call ? c->peer : d->peer;
			if (call && asprintf(&v[k].joined, "%s\n%s\n%s", c->host, c->method,
					     c->route) < 0) {
				v[k].joined = NULL;
				goto out;
			}
			v[k].k[2] = call ? v[k].joined : d->host;
			items[k] = &v[k];
		}
	}
	err = merge__group_by_key(items, total, keyed_key, grp, first, &ng, off,
				  (const void **)members);
	for (unsigned g = 0; g < ng && !err; g++) {
		if (call)
			err = merge_call(out, (struct run_out_call *)*dst + g, members + off[g],
					 off[g + 1] - off[g]);
		else
			err = merge_dest(out, (struct run_out_dest *)*dst + g, members + off[g],
					 off[g + 1] - off[g]);
	}
	*ndst = err ? 0 : ng;
out:
	for (unsigned i = 0; v && i < k; i++)
		free(v[i].joined);
	free(v);
	free(items);
	free(grp);
	free(first);
	free(off);
	free(members);
	return err;
}

static int cmp_calls(const void *pa, const void *pb)
{
	const struct run_out_call *a = pa, *b = pb;
	int c;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	if ((c = strcmp(a->caller, b->caller)) || (c = strcmp(a->peer, b->peer)) ||
	    (c = strcmp(a->host, b->host)) || (c = strcmp(a->method, b->method)))
		return c;
	return strcmp(a->route, b->route);
}

static int cmp_dests(const void *pa, const void *pb)
{
	const struct run_out_dest *a = pa, *b = pb;
	int c;

	if (a->attempts != b->attempts)
		return a->attempts > b->attempts ? -1 : 1;
	if ((c = strcmp(a->caller, b->caller)) || (c = strcmp(a->peer, b->peer)))
		return c;
	return strcmp(a->host, b->host);
}

int merge__outbound(struct run *out, const struct run *const *in, unsigned n)
{
	const struct run_counts *stats[n ? n : 1];
	unsigned ns = 0;
	int err;

	for (unsigned i = 0; i < n; i++)
		out->has_outbound |= in[i]->has_outbound;
	if (!out->has_outbound)
		return 0;
	if ((err = group(out, in, n, true, (void **)&out->outs, &out->nouts)) ||
	    (err = group(out, in, n, false, (void **)&out->out_dests, &out->nout_dests)))
		return err;
	qsort(out->outs, out->nouts, sizeof(*out->outs), cmp_calls);
	qsort(out->out_dests, out->nout_dests, sizeof(*out->out_dests), cmp_dests);
	for (unsigned i = 0; i < n; i++)
		if (in[i]->has_outbound_stats)
			stats[ns++] = &in[i]->outbound_stats;
	if (!ns)
		return 0;
	out->has_outbound_stats = true;
	/* The retry window is a setting, not a count. */
	if ((err = merge__counts(out, &out->outbound_stats, stats, ns, "retry_window_ms")))
		return err;
	for (unsigned x = 0; x < out->outbound_stats.n; x++)
		if (!strcmp(out->outbound_stats.v[x].key, "rows"))
			out->outbound_stats.v[x].n = out->nouts;
	return 0;
}
