// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the ASI core: the class registry, instance lifecycle and
 * the enter/exit state machine with its hooks. They need a kernel booted
 * with asi=on; see mm/asi/.kunitconfig for how to run them.
 */

#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/asi.h>
#include <linux/atomic.h>
#include <linux/cache.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/init.h>
#include <linux/irqflags.h>
#include <linux/mm.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/tracepoint.h>
#include <trace/events/asi.h>

#include "../internal.h"

/*
 * The hooks run restricted, so what they write must be mapped: a page
 * mapped in every restricted space at boot, found through a pointer in
 * read-only data (which is mapped too). Set before mark_rodata_ro().
 */
struct asi_test_hook_counts {
	atomic_t pre;
	atomic_t post;
	/* post - pre: 1 while restricted, 0 in the full address space. */
	atomic_t balance;
	atomic_t bad_order;
	/* asi_exit_nmi_in_exit(): 1 from pre_asi_exit to post_asi_enter. */
	atomic_t stunned;
	/* Make the next pre_asi_exit take a simulated NMI. */
	atomic_t nmi_armed;
};

static struct asi_test_hook_counts *asi_test_counts __ro_after_init;

static noinstr void asi_test_pre_exit(void)
{
	if (raw_atomic_dec_return(&asi_test_counts->balance) != 0)
		raw_atomic_inc(&asi_test_counts->bad_order);
	raw_atomic_inc(&asi_test_counts->pre);
}

static noinstr void asi_test_post_enter(void)
{
	if (raw_atomic_inc_return(&asi_test_counts->balance) != 1)
		raw_atomic_inc(&asi_test_counts->bad_order);
	raw_atomic_inc(&asi_test_counts->post);
}

static const struct asi_class_ops asi_test_ops = {
	.pre_asi_exit = asi_test_pre_exit,
	.post_asi_enter = asi_test_post_enter,
};

/*
 * Hooks that stand for a sibling stun: stunned from pre_asi_exit until
 * post_asi_enter. When armed, pre_asi_exit takes what an NMI landing
 * right there would run: the entry code's leave and, on its return, the
 * entry code's enter.
 */
static noinstr void asi_test_nest_pre_exit(void)
{
	unsigned long state;

	raw_atomic_set(&asi_test_counts->stunned, 1);
	raw_atomic_inc(&asi_test_counts->pre);
	if (raw_atomic_xchg(&asi_test_counts->nmi_armed, 0)) {
		state = __asi_intr_enter(ASI_EXIT_NMI);
		__asi_intr_exit(state);
	}
}

static noinstr void asi_test_nest_post_enter(void)
{
	raw_atomic_set(&asi_test_counts->stunned, 0);
	raw_atomic_inc(&asi_test_counts->post);
}

static const struct asi_class_ops asi_test_nest_ops = {
	.pre_asi_exit = asi_test_nest_pre_exit,
	.post_asi_enter = asi_test_nest_post_enter,
};

static const struct asi_class_ops asi_test_no_hooks;

/* Not kernel text: a hook that points here must be refused. */
static u8 asi_test_not_text[16];

static int __init asi_test_counts_init(void)
{
	void *page;

	if (!asi_enabled())
		return 0;
	/* Declared, as any nonsensitive memory must be: the audit checks. */
	page = (void *)get_zeroed_page(GFP_KERNEL | __GFP_GLOBAL_NONSENSITIVE);
	if (!page)
		return -ENOMEM;
	asi_test_counts = page;
	return 0;
}
late_initcall(asi_test_counts_init);

static int asi_core_test_init(struct kunit *test)
{
	if (!asi_enabled())
		KUNIT_FAIL(test, "ASI is off: boot with asi=on");
	if (!asi_test_counts)
		KUNIT_FAIL(test, "no hook counter page");
	return 0;
}

static void asi_test_unregister(void *class)
{
	asi_unregister_class(class);
}

static struct asi_class *asi_test_register(struct kunit *test, const char *name,
					   const struct asi_class_ops *ops)
{
	struct asi_class *class = asi_register_class(name, ops, 0);

	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(class), "register %s: %ld", name, PTR_ERR(class));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, asi_test_unregister,
							   class));
	return class;
}

static void asi_test_put(void *asi)
{
	asi_put(asi);
}

/* An instance of @class the current task may enter, put when the test ends. */
static struct asi *asi_test_instance(struct kunit *test, struct asi_class *class)
{
	struct asi *asi = asi_create(class, NULL);

	KUNIT_ASSERT_FALSE(test, IS_ERR(asi));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, asi_test_put, asi));
	KUNIT_ASSERT_EQ(test, asi_task_init(asi), 0);
	return asi;
}

static void asi_register_errors(struct kunit *test)
{
	struct asi_class_ops bad_ops = {
		.pre_asi_exit = (void (*)(void))asi_test_not_text,
	};

	KUNIT_EXPECT_EQ(test, PTR_ERR(asi_register_class(NULL, &asi_test_ops, 0)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(asi_register_class("", &asi_test_ops, 0)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(asi_register_class("a-name-that-is-too-long",
							 &asi_test_ops, 0)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(asi_register_class("test", NULL, 0)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(asi_register_class("test", &asi_test_ops, BIT(30))), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(asi_register_class("test", &bad_ops, 0)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(asi_register_class("idle", &asi_test_ops, 0)), -EEXIST);

	asi_test_register(test, "test", &asi_test_ops);
	KUNIT_EXPECT_EQ(test, PTR_ERR(asi_register_class("test", &asi_test_no_hooks, 0)),
			-EEXIST);

	KUNIT_EXPECT_EQ(test, asi_unregister_class(NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, asi_unregister_class(ERR_PTR(-EINVAL)), -EINVAL);
	KUNIT_EXPECT_EQ(test, asi_unregister_class((struct asi_class *)asi_test_not_text),
			-EINVAL);
}

static void asi_register_until_full(struct kunit *test)
{
	struct asi_class *class;
	char name[ASI_CLASS_NAME_LEN];
	int n = 0;

	for (;;) {
		snprintf(name, sizeof(name), "fill%d", n);
		class = asi_register_class(name, &asi_test_no_hooks, 0);
		if (IS_ERR(class))
			break;
		KUNIT_ASSERT_EQ(test, 0,
				kunit_add_action_or_reset(test, asi_test_unregister, class));
		n++;
		KUNIT_ASSERT_LE(test, n, ASI_MAX_CLASSES);
	}
	KUNIT_EXPECT_EQ(test, PTR_ERR(class), -ENOSPC);
	/* Idle takes one slot; every other one was ours. */
	KUNIT_EXPECT_EQ(test, n, ASI_MAX_CLASSES - 1);
	KUNIT_EXPECT_GE(test, n, 8);
}

static void asi_instance_lifecycle(struct kunit *test)
{
	struct asi_class *class = asi_test_register(test, "life", &asi_test_no_hooks);
	struct asi *asi, *asi2;

	asi = asi_create(class, test);
	KUNIT_ASSERT_FALSE(test, IS_ERR(asi));
	KUNIT_EXPECT_PTR_EQ(test, asi_owner(asi), (void *)test);
	KUNIT_EXPECT_PTR_EQ(test, asi_class_of(asi), class);
	KUNIT_EXPECT_EQ(test, atomic_read(&class->nr_instances), 1);

	asi2 = asi_create(class, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(asi2));
	KUNIT_EXPECT_EQ(test, atomic_read(&class->nr_instances), 2);
	KUNIT_EXPECT_NE(test, asi->generation, asi2->generation);

	/* A class with instances cannot go. */
	KUNIT_EXPECT_EQ(test, asi_unregister_class(class), -EBUSY);

	KUNIT_EXPECT_PTR_EQ(test, asi_get(asi), asi);
	asi_put(asi);
	KUNIT_EXPECT_EQ(test, atomic_read(&class->nr_instances), 2);
	asi_put(asi);
	asi_put(asi2);
	KUNIT_EXPECT_EQ(test, atomic_read(&class->nr_instances), 0);
	asi_put(NULL);

	KUNIT_EXPECT_EQ(test, asi_unregister_class(class), 0);
	KUNIT_EXPECT_EQ(test, asi_unregister_class(class), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(asi_create(class, NULL)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(asi_create(NULL, NULL)), -EINVAL);
	/* The deferred unregister now finds nothing to do. */
}

static int asi_test_fail_instance_init(struct asi *asi)
{
	return -ENOMEM;
}

static void asi_instance_alloc_failure(struct kunit *test)
{
	struct asi_class *class = asi_test_register(test, "nomem", &asi_test_no_hooks);

	kunit_activate_static_stub(test, asi_arch_instance_init,
				   asi_test_fail_instance_init);
	KUNIT_EXPECT_EQ(test, PTR_ERR(asi_create(class, NULL)), -ENOMEM);
	kunit_deactivate_static_stub(test, asi_arch_instance_init);

	KUNIT_EXPECT_EQ(test, atomic_read(&class->nr_instances), 0);
	KUNIT_EXPECT_EQ(test, asi_unregister_class(class), 0);
	class = asi_test_register(test, "nomem", &asi_test_no_hooks);
}

/* A class's enters (@reason < 0) or exits for @reason, over all CPUs. */
static u64 asi_test_sum(unsigned int class_id, int reason)
{
	struct asi_stats sum;

	asi_stats_sum(class_id, &sum);
	return reason < 0 ? sum.enters : sum.exits[reason];
}

static void asi_enter_exit_hooks(struct kunit *test)
{
	struct asi_class *class = asi_test_register(test, "hooks", &asi_test_ops);
	struct asi *asi = asi_test_instance(test, class);
	int pre, post, enters, exits, bad;
	bool restricted, nested;
	unsigned long flags;

	pre = atomic_read(&asi_test_counts->pre);
	post = atomic_read(&asi_test_counts->post);
	bad = atomic_read(&asi_test_counts->bad_order);
	enters = asi_test_sum(class->id, -1);
	exits = asi_test_sum(class->id, ASI_EXIT_EXPLICIT);

	local_irq_save(flags);
	asi_enter(asi);
	restricted = asi_is_restricted();
	/* Entering again is a no-op: no second transition, no hook. */
	asi_enter(asi);
	nested = asi_current() == asi;
	asi_exit();
	local_irq_restore(flags);

	KUNIT_EXPECT_TRUE(test, restricted);
	KUNIT_EXPECT_TRUE(test, nested);
	KUNIT_EXPECT_FALSE(test, asi_is_restricted());
	KUNIT_EXPECT_NULL(test, asi_current());
	KUNIT_EXPECT_NULL(test, asi_target());
	KUNIT_EXPECT_EQ(test, atomic_read(&asi_test_counts->post) - post, 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&asi_test_counts->pre) - pre, 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&asi_test_counts->bad_order), bad);
	KUNIT_EXPECT_EQ(test, asi_test_sum(class->id, -1) - enters, 1);
	KUNIT_EXPECT_EQ(test, asi_test_sum(class->id, ASI_EXIT_EXPLICIT) - exits, 1);

	/* Leaving when not restricted does nothing. */
	local_irq_save(flags);
	asi_exit();
	local_irq_restore(flags);
	KUNIT_EXPECT_EQ(test, atomic_read(&asi_test_counts->pre) - pre, 1);
}

/*
 * An NMI between an exit's pre_asi_exit hook and its CR3 write leaves
 * with an exit of its own, and its return must not enter again: that
 * would run post_asi_enter (and unstun a sibling) while the interrupted
 * exit goes on to the full address space.
 */
static void asi_exit_nmi_in_exit(struct kunit *test)
{
	struct asi_class *class = asi_test_register(test, "nest", &asi_test_nest_ops);
	struct asi *asi = asi_test_instance(test, class);
	int pre, post, nmi_exits;
	unsigned long flags;

	pre = atomic_read(&asi_test_counts->pre);
	post = atomic_read(&asi_test_counts->post);
	nmi_exits = asi_test_sum(class->id, ASI_EXIT_NMI);

	local_irq_save(flags);
	asi_enter(asi);
	atomic_set(&asi_test_counts->nmi_armed, 1);
	asi_exit();
	local_irq_restore(flags);

	KUNIT_EXPECT_EQ(test, atomic_read(&asi_test_counts->nmi_armed), 0);
	KUNIT_EXPECT_EQ(test, asi_test_sum(class->id, ASI_EXIT_NMI) - nmi_exits, 1);
	/* The exit, and the NMI's exit in it; one enter, asi_enter()'s. */
	KUNIT_EXPECT_EQ(test, atomic_read(&asi_test_counts->pre) - pre, 2);
	KUNIT_EXPECT_EQ(test, atomic_read(&asi_test_counts->post) - post, 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&asi_test_counts->stunned), 1);
	KUNIT_EXPECT_FALSE(test, asi_is_restricted());
	KUNIT_EXPECT_NULL(test, asi_current());
	KUNIT_EXPECT_NULL(test, asi_target());
}

/*
 * The exit record a client reads while restricted: an enter and a no-op
 * re-enter count one CPU enter, the explicit exit is the record's one
 * exit, taking resets it, and with no record nothing is counted.
 */
static void asi_exit_record(struct kunit *test)
{
	struct asi_class *class = asi_test_register(test, "record", &asi_test_no_hooks);
	struct asi *asi = asi_create(class, NULL);
	unsigned long e0, e1, e2, inside, after, again, flags;
	struct asi_exit_record rec, out = { };

	KUNIT_ASSERT_FALSE(test, IS_ERR(asi));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, asi_test_put, asi));
	KUNIT_ASSERT_EQ(test, asi_task_init(asi), 0);

	asi_record_exits(&rec);
	local_irq_save(flags);
	e0 = asi_cpu_enters();
	asi_enter(asi);
	e1 = asi_cpu_enters();
	asi_enter(asi);
	e2 = asi_cpu_enters();
	/* On this task's stack, which every restricted space maps. */
	inside = asi_take_exits(&rec, &out);
	asi_exit();
	after = asi_take_exits(&rec, &out);
	local_irq_restore(flags);
	KUNIT_EXPECT_EQ(test, e1 - e0, 1);
	KUNIT_EXPECT_EQ(test, e2, e1);
	KUNIT_EXPECT_EQ(test, inside, 0);
	KUNIT_EXPECT_EQ(test, after, 1);
	KUNIT_EXPECT_EQ(test, out.nr, 1);
	KUNIT_EXPECT_EQ(test, out.first, ASI_EXIT_EXPLICIT);
	KUNIT_EXPECT_EQ(test, out.fault_ip, 0);
	again = asi_take_exits(&rec, &out);
	KUNIT_EXPECT_EQ(test, again, 0);

	asi_record_exits(NULL);
	KUNIT_EXPECT_NULL(test, current->asi.record);
	local_irq_save(flags);
	asi_enter(asi);
	asi_exit();
	local_irq_restore(flags);
	KUNIT_EXPECT_EQ(test, rec.nr, 0);
}

static void asi_enter_other_instance(struct kunit *test)
{
	struct asi_class *class = asi_test_register(test, "switch", &asi_test_ops);
	struct asi *a = asi_create(class, NULL), *b = asi_create(class, NULL);
	int pre, post;
	struct asi *in_b;
	unsigned long flags;

	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, asi_test_put, a));
	KUNIT_ASSERT_FALSE(test, IS_ERR(b));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, asi_test_put, b));

	pre = atomic_read(&asi_test_counts->pre);
	post = atomic_read(&asi_test_counts->post);
	KUNIT_ASSERT_EQ(test, asi_task_init(a), 0);
	local_irq_save(flags);
	asi_enter(a);
	asi_exit();
	local_irq_restore(flags);
	/* The task's stack is local to one instance: it moves to b. */
	KUNIT_ASSERT_EQ(test, asi_task_init(b), 0);
	KUNIT_EXPECT_TRUE(test, asi_maps(b, task_stack_page(current)));
	KUNIT_EXPECT_FALSE(test, asi_maps(a, task_stack_page(current)));
	local_irq_save(flags);
	asi_enter(b);
	in_b = asi_current();
	asi_exit();
	local_irq_restore(flags);

	KUNIT_EXPECT_PTR_EQ(test, in_b, b);
	KUNIT_EXPECT_EQ(test, atomic_read(&asi_test_counts->post) - post, 2);
	KUNIT_EXPECT_EQ(test, atomic_read(&asi_test_counts->pre) - pre, 2);
}

/*
 * The safety valve: an inconsistency (here, entering a NULL instance)
 * switches ASI off with one message instead of crashing; asi_enter() then
 * enters nothing. The test switches it back on for the cases after it.
 */
static void asi_safety_valve(struct kunit *test)
{
	struct asi_class *class = asi_test_register(test, "valve", &asi_test_no_hooks);
	struct asi *asi = asi_create(class, NULL);
	bool refused_restricted, rearmed_restricted;
	unsigned long flags;

	KUNIT_ASSERT_FALSE(test, IS_ERR(asi));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, asi_test_put, asi));
	KUNIT_ASSERT_EQ(test, asi_task_init(asi), 0);
	KUNIT_ASSERT_FALSE(test, READ_ONCE(asi_disabled_by_warn));

	local_irq_save(flags);
	asi_enter(NULL);
	asi_enter(asi);
	refused_restricted = asi_is_restricted();
	asi_exit();
	local_irq_restore(flags);
	KUNIT_EXPECT_TRUE(test, READ_ONCE(asi_disabled_by_warn));
	KUNIT_EXPECT_FALSE(test, refused_restricted);

	WRITE_ONCE(asi_disabled_by_warn, false);
	local_irq_save(flags);
	asi_enter(asi);
	rearmed_restricted = asi_is_restricted();
	asi_exit();
	local_irq_restore(flags);
	KUNIT_EXPECT_TRUE(test, rearmed_restricted);
}

/* What the asi_enter and asi_exit tracepoints reported for one class. */
struct asi_test_trace {
	unsigned int class_id;
	int enters;
	int exits;
	unsigned int last_reason;
	bool name_ok;
	const char *name;
};

static void asi_test_trace_enter(void *data, const char *class, unsigned int class_id)
{
	struct asi_test_trace *t = data;

	if (class_id != t->class_id)
		return;
	t->enters++;
	t->name_ok = !strcmp(class, t->name);
}

static void asi_test_trace_exit(void *data, const char *class, unsigned int reason)
{
	struct asi_test_trace *t = data;

	if (strcmp(class, t->name))
		return;
	t->exits++;
	t->last_reason = reason;
}

/*
 * The tracepoints: an explicit enter and exit, then an exit by an ASI
 * fault on a sensitive buffer (after which asi_exit() has nothing to do
 * and traces nothing).
 */
static void asi_tracepoints(struct kunit *test)
{
	struct asi_class *class = asi_test_register(test, "traced", &asi_test_no_hooks);
	struct asi *asi = asi_create(class, NULL);
	struct asi_test_trace t = { .class_id = class->id, .name = "traced" };
	unsigned long flags, *buf;

	KUNIT_ASSERT_FALSE(test, IS_ERR(asi));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, asi_test_put, asi));
	KUNIT_ASSERT_EQ(test, asi_task_init(asi), 0);
	buf = kunit_kzalloc(test, sizeof(*buf), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_EQ(test, register_trace_asi_enter(asi_test_trace_enter, &t), 0);
	KUNIT_ASSERT_EQ(test, register_trace_asi_exit(asi_test_trace_exit, &t), 0);

	local_irq_save(flags);
	asi_enter(asi);
	asi_exit();
	local_irq_restore(flags);
	KUNIT_EXPECT_EQ(test, t.enters, 1);
	KUNIT_EXPECT_TRUE(test, t.name_ok);
	KUNIT_EXPECT_EQ(test, t.exits, 1);
	KUNIT_EXPECT_EQ(test, t.last_reason, ASI_EXIT_EXPLICIT);

	local_irq_save(flags);
	asi_enter(asi);
	READ_ONCE(*buf);
	asi_exit();
	local_irq_restore(flags);

	unregister_trace_asi_exit(asi_test_trace_exit, &t);
	unregister_trace_asi_enter(asi_test_trace_enter, &t);
	tracepoint_synchronize_unregister();
	KUNIT_EXPECT_EQ(test, t.enters, 2);
	KUNIT_EXPECT_EQ(test, t.exits, 2);
	KUNIT_EXPECT_EQ(test, t.last_reason, ASI_EXIT_FAULT);
}

static struct kunit_case asi_core_cases[] = {
	KUNIT_CASE(asi_register_errors),
	KUNIT_CASE(asi_register_until_full),
	KUNIT_CASE(asi_instance_lifecycle),
	KUNIT_CASE(asi_instance_alloc_failure),
	KUNIT_CASE(asi_enter_exit_hooks),
	KUNIT_CASE(asi_exit_nmi_in_exit),
	KUNIT_CASE(asi_exit_record),
	KUNIT_CASE(asi_enter_other_instance),
	KUNIT_CASE(asi_safety_valve),
	KUNIT_CASE(asi_tracepoints),
	{}
};

static struct kunit_suite asi_core_suite = {
	.name = "asi_core",
	.init = asi_core_test_init,
	.test_cases = asi_core_cases,
};

kunit_test_suite(asi_core_suite);

MODULE_DESCRIPTION("KUnit tests for the Address Space Isolation core");
MODULE_LICENSE("GPL");
