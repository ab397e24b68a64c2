// SPDX-License-Identifier: GPL-2.0
/*
 * The core-scheduling part of the sibling stun's "coresched" backend
 * (asi_stun=coresched; see stun.c).
 *
 * The stun protocol keeps a sibling out of its guest while this CPU is
 * in the full address space, whatever runs where. Core scheduling adds
 * who may share a core at all: a class that asks for it gives each of
 * its instances a cookie of its own, and every thread that is about to
 * run in the instance takes that cookie, so that its siblings run only
 * threads of the same instance or idle. For KVM that is every vCPU
 * thread of one VM: the guests of two VMs never run on one core at the
 * same time, and a vCPU waits for its sibling's stun only when that
 * sibling serves the same VM, not whatever else the host runs.
 *
 * asi_task_share_core() sets the cookie each time the class prepares a
 * thread (KVM: every KVM_RUN): a cookie the thread got otherwise, from
 * the VMM's prctl(PR_SCHED_CORE), is replaced. A VMM can still let its
 * other threads share the VM's cores with PR_SCHED_CORE_SHARE_FROM a
 * vCPU thread. Core scheduling does not stop a guest from sampling what
 * its own vCPU threads load in the full address space on its sibling:
 * the stun does.
 */

#define pr_fmt(fmt) "asi: " fmt

#include <linux/asi.h>
#include <linux/sched.h>

#include "internal.h"

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
	asi->core_cookie = sched_core_cookie_new();
	return asi->core_cookie ? 0 : -ENOMEM;
}
EXPORT_SYMBOL_GPL(asi_core_cookie_init);

/**
 * asi_task_share_core() - let current share cores only with @asi's threads
 * @asi: an instance that went through asi_core_cookie_init()
 *
 * Context: process context, may take the runqueue lock.
 */
void asi_task_share_core(struct asi *asi)
{
	unsigned long cookie = asi->core_cookie;

	if (cookie && current->core_cookie != cookie)
		sched_core_cookie_set(current, cookie);
}
EXPORT_SYMBOL_GPL(asi_task_share_core);

/* From asi_put(): the threads that took the cookie hold their own. */
void asi_core_cookie_free(struct asi *asi)
{
	sched_core_cookie_put(asi->core_cookie);
}
