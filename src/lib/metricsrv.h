/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A tiny HTTP/1.1 server for one document (Prometheus' GET /metrics, as Prometheus text 0.0.4 or
 * OpenMetrics 1.0.0 as the request's Accept header prefers), driven from the caller's poll loop:
 * never blocks, one connection at a time, Connection: close after each answer. A request head over
 * METRICSRV_REQ_MAX bytes, or one idle for METRICSRV_IDLE_NS, is dropped.
 */
#ifndef SLOPROBE_METRICSRV_H
#define SLOPROBE_METRICSRV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#define METRICSRV_REQ_MAX 8192
#define METRICSRV_IDLE_NS (5ull * 1000000000)
#define METRICSRV_PATH	  "/metrics"

/* The exposition formats served, chosen per request from its Accept header. */
enum metricsrv_fmt {
	METRICSRV_TEXT,	       /* Prometheus text 0.0.4: the default */
	METRICSRV_OPENMETRICS, /* OpenMetrics 1.0.0 text */
};

/* Writes the body of GET /metrics in fmt to f; 0 or a negative errno (the client gets a 500). */
typedef int (*metricsrv_render_fn)(void *ctx, enum metricsrv_fmt fmt, FILE *f);

struct metricsrv_stats {
	uint64_t scrapes;  /* 200 answers */
	uint64_t rejected; /* 4xx/5xx answers and connections dropped (too large, idle) */
};

struct metricsrv;

/*
 * Parses "ADDR:PORT", "[V6]:PORT", ":PORT" or "PORT" (the host then 127.0.0.1). any: accept a
 * non-loopback address. 0, or -EINVAL with a one-line reason in err.
 */
int metricsrv__parse_addr(const char *spec, bool any, struct sockaddr_storage *ss, socklen_t *len,
			  char *err, size_t errsz);

/* Binds and listens on spec; 0 or -errno with a one-line reason in err and *out NULL. */
int metricsrv__open(struct metricsrv **out, const char *spec, bool any, metricsrv_render_fn fn,
		    void *ctx, char *err, size_t errsz);
/* Accepts, reads and answers what is ready, without waiting. now: CLOCK_MONOTONIC ns. */
void metricsrv__poll(struct metricsrv *m, uint64_t now);
void metricsrv__stats(const struct metricsrv *m, struct metricsrv_stats *st);
/* The port bound (useful with port 0). */
uint16_t metricsrv__port(const struct metricsrv *m);
void metricsrv__close(struct metricsrv *m);

/*
 * What to answer to a request head (pure): 200 for GET or HEAD of METRICSRV_PATH (query
 * ignored), 404 for another path, 405 for another method, 400 for a head that is not HTTP.
 * *head: true for HEAD (no body).
 */
int metricsrv__route(const char *req, size_t len, bool *head);

/*
 * The format to answer for an Accept header's value (pure; RFC 9110 media ranges, names and
 * parameters case-insensitive, quoted values, q-values): OpenMetrics when its q is above the
 * text format's, else the text. A range counts for OpenMetrics when it is
 * application/openmetrics-text with no version or version 1.0.0 or 0.0.1 (one grammar), for the
 * text when it is text/plain with no version or 0.0.4; a wildcard range (any subtype of
 * application or text, or any type) counts for what it covers, the most specific range
 * deciding. A malformed range is ignored.
 */
enum metricsrv_fmt metricsrv__negotiate(const char *accept, size_t len);
/* The same for a request head: every Accept header line of it, as one list; text without. */
enum metricsrv_fmt metricsrv__format(const char *req, size_t len);
/* The Content-Type of a 200 answer in fmt. */
const char *metricsrv__content_type(enum metricsrv_fmt fmt);

#endif
