// SPDX-License-Identifier: GPL-2.0
/*
 * The core-scheduling part of the sibling stun's "coresched" backend
 * (asi_stun=coresched; see stun.c).
 *
 * The stun protocol keeps a sibling out of its guest while this CPU is
 * in the full address space, whatever runs where. Core scheduling adds
 * who may share a core at all: a class that asks for it gives each of
 * its instances a cookie of its own, and a thread takes that cookie for
 * as long as it runs in the instance (KVM: from the start of KVM_RUN to
 * its end), so that its siblings run only threads that run in the same
 * instance, or idle. For KVM: the guests of two VMs never run on one
 * core at the same time, and a vCPU waits for its sibling's stun only
 * when that sibling serves the same VM in the kernel, not whatever else
 * the host runs, nor the VMM's user space, which could otherwise keep it
 * out of its guest for as long as it spins there.
 *
 * The cookie a thread had before, the VMM's own (prctl(PR_SCHED_CORE))
 * or none, is replaced for that time and given back afterwards, so a VMM
 * cannot make a vCPU share a core with anything else while it runs its
 * guest, and keeps its own cookie for its threads in user space. One the
 * VMM sets on a vCPU thread during KVM_RUN is lost at its end. Core
 * scheduling does not stop a guest from sampling what its own vCPU
 * threads load in the full address space on its sibling: the stun does.
 */

#define pr_fmt(fmt) "asi: " fmt

#include <linux/asi.h>
#include <linux/sched.h>

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
 * asi_task_share_core() - let current share cores only with @asi's threads
 * @asi: an instance that went through asi_core_cookie_init()
 *
 * Until asi_task_unshare_core(), which must follow before current returns
 * to user space.
 *
 * Context: process context, may take the runqueue lock.
 * Return: the cookie current had, for asi_task_unshare_core().
 */
unsigned long asi_task_share_core(struct asi *asi)
{
	if (!asi->core_cookie)
		return 0;
	return sched_core_cookie_swap(current, asi->core_cookie);
}
EXPORT_SYMBOL_GPL(asi_task_share_core);

/**
 * asi_task_unshare_core() - give current its own cookie back
 * @asi: as for asi_task_share_core()
 * @prev: what asi_task_share_core() returned
 *
 * Context: process context, may take the runqueue lock.
 */
void asi_task_unshare_core(struct asi *asi, unsigned long prev)
{
	if (!asi->core_cookie)
		return;
	sched_core_cookie_put(sched_core_cookie_swap(current, prev));
	sched_core_cookie_put(prev);
}
EXPORT_SYMBOL_GPL(asi_task_unshare_core);

/* From asi_put(): the threads that took the cookie hold their own. */
void asi_core_cookie_free(struct asi *asi)
{
	sched_core_cookie_put(asi->core_cookie);
}
