#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs a script under another kernel than the host's, in a qemu guest (KVM, else emulated) that
# shares the host's root filesystem read-only: the same binaries, libraries and test helpers,
# only the kernel differs.
# Used by tests/integration/test_kernel61.py (Debian 12's stock kernel, 6.1; docs/kernels.md).
#
#   tools/kernel-vm.sh fetch         download and unpack Debian's newest 6.1 kernel package
#                                    into $SLOPROBE_KCACHE and build its initramfs
#   tools/kernel-vm.sh path          print the unpacked kernel's directory (exit 1: none yet)
#   tools/kernel-vm.sh run DIR [SEC] boot it; the guest runs DIR/run.sh as root (cwd DIR) in
#                                    the host's root filesystem, output in DIR/guest.log, exit
#                                    status in DIR/rc; DIR is the one writable host directory
#
# Never installs anything into the host's /boot: the package is unpacked with dpkg-deb -x.
set -eu

KCACHE=${SLOPROBE_KCACHE:-/var/cache/sloprobe/kernels}
# The package's name is picked from apt-cache when fetching: its ABI number changes with every
# Debian point release and old ones leave the archive.
KPATTERN='^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$'
# The guest's modules: the host's file systems, and tcp_diag for sock_diag's listener queues,
# which a Debian host loads on demand (the guest has no modprobe for its kernel).
MODS="virtio_pci 9pnet_virtio 9p tcp_diag"

die() {
	echo "kernel-vm: $*" >&2
	exit 1
}

kdir() {
	[ -f "$KCACHE/current" ] || return 1
	d="$KCACHE/$(cat "$KCACHE/current")"
	[ -f "$d/vmlinuz" ] && [ "$(cat "$d/mod/list" 2>/dev/null)" = "$MODS" ] || return 1
	echo "$d"
}

# A module's file after its dependencies' (depends= in its .modinfo), each once: the order insmod
# needs. POSIX sh has no local variables: nothing is used after the recursion but the name.
mod_order() {
	for _dep in $(tr '\0' '\n' <"$(mod_file "$1" "$2")" | sed -n 's/^depends=//p' | tr ',' ' '); do
		mod_order "$_dep" "$2"
	done
	_f=$(mod_file "$1" "$2")
	case " $ORDER " in *" $_f "*) ;; *) ORDER="$ORDER $_f" ;; esac
}

mod_file() {
	_m=$(find "$2" -name "$1.ko" | head -n 1)
	[ -n "$_m" ] || die "module $1 not in $2"
	echo "$_m"
}

# The modules the initramfs loads, in order, into $1/mod.
modules() {
	root=$1/x
	ver=$(ls "$root/lib/modules")
	ORDER=""
	for m in $MODS; do
		mod_order "$m" "$root/lib/modules/$ver"
	done
	n=0
	mkdir -p "$1/mod"
	for m in $ORDER; do
		n=$((n + 1))
		cp "$m" "$1/mod/$(printf %02d $n)-$(basename "$m")"
	done
	echo "$MODS" >"$1/mod/list"
}

# Made again whenever this script is newer: the init below is part of it.
initrd() {
	[ "$1/initrd.gz" -nt "$0" ] && return 0
	bb=$(command -v busybox) || die "busybox-static is not installed"
	# Private names, then a rename: two runs at once never see half an initramfs.
	ir=$(mktemp -d "$1/initrd.XXXXXX")
	mkdir -p "$ir/bin" "$ir/proc" "$ir/sys" "$ir/dev" "$ir/root"
	mkdir "$ir/mod"
	cp "$1"/mod/*.ko "$ir/mod"
	cp "$bb" "$ir/bin/busybox"
	for a in sh mount umount insmod mkdir chroot reboot sleep cat echo sed sync; do
		ln -s busybox "$ir/bin/$a"
	done
	cat >"$ir/init" <<'EOF'
#!/bin/sh
# The guest's first process: host root (9p, read-only) at /root, the output directory (9p,
# writable) at its host path inside it, the kernel file systems a recording needs, then the
# script; the machine stops when it ends (reboot -f with qemu's -no-reboot).
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in /mod/*.ko; do insmod "$m" || echo "init: insmod $m failed"; done
out=$(sed -n 's/.*sloprobe.out=\([^ ]*\).*/\1/p' /proc/cmdline)
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 root /root ||
	{ echo "init: no host root"; reboot -f; }
mount -t proc proc /root/proc
mount -t sysfs sys /root/sys
mount -t devtmpfs dev /root/dev
mkdir -p /root/dev/pts /root/dev/shm
mount -t devpts devpts /root/dev/pts
mount -t tmpfs tmp /root/dev/shm
mount -t tmpfs tmp /root/tmp
mount -t tmpfs run /root/run
mount -t tracefs tracefs /root/sys/kernel/tracing
mount -t debugfs debugfs /root/sys/kernel/debug
mount -t bpf bpf /root/sys/fs/bpf
mount -t cgroup2 cgroup2 /root/sys/fs/cgroup
# Last: it may be under /tmp, where a directory is made in the tmpfs to hold it.
mkdir -p "/root$out"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 out "/root$out" ||
	{ echo "init: no output directory $out"; reboot -f; }
# A root login's environment, not the initramfs's.
chroot /root /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /bin/sh -c \
	"cd '$out' && ip link set lo up 2>/dev/null; hostname vm61 2>/dev/null; \
	sh ./run.sh >guest.log 2>&1; echo \$? >rc"
sync
reboot -f
EOF
	chmod +x "$ir/init"
	(cd "$ir" && find . | "$bb" cpio -o -H newc 2>/dev/null | gzip -1) >"$ir.gz"
	mv "$ir.gz" "$1/initrd.gz"
	rm -rf "$ir"
}

fetch() {
	pkg=$(apt-cache search --names-only "$KPATTERN" 2>/dev/null | awk '{print $1}' | sort -V |
		tail -n 1)
	[ -n "$pkg" ] || die "apt-cache knows no package matching $KPATTERN (apt-get update?)"
	ver=${pkg#linux-image-}
	ver=${ver%-unsigned}
	d="$KCACHE/$ver"
	if [ -f "$d/vmlinuz" ] && [ "$(cat "$d/mod/list" 2>/dev/null)" = "$MODS" ]; then
		echo "$ver" >"$KCACHE/current"
		initrd "$d"
		return 0
	fi
	echo "kernel-vm: fetching $pkg"
	rm -rf "$d"
	mkdir -p "$d/deb"
	# apt's sandbox user may not write into a root-owned cache: download as is, quietly.
	(cd "$d/deb" && apt-get download -q "$pkg" >/dev/null 2>&1) || die "apt-get download $pkg failed"
	dpkg-deb -x "$d"/deb/*.deb "$d/x"
	cp "$d/x/boot/vmlinuz-$ver" "$d/vmlinuz"
	modules "$d"
	initrd "$d"
	# The kernel and the modules the initramfs needs are kept; the rest is not needed.
	rm -rf "$d/x" "$d/deb"
	echo "$ver" >"$KCACHE/current"
}

# KVM when it can run a stock kernel; else TCG (emulation: slower, same kernel). A PVM host
# (kvm_pvm: KVM for guests built for it, no hardware virtualization) hangs a stock kernel at
# its first instructions. SLOPROBE_VM_ACCEL=kvm|tcg overrides.
accel() {
	accel=${SLOPROBE_VM_ACCEL:-}
	if [ -z "$accel" ]; then
		if [ -w /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ]; then accel=kvm; else accel=tcg; fi
	fi
	# Some hosts' KVM refuses IA32_ARCH_CAPABILITIES, which -cpu host passes on.
	case "$accel" in
	kvm) cpu="-cpu host,-arch-capabilities" ;;
	*) cpu="-cpu max" ;;
	esac
}

run() {
	out=$(realpath "$1")
	secs=${2:-90}
	d=$(kdir) || die "no kernel yet: run '$0 fetch' (make deps)"
	initrd "$d"
	accel
	[ -f "$out/run.sh" ] || die "$out/run.sh missing"
	rm -f "$out/rc" "$out/guest.log"
	# Console to a file: the kernel's messages say why a guest stopped early.
	timeout -k 5 "$secs" qemu-system-x86_64 -machine "q35,accel=$accel" $cpu -smp 2 -m 2048 \
		-nodefaults -no-reboot -display none -nic none \
		-serial "file:$out/console.log" \
		-kernel "$d/vmlinuz" -initrd "$d/initrd.gz" \
		-append "console=ttyS0 panic=-1 quiet loglevel=4 sloprobe.out=$out" \
		-virtfs local,path=/,mount_tag=root,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=$out,mount_tag=out,security_model=none,multidevs=remap" ||
		echo "kernel-vm: qemu ended with $? (124: timed out after ${secs}s)" >&2
	[ -f "$out/rc" ] || die "the guest did not finish (see $out/console.log)"
	return "$(cat "$out/rc")"
}

case "${1:-}" in
fetch) fetch ;;
path) kdir ;;
run)
	[ $# -ge 2 ] || die "usage: $0 run DIR [SECONDS]"
	run "$2" "${3:-}"
	;;
*) die "usage: $0 fetch | path | run DIR [SECONDS]" ;;
esac
