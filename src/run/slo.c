// SPDX-License-Identifier: GPL-2.0-only
/*
 * SLO scalars (durations, ratios, statuses), k6 threshold strings, selectors and display.
 * Needs neither libyaml nor the histogram, so tests/fuzz/fuzz_slo.c builds it with units.c only.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "lib/units.h"
#include "run/slo.h"

static int fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -EINVAL;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * digits[.digits] in s[0..n) as an exact integer multiple of 10^-scale: "1.5" with scale 3 is
 * 1500. Decimals beyond the scale must be zeros: nothing is rounded away silently.
 */
static int dec_parse(const char *s, size_t n, unsigned scale, uint64_t *out, const char **why)
{
	uint64_t v = 0;
	unsigned frac = 0;
	bool dot = false;

	if (!n || !is_digit(s[0]))
		return fail(why, "expected a number");
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.' && !dot) {
			dot = true;
			if (i + 1 == n || !is_digit(s[i + 1]))
				return fail(why, "expected digits after '.'");
			continue;
		}
		if (!is_digit(c))
			return fail(why, "expected a number");
		if (dot) {
			if (frac == scale) {
				if (c != '0')
					return fail(why, "too many decimals");
				continue;
			}
			frac++;
		}
		if (v > (UINT64_MAX - (uint64_t)(c - '0')) / 10)
			return fail(why, "too large");
		v = v * 10 + (uint64_t)(c - '0');
	}
	for (; frac < scale; frac++) {
		if (v > UINT64_MAX / 10)
			return fail(why, "too large");
		v *= 10;
	}
	*out = v;
	return 0;
}

/* Length of the leading run of digits and dots: the number part of "0.5s" or "99.9%". */
static size_t num_len(const char *s)
{
	size_t n = 0;

	while (is_digit(s[n]) || s[n] == '.')
		n++;
	return n;
}

int slo__parse_duration(const char *s, uint64_t *ns, const char **why)
{
	static const struct {
		const char *name;
		unsigned scale;	 /* decimal digits of ns per unit */
		uint64_t factor; /* then multiplied by this */
	} units[] = {
		{ "ns", 0, 1 }, { "us", 3, 1 }, { "ms", 6, 1 }, { "s", 9, 1 }, { "m", 9, 60 },
	};
	size_t n = num_len(s);
	const char *u = s + n;
	uint64_t v;

	if (s[0] == '-')
		return fail(why, "negative duration");
	if (!n)
		return fail(why, "expected a number before the unit");
	while (is_space(*u))
		u++;
	if (!*u)
		return fail(why, "missing unit (ns, us, ms, s or m)");
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(u, units[i].name))
			continue;
		if (dec_parse(s, n, units[i].scale, &v, why))
			return -EINVAL;
		if (v > UINT64_MAX / units[i].factor)
			return fail(why, "too large");
		*ns = v * units[i].factor;
		return 0;
	}
	return fail(why, "unknown unit (use ns, us, ms, s or m)");
}

int slo__parse_ratio(const char *s, uint64_t *ppb, const char **why)
{
	size_t n = num_len(s);
	const char *p = s + n;
	bool pct;
	uint64_t v;

	if (s[0] == '-')
		return fail(why, "negative ratio");
	while (is_space(*p))
		p++;
	pct = *p == '%';
	if (pct)
		p++;
	if (*p || !n)
		return fail(why, "expected a ratio (0.005) or a percentage (0.5%)");
	if (dec_parse(s, n, pct ? 7 : 9, &v, why))
		return -EINVAL;
	if (v > SLO_PPB)
		return fail(why, pct ? "above 100%" : "above 1 (a percentage needs %)");
	*ppb = v;
	return 0;
}

int slo__parse_percentile(const char *s, uint64_t *ppb, const char **why)
{
	size_t n = strlen(s);
	uint64_t v;

	if (s[0] == '-')
		return fail(why, "percentile must be above 0 and at most 100");
	if (n && s[n - 1] == '%')
		n--;
	if (dec_parse(s, n, 7, &v, why))
		return -EINVAL;
	if (!v || v > SLO_PPB)
		return fail(why, "percentile must be above 0 and at most 100");
	*ppb = v;
	return 0;
}

static void set_bit(struct slo_status_set *set, int st)
{
	set->bits[st / 64] |= 1ull << (st % 64);
}

bool slo__status_in(const struct slo_status_set *set, int status)
{
	if (status < 0 || status >= SLO_STATUS_MAX)
		return false;
	return set->bits[status / 64] >> (status % 64) & 1;
}

int slo__status_set_add(struct slo_status_set *set, const char *s, const char **why)
{
	static const char *bad = "expected a status (429), a class (5xx) or failed";
	int v = 0;

	if (!strcmp(s, "failed")) {
		set_bit(set, SLO_DB_FAILED);
		return 0;
	}
	if (strlen(s) != 3 || s[0] < '1' || s[0] > '5')
		return fail(why, bad);
	if ((s[1] == 'x' || s[1] == 'X') && (s[2] == 'x' || s[2] == 'X')) {
		for (int st = (s[0] - '0') * 100; st < (s[0] - '0' + 1) * 100; st++)
			set_bit(set, st);
		return 0;
	}
	for (int i = 0; i < 3; i++) {
		if (!is_digit(s[i]))
			return fail(why, bad);
		v = v * 10 + s[i] - '0';
	}
	set_bit(set, v);
	return 0;
}

/* Latency value of a k6 string: a duration, or a bare number of milliseconds as k6 writes. */
static int k6_duration(const char *s, uint64_t *ns, const char **why)
{
	size_t n = num_len(s);

	if (n && !s[n])
		return dec_parse(s, n, 6, ns, why);
	return slo__parse_duration(s, ns, why);
}

int slo__parse_k6(const char *s, struct slo_objective *o, const char **why)
{
	static const struct {
		const char *name;
		enum slo_obj_kind kind;
	} stats[] = {
		{ "avg", SLO_OBJ_AVG },
		{ "min", SLO_OBJ_MIN },
		{ "max", SLO_OBJ_MAX },
		{ "med", SLO_OBJ_LATENCY },
		{ "count", SLO_OBJ_COUNT },
		{ "rate", SLO_OBJ_ERRORS },
		{ "hit_ratio", SLO_OBJ_HIT_RATIO },
	};
	char val[64];
	const char *p = s, *v;
	size_t n;
	bool le, lt, ge, gt;
	int i;

	while (is_space(*p))
		p++;
	if (!strncmp(p, "p(", 2)) {
		const char *close = strchr(p, ')');
		char pct[32];

		if (!close || (size_t)(close - p - 2) >= sizeof(pct))
			return fail(why, "expected p(N) with a percentile N");
		memcpy(pct, p + 2, close - p - 2);
		pct[close - p - 2] = '\0';
		if (slo__parse_percentile(pct, &o->ratio_ppb, why))
			return -EINVAL;
		o->kind = SLO_OBJ_LATENCY;
		o->percentile = true;
		p = close + 1;
	} else {
		for (i = 0; i < (int)(sizeof(stats) / sizeof(stats[0])); i++) {
			n = strlen(stats[i].name);
			if (!strncmp(p, stats[i].name, n) && !(p[n] >= 'a' && p[n] <= 'z'))
				break;
		}
		if (i == (int)(sizeof(stats) / sizeof(stats[0])))
			return fail(why,
				    "expected p(N), med, avg, min, max, rate, count or hit_ratio");
		o->kind = stats[i].kind;
		if (!strcmp(stats[i].name, "med")) {
			o->ratio_ppb = SLO_PPB / 2;
			o->percentile = true;
		}
		p += strlen(stats[i].name);
	}
	while (is_space(*p))
		p++;
	le = !strncmp(p, "<=", 2);
	ge = !strncmp(p, ">=", 2);
	lt = !le && *p == '<';
	gt = !ge && *p == '>';
	if (!le && !ge && !lt && !gt) {
		if (*p == '=' || *p == '!')
			return fail(why, "only <, <=, > and >= are supported");
		return fail(why, "expected an operator (<, <=, >, >=)");
	}
	p += le || ge ? 2 : 1;
	while (is_space(*p))
		p++;
	v = p;
	n = strlen(v);
	while (n && is_space(v[n - 1]))
		n--;
	if (!n)
		return fail(why, "expected a value after the operator");
	if (n >= sizeof(val))
		return fail(why, "value too long");
	memcpy(val, v, n);
	val[n] = '\0';

	if (o->kind == SLO_OBJ_COUNT) {
		if (!ge && !gt)
			return fail(why, "count takes > or >= (a minimum number of observations)");
		o->strict = gt;
		return dec_parse(val, n, 0, &o->count, why);
	}
	if (o->kind == SLO_OBJ_HIT_RATIO) {
		if (!ge && !gt)
			return fail(why, "hit_ratio is a floor: it takes > or >=");
		o->strict = gt;
		return slo__parse_ratio(val, &o->ratio_ppb, why);
	}
	if (ge || gt)
		return fail(why, o->kind == SLO_OBJ_ERRORS
					 ? "rate is the error rate: it takes < or <="
					 : "latency objectives take < or <= (an upper bound)");
	o->strict = lt;
	if (o->kind == SLO_OBJ_ERRORS)
		return slo__parse_ratio(val, &o->ratio_ppb, why);
	return k6_duration(val, &o->threshold_ns, why);
}

static bool glob(const char *pat, const char *val, int flags)
{
	if (!pat)
		return true;
	return val && !fnmatch(pat, val, flags);
}

bool slo__match_http(const struct slo *s, const char *method, const char *route,
		     const char *service, const char *comm, const char *container)
{
	return s->source == SLO_HTTP && glob(s->method, method, FNM_CASEFOLD) &&
	       glob(s->route, route, 0) && glob(s->service, service, 0) && glob(s->comm, comm, 0) &&
	       glob(s->container, container, 0);
}

bool slo__match_db(const struct slo *s, const char *fingerprint, const char *service)
{
	return s->source == SLO_DB && glob(s->query, fingerprint, FNM_CASEFOLD) &&
	       glob(s->service, service, 0);
}

bool slo__match_cache(const struct slo *s, const char *verb, const char *pattern,
		      const char *service, const char *server)
{
	/* Like a missing container: a command without a key is no key "*" would stand for. */
	if (pattern && !pattern[0])
		pattern = NULL;
	return s->source == SLO_CACHE && glob(s->command, verb, FNM_CASEFOLD) &&
	       glob(s->pattern, pattern, 0) && glob(s->service, service, 0) &&
	       glob(s->server, server, 0);
}

int slo__format_ratio(uint64_t ppb, char *buf, size_t sz)
{
	char num[32];

	units__decimal(ppb, SLO_PPB / 100, num, sizeof(num));
	return snprintf(buf, sz, "%s%%", num);
}

int slo__format_objective(const struct slo_objective *o, char *buf, size_t sz)
{
	static const char *const stat[] = {
		[SLO_OBJ_AVG] = "avg", [SLO_OBJ_MIN] = "min", [SLO_OBJ_MAX] = "max"
	};
	static const char *const what[] = {
		[SLO_HTTP] = "requests", [SLO_DB] = "queries", [SLO_CACHE] = "commands"
	};
	const char *op = o->strict ? "<" : "<=";
	char a[64], b[64];

	switch (o->kind) {
	case SLO_OBJ_LATENCY:
		units__ns_exact(o->threshold_ns, b, sizeof(b));
		if (o->percentile) {
			units__decimal(o->ratio_ppb, SLO_PPB / 100, a, sizeof(a));
			return snprintf(buf, sz, "p%s %s %s", a, op, b);
		}
		slo__format_ratio(o->ratio_ppb, a, sizeof(a));
		return snprintf(buf, sz, "%s of %s %s %s", a,
				what[o->slo ? o->slo->source : SLO_HTTP], op, b);
	case SLO_OBJ_ERRORS:
		slo__format_ratio(o->ratio_ppb, b, sizeof(b));
		if (!strcmp(o->errors_label, "failed"))
			return snprintf(buf, sz, "failure rate %s %s", op, b);
		return snprintf(buf, sz, "%s rate %s %s", o->errors_label, op, b);
	case SLO_OBJ_AVG:
	case SLO_OBJ_MIN:
	case SLO_OBJ_MAX:
		units__ns_exact(o->threshold_ns, b, sizeof(b));
		return snprintf(buf, sz, "%s %s %s", stat[o->kind], op, b);
	case SLO_OBJ_COUNT:
		return snprintf(buf, sz, "count %s %llu",
				o->strict ? ">" : ">=", (unsigned long long)o->count);
	case SLO_OBJ_HIT_RATIO:
		slo__format_ratio(o->ratio_ppb, b, sizeof(b));
		return snprintf(buf, sz, "hit ratio %s %s", o->strict ? ">" : ">=", b);
	}
	return snprintf(buf, sz, "?");
}

int slo__format_selector(const struct slo *s, char *buf, size_t sz)
{
	static const char *const prefix[] = {
		[SLO_HTTP] = "", [SLO_DB] = "db", [SLO_CACHE] = "cache"
	};
	static const char *const all[] = { [SLO_HTTP] = "all HTTP endpoints",
					   [SLO_DB] = "all DB queries",
					   [SLO_CACHE] = "all cache commands" };
	const struct {
		const char *key, *val;
	} f[] = {
		{ "", s->method },
		{ "", s->route },
		{ "pattern=", s->pattern },
		{ "command=", s->command },
		{ "service=", s->service },
		{ "comm=", s->comm },
		{ "container=", s->container },
		{ "query=", s->query },
		{ "server=", s->server },
	};
	size_t off = 0;
	int n;

	if (!sz)
		return 0;
	buf[0] = '\0';
	n = snprintf(buf, sz, "%s", prefix[s->source]);
	off = (size_t)n < sz ? (size_t)n : sz - 1;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (!f[i].val)
			continue;
		n = snprintf(buf + off, sz - off, "%s%s%s", off ? " " : "", f[i].key, f[i].val);
		off += (size_t)n < sz - off ? (size_t)n : sz - off - 1;
	}
	if (!strcmp(buf, prefix[s->source]))
		return snprintf(buf, sz, "%s", all[s->source]);
	return (int)off;
}

bool slo__after_warmup(const struct slo_set *s, uint64_t start_ns, uint64_t ts_ns)
{
	return ts_ns >= start_ns && ts_ns - start_ns >= s->warmup_ns;
}

const char *slo__source_name(enum slo_source src)
{
	return src == SLO_HTTP ? "http" : src == SLO_DB ? "db" : "cache";
}

const char *slo__kind_name(const struct slo_objective *o)
{
	switch (o->kind) {
	case SLO_OBJ_LATENCY:
		return o->percentile ? "latency_percentile" : "latency_threshold";
	case SLO_OBJ_ERRORS:
		return "error_rate";
	case SLO_OBJ_AVG:
		return "latency_avg";
	case SLO_OBJ_MIN:
		return "latency_min";
	case SLO_OBJ_MAX:
		return "latency_max";
	case SLO_OBJ_HIT_RATIO:
		return "hit_ratio";
	case SLO_OBJ_COUNT:
		break;
	}
	return "count";
}

int slo__format_scope(const struct slo *s, char *buf, size_t sz)
{
	char sel[480];

	slo__format_selector(s, sel, sizeof(sel));
	if (s->source == SLO_HTTP && strncmp(sel, "all ", 4))
		return snprintf(buf, sz, "http %s", sel);
	return snprintf(buf, sz, "%s", sel);
}

double slo__drop_pct(uint64_t dropped, uint64_t seen)
{
	double all = (double)dropped + (double)seen;

	return all > 0 ? 100.0 * dropped / all : 0;
}

bool slo__data_incomplete(uint64_t dropped, uint64_t seen, double max_pct)
{
	return dropped && slo__drop_pct(dropped, seen) > max_pct;
}
