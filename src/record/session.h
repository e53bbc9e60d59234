/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One recording, in phases (the model: retsnoop's mass_attacher): open loads the probes and
 * sets up the tables, start starts the clock and the command, run reads and ticks until the
 * end, finish collects what is in flight and detaches, write prints the summary and writes
 * the report, close frees. Each phase undoes only what it did; close undoes whatever was
 * done, after a failure in any phase too. The phases print their own one-line errors.
 */
#ifndef SLOPROBE_SESSION_H
#define SLOPROBE_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/utsname.h>

#include "abi/sockio.h"
#include "lib/outfile.h"
#include "lib/runas.h"
#include "probes/kfeat.h"
#include "record/cmdexit.h"
#include "record/jsonl.h"
#include "record/report.h"
#include "record/tcpsat.h"
#include "record/view.h"

#define RECORD_MAX_PIDS	 64
#define RECORD_MAX_PORTS SOCKIO_FILTER_PORTS_MAX

/* sloprobe record's exit status. */
enum record_exit {
	RECORD_EXIT_OK = 0,
	RECORD_EXIT_RUNTIME = 1,
	RECORD_EXIT_USAGE = 2,
	RECORD_EXIT_SLO = 3,	     /* an SLO objective breached */
	RECORD_EXIT_INCOMPLETE = 4,  /* --slo, and more lost than --max-drop-pct: not trusted */
	RECORD_EXIT_LOAD_FAILED = 5, /* COMMAND failed with a status --command-exit maps so */
};

struct route_set;
struct slo_set;

/* The command line of `record`; the session only reads it, and it must outlive the session. */
/* --outbound: which outbound HTTP calls and connects are followed. */
enum record_outbound {
	RECORD_OUTBOUND_OFF = 0,
	/* every traced caller's, but a process that serves nothing calling a port that listens on
	 * this host (a load generator, a script calling a local service) */
	RECORD_OUTBOUND_ON,
	RECORD_OUTBOUND_ALL, /* those too: the clients' view of the traced endpoints */
};

struct record_opts {
	uint32_t pids[RECORD_MAX_PIDS];
	int npids;
	uint16_t ports[RECORD_MAX_PORTS];
	int nports;
	const char *comm;
	const char *cgroup;
	const char *container;	 /* --container NAME|ID: its cgroup v2 becomes the filter */
	const char *docker_root; /* --docker-root: Docker's data root, NULL: daemon.json's */
	double interval_s;
	double duration_s;  /* 0: until the end of the command or a signal */
	const char *output; /* NULL: no report, "-": standard output */
	bool hist;
	bool quiet;
	bool verbose;
	bool bpf_stats;
	unsigned db_probes; /* 1 << enum db_path */
	bool redis;	    /* follow Redis clients (--redis) */
	unsigned outbound;  /* enum record_outbound (--outbound) */
	bool raw_sql;
	double slow_ms;
	unsigned nplus1_min;
	struct route_set *routes;
	unsigned max_conns;
	unsigned max_procs;
	unsigned ringbuf_mb;
	unsigned max_endpoints;
	unsigned route_limit;
	unsigned head_bytes;
	unsigned quiet_ms;
	bool from_read;
	bool tls; /* --tls: plaintext of OpenSSL's calls (probes/tlsprobe.h) */
	unsigned top;
	char **command;	       /* NULL-terminated, or NULL */
	const char *user_spec; /* --user as given, or NULL */
	struct runas user;     /* --user */
	struct slo_set *slo;
	double max_drop_pct;
	struct cmdexit_map command_exit; /* --command-exit */
	const char *listen;		 /* --listen ADDR:PORT, or NULL */
	bool listen_any;		 /* --listen-any: a non-loopback address is allowed */
	const char *jsonl;		 /* --jsonl FILE, or NULL */
};

/*
 * A recording. What is set up is known by its own pointer (NULL: not done, or not wanted);
 * it points into itself, so it stays where it is from open to close.
 */
struct session {
	const struct record_opts *o;
	uint32_t *filter_pids; /* the -p trees as they were at the start */
	size_t nfilter_pids;
	struct runas sudo;	/* the user who ran sudo: the report's owner */
	const struct runas *as; /* who runs the command; NULL: as we are */
	struct outfile outf;
	FILE *live; /* the live view and the summary: stderr when the report owns stdout */

	struct ctrnames *names; /* container names from the engine */
	/* the cgroup filter: --cgroup, or the directory of --container's; NULL: none */
	const char *cgroup;
	char cgroup_buf[512];

	struct agg *agg;
	struct dbagg *db;	/* NULL: no query tracing */
	struct dbtrack *dbt;	/* with db or cache: requests' queries and calls */
	struct cacheagg *cache; /* NULL: Redis not followed */
	struct outagg *out;	/* NULL: outbound HTTP not followed */
	struct slotrack *slot;	/* NULL: no --slo */
	struct tcpsat tcp;	/* listeners' drops, TCP retransmits and resets */
	struct sink *sink;	/* where the records go */
	struct tracker *tracker;
	struct sockio *sockio;
	struct dbprobes *dbp;	   /* NULL: no libpq or usdt path */
	struct handoff *ho;	   /* with db */
	struct handoff_probe *hop; /* NULL: hand-offs not followed */
	struct tlsprobe *tls;	   /* NULL: --tls off */
	int stats_fd;		   /* kernel.bpf_stats_enabled held on, or -1 */
	struct metricsrv *msrv;	   /* NULL: no --listen */
	FILE *jsonl;		   /* NULL: no --jsonl */

	struct kfeat kfeat; /* the running kernel's newer hooks */
	/* the hooks it lacks (kfeat__name), for the report's host.kernel_lacks */
	const char *kernel_lacks[KFEAT_NR];
	unsigned nkernel_lacks;
	bool from_read; /* --latency-from read, or a kernel without the arrival hooks */

	struct report_meta meta;
	struct slotrack_tally tally;
	/* OpenSSL files probed and not probeable, with --tls */
	uint64_t tls_files, tls_failed;
	struct view_opts vo;
	struct view_footer ft;
	char hostname[256];
	struct utsname uts;
	/* CLOCK_MONOTONIC; deadline 0: none */
	uint64_t t0, last_tick, next_tick, deadline;
	bool busy;   /* events came in the last read */
	pid_t child; /* the command while it runs, else -1 */
	/* run's stop flag: a signal, even one during finish, spares a failed command's verdict */
	const volatile sig_atomic_t *stop;
};

/*
 * Checks the scope and the output, creates the report's temporary file, sets up the tables
 * and loads and attaches the probes (the loaders do both at once). 0 or the exit status.
 */
int session__open(struct session *s, const struct record_opts *o);
/* The clock, the live view's banner, then the command: it starts traced. 0 or the exit status. */
int session__start(struct session *s);
/* Reads the events for at most timeout_ms. 0, 1 the command has ended, or a negative errno. */
int session__poll(struct session *s, int timeout_ms);
/* The end of an interval at now (CLOCK_MONOTONIC): the live view, the timelines' rolls. */
void session__tick(struct session *s, uint64_t now);
/* Polls and ticks until *stop (a signal), the command's end or the duration: 0 or exit status. */
int session__run(struct session *s, const volatile sig_atomic_t *stop);
/* Stops the command, collects what was in flight, closes the last interval, detaches. */
void session__finish(struct session *s);
/* The summary, the report and the warnings. The run's exit status. */
int session__write(struct session *s);
/* Frees what the phases set up; the report's temporary file goes if it was not committed. */
void session__close(struct session *s);

#endif
