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
 */

#define pr_fmt(fmt) "kvm-asi: " fmt

#include <linux/asi.h>
#include <linux/kvm_host.h>
#include <linux/moduleparam.h>
#include <linux/vmalloc.h>

#include "asi.h"

enum kvm_asi_mode { KVM_ASI_OFF, KVM_ASI_OPTIN, KVM_ASI_FORCE };

static const char *const kvm_asi_mode_names[] = {
	[KVM_ASI_OFF] = "off",
	[KVM_ASI_OPTIN] = "optin",
	[KVM_ASI_FORCE] = "force",
};

static int kvm_asi_mode __ro_after_init = KVM_ASI_OFF;
static struct asi_class *kvm_asi_class __ro_after_init;

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

/* No hooks yet: the flushes and the sibling stun come with VM entry. */
static const struct asi_class_ops kvm_asi_ops;

/* From kvm_x86_vendor_init(), past its last error path. */
void kvm_asi_init(void)
{
	struct asi_class *class;

	if (kvm_asi_mode == KVM_ASI_OFF)
		return;
	class = asi_register_class("kvm", &kvm_asi_ops, ASI_CLASS_LOCAL_KMALLOC);
	if (IS_ERR(class)) {
		pr_info("kvm.asi=%s but no class (%pe): VMs run without ASI\n",
			kvm_asi_mode_names[kvm_asi_mode], class);
		kvm_asi_mode = KVM_ASI_OFF;
		return;
	}
	kvm_asi_class = class;
}

void kvm_asi_exit(void)
{
	if (kvm_asi_class && !asi_unregister_class(kvm_asi_class))
		kvm_asi_class = NULL;
}

/*
 * struct kvm with the VM's instance: local to it when there is one.
 * Return: the zeroed structure, or NULL.
 */
struct kvm *kvm_arch_alloc_vm(void)
{
	struct asi_local_scope scope;
	struct asi *asi = NULL;
	gfp_t gfp = GFP_KERNEL_ACCOUNT | __GFP_ZERO;
	struct kvm *kvm;

	if (kvm_asi_class) {
		asi = asi_create(kvm_asi_class, NULL);
		if (IS_ERR(asi)) {
			if (kvm_asi_mode == KVM_ASI_FORCE)
				return NULL;
			asi = NULL;	/* optin: this VM runs without */
		}
	}
	if (asi)
		gfp |= __GFP_LOCAL_NONSENSITIVE;
	scope = asi_local_begin(asi);
	kvm = __vmalloc(kvm_x86_ops.vm_size, gfp);
	asi_local_end(scope);
	if (!kvm) {
		asi_put(asi);
		return NULL;
	}
	kvm->arch.asi = asi;
	kvm->arch.asi_enabled = asi && kvm_asi_mode == KVM_ASI_FORCE;
	return kvm;
}

/* After __kvm_arch_free_vm(): the instance outlives what it maps. */
void kvm_asi_free_vm(struct asi *asi)
{
	asi_put(asi);
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
