/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One outbound HTTP call as the calling process saw it: the neutral record the HTTP client
 * engine (record/httpclient.c) hands to the sink, like struct db_exec for databases and
 * struct cache_op for caches. A call is an attempt: a request written and its response read,
 * or a request the client gave up on, or a connection that could not be made (then there is
 * no request: method and target are empty).
 *
 * The target is the raw request-target: the sink turns it into a route (--route patterns,
 * else the normalizer and the limiter, as for inbound requests) and nobody keeps it, so that
 * query strings, which may carry secrets, are never stored.
 */
#ifndef SLOPROBE_HTTPCALL_H
#define SLOPROBE_HTTPCALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/http.h"

#define HTTP_CALL_PEER_MAX 56 /* "[v6 address]:port" */

/*
 * Why a call failed, besides its status code. A call the client gave up on (it closed the
 * connection, or exited, with the request unanswered) is a client timeout: no client closes a
 * connection with a request in flight for another reason that the wire could tell apart.
 */
enum http_call_fail {
	HTTP_CALL_OK = 0,	   /* a response was read (whatever its status) */
	HTTP_CALL_REFUSED,	   /* connect: ECONNREFUSED (RST to the SYN) */
	HTTP_CALL_RESET,	   /* RST received with the request unanswered */
	HTTP_CALL_TIMEOUT,	   /* the client closed, or exited, before the response ended */
	HTTP_CALL_CONNECT_TIMEOUT, /* connect: ETIMEDOUT, or the client gave up on it */
	HTTP_CALL_UNREACHABLE,	   /* connect: ENETUNREACH, EHOSTUNREACH */
	HTTP_CALL_CLOSED,	   /* the server closed the connection without answering */
	HTTP_CALL_CONNECT_ERROR,   /* connect failed with another error */
	HTTP_CALL_FAIL_NR,
};

enum http_call_flag {
	HTTP_CALL_NO_CONNECTION = 1 << 0, /* a connect failure: no request was sent */
	HTTP_CALL_LEN_UNKNOWN = 1 << 1,	  /* response end inferred, not read from its framing */
	HTTP_CALL_PIPELINED = 1 << 2,	  /* written while an earlier request was unanswered */
	HTTP_CALL_TARGET_CUT = 1 << 3,	  /* request target longer than what was captured */
	HTTP_CALL_INCOMPLETE = 1 << 4,	  /* the response's body ended early */
	HTTP_CALL_UNFINISHED = 1 << 5,	  /* still unanswered when tracing ended: not a failure */
	HTTP_CALL_LOCAL = 1 << 6,	  /* the peer is on this host (loopback or own address) */
	HTTP_CALL_TLS = 1 << 7,		  /* HTTPS: its plaintext came from OpenSSL's calls */
};

struct http_call {
	uint32_t tgid, tid; /* the calling process, and the thread that wrote the request */
	uint64_t conn_id;   /* sockio connection id; 0: a connect that failed at once */
	const char *caller; /* the process's name (sink__client_name) */
	const char *peer;   /* "addr:port" */
	const char *host;   /* Host header, "" if none was seen */
	const char *method; /* "" without a request */
	const char *target; /* raw request-target, not to be kept; "" without a request */
	unsigned status;    /* 0: no response */
	unsigned flags;	    /* enum http_call_flag */
	int fail;	    /* enum http_call_fail */
	int err;	    /* connect failures: the errno */
	/* ns, CLOCK_MONOTONIC: first request byte written (connect() entered without a request)
	 * -> last response byte read (the failure seen) */
	uint64_t ts_start, ts_end;
	uint64_t connect_ns; /* the call opened its connection: connect() to established; 0 */
};

static inline uint64_t http_call__latency(const struct http_call *c)
{
	return c->ts_end > c->ts_start ? c->ts_end - c->ts_start : 0;
}

/* A call that failed, for retries: a failure kind, or a status a client retries (429, 5xx). */
static inline bool http_call__failed(const struct http_call *c)
{
	return c->fail != HTTP_CALL_OK || c->status == 429 || c->status >= 500;
}

/* "ok", "refused", "reset", "timeout", "connect_timeout", "unreachable", "closed", ... */
static inline const char *http_call__fail_name(int fail)
{
	static const char *const names[HTTP_CALL_FAIL_NR] = {
		[HTTP_CALL_OK] = "ok",
		[HTTP_CALL_REFUSED] = "refused",
		[HTTP_CALL_RESET] = "reset",
		[HTTP_CALL_TIMEOUT] = "timeout",
		[HTTP_CALL_CONNECT_TIMEOUT] = "connect_timeout",
		[HTTP_CALL_UNREACHABLE] = "unreachable",
		[HTTP_CALL_CLOSED] = "closed",
		[HTTP_CALL_CONNECT_ERROR] = "connect_error",
	};

	return fail >= 0 && fail < HTTP_CALL_FAIL_NR ? names[fail] : "?";
}

#endif
