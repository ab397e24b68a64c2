/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _LINUX_ASI_TYPES_H
#define _LINUX_ASI_TYPES_H

struct asi;

/**
 * struct asi_exit_record - what took a task out of its restricted space
 * @nr: real ASI exits (switches to the full address space) that happened
 *	while the task ran, in any context: its own, or an interrupt's.
 * @first: the &enum asi_exit_reason of the first of them.
 * @fault_ip: where the first ASI fault among them happened, or 0.
 * @fault_addr: what that fault touched.
 *
 * A client that wants to know whether a stretch of its code ran entirely
 * restricted points the task at a record (asi_record_exits()) that lives
 * in memory its own instance maps, and takes the result with
 * asi_take_exits(), which it may do while restricted.
 */
struct asi_exit_record {
	unsigned long nr;
	unsigned long fault_ip;
	unsigned long fault_addr;
	unsigned int first;
};

/**
 * struct asi_stun_counts - one CPU's sibling-stun counters
 * @stuns: exits that kicked a sibling out of its guest
 * @kicks: stun IPIs sent
 * @wait_cycles: time spent waiting for kicked siblings, in TSC cycles
 *
 * Only grow; a client takes differences (asi_stun_counts()).
 */
struct asi_stun_counts {
	unsigned long stuns;
	unsigned long kicks;
	u64 wait_cycles;
};

/**
 * struct asi_task - the ASI state a task carries across CPUs
 * @target: the instance this task runs in when it is in task context, set
 *	by asi_enter() and cleared by asi_exit() or by an ASI fault. The
 *	outermost interrupt return re-enters it, on whatever CPU the task
 *	runs then.
 * @mapped_stack: the stack asi_task_init() mapped, local to one
 *	instance; a new task starts without (asi_task_fork()).
 * @mapped_head: the task itself once asi_task_init() mapped the head of
 *	its task_struct (mm/asi/task.c) in that instance.
 * @mapped_gen: the generation of that instance, 0 when none.
 * @local: the instance that __GFP_LOCAL_NONSENSITIVE memory this task
 *	allocates belongs to, between asi_local_begin() and asi_local_end().
 * @local_key: where that scope was opened: the task's stack page and the
 *	interrupt context level. A scope is seen only from the same task
 *	(not from a child that copied it at fork) and the same context (not
 *	from an interrupt that arrives inside it).
 * @record: where the task's ASI exits are counted, or NULL; set by
 *	asi_record_exits() around a client's run loop and never across a
 *	return to user space, so a child never inherits one at fork.
 */
struct asi_task {
	struct asi *target;
	void *mapped_stack;
	void *mapped_head;
	u64 mapped_gen;
	struct asi *local;
	unsigned long local_key;
	struct asi_exit_record *record;
};

#endif /* _LINUX_ASI_TYPES_H */
