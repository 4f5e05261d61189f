#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Set up nvme_ring_io on this machine: check the prerequisites, build the
# module for the running kernel, load it, make sure /dev/nvme_ring_io
# exists with mode 0600, and build libnvme_ring_io and the samples.
# Or, with --vm, on a machine without NVMe or without the right to load
# modules: install what is missing, build, boot the project's test VM
# (an emulated NVMe controller with two namespaces) and run the sample
# nvme_ring_io_test there on both namespaces; with --full-stack, the
# full-stack example (XDP -> AF_XDP -> unified region -> NVMe) instead.
#
# usage: scripts/nvme_ring_io_setup.sh            set up on this machine
#        scripts/nvme_ring_io_setup.sh --unload   unload the module
#        scripts/nvme_ring_io_setup.sh --vm [--kver KVER] [-- SAMPLE-ARGS]
#        scripts/nvme_ring_io_setup.sh --vm --full-stack [--kver KVER]
#                                      [-- IFACE NVME-DEV QUEUE]
#        scripts/nvme_ring_io_setup.sh --help
#
# Build output goes to $NRIO_BUILD (default: build/ in the repository).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

MOD=nvme_ring_io
DEV=/dev/nvme_ring_io
SAMPLE=nvme_ring_io_test

usage() {
	cat <<EOF
usage: $0 [--unload | --vm [--full-stack] [--kver KVER] [-- ARGS...]]

  (no option)  check the prerequisites, build $MOD.ko for the running
               kernel ($(uname -r)), load it (modprobe if it is
               installed for this kernel, else insmod of the new build),
               make sure $DEV exists with mode 0600, and build
               libnvme_ring_io and the samples into \$NRIO_BUILD
               (default: build/).  Needs root, the kernel's headers,
               liburing-dev and libnvme-dev; says what is missing and
               the apt-get command that installs it.
  --unload     unload $MOD.
  --vm         for a machine without NVMe or without the right to load
               modules: install what is missing (scripts/deps.sh), build
               the module and a static $SAMPLE, boot the test VM
               (QEMU, an emulated NVMe controller), load the module there
               and run $SAMPLE on /dev/nrio/ns1 (512-byte LBAs)
               and /dev/nrio/ns2 (4 KiB LBAs).  The console streams, the
               sample's output is repeated at the end, and the exit status
               is the sample's (124: timeout, 125: the VM did not finish).
  --full-stack with --vm: run the full-stack example instead
               (samples/unified_io/full_stack: XDP -> AF_XDP -> unified
               region -> NVMe) through its run-full-stack-test.sh: its
               own veth pair and namespace, 20000 datagrams stored on
               /dev/nrio/ns1 and read back; it ends with the stats line
               and the verification result.  FS_PACKETS, FS_SIZES,
               FS_RATE, FS_BATCH, FS_LBA, FS_LBA_COUNT are passed on.
  --kver KVER  the VM's kernel, an installed Debian kernel with headers
               (default: the running kernel if it is one, else the newest
               installed of the ${NRIO_SERIES// /, } series).
  -- ARGS      options for $SAMPLE in the VM, e.g.
               -- --engine passthru -n 4096 (the device is added);
               with --full-stack the run script's arguments, e.g.
               -- - /dev/nrio/ns2 (4 KiB LBAs).
  -h, --help   this text.

Environment: NRIO_BUILD (build directory), NRIO_VM_TIMEOUT (seconds, 600).
EOF
}

# --- host: prerequisites --------------------------------------------------

# Print every missing prerequisite, and the apt command that installs the
# missing packages; return 1 if anything is missing.
check_prereqs() {
	local kver=$1 t pkg
	local -a pkgs=() problems=()

	if [ "$(id -u)" -ne 0 ]; then
		problems+=("root: loading a module needs root (run: sudo $0)")
	fi
	if [ ! -e /proc/modules ]; then
		problems+=("module support: kernel $kver cannot load modules"
			   "  (no /proc/modules): use $0 --vm")
	fi
	if [ ! -f "/lib/modules/$kver/build/Makefile" ]; then
		pkg=linux-headers-$kver
		if apt-cache show "$pkg" > /dev/null 2>&1; then
			pkgs+=("$pkg")
			problems+=("kernel headers: none for $kver at /lib/modules/$kver/build")
		else
			problems+=("kernel headers: none for $kver at /lib/modules/$kver/build"
				   "  and apt has no $pkg (not a Debian kernel?):"
				   "  build with make KDIR=<its build tree>, or use $0 --vm")
		fi
	fi
	for t in gcc:gcc make:make pkg-config:pkg-config insmod:kmod \
		 modinfo:kmod; do
		if ! command -v "${t%%:*}" > /dev/null 2>&1; then
			problems+=("${t%%:*}: not found")
			pkgs+=("${t#*:}")
		fi
	done
	if command -v pkg-config > /dev/null 2>&1; then
		for t in liburing:liburing-dev libnvme:libnvme-dev; do
			if ! pkg-config --exists "${t%%:*}"; then
				problems+=("${t%%:*}: pkg-config does not find it")
				pkgs+=("${t#*:}")
			fi
		done
	else
		pkgs+=(liburing-dev libnvme-dev)
	fi

	[ ${#problems[@]} -eq 0 ] && return 0
	warn "setup: missing prerequisites:"
	for t in "${problems[@]}"; do
		case $t in
		"  "*)	warn "  $t" ;;	# continues the line before
		*)	warn "  - $t" ;;
		esac
	done
	if [ ${#pkgs[@]} -gt 0 ]; then
		# Each package once, in order.
		mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | awk '!seen[$0]++')
		warn "fix: apt-get install -y ${pkgs[*]}"
	fi
	return 1
}

# --- building -------------------------------------------------------------

# build_module KVER: build the module (nrio_build_module) and print the
# path of the .ko.
build_module() {
	nrio_build_module "$1" "$NRIO_BUILD/$1/setup-build.log" ||
		die "setup: building $MOD for $1 failed"
	nrio_module_path "$1"
}

build_userspace() {	# the library and the samples, dynamically linked
	make -s -C "$NRIO_TOP/tools/lib/nvme_ring_io" TOP="$NRIO_TOP" \
		OUTPUT="$NRIO_BUILD/lib" ||
		die "setup: building libnvme_ring_io failed"
	make -s -C "$NRIO_TOP/samples/nvme_ring_io" TOP="$NRIO_TOP" \
		OUTPUT="$NRIO_BUILD/samples" ||
		die "setup: building the samples failed"
}

# --- host: load, device node, unload --------------------------------------

load_module() {	# KVER KO
	local kver=$1 ko=$2 have want dep installed

	if [ -d "/sys/module/$MOD" ]; then
		have=$(cat "/sys/module/$MOD/srcversion" 2>/dev/null || true)
		want=$(modinfo -F srcversion "$ko")
		if [ "$have" = "$want" ]; then
			say "setup: $MOD is already loaded (this build)"
			return 0
		fi
		die "setup: another build of $MOD is loaded" \
		    "(srcversion $have, this build $want): run $0 --unload first"
	fi

	installed=$(modinfo -k "$kver" -F filename "$MOD" 2>/dev/null || true)
	if [ -n "$installed" ]; then
		say "setup: modprobe $MOD (installed: $installed)"
		modprobe "$MOD" ||
			die "setup: modprobe $MOD failed (see dmesg)"
		return 0
	fi
	# insmod does not load dependencies: modprobe them first.
	for dep in $(modinfo -F depends "$ko" | tr ',' ' '); do
		modprobe "$dep" ||
			die "setup: cannot load $dep, which $MOD needs"
	done
	say "setup: insmod $ko"
	if ! insmod "$ko"; then
		dmesg 2>/dev/null | tail -n 5 >&2 || true
		die "setup: insmod $ko failed"
	fi
}

# Make sure $DEV exists, as the module's misc device, with mode 0600.
ensure_devnode() {
	local i devno mode

	if command -v udevadm > /dev/null 2>&1; then
		udevadm settle 2>/dev/null || true
	fi
	for ((i = 0; i < 50; i++)); do
		[ -c "$DEV" ] && break
		sleep 0.1
	done
	if [ ! -c "$DEV" ]; then
		devno=$(cat "/sys/class/misc/$MOD/dev" 2>/dev/null) ||
			die "setup: $MOD is loaded but /sys/class/misc/$MOD is missing"
		say "setup: creating $DEV (char $devno): no devtmpfs or udev made it"
		mknod -m 0600 "$DEV" c "${devno%%:*}" "${devno##*:}"
	fi
	mode=$(stat -c %a "$DEV")
	if [ "$mode" != 600 ]; then
		say "setup: $DEV had mode $mode; setting 0600" \
		    "(a udev rule may change it again)"
		chmod 0600 "$DEV"
	fi
}

host_setup() {
	local kver ko b ns=

	kver=$(uname -r)
	check_prereqs "$kver" || exit 1
	say "setup: building $MOD for $kver"
	ko=$(build_module "$kver")
	load_module "$kver" "$ko"
	ensure_devnode
	say "setup: building libnvme_ring_io and the samples"
	build_userspace

	say "setup: done"
	say "  module:  $(ls -l "$DEV")"
	say "  library: $NRIO_BUILD/lib"
	say "  samples: $NRIO_BUILD/samples/$SAMPLE, $NRIO_BUILD/samples/nrio_example"
	for b in /sys/block/nvme*n*; do
		[[ ${b##*/} =~ ^nvme[0-9]+n[0-9]+$ ]] && ns="$ns /dev/${b##*/}"
	done
	if [ -n "$ns" ]; then
		say "  NVMe namespaces:$ns"
		ns=${ns# }
		say "  try: $NRIO_BUILD/samples/$SAMPLE ${ns%% *}"
		say "       (overwrites the namespace's last 64 MiB; see --help)"
	else
		say "  no NVMe namespace here: $0 --vm runs the sample in a VM"
	fi
}

unload() {
	if [ ! -d "/sys/module/$MOD" ]; then
		say "setup: $MOD is not loaded"
		return 0
	fi
	[ "$(id -u)" -eq 0 ] ||
		die "setup: unloading a module needs root (run: sudo $0 --unload)"
	rmmod "$MOD" ||
		die "setup: cannot unload $MOD: a context or a mapping of one" \
		    "is still open (fuser -v $DEV)"
	# A node left behind (made by mknod) points at nothing now.
	[ -e "$DEV" ] && [ ! -d "/sys/class/misc/$MOD" ] && rm -f "$DEV"
	say "setup: $MOD unloaded"
}

# --- the VM ---------------------------------------------------------------

# The VM's kernel: the running one if it is a supported Debian kernel, else
# the newest supported one installed.
vm_default_kver() {
	local all

	all=$(nrio_default_kvers)
	[ -n "$all" ] || die "setup: no supported kernel installed" \
		"(series $NRIO_SERIES); scripts/deps.sh installs them"
	if printf '%s\n' "$all" | grep -qxF "$(uname -r)"; then
		uname -r
	else
		printf '%s\n' "$all" | tail -n 1
	fi
}

# Quote each argument for the guest's sh.
sh_quote() {
	local a out=

	for a in "$@"; do
		out="$out '${a//\'/\'\\\'\'}'"
	done
	printf '%s' "$out"
}

vm_run() {	# KVER SAMPLE-ARGS...
	local kver=$1 ko job payload log args vrc=0 v
	shift

	[ "$full_stack" = 1 ] && SAMPLE=full_stack

	"$NRIO_TOP/scripts/deps.sh"
	[ -n "$kver" ] || kver=$(vm_default_kver)
	[ -f "/lib/modules/$kver/build/Makefile" ] ||
		die "setup: no headers for $kver: apt-get install -y linux-headers-$kver"
	[ -r "/boot/vmlinuz-$kver" ] ||
		die "setup: cannot read /boot/vmlinuz-$kver:" \
		    "apt-get install -y linux-image-$kver (or run as root)"

	say "setup: building $MOD for $kver and a static $SAMPLE"
	ko=$(build_module "$kver")
	payload=$NRIO_BUILD/setup-payload
	rm -rf "$payload"
	mkdir -p "$payload/samples"
	args=$(sh_quote "$@")
	job=$NRIO_BUILD/setup-job.sh
	if [ "$full_stack" = 1 ]; then
		make -s -C "$NRIO_TOP/samples/unified_io/full_stack" STATIC=1 \
			TOP="$NRIO_TOP" \
			OUTPUT="$NRIO_BUILD/samples-static/full_stack" ||
			die "setup: building the static full_stack failed"
		cp -a "$NRIO_BUILD/samples-static/full_stack/full_stack" \
			"$NRIO_TOP/samples/unified_io/full_stack/run-full-stack-test.sh" \
			"$payload/samples/"
		{
			for v in FS_PACKETS FS_SIZES FS_RATE FS_BATCH FS_LBA \
				 FS_LBA_COUNT; do
				[ -z "${!v:-}" ] ||
					echo "export $v=$(sh_quote "${!v}" |
							  sed 's/^ //')"
			done
			cat <<EOF
echo "NRIO-SAMPLE-BEGIN full-stack"
sh ./samples/run-full-stack-test.sh$args
r=\$?
echo "NRIO-SAMPLE-END full-stack rc=\$r"
exit \$r
EOF
		} > "$job"
	else
		make -s -C "$NRIO_TOP/samples/nvme_ring_io" STATIC=1 \
			TOP="$NRIO_TOP" OUTPUT="$NRIO_BUILD/samples-static" ||
			die "setup: building the static samples failed"
		cp -a "$NRIO_BUILD/samples-static/$SAMPLE" "$payload/samples/"
		cat > "$job" <<EOF
rc=0
for ns in /dev/nrio/ns1 /dev/nrio/ns2; do
	echo "NRIO-SAMPLE-BEGIN \$ns"
	./samples/$SAMPLE$args "\$ns"
	r=\$?
	echo "NRIO-SAMPLE-END \$ns rc=\$r"
	[ \$rc -ne 0 ] || rc=\$r
done
exit \$rc
EOF
	fi

	log=$NRIO_BUILD/$kver/setup-console.log
	say "setup: booting $kver in QEMU (console: $log)"
	"$NRIO_TOP/scripts/vm.sh" --kver "$kver" --ko "$ko" --job "$job" \
		--payload "$payload" --log "$log" \
		--timeout "${NRIO_VM_TIMEOUT:-600}" --show || vrc=$?

	say ""
	say "== $SAMPLE in the VM ($kver)$(sh_quote "$@")"
	# The sample's lines: CRs, progress updates and terminal escapes
	# stripped, kernel messages that interleave left out.
	sed -e 's/\r$//' -e 's/.*\r//' -e 's/\x1b\[K//g' "$log" | awk '
		/^NRIO-SAMPLE-BEGIN / { on = 1; print "-- " $2; next }
		/^NRIO-SAMPLE-END / {
			on = 0; sub(/.*rc=/, ""); print "   exit " $0; next
		}
		on && !/^\[ *[0-9]+\.[0-9]+\]/ { print "   " $0 }'
	case $vrc in
	0)	if [ "$full_stack" = 1 ]; then
			say "setup: the full-stack example stored and verified its traffic"
		else
			say "setup: the sample passed on both namespaces"
		fi ;;
	124) warn "setup: the VM timed out (console: $log)" ;;
	125) warn "setup: the VM did not finish (console: $log)" ;;
	*) warn "setup: the sample failed (exit $vrc)" ;;
	esac
	exit "$vrc"
}

# --- main -----------------------------------------------------------------

mode=host kver='' kver_set=0 full_stack=0
declare -a sample_args=()
set_mode() {
	[ "$mode" = host ] || [ "$mode" = "$1" ] ||
		die "--vm and --unload exclude each other"
	mode=$1
}
while [ $# -gt 0 ]; do
	case $1 in
	--vm)		set_mode vm ;;
	--unload)	set_mode unload ;;
	--full-stack)	full_stack=1 ;;
	--kver)		[ $# -ge 2 ] || die "--kver needs a kernel release"
			kver=$2 kver_set=1
			shift ;;
	--kver=*)	kver=${1#--kver=} kver_set=1 ;;
	-h|--help)	usage
			exit 0 ;;
	--)		shift
			sample_args=("$@")
			break ;;
	*)		die "unknown argument '$1' (see --help)" ;;
	esac
	shift
done
if [ "$mode" != vm ] &&
   { [ $kver_set = 1 ] || [ ${#sample_args[@]} -gt 0 ]; }; then
	die "--kver and sample arguments go with --vm (see --help)"
fi
[ "$mode" = vm ] || [ $full_stack = 0 ] ||
	die "--full-stack goes with --vm (see --help)"

case $mode in
host) host_setup ;;
unload) unload ;;
vm) vm_run "$kver" "${sample_args[@]}" ;;
esac
