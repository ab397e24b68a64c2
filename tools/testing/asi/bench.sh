#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench: the cost of an ASI round trip (asi_enter() + asi_exit())
# against a bare CR3 reload, and the throughput of allocating and freeing
# nonsensitive memory (pages, kmalloc(64), vmalloc of 4 pages; global and
# local) against plain allocation, as ratios measured in
# one boot, twice:
#   - under "-icount shift=0,align=off", where the guest TSC counts
#     instructions (a CR3 write counts as one: a round trip has two, a
#     reload one);
#   - without icount, where it is emulated time (a ratio only).
# Then KVM-ASI's exit throughput (x86_64/asi_exit_perf_test): CPUID, RDMSR
# and port I/O loops in a VM without ASI, in one with it, and in the
# flush-and-kick baseline (kvm.asi_flush_kick), in QEMU (SVM, -icount,
# 2 cores x 2 threads) and in Bochs (VMX, one core with 2 threads, so that
# the baseline has a sibling to kick).  Then the sibling stun's cost: in
# Bochs, where most exits are handled restricted, the loops run beside a
# second vCPU of the same VM spinning on the SMT sibling (asi_bench=sibling),
# booted with asi_stun=none, ipi and coresched: each boot's VM with ASI
# against the none boot's, and the stuns and stun IPIs per 1000 exits.
# Bochs emulates 10^9 instructions a second there, so that host timer
# ticks (each an ASI exit, and a stun) land in as few exits as on
# hardware.
# The kernel is the test kernel's configuration without lockdep
# (build-kernel.sh bench), built here if needed; the sibling stun's boots
# use the same without ASI's debug option (build-kernel.sh prod), as a
# distribution builds it: no invariant checker at every entry and exit,
# and no baseline.
# A benchmark, not a test: it prints figures and fails only if it could
# not run.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
"$ASI_HARNESS/build-kernel.sh" bench || asi_die "cannot build the benchmark kernel"
"$ASI_HARNESS/build-kernel.sh" prod || asi_die "cannot build the production kernel"
export ASI_BZIMAGE=$ASI_KOUT_BENCH/arch/x86/boot/bzImage
asi_need_images

run() {	# run NAME QEMU_ARGS
	local log=$ASI_LOGS/bench-$1.log
	ASI_QEMU_ARGS=$2 "$ASI_HARNESS/qemu-run.sh" -t 600 -l "$log" -a asi=on asi-bench \
		>/dev/null || asi_die "the $1 benchmark run failed, see $log"
	tr -d '\r' <"$log" | sed -n 's/^asi-bench: //p' >"$ASI_LOGS/bench-$1.txt"
}

run instructions "-icount shift=0,align=off"
run time ""
printf '%-34s %14s %14s\n' "" instructions "time (TSC)"
# Every key the benchmarks printed, in their order.
for k in $(awk '{ print $1 }' "$ASI_LOGS/bench-instructions.txt"); do
	printf '%-34s %14s %14s\n' "$k" \
		"$(awk -v k="$k" '$1 == k { print $2 }' "$ASI_LOGS/bench-instructions.txt")" \
		"$(awk -v k="$k" '$1 == k { print $2 }' "$ASI_LOGS/bench-time.txt")"
done

# KVM-ASI: the same exit loops without ASI, with it, and in the baseline.
# Under QEMU (SVM, -icount: time counts instructions) every exit leaves
# the restricted space (no NRIPS); under Bochs (VMX, time advances with
# instructions) most are handled restricted.
export ASI_QEMU_ARGS="-icount shift=0,align=off"
kvm_log=$ASI_LOGS/bench-kvm-qemu.log
"$ASI_HARNESS/qemu-run.sh" -t 900 -l "$kvm_log" -a "asi=on kvm.asi=optin asi_stun=coresched" \
	kvm-asi-bench \
	>/dev/null || asi_die "the KVM benchmark failed in QEMU, see $kvm_log"
unset ASI_QEMU_ARGS
echo
echo "KVM exits, QEMU (SVM, -icount, 2 cores x 2 threads):"
tr -d '\r' <"$kvm_log" | sed -n 's/^asi-perf: //p'
kvm_log=$ASI_LOGS/bench-kvm-bochs.log
"$ASI_HARNESS/bochs-run.sh" -t 900 -c 1:1:2 -l "$kvm_log" \
	-a "asi=on kvm.asi=optin indirect_target_selection=off" kvm-asi-bench \
	>/dev/null || asi_die "the KVM benchmark failed in Bochs, see $kvm_log"
echo
echo "KVM exits, Bochs (VMX, 1 core x 2 threads):"
tr -d '\r' <"$kvm_log" | sed -n 's/^asi-perf: //p'

# The stun's cost, beside a sibling vCPU in its guest, without the debug
# option's checker.
for b in none ipi coresched; do
	log=$ASI_LOGS/bench-kvm-bochs-stun-$b.log
	ASI_BZIMAGE=$ASI_KOUT_PROD/arch/x86/boot/bzImage ASI_BOCHS_IPS=1000000000 \
		"$ASI_HARNESS/bochs-run.sh" -t 1800 -c 1:1:2 -l "$log" \
		-a "asi=on kvm.asi=optin asi_stun=$b asi_bench=sibling indirect_target_selection=off" \
		kvm-asi-bench >/dev/null || asi_die "the KVM benchmark failed in Bochs, see $log"
	# asi-rate: LOOP OFF ON STUNS IPIS (exits/s; per 1000 exits of ON)
	tr -d '\r' <"$log" | sed -n 's/^asi-rate: //p' | sort >"$ASI_LOGS/bench-stun-$b.rate"
done
echo
echo "The sibling stun, Bochs (VMX, 1 core x 2 threads, each VM's second vCPU"
echo "spinning on the sibling, a kernel without ASI's debug option): exits/s of"
echo "the VM with ASI against those with asi_stun=none (the VM without ASI as a"
echo "control), stuns and IPIs per 1000 exits"
echo "(ipi and cs: asi_stun=ipi and coresched; ctl: the VM without ASI, same ratio)"
printf '%-15s %8s %8s %8s %8s %9s %8s %9s %8s\n' loop "ipi" "cs" "ctl ipi" \
	"ctl cs" "stuns ipi" "IPIs ipi" "stuns cs" "IPIs cs"
join "$ASI_LOGS/bench-stun-none.rate" "$ASI_LOGS/bench-stun-ipi.rate" |
	join - "$ASI_LOGS/bench-stun-coresched.rate" |
	awk 'BEGIN { split("cpuid,rdmsr apicbase,pio to user", n, ",") }
	     { printf "%-15s %8.3f %8.3f %8.3f %8.3f %9s %8s %9s %8s\n", n[$1 + 1],
		       $7 / $3, $11 / $3, $6 / $2, $10 / $2, $8, $9, $12, $13 }'
