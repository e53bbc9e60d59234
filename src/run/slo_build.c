// SPDX-License-Identifier: GPL-2.0-only
/*
 * The SLOs and objectives of an SLO file (docs/slo.md), built from the nodes of the YAML
 * document that slo_parse.c read: known keys, scalars, status lists, selectors, objectives.
 * Its own file because it knows the schema and nothing of libyaml's events, while the reader
 * knows events, limits and anchors and nothing of SLOs.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "run/slo.h"
#include "run/slo_parse.h"

/* Aliases can make a small file expand; these bound the work and memory. */
#define MAX_SLOS     1000
#define MAX_OBJS     10000 /* over the whole file */
#define MAX_STATUSES 600   /* entries of one status list */

struct field {
	const char *key;
	yaml_node_t *k, *v;
};

static int err_at(struct ctx *x, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int err_at(struct ctx *x, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	slo_parse__verr(x, n->start_mark, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/*
 * Before visiting the n children of v: without aliases no node is visited twice, so more visits
 * than nodes can only come from aliases repeating a subtree (a "billion laughs").
 */
static int visit(struct ctx *x, yaml_node_t *v, size_t n)
{
	x->visits += n;
	if (x->visits > MAX_NODES)
		return err_at(x, v, "aliases expand the file to more than %d nodes", MAX_NODES);
	return 0;
}

/* Collect the keys of a mapping into f[], refusing unknown and duplicate keys. */
static int fields(struct ctx *x, yaml_node_t *map, const char *what, struct field *f, size_t nf)
{
	if (map->type != YAML_MAPPING_NODE)
		return err_at(x, map, "%s: expected a mapping", what);
	if (visit(x, map, 2 * (map->data.mapping.pairs.top - map->data.mapping.pairs.start)))
		return -EINVAL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = slo_parse__node(x, p->key), *v = slo_parse__node(x, p->value);
		const char *key;
		size_t i;

		if (k->type != YAML_SCALAR_NODE)
			return err_at(x, k, "%s: keys must be strings", what);
		key = (const char *)k->data.scalar.value;
		for (i = 0; i < nf && strcmp(f[i].key, key); i++)
			;
		if (i == nf) {
			char known[256];
			size_t off = 0;

			known[0] = '\0';
			for (size_t j = 0; j < nf && off < sizeof(known); j++)
				off += snprintf(known + off, sizeof(known) - off, "%s%s",
						j ? ", " : "", f[j].key);
			return err_at(x, k, "unknown key \"%.64s\" in %s (expected %s)", key, what,
				      known);
		}
		if (f[i].k)
			return err_at(x, k, "duplicate key \"%s\" (first at line %zu)", key,
				      f[i].k->start_mark.line + 1);
		f[i].k = k;
		f[i].v = v;
	}
	return 0;
}

static yaml_node_t *get(struct field *f, size_t nf, const char *key)
{
	for (size_t i = 0; i < nf; i++)
		if (!strcmp(f[i].key, key))
			return f[i].v;
	return NULL;
}

static yaml_node_t *key_of(struct field *f, size_t nf, const char *key)
{
	for (size_t i = 0; i < nf; i++)
		if (!strcmp(f[i].key, key))
			return f[i].k;
	return NULL;
}

#define GET(f, key)	get(f, sizeof(f) / sizeof(f[0]), key)
#define KEY(f, key)	key_of(f, sizeof(f) / sizeof(f[0]), key)
#define FIELDS(m, w, f) fields(x, m, w, f, sizeof(f) / sizeof(f[0]))

/* A non-empty scalar without NUL bytes. */
static int scalar(struct ctx *x, yaml_node_t *v, const char *what, const char **out)
{
	const char *s;

	if (v->type != YAML_SCALAR_NODE)
		return err_at(x, v, "%s: expected a %s", what,
			      v->type == YAML_MAPPING_NODE ? "value, not a mapping"
							   : "value, not a list");
	s = (const char *)v->data.scalar.value;
	if (!v->data.scalar.length)
		return err_at(x, v, "%s: empty value", what);
	if (strlen(s) != v->data.scalar.length)
		return err_at(x, v, "%s: NUL byte in value", what);
	*out = s;
	return 0;
}

static int str_dup(struct ctx *x, yaml_node_t *v, const char *what, char **out)
{
	const char *s;

	if (scalar(x, v, what, &s))
		return -EINVAL;
	*out = strdup(s);
	if (!*out)
		return err_at(x, v, "out of memory");
	return 0;
}

static int uint_val(struct ctx *x, yaml_node_t *v, const char *what, uint64_t *out)
{
	const char *s;
	uint64_t n = 0;

	if (scalar(x, v, what, &s))
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || n > (UINT64_MAX - 9) / 10)
			return err_at(x, v, "%s: expected a non-negative integer, got \"%.40s\"",
				      what, s);
		n = n * 10 + (uint64_t)(*p - '0');
	}
	*out = n;
	return 0;
}

static int duration_val(struct ctx *x, yaml_node_t *v, const char *what, uint64_t *ns)
{
	const char *s, *why = "";

	if (scalar(x, v, what, &s))
		return -EINVAL;
	if (slo__parse_duration(s, ns, &why))
		return err_at(x, v, "%s: bad duration \"%.40s\": %s", what, s, why);
	return 0;
}

static int ratio_val(struct ctx *x, yaml_node_t *v, const char *what, uint64_t *ppb)
{
	const char *s, *why = "";

	if (scalar(x, v, what, &s))
		return -EINVAL;
	if (slo__parse_ratio(s, ppb, &why))
		return err_at(x, v, "%s: bad ratio \"%.40s\": %s", what, s, why);
	return 0;
}

/*
 * A status list: one entry or a list of them. label (if given) gets the entries joined by
 * ','; explicit (if given) only the single codes, for conflict checks. src: the SLO's
 * source; DB and cache SLOs have no status but failed, HTTP ones refuse it.
 */
static int status_entry(struct ctx *x, yaml_node_t *e, const char *what, enum slo_source src,
			struct slo_status_set *set, const struct slo_status_set *forbid,
			char *label, size_t labelsz)
{
	struct slo_status_set one = { 0 };
	const char *s, *why = "";
	size_t off = label ? strlen(label) : 0;

	if (scalar(x, e, what, &s))
		return -EINVAL;
	if (slo__status_set_add(set, s, &why))
		return err_at(x, e, "%s: bad entry \"%.40s\": %s", what, s, why);
	if (!strcmp(s, "failed") != (src != SLO_HTTP))
		return err_at(x, e,
			      src == SLO_DB ? "%s: a DB SLO counts failed queries: write failed"
			      : src == SLO_CACHE ? "%s: a cache SLO counts failed commands (error "
						   "replies): write failed"
						 : "%s: failed applies to DB and cache SLOs only",
			      what);
	/* A class may include protection statuses (they stay out); a listed code may not. */
	if (forbid && s[1] != 'x' && s[1] != 'X' && slo__status_set_add(&one, s, NULL) == 0)
		for (size_t w = 0; w < sizeof(one.bits) / sizeof(one.bits[0]); w++)
			if (one.bits[w] & forbid->bits[w])
				return err_at(x, e,
					      "%s: %d is a protection status of this SLO; it never "
					      "counts as an error",
					      what,
					      (int)(w * 64) + __builtin_ctzll(one.bits[w] &
									      forbid->bits[w]));
	if (label && off + 1 < labelsz)
		snprintf(label + off, labelsz - off, "%s%s", off ? "," : "", s);
	return 0;
}

/*
 * A status list: one entry or a list of them. label (if given) gets the entries joined by
 * ','. Single codes in forbid (if given) are refused.
 */
static int status_list(struct ctx *x, yaml_node_t *v, const char *what, enum slo_source src,
		       struct slo_status_set *set, const struct slo_status_set *forbid, char *label,
		       size_t labelsz)
{
	memset(set, 0, sizeof(*set));
	if (label)
		label[0] = '\0';
	if (v->type == YAML_SCALAR_NODE)
		return status_entry(x, v, what, src, set, forbid, label, labelsz);
	if (v->type != YAML_SEQUENCE_NODE)
		return err_at(x, v, "%s: expected a status, a class or a list of them", what);
	if (v->data.sequence.items.top - v->data.sequence.items.start > MAX_STATUSES)
		return err_at(x, v, "%s: more than %d entries", what, MAX_STATUSES);
	if (visit(x, v, v->data.sequence.items.top - v->data.sequence.items.start))
		return -EINVAL;
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++)
		if (status_entry(x, slo_parse__node(x, *it), what, src, set, forbid, label,
				 labelsz))
			return -EINVAL;
	return 0;
}

/* A hit ratio is a property of cache reads: refused, at n, in other SLOs. */
static int hit_ratio_misplaced(struct ctx *x, const struct slo *s, const struct slo_objective *o,
			       yaml_node_t *n)
{
	if (o->kind == SLO_OBJ_HIT_RATIO && s->source != SLO_CACHE)
		return err_at(x, n, "hit_ratio applies to cache SLOs only");
	return 0;
}

/* hit_ratio: {ge: 90%} or {gt: 90%}: a floor, so le and lt get their own message. */
static int hit_ratio_bound(struct ctx *x, yaml_node_t *v, struct slo_objective *o)
{
	struct field f[] = { { .key = "ge" }, { .key = "gt" }, { .key = "le" }, { .key = "lt" } };
	yaml_node_t *ge, *gt;

	if (v->type != YAML_MAPPING_NODE)
		return err_at(x, v, "hit_ratio: expected a mapping: hit_ratio: {ge: 90%%}");
	if (FIELDS(v, "hit_ratio", f))
		return -EINVAL;
	if (KEY(f, "le") || KEY(f, "lt"))
		return err_at(x, KEY(f, "le") ? KEY(f, "le") : KEY(f, "lt"),
			      "hit_ratio is a floor: give ge or gt (e.g. hit_ratio: {ge: 90%%})");
	ge = GET(f, "ge");
	gt = GET(f, "gt");
	if (ge && gt)
		return err_at(x, KEY(f, "gt"), "give ge or gt, not both");
	if (!ge && !gt)
		return err_at(x, v, "hit_ratio needs ge or gt (e.g. hit_ratio: {ge: 90%%})");
	o->strict = !!gt;
	return ratio_val(x, ge ? ge : gt, ge ? "ge" : "gt", &o->ratio_ppb);
}

static int parse_objective(struct ctx *x, struct slo *s, yaml_node_t *n, struct slo_objective *o)
{
	struct field f[] = { { .key = "name" },	       { .key = "displayName" },
			     { .key = "description" }, { .key = "threshold" },
			     { .key = "p" },	       { .key = "target" },
			     { .key = "le" },	       { .key = "lt" },
			     { .key = "errors" },      { .key = "hit_ratio" } };
	yaml_node_t *thr, *p, *target, *le, *lt, *errors, *hit, *bound;
	const char *str, *why = "";
	char buf[96];

	o->slo = s;
	o->line = n->start_mark.line + 1;
	o->column = n->start_mark.column + 1;
	if (n->type == YAML_SCALAR_NODE) {
		if (scalar(x, n, "objective", &str))
			return -EINVAL;
		if (slo__parse_k6(str, o, &why))
			return err_at(x, n, "bad objective \"%.60s\": %s", str, why);
		if (hit_ratio_misplaced(x, s, o, n))
			return -EINVAL;
		errors = NULL;
		goto rate;
	}
	if (FIELDS(n, "objective", f))
		return -EINVAL;
	if ((GET(f, "name") && str_dup(x, GET(f, "name"), "name", &o->name)) ||
	    (!o->name && GET(f, "displayName") &&
	     str_dup(x, GET(f, "displayName"), "displayName", &o->name)) ||
	    (GET(f, "description") &&
	     str_dup(x, GET(f, "description"), "description", &o->description)))
		return -EINVAL;
	thr = GET(f, "threshold");
	p = GET(f, "p");
	target = GET(f, "target");
	le = GET(f, "le");
	lt = GET(f, "lt");
	errors = GET(f, "errors");
	hit = GET(f, "hit_ratio");

	if (hit) {
		static const char *const other[] = { "threshold", "p",	"target",
						     "le",	  "lt", "errors" };

		for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
			if (KEY(f, other[i]))
				return err_at(x, KEY(f, other[i]),
					      "hit_ratio cannot be combined with %s", other[i]);
		o->kind = SLO_OBJ_HIT_RATIO;
		if (hit_ratio_misplaced(x, s, o, KEY(f, "hit_ratio")) || hit_ratio_bound(x, hit, o))
			return -EINVAL;
		goto name;
	}
	if (thr) {
		static const char *const other[] = { "p", "target", "le", "lt" };

		for (size_t i = 0; i < 4; i++)
			if (KEY(f, other[i]))
				return err_at(x, KEY(f, other[i]),
					      "threshold cannot be combined with %s", other[i]);
		if (scalar(x, thr, "threshold", &str))
			return -EINVAL;
		if (slo__parse_k6(str, o, &why))
			return err_at(x, thr, "threshold: bad objective \"%.60s\": %s", str, why);
		if (hit_ratio_misplaced(x, s, o, thr))
			return -EINVAL;
		if (errors && o->kind != SLO_OBJ_ERRORS)
			return err_at(x, KEY(f, "errors"),
				      "errors applies to rate thresholds only");
		goto rate;
	}
	if (le && lt)
		return err_at(x, KEY(f, "lt"), "give le or lt, not both");
	bound = le ? le : lt;
	o->strict = !!lt;
	if (errors) {
		if (p || target)
			return err_at(x, KEY(f, p ? "p" : "target"),
				      "errors cannot be combined with %s", p ? "p" : "target");
		if (!bound)
			return err_at(x, n, "error-rate objective needs le or lt (e.g. le: 0.5%%)");
		o->kind = SLO_OBJ_ERRORS;
		if (ratio_val(x, bound, le ? "le" : "lt", &o->ratio_ppb))
			return -EINVAL;
		goto rate;
	}
	if (!p && !target)
		return err_at(x, n,
			      s->source == SLO_CACHE
				      ? "objective needs p, target, errors, hit_ratio or threshold"
				      : "objective needs p, target, errors or threshold");
	if (p && target)
		return err_at(x, KEY(f, "target"), "give p or target, not both");
	if (!bound)
		return err_at(x, n, "latency objective needs le or lt (e.g. le: 300ms)");
	o->kind = SLO_OBJ_LATENCY;
	o->percentile = !!p;
	if (p) {
		if (scalar(x, p, "p", &str))
			return -EINVAL;
		if (slo__parse_percentile(str, &o->ratio_ppb, &why))
			return err_at(x, p, "p: bad percentile \"%.40s\": %s", str, why);
	} else {
		if (ratio_val(x, target, "target", &o->ratio_ppb))
			return -EINVAL;
		if (!o->ratio_ppb)
			return err_at(x, target, "target: must be above 0");
	}
	if (duration_val(x, bound, le ? "le" : "lt", &o->threshold_ns))
		return -EINVAL;
	goto name;

rate:
	if (o->kind == SLO_OBJ_ERRORS) {
		if (errors) {
			if (status_list(x, errors, "errors", s->source, &o->errors, &s->protection,
					o->errors_label, sizeof(o->errors_label)))
				return -EINVAL;
		} else {
			const char *def = s->source == SLO_HTTP ? "5xx" : "failed";

			slo__status_set_add(&o->errors, def, NULL);
			snprintf(o->errors_label, sizeof(o->errors_label), "%s", def);
		}
	}
name:
	if (!o->name) {
		slo__format_objective(o, buf, sizeof(buf));
		o->name = strdup(buf);
		if (!o->name)
			return err_at(x, n, "out of memory");
	}
	return 0;
}

#define SEL_FIELDS 5 /* at most, of one selector */

/* The SLO key of each source, its selector's keys, and how errors name them. */
static const struct {
	const char *key, *what, *give;
	const char *fields[SEL_FIELDS];
} selectors[] = {
	[SLO_HTTP] = { "http",
		       "http selector",
		       "method, route, service, comm or container",
		       { "method", "route", "service", "comm", "container" } },
	[SLO_DB] = { "db", "db selector", "query or service", { "query", "service" } },
	[SLO_CACHE] = { "cache",
			"cache selector",
			"pattern, command, service or server",
			{ "pattern", "command", "service", "server" } },
};

#define NSOURCES (sizeof(selectors) / sizeof(selectors[0]))

static int parse_selector(struct ctx *x, struct slo *s, yaml_node_t *v, enum slo_source src)
{
	/* The fields each key of selectors[src] fills, in the same order. */
	char **dst[][SEL_FIELDS] = {
		[SLO_HTTP] = { &s->method, &s->route, &s->service, &s->comm, &s->container },
		[SLO_DB] = { &s->query, &s->service },
		[SLO_CACHE] = { &s->pattern, &s->command, &s->service, &s->server },
	};
	struct field f[SEL_FIELDS] = { 0 };
	const char *what = selectors[src].what;
	size_t nf = 0;
	bool any = false;

	s->source = src;
	if (v->type == YAML_SCALAR_NODE && !strcmp((const char *)v->data.scalar.value, "all"))
		return 0;
	if (v->type != YAML_MAPPING_NODE)
		return err_at(x, v, "%s: expected a mapping or all", what);
	for (; nf < SEL_FIELDS && selectors[src].fields[nf]; nf++)
		f[nf].key = selectors[src].fields[nf];
	if (fields(x, v, what, f, nf))
		return -EINVAL;
	for (size_t i = 0; i < nf; i++) {
		if (!f[i].v)
			continue;
		if (str_dup(x, f[i].v, f[i].key, dst[src][i]))
			return -EINVAL;
		any = true;
	}
	if (!any)
		return err_at(x, v, "empty %s: give %s, or write %s: all", what,
			      selectors[src].give, selectors[src].key);
	return 0;
}

static int parse_slo(struct ctx *x, yaml_node_t *n, struct slo *s)
{
	struct field f[] = { { .key = "name" },	       { .key = "displayName" },
			     { .key = "description" }, { .key = "http" },
			     { .key = "db" },	       { .key = "cache" },
			     { .key = "per" },	       { .key = "min_samples" },
			     { .key = "protection" },  { .key = "objectives" } };
	yaml_node_t *v, *objs, *sel = NULL;
	enum slo_source src = SLO_HTTP;
	const char *str;

	s->line = n->start_mark.line + 1;
	s->column = n->start_mark.column + 1;
	s->min_samples = x->set->min_samples;
	s->protection = x->set->protection;
	if (FIELDS(n, "SLO", f))
		return -EINVAL;
	if (!GET(f, "name"))
		return err_at(x, n, "SLO without a name");
	if (str_dup(x, GET(f, "name"), "name", &s->name) ||
	    (GET(f, "displayName") &&
	     str_dup(x, GET(f, "displayName"), "displayName", &s->display_name)) ||
	    (GET(f, "description") &&
	     str_dup(x, GET(f, "description"), "description", &s->description)))
		return -EINVAL;
	for (struct slo *o = x->set->slos; o < s; o++)
		if (!strcmp(o->name, s->name))
			return err_at(x, GET(f, "name"),
				      "duplicate SLO name \"%.60s\" (first at line %u)", s->name,
				      o->line);

	for (enum slo_source k = 0; k < NSOURCES; k++) {
		yaml_node_t *key = KEY(f, selectors[k].key);

		if (!key)
			continue;
		/* At the one written second, naming them in the file's order. */
		if (sel) {
			yaml_node_t *first = KEY(f, selectors[src].key);
			bool later = key->start_mark.index > first->start_mark.index;

			return err_at(x, later ? key : first, "an SLO takes %s or %s, not both",
				      selectors[later ? src : k].key,
				      selectors[later ? k : src].key);
		}
		sel = GET(f, selectors[k].key);
		src = k;
	}
	if (!sel)
		return err_at(x, n, "SLO \"%.60s\": missing http, db or cache selector", s->name);
	if (parse_selector(x, s, sel, src))
		return -EINVAL;
	if (src == SLO_CACHE && !x->min_samples_given)
		s->min_samples = SLO_CACHE_MIN_SAMPLES;

	if ((v = GET(f, "per"))) {
		if (scalar(x, v, "per", &str))
			return -EINVAL;
		if (!strcmp(str, "all"))
			s->per = SLO_PER_ALL;
		else if (strcmp(str, "endpoint"))
			return err_at(x, v, "per: expected endpoint or all, got \"%.40s\"", str);
	}
	if ((v = GET(f, "min_samples")) && uint_val(x, v, "min_samples", &s->min_samples))
		return -EINVAL;
	if ((v = GET(f, "protection"))) {
		if (s->source != SLO_HTTP)
			return err_at(x, KEY(f, "protection"),
				      "protection applies to HTTP SLOs only");
		if (status_list(x, v, "protection", SLO_HTTP, &s->protection, NULL, NULL, 0))
			return -EINVAL;
	}
	if (s->source != SLO_HTTP)
		memset(&s->protection, 0, sizeof(s->protection));

	objs = GET(f, "objectives");
	if (!objs)
		return err_at(x, n, "SLO \"%.60s\": missing objectives", s->name);
	if (objs->type != YAML_SEQUENCE_NODE)
		return err_at(x, objs, "objectives: expected a list");
	s->nobj = 0;
	if (objs->data.sequence.items.top == objs->data.sequence.items.start)
		return err_at(x, objs, "objectives: empty list");
	if (objs->data.sequence.items.top - objs->data.sequence.items.start > MAX_OBJS - x->nobjs)
		return err_at(x, objs, "objectives: more than %d in the file", MAX_OBJS);
	if (visit(x, objs, objs->data.sequence.items.top - objs->data.sequence.items.start))
		return -EINVAL;
	s->obj = calloc(objs->data.sequence.items.top - objs->data.sequence.items.start,
			sizeof(*s->obj));
	if (!s->obj)
		return err_at(x, objs, "out of memory");
	for (yaml_node_item_t *it = objs->data.sequence.items.start;
	     it < objs->data.sequence.items.top; it++) {
		/* Counted before parsing so that slo__free() releases a half-filled one. */
		s->nobj++;
		x->nobjs++;
		if (parse_objective(x, s, slo_parse__node(x, *it), &s->obj[s->nobj - 1]))
			return -EINVAL;
	}
	return 0;
}

int slo_parse__build(struct ctx *x, yaml_node_t *root)
{
	struct field f[] = { { .key = "apiVersion" },  { .key = "kind" },
			     { .key = "description" }, { .key = "warmup" },
			     { .key = "min_samples" }, { .key = "protection" },
			     { .key = "slos" } };
	struct slo_set *set = x->set;
	yaml_node_t *v;
	const char *str;

	if (FIELDS(root, "the SLO file", f))
		return -EINVAL;
	if (!(v = GET(f, "apiVersion")))
		return err_at(x, root, "missing apiVersion: %s", SLO_API_VERSION);
	if (scalar(x, v, "apiVersion", &str))
		return -EINVAL;
	if (strcmp(str, SLO_API_VERSION))
		return err_at(x, v, "unsupported apiVersion \"%.40s\" (expected %s)", str,
			      SLO_API_VERSION);
	if (!(v = GET(f, "kind")))
		return err_at(x, root, "missing kind: %s", SLO_KIND);
	if (scalar(x, v, "kind", &str))
		return -EINVAL;
	if (strcmp(str, SLO_KIND))
		return err_at(x, v, "unsupported kind \"%.40s\" (expected %s)", str, SLO_KIND);
	if ((v = GET(f, "description")) && scalar(x, v, "description", &str))
		return -EINVAL;
	if ((v = GET(f, "warmup")) && duration_val(x, v, "warmup", &set->warmup_ns))
		return -EINVAL;
	set->min_samples = 1;
	if ((v = GET(f, "min_samples")) && uint_val(x, v, "min_samples", &set->min_samples))
		return -EINVAL;
	x->min_samples_given = v != NULL;
	if ((v = GET(f, "protection"))) {
		if (status_list(x, v, "protection", SLO_HTTP, &set->protection, NULL, NULL, 0))
			return -EINVAL;
	} else {
		slo__status_set_add(&set->protection, "429", NULL);
		slo__status_set_add(&set->protection, "409", NULL);
	}

	if (!(v = GET(f, "slos")))
		return err_at(x, root, "missing slos: the list of SLOs");
	if (v->type != YAML_SEQUENCE_NODE)
		return err_at(x, v, "slos: expected a list");
	if (v->data.sequence.items.top == v->data.sequence.items.start)
		return err_at(x, v, "slos: empty list");
	if (v->data.sequence.items.top - v->data.sequence.items.start > MAX_SLOS)
		return err_at(x, v, "slos: more than %d SLOs", MAX_SLOS);
	if (visit(x, v, v->data.sequence.items.top - v->data.sequence.items.start))
		return -EINVAL;
	set->slos = calloc(v->data.sequence.items.top - v->data.sequence.items.start,
			   sizeof(*set->slos));
	if (!set->slos)
		return err_at(x, v, "out of memory");
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		set->nslos++;
		if (parse_slo(x, slo_parse__node(x, *it), &set->slos[set->nslos - 1]))
			return -EINVAL;
	}
	return 0;
}

void slo__free(struct slo_set *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < s->nslos; i++) {
		struct slo *l = &s->slos[i];

		for (unsigned j = 0; j < l->nobj; j++) {
			free(l->obj[j].name);
			free(l->obj[j].description);
		}
		free(l->obj);
		free(l->name);
		free(l->display_name);
		free(l->description);
		free(l->method);
		free(l->route);
		free(l->service);
		free(l->comm);
		free(l->container);
		free(l->query);
		free(l->pattern);
		free(l->command);
		free(l->server);
	}
	free(s->slos);
	free(s->file);
	free(s);
}
