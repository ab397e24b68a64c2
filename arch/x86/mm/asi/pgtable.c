// SPDX-License-Identifier: GPL-2.0
/*
 * The restricted page tables.
 *
 * One template page table, asi_global_pgd, holds everything every
 * restricted address space maps. Each instance gets a PGD page of its own
 * whose kernel half is a copy of the template's top-level entries, so all
 * instances share the template's lower-level tables: a global mapping
 * added or removed later shows up in every instance at once and nothing
 * ever needs syncing. That only holds if no top-level entry changes once
 * instances exist, so the entries for every range ASI may map are
 * allocated at boot, as x86 does for vmalloc (preallocate_vmalloc_pages()).
 * The user half of every instance is empty: no user memory is mapped.
 *
 * Every restricted mapping points at the same physical page as the full
 * kernel's, with the same or fewer permissions (text and read-only data
 * are made read-only here before mark_rodata_ro() does it in the full
 * table). What is mapped, and why:
 *
 * - kernel text: the restricted code, the entry code and the handlers'
 *   first instructions run from it; it is no secret (distribution
 *   kernels ship it).
 * - kernel read-only data (.rodata, including __ro_after_init): constants
 *   and tables the restricted code reads, and __per_cpu_offset[], which
 *   the NMI entry code reads to find this CPU's data before it reaches
 *   C. Secrets do not belong in read-only data; one that is there is a
 *   bug to fix in its owner.
 * - the CPU entry area, shared with the full kernel at the level below
 *   the PGD exactly as PTI shares it with user space: the IDT and GDT
 *   aliases the CPU reads on every event, the TSS, the IST and entry
 *   stacks, and the debug-store buffers the CPU writes while restricted.
 * - per CPU, two pages: the one holding fixed_percpu_data (the stack
 *   protector canary, read by every C function) and asi_cpu_page, ASI's
 *   own state, which fills its page alone.
 * - static and per-CPU data declared globally nonsensitive
 *   (__asi_global_nonsensitive, DEFINE_PER_CPU_ASI_GLOBAL_NONSENSITIVE),
 *   which the linker gathers on pages of their own, and pages allocated
 *   with __GFP_GLOBAL_NONSENSITIVE: their owners declared them free of
 *   secrets.
 * - the stacks of tasks that enter ASI (asi_task_init()), and of the idle
 *   tasks: the CPU pushes exception frames on them while restricted; and
 *   the head of those tasks' task_struct, up to its first secret
 *   (mm/asi/task.c).
 *
 * - in one instance only, pages allocated with __GFP_LOCAL_NONSENSITIVE
 *   in that instance's scope: their owner declared them free of anything
 *   but that instance's own data.
 * - the vmalloc addresses of areas whose pages are nonsensitive (global
 *   or local, as the pages are): the same pages at a second address.
 * - each CPU's copy of a per-CPU area allocated with either flag (global
 *   or local as asked), which is whole pages of its own (mm/asi/percpu.c).
 *   Nothing else in the vmalloc range but stacks and those copies.
 * - freed order-0 pages of either kind while a per-CPU cache keeps them
 *   for the next allocation of the same kind (mm/asi/pool.c): they hold
 *   what was declared nonsensitive for the same spaces, and are unmapped
 *   and flushed before the page allocator gets them back.
 *
 * Everything else, including the direct map, vmalloc, modules, other
 * per-CPU data, the rest of every task_struct and every other stack, is
 * absent.
 *
 * Local memory needs tables the instance does not share. Mapping a local
 * page gives the instance a private copy of each table on the path to
 * its PTE (asi_private_pte()); the template's PTE of that page holds a
 * non-present marker instead (asi_local_marker()), which is how the free
 * path and the audit know the page is local and to whom. Every later
 * change of the template is copied into the private tables that cover
 * the same address (asi_sync()), so an instance with tables of its own
 * still sees every global change. Private tables live as long as their
 * instance.
 */

#define pr_fmt(fmt) "asi: " fmt

#include <kunit/static_stub.h>
#include <linux/bitfield.h>
#include <linux/asi.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/spinlock.h>
#include <linux/percpu.h>
#include <linux/processor.h>
#include <asm/cpu_entry_area.h>
#include <asm/sections.h>
#include <asm/set_memory.h>
#include <asm/tlbflush.h>

#include "../../../../mm/asi/internal.h"
#include "asi.h"

static pgd_t *asi_global_pgd;
/*
 * Guards the template's tables. A spinlock taken with interrupts off: the
 * page allocator maps nonsensitive pages from any context. Tables are
 * allocated with it dropped (see asi_set_template_pte()) and never freed,
 * so a PTE pointer stays valid once found.
 */
DEFINE_SPINLOCK(asi_pgtable_lock);
/* Page-table pages of the template, for debugfs. */
static atomic_long_t asi_table_pages;
/* Instances with tables of their own; under asi_pgtable_lock. */
static LIST_HEAD(asi_private_list);
/*
 * Allocator pages mapped globally, and locally in all instances, counted
 * where their PTEs are set and cleared, so a partial mapping that failed
 * counts exactly what it mapped. The local count is under the lock.
 */
static atomic_long_t asi_global_pages;
static long asi_local_pages;
/* Tags of PCID owners: unique, like instance generations. */
static atomic64_t asi_tlb_gen;

/*
 * The template PTE of a local page: not present, tagged, with the owner's
 * generation (its low 20 bits: enough for the audit to name the owner) in
 * bits the CPU ignores for a non-present entry. Never bit 8: for a
 * non-present PTE that is _PAGE_PROTNONE, which pte_present() counts as
 * present. Its frame number is 0, so even a CPU that speculates through a
 * non-present PTE (L1TF) reaches only page 0, which x86 reserves and never
 * fills with anything secret.
 */
#define ASI_LOCAL_TAG		BIT_ULL(11)
#define ASI_GEN_LOW_MASK	GENMASK_ULL(7, 1)
#define ASI_GEN_MID_MASK	GENMASK_ULL(10, 9)
#define ASI_GEN_HIGH_MASK	GENMASK_ULL(62, 52)

pte_t asi_local_marker(struct asi *asi)
{
	u64 gen = asi->generation;

	return __pte(ASI_LOCAL_TAG | FIELD_PREP(ASI_GEN_LOW_MASK, gen) |
		     FIELD_PREP(ASI_GEN_MID_MASK, gen >> 7) |
		     FIELD_PREP(ASI_GEN_HIGH_MASK, gen >> 9));
}

static bool asi_pte_local(pte_t pte)
{
	return !pte_present(pte) && (pte_val(pte) & ASI_LOCAL_TAG);
}

/* For the audit: is the template entry @t the marker of @asi's page? */
bool asi_arch_is_local_marker(struct asi *asi, unsigned long t)
{
	return t == pte_val(asi_local_marker(asi));
}

pgd_t *asi_global_template(void)
{
	return asi_global_pgd;
}

/*
 * The tables are walked as arrays of entries, level by level: level 1 is
 * a PTE table, the top level the PGD. Every level above 1 holds table
 * pointers in the same format, and ASI's tables never hold large pages.
 */
unsigned int asi_top_level(void)
{
	return pgtable_l5_enabled() ? 5 : 4;
}

static unsigned int asi_level_index(unsigned long addr, unsigned int level)
{
	return (addr >> (PAGE_SHIFT + 9 * (level - 1))) & (PTRS_PER_PTE - 1);
}

unsigned long *asi_table_of(unsigned long entry)
{
	return entry & _PAGE_PRESENT ? __va(entry & PTE_PFN_MASK) : NULL;
}

/* Walk @itab, a table of @level; @ttab is the template's, or NULL. */
static void asi_walk_table(struct asi_walk *w, unsigned long *itab,
			   unsigned long *ttab, unsigned int level,
			   unsigned long base)
{
	unsigned int shift = PAGE_SHIFT + 9 * (level - 1);
	unsigned int i;

	for (i = 0; i < PTRS_PER_PTE; i++) {
		unsigned long e = READ_ONCE(itab[i]);
		unsigned long t = ttab ? READ_ONCE(ttab[i]) : 0;
		unsigned long va = base + ((unsigned long)i << shift);

		if (!(e & _PAGE_PRESENT))
			continue;
		/* Sign-extend the top level's upper half. */
		if (level == asi_top_level() && i >= PTRS_PER_PGD / 2)
			va |= ~0UL << (shift + 9);
		if (level == 1 || (e & _PAGE_PSE))
			w->leaf(w, va, &itab[i], t, level);
		else
			asi_walk_table(w, asi_table_of(e), asi_table_of(t), level - 1, va);
		cond_resched();
	}
}

/**
 * asi_arch_walk() - call @w->leaf for every present leaf of an instance
 * @asi: the instance, kept alive by the caller
 * @w: the callback, given the address, the entry, the template's entry
 *	at the same place (0 where the template has none) and the level
 *
 * For the audit and the scanner. Tables the instance shares with the
 * template are never freed, its private ones only with it.
 * Context: process context, may sleep.
 */
void asi_arch_walk(struct asi *asi, struct asi_walk *w)
{
	asi_walk_table(w, (unsigned long *)asi->arch.pgd,
		       (unsigned long *)asi_global_pgd, asi_top_level(), 0);
}

static int asi_populate_pgd_entry(unsigned long addr)
{
	pgd_t *pgd = asi_global_pgd + pgd_index(addr);
	p4d_t *p4d;

	if (pgtable_l5_enabled() && pgd_none(*pgd)) {
		unsigned long page = get_zeroed_page(GFP_KERNEL);

		if (!page)
			return -ENOMEM;
		set_pgd(pgd, __pgd(_KERNPG_TABLE | __pa(page)));
	}
	p4d = p4d_offset(pgd, addr);
	if (!pgtable_l5_enabled() && p4d_none(*p4d)) {
		unsigned long page = get_zeroed_page(GFP_KERNEL);

		if (!page)
			return -ENOMEM;
		set_p4d(p4d, __p4d(_KERNPG_TABLE | __pa(page)));
	}
	return 0;
}

static int __init asi_preallocate(unsigned long start, unsigned long end)
{
	unsigned long addr;
	int err;

	for (addr = start & PGDIR_MASK; addr - 1 < end - 1; addr += PGDIR_SIZE) {
		err = asi_populate_pgd_entry(addr);
		if (err)
			return err;
		if (addr + PGDIR_SIZE < addr)
			break;
	}
	return 0;
}

/* A page-table page for the template or an instance's own tables. */
void *asi_alloc_table(gfp_t gfp)
{
	KUNIT_STATIC_STUB_REDIRECT(asi_alloc_table, gfp);
	return (void *)get_zeroed_page(gfp);
}

/* The physical address of the spare page, which the caller gives up. */
static unsigned long asi_take_spare(void **spare)
{
	unsigned long pa = __pa(*spare);

	*spare = NULL;
	atomic_long_inc(&asi_table_pages);
	return pa;
}

/*
 * The template's PTE of @addr, under asi_pgtable_lock. A missing table is
 * made from *@spare; without one, -EAGAIN asks the caller for a spare.
 * The top-level entries (the PGD's, or with 4-level paging the folded
 * P4D's) are all allocated at boot for the ranges ASI maps, because the
 * instances copy them: a missing one is -EFAULT, as is a large mapping.
 */
static pte_t *asi_template_pte(unsigned long addr, void **spare)
{
	pgd_t *pgd = asi_global_pgd + pgd_index(addr);
	p4d_t *p4d;
	pud_t *pud;
	pmd_t *pmd;

	if (pgd_none(*pgd))
		return ERR_PTR(-EFAULT);
	p4d = p4d_offset(pgd, addr);
	if (p4d_none(*p4d)) {
		if (!pgtable_l5_enabled())
			return ERR_PTR(-EFAULT);
		if (!*spare)
			return ERR_PTR(-EAGAIN);
		set_p4d(p4d, __p4d(_KERNPG_TABLE | asi_take_spare(spare)));
	}
	if (p4d_leaf(*p4d))
		return ERR_PTR(-EFAULT);
	pud = pud_offset(p4d, addr);
	if (pud_none(*pud)) {
		if (!*spare)
			return ERR_PTR(-EAGAIN);
		set_pud(pud, __pud(_KERNPG_TABLE | asi_take_spare(spare)));
	}
	if (pud_leaf(*pud))
		return ERR_PTR(-EFAULT);
	pmd = pmd_offset(pud, addr);
	if (pmd_none(*pmd)) {
		if (!*spare)
			return ERR_PTR(-EAGAIN);
		set_pmd(pmd, __pmd(_KERNPG_TABLE | asi_take_spare(spare)));
	}
	if (pmd_leaf(*pmd))
		return ERR_PTR(-EFAULT);
	return pte_offset_kernel(pmd, addr);
}

/*
 * Copy the template's path to @addr into @a's private tables where they
 * differ: a table the template grew where @a has none, or the PTE itself.
 * Where @a still points at the template's table, it sees the change
 * already. @was_local: the template's PTE was a local marker, so the one
 * instance with a present PTE there is the page's owner losing it.
 */
static void asi_sync_instance(struct asi_arch *a, unsigned long addr, bool was_local,
			      struct asi_unmapped *u)
{
	unsigned long *itab = (unsigned long *)a->pgd;
	unsigned long *ttab = (unsigned long *)asi_global_pgd;
	unsigned int level;

	for (level = asi_top_level(); level >= 1; level--) {
		unsigned int i = asi_level_index(addr, level);
		unsigned long e = itab[i], t = ttab[i];

		if (e == t)
			return;
		if (level == 1 || !(e & _PAGE_PRESENT)) {
			if (level == 1 && was_local && (e & _PAGE_PRESENT)) {
				a->local_pages--;	/* its local page went */
				asi_local_pages--;
				WRITE_ONCE(itab[i], t);
				/* Out of every PCID of it (mm/asi/flush.c). */
				WRITE_ONCE(a->tlb_gen, atomic64_inc_return(&asi_tlb_gen));
				asi_unmapped_add(u, container_of(a, struct asi, arch));
				return;
			}
			WRITE_ONCE(itab[i], t);
			return;
		}
		ttab = asi_table_of(t);
		if (!ttab)
			return;
		itab = asi_table_of(e);
	}
}

/*
 * Propagate a change of the template at @addr; under asi_pgtable_lock.
 * The instance that loses a local page by it is recorded in @u.
 */
static void asi_sync(unsigned long addr, bool was_local, struct asi_unmapped *u)
{
	struct asi_arch *a;

	lockdep_assert_held(&asi_pgtable_lock);
	list_for_each_entry(a, &asi_private_list, private_node)
		asi_sync_instance(a, addr, was_local, u);
}

/*
 * @asi's PTE of @addr in tables of its own, under asi_pgtable_lock: each
 * table on the path still shared with the template (or missing in both)
 * is replaced by a private copy made from *@spare; -EAGAIN asks the caller
 * for one.
 */
static pte_t *asi_private_pte(struct asi *asi, unsigned long addr, void **spare)
{
	struct asi_arch *a = &asi->arch;
	unsigned long *itab = (unsigned long *)a->pgd;
	unsigned long *ttab = (unsigned long *)asi_global_pgd;
	unsigned int level;

	for (level = asi_top_level(); level > 1; level--) {
		unsigned int i = asi_level_index(addr, level);
		unsigned long t = ttab ? ttab[i] : 0, e = itab[i];

		if (level == asi_top_level() && !(t & _PAGE_PRESENT))
			return ERR_PTR(-EFAULT);	/* not a range ASI maps */
		if (t & _PAGE_PSE)
			return ERR_PTR(-EFAULT);
		if (e == t || !(e & _PAGE_PRESENT)) {
			if (!*spare)
				return ERR_PTR(-EAGAIN);
			if (ttab && (t & _PAGE_PRESENT))
				copy_page(*spare, asi_table_of(t));
			e = _KERNPG_TABLE | __pa(*spare);
			*spare = NULL;
			a->private_tables++;
			if (list_empty(&a->private_node))
				list_add(&a->private_node, &asi_private_list);
			/* The copy is complete before a walker can reach it. */
			WRITE_ONCE(itab[i], e);
			/*
			 * A CPU may have cached the entry this replaces in a
			 * paging-structure cache under the instance's PCID,
			 * and keep walking the shared table, where the new
			 * page is absent (an ASI fault: safe, but slow). A new
			 * tag makes every CPU flush that PCID at its next entry.
			 */
			WRITE_ONCE(a->tlb_gen, atomic64_inc_return(&asi_tlb_gen));
		}
		itab = asi_table_of(e);
		ttab = asi_table_of(t);
	}
	return (pte_t *)&itab[asi_level_index(addr, 1)];
}

/* Set the template's PTE of @addr, allocating tables with @gfp. */
static int asi_set_template_pte(unsigned long addr, pte_t val, gfp_t gfp)
{
	void *spare = NULL;
	unsigned long flags;
	pte_t *pte;

	for (;;) {
		spin_lock_irqsave(&asi_pgtable_lock, flags);
		pte = asi_template_pte(addr, &spare);
		if (!IS_ERR(pte)) {
			set_pte(pte, val);
			asi_sync(addr, false, NULL);
		}
		spin_unlock_irqrestore(&asi_pgtable_lock, flags);
		if (PTR_ERR_OR_ZERO(pte) != -EAGAIN)
			break;
		spare = asi_alloc_table(gfp);
		if (!spare) {
			pte = ERR_PTR(-ENOMEM);
			break;
		}
	}
	if (spare)
		free_page((unsigned long)spare);
	return PTR_ERR_OR_ZERO(pte);
}

/* The 4K mapping of @addr in the full kernel page table, or an empty PTE. */
static pte_t asi_full_pte(unsigned long addr)
{
	unsigned int level;
	unsigned long pfn;
	pgprot_t prot;
	pte_t *kpte = lookup_address(addr, &level);

	if (!kpte || !pte_present(*kpte))
		return __pte(0);

	switch (level) {
	case PG_LEVEL_4K:
		return *kpte;
	case PG_LEVEL_2M:
		pfn = pmd_pfn(*(pmd_t *)kpte) + ((addr & ~PMD_MASK) >> PAGE_SHIFT);
		prot = pgprot_large_2_4k(pmd_pgprot(*(pmd_t *)kpte));
		break;
	case PG_LEVEL_1G:
		pfn = pud_pfn(*(pud_t *)kpte) + ((addr & ~PUD_MASK) >> PAGE_SHIFT);
		prot = pgprot_large_2_4k(pud_pgprot(*(pud_t *)kpte));
		break;
	default:
		return __pte(0);
	}
	return pfn_pte(pfn, prot);
}

/*
 * Map [start, end) in the template exactly as the full kernel maps it,
 * with the permission bits @clear dropped and @set added (never more
 * rights than the full mapping has), allocating tables with @gfp. Pages
 * the full kernel does not map are an error when @must_exist, skipped
 * otherwise. On an error the pages before the failing one stay mapped.
 */
static int asi_map_range(unsigned long start, unsigned long end,
			 pteval_t clear, pteval_t set, bool must_exist, gfp_t gfp)
{
	unsigned long addr;
	int err;

	for (addr = start & PAGE_MASK; addr < end; addr += PAGE_SIZE) {
		pte_t full = asi_full_pte(addr);

		if (!pte_present(full)) {
			if (!must_exist)
				continue;
			pr_err("cannot map 0x%lx: the kernel does not map it\n", addr);
			return -EFAULT;
		}
		full = pte_set_flags(pte_clear_flags(full, clear), set & __supported_pte_mask);
		err = asi_set_template_pte(addr, full, gfp);
		if (err)
			return err;
	}
	return 0;
}

/* The template's 4K PTE of @addr, without allocating; NULL if absent. */
static pte_t *asi_lookup_pte(pgd_t *pgd_base, unsigned long addr)
{
	unsigned int level;
	pte_t *pte = lookup_address_in_pgd(pgd_base + pgd_index(addr), addr, &level);

	return pte && level == PG_LEVEL_4K ? pte : NULL;
}

/* The template's 4K PTE of @addr, or NULL; under asi_pgtable_lock. */
pte_t *asi_template_lookup(unsigned long addr)
{
	lockdep_assert_held(&asi_pgtable_lock);
	return asi_lookup_pte(asi_global_pgd, addr);
}

int asi_arch_map_global(const void *addr, size_t size)
{
	unsigned long start = (unsigned long)addr;

	return asi_map_range(start, start + size, 0, 0, true, GFP_KERNEL);
}

/* Code (@exec) or read-only data, never writable whatever the full map says. */
int asi_arch_map_global_ro(const void *addr, size_t size, bool exec)
{
	unsigned long start = (unsigned long)addr;

	return asi_map_range(start, start + size, _PAGE_RW, exec ? 0 : _PAGE_NX,
			     true, GFP_KERNEL);
}

/*
 * Called when a task's stack is released, from the scheduler's
 * finish_task_switch() with preemption off: no sleeping lock. Clearing
 * PTEs needs none (the tables stay, and nobody maps the same pages at the
 * same time); the flush, done before the stack can be reused, takes the
 * pages out of every CPU's TLB, restricted PCIDs included.
 */
void asi_arch_unmap_global(const void *addr, size_t size)
{
	unsigned long start = (unsigned long)addr & PAGE_MASK;
	unsigned long end = PAGE_ALIGN((unsigned long)addr + size);
	unsigned long va, flags;

	spin_lock_irqsave(&asi_pgtable_lock, flags);
	for (va = start; va < end; va += PAGE_SIZE) {
		pte_t *pte = asi_lookup_pte(asi_global_pgd, va);

		if (pte) {
			pte_clear(&init_mm, va, pte);
			asi_sync(va, false, NULL);
		}
	}
	spin_unlock_irqrestore(&asi_pgtable_lock, flags);
	flush_tlb_kernel_range(start, end);
}

/*
 * Globally nonsensitive pages from the page allocator are mapped at their
 * direct-map address in the template, so in every instance. The template
 * entry is also the only record that a page is nonsensitive: the page
 * allocator's free path asks asi_arch_page_kind().
 */
int asi_arch_map_pages(struct page *page, unsigned int nr, gfp_t gfp)
{
	unsigned long addr = (unsigned long)page_address(page);
	unsigned int i;
	int err;

	KUNIT_STATIC_STUB_REDIRECT(asi_arch_map_pages, page, nr, gfp);
	for (i = 0; i < nr; i++, addr += PAGE_SIZE) {
		err = asi_map_range(addr, addr + PAGE_SIZE, 0, 0, true, gfp);
		if (err)
			return err;
		atomic_long_inc(&asi_global_pages);
	}
	return 0;
}

/*
 * Local pages are mapped in @asi's private tables, and marked in the
 * template (see the top of this file), allocating tables with @gfp.
 */
static int asi_map_local(struct asi *asi, unsigned long addr, unsigned int nr,
			 gfp_t gfp)
{
	pte_t marker = asi_local_marker(asi);
	void *spare = NULL;
	unsigned long flags;
	unsigned int i;
	int err = 0;

	for (i = 0; i < nr && !err; i++, addr += PAGE_SIZE) {
		pte_t full = asi_full_pte(addr), *tpte, *ipte;

		if (!pte_present(full))
			return -EFAULT;
		for (;;) {
			spin_lock_irqsave(&asi_pgtable_lock, flags);
			tpte = asi_template_pte(addr, &spare);
			/* Every table first: a failure leaves no marker behind. */
			ipte = IS_ERR(tpte) ? tpte : asi_private_pte(asi, addr, &spare);
			if (!IS_ERR(ipte)) {
				/* Every other instance's copy gets the marker... */
				set_pte(tpte, marker);
				asi_sync(addr, false, NULL);
				/* ...and the owner's the page. */
				set_pte(ipte, full);
				asi->arch.local_pages++;
				asi_local_pages++;
			}
			spin_unlock_irqrestore(&asi_pgtable_lock, flags);
			err = PTR_ERR_OR_ZERO(ipte);
			if (err != -EAGAIN)
				break;
			err = 0;
			spare = asi_alloc_table(gfp);
			if (!spare) {
				err = -ENOMEM;
				break;
			}
		}
	}
	if (spare)
		free_page((unsigned long)spare);
	return err;
}

int asi_arch_map_local_pages(struct asi *asi, struct page *page,
			     unsigned int nr, gfp_t gfp)
{
	return asi_map_local(asi, (unsigned long)page_address(page), nr, gfp);
}

/*
 * @nr pages the full kernel maps at @addr (a nonsensitive vmalloc area,
 * or one CPU's copy of a nonsensitive per-CPU area), mapped at that
 * address in the template or in @local's own tables.
 */
int asi_arch_map_area(struct asi *local, const void *addr, unsigned int nr,
		      gfp_t gfp)
{
	unsigned long start = (unsigned long)addr;

	if (local)
		return asi_map_local(local, start, nr, gfp);
	return asi_map_range(start, start + nr * PAGE_SIZE, 0, 0, true, gfp);
}

/*
 * Clear the template entries of @nr pages from @addr, and with them the
 * private copies of local ones; the caller flushes the TLBs, as recorded
 * in @u. Return: how many were mapped globally and, in *@local, locally.
 */
static unsigned int asi_unmap_range(unsigned long addr, unsigned int nr,
				    unsigned int *local, struct asi_unmapped *u)
{
	unsigned int i, cleared = 0;
	unsigned long flags;
	bool was_local;

	*local = 0;
	spin_lock_irqsave(&asi_pgtable_lock, flags);
	for (i = 0; i < nr; i++, addr += PAGE_SIZE) {
		pte_t *pte = asi_lookup_pte(asi_global_pgd, addr);

		if (!pte || pte_none(*pte))
			continue;
		was_local = asi_pte_local(*pte);
		if (pte_present(*pte))
			cleared++;
		else if (was_local)
			(*local)++;
		pte_clear(&init_mm, addr, pte);
		asi_sync(addr, was_local, u);
	}
	spin_unlock_irqrestore(&asi_pgtable_lock, flags);
	if (cleared && u)
		u->global = true;
	return cleared;
}

unsigned int asi_arch_unmap_pages(struct page *page, unsigned int nr,
				  unsigned int *local, struct asi_unmapped *u)
{
	unsigned int cleared = asi_unmap_range((unsigned long)page_address(page),
					       nr, local, u);

	atomic_long_sub(cleared, &asi_global_pages);
	return cleared;
}

/*
 * An area mapped by asi_arch_map_area() being freed: if its first page
 * is mapped, unmap them all. The caller flushes the TLBs before the
 * memory is reused, as recorded in @u (mm/asi/flush.c), or without @u:
 * for vmalloc, the pages' own deferred free, and vmalloc's flush before
 * it reuses the address; for per-CPU memory, mm/asi/percpu.c.
 */
void asi_arch_unmap_area(const void *addr, unsigned int nr, struct asi_unmapped *u)
{
	pte_t *pte = asi_lookup_pte(asi_global_pgd, (unsigned long)addr);
	unsigned int local;

	if (pte && (pte_present(READ_ONCE(*pte)) || asi_pte_local(READ_ONCE(*pte))))
		asi_unmap_range((unsigned long)addr, nr, &local, u);
}

/* Is the first page of a block mapped, globally or locally? */
enum asi_page_kind asi_arch_page_kind(struct page *page)
{
	pte_t *ptep = asi_lookup_pte(asi_global_pgd, (unsigned long)page_address(page));
	pte_t pte;

	if (!ptep)
		return ASI_PAGE_SENSITIVE;
	pte = READ_ONCE(*ptep);
	if (pte_present(pte))
		return ASI_PAGE_GLOBAL;
	return asi_pte_local(pte) ? ASI_PAGE_LOCAL : ASI_PAGE_SENSITIVE;
}

long asi_arch_table_pages(void)
{
	return atomic_long_read(&asi_table_pages);
}

int asi_arch_instance_init(struct asi *asi)
{
	pgd_t *pgd;

	KUNIT_STATIC_STUB_REDIRECT(asi_arch_instance_init, asi);

	pgd = (pgd_t *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!pgd)
		return -ENOMEM;

	/* The top-level entries were all made at boot and never change. */
	clone_pgd_range(pgd + KERNEL_PGD_BOUNDARY,
			asi_global_pgd + KERNEL_PGD_BOUNDARY,
			KERNEL_PGD_PTRS);

	asi->arch.pgd = pgd;
	asi->arch.pgd_pa = __pa(pgd);
	asi->arch.tlb_gen = atomic64_inc_return(&asi_tlb_gen);
	INIT_LIST_HEAD(&asi->arch.private_node);
	return 0;
}

/* Free @itab, a private table of @level, and the private tables below. */
static long asi_free_private(unsigned long *itab, unsigned long *ttab,
			     unsigned int level)
{
	long freed = 1;
	unsigned int i;

	for (i = 0; level > 1 && i < PTRS_PER_PTE; i++) {
		unsigned long e = itab[i], t = ttab ? ttab[i] : 0;

		if ((e & _PAGE_PRESENT) && e != t)
			freed += asi_free_private(asi_table_of(e), asi_table_of(t),
						  level - 1);
	}
	free_page((unsigned long)itab);
	return freed;
}

void asi_arch_instance_free(struct asi *asi)
{
	unsigned long *itab = (unsigned long *)asi->arch.pgd;
	unsigned long *ttab = (unsigned long *)asi_global_pgd;
	unsigned int level = asi_top_level();
	unsigned long flags;
	long freed = 0;
	unsigned int i;

	/* No template change may walk the tables from here on. */
	spin_lock_irqsave(&asi_pgtable_lock, flags);
	list_del_init(&asi->arch.private_node);
	/* Its local pages are mapped nowhere else: they stop counting. */
	asi_local_pages -= asi->arch.local_pages;
	spin_unlock_irqrestore(&asi_pgtable_lock, flags);

	/* The tables the template shares stay; the private ones go. */
	for (i = KERNEL_PGD_BOUNDARY; i < PTRS_PER_PGD; i++) {
		if ((itab[i] & _PAGE_PRESENT) && itab[i] != ttab[i])
			freed += asi_free_private(asi_table_of(itab[i]),
						  asi_table_of(ttab[i]), level - 1);
	}
	WARN_ON_ONCE(freed != asi->arch.private_tables);
	free_page((unsigned long)asi->arch.pgd);
}

long asi_arch_private_tables(struct asi *asi)
{
	return READ_ONCE(asi->arch.private_tables);
}

/* Local pages mapped in @asi, or in all instances when @asi is NULL. */
long asi_arch_local_pages(struct asi *asi)
{
	return asi ? READ_ONCE(asi->arch.local_pages) : READ_ONCE(asi_local_pages);
}

long asi_arch_global_pages(void)
{
	return atomic_long_read(&asi_global_pages);
}

bool asi_arch_mapped_in_full(unsigned long address)
{
	return pte_present(asi_full_pte(address));
}

/* Does every instance map @addr (the template does)? */
bool asi_arch_maps_global(unsigned long addr)
{
	unsigned long flags;
	pte_t *pte;
	bool ret;

	spin_lock_irqsave(&asi_pgtable_lock, flags);
	pte = asi_template_lookup(addr);
	ret = pte && pte_present(*pte);
	spin_unlock_irqrestore(&asi_pgtable_lock, flags);
	return ret;
}

/**
 * asi_arch_maps() - does an instance's page table map an address?
 * @asi: the instance
 * @addr: the address
 *
 * A walk in software, for tests and debugging.
 *
 * Return: true when @addr has a present translation in @asi.
 */
bool asi_arch_maps(struct asi *asi, unsigned long addr)
{
	unsigned int level;
	pte_t *pte = lookup_address_in_pgd(asi->arch.pgd + pgd_index(addr), addr, &level);

	return pte && pte_present(*pte);
}

/* Share the full kernel's entry for the CPU entry area, as PTI does. */
static int __init asi_share_cpu_entry_area(void)
{
	unsigned long addr = CPU_ENTRY_AREA_BASE;
	p4d_t *kernel_p4d = p4d_offset(pgd_offset_k(addr), addr);
	pgd_t *pgd = asi_global_pgd + pgd_index(addr);
	int err;

	if (pgtable_l5_enabled()) {
		err = asi_populate_pgd_entry(addr);
		if (err)
			return err;
	}
	*p4d_offset(pgd, addr) = *kernel_p4d;
	return 0;
}

static int __init asi_map_percpu(void)
{
	char __percpu *asi_percpu_ns = (char __percpu __force *)__per_cpu_asi_start;
	int cpu, err;

	for_each_possible_cpu(cpu) {
		err = asi_map_range((unsigned long)per_cpu_ptr(&fixed_percpu_data, cpu),
				    (unsigned long)per_cpu_ptr(&fixed_percpu_data, cpu) + 1,
				    0, 0, true, GFP_KERNEL);
		if (err)
			return err;
		err = asi_map_range((unsigned long)per_cpu_ptr(&asi_cpu_page, cpu),
				    (unsigned long)per_cpu_ptr(&asi_cpu_page, cpu) +
				    sizeof(union asi_cpu_page), 0, 0, true, GFP_KERNEL);
		if (err)
			return err;
		err = asi_map_range((unsigned long)per_cpu_ptr(asi_percpu_ns, cpu),
				    (unsigned long)per_cpu_ptr(asi_percpu_ns, cpu) +
				    (__per_cpu_asi_end - __per_cpu_asi_start),
				    0, 0, true, GFP_KERNEL);
		if (err)
			return err;
	}
	return 0;
}

int __init asi_arch_build_global_pgd(void)
{
	unsigned long dmap_end = PAGE_OFFSET + (max_pfn << PAGE_SHIFT);
	int err;

	BUILD_BUG_ON(sizeof(union asi_cpu_page) != PAGE_SIZE);

	asi_global_pgd = (pgd_t *)get_zeroed_page(GFP_KERNEL);
	if (!asi_global_pgd)
		return -ENOMEM;

	err = asi_share_cpu_entry_area();
	if (!err)
		err = asi_preallocate(PAGE_OFFSET, dmap_end);
	if (!err)
		err = asi_preallocate(VMALLOC_START, VMALLOC_END);
	if (!err)
		err = asi_preallocate(__START_KERNEL_map, MODULES_END);

	/* Text: read-only and executable, as mark_rodata_ro() will leave it. */
	if (!err)
		err = asi_map_range((unsigned long)_text, (unsigned long)_etext,
				    _PAGE_RW, 0, true, GFP_KERNEL);
	/* Read-only data: read-only and not executable. */
	if (!err)
		err = asi_map_range((unsigned long)__start_rodata,
				    (unsigned long)__end_rodata, _PAGE_RW, _PAGE_NX,
				    true, GFP_KERNEL);
	/* Static data declared globally nonsensitive: not executable. */
	if (!err)
		err = asi_map_range((unsigned long)__start_asi_global_nonsensitive,
				    (unsigned long)__end_asi_global_nonsensitive, 0,
				    _PAGE_NX, true, GFP_KERNEL);
	if (!err)
		err = asi_map_percpu();
	if (err)
		return err;

	/*
	 * Kernel data must not stay in the TLB across a switch to a
	 * restricted CR3: clear the global bit left on the image by the
	 * early page tables (the rest of the kernel is mapped without it,
	 * see asi_check_boottime_disable()).
	 */
	set_memory_nonglobal(PFN_ALIGN(_text),
			     (ALIGN((unsigned long)_end, PMD_SIZE) -
			      PFN_ALIGN(_text)) >> PAGE_SHIFT);
	return 0;
}
