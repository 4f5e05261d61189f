#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the kernel build tree to build nvme_ring_io.ko against for KVER.
#
# A kernel with CONFIG_DEBUG_INFO_BTF_MODULES gives an external module BTF
# (which BPF needs to call the module's kfuncs) only if its build tree has
# vmlinux (the base BTF) and tools/bpf/resolve_btfids.  Debian's 6.12
# headers have both; Debian's 6.1 headers have neither, and kbuild then
# prints "Skipping BTF generation" and builds a module without BTF.  For
# such a kernel this script makes a private copy of the headers tree, once,
# in the cache:
#   - vmlinux: the .BTF and .BTF_ids sections of the kernel's own image,
#     /boot/vmlinuz-KVER, decompressed (xz, zstd or gzip);
#   - tools/bpf/resolve_btfids/resolve_btfids from a linux-kbuild package
#     that ships it (Debian's 6.12 kbuild does; the tool reads any
#     kernel's BTF);
#   - the headers' relative links (scripts, tools) made absolute.
# Nothing under /usr/src or /usr/lib is changed.  Where the stock tree
# already has what it needs, or the kernel has no module BTF, or a piece
# is missing, the stock tree is printed (and why, on stderr).
#
# usage: scripts/kheaders.sh KVER
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kver=${1:?usage: kheaders.sh KVER}
stock=/lib/modules/$kver/build
[ -f "$stock/Makefile" ] || die "kheaders: no build tree for $kver"
stock=$(readlink -f "$stock")

keep_stock() {
	[ $# -gt 0 ] && warn "kheaders: $kver: $*; building without module BTF"
	printf '%s\n' "$stock"
	exit 0
}

# A headers tree made by bindeb-pkg may lack .config; kbuild's own copy
# of the configuration, include/config/auto.conf, is always there.
cfg=$stock/.config
[ -f "$cfg" ] || cfg=$stock/include/config/auto.conf
grep -q '^CONFIG_DEBUG_INFO_BTF_MODULES=y' "$cfg" 2>/dev/null ||
	keep_stock
[ -f "$stock/vmlinux" ] && [ -x "$stock/tools/bpf/resolve_btfids/resolve_btfids" ] &&
	keep_stock
command -v pahole > /dev/null || keep_stock "no pahole"

tree=$NRIO_CACHE/kheaders/$kver
stamp=$tree/.nrio-stamp
image=/boot/vmlinuz-$kver
want="$(stat -c '%Y %s' "$image" "$stock/Module.symvers" | tr '\n' ' ')"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	printf '%s\n' "$tree"
	exit 0
fi

btfids=
for t in /usr/lib/linux-kbuild-*/tools/bpf/resolve_btfids/resolve_btfids \
	 /usr/src/linux-headers-*/tools/bpf/resolve_btfids/resolve_btfids; do
	[ -x "$t" ] && btfids=$t
done
[ -n "$btfids" ] || keep_stock "no resolve_btfids in any installed kbuild"
[ -r "$image" ] || keep_stock "cannot read $image"

rm -rf "$tree"
mkdir -p "$(dirname "$tree")"
tmp=$(mktemp -d "$NRIO_CACHE/kheaders/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp -a "$stock" "$tmp/tree"

# Relative links (../../lib/linux-kbuild-*) point nowhere from the copy.
for l in "$tmp/tree"/*; do
	[ -L "$l" ] || continue
	target=$(readlink -f "$stock/$(basename "$l")")
	rm "$l"
	if [ "$(basename "$l")" = tools ]; then
		mkdir "$l"
		for t in "$target"/*; do ln -s "$t" "$l/"; done
	else
		ln -s "$target" "$l"
	fi
done
mkdir -p "$tmp/tree/tools/bpf/resolve_btfids"
cp "$btfids" "$tmp/tree/tools/bpf/resolve_btfids/"

# The base BTF: the kernel image's own .BTF, from its compressed payload.
extract() {	# magic-hex decompressor
	local off
	off=$(LC_ALL=C grep -obUaP "$1" "$image" | head -n 1 | cut -d: -f1)
	[ -n "$off" ] || return 1
	tail -c +$((off + 1)) "$image" | $2 > "$tmp/vmlinux.elf" 2>/dev/null || true
	objcopy --only-section=.BTF --only-section=.BTF_ids "$tmp/vmlinux.elf" \
		"$tmp/tree/vmlinux" 2>/dev/null
}
extract '\xfd7zXZ\x00' 'xz -dc' || extract '\x28\xb5\x2f\xfd' 'zstd -dc' ||
	extract '\x1f\x8b\x08\x00' 'gzip -dc' ||
	keep_stock "no BTF found in $image"
[ -s "$tmp/tree/vmlinux" ] || keep_stock "no BTF found in $image"

mv "$tmp/tree" "$tree"
printf '%s\n' "$want" > "$stamp"
say "kheaders: $kver: base BTF from $image, resolve_btfids from $btfids" >&2
printf '%s\n' "$tree"
