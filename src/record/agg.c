// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "record/agg.h"
#include "record/exemplar.h"

#define SLOT_EMPTY UINT32_MAX

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t ep_hash(unsigned svc, const char *method, const char *route)
{
	uint64_t h = 0xcbf29ce484222325ull;

	h = fnv1a(h, &svc, sizeof(svc));
	h = fnv1a(h, method, strlen(method) + 1);
	return fnv1a(h, route, strlen(route));
}

static void copy_str(char *dst, size_t sz, const char *src)
{
	size_t n = strlen(src);

	if (n >= sz)
		n = sz - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int agg__init(struct agg *a, unsigned max_endpoints)
{
	memset(a, 0, sizeof(*a));
	a->max_eps = max_endpoints ? max_endpoints : AGG_ENDPOINTS_DEFAULT;
	a->tl_budget.left = TIMELINE_POINTS_DEFAULT;
	a->nslots = 64;
	a->slots = malloc(a->nslots * sizeof(*a->slots));
	if (!a->slots)
		return -ENOMEM;
	memset(a->slots, 0xff, a->nslots * sizeof(*a->slots));
	return 0;
}

void agg__free(struct agg *a)
{
	for (unsigned i = 0; i < a->neps; i++) {
		timeline__free(&a->eps[i]->tl);
		exemplar_ep__free(a->eps[i]->ex);
		free(a->eps[i]->slo.rows);
		free(a->eps[i]);
	}
	free(a->eps);
	free(a->slots);
	free(a->services);
	memset(a, 0, sizeof(*a));
}

int agg__service(struct agg *a, const char *name)
{
	for (unsigned i = 0; i < a->nservices; i++)
		if (!strcmp(a->services[i].name, name))
			return (int)i;
	if (a->nservices == a->cap_services) {
		unsigned cap = a->cap_services ? a->cap_services * 2 : 8;
		struct agg_service *s = realloc(a->services, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		a->services = s;
		a->cap_services = cap;
	}
	memset(&a->services[a->nservices], 0, sizeof(a->services[0]));
	copy_str(a->services[a->nservices].name, AGG_SERVICE_MAX, name);
	return (int)a->nservices++;
}

void agg__service_add_pid(struct agg *a, unsigned svc, uint32_t pid)
{
	struct agg_service *s = &a->services[svc];

	for (unsigned i = 0; i < s->npids; i++)
		if (s->pids[i] == pid)
			return;
	if (s->npids == AGG_PIDS_MAX) {
		s->pids_dropped++;
		return;
	}
	s->pids[s->npids++] = pid;
}

static int grow_slots(struct agg *a)
{
	unsigned n = a->nslots * 2, *slots = malloc(n * sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	memset(slots, 0xff, n * sizeof(*slots));
	for (unsigned i = 0; i < a->neps; i++) {
		const struct agg_endpoint *e = a->eps[i];
		unsigned j = ep_hash(e->service, e->method, e->route) & (n - 1);

		while (slots[j] != SLOT_EMPTY)
			j = (j + 1) & (n - 1);
		slots[j] = i;
	}
	free(a->slots);
	a->slots = slots;
	a->nslots = n;
	return 0;
}

static struct agg_endpoint *ep_get(struct agg *a, unsigned svc, const char *method,
				   const char *route)
{
	unsigned j = ep_hash(svc, method, route) & (a->nslots - 1);
	struct agg_endpoint *e;

	for (; a->slots[j] != SLOT_EMPTY; j = (j + 1) & (a->nslots - 1)) {
		e = a->eps[a->slots[j]];
		if (e->service == svc && !strcmp(e->method, method) && !strcmp(e->route, route))
			return e;
	}
	if (a->neps >= a->max_eps)
		return NULL;
	if (a->neps == a->cap_eps) {
		unsigned cap = a->cap_eps ? a->cap_eps * 2 : 16;
		struct agg_endpoint **eps = realloc(a->eps, cap * sizeof(*eps));

		if (!eps)
			return NULL;
		a->eps = eps;
		a->cap_eps = cap;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->service = svc;
	copy_str(e->method, sizeof(e->method), method);
	copy_str(e->route, sizeof(e->route), route);
	hist__init(&e->lat);
	hist__init(&e->ttfb);
	hist__init(&e->server);
	hist__init(&e->wait);
	hist__init(&e->win_wait);
	hist__init(&e->win);
	a->slots[j] = a->neps;
	a->eps[a->neps++] = e;
	if (a->neps * 10 > a->nslots * 7 && grow_slots(a)) {
		/* Keep the entry: lookups still work, only slower, until memory returns. */
	}
	return e;
}

static void count_status(struct agg_endpoint *e, unsigned code)
{
	for (int i = 0; i < AGG_STATUS_SLOTS; i++) {
		if (e->status[i].code == code) {
			e->status[i].count++;
			return;
		}
		if (!e->status[i].code) {
			e->status[i].code = (uint16_t)code;
			e->status[i].count = 1;
			return;
		}
	}
	e->status_other++;
}

struct agg_endpoint *agg__add(struct agg *a, const struct agg_req *r)
{
	struct agg_endpoint *e = ep_get(a, r->service, r->method, r->route);

	if (!e) {
		a->eps_dropped++;
		return NULL;
	}
	a->requests++;
	if (r->pipelined)
		e->pipelined++;
	if (r->target_cut)
		e->target_cut++;
	if (r->unfinished) {
		e->unfinished++;
		return e;
	}
	if (r->aborted || !r->status) {
		/* Unanswered: not a latency sample, but never silently gone. */
		e->aborted++;
		return e;
	}
	if (r->incomplete)
		e->incomplete++;
	if (r->len_unknown)
		e->len_unknown++;
	e->count++;
	e->win_count++;
	count_status(e, r->status);
	if (r->status >= 400 && r->status < 500) {
		e->err4xx++;
		e->win_4xx++;
	} else if (r->status >= 500) {
		e->err5xx++;
		e->win_5xx++;
	}
	if (r->t_end >= r->t_start) {
		hist__add(&e->lat, r->t_end - r->t_start);
		hist__add(&e->win, r->t_end - r->t_start);
	}
	if (r->t_first && r->t_first >= r->t_start)
		hist__add(&e->ttfb, r->t_first - r->t_start);
	if (r->t_read && r->t_end >= r->t_read)
		hist__add(&e->server, r->t_end - r->t_read);
	if (r->t_arrival && r->t_read >= r->t_arrival) {
		hist__add(&e->wait, r->t_read - r->t_arrival);
		hist__add(&e->win_wait, r->t_read - r->t_arrival);
	}
	if (!e->first_ns || r->t_start < e->first_ns)
		e->first_ns = r->t_start;
	if (r->t_end > e->last_ns)
		e->last_ns = r->t_end;
	return e;
}

void agg__roll(struct agg *a, double t_s, double interval_s)
{
	for (unsigned i = 0; i < a->neps; i++) {
		struct agg_endpoint *e = a->eps[i];

		timeline__add(&e->tl, &a->tl_budget, t_s, interval_s, &e->win, &e->win_wait,
			      e->win_5xx, e->win_4xx);

		e->rate = interval_s > 0 ? (double)(e->count - e->last_count) / interval_s : 0;
		e->last_count = e->count;
		hist__init(&e->win);
		hist__init(&e->win_wait);
		e->win_count = 0;
		e->win_4xx = 0;
		e->win_5xx = 0;
	}
}

static int cmp_ep(const void *pa, const void *pb, void *arg)
{
	const struct agg *a = arg;
	const struct agg_endpoint *x = *(struct agg_endpoint *const *)pa;
	const struct agg_endpoint *y = *(struct agg_endpoint *const *)pb;
	int c;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	c = strcmp(a->services[x->service].name, a->services[y->service].name);
	if (c)
		return c;
	c = strcmp(x->method, y->method);
	return c ? c : strcmp(x->route, y->route);
}

struct agg_endpoint **agg__sorted(const struct agg *a)
{
	struct agg_endpoint **v = malloc((a->neps ? a->neps : 1) * sizeof(*v));

	if (!v)
		return NULL;
	memcpy(v, a->eps, a->neps * sizeof(*v));
	qsort_r(v, a->neps, sizeof(*v), cmp_ep, (void *)a);
	return v;
}

void agg__add_dep(struct agg_endpoint *ep, enum agg_dep_kind kind, const struct agg_dep *d)
{
	struct agg_dep *e = &ep->dep[kind];

	e->reqs++;
	if (d->calls > 0)
		e->with++;
	e->calls += d->calls;
	e->ns += d->ns;
	if (d->calls > e->max_calls)
		e->max_calls = d->calls;
	e->errors += d->errors;
	e->hits += d->hits;
	e->misses += d->misses;
	e->repeat += d->repeat;
}

void agg__add_db(struct agg_endpoint *ep, double queries, double db_ns, int conf,
		 const struct agg_db_fp *top, unsigned ntop)
{
	ep->db_reqs++;
	ep->db_queries += queries;
	ep->db_ns += db_ns;
	if (queries > ep->db_max_queries)
		ep->db_max_queries = queries;
	if (conf >= 0 && conf < 4)
		ep->db_conf[conf]++;
	for (unsigned i = 0; i < ntop; i++) {
		unsigned j;

		for (j = 0; j < ep->db_ntop && ep->db_top[j].query_id != top[i].query_id; j++)
			;
		if (j == ep->db_ntop) {
			if (j == AGG_DB_TOP) {
				ep->db_top_other += top[i].n;
				continue;
			}
			ep->db_top[j].query_id = top[i].query_id;
			ep->db_ntop++;
		}
		ep->db_top[j].n += top[i].n;
		ep->db_top[j].ns += top[i].ns;
	}
}
