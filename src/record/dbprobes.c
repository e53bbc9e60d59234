// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/db.h"
#include "record/dbprobes.h"
#include "host/procinfo.h"
#include "record/sink.h"

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
	struct sink *sink;	       /* where their executions go */
	struct procfilter_spec filter; /* which clients to follow */
	uint64_t next_scan, gen;
	int scan_err; /* last scan failure, reported once */
	struct dbprobes_name names[DBPROBES_NAMES];
};

/*
 * The cached name of pid, read again once per scan period (a pid can be reused, a backend
 * can serve another client); server: a postgres backend, named by its client's address.
 */
static const char *name_of(struct dbprobes *d, uint32_t pid, bool server)
{
	struct dbprobes_name *n = &d->names[(pid * 2654435761u) % DBPROBES_NAMES];
	struct procinfo pi;

	if (n->pid == pid && n->gen == d->gen)
		return n->name;
	n->pid = pid;
	n->gen = d->gen;
	if (server) {
		if (pgserver__client_addr(pid, n->name, sizeof(n->name)))
			snprintf(n->name, sizeof(n->name), "backend %u", pid);
	} else if (procinfo__read(NULL, pid, &pi)) {
		snprintf(n->name, sizeof(n->name), "pid %u", pid);
	} else {
		/* Named as the wire path names it: the Compose service or container name. */
		sink__client_name(d->sink, pid, pi.comm, n->name, sizeof(n->name));
	}
	return n->name;
}

static void on_libpq(const struct db_exec *x, void *ctx)
{
	struct dbprobes *d = ctx;

	sink__db(d->sink, NULL, x, name_of(d, x->tgid, false), NULL);
}

static void on_usdt(const struct db_exec *x, void *ctx)
{
	struct dbprobes *d = ctx;

	sink__db(d->sink, NULL, x, name_of(d, x->tgid, true), "local postgres");
}

int dbprobes__open(struct dbprobes **out, unsigned paths, struct sink *sink,
		   const struct procfilter_spec *f, size_t text_max, bool verbose, char *err,
		   size_t errsz)
{
	struct dbprobes *d = calloc(1, sizeof(*d));
	int r;

	*out = NULL;
	if (!d) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	d->sink = sink;
	d->filter = *f;
	if (paths & (1u << DB_PATH_LIBPQ)) {
		struct pgclient_opts o = {
			.text_max = text_max,
			.verbose = verbose,
			.want_pid = procfilter_spec__on(f) ? procfilter_spec__match : NULL,
			.want_ctx = &d->filter,
		};

		r = pgclient__open(&d->client, &o, on_libpq, d, err, errsz);
		if (r)
			goto cleanup;
		r = pgclient__scan(d->client);
		if (r < 0) {
			snprintf(err, errsz, "libpq probes: scanning /proc: %s", strerror(-r));
			goto cleanup;
		}
	}
	if (paths & (1u << DB_PATH_USDT)) {
		/* Server backends are never the filtered clients: every local server is seen. */
		struct pgserver_opts o = { .text_max = text_max, .verbose = verbose };

		r = pgserver__open(&d->server, &o, on_usdt, d, err, errsz);
		if (r)
			goto cleanup;
		r = pgserver__scan(d->server);
		if (r < 0) {
			snprintf(err, errsz, "postgres USDT probes: scanning /proc: %s",
				 strerror(-r));
			goto cleanup;
		}
	}
	*out = d;
	return 0;

cleanup:
	dbprobes__close(d);
	return r;
}

void dbprobes__poll(struct dbprobes *d, uint64_t now_ns)
{
	int r = 0;

	if (d->client)
		pgclient__consume(d->client);
	if (d->server)
		pgserver__consume(d->server);
	if (now_ns < d->next_scan)
		return;
	d->next_scan = now_ns + DBPROBES_SCAN_NS;
	d->gen++;
	if (d->client)
		r = pgclient__scan(d->client);
	if (d->server && r >= 0)
		r = pgserver__scan(d->server);
	if (r < 0 && r != d->scan_err)
		fprintf(stderr, "sloprobe: warning: looking for new database clients: %s\n",
			strerror(-r));
	d->scan_err = r < 0 ? r : 0;
}

void dbprobes__stats(struct dbprobes *d, struct pgclient_stats *c, struct pgserver_stats *s)
{
	memset(c, 0, sizeof(*c));
	memset(s, 0, sizeof(*s));
	if (d->client)
		pgclient__stats(d->client, c);
	if (d->server)
		pgserver__stats(d->server, s);
}

uint64_t dbprobes__dropped(const struct pgclient_stats *c, const struct pgserver_stats *s)
{
	return c->bpf[PGCLIENT_STAT_RB_DROPS] + c->bpf[PGCLIENT_STAT_PENDING_LOST] +
	       c->bpf[PGCLIENT_STAT_NO_STATE] + c->bad_events + c->stmts_full +
	       s->bpf[PGSERVER_STAT_RB_DROPS] + s->bpf[PGSERVER_STAT_NO_STATE] + s->bad_events;
}

void dbprobes__run_stats(struct dbprobes *d, uint64_t *run_ns, uint64_t *run_cnt)
{
	uint64_t ns, cnt;

	*run_ns = *run_cnt = 0;
	if (d->client) {
		pgclient__run_stats(d->client, &ns, &cnt);
		*run_ns += ns;
		*run_cnt += cnt;
	}
	if (d->server) {
		pgserver__run_stats(d->server, &ns, &cnt);
		*run_ns += ns;
		*run_cnt += cnt;
	}
}

void dbprobes__close(struct dbprobes *d)
{
	if (!d)
		return;
	pgclient__close(d->client);
	pgserver__close(d->server);
	free(d);
}
