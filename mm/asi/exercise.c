// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/asi/exercise: every kind of nonsensitive allocation, N
 * rounds, in the context of the task that writes N. Each round creates an
 * instance, allocates and frees a page, an order-2 block and vmalloc of 4
 * pages local to it, destroys it, and does the same and kmalloc(64) local
 * to a long-lived instance and global.
 *
 * It exists for fault injection: with fail_page_alloc and failslab
 * filtered to the writing task (task-filter, /proc/self/make-it-fail),
 * every allocation ASI makes on the way fails at random too: the instance,
 * page-table pages, the records, slabs, the memory itself. A failure must
 * fail cleanly; suites/asi-fault-inject checks that the counters come back
 * and nothing is left behind. Reading gives the figures of the last run.
 */

#include <linux/asi.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/init.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "internal.h"

static const struct asi_class_ops asi_exercise_ops;
static struct asi_class *asi_exercise_class, *asi_exercise_new_class;
static struct asi *asi_exercise_asi;

/* One allocation and its free; returns whether it succeeded. */
static bool asi_exercise_one(unsigned int what, gfp_t gfp)
{
	void *p;

	gfp |= GFP_KERNEL | __GFP_NOWARN;
	switch (what) {
	case 0:
	case 1:
		p = (void *)__get_free_pages(gfp, what ? 2 : 0);
		if (p)
			free_pages((unsigned long)p, what ? 2 : 0);
		break;
	case 2:
		p = kmalloc(64, gfp);
		kfree(p);
		break;
	default:
		p = __vmalloc(4 * PAGE_SIZE, gfp);
		vfree(p);
		break;
	}
	return p;
}

struct asi_exercise_count {
	unsigned long ok, failed;
};

/* Every kind of allocation @asi's class allows, @gfp global or local. */
static void asi_exercise_all(struct asi *asi, gfp_t gfp, bool kmalloc,
			     struct asi_exercise_count *c)
{
	struct asi_local_scope scope = asi_local_begin(asi);
	unsigned int what;

	for (what = 0; what < 4; what++) {
		if (what == 2 && !kmalloc)
			continue;
		if (asi_exercise_one(what, gfp))
			c->ok++;
		else
			c->failed++;
	}
	asi_local_end(scope);
}

/*
 * The classes are registered on first use, like membench's: class slots
 * are scarce. The instance with local kmalloc caches is made once, then:
 * creating slab caches is not exercised under injection, since a failed
 * kmem_cache_create() dumps the stack, which the test harness counts as
 * a kernel report. Creating instances is, in the second class.
 */
static int asi_exercise_setup(void)
{
	struct asi_class *class;

	if (!asi_exercise_class) {
		class = asi_register_class("exercise", &asi_exercise_ops,
					   ASI_CLASS_LOCAL_KMALLOC);
		if (IS_ERR(class))
			return PTR_ERR(class);
		asi_exercise_class = class;
	}
	if (!asi_exercise_new_class) {
		class = asi_register_class("exercise-new", &asi_exercise_ops, 0);
		if (IS_ERR(class))
			return PTR_ERR(class);
		asi_exercise_new_class = class;
	}
	if (!asi_exercise_asi) {
		struct asi *asi = asi_create(asi_exercise_class, NULL);

		if (IS_ERR(asi))
			return PTR_ERR(asi);
		asi_exercise_asi = asi;
	}
	return 0;
}

static int asi_exercise_run(unsigned long n, char *buf, size_t size)
{
	struct asi_exercise_count c = { };
	unsigned long i, no_instance = 0;
	int err;

	err = asi_exercise_setup();
	if (err)
		return err;

	for (i = 0; i < n; i++) {
		struct asi *asi = asi_create(asi_exercise_new_class, NULL);

		if (IS_ERR(asi)) {
			no_instance++;
		} else {
			asi_exercise_all(asi, __GFP_LOCAL_NONSENSITIVE, false, &c);
			asi_put(asi);
		}
		asi_exercise_all(asi_exercise_asi, __GFP_LOCAL_NONSENSITIVE, true, &c);
		asi_exercise_all(NULL, __GFP_GLOBAL_NONSENSITIVE, true, &c);
	}
	asi_flush_frees();
	scnprintf(buf, size, "rounds %lu\ninstances_failed %lu\nallocations %lu\nfailures %lu\n",
		  n, no_instance, c.ok, c.failed);
	return 0;
}

static int __init asi_exercise_init(void)
{
	if (asi_enabled())
		asi_debugfs_bench("exercise", asi_exercise_run);
	return 0;
}

/* After asi_debugfs_init(), a late_initcall. */
late_initcall_sync(asi_exercise_init);
