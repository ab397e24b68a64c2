#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Everything "make test" runs, in order, ending with "N passed, N failed":
#   1. tree and GCC kernel build (kunit.py), clean of warnings
#   2. KUnit suites in QEMU (kunit.py, asi=on), one result per test case:
#      kvm_env, asi_core, asi_x86
#   3. the initramfs programs and the bench kernel (no lockdep: the one
#      whose VM exits really run restricted; KVM, kvm-amd and kvm-intel
#      as modules, as distributions build them), then in-guest suites in
#      QEMU: the upstream x86 KVM selftests (kvm-selftests.list) with
#      every VM in its ASI instance (kvm.asi=force): those marked lockdep
#      on the test kernel, and all on the bench kernel with asi=off and
#      with force, where the two must pass the same tests (those that
#      need every vCPU to run in time in boots of their own under
#      -icount); force fails closed when ASI is not
#      running (kvm-asi-closed) and when KVM's modules load without
#      their class, which they get back when reloaded (kvm-asi-module);
#      KVM_CAP_X86_ASI under
#      kvm.asi=optin (kvm-asi-cap), the exit loops with their ASI
#      statistics (kvm-asi-exits), 4 vCPUs for 60 s with the running VM's
#      instance audited every second (kvm-asi-isolation), dirty logging
#      with every VM in its instance (kvm-dirty-log), the demo VMM's
#      exit table without and with ASI, ASI's debugfs counters (asi-state), fault
#      injection on every allocation ASI makes (asi-fault-inject)
#   4. the harness's own negative check: a provoked WARNING must fail a run;
#      the same for ASI's warning on a sensitive access in a critical section
#   5. in Bochs (VMX, EPT, PCID): every KUnit suite with asi=on and the
#      Bochs machine's expectations, asi-state, the VMX and KVM-ASI
#      selftests on the bench kernel with asi=off and with force (the same
#      must pass), and force failing closed where ASI refuses to start
#      (the ITS thunks on)
#   6. static checks: checkpatch, sparse, W=1, the LLVM=1 build; the
#      sibling-stun protocol's model checked with spin (model/stun.pml),
#      its mutant caught
#   7. the bench kernel (no lockdep) in Bochs: kvm-asi-exits must handle
#      99.5% of CPUID, RDMSR, hypercall, x2APIC and write-protection fault
#      exits without an ASI fault and 99.5% without any ASI exit (PML off,
#      so that every write faults; a CPU of 10^9 instructions a second);
#      kvm-asi-isolation on 2 cores x 2 threads, where each vCPU must
#      handle most of its exits restricted while the instance is audited
# Every KUnit case, selftest, suite and check counts once.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
mkdir -p "$ASI_LOGS"
all=$ASI_LOGS/results
: >"$all"
t0=$(date +%s)

add() { echo "$1 $2" >>"$all"; asi_log "$2: $1"; }

# The upstream selftests that pass with every VM in its ASI instance must
# be those that pass with ASI off, on the same kernel and emulator (the
# boots NAME and NAME-icount together).
same_passes() {	# same_passes EMU OFF-NAME FORCE-NAME
	local off force
	off=$(sed -n "s|^pass $1/$2\(-icount\)\?/kvm/||p" "$all" | sort)
	force=$(sed -n "s|^pass $1/$3\(-icount\)\?/kvm/||p" "$all" | sort)
	if [ -n "$off" ] && [ "$off" = "$force" ]; then
		add pass "$1/kvm-selftests/force-passes-what-off-passes"
		asi_log "$1: the same $(echo "$off" | wc -l) upstream selftests pass with asi=off and kvm.asi=force"
	else
		add fail "$1/kvm-selftests/force-passes-what-off-passes"
		diff <(echo "$off") <(echo "$force") | sed 's/^/  off<  >force: /' >&2
	fi
}

summary() {
	local p f
	p=$(grep -c '^pass ' "$all")
	f=$(grep -c '^fail ' "$all")
	grep '^skip ' "$all" | sed 's/^skip /  skipped (not counted, reason in the log): /'
	grep '^fail ' "$all" | sed 's/^fail /  FAILED: /'
	# Why a KUnit case failed, where only this tail of the output is kept.
	if grep -q '^fail kunit/' "$all"; then
		grep -h -A4 'EXPECTATION FAILED\|ASSERTION FAILED' \
			"$ASI_KOUT/test.log" 2>/dev/null | head -40 | sed 's/^/  kunit: /'
	fi
	echo "test run took $(( $(date +%s) - t0 )) s; results in $all"
	echo "$p passed, $f failed"
	[ "$f" -eq 0 ] && [ "$p" -gt 0 ]
	exit $?
}

# A guest suite: each "asi-test: NAME: pass|fail" line counts; the boot
# itself counts too (clean log, result reported, no timeout).
guest_suite() {	# guest_suite qemu|bochs SUITE TIMEOUT [CMDLINE [NAME]]
	local name=${5:-$2}
	local log=$ASI_LOGS/$1-$name.log r
	"$ASI_HARNESS/$1-run.sh" -t "$3" -l "$log" -a "${4:-}" "$2"
	r=$?
	sed -n 's/^.*asi-test: \([^:]*\): \(pass\|fail\).*$/\2 '"$1"'\/'"${5:+$5\/}"'\1/p' "$log" |
		tr -d '\r' >>"$all"
	case $r in
	0)	add pass "$1/boot/$name" ;;
	124)	add fail "$1/boot/$name (timeout)" ;;
	125)	add fail "$1/boot/$name (kernel report in log)" ;;
	126)	add fail "$1/boot/$name (no result)" ;;
	*)	# The suite failed: counted already if it said which test did.
		if grep -q 'asi-test: .*: fail' "$log"; then
			add pass "$1/boot/$name"
		else
			add fail "$1/boot/$name (exit $r)"
		fi ;;
	esac
}

if "$ASI_HARNESS/build-kernel.sh" gcc; then
	add pass build/kernel-gcc
else
	add fail build/kernel-gcc
	summary
fi

# The kernel is built: kunit.py only needs to boot it.
ASI_KUNIT_CMD=exec "$ASI_HARNESS/kunit.sh"
cat "$ASI_LOGS/kunit.results" >>"$all"

# Bochs: VMX with EPT, PCID, INVPCID (kvm_intel), same kernel.  Bochs
# emulates on one host thread: it runs beside the QEMU suites and checks.
bench=$ASI_KOUT_BENCH/arch/x86/boot/bzImage
bochs_part() {
	"$ASI_HARNESS/bochs-kunit.sh"
	cat "$ASI_LOGS/bochs-kunit.results" >>"$all"
	guest_suite bochs asi-state 600 "asi=on idle=halt indirect_target_selection=off"
	[ -n "$bench_ok" ] || return
	ASI_BZIMAGE=$bench guest_suite bochs kvm-selftests 2400 asi=off bench-asi-off
	ASI_BZIMAGE=$bench guest_suite bochs kvm-selftests 2400 \
		"asi=on kvm.asi=force indirect_target_selection=off" bench-asi-force
	same_passes bochs bench-asi-off bench-asi-force
	# The ITS thunks on: ASI refuses to start, and force fails closed.
	ASI_BZIMAGE=$bench guest_suite bochs kvm-asi-closed 600 "asi=on kvm.asi=force"
	# The sibling stun on VMX, both threads of both cores, with the
	# default backend (a bad asi_stun= value is ignored).
	ASI_BZIMAGE=$bench ASI_BOCHS_CPUS=1:2:2 guest_suite bochs kvm-asi-stun 2400 \
		"asi=on kvm.asi=force indirect_target_selection=off asi_stun=bogus" \
		kvm-asi-stun-2x2
}

bochs_pid= bench_ok=
if "$ASI_HARNESS/build-userspace.sh"; then
	add pass build/userspace
	if "$ASI_HARNESS/build-kernel.sh" bench; then
		add pass build/kernel-bench
		bench_ok=1
	else
		add fail build/kernel-bench
	fi
	bochs_part >"$ASI_LOGS/bochs-part.out" 2>&1 &
	bochs_pid=$!

	# The upstream selftests with every VM in its ASI instance: those of
	# the paths KVM-ASI changes on the lockdep kernel (every entry leaves
	# there, but lockdep sees the instances' making and unmaking), and all
	# of them on the bench kernel, where the exits run restricted and the
	# same tests must pass as with ASI off.
	guest_suite qemu kvm-selftests 900 "asi=on kvm.asi=force asi_kvm_list=lockdep" kvm-asi-force
	if [ -n "$bench_ok" ]; then
		ASI_BZIMAGE=$bench guest_suite qemu kvm-selftests 1500 asi=off bench-asi-off
		ASI_BZIMAGE=$bench guest_suite qemu kvm-selftests 1500 \
			"asi=on kvm.asi=force" bench-asi-force
		# Those that need every vCPU to run within a span of guest
		# time: where time counts instructions.
		ASI_QEMU_ARGS="-icount shift=0,align=off" ASI_BZIMAGE=$bench \
			guest_suite qemu kvm-selftests 300 "asi=off asi_kvm_list=icount" \
			bench-asi-off-icount
		ASI_QEMU_ARGS="-icount shift=0,align=off" ASI_BZIMAGE=$bench \
			guest_suite qemu kvm-selftests 300 \
			"asi=on kvm.asi=force asi_kvm_list=icount" bench-asi-force-icount
		same_passes qemu bench-asi-off bench-asi-force
		# ASI off at boot: force fails closed.
		ASI_BZIMAGE=$bench guest_suite qemu kvm-asi-closed 300 "asi=off kvm.asi=force"
		# KVM's modules loaded by hand: without their class (fault
		# injection) force refuses VMs; reloaded, VMs get ASI and every
		# instance maps the modules' text and data until they unload.
		ASI_BZIMAGE=$bench guest_suite qemu kvm-asi-module 300 \
			"asi=on kvm.asi=force asi_modules=manual"
		# The sibling stun: the default (core scheduling), a bad
		# value ignored, and the IPI alone.
		ASI_BZIMAGE=$bench guest_suite qemu kvm-asi-stun 300 \
			"asi=on kvm.asi=force asi_stun=bogus" kvm-asi-stun
		ASI_BZIMAGE=$bench guest_suite qemu kvm-asi-stun 300 \
			"asi=on kvm.asi=force asi_stun=ipi" kvm-asi-stun-ipi
		# A VM's TSC rate that cannot be scaled (the clock tests' failure).
		ASI_BZIMAGE=$bench guest_suite qemu kvm-tsc-rate 300 \
			"asi=on kvm.asi=force kvm.tsc_tolerance_ppm=0"
	fi
	guest_suite qemu kvm-asi-cap 300 "asi=on kvm.asi=optin"
	guest_suite qemu kvm-asi-exits 300 "asi=on kvm.asi=optin"
	guest_suite qemu kvm-asi-isolation 400 "asi=on kvm.asi=optin"
	guest_suite qemu kvm-dirty-log 400 "asi=on kvm.asi=force"
	# With lockdep, every VM entry is made in the full address space
	# (lockdep's state is not mapped), so a CPU in its guest is never
	# safe for its sibling: the stun's locking is checked here, its
	# protocol below on the bench kernel, whose entries are restricted.
	guest_suite qemu kvm-asi-stun 300 "asi=on kvm.asi=force asi_stun=coresched" \
		kvm-asi-stun-lockdep
	guest_suite qemu kvm-asi-stun 300 "asi=on kvm.asi=force asi_stun=ipi" \
		kvm-asi-stun-lockdep-ipi
	guest_suite qemu vmm 300 "asi=on kvm.asi=optin"
	guest_suite qemu asi-state 300 asi=on
	guest_suite qemu asi-fault-inject 600 asi=on

	# The scanner must catch a WARNING that the guest itself survives.
	"$ASI_HARNESS/qemu-run.sh" -t 300 -l "$ASI_LOGS/qemu-lkdtm-warning.log" lkdtm-warning
	r=$?
	if [ $r -eq 125 ] && grep -q 'asi-result: 0' "$ASI_LOGS/qemu-lkdtm-warning.log"; then
		add pass harness/provoked-warning-fails-the-run
	else
		add fail "harness/provoked-warning-fails-the-run (exit $r)"
	fi

	# ASI's own debug warning: a sensitive access inside a critical
	# section must be counted by the guest and caught by the scanner.
	log=$ASI_LOGS/qemu-asi-critical-warning.log
	"$ASI_HARNESS/qemu-run.sh" -t 300 -l "$log" -a asi=on asi-critical-warning
	r=$?
	if [ $r -eq 125 ] && grep -q 'asi-result: 0' "$log" &&
	   grep -q 'asi-test: asi-critical-warning/counted: pass' "$log" &&
	   grep -q 'WARNING: .* mm/asi/fault.c' "$log"; then
		add pass asi/critical-section-fault-warns
	else
		add fail "asi/critical-section-fault-warns (exit $r)"
	fi
else
	add fail build/userspace
fi

# How many exits KVM-ASI handles without leaving, asserted where it can
# be: on VMX (Bochs), and on the kernel without lockdep, whose state no
# restricted space maps (with lockdep every entry is unprotected).
# The 4-vCPU stress once more, with the restricted exit handlers at
# work: both SMT threads of both cores, and each vCPU must handle 95%
# of its in-kernel exits without leaving (98.5% measured; the rest
# leave for host ticks, frequent at Bochs's default 25 million
# instructions a second).  Bochs's time follows its instructions, not
# the host's clock, so it runs beside the static checks, once the QEMU
# suites, whose TCG timing matters, are done.
iso_pid=
if [ -n "$bench_ok" ]; then
	iso_args="asi=on kvm.asi=force indirect_target_selection=off"
	ASI_BZIMAGE=$bench ASI_BOCHS_CPUS=1:2:2 guest_suite bochs kvm-asi-isolation 1500 \
		"$iso_args asi_restricted_min=95" bench-2x2 >"$ASI_LOGS/bochs-2x2.out" 2>&1 &
	iso_pid=$!
fi

"$ASI_HARNESS/check.sh"
cat "$ASI_LOGS/check.results" >>"$all"
# The sibling-stun protocol's model, exhaustively (about 5 minutes).
"$ASI_HARNESS/model/check-stun.sh" "$all"

if [ -n "$bochs_pid" ]; then
	wait "$bochs_pid"
	cat "$ASI_LOGS/bochs-part.out"
fi
if [ -n "$bench_ok" ]; then
	export ASI_BZIMAGE=$bench
	# An emulated CPU of hardware speed (10^9 instructions a second), so
	# that host timer ticks land in as few exits as on hardware.
	bench_args="asi=on kvm.asi=force kvm_intel.pml=0 indirect_target_selection=off"
	bench_args="$bench_args asi_exits_min=99.5 asi_restricted_min=99.5"
	ASI_BOCHS_IPS=1000000000 guest_suite bochs kvm-asi-exits 600 "$bench_args" bench
fi
if [ -n "$iso_pid" ]; then
	wait "$iso_pid"
	cat "$ASI_LOGS/bochs-2x2.out"
fi
summary
