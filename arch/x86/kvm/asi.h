/* SPDX-License-Identifier: GPL-2.0 */
/* KVM's Address Space Isolation class: see arch/x86/kvm/asi.c. */
#ifndef ARCH_X86_KVM_ASI_H
#define ARCH_X86_KVM_ASI_H

#include <linux/asi.h>
#include <linux/kvm_host.h>

#ifdef CONFIG_MITIGATION_ADDRESS_SPACE_ISOLATION
void kvm_asi_init(void);
void kvm_asi_exit(void);
int kvm_asi_check_extension(void);
int kvm_asi_init_vm(struct kvm *kvm);
int kvm_asi_enable_cap(struct kvm *kvm, struct kvm_enable_cap *cap);
void kvm_asi_free_vm(struct asi *asi, struct kmem_cache *vcpus);
int kvm_asi_run_begin(struct kvm_vcpu *vcpu);
void kvm_asi_run_end(struct kvm_vcpu *vcpu);
void __kvm_asi_enter(struct kvm_vcpu *vcpu);
void kvm_asi_leave(struct kvm_vcpu *vcpu);
bool kvm_asi_vm_entry(struct kvm_vcpu *vcpu);
bool kvm_asi_vm_enter_last(struct kvm_vcpu *vcpu, struct asi **restricted);
void kvm_asi_vcpu_destroy(struct kvm_vcpu *vcpu);
void kvm_asi_vcpu_debugfs(struct kvm_vcpu *vcpu, struct dentry *dir);
void kvm_asi_vm_debugfs(struct kvm *kvm);
void *kvm_asi_kvmalloc(struct kvm *kvm, size_t size, gfp_t gfp);
void *kvm_asi_kzalloc(struct kvm *kvm, size_t size, gfp_t gfp);
void *kvm_asi_memdup_array_user(struct kvm *kvm, const void __user *src,
				size_t n, size_t size);
#ifdef CONFIG_ADDRESS_SPACE_ISOLATION_DEBUG
/* The benchmarks' flush-and-kick baseline (asi_baseline.c), debug only. */
int kvm_asi_baseline_prepare(void);
void kvm_asi_baseline_free(void);
void kvm_asi_baseline_flush(struct kvm_vcpu *vcpu);
void __kvm_asi_baseline_exit(struct kvm_vcpu *vcpu);
#else
static inline int kvm_asi_baseline_prepare(void) { return 0; }
static inline void kvm_asi_baseline_free(void) { }
static __always_inline void kvm_asi_baseline_flush(struct kvm_vcpu *vcpu) { }
static inline void __kvm_asi_baseline_exit(struct kvm_vcpu *vcpu) { }
#endif

static inline struct asi *kvm_asi_of(struct kvm *kvm)
{
	return kvm->arch.asi;
}

/*
 * For what the exit handlers touch: local to the VM's instance when it
 * has one. Only within asi_local_begin(kvm_asi_of(kvm)).
 */
static inline gfp_t kvm_asi_gfp(struct kvm *kvm)
{
	return kvm->arch.asi ? __GFP_LOCAL_NONSENSITIVE : 0;
}

/* Does this vCPU run in its VM's instance (this KVM_RUN)? */
static __always_inline bool kvm_asi_ready(struct kvm_vcpu *vcpu)
{
	return vcpu->arch.asi.ready;
}

/* Right before VM entry, interrupts off: see "Where KVM switches". */
static __always_inline void kvm_asi_enter(struct kvm_vcpu *vcpu)
{
	if (vcpu->arch.asi.ready)
		__kvm_asi_enter(vcpu);
}

/* The vendor's exit reason, for the per-reason figures. */
static __always_inline void kvm_asi_vm_exit(struct kvm_vcpu *vcpu, u32 code)
{
	/* Out of the guest: a sibling that stuns this CPU may go on. */
	asi_sibling_exit_guest();
	vcpu->arch.asi.exit_code = code;
}

/* After each VM exit, interrupts on: see asi_baseline.c. */
static inline void kvm_asi_baseline_exit(struct kvm_vcpu *vcpu)
{
	if (unlikely(vcpu->kvm->arch.asi_flush_kick))
		__kvm_asi_baseline_exit(vcpu);
}
#else
static inline void kvm_asi_init(void) { }
static inline void kvm_asi_exit(void) { }
static inline int kvm_asi_check_extension(void) { return 0; }
static inline int kvm_asi_init_vm(struct kvm *kvm) { return 0; }
static inline int kvm_asi_enable_cap(struct kvm *kvm, struct kvm_enable_cap *cap)
{
	return -ENXIO;
}

static inline void kvm_asi_free_vm(struct asi *asi, struct kmem_cache *vcpus) { }
static inline int kvm_asi_run_begin(struct kvm_vcpu *vcpu) { return 0; }
static inline void kvm_asi_run_end(struct kvm_vcpu *vcpu) { }
static inline void kvm_asi_enter(struct kvm_vcpu *vcpu) { }
static __always_inline bool kvm_asi_ready(struct kvm_vcpu *vcpu)
{
	return false;
}

static inline void kvm_asi_leave(struct kvm_vcpu *vcpu) { }
static __always_inline bool kvm_asi_vm_entry(struct kvm_vcpu *vcpu)
{
	return false;
}

static __always_inline bool kvm_asi_vm_enter_last(struct kvm_vcpu *vcpu,
						  struct asi **restricted)
{
	return false;
}

static __always_inline void kvm_asi_vm_exit(struct kvm_vcpu *vcpu, u32 code) { }
static inline void kvm_asi_baseline_exit(struct kvm_vcpu *vcpu) { }
static inline void kvm_asi_vcpu_destroy(struct kvm_vcpu *vcpu) { }
static inline void kvm_asi_vcpu_debugfs(struct kvm_vcpu *vcpu,
					struct dentry *dir) { }
static inline void kvm_asi_vm_debugfs(struct kvm *kvm) { }

static inline struct asi *kvm_asi_of(struct kvm *kvm)
{
	return NULL;
}

static inline gfp_t kvm_asi_gfp(struct kvm *kvm)
{
	return 0;
}

static inline void *kvm_asi_kvmalloc(struct kvm *kvm, size_t size, gfp_t gfp)
{
	return kvmalloc(size, gfp);
}

static inline void *kvm_asi_kzalloc(struct kvm *kvm, size_t size, gfp_t gfp)
{
	return kzalloc(size, gfp);
}

static inline void *kvm_asi_memdup_array_user(struct kvm *kvm,
					      const void __user *src,
					      size_t n, size_t size)
{
	return vmemdup_array_user(src, n, size);
}
#endif

#endif
