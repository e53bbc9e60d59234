/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Turns the socket events of bpf/sockio.bpf.c into finished HTTP requests in struct agg:
 * one HTTP/1 engine per inbound connection, services named after the process or container
 * that owns the listening port, routes from --route patterns or normalized targets.
 */
#ifndef SLOPROBE_TRACKER_H
#define SLOPROBE_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record/agg.h"
#include "proto/http.h"
#include "proto/pgwire.h"
#include "proto/route.h"

struct sockio;
struct dbtrack;
struct slotrack;

struct tracker_opts {
	const struct route_set *routes; /* --route patterns, may be NULL */
	unsigned route_distinct;	/* values per path position before it collapses */
	uint64_t quiet_ns;		/* ends responses of unknown length after this much quiet */
	unsigned max_conns;		/* connections held in userspace */
	const char *procroot;		/* "/proc" when NULL */
	struct dbtrack *db;		/* PostgreSQL from the client wire protocol; NULL: off */
	struct slotrack *slo;		/* SLOs judged while recording; NULL: none */
	bool from_read; /* latency from the server's first read, not the request's arrival */
};

struct tracker_stats {
	uint64_t events;
	uint64_t bad_events; /* shorter than their type says: a bug, never expected */
	uint64_t opens, closes, exits, data;
	uint64_t orphan_data;	/* data on a connection whose open event was lost */
	uint64_t client_events; /* outbound traffic of protocols we do not decode */
	uint64_t pg_conns;	/* outbound PostgreSQL connections */
	uint64_t pg_not;	/* looked like PostgreSQL to the kernel, not to the parser */
	uint64_t pg_tls;	/* PostgreSQL connections that switched to TLS */
	uint64_t conns_live, conns_peak;
	uint64_t conns_evicted;	   /* forgotten because the table was full */
	uint64_t non_http;	   /* inbound connections of another protocol */
	uint64_t tls, http2;	   /* inbound connections we cannot decode */
	uint64_t bad_target;	   /* request targets that are not a path */
	uint64_t routes_collapsed; /* path positions turned into {*} */
	uint64_t unfinished;	   /* requests still unanswered when tracing ended */
	uint64_t endpoints_full;   /* requests lost because the endpoint table was full */
	uint64_t no_request;	   /* responses whose request was not seen */
	struct pgwire_stats pg;	   /* the PostgreSQL wire parser, all connections */
};

struct tracker;

int tracker__new(struct tracker **out, const struct tracker_opts *o, struct agg *agg);
void tracker__free(struct tracker *t);
/* Lets the tracker drop kernel state of processes that exit with sockets open. */
void tracker__set_sockio(struct tracker *t, struct sockio *s);
/* sockio_event_fn: ctx is the tracker. */
int tracker__event(void *ctx, void *data, size_t size);
/* Once per tick: ends quiet responses of unknown length. now: CLOCK_MONOTONIC ns. */
void tracker__tick(struct tracker *t, uint64_t now);
/* End of tracing: whatever is still pending is counted as unfinished. */
void tracker__flush(struct tracker *t, uint64_t now);
void tracker__stats(const struct tracker *t, struct tracker_stats *out);
const struct http_stats *tracker__http_stats(const struct tracker *t);

/* Service name of a process serving on lport: "<container id[:12]>:<port>" or "<comm>:<port>". */
void tracker__service_name(const char *comm, const char *container, uint16_t lport, char *out,
			   size_t outsz);

#endif
