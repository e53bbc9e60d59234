/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The PostgreSQL client engine of one outbound connection: the wire parser (proto/pgwire.c)
 * fed with both directions of the connection's bytes, a write carried in segments joined
 * first, and every finished execution handed to the sink as a struct db_exec. The connection
 * table (record/tracker.c) owns one per PostgreSQL connection and knows nothing else of it.
 */
#ifndef SLOPROBE_PGCONN_H
#define SLOPROBE_PGCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "abi/sockio.h"
#include "proto/pgwire.h"

struct pgconn;
struct sink;

/* The first bytes a client wrote on a connection are PostgreSQL's (or may be). */
bool pgconn__sniff(const struct sockio_data_ev *e, size_t head_len);
/* client: the process's name; server: the peer "addr:port". NULL when out of memory. */
struct pgconn *pgconn__new(struct sink *s, uint32_t tgid, uint64_t conn_id, const char *client,
			   const char *server, uint64_t ts);
/* One read or write of the connection; true once it switched to TLS (nothing left to read). */
bool pgconn__data(struct pgconn *c, const struct sockio_data_ev *e, size_t head_len);
const struct pgwire_stats *pgconn__stats(const struct pgconn *c);
/* The connection ended at ts (NULL is fine). */
void pgconn__free(struct pgconn *c, uint64_t ts);

#endif
