// SPDX-License-Identifier: GPL-2.0-only
/* Verdicts for CI: what both renderers share, and the JSON renderer (civerdict.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "analyze/civerdict.h"
#include "lib/json.h"
#include "lib/units.h"

const char *civ__counts(const struct run *r, struct civ_counts *c)
{
	memset(c, 0, sizeof(*c));
	for (unsigned i = 0; i < r->nslo; i++) {
		c->pass += !strcmp(r->slo[i].verdict, "pass");
		c->breach += !strcmp(r->slo[i].verdict, "breach");
		c->insufficient += !strcmp(r->slo[i].verdict, "insufficient_data");
	}
	if (c->breach)
		return "breach";
	if (c->pass)
		return "pass";
	return r->nslo ? "insufficient_data" : "none";
}

enum civ_slo_change civ__slo_change(const struct run_slo *before, const struct run_slo *after)
{
	if (!after)
		return CIV_SLO_ONLY_BASELINE;
	if (!before)
		return CIV_SLO_ONLY_AFTER;
	if (!strcmp(before->verdict, "pass") && !strcmp(after->verdict, "breach"))
		return CIV_SLO_REGRESSED;
	if (!strcmp(before->verdict, "breach") && !strcmp(after->verdict, "pass"))
		return CIV_SLO_FIXED;
	return CIV_SLO_SAME;
}

const char *civ__slo_change_name(enum civ_slo_change c)
{
	static const char *const names[] = { "unchanged", "regressed", "fixed", "only_in_baseline",
					     "only_in_after" };

	return names[c];
}

const char *civ__class_key(enum diff_class c)
{
	return c == DIFF_FEW_SAMPLES ? "few_samples" : diff__class_name(c);
}

static unsigned nrows(enum civ_section s, const struct run *r)
{
	return s == CIV_HTTP ? r->neps : s == CIV_DB ? r->ndbqs : r->nouts;
}

int civ__pairs(struct civ_pairs *p, enum civ_section s, const struct run *a, const struct run *b)
{
	int n;

	memset(p, 0, sizeof(*p));
	p->s = s;
	p->a = a;
	p->b = b;
	p->na = nrows(s, a);
	p->nb = nrows(s, b);
	p->b_of_a = calloc(p->na + 1, sizeof(*p->b_of_a));
	p->b_paired = calloc(p->nb + 1, sizeof(*p->b_paired));
	if (!p->b_of_a || !p->b_paired)
		return -ENOMEM;
	n = s == CIV_HTTP ? diff__match_endpoints(a, b, p->b_of_a)
	    : s == CIV_DB ? diff__match_queries(a, b, p->b_of_a)
			  : diff__match_outbound(a, b, p->b_of_a);
	if (n < 0)
		return n;
	for (unsigned i = 0; i < p->na; i++)
		if (p->b_of_a[i] >= 0)
			p->b_paired[p->b_of_a[i]] = true;
	return 0;
}

void civ__pairs_free(struct civ_pairs *p)
{
	free(p->b_of_a);
	free(p->b_paired);
	p->b_of_a = NULL;
	p->b_paired = NULL;
}

unsigned civ__values(const struct civ_pairs *p, const struct diff_rule *rule, unsigned i,
		     struct diff_value *v)
{
	unsigned k = (unsigned)p->b_of_a[i];

	if (p->s == CIV_HTTP)
		return diff__endpoint(rule, &p->a->eps[i], &p->b->eps[k], v);
	if (p->s == CIV_DB)
		return diff__query(rule, &p->a->dbqs[i], &p->b->dbqs[k], v);
	return diff__out_call(rule, &p->a->outs[i], &p->b->outs[k], v);
}

const char *civ__row_name(enum civ_section s, const struct run *r, unsigned i, char *buf, size_t sz)
{
	if (s == CIV_HTTP) {
		snprintf(buf, sz, "%s %s (%s)", r->eps[i].method, r->eps[i].route,
			 r->eps[i].service);
	} else if (s == CIV_DB) {
		snprintf(buf, sz, "%s", r->dbqs[i].query);
	} else {
		const struct run_out_call *c = &r->outs[i];

		snprintf(buf, sz, "%s -> %s %s%s%s", c->caller, c->host[0] ? c->host : c->peer,
			 c->method[0] ? c->method : "(connect)", c->route[0] ? " " : "", c->route);
	}
	return buf;
}

unsigned long long civ__row_count(enum civ_section s, const struct run *r, unsigned i)
{
	return s == CIV_HTTP ? r->eps[i].count : s == CIV_DB ? r->dbqs[i].count : r->outs[i].count;
}

const char *civ__section_key(enum civ_section s)
{
	return s == CIV_HTTP ? "http" : s == CIV_DB ? "db" : "outbound";
}

const char *civ__section_title(enum civ_section s)
{
	return s == CIV_HTTP ? "HTTP endpoints" : s == CIV_DB ? "DB queries" : "Outbound calls";
}

const char *civ__value(const struct diff_value *m, double v, char *buf, size_t sz)
{
	char tmp[32];

	if (isnan(v))
		snprintf(buf, sz, "-");
	else if (m->show == DIFF_SHOW_MS)
		snprintf(buf, sz, "%s ms", units__ms(v, tmp, sizeof(tmp)));
	else if (m->show == DIFF_SHOW_RATIO)
		return analyze__pct(v, buf, sz);
	else if (m->show == DIFF_SHOW_RATE)
		snprintf(buf, sz, "%s/s", analyze__rate(v, tmp, sizeof(tmp)));
	else if (m->show == DIFF_SHOW_QPR)
		snprintf(buf, sz, "%.2f", v);
	else
		snprintf(buf, sz, "%.0f", v);
	return buf;
}

int civerdict__regressions(const struct run *a, const struct run *b, const struct diff_rule *rule,
			   unsigned n[3])
{
	struct diff_value m[DIFF_VALUES_MAX];
	int total = 0;

	for (int s = 0; s < CIV_NSECTIONS; s++) {
		struct civ_pairs p;
		int err = civ__pairs(&p, (enum civ_section)s, a, b);

		n[s] = 0;
		if (err) {
			civ__pairs_free(&p);
			return err;
		}
		for (unsigned i = 0; i < p.na; i++)
			if (p.b_of_a[i] >= 0 &&
			    diff__values_overall(m, civ__values(&p, rule, i, m)) == DIFF_REGRESSED)
				n[s]++;
		civ__pairs_free(&p);
		total += (int)n[s];
	}
	return total;
}

/* --- JSON --- */

/*
 * A number, null when NaN or infinite (an infinite budget: none was allowed); 9 decimals, past
 * the nanosecond of a millisecond value, without the binary noise of a subtraction.
 */
static void kv_num(struct json *j, const char *k, double v)
{
	json__kv_fixed(j, k, v, 9);
}

/* A run's facts; a diff's runs also have their --label (null: none given). */
static void run_info(struct json *j, const struct run *r, bool diff, const char *label)
{
	json__begin_object(j);
	json__kv_string(j, "path", r->path);
	if (diff) {
		json__key(j, "label");
		json__string(j, label);
	}
	json__kv_string(j, "tool_version", r->tool_version);
	json__kv_string(j, "host", r->hostname);
	json__kv_string(j, "start", r->start);
	json__kv_string(j, "end", r->end);
	kv_num(j, "duration_s", r->duration_s);
	run__write_command(j, r, true);
	json__key(j, "events");
	json__begin_object(j);
	json__kv_u64(j, "total", r->events_total);
	json__kv_u64(j, "dropped", r->events_dropped);
	kv_num(j, "dropped_pct", slo__drop_pct(r->events_dropped, r->events_total));
	kv_num(j, "max_drop_pct", isnan(r->max_drop_pct) ? SLO_MAX_DROP_PCT : r->max_drop_pct);
	json__kv_bool(j, "incomplete_data", run__incomplete(r));
	json__end_object(j);
	json__end_object(j);
}

static void objective(struct json *j, const struct run *r, const struct run_slo *s)
{
	json__begin_object(j);
	json__kv_string(j, "name", s->name);
	json__kv_string(j, "objective", s->objective);
	json__kv_string(j, "target", s->target);
	json__kv_string(j, "service", s->service);
	json__kv_string(j, "source", s->source);
	json__kv_string(j, "kind", s->kind);
	json__kv_string(j, "verdict", s->verdict);
	json__kv_string(j, "unit", s->unit);
	kv_num(j, "observed", s->observed);
	kv_num(j, "target_value", s->target_value);
	kv_num(j, "margin", s->margin);
	/* an infinite budget (none allowed, some spent) has no JSON number */
	kv_num(j, "budget_consumed", s->budget_consumed);
	json__kv_bool(j, "budget_exceeded", isinf(s->budget_consumed) || s->budget_consumed > 1);
	if (s->has_counts) {
		json__kv_u64(j, "good", s->good);
		json__kv_u64(j, "judged", s->total);
	} else {
		json__key(j, "good");
		json__null(j);
		json__key(j, "judged");
		json__null(j);
	}
	json__kv_bool(j, "approximate", s->approximate);
	json__kv_bool(j, "insufficient_data", !strcmp(s->verdict, "insufficient_data"));
	json__kv_bool(j, "incomplete_data", s->incomplete_data || run__incomplete(r));
	kv_num(j, "first_breach_s", s->first_breach_s);
	json__end_object(j);
}

int civerdict__report_json(FILE *f, const struct run *r, const char *slo_file)
{
	struct json *j = json__new(f, true);
	struct civ_counts c;
	const char *verdict = civ__counts(r, &c);
	int err;

	if (!j)
		return -ENOMEM;
	json__begin_object(j);
	json__kv_string(j, "schema", CIVERDICT_SCHEMA);
	json__kv_string(j, "kind", "report");
	json__key(j, "run");
	run_info(j, r, false, NULL);
	json__key(j, "slo");
	json__begin_object(j);
	json__kv_string(j, "judged", slo_file ? "offline" : r->has_slo ? "recorded" : "none");
	json__kv_string(j, "file", slo_file ? slo_file : r->slo_summary.file);
	json__kv_string(j, "verdict", verdict);
	json__kv_bool(j, "incomplete_data", run__incomplete(r));
	json__kv_u64(j, "objectives", r->nslo);
	json__kv_u64(j, "pass", c.pass);
	json__kv_u64(j, "breach", c.breach);
	json__kv_u64(j, "insufficient_data", c.insufficient);
	json__end_object(j);
	json__key(j, "objectives");
	json__begin_array(j);
	for (unsigned i = 0; i < r->nslo; i++)
		objective(j, r, &r->slo[i]);
	json__end_array(j);
	json__end_object(j);
	err = json__finish(j);
	json__free(j);
	return err;
}

static void slo_side(struct json *j, const char *k, const struct run_slo *s)
{
	json__key(j, k);
	if (!s) {
		json__null(j);
		return;
	}
	json__begin_object(j);
	json__kv_string(j, "verdict", s->verdict);
	json__kv_string(j, "unit", s->unit);
	kv_num(j, "observed", s->observed);
	kv_num(j, "margin", s->margin);
	json__end_object(j);
}

void civ__slo_pairs(const struct run *a, const struct run *b,
		    void (*fn)(void *ctx, const struct run_slo *s, const struct run_slo *before,
			       const struct run_slo *after, enum civ_slo_change c),
		    void *ctx)
{
	for (int side = 0; side < 2; side++) {
		const struct run *r = side ? b : a, *other = side ? a : b;

		for (unsigned i = 0; i < r->nslo; i++) {
			const struct run_slo *s = &r->slo[i], *u = diff__find_slo(other, s);
			const struct run_slo *before = side ? u : s, *after = side ? s : u;

			if (side && u)
				continue; /* met with the baseline */
			fn(ctx, s, before, after, civ__slo_change(before, after));
		}
	}
}

struct slo_changes {
	struct json *j;
	unsigned reg, fixed;
};

static void slo_change(void *ctx, const struct run_slo *s, const struct run_slo *before,
		       const struct run_slo *after, enum civ_slo_change c)
{
	struct slo_changes *sc = ctx;
	struct json *j = sc->j;

	sc->reg += c == CIV_SLO_REGRESSED;
	sc->fixed += c == CIV_SLO_FIXED;
	json__begin_object(j);
	json__kv_string(j, "name", s->name);
	json__kv_string(j, "objective", s->objective);
	json__kv_string(j, "target", s->target);
	json__kv_string(j, "change", civ__slo_change_name(c));
	slo_side(j, "baseline", before);
	slo_side(j, "after", after);
	json__end_object(j);
}

/* The SLO verdict changes; the number regressed. */
static unsigned slo_changes(struct json *j, const struct run *a, const struct run *b,
			    unsigned *fixed)
{
	struct slo_changes sc = { .j = j };

	json__begin_array(j);
	civ__slo_pairs(a, b, slo_change, &sc);
	json__end_array(j);
	*fixed = sc.fixed;
	return sc.reg;
}

static void row_keys(struct json *j, enum civ_section s, const struct run *r, unsigned i)
{
	if (s == CIV_HTTP) {
		json__kv_string(j, "service", r->eps[i].service);
		json__kv_string(j, "method", r->eps[i].method);
		json__kv_string(j, "route", r->eps[i].route);
	} else if (s == CIV_DB) {
		json__kv_string(j, "system", r->dbqs[i].system);
		json__kv_string(j, "query_id", r->dbqs[i].query_id);
		json__kv_string(j, "query", r->dbqs[i].query);
	} else {
		const struct run_out_call *c = &r->outs[i];

		json__kv_string(j, "caller", c->caller);
		json__kv_string(j, "destination", c->host[0] ? c->host : c->peer);
		json__kv_string(j, "method", c->method[0] ? c->method : NULL);
		json__kv_string(j, "route", c->route[0] ? c->route : NULL);
	}
}

static void value(struct json *j, const struct diff_value *m)
{
	json__begin_object(j);
	json__kv_string(j, "metric", m->name);
	kv_num(j, "baseline", m->before);
	kv_num(j, "after", m->after);
	kv_num(j, "change", m->after - m->before);
	kv_num(j, "change_ratio", m->before ? (m->after - m->before) / m->before : NAN);
	json__kv_string(j, "class", m->judged ? civ__class_key(m->cls) : NULL);
	json__end_object(j);
}

static int section(struct json *j, const struct run *a, const struct run *b,
		   const struct diff_rule *rule, enum civ_section s, unsigned *cls)
{
	struct diff_value m[DIFF_VALUES_MAX];
	struct civ_pairs p;
	int err = civ__pairs(&p, s, a, b);

	if (err) {
		civ__pairs_free(&p);
		return err;
	}
	json__key(j, civ__section_key(s));
	json__begin_array(j);
	for (unsigned i = 0; i < p.na; i++) {
		unsigned n = 0;
		enum diff_class c = DIFF_UNCHANGED;

		json__begin_object(j);
		row_keys(j, s, a, i);
		if (p.b_of_a[i] < 0) {
			json__kv_string(j, "class", "only_in_baseline");
			cls[4]++;
		} else {
			n = civ__values(&p, rule, i, m);
			c = diff__values_overall(m, n);
			cls[c]++;
			json__kv_string(j, "class", civ__class_key(c));
			if (s == CIV_HTTP && strcmp(a->eps[i].service, b->eps[p.b_of_a[i]].service))
				json__kv_string(j, "service_after", b->eps[p.b_of_a[i]].service);
		}
		json__kv_u64(j, "count_baseline", civ__row_count(s, a, i));
		json__key(j, "count_after");
		if (p.b_of_a[i] < 0)
			json__null(j);
		else
			json__u64(j, civ__row_count(s, b, (unsigned)p.b_of_a[i]));
		json__key(j, "values");
		json__begin_array(j);
		for (unsigned k = 0; k < n; k++)
			value(j, &m[k]);
		json__end_array(j);
		json__end_object(j);
	}
	for (unsigned k = 0; k < p.nb; k++) {
		if (p.b_paired[k])
			continue;
		cls[5]++;
		json__begin_object(j);
		row_keys(j, s, b, k);
		json__kv_string(j, "class", "only_in_after");
		json__key(j, "count_baseline");
		json__null(j);
		json__kv_u64(j, "count_after", civ__row_count(s, b, k));
		json__key(j, "values");
		json__begin_array(j);
		json__end_array(j);
		json__end_object(j);
	}
	json__end_array(j);
	civ__pairs_free(&p);
	return 0;
}

int civerdict__diff_json(FILE *f, const struct run *a, const struct run *b,
			 const struct diff_rule *rule, bool *slo_regressed)
{
	static const char *const keys[] = { "unchanged",   "improved",	       "regressed",
					    "few_samples", "only_in_baseline", "only_in_after" };
	struct json *j = json__new(f, true);
	unsigned cls[CIV_NSECTIONS][6] = { { 0 } };
	unsigned reg, fixed;
	int err = 0;

	if (!j)
		return -ENOMEM;
	json__begin_object(j);
	json__kv_string(j, "schema", CIVERDICT_SCHEMA);
	json__kv_string(j, "kind", "diff");
	json__key(j, "baseline");
	run_info(j, a, true, rule->label[0]);
	json__key(j, "after");
	run_info(j, b, true, rule->label[1]);
	json__key(j, "rule");
	json__begin_object(j);
	kv_num(j, "noise_pct", rule->rel * 100);
	kv_num(j, "floor_ms", rule->lat_floor_ms);
	kv_num(j, "db_floor_ms", rule->db_floor_ms);
	kv_num(j, "error_floor_pct", rule->err_floor * 100);
	kv_num(j, "qpr_floor", rule->qpr_floor);
	kv_num(j, "rate_floor", rule->rate_floor);
	json__kv_u64(j, "min_samples", rule->min_samples);
	kv_num(j, "confidence_pct", rule->alpha > 0 ? (1 - rule->alpha) * 100 : 0);
	json__end_object(j);
	json__key(j, "slo");
	reg = slo_changes(j, a, b, &fixed);
	*slo_regressed = reg > 0;
	json__key(j, "slo_changes");
	json__begin_object(j);
	json__kv_u64(j, "regressed", reg);
	json__kv_u64(j, "fixed", fixed);
	json__end_object(j);
	json__key(j, "changes");
	json__begin_object(j);
	for (int s = 0; s < CIV_NSECTIONS && !err; s++)
		err = section(j, a, b, rule, (enum civ_section)s, cls[s]);
	json__end_object(j);
	json__key(j, "counts");
	json__begin_object(j);
	for (int s = 0; s < CIV_NSECTIONS; s++) {
		json__key(j, civ__section_key((enum civ_section)s));
		json__begin_object(j);
		for (int k = 0; k < 6; k++)
			json__kv_u64(j, keys[k], cls[s][k]);
		json__end_object(j);
	}
	json__end_object(j);
	json__end_object(j);
	if (!err)
		err = json__finish(j);
	json__free(j);
	return err;
}
