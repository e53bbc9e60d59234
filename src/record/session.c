// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "host/ctrnames.h"
#include "host/proc_net.h"
#include "host/proc_tree.h"
#include "host/sockdiag.h"
#include "lib/command.h"
#include "lib/metricsrv.h"
#include "lib/textesc.h"
#include "probes/bpfobj.h"
#include "probes/handoff_probe.h"
#include "probes/sockio.h"
#include "probes/tlsprobe.h"
#include "proto/db.h"
#include "record/agg.h"
#include "record/cacheagg.h"
#include "record/outagg.h"
#include "record/dbagg.h"
#include "record/dbprobes.h"
#include "record/dbtrack.h"
#include "record/handoff.h"
#include "record/jsonl.h"
#include "record/prom.h"
#include "record/session.h"
#include "record/sink.h"
#include "record/slotrack.h"
#include "record/tracker.h"
#include "run/slo.h"

#define DRAIN_BUSY_MS 5 /* reader period while events arrive */
#define DRAIN_IDLE_MS 100
/*
 * Queries from the probe paths with their own ring buffer can reach us after the response
 * that ends their request: requests wait this long for them (a few reader periods).
 */
#define DB_LATE_NS (3ull * DRAIN_IDLE_MS * 1000000)

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Hand-offs are watched in the processes that serve requests, from their first one on. */
static void on_handoff_proc(void *ctx, uint32_t tgid)
{
	struct handoff_probe **hop = ctx;

	if (*hop)
		handoff_probe__add_proc(*hop, tgid);
}

static void pull_handoff(void *ctx)
{
	struct handoff_probe **hop = ctx;

	if (*hop)
		handoff_probe__poll(*hop);
}

static void on_handoff_ev(void *ctx, const struct handoff_ev *e)
{
	dbtrack__handoff_event(ctx, e);
}

/* The -p trees as they are now: 0 or the exit status. */
static int scope_pids(struct session *s)
{
	const struct record_opts *o = s->o;

	for (int i = 0; i < o->npids; i++) {
		uint32_t *d = NULL;
		size_t nd = 0, cap;
		uint32_t *grown;

		if (procinfo__descendants(NULL, o->pids[i], &d, &nd)) {
			fprintf(stderr, "sloprobe: pid %u: no such process\n", o->pids[i]);
			return RECORD_EXIT_USAGE;
		}
		cap = s->nfilter_pids + nd;
		if (cap > SOCKIO_FILTER_PIDS_MAX)
			cap = SOCKIO_FILTER_PIDS_MAX;
		grown = realloc(s->filter_pids, (cap ? cap : 1) * sizeof(*grown));
		if (!grown) {
			free(d);
			fprintf(stderr, "sloprobe: out of memory\n");
			return RECORD_EXIT_RUNTIME;
		}
		s->filter_pids = grown;
		for (size_t k = 0; k < nd && s->nfilter_pids < cap; k++)
			s->filter_pids[s->nfilter_pids++] = d[k];
		free(d);
	}
	return 0;
}

/*
 * Who runs the command: --user, else under sudo the user who ran sudo, else we as we are.
 * s->sudo gets the user who ran sudo (uid 0 if none), the owner of the report. 0 or the exit
 * status after a one-line message.
 */
static int command_user(struct session *s)
{
	const struct record_opts *o = s->o;
	int err = runas__sudo(&s->sudo);

	s->as = NULL;
	if (err < 0) {
		fprintf(stderr, "sloprobe: SUDO_UID=%s SUDO_GID=%s: %s\n", getenv("SUDO_UID"),
			getenv("SUDO_GID") ? getenv("SUDO_GID") : "(unset)",
			err == -EINVAL ? "not a user and group id (unset them, or use --user)"
				       : strerror(-err));
		return RECORD_EXIT_USAGE;
	}
	if (o->command_exit.n && !o->command) {
		fprintf(stderr, "sloprobe: --command-exit: no COMMAND to run (sloprobe record "
				"--command-exit 99=load-failed -- COMMAND)\n");
		return RECORD_EXIT_USAGE;
	}
	if (o->listen_any && !o->listen) {
		fprintf(stderr, "sloprobe: --listen-any: no --listen address to allow "
				"(sloprobe record --listen 0.0.0.0:9464 --listen-any)\n");
		return RECORD_EXIT_USAGE;
	}
	if (o->user_spec && !o->command) {
		fprintf(stderr,
			"sloprobe: --user %s: no COMMAND to run (sloprobe record --user USER -- "
			"COMMAND)\n",
			o->user_spec);
		return RECORD_EXIT_USAGE;
	}
	if (o->user_spec) {
		if (o->user.uid == geteuid())
			return 0; /* as we are: root keeps root */
		if (geteuid()) {
			fprintf(stderr,
				"sloprobe: --user %s: only root runs COMMAND as another user\n",
				o->user_spec);
			return RECORD_EXIT_USAGE;
		}
		s->as = &o->user;
	} else if (s->sudo.uid) {
		s->as = &s->sudo;
	}
	return 0;
}

/*
 * Processes that already exist are followed from their first syscall on a known fd only if
 * they are known: servers (from their listening sockets) and, for the wire path, clients of
 * the databases (from their established connections), whose pooled connections predate us.
 */
static void seed_procs(struct session *s, bool db_clients)
{
	uint16_t dbports[64] = { 5432 };
	size_t ndb = 1, nc = 0, n = 0;
	struct procinfo_listener *ls = NULL;
	uint32_t *clients = NULL;

	/* With -p, only the given process trees can match: they are added by the caller. */
	const bool by_pid = s->o->npids > 0;

	if (!procinfo__listeners(NULL, &ls, &n)) {
		for (size_t i = 0; i < n; i++) {
			sockio__add_listen_port(s->sockio, ls[i].port);
			if (ls[i].pid && !by_pid)
				sockio__add_proc(s->sockio, ls[i].pid);
			/* A pool hands its first requests off before we could see them read. */
			if (ls[i].pid && !by_pid && s->hop && strcmp(ls[i].comm, "postgres"))
				handoff_probe__add_proc(s->hop, ls[i].pid);
			if (!strcmp(ls[i].comm, "postgres") && ndb < 64 && ls[i].port != 5432)
				dbports[ndb++] = ls[i].port;
		}
		free(ls);
	}
	if (!db_clients || by_pid)
		return;
	for (int i = 0; i < s->o->nports && ndb < 64; i++)
		dbports[ndb++] = s->o->ports[i];
	if (procinfo__clients_of(NULL, dbports, ndb, &clients, &nc))
		return;
	for (size_t i = 0; i < nc; i++)
		sockio__add_proc(s->sockio, clients[i]);
	free(clients);
}

static void make_footer(struct session *s);

/* The counters of the footer and of the drops, as they are now (the report's at the end). */
static void live_counters(struct session *s)
{
	make_footer(s);
	if (s->dbp) {
		dbprobes__stats(s->dbp, &s->meta.pgc, &s->meta.pgs);
		s->meta.db_dropped = dbprobes__dropped(&s->meta.pgc, &s->meta.pgs);
	}
	if (s->hop)
		handoff_probe__stats(s->hop, s->meta.ho_kstats);
	if (s->db) /* as the report counts them */
		s->meta.ho = s->hop ? &s->ho->st : NULL;
}

static int render_metrics(void *ctx, enum metricsrv_fmt fmt, FILE *f)
{
	struct session *s = ctx;
	struct metricsrv_stats ms;
	struct prom_src src = {
		.agg = s->agg,
		.db = s->db,
		.cache = s->cache,
		.out = s->out,
		.meta = &s->meta,
		.fmt = fmt == METRICSRV_OPENMETRICS ? PROM_OPENMETRICS : PROM_TEXT,
	};

	metricsrv__stats(s->msrv, &ms);
	src.scrapes = ms.scrapes;
	live_counters(s);
	return prom__render(f, &src);
}

/*
 * --jsonl is read while we write it (tail -f): the file gets its name at once, empty, by the
 * rules of -o (lib/outfile.h: no symbolic link, a regular file only, replaced rather than
 * truncated, given to the user who ran sudo only where they could have created it); the lines
 * go to the file under that name.
 */
static int open_jsonl(struct session *s, const char *path)
{
	struct outfile_owner ow = {
		.uid = s->sudo.uid,
		.gid = s->sudo.gid,
		.groups = s->sudo.groups,
		.ngroups = s->sudo.ngroups,
	};
	struct outfile jo;
	char err[512];
	int fd;

	if (!strcmp(path, "-")) {
		fprintf(stderr,
			"sloprobe: --jsonl -: not standard output (name a file and tail it)\n");
		return RECORD_EXIT_USAGE;
	}
	if (outfile__open(&jo, path, s->sudo.uid ? &ow : NULL, err, sizeof(err))) {
		textesc__line(stderr, "sloprobe: --jsonl %s", err);
		return RECORD_EXIT_RUNTIME;
	}
	fd = fcntl(jo.fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "sloprobe: --jsonl %s: %s\n", path, strerror(errno));
		outfile__abort(&jo);
		return RECORD_EXIT_RUNTIME;
	}
	if (outfile__commit(&jo, 0, err, sizeof(err))) {
		textesc__line(stderr, "sloprobe: --jsonl %s", err);
		close(fd);
		return RECORD_EXIT_RUNTIME;
	}
	s->jsonl = fdopen(fd, "w");
	if (!s->jsonl) {
		fprintf(stderr, "sloprobe: --jsonl %s: %s\n", path, strerror(errno));
		close(fd);
		return RECORD_EXIT_RUNTIME;
	}
	return 0;
}

static void write_jsonl(struct session *s, double t_s, double iv)
{
	int err;
	struct jsonl_src src = {
		.agg = s->agg,
		.db = s->db,
		.cache = s->cache,
		.slot = s->slot,
		.out = s->out,
	};

	if (!s->jsonl)
		return;
	live_counters(s);
	src.events = s->meta.tstats.events;
	src.dropped = report__dropped(&s->meta);
	err = jsonl__interval(s->jsonl, &src, t_s, iv);
	if (err) {
		fprintf(stderr, "sloprobe: warning: --jsonl %s: %s: no more lines written\n",
			s->o->jsonl, strerror(-err));
		fclose(s->jsonl);
		s->jsonl = NULL;
	}
}

static int out_of_memory(void)
{
	fprintf(stderr, "sloprobe: out of memory\n");
	return RECORD_EXIT_RUNTIME;
}

/*
 * Container names for the rows, and --container turned into the cgroup filter of its
 * container (found now: it must be running).
 */
static int session_names(struct session *s)
{
	const struct record_opts *o = s->o;
	struct ctrnames_opts no = { .data_root = o->docker_root };
	char err[256];

	s->names = ctrnames__new(&no);
	if (!s->names)
		return out_of_memory();
	ctrnames__prefetch(s->names);
	if (!o->container)
		return 0;
	if (o->cgroup) {
		fprintf(stderr, "sloprobe: --container and --cgroup: give one\n");
		return RECORD_EXIT_USAGE;
	}
	if (ctrnames__find_cgroup(s->names, o->container, s->cgroup_buf, sizeof(s->cgroup_buf), err,
				  sizeof(err))) {
		fprintf(stderr, "sloprobe: %s\n", err);
		return RECORD_EXIT_USAGE;
	}
	s->cgroup = s->cgroup_buf;
	return 0;
}

/*
 * What this kernel lacks of the newer hooks (docs/kernels.md): the programs on them are left
 * unloaded, and each feature that loses something says so once, here, in one line.
 */
static void kernel_hooks(struct session *s)
{
	const struct record_opts *o = s->o;
	bool no_arrival;
	struct utsname u;

	kfeat__detect(&s->kfeat);
	for (int i = 0; i < KFEAT_NR; i++)
		if (!s->kfeat.has[i])
			s->kernel_lacks[s->nkernel_lacks++] = kfeat__name(i);
	no_arrival = kfeat__arrival(&s->kfeat) == KFEAT_ARRIVAL_NONE;
	s->from_read = o->from_read || no_arrival;
	if (!s->nkernel_lacks)
		return;
	uname(&u);
	if (!o->from_read && no_arrival)
		fprintf(stderr,
			"sloprobe: note: kernel %s has neither sk_data_ready/sock_recv_length nor "
			"tcp_probe/tcp_rcv_space_adjust: latency runs from the server's first "
			"read, "
			"not the request's arrival (docs/kernels.md)\n",
			u.release);
	if (!s->kfeat.has[KFEAT_RESET_NOSOCK])
		fprintf(stderr,
			"sloprobe: note: kernel %s traces tcp_send_reset only from a full socket: "
			"resets of refused connects are not counted (docs/kernels.md)\n",
			u.release);
}

int session__open(struct session *s, const struct record_opts *o)
{
	struct sockio_opts so = {};
	struct tracker_opts to = {};
	struct sink_opts sko = {};
	char err[512];
	int ret;

	memset(s, 0, sizeof(*s));
	s->o = o;
	s->outf.dirfd = -1;
	s->stats_fd = -1;
	s->child = -1;
	s->meta.command_status = -1;
	s->live = stdout;

	ret = scope_pids(s);
	if (ret)
		return ret;
	kernel_hooks(s);
	if (o->cgroup) {
		struct stat st;

		if (stat(o->cgroup, &st) || !S_ISDIR(st.st_mode)) {
			fprintf(stderr, "sloprobe: --cgroup %s: not a cgroup v2 directory\n",
				o->cgroup);
			return RECORD_EXIT_USAGE;
		}
		s->cgroup = o->cgroup;
	}
	ret = session_names(s);
	if (ret)
		return ret;
	ret = command_user(s);
	if (ret)
		return ret;
	/*
	 * The report goes to a temporary file created now: a path that cannot be written fails
	 * before the load test, and the previous report stays until the new one is whole.
	 */
	if (o->output) {
		struct outfile_owner ow = {
			.uid = s->sudo.uid,
			.gid = s->sudo.gid,
			.groups = s->sudo.groups,
			.ngroups = s->sudo.ngroups,
		};

		if (outfile__open(&s->outf, o->output, s->sudo.uid ? &ow : NULL, err,
				  sizeof(err))) {
			fprintf(stderr, "sloprobe: %s\n", err);
			return RECORD_EXIT_RUNTIME;
		}
		if (s->outf.is_stdout)
			s->live = stderr; /* the report owns stdout */
	}
	if (o->jsonl) {
		ret = open_jsonl(s, o->jsonl);
		if (ret)
			return ret;
	}
	/* Before the probes: an address that cannot be served fails at once. */
	if (o->listen) {
		ret = metricsrv__open(&s->msrv, o->listen, o->listen_any, render_metrics, s, err,
				      sizeof(err));
		if (ret) {
			textesc__line(stderr, "sloprobe: %s", err);
			return ret == -EINVAL ? RECORD_EXIT_USAGE : RECORD_EXIT_RUNTIME;
		}
	}

	bpfobj__set_verbose(o->verbose);
	s->agg = calloc(1, sizeof(*s->agg));
	if (!s->agg || agg__init(s->agg, o->max_endpoints)) {
		free(s->agg);
		s->agg = NULL;
		return out_of_memory();
	}
	if (o->db_probes) {
		struct dbagg_opts dbo = {
			.raw_sql = o->raw_sql,
			.slow_ns = (uint64_t)(o->slow_ms * 1e6),
			.nplus1_min = o->nplus1_min,
		};

		s->db = calloc(1, sizeof(*s->db));
		if (!s->db || dbagg__init(s->db, &dbo)) {
			free(s->db);
			s->db = NULL;
			return out_of_memory();
		}
	}
	if (o->redis) {
		struct cacheagg_opts co = { 0 };

		s->cache = cacheagg__new(&co);
		if (!s->cache)
			return out_of_memory();
	}
	if (o->outbound && outagg__new(&s->out, NULL))
		return out_of_memory();
	/* Requests' queries and calls: one attribution for every dependency followed. */
	if (s->db || s->cache || s->out) {
		s->dbt = calloc(1, sizeof(*s->dbt));
		if (!s->dbt)
			return out_of_memory();
		dbtrack__init(s->dbt, s->db);
		s->dbt->db_off = !s->db;
		if (dbtrack__exemplars(s->dbt) ||
		    dbtrack__set_defer(s->dbt,
				       o->db_probes & ~(1u << DB_PATH_WIRE) ? DB_LATE_NS : 0))
			return out_of_memory();
	}
	if (o->slo) {
		s->slot = calloc(1, sizeof(*s->slot));
		if (!s->slot || slotrack__init(s->slot, o->slo)) {
			free(s->slot);
			s->slot = NULL;
			return out_of_memory();
		}
	}
	/*
	 * One sink for every record, whichever engine made it (record/sink.h); every DB path
	 * needs the inbound requests, to attribute queries to them.
	 */
	sko.routes = o->routes;
	sko.route_distinct = o->route_limit;
	sko.from_read = s->from_read;
	sko.db_wire = o->db_probes & (1u << DB_PATH_WIRE);
	sko.names = s->names;
	s->sink = calloc(1, sizeof(*s->sink));
	if (!s->sink)
		return out_of_memory();
	if (sink__init(s->sink, &sko, s->agg, s->dbt, s->slot)) {
		free(s->sink);
		s->sink = NULL;
		return out_of_memory();
	}
	if (s->cache)
		sink__follow_cache(s->sink, s->cache);
	if (s->out && sink__follow_outbound(s->sink, s->out, o->outbound == RECORD_OUTBOUND_ALL))
		return out_of_memory();
	to.quiet_ns = o->quiet_ms * 1000000ull;
	to.max_conns = o->max_conns;
	to.tls = o->tls;
	s->tracker = tracker__new(&to, s->sink);
	if (!s->tracker)
		return out_of_memory();

	/* One spec for the loaders that pick processes: sockio in the kernel, libpq from /proc. */
	so.procs.pids = s->filter_pids;
	so.procs.npids = s->nfilter_pids;
	so.procs.comm = o->comm;
	so.procs.cgroup = s->cgroup;
	so.ports = o->ports;
	so.nports = o->nports;
	so.head_bytes = o->head_bytes;
	so.max_conns = o->max_conns;
	so.max_procs = o->max_procs;
	so.ringbuf_bytes = o->ringbuf_mb << 20;
	so.clients = (o->db_probes & (1u << DB_PATH_WIRE)) || o->redis || o->outbound;
	so.outbound = o->outbound;
	so.outbound_all = o->outbound == RECORD_OUTBOUND_ALL;
	so.no_arrival = s->from_read;
	so.tls = o->tls;
	so.kfeat = &s->kfeat;
	if (o->bpf_stats) {
		s->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (s->stats_fd < 0)
			fprintf(stderr, "sloprobe: warning: cannot enable BPF run-time stats: %s\n",
				strerror(errno));
	}
	if (sockio__open(&s->sockio, &so, tracker__event, s->tracker, err, sizeof(err))) {
		textesc__line(stderr, "sloprobe: %s", err);
		return RECORD_EXIT_RUNTIME;
	}
	tracker__set_sockio(s->tracker, s->sockio);
	if (o->tls) {
		struct tlsprobe_opts tlo = { .procs = so.procs, .verbose = o->verbose };

		if (tlsprobe__open(&s->tls, s->sockio, &tlo, err, sizeof(err))) {
			textesc__line(stderr, "sloprobe: --tls: %s", err);
			return RECORD_EXIT_RUNTIME;
		}
	}
	if (o->db_probes & ~(1u << DB_PATH_WIRE)) {
		if (dbprobes__open(&s->dbp, o->db_probes, s->sink, &so.procs, o->head_bytes,
				   o->verbose, err, sizeof(err))) {
			textesc__line(stderr, "sloprobe: %s", err);
			return RECORD_EXIT_RUNTIME;
		}
	}
	if (s->dbt) {
		s->ho = calloc(1, sizeof(*s->ho));
		if (!s->ho)
			return out_of_memory();
		handoff__init(s->ho);
		s->ho->on_proc = on_handoff_proc;
		s->ho->pull = pull_handoff;
		s->ho->ctx = &s->hop;
		if (handoff_probe__open(&s->hop, &s->kfeat, on_handoff_ev, s->dbt, err,
					sizeof(err)))
			textesc__line(stderr,
				      "sloprobe: warning: %s: pool workers' queries are shared",
				      err);
		else if (dbtrack__set_handoff(s->dbt, s->ho))
			return out_of_memory();
	}

	seed_procs(s, so.clients);
	for (size_t i = 0; i < s->nfilter_pids; i++)
		sockio__add_proc(s->sockio, s->filter_pids[i]);
	return 0;
}

/* Tested on the option, not on the outfile: a committed one is freed. */
static bool report_to_stdout(const struct record_opts *o)
{
	return o->output && !strcmp(o->output, "-");
}

static unsigned term_rows(FILE *f)
{
	struct winsize ws;

	if (ioctl(fileno(f), TIOCGWINSZ, &ws) || ws.ws_row < 10)
		return 24;
	return ws.ws_row;
}

static const char *describe_scope(const struct record_opts *o, char *buf, size_t sz)
{
	int n = 0;

	buf[0] = '\0';
	for (int i = 0; i < o->npids && n < (int)sz; i++)
		n += snprintf(buf + n, sz - n, "%spid %u", n ? ", " : "", o->pids[i]);
	if (o->comm && n < (int)sz)
		n += snprintf(buf + n, sz - n, "%scomm %s", n ? ", " : "", o->comm);
	for (int i = 0; i < o->nports && n < (int)sz; i++)
		n += snprintf(buf + n, sz - n, "%sport %u", n ? ", " : "", o->ports[i]);
	if (o->container && n < (int)sz)
		n += snprintf(buf + n, sz - n, "%scontainer %s", n ? ", " : "", o->container);
	else if (o->cgroup && n < (int)sz)
		n += snprintf(buf + n, sz - n, "%scgroup %s", n ? ", " : "", o->cgroup);
	if (!n)
		snprintf(buf, sz, "all processes");
	return buf;
}

static void tcp_peer(void *ctx, const struct sockio_tcp_key *k, uint64_t n)
{
	tcpsat__peer(ctx, k, n);
}

static void tcp_listener(void *ctx, const struct sockdiag_listener *l)
{
	tcpsat__listener(ctx, l);
}

/* The kernel's counts now: errors leave the last ones, counted as not read. */
static void tcp_read(struct session *s)
{
	if (sockdiag__listeners(tcp_listener, &s->tcp) ||
	    sockio__tcp_peers(s->sockio, tcp_peer, &s->tcp))
		s->tcp.read_failed++;
}

int session__start(struct session *s)
{
	const struct record_opts *o = s->o;
	char err[512], scope[256];

	gethostname(s->hostname, sizeof(s->hostname) - 1);
	uname(&s->uts);
	s->meta.hostname = s->hostname;
	s->meta.kernel = s->uts.release;
	clock_gettime(CLOCK_REALTIME, &s->meta.start);
	/* The listeners' drops so far are not the run's. */
	if (sockdiag__listeners(tcp_listener, &s->tcp))
		s->tcp.read_failed++;
	tcpsat__start(&s->tcp);
	s->tcp.has_netstat = !sockdiag__netstat(&s->tcp.ns_overflows[0], &s->tcp.ns_drops[0]);
	s->t0 = s->last_tick = mono_ns();
	s->meta.start_ns = s->t0;
	if (s->slot)
		s->slot->start_ns = s->t0; /* warmup counts from here */
	s->next_tick = s->t0 + (uint64_t)(o->interval_s * 1e9);
	if (o->duration_s)
		s->deadline = s->t0 + (uint64_t)(o->duration_s * 1e9);

	s->vo.tty = isatty(fileno(s->live));
	s->vo.hist = o->hist;
	s->vo.db = s->db;
	s->vo.cache = s->cache;
	s->vo.db_rows = 10;
	s->vo.slo = s->slot;
	s->vo.max_rows = o->top ? o->top : s->vo.tty && !o->hist ? term_rows(s->live) - 8 : 20;
	if (!o->quiet) {
		fprintf(s->live, "Tracing HTTP servers (%s)",
			describe_scope(o, scope, sizeof(scope)));
		if (o->command)
			fprintf(s->live, " while %s runs", o->command[0]);
		if (o->command && s->as && s->as->name)
			fprintf(s->live, " as %s", s->as->name);
		else if (o->command && s->as)
			fprintf(s->live, " as uid %u", s->as->uid);
		fprintf(s->live, "... Hit Ctrl-C to end.\n");
		fflush(s->live);
	}
	if (o->command) {
		s->child = command__start(o->command, report_to_stdout(o), s->as, geteuid() != 0,
					  err, sizeof(err));
		if (s->child < 0) {
			textesc__line(stderr, "sloprobe: %s", err);
			return RECORD_EXIT_RUNTIME;
		}
	}
	return 0;
}

int session__poll(struct session *s, int timeout_ms)
{
	int n, status;

	n = sockio__poll(s->sockio, timeout_ms);
	if (n < 0) {
		fprintf(stderr, "sloprobe: reading events: %s\n", strerror(-n));
		return n;
	}
	s->busy = n > 0;
	if (s->tls)
		tlsprobe__poll(s->tls, mono_ns());
	if (s->hop)
		handoff_probe__poll(s->hop);
	if (s->dbp)
		dbprobes__poll(s->dbp, mono_ns());
	if (s->dbp || s->hop)
		dbtrack__tick(s->dbt, mono_ns());
	if (s->msrv)
		metricsrv__poll(s->msrv, mono_ns());
	if (s->child > 0 && waitpid(s->child, &status, WNOHANG) == s->child) {
		s->child = -1;
		s->meta.command_status = command__exit_code(status);
		return 1;
	}
	return 0;
}

static void make_footer(struct session *s)
{
	struct report_meta *m = &s->meta;
	struct view_footer *ft = &s->ft;

	sockio__stats(s->sockio, m->kstats);
	tracker__stats(s->tracker, &m->tstats);
	sink__stats(s->sink, &m->sstats);
	m->hstats = tracker__http_stats(s->tracker);
	memset(ft, 0, sizeof(*ft));
	ft->events = m->tstats.events;
	ft->dropped = report__dropped(m);
	ft->unparsed = report__unframed(m);
	for (unsigned i = 0; i < s->agg->neps; i++)
		ft->aborted += s->agg->eps[i]->aborted;
	ft->conns = m->tstats.conns_live;
	if (s->tcp.npoints) {
		const struct tcpsat_point *p = &s->tcp.points[s->tcp.npoints - 1];

		ft->tcp_drops = p->drops;
		ft->tcp_retrans = p->n[SOCKIO_TCP_RETRANS] + p->n[SOCKIO_TCP_SYN_RETRANS];
		ft->tcp_resets = p->n[SOCKIO_TCP_RST_SENT] + p->n[SOCKIO_TCP_RST_RECV];
	}
}

void session__tick(struct session *s, uint64_t now)
{
	double t_s = (now - s->t0) / 1e9, iv = (now - s->last_tick) / 1e9;

	tracker__tick(s->tracker, now);
	if (s->slot)
		slotrack__roll(s->slot, t_s);
	tcp_read(s);
	tcpsat__roll(&s->tcp, t_s);
	if (!s->o->quiet) {
		make_footer(s);
		if (s->slot) {
			s->ft.slo = true;
			s->ft.slo_pass = s->slot->win.pass;
			s->ft.slo_breach = s->slot->win.breach;
			s->ft.slo_idle = s->slot->win.insufficient;
		}
		view__interval(s->live, s->agg, &s->vo, t_s, iv, &s->ft);
	}
	agg__roll(s->agg, t_s, iv);
	if (s->db)
		dbagg__roll(s->db, t_s, iv);
	if (s->cache)
		cacheagg__roll(s->cache, t_s, iv);
	if (s->out)
		outagg__roll(s->out, t_s);
	write_jsonl(s, t_s, iv);
	s->last_tick = now;
	while (s->next_tick <= now)
		s->next_tick += (uint64_t)(s->o->interval_s * 1e9);
}

int session__run(struct session *s, const volatile sig_atomic_t *stop)
{
	while (!*stop) {
		uint64_t now = mono_ns();
		int64_t wait_ms = ((int64_t)s->next_tick - (int64_t)now) / 1000000;
		int n;

		/*
		 * While events flow, drain every few ms even without a wake-up: short, frequent
		 * batches keep the reader from taking a core away from the server for a long burst
		 * (that showed as a 1 ms p99 on a 2-core host). Idle, wake up less often.
		 */
		if (wait_ms > (s->busy ? DRAIN_BUSY_MS : DRAIN_IDLE_MS))
			wait_ms = s->busy ? DRAIN_BUSY_MS : DRAIN_IDLE_MS;
		if (wait_ms < 0)
			wait_ms = 0;
		n = session__poll(s, (int)wait_ms);
		if (n < 0)
			return RECORD_EXIT_RUNTIME;
		if (n > 0)
			break;
		now = mono_ns();
		if (s->deadline && now >= s->deadline)
			break;
		if (now >= s->next_tick)
			session__tick(s, now);
	}
	s->stop = stop;
	return 0;
}

void session__finish(struct session *s)
{
	const struct record_opts *o = s->o;
	struct report_meta *m = &s->meta;

	if (s->child > 0) {
		m->command_status = command__exit_code(command__stop(s->child));
		s->child = -1;
	}
	/* The servers finish what the load test left in flight: collect it, briefly. */
	for (int i = 0; i < 3; i++) {
		sockio__poll(s->sockio, 50);
		if (s->hop)
			handoff_probe__poll(s->hop);
		if (s->dbp)
			dbprobes__poll(s->dbp, 0);
	}
	tracker__flush(s->tracker, mono_ns());
	if (s->dbt) {
		if (s->dbp)
			dbprobes__poll(s->dbp, 0);
		dbtrack__tick(s->dbt, 0);
	}
	clock_gettime(CLOCK_REALTIME, &m->end);
	m->duration_s = (mono_ns() - s->t0) / 1e9;
	/* Side by side: a drop between the two reads is in one of them only. */
	s->tcp.has_netstat = s->tcp.has_netstat &&
			     !sockdiag__netstat(&s->tcp.ns_overflows[1], &s->tcp.ns_drops[1]);
	tcp_read(s);
	/* The last, partial interval ends the timelines and the SLO windows too. */
	if (m->duration_s > (s->last_tick - s->t0) / 1e9) {
		double iv = m->duration_s - (s->last_tick - s->t0) / 1e9;

		if (s->slot)
			slotrack__roll(s->slot, m->duration_s);
		agg__roll(s->agg, m->duration_s, iv);
		if (s->db)
			dbagg__roll(s->db, m->duration_s, iv);
		if (s->cache)
			cacheagg__roll(s->cache, m->duration_s, iv);
		if (s->out)
			outagg__roll(s->out, m->duration_s);
		tcpsat__roll(&s->tcp, m->duration_s);
		write_jsonl(s, m->duration_s, iv);
	} else if (tcpsat__pending(&s->tcp)) {
		tcpsat__roll(&s->tcp, m->duration_s); /* the last read's, in the last interval */
	}
	m->tcp = &s->tcp;
	m->interval_s = o->interval_s;
	if (s->slot) {
		slotrack__finish(s->slot);
		slotrack__tally(s->slot, &s->tally);
		m->slo = s->slot;
	}
	m->command = (const char *const *)o->command;
	m->command_exit = &o->command_exit;
	m->pids = o->pids;
	m->npids = o->npids;
	m->comm = o->comm;
	m->cgroup = s->cgroup;
	m->ports = o->ports;
	m->nports = o->nports;
	m->quiet_ms = o->quiet_ms;
	m->from_read = s->from_read;
	m->kernel_lacks = s->kernel_lacks;
	m->nkernel_lacks = s->nkernel_lacks;
	m->max_drop_pct = o->max_drop_pct;
	if (s->db) {
		dbagg__finish(s->db, m->duration_s);
		dbtrack__finish(s->dbt, s->agg);
		m->db = s->db;
		m->dbt = &s->dbt->st;
		m->ho = s->hop ? &s->ho->st : NULL;
		m->db_paths = o->db_probes;
	}
	if (s->cache) {
		cacheagg__finish(s->cache, m->duration_s);
		m->cache = s->cache;
	}
	if (s->out) {
		outagg__finish(s->out);
		m->out = s->out;
	}
	if (s->dbp) {
		dbprobes__stats(s->dbp, &m->pgc, &m->pgs);
		m->db_dropped = dbprobes__dropped(&m->pgc, &m->pgs);
	}
	if (s->stats_fd >= 0) {
		m->bpf_stats = true;
		sockio__run_stats(s->sockio, &m->bpf_run_ns, &m->bpf_run_cnt);
		if (s->dbp)
			dbprobes__run_stats(s->dbp, &m->db_run_ns, &m->db_run_cnt);
		if (s->hop)
			handoff_probe__run_stats(s->hop, &m->ho_run_ns, &m->ho_run_cnt);
	}
	m->ho_loaded = s->hop != NULL;
	m->deps = s->dbt ? &s->dbt->st : NULL;
	m->ex = s->dbt ? s->dbt->ex : NULL;
	if (s->hop)
		handoff_probe__stats(s->hop, m->ho_kstats);
	m->tls = s->tls != NULL;
	if (s->tls) {
		struct tlsprobe_stats ts;

		tlsprobe__stats(s->tls, &ts);
		s->tls_files = ts.files;
		s->tls_failed = ts.files_failed;
	}
	make_footer(s);
	metricsrv__close(s->msrv); /* the run is over: a scrape now would see it half-closed */
	s->msrv = NULL;
	if (s->jsonl && fclose(s->jsonl))
		fprintf(stderr, "sloprobe: warning: --jsonl %s: %s\n", o->jsonl, strerror(errno));
	s->jsonl = NULL;
	/* Detach before the slow part: nothing traced from here on. */
	tlsprobe__close(s->tls);
	s->tls = NULL;
	sockio__close(s->sockio);
	s->sockio = NULL;
	tracker__set_sockio(s->tracker, NULL);
	dbprobes__close(s->dbp);
	s->dbp = NULL;
	handoff_probe__close(s->hop);
	s->hop = NULL;
}

/*
 * The exit status of a run whose COMMAND exited with status, ret the status so far. A load test
 * that failed makes every figure doubtful: that outranks a breach, unless --command-exit says
 * the status is the load test's own verdict (k6's 99: its thresholds failed).
 */
_Static_assert(CMDEXIT_OK == RECORD_EXIT_OK && CMDEXIT_BREACH == RECORD_EXIT_SLO &&
		       CMDEXIT_LOAD_FAILED == RECORD_EXIT_LOAD_FAILED,
	       "--command-exit maps to record's own exit codes");

static int command_failed(const struct record_opts *o, int status, int ret)
{
	int code = cmdexit__lookup(&o->command_exit, status);

	if (code < 0) {
		textesc__line(stderr, "sloprobe: %s exited with status %d", o->command[0], status);
		return RECORD_EXIT_RUNTIME;
	}
	textesc__line(stderr, "sloprobe: %s exited with status %d (--command-exit %d=%s)",
		      o->command[0], status, status, cmdexit__name(code));
	if (code == RECORD_EXIT_LOAD_FAILED)
		return code;
	/* ok and breach leave incomplete data (4) its rank above a breach */
	return code == RECORD_EXIT_SLO && ret == RECORD_EXIT_OK ? code : ret;
}

int session__write(struct session *s)
{
	const struct record_opts *o = s->o;
	const struct view_footer *ft = &s->ft;
	bool incomplete = report__incomplete(&s->meta);
	char err[512];
	int ret;

	if (!o->quiet) {
		s->vo.tty = false;
		s->vo.max_rows = o->top;
		view__summary(s->live, s->agg, &s->vo, s->meta.duration_s, ft);
		if (s->slot)
			slotrack__print(s->slot, s->live, incomplete);
	}
	if (o->output) {
		if (outfile__commit(&s->outf, report__write(s->outf.f, s->agg, &s->meta), err,
				    sizeof(err))) {
			fprintf(stderr, "sloprobe: writing the report: %s\n", err);
			return RECORD_EXIT_RUNTIME;
		}
		if (!report_to_stdout(o) && !o->quiet)
			fprintf(s->live, "Report written to %s\n", o->output);
	}
	if (ft->dropped)
		fprintf(stderr,
			"sloprobe: warning: %llu events dropped, %.3g %% of all (see \"events\" in "
			"the report; try --ringbuf-mb)%s\n",
			(unsigned long long)ft->dropped, slo__drop_pct(ft->dropped, ft->events),
			!incomplete ? ""
			: s->slot   ? ": SLO verdicts judged on incomplete data"
				    : ": more than --max-drop-pct");
	if (o->tls && !s->tls_files)
		fprintf(stderr,
			"sloprobe: warning: --tls: no OpenSSL found in the traced processes "
			"(docs/tls.md says which libraries are covered)\n");
	if (s->tls_failed)
		fprintf(stderr,
			"sloprobe: warning: --tls: %llu OpenSSL files not probed (see -v)\n",
			(unsigned long long)s->tls_failed);
	if (ft->unparsed)
		fprintf(stderr,
			"sloprobe: warning: %llu transfers could not be framed (see "
			"\"http_parser\" "
			"and \"db_stats\" wire_* in the report)\n",
			(unsigned long long)ft->unparsed);
	ret = RECORD_EXIT_OK;
	if (s->tally.breach) {
		fprintf(stderr, "sloprobe: SLO breached: %u of %u objectives (%s)\n",
			s->tally.breach, s->tally.pass + s->tally.breach + s->tally.insufficient,
			o->slo->file);
		ret = RECORD_EXIT_SLO;
	}
	/* A verdict on a run not seen whole must not pass CI, nor fail it as a breach. */
	if (s->slot && incomplete) {
		fprintf(stderr,
			"sloprobe: SLO verdicts judged on incomplete data: %.3g %% of events lost "
			"(--max-drop-pct %g)\n",
			slo__drop_pct(ft->dropped, ft->events), o->max_drop_pct);
		ret = RECORD_EXIT_INCOMPLETE;
	}
	if (o->command && s->meta.command_status != 0 && !*s->stop)
		ret = command_failed(o, s->meta.command_status, ret);
	return ret;
}

void session__close(struct session *s)
{
	if (s->child > 0)
		command__stop(s->child);
	tlsprobe__close(s->tls);
	sockio__close(s->sockio);
	tracker__free(s->tracker);
	ctrnames__free(s->names);
	s->names = NULL;
	if (s->sink) {
		sink__free(s->sink);
		free(s->sink);
	}
	dbprobes__close(s->dbp);
	handoff_probe__close(s->hop);
	if (s->dbt) {
		dbtrack__free(s->dbt);
		free(s->dbt);
	}
	if (s->ho) {
		handoff__free(s->ho);
		free(s->ho);
	}
	if (s->db) {
		dbagg__free(s->db);
		free(s->db);
	}
	cacheagg__free(s->cache);
	outagg__free(s->out);
	tcpsat__free(&s->tcp);
	if (s->slot) {
		slotrack__free(s->slot);
		free(s->slot);
	}
	if (s->agg) {
		agg__free(s->agg);
		free(s->agg);
	}
	/* Not written whole: the temporary file goes, the previous report stays. */
	outfile__abort(&s->outf);
	runas__free(&s->sudo);
	if (s->stats_fd >= 0)
		close(s->stats_fd);
	metricsrv__close(s->msrv);
	if (s->jsonl)
		fclose(s->jsonl);
	free(s->filter_pids);
}
