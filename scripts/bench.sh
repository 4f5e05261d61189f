#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The benchmark ("make bench"): install what is missing (and fio), build
# nrio_bench (static for the VM, dynamic for the report), then for every
# supported kernel (not the debug one: its numbers mean nothing) build the
# module, boot the VM with nrio_bench and Debian's fio in it, and run
# scripts/guest/bench-job there: null_blk and brd behind nvmet (nvme-loop,
# or nvmet-tcp on 127.0.0.1 where the kernel has no nvme-loop), QEMU's
# NVMe controller and null_blk itself, each through every engine, then an
# allocation trace per engine, then B-tree lookups (nrio_lookup:
# userspace-driven vs BPF-chained read-next steps, depths 3 to 6).  Every
# queue runs with the scheduler "none".  Then it boots the kernel once
# more with nvme_core.multipath=N and runs BENCH_NOHEAD_DEVICES there:
# nvmet's namespaces without the multipath head (devices named
# "<device>-nohead"), as a system without multipath would have them.
#
# Results go to build/bench/<UTC yyyymmdd-hhmmss>/ (build/bench/latest):
#   <kver>.csv  alloc-<kver>.txt  console-<kver>.log  (profile-<kver>.txt)
#   lookup-<kver>.txt  console-<kver>-nohead.log  (profile-<kver>-nohead.txt)
#   results.txt results.md   (nrio_bench report over all the CSV files)
#
# usage: scripts/bench.sh [--kvers "KVER ..."]
#   BENCH_SECONDS       seconds per run (default 0.5)
#   BENCH_REPEATS       runs per engine and workload (default 3)
#   BENCH_DEVICES       nullb-none nullb-softirq nvmet-brd qemu-nvme
#                       nullb-raw, comma separated (default all but
#                       nvmet-brd)
#   BENCH_WORKLOADS, BENCH_ENGINES   nrio_bench's --workloads/--engines
#                       (default all)
#   BENCH_NOHEAD_DEVICES  the nvmet devices of BENCH_DEVICES to run again
#                       with nvme_core.multipath=N (default nullb-none;
#                       empty: no second boot)
#   BENCH_ALLOC_COUNT   I/Os per engine in the allocation trace (default
#                       20000; 0 skips the trace)
#   BENCH_FIO_SMOKE=1   run fio once in the guest first
#   BENCH_LOOKUP_SECONDS, BENCH_LOOKUP_INFLIGHT   the lookups (default 1 s
#                       per way and depth, 16 in flight; 0 s skips them);
#                       BENCH_DEVICES=none runs only them
#   BENCH_LOOKUP_COUNT  lookups per way and depth instead of a time
#                       (default 1000 with BENCH_ICOUNT=1, where a guest
#                       second is instructions and so holds few lookups)
#   BENCH_RUN_TIMEOUT, BENCH_ALLOC_ENGINES, BENCH_NULLB_MB,
#   BENCH_NULLB_MAX_SECTORS, BENCH_NVMF_OPTS, BENCH_PROFILE (a device:
#   function_graph profile after it), BENCH_PROFILE_ENGINES,
#   BENCH_PROFILE_WORKLOAD, BENCH_PROFILE_COUNT
#                       passed on too: see scripts/guest/bench-job
#   BENCH_ICOUNT=1      boot with QEMU instruction counting (vm.sh
#                       --icount): a guest second is 10^9 guest
#                       instructions, so IOPS/CPU-s reads as I/Os per 10^9
#                       instructions, the same from boot to boot.  On
#                       QEMU's NVMe controller the device's emulation is
#                       not guest code: the count is the host side alone
#                       (driver, block layer, engine); results go to
#                       build/bench/<time>-icount/
#   BENCH_APPEND        guest kernel command line (default tsc=reliable:
#                       see below)
#   NRIO_BENCH_TIMEOUT  seconds one VM run may take (default 5400)
#   NRIO_BENCH_MEM      guest memory in MB (default 3072)
#   NRIO_BENCH_PROG     an nrio_bench to use, in the guest and for the
#                       report, instead of building one (for testing)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kvers=
while [ $# -gt 0 ]; do
	case $1 in
	--kvers) kvers=$2; shift ;;
	*) die "bench.sh: unknown argument $1" ;;
	esac
	shift
done

t0=$(now_s)
step_t=$t0
# Instruction counting: the lookups by number, not by guest seconds.
if [ "${BENCH_ICOUNT:-0}" = 1 ] && [ -z "${BENCH_LOOKUP_COUNT+set}" ]; then
	BENCH_LOOKUP_COUNT=1000
fi

# --- 1. packages, nrio_bench ----------------------------------------------
"$NRIO_TOP/scripts/deps.sh" fio
step "dependencies"

if [ -n "${NRIO_BENCH_PROG:-}" ]; then
	[ -x "$NRIO_BENCH_PROG" ] ||
		die "NRIO_BENCH_PROG=$NRIO_BENCH_PROG is not executable"
	guest_prog=$NRIO_BENCH_PROG
	host_prog=$NRIO_BENCH_PROG
	say "bench: using $NRIO_BENCH_PROG, not building nrio_bench"
else
	make -s -C "$NRIO_TOP/tools/bench/nvme_ring_io" STATIC=1 \
		TOP="$NRIO_TOP" OUTPUT="$NRIO_BUILD/bench-static"
	make -s -C "$NRIO_TOP/tools/bench/nvme_ring_io" \
		TOP="$NRIO_TOP" OUTPUT="$NRIO_BUILD/tools"
	guest_prog=$NRIO_BUILD/bench-static/nrio_bench
	host_prog=$NRIO_BUILD/tools/nrio_bench
	step "nrio_bench built"
fi

if [ -z "$kvers" ]; then
	kvers=$(nrio_default_kvers | tr '\n' ' ')
	[ -n "$kvers" ] || die "no supported kernel installed (series: $NRIO_SERIES)"
fi

# --- 2. what the guest gets -----------------------------------------------
# /opt/nrio: nrio_bench.
payload=$NRIO_BUILD/bench-payload
rm -rf "$payload"
mkdir -p "$payload"
cp "$guest_prog" "$payload/nrio_bench"
# The lookups: nrio_lookup and its BPF program, built beside nrio_bench.
for f in nrio_lookup chain.bpf.o; do
	if [ -f "$(dirname "$guest_prog")/$f" ]; then
		cp "$(dirname "$guest_prog")/$f" "$payload/$f"
	fi
done

# / : Debian's fio with every library it links and the dynamic loader, at
# the same absolute paths as here.
fio=/usr/bin/fio
[ -x "$fio" ] || die "no $fio (deps.sh fio should have installed it)"
rootfs=$NRIO_BUILD/bench-rootfs
rm -rf "$rootfs"
put() {	# put FILE: copy FILE (followed if a link) to the same path
	mkdir -p "$rootfs$(dirname "$1")"
	cp -L "$1" "$rootfs$1"
}
put "$fio"
libs=$(ldd "$fio")
if grep -q 'not found' <<< "$libs"; then
	printf '%s\n' "$libs" >&2
	die "$fio: a library is missing"
fi
nlibs=0
for lib in $(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }' \
	     <<< "$libs" | sort -u); do
	put "$lib"
	nlibs=$((nlibs + 1))
done
say "bench: $($fio --version) with $nlibs libraries:" \
	"$(du -sh "$rootfs" | cut -f1)"

# The job: the settings, then scripts/guest/bench-job; make_job FILE
# [VAR=VALUE ...] sets VAR to VALUE after the settings.
sq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
make_job() {
	local f=$1 kv
	shift
	{
	echo "#!/bin/sh"
	echo "# scripts/bench.sh: the settings, then scripts/guest/bench-job"
	echo "export BENCH_SECONDS=$(sq "${BENCH_SECONDS:-0.5}")"
	echo "export BENCH_REPEATS=$(sq "${BENCH_REPEATS:-3}")"
	echo "export BENCH_DEVICES=$(sq "${BENCH_DEVICES:-}")"
	echo "export BENCH_WORKLOADS=$(sq "${BENCH_WORKLOADS:-}")"
	echo "export BENCH_ENGINES=$(sq "${BENCH_ENGINES:-}")"
	echo "export BENCH_ALLOC_COUNT=$(sq "${BENCH_ALLOC_COUNT:-20000}")"
	echo "export BENCH_FIO_SMOKE=$(sq "${BENCH_FIO_SMOKE:-0}")"
	for v in BENCH_RUN_TIMEOUT BENCH_ALLOC_ENGINES BENCH_NULLB_MB \
		 BENCH_LOOKUP_SECONDS BENCH_LOOKUP_INFLIGHT BENCH_LOOKUP_COUNT \
		 BENCH_NULLB_MAX_SECTORS BENCH_NVMF_OPTS BENCH_PROFILE \
		 BENCH_PROFILE_ENGINES BENCH_PROFILE_WORKLOAD \
		 BENCH_PROFILE_COUNT; do
		if [ -n "${!v+set}" ]; then
			echo "export $v=$(sq "${!v}")"
		fi
	done
	for kv in "$@"; do
		echo "export ${kv%%=*}=$(sq "${kv#*=}")"
	done
	tail -n +2 "$NRIO_TOP/scripts/guest/bench-job"
	} > "$f"
}
job=$NRIO_BUILD/bench-job.sh
make_job "$job"

# The second boot: without multipath heads, only the nvmet devices named
# (and only those that BENCH_DEVICES has, when it is set), no allocation
# trace, no lookups.
nohead=
for d in $(tr ',' ' ' <<< "${BENCH_NOHEAD_DEVICES-nullb-none}"); do
	case $d in
	nullb-none|nullb-softirq|nvmet-brd) ;;
	*) die "BENCH_NOHEAD_DEVICES: $d is not an nvmet device" ;;
	esac
	if [ -z "${BENCH_DEVICES:-}" ] ||
	   grep -qw -- "$d" <<< "$(tr ',' ' ' <<< "$BENCH_DEVICES")"; then
		nohead="$nohead${nohead:+,}$d"
	fi
done
job_nohead=$NRIO_BUILD/bench-job-nohead.sh
make_job "$job_nohead" BENCH_DEVICES="$nohead" BENCH_ALLOC_COUNT=0 \
	BENCH_LOOKUP_SECONDS=0

# The guest's clock.  Under TCG the kernel finds the vCPUs' TSCs out of
# step and falls back to the HPET: every clock read is then an emulated
# MMIO access (and, from userspace, a system call), which the block layer
# and every engine pay per I/O.  QEMU derives all vCPUs' TSCs from one
# host clock, so trust it, as on real hardware.
BENCH_APPEND=${BENCH_APPEND-tsc=reliable}

stamp=$(date -u +%Y%m%d-%H%M%S)
icount=()
if [ "${BENCH_ICOUNT:-0}" = 1 ]; then
	stamp=$stamp-icount
	icount=(--icount)
fi
res=$NRIO_BUILD/bench/$stamp
mkdir -p "$res"
ln -sfn "$stamp" "$NRIO_BUILD/bench/latest"
cp "$job" "$res/job.sh"
[ -n "$nohead" ] && cp "$job_nohead" "$res/job-nohead.sh"
step "payload ready"

# --- 3. per kernel --------------------------------------------------------
bad=0
declare -a summary=() csvs=() lookups=()
for kver in $kvers; do
	say "== kernel $kver"
	ks=$(now_s)
	if ! nrio_build_module "$kver" "$NRIO_BUILD/$kver/build.log"; then
		summary+=("kernel $kver: FAILED (module build)")
		bad=1
		continue
	fi
	kb=$(now_s)
	say "   module built in $((kb - ks))s"

	log=$res/console-$kver.log
	log2=$res/console-$kver-nohead.log
	vrc=0
	vrc2=0
	boot() {	# JOB LOG APPEND
		"$NRIO_TOP/scripts/vm.sh" --kver "$kver" \
			--ko "$(nrio_module_path "$kver")" --job "$1" \
			--payload "$payload" --rootfs-overlay "$rootfs" \
			--log "$2" --mem "${NRIO_BENCH_MEM:-3072}" "${icount[@]}" \
			--append "$3" --timeout "${NRIO_BENCH_TIMEOUT:-5400}"
	}
	boot "$job" "$log" "$BENCH_APPEND" || vrc=$?
	[ -f "$log" ] || : > "$log"
	if [ -n "$nohead" ]; then
		say "   again with nvme_core.multipath=N: $nohead"
		boot "$job_nohead" "$log2" \
			"$BENCH_APPEND nvme_core.multipath=N" || vrc2=$?
		[ -f "$log2" ] || : > "$log2"
		[ "$vrc" != 0 ] || vrc=$vrc2
	fi
	kv=$(now_s)

	# The CSV blocks (a header each, kept once) and the allocation trace.
	cat "$log" ${nohead:+"$log2"} | tr -d '\r' | awk -v k="$kver" '
		/^NRIO-CSV-BEGIN$/ { on = 1; next }
		/^NRIO-CSV-END$/ { on = 0; next }
		on && /^kernel,device,/ { if (!hdr++) print; next }
		on && index($0, k ",") == 1 { print }' > "$res/$kver.csv"
	rows=$(($(wc -l < "$res/$kver.csv") - 1))
	if [ "$rows" -gt 0 ]; then
		csvs+=("$res/$kver.csv")
	else
		rows=0
		rm -f "$res/$kver.csv"
	fi
	tr -d '\r' < "$log" | sed -n '/^NRIO-ALLOC-BEGIN$/,/^NRIO-ALLOC-END$/p' |
		sed '1d;$d' > "$res/alloc-$kver.txt"
	[ -s "$res/alloc-$kver.txt" ] || rm -f "$res/alloc-$kver.txt"
	tr -d '\r' < "$log" |
		sed -n '/^NRIO-PROFILE-BEGIN$/,/^NRIO-PROFILE-END$/p' |
		sed '1d;$d' > "$res/profile-$kver.txt"
	[ -s "$res/profile-$kver.txt" ] || rm -f "$res/profile-$kver.txt"
	if [ -n "$nohead" ]; then
		tr -d '\r' < "$log2" |
			sed -n '/^NRIO-PROFILE-BEGIN$/,/^NRIO-PROFILE-END$/p' |
			sed '1d;$d' > "$res/profile-$kver-nohead.txt"
		[ -s "$res/profile-$kver-nohead.txt" ] ||
			rm -f "$res/profile-$kver-nohead.txt"
	fi
	tr -d '\r' < "$log" |
		sed -n '/^NRIO-LOOKUP-BEGIN$/,/^NRIO-LOOKUP-END$/p' |
		sed '1d;$d' > "$res/lookup-$kver.txt"
	if [ -s "$res/lookup-$kver.txt" ]; then
		lookups+=("$res/lookup-$kver.txt")
	else
		rm -f "$res/lookup-$kver.txt"
	fi

	initrd=$NRIO_BUILD/$kver/initramfs.cpio.gz
	up=$(tr -d '\r' < "$log" |
	     sed -n 's/^bench: job starts at \([0-9.]*\) s uptime.*/\1/p')
	line="kernel $kver: $rows CSV rows (build $((kb - ks))s,"
	line="$line vm $((kv - kb))s, initramfs $(du -h "$initrd" | cut -f1),"
	line="$line job started at ${up:-?}s uptime)"
	reasons=()
	case $vrc in
	0) ;;
	124) reasons+=("timeout") ;;
	125) reasons+=("no end marker") ;;
	*) reasons+=("job exit $vrc") ;;
	esac
	if [ ${#reasons[@]} -gt 0 ]; then
		bad=1
		line="$line FAILED: $(IFS=';'; echo "${reasons[*]}") (console: $log${nohead:+, $log2})"
		cat "$log" ${nohead:+"$log2"} | tr -d '\r' |
			grep -a -E '^bench: FAILED|FAILED:' >&2 || true
	fi
	summary+=("$line")
	step "kernel $kver done"
done

# --- 4. report ----------------------------------------------------------
# The lookups: each kernel's table as nrio_lookup printed it.
lookup_report() {
	local f k
	for f in "${lookups[@]}"; do
		k=${f##*/lookup-}
		k=${k%.txt}
		echo ""
		echo "B-tree lookups, kernel $k (nrio_lookup; bpf-chain is one"
		echo "read-next BPF descriptor per lookup):"
		cat "$f"
	done
}
# What was run, and how: the date, the settings, the method.
results_header() {
	local v
	echo "nrio_bench results, $(date -u '+%Y-%m-%d %H:%M UTC'), tree" \
	     "$(git -C "$NRIO_TOP" describe --always --dirty 2>/dev/null || echo '?')," \
	     "kernels: $kvers"
	printf 'command:'
	for v in $(compgen -v BENCH_) NRIO_BENCH_MEM; do
		[ -n "${!v+set}" ] && printf ' %s=%s' "$v" "$(sq "${!v}")"
	done
	echo " scripts/bench.sh"
	echo "scheduler: none on every queue (the disk, a multipath head's" \
	     "hidden path disks, nvmet's backing device); 'queues' per device"
	echo "multipath: nvme_core.multipath=Y (Debian's default: nvmet" \
	     "namespaces behind a head); *-nohead devices booted with" \
	     "nvme_core.multipath=N"
	if [ ${#icount[@]} -gt 0 ]; then
		echo "QEMU instruction counting (-icount shift=0,sleep=${NRIO_ICOUNT_SLEEP:-on}," \
		     "one vCPU): a second is 10^9 guest instructions, so ns" \
		     "per I/O are instructions per I/O"
	fi
	echo ""
}
if [ ${#csvs[@]} -eq 0 ] && [ ${#lookups[@]} -gt 0 ]; then
	results_header > "$res/results.txt"
	lookup_report >> "$res/results.txt"
	cp "$res/results.txt" "$res/results.md"
	say ""
	cat "$res/results.txt"
elif [ ${#csvs[@]} -gt 0 ]; then
	results_header > "$res/results.txt"
	cp "$res/results.txt" "$res/results.md"
	"$host_prog" report ${icount:+--icount} "${csvs[@]}" \
		>> "$res/results.txt" || {
		warn "bench: nrio_bench report failed"
		bad=1
	}
	"$host_prog" report --markdown ${icount:+--icount} "${csvs[@]}" \
		>> "$res/results.md" || bad=1
	lookup_report >> "$res/results.txt"
	lookup_report >> "$res/results.md"
	say ""
	cat "$res/results.txt"
else
	warn "bench: no results at all"
	bad=1
fi

say ""
say "== summary ($(($(now_s) - t0))s)"
for l in "${summary[@]}"; do
	say "  $l"
done
say "bench: results in $res"
exit $bad
