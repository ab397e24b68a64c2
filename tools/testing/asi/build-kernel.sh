#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the test kernel through kunit.py, incrementally, with ccache.
# Usage: build-kernel.sh [gcc|llvm|bench|prod]
#
# The configuration is configs/asi.config plus every .kunitconfig of this
# repository; kunit.py checks that each option survived olddefconfig.
# "bench" is the same with GCC but without lockdep and the atomic-sleep
# checks, whose cost on every lock and interrupt toggle would distort the
# benchmark's ratios: production kernels do not have them.  "prod" is
# "bench" without CONFIG_ADDRESS_SPACE_ISOLATION_DEBUG (and so without
# ASI's KUnit suite), as a distribution would build it: the benchmark
# measures the sibling stun's cost there, without the invariant checker.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cc=${1:-gcc}
extra=()
case $cc in
gcc)	out=$ASI_KOUT ;;
llvm)	"$ASI_HARNESS/deps.sh" llvm
	out=$ASI_KOUT_LLVM ;;
bench|prod)
	out=$ASI_KOUT_BENCH
	extra=(--kconfig_add CONFIG_PROVE_LOCKING=n --kconfig_add CONFIG_DEBUG_ATOMIC_SLEEP=n)
	if [ "$cc" = prod ]; then
		out=$ASI_KOUT_PROD
		extra+=(--kconfig_add CONFIG_ADDRESS_SPACE_ISOLATION_DEBUG=n
			--kconfig_add CONFIG_ASI_KUNIT_TEST=n)
	fi
	# KVM as modules, as distributions build it (the initramfs's /init
	# loads them with the kvm*.* options of the command line).
	for o in MODULES=y MODULE_UNLOAD=y KVM=m KVM_AMD=m KVM_INTEL=m \
		 KVM_X86_ENV_KUNIT_TEST=n; do
		extra+=(--kconfig_add "CONFIG_$o")
	done
	cc=gcc ;;
*)	asi_die "usage: $0 [gcc|llvm|bench|prod]" ;;
esac

"$ASI_HARNESS/prepare-tree.sh"
mkdir -p "$out" "$ASI_LOGS"

asi_kunit_args "$cc"
args=("${ASI_KUNIT_ARGS[@]}" "${extra[@]}")

asi_log "building the $cc kernel in $out"
start=$(date +%s)
log=$ASI_LOGS/build-${1:-gcc}.log
if ! (cd "$ASI_TREE" && python3 tools/testing/kunit/kunit.py build \
	--arch=x86_64 --qemu_config "$ASI_HARNESS/qemu_config.py" \
	--build_dir "$out" --jobs "$ASI_JOBS" "${args[@]}") >"$log" 2>&1; then
	grep -E 'error|ERROR|Error|not in \.config|Missing|^\s*CONFIG_' "$log" | head -40 >&2
	asi_die "$cc kernel build failed, see $log"
fi
# Its modules, if any, packed for asi_initrd() (lib.sh), stripped.
rm -f "$out/modules.cpio.gz"
if grep -q '^CONFIG_MODULES=y' "$out/.config"; then
	mods=$(mktemp -d)
	make -s -C "$ASI_TREE" O="$out" "${ASI_MAKE_OPTS_GCC[@]}" INSTALL_MOD_PATH="$mods" \
		INSTALL_MOD_STRIP=1 modules_install >>"$log" 2>&1 ||
		asi_die "modules_install failed, see $log"
	rm -f "$mods"/lib/modules/*/build "$mods"/lib/modules/*/source
	if [ -n "$(find "$mods" -name '*.ko')" ]; then
		(cd "$mods" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
			gzip -1 >"$out/modules.cpio.gz"
	fi
	rm -rf "$mods"
fi
asi_log "$cc kernel built in $(( $(date +%s) - start )) s: $out/arch/x86/boot/bzImage"
