// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record/cacheagg.h"

#define LARGE_VALUE_DEFAULT  (100 * 1024)
#define BIG_ELEMENTS_DEFAULT 1000
#define REPEAT_MIN_DEFAULT   2
#define LOW_HIT_DEFAULT	     0.5

static const char *const flag_names[] = {
	[CACHEAGG_FLAG_REPEAT_READ] = "repeat_read",
	[CACHEAGG_FLAG_NO_TTL] = "no_ttl",
	[CACHEAGG_FLAG_SCAN_ALL] = "scan_all",
	[CACHEAGG_FLAG_LARGE_VALUE] = "large_value",
	[CACHEAGG_FLAG_LOW_HIT_RATIO] = "low_hit_ratio",
};

const char *cacheagg__flag_name(int kind)
{
	if (kind <= 0 || kind >= (int)(sizeof(flag_names) / sizeof(flag_names[0])))
		return "?";
	return flag_names[kind];
}

/* FNV-1a's offset basis: no seed of ours, so a row's id is the same in every run and host. */
#define FNV_BASIS 0xcbf29ce484222325ull

/* FNV-1a of s and its end. */
static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	/* The terminator too: ("ab", "c") and ("a", "bc") differ. */
	h ^= 0xff;
	return h * 0x100000001b3ull;
}

static uint64_t pair_hash(const char *client, const char *server)
{
	return fnv1a(fnv1a(FNV_BASIS, client), server);
}

struct cacheagg *cacheagg__new(const struct cacheagg_opts *o)
{
	struct cacheagg *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	if (o)
		a->o = *o;
	if (!a->o.max_rows)
		a->o.max_rows = CACHEAGG_ROWS_DEFAULT;
	if (!a->o.large_value_bytes)
		a->o.large_value_bytes = LARGE_VALUE_DEFAULT;
	if (!a->o.big_elements)
		a->o.big_elements = BIG_ELEMENTS_DEFAULT;
	if (!a->o.repeat_min)
		a->o.repeat_min = REPEAT_MIN_DEFAULT;
	if (!a->o.low_hit_ratio)
		a->o.low_hit_ratio = LOW_HIT_DEFAULT;
	a->tl_budget.left = TIMELINE_POINTS_DEFAULT;
	hist__init(&a->win);
	/* Room for every key from the start: puts into the indexes cannot fail. */
	a->repeats = calloc(CACHEAGG_REPEATS_MAX, sizeof(*a->repeats));
	if (!a->repeats || u64map__reserve(&a->index, a->o.max_rows) ||
	    u64map__reserve(&a->client_index, CACHEAGG_CLIENTS_MAX) ||
	    u64map__reserve(&a->repeat_index, CACHEAGG_REPEATS_MAX)) {
		cacheagg__free(a);
		return NULL;
	}
	return a;
}

void cacheagg__free(struct cacheagg *a)
{
	if (!a)
		return;
	for (unsigned i = 0; i < a->nrows; i++) {
		free(a->rows[i]->raw_key);
		free(a->rows[i]->slo.rows);
		free(a->rows[i]);
	}
	free(a->rows);
	free(a->repeats);
	free(a->points);
	u64map__free(&a->index);
	u64map__free(&a->client_index);
	u64map__free(&a->repeat_index);
	free(a);
}

struct cacheagg_row *cacheagg__find(const struct cacheagg *a, uint64_t row_id)
{
	uint64_t *i = u64map__get(&a->index, row_id);

	return i ? a->rows[*i] : NULL;
}

static bool row_is(const struct cacheagg_row *r, const char *client, const char *server,
		   const char *verb, const char *pattern)
{
	return !strcmp(r->client, client) && !strcmp(r->server, server) && !strcmp(r->verb, verb) &&
	       !strcmp(r->pattern, pattern);
}

/*
 * The row of (client, server, verb, pattern), pair: pair_hash(client, server); NULL when the
 * table is full or memory is out.
 */
static struct cacheagg_row *row_get(struct cacheagg *a, const struct cache_op *op,
				    const char *client, const char *server, uint64_t pair)
{
	uint64_t id = fnv1a(fnv1a(pair, op->verb), op->pattern);
	struct cacheagg_row *r = cacheagg__find(a, id);

	if (r) {
		/* Two rows with one 64-bit id: the second is counted as dropped, never mixed in. */
		if (!row_is(r, client, server, op->verb, op->pattern)) {
			a->rows_dropped++;
			return NULL;
		}
		return r;
	}
	if (a->nrows >= a->o.max_rows) {
		a->rows_dropped++;
		return NULL;
	}
	if (a->nrows == a->cap) {
		unsigned cap = a->cap ? a->cap * 2 : 64;
		struct cacheagg_row **n = realloc(a->rows, cap * sizeof(*n));

		if (!n) {
			a->rows_dropped++;
			return NULL;
		}
		a->rows = n;
		a->cap = cap;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		a->rows_dropped++;
		return NULL;
	}
	r->id = id;
	snprintf(r->client, sizeof(r->client), "%s", client);
	snprintf(r->server, sizeof(r->server), "%s", server);
	snprintf(r->verb, sizeof(r->verb), "%s", op->verb);
	snprintf(r->pattern, sizeof(r->pattern), "%s", op->pattern);
	r->max_elements = -1;
	hist__init(&r->lat);
	u64map__put(&a->index, id, a->nrows);
	a->rows[a->nrows++] = r;
	return r;
}

/* An error code as Redis writes them (ERR, WRONGTYPE, MOVED): anything else may be data. */
static bool error_code(const char *w)
{
	if (!*w)
		return false;
	for (; *w; w++)
		if (!((*w >= 'A' && *w <= 'Z') || (*w >= '0' && *w <= '9') || *w == '_'))
			return false;
	return true;
}

static void count_error(struct cacheagg_row *r, const char *word)
{
	int i;

	if (!error_code(word)) {
		r->errs_other++;
		return;
	}
	for (i = 0; i < CACHEAGG_ERRS && r->errs[i].word[0]; i++) {
		if (!strcmp(r->errs[i].word, word)) {
			r->errs[i].count++;
			return;
		}
	}
	if (i == CACHEAGG_ERRS) {
		r->errs_other++;
		return;
	}
	snprintf(r->errs[i].word, sizeof(r->errs[i].word), "%s", word);
	r->errs[i].count = 1;
}

static struct cacheagg_client *client_get(struct cacheagg *a, const char *client,
					  const char *server, uint64_t h)
{
	uint64_t *i = u64map__get(&a->client_index, h);
	struct cacheagg_client *c;

	if (i) {
		c = &a->clients[*i];
		return !strcmp(c->client, client) && !strcmp(c->server, server) ? c : NULL;
	}
	if (a->nclients == CACHEAGG_CLIENTS_MAX)
		return NULL;
	c = &a->clients[a->nclients];
	snprintf(c->client, sizeof(c->client), "%s", client);
	snprintf(c->server, sizeof(c->server), "%s", server);
	u64map__put(&a->client_index, h, a->nclients++);
	return c;
}

struct cacheagg_row *cacheagg__add(struct cacheagg *a, const struct cache_op *op,
				   const char *client, const char *server)
{
	struct cacheagg_client *c;
	struct cacheagg_row *r;
	uint64_t lat, pair;

	client = client ? client : "";
	server = server ? server : "";
	pair = pair_hash(client, server);
	a->commands++;
	c = client_get(a, client, server, pair);
	if (c)
		c->commands++;
	else
		a->clients_dropped++;
	r = row_get(a, op, client, server, pair);
	if (!r)
		return NULL;
	if (a->o.raw_keys && op->raw_key && !r->raw_key)
		r->raw_key = strdup(op->raw_key);
	r->req_bytes += op->req_bytes;
	if (op->flags & CACHE_OP_ABORTED) {
		/* No reply: no latency, no hit or miss; never silently gone either. */
		r->aborted++;
		return r;
	}
	lat = cache_op__latency(op);
	r->count++;
	r->win_count++;
	hist__add(&r->lat, lat);
	hist__add(&a->win, lat);
	r->reply_bytes += op->reply_bytes;
	if (op->flags & CACHE_OP_APPROX)
		r->approx++;
	if (op->flags & CACHE_OP_PIPELINED)
		r->pipelined++;
	if (op->flags & CACHE_OP_IN_TX)
		r->in_tx++;
	if (op->flags & CACHE_OP_ERROR) {
		r->errors++;
		r->win_errors++;
		a->win_errors++;
		count_error(r, op->err);
	}
	if (op->flags & CACHE_OP_READ) {
		r->reads++;
		r->hits += op->hits;
		r->misses += op->misses;
		r->win_hits += op->hits;
		r->win_misses += op->misses;
		a->win_hits += op->hits;
		a->win_misses += op->misses;
	}
	if (op->flags & CACHE_OP_WRITE)
		r->writes++;
	if (op->flags & CACHE_OP_NO_TTL)
		r->no_ttl++;
	if (op->flags & CACHE_OP_SCAN_ALL) {
		r->scan_all++;
		if (op->elements > a->o.big_elements)
			r->scan_big++;
		if (op->elements > r->max_elements)
			r->max_elements = op->elements;
	}
	if (op->value_bytes > r->max_value)
		r->max_value = op->value_bytes;
	if (op->value_bytes > a->o.large_value_bytes)
		r->large_values++;
	return r;
}

/* The pair's connection stats, for an open or a close; NULL (counted) when the table is full. */
static struct cacheagg_client *conn_pair(struct cacheagg *a, const char *client, const char *server)
{
	struct cacheagg_client *c;

	client = client ? client : "";
	server = server ? server : "";
	c = client_get(a, client, server, pair_hash(client, server));
	if (!c)
		a->clients_dropped++;
	return c;
}

void cacheagg__conn_open(struct cacheagg *a, const char *client, const char *server, uint64_t ts)
{
	struct cacheagg_client *c = conn_pair(a, client, server);

	if (!c)
		return;
	c->opened++;
	if (++c->live > c->peak)
		c->peak = c->live;
}

void cacheagg__conn_close(struct cacheagg *a, const char *client, const char *server, uint64_t ts)
{
	struct cacheagg_client *c = conn_pair(a, client, server);

	if (!c)
		return;
	c->closed++;
	/* A connection opened before tracing started closes without having been counted live. */
	if (c->live)
		c->live--;
}

static uint64_t repeat_key(uint64_t row_id, const char *endpoint)
{
	return u64map__mix(row_id) ^ fnv1a(FNV_BASIS, endpoint);
}

void cacheagg__repeat(struct cacheagg *a, uint64_t row_id, const char *endpoint, unsigned n)
{
	uint64_t k, *i;
	struct cacheagg_repeat *p;

	if (n < a->o.repeat_min)
		return;
	endpoint = endpoint ? endpoint : "";
	k = repeat_key(row_id, endpoint);
	i = u64map__get(&a->repeat_index, k);
	if (i) {
		p = &a->repeats[*i];
		if (p->row_id != row_id || strcmp(p->endpoint, endpoint)) {
			a->repeats_dropped++;
			return;
		}
	} else {
		if (a->nrepeats == CACHEAGG_REPEATS_MAX) {
			a->repeats_dropped++;
			return;
		}
		p = &a->repeats[a->nrepeats];
		p->row_id = row_id;
		snprintf(p->endpoint, sizeof(p->endpoint), "%s", endpoint);
		u64map__put(&a->repeat_index, k, a->nrepeats++);
	}
	p->requests++;
	p->reads += n;
	if (n > p->max)
		p->max = n;
}

double cacheagg__hit_ratio(const struct cacheagg *a, const char *pattern)
{
	uint64_t hits = 0, keys = 0;

	for (unsigned i = 0; i < a->nrows; i++) {
		const struct cacheagg_row *r = a->rows[i];

		if (pattern && strcmp(r->pattern, pattern))
			continue;
		hits += r->hits;
		keys += r->hits + r->misses;
	}
	return keys ? (double)hits / keys : -1;
}

/* The interval's point, within the budget of points (counted when beyond it). */
static void add_point(struct cacheagg *a, double t_s, double interval_s)
{
	struct cacheagg_point *p;

	if (!a->tl_budget.left) {
		a->tl_budget.dropped++;
		return;
	}
	if (a->npoints == a->cap_points) {
		unsigned cap = a->cap_points ? a->cap_points * 2 : 64;

		p = realloc(a->points, cap * sizeof(*p));
		if (!p) {
			a->tl_budget.dropped++;
			return;
		}
		a->points = p;
		a->cap_points = cap;
	}
	a->tl_budget.left--;
	p = &a->points[a->npoints++];
	p->t_s = t_s;
	p->interval_s = interval_s;
	p->count = a->win.count;
	p->errors = a->win_errors;
	p->hits = a->win_hits;
	p->misses = a->win_misses;
	p->p50_ns = hist__percentile(&a->win, 50);
	p->p95_ns = hist__percentile(&a->win, 95);
	p->p99_ns = hist__percentile(&a->win, 99);
}

void cacheagg__roll(struct cacheagg *a, double t_s, double interval_s)
{
	for (unsigned i = 0; i < a->nrows; i++) {
		struct cacheagg_row *r = a->rows[i];

		r->rate = interval_s > 0 ? (r->count - r->last_count) / interval_s : 0;
		r->last_count = r->count;
		r->win_count = r->win_hits = r->win_misses = r->win_errors = 0;
	}
	add_point(a, t_s, interval_s);
	hist__init(&a->win);
	a->win_hits = a->win_misses = a->win_errors = 0;
}

static void __attribute__((format(printf, 6, 7)))
flag(struct cacheagg *a, int kind, const struct cacheagg_row *r, const char *endpoint,
     uint64_t count, const char *fmt, ...)
{
	struct cacheagg_flag *f;
	va_list ap;

	if (a->nflags == CACHEAGG_FLAGS_MAX) {
		a->flags_dropped++;
		return;
	}
	f = &a->flags[a->nflags++];
	f->kind = kind;
	f->row_id = r->id;
	f->count = count;
	snprintf(f->endpoint, sizeof(f->endpoint), "%s", endpoint);
	va_start(ap, fmt);
	vsnprintf(f->evidence, sizeof(f->evidence), fmt, ap);
	va_end(ap);
}

static void check_repeats(struct cacheagg *a)
{
	for (unsigned i = 0; i < a->nrepeats; i++) {
		const struct cacheagg_repeat *p = &a->repeats[i];
		const struct cacheagg_row *r = cacheagg__find(a, p->row_id);

		if (!r)
			continue;
		flag(a, CACHEAGG_FLAG_REPEAT_READ, r, p->endpoint, p->requests,
		     "%llu request%s read one key of this pattern %.1f times each on average (up "
		     "to %u): read it once per request (a per-request memo), or fetch the keys "
		     "together (MGET, pipelining)",
		     (unsigned long long)p->requests, p->requests == 1 ? "" : "s",
		     (double)p->reads / p->requests, p->max);
	}
}

static int cmp_row(const void *pa, const void *pb)
{
	const struct cacheagg_row *x = *(const struct cacheagg_row *const *)pa;
	const struct cacheagg_row *y = *(const struct cacheagg_row *const *)pb;
	int c;

	if (x->lat.sum != y->lat.sum)
		return x->lat.sum > y->lat.sum ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	if ((c = strcmp(x->verb, y->verb)) || (c = strcmp(x->pattern, y->pattern)) ||
	    (c = strcmp(x->client, y->client)))
		return c;
	return strcmp(x->server, y->server);
}

/* Commands that give keys a TTL after a write without one. */
static bool expire_verb(const char *v)
{
	return !strcmp(v, "EXPIRE") || !strcmp(v, "PEXPIRE") || !strcmp(v, "EXPIREAT") ||
	       !strcmp(v, "PEXPIREAT");
}

static int cmp_server_pattern(const void *pa, const void *pb)
{
	const struct cacheagg_row *x = *(const struct cacheagg_row *const *)pa;
	const struct cacheagg_row *y = *(const struct cacheagg_row *const *)pb;
	int c = strcmp(x->server, y->server);

	c = c ? c : strcmp(x->pattern, y->pattern);
	/* Then the table's order: which row of a pattern a flag names does not vary. */
	return c ? c : cmp_row(pa, pb);
}

/*
 * The flags of a key pattern on one server, whatever the client and command: writes without a
 * TTL that no EXPIRE follows, and a hit ratio under the threshold over enough keys read.
 */
static void check_pattern(struct cacheagg *a, struct cacheagg_row **g, unsigned n)
{
	const struct cacheagg_row *w = NULL, *rd = NULL;
	uint64_t writes = 0, no_ttl = 0, expires = 0, hits = 0, keys = 0;
	double ratio;

	for (unsigned i = 0; i < n; i++) {
		const struct cacheagg_row *r = g[i];

		writes += r->writes;
		no_ttl += r->no_ttl;
		if (expire_verb(r->verb))
			expires += r->count;
		if (r->no_ttl && (!w || r->no_ttl > w->no_ttl))
			w = r;
		hits += r->hits;
		keys += r->hits + r->misses;
		if (r->hits + r->misses && (!rd || r->hits + r->misses > rd->hits + rd->misses))
			rd = r;
	}
	if (w && no_ttl > expires) {
		char ex[48] = "";

		if (expires)
			snprintf(ex, sizeof(ex), " and EXPIRE ran %llu time%s",
				 (unsigned long long)expires, expires == 1 ? "" : "s");
		flag(a, CACHEAGG_FLAG_NO_TTL, w, "", no_ttl,
		     "%llu of %llu write%s set no TTL%s: keys of this pattern never expire; give "
		     "them one (SET ... EX, or EXPIRE)",
		     (unsigned long long)no_ttl, (unsigned long long)writes, writes == 1 ? "" : "s",
		     ex);
	}
	if (!rd || keys < CACHEAGG_LOW_HIT_READS)
		return;
	ratio = (double)hits / keys;
	if (ratio < a->o.low_hit_ratio)
		flag(a, CACHEAGG_FLAG_LOW_HIT_RATIO, rd, "", keys,
		     "hit ratio %.1f %% over %llu keys read (%llu misses), under %.0f %%: "
		     "most reads go on to the slower source; check the TTL and what the key "
		     "is made of, or whether caching this pays",
		     100 * ratio, (unsigned long long)keys, (unsigned long long)(keys - hits),
		     100 * a->o.low_hit_ratio);
}

static void check_row(struct cacheagg *a, const struct cacheagg_row *r)
{
	if (!strcmp(r->verb, "KEYS") && r->count + r->aborted)
		flag(a, CACHEAGG_FLAG_SCAN_ALL, r, "", r->count + r->aborted,
		     "KEYS ran %llu time%s: it walks every key while the server serves "
		     "nothing else; iterate with SCAN, or keep the keys in a set",
		     (unsigned long long)(r->count + r->aborted),
		     r->count + r->aborted == 1 ? "" : "s");
	else if (r->scan_big)
		flag(a, CACHEAGG_FLAG_SCAN_ALL, r, "", r->scan_big,
		     "%llu of %llu whole-structure reads returned more than %lld elements (up to "
		     "%lld): each reads and sends all of it; page it (SSCAN, HSCAN, LRANGE with "
		     "bounds) or keep it smaller",
		     (unsigned long long)r->scan_big, (unsigned long long)r->scan_all,
		     (long long)a->o.big_elements, (long long)r->max_elements);
	if (r->large_values)
		flag(a, CACHEAGG_FLAG_LARGE_VALUE, r, "", r->large_values,
		     "%llu of %llu commands carried a value over %llu bytes (largest %llu): the "
		     "server's one thread copies it meanwhile; split it (a hash, several keys) or "
		     "compress it",
		     (unsigned long long)r->large_values, (unsigned long long)r->count,
		     (unsigned long long)a->o.large_value_bytes, (unsigned long long)r->max_value);
}

void cacheagg__finish(struct cacheagg *a, double duration_s)
{
	struct cacheagg_row **g;
	unsigned start = 0;

	qsort(a->rows, a->nrows, sizeof(*a->rows), cmp_row);
	for (unsigned i = 0; i < a->nrows; i++)
		u64map__put(&a->index, a->rows[i]->id, i);
	a->nflags = 0;
	a->flags_dropped = 0;
	check_repeats(a);
	for (unsigned i = 0; i < a->nrows; i++)
		check_row(a, a->rows[i]);
	if (!a->nrows)
		return;
	g = malloc(a->nrows * sizeof(*g));
	if (!g) {
		/* The pattern flags cannot be computed: say how many might be missing. */
		a->flags_dropped += a->nrows;
		return;
	}
	memcpy(g, a->rows, a->nrows * sizeof(*g));
	qsort(g, a->nrows, sizeof(*g), cmp_server_pattern);
	for (unsigned i = 1; i <= a->nrows; i++) {
		if (i < a->nrows && !strcmp(g[i]->server, g[start]->server) &&
		    !strcmp(g[i]->pattern, g[start]->pattern))
			continue;
		if (g[start]->pattern[0])
			check_pattern(a, g + start, i - start);
		start = i;
	}
	free(g);
}
