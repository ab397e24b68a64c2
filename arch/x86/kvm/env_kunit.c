// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suite that checks the machine the KVM tests run on.
 *
 * The ASI and KVM tests of this tree run in emulators whose CPU features
 * differ: QEMU TCG offers SVM with nested paging and SMT topologies but no
 * VMX or PCID, Bochs offers VMX, EPT and PCID.  A test that silently lost
 * its hardware (a changed emulator, a missing -smp option, NR_CPUS too
 * small) would keep passing while testing nothing.  This suite makes the
 * runner state what it expects on the command line and fails, never skips,
 * when the kernel sees anything else:
 *
 *   kvm_env.vendor=amd|intel  the vendor module that must have loaded,
 *                             with two-dimensional paging (NPT or EPT)
 *   kvm_env.cores=N           online cores ...
 *   kvm_env.threads=N         ... of N SMT threads each
 *   kvm_env.pcid=0|1          whether CR4.PCIDE and INVPCID must be on
 *
 * It is built in only (KVM must be built in too) because it reads KVM's
 * internal state, not an ABI.
 */
#include <kunit/test.h>
#include <linux/cpufeature.h>
#include <linux/cpumask.h>
#include <linux/kvm_host.h>
#include <linux/moduleparam.h>
#include <linux/sched/smt.h>
#include <linux/topology.h>
#include <asm/special_insns.h>

#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "kvm_env."

static char *vendor = "";
module_param(vendor, charp, 0444);
static unsigned int cores;
module_param(cores, uint, 0444);
static unsigned int threads;
module_param(threads, uint, 0444);
static int pcid = -1;
module_param(pcid, int, 0444);

static void kvm_env_topology(struct kunit *test)
{
	unsigned int cpu, seen_cores = 0;

	KUNIT_ASSERT_GT_MSG(test, cores, 0,
			    "no expectation: boot with kvm_env.cores=N");
	KUNIT_ASSERT_GT_MSG(test, threads, 0,
			    "no expectation: boot with kvm_env.threads=N");

	KUNIT_EXPECT_EQ(test, num_online_cpus(), cores * threads);
	for_each_online_cpu(cpu) {
		const struct cpumask *sib = topology_sibling_cpumask(cpu);

		KUNIT_EXPECT_EQ_MSG(test, cpumask_weight(sib), threads,
				    "cpu%u has %*pbl as SMT siblings", cpu,
				    cpumask_pr_args(sib));
		if (cpu == cpumask_first(sib))
			seen_cores++;
	}
	KUNIT_EXPECT_EQ(test, seen_cores, cores);
	KUNIT_EXPECT_EQ(test, sched_smt_active(), threads > 1);
}

static void kvm_env_vendor_module(struct kunit *test)
{
	bool svm = boot_cpu_has(X86_FEATURE_SVM);
	bool npt = boot_cpu_has(X86_FEATURE_NPT);
	bool vmx = boot_cpu_has(X86_FEATURE_VMX);
	bool ept = boot_cpu_has(X86_FEATURE_EPT);
	const char *want;

	if (!strcmp(vendor, "amd")) {
		want = "kvm_amd";
		KUNIT_EXPECT_TRUE_MSG(test, svm, "the CPU has no SVM");
		KUNIT_EXPECT_TRUE_MSG(test, npt, "the CPU has no nested paging");
	} else if (!strcmp(vendor, "intel")) {
		want = "kvm_intel";
		KUNIT_EXPECT_TRUE_MSG(test, vmx, "the CPU has no VMX");
		KUNIT_EXPECT_TRUE_MSG(test, ept, "the CPU has no EPT");
	} else {
		KUNIT_FAIL(test, "kvm_env.vendor='%s': want amd or intel", vendor);
		return;
	}

	/* kvm_x86_ops is filled in when a vendor module initialised. */
	KUNIT_ASSERT_NOT_NULL_MSG(test, kvm_x86_ops.name,
				  "no KVM vendor module loaded");
	KUNIT_EXPECT_STREQ(test, kvm_x86_ops.name, want);
	KUNIT_EXPECT_TRUE_MSG(test, tdp_enabled,
			      "%s runs without two-dimensional paging", want);
}

static void kvm_env_pcid(struct kunit *test)
{
	bool cr4_pcide = __read_cr4() & X86_CR4_PCIDE;
	bool has_pcid = boot_cpu_has(X86_FEATURE_PCID);
	bool has_invpcid = boot_cpu_has(X86_FEATURE_INVPCID);

	KUNIT_ASSERT_TRUE_MSG(test, pcid == 0 || pcid == 1,
			      "no expectation: boot with kvm_env.pcid=0|1");
	KUNIT_EXPECT_EQ_MSG(test, cr4_pcide, pcid == 1, "CR4.PCIDE");
	KUNIT_EXPECT_EQ_MSG(test, has_pcid, pcid == 1, "PCID");
	KUNIT_EXPECT_EQ_MSG(test, has_invpcid, pcid == 1, "INVPCID");
}

static struct kunit_case kvm_env_cases[] = {
	KUNIT_CASE(kvm_env_topology),
	KUNIT_CASE(kvm_env_vendor_module),
	KUNIT_CASE(kvm_env_pcid),
	{}
};

static struct kunit_suite kvm_env_suite = {
	.name = "kvm_env",
	.test_cases = kvm_env_cases,
};

kunit_test_suite(kvm_env_suite);

MODULE_DESCRIPTION("KUnit check of the KVM test environment");
MODULE_LICENSE("GPL");
