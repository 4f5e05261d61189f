#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The test suite ("make check"): install what is missing, then for every
# supported kernel build the module (W=1, sparse, warnings are errors), pack
# the test VM and run the kselftests in it.  Fails on any "not ok", a missing
# end marker, a timeout, or any oops/WARN/BUG/KASAN/lockdep line in the
# console.  Console logs stay in build/<kver>/console.log.
#
# usage: scripts/check.sh [--kvers "KVER ..."] [--vm] [--build-selftests-only]
#   --vm    boot the VM, load the module and show it (no tests)
#   NRIO_VM_TIMEOUT   seconds one VM run may take (default 900; 2700 on
#                     the debug kernel, whose KASAN makes the BPF suites
#                     about three times slower)
#   NRIO_TESTS        run only these test binaries (e.g. "wait_test"),
#                     for development; CI runs them all
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kvers= mode=check debug=auto
while [ $# -gt 0 ]; do
	case $1 in
	--kvers) kvers=$2; shift ;;
	--debug-only) debug=only ;;
	--vm) mode=vm ;;
	--build-selftests-only) mode=selftests ;;
	*) die "check.sh: unknown argument $1" ;;
	esac
	shift
done

t0=$(now_s)
declare -a summary=()
step_t=$t0

# --- 1. packages ---------------------------------------------------------
"$NRIO_TOP/scripts/deps.sh"
step "dependencies"

# --- 2. selftests (kernel independent, static) ---------------------------
ksft_hdr=$("$NRIO_TOP/scripts/ksft-harness.sh")
st_out=$NRIO_BUILD/selftests
mkdir -p "$st_out"
# One build of the libraries (static archives) that all of them link.
lib_out=$NRIO_BUILD/lib-static
make -s -C "$NRIO_TOP/tools/testing/selftests/nvme_ring_io" \
	KSFT_HDR="$ksft_hdr" OUTPUT="$st_out" TOP="$NRIO_TOP" LIB_OUT="$lib_out"
make -s -C "$NRIO_TOP/samples/nvme_ring_io" STATIC=1 TOP="$NRIO_TOP" \
	OUTPUT="$NRIO_BUILD/samples-static" LIB_OUT="$lib_out"
make -s -C "$NRIO_TOP/samples/unified_io" STATIC=1 TOP="$NRIO_TOP" \
	OUTPUT="$NRIO_BUILD/samples-static/unified" LIB_OUT="$lib_out"
make -s -C "$NRIO_TOP/samples/unified_io/full_stack" STATIC=1 \
	TOP="$NRIO_TOP" OUTPUT="$NRIO_BUILD/samples-static/full_stack" \
	LIB_OUT="$lib_out"
# The benchmark program, for bench_test (it checks that it works).
make -s -C "$NRIO_TOP/tools/bench/nvme_ring_io" STATIC=1 TOP="$NRIO_TOP" \
	OUTPUT="$NRIO_BUILD/bench-static" LIB_OUT="$lib_out"
step "selftests, samples and nrio_bench built ($st_out)"
[ "$mode" = selftests ] && exit 0

pass_total=0 fail_total=0 skip_total=0 bad=0

# --- 3. host tests: the headers, and the ring helpers under TSan ----------
if [ "$mode" = check ]; then
	# The UAPI headers, the ring helpers and the libraries' headers must
	# build in C and C++ with every warning on.
	hdr_ok=1
	for lang in "gcc -x c -std=c99" "gcc -x c -std=c11" \
		    "g++ -x c++ -std=c++11" "g++ -x c++ -std=c++17"; do
		printf '%s\n' '#include <linux/nvme_ring_io.h>' \
			'#include <linux/unified_io_region.h>' \
			'#include "nrio_ring.h"' '#include "nvme_ring_io.h"' \
			'#include "nrio_xsk.h"' 'int main(void) { return 0; }' |
		$lang -Wall -Wextra -pedantic -Werror -fsyntax-only \
			-I "$NRIO_TOP/include/uapi" \
			-I "$NRIO_TOP/tools/lib/nvme_ring_io" - || {
			hdr_ok=0
			warn "check: headers do not build with: $lang"
		}
	done
	# The libraries install, and programs build against them with only
	# their pkg-config files: one using only the core, dynamically and
	# statically, without libxdp and libbpf (neither in its link line
	# nor NEEDED by the core's .so), and one using the AF_XDP part.
	inst=$NRIO_BUILD/install-test
	rm -rf "$inst"
	if make -s -C "$NRIO_TOP/tools/lib/nvme_ring_io" TOP="$NRIO_TOP" \
		OUTPUT="$inst/obj" DESTDIR="$inst/root" PREFIX=/usr install &&
	   PKG_CONFIG_PATH="$inst/root/usr/lib/pkgconfig" \
	   PKG_CONFIG_SYSROOT_DIR="$inst/root" sh -c '
		set -e
		core=$(pkg-config --libs libnvme_ring_io)
		core_static=$(pkg-config --static --libs libnvme_ring_io)
		for l in $core $core_static; do
			case $l in -lxdp|-lbpf)
				echo "core links $l: $core / $core_static"
				exit 1;;
			esac
		done
		cc -Wall -Werror -o "$1" "$2" \
			$(pkg-config --cflags libnvme_ring_io) $core
		cc -Wall -Werror -static -o "$1-static" "$2" \
			$(pkg-config --cflags libnvme_ring_io) $core_static \
			2>&1 | { grep -v -e "statically linked applications" \
				 -e "in function" || true; }
		test -x "$1-static"
		if readelf -d "$3/usr/lib/libnvme_ring_io.so" "$1" |
		   grep -E "NEEDED.*lib(xdp|bpf)\."; then
			echo "the core .so or its user needs libxdp/libbpf"
			exit 1
		fi
		printf "%s\n" "#include <nrio_xsk.h>" \
			"int main(void) { struct nrio_xsk_opts o;" \
			"nrio_xsk_opts_init(&o); return nrio_xsk_create(0, &o, 0); }" |
		cc -Wall -Werror -x c -o "$1-xsk" - \
			$(pkg-config --cflags --libs libnvme_ring_io_xsk)
		' sh "$inst/example" \
		"$NRIO_TOP/samples/nvme_ring_io/nrio_example.c" "$inst/root" \
		> "$inst.log" 2>&1; then
		:
	else
		cat "$inst.log" >&2
		hdr_ok=0
		warn "check: the library does not install or link via pkg-config"
	fi

	# The documentation must be valid reStructuredText.
	for rst in "$NRIO_TOP"/Documentation/block/*.rst; do
		/usr/bin/python3 -m docutils --halt=warning "$rst" > /dev/null || {
			hdr_ok=0
			warn "check: $rst is not valid reStructuredText"
		}
	done
	if [ $hdr_ok = 1 ]; then
		summary+=("host headers (C99/C11/C++11/C++17, -pedantic), rst, library install: pass 4")
		pass_total=$((pass_total + 4))
	else
		summary+=("host headers: FAILED")
		fail_total=$((fail_total + 1))
		bad=1
	fi

	hlog=$NRIO_BUILD/host-tests.log
	hrc=0
	TSAN_OPTIONS="halt_on_error=1 exitcode=66" \
		"$st_out/host/ring_stress" > "$hlog" 2>&1 || hrc=$?
	p=$(grep -c -E '^ok [0-9]+ ' "$hlog" || true)
	f=$(grep -c -E '^not ok [0-9]+ ' "$hlog" || true)
	if [ $hrc -ne 0 ] || [ "$f" -gt 0 ] || [ "$p" -eq 0 ]; then
		cat "$hlog" >&2
		summary+=("host ring_stress (TSan): FAILED (exit $hrc, log $hlog)")
		bad=1
		[ "$f" -gt 0 ] || f=1
	else
		summary+=("host ring_stress (TSan): pass $p")
	fi
	pass_total=$((pass_total + p))
	fail_total=$((fail_total + f))
	step "host tests"
fi

if [ "$debug" = only ]; then
	kvers=$("$NRIO_TOP/scripts/kdebug.sh") ||
		die "no debug kernel: set KDEBUG_DIR to a folder with its .debs"
elif [ -z "$kvers" ]; then
	kvers=$(nrio_default_kvers | tr '\n' ' ')
	[ -n "$kvers" ] || die "no supported kernel installed (series: $NRIO_SERIES)"
	# The debug kernel leg runs too wherever its prebuilt packages are.
	if [ "$mode" = check ] && kd=$("$NRIO_TOP/scripts/kdebug.sh"); then
		kvers="$kvers $kd"
	else
		say "check: no debug kernel found (KDEBUG_DIR); skipping that leg"
	fi
fi

# --- 4. per kernel -------------------------------------------------------
build_module() {	# KVER: nrio_build_module with W=1, sparse, -Werror
	local kver=$1 blog=$NRIO_BUILD/$1/build.log
	# W=1 and sparse on every file; any warning fails.
	nrio_build_module "$kver" "$blog" W=1 C=1 KCFLAGS=-Werror || return 1
	if grep -E -i 'warning|error:' "$blog" | grep -v -E \
		'^Skipping BTF generation' >&2; then
		warn "check: $kver: the build printed warnings (log: $blog)"
		return 1
	fi
	return 0
}

# Console lines that fail a run whatever the tests said.
# (Report markers, not the detectors' boot banners.)
SPLAT='Oops|WARNING:|BUG:|KASAN:|UBSAN:|Call Trace|possible circular locking|possible recursive locking|inconsistent lock state|DEBUG_LOCKS_WARN_ON|suspicious RCU usage|general protection fault|Kernel panic|INFO: task .* blocked|soft lockup|hung_task'

# kmemleak reports (one block per object, up to a blank line) that involve
# this module; leaks elsewhere in the kernel are listed, not failed.
leaks() {	# console-log -> lines "ours|other <first line>"
	awk '/^unreferenced object/ { if (b) print (m ? "ours " : "other ") h;
				      b = 1; m = 0; h = $0; next }
	     b && /nvme_ring_io|nrio_/ { m = 1 }
	     b && /^$/ { print (m ? "ours " : "other ") h; b = 0 }
	     END { if (b) print (m ? "ours " : "other ") h }' "$1"
}

job=$NRIO_BUILD/job.sh
if [ "$mode" = vm ]; then
	cat > "$job" <<'EOF'
echo "nrio-guest: module parameters and device:"
ls -l /dev/nvme_ring_io /sys/module/nvme_ring_io
lsmod 2>/dev/null | head -n 20
EOF
else
	# The fuzzer's knobs reach the guest.
	{
		echo "export NRIO_FUZZ_SECONDS=${NRIO_FUZZ_SECONDS:-20}"
		[ -n "${NRIO_FUZZ_SEED:-}" ] &&
			echo "export NRIO_FUZZ_SEED=$NRIO_FUZZ_SEED"
		echo "NRIO_TESTS='${NRIO_TESTS:-}'"
	} > "$job"
	cat >> "$job" <<'EOF'
./selftests/run_tests.sh $NRIO_TESTS
rc=$?
# On a kernel with kmemleak, report leaks (check.sh fails on them).
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan > /sys/kernel/debug/kmemleak
	sleep 1
	echo scan > /sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak
fi
exit $rc
EOF
fi
payload=$NRIO_BUILD/payload
rm -rf "$payload"
mkdir -p "$payload/selftests"
cp -a "$st_out/." "$payload/selftests/"
mkdir -p "$payload/samples"
cp -a "$NRIO_BUILD/samples-static/nrio_example" \
	"$NRIO_BUILD/samples-static/nvme_ring_io_test" \
	"$NRIO_BUILD/samples-static/unified/unified_io_test" \
	"$NRIO_BUILD/samples-static/full_stack/full_stack" \
	"$NRIO_TOP/samples/unified_io/full_stack/run-full-stack-test.sh" \
	"$payload/samples/"
mkdir -p "$payload/bench"
cp -a "$NRIO_BUILD/bench-static/nrio_bench" "$payload/bench/"
rm -rf "$payload/selftests/host"

for kver in $kvers; do
	say "== kernel $kver"
	ks=$(now_s)
	if ! build_module "$kver"; then
		summary+=("kernel $kver: FAILED (module build)")
		bad=1
		fail_total=$((fail_total + 1))
		continue
	fi
	ko=$(nrio_module_path "$kver")
	kb=$(now_s)
	say "   module built in $((kb - ks))s"
	# The layering (Documentation/block/nvme-ring-io.rst, "Code layout").
	if ! python3 "$NRIO_TOP/scripts/layers.py" \
		"$NRIO_BUILD/$kver/src/drivers/block/nvme_ring_io"; then
		summary+=("kernel $kver: FAILED (layering check: scripts/layers.py)")
		bad=1
		fail_total=$((fail_total + 1))
		continue
	fi

	log=$NRIO_BUILD/$kver/console.log
	vrc=0
	show=
	[ "$mode" = vm ] && show=--show
	vm_timeout=${NRIO_VM_TIMEOUT:-900}
	case $kver in
	*-kdebug) vm_timeout=${NRIO_VM_TIMEOUT:-2700} ;;
	esac
	"$NRIO_TOP/scripts/vm.sh" --kver "$kver" --ko "$ko" --job "$job" \
		--payload "$payload" --log "$log" \
		--timeout "$vm_timeout" $show || vrc=$?
	kv=$(now_s)
	[ -f "$log" ] || : > "$log"

	if [ "$mode" = vm ]; then
		summary+=("kernel $kver: vm exit $vrc (console: $log)")
		[ $vrc -eq 0 ] || bad=1
		continue
	fi

	# Test cases are the nested "# ok N" / "# not ok N" lines of each
	# binary; a binary that died before printing its plan counts once.
	p=$(grep -a -c -E '^# ok [0-9]+ ' "$log" || true)
	s=$(grep -a -c -E '^# ok [0-9]+ .*# SKIP' "$log" || true)
	f=$(grep -a -c -E '^# not ok [0-9]+ ' "$log" || true)
	p=$((p - s))
	bin_fail=$(grep -a -c -E '^not ok [0-9]+ selftests:' "$log" || true)
	[ "$f" -eq 0 ] && [ "$bin_fail" -gt 0 ] && f=$bin_fail
	reasons=()
	[ $vrc -eq 124 ] && reasons+=("timeout")
	[ $vrc -eq 125 ] && reasons+=("no end marker")
	if [ $vrc -ne 0 ] && [ $vrc -ne 124 ] && [ $vrc -ne 125 ]; then
		reasons+=("job exit $vrc")
	fi
	[ "$f" -gt 0 ] && reasons+=("$f not ok")
	[ $((p + s)) -eq 0 ] && reasons+=("no test ran")
	if grep -a -n -E "$SPLAT" "$log" > "$NRIO_BUILD/$kver/splats.txt"; then
		reasons+=("kernel splat: $(head -n 1 "$NRIO_BUILD/$kver/splats.txt")")
	fi
	leaks "$log" > "$NRIO_BUILD/$kver/leaks.txt"
	if grep -q '^ours' "$NRIO_BUILD/$kver/leaks.txt"; then
		reasons+=("kmemleak: $(grep -m1 '^ours' "$NRIO_BUILD/$kver/leaks.txt")")
	fi
	if grep -q '^other' "$NRIO_BUILD/$kver/leaks.txt"; then
		say "   kmemleak: $(grep -c '^other' "$NRIO_BUILD/$kver/leaks.txt") leak(s) outside the module, see $NRIO_BUILD/$kver/leaks.txt"
	fi
	pass_total=$((pass_total + p))
	skip_total=$((skip_total + s))
	fail_total=$((fail_total + f))
	line="kernel $kver: pass $p, fail $f, skip $s (build $((kb - ks))s, vm $((kv - kb))s)"
	if [ ${#reasons[@]} -gt 0 ]; then
		bad=1
		[ "$f" -eq 0 ] && fail_total=$((fail_total + 1))
		line="$line FAILED: $(IFS=';'; echo "${reasons[*]}") (console: $log)"
		grep -a -E '^# not ok|^not ok' "$log" >&2 || true
	fi
	summary+=("$line")
	step "kernel $kver done"
done

say ""
say "== summary ($(($(now_s) - t0))s)"
for l in "${summary[@]}"; do
	say "  $l"
done
if [ "$mode" = check ]; then
	say "check: $pass_total passed, $fail_total failed, $skip_total skipped"
fi
exit $bad
