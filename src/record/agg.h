/* SPDX-License-Identifier: GPL-2.0-only */
/* Per-service and per-endpoint aggregation of finished HTTP requests. */
#ifndef SLOPROBE_AGG_H
#define SLOPROBE_AGG_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/hist.h"
#include "run/slo.h"
#include "record/timeline.h"

#define AGG_SERVICE_MAX	      64
#define AGG_METHOD_MAX	      16
#define AGG_ROUTE_MAX	      128
#define AGG_STATUS_SLOTS      16 /* distinct status codes kept per endpoint */
#define AGG_PIDS_MAX	      64 /* pids listed per service */
#define AGG_ENDPOINTS_DEFAULT 2000

struct exemplar_ep;

struct agg_service {
	char name[AGG_SERVICE_MAX]; /* "uvicorn:8000", "<compose service|container name|id12>:8000" */
	char comm[16];
	char container[72]; /* full id, "" outside containers */
	char runtime[16];
	/* From the engine (host/ctrnames.h), "" unknown: */
	char ctr_name[128];
	char image[256];
	char compose_project[128];
	char compose_service[128];
	char cgroup[256];
	uint16_t port;
	bool tls; /* its requests were read from OpenSSL's calls (TLS decoded) */
	uint32_t pids[AGG_PIDS_MAX];
	unsigned npids;
	uint64_t pids_dropped; /* more pids than AGG_PIDS_MAX */
};

struct agg_status {
	uint16_t code;
	uint64_t count;
};

#define AGG_DB_TOP 8 /* fingerprints kept per endpoint */

/* A fingerprint's share of an endpoint's (or a request's) queries. */
struct agg_db_fp {
	uint64_t query_id;
	double n;
	double ns;
};

/* The services a request calls besides its database, attributed like DB queries. */
enum agg_dep_kind {
	AGG_DEP_CACHE = 0, /* Redis commands */
	AGG_DEP_HTTP = 1,  /* outbound HTTP calls */
	AGG_DEP_NR,
};

/* One kind of dependency call, summed over the requests of an endpoint (or one request). */
struct agg_dep {
	uint64_t reqs;	   /* requests counted while the kind was followed */
	uint64_t with;	   /* ... that made at least one such call */
	double calls, ns;  /* calls and their time (shared calls count a share) */
	double max_calls;  /* most calls in one request */
	double errors;	   /* error replies / failed calls */
	double hits, misses; /* cache reads: keys answered / nil or empty */
	uint64_t repeat;   /* requests that read one cache key more than once */
};

struct agg_endpoint {
	unsigned service;
	char method[AGG_METHOD_MAX];
	char route[AGG_ROUTE_MAX];
	uint64_t count; /* answered requests */
	uint64_t err4xx, err5xx;
	uint64_t aborted;     /* closed before a response */
	uint64_t unfinished;  /* still unanswered when tracing ended */
	uint64_t incomplete;  /* closed mid-response */
	uint64_t len_unknown; /* end inferred, not framed */
	uint64_t pipelined;
	uint64_t target_cut;
	struct agg_status status[AGG_STATUS_SLOTS];
	uint64_t status_other; /* codes beyond AGG_STATUS_SLOTS distinct ones */
	struct hist lat;       /* whole run */
	struct hist ttfb;
	struct hist server;   /* first read -> end: the server's own time */
	struct hist wait;     /* arrival -> first read, for requests whose arrival is known */
	struct hist win;      /* current interval */
	struct hist win_wait; /* ... its waits (requests whose arrival was seen) */
	uint64_t win_count;
	uint64_t win_4xx, win_5xx;
	uint64_t last_count; /* count at the previous interval, for rates */
	double rate;	     /* requests/s over the last interval */
	uint64_t first_ns, last_ns;
	/* Database work of its requests (src/dbtrack.h): sums over db_reqs requests. */
	uint64_t db_reqs;
	double db_queries, db_ns, db_max_queries;
	uint64_t db_conf[4]; /* requests by weakest attribution: exact, thread, shared, handoff */
	struct agg_db_fp db_top[AGG_DB_TOP];
	unsigned db_ntop;
	double db_top_other; /* queries of fingerprints beyond AGG_DB_TOP */
	struct agg_dep dep[AGG_DEP_NR];
	struct timeline tl;  /* one point per interval since it was first seen */
	struct exemplar_ep *ex; /* its requests kept whole (record/exemplar.h); NULL: none */
	struct slo_link slo;
};

struct agg {
	struct agg_service *services;
	unsigned nservices, cap_services;
	struct agg_endpoint **eps; /* insertion order */
	unsigned neps, cap_eps, max_eps;
	uint64_t eps_dropped; /* requests of endpoints beyond max_eps */
	unsigned *slots;      /* open-addressing index into eps */
	unsigned nslots;
	uint64_t requests;
	uint64_t no_request; /* responses whose request was not seen */
	struct timeline_budget tl_budget;
};

int agg__init(struct agg *a, unsigned max_endpoints);
void agg__free(struct agg *a);

/* Finds or adds a service by name; returns its index or a negative errno. */
int agg__service(struct agg *a, const char *name);
void agg__service_add_pid(struct agg *a, unsigned svc, uint32_t pid);

struct agg_req {
	unsigned service;
	const char *method;
	const char *route;
	unsigned status;    /* 0: no response */
	uint64_t t_start;   /* the request's arrival, else its first read */
	uint64_t t_read;    /* the read that returned its first byte */
	uint64_t t_arrival; /* that byte reached the socket; 0: unknown */
	uint64_t t_first, t_end;
	bool aborted, unfinished, incomplete, len_unknown, pipelined, target_cut;
};

/* Returns the endpoint the request was counted in, or NULL if the table is full. */
struct agg_endpoint *agg__add(struct agg *a, const struct agg_req *r);

/* DB work of one answered request of ep; conf: its weakest attribution (0..2). */
void agg__add_db(struct agg_endpoint *ep, double queries, double db_ns, int conf,
		 const struct agg_db_fp *top, unsigned ntop);

/* Dependency calls of one answered request of ep (d->reqs is ignored: one request). */
void agg__add_dep(struct agg_endpoint *ep, enum agg_dep_kind kind, const struct agg_dep *d);

/*
 * Close the current interval, which ended t_s seconds after the start: compute rates, add
 * each endpoint's point to its timeline, clear the window histograms.
 */
void agg__roll(struct agg *a, double t_s, double interval_s);

/* Endpoints sorted by count, descending (ties: service, method, route). Caller frees. */
struct agg_endpoint **agg__sorted(const struct agg *a);

#endif
