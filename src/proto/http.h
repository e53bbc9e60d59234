/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * HTTP/1.x server-side request tracking over the boundary records of the socket data path.
 *
 * One struct http_conn per inbound connection. Reads feed the request side, writes the
 * response side; responses pair with requests in order (HTTP/1.1 pipelining included).
 *
 * Latency of a request runs from the read that returned its first byte to the end of the
 * last write of its response. The end of a response is known exactly from Content-Length or
 * the chunked terminator; otherwise it is the last write before the next request, the close
 * of the connection, or a quiet period (http_conn__idle).
 */
#ifndef SLOPROBE_HTTP_H
#define SLOPROBE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_METHOD_MAX	 16
#define HTTP_TARGET_MAX	 256
#define HTTP_PENDING_MAX 32   /* pipelined requests waiting for their responses */
#define HTTP_HDRBUF_MAX	 2048 /* request head split over reads is joined up to this size */
#define HTTP_HOST_MAX	 96   /* Host header kept per request (client side: the destination) */

enum http_rec_flag {
	HTTP_REC_ABORTED = 1 << 0,     /* connection closed before any response */
	HTTP_REC_PIPELINED = 1 << 1,   /* arrived while an earlier request was unanswered */
	HTTP_REC_LEN_UNKNOWN = 1 << 2, /* response end inferred, not read from its framing */
	HTTP_REC_TARGET_CUT = 1 << 3,  /* request target longer than what was captured */
	HTTP_REC_INCOMPLETE = 1 << 4,  /* closed before the whole response body was written */
	HTTP_REC_NO_REQUEST = 1 << 5,  /* response whose request was not seen */
	HTTP_REC_UPGRADE = 1 << 6,     /* 101 Switching Protocols: the connection left HTTP */
};

/* A finished request. target is the raw request-target: callers must not keep it. */
struct http_rec {
	char method[HTTP_METHOD_MAX];
	char target[HTTP_TARGET_MAX];
	char host[HTTP_HOST_MAX]; /* Host header, "" when absent or not captured; cut to fit */
	unsigned status;	  /* 0 when no response */
	unsigned flags;
	uint64_t t_start;   /* ns: read that returned the first request byte */
	uint64_t t_arrival; /* ns: that byte reached the socket; 0 if unknown */
	uint64_t t_first;   /* ns: first response write entered, 0 if none */
	uint64_t t_end;	    /* ns: last response write returned (close time if aborted) */
	uint64_t resp_bytes;
};

struct http_stats {
	uint64_t requests;	   /* request heads parsed */
	uint64_t responses;	   /* response heads parsed */
	uint64_t garbage_in;	   /* reads that should start a request but do not parse */
	uint64_t garbage_out;	   /* writes that should start a response but do not parse */
	uint64_t no_request;	   /* responses without a request */
	uint64_t pending_overflow; /* requests dropped: more than HTTP_PENDING_MAX unanswered */
	uint64_t hdr_overflow;	   /* request heads longer than HTTP_HDRBUF_MAX */
	uint64_t after_upgrade;	   /* transfers ignored on upgraded connections */
	uint64_t nomem;		   /* requests dropped for want of memory */
};

typedef void (*http_emit_fn)(void *ctx, const struct http_rec *rec);

enum http_rq_state {
	HTTP_RQ_LINE = 0,     /* expecting a request line */
	HTTP_RQ_HEAD,	      /* request head split over reads: joining in hdrbuf */
	HTTP_RQ_BODY,	      /* skipping rq_left bytes of body */
	HTTP_RQ_BODY_UNKNOWN, /* body of unknown length: the next request line ends it */
};

enum http_rs_state {
	HTTP_RS_IDLE = 0, /* expecting a status line */
	HTTP_RS_BODY,	  /* rs_left bytes of body to go */
	HTTP_RS_CHUNKED,  /* ends with a write whose tail is the last-chunk */
	HTTP_RS_UNKNOWN,  /* ends at next request, close or quiet */
};

/*
 * Most connections never have more than one request in flight and most heads arrive in one
 * read: the queue grows on demand and the join buffer exists only while joining, so an idle
 * keep-alive connection costs a few hundred bytes.
 */
struct http_conn {
	struct http_rec *q; /* ring of q_cap; q[q_head] is the one being answered */
	unsigned q_cap;
	unsigned q_head;
	unsigned q_len;
	enum http_rq_state rq;
	uint64_t rq_left;
	uint64_t hdr_ts, hdr_arrival;
	size_t hdr_len;
	char *hdrbuf; /* HTTP_HDRBUF_MAX bytes while rq == HTTP_RQ_HEAD */
	enum http_rs_state rs;
	uint64_t rs_left;
	uint64_t rs_last; /* ts_exit of the last write of the current response */
	bool rs_started;  /* the head request has response bytes */
	bool upgraded;
	uint8_t rs_tail_len;
	char rs_tail[8]; /* last bytes of a chunked body, across writes */
};

/* Pure parsers, exposed for tests and fuzzers. */
struct http_req_head {
	const char *method; /* points into the input */
	size_t method_len;
	const char *target;
	size_t target_len;
	int version_minor;
	size_t head_len;	/* bytes up to and including the blank line; 0 if not complete */
	int64_t content_length; /* -1 if absent */
	bool chunked;
	const char *host; /* the Host header's value, NULL if not among the bytes given */
	size_t host_len;
};

struct http_resp_head {
	int version_minor;
	unsigned status;
	size_t head_len; /* 0 if the blank line was not in the input */
	int64_t content_length;
	bool chunked;
	bool close;
};

/*
 * Returns 1 when buf starts with a complete request line (head_len tells whether the whole
 * head was there), 0 when it is a plausible prefix that needs more bytes, -1 when it is not
 * HTTP/1.
 */
int http__parse_request(const char *buf, size_t len, struct http_req_head *h);
/* Same contract for a status line and response head. */
int http__parse_response(const char *buf, size_t len, struct http_resp_head *h);

void http_conn__init(struct http_conn *c);
/* Frees what the connection holds; pending requests are dropped, not emitted. */
void http_conn__free(struct http_conn *c);
/*
 * head: the first head_len bytes of a read of len bytes that returned at ts; arrival: when its
 * first byte had reached the socket (0: unknown).
 */
void http_conn__read(struct http_conn *c, struct http_stats *st, uint64_t ts, uint64_t arrival,
		     const void *head, size_t head_len, uint64_t len, http_emit_fn emit, void *ctx);
void http_conn__write(struct http_conn *c, struct http_stats *st, uint64_t ts_enter,
		      uint64_t ts_exit, const void *head, size_t head_len, uint64_t len,
		      const void *tail, size_t tail_len, http_emit_fn emit, void *ctx);
void http_conn__close(struct http_conn *c, struct http_stats *st, uint64_t ts, http_emit_fn emit,
		      void *ctx);
/* Request bytes were not seen (the kernel skipped reads): stop trusting body accounting. */
void http_conn__read_gap(struct http_conn *c);
/* Ends a response of unknown length once nothing was written for quiet_ns. */
void http_conn__idle(struct http_conn *c, uint64_t now, uint64_t quiet_ns, http_emit_fn emit,
		     void *ctx);
/* Requests read but not answered yet. */
static inline unsigned http_conn__pending(const struct http_conn *c)
{
	return c->q_len;
}

#endif
