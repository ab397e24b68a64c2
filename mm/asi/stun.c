// SPDX-License-Identifier: GPL-2.0
/*
 * The sibling-stun interface: what a class's hooks call so that, while
 * this CPU runs in the full address space and can touch secrets, its SMT
 * sibling runs nothing an attacker controls (a guest, say), and could
 * not sample those secrets from the shared core buffers.
 *
 * A class calls asi_sibling_stun() from its pre_asi_exit hook, before the
 * switch to the full address space, and asi_sibling_unstun() from its
 * post_asi_enter hook, once the CPU is restricted again and its buffers
 * are flushed.
 *
 * The backend that does this is not here yet: today both calls do
 * nothing, so a sibling hyperthread keeps running its guest while this
 * CPU handles an ASI exit, and ASI alone protects only against leaks
 * within one thread (and across time, by the flush on entry). Core
 * scheduling keeps the tasks of different VMs off sibling threads; the
 * stun backend, which must close the race between a stun request and a
 * sibling that is entering its guest at that moment, is a later step.
 * The calls are in place so that the class hooks need no change then.
 */

#include <linux/asi.h>

/**
 * asi_sibling_stun() - keep this CPU's SMT siblings out of untrusted code
 *
 * Context: a class hook: interrupts off, restricted, possibly in NMI.
 * Must touch only globally nonsensitive data. Does nothing yet.
 */
noinstr void asi_sibling_stun(void)
{
}
EXPORT_SYMBOL_GPL(asi_sibling_stun);

/**
 * asi_sibling_unstun() - let this CPU's siblings run untrusted code again
 *
 * Context: as asi_sibling_stun(). Does nothing yet.
 */
noinstr void asi_sibling_unstun(void)
{
}
EXPORT_SYMBOL_GPL(asi_sibling_unstun);
