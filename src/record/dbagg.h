/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Database side of a recording: per query fingerprint latency (one histogram per observation
 * path, so that network + driver overhead shows), errors by SQLSTATE, hotspots, and the
 * anti-pattern flags with their evidence.
 *
 * Every path hands in struct db_exec records (src/db.h). The SQL text is fingerprinted here
 * (src/sqlnorm.h); literals are never kept unless raw_sql is set, and then one sample per
 * fingerprint only.
 */
#ifndef SLOPROBE_DBAGG_H
#define SLOPROBE_DBAGG_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/db.h"
#include "lib/hist.h"
#include "lib/u64map.h"
#include "run/slo.h"
#include "record/timeline.h"

#define DBAGG_FP_DEFAULT  2000 /* fingerprints kept; more are counted as dropped */
#define DBAGG_SQLSTATES	  8    /* distinct SQLSTATEs kept per fingerprint */
#define DBAGG_FLAGS_MAX	  256  /* flags kept in the report */
#define DBAGG_CLIENTS_MAX 64   /* (client service, server) pairs for pooling stats */

enum dbagg_flag_kind {
	DBAGG_FLAG_N_PLUS_ONE = 1,
	DBAGG_FLAG_REDUNDANT,
	DBAGG_FLAG_SELECT_STAR,
	DBAGG_FLAG_LARGE_OFFSET,
	DBAGG_FLAG_NO_POOLING,
	DBAGG_FLAG_LONG_TX,
	DBAGG_FLAG_SLOW,
};

struct dbagg_opts {
	uint64_t slow_ns;	   /* slow query threshold (default 1 s) */
	unsigned nplus1_min;	   /* consecutive runs of one fingerprint (default 5) */
	uint64_t nplus1_gap_ns;	   /* largest gap between them (default 10 ms) */
	uint64_t nplus1_total_ns;  /* ... totalling at least this (default 50 ms) */
	unsigned nplus1_share_pct; /* ... or this share of the request (default 10) */
	int64_t offset_min;	   /* OFFSET at least this is "large" (default 1000) */
	uint64_t long_tx_ns;	   /* BEGIN..COMMIT longer than this (default 1 s) */
	bool raw_sql;		   /* keep one raw sample per fingerprint */
	unsigned max_fps;
};

struct dbagg_sqlstate {
	char code[6];
	uint64_t count;
};

struct dbagg_fp {
	uint64_t query_id;
	char *text;	   /* the fingerprint */
	char *raw;	   /* one raw sample, only with raw_sql */
	unsigned sqlflags; /* SQLNORM_* of the first text seen */
	int verb;	   /* enum sql_verb */
	bool truncated;	   /* the text was cut: never flagged */
	bool unknown_stmt; /* a prepared statement whose text we never saw */
	int64_t max_offset;
	uint64_t count[DB_PATH_NR];
	struct hist *lat[DB_PATH_NR]; /* NULL until the path sees the query */
	struct hist *first_byte;      /* query sent -> first answer byte (wire path); or NULL */
	struct hist win;	      /* current interval, main path */
	uint64_t win_count, last_count;
	double rate;
	uint64_t errors;
	struct dbagg_sqlstate states[DBAGG_SQLSTATES];
	int64_t rows; /* sum over executions whose row count is known */
	uint64_t rows_known;
	uint64_t slow; /* executions over slow_ns */
	uint64_t slow_worst_ns, slow_worst_ts;
	char client[64]; /* service of the first client seen */
	char server[64]; /* server address of the first execution seen */
	uint64_t first_ts, last_ts;
	uint64_t win_errors;
	struct timeline tl; /* one point per interval since it was first seen */
	struct slo_link slo;
};

struct dbagg_flag {
	int kind;	    /* enum dbagg_flag_kind */
	uint64_t query_id;  /* 0: not about one fingerprint */
	char endpoint[200]; /* "METHOD route" or "" */
	char evidence[256];
	uint64_t ts;
	uint64_t occurrences; /* same kind + fingerprint + endpoint seen again */
	uint64_t shared;      /* occurrences whose request was not known exactly */
	double support;	      /* N+1 from shared runs: occurrences / endpoint requests */
	bool weak;	      /* shared only, and in under half of the endpoint's requests */
};

/* Connections of one client service to one database server, for the pooling check. */
struct dbagg_client {
	char client[64];
	char server[64];
	uint64_t opened, closed;
	uint64_t life_ns; /* sum over closed connections */
	uint64_t queries;
	uint64_t first_ts, last_ts;
};

struct dbagg {
	struct dbagg_opts o;
	struct dbagg_fp **fps;
	unsigned nfps, cap;
	struct u64map index;  /* query_id -> its index in fps; room for max_fps from the start */
	uint64_t fps_dropped; /* executions of fingerprints beyond max_fps */
	uint64_t execs[DB_PATH_NR];
	uint64_t total_ns; /* all DB time, main path */
	struct dbagg_flag flags[DBAGG_FLAGS_MAX];
	unsigned nflags;
	uint64_t flags_dropped;
	uint64_t flags_overlap; /* shared N+1 flags explained by a stronger one, removed */
	struct dbagg_client clients[DBAGG_CLIENTS_MAX];
	unsigned nclients;
	struct sqlnorm_cache *cache;
	struct timeline_budget tl_budget;
};

int dbagg__init(struct dbagg *d, const struct dbagg_opts *o);
void dbagg__free(struct dbagg *d);

/*
 * Count one execution. client: service name of the client process; server: "addr:port" or
 * NULL. Returns the fingerprint entry (and its raw-text hash in *raw_hash, for the
 * redundant-query check) or NULL when the text is unusable or the table is full.
 */
struct dbagg_fp *dbagg__add(struct dbagg *d, const struct db_exec *x, const char *client,
			    const char *server, uint64_t *raw_hash);
/* Which path gives a fingerprint's main count and latency: wire, else libpq, else usdt. */
int dbagg__main_path(const struct dbagg_fp *f);
/* "wire", "libpq", "usdt": as --db-probe and the report name the paths; "?" otherwise. */
const char *dbagg__path_name(int path);
/* The paths of a mask of 1 << enum db_path, comma-separated: "wire,libpq". */
const char *dbagg__path_names(unsigned mask, char *buf, size_t sz);
struct dbagg_fp *dbagg__find(const struct dbagg *d, uint64_t query_id);

/* A flag with its evidence; the same kind, fingerprint and endpoint again adds an occurrence. */
struct dbagg_flag *dbagg__flag(struct dbagg *d, int kind, uint64_t query_id, const char *endpoint,
			       uint64_t ts, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
const char *dbagg__flag_name(int kind);

/* Connection lifecycle of a client to a database server, for the pooling check. */
void dbagg__conn_open(struct dbagg *d, const char *client, const char *server, uint64_t ts);
void dbagg__conn_close(struct dbagg *d, const char *client, const char *server, uint64_t life_ns,
		       uint64_t queries, uint64_t ts);

/* Close the current interval (rates, window histograms). */
void dbagg__roll(struct dbagg *d, double t_s, double interval_s);
/* End of recording: the flags that need the whole run (SELECT *, OFFSET, pooling, slow). */
void dbagg__finish(struct dbagg *d, double duration_s);

enum dbagg_order { DBAGG_BY_TOTAL, DBAGG_BY_P95, DBAGG_BY_COUNT };
/* Fingerprints sorted, descending. Caller frees the array. */
struct dbagg_fp **dbagg__sorted(const struct dbagg *d, enum dbagg_order by);
/* Total time of a fingerprint on its main path, ns. */
uint64_t dbagg__fp_total(const struct dbagg_fp *f);

#endif
