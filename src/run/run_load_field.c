// SPDX-License-Identifier: GPL-2.0-only
/*
 * The loader's field getters: one member of a json-c object checked against a type and a range,
 * and a histogram against the layout, each refusal one message naming the field. The vocabulary
 * of run_load_section.c; its own file because it knows nothing of the report's sections.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "lib/hist.h"
#include "run/run_load.h"
#include "run/run_priv.h"
#include "run/runfile.h"

static const char *const type_names[] = {
	[T_ANY] = "a value",	[T_STR] = "a string",  [T_INT] = "an integer", [T_NUM] = "a number",
	[T_BOOL] = "a boolean", [T_OBJ] = "an object", [T_ARR] = "an array",
};

int __attribute__((format(printf, 4, 5)))
ld__fail(struct ld *l, const char *w, const char *k, const char *fmt, ...)
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
void __attribute__((format(printf, 2, 3))) ld__wpath(char *dst, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, W_MAX, fmt, ap);
	va_end(ap);
}

int ld__nomem(struct ld *l)
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
int ld__get(struct ld *l, json_object *o, const char *w, const char *k, enum vtype t, unsigned fl,
	    json_object **out)
{
	json_object *v = NULL;

	*out = NULL;
	if (!json_object_object_get_ex(o, k, &v)) {
		if (fl & REQ)
			return ld__fail(l, w, k, "missing");
		return 0;
	}
	if (!v) {
		if (fl & NULLOK)
			return 0;
		return ld__fail(l, w, k, "must be %s, not null", type_names[t]);
	}
	if (!is_type(v, t))
		return ld__fail(l, w, k, "must be %s", type_names[t]);
	*out = v;
	return 0;
}

int ld__u64_of(struct ld *l, json_object *v, const char *w, const char *k, uint64_t *out)
{
	if (!json_object_is_type(v, json_type_int))
		return ld__fail(l, w, k, "must be an integer");
	if (json_object_get_int64(v) < 0)
		return ld__fail(l, w, k, "must not be negative");
	*out = json_object_get_uint64(v);
	return 0;
}

int ld__get_u64(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
		uint64_t *out)
{
	json_object *v;
	int err = ld__get(l, o, w, k, T_INT, fl, &v);

	*out = 0;
	if (err || !v)
		return err;
	return ld__u64_of(l, v, w, k, out);
}

int ld__get_i64(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
		int64_t *out, bool *present)
{
	json_object *v;
	int err = ld__get(l, o, w, k, T_INT, fl, &v);

	*out = 0;
	if (present)
		*present = v;
	if (err || !v)
		return err;
	*out = json_object_get_int64(v);
	return 0;
}

/* NaN when absent or null. */
int ld__get_num(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
		double *out)
{
	json_object *v;
	int err = ld__get(l, o, w, k, T_NUM, fl, &v);

	*out = NAN;
	if (err || !v)
		return err;
	*out = json_object_get_double(v);
	if (!isfinite(*out))
		return ld__fail(l, w, k, "must be a finite number");
	return 0;
}

/* Like ld__get_num for quantities that cannot be negative. */
int ld__get_pos(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
		double *out)
{
	int err = ld__get_num(l, o, w, k, fl, out);

	if (!err && *out < 0)
		return ld__fail(l, w, k, "must not be negative");
	return err;
}

int ld__get_bool(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl, bool *out)
{
	json_object *v;
	int err = ld__get(l, o, w, k, T_BOOL, fl, &v);

	*out = false;
	if (err || !v)
		return err;
	*out = json_object_get_boolean(v);
	return 0;
}

int ld__get_str(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
		const char **out)
{
	json_object *v;
	int err = ld__get(l, o, w, k, T_STR, fl, &v);

	*out = NULL;
	if (err || !v)
		return err;
	*out = run__strdup(l->r, json_object_get_string(v));
	return *out ? 0 : ld__nomem(l);
}

/* Member k must be an object of non-negative integers; kept in file order. */
int ld__get_counts(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
		   struct run_counts *c, bool (*key_ok)(const char *))
{
	struct json_object_iterator it, end;
	char ww[W_MAX];
	json_object *v;
	int err = ld__get(l, o, w, k, T_OBJ, fl, &v);

	c->v = NULL;
	c->n = 0;
	if (err || !v)
		return err;
	c->v = run__alloc(l->r, (json_object_object_length(v) + 1) * sizeof(*c->v));
	if (!c->v)
		return ld__nomem(l);
	ld__wpath(ww, "%s%s%s", w, *w ? "." : "", k);
	it = json_object_iter_begin(v);
	end = json_object_iter_end(v);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *key = json_object_iter_peek_name(&it);
		struct run_count *rc = &c->v[c->n];

		if (key_ok && !key_ok(key))
			return ld__fail(l, ww, NULL, "unexpected key '%s'", key);
		err = ld__u64_of(l, json_object_iter_peek_value(&it), ww, key, &rc->n);
		if (err)
			return err;
		rc->key = run__strdup(l->r, key);
		if (!rc->key)
			return ld__nomem(l);
		c->n++;
	}
	return 0;
}

bool ld__query_id_ok(const char *s)
{
	if (strlen(s) != 16)
		return false;
	for (int i = 0; i < 16; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int ld__get_strings(struct ld *l, json_object *o, const char *w, const char *k, struct run_ids *ids,
		    bool (*ok)(const char *), const char *what)
{
	char ww[W_MAX];
	json_object *a;
	int err = ld__get(l, o, w, k, T_ARR, 0, &a);

	if (err || !a)
		return err;
	ids->v = run__alloc(l->r, (json_object_array_length(a) + 1) * sizeof(*ids->v));
	if (!ids->v)
		return ld__nomem(l);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *x = json_object_array_get_idx(a, i);

		ld__wpath(ww, "%s.%s[%zu]", w, k, i);
		if (!x || !json_object_is_type(x, json_type_string) ||
		    !ok(json_object_get_string(x)))
			return ld__fail(l, ww, NULL, "must be %s", what);
		ids->v[ids->n] = run__strdup(l->r, json_object_get_string(x));
		if (!ids->v[ids->n++])
			return ld__nomem(l);
	}
	return 0;
}

int ld__get_query_id(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
		     const char **out)
{
	int err = ld__get_str(l, o, w, k, fl, out);

	if (!err && *out && !ld__query_id_ok(*out))
		return ld__fail(l, w, k, "'%s' is not a 16-digit hex query id", *out);
	return err;
}

int ld__get_u64_array(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
		      uint64_t **out, unsigned *n)
{
	char ww[W_MAX];
	json_object *v;
	int err = ld__get(l, o, w, k, T_ARR, fl, &v);

	*out = NULL;
	*n = 0;
	if (err || !v)
		return err;
	*out = run__alloc(l->r, (json_object_array_length(v) + 1) * sizeof(**out));
	if (!*out)
		return ld__nomem(l);
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		ld__wpath(ww, "%s%s%s[%zu]", w, *w ? "." : "", k, i);
		err = ld__u64_of(l, json_object_array_get_idx(v, i), ww, NULL, &(*out)[i]);
		if (err)
			return err;
		(*n)++;
	}
	return 0;
}

int ld__get_latency(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
		    struct run_latency *lat, bool *present)
{
	static const char *const names[] = { "p50", "p90", "p95", "p99", "p999", "max" };
	char ww[W_MAX];
	json_object *v;
	int err = ld__get(l, o, w, k, T_OBJ, fl, &v);
	double p[6];

	if (present)
		*present = v;
	if (err || !v)
		return err;
	ld__wpath(ww, "%s%s%s", w, *w ? "." : "", k);
	for (int i = 0; i < 6; i++)
		if ((err = ld__get_pos(l, v, ww, names[i], REQ, &p[i])))
			return err;
	if ((err = ld__get_pos(l, v, ww, "min", 0, &lat->min)) ||
	    (err = ld__get_pos(l, v, ww, "mean", REQ, &lat->mean)))
		return err;
	for (int i = 1; i < 6; i++)
		if (p[i] < p[i - 1])
			return ld__fail(l, ww, names[i], "%g is below %s (%g)", p[i], names[i - 1],
					p[i - 1]);
	if (!isnan(lat->min) && lat->min > p[0])
		return ld__fail(l, ww, "min", "%g is above p50 (%g)", lat->min, p[0]);
	if (lat->mean > p[5] + MS_SLACK)
		return ld__fail(l, ww, "mean", "%g is above max (%g)", lat->mean, p[5]);
	if (!isnan(lat->min) && lat->mean + MS_SLACK < lat->min)
		return ld__fail(l, ww, "mean", "%g is below min (%g)", lat->mean, lat->min);
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
const char *ld__u128_str(unsigned __int128 v, char *buf, size_t sz)
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
int ld__get_hist(struct ld *l, json_object *o, const char *w, struct hist_sparse **out)
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

	err = ld__get(l, o, w, "histogram", T_OBJ, REQ, &h);
	if (err)
		return err;
	ld__wpath(ww, "%s.histogram", w);
	err = ld__get(l, h, ww, "layout", T_STR, REQ, &b);
	if (err)
		return err;
	s = json_object_get_string(b);
	if (strcmp(s, HIST_LAYOUT))
		return ld__fail(l, ww, "layout",
				"unknown histogram layout '%.40s' (this sloprobe reads " HIST_LAYOUT
				")",
				s);
	err = ld__get(l, h, ww, "unit", T_STR, REQ, &b);
	if (err)
		return err;
	if (strcmp(json_object_get_string(b), "ns"))
		return ld__fail(l, ww, "unit", "unknown unit '%.20s' (want ns)",
				json_object_get_string(b));
	if ((err = ld__get_u64(l, h, ww, "count", REQ, &count)))
		return err;
	has_sum = json_object_object_get_ex(h, "sum", NULL);
	has_min = json_object_object_get_ex(h, "min", NULL);
	has_max = json_object_object_get_ex(h, "max", NULL);
	if ((err = ld__get_u64(l, h, ww, "sum", 0, &sum)) ||
	    (err = ld__get_u64(l, h, ww, "min", 0, &min)) ||
	    (err = ld__get_u64(l, h, ww, "max", 0, &max)))
		return err;
	err = ld__get(l, h, ww, "buckets", T_ARR, REQ, &b);
	if (err)
		return err;
	nb = json_object_array_length(b);
	hist = run__alloc(l->r, sizeof(*hist));
	if (!hist || !(hist->idx = run__alloc(l->r, nb * sizeof(*hist->idx))) ||
	    !(hist->counts = run__alloc(l->r, nb * sizeof(*hist->counts))))
		return ld__nomem(l);
	for (size_t i = 0; i < nb; i++) {
		json_object *x = json_object_array_get_idx(b, i);
		uint64_t v[3];
		int idx;

		ld__wpath(wb, "%s.buckets[%zu]", ww, i);
		if (!x || !json_object_is_type(x, json_type_array) ||
		    json_object_array_length(x) != 3)
			return ld__fail(l, wb, NULL, "must be [lo_ns, hi_ns, count]");
		for (int k = 0; k < 3; k++)
			if ((err = ld__u64_of(l, json_object_array_get_idx(x, k), wb, NULL, &v[k])))
				return err;
		idx = hist__bucket_of(v[0]);
		if (hist__bucket_lo(idx) != v[0] || hist__bucket_hi(idx) != v[1])
			return ld__fail(l, wb, NULL,
					"[%llu, %llu] is not a bucket of layout " HIST_LAYOUT,
					(unsigned long long)v[0], (unsigned long long)v[1]);
		if (idx <= prev)
			return ld__fail(l, wb, NULL, "buckets must be in ascending order");
		if (!v[2])
			return ld__fail(l, wb, NULL, "empty bucket");
		if (total + v[2] < total)
			return ld__fail(l, wb, NULL, "count overflows");
		hist->idx[hist->n] = (uint16_t)idx;
		hist->counts[hist->n++] = v[2];
		total += v[2];
		prev = idx;
	}
	if (total != count)
		return ld__fail(l, ww, "count", "%llu, but the buckets hold %llu",
				(unsigned long long)count, (unsigned long long)total);
	hist->count = count;
	if (!count) {
		/* The recorder writes 0 for all three when nothing was counted. */
		if (has_sum && sum)
			return ld__fail(l, ww, "sum", "%llu in an empty histogram",
					(unsigned long long)sum);
		if (has_min && min)
			return ld__fail(l, ww, "min", "%llu in an empty histogram",
					(unsigned long long)min);
		if (has_max && max)
			return ld__fail(l, ww, "max", "%llu in an empty histogram",
					(unsigned long long)max);
		*out = hist;
		return 0;
	}
	first = hist->idx[0];
	last = hist->idx[hist->n - 1];
	hist->min = has_min ? min : hist__bucket_lo(first);
	hist->max = has_max ? max : hist__bucket_hi(last);
	if (hist->min < hist__bucket_lo(first) || hist->min > hist__bucket_hi(first))
		return ld__fail(l, ww, "min", "%llu is outside the first bucket",
				(unsigned long long)hist->min);
	/* The last bucket also holds everything beyond the layout's range. */
	if (hist->max < hist__bucket_lo(last) ||
	    (hist->max > hist__bucket_hi(last) && last != (int)HIST_NBUCKETS - 1))
		return ld__fail(l, ww, "max", "%llu is outside the last bucket",
				(unsigned long long)hist->max);
	if (hist->min > hist->max)
		return ld__fail(l, ww, "min", "%llu is above max (%llu)",
				(unsigned long long)hist->min, (unsigned long long)hist->max);
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
			return ld__fail(l, ww, "buckets", "their sum is beyond 64 bits");
		hist->sum = (uint64_t)mid;
	} else if (sum > hi) {
		return ld__fail(l, ww, "sum", "%llu exceeds what the buckets and max allow (%s)",
				(unsigned long long)sum, ld__u128_str(hi, num, sizeof(num)));
	} else if (sum < lo) {
		return ld__fail(l, ww, "sum", "%llu is less than the buckets and min allow (%s)",
				(unsigned long long)sum, ld__u128_str(lo, num, sizeof(num)));
	} else {
		hist->sum = sum;
	}
	*out = hist;
	return 0;
}
