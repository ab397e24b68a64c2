// SPDX-License-Identifier: GPL-2.0
/*
 * When ASI can run on this machine, and its setup at boot.
 */

#define pr_fmt(fmt) "asi: " fmt

#include <linux/asi.h>
#include <linux/init.h>
#include <linux/cpufeature.h>
#include <linux/static_call.h>
#include <linux/processor.h>

#include "../../../../mm/asi/internal.h"
#include "asi.h"

/*
 * Called by init_mem_mapping() right after PTI made its choice and before
 * the direct map is built: ASI needs kernel mappings without the global
 * bit, or their TLB entries would survive the switch to a restricted CR3.
 *
 * ASI and PTI do not compose: both own the CR3 switch on the same paths,
 * and composing them would need two page tables per instance and a
 * second PCID per class. A CPU vulnerable to Meltdown needs PTI more than
 * ASI, so PTI wins: ASI stays off unless PTI is off (pti=off, or a CPU
 * that does not need it).
 */
void __init asi_check_boottime_disable(void)
{
	if (!asi_boot_requested())
		return;
	if (boot_cpu_has(X86_FEATURE_PTI)) {
		pr_info("off: page table isolation (PTI) is on, boot with pti=off to use ASI\n");
		return;
	}
	if (boot_cpu_has(X86_FEATURE_XENPV)) {
		pr_info("off: not supported in a Xen PV guest\n");
		return;
	}
	asi_boot_enabled = true;
	/* For the entry code: see asi_intr_enter(). */
	setup_force_cpu_cap(X86_FEATURE_ASI);
}

int __init asi_arch_init(void)
{
	/*
	 * These read per-CPU data in the entry assembly, before the C entry
	 * code can leave ASI, and that data is not mapped: FRED entry is not
	 * hooked at all; kernel IBRS (retbleed=ibrs) reads the SPEC_CTRL
	 * shadow; call depth tracking (retbleed=stuff) keeps its counter per
	 * CPU. The ITS mitigation sends indirect branches through thunks it
	 * allocates outside the kernel image, which is not mapped either.
	 */
	if (cpu_feature_enabled(X86_FEATURE_FRED) ||
	    boot_cpu_has(X86_FEATURE_KERNEL_IBRS) ||
	    boot_cpu_has(X86_FEATURE_CALL_DEPTH) ||
	    boot_cpu_has(X86_FEATURE_INDIRECT_THUNK_ITS)) {
		pr_err("asi=on refused: FRED, kernel IBRS, call depth tracking and ITS thunks are not supported yet\n");
		return -EOPNOTSUPP;
	}
	return asi_arch_build_global_pgd();
}

/*
 * ASI did not start after all: take "asi" out of every CPU's flags, and
 * out of the flags forced on CPUs that come online later, so that
 * /proc/cpuinfo, boot_cpu_has() and this_cpu_has() say so. The
 * alternatives were patched with the flag set and stay so, and so does
 * cpu_feature_enabled(), which reads them: the entry hooks find no CPU
 * restricted and cost a few loads. A module loaded later is patched
 * without the flag.
 */
void __init asi_arch_disable(void)
{
	unsigned int cpu;

	/*
	 * Bit by bit: setup_clear_cpu_cap() and clear_cpu_cap() warn about a
	 * flag cleared after the alternatives were patched, which is the
	 * point here; no other feature depends on this one.
	 */
	clear_bit(X86_FEATURE_ASI, (unsigned long *)cpu_caps_set);
	set_bit(X86_FEATURE_ASI, (unsigned long *)cpu_caps_cleared);
	clear_bit(X86_FEATURE_ASI, (unsigned long *)boot_cpu_data.x86_capability);
	for_each_possible_cpu(cpu)
		clear_bit(X86_FEATURE_ASI, (unsigned long *)cpu_data(cpu).x86_capability);
}

/*
 * Idle-ASI halts with HLT (default_idle()), which touches no memory, and
 * is used without the sibling stun's asking only where x86_idle is that
 * anyway. MWAIT idle arms its monitor on, and reads, the idle task's
 * flags in its task_struct, which is not mapped: every idle period in
 * Idle-ASI would end in an ASI fault. x86_idle is the static call
 * arch_cpu_idle() goes through (arch/x86/kernel/process.c); it can change
 * at run time (haltpoll, Xen), so it is read on every idle entry.
 */
DECLARE_STATIC_CALL(x86_idle, default_idle);

noinstr bool asi_arch_idle_allowed(void)
{
	return static_call_query(x86_idle) == default_idle;
}

/* Idle-ASI's idle routine: HLT, whatever x86_idle is. */
noinstr void asi_arch_halt(void)
{
	default_idle();
}
