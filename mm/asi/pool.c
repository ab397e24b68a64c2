// SPDX-License-Identifier: GPL-2.0
/*
 * Freed nonsensitive pages, kept mapped for the next allocation of their
 * kind.
 *
 * A page that becomes nonsensitive is zeroed and mapped, and one that
 * stops being nonsensitive is unmapped and flushed from every TLB: about
 * four times the cost of a plain page (see "Performance" in asi.rst). A freed
 * order-0 page that is still mapped can serve the next allocation of
 * exactly its kind with none of that: a global page the next global
 * allocation, a page local to an instance the next local allocation for
 * the same instance. Nothing becomes visible to an address space that did
 * not see it already, so the page needs no zeroing either (the allocator
 * still zeroes it for __GFP_ZERO and init_on_alloc).
 *
 * The pages wait in a small per-CPU cache, like the page allocator's own
 * per-CPU lists: ASI_POOL_PCPU pages per CPU, of any kind, each tagged
 * with the generation of its owner (0 for global), oldest first. A free
 * that finds the cache full gives the oldest page to the deferred free of
 * nonsensitive.c, which a block of higher order always takes. The cache is
 * used with interrupts off and without a lock; whoever empties another
 * CPU's cache does it on that CPU, by IPI: the shrinker under memory
 * pressure, asi_flush_frees() on request, and asi_put() for the pages of
 * an instance that dies (only on the CPUs that hold any). The cache of a
 * CPU that goes offline is emptied once it is dead.
 *
 * The pages are prepared like any free page (free_pages_prepare() has run)
 * and are handed out through prep_new_page(), so debugging, KASAN, page
 * owner and memcg see an ordinary free and allocation.
 *
 * A page held here is as immovable as an allocated one, and
 * alloc_contig_range() does not call shrinkers: a page of a CMA pageblock,
 * or of one being isolated, is never kept. A kept page is reused only when
 * its zone and node suit the allocation.
 */

#define pr_fmt(fmt) "asi: " fmt

#include <linux/asi.h>
#include <linux/cpuhotplug.h>
#include <linux/init.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/nodemask.h>
#include <linux/page-isolation.h>
#include <linux/percpu.h>
#include <linux/shrinker.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <linux/xarray.h>

#include "../internal.h"
#include "internal.h"

struct asi_pool_cpu {
	unsigned int nr;
	struct {
		struct page *page;
		u64 owner;	/* generation of its instance; 0: global */
	} slot[ASI_POOL_PCPU];
};

static DEFINE_PER_CPU(struct asi_pool_cpu, asi_pool_cpu);

/* Take slot @i out of @pc, keeping the others oldest first. */
static struct page *asi_pool_take(struct asi_pool_cpu *pc, unsigned int i)
{
	struct page *page = pc->slot[i].page;

	pc->nr--;
	memmove(&pc->slot[i], &pc->slot[i + 1], sizeof(pc->slot[0]) * (pc->nr - i));
	return page;
}

/* Evict @pc's pages of owner *@owner, or all with NULL. */
static void asi_pool_evict_cpu(struct asi_pool_cpu *pc, const u64 *owner)
{
	unsigned int i = 0, evicted = 0;

	while (i < pc->nr) {
		if (owner && pc->slot[i].owner != *owner) {
			i++;
			continue;
		}
		asi_free_later(asi_pool_take(pc, i), 0);
		evicted++;
	}
	atomic_long_sub(evicted, &asi_ns_stats.pooled);
}

/* By IPI, on the CPU whose cache it is. */
static void asi_pool_evict(void *owner)
{
	asi_pool_evict_cpu(this_cpu_ptr(&asi_pool_cpu), owner);
}

/* After a CPU went offline, on another: nothing runs on it any more. */
static int asi_pool_cpu_dead(unsigned int cpu)
{
	asi_pool_evict_cpu(per_cpu_ptr(&asi_pool_cpu, cpu), NULL);
	return 0;
}

/*
 * Does @cpu's cache hold a page of owner *@info? Read without the cache's
 * owner keeping still: a page it gains meanwhile is one freed after its
 * instance died, see asi_pool_free().
 */
static bool asi_pool_cpu_holds(int cpu, void *info)
{
	struct asi_pool_cpu *pc = per_cpu_ptr(&asi_pool_cpu, cpu);
	unsigned int i, nr;

	/* Racy: at worst a page of the dead owner stays, as above. */
	nr = min(data_race(pc->nr), ASI_POOL_PCPU);
	for (i = 0; i < nr; i++) {
		/* Racy the same way. */
		if (data_race(pc->slot[i].owner) == *(u64 *)info)
			return true;
	}
	return false;
}

/*
 * @asi dies: evict its pages, interrupting only the CPUs whose cache
 * holds any. One of its local pages freed later is still kept, under a
 * generation that no allocation asks for again, and mapped in no
 * instance (its tables are gone); a full cache evicts it.
 */
void asi_pool_free(struct asi *asi)
{
	on_each_cpu_cond(asi_pool_cpu_holds, asi_pool_evict, &asi->generation, true);
}

/**
 * asi_pool_release_all() - give every kept page to the deferred free
 *
 * Context: process context, interrupts on.
 */
void asi_pool_release_all(void)
{
	on_each_cpu(asi_pool_evict, NULL, 1);
}

/*
 * From __asi_free_pages(): keep a nonsensitive order-0 page mapped, for
 * @owner (an instance's generation, 0 for global)? A full cache makes
 * room by giving its oldest page to the deferred free. Return: true when
 * @page was kept.
 */
bool asi_pool_keep(struct page *page, u64 owner)
{
	int mt = get_pageblock_migratetype(page);
	struct asi_pool_cpu *pc;
	unsigned long flags;

	if (is_migrate_cma(mt) || is_migrate_isolate(mt))
		return false;

	local_irq_save(flags);
	pc = this_cpu_ptr(&asi_pool_cpu);
	if (pc->nr == ASI_POOL_PCPU)
		asi_free_later(asi_pool_take(pc, 0), 0);
	else
		atomic_long_inc(&asi_ns_stats.pooled);
	pc->slot[pc->nr].page = page;
	pc->slot[pc->nr].owner = owner;
	pc->nr++;
	local_irq_restore(flags);
	return true;
}

/* Can an allocation with @gfp and @ac take @page? */
static bool asi_pool_page_fits(struct page *page, gfp_t gfp,
			       const struct alloc_context *ac)
{
	int nid = page_to_nid(page);

	if (page_zonenum(page) > ac->highest_zoneidx)
		return false;
	if (ac->nodemask && !node_isset(nid, *ac->nodemask))
		return false;
	return !(gfp & __GFP_THISNODE) || nid == zonelist_node_idx(ac->preferred_zoneref);
}

/**
 * asi_reuse_page() - a kept page for a nonsensitive allocation
 * @order: the allocation's order; only 0 is served
 * @gfp: its flags, one of the nonsensitive ones among them
 * @ac: its constraints
 *
 * Called by the page allocator before it looks at its free lists. Only
 * this CPU's cache is searched, newest page first.
 *
 * Return: a page, mapped as @gfp asks and prepared like a free one, for
 * the caller to pass to prep_new_page(); or NULL.
 */
struct page *asi_reuse_page(unsigned int order, gfp_t gfp,
			    const struct alloc_context *ac)
{
	struct asi_pool_cpu *pc;
	struct page *page = NULL;
	unsigned long flags;
	u64 owner = 0;
	int i;

	if (order || !asi_enabled())
		return NULL;
	if (gfp & __GFP_LOCAL_NONSENSITIVE) {
		struct asi *asi = asi_local_current();

		/* A bad request fails later, in asi_alloc_pages(). */
		if ((gfp & __GFP_GLOBAL_NONSENSITIVE) || !asi || asi == asi_idle_asi)
			return NULL;
		owner = asi->generation;
	}

	local_irq_save(flags);
	pc = this_cpu_ptr(&asi_pool_cpu);
	for (i = pc->nr - 1; i >= 0; i--) {
		if (pc->slot[i].owner == owner &&
		    asi_pool_page_fits(pc->slot[i].page, gfp, ac)) {
			page = asi_pool_take(pc, i);
			break;
		}
	}
	local_irq_restore(flags);
	if (page) {
		atomic_long_dec(&asi_ns_stats.pooled);
		atomic_long_inc(&asi_ns_stats.reused);
	}
	return page;
}

static unsigned long asi_pool_count(struct shrinker *shrinker,
				    struct shrink_control *sc)
{
	long pooled = atomic_long_read(&asi_ns_stats.pooled);

	return pooled > 0 ? pooled : SHRINK_EMPTY;
}

/* All or nothing: the caches are small, and emptied on their own CPUs. */
static unsigned long asi_pool_scan(struct shrinker *shrinker,
				   struct shrink_control *sc)
{
	long pooled = atomic_long_read(&asi_ns_stats.pooled);

	if (pooled <= 0)
		return SHRINK_STOP;
	asi_pool_release_all();
	return pooled;
}

static int __init asi_pool_shrinker_init(void)
{
	struct shrinker *shrinker;
	int err;

	if (!asi_enabled())
		return 0;
	err = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN, "mm/asi:pool", NULL,
					asi_pool_cpu_dead);
	if (err < 0)
		return err;
	shrinker = shrinker_alloc(0, "asi-pool");
	if (!shrinker) {
		/* The caches stay bounded; only memory pressure cannot empty them. */
		pr_warn("no shrinker for the kept pages\n");
		return -ENOMEM;
	}
	shrinker->count_objects = asi_pool_count;
	shrinker->scan_objects = asi_pool_scan;
	shrinker_register(shrinker);
	return 0;
}
late_initcall(asi_pool_shrinker_init);
