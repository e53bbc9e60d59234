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

struct dbprobes;

/*
 * paths: 1 << DB_PATH_LIBPQ and/or 1 << DB_PATH_USDT. Opens, then scans once, so queries of
 * processes running now are seen from the start. 0, or a negative errno and a one-line reason
 * in err.
 */
int dbprobes__open(struct dbprobes **out, unsigned paths, struct sink *sink,
		   const struct procfilter_spec *f, size_t text_max, bool verbose, char *err,
		   size_t errsz);
/* Drains both ring buffers; scans for new processes when it is time. */
void dbprobes__poll(struct dbprobes *d, uint64_t now_ns);
void dbprobes__stats(struct dbprobes *d, struct pgclient_stats *c, struct pgserver_stats *s);
/* Events lost on these paths: ring buffer full, state lost, bad events. */
uint64_t dbprobes__dropped(const struct pgclient_stats *c, const struct pgserver_stats *s);
void dbprobes__run_stats(struct dbprobes *d, uint64_t *run_ns, uint64_t *run_cnt);
/* d may be NULL. */
void dbprobes__close(struct dbprobes *d);

#endif
