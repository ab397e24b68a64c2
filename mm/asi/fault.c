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
#include <linux/ratelimit.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <trace/events/asi.h>

#include "internal.h"

#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "asi."

/* 0: no report; 1: one line per fault; 2: the line and a stack trace. */
static unsigned int fault_report = 1;
module_param(fault_report, uint, 0644);
MODULE_PARM_DESC(fault_report,
		 "Report ASI faults: 0 off, 1 address and IP, 2 with a stack trace");

static DEFINE_RATELIMIT_STATE(asi_fault_ratelimit, 5 * HZ, 10);

struct asi_fault_record asi_fault_records[ASI_FAULT_LOG_SIZE];
unsigned int asi_fault_records_next;
/* Raw: taken in the fault handler, whatever locks the faulting code held. */
DEFINE_RAW_SPINLOCK(asi_fault_log_lock);

/* Called with interrupts off and console output deferred. */
static void asi_fault_log(struct asi_class *class, unsigned long address,
			  unsigned long ip, bool critical)
{
	struct asi_fault_record *rec;

	raw_spin_lock(&asi_fault_log_lock);
	rec = &asi_fault_records[asi_fault_records_next++ % ASI_FAULT_LOG_SIZE];
	rec->class_id = class->id;
	rec->address = address;
	rec->ip = ip;
	rec->critical = critical;
	rec->cpu = raw_smp_processor_id();
	raw_spin_unlock(&asi_fault_log_lock);

	if (!READ_ONCE(fault_report) || !__ratelimit(&asi_fault_ratelimit))
		return;
	pr_info("%s fault: class %s, address 0x%lx, ip %pS, cpu %d\n",
		critical ? "critical-section" : "ASI", class->name, address,
		(void *)ip, raw_smp_processor_id());
	if (READ_ONCE(fault_report) > 1)
		dump_stack();
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
	asi_fault_log(class, address, instruction_pointer(regs), critical);
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
