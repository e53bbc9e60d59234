/* SPDX-License-Identifier: GPL-2.0-only */
/* The JSON report of a recording (schema sloprobe.report/v1, docs/report.schema.json). */
#ifndef SLOPROBE_REPORT_H
#define SLOPROBE_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <linux/types.h>

#include "record/agg.h"
#include "record/cacheagg.h"
#include "record/cmdexit.h"
#include "record/outagg.h"
#include "record/dbagg.h"
#include "record/dbtrack.h"
#include "proto/http.h"
#include "abi/sockio.h"
#include "record/sink.h"
#include "record/tracker.h"
#include "probes/pgclient.h"
#include "probes/pgserver.h"
#include "record/slotrack.h"
#include "run/runfile.h"

struct report_meta {
	const char *hostname;
	const char *kernel;
	const char *const *kernel_lacks; /* hooks the kernel lacks (probes/kfeat.h), NULL */
	unsigned nkernel_lacks;
	struct timespec start, end; /* CLOCK_REALTIME */
	uint64_t start_ns;	    /* the start, CLOCK_MONOTONIC (event timestamps' clock) */
	double duration_s;
	const char *const *command; /* argv of the traced command, NULL-terminated, or NULL */
	int command_status;	    /* exit code, 128 + signal, -1 if none */
	const struct cmdexit_map *command_exit; /* --command-exit as given, or NULL */
	const uint32_t *pids;			/* filters as given */
	int npids;
	const char *comm;
	const char *cgroup;
	const uint16_t *ports;
	int nports;
	uint64_t kstats[SOCKIO_STAT_NR];
	struct tracker_stats tstats;
	struct sink_stats sstats;
	const struct http_stats *hstats;
	bool bpf_stats; /* kernel.bpf_stats_enabled was on: run_* are valid */
	uint64_t bpf_run_ns, bpf_run_cnt;
	double quiet_ms;
	bool from_read;		/* --latency-from read */
	double max_drop_pct;	/* --max-drop-pct: verdicts beyond it are on incomplete data */
	const struct dbagg *db; /* NULL: database tracing off */
	const struct cacheagg *cache; /* NULL: cache commands not followed; cacheagg__finish'ed */
	const struct outagg *out;     /* NULL: outbound HTTP not followed; outagg__finish'ed */
	const struct tcpsat *tcp;     /* NULL: not read (the report was not recorded here) */
	const struct dbtrack_stats *dbt;
	const struct dbtrack_stats *deps;    /* dependency calls' attribution; NULL */
	const struct exemplars *ex;	     /* requests kept whole; NULL: none kept */
	unsigned db_paths;		     /* --db-probe: 1 << enum db_path */
	struct pgclient_stats pgc;	     /* libpq path; zero when off */
	struct pgserver_stats pgs;	     /* server USDT path; zero when off */
	uint64_t db_dropped;		     /* queries lost on those two paths */
	uint64_t db_run_ns, db_run_cnt;	     /* their BPF programs, with bpf_stats */
	double interval_s;		     /* timeline interval */
	const struct slotrack *slo;	     /* NULL: no --slo */
	const struct handoff_stats *ho;	     /* NULL: hand-offs not followed */
	uint64_t ho_kstats[HANDOFF_STAT_NR]; /* bpf/handoff.bpf.c counters */
	bool ho_loaded;			     /* the hand-off probe ran (for any client) */
	uint64_t ho_run_ns, ho_run_cnt;	     /* its programs, with bpf_stats */
	bool tls;			     /* --tls on: OpenSSL's calls followed */
};

/* Events lost anywhere between the kernel and the table: what "dropped" means in reports. */
uint64_t report__dropped(const struct report_meta *m);
/* More was lost than --max-drop-pct allows: the run's SLO verdicts cannot be trusted. */
bool report__incomplete(const struct report_meta *m);
/* Hand-off events lost (ring full): the attribution of some queries falls back to shared. */
uint64_t report__handoff_lost(const struct report_meta *m);
/* Queries the PostgreSQL wire parser could not keep (its bounds on memory). */
uint64_t report__wire_lost(const struct report_meta *m);
/* Transfers whose bytes could not be framed: unparsed HTTP, PostgreSQL framing lost. */
uint64_t report__unframed(const struct report_meta *m);
/*
 * The recording as the report model (struct run, src/run/runfile.h), for the one writer of the
 * schema. 0 or -ENOMEM; run__free(r) after use.
 */
int report__snapshot(struct run *r, const struct agg *a, const struct report_meta *m);
/* report__snapshot written by run__write: 0, or a negative errno when writing failed. */
int report__write(FILE *f, const struct agg *a, const struct report_meta *m);
/* "2026-11-24T10:00:00.123Z" */
void report__iso8601(const struct timespec *ts, char *out, size_t outsz);

#endif
