#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run the full-stack example end to end: XDP -> AF_XDP -> unified region
# -> NVMe, then read the stored log back and check every record.
#
# usage: run-full-stack-test.sh [IFACE] [NVME-DEV] [QUEUE]
#
# Without IFACE (or with "-"): a veth pair of its own, fsx0 here and fsx1
# in the network namespace "nrio-fs", so it is safe on any machine; the
# generator (full_stack --send) sends FS_PACKETS datagrams from the
# namespace (every 7th with IP options), then FS_NOISE datagrams to port
# 9998 and FS_NOISE fragmented ones to 9999 that XDP must pass to the
# stack; every stored record is checked against what it sent.
# With IFACE: the pipeline runs on it until Ctrl-C (or FS_DURATION
# seconds) with the traffic that arrives there (UDP port 9999), and the
# log is checked for intact records (header, checksum, padding).
#
# NVME-DEV defaults to /dev/nrio/ns1 (the test VM), else /dev/nvme0n1.
# The log is FS_LBA_COUNT LBAs from FS_LBA (default: 64 MiB from 448 MiB
# on); nothing else on the device is written.
#
# Environment: FS_BIN (the program; default: ./full_stack next to this
# script, else built here with make), FS_PACKETS (20000), FS_SIZES
# (64,100,512,1000,1024,1472), FS_RATE (datagrams/s, 0: unpaced; default
# 4000), FS_NOISE (100), FS_BATCH (64), FS_LBA, FS_LBA_COUNT,
# FS_DURATION, FS_ARGS (more options for the pipeline, e.g.
# "--xdp-mode generic"), IP (ip(8), default /sbin/ip).  POSIX sh: runs
# in the test VM's busybox too.
#
# Exit: 0 all checks passed, 1 a check failed, 2 bad usage or a missing
# requirement (named), 4 skipped (not root).

IP=${IP:-/sbin/ip}
NETNS=nrio-fs
IF0=fsx0
IF1=fsx1
IP0=10.78.0.1
IP1=10.78.0.2
MAC0=02:00:00:00:78:01
MAC1=02:00:00:00:78:02
PACKETS=${FS_PACKETS:-20000}
SIZES=${FS_SIZES:-64,100,512,1000,1024,1472}
RATE=${FS_RATE:-4000}
NOISE=${FS_NOISE:-100}
BATCH=${FS_BATCH:-64}

here=$(cd "$(dirname "$0")" && pwd)
tmp=${TMPDIR:-/tmp}/nrio-fs.$$
log=$tmp/pipeline.log
pid= tailpid= made_net=0

info() { echo "[INFO] $*"; }
ok() { echo "[SUCCESS] $*"; }
fail() { echo "[FAIL] $*"; }
die() { echo "[ERROR] $1" >&2; cleanup; exit "${2:-1}"; }
need() { missing="$missing
    $*"; }

cleanup() {
	[ -n "$pid" ] && kill -INT "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	[ -n "$tailpid" ] && kill "$tailpid" 2>/dev/null
	pid= tailpid=
	if [ $made_net = 1 ]; then
		"$IP" netns del "$NETNS" 2>/dev/null
		"$IP" link del "$IF0" 2>/dev/null
		made_net=0
	fi
	rm -rf "$tmp"
}
trap 'cleanup; exit 130' INT TERM

# The value of KEY=<n> in line $2 of the log.
field() {
	printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=\([0-9]*\).*/\1/p" |
		head -n 1
}

case ${1:-} in
-h|--help)
	sed -n '3,/^[^#]/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
	exit 0 ;;
esac
[ $# -le 3 ] || die "usage: $0 [IFACE] [NVME-DEV] [QUEUE]" 2
iface=${1:--}
dev=${2:-}
queue=${3:-0}
case $queue in ''|*[!0-9]*) die "QUEUE must be a number, not '$queue'" 2 ;; esac

echo "[INFO] Full-stack example: XDP -> AF_XDP -> unified region -> NVMe"
info "Checking system requirements..."
if [ "$(id -u)" -ne 0 ]; then
	echo "[SKIP] needs root (XDP, AF_XDP, the NVMe device)"
	exit 4
fi
missing=
[ -c /dev/unified_io_region ] ||
	need "/dev/unified_io_region (load nvme_ring_io.ko: scripts/nvme_ring_io_setup.sh)"
if [ -z "$dev" ]; then
	for d in /dev/nrio/ns1 /dev/nvme0n1; do
		[ -b "$d" ] && { dev=$d; break; }
	done
	[ -n "$dev" ] || need "an NVMe namespace (none found: name one, or run scripts/nvme_ring_io_setup.sh --vm --full-stack)"
elif [ ! -b "$dev" ]; then
	die "no block device '$dev'" 2
fi
if [ "$iface" = - ]; then
	[ -x "$IP" ] || need "$IP (iproute2, for the veth pair)"
elif [ ! -e "/sys/class/net/$iface" ]; then
	die "no network interface '$iface'" 2
fi
mkdir -p "$tmp" || die "cannot make $tmp" 2

bin=${FS_BIN:-}
if [ -z "$bin" ] && [ -x "$here/full_stack" ]; then
	bin=$here/full_stack
fi
if [ -z "$bin" ]; then
	for t in make cc clang-14 bpftool; do
		command -v $t > /dev/null 2>&1 || need "$t (to build the program)"
	done
	if [ -z "$missing" ]; then
		info "Building the program..."
		make -s -C "$here" OUTPUT="$here/build" > "$tmp/build.log" 2>&1 ||
			{ cat "$tmp/build.log"; die "the build failed"; }
		bin=$here/build/full_stack
		ok "Built $bin"
	fi
fi
if [ -n "$missing" ]; then
	echo "[ERROR] missing:$missing" >&2
	cleanup
	exit 2
fi
[ -x "$bin" ] || die "$bin is not an executable" 2
ok "System requirements check passed"

# The device's LBA size, for the default log range.
real=$(readlink -f "$dev")
lbs=$(cat "/sys/class/block/${real##*/}/queue/logical_block_size" 2>/dev/null)
[ -n "$lbs" ] || lbs=512
LBA=${FS_LBA:-$((448 * 1048576 / lbs))}
LBA_COUNT=${FS_LBA_COUNT:-$((64 * 1048576 / lbs))}

if [ "$iface" = - ]; then
	info "Setting up veth $IF0 <-> $IF1 (namespace $NETNS)..."
	if "$IP" netns list 2>/dev/null | cut -d' ' -f1 | grep -qx "$NETNS" ||
	   [ -e "/sys/class/net/$IF0" ]; then
		die "namespace $NETNS or interface $IF0 exists already (another run? remove them: $IP netns del $NETNS; $IP link del $IF0)"
	fi
	made_net=1
	"$IP" netns add "$NETNS" &&
	"$IP" link add "$IF0" address "$MAC0" type veth peer name "$IF1" \
		address "$MAC1" netns "$NETNS" &&
	"$IP" addr add "$IP0/24" dev "$IF0" &&
	"$IP" link set "$IF0" up &&
	"$IP" neigh replace "$IP1" lladdr "$MAC1" dev "$IF0" &&
	"$IP" -n "$NETNS" addr add "$IP1/24" dev "$IF1" &&
	"$IP" -n "$NETNS" link set lo up &&
	"$IP" -n "$NETNS" link set "$IF1" up &&
	"$IP" -n "$NETNS" neigh replace "$IP0" lladdr "$MAC0" dev "$IF1" ||
		die "cannot set up the veth pair"
	iface=$IF0
	ok "Interface setup complete"
else
	info "Setting up network interface '$iface'..."
	if command -v ethtool > /dev/null 2>&1; then
		# The seed's tuning, where the driver has it.
		for a in "-K $iface gro off lro off tso off" \
			 "-G $iface rx 4096 tx 4096"; do
			# shellcheck disable=SC2086
			if ethtool $a > /dev/null 2>&1; then
				info "ethtool $a: done"
			else
				info "ethtool $a: not supported by this driver, skipped"
			fi
		done
	else
		info "no ethtool here: interface tuning skipped"
	fi
fi

info "Interface: $iface (queue $queue), NVMe device: $dev ($lbs-byte LBAs), port 9999"
# What XDP program the interface had before, to check it has it again.
xdp_before=
[ -x "$IP" ] && xdp_before=$("$IP" link show "$iface" | grep -o 'prog/xdp[a-z]* id [0-9]*')
: > "$log"
"$bin" -i "$iface" -q "$queue" -d "$dev" --lba "$LBA" --lba-count "$LBA_COUNT" \
	-b "$BATCH" ${FS_DURATION:+-t "$FS_DURATION"} ${FS_ARGS:-} > "$log" 2>&1 &
pid=$!
tail -f "$log" 2>/dev/null &
tailpid=$!
i=0
while ! grep -q '^Ready' "$log" 2>/dev/null; do
	if ! kill -0 "$pid" 2>/dev/null || [ $i -ge 300 ]; then
		sleep 0.2
		wait "$pid" 2>/dev/null
		rc=$?
		pid=
		die "the pipeline did not start (exit $rc)" "$([ $rc = 2 ] && echo 2 || echo 1)"
	fi
	sleep 0.1
	i=$((i + 1))
done

sent=0
if [ $made_net = 1 ]; then
	pace="at most $RATE/s"
	[ "$RATE" = 0 ] && pace=unpaced
	info "Sending $PACKETS datagrams (sizes $SIZES, $pace) from $NETNS..."
	"$bin" --send --netns "$NETNS" --dst "$IP0" -n "$PACKETS" \
		--sizes "$SIZES" --rate "$RATE" --ip-options --noise "$NOISE" \
		> "$tmp/send.log" 2>&1 ||
		{ cat "$tmp/send.log"; die "the generator failed"; }
	cat "$tmp/send.log"
	sent=$PACKETS
	# Until what is on its way has been taken (RX stops growing).
	last=-1
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		cur=$(grep '^Stats:' "$log" | tail -n 1 | sed 's/ pps=[0-9]*//; s/ Bps=[0-9]*//')
		[ "$cur" = "$last" ] && break
		last=$cur
	done
	kill -INT "$pid"
else
	info "Storing what arrives on $iface until Ctrl-C${FS_DURATION:+ or $FS_DURATION s}"
	trap 'kill -INT $pid 2>/dev/null' INT TERM
fi
wait "$pid"
prc=$?
while [ $prc -gt 128 ] && kill -0 "$pid" 2>/dev/null; do
	wait "$pid"
	prc=$?
done
pid=
trap 'cleanup; exit 130' INT TERM
sleep 0.2
kill "$tailpid" 2>/dev/null
tailpid=

result=0
check() {	# CONDITION-EXIT-STATUS MESSAGE
	if [ "$1" -eq 0 ]; then
		ok "$2"
	else
		fail "$2"
		result=1
	fi
}

if [ $prc -ne 0 ]; then
	echo "--- the pipeline's output (exit $prc), without the stats lines:"
	grep -v '^Stats:' "$log"
	echo "---"
fi
summary=$(grep '^Summary:' "$log")
kern=$(grep '^Kernel:' "$log")
runid=$(sed -n 's/^Log: .*run id \(0x[0-9a-f]*\).*/\1/p' "$log" | head -n 1)
rx=$(field RX "$summary")
stored=$(field Stored "$summary")
errors=$(field Errors "$summary")
dropped=$(field Dropped "$summary")
queued=$(field Queued "$summary")
kdrop=$(( $(field rx_dropped "$kern") + $(field rx_ring_full "$kern") ))
[ -n "$stored" ] || { cat "$log"; die "the pipeline printed no summary (exit $prc)"; }

check $prc "pipeline exit $prc (accounting balanced, no WRITE errors)"
if grep -q '^XDP: .*no-socket=0 ' "$log" || [ $made_net = 0 ]; then
	check 0 "XDP found the socket for every redirected packet"
else
	check 1 "XDP found no socket for some packets"
fi
if [ -x "$IP" ]; then
	xdp_after=$("$IP" link show "$iface" | grep -o 'prog/xdp[a-z]* id [0-9]*')
	if [ "$xdp_after" = "$xdp_before" ]; then
		check 0 "XDP detached from $iface at exit${xdp_before:+ (its own program, $xdp_before, left alone)}"
	else
		check 1 "XDP left attached to $iface after exit ($xdp_after)"
	fi
fi
if [ $made_net = 1 ] && [ "$NOISE" -gt 0 ]; then
	xdp=$(grep '^XDP: redirected' "$log")
	frags=$(field fragments "$xdp")
	passed=$(field passed "$xdp")
	check $((frags < NOISE || passed < NOISE)) \
		"XDP passed the other port ($passed) and the fragments ($frags) to the stack"
fi
check $((rx != stored + errors + dropped + queued)) \
	"RX $rx = Stored $stored + Errors $errors + Dropped $dropped + Queued $queued"

info "Reading the log back from $dev..."
if [ $made_net = 1 ]; then
	"$bin" --verify -d "$dev" --lba "$LBA" --lba-count "$LBA_COUNT" \
		--records "$stored" --run-id "$runid" --sent "$sent" \
		--sizes "$SIZES" > "$tmp/verify.log" 2>&1
else
	"$bin" --verify -d "$dev" --lba "$LBA" --lba-count "$LBA_COUNT" \
		--records "$stored" --run-id "$runid" > "$tmp/verify.log" 2>&1
fi
vrc=$?
cat "$tmp/verify.log"
check $vrc "every stored record read back and verified"
if [ $made_net = 1 ]; then
	if [ $((rx + kdrop)) -eq "$sent" ]; then
		info "Sent $sent = RX $rx + dropped by the kernel before RX $kdrop"
	else
		info "Sent $sent, RX $rx, dropped by the kernel before RX $kdrop: $((sent - rx - kdrop)) lost before XDP (veth backlog)"
	fi
fi
grep -E '^(XDP|Options|Drops|Kernel|Module):' "$log" | sed 's/^/    /'
# The last word: the stats over the run and the read-back's verdict.
grep '^Stats:' "$log" | tail -n 1
grep '^Verify:' "$tmp/verify.log"
cleanup
if [ $result = 0 ]; then
	echo "Result: PASS"
else
	echo "Result: FAIL"
fi
exit $result
