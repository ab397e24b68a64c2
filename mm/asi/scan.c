// SPDX-License-Identifier: GPL-2.0
/*
 * Address Space Isolation: the secret scanner, a debugging aid.
 *
 * The audit (asi_audit()) checks where every page an instance maps came
 * from; the scanner checks what those pages hold. A test plants patterns
 * where secrets live, then writes them to the instance's debugfs file
 * "scan": every page the instance maps is read through its physical
 * address and searched for them. A pattern found is memory of someone
 * else that the instance exposes. Reading the file gives, per pattern,
 * the hits and the first address found, and how many bytes the instance
 * maps in all: shared by every instance, and local to it.
 *
 * Patterns are 16 bytes, 4-byte aligned where they are planted, and all
 * share their first 8 bytes, which makes the search one compare per
 * 4-byte step.
 * The file's own copy of them is not mapped by any instance.
 *
 * Written as lines, each either "pid <pid>", to also search that task's
 * stack (to show that a pattern a test left there by a system call is
 * really there), or 32 hex digits, one pattern.
 *
 * /sys/kernel/debug/asi/scan_plant plants patterns where a test cannot
 * from user space, one line each: "kmalloc <pattern>" and "vmalloc
 * <pattern>" (plain, sensitive buffers), "percpu <cpu> <pattern>" (a
 * CPU's copy of ordinary per-CPU data), "reused <pattern>" (a page that
 * held it, freed and allocated again at once as globally nonsensitive
 * pages, which must come zeroed), "control <pattern>" (a page allocated
 * globally nonsensitive: the one pattern every instance must show), and
 * "clear", which frees them all.
 */

#define pr_fmt(fmt) "asi: " fmt

#include <linux/asi.h>
#include <linux/debugfs.h>
#include <linux/hex.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/unaligned.h>
#include <linux/vmalloc.h>

#include "internal.h"

#define ASI_SCAN_MAX_INPUT	1024

static DEFINE_MUTEX(asi_scan_lock);	/* one scan at a time, and its result */
static char asi_scan_result[2048];

/*
 * Search the page copied to @s->buf + ASI_SCAN_TAIL; @va is where it is
 * mapped, for the report. The ASI_SCAN_TAIL bytes before it hold the end
 * of the page searched before, if that one is mapped right below, so
 * that a pattern across the two is found too. Patterns are searched at
 * every 4-byte boundary: the kernel copies some arrays of 32-bit fields.
 */
void asi_scan_page(struct asi_scan *s, unsigned long va)
{
	u8 *b = s->buf;
	unsigned int off, p;

	if (va != s->next_va)
		memset(b, 0, ASI_SCAN_TAIL);
	for (off = 4; off <= PAGE_SIZE; off += 4) {
		if (get_unaligned((u64 *)(b + off)) != s->pat[0][0])
			continue;
		for (p = 0; p < s->nr; p++)
			if (get_unaligned((u64 *)(b + off + 8)) == s->pat[p][1] &&
			    !s->hits[p]++)
				s->first[p] = va - ASI_SCAN_TAIL + off;
	}
	memcpy(b, b + PAGE_SIZE, ASI_SCAN_TAIL);
	s->next_va = va + PAGE_SIZE;
	s->pages++;
}

/* Search a task's stack, which the scanner reads in the full kernel. */
static int asi_scan_task_stack(struct asi_scan *s, pid_t nr)
{
	struct task_struct *tsk;
	struct pid *pid;
	void *stack;
	int i, err = 0;

	pid = find_get_pid(nr);
	tsk = get_pid_task(pid, PIDTYPE_PID);
	put_pid(pid);
	if (!tsk)
		return -ESRCH;
	stack = try_get_task_stack(tsk);
	if (!stack) {
		put_task_struct(tsk);
		return -ESRCH;
	}
	for (i = 0; i < THREAD_SIZE / PAGE_SIZE && !err; i++) {
		if (copy_from_kernel_nofault(s->buf + ASI_SCAN_TAIL,
					     stack + i * PAGE_SIZE, PAGE_SIZE))
			err = -EFAULT;
		else
			asi_scan_page(s, (unsigned long)stack + i * PAGE_SIZE);
	}
	put_task_stack(tsk);
	put_task_struct(tsk);
	return err;
}

static int asi_scan_parse(struct asi_scan *s, char *in, pid_t *pid)
{
	unsigned int i;
	char *line;

	while ((line = strsep(&in, "\n"))) {
		line = strim(line);
		if (!*line)
			continue;
		if (!strncmp(line, "pid ", 4)) {
			if (kstrtoint(line + 4, 10, pid) || *pid <= 0)
				return -EINVAL;
			continue;
		}
		if (s->nr == ASI_SCAN_MAX_PATTERNS || strlen(line) != 32 ||
		    hex2bin((u8 *)s->pat[s->nr], line, 16))
			return -EINVAL;
		s->nr++;
	}
	if (!s->nr || !s->pat[0][0])
		return -EINVAL;
	/* The patterns share their first word; none ends in a zero word. */
	for (i = 0; i < s->nr; i++)
		if (s->pat[i][0] != s->pat[0][0] || !s->pat[i][1])
			return -EINVAL;
	return 0;
}

static size_t asi_scan_report(struct asi_scan *s, char *out, size_t len)
{
	size_t n = 0;
	unsigned int p;

	n += scnprintf(out + n, len - n,
		       "mapped_shared_bytes %lu\nmapped_local_bytes %lu\n"
		       "pages_searched %lu\npages_unreadable %lu\n",
		       s->shared_bytes, s->local_bytes, s->pages, s->unreadable);
	for (p = 0; p < s->nr; p++)
		n += scnprintf(out + n, len - n, "pattern %u hits %lu first 0x%lx\n",
			       p, s->hits[p], s->first[p]);
	return n;
}

static ssize_t asi_scan_write(struct file *file, const char __user *ubuf,
			      size_t count, loff_t *ppos)
{
	struct asi *asi = file_inode(file)->i_private;
	struct asi_scan *s;
	size_t n = 0;
	pid_t pid = 0;
	char *in;
	int err;

	if (count > ASI_SCAN_MAX_INPUT)
		return -EINVAL;
	in = memdup_user_nul(ubuf, count);
	if (IS_ERR(in))
		return PTR_ERR(in);
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (s)
		s->buf = kmalloc(ASI_SCAN_TAIL + PAGE_SIZE, GFP_KERNEL);
	err = !s || !s->buf ? -ENOMEM : asi_scan_parse(s, in, &pid);
	if (!err) {
		mutex_lock(&asi_scan_lock);
		asi_arch_scan(asi, s);
		n = asi_scan_report(s, asi_scan_result, sizeof(asi_scan_result));
		if (pid) {
			/* The same patterns, counted again, on the task's stack. */
			memset(s->hits, 0, sizeof(s->hits));
			s->next_va = 0;
			err = asi_scan_task_stack(s, pid);
			for (unsigned int p = 0; !err && p < s->nr; p++)
				n += scnprintf(asi_scan_result + n, sizeof(asi_scan_result) - n,
					       "pid %d stack pattern %u hits %lu\n",
					       pid, p, s->hits[p]);
		}
		mutex_unlock(&asi_scan_lock);
	}
	if (s) {
		memzero_explicit(s->pat, sizeof(s->pat));
		kfree(s->buf);
	}
	kfree(s);
	kfree_sensitive(in);
	return err ? err : count;
}

static ssize_t asi_scan_read(struct file *file, char __user *ubuf, size_t count,
			     loff_t *ppos)
{
	ssize_t ret;

	mutex_lock(&asi_scan_lock);
	ret = simple_read_from_buffer(ubuf, count, ppos, asi_scan_result,
				      strlen(asi_scan_result));
	mutex_unlock(&asi_scan_lock);
	return ret;
}

/* What scan_plant planted, until "clear". */
#define ASI_PLANT_REUSED	64	/* nonsensitive pages allocated after the free */
static struct {
	void *kmalloc, *vmalloc;
	struct page *control;
	struct page *reused[ASI_PLANT_REUSED];
} asi_plant;
static DEFINE_PER_CPU(u64 [2], asi_plant_percpu);

static void asi_plant_clear(void)
{
	int i, cpu;

	kfree(asi_plant.kmalloc);
	vfree(asi_plant.vmalloc);
	if (asi_plant.control)
		__free_page(asi_plant.control);
	for (i = 0; i < ASI_PLANT_REUSED; i++)
		if (asi_plant.reused[i])
			__free_page(asi_plant.reused[i]);
	memset(&asi_plant, 0, sizeof(asi_plant));
	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(&asi_plant_percpu, cpu), 0, sizeof(u64[2]));
}

/* A page full of @pat, freed, then pages taken as nonsensitive. */
static int asi_plant_reused(const u64 *pat)
{
	struct page *page = alloc_page(GFP_KERNEL);
	u64 *p;
	int i;

	if (!page)
		return -ENOMEM;
	p = page_address(page);
	for (i = 0; i < PAGE_SIZE / sizeof(u64); i += 2)
		memcpy(p + i, pat, 16);
	__free_page(page);
	for (i = 0; i < ASI_PLANT_REUSED; i++) {
		if (asi_plant.reused[i])
			__free_page(asi_plant.reused[i]);
		asi_plant.reused[i] = alloc_page(GFP_KERNEL | __GFP_GLOBAL_NONSENSITIVE);
	}
	return 0;
}

static int asi_plant_line(char *line)
{
	char *kind = strsep(&line, " ");
	unsigned int cpu = 0;
	u64 pat[2];
	void *p;

	if (!strcmp(kind, "clear")) {
		asi_plant_clear();
		return 0;
	}
	if (!line)
		return -EINVAL;
	if (!strcmp(kind, "percpu")) {
		char *nr = strsep(&line, " ");

		if (!line || kstrtouint(nr, 10, &cpu) || cpu >= nr_cpu_ids ||
		    !cpu_possible(cpu))
			return -EINVAL;
	}
	if (strlen(line) != 32 || hex2bin((u8 *)pat, line, 16))
		return -EINVAL;

	if (!strcmp(kind, "kmalloc")) {
		p = kmalloc(64, GFP_KERNEL);
		if (p) {
			kfree(asi_plant.kmalloc);
			asi_plant.kmalloc = p;
		}
	} else if (!strcmp(kind, "vmalloc")) {
		p = vmalloc(PAGE_SIZE);
		if (p) {
			vfree(asi_plant.vmalloc);
			asi_plant.vmalloc = p;
		}
	} else if (!strcmp(kind, "control")) {
		struct page *page = alloc_page(GFP_KERNEL | __GFP_GLOBAL_NONSENSITIVE);

		p = page ? page_address(page) : NULL;
		if (p) {
			if (asi_plant.control)
				__free_page(asi_plant.control);
			asi_plant.control = page;
		}
	} else if (!strcmp(kind, "percpu")) {
		p = per_cpu_ptr(&asi_plant_percpu, cpu);
	} else if (!strcmp(kind, "reused")) {
		return asi_plant_reused(pat);
	} else {
		return -EINVAL;
	}
	if (!p)
		return -ENOMEM;
	memcpy(p, pat, sizeof(pat));
	return 0;
}

static ssize_t asi_plant_write(struct file *file, const char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	char *in, *line, *next;
	int err = 0;

	if (count > ASI_SCAN_MAX_INPUT)
		return -EINVAL;
	in = memdup_user_nul(ubuf, count);
	if (IS_ERR(in))
		return PTR_ERR(in);
	next = in;
	mutex_lock(&asi_scan_lock);
	while (!err && (line = strsep(&next, "\n"))) {
		line = strim(line);
		if (*line)
			err = asi_plant_line(line);
	}
	mutex_unlock(&asi_scan_lock);
	kfree_sensitive(in);
	return err ? err : count;
}

static const struct file_operations asi_plant_fops = {
	.owner = THIS_MODULE,
	.write = asi_plant_write,
};

static int __init asi_scan_init(void)
{
	if (asi_debugfs_dir)
		debugfs_create_file("scan_plant", 0200, asi_debugfs_dir, NULL,
				    &asi_plant_fops);
	return 0;
}
late_initcall_sync(asi_scan_init);

static const struct file_operations asi_scan_fops = {
	.owner = THIS_MODULE,
	.read = asi_scan_read,
	.write = asi_scan_write,
	.llseek = default_llseek,
};

/* The instance's "scan" file, next to its audit. */
void asi_debugfs_add_scan(struct asi *asi)
{
	debugfs_create_file("scan", 0600, asi->debugfs, asi, &asi_scan_fops);
}
