#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Static checks of this repository's kernel code and patches:
#   checkpatch --strict: 0 errors, 0 warnings on every patch and new file
#   sparse (C=2) and W=1: no warning in the repository's kernel C files
#   build warnings: none in the GCC build log (objtool included)
#   LLVM=1: the whole test kernel builds with clang
# Writes one "pass|fail NAME" line per check to $ASI_LOGS/check.results.
# Usage: check.sh [checkpatch|sparse|w1|warnings|llvm]...
set -uo pipefail
. "$(dirname "$0")/lib.sh"
"$ASI_HARNESS/deps.sh" build check
"$ASI_HARNESS/prepare-tree.sh" || exit 1
mkdir -p "$ASI_LOGS"
res=$ASI_LOGS/check.results
: >"$res"
rc=0

record() {	# record NAME STATUS [DETAIL-FILE]
	if [ "$2" -eq 0 ]; then
		echo "pass check/$1" >>"$res"
	else
		echo "fail check/$1" >>"$res"
		[ -n "${3:-}" ] && head -n 20 "$3" | sed 's/^/  /' >&2
		rc=1
	fi
	asi_log "check/$1: $([ "$2" -eq 0 ] && echo pass || echo FAIL)"
}

# The repository's kernel sources, as object targets of the kernel build.
kernel_c_files() {
	(cd "$ASI_REPO" && git ls-files --cached --others --exclude-standard '*.c') |
		grep -v '^tools/'
}

check_checkpatch() {
	local out=$ASI_LOGS/checkpatch.log f
	: >"$out"
	while read -r p _; do
		[[ -z "$p" || "$p" == \#* ]] && continue
		# A description-only entry has no diff; its files are checked below.
		grep -q '^--- ' "$ASI_REPO/patches/$p" || continue
		(cd "$ASI_TREE" && perl scripts/checkpatch.pl --strict --terse --no-summary \
			--show-types "$ASI_REPO/patches/$p") >>"$out" 2>&1
	done <"$ASI_REPO/patches/series"
	(cd "$ASI_REPO" && git ls-files --cached --others --exclude-standard '*.c' '*.h') |
	while read -r f; do
		(cd "$ASI_TREE" && perl scripts/checkpatch.pl --strict --terse --no-summary \
			--show-types -f "$f") >>"$out" 2>&1
	done
	! grep -qE '(ERROR|WARNING|CHECK):' "$out"
	record checkpatch $? "$out"
}

make_objs() {	# make_objs LOG EXTRA-MAKE-ARGS...
	local log=$1; shift
	mapfile -t objs < <(kernel_c_files | sed 's/\.c$/.o/')
	[ ${#objs[@]} -eq 0 ] && return 0
	make -C "$ASI_TREE" O="$ASI_KOUT" "${ASI_MAKE_OPTS_GCC[@]}" "$@" \
		"${objs[@]}" >"$log" 2>&1 || return 1
	! grep -E 'warning:|error:' "$log"
}

check_sparse() {
	local log=$ASI_LOGS/sparse.log r f
	make_objs "$log" C=2
	r=$?
	# C=2 re-checks up-to-date objects; every file must show up as checked.
	for f in $(kernel_c_files); do
		grep -q "CHECK .*/$f\$" "$log" || { echo "not checked: $f" >>"$log"; r=1; }
	done
	record sparse $r "$log"
}

check_w1() {
	# W=1 changes the command line: rebuild the same objects normally after.
	make_objs "$ASI_LOGS/w1.log" W=1
	local r=$?
	make_objs /dev/null >/dev/null
	record W=1 $r "$ASI_LOGS/w1.log"
}

# The log holds what the last build compiled: after an incremental build,
# the files it touched.  The repository's own files are compiled afresh by
# the W=1 check every time, so their warnings cannot hide in a warm run.
check_warnings() {
	local log=$ASI_LOGS/build-gcc.log
	[ -f "$log" ] || { record build-warnings 1; return; }
	! grep -E 'warning:|objtool' "$log" >"$ASI_LOGS/build-warnings.log"
	record build-warnings $? "$ASI_LOGS/build-warnings.log"
}

check_llvm() {
	"$ASI_HARNESS/build-kernel.sh" llvm
	local r=$?
	if [ $r -eq 0 ] && grep -E 'warning:|objtool' "$ASI_LOGS/build-llvm.log" >"$ASI_LOGS/llvm-warnings.log"; then
		r=1
	fi
	record llvm-build $r "$ASI_LOGS/llvm-warnings.log"
}

for c in "${@:-checkpatch sparse w1 warnings llvm}"; do
	for one in $c; do "check_$one"; done
done
exit $rc
