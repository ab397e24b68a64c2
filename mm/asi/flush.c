// SPDX-License-Identifier: GPL-2.0
/*
 * Address Space Isolation: flushing what an unmap took out of restricted
 * address spaces from the TLBs.
 *
 * A page every instance maps (through the template) may be cached by any
 * CPU: its unmap flushes every TLB. A page local to one instance can only
 * be cached under that instance's page table, and that changes the cost:
 *
 * - A CPU that is not in the instance holds none of its translations in
 *   a usable form. Without PCID its CR3 write on leaving the instance
 *   flushed them (ASI makes the kernel's mappings non-global); with PCID
 *   they stay tagged with the instance's PCID, but the unmap gave the
 *   instance a new TLB tag (asi_arch tlb_gen), and the next load of that
 *   PCID for the instance flushes it (asi_arch_prepare_enter()).
 * - A CPU that is in the instance may use them until it leaves: it gets
 *   an IPI, and its interrupt entry leaves the instance, and the return
 *   loads it again under the new tag.
 *
 * So a local unmap interrupts only the CPUs running in the instance at
 * the time, and none when the instance's last thread is gone, as when a
 * VM's vCPU thread exits or its instance dies. That an unprivileged
 * /dev/kvm user creating and destroying VMs should not cost the other
 * CPUs anything is the reason for this file.
 *
 * The race with a CPU entering the instance at that moment is the store
 * buffer pattern: the unmap clears the PTEs, sets the new tag, then reads
 * every CPU's @curr; an entry writes @curr, then reads the tag and loads
 * CR3 (__asi_switch_to_restricted()). With a full barrier between the two
 * steps on both sides, either the unmap sees the CPU in the instance and
 * interrupts it, or the entry sees the new tag and flushes.
 */

#include <linux/asi.h>
#include <linux/smp.h>
#include <asm/tlbflush.h>

#include "internal.h"

/**
 * asi_unmapped_add() - record that @asi lost a local page
 * @u: the unmap's record, or NULL when the caller's flush covers it
 * @asi: the instance
 *
 * Called by the architecture's unmap, which has already given @asi a new
 * TLB tag. More instances than @u holds make the flush a global one.
 */
void asi_unmapped_add(struct asi_unmapped *u, struct asi *asi)
{
	unsigned int i;

	if (!u || u->global)
		return;
	for (i = 0; i < u->nr; i++) {
		if (u->asi[i] == asi)
			return;
	}
	if (u->nr == ARRAY_SIZE(u->asi))
		u->global = true;
	else
		u->asi[u->nr++] = asi;
}

/* Is @cpu in one of the instances of @info, a struct asi_unmapped? */
static bool asi_cpu_in_unmapped(int cpu, void *info)
{
	struct asi *curr = READ_ONCE(per_cpu(asi_cpu_page, cpu).cpu.curr);
	const struct asi_unmapped *u = info;
	unsigned int i;

	for (i = 0; curr && i < u->nr; i++) {
		if (u->asi[i] == curr) {
			atomic_long_inc(&asi_ns_stats.local_flush_cpus);
			return true;
		}
	}
	return false;
}

/*
 * Nothing to do here: the interrupt took the CPU out of the instance,
 * and its return enters it again under the new tag (see above).
 */
static void asi_flush_ipi(void *info)
{
}

/**
 * asi_flush_unmapped() - flush what an unmap recorded in @u
 * @u: the record; empty when the unmap took nothing from any CPU's reach
 *
 * On return no CPU can reach the unmapped pages through a restricted
 * address space any more. Counted in the statistics: the flushes, and
 * the CPUs a local one interrupted.
 *
 * Context: process context, interrupts on.
 */
void asi_flush_unmapped(struct asi_unmapped *u)
{
	if (u->global) {
		flush_tlb_all();
		atomic_long_inc(&asi_ns_stats.flushes);
		return;
	}
	if (!u->nr)
		return;
	/* Pairs with the one in __asi_switch_to_restricted(). */
	smp_mb();
	on_each_cpu_cond(asi_cpu_in_unmapped, asi_flush_ipi, u, true);
	atomic_long_inc(&asi_ns_stats.local_flushes);
}
