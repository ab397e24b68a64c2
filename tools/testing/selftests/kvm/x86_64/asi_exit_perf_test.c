// SPDX-License-Identifier: GPL-2.0
/*
 * KVM-ASI exit throughput: a benchmark, not a test. The same guest loops
 * on CPUID, an in-kernel MSR read and port I/O to user space in three
 * VMs: one without ASI, one with KVM_CAP_X86_ASI, and the baseline ASI
 * replaces, a VM created with kvm.asi_flush_kick set, which flushes the
 * L1D before every entry and kicks its SMT siblings after every exit
 * (arch/x86/kvm/asi_baseline.c). They run alternately, twice each, in one
 * run; it prints VM exits per second of each loop in each VM, the ratios,
 * and per 1000 VM exits the ASI exits, flushes, sibling stuns and stun
 * IPIs of the VM with ASI and the flushes and kicks of the baseline.
 *
 * Time is CLOCK_MONOTONIC of the host kernel KVM runs in. Under the
 * project's emulators that is emulated time: under Bochs it advances
 * with instructions executed, under QEMU with -icount it counts
 * instructions, so the ratios compare instruction counts, not a real
 * CPU's cycles: a real CPU's flushes, IPIs and CR3 writes cost far more
 * than an emulator's, which is why the events are printed too. Bochs
 * emulates one CPU here, so its baseline has no sibling to kick.
 *
 * With -s, the loops run on one thread of an SMT core, and while a VM is
 * measured a second vCPU of that VM spins in its guest on the other
 * thread: the sibling every ASI exit must stun, as in a VM of two vCPUs
 * on one core (with core scheduling both carry the VM's cookie). Boots
 * with asi_stun=none, ipi and coresched then give the stun's cost.
 * Needs kvm.asi=optin; fails only if it cannot run. Without
 * kvm.asi_flush_kick (a kernel without the ASI debug option, as
 * distributions build it), there is no baseline VM and its columns
 * print as "-".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "asi_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"

#define BENCH_PORT	0x80

enum { L_CPUID, L_RDMSR, L_PIO, NR_LOOPS };

static const char *const loop_names[NR_LOOPS] = {
	"cpuid", "rdmsr apicbase", "pio to user",
};

/* The sibling's guest: spin, interrupts on, until told to stop. */
static int sib_stop;
static uint64_t sib_spins;

static void sibling_code(void)
{
	asm volatile("sti");
	for (;;) {
		while (!READ_ONCE(sib_stop))
			WRITE_ONCE(sib_spins, sib_spins + 1);
		GUEST_SYNC(0);
	}
}

static void guest_code(uint64_t n, uint64_t n_pio)
{
	uint32_t a, b, c, d;
	uint64_t i;

	for (;;) {
		GUEST_SYNC(L_CPUID);
		for (i = 0; i < n; i++)
			cpuid(0, &a, &b, &c, &d);
		GUEST_SYNC(L_RDMSR);
		for (i = 0; i < n; i++)
			rdmsr(MSR_IA32_APICBASE);
		GUEST_SYNC(L_PIO);
		for (i = 0; i < n_pio; i++)
			asm volatile("outb %b0, %w1" : : "a"(i), "Nd"(BENCH_PORT));
		GUEST_SYNC(NR_LOOPS);
	}
}

enum { VM_OFF, VM_ON, VM_BASE, NR_VMS };

static const char *const vm_names[NR_VMS] = { "off", "on", "base" };

/* The statistics sampled around each loop, by name. */
enum {
	S_EXITS, S_ASI_EXITS, S_FLUSHES, S_STUNS, S_STUN_KICKS, S_BASE_FLUSHES,
	S_BASE_KICKS, NR_STATS
};

static const char *const stat_names[NR_STATS] = {
	"exits", "asi_exits", "asi_flushes", "asi_stuns", "asi_stun_kicks",
	"asi_baseline_flushes", "asi_baseline_kicks",
};

struct sample {
	double seconds;
	uint64_t stat[NR_STATS];
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cpu_main, cpu_sib = -1;

static void *run_sibling(void *arg)
{
	struct kvm_vcpu *sib = arg;
	struct ucall uc;

	asi_pin(cpu_sib);
	vcpu_run(sib);
	asi_expect_sync(sib, &uc);
	return NULL;
}

/* Start @sib spinning in its guest on the sibling thread; wait until it is. */
static void sibling_start(struct kvm_vcpu *sib, pthread_t *thread)
{
	uint64_t *spins = addr_gva2hva(sib->vm, (vm_vaddr_t)&sib_spins);
	uint64_t s0 = READ_ONCE(*spins);
	int i;

	WRITE_ONCE(*(int *)addr_gva2hva(sib->vm, (vm_vaddr_t)&sib_stop), 0);
	pthread_create(thread, NULL, run_sibling, sib);
	for (i = 0; i < 10000 && READ_ONCE(*spins) == s0; i++)
		usleep(1000);
	TEST_ASSERT(READ_ONCE(*spins) != s0, "the sibling vCPU did not run");
}

static void sibling_stop(struct kvm_vcpu *sib, pthread_t thread)
{
	WRITE_ONCE(*(int *)addr_gva2hva(sib->vm, (vm_vaddr_t)&sib_stop), 1);
	pthread_join(thread, NULL);
}

/* One pass of the three loops; the sync exits around each are counted. */
static void run_pass(struct kvm_vcpu *vcpu, struct kvm_vcpu *sib,
		     struct asi_vcpu_stats *st, struct sample *s)
{
	pthread_t thread;
	uint64_t before[NR_STATS], after[NR_STATS];
	struct ucall uc;
	int loop = -1, i;
	double t = 0;

	if (sib)
		sibling_start(sib, &thread);
	for (;;) {
		vcpu_run(vcpu);
		if (vcpu->run->exit_reason == KVM_EXIT_IO &&
		    vcpu->run->io.port == BENCH_PORT)
			continue;
		asi_expect_sync(vcpu, &uc);
		if (loop >= 0) {
			s[loop].seconds += now() - t;
			asi_stats_read(st, stat_names, NR_STATS, after);
			for (i = 0; i < NR_STATS; i++)
				s[loop].stat[i] += after[i] - before[i];
		}
		loop = uc.args[1];
		if (loop == NR_LOOPS)
			break;
		asi_stats_read(st, stat_names, NR_STATS, before);
		t = now();
	}
	if (sib)
		sibling_stop(sib, thread);
}

static struct kvm_vcpu *create_vm(int which, uint64_t n, uint64_t n_pio,
				  struct kvm_vm **vm, struct kvm_vcpu **sib)
{
	struct kvm_vcpu *vcpu;

	/* Only the VMs created while the parameter is set are baselines. */
	if (which == VM_BASE)
		asi_set_flush_kick("Y");
	*vm = vm_create(cpu_sib >= 0 ? 2 : 1);
	if (which == VM_BASE)
		asi_set_flush_kick("N");
	if (which == VM_ON)
		vm_enable_cap(*vm, KVM_CAP_X86_ASI, 1);
	vcpu = vm_vcpu_add(*vm, 0, guest_code);
	vcpu_args_set(vcpu, 2, n, n_pio);
	*sib = cpu_sib >= 0 ? vm_vcpu_add(*vm, 1, sibling_code) : NULL;
	return vcpu;
}

static double per_1000(const struct sample *s, int stat)
{
	return s->stat[S_EXITS] ? 1000.0 * s->stat[stat] / s->stat[S_EXITS] : 0;
}

static void check_events(int vm, int loop, const struct sample *s)
{
	uint64_t exits = s->stat[S_EXITS], flushes = s->stat[S_BASE_FLUSHES];
	uint64_t kicks = s->stat[S_BASE_KICKS];

	TEST_ASSERT(vm == VM_BASE ? flushes >= exits : !flushes && !kicks,
		    "%s VM, %s loop: %lu baseline flushes, %lu kicks for %lu exits",
		    vm_names[vm], loop_names[loop], flushes, kicks, exits);
}

static double rate(const struct sample *s)
{
	return s->stat[S_EXITS] / s->seconds;
}

int main(int argc, char *argv[])
{
	struct sample res[NR_VMS][NR_LOOPS] = {}, warm[NR_LOOPS];
	struct kvm_vcpu *vcpu[NR_VMS], *sib[NR_VMS];
	struct asi_vcpu_stats st[NR_VMS];
	struct kvm_vm *vm[NR_VMS];
	uint64_t n = 10000, n_pio;
	int pass, l, v, nr_vms;

	if (argc > 1 && !strcmp(argv[1], "-s")) {
		TEST_REQUIRE(asi_find_siblings(&cpu_main, &cpu_sib));
		asi_pin(cpu_main);
		argc--;
		argv++;
	}
	if (argc > 1)
		n = atoi_positive("rounds", argv[1]);
	n_pio = n / 10 ? n / 10 : 1;
	TEST_REQUIRE(kvm_check_cap(KVM_CAP_X86_ASI) == 1);
	nr_vms = access(ASI_FLUSH_KICK_PARAM, W_OK) ? VM_BASE : NR_VMS;
	for (v = 0; v < nr_vms; v++) {
		vcpu[v] = create_vm(v, n, n_pio, &vm[v], &sib[v]);
		asi_stats_open(&st[v], vcpu[v]);
	}

	/* A first pass of each to warm up, then two of each, in turn. */
	for (v = 0; v < nr_vms; v++)
		run_pass(vcpu[v], sib[v], &st[v], warm);
	for (pass = 0; pass < 2; pass++)
		for (v = 0; v < nr_vms; v++)
			run_pass(vcpu[v], sib[v], &st[v], res[v]);

	printf("asi-perf: %lu rounds (%lu of port I/O) x 2 passes per VM\n", n, n_pio);
	if (sib[0])
		printf("asi-perf: loops on CPU %d, each VM's second vCPU spinning on CPU %d\n",
		       cpu_main, cpu_sib);
	printf("asi-perf: VMs: off (no ASI), on (KVM-ASI), base (%s)\n",
	       nr_vms == NR_VMS ? "flush L1D every entry, kick SMT siblings every exit" :
	       "none: no kvm.asi_flush_kick in this kernel");
	printf("asi-perf: exits/s of each and ratios; per 1000 exits: %s\n",
	       "on's ASI exits, flushes, stuns and stun IPIs, base's flushes and kicks");
	printf("asi-perf: %-15s %9s %9s %9s %7s %8s %7s | %9s %7s %6s %6s | %7s %6s\n",
	       "loop", "off", "on", "base", "on/off", "base/off", "on/base",
	       "ASI exits", "flushes", "stuns", "IPIs", "flushes", "kicks");
	for (l = 0; l < NR_LOOPS; l++) {
		double off = rate(&res[VM_OFF][l]), on = rate(&res[VM_ON][l]);
		double base = rate(&res[VM_BASE][l]);

		printf("asi-perf: %-15s %9.0f %9.0f ", loop_names[l], off, on);
		if (nr_vms == NR_VMS)
			printf("%9.0f %7.3f %8.3f %7.3f", base, on / off, base / off, on / base);
		else
			printf("%9s %7.3f %8s %7s", "-", on / off, "-", "-");
		printf(" | %9.1f %7.1f %6.1f %6.1f | ",
		       per_1000(&res[VM_ON][l], S_ASI_EXITS),
		       per_1000(&res[VM_ON][l], S_FLUSHES),
		       per_1000(&res[VM_ON][l], S_STUNS),
		       per_1000(&res[VM_ON][l], S_STUN_KICKS));
		if (nr_vms == NR_VMS)
			printf("%7.1f %6.1f\n", per_1000(&res[VM_BASE][l], S_BASE_FLUSHES),
			       per_1000(&res[VM_BASE][l], S_BASE_KICKS));
		else
			printf("%7s %6s\n", "-", "-");
		/* For scripts that compare runs: loop, off and on exits/s, stuns and IPIs. */
		printf("asi-rate: %d %.0f %.0f %.1f %.1f\n", l, off, on,
		       per_1000(&res[VM_ON][l], S_STUNS), per_1000(&res[VM_ON][l], S_STUN_KICKS));
	}
	/* Only the baseline may flush and kick; it must flush every entry. */
	for (v = 0; v < nr_vms; v++) {
		for (l = 0; l < NR_LOOPS; l++)
			check_events(v, l, &res[v][l]);
		asi_stats_close(&st[v]);
		kvm_vm_free(vm[v]);
	}
	return 0;
}
