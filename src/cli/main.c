// SPDX-License-Identifier: GPL-2.0-only
/*
 * sloprobe record: per-endpoint HTTP latency of the servers on this host, from syscall
 * tracepoints, with no change to the applications.
 */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <linux/capability.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "analyze/analyze.h"
#include "lib/argperr.h"
#include "lib/runas.h"
#include "lib/textesc.h"
#include "proto/db.h"
#include "proto/openapi.h"
#include "proto/route.h"
#include "record/dbagg.h"
#include "record/session.h"
#include "run/slo.h"

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
	"Exit status: 0 success, 1 runtime error or COMMAND failed, 2 usage "
	"error, 3 an SLO objective breached, 4 SLO verdicts judged on incomplete data, 5 COMMAND "
	"failed with a status --command-exit maps to load-failed (docs/exit-codes.md).";

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
	OPT_REDIS,
	OPT_OUTBOUND,
	OPT_SLOW_MS,
	OPT_NPLUS1,
	OPT_SLO,
	OPT_ROUTES_FROM,
	OPT_LATENCY_FROM,
	OPT_MAX_DROP_PCT,
	OPT_USER,
	OPT_TLS,
	OPT_COMMAND_EXIT,
	OPT_LISTEN,
	OPT_LISTEN_ANY,
	OPT_JSONL,
	OPT_CONTAINER,
	OPT_DOCKER_ROOT,
};

static const struct argp_option opts[] = {
	{ NULL, 0, NULL, 0, "What to trace:", 1 },
	{ "pid", 'p', "PID", 0, "Trace this process and its descendants (repeatable)", 1 },
	{ "comm", 'c', "NAME", 0, "Trace processes with this name", 1 },
	{ "port", 'P', "PORT", 0, "Trace connections on this local or remote port (repeatable)",
	  1 },
	{ "cgroup", OPT_CGROUP, "PATH", 0, "Trace processes in this cgroup v2 directory", 1 },
	{ "container", OPT_CONTAINER, "NAME|ID", 0,
	  "Trace this running container: its name, Compose service or id prefix", 1 },
	{ "docker-root", OPT_DOCKER_ROOT, "DIR", 0,
	  "Docker's data root, for names when its API does not answer (default: daemon.json's "
	  "data-root, else /var/lib/docker)",
	  1 },
	{ "route", 'r', "PATTERN", 0,
	  "Name a route, e.g. /v1/users/{id}/orders (repeatable; {x}, {x:int}, {x:path}, *)", 1 },
	{ "routes-from", OPT_ROUTES_FROM, "FILE", 0,
	  "Take the routes from an OpenAPI document (JSON, e.g. FastAPI's /openapi.json)", 1 },
	{ "latency-from", OPT_LATENCY_FROM, "WHEN", 0,
	  "Start latency at the request's 'arrival' at the socket (default: queueing included, "
	  "as the client sees it) or at the server's first 'read'",
	  1 },
	{ "tls", OPT_TLS, "WHEN", 0,
	  "Decode TLS through uprobes on OpenSSL (SSL_read/SSL_write): 'on' or 'off' "
	  "(default: off; docs/tls.md)",
	  1 },
	{ "slo", OPT_SLO, "FILE", 0,
	  "Judge the objectives of this SLO file (docs/slo.md): breaches marked live, verdict at "
	  "the end, exit status 3 if one breached",
	  1 },
	{ "max-drop-pct", OPT_MAX_DROP_PCT, "PCT", 0,
	  "Verdicts of a run that lost more than PCT % of its events are judged on incomplete "
	  "data: a warning, and exit status 4 with --slo (default 0.1)",
	  1 },
	{ NULL, 0, NULL, 0, "Dependencies (PostgreSQL, Redis, outbound HTTP):", 2 },
	{ "db-probe", OPT_DB_PROBE, "LIST", 0,
	  "How to see queries, a list of: wire (client protocol on the socket), libpq (uprobes "
	  "on libpq), usdt (server probes), none (default: wire)",
	  2 },
	{ "raw-sql", OPT_RAW_SQL, NULL, 0,
	  "Keep one raw query text per fingerprint, literals included (off: privacy)", 2 },
	{ "slow-ms", OPT_SLOW_MS, "MS", 0, "Slow query threshold (default 1000)", 2 },
	{ "n-plus-one", OPT_NPLUS1, "N", 0,
	  "Consecutive runs of one query that make an N+1 (default 5)", 2 },
	{ "redis", OPT_REDIS, "on|off", 0,
	  "Follow the Redis clients of traced processes: commands, key patterns, hit ratio "
	  "(default on)",
	  2 },
	{ "outbound", OPT_OUTBOUND, "on|off|all", 0,
	  "Follow the outbound HTTP calls and connects of traced processes: latency, failures, "
	  "retries; all: also those of processes that serve nothing to ports listening on this "
	  "host, such as a load generator's (default on)",
	  2 },
	{ NULL, 0, NULL, 0, "Output:", 3 },
	{ "interval", 'i', "SECONDS", 0, "Live view interval (default 1)", 3 },
	{ "duration", 'd', "SECONDS", 0, "Stop after this long", 3 },
	{ "output", 'o', "FILE", 0,
	  "Write the JSON report to FILE, mode 0600, replaced once complete ('-' for stdout)", 3 },
	{ "hist", 'H', NULL, 0, "Show a latency histogram per endpoint", 3 },
	{ "top", 'n', "N", 0, "Show at most N endpoints per interval (default: fit the terminal)",
	  3 },
	{ "listen", OPT_LISTEN, "ADDR:PORT", 0,
	  "Serve Prometheus / OpenMetrics metrics on GET /metrics while recording (host default "
	  "127.0.0.1; docs/live.md)",
	  3 },
	{ "listen-any", OPT_LISTEN_ANY, NULL, 0,
	  "Let --listen take a non-loopback address (the metrics leave this host)", 3 },
	{ "jsonl", OPT_JSONL, "FILE", 0,
	  "Write one JSON line per interval to FILE (replaced), flushed as each interval ends", 3 },
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
	{ "command-exit", OPT_COMMAND_EXIT, "STATUS=WHAT,...", 0,
	  "A COMMAND exit status that is the load test's own verdict, not an error: WHAT is "
	  "load-failed (exit 5), breach (exit 3) or ok (judged on the SLOs), e.g. 99=load-failed "
	  "for k6's failed thresholds (default: any failure exits 1)",
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
	struct record_opts *o = state->input;
	unsigned long v;
	char err[512];

	switch (key) {
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case 'p':
		if (parse_uint(arg, 1, INT_MAX, &v))
			argp_error(state, "invalid PID '%s'", arg);
		if (o->npids == RECORD_MAX_PIDS)
			argp_error(state, "at most %d -p options", RECORD_MAX_PIDS);
		o->pids[o->npids++] = v;
		break;
	case 'c':
		if (!*arg || strlen(arg) > 15)
			argp_error(state, "--comm '%s': a process name has 1 to 15 characters",
				   arg);
		o->comm = arg;
		break;
	case 'P':
		if (parse_uint(arg, 1, 65535, &v))
			argp_error(state, "invalid port '%s'", arg);
		if (o->nports == RECORD_MAX_PORTS)
			argp_error(state, "at most %d --port options", RECORD_MAX_PORTS);
		o->ports[o->nports++] = v;
		break;
	case OPT_CGROUP:
		o->cgroup = arg;
		break;
	case OPT_CONTAINER:
		if (!*arg)
			argp_error(state, "--container: empty name");
		o->container = arg;
		break;
	case OPT_DOCKER_ROOT:
		if (arg[0] != '/')
			argp_error(state, "--docker-root '%s': not an absolute path", arg);
		o->docker_root = arg;
		break;
	case 'r':
		if (!o->routes && !(o->routes = route_set__new()))
			argp_failure(state, RECORD_EXIT_RUNTIME, ENOMEM, "--route");
		if (route_set__add(o->routes, arg, err, sizeof(err)))
			argp_error(state, "--route '%s': %s", arg, err);
		break;
	case 'i':
		if (parse_seconds(arg, &o->interval_s) || o->interval_s < 0.1)
			argp_error(state, "invalid interval '%s' (seconds, at least 0.1)", arg);
		break;
	case 'd':
		if (parse_seconds(arg, &o->duration_s))
			argp_error(state, "invalid duration '%s' (seconds)", arg);
		break;
	case 'o':
		o->output = arg;
		break;
	case 'H':
		o->hist = true;
		break;
	case 'n':
		if (parse_uint(arg, 1, 100000, &v))
			argp_error(state, "invalid --top '%s'", arg);
		o->top = v;
		break;
	case 'q':
		o->quiet = true;
		break;
	case OPT_LISTEN:
		o->listen = arg;
		break;
	case OPT_LISTEN_ANY:
		o->listen_any = true;
		break;
	case OPT_JSONL:
		o->jsonl = arg;
		break;
	case 'v':
		o->verbose = true;
		break;
	case OPT_MAX_CONNS:
		if (parse_uint(arg, 64, 1u << 24, &v))
			argp_error(state, "invalid --max-conns '%s' (64 to 16777216)", arg);
		o->max_conns = v;
		break;
	case OPT_MAX_PROCS:
		if (parse_uint(arg, 64, 1u << 22, &v))
			argp_error(state, "invalid --max-procs '%s' (64 to 4194304)", arg);
		o->max_procs = v;
		break;
	case OPT_RINGBUF:
		if (parse_uint(arg, 1, 1024, &v) || (v & (v - 1)))
			argp_error(state, "invalid --ringbuf-mb '%s' (a power of two, 1 to 1024)",
				   arg);
		o->ringbuf_mb = v;
		break;
	case OPT_MAX_ENDPOINTS:
		if (parse_uint(arg, 1, 1000000, &v))
			argp_error(state, "invalid --max-endpoints '%s'", arg);
		o->max_endpoints = v;
		break;
	case OPT_ROUTE_LIMIT:
		if (parse_uint(arg, 1, 100000, &v))
			argp_error(state, "invalid --route-limit '%s'", arg);
		o->route_limit = v;
		break;
	case OPT_HEAD_BYTES:
		if (parse_uint(arg, 64, SOCKIO_HEAD_MAX, &v))
			argp_error(state, "invalid --head-bytes '%s' (64 to %d)", arg,
				   SOCKIO_HEAD_MAX);
		o->head_bytes = v;
		break;
	case OPT_LATENCY_FROM:
		if (strcmp(arg, "arrival") && strcmp(arg, "read"))
			argp_error(state, "invalid --latency-from '%s' (arrival or read)", arg);
		o->from_read = !strcmp(arg, "read");
		break;
	case OPT_COMMAND_EXIT: {
		char why[128];

		if (cmdexit__parse(&o->command_exit, arg, why, sizeof(why)))
			argp_error(state, "invalid --command-exit '%s': %s", arg, why);
		break;
	}
	case OPT_TLS:
		if (strcmp(arg, "on") && strcmp(arg, "off"))
			argp_error(state, "invalid --tls '%s' (on or off)", arg);
		o->tls = !strcmp(arg, "on");
		break;
	case OPT_QUIET_MS:
		if (parse_uint(arg, 1, 60000, &v))
			argp_error(state, "invalid --quiet-ms '%s' (1 to 60000)", arg);
		o->quiet_ms = v;
		break;
	case OPT_BPF_STATS:
		o->bpf_stats = true;
		break;
	case OPT_DB_PROBE:
		if (parse_db_probes(arg, &o->db_probes))
			argp_error(state,
				   "invalid --db-probe '%s' (a list of: wire, libpq, usdt, none)",
				   arg);
		break;
	case OPT_RAW_SQL:
		o->raw_sql = true;
		break;
	case OPT_OUTBOUND:
		if (!strcmp(arg, "on"))
			o->outbound = RECORD_OUTBOUND_ON;
		else if (!strcmp(arg, "all"))
			o->outbound = RECORD_OUTBOUND_ALL;
		else if (!strcmp(arg, "off"))
			o->outbound = RECORD_OUTBOUND_OFF;
		else
			argp_error(state, "invalid --outbound '%s' (on, off or all)", arg);
		break;
	case OPT_REDIS:
		if (strcmp(arg, "on") && strcmp(arg, "off"))
			argp_error(state, "invalid --redis '%s' (on or off)", arg);
		o->redis = !strcmp(arg, "on");
		break;
	case OPT_SLOW_MS:
		if (parse_seconds(arg, &o->slow_ms))
			argp_error(state, "invalid --slow-ms '%s'", arg);
		break;
	case OPT_SLO:
		if (o->slo)
			argp_error(state, "--slo given twice");
		o->slo = slo__parse_file(arg, err, sizeof(err));
		if (!o->slo) {
			textesc__line(stderr, "sloprobe: %s", err);
			exit(RECORD_EXIT_USAGE);
		}
		break;
	case OPT_ROUTES_FROM:
		if (!o->routes && !(o->routes = route_set__new()))
			argp_failure(state, RECORD_EXIT_RUNTIME, ENOMEM, "--routes-from");
		if (openapi__routes(arg, o->routes, err, sizeof(err)) < 0) {
			textesc__line(stderr, "sloprobe: %s", err);
			exit(RECORD_EXIT_USAGE);
		}
		break;
	case OPT_MAX_DROP_PCT: {
		char *end;

		errno = 0;
		o->max_drop_pct = strtod(arg, &end);
		if (errno || end == arg || *end || !(o->max_drop_pct >= 0) || o->max_drop_pct > 100)
			argp_error(state, "invalid --max-drop-pct '%s' (0 to 100)", arg);
		break;
	}
	case OPT_USER: {
		int e;

		if (o->user_spec)
			argp_error(state, "--user given twice");
		o->user_spec = arg;
		e = runas__lookup(&o->user, arg);
		if (e) {
			textesc__line(stderr, "sloprobe: --user %s: %s", arg,
				      e == -ENOENT ? "no such user" : strerror(-e));
			exit(RECORD_EXIT_USAGE);
		}
		break;
	}
	case OPT_NPLUS1:
		if (parse_uint(arg, 2, 1000, &v))
			argp_error(state, "invalid --n-plus-one '%s' (2-1000)", arg);
		o->nplus1_min = v;
		break;
	case ARGP_KEY_ARG:
		/* The rest of the line is the command, its options included. */
		o->command = state->argv + state->next - 1;
		state->next = state->argc;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	exiting = sig;
}

/* SIGINT, SIGTERM and SIGHUP end the recording with its report. */
static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal }, old;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A closed terminal ends the recording with its report, unless nohup said to ignore it. */
	if (!sigaction(SIGHUP, NULL, &old) && old.sa_handler != SIG_IGN)
		sigaction(SIGHUP, &sa, NULL);
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

static int record(const struct record_opts *o)
{
	struct session s;
	int ret;

	if (!privileged()) {
		fprintf(stderr, "sloprobe: must run as root (or with CAP_BPF, CAP_PERFMON and "
				"CAP_DAC_READ_SEARCH: docs/security.md)\n");
		return RECORD_EXIT_RUNTIME;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		fprintf(stderr,
			"sloprobe: kernel BTF not found (/sys/kernel/btf/vmlinux): a kernel "
			"built with CONFIG_DEBUG_INFO_BTF=y is needed\n");
		return RECORD_EXIT_RUNTIME;
	}
	ret = session__open(&s, o);
	if (!ret) {
		catch_signals();
		ret = session__start(&s);
	}
	if (!ret)
		ret = session__run(&s, &exiting);
	if (!ret) {
		session__finish(&s);
		ret = session__write(&s);
	}
	session__close(&s);
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
	struct record_opts o = {
		.max_drop_pct = SLO_MAX_DROP_PCT,
		.interval_s = 1,
		.quiet_ms = 200,
		.db_probes = 1u << DB_PATH_WIRE,
		.redis = true,
		.outbound = RECORD_OUTBOUND_ON,
		.slow_ms = 1000,
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
		return argc < 2 ? RECORD_EXIT_USAGE : RECORD_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("%s\n", argp_program_version);
		return RECORD_EXIT_OK;
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
		return RECORD_EXIT_USAGE;
	}
	argp_err_exit_status = RECORD_EXIT_USAGE;
	argv[1] = "sloprobe record";
	/* The files the options name (--slo, --routes-from) are read with the caller's rights. */
	if (geteuid())
		runas__caps_effective(false);
	err = argp_parse(&argp, argc - 1, argv + 1, ARGP_IN_ORDER, NULL, &o);
	if (err)
		return RECORD_EXIT_USAGE;
	if (geteuid())
		runas__caps_effective(true);
	err = record(&o);
	route_set__free(o.routes);
	slo__free(o.slo);
	runas__free(&o.user);
	return err;
}