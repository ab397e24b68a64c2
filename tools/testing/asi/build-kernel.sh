#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the test kernel through kunit.py, incrementally, with ccache.
# Usage: build-kernel.sh [gcc|llvm]
#
# The configuration is configs/asi.config plus every .kunitconfig of this
# repository; kunit.py checks that each option survived olddefconfig.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cc=${1:-gcc}
case $cc in
gcc)	out=$ASI_KOUT ;;
llvm)	"$ASI_HARNESS/deps.sh" llvm
	out=$ASI_KOUT_LLVM ;;
*)	asi_die "usage: $0 [gcc|llvm]" ;;
esac

"$ASI_HARNESS/prepare-tree.sh"
mkdir -p "$out" "$ASI_LOGS"

asi_kunit_args "$cc"
args=("${ASI_KUNIT_ARGS[@]}")

asi_log "building the $cc kernel in $out"
start=$(date +%s)
log=$ASI_LOGS/build-$cc.log
if ! (cd "$ASI_TREE" && python3 tools/testing/kunit/kunit.py build \
	--arch=x86_64 --qemu_config "$ASI_HARNESS/qemu_config.py" \
	--build_dir "$out" --jobs "$ASI_JOBS" "${args[@]}") >"$log" 2>&1; then
	grep -E 'error|ERROR|Error|not in \.config|Missing|^\s*CONFIG_' "$log" | head -40 >&2
	asi_die "$cc kernel build failed, see $log"
fi
asi_log "$cc kernel built in $(( $(date +%s) - start )) s: $out/arch/x86/boot/bzImage"
