// SPDX-License-Identifier: GPL-2.0-only
/*
 * The loader's exemplars: requests kept whole, each with its spans (queries, Redis commands,
 * outbound calls). A row names an endpoint of "http"; its spans refer to the rows of "db" and
 * "cache" by id, and never carry a literal.
 */
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "run/run_load.h"
#include "run/run_priv.h"
#include "run/runfile.h"

static const char *const picks[] = { "slowest", "p50", "p95", NULL };
static const char *const confs[] = { "exact", "thread", "handoff", "shared", NULL };

/* *s, one of the words in set, or a refusal naming them. */
static int get_word(struct ld *l, json_object *o, const char *w, const char *k,
		    const char *const *set, const char **s)
{
	int err = ld__get_str(l, o, w, k, REQ, s);

	if (err)
		return err;
	for (unsigned i = 0; set[i]; i++)
		if (!strcmp(*s, set[i])) {
			*s = set[i];
			return 0;
		}
	return ld__fail(l, w, k, "'%.40s' is not one of the known values", *s);
}

static int get_status(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
		      unsigned *status)
{
	uint64_t v = 0;
	int err = ld__get_u64(l, o, w, k, fl, &v);

	if (err)
		return err;
	if (v > 999)
		return ld__fail(l, w, k, "%llu is not an HTTP status", (unsigned long long)v);
	*status = (unsigned)v;
	return 0;
}

static int load_span(struct ld *l, json_object *o, const char *w, struct run_span *sp)
{
	const char *kind;
	json_object *v;
	int err;

	if (!json_object_is_type(o, json_type_object))
		return ld__fail(l, w, NULL, "must be an object");
	if ((err = get_word(l, o, w, "kind", run_span_names, &kind)) ||
	    (err = ld__get_pos(l, o, w, "start_ms", REQ, &sp->start_ms)) ||
	    (err = ld__get_pos(l, o, w, "duration_ms", REQ, &sp->duration_ms)) ||
	    (err = get_word(l, o, w, "attribution", confs, &sp->attribution)))
		return err;
	for (sp->kind = 0; strcmp(run_span_names[sp->kind], kind); sp->kind++)
		;
	switch (sp->kind) {
	case RUN_SPAN_QUERY:
		return ld__get_query_id(l, o, w, "query_id", REQ, &sp->query_id);
	case RUN_SPAN_CACHE:
		if ((err = ld__get_query_id(l, o, w, "cache_id", REQ | NULLOK, &sp->cache_id)) ||
		    (err = ld__get_str(l, o, w, "verb", REQ | NULLOK, &sp->verb)) ||
		    (err = ld__get_str(l, o, w, "key", REQ | NULLOK, &sp->key)) ||
		    (err = ld__get(l, o, w, "hit", T_BOOL, REQ | NULLOK, &v)) ||
		    (err = ld__get_bool(l, o, w, "error", REQ, &sp->error)))
			return err;
		sp->hit = v ? json_object_get_boolean(v) : -1;
		return 0;
	default:
		if ((err = ld__get_str(l, o, w, "destination", REQ, &sp->destination)) ||
		    (err = ld__get_str(l, o, w, "method", REQ, &sp->method)) ||
		    (err = ld__get_str(l, o, w, "route", REQ, &sp->route)) ||
		    (err = get_status(l, o, w, "status", REQ | NULLOK, &sp->status)) ||
		    (err = ld__get_bool(l, o, w, "error", REQ, &sp->error)))
			return err;
		if (!sp->status && json_object_object_get_ex(o, "status", &v) && v)
			return ld__fail(l, w, "status", "0 is not an HTTP status (null: none)");
		return 0;
	}
}

int ld__load_exemplar_row(struct ld *l, json_object *x, const char *w, void *row)
{
	struct run_exemplar *e = row;
	char ww[W_MAX];
	json_object *a;
	int err;

	if (!x || !json_object_is_type(x, json_type_object))
		return ld__fail(l, w, NULL, "must be an object");
	if ((err = ld__get_str(l, x, w, "service", REQ, &e->service)) ||
	    (err = ld__get_str(l, x, w, "method", REQ, &e->method)) ||
	    (err = ld__get_str(l, x, w, "route", REQ, &e->route)) ||
	    (err = get_word(l, x, w, "pick", picks, &e->pick)) ||
	    (err = ld__get_pos(l, x, w, "t_s", REQ, &e->t_s)) ||
	    (err = ld__get_pos(l, x, w, "latency_ms", REQ, &e->latency_ms)) ||
	    (err = get_status(l, x, w, "status", REQ, &e->status)) ||
	    (err = ld__get_u64(l, x, w, "pid", REQ, &e->pid)) ||
	    (err = ld__get_u64(l, x, w, "tid", REQ, &e->tid)) ||
	    (err = get_word(l, x, w, "attribution", confs, &e->attribution)) ||
	    (err = ld__get_u64(l, x, w, "spans_cut", REQ, &e->spans_cut)) ||
	    (err = ld__get(l, x, w, "spans", T_ARR, REQ, &a)))
		return err;
	e->nspans = (unsigned)json_object_array_length(a);
	e->spans = run__alloc(l->r, (e->nspans ? e->nspans : 1) * sizeof(*e->spans));
	if (!e->spans)
		return ld__nomem(l);
	for (unsigned i = 0; i < e->nspans; i++) {
		ld__wpath(ww, "%s.spans[%u]", w, i);
		if ((err = load_span(l, json_object_array_get_idx(a, i), ww, &e->spans[i])))
			return err;
	}
	return 0;
}

int ld__load_exemplars(struct ld *l, json_object *root)
{
	struct run *r = l->r;
	json_object *a;
	char w[W_MAX];
	int err = ld__get(l, root, "", "exemplars", T_ARR, 0, &a);

	if (err || !a)
		return err;
	r->has_exemplars = true;
	if ((err = ld__rows_of(l, S_EXEMPLARS, (void **)&r->exemplars, &r->nexemplars)) ||
	    (err = ld__get_counts(l, root, "", "exemplar_stats", REQ, &r->exemplar_stats, NULL)))
		return err;
	for (unsigned i = 0; i < r->nexemplars; i++) {
		struct run_exemplar *e = &r->exemplars[i];

		e->ep = run__find_endpoint(r, e->service, e->method, e->route);
		ld__wpath(w, "exemplars[%u]", i);
		if (e->ep < 0)
			return ld__fail(l, w, "route", "names no endpoint of \"http\"");
	}
	return 0;
}
