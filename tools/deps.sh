#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Install the Debian packages that building, testing and the demo need. Idempotent: when
# everything is present it only runs dpkg-query.
set -eu

PKGS="make gcc clang llvm pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev libcmocka-dev
      iproute2 procps curl wrk nginx-light bpftrace locales openssl
      python3 python3-pytest python3-pytest-xdist python3-jsonschema
      postgresql postgresql-client libpq-dev
      python3-fastapi python3-uvicorn python3-sqlalchemy python3-psycopg2 python3-psycopg
      python3-asyncpg libyaml-dev libjson-c-dev chromium fonts-dejavu-core
      nodejs golang-go apache2 libapache2-mod-php php-cli gunicorn python3-flask
      python3-aiohttp default-jdk-headless libpostgresql-jdbc-java apache2-utils
      redis-server redis-tools python3-redis python3-requests python3-urllib3
      prometheus python3-prometheus-client docker.io docker-compose qemu-system-x86
      busybox-static"

# npm servers and drivers of the conformance tests (express, pg, ioredis), pinned by package-lock.json.
node_deps() {
	dir=$(dirname "$0")/../tests/integration/node
	[ -d "$dir/node_modules" ] && [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ] &&
		return 0
	[ "$(id -u)" = 0 ] || { echo "deps: run 'sudo make deps' to install the npm test packages" >&2; exit 1; }
	echo "deps: npm ci (tests/integration/node)"
	(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

# Debian 12's own kernel (6.1), unpacked into a cache for tests/integration/test_kernel61.py,
# never installed: tools/kernel-vm.sh picks the newest such package apt-cache knows.
kernel_vm() {
	vm=$(dirname "$0")/kernel-vm.sh
	"$vm" path >/dev/null 2>&1 && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "deps: no 6.1 test kernel (test_kernel61.py will skip): 'sudo make deps' fetches it" >&2
		return 0
	fi
	"$vm" fetch || echo "deps: warning: no 6.1 kernel fetched: test_kernel61.py will skip" >&2
}

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	case "$st" in
	ii*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && { node_deps; kernel_vm; exit 0; }

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing; run 'sudo make deps' to install them" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet: update once, then install.
if ! apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1; then
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends $missing >/dev/null
fi
# The Debian postgresql package starts a cluster on 5432; tests use private clusters instead.
node_deps
kernel_vm
echo "deps: done"
