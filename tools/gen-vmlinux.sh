#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Regenerate the vendored vmlinux.h from the running kernel's BTF.
# CO-RE relocations make the result usable on other kernels with BTF.
set -eu
arch=${1:-x86}
src=${BTF:-/sys/kernel/btf/vmlinux}
out="$(dirname "$0")/../vmlinux/$arch/vmlinux.h"
[ -r "$src" ] || { echo "gen-vmlinux: $src not readable: kernel built without BTF?" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
bpftool btf dump file "$src" format c > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out ($(wc -l < "$out") lines) from $(uname -r)"
