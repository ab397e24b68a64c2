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
# Which selftests each emulator runs (suites/kvm-selftests, asi_emu=):
# QEMU all those given but the "own", "qemu-known" and "qemu-icount"
# ones, Bochs those marked "bochs", the lockdep kernel those marked
# "lockdep", QEMU under icount those marked "qemu-icount", each with
# the arguments after "args"; the known ones with their reasons, for the
# log; the flaky ones, which it retries once.  See kvm-selftests.list.
list=$ASI_HARNESS/kvm-selftests.list
parse='
function rest(i,   r) { r = ""; for (; i <= NF; i++) r = r (r == "" ? "" : " ") $i; return r }
FNR == NR && !/^#/ && NF {
	n = $1; sub(".*/", "", n); a = ""
	for (i = 2; i <= NF; i++) {
		if ($i == "args") { a = rest(i + 1); break }
		if ($i ~ /-known$/) { known[$i, n] = rest(i + 1); break }
		if ($i == "qemu-icount") { mark[$i, n] = 1; break }
		if ($i ~ /-flaky$/) { flaky[$i, n] = rest(i + 1); break }
		mark[$i, n] = 1
	}
	if (a != "" || !(n in args))
		args[n] = a
}'
printf '%s\n' "$@" | awk "$parse"'
FILENAME == "-" { n = $1; sub(".*/", "", n)
	if (!(("own", n) in mark) && !(("qemu-known", n) in known) &&
	    !(("qemu-icount", n) in mark)) print n, args[n] }' "$list" - \
	>"$root/asi/kvm-selftests.qemu"
for sel in bochs lockdep qemu-icount; do
	awk "$parse"'
END { emu = "'$sel'" == "bochs" ? "bochs" : "qemu"
	for (k in mark) { split(k, p, SUBSEP); if (p[1] == "'$sel'" && !((emu "-known", p[2]) in known)) print p[2], args[p[2]] } }' \
		"$list" | sort >"$root/asi/kvm-selftests.${sel#qemu-}"
done
for emu in qemu bochs; do
	for kind in known flaky; do
		awk "$parse"'
END { for (k in '$kind') { split(k, p, SUBSEP); if (p[1] == "'"$emu-$kind"'") print p[2] ": " '$kind'[k] } }' \
			"$list" | sort >"$root/asi/kvm-selftests.$emu.$kind"
	done
done
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -1 >"$dst.tmp"
mv "$dst.tmp" "$dst"
asi_log "initramfs: $dst ($(du -h "$dst" | cut -f1))"
