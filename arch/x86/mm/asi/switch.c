// SPDX-License-Identifier: GPL-2.0
/*
 * CR3 values for restricted address spaces, and their PCIDs.
 *
 * Without PCID every CR3 write flushes the TLB (but for global entries,
 * and ASI makes the kernel non-global), so a restricted CR3 never sees a
 * stale translation. With PCID, each (class, ASID) pair has a PCID of its
 * own (asi_pcid()) and switches keep the TLB with the no-flush bit. A
 * PCID's entries are valid only if no flush hit its ASID since they were
 * loaded and the same instance loaded them, with the same upper-level
 * tables: asi_pcid_valid[] records the first per ASID (a bit per class,
 * cleared by asi_invalidate_asid() from every TLB flush of that ASID in
 * arch/x86/mm/tlb.c), asi_pcid_owner[] the second, as the instance's
 * tlb_gen, a unique tag that changes when a table of its own replaces a
 * shared one (pgtable.c).
 */

#include <linux/asi.h>
#include <linux/percpu.h>
#include <asm/tlbflush.h>

#include "../../../../mm/asi/internal.h"

static DEFINE_PER_CPU(u32, asi_pcid_valid[TLB_NR_DYN_ASIDS]);
static DEFINE_PER_CPU(u64, asi_pcid_owner[TLB_NR_DYN_ASIDS][ASI_MAX_CLASSES]);

static_assert(ASI_MAX_CLASSES < (1 << ASI_PCID_CLASS_BITS));
static_assert(TLB_NR_DYN_ASIDS < (1 << ASI_PCID_CLASS_SHIFT));
static_assert(ASI_MAX_CLASSES <= 32);

/**
 * asi_invalidate_asid() - a TLB flush hit this CPU's ASID @asid
 * @asid: the dynamic ASID
 *
 * Every restricted PCID of @asid must be flushed before its next use.
 */
void asi_invalidate_asid(u16 asid)
{
	if (asi_enabled() && asid < TLB_NR_DYN_ASIDS)
		this_cpu_write(asi_pcid_valid[asid], 0);
}

/*
 * Work out the CR3 value for entering @asi on this CPU and remember it,
 * with the full CR3 to come back to. Runs in the full address space with
 * interrupts off, possibly from the NMI return path: noinstr.
 */
noinstr unsigned long asi_arch_prepare_enter(struct asi *asi)
{
	unsigned long full = asi_read_cr3();
	unsigned int id = asi->class->id;
	unsigned long cr3;

	if (cpu_feature_enabled(X86_FEATURE_PCID)) {
		u16 asid = this_cpu_read(cpu_tlbstate.loaded_mm_asid);
		u32 valid = this_cpu_read(asi_pcid_valid[asid]);
		u64 tlb_gen = READ_ONCE(asi->arch.tlb_gen);
		bool noflush = (valid & BIT(id)) &&
			this_cpu_read(asi_pcid_owner[asid][id]) == tlb_gen;

		this_cpu_write(asi_pcid_valid[asid], valid | BIT(id));
		this_cpu_write(asi_pcid_owner[asid][id], tlb_gen);
		cr3 = asi_build_cr3(asi->arch.pgd_pa, asi_pcid(id, asid), noflush);
		/* The kernel's own PCID stays valid while restricted. */
		full |= X86_CR3_PCID_NOFLUSH;
	} else {
		cr3 = asi_build_cr3(asi->arch.pgd_pa, 0, false);
	}
	this_cpu_write(asi_cpu_page.cpu.arch.full_cr3, full);
	this_cpu_write(asi_cpu_page.cpu.arch.restricted_cr3, cr3);
	return cr3;
}
