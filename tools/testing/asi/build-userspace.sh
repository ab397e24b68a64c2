#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the static programs of the test initramfs against the tree's UAPI
# headers: the demo VMM and every upstream x86_64 KVM selftest, then pack
# the initramfs.  Incremental: make decides what is stale.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
"$ASI_HARNESS/deps.sh" build run

hdr=$ASI_BUILD/headers
out=$ASI_BUILD/user
mkdir -p "$out" "$ASI_LOGS"
log=$ASI_LOGS/build-user.log
: >"$log"

# UAPI headers of the patched tree (KVM's ABI grows in later patches).
make -s -C "$ASI_TREE" O="$ASI_KOUT" "${ASI_MAKE_OPTS_GCC[@]}" \
	headers_install INSTALL_HDR_PATH="$hdr" >>"$log" 2>&1 ||
	asi_die "headers_install failed, see $log"

make -s -C "$ASI_HARNESS/vmm" OUT="$out" KHDR="$hdr/include" >>"$log" 2>&1 ||
	{ tail -20 "$log" >&2; asi_die "asi-vmm build failed, see $log"; }

ccache gcc -O2 -Wall -Wextra -Werror -static -o "$out/e9cat" "$ASI_HARNESS/e9/e9cat.c" \
	>>"$log" 2>&1 || asi_die "e9cat build failed, see $log"

# Every x86_64 test of the tree's selftests Makefile: the QEMU runs take
# them all (kvm-selftests.list says which not, and why).
mk=$ASI_TREE/tools/testing/selftests/kvm/Makefile
mapfile -t tests < <(awk '$1 == "TEST_GEN_PROGS_x86_64" && ($2 == "=" || $2 == "+=") { print $3 }' "$mk")
[ ${#tests[@]} -gt 50 ] || asi_die "found only ${#tests[@]} x86_64 tests in $mk"
# A name in the list that the Makefile does not build is a stale entry.
for t in $(grep -v '^#' "$ASI_HARNESS/kvm-selftests.list" | awk 'NF { print $1 }'); do
	[[ " ${tests[*]} " == *" $t "* ]] ||
		asi_die "kvm-selftests.list: $t is not an x86_64 test of $mk"
done
targets=()
for t in "${tests[@]}"; do targets+=("$out/kvm/$t"); done
make -C "$ASI_TREE/tools/testing/selftests/kvm" OUTPUT="$out/kvm" \
	KHDR_INCLUDES="-isystem $hdr/include" EXTRA_CFLAGS=-static \
	CC="ccache gcc" -j"$ASI_JOBS" "${targets[@]}" >>"$log" 2>&1 ||
	{ grep -E 'error' "$log" | head -20 >&2; asi_die "KVM selftests build failed, see $log"; }

"$ASI_HARNESS/mkinitramfs.sh" "$ASI_BUILD/initramfs.cpio.gz" "${tests[@]}"
