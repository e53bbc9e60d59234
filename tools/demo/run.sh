#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs the sloprobe demo: a private PostgreSQL, the demo shop API (app.py, uvicorn with two
# workers) and wrk driving load.lua against it, recorded by `sloprobe record` unless
# --no-probe is given. Everything runs in a temporary directory that is removed at the end,
# together with every process the script started, also on failure or Ctrl-C.
set -euo pipefail

# Started in the background by a non-interactive shell, the script inherits SIGINT ignored and
# bash could not trap it; start over with the default action so that kill -INT cleans up too.
if [[ $(trap -p INT) == "trap -- '' SIGINT" && -z ${SLOPROBE_DEMO_SIGINT:-} ]] &&
	env --default-signal=INT true 2>/dev/null; then
	exec env --default-signal=INT SLOPROBE_DEMO_SIGINT=1 bash "$0" "$@"
fi
unset SLOPROBE_DEMO_SIGINT

REPO=$(cd "$(dirname "$0")/../.." && pwd)
DEMO_DIR=$REPO/tools/demo
PYTHON=/usr/bin/python3
REPORT=$REPO/demo-report.json

usage() {
	cat <<EOF
usage: $0 [options]

  --no-probe         run the stack and the load without sloprobe (no root needed)
  --duration SECS    length of the load run (default 20)
  --connections N    wrk connections (default 16)
  --port PORT        port of the API (default 8000; the next free one if it is taken)
  --keep             leave the stack running afterwards and print how to stop it
  -h, --help         this text

With the probe (needs root and a built ./sloprobe) the report goes to $REPORT.
EOF
}

PROBE=1
DURATION=20
CONNECTIONS=16
PORT=8000
KEEP=0

need_value() {
	[[ $# -ge 2 && -n $2 ]] || { echo "demo: $1 needs a value" >&2; exit 2; }
}

while [[ $# -gt 0 ]]; do
	case $1 in
	--no-probe) PROBE=0 ;;
	--duration) need_value "$@"; DURATION=$2; shift ;;
	--duration=*) DURATION=${1#*=} ;;
	--connections) need_value "$@"; CONNECTIONS=$2; shift ;;
	--connections=*) CONNECTIONS=${1#*=} ;;
	--port) need_value "$@"; PORT=$2; shift ;;
	--port=*) PORT=${1#*=} ;;
	--keep) KEEP=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "demo: unknown option '$1'" >&2; usage >&2; exit 2 ;;
	esac
	shift
done

is_uint() { [[ $1 =~ ^[0-9]+$ ]] && ((10#$1 > 0)); }
is_uint "$DURATION" || { echo "demo: --duration must be a positive number of seconds" >&2; exit 2; }
is_uint "$CONNECTIONS" || { echo "demo: --connections must be a positive number" >&2; exit 2; }
if ! is_uint "$PORT" || ((10#$PORT > 65535)); then
	echo "demo: --port must be 1..65535" >&2
	exit 2
fi
DURATION=$((10#$DURATION)) CONNECTIONS=$((10#$CONNECTIONS)) PORT=$((10#$PORT))
THREADS=2
((CONNECTIONS >= THREADS)) || THREADS=$CONNECTIONS

log() { printf 'demo: %s\n' "$*"; }

# die MESSAGE [LOG...]: report, show the end of the logs that explain it, exit (cleanup runs).
die() {
	local msg=$1 f
	shift
	printf 'demo: error: %s\n' "$msg" >&2
	for f in "$@"; do
		if [[ -s $f ]]; then
			printf -- '--- last lines of %s ---\n' "$f" >&2
			tail -n 25 "$f" >&2
		fi
	done
	exit 1
}

# ---- processes ------------------------------------------------------------------------------

TMP=""
PG_BIN=""
PG_DIR=""
PG_DATA=""
APP_PID=""
LOAD_PID=""
CLEANED=0
LEAVE_RUNNING=0

# shellcheck source=tools/proc.sh
. "$(dirname "${BASH_SOURCE[0]}")/../proc.sh"

# as_pg CMD...: run a PostgreSQL server command as user postgres (initdb refuses root).
as_pg() {
	if ((EUID == 0)); then
		(cd "$PG_DIR" && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

stop_postgres() {
	local pid
	[[ -n $PG_DATA && -f $PG_DATA/postmaster.pid ]] || return 0
	if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 20 stop >/dev/null 2>&1; then
		pid=$(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null || true)
		if [[ $pid =~ ^[0-9]+$ ]] && alive "$pid"; then
			echo "demo: postgres did not stop in time, killing postmaster $pid" >&2
			kill -s KILL "$pid" 2>/dev/null || true
			wait_gone "$pid" 5 || true
		fi
	fi
}

cleanup() {
	local rc=$?
	trap '' INT TERM
	set +e
	((CLEANED)) && return "$rc"
	CLEANED=1
	((LEAVE_RUNNING)) && return "$rc"
	stop_pid "$LOAD_PID" INT 10
	stop_pid "$APP_PID" TERM 10
	stop_postgres
	[[ -n $TMP && -d $TMP ]] && rm -rf -- "$TMP"
	return "$rc"
}

on_signal() {
	trap '' INT TERM
	echo "demo: interrupted, stopping the stack" >&2
	exit "$1"
}

trap cleanup EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

# ---- helpers --------------------------------------------------------------------------------

http_get() { # URL -> status code on stdout ("000" when nothing answered)
	if command -v curl >/dev/null 2>&1; then
		curl -s -m 2 -o /dev/null -w '%{http_code}' "$1" 2>/dev/null || true
	else
		"$PYTHON" - "$1" <<-'EOF' 2>/dev/null || echo 000
			import sys, urllib.request, urllib.error
			try:
			    print(urllib.request.urlopen(sys.argv[1], timeout=2).status)
			except urllib.error.HTTPError as e:
			    print(e.code)
		EOF
	fi
}

# ---- checks ---------------------------------------------------------------------------------

command -v wrk >/dev/null 2>&1 || die "wrk is not installed (apt-get install wrk)"
command -v psql >/dev/null 2>&1 || die "psql is not installed (apt-get install postgresql-client)"
PG_BIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
[[ -n $PG_BIN && -x $PG_BIN/initdb && -x $PG_BIN/pg_ctl ]] ||
	die "the PostgreSQL server is not installed (apt-get install postgresql)"
"$PYTHON" -c 'import fastapi, uvicorn, sqlalchemy, psycopg2' 2>/dev/null ||
	die "$PYTHON lacks fastapi, uvicorn, sqlalchemy or psycopg2 (apt-get install" \
		"python3-fastapi python3-uvicorn python3-sqlalchemy python3-psycopg2)"
if ((EUID == 0)) && ! id postgres >/dev/null 2>&1; then
	die "there is no user 'postgres' to run the database as (apt-get install postgresql)"
fi
if ((PROBE)); then
	((EUID == 0)) || die "sloprobe needs root: run 'sudo make demo', or use --no-probe"
	[[ -x $REPO/sloprobe ]] || die "$REPO/sloprobe is not built: run 'make', or use --no-probe"
fi

# ---- PostgreSQL -----------------------------------------------------------------------------

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sloprobe-demo.XXXXXX")
chmod 755 "$TMP"
PG_DIR=$TMP/pg
PG_DATA=$PG_DIR/data
PG_LOG=$PG_DIR/postgres.log
APP_LOG=$TMP/uvicorn.log
mkdir -m 700 "$PG_DIR"
((EUID == 0)) && chown postgres:postgres "$PG_DIR"

PG_PORT=$(free_port 55432) || die "no free port for PostgreSQL in 55432..55531"
log "temp dir $TMP"
log "starting PostgreSQL $(basename "$(dirname "$PG_BIN")") on 127.0.0.1:$PG_PORT"
as_pg "$PG_BIN/initdb" -D "$PG_DATA" -A trust -U postgres -E UTF8 --no-locale -N \
	>"$TMP/initdb.log" 2>&1 || die "initdb failed" "$TMP/initdb.log"
as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 30 \
	-o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR" start >"$TMP/pg_ctl.log" 2>&1 ||
	die "PostgreSQL did not start" "$TMP/pg_ctl.log" "$PG_LOG"

PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres)
"${PSQL[@]}" -d postgres -c 'CREATE DATABASE demo' >"$TMP/schema.log" 2>&1 ||
	die "could not create the demo database" "$TMP/schema.log" "$PG_LOG"
log "loading schema.sql (20000 items, 2000 users, ~100000 orders)"
"${PSQL[@]}" -d demo -f "$DEMO_DIR/schema.sql" >>"$TMP/schema.log" 2>&1 ||
	die "loading schema.sql failed" "$TMP/schema.log"

# ---- API ------------------------------------------------------------------------------------

if port_busy "$PORT"; then
	want=$PORT
	PORT=$(free_port $((PORT + 1))) || die "port $want is taken and so are the next 100"
	log "port $want is taken, using $PORT"
fi
DSN="postgresql+psycopg2://postgres@127.0.0.1:$PG_PORT/demo"
log "starting uvicorn (2 workers) on 127.0.0.1:$PORT"
# setsid: a Ctrl-C in the terminal reaches this script, which stops the API in order.
DEMO_DSN=$DSN PYTHONDONTWRITEBYTECODE=1 setsid "$PYTHON" -m uvicorn app:app --app-dir "$DEMO_DIR" \
	--workers 2 --host 127.0.0.1 --port "$PORT" </dev/null >>"$APP_LOG" 2>&1 &
APP_PID=$!

deadline=$((SECONDS + 30))
until [[ $(http_get "http://127.0.0.1:$PORT/health") == 200 ]]; do
	alive "$APP_PID" || die "uvicorn exited during startup" "$APP_LOG"
	# With --workers the supervisor outlives workers that fail to import the app.
	if grep -q -e '^Traceback' -e 'Error loading ASGI app' "$APP_LOG"; then
		die "uvicorn failed to start" "$APP_LOG"
	fi
	((SECONDS < deadline)) || die "uvicorn did not answer /health within 30 s" "$APP_LOG"
	sleep 0.2
done
# Both workers should be up before the load starts (one answering is enough to go on).
started() { grep -c 'Application startup complete' "$APP_LOG" || true; }
until (($(started) >= 2)) || ((SECONDS >= deadline)); do
	sleep 0.2
done
code=$(http_get "http://127.0.0.1:$PORT/items/1")
[[ $code == 200 ]] ||
	die "GET /items/1 answered $code: the API cannot use the database" "$APP_LOG" "$PG_LOG"
log "API is up (uvicorn pid $APP_PID)"

# ---- load -----------------------------------------------------------------------------------

WRK=(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$DEMO_DIR/load.lua"
	"http://127.0.0.1:$PORT")
cd "$REPO"
if ((PROBE)); then
	rm -f -- "$REPORT"
	log "recording ${DURATION}s of load with sloprobe"
	"$REPO/sloprobe" record -i 2 -o "$REPORT" --port "$PORT" -- "${WRK[@]}" &
else
	log "running ${DURATION}s of load (no probe)"
	"${WRK[@]}" &
fi
LOAD_PID=$!
# wait in the background job, not in a foreground command, so that signals are acted on now.
if wait "$LOAD_PID"; then load_rc=0; else load_rc=$?; fi
LOAD_PID=""

# ---- results --------------------------------------------------------------------------------

# What the API really answered, from the uvicorn access log.
"$PYTHON" - "$APP_LOG" <<'EOF'
import collections, re, sys

line_re = re.compile(r'"([A-Z]+) ([^ ]+) HTTP/[0-9.]+" (\d{3})')
routes = [
    (re.compile(r"^/health$"), "GET /health"),
    (re.compile(r"^/items/\d+$"), "GET /items/{item_id}"),
    (re.compile(r"^/items$"), "GET /items"),
    (re.compile(r"^/users/\d+/quota$"), "GET /users/{user_id}/quota"),
    (re.compile(r"^/orders$"), "POST /orders"),
]
counts = collections.defaultdict(collections.Counter)
with open(sys.argv[1], errors="replace") as f:
    for line in f:
        m = line_re.search(line)
        if not m:
            continue
        method, path, status = m.group(1), m.group(2).split("?")[0], m.group(3)
        name = next((n for r, n in routes if r.match(path) and n.startswith(method + " ")),
                    f"{method} other")
        counts[name][status] += 1
total = sum(sum(c.values()) for c in counts.values())
if not total:
    print("access log: no requests logged")
    sys.exit(0)
codes = sorted({s for c in counts.values() for s in c})
print("\nAPI responses (uvicorn access log):")
print(f"  {'route':28} {'count':>8} {'share':>6}  " + "  ".join(f"{s:>6}" for s in codes))
for name in sorted(counts, key=lambda n: -sum(counts[n].values())):
    c = counts[name]
    n = sum(c.values())
    print(f"  {name:28} {n:8d} {100 * n / total:5.1f}%  " + "  ".join(f"{c[s]:6d}" for s in codes))
allc = collections.Counter()
for c in counts.values():
    allc.update(c)
print(f"  {'all':28} {total:8d} {100.0:5.1f}%  " + "  ".join(f"{allc[s]:6d}" for s in codes))
print("  status share: " + ", ".join(f"{s} {100 * allc[s] / total:.2f}%" for s in codes))
n5xx = sum(n for s, n in allc.items() if s.startswith("5"))
if n5xx:
    print(f"  warning: {n5xx} responses with status 5xx")
EOF

if ((PROBE)) && [[ -s $REPORT ]]; then
	echo
	"$PYTHON" -c '
import json, sys
r = json.load(open(sys.argv[1]))
eps = r.get("http") or []
ev = r.get("events") or {}
print("sloprobe: %d endpoint(s), %s events, %s dropped"
      % (len(eps), ev.get("total", "?"), ev.get("dropped", "?")))
print("  %-6s %-30s %8s %10s %6s %8s" % ("method", "route", "count", "p95 ms", "5xx", "aborted"))
aborted = 0
for e in eps[:10]:
    p95 = (e.get("latency_ms") or {}).get("p95", 0)
    e5xx = (e.get("errors") or {}).get("5xx", 0)
    aborted += e.get("aborted", 0)
    print("  %-6s %-30s %8d %10.2f %6d %8d" % (e["method"], e["route"][:30], e["count"], p95, e5xx,
                                          e.get("aborted", 0)))
if aborted:
    print("  (aborted: requests still in flight when wrk closed its connections at the end;"
          " uvicorn may still log some of them)")
' "$REPORT" || echo "demo: could not summarize $REPORT" >&2
	log "report: $REPORT"
fi

if ((load_rc != 0)); then
	if ((PROBE)); then
		die "sloprobe record exited with status $load_rc" "$APP_LOG"
	fi
	die "wrk exited with status $load_rc" "$APP_LOG"
fi
if ((PROBE)) && [[ ! -s $REPORT ]]; then
	die "sloprobe wrote no report to $REPORT"
fi

if ((KEEP)); then
	pg_stop="$PG_BIN/pg_ctl -D $PG_DATA -m fast -w stop"
	((EUID == 0)) && pg_stop="cd / && runuser -u postgres -- $pg_stop"
	cat >"$TMP/stop.sh" <<EOF
#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Stops the demo stack left running by run.sh --keep: uvicorn (pid $APP_PID) and its workers,
# then PostgreSQL, then removes $TMP.
pid=$APP_PID
if grep -q uvicorn /proc/\$pid/cmdline 2>/dev/null; then
	kids=\$(ps -o pid= --ppid \$pid)
	kill -TERM \$pid
	i=0
	while kill -0 \$pid 2>/dev/null && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
	kill -0 \$pid 2>/dev/null && kill -KILL \$pid \$kids 2>/dev/null
fi
$pg_stop
rm -rf -- $TMP
EOF
	chmod 755 "$TMP/stop.sh"
	LEAVE_RUNNING=1
	log "left running: API http://127.0.0.1:$PORT (uvicorn pid $APP_PID), database $DSN"
	log "logs in $TMP; stop everything with: $TMP/stop.sh"
fi
