// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_CAP_X86_ASI: what KVM_CHECK_EXTENSION reports for each kvm.asi mode
 * (0 off, 1 optin, 2 force), and every documented error of
 * KVM_ENABLE_CAP: bad arguments (EINVAL), no instance for the VM
 * (ENXIO), already enabled, including by force (EEXIST), vCPUs already
 * created (EBUSY). The mode comes from the kernel command line; the test
 * checks whichever it finds.
 *
 * Then the benchmarks' baseline (arch/x86/kvm/asi_baseline.c): a VM
 * created while kvm.asi_flush_kick is set has no instance unless the mode
 * is force, flushes before every entry, and kicks the SMT siblings after
 * every exit where the CPUs have siblings; one created after it is
 * cleared does neither.
 *
 * With kvm.asi=force on a host where ASI is not running (booted without
 * asi=on, or ASI refused to start), force fails closed: KVM_CREATE_VM
 * fails with ENXIO, and nothing else is checked. With -r the same is
 * expected whatever the host says: KVM could not register its ASI class
 * (the caller made sure of it, with fault injection).
 *
 * With -c, the next VM's instance cannot get its core-scheduling cookie
 * (the caller armed debugfs asi/fail_core_cookie for one failure, with
 * the sibling stun's coresched backend): under force KVM_CREATE_VM fails
 * with ENOMEM, under optin the VM cannot enable the capability (ENXIO);
 * the next VM is not affected.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "asi_util.h"
#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"

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

/* Does CPU 0 have an SMT sibling (all CPUs alike here)? */
static bool have_siblings(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/cpu0/topology/thread_siblings_list", "r");
	char buf[64] = "";

	TEST_ASSERT(f, "no CPU topology in sysfs");
	TEST_ASSERT(fgets(buf, sizeof(buf), f), "empty thread_siblings_list");
	fclose(f);
	return strpbrk(buf, ",-");
}

/* Is ASI running on this host? Its CPU flag says so, and only then. */
static bool asi_running(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096];
	bool found = false;

	TEST_ASSERT(f, "no /proc/cpuinfo");
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, "flags", 5) &&
			(strstr(line, " asi ") || strstr(line, " asi\n"));
	fclose(f);
	return found;
}

/* force without ASI or without KVM's class: no VM may be created. */
static void check_fail_closed(void)
{
	int kvm = open_kvm_dev_path_or_exit();
	int r = ioctl(kvm, KVM_CREATE_VM, 0);

	expect_errno(r, ENXIO, "KVM_CREATE_VM under force without ASI");
	close(kvm);
	ksft_test_result_pass("kvm.asi=force without ASI: KVM_CREATE_VM refused\n");
}

/* -c: one VM's instance without its core-scheduling cookie. */
static void check_no_cookie(int mode)
{
	int kvm = open_kvm_dev_path_or_exit();
	struct kvm_vm *vm;
	int r;

	TEST_ASSERT(mode, "-c: expected kvm.asi=optin or force");
	if (mode == 2) {
		r = ioctl(kvm, KVM_CREATE_VM, 0);
		expect_errno(r, ENOMEM, "KVM_CREATE_VM under force without a cookie");
	} else {
		vm = vm_create_barebones();
		expect_errno(enable(vm, 0, 1, 0), ENXIO, "a VM without a cookie");
		kvm_vm_free(vm);
	}
	close(kvm);
	vm = vm_create_barebones();
	if (mode == 1)
		TEST_ASSERT(!enable(vm, 0, 1, 0), "the next VM: enable: errno %d", errno);
	kvm_vm_free(vm);
	ksft_test_result_pass("no core-scheduling cookie: VM %s, the next one unaffected\n",
			      mode == 2 ? "refused" : "without ASI");
}

static void guest_code(void)
{
	uint32_t a, b, c, d;
	int i;

	for (i = 0; i < 100; i++)
		cpuid(0, &a, &b, &c, &d);
	GUEST_DONE();
}

/* A VM made while kvm.asi_flush_kick is set, or after it is cleared. */
static void check_baseline(int mode, bool base)
{
	static const char *const names[] = {
		"exits", "asi_baseline_flushes", "asi_baseline_kicks",
	};
	bool applies = base && mode != 2;
	struct asi_vcpu_stats st;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	uint64_t v[3];

	if (base)
		asi_set_flush_kick("Y");
	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	if (base)
		asi_set_flush_kick("N");
	if (applies)
		expect_errno(enable(vm, 0, 1, 0), ENXIO, "a baseline VM");
	vcpu_run(vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
	TEST_ASSERT(get_ucall(vcpu, &uc) == UCALL_DONE, "guest: ucall %lu", uc.cmd);
	asi_stats_open(&st, vcpu);
	asi_stats_read(&st, names, 3, v);
	asi_stats_close(&st);
	pr_info("%s VM: %lu exits, %lu baseline flushes, %lu kicks\n",
		base ? "flush-kick" : "plain", v[0], v[1], v[2]);
	TEST_ASSERT(v[0] >= 100, "%lu exits for 100 CPUIDs", v[0]);
	if (!applies) {
		TEST_ASSERT(!v[1] && !v[2], "a VM without the baseline flushed or kicked");
	} else {
		/* Every exit was followed by an entry, but the last. */
		TEST_ASSERT(v[1] >= v[0], "%lu flushes for %lu exits", v[1], v[0]);
		if (have_siblings())
			TEST_ASSERT(v[2] >= 100, "%lu kicks for %lu exits", v[2], v[0]);
		else
			TEST_ASSERT(!v[2], "%lu kicks without a sibling", v[2]);
	}
	kvm_vm_free(vm);
}

int main(int argc, char *argv[])
{
	int mode = kvm_check_cap(KVM_CAP_X86_ASI);
	bool refused = false, no_cookie = false;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	int opt;

	while ((opt = getopt(argc, argv, "rc")) != -1) {
		switch (opt) {
		case 'r':
			refused = true;
			break;
		case 'c':
			no_cookie = true;
			break;
		default:
			printf("usage: %s [-r|-c]\n", argv[0]);
			exit(KSFT_FAIL);
		}
	}
	TEST_ASSERT(mode >= 0 && mode <= 2, "KVM_CAP_X86_ASI reports %d", mode);
	ksft_print_header();
	pr_info("kvm.asi mode %d (0 off, 1 optin, 2 force), ASI %s\n", mode,
		asi_running() ? "running" : "not running");
	TEST_ASSERT(!refused || mode == 2, "-r: expected kvm.asi=force");
	if (mode == 2 && (refused || !asi_running())) {
		ksft_set_plan(1);
		check_fail_closed();
		ksft_finished();
	}
	if (no_cookie) {
		ksft_set_plan(1);
		check_no_cookie(mode);
		ksft_finished();
	}
	ksft_set_plan(2);

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

	/* This kernel always has it: its absence is a failure, not a skip. */
	TEST_ASSERT(!access(ASI_FLUSH_KICK_PARAM, W_OK), "no writable " ASI_FLUSH_KICK_PARAM);
	check_baseline(mode, true);
	check_baseline(mode, false);
	ksft_test_result_pass("flush-and-kick baseline, mode %d\n", mode);
	ksft_finished();
}
