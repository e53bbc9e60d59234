// SPDX-License-Identifier: GPL-2.0-only
/*
 * The loader's outbound section: the calls by caller, destination and route, the retries by
 * destination, and the counters, each row checked across its fields (every call answered,
 * failed or unfinished; one backoff per retry). Its own file, like the cache's: the section
 * and its checks, apart from the rest of the report.
 */
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "run/run_load.h"
#include "run/run_priv.h"
#include "run/runfile.h"

static const char *const out_failures[] = { "refused",	       "reset",	      "timeout",
					    "connect_timeout", "unreachable", "closed",
					    "connect_error" };
static const char *const out_extra[] = { "unfinished", "end_inferred", "incomplete", "pipelined",
					 "target_truncated" };

static bool out_failure_key(const char *k)
{
	for (size_t i = 0; i < sizeof(out_failures) / sizeof(out_failures[0]); i++)
		if (!strcmp(k, out_failures[i]))
			return true;
	return false;
}

/* {count, latency_ms, histogram} or null: a histogram of count values. */
static int load_hist_obj(struct ld *l, json_object *o, const char *w, const char *k,
			 struct hist_sparse **out)
{
	char ww[W_MAX];
	json_object *h;
	uint64_t n;
	int err = ld__get(l, o, w, k, T_OBJ, NULLOK, &h);

	*out = NULL;
	if (err || !h)
		return err;
	ld__wpath(ww, "%s.%s", w, k);
	if ((err = ld__get_u64(l, h, ww, "count", REQ, &n)) ||
	    (err = ld__get_latency(l, h, ww, "latency_ms", REQ, &(struct run_latency){ 0 },
				   NULL)) ||
	    (err = ld__get_hist(l, h, ww, out)))
		return err;
	if ((*out)->count != n)
		return ld__fail(l, ww, "count", "%llu, but the histogram holds %llu",
				(unsigned long long)n, (unsigned long long)(*out)->count);
	return 0;
}

/* Answered calls are counted by status, and the 4xx and 5xx among them. */
static int check_out_status(struct ld *l, const char *w, const struct run_out_call *c)
{
	unsigned __int128 all = 0;
	uint64_t c4 = 0, c5 = 0;
	char num[48];

	for (unsigned i = 0; i < c->status.n; i++) {
		all += c->status.v[i].n;
		if (c->status.v[i].key[0] == '4')
			c4 += c->status.v[i].n;
		else if (c->status.v[i].key[0] >= '5' && strcmp(c->status.v[i].key, "other"))
			c5 += c->status.v[i].n;
	}
	if (all != c->answered)
		return ld__fail(l, w, "status", "adds up to %s, but answered is %llu",
				ld__u128_str(all, num, sizeof(num)),
				(unsigned long long)c->answered);
	if (c->err4xx < c4 || c->err5xx < c5 || c->err4xx + c->err5xx > c->answered)
		return ld__fail(l, w, "errors", "4xx %llu and 5xx %llu do not match status",
				(unsigned long long)c->err4xx, (unsigned long long)c->err5xx);
	return 0;
}

static int load_out_row(struct ld *l, json_object *o, const char *w, struct run_out_call *c)
{
	unsigned __int128 sum;
	char ww[W_MAX], num[48];
	json_object *x;
	uint64_t n;
	int err;

	if (!o || !json_object_is_type(o, json_type_object))
		return ld__fail(l, w, NULL, "must be an object");
	if ((err = ld__get_str(l, o, w, "caller", REQ, &c->caller)) ||
	    (err = ld__get_str(l, o, w, "peer", REQ, &c->peer)) ||
	    (err = ld__get_str(l, o, w, "host", REQ, &c->host)) ||
	    (err = ld__get_bool(l, o, w, "local", REQ, &c->local)) ||
	    (err = ld__get_bool(l, o, w, "tls", 0, &c->tls)) ||
	    (err = ld__get_str(l, o, w, "method", REQ, &c->method)) ||
	    (err = ld__get_str(l, o, w, "route", REQ, &c->route)) ||
	    (err = ld__get_u64(l, o, w, "count", REQ, &c->count)) ||
	    (err = ld__get_u64(l, o, w, "answered", REQ, &c->answered)) ||
	    (err = ld__get_counts(l, o, w, "status", REQ, &c->status, ld__status_key)) ||
	    (err = ld__get(l, o, w, "errors", T_OBJ, REQ, &x)))
		return err;
	ld__wpath(ww, "%s.errors", w);
	if ((err = ld__get_u64(l, x, ww, "4xx", REQ, &c->err4xx)) ||
	    (err = ld__get_u64(l, x, ww, "5xx", REQ, &c->err5xx)) ||
	    (err = ld__get_counts(l, o, w, "failures", REQ, &c->failures, out_failure_key)) ||
	    (err = ld__get_u64(l, o, w, "retries", REQ, &c->retries)) ||
	    (err = ld__get_u64(l, o, w, "connects", REQ, &c->connects)))
		return err;
	c->extra.v =
		run__alloc(l->r, sizeof(out_extra) / sizeof(out_extra[0]) * sizeof(*c->extra.v));
	if (!c->extra.v)
		return ld__nomem(l);
	for (size_t i = 0; i < sizeof(out_extra) / sizeof(out_extra[0]); i++) {
		if ((err = ld__get_u64(l, o, w, out_extra[i], REQ, &n)))
			return err;
		c->extra.v[c->extra.n].key = out_extra[i];
		c->extra.v[c->extra.n++].n = n;
	}
	if ((err = ld__get_latency(l, o, w, "latency_ms", REQ, &(struct run_latency){ 0 }, NULL)) ||
	    (err = ld__get_hist(l, o, w, &c->hist)) ||
	    (err = load_hist_obj(l, o, w, "connect", &c->connect)) ||
	    (err = load_hist_obj(l, o, w, "failure", &c->failure)))
		return err;
	if (c->hist->count != c->answered)
		return ld__fail(l, w, "answered", "%llu, but the histogram holds %llu",
				(unsigned long long)c->answered,
				(unsigned long long)c->hist->count);
	if ((c->connect ? c->connect->count : 0) != c->connects)
		return ld__fail(l, w, "connects", "%llu, but connect holds %llu",
				(unsigned long long)c->connects,
				(unsigned long long)(c->connect ? c->connect->count : 0));
	/* Each call is answered, failed or unfinished. */
	sum = (unsigned __int128)c->answered + c->extra.v[0].n;
	for (unsigned i = 0; i < c->failures.n; i++)
		sum += c->failures.v[i].n;
	if (sum != c->count)
		return ld__fail(l, w, "count",
				"%llu, but answered, failures and unfinished add up to %s",
				(unsigned long long)c->count, ld__u128_str(sum, num, sizeof(num)));
	if ((c->failure ? c->failure->count : 0) != c->count - c->answered - c->extra.v[0].n)
		return ld__fail(l, w, "failure", "does not hold the %llu failed calls",
				(unsigned long long)(c->count - c->answered - c->extra.v[0].n));
	if (c->retries > c->count)
		return ld__fail(l, w, "retries", "%llu, but count is %llu",
				(unsigned long long)c->retries, (unsigned long long)c->count);
	return check_out_status(l, w, c);
}

static int load_out_dest(struct ld *l, json_object *o, const char *w, struct run_out_dest *d)
{
	int err;

	if (!o || !json_object_is_type(o, json_type_object))
		return ld__fail(l, w, NULL, "must be an object");
	if ((err = ld__get_str(l, o, w, "caller", REQ, &d->caller)) ||
	    (err = ld__get_str(l, o, w, "peer", REQ, &d->peer)) ||
	    (err = ld__get_str(l, o, w, "host", REQ, &d->host)) ||
	    (err = ld__get_bool(l, o, w, "local", REQ, &d->local)) ||
	    (err = ld__get_u64(l, o, w, "attempts", REQ, &d->attempts)) ||
	    (err = ld__get_u64(l, o, w, "failed", REQ, &d->failed)) ||
	    (err = ld__get_u64(l, o, w, "retries", REQ, &d->retries)) ||
	    (err = ld__get_u64(l, o, w, "retry_success", REQ, &d->retry_success)) ||
	    (err = ld__get_u64(l, o, w, "retry_exhausted", REQ, &d->retry_exhausted)) ||
	    (err = load_hist_obj(l, o, w, "backoff", &d->backoff)))
		return err;
	if (d->failed > d->attempts || d->retries > d->attempts)
		return ld__fail(l, w, "attempts", "%llu, fewer than failed or retries",
				(unsigned long long)d->attempts);
	/* A chain of retries ends once: in a success, or exhausted. */
	if ((unsigned __int128)d->retry_success + d->retry_exhausted > d->retries)
		return ld__fail(l, w, "retries", "%llu, fewer than the chains that ended",
				(unsigned long long)d->retries);
	if ((d->backoff ? d->backoff->count : 0) != d->retries)
		return ld__fail(l, w, "backoff", "does not hold one backoff per retry (%llu)",
				(unsigned long long)d->retries);
	return 0;
}

int ld__load_out_row(struct ld *l, json_object *x, const char *w, void *row)
{
	return load_out_row(l, x, w, row);
}

int ld__load_out_dest_row(struct ld *l, json_object *x, const char *w, void *row)
{
	return load_out_dest(l, x, w, row);
}

int ld__load_outbound(struct ld *l, json_object *root)
{
	struct run *r = l->r;
	json_object *o, *a;
	int err = ld__get(l, root, "", "outbound", T_OBJ, 0, &o);

	if (err || !o)
		return err;
	r->has_outbound = true;
	if ((err = ld__get(l, o, "outbound", "calls", T_ARR, REQ, &a)) ||
	    (err = ld__rows_of(l, S_OUT_CALLS, (void **)&r->outs, &r->nouts)) ||
	    (err = ld__get(l, o, "outbound", "destinations", T_ARR, REQ, &a)) ||
	    (err = ld__rows_of(l, S_OUT_DESTS, (void **)&r->out_dests, &r->nout_dests)))
		return err;
	if (!r->outs && !(r->outs = run__alloc(r, sizeof(*r->outs))))
		return ld__nomem(l);
	if (!r->out_dests && !(r->out_dests = run__alloc(r, sizeof(*r->out_dests))))
		return ld__nomem(l);
	if ((err = ld__get(l, o, "outbound", "stats", T_OBJ, 0, &a)) || !a)
		return err;
	r->has_outbound_stats = true;
	return ld__get_stats(l, a, "outbound.stats", &r->outbound_stats);
}
