/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Service level objectives: the SLO file (docs/slo.md), the selectors that tie an SLO to HTTP
 * endpoints, DB fingerprints or cache key patterns, and the verdict of each objective.
 *
 * Every objective is judged on exact counters kept at its own threshold (struct slo_counts),
 * never on histogram percentiles: "p95 <= 300 ms" is "at least 95 % of the requests took
 * <= 300 ms", which is the nearest-rank p95 without any bucket error. Histograms only supply
 * the observed percentile shown next to the verdict, and the counters when re-judging a saved
 * report offline (slo__counts_from_hist(), flagged approximate unless exact).
 *
 * Ratios are integers in parts per billion (SLO_PPB = 100 %) so that "99.9 %" and "0.5 %"
 * compare exactly; durations are nanoseconds.
 *
 * src/slo.c: scalar parsers, k6 strings, selectors, formatting (no libyaml, no hist: fuzzable)
 * src/slo_eval.c: counters and verdicts
 * src/slo_parse.c: the YAML file (libyaml), src/slo_build.c: the SLOs of its nodes
 */
#ifndef SLOPROBE_SLO_H
#define SLOPROBE_SLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The SLO rows (src/slotrack.h) that judge an endpoint, a fingerprint or a cache row, found on
 * its first observation; kept in the endpoint, fingerprint or cache row itself.
 */
struct slo_link {
	unsigned *rows;
	unsigned nrows;
	bool matched;
	/* Cache rows: hit-ratio rows linked too, on the first read (a row only written never
	 * gets a hit ratio to judge). */
	bool reads;
	bool breach; /* an objective breached in the last interval */
};

struct hist;

#define SLO_API_VERSION "sloprobe/v1"
#define SLO_KIND	"SLO"
#define SLO_PPB		1000000000ull /* 100 % */
/* Status sets hold HTTP codes 100..599, and SLO_DB_FAILED for a failed DB query. */
#define SLO_STATUS_MAX 600
#define SLO_DB_FAILED  1	  /* also a cache command answered with an error */
#define SLO_FILE_MAX   (4u << 20) /* larger SLO files are refused */
/*
 * min_samples of a cache SLO when neither it nor the file gives one: a hit ratio of a handful
 * of reads (the first ones of a cold cache all miss) says nothing. With 20 reads, one miss
 * moves the ratio by 5 %.
 */
#define SLO_CACHE_MIN_SAMPLES 20

struct slo_status_set {
	uint64_t bits[(SLO_STATUS_MAX + 63) / 64];
};

enum slo_source {
	SLO_HTTP,  /* requests of HTTP endpoints */
	SLO_DB,	   /* executions of DB query fingerprints */
	SLO_CACHE, /* commands of a cache (Redis), by key pattern */
};

enum slo_per {
	SLO_PER_ENDPOINT, /* each matching endpoint / fingerprint / key pattern on its own */
	SLO_PER_ALL,	  /* the union of everything that matches is judged once */
};

enum slo_obj_kind {
	SLO_OBJ_LATENCY,   /* share of observations <= (or <) threshold_ns >= ratio_ppb */
	SLO_OBJ_ERRORS,	   /* errors / (total - protected) <= (or <) ratio_ppb */
	SLO_OBJ_AVG,	   /* mean latency <= (or <) threshold_ns */
	SLO_OBJ_MIN,	   /* smallest latency <= (or <) threshold_ns */
	SLO_OBJ_MAX,	   /* largest latency <= (or <) threshold_ns */
	SLO_OBJ_COUNT,	   /* number of observations >= (or >) count */
	SLO_OBJ_HIT_RATIO, /* cache: hits / keys read >= (or >) ratio_ppb */
};

struct slo;

struct slo_objective {
	char *name;	   /* name / displayName, else the formatted objective */
	char *description; /* NULL if none */
	enum slo_obj_kind kind;
	bool strict;	       /* < rather than <= (COUNT, HIT_RATIO: > rather than >=) */
	bool percentile;       /* LATENCY written as a percentile (p95) rather than a share */
	uint64_t threshold_ns; /* LATENCY, AVG, MIN, MAX */
	uint64_t ratio_ppb;    /* LATENCY: good share; ERRORS: ceiling; HIT_RATIO: floor */
	uint64_t count;	       /* COUNT */
	struct slo_status_set errors; /* ERRORS: the statuses that are errors */
	char errors_label[48];	      /* ERRORS: "5xx", "4xx+5xx", "500,502", "failed" */
	const struct slo *slo;	      /* the SLO it belongs to */
	unsigned line, column;	      /* 1-based position in the file */
};

struct slo {
	char *name;
	char *display_name; /* NULL if none */
	char *description;  /* NULL if none */
	enum slo_source source;
	/* Shell globs (fnmatch, '*' crosses '/'); NULL: anything. */
	char *method, *route, *service, *comm, *container; /* HTTP */
	char *query;					   /* DB fingerprint; service too */
	char *pattern, *command, *server; /* cache key pattern, verb, "addr:port"; service too */
	enum slo_per per;
	uint64_t min_samples;
	struct slo_status_set protection; /* HTTP: neither good nor errors for ERRORS objectives */
	struct slo_objective *obj;
	unsigned nobj;
	unsigned line, column;
};

struct slo_set {
	char *file;	      /* the name errors are reported under */
	uint64_t warmup_ns;   /* observations in [start, start + warmup) are not judged */
	uint64_t min_samples; /* file default, copied into each SLO without its own (a cache SLO
			       * takes SLO_CACHE_MIN_SAMPLES when the file gives none) */
	struct slo_status_set protection; /* file default (429, 409 when not given) */
	struct slo *slos;
	unsigned nslos;
};

/* --- the file (slo_parse.c, slo_build.c) --- */

/*
 * Parse an SLO file. On error returns NULL and writes one line "file:line:column: message"
 * (1-based) into err; every error is fatal (unknown keys included), callers exit 2.
 */
struct slo_set *slo__parse_file(const char *path, char *err, size_t errsz);
/* The same over a buffer; name stands for the file in messages. */
struct slo_set *slo__parse_string(const char *buf, size_t len, const char *name, char *err,
				  size_t errsz);
void slo__free(struct slo_set *s);

/* --- scalars (slo.c); each returns 0, or -EINVAL with *why (if given) set to a reason --- */

/* "300ms", "0.5s", "250us", "20ns", "2m": a decimal number and a unit, exact to the ns. */
int slo__parse_duration(const char *s, uint64_t *ns, const char **why);
/* "0.5%", "99.9%" or a plain ratio "0.005" into parts per billion, within [0, 100 %]. */
int slo__parse_ratio(const char *s, uint64_t *ppb, const char **why);
/* A percentile "95", "99.9" in (0, 100] into parts per billion. */
int slo__parse_percentile(const char *s, uint64_t *ppb, const char **why);
/* An entry of a status list: "5xx" (classes 1xx..5xx), "429", or "failed" (SLO_DB_FAILED). */
int slo__status_set_add(struct slo_status_set *set, const char *s, const char **why);
bool slo__status_in(const struct slo_status_set *set, int status);

/*
 * A k6 threshold: p(N), med, avg, min, max with < or <= and a duration ("300ms", or a bare
 * number of milliseconds as in k6); rate (the error rate) with < or <= and a ratio; count with
 * > or >= and an integer. Fills kind, strict, percentile, threshold_ns, ratio_ppb, count of o;
 * the caller sets the error statuses of a rate.
 */
int slo__parse_k6(const char *s, struct slo_objective *o, const char **why);

/* --- selectors (slo.c); NULL fields of the observation only match an absent selector --- */

bool slo__match_http(const struct slo *s, const char *method, const char *route,
		     const char *service, const char *comm, const char *container);
/* service: the client process' service (may be NULL) */
bool slo__match_db(const struct slo *s, const char *fingerprint, const char *service);
/*
 * A cache command: verb ("GET", upper case), key pattern ("user:{id}:plan"; NULL or "" for a
 * command without a key, which no pattern glob matches), the client's service and the server
 * ("127.0.0.1:6379"), each may be NULL.
 */
bool slo__match_cache(const struct slo *s, const char *verb, const char *pattern,
		      const char *service, const char *server);

/* --- display (slo.c); snprintf-style returns --- */

/* A threshold in ns is units__ns_exact() (lib/units.h): "300 ms", "1.5 s", "250 us". */
int slo__format_ratio(uint64_t ppb, char *buf, size_t sz); /* "0.5%", "99.95%" */
/* "p95 <= 300 ms", "99% of requests <= 300 ms", "5xx rate <= 0.5%", "hit ratio >= 90%" */
int slo__format_objective(const struct slo_objective *o, char *buf, size_t sz);
/* "POST /checkout* comm=gunicorn", "db query=SELECT *", "cache pattern=user:*", "all HTTP
 * endpoints" */
int slo__format_selector(const struct slo *s, char *buf, size_t sz);

/* As reports name a source: "http", "db", "cache". */
const char *slo__source_name(enum slo_source src);
/* Names used in reports: "latency_percentile", "latency_threshold", "error_rate", "hit_ratio" */
const char *slo__kind_name(const struct slo_objective *o);
/* The scope of an SLO as reports name it: "http GET /api/{id}", "all HTTP endpoints", "db ...",
 * "cache pattern=..." */
int slo__format_scope(const struct slo *s, char *buf, size_t sz);

/* true when an observation at ts is judged: at or after start + warmup */
bool slo__after_warmup(const struct slo_set *s, uint64_t start_ns, uint64_t ts_ns);

/* --- counters and verdicts (slo_eval.c); no allocation --- */

struct slo_counts {
	/* Observations counted, protection statuses included. HIT_RATIO: keys read (total) and
	 * found (good). */
	uint64_t total;
	uint64_t good;	     /* LATENCY: within the threshold */
	uint64_t errors;     /* statuses in the objective's error set (ERRORS) */
	uint64_t protected_; /* protection statuses (HTTP) */
	uint64_t sum_ns, min_ns, max_ns;
	bool approximate;     /* good came from histogram buckets, not exact counters */
	const struct hist *h; /* optional: for the observed percentile shown */
};

enum slo_verdict {
	SLO_PASS,
	SLO_BREACH,
	SLO_INSUFFICIENT, /* fewer than min_samples judged observations: never a pass */
};

enum slo_unit {
	SLO_UNIT_MS,	/* latency, milliseconds */
	SLO_UNIT_RATIO, /* 0..1 */
	SLO_UNIT_COUNT,
};

struct slo_result {
	enum slo_verdict verdict;
	enum slo_unit unit;
	double observed; /* NaN when unknown (a percentile without a histogram) */
	double target;	 /* the bound, same unit */
	double margin;	 /* signed, > 0: headroom, < 0: by how much it breached; NaN if unknown */
	/* bad / allowed bad, 1.0 = spent; NaN for AVG/MIN/MAX/COUNT; INFINITY if none allowed */
	double budget_consumed;
	uint64_t judged;     /* observations the verdict rests on (ERRORS: protected excluded) */
	uint64_t bad;	     /* LATENCY: over the threshold; ERRORS: errors; HIT_RATIO: misses */
	uint64_t protected_; /* reported, never judged by ERRORS */
	bool approximate;
};

void slo__counts_init(struct slo_counts *c);
/*
 * One observation: latency ns and HTTP status (0: none) or SLO_DB_FAILED / 0 for a query or a
 * cache command. HIT_RATIO objectives count no observation here: they count keys read.
 */
void slo__count(const struct slo_objective *o, struct slo_counts *c, uint64_t ns, int status);
/* Keys a cache read asked for: hits found, misses nil or empty. Only HIT_RATIO counts them. */
void slo__count_reads(const struct slo_objective *o, struct slo_counts *c, uint64_t hits,
		      uint64_t misses);
/* dst += src (interval counters into the run, endpoints into per: all) */
void slo__counts_merge(struct slo_counts *dst, const struct slo_counts *src);

struct slo_status_count {
	int status;
	uint64_t count;
};

/*
 * Counters from a saved report: latency from the histogram h (good is exact only when the
 * threshold is a bucket bound, else approximate is set), statuses from st (errors and
 * protection exact). h is kept in c for the observed percentile. HIT_RATIO objectives take
 * their counters from slo__count_reads() instead (the report keeps hits and misses exactly).
 */
void slo__counts_from_hist(const struct slo_objective *o, struct slo_counts *c,
			   const struct hist *h, const struct slo_status_count *st, size_t nst);

void slo__eval(const struct slo_objective *o, const struct slo_counts *c, struct slo_result *r);
const char *slo__verdict_str(enum slo_verdict v); /* "pass", "breach", "insufficient data" */
/* As reports name them: "pass", "breach", "insufficient_data"; "ms", "ratio", "count". */
const char *slo__verdict_key(enum slo_verdict v);
const char *slo__unit_name(enum slo_unit u);

/* Default of --max-drop-pct: verdicts of a run that lost more are judged on incomplete data. */
#define SLO_MAX_DROP_PCT 0.1

/*
 * Whether a run that received seen events and lost dropped more (requests, queries, events
 * anywhere) was seen too incompletely for its verdicts to be trusted: more than max_pct percent
 * of all lost. Lost requests can hide a breach as easily as they can make one.
 */
bool slo__data_incomplete(uint64_t dropped, uint64_t seen, double max_pct);
/* dropped as a percentage of all (seen + dropped); 0 when there was nothing. */
double slo__drop_pct(uint64_t dropped, uint64_t seen);

#endif
