// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/asi/: counters and state, for people. Nothing here is
 * an ABI; tests read it to check what the code did.
 *
 *   classes  one line per registered class: enters, exits by reason,
 *            ASI faults and faults inside a critical section, summed
 *            over the CPUs
 *   cpus     one line per CPU: the instance it is in, its class, its
 *            critical-section depth
 *   faults   the last ASI_FAULT_LOG_SIZE ASI faults, oldest first
 */

#include <linux/asi.h>
#include <linux/debugfs.h>
#include <linux/init.h>
#include <linux/seq_file.h>

#include "internal.h"

static int asi_classes_show(struct seq_file *m, void *v)
{
	int i, r;

	seq_puts(m, "class enters");
	for (r = 0; r < ASI_EXIT_NR; r++)
		seq_printf(m, " exit_%s", asi_exit_reason_names[r]);
	seq_puts(m, " faults critical_faults instances\n");

	mutex_lock(&asi_class_lock);
	for (i = 0; i < ASI_MAX_CLASSES; i++) {
		struct asi_class *class = &asi_classes[i];
		struct asi_stats sum;

		if (!class->registered)
			continue;
		asi_stats_sum(i, &sum);
		seq_printf(m, "%s %llu", class->name, sum.enters);
		for (r = 0; r < ASI_EXIT_NR; r++)
			seq_printf(m, " %llu", sum.exits[r]);
		seq_printf(m, " %llu %llu %d\n", sum.faults, sum.critical_faults,
			   atomic_read(&class->nr_instances));
	}
	mutex_unlock(&asi_class_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(asi_classes);

static int asi_cpus_show(struct seq_file *m, void *v)
{
	int cpu;

	seq_puts(m, "cpu class critical\n");
	for_each_possible_cpu(cpu) {
		struct asi_cpu *c = &per_cpu(asi_cpu_page, cpu).cpu;
		struct asi *curr = READ_ONCE(c->curr);

		seq_printf(m, "%d %s %u\n", cpu,
			   curr ? asi_classes[READ_ONCE(c->class_id)].name : "-",
			   READ_ONCE(c->critical));
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(asi_cpus);

static int asi_faults_show(struct seq_file *m, void *v)
{
	unsigned int i, next, first;

	spin_lock_irq(&asi_fault_log_lock);
	next = asi_fault_records_next;
	first = next > ASI_FAULT_LOG_SIZE ? next - ASI_FAULT_LOG_SIZE : 0;
	seq_puts(m, "class cpu address ip critical\n");
	for (i = first; i < next; i++) {
		struct asi_fault_record *r = &asi_fault_records[i % ASI_FAULT_LOG_SIZE];

		seq_printf(m, "%s %d 0x%lx %pS %d\n",
			   asi_classes[r->class_id].name, r->cpu, r->address,
			   (void *)r->ip, r->critical);
	}
	spin_unlock_irq(&asi_fault_log_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(asi_faults);

struct dentry *asi_debugfs_dir;

/* debugfs itself comes up at core_initcall, after mm/asi's own. */
static int __init asi_debugfs_init(void)
{
	struct dentry *dir;

	if (!static_key_enabled(&asi_enabled_key))
		return 0;
	dir = debugfs_create_dir("asi", NULL);
	asi_debugfs_dir = dir;

	debugfs_create_file("classes", 0444, dir, NULL, &asi_classes_fops);
	debugfs_create_file("cpus", 0444, dir, NULL, &asi_cpus_fops);
	debugfs_create_file("faults", 0444, dir, NULL, &asi_faults_fops);
	return 0;
}
late_initcall(asi_debugfs_init);
