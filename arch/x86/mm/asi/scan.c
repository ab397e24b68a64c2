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

struct asi_scan_walk {
	struct asi_walk walk;
	struct asi_scan *s;
};

static void asi_scan_leaf(struct asi_walk *w, unsigned long va,
			  unsigned long *ep, unsigned long t, unsigned int level)
{
	struct asi_scan *s = container_of(w, struct asi_scan_walk, walk)->s;
	unsigned long e = READ_ONCE(*ep);
	unsigned long size = PAGE_SIZE << (9 * (level - 1));
	unsigned long pfn = (e & PTE_PFN_MASK & ~(size - 1)) >> PAGE_SHIFT;
	unsigned long off;

	if (e == t)
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

/**
 * asi_arch_scan() - search every page an instance maps
 * @asi: the instance, kept alive by the caller
 * @s: the patterns, and where the counts go
 *
 * Context: process context, may sleep.
 */
void asi_arch_scan(struct asi *asi, struct asi_scan *s)
{
	struct asi_scan_walk w = { .walk.leaf = asi_scan_leaf, .s = s };

	asi_arch_walk(asi, &w.walk);
}
