// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_CAP_X86_ASI: what KVM_CHECK_EXTENSION reports for each kvm.asi mode
 * (0 off, 1 optin, 2 force), and every documented error of
 * KVM_ENABLE_CAP: bad arguments (EINVAL), no instance for the VM
 * (ENXIO), already enabled, including by force (EEXIST), vCPUs already
 * created (EBUSY). The mode comes from the kernel command line; the test
 * checks whichever it finds.
 */
#include <errno.h>
#include <sys/ioctl.h>

#include "test_util.h"
#include "kvm_util.h"

static int enable(struct kvm_vm *vm, __u32 flags, __u64 arg0, __u64 arg1)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_X86_ASI,
		.flags = flags,
		.args = { arg0, arg1 },
	};

	return __vm_ioctl(vm, KVM_ENABLE_CAP, &cap);
}

static void expect_errno(int r, int err, const char *what)
{
	TEST_ASSERT(r == -1 && errno == err, "%s: got %d errno %d, want errno %d",
		    what, r, errno, err);
}

int main(void)
{
	int mode = kvm_check_cap(KVM_CAP_X86_ASI);
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	TEST_ASSERT(mode >= 0 && mode <= 2, "KVM_CAP_X86_ASI reports %d", mode);
	ksft_print_header();
	ksft_set_plan(1);
	pr_info("kvm.asi mode %d (0 off, 1 optin, 2 force)\n", mode);

	vm = vm_create_barebones();
	expect_errno(enable(vm, 1, 1, 0), EINVAL, "flags");
	expect_errno(enable(vm, 0, 0, 0), EINVAL, "args[0] = 0");
	expect_errno(enable(vm, 0, 2, 0), EINVAL, "args[0] = 2");
	expect_errno(enable(vm, 0, 1, 1), EINVAL, "args[1] set");
	TEST_ASSERT(vm_check_cap(vm, KVM_CAP_X86_ASI) == mode, "the VM reports another mode");
	switch (mode) {
	case 0:
		expect_errno(enable(vm, 0, 1, 0), ENXIO, "ASI off");
		break;
	case 1:
		TEST_ASSERT(!enable(vm, 0, 1, 0), "enable: errno %d", errno);
		expect_errno(enable(vm, 0, 1, 0), EEXIST, "enabled twice");
		break;
	case 2:
		expect_errno(enable(vm, 0, 1, 0), EEXIST, "enabled by force");
		break;
	}
	kvm_vm_free(vm);

	/* Too late once a vCPU exists (force: enabled already). */
	vm = vm_create_with_one_vcpu(&vcpu, NULL);
	expect_errno(enable(vm, 0, 1, 0), mode == 0 ? ENXIO : mode == 1 ? EBUSY : EEXIST,
		     "after a vCPU");
	kvm_vm_free(vm);

	ksft_test_result_pass("KVM_CAP_X86_ASI, mode %d\n", mode);
	ksft_finished();
}
