/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The optional database paths of `record`: libpq uprobes (src/pgclient.c) and the server's
 * USDT probes (src/pgserver.c), opened together, scanned for new processes once a second,
 * drained on the record loop's timer, and fed into the same query tracker as the wire path.
 */
#ifndef SLOPROBE_DBPROBES_H
#define SLOPROBE_DBPROBES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probes/pgclient.h"
#include "probes/pgserver.h"
#include "probes/procfilter.h"

struct sink;

#define DBPROBES_SCAN_NS 1000000000ull /* new processes are looked for this often */
#define DBPROBES_NAMES	 1024	       /* process names cached, direct-mapped by pid */

/* Reading /proc for every query would cost more than the query: names are cached. */
struct dbprobes_name {
	uint32_t pid;
	uint64_t gen; /* scan period it was read in; older ones are read again */
	char name[64];
};

struct dbprobes {
	struct pgclient *client;
	struct pgserver *server;
	struct sink *sink; /* where their executions go */
	struct procfilter_spec filter; /* which clients to follow */
	uint64_t next_scan, gen;
	int scan_err; /* last scan failure, reported once */
	struct dbprobes_name names[DBPROBES_NAMES];
};

/*
 * paths: 1 << DB_PATH_LIBPQ and/or 1 << DB_PATH_USDT. Opens, then scans once, so queries of
 * processes running now are seen from the start. One-line reason in err on failure.
 */
int dbprobes__open(struct dbprobes *d, unsigned paths, struct sink *sink,
		   const struct procfilter_spec *f, size_t text_max, bool verbose, char *err,
		   size_t errsz);
/* Drains both ring buffers; scans for new processes when it is time. */
void dbprobes__poll(struct dbprobes *d, uint64_t now_ns);
void dbprobes__stats(struct dbprobes *d, struct pgclient_stats *c, struct pgserver_stats *s);
/* Events lost on these paths: ring buffer full, state lost, bad events. */
uint64_t dbprobes__dropped(const struct pgclient_stats *c, const struct pgserver_stats *s);
void dbprobes__run_stats(struct dbprobes *d, uint64_t *run_ns, uint64_t *run_cnt);
void dbprobes__close(struct dbprobes *d);

#endif
