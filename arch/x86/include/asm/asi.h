/* SPDX-License-Identifier: GPL-2.0 */
/*
 * x86 side of Address Space Isolation: what the generic core in mm/asi
 * needs from the architecture, and the CR3/PCID arithmetic.
 */
#ifndef _ASM_X86_ASI_H
#define _ASM_X86_ASI_H

#include <linux/cpufeature.h>
#include <linux/types.h>
#include <asm/current.h>
#include <asm/processor-flags.h>
#include <asm/pgtable_types.h>
#include <asm/ptrace.h>

#ifdef CONFIG_MITIGATION_ADDRESS_SPACE_ISOLATION

struct asi;

/*
 * Did the boot choose ASI? X86_FEATURE_ASI is set early in setup_arch()
 * (asi_check_boottime_disable()), so this is an alternative patched by
 * alternative_instructions() while only the boot CPU runs: no int3 is
 * ever planted in it, which the entry hooks rely on (see asi_intr_enter()).
 */
static __always_inline bool asi_arch_boot_enabled(void)
{
	return cpu_feature_enabled(X86_FEATURE_ASI);
}

/*
 * Per instance: the restricted page table, and the tables of its own
 * below it, made for its local nonsensitive memory (arch/x86/mm/asi/
 * pgtable.c).
 */
struct asi_arch {
	pgd_t *pgd;
	unsigned long pgd_pa;
	struct list_head private_node;	/* on asi_private_list once it has some */
	u64 tlb_gen;			/* owner tag of its PCIDs, see switch.c */
	long private_tables;		/* page-table pages of its own */
	long local_pages;		/* pages mapped local to it */
};

/*
 * Per CPU, kept in the page of per-CPU data that every restricted address
 * space maps, because the entry code reads it before it can switch CR3.
 * @full_cr3: the CR3 value to go back to, read when the CPU entered.
 * @restricted_cr3: the CR3 value of the instance being entered or left.
 */
struct asi_arch_cpu {
	unsigned long full_cr3;
	unsigned long restricted_cr3;
	/* Where the sibling stun's IPI goes (arch/x86/mm/asi/stun.c). */
	u32 apicid;
};

/*
 * PCIDs. The kernel uses PCID 0 for "no PCID" and kern_pcid(asid) =
 * asid + 1 for its TLB_NR_DYN_ASIDS dynamic ASIDs; PTI takes bit 11 for
 * the user half. ASI never runs with PTI (see Documentation/mm/asi.rst),
 * so it can use bit 11 too, and gives class N the PCIDs
 * kern_pcid(asid) | (N + 1) << 7: bits 7-11 hold the class, bits 0-6 the
 * ASID, so every (class, ASID) pair has a PCID of its own that no kernel
 * PCID uses.
 */
#define ASI_PCID_CLASS_SHIFT	7
#define ASI_PCID_CLASS_BITS	5

/**
 * asi_pcid() - the PCID of a class for one of the kernel's dynamic ASIDs
 * @class_id: the class index, 0 to ASI_MAX_CLASSES - 1
 * @asid: the dynamic ASID, 0 to TLB_NR_DYN_ASIDS - 1
 *
 * Return: the 12-bit PCID.
 */
static __always_inline u16 asi_pcid(unsigned int class_id, u16 asid)
{
	return (asid + 1) | ((class_id + 1) << ASI_PCID_CLASS_SHIFT);
}

/**
 * asi_build_cr3() - a CR3 value for a restricted page table
 * @pgd_pa: physical address of the page table
 * @pcid: the PCID, or 0 when the CPU has no PCID
 * @noflush: keep the TLB entries tagged with @pcid
 *
 * Return: the value to write to CR3.
 */
static __always_inline unsigned long asi_build_cr3(unsigned long pgd_pa,
						   u16 pcid, bool noflush)
{
	unsigned long cr3 = pgd_pa | pcid;

	if (pcid && noflush)
		cr3 |= X86_CR3_PCID_NOFLUSH;
	return cr3;
}

/* Only the page-table address, without PCID or the no-flush bit. */
static __always_inline bool asi_cr3_same_table(unsigned long a, unsigned long b)
{
	return ((a ^ b) & CR3_ADDR_MASK) == 0;
}

static __always_inline unsigned long asi_read_cr3(void)
{
	unsigned long val;

	asm volatile("mov %%cr3, %0" : "=r" (val) : : "memory");
	return val;
}

static __always_inline void asi_write_cr3(unsigned long val)
{
	asm volatile("mov %0, %%cr3" : : "r" (val) : "memory");
}

/*
 * The current task, read in program order: get_current() is a const
 * per-CPU read that the compiler may move above asi_write_cr3(), to where
 * the CPU is still restricted and the read faults.
 */
static __always_inline struct task_struct *asi_arch_current(void)
{
	return this_cpu_read(pcpu_hot.current_task);
}

/*
 * Where a task_struct's secrets begin: the task's saved FPU registers,
 * its user data, at the end of thread.fpu. A macro, for mm/asi/task.c,
 * which includes what it needs.
 */
#define ASI_ARCH_TASK_SECRETS \
	offsetof(struct task_struct, thread.fpu.__fpstate.regs)

void asi_invalidate_asid(u16 asid);

extern bool asi_boot_enabled;
bool asi_boot_requested(void);
void asi_check_boottime_disable(void);

/*
 * An entry from user mode pushes the user's registers on this CPU's
 * entry stack (or an IST stack) and sync_regs() copies them to the task
 * stack. Every restricted address space maps every CPU's entry area, so
 * the copy left behind is cleared: it would show one task's registers to
 * a guest running on any CPU.
 */
static __always_inline void asi_scrub_entry_regs(struct pt_regs *eregs)
{
	unsigned long *p = (unsigned long *)eregs;
	unsigned int i;

	if (!asi_arch_boot_enabled())
		return;
	/* Stores the compiler may not turn into a call to memset(). */
	for (i = 0; i < sizeof(*eregs) / sizeof(*p); i++)
		WRITE_ONCE(p[i], 0);
}

#else /* !CONFIG_MITIGATION_ADDRESS_SPACE_ISOLATION */

#define asi_boot_enabled false
static inline void asi_invalidate_asid(u16 asid) { }
static inline void asi_check_boottime_disable(void) { }
static __always_inline void asi_scrub_entry_regs(struct pt_regs *eregs) { }

#endif /* CONFIG_MITIGATION_ADDRESS_SPACE_ISOLATION */

#endif /* _ASM_X86_ASI_H */
