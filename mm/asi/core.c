// SPDX-License-Identifier: GPL-2.0
/*
 * Address Space Isolation: the class registry, instances and the
 * enter/exit state machine.
 *
 * The state machine has two variables: this CPU's @curr (the instance
 * whose page table CR3 holds or is about to hold) and the task's
 * asi.target (the instance the task wants to run in). CR3 itself is the
 * third witness: an interrupt decides whether it interrupted a restricted
 * context by comparing CR3 with the restricted table, never by trusting
 * @curr alone, so every window inside a transition reads consistently:
 *
 *   enter: target = A; curr = A; CR3 = A; post_asi_enter()
 *   exit:  pre_asi_exit(); CR3 = full; curr = NULL; target = NULL
 *
 * An NMI that lands before the CR3 write of an enter, or after the CR3
 * write of an exit, finds the full table and does nothing. One that
 * lands after the CR3 write of an enter finds the restricted table,
 * makes a complete exit of its own (pre_asi_exit, CR3 = full) and on
 * return a complete enter of the target (CR3 = A, post_asi_enter). One
 * that lands in an exit, from its pre_asi_exit hook to its CR3 write,
 * makes a complete exit too, but its return leaves the CPU in the full
 * address space the interrupted exit is heading for: entering again
 * would run post_asi_enter, which undoes what pre_asi_exit did (a
 * sibling's stun, say), while the exit goes on.
 *
 * See Documentation/mm/asi.rst.
 */

#define pr_fmt(fmt) "asi: " fmt

#include <linux/asi.h>
#include <linux/debugfs.h>
#include <linux/init.h>
#include <linux/instrumentation.h>
#include <linux/kallsyms.h>
#include <linux/sched.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/string.h>

#define CREATE_TRACE_POINTS
#include <trace/events/asi.h>

#include "internal.h"

struct static_key_false asi_enabled_key = STATIC_KEY_FALSE_INIT;
EXPORT_SYMBOL_GPL(asi_enabled_key);

DEFINE_PER_CPU_PAGE_ALIGNED(union asi_cpu_page, asi_cpu_page);
DEFINE_PER_CPU(struct asi_stats[ASI_MAX_CLASSES], asi_stats);

struct asi_class asi_classes[ASI_MAX_CLASSES];
/* Serialises registration, instance creation and the debugfs readers. */
DEFINE_MUTEX(asi_class_lock);
LIST_HEAD(asi_instances);
bool asi_disabled_by_warn;
static atomic64_t asi_generation;

const char *const asi_exit_reason_names[ASI_EXIT_NR] = {
	[ASI_EXIT_EXPLICIT]		= "explicit",
	[ASI_EXIT_FAULT]		= "page_fault",
	[ASI_EXIT_INTERRUPT]		= "interrupt",
	[ASI_EXIT_EXCEPTION]		= "exception",
	[ASI_EXIT_NMI]			= "nmi",
	[ASI_EXIT_CONTEXT_SWITCH]	= "context_switch",
};

static_assert(ARRAY_SIZE(asi_exit_reason_names) == ASI_EXIT_NR);

/*
 * Boot-time switch: asi=on|off, defaulting to the Kconfig choice. The
 * architecture turns it into asi_boot_enabled early, before it builds the
 * direct map, because ASI needs kernel TLB entries that are not global.
 */
static bool asi_param_on __initdata =
	IS_ENABLED(CONFIG_ADDRESS_SPACE_ISOLATION_DEFAULT_ON);
bool asi_boot_enabled __ro_after_init;

static int __init asi_parse_param(char *arg)
{
	if (!arg)
		return -EINVAL;
	if (!strcmp(arg, "on")) {
		asi_param_on = true;
	} else if (!strcmp(arg, "off")) {
		asi_param_on = false;
	} else {
		pr_err("invalid asi=%s, expected on or off; keeping %s\n",
		       arg, asi_param_on ? "on" : "off");
		return -EINVAL;
	}
	return 0;
}
early_param("asi", asi_parse_param);

/* Did the command line (or the Kconfig default) ask for ASI? */
bool __init asi_boot_requested(void)
{
	return asi_param_on;
}

/* The counters of one class, added up over all CPUs. */
void asi_stats_sum(unsigned int class_id, struct asi_stats *sum)
{
	int cpu, r;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		struct asi_stats *s = &per_cpu(asi_stats, cpu)[class_id];

		sum->enters += READ_ONCE(s->enters);
		for (r = 0; r < ASI_EXIT_NR; r++)
			sum->exits[r] += READ_ONCE(s->exits[r]);
		sum->faults += READ_ONCE(s->faults);
		sum->critical_faults += READ_ONCE(s->critical_faults);
	}
}

void asi_disable(const char *why, unsigned long ip)
{
	if (xchg(&asi_disabled_by_warn, true))
		return;
	pr_err("internal inconsistency (%s) at %pS: ASI is off for the rest of this boot\n",
	       why, (void *)ip);
}

/**
 * asi_register_class() - register a kind of restricted address space
 * @name: a unique, non-empty name of at most ASI_CLASS_NAME_LEN - 1 chars
 * @ops: the class's hooks; both may be NULL, but @ops may not
 * @flags: ASI_CLASS_* flags
 *
 * Context: process context, may sleep.
 * Return: the class handle, or an ERR_PTR(): -EOPNOTSUPP when ASI is off,
 * -EINVAL for a bad name, flags or ops (a hook outside the core kernel
 * text and the text of the modules ASI maps), -EEXIST for a name already
 * registered, -ENOSPC when all ASI_MAX_CLASSES slots are taken.
 */
struct asi_class *asi_register_class(const char *name,
				     const struct asi_class_ops *ops,
				     unsigned long flags)
{
	struct asi_class *class, *free = NULL;
	int i;

	if (!static_key_enabled(&asi_enabled_key))
		return ERR_PTR(-EOPNOTSUPP);
	if (!name || !name[0] || strlen(name) >= ASI_CLASS_NAME_LEN || !ops ||
	    (flags & ~ASI_CLASS_FLAGS))
		return ERR_PTR(-EINVAL);
	/* A restricted address space maps only the text of ASI's users. */
	if ((ops->pre_asi_exit &&
	     !asi_module_text((unsigned long)ops->pre_asi_exit)) ||
	    (ops->post_asi_enter &&
	     !asi_module_text((unsigned long)ops->post_asi_enter)))
		return ERR_PTR(-EINVAL);

	if (asi_fail_register())
		return ERR_PTR(-ENOSPC);

	mutex_lock(&asi_class_lock);
	for (i = 0; i < ASI_MAX_CLASSES; i++) {
		class = &asi_classes[i];
		if (!class->registered) {
			if (!free)
				free = class;
			continue;
		}
		if (!strcmp(class->name, name)) {
			mutex_unlock(&asi_class_lock);
			return ERR_PTR(-EEXIST);
		}
	}
	if (!free) {
		mutex_unlock(&asi_class_lock);
		return ERR_PTR(-ENOSPC);
	}
	strscpy(free->name, name, sizeof(free->name));
	free->ops = ops;
	free->flags = flags;
	free->id = free - asi_classes;
	atomic_set(&free->nr_instances, 0);
	free->registered = true;
	mutex_unlock(&asi_class_lock);
	return free;
}
EXPORT_SYMBOL_GPL(asi_register_class);

/**
 * asi_unregister_class() - give a class's slot back
 * @class: a handle from asi_register_class()
 *
 * Context: process context, may sleep.
 * Return: 0, -EINVAL for a handle that is not registered, or -EBUSY while
 * the class still has instances.
 */
int asi_unregister_class(struct asi_class *class)
{
	int ret = 0;

	if (IS_ERR_OR_NULL(class) || class < asi_classes ||
	    class >= asi_classes + ASI_MAX_CLASSES)
		return -EINVAL;

	mutex_lock(&asi_class_lock);
	if (!class->registered)
		ret = -EINVAL;
	else if (atomic_read(&class->nr_instances))
		ret = -EBUSY;
	else
		class->registered = false;
	mutex_unlock(&asi_class_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(asi_unregister_class);

/**
 * asi_create() - create a restricted address space
 * @class: the class it belongs to
 * @owner: an opaque pointer for the client (a VM, for KVM); may be NULL
 *
 * The new instance maps what every restricted address space maps (see
 * Documentation/mm/asi.rst) and nothing else. It holds one reference.
 *
 * Context: process context, may sleep.
 * Return: the instance or an ERR_PTR(): -EINVAL for a class that is not
 * registered, -ENOMEM.
 */
struct asi *asi_create(struct asi_class *class, void *owner)
{
	struct asi *asi;
	int err;

	if (IS_ERR_OR_NULL(class) || class < asi_classes ||
	    class >= asi_classes + ASI_MAX_CLASSES)
		return ERR_PTR(-EINVAL);

	asi = kzalloc(sizeof(*asi), GFP_KERNEL);
	if (!asi)
		return ERR_PTR(-ENOMEM);

	mutex_lock(&asi_class_lock);
	if (!class->registered) {
		err = -EINVAL;
		goto err_unlock;
	}
	asi->class = class;
	asi->owner = owner;
	asi->generation = atomic64_inc_return(&asi_generation);
	refcount_set(&asi->ref, 1);
	err = asi_arch_instance_init(asi);
	if (err)
		goto err_unlock;
	atomic_inc(&class->nr_instances);
	list_add_tail(&asi->node, &asi_instances);
	mutex_unlock(&asi_class_lock);

	err = asi_local_init(asi);
	if (err) {
		asi_put(asi);
		return ERR_PTR(err);
	}
	mutex_lock(&asi_class_lock);
	asi_debugfs_add_instance(asi);
	mutex_unlock(&asi_class_lock);
	return asi;

err_unlock:
	mutex_unlock(&asi_class_lock);
	kfree(asi);
	return ERR_PTR(err);
}
EXPORT_SYMBOL_GPL(asi_create);

/**
 * asi_get() - take a reference on an instance
 * @asi: the instance
 *
 * Return: @asi.
 */
struct asi *asi_get(struct asi *asi)
{
	refcount_inc(&asi->ref);
	return asi;
}
EXPORT_SYMBOL_GPL(asi_get);

/**
 * asi_put() - drop a reference; the last one destroys the instance
 * @asi: the instance, or NULL
 *
 * The owner must have left the instance on every CPU (asi_exit()) before
 * dropping the last reference; one that is still loaded somewhere trips
 * the safety valve instead of being freed under that CPU.
 *
 * Context: process context, may sleep.
 */
void asi_put(struct asi *asi)
{
	struct asi_class *class;
	int cpu;

	if (!asi || !refcount_dec_and_test(&asi->ref))
		return;

	for_each_possible_cpu(cpu) {
		if (ASI_WARN_ON(READ_ONCE(per_cpu(asi_cpu_page, cpu).cpu.curr) == asi))
			return;	/* leak it rather than free it under a CPU */
	}

	class = asi->class;
	mutex_lock(&asi_class_lock);
	debugfs_remove(asi->debugfs);
	list_del(&asi->node);
	mutex_unlock(&asi_class_lock);
	/* Frees its slabs, so before the tables they are mapped in. */
	asi_local_free(asi);
	/* Then the pages those slabs left in the per-CPU caches. */
	asi_pool_free(asi);
	asi_arch_instance_free(asi);
	asi_core_cookie_free(asi);
	kfree(asi);
	atomic_dec(&class->nr_instances);
}
EXPORT_SYMBOL_GPL(asi_put);

/**
 * asi_owner() - the owner given to asi_create()
 * @asi: the instance
 *
 * Return: the owner pointer.
 */
void *asi_owner(struct asi *asi)
{
	return asi->owner;
}
EXPORT_SYMBOL_GPL(asi_owner);

/**
 * asi_class_of() - the class of an instance
 * @asi: the instance
 *
 * Return: the class handle.
 */
struct asi_class *asi_class_of(struct asi *asi)
{
	return asi->class;
}
EXPORT_SYMBOL_GPL(asi_class_of);

/*
 * A hook that touches memory its class does not map faults, and the
 * fault's entry would leave ASI by calling the same hook again, forever.
 * Only an NMI may nest a hook in another, so a third level is such a
 * fault: skip the hook and let the next asi_enter() switch ASI off.
 */
static __always_inline void asi_call_hook(void (*hook)(void))
{
	if (!hook)
		return;
	if (this_cpu_read(asi_cpu_page.cpu.hook_depth) >= 2) {
		this_cpu_write(asi_cpu_page.cpu.hook_broken, true);
		return;
	}
	this_cpu_inc(asi_cpu_page.cpu.hook_depth);
	instrumentation_begin();
	hook();
	instrumentation_end();
	this_cpu_dec(asi_cpu_page.cpu.hook_depth);
}

/*
 * The two halves of every transition. They run with interrupts off and
 * touch only this CPU's asi_cpu_page until the CR3 write of an enter and
 * from the CR3 write of an exit on: the rest is not mapped when
 * restricted. this_cpu_*() is used rather than a pointer because
 * computing a per-CPU pointer reads this_cpu_off, which is not mapped.
 */
static __always_inline void __asi_switch_to_restricted(struct asi *asi)
{
	const struct asi_class_ops *ops = asi->class->ops;
	unsigned long cr3;

	this_cpu_write(asi_cpu_page.cpu.curr, asi);
	/*
	 * @curr before the TLB tag that asi_arch_prepare_enter() reads: an
	 * unmap of the instance's pages sees this CPU in it, or this CPU
	 * sees the unmap's new tag. Pairs with asi_flush_unmapped()'s.
	 */
	smp_mb();
	cr3 = asi_arch_prepare_enter(asi);

	this_cpu_write(asi_cpu_page.cpu.pre_asi_exit, ops->pre_asi_exit);
	this_cpu_write(asi_cpu_page.cpu.post_asi_enter, ops->post_asi_enter);
	this_cpu_write(asi_cpu_page.cpu.class_id, asi->class->id);
	this_cpu_inc(asi_stats[asi->class->id].enters);
	this_cpu_inc(asi_cpu_page.cpu.enters);

	asi_write_cr3(cr3);

	asi_call_hook(this_cpu_read(asi_cpu_page.cpu.post_asi_enter));
}

static __always_inline void __asi_switch_to_full(enum asi_exit_reason reason)
{
	bool outer = this_cpu_read(asi_cpu_page.cpu.exiting), nested;
	struct asi_exit_record *rec;

	this_cpu_write(asi_cpu_page.cpu.exiting, true);
	barrier();
	/* Every class: no sibling runs a guest while this CPU is full. */
	asi_sibling_stun();
	asi_call_hook(this_cpu_read(asi_cpu_page.cpu.pre_asi_exit));

	asi_write_cr3(this_cpu_read(asi_cpu_page.cpu.arch.full_cr3));

	/*
	 * An NMI that landed in this exit before the CR3 write made the
	 * exit already, and counted it: count one exit, not two.
	 */
	nested = !this_cpu_read(asi_cpu_page.cpu.curr);
	this_cpu_write(asi_cpu_page.cpu.curr, NULL);
	barrier();
	/* An NMI's exit may nest in another exit: give the outer its flag back. */
	this_cpu_write(asi_cpu_page.cpu.exiting, outer);
	if (nested)
		return;
	this_cpu_inc(asi_stats[this_cpu_read(asi_cpu_page.cpu.class_id)].exits[reason]);

	/* In the full address space now: the task may be read. */
	rec = asi_arch_current()->asi.record;
	if (rec && !rec->nr++)
		rec->first = reason;
}

/* Is CR3 the restricted table of @curr, rather than about to be? */
static __always_inline bool asi_cpu_restricted(void)
{
	return this_cpu_read(asi_cpu_page.cpu.curr) &&
	       asi_cr3_same_table(asi_read_cr3(),
				  this_cpu_read(asi_cpu_page.cpu.arch.restricted_cr3));
}

static bool asi_may_enter(struct asi *asi)
{
	if (unlikely(this_cpu_read(asi_cpu_page.cpu.stun.timed_out))) {
		this_cpu_write(asi_cpu_page.cpu.stun.timed_out, false);
		WARN_ONCE(1, "asi: an SMT sibling did not leave its guest when stunned\n");
	}
	WARN_ONCE(asi_stun_check_reported(),
		  "asi: a guest ran while an SMT sibling was in the full address space\n");
	if (READ_ONCE(asi_disabled_by_warn))
		return false;
	if (ASI_WARN_ON(this_cpu_read(asi_cpu_page.cpu.hook_broken)))
		return false;
	if (ASI_WARN_ON(IS_ERR_OR_NULL(asi) || !asi->class->registered))
		return false;
	/* Only task context has a stack of its own that can be mapped. */
	if (ASI_WARN_ON(!in_task()))
		return false;
	if (ASI_WARN_ON(current->asi.mapped_stack != task_stack_page(current) ||
			current->asi.mapped_gen != asi->generation))
		return false;
	return true;
}

/**
 * asi_enter() - switch this CPU to a restricted address space
 * @asi: the instance
 *
 * Sets @asi as the current task's target and loads it. From here on the
 * task runs restricted until asi_exit(). Interrupts and exceptions leave
 * the restricted space for their handlers and their outermost return
 * enters the target again; a page fault on memory the restricted space
 * does not map leaves it and clears the target, so the faulting access is
 * retried in the full address space (and counted, see asi_is_restricted()).
 * Entering the instance the CPU is already in does nothing; entering
 * another one leaves the current one first.
 *
 * Does nothing when ASI is off or was switched off by the safety valve.
 * The task must have called asi_task_init() for @asi.
 *
 * Context: task context, interrupts disabled.
 */
noinstr void asi_enter(struct asi *asi)
{
	struct asi *curr;

	if (!asi_enabled())
		return;

	/*
	 * Until the CPU is known to be in the full address space, touch only
	 * this CPU's asi_cpu_page: a client re-entering before every VM
	 * entry usually still is in @asi, and then this is all it costs.
	 */
	curr = this_cpu_read(asi_cpu_page.cpu.curr);
	if (curr == asi && asi_cpu_restricted())
		return;
	if (curr)
		asi_exit();

	instrumentation_begin();
	lockdep_assert_irqs_disabled();
	if (!asi_may_enter(asi)) {
		instrumentation_end();
		return;
	}
	current->asi.target = asi;
	trace_asi_enter(asi->class->name, asi->class->id);
	instrumentation_end();

	__asi_switch_to_restricted(asi);
}
EXPORT_SYMBOL_GPL(asi_enter);

/**
 * asi_exit() - switch this CPU back to the full address space
 *
 * Clears the current task's target, so interrupts no longer bring the
 * task back. Does nothing in the full address space.
 *
 * Context: task context, interrupts disabled.
 */
noinstr void asi_exit(void)
{
	if (!asi_enabled())
		return;

	if (asi_cpu_restricted()) {
		__asi_switch_to_full(ASI_EXIT_EXPLICIT);
		instrumentation_begin();
		trace_asi_exit(asi_classes[this_cpu_read(asi_cpu_page.cpu.class_id)].name,
			       ASI_EXIT_EXPLICIT);
		instrumentation_end();
	}
	this_cpu_write(asi_cpu_page.cpu.curr, NULL);

	instrumentation_begin();
	asi_arch_current()->asi.target = NULL;
	instrumentation_end();
}
EXPORT_SYMBOL_GPL(asi_exit);

/**
 * asi_record_exits() - count the current task's ASI exits
 * @rec: where, or NULL to stop
 *
 * From here on every real ASI exit while the current task runs, in its
 * own context or in an interrupt's, is counted in @rec, with the reason
 * of the first and the place of the first ASI fault. A client that runs
 * restricted wants @rec in memory its instance maps, so that it can read
 * it there (asi_take_exits()). The client must stop before it returns to
 * user space and before @rec is freed.
 *
 * Context: task context.
 */
void asi_record_exits(struct asi_exit_record *rec)
{
	if (rec)
		memset(rec, 0, sizeof(*rec));
	WRITE_ONCE(current->asi.record, rec);
}
EXPORT_SYMBOL_GPL(asi_record_exits);

/**
 * asi_take_exits() - read and reset an exit record
 * @rec: the record asi_record_exits() was given
 * @out: its contents
 *
 * Touches only @rec, so it may run restricted. An NMI may add an exit at
 * any point: it is then counted either here or by the next call, never
 * lost and never counted twice.
 *
 * Context: interrupts disabled.
 * Return: the number of exits since the last call.
 */
noinstr unsigned long asi_take_exits(struct asi_exit_record *rec,
				     struct asi_exit_record *out)
{
	out->first = READ_ONCE(rec->first);
	out->fault_ip = READ_ONCE(rec->fault_ip);
	out->fault_addr = READ_ONCE(rec->fault_addr);
	WRITE_ONCE(rec->fault_ip, 0);
	/* The reason and the place above belong to this count or an older. */
	out->nr = xchg(&rec->nr, 0);
	return out->nr;
}
EXPORT_SYMBOL_GPL(asi_take_exits);

/**
 * asi_cpu_enters() - how often this CPU entered a restricted space
 *
 * Counts the real switches, each of which ran its class's post_asi_enter
 * hook: a client that finds the same count as at its last entry, on the
 * same CPU and still restricted, knows the hook has not run since.
 *
 * Return: a per-CPU count that only grows.
 */
noinstr unsigned long asi_cpu_enters(void)
{
	return this_cpu_read(asi_cpu_page.cpu.enters);
}
EXPORT_SYMBOL_GPL(asi_cpu_enters);

/**
 * asi_critical_begin() - start a critical section
 *
 * Between asi_critical_begin() and asi_critical_end() the code must touch
 * only memory the restricted space maps: an ASI fault there is a bug,
 * reported with a warning when CONFIG_ADDRESS_SPACE_ISOLATION_DEBUG is
 * set, and counted in any case. Sections nest. The CPU must stay
 * restricted throughout, which in practice means interrupts disabled.
 */
noinstr void asi_critical_begin(void)
{
	this_cpu_inc(asi_cpu_page.cpu.critical);
}
EXPORT_SYMBOL_GPL(asi_critical_begin);

/**
 * asi_critical_end() - end the critical section asi_critical_begin() began
 */
noinstr void asi_critical_end(void)
{
	this_cpu_dec(asi_cpu_page.cpu.critical);
}
EXPORT_SYMBOL_GPL(asi_critical_end);

/**
 * asi_is_restricted() - is this CPU in a restricted address space?
 *
 * Return: true when CR3 holds an instance's page table.
 */
noinstr bool asi_is_restricted(void)
{
	return asi_enabled() && asi_cpu_restricted();
}
EXPORT_SYMBOL_GPL(asi_is_restricted);

/**
 * asi_current() - the instance this CPU is in
 *
 * Return: the instance, or NULL in the full address space.
 */
noinstr struct asi *asi_current(void)
{
	return asi_is_restricted() ? this_cpu_read(asi_cpu_page.cpu.curr) : NULL;
}
EXPORT_SYMBOL_GPL(asi_current);

/**
 * asi_target() - the instance the current task wants to run in
 *
 * Return: the target set by asi_enter(), or NULL.
 */
struct asi *asi_target(void)
{
	return current->asi.target;
}
EXPORT_SYMBOL_GPL(asi_target);

/*
 * The entry hooks behind asi_intr_enter() and asi_intr_exit(), which
 * the architecture calls only when ASI was chosen at boot; see their
 * kernel-doc in <linux/asi.h>.
 */
noinstr unsigned long __asi_intr_enter(enum asi_exit_reason reason)
{
	unsigned long state;

	/*
	 * The common case: nothing to leave. No static branch (see
	 * asi_intr_enter()); @curr is NULL until the first asi_enter().
	 */
	if (likely(!this_cpu_read(asi_cpu_page.cpu.curr))) {
		state = this_cpu_read(asi_cpu_page.cpu.intr_restricted) << 1;
		this_cpu_write(asi_cpu_page.cpu.intr_restricted, 0);
		return state;
	}

	state = this_cpu_read(asi_cpu_page.cpu.intr_restricted) << 1;
	if (asi_cpu_restricted()) {
		struct asi *asi = this_cpu_read(asi_cpu_page.cpu.curr);
		/* Only an NMI (or #MC) can land in an exit. */
		bool in_exit = this_cpu_read(asi_cpu_page.cpu.exiting);

		__asi_switch_to_full(reason);
		this_cpu_write(asi_cpu_page.cpu.intr_left, asi);
		this_cpu_write(asi_cpu_page.cpu.intr_restricted, 1);
		/* The interrupted exit goes on in the full address space. */
		if (!in_exit)
			state |= 1;
		return state;
	}
	this_cpu_write(asi_cpu_page.cpu.intr_restricted, 0);
	return state;
}

noinstr void __asi_intr_exit(unsigned long state)
{
	struct asi *target;

	this_cpu_write(asi_cpu_page.cpu.intr_restricted, state >> 1);
	if (likely(!(state & 1)))
		return;

	target = current->asi.target;
	if (!target || READ_ONCE(asi_disabled_by_warn))
		return;
	__asi_switch_to_restricted(target);
}

/**
 * asi_check_cr3() - make ASI's state agree with a CR3 loaded behind its back
 *
 * For a caller that had the CPU load the restricted CR3 of the last
 * asi_enter() without ASI, as a VMX exit does from the HOST_CR3 that KVM
 * took from CR3 while restricted. If an ASI exit happened after that
 * value was taken, ASI's state says full while the CPU now runs on the
 * restricted table, and every access to memory it does not map would
 * fault again and again. Go back to the full table then, and report it
 * once: the caller must not leave ASI in that window. Interrupts off.
 */
noinstr void asi_check_cr3(void)
{
	if (likely(this_cpu_read(asi_cpu_page.cpu.curr)))
		return;
	asi_write_cr3(this_cpu_read(asi_cpu_page.cpu.arch.full_cr3));
	instrumentation_begin();
	WARN_ONCE(1, "asi: the CPU was sent back to a restricted table ASI had left\n");
	instrumentation_end();
}
EXPORT_SYMBOL_GPL(asi_check_cr3);

/**
 * asi_context_switch() - the scheduler's safety net
 * @prev: the task being switched away from
 *
 * Every way into the scheduler leaves ASI before (an interrupt or a fault
 * on the scheduler's own data), so this finds the CPU restricted only if
 * that chain is broken. It leaves ASI then and keeps @prev's target.
 */
noinstr void asi_context_switch(struct task_struct *prev)
{
	if (asi_enabled() && asi_cpu_restricted())
		__asi_switch_to_full(ASI_EXIT_CONTEXT_SWITCH);
}

/**
 * asi_idle_halt() - halt in Idle-ASI
 *
 * Called by the idle loop instead of the architecture's idle routine,
 * with interrupts off and RCU not watching. Halts the CPU in Idle-ASI
 * (asi_arch_halt(), which touches no memory) when the architecture's own
 * routine would halt anyway (asi_arch_idle_allowed()), or when the
 * sibling stun needs this CPU safe while it idles (asi_idle_must_halt());
 * see mm/asi/idle.c.
 *
 * Return: false, and nothing done, when the caller must idle its own way.
 */
noinstr bool asi_idle_halt(void)
{
	struct asi *asi = READ_ONCE(asi_idle_asi);

	if (!asi_enabled() || !asi || READ_ONCE(asi_disabled_by_warn))
		return false;
	if (current->asi.mapped_stack != current->stack ||
	    current->asi.mapped_gen != asi->generation)
		return false;
	if (!asi_arch_idle_allowed() && !asi_idle_must_halt())
		return false;
	current->asi.target = asi;
	__asi_switch_to_restricted(asi);
	asi_arch_halt();
	if (asi_cpu_restricted())
		__asi_switch_to_full(ASI_EXIT_EXPLICIT);
	this_cpu_write(asi_cpu_page.cpu.curr, NULL);
	asi_arch_current()->asi.target = NULL;
	return true;
}

static int __init asi_init(void)
{
	int err;

	if (!asi_boot_enabled)
		return 0;

	err = asi_arch_init();
	if (!err)
		err = asi_module_init();
	if (err) {
		/* Loudly: the admin asked for ASI and gets none. */
		pr_err("asi=on, but ASI could not start (%pe): running without it\n",
		       ERR_PTR(err));
		asi_boot_enabled = false;
		asi_arch_disable();
		return 0;
	}
	static_branch_enable(&asi_enabled_key);

	err = asi_idle_init();
	if (err)
		pr_warn("Idle-ASI not available (%d)\n", err);
	pr_info("enabled, %d classes available\n", ASI_MAX_CLASSES);
	return 0;
}
core_initcall(asi_init);
