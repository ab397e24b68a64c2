// SPDX-License-Identifier: GPL-2.0
/*
 * VMX decides early in vmx_vcpu_enter_exit() to skip its L1D flush when the
 * CPU is still in the VM's ASI instance, and checks that decision again
 * right before VMLAUNCH/VMRESUME (kvm_asi_vm_enter_last()): a fault in
 * between leaves the instance, and that entry must flush after all.
 *
 * The debug knob kvm.asi_provoke_late_exits=N makes entries touch unmapped
 * memory in that window. With it set for a CPUID loop in a VM with ASI,
 * every provoked entry must be counted in asi_late_exits and as
 * unprotected and, on a CPU that needs VMX's L1D flush (L1TF), flushed:
 * l1d_flush grows by at least as much. Without the knob nothing is
 * counted late, nor in a VM without ASI (kvm.asi=off) with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "asi_util.h"
#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"

#define LATE_PARAM	"/sys/module/kvm/parameters/asi_provoke_late_exits"
#define LOOPS		200
#define PROVOKED	50

static void guest_code(void)
{
	uint32_t a, b, c, d;
	int round, i;

	for (round = 0; round < 2; round++) {
		for (i = 0; i < LOOPS; i++)
			cpuid(0, &a, &b, &c, &d);
		GUEST_SYNC(round);
	}
	GUEST_DONE();
}

static void set_late_exits(int n)
{
	int fd = open(LATE_PARAM, O_WRONLY);
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", n);

	TEST_ASSERT(fd >= 0, "no %s: a kernel without ASI debugging", LATE_PARAM);
	TEST_ASSERT(write(fd, buf, len) == len, "write %s: errno %d", LATE_PARAM, errno);
	close(fd);
}

/* Does VMX flush the L1D before entries here (a CPU with L1TF)? */
static bool vmx_flushes_l1d(void)
{
	char l1tf[128] = "", param[32] = "";
	FILE *f;

	f = fopen("/sys/devices/system/cpu/vulnerabilities/l1tf", "r");
	if (f) {
		if (!fgets(l1tf, sizeof(l1tf), f))
			l1tf[0] = 0;
		fclose(f);
	}
	f = fopen("/sys/module/kvm_intel/parameters/vmentry_l1d_flush", "r");
	if (f) {
		if (!fgets(param, sizeof(param), f))
			param[0] = 0;
		fclose(f);
	}
	pr_info("l1tf: %s", l1tf[0] ? l1tf : "?\n");
	pr_info("vmentry_l1d_flush: %s", param[0] ? param : "?\n");
	return strncmp(l1tf, "Not affected", 12) && strncmp(param, "never", 5) &&
	       strncmp(param, "not required", 12);
}

int main(void)
{
	static const char *const names[] = {
		"asi_late_exits", "asi_unprotected_entries", "l1d_flush",
	};
	uint64_t before[3], after[3], late, unprotected, flushes;
	struct asi_vcpu_stats st;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	int mode = kvm_check_cap(KVM_CAP_X86_ASI);

	TEST_REQUIRE(host_cpu_is_intel);
	pr_info("kvm.asi mode %d (0 off, 1 optin, 2 force)\n", mode);
	vm = vm_create(1);
	if (mode == 1) {
		/* Before the vCPU: KVM refuses it after. */
		struct kvm_enable_cap cap = { .cap = KVM_CAP_X86_ASI, .args = { 1 } };

		vm_ioctl(vm, KVM_ENABLE_CAP, &cap);
	}
	vcpu = vm_vcpu_add(vm, 0, guest_code);
	asi_stats_open(&st, vcpu);

	/* Round 0: nothing provoked, nothing late. */
	asi_stats_read(&st, names, 3, before);
	vcpu_run(vcpu);
	asi_expect_sync(vcpu, &uc);
	asi_stats_read(&st, names, 3, after);
	late = after[0] - before[0];
	pr_info("round 0: %lu late exits, %lu unprotected entries\n",
		late, after[1] - before[1]);
	TEST_ASSERT(!late, "%lu late exits without the knob", late);

	/* Round 1: the knob on. */
	set_late_exits(PROVOKED);
	asi_stats_read(&st, names, 3, before);
	vcpu_run(vcpu);
	set_late_exits(0);
	asi_expect_sync(vcpu, &uc);
	asi_stats_read(&st, names, 3, after);
	late = after[0] - before[0];
	unprotected = after[1] - before[1];
	flushes = after[2] - before[2];
	pr_info("round 1: %lu late exits, %lu unprotected entries, %lu L1D flushes\n",
		late, unprotected, flushes);
	if (!mode) {
		TEST_ASSERT(!late, "%lu late exits in a VM without ASI", late);
		goto done;
	}
	TEST_ASSERT(late == PROVOKED, "%lu late exits, %d provoked", late, PROVOKED);
	TEST_ASSERT(unprotected >= late, "%lu late exits but %lu unprotected entries",
		    late, unprotected);
	if (vmx_flushes_l1d())
		TEST_ASSERT(flushes >= late, "%lu late exits but %lu L1D flushes",
			    late, flushes);
	else
		pr_info("no L1TF here: VMX skipped no L1D flush, none to redo\n");
done:
	vcpu_run(vcpu);
	TEST_ASSERT(get_ucall(vcpu, &uc) == UCALL_DONE, "guest: ucall %lu", uc.cmd);
	asi_stats_close(&st);
	kvm_vm_free(vm);
	return 0;
}
