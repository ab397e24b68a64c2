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
 * this task's bookkeeping.
 *
 * asi_task_init() maps the head and the task's stack, which the CPU
 * pushes exception frames on while restricted, in the one instance the
 * task is about to enter, as local memory of that instance: no other
 * instance sees them. A task that later prepares for another instance
 * takes both along (unmapped, flushed, mapped there); a dead task's go in
 * asi_release_task(), before its task_struct and stack can be reused.
 * Each time, the part of the stack below the caller is erased first, so
 * that what earlier system calls of the task left there is not mapped.
 * The idle tasks' stacks are local to the Idle-ASI instance in the same
 * way (mm/asi/idle.c).
 *
 * See "Tasks" and the scope table in Documentation/mm/asi.rst.
 */

#define pr_fmt(fmt) "asi: " fmt

#include <linux/asi.h>
#include <linux/init.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/task_stack.h>

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

#define ASI_STACK_PAGES	(THREAD_SIZE >> PAGE_SHIFT)

/*
 * Unmap @tsk's stack and head from the instance they were mapped in,
 * with one TLB flush for both: of the CPUs in that instance, if any
 * (mm/asi/flush.c).
 */
static void asi_task_unmap(struct task_struct *tsk)
{
	struct asi_unmapped u = {};
	unsigned long head;
	size_t size;

	if (tsk->asi.mapped_stack)
		asi_arch_unmap_area(tsk->asi.mapped_stack, ASI_STACK_PAGES, &u);
	if (tsk->asi.mapped_head == tsk) {
		size = asi_task_head(tsk, &head);
		asi_arch_unmap_area((void *)head, size >> PAGE_SHIFT, &u);
	}
	asi_flush_unmapped(&u);
	/* After the unmap, for the audit (see asi_task_init()). */
	WRITE_ONCE(tsk->asi.mapped_stack, NULL);
	WRITE_ONCE(tsk->asi.mapped_head, NULL);
	WRITE_ONCE(tsk->asi.mapped_gen, 0);
}

/*
 * Zero current's stack from its end up to this function's frame: it
 * holds whatever earlier system calls and interrupts left there. Nothing
 * in the loop calls a function, so nothing below the stack pointer is
 * live while it runs.
 */
static noinline __no_sanitize_address void asi_task_erase_stack(void)
{
	unsigned long *p = end_of_stack(current) + 1;
	unsigned long *sp = (unsigned long *)current_stack_pointer;

	while (p < sp)
		WRITE_ONCE(*p++, 0);
}

/**
 * asi_task_init() - prepare the current task to enter an instance
 * @asi: the instance the task is about to enter
 *
 * Erases the unused part of the task's stack, then maps the stack and
 * the head of the task_struct in @asi, local to it; a task mapped in
 * another instance is unmapped from that one first. Call it before every
 * run of asi_enter() calls that follows a return to user space: the
 * erasing is what keeps the system calls made since out of @asi.
 *
 * Context: process context, may sleep.
 * Return: 0, -EOPNOTSUPP when ASI is off, or -ENOMEM; after an error the
 * task is mapped nowhere and asi_enter() refuses it.
 */
int asi_task_init(struct asi *asi)
{
	struct task_struct *tsk = current;
	void *stack = task_stack_page(tsk);
	unsigned long head;
	size_t size;
	int err;

	if (!static_key_enabled(&asi_enabled_key))
		return -EOPNOTSUPP;
	asi_task_erase_stack();
	if (tsk->asi.mapped_gen == asi->generation && tsk->asi.mapped_stack == stack)
		return 0;

	asi_task_unmap(tsk);
	size = asi_task_head(tsk, &head);
	/*
	 * Recorded before they are mapped, so that the audit, which finds
	 * the owner of a mapped stack or head here, never sees one without
	 * (the page-table lock orders the two); on error, whatever was
	 * mapped is unmapped by the record.
	 */
	WRITE_ONCE(tsk->asi.mapped_stack, stack);
	if (size)
		WRITE_ONCE(tsk->asi.mapped_head, tsk);
	WRITE_ONCE(tsk->asi.mapped_gen, asi->generation);
	err = asi_arch_map_area(asi, stack, ASI_STACK_PAGES, GFP_KERNEL);
	/* Without a head its fields fault, and leave ASI: slow, but safe. */
	if (!err && size)
		err = asi_arch_map_area(asi, (void *)head, size >> PAGE_SHIFT,
					GFP_KERNEL);
	if (err) {
		asi_task_unmap(tsk);
		return err;
	}
	return 0;
}
EXPORT_SYMBOL_GPL(asi_task_init);

/**
 * asi_release_task() - unmap what asi_task_init() mapped for a dead task
 * @tsk: the task whose stack is about to be freed or cached for reuse
 *
 * Called by an exiting task in do_exit(), before it leaves the task list
 * (where the audit finds the owners of mapped stacks and heads), and again,
 * a no-op by then, when its stack is released.
 */
void asi_release_task(struct task_struct *tsk)
{
	if (tsk->asi.mapped_stack || tsk->asi.mapped_head == tsk)
		asi_task_unmap(tsk);
}
