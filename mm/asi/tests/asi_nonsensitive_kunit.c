// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of nonsensitive memory (pages, kmalloc, slab caches,
 * vmalloc, static and per-CPU data, per-CPU areas; global and local): which restricted spaces see
 * it, checked twice (a walk of each instance's page table, and an access
 * while restricted that must take an ASI fault exactly when the walk finds
 * nothing); that a page becoming nonsensitive is zeroed; that a freed
 * page leaves every instance, on every CPU, before it is freed for real;
 * that a failed mapping fails the allocation and leaves the counters
 * where they were; that the audit is clean and reports a planted
 * violation; and allocation and freeing on all CPUs for 30 s.
 */

#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/asi.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/delay.h>
#include <linux/gfp.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "../internal.h"

/* Static and per-CPU data, declared nonsensitive or not. */
static unsigned long asi_ns_static_word __asi_global_nonsensitive = 1;
static unsigned long asi_ns_static_secret = 2;
static DEFINE_PER_CPU_ASI_GLOBAL_NONSENSITIVE(unsigned long, asi_ns_percpu_word);
static DEFINE_PER_CPU(unsigned long, asi_ns_percpu_secret);

static struct asi_class *ns_class;
static struct asi *ns_a, *ns_b;
static const struct asi_class_ops ns_ops;

/* The kinds of memory, and what each instance may see of them. */
enum asi_ns_kind { NS_SENSITIVE, NS_GLOBAL, NS_LOCAL_A, NS_LOCAL_B, NS_KINDS };
static const char *const asi_ns_kind_names[NS_KINDS] = {
	"sensitive", "global", "local-A", "local-B",
};

/*
 * What is allocated: a page, an order-2 block, kmalloc-64, a cache
 * object, 4 pages of vmalloc, 64 bytes per CPU.
 */
enum asi_ns_what { NS_PAGE, NS_BLOCK, NS_KMALLOC, NS_CACHE, NS_VMALLOC, NS_PERCPU,
		   NS_WHATS };
static const char *const asi_ns_what_names[NS_WHATS] = {
	"page", "order-2 block", "kmalloc(64)", "kmem_cache object", "vmalloc(4 pages)",
	"alloc_percpu(64)",
};

/* 64 bytes per CPU, handled as a plain pointer by the helpers below. */
struct asi_ns_percpu {
	unsigned long word[8];
};

static void *asi_ns_percpu_alloc(gfp_t gfp)
{
	return (void __force *)alloc_percpu_gfp(struct asi_ns_percpu, gfp);
}

static void asi_ns_percpu_free(void *p)
{
	free_percpu((void __percpu __force *)p);
}

static void *asi_ns_percpu_copy(void *p, int cpu)
{
	return per_cpu_ptr((void __percpu __force *)p, cpu);
}

/* One slab cache per kind; the local ones made for A and for B. */
static struct kmem_cache *ns_caches[NS_KINDS];

static int asi_ns_suite_init(struct kunit_suite *suite)
{
	if (!asi_enabled())
		return 0;	/* each case fails on its own */
	ns_class = asi_register_class("nstest", &ns_ops, ASI_CLASS_LOCAL_KMALLOC);
	if (IS_ERR(ns_class))
		return PTR_ERR(ns_class);
	ns_a = asi_create(ns_class, NULL);
	ns_b = asi_create(ns_class, NULL);
	if (IS_ERR(ns_a) || IS_ERR(ns_b)) {
		if (!IS_ERR(ns_a))
			asi_put(ns_a);
		if (!IS_ERR(ns_b))
			asi_put(ns_b);
		asi_unregister_class(ns_class);
		return -ENOMEM;
	}
	ns_caches[NS_SENSITIVE] = kmem_cache_create("asi-ns-sens", 128, 0, 0, NULL);
	ns_caches[NS_GLOBAL] = kmem_cache_create("asi-ns-global", 128, 0,
						 SLAB_GLOBAL_NONSENSITIVE, NULL);
	ns_caches[NS_LOCAL_A] = asi_kmem_cache_create(ns_a, "asi-ns-a", 128, 0, 0, NULL);
	ns_caches[NS_LOCAL_B] = asi_kmem_cache_create(ns_b, "asi-ns-b", 128, 0, 0, NULL);
	return 0;	/* a missing cache fails the cases that need it */
}

static void asi_ns_suite_exit(struct kunit_suite *suite)
{
	if (IS_ERR_OR_NULL(ns_a))
		return;
	kmem_cache_destroy(ns_caches[NS_SENSITIVE]);
	kmem_cache_destroy(ns_caches[NS_GLOBAL]);
	asi_kmem_cache_destroy(ns_caches[NS_LOCAL_A]);
	asi_kmem_cache_destroy(ns_caches[NS_LOCAL_B]);
	asi_put(ns_a);
	asi_put(ns_b);
	asi_unregister_class(ns_class);
}

static int asi_ns_init(struct kunit *test)
{
	if (!asi_enabled() || IS_ERR_OR_NULL(ns_a) || !asi_idle_asi)
		KUNIT_FAIL(test, "ASI is off or the suite's setup failed: boot with asi=on");
	else if (asi_task_init(ns_a))	/* mapped now, so counts do not move */
		KUNIT_FAIL(test, "cannot map the test task's stack");
	else
		asi_flush_frees();	/* every case starts with empty pools */
	return 0;
}

/* Read @addr while restricted in @asi: how many ASI faults did it take? */
static u64 asi_ns_touch(struct asi *asi, const void *addr)
{
	unsigned int id = asi_class_of(asi)->id;
	struct asi_stats before, after;
	unsigned long flags;

	/* The task's stack goes along: it is local to one instance. */
	if (asi_task_init(asi))
		return U64_MAX;
	asi_stats_sum(id, &before);
	local_irq_save(flags);
	asi_enter(asi);
	READ_ONCE(*(const unsigned long *)addr);
	asi_exit();
	local_irq_restore(flags);
	asi_stats_sum(id, &after);
	return after.faults - before.faults;
}

/* Allocate one @what of @kind; local kinds in their instance's scope. */
static void *asi_ns_alloc(enum asi_ns_kind kind, enum asi_ns_what what)
{
	struct asi *owner = kind == NS_LOCAL_A ? ns_a : kind == NS_LOCAL_B ? ns_b : NULL;
	gfp_t gfp = GFP_KERNEL;
	struct asi_local_scope scope;
	struct page *page;
	void *p = NULL;

	if (kind == NS_GLOBAL)
		gfp |= __GFP_GLOBAL_NONSENSITIVE;
	if (owner) {
		gfp |= __GFP_LOCAL_NONSENSITIVE;
		scope = asi_local_begin(owner);
	}
	switch (what) {
	case NS_PAGE:
	case NS_BLOCK:
		page = alloc_pages(gfp, what == NS_BLOCK ? 2 : 0);
		p = page ? page_address(page) : NULL;
		break;
	case NS_KMALLOC:
		p = kmalloc(64, gfp);
		break;
	case NS_CACHE:
		/* The cache alone decides: the caller's flags are ignored. */
		if (ns_caches[kind])
			p = kmem_cache_alloc(ns_caches[kind], GFP_KERNEL);
		break;
	case NS_VMALLOC:
		p = __vmalloc(4 * PAGE_SIZE, gfp);
		break;
	case NS_PERCPU:
		p = asi_ns_percpu_alloc(gfp);
		break;
	default:
		break;
	}
	if (owner)
		asi_local_end(scope);
	return p;
}

static void asi_ns_free(enum asi_ns_kind kind, enum asi_ns_what what, void *p)
{
	if (what == NS_PAGE || what == NS_BLOCK)
		free_pages((unsigned long)p, what == NS_BLOCK ? 2 : 0);
	else if (what == NS_KMALLOC)
		kfree(p);
	else if (what == NS_VMALLOC)
		vfree(p);
	else if (what == NS_PERCPU)
		asi_ns_percpu_free(p);
	else
		kmem_cache_free(ns_caches[kind], p);
}

/* Is @kind visible in space @i (A, B, Idle-ASI)? */
static bool asi_ns_expected(enum asi_ns_kind kind, int i)
{
	switch (kind) {
	case NS_GLOBAL:
		return true;
	case NS_LOCAL_A:
		return i == 0;
	case NS_LOCAL_B:
		return i == 1;
	default:
		return false;
	}
}

/* Check every page of @p (@pages long) in A, B and Idle-ASI. */
static void asi_ns_check(struct kunit *test, void *p, int pages,
			 enum asi_ns_kind kind, enum asi_ns_what what)
{
	static const char *const space_names[] = { "A", "B", "Idle-ASI" };
	struct asi *spaces[] = { ns_a, ns_b, asi_idle_asi };
	int i, j;

	for (i = 0; i < ARRAY_SIZE(spaces); i++) {
		bool want = asi_ns_expected(kind, i);

		for (j = 0; j < pages; j++) {
			unsigned long q = (unsigned long)p + j * PAGE_SIZE;

			KUNIT_EXPECT_EQ_MSG(test, asi_arch_maps(spaces[i], q), want,
					    "%s %s in %s", asi_ns_kind_names[kind],
					    asi_ns_what_names[what], space_names[i]);
			KUNIT_EXPECT_EQ_MSG(test, asi_ns_touch(spaces[i], (void *)q),
					    want ? 0ULL : 1ULL, "%s %s read in %s",
					    asi_ns_kind_names[kind],
					    asi_ns_what_names[what], space_names[i]);
		}
		/* The page after a block stays out. */
		if (pages > 1 && kind != NS_SENSITIVE)
			KUNIT_EXPECT_FALSE(test, asi_arch_maps(spaces[i], (unsigned long)p +
							       pages * PAGE_SIZE));
	}
}

/*
 * The visibility matrix: {sensitive, global, local-A, local-B} x {A, B,
 * Idle-ASI}, for pages, order-2 blocks, kmalloc(64), slab cache objects,
 * vmalloc areas and per-CPU areas (each CPU's copy), each by a page-table
 * walk and by a read while restricted.
 */
static void asi_ns_visibility(struct kunit *test)
{
	enum asi_ns_kind kind;
	enum asi_ns_what what;

	for (what = 0; what < NS_WHATS; what++) {
		for (kind = 0; kind < NS_KINDS; kind++) {
			long global = asi_arch_global_pages();
			long local = asi_arch_local_pages(NULL);
			void *p = asi_ns_alloc(kind, what);
			int i;

			KUNIT_ASSERT_NOT_NULL_MSG(test, p, "%s %s", asi_ns_kind_names[kind],
						  asi_ns_what_names[what]);
			if (what == NS_PERCPU) {
				int cpu;

				for_each_possible_cpu(cpu)
					asi_ns_check(test, asi_ns_percpu_copy(p, cpu), 1,
						     kind, what);
			} else if (what != NS_VMALLOC) {
				asi_ns_check(test, p, what == NS_BLOCK ? 4 : 1, kind, what);
			} else {
				asi_ns_check(test, p, 4, kind, what);
				/* And each page at its direct-map address. */
				for (i = 0; i < 4; i++)
					asi_ns_check(test, page_address(vmalloc_to_page(p +
						     i * PAGE_SIZE)), 1, kind, what);
			}
			asi_ns_free(kind, what, p);
			/* Every page mapped was unmapped, and counted both ways. */
			asi_flush_frees();
			if (what == NS_KMALLOC || what == NS_CACHE)
				continue;	/* the slab may keep its page */
			KUNIT_EXPECT_EQ_MSG(test, asi_arch_global_pages(), global, "%s %s",
					    asi_ns_kind_names[kind], asi_ns_what_names[what]);
			KUNIT_EXPECT_EQ_MSG(test, asi_arch_local_pages(NULL), local, "%s %s",
					    asi_ns_kind_names[kind], asi_ns_what_names[what]);
		}
	}
}

/*
 * Bad requests fail cleanly: local memory outside a scope, both flags at
 * once, and a caller's flag on a sensitive cache (ignored: the object
 * stays unmapped).
 */
static void asi_ns_bad_requests(struct kunit *test)
{
	struct asi_local_scope scope;
	struct page *page;
	void *p;

	page = alloc_page(GFP_KERNEL | __GFP_LOCAL_NONSENSITIVE | __GFP_NOWARN);
	KUNIT_EXPECT_NULL(test, page);
	p = kmalloc(64, GFP_KERNEL | __GFP_LOCAL_NONSENSITIVE | __GFP_NOWARN);
	KUNIT_EXPECT_NULL(test, p);
	kfree(p);

	scope = asi_local_begin(ns_a);
	page = alloc_page(GFP_KERNEL | __GFP_NONSENSITIVE | __GFP_NOWARN);
	asi_local_end(scope);
	KUNIT_EXPECT_NULL(test, page);

	/* The idle instance has no local memory. */
	scope = asi_local_begin(asi_idle_asi);
	page = alloc_page(GFP_KERNEL | __GFP_LOCAL_NONSENSITIVE | __GFP_NOWARN);
	asi_local_end(scope);
	KUNIT_EXPECT_NULL(test, page);

	KUNIT_ASSERT_NOT_NULL(test, ns_caches[NS_SENSITIVE]);
	p = kmem_cache_alloc(ns_caches[NS_SENSITIVE], GFP_KERNEL | __GFP_GLOBAL_NONSENSITIVE);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_FALSE(test, asi_arch_maps(ns_a, (unsigned long)p));
	kmem_cache_free(ns_caches[NS_SENSITIVE], p);
	if (page)
		__free_page(page);
}

/*
 * Static and per-CPU data: what is declared globally nonsensitive is in
 * A, B and Idle-ASI, for every CPU's copy; its neighbours in .data and in
 * the per-CPU area are not.
 */
static void asi_ns_static_and_percpu(struct kunit *test)
{
	struct asi *spaces[] = { ns_a, ns_b, asi_idle_asi };
	int i, cpu;

	for (i = 0; i < ARRAY_SIZE(spaces); i++) {
		KUNIT_EXPECT_TRUE(test, asi_arch_maps(spaces[i],
						      (unsigned long)&asi_ns_static_word));
		KUNIT_EXPECT_EQ(test, asi_ns_touch(spaces[i], &asi_ns_static_word), 0ULL);
		KUNIT_EXPECT_FALSE(test, asi_arch_maps(spaces[i],
						       (unsigned long)&asi_ns_static_secret));
		KUNIT_EXPECT_EQ(test, asi_ns_touch(spaces[i], &asi_ns_static_secret), 1ULL);
		for_each_possible_cpu(cpu) {
			unsigned long *word = per_cpu_ptr(&asi_ns_percpu_word, cpu);
			unsigned long *secret = per_cpu_ptr(&asi_ns_percpu_secret, cpu);

			KUNIT_EXPECT_TRUE_MSG(test, asi_arch_maps(spaces[i], (unsigned long)word),
					      "cpu %d", cpu);
			KUNIT_EXPECT_EQ(test, asi_ns_touch(spaces[i], word), 0ULL);
			KUNIT_EXPECT_FALSE_MSG(test, asi_arch_maps(spaces[i],
								   (unsigned long)secret),
					       "cpu %d", cpu);
			KUNIT_EXPECT_EQ(test, asi_ns_touch(spaces[i], secret), 1ULL);
		}
	}
	/* Each section fills whole pages of its own. */
	KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(__start_asi_global_nonsensitive));
	KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(__end_asi_global_nonsensitive));
	KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(__per_cpu_asi_start));
	KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(__per_cpu_asi_end));
}

/*
 * A page that becomes nonsensitive is zeroed. With interrupts off the
 * page freed is the one this CPU's free list hands out next.
 */
static void asi_ns_zeroed(struct kunit *test)
{
	struct page *old, *new;
	unsigned long flags;
	void *p;

	old = alloc_page(GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, old);
	memset(page_address(old), 0x5a, PAGE_SIZE);

	local_irq_save(flags);
	__free_page(old);
	new = alloc_page(GFP_ATOMIC | __GFP_GLOBAL_NONSENSITIVE);
	local_irq_restore(flags);
	KUNIT_ASSERT_NOT_NULL(test, new);
	p = page_address(new);

	KUNIT_EXPECT_PTR_EQ(test, new, old);
	KUNIT_EXPECT_NULL(test, memchr_inv(p, 0, PAGE_SIZE));
	__free_page(new);
	asi_flush_frees();
}

struct asi_ns_probe {
	struct asi *asi;
	const void *addr;
};

/* Runs in a kworker on one CPU: task context, so it may enter. */
static long asi_ns_probe_on_cpu(void *arg)
{
	struct asi_ns_probe *probe = arg;

	return asi_ns_touch(probe->asi, probe->addr);
}

/*
 * Freed, a nonsensitive page leaves every instance before the allocator
 * gets it back: first read while restricted on every CPU (so every TLB
 * may hold it), then freed, then read again on every CPU, which must
 * fault.
 *
 * What this shows is the unmapping, not the TLB flush: with the drain's
 * flush_tlb_all() removed, the case still passed in Bochs (PCID) and in
 * QEMU (no PCID). Neither emulator kept the restricted translation until
 * the second read, so a missing flush cannot be seen here; it needs
 * hardware that keeps PCID-tagged entries.
 */
static void asi_ns_free_unmaps_everywhere(struct kunit *test)
{
	struct asi_ns_probe probe = { .asi = ns_a };
	long global, flushes;
	struct page *page;
	int cpu;

	global = asi_arch_global_pages();
	flushes = atomic_long_read(&asi_ns_stats.flushes);
	page = alloc_page(GFP_KERNEL | __GFP_GLOBAL_NONSENSITIVE);
	KUNIT_ASSERT_NOT_NULL(test, page);
	probe.addr = page_address(page);
	KUNIT_EXPECT_EQ(test, asi_arch_global_pages() - global, 1);

	for_each_online_cpu(cpu)
		KUNIT_EXPECT_EQ_MSG(test, work_on_cpu(cpu, asi_ns_probe_on_cpu, &probe), 0,
				    "cpu %d", cpu);

	/*
	 * Here, read it restricted once more right before the free and
	 * again right after, with nothing in between that would flush this
	 * CPU's TLB but the free itself.
	 */
	preempt_disable();
	KUNIT_EXPECT_EQ(test, asi_ns_touch(ns_a, probe.addr), 0ULL);
	__free_page(page);
	preempt_enable();
	asi_flush_frees();
	KUNIT_EXPECT_EQ(test, asi_ns_touch(ns_a, probe.addr), 1ULL);
	KUNIT_EXPECT_EQ(test, asi_arch_global_pages(), global);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&asi_ns_stats.frees_pending), 0);
	KUNIT_EXPECT_GT(test, atomic_long_read(&asi_ns_stats.flushes), flushes);
	KUNIT_EXPECT_FALSE(test, asi_arch_maps(ns_a, (unsigned long)probe.addr));
	KUNIT_EXPECT_FALSE(test, asi_arch_maps(ns_b, (unsigned long)probe.addr));
	KUNIT_EXPECT_FALSE(test, asi_arch_maps(asi_idle_asi, (unsigned long)probe.addr));

	for_each_online_cpu(cpu)
		KUNIT_EXPECT_EQ_MSG(test, work_on_cpu(cpu, asi_ns_probe_on_cpu, &probe), 1,
				    "cpu %d", cpu);
}

/*
 * A freed local page leaves its instance, on every CPU, and the instance's
 * and the global local counters go back; the other instance never had it.
 */
static void asi_ns_local_free(struct kunit *test)
{
	struct asi_ns_probe probe = { .asi = ns_a };
	long local = asi_arch_local_pages(NULL);
	long a_pages = asi_arch_local_pages(ns_a);
	int cpu;

	probe.addr = asi_ns_alloc(NS_LOCAL_A, NS_PAGE);
	KUNIT_ASSERT_NOT_NULL(test, probe.addr);
	KUNIT_EXPECT_EQ(test, asi_arch_local_pages(NULL) - local, 1);
	KUNIT_EXPECT_EQ(test, asi_arch_local_pages(ns_a) - a_pages, 1);
	for_each_online_cpu(cpu)
		KUNIT_EXPECT_EQ_MSG(test, work_on_cpu(cpu, asi_ns_probe_on_cpu, &probe), 0,
				    "cpu %d", cpu);

	free_page((unsigned long)probe.addr);
	asi_flush_frees();
	KUNIT_EXPECT_EQ(test, asi_arch_local_pages(NULL), local);
	KUNIT_EXPECT_EQ(test, asi_arch_local_pages(ns_a), a_pages);
	KUNIT_EXPECT_FALSE(test, asi_arch_maps(ns_a, (unsigned long)probe.addr));
	KUNIT_EXPECT_FALSE(test, asi_arch_maps(ns_b, (unsigned long)probe.addr));
	for_each_online_cpu(cpu)
		KUNIT_EXPECT_EQ_MSG(test, work_on_cpu(cpu, asi_ns_probe_on_cpu, &probe), 1,
				    "cpu %d", cpu);
}

/*
 * Allocate one page of @kind and free @freed, with interrupts off, so
 * that no other allocation on this CPU comes in between: did the
 * allocation get @freed back from its pool?
 */
static bool asi_ns_reused(struct kunit *test, enum asi_ns_kind kind, void *freed,
			  gfp_t extra)
{
	struct asi *owner = kind == NS_LOCAL_A ? ns_a : kind == NS_LOCAL_B ? ns_b : NULL;
	gfp_t gfp = GFP_ATOMIC | extra;
	struct asi_local_scope scope;
	unsigned long flags;
	void *p;

	gfp |= owner ? __GFP_LOCAL_NONSENSITIVE : __GFP_GLOBAL_NONSENSITIVE;
	scope = asi_local_begin(owner);
	local_irq_save(flags);
	free_page((unsigned long)freed);
	p = (void *)__get_free_page(gfp);
	local_irq_restore(flags);
	asi_local_end(scope);
	KUNIT_ASSERT_NOT_NULL(test, p);
	if (p != freed) {
		free_page((unsigned long)p);
		return false;
	}
	return true;
}

/*
 * A freed order-0 nonsensitive page stays mapped, in the spaces that saw
 * it, for the next allocation of exactly its kind: global for global,
 * local-A for local-A. Never for another kind, so nothing becomes visible
 * to a space that did not see it. The counters see it kept and reused.
 */
static void asi_ns_pool_reuse(struct kunit *test)
{
	static const enum asi_ns_kind kinds[] = { NS_GLOBAL, NS_LOCAL_A };
	long global = asi_arch_global_pages();
	long local = asi_arch_local_pages(NULL);
	long reused = atomic_long_read(&asi_ns_stats.reused);
	int i, other;

	for (i = 0; i < ARRAY_SIZE(kinds); i++) {
		enum asi_ns_kind kind = kinds[i];
		void *p = asi_ns_alloc(kind, NS_PAGE);

		KUNIT_ASSERT_NOT_NULL(test, p);
		memset(p, 0x5a, PAGE_SIZE);
		/* Same kind: the same page, unzeroed, still mapped where it was. */
		KUNIT_EXPECT_TRUE_MSG(test, asi_ns_reused(test, kind, p, 0),
				      "%s", asi_ns_kind_names[kind]);
		KUNIT_EXPECT_EQ(test, *(u8 *)p, 0x5a);
		asi_ns_check(test, p, 1, kind, NS_PAGE);
		/* __GFP_ZERO still zeroes a kept page. */
		KUNIT_EXPECT_TRUE(test, asi_ns_reused(test, kind, p, __GFP_ZERO));
		KUNIT_EXPECT_NULL(test, memchr_inv(p, 0, PAGE_SIZE));

		/* Any other kind: never this page. */
		for (other = NS_GLOBAL; other < NS_KINDS; other++) {
			if (other == kind)
				continue;
			KUNIT_EXPECT_FALSE_MSG(test, asi_ns_reused(test, other, p, 0),
					       "%s page went to %s", asi_ns_kind_names[kind],
					       asi_ns_kind_names[other]);
			/* Freed again by asi_ns_reused(): take it back. */
			KUNIT_EXPECT_TRUE(test, asi_ns_reused(test, kind,
							      asi_ns_alloc(kind, NS_PAGE), 0));
		}
		asi_ns_check(test, p, 1, kind, NS_PAGE);
		free_page((unsigned long)p);
	}
	KUNIT_EXPECT_GE(test, atomic_long_read(&asi_ns_stats.reused) - reused, 8L);
	KUNIT_EXPECT_GT(test, atomic_long_read(&asi_ns_stats.pooled), 0L);
	asi_flush_frees();
	KUNIT_EXPECT_EQ(test, atomic_long_read(&asi_ns_stats.pooled), 0L);
	KUNIT_EXPECT_EQ(test, asi_arch_global_pages(), global);
	KUNIT_EXPECT_EQ(test, asi_arch_local_pages(NULL), local);
}

/*
 * The per-CPU caches are bounded and give everything back: to the
 * deferred free beyond ASI_POOL_PCPU pages per CPU, to the shrinker
 * (drop_slab() calls every shrinker), and when their instance dies.
 */
static void asi_ns_pool_bounded_and_drained(struct kunit *test)
{
	const int n = 4 * ASI_POOL_PCPU;
	long global = asi_arch_global_pages();
	long local = asi_arch_local_pages(NULL);
	long flushes = atomic_long_read(&asi_ns_stats.flushes);
	struct asi_local_scope scope;
	struct asi *c;
	void **pages;
	long pooled;
	int i;

	pages = kunit_kcalloc(test, n, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	for (i = 0; i < n; i++) {
		pages[i] = (void *)__get_free_page(GFP_KERNEL | __GFP_GLOBAL_NONSENSITIVE);
		KUNIT_ASSERT_NOT_NULL(test, pages[i]);
	}
	for (i = 0; i < n; i++)
		free_page((unsigned long)pages[i]);
	pooled = atomic_long_read(&asi_ns_stats.pooled);
	KUNIT_EXPECT_LE(test, pooled, (long)ASI_POOL_PCPU * num_online_cpus());
	KUNIT_EXPECT_GT(test, pooled, 0L);
	/* The rest went to the deferred free, which flushed. */
	asi_wait_frees();
	KUNIT_EXPECT_EQ(test, asi_arch_global_pages() - global, pooled);
	KUNIT_EXPECT_GT(test, atomic_long_read(&asi_ns_stats.flushes), flushes);

	/* The shrinker empties the pools. */
	drop_slab();
	KUNIT_EXPECT_LT(test, atomic_long_read(&asi_ns_stats.pooled), pooled);

	/* An instance that dies gives its pool back. */
	c = asi_create(ns_class, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	asi_flush_frees();
	scope = asi_local_begin(c);
	for (i = 0; i < ASI_POOL_PCPU; i++)
		pages[i] = (void *)__get_free_page(GFP_KERNEL | __GFP_LOCAL_NONSENSITIVE);
	asi_local_end(scope);
	for (i = 0; i < ASI_POOL_PCPU; i++) {
		KUNIT_EXPECT_NOT_NULL(test, pages[i]);
		free_page((unsigned long)pages[i]);
	}
	pooled = atomic_long_read(&asi_ns_stats.pooled);
	KUNIT_EXPECT_GT(test, pooled, 0L);
	KUNIT_EXPECT_GT(test, asi_arch_local_pages(c), 0L);
	asi_put(c);
	/* All were c's: none is kept any more, none is mapped once freed. */
	KUNIT_EXPECT_EQ(test, atomic_long_read(&asi_ns_stats.pooled), 0L);
	asi_wait_frees();
	KUNIT_EXPECT_EQ(test, asi_arch_local_pages(NULL), local);

	asi_flush_frees();
	KUNIT_EXPECT_EQ(test, asi_arch_global_pages(), global);
	KUNIT_EXPECT_EQ(test, asi_arch_local_pages(NULL), local);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&asi_ns_stats.frees_pending), 0);
}

/* Audit @asi; return the number of violations. */
static unsigned int asi_ns_audit(struct kunit *test, struct asi *asi)
{
	unsigned int violations = ~0U;
	long pages = asi_arch_audit(asi, NULL, &violations);

	/* Text and read-only data alone are thousands of pages. */
	KUNIT_EXPECT_GT(test, pages, 1000L);
	return violations;
}

/*
 * The audit is clean in A, B and Idle-ASI with memory of every kind
 * allocated, and reports a sensitive page mapped by force (globally, then
 * locally in B without a record) until it is unmapped again.
 */
static void asi_ns_audit_clean_and_planted(struct kunit *test)
{
	struct asi *spaces[] = { ns_a, ns_b, asi_idle_asi };
	void *mem[NS_KINDS];
	unsigned int local;
	struct page *page;
	int i;

	for (i = 0; i < NS_KINDS; i++)
		mem[i] = asi_ns_alloc(i, NS_KMALLOC);
	for (i = 0; i < ARRAY_SIZE(spaces); i++)
		KUNIT_EXPECT_EQ_MSG(test, asi_ns_audit(test, spaces[i]), 0U, "space %d", i);
	for (i = 0; i < NS_KINDS; i++)
		kfree(mem[i]);

	page = alloc_page(GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_ASSERT_EQ(test, asi_arch_map_pages(page, 1, GFP_KERNEL), 0);
	for (i = 0; i < ARRAY_SIZE(spaces); i++)
		KUNIT_EXPECT_EQ_MSG(test, asi_ns_audit(test, spaces[i]), 1U, "space %d", i);
	KUNIT_EXPECT_EQ(test, asi_arch_unmap_pages(page, 1, &local, NULL), 1U);

	KUNIT_ASSERT_EQ(test, asi_arch_map_local_pages(ns_b, page, 1, GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, asi_ns_audit(test, ns_a), 0U);
	KUNIT_EXPECT_EQ(test, asi_ns_audit(test, ns_b), 1U);
	asi_arch_unmap_pages(page, 1, &local, NULL);
	KUNIT_EXPECT_EQ(test, local, 1U);
	flush_tlb_all();

	for (i = 0; i < ARRAY_SIZE(spaces); i++)
		KUNIT_EXPECT_EQ_MSG(test, asi_ns_audit(test, spaces[i]), 0U, "space %d", i);
	__free_page(page);
	asi_flush_frees();
}

static int asi_ns_fail_map(struct page *page, unsigned int nr, gfp_t gfp)
{
	return -ENOMEM;
}

/* A failed mapping fails the allocation, and nothing stays behind. */
static void asi_ns_map_failure(struct kunit *test)
{
	long global = asi_arch_global_pages();
	long failures = atomic_long_read(&asi_ns_stats.map_failures);
	struct page *page;

	kunit_activate_static_stub(test, asi_arch_map_pages, asi_ns_fail_map);
	page = alloc_page(GFP_KERNEL | __GFP_GLOBAL_NONSENSITIVE | __GFP_NOWARN);
	kunit_deactivate_static_stub(test, asi_arch_map_pages);
	KUNIT_EXPECT_NULL(test, page);
	if (page)
		__free_page(page);
	asi_flush_frees();

	KUNIT_EXPECT_EQ(test, atomic_long_read(&asi_ns_stats.map_failures) - failures, 1);
	KUNIT_EXPECT_EQ(test, asi_arch_global_pages(), global);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&asi_ns_stats.frees_pending), 0);
}

static void *asi_ns_no_table(gfp_t gfp)
{
	return NULL;
}

/*
 * No page-table page: a fresh instance has no tables of its own, so a
 * local page or per-CPU area for it needs one at least. The direct call
 * and both allocations fail cleanly: nothing mapped, no table kept, the
 * failed area freed through the deferred path, the counters back where
 * they were, the audit clean.
 */
static void asi_ns_table_failure(struct kunit *test)
{
	long global = asi_arch_global_pages();
	long local = asi_arch_local_pages(NULL);
	long failures = atomic_long_read(&asi_ns_stats.map_failures);
	struct asi_local_scope scope;
	struct page *page, *got;
	unsigned int cleared;
	struct asi *c;
	void *area;

	c = asi_create(ns_class, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	page = alloc_page(GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, page);

	kunit_activate_static_stub(test, asi_alloc_table, asi_ns_no_table);
	KUNIT_EXPECT_EQ(test, asi_arch_map_local_pages(c, page, 1, GFP_KERNEL), -ENOMEM);
	scope = asi_local_begin(c);
	got = alloc_page(GFP_KERNEL | __GFP_LOCAL_NONSENSITIVE | __GFP_NOWARN);
	area = asi_ns_percpu_alloc(GFP_KERNEL | __GFP_LOCAL_NONSENSITIVE | __GFP_NOWARN);
	asi_local_end(scope);
	kunit_deactivate_static_stub(test, asi_alloc_table);

	KUNIT_EXPECT_NULL(test, got);
	if (got)
		__free_page(got);
	KUNIT_EXPECT_NULL(test, area);
	if (area)
		asi_ns_percpu_free(area);
	KUNIT_EXPECT_FALSE(test, asi_arch_maps(c, (unsigned long)page_address(page)));
	KUNIT_EXPECT_EQ(test, asi_arch_private_tables(c), 0L);
	KUNIT_EXPECT_EQ(test, asi_arch_local_pages(c), 0L);
	/* The direct call left the template's marker: clear it. */
	asi_arch_unmap_pages(page, 1, &cleared, NULL);
	__free_page(page);
	asi_flush_frees();

	/* One failed page, one failed per-CPU area. */
	KUNIT_EXPECT_EQ(test, atomic_long_read(&asi_ns_stats.map_failures) - failures, 2);
	KUNIT_EXPECT_EQ(test, asi_arch_global_pages(), global);
	KUNIT_EXPECT_EQ(test, asi_arch_local_pages(NULL), local);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&asi_ns_stats.frees_pending), 0);
	KUNIT_EXPECT_EQ(test, asi_ns_audit(test, c), 0U);
	KUNIT_EXPECT_EQ(test, asi_ns_audit(test, ns_a), 0U);
	asi_put(c);
}

/*
 * A nonsensitive per-CPU area: each CPU's copy is whole, zeroed pages of
 * its own; the audit of A, B and Idle-ASI accepts it; freed, it is
 * unmapped at once on every CPU's copy, and returned to the per-CPU
 * allocator only after a TLB flush. A sensitive area freed meanwhile is
 * not held back. A local area outside a scope, or with both flags, fails.
 */
static void asi_ns_percpu_areas(struct kunit *test)
{
	struct asi *spaces[] = { ns_a, ns_b, asi_idle_asi };
	struct asi_local_scope scope;
	long flushes, local;
	void *p, *secret;
	unsigned long v;
	int cpu, i;

	local = asi_arch_local_pages(NULL);
	/* A's area: a flush of the CPUs in A only. */
	flushes = atomic_long_read(&asi_ns_stats.local_flushes);
	scope = asi_local_begin(ns_a);
	p = asi_ns_percpu_alloc(GFP_KERNEL | __GFP_LOCAL_NONSENSITIVE);
	asi_local_end(scope);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, asi_arch_local_pages(NULL) - local, (long)num_possible_cpus());
	for_each_possible_cpu(cpu) {
		void *q = asi_ns_percpu_copy(p, cpu);

		KUNIT_EXPECT_TRUE_MSG(test, PAGE_ALIGNED(q), "cpu %d", cpu);
		KUNIT_EXPECT_NULL_MSG(test, memchr_inv(q, 0, PAGE_SIZE), "cpu %d", cpu);
		KUNIT_EXPECT_TRUE(test, asi_percpu_lookup((unsigned long)q + PAGE_SIZE - 1, &v));
	}
	for (i = 0; i < ARRAY_SIZE(spaces); i++)
		KUNIT_EXPECT_EQ_MSG(test, asi_ns_audit(test, spaces[i]), 0U, "space %d", i);

	secret = asi_ns_percpu_alloc(GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, secret);
	asi_ns_percpu_free(p);
	asi_ns_percpu_free(secret);
	/* Unmapped before free_percpu() returned... */
	for_each_possible_cpu(cpu)
		for (i = 0; i < ARRAY_SIZE(spaces); i++)
			KUNIT_EXPECT_FALSE_MSG(test, asi_arch_maps(spaces[i], (unsigned long)
								   asi_ns_percpu_copy(p, cpu)),
					       "cpu %d space %d", cpu, i);
	KUNIT_EXPECT_EQ(test, asi_arch_local_pages(NULL), local);
	/* ...but held until the flush; the sensitive one was not. */
	asi_flush_frees();
	KUNIT_EXPECT_GT(test, atomic_long_read(&asi_ns_stats.local_flushes), flushes);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&asi_ns_stats.frees_pending), 0);
	KUNIT_EXPECT_FALSE(test, asi_percpu_lookup((unsigned long)asi_ns_percpu_copy(p, 0), &v));

	/* Bad requests: no area, nothing recorded or pending. */
	p = asi_ns_percpu_alloc(GFP_KERNEL | __GFP_LOCAL_NONSENSITIVE | __GFP_NOWARN);
	KUNIT_EXPECT_NULL(test, p);
	scope = asi_local_begin(ns_a);
	p = asi_ns_percpu_alloc(GFP_KERNEL | __GFP_LOCAL_NONSENSITIVE |
				__GFP_GLOBAL_NONSENSITIVE | __GFP_NOWARN);
	asi_local_end(scope);
	KUNIT_EXPECT_NULL(test, p);
	asi_flush_frees();
	KUNIT_EXPECT_EQ(test, atomic_long_read(&asi_ns_stats.frees_pending), 0);
	KUNIT_EXPECT_EQ(test, asi_arch_local_pages(NULL), local);
}

/* What each churn worker saw, read by the test thread once it stopped. */
/*
 * Shared by asi_ns_local_flush() and its thread, in a page local to A so
 * that the thread can use it while restricted.
 */
struct asi_ns_stay {
	struct asi_exit_record rec;
	unsigned long *target;
	int phase;	/* see asi_ns_stay_in_a() */
	int entered;
	bool faulted;
};

/*
 * In A on another CPU, interrupts on: phase 1, reading the page again and
 * again so that its translation stays in this CPU's TLB (only a CR3 write
 * or an invalidation takes it out); phase 2, told to stop reading; phase
 * 3, stopped, while the test unmaps and flushes; phase 4, one more read,
 * interrupts off: it must take an ASI fault. Then phase 5, done.
 *
 * The raw interrupt toggles: irq tracing's per-CPU state is not mapped,
 * and a fault on it would leave A. The entry code keeps lockdep's view
 * of the interrupt state right across interrupts taken in between.
 */
static int asi_ns_stay_in_a(void *arg)
{
	struct asi_ns_stay *st = arg;
	unsigned long nr;

	st->entered = asi_task_init(ns_a);
	if (!st->entered) {
		asi_record_exits(&st->rec);
		local_irq_disable();
		asi_enter(ns_a);
		raw_local_irq_enable();
		WRITE_ONCE(st->phase, 1);
		while (READ_ONCE(st->phase) == 1)
			READ_ONCE(*st->target);
		WRITE_ONCE(st->phase, 3);
		while (READ_ONCE(st->phase) == 3)
			cpu_relax();
		raw_local_irq_disable();
		nr = READ_ONCE(st->rec.nr);
		READ_ONCE(*st->target);
		st->faulted = READ_ONCE(st->rec.nr) != nr;
		asi_exit();
		local_irq_enable();
		asi_record_exits(NULL);
	}
	WRITE_ONCE(st->phase, 5);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

/* Wait up to @timeout (jiffies) for @st's phase to become @phase. */
static bool asi_ns_stay_wait(struct asi_ns_stay *st, int phase, unsigned long timeout)
{
	while (READ_ONCE(st->phase) != phase) {
		if (time_after(jiffies, timeout))
			return false;
		cpu_relax();
	}
	return true;
}

/*
 * The flush of a page local to A reaches a CPU that stayed in A since it
 * last read the page: that CPU's next read faults (mm/asi/flush.c).
 * Without the IPI its TLB would still translate the page (shown: with
 * asi_flush_unmapped() interrupting no CPU, the case fails in QEMU).
 */
static void asi_ns_local_flush(struct kunit *test)
{
	unsigned long timeout = jiffies + 20 * HZ;
	struct asi_unmapped u = {};
	struct task_struct *thread;
	struct asi_ns_stay *st;
	unsigned int local;
	struct page *page;
	int cpu;

	cpu = cpumask_any_but(cpu_online_mask, raw_smp_processor_id());
	if (cpu >= nr_cpu_ids)
		kunit_skip(test, "needs a second CPU");
	st = asi_ns_alloc(NS_LOCAL_A, NS_PAGE);
	KUNIT_ASSERT_NOT_NULL(test, st);
	page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_ASSERT_EQ(test, asi_arch_map_local_pages(ns_a, page, 1, GFP_KERNEL), 0);
	st->target = page_address(page);

	thread = kthread_create(asi_ns_stay_in_a, st, "asi_ns_stay");
	KUNIT_ASSERT_FALSE(test, IS_ERR(thread));
	kthread_bind(thread, cpu);
	wake_up_process(thread);
	if (asi_ns_stay_wait(st, 1, timeout)) {
		msleep(20);	/* reading all along, across interrupts */
		WRITE_ONCE(st->phase, 2);
		KUNIT_EXPECT_TRUE(test, asi_ns_stay_wait(st, 3, timeout));
	}
	KUNIT_EXPECT_EQ(test, st->entered, 0);

	asi_arch_unmap_pages(page, 1, &local, &u);
	KUNIT_EXPECT_EQ(test, local, 1U);
	KUNIT_EXPECT_EQ(test, u.nr, 1U);
	KUNIT_EXPECT_PTR_EQ(test, u.asi[0], ns_a);
	asi_flush_unmapped(&u);
	if (READ_ONCE(st->phase) == 3)
		WRITE_ONCE(st->phase, 4);
	KUNIT_EXPECT_TRUE(test, asi_ns_stay_wait(st, 5, timeout));
	KUNIT_EXPECT_TRUE(test, st->faulted);
	kthread_stop(thread);
	__free_page(page);
	asi_ns_free(NS_LOCAL_A, NS_PAGE, st);
}

struct asi_ns_churn {
	struct completion done;
	unsigned long rounds;
	unsigned long pages;
	u64 faults;
	bool enomem;
};

#define ASI_NS_CHURN_BATCH	8

static bool asi_ns_churn_stop;

/*
 * On one CPU, until told to stop: allocate a batch of nonsensitive
 * pages, global and local to A in turn, with interrupts on and off
 * (GFP_KERNEL, GFP_ATOMIC), write them, read each while restricted in A
 * (no ASI fault allowed: a page is mapped before the allocator returns
 * it), and free them, half with interrupts off, so the deferred path
 * runs from both.
 */
static int asi_ns_churn_worker(void *arg)
{
	struct asi_ns_churn *c = arg;
	struct page *pages[ASI_NS_CHURN_BATCH];
	unsigned long flags;
	int i;

	while (!READ_ONCE(asi_ns_churn_stop)) {
		for (i = 0; i < ASI_NS_CHURN_BATCH; i++) {
			gfp_t gfp = (i & 1 ? GFP_ATOMIC : GFP_KERNEL) | __GFP_NOWARN;
			struct asi_local_scope scope = asi_local_begin(ns_a);

			gfp |= i & 2 ? __GFP_LOCAL_NONSENSITIVE : __GFP_GLOBAL_NONSENSITIVE;
			if (i & 1)
				local_irq_save(flags);
			pages[i] = alloc_page(gfp);
			if (i & 1)
				local_irq_restore(flags);
			asi_local_end(scope);
			if (!pages[i]) {
				c->enomem = true;
				continue;
			}
			*(unsigned long *)page_address(pages[i]) = i;
			c->faults += asi_ns_touch(ns_a, page_address(pages[i]));
			c->pages++;
		}
		for (i = 0; i < ASI_NS_CHURN_BATCH; i++) {
			if (!pages[i])
				continue;
			if (i & 1)
				local_irq_save(flags);
			__free_page(pages[i]);
			if (i & 1)
				local_irq_restore(flags);
		}
		c->rounds++;
		cond_resched();
	}
	complete(&c->done);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

/*
 * 30 s of allocating and freeing on every CPU, lockdep on, while B is
 * entered and left on this CPU and its audit runs: no ASI fault, no
 * splat, no violation, and at the end the counters are back where they
 * started.
 */
static void asi_ns_churn_all_cpus(struct kunit *test)
{
	struct asi_ns_churn *churn;
	struct task_struct **workers;
	long global = asi_arch_global_pages();
	long local = asi_arch_local_pages(NULL);
	unsigned long deadline, pages = 0, audits = 0;
	int cpu;

	churn = kunit_kcalloc(test, nr_cpu_ids, sizeof(*churn), GFP_KERNEL);
	workers = kunit_kcalloc(test, nr_cpu_ids, sizeof(*workers), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, churn);
	KUNIT_ASSERT_NOT_NULL(test, workers);
	WRITE_ONCE(asi_ns_churn_stop, false);

	cpus_read_lock();
	for_each_online_cpu(cpu) {
		init_completion(&churn[cpu].done);
		workers[cpu] = kthread_create_on_cpu(asi_ns_churn_worker, &churn[cpu], cpu,
						     "asi-churn/%u");
		if (!IS_ERR(workers[cpu]))
			wake_up_process(workers[cpu]);
	}

	deadline = jiffies + 30 * HZ;
	while (time_before(jiffies, deadline)) {
		struct page *page = alloc_page(GFP_KERNEL | __GFP_GLOBAL_NONSENSITIVE);

		if (page) {
			KUNIT_EXPECT_EQ(test, asi_ns_touch(ns_b, page_address(page)), 0ULL);
			__free_page(page);
		}
		/* The walk is not atomic, but never sees a false violation. */
		if (!(audits++ % 25)) {
			KUNIT_EXPECT_EQ(test, asi_ns_audit(test, ns_a), 0U);
			KUNIT_EXPECT_EQ(test, asi_ns_audit(test, ns_b), 0U);
		}
		msleep(20);
	}
	WRITE_ONCE(asi_ns_churn_stop, true);

	for_each_online_cpu(cpu) {
		if (IS_ERR_OR_NULL(workers[cpu])) {
			KUNIT_FAIL(test, "no worker on cpu %d", cpu);
			continue;
		}
		wait_for_completion(&churn[cpu].done);
		kthread_stop(workers[cpu]);
		KUNIT_EXPECT_FALSE_MSG(test, churn[cpu].enomem, "cpu %d ran out of memory", cpu);
		KUNIT_EXPECT_EQ_MSG(test, churn[cpu].faults, 0ULL, "cpu %d", cpu);
		KUNIT_EXPECT_GT(test, churn[cpu].rounds, 0UL);
		pages += churn[cpu].pages;
	}
	cpus_read_unlock();

	asi_flush_frees();
	kunit_info(test, "%lu pages allocated and freed, %ld flushes so far\n", pages,
		   atomic_long_read(&asi_ns_stats.flushes));
	KUNIT_EXPECT_EQ(test, asi_arch_global_pages(), global);
	KUNIT_EXPECT_EQ(test, asi_arch_local_pages(NULL), local);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&asi_ns_stats.frees_pending), 0);
	KUNIT_EXPECT_EQ(test, asi_ns_audit(test, ns_a), 0U);
	KUNIT_EXPECT_FALSE(test, READ_ONCE(asi_disabled_by_warn));
}

/*
 * Instances come and go, each with a local order-2 block, freed while
 * its instance lives or after it died, with the kept pages emptied in
 * between or not: each freshly mapped block is local to its instance
 * alone, and the counters come back every time. 300 instances take the
 * generations past 2^8, where a marker bit once turned into
 * _PAGE_PROTNONE and made local pages look global.
 */
static void asi_ns_instance_churn(struct kunit *test)
{
	long global = asi_arch_global_pages();
	long local = asi_arch_local_pages(NULL);
	int round;

	for (round = 0; round < 300; round++) {
		bool free_first = round & 1, flush_first = round & 2;
		struct asi_local_scope scope;
		struct page *page;
		struct asi *c;

		c = asi_create(ns_class, NULL);
		KUNIT_ASSERT_FALSE(test, IS_ERR(c));
		scope = asi_local_begin(c);
		page = alloc_pages(GFP_KERNEL | __GFP_LOCAL_NONSENSITIVE, 2);
		asi_local_end(scope);
		KUNIT_ASSERT_NOT_NULL(test, page);
		KUNIT_EXPECT_EQ_MSG(test, asi_arch_page_kind(page), ASI_PAGE_LOCAL,
				    "generation %llu", c->generation);
		KUNIT_EXPECT_TRUE(test, asi_arch_maps(c, (unsigned long)page_address(page)));
		KUNIT_EXPECT_FALSE(test, asi_arch_maps(ns_a, (unsigned long)page_address(page)));
		if (free_first)
			__free_pages(page, 2);
		if (flush_first)
			asi_flush_frees();
		asi_put(c);
		if (!free_first)
			__free_pages(page, 2);
		asi_flush_frees();
		KUNIT_EXPECT_EQ_MSG(test, asi_arch_global_pages(), global, "round %d", round);
		KUNIT_EXPECT_EQ_MSG(test, asi_arch_local_pages(NULL), local, "round %d", round);
		if (asi_arch_global_pages() != global || asi_arch_local_pages(NULL) != local)
			break;
	}
}

static struct kunit_case asi_ns_cases[] = {
	KUNIT_CASE(asi_ns_visibility),
	KUNIT_CASE(asi_ns_bad_requests),
	KUNIT_CASE(asi_ns_static_and_percpu),
	KUNIT_CASE(asi_ns_zeroed),
	KUNIT_CASE(asi_ns_free_unmaps_everywhere),
	KUNIT_CASE(asi_ns_local_free),
	KUNIT_CASE(asi_ns_pool_reuse),
	KUNIT_CASE(asi_ns_pool_bounded_and_drained),
	KUNIT_CASE(asi_ns_instance_churn),
	KUNIT_CASE(asi_ns_audit_clean_and_planted),
	KUNIT_CASE(asi_ns_map_failure),
	KUNIT_CASE(asi_ns_table_failure),
	KUNIT_CASE(asi_ns_percpu_areas),
	KUNIT_CASE(asi_ns_local_flush),
	KUNIT_CASE_SLOW(asi_ns_churn_all_cpus),
	{}
};

static struct kunit_suite asi_ns_suite = {
	.name = "asi_nonsensitive",
	.suite_init = asi_ns_suite_init,
	.suite_exit = asi_ns_suite_exit,
	.init = asi_ns_init,
	.test_cases = asi_ns_cases,
};

kunit_test_suite(asi_ns_suite);

MODULE_DESCRIPTION("KUnit tests for ASI's nonsensitive memory");
MODULE_LICENSE("GPL");
