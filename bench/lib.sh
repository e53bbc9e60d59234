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
		curl -s -m 2 -o /dev/null -w '%{http_code}' "$1" 2>/dev/null || true
	else
		/usr/bin/python3 - "$1" <<-'EOF' 2>/dev/null || echo 000
			import sys, urllib.request, urllib.error
			try:
			    print(urllib.request.urlopen(sys.argv[1], timeout=2).status)
			except urllib.error.HTTPError as e:
			    print(e.code)
		EOF
	fi
}
