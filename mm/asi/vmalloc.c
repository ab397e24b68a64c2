// SPDX-License-Identifier: GPL-2.0
/*
 * Nonsensitive vmalloc: __vmalloc() with __GFP_GLOBAL_NONSENSITIVE or
 * __GFP_LOCAL_NONSENSITIVE gets pages that the page allocator already
 * zeroed, recorded and mapped at their direct-map address; here their
 * vmalloc address is mapped too, in the same restricted spaces, and
 * unmapped when vfree() releases the area.
 */

#include <linux/asi.h>
#include <linux/gfp.h>
#include <linux/vmalloc.h>

#include "../internal.h"
#include "internal.h"

/*
 * Called by __vmalloc_area_node() once the area is mapped in the full
 * kernel. Return: 0, or an error after which vmalloc frees the area
 * (through asi_vmalloc_free(), which undoes a partial map).
 */
int asi_vmalloc_map(struct vm_struct *area, gfp_t gfp)
{
	struct asi *local = NULL;

	if (!asi_enabled())
		return 0;
	if (gfp & __GFP_LOCAL_NONSENSITIVE) {
		/* The pages were allocated in this very scope. */
		local = asi_local_current();
		if (!local)
			return -EINVAL;
	}
	return asi_arch_map_area(local, area->addr, area->nr_pages,
				 gfp & GFP_RECLAIM_MASK);
}

/* See asi_vmalloc_free(). */
void __asi_vmalloc_free(struct vm_struct *area)
{
	if (area->nr_pages)
		asi_arch_unmap_area(area->addr, area->nr_pages, NULL);
}
