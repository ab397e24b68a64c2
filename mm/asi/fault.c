// SPDX-License-Identifier: GPL-2.0
/*
 * ASI faults: a restricted CPU touched memory its restricted address space
 * does not map. Leaving something out of a restricted space costs an exit
 * and a retry, never correctness; this file makes each such exit easy to
 * find (a counter per class, a rate-limited report, a log in debugfs) and
 * turns one inside a critical section into a warning.
 */

#define pr_fmt(fmt) "asi: " fmt

#include <linux/asi.h>
#include <linux/moduleparam.h>
#include <linux/printk.h>
#include <linux/jiffies.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <trace/events/asi.h>

#include "internal.h"

#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "asi."

/* 0: no report; 1: one line per fault; 2: the line and a stack trace. */
static unsigned int fault_report = 1;
module_param(fault_report, uint, 0644);
MODULE_PARM_DESC(fault_report,
		 "Report ASI faults, at most 10 per CPU every 5 s: 0 off, 1 address and IP, 2 with a stack trace");

/* At most this many reports per CPU per window: no lock shared by CPUs. */
#define ASI_FAULT_REPORT_BURST		10
#define ASI_FAULT_REPORT_WINDOW		(5 * HZ)

DEFINE_PER_CPU(struct asi_fault_log, asi_fault_log);

static bool asi_fault_report_allowed(struct asi_fault_log *log)
{
	if (time_after(jiffies, log->window + ASI_FAULT_REPORT_WINDOW)) {
		log->window = jiffies;
		log->reported = 0;
	}
	return log->reported++ < ASI_FAULT_REPORT_BURST;
}

/* Called with interrupts off and console output deferred. */
static void asi_fault_log_add(struct asi_class *class, unsigned long address,
			      unsigned long ip, bool critical)
{
	struct asi_fault_log *log = this_cpu_ptr(&asi_fault_log);
	struct asi_fault_record *rec = &log->rec[log->next % ARRAY_SIZE(log->rec)];

	/* The last count before this record: see asi_fault_log_read(). */
	smp_wmb();
	rec->class_id = class->id;
	rec->address = address;
	rec->ip = ip;
	rec->critical = critical;
	rec->cpu = raw_smp_processor_id();
	/* The record before the count: see asi_fault_log_read(). */
	smp_store_release(&log->next, log->next + 1);

	if (!READ_ONCE(fault_report) || !asi_fault_report_allowed(log))
		return;
	pr_info("%s fault: class %s, address 0x%lx, ip %pS, cpu %d\n",
		critical ? "critical-section" : "ASI", class->name, address,
		(void *)ip, raw_smp_processor_id());
	if (READ_ONCE(fault_report) > 1)
		dump_stack();
}

/**
 * asi_fault_log_read() - copy one record of a CPU's fault log
 * @cpu: the CPU
 * @i: the record's number, counted from the CPU's first fault
 * @out: where to copy it
 *
 * Without a lock: the CPU may be writing its log meanwhile. The log holds
 * one slot more than the ASI_FAULT_LOG_SIZE records it shows, so the one
 * being written is never one of those; a record the CPU may have started
 * to overwrite while it was copied is refused.
 *
 * Return: true when @out holds record @i.
 */
bool asi_fault_log_read(int cpu, unsigned int i, struct asi_fault_record *out)
{
	struct asi_fault_log *log = per_cpu_ptr(&asi_fault_log, cpu);
	/* Pairs with the writer's smp_store_release(): record @i is whole. */
	unsigned int next = smp_load_acquire(&log->next);

	/* 1 <= next - i <= ASI_FAULT_LOG_SIZE, in wrapping arithmetic. */
	if (next - i - 1 >= ASI_FAULT_LOG_SIZE)
		return false;
	/* Racy by design: the count checked below says if it was torn. */
	*out = data_race(log->rec[i % ARRAY_SIZE(log->rec)]);
	/*
	 * Pairs with the writer's smp_wmb(): the copy before the count that
	 * says whether the writer has started overwriting record @i's slot,
	 * which it does once the count reaches i + ARRAY_SIZE(log->rec).
	 */
	smp_rmb();
	return READ_ONCE(log->next) - i - 1 < ASI_FAULT_LOG_SIZE;
}

/**
 * asi_handle_page_fault() - the ASI page fault hook
 * @regs: the faulting context
 * @error_code: the hardware error code
 * @address: the faulting address
 *
 * Called by the architecture's page fault handler, in the full address
 * space (the entry code left ASI), with interrupts disabled. A fault that
 * interrupted a restricted context on an address the full address space
 * maps is an ASI fault: it is counted and reported, the task's target is
 * cleared so that the return does not enter ASI again, and the access is
 * retried. Every other fault goes on to the normal fault handling.
 *
 * Return: true when the fault was an ASI fault and needs nothing more.
 */
bool asi_handle_page_fault(struct pt_regs *regs, unsigned long error_code,
			   unsigned long address)
{
	struct asi_class *class;
	struct asi *asi;
	bool critical;

	if (!asi_enabled() || !this_cpu_read(asi_cpu_page.cpu.intr_restricted))
		return false;

	/*
	 * Restricted address spaces map no user memory at all, so a user
	 * address is always an ASI fault; a kernel address is one when the
	 * full kernel page table maps it.
	 */
	if (address >= TASK_SIZE_MAX && !asi_arch_mapped_in_full(address))
		return false;

	asi = this_cpu_read(asi_cpu_page.cpu.intr_left);
	class = asi->class;
	critical = this_cpu_read(asi_cpu_page.cpu.critical);

	this_cpu_inc(asi_stats[class->id].faults);
	if (critical)
		this_cpu_inc(asi_stats[class->id].critical_faults);
	trace_asi_exit(class->name, ASI_EXIT_FAULT);
	/*
	 * The faulting code may hold any lock, the scheduler's included:
	 * KVM's kick of a sleeping vCPU takes the task's pi_lock and then
	 * reads scheduler state (CPU masks, runqueues) that no restricted
	 * space maps. Printing to a console from there can wake a
	 * console_sem waiter and deadlock on those locks, so the report
	 * only goes to the log buffer here; the consoles print it from
	 * irq_work.
	 */
	printk_deferred_enter();
	asi_fault_log_add(class, address, instruction_pointer(regs), critical);
	WARN(IS_ENABLED(CONFIG_ADDRESS_SPACE_ISOLATION_DEBUG) && critical,
	     "asi: class %s touched 0x%lx in a critical section\n",
	     class->name, address);
	printk_deferred_exit();

	if (current->asi.record && !current->asi.record->fault_ip) {
		current->asi.record->fault_ip = instruction_pointer(regs);
		current->asi.record->fault_addr = address;
	}
	current->asi.target = NULL;
	return true;
}
