// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probes/sockio.h"
#include "record/httpclient.h"
#include "record/sink.h"

struct httpclient {
	struct sink *sink;
	uint32_t tgid;
	uint64_t id;
	char caller[64], peer[HTTP_CALL_PEER_MAX];
	unsigned flags; /* HTTP_CALL_LOCAL, HTTP_CALL_TLS */
	struct http_conn http;
	uint32_t req_tid;    /* the thread that wrote the request in flight */
	uint64_t connect_ns; /* for the first call, then 0 */
	int gone;	     /* HTTP_CALL_RESET or HTTP_CALL_CLOSED once the peer said so */
	bool closing;	     /* inside http_conn__close: answers end by inference */
	bool ending;	     /* tracing ends: what is unanswered is unfinished */
	struct httpclient_stats st;
};

bool httpclient__sniff(const struct sockio_data_ev *e, size_t head_len)
{
	struct http_req_head h;

	return e->dir == SOCKIO_OUT && e->len > 0 && head_len &&
	       http__parse_request((const char *)e->head, head_len, &h) >= 0;
}

static void on_rec(void *ctx, const struct http_rec *r)
{
	struct httpclient *c = ctx;
	struct http_call call = {
		.tgid = c->tgid,
		.tid = c->req_tid,
		.conn_id = c->id,
		.caller = c->caller,
		.peer = c->peer,
		.host = r->host,
		.method = r->method,
		.target = r->target,
		.status = r->status,
		.flags = c->flags,
		.ts_start = r->t_start,
		.ts_end = r->t_end,
		.connect_ns = c->connect_ns,
	};

	if (r->flags & HTTP_REC_NO_REQUEST) {
		c->st.no_request++;
		return;
	}
	c->connect_ns = 0;
	if (r->flags & HTTP_REC_LEN_UNKNOWN)
		call.flags |= HTTP_CALL_LEN_UNKNOWN;
	if (r->flags & HTTP_REC_PIPELINED)
		call.flags |= HTTP_CALL_PIPELINED;
	if (r->flags & HTTP_REC_TARGET_CUT)
		call.flags |= HTTP_CALL_TARGET_CUT;
	if (r->flags & HTTP_REC_INCOMPLETE)
		call.flags |= HTTP_CALL_INCOMPLETE;
	if (c->ending && (r->flags & (HTTP_REC_ABORTED | HTTP_REC_INCOMPLETE))) {
		/* Cut by the end of tracing, not by anything the client or server did. */
		call.flags |= HTTP_CALL_UNFINISHED;
		c->st.unfinished++;
	} else if (r->flags & (HTTP_REC_ABORTED | HTTP_REC_INCOMPLETE)) {
		call.fail = c->gone ? c->gone : HTTP_CALL_TIMEOUT;
	} else if (c->closing && c->gone == HTTP_CALL_RESET && (r->flags & HTTP_REC_LEN_UNKNOWN)) {
		/* A body of unknown length that a reset, not the server's close, ended. */
		call.fail = HTTP_CALL_RESET;
	}
	c->st.calls++;
	sink__http_call(c->sink, &call);
}

struct httpclient *httpclient__new(struct sink *s, uint32_t tgid, uint64_t conn_id,
				   const char *caller, const char *peer)
{
	struct httpclient *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->sink = s;
	c->tgid = tgid;
	c->id = conn_id;
	snprintf(c->caller, sizeof(c->caller), "%s", caller ? caller : "?");
	snprintf(c->peer, sizeof(c->peer), "%s", peer ? peer : "?");
	http_conn__init(&c->http);
	return c;
}

void httpclient__data(struct httpclient *c, const struct sockio_data_ev *e, size_t head_len)
{
	uint64_t len = e->len > 0 ? (uint64_t)e->len : 0;
	const uint8_t *tail = e->tail;
	size_t tail_len = e->tail_len < SOCKIO_TAIL ? e->tail_len : SOCKIO_TAIL;

	if (!len)
		return;
	if (e->dir == SOCKIO_OUT) {
		/* Requests: the parser's request side, timed from the write's start. */
		c->req_tid = e->tid;
		http_conn__read(&c->http, &c->st.parser, e->ts_enter, 0, e->head, head_len, len,
				on_rec, c);
		return;
	}
	/* Responses: a read's bytes were there when it returned. */
	sockio__head_tail(e->head, head_len, len, &tail, &tail_len);
	http_conn__write(&c->http, &c->st.parser, e->ts_exit, e->ts_exit, e->head, head_len, len,
			 tail, tail_len, on_rec, c);
}

void httpclient__peer(struct httpclient *c, enum httpclient_peer what, uint64_t ts, uint64_t arg)
{
	switch (what) {
	case HTTPCLIENT_LOCAL:
		c->flags |= HTTP_CALL_LOCAL;
		break;
	case HTTPCLIENT_TLS:
		c->flags |= HTTP_CALL_TLS;
		break;
	case HTTPCLIENT_CONNECTED:
		c->connect_ns = arg;
		break;
	case HTTPCLIENT_RESET:
		c->gone = HTTP_CALL_RESET;
		break;
	case HTTPCLIENT_FIN:
		/*
		 * Bytes sent before the FIN may still be read after it: what is unanswered when
		 * the connection goes is the server's doing, decided then.
		 */
		if (!c->gone)
			c->gone = HTTP_CALL_CLOSED;
		break;
	}
	(void)ts;
}

void httpclient__idle(struct httpclient *c, uint64_t now, uint64_t quiet_ns, bool end)
{
	/*
	 * Only answers without framing end on quiet: a chunked one has its end in the tail of
	 * a read, and a streamed answer (server-sent events, an LLM's tokens) pauses for longer.
	 */
	if (c->http.rs == HTTP_RS_UNKNOWN)
		http_conn__idle(&c->http, now, quiet_ns, on_rec, c);
	if (!end)
		return;
	c->ending = true;
	http_conn__close(&c->http, &c->st.parser, now, on_rec, c);
	c->ending = false;
}

static void parser_add(struct http_stats *sum, const struct http_stats *s)
{
	sum->requests += s->requests;
	sum->responses += s->responses;
	sum->garbage_in += s->garbage_in;
	sum->garbage_out += s->garbage_out;
	sum->no_request += s->no_request;
	sum->pending_overflow += s->pending_overflow;
	sum->hdr_overflow += s->hdr_overflow;
	sum->after_upgrade += s->after_upgrade;
	sum->nomem += s->nomem;
}

void httpclient__stats_add(const struct httpclient *c, struct httpclient_stats *sum)
{
	sum->calls += c->st.calls;
	sum->no_request += c->st.no_request;
	sum->unfinished += c->st.unfinished;
	parser_add(&sum->parser, &c->st.parser);
}

void httpclient__end(struct httpclient *c, uint64_t ts)
{
	if (c->closing)
		return;
	c->closing = true;
	http_conn__close(&c->http, &c->st.parser, ts, on_rec, c);
}

void httpclient__free(struct httpclient *c, uint64_t ts)
{
	if (!c)
		return;
	httpclient__end(c, ts);
	http_conn__free(&c->http);
	free(c);
}

int httpclient__connect_fail(int err)
{
	switch (err) {
	case 0:
	case ETIMEDOUT:
		return HTTP_CALL_CONNECT_TIMEOUT;
	case ECONNREFUSED:
		return HTTP_CALL_REFUSED;
	case ECONNRESET:
		return HTTP_CALL_RESET;
	case ENETUNREACH:
	case EHOSTUNREACH:
		return HTTP_CALL_UNREACHABLE;
	}
	return HTTP_CALL_CONNECT_ERROR;
}

void httpclient__connect_failed(struct sink *s, uint32_t tgid, uint32_t tid, const char *caller,
				const char *peer, unsigned flags, uint64_t start, uint64_t end,
				int err)
{
	struct http_call call = {
		.tgid = tgid,
		.tid = tid,
		.caller = caller,
		.peer = peer,
		.host = "",
		.method = "",
		.target = "",
		.flags = HTTP_CALL_NO_CONNECTION | (flags & HTTP_CALL_LOCAL),
		.fail = httpclient__connect_fail(err),
		.err = err,
		.ts_start = start,
		.ts_end = end > start ? end : start,
	};

	sink__http_call(s, &call);
}
