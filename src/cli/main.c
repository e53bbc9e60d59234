// SPDX-License-Identifier: GPL-2.0-only
/*
 * sloprobe record: per-endpoint HTTP latency of the servers on this host, from syscall
 * tracepoints, with no change to the applications.
 */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "record/agg.h"
#include "analyze/analyze.h"
#include "lib/argperr.h"
#include "host/proc_net.h"
#include "host/proc_tree.h"
#include "record/report.h"
#include "proto/route.h"
#include "probes/bpfobj.h"
#include "probes/sockio.h"
#include "proto/db.h"
#include "record/dbagg.h"
#include "record/dbprobes.h"
#include "record/dbtrack.h"
#include "probes/handoff_probe.h"
#include "proto/openapi.h"
#include "lib/outfile.h"
#include "lib/runas.h"
#include "run/slo.h"
#include "record/slotrack.h"
#include "lib/textesc.h"
#include "record/sink.h"
#include "record/tracker.h"
#include "record/view.h"

enum exit_code {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1,
	EXIT_USAGE = 2,
	EXIT_SLO = 3,	     /* an SLO objective breached */
	EXIT_INCOMPLETE = 4, /* --slo, and more lost than --max-drop-pct: verdicts not trusted */
};

#define MAX_PIDS      64
#define DRAIN_BUSY_MS 5 /* reader period while events arrive */
#define DRAIN_IDLE_MS 100
/*
 * Queries from the probe paths with their own ring buffer can reach us after the response
 * that ends their request: requests wait this long for them (a few reader periods).
 */
#define DB_LATE_NS (3ull * DRAIN_IDLE_MS * 1000000)
#define MAX_PORTS  SOCKIO_FILTER_PORTS_MAX

static struct env {
	uint32_t pids[MAX_PIDS];
	int npids;
	uint16_t ports[MAX_PORTS];
	int nports;
	const char *comm;
	const char *cgroup;
	double interval_s;
	double duration_s;
	const char *output;
	bool hist;
	bool quiet;
	bool verbose;
	bool bpf_stats;
	unsigned db_probes; /* 1 << enum db_path */
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
	unsigned top;
	char **command;
	const char *user_spec; /* --user */
	struct runas user;
	struct slo_set *slo;
	double max_drop_pct;
} env = {
	.max_drop_pct = SLO_MAX_DROP_PCT,
	.interval_s = 1,
	.quiet_ms = 200,
	.db_probes = 1u << DB_PATH_WIRE,
	.slow_ms = 1000,
};

const char *argp_program_version = "sloprobe " SLOPROBE_VERSION;
const char *argp_program_bug_address = "https://github.com/sloprobe/sloprobe/issues";

static const char doc[] =
	"Per-endpoint HTTP latency of the servers on this host, live and as a JSON\n"
	"report.\n"
	"\n"
	"Traces until Ctrl-C, until -d SECONDS have passed, or until COMMAND (typically\n"
	"the load test) exits. Latency runs from the request's arrival at the server's\n"
	"socket to the last response byte written.\n"
	"\n"
	"EXAMPLES:\n"
	"  sloprobe record                     # all HTTP servers, until Ctrl-C\n"
	"  sloprobe record -d 30 -o run.json   # 30 seconds, then a JSON report\n"
	"  sloprobe record -P 8000 -- wrk -d20s http://127.0.0.1:8000/\n"
	"                                      # trace while the load test runs\n"
	"  sloprobe record -p 4242 --hist      # one process and its children\n"
	"  sloprobe record --comm nginx -i 5   # processes named nginx, 5 s intervals\n"
	"  sloprobe record --cgroup /sys/fs/cgroup/system.slice/docker-<id>.scope\n"
	"  sloprobe record -r '/v1/users/{id}/orders' -r '/static/{file:path}'\n"
	"\n"
	"COMMAND runs as the user who ran sudo (--user picks another, --user root keeps\n"
	"root). The report is replaced only once complete, mode 0600; a symbolic link,\n"
	"FIFO, device or directory is refused (docs/security.md).\n"
	"\n"
	"Exit status: 0 success, 1 runtime error (or COMMAND failed), 2 usage error (or a bad "
	"SLO file), 3 an SLO objective breached (--slo), 4 SLOs judged on incomplete data (--slo, "
	"more events lost than --max-drop-pct).";

enum {
	OPT_CGROUP = 1000,
	OPT_MAX_CONNS,
	OPT_MAX_PROCS,
	OPT_RINGBUF,
	OPT_MAX_ENDPOINTS,
	OPT_ROUTE_LIMIT,
	OPT_HEAD_BYTES,
	OPT_QUIET_MS,
	OPT_BPF_STATS,
	OPT_DB_PROBE,
	OPT_RAW_SQL,
	OPT_SLOW_MS,
	OPT_NPLUS1,
	OPT_SLO,
	OPT_ROUTES_FROM,
	OPT_LATENCY_FROM,
	OPT_MAX_DROP_PCT,
	OPT_USER,
};

static const struct argp_option opts[] = {
	{ NULL, 0, NULL, 0, "What to trace:", 1 },
	{ "pid", 'p', "PID", 0, "Trace this process and its descendants (repeatable)", 1 },
	{ "comm", 'c', "NAME", 0, "Trace processes with this name", 1 },
	{ "port", 'P', "PORT", 0, "Trace connections on this local or remote port (repeatable)",
	  1 },
	{ "cgroup", OPT_CGROUP, "PATH", 0, "Trace processes in this cgroup v2 directory", 1 },
	{ "route", 'r', "PATTERN", 0,
	  "Name a route, e.g. /v1/users/{id}/orders (repeatable; {x}, {x:int}, {x:path}, *)", 1 },
	{ "routes-from", OPT_ROUTES_FROM, "FILE", 0,
	  "Take the routes from an OpenAPI document (JSON, e.g. FastAPI's /openapi.json)", 1 },
	{ "latency-from", OPT_LATENCY_FROM, "WHEN", 0,
	  "Start latency at the request's 'arrival' at the socket (default: queueing included, "
	  "as the client sees it) or at the server's first 'read'",
	  1 },
	{ "slo", OPT_SLO, "FILE", 0,
	  "Judge the objectives of this SLO file (docs/slo.md): breaches marked live, verdict at "
	  "the end, exit status 3 if one breached",
	  1 },
	{ "max-drop-pct", OPT_MAX_DROP_PCT, "PCT", 0,
	  "Verdicts of a run that lost more than PCT % of its events are judged on incomplete "
	  "data: a warning, and exit status 4 with --slo (default 0.1)",
	  1 },
	{ NULL, 0, NULL, 0, "Databases (PostgreSQL):", 2 },
	{ "db-probe", OPT_DB_PROBE, "LIST", 0,
	  "How to see queries, a list of: wire (client protocol on the socket), libpq (uprobes "
	  "on libpq), usdt (server probes), none (default: wire)",
	  2 },
	{ "raw-sql", OPT_RAW_SQL, NULL, 0,
	  "Keep one raw query text per fingerprint, literals included (off: privacy)", 2 },
	{ "slow-ms", OPT_SLOW_MS, "MS", 0, "Slow query threshold (default 1000)", 2 },
	{ "n-plus-one", OPT_NPLUS1, "N", 0,
	  "Consecutive runs of one query that make an N+1 (default 5)", 2 },
	{ NULL, 0, NULL, 0, "Output:", 3 },
	{ "interval", 'i', "SECONDS", 0, "Live view interval (default 1)", 3 },
	{ "duration", 'd', "SECONDS", 0, "Stop after this long", 3 },
	{ "output", 'o', "FILE", 0,
	  "Write the JSON report to FILE, mode 0600, replaced once complete ('-' for stdout)", 3 },
	{ "hist", 'H', NULL, 0, "Show a latency histogram per endpoint", 3 },
	{ "top", 'n', "N", 0, "Show at most N endpoints per interval (default: fit the terminal)",
	  3 },
	{ "quiet", 'q', NULL, 0, "No live view", 3 },
	{ "verbose", 'v', NULL, 0, "Show libbpf debug output", 3 },
	{ NULL, 0, NULL, 0, "Limits:", 4 },
	{ "max-conns", OPT_MAX_CONNS, "N", 0, "Connections tracked at once (default 65536)", 4 },
	{ "max-procs", OPT_MAX_PROCS, "N", 0, "Processes tracked at once (default 16384)", 4 },
	{ "ringbuf-mb", OPT_RINGBUF, "MB", 0, "Ring buffer size, power of two (default 16)", 4 },
	{ "max-endpoints", OPT_MAX_ENDPOINTS, "N", 0, "Endpoint rows kept (default 2000)", 4 },
	{ "route-limit", OPT_ROUTE_LIMIT, "N", 0,
	  "Distinct values of a path segment before it collapses to {*} (default 100)", 4 },
	{ "head-bytes", OPT_HEAD_BYTES, "N", 0,
	  "HTTP bytes captured from the start of a transfer (64-4096, default 512)", 4 },
	{ "quiet-ms", OPT_QUIET_MS, "MS", 0,
	  "End a response of unknown length after this much silence (default 200)", 4 },
	{ "bpf-stats", OPT_BPF_STATS, NULL, 0,
	  "Measure the in-kernel cost of the BPF programs (kernel.bpf_stats_enabled)", 4 },
	{ NULL, 0, NULL, 0, "The COMMAND after --:", 5 },
	{ "user", OPT_USER, "USER", 0,
	  "Run COMMAND as USER (name or uid) with its groups and no capabilities (default: "
	  "the user who ran sudo, SUDO_UID; else the caller; 'root' keeps root)",
	  5 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Show this help", 0 },
	{},
};

static int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	if (!*s || *s == '-')
		return -EINVAL;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 31 * 86400.0)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_db_probes(const char *arg, unsigned *out)
{
	/* Paths that exist in this build. */
	const unsigned avail = (1u << DB_PATH_NR) - 1;
	char buf[128], *save = NULL, *tok;
	unsigned m = 0;

	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", arg);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int p;

		if (!strcmp(tok, "none"))
			continue;
		for (p = 0; p < DB_PATH_NR && strcmp(tok, dbagg__path_name(p)); p++)
			;
		if (p == DB_PATH_NR || !(avail & (1u << p)))
			return -EINVAL;
		m |= 1u << p;
	}
	*out = m;
	return 0;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	unsigned long v;
	char err[512];

	switch (key) {
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case 'p':
		if (parse_uint(arg, 1, INT_MAX, &v))
			argp_error(state, "invalid PID '%s'", arg);
		if (env.npids == MAX_PIDS)
			argp_error(state, "at most %d -p options", MAX_PIDS);
		env.pids[env.npids++] = v;
		break;
	case 'c':
		if (!*arg || strlen(arg) > 15)
			argp_error(state, "--comm '%s': a process name has 1 to 15 characters",
				   arg);
		env.comm = arg;
		break;
	case 'P':
		if (parse_uint(arg, 1, 65535, &v))
			argp_error(state, "invalid port '%s'", arg);
		if (env.nports == MAX_PORTS)
			argp_error(state, "at most %d --port options", MAX_PORTS);
		env.ports[env.nports++] = v;
		break;
	case OPT_CGROUP:
		env.cgroup = arg;
		break;
	case 'r':
		if (!env.routes && !(env.routes = route_set__new()))
			argp_failure(state, EXIT_RUNTIME, ENOMEM, "--route");
		if (route_set__add(env.routes, arg, err, sizeof(err)))
			argp_error(state, "--route '%s': %s", arg, err);
		break;
	case 'i':
		if (parse_seconds(arg, &env.interval_s) || env.interval_s < 0.1)
			argp_error(state, "invalid interval '%s' (seconds, at least 0.1)", arg);
		break;
	case 'd':
		if (parse_seconds(arg, &env.duration_s))
			argp_error(state, "invalid duration '%s' (seconds)", arg);
		break;
	case 'o':
		env.output = arg;
		break;
	case 'H':
		env.hist = true;
		break;
	case 'n':
		if (parse_uint(arg, 1, 100000, &v))
			argp_error(state, "invalid --top '%s'", arg);
		env.top = v;
		break;
	case 'q':
		env.quiet = true;
		break;
	case 'v':
		env.verbose = true;
		break;
	case OPT_MAX_CONNS:
		if (parse_uint(arg, 64, 1u << 24, &v))
			argp_error(state, "invalid --max-conns '%s' (64 to 16777216)", arg);
		env.max_conns = v;
		break;
	case OPT_MAX_PROCS:
		if (parse_uint(arg, 64, 1u << 22, &v))
			argp_error(state, "invalid --max-procs '%s' (64 to 4194304)", arg);
		env.max_procs = v;
		break;
	case OPT_RINGBUF:
		if (parse_uint(arg, 1, 1024, &v) || (v & (v - 1)))
			argp_error(state, "invalid --ringbuf-mb '%s' (a power of two, 1 to 1024)",
				   arg);
		env.ringbuf_mb = v;
		break;
	case OPT_MAX_ENDPOINTS:
		if (parse_uint(arg, 1, 1000000, &v))
			argp_error(state, "invalid --max-endpoints '%s'", arg);
		env.max_endpoints = v;
		break;
	case OPT_ROUTE_LIMIT:
		if (parse_uint(arg, 1, 100000, &v))
			argp_error(state, "invalid --route-limit '%s'", arg);
		env.route_limit = v;
		break;
	case OPT_HEAD_BYTES:
		if (parse_uint(arg, 64, SOCKIO_HEAD_MAX, &v))
			argp_error(state, "invalid --head-bytes '%s' (64 to %d)", arg,
				   SOCKIO_HEAD_MAX);
		env.head_bytes = v;
		break;
	case OPT_LATENCY_FROM:
		if (strcmp(arg, "arrival") && strcmp(arg, "read"))
			argp_error(state, "invalid --latency-from '%s' (arrival or read)", arg);
		env.from_read = !strcmp(arg, "read");
		break;
	case OPT_QUIET_MS:
		if (parse_uint(arg, 1, 60000, &v))
			argp_error(state, "invalid --quiet-ms '%s' (1 to 60000)", arg);
		env.quiet_ms = v;
		break;
	case OPT_BPF_STATS:
		env.bpf_stats = true;
		break;
	case OPT_DB_PROBE:
		if (parse_db_probes(arg, &env.db_probes))
			argp_error(state,
				   "invalid --db-probe '%s' (a list of: wire, libpq, usdt, none)",
				   arg);
		break;
	case OPT_RAW_SQL:
		env.raw_sql = true;
		break;
	case OPT_SLOW_MS:
		if (parse_seconds(arg, &env.slow_ms))
			argp_error(state, "invalid --slow-ms '%s'", arg);
		break;
	case OPT_SLO:
		if (env.slo)
			argp_error(state, "--slo given twice");
		env.slo = slo__parse_file(arg, err, sizeof(err));
		if (!env.slo) {
			textesc__line(stderr, "sloprobe: %s", err);
			exit(EXIT_USAGE);
		}
		break;
	case OPT_ROUTES_FROM:
		if (!env.routes && !(env.routes = route_set__new()))
			argp_failure(state, EXIT_RUNTIME, ENOMEM, "--routes-from");
		if (openapi__routes(arg, env.routes, err, sizeof(err)) < 0) {
			textesc__line(stderr, "sloprobe: %s", err);
			exit(EXIT_USAGE);
		}
		break;
	case OPT_MAX_DROP_PCT: {
		char *end;

		errno = 0;
		env.max_drop_pct = strtod(arg, &end);
		if (errno || end == arg || *end || !(env.max_drop_pct >= 0) ||
		    env.max_drop_pct > 100)
			argp_error(state, "invalid --max-drop-pct '%s' (0 to 100)", arg);
		break;
	}
	case OPT_USER: {
		int e;

		if (env.user_spec)
			argp_error(state, "--user given twice");
		env.user_spec = arg;
		e = runas__lookup(&env.user, arg);
		if (e) {
			textesc__line(stderr, "sloprobe: --user %s: %s", arg,
				e == -ENOENT ? "no such user" : strerror(-e));
			exit(EXIT_USAGE);
		}
		break;
	}
	case OPT_NPLUS1:
		if (parse_uint(arg, 2, 1000, &v))
			argp_error(state, "invalid --n-plus-one '%s' (2-1000)", arg);
		env.nplus1_min = v;
		break;
	case ARGP_KEY_ARG:
		/* The rest of the line is the command, its options included. */
		env.command = state->argv + state->next - 1;
		state->next = state->argc;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static volatile sig_atomic_t exiting;

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

static void on_signal(int sig)
{
	exiting = sig;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/*
 * root, or the capabilities BPF tracing needs (docs/security.md): loading and attaching (CAP_BPF
 * and CAP_PERFMON, or CAP_SYS_ADMIN that implies both) and reading tracefs, 0700 root.
 */
static bool privileged(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};
	uint64_t eff;

	if (geteuid() == 0)
		return true;
	if (syscall(SYS_capget, &hdr, data))
		return false;
	eff = data[0].effective | (uint64_t)data[1].effective << 32;
	if (!(eff & (1ull << CAP_DAC_READ_SEARCH | 1ull << CAP_DAC_OVERRIDE)))
		return false;
	if (eff & (1ull << CAP_SYS_ADMIN))
		return true;
	return (eff & (1ull << CAP_BPF)) && (eff & (1ull << CAP_PERFMON));
}

/* Listening sockets opened before we started: their ports and owners. */
/*
 * Processes that already exist are followed from their first syscall on a known fd only if
 * they are known: servers (from their listening sockets) and, for the wire path, clients of
 * the databases (from their established connections), whose pooled connections predate us.
 */
static void seed_procs(struct sockio *s, struct handoff_probe *hop, bool db_clients)
{
	uint16_t dbports[64] = { 5432 };
	size_t ndb = 1, nc = 0, n = 0;
	struct procinfo_listener *ls = NULL;
	uint32_t *clients = NULL;

	/* With -p, only the given process trees can match: they are added by the caller. */
	const bool by_pid = env.npids > 0;

	if (!procinfo__listeners(NULL, &ls, &n)) {
		for (size_t i = 0; i < n; i++) {
			sockio__add_listen_port(s, ls[i].port);
			if (ls[i].pid && !by_pid)
				sockio__add_proc(s, ls[i].pid);
			/* A pool hands its first requests off before we could see them read. */
			if (ls[i].pid && !by_pid && hop && strcmp(ls[i].comm, "postgres"))
				handoff_probe__add_proc(hop, ls[i].pid);
			if (!strcmp(ls[i].comm, "postgres") && ndb < 64 && ls[i].port != 5432)
				dbports[ndb++] = ls[i].port;
		}
		free(ls);
	}
	if (!db_clients || by_pid)
		return;
	for (int i = 0; i < env.nports && ndb < 64; i++)
		dbports[ndb++] = env.ports[i];
	if (procinfo__clients_of(NULL, dbports, ndb, &clients, &nc))
		return;
	for (size_t i = 0; i < nc; i++)
		sockio__add_proc(s, clients[i]);
	free(clients);
}

/*
 * Starts the command, as user as (NULL: as we are) with no capabilities if drop_caps; how its
 * start failed is in err. The pid, or -1.
 */
static pid_t start_command(char **argv, bool stdout_to_stderr, const struct runas *as,
			   bool drop_caps, char *err, size_t errsz)
{
	struct {
		int err;
		char step[48]; /* "" for exec itself */
	} msg = {};
	int fds[2];
	pid_t pid;

	/* A close-on-exec pipe tells the parent whether exec worked. */
	if (pipe2(fds, O_CLOEXEC)) {
		snprintf(err, errsz, "pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errsz, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (!pid) {
		const char *step = "";
		int e = 0;

		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		close(fds[0]);
		/* With -o - the report owns stdout: the command's output must not corrupt it. */
		if (stdout_to_stderr)
			dup2(STDERR_FILENO, STDOUT_FILENO);
		if (as)
			e = runas__become(as, &step);
		else if (drop_caps)
			e = runas__drop_caps(&step);
		if (!e) {
			execvp(argv[0], argv);
			e = -errno;
			step = "";
		}
		msg.err = -e;
		snprintf(msg.step, sizeof(msg.step), "%s", step);
		if (write(fds[1], &msg, sizeof(msg)) < 0)
			_exit(127);
		_exit(127);
	}
	close(fds[1]);
	if (read(fds[0], &msg, sizeof(msg)) == sizeof(msg)) {
		if (msg.step[0])
			snprintf(err, errsz, "%s as uid %u: %s: %s", argv[0],
				 as ? as->uid : getuid(), msg.step, strerror(msg.err));
		else
			snprintf(err, errsz, "%s: %s", argv[0], strerror(msg.err));
		waitpid(pid, NULL, 0);
		close(fds[0]);
		return -1;
	}
	close(fds[0]);
	return pid;
}

/* Stop a command we started that is still running: TERM, then KILL after 2 s. */
static int stop_command(pid_t pid)
{
	int status = 0;

	kill(pid, SIGTERM);
	for (int i = 0; i < 200; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return status;
}

static unsigned term_rows(FILE *f)
{
	struct winsize ws;

	if (ioctl(fileno(f), TIOCGWINSZ, &ws) || ws.ws_row < 10)
		return 24;
	return ws.ws_row;
}

static void make_footer(const struct agg *a, struct tracker *t, const struct sink *sk,
			struct sockio *s, struct view_footer *ft, struct report_meta *m)
{
	const struct http_stats *hs = tracker__http_stats(t);

	sockio__stats(s, m->kstats);
	tracker__stats(t, &m->tstats);
	sink__stats(sk, &m->sstats);
	m->hstats = hs;
	memset(ft, 0, sizeof(*ft));
	ft->events = m->tstats.events;
	ft->dropped = report__dropped(m);
	ft->unparsed = report__unframed(m);
	for (unsigned i = 0; i < a->neps; i++)
		ft->aborted += a->eps[i]->aborted;
	ft->conns = m->tstats.conns_live;
}

/*
 * Who runs the command: --user, else under sudo the user who ran sudo, else we as we are.
 * *sudo gets the user who ran sudo (uid 0 if none), the owner of the report. 0 or the exit
 * status after a one-line message.
 */
static int command_user(struct runas *sudo, const struct runas **as)
{
	int err = runas__sudo(sudo);

	*as = NULL;
	if (err < 0) {
		fprintf(stderr, "sloprobe: SUDO_UID=%s SUDO_GID=%s: %s\n", getenv("SUDO_UID"),
			getenv("SUDO_GID") ? getenv("SUDO_GID") : "(unset)",
			err == -EINVAL ? "not a user and group id (unset them, or use --user)"
				       : strerror(-err));
		return EXIT_USAGE;
	}
	if (env.user_spec && !env.command) {
		fprintf(stderr,
			"sloprobe: --user %s: no COMMAND to run (sloprobe record --user USER -- "
			"COMMAND)\n",
			env.user_spec);
		return EXIT_USAGE;
	}
	if (env.user_spec) {
		if (env.user.uid == geteuid())
			return 0; /* as we are: root keeps root */
		if (geteuid()) {
			fprintf(stderr,
				"sloprobe: --user %s: only root runs COMMAND as another user\n",
				env.user_spec);
			return EXIT_USAGE;
		}
		*as = &env.user;
	} else if (sudo->uid) {
		*as = sudo;
	}
	return 0;
}

static const char *describe_scope(char *buf, size_t sz)
{
	int n = 0;

	buf[0] = '\0';
	for (int i = 0; i < env.npids && n < (int)sz; i++)
		n += snprintf(buf + n, sz - n, "%spid %u", n ? ", " : "", env.pids[i]);
	if (env.comm && n < (int)sz)
		n += snprintf(buf + n, sz - n, "%scomm %s", n ? ", " : "", env.comm);
	for (int i = 0; i < env.nports && n < (int)sz; i++)
		n += snprintf(buf + n, sz - n, "%sport %u", n ? ", " : "", env.ports[i]);
	if (env.cgroup && n < (int)sz)
		n += snprintf(buf + n, sz - n, "%scgroup %s", n ? ", " : "", env.cgroup);
	if (!n)
		snprintf(buf, sz, "all processes");
	return buf;
}

static int record(void)
{
	uint32_t *filter_pids = NULL;
	size_t nfilter_pids = 0;
	struct sockio_opts so = {};
	struct tracker_opts to = {};
	struct report_meta meta = { .command_status = -1 };
	struct view_opts vo = {};
	struct view_footer ft;
	struct tracker *tracker = NULL;
	struct sink sink = {};
	struct sink_opts sko = {};
	struct dbtrack *sko_db = NULL;
	struct sockio *sockio = NULL;
	struct agg agg;
	struct dbagg db;
	struct dbagg_opts dbo = {};
	struct dbtrack dbt;
	struct dbprobes dbp = {};
	struct handoff_probe *hop = NULL;
	static struct handoff ho;
	struct slotrack slot;
	struct slotrack_tally tally = {};
	bool slo_ok = false;
	bool agg_ok = false, db_ok = false, dbp_ok = false, child_done = false, busy = false;
	struct utsname uts;
	struct sigaction sa = { .sa_handler = on_signal };
	FILE *live = stdout;
	struct outfile outf = { .dirfd = -1 };
	struct runas sudo = {};
	const struct runas *as = NULL;
	bool outf_stdout = env.output && !strcmp(env.output, "-");
	char err[512], hostname[256] = "", scope[256];
	uint64_t t0, next_tick, deadline = 0, last_tick;
	pid_t child = -1;
	int stats_fd = -1, status, err_ = 0, ret = EXIT_RUNTIME;

	if (!privileged()) {
		fprintf(stderr, "sloprobe: must run as root (or with CAP_BPF, CAP_PERFMON and "
				"CAP_DAC_READ_SEARCH: docs/security.md)\n");
		return EXIT_RUNTIME;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		fprintf(stderr,
			"sloprobe: kernel BTF not found (/sys/kernel/btf/vmlinux): a kernel "
			"built with CONFIG_DEBUG_INFO_BTF=y is needed\n");
		return EXIT_RUNTIME;
	}
	for (int i = 0; i < env.npids; i++) {
		uint32_t *d = NULL;
		size_t nd = 0, cap;
		uint32_t *grown;

		if (procinfo__descendants(NULL, env.pids[i], &d, &nd)) {
			fprintf(stderr, "sloprobe: pid %u: no such process\n", env.pids[i]);
			free(filter_pids);
			return EXIT_USAGE;
		}
		cap = nfilter_pids + nd;
		if (cap > SOCKIO_FILTER_PIDS_MAX)
			cap = SOCKIO_FILTER_PIDS_MAX;
		grown = realloc(filter_pids, (cap ? cap : 1) * sizeof(*grown));
		if (!grown) {
			free(d);
			free(filter_pids);
			fprintf(stderr, "sloprobe: out of memory\n");
			return EXIT_RUNTIME;
		}
		filter_pids = grown;
		for (size_t k = 0; k < nd && nfilter_pids < cap; k++)
			filter_pids[nfilter_pids++] = d[k];
		free(d);
	}
	if (env.cgroup) {
		struct stat st;

		if (stat(env.cgroup, &st) || !S_ISDIR(st.st_mode)) {
			fprintf(stderr, "sloprobe: --cgroup %s: not a cgroup v2 directory\n",
				env.cgroup);
			free(filter_pids);
			return EXIT_USAGE;
		}
	}
	ret = command_user(&sudo, &as);
	if (ret) {
		free(filter_pids);
		runas__free(&sudo);
		return ret;
	}
	ret = EXIT_RUNTIME;
	/*
	 * The report goes to a temporary file created now: a path that cannot be written fails
	 * before the load test, and the previous report stays until the new one is whole.
	 */
	if (env.output) {
		struct outfile_owner ow = {
			.uid = sudo.uid,
			.gid = sudo.gid,
			.groups = sudo.groups,
			.ngroups = sudo.ngroups,
		};

		if (outfile__open(&outf, env.output, sudo.uid ? &ow : NULL, err, sizeof(err))) {
			fprintf(stderr, "sloprobe: %s\n", err);
			free(filter_pids);
			runas__free(&sudo);
			return EXIT_RUNTIME;
		}
		if (outf.is_stdout)
			live = stderr; /* the report owns stdout */
	}

	bpfobj__set_verbose(env.verbose);
	if (agg__init(&agg, env.max_endpoints)) {
		fprintf(stderr, "sloprobe: out of memory\n");
		goto cleanup;
	}
	agg_ok = true;
	if (env.db_probes) {
		dbo.raw_sql = env.raw_sql;
		dbo.slow_ns = (uint64_t)(env.slow_ms * 1e6);
		dbo.nplus1_min = env.nplus1_min;
		if (dbagg__init(&db, &dbo)) {
			fprintf(stderr, "sloprobe: out of memory\n");
			goto cleanup;
		}
		db_ok = true;
		dbtrack__init(&dbt, &db);
		/* Every path needs the inbound requests, to attribute queries to them. */
		sko_db = &dbt;
		if (dbtrack__set_defer(&dbt,
				       env.db_probes & ~(1u << DB_PATH_WIRE) ? DB_LATE_NS : 0)) {
			fprintf(stderr, "sloprobe: out of memory\n");
			goto cleanup;
		}
	}
	if (env.slo) {
		if (slotrack__init(&slot, env.slo)) {
			fprintf(stderr, "sloprobe: out of memory\n");
			goto cleanup;
		}
		slo_ok = true;
	}
	sko.routes = env.routes;
	sko.route_distinct = env.route_limit;
	sko.from_read = env.from_read;
	to.quiet_ns = env.quiet_ms * 1000000ull;
	to.max_conns = env.max_conns;
	/* One sink for every record, whichever engine made it: see record/sink.h. */
	err_ = sink__init(&sink, &sko, &agg, sko_db, slo_ok ? &slot : NULL);
	if (!err_)
		err_ = tracker__new(&tracker, &to, &sink);
	if (err_) {
		fprintf(stderr, "sloprobe: out of memory\n");
		goto cleanup;
	}

	/* One spec for the loaders that pick processes: sockio in the kernel, libpq from /proc. */
	so.procs.pids = filter_pids;
	so.procs.npids = nfilter_pids;
	so.procs.comm = env.comm;
	so.procs.cgroup = env.cgroup;
	so.ports = env.ports;
	so.nports = env.nports;
	so.head_bytes = env.head_bytes;
	so.max_conns = env.max_conns;
	so.max_procs = env.max_procs;
	so.ringbuf_bytes = env.ringbuf_mb << 20;
	so.clients = env.db_probes & (1u << DB_PATH_WIRE);
	so.no_arrival = env.from_read;
	if (env.bpf_stats) {
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (stats_fd < 0)
			fprintf(stderr, "sloprobe: warning: cannot enable BPF run-time stats: %s\n",
				strerror(errno));
	}
	err_ = sockio__start(&sockio, &so, tracker__event, tracker, err, sizeof(err));
	if (err_) {
		textesc__line(stderr, "sloprobe: %s", err);
		goto cleanup;
	}
	tracker__set_sockio(tracker, sockio);
	if (env.db_probes & ~(1u << DB_PATH_WIRE)) {
		dbp_ok = true;
		err_ = dbprobes__open(&dbp, env.db_probes, &sink, &so.procs, env.head_bytes,
				      env.verbose, err, sizeof(err));
		if (err_) {
			textesc__line(stderr, "sloprobe: %s", err);
			goto cleanup;
		}
	}
	if (db_ok) {
		handoff__init(&ho);
		ho.on_proc = on_handoff_proc;
		ho.pull = pull_handoff;
		ho.ctx = &hop;
		if (handoff_probe__open(&hop, on_handoff_ev, &dbt, err, sizeof(err)))
			textesc__line(stderr,
				      "sloprobe: warning: %s: pool workers' queries are shared",
				      err);
		else if (dbtrack__set_handoff(&dbt, &ho)) {
			fprintf(stderr, "sloprobe: out of memory\n");
			goto cleanup;
		}
	}
	seed_procs(sockio, hop, env.db_probes & (1u << DB_PATH_WIRE));
	for (size_t i = 0; i < nfilter_pids; i++)
		sockio__add_proc(sockio, filter_pids[i]);

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A closed terminal ends the recording with its report, unless nohup said to ignore it. */
	{
		struct sigaction old;

		if (!sigaction(SIGHUP, NULL, &old) && old.sa_handler != SIG_IGN)
			sigaction(SIGHUP, &sa, NULL);
	}
	gethostname(hostname, sizeof(hostname) - 1);
	uname(&uts);
	meta.hostname = hostname;
	meta.kernel = uts.release;
	clock_gettime(CLOCK_REALTIME, &meta.start);
	t0 = last_tick = mono_ns();
	meta.start_ns = t0;
	if (slo_ok)
		slot.start_ns = t0; /* warmup counts from here */
	next_tick = t0 + (uint64_t)(env.interval_s * 1e9);
	if (env.duration_s)
		deadline = t0 + (uint64_t)(env.duration_s * 1e9);

	vo.tty = isatty(fileno(live));
	vo.hist = env.hist;
	vo.db = db_ok ? &db : NULL;
	vo.db_rows = 10;
	vo.max_rows = env.top ? env.top : vo.tty && !env.hist ? term_rows(live) - 8 : 20;
	if (!env.quiet) {
		fprintf(live, "Tracing HTTP servers (%s)", describe_scope(scope, sizeof(scope)));
		if (env.command)
			fprintf(live, " while %s runs", env.command[0]);
		if (env.command && as && as->name)
			fprintf(live, " as %s", as->name);
		else if (env.command && as)
			fprintf(live, " as uid %u", as->uid);
		fprintf(live, "... Hit Ctrl-C to end.\n");
		fflush(live);
	}
	if (env.command) {
		child = start_command(env.command, outf_stdout, as, geteuid() != 0, err,
				      sizeof(err));
		if (child < 0) {
			textesc__line(stderr, "sloprobe: %s", err);
			goto cleanup;
		}
	}

	while (!exiting) {
		uint64_t now = mono_ns();
		int64_t wait_ms = ((int64_t)next_tick - (int64_t)now) / 1000000;

		/*
		 * While events flow, drain every few ms even without a wake-up: short, frequent
		 * batches keep the reader from taking a core away from the server for a long burst
		 * (that showed as a 1 ms p99 on a 2-core host). Idle, wake up less often.
		 */
		if (wait_ms > (busy ? DRAIN_BUSY_MS : DRAIN_IDLE_MS))
			wait_ms = busy ? DRAIN_BUSY_MS : DRAIN_IDLE_MS;
		if (wait_ms < 0)
			wait_ms = 0;
		err_ = sockio__poll(sockio, (int)wait_ms);
		if (err_ < 0) {
			fprintf(stderr, "sloprobe: reading events: %s\n", strerror(-err_));
			goto cleanup;
		}
		busy = err_ > 0;
		if (hop)
			handoff_probe__poll(hop);
		if (dbp_ok)
			dbprobes__poll(&dbp, mono_ns());
		if (dbp_ok || hop)
			dbtrack__tick(&dbt, mono_ns());
		if (child > 0 && waitpid(child, &status, WNOHANG) == child) {
			child_done = true;
			meta.command_status =
				WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
			break;
		}
		now = mono_ns();
		if (deadline && now >= deadline)
			break;
		if (now >= next_tick) {
			tracker__tick(tracker, now);
			if (slo_ok)
				slotrack__roll(&slot, (now - t0) / 1e9);
			if (!env.quiet) {
				make_footer(&agg, tracker, &sink, sockio, &ft, &meta);
				if (slo_ok) {
					ft.slo = true;
					ft.slo_pass = slot.win.pass;
					ft.slo_breach = slot.win.breach;
					ft.slo_idle = slot.win.insufficient;
				}
				view__interval(live, &agg, &vo, (now - t0) / 1e9,
					       (now - last_tick) / 1e9, &ft);
			}
			agg__roll(&agg, (now - t0) / 1e9, (now - last_tick) / 1e9);
			if (db_ok)
				dbagg__roll(&db, (now - t0) / 1e9, (now - last_tick) / 1e9);
			last_tick = now;
			while (next_tick <= now)
				next_tick += (uint64_t)(env.interval_s * 1e9);
		}
	}
	if (child > 0 && !child_done) {
		status = stop_command(child);
		meta.command_status =
			WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}
	/* The servers finish what the load test left in flight: collect it, briefly. */
	for (int i = 0; i < 3; i++) {
		sockio__poll(sockio, 50);
		if (hop)
			handoff_probe__poll(hop);
		if (dbp_ok)
			dbprobes__poll(&dbp, 0);
	}
	tracker__flush(tracker, mono_ns());
	if (db_ok) {
		if (dbp_ok)
			dbprobes__poll(&dbp, 0);
		dbtrack__tick(&dbt, 0);
	}
	clock_gettime(CLOCK_REALTIME, &meta.end);
	meta.duration_s = (mono_ns() - t0) / 1e9;
	/* The last, partial interval ends the timelines and the SLO windows too. */
	if (meta.duration_s > (last_tick - t0) / 1e9) {
		double iv = meta.duration_s - (last_tick - t0) / 1e9;

		if (slo_ok)
			slotrack__roll(&slot, meta.duration_s);
		agg__roll(&agg, meta.duration_s, iv);
		if (db_ok)
			dbagg__roll(&db, meta.duration_s, iv);
	}
	meta.interval_s = env.interval_s;
	if (slo_ok) {
		slotrack__finish(&slot);
		slotrack__tally(&slot, &tally);
		meta.slo = &slot;
	}
	meta.command = (const char *const *)env.command;
	meta.pids = env.pids;
	meta.npids = env.npids;
	meta.comm = env.comm;
	meta.cgroup = env.cgroup;
	meta.ports = env.ports;
	meta.nports = env.nports;
	meta.quiet_ms = env.quiet_ms;
	meta.from_read = env.from_read;
	meta.max_drop_pct = env.max_drop_pct;
	if (db_ok) {
		dbagg__finish(&db, meta.duration_s);
		dbtrack__finish(&dbt, &agg);
		meta.db = &db;
		meta.dbt = &dbt.st;
		meta.ho = hop ? &ho.st : NULL;
		meta.db_paths = env.db_probes;
	}
	if (dbp_ok) {
		dbprobes__stats(&dbp, &meta.pgc, &meta.pgs);
		meta.db_dropped = dbprobes__dropped(&meta.pgc, &meta.pgs);
	}
	if (stats_fd >= 0) {
		meta.bpf_stats = true;
		sockio__run_stats(sockio, &meta.bpf_run_ns, &meta.bpf_run_cnt);
		if (dbp_ok)
			dbprobes__run_stats(&dbp, &meta.db_run_ns, &meta.db_run_cnt);
		if (hop)
			handoff_probe__run_stats(hop, &meta.ho_run_ns, &meta.ho_run_cnt);
	}
	if (hop)
		handoff_probe__stats(hop, meta.ho_kstats);
	make_footer(&agg, tracker, &sink, sockio, &ft, &meta);
	/* Detach before the slow part: nothing traced from here on. */
	sockio__stop(sockio);
	sockio = NULL;
	tracker__set_sockio(tracker, NULL);
	dbprobes__close(&dbp);
	handoff_probe__close(hop);
	hop = NULL;

	if (!env.quiet) {
		vo.tty = false;
		vo.max_rows = env.top;
		view__summary(live, &agg, &vo, meta.duration_s, &ft);
		if (slo_ok)
			slotrack__print(&slot, live, report__incomplete(&meta));
	}
	if (env.output) {
		if (outfile__commit(&outf, report__write(outf.f, &agg, &meta), err, sizeof(err))) {
			fprintf(stderr, "sloprobe: writing the report: %s\n", err);
			goto cleanup;
		}
		if (!outf_stdout && !env.quiet)
			fprintf(live, "Report written to %s\n", env.output);
	}
	if (ft.dropped)
		fprintf(stderr,
			"sloprobe: warning: %llu events dropped, %.3g %% of all (see \"events\" in "
			"the report; try --ringbuf-mb)%s\n",
			(unsigned long long)ft.dropped, slo__drop_pct(ft.dropped, ft.events),
			!report__incomplete(&meta) ? ""
			: slo_ok		   ? ": SLO verdicts judged on incomplete data"
						   : ": more than --max-drop-pct");
	if (ft.unparsed)
		fprintf(stderr,
			"sloprobe: warning: %llu transfers could not be framed (see "
			"\"http_parser\" "
			"and \"db_stats\" wire_* in the report)\n",
			(unsigned long long)ft.unparsed);
	ret = EXIT_OK;
	if (tally.breach) {
		fprintf(stderr, "sloprobe: SLO breached: %u of %u objectives (%s)\n", tally.breach,
			tally.pass + tally.breach + tally.insufficient, env.slo->file);
		ret = EXIT_SLO;
	}
	/* A verdict on a run that could not be seen whole must not pass CI, nor fail it as a breach. */
	if (slo_ok && report__incomplete(&meta)) {
		fprintf(stderr,
			"sloprobe: SLO verdicts judged on incomplete data: %.3g %% of events lost "
			"(--max-drop-pct %g)\n",
			slo__drop_pct(ft.dropped, ft.events), env.max_drop_pct);
		ret = EXIT_INCOMPLETE;
	}
	/* A load test that failed makes every figure doubtful: that outranks a breach. */
	if (env.command && meta.command_status != 0 && !exiting) {
		fprintf(stderr, "sloprobe: %s exited with status %d\n", env.command[0],
			meta.command_status);
		ret = EXIT_RUNTIME;
	}

cleanup:
	if (child > 0 && !child_done && meta.command_status < 0)
		stop_command(child);
	sockio__stop(sockio);
	tracker__free(tracker);
	sink__free(&sink);
	dbprobes__close(&dbp);
	handoff_probe__close(hop);
	if (db_ok) {
		dbtrack__free(&dbt);
		handoff__free(&ho);
		dbagg__free(&db);
	}
	if (slo_ok)
		slotrack__free(&slot);
	if (agg_ok)
		agg__free(&agg);
	/* Not written whole: the temporary file goes, the previous report stays. */
	outfile__abort(&outf);
	runas__free(&sudo);
	if (stats_fd >= 0)
		close(stats_fd);
	free(filter_pids);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct argp argp = {
		.options = opts,
		.parser = parse_arg,
		.args_doc = "[-- COMMAND [ARG...]]",
		.doc = doc,
		.children = cli__children,
	};
	int err;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		fputs("Usage: sloprobe COMMAND [OPTION...]\n"
		      "Per-endpoint HTTP and database latency of the services on this host, "
		      "judged\n"
		      "against SLOs.\n\n"
		      "  record [-- CMD]      trace live, write a JSON report (needs root)\n"
		      "  report RUN.json      summary, SLO verdicts, hotspots (text, markdown, "
		      "html)\n"
		      "  diff BASE.json NEW.json   before / after, improved or regressed\n"
		      "  merge A.json B.json ...   add runs or hosts together\n\n"
		      "Run 'sloprobe COMMAND --help' for the options of each.\n",
		      argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("%s\n", argp_program_version);
		return EXIT_OK;
	}
	/* Not root but with file capabilities (docs/security.md): the analyzer needs none. */
	if (geteuid() && strcmp(argv[1], "record")) {
		const char *step;

		runas__drop_caps(&step);
	}
	if (!strcmp(argv[1], "report"))
		return analyze__report(argc - 1, argv + 1);
	if (!strcmp(argv[1], "diff"))
		return analyze__diff(argc - 1, argv + 1);
	if (!strcmp(argv[1], "merge"))
		return analyze__merge(argc - 1, argv + 1);
	if (strcmp(argv[1], "record")) {
		fprintf(stderr,
			"sloprobe: unknown command '%s' (record, report, diff or merge; "
			"try 'sloprobe --help')\n",
			argv[1]);
		return EXIT_USAGE;
	}
	argp_err_exit_status = EXIT_USAGE;
	argv[1] = "sloprobe record";
	/* The files the options name (--slo, --routes-from) are read with the caller's rights. */
	if (geteuid())
		runas__caps_effective(false);
	err = argp_parse(&argp, argc - 1, argv + 1, ARGP_IN_ORDER, NULL, NULL);
	if (err)
		return EXIT_USAGE;
	if (geteuid())
		runas__caps_effective(true);
	err = record();
	route_set__free(env.routes);
	runas__free(&env.user);
	return err;
}
