#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs the sloprobe demo: a private PostgreSQL and Redis, a fake payment provider
# (provider.py), the demo shop API (app.py, uvicorn with two workers) and wrk driving load.lua
# against it, recorded by `sloprobe record` unless --no-probe is given; in the baseline mode,
# the tuned mode or both one after the other (same load, fresh database, cache and provider
# each), then `sloprobe diff` of the two and an HTML report. The four run as the Compose
# project "shop" (services db, cache, payments, api) on a private dockerd the script starts
# (tools/docker-private.sh), so that sloprobe names them as it names a user's Compose stack;
# where dockerd cannot start (or with --no-docker), as host processes. Everything runs in a
# temporary directory that is removed at the end, together with every process and container
# the script started, also on failure or Ctrl-C.
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
SLOPROBE=${SLOPROBE:-$REPO/sloprobe} # another build: SLOPROBE=/path/to/sloprobe run.sh

usage() {
	cat <<EOF
usage: $0 [options]

  --mode MODE        baseline, tuned or both (default both: baseline, then tuned)
  --no-probe         run the stack and the load without sloprobe (no root needed)
  --duration SECS    length of each load run (default 20)
  --connections N    wrk connections (default 4)
  --port PORT        port of the API (default 8000; the next free one if it is taken)
  --slo FILE         SLO file for 'sloprobe record --slo' (default tools/demo/slo.yaml)
  --slow-ms MS       sloprobe's slow-query threshold (default 20)
  --keep             leave the stack (of the last mode) running and print how to stop it
  --no-docker        run the stack as host processes, not as the Compose project 'shop' on a
                     private dockerd (the default where dockerd can start; needs root)
  -h, --help         this text

With the probe (needs root and a built ./sloprobe) the reports go to the repository root:
one mode writes demo-report.json; both write demo-baseline.json and demo-tuned.json, print
'sloprobe diff' of the two and write demo-baseline.html, demo-tuned.html and demo-diff.html.

Exit status: 0 done (the baseline breaching its SLOs is the expected outcome), 1 an error,
2 a usage error, 3 the tuned run breached an SLO.
EOF
}

MODE=both
PROBE=1
SLO_FILE=$DEMO_DIR/slo.yaml
SLOW_MS=20
DURATION=20
CONNECTIONS=4
PORT=8000
KEEP=0
DOCKER=1 # 1: the stack as Compose services on a private dockerd, 0: as host processes

need_value() {
	[[ $# -ge 2 && -n $2 ]] || { echo "demo: $1 needs a value" >&2; exit 2; }
}

while [[ $# -gt 0 ]]; do
	case $1 in
	--mode) need_value "$@"; MODE=$2; shift ;;
	--mode=*) MODE=${1#*=} ;;
	--no-probe) PROBE=0 ;;
	--slo) need_value "$@"; SLO_FILE=$2; shift ;;
	--slo=*) SLO_FILE=${1#*=} ;;
	--slow-ms) need_value "$@"; SLOW_MS=$2; shift ;;
	--slow-ms=*) SLOW_MS=${1#*=} ;;
	--duration) need_value "$@"; DURATION=$2; shift ;;
	--duration=*) DURATION=${1#*=} ;;
	--connections) need_value "$@"; CONNECTIONS=$2; shift ;;
	--connections=*) CONNECTIONS=${1#*=} ;;
	--port) need_value "$@"; PORT=$2; shift ;;
	--port=*) PORT=${1#*=} ;;
	--keep) KEEP=1 ;;
	--no-docker) DOCKER=0 ;;
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
is_uint "$SLOW_MS" || { echo "demo: --slow-ms must be a positive number of milliseconds" >&2; exit 2; }
case $MODE in
baseline | tuned) MODES=("$MODE") ;;
both) MODES=(baseline tuned) ;;
*) echo "demo: --mode must be baseline, tuned or both" >&2; exit 2 ;;
esac
DURATION=$((10#$DURATION)) CONNECTIONS=$((10#$CONNECTIONS)) PORT=$((10#$PORT))
SLOW_MS=$((10#$SLOW_MS))
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
REDIS_PID=""
PROVIDER_PID=""
DOCKER_DIR=""
# what the Compose file is written from (write_compose), set as each service is started
REDIS_PORT="" PROVIDER_PORT="" PROVIDER_LOG="" PROVIDER_OUT="" DSN="" API_MODE=""
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
	if ((DOCKER)); then
		# The PIDs are the containers' processes: Docker stops them (db with SIGINT, a fast
		# shutdown), then the private dockerd goes, by its PID, with its mounts.
		if [[ -n $DOCKER_DIR ]]; then
			compose down -t 10 >>"$TMP/compose.log" 2>&1 ||
				echo "demo: docker-compose down failed: $(tail -n 1 "$TMP/compose.log")" >&2
			"$REPO/tools/docker-private.sh" stop "$DOCKER_DIR"
		fi
	else
		stop_pid "$APP_PID" TERM 10
		stop_pid "$PROVIDER_PID" TERM 5
		stop_pid "$REDIS_PID" TERM 10
		stop_postgres
	fi
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
"$PYTHON" -c 'import fastapi, uvicorn, sqlalchemy, psycopg2, redis, urllib3' 2>/dev/null ||
	die "$PYTHON lacks fastapi, uvicorn, sqlalchemy, psycopg2, redis or urllib3 (apt-get" \
		"install python3-fastapi python3-uvicorn python3-sqlalchemy python3-psycopg2" \
		"python3-redis python3-urllib3)"
command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 ||
	die "the Redis server is not installed (apt-get install redis-server redis-tools)"
if ((EUID == 0)) && ! id postgres >/dev/null 2>&1; then
	die "there is no user 'postgres' to run the database as (apt-get install postgresql)"
fi
if ((PROBE)); then
	((EUID == 0)) || die "sloprobe needs root: run 'sudo make demo', or use --no-probe"
	[[ -x $SLOPROBE ]] || die "$SLOPROBE is not built: run 'make', or use --no-probe"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sloprobe-demo.XXXXXX")
chmod 755 "$TMP"
PG_DIR=$TMP/pg
PG_DATA=$PG_DIR/data
PG_LOG=$PG_DIR/postgres.log
REDIS_DIR=$TMP/redis
REDIS_LOG=$REDIS_DIR/redis.log
LOG_DIR=$TMP/log # the API's and the provider's output (mounted into their containers)
APP_LOG=""
mkdir -m 700 "$PG_DIR" "$REDIS_DIR"
mkdir -m 755 "$LOG_DIR"
((EUID == 0)) && chown postgres:postgres "$PG_DIR"
log "temp dir $TMP"

# ---- the container engine -------------------------------------------------------------------

# The stack is the Compose project "shop" on a private dockerd (socket, data root and exec root
# in TMP/docker), which sloprobe asks for the names through DOCKER_HOST, as it would ask the
# host's Docker. No registry is needed: the image, empty:1, is an empty tar imported by
# docker-private.sh, and the containers run the host's programs, with /usr /lib /lib64 /bin
# /etc bind-mounted read-only, and --network host, so that all traffic stays on 127.0.0.1 and
# every port and check below is the same in both ways of running the stack.
COMPOSE_PROJECT=shop
if ((DOCKER)); then
	if ((EUID != 0)); then
		log "not root: the stack runs as host processes (its Compose project needs a private dockerd)"
		DOCKER=0
	elif ! command -v docker-compose >/dev/null 2>&1; then
		log "docker-compose is not installed: the stack runs as host processes"
		DOCKER=0
	elif why=$("$REPO/tools/docker-private.sh" start "$TMP/docker" 2>&1); then
		DOCKER_DIR=$TMP/docker
		export DOCKER_HOST=unix://$DOCKER_DIR/sock
		log "private dockerd on $DOCKER_HOST; image empty:1 (docker import of an empty tar)"
	else
		why=${why##*$'\n'}
		log "${why:-dockerd cannot start}: the stack runs as host processes"
		DOCKER=0
	fi
fi

compose() {
	timeout 180 docker-compose --ansi never -p "$COMPOSE_PROJECT" -f "$TMP/docker-compose.yml" "$@"
}

# yq STRING: STRING as a YAML double-quoted scalar, with Compose's '$' escaped.
yq() {
	local v=${1//\\/\\\\}
	v=${v//\"/\\\"}
	printf '"%s"' "${v//\$/\$\$}"
}

# yl STRING...: a YAML flow list.
yl() {
	local sep="" a
	printf '['
	for a in "$@"; do
		printf '%s%s' "$sep" "$(yq "$a")"
		sep=", "
	done
	printf ']'
}

# service NAME VOLUME... -- COMMAND...: one service of the host's binaries on the host's network.
service() {
	local name=$1 d
	shift
	printf '  %s:\n    image: empty:1\n    network_mode: host\n    volumes:\n' "$name"
	for d in /usr /lib /lib64 /bin /etc; do
		[[ -d $d ]] && printf '      - %s\n' "$(yq "$d:$d:ro")"
	done
	while [[ $1 != -- ]]; do
		printf '      - %s\n' "$(yq "$1")"
		shift
	done
	shift
	printf '    command: %s\n' "$(yl "$@")"
}

# The command's output appended to the file in $0, as the host processes' is.
# shellcheck disable=SC2016 # expanded by the container's shell
LOGGED='exec "$@" >>"$0" 2>&1'

# write_compose: the Compose file of the stack as it is now (the API's mode, the provider's
# port and logs change with each mode; db and cache do not, so that Compose leaves them be).
write_compose() {
	{
		echo 'version: "2.4"'
		echo 'services:'
		service db "$PG_DIR:$PG_DIR" "$DEMO_DIR:$DEMO_DIR:ro" -- /bin/sh -c "$LOGGED" \
			"$PG_LOG" "$PG_BIN/postgres" -D "$PG_DATA" -c listen_addresses=127.0.0.1 \
			-p "$PG_PORT" -k "$PG_DIR"
		# numeric: dockerd looks names up in the image's /etc/passwd, not the mounted one
		printf '    user: %s\n' "$(yq "$(id -u postgres):$(id -g postgres)")"
		echo '    stop_signal: SIGINT' # a fast shutdown
		service cache "$REDIS_DIR:$REDIS_DIR" -- "$(command -v redis-server)" \
			--bind 127.0.0.1 --port "$REDIS_PORT" --dir "$REDIS_DIR" --save "" \
			--appendonly no --daemonize no --logfile "$REDIS_LOG"
		service payments "$DEMO_DIR:$DEMO_DIR:ro" "$LOG_DIR:$LOG_DIR" -- /bin/sh -c "$LOGGED" \
			"$PROVIDER_OUT" "$PYTHON" "$DEMO_DIR/provider.py" "$PROVIDER_PORT" "$PROVIDER_LOG"
		service api "$DEMO_DIR:$DEMO_DIR:ro" "$LOG_DIR:$LOG_DIR" -- /bin/sh -c "$LOGGED" \
			"$APP_LOG" "$PYTHON" -m uvicorn app:app --app-dir "$DEMO_DIR" --workers 2 \
			--host 127.0.0.1 --port "$PORT"
		echo '    environment:'
		for v in "DEMO_MODE=$API_MODE" "DEMO_DSN=$DSN" \
			"DEMO_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0" \
			"DEMO_PAYMENT_URL=http://127.0.0.1:$PROVIDER_PORT" PYTHONDONTWRITEBYTECODE=1; do
			printf '      - %s\n' "$(yq "$v")"
		done
		# the knobs of app.py, passed through from this environment as to the host processes
		for v in DEMO_POOL_SIZE DEMO_POOL_MAX_OVERFLOW DEMO_POOL_TIMEOUT DEMO_REDIS_TTL \
			DEMO_CACHE_TTL DEMO_TCP_NODELAY; do
			if [[ -n ${!v+set} ]]; then
				printf '      - %s\n' "$(yq "$v=${!v}")"
			fi
		done
	} >"$TMP/docker-compose.yml"
}

# up SERVICE: (re)creates and starts it from the Compose file of now; UP_PID is the host PID of
# its first process, UP_NAME its container's name.
up() {
	local id
	write_compose
	compose up -d --no-deps --force-recreate "$1" >>"$TMP/compose.log" 2>&1 ||
		die "docker-compose up $1 failed" "$TMP/compose.log"
	id=$(compose ps -q "$1" 2>>"$TMP/compose.log") || die "docker-compose ps $1 failed"
	read -r UP_PID UP_NAME < <(timeout 60 docker inspect -f '{{.State.Pid}} {{.Name}}' "$id")
	UP_NAME=${UP_NAME#/}
}

# ---- PostgreSQL -----------------------------------------------------------------------------

PG_PORT=$(free_port 55432) || die "no free port for PostgreSQL in 55432..55531"
PG_VERSION=$(basename "$(dirname "$PG_BIN")")
as_pg "$PG_BIN/initdb" -D "$PG_DATA" -A trust -U postgres -E UTF8 --no-locale -N \
	>"$TMP/initdb.log" 2>&1 || die "initdb failed" "$TMP/initdb.log"
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres)
if ((DOCKER)); then
	up db
	log "starting PostgreSQL $PG_VERSION on 127.0.0.1:$PG_PORT: Compose service db," \
		"container $UP_NAME"
	deadline=$((SECONDS + 30))
	until "${PSQL[@]}" -d postgres -c 'select 1' >/dev/null 2>&1; do
		alive "$UP_PID" || die "PostgreSQL (service db) exited during startup" "$PG_LOG"
		((SECONDS < deadline)) || die "PostgreSQL did not answer within 30 s" "$PG_LOG"
		sleep 0.2
	done
else
	log "starting PostgreSQL $PG_VERSION on 127.0.0.1:$PG_PORT"
	as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 30 \
		-o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR" start \
		>"$TMP/pg_ctl.log" 2>&1 || die "PostgreSQL did not start" "$TMP/pg_ctl.log" "$PG_LOG"
fi

"${PSQL[@]}" -d postgres -c 'CREATE DATABASE demo' >"$TMP/schema.log" 2>&1 ||
	die "could not create the demo database" "$TMP/schema.log" "$PG_LOG"

# load_db MODE: a fresh copy of the data (schema.sql drops and recreates everything), with the
# indexes of tuned.sql in the tuned mode; then a checkpoint, so that the load does not pay
# for the seed's writes.
load_db() {
	log "$1: loading schema.sql (20000 items, 2000 users, ~100000 orders)"
	"${PSQL[@]}" -d demo -f "$DEMO_DIR/schema.sql" >>"$TMP/schema.log" 2>&1 ||
		die "loading schema.sql failed" "$TMP/schema.log"
	if [[ $1 == tuned ]]; then
		log "$1: adding the indexes of tuned.sql"
		"${PSQL[@]}" -d demo -f "$DEMO_DIR/tuned.sql" >>"$TMP/schema.log" 2>&1 ||
			die "loading tuned.sql failed" "$TMP/schema.log"
	fi
	"${PSQL[@]}" -d demo -c CHECKPOINT >>"$TMP/schema.log" 2>&1 ||
		die "CHECKPOINT failed" "$TMP/schema.log" "$PG_LOG"
}

# ---- Redis ----------------------------------------------------------------------------------

# A throwaway Redis: loopback only, nothing saved (no RDB snapshots, no AOF), its working
# directory inside TMP. Emptied before each mode, like the database is reloaded.
REDIS_PORT=$(free_port 56379) || die "no free port for Redis in 56379..56478"
if ((DOCKER)); then
	up cache
	REDIS_PID=$UP_PID
	log "starting $(redis-server --version | cut -d' ' -f1-3) on 127.0.0.1:$REDIS_PORT:" \
		"Compose service cache, container $UP_NAME"
else
	log "starting $(redis-server --version | cut -d' ' -f1-3) on 127.0.0.1:$REDIS_PORT"
	setsid redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$REDIS_DIR" --save "" \
		--appendonly no --daemonize no --logfile "$REDIS_LOG" </dev/null >/dev/null 2>&1 &
	REDIS_PID=$!
fi
REDIS_CLI=(redis-cli -h 127.0.0.1 -p "$REDIS_PORT")
deadline=$((SECONDS + 15))
until [[ $("${REDIS_CLI[@]}" ping 2>/dev/null) == PONG ]]; do
	alive "$REDIS_PID" || die "redis-server exited during startup" "$REDIS_LOG"
	((SECONDS < deadline)) || die "redis-server did not answer PING within 15 s" "$REDIS_LOG"
	sleep 0.1
done

reset_cache() {
	"${REDIS_CLI[@]}" flushall >/dev/null || die "FLUSHALL failed" "$REDIS_LOG"
}

# ---- payment provider -----------------------------------------------------------------------

# start_provider MODE: provider.py with a fresh memory (the order ids start over with the
# database, and its failures are scheduled by order id) and its own log of attempts.
start_provider() {
	local deadline
	PROVIDER_LOG=$LOG_DIR/provider-$1.log
	PROVIDER_OUT=$LOG_DIR/provider-$1.out
	: >"$PROVIDER_LOG"
	# Chosen again for each mode: other programs come and go between the two.
	PROVIDER_PORT=$(free_port 58080) || die "no free port for the provider in 58080..58179"
	if ((DOCKER)); then
		up payments
		PROVIDER_PID=$UP_PID
	else
		setsid "$PYTHON" "$DEMO_DIR/provider.py" "$PROVIDER_PORT" "$PROVIDER_LOG" \
			</dev/null >"$PROVIDER_OUT" 2>&1 &
		PROVIDER_PID=$!
	fi
	deadline=$((SECONDS + 15))
	until [[ $(http_get "http://127.0.0.1:$PROVIDER_PORT/health") == 200 ]]; do
		alive "$PROVIDER_PID" || die "provider.py exited during startup" "$PROVIDER_OUT"
		((SECONDS < deadline)) ||
			die "provider.py did not answer /health within 15 s" "$PROVIDER_OUT"
		sleep 0.1
	done
	if ((DOCKER)); then
		log "$1: payment provider up on 127.0.0.1:$PROVIDER_PORT (Compose service payments," \
			"container $UP_NAME, pid $PROVIDER_PID)"
	else
		log "$1: payment provider up on 127.0.0.1:$PROVIDER_PORT (pid $PROVIDER_PID)"
	fi
}

stop_provider() {
	if ((DOCKER)); then
		compose stop -t 5 payments >>"$TMP/compose.log" 2>&1 ||
			die "docker-compose stop payments failed" "$TMP/compose.log"
	else
		stop_pid "$PROVIDER_PID" TERM 5
	fi
	PROVIDER_PID=""
}

# ---- API ------------------------------------------------------------------------------------

if port_busy "$PORT"; then
	want=$PORT
	PORT=$(free_port $((PORT + 1))) || die "port $want is taken and so are the next 100"
	log "port $want is taken, using $PORT"
fi
DSN="postgresql+psycopg2://postgres@127.0.0.1:$PG_PORT/demo"

# start_api MODE: uvicorn with two workers in that mode; returns when both answer.
start_api() {
	local mode=$1 deadline code
	APP_LOG=$LOG_DIR/uvicorn-$mode.log
	API_MODE=$mode
	if port_busy "$PORT"; then
		die "port $PORT is taken again; cannot start the $mode API"
	fi
	if ((DOCKER)); then
		: >"$APP_LOG"
		up api
		APP_PID=$UP_PID
		log "$mode: starting uvicorn (2 workers, DEMO_MODE=$mode) on 127.0.0.1:$PORT:" \
			"Compose service api, container $UP_NAME"
	else
		log "$mode: starting uvicorn (2 workers, DEMO_MODE=$mode) on 127.0.0.1:$PORT"
		# setsid: a Ctrl-C in the terminal reaches this script, which stops the API in order.
		DEMO_MODE=$mode DEMO_DSN=$DSN DEMO_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0 \
			DEMO_PAYMENT_URL=http://127.0.0.1:$PROVIDER_PORT PYTHONDONTWRITEBYTECODE=1 \
			setsid "$PYTHON" -m uvicorn app:app \
			--app-dir "$DEMO_DIR" --workers 2 --host 127.0.0.1 --port "$PORT" \
			</dev/null >>"$APP_LOG" 2>&1 &
		APP_PID=$!
	fi

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
	until (($(started) >= 2)) || ((SECONDS >= deadline)); do
		sleep 0.2
	done
	code=$(http_get "http://127.0.0.1:$PORT/items/1")
	[[ $code == 200 ]] ||
		die "GET /items/1 answered $code: the API cannot use the database" "$APP_LOG" "$PG_LOG"
	curl -sf -m 5 -o "$TMP/openapi.json" "http://127.0.0.1:$PORT/openapi.json" ||
		die "GET /openapi.json failed" "$APP_LOG"
	log "$mode: API is up (uvicorn pid $APP_PID)"
}
started() { grep -c 'Application startup complete' "$APP_LOG" || true; }

stop_api() {
	if ((DOCKER)); then
		compose stop -t 10 api >>"$TMP/compose.log" 2>&1 ||
			die "docker-compose stop api failed" "$TMP/compose.log"
	else
		stop_pid "$APP_PID" TERM 10
	fi
	APP_PID=""
}

# ---- sloprobe features ----------------------------------------------------------------------

if ((PROBE)); then
	[[ -r $SLO_FILE ]] || die "cannot read the SLO file $SLO_FILE"
fi

# ---- load -----------------------------------------------------------------------------------


# run_load MODE REPORT: wrk for DURATION seconds, under sloprobe unless --no-probe. Sets
# load_rc to the exit status of sloprobe (or wrk).
run_load() {
	local mode=$1 report=$2
	local wrk=(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency
		-s "$DEMO_DIR/load.lua" "http://127.0.0.1:$PORT")
	# Routes from the API's own OpenAPI document: endpoints named as FastAPI names them.
	# --comm: the shop's processes only, not the provider (a remote API in real life) nor wrk.
	local rec=("$SLOPROBE" record -i 2 -o "$report" -c python3 -P "$PORT" -P "$PG_PORT"
		-P "$REDIS_PORT" -P "$PROVIDER_PORT"
		--slow-ms "$SLOW_MS" --routes-from "$TMP/openapi.json" --slo "$SLO_FILE")
	cd "$REPO"
	if ((PROBE)); then
		rm -f -- "$report"
		log "$mode: recording ${DURATION}s of load with sloprobe"
		"${rec[@]}" -- "${wrk[@]}" &
	else
		log "$mode: running ${DURATION}s of load (no probe)"
		"${wrk[@]}" &
	fi
	LOAD_PID=$!
	# wait in the background job, not in a foreground command, so that signals are acted on now.
	if wait "$LOAD_PID"; then load_rc=0; else load_rc=$?; fi
	LOAD_PID=""
}

# ---- results --------------------------------------------------------------------------------

# access_table LOG: what the API really answered, from the uvicorn access log.
access_table() {
	"$PYTHON" - "$1" <<'EOF'
import collections, re, sys

line_re = re.compile(r'"([A-Z]+) ([^ ]+) HTTP/[0-9.]+" (\d{3})')
routes = [
    (re.compile(r"^/health$"), "GET /health"),
    (re.compile(r"^/items/\d+$"), "GET /items/{item_id}"),
    (re.compile(r"^/items$"), "GET /items"),
    (re.compile(r"^/users/\d+/quota$"), "GET /users/{user_id}/quota"),
    (re.compile(r"^/users/\d+/orders$"), "GET /users/{user_id}/orders"),
    (re.compile(r"^/stats/daily$"), "GET /stats/daily"),
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
}

# provider_table LOG: what the payment provider saw, from its own log (provider.py): the
# ground truth for sloprobe's outbound section.
provider_table() {
	"$PYTHON" - "$1" <<'EOF'
import collections, sys

attempts = collections.Counter()
status = collections.Counter()
charged, orders, kinds = set(), {}, {}
times = collections.defaultdict(dict)
with open(sys.argv[1]) as f:
    for line in f:
        try:
            order, n, code, kind, arrival, answer = line.split()
        except ValueError:
            continue
        status[code] += 1
        attempts[kind] += 1
        orders[order] = max(orders.get(order, 0), int(n))
        kinds[order] = kind
        times[order][int(n)] = (float(arrival), float(answer))
        if code == "200":
            charged.add(order)
total = sum(attempts.values())
if not total:
    print("payment provider: no charge attempts")
    sys.exit(0)
again = total - len(orders)
print("\nPayment provider (its own log): %d attempts for %d orders, %d of them repeats;"
      " status %s" % (total, len(orders), again,
                      ", ".join("%s %d" % kv for kv in sorted(status.items()))))
for kind, what in (("busy", "503 for 60 ms"), ("slow", "first answer after 1 s")):
    ids = [o for o, k in kinds.items() if k == kind]
    if ids:
        print("  %-4s orders (%s): %d, %d attempts, %d charged"
              % (kind, what, len(ids), attempts[kind], sum(o in charged for o in ids)))
print("  orders never charged: %d" % (len(orders) - len(charged)))
# An answer written after its client gave up (a stall past the timeout) does not count: the
# client's backoff starts from its timeout, which the provider cannot see.
gaps = sorted(t[n + 1][0] - t[n][1] for t in times.values() for n in t
              if n + 1 in t and t[n + 1][0] >= t[n][1])
if gaps:
    print("  from an answer to the next attempt of its order: %d times, min %.1f ms, median"
          " %.1f ms, max %.1f ms" % (len(gaps), gaps[0], gaps[len(gaps) // 2], gaps[-1]))
EOF
}

# report_summary REPORT: the busiest endpoints and the database flags sloprobe found.
report_summary() {
	echo
	"$PYTHON" - "$1" <<'EOF' || echo "demo: could not summarize $1" >&2
import collections, json, sys
r = json.load(open(sys.argv[1]))
eps = r.get("http") or []
ev = r.get("events") or {}
print("sloprobe: %d endpoint(s), %s events, %s dropped"
      % (len(eps), ev.get("total", "?"), ev.get("dropped", "?")))
# Who served them, as sloprobe named them: the Compose service and its container, or a process.
for svc in dict.fromkeys(e["service"] for e in eps):
    e = next(x for x in eps if x["service"] == svc)
    if e.get("compose_project"):
        print("  service %s: Compose project %s, service %s, container %s, image %s"
              % (svc, e["compose_project"], e.get("compose_service"), e.get("container"),
                 e.get("image", "?")))
    elif e.get("container"):
        print("  service %s: container %s" % (svc, e["container"]))
    else:
        print("  service %s: process %s, pids %s"
              % (svc, e.get("comm"), " ".join(map(str, e.get("pids") or []))))
clients = []
for what, rows in (("database", r.get("db") or []),
                   ("cache", (r.get("cache") or {}).get("rows") or [])):
    pairs = sorted({"%s -> %s" % (x.get("client"), x.get("server") or "?") for x in rows})
    if pairs:
        clients.append("%s %s" % (what, ", ".join(pairs)))
if clients:
    print("  clients: " + "; ".join(clients))
print("  %-6s %-28s %8s %9s %9s %6s %8s %5s"
      % ("method", "route", "count", "p95 ms", "p99 ms", "5xx", "aborted", "q/req"))
aborted = 0
for e in eps[:10]:
    lat = e.get("latency_ms") or {}
    aborted += e.get("aborted", 0)
    print("  %-6s %-28s %8d %9.2f %9.2f %6d %8d %5.1f"
          % (e["method"], e["route"][:28], e["count"], lat.get("p95", 0), lat.get("p99", 0),
             (e.get("errors") or {}).get("5xx", 0), e.get("aborted", 0),
             (e.get("db") or {}).get("queries_per_request", 0)))
if aborted:
    print("  (aborted: requests still in flight when wrk closed its connections at the end;"
          " uvicorn may still log some of them)")
flags = r.get("db_flags") or []
kinds = {}
for f in flags:
    kinds[f.get("kind", "?")] = kinds.get(f.get("kind", "?"), 0) + 1
print("database flags: " + (", ".join("%s %d" % kv for kv in sorted(kinds.items())) or "none"))
seen = set()
for f in flags:
    if f.get("kind") in seen:
        continue
    seen.add(f.get("kind"))
    where = f.get("endpoint") or ""
    print("  %-16s %s%s" % (f.get("kind", "?"), (where + ": ") if where else "",
                            (f.get("evidence") or "")[:160]))

# The slowest request of each of the three slowest endpoints, kept whole: what ran inside it.
queries = {q["query_id"]: q["query"] for q in r.get("db") or []}
slowest = {}
for x in r.get("exemplars") or []:
    k = (x["method"], x["route"])
    if k not in slowest or x["latency_ms"] > slowest[k]["latency_ms"]:
        slowest[k] = x
if slowest:
    print("slowest requests, whole (exemplars):")
for x in sorted(slowest.values(), key=lambda x: -x["latency_ms"])[:3]:
    kinds = collections.Counter(s["kind"] for s in x["spans"])
    fps = collections.Counter(s["query_id"] for s in x["spans"] if s["kind"] == "query")
    top = fps.most_common(1)
    print("  %-6s %-28s %8.1f ms: %d queries%s, %d cache calls, %d outbound calls"
          % (x["method"], x["route"][:28], x["latency_ms"], kinds["query"],
             " (%d x %s)" % (top[0][1], (queries.get(top[0][0]) or top[0][0])[:50])
             if top and top[0][1] > 1 else "", kinds["cache"], kinds["http"]))


def pct(x):
    return "-" if x is None else "%.1f %%" % (100 * x)


c = r.get("cache")
if c:
    print("cache (Redis): %d commands, %d errors; keys read %d hits / %d misses: hit ratio %s"
          % (c["commands"], c["errors"], c["hits"], c["misses"], pct(c["hit_ratio"])))
    pats = {}
    for row in c.get("rows") or []:
        p = pats.setdefault(row["pattern"], collections.Counter())
        for k in ("count", "reads", "hits", "misses", "writes", "writes_without_ttl"):
            p[k] += row.get(k, 0)
    print("  %-22s %8s %8s %8s %8s %10s %8s" % ("key pattern", "commands", "reads", "hits",
                                                  "misses", "hit ratio", "no TTL"))
    for name, p in sorted(pats.items(), key=lambda kv: -kv[1]["count"])[:6]:
        keys = p["hits"] + p["misses"]
        print("  %-22s %8d %8d %8d %8d %10s %8d"
              % (name[:22], p["count"], p["reads"], p["hits"], p["misses"],
                 pct(p["hits"] / keys if keys else None), p["writes_without_ttl"]))
    for e in eps:
        dep = e.get("cache")
        if dep and dep.get("calls_per_request"):
            print("  %-6s %-28s %4.1f calls/req, hit ratio %s, %d requests read a key twice"
                  % (e["method"], e["route"][:28], dep["calls_per_request"],
                     pct(dep.get("hit_ratio")), dep.get("repeat_requests", 0)))
    cflags = c.get("flags") or []
    kinds = collections.Counter(f["kind"] for f in cflags)
    print("cache flags: " + (", ".join("%s %d" % kv for kv in sorted(kinds.items())) or "none"))
    seen = set()
    for f in cflags:
        if f["kind"] in seen:
            continue
        seen.add(f["kind"])
        print("  %-16s %s%s" % (f["kind"], (f.get("pattern") or "") + ": ",
                                (f.get("evidence") or "")[:140]))

o = r.get("outbound")
if o is not None:
    fails = collections.Counter()
    for call in o.get("calls") or []:
        for k, n in (call.get("failures") or {}).items():
            fails[k] += n
        fails["503"] += (call.get("status") or {}).get("503", 0)
    print("outbound calls: " + (", ".join("%s %d" % kv for kv in sorted(fails.items()) if kv[1])
                                or "no failures"))
    for d in o.get("destinations") or []:
        b = (d.get("backoff") or {}).get("latency_ms") or {}
        print("  %s -> %s: %d attempts, %d failed, %d retries (%d chains succeeded, %d gave up)"
              "%s" % (d["caller"], d["host"] or d["peer"], d["attempts"], d["failed"],
                      d["retries"], d["retry_success"], d["retry_exhausted"],
                      ", backoff p50 %.1f ms, p95 %.1f ms, max %.1f ms"
                      % (b["p50"], b["p95"], b["max"]) if b else ""))
EOF
	log "report: $1"
}

# dependencies BASELINE TUNED: the cache and the payment calls of the two runs, one line each.
dependencies() {
	"$PYTHON" - "$@" <<'EOF' || echo "demo: could not compare the dependencies" >&2
import json, sys

for name, path in zip(("baseline", "tuned"), sys.argv[1:]):
    r = json.load(open(path))
    c = r.get("cache") or {}
    hr = c.get("hit_ratio")
    line = "%-8s cache: hit ratio %s (%d of %d keys read), %d flags" % (
        name, "-" if hr is None else "%.1f %%" % (100 * hr), c.get("hits", 0),
        c.get("hits", 0) + c.get("misses", 0), len(c.get("flags") or []))
    dests = (r.get("outbound") or {}).get("destinations")
    if dests is not None:
        a = sum(d["attempts"] for d in dests)
        line += "; payment: %d attempts, %d failed, %d retries, %d retry chains gave up" % (
            a, sum(d["failed"] for d in dests), sum(d["retries"] for d in dests),
            sum(d["retry_exhausted"] for d in dests))
    print("demo: " + line)
EOF
}

# ---- the runs -------------------------------------------------------------------------------

declare -A RC REPORTS
for mode in "${MODES[@]}"; do
	if ((${#MODES[@]} > 1)); then
		REPORTS[$mode]=$REPO/demo-$mode.json
	else
		REPORTS[$mode]=$REPO/demo-report.json
	fi
	echo
	log "======== $mode mode ========"
	load_db "$mode"
	reset_cache
	start_provider "$mode"
	start_api "$mode"
	run_load "$mode" "${REPORTS[$mode]}"
	RC[$mode]=$load_rc
	access_table "$APP_LOG"
	provider_table "$PROVIDER_LOG"
	if ((PROBE)) && [[ -s ${REPORTS[$mode]} ]]; then
		report_summary "${REPORTS[$mode]}"
	fi
	# Exit status 3 is sloprobe's "an SLO was breached": a verdict, not a failure here.
	if ((load_rc != 0 && !(PROBE && load_rc == 3))); then
		if ((PROBE)); then
			die "$mode: sloprobe record exited with status $load_rc" "$APP_LOG"
		fi
		die "$mode: wrk exited with status $load_rc" "$APP_LOG"
	fi
	if ((PROBE)) && [[ ! -s ${REPORTS[$mode]} ]]; then
		die "$mode: sloprobe wrote no report to ${REPORTS[$mode]}"
	fi
	if ((KEEP)) && [[ $mode == "${MODES[-1]}" ]]; then
		break
	fi
	stop_api
	stop_provider
done

# ---- comparison -----------------------------------------------------------------------------

status=0
if ((PROBE && ${#MODES[@]} > 1)); then
	base=${REPORTS[baseline]} tuned=${REPORTS[tuned]}
	echo
	log "======== sloprobe diff ${base#"$REPO"/} ${tuned#"$REPO"/} ========"
	if "$SLOPROBE" diff "$base" "$tuned"; then rc=0; else rc=$?; fi
	case $rc in
	0) ;;
	3) log "sloprobe diff: an SLO that passed in the baseline breaches in the tuned run" ;;
	*) die "sloprobe diff exited with status $rc" ;;
	esac
	"$SLOPROBE" diff "$base" "$tuned" --label baseline=baseline --label after=tuned \
		--format html -o "$REPO/demo-diff.html" ||
		[[ $? == 3 ]] || die "sloprobe diff --format html failed"
	log "diff: $REPO/demo-diff.html"
	for mode in baseline tuned; do
		"$SLOPROBE" report "${REPORTS[$mode]}" --format html -o "$REPO/demo-$mode.html" ||
			[[ $? == 3 ]] || die "sloprobe report --format html failed"
		log "HTML report of the $mode run: $REPO/demo-$mode.html"
	done
	echo
	dependencies "$base" "$tuned"
fi

if ((PROBE)); then
	echo
	for mode in "${MODES[@]}"; do
		case $mode:${RC[$mode]} in
		baseline:3) log "baseline: SLOs breached, as expected: this is what the tuning fixes" ;;
		baseline:0) log "baseline: no SLO breached (a faster machine than the SLOs assume?)" ;;
		tuned:0) log "tuned: all SLOs met" ;;
		tuned:3)
			echo "demo: error: the TUNED run breached an SLO of $SLO_FILE" \
				"(see the verdicts above; a busy machine?)" >&2
			status=3
			;;
		esac
	done
fi

if ((KEEP && DOCKER)); then
	cat >"$TMP/stop.sh" <<EOF
#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Stops the demo stack left running by run.sh --keep: the Compose project $COMPOSE_PROJECT, then
# the private dockerd (by the PID in $DOCKER_DIR/dockerd.pid), then removes $TMP.
DOCKER_HOST=$DOCKER_HOST docker-compose --ansi never -p $COMPOSE_PROJECT -f $TMP/docker-compose.yml \\
	down -t 10
$REPO/tools/docker-private.sh stop $DOCKER_DIR
rm -rf -- $TMP
EOF
	chmod 755 "$TMP/stop.sh"
	LEAVE_RUNNING=1
	log "left running: the Compose project $COMPOSE_PROJECT on DOCKER_HOST=$DOCKER_HOST: API" \
		"http://127.0.0.1:$PORT (service api, ${MODES[-1]} mode), database $DSN (db)," \
		"Redis 127.0.0.1:$REDIS_PORT (cache), payment provider" \
		"http://127.0.0.1:$PROVIDER_PORT (payments)"
	log "logs in $TMP; stop everything with: $TMP/stop.sh"
elif ((KEEP)); then
	pg_stop="$PG_BIN/pg_ctl -D $PG_DATA -m fast -w stop"
	((EUID == 0)) && pg_stop="cd / && runuser -u postgres -- $pg_stop"
	cat >"$TMP/stop.sh" <<EOF
#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Stops the demo stack left running by run.sh --keep: uvicorn (pid $APP_PID) and its workers,
# the payment provider (pid $PROVIDER_PID), Redis (pid $REDIS_PID), then PostgreSQL, then
# removes $TMP.
stop() { # PID WORD: stop PID if its command line still has WORD (the PID was not reused)
	grep -q "\$2" /proc/\$1/cmdline 2>/dev/null || return 0
	kids=\$(ps -o pid= --ppid \$1)
	kill -TERM \$1
	i=0
	while kill -0 \$1 2>/dev/null && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
	kill -0 \$1 2>/dev/null && kill -KILL \$1 \$kids 2>/dev/null
}
stop $APP_PID uvicorn
stop $PROVIDER_PID provider.py
stop $REDIS_PID redis-server
$pg_stop
rm -rf -- $TMP
EOF
	chmod 755 "$TMP/stop.sh"
	LEAVE_RUNNING=1
	log "left running: API http://127.0.0.1:$PORT (uvicorn pid $APP_PID, ${MODES[-1]} mode)," \
		"database $DSN, Redis 127.0.0.1:$REDIS_PORT, payment provider" \
		"http://127.0.0.1:$PROVIDER_PORT"
	log "logs in $TMP; stop everything with: $TMP/stop.sh"
fi
exit "$status"
