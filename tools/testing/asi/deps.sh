#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages the harness needs, only those missing.
# Usage: deps.sh [group...]   groups: build (default), run, llvm, check,
# bochs, model
set -euo pipefail
. "$(dirname "$0")/lib.sh"

declare -A GROUP=(
	[build]="build-essential bc bison flex libelf-dev libssl-dev cpio ccache python3 rsync xz-utils kmod"
	[run]="qemu-system-x86 qemu-system-data busybox-static"
	[llvm]="clang lld llvm"
	[check]="sparse perl"
	[bochs]="bochs bochsbios bochs-x vgabios grub-pc-bin xorriso mtools"
	[model]="spin gcc"
)

want=()
for g in "${@:-build}"; do
	[ -n "${GROUP[$g]:-}" ] || asi_die "unknown package group '$g'"
	for p in ${GROUP[$g]}; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || want+=("$p")
	done
done

# The kernel source is pinned: install exactly that version.
if [[ " $* " == *" build "* || $# -eq 0 ]]; then
	have=$(dpkg-query -W -f='${Version}' "$ASI_KERNEL_PKG" 2>/dev/null || true)
	[ "$have" = "$ASI_KERNEL_PKG_VERSION" ] ||
		want+=("$ASI_KERNEL_PKG=$ASI_KERNEL_PKG_VERSION")
fi

[ ${#want[@]} -eq 0 ] && exit 0
[ "$(id -u)" -eq 0 ] || asi_die "missing packages (${want[*]}); run as root or install them"
asi_log "installing: ${want[*]}"
export DEBIAN_FRONTEND=noninteractive
# An old package list may not know the pinned version: update once, then retry.
if ! apt-get install -y -q --no-install-recommends "${want[@]}" >"${TMPDIR:-/tmp}/asi-apt.log" 2>&1; then
	apt-get update -q >>"${TMPDIR:-/tmp}/asi-apt.log" 2>&1
	apt-get install -y -q --no-install-recommends "${want[@]}" >>"${TMPDIR:-/tmp}/asi-apt.log" 2>&1 ||
		{ tail -20 "${TMPDIR:-/tmp}/asi-apt.log" >&2; asi_die "apt-get install failed"; }
fi
