/* SPDX-License-Identifier: GPL-2.0 */
/* KVM's Address Space Isolation class: see arch/x86/kvm/asi.c. */
#ifndef ARCH_X86_KVM_ASI_H
#define ARCH_X86_KVM_ASI_H

#include <linux/kvm_host.h>

#ifdef CONFIG_MITIGATION_ADDRESS_SPACE_ISOLATION
void kvm_asi_init(void);
void kvm_asi_exit(void);
int kvm_asi_check_extension(void);
int kvm_asi_enable_cap(struct kvm *kvm, struct kvm_enable_cap *cap);
void kvm_asi_free_vm(struct asi *asi);

static inline struct asi *kvm_asi_of(struct kvm *kvm)
{
	return kvm->arch.asi;
}
#else
static inline void kvm_asi_init(void) { }
static inline void kvm_asi_exit(void) { }
static inline int kvm_asi_check_extension(void) { return 0; }
static inline int kvm_asi_enable_cap(struct kvm *kvm, struct kvm_enable_cap *cap)
{
	return -ENXIO;
}

static inline void kvm_asi_free_vm(struct asi *asi) { }

static inline struct asi *kvm_asi_of(struct kvm *kvm)
{
	return NULL;
}
#endif

#endif
