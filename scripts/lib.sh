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
