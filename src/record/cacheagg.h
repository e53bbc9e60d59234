/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Cache side of a recording (Redis): per client x server x command x key pattern, latency,
 * hits and misses, errors by their first word, sizes; connections per client (pool size);
 * one point per interval for the whole cache; the flags with their evidence (a key read
 * several times in one request, string SETs without a TTL, whole-structure reads of big sets,
 * large values, patterns that mostly miss).
 *
 * Every engine hands in struct cache_op records (proto/cache.h), whose key is already a
 * pattern: no literal is kept unless raw_keys is set, and then one sample per row only.
 * Evidence names numbers and command names, never a key.
 */
#ifndef SLOPROBE_CACHEAGG_H
#define SLOPROBE_CACHEAGG_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/hist.h"
#include "lib/u64map.h"
#include "proto/cache.h"
#include "record/timeline.h"
#include "run/slo.h"

#define CACHEAGG_ROWS_DEFAULT  2000 /* rows kept; commands of more are counted as dropped */
#define CACHEAGG_ERRS	       4    /* distinct error words kept per row */
#define CACHEAGG_FLAGS_MAX     256  /* flags kept in the report */
#define CACHEAGG_CLIENTS_MAX   64   /* (client, server) pairs for connection stats */
#define CACHEAGG_REPEATS_MAX   1024 /* (row, endpoint) pairs followed for REPEAT_READ */
#define CACHEAGG_LOW_HIT_READS 20   /* keys read before a pattern's hit ratio is judged */
#define CACHEAGG_ENDPOINT_MAX  192

enum cacheagg_flag_kind {
	CACHEAGG_FLAG_REPEAT_READ = 1, /* one key read several times in one request */
	CACHEAGG_FLAG_NO_TTL,	       /* string SETs without a TTL */
	CACHEAGG_FLAG_SCAN_ALL,	       /* KEYS, or whole-structure reads of big structures */
	CACHEAGG_FLAG_LARGE_VALUE,     /* values over large_value_bytes */
	CACHEAGG_FLAG_LOW_HIT_RATIO,   /* a read pattern that mostly misses */
};

/* Thresholds; 0 takes the default. */
struct cacheagg_opts {
	unsigned max_rows;	    /* CACHEAGG_ROWS_DEFAULT */
	uint64_t large_value_bytes; /* a value over this is large (100 KiB) */
	int64_t big_elements;	    /* whole-structure reads of more elements (1000) */
	unsigned repeat_min;	    /* same key read this often in a request (2) */
	double low_hit_ratio; /* flag read patterns under this (0.5), CACHEAGG_LOW_HIT_READS */
	bool raw_keys;	      /* keep one literal key per row */
};

struct cacheagg_err {
	char word[CACHE_ERR_MAX];
	uint64_t count;
};

struct cacheagg_row {
	uint64_t id; /* hash of client, server, verb, pattern: stable across runs */
	char client[64], server[64];
	char verb[CACHE_VERB_MAX];
	char pattern[CACHE_PATTERN_MAX];
	char *raw_key;	  /* with raw_keys only */
	uint64_t count;	  /* answered commands: those of the latency histogram */
	uint64_t aborted; /* never answered (connection closed, process gone): not in count */
	uint64_t errors, approx, pipelined, in_tx;
	/* Errors by the reply's first word; words that are not a code (upper case) go to other. */
	struct cacheagg_err errs[CACHEAGG_ERRS];
	uint64_t errs_other;
	uint64_t reads;		     /* read commands */
	uint64_t hits, misses;	     /* keys those reads asked for: answered / nil or empty */
	uint64_t writes, no_ttl;     /* writes, of which SET-like without a TTL */
	uint64_t scan_all, scan_big; /* whole-structure reads, of which over big_elements */
	int64_t max_elements;	     /* largest whole-structure reply; -1: none */
	uint64_t req_bytes, reply_bytes, max_value;
	uint64_t large_values; /* commands with a value over large_value_bytes */
	struct hist lat;
	uint64_t win_count, win_hits, win_misses, win_errors; /* current interval */
	uint64_t last_count;				      /* count at the previous roll */
	double rate;					      /* commands/s, last interval */
	struct slo_link slo; /* the SLO rows that judge its commands (record --slo) */
};

struct cacheagg_client {
	char client[64], server[64];
	uint64_t opened, closed, commands;
	unsigned live, peak; /* connections open now / at most: the pool size */
};

struct cacheagg_flag {
	int kind; /* enum cacheagg_flag_kind */
	uint64_t row_id;
	char endpoint[CACHEAGG_ENDPOINT_MAX]; /* "" when not about an endpoint */
	char evidence[256];
	uint64_t count; /* occurrences: requests (REPEAT_READ), commands, keys (LOW_HIT_RATIO) */
};

/* Requests of an endpoint that read one key of a row several times (cacheagg__repeat). */
struct cacheagg_repeat {
	uint64_t row_id;
	char endpoint[CACHEAGG_ENDPOINT_MAX];
	uint64_t requests, reads; /* such requests; the reads of the repeated key in them */
	unsigned max;		  /* most reads of one key in one request */
};

/* One interval of the whole cache, as the live view showed it. */
struct cacheagg_point {
	double t_s, interval_s; /* end of the interval, seconds since the start; its length */
	uint64_t count, errors, hits, misses;
	uint64_t p50_ns, p95_ns, p99_ns;
};

struct cacheagg {
	struct cacheagg_opts o;
	struct cacheagg_row **rows; /* insertion order; by total time after cacheagg__finish */
	unsigned nrows, cap;
	struct u64map index;   /* row id -> its index in rows; room for max_rows from the start */
	uint64_t commands;     /* every command handed in */
	uint64_t rows_dropped; /* commands of rows beyond max_rows (or without memory for one) */
	struct cacheagg_client clients[CACHEAGG_CLIENTS_MAX];
	unsigned nclients;
	struct u64map client_index;
	uint64_t clients_dropped; /* connection events and commands of pairs beyond the table */
	struct cacheagg_repeat *repeats;
	unsigned nrepeats;
	struct u64map repeat_index;
	uint64_t repeats_dropped; /* cacheagg__repeat calls of pairs beyond CACHEAGG_REPEATS_MAX */
	struct cacheagg_flag flags[CACHEAGG_FLAGS_MAX];
	unsigned nflags;
	uint64_t flags_dropped;
	struct hist win; /* every answered command of the current interval */
	uint64_t win_hits, win_misses, win_errors;
	struct cacheagg_point *points;
	unsigned npoints, cap_points;
	struct timeline_budget tl_budget;
};

/* NULL on ENOMEM; o NULL: every default. */
struct cacheagg *cacheagg__new(const struct cacheagg_opts *o);
void cacheagg__free(struct cacheagg *a);
/*
 * One finished command of client (a service name) to server ("addr:port", NULL: unknown);
 * returns its row (NULL: table full or no memory, counted as dropped).
 */
struct cacheagg_row *cacheagg__add(struct cacheagg *a, const struct cache_op *op,
				   const char *client, const char *server);
struct cacheagg_row *cacheagg__find(const struct cacheagg *a, uint64_t row_id);
void cacheagg__conn_open(struct cacheagg *a, const char *client, const char *server, uint64_t ts);
void cacheagg__conn_close(struct cacheagg *a, const char *client, const char *server, uint64_t ts);
/*
 * A request of endpoint ("METHOD route") read one key of row n times; counted when
 * n >= o.repeat_min: the cache's N+1.
 */
void cacheagg__repeat(struct cacheagg *a, uint64_t row_id, const char *endpoint, unsigned n);
/*
 * Hits / (hits + misses) of the whole run, or of the rows whose pattern is pattern (NULL: all);
 * -1 when there was no read.
 */
double cacheagg__hit_ratio(const struct cacheagg *a, const char *pattern);
/* Close the current interval, which ended t_s seconds after the start: rates, one point. */
void cacheagg__roll(struct cacheagg *a, double t_s, double interval_s);
/*
 * Flags computed (again: it may be called more than once), rows sorted by total time. Call when
 * recording ends, after the last cacheagg__repeat (dbtrack__finish).
 */
void cacheagg__finish(struct cacheagg *a, double duration_s);
/* "repeat_read", "no_ttl", ...; "?" for an unknown kind. */
const char *cacheagg__flag_name(int kind);

#endif
