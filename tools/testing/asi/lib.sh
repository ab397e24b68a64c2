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
ASI_LOGS=$ASI_BUILD/logs
ASI_JOBS=${ASI_JOBS:-$(nproc)}

export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/asi-ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
# Both compilers go through ccache; kbuild records the command line, so
# every caller must pass exactly these options or everything rebuilds.
ASI_MAKE_OPTS_GCC=(ARCH=x86_64 "CC=ccache gcc" "HOSTCC=ccache gcc")
ASI_MAKE_OPTS_LLVM=(ARCH=x86_64 LLVM=1 "CC=ccache clang" "HOSTCC=ccache clang")

asi_log() { printf '[asi] %s\n' "$*" >&2; }
asi_die() { printf '[asi] error: %s\n' "$*" >&2; exit 1; }
