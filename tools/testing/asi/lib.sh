# SPDX-License-Identifier: GPL-2.0
# Shared settings of the ASI harness scripts; sourced, never run.
#
# The one place where the kernel version is pinned: Debian's
# linux-source-6.12 package at exactly this version.
ASI_KERNEL_PKG=linux-source-6.12
ASI_KERNEL_PKG_VERSION=6.12.117-1~deb12u1
ASI_KERNEL_TARBALL=/usr/src/linux-source-6.12.tar.xz

ASI_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
ASI_HARNESS=$ASI_REPO/tools/testing/asi
ASI_BUILD=${ASI_BUILD:-$ASI_REPO/build}
ASI_TREE=$ASI_BUILD/linux			# patched source tree
ASI_KOUT=$ASI_BUILD/kernel			# GCC build (O=)
ASI_KOUT_LLVM=$ASI_BUILD/kernel-llvm		# LLVM=1 build (O=)
ASI_KOUT_BENCH=$ASI_BUILD/kernel-bench		# GCC, no lockdep: make bench
ASI_KOUT_PROD=$ASI_BUILD/kernel-prod		# the same without ASI's debug option
ASI_LOGS=$ASI_BUILD/logs
ASI_JOBS=${ASI_JOBS:-$(nproc)}

export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/asi-ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
# Both compilers go through ccache; kbuild records the command line, so
# every caller must pass exactly these options or everything rebuilds.
ASI_MAKE_OPTS_GCC=(ARCH=x86_64 "CC=ccache gcc" "HOSTCC=ccache gcc")
ASI_MAKE_OPTS_LLVM=(ARCH=x86_64 LLVM=1 "CC=ccache clang" "HOSTCC=ccache clang")

# kunit.py's arguments for the one test-kernel configuration: the make
# options of the compiler (ARCH comes from --arch), configs/asi.config and
# every .kunitconfig of the repository.  Usage: asi_kunit_args gcc|llvm
asi_kunit_args() {
	local -n opts=ASI_MAKE_OPTS_${1^^}
	local o k
	ASI_KUNIT_ARGS=()
	for o in "${opts[@]}"; do
		[[ $o == ARCH=* ]] || ASI_KUNIT_ARGS+=(--make_options "$o")
	done
	for k in "$ASI_HARNESS/configs/asi.config" \
		 $(cd "$ASI_REPO" && git ls-files --cached --others --exclude-standard '*.kunitconfig' |
		   sed "s|^|$ASI_TREE/|"); do
		ASI_KUNIT_ARGS+=(--kunitconfig "$k")
	done
}

asi_log() { printf '[asi] %s\n' "$*" >&2; }
asi_die() { printf '[asi] error: %s\n' "$*" >&2; exit 1; }

# The boot images every runner uses: one kernel (the benchmark passes
# its own), one initramfs.
ASI_BZIMAGE=${ASI_BZIMAGE:-$ASI_KOUT/arch/x86/boot/bzImage}
ASI_INITRAMFS=$ASI_BUILD/initramfs.cpio.gz

# The initramfs for $ASI_BZIMAGE into $1: the common one, followed by the
# kernel's modules when it has some (build-kernel.sh packs them beside
# its build); the kernel unpacks both archives.
asi_initrd() {
	local mods
	mods=$(dirname "$ASI_BZIMAGE")/../../../modules.cpio.gz
	if [ -f "$mods" ]; then
		cat "$ASI_INITRAMFS" "$mods" >"$1"
	else
		cp "$ASI_INITRAMFS" "$1"
	fi
}

asi_need_images() {
	[ -f "$ASI_BZIMAGE" ] || asi_die "no kernel at $ASI_BZIMAGE: run make kernel"
	[ -f "$ASI_INITRAMFS" ] || asi_die "no initramfs at $ASI_INITRAMFS: run make userspace"
	mkdir -p "$ASI_LOGS"
}

# The end of a runner: fail on a kernel report in LOG (125), on a missing
# "asi-result" (126), else return the guest suite's own exit status.
asi_guest_result() {	# asi_guest_result SUITE LOG [ALLOWLIST]
	local rc
	"$ASI_HARNESS/scan-log.sh" "$2" ${3:+"$3"} || return 125
	rc=$(sed -n 's/^.*asi-result: \([0-9]*\).*$/\1/p' "$2" | tail -n 1)
	[ -n "$rc" ] || { asi_log "$1: no result in $2"; return 126; }
	return "$rc"
}
