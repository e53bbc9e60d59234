// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

#include "run/histjson.h"
#include "lib/jscan.h"
#include "lib/json.h"
#include "run/slo.h"
#include "run/runfile.h"

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

/*
 * The arrays of rows (endpoints, queries, flags, verdicts, timeline series) are loaded one row
 * at a time as the scanner reaches them: the DOM of a row lives only while it is loaded.
 */
enum { S_HTTP, S_DB, S_FLAGS, S_SLO, S_TL_HTTP, S_TL_DB, S_NR };

struct rows {
	struct run_arena *blk; /* the rows, contiguous; joins the run's arena when done */
	size_t n, cap;
	char *err; /* the first row's error, reported in the order the loader checks things */
	int ret;
};

struct ld {
	struct run *r;
	char *err;
	size_t errsz;
	struct jscan *js;
	struct json_tokener *tok;
	struct rows rows[S_NR];
	char dup[RUNFILE_ERR_MAX]; /* first member given twice */
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

/*
 * Percentiles as the recorder writes them, each rounded to 3 decimals from one histogram, are
 * ordered; the mean, a division in floating point, may round one unit past min or max.
 */
#define MS_SLACK 0.001

static int get_latency(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
		       struct run_latency *lat, bool *present)
{
	static const char *const names[] = { "p50", "p90", "p95", "p99", "p999", "max" };
	char ww[W_MAX];
	json_object *v;
	int err = get(l, o, w, k, T_OBJ, fl, &v);
	double p[6];

	if (present)
		*present = v;
	if (err || !v)
		return err;
	wpath(ww, "%s%s%s", w, *w ? "." : "", k);
	for (int i = 0; i < 6; i++)
		if ((err = get_pos(l, v, ww, names[i], REQ, &p[i])))
			return err;
	if ((err = get_pos(l, v, ww, "min", 0, &lat->min)) ||
	    (err = get_pos(l, v, ww, "mean", REQ, &lat->mean)))
		return err;
	for (int i = 1; i < 6; i++)
		if (p[i] < p[i - 1])
			return fail(l, ww, names[i], "%g is below %s (%g)", p[i], names[i - 1],
				    p[i - 1]);
	if (!isnan(lat->min) && lat->min > p[0])
		return fail(l, ww, "min", "%g is above p50 (%g)", lat->min, p[0]);
	if (lat->mean > p[5] + MS_SLACK)
		return fail(l, ww, "mean", "%g is above max (%g)", lat->mean, p[5]);
	if (!isnan(lat->min) && lat->mean + MS_SLACK < lat->min)
		return fail(l, ww, "mean", "%g is below min (%g)", lat->mean, lat->min);
	lat->p50 = p[0];
	lat->p90 = p[1];
	lat->p95 = p[2];
	lat->p99 = p[3];
	lat->p999 = p[4];
	lat->max = p[5];
	if (isnan(lat->min))
		lat->min = 0;
	return 0;
}

/* A 128-bit count in decimal. */
static const char *u128_str(unsigned __int128 v, char *buf, size_t sz)
{
	char tmp[48];
	int n = 0;

	do
		tmp[n++] = (char)('0' + (int)(v % 10));
	while ((v /= 10) && n < (int)sizeof(tmp));
	for (int i = 0; i < n && (size_t)i + 1 < sz; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n < (int)sz ? n : (int)sz - 1] = '\0';
	return buf;
}

/*
 * Rebuild a histogram from its sparse buckets, checking each against our layout, and its
 * count, min, max and sum against the buckets: every value lies in its bucket and within
 * [min, max], so the sum lies between the sums of those bounds.
 */
static int get_hist(struct ld *l, json_object *o, const char *w, struct hist_sparse **out)
{
	char ww[W_MAX], wb[W_MAX], num[48];
	json_object *h, *b;
	const char *s;
	uint64_t count, sum, min, max, total = 0;
	unsigned __int128 lo = 0, hi = 0, mid = 0;
	int err, prev = -1, first, last;
	bool has_sum, has_min, has_max;
	struct hist_sparse *hist;
	size_t nb;

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
	nb = json_object_array_length(b);
	hist = run__alloc(l->r, sizeof(*hist));
	if (!hist || !(hist->idx = run__alloc(l->r, nb * sizeof(*hist->idx))) ||
	    !(hist->counts = run__alloc(l->r, nb * sizeof(*hist->counts))))
		return nomem(l);
	for (size_t i = 0; i < nb; i++) {
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
		hist->idx[hist->n] = (uint16_t)idx;
		hist->counts[hist->n++] = v[2];
		total += v[2];
		prev = idx;
	}
	if (total != count)
		return fail(l, ww, "count", "%llu, but the buckets hold %llu",
			    (unsigned long long)count, (unsigned long long)total);
	hist->count = count;
	if (!count) {
		/* The recorder writes 0 for all three when nothing was counted. */
		if (has_sum && sum)
			return fail(l, ww, "sum", "%llu in an empty histogram",
				    (unsigned long long)sum);
		if (has_min && min)
			return fail(l, ww, "min", "%llu in an empty histogram",
				    (unsigned long long)min);
		if (has_max && max)
			return fail(l, ww, "max", "%llu in an empty histogram",
				    (unsigned long long)max);
		*out = hist;
		return 0;
	}
	first = hist->idx[0];
	last = hist->idx[hist->n - 1];
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
	if (hist->min > hist->max)
		return fail(l, ww, "min", "%llu is above max (%llu)", (unsigned long long)hist->min,
			    (unsigned long long)hist->max);
	for (uint32_t i = 0; i < hist->n; i++) {
		uint64_t blo = hist__bucket_lo(hist->idx[i]), bhi = hist__bucket_hi(hist->idx[i]);

		mid += (unsigned __int128)(blo + (bhi - blo) / 2) * hist->counts[i];
		if (blo < hist->min)
			blo = hist->min;
		if (bhi > hist->max || hist->idx[i] == HIST_NBUCKETS - 1)
			bhi = hist->max;
		lo += (unsigned __int128)blo * hist->counts[i];
		hi += (unsigned __int128)bhi * hist->counts[i];
	}
	if (!has_sum) {
		/* No sum in the file: bucket midpoints, as close as the layout gets. */
		if (mid > UINT64_MAX)
			return fail(l, ww, "buckets", "their sum is beyond 64 bits");
		hist->sum = (uint64_t)mid;
	} else if (sum > hi) {
		return fail(l, ww, "sum", "%llu exceeds what the buckets and max allow (%s)",
			    (unsigned long long)sum, u128_str(hi, num, sizeof(num)));
	} else if (sum < lo) {
		return fail(l, ww, "sum", "%llu is less than the buckets and min allow (%s)",
			    (unsigned long long)sum, u128_str(lo, num, sizeof(num)));
	} else {
		hist->sum = sum;
	}
	*out = hist;
	return 0;
}

static int load_ep_db(struct ld *l, json_object *o, const char *w, struct run_endpoint *e)
{
	char ww[W_MAX], wq[W_MAX], num[48];
	json_object *d, *a, *t;
	struct run_ep_db *db = &e->db;
	unsigned __int128 attributed;
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
	    (err = get_u64(l, a, wq, "handoff", 0, &db->attr_handoff)) ||
	    (err = get_pos(l, d, ww, "db_time_share", 0, &db->db_time_share)) ||
	    (err = get(l, d, ww, "top_queries", T_ARR, REQ, &t)))
		return err;
	/* Each request with queries is attributed once, by one of the rules. */
	attributed = (unsigned __int128)db->attr_exact + db->attr_thread + db->attr_shared +
		     db->attr_handoff;
	if (attributed > db->requests)
		return fail(l, wq, NULL, "%s requests, but requests is %llu",
			    u128_str(attributed, num, sizeof(num)),
			    (unsigned long long)db->requests);
	if (db->queries_per_request > db->queries_per_request_max + MS_SLACK)
		return fail(l, ww, "queries_per_request",
			    "%g is above queries_per_request_max (%g)", db->queries_per_request,
			    db->queries_per_request_max);
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

/*
 * Every response counted has its status in "status" (codes that found no slot under "other"),
 * and is a 4xx or a 5xx error by that status.
 */
static int check_status(struct ld *l, const char *w, const struct run_endpoint *e)
{
	unsigned __int128 all = 0;
	uint64_t c4 = 0, c5 = 0, other = 0;
	char ww[W_MAX], num[48];

	for (unsigned i = 0; i < e->status.n; i++) {
		const struct run_count *c = &e->status.v[i];

		all += c->n;
		if (!strcmp(c->key, "other"))
			other += c->n;
		else if (c->key[0] == '4')
			c4 += c->n;
		else if (c->key[0] >= '5')
			c5 += c->n;
	}
	if (all != e->count)
		return fail(l, w, "status", "adds up to %s, but count is %llu",
			    u128_str(all, num, sizeof(num)), (unsigned long long)e->count);
	wpath(ww, "%s.errors", w);
	if (e->err4xx < c4 || e->err4xx - c4 > other)
		return fail(l, ww, "4xx",
			    "%llu, but status has %llu 4xx responses (and %llu other)",
			    (unsigned long long)e->err4xx, (unsigned long long)c4,
			    (unsigned long long)other);
	if (e->err5xx < c5 || e->err5xx - c5 > other)
		return fail(l, ww, "5xx",
			    "%llu, but status has %llu 5xx responses (and %llu other)",
			    (unsigned long long)e->err5xx, (unsigned long long)c5,
			    (unsigned long long)other);
	if ((e->err4xx - c4) + (e->err5xx - c5) > other)
		return fail(l, ww, NULL,
			    "4xx and 5xx count %llu responses of status \"other\", which has %llu",
			    (unsigned long long)((e->err4xx - c4) + (e->err5xx - c5)),
			    (unsigned long long)other);
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

	if (!o || !json_object_is_type(o, json_type_object))
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
	/* Recomputed from the histogram, but a report with them out of order is not ours. */
	if ((err = get_latency(l, o, w, "latency_ms", REQ, &(struct run_latency){ 0 }, NULL)) ||
	    (err = get_latency(l, o, w, "ttfb_ms", 0, &e->ttfb, &e->has_ttfb)) ||
	    (err = get_latency(l, o, w, "server_ms", 0, &e->server, &e->has_server)) ||
	    (err = get_latency(l, o, w, "wait_ms", 0, &e->wait, &e->has_wait)) ||
	    (err = get_hist(l, o, w, &e->hist)))
		return err;
	if (e->hist->count != e->count)
		return fail(l, w, "count", "%llu, but the histogram holds %llu",
			    (unsigned long long)e->count, (unsigned long long)e->hist->count);
	if ((err = check_status(l, w, e)))
		return err;
	return load_ep_db(l, o, w, e);
}

/*
 * Failed and slow executions are executions of the query, and a failure has at most one
 * SQLSTATE (one slot per code; those beyond the slots are not listed).
 */
static int check_dbq(struct ld *l, const char *w, const struct run_dbq *q)
{
	unsigned __int128 states = 0;
	char num[48];

	if (q->errors > q->count)
		return fail(l, w, "errors", "%llu, but count is %llu",
			    (unsigned long long)q->errors, (unsigned long long)q->count);
	if (q->slow > q->count)
		return fail(l, w, "slow", "%llu, but count is %llu", (unsigned long long)q->slow,
			    (unsigned long long)q->count);
	for (unsigned i = 0; i < q->sqlstates.n; i++)
		states += q->sqlstates.v[i].n;
	if (states > q->errors)
		return fail(l, w, "sqlstates", "add up to %s, but errors is %llu",
			    u128_str(states, num, sizeof(num)), (unsigned long long)q->errors);
	return 0;
}

static int load_dbq(struct ld *l, json_object *o, const char *w, struct run_dbq *q)
{
	char ww[W_MAX];
	json_object *p;
	bool has_rows;
	int err;

	if (!o || !json_object_is_type(o, json_type_object))
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
	    (err = get_pos(l, o, w, "time_share", 0, &q->time_share)) ||
	    (err = get_i64(l, o, w, "rows", NULLOK, &q->rows, &has_rows)) ||
	    (err = get_u64(l, o, w, "slow", 0, &q->slow)) ||
	    (err = get_str(l, o, w, "client", NULLOK, &q->client)) ||
	    (err = get_str(l, o, w, "server", NULLOK, &q->server)) ||
	    (err = get_str(l, o, w, "main_path", 0, &q->main_path)) ||
	    (err = get_latency(l, o, w, "latency_ms", REQ, &(struct run_latency){ 0 }, NULL)) ||
	    (err = get_latency(l, o, w, "first_byte_ms", 0, &q->first_byte, &q->has_first_byte)) ||
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
	return check_dbq(l, w, q);
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

/*
 * The counters of db_stats, those of its objects (one per probe path, "libpq": {"queries": 3})
 * as "libpq.queries".
 */
static int get_stats(struct ld *l, json_object *o, struct run_counts *c)
{
	struct json_object_iterator it, end;
	size_t n = 0;
	char ww[W_MAX];
	int err;

	it = json_object_iter_begin(o);
	end = json_object_iter_end(o);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		json_object *v = json_object_iter_peek_value(&it);

		n += v && json_object_is_type(v, json_type_object) ? json_object_object_length(v)
								   : 1;
	}
	c->n = 0;
	c->v = run__alloc(l->r, (n + 1) * sizeof(*c->v));
	if (!c->v)
		return nomem(l);
	it = json_object_iter_begin(o);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *key = json_object_iter_peek_name(&it);
		json_object *v = json_object_iter_peek_value(&it);
		struct json_object_iterator in, in_end;
		char name[W_MAX];

		if (!v || !json_object_is_type(v, json_type_object)) {
			if ((err = u64_of(l, v, "db_stats", key, &c->v[c->n].n)))
				return err;
			if (!(c->v[c->n++].key = run__strdup(l->r, key)))
				return nomem(l);
			continue;
		}
		if (strchr(key, '.'))
			return fail(l, "db_stats", key, "unexpected '.' in the name of a group");
		wpath(ww, "db_stats.%s", key);
		in = json_object_iter_begin(v);
		in_end = json_object_iter_end(v);
		for (; !json_object_iter_equal(&in, &in_end); json_object_iter_next(&in)) {
			const char *k = json_object_iter_peek_name(&in);

			if ((err = u64_of(l, json_object_iter_peek_value(&in), ww, k,
					  &c->v[c->n].n)))
				return err;
			snprintf(name, sizeof(name), "%s.%s", key, k);
			if (!(c->v[c->n++].key = run__strdup(l->r, name)))
				return nomem(l);
		}
	}
	return 0;
}

/* Rows of stream k, once its array passed get(): the array was streamed. */
static int rows_of(struct ld *l, int k, void **v, unsigned *n);

static int load_flag(struct ld *l, json_object *x, const char *w, void *row)
{
	struct run_flag *f = row;
	int err;

	if (!x || !json_object_is_type(x, json_type_object))
		return fail(l, w, NULL, "must be an object");
	if ((err = get_str(l, x, w, "kind", REQ, &f->kind)) ||
	    (err = get_query_id(l, x, w, "query_id", 0, &f->query_id)) ||
	    (err = get_str(l, x, w, "query", REQ | NULLOK, &f->query)) ||
	    (err = get_str(l, x, w, "endpoint", REQ | NULLOK, &f->endpoint)) ||
	    (err = get_str(l, x, w, "evidence", REQ, &f->evidence)) ||
	    (err = get_u64(l, x, w, "occurrences", 0, &f->occurrences)) ||
	    (err = get_pos(l, x, w, "t_s", 0, &f->t_s)) ||
	    (err = get_str(l, x, w, "at", 0, &f->at)) ||
	    (err = get_str(l, x, w, "attribution", 0, &f->attribution)) ||
	    (err = get_pos(l, x, w, "support", 0, &f->support)) ||
	    (err = get_str(l, x, w, "confidence", 0, &f->confidence)))
		return err;
	if (!json_object_object_get_ex(x, "occurrences", NULL))
		f->occurrences = 1;
	return 0;
}

static int load_db(struct ld *l, json_object *root)
{
	struct run *r = l->r;
	json_object *a;
	int err = get(l, root, "", "db", T_ARR, 0, &a);

	if (err || !a)
		return err;
	r->has_db = true;
	if ((err = rows_of(l, S_DB, (void **)&r->dbqs, &r->ndbqs)))
		return err;
	if ((err = get(l, root, "", "db_hotspots", T_OBJ, 0, &a)))
		return err;
	if (a && ((err = load_ids(l, a, "db_hotspots", "by_total_time", &r->hot_total)) ||
		  (err = load_ids(l, a, "db_hotspots", "by_p95", &r->hot_p95)) ||
		  (err = load_ids(l, a, "db_hotspots", "by_count", &r->hot_count))))
		return err;
	if ((err = get(l, root, "", "db_flags", T_ARR, 0, &a)))
		return err;
	if (a && (err = rows_of(l, S_FLAGS, (void **)&r->flags, &r->nflags)))
		return err;
	if (!r->flags && !(r->flags = run__alloc(r, sizeof(*r->flags))))
		return nomem(l);
	if ((err = get(l, root, "", "db_stats", T_OBJ, 0, &a)) || !a)
		return err;
	r->has_db_stats = true;
	if ((err = get_str(l, a, "db_stats", "probes", REQ, &r->db_probes)))
		return err;
	/* db_stats is counters plus the probes string: read it as counters without probes. */
	json_object_object_del(a, "probes");
	return get_stats(l, a, &r->db_stats);
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

static int load_slo_row(struct ld *l, json_object *x, const char *w, void *row)
{
	struct run_slo *s = row;
	int64_t min_count;
	bool known = false;
	uint64_t good, total, judged;
	json_object *t;
	int err;

	if (!x || !json_object_is_type(x, json_type_object))
		return fail(l, w, NULL, "must be an object");
	if ((err = get_str(l, x, w, "name", REQ, &s->name)) ||
	    (err = get_str(l, x, w, "objective", REQ, &s->objective)) ||
	    (err = get_str(l, x, w, "target", NULLOK, &s->target)) ||
	    (err = get_str(l, x, w, "service", NULLOK, &s->service)) ||
	    (err = get_bool(l, x, w, "matched", NULLOK, &s->matched)) ||
	    (err = get_str(l, x, w, "source", NULLOK, &s->source)) ||
	    (err = get_str(l, x, w, "per", NULLOK, &s->per)) ||
	    (err = get_str(l, x, w, "kind", NULLOK, &s->kind)) ||
	    (err = get_str(l, x, w, "errors_are", NULLOK, &s->errors_are)) ||
	    (err = get_i64(l, x, w, "min_count", NULLOK, &min_count, &s->has_min_count)) ||
	    (err = get_bool(l, x, w, "strict", NULLOK, &s->strict)) ||
	    (err = get_bool(l, x, w, "incomplete_data", NULLOK, &s->incomplete_data)) ||
	    (err = get_str(l, x, w, "verdict", REQ, &s->verdict)) ||
	    (err = get_str(l, x, w, "unit", NULLOK, &s->unit)) ||
	    (err = get_bool(l, x, w, "approximate", NULLOK, &s->approximate)) ||
	    (err = get_num(l, x, w, "threshold_ms", NULLOK, &s->threshold_ms)) ||
	    (err = get_num(l, x, w, "percentile", NULLOK, &s->percentile)) ||
	    (err = get_num(l, x, w, "target_ratio", NULLOK, &s->target_ratio)) ||
	    (err = get_num(l, x, w, "observed", NULLOK, &s->observed)) ||
	    (err = get_num(l, x, w, "target_value", NULLOK, &s->target_value)) ||
	    (err = get_num(l, x, w, "margin", NULLOK, &s->margin)) ||
	    (err = get_num(l, x, w, "budget_consumed", NULLOK, &s->budget_consumed)) ||
	    (err = get_num(l, x, w, "first_breach_s", NULLOK, &s->first_breach_s)) ||
	    (err = get_u64(l, x, w, "good", NULLOK, &good)) ||
	    (err = get_u64(l, x, w, "total", NULLOK, &total)) ||
	    (err = get_u64(l, x, w, "judged", NULLOK, &judged)) ||
	    (err = get_u64(l, x, w, "errors", NULLOK, &s->n_errors)) ||
	    (err = get_u64(l, x, w, "protected", NULLOK, &s->n_protected)) ||
	    (err = get_u64(l, x, w, "breached_intervals", NULLOK, &s->breached_intervals)) ||
	    (err = get_u64(l, x, w, "line", NULLOK, &s->line)) ||
	    (err = get_u64(l, x, w, "column", NULLOK, &s->column)))
		return err;
	if (s->has_min_count && min_count < 0)
		return fail(l, w, "min_count", "must not be negative");
	s->min_count = (uint64_t)min_count;
	s->n_total = total;
	for (size_t k = 0; k < sizeof(verdicts) / sizeof(verdicts[0]); k++)
		known |= !strcmp(s->verdict, verdicts[k]);
	if (!known)
		return fail(l, w, "verdict", "'%.40s' is none of pass, breach, insufficient_data",
			    s->verdict);
	s->has_counts = json_object_object_get_ex(x, "total", &t) && t;
	if (!s->unit)
		s->unit = slo_unit_of(s);
	s->good = good;
	/* Good out of judged, as re-judging counts (protected responses are neither). */
	s->total = json_object_object_get_ex(x, "judged", &t) && t ? judged : total;
	if (s->has_counts && json_object_object_get_ex(x, "good", &t) && t && s->good > s->total)
		return fail(l, w, "good", "%llu, but %s is %llu", (unsigned long long)s->good,
			    json_object_object_get_ex(x, "judged", &t) && t ? "judged" : "total",
			    (unsigned long long)s->total);
	return 0;
}

static int load_slo(struct ld *l, json_object *root)
{
	struct run *r = l->r;
	json_object *a;
	int err = get(l, root, "", "slo", T_ARR, NULLOK, &a);

	if (err || !a)
		return err;
	r->has_slo = true;
	return rows_of(l, S_SLO, (void **)&r->slo, &r->nslo);
}

static int load_series(struct ld *l, json_object *x, const char *ww, bool http,
		       struct run_series *s)
{
	char wp[W_MAX], num[48];
	json_object *pts;
	int err;

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
		/* An interval's errors are among its requests; its percentiles are ordered. */
		if (p->errors > p->count)
			return fail(l, wp, "errors", "%llu, but count is %llu",
				    (unsigned long long)p->errors, (unsigned long long)p->count);
		if ((unsigned __int128)p->e4xx + p->e5xx > p->count)
			return fail(
				l, wp, NULL, "4xx and 5xx add up to %s, but count is %llu",
				u128_str((unsigned __int128)p->e4xx + p->e5xx, num, sizeof(num)),
				(unsigned long long)p->count);
		if (p->p95 < p->p50)
			return fail(l, wp, "p95", "%g is below p50 (%g)", p->p95, p->p50);
		if (p->p99 < p->p95)
			return fail(l, wp, "p99", "%g is below p95 (%g)", p->p99, p->p95);
		s->n++;
	}
	return 0;
}

static int load_http_series(struct ld *l, json_object *x, const char *w, void *row)
{
	return load_series(l, x, w, true, row);
}

static int load_db_series(struct ld *l, json_object *x, const char *w, void *row)
{
	return load_series(l, x, w, false, row);
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
	if ((err = get_u64(l, o, "timeline", "points_dropped", 0, &t->points_dropped)))
		return err;
	if ((err = get(l, o, "timeline", "http", T_ARR, 0, &a)) ||
	    (a && (err = rows_of(l, S_TL_HTTP, (void **)&t->http, &t->nhttp))) ||
	    (err = get(l, o, "timeline", "db", T_ARR, 0, &a)) ||
	    (a && (err = rows_of(l, S_TL_DB, (void **)&t->db, &t->ndb))))
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
	if (o) {
		struct run_slo_summary *ss = &r->slo_summary;

		r->has_slo_summary = true;
		if ((err = get_num(l, o, "slo_summary", "max_drop_pct", NULLOK,
				   &r->max_drop_pct)) ||
		    (err = get_str(l, o, "slo_summary", "file", NULLOK, &ss->file)) ||
		    (err = get_pos(l, o, "slo_summary", "warmup_s", NULLOK, &ss->warmup_s)) ||
		    (err = get_u64(l, o, "slo_summary", "objectives", NULLOK, &ss->objectives)) ||
		    (err = get_u64(l, o, "slo_summary", "pass", NULLOK, &ss->pass)) ||
		    (err = get_u64(l, o, "slo_summary", "breach", NULLOK, &ss->breach)) ||
		    (err = get_u64(l, o, "slo_summary", "insufficient_data", NULLOK,
				   &ss->insufficient)) ||
		    (err = get_u64(l, o, "slo_summary", "rows_dropped", NULLOK,
				   &ss->rows_dropped)) ||
		    (err = get_bool(l, o, "slo_summary", "incomplete_data", NULLOK,
				    &ss->incomplete_data)) ||
		    (err = get_pos(l, o, "slo_summary", "dropped_pct", NULLOK,
				   &ss->dropped_pct)) ||
		    (err = get_str(l, o, "slo_summary", "verdict", NULLOK, &ss->verdict)))
			return err;
	}
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
		    (err = get_u64(l, o, "bpf", "run_cnt", 0, &r->bpf_run_cnt)) ||
		    (err = get_u64(l, o, "bpf", "db_probes_run_time_ns", 0, &r->bpf_db_run_ns)) ||
		    (err = get_u64(l, o, "bpf", "db_probes_run_cnt", 0, &r->bpf_db_run_cnt)))
			return err;
		r->has_bpf_run = json_object_object_get_ex(o, "run_time_ns", NULL);
		r->has_bpf_db_run = json_object_object_get_ex(o, "db_probes_run_time_ns", NULL);
	}
	return 0;
}

static int load(struct ld *l, json_object *root)
{
	struct run *r = l->r;
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
	/* Scanned before anything was loaded, reported once the file is known to be a report. */
	if (l->js->range[0]) {
		snprintf(l->err, l->errsz, "%s", l->js->range);
		return -EINVAL;
	}
	if (l->dup[0]) {
		snprintf(l->err, l->errsz, "%s", l->dup);
		return -EINVAL;
	}
	if ((err = load_head(l, root)))
		return err;
	if ((err = get(l, root, "", "http", T_ARR, REQ, &o)) ||
	    (err = rows_of(l, S_HTTP, (void **)&r->eps, &r->neps)))
		return err;
	if ((err = load_db(l, root)) || (err = load_slo(l, root)) || (err = load_timeline(l, root)))
		return err;
	return 0;
}

static int load_endpoint_row(struct ld *l, json_object *o, const char *w, void *row)
{
	return load_endpoint(l, o, w, row);
}

static int load_dbq_row(struct ld *l, json_object *o, const char *w, void *row)
{
	return load_dbq(l, o, w, row);
}

static const struct stream {
	bool timeline; /* a member of "timeline", not of the top level */
	const char *key;
	size_t size;
	int (*load)(struct ld *l, json_object *o, const char *w, void *row);
} streams[S_NR] = {
	[S_HTTP] = { false, "http", sizeof(struct run_endpoint), load_endpoint_row },
	[S_DB] = { false, "db", sizeof(struct run_dbq), load_dbq_row },
	[S_FLAGS] = { false, "db_flags", sizeof(struct run_flag), load_flag },
	[S_SLO] = { false, "slo", sizeof(struct run_slo), load_slo_row },
	[S_TL_HTTP] = { true, "http", sizeof(struct run_series), load_http_series },
	[S_TL_DB] = { true, "db", sizeof(struct run_series), load_db_series },
};

/* Members the loader reads; the values of others are checked and skipped, never parsed. */
static const char *const top_keys[] = {
	"schema", "tool",	 "host",	"window", "command",	 "filters",  "definitions",
	"events", "connections", "http_parser", "bpf",	  "db_hotspots", "db_stats", "timeline",
	"slo_summary",
};

static bool known_key(const char *k, bool timeline)
{
	if (timeline)
		return !strcmp(k, "interval_s") || !strcmp(k, "points_dropped");
	for (size_t i = 0; i < sizeof(top_keys) / sizeof(top_keys[0]); i++)
		if (!strcmp(k, top_keys[i]))
			return true;
	return false;
}

/* A zeroed row at the end of rs. */
static void *rows_push(struct rows *rs, size_t size)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? 2 * rs->cap : 16;
		struct run_arena *b = realloc(rs->blk, sizeof(*b) + cap * size);

		if (!b)
			return NULL;
		rs->blk = b;
		rs->cap = cap;
	}
	return memset(rs->blk->data + rs->n++ * size, 0, size);
}

static int rows_of(struct ld *l, int k, void **v, unsigned *n)
{
	struct rows *rs = &l->rows[k];

	if (rs->ret) {
		snprintf(l->err, l->errsz, "%s", rs->err ? rs->err : "out of memory");
		return rs->ret;
	}
	/* An empty array still gets a (zeroed) row of storage, as consumers expect. */
	if (!rs->blk) {
		if (!rows_push(rs, streams[k].size))
			return nomem(l);
		rs->n = 0;
	}
	*v = rs->blk->data;
	*n = (unsigned)rs->n;
	return 0;
}

/* Give the blocks of rows to the run's arena, which frees them with everything else. */
static void rows_adopt(struct ld *l)
{
	struct run_arena *head = l->r->arena;

	for (int k = 0; k < S_NR; k++) {
		struct run_arena *b = l->rows[k].blk;

		free(l->rows[k].err);
		if (!b)
			continue;
		b->used = b->size = l->rows[k].cap * streams[k].size;
		if (head) {
			b->next = head->next;
			head->next = b;
		} else {
			free(b);
		}
	}
}

/* 1-based line and column of byte off of a piece that starts at line, col. */
static void piece_pos(const char *p, size_t off, unsigned *line, unsigned *col)
{
	for (size_t i = 0; i < off; i++) {
		if (p[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* The DOM of the piece (p, n) the scanner just took and checked. */
static int dom(struct ld *l, const char *p, size_t n, json_object **out)
{
	enum json_tokener_error jerr;
	unsigned line = l->js->piece_line, col = l->js->piece_col;

	json_tokener_reset(l->tok);
	*out = json_tokener_parse_ex(l->tok, p, (int)n);
	jerr = json_tokener_get_error(l->tok);
	/* A number or a literal alone ends only where something follows it. */
	if (jerr == json_tokener_continue) {
		*out = json_tokener_parse_ex(l->tok, " ", 1);
		jerr = json_tokener_get_error(l->tok);
	}
	if (jerr == json_tokener_success)
		return 0;
	json_object_put(*out);
	*out = NULL;
	/* Not expected after the scanner's checks, but json-c has the last word on the text. */
	piece_pos(p, json_tokener_get_parse_end(l->tok), &line, &col);
	snprintf(l->err, l->errsz, "malformed JSON at line %u, column %u: %s", line, col,
		 json_tokener_error_desc(jerr));
	return -EINVAL;
}

/* The elements of array key, each loaded as it is read; the first error is kept for later. */
static int stream_rows(struct ld *l, int k, const char *key)
{
	const struct stream *st = &streams[k];
	struct rows *rs = &l->rows[k];
	struct jscan *js = l->js;
	char w[W_MAX];
	int more, err;

	if (jscan__open(js, '['))
		return js->err;
	for (size_t i = 0; (more = jscan__more(js, ']', !i)) == 1; i++) {
		const char *p;
		json_object *o;
		size_t n;
		void *row;

		jscan__push_index(js, (int64_t)i);
		if (rs->ret) {
			if (jscan__skip(js))
				return js->err;
			jscan__pop(js);
			continue;
		}
		if (jscan__take(js, &p, &n))
			return js->err;
		if ((err = dom(l, p, n, &o)))
			return err;
		row = rows_push(rs, st->size);
		wpath(w, "%s%s[%zu]", st->timeline ? "timeline." : "", key, i);
		err = row ? st->load(l, o, w, row) : nomem(l);
		json_object_put(o);
		if (err == -ENOMEM)
			return err;
		if (err) {
			rs->ret = err;
			rs->err = strdup(l->err);
		}
		jscan__pop(js);
	}
	return more < 0 ? more : 0;
}

/*
 * The members of an object read one by one: the top level, and "timeline" in it. Known members
 * get their DOM in obj; arrays of rows are streamed and leave an empty array in obj.
 */
static int members(struct ld *l, json_object *obj, bool timeline)
{
	struct jscan *js = l->js;
	char key[JSCAN_KEY_MAX], w[W_MAX];
	int more, err = 0;

	if (jscan__open(js, '{'))
		return js->err;
	for (bool first = true; (more = jscan__more(js, '}', first)) == 1; first = false) {
		json_object *v = NULL;
		const char *p;
		int k, c;
		size_t n;

		if (jscan__key(js, key, sizeof(key)))
			return js->err;
		c = jscan__peek(js);
		for (k = 0; k < S_NR; k++)
			if (streams[k].timeline == timeline && !strcmp(streams[k].key, key))
				break;
		if ((k == S_NR && !known_key(key, timeline)) ||
		    json_object_object_get_ex(obj, key, NULL)) {
			/* Unknown, or given twice: json-c would keep the last, silently. */
			if (k < S_NR || known_key(key, timeline)) {
				jscan__path(js, w, sizeof(w));
				if (!l->dup[0])
					snprintf(l->dup, sizeof(l->dup), "%s: given twice", w);
			}
			if (jscan__skip(js))
				return js->err;
		} else if (k < S_NR && c == '[') {
			v = json_object_new_array();
			if (!v || json_object_object_add(obj, key, v))
				return nomem(l);
			if ((err = stream_rows(l, k, key)))
				return err;
		} else if (!timeline && !strcmp(key, "timeline") && c == '{') {
			v = json_object_new_object();
			if (!v || json_object_object_add(obj, key, v))
				return nomem(l);
			if ((err = members(l, v, true)))
				return err;
		} else {
			if (jscan__take(js, &p, &n))
				return js->err;
			if ((err = dom(l, p, n, &v)))
				return err;
			if (json_object_object_add(obj, key, v)) {
				json_object_put(v);
				return nomem(l);
			}
		}
		jscan__pop(js);
	}
	return more < 0 ? more : 0;
}

static const char *kind_of(int c)
{
	switch (c) {
	case '[':
		return "an array";
	case '"':
		return "a string";
	case 't':
	case 'f':
		return "a boolean";
	case 'n':
		return "null";
	default:
		return "a number";
	}
}

static int parse(struct run *r, struct jscan *js, const char *path, char *err, size_t errsz)
{
	struct ld l = { .r = r, .err = err, .errsz = errsz, .js = js };
	json_object *root = NULL;
	int ret, c;

	if (errsz)
		err[0] = '\0';
	ret = run__init(r);
	if (ret)
		return nomem(&l);
	r->path = run__strdup(r, path ? path : "-");
	l.tok = json_tokener_new_ex(JSON_DEPTH);
	root = json_object_new_object();
	if (!r->path || !l.tok || !root) {
		ret = nomem(&l);
		goto out;
	}
	json_tokener_set_flags(l.tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	c = jscan__peek(js);
	if (c == '{') {
		ret = members(&l, root, false);
	} else {
		/* Checked whole first: a malformed file is reported as such. */
		ret = jscan__skip(js);
		if (!ret && !(ret = jscan__end(js)))
			ret = fail(&l, "", NULL, "not a sloprobe report: the top level is %s",
				   kind_of(c));
	}
	if (!ret)
		ret = jscan__end(js);
	if (ret == -EFBIG) {
		snprintf(err, errsz, "larger than 1 GiB: not a report");
		ret = -EINVAL;
	} else if (ret && js->err) {
		snprintf(err, errsz, "%s", js->msg);
	}
	if (!ret)
		ret = load(&l, root);
out:
	rows_adopt(&l);
	json_object_put(root);
	if (l.tok)
		json_tokener_free(l.tok);
	if (ret)
		run__free(r);
	return ret;
}

int run__parse(struct run *r, const char *buf, size_t len, const char *path, char *err,
	       size_t errsz)
{
	struct jscan js;

	jscan__init_mem(&js, buf, len);
	return parse(r, &js, path, err, errsz);
}

int run__load(struct run *r, const char *path, char *err, size_t errsz)
{
	struct jscan js;
	struct stat st;
	int fd, ret;

	/* Read in blocks, never whole: a report of 100 000 endpoints is 350 MB of text. */
	fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : dup(0);
	if (fd < 0) {
		snprintf(err, errsz, "%s", strerror(errno));
		return -errno;
	}
	ret = fstat(fd, &st) ? -errno : S_ISDIR(st.st_mode) ? -EISDIR : 0;
	if (ret) {
		snprintf(err, errsz, "%s", strerror(-ret));
		close(fd);
		return ret;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > MAX_INPUT) {
		close(fd);
		snprintf(err, errsz, "larger than 1 GiB: not a report");
		return -EINVAL;
	}
	if (jscan__init_fd(&js, fd, MAX_INPUT)) {
		close(fd);
		snprintf(err, errsz, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	ret = parse(r, &js, path, err, errsz);
	jscan__free(&js);
	close(fd);
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

void run__latency(const struct hist_sparse *h, struct run_latency *l)
{
	l->p50 = hist_sparse__percentile(h, 50) / 1e6;
	l->p90 = hist_sparse__percentile(h, 90) / 1e6;
	l->p95 = hist_sparse__percentile(h, 95) / 1e6;
	l->p99 = hist_sparse__percentile(h, 99) / 1e6;
	l->p999 = hist_sparse__percentile(h, 99.9) / 1e6;
	l->max = h->max / 1e6;
	l->min = h->count ? h->min / 1e6 : 0;
	l->mean = hist_sparse__mean(h) / 1e6;
}

void run__latency_dense(const struct hist *h, struct run_latency *l)
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

struct hist_sparse *run__hist(struct run *r, const struct hist *h)
{
	struct hist_sparse *s = run__alloc(r, sizeof(*s));
	uint32_t n = 0;

	if (!s)
		return NULL;
	for (int i = 0; i < (int)HIST_NBUCKETS; i++)
		n += !!h->buckets[i];
	s->idx = run__alloc(r, n * sizeof(*s->idx));
	s->counts = run__alloc(r, n * sizeof(*s->counts));
	if (!s->idx || !s->counts)
		return NULL;
	for (int i = 0; i < (int)HIST_NBUCKETS; i++) {
		if (!h->buckets[i])
			continue;
		s->idx[s->n] = (uint16_t)i;
		s->counts[s->n++] = h->buckets[i];
	}
	s->count = h->count;
	s->sum = h->sum;
	s->min = h->count ? h->min : 0;
	s->max = h->max;
	return s;
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

/* db_stats: plain counters, then each group ("libpq.queries") as an object, in first order. */
static void w_stats(struct json *j, const struct run_counts *c)
{
	for (unsigned i = 0; i < c->n; i++)
		if (!strchr(c->v[i].key, '.'))
			json__kv_u64(j, c->v[i].key, c->v[i].n);
	for (unsigned i = 0; i < c->n; i++) {
		const char *dot = strchr(c->v[i].key, '.');
		size_t len = dot ? (size_t)(dot - c->v[i].key) : 0;
		bool seen = false;
		char group[W_MAX];

		for (unsigned k = 0; dot && k < i && !seen; k++)
			seen = !strncmp(c->v[k].key, c->v[i].key, len + 1);
		if (!dot || seen)
			continue;
		snprintf(group, sizeof(group), "%.*s", (int)len, c->v[i].key);
		json__key(j, group);
		json__begin_object(j);
		for (unsigned k = i; k < c->n; k++)
			if (!strncmp(c->v[k].key, c->v[i].key, len + 1))
				json__kv_u64(j, c->v[k].key + len + 1, c->v[k].n);
		json__end_object(j);
	}
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

/* The dense form of h in scratch, for the writer shared with the recorder. */
static const struct hist *dense(const struct hist_sparse *h, struct hist *scratch)
{
	hist__init(scratch);
	hist__merge_sparse(scratch, h);
	return scratch;
}

static void w_endpoint(struct json *j, const struct run_endpoint *e, struct hist *scratch)
{
	const struct hist *h = dense(e->hist, scratch);
	double mean_ms = hist__mean(h) / 1e6;

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
	histjson__latency(j, "latency_ms", h);
	if (e->has_ttfb)
		w_latency(j, "ttfb_ms", &e->ttfb);
	if (e->has_server)
		w_latency(j, "server_ms", &e->server);
	if (e->has_wait)
		w_latency(j, "wait_ms", &e->wait);
	histjson__histogram(j, "histogram", h);
	if (e->has_db) {
		const struct run_ep_db *d = &e->db;

		json__key(j, "db");
		json__begin_object(j);
		json__kv_u64(j, "requests", d->requests);
		json__kv_fixed(j, "queries_per_request", d->queries_per_request, 3);
		json__kv_fixed(j, "queries_per_request_max", d->queries_per_request_max, 3);
		json__kv_fixed(j, "db_time_ms_per_request", d->db_time_ms_per_request, 3);
		/* From the unrounded times where the file or the recorder has it. */
		json__kv_fixed(j, "db_time_share",
			       !isnan(d->db_time_share) ? d->db_time_share
			       : mean_ms > 0	       ? d->db_time_ms_per_request / mean_ms
						       : 0,
			       4);
		json__key(j, "attribution");
		json__begin_object(j);
		json__kv_u64(j, "exact", d->attr_exact);
		json__kv_u64(j, "thread", d->attr_thread);
		json__kv_u64(j, "shared", d->attr_shared);
		json__kv_u64(j, "handoff", d->attr_handoff);
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

static void w_dbq(struct json *j, const struct run_dbq *q, uint64_t db_total_ns,
		  struct hist *scratch)
{
	const struct hist *h = dense(q->hist, scratch);

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
	json__kv_fixed(j, "time_share",
		       !isnan(q->time_share) ? q->time_share
		       : db_total_ns	     ? (double)q->hist->sum / db_total_ns
					     : 0,
		       4);
	if (q->has_rows)
		json__kv_i64(j, "rows", q->rows);
	else
		json__kv_string(j, "rows", NULL);
	json__kv_u64(j, "slow", q->slow);
	if (q->client) /* older reports may lack it; the schema has no null for it */
		json__kv_string(j, "client", q->client);
	json__kv_string(j, "server", q->server);
	if (q->main_path)
		json__kv_string(j, "main_path", q->main_path);
	histjson__latency(j, "latency_ms", h);
	if (q->has_first_byte)
		w_latency(j, "first_byte_ms", &q->first_byte);
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
	histjson__histogram(j, "histogram", h);
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

static void w_db(struct json *j, const struct run *r, struct hist *scratch)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < r->ndbqs; i++)
		total += r->dbqs[i].hist->sum;
	json__key(j, "db");
	json__begin_array(j);
	for (unsigned i = 0; i < r->ndbqs; i++)
		w_dbq(j, &r->dbqs[i], total, scratch);
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
		if (!isnan(f->t_s))
			json__kv_fixed(j, "t_s", f->t_s, 3);
		if (f->at)
			json__kv_string(j, "at", f->at);
		if (f->attribution)
			json__kv_string(j, "attribution", f->attribution);
		if (!isnan(f->support))
			json__kv_fixed(j, "support", f->support, 3);
		if (f->confidence)
			json__kv_string(j, "confidence", f->confidence);
		json__end_object(j);
	}
	json__end_array(j);
	if (r->has_db_stats) {
		json__key(j, "db_stats");
		json__begin_object(j);
		json__kv_string(j, "probes", r->db_probes);
		w_stats(j, &r->db_stats);
		json__end_object(j);
	}
}

/* A number the file may have had as null (NaN here). */
static void w_num(struct json *j, const char *key, double v, int decimals)
{
	json__key(j, key);
	if (isnan(v))
		json__null(j);
	else if (decimals < 0)
		json__double(j, v);
	else
		json__fixed(j, v, decimals);
}

static void w_slo(struct json *j, const struct run *r)
{
	json__key(j, "slo");
	json__begin_array(j);
	for (unsigned i = 0; i < r->nslo; i++) {
		const struct run_slo *s = &r->slo[i];

		json__begin_object(j);
		json__kv_string(j, "name", s->name);
		json__kv_string(j, "objective", s->objective);
		json__kv_string(j, "target", s->target);
		if (s->service)
			json__kv_string(j, "service", s->service);
		json__kv_bool(j, "matched", s->matched);
		json__kv_string(j, "source", s->source);
		json__kv_string(j, "per", s->per);
		json__kv_string(j, "kind", s->kind);
		if (!isnan(s->threshold_ms))
			json__kv_fixed(j, "threshold_ms", s->threshold_ms, 6);
		if (!isnan(s->percentile))
			json__kv_fixed(j, "percentile", s->percentile, 7);
		if (s->errors_are)
			json__kv_string(j, "errors_are", s->errors_are);
		if (!isnan(s->target_ratio))
			json__kv_fixed(j, "target_ratio", s->target_ratio, 9);
		if (s->has_min_count)
			json__kv_u64(j, "min_count", s->min_count);
		json__kv_bool(j, "strict", s->strict);
		json__kv_string(j, "unit", s->unit);
		w_num(j, "observed", s->observed, -1);
		w_num(j, "target_value", s->target_value, -1);
		w_num(j, "margin", s->margin, -1);
		json__kv_u64(j, "total", s->n_total);
		json__kv_u64(j, "good", s->good);
		json__kv_u64(j, "errors", s->n_errors);
		json__kv_u64(j, "protected", s->n_protected);
		/* Good out of judged, as the loader keeps them: files without judged say total. */
		json__kv_u64(j, "judged", s->total);
		json__kv_u64(j, "bad", s->total > s->good ? s->total - s->good : 0);
		w_num(j, "budget_consumed", s->budget_consumed, -1);
		json__kv_string(j, "verdict", s->verdict);
		w_num(j, "first_breach_s", s->first_breach_s, 3);
		json__kv_u64(j, "breached_intervals", s->breached_intervals);
		json__kv_bool(j, "approximate", s->approximate);
		json__kv_bool(j, "incomplete_data", s->incomplete_data);
		json__kv_u64(j, "line", s->line);
		json__kv_u64(j, "column", s->column);
		json__end_object(j);
	}
	json__end_array(j);
}

static void w_slo_summary(struct json *j, const struct run *r)
{
	const struct run_slo_summary *s = &r->slo_summary;

	json__key(j, "slo_summary");
	json__begin_object(j);
	json__kv_string(j, "file", s->file);
	w_num(j, "warmup_s", s->warmup_s, 3);
	json__kv_u64(j, "objectives", s->objectives);
	json__kv_u64(j, "pass", s->pass);
	json__kv_u64(j, "breach", s->breach);
	json__kv_u64(j, "insufficient_data", s->insufficient);
	json__kv_u64(j, "rows_dropped", s->rows_dropped);
	json__kv_bool(j, "incomplete_data", s->incomplete_data);
	w_num(j, "dropped_pct", s->dropped_pct, 4);
	w_num(j, "max_drop_pct", r->max_drop_pct, 4);
	json__kv_string(j, "verdict", s->verdict);
	json__end_object(j);
}

static void w_series(struct json *j, const struct run_series *s, bool http)
{
	json__begin_object(j);
	if (http) {
		json__kv_string(j, "service", s->service);
		json__kv_string(j, "method", s->method);
		json__kv_string(j, "route", s->route);
	} else {
		json__kv_string(j, "query", s->query);
	}
	json__key(j, "points");
	json__begin_array(j);
	for (unsigned i = 0; i < s->n; i++) {
		const struct run_tpoint *p = &s->p[i];

		json__begin_object(j);
		json__kv_fixed(j, "t", p->t, 3);
		json__kv_u64(j, "count", p->count);
		json__kv_fixed(j, "rate_per_s", p->rate_per_s, 3);
		w_num(j, "p50", p->p50, 3);
		w_num(j, "p95", p->p95, 3);
		w_num(j, "p99", p->p99, 3);
		json__kv_u64(j, "errors", p->errors);
		if (http) {
			json__kv_u64(j, "5xx", p->e5xx);
			json__kv_u64(j, "4xx", p->e4xx);
			if (!isnan(p->wait_p95))
				json__kv_fixed(j, "wait_p95", p->wait_p95, 3);
		}
		json__end_object(j);
	}
	json__end_array(j);
	json__end_object(j);
}

static void w_timeline(struct json *j, const struct run_timeline *t)
{
	json__key(j, "timeline");
	json__begin_object(j);
	json__kv_fixed(j, "interval_s", t->interval_s, 3);
	json__kv_u64(j, "points_dropped", t->points_dropped);
	json__key(j, "http");
	json__begin_array(j);
	for (unsigned i = 0; i < t->nhttp; i++)
		w_series(j, &t->http[i], true);
	json__end_array(j);
	json__key(j, "db");
	json__begin_array(j);
	for (unsigned i = 0; i < t->ndb; i++)
		w_series(j, &t->db[i], false);
	json__end_array(j);
	json__end_object(j);
}

int run__write(FILE *f, const struct run *r)
{
	struct hist *scratch = malloc(sizeof(*scratch));
	struct json *j = scratch ? json__new(f, true) : NULL;
	int err;

	if (!j) {
		free(scratch);
		return -ENOMEM;
	}
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
		if (r->has_bpf_db_run) {
			json__kv_u64(j, "db_probes_run_time_ns", r->bpf_db_run_ns);
			json__kv_u64(j, "db_probes_run_cnt", r->bpf_db_run_cnt);
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
		w_endpoint(j, &r->eps[i], scratch);
	json__end_array(j);
	if (r->has_db)
		w_db(j, r, scratch);
	if (r->has_slo)
		w_slo(j, r);
	if (r->has_slo_summary)
		w_slo_summary(j, r);
	if (r->has_timeline)
		w_timeline(j, &r->timeline);
	json__end_object(j);
	err = json__finish(j);
	json__free(j);
	free(scratch);
	return err;
}

bool run__incomplete(const struct run *r)
{
	double max_pct = isnan(r->max_drop_pct) ? SLO_MAX_DROP_PCT : r->max_drop_pct;

	return slo__data_incomplete(r->events_dropped, r->events_total, max_pct);
}
