// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/u64map.h"
#include "record/dbtrack.h"
#include "record/pgconn.h"
#include "record/respconn.h"
#include "proto/pgwire.h"
#include "probes/sockio.h"
#include "record/sink.h"
#include "record/tracker.h"

/*
 * The client engines of outbound connections, by the protocol the kernel named from the
 * client's first write. An engine turns both directions of a connection into finished
 * records for the sink; a protocol is one entry here.
 */
struct engine {
	uint8_t proto;
	bool (*on)(const struct sink *s);
	bool (*sniff)(const struct sockio_data_ev *e, size_t head_len);
	void *(*open)(struct sink *s, uint32_t tgid, uint64_t conn_id, const char *client,
		      const char *server, uint64_t ts);
	/* true: nothing more can be read on the connection (it switched to TLS) */
	bool (*data)(void *ec, const struct sockio_data_ev *e, size_t head_len);
	void (*stats_add)(const void *ec, struct tracker_stats *sum);
	/* The connection ended: what was pending is counted, the stats added to sum. */
	void (*close)(void *ec, uint64_t ts, struct tracker_stats *sum);
};

struct tconn {
	struct tconn *lru_prev, *lru_next; /* least recently used first */
	struct tracker *t;
	uint64_t id;
	uint64_t last_ts;
	uint32_t tgid;
	uint32_t fd;
	uint16_t lport;
	uint8_t role;
	uint8_t proto;
	uint8_t tls;   /* enum tls_state: its plaintext comes from OpenSSL's calls */
	int service;   /* index in agg, -1 until known */
	char peer[56]; /* "addr:port" of the other end */
	char comm[16]; /* from the kernel, for processes gone before we look */
	struct http_conn http;
	struct dbreq req;	  /* DB work of the request in flight (inbound) */
	const struct engine *eng; /* outbound: the protocol's client engine, and its state */
	void *ec;
};

struct tracker {
	struct tracker_opts o;
	struct sink *sink;
	struct sockio *sockio;
	struct u64map conns;	     /* id -> struct tconn *: the index, not the order */
	struct tconn lru;	     /* sentinel of the LRU list: eviction takes lru.lru_next */
	struct tracker_stats closed; /* parser counters of connections already gone */
	struct tracker_stats st;
	struct http_stats hst;
	bool finalizing;
};

static struct tconn *conn_find(struct tracker *t, uint64_t id)
{
	uint64_t *v = u64map__get(&t->conns, id);

	return v ? (struct tconn *)(uintptr_t)*v : NULL;
}

static void lru_unlink(struct tconn *c)
{
	c->lru_prev->lru_next = c->lru_next;
	c->lru_next->lru_prev = c->lru_prev;
}

/* c was just used: it goes to the end of the LRU list. */
static void lru_touch(struct tracker *t, struct tconn *c)
{
	if (c->lru_next == &t->lru)
		return;
	lru_unlink(c);
	c->lru_prev = t->lru.lru_prev;
	c->lru_next = &t->lru;
	t->lru.lru_prev->lru_next = c;
	t->lru.lru_prev = c;
}

static void pgstats_add(struct pgwire_stats *sum, const struct pgwire_stats *s)
{
	sum->malformed += s->malformed;
	sum->lost_sync += s->lost_sync;
	sum->resync += s->resync;
	sum->write_gaps += s->write_gaps;
	sum->queue_overflow += s->queue_overflow;
	sum->execs_overflow += s->execs_overflow;
	sum->names_evicted += s->names_evicted;
}

static void conn_free(struct tracker *t, struct tconn *c)
{
	sink__req_drop(t->sink, &c->req);
	if (c->eng)
		c->eng->close(c->ec, c->last_ts, &t->closed);
	http_conn__free(&c->http);
	free(c);
}

static void conn_unlink(struct tracker *t, struct tconn *c)
{
	u64map__del(&t->conns, c->id);
	lru_unlink(c);
	conn_free(t, c);
	t->st.conns_live--;
}

/* Closes every pending request of the oldest quiet connections when the table is full. */
static void evict(struct tracker *t, uint64_t now);

static struct tconn *conn_add(struct tracker *t, uint64_t id, uint32_t tgid)
{
	struct tconn *c;

	if (t->st.conns_live >= t->o.max_conns)
		evict(t, 0);
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	if (u64map__put(&t->conns, id, (uintptr_t)c)) {
		/* The index could not grow: not followed, like a connection evicted for room. */
		free(c);
		t->st.conns_evicted++;
		return NULL;
	}
	c->t = t;
	c->id = id;
	c->tgid = tgid;
	c->service = -1;
	http_conn__init(&c->http);
	c->lru_prev = t->lru.lru_prev;
	c->lru_next = &t->lru;
	t->lru.lru_prev->lru_next = c;
	t->lru.lru_prev = c;
	if (++t->st.conns_live > t->st.conns_peak)
		t->st.conns_peak = t->st.conns_live;
	return c;
}

static int conn_service(struct tracker *t, struct tconn *c, const char *comm)
{
	if (c->service < 0)
		c->service = sink__service(t->sink, c->tgid, c->lport, comm);
	return c->service;
}

static void on_request(void *ctx, const struct http_rec *rec)
{
	struct tconn *c = ctx;
	struct tracker *t = c->t;

	sink__http(t->sink, conn_service(t, c, NULL), &c->req, rec, t->finalizing);
}

static void conn_end(struct tracker *t, struct tconn *c, uint64_t ts)
{
	http_conn__close(&c->http, &t->hst, ts, on_request, c);
	conn_unlink(t, c);
}

static void evict(struct tracker *t, uint64_t now)
{
	struct tconn *oldest = t->lru.lru_next;

	if (oldest == &t->lru)
		return;
	t->st.conns_evicted++;
	conn_end(t, oldest, now ? now : oldest->last_ts);
}

static void peer_name(const struct sockio_open_ev *e, char *out, size_t outsz)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(e->family == 2 ? AF_INET : AF_INET6, e->raddr, a, sizeof(a));
	snprintf(out, outsz, e->family == 2 ? "%s:%u" : "[%s]:%u", a, e->rport);
}

static void *pg_open(struct sink *s, uint32_t tgid, uint64_t conn_id, const char *client,
		     const char *server, uint64_t ts)
{
	return pgconn__new(s, tgid, conn_id, client, server, ts);
}

static bool pg_data(void *ec, const struct sockio_data_ev *e, size_t head_len)
{
	return pgconn__data(ec, e, head_len);
}

static void pg_stats_add(const void *ec, struct tracker_stats *sum)
{
	pgstats_add(&sum->pg, pgconn__stats(ec));
}

static void pg_close(void *ec, uint64_t ts, struct tracker_stats *sum)
{
	pg_stats_add(ec, sum);
	pgconn__free(ec, ts);
}

static void *resp_open(struct sink *s, uint32_t tgid, uint64_t conn_id, const char *client,
		       const char *server, uint64_t ts)
{
	return respconn__new(s, tgid, conn_id, client, server, ts);
}

static bool resp_data(void *ec, const struct sockio_data_ev *e, size_t head_len)
{
	respconn__data(ec, e, head_len);
	return false;
}

static void resp_stats_add(const void *ec, struct tracker_stats *sum)
{
	respconn__stats_add(ec, &sum->redis);
}

static void resp_close(void *ec, uint64_t ts, struct tracker_stats *sum)
{
	respconn__end(ec, ts);
	resp_stats_add(ec, sum);
	respconn__free(ec, ts);
}

static const struct engine engines[] = {
	[TRACKER_PG] = { SOCKIO_PROTO_PGSQL, sink__db_on, pgconn__sniff, pg_open, pg_data,
			 pg_stats_add, pg_close },
	[TRACKER_REDIS] = { SOCKIO_PROTO_REDIS, sink__cache_on, respconn__sniff, resp_open,
			    resp_data, resp_stats_add, resp_close },
};

static void set_proto(struct tracker *t, struct tconn *c, uint8_t proto)
{
	c->proto = proto;
	if (t->sockio)
		sockio__set_proto(t->sockio, c->tgid, c->fd, c->id, proto);
}

/* Outbound: the connection's engine turns both directions into finished records. */
static void client_data(struct tracker *t, struct tconn *c, const struct sockio_data_ev *e,
			size_t head_len)
{
	const struct engine *eng = c->eng;
	char name[64];
	unsigned i;

	if (c->proto == SOCKIO_PROTO_TLS && (e->flags & SOCKIO_F_TLS)) {
		/*
		 * The plaintext of PostgreSQL's own TLS (after SSLRequest): the wire engine took
		 * the connection for lost to TLS, the libpq path sees its queries. Not sent again.
		 */
		c->proto = SOCKIO_PROTO_OTHER;
		if (t->sockio)
			sockio__set_proto(t->sockio, c->tgid, c->fd, c->id, c->proto);
		return;
	}
	if (c->proto == SOCKIO_PROTO_OTHER || c->proto == SOCKIO_PROTO_TLS || e->len <= 0)
		return;
	if (!eng) {
		for (i = 0; i < TRACKER_ENGINES && engines[i].proto != e->proto; i++)
			;
		if (i == TRACKER_ENGINES || !engines[i].on(t->sink)) {
			t->st.client_events++;
			return;
		}
		if (!engines[i].sniff(e, head_len)) {
			t->st.client[i].not ++;
			set_proto(t, c, SOCKIO_PROTO_OTHER);
			return;
		}
		sink__client_name(t->sink, c->tgid, c->comm[0] ? c->comm : NULL, name,
				  sizeof(name));
		c->ec = engines[i].open(t->sink, c->tgid, c->id, name, c->peer, e->ts_enter);
		if (!c->ec)
			return;
		eng = c->eng = &engines[i];
		c->proto = e->proto;
		t->st.client[i].conns++;
	}
	if (eng->data(c->ec, e, head_len)) {
		t->st.client[eng - engines].tls++;
		set_proto(t, c, SOCKIO_PROTO_TLS);
	}
}

enum tls_state {
	TLS_NONE = 0,
	TLS_PLAIN = 1, /* plaintext seen (SOCKIO_F_TLS), its protocol not named yet */
	TLS_NAMED = 2, /* counted */
};

/*
 * A plaintext event of a connection from OpenSSL's calls (e): it comes that way from now on.
 * Counted as decoded once the kernel names what it speaks (a response of a request read
 * before tracing started may come first, unnamed), if it is a protocol we parse: HTTP/1
 * inbound, which marks the service; outbound, one the client side names (HTTP, PostgreSQL,
 * Redis).
 */
static void tls_plaintext(struct tracker *t, struct tconn *c, const struct sockio_data_ev *e)
{
	if (c->tls == TLS_NONE) {
		c->tls = TLS_PLAIN;
		/* Its handshake counted it as a connection we cannot decode: it is not one. */
		if (c->role == SOCKIO_ROLE_SERVER && c->proto == SOCKIO_PROTO_TLS) {
			t->st.tls--;
			c->proto = SOCKIO_PROTO_UNKNOWN;
		}
	}
	if (e->proto == SOCKIO_PROTO_UNKNOWN)
		return;
	c->tls = TLS_NAMED;
	if (c->role != SOCKIO_ROLE_SERVER) {
		if (e->proto == SOCKIO_PROTO_HTTP || e->proto == SOCKIO_PROTO_PGSQL ||
		    e->proto == SOCKIO_PROTO_REDIS)
			t->st.tls_out++;
		return;
	}
	if (e->proto != SOCKIO_PROTO_HTTP)
		return; /* HTTP/2 inside (ALPN h2) is counted as such below */
	t->st.tls_in++;
	sink__service_tls(t->sink, conn_service(t, c, NULL));
}

static void on_open(struct tracker *t, const struct sockio_open_ev *e)
{
	struct tconn *c = conn_find(t, e->conn_id);

	t->st.opens++;
	if (!c)
		c = conn_add(t, e->conn_id, e->tgid);
	if (!c)
		return;
	lru_touch(t, c);
	c->fd = e->fd;
	c->lport = e->lport;
	c->role = e->role;
	c->last_ts = e->ts;
	peer_name(e, c->peer, sizeof(c->peer));
	memcpy(c->comm, e->comm, sizeof(c->comm));
	c->comm[sizeof(c->comm) - 1] = '\0';
	if (c->role == SOCKIO_ROLE_SERVER)
		conn_service(t, c, e->comm);
}

static void on_data(struct tracker *t, const struct sockio_data_ev *e, size_t size)
{
	struct tconn *c = conn_find(t, e->conn_id);
	size_t head_len = e->head_len;
	uint64_t len;

	t->st.data++;
	if (!c) {
		/* The open event was lost: the connection still counts, its port is unknown. */
		t->st.orphan_data++;
		c = conn_add(t, e->conn_id, e->tgid);
		if (!c)
			return;
		c->role = e->proto == SOCKIO_PROTO_PGSQL || e->proto == SOCKIO_PROTO_REDIS
				  ? SOCKIO_ROLE_CLIENT
				  : SOCKIO_ROLE_SERVER;
	}
	c->last_ts = e->ts_exit;
	lru_touch(t, c);
	if (head_len > size - SOCKIO_DATA_EV_SHORT)
		head_len = size - SOCKIO_DATA_EV_SHORT;
	if ((e->flags & SOCKIO_F_TLS) && c->tls != TLS_NAMED)
		tls_plaintext(t, c, e);
	if (c->role != SOCKIO_ROLE_SERVER) {
		client_data(t, c, e, head_len);
		return;
	}

	if (e->proto != c->proto) {
		c->proto = e->proto;
		if (e->proto == SOCKIO_PROTO_TLS)
			t->st.tls++;
		else if (e->proto == SOCKIO_PROTO_HTTP2)
			t->st.http2++;
		else if (e->proto == SOCKIO_PROTO_OTHER)
			t->st.non_http++;
	}
	if (e->proto != SOCKIO_PROTO_HTTP && e->proto != SOCKIO_PROTO_UNKNOWN)
		return;
	if (e->len <= 0)
		return;
	len = (uint64_t)e->len;
	if (e->dir == SOCKIO_IN) {
		/* First: it may finish the previous request, whose DB work is then complete. */
		http_conn__read(&c->http, &t->hst, e->ts_exit, e->ts_arrival, e->head, head_len,
				len, on_request, c);
		if (e->flags & SOCKIO_F_REQ_START)
			sink__req_start(t->sink, &c->req, c->tgid, e->tid, e->ts_enter);
	} else {
		/*
		 * --quiet-ms of silence ended a response of unknown length, whether or not a
		 * tick came by in the meantime (once per live interval): this write is after it.
		 */
		if (c->http.rs == HTTP_RS_UNKNOWN)
			http_conn__idle(&c->http, e->ts_enter, t->o.quiet_ns, on_request, c);
		if (e->flags & SOCKIO_F_RESP_START)
			sink__req_responding(t->sink, &c->req, e->ts_enter);
		const __u8 *tail = e->tail;
		size_t tail_len = e->tail_len < SOCKIO_TAIL ? e->tail_len : SOCKIO_TAIL;

		sockio__head_tail(e->head, head_len, len, &tail, &tail_len);
		http_conn__write(&c->http, &t->hst, e->ts_enter, e->ts_exit, e->head, head_len, len,
				 tail, tail_len, on_request, c);
	}
}

static void on_exit_ev(struct tracker *t, const struct sockio_exit_ev *e)
{
	t->st.exits++;
	/* The process may have exited without close(): its sockets die with it. */
	for (struct tconn *c = t->lru.lru_next, *next; c != &t->lru; c = next) {
		next = c->lru_next;
		if (c->tgid != e->tgid)
			continue;
		if (t->sockio)
			sockio__forget(t->sockio, c->tgid, c->fd);
		conn_end(t, c, e->ts);
	}
	sink__proc_gone(t->sink, e->tgid);
}

int tracker__event(void *ctx, void *data, size_t size)
{
	struct tracker *t = ctx;
	const __u32 *type = data;

	t->st.events++;
	if (size < sizeof(*type))
		goto bad;
	switch (*type) {
	case SOCKIO_EV_OPEN:
		if (size < sizeof(struct sockio_open_ev))
			goto bad;
		on_open(t, data);
		break;
	case SOCKIO_EV_DATA:
		if (size < SOCKIO_DATA_EV_SHORT)
			goto bad;
		on_data(t, data, size);
		break;
	case SOCKIO_EV_CLOSE: {
		const struct sockio_close_ev *e = data;
		struct tconn *c;

		if (size < sizeof(*e))
			goto bad;
		t->st.closes++;
		c = conn_find(t, e->conn_id);
		if (c)
			conn_end(t, c, e->ts);
		break;
	}
	case SOCKIO_EV_EXIT:
		if (size < sizeof(struct sockio_exit_ev))
			goto bad;
		on_exit_ev(t, data);
		break;
	default:
		goto bad;
	}
	return 0;
bad:
	t->st.bad_events++;
	return 0;
}

void tracker__tick(struct tracker *t, uint64_t now)
{
	for (struct tconn *c = t->lru.lru_next; c != &t->lru; c = c->lru_next)
		if (http_conn__pending(&c->http))
			http_conn__idle(&c->http, now, t->o.quiet_ns, on_request, c);
}

void tracker__flush(struct tracker *t, uint64_t now)
{
	tracker__tick(t, now);
	t->finalizing = true;
	for (struct tconn *c = t->lru.lru_next; c != &t->lru; c = c->lru_next)
		if (http_conn__pending(&c->http))
			http_conn__close(&c->http, &t->hst, now, on_request, c);
	t->finalizing = false;
}

void tracker__stats(const struct tracker *t, struct tracker_stats *out)
{
	*out = t->st;
	out->pg = t->closed.pg;
	out->redis = t->closed.redis;
	for (const struct tconn *c = t->lru.lru_next; c != &t->lru; c = c->lru_next)
		if (c->eng)
			c->eng->stats_add(c->ec, out);
	/* The names the report has always used for PostgreSQL's counters. */
	out->pg_conns = out->client[TRACKER_PG].conns;
	out->pg_not = out->client[TRACKER_PG].not ;
	out->pg_tls = out->client[TRACKER_PG].tls;
}

const struct http_stats *tracker__http_stats(const struct tracker *t)
{
	return &t->hst;
}

void tracker__set_sockio(struct tracker *t, struct sockio *s)
{
	t->sockio = s;
}

struct tracker *tracker__new(const struct tracker_opts *o, struct sink *sink)
{
	struct tracker *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->o = *o;
	if (!t->o.max_conns)
		t->o.max_conns = SOCKIO_CONNS_DEFAULT;
	if (!t->o.quiet_ns)
		t->o.quiet_ns = 200 * 1000000ull;
	t->sink = sink;
	t->lru.lru_next = t->lru.lru_prev = &t->lru;
	return t;
}

void tracker__free(struct tracker *t)
{
	if (!t)
		return;
	for (struct tconn *c = t->lru.lru_next, *next; c != &t->lru; c = next) {
		next = c->lru_next;
		conn_free(t, c);
	}
	u64map__free(&t->conns);
	free(t);
}
