// SPDX-License-Identifier: GPL-2.0
/*
 * Nonsensitive memory from the page allocator.
 *
 * Everything is sensitive unless its allocator was told otherwise. A page
 * allocated with __GFP_GLOBAL_NONSENSITIVE is zeroed (so no old secret
 * becomes visible) and mapped, at its direct-map address, in every
 * restricted address space. Its mapping is the only bookkeeping: no page
 * flag says a page is nonsensitive, the free path asks the restricted
 * page table (asi_arch_page_kind()).
 *
 * Freeing must not hand the page back while any CPU may still hold its
 * translation in a restricted address space, or it could be reused for
 * secrets that a restricted CPU can still reach. So the free path keeps
 * the page, and a worker unmaps every page freed since it last ran,
 * flushes the TLBs once and only then frees them: every CPU's (every
 * PCID, ASI's included) when a global page is among them, only those of
 * the CPUs in the owning instances when all were local (mm/asi/flush.c).
 * This works from any context, interrupts off included, and one flush
 * serves a whole batch. A free that may sleep drains the
 * list itself once ASI_FREE_PENDING_MAX pages wait.
 *
 * A page allocated with __GFP_LOCAL_NONSENSITIVE is zeroed too, and mapped
 * in one instance only: the one the allocating context names with
 * asi_local_begin() (mm/asi/local.c). It frees the same way.
 *
 * The free path runs last in free_pages_prepare(), so the pages held here
 * are prepared free pages, freed at the end with asi_free_prepared_pages().
 * An order-0 page may instead stay mapped in a per-CPU cache for the next
 * allocation of its kind (mm/asi/pool.c).
 *
 * Every nonsensitive block is also recorded in asi_declared, by its first
 * page's frame number. The page tables are what the CPU sees; the record
 * is what the allocator was asked for. The audit (asi_arch_audit())
 * checks the one against the other.
 */

#define pr_fmt(fmt) "asi: " fmt

#include <linux/asi.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <asm/tlbflush.h>

#include "../internal.h"
#include "internal.h"

struct asi_ns_stats asi_ns_stats;

/* Frame number of a block's first page -> asi_declared_entry(). */
DEFINE_XARRAY_FLAGS(asi_declared, XA_FLAGS_LOCK_IRQ);

/* What asi_declared and asi_percpu_areas record of a block of @size. */
void *asi_declared_entry(unsigned int size, struct asi *local)
{
	return xa_mk_value(size | (local ? ASI_DECLARED_LOCAL |
				   local->generation << ASI_DECLARED_GEN_SHIFT : 0));
}

/*
 * The instance a nonsensitive allocation with @gfp goes to: NULL for
 * global memory, the scope's (asi_local_begin()) for local memory. @ip
 * names the allocator's caller in the warning.
 * Return: 0, or -EINVAL for both flags at once or a local allocation
 * with no instance to go to.
 */
int asi_gfp_owner(gfp_t gfp, struct asi **local, unsigned long ip)
{
	*local = NULL;
	if (!(gfp & __GFP_LOCAL_NONSENSITIVE))
		return 0;
	*local = asi_local_current();
	if ((gfp & __GFP_GLOBAL_NONSENSITIVE) || !*local || *local == asi_idle_asi) {
		pr_warn_ratelimited("local nonsensitive allocation outside a scope, from %pS\n",
				    (void *)ip);
		return -EINVAL;
	}
	return 0;
}

/* Any context, interrupts on or off: hence the irqsave locking. */
static int asi_declare(struct page *page, unsigned int order, struct asi *local,
		       gfp_t gfp)
{
	void *entry = asi_declared_entry(order, local);
	unsigned long flags;
	int err;

	xa_lock_irqsave(&asi_declared, flags);
	err = xa_err(__xa_store(&asi_declared, page_to_pfn(page), entry, gfp));
	xa_unlock_irqrestore(&asi_declared, flags);
	return err;
}

static void asi_undeclare(struct page *page)
{
	unsigned long flags;

	xa_lock_irqsave(&asi_declared, flags);
	__xa_erase(&asi_declared, page_to_pfn(page));
	xa_unlock_irqrestore(&asi_declared, flags);
}

/*
 * Freed pages wait for at most this many others: beyond, a free that may
 * sleep drains the list itself, so a loop that frees without ever letting
 * the worker run cannot hold back an unbounded amount of memory.
 */
#define ASI_FREE_PENDING_MAX	256

static LIST_HEAD(asi_free_list);
static DEFINE_SPINLOCK(asi_free_lock);
static void asi_free_worker(struct work_struct *work);
static DECLARE_WORK(asi_free_work, asi_free_worker);
static void asi_free_drain(void);

/*
 * Called by the page allocator for an allocation with an ASI flag, after
 * it got @page. Return: 0, or an error after which the allocator frees
 * the page again (through asi_free_pages(), which undoes a partial map).
 */
int asi_alloc_pages(struct page *page, unsigned int order, gfp_t gfp)
{
	unsigned int i, nr = 1 << order;
	struct asi *local = NULL;
	int err;

	if (!asi_enabled())
		return 0;	/* no restricted space: sensitive is fine */

	err = asi_gfp_owner(gfp, &local, (unsigned long)__builtin_return_address(0));
	if (err)
		return err;

	/* Unless the allocator just zeroed it (__GFP_ZERO, init_on_alloc). */
	if (!want_init_on_alloc(gfp)) {
		for (i = 0; i < nr; i++)
			clear_highpage(page + i);
	}
	/* Recorded first, so the audit never sees an undeclared mapping. */
	err = asi_declare(page, order, local, gfp & GFP_RECLAIM_MASK);
	if (err)
		return err;
	if (local)
		err = asi_arch_map_local_pages(local, page, nr, gfp & GFP_RECLAIM_MASK);
	else
		err = asi_arch_map_pages(page, nr, gfp & GFP_RECLAIM_MASK);
	if (err) {
		atomic_long_inc(&asi_ns_stats.map_failures);
		/*
		 * The caller frees the block. With its first page mapped, the
		 * free path unmaps what was mapped and drops the record;
		 * without, nothing is mapped and the record goes now.
		 */
		if (!asi_arch_page_kind(page))
			asi_undeclare(page);
		return err;
	}
	return 0;
}

/* See asi_free_pages(): called last by free_pages_prepare(). */
bool __asi_free_pages(struct page *page, unsigned int order)
{
	enum asi_page_kind kind = asi_arch_page_kind(page);
	u64 owner = 0;

	if (kind == ASI_PAGE_SENSITIVE)
		return true;

	if (!order) {
		if (kind == ASI_PAGE_LOCAL) {
			void *entry = xa_load(&asi_declared, page_to_pfn(page));

			if (xa_is_value(entry))
				owner = xa_to_value(entry) >> ASI_DECLARED_GEN_SHIFT;
		}
		if ((kind == ASI_PAGE_GLOBAL || owner) && asi_pool_keep(page, owner))
			return false;
	}
	asi_free_later(page, order);
	return false;
}

/*
 * Queue a prepared free block for asi_free_drain(). Any context, IPIs
 * included.
 */
void asi_free_later(struct page *page, unsigned int order)
{
	unsigned long flags;
	long pending;

	set_page_private(page, order);
	spin_lock_irqsave(&asi_free_lock, flags);
	list_add_tail(&page->lru, &asi_free_list);
	spin_unlock_irqrestore(&asi_free_lock, flags);
	pending = atomic_long_add_return(1 << order, &asi_ns_stats.frees_pending);

	/*
	 * The flush sends IPIs and waits for them: only where sleeping is
	 * allowed, so no lock another CPU spins on with interrupts off can
	 * be held here.
	 */
	if (pending >= ASI_FREE_PENDING_MAX && preemptible())
		asi_free_drain();
	else
		schedule_work(&asi_free_work);
}

/* Unmap, flush and free every page freed so far. */
static void asi_free_drain(void)
{
	struct page *page, *next;
	struct asi_unmapped u = {};
	unsigned long pending = 0;
	unsigned long flags;
	LIST_HEAD(batch);

	spin_lock_irqsave(&asi_free_lock, flags);
	list_splice_init(&asi_free_list, &batch);
	spin_unlock_irqrestore(&asi_free_lock, flags);
	if (list_empty(&batch))
		return;

	list_for_each_entry(page, &batch, lru) {
		unsigned int local, nr = 1 << page_private(page);

		asi_arch_unmap_pages(page, nr, &local, &u);
		asi_undeclare(page);
		pending += nr;
	}
	asi_flush_unmapped(&u);

	list_for_each_entry_safe(page, next, &batch, lru) {
		unsigned int order = page_private(page);

		list_del(&page->lru);
		set_page_private(page, 0);
		asi_free_prepared_pages(page, order);
	}
	atomic_long_sub(pending, &asi_ns_stats.frees_pending);
}

static void asi_free_worker(struct work_struct *work)
{
	asi_free_drain();
}

/**
 * asi_flush_frees() - wait until freed nonsensitive pages are really free
 *
 * Empties the caches of kept pages (mm/asi/pool.c) too. For tests and for
 * callers that must know the memory is back.
 *
 * Context: process context, may sleep.
 */
void asi_flush_frees(void)
{
	asi_pool_release_all();
	asi_wait_frees();
}

/* Wait for the deferred frees queued so far; kept pages stay kept. */
void asi_wait_frees(void)
{
	flush_work(&asi_free_work);
	asi_percpu_wait_frees();
}
