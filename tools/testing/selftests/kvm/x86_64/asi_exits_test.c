// SPDX-License-Identifier: GPL-2.0
/*
 * KVM-ASI: guests that loop on one kind of VM exit each, with the guest-
 * visible results checked and KVM's per-vCPU ASI statistics read around
 * every loop. Runs under whatever kvm.asi mode the boot chose: with
 * optin it enables KVM_CAP_X86_ASI, with off it checks that the ASI
 * statistics stay zero.
 *
 * Exits KVM completes in the kernel (CPUID, in-kernel MSRs, hypercalls,
 * x2APIC registers, nested page faults on memory already backed) may be
 * handled without leaving the VM's address space; the figures are
 * printed, and with -m a share of them is required. Exits to user space
 * (port I/O, MMIO) and HLTs that sleep must leave: each must be counted
 * as a VM exit that left, and no exit may be counted twice.
 *
 * The nested page faults: a memslot with dirty logging, first touched by
 * the guest (each page a fault that must map it), then written again and
 * again; between rounds KVM_GET_DIRTY_LOG write-protects what was written,
 * so each write of a round is a fault on a page that is backed and mapped
 * (KVM's fast page fault path), which the host checks in the dirty log
 * and in guest memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "apic.h"
#include "asi_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"

#define LOOPS		2000
#define IO_LOOPS	200
#define WARMUP		20
#define HC_UNKNOWN	0x7fffffffUL
#define NPF_SLOT	10
#define NPF_GPA		0x10000000UL	/* far above the test's own memory */
#define NPF_PAGES	64
#define NPF_ROUNDS	32
#define HLT_LOOPS	100
#define TIMER_VECTOR	0xec
#define TIMER_NS	1000000		/* 1 ms: long enough for the vCPU to sleep */
#define MMIO_GPA	0x20000000UL	/* no memslot: the VMM completes it */
#define MMIO_LOOPS	100

enum {
	PH_WARMUP = 1, PH_CPUID, PH_RDMSR, PH_HCALL, PH_X2APIC, PH_NPF_TOUCH,
	PH_NPF_WP, PH_HLT, PH_MMIO, PH_IO, PH_DONE
};

static const char *const phase_names[] = {
	[PH_WARMUP] = "warm-up", [PH_CPUID] = "cpuid", [PH_RDMSR] = "rdmsr apicbase",
	[PH_HCALL] = "hypercall", [PH_X2APIC] = "x2apic tpr/lvt/eoi",
	[PH_NPF_TOUCH] = "npf first touch", [PH_NPF_WP] = "npf write-prot",
	[PH_HLT] = "hlt (sleeps)", [PH_MMIO] = "mmio to user",
	[PH_IO] = "pio to user",
};

static void cpuid_loop(uint32_t n, uint32_t b0)
{
	uint32_t a, b, c, d, i;

	for (i = 0; i < n; i++) {
		cpuid(0, &a, &b, &c, &d);
		GUEST_ASSERT_EQ(b, b0);
	}
}

static void rdmsr_loop(uint32_t n, uint64_t base)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		GUEST_ASSERT_EQ(rdmsr(MSR_IA32_APICBASE), base);
}

static void hypercall_loop(uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		GUEST_ASSERT_EQ(kvm_hypercall(HC_UNKNOWN, 0, 0, 0, 0),
				(uint64_t)-KVM_ENOSYS);
}

/*
 * The TPR, the timer's LVT entry (masked) and EOI with nothing in
 * service: all handled by the in-kernel local APIC. Where the CPU
 * virtualizes the x2APIC (APICv), the TPR and EOI may not exit at all.
 */
static void x2apic_loop(uint32_t n)
{
	uint32_t i, lvtt;

	for (i = 0; i < n; i++) {
		x2apic_write_reg(APIC_TASKPRI, i & 0xf0);
		GUEST_ASSERT_EQ(x2apic_read_reg(APIC_TASKPRI), i & 0xf0);
		lvtt = APIC_LVT_MASKED | (0xe0 + (i & 0xf));
		x2apic_write_reg(APIC_LVTT, lvtt);
		GUEST_ASSERT_EQ(x2apic_read_reg(APIC_LVTT), lvtt);
		x2apic_write_reg(APIC_EOI, 0);
	}
}

static uint32_t timer_irqs;

static void guest_timer_handler(struct ex_regs *regs)
{
	WRITE_ONCE(timer_irqs, timer_irqs + 1);
	x2apic_write_reg(APIC_EOI, 0);
}

/*
 * HLT until the APIC timer fires, 1 ms later: KVM puts the vCPU to sleep
 * (it must leave the restricted space for that) and the timer wakes it.
 */
static void hlt_loop(uint32_t n)
{
	uint32_t i;

	x2apic_write_reg(APIC_TDCR, 0xb);	/* divide by 1 */
	for (i = 0; i < n; i++) {
		x2apic_write_reg(APIC_LVTT, APIC_LVT_TIMER_ONESHOT | TIMER_VECTOR);
		x2apic_write_reg(APIC_TMICT, TIMER_NS);
		asm volatile("sti; hlt; cli");
		/*
		 * The round's interrupt came. Not "exactly": under QEMU's
		 * nested SVM, extra ones come now and then (1 to 4 a run,
		 * in 3 of 8 runs with asi=off under load), so not ASI's.
		 */
		GUEST_ASSERT(READ_ONCE(timer_irqs) > i);
	}
	x2apic_write_reg(APIC_LVTT, APIC_LVT_MASKED);
}

static void guest_code(void)
{
	uint32_t a, c, d, b0, i;
	uint64_t base, v;

	x2apic_enable();
	cpuid(0, &a, &b0, &c, &d);
	base = rdmsr(MSR_IA32_APICBASE);

	/*
	 * Warm-up: the first exits of each kind fault on what is touched
	 * once (the guest's pages in the EPT/NPT, the APIC's first enable).
	 */
	cpuid_loop(WARMUP, b0);
	rdmsr_loop(WARMUP, base);
	hypercall_loop(WARMUP);
	x2apic_loop(WARMUP);
	GUEST_SYNC2(PH_WARMUP, 0);

	/* Every round must see what the first saw. */
	cpuid_loop(LOOPS, b0);
	GUEST_SYNC2(PH_CPUID, b0);
	rdmsr_loop(LOOPS, base);
	GUEST_SYNC2(PH_RDMSR, base);
	hypercall_loop(LOOPS);
	GUEST_SYNC2(PH_HCALL, 0);
	x2apic_loop(LOOPS);
	GUEST_SYNC2(PH_X2APIC, 0);

	for (i = 0; i < NPF_PAGES; i++)
		WRITE_ONCE(*(uint64_t *)(NPF_GPA + i * PAGE_SIZE), 0);
	GUEST_SYNC2(PH_NPF_TOUCH, 0);
	for (v = 1; v <= NPF_ROUNDS; v++) {
		for (i = 0; i < NPF_PAGES; i++)
			WRITE_ONCE(*(uint64_t *)(NPF_GPA + i * PAGE_SIZE), v);
		GUEST_SYNC2(PH_NPF_WP, v);
	}

	hlt_loop(HLT_LOOPS);
	GUEST_SYNC2(PH_HLT, READ_ONCE(timer_irqs));

	for (i = 0; i < MMIO_LOOPS; i++)
		WRITE_ONCE(*(uint64_t *)MMIO_GPA, i);
	GUEST_SYNC2(PH_MMIO, 0);

	for (i = 0; i < IO_LOOPS; i++)
		GUEST_SYNC2(PH_IO, i);
	GUEST_SYNC2(PH_DONE, 0);
}

static const char *const stat_names[] = {
	"exits", "asi_exits_restricted", "asi_exits_left", "asi_exits",
	"asi_left_fault", "asi_left_interrupt", "asi_left_explicit",
	"asi_left_other", "asi_flushes", "asi_flushes_skipped",
	"asi_unprotected_entries", "halt_wakeup",
};

#define NR_STATS ARRAY_SIZE(stat_names)

/* Indices into stat_names[]. */
enum {
	S_EXITS, S_RESTRICTED, S_LEFT, S_ASI_EXITS, S_FAULT, S_INTR,
	S_EXPLICIT, S_OTHER, S_FLUSHES, S_SKIPPED, S_UNPROT, S_WAKEUP,
};

/* The per-exit-reason table KVM keeps in debugfs, if mounted. */
static void print_reasons(struct kvm_vm *vm)
{
	char path[96], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%d-%d/vcpu0/asi_exits",
		 getpid(), vm->fd);
	f = fopen(path, "r");
	if (!f)
		return;
	pr_info("%s:\n", path);
	while (fgets(line, sizeof(line), f))
		pr_info("  %s", line);
	fclose(f);
}

/*
 * After a round of guest writes: every page is in the dirty log (which
 * write-protects them again for the next round) and holds the round.
 */
static void check_npf_round(struct kvm_vm *vm, uint64_t round)
{
	unsigned long bitmap[NPF_PAGES / 64] = {};
	unsigned int i;

	kvm_vm_get_dirty_log(vm, NPF_SLOT, bitmap);
	for (i = 0; i < NPF_PAGES; i++) {
		TEST_ASSERT(bitmap[i / 64] & (1UL << (i % 64)),
			    "round %lu: page %u not in the dirty log", round, i);
		TEST_ASSERT_EQ(*(uint64_t *)addr_gpa2hva(vm, NPF_GPA + i * PAGE_SIZE),
			       round);
	}
}

/*
 * A share of a loop's exits, in percent, of those KVM completes in the
 * kernel: all but the loop's GUEST_SYNCs (one, or one per round of the
 * write-protection loop), which are exits to user space and must leave.
 */
static double in_kernel_share(int phase, const uint64_t *d, uint64_t n)
{
	uint64_t syncs = phase == PH_NPF_WP ? NPF_ROUNDS : 1;

	return asi_in_kernel_share(n, d[S_EXITS], syncs);
}

/*
 * Of those, the share that completed without an ASI fault: those that
 * left only for a host interrupt (whose handler runs in the full kernel,
 * after which the exit handler goes on restricted) count; those after an
 * unprotected entry do not. Each sync is one fault (on the I/O bus).
 */
static double fault_free_share(int phase, const uint64_t *d)
{
	return in_kernel_share(phase, d, d[S_EXITS] - d[S_FAULT] - d[S_UNPROT]);
}

/* The loops of exits that KVM completes in the kernel without sleeping. */
static bool in_kernel_loop(int phase)
{
	return phase == PH_CPUID || phase == PH_RDMSR || phase == PH_HCALL ||
	       phase == PH_X2APIC || phase == PH_NPF_WP;
}

int main(int argc, char *argv[])
{
	uint64_t before[NR_STATS], after[NR_STATS], d[NR_STATS];
	double min_share = 0.0, min_restricted = 0.0;
	int opt;
	int mode = kvm_check_cap(KVM_CAP_X86_ASI);
	uint32_t a, b0, c, dx;
	struct asi_vcpu_stats stats;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	bool asi;
	int phase, io_seen = 0;
	uint64_t mmio_seen = 0;
	unsigned int j;

	/*
	 * -m PERCENT: require that share of the CPUID, RDMSR, hypercall,
	 * x2APIC and write-protection fault exits to complete without an
	 * ASI fault (fault_free_share()). For kernels and CPUs where that is
	 * expected: without lockdep, whose state is not mapped, and with
	 * next-RIP save (VMX; SVM with NRIPS); and, for the write-protection
	 * faults to be many, without PML (kvm_intel.pml=0), which logs most
	 * writes without a fault.
	 * -r PERCENT: the same for the share handled without any ASI exit,
	 * host interrupts included: only meaningful where an exit takes about
	 * as long, in host time, as on hardware, so that timer ticks land in
	 * as few (Bochs with ASI_BOCHS_IPS=1000000000).
	 */
	while ((opt = getopt(argc, argv, "m:r:")) != -1) {
		switch (opt) {
		case 'm':
			min_share = atof(optarg);
			break;
		case 'r':
			min_restricted = atof(optarg);
			break;
		default:
			printf("usage: %s [-m min_percent_without_asi_fault]%s\n",
			       argv[0], " [-r min_percent_restricted]");
			exit(KSFT_FAIL);
		}
	}

	/* 0 is "off", not "absent": this kernel always has the statistics. */
	TEST_ASSERT(mode >= 0 && mode <= 2, "KVM_CAP_X86_ASI reports %d", mode);
	vm = vm_create(1);
	if (mode == 1)
		vm_enable_cap(vm, KVM_CAP_X86_ASI, 1);
	asi = mode != 0;
	vcpu = vm_vcpu_add(vm, 0, guest_code);
	vm_install_exception_handler(vm, TIMER_VECTOR, guest_timer_handler);
	virt_map(vm, MMIO_GPA, MMIO_GPA, 1);
	/* Backed by the host before the guest touches it. */
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, NPF_GPA, NPF_SLOT,
				    NPF_PAGES, KVM_MEM_LOG_DIRTY_PAGES);
	virt_map(vm, NPF_GPA, NPF_GPA, NPF_PAGES);
	memset(addr_gpa2hva(vm, NPF_GPA), 0xff, NPF_PAGES * PAGE_SIZE);
	asi_stats_open(&stats, vcpu);
	cpuid(0, &a, &b0, &c, &dx);

	ksft_print_header();
	ksft_set_plan(1);
	pr_info("kvm.asi mode %d; per loop: %d rounds (%d for port I/O)\n",
		mode, LOOPS, IO_LOOPS);
	pr_info("%-18s %7s %10s %6s %9s %6s %6s %6s %6s %7s %7s %6s %8s %8s\n",
		"loop", "exits", "restricted", "left", "asi_exits", "fault",
		"intr", "expl", "other", "flushes", "skipped", "unprot",
		"restr%", "nofault%");
	pr_info("(restr%% and nofault%%: of the exits completed in the kernel, the loop's syncs to user space not counted)\n");

	asi_stats_read(&stats, stat_names, NR_STATS, before);
	for (;;) {
		vcpu_run(vcpu);
		if (vcpu->run->exit_reason == KVM_EXIT_MMIO) {
			struct kvm_run *run = vcpu->run;

			TEST_ASSERT(run->mmio.is_write && run->mmio.len == 8 &&
				    run->mmio.phys_addr == MMIO_GPA,
				    "MMIO %s of %u bytes at %#llx",
				    run->mmio.is_write ? "write" : "read",
				    run->mmio.len, run->mmio.phys_addr);
			TEST_ASSERT_EQ(*(uint64_t *)run->mmio.data, mmio_seen);
			mmio_seen++;
			continue;
		}
		asi_expect_sync(vcpu, &uc);
		phase = uc.args[0];
		if (phase == PH_IO && ++io_seen < IO_LOOPS)
			continue;
		if (phase == PH_NPF_TOUCH || phase == PH_NPF_WP)
			check_npf_round(vm, uc.args[1]);
		/* Each round ends in a sync: the row has NPF_ROUNDS port I/O exits. */
		if (phase == PH_NPF_WP && uc.args[1] < NPF_ROUNDS)
			continue;
		if (phase == PH_DONE)
			break;

		asi_stats_read(&stats, stat_names, NR_STATS, after);
		for (j = 0; j < NR_STATS; j++)
			d[j] = after[j] - before[j];
		memcpy(before, after, sizeof(before));
		pr_info("%-18s %7lu %10lu %6lu %9lu %6lu %6lu %6lu %6lu %7lu %7lu %6lu %7.2f%% %7.2f%%\n",
			phase_names[phase], d[S_EXITS], d[S_RESTRICTED], d[S_LEFT],
			d[S_ASI_EXITS], d[S_FAULT], d[S_INTR], d[S_EXPLICIT],
			d[S_OTHER], d[S_FLUSHES], d[S_SKIPPED], d[S_UNPROT],
			in_kernel_share(phase, d, d[S_RESTRICTED]),
			fault_free_share(phase, d));

		/* What the guest saw is the same whatever the mode. */
		if (phase == PH_CPUID)
			TEST_ASSERT_EQ(uc.args[1], b0);
		if (phase == PH_RDMSR)
			TEST_ASSERT(uc.args[1] & MSR_IA32_APICBASE_ENABLE,
				    "APIC base %#lx", uc.args[1]);
		if (phase == PH_HLT && uc.args[1] != HLT_LOOPS)
			pr_info("%lu timer interrupts for %d HLTs\n", uc.args[1], HLT_LOOPS);

		if (!asi) {
			for (j = S_RESTRICTED; j <= S_UNPROT; j++)
				TEST_ASSERT(!d[j], "ASI off, but %s moved by %lu",
					    stat_names[j], d[j]);
			continue;
		}
		/* Every exit after a protected entry is counted once. */
		TEST_ASSERT(d[S_RESTRICTED] + d[S_LEFT] + d[S_UNPROT] <= d[S_EXITS] + 1,
			    "%s: %lu restricted + %lu left + %lu unprotected > %lu exits",
			    phase_names[phase], d[S_RESTRICTED], d[S_LEFT],
			    d[S_UNPROT], d[S_EXITS]);
		TEST_ASSERT(d[S_LEFT] <= d[S_ASI_EXITS], "fewer ASI exits than exits that left");
		TEST_ASSERT_EQ(d[S_FAULT] + d[S_INTR] + d[S_EXPLICIT] + d[S_OTHER], d[S_LEFT]);
		/* With PML, KVM logs most writes without a fault. */
		if ((min_share > 0 || min_restricted > 0) && phase == PH_NPF_WP &&
		    d[S_EXITS] < NPF_ROUNDS + (NPF_ROUNDS - 1) * NPF_PAGES) {
			pr_info("%s: %lu exits, too few to judge: not checked (PML on?)\n",
				phase_names[phase], d[S_EXITS]);
		} else if (in_kernel_loop(phase)) {
			TEST_ASSERT(fault_free_share(phase, d) >= min_share,
				    "%s: %.2f%% of exits without an ASI fault, want %.2f%%",
				    phase_names[phase], fault_free_share(phase, d), min_share);
			TEST_ASSERT(in_kernel_share(phase, d, d[S_RESTRICTED]) >= min_restricted,
				    "%s: %.2f%% of exits without an ASI exit, want %.2f%%",
				    phase_names[phase], in_kernel_share(phase, d, d[S_RESTRICTED]),
				    min_restricted);
		}
		/* Each exit to user space, and each HLT that slept, must leave. */
		if (phase == PH_MMIO)
			TEST_ASSERT(mmio_seen == MMIO_LOOPS &&
				    d[S_LEFT] + d[S_UNPROT] >= MMIO_LOOPS,
				    "%lu of %lu exits to user space for MMIO left",
				    d[S_LEFT] + d[S_UNPROT], mmio_seen);
		if (phase == PH_HLT)
			TEST_ASSERT(d[S_WAKEUP] && d[S_LEFT] + d[S_UNPROT] >= d[S_WAKEUP],
				    "%lu HLTs slept, %lu exits left",
				    d[S_WAKEUP], d[S_LEFT] + d[S_UNPROT]);
		if (phase == PH_IO)
			TEST_ASSERT(d[S_LEFT] + d[S_UNPROT] >= IO_LOOPS,
				    "%lu of %d exits to user space left",
				    d[S_LEFT] + d[S_UNPROT], IO_LOOPS);
	}

	print_reasons(vm);
	asi_stats_close(&stats);
	kvm_vm_free(vm);
	ksft_test_result_pass("guest results and ASI statistics, mode %d\n", mode);
	ksft_finished();
}
