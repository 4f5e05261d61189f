#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run the nvme_ring_io kselftests and print one TAP 13 stream.  Each test
# binary's own TAP output is nested behind "# ", as the kselftest runner
# does it.  Works with busybox sh.
#
# usage: run_tests.sh [test ...]     (default: every *_test here)
#   a test may be given as binary:case (e.g. xsk_test:xdp_kfuncs) to run
#   only that case of a kselftest-harness binary (its -t), for development
#   NRIO_TEST_TIMEOUT  seconds one binary may run (default 900)

cd "$(dirname "$0")" || exit 1

if [ $# -gt 0 ]; then
	tests="$*"
else
	tests=$(ls -- *_test 2>/dev/null)
fi

n=0
for t in $tests; do n=$((n + 1)); done

echo "TAP version 13"
echo "1..$n"

i=0
failed=0
rcfile=/tmp/.nrio_rc.$$
for t in $tests; do
	i=$((i + 1))
	echo "# selftests: nvme_ring_io: $t"
	bin=${t%%:*}
	set --
	[ "$bin" != "$t" ] && set -- -t "${t#*:}"
	{
		timeout -s KILL "${NRIO_TEST_TIMEOUT:-900}" "./$bin" "$@" 2>&1
		echo $? > "$rcfile"
	} | sed 's/^/# /'
	rc=$(cat "$rcfile" 2>/dev/null || echo 1)
	case $rc in
	0)	echo "ok $i selftests: nvme_ring_io: $t" ;;
	4)	echo "ok $i selftests: nvme_ring_io: $t # SKIP" ;;
	137)	echo "not ok $i selftests: nvme_ring_io: $t # TIMEOUT"
		failed=$((failed + 1)) ;;
	*)	echo "not ok $i selftests: nvme_ring_io: $t # exit=$rc"
		failed=$((failed + 1)) ;;
	esac
done
rm -f "$rcfile"
[ $failed -eq 0 ]
