// SPDX-License-Identifier: GPL-2.0
/*
 * The secret scanner's walk (mm/asi/scan.c): every page an instance's
 * restricted page table maps, read through the direct map of its frame,
 * so that what is searched is the memory itself, whatever the virtual
 * address. Entries the instance shares with the template count as shared
 * bytes, those in its private tables as local ones.
 */

#include <linux/asi.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/uaccess.h>

#include "../../../../mm/asi/internal.h"
#include "asi.h"

static void asi_scan_leaf(struct asi_scan *s, unsigned long va, unsigned long e,
			  unsigned long size, bool shared)
{
	unsigned long pfn = (e & PTE_PFN_MASK & ~(size - 1)) >> PAGE_SHIFT;
	unsigned long off;

	if (shared)
		s->shared_bytes += size;
	else
		s->local_bytes += size;
	for (off = 0; off < size; off += PAGE_SIZE, pfn++) {
		/* A frame without a struct page (none today) is not RAM. */
		if (!pfn_valid(pfn) ||
		    copy_from_kernel_nofault(s->buf + ASI_SCAN_TAIL,
					     pfn_to_kaddr(pfn), PAGE_SIZE))
			s->unreadable++;
		else
			asi_scan_page(s, va + off);
	}
}

/* Walk @itab, a table of @level; @ttab is the template's, or NULL. */
static void asi_scan_table(struct asi_scan *s, unsigned long *itab,
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
		if (level == asi_top_level() && i >= PTRS_PER_PGD / 2)
			va |= ~0UL << (shift + 9);
		if (level == 1 || (e & _PAGE_PSE))
			asi_scan_leaf(s, va, e, 1UL << shift, e == t);
		else
			asi_scan_table(s, asi_table_of(e), asi_table_of(t),
				       level - 1, va);
		cond_resched();
	}
}

/**
 * asi_arch_scan() - search every page an instance maps
 * @asi: the instance, kept alive by the caller
 * @s: the patterns, and where the counts go
 *
 * Context: process context, may sleep. Tables the instance shares with
 * the template are never freed, its private ones only with it.
 */
void asi_arch_scan(struct asi *asi, struct asi_scan *s)
{
	asi_scan_table(s, (unsigned long *)asi->arch.pgd,
		       (unsigned long *)asi_global_template(), asi_top_level(), 0);
}
