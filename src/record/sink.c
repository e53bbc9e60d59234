// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/ctrnames.h"
#include "host/procinfo.h"
#include "record/agg.h"
#include "record/dbagg.h"
#include "record/cacheagg.h"
#include "record/dbtrack.h"
#include "record/outagg.h"
#include "record/sink.h"
#include "record/slotrack.h"

#define PROC_CACHE_SLOTS 1024 /* per-process facts, looked up on every new connection */

struct sink_pcache {
	uint32_t tgid; /* 0: empty */
	struct procinfo pi;
};

int sink__init(struct sink *s, const struct sink_opts *o, struct agg *agg, struct dbtrack *db,
	       struct slotrack *slo)
{
	memset(s, 0, sizeof(*s));
	s->o = *o;
	s->agg = agg;
	s->db = db;
	s->slo = slo;
	s->pcache = calloc(PROC_CACHE_SLOTS, sizeof(*s->pcache));
	s->limiter = route_limiter__new(o->route_distinct, 0);
	if (!s->pcache || !s->limiter) {
		sink__free(s);
		return -ENOMEM;
	}
	return 0;
}

void sink__free(struct sink *s)
{
	free(s->pcache);
	route_limiter__free(s->limiter);
	route_limiter__free(s->out_limiter);
	s->pcache = NULL;
	s->limiter = NULL;
	s->out_limiter = NULL;
}

static const struct procinfo *proc_get(struct sink *s, uint32_t tgid, const char *comm)
{
	struct sink_pcache *p = &s->pcache[tgid % PROC_CACHE_SLOTS];

	if (p->tgid != tgid) {
		memset(p, 0, sizeof(*p));
		p->tgid = tgid;
		if (procinfo__read(s->o.procroot, tgid, &p->pi)) {
			/* Gone already: what the kernel told us is all there is. */
			p->pi.pid = tgid;
			snprintf(p->pi.comm, sizeof(p->pi.comm), "%s", comm ? comm : "?");
		}
	}
	return &p->pi;
}

void sink__proc_gone(struct sink *s, uint32_t tgid)
{
	struct sink_pcache *p = &s->pcache[tgid % PROC_CACHE_SLOTS];

	if (p->tgid == tgid)
		p->tgid = 0;
}

void sink__service_name(const char *comm, const char *container, uint16_t lport, char *out,
			size_t outsz)
{
	const char *who = container && container[0] ? container : comm;
	/* An id is cut as docker ps cuts it; a name is kept whole. */
	int len = container && container[0] ? (strlen(container) == 64 ? 12 : 63) : 15;

	if (lport)
		snprintf(out, outsz, "%.*s:%u", len, who, lport);
	else
		snprintf(out, outsz, "%.*s", len, who);
}

/* What the engine says of the process's container (NULL: none, or unknown to it). */
static const struct ctrinfo *ctr_of(struct sink *s, const struct procinfo *pi)
{
	return pi->container[0] && s->o.names ? ctrnames__lookup(s->o.names, pi->container) : NULL;
}

/* The Compose service, else the container's name, else its id ("" outside containers). */
static const char *ctr_who(const struct procinfo *pi, const struct ctrinfo *ci)
{
	if (ci)
		return ci->compose_service[0] ? ci->compose_service : ci->name;
	return pi->container;
}

int sink__service(struct sink *s, uint32_t tgid, uint16_t lport, const char *comm)
{
	const struct procinfo *pi = proc_get(s, tgid, comm);
	const struct ctrinfo *ci = ctr_of(s, pi);
	struct agg_service *sv;
	char name[AGG_SERVICE_MAX];
	int svc;

	sink__service_name(pi->comm, ctr_who(pi, ci), lport, name, sizeof(name));
	svc = agg__service(s->agg, name);
	if (svc < 0)
		return svc;
	sv = &s->agg->services[svc];
	if (!sv->comm[0]) {
		snprintf(sv->comm, sizeof(sv->comm), "%s", pi->comm);
		snprintf(sv->container, sizeof(sv->container), "%s", pi->container);
		snprintf(sv->runtime, sizeof(sv->runtime), "%s", pi->runtime);
		snprintf(sv->cgroup, sizeof(sv->cgroup), "%s", pi->cgroup);
		if (ci) {
			snprintf(sv->ctr_name, sizeof(sv->ctr_name), "%s", ci->name);
			snprintf(sv->image, sizeof(sv->image), "%s", ci->image);
			snprintf(sv->compose_project, sizeof(sv->compose_project), "%s",
				 ci->compose_project);
			snprintf(sv->compose_service, sizeof(sv->compose_service), "%s",
				 ci->compose_service);
		}
		sv->port = lport;
	}
	agg__service_add_pid(s->agg, svc, tgid);
	return svc;
}

void sink__service_tls(struct sink *s, int service)
{
	if (service >= 0)
		s->agg->services[service].tls = true;
}

void sink__client_name(struct sink *s, uint32_t tgid, const char *comm, char *out, size_t outsz)
{
	const struct procinfo *pi = proc_get(s, tgid, comm);

	sink__service_name(pi->comm, ctr_who(pi, ctr_of(s, pi)), 0, out, outsz);
}

/* The endpoint's route: a --route pattern, else the normalized target, limited per position. */
static void route_of(struct sink *s, int service, const struct http_rec *rec, char *route,
		     size_t routesz)
{
	size_t tlen = strnlen(rec->target, sizeof(rec->target));
	char scope[AGG_METHOD_MAX + 16];
	const char *pat = NULL;

	if (s->o.routes)
		pat = route_set__match(s->o.routes, rec->target, tlen);
	if (pat) {
		snprintf(route, routesz, "%s", pat);
	} else if (route__normalize(rec->target, tlen, route, routesz) < 0) {
		s->st.bad_target++;
		snprintf(route, routesz, "{invalid}");
	} else {
		snprintf(scope, sizeof(scope), "%d\t%s", service, rec->method);
		route_limiter__apply(s->limiter, scope, route, routesz);
	}
}

void sink__http(struct sink *s, int service, struct dbreq *req, const struct http_rec *rec,
		bool finalizing)
{
	char route[ROUTE_MAX_LEN];
	struct agg_req r = {
		.service = service,
		.method = rec->method,
		.route = route,
		.status = rec->status,
		.t_start = s->o.from_read || !rec->t_arrival ? rec->t_start : rec->t_arrival,
		.t_read = rec->t_start,
		.t_arrival = rec->t_arrival,
		.t_first = rec->t_first,
		.t_end = rec->t_end,
		.incomplete = rec->flags & HTTP_REC_INCOMPLETE,
		.len_unknown = rec->flags & HTTP_REC_LEN_UNKNOWN,
		.pipelined = rec->flags & HTTP_REC_PIPELINED,
		.target_cut = rec->flags & HTTP_REC_TARGET_CUT,
	};
	struct agg_endpoint *ep;

	if (rec->flags & HTTP_REC_NO_REQUEST) {
		s->st.no_request++;
		return;
	}
	if (service < 0) {
		s->st.endpoints_full++;
		if (s->db && req)
			dbtrack__req_end(s->db, req, NULL, 0, rec->t_end);
		return;
	}
	if (rec->flags & HTTP_REC_ABORTED) {
		if (finalizing) {
			r.unfinished = true;
			s->st.unfinished++;
		} else {
			r.aborted = true;
		}
	}
	route_of(s, service, rec, route, sizeof(route));
	ep = agg__add(s->agg, &r);
	if (!ep)
		s->st.endpoints_full++;
	else if (s->slo && rec->status && !r.aborted && rec->t_end >= r.t_start)
		slotrack__http(s->slo, s->agg, ep, rec->t_end - r.t_start, rec->status, rec->t_end);
	if (!s->db || !req)
		return;
	if (ep && rec->status && req->open && !r.aborted && rec->t_end >= r.t_start)
		dbtrack__req_answer(req, r.t_start, rec->t_end, rec->status);
	if (ep && rec->status && req->open)
		dbtrack__req_end(s->db, req, ep, rec->t_end - rec->t_start, rec->t_end);
	else
		dbtrack__req_end(s->db, req, NULL, 0, rec->t_end);
}

void sink__req_start(struct sink *s, struct dbreq *req, uint32_t tgid, uint32_t tid, uint64_t ts)
{
	if (s->db)
		dbtrack__req_start(s->db, req, tgid, tid, ts);
}

void sink__req_responding(struct sink *s, struct dbreq *req, uint64_t ts)
{
	if (s->db)
		dbtrack__req_responding(s->db, req, ts);
}

void sink__req_drop(struct sink *s, struct dbreq *req)
{
	if (s->db)
		dbtrack__req_drop(s->db, req);
}

bool sink__db_on(const struct sink *s)
{
	return s->db && !s->db->db_off;
}

bool sink__db_wire_on(const struct sink *s)
{
	return sink__db_on(s) && s->o.db_wire;
}

void sink__db(struct sink *s, struct dbconn *conn, const struct db_exec *x, const char *client,
	      const char *server)
{
	struct dbagg_fp *f;
	uint64_t raw;

	if (!sink__db_on(s))
		return;
	if (conn) {
		client = conn->client;
		server = conn->server;
	}
	f = dbagg__add(s->db->db, x, client, server, &raw);
	if (!f || x->path != dbagg__main_path(f))
		return; /* the same execution, seen again by a second path */
	if (s->slo && !(x->flags & DB_EXEC_ABORTED))
		slotrack__db(s->slo, f, client, db_exec__latency(x), x->flags & DB_EXEC_ERROR,
			     x->ts_end);
	if (x->path == DB_PATH_USDT)
		return; /* the server's side of a query serves no request of ours */
	dbtrack__exec(s->db, conn, x, f, raw, client);
}

void sink__db_open(struct sink *s, struct dbconn *conn, uint32_t tgid, uint64_t conn_id,
		   const char *client, const char *server, uint64_t ts)
{
	if (sink__db_on(s))
		dbtrack__conn_open(s->db, conn, tgid, conn_id, client, server, ts);
}

void sink__db_close(struct sink *s, struct dbconn *conn, uint64_t ts)
{
	if (sink__db_on(s))
		dbtrack__conn_close(s->db, conn, ts);
}

void sink__follow_cache(struct sink *s, struct cacheagg *cache)
{
	s->cache = cache;
	if (s->db)
		dbtrack__follow(s->db, AGG_DEP_CACHE, cache);
}

bool sink__cache_on(const struct sink *s)
{
	return s->cache != NULL;
}

void sink__cache(struct sink *s, const struct cache_op *op, const char *client, const char *server)
{
	struct cacheagg_row *row;
	struct dbtrack_call call = {
		.tgid = op->tgid,
		.tid = op->tid,
		.ts_start = op->ts_start,
		.ts_end = op->ts_end,
		.error = op->flags & CACHE_OP_ERROR,
		.hits = op->hits,
		.misses = op->misses,
	};

	if (!s->cache)
		return;
	row = cacheagg__add(s->cache, op, client, server);
	/* Counted, then judged: a row the table could not keep is judged by nothing (counted). */
	if (s->slo)
		slotrack__cache(s->slo, row ? &row->slo : NULL, op, client, server);
	if (op->flags & CACHE_OP_ABORTED)
		return; /* the answer never came: no latency to attribute */
	if (!s->db)
		return;
	/* Only single-key reads repeat the same key: MGET k1 k2 is one read of several. */
	call.ex_ref = row ? row->id : 0;
	if (row && (op->flags & CACHE_OP_READ) && op->keys == 1) {
		call.key_hash = op->key_hash;
		call.row_id = row->id;
	}
	dbtrack__call(s->db, AGG_DEP_CACHE, &call);
}

void sink__cache_open(struct sink *s, const char *client, const char *server, uint64_t ts)
{
	if (s->cache)
		cacheagg__conn_open(s->cache, client, server, ts);
}

void sink__cache_close(struct sink *s, const char *client, const char *server, uint64_t ts)
{
	if (s->cache)
		cacheagg__conn_close(s->cache, client, server, ts);
}

/* dbtrack's on_decided: a pool worker's outbound call now knows its request. */
static void out_decided(void *ctx, int dep, uint64_t ticket, uint64_t seq)
{
	struct sink *s = ctx;

	if (dep == AGG_DEP_HTTP && s->out)
		outagg__decided(s->out, ticket, seq);
}

int sink__follow_outbound(struct sink *s, struct outagg *out, bool all)
{
	s->out_limiter = route_limiter__new(s->o.route_distinct, 0);
	if (!s->out_limiter)
		return -ENOMEM;
	s->out = out;
	s->out_all = all;
	if (s->db) {
		dbtrack__follow(s->db, AGG_DEP_HTTP, NULL);
		s->db->on_decided = out_decided;
		s->db->on_decided_ctx = s;
	}
	return 0;
}

bool sink__http_out_on(const struct sink *s)
{
	return s->out != NULL;
}

bool sink__http_out_all(const struct sink *s)
{
	return s->out_all;
}

/* An outbound route: a --route pattern, else the normalized target, limited per destination. */
static void out_route(struct sink *s, const struct http_call *c, char *route, size_t routesz)
{
	size_t tlen = strnlen(c->target, HTTP_TARGET_MAX);
	char scope[HTTP_CALL_PEER_MAX + HTTP_HOST_MAX + HTTP_METHOD_MAX + 4];
	const char *pat = NULL;

	if (s->o.routes)
		pat = route_set__match(s->o.routes, c->target, tlen);
	if (pat) {
		snprintf(route, routesz, "%s", pat);
	} else if (route__normalize(c->target, tlen, route, routesz) < 0) {
		s->st.out_bad_target++;
		snprintf(route, routesz, "{invalid}");
	} else {
		snprintf(scope, sizeof(scope), "%s\t%s\t%s", c->peer, c->host, c->method);
		route_limiter__apply(s->out_limiter, scope, route, routesz);
	}
}

void sink__http_call(struct sink *s, const struct http_call *c)
{
	char route[ROUTE_MAX_LEN] = "";
	struct dbtrack_call call = {
		.tgid = c->tgid,
		.tid = c->tid,
		.ts_start = c->ts_start,
		.ts_end = c->ts_end,
		.error = http_call__failed(c),
	};
	uint64_t req = 0;

	if (!s->out)
		return;
	if (c->method && c->method[0])
		out_route(s, c, route, sizeof(route));
	if (s->db && s->db->ex) {
		call.ex_ref = (uint64_t)exemplars__label(s->db->ex, c->peer ? c->peer : "") << 32 |
			      exemplars__label(s->db->ex, route);
		call.ex_ref2 = exemplars__label(s->db->ex, c->method ? c->method : "");
		call.status = (uint16_t)c->status;
	}
	/* Attributed first: a retry is only one within the same inbound request. */
	if (s->db && !(c->flags & HTTP_CALL_UNFINISHED)) {
		call.ticket = ++s->out_tickets;
		req = dbtrack__call(s->db, AGG_DEP_HTTP, &call);
	}
	if (req == DBTRACK_CALL_PARKED)
		outagg__add_waiting(s->out, c, route, call.ticket);
	else
		outagg__add(s->out, c, route, req);
}

void sink__stats(const struct sink *s, struct sink_stats *out)
{
	*out = s->st;
	out->routes_collapsed = route_limiter__collapsed(s->limiter);
	out->out_routes_collapsed = s->out_limiter ? route_limiter__collapsed(s->out_limiter) : 0;
}
