/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where a recording's records go. The protocol engines - the connection table's HTTP and
 * PostgreSQL wire parsers, the libpq and USDT probes - describe what they saw in the neutral
 * records of their parsers (struct http_rec, struct db_exec) and hand them here, with what the
 * connection knows. The sink names them (the service from host facts, the route from --route
 * patterns or the normalized target) and fans each out to the session's consumers, in one
 * place: aggregation (agg, dbagg), SLO tracking (slotrack) and DB attribution (dbtrack).
 * A new protocol adds its record type and one sink__ function here; nothing else changes.
 */
#ifndef SLOPROBE_SINK_H
#define SLOPROBE_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/cache.h"
#include "proto/db.h"
#include "proto/http.h"
#include "proto/httpcall.h"
#include "proto/route.h"

struct agg;
struct cacheagg;
struct dbconn;
struct dbreq;
struct dbtrack;
struct outagg;
struct slotrack;
struct sink_pcache;
struct ctrnames;

struct sink_opts {
	const struct route_set *routes; /* --route patterns, may be NULL */
	unsigned route_distinct;	/* values per path position before it collapses */
	const char *procroot;		/* "/proc" when NULL */
	bool from_read; /* latency from the server's first read, not the request's arrival */
	bool db_wire;	/* PostgreSQL's wire protocol is one of the --db-probe paths */
	struct ctrnames *names; /* container names from the engine; NULL: ids only */
};

struct sink_stats {
	uint64_t endpoints_full;       /* requests lost because the endpoint table was full */
	uint64_t bad_target;	       /* request targets that are not a path */
	uint64_t routes_collapsed;     /* path positions turned into {*} */
	uint64_t unfinished;	       /* requests still unanswered when tracing ended */
	uint64_t no_request;	       /* responses whose request was not seen */
	uint64_t out_bad_target;       /* outbound request targets that are not a path */
	uint64_t out_routes_collapsed; /* outbound path positions turned into {*} */
};

struct sink {
	struct sink_opts o;
	struct agg *agg;
	struct dbtrack *db;	/* DB aggregation and attribution; NULL: DB off */
	struct slotrack *slo;	/* SLOs judged while recording; NULL: none */
	struct cacheagg *cache; /* Redis commands; NULL: not followed */
	struct outagg *out;	/* outbound HTTP calls; NULL: not followed */
	bool out_all; /* ... also those of processes that serve nothing to local listeners */
	uint64_t out_tickets; /* the last outbound call's ticket (record/dbtrack.h) */
	struct route_limiter *limiter;
	struct route_limiter *out_limiter; /* outbound routes, limited apart from inbound ones */
	struct sink_pcache *pcache;	   /* per-process facts, by tgid */
	struct sink_stats st;
};

int sink__init(struct sink *s, const struct sink_opts *o, struct agg *agg, struct dbtrack *db,
	       struct slotrack *slo);
void sink__free(struct sink *s);

/* The service of a server process's listening port (an index in agg, < 0: table full). */
int sink__service(struct sink *s, uint32_t tgid, uint16_t lport, const char *comm);
/* The service's connections are TLS, decoded (its rows say "tls": true). */
void sink__service_tls(struct sink *s, int service);
/* The name of a client process ("<comm>" or its container's name or id), for DB rows. */
void sink__client_name(struct sink *s, uint32_t tgid, const char *comm, char *out, size_t outsz);
/* The process exited: its pid may come back as another. */
void sink__proc_gone(struct sink *s, uint32_t tgid);

/*
 * A finished HTTP exchange of a server connection: service from sink__service, req its
 * request's DB state (see dbtrack.h), finalizing: tracing is ending (an exchange cut now is
 * unfinished, not aborted).
 */
void sink__http(struct sink *s, int service, struct dbreq *req, const struct http_rec *rec,
		bool finalizing);
/* The request of req was read from (its first byte) / answered (its response began). */
void sink__req_start(struct sink *s, struct dbreq *req, uint32_t tgid, uint32_t tid, uint64_t ts);
void sink__req_responding(struct sink *s, struct dbreq *req, uint64_t ts);
/* Its connection goes away. */
void sink__req_drop(struct sink *s, struct dbreq *req);

/* PostgreSQL: whether it is followed at all. */
bool sink__db_on(const struct sink *s);
/* ... and on the wire (client connections are followed for Redis or HTTP too). */
bool sink__db_wire_on(const struct sink *s);
/* A DB execution (conn: the wire path's connection state, else NULL and the names given). */
void sink__db(struct sink *s, struct dbconn *conn, const struct db_exec *x, const char *client,
	      const char *server);
void sink__db_open(struct sink *s, struct dbconn *conn, uint32_t tgid, uint64_t conn_id,
		   const char *client, const char *server, uint64_t ts);
void sink__db_close(struct sink *s, struct dbconn *conn, uint64_t ts);

/* Redis: whether it is followed at all (sink__follow_cache). */
void sink__follow_cache(struct sink *s, struct cacheagg *cache);
bool sink__cache_on(const struct sink *s);
/* An answered (or aborted) cache command of a client connection to server. */
void sink__cache(struct sink *s, const struct cache_op *op, const char *client, const char *server);
void sink__cache_open(struct sink *s, const char *client, const char *server, uint64_t ts);
void sink__cache_close(struct sink *s, const char *client, const char *server, uint64_t ts);

/*
 * Outbound HTTP: whether it is followed at all (sink__follow_outbound; -ENOMEM), and whether
 * the calls of processes that serve nothing to ports listening on this host are (all).
 */
int sink__follow_outbound(struct sink *s, struct outagg *out, bool all);
bool sink__http_out_on(const struct sink *s);
bool sink__http_out_all(const struct sink *s);
/* A finished outbound call (or a failed connect): its route named, then counted, attributed. */
void sink__http_call(struct sink *s, const struct http_call *c);

void sink__stats(const struct sink *s, struct sink_stats *out);

/*
 * Service name of a process serving on lport: "<who>:<port>" or "<comm>:<port>". who is a
 * container's Compose service or name (host/ctrnames.h), else its id, cut to 12 characters.
 */
void sink__service_name(const char *comm, const char *container, uint16_t lport, char *out,
			size_t outsz);

#endif
