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
	/* Optional: what the kernel saw of the TCP connection (enum httpclient_peer). */
	void (*peer)(void *ec, int what, uint64_t ts, uint64_t arg);
	/* Optional: once per tick; end: tracing ends. */
	void (*idle)(void *ec, uint64_t now, uint64_t quiet_ns, bool end);
};

/* What the connection's connect() came to (SOCKIO_EV_CLIENT). */
enum conn_connect {
	CONNECT_UNKNOWN = 0, /* not connected by us, or no result seen */
	CONNECT_PENDING,     /* non-blocking, in progress */
	CONNECT_DONE,
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
	bool local;    /* the other end is on this host */
	uint16_t rport;
	uint8_t connect; /* enum conn_connect */
	uint32_t connect_tid;
	uint64_t connect_start;
	uint64_t connect_ns; /* connect() to established, once CONNECT_DONE */
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
	/* Processes that serve (a traced inbound connection), and the ports they serve on. */
	struct u64map serving, served_ports;
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

static void connect_failed(struct tracker *t, struct tconn *c, int err, uint64_t ts);

static void conn_end(struct tracker *t, struct tconn *c, uint64_t ts)
{
	/* Closed (or its process gone) while connecting: the client gave up waiting. */
	if (c->connect == CONNECT_PENDING)
		connect_failed(t, c, 0, ts);
	/* The engine's pending requests end with the connection, not with its last transfer. */
	if (ts > c->last_ts)
		c->last_ts = ts;
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

static void addr_name(__u16 family, const __u8 *addr, __u16 port, char *out, size_t outsz)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(family == 2 ? AF_INET : AF_INET6, addr, a, sizeof(a));
	snprintf(out, outsz, family == 2 ? "%s:%u" : "[%s]:%u", a, port);
}

static void peer_name(const struct sockio_open_ev *e, char *out, size_t outsz)
{
	addr_name(e->family, e->raddr, e->rport, out, outsz);
}

/* Loopback (127/8, ::1, ::ffff:127/104), or local itself (lo may be NULL): this host. */
static bool addr_local(__u16 family, const __u8 *addr, const __u8 *lo)
{
	static const __u8 v6_loop[16] = { [15] = 1 };
	static const __u8 v4_mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (family == 2)
		return addr[0] == 127 || (lo && !memcmp(addr, lo, 4));
	if (!memcmp(addr, v6_loop, 16) || (!memcmp(addr, v4_mapped, 12) && addr[12] == 127))
		return true;
	return lo && !memcmp(addr, lo, 16);
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

static void *http_open(struct sink *s, uint32_t tgid, uint64_t conn_id, const char *client,
		       const char *server, uint64_t ts)
{
	return httpclient__new(s, tgid, conn_id, client, server);
}

static bool http_data(void *ec, const struct sockio_data_ev *e, size_t head_len)
{
	httpclient__data(ec, e, head_len);
	return false;
}

static void http_stats_add(const void *ec, struct tracker_stats *sum)
{
	httpclient__stats_add(ec, &sum->http_out);
}

static void http_close(void *ec, uint64_t ts, struct tracker_stats *sum)
{
	httpclient__end(ec, ts);
	http_stats_add(ec, sum);
	httpclient__free(ec, ts);
}

static void http_peer(void *ec, int what, uint64_t ts, uint64_t arg)
{
	httpclient__peer(ec, what, ts, arg);
}

static void http_idle(void *ec, uint64_t now, uint64_t quiet_ns, bool end)
{
	httpclient__idle(ec, now, quiet_ns, end);
}

static const struct engine engines[] = {
	[TRACKER_PG] = { SOCKIO_PROTO_PGSQL, sink__db_wire_on, pgconn__sniff, pg_open, pg_data,
			 pg_stats_add, pg_close },
	[TRACKER_REDIS] = { SOCKIO_PROTO_REDIS, sink__cache_on, respconn__sniff, resp_open,
			    resp_data, resp_stats_add, resp_close },
	[TRACKER_HTTP] = { SOCKIO_PROTO_HTTP, sink__http_out_on, httpclient__sniff, http_open,
			   http_data, http_stats_add, http_close, http_peer, http_idle },
};

static void set_proto(struct tracker *t, struct tconn *c, uint8_t proto)
{
	c->proto = proto;
	if (t->sockio)
		sockio__set_proto(t->sockio, c->tgid, c->fd, c->id, proto);
}

/*
 * A process that serves nothing calling a port that listens on this host: a load generator,
 * whose calls are the traced endpoints' requests seen from the other end (--outbound=all).
 */
static bool load_generator(struct tracker *t, const struct tconn *c)
{
	if (sink__http_out_all(t->sink) || !c->local || !c->rport ||
	    u64map__get(&t->serving, c->tgid))
		return false;
	return u64map__get(&t->served_ports, c->rport) ||
	       (t->sockio && sockio__listening(t->sockio, c->rport));
}

/* Outbound: the connection's engine turns both directions into finished records. */
static void client_data(struct tracker *t, struct tconn *c, const struct sockio_data_ev *e,
			size_t head_len)
{
	const struct engine *eng = c->eng;
	char name[64];
	unsigned i;

	if (c->proto == SOCKIO_PROTO_TLS && (e->flags & SOCKIO_F_TLS)) {
		if (eng) {
			/*
			 * The plaintext of PostgreSQL's own TLS (after SSLRequest): the wire
			 * engine took the connection for lost to TLS, the libpq path sees its
			 * queries. Not sent again.
			 */
			set_proto(t, c, SOCKIO_PROTO_OTHER);
			return;
		}
		/* A TLS handshake, then its plaintext: the plaintext names the connection. */
		c->proto = SOCKIO_PROTO_UNKNOWN;
	}
	if (c->proto == SOCKIO_PROTO_OTHER || c->proto == SOCKIO_PROTO_TLS || e->len <= 0)
		return;
	if (!eng) {
		if (e->proto == SOCKIO_PROTO_TLS) {
			t->st.tls_out_handshakes++;
			if (t->o.tls) {
				/*
				 * The kernel keeps its ciphertext to itself and sends OpenSSL's
				 * plaintext (bpf/sockio/tls.bpf.h), which names the protocol.
				 */
				c->proto = SOCKIO_PROTO_TLS;
				return;
			}
		}
		for (i = 0; i < TRACKER_ENGINES && engines[i].proto != e->proto; i++)
			;
		if (i == TRACKER_ENGINES || !engines[i].on(t->sink)) {
			/* Not followed (--redis=off...): the kernel stops forwarding it. */
			t->st.client_events++;
			set_proto(t, c, SOCKIO_PROTO_OTHER);
			return;
		}
		if (!engines[i].sniff(e, head_len)) {
			t->st.client[i].not ++;
			set_proto(t, c, SOCKIO_PROTO_OTHER);
			return;
		}
		if (i == TRACKER_HTTP && load_generator(t, c)) {
			t->st.client[i].local++;
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
		if (eng->peer && c->local)
			eng->peer(c->ec, HTTPCLIENT_LOCAL, e->ts_enter, 0);
		if (eng->peer && c->connect == CONNECT_DONE && c->connect_ns)
			eng->peer(c->ec, HTTPCLIENT_CONNECTED, c->connect_start, c->connect_ns);
		if (eng->peer && (e->flags & SOCKIO_F_TLS))
			eng->peer(c->ec, HTTPCLIENT_TLS, e->ts_enter, 0);
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
	c->local = addr_local(e->family, e->raddr, e->laddr);
	c->rport = e->rport;
	memcpy(c->comm, e->comm, sizeof(c->comm));
	c->comm[sizeof(c->comm) - 1] = '\0';
	if (c->role == SOCKIO_ROLE_SERVER) {
		conn_service(t, c, e->comm);
		/* A put that fails only makes a load generator's calls followed. */
		u64map__put(&t->serving, c->tgid, 1);
		u64map__put(&t->served_ports, c->lport, 1);
	}
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

/* A connect() that failed, or was given up on (err 0), on a connection we hold. */
static void connect_failed(struct tracker *t, struct tconn *c, int err, uint64_t ts)
{
	char name[64];

	c->connect = CONNECT_DONE;
	t->st.connect_failed++;
	if (!sink__http_out_on(t->sink))
		return;
	sink__client_name(t->sink, c->tgid, c->comm[0] ? c->comm : NULL, name, sizeof(name));
	httpclient__connect_failed(t->sink, c->tgid, c->connect_tid, name, c->peer,
				   c->local ? HTTP_CALL_LOCAL : 0, c->connect_start, ts, err);
}

/* Outbound TCP: a connect's result, a reset or the server's FIN. */
static void on_client(struct tracker *t, const struct sockio_client_ev *e)
{
	char name[64], peer[56], comm[sizeof(e->comm) + 1];
	struct tconn *c;

	if (e->what == SOCKIO_CL_CONNECT && e->err != -EINPROGRESS)
		t->st.connects++;
	if (!e->conn_id) {
		/* Failed inside connect(): never a connection of ours. */
		t->st.connect_failed++;
		if (!sink__http_out_on(t->sink) || e->what != SOCKIO_CL_CONNECT)
			return;
		memcpy(comm, e->comm, sizeof(e->comm));
		comm[sizeof(e->comm)] = '\0';
		sink__client_name(t->sink, e->tgid, comm[0] ? comm : NULL, name, sizeof(name));
		addr_name(e->family, e->raddr, e->rport, peer, sizeof(peer));
		httpclient__connect_failed(t->sink, e->tgid, e->tid, name, peer,
					   addr_local(e->family, e->raddr, NULL) ? HTTP_CALL_LOCAL
										 : 0,
					   e->ts_start, e->ts, -e->err);
		return;
	}
	c = conn_find(t, e->conn_id);
	if (!c) {
		t->st.client_orphans++;
		return;
	}
	switch (e->what) {
	case SOCKIO_CL_CONNECT:
		if (c->connect == CONNECT_DONE)
			return; /* connect() again on a connected socket */
		c->connect_start = e->ts_start;
		c->connect_tid = e->tid;
		if (e->err == -EINPROGRESS) {
			c->connect = CONNECT_PENDING;
			return;
		}
		if (e->err) {
			connect_failed(t, c, -e->err, e->ts);
			return;
		}
		c->connect = CONNECT_DONE;
		/* Kept until the first bytes name the protocol and its engine. */
		c->connect_ns = e->ts > e->ts_start ? e->ts - e->ts_start : 1;
		if (c->eng && c->eng->peer)
			c->eng->peer(c->ec, HTTPCLIENT_CONNECTED, e->ts_start, c->connect_ns);
		break;
	case SOCKIO_CL_RESET:
	case SOCKIO_CL_FIN:
		if (e->what == SOCKIO_CL_RESET)
			t->st.resets++;
		else
			t->st.fins++;
		if (c->eng && c->eng->peer)
			c->eng->peer(c->ec,
				     e->what == SOCKIO_CL_RESET ? HTTPCLIENT_RESET : HTTPCLIENT_FIN,
				     e->ts, 0);
		break;
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
	u64map__del(&t->serving, e->tgid);
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
	case SOCKIO_EV_CLIENT:
		if (size < sizeof(struct sockio_client_ev))
			goto bad;
		on_client(t, data);
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
	for (struct tconn *c = t->lru.lru_next; c != &t->lru; c = c->lru_next) {
		if (http_conn__pending(&c->http))
			http_conn__idle(&c->http, now, t->o.quiet_ns, on_request, c);
		if (c->eng && c->eng->idle)
			c->eng->idle(c->ec, now, t->o.quiet_ns, false);
	}
}

void tracker__flush(struct tracker *t, uint64_t now)
{
	tracker__tick(t, now);
	t->finalizing = true;
	for (struct tconn *c = t->lru.lru_next; c != &t->lru; c = c->lru_next) {
		if (http_conn__pending(&c->http))
			http_conn__close(&c->http, &t->hst, now, on_request, c);
		if (c->eng && c->eng->idle)
			c->eng->idle(c->ec, now, t->o.quiet_ns, true);
	}
	t->finalizing = false;
}

void tracker__stats(const struct tracker *t, struct tracker_stats *out)
{
	*out = t->st;
	out->pg = t->closed.pg;
	out->redis = t->closed.redis;
	out->http_out = t->closed.http_out;
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
	u64map__free(&t->serving);
	u64map__free(&t->served_ports);
	free(t);
}
