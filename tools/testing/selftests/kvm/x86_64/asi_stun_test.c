// SPDX-License-Identifier: GPL-2.0
/*
 * KVM-ASI: the sibling stun is real.
 *
 * Two vCPUs of one VM on the two threads of one core. vCPU A counts in
 * a loop and never exits to user space. vCPU B spins in its guest for a
 * while and exits to user space; there, its thread stays in the full
 * address space for a window (-w ms) and reads A's counter at the start
 * and at the end of it. A thread in the full address space may touch
 * anything, so A's guest must not run meanwhile: the counter must not
 * move within any window, and must move between windows (A runs while
 * B is in KVM_RUN). A window counts only if B's thread stayed on its CPU
 * all along: once it is switched out, its CPU may idle, and an idle
 * sibling is a safe one (core scheduling makes it idle whenever the
 * other thread runs a task that is not of the VM).
 *
 * With core scheduling (asi_stun=coresched), B's thread keeps the VM's
 * cookie in user space, so it shares the core with A there; but A, held
 * out of its guest, would take the cookie back after a while, and core
 * scheduling would then keep the two apart. With -c, A does not
 * (kvm.asi_core_yield=N, debug builds), so that only the stun keeps A's
 * guest out while B is in the full address space.
 *
 * With -b, expect the opposite in some window: for a kernel whose stun
 * is broken on purpose (debugfs asi/stun_break), to show the test fails
 * when the protection is gone.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "asi_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"

static uint64_t counter;
static int stop;

static void guest_code(int id)
{
	int i;

	if (!id) {
		/*
		 * Interrupts on, as a real guest runs (none is injected
		 * here): this loop never exits by itself, and some emulated
		 * CPUs hold the host's interrupts back while a nested guest
		 * runs with IF=0.
		 */
		asm volatile("sti");
		while (!READ_ONCE(stop))
			WRITE_ONCE(counter, counter + 1);
		GUEST_DONE();
	}
	for (;;) {
		for (i = 0; i < 200000; i++)
			asm volatile("nop");
		GUEST_SYNC(0);
	}
}

static struct kvm_vcpu *vcpu_a;
static int cpu_a;

static void *run_a(void *arg)
{
	struct ucall uc;

	asi_pin(cpu_a);
	vcpu_run(vcpu_a);
	TEST_ASSERT_EQ(get_ucall(vcpu_a, &uc), UCALL_DONE);
	return NULL;
}

/* Context switches of this thread so far. */
static long switches(void)
{
	struct rusage ru;

	TEST_ASSERT(!getrusage(RUSAGE_THREAD, &ru), "getrusage");
	return ru.ru_nvcsw + ru.ru_nivcsw;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int main(int argc, char *argv[])
{
	int windows = 20, window_ms = 20, cpu_b, opt, i, moved = 0, grew = 0, switched = 0;
	uint64_t c0, c1, last = 0, max_move = 0, t;
	struct kvm_vcpu *vcpus[2];
	bool broken = false, no_yield = false;
	uint64_t *hcounter;
	long sw;
	int *hstop;
	struct kvm_vm *vm;
	pthread_t thread;
	struct ucall uc;

	while ((opt = getopt(argc, argv, "n:w:bc")) != -1) {
		switch (opt) {
		case 'n':
			windows = atoi(optarg);
			break;
		case 'w':
			window_ms = atoi(optarg);
			break;
		case 'b':
			broken = true;
			break;
		case 'c':
			no_yield = true;
			break;
		default:
			exit(KSFT_FAIL);
		}
	}
	TEST_REQUIRE(asi_find_siblings(&cpu_a, &cpu_b));

	vm = vm_create_with_vcpus(2, guest_code, vcpus);
	vcpu_a = vcpus[0];
	vcpu_args_set(vcpus[0], 1, 0);
	vcpu_args_set(vcpus[1], 1, 1);
	hcounter = addr_gva2hva(vm, (vm_vaddr_t)&counter);
	hstop = addr_gva2hva(vm, (vm_vaddr_t)&stop);

	asi_pin(cpu_b);
	if (no_yield)
		asi_set_core_yield("N");
	TEST_ASSERT(!pthread_create(&thread, NULL, run_a, NULL), "pthread_create");
	for (i = 0; i < windows; i++) {
		vcpu_run(vcpus[1]);
		TEST_ASSERT_EQ(get_ucall(vcpus[1], &uc), UCALL_SYNC);
		sw = switches();
		c0 = READ_ONCE(*hcounter);
		if (i && c0 > last)
			grew++;
		for (t = now_ns(); now_ns() - t < window_ms * 1000000ull;)
			;
		c1 = READ_ONCE(*hcounter);
		last = c1;
		if (switches() != sw) {
			switched++;
			continue;
		}
		if (c1 != c0)
			moved++;
		if (c1 - c0 > max_move)
			max_move = c1 - c0;
	}
	WRITE_ONCE(*hstop, 1);
	/* A finishes only while B is in KVM_RUN. */
	while (pthread_tryjoin_np(thread, NULL)) {
		vcpu_run(vcpus[1]);
		TEST_ASSERT_EQ(get_ucall(vcpus[1], &uc), UCALL_SYNC);
	}
	kvm_vm_free(vm);
	if (no_yield)
		asi_set_core_yield("Y");

	printf("CPUs %d+%d: %d windows of %d ms, %d not counted (B switched out); ",
	       cpu_a, cpu_b, windows, window_ms, switched);
	printf("A moved in %d (by %lu at most), ", moved, max_move);
	printf("grew between windows %d times, ended at %lu\n", grew, last);
	if (broken) {
		TEST_ASSERT(moved, "the stun is broken on purpose, yet A never ran in a window");
		return 0;
	}
	TEST_ASSERT(switched <= windows / 2, "B was switched out in %d of %d windows",
		    switched, windows);
	TEST_ASSERT(!moved, "vCPU A ran its guest while its sibling was in the full address space");
	TEST_ASSERT(grew, "vCPU A never ran: no progress");
	return 0;
}
