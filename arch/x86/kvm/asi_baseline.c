// SPDX-License-Identifier: GPL-2.0
/*
 * The baseline KVM-ASI is measured against (x86_64/asi_exit_perf_test,
 * make bench): what a host without ASI does to keep its secrets out of a
 * guest's reach through the CPU's buffers while SMT stays on. Before every
 * VM entry it flushes the L1D; after every VM exit it sends an IPI to the
 * vCPU's SMT siblings and waits until each has taken it, which forces a
 * sibling that runs a guest out of it.
 *
 * kvm.asi_flush_kick (writable at run time, in kernels built with
 * CONFIG_ADDRESS_SPACE_ISOLATION_DEBUG only) selects it for the VMs created
 * while it is set: such a VM gets no ASI instance (KVM_CAP_X86_ASI then
 * fails with ENXIO), except with kvm.asi=force, which ignores it.
 *
 * A cost model for benchmarks, not a mitigation, and written down as such:
 * - a kicked sibling goes back to its guest at once; nothing keeps it out
 *   while this CPU handles the exit (holding it is the stun backend's job,
 *   and the race of seed 002 is in doing that);
 * - the kick is sent once interrupts are on again after the exit, when
 *   the exit's interrupt has already been handled, not at the exit;
 * - exits handled in the fastpath, which re-enter with interrupts off
 *   throughout, are flushed before the re-entry but not kicked.
 * The per-VM statistics asi_baseline_flushes and asi_baseline_kicks count
 * what it did, so a benchmark reports its cost per exit as events as well
 * as in time.
 */

#define pr_fmt(fmt) "kvm-asi: " fmt

#include <linux/cpufeature.h>
#include <linux/kvm_host.h>
#include <linux/moduleparam.h>
#include <linux/smp.h>
#include <linux/topology.h>
#include <asm/msr.h>

#include "asi.h"

static bool kvm_asi_flush_kick;
module_param_named(asi_flush_kick, kvm_asi_flush_kick, bool, 0644);
MODULE_PARM_DESC(asi_flush_kick, "Benchmarks only: VMs created while set run without ASI, flush the L1D before every entry and kick the SMT siblings after every exit");

/*
 * The software flush, for CPUs without the flush MSR (the emulators
 * these tests run on): as VMX's, read 64 KiB, more than any L1D holds.
 * Allocated by the first VM that needs it, kept until KVM goes.
 */
#define KVM_ASI_L1D_ORDER	4
#define KVM_ASI_L1D_BYTES	(PAGE_SIZE << KVM_ASI_L1D_ORDER)

static DEFINE_MUTEX(kvm_asi_l1d_lock);
static u8 *kvm_asi_l1d_buf;

/**
 * kvm_asi_baseline_prepare() - does a new VM run the baseline?
 *
 * Called before the VM's structures are allocated.
 *
 * Return: 1 if it does (and its flush can run), 0 if not, -ENOMEM if the
 * software flush's buffer could not be allocated.
 */
int kvm_asi_baseline_prepare(void)
{
	struct page *page;
	int r = 1;

	if (!READ_ONCE(kvm_asi_flush_kick))
		return 0;
	pr_info_once("flush-and-kick baseline VM: L1D flush by %s\n",
		     boot_cpu_has(X86_FEATURE_FLUSH_L1D) ? "MSR" : "software");
	if (boot_cpu_has(X86_FEATURE_FLUSH_L1D))
		return 1;
	mutex_lock(&kvm_asi_l1d_lock);
	if (!kvm_asi_l1d_buf) {
		page = alloc_pages(GFP_KERNEL, KVM_ASI_L1D_ORDER);
		if (page)
			kvm_asi_l1d_buf = page_address(page);
		else
			r = -ENOMEM;
	}
	mutex_unlock(&kvm_asi_l1d_lock);
	return r;
}

/* From kvm_asi_exit(): no VM is left. */
void kvm_asi_baseline_free(void)
{
	if (kvm_asi_l1d_buf)
		free_pages((unsigned long)kvm_asi_l1d_buf, KVM_ASI_L1D_ORDER);
	kvm_asi_l1d_buf = NULL;
}

/**
 * kvm_asi_baseline_flush() - flush the L1D before a baseline VM's entry
 * @vcpu: the vCPU about to enter
 *
 * From kvm_asi_vm_entry(), interrupts off, maybe with RCU not watching.
 * It adds to what the vendor flushes by its own policy, as a host that
 * chose to flush always would.
 */
noinstr void kvm_asi_baseline_flush(struct kvm_vcpu *vcpu)
{
	const u8 *buf = kvm_asi_l1d_buf;
	unsigned long i;

	vcpu->stat.asi_baseline_flushes++;
	if (static_cpu_has(X86_FEATURE_FLUSH_L1D)) {
		native_wrmsrl(MSR_IA32_FLUSH_CMD, L1D_FLUSH);
		return;
	}
	/* Fill the TLB first, so that the second pass only loads lines. */
	for (i = 0; i < KVM_ASI_L1D_BYTES; i += PAGE_SIZE)
		(void)READ_ONCE(buf[i]);
	for (i = 0; i < KVM_ASI_L1D_BYTES; i += L1_CACHE_BYTES)
		(void)READ_ONCE(buf[i]);
}

static void kvm_asi_baseline_kicked(void *info)
{
}

/**
 * __kvm_asi_baseline_exit() - kick the SMT siblings after a VM exit
 * @vcpu: the vCPU that exited
 *
 * From vcpu_enter_guest(), interrupts on, preemption off. Waits until
 * every online sibling has run the (empty) function, that is, has left
 * guest mode if it was in it.
 */
void __kvm_asi_baseline_exit(struct kvm_vcpu *vcpu)
{
	const struct cpumask *siblings;

	siblings = topology_sibling_cpumask(smp_processor_id());
	if (cpumask_weight(siblings) < 2)
		return;
	smp_call_function_many(siblings, kvm_asi_baseline_kicked, NULL, true);
	vcpu->stat.asi_baseline_kicks++;
}
