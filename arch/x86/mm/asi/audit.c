// SPDX-License-Identifier: GPL-2.0
/*
 * The audit: walk one instance's restricted page table and say, for every
 * mapped page, why it is there. What may be mapped is listed at the top of
 * pgtable.c; anything else is a violation:
 *
 * - any user-half entry;
 * - text or read-only data mapped writable;
 * - a direct-map or vmalloc page the page allocator did not hand out as
 *   nonsensitive (the asi_declared record) and that is not a CPU's copy
 *   of a nonsensitive per-CPU area (asi_percpu_areas), or not for this
 *   instance when it is local, or a local page reached through the
 *   shared tables;
 * - any other address that is not a per-CPU page ASI maps, the
 *   nonsensitive data sections or the CPU entry area;
 * - a task's stack or task_struct head (or an idle task's stack) that is
 *   not local to this instance, mapped for the task by asi_task_init().
 *
 * Consecutive pages with the same provenance are printed as one range.
 */

#include <linux/asi.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/seq_file.h>
#include <linux/xarray.h>
#include <asm/cpu_entry_area.h>
#include <asm/sections.h>

#include "../../../../mm/asi/internal.h"
#include "asi.h"

struct asi_audit {
	struct asi_walk walk;
	struct asi *asi;
	struct seq_file *m;
	unsigned int violations;
	unsigned long pages;
	/* The range being gathered. */
	unsigned long start, end;
	bool bad;
	char what[64];
};

static void asi_audit_flush(struct asi_audit *a)
{
	if (a->end == a->start)
		return;
	if (a->m)
		seq_printf(a->m, "0x%016lx-0x%016lx %6lu %s%s\n", a->start, a->end,
			   (a->end - a->start) >> PAGE_SHIFT,
			   a->bad ? "VIOLATION: " : "", a->what);
	else if (a->bad)	/* a test's audit: say what it found */
		pr_info("asi: audit of %s instance %llu: 0x%016lx-0x%016lx %s\n",
			a->asi->class->name, a->asi->generation, a->start, a->end,
			a->what);
	a->start = a->end;
}

static void asi_audit_add(struct asi_audit *a, unsigned long va,
			  unsigned long size, bool bad, const char *what)
{
	a->pages += size >> PAGE_SHIFT;
	if (bad)
		a->violations++;
	if (va != a->end || bad != a->bad || strcmp(what, a->what)) {
		asi_audit_flush(a);
		a->start = va;
		a->bad = bad;
		strscpy(a->what, what);
	}
	a->end = va + size;
}

static bool asi_in(unsigned long va, const void *start, const void *end)
{
	return va >= (unsigned long)start && va < (unsigned long)end;
}

/* A per-CPU page that pgtable.c maps for every possible CPU. */
static bool asi_audit_percpu(unsigned long va, char *what, size_t len)
{
	char __percpu *ns = (char __percpu __force *)__per_cpu_asi_start;
	size_t ns_size = __per_cpu_asi_end - __per_cpu_asi_start;
	int cpu;

	for_each_possible_cpu(cpu) {
		void *fixed = per_cpu_ptr(&fixed_percpu_data, cpu);
		void *state = per_cpu_ptr(&asi_cpu_page, cpu);
		char *data = per_cpu_ptr(ns, cpu);

		if (va == ((unsigned long)fixed & PAGE_MASK)) {
			snprintf(what, len, "per-CPU fixed_percpu_data, CPU %d", cpu);
			return true;
		}
		if (asi_in(va, state, state + PAGE_SIZE)) {
			snprintf(what, len, "per-CPU ASI state, CPU %d", cpu);
			return true;
		}
		if (ns_size && asi_in(va, (void *)((unsigned long)data & PAGE_MASK),
				      (void *)PAGE_ALIGN((unsigned long)data + ns_size))) {
			snprintf(what, len, "per-CPU nonsensitive data, CPU %d", cpu);
			return true;
		}
	}
	return false;
}

/*
 * A stack or task head asi_task_init() mapped, or an idle task's stack:
 * each is local to the one instance whose generation it sets in *@gen.
 */
static bool asi_audit_stack(unsigned long va, char *what, size_t len, u64 *gen)
{
	struct task_struct *g, *t;
	bool found = false;
	int cpu;

	for_each_possible_cpu(cpu) {
		t = idle_task(cpu);
		if (t && asi_in(va, task_stack_page(t), task_stack_page(t) + THREAD_SIZE)) {
			snprintf(what, len, "stack of idle task, CPU %d", cpu);
			*gen = READ_ONCE(t->asi.mapped_gen);
			return true;
		}
	}
	rcu_read_lock();
	for_each_process_thread(g, t) {
		void *stack = READ_ONCE(t->asi.mapped_stack);
		unsigned long head;
		size_t size;

		/* Only a stack the task still runs on is its own. */
		if (stack && stack == task_stack_page(t) &&
		    asi_in(va, stack, stack + THREAD_SIZE)) {
			snprintf(what, len, "stack of %s/%d", t->comm, t->pid);
			found = true;
		} else if (READ_ONCE(t->asi.mapped_head) == t) {
			size = asi_task_head(t, &head);
			if (size && asi_in(va, (void *)head, (void *)head + size)) {
				snprintf(what, len, "task_struct head of %s/%d",
					 t->comm, t->pid);
				found = true;
			}
		}
		if (found) {
			*gen = READ_ONCE(t->asi.mapped_gen);
			goto out;	/* break would only leave the thread loop */
		}
	}
out:
	rcu_read_unlock();
	return found;
}

/* Is the page @e maps, @t the template's entry, local to this instance? */
static bool asi_audit_mine(struct asi_audit *a, unsigned long e, unsigned long t,
			   u64 gen)
{
	return e != t && asi_arch_is_local_marker(a->asi, t) &&
	       gen == a->asi->generation;
}

/*
 * A page recorded as @v (asi_declared_entry()), mapped by @e: a global
 * page must be the template's own entry (@e equal to @t), a local one
 * this instance's own entry over the template's marker for it.
 */
static bool asi_audit_owner(struct asi_audit *a, unsigned long v, unsigned long e,
			    unsigned long t, const char *kind, char *what, size_t len)
{
	bool shared = e == t;

	if (!(v & ASI_DECLARED_LOCAL)) {
		snprintf(what, len, "global nonsensitive %s", kind);
		return shared;
	}
	snprintf(what, len, "local nonsensitive %s of %s instance %llu", kind,
		 a->asi->class->name, a->asi->generation);
	return !shared && asi_arch_is_local_marker(a->asi, t) &&
	       (v >> ASI_DECLARED_GEN_SHIFT) == a->asi->generation;
}

/*
 * The page mapped by @e at @va: was it handed out as nonsensitive, by the
 * page allocator or as a per-CPU area, and for whom?
 */
static bool asi_audit_declared(struct asi_audit *a, unsigned long va,
			       unsigned long e, unsigned long t, char *what,
			       size_t len)
{
	unsigned long pfn = (e & PTE_PFN_MASK) >> PAGE_SHIFT;
	unsigned int order;
	unsigned long v;

	for (order = 0; order <= MAX_PAGE_ORDER; order++) {
		unsigned long head = pfn & ~((1UL << order) - 1);
		void *entry = xa_load(&asi_declared, head);

		if (!entry)
			continue;
		v = xa_to_value(entry);
		if ((v & ASI_DECLARED_ORDER_MASK) < order)
			break;	/* a smaller block: not this page's */
		return asi_audit_owner(a, v, e, t, "memory", what, len);
	}
	if (asi_percpu_lookup(va, &v))
		return asi_audit_owner(a, v, e, t, "per-CPU area", what, len);
	return false;
}

/* Does the instance's entry at @ip still hold @e? */
static bool asi_audit_unchanged(unsigned long *ip, unsigned long e)
{
	unsigned long flags;
	bool same;

	spin_lock_irqsave(&asi_pgtable_lock, flags);
	same = READ_ONCE(*ip) == e;
	spin_unlock_irqrestore(&asi_pgtable_lock, flags);
	return same;
}

/*
 * A page of the direct map or of vmalloc: checked under asi_pgtable_lock,
 * so that it cannot be unmapped meanwhile. Its record is written before
 * it is mapped and erased after it is unmapped, both times outside the
 * lock: a page seen mapped under the lock has its record. The template's
 * entry is looked up again under the lock too: where the walk found no
 * template table, one may have been made since, and the instance's own
 * table may already hold a global page synced from it. A task's stack
 * and head are recorded the same way but found outside the lock: one
 * that looks unowned is reported only if it is still mapped after.
 */
static void asi_audit_data_leaf(struct asi_audit *a, unsigned long va,
				unsigned long *ip)
{
	unsigned long flags, e, t;
	char what[64];
	pte_t *tpte;
	u64 gen;
	bool ok;

	spin_lock_irqsave(&asi_pgtable_lock, flags);
	e = READ_ONCE(*ip);
	tpte = asi_template_lookup(va);
	t = tpte ? pte_val(READ_ONCE(*tpte)) : 0;
	ok = (e & _PAGE_PRESENT) && asi_audit_declared(a, va, e, t, what, sizeof(what));
	spin_unlock_irqrestore(&asi_pgtable_lock, flags);
	if (!(e & _PAGE_PRESENT))
		return;		/* unmapped since the walk saw it */
	if (ok) {
		asi_audit_add(a, va, PAGE_SIZE, false, what);
	} else if (asi_audit_percpu(va, what, sizeof(what))) {
		asi_audit_add(a, va, PAGE_SIZE, e != t, what);
	} else if (asi_audit_stack(va, what, sizeof(what), &gen)) {
		ok = asi_audit_mine(a, e, t, gen);
		if (ok || asi_audit_unchanged(ip, e))
			asi_audit_add(a, va, PAGE_SIZE, !ok, what);
	} else if (asi_audit_unchanged(ip, e)) {
		asi_audit_add(a, va, PAGE_SIZE, true, "undeclared pages");
	}
}

/* @entry maps @va in the instance, @t is the template's entry there. */
static void asi_audit_leaf(struct asi_audit *a, unsigned long va,
			   unsigned long entry, unsigned long t, unsigned int level)
{
	bool shared = entry == t;
	unsigned long size = PAGE_SIZE << (9 * (level - 1));
	bool rw = entry & _PAGE_RW;
	bool writable;
	char what[64];
	u64 gen;

	if (asi_in(va, (void *)CPU_ENTRY_AREA_BASE,
		   (void *)(CPU_ENTRY_AREA_BASE + CPU_ENTRY_AREA_MAP_SIZE))) {
		asi_audit_add(a, va, size, false, "CPU entry area");
		return;
	}
	if (level != 1) {
		asi_audit_add(a, va, size, true, "large page");
		return;
	}
	if (asi_in(va, _text, _etext)) {
		asi_audit_add(a, va, size, rw, rw ? "writable kernel text" : "kernel text");
		return;
	}
	if (asi_in(va, __start_rodata, __end_rodata)) {
		asi_audit_add(a, va, size, rw, rw ? "writable read-only data" :
			      "read-only data");
		return;
	}
	if (asi_in(va, __start_asi_global_nonsensitive, __end_asi_global_nonsensitive)) {
		asi_audit_add(a, va, size, false, "static nonsensitive data");
		return;
	}
	if (asi_in(va, (void *)MODULES_VADDR, (void *)MODULES_END) &&
	    asi_module_declared(va, &writable, what, sizeof(what))) {
		asi_audit_add(a, va, size, !shared || (rw && !writable), what);
		return;
	}
	if (asi_audit_percpu(va, what, sizeof(what))) {
		asi_audit_add(a, va, size, !shared, what);
		return;
	}
	if (asi_arch_stun_maps(va)) {
		asi_audit_add(a, va, size, !shared, "local APIC registers");
		return;
	}
	/* Stacks last, as that looks at every task: stacks are few. */
	if (asi_audit_stack(va, what, sizeof(what), &gen)) {
		asi_audit_add(a, va, size, !asi_audit_mine(a, entry, t, gen), what);
		return;
	}
	asi_audit_add(a, va, size, true, "undeclared");
}

static void asi_audit_walk_leaf(struct asi_walk *w, unsigned long va,
				unsigned long *ep, unsigned long t,
				unsigned int level)
{
	struct asi_audit *a = container_of(w, struct asi_audit, walk);

	if (level == 1 && ((va >= PAGE_OFFSET &&
			    va < PAGE_OFFSET + (max_pfn << PAGE_SHIFT)) ||
			   (va >= VMALLOC_START && va <= VMALLOC_END)))
		asi_audit_data_leaf(a, va, ep);
	else
		asi_audit_leaf(a, va, READ_ONCE(*ep), t, level);
}

/**
 * asi_arch_audit() - check an instance's restricted page table
 * @asi: the instance
 * @m: where to list the mapped ranges and their provenance, or NULL
 * @violations: set to the number of pages (or large pages) mapped against
 *	the rules
 *
 * Context: process context, may sleep. The walk is not atomic: a page
 * mapped or unmapped meanwhile may be seen either way, never as a
 * violation it is not, since the record is written before the mapping and
 * erased after the unmapping.
 *
 * Return: the number of pages mapped.
 */
long asi_arch_audit(struct asi *asi, struct seq_file *m, unsigned int *violations)
{
	struct asi_audit a = { .walk.leaf = asi_audit_walk_leaf, .asi = asi, .m = m };

	asi_arch_walk(asi, &a.walk);
	asi_audit_flush(&a);
	*violations = a.violations;
	return a.pages;
}
