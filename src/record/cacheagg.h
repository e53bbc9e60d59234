/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Cache side of a recording (Redis): per client x server x command x key pattern, latency,
 * hits and misses, errors by their first word, sizes; connections per client (pool size);
 * one point per interval; the flags with their evidence (a key read several times in one
 * request, string SETs without a TTL, whole-structure reads of big sets, large values).
 *
 * Every engine hands in struct cache_op records (proto/cache.h), whose key is already a
 * pattern: no literal is kept unless raw_keys is set, and then one sample per row only.
 */
#ifndef SLOPROBE_CACHEAGG_H
#define SLOPROBE_CACHEAGG_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/hist.h"
#include "proto/cache.h"
#include "record/timeline.h"

#define CACHEAGG_ROWS_DEFAULT 2000 /* rows kept; commands of more are counted as dropped */
#define CACHEAGG_ERRS	      4	   /* distinct error words kept per row */
#define CACHEAGG_FLAGS_MAX    256  /* flags kept in the report */
#define CACHEAGG_CLIENTS_MAX  64   /* (client, server) pairs for connection stats */

enum cacheagg_flag_kind {
	CACHEAGG_FLAG_REPEAT_READ = 1, /* one key read several times in one request */
	CACHEAGG_FLAG_NO_TTL,	       /* string SETs without a TTL */
	CACHEAGG_FLAG_SCAN_ALL,	       /* KEYS, or whole-structure reads of big structures */
	CACHEAGG_FLAG_LARGE_VALUE,     /* values over large_value_bytes */
	CACHEAGG_FLAG_LOW_HIT_RATIO,   /* a read pattern that mostly misses */
};

struct cacheagg_opts {
	unsigned max_rows;	    /* 0: CACHEAGG_ROWS_DEFAULT */
	uint64_t large_value_bytes; /* default 100 KiB */
	int64_t big_elements;	    /* whole-structure reads of more elements (default 1000) */
	unsigned repeat_min;	    /* same key read this often in a request (default 2) */
	double low_hit_ratio;	    /* flag read patterns under this (default 0.5, >= 20 reads) */
	bool raw_keys;		    /* keep one literal key per row */
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
	char *raw_key; /* with raw_keys only */
	uint64_t count, errors, aborted, approx, pipelined, in_tx;
	struct cacheagg_err errs[CACHEAGG_ERRS];
	uint64_t errs_other;
	uint64_t reads, hits, misses; /* keys of reads */
	uint64_t writes, no_ttl;
	uint64_t scan_all;
	int64_t max_elements;
	uint64_t req_bytes, reply_bytes, max_value;
	uint64_t large_values;
	struct hist lat;
	struct hist win; /* current interval */
	uint64_t win_count, win_hits, win_misses, last_count;
	double rate;
	uint64_t first_ts, last_ts;
	struct timeline tl;
};

struct cacheagg_client {
	char client[64], server[64];
	uint64_t opened, closed, commands;
	unsigned live, peak; /* connections open now / at most: the pool size */
};

struct cacheagg_flag {
	int kind; /* enum cacheagg_flag_kind */
	uint64_t row_id;
	char endpoint[192]; /* "" when not about an endpoint */
	char evidence[256];
	uint64_t count; /* occurrences (requests, commands) */
};

struct cacheagg;

int cacheagg__new(struct cacheagg **out, const struct cacheagg_opts *o);
void cacheagg__free(struct cacheagg *a);
/* One finished command; returns its row (NULL: table full, counted as dropped). */
struct cacheagg_row *cacheagg__add(struct cacheagg *a, const struct cache_op *op, const char *client,
				   const char *server);
void cacheagg__conn_open(struct cacheagg *a, const char *client, const char *server, uint64_t ts);
void cacheagg__conn_close(struct cacheagg *a, const char *client, const char *server, uint64_t ts);
/* A request of endpoint read one key of row n times (n >= repeat_min): the cache's N+1. */
void cacheagg__repeat(struct cacheagg *a, uint64_t row_id, const char *endpoint, unsigned n);
/* Hits / (hits + misses) of the whole run, or of the rows whose pattern matches (NULL: all);
 * -1 when there was no read. */
double cacheagg__hit_ratio(const struct cacheagg *a, const char *pattern);
void cacheagg__roll(struct cacheagg *a, double t_s, double interval_s);
/* Flags computed, rows sorted; call once when recording ends. */
void cacheagg__finish(struct cacheagg *a, double duration_s);

#endif
