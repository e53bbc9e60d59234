#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A private dockerd (Debian's docker.io) for tests/integration/test_docker.py and the demo
# (tools/demo/run.sh), so that neither touches the host's Docker, if it has one: its own socket,
# data root and exec root in one directory, no bridge and no iptables rules (every container runs
# with --network host, so its traffic stays on 127.0.0.1). No registry is reachable from the
# machines this runs on, so the one image is made here: `empty:1`, `docker import` of an empty
# tar; containers run the host's binaries, with /usr /lib /lib64 /bin /etc bind-mounted
# read-only (the callers' business).
#
#   docker-private.sh start DIR   start it; then DOCKER_HOST=unix://DIR/sock. DIR is new or
#                                 empty, with a short path (a socket path holds 107 bytes). On
#                                 failure: one line on stderr saying why, what was started is
#                                 stopped again and DIR removed, exit status 1.
#   docker-private.sh stop DIR    remove its containers, stop dockerd by the PID that start
#                                 wrote (TERM, 30 s, KILL), undo its mounts, remove DIR.
#
# SLOPROBE_DOCKERD=PATH runs another dockerd (e.g. /bin/false: what the callers do where dockerd
# cannot start).
set -uo pipefail

DOCKER=/usr/bin/docker
DOCKERD=${SLOPROBE_DOCKERD:-/usr/sbin/dockerd}
IMAGE=empty:1

# dockerd_pid DIR: the PID start wrote, if that process is still our dockerd (not a reused PID).
dockerd_pid() {
	local pid
	pid=$(cat "$1/dockerd.pid" 2>/dev/null) || return 1
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "unix://$1/sock" || return 1
	echo "$pid"
}

gone_within() { # PID SECONDS
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[[ -d /proc/$1 && $(ps -o stat= -p "$1" 2>/dev/null) != Z* ]] || return 0
		sleep 0.1
	done
	return 1
}

private_stop() {
	local dir=$1 pid ids m
	[[ $dir == /* && -d $dir ]] || return 0
	if pid=$(dockerd_pid "$dir"); then
		ids=$(DOCKER_HOST=unix://$dir/sock timeout 60 "$DOCKER" ps -aq 2>/dev/null)
		if [[ -n $ids ]]; then
			# shellcheck disable=SC2086 # one id per word
			DOCKER_HOST=unix://$dir/sock timeout 60 "$DOCKER" rm -f $ids >/dev/null 2>&1
		fi
		kill -s TERM "$pid" 2>/dev/null
		if ! gone_within "$pid" 30; then
			kill -s KILL "$pid" 2>/dev/null
			gone_within "$pid" 10
		fi
	fi
	# dockerd leaves network namespaces mounted under its exec root.
	for m in "$dir"/exec/netns/*; do
		[[ -e $m ]] && umount "$m" 2>/dev/null
	done
	umount -R "$dir/root/overlay2" 2>/dev/null
	# Never into a mount that is still there (a container's layer dockerd could not undo).
	rm -rf --one-file-system -- "$dir"
}

# fail DIR WHY: one line, then undo what start did.
fail() {
	echo "dockerd cannot start: $2" >&2
	private_stop "$1"
	exit 1
}

private_start() {
	local dir=$1 sock pid deadline why
	[[ $dir == /* ]] || { echo "docker-private.sh: $dir: not an absolute path" >&2; exit 2; }
	sock=$dir/sock
	if ((${#sock} > 107)); then
		echo "dockerd cannot start: its socket path $sock is longer than 107 bytes" >&2
		exit 1
	fi
	if [[ -e $dir ]] && [[ ! -d $dir || -n $(ls -A "$dir") ]]; then
		echo "docker-private.sh: $dir: not an empty directory" >&2
		exit 2
	fi
	for x in "$DOCKER" "$DOCKERD"; do
		[[ -x $x ]] || { echo "dockerd cannot start: no $x (make deps installs docker.io)" >&2; exit 1; }
	done
	((EUID == 0)) || { echo "dockerd cannot start: it needs root" >&2; exit 1; }
	[[ -d $dir ]] || mkdir -m 700 "$dir" || exit 1
	# setsid: a Ctrl-C in the terminal reaches the caller, which stops dockerd in order.
	setsid "$DOCKERD" -H "unix://$sock" --data-root "$dir/root" --exec-root "$dir/exec" \
		--pidfile "$dir/pid" --bridge none --iptables=false --ip-masq=false \
		</dev/null >"$dir/log" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/dockerd.pid"
	export DOCKER_HOST=unix://$sock
	deadline=$((SECONDS + 60))
	until timeout 30 "$DOCKER" version >/dev/null 2>&1; do
		if ! dockerd_pid "$dir" >/dev/null; then
			why=$(grep -v '^[[:space:]]*$' "$dir/log" | tail -n 1 | cut -c 1-300)
			fail "$dir" "dockerd exited: ${why:-no log}"
		fi
		((SECONDS < deadline)) || fail "$dir" "no answer on $sock within 60 s"
		sleep 0.3
	done
	why=$(tar cf - --files-from /dev/null | timeout 60 "$DOCKER" import - "$IMAGE" 2>&1 >/dev/null) ||
		fail "$dir" "docker import of an empty tar failed: ${why//$'\n'/ }"
}

case ${1:-}:$# in
start:2) private_start "$2" ;;
stop:2) private_stop "$2" ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
