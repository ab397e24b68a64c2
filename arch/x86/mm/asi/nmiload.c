// SPDX-License-Identifier: GPL-2.0
/*
 * NMIs on demand, for tests that must show what ASI's transitions and
 * the sibling stun do when an NMI lands anywhere, also in a guest:
 *
 *   echo 2000 > /sys/kernel/debug/asi/nmi_load	# 2000 rounds
 *   cat /sys/kernel/debug/asi/nmi_load		# NMIs sent and taken
 *
 * Each round sends an NMI to every other online CPU that took the last
 * one, then sleeps 100 to 200 us. The write returns once the rounds are done, or early on a
 * signal. The NMIs are claimed by a handler of their own, so they are
 * not reported as unknown.
 */

#define pr_fmt(fmt) "asi: " fmt

#include <linux/asi.h>
#include <linux/atomic.h>
#include <linux/cpu.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/init.h>
#include <linux/nmi.h>
#include <linux/sched/signal.h>
#include <asm/apic.h>

#include "../../../../mm/asi/internal.h"

#define ASI_NMI_LOAD_MAX_ROUNDS	10000000UL

static DEFINE_PER_CPU(bool, asi_nmi_load_pending);
static atomic_long_t asi_nmi_load_sent, asi_nmi_load_taken;

static int asi_nmi_load_handler(unsigned int cmd, struct pt_regs *regs)
{
	if (!this_cpu_read(asi_nmi_load_pending))
		return NMI_DONE;
	this_cpu_write(asi_nmi_load_pending, false);
	atomic_long_inc(&asi_nmi_load_taken);
	return NMI_HANDLED;
}

static void asi_nmi_load_round(void)
{
	int cpu, self;

	cpus_read_lock();
	self = get_cpu();
	for_each_online_cpu(cpu) {
		/* One at a time: a second one could merge with it, unclaimed. */
		if (cpu == self || READ_ONCE(per_cpu(asi_nmi_load_pending, cpu)))
			continue;
		WRITE_ONCE(per_cpu(asi_nmi_load_pending, cpu), true);
		__apic_send_IPI(cpu, NMI_VECTOR);
		atomic_long_inc(&asi_nmi_load_sent);
	}
	put_cpu();
	cpus_read_unlock();
}

static ssize_t asi_nmi_load_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	unsigned long rounds, i;
	int err;

	err = kstrtoul_from_user(ubuf, count, 0, &rounds);
	if (err)
		return err;
	if (rounds > ASI_NMI_LOAD_MAX_ROUNDS)
		return -EINVAL;
	for (i = 0; i < rounds && !signal_pending(current); i++) {
		asi_nmi_load_round();
		usleep_range(100, 200);
	}
	return count;
}

static int asi_nmi_load_show(struct seq_file *m, void *v)
{
	seq_printf(m, "sent: %ld\ntaken: %ld\n", atomic_long_read(&asi_nmi_load_sent),
		   atomic_long_read(&asi_nmi_load_taken));
	return 0;
}

static int asi_nmi_load_open(struct inode *inode, struct file *file)
{
	return single_open(file, asi_nmi_load_show, NULL);
}

static const struct file_operations asi_nmi_load_fops = {
	.owner = THIS_MODULE,
	.open = asi_nmi_load_open,
	.read = seq_read,
	.write = asi_nmi_load_write,
	.llseek = seq_lseek,
	.release = single_release,
};

/* After asi_debugfs_init(), a late_initcall. */
static int __init asi_nmi_load_init(void)
{
	int err;

	if (!asi_debugfs_dir)
		return 0;
	err = register_nmi_handler(NMI_LOCAL, asi_nmi_load_handler, 0, "asi_nmi_load");
	if (err) {
		pr_err("no nmi_load in debugfs: cannot register its NMI handler (%d)\n", err);
		return 0;
	}
	debugfs_create_file("nmi_load", 0600, asi_debugfs_dir, NULL, &asi_nmi_load_fops);
	return 0;
}
late_initcall_sync(asi_nmi_load_init);
