/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _LINUX_ASI_TYPES_H
#define _LINUX_ASI_TYPES_H

struct asi;

/**
 * struct asi_task - the ASI state a task carries across CPUs
 * @target: the instance this task runs in when it is in task context, set
 *	by asi_enter() and cleared by asi_exit() or by an ASI fault. The
 *	outermost interrupt return re-enters it, on whatever CPU the task
 *	runs then. A child copies its parent's at fork and never uses it:
 *	it is read only by the return from an interrupt that found this
 *	task restricted, which takes the task's own asi_enter() first.
 * @mapped_stack: the stack asi_task_init() mapped into the restricted
 *	address spaces. It is compared with the task's own stack rather than
 *	kept as a flag, so a child that copied its parent's task_struct at
 *	fork never looks prepared.
 */
struct asi_task {
	struct asi *target;
	void *mapped_stack;
};

#endif /* _LINUX_ASI_TYPES_H */
