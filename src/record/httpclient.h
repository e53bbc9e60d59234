/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The HTTP/1 client engine of one outbound connection: the server side's parser
 * (proto/http.c) with the directions swapped - the connection's writes are its requests, its
 * reads their responses - and every finished exchange handed to the sink as a struct
 * http_call (proto/httpcall.h). A call starts with the write of its first request byte and
 * ends with the read of its last response byte.
 *
 * How a call without a response ended is known from what the connection saw before it went
 * away: a reset (RST received) makes it a reset, the server's FIN a close, and otherwise the
 * client closed it or exited: a client timeout. The first call of a connection carries the
 * connect time of the connection. Connects that fail are calls of their own, without a
 * request (httpclient__connect_failed).
 *
 * The thread of a call is the one that wrote its request; on a pipelined connection, the
 * last one that wrote a request.
 */
#ifndef SLOPROBE_HTTPCLIENT_H
#define SLOPROBE_HTTPCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/sockio.h"
#include "proto/http.h"
#include "proto/httpcall.h"

struct httpclient;
struct sink;

struct httpclient_stats {
	uint64_t calls;	     /* calls handed to the sink, connect failures included */
	uint64_t no_request; /* responses whose request was not seen (connection older than us) */
	uint64_t unfinished; /* requests unanswered when tracing ended */
	struct http_stats parser; /* the HTTP parser, client side */
};

/* What the connection learned besides its bytes (httpclient__peer). */
enum httpclient_peer {
	HTTPCLIENT_LOCAL = 1, /* the peer is on this host */
	HTTPCLIENT_CONNECTED, /* arg: connect time, ns */
	HTTPCLIENT_RESET,     /* RST received */
	HTTPCLIENT_FIN,	      /* the server closed its side */
	HTTPCLIENT_TLS,	      /* its plaintext comes from OpenSSL's calls (--tls) */
};

/* The first bytes a client wrote on a connection start an HTTP/1 request. */
bool httpclient__sniff(const struct sockio_data_ev *e, size_t head_len);
/* caller: the process's name; peer: "addr:port". NULL when out of memory. */
struct httpclient *httpclient__new(struct sink *s, uint32_t tgid, uint64_t conn_id,
				   const char *caller, const char *peer);
/* One read or write of the connection. */
void httpclient__data(struct httpclient *c, const struct sockio_data_ev *e, size_t head_len);
void httpclient__peer(struct httpclient *c, enum httpclient_peer what, uint64_t ts, uint64_t arg);
/*
 * Ends a response of unknown length after quiet_ns without a read; end: tracing ends, the
 * requests still unanswered are counted as unfinished.
 */
void httpclient__idle(struct httpclient *c, uint64_t now, uint64_t quiet_ns, bool end);
void httpclient__stats_add(const struct httpclient *c, struct httpclient_stats *sum);
/* The connection ended at ts: requests unanswered are failed calls (once). */
void httpclient__end(struct httpclient *c, uint64_t ts);
/* httpclient__end if not done, then the memory (NULL is fine). */
void httpclient__free(struct httpclient *c, uint64_t ts);

/* The failure kind of a connect() that ended with -err (0: the client gave up waiting). */
int httpclient__connect_fail(int err);
/*
 * A connect() of caller (process tgid, thread tid) to peer, from start to end, failed with
 * -err (0: given up on): a call without a request. flags: HTTP_CALL_LOCAL or 0.
 */
void httpclient__connect_failed(struct sink *s, uint32_t tgid, uint32_t tid, const char *caller,
				const char *peer, unsigned flags, uint64_t start, uint64_t end,
				int err);

#endif
