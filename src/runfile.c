// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

#include "file.h"
#include "histjson.h"
#include "json.h"
#include "slo.h"
#include "runfile.h"

#define ARENA_BLOCK (64 * 1024)
#define MAX_INPUT   (1u << 30) /* a report beyond 1 GiB is not one we wrote */
#define W_MAX	    192	       /* longest field path in messages */
#define JSON_DEPTH  64

struct run_arena {
	struct run_arena *next;
	size_t used, size;
	_Alignas(16) unsigned char data[];
};

static struct run_arena *arena__block(size_t size)
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
	b = arena__block(size > ARENA_BLOCK / 4 ? size : ARENA_BLOCK);
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
	r->arena = arena__block(ARENA_BLOCK);
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

const struct run_dbq *run__find_query(const struct run *r, const char *query_id)
{
	for (unsigned i = 0; query_id && i < r->ndbqs; i++)
		if (!strcmp(r->dbqs[i].query_id, query_id))
			return &r->dbqs[i];
	return NULL;
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

/* Loader */

struct ld {
	struct run *r;
	char *err;
	size_t errsz;
};

enum { REQ = 1, NULLOK = 2 };

enum vtype { T_ANY, T_STR, T_INT, T_NUM, T_BOOL, T_OBJ, T_ARR };

static const char *const type_names[] = {
	[T_ANY] = "a value",	[T_STR] = "a string",  [T_INT] = "an integer", [T_NUM] = "a number",
	[T_BOOL] = "a boolean", [T_OBJ] = "an object", [T_ARR] = "an array",
};

static int __attribute__((format(printf, 4, 5)))
fail(struct ld *l, const char *w, const char *k, const char *fmt, ...)
{
	char msg[RUNFILE_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (k && *w)
		snprintf(l->err, l->errsz, "%s.%s: %s", w, k, msg);
	else if (k || *w)
		snprintf(l->err, l->errsz, "%s: %s", k ? k : w, msg);
	else
		snprintf(l->err, l->errsz, "%s", msg);
	return -EINVAL;
}

/* A field path for messages; paths longer than W_MAX are cut, which only shortens a message. */
static void __attribute__((format(printf, 2, 3))) wpath(char *dst, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, W_MAX, fmt, ap);
	va_end(ap);
}

static int nomem(struct ld *l)
{
	snprintf(l->err, l->errsz, "out of memory");
	return -ENOMEM;
}

static bool is_type(json_object *o, enum vtype t)
{
	switch (t) {
	case T_STR:
		return json_object_is_type(o, json_type_string);
	case T_INT:
		return json_object_is_type(o, json_type_int);
	case T_NUM:
		return json_object_is_type(o, json_type_int) ||
		       json_object_is_type(o, json_type_double);
	case T_BOOL:
		return json_object_is_type(o, json_type_boolean);
	case T_OBJ:
		return json_object_is_type(o, json_type_object);
	case T_ARR:
		return json_object_is_type(o, json_type_array);
	default:
		return true;
	}
}

/* Member k of o checked against t; *out NULL when absent (or null and NULLOK). */
static int get(struct ld *l, json_object *o, const char *w, const char *k, enum vtype t,
	       unsigned fl, json_object **out)
{
	json_object *v = NULL;

	*out = NULL;
	if (!json_object_object_get_ex(o, k, &v)) {
		if (fl & REQ)
			return fail(l, w, k, "missing");
		return 0;
	}
	if (!v) {
		if (fl & NULLOK)
			return 0;
		return fail(l, w, k, "must be %s, not null", type_names[t]);
	}
	if (!is_type(v, t))
		return fail(l, w, k, "must be %s", type_names[t]);
	*out = v;
	return 0;
}

static int u64_of(struct ld *l, json_object *v, const char *w, const char *k, uint64_t *out)
{
	if (!json_object_is_type(v, json_type_int))
		return fail(l, w, k, "must be an integer");
	if (json_object_get_int64(v) < 0)
		return fail(l, w, k, "must not be negative");
	*out = json_object_get_uint64(v);
	return 0;
}

static int get_u64(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
		   uint64_t *out)
{
	json_object *v;
	int err = get(l, o, w, k, T_INT, fl, &v);

	*out = 0;
	if (err || !v)
		return err;
	return u64_of(l, v, w, k, out);
}

static int get_i64(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
		   int64_t *out, bool *present)
{
	json_object *v;
	int err = get(l, o, w, k, T_INT, fl, &v);

	*out = 0;
	if (present)
		*present = v;
	if (err || !v)
		return err;
	*out = json_object_get_int64(v);
	return 0;
}

/* NaN when absent or null. */
static int get_num(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
		   double *out)
{
	json_object *v;
	int err = get(l, o, w, k, T_NUM, fl, &v);

	*out = NAN;
	if (err || !v)
		return err;
	*out = json_object_get_double(v);
	if (!isfinite(*out))
		return fail(l, w, k, "must be a finite number");
	return 0;
}

/* Like get_num for quantities that cannot be negative. */
static int get_pos(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
		   double *out)
{
	int err = get_num(l, o, w, k, fl, out);

	if (!err && *out < 0)
		return fail(l, w, k, "must not be negative");
	return err;
}

static int get_bool(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
		    bool *out)
{
	json_object *v;
	int err = get(l, o, w, k, T_BOOL, fl, &v);

	*out = false;
	if (err || !v)
		return err;
	*out = json_object_get_boolean(v);
	return 0;
}

static int get_str(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
		   const char **out)
{
	json_object *v;
	int err = get(l, o, w, k, T_STR, fl, &v);

	*out = NULL;
	if (err || !v)
		return err;
	*out = run__strdup(l->r, json_object_get_string(v));
	return *out ? 0 : nomem(l);
}

/* Member k must be an object of non-negative integers; kept in file order. */
static int get_counts(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
		      struct run_counts *c, bool (*key_ok)(const char *))
{
	struct json_object_iterator it, end;
	char ww[W_MAX];
	json_object *v;
	int err = get(l, o, w, k, T_OBJ, fl, &v);

	c->v = NULL;
	c->n = 0;
	if (err || !v)
		return err;
	c->v = run__alloc(l->r, (json_object_object_length(v) + 1) * sizeof(*c->v));
	if (!c->v)
		return nomem(l);
	wpath(ww, "%s%s%s", w, *w ? "." : "", k);
	it = json_object_iter_begin(v);
	end = json_object_iter_end(v);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *key = json_object_iter_peek_name(&it);
		struct run_count *rc = &c->v[c->n];

		if (key_ok && !key_ok(key))
			return fail(l, ww, NULL, "unexpected key '%s'", key);
		err = u64_of(l, json_object_iter_peek_value(&it), ww, key, &rc->n);
		if (err)
			return err;
		rc->key = run__strdup(l->r, key);
		if (!rc->key)
			return nomem(l);
		c->n++;
	}
	return 0;
}

static bool status_key(const char *k)
{
	if (!strcmp(k, "other"))
		return true;
	return strlen(k) == 3 && k[0] >= '1' && k[0] <= '9' && k[1] >= '0' && k[1] <= '9' &&
	       k[2] >= '0' && k[2] <= '9';
}

static bool sqlstate_key(const char *k)
{
	if (strlen(k) != 5)
		return false;
	for (int i = 0; i < 5; i++)
		if (!((k[i] >= '0' && k[i] <= '9') || (k[i] >= 'A' && k[i] <= 'Z') || k[i] == '?'))
			return false;
	return true;
}

static bool query_id_ok(const char *s)
{
	if (strlen(s) != 16)
		return false;
	for (int i = 0; i < 16; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static int get_query_id(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
			const char **out)
{
	int err = get_str(l, o, w, k, fl, out);

	if (!err && *out && !query_id_ok(*out))
		return fail(l, w, k, "'%s' is not a 16-digit hex query id", *out);
	return err;
}

static int get_u64_array(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
			 uint64_t **out, unsigned *n)
{
	char ww[W_MAX];
	json_object *v;
	int err = get(l, o, w, k, T_ARR, fl, &v);

	*out = NULL;
	*n = 0;
	if (err || !v)
		return err;
	*out = run__alloc(l->r, (json_object_array_length(v) + 1) * sizeof(**out));
	if (!*out)
		return nomem(l);
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		wpath(ww, "%s%s%s[%zu]", w, *w ? "." : "", k, i);
		err = u64_of(l, json_object_array_get_idx(v, i), ww, NULL, &(*out)[i]);
		if (err)
			return err;
		(*n)++;
	}
	return 0;
}

static int get_latency(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
		       struct run_latency *lat, bool *present)
{
	char ww[W_MAX];
	json_object *v;
	int err = get(l, o, w, k, T_OBJ, fl, &v);

	if (present)
		*present = v;
	if (err || !v)
		return err;
	wpath(ww, "%s%s%s", w, *w ? "." : "", k);
	if ((err = get_pos(l, v, ww, "p50", REQ, &lat->p50)) ||
	    (err = get_pos(l, v, ww, "p90", REQ, &lat->p90)) ||
	    (err = get_pos(l, v, ww, "p95", REQ, &lat->p95)) ||
	    (err = get_pos(l, v, ww, "p99", REQ, &lat->p99)) ||
	    (err = get_pos(l, v, ww, "p999", REQ, &lat->p999)) ||
	    (err = get_pos(l, v, ww, "max", REQ, &lat->max)) ||
	    (err = get_pos(l, v, ww, "min", 0, &lat->min)) ||
	    (err = get_pos(l, v, ww, "mean", REQ, &lat->mean)))
		return err;
	if (isnan(lat->min))
		lat->min = 0;
	return 0;
}

/* Rebuild a struct hist from its sparse buckets, checking each against our layout. */
static int get_hist(struct ld *l, json_object *o, const char *w, struct hist **out)
{
	char ww[W_MAX], wb[W_MAX];
	json_object *h, *b;
	const char *s;
	uint64_t count, sum, min, max, total = 0;
	int err, prev = -1, first = -1, last = -1;
	bool has_sum, has_min, has_max;
	struct hist *hist;

	err = get(l, o, w, "histogram", T_OBJ, REQ, &h);
	if (err)
		return err;
	wpath(ww, "%s.histogram", w);
	err = get(l, h, ww, "layout", T_STR, REQ, &b);
	if (err)
		return err;
	s = json_object_get_string(b);
	if (strcmp(s, HIST_LAYOUT))
		return fail(l, ww, "layout",
			    "unknown histogram layout '%.40s' (this sloprobe reads " HIST_LAYOUT
			    ")",
			    s);
	err = get(l, h, ww, "unit", T_STR, REQ, &b);
	if (err)
		return err;
	if (strcmp(json_object_get_string(b), "ns"))
		return fail(l, ww, "unit", "unknown unit '%.20s' (want ns)",
			    json_object_get_string(b));
	if ((err = get_u64(l, h, ww, "count", REQ, &count)))
		return err;
	has_sum = json_object_object_get_ex(h, "sum", NULL);
	has_min = json_object_object_get_ex(h, "min", NULL);
	has_max = json_object_object_get_ex(h, "max", NULL);
	if ((err = get_u64(l, h, ww, "sum", 0, &sum)) ||
	    (err = get_u64(l, h, ww, "min", 0, &min)) || (err = get_u64(l, h, ww, "max", 0, &max)))
		return err;
	err = get(l, h, ww, "buckets", T_ARR, REQ, &b);
	if (err)
		return err;
	hist = run__alloc(l->r, sizeof(*hist));
	if (!hist)
		return nomem(l);
	hist__init(hist);
	for (size_t i = 0; i < json_object_array_length(b); i++) {
		json_object *x = json_object_array_get_idx(b, i);
		uint64_t v[3];
		int idx;

		wpath(wb, "%s.buckets[%zu]", ww, i);
		if (!x || !json_object_is_type(x, json_type_array) ||
		    json_object_array_length(x) != 3)
			return fail(l, wb, NULL, "must be [lo_ns, hi_ns, count]");
		for (int k = 0; k < 3; k++)
			if ((err = u64_of(l, json_object_array_get_idx(x, k), wb, NULL, &v[k])))
				return err;
		idx = hist__bucket_of(v[0]);
		if (hist__bucket_lo(idx) != v[0] || hist__bucket_hi(idx) != v[1])
			return fail(l, wb, NULL,
				    "[%llu, %llu] is not a bucket of layout " HIST_LAYOUT,
				    (unsigned long long)v[0], (unsigned long long)v[1]);
		if (idx <= prev)
			return fail(l, wb, NULL, "buckets must be in ascending order");
		if (!v[2])
			return fail(l, wb, NULL, "empty bucket");
		if (total + v[2] < total)
			return fail(l, wb, NULL, "count overflows");
		hist->buckets[idx] = v[2];
		total += v[2];
		prev = idx;
		if (first < 0)
			first = idx;
		last = idx;
	}
	if (total != count)
		return fail(l, ww, "count", "%llu, but the buckets hold %llu",
			    (unsigned long long)count, (unsigned long long)total);
	hist->count = count;
	if (count) {
		hist->min = has_min ? min : hist__bucket_lo(first);
		hist->max = has_max ? max : hist__bucket_hi(last);
		if (hist->min < hist__bucket_lo(first) || hist->min > hist__bucket_hi(first))
			return fail(l, ww, "min", "%llu is outside the first bucket",
				    (unsigned long long)hist->min);
		/* The last bucket also holds everything beyond the layout's range. */
		if (hist->max < hist__bucket_lo(last) ||
		    (hist->max > hist__bucket_hi(last) && last != (int)HIST_NBUCKETS - 1))
			return fail(l, ww, "max", "%llu is outside the last bucket",
				    (unsigned long long)hist->max);
		if (has_sum) {
			hist->sum = sum;
		} else {
			/* No sum in the file: bucket midpoints, as close as the layout gets. */
			for (int i = first; i <= last; i++)
				hist->sum += hist->buckets[i] *
					     (hist__bucket_lo(i) +
					      (hist__bucket_hi(i) - hist__bucket_lo(i)) / 2);
		}
	}
	*out = hist;
	return 0;
}

static int load_ep_db(struct ld *l, json_object *o, const char *w, struct run_endpoint *e)
{
	char ww[W_MAX], wq[W_MAX];
	json_object *d, *a, *t;
	struct run_ep_db *db = &e->db;
	int err = get(l, o, w, "db", T_OBJ, 0, &d);

	if (err || !d)
		return err;
	e->has_db = true;
	wpath(ww, "%s.db", w);
	if ((err = get_u64(l, d, ww, "requests", REQ, &db->requests)) ||
	    (err = get_pos(l, d, ww, "queries_per_request", REQ, &db->queries_per_request)) ||
	    (err = get_pos(l, d, ww, "queries_per_request_max", REQ,
			   &db->queries_per_request_max)) ||
	    (err = get_pos(l, d, ww, "db_time_ms_per_request", REQ, &db->db_time_ms_per_request)) ||
	    (err = get(l, d, ww, "attribution", T_OBJ, REQ, &a)))
		return err;
	wpath(wq, "%s.attribution", ww);
	if ((err = get_u64(l, a, wq, "exact", REQ, &db->attr_exact)) ||
	    (err = get_u64(l, a, wq, "thread", REQ, &db->attr_thread)) ||
	    (err = get_u64(l, a, wq, "shared", REQ, &db->attr_shared)) ||
	    (err = get(l, d, ww, "top_queries", T_ARR, REQ, &t)))
		return err;
	db->top = run__alloc(l->r, (json_object_array_length(t) + 1) * sizeof(*db->top));
	if (!db->top)
		return nomem(l);
	for (size_t i = 0; i < json_object_array_length(t); i++) {
		json_object *q = json_object_array_get_idx(t, i);
		struct run_top_query *tq = &db->top[i];

		wpath(wq, "%s.top_queries[%zu]", ww, i);
		if (!q || !json_object_is_type(q, json_type_object))
			return fail(l, wq, NULL, "must be an object");
		if ((err = get_query_id(l, q, wq, "query_id", REQ, &tq->query_id)) ||
		    (err = get_str(l, q, wq, "query", REQ | NULLOK, &tq->query)) ||
		    (err = get_pos(l, q, wq, "per_request", REQ, &tq->per_request)) ||
		    (err = get_pos(l, q, wq, "ms_per_request", REQ, &tq->ms_per_request)))
			return err;
		db->ntop++;
	}
	return 0;
}

static const char *const ep_extra[] = { "aborted",	"unfinished", "incomplete",
					"end_inferred", "pipelined",  "target_truncated" };

static int load_endpoint(struct ld *l, json_object *o, const char *w, struct run_endpoint *e)
{
	char ww[W_MAX];
	json_object *x;
	int64_t port;
	bool has_port;
	int err;

	if (!json_object_is_type(o, json_type_object))
		return fail(l, w, NULL, "must be an object");
	if ((err = get_str(l, o, w, "service", REQ, &e->service)) ||
	    (err = get_u64_array(l, o, w, "pids", REQ, &e->pids, &e->npids)) ||
	    (err = get_str(l, o, w, "comm", REQ, &e->comm)) ||
	    (err = get_str(l, o, w, "container", REQ | NULLOK, &e->container)) ||
	    (err = get_str(l, o, w, "runtime", 0, &e->runtime)) ||
	    (err = get_str(l, o, w, "cgroup", 0, &e->cgroup)) ||
	    (err = get_i64(l, o, w, "port", 0, &port, &has_port)) ||
	    (err = get_str(l, o, w, "method", REQ, &e->method)) ||
	    (err = get_str(l, o, w, "route", REQ, &e->route)) ||
	    (err = get_u64(l, o, w, "count", REQ, &e->count)) ||
	    (err = get_pos(l, o, w, "rate_per_s", REQ, &e->rate_per_s)) ||
	    (err = get_counts(l, o, w, "status", REQ, &e->status, status_key)) ||
	    (err = get(l, o, w, "errors", T_OBJ, REQ, &x)))
		return err;
	if (has_port && (port < 0 || port > 65535))
		return fail(l, w, "port", "%lld is not a port", (long long)port);
	e->port = has_port ? (int)port : -1;
	if (!*e->method || !*e->route)
		return fail(l, w, *e->method ? "route" : "method", "must not be empty");
	wpath(ww, "%s.errors", w);
	if ((err = get_u64(l, x, ww, "4xx", REQ, &e->err4xx)) ||
	    (err = get_u64(l, x, ww, "5xx", REQ, &e->err5xx)))
		return err;
	e->extra.v = run__alloc(l->r, sizeof(ep_extra) / sizeof(ep_extra[0]) * sizeof(*e->extra.v));
	if (!e->extra.v)
		return nomem(l);
	for (size_t i = 0; i < sizeof(ep_extra) / sizeof(ep_extra[0]); i++) {
		uint64_t n;

		if (!json_object_object_get_ex(o, ep_extra[i], NULL))
			continue;
		if ((err = get_u64(l, o, w, ep_extra[i], 0, &n)))
			return err;
		e->extra.v[e->extra.n].key = ep_extra[i];
		e->extra.v[e->extra.n++].n = n;
	}
	if ((err = get(l, o, w, "latency_ms", T_OBJ, REQ, &x)) ||
	    (err = get_latency(l, o, w, "ttfb_ms", 0, &e->ttfb, &e->has_ttfb)) ||
	    (err = get_latency(l, o, w, "server_ms", 0, &e->server, &e->has_server)) ||
	    (err = get_latency(l, o, w, "wait_ms", 0, &e->wait, &e->has_wait)) ||
	    (err = get_hist(l, o, w, &e->hist)))
		return err;
	if (e->hist->count != e->count)
		return fail(l, w, "count", "%llu, but the histogram holds %llu",
			    (unsigned long long)e->count, (unsigned long long)e->hist->count);
	return load_ep_db(l, o, w, e);
}

static int load_dbq(struct ld *l, json_object *o, const char *w, struct run_dbq *q)
{
	char ww[W_MAX];
	json_object *p;
	bool has_rows;
	int err;

	if (!json_object_is_type(o, json_type_object))
		return fail(l, w, NULL, "must be an object");
	if ((err = get_str(l, o, w, "system", REQ, &q->system)) ||
	    (err = get_query_id(l, o, w, "query_id", REQ, &q->query_id)) ||
	    (err = get_str(l, o, w, "query", REQ, &q->query)) ||
	    (err = get_str(l, o, w, "raw_sample", 0, &q->raw_sample)) ||
	    (err = get_bool(l, o, w, "truncated", 0, &q->truncated)) ||
	    (err = get_bool(l, o, w, "unknown_statement", 0, &q->unknown_statement)) ||
	    (err = get_u64(l, o, w, "count", REQ, &q->count)) ||
	    (err = get_u64(l, o, w, "errors", REQ, &q->errors)) ||
	    (err = get_pos(l, o, w, "rate_per_s", REQ, &q->rate_per_s)) ||
	    (err = get_counts(l, o, w, "sqlstates", 0, &q->sqlstates, sqlstate_key)) ||
	    (err = get_pos(l, o, w, "total_ms", REQ, &(double){ 0 })) ||
	    (err = get_i64(l, o, w, "rows", NULLOK, &q->rows, &has_rows)) ||
	    (err = get_u64(l, o, w, "slow", 0, &q->slow)) ||
	    (err = get_str(l, o, w, "client", 0, &q->client)) ||
	    (err = get_str(l, o, w, "server", NULLOK, &q->server)) ||
	    (err = get_str(l, o, w, "main_path", 0, &q->main_path)) ||
	    (err = get(l, o, w, "latency_ms", T_OBJ, REQ, &p)) ||
	    (err = get(l, o, w, "paths", T_ARR, REQ, &p)))
		return err;
	q->has_rows = has_rows;
	q->paths = run__alloc(l->r, (json_object_array_length(p) + 1) * sizeof(*q->paths));
	if (!q->paths)
		return nomem(l);
	for (size_t i = 0; i < json_object_array_length(p); i++) {
		json_object *x = json_object_array_get_idx(p, i);
		struct run_db_path *dp = &q->paths[i];

		wpath(ww, "%s.paths[%zu]", w, i);
		if (!x || !json_object_is_type(x, json_type_object))
			return fail(l, ww, NULL, "must be an object");
		if ((err = get_str(l, x, ww, "path", REQ, &dp->path)) ||
		    (err = get_u64(l, x, ww, "count", REQ, &dp->count)) ||
		    (err = get_latency(l, x, ww, "latency_ms", REQ, &dp->lat, NULL)))
			return err;
		q->npaths++;
	}
	if ((err = get_hist(l, o, w, &q->hist)))
		return err;
	if (q->hist->count != q->count)
		return fail(l, w, "count", "%llu, but the histogram holds %llu",
			    (unsigned long long)q->count, (unsigned long long)q->hist->count);
	return 0;
}

static int load_ids(struct ld *l, json_object *o, const char *w, const char *k, struct run_ids *ids)
{
	char ww[W_MAX];
	json_object *a;
	int err = get(l, o, w, k, T_ARR, 0, &a);

	if (err || !a)
		return err;
	ids->v = run__alloc(l->r, (json_object_array_length(a) + 1) * sizeof(*ids->v));
	if (!ids->v)
		return nomem(l);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *x = json_object_array_get_idx(a, i);

		wpath(ww, "%s.%s[%zu]", w, k, i);
		if (!x || !json_object_is_type(x, json_type_string) ||
		    !query_id_ok(json_object_get_string(x)))
			return fail(l, ww, NULL, "must be a 16-digit hex query id");
		ids->v[ids->n] = run__strdup(l->r, json_object_get_string(x));
		if (!ids->v[ids->n++])
			return nomem(l);
	}
	return 0;
}

static int load_db(struct ld *l, json_object *root)
{
	struct run *r = l->r;
	char w[W_MAX];
	json_object *a;
	int err = get(l, root, "", "db", T_ARR, 0, &a);

	if (err || !a)
		return err;
	r->has_db = true;
	r->dbqs = run__alloc(r, (json_object_array_length(a) + 1) * sizeof(*r->dbqs));
	if (!r->dbqs)
		return nomem(l);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *x = json_object_array_get_idx(a, i);

		wpath(w, "db[%zu]", i);
		if (!x)
			return fail(l, w, NULL, "must be an object");
		if ((err = load_dbq(l, x, w, &r->dbqs[i])))
			return err;
		r->ndbqs++;
	}
	if ((err = get(l, root, "", "db_hotspots", T_OBJ, 0, &a)))
		return err;
	if (a && ((err = load_ids(l, a, "db_hotspots", "by_total_time", &r->hot_total)) ||
		  (err = load_ids(l, a, "db_hotspots", "by_p95", &r->hot_p95)) ||
		  (err = load_ids(l, a, "db_hotspots", "by_count", &r->hot_count))))
		return err;
	if ((err = get(l, root, "", "db_flags", T_ARR, 0, &a)))
		return err;
	r->flags = run__alloc(r, ((a ? json_object_array_length(a) : 0) + 1) * sizeof(*r->flags));
	if (!r->flags)
		return nomem(l);
	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		json_object *x = json_object_array_get_idx(a, i);
		struct run_flag *f = &r->flags[i];

		wpath(w, "db_flags[%zu]", i);
		if (!x || !json_object_is_type(x, json_type_object))
			return fail(l, w, NULL, "must be an object");
		if ((err = get_str(l, x, w, "kind", REQ, &f->kind)) ||
		    (err = get_query_id(l, x, w, "query_id", 0, &f->query_id)) ||
		    (err = get_str(l, x, w, "query", REQ | NULLOK, &f->query)) ||
		    (err = get_str(l, x, w, "endpoint", REQ | NULLOK, &f->endpoint)) ||
		    (err = get_str(l, x, w, "evidence", REQ, &f->evidence)) ||
		    (err = get_u64(l, x, w, "occurrences", 0, &f->occurrences)))
			return err;
		if (!json_object_object_get_ex(x, "occurrences", NULL))
			f->occurrences = 1;
		r->nflags++;
	}
	if ((err = get(l, root, "", "db_stats", T_OBJ, 0, &a)) || !a)
		return err;
	r->has_db_stats = true;
	if ((err = get_str(l, a, "db_stats", "probes", REQ, &r->db_probes)))
		return err;
	/* db_stats is counters plus the probes string: read it as counters without probes. */
	json_object_object_del(a, "probes");
	return get_counts(l, root, "", "db_stats", 0, &r->db_stats, NULL);
}

/* Unit of observed and margin when the file does not say: from the kind of objective. */
static const char *slo_unit_of(const struct run_slo *s)
{
	const char *k = s->kind ? s->kind : "";

	if (strstr(k, "error") || strstr(k, "rate") || !strcmp(k, "latency_threshold"))
		return "ratio";
	if (!strcmp(k, "count"))
		return "count";
	if (strstr(k, "latency") || (!isnan(s->threshold_ms) && !isnan(s->percentile)))
		return "ms";
	return NULL;
}

static const char *const verdicts[] = { "pass", "breach", "insufficient_data" };

static int load_slo(struct ld *l, json_object *root)
{
	struct run *r = l->r;
	char w[W_MAX];
	json_object *a;
	int err = get(l, root, "", "slo", T_ARR, NULLOK, &a);

	if (err || !a)
		return err;
	r->has_slo = true;
	r->slo = run__alloc(r, (json_object_array_length(a) + 1) * sizeof(*r->slo));
	if (!r->slo)
		return nomem(l);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *x = json_object_array_get_idx(a, i), *t;
		struct run_slo *s = &r->slo[i];
		bool known = false;
		uint64_t good, total, judged;

		wpath(w, "slo[%zu]", i);
		if (!x || !json_object_is_type(x, json_type_object))
			return fail(l, w, NULL, "must be an object");
		if ((err = get_str(l, x, w, "name", REQ, &s->name)) ||
		    (err = get_str(l, x, w, "objective", REQ, &s->objective)) ||
		    (err = get_str(l, x, w, "target", NULLOK, &s->target)) ||
		    (err = get_str(l, x, w, "kind", NULLOK, &s->kind)) ||
		    (err = get_str(l, x, w, "verdict", REQ, &s->verdict)) ||
		    (err = get_str(l, x, w, "unit", NULLOK, &s->unit)) ||
		    (err = get_bool(l, x, w, "approximate", NULLOK, &s->approximate)) ||
		    (err = get_num(l, x, w, "threshold_ms", NULLOK, &s->threshold_ms)) ||
		    (err = get_num(l, x, w, "percentile", NULLOK, &s->percentile)) ||
		    (err = get_num(l, x, w, "target_ratio", NULLOK, &s->target_ratio)) ||
		    (err = get_num(l, x, w, "observed", NULLOK, &s->observed)) ||
		    (err = get_num(l, x, w, "margin", NULLOK, &s->margin)) ||
		    (err = get_num(l, x, w, "budget_consumed", NULLOK, &s->budget_consumed)) ||
		    (err = get_num(l, x, w, "first_breach_s", NULLOK, &s->first_breach_s)) ||
		    (err = get_u64(l, x, w, "good", NULLOK, &good)) ||
		    (err = get_u64(l, x, w, "total", NULLOK, &total)) ||
		    (err = get_u64(l, x, w, "judged", NULLOK, &judged)))
			return err;
		for (size_t k = 0; k < sizeof(verdicts) / sizeof(verdicts[0]); k++)
			known |= !strcmp(s->verdict, verdicts[k]);
		if (!known)
			return fail(l, w, "verdict",
				    "'%.40s' is none of pass, breach, insufficient_data",
				    s->verdict);
		s->has_counts = json_object_object_get_ex(x, "total", &t) && t;
		if (!s->unit)
			s->unit = slo_unit_of(s);
		s->good = good;
		/* Good out of judged, as re-judging counts (protected responses are neither). */
		s->total = json_object_object_get_ex(x, "judged", &t) && t ? judged : total;
		r->nslo++;
	}
	return 0;
}

static int load_series(struct ld *l, json_object *a, const char *w, bool http,
		       struct run_series **out, unsigned *n)
{
	char ww[W_MAX], wp[W_MAX];

	*out = run__alloc(l->r, (json_object_array_length(a) + 1) * sizeof(**out));
	if (!*out)
		return nomem(l);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *x = json_object_array_get_idx(a, i), *pts;
		struct run_series *s = &(*out)[i];
		int err;

		wpath(ww, "%s[%zu]", w, i);
		if (!x || !json_object_is_type(x, json_type_object))
			return fail(l, ww, NULL, "must be an object");
		if (http) {
			if ((err = get_str(l, x, ww, "service", 0, &s->service)) ||
			    (err = get_str(l, x, ww, "method", REQ, &s->method)) ||
			    (err = get_str(l, x, ww, "route", REQ, &s->route)))
				return err;
		} else if ((err = get_str(l, x, ww, "query", REQ, &s->query))) {
			return err;
		}
		if ((err = get(l, x, ww, "points", T_ARR, REQ, &pts)))
			return err;
		s->p = run__alloc(l->r, (json_object_array_length(pts) + 1) * sizeof(*s->p));
		if (!s->p)
			return nomem(l);
		for (size_t k = 0; k < json_object_array_length(pts); k++) {
			json_object *y = json_object_array_get_idx(pts, k);
			struct run_tpoint *p = &s->p[k];

			wpath(wp, "%s.points[%zu]", ww, k);
			if (!y || !json_object_is_type(y, json_type_object))
				return fail(l, wp, NULL, "must be an object");
			if ((err = get_pos(l, y, wp, "t", REQ, &p->t)) ||
			    (err = get_u64(l, y, wp, "count", REQ, &p->count)) ||
			    (err = get_pos(l, y, wp, "rate_per_s", REQ, &p->rate_per_s)) ||
			    (err = get_pos(l, y, wp, "p50", NULLOK, &p->p50)) ||
			    (err = get_pos(l, y, wp, "p95", NULLOK, &p->p95)) ||
			    (err = get_pos(l, y, wp, "p99", NULLOK, &p->p99)) ||
			    (err = get_u64(l, y, wp, "errors", NULLOK, &p->errors)) ||
			    (err = get_u64(l, y, wp, "5xx", NULLOK, &p->e5xx)) ||
			    (err = get_u64(l, y, wp, "4xx", NULLOK, &p->e4xx)) ||
			    (err = get_pos(l, y, wp, "wait_p95", NULLOK, &p->wait_p95)))
				return err;
			if (k && p->t < s->p[k - 1].t)
				return fail(l, wp, "t", "goes back in time");
			s->n++;
		}
		(*n)++;
	}
	return 0;
}

static int load_timeline(struct ld *l, json_object *root)
{
	struct run *r = l->r;
	struct run_timeline *t = &r->timeline;
	json_object *o, *a;
	int err = get(l, root, "", "timeline", T_OBJ, NULLOK, &o);

	if (err || !o)
		return err;
	r->has_timeline = true;
	if ((err = get_pos(l, o, "timeline", "interval_s", REQ, &t->interval_s)))
		return err;
	if (t->interval_s <= 0)
		return fail(l, "timeline", "interval_s", "must be positive");
	if ((err = get(l, o, "timeline", "http", T_ARR, 0, &a)) ||
	    (a && (err = load_series(l, a, "timeline.http", true, &t->http, &t->nhttp))) ||
	    (err = get(l, o, "timeline", "db", T_ARR, 0, &a)) ||
	    (a && (err = load_series(l, a, "timeline.db", false, &t->db, &t->ndb))))
		return err;
	return 0;
}

/* The fixed, non-counter top-level sections. */
static int load_head(struct ld *l, json_object *root)
{
	struct run *r = l->r;
	json_object *o, *a;
	int err;

	if ((err = get(l, root, "", "tool", T_OBJ, REQ, &o)) ||
	    (err = get_str(l, o, "tool", "version", REQ, &r->tool_version)) ||
	    (err = get(l, root, "", "host", T_OBJ, REQ, &o)) ||
	    (err = get_str(l, o, "host", "hostname", REQ, &r->hostname)) ||
	    (err = get_str(l, o, "host", "kernel", REQ, &r->kernel)) ||
	    (err = get(l, root, "", "window", T_OBJ, REQ, &o)) ||
	    (err = get_str(l, o, "window", "start", REQ, &r->start)) ||
	    (err = get_str(l, o, "window", "end", REQ, &r->end)) ||
	    (err = get_pos(l, o, "window", "duration_s", REQ, &r->duration_s)))
		return err;
	if (run__parse_time(r->start, &r->start_ms))
		return fail(l, "window", "start", "'%.40s' is not a UTC ISO 8601 time", r->start);
	if (run__parse_time(r->end, &r->end_ms))
		return fail(l, "window", "end", "'%.40s' is not a UTC ISO 8601 time", r->end);
	if (r->end_ms < r->start_ms)
		return fail(l, "window", "end", "before start");

	if ((err = get(l, root, "", "command", T_OBJ, NULLOK, &o)))
		return err;
	if (o) {
		r->has_command = true;
		if ((err = get(l, o, "command", "argv", T_ARR, REQ, &a)) ||
		    (err = get_i64(l, o, "command", "exit_status", REQ, &r->exit_status, NULL)))
			return err;
		r->argv = run__alloc(r, (json_object_array_length(a) + 1) * sizeof(*r->argv));
		if (!r->argv)
			return nomem(l);
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			json_object *x = json_object_array_get_idx(a, i);

			if (!x || !json_object_is_type(x, json_type_string))
				return fail(l, "command.argv", NULL, "must be strings");
			r->argv[r->argc] = run__strdup(r, json_object_get_string(x));
			if (!r->argv[r->argc++])
				return nomem(l);
		}
	}
	if ((err = get(l, root, "", "filters", T_OBJ, 0, &o)))
		return err;
	if (o) {
		r->has_filters = true;
		if ((err = get_u64_array(l, o, "filters", "pids", 0, &r->filter_pids,
					 &r->nfilter_pids)) ||
		    (err = get_str(l, o, "filters", "comm", NULLOK, &r->filter_comm)) ||
		    (err = get_str(l, o, "filters", "cgroup", NULLOK, &r->filter_cgroup)) ||
		    (err = get_u64_array(l, o, "filters", "ports", 0, &r->filter_ports,
					 &r->nfilter_ports)))
			return err;
	}
	if ((err = get(l, root, "", "definitions", T_OBJ, 0, &o)))
		return err;
	if (o)
		r->definitions = json_object_get(o);

	if ((err = get(l, root, "", "slo_summary", T_OBJ, NULLOK, &o)))
		return err;
	if (o && (err = get_num(l, o, "slo_summary", "max_drop_pct", NULLOK, &r->max_drop_pct)))
		return err;
	if ((err = get(l, root, "", "events", T_OBJ, REQ, &o)) ||
	    (err = get_u64(l, o, "events", "total", REQ, &r->events_total)) ||
	    (err = get_u64(l, o, "events", "dropped", REQ, &r->events_dropped)))
		return err;
	json_object_object_del(o, "total");
	json_object_object_del(o, "dropped");
	if ((err = get_counts(l, root, "", "events", REQ, &r->events, NULL)) ||
	    (err = get_counts(l, root, "", "connections", 0, &r->connections, NULL)) ||
	    (err = get_counts(l, root, "", "http_parser", 0, &r->http_parser, NULL)) ||
	    (err = get(l, root, "", "bpf", T_OBJ, 0, &o)))
		return err;
	if (o) {
		r->has_bpf = true;
		if ((err = get_bool(l, o, "bpf", "stats_enabled", REQ, &r->bpf_stats)) ||
		    (err = get_u64(l, o, "bpf", "run_time_ns", 0, &r->bpf_run_ns)) ||
		    (err = get_u64(l, o, "bpf", "run_cnt", 0, &r->bpf_run_cnt)))
			return err;
		r->has_bpf_run = json_object_object_get_ex(o, "run_time_ns", NULL);
	}
	return 0;
}

static int load(struct ld *l, json_object *root)
{
	struct run *r = l->r;
	char w[W_MAX];
	json_object *o;
	const char *s;
	int err;

	if (!json_object_is_type(root, json_type_object))
		return fail(l, "", NULL, "not a sloprobe report: the top level is not an object");
	if (!json_object_object_get_ex(root, "schema", &o))
		return fail(l, "", NULL, "not a sloprobe report: no \"schema\"");
	if (!o || !json_object_is_type(o, json_type_string))
		return fail(l, "", "schema", "must be a string");
	s = json_object_get_string(o);
	if (strcmp(s, RUNFILE_SCHEMA)) {
		if (!strncmp(s, "sloprobe.report/", 16))
			return fail(l, "", NULL,
				    "unknown schema version '%.40s' (this sloprobe "
				    "reads " RUNFILE_SCHEMA ")",
				    s);
		return fail(l, "", NULL, "not a sloprobe report (schema '%.40s')", s);
	}
	if ((err = load_head(l, root)))
		return err;
	if ((err = get(l, root, "", "http", T_ARR, REQ, &o)))
		return err;
	r->eps = run__alloc(r, (json_object_array_length(o) + 1) * sizeof(*r->eps));
	if (!r->eps)
		return nomem(l);
	for (size_t i = 0; i < json_object_array_length(o); i++) {
		json_object *x = json_object_array_get_idx(o, i);

		wpath(w, "http[%zu]", i);
		if (!x)
			return fail(l, w, NULL, "must be an object");
		if ((err = load_endpoint(l, x, w, &r->eps[i])))
			return err;
		r->neps++;
	}
	if ((err = load_db(l, root)) || (err = load_slo(l, root)) || (err = load_timeline(l, root)))
		return err;
	return 0;
}

/* 1-based line and column of byte off. */
static void line_col(const char *buf, size_t off, unsigned *line, unsigned *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

int run__parse(struct run *r, const char *buf, size_t len, const char *path, char *err,
	       size_t errsz)
{
	struct ld l = { .r = r, .err = err, .errsz = errsz };
	enum json_tokener_error jerr;
	struct json_tokener *tok;
	json_object *root;
	unsigned line, col;
	size_t end;
	int ret;

	ret = run__init(r);
	if (ret)
		return nomem(&l);
	r->path = run__strdup(r, path ? path : "-");
	if (!r->path) {
		run__free(r);
		return nomem(&l);
	}
	tok = json_tokener_new_ex(JSON_DEPTH);
	if (!tok) {
		run__free(r);
		return nomem(&l);
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!len || memchr(buf, 0, len)) {
		json_object_put(root);
		snprintf(err, errsz, len ? "malformed JSON: NUL byte" : "empty file");
		run__free(r);
		return -EINVAL;
	}
	if (jerr == json_tokener_continue) {
		json_object_put(root);
		snprintf(err, errsz, "malformed JSON: unexpected end of file");
		run__free(r);
		return -EINVAL;
	}
	if (jerr != json_tokener_success) {
		line_col(buf, end < len ? end : len, &line, &col);
		snprintf(err, errsz, "malformed JSON at line %u, column %u: %s", line, col,
			 json_tokener_error_desc(jerr));
		run__free(r);
		return -EINVAL;
	}
	for (; end < len; end++) {
		if (buf[end] == ' ' || buf[end] == '\t' || buf[end] == '\n' || buf[end] == '\r')
			continue;
		line_col(buf, end, &line, &col);
		snprintf(err, errsz, "malformed JSON at line %u, column %u: data after the report",
			 line, col);
		json_object_put(root);
		run__free(r);
		return -EINVAL;
	}
	ret = load(&l, root);
	json_object_put(root);
	if (ret)
		run__free(r);
	return ret;
}

int run__load(struct run *r, const char *path, char *err, size_t errsz)
{
	size_t len;
	char *buf;
	int ret = file__read(path, MAX_INPUT, &buf, &len);

	if (ret == -EFBIG) {
		snprintf(err, errsz, "larger than 1 GiB: not a report");
		return -EINVAL;
	}
	if (ret) {
		snprintf(err, errsz, "%s", strerror(-ret));
		return ret;
	}
	ret = run__parse(r, buf, len, path, err, errsz);
	free(buf);
	return ret;
}

/* Writer: the same layout and key order as src/report.c. */

static void w_latency(struct json *j, const char *key, const struct run_latency *l)
{
	json__key(j, key);
	json__begin_object(j);
	json__kv_fixed(j, "p50", l->p50, 3);
	json__kv_fixed(j, "p90", l->p90, 3);
	json__kv_fixed(j, "p95", l->p95, 3);
	json__kv_fixed(j, "p99", l->p99, 3);
	json__kv_fixed(j, "p999", l->p999, 3);
	json__kv_fixed(j, "max", l->max, 3);
	json__kv_fixed(j, "min", l->min, 3);
	json__kv_fixed(j, "mean", l->mean, 3);
	json__end_object(j);
}

void run__latency(const struct hist *h, struct run_latency *l)
{
	l->p50 = hist__percentile(h, 50) / 1e6;
	l->p90 = hist__percentile(h, 90) / 1e6;
	l->p95 = hist__percentile(h, 95) / 1e6;
	l->p99 = hist__percentile(h, 99) / 1e6;
	l->p999 = hist__percentile(h, 99.9) / 1e6;
	l->max = h->max / 1e6;
	l->min = h->count ? h->min / 1e6 : 0;
	l->mean = hist__mean(h) / 1e6;
}

static void w_counts(struct json *j, const char *key, const struct run_counts *c)
{
	if (key) {
		json__key(j, key);
		json__begin_object(j);
	}
	for (unsigned i = 0; i < c->n; i++)
		json__kv_u64(j, c->v[i].key, c->v[i].n);
	if (key)
		json__end_object(j);
}

static void w_u64s(struct json *j, const char *key, const uint64_t *v, unsigned n)
{
	json__key(j, key);
	json__begin_array(j);
	for (unsigned i = 0; i < n; i++)
		json__u64(j, v[i]);
	json__end_array(j);
}

/* Any json-c value through the streaming writer (the passed-through "definitions"). */
static void w_jsonc(struct json *j, json_object *o)
{
	struct json_object_iterator it, end;

	switch (json_object_get_type(o)) {
	case json_type_null:
		json__null(j);
		break;
	case json_type_boolean:
		json__bool(j, json_object_get_boolean(o));
		break;
	case json_type_double:
		json__double(j, json_object_get_double(o));
		break;
	case json_type_int:
		if (json_object_get_int64(o) < 0)
			json__i64(j, json_object_get_int64(o));
		else
			json__u64(j, json_object_get_uint64(o));
		break;
	case json_type_string:
		json__string_n(j, json_object_get_string(o), json_object_get_string_len(o));
		break;
	case json_type_array:
		json__begin_array(j);
		for (size_t i = 0; i < json_object_array_length(o); i++)
			w_jsonc(j, json_object_array_get_idx(o, i));
		json__end_array(j);
		break;
	case json_type_object:
		json__begin_object(j);
		it = json_object_iter_begin(o);
		end = json_object_iter_end(o);
		for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
			json__key(j, json_object_iter_peek_name(&it));
			w_jsonc(j, json_object_iter_peek_value(&it));
		}
		json__end_object(j);
		break;
	}
}

static void w_endpoint(struct json *j, const struct run_endpoint *e)
{
	double mean_ms = hist__mean(e->hist) / 1e6;

	json__begin_object(j);
	json__kv_string(j, "service", e->service);
	w_u64s(j, "pids", e->pids, e->npids);
	json__kv_string(j, "comm", e->comm);
	json__kv_string(j, "container", e->container);
	if (e->runtime)
		json__kv_string(j, "runtime", e->runtime);
	if (e->cgroup)
		json__kv_string(j, "cgroup", e->cgroup);
	if (e->port >= 0)
		json__kv_u64(j, "port", e->port);
	json__kv_string(j, "method", e->method);
	json__kv_string(j, "route", e->route);
	json__kv_u64(j, "count", e->count);
	json__kv_fixed(j, "rate_per_s", e->rate_per_s, 3);
	w_counts(j, "status", &e->status);
	json__key(j, "errors");
	json__begin_object(j);
	json__kv_u64(j, "4xx", e->err4xx);
	json__kv_u64(j, "5xx", e->err5xx);
	json__kv_fixed(j, "5xx_ratio", e->count ? (double)e->err5xx / e->count : 0, 6);
	json__end_object(j);
	w_counts(j, NULL, &e->extra);
	histjson__latency(j, "latency_ms", e->hist);
	if (e->has_ttfb)
		w_latency(j, "ttfb_ms", &e->ttfb);
	if (e->has_server)
		w_latency(j, "server_ms", &e->server);
	if (e->has_wait)
		w_latency(j, "wait_ms", &e->wait);
	histjson__histogram(j, "histogram", e->hist);
	if (e->has_db) {
		const struct run_ep_db *d = &e->db;

		json__key(j, "db");
		json__begin_object(j);
		json__kv_u64(j, "requests", d->requests);
		json__kv_fixed(j, "queries_per_request", d->queries_per_request, 3);
		json__kv_fixed(j, "queries_per_request_max", d->queries_per_request_max, 3);
		json__kv_fixed(j, "db_time_ms_per_request", d->db_time_ms_per_request, 3);
		json__kv_fixed(j, "db_time_share",
			       mean_ms > 0 ? d->db_time_ms_per_request / mean_ms : 0, 4);
		json__key(j, "attribution");
		json__begin_object(j);
		json__kv_u64(j, "exact", d->attr_exact);
		json__kv_u64(j, "thread", d->attr_thread);
		json__kv_u64(j, "shared", d->attr_shared);
		json__end_object(j);
		json__key(j, "top_queries");
		json__begin_array(j);
		for (unsigned i = 0; i < d->ntop; i++) {
			json__begin_object(j);
			json__kv_string(j, "query_id", d->top[i].query_id);
			json__kv_string(j, "query", d->top[i].query);
			json__kv_fixed(j, "per_request", d->top[i].per_request, 3);
			json__kv_fixed(j, "ms_per_request", d->top[i].ms_per_request, 3);
			json__end_object(j);
		}
		json__end_array(j);
		json__end_object(j);
	}
	json__end_object(j);
}

static void w_dbq(struct json *j, const struct run_dbq *q, uint64_t db_total_ns)
{

	json__begin_object(j);
	json__kv_string(j, "system", q->system);
	json__kv_string(j, "query_id", q->query_id);
	json__kv_string(j, "query", q->query);
	if (q->raw_sample)
		json__kv_string(j, "raw_sample", q->raw_sample);
	json__kv_bool(j, "truncated", q->truncated);
	json__kv_bool(j, "unknown_statement", q->unknown_statement);
	json__kv_u64(j, "count", q->count);
	json__kv_fixed(j, "rate_per_s", q->rate_per_s, 3);
	json__kv_u64(j, "errors", q->errors);
	w_counts(j, "sqlstates", &q->sqlstates);
	json__kv_fixed(j, "total_ms", q->hist->sum / 1e6, 3);
	json__kv_fixed(j, "time_share", db_total_ns ? (double)q->hist->sum / db_total_ns : 0, 4);
	if (q->has_rows)
		json__kv_i64(j, "rows", q->rows);
	else
		json__kv_string(j, "rows", NULL);
	json__kv_u64(j, "slow", q->slow);
	if (q->client)
		json__kv_string(j, "client", q->client);
	json__kv_string(j, "server", q->server);
	if (q->main_path)
		json__kv_string(j, "main_path", q->main_path);
	histjson__latency(j, "latency_ms", q->hist);
	json__key(j, "paths");
	json__begin_array(j);
	for (unsigned i = 0; i < q->npaths; i++) {
		json__begin_object(j);
		json__kv_string(j, "path", q->paths[i].path);
		json__kv_u64(j, "count", q->paths[i].count);
		w_latency(j, "latency_ms", &q->paths[i].lat);
		json__end_object(j);
	}
	json__end_array(j);
	histjson__histogram(j, "histogram", q->hist);
	json__end_object(j);
}

static void w_ids(struct json *j, const char *key, const struct run_ids *ids)
{
	json__key(j, key);
	json__begin_array(j);
	for (unsigned i = 0; i < ids->n; i++)
		json__string(j, ids->v[i]);
	json__end_array(j);
}

static void w_db(struct json *j, const struct run *r)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < r->ndbqs; i++)
		total += r->dbqs[i].hist->sum;
	json__key(j, "db");
	json__begin_array(j);
	for (unsigned i = 0; i < r->ndbqs; i++)
		w_dbq(j, &r->dbqs[i], total);
	json__end_array(j);
	json__key(j, "db_hotspots");
	json__begin_object(j);
	w_ids(j, "by_total_time", &r->hot_total);
	w_ids(j, "by_p95", &r->hot_p95);
	w_ids(j, "by_count", &r->hot_count);
	json__end_object(j);
	json__key(j, "db_flags");
	json__begin_array(j);
	for (unsigned i = 0; i < r->nflags; i++) {
		const struct run_flag *f = &r->flags[i];

		json__begin_object(j);
		json__kv_string(j, "kind", f->kind);
		if (f->query_id)
			json__kv_string(j, "query_id", f->query_id);
		json__kv_string(j, "query", f->query);
		json__kv_string(j, "endpoint", f->endpoint);
		json__kv_string(j, "evidence", f->evidence);
		json__kv_u64(j, "occurrences", f->occurrences);
		json__end_object(j);
	}
	json__end_array(j);
	if (r->has_db_stats) {
		json__key(j, "db_stats");
		json__begin_object(j);
		json__kv_string(j, "probes", r->db_probes);
		w_counts(j, NULL, &r->db_stats);
		json__end_object(j);
	}
}

int run__write(FILE *f, const struct run *r)
{
	struct json *j = json__new(f, true);
	int err;

	if (!j)
		return -ENOMEM;
	json__begin_object(j);
	json__kv_string(j, "schema", RUNFILE_SCHEMA);
	json__key(j, "tool");
	json__begin_object(j);
	json__kv_string(j, "name", "sloprobe");
	json__kv_string(j, "version", r->tool_version);
	json__end_object(j);
	json__key(j, "host");
	json__begin_object(j);
	json__kv_string(j, "hostname", r->hostname);
	json__kv_string(j, "kernel", r->kernel);
	json__end_object(j);
	json__key(j, "window");
	json__begin_object(j);
	json__kv_string(j, "start", r->start);
	json__kv_string(j, "end", r->end);
	json__kv_fixed(j, "duration_s", r->duration_s, 3);
	json__end_object(j);
	json__key(j, "command");
	if (r->has_command) {
		json__begin_object(j);
		json__key(j, "argv");
		json__begin_array(j);
		for (unsigned i = 0; i < r->argc; i++)
			json__string(j, r->argv[i]);
		json__end_array(j);
		json__kv_i64(j, "exit_status", r->exit_status);
		json__end_object(j);
	} else {
		json__null(j);
	}
	if (r->has_filters) {
		json__key(j, "filters");
		json__begin_object(j);
		w_u64s(j, "pids", r->filter_pids, r->nfilter_pids);
		json__kv_string(j, "comm", r->filter_comm);
		json__kv_string(j, "cgroup", r->filter_cgroup);
		w_u64s(j, "ports", r->filter_ports, r->nfilter_ports);
		json__end_object(j);
	}
	if (r->definitions) {
		json__key(j, "definitions");
		w_jsonc(j, r->definitions);
	}
	json__key(j, "events");
	json__begin_object(j);
	json__kv_u64(j, "total", r->events_total);
	json__kv_u64(j, "dropped", r->events_dropped);
	w_counts(j, NULL, &r->events);
	json__end_object(j);
	w_counts(j, "connections", &r->connections);
	w_counts(j, "http_parser", &r->http_parser);
	if (r->has_bpf) {
		json__key(j, "bpf");
		json__begin_object(j);
		json__kv_bool(j, "stats_enabled", r->bpf_stats);
		if (r->has_bpf_run) {
			json__kv_u64(j, "run_time_ns", r->bpf_run_ns);
			json__kv_u64(j, "run_cnt", r->bpf_run_cnt);
		}
		json__end_object(j);
	}
	if (r->nsources) {
		json__key(j, "merged_from");
		json__begin_array(j);
		for (unsigned i = 0; i < r->nsources; i++) {
			json__begin_object(j);
			json__kv_string(j, "file", r->sources[i].path);
			json__kv_string(j, "hostname", r->sources[i].hostname);
			json__kv_string(j, "start", r->sources[i].start);
			json__kv_fixed(j, "duration_s", r->sources[i].duration_s, 3);
			json__end_object(j);
		}
		json__end_array(j);
	}
	json__key(j, "http");
	json__begin_array(j);
	for (unsigned i = 0; i < r->neps; i++)
		w_endpoint(j, &r->eps[i]);
	json__end_array(j);
	if (r->has_db)
		w_db(j, r);
	json__end_object(j);
	err = json__finish(j);
	json__free(j);
	return err;
}

bool run__incomplete(const struct run *r)
{
	double max_pct = isnan(r->max_drop_pct) ? SLO_MAX_DROP_PCT : r->max_drop_pct;

	return slo__data_incomplete(r->events_dropped, r->events_total, max_pct);
}
