#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Make the debug kernel (KASAN, lockdep, kmemleak, UBSAN, fault injection)
# available and print its release.  It is a prebuilt Debian package pair
# from KDEBUG_DIR (default: the shared/kernels folder beside this
# checkout); installing it on the host only provides the image QEMU boots
# and the build tree the module compiles against (INITRD=No: the host
# never boots it).  Prints nothing and exits 1 if no debug kernel is found.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dir=${KDEBUG_DIR:-$NRIO_TOP/../shared/kernels}
img=$(ls "$dir"/linux-image-*-kdebug_*.deb 2>/dev/null | sort -V | tail -n 1 || true)
hdr=$(ls "$dir"/linux-headers-*-kdebug_*.deb 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$img" ] || [ -z "$hdr" ]; then
	# Already installed by other means?
	v=$(ls /lib/modules 2>/dev/null | grep -- '-kdebug$' | sort -V | tail -n 1 || true)
	[ -n "$v" ] && [ -f "/boot/vmlinuz-$v" ] && { echo "$v"; exit 0; }
	exit 1
fi
mkdir -p "$NRIO_BUILD"
kver=$(dpkg-deb -f "$img" Package | sed 's/^linux-image-//')
if [ ! -f "/boot/vmlinuz-$kver" ] || [ ! -f "/lib/modules/$kver/build/Makefile" ]; then
	[ "$(id -u)" -eq 0 ] || die "installing the debug kernel needs root: dpkg -i $img $hdr"
	INITRD=No dpkg -i "$img" "$hdr" > "$NRIO_BUILD/kdebug-install.log" 2>&1 ||
		die "dpkg -i of the debug kernel failed (see $NRIO_BUILD/kdebug-install.log)"
fi
echo "$kver"
