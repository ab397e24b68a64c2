// SPDX-License-Identifier: GPL-2.0
/*
 * x86's part of the sibling stun (mm/asi/stun.c): the stun IPI.
 *
 * ASI_STUN_VECTOR is a system vector of its own, and its handler only
 * acknowledges it: it touches the local APIC and nothing else, so it
 * runs in whatever address space the CPU is in and does not leave ASI.
 * What the IPI is for is the VM exit it causes. A CPU in guest mode
 * exits on a physical interrupt (SVM intercepts INTR, VMX has
 * external-interrupt exiting), and one about to enter with interrupts
 * off finds it pending at VMRUN/VMLAUNCH/VMRESUME and exits before the
 * first guest instruction.
 *
 * The local APIC is reached without the kernel's apic callbacks, whose
 * data no restricted space maps: in x2APIC mode through its MSRs, in
 * xAPIC mode through its register page, which every restricted space
 * then maps (registers, no memory: see the scope table in
 * Documentation/mm/asi.rst).
 */

#define pr_fmt(fmt) "asi: " fmt

#include <linux/asi.h>
#include <linux/init.h>
#include <linux/smp.h>
#include <asm/apic.h>
#include <asm/fixmap.h>
#include <asm/idtentry.h>
#include <asm/irq_vectors.h>
#include <asm/msr.h>
#include <asm/nospec-branch.h>

#include "../../../../mm/asi/internal.h"
#include "asi.h"

static bool asi_stun_x2apic __asi_read_mostly;
/* What a CPU that is back from the full space flushes: the CPU's bugs. */
static bool asi_stun_flush_l1d __asi_read_mostly;
static bool asi_stun_clear_buffers __asi_read_mostly;

/* MMIO without the io accessors, which are not always inlined. */
static __always_inline void asi_apic_write(u32 reg, u32 val)
{
	if (asi_stun_x2apic)
		__wrmsr(APIC_BASE_MSR + (reg >> 4), val, 0);
	else
		asm volatile("movl %0, %1" : : "r" (val),
			     "m" (*(u32 *)(APIC_BASE + reg)) : "memory");
}

static __always_inline u32 asi_apic_read(u32 reg)
{
	u32 val;

	if (asi_stun_x2apic)
		return (u32)__rdmsr(APIC_BASE_MSR + (reg >> 4));
	asm volatile("movl %1, %0" : "=r" (val) : "m" (*(u32 *)(APIC_BASE + reg)) : "memory");
	return val;
}

/* xAPIC: the previous IPI must have left the ICR. */
static __always_inline void asi_xapic_wait_icr_idle(void)
{
	int i;

	for (i = 0; i < 1000 && (asi_apic_read(APIC_ICR) & APIC_ICR_BUSY); i++)
		cpu_relax();
}

/**
 * asi_arch_stun_kick() - send the stun IPI to a sibling
 * @sibling: the sibling's ASI state
 *
 * Context: interrupts off, restricted or not, possibly in NMI. An NMI
 * that kicks between the two ICR writes of an xAPIC kick can send the
 * interrupted kick to its own destination: the interrupted stun kicks
 * again while it waits (mm/asi/stun.c).
 */
noinstr void asi_arch_stun_kick(struct asi_arch_cpu *sibling)
{
	u32 dest = READ_ONCE(sibling->apicid);

	if (asi_stun_x2apic) {
		/* x2APIC ICR writes are not serializing. */
		asm volatile("mfence; lfence" : : : "memory");
		__wrmsr(APIC_BASE_MSR + (APIC_ICR >> 4),
			APIC_DEST_PHYSICAL | APIC_DM_FIXED | ASI_STUN_VECTOR, dest);
		return;
	}
	asi_xapic_wait_icr_idle();
	asi_apic_write(APIC_ICR2, SET_XAPIC_DEST_FIELD(dest));
	asi_apic_write(APIC_ICR, APIC_DEST_PHYSICAL | APIC_DM_FIXED | ASI_STUN_VECTOR);
}

/**
 * asi_arch_stun_self() - make this CPU's next VM entry exit at once
 *
 * Sends the stun IPI to this CPU and waits until the local APIC has it
 * pending, so that the entry, with interrupts off until then, exits
 * before any guest instruction.
 */
noinstr void asi_arch_stun_self(void)
{
	u32 irr = APIC_IRR + (ASI_STUN_VECTOR / 32) * 0x10;
	u32 bit = BIT(ASI_STUN_VECTOR % 32);
	int i;

	if (asi_stun_x2apic) {
		__wrmsr(APIC_BASE_MSR + (APIC_SELF_IPI >> 4), ASI_STUN_VECTOR, 0);
	} else {
		asi_xapic_wait_icr_idle();
		asi_apic_write(APIC_ICR, APIC_DEST_SELF | APIC_DM_FIXED | ASI_STUN_VECTOR);
	}
	for (i = 0; i < 100000 && !(asi_apic_read(irr) & bit); i++)
		cpu_relax();
}

/**
 * asi_arch_flush_cpu_buffers() - flush what the full address space left
 *
 * The L1D on CPUs with L1TF (a sibling's guest can read it), the
 * buffers VERW clears on CPUs with MDS-class bugs, as KVM does before a
 * VM entry.
 */
noinstr void asi_arch_flush_cpu_buffers(void)
{
	if (asi_stun_flush_l1d)
		native_wrmsrl(MSR_IA32_FLUSH_CMD, L1D_FLUSH);
	if (asi_stun_clear_buffers)
		x86_clear_cpu_buffers();
}

noinstr u64 asi_arch_stun_clock(void)
{
	return rdtsc();
}

/*
 * The stun IPI: no asi_intr_enter(), no irqentry_enter(). It uses
 * nothing RCU or the tracer would care about, and returns to whatever
 * it interrupted, user mode included, with no work to do: the interrupt
 * itself was the point.
 */
__visible noinstr void sysvec_asi_stun(struct pt_regs *regs)
{
	asi_apic_write(APIC_EOI, APIC_EOI_ACK);
}

void asi_arch_stun_cpu_init(unsigned int cpu)
{
	WRITE_ONCE(per_cpu(asi_cpu_page, cpu).cpu.arch.apicid, cpu_physical_id(cpu));
}

/* Is @va the xAPIC register page that every restricted space maps? */
bool asi_arch_stun_maps(unsigned long va)
{
	return !asi_stun_x2apic && va == APIC_BASE;
}

int __init asi_arch_stun_init(void)
{
	asi_stun_flush_l1d = boot_cpu_has_bug(X86_BUG_L1TF) &&
			     boot_cpu_has(X86_FEATURE_FLUSH_L1D);
	if (boot_cpu_has_bug(X86_BUG_L1TF) && !asi_stun_flush_l1d)
		pr_warn("L1TF without the L1D flush MSR: Idle-ASI does not flush the L1D an SMT sibling's guest shares; update the microcode\n");
	asi_stun_clear_buffers = boot_cpu_has(X86_FEATURE_CLEAR_CPU_BUF) ||
				 boot_cpu_has_bug(X86_BUG_MMIO_STALE_DATA);
	asi_stun_x2apic = x2apic_mode;
	if (asi_stun_x2apic)
		return 0;
	return asi_arch_map_global((void *)APIC_BASE, PAGE_SIZE);
}
