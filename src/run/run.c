// SPDX-License-Identifier: GPL-2.0-only
/*
 * The report model itself: the arena every string and array of a struct run lives in, lookups
 * by key, report times, and whether a run lost too many events. Everything that builds or reads
 * a run uses it; it parses and writes no JSON, so that lives in run_load*.c and run_write.c.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

#include "run/run_priv.h"
#include "run/runfile.h"
#include "run/slo.h"

#define ARENA_BLOCK (64 * 1024)

static struct run_arena *arena_block(size_t size)
{
	struct run_arena *a = malloc(sizeof(*a) + size);

	if (!a)
		return NULL;
	a->next = NULL;
	a->used = 0;
	a->size = size;
	return a;
}

void *run__alloc(struct run *r, size_t size)
{
	struct run_arena *a = r->arena, *b;
	void *p;

	size = (size + 15) & ~(size_t)15;
	if (!size)
		size = 16;
	if (a && a->size - a->used >= size) {
		p = a->data + a->used;
		a->used += size;
		return memset(p, 0, size);
	}
	/* Large requests get a block of their own behind the current one, which stays in use. */
	b = arena_block(size > ARENA_BLOCK / 4 ? size : ARENA_BLOCK);
	if (!b)
		return NULL;
	if (a && size > ARENA_BLOCK / 4) {
		b->next = a->next;
		a->next = b;
	} else {
		b->next = a;
		r->arena = b;
	}
	b->used = size;
	return memset(b->data, 0, size);
}

const char *const run_tcp_names[RUN_TCP_KIND_NR] = {
	[RUN_TCP_RETRANS] = "retransmits",
	[RUN_TCP_SYN_RETRANS] = "syn_retransmits",
	[RUN_TCP_RST_SENT] = "resets_sent",
	[RUN_TCP_RST_RECV] = "resets_received",
};

const char *const run_span_names[RUN_SPAN_NR] = {
	[RUN_SPAN_QUERY] = "query",
	[RUN_SPAN_CACHE] = "cache",
	[RUN_SPAN_HTTP] = "http",
};

const char *run__strdup(struct run *r, const char *s)
{
	size_t n;
	char *p;

	if (!s)
		return NULL;
	n = strlen(s) + 1;
	p = run__alloc(r, n);
	if (p)
		memcpy(p, s, n);
	return p;
}

int run__init(struct run *r)
{
	memset(r, 0, sizeof(*r));
	r->max_drop_pct = NAN;
	r->arena = arena_block(ARENA_BLOCK);
	return r->arena ? 0 : -ENOMEM;
}

void run__free(struct run *r)
{
	struct run_arena *a = r->arena, *next;

	for (; a; a = next) {
		next = a->next;
		free(a);
	}
	if (r->definitions)
		json_object_put(r->definitions);
	memset(r, 0, sizeof(*r));
}

uint64_t run__count(const struct run_counts *c, const char *key)
{
	for (unsigned i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].key, key))
			return c->v[i].n;
	return 0;
}

uint64_t run__status(const struct run_endpoint *e, unsigned code)
{
	char k[12];

	snprintf(k, sizeof(k), "%u", code);
	return run__count(&e->status, k);
}

uint64_t run__requests(const struct run *r)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < r->neps; i++)
		n += r->eps[i].count;
	return n;
}

const char *run__endpoint_name(const struct run_endpoint *e, char *buf, size_t sz)
{
	snprintf(buf, sz, "%s %s", e->method, e->route);
	return buf;
}

int run__find_endpoint(const struct run *r, const char *service, const char *method,
		       const char *route)
{
	for (unsigned i = 0; i < r->neps; i++) {
		const struct run_endpoint *e = &r->eps[i];

		if (!strcmp(e->service, service) && !strcmp(e->method, method) &&
		    !strcmp(e->route, route))
			return (int)i;
	}
	return -1;
}

const struct run_dbq *run__find_query(const struct run *r, const char *query_id)
{
	for (unsigned i = 0; query_id && i < r->ndbqs; i++)
		if (!strcmp(r->dbqs[i].query_id, query_id))
			return &r->dbqs[i];
	return NULL;
}

double run__cache_hit_ratio(const struct run *r, uint64_t *hits, uint64_t *keys)
{
	uint64_t h = 0, k = 0;

	for (unsigned i = 0; i < r->cache.nrows; i++) {
		h += r->cache.rows[i].hits;
		k += r->cache.rows[i].hits + r->cache.rows[i].misses;
	}
	if (hits)
		*hits = h;
	if (keys)
		*keys = k;
	return k ? (double)h / k : -1;
}

int run__parse_time(const char *s, int64_t *ms)
{
	struct tm tm = { 0 };
	const char *p;
	int frac = 0, digits = 0;

	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return -EINVAL;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 3)
				frac = frac * 10 + (*p - '0');
		if (!digits)
			return -EINVAL;
		for (int i = digits; i < 3; i++)
			frac *= 10;
	}
	if (strcmp(p, "Z"))
		return -EINVAL;
	*ms = (int64_t)timegm(&tm) * 1000 + frac;
	return 0;
}

void run__format_time(int64_t ms, char *buf, size_t sz)
{
	time_t sec = (time_t)(ms / 1000);
	int frac = (int)(ms % 1000);
	struct tm tm;
	char day[24];

	if (frac < 0) {
		frac += 1000;
		sec--;
	}
	gmtime_r(&sec, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, sz, "%.19s.%03dZ", day, frac);
}

bool run__incomplete(const struct run *r)
{
	double max_pct = isnan(r->max_drop_pct) ? SLO_MAX_DROP_PCT : r->max_drop_pct;

	return slo__data_incomplete(r->events_dropped, r->events_total, max_pct);
}

const char *run__exit_map_str(const struct run *r, char *buf, size_t sz)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < r->nexit_map && n < sz; i++)
		n += (size_t)snprintf(buf + n, sz - n, "%s%lld=%s", i ? "," : "",
				      (long long)r->exit_map[i].status, r->exit_map[i].as);
	return buf;
}
