// SPDX-License-Identifier: GPL-2.0
/*
 * Nonsensitive per-CPU memory: alloc_percpu_gfp() with
 * __GFP_GLOBAL_NONSENSITIVE or __GFP_LOCAL_NONSENSITIVE.
 *
 * A restricted space maps whole pages, and a per-CPU chunk packs the
 * allocations of many owners into each page. So the per-CPU allocator
 * gives a nonsensitive allocation whole, page-aligned pages of its own in
 * every CPU's unit (asi_percpu_round()), zeroes them all as it zeroes any
 * allocation, and asi_percpu_map() maps each CPU's copy at the address
 * per_cpu_ptr() gives: in every restricted space, or in the instance
 * that the caller's asi_local_begin() scope names. The price is at least
 * one page per possible CPU per allocation: this is for the few per-CPU
 * objects that restricted code writes, such as a VM's SRCU counters.
 *
 * Each such area is recorded in asi_percpu_areas before it is mapped, and
 * free_percpu() asks that record. As for pages, the area is unmapped at
 * once but handed back to the per-CPU allocator only after the TLBs have
 * been flushed, by a worker: until then a CPU may still hold the
 * translation in a restricted space, and the allocator could give the
 * memory to an owner with secrets. free_percpu() may be called in atomic
 * context, so the flush cannot happen there. The flush is every CPU's
 * when a global area was among those freed, else only that of the CPUs
 * in the instances that lost one (mm/asi/flush.c).
 */

#define pr_fmt(fmt) "asi: " fmt

#include <linux/asi.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "../internal.h"
#include "internal.h"

/* Unmapped, waiting for the TLB flush before its real free. */
#define ASI_PERCPU_FREEING	XA_MARK_0

/* __percpu address >> PAGE_SHIFT -> asi_declared_entry(pages, owner). */
static DEFINE_XARRAY_FLAGS(asi_percpu_areas, XA_FLAGS_LOCK_IRQ);

static void asi_percpu_free_worker(struct work_struct *work);
static DECLARE_WORK(asi_percpu_free_work, asi_percpu_free_worker);

static unsigned long asi_percpu_index(void __percpu *ptr)
{
	return (unsigned long)(void __force *)ptr >> PAGE_SHIFT;
}

static void __percpu *asi_percpu_ptr(unsigned long index)
{
	return (void __percpu __force *)(index << PAGE_SHIFT);
}

/*
 * Where the areas marked ASI_PERCPU_FREEING were mapped, for the worker's
 * flush; under the xarray's lock, like the marks.
 */
static struct asi_unmapped asi_percpu_unmapped;

/* Unmap every CPU's copy of the area at @ptr, recording where in @u. */
static void asi_percpu_unmap(void __percpu *ptr, unsigned int nr,
			     struct asi_unmapped *u)
{
	int cpu;

	for_each_possible_cpu(cpu)
		asi_arch_unmap_area(per_cpu_ptr(ptr, cpu), nr, u);
}

/* See asi_percpu_round(). */
void __asi_percpu_round(size_t *size, size_t *align, gfp_t gfp)
{
	if (!(gfp & __GFP_NONSENSITIVE))
		return;
	*size = PAGE_ALIGN(*size);
	*align = PAGE_SIZE;
}

/**
 * __asi_percpu_map() - map a new nonsensitive per-CPU area
 * @ptr: the area, as pcpu_alloc() returns it
 * @size: its size, a multiple of PAGE_SIZE (asi_percpu_round())
 * @gfp: the allocation's flags, one of them an ASI flag
 *
 * Any context the allocation allows. On an error the caller frees the
 * area with free_percpu(), which unmaps whatever was mapped.
 *
 * Return: 0, or a negative errno.
 */
int __asi_percpu_map(void __percpu *ptr, size_t size, gfp_t gfp)
{
	unsigned int nr = size >> PAGE_SHIFT;
	unsigned long flags;
	struct asi *local;
	int cpu, err;

	if (WARN_ON_ONCE(!PAGE_ALIGNED(size) || !nr ||
			 nr > ASI_DECLARED_ORDER_MASK ||
			 !PAGE_ALIGNED((unsigned long)(void __force *)ptr)))
		return -EINVAL;
	err = asi_gfp_owner(gfp, &local, (unsigned long)__builtin_return_address(0));
	if (err)
		return err;
	gfp &= GFP_RECLAIM_MASK;

	/* Recorded first, so the audit never sees an undeclared mapping. */
	xa_lock_irqsave(&asi_percpu_areas, flags);
	err = xa_err(__xa_store(&asi_percpu_areas, asi_percpu_index(ptr),
				asi_declared_entry(nr, local), gfp));
	xa_unlock_irqrestore(&asi_percpu_areas, flags);
	if (err)
		return err;

	for_each_possible_cpu(cpu) {
		err = asi_arch_map_area(local, per_cpu_ptr(ptr, cpu), nr, gfp);
		if (err) {
			atomic_long_inc(&asi_ns_stats.map_failures);
			return err;
		}
	}
	return 0;
}

/**
 * __asi_percpu_free() - free_percpu() frees an area
 * @ptr: the area
 *
 * Any context. A nonsensitive area is unmapped from every restricted
 * space now and freed for real by a worker, after a TLB flush.
 *
 * Return: true when ASI took the area, false when the caller frees it.
 */
bool __asi_percpu_free(void __percpu *ptr)
{
	unsigned long index = asi_percpu_index(ptr);
	struct asi_unmapped u = {};
	unsigned int nr, i;
	unsigned long flags;
	void *entry;

	if (!PAGE_ALIGNED((unsigned long)(void __force *)ptr))
		return false;
	entry = xa_load(&asi_percpu_areas, index);
	if (!entry)
		return false;
	if (WARN_ON_ONCE(xa_get_mark(&asi_percpu_areas, index, ASI_PERCPU_FREEING)))
		return true;	/* freed twice: the first free goes on */

	nr = xa_to_value(entry) & ASI_DECLARED_ORDER_MASK;
	asi_percpu_unmap(ptr, nr, &u);
	xa_lock_irqsave(&asi_percpu_areas, flags);
	asi_percpu_unmapped.global |= u.global;
	for (i = 0; i < u.nr; i++)
		asi_unmapped_add(&asi_percpu_unmapped, u.asi[i]);
	__xa_set_mark(&asi_percpu_areas, index, ASI_PERCPU_FREEING);
	xa_unlock_irqrestore(&asi_percpu_areas, flags);
	atomic_long_add(nr * num_possible_cpus(), &asi_ns_stats.frees_pending);
	schedule_work(&asi_percpu_free_work);
	return true;
}

#define ASI_PERCPU_FREE_BATCH	16

/* Flush the TLBs, then free the areas unmapped before the flush. */
static void asi_percpu_free_worker(struct work_struct *work)
{
	unsigned long batch[ASI_PERCPU_FREE_BATCH], index;
	struct asi_unmapped u;
	unsigned int i, n;
	void *entry;

	do {
		n = 0;
		xa_for_each_marked(&asi_percpu_areas, index, entry, ASI_PERCPU_FREEING) {
			batch[n++] = index;
			if (n == ARRAY_SIZE(batch))
				break;
		}
		if (!n)
			return;
		/* Recorded with the marks of the batch, or before. */
		xa_lock_irq(&asi_percpu_areas);
		u = asi_percpu_unmapped;
		memset(&asi_percpu_unmapped, 0, sizeof(asi_percpu_unmapped));
		xa_unlock_irq(&asi_percpu_areas);
		asi_flush_unmapped(&u);
		for (i = 0; i < n; i++) {
			void *entry = xa_erase_irq(&asi_percpu_areas, batch[i]);
			unsigned int nr = xa_to_value(entry) & ASI_DECLARED_ORDER_MASK;

			/* Unrecorded, the area goes back to the allocator. */
			free_percpu(asi_percpu_ptr(batch[i]));
			atomic_long_sub(nr * num_possible_cpus(), &asi_ns_stats.frees_pending);
		}
	} while (n == ARRAY_SIZE(batch));
}

/* Wait until the areas freed so far are back in the per-CPU allocator. */
void asi_percpu_wait_frees(void)
{
	flush_work(&asi_percpu_free_work);
}

/*
 * For the audit: is @addr in some CPU's copy of a nonsensitive per-CPU
 * area that is still mapped? If so, *@value is its record.
 */
bool asi_percpu_lookup(unsigned long addr, unsigned long *value)
{
	unsigned long index;
	void *entry;
	int cpu;

	xa_for_each(&asi_percpu_areas, index, entry) {
		unsigned long nr = xa_to_value(entry) & ASI_DECLARED_ORDER_MASK;
		void __percpu *ptr = asi_percpu_ptr(index);

		if (xa_get_mark(&asi_percpu_areas, index, ASI_PERCPU_FREEING))
			continue;
		for_each_possible_cpu(cpu) {
			unsigned long start = (unsigned long)per_cpu_ptr(ptr, cpu);

			if (addr >= start && addr < start + (nr << PAGE_SHIFT)) {
				*value = xa_to_value(entry);
				return true;
			}
		}
	}
	return false;
}
