#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the debug kernel the suite runs under ("make check-debug"): Debian's
# linux-source-6.12 configured from x86_64_defconfig + kvm_guest.config +
# scripts/kdebug.config (KASAN, lockdep, kmemleak, UBSAN, fault injection,
# NVMe/nvmet/null_blk/io_uring built in, BTF), packaged as .debs with the
# headers the module builds against (with .config and a BTF-only vmlinux,
# as Debian's headers packages have, so external modules get BTF).  The result is cached: a second run
# with the same source and fragment does nothing.  About 55 minutes on two
# cores; CI uses the prebuilt copy that KDEBUG_DIR names instead.
#
# usage: scripts/build-kdebug.sh [--config-only] [OUTDIR]
#        (OUTDIR defaults to ~/.cache/linux-chainio/kdebug)
# then:  KDEBUG_DIR=OUTDIR make check-debug
set -euo pipefail
. "$(dirname "$0")/lib.sh"

config_only=0
if [ "${1:-}" = --config-only ]; then
	config_only=1
	shift
fi
out=${1:-$NRIO_CACHE/kdebug}
frag=$NRIO_TOP/scripts/kdebug.config
"$NRIO_TOP/scripts/deps.sh" linux-source-6.12 bc bison flex libelf-dev \
	libssl-dev dpkg-dev debhelper rsync cpio kmod pahole

tarball=$(ls /usr/src/linux-source-6.12.tar.xz)
stamp="$(basename "$tarball") $(stat -c %Y "$tarball") $(sha256sum "$frag" | cut -c1-16)"
if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ] &&
   ls "$out"/linux-image-*-kdebug_*.deb >/dev/null 2>&1; then
	say "kdebug: up to date in $out"
	exit 0
fi

src=$out/src
rm -rf "$out"
mkdir -p "$src"
t0=$(now_s)
tar -xJf "$tarball" -C "$src" --strip-components=1
cd "$src"
make -s x86_64_defconfig
make -s kvm_guest.config
scripts/kconfig/merge_config.sh -m .config "$frag" > /dev/null
make -s olddefconfig
# Every option asked for must have survived the dependency resolution.
missing=0
while read -r line; do
	case $line in
	CONFIG_*=*)
		grep -qx "$line" .config || { warn "kdebug: $line did not stick"; missing=1; } ;;
	"# CONFIG_"*" is not set")
		grep -qx "$line" .config || { warn "kdebug: $line did not stick"; missing=1; } ;;
	esac
done < "$frag"
[ $missing = 0 ] || die "kdebug: the configuration lacks options (see above)"
say "kdebug: configured in $(($(now_s) - t0))s"
if [ $config_only = 1 ]; then
	cp .config "$out/config"
	exit 0
fi
say "kdebug: building (this takes a while)"

make -j"$(nproc)" bindeb-pkg LOCALVERSION=-kdebug \
	KDEB_PKGVERSION="$(make -s kernelversion)-nrio" > "$out/build.log" 2>&1 ||
	{ tail -n 30 "$out/build.log" >&2; die "kdebug: build failed ($out/build.log)"; }
# bindeb-pkg leaves the packages beside the source tree, in $out.
# Its headers package lacks two files Debian's own headers packages have:
# .config (kbuild's module BTF check and scripts/kheaders.sh read it) and
# vmlinux, here with only the kernel's .BTF and .BTF_ids sections: the base
# BTF an external module's BTF is built against.  Add them, so that a
# module built against /lib/modules/KVER/build gets module BTF.
hdeb=$(ls "$out"/linux-headers-*-kdebug_*.deb)
kver=$(make -s kernelrelease LOCALVERSION=-kdebug)
rp=$out/headers-repack
rm -rf "$rp"
dpkg-deb -R "$hdeb" "$rp"
hd=$rp/usr/src/linux-headers-$kver
[ -d "$hd" ] || die "kdebug: no $hd in $hdeb"
install -m 0644 .config "$hd/.config"
objcopy --only-section=.BTF --only-section=.BTF_ids vmlinux "$hd/vmlinux"
[ -x "$hd/tools/bpf/resolve_btfids/resolve_btfids" ] ||
	install -D -m 0755 tools/bpf/resolve_btfids/resolve_btfids \
		"$hd/tools/bpf/resolve_btfids/resolve_btfids"
dpkg-deb --root-owner-group -b "$rp" "$hdeb" > /dev/null
rm -rf "$rp"
cp .config "$out/config"
echo "$stamp" > "$out/.stamp"
say "kdebug: built in $(($(now_s) - t0))s: $(ls "$out"/*.deb | tr '\n' ' ')"
say "kdebug: now run: KDEBUG_DIR=$out make check-debug"
