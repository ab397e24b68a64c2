/*
 * SPDX-License-Identifier: GPL-2.0
 *
 * A model of ASI's sibling stun (mm/asi/stun.c), checked with spin by
 * check-stun.sh. Two SMT siblings of one core, each of which runs host
 * code in the full address space, host code in a restricted space, or
 * guest code, and may take an NMI at every step and an interrupt at
 * every step where its interrupts are on.
 *
 * The property (ltl "isolated"): no CPU executes guest instructions
 * while its sibling runs in the full address space past its stun, that
 * is, while the sibling may be touching secrets. A CPU that is in
 * asi_sibling_stun(), or that entered the full space and has not yet
 * done anything there, is not counted: it touches only what every
 * restricted space maps.
 *
 * Progress: no deadlock (no invalid end state), no wait in a stun that
 * can last forever under weak fairness (ltl "stun_ends_0/1"), and no
 * cycle in which neither CPU gets anything done (spin -l, the progress
 * labels below).
 *
 * Memory order: every step is one access, and the steps of the two CPUs
 * interleave in program order, as they do in the kernel with the full
 * barriers of asi_sibling_stun() and asi_sibling_check() between each
 * store and the load after it (the store-buffering pattern).
 *
 * Each step names the C function it stands for.
 *
 * -DMUTANT_IRQ_WINDOW: the check before VM entry is done with interrupts
 * on, so an interrupt can take the stun IPI before the entry and the
 * entry does not bounce: the race of Junaid Shahid's protocol as
 * Alexandre Chartre described it. check-stun.sh expects spin to find it.
 */

#define N	2
#define sib(i)	(1 - (i))

bit safe[N];		/* stun.safe: restricted, buffers flushed */
byte leaving[N];	/* stun.leaving: in asi_sibling_stun(), nested count */
bit guest[N];		/* stun.guest: between the check and the VM exit */
bit ack[N];		/* stun.exits moved on since the sibling's snapshot */
bit ipi[N];		/* a stun IPI is pending in the local APIC */
bit cr3r[N];		/* CR3 holds the restricted table */
bit exiting[N];		/* core: an exit between its hook and its CR3 write */
bit nmi_busy[N];	/* an NMI handler runs: NMIs do not nest */
bit irqs[N];		/* interrupts on */

/* Ghosts: what the property speaks of. */
bit inguest[N];		/* executing guest instructions */
bit secret[N];		/* in the full space, may touch secrets */

ltl isolated { [] !((inguest[0] && secret[1]) || (inguest[1] && secret[0])) }
ltl stun_ends_0 { [] ((leaving[0] > 0) -> <> (leaving[0] == 0)) }
ltl stun_ends_1 { [] ((leaving[1] > 0) -> <> (leaving[1] == 0)) }

/*
 * asi_sibling_stun() in NMI context: no NMI nests in it.
 */
inline stun_nmi(i)
{
	leaving[i]++;					/* asi_sibling_stun() */
	safe[i] = 0;					/* asi_sibling_stun() */
	ack[sib(i)] = 0;				/* asi_sibling_stun() */
	if						/* asi_sibling_stun() */
	:: guest[sib(i)] -> ipi[sib(i)] = 1;
		/* asi_stun_wait() */
		(guest[sib(i)] == 0 || ack[sib(i)] || leaving[sib(i)] > 0)
	:: else -> skip
	fi;
	leaving[i]--					/* asi_sibling_stun() */
}

/*
 * __asi_intr_enter() and __asi_intr_exit() around an NMI handler: leave
 * a restricted space with a complete exit, and on return enter again,
 * unless the NMI interrupted an exit that was already under way.
 */
inline nmi(i)
{
	nmi_busy[i] = 1;
	if
	:: cr3r[i] ->
		was_exiting = exiting[i];		/* __asi_intr_enter() */
		exiting[i] = 1;				/* __asi_switch_to_full() */
		stun_nmi(i);				/* asi_sibling_stun() */
		cr3r[i] = 0;				/* __asi_switch_to_full() */
		exiting[i] = was_exiting;		/* __asi_switch_to_full() */
		secret[i] = 1;				/* the NMI handler */
		secret[i] = 0;				/* __asi_intr_exit() */
		if
		:: was_exiting -> skip			/* __asi_intr_exit() */
		:: else ->
			cr3r[i] = 1;			/* __asi_switch_to_restricted() */
			safe[i] = 1			/* asi_sibling_unstun() */
		fi
	:: else ->
		skip					/* NMI handler, full space */
	fi;
	nmi_busy[i] = 0
}

/*
 * For the progress checks, -DQUIET=K: at most K NMIs and K interrupts
 * other than stun IPIs in all, so that every run ends quiet (a storm of
 * NMIs that never ends stops any CPU, with or without ASI). The safety
 * check has no limit.
 */
#ifdef QUIET
byte events = QUIET;
#define EVENT		(events > 0)
#define TAKE_EVENT	events--
#else
#define EVENT		true
#define TAKE_EVENT	skip
#endif

#define NMI_POINT(i)	if :: !nmi_busy[i] && EVENT -> TAKE_EVENT; nmi(i) \
			   :: else -> skip :: skip fi

/*
 * asi_sibling_stun(), NMIs possible between its steps.
 */
inline stun(i)
{
	leaving[i]++;					/* asi_sibling_stun() */
	NMI_POINT(i);
	safe[i] = 0;					/* asi_sibling_stun() */
	NMI_POINT(i);
	ack[sib(i)] = 0;				/* asi_sibling_stun() */
	if						/* asi_sibling_stun() */
	:: guest[sib(i)] ->
		NMI_POINT(i);
		ipi[sib(i)] = 1;			/* asi_arch_stun_kick() */
		NMI_POINT(i);
		/* one NMI while waiting: NMIs do not come forever */
		NMI_POINT(i);
		/* asi_stun_wait() */
		(guest[sib(i)] == 0 || ack[sib(i)] || leaving[sib(i)] > 0)
	:: else -> skip
	fi;
	leaving[i]--					/* asi_sibling_stun() */
}

/* __asi_switch_to_full(): interrupts off. */
inline asi_exit_full(i)
{
	exiting[i] = 1;
	NMI_POINT(i);
	stun(i);					/* asi_sibling_stun() */
	NMI_POINT(i);
	cr3r[i] = 0;
	exiting[i] = 0;
	secret[i] = 1
}

/* __asi_switch_to_restricted(): interrupts off. */
inline asi_enter_restricted(i)
{
	secret[i] = 0;
	NMI_POINT(i);
	cr3r[i] = 1;
	NMI_POINT(i);
	safe[i] = 1					/* asi_sibling_unstun() */
}

/*
 * An interrupt: it leaves a restricted space for its handler and its
 * return enters again (asi_intr_enter(), asi_intr_exit()).
 */
inline irq(i)
{
	irqs[i] = 0;
	if
	:: cr3r[i] ->
		asi_exit_full(i);
		asi_enter_restricted(i)
	:: else -> skip
	fi;
	irqs[i] = 1
}

/*
 * The stun IPI's own vector: its handler only acknowledges it, touches
 * what every restricted space maps, and does not leave ASI
 * (sysvec_asi_stun()). Were it to leave, its exit would stun the sibling
 * in turn, and two siblings could bounce each other out of their guests
 * forever: the progress check finds that cycle.
 */
inline stun_irq(i)
{
	irqs[i] = 0;
	ipi[i] = 0;					/* sysvec_asi_stun() */
	irqs[i] = 1
}

/* A pending interrupt is taken as soon as interrupts are on. */
#define IRQ_POINT(i)	if :: irqs[i] && ipi[i] -> stun_irq(i) \
			   :: irqs[i] && !ipi[i] && EVENT -> TAKE_EVENT; irq(i) \
			   :: !(irqs[i] && ipi[i]) -> skip fi

proctype cpu(byte i)
{
	bit was_exiting;

	/* A CPU boots in the full address space. */
	secret[i] = 1;
	irqs[i] = 1;
host_full:
progress_host:
	IRQ_POINT(i);
	NMI_POINT(i);
	/* asi_enter(), from the vCPU loop or the idle loop */
	irqs[i] = 0;
	asi_enter_restricted(i);
	irqs[i] = 1;
restricted:
	IRQ_POINT(i);
	NMI_POINT(i);
	if
	:: /* vcpu_enter_guest(): the attempt to run the guest */
		irqs[i] = 0;
		if
		:: !cr3r[i] -> irqs[i] = 1; goto host_full	/* left meanwhile */
		:: else -> skip
		fi;
		NMI_POINT(i);
		if
		:: /* an ASI fault in the vendor's pre-entry code */
			asi_exit_full(i)
		:: skip
		fi;
#ifdef MUTANT_IRQ_WINDOW
		irqs[i] = 1;
#endif
		guest[i] = 1;				/* asi_sibling_enter_guest() */
		NMI_POINT(i);
		if					/* asi_sibling_enter_guest() */
		:: safe[sib(i)] -> skip
		:: else ->
			guest[i] = 0;			/* asi_sibling_enter_guest() */
			ack[i] = 1;
			/* asi_arch_stun_self(): the entry will exit at once */
			ipi[i] = 1
		fi;
		/* the window up to VMRUN/VMLAUNCH */
		IRQ_POINT(i);
		NMI_POINT(i);
		if
		:: /* VMX: an ASI fault after kvm_asi_vm_entry() */
			asi_exit_full(i)
		:: skip
		fi;
		IRQ_POINT(i);
		NMI_POINT(i);
		irqs[i] = 0;
		/* VMRUN: a pending interrupt exits before any guest instruction */
		secret[i] = 0;
		if
		:: ipi[i] -> skip
		:: else ->
			inguest[i] = 1;
progress_guest:
			/* until an interrupt or the guest exits */
			if
			:: ipi[i]
			:: skip
			fi;
			inguest[i] = 0
		fi;
		secret[i] = !cr3r[i];
		guest[i] = 0;				/* asi_sibling_exit_guest() */
		ack[i] = 1;				/* asi_sibling_exit_guest() */
		NMI_POINT(i);
		irqs[i] = 1;
		if
		:: cr3r[i] -> goto restricted
		:: else -> goto host_full
		fi
	:: /* an ASI fault, or asi_exit() on the way to user space */
		irqs[i] = 0;
		asi_exit_full(i);
		irqs[i] = 1;
		goto host_full
	:: /* Idle-ASI: halt until an interrupt */
		skip;
progress_idle:
		goto restricted
	fi
}

init
{
	atomic {
		run cpu(0);
		run cpu(1)
	}
}
