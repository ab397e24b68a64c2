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
 *   faults   the last ASI_FAULT_LOG_SIZE ASI faults of each CPU, oldest first
 *   memory   nonsensitive memory: pages and bytes mapped in every
 *            instance and local to one, freed pages waiting for their TLB
 *            flush, flushes done (of every CPU, and of only the CPUs in
 *            an instance, with the CPUs these interrupted), allocations
 *            failed for want of a page table, and the page-table pages
 *            of the global template
 *   instances/CLASS-GENERATION/, one directory per instance:
 *     memory the pages and bytes local to it, its own page-table pages
 *     audit  every range its restricted page table maps and why, each
 *            violation of the rules marked, and their count last
 */

#include <linux/asi.h>
#include <linux/debugfs.h>
#include <linux/init.h>
#include <linux/kstrtox.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>

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
	struct asi_fault_record r;
	unsigned int i, next;
	int cpu;

	seq_puts(m, "class cpu address ip critical\n");
	for_each_possible_cpu(cpu) {
		next = READ_ONCE(per_cpu(asi_fault_log, cpu).next);
		i = next > ASI_FAULT_LOG_SIZE ? next - ASI_FAULT_LOG_SIZE : 0;
		for (; i < next; i++) {
			if (!asi_fault_log_read(cpu, i, &r))
				continue;
			seq_printf(m, "%s %d 0x%lx %pS %d\n",
				   asi_classes[r.class_id].name, r.cpu, r.address,
				   (void *)r.ip, r.critical);
		}
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(asi_faults);

static int asi_memory_show(struct seq_file *m, void *v)
{
	long global = asi_arch_global_pages();
	long local = asi_arch_local_pages(NULL);

	seq_printf(m, "global_pages %ld\n", global);
	seq_printf(m, "global_bytes %ld\n", global * PAGE_SIZE);
	seq_printf(m, "local_pages %ld\n", local);
	seq_printf(m, "local_bytes %ld\n", local * PAGE_SIZE);
	seq_printf(m, "pooled_pages %ld\n", atomic_long_read(&asi_ns_stats.pooled));
	seq_printf(m, "pool_reuses %ld\n", atomic_long_read(&asi_ns_stats.reused));
	seq_printf(m, "frees_pending %ld\n", atomic_long_read(&asi_ns_stats.frees_pending));
	seq_printf(m, "flushes %ld\n", atomic_long_read(&asi_ns_stats.flushes));
	seq_printf(m, "local_flushes %ld\n", atomic_long_read(&asi_ns_stats.local_flushes));
	seq_printf(m, "local_flush_cpus %ld\n",
		   atomic_long_read(&asi_ns_stats.local_flush_cpus));
	seq_printf(m, "map_failures %ld\n", atomic_long_read(&asi_ns_stats.map_failures));
	seq_printf(m, "table_pages %ld\n", asi_arch_table_pages());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(asi_memory);

static int asi_instance_memory_show(struct seq_file *m, void *v)
{
	struct asi *asi = m->private;
	long local = asi_arch_local_pages(asi);

	seq_printf(m, "local_pages %ld\n", local);
	seq_printf(m, "local_bytes %ld\n", local * PAGE_SIZE);
	seq_printf(m, "table_pages %ld\n", asi_arch_private_tables(asi));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(asi_instance_memory);

static int asi_instance_audit_show(struct seq_file *m, void *v)
{
	unsigned int violations;
	long pages;

	pages = asi_arch_audit(m->private, m, &violations);
	seq_printf(m, "pages %ld violations %u\n", pages, violations);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(asi_instance_audit);

struct dentry *asi_debugfs_dir;
static struct dentry *asi_debugfs_instances;

/* Called by asi_create(), and at init for the instances made before. */
void asi_debugfs_add_instance(struct asi *asi)
{
	char name[ASI_CLASS_NAME_LEN + 24];

	if (!asi_debugfs_instances)
		return;
	snprintf(name, sizeof(name), "%s-%llu", asi->class->name, asi->generation);
	asi->debugfs = debugfs_create_dir(name, asi_debugfs_instances);
	debugfs_create_file("memory", 0444, asi->debugfs, asi, &asi_instance_memory_fops);
	debugfs_create_file("audit", 0400, asi->debugfs, asi, &asi_instance_audit_fops);
	asi_debugfs_add_scan(asi);
}

/*
 * Benchmark files (not tests), and the fault-injection exercise: writing
 * an iteration count runs it, reading shows the figures of the last run.
 */
struct asi_bench_file {
	asi_bench_fn run;
	struct mutex lock;	/* one run at a time, and the result */
	char result[2048];
};

static int asi_bench_show(struct seq_file *m, void *v)
{
	struct asi_bench_file *b = m->private;

	mutex_lock(&b->lock);
	seq_puts(m, b->result);
	mutex_unlock(&b->lock);
	return 0;
}

static int asi_bench_open(struct inode *inode, struct file *file)
{
	return single_open(file, asi_bench_show, inode->i_private);
}

static ssize_t asi_bench_write(struct file *file, const char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	struct asi_bench_file *b = ((struct seq_file *)file->private_data)->private;
	unsigned long n;
	int err;

	err = kstrtoul_from_user(ubuf, count, 0, &n);
	if (err)
		return err;
	if (!n || n > 10000000)
		return -EINVAL;
	mutex_lock(&b->lock);
	err = b->run(n, b->result, sizeof(b->result));
	mutex_unlock(&b->lock);
	return err ? err : count;
}

static const struct file_operations asi_bench_fops = {
	.owner = THIS_MODULE,
	.open = asi_bench_open,
	.read = seq_read,
	.write = asi_bench_write,
	.llseek = seq_lseek,
	.release = single_release,
};

/**
 * asi_debugfs_bench() - add a benchmark file to /sys/kernel/debug/asi/
 * @name: the file name
 * @run: runs the benchmark (or exercise) @n times and formats its figures
 *	into @buf
 *
 * Call from a late_initcall_sync(), once the directory exists.
 */
void __init asi_debugfs_bench(const char *name, asi_bench_fn run)
{
	struct asi_bench_file *b;

	if (!asi_debugfs_dir)
		return;
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return;
	b->run = run;
	mutex_init(&b->lock);
	strscpy(b->result, "no run yet: write an iteration count\n");
	debugfs_create_file(name, 0600, asi_debugfs_dir, b, &asi_bench_fops);
}

/* debugfs itself comes up at core_initcall, after mm/asi's own. */
static int __init asi_debugfs_init(void)
{
	struct dentry *dir;
	struct asi *asi;

	if (!static_key_enabled(&asi_enabled_key))
		return 0;
	dir = debugfs_create_dir("asi", NULL);
	asi_debugfs_dir = dir;

	debugfs_create_file("classes", 0444, dir, NULL, &asi_classes_fops);
	debugfs_create_file("cpus", 0444, dir, NULL, &asi_cpus_fops);
	debugfs_create_file("faults", 0444, dir, NULL, &asi_faults_fops);
	debugfs_create_file("memory", 0444, dir, NULL, &asi_memory_fops);

	mutex_lock(&asi_class_lock);
	asi_debugfs_instances = debugfs_create_dir("instances", dir);
	list_for_each_entry(asi, &asi_instances, node)
		asi_debugfs_add_instance(asi);
	mutex_unlock(&asi_class_lock);
	return 0;
}
late_initcall(asi_debugfs_init);
