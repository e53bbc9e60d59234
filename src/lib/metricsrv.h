/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A tiny HTTP/1.1 server for one document (Prometheus' GET /metrics), driven from the caller's
 * poll loop: never blocks, one connection at a time, Connection: close after each answer.
 * A request head over METRICSRV_REQ_MAX bytes, or one idle for METRICSRV_IDLE_NS, is dropped.
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

/* Writes the body of GET /metrics to f; 0 or a negative errno (the client gets a 500). */
typedef int (*metricsrv_render_fn)(void *ctx, FILE *f);

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

#endif
