# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Shell helpers for the benchmarks in bench/ (sourced, not run). They only ever signal the
# processes whose PIDs the caller hands them: the benchmarks share the host with other work
# and must not stop anything they did not start.

# log MESSAGE...: progress on stderr, so that stdout stays the pasteable result.
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }

# usage_error MESSAGE: a bad command line is a one-line error and exit status 2.
usage_error() {
	printf '%s: %s (see --help)\n' "$PROG" "$*" >&2
	exit 2
}

# die MESSAGE [LOG...]: report, show the end of the logs that explain it, exit 1 (the EXIT
# trap of the caller cleans up).
die() {
	local msg=$1 f
	shift
	printf '%s: error: %s\n' "$PROG" "$msg" >&2
	for f in "$@"; do
		if [[ -s $f ]]; then
			printf -- '--- last lines of %s ---\n' "$f" >&2
			# bpftrace complains on every start that it cannot raise RLIMIT_MEMLOCK (harmless
			# since kernel 5.11, which charges BPF memory to the cgroup); hide that noise.
			grep -v 'RLIMIT_MEMLOCK' "$f" | tail -n 25 >&2 || true
		fi
	done
	exit 1
}

# need_value OPTION [VALUE]: the option was given its value.
need_value() {
	[[ $# -ge 2 && -n $2 ]] || usage_error "$1 needs a value"
}

is_uint() { [[ $1 =~ ^[0-9]+$ ]] && ((10#$1 > 0)); }

# need_tool COMMAND PACKAGE: a missing tool is exit status 1, naming the Debian package.
need_tool() {
	command -v "$1" >/dev/null 2>&1 || die "$1 is not installed (apt-get install $2)"
}

# shellcheck source=tools/proc.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tools/proc.sh"

# http_status URL: the status code on stdout ("000" when nothing answered).
http_status() {
	if command -v curl >/dev/null 2>&1; then
		curl -sk -m 2 -o /dev/null -w '%{http_code}' "$1" 2>/dev/null || true
	else
		/usr/bin/python3 - "$1" <<-'EOF' 2>/dev/null || echo 000
			import ssl, sys, urllib.request, urllib.error
			try:
			    print(urllib.request.urlopen(sys.argv[1], timeout=2,
			                                 context=ssl._create_unverified_context()).status)
			except urllib.error.HTTPError as e:
			    print(e.code)
		EOF
	fi
}

# cmdline ARG...: the command line as typed, for the header of the output; quoted only where
# the shell needs it (printf %q alone would escape commas). Call with "$0" "$@" before anything
# changes them.
cmdline() {
	local arg out="" plain='^[A-Za-z0-9_./,=:+@%-]+$'
	for arg in "$@"; do
		if [[ $arg =~ $plain ]]; then
			out+=" $arg"
		else
			out+=" $(printf '%q' "$arg")"
		fi
	done
	printf '%s' "${out# }"
}

# default_sigint "$0" "$@": started in the background by a non-interactive shell, a script
# inherits SIGINT ignored and bash cannot trap it; start over with the default action so that
# kill -INT cleans up too.
default_sigint() {
	if [[ $(trap -p INT) == "trap -- '' SIGINT" && -z ${SLOPROBE_BENCH_SIGINT:-} ]] &&
		env --default-signal=INT true 2>/dev/null; then
		exec env --default-signal=INT SLOPROBE_BENCH_SIGINT=1 bash "$@"
	fi
	unset SLOPROBE_BENCH_SIGINT
}

# on_signal STATUS: the INT/TERM trap; the EXIT trap of the caller cleans up.
on_signal() {
	trap '' INT TERM
	echo "$PROG: interrupted, cleaning up" >&2
	exit "$1"
}

# The helpers below use HELPER (bench/helper.py), TMP, and the caller's TRACER_PID and
# STATS_PID.

# wait_attached PID WANT LOG WHAT: until PID has WANT programs attached (bpftool perf show
# lists the perf-event and raw-tracepoint fds of each process with their program), or, with
# WANT 0, until its count has been stable for 2 s (tracers that attach per library or binary
# found). Sets ATTACHED.
wait_attached() {
	# 60 s: the verifier takes several seconds for sloprobe's programs, more on a busy host.
	local pid=$1 want=$2 logf=$3 what=$4 n last=-1 stable=0 deadline=$((SECONDS + 60))
	while :; do
		alive "$pid" || die "$what exited during startup" "$logf"
		n=$("${HELPER[@]}" attached "$pid")
		if ((want > 0)); then
			((n >= want)) && break
		else
			if ((n > 0 && n == last)); then
				((++stable >= 10)) && break
			else
				stable=0
			fi
			last=$n
		fi
		((SECONDS < deadline)) || die "$what attached only $n programs in 60 s" "$logf"
		sleep 0.2
	done
	# shellcheck disable=SC2034 # read by the benchmarks
	ATTACHED=$n
}

# stop_tracer LOG WHAT: SIGINT to TRACER_PID, as a user would; the exit status must be 0.
stop_tracer() {
	local logf=$1 what=$2 rc
	kill -s INT "$TRACER_PID" 2>/dev/null || true
	wait_gone "$TRACER_PID" 60 || die "$what did not exit within 60 s of SIGINT" "$logf"
	if wait "$TRACER_PID"; then rc=0; else rc=$?; fi
	TRACER_PID=""
	((rc == 0)) || die "$what exited with status $rc" "$logf"
}

# start_stats_holder / stop_stats_holder: kernel.bpf_stats_enabled on while STATS_PID lives.
start_stats_holder() {
	"${HELPER[@]}" hold-stats >"$TMP/stats-holder.log" 2>&1 &
	STATS_PID=$!
	local deadline=$((SECONDS + 10))
	until grep -q enabled "$TMP/stats-holder.log"; do
		alive "$STATS_PID" || die "could not enable BPF run-time stats" "$TMP/stats-holder.log"
		((SECONDS < deadline)) || die "BPF stats holder did not start" "$TMP/stats-holder.log"
		sleep 0.05
	done
}

stop_stats_holder() {
	stop_pid "$STATS_PID" TERM 5
	STATS_PID=""
}

# shellcheck disable=SC2034 # read by the benchmarks
CLK_TCK=$(getconf CLK_TCK)

# cpu_ticks PID: user + system time of all threads of PID so far, in clock ticks.
cpu_ticks() {
	# Field 2 (comm) is in parentheses and may hold spaces: count from the closing one.
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}
