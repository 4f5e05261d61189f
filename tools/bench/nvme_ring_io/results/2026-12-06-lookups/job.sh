#!/bin/sh
# scripts/bench.sh: the settings, then scripts/guest/bench-job
export BENCH_SECONDS='0.5'
export BENCH_REPEATS='3'
export BENCH_DEVICES='none'
export BENCH_WORKLOADS=''
export BENCH_ENGINES=''
export BENCH_ALLOC_COUNT='0'
export BENCH_FIO_SMOKE='0'
# SPDX-License-Identifier: GPL-2.0
#
# The benchmark VM's job (busybox sh; scripts/bench.sh puts the BENCH_*
# settings in front of it).  For each device in turn: make it, run
# /opt/nrio/nrio_bench on it, tear it down.
#
#   nullb-none     null_blk (irqmode=0, no memory) behind nvmet, connected
#                  over nvme-loop where the kernel has it, else nvmet-tcp on
#                  127.0.0.1
#   nullb-softirq  the same with irqmode=1
#   nvmet-brd      a brd RAM disk (/dev/ram0) behind nvmet, same transport
#   qemu-nvme      QEMU's emulated controller, /dev/nrio/ns1 + /dev/nrio/ng1
#   nullb-raw      null_blk (irqmode=0) itself: what nvmet adds
#   none           no device (only the lookups below)
#
# After each device, its CSV rows go to the console between NRIO-CSV-BEGIN
# and NRIO-CSV-END lines.  Then an allocation trace (kmem events per I/O,
# per call site, for each engine on qemu-nvme) between NRIO-ALLOC-BEGIN and
# NRIO-ALLOC-END.  Then B-tree lookups on qemu-nvme's 4 KiB namespace
# (/dev/nrio/ns2), userspace-driven beside BPF-chained, by
# /opt/nrio/nrio_lookup, between NRIO-LOOKUP-BEGIN and NRIO-LOOKUP-END.
# Exit code: 0 if every device was made and every run passed.
#
# Settings (environment):
#   BENCH_SECONDS BENCH_REPEATS   per run, and how often each engine runs
#   BENCH_DEVICES                 the devices above to run, comma or space
#                                 separated (default all but nvmet-brd)
#   BENCH_WORKLOADS BENCH_ENGINES nrio_bench's --workloads / --engines
#   BENCH_ALLOC_COUNT             I/Os per engine in the trace (0: no trace)
#   BENCH_ALLOC_ENGINES           engines traced (space separated)
#   BENCH_NULLB_MB                null_blk size (default 4096)
#   BENCH_NULLB_MAX_SECTORS       null_blk max_sectors (default 1024)
#   BENCH_NVMF_OPTS               extra connect options
#                                 (nr_io_queues=2,queue_size=256)
#   BENCH_RUN_TIMEOUT             seconds one device's run may take
#                                 (default: 3x the expected time + 2 min)
#   BENCH_FIO_SMOKE=1             first check that fio runs here
#   BENCH_LOOKUP_SECONDS          seconds per lookup way and depth
#                                 (default 1; 0 skips the lookups)
#   BENCH_LOOKUP_INFLIGHT         lookups in flight (default 16)
#   BENCH_PROFILE=DEVICE          after benchmarking DEVICE (one of the
#                                 nvmet ones), trace the functions in
#                                 PROFILE_FUNCS with function_graph for
#                                 each of BENCH_PROFILE_ENGINES on
#                                 BENCH_PROFILE_WORKLOAD, BENCH_PROFILE_COUNT
#                                 I/Os each; the summary goes to the console
#                                 between NRIO-PROFILE-BEGIN and -END.  Under
#                                 QEMU's -icount a microsecond is 1000
#                                 guest instructions.

BENCH=/opt/nrio/nrio_bench
FIO=/usr/bin/fio
CSV=/tmp/bench.csv
ALLOC=/tmp/alloc.txt
NVMET=/sys/kernel/config/nvmet
NULLB=/sys/kernel/config/nullb
TRACE=/sys/kernel/tracing
KVER=$(uname -r)

BENCH_SECONDS=${BENCH_SECONDS:-0.5}
BENCH_REPEATS=${BENCH_REPEATS:-3}
BENCH_DEVICES=$(echo "${BENCH_DEVICES:-nullb-none nullb-softirq qemu-nvme nullb-raw}" |
	tr ', ' '  ')
BENCH_ALLOC_COUNT=${BENCH_ALLOC_COUNT:-20000}
BENCH_ALLOC_ENGINES=${BENCH_ALLOC_ENGINES:-kern-ioctl kern-uring kern-poll \
passthru uring uring-pt libaio}
BENCH_NULLB_MB=${BENCH_NULLB_MB:-4096}
# null_blk's default limit is 255 sectors, so every 128 KiB I/O would be
# split in two (and polled split I/O hangs on 6.1): 512 KiB, like NVMe.
NULLB_MAX_SECTORS=${BENCH_NULLB_MAX_SECTORS:-1024}
# Queues deeper than the deepest workload (128), as on an NVMe drive: at
# queue depth 128 on nvmf's default 128-entry queues every engine would
# wait for tags (and 6.12.117's passthrough with fixed buffers fails with
# EFAULT once io_uring punts it to io-wq for a tag).
BENCH_NVMF_OPTS=${BENCH_NVMF_OPTS-nr_io_queues=2,queue_size=256}
BENCH_PROFILE=${BENCH_PROFILE:-}
BENCH_PROFILE_ENGINES=${BENCH_PROFILE_ENGINES:-kern-ioctl kern-uring uring uring-pt}
BENCH_PROFILE_WORKLOAD=${BENCH_PROFILE_WORKLOAD:-randread-4k-qd128-b32}
BENCH_PROFILE_COUNT=${BENCH_PROFILE_COUNT:-2048}
PROFILE=/tmp/profile.txt
# The system calls, the block layer's submission and completion, and each
# engine's own entry points: inclusive cost per call and per I/O.
PROFILE_FUNCS="__x64_sys_ioctl __x64_sys_io_uring_enter
nrio_ioctl nrio_submit nrio_rw nrio_wait_cq nrio_end_io nrio_post
nrio_uring_cmd
io_submit_sqes io_issue_sqe io_uring_cmd io_cqring_wait __io_run_local_work
io_read io_write blkdev_read_iter blkdev_write_iter
nvme_ns_chr_uring_cmd nvme_ns_head_chr_uring_cmd nvme_uring_cmd_end_io
nvme_map_user_request blk_rq_map_user_io blk_mq_alloc_request
blk_execute_rq_nowait
bio_alloc_bioset submit_bio submit_bio_noacct blk_mq_submit_bio
blk_finish_plug __blk_flush_plug blk_mq_flush_plug_list
nvme_loop_queue_rq nvme_tcp_queue_rq
blk_mq_end_request blk_update_request bio_endio bio_put
blkdev_bio_end_io_async io_req_rw_complete io_uring_cmd_done"

# A run that hangs is killed, so that the other devices still run: after
# 3 times what it should take (all workloads x engines x repeats) + 2 min.
if [ -z "${BENCH_RUN_TIMEOUT:-}" ]; then
	nw=$($BENCH list 2>/dev/null | grep -c '^workload ')
	ne=$($BENCH list 2>/dev/null | grep -c '^engine ')
	[ -n "${BENCH_WORKLOADS:-}" ] &&
		nw=$(echo "$BENCH_WORKLOADS" | tr , '\n' | grep -c .)
	[ -n "${BENCH_ENGINES:-}" ] &&
		ne=$(echo "$BENCH_ENGINES" | tr , '\n' | grep -c .)
	[ "$nw" -gt 0 ] || nw=14
	[ "$ne" -gt 0 ] || ne=11
	BENCH_RUN_TIMEOUT=$(awk -v w="$nw" -v e="$ne" -v r="$BENCH_REPEATS" \
		-v s="$BENCH_SECONDS" 'BEGIN { printf "%d", 120 + 3 * w * e * r * (s + 1) }')
fi
RUN_TIMEOUT=$BENCH_RUN_TIMEOUT

rc=0
say() { echo "bench: $*"; }
fail() { echo "bench: FAILED: $*"; rc=1; }
wr() {	# wr VALUE FILE: write a configfs/sysfs attribute, loudly
	echo "$1" > "$2" || { echo "bench: cannot write $1 to $2" >&2; return 1; }
}

# console_block NAME: stdin to the console between NRIO-NAME-BEGIN and
# NRIO-NAME-END lines, with kernel messages held back meanwhile.
console_block() {
	local loglevel
	loglevel=$(cut -f1 /proc/sys/kernel/printk)
	dmesg -n 1
	echo "NRIO-$1-BEGIN"
	cat
	echo "NRIO-$1-END"
	dmesg -n "$loglevel"
}

# csv_ios ENGINE CSV: the I/Os ENGINE's row in CSV counts (column 6), or 0.
csv_ios() {
	if [ -f "$2" ]; then
		awk -F, -v e="$1" '$4 == e { n = $6 } END { print n + 0 }' "$2"
	else
		echo 0
	fi
}

# trace_lost: a report line for the events the trace buffer dropped since
# it was last cleared; nothing if none were.
trace_lost() {
	local lost
	lost=$(cat $TRACE/per_cpu/cpu*/stats 2>/dev/null |
	       awk '/^overrun:/ { n += $2 } END { print n + 0 }')
	[ "$lost" -gt 0 ] &&
		echo "  lost $lost events (buffer_size_kb too small)"
	return 0
}

wanted() {
	for d in $BENCH_DEVICES; do
		[ "$d" = "$1" ] && return 0
	done
	return 1
}

say "job starts at $(cut -d' ' -f1 /proc/uptime) s uptime;" \
	"$(sed -n 's/MemAvailable: *//p' /proc/meminfo) available"
say "seconds $BENCH_SECONDS repeats $BENCH_REPEATS devices" \
	"$BENCH_DEVICES workloads ${BENCH_WORKLOADS:-all}" \
	"engines ${BENCH_ENGINES:-all} alloc count $BENCH_ALLOC_COUNT" \
	"run timeout ${RUN_TIMEOUT}s"
for d in $BENCH_DEVICES; do
	case $d in
	nullb-none|nullb-softirq|nvmet-brd|qemu-nvme|nullb-raw|none) ;;
	*) fail "BENCH_DEVICES: no device $d" ;;
	esac
done
ip link set lo up 2>/dev/null

if [ -d /sys/module/nvme_loop ]; then
	TRANSPORT=loop
else
	TRANSPORT=tcp
fi
say "kernel $KVER: nvmet devices over $TRANSPORT; clocksource" \
	"$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"

# --- fio, once, on the emulated controller ---------------------------------
if [ "${BENCH_FIO_SMOKE:-0}" = 1 ]; then
	say "fio smoke test"
	$FIO --version || fail "fio --version"
	$FIO --name=t --filename=/dev/nrio/ns1 --rw=randread --bs=4k \
		--direct=1 --ioengine=io_uring --fixedbufs --registerfiles \
		--iodepth=16 --runtime=1 --time_based ||
		fail "fio io_uring on /dev/nrio/ns1"
	$FIO --name=t --filename=/dev/nrio/ng1 --rw=randread --bs=4k \
		--ioengine=io_uring_cmd --cmd_type=nvme --fixedbufs \
		--registerfiles --iodepth=16 --runtime=1 --time_based ||
		fail "fio io_uring_cmd on /dev/nrio/ng1"
fi

# --- null_blk ---------------------------------------------------------------
# nullb_make ITEM IRQMODE: a null_blk device through configfs; prints its
# /dev path (newer kernels, Debian's 6.1 and 6.12 among them, name the disk
# after the item; older ones nullb<index>).
nullb_make() {
	local d=$NULLB/$1 i
	mkdir "$d" || return 1
	wr "$BENCH_NULLB_MB" "$d/size" && wr 512 "$d/blocksize" &&
	wr "$2" "$d/irqmode" && wr 0 "$d/memory_backed" &&
	wr "$NULLB_MAX_SECTORS" "$d/max_sectors" &&
	wr 2 "$d/submit_queues" && wr 256 "$d/hw_queue_depth" &&
	wr 1 "$d/power" || return 1
	for i in 1 2 3 4 5 6 7 8 9 10; do
		if [ -b "/dev/$1" ]; then
			echo "/dev/$1"
			return 0
		fi
		if [ -b "/dev/nullb$(cat "$d/index")" ]; then
			echo "/dev/nullb$(cat "$d/index")"
			return 0
		fi
		sleep 0.2
	done
	return 1
}

nullb_remove() {
	[ -d "$NULLB/$1" ] || return 0
	echo 0 > "$NULLB/$1/power"
	rmdir "$NULLB/$1"
}

# --- nvmet -------------------------------------------------------------------
PORT=$NVMET/ports/1

port_make() {
	[ -d "$PORT" ] && return 0
	mkdir "$PORT" && wr "$TRANSPORT" "$PORT/addr_trtype" || return 1
	if [ "$TRANSPORT" = tcp ]; then
		wr ipv4 "$PORT/addr_adrfam" && wr 127.0.0.1 "$PORT/addr_traddr" &&
		wr 4420 "$PORT/addr_trsvcid" || return 1
	fi
}

ctrl_of() {	# NQN -> /sys/class/nvme/nvmeX of the host controller
	local c
	for c in /sys/class/nvme/nvme*; do
		[ "$(cat "$c/subsysnqn" 2>/dev/null)" = "$1" ] && echo "$c" && return 0
	done
	return 1
}

# nvmet_export NQN BLOCKDEV: export BLOCKDEV as namespace 1 of subsystem NQN,
# connect to it, and print the host's /dev/nvmeXnY.
nvmet_export() {
	local nqn=$1 s=$NVMET/subsystems/$1 opts b n dev= i
	port_make || return 1
	mkdir "$s" && wr 1 "$s/attr_allow_any_host" &&
	mkdir "$s/namespaces/1" && wr "$2" "$s/namespaces/1/device_path" &&
	wr 1 "$s/namespaces/1/enable" &&
	ln -s "$s" "$PORT/subsystems/$nqn" || return 1
	if [ "$TRANSPORT" = tcp ]; then
		opts="transport=tcp,traddr=127.0.0.1,trsvcid=4420,nqn=$nqn"
	else
		opts="transport=loop,nqn=$nqn"
	fi
	[ -n "$BENCH_NVMF_OPTS" ] && opts="$opts,$BENCH_NVMF_OPTS"
	wr "$opts" /dev/nvme-fabrics || return 1
	# The namespace shows up asynchronously; with native multipath its
	# disk hangs off the subsystem, whose subsysnqn is the same.  Hidden
	# per-path disks (nvmeXcYnZ) have no /dev node.
	for i in $(seq 1 100); do
		for b in /sys/block/nvme*n*; do
			n=${b##*/}
			[ "$(cat "$b/device/subsysnqn" 2>/dev/null)" = "$nqn" ] &&
			[ -b "/dev/$n" ] && dev=/dev/$n
		done
		[ -n "$dev" ] && echo "$dev" && return 0
		sleep 0.2
	done
	return 1
}

nvmet_remove() {	# NQN
	local nqn=$1 s=$NVMET/subsystems/$1 c i
	c=$(ctrl_of "$nqn") && echo 1 > "$c/delete_controller"
	for i in $(seq 1 100); do
		ctrl_of "$nqn" > /dev/null || break
		sleep 0.2
	done
	rm -f "$PORT/subsystems/$nqn"
	[ -d "$s" ] || return 0
	echo 0 > "$s/namespaces/1/enable" 2>/dev/null
	rmdir "$s/namespaces/1" 2>/dev/null
	rmdir "$s"
}

# --- function profile -------------------------------------------------------
# graph_summarise IOS < TRACE: per traced function (function_graph output
# with funcgraph-tail), calls, the mean inclusive time per call and the
# time per I/O, most expensive first.
graph_summarise() {
	awk -v n="$1" '
	{
		d = ""
		if (match($0, /[0-9]+\.[0-9]+ us/))
			d = substr($0, RSTART, RLENGTH - 3)
		# A module function reads "name [module]".
		f = ""
		if (match($0, /} \/\* [A-Za-z0-9_.]+( \[[A-Za-z0-9_]+\])? \*\//))
			f = substr($0, RSTART + 5, RLENGTH - 8)
		else if (match($0, /[A-Za-z0-9_.]+( \[[A-Za-z0-9_]+\])?\(\);/))
			f = substr($0, RSTART, RLENGTH - 3)
		sub(/ .*/, "", f)
		if (f == "" || d == "")
			next
		calls[f]++
		us[f] += d
	}
	END {
		printf "  %-32s %9s %9s %12s %12s\n", "function", "calls",
		       "per_io", "us/call", "us/io"
		fflush()
		cmd = "sort -k5,5gr"
		for (f in calls)
			printf "  %-32s %9d %9.3f %12.3f %12.3f\n", f,
			       calls[f], n ? calls[f] / n : 0,
			       us[f] / calls[f], n ? us[f] / n : 0 | cmd
		close(cmd)
	}'
}

profile_trace() {	# NAME BLOCKDEV GENERIC
	local e f ios g= missing
	[ -n "$3" ] && g="--generic $3"
	mount -t tracefs tracefs $TRACE 2>/dev/null
	if [ ! -w "$TRACE/current_tracer" ] ||
	   ! grep -qw function_graph $TRACE/available_tracers; then
		fail "profile: no function_graph tracer"
		return
	fi
	echo 0 > $TRACE/tracing_on
	echo 16384 > $TRACE/buffer_size_kb
	echo > $TRACE/set_ftrace_filter
	missing=
	for f in $PROFILE_FUNCS; do
		echo "$f" >> $TRACE/set_ftrace_filter 2>/dev/null ||
			missing="$missing $f"
	done
	echo function_graph > $TRACE/current_tracer
	echo 1 > $TRACE/options/funcgraph-tail
	echo 0 > $TRACE/options/funcgraph-overhead 2>/dev/null
	: > $PROFILE
	echo "kernel $KVER device $1 workload $BENCH_PROFILE_WORKLOAD" \
	     "count $BENCH_PROFILE_COUNT clocksource" \
	     "$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)" \
	     "traced: $(grep -c . $TRACE/set_ftrace_filter) functions" >> $PROFILE
	[ -n "$missing" ] && echo "  not traceable here:$missing" >> $PROFILE
	for e in $BENCH_PROFILE_ENGINES; do
		say "profile: $e"
		echo > $TRACE/trace
		rm -f /tmp/profile.csv
		timeout -k 10 600 $BENCH run --kernel "$KVER" --device "$1" \
			--path "$2" $g --engines "$e" \
			--workloads "$BENCH_PROFILE_WORKLOAD" \
			--count "$BENCH_PROFILE_COUNT" --precondition 0 \
			--tracing $TRACE --csv /tmp/profile.csv ||
			fail "profile: nrio_bench $e: exit $?"
		echo 0 > $TRACE/tracing_on
		ios=$(csv_ios "$e" /tmp/profile.csv)
		echo "engine $e ios $ios" \
		     "$(awk -F, -v e="$e" '$4 == e { printf "iops %.0f iops_per_cpu_s %.0f", $8, $11 }' \
			/tmp/profile.csv 2>/dev/null)" >> $PROFILE
		trace_lost >> $PROFILE
		graph_summarise "$ios" < $TRACE/trace >> $PROFILE
	done
	echo nop > $TRACE/current_tracer
	echo > $TRACE/set_ftrace_filter
	echo > $TRACE/trace
	console_block PROFILE < $PROFILE
}

# --- the runs -----------------------------------------------------------------
# The CSV rows not printed yet, between marker lines (after each device, so
# that a VM that dies later keeps the earlier results), without kernel
# messages among them.
printed=0
csv_flush() {
	local n
	[ -f "$CSV" ] || return 0
	n=$(wc -l < "$CSV")
	[ "$n" -gt "$printed" ] || return 0
	tail -n +$((printed + 1)) "$CSV" | head -n $((n - printed)) |
		console_block CSV
	printed=$n
}

# bench NAME BLOCKDEV [GENERIC]
bench() {
	local g= t
	[ -n "${3:-}" ] && g="--generic $3"
	say "device $1: $2${3:+ + $3}"
	t=$(cut -d' ' -f1 /proc/uptime)
	timeout -k 10 "$RUN_TIMEOUT" \
	$BENCH run --kernel "$KVER" --device "$1" --path "$2" $g \
		--seconds "$BENCH_SECONDS" --repeats "$BENCH_REPEATS" \
		${BENCH_WORKLOADS:+--workloads "$BENCH_WORKLOADS"} \
		${BENCH_ENGINES:+--engines "$BENCH_ENGINES"} \
		--fio "$FIO" --csv "$CSV" || run_failed "$?" "$1 ($2)"
	say "device $1 done in" \
		"$(awk -v t="$t" '{ printf "%.0f", $1 - t }' /proc/uptime) s"
	csv_flush
}

run_failed() {	# EXIT WHAT
	case $1 in
	137|143) fail "nrio_bench on $2: killed after ${RUN_TIMEOUT}s" ;;
	*) fail "nrio_bench on $2: exit $1" ;;
	esac
}

generic_of() {	# /dev/nvmeXnY -> /dev/ngXnY if it exists
	local g=/dev/ng${1#/dev/nvme}
	[ -c "$g" ] && echo "$g"
}

# bench_nvmet NAME NQN BLOCKDEV: NAME is BLOCKDEV behind nvmet.
bench_nvmet() {
	local dev c
	if ! dev=$(nvmet_export "$2" "$3"); then
		fail "$1: cannot export $3 over $TRANSPORT"
		nvmet_remove "$2"
		return
	fi
	c=$(ctrl_of "$2")
	say "$1: $3 over nvmet-$TRANSPORT is $dev (controller ${c##*/}," \
		"$(cat "$c/queue_count" 2>/dev/null) queues incl. admin)"
	bench "$1" "$dev" "$(generic_of "$dev")"
	[ "$BENCH_PROFILE" = "$1" ] &&
		profile_trace "$1" "$dev" "$(generic_of "$dev")"
	nvmet_remove "$2"
}

bench_nullb_nvmet() {	# NAME IRQMODE
	local nb
	if ! nb=$(nullb_make "$1" "$2"); then
		fail "$1: cannot make null_blk (irqmode $2)"
		nullb_remove "$1"
		return
	fi
	bench_nvmet "$1" "nqn.2024-01.io.nrio:$1" "$nb"
	nullb_remove "$1"
}

if wanted nullb-none; then
	bench_nullb_nvmet nullb-none 0
fi
if wanted nullb-softirq; then
	bench_nullb_nvmet nullb-softirq 1
fi
if wanted nvmet-brd; then
	if [ -b /dev/ram0 ]; then
		bench_nvmet nvmet-brd nqn.2024-01.io.nrio:nvmet-brd /dev/ram0
	else
		fail "nvmet-brd: no /dev/ram0 (brd not loaded)"
	fi
fi
if wanted qemu-nvme; then
	bench qemu-nvme /dev/nrio/ns1 /dev/nrio/ng1
fi
if wanted nullb-raw; then
	if nb=$(nullb_make nullb-raw 0); then
		bench nullb-raw "$nb"
	else
		fail "nullb-raw: cannot make null_blk"
	fi
	nullb_remove nullb-raw
fi
[ -d "$PORT" ] && rmdir "$PORT"


# --- allocation trace --------------------------------------------------------
# summarise IOS < TRACE: the kmem events, in total, per event and per call
# site (symbol without its offset, and module), with their count per I/O.
summarise() {
	awk -v n="$1" '
	/^#/ { next }
	{
		ev = ""; key = ""
		for (i = 1; i <= NF; i++) {
			if (ev == "" && $i ~ /^(kmalloc|kmem_cache_alloc|mm_page_alloc)(_node)?:$/)
				ev = substr($i, 1, length($i) - 1)
			if ($i ~ /^call_site=/) {
				key = substr($i, 11)
				sub(/\+0x[0-9a-f]+\/0x[0-9a-f]+$/, "", key)
				if ($(i + 1) ~ /^\[.*\]$/)
					key = key " " $(i + 1)
				break
			}
			if (ev != "" && $i ~ /^order=/)
				key = "(" ev " " $i ")"
		}
		if (ev == "")
			next
		if (key == "")
			key = "(" ev ")"
		per_ev[ev]++
		site[key]++
	}
	END {
		s = ""
		for (e in per_ev)
			s = s sprintf(" %s %d (%.2f/io)", e, per_ev[e],
				      n ? per_ev[e] / n : 0)
		print "  by event:" s
		printf "  %8s %8s  %s\n", "count", "per_io", "call_site"
		fflush()
		cmd = "sort -k1,1nr"
		for (k in site)
			printf "  %8d %8.2f  %s\n", site[k],
			       n ? site[k] / n : 0, k | cmd
		close(cmd)
	}'
}

alloc_trace() {
	local e ev enabled= ios events
	mount -t tracefs tracefs $TRACE 2>/dev/null
	if [ ! -w "$TRACE/tracing_on" ]; then
		fail "alloc trace: no tracefs at $TRACE"
		return
	fi
	echo 0 > $TRACE/tracing_on
	echo 8192 > $TRACE/buffer_size_kb
	echo > $TRACE/set_event
	for ev in kmem/kmalloc kmem/kmalloc_node kmem/kmem_cache_alloc \
		  kmem/kmem_cache_alloc_node kmem/mm_page_alloc; do
		[ -w "$TRACE/events/$ev/enable" ] || continue
		echo 1 > "$TRACE/events/$ev/enable" && enabled="$enabled ${ev#kmem/}"
	done
	echo > $TRACE/trace
	: > $ALLOC
	echo "kernel $KVER device qemu-nvme workload randread-4k-qd16-b8" \
		"count $BENCH_ALLOC_COUNT events$enabled" >> $ALLOC
	for e in $BENCH_ALLOC_ENGINES; do
		say "alloc trace: $e"
		rm -f /tmp/alloc.csv
		timeout -k 10 600 $BENCH run --kernel "$KVER" --device qemu-nvme \
			--path /dev/nrio/ns1 --generic /dev/nrio/ng1 \
			--engines "$e" --workloads randread-4k-qd16-b8 \
			--count "$BENCH_ALLOC_COUNT" --tracing $TRACE \
			--csv /tmp/alloc.csv || fail "alloc trace: nrio_bench $e: exit $?"
		echo 0 > $TRACE/tracing_on
		ios=$(csv_ios "$e" /tmp/alloc.csv)
		grep -v '^#' $TRACE/trace > /tmp/trace.txt
		events=$(wc -l < /tmp/trace.txt)
		echo "engine $e ios $ios events $events" >> $ALLOC
		trace_lost >> $ALLOC
		summarise "$ios" < /tmp/trace.txt >> $ALLOC
		rm -f /tmp/trace.txt
		echo > $TRACE/trace
	done
	echo > $TRACE/set_event
}

if [ "$BENCH_ALLOC_COUNT" -gt 0 ] 2>/dev/null; then
	alloc_trace
	console_block ALLOC < $ALLOC
fi

# --- B-tree lookups ------------------------------------------------------------
# Depths 3 to 6, each way side by side: nrio_lookup (tools/bench) checks
# every answer against its model and fails the run on any mismatch.
LOOKUP=/opt/nrio/nrio_lookup
BENCH_LOOKUP_SECONDS=${BENCH_LOOKUP_SECONDS:-1}
if [ "$BENCH_LOOKUP_SECONDS" != 0 ] && [ -x $LOOKUP ]; then
	say "lookups: userspace-driven vs BPF-chained on /dev/nrio/ns2"
	lrc=0
	timeout -k 10 900 $LOOKUP --ns /dev/nrio/ns2 --ng /dev/nrio/ng2 \
		--bpf /opt/nrio/chain.bpf.o --seconds "$BENCH_LOOKUP_SECONDS" \
		--inflight "${BENCH_LOOKUP_INFLIGHT:-16}" > /tmp/lookup.txt 2>&1 ||
		lrc=$?
	case $lrc in
	0) ;;
	4) say "lookups skipped: $(tail -n 1 /tmp/lookup.txt)" ;;
	*) fail "lookups: nrio_lookup exit $lrc" ;;
	esac
	console_block LOOKUP < /tmp/lookup.txt
fi

say "job ends at $(cut -d' ' -f1 /proc/uptime) s uptime, rc $rc"
exit $rc
