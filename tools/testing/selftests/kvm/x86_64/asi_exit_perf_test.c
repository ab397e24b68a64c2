// SPDX-License-Identifier: GPL-2.0
/*
 * KVM-ASI exit throughput: a benchmark, not a test. The same guest loops
 * on CPUID, an in-kernel MSR read and port I/O to user space, in a VM
 * without ASI and in one with KVM_CAP_X86_ASI, alternately, twice each,
 * in one run; it prints VM exits per second of each loop in both VMs,
 * their ratio, and ASI exits per 1000 VM exits in the VM with ASI.
 *
 * Time is CLOCK_MONOTONIC of the host kernel KVM runs in. Under the
 * project's emulators that is emulated time: under Bochs it advances
 * with instructions executed, under QEMU with -icount it counts
 * instructions, so the ratios compare instruction counts, not a real
 * CPU's cycles (a real CPU's flushes and CR3 writes cost far more than an
 * emulator's). Needs kvm.asi=optin; fails only if it cannot run.
 *
 * Not measured yet: the baseline the ASI design replaces, a VM that
 * flushes L1D on every entry and kicks its SMT sibling out of guest mode
 * on every exit; KVM has no such mode to measure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "asi_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"

#define BENCH_PORT	0x80

enum { L_CPUID, L_RDMSR, L_PIO, NR_LOOPS };

static const char *const loop_names[NR_LOOPS] = {
	"cpuid", "rdmsr apicbase", "pio to user",
};

static void guest_code(uint64_t n, uint64_t n_pio)
{
	uint32_t a, b, c, d;
	uint64_t i;

	for (;;) {
		GUEST_SYNC(L_CPUID);
		for (i = 0; i < n; i++)
			cpuid(0, &a, &b, &c, &d);
		GUEST_SYNC(L_RDMSR);
		for (i = 0; i < n; i++)
			rdmsr(MSR_IA32_APICBASE);
		GUEST_SYNC(L_PIO);
		for (i = 0; i < n_pio; i++)
			asm volatile("outb %b0, %w1" : : "a"(i), "Nd"(BENCH_PORT));
		GUEST_SYNC(NR_LOOPS);
	}
}

struct sample {
	double seconds;
	uint64_t exits, asi_exits;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One pass of the three loops; the sync exits around each are counted. */
static void run_pass(struct kvm_vcpu *vcpu, struct asi_vcpu_stats *st,
		     struct sample *s)
{
	uint64_t exits = 0, asi_exits = 0;
	struct ucall uc;
	double t = 0;
	int loop = -1;

	for (;;) {
		vcpu_run(vcpu);
		if (vcpu->run->exit_reason == KVM_EXIT_IO &&
		    vcpu->run->io.port == BENCH_PORT)
			continue;
		asi_expect_sync(vcpu, &uc);
		if (loop >= 0) {
			s[loop].seconds += now() - t;
			s[loop].exits += asi_stat(st, "exits") - exits;
			s[loop].asi_exits += asi_stat(st, "asi_exits") - asi_exits;
		}
		loop = uc.args[1];
		if (loop == NR_LOOPS)
			return;
		exits = asi_stat(st, "exits");
		asi_exits = asi_stat(st, "asi_exits");
		t = now();
	}
}

static struct kvm_vcpu *create_vm(bool asi, uint64_t n, uint64_t n_pio,
				  struct kvm_vm **vm)
{
	struct kvm_vcpu *vcpu;

	*vm = vm_create(1);
	if (asi)
		vm_enable_cap(*vm, KVM_CAP_X86_ASI, 1);
	vcpu = vm_vcpu_add(*vm, 0, guest_code);
	vcpu_args_set(vcpu, 2, n, n_pio);
	return vcpu;
}

int main(int argc, char *argv[])
{
	struct sample off[NR_LOOPS] = {}, on[NR_LOOPS] = {}, warm[NR_LOOPS];
	uint64_t n = argc > 1 ? atoi_positive("rounds", argv[1]) : 10000;
	uint64_t n_pio = n / 10 ? n / 10 : 1;
	struct kvm_vcpu *vcpu_off, *vcpu_on;
	struct asi_vcpu_stats st_off, st_on;
	struct kvm_vm *vm_off, *vm_on;
	int pass, l;

	TEST_REQUIRE(kvm_check_cap(KVM_CAP_X86_ASI) == 1);
	vcpu_off = create_vm(false, n, n_pio, &vm_off);
	vcpu_on = create_vm(true, n, n_pio, &vm_on);
	asi_stats_open(&st_off, vcpu_off);
	asi_stats_open(&st_on, vcpu_on);

	/* A first pass of each to warm up, then two of each, alternating. */
	run_pass(vcpu_off, &st_off, warm);
	run_pass(vcpu_on, &st_on, warm);
	for (pass = 0; pass < 2; pass++) {
		run_pass(vcpu_off, &st_off, off);
		run_pass(vcpu_on, &st_on, on);
	}

	printf("asi-perf: %lu rounds (%lu of port I/O) x 2 passes per VM\n", n, n_pio);
	printf("asi-perf: %-15s %12s %12s %8s %18s\n", "loop", "exits/s off",
	       "exits/s on", "on/off", "ASI exits/1000 on");
	for (l = 0; l < NR_LOOPS; l++) {
		double r_off = off[l].exits / off[l].seconds;
		double r_on = on[l].exits / on[l].seconds;

		printf("asi-perf: %-15s %12.0f %12.0f %8.3f %18.1f\n", loop_names[l],
		       r_off, r_on, r_on / r_off,
		       on[l].exits ? 1000.0 * on[l].asi_exits / on[l].exits : 0.0);
	}
	asi_stats_close(&st_off);
	asi_stats_close(&st_on);
	kvm_vm_free(vm_off);
	kvm_vm_free(vm_on);
	return 0;
}
