// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record/dbagg.h"
#include "proto/sqlnorm.h"

static const char *const flag_names[] = {
	[DBAGG_FLAG_N_PLUS_ONE] = "n_plus_one",	  [DBAGG_FLAG_REDUNDANT] = "redundant",
	[DBAGG_FLAG_SELECT_STAR] = "select_star", [DBAGG_FLAG_LARGE_OFFSET] = "large_offset",
	[DBAGG_FLAG_NO_POOLING] = "no_pooling",	  [DBAGG_FLAG_LONG_TX] = "long_transaction",
	[DBAGG_FLAG_SLOW] = "slow_query",
};

const char *dbagg__flag_name(int kind)
{
	if (kind <= 0 || kind >= (int)(sizeof(flag_names) / sizeof(flag_names[0])))
		return "?";
	return flag_names[kind];
}

int dbagg__init(struct dbagg *d, const struct dbagg_opts *o)
{
	memset(d, 0, sizeof(*d));
	d->o = *o;
	d->tl_budget.left = TIMELINE_POINTS_DEFAULT;
	if (!d->o.slow_ns)
		d->o.slow_ns = 1000000000ull;
	if (!d->o.nplus1_min)
		d->o.nplus1_min = 5;
	if (!d->o.nplus1_gap_ns)
		d->o.nplus1_gap_ns = 10000000ull;
	if (!d->o.nplus1_total_ns)
		d->o.nplus1_total_ns = 50000000ull;
	if (!d->o.nplus1_share_pct)
		d->o.nplus1_share_pct = 10;
	if (!d->o.offset_min)
		d->o.offset_min = 1000;
	if (!d->o.long_tx_ns)
		d->o.long_tx_ns = 1000000000ull;
	if (!d->o.max_fps)
		d->o.max_fps = DBAGG_FP_DEFAULT;
	d->cache = sqlnorm_cache__new(4096);
	if (u64map__reserve(&d->index, d->o.max_fps) || !d->cache) {
		dbagg__free(d);
		return -ENOMEM;
	}
	return 0;
}

static void fp_free(struct dbagg_fp *f)
{
	for (int p = 0; p < DB_PATH_NR; p++)
		free(f->lat[p]);
	free(f->text);
	free(f->raw);
	free(f->slo.rows);
	free(f->first_byte);
	timeline__free(&f->tl);
	free(f);
}

void dbagg__free(struct dbagg *d)
{
	for (unsigned i = 0; i < d->nfps; i++)
		fp_free(d->fps[i]);
	free(d->fps);
	u64map__free(&d->index);
	sqlnorm_cache__free(d->cache);
	memset(d, 0, sizeof(*d));
}

struct dbagg_fp *dbagg__find(const struct dbagg *d, uint64_t query_id)
{
	uint64_t *i = u64map__get(&d->index, query_id);

	return i ? d->fps[*i] : NULL;
}

static struct dbagg_fp *fp_get(struct dbagg *d, uint64_t id, const char *text, bool *fresh)
{
	struct dbagg_fp *f = dbagg__find(d, id);

	*fresh = false;
	if (f)
		return f;
	if (d->nfps >= d->o.max_fps)
		return NULL;
	if (d->nfps == d->cap) {
		unsigned cap = d->cap ? d->cap * 2 : 64;
		struct dbagg_fp **n = realloc(d->fps, cap * sizeof(*n));

		if (!n)
			return NULL;
		d->fps = n;
		d->cap = cap;
	}
	f = calloc(1, sizeof(*f));
	if (!f || !(f->text = strdup(text))) {
		free(f);
		return NULL;
	}
	f->query_id = id;
	f->max_offset = -1;
	f->rows = 0;
	hist__init(&f->win);
	/* Cannot fail: dbagg__init reserved room for max_fps keys. */
	u64map__put(&d->index, id, d->nfps);
	d->fps[d->nfps++] = f;
	*fresh = true;
	return f;
}

const char *dbagg__path_name(int path)
{
	static const char *const names[DB_PATH_NR] = { "wire", "libpq", "usdt" };

	return path >= 0 && path < DB_PATH_NR ? names[path] : "?";
}

const char *dbagg__path_names(unsigned mask, char *buf, size_t sz)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int p = 0; p < DB_PATH_NR && n < sz; p++)
		if (mask & (1u << p))
			n += snprintf(buf + n, sz - n, "%s%s", n ? "," : "", dbagg__path_name(p));
	return buf;
}

int dbagg__main_path(const struct dbagg_fp *f)
{
	for (int p = 0; p < DB_PATH_NR; p++)
		if (f->count[p])
			return p;
	return DB_PATH_WIRE;
}

uint64_t dbagg__fp_total(const struct dbagg_fp *f)
{
	int p = dbagg__main_path(f);

	return f->lat[p] ? f->lat[p]->sum : 0;
}

static void count_state(struct dbagg_fp *f, const char *code)
{
	int i;

	for (i = 0; i < DBAGG_SQLSTATES && f->states[i].code[0]; i++) {
		if (!strcmp(f->states[i].code, code)) {
			f->states[i].count++;
			return;
		}
	}
	if (i < DBAGG_SQLSTATES) {
		snprintf(f->states[i].code, sizeof(f->states[i].code), "%s", code);
		f->states[i].count = 1;
	}
}

/*
 * A path that ranks higher saw its first execution of f (the libpq probes attached after the
 * wire had seen the query): errors, rows, slow executions and DB time are the main path's
 * alone, or a report could hold more errors than executions. Forget what the old one counted.
 */
static void main_path_changes(struct dbagg *d, struct dbagg_fp *f)
{
	int old = dbagg__main_path(f);

	if (!f->count[old])
		return;
	d->total_ns -= f->lat[old] && f->lat[old]->sum <= d->total_ns ? f->lat[old]->sum : 0;
	f->errors = f->win_errors = 0;
	memset(f->states, 0, sizeof(f->states));
	f->rows = 0;
	f->rows_known = 0;
	f->slow = f->slow_worst_ns = f->slow_worst_ts = 0;
	if (f->first_byte)
		hist__init(f->first_byte);
}

struct dbagg_fp *dbagg__add(struct dbagg *d, const struct db_exec *x, const char *client,
			    const char *server, uint64_t *raw_hash)
{
	struct sql_info info = { 0 };
	char name[96];
	const char *fp = NULL;
	struct dbagg_fp *f;
	uint64_t id, lat;
	bool fresh;
	int p = x->path < DB_PATH_NR ? x->path : DB_PATH_WIRE;

	*raw_hash = 0;
	d->execs[p]++;
	if (x->text && x->text_len)
		fp = sqlnorm_cache__get(d->cache, x->text, x->text_len, &info);
	if (fp) {
		id = info.query_id;
		*raw_hash = info.raw_hash;
	} else {
		/* No text: a statement prepared before tracing started. */
		snprintf(name, sizeof(name), "<prepared statement %.64s>",
			 x->stmt_name && x->stmt_name[0] ? x->stmt_name : "(unnamed)");
		fp = name;
		id = sql__hash(name, strlen(name));
	}
	f = fp_get(d, id, fp, &fresh);
	if (!f) {
		d->fps_dropped++;
		return NULL;
	}
	if (fresh) {
		f->sqlflags = info.flags;
		f->verb = info.verb;
		f->unknown_stmt = !x->text;
		f->first_ts = x->ts_start;
		snprintf(f->client, sizeof(f->client), "%s", client ? client : "");
		snprintf(f->server, sizeof(f->server), "%s", server ? server : "");
		if (d->o.raw_sql && x->text)
			f->raw = strndup(x->text, x->text_len);
	}
	if ((x->flags & DB_EXEC_TRUNCATED) ||
	    (info.flags & (SQLNORM_INPUT_CUT | SQLNORM_TRUNCATED)))
		f->truncated = true;
	if ((info.flags & SQLNORM_HAS_OFFSET) && info.offset > f->max_offset)
		f->max_offset = info.offset;
	if (!f->lat[p]) {
		f->lat[p] = malloc(sizeof(*f->lat[p]));
		if (!f->lat[p])
			return f;
		hist__init(f->lat[p]);
	}
	lat = db_exec__latency(x);
	if (p < dbagg__main_path(f))
		main_path_changes(d, f);
	f->count[p]++;
	hist__add(f->lat[p], lat);
	f->last_ts = x->ts_end;
	if (p != dbagg__main_path(f))
		return f;
	d->total_ns += lat;
	hist__add(&f->win, lat);
	if (x->ts_first > x->ts_start && x->ts_first <= x->ts_end) {
		if (!f->first_byte && (f->first_byte = malloc(sizeof(*f->first_byte))))
			hist__init(f->first_byte);
		if (f->first_byte)
			hist__add(f->first_byte, x->ts_first - x->ts_start);
	}
	f->win_count++;
	if (x->flags & DB_EXEC_ERROR) {
		f->errors++;
		f->win_errors++;
		count_state(f, x->sqlstate[0] ? x->sqlstate : "?????");
	}
	if (x->rows >= 0) {
		f->rows += x->rows;
		f->rows_known++;
	}
	if (lat >= d->o.slow_ns) {
		f->slow++;
		if (lat > f->slow_worst_ns) {
			f->slow_worst_ns = lat;
			f->slow_worst_ts = x->ts_start;
		}
	}
	return f;
}

struct dbagg_flag *dbagg__flag(struct dbagg *d, int kind, uint64_t query_id, const char *endpoint,
			       uint64_t ts, const char *fmt, ...)
{
	struct dbagg_flag *fl;
	va_list ap;

	endpoint = endpoint ? endpoint : "";
	for (unsigned i = 0; i < d->nflags; i++) {
		fl = &d->flags[i];
		if (fl->kind == kind && fl->query_id == query_id &&
		    !strcmp(fl->endpoint, endpoint)) {
			fl->occurrences++;
			return fl;
		}
	}
	if (d->nflags == DBAGG_FLAGS_MAX) {
		d->flags_dropped++;
		return NULL;
	}
	fl = &d->flags[d->nflags++];
	memset(fl, 0, sizeof(*fl));
	fl->kind = kind;
	fl->query_id = query_id;
	fl->ts = ts;
	fl->occurrences = 1;
	snprintf(fl->endpoint, sizeof(fl->endpoint), "%s", endpoint);
	va_start(ap, fmt);
	vsnprintf(fl->evidence, sizeof(fl->evidence), fmt, ap);
	va_end(ap);
	return fl;
}

static struct dbagg_client *client_get(struct dbagg *d, const char *client, const char *server)
{
	struct dbagg_client *c;

	for (unsigned i = 0; i < d->nclients; i++) {
		c = &d->clients[i];
		if (!strcmp(c->client, client) && !strcmp(c->server, server))
			return c;
	}
	if (d->nclients == DBAGG_CLIENTS_MAX)
		return NULL;
	c = &d->clients[d->nclients++];
	memset(c, 0, sizeof(*c));
	snprintf(c->client, sizeof(c->client), "%s", client);
	snprintf(c->server, sizeof(c->server), "%s", server);
	return c;
}

void dbagg__conn_open(struct dbagg *d, const char *client, const char *server, uint64_t ts)
{
	struct dbagg_client *c = client_get(d, client, server);

	if (!c)
		return;
	if (!c->opened)
		c->first_ts = ts;
	c->opened++;
	c->last_ts = ts;
}

void dbagg__conn_close(struct dbagg *d, const char *client, const char *server, uint64_t life_ns,
		       uint64_t queries, uint64_t ts)
{
	struct dbagg_client *c = client_get(d, client, server);

	if (!c)
		return;
	c->closed++;
	c->life_ns += life_ns;
	c->queries += queries;
	c->last_ts = ts;
}

void dbagg__roll(struct dbagg *d, double t_s, double interval_s)
{
	for (unsigned i = 0; i < d->nfps; i++) {
		struct dbagg_fp *f = d->fps[i];

		timeline__add(&f->tl, &d->tl_budget, t_s, interval_s, &f->win, NULL, f->win_errors,
			      0);
		f->win_errors = 0;
		f->rate = interval_s > 0 ? f->win_count / interval_s : 0;
		f->win_count = 0;
		hist__init(&f->win);
	}
}

/*
 * No pooling: most queries pay for a connection of their own. A pool keeps connections for
 * many queries, so few opens per query and long lives; we flag a client that opened at least
 * 10 connections with at most 5 queries each on average and a mean life under 1 s.
 */
static void check_pooling(struct dbagg *d, double duration_s)
{
	for (unsigned i = 0; i < d->nclients; i++) {
		struct dbagg_client *c = &d->clients[i];
		double qpc, life_ms;

		if (c->opened < 10 || !c->closed)
			continue;
		qpc = (double)c->queries / c->closed;
		life_ms = c->life_ns / 1e6 / c->closed;
		if (qpc > 5 || life_ms > 1000)
			continue;
		dbagg__flag(d, DBAGG_FLAG_NO_POOLING, 0, "", c->first_ts,
			    "%s opened %llu connections to %s (%.1f/s), %.1f queries and %.1f ms "
			    "per connection",
			    c->client, (unsigned long long)c->opened, c->server,
			    duration_s > 0 ? c->opened / duration_s : 0, qpc, life_ms);
	}
}

void dbagg__finish(struct dbagg *d, double duration_s)
{
	for (unsigned i = 0; i < d->nfps; i++) {
		struct dbagg_fp *f = d->fps[i];
		uint64_t n = f->count[dbagg__main_path(f)];

		if (f->truncated)
			continue;
		if (f->sqlflags & SQLNORM_SELECT_STAR)
			dbagg__flag(d, DBAGG_FLAG_SELECT_STAR, f->query_id, "", f->first_ts,
				    "SELECT * ran %llu times: every column is read and sent",
				    (unsigned long long)n);
		if (f->max_offset >= d->o.offset_min)
			dbagg__flag(d, DBAGG_FLAG_LARGE_OFFSET, f->query_id, "", f->first_ts,
				    "OFFSET up to %lld: the server reads and discards those rows; "
				    "use keyset pagination",
				    (long long)f->max_offset);
		if (f->slow)
			dbagg__flag(d, DBAGG_FLAG_SLOW, f->query_id, "", f->slow_worst_ts,
				    "%llu of %llu executions over %.0f ms, worst %.1f ms",
				    (unsigned long long)f->slow, (unsigned long long)n,
				    d->o.slow_ns / 1e6, f->slow_worst_ns / 1e6);
	}
	check_pooling(d, duration_s);
}

static enum dbagg_order sort_by;

static uint64_t sort_key(const struct dbagg_fp *f)
{
	int p = dbagg__main_path(f);

	switch (sort_by) {
	case DBAGG_BY_P95:
		return f->lat[p] ? hist__percentile(f->lat[p], 95) : 0;
	case DBAGG_BY_COUNT:
		return f->count[p];
	default:
		return dbagg__fp_total(f);
	}
}

static int cmp_fp(const void *a, const void *b)
{
	const struct dbagg_fp *x = *(const struct dbagg_fp *const *)a;
	const struct dbagg_fp *y = *(const struct dbagg_fp *const *)b;
	uint64_t kx = sort_key(x), ky = sort_key(y);

	if (kx != ky)
		return kx < ky ? 1 : -1;
	return strcmp(x->text, y->text);
}

struct dbagg_fp **dbagg__sorted(const struct dbagg *d, enum dbagg_order by)
{
	struct dbagg_fp **v = malloc((d->nfps ? d->nfps : 1) * sizeof(*v));

	if (!v)
		return NULL;
	memcpy(v, d->fps, d->nfps * sizeof(*v));
	sort_by = by;
	qsort(v, d->nfps, sizeof(*v), cmp_fp);
	return v;
}
