// SPDX-License-Identifier: GPL-2.0
/*
 * The core-scheduling part of the sibling stun's "coresched" backend
 * (asi_stun=coresched; see stun.c).
 *
 * The stun protocol keeps a sibling out of its guest while this CPU is
 * in the full address space, whatever runs where. Core scheduling adds
 * who may share a core at all: a class that asks for it gives each of
 * its instances a cookie of its own, and a thread that runs in the
 * instance takes that cookie (KVM: at KVM_RUN), so that its siblings run
 * only threads of the same instance, or idle. For KVM: the guests of two
 * VMs never run on one core at the same time, and a vCPU waits for its
 * sibling's stun only when that sibling serves the same VM.
 *
 * The thread keeps the cookie when it goes back to user space: a cookie
 * change makes the scheduler pick again for the whole core, and one at
 * every exit to user space would idle a CPU beside its sibling's guest
 * each time. The class takes it back (asi_task_unshare_core()) when it
 * is done with the instance, and when the thread holds a sibling out of
 * its guest for long from outside the instance: user space counts as
 * the full address space, and a thread of the same instance that spins
 * there would otherwise keep the sibling out for as long as it spins.
 * The thread gets the cookie it had before back, the VMM's own
 * (prctl(PR_SCHED_CORE)) or none, unless the VMM set another meanwhile.
 *
 * Core scheduling does not stop a guest from sampling what its own
 * vCPU threads load in the full address space on its sibling: the stun
 * does.
 */

#define pr_fmt(fmt) "asi: " fmt

#include <linux/asi.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/topology.h>

#include "internal.h"

/*
 * Core scheduling is switched on by the first cookie and off after the
 * last, each time patching the kernel's text on every CPU: once a class
 * asked for it, keep it on with a cookie of ASI's own rather than pay
 * that for every VM created alone.
 */
static unsigned long asi_core_keep_on;

/**
 * asi_core_cookie_init() - give @asi a core-scheduling cookie
 * @asi: a new instance
 *
 * Does nothing unless the backend is "coresched". The first cookie turns
 * core scheduling on, which waits for every CPU: call it where the class
 * may sleep and holds no lock the CPU hotplug path takes.
 *
 * Return: 0, or -ENOMEM: the instance must not be used, as its threads
 * would share cores with anything.
 */
int asi_core_cookie_init(struct asi *asi)
{
	if (!asi_stun_coresched() || asi->core_cookie)
		return 0;
	if (asi_fail_core_cookie())
		return -ENOMEM;
	if (!READ_ONCE(asi_core_keep_on)) {
		unsigned long keep = sched_core_cookie_new();

		if (keep && cmpxchg(&asi_core_keep_on, 0, keep))
			sched_core_cookie_put(keep);
	}
	asi->core_cookie = sched_core_cookie_new();
	return asi->core_cookie ? 0 : -ENOMEM;
}
EXPORT_SYMBOL_GPL(asi_core_cookie_init);

/**
 * asi_task_in_core() - does @p carry @asi's cookie?
 * @asi: an instance that went through asi_core_cookie_init()
 * @p: a thread
 *
 * Return: true also when @asi has no cookie: there is nothing to take.
 */
bool asi_task_in_core(struct asi *asi, struct task_struct *p)
{
	return !asi->core_cookie || READ_ONCE(p->core_cookie) == asi->core_cookie;
}
EXPORT_SYMBOL_GPL(asi_task_in_core);

/**
 * asi_task_share_core() - let current share cores only with @asi's threads
 * @asi: an instance that went through asi_core_cookie_init()
 *
 * Context: process context, may take the runqueue lock.
 * Return: the cookie current had, for asi_task_unshare_core(); none (0)
 * when it already carried @asi's, or @asi has none.
 */
unsigned long asi_task_share_core(struct asi *asi)
{
	if (asi_task_in_core(asi, current))
		return 0;
	return sched_core_cookie_swap(current, asi->core_cookie);
}
EXPORT_SYMBOL_GPL(asi_task_share_core);

/**
 * asi_task_unshare_core() - give a thread the cookie it had back
 * @asi: as for asi_task_share_core()
 * @p: the thread that was current there
 * @prev: what asi_task_share_core() returned; the caller's reference to
 *	it is dropped
 *
 * @p keeps a cookie the VMM gave it meanwhile.
 *
 * Context: process context, may take the runqueue lock.
 */
void asi_task_unshare_core(struct asi *asi, struct task_struct *p, unsigned long prev)
{
	if (asi->core_cookie && READ_ONCE(p->core_cookie) == asi->core_cookie)
		sched_core_cookie_put(sched_core_cookie_swap(p, prev));
	sched_core_cookie_put(prev);
}
EXPORT_SYMBOL_GPL(asi_task_unshare_core);

/**
 * asi_core_sibling_task() - a thread of @asi's on an SMT sibling
 * @asi: as for asi_task_share_core()
 *
 * Context: process context; the CPU it looks from may change meanwhile.
 * Return: with a reference, a thread other than current that carries
 * @asi's cookie and runs on an SMT sibling of this CPU; NULL if none.
 */
struct task_struct *asi_core_sibling_task(struct asi *asi)
{
	unsigned int cpu, this = raw_smp_processor_id();
	struct task_struct *p = NULL, *t;

	if (!asi->core_cookie)
		return NULL;
	for_each_cpu(cpu, topology_sibling_cpumask(this)) {
		if (cpu == this)
			continue;
		rcu_read_lock();
		t = cpu_curr_snapshot(cpu);
		if (t != current && asi_task_in_core(asi, t))
			p = get_task_struct(t);
		rcu_read_unlock();
		if (p)
			break;
	}
	return p;
}
EXPORT_SYMBOL_GPL(asi_core_sibling_task);

/* From asi_put(): the threads that took the cookie hold their own. */
void asi_core_cookie_free(struct asi *asi)
{
	sched_core_cookie_put(asi->core_cookie);
}
