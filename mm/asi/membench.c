// SPDX-License-Identifier: GPL-2.0
/*
 * A benchmark, not a test: allocation + free throughput of nonsensitive
 * memory, global and local, against plain allocation, in the same run:
 * order-0 pages, kmalloc(64) and vmalloc of 4 pages.
 *
 *   echo 20000 > /sys/kernel/debug/asi/membench
 *   cat /sys/kernel/debug/asi/membench
 *
 * Each variant allocates and frees one object N times in a loop (vmalloc
 * N / 10 times), except page_burst64, which allocates 64 pages and then
 * frees them, N / 64 times: more than a CPU keeps mapped for reuse, so
 * most of its pages are zeroed, mapped, unmapped and flushed; the
 * nonsensitive loops also wait for the deferred frees
 * to be flushed and really freed (asi_flush_frees()), so their cost is in
 * their figure. The TSC counts instructions under QEMU's -icount (see
 * arch/x86/mm/asi/bench.c) and emulated time without it; the ratio plain
 * / nonsensitive is the throughput of nonsensitive memory relative to
 * plain. The cost of zeroing one page, which every nonsensitive page
 * allocation pays, is timed on its own too. Local allocations go to an
 * instance of a class of the benchmark's own, in its scope.
 */

#include <linux/asi.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/init.h>
#include <linux/slab.h>
#include <linux/timex.h>
#include <linux/vmalloc.h>

#include "internal.h"

enum asi_membench_what { MB_PAGE, MB_PAGE_BURST, MB_KMALLOC, MB_VMALLOC, MB_WHATS };
static const char *const asi_membench_names[MB_WHATS] = {
	"page", "page_burst64", "kmalloc64", "vmalloc4",
};

/* More pages than a CPU keeps mapped for reuse (mm/asi/pool.c). */
#define ASI_MEMBENCH_BURST	64

static const struct asi_class_ops asi_membench_ops;
static struct asi *asi_membench_asi;

/* Cycles for @n allocations and frees of one @what with @gfp. */
static u64 asi_membench_loop(enum asi_membench_what what, unsigned long n, gfp_t gfp)
{
	struct asi_local_scope scope = asi_local_begin(asi_membench_asi);
	u64 t0 = get_cycles();
	unsigned long i;
	void *p;

	if (what == MB_PAGE_BURST) {
		static unsigned long burst[ASI_MEMBENCH_BURST];
		unsigned long j;

		for (i = 0; i < n; i += ASI_MEMBENCH_BURST) {
			for (j = 0; j < ASI_MEMBENCH_BURST; j++) {
				burst[j] = __get_free_page(gfp);
				if (!burst[j])
					break;
			}
			while (j--)
				free_page(burst[j]);
			if (!burst[0])
				break;
		}
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (what == MB_PAGE)
			p = (void *)__get_free_page(gfp);
		else if (what == MB_KMALLOC)
			p = kmalloc(64, gfp);
		else
			p = __vmalloc(4 * PAGE_SIZE, gfp);
		if (!p)
			break;
		if (what == MB_PAGE)
			free_page((unsigned long)p);
		else if (what == MB_KMALLOC)
			kfree(p);
		else
			vfree(p);
	}
out:
	asi_flush_frees();
	t0 = get_cycles() - t0;
	asi_local_end(scope);
	return i == n ? t0 : 0;
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

static int asi_membench_instance(void)
{
	struct asi_class *class;

	if (asi_membench_asi)
		return 0;
	class = asi_register_class("membench", &asi_membench_ops, ASI_CLASS_LOCAL_KMALLOC);
	if (IS_ERR(class))
		return PTR_ERR(class);
	asi_membench_asi = asi_create(class, NULL);
	if (IS_ERR(asi_membench_asi)) {
		int err = PTR_ERR(asi_membench_asi);

		asi_membench_asi = NULL;
		asi_unregister_class(class);
		return err;
	}
	return 0;
}

static int asi_membench_run(unsigned long n, char *buf, size_t size)
{
	long flushes = atomic_long_read(&asi_ns_stats.flushes);
	enum asi_membench_what what;
	size_t len = 0;
	u64 clear;
	int err;

	err = asi_membench_instance();
	if (err)
		return err;

	len += scnprintf(buf + len, size - len, "mem_iterations %lu\n", n);
	for (what = 0; what < MB_WHATS; what++) {
		unsigned long iters = what == MB_VMALLOC ? max(n / 10, 1UL) : n;

		if (what == MB_PAGE_BURST)
			iters = roundup(n, ASI_MEMBENCH_BURST);
		u64 plain, global, local;

		plain = asi_membench_loop(what, iters, GFP_KERNEL);
		global = asi_membench_loop(what, iters, GFP_KERNEL | __GFP_GLOBAL_NONSENSITIVE);
		local = asi_membench_loop(what, iters, GFP_KERNEL | __GFP_LOCAL_NONSENSITIVE);
		if (!plain || !global || !local)
			return -ENOMEM;
		len += scnprintf(buf + len, size - len,
				 "%s_plain_per_op %llu\n%s_global_per_op %llu\n%s_local_per_op %llu\n"
				 "%s_global_throughput_x100 %llu\n%s_local_throughput_x100 %llu\n",
				 asi_membench_names[what], plain / iters,
				 asi_membench_names[what], global / iters,
				 asi_membench_names[what], local / iters,
				 asi_membench_names[what], plain * 100 / global,
				 asi_membench_names[what], plain * 100 / local);
	}
	clear = asi_membench_clear(n);
	if (!clear)
		return -ENOMEM;
	scnprintf(buf + len, size - len, "flushes %ld\npage_clear_per_op %llu\n",
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
