// SPDX-License-Identifier: GPL-2.0
/*
 * KVM as a client of Address Space Isolation (Documentation/mm/asi.rst):
 * the "kvm" class, one instance per VM, and the admin's and the VMM's
 * controls.
 *
 * The admin chooses with kvm.asi=off|optin|force (read-only at run time):
 * off, no VM gets an instance; optin, every VM gets one and the VMM turns
 * it on with KVM_ENABLE_CAP(KVM_CAP_X86_ASI) before it creates vCPUs;
 * force, every VM runs with it, and a VMM needs no change.
 *
 * The instance is made before struct kvm is allocated, because struct
 * kvm is what the exit handlers touch first and must be local to the VM
 * from the start: kvm_arch_alloc_vm() asks for it here. With optin, a VM
 * whose instance could not be made runs without ASI and the capability
 * says so (-ENXIO); with force, the VM cannot be created.
 *
 * Where KVM switches
 * ------------------
 * - asi_task_init() and the exit record, once per KVM_RUN, before
 *   vcpu_load(): it may sleep, and the vCPU thread's stack must be mapped
 *   before the first asi_enter() (the core's safety valve). There too
 *   the thread takes the VM's core-scheduling cookie, when the sibling
 *   stun's backend is "coresched" (kvm_asi_share_core()).
 * - asi_enter(), at the top of the fastpath loop of vcpu_enter_guest(),
 *   right before the vendor's vcpu_run: interrupts are off from there to
 *   VM entry, so nothing can leave again unnoticed except a fault or an
 *   NMI, and RCU still watches, which the enter's tracepoint needs. Later,
 *   inside svm/vmx_vcpu_enter_exit(), RCU may not watch, and
 *   guest_state_enter_irqoff() itself touches lockdep and context
 *   tracking data that no restricted space maps. Re-entering the instance
 *   the CPU is still in costs one per-CPU load, so a fastpath re-entry
 *   also re-enters after an ASI fault.
 * - kvm_asi_vm_entry(), in svm/vmx_vcpu_enter_exit() after
 *   guest_state_enter_irqoff(): the last point before VMRUN/VMLAUNCH where
 *   C runs. If the CPU is still in the VM's instance, the class's
 *   post_asi_enter hook did the flushes when it entered and nothing
 *   sensitive has been mapped since, so VMX skips its own L1D flush. If
 *   a fault in the vendor's pre-entry code left the instance, the entry
 *   is unprotected and VMX flushes as it always did.
 * - VMX only, kvm_asi_vm_enter_last(), right before VMLAUNCH/VMRESUME,
 *   after which only what every instance maps is touched: the decision
 *   checked again, since a fault between the two would otherwise enter
 *   the guest with the flush skipped after a full-space excursion
 *   (counted in asi_late_exits; the debug knob
 *   kvm.asi_provoke_late_exits makes some); then HOST_CR3 from CR3
 *   itself, so that the exit comes back to the address space of the
 *   entry (SVM's VMRUN saves and restores the host's CR3 by itself).
 *   Only an NMI or #MC can leave from there to the entry, and its
 *   return enters again; asi_check_cr3() after the exit catches a bug
 *   that leaves anyway, which would otherwise leave the CPU on the
 *   restricted table while ASI's state says full.
 * - No asi_exit() after VM exit: the exit handlers run restricted, and the
 *   first touch of memory the instance does not map leaves it (an ASI
 *   fault). That is the point: most exits never leave.
 * - asi_exit() where the thread may sleep or schedule: vcpu_block()
 *   before it halts, vcpu_run() before xfer_to_guest_mode_handle_work()
 *   (signals, need_resched), and at the end of KVM_RUN, which returns to
 *   user space. A voluntary schedule elsewhere faults on the scheduler's
 *   data first; the core's context-switch exit is the safety net.
 *
 * Core scheduling
 * ---------------
 * With the "coresched" backend, a vCPU thread takes the VM's cookie at
 * KVM_RUN and keeps it in user space (see mm/asi/coresched.c): KVM's
 * cookie wins over one the VMM set with prctl(PR_SCHED_CORE) on a vCPU
 * thread. The thread gets its own back when the VM is destroyed, when
 * another thread runs the vCPU, and when it holds a sibling vCPU of the
 * same VM out of its guest: a vCPU whose entries were refused for
 * KVM_ASI_HELD_OUT_US takes the cookie from a thread that carries it
 * on an SMT sibling of its CPU, outside KVM_RUN (kvm_asi_core_yield()).
 * Core scheduling then keeps the two threads apart, and a vCPU thread
 * takes the cookie again at its next KVM_RUN.
 *
 * What each exit cost is counted per vCPU in KVM's binary stats and per
 * exit reason in debugfs (kvm_asi_account()).
 */

#define pr_fmt(fmt) "kvm-asi: " fmt

#include <linux/asi.h>
#include <linux/cpufeature.h>
#include <linux/debugfs.h>
#include <linux/kvm_host.h>
#include <linux/moduleparam.h>
#include <linux/seq_file.h>
#include <linux/vmalloc.h>
#include <asm/msr.h>
#include <asm/nospec-branch.h>
#include <asm/svm.h>
#include <asm/vmx.h>

#include "asi.h"

enum kvm_asi_mode { KVM_ASI_OFF, KVM_ASI_OPTIN, KVM_ASI_FORCE };

static const char *const kvm_asi_mode_names[] = {
	[KVM_ASI_OFF] = "off",
	[KVM_ASI_OPTIN] = "optin",
	[KVM_ASI_FORCE] = "force",
};

/*
 * Written by kvm_asi_init() from the vendor module's init, when kvm.ko's
 * __ro_after_init data is read-only already: __read_mostly, and what
 * restricted code reads __asi_read_mostly.
 */
static int kvm_asi_mode __read_mostly = KVM_ASI_OFF;
static struct asi_class *kvm_asi_class __read_mostly;

static int kvm_asi_param_set(const char *val, const struct kernel_param *kp)
{
	int mode = sysfs_match_string(kvm_asi_mode_names, val);

	if (mode < 0) {
		pr_err("kvm.asi=%s: expected off, optin or force\n", val);
		return -EINVAL;
	}
	kvm_asi_mode = mode;
	return 0;
}

static int kvm_asi_param_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", kvm_asi_mode_names[kvm_asi_mode]);
}

static const struct kernel_param_ops kvm_asi_param_ops = {
	.set = kvm_asi_param_set,
	.get = kvm_asi_param_get,
};
module_param_cb(asi, &kvm_asi_param_ops, NULL, 0444);
MODULE_PARM_DESC(asi, "Address Space Isolation for VMs: off, optin (per VM, KVM_CAP_X86_ASI) or force");

/*
 * What the post_asi_enter hook flushes, chosen at init from the CPU's
 * bugs; mapped in every restricted space.
 */
static bool kvm_asi_flush_l1d __asi_read_mostly;
static bool kvm_asi_clear_buffers __asi_read_mostly;
/* The hook does all VMX would flush at entry (kvm_asi_vm_entry()). */
static bool kvm_asi_covers_entry __asi_read_mostly;

/*
 * A vCPU whose entries were refused this long looks for a thread of its
 * VM that holds it out from an SMT sibling: longer than a sibling takes
 * to handle an exit in the kernel, even one that allocates memory, and
 * than most exits to user space, since each look costs an ASI exit and a
 * pass through the scheduler. When it finds none, it looks again after
 * twice the time, and so on.
 */
#define KVM_ASI_HELD_OUT_US	1000
#define KVM_ASI_HELD_OUT_MAX	64	/* looks again at most every 64 ms */
static u64 kvm_asi_held_out_cycles __asi_read_mostly;

#ifdef CONFIG_ADDRESS_SPACE_ISOLATION_DEBUG
/*
 * Debug builds: off, a vCPU never takes the cookie back, so that a test
 * sees the stun alone keep a guest out beside a thread in user space, and
 * the hold-out that taking it back ends.
 */
static bool kvm_asi_core_yield_on = true;
module_param_named(asi_core_yield, kvm_asi_core_yield_on, bool, 0644);
MODULE_PARM_DESC(asi_core_yield,
		 "Debug: a vCPU held out of its guest takes the VM's core-scheduling cookie back (default Y)");
#define kvm_asi_core_yield_off()	(!READ_ONCE(kvm_asi_core_yield_on))
#else
#define kvm_asi_core_yield_off()	false
#endif

/*
 * The CPU is back in a VM's restricted space after an ASI exit, during
 * which it may have loaded host secrets into its L1D and buffers: flush
 * them before the guest can run, then let the sibling run its guest.
 * Runs only after a real exit, which is what makes the common VM entry
 * cheaper than KVM's flush on every entry.
 */
static noinstr void kvm_asi_post_enter(void)
{
	if (kvm_asi_flush_l1d)
		native_wrmsrl(MSR_IA32_FLUSH_CMD, L1D_FLUSH);
	if (kvm_asi_clear_buffers)
		x86_clear_cpu_buffers();
	asi_sibling_unstun();
}

/* The exit's sibling stun is the core's, for every class. */
static const struct asi_class_ops kvm_asi_ops = {
	.post_asi_enter = kvm_asi_post_enter,
};

/* From kvm_x86_vendor_init(), past its last error path. */
void kvm_asi_init(void)
{
	struct asi_class *class;

	if (kvm_asi_mode == KVM_ASI_OFF)
		return;
	/*
	 * L1TF: the MSR flush. Without it (old microcode) VMX keeps its own
	 * software flush on every entry, as kvm_asi_vm_entry() says.
	 * MDS-class bugs: VERW, also for MMIO stale data, as VMX does.
	 */
	kvm_asi_flush_l1d = boot_cpu_has_bug(X86_BUG_L1TF) &&
			    boot_cpu_has(X86_FEATURE_FLUSH_L1D);
	kvm_asi_clear_buffers = boot_cpu_has(X86_FEATURE_CLEAR_CPU_BUF) ||
				boot_cpu_has_bug(X86_BUG_MMIO_STALE_DATA);
	kvm_asi_covers_entry = kvm_asi_flush_l1d ||
			       !boot_cpu_has_bug(X86_BUG_L1TF);
	kvm_asi_held_out_cycles = div_u64((u64)tsc_khz * KVM_ASI_HELD_OUT_US, 1000);
	class = asi_register_class("kvm", &kvm_asi_ops, ASI_CLASS_LOCAL_KMALLOC);
	if (IS_ERR(class)) {
		/* force fails closed: no VM runs without ASI (kvm_asi_init_vm()). */
		if (kvm_asi_mode == KVM_ASI_FORCE) {
			pr_err("kvm.asi=force but ASI is not available (%pe): KVM_CREATE_VM will fail\n",
			       class);
			return;
		}
		pr_warn("kvm.asi=%s but ASI is not available (%pe): VMs run without it\n",
			kvm_asi_mode_names[kvm_asi_mode], class);
		kvm_asi_mode = KVM_ASI_OFF;
		return;
	}
	kvm_asi_class = class;
}

/**
 * kvm_asi_init_vm() - may this VM run?
 * @kvm: the VM, just allocated by kvm_arch_alloc_vm()
 *
 * With kvm.asi=force, a VM that has no ASI instance because ASI is not
 * available at all (booted without asi=on, or refused at boot) must not
 * run: that is what force promises.
 *
 * Return: 0, or -ENXIO for a VM that would run without ASI under force.
 */
int kvm_asi_init_vm(struct kvm *kvm)
{
	if (kvm_asi_mode != KVM_ASI_FORCE || kvm->arch.asi_enabled)
		return 0;
	pr_err_ratelimited("kvm.asi=force but ASI is not available: VM creation refused\n");
	return -ENXIO;
}

void kvm_asi_exit(void)
{
	kvm_asi_baseline_free();
	if (kvm_asi_class && !asi_unregister_class(kvm_asi_class))
		kvm_asi_class = NULL;
}

/*
 * struct kvm with the VM's instance: local to it when there is one.
 * Return: the zeroed structure, or NULL.
 */
struct kvm *kvm_arch_alloc_vm(void)
{
	struct kmem_cache *vcpus = NULL;
	struct asi_local_scope scope;
	struct asi *asi = NULL;
	gfp_t gfp = GFP_KERNEL_ACCOUNT | __GFP_ZERO;
	int flush_kick;
	struct kvm *kvm;

	/* A baseline VM gets no instance: see asi_baseline.c. */
	flush_kick = kvm_asi_mode == KVM_ASI_FORCE ? 0 : kvm_asi_baseline_prepare();
	if (flush_kick < 0)
		return NULL;
	if (kvm_asi_class && !flush_kick) {
		asi = asi_create(kvm_asi_class, NULL);
		/* Its vCPU threads share cores with no other VM's. */
		if (!IS_ERR(asi) && asi_core_cookie_init(asi)) {
			asi_put(asi);
			asi = ERR_PTR(-ENOMEM);
		}
		if (IS_ERR(asi)) {
			if (kvm_asi_mode == KVM_ASI_FORCE)
				return NULL;
			asi = NULL;	/* optin: this VM runs without */
		}
	}
	if (asi) {
		gfp |= __GFP_LOCAL_NONSENSITIVE;
		/* The user-copy region of kvm_main.c's kvm_vcpu_cache. */
		vcpus = asi_kmem_cache_create_usercopy(asi, "kvm_vcpu", kvm_vcpu_size,
						       kvm_vcpu_align, SLAB_ACCOUNT,
						       offsetof(struct kvm_vcpu, arch),
						       offsetofend(struct kvm_vcpu, stats_id) -
						       offsetof(struct kvm_vcpu, arch),
						       NULL);
		if (!vcpus) {
			asi_put(asi);
			if (kvm_asi_mode == KVM_ASI_FORCE)
				return NULL;
			asi = NULL;
			gfp &= ~__GFP_LOCAL_NONSENSITIVE;
		}
	}
	scope = asi_local_begin(asi);
	kvm = __vmalloc(kvm_x86_ops.vm_size, gfp);
	asi_local_end(scope);
	if (!kvm) {
		kvm_asi_free_vm(asi, vcpus);
		return NULL;
	}
	kvm->arch.asi = asi;
	kvm->arch.asi_vcpu_cache = vcpus;
	kvm->arch.asi_enabled = asi && kvm_asi_mode == KVM_ASI_FORCE;
	kvm->arch.asi_flush_kick = flush_kick;
	return kvm;
}

/*
 * After __kvm_arch_free_vm(), when every vCPU is gone: the instance
 * outlives what it maps.
 */
void kvm_asi_free_vm(struct asi *asi, struct kmem_cache *vcpus)
{
	if (vcpus)
		asi_kmem_cache_destroy(vcpus);
	asi_put(asi);
}

/**
 * kvm_asi_kvmalloc() - kvmalloc() for what the VM's exit handlers read
 * @kvm: the VM
 * @size: how many bytes
 * @gfp: the caller's flags
 *
 * The memory is local to the VM's instance when it has one: only the
 * VM's own state belongs here.
 *
 * Return: the memory, to be freed with kvfree(), or NULL.
 */
void *kvm_asi_kvmalloc(struct kvm *kvm, size_t size, gfp_t gfp)
{
	struct asi_local_scope scope = asi_local_begin(kvm_asi_of(kvm));
	void *p = kvmalloc(size, gfp | kvm_asi_gfp(kvm));

	asi_local_end(scope);
	return p;
}

/**
 * kvm_asi_kzalloc() - kzalloc() for what the VM's exit handlers read
 * @kvm: the VM
 * @size: how many bytes
 * @gfp: the caller's flags
 *
 * As kvm_asi_kvmalloc(), for objects freed with kfree(): the VM's
 * interrupt controllers, for example.
 *
 * Return: zeroed memory, or NULL.
 */
void *kvm_asi_kzalloc(struct kvm *kvm, size_t size, gfp_t gfp)
{
	struct asi_local_scope scope = asi_local_begin(kvm_asi_of(kvm));
	void *p = kzalloc(size, gfp | kvm_asi_gfp(kvm));

	asi_local_end(scope);
	return p;
}

/**
 * kvm_asi_memdup_array_user() - vmemdup_array_user() into VM-local memory
 * @kvm: the VM
 * @src: the user array
 * @n: its number of elements
 * @size: the size of one
 *
 * For tables the VMM hands KVM that exit handlers search, such as the
 * vCPU's CPUID entries.
 *
 * Return: the copy, to be freed with kvfree(), or an ERR_PTR().
 */
void *kvm_asi_memdup_array_user(struct kvm *kvm, const void __user *src,
				size_t n, size_t size)
{
	size_t bytes;
	void *p;

	if (check_mul_overflow(n, size, &bytes))
		return ERR_PTR(-EOVERFLOW);
	p = kvm_asi_kvmalloc(kvm, bytes, GFP_USER);
	if (!p)
		return ERR_PTR(-ENOMEM);
	if (copy_from_user(p, src, bytes)) {
		kvfree(p);
		return ERR_PTR(-EFAULT);
	}
	return p;
}

/* KVM_CHECK_EXTENSION(KVM_CAP_X86_ASI): 0 off, 1 optin, 2 force. */
int kvm_asi_check_extension(void)
{
	return kvm_asi_mode;
}

/*
 * KVM_ENABLE_CAP(KVM_CAP_X86_ASI) on a VM, args[0] = 1, before any vCPU.
 * The errors are documented in Documentation/virt/kvm/api.rst.
 */
int kvm_asi_enable_cap(struct kvm *kvm, struct kvm_enable_cap *cap)
{
	int r = 0;

	if (cap->args[0] != 1 || cap->args[1] || cap->args[2] || cap->args[3])
		return -EINVAL;
	mutex_lock(&kvm->lock);
	if (!kvm->arch.asi)
		r = -ENXIO;
	else if (kvm->arch.asi_enabled)
		r = -EEXIST;
	else if (kvm->created_vcpus)
		r = -EBUSY;
	else
		kvm->arch.asi_enabled = true;
	mutex_unlock(&kvm->lock);
	return r;
}

/*
 * Per exit reason, what it cost: for each vCPU, in debugfs. A slot per
 * VMX basic exit reason and per SVM exit code below 0xa0, then the SVM
 * codes from 0x400 (nested page fault, AVIC), then one for the rest.
 */
#define KVM_ASI_SLOT_SVM_HIGH	0xa0
#define KVM_ASI_SLOTS		(KVM_ASI_SLOT_SVM_HIGH + 0x20)
#define KVM_ASI_SLOT_OTHER	(KVM_ASI_SLOTS - 1)

struct kvm_asi_exit_stat {
	u64 exits;		/* VM exits with this reason */
	u64 restricted;		/* ... handled without leaving the instance */
	u64 unprotected;	/* ... after an entry outside the instance */
	u64 left[ASI_EXIT_NR];	/* ... that left, by the first exit's reason */
	u64 asi_exits;		/* real ASI exits while handling them */
	/* The latest first ASI fault: in the entry before one, or handling it. */
	unsigned long fault_ip;
	unsigned long fault_addr;
	u32 code;		/* the vendor's exit reason */
};

/*
 * What the entry before this exit was: none yet, in the instance after
 * the hook's flush (counted in asi_flushes) or with nothing to flush
 * (asi_flushes_skipped), or unprotected.
 */
enum {
	KVM_ASI_NONE,
	KVM_ASI_RESTRICTED,
	KVM_ASI_RESTRICTED_SKIPPED,
	KVM_ASI_UNPROTECTED,
};

static unsigned int kvm_asi_slot(u32 code)
{
	if (code < KVM_ASI_SLOT_SVM_HIGH)
		return code;
	if (code >= 0x400 && code < 0x400 + KVM_ASI_SLOT_OTHER - KVM_ASI_SLOT_SVM_HIGH)
		return KVM_ASI_SLOT_SVM_HIGH + code - 0x400;
	return KVM_ASI_SLOT_OTHER;
}

/* Under vcpu->mutex, or when the vCPU is destroyed. */
static void kvm_asi_unshare_core(struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_asi *a = &vcpu->arch.asi;

	if (!a->core_task)
		return;
	asi_task_unshare_core(vcpu->kvm->arch.asi, a->core_task, a->core_prev);
	put_task_struct(a->core_task);
	a->core_task = NULL;
}

/* From KVM_RUN: current takes the VM's cookie, if it has not yet. */
static void kvm_asi_share_core(struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_asi *a = &vcpu->arch.asi;
	struct asi *asi = vcpu->kvm->arch.asi;

	if (a->core_task == current && asi_task_in_core(asi, current))
		return;
	/* Another thread ran the vCPU, or its cookie changed or was taken. */
	kvm_asi_unshare_core(vcpu);
	a->core_prev = asi_task_share_core(asi);
	a->core_task = get_task_struct(current);
}

/*
 * Entries of @vcpu were refused for KVM_ASI_HELD_OUT_US. A thread that
 * carries the VM's cookie on an SMT sibling of this CPU may be what holds
 * it out, from user space. Unless it is in KVM_RUN (its vCPU's mutex is
 * held), where it soon enters its guest again, it loses the cookie: a
 * vCPU thread gets back the one it had before, another thread (one that
 * inherited it from a vCPU thread, or got it from the VMM) none. Core
 * scheduling then keeps it off this core while this vCPU runs.
 */
static void kvm_asi_core_yield(struct kvm_vcpu *vcpu)
{
	struct asi *asi = vcpu->kvm->arch.asi;
	bool taken = false;
	struct task_struct *p;
	struct kvm_vcpu *v;
	unsigned long i;

	if (kvm_asi_core_yield_off())
		return;
	p = asi_core_sibling_task(asi);
	if (!p)
		return;
	kvm_for_each_vcpu(i, v, vcpu->kvm) {
		if (READ_ONCE(v->arch.asi.core_task) != p)
			continue;
		if (!mutex_trylock(&v->mutex))
			goto out;
		if (v->arch.asi.core_task == p) {
			kvm_asi_unshare_core(v);
			taken = true;
		}
		mutex_unlock(&v->mutex);
	}
	if (!taken)
		asi_task_unshare_core(asi, p, 0);
	vcpu->stat.asi_core_yields++;
out:
	put_task_struct(p);
}

/*
 * From KVM_RUN before vcpu_load(). A VM with an instance asked for ASI:
 * if the thread cannot be prepared for it (no memory for the tables
 * that map its stack), KVM_RUN fails rather than run the vCPU without.
 */
int kvm_asi_run_begin(struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_asi *a = &vcpu->arch.asi;
	struct kvm *kvm = vcpu->kvm;
	int err;

	if (!kvm->arch.asi_enabled)
		return 0;
	if (!a->reasons) {
		struct asi_local_scope scope = asi_local_begin(kvm->arch.asi);

		/* Written while restricted, so local; without, no figures. */
		a->reasons = kvcalloc(KVM_ASI_SLOTS, sizeof(*a->reasons),
				      GFP_KERNEL_ACCOUNT | __GFP_LOCAL_NONSENSITIVE);
		asi_local_end(scope);
	}
	err = asi_task_init(kvm->arch.asi);
	if (err) {
		pr_err_ratelimited("KVM_RUN refused: cannot map the vCPU thread in the VM's ASI instance (%d)\n",
				   err);
		return err;
	}
	kvm_asi_share_core(vcpu);
	a->refused_since = 0;
	a->yield_after = kvm_asi_held_out_cycles;
	a->core_yield = false;
	a->pending = KVM_ASI_NONE;
	a->cpu = -1;
	a->stun_cpu = -1;
	asi_record_exits(&a->record);
	a->ready = true;
	return 0;
}

/*
 * Before each VM entry: account the VM exit before it, then enter the
 * VM's instance. Interrupts off; usually still restricted, so this must
 * touch only what the instance maps: the vCPU and its figures.
 */
static void kvm_asi_account(struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_asi *a = &vcpu->arch.asi;
	struct kvm_asi_exit_stat *st = NULL;
	struct asi_exit_record r;
	u8 pending = a->pending;

	a->pending = KVM_ASI_NONE;
	asi_take_exits(&a->record, &r);
	if (pending == KVM_ASI_NONE)
		return;
	if (a->reasons) {
		st = &a->reasons[kvm_asi_slot(a->exit_code)];
		st->code = a->exit_code;
		st->exits++;
	}
	if (st && r.fault_ip) {
		st->fault_ip = r.fault_ip;
		st->fault_addr = r.fault_addr;
	}
	if (pending == KVM_ASI_UNPROTECTED) {
		if (st)
			st->unprotected++;
		return;
	}
	if (!r.nr) {
		vcpu->stat.asi_exits_restricted++;
		if (st)
			st->restricted++;
		return;
	}
	vcpu->stat.asi_exits_left++;
	vcpu->stat.asi_exits += r.nr;
	switch (r.first) {
	case ASI_EXIT_FAULT:
		vcpu->stat.asi_left_fault++;
		break;
	case ASI_EXIT_INTERRUPT:
		vcpu->stat.asi_left_interrupt++;
		break;
	case ASI_EXIT_EXPLICIT:
		vcpu->stat.asi_left_explicit++;
		break;
	default:
		vcpu->stat.asi_left_other++;
		break;
	}
	if (!st)
		return;
	st->asi_exits += r.nr;
	if (r.first < ASI_EXIT_NR)
		st->left[r.first]++;
}

void __kvm_asi_enter(struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_asi *a = &vcpu->arch.asi;

	if (unlikely(a->refused_since) && !a->core_yield &&
	    rdtsc() - a->refused_since > a->yield_after) {
		/* To kvm_asi_leave(), where the thread may take a mutex. */
		a->core_yield = true;
		set_tsk_need_resched(current);
		set_preempt_need_resched();
	}
	kvm_asi_account(vcpu);
	asi_enter(vcpu->kvm->arch.asi);
}

/* Where the thread may sleep or schedule: see "Where KVM switches". */
void kvm_asi_leave(struct kvm_vcpu *vcpu)
{
	unsigned long flags;

	if (!vcpu->arch.asi.ready)
		return;
	local_irq_save(flags);
	asi_exit();
	local_irq_restore(flags);
	if (unlikely(vcpu->arch.asi.core_yield)) {
		/*
		 * Held out by a sibling in the kernel, it may look again
		 * only twice as late: each look costs this exit.
		 */
		vcpu->arch.asi.core_yield = false;
		vcpu->arch.asi.yield_after = min(2 * vcpu->arch.asi.yield_after,
						 KVM_ASI_HELD_OUT_MAX * kvm_asi_held_out_cycles);
		kvm_asi_core_yield(vcpu);
	}
}

/* At the end of KVM_RUN, on the way back to user space. */
void kvm_asi_run_end(struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_asi *a = &vcpu->arch.asi;

	if (!a->ready)
		return;
	local_irq_disable();
	asi_exit();
	/* The exit that returns to user space: this explicit exit is its. */
	kvm_asi_account(vcpu);
	local_irq_enable();
	asi_record_exits(NULL);
	a->ready = false;
}

/* The stuns of this CPU since the last entry on it are this vCPU's. */
static __always_inline void kvm_asi_count_stuns(struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_asi *a = &vcpu->arch.asi;
	struct asi_stun_counts c;

	asi_stun_counts(&c);
	if (a->stun_cpu == vcpu->cpu) {
		vcpu->stat.asi_stuns += c.stuns - a->stun.stuns;
		vcpu->stat.asi_stun_kicks += c.kicks - a->stun.kicks;
		vcpu->stat.asi_stun_wait_cycles += c.wait_cycles - a->stun.wait_cycles;
	}
	a->stun = c;
	a->stun_cpu = vcpu->cpu;
}

/**
 * kvm_asi_vm_entry() - the last check before VM entry
 * @vcpu: the vCPU about to enter
 *
 * Called by svm/vmx_vcpu_enter_exit() with interrupts off, possibly with
 * RCU not watching. Counts whether this entry follows a flush by the
 * class's post_asi_enter hook or needs none because the CPU has stayed
 * in the VM's instance since the last entry on this CPU. A VM of the
 * benchmarks' flush-and-kick baseline flushes the L1D here instead.
 *
 * Return: true when the CPU is in the VM's instance and the hook covers
 * the flushes VMX would do here; false when the caller must flush.
 */
noinstr bool kvm_asi_vm_entry(struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_asi *a = &vcpu->arch.asi;
	unsigned long enters;

	if (!a->ready) {
		if (unlikely(vcpu->kvm->arch.asi_flush_kick))
			kvm_asi_baseline_flush(vcpu);
		return false;
	}
	/*
	 * No guest code while an SMT sibling may touch secrets: when one is
	 * not safe, this entry exits at once and vcpu_run() tries again.
	 */
	if (asi_sibling_enter_guest()) {
		a->refused_since = 0;
		a->yield_after = kvm_asi_held_out_cycles;
	} else {
		vcpu->stat.asi_stun_refused++;
		if (!a->refused_since)
			a->refused_since = rdtsc() | 1;
	}
	kvm_asi_count_stuns(vcpu);
	if (asi_current() != vcpu->kvm->arch.asi) {
		a->pending = KVM_ASI_UNPROTECTED;
		vcpu->stat.asi_unprotected_entries++;
		/*
		 * An ASI fault left the instance: not an event VMX's
		 * conditional L1D flush (vmentry_l1d_flush=cond) knows of.
		 */
		vcpu->arch.l1tf_flush_l1d = true;
		return false;
	}
	enters = asi_cpu_enters();
	if (a->cpu == vcpu->cpu && a->cpu_enters == enters) {
		a->pending = KVM_ASI_RESTRICTED_SKIPPED;
		vcpu->stat.asi_flushes_skipped++;
	} else {
		a->pending = KVM_ASI_RESTRICTED;
		vcpu->stat.asi_flushes++;
	}
	a->cpu = vcpu->cpu;
	a->cpu_enters = enters;
	/* An L1TF CPU without the flush MSR keeps VMX's software flush. */
	return kvm_asi_covers_entry;
}
EXPORT_SYMBOL_GPL(kvm_asi_vm_entry);

#ifdef CONFIG_ADDRESS_SPACE_ISOLATION_DEBUG
/*
 * Debug builds: make that many VM entries leave the instance after
 * kvm_asi_vm_entry() decided, so that a test sees the late check at
 * work. The key and the count are what restricted code may read (the
 * count is declared globally nonsensitive); the target is not mapped,
 * so touching it is the exit, once per count.
 */
static DEFINE_STATIC_KEY_FALSE(kvm_asi_provoke_key);
static DEFINE_MUTEX(kvm_asi_provoke_lock);
static atomic_t kvm_asi_late_exits_left __asi_global_nonsensitive;
static unsigned long kvm_asi_late_exit_target;

static int kvm_asi_late_exits_set(const char *val, const struct kernel_param *kp)
{
	int n, err = kstrtoint(val, 0, &n);

	if (err || n < 0)
		return -EINVAL;
	mutex_lock(&kvm_asi_provoke_lock);
	atomic_set(&kvm_asi_late_exits_left, n);
	if (n)
		static_branch_enable(&kvm_asi_provoke_key);
	else
		static_branch_disable(&kvm_asi_provoke_key);
	mutex_unlock(&kvm_asi_provoke_lock);
	return 0;
}

static int kvm_asi_late_exits_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&kvm_asi_late_exits_left));
}

static const struct kernel_param_ops kvm_asi_late_exits_ops = {
	.set = kvm_asi_late_exits_set,
	.get = kvm_asi_late_exits_get,
};
module_param_cb(asi_provoke_late_exits, &kvm_asi_late_exits_ops, NULL, 0644);
MODULE_PARM_DESC(asi_provoke_late_exits,
		 "Debug: the next N VM entries in a VM's ASI instance touch unmapped memory after the flush decision");

static __always_inline void kvm_asi_provoke_late_exit(void)
{
	if (static_branch_unlikely(&kvm_asi_provoke_key) &&
	    raw_atomic_add_unless(&kvm_asi_late_exits_left, -1, 0))
		WRITE_ONCE(kvm_asi_late_exit_target, kvm_asi_late_exit_target + 1);
}
#else
static __always_inline void kvm_asi_provoke_late_exit(void) { }
#endif

/**
 * kvm_asi_vm_enter_last() - the entry's protection, decided for good
 * @vcpu: the vCPU about to enter
 * @restricted: set to the instance the CPU is in, or NULL
 *
 * Called by VMX right before VMLAUNCH/VMRESUME, after which only what
 * every instance maps is touched: kvm_asi_vm_entry() decided earlier,
 * and a fault since may have left the instance, so the flushes it let
 * VMX skip, or those VMX did before the excursion, would be missing.
 * Such an entry counts as unprotected and late instead of as restricted.
 *
 * Return: true when the caller must flush as it does without ASI.
 */
noinstr bool kvm_asi_vm_enter_last(struct kvm_vcpu *vcpu, struct asi **restricted)
{
	struct kvm_vcpu_asi *a = &vcpu->arch.asi;
	struct asi *asi = vcpu->kvm->arch.asi;

	if (a->pending == KVM_ASI_RESTRICTED || a->pending == KVM_ASI_RESTRICTED_SKIPPED)
		kvm_asi_provoke_late_exit();
	*restricted = asi_current();
	if (likely(*restricted == asi))
		return false;
	switch (a->pending) {
	case KVM_ASI_RESTRICTED:
		vcpu->stat.asi_flushes--;
		break;
	case KVM_ASI_RESTRICTED_SKIPPED:
		vcpu->stat.asi_flushes_skipped--;
		break;
	default:
		return false;	/* unprotected already: VMX flushed after it left */
	}
	a->pending = KVM_ASI_UNPROTECTED;
	vcpu->stat.asi_unprotected_entries++;
	vcpu->stat.asi_late_exits++;
	/* The full address space ran: VMX's conditional flush must not skip. */
	vcpu->arch.l1tf_flush_l1d = true;
	return true;
}
EXPORT_SYMBOL_GPL(kvm_asi_vm_enter_last);

void kvm_asi_vcpu_destroy(struct kvm_vcpu *vcpu)
{
	kvm_asi_unshare_core(vcpu);
	kvfree(vcpu->arch.asi.reasons);
	vcpu->arch.asi.reasons = NULL;
}

struct kvm_asi_reason_name {
	u32 code;
	const char *name;
};

static const struct kvm_asi_reason_name kvm_asi_svm_names[] = { SVM_EXIT_REASONS };
static const struct kvm_asi_reason_name kvm_asi_vmx_names[] = { VMX_EXIT_REASONS };

static const char *kvm_asi_reason_name(u32 code)
{
	const struct kvm_asi_reason_name *n = kvm_asi_vmx_names;
	size_t i, nr = ARRAY_SIZE(kvm_asi_vmx_names);

	if (boot_cpu_has(X86_FEATURE_SVM)) {
		n = kvm_asi_svm_names;
		nr = ARRAY_SIZE(kvm_asi_svm_names);
	}
	for (i = 0; i < nr; i++)
		if (n[i].code == code)
			return n[i].name;
	return "?";
}

/*
 * debugfs kvm/<pid>-<fd>/vcpu<N>/asi_exits: one line per exit reason
 * seen. The counts are read racily, as KVM's other statistics are.
 */
static int kvm_asi_exits_show(struct seq_file *m, void *v)
{
	struct kvm_vcpu *vcpu = m->private;
	struct kvm_asi_exit_stat *st = vcpu->arch.asi.reasons;
	unsigned int i;

	seq_printf(m, "%-22s %6s %10s %10s %10s %10s %8s %8s %8s %8s  %s\n",
		   "reason", "code", "exits", "restricted", "unprotectd",
		   "asi_exits", "fault", "intr", "explicit", "other",
		   "last fault ip (address)");
	if (!st)
		return 0;
	for (i = 0; i < KVM_ASI_SLOTS; i++, st++) {
		u64 other;

		if (!READ_ONCE(st->exits))
			continue;
		other = st->left[ASI_EXIT_EXCEPTION] + st->left[ASI_EXIT_NMI] +
			st->left[ASI_EXIT_CONTEXT_SWITCH];
		seq_printf(m, "%-22s %#6x %10llu %10llu %10llu %10llu %8llu %8llu %8llu %8llu",
			   kvm_asi_reason_name(st->code), st->code, st->exits,
			   st->restricted, st->unprotected, st->asi_exits,
			   st->left[ASI_EXIT_FAULT], st->left[ASI_EXIT_INTERRUPT],
			   st->left[ASI_EXIT_EXPLICIT], other);
		if (st->fault_ip)
			seq_printf(m, "  %pS (%#lx)", (void *)st->fault_ip,
				   st->fault_addr);
		seq_putc(m, '\n');
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kvm_asi_exits);

void kvm_asi_vcpu_debugfs(struct kvm_vcpu *vcpu, struct dentry *dir)
{
	if (vcpu->kvm->arch.asi)
		debugfs_create_file("asi_exits", 0444, dir, vcpu,
				    &kvm_asi_exits_fops);
}

static const char *kvm_asi_mapped(struct asi *asi, const void *addr)
{
	return asi_maps(asi, addr) ? "mapped" : "unmapped";
}

/* What the exit handlers reach first of a vCPU: see "Local to the VM". */
static void kvm_asi_show_vcpus(struct seq_file *m, struct asi *asi,
			       struct kvm *kvm, const char *whose)
{
	struct kvm_vcpu *vcpu;
	unsigned long i;

	kvm_for_each_vcpu(i, vcpu, kvm) {
		seq_printf(m, "%s vcpu%lu %s\n", whose, i, kvm_asi_mapped(asi, vcpu));
		seq_printf(m, "%s vcpu%lu.run %s\n", whose, i,
			   kvm_asi_mapped(asi, vcpu->run));
		if (vcpu->arch.apic)
			seq_printf(m, "%s vcpu%lu.apic %s\n", whose, i,
				   kvm_asi_mapped(asi, vcpu->arch.apic));
	}
}

/*
 * debugfs kvm/<pid>-<fd>/asi_isolation: what the VM's instance maps,
 * checked while the VM may be running. The audit of the instance (every
 * page mapped must have been declared for it, or globally), then probes,
 * one line each, "<whose> <object> mapped|unmapped": this VM's own
 * structures, which its exit handlers use; a buffer and a page the host
 * allocates for the occasion and the VMM's mm_struct; and the same
 * structures of every other VM. Only "self" may say mapped.
 */
static int kvm_asi_isolation_show(struct seq_file *m, void *v)
{
	struct kvm *kvm = m->private, *other;
	struct asi *asi = kvm->arch.asi;
	unsigned int violations;
	struct page *page;
	void *buf;
	long pages;

	pages = asi_audit(asi, &violations);
	seq_printf(m, "audit_pages %ld\naudit_violations %u\n", pages, violations);

	seq_printf(m, "self kvm %s\n", kvm_asi_mapped(asi, kvm));
	kvm_asi_show_vcpus(m, asi, kvm, "self");

	buf = kmalloc(64, GFP_KERNEL);
	page = alloc_page(GFP_KERNEL);
	if (!buf || !page) {
		kfree(buf);
		if (page)
			__free_page(page);
		return -ENOMEM;
	}
	seq_printf(m, "host kmalloc %s\n", kvm_asi_mapped(asi, buf));
	seq_printf(m, "host page %s\n", kvm_asi_mapped(asi, page_address(page)));
	kfree(buf);
	__free_page(page);
	if (current->mm)
		seq_printf(m, "host mm %s\n", kvm_asi_mapped(asi, current->mm));

	/* vCPUs are freed only after their VM left vm_list, under kvm_lock. */
	mutex_lock(&kvm_lock);
	list_for_each_entry(other, &vm_list, vm_list) {
		if (other == kvm)
			continue;
		seq_printf(m, "other kvm %s\n", kvm_asi_mapped(asi, other));
		kvm_asi_show_vcpus(m, asi, other, "other");
	}
	mutex_unlock(&kvm_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kvm_asi_isolation);

void kvm_asi_vm_debugfs(struct kvm *kvm)
{
	if (kvm->arch.asi)
		debugfs_create_file("asi_isolation", 0400, kvm->debugfs_dentry,
				    kvm, &kvm_asi_isolation_fops);
}
