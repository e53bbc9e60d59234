/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The connection table: follows the connections of bpf/sockio.bpf.c's events and hands their
 * bytes to the protocol parsers (an HTTP/1 engine per inbound connection, the PostgreSQL wire
 * parser per outbound one), whose records go to the session's sink (record/sink.h).
 */
#ifndef SLOPROBE_TRACKER_H
#define SLOPROBE_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/http.h"
#include "proto/pgwire.h"

#include "record/httpclient.h"
#include "record/respconn.h"

struct sockio;
struct sink;

/* The client engines (record/tracker.c's table). */
enum tracker_engine {
	TRACKER_PG = 0,
	TRACKER_REDIS,
	TRACKER_HTTP,
	TRACKER_ENGINES,
};

struct tracker_client_stats {
	uint64_t conns; /* outbound connections of the protocol */
	uint64_t not ;	/* looked like it to the kernel, not to the engine */
	uint64_t tls;	/* switched to TLS */
	uint64_t local; /* left alone: a process serving nothing calling a port listening here */
};

struct tracker_opts {
	uint64_t quiet_ns;  /* ends responses of unknown length after this much quiet */
	unsigned max_conns; /* connections held in userspace */
	bool tls;	    /* OpenSSL's calls are traced: a TLS client waits for its plaintext */
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
	uint64_t conns_evicted;		  /* forgotten because the table was full */
	uint64_t non_http;		  /* inbound connections of another protocol */
	uint64_t tls, http2;		  /* inbound connections we cannot decode */
	uint64_t tls_in, tls_out;	  /* TLS connections decoded through OpenSSL's calls */
	uint64_t tls_out_handshakes;	  /* outbound connections that began a TLS handshake */
	struct pgwire_stats pg;		  /* the PostgreSQL wire parser, all connections */
	struct respconn_stats redis;	  /* the Redis engine, all connections */
	struct httpclient_stats http_out; /* the HTTP client engine, all connections */
	struct tracker_client_stats client[TRACKER_ENGINES];
	/* Outbound TCP, whatever the protocol (include/abi/sockio.h: SOCKIO_EV_CLIENT). */
	uint64_t connects;	 /* connect() results seen */
	uint64_t connect_failed; /* ... that failed, or were given up on */
	uint64_t resets, fins;	 /* RST, FIN received on outbound connections */
	uint64_t client_orphans; /* about a connection we do not hold */
};

struct tracker;

/* NULL: out of memory. PostgreSQL connections are decoded when the sink follows them
 * (sink__db_on). */
struct tracker *tracker__new(const struct tracker_opts *o, struct sink *sink);
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

#endif
