/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The Redis client engine of one outbound connection: the RESP parser (proto/resp.c) fed with
 * both directions of the connection's bytes, commands queued in the order they were written
 * and matched in order with the replies read (pipelines of any length, MULTI/EXEC), and every
 * answered command handed to the sink as a struct cache_op. Out-of-band pushes (RESP3) are
 * not replies; after SUBSCRIBE or MONITOR the connection carries messages, not replies, and
 * is no longer matched.
 */
#ifndef SLOPROBE_RESPCONN_H
#define SLOPROBE_RESPCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/sockio.h"

struct respconn;
struct sink;

struct respconn_stats {
	uint64_t commands;  /* answered commands handed to the sink */
	uint64_t unmatched; /* commands dropped when the framing was lost with several pending */
	uint64_t approx;    /* replies whose end was found after lost framing */
	uint64_t orphan_replies; /* replies with no command pending (connection older than us) */
	uint64_t lost_sync, malformed, skipped;
	uint64_t pubsub;  /* connections that switched to pub/sub or MONITOR */
	uint64_t aborted; /* commands pending when the connection ended */
};

/* The first bytes a client wrote on a connection are RESP commands. */
bool respconn__sniff(const struct sockio_data_ev *e, size_t head_len);
/* client: the process's name; server: the peer "addr:port". NULL when out of memory. */
struct respconn *respconn__new(struct sink *s, uint32_t tgid, uint64_t conn_id, const char *client,
			       const char *server, uint64_t ts);
/* One read or write of the connection. */
void respconn__data(struct respconn *c, const struct sockio_data_ev *e, size_t head_len);
void respconn__stats_add(const struct respconn *c, struct respconn_stats *sum);
/* The connection ended at ts: pending commands are counted as aborted (once). */
void respconn__end(struct respconn *c, uint64_t ts);
/* respconn__end if not done, then the memory (NULL is fine). */
void respconn__free(struct respconn *c, uint64_t ts);

#endif
