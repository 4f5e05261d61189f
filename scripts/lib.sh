# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the project's scripts.  Source it; do not run it.

NRIO_TOP=${NRIO_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
NRIO_BUILD=${NRIO_BUILD:-$NRIO_TOP/build}
NRIO_CACHE=${NRIO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/linux-chainio}

say()  { printf '%s\n' "$*"; }
warn() { printf '%s\n' "$*" >&2; }
die()  { printf 'error: %s\n' "$*" >&2; exit 1; }

# The supported kernel series.  For each, the newest installed Debian
# kernel of that series with both an image in /boot and a build tree.
NRIO_SERIES=${NRIO_SERIES:-"6.1 6.12"}

nrio_kver_for_series() {
	local series=$1 v best=
	for v in $(ls /lib/modules 2>/dev/null | grep -E "^${series//./\\.}\\.[0-9].*-amd64\$" | sort -V); do
		[ -f "/boot/vmlinuz-$v" ] && [ -f "/lib/modules/$v/build/Makefile" ] && best=$v
	done
	printf '%s\n' "$best"
}

nrio_default_kvers() {
	local s v
	for s in $NRIO_SERIES; do
		v=$(nrio_kver_for_series "$s")
		[ -n "$v" ] && printf '%s\n' "$v"
	done
}

# now_s: seconds since the epoch (for step timings).
now_s() { date +%s; }

# step NAME: print NAME and the seconds since the last step (or since the
# caller set step_t).
step() {
	local t
	t=$(now_s)
	say "== $1 ($((t - ${step_t:-$t}))s)"
	step_t=$t
}

# nrio_build_module KVER LOG [make-args ...]: build nvme_ring_io.ko for KVER
# in a fresh copy of the sources, $NRIO_BUILD/KVER/src (kbuild cannot keep
# two kernels' objects in one tree), output in LOG.  Prints the LOG and
# returns 1 if make fails; the module is then at nrio_module_path KVER.
nrio_build_module() {
	local kver=$1 blog=$2 src=$NRIO_BUILD/$1/src kdir
	shift 2
	rm -rf "$src"
	mkdir -p "$src" "$(dirname "$blog")"
	: > "$blog"
	cp -a "$NRIO_TOP/Kbuild" "$NRIO_TOP/Makefile" "$NRIO_TOP/drivers" \
		"$NRIO_TOP/include" "$src/"
	# A build tree that gives the module BTF (scripts/kheaders.sh).
	kdir=$("$NRIO_TOP/scripts/kheaders.sh" "$kver" 2>> "$blog") ||
		kdir=/lib/modules/$kver/build
	if ! make -C "$src" KVER="$kver" KDIR="$kdir" "$@" module \
		>> "$blog" 2>&1; then
		cat "$blog" >&2
		warn "$kver: module build failed (log: $blog)"
		return 1
	fi
}

nrio_module_path() {	# KVER -> the module nrio_build_module built
	printf '%s\n' "$NRIO_BUILD/$1/src/drivers/block/nvme_ring_io/nvme_ring_io.ko"
}
