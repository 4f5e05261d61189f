#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the QEMU accelerator to use for KVER: "kvm" only if a quick probe
# boots the kernel under KVM to userspace, else "tcg".  On some machines
# /dev/kvm is a software KVM that cannot boot Debian's kernels, so its mere
# presence proves nothing.  The verdict is cached per host kernel, QEMU and
# guest kernel.  NRIO_ACCEL=tcg|kvm overrides the probe.
#
# usage: scripts/kvm-probe.sh KVER KERNEL-IMAGE
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kver=$1 kernel=$2
if [ -n "${NRIO_ACCEL:-}" ]; then
	echo "$NRIO_ACCEL"
	exit 0
fi
if [ ! -w /dev/kvm ]; then
	echo tcg
	exit 0
fi

key="$(uname -r) $(qemu-system-x86_64 --version | head -n 1) $kver"
cache=$NRIO_CACHE/kvm-probe
mkdir -p "$cache"
for verdict in kvm tcg; do
	if grep -q -F -x -- "$key" "$cache/$verdict" 2>/dev/null; then
		echo "$verdict"
		exit 0
	fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/root/bin"
cp /bin/busybox "$tmp/root/bin/busybox"
cat > "$tmp/root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox echo NRIO-KVM-OK
/bin/busybox poweroff -f
INIT
chmod +x "$tmp/root/init"
(cd "$tmp/root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$tmp/initrd"

# A broken KVM may abort QEMU: keep the shell's job report quiet too.
exec 3>&2 2>/dev/null
timeout -k 5 30 qemu-system-x86_64 -nodefaults -no-reboot -machine q35 \
	-accel kvm -cpu host -m 512 -display none -monitor none \
	-serial "file:$tmp/log" -kernel "$kernel" -initrd "$tmp/initrd" \
	-append "console=ttyS0 panic=-1 rdinit=/init" </dev/null \
	>/dev/null 2>&1 || true
exec 2>&3 3>&-
if grep -q NRIO-KVM-OK "$tmp/log" 2>/dev/null; then
	verdict=kvm
else
	verdict=tcg
fi
printf '%s\n' "$key" >> "$cache/$verdict"
echo "vm: KVM probe for $kver: using $verdict" >&2
echo "$verdict"
