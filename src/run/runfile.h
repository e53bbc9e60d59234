/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A JSON report (schema sloprobe.report/v1, docs/report.schema.json) loaded back into memory,
 * for the analyzer subcommands (report, diff, merge).
 *
 * Histograms are kept as their sparse buckets (struct hist_sparse), so percentiles are
 * recomputed and histograms of several reports merge exactly. Every string and array of a
 * struct run lives in the run's own arena: run__free releases everything at once.
 *
 * The file is read in blocks and its arrays of rows one row at a time (src/lib/jscan.h), so the
 * memory a run takes is that of its rows, not of its text or of a DOM of it.
 *
 * The loader checks every field it uses: a wrong type, a missing required field, an unknown
 * schema or histogram layout, a bucket that does not fit the layout, an integer beyond 64 bits,
 * or numbers that no recording can produce together (a sum of latencies beyond count x max,
 * status counts that do not add up to the count, percentiles out of order...) are refused with
 * one message naming the field ("http[2].histogram.buckets[5]: ..."), never half-loaded.
 *
 * The one public header of src/run/run*.c: run.c (arena, accessors, times), run_load.c,
 * run_load_field.c and run_load_section.c (the loader), run_write.c (the writer).
 */
#ifndef SLOPROBE_RUNFILE_H
#define SLOPROBE_RUNFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/hist.h"

#define RUNFILE_SCHEMA	"sloprobe.report/v1"
#define RUNFILE_ERR_MAX 320

/* A named counter of an open-ended object (events, connections, status, sqlstates...). */
struct run_count {
	const char *key;
	uint64_t n;
};

struct run_counts {
	struct run_count *v;
	unsigned n;
};

struct run_top_query {
	const char *query_id;
	const char *query; /* NULL: the report had none */
	double per_request;
	double ms_per_request;
};

/* An endpoint's database work ("db" object of an endpoint). */
struct run_ep_db {
	uint64_t requests;
	double queries_per_request;
	double queries_per_request_max;
	double db_time_ms_per_request;
	uint64_t attr_exact, attr_thread, attr_shared, attr_handoff;
	double db_time_share; /* as the file has it; NaN: computed by the writer (merge) */
	struct run_top_query *top;
	unsigned ntop;
};

/*
 * An endpoint's calls to a service other than its database, attributed per request like its
 * queries: the "cache" (Redis) and "outbound" (HTTP) objects of an endpoint, present when the
 * kind was followed.
 */
enum run_dep { RUN_DEP_CACHE, RUN_DEP_OUTBOUND, RUN_DEP_NR };

struct run_ep_dep {
	uint64_t requests; /* requests counted while the kind was followed */
	uint64_t with;	   /* ... that made at least one call */
	double calls_per_request, max_calls, ms_per_request;
	double errors;	     /* error replies, failed calls (a shared call counts its share) */
	double hits, misses; /* cache: keys read, answered / nil or empty */
	double hit_ratio;    /* cache: as the file has it; NaN: null (no key read) */
	uint64_t repeat;     /* cache: requests that read one key more than once */
};

/* Percentiles as the report printed them (ms); only kept where no histogram exists. */
struct run_latency {
	double p50, p90, p95, p99, p999, max, min, mean;
};

struct run_endpoint {
	const char *service;
	const char *comm;
	const char *container;	     /* its name from the engine, else its id; NULL: not in one */
	const char *container_id;    /* full id; NULL if absent (no container, older report) */
	const char *image;	     /* from the engine; NULL if unknown */
	const char *compose_project; /* labels com.docker.compose.project / .service; NULL */
	const char *compose_service;
	const char *runtime; /* NULL if absent */
	const char *cgroup;  /* NULL if absent */
	int port;	     /* -1 if absent */
	bool tls;	     /* the service's connections are TLS (decoded); absent: false */
	const char *method;
	const char *route;
	uint64_t *pids;
	unsigned npids;
	uint64_t count;
	double rate_per_s;
	struct run_counts status; /* "200" -> n, "other" -> n, in file order */
	uint64_t err4xx, err5xx;
	/* aborted, unfinished, incomplete, end_inferred, pipelined, target_truncated */
	struct run_counts extra;
	bool has_ttfb;
	struct run_latency ttfb;
	bool has_server, has_wait; /* percentiles only, like ttfb */
	struct run_latency server, wait;
	struct hist_sparse *hist; /* latency, ns */
	bool has_db;
	struct run_ep_db db;
	bool has_dep[RUN_DEP_NR];
	struct run_ep_dep dep[RUN_DEP_NR];
};

/*
 * A row of "outbound": calls of a caller to a destination (peer and Host) with a method and
 * route (connect failures: no method, no route, no Host).
 */
struct run_out_call {
	const char *caller, *peer, *host, *method, *route;
	bool local; /* the peer is on the recording host */
	bool tls;   /* HTTPS calls, decoded (--tls): written only when true */
	uint64_t count, answered;
	struct run_counts status; /* "200" -> n, "other" -> n */
	uint64_t err4xx, err5xx;
	struct run_counts failures; /* "refused" -> n, ... every kind, in the schema's order */
	uint64_t retries;
	struct run_counts
		extra; /* unfinished, end_inferred, incomplete, pipelined, target_truncated */
	uint64_t connects;
	struct hist_sparse *hist;    /* answered calls, ns */
	struct hist_sparse *connect; /* connect times, ns; NULL: none */
	struct hist_sparse *failure; /* time to the failure of calls without an answer; NULL */
};

/* A row of "outbound_destinations": the retries of a caller to a peer and Host. */
struct run_out_dest {
	const char *caller, *peer, *host;
	bool local;
	uint64_t attempts, failed, retries, retry_success, retry_exhausted;
	struct hist_sparse *backoff; /* ns; NULL: no retry */
};

struct run_db_path {
	const char *path; /* wire, libpq, usdt */
	uint64_t count;
	struct run_latency lat;
};

struct run_dbq {
	const char *system;
	const char *query_id;
	const char *query;
	const char *raw_sample; /* NULL if absent */
	bool truncated, unknown_statement;
	uint64_t count;
	double rate_per_s;
	uint64_t errors;
	struct run_counts sqlstates;
	bool has_rows; /* "rows" is an integer, not null */
	int64_t rows;
	uint64_t slow;
	double time_share;     /* of all DB time, as the file has it; NaN: computed by the writer */
	const char *client;    /* NULL if absent */
	const char *server;    /* NULL if absent or null */
	const char *main_path; /* NULL if absent */
	struct run_db_path *paths;
	unsigned npaths;
	bool has_first_byte; /* percentiles only: merge cannot add them up */
	struct run_latency first_byte;
	struct hist_sparse *hist; /* main path, ns */
};

struct run_flag {
	const char *kind;
	const char *query_id; /* NULL: not about one query */
	const char *query;
	const char *endpoint;
	const char *evidence;
	uint64_t occurrences;
	double t_s;		 /* first seen, s after the start; NaN if absent */
	const char *at;		 /* the same, ISO 8601; NULL if absent */
	const char *attribution; /* N+1 per endpoint: "exact" or "shared"; NULL if absent */
	double support;		 /* shared N+1: the share of the endpoint's runs; NaN if absent */
	const char *confidence;	 /* shared N+1: "high" or "low"; NULL if absent */
};

struct run_ids {
	const char **v;
	unsigned n;
};

/* One objective's verdict as `record --slo` stored it ("slo" array). NaN: absent or null. */
struct run_slo {
	const char *name;
	const char *objective;
	const char *target;	/* NULL if absent */
	const char *service;	/* per-endpoint rows; NULL if absent */
	const char *source;	/* "http", "db"; NULL if absent */
	const char *per;	/* "all", "endpoint"; NULL if absent */
	const char *kind;	/* NULL if absent */
	const char *errors_are; /* errors objectives; NULL if absent */
	const char *verdict;	/* "pass", "breach", "insufficient_data" */
	const char *unit;	/* of observed and margin: "ms", "ratio", "count"; NULL: unknown */
	bool matched, strict, incomplete_data;
	bool has_min_count;
	uint64_t min_count;
	double threshold_ms, percentile, target_ratio;
	double observed, target_value, margin, budget_consumed, first_breach_s;
	bool has_counts;
	uint64_t good, total; /* total: judged observations (protected ones left out) */
	/* As the file has them: observations, errors, protected (0 if absent). */
	uint64_t n_total, n_errors, n_protected;
	uint64_t breached_intervals;
	uint64_t line, column; /* of the objective in the SLO file */
	bool approximate;      /* counted from histogram buckets */
	bool offline;	       /* judged from the report (whole run), not written: in memory only */
};

/* "slo_summary": the verdicts of a run counted. */
struct run_slo_summary {
	const char *file;
	const char *verdict;
	double warmup_s, dropped_pct;
	uint64_t objectives, pass, breach, insufficient, rows_dropped;
	bool incomplete_data;
};

/* One interval of a timeline series; percentiles NaN when the interval had none. */
struct run_tpoint {
	double t;
	uint64_t count;
	double rate_per_s;
	double p50, p95, p99;
	uint64_t errors, e4xx, e5xx;
	double wait_p95; /* NaN when the report has none */
};

struct run_series {
	const char *service, *method, *route; /* http series */
	const char *query;		      /* db series */
	struct run_tpoint *p;
	unsigned n;
};

struct run_timeline {
	double interval_s;
	uint64_t points_dropped;
	struct run_series *http;
	unsigned nhttp;
	struct run_series *db;
	unsigned ndb;
};

/* One row of the "cache" section: a client's command on a key pattern of one server. */
struct run_cache_row {
	const char *id; /* 16 hex digits: a hash of client, server, command and pattern */
	const char *client;
	const char *server; /* NULL: unknown */
	const char *verb, *pattern;
	const char *raw_key; /* NULL if absent */
	uint64_t count;	     /* answered: the histogram's */
	double rate_per_s;
	uint64_t errors;
	struct run_counts errs; /* by the reply's first word, "other" for the rest */
	uint64_t aborted, pipelined, in_tx, end_inferred;
	uint64_t reads, hits, misses; /* read commands; the keys they asked for */
	uint64_t writes, no_ttl;
	uint64_t whole_reads, whole_reads_big;
	int64_t max_elements; /* -1: null */
	uint64_t bytes_sent, bytes_received, max_value, large_values;
	struct run_ids flags; /* kinds of the section's flags about this row */
	struct hist_sparse *hist;
};

/* Connections of a client to a cache server: the pool. */
struct run_cache_client {
	const char *client;
	const char *server; /* NULL: unknown */
	uint64_t opened, closed, live, peak, commands;
};

struct run_cache_flag {
	const char *kind;
	const char *id; /* the row's; NULL: none */
	const char *verb, *pattern;
	const char *endpoint; /* NULL: not about one */
	const char *evidence;
	uint64_t occurrences;
};

/* One interval of the whole cache; percentiles NaN when it had no command. */
struct run_cache_point {
	double t;
	uint64_t count;
	double rate_per_s;
	double p50, p95, p99;
	uint64_t errors, hits, misses;
};

/* The "cache" section (Redis), present when the cache was followed. */
struct run_cache {
	const char *system; /* "redis" */
	struct run_cache_row *rows;
	unsigned nrows;
	struct run_cache_client *clients;
	unsigned nclients;
	struct run_cache_flag *flags;
	unsigned nflags;
	bool has_timeline;
	double interval_s;
	uint64_t points_dropped;
	struct run_cache_point *points;
	unsigned npoints;
	struct run_counts attribution; /* calls by how they were attributed to requests */
	struct run_counts drops;       /* what the recorder's tables could not keep */
};

/*
 * One thing an exemplar request did ("spans" of an "exemplars" row): a query, a Redis command
 * or an outbound HTTP call, with its start after the request's start and its duration.
 */
enum run_span_kind { RUN_SPAN_QUERY, RUN_SPAN_CACHE, RUN_SPAN_HTTP, RUN_SPAN_NR };

extern const char *const run_span_names[RUN_SPAN_NR]; /* "query", "cache", "http" */

struct run_span {
	int kind; /* enum run_span_kind */
	double start_ms, duration_ms;
	const char *attribution; /* "exact", "thread", "handoff", "shared" */
	const char *query_id;	 /* query: the id of its db row */
	const char *cache_id;	 /* cache: the id of its cache row; NULL: a row not kept */
	const char *verb, *key;	 /* cache: command and key pattern; NULL: unknown */
	int hit;		 /* cache: 1 hit, 0 miss, -1 not a read (null) */
	const char *destination, *method, *route; /* http */
	unsigned status;			  /* http: 0 no response (null) */
	bool error;
};

/* One request of an endpoint kept whole ("exemplars"): the slowest few and typical ones. */
struct run_exemplar {
	const char *service, *method, *route;
	int ep;		  /* its endpoint's index in eps; -1: none */
	const char *pick; /* "slowest", "p50", "p95" */
	double t_s;	  /* its start, s after the run's */
	double latency_ms;
	unsigned status;
	uint64_t pid, tid;
	const char *attribution; /* the weakest of its queries */
	uint64_t spans_cut;	 /* spans not kept (bounds), counted */
	struct run_span *spans;
	unsigned nspans;
};

/* An input of a merged report ("merged_from"). */
struct run_source {
	const char *path;
	const char *hostname;
	const char *start;
	double duration_s;
};

struct run_arena;
/*
 * The "tcp" section: what the kernel knows about saturation (docs/saturation.md). Counts in
 * the order of enum run_tcp_kind; listeners per port, peers per service port and address.
 */
enum run_tcp_kind {
	RUN_TCP_RETRANS = 0,
	RUN_TCP_SYN_RETRANS,
	RUN_TCP_RST_SENT,
	RUN_TCP_RST_RECV,
	RUN_TCP_KIND_NR,
};

extern const char *const run_tcp_names[RUN_TCP_KIND_NR]; /* "retransmits"... */

struct run_tcp_listener {
	uint16_t port;
	uint64_t sockets;
	uint64_t drops;		   /* SYNs and handshake ACKs dropped: the accept queue was full */
	uint64_t accept_queue_max; /* the longest accept queue seen at a read */
	uint64_t backlog;	   /* listen()'s bound */
};

struct run_tcp_peer {
	bool server; /* the port listens on this host */
	uint16_t port;
	const char *peer;
	uint64_t n[RUN_TCP_KIND_NR];
};

struct run_tcp_point {
	double t;
	uint64_t drops, n[RUN_TCP_KIND_NR];
};

struct run_tcp {
	struct run_tcp_listener *listeners;
	unsigned nlisteners;
	struct run_tcp_peer *peers;
	unsigned npeers;
	struct run_tcp_point *points;
	unsigned npoints;
	bool has_host;
	uint64_t host_overflows, host_drops; /* /proc/net/netstat TcpExt deltas over the run */
	uint64_t peers_lost, listeners_lost, reads_failed;
};

struct json_object;

/* One status of record --command-exit: STATUS=AS, as: "ok", "breach" or "load-failed". */
struct run_exit_map {
	int64_t status;
	const char *as;
};

struct run {
	struct run_arena *arena;
	const char *path; /* as given to run__load, for messages */
	const char *tool_version;
	const char *hostname;
	const char *kernel;
	/* hooks of newer kernels this one lacks (docs/kernels.md); absent when none */
	struct run_ids kernel_lacks;
	const char *start, *end;  /* ISO 8601 as in the file */
	int64_t start_ms, end_ms; /* the same, ms since the epoch (UTC) */
	double duration_s;
	bool has_command;
	const char **argv;
	unsigned argc;
	int64_t exit_status;
	/*
	 * record --command-exit as applied: the statuses mapped, in the order given, and what
	 * exit_status was mapped to (NULL: not mapped). has_exit_map: the report says (reports
	 * before it did not).
	 */
	bool has_exit_map;
	struct run_exit_map *exit_map;
	unsigned nexit_map;
	const char *exit_mapped;
	bool has_filters;
	uint64_t *filter_pids, *filter_ports;
	unsigned nfilter_pids, nfilter_ports;
	const char *filter_comm, *filter_cgroup; /* NULL: null */
	struct json_object *definitions;	 /* passed through as is; NULL if absent */
	uint64_t events_total, events_dropped;
	struct run_counts events; /* every key of "events" but total and dropped */
	struct run_counts connections;
	struct run_counts http_parser;
	bool has_bpf, bpf_stats, has_bpf_run, has_bpf_db_run, has_bpf_ho_run;
	uint64_t bpf_run_ns, bpf_run_cnt;
	uint64_t bpf_db_run_ns, bpf_db_run_cnt; /* the database probes' programs */
	uint64_t bpf_ho_run_ns, bpf_ho_run_cnt; /* the hand-off probe's programs */
	struct run_endpoint *eps;
	unsigned neps;
	bool has_db; /* the report has a "db" array: database tracing was on */
	struct run_dbq *dbqs;
	unsigned ndbqs;
	struct run_ids hot_total, hot_p95, hot_count;
	struct run_flag *flags;
	unsigned nflags;
	bool has_db_stats;
	const char *db_probes;
	struct run_counts db_stats; /* every counter of db_stats */
	bool has_outbound; /* the report has an "outbound" array: outbound HTTP was followed */
	struct run_out_call *outs;
	unsigned nouts;
	struct run_out_dest *out_dests;
	unsigned nout_dests;
	bool has_outbound_stats;
	struct run_counts outbound_stats; /* every counter of outbound_stats */
	bool has_slo;
	struct run_slo *slo;
	unsigned nslo;
	bool has_slo_summary;
	struct run_slo_summary slo_summary;
	double max_drop_pct; /* record's --max-drop-pct (slo_summary); NaN: not in the file */
	bool has_timeline;
	struct run_timeline timeline;
	bool has_cache; /* the report has a "cache" section: the cache was followed */
	struct run_cache cache;
	bool has_tcp; /* the report has a "tcp" section */
	struct run_tcp tcp;
	bool has_exemplars; /* the report has "exemplars": requests were kept whole */
	struct run_exemplar *exemplars;
	unsigned nexemplars;
	struct run_counts exemplar_stats; /* what the exemplar store could not keep */
	struct run_source *sources;	  /* set by merge__runs, not read from files */
	unsigned nsources;
};

/*
 * Parse a report from a buffer. 0 on success; -EINVAL with a one-line message in err (no
 * file name, no newline) when the input is malformed, inconsistent, or of another schema or
 * layout; -ENOMEM.
 */
int run__parse(struct run *r, const char *buf, size_t len, const char *path, char *err,
	       size_t errsz);
/* run__parse of a file; -errno with strerror in err when it cannot be read. */
int run__load(struct run *r, const char *path, char *err, size_t errsz);
/* An empty run whose arena is ready, for building merged reports. 0 or -ENOMEM. */
int run__init(struct run *r);
void run__free(struct run *r);

/* Zeroed memory / a copy of s (NULL stays NULL) owned by the run; NULL on ENOMEM. */
void *run__alloc(struct run *r, size_t size);
/* The mapping as given to --command-exit: "99=load-failed,3=breach"; "" when empty. */
const char *run__exit_map_str(const struct run *r, char *buf, size_t sz);
const char *run__strdup(struct run *r, const char *s);

/* Counter of a run_counts by key; 0 when absent. */
uint64_t run__count(const struct run_counts *c, const char *key);
/* Requests answered with one status code. */
uint64_t run__status(const struct run_endpoint *e, unsigned code);
/* The endpoint named service, method, route: its index in eps, -1: none. */
int run__find_endpoint(const struct run *r, const char *service, const char *method,
		       const char *route);
/* Requests of all endpoints. */
uint64_t run__requests(const struct run *r);
/* "GET /items/{id}" into buf. */
const char *run__endpoint_name(const struct run_endpoint *e, char *buf, size_t sz);
const struct run_dbq *run__find_query(const struct run *r, const char *query_id);
/* Keys answered / keys read of the cache rows (-1: no key read), and the totals in *hits, *keys. */
double run__cache_hit_ratio(const struct run *r, uint64_t *hits, uint64_t *keys);

/* Percentiles of a histogram in ms, as the report writes them. */
void run__latency(const struct hist_sparse *h, struct run_latency *l);
void run__latency_dense(const struct hist *h, struct run_latency *l);
/* A copy of h with its non-empty buckets only, owned by the run; NULL on ENOMEM. */
struct hist_sparse *run__hist(struct run *r, const struct hist *h);
/* "2026-11-24T10:00:00.123Z" <-> ms since the epoch; parse returns -EINVAL when malformed. */
int run__parse_time(const char *s, int64_t *ms);
void run__format_time(int64_t ms, char *buf, size_t sz);

/*
 * Write a run as a report of schema RUNFILE_SCHEMA: the one writer of the schema, for record,
 * merge and the analyzer. Percentiles with a histogram are computed from it; the sections a run
 * has (has_*) are written, so a report loaded and written again is the same file, byte for byte
 * (tests/integration/test_roundtrip.py). 0, or a negative errno.
 */
int run__write(FILE *f, const struct run *r);
struct json;
/* "command": its argv and exit status (and "failed" with failed), or null: for other writers. */
void run__write_command(struct json *j, const struct run *r, bool failed);

/*
 * Lost more events than the limit the run was recorded with (--max-drop-pct; older reports: the
 * default): its SLO verdicts are judged on incomplete data.
 */
bool run__incomplete(const struct run *r);

#endif
