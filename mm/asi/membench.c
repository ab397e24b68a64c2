// SPDX-License-Identifier: GPL-2.0
/*
 * A benchmark, not a test: allocation + free throughput of globally
 * nonsensitive order-0 pages against plain ones, in the same run.
 *
 *   echo 20000 > /sys/kernel/debug/asi/membench
 *   cat /sys/kernel/debug/asi/membench
 *
 * Each variant allocates and frees one page N times in a loop; the
 * nonsensitive loop also waits for the deferred frees to be flushed and
 * really freed (asi_flush_frees()), so their cost is in its figure. The
 * TSC counts instructions under QEMU's -icount (see arch/x86/mm/asi/bench.c)
 * and emulated time without it; the ratio plain / nonsensitive is the
 * throughput of nonsensitive pages relative to plain ones. The cost of
 * zeroing one page, which every nonsensitive allocation pays, is timed
 * on its own too.
 */

#include <linux/asi.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/init.h>
#include <linux/timex.h>

#include "internal.h"

/* Cycles for @n allocations and frees of one page with @gfp. */
static u64 asi_membench_loop(unsigned long n, gfp_t gfp)
{
	unsigned long i;
	u64 t0 = get_cycles();

	for (i = 0; i < n; i++) {
		struct page *page = alloc_page(gfp);

		if (!page)
			return 0;
		__free_page(page);
	}
	asi_flush_frees();
	return get_cycles() - t0;
}

/* Cycles for zeroing one page @n times: part of every nonsensitive one. */
static u64 asi_membench_clear(unsigned long n)
{
	struct page *page = alloc_page(GFP_KERNEL);
	unsigned long i;
	u64 t0;

	if (!page)
		return 0;
	t0 = get_cycles();
	for (i = 0; i < n; i++)
		clear_highpage(page);
	t0 = get_cycles() - t0;
	__free_page(page);
	return t0;
}

static int asi_membench_run(unsigned long n, char *buf, size_t size)
{
	long flushes = atomic_long_read(&asi_ns_stats.flushes);
	u64 plain, global, clear;

	plain = asi_membench_loop(n, GFP_KERNEL);
	global = asi_membench_loop(n, GFP_KERNEL | __GFP_GLOBAL_NONSENSITIVE);
	clear = asi_membench_clear(n);
	if (!plain || !global || !clear)
		return -ENOMEM;

	snprintf(buf, size,
		 "page_iterations %lu\npage_plain_per_op %llu\npage_global_per_op %llu\n"
		 "page_global_throughput_x100 %llu\npage_global_flushes %ld\n"
		 "page_clear_per_op %llu\n",
		 n, plain / n, global / n, plain * 100 / global,
		 atomic_long_read(&asi_ns_stats.flushes) - flushes, clear / n);
	return 0;
}

static int __init asi_membench_init(void)
{
	if (asi_enabled())
		asi_debugfs_bench("membench", asi_membench_run);
	return 0;
}

/* After asi_debugfs_init(), a late_initcall. */
late_initcall_sync(asi_membench_init);
