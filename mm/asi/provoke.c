// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/asi/provoke_critical_fault: make the current task
 * touch a sensitive buffer inside an ASI critical section, the bug that
 * CONFIG_ADDRESS_SPACE_ISOLATION_DEBUG turns into a warning. Like LKDTM,
 * it exists so that a test can check the warning really comes; the
 * access itself succeeds after the ASI exit.
 *
 * /sys/kernel/debug/asi/fail_register (fault injection, see
 * Documentation/fault-injection/fault-injection.rst): make
 * asi_register_class() fail as if every class slot were taken, so that a
 * test can check what a client does without its class.
 *
 * /sys/kernel/debug/asi/fail_core_cookie (fault injection): make the
 * allocation of an instance's core-scheduling cookie fail, so that a
 * test can check what a class does with an instance that has none.
 *
 * /sys/kernel/debug/asi/fail_module_map (fault injection): make the
 * mapping of a module's nonsensitive data fail as if a page table could
 * not be allocated, after its text and read-only data were mapped, so
 * that a test can check the module does not load and leaves nothing
 * mapped.
 */

#include <linux/asi.h>
#include <linux/debugfs.h>
#include <linux/fault-inject.h>
#include <linux/init.h>
#include <linux/irqflags.h>
#include <linux/slab.h>

#include "internal.h"

static const struct asi_class_ops asi_provoke_ops;
static struct asi *asi_provoke_asi;
static DEFINE_MUTEX(asi_provoke_lock);

static int asi_provoke_set(void *data, u64 val)
{
	struct asi_class *class;
	unsigned long flags;
	u64 *buf;
	int err;

	if (val != 1)
		return -EINVAL;

	mutex_lock(&asi_provoke_lock);
	if (!asi_provoke_asi) {
		class = asi_register_class("provoke", &asi_provoke_ops, 0);
		err = PTR_ERR_OR_ZERO(class);
		if (!err) {
			asi_provoke_asi = asi_create(class, NULL);
			err = PTR_ERR_OR_ZERO(asi_provoke_asi);
			if (err) {
				asi_provoke_asi = NULL;
				asi_unregister_class(class);
			}
		}
		if (err)
			goto out;
	}
	err = asi_task_init(asi_provoke_asi);
	if (err)
		goto out;
	buf = kzalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}

	local_irq_save(flags);
	asi_enter(asi_provoke_asi);
	asi_critical_begin();
	READ_ONCE(*buf);
	asi_critical_end();
	asi_exit();
	local_irq_restore(flags);
	kfree(buf);
out:
	mutex_unlock(&asi_provoke_lock);
	return err;
}
DEFINE_DEBUGFS_ATTRIBUTE(asi_provoke_fops, NULL, asi_provoke_set, "%llu\n");

#ifdef CONFIG_FAULT_INJECTION
static DECLARE_FAULT_ATTR(asi_fail_register_attr);
static DECLARE_FAULT_ATTR(asi_fail_module_map_attr);
static DECLARE_FAULT_ATTR(asi_fail_core_cookie_attr);

bool asi_fail_register(void)
{
	return should_fail(&asi_fail_register_attr, 1);
}

bool asi_fail_module_map(void)
{
	return should_fail(&asi_fail_module_map_attr, 1);
}

bool asi_fail_core_cookie(void)
{
	return should_fail(&asi_fail_core_cookie_attr, 1);
}
#endif

/* After asi_debugfs_init(), a late_initcall. */
static int __init asi_provoke_init(void)
{
	if (!asi_debugfs_dir)
		return 0;
	debugfs_create_file_unsafe("provoke_critical_fault", 0200,
				   asi_debugfs_dir, NULL, &asi_provoke_fops);
#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
	fault_create_debugfs_attr("fail_register", asi_debugfs_dir,
				  &asi_fail_register_attr);
	fault_create_debugfs_attr("fail_module_map", asi_debugfs_dir,
				  &asi_fail_module_map_attr);
	fault_create_debugfs_attr("fail_core_cookie", asi_debugfs_dir,
				  &asi_fail_core_cookie_attr);
#endif
	return 0;
}
late_initcall_sync(asi_provoke_init);
