#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Print a directory holding kselftest_harness.h and kselftest.h, extracted
# from Debian's linux-source package (the newest /usr/src/linux-source-*)
# and cached, so the headers are never copied into this repository.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n 1)
[ -n "$tarball" ] ||
	die "no /usr/src/linux-source-*.tar.xz: apt-get install linux-source-6.12"

ver=$(basename "$tarball" .tar.xz)
out="$NRIO_CACHE/kselftest/$ver"
if [ ! -f "$out/.extracted" ] || [ "$tarball" -nt "$out/.extracted" ]; then
	mkdir -p "$out.tmp"
	tar -xJf "$tarball" -C "$out.tmp" --strip-components=4 \
		"$ver/tools/testing/selftests/kselftest_harness.h" \
		"$ver/tools/testing/selftests/kselftest.h"
	touch "$out.tmp/.extracted"
	rm -rf "$out"
	mv "$out.tmp" "$out"
fi
printf '%s\n' "$out"
