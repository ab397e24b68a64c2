// SPDX-License-Identifier: GPL-2.0
/*
 * Sibling stun: while a CPU runs in the full address space and may touch
 * secrets, none of its SMT siblings executes guest code, which could
 * sample those secrets from the buffers the core shares.
 *
 * Each CPU publishes, in its asi_cpu_page (mapped in every restricted
 * space, so that siblings read it while restricted):
 *
 * @safe: the CPU is in a restricted space and flushed its buffers since
 *	it left the full one. Cleared by asi_sibling_stun() right after
 *	@leaving is raised, set last thing by asi_sibling_unstun(); 0 at
 *	boot.
 * @guest: the CPU has checked its siblings for a VM entry and has not
 *	yet left the guest (asi_sibling_enter_guest() to
 *	asi_sibling_exit_guest()).
 * @exits: bumped whenever @guest drops: a stunning sibling that saw
 *	@guest set waits for this to move, so it never misses an exit
 *	followed at once by the next entry's check.
 * @leaving: the CPU is in asi_sibling_stun() (a count: an NMI nests).
 *
 * The protocol, for a CPU X that leaves ASI and a sibling Y that enters
 * its guest:
 *
 *   X: leaving++; safe = 0; mb; for each Y: if (Y.guest) kick Y, then
 *      wait until Y.guest == 0, Y.exits moved on, or Y.leaving;
 *      leaving--.
 *   Y: guest = 1; mb; if any X has !safe: guest = 0, exits++, and a
 *      self-IPI that makes the entry exit before any guest instruction.
 *
 * The barriers make it the store-buffering pattern: X sees Y's @guest
 * or Y sees X's @safe cleared, or both. So a guest runs only while every
 * sibling is safe, or while a sibling that is about to leave has kicked
 * it and waits for it to be out before it goes on. The kick is an IPI
 * on a vector of its own (ASI_STUN_VECTOR on x86) whose handler
 * touches only what every restricted space maps and does not leave ASI:
 * otherwise taking it would stun in turn, and two siblings could kick
 * each other out of their guests forever. Y checks with interrupts off,
 * and they stay off until the VM entry, so the kick is still pending at
 * the entry and makes it exit at once (an interrupt taken in between
 * would swallow it: the race Alexandre Chartre described in Junaid
 * Shahid's 2019 protocol). A sibling that is stunning itself (Y.leaving)
 * runs no guest code and its entry, if it was in one, exits at once on
 * the kick: waiting for it would deadlock two siblings that leave
 * together. tools/testing/asi/model/stun.pml models all of this, with
 * an NMI at every step, and checks it with spin.
 *
 * Waiting happens only in asi_sibling_stun(), with interrupts off, for
 * as long as a sibling takes to leave its guest or to reach its VM entry
 * (which exits at once): bounded by the hardware, not by what the
 * sibling's software does. A sibling that does not answer for far longer
 * than that is kicked again, and after asi_stun_timeout_loops the CPU
 * goes on without it and counts a timeout (debugfs asi/stun), warned of
 * once: better than a hard lockup, and never silent.
 *
 * An entry that finds a sibling not safe does not wait: it exits at once
 * and KVM's run loop tries again with interrupts on, so need_resched,
 * signals and interrupts are served meanwhile.
 *
 * Backends (asi_stun=):
 * - "coresched", the default with CONFIG_SCHED_CORE: the protocol above,
 *   and a thread that runs in an instance carries that instance's
 *   core-scheduling cookie meanwhile (coresched.c), so that a sibling
 *   runs only a thread of the same instance, or idles, and the protocol
 *   rarely has to wait for a sibling that runs something else in the
 *   full address space;
 * - "ipi", the protocol alone, the default without CONFIG_SCHED_CORE: a
 *   sibling's user space counts as the full address space, so a sibling
 *   that spins in user space keeps a vCPU out of its guest until the
 *   scheduler moves one of them;
 * - "none", no stun: the default when the CPUs have no SMT, or it is
 *   off for good (nosmt=force), and otherwise said at boot.
 * Each CPU's list of siblings is kept by CPU hotplug callbacks, so SMT
 * turned off at run time simply empties the lists: no stun, as "none".
 * A CPU runs in the full address space from the moment it is started,
 * but its siblings learn of it only once its topology is known, on the
 * CPU itself: until then every entry is refused (@hold), after the
 * guests running anywhere were kicked out, as by a stun. A CPU going
 * down stays in its siblings' lists, unsafe, until it is dead.
 *
 * See "Sibling protection" in Documentation/mm/asi.rst.
 */

#define pr_fmt(fmt) "asi: " fmt

#include <linux/asi.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/debugfs.h>
#include <linux/init.h>
#include <linux/seq_file.h>
#include <linux/topology.h>

#include "internal.h"

enum asi_stun_mode { ASI_STUN_CORESCHED, ASI_STUN_IPI, ASI_STUN_NONE };

static const char *const asi_stun_names[] = {
	[ASI_STUN_CORESCHED] = "coresched",
	[ASI_STUN_IPI] = "ipi",
	[ASI_STUN_NONE] = "none",
};

static enum asi_stun_mode asi_stun_mode __ro_after_init =
	IS_ENABLED(CONFIG_SCHED_CORE) ? ASI_STUN_CORESCHED : ASI_STUN_IPI;
/*
 * On once the backend runs. Not a static key: the entry code reaches
 * asi_sibling_stun() from the int3 handler too, before
 * poke_int3_handler(), and would trap on the very int3 that patches it.
 */
static bool asi_stun_on __asi_read_mostly;
/* coresched: a guest does not enter beside another instance's guest. */
static bool asi_stun_exclusive __asi_read_mostly;

#ifdef CONFIG_ADDRESS_SPACE_ISOLATION_DEBUG
/*
 * debugfs asi/stun_break: neither kick nor refuse, so that a test sees
 * what it measures go wrong without the stun.
 */
static bool asi_stun_break __asi_read_mostly;
#define asi_stun_broken()	READ_ONCE(asi_stun_break)
#else
#define asi_stun_broken()	false
#endif

/* Kick again after this many polls, give up after asi_stun_timeout_loops. */
#define ASI_STUN_REKICK_LOOPS	BIT(14)
static unsigned long asi_stun_timeout_loops __asi_read_mostly = BIT(22);

static int __init asi_stun_param(char *arg)
{
	int mode = arg ? match_string(asi_stun_names, ARRAY_SIZE(asi_stun_names), arg) : -EINVAL;

	if (mode == ASI_STUN_CORESCHED && !IS_ENABLED(CONFIG_SCHED_CORE)) {
		pr_err("asi_stun=coresched needs CONFIG_SCHED_CORE; ignored, using ipi\n");
		return -EINVAL;
	}
	if (mode < 0) {
		pr_err("invalid asi_stun=%s, expected coresched, ipi or none; ignored, using %s\n",
		       arg ?: "", asi_stun_names[asi_stun_mode]);
		return -EINVAL;
	}
	asi_stun_mode = mode;
	return 0;
}
early_param("asi_stun", asi_stun_param);

/* Slot @i of this CPU's siblings: asi_stun_rebuild() packs them, NULL after. */
static __always_inline struct asi_cpu *asi_stun_sibling(unsigned int i)
{
	return this_cpu_read(asi_cpu_page.cpu.stun.sibling[i]);
}

/* Wait until @s is out of its guest; false after the timeout. */
static __always_inline bool asi_stun_wait(struct asi_cpu *s, unsigned int exits)
{
	unsigned long loops = 0;

	while (READ_ONCE(s->stun.guest) && READ_ONCE(s->stun.exits) == exits &&
	       !READ_ONCE(s->stun.leaving)) {
		cpu_relax();
		if (++loops % ASI_STUN_REKICK_LOOPS)
			continue;
		if (loops >= asi_stun_timeout_loops)
			return false;
		asi_arch_stun_kick(&s->arch);
		this_cpu_inc(asi_cpu_page.cpu.stun.kicks);
	}
	return true;
}

/**
 * asi_sibling_stun() - keep this CPU's SMT siblings out of their guests
 *
 * Returns once no sibling executes guest code, and none will until this
 * CPU calls asi_sibling_unstun(). The core calls it on every exit, for
 * every class, right before the class's pre_asi_exit hook: a class
 * cannot forget it.
 *
 * Context: interrupts off, restricted, possibly in NMI. Touches only
 * this CPU's and its siblings' asi_cpu_page.
 */
noinstr void asi_sibling_stun(void)
{
	struct asi_cpu *kicked[ASI_STUN_MAX_SIBLINGS];
	unsigned int exits[ASI_STUN_MAX_SIBLINGS];
	unsigned int i, n = 0;
	struct asi_cpu *s;
	u64 t0;

	if (!READ_ONCE(asi_stun_on))
		return;

	this_cpu_inc(asi_cpu_page.cpu.stun.leaving);
	/* @leaving before @safe: the checker reads them the other way round. */
	smp_wmb();
	this_cpu_write(asi_cpu_page.cpu.stun.safe, 0);
	/* An NMI or a fault between the entry's check and the entry. */
	if (this_cpu_read(asi_cpu_page.cpu.stun.guest))
		this_cpu_write(asi_cpu_page.cpu.stun.window_stun, true);
	/* @safe before the siblings' @guest: pairs with asi_sibling_enter_guest(). */
	smp_mb();
	for (i = 0; i < ASI_STUN_MAX_SIBLINGS && !asi_stun_broken(); i++) {
		s = asi_stun_sibling(i);
		if (!s)
			break;
		exits[n] = READ_ONCE(s->stun.exits);
		/* @exits before @guest: an exit in between moves one of them. */
		smp_rmb();
		if (READ_ONCE(s->stun.guest)) {
			asi_arch_stun_kick(&s->arch);
			kicked[n++] = s;
		}
	}
	if (n) {
		this_cpu_inc(asi_cpu_page.cpu.stun.stuns);
		this_cpu_add(asi_cpu_page.cpu.stun.kicks, n);
		t0 = asi_arch_stun_clock();
		for (i = 0; i < n; i++) {
			if (asi_stun_wait(kicked[i], exits[i]))
				continue;
			this_cpu_inc(asi_cpu_page.cpu.stun.timeouts);
			this_cpu_write(asi_cpu_page.cpu.stun.timed_out, true);
		}
		this_cpu_add(asi_cpu_page.cpu.stun.wait_cycles, asi_arch_stun_clock() - t0);
	}
	this_cpu_dec(asi_cpu_page.cpu.stun.leaving);
}

/**
 * asi_sibling_unstun() - let this CPU's siblings run their guests again
 *
 * A class calls it last in its post_asi_enter hook, once the CPU is
 * restricted and has flushed what it loaded in the full address space.
 * A class that does not stays unsafe for its siblings while in its
 * instances: their guests wait.
 *
 * Context: a class hook: interrupts off, restricted, possibly in NMI.
 */
noinstr void asi_sibling_unstun(void)
{
	if (READ_ONCE(asi_stun_on))
		this_cpu_write(asi_cpu_page.cpu.stun.safe, 1);
}
EXPORT_SYMBOL_GPL(asi_sibling_unstun);

/*
 * Idle-ASI's post_asi_enter hook: the interrupt that woke the CPU ran in
 * the full address space, so flush what it loaded before the siblings'
 * guests may run again.
 */
noinstr void asi_stun_flush_unstun(void)
{
	if (!READ_ONCE(asi_stun_on))
		return;
	asi_arch_flush_cpu_buffers();
	this_cpu_write(asi_cpu_page.cpu.stun.safe, 1);
}

/*
 * The invariant checker (debug builds): at a VM entry that passed its
 * check and at a VM exit, it counts a sibling in the guest of another
 * instance (@mixed, which core scheduling rules out and the IPI backend
 * alone does not); and, at the exit, before this CPU says it is out, it
 * checks that no sibling is in the full address space past its
 * stun. One that became unsafe after this entry's check saw @guest set,
 * kicked this CPU and still waits for the exit; only a sibling that left
 * without the protocol, or gave up on a timeout, is out there. The
 * exception is a stun of this CPU's own between its check and its entry
 * (an NMI, a fault), which lets the siblings go on and makes the entry
 * exit at once on their kick: @window_stun.
 */
#ifdef CONFIG_ADDRESS_SPACE_ISOLATION_DEBUG
/* What core scheduling prevents: two instances' guests on one core. */
static __always_inline void asi_stun_check_mixed(void)
{
	struct asi_cpu *s;
	unsigned int i;

	for (i = 0; i < ASI_STUN_MAX_SIBLINGS; i++) {
		s = asi_stun_sibling(i);
		if (!s)
			break;
		if (READ_ONCE(s->stun.running) &&
		    READ_ONCE(s->curr) != this_cpu_read(asi_cpu_page.cpu.curr)) {
			this_cpu_inc(asi_cpu_page.cpu.stun.mixed);
			return;
		}
	}
}

static __always_inline void asi_stun_check_exit(void)
{
	struct asi_cpu *s;
	unsigned int i;

	asi_stun_check_mixed();
	if (this_cpu_read(asi_cpu_page.cpu.stun.window_stun))
		return;
	for (i = 0; i < ASI_STUN_MAX_SIBLINGS; i++) {
		s = asi_stun_sibling(i);
		if (!s)
			break;
		if (READ_ONCE(s->stun.safe))
			continue;
		/* Pairs with asi_sibling_stun()'s: unsafe and not stunning. */
		smp_rmb();
		if (!READ_ONCE(s->stun.leaving)) {
			this_cpu_inc(asi_cpu_page.cpu.stun.violations);
			/* One the debug switch provoked is expected, not warned. */
			if (asi_stun_broken())
				return;
			this_cpu_write(asi_cpu_page.cpu.stun.violated, true);
			/* What the sibling was doing, for the report. */
			this_cpu_write(asi_cpu_page.cpu.stun.violation_state,
				       READ_ONCE(s->stun.guest) |
				       READ_ONCE(s->stun.window_stun) << 1 |
				       READ_ONCE(s->stun.timed_out) << 2 |
				       !!READ_ONCE(s->curr) << 3 |
				       READ_ONCE(s->exiting) << 4 |
				       READ_ONCE(s->hook_depth) << 8 |
				       READ_ONCE(s->class_id) << 12 |
				       (unsigned long)READ_ONCE(s->critical) << 16);
			return;
		}
	}
}
#else
static __always_inline void asi_stun_check_mixed(void) { }
static __always_inline void asi_stun_check_exit(void) { }
#endif

/* @guest drops, and the exit count moves for a sibling that waits. */
static __always_inline void asi_stun_guest_done(void)
{
	/* The checker's alone: not worth a store on every exit otherwise. */
	if (IS_ENABLED(CONFIG_ADDRESS_SPACE_ISOLATION_DEBUG))
		this_cpu_write(asi_cpu_page.cpu.stun.running, 0);
	this_cpu_write(asi_cpu_page.cpu.stun.guest, 0);
	this_cpu_inc(asi_cpu_page.cpu.stun.exits);
	this_cpu_write(asi_cpu_page.cpu.stun.window_stun, false);
}

/**
 * asi_sibling_enter_guest() - may this CPU run guest code now?
 *
 * Called right before a VM entry, with interrupts off until the entry.
 * From here until asi_sibling_exit_guest(), a sibling that leaves ASI
 * kicks this CPU out of its guest and waits for it.
 *
 * With core scheduling (asi_stun_exclusive), a sibling in the guest of
 * another instance refuses the entry too: the scheduler does not put two
 * VMs' threads on one core, except for the moment between one sibling
 * switching to a thread of another VM and the other taking its resched
 * IPI. Both siblings set @guest before they look at each other's, so at
 * least one of two concurrent entries sees the other.
 *
 * Return: true when every sibling is safe. False when one is not: the
 * entry must go ahead anyway, and exits before any guest instruction
 * (an interrupt is pending); the caller counts it and tries again with
 * interrupts on.
 */
noinstr bool asi_sibling_enter_guest(void)
{
	struct asi *curr = this_cpu_read(asi_cpu_page.cpu.curr);
	struct asi_cpu *s;
	unsigned int i;

	if (!READ_ONCE(asi_stun_on))
		return true;

	this_cpu_write(asi_cpu_page.cpu.stun.guest, 1);
	/*
	 * @guest before the siblings' @safe: pairs with asi_sibling_stun().
	 * And before @hold: pairs with asi_stun_hold().
	 */
	smp_mb();
	if (asi_stun_broken())
		goto enter;
	if (this_cpu_read(asi_cpu_page.cpu.stun.hold))
		goto refuse;
	for (i = 0; i < ASI_STUN_MAX_SIBLINGS; i++) {
		s = asi_stun_sibling(i);
		if (!s)
			break;
		if (!READ_ONCE(s->stun.safe) ||
		    (READ_ONCE(asi_stun_exclusive) && READ_ONCE(s->stun.guest) &&
		     READ_ONCE(s->curr) != curr))
			goto refuse;
	}
enter:
	if (IS_ENABLED(CONFIG_ADDRESS_SPACE_ISOLATION_DEBUG))
		this_cpu_write(asi_cpu_page.cpu.stun.running, 1);
	asi_stun_check_mixed();
	return true;
refuse:
	asi_stun_guest_done();
	this_cpu_inc(asi_cpu_page.cpu.stun.refused);
	asi_arch_stun_self();
	return false;
}
EXPORT_SYMBOL_GPL(asi_sibling_enter_guest);

/**
 * asi_sibling_exit_guest() - this CPU is out of its guest
 *
 * Called after the VM exit. Context: interrupts off.
 */
noinstr void asi_sibling_exit_guest(void)
{
	if (!READ_ONCE(asi_stun_on) ||
	    !this_cpu_read(asi_cpu_page.cpu.stun.guest))
		return;
	asi_stun_check_exit();
	asi_stun_guest_done();
}
EXPORT_SYMBOL_GPL(asi_sibling_exit_guest);

/**
 * asi_stun_counts() - this CPU's sibling-stun counters
 * @c: where they go
 *
 * Context: interrupts off; may run restricted.
 */
noinstr void asi_stun_counts(struct asi_stun_counts *c)
{
	c->stuns = this_cpu_read(asi_cpu_page.cpu.stun.stuns);
	c->kicks = this_cpu_read(asi_cpu_page.cpu.stun.kicks);
	c->wait_cycles = this_cpu_read(asi_cpu_page.cpu.stun.wait_cycles);
}
EXPORT_SYMBOL_GPL(asi_stun_counts);

/**
 * asi_idle_must_halt() - must this CPU idle in Idle-ASI?
 *
 * While the stun runs and the CPU has an SMT sibling: any other idle
 * state (MWAIT, ACPI) would leave it in the full address space, and the
 * sibling's guest entries would be refused until an interrupt wakes it.
 * The idle loop then skips cpuidle and halts (asi_idle_halt()).
 */
noinstr bool asi_idle_must_halt(void)
{
	return READ_ONCE(asi_stun_on) && asi_stun_sibling(0);
}

/* Does each instance get a core-scheduling cookie (coresched.c)? */
bool asi_stun_coresched(void)
{
	return READ_ONCE(asi_stun_on) && asi_stun_mode == ASI_STUN_CORESCHED;
}

/*
 * From the full address space: report what restricted code could only
 * count.
 * Return: true when the caller should warn of a violation.
 */
bool asi_stun_check_reported(void)
{
	unsigned long v = this_cpu_read(asi_cpu_page.cpu.stun.violation_state);

	if (!this_cpu_read(asi_cpu_page.cpu.stun.violated))
		return false;
	this_cpu_write(asi_cpu_page.cpu.stun.violated, false);
	pr_err("stun violation: the sibling had guest %lu, window_stun %lu, timed_out %lu, restricted %lu, exiting %lu, hook_depth %lu, class %lu, critical %lu\n",
	       v & 1, v >> 1 & 1, v >> 2 & 1, v >> 3 & 1, v >> 4 & 1,
	       v >> 8 & 15, v >> 12 & 15, v >> 16);
	return true;
}

/*
 * The siblings' lists. Serialised by the hotplug lock; readers on other
 * CPUs see each slot change at once (WRITE_ONCE) and skip empty ones.
 */
static struct cpumask asi_stun_online;

static void asi_stun_rebuild(unsigned int cpu)
{
	struct asi_cpu *c = &per_cpu(asi_cpu_page, cpu).cpu;
	unsigned int i = 0, sib;

	for_each_cpu_and(sib, topology_sibling_cpumask(cpu), &asi_stun_online) {
		if (sib == cpu)
			continue;
		if (i == ASI_STUN_MAX_SIBLINGS) {
			pr_err("CPU %u has more than %d SMT siblings: the others are not stunned\n",
			       cpu, ASI_STUN_MAX_SIBLINGS);
			break;
		}
		WRITE_ONCE(c->stun.sibling[i++], &per_cpu(asi_cpu_page, sib).cpu);
	}
	for (; i < ASI_STUN_MAX_SIBLINGS; i++)
		WRITE_ONCE(c->stun.sibling[i], NULL);
}

/*
 * Refuse every VM entry, on every CPU, while a CPU that its siblings do
 * not know of yet runs; kick the guests running now and wait for them
 * to be out, as asi_sibling_stun() does for its siblings.
 */
static void asi_stun_hold(bool on)
{
	unsigned int cpu, exits;
	struct asi_cpu *s;

	for_each_possible_cpu(cpu)
		WRITE_ONCE(per_cpu(asi_cpu_page, cpu).cpu.stun.hold, on);
	if (!on)
		return;
	/* @hold before the CPUs' @guest: pairs with asi_sibling_enter_guest(). */
	smp_mb();
	/* A kick is not to be interrupted by another (xAPIC). */
	local_irq_disable();
	for_each_online_cpu(cpu) {
		s = &per_cpu(asi_cpu_page, cpu).cpu;
		exits = READ_ONCE(s->stun.exits);
		/* @exits before @guest: an exit in between moves one of them. */
		smp_rmb();
		if (!READ_ONCE(s->stun.guest))
			continue;
		asi_arch_stun_kick(&s->arch);
		this_cpu_inc(asi_cpu_page.cpu.stun.kicks);
		if (!asi_stun_wait(s, exits)) {
			this_cpu_inc(asi_cpu_page.cpu.stun.timeouts);
			pr_warn_once("CPU %u stayed in its guest for a CPU coming online\n", cpu);
		}
	}
	local_irq_enable();
}

/* On the CPU that brings @cpu up, before @cpu runs. */
static int asi_stun_cpu_prepare(unsigned int cpu)
{
	asi_stun_hold(true);
	return 0;
}

/* On @cpu, once its topology is known: into its siblings' lists, unsafe. */
static int asi_stun_cpu_online(unsigned int cpu)
{
	unsigned int sib;

	asi_arch_stun_cpu_init(cpu);
	WRITE_ONCE(per_cpu(asi_cpu_page, cpu).cpu.stun.safe, 0);
	cpumask_set_cpu(cpu, &asi_stun_online);
	for_each_cpu(sib, topology_sibling_cpumask(cpu))
		asi_stun_rebuild(sib);
	asi_stun_rebuild(cpu);
	/* In the lists before the entries go on. */
	smp_mb();
	asi_stun_hold(false);
	return 0;
}

/*
 * On the CPU that took @cpu down, once @cpu is dead (or failed to come
 * up): its teardown ran in the full address space, in its siblings'
 * lists, so their guests waited; now out of them.
 */
static int asi_stun_cpu_dead(unsigned int cpu)
{
	unsigned int sib;

	cpumask_clear_cpu(cpu, &asi_stun_online);
	for_each_cpu(sib, &asi_stun_online)
		asi_stun_rebuild(sib);
	asi_stun_rebuild(cpu);
	asi_stun_hold(false);
	return 0;
}

static int asi_stun_show(struct seq_file *m, void *v)
{
	unsigned long stuns = 0, kicks = 0, refused = 0, timeouts = 0, violations = 0, mixed = 0;
	u64 cycles = 0;
	int cpu;

	for_each_possible_cpu(cpu) {
		struct asi_stun_cpu *st = &per_cpu(asi_cpu_page, cpu).cpu.stun;

		stuns += READ_ONCE(st->stuns);
		kicks += READ_ONCE(st->kicks);
		refused += READ_ONCE(st->refused);
		timeouts += READ_ONCE(st->timeouts);
		violations += READ_ONCE(st->violations);
		mixed += READ_ONCE(st->mixed);
		cycles += READ_ONCE(st->wait_cycles);
	}
	seq_printf(m, "backend: %s\n",
		   READ_ONCE(asi_stun_on) ? asi_stun_names[asi_stun_mode] : "none");
	seq_printf(m, "stuns: %lu\nkicks: %lu\nrefused_entries: %lu\ntimeouts: %lu\nwait_cycles: %llu\n",
		   stuns, kicks, refused, timeouts, cycles);
	if (IS_ENABLED(CONFIG_ADDRESS_SPACE_ISOLATION_DEBUG))
		seq_printf(m, "violations: %lu\nmixed_guests: %lu\n", violations, mixed);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(asi_stun);

/* After asi_init() (core_initcall) and the topology. */
static int __init asi_stun_init(void)
{
	int ret, prepare;

	if (!asi_enabled())
		return 0;
	if (asi_stun_mode != ASI_STUN_NONE && !cpu_smt_possible()) {
		pr_info("no SMT: no sibling stun\n");
		return 0;
	}
	if (asi_stun_mode == ASI_STUN_NONE) {
		/* Loudly: ASI then covers leaks within a thread, not across. */
		if (cpu_smt_possible())
			pr_warn("asi_stun=none: SMT siblings are not stunned, a guest can sample what its sibling thread loads in the full address space\n");
		return 0;
	}
	ret = asi_arch_stun_init();
	if (!ret) {
		/* The CPUs online now: their lists, no hold. */
		cpus_read_lock();
		ret = cpuhp_setup_state_nocalls_cpuslocked(CPUHP_BP_PREPARE_DYN,
							   "asi/stun:prepare",
							   asi_stun_cpu_prepare,
							   asi_stun_cpu_dead);
		if (ret >= 0) {
			prepare = ret;
			ret = cpuhp_setup_state_cpuslocked(CPUHP_AP_ONLINE_DYN, "asi/stun:online",
							   asi_stun_cpu_online, NULL);
			if (ret < 0)
				cpuhp_remove_state_nocalls_cpuslocked(prepare);
		}
		cpus_read_unlock();
		ret = ret < 0 ? ret : 0;
	}
	if (ret) {
		pr_err("sibling stun could not start (%pe): ASI is off for this boot\n",
		       ERR_PTR(ret));
		asi_disable("no sibling stun", _RET_IP_);
		return 0;
	}
	WRITE_ONCE(asi_stun_exclusive, asi_stun_mode == ASI_STUN_CORESCHED);
	WRITE_ONCE(asi_stun_on, true);
	pr_info("sibling stun: %s\n", asi_stun_names[asi_stun_mode]);
	return 0;
}
subsys_initcall(asi_stun_init);

static int __init asi_stun_debugfs(void)
{
	if (!asi_debugfs_dir)
		return 0;
	debugfs_create_file("stun", 0444, asi_debugfs_dir, NULL, &asi_stun_fops);
#ifdef CONFIG_ADDRESS_SPACE_ISOLATION_DEBUG
	debugfs_create_bool("stun_break", 0600, asi_debugfs_dir, &asi_stun_break);
#endif
	return 0;
}
late_initcall_sync(asi_stun_debugfs);
