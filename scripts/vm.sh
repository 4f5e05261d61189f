#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a Debian kernel in QEMU with an emulated NVMe controller (two
# namespaces: 512-byte and 4096-byte LBAs), a busybox initramfs holding the
# kernel modules the tests need, nvme_ring_io.ko and a payload, and run a job
# script in the guest.  The console goes to a log file (and to stdout with
# --show).  The guest prints "NRIO-END rc=<job exit code>" and powers off.
#
# usage: scripts/vm.sh --kver KVER --ko FILE --job FILE [options]
#   --kver KVER        kernel release (/boot/vmlinuz-KVER, /lib/modules/KVER)
#   --kernel FILE      kernel image (default /boot/vmlinuz-KVER)
#   --ko FILE          nvme_ring_io.ko to load at boot
#   --job FILE         shell script the guest runs after loading the module
#   --payload DIR      copied to /opt/nrio in the guest (tests, samples)
#   --rootfs-overlay DIR  copied to / of the initramfs (files that must be
#                      at absolute paths: a program and its libraries)
#   --log FILE         console log (default build/KVER/console.log)
#   --timeout SEC      hard limit for the whole boot (default 600)
#   --append ARGS      extra kernel command line
#   --mem MB           guest memory (default 2048)
#   --icount           count instructions instead of running the clock:
#                      one TCG thread, -icount shift=0,sleep=on; a busy
#                      guest nanosecond is one guest instruction, the same
#                      from boot to boot (for the benchmark; never KVM; one
#                      vCPU).  sleep=on: an idle vCPU waits in real time
#                      for QEMU's devices; with sleep=off the guest clock
#                      jumps to its next timer instead, and every QD 1 I/O
#                      on the emulated NVMe controller waited for (and
#                      paid) a timer interrupt.  NRIO_ICOUNT_SLEEP=off
#                      restores that.
#   --show             also copy the console to stdout
#
# exit: the job's exit code; 124 on timeout; 125 if the guest never printed
# its end marker (panic, crash, init failure).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kver= kernel= ko= job= payload= overlay= log= timeout=600 append= mem=2048 show=0
icount=0
while [ $# -gt 0 ]; do
	case $1 in
	--kver) kver=$2; shift ;;
	--kernel) kernel=$2; shift ;;
	--ko) ko=$2; shift ;;
	--job) job=$2; shift ;;
	--payload) payload=$2; shift ;;
	--rootfs-overlay) overlay=$2; shift ;;
	--icount) icount=1 ;;
	--log) log=$2; shift ;;
	--timeout) timeout=$2; shift ;;
	--append) append=$2; shift ;;
	--mem) mem=$2; shift ;;
	--show) show=1 ;;
	*) die "vm.sh: unknown argument $1" ;;
	esac
	shift
done
[ -n "$kver" ] || die "vm.sh: --kver is required"
[ -n "$ko" ] && [ -f "$ko" ] || die "vm.sh: --ko must name the built module"
[ -n "$job" ] && [ -f "$job" ] || die "vm.sh: --job must name a script"
kernel=${kernel:-/boot/vmlinuz-$kver}
[ -r "$kernel" ] || die "vm.sh: cannot read kernel image $kernel"
moddir=/lib/modules/$kver
[ -f "$moddir/modules.dep" ] || die "vm.sh: no $moddir/modules.dep"

out=$NRIO_BUILD/$kver
log=${log:-$out/console.log}
mkdir -p "$out"

# --- initramfs -----------------------------------------------------------
stage=$out/initramfs
rm -rf "$stage"
mkdir -p "$stage"/{bin,sbin,etc/nrio,proc,sys,dev,tmp,run,opt/nrio,lib/modules}
cp /bin/busybox "$stage/bin/busybox"
install -m 0755 "$NRIO_TOP/scripts/guest/init" "$stage/init"
install -m 0755 "$job" "$stage/etc/nrio/job"
install -m 0644 "$ko" "$stage/lib/modules/nvme_ring_io.ko"
[ -n "$payload" ] && cp -a "$payload/." "$stage/opt/nrio/"

# Host programs the guest needs beyond busybox, with their shared
# libraries at the same paths: Debian's ip (busybox's cannot make network
# namespaces or veth pairs), as /sbin/ip: the guest's busybox sh runs its
# own applets for bare command names, so tests name it by its path.
add_host_prog() {	# path
	local f lib
	f=$(readlink -f "$1")
	[ -x "$f" ] || { say "vm: no $1 on the host; the guest goes without"; return 0; }
	mkdir -p "$stage$(dirname "$1")"
	cp "$f" "$stage$1"
	for lib in $(ldd "$f" | awk '/=> \// { print $3 } /^\t\/[^ ]*ld-linux/ { print $1 }'); do
		mkdir -p "$stage$(dirname "$lib")"
		[ -e "$stage$lib" ] || cp -L "$lib" "$stage$lib"
	done
}
add_host_prog /sbin/ip
# libxdp's own XDP programs (the AF_XDP default program and the
# multi-program dispatcher), for sockets made without a program of ours.
for f in xdp-dispatcher.o xsk_def_xdp_prog.o xsk_def_xdp_prog_5.3.o; do
	f=/usr/lib/x86_64-linux-gnu/bpf/$f
	[ -f "$f" ] || continue
	mkdir -p "$stage$(dirname "$f")"
	cp "$f" "$stage$f"
done
if [ -n "$overlay" ]; then
	[ -d "$overlay" ] || die "vm.sh: --rootfs-overlay $overlay is not a folder"
	cp -a "$overlay/." "$stage/"
fi

# Debian kernel modules the guest loads, with their dependencies first.
# scripts/guest/modules lists "name [parameters]"; names that are built in
# or absent from this kernel are skipped.
declare -A loaded=()
modlist=$stage/etc/nrio/modules
: > "$modlist"

modpath() {	# module name -> path relative to $moddir, or nothing
	local n=$1 alt
	alt=${n//-/_}
	grep -E "(^|/)(${n}|${alt}|${n//_/-})\.ko(\.xz|\.zst|\.gz)?:" \
		"$moddir/modules.dep" | head -n 1 | cut -d: -f1 || true
}

add_module() {	# relpath [params]
	local rel=$1 params=${2:-} dep
	[ -n "${loaded[$rel]:-}" ] && return 0
	loaded[$rel]=1
	for dep in $(grep -E "^${rel//./\\.}:" "$moddir/modules.dep" |
		     cut -d: -f2 || true); do
		add_module "$dep"
	done
	local dst=${rel%.xz}
	dst=${dst%.zst}
	dst=${dst%.gz}
	mkdir -p "$stage/lib/modules/$(dirname "$dst")"
	case $rel in
	*.xz)	xz -dc "$moddir/$rel" > "$stage/lib/modules/$dst" ;;
	*.zst)	zstd -qdc "$moddir/$rel" > "$stage/lib/modules/$dst" ;;
	*.gz)	gzip -dc "$moddir/$rel" > "$stage/lib/modules/$dst" ;;
	*)	cp "$moddir/$rel" "$stage/lib/modules/$dst" ;;
	esac
	printf '%s %s\n' "$dst" "$params" >> "$modlist"
}

while read -r name params; do
	case $name in ''|'#'*) continue ;; esac
	rel=$(modpath "$name")
	if [ -z "$rel" ]; then
		if grep -qE "/${name//-/[-_]}\.ko\$" "$moddir/modules.builtin" 2>/dev/null; then
			# Built in: its parameters go on the command line.
			for p in $params; do
				append="$append ${name//-/_}.$p"
			done
			continue
		fi
		say "vm: $kver has no module $name; skipped"
		continue
	fi
	add_module "$rel" "$params"
done < "$NRIO_TOP/scripts/guest/modules"

# The guest's tests ask what is built in.
cp "$moddir/modules.builtin" "$stage/lib/modules/" 2>/dev/null || true

initrd=$out/initramfs.cpio.gz
(cd "$stage" && find . -print0 | cpio --null -o -H newc --quiet) |
	gzip -1 > "$initrd"

# --- disks ---------------------------------------------------------------
# Fresh, sparse backing files for the two namespaces on every boot.
disks=$out/disks
mkdir -p "$disks"
for d in ns1 ns2; do
	rm -f "$disks/$d.img"
	truncate -s "${NRIO_NS_SIZE:-512M}" "$disks/$d.img"
done

# --- accelerator ---------------------------------------------------------
accel=$("$NRIO_TOP/scripts/kvm-probe.sh" "$kver" "$kernel")
icount_args=() smp=2
if [ "$icount" = 1 ]; then
	# One vCPU: with two, the boot livelocks bringing up the second.
	accel=tcg,thread=single
	icount_args=(-icount "shift=0,sleep=${NRIO_ICOUNT_SLEEP:-on}")
	smp=1
fi

# --- boot ----------------------------------------------------------------
qemu=(
	qemu-system-x86_64 -nodefaults -no-reboot
	-machine q35 -accel "$accel" "${icount_args[@]}" -cpu max,la57=off
	-smp "$smp" -m "$mem"
	-display none -monitor none -serial "file:$log"
	-kernel "$kernel" -initrd "$initrd"
	-append "console=ttyS0,115200 panic=-1 rdinit=/init $append"
	-device nvme,id=nvme0,serial=nrio0001
	-drive "file=$disks/ns1.img,if=none,id=ns1,format=raw,cache=unsafe"
	-device nvme-ns,drive=ns1,bus=nvme0,nsid=1
	-drive "file=$disks/ns2.img,if=none,id=ns2,format=raw,cache=unsafe"
	-device nvme-ns,drive=ns2,bus=nvme0,nsid=2,logical_block_size=4096,physical_block_size=4096
)

: > "$log"
tailpid=
if [ "$show" = 1 ]; then
	tail -n +1 -F "$log" 2>/dev/null &
	tailpid=$!
fi
rc=0
timeout -k 10 "$timeout" "${qemu[@]}" < /dev/null || rc=$?
# A guest kernel that dies before /init runs has run nothing of ours (the
# module is loaded by /init): under TCG, boot-time code patching has been
# seen to oops that way ("Oops: int3" in the idle task).  Boot once more,
# saying so, and keep the first console beside the log.
if [ $rc -ne 124 ] && [ $rc -ne 137 ] &&
   ! grep -a -q '^nrio-guest: kernel' "$log"; then
	mv "$log" "$log.first-boot"
	warn "vm: $kver: the guest kernel died before /init ran (console: $log.first-boot:" \
	     "$(grep -a -m1 -E 'Oops|BUG:|Kernel panic' "$log.first-boot" || echo 'no oops line')); booting once more"
	: > "$log"
	rc=0
	timeout -k 10 "$timeout" "${qemu[@]}" < /dev/null || rc=$?
fi
if [ -n "$tailpid" ]; then
	sleep 0.3
	kill "$tailpid" 2>/dev/null || true
fi

if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
	warn "vm: $kver: timeout after ${timeout}s (console: $log)"
	exit 124
fi
if [ $rc -ne 0 ]; then
	warn "vm: $kver: qemu exited with $rc (console: $log)"
fi
end=$(grep -a -o 'NRIO-END rc=[0-9]*' "$log" | tail -n 1 || true)
if [ -z "$end" ]; then
	warn "vm: $kver: the guest never reached its end marker (console: $log)"
	exit 125
fi
exit "${end#NRIO-END rc=}"
