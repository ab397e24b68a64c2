// SPDX-License-Identifier: GPL-2.0
/*
 * Idle-ASI: a built-in class the idle loop halts in (asi_idle_halt()).
 * Its instance maps what every restricted space maps and, local to it,
 * the idle tasks' stacks (no memory of any other class), so a halted
 * CPU touches nothing secret and counts as safe for the sibling stun
 * (mm/asi/stun.c): an SMT sibling may run its guest meanwhile.
 *
 * An interrupt that wakes the CPU leaves Idle-ASI for its handler, as
 * every interrupt does (see asi_intr_enter()), and that exit is like any
 * other: the core stuns the siblings first (asi_sibling_stun()). Its
 * return enters Idle-ASI again, and the post_asi_enter hook flushes what
 * the handler loaded into the core's buffers before it lets the
 * siblings' guests run. The idle loop leaves Idle-ASI for good once the
 * CPU stops halting. The enter and exit counts are in
 * /sys/kernel/debug/asi/.
 *
 * Only a halt that touches no memory may run in it (asi_arch_halt()):
 * where the architecture's idle routine is such a halt anyway
 * (asi_arch_idle_allowed()), and wherever the sibling stun needs the
 * CPU safe while it idles, instead of cpuidle (asi_idle_must_halt()).
 */

#define pr_fmt(fmt) "asi: " fmt

#include <linux/asi.h>
#include <linux/cpumask.h>
#include <linux/init.h>
#include <linux/sched.h>
#include <linux/sched/task_stack.h>
#include <asm/tlbflush.h>

#include "internal.h"

struct asi *asi_idle_asi;

/* The exit's stun is the core's; back in, flush, then unstun. */
static const struct asi_class_ops asi_idle_ops = {
	.post_asi_enter = asi_stun_flush_unstun,
};

int __init asi_idle_init(void)
{
	struct asi_class *class;
	struct asi *asi;
	int cpu, err;

	class = asi_register_class("idle", &asi_idle_ops, 0);
	if (IS_ERR(class))
		return PTR_ERR(class);
	asi = asi_create(class, NULL);
	if (IS_ERR(asi)) {
		err = PTR_ERR(asi);
		goto err_unregister;
	}

	/* The idle tasks halt, and take interrupts, on their own stacks. */
	for_each_possible_cpu(cpu) {
		struct task_struct *idle = idle_task(cpu);
		void *stack = idle ? task_stack_page(idle) : NULL;

		if (!stack)
			continue;
		err = asi_arch_map_area(asi, stack, THREAD_SIZE >> PAGE_SHIFT,
					GFP_KERNEL);
		/* Even partly: a failed mapping is undone below. */
		idle->asi.mapped_stack = stack;
		idle->asi.mapped_gen = asi->generation;
		if (err)
			goto err_destroy;
	}
	WRITE_ONCE(asi_idle_asi, asi);
	return 0;

err_destroy:
	/* Never entered: its tables and the stacks' markers simply go. */
	for_each_possible_cpu(cpu) {
		struct task_struct *idle = idle_task(cpu);

		if (idle && idle->asi.mapped_gen == asi->generation) {
			asi_arch_unmap_area(idle->asi.mapped_stack,
					    THREAD_SIZE >> PAGE_SHIFT, NULL);
			idle->asi.mapped_stack = NULL;
			idle->asi.mapped_gen = 0;
		}
	}
	flush_tlb_all();
	asi_put(asi);
err_unregister:
	asi_unregister_class(class);
	return err;
}
