// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record/outagg.h"

/* An attempt remembered to find the retries among the next ones. */
struct attempt {
	uint64_t key; /* host, method and route; 0: a connect failure (no request) */
	uint64_t start, end;
	uint64_t req; /* the inbound request it was attributed to alone; 0 */
	struct outagg_dest *dest;
	uint32_t tid;
	uint32_t chain; /* retries before it in its chain */
	bool failed;
	bool unfinished; /* still unanswered when tracing ended */
	bool open;	 /* failed, and neither retried nor given up on yet */
};

/* An attempt to judge for retries, in the order attempts ended. */
struct outagg_wait {
	uint64_t ticket; /* 0: its request is known (x.req) */
	struct outagg_row *row;
	struct outagg_link *link;
	struct attempt x;
};

/* Caller x peer: the attempts that may be retried by the next ones. */
struct outagg_link {
	char caller[OUTAGG_CALLER_MAX];
	char peer[HTTP_CALL_PEER_MAX];
	struct attempt h[OUTAGG_HISTORY]; /* ring, oldest at head */
	unsigned head, n;
};

static uint64_t hash_str(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	/* The separator: ("ab", "c") and ("a", "bc") differ. */
	return (h ^ 0xff) * 0x100000001b3ull;
}

static uint64_t hash_of(const char *const *v, unsigned n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (unsigned i = 0; i < n; i++)
		h = hash_str(h, v[i]);
	return h;
}

int outagg__new(struct outagg **out, const struct outagg_opts *o)
{
	struct outagg *a = calloc(1, sizeof(*a));

	*out = NULL;
	if (!a)
		return -ENOMEM;
	if (o)
		a->o = *o;
	if (!a->o.max_rows)
		a->o.max_rows = OUTAGG_ROWS_DEFAULT;
	if (!a->o.retry_window_ns)
		a->o.retry_window_ns = OUTAGG_RETRY_WINDOW_NS;
	*out = a;
	return 0;
}

void outagg__free(struct outagg *a)
{
	if (!a)
		return;
	for (unsigned i = 0; i < a->nrows; i++) {
		free(a->rows[i]->connect);
		free(a->rows[i]->failure);
		free(a->rows[i]->win);
		free(a->rows[i]);
	}
	for (unsigned i = 0; i < a->ndests; i++) {
		free(a->dests[i]->backoff);
		free(a->dests[i]);
	}
	for (unsigned i = 0; i < a->nlinks; i++)
		free(a->links[i]);
	free(a->rows);
	free(a->dests);
	free(a->links);
	free(a->wait);
	u64map__free(&a->row_ix);
	u64map__free(&a->dest_ix);
	u64map__free(&a->link_ix);
	free(a);
}

/* Room for one more pointer in *v. */
static int grow(void ***v, unsigned n, unsigned *cap)
{
	void **nv;

	if (n < *cap)
		return 0;
	nv = realloc(*v, (*cap ? 2 * *cap : 16) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = *cap ? 2 * *cap : 16;
	return 0;
}

/*
 * The entry of id in ix whose strings match (same() says so), else NULL and in *id the id a
 * new entry takes: a collision of the 64-bit hash moves the newcomer on, never merges.
 */
static void *find(struct u64map *ix, uint64_t *id, bool (*same)(const void *p, const void *ctx),
		  const void *ctx)
{
	for (;;) {
		uint64_t *v = u64map__get(ix, *id);

		if (!v)
			return NULL;
		if (same((const void *)(uintptr_t)*v, ctx))
			return (void *)(uintptr_t)*v;
		*id = u64map__mix(*id + 1);
	}
}

static void copy(char *dst, size_t sz, const char *src)
{
	snprintf(dst, sz, "%s", src ? src : "");
}

struct names {
	const char *caller, *peer, *host, *method, *route;
};

static bool same_link(const void *p, const void *ctx)
{
	const struct outagg_link *l = p;
	const struct names *n = ctx;

	return !strncmp(l->caller, n->caller, sizeof(l->caller) - 1) &&
	       !strncmp(l->peer, n->peer, sizeof(l->peer) - 1);
}

static bool same_dest(const void *p, const void *ctx)
{
	const struct outagg_dest *d = p;
	const struct names *n = ctx;

	return !strncmp(d->caller, n->caller, sizeof(d->caller) - 1) &&
	       !strncmp(d->peer, n->peer, sizeof(d->peer) - 1) &&
	       !strncmp(d->host, n->host, sizeof(d->host) - 1);
}

static bool same_row(const void *p, const void *ctx)
{
	const struct outagg_row *r = p;
	const struct names *n = ctx;

	return same_dest(r->dest, ctx) && !strncmp(r->method, n->method, sizeof(r->method) - 1) &&
	       !strncmp(r->route, n->route, sizeof(r->route) - 1);
}

static struct outagg_link *link_get(struct outagg *a, const struct names *n)
{
	const char *v[] = { n->caller, n->peer };
	uint64_t id = hash_of(v, 2);
	struct outagg_link *l = find(&a->link_ix, &id, same_link, n);

	if (l)
		return l;
	if (grow((void ***)&a->links, a->nlinks, &a->cap_links) || !(l = calloc(1, sizeof(*l))))
		return NULL;
	if (u64map__put(&a->link_ix, id, (uintptr_t)l)) {
		free(l);
		return NULL;
	}
	copy(l->caller, sizeof(l->caller), n->caller);
	copy(l->peer, sizeof(l->peer), n->peer);
	a->links[a->nlinks++] = l;
	return l;
}

static struct outagg_dest *dest_get(struct outagg *a, const struct names *n, bool local)
{
	const char *v[] = { n->caller, n->peer, n->host };
	uint64_t id = hash_of(v, 3);
	struct outagg_dest *d = find(&a->dest_ix, &id, same_dest, n);

	if (d)
		return d;
	if (grow((void ***)&a->dests, a->ndests, &a->cap_dests) || !(d = calloc(1, sizeof(*d))))
		return NULL;
	if (u64map__put(&a->dest_ix, id, (uintptr_t)d)) {
		free(d);
		return NULL;
	}
	copy(d->caller, sizeof(d->caller), n->caller);
	copy(d->peer, sizeof(d->peer), n->peer);
	copy(d->host, sizeof(d->host), n->host);
	d->local = local;
	a->dests[a->ndests++] = d;
	return d;
}

/* NULL: the table is full (full set) or memory ran out. */
static struct outagg_row *row_get(struct outagg *a, const struct names *n, bool local, bool *full)
{
	const char *v[] = { n->caller, n->peer, n->host, n->method, n->route };
	uint64_t id = hash_of(v, 5);
	struct outagg_row *r = find(&a->row_ix, &id, same_row, n);
	struct outagg_dest *d;

	*full = false;
	if (r)
		return r;
	if (a->nrows >= a->o.max_rows) {
		*full = true;
		return NULL;
	}
	d = dest_get(a, n, local);
	if (!d || grow((void ***)&a->rows, a->nrows, &a->cap_rows) || !(r = calloc(1, sizeof(*r))))
		return NULL;
	if (u64map__put(&a->row_ix, id, (uintptr_t)r)) {
		free(r);
		return NULL;
	}
	r->id = id;
	r->dest = d;
	r->local = local;
	copy(r->caller, sizeof(r->caller), n->caller);
	copy(r->peer, sizeof(r->peer), n->peer);
	copy(r->host, sizeof(r->host), n->host);
	copy(r->method, sizeof(r->method), n->method);
	copy(r->route, sizeof(r->route), n->route);
	hist__init(&r->lat);
	a->rows[a->nrows++] = r;
	return r;
}

/* *h made on first use; false when memory ran out. */
static bool hist_add(struct hist **h, uint64_t ns)
{
	if (!*h) {
		*h = malloc(sizeof(**h));
		if (!*h)
			return false;
		hist__init(*h);
	}
	hist__add(*h, ns);
	return true;
}

static void status_add(struct outagg_row *r, unsigned code)
{
	int i;

	if (!code) {
		r->status_other++; /* a response whose status line was not captured */
		return;
	}
	if (code >= 400 && code < 500) {
		r->err4xx++;
		r->win_4xx++;
	} else if (code >= 500) {
		r->err5xx++;
		r->win_5xx++;
	}
	for (i = 0; i < OUTAGG_STATUS_SLOTS && r->status[i].code; i++)
		if (r->status[i].code == code)
			break;
	if (i == OUTAGG_STATUS_SLOTS) {
		r->status_other++;
		return;
	}
	r->status[i].code = code;
	r->status[i].count++;
}

static void row_add(struct outagg *a, struct outagg_row *r, const struct http_call *c)
{
	bool ok = true;

	r->count++;
	r->win_count++;
	if (c->flags & HTTP_CALL_UNFINISHED)
		r->unfinished++;
	if (c->flags & HTTP_CALL_LEN_UNKNOWN)
		r->len_unknown++;
	if (c->flags & HTTP_CALL_INCOMPLETE)
		r->incomplete++;
	if (c->flags & HTTP_CALL_PIPELINED)
		r->pipelined++;
	if (c->flags & HTTP_CALL_TARGET_CUT)
		r->target_cut++;
	if (c->connect_ns) {
		r->connects++;
		ok &= hist_add(&r->connect, c->connect_ns);
	}
	/* Every call is answered, failed or unfinished: count = the three added up. */
	if (c->fail > HTTP_CALL_OK && c->fail < HTTP_CALL_FAIL_NR) {
		r->fail[c->fail]++;
		r->win_failed++;
		ok &= hist_add(&r->failure, http_call__latency(c));
	} else if (!(c->flags & HTTP_CALL_UNFINISHED)) {
		r->answered++;
		r->win_answered++;
		status_add(r, c->status);
		hist__add(&r->lat, http_call__latency(c));
		ok &= hist_add(&r->win, http_call__latency(c));
	}
	if (!ok)
		a->st.nomem++;
}

static struct attempt *hist_at(struct outagg_link *l, unsigned i)
{
	return &l->h[(l->head + i) % OUTAGG_HISTORY];
}

/* A failed attempt will not be retried any more: its chain, if it had retries, failed. */
static void give_up(struct attempt *y)
{
	if (y->open && y->chain)
		y->dest->retry_exhausted++;
	y->open = false;
}

static bool key_match(const struct attempt *y, const struct attempt *x)
{
	return y->key == x->key || !y->key || !x->key;
}

/*
 * The failed attempt x repeats, if any: open, of a matching key, ended before x started and
 * within the window, not of another inbound request; the same thread's first, then the latest.
 * A thread that calls for another request has given up on its attempts of the one before.
 * Overlapping attempts of x's row and thread make x ambiguous (*amb): no match.
 */
static struct attempt *retried(struct outagg *a, struct outagg_link *l, const struct attempt *x,
			       bool *amb)
{
	struct attempt *best = NULL;

	*amb = false;
	for (unsigned i = 0; i < l->n; i++) {
		struct attempt *y = hist_at(l, i);

		if (y->tid == x->tid && y->key == x->key && y->key && y->start < x->end &&
		    x->start < y->end) {
			/* Calls in flight together: neither is known to repeat the other. */
			if (y->open || x->failed)
				*amb = true;
			y->open = false;
			continue;
		}
		if (!y->open)
			continue;
		if (x->start >= y->end && x->start - y->end > a->o.retry_window_ns) {
			give_up(y);
			continue;
		}
		if (y->tid == x->tid && y->req && x->req && y->req != x->req) {
			/* The thread serves another request now: its retries of y are over. */
			give_up(y);
			continue;
		}
		if (y->end > x->start || !key_match(y, x) || (y->req && x->req && y->req != x->req))
			continue;
		if (!best || (y->tid == x->tid && best->tid != x->tid) ||
		    ((y->tid == x->tid) == (best->tid == x->tid) && y->end > best->end))
			best = y;
	}
	return *amb ? NULL : best;
}

static void remember(struct outagg *a, struct outagg_link *l, const struct attempt *x)
{
	struct attempt *slot;

	if (l->n == OUTAGG_HISTORY) {
		slot = hist_at(l, 0);
		if (slot->open && x->start - slot->end <= a->o.retry_window_ns)
			a->st.history_evicted++;
		give_up(slot);
		l->head = (l->head + 1) % OUTAGG_HISTORY;
		l->n--;
	}
	slot = hist_at(l, l->n++);
	*slot = *x;
}

/* Is x, of row r, a retry of an earlier attempt? Then counted; x is remembered. */
static void judge(struct outagg *a, struct outagg_row *r, struct outagg_link *l, struct attempt x)
{
	struct outagg_dest *d = r->dest;
	bool unfinished = x.unfinished, amb;
	struct attempt *y;

	y = retried(a, l, &x, &amb);
	if (amb && x.failed)
		a->st.retry_ambiguous++;
	if (y) {
		x.chain = y->chain + 1;
		y->open = false;
		d->retries++;
		r->retries++;
		if (!hist_add(&d->backoff, x.start - y->end))
			a->st.nomem++;
		if (!x.failed && !unfinished)
			d->retry_success++;
	}
	x.open = x.failed && !amb;
	remember(a, l, &x);
}

static struct outagg_wait *wait_at(struct outagg *a, unsigned i)
{
	return &a->wait[(a->wait_head + i) % OUTAGG_WAIT_MAX];
}

/* Judges the attempts at the head of the FIFO whose request is known (all: force). */
static void wait_release(struct outagg *a, bool force)
{
	while (a->nwait) {
		struct outagg_wait *w = wait_at(a, 0);

		if (w->ticket && !force)
			break;
		judge(a, w->row, w->link, w->x);
		a->wait_head = (a->wait_head + 1) % OUTAGG_WAIT_MAX;
		a->nwait--;
	}
}

void outagg__decided(struct outagg *a, uint64_t ticket, uint64_t req)
{
	for (unsigned i = 0; i < a->nwait; i++) {
		struct outagg_wait *w = wait_at(a, i);

		if (w->ticket == ticket) {
			w->ticket = 0;
			w->x.req = req;
			break;
		}
	}
	wait_release(a, false);
}

/* x of row r: judged now, or queued behind attempts still waiting (ticket: it waits too). */
static void retries(struct outagg *a, struct outagg_row *r, const struct http_call *c,
		    const struct names *n, uint64_t req, uint64_t ticket)
{
	const char *v[] = { n->host, n->method, n->route };
	struct outagg_link *l = link_get(a, n);
	bool unfinished = c->flags & HTTP_CALL_UNFINISHED;
	struct attempt x = {
		.key = n->method[0] ? hash_of(v, 3) | 1 : 0,
		.start = c->ts_start,
		.end = c->ts_end > c->ts_start ? c->ts_end : c->ts_start,
		.req = req,
		.dest = r->dest,
		.tid = c->tid,
		.failed = !unfinished && http_call__failed(c),
		.unfinished = unfinished,
	};
	struct outagg_wait *w;

	r->dest->attempts++;
	r->dest->failed += x.failed;
	if (!l) {
		a->st.nomem++;
		return;
	}
	if (!ticket && !a->nwait) {
		judge(a, r, l, x);
		return;
	}
	if (!a->wait && !(a->wait = calloc(OUTAGG_WAIT_MAX, sizeof(*a->wait)))) {
		a->st.nomem++;
		judge(a, r, l, x);
		return;
	}
	if (a->nwait == OUTAGG_WAIT_MAX) {
		/* The oldest has waited longest: judged as it is, its request unknown. */
		a->st.wait_forced++;
		wait_at(a, 0)->ticket = 0;
		wait_release(a, false);
	}
	w = wait_at(a, a->nwait++);
	*w = (struct outagg_wait){ .ticket = ticket, .row = r, .link = l, .x = x };
}

static struct outagg_row *add(struct outagg *a, const struct http_call *c, const char *route,
			      uint64_t req, uint64_t ticket)
{
	bool local = c->flags & HTTP_CALL_LOCAL, full;
	bool request = !(c->flags & HTTP_CALL_NO_CONNECTION) && c->method && c->method[0];
	struct names n = {
		.caller = c->caller ? c->caller : "",
		.peer = c->peer ? c->peer : "",
		.host = c->host && request ? c->host : "",
		.method = request ? c->method : "",
		.route = request && route ? route : "",
	};
	struct outagg_row *r;

	a->st.calls++;
	r = row_get(a, &n, local, &full);
	if (!r) {
		if (full)
			a->st.rows_dropped++;
		else
			a->st.nomem++;
		return NULL;
	}
	r->tls |= !!(c->flags & HTTP_CALL_TLS);
	row_add(a, r, c);
	retries(a, r, c, &n, req, ticket);
	return r;
}

struct outagg_row *outagg__add(struct outagg *a, const struct http_call *c, const char *route,
			       uint64_t req)
{
	return add(a, c, route, req, 0);
}

struct outagg_row *outagg__add_waiting(struct outagg *a, const struct http_call *c,
				       const char *route, uint64_t ticket)
{
	return add(a, c, route, 0, ticket);
}

void outagg__roll(struct outagg *a, double t_s)
{
	for (unsigned i = 0; i < a->nrows; i++) {
		struct outagg_row *r = a->rows[i];
		struct hist *w = r->win && r->win->count ? r->win : NULL;

		r->last = (struct outagg_point){
			.t_s = t_s,
			.count = r->win_count,
			.answered = r->win_answered,
			.failed = r->win_failed,
			.err4xx = r->win_4xx,
			.err5xx = r->win_5xx,
			.p50_ns = w ? hist__percentile(w, 50) : 0,
			.p95_ns = w ? hist__percentile(w, 95) : 0,
			.p99_ns = w ? hist__percentile(w, 99) : 0,
		};
		/* 18 KiB cleared only where calls were counted: most rows are quiet most seconds */
		if (w)
			hist__init(w);
		r->win_count = r->win_answered = r->win_failed = r->win_4xx = r->win_5xx = 0;
	}
}

static int cmp_rows(const void *pa, const void *pb)
{
	const struct outagg_row *a = *(struct outagg_row *const *)pa;
	const struct outagg_row *b = *(struct outagg_row *const *)pb;
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
	const struct outagg_dest *a = *(struct outagg_dest *const *)pa;
	const struct outagg_dest *b = *(struct outagg_dest *const *)pb;
	int c;

	if (a->attempts != b->attempts)
		return a->attempts > b->attempts ? -1 : 1;
	if ((c = strcmp(a->caller, b->caller)) || (c = strcmp(a->peer, b->peer)))
		return c;
	return strcmp(a->host, b->host);
}

void outagg__finish(struct outagg *a)
{
	wait_release(a, true);
	for (unsigned i = 0; i < a->nlinks; i++)
		for (unsigned k = 0; k < a->links[i]->n; k++)
			give_up(hist_at(a->links[i], k));
	if (a->nrows)
		qsort(a->rows, a->nrows, sizeof(*a->rows), cmp_rows);
	if (a->ndests)
		qsort(a->dests, a->ndests, sizeof(*a->dests), cmp_dests);
}
