#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Pack the test initramfs: busybox-static, /init, the suites, the demo VMM
# and the given KVM selftests (paths relative to the selftests dir).
# Usage: mkinitramfs.sh OUTPUT [selftest...]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dst=$1; shift
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp,asi/bin,asi/suites,asi/kvm-selftests}
cp /bin/busybox "$root/bin/busybox"
file -L "$root/bin/busybox" 2>/dev/null | grep -q 'statically linked' ||
	ldd /bin/busybox 2>&1 | grep -q 'not a dynamic' ||
	asi_die "/bin/busybox is not static: install busybox-static"
cp "$ASI_HARNESS/initramfs/init" "$root/init"
cp "$ASI_HARNESS"/suites/* "$root/asi/suites/"
cp "$ASI_BUILD/user/asi-vmm" "$ASI_BUILD/user/e9cat" "$root/asi/bin/"
for t in "$@"; do
	cp "$ASI_BUILD/user/kvm/$t" "$root/asi/kvm-selftests/${t##*/}"
done
# Which selftests each emulator runs (suites/kvm-selftests, asi_emu=).
for emu in qemu bochs; do
	grep -v '^#' "$ASI_HARNESS/kvm-selftests.list" |
		awk -v e="$emu" 'NF { for (i = 2; i <= NF; i++) if ($i == e) { sub(".*/", "", $1); print $1 } }' \
		>"$root/asi/kvm-selftests.$emu"
done
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -1 >"$dst.tmp"
mv "$dst.tmp" "$dst"
asi_log "initramfs: $dst ($(du -h "$dst" | cut -f1))"
