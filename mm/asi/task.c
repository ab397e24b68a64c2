// SPDX-License-Identifier: GPL-2.0
/*
 * Address Space Isolation: the head of a task_struct that runs restricted.
 *
 * Code that runs restricted reads and writes its own task_struct all the
 * time: the RCU read-side nesting with PREEMPT_RCU, the task's flags (KVM
 * sets PF_VCPU around guest mode), its ASI state. A task_struct cannot be
 * mapped as it is allocated upstream: a slab page holds several tasks,
 * and each ends in the task's saved FPU registers, which hold user data.
 *
 * So when ASI is on, fork_init() lays the task_struct cache out (see
 * asi_task_struct_layout()) so that every object starts on a page and the
 * architecture's first secret byte in the task_struct (on x86 the saved
 * FPU registers) starts on a page boundary, with zeroed padding before
 * the task_struct. The pages before that boundary, the "head", hold only
 * this task's bookkeeping; asi_task_init() maps them in every restricted
 * address space, with the task's stack, and asi_release_task() unmaps
 * them when the task exits (do_exit()), before the task_struct can be
 * freed.
 *
 * See "Tasks" and the scope table in Documentation/mm/asi.rst.
 */

#define pr_fmt(fmt) "asi: " fmt

#include <linux/asi.h>
#include <linux/init.h>
#include <linux/mm.h>
#include <linux/sched.h>

#include "internal.h"

/* Bytes of the task head ASI maps; 0 when the task_struct is not laid out. */
static unsigned int asi_task_head_size __ro_after_init;

/**
 * asi_task_struct_layout() - lay the task_struct cache out for ASI
 * @align: the cache's alignment, raised to PAGE_SIZE when ASI needs it
 *
 * Called once by fork_init(), after the architecture sized the
 * task_struct and chose ASI at boot.
 *
 * Return: how many bytes to leave, zeroed, before each task_struct in its
 * slab object so that its first secret starts on a page boundary.
 */
unsigned int __init asi_task_struct_layout(unsigned int *align)
{
	unsigned int secrets = ASI_ARCH_TASK_SECRETS;
	unsigned int pad = (PAGE_SIZE - secrets % PAGE_SIZE) % PAGE_SIZE;

	if (!asi_arch_boot_enabled())
		return 0;
	*align = PAGE_SIZE;
	asi_task_head_size = pad + secrets;
	pr_info("task_struct head: %u bytes mappable after %u bytes of padding\n",
		secrets, pad);
	return pad;
}

/**
 * asi_task_head() - the head of a task_struct that ASI may map
 * @tsk: the task
 * @start: set to the first byte of the head's first page
 *
 * The head is page aligned and ends where @tsk's first secret begins.
 * The static init_task, which shares its pages with other data, has none.
 *
 * Return: the head's size in bytes, or 0.
 */
size_t asi_task_head(struct task_struct *tsk, unsigned long *start)
{
	unsigned long secrets = (unsigned long)tsk + ASI_ARCH_TASK_SECRETS;

	if (!asi_task_head_size || tsk == &init_task || !PAGE_ALIGNED(secrets))
		return 0;
	*start = secrets - asi_task_head_size;
	return asi_task_head_size;
}

/* Map current's head in every restricted space; cheap once done. */
int asi_task_map_head(void)
{
	struct task_struct *tsk = current;
	unsigned long start;
	size_t size;
	int err;

	/* Compared with the task itself: a child copies its parent's field. */
	if (tsk->asi.mapped_head == tsk)
		return 0;
	size = asi_task_head(tsk, &start);
	if (!size)
		return 0;	/* Not laid out: its fields fault, and leave ASI. */
	err = asi_arch_map_global((void *)start, size);
	if (err)
		return err;
	tsk->asi.mapped_head = tsk;
	return 0;
}

/**
 * asi_task_fork() - a new task starts with no ASI state
 * @tsk: the task dup_task_struct() just copied from its parent
 *
 * Nothing of the parent's ASI state is the child's: not its target, not
 * its local scope, and above all not the record of which stack and head
 * were mapped. A child given, from the stack and task_struct caches, the
 * very stack and task_struct of an ancestor that has died since would
 * otherwise look prepared while nothing of it is mapped.
 */
void asi_task_fork(struct task_struct *tsk)
{
	memset(&tsk->asi, 0, sizeof(tsk->asi));
}

/* Unmap a dead task's head, before its task_struct can be freed. */
void asi_task_unmap_head(struct task_struct *tsk)
{
	unsigned long start;
	size_t size;

	if (tsk->asi.mapped_head != tsk)
		return;
	size = asi_task_head(tsk, &start);
	if (!WARN_ON_ONCE(!size))
		asi_arch_unmap_global((void *)start, size);
	tsk->asi.mapped_head = NULL;
}
