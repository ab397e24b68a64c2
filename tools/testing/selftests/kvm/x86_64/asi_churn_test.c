// SPDX-License-Identifier: GPL-2.0
/*
 * KVM-ASI: what creating and destroying VMs costs the other CPUs.
 *
 * An unprivileged /dev/kvm user can create and destroy VMs in a loop.
 * Each cycle here creates a VM with one vCPU, runs it to its first
 * GUEST_SYNC on a new thread (as a VMM runs each vCPU on a thread of its
 * own), and destroys VM and thread. Cycles alternate, in batches, between
 * VMs with their ASI instance (KVM_CAP_X86_ASI) and VMs without, on the
 * same kernel in the same run; the function-call IPIs the CPUs receive
 * meanwhile, and the TLB shootdowns among them (from /proc/interrupts),
 * are counted for each kind, and so are ASI's own TLB flushes (debugfs
 * asi/memory): of every CPU, and the CPUs interrupted by those of only
 * the CPUs in an instance. Prints the IPIs per cycle of both and their
 * ratio; with -m RATIO, fails if a cycle with ASI costs more than RATIO
 * times the IPIs of one without; with -f MAX, if ASI's flushes of every
 * CPU and the CPUs its other flushes interrupted add up to more than MAX
 * per cycle with ASI.
 *
 * Needs kvm.asi=optin: under force every VM has an instance, and there
 * would be no baseline.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"

static void guest_code(void)
{
	for (;;)
		GUEST_SYNC(0);
}

/* The interrupts of one line of /proc/interrupts, summed over all CPUs. */
static uint64_t irq_count(const char *name)
{
	FILE *f = fopen("/proc/interrupts", "r");
	char line[4096], *p, *end;
	size_t len = strlen(name);
	uint64_t sum = 0;

	TEST_ASSERT(f, "/proc/interrupts");
	while (fgets(line, sizeof(line), f)) {
		p = line + strspn(line, " ");
		if (strncmp(p, name, len) || p[len] != ':')
			continue;
		for (p += len + 1;; p = end) {
			uint64_t v = strtoull(p, &end, 10);

			if (end == p)
				break;
			sum += v;
		}
	}
	fclose(f);
	return sum;
}

/* A counter of /sys/kernel/debug/asi/memory. */
static uint64_t asi_stat(const char *name)
{
	FILE *f = fopen("/sys/kernel/debug/asi/memory", "r");
	size_t len = strlen(name);
	char line[256];
	uint64_t v = 0;

	TEST_ASSERT(f, "/sys/kernel/debug/asi/memory (debugfs mounted?)");
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, name, len) && line[len] == ' ')
			v = strtoull(line + len + 1, NULL, 10);
	}
	fclose(f);
	return v;
}

static void *vcpu_thread(void *arg)
{
	struct kvm_vcpu *vcpu = arg;
	struct ucall uc;

	vcpu_run(vcpu);
	TEST_ASSERT_EQ(get_ucall(vcpu, &uc), UCALL_SYNC);
	return NULL;
}

static void cycle(bool asi)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	pthread_t t;

	vm = vm_create(1);
	if (asi)
		vm_enable_cap(vm, KVM_CAP_X86_ASI, 1);
	vcpu = vm_vcpu_add(vm, 0, guest_code);
	TEST_ASSERT(!pthread_create(&t, NULL, vcpu_thread, vcpu), "pthread_create");
	pthread_join(t, NULL);
	kvm_vm_free(vm);
}

int main(int argc, char *argv[])
{
	unsigned int cycles = 40, batch = 5, done, i;
	uint64_t count[2] = {}, tlb[2] = {}, before, before_tlb;
	uint64_t all[2] = {}, cpus[2] = {}, before_all, before_cpus;
	double max_ratio = 0, max_flush = -1, per[2], ratio, flush;
	int opt, k;

	while ((opt = getopt(argc, argv, "c:m:f:h")) != -1) {
		switch (opt) {
		case 'c':
			cycles = atoi_positive("cycles", optarg);
			break;
		case 'm':
			max_ratio = atof(optarg);
			TEST_ASSERT(max_ratio > 0, "-m %s: expected a ratio", optarg);
			break;
		case 'f':
			max_flush = atof(optarg);
			TEST_ASSERT(max_flush >= 0, "-f %s: expected a number", optarg);
			break;
		default:
			printf("usage: %s [-c cycles of each kind (40)] [-m max ratio]\n"
			       "  [-f max ASI flushes per cycle]\n", argv[0]);
			exit(KSFT_FAIL);
		}
	}
	TEST_REQUIRE(kvm_check_cap(KVM_CAP_X86_ASI) == 1);

	ksft_print_header();
	ksft_set_plan(1);
	/* The first VM of a run allocates what later ones reuse: not counted. */
	cycle(true);
	cycle(false);
	for (done = 0; done < cycles; done += batch) {
		for (k = 0; k < 2; k++) {
			before = irq_count("CAL");
			before_tlb = irq_count("TLB");
			before_all = asi_stat("flushes");
			before_cpus = asi_stat("local_flush_cpus");
			for (i = 0; i < batch; i++)
				cycle(k);
			count[k] += irq_count("CAL") - before;
			tlb[k] += irq_count("TLB") - before_tlb;
			all[k] += asi_stat("flushes") - before_all;
			cpus[k] += asi_stat("local_flush_cpus") - before_cpus;
		}
	}
	for (k = 0; k < 2; k++)
		per[k] = (double)count[k] / done;
	ratio = per[1] / (per[0] ? per[0] : 1);
	pr_info("IPIs per VM create, run and destroy: %.1f without ASI, %.1f with (%.2fx), %u cycles each\n",
		per[0], per[1], ratio, done);
	pr_info("of which TLB shootdowns: %.1f without ASI, %.1f with\n",
		(double)tlb[0] / done, (double)tlb[1] / done);
	pr_info("ASI's flushes of every CPU: %.2f without ASI, %.2f with; "
		"CPUs its local flushes interrupted: %.2f, %.2f\n",
		(double)all[0] / done, (double)all[1] / done,
		(double)cpus[0] / done, (double)cpus[1] / done);
	flush = (double)(all[1] + cpus[1]) / done;
	TEST_ASSERT(max_flush < 0 || flush <= max_flush,
		    "ASI's TLB flushes cost %.2f per cycle, more than %.2f", flush, max_flush);
	TEST_ASSERT(!max_ratio || ratio <= max_ratio,
		    "a VM with ASI costs %.2fx the IPIs of one without, more than %.2fx",
		    ratio, max_ratio);
	ksft_test_result_pass("%.1f IPIs per cycle with ASI, %.1f without\n", per[1], per[0]);
	ksft_finished();
}
