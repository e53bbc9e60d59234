# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Process and port helpers shared by tools/demo/run.sh and bench/ (sourced, not run). They only signal
# the PIDs the caller hands them and what was below those, never anything found by name.

# alive PID: the process exists and is not a zombie waiting to be reaped.
alive() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[[ -n $st && $st != Z* ]]
}

# wait_gone PID SECONDS
wait_gone() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		alive "$1" || return 0
		sleep 0.1
	done
	! alive "$1"
}

# descendants PID: all processes below PID (nginx workers below the master, ...).
descendants() {
	local c
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		echo "$c"
		descendants "$c"
	done
}

# stop_pid PID FIRST_SIGNAL SECONDS: signal, wait, then SIGTERM and SIGKILL; then make sure
# the processes that were below it are gone too (they outlive a parent that had to be
# killed). Reaps PID if it is our child.
stop_pid() {
	local pid=$1 sig=$2 secs=$3 kids k
	[[ -n $pid ]] || return 0
	if alive "$pid"; then
		kids=$(descendants "$pid")
		kill -s "$sig" "$pid" 2>/dev/null || true
		if ! wait_gone "$pid" "$secs"; then
			if [[ $sig != TERM ]]; then
				kill -s TERM "$pid" 2>/dev/null || true
				wait_gone "$pid" 3 || true
			fi
			alive "$pid" && kill -s KILL "$pid" 2>/dev/null
		fi
		for k in $kids; do
			if alive "$k" && ! wait_gone "$k" 2; then
				kill -s KILL "$k" 2>/dev/null || true
			fi
		done
	fi
	wait "$pid" 2>/dev/null || true
}

# port_busy PORT: something listens on PORT on this host.
port_busy() {
	if command -v ss >/dev/null 2>&1; then
		[[ -n $(ss -Htln "sport = :$1" 2>/dev/null) ]]
	else
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
	fi
}

# free_port FROM: the first port from FROM on (100 tries) nobody listens on.
free_port() {
	local p
	for ((p = $1; p < $1 + 100 && p < 65536; p++)); do
		port_busy "$p" || { echo "$p"; return 0; }
	done
	return 1
}
