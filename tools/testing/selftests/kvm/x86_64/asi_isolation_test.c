// SPDX-License-Identifier: GPL-2.0
/*
 * KVM-ASI: a VM's restricted address space, checked while the VM runs.
 *
 * One VM runs N vCPUs (4 by default: both SMT threads of both cores of the
 * test machine) in a loop of mixed exits, CPUID, an in-kernel MSR, an
 * unknown hypercall, the x2APIC TPR, and port I/O to user space, for D
 * seconds (60 by default). A second VM with ASI has run one vCPU and
 * stays. Meanwhile, every second, the main thread reads the first VM's
 * debugfs asi_isolation file: the audit of its instance must find no page
 * mapped that was not declared for it, its own structures must be mapped,
 * and a host kmalloc'd buffer, a host page, the VMM's mm and the second
 * VM's structures must not be. Each vCPU's guest checks every result it
 * gets, and its ASI statistics must add up. The kernel under test runs
 * with lockdep: a splat fails the boot that runs this test.
 *
 * With lockdep every entry is unprotected (lockdep's state is not mapped,
 * Documentation/mm/asi.rst), so the restricted exit handlers run under
 * this load only on a kernel without it: -r PERCENT requires each vCPU
 * to have handled at least that share of the exits KVM completed in the
 * kernel without leaving its instance, so that such a run cannot pass
 * without exercising them.
 *
 * Needs kvm.asi=optin or force; with kvm.asi=off there is no instance to
 * check, and the test skips.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apic.h"
#include "asi_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"

#define MAX_VCPUS	8
#define SYNC_EVERY	64
#define HC_UNKNOWN	0x7fffffffUL

static void guest_code(void)
{
	uint32_t a, b, c, d, b0;
	uint64_t base, i;

	cpuid(0, &a, &b0, &c, &d);
	x2apic_enable();
	base = rdmsr(MSR_IA32_APICBASE);
	for (i = 0;; i++) {
		cpuid(0, &a, &b, &c, &d);
		GUEST_ASSERT_EQ(b, b0);
		GUEST_ASSERT_EQ(rdmsr(MSR_IA32_APICBASE), base);
		GUEST_ASSERT_EQ(kvm_hypercall(HC_UNKNOWN, 0, 0, 0, 0),
				(uint64_t)-KVM_ENOSYS);
		x2apic_write_reg(APIC_TASKPRI, i & 0xf0);
		GUEST_ASSERT_EQ(x2apic_read_reg(APIC_TASKPRI), i & 0xf0);
		if (i % SYNC_EVERY == 0)
			GUEST_SYNC(i);
	}
}

static const char *const stat_names[] = {
	"exits", "asi_exits_restricted", "asi_exits_left",
	"asi_unprotected_entries", "asi_exits",
};

enum { S_EXITS, S_RESTRICTED, S_LEFT, S_UNPROT, S_ASI_EXITS, NR_STATS };

struct vcpu_run {
	struct kvm_vcpu *vcpu;
	pthread_t thread;
	uint64_t syncs;
	uint64_t stats[NR_STATS];
};

static bool stop;

static void read_vcpu_stats(struct kvm_vcpu *vcpu, uint64_t *out)
{
	struct asi_vcpu_stats st;

	asi_stats_open(&st, vcpu);
	asi_stats_read(&st, stat_names, NR_STATS, out);
	asi_stats_close(&st);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu_run *r = arg;
	struct ucall uc;
	uint64_t last = 0;

	while (!READ_ONCE(stop)) {
		vcpu_run(r->vcpu);
		asi_expect_sync(r->vcpu, &uc);
		/* The guest's loop counter: nothing lost, nothing repeated. */
		TEST_ASSERT(!r->syncs || uc.args[1] == last + SYNC_EVERY,
			    "vCPU %u: sync %lu after %lu", r->vcpu->id,
			    uc.args[1], last);
		last = uc.args[1];
		r->syncs++;
	}
	read_vcpu_stats(r->vcpu, r->stats);
	return NULL;
}

struct audit {
	unsigned long pages, violations;
	unsigned int self, host, other;
};

/* One read of asi_isolation: every probe must say what its owner allows. */
static void audit_vm(const char *path, struct audit *a)
{
	char line[256], whose[16], what[32], state[16];
	FILE *f = fopen(path, "r");

	TEST_ASSERT(f, "open %s: %s", path, strerror(errno));
	memset(a, 0, sizeof(*a));
	a->violations = -1UL;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "audit_pages %lu", &a->pages) == 1 ||
		    sscanf(line, "audit_violations %lu", &a->violations) == 1)
			continue;
		TEST_ASSERT(sscanf(line, "%15s %31s %15s", whose, what, state) == 3,
			    "%s: unexpected line: %s", path, line);
		if (!strcmp(whose, "self")) {
			a->self++;
			TEST_ASSERT(!strcmp(state, "mapped"),
				    "the VM's own %s is %s in its instance", what, state);
		} else {
			TEST_ASSERT(!strcmp(whose, "host") || !strcmp(whose, "other"),
				    "%s: unexpected line: %s", path, line);
			a->host += !strcmp(whose, "host");
			a->other += !strcmp(whose, "other");
			TEST_ASSERT(!strcmp(state, "unmapped"),
				    "%s %s is %s in the VM's instance", whose, what, state);
		}
	}
	fclose(f);
	TEST_ASSERT(a->violations == 0, "audit: %lu violations (see the kernel log)",
		    a->violations);
	TEST_ASSERT(a->pages > 0, "audit: no page mapped");
	TEST_ASSERT(a->host >= 3 && a->other >= 1,
		    "%u host and %u other-VM probes: the checks did not run",
		    a->host, a->other);
}

static struct kvm_vm *create_asi_vm(int mode, unsigned int nr_vcpus,
				    struct kvm_vcpu **vcpus)
{
	struct kvm_vm *vm = vm_create(nr_vcpus);
	unsigned int i;

	if (mode == 1)
		vm_enable_cap(vm, KVM_CAP_X86_ASI, 1);
	for (i = 0; i < nr_vcpus; i++)
		vcpus[i] = vm_vcpu_add(vm, i, guest_code);
	return vm;
}

static void help(const char *name)
{
	printf("usage: %s [-v vcpus (1-%d, default 4)] [-d seconds (default 60)]%s\n",
	       name, MAX_VCPUS, " [-r min_percent_restricted]");
	exit(KSFT_FAIL);
}

/* The share of the exits completed in the kernel that never left. */
static double restricted_share(const struct vcpu_run *r)
{
	return asi_in_kernel_share(r->stats[S_RESTRICTED], r->stats[S_EXITS],
				   r->syncs);
}

int main(int argc, char *argv[])
{
	struct kvm_vcpu *vcpus[MAX_VCPUS], *other_vcpu;
	unsigned int nr_vcpus = 4, seconds = 60, i, audits = 0;
	struct vcpu_run runs[MAX_VCPUS] = {};
	int mode = kvm_check_cap(KVM_CAP_X86_ASI);
	struct kvm_vm *vm, *other;
	uint64_t exits = 0, before[NR_STATS];
	double min_restricted = 0;
	char path[96];
	struct audit a;
	struct ucall uc;
	time_t end;
	int opt;

	while ((opt = getopt(argc, argv, "v:d:r:h")) != -1) {
		switch (opt) {
		case 'v':
			nr_vcpus = atoi_positive("vCPUs", optarg);
			break;
		case 'd':
			seconds = atoi_positive("seconds", optarg);
			break;
		case 'r':
			min_restricted = atof(optarg);
			TEST_ASSERT(min_restricted > 0 && min_restricted <= 100,
				    "-r %s: expected a percentage", optarg);
			break;
		default:
			help(argv[0]);
		}
	}
	TEST_ASSERT(nr_vcpus <= MAX_VCPUS, "at most %d vCPUs", MAX_VCPUS);
	TEST_REQUIRE(mode == 1 || mode == 2);

	ksft_print_header();
	ksft_set_plan(1);

	/* The other VM: its vCPU has run, so all it allocates exists. */
	other = create_asi_vm(mode, 1, &other_vcpu);
	vcpu_run(other_vcpu);
	asi_expect_sync(other_vcpu, &uc);

	vm = create_asi_vm(mode, nr_vcpus, vcpus);
	snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%d-%d/asi_isolation",
		 getpid(), vm->fd);
	audit_vm(path, &a);
	pr_info("before running: %lu pages mapped, %u own, %u host, %u other-VM probes\n",
		a.pages, a.self, a.host, a.other);

	for (i = 0; i < nr_vcpus; i++) {
		runs[i].vcpu = vcpus[i];
		TEST_ASSERT(!pthread_create(&runs[i].thread, NULL, vcpu_thread, &runs[i]),
			    "pthread_create");
	}

	/* Audit while the vCPUs run: each round must see them progress. */
	end = time(NULL) + seconds;
	read_vcpu_stats(vcpus[0], before);
	while (time(NULL) < end) {
		uint64_t now[NR_STATS];

		sleep(1);
		audit_vm(path, &a);
		audits++;
		read_vcpu_stats(vcpus[0], now);
		TEST_ASSERT(now[S_EXITS] > before[S_EXITS],
			    "vCPU 0 made no VM exit in a second");
		memcpy(before, now, sizeof(before));
	}
	WRITE_ONCE(stop, true);
	for (i = 0; i < nr_vcpus; i++)
		pthread_join(runs[i].thread, NULL);

	pr_info("%u vCPUs, %u s, %u audits of the running VM: %lu pages, no violation\n",
		nr_vcpus, seconds, audits, a.pages);
	pr_info("%-5s %8s %10s %8s %8s %9s %7s %8s\n", "vcpu", "exits",
		"restricted", "left", "unprot", "asi_exits", "syncs", "share");
	for (i = 0; i < nr_vcpus; i++) {
		uint64_t *s = runs[i].stats;

		pr_info("%-5u %8lu %10lu %8lu %8lu %9lu %7lu %7.2f%%\n", i,
			s[S_EXITS], s[S_RESTRICTED], s[S_LEFT], s[S_UNPROT],
			s[S_ASI_EXITS], runs[i].syncs, restricted_share(&runs[i]));
		exits += s[S_EXITS];
		TEST_ASSERT(runs[i].syncs > 1, "vCPU %u did not run", i);
		/*
		 * Every exit is counted once (the last may be counted before
		 * "exits" is); every exit to user space left.
		 */
		TEST_ASSERT(s[S_RESTRICTED] + s[S_LEFT] + s[S_UNPROT] <= s[S_EXITS] + 1,
			    "vCPU %u: exits counted twice", i);
		TEST_ASSERT(s[S_LEFT] + s[S_UNPROT] >= runs[i].syncs,
			    "vCPU %u: %lu exits to user space, %lu left", i,
			    runs[i].syncs, s[S_LEFT] + s[S_UNPROT]);
		TEST_ASSERT(s[S_LEFT] <= s[S_ASI_EXITS], "vCPU %u: ASI exits", i);
		TEST_ASSERT(restricted_share(&runs[i]) >= min_restricted,
			    "vCPU %u: %.2f%% of its in-kernel exits restricted, want %.2f%%",
			    i, restricted_share(&runs[i]), min_restricted);
	}

	kvm_vm_free(vm);
	kvm_vm_free(other);
	ksft_test_result_pass("%lu VM exits on %u vCPUs, %u audits while running\n",
			      exits, nr_vcpus, audits);
	ksft_finished();
}
