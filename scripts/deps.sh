#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what the build, the tests and the VM need from Debian's archive.
# Packages that are already installed are skipped, so a second run costs a
# few dpkg queries.  Kernel images are installed with INITRD=No: nothing on
# the host boots them; QEMU does, with the project's own initramfs.
#
# usage: scripts/deps.sh [extra-package ...]
set -euo pipefail

PKGS=(
	gcc g++ make pkg-config kmod cpio xz-utils libtsan2 python3-docutils
	sparse pahole zstd
	clang-14 libbpf-dev libxdp-dev libelf-dev zlib1g-dev libzstd-dev bpftool
	iproute2
	qemu-system-x86 busybox-static
	liburing-dev libnvme-dev libjson-c-dev libkeyutils-dev libssl-dev libaio-dev
	linux-image-amd64 linux-headers-amd64
	linux-image-6.12-amd64 linux-headers-6.12-amd64
	linux-source-6.12
	"$@"
)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	     grep -q '^install ok installed$'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#PKGS[@]} packages present"
	exit 0
fi

echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "error: these packages are missing and installing them needs root:" >&2
	echo "  apt-get install ${missing[*]}" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive INITRD=No
apt_opts=(-y -q --no-install-recommends -o Dpkg::Use-Pty=0)
apt-get -q update >/dev/null
apt-get install "${apt_opts[@]}" "${missing[@]}"
echo "deps: done"
