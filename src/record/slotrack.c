// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "record/slotrack.h"
#include "lib/textesc.h"

static unsigned nobjectives(const struct slo_set *set)
{
	unsigned n = 0;

	for (unsigned i = 0; i < set->nslos; i++)
		n += set->slos[i].nobj;
	return n;
}

/* Index of the first objective of SLO i in all_rows. */
static unsigned obj_base(const struct slo_set *set, unsigned i)
{
	unsigned n = 0;

	for (unsigned k = 0; k < i; k++)
		n += set->slos[k].nobj;
	return n;
}

/*
 * A row for objective o of a subject. Percentile objectives show the observed percentile,
 * from a histogram that the objectives of one SLO and subject share (*h: NULL until the first
 * one needs it).
 */
static int row_add(struct slotrack *st, const struct slo_objective *o, const char *subject,
		   struct agg_endpoint *ep, struct dbagg_fp *fp, struct hist **h)
{
	struct slotrack_row *r;

	if (st->nrows == SLOTRACK_ROWS_MAX) {
		st->rows_dropped++;
		return -ENOSPC;
	}
	if (st->nrows == st->cap) {
		unsigned cap = st->cap ? st->cap * 2 : 16;
		struct slotrack_row *rows = realloc(st->rows, cap * sizeof(*rows));

		if (!rows) {
			st->rows_dropped++;
			return -ENOMEM;
		}
		st->rows = rows;
		st->cap = cap;
	}
	r = &st->rows[st->nrows];
	memset(r, 0, sizeof(*r));
	r->o = o;
	r->link = ep ? &ep->slo : fp ? &fp->slo : NULL;
	r->first_breach_s = -1;
	snprintf(r->subject, sizeof(r->subject), "%s", subject);
	r->matched = true;
	if (ep)
		snprintf(r->target, sizeof(r->target), "http %s %s", ep->method, ep->route);
	else if (fp)
		snprintf(r->target, sizeof(r->target), "db %s", fp->text);
	else
		slo__format_scope(o->slo, r->target, sizeof(r->target));
	slo__counts_init(&r->run);
	slo__counts_init(&r->win);
	if (o->kind == SLO_OBJ_LATENCY && o->percentile) {
		if (!*h) {
			*h = malloc(sizeof(**h));
			if (!*h) {
				st->rows_dropped++;
				return -ENOMEM;
			}
			hist__init(*h);
			r->h_own = true;
		}
		r->h = *h;
	}
	return (int)st->nrows++;
}

int slotrack__init(struct slotrack *st, const struct slo_set *set)
{
	unsigned n = nobjectives(set);

	memset(st, 0, sizeof(*st));
	st->set = set;
	st->all_rows = malloc((n ? n : 1) * sizeof(*st->all_rows));
	if (!st->all_rows)
		return -ENOMEM;
	for (unsigned i = 0, k = 0; i < set->nslos; i++) {
		const struct slo *s = &set->slos[i];
		struct hist *h = NULL;
		char subject[256];

		slo__format_selector(s, subject, sizeof(subject));
		for (unsigned j = 0; j < s->nobj; j++, k++) {
			int r = -1;

			if (s->per == SLO_PER_ALL)
				r = row_add(st, &s->obj[j], subject, NULL, NULL, &h);
			st->all_rows[k] = r < 0 ? UINT32_MAX : (unsigned)r;
		}
	}
	return 0;
}

void slotrack__free(struct slotrack *st)
{
	for (unsigned i = 0; i < st->nrows; i++)
		if (st->rows[i].h_own)
			free(st->rows[i].h);
	free(st->rows);
	free(st->all_rows);
	memset(st, 0, sizeof(*st));
}

/* What the container selector matches: the container's name, else its id; NULL outside one. */
static const char *slotrack_ctr(const struct agg_service *svc)
{
	if (svc->ctr_name[0])
		return svc->ctr_name;
	return svc->container[0] ? svc->container : NULL;
}

/* Appends row index r to a subject's list. */
static void link_row(struct slo_link *l, unsigned r)
{
	unsigned *v = realloc(l->rows, (l->nrows + 1) * sizeof(*v));

	if (!v)
		return;
	v[l->nrows++] = r;
	l->rows = v;
}

/* The rows of every objective of SLO i for a subject (ep or fp) that matched it. */
static void link_slo(struct slotrack *st, unsigned i, const char *subject, struct agg_endpoint *ep,
		     struct dbagg_fp *fp, const char *service)
{
	struct slo_link *l = ep ? &ep->slo : &fp->slo;
	const struct slo *s = &st->set->slos[i];
	unsigned base = obj_base(st->set, i);
	struct hist *h = NULL;

	for (unsigned j = 0; j < s->nobj; j++) {
		int r;

		if (s->per == SLO_PER_ALL) {
			if (st->all_rows[base + j] != UINT32_MAX)
				link_row(l, st->all_rows[base + j]);
			continue;
		}
		r = row_add(st, &s->obj[j], subject, ep, fp, &h);
		if (r < 0)
			continue;
		if (service)
			snprintf(st->rows[r].service, sizeof(st->rows[r].service), "%s", service);
		link_row(l, (unsigned)r);
	}
}

/* The row of objective o for a key pattern: made on the first cache row of the pattern. */
static int pattern_row(struct slotrack *st, const struct slo_objective *o, const char *pattern,
		       struct hist **h)
{
	char subject[CACHE_PATTERN_MAX + 16];
	int r;

	snprintf(subject, sizeof(subject), "%s", pattern[0] ? pattern : "(no key)");
	for (unsigned i = 0; i < st->nrows; i++)
		if (st->rows[i].o == o && !strcmp(st->rows[i].subject, subject))
			return (int)i;
	r = row_add(st, o, subject, NULL, NULL, h);
	if (r >= 0)
		snprintf(st->rows[r].target, sizeof(st->rows[r].target), "cache %s", subject);
	return r;
}

/*
 * The rows of SLO i for a cache row of this key pattern: its hit-ratio objectives (hit) or
 * all the others. Several cache rows (commands, clients, servers) share a pattern's rows.
 */
static void link_cache(struct slotrack *st, unsigned i, struct slo_link *l, const char *pattern,
		       bool hit)
{
	const struct slo *s = &st->set->slos[i];
	unsigned base = obj_base(st->set, i);
	struct hist *h = NULL;

	for (unsigned j = 0; j < s->nobj; j++) {
		int r;

		if ((s->obj[j].kind == SLO_OBJ_HIT_RATIO) != hit)
			continue;
		if (s->per == SLO_PER_ALL) {
			if (st->all_rows[base + j] != UINT32_MAX)
				link_row(l, st->all_rows[base + j]);
			continue;
		}
		r = pattern_row(st, &s->obj[j], pattern, &h);
		if (r >= 0)
			link_row(l, (unsigned)r);
	}
}

/* One observation of a subject, ended at ts_ns, for the rows that judge it. */
static void observe(struct slotrack *st, const struct slo_link *l, uint64_t lat_ns, int status,
		    uint64_t ts_ns)
{
	if (!l->nrows || !slo__after_warmup(st->set, st->start_ns, ts_ns))
		return;
	for (unsigned i = 0; i < l->nrows; i++) {
		struct slotrack_row *r = &st->rows[l->rows[i]];

		slo__count(r->o, &r->win, lat_ns, status);
		if (r->h_own)
			hist__add(r->h, lat_ns);
	}
}

void slotrack__http(struct slotrack *st, const struct agg *a, struct agg_endpoint *ep,
		    uint64_t lat_ns, int status, uint64_t ts_ns)
{
	if (!ep->slo.matched) {
		const struct agg_service *svc = &a->services[ep->service];
		char subject[256];

		ep->slo.matched = true;
		snprintf(subject, sizeof(subject), "%s %s (%s)", ep->method, ep->route, svc->name);
		for (unsigned i = 0; i < st->set->nslos; i++) {
			const struct slo *s = &st->set->slos[i];

			if (s->source == SLO_HTTP &&
			    slo__match_http(s, ep->method, ep->route, svc->name, svc->comm,
					    slotrack_ctr(svc)))
				link_slo(st, i, subject, ep, NULL, svc->name);
		}
	}
	observe(st, &ep->slo, lat_ns, status, ts_ns);
}

void slotrack__db(struct slotrack *st, struct dbagg_fp *f, const char *service, uint64_t lat_ns,
		  bool failed, uint64_t ts_ns)
{
	if (!f->slo.matched) {
		f->slo.matched = true;
		for (unsigned i = 0; i < st->set->nslos; i++) {
			const struct slo *s = &st->set->slos[i];

			if (s->source == SLO_DB && slo__match_db(s, f->text, service))
				link_slo(st, i, f->text, NULL, f, NULL);
		}
	}
	observe(st, &f->slo, lat_ns, failed ? SLO_DB_FAILED : 0, ts_ns);
}

static void match_cache(struct slotrack *st, struct slo_link *l, const struct cache_op *op,
			const char *client, const char *server, bool hit)
{
	for (unsigned i = 0; i < st->set->nslos; i++)
		if (slo__match_cache(&st->set->slos[i], op->verb, op->pattern, client, server))
			link_cache(st, i, l, op->pattern, hit);
}

void slotrack__cache(struct slotrack *st, struct slo_link *l, const struct cache_op *op,
		     const char *client, const char *server)
{
	uint64_t ns = cache_op__latency(op);

	if (op->flags & CACHE_OP_ABORTED)
		return;
	if (!l) {
		st->cache_unjudged++;
		return;
	}
	if (!l->matched) {
		l->matched = true;
		match_cache(st, l, op, client, server, false);
	}
	/* A row read from only inside MULTI says no hit or miss: its hit ratios wait for a read. */
	if ((op->flags & CACHE_OP_READ) && !l->reads) {
		l->reads = true;
		match_cache(st, l, op, client, server, true);
	}
	if (!l->nrows || !slo__after_warmup(st->set, st->start_ns, op->ts_end))
		return;
	for (unsigned i = 0; i < l->nrows; i++) {
		struct slotrack_row *r = &st->rows[l->rows[i]];

		/* Keys of a read; any other command has neither hits nor misses. */
		if (r->o->kind == SLO_OBJ_HIT_RATIO) {
			slo__count_reads(r->o, &r->win, op->hits, op->misses);
			continue;
		}
		slo__count(r->o, &r->win, ns, op->flags & CACHE_OP_ERROR ? SLO_DB_FAILED : 0);
		if (r->h_own)
			hist__add(r->h, ns);
	}
}

void slotrack__finish(struct slotrack *st)
{
	for (unsigned i = 0; i < st->set->nslos; i++) {
		const struct slo *s = &st->set->slos[i];
		char subject[256], no_read[256];

		if (s->per == SLO_PER_ALL)
			continue;
		struct hist *h = NULL;

		slo__format_selector(s, subject, sizeof(subject));
		/* Commands may have matched a hit ratio's selector, but no read: say that. */
		snprintf(no_read, sizeof(no_read), "%s", subject);
		strncat(subject, " (nothing matched)", sizeof(subject) - strlen(subject) - 1);
		strncat(no_read, " (no read matched)", sizeof(no_read) - strlen(no_read) - 1);
		for (unsigned j = 0; j < s->nobj; j++) {
			bool seen = false;

			for (unsigned k = 0; k < st->nrows && !seen; k++)
				seen = st->rows[k].o == &s->obj[j];
			if (!seen &&
			    row_add(st, &s->obj[j],
				    s->obj[j].kind == SLO_OBJ_HIT_RATIO ? no_read : subject, NULL,
				    NULL, &h) >= 0)
				st->rows[st->nrows - 1].matched = false;
		}
	}
}

/*
 * An interval is judged like the run, except that one observation is enough; a count is
 * judged on the whole run only (an interval holds a fraction of it).
 */
static enum slo_verdict window_verdict(const struct slotrack_row *r)
{
	struct slo s = *r->o->slo;
	struct slo_objective o = *r->o;
	struct slo_result res;

	if (o.kind == SLO_OBJ_COUNT)
		return SLO_INSUFFICIENT;
	s.min_samples = 1;
	o.slo = &s;
	slo__eval(&o, &r->win, &res);
	return res.verdict;
}

void slotrack__roll(struct slotrack *st, double t_s)
{
	memset(&st->win, 0, sizeof(st->win));
	for (unsigned i = 0; i < st->nrows; i++)
		if (st->rows[i].link)
			st->rows[i].link->breach = false;
	for (unsigned i = 0; i < st->nrows; i++) {
		struct slotrack_row *r = &st->rows[i];
		enum slo_verdict v = r->win.total ? window_verdict(r) : SLO_INSUFFICIENT;

		r->win_breach = v == SLO_BREACH;
		if (v == SLO_BREACH) {
			st->win.breach++;
			r->breached_intervals++;
			if (r->first_breach_s < 0)
				r->first_breach_s = t_s;
			if (r->link)
				r->link->breach = true;
		} else if (v == SLO_PASS) {
			st->win.pass++;
		} else {
			st->win.insufficient++;
		}
		slo__counts_merge(&r->run, &r->win);
		slo__counts_init(&r->win);
	}
}

void slotrack__eval(const struct slotrack_row *r, struct slo_result *res)
{
	struct slo_counts c = r->run;

	c.h = r->h;
	slo__eval(r->o, &c, res);
}

void slotrack__tally(const struct slotrack *st, struct slotrack_tally *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < st->nrows; i++) {
		struct slo_result res;

		slotrack__eval(&st->rows[i], &res);
		if (res.verdict == SLO_PASS)
			t->pass++;
		else if (res.verdict == SLO_BREACH)
			t->breach++;
		else
			t->insufficient++;
	}
}

static void fmt_value(double v, enum slo_unit u, char *buf, size_t sz)
{
	if (isnan(v))
		snprintf(buf, sz, "-");
	else if (u == SLO_UNIT_MS)
		snprintf(buf, sz, "%.2f ms", v);
	else if (u == SLO_UNIT_RATIO)
		snprintf(buf, sz, "%.3f%%", v * 100);
	else
		snprintf(buf, sz, "%.0f", v);
}

void slotrack__print(const struct slotrack *st, FILE *f, bool incomplete)
{
	struct slotrack_tally t;

	slotrack__tally(st, &t);
	fputc('\n', f);
	textesc__line(f, "SLO verdicts (%s): %u pass, %u breach, %u insufficient data",
		      st->set->file, t.pass, t.breach, t.insufficient);
	fprintf(f, "%-12s %-16s %-34s %-20s %11s %11s %8s\n", "VERDICT", "SLO", "SUBJECT",
		"OBJECTIVE", "OBSERVED", "MARGIN", "SAMPLES");
	for (unsigned i = 0; i < st->nrows; i++) {
		const struct slotrack_row *r = &st->rows[i];
		char obj[64], obs[32], margin[32];
		struct slo_result res;

		slotrack__eval(r, &res);
		slo__format_objective(r->o, obj, sizeof(obj));
		fmt_value(res.observed, res.unit, obs, sizeof(obs));
		fmt_value(res.margin, res.unit, margin, sizeof(margin));
		fprintf(f, "%-12s ",
			res.verdict == SLO_PASS	    ? (incomplete ? "pass*" : "pass")
			: res.verdict == SLO_BREACH ? (incomplete ? "BREACH*" : "BREACH")
						    : "insufficient");
		/* Names from the SLO file and the traffic: escaped, cut by columns. */
		textesc__column(f, r->o->slo->name, 16);
		putc(' ', f);
		textesc__column(f, r->subject, 34);
		putc(' ', f);
		textesc__column(f, obj, 20);
		fprintf(f, " %11s %11s %8llu\n", obs, margin, (unsigned long long)res.judged);
	}
	if (incomplete)
		fprintf(f, "* judged on incomplete data: events were lost (see the warning below)\n");
	if (st->rows_dropped)
		fprintf(f, "sloprobe: warning: %llu SLO rows not kept (more than %u)\n",
			(unsigned long long)st->rows_dropped, SLOTRACK_ROWS_MAX);
	if (st->cache_unjudged)
		fprintf(f,
			"sloprobe: warning: %llu cache commands not judged (the cache table was "
			"full)\n",
			(unsigned long long)st->cache_unjudged);
}
