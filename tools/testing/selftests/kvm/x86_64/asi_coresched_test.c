// SPDX-License-Identifier: GPL-2.0
/*
 * KVM-ASI with the sibling stun's core-scheduling backend: two VMs, two
 * vCPUs each, one thread per vCPU, on a host with SMT. Every guest spins
 * and exits to user space now and then; the main thread moves the vCPU
 * threads from CPU to CPU all along.
 *
 * - Within KVM_RUN (sampled by the main thread), every vCPU thread
 *   carries its VM's core-scheduling cookie: the same within a VM,
 *   different across VMs, never none, and not the one the VMM set on a
 *   vCPU thread with prctl(PR_SCHED_CORE) before its first KVM_RUN.
 * - After KVM_RUN, in user space, a vCPU thread keeps its VM's cookie,
 *   unless a sibling vCPU it held out took it back (then its own); once
 *   the VMs are destroyed, every vCPU thread has its own cookie back: the
 *   VMM's, or none.
 * - The invariant checker's sample (debugfs asi/stun, "mixed_guests": a
 *   VM exit that found a sibling running another VM's guest) stays 0.
 * - Every vCPU made progress.
 *
 * With -x, for a backend without core scheduling (asi_stun=ipi): no
 * cookies, and the same sample must see the two VMs' guests on one core,
 * which shows that it can.
 *
 * With -y, a vCPU thread spins in user space, which counts as the full
 * address space, on the SMT sibling of another vCPU of its VM: the other
 * vCPU must still run its guest, because it takes the cookie back
 * (asi_core_yields) and core scheduling then keeps the two apart. With
 * -y -x, where nothing takes the cookie back (asi_stun=ipi, no cookie;
 * or kvm.asi_core_yield=N, which -n sets), the same vCPU must be held
 * out: what the test measures is real.
 */
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "asi_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"

#define NR_VMS		2
#define NR_VCPUS	2
#define STUN_FILE	"/sys/kernel/debug/asi/stun"

#ifndef PR_SCHED_CORE
#define PR_SCHED_CORE		62
#define PR_SCHED_CORE_GET	0
#define PR_SCHED_CORE_CREATE	1
#endif
#define PIDTYPE_PID		0

static int stop;

static void guest_code(void)
{
	int i;

	while (!READ_ONCE(stop)) {
		for (i = 0; i < 1000000; i++)
			asm volatile("nop");
		GUEST_SYNC(0);
	}
	GUEST_DONE();
}

struct vcpu_thread {
	struct kvm_vcpu *vcpu;
	pthread_t thread;
	pid_t tid;
	bool own_cookie;	/* set one with prctl() before KVM_RUN */
	unsigned long before;	/* the thread's own cookie */
	unsigned long cookie;	/* a cookie sampled while in KVM_RUN */
	unsigned long samples;	/* how many of those */
	unsigned long after;	/* the first other than its own after KVM_RUN */
	unsigned long kept;	/* returns from KVM_RUN with that one */
	unsigned long other;	/* a third cookie after KVM_RUN */
	unsigned long final;	/* its cookie once the VMs are destroyed */
	unsigned long syncs;
};

static int running, vms_freed;

static struct vcpu_thread threads[NR_VMS * NR_VCPUS];

static unsigned long cookie_of(pid_t tid)
{
	unsigned long cookie = 0;

	TEST_ASSERT(!prctl(PR_SCHED_CORE, PR_SCHED_CORE_GET, tid, PIDTYPE_PID, &cookie),
		    "PR_SCHED_CORE_GET (CONFIG_SCHED_CORE?)");
	return cookie;
}

static void *vcpu_fn(void *arg)
{
	struct vcpu_thread *t = arg;
	struct ucall uc;

	if (t->own_cookie)
		TEST_ASSERT(!prctl(PR_SCHED_CORE, PR_SCHED_CORE_CREATE, 0, PIDTYPE_PID, 0),
			    "PR_SCHED_CORE_CREATE");
	t->before = cookie_of(0);
	/* The main thread samples the thread once it knows @before. */
	__atomic_store_n(&t->tid, syscall(SYS_gettid), __ATOMIC_RELEASE);
	for (;;) {
		unsigned long c;

		vcpu_run(t->vcpu);
		c = cookie_of(0);
		if (c != t->before) {
			if (!t->after)
				t->after = c;
			if (c == t->after)
				t->kept++;
			else
				t->other = c;
		}
		if (get_ucall(t->vcpu, &uc) == UCALL_DONE)
			break;
		TEST_ASSERT_EQ(uc.cmd, UCALL_SYNC);
		t->syncs++;
	}
	__atomic_sub_fetch(&running, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&vms_freed, __ATOMIC_ACQUIRE))
		usleep(1000);
	t->final = cookie_of(0);
	return NULL;
}

/* A number from debugfs asi/stun; -1 when the line is missing. */
static long stun_stat(const char *name, char *backend, size_t len)
{
	char line[128];
	long val = -1;
	FILE *f = fopen(STUN_FILE, "r");

	TEST_ASSERT(f, "open " STUN_FILE " (debugfs, an ASI debug kernel)");
	while (fgets(line, sizeof(line), f)) {
		if (backend && !strncmp(line, "backend: ", 9))
			snprintf(backend, len, "%.*s", (int)strcspn(line + 9, "\n"), line + 9);
		if (!strncmp(line, name, strlen(name)) && line[strlen(name)] == ':')
			val = strtol(line + strlen(name) + 1, NULL, 10);
	}
	fclose(f);
	return val;
}

static void move(pid_t tid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	/* The thread may have just finished: its CPU no longer matters. */
	sched_setaffinity(tid, sizeof(set), &set);
}

static void held_guest(void)
{
	int i;

	for (;;) {
		for (i = 0; i < 10000; i++)
			asm volatile("nop");
		GUEST_SYNC(0);
	}
}

static sem_t spin_go;
static int spinning, spin_stop, spin_seconds;

/*
 * B: once told, one KVM_RUN, which gives it the VM's cookie, then user
 * space only, for the whole measurement: A, if held out, sees no exit
 * until then. Until told, it sleeps: it inherited the VM's cookie from
 * A's thread, and would hold A out too.
 */
static void *spinner_fn(void *arg)
{
	struct kvm_vcpu *vcpu = arg;
	struct timespec t0, ts;
	struct ucall uc;

	TEST_ASSERT(!sem_wait(&spin_go), "sem_wait");
	vcpu_run(vcpu);
	asi_expect_sync(vcpu, &uc);
	__atomic_store_n(&spinning, 1, __ATOMIC_RELEASE);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		clock_gettime(CLOCK_MONOTONIC, &ts);
	} while (!__atomic_load_n(&spin_stop, __ATOMIC_ACQUIRE) &&
		 ts.tv_sec - t0.tv_sec < spin_seconds);
	return NULL;
}

/* A's exits to user space in @seconds: one per GUEST_SYNC. */
static unsigned long run_a(struct kvm_vcpu *vcpu, int seconds)
{
	unsigned long syncs = 0;
	struct timespec ts, t0;
	struct ucall uc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		vcpu_run(vcpu);
		asi_expect_sync(vcpu, &uc);
		syncs++;
		clock_gettime(CLOCK_MONOTONIC, &ts);
	} while (ts.tv_sec - t0.tv_sec < seconds);
	return syncs;
}

static int held_out(int seconds, bool expect_held, bool no_yield)
{
	unsigned long alone, syncs, refused, yields;
	struct kvm_vcpu *vcpus[2];
	struct asi_vcpu_stats st;
	pthread_t spinner;
	struct ucall uc;
	struct kvm_vm *vm;
	cpu_set_t set;
	int a, b;

	TEST_REQUIRE(asi_find_siblings(&a, &b));
	if (no_yield)
		asi_set_core_yield("N");
	spin_seconds = seconds + 1;
	vm = vm_create_with_vcpus(2, held_guest, vcpus);
	asi_pin(a);
	/* A first, so that it holds the cookie when B comes. */
	vcpu_run(vcpus[0]);
	asi_expect_sync(vcpus[0], &uc);
	TEST_ASSERT(!sem_init(&spin_go, 0, 0), "sem_init");
	TEST_ASSERT(!pthread_create(&spinner, NULL, spinner_fn, vcpus[1]), "pthread_create");
	CPU_ZERO(&set);
	CPU_SET(b, &set);
	TEST_ASSERT(!pthread_setaffinity_np(spinner, sizeof(set), &set), "pin B to CPU %d", b);
	/* A's rate with B asleep: what "held out" compares with. */
	alone = run_a(vcpus[0], 1);
	TEST_ASSERT(!sem_post(&spin_go), "sem_post");
	/* Until B is out of its one KVM_RUN and spins: A sleeps meanwhile. */
	while (!__atomic_load_n(&spinning, __ATOMIC_ACQUIRE))
		usleep(1000);
	asi_stats_open(&st, vcpus[0]);
	refused = asi_stat(&st, "asi_stun_refused");
	yields = asi_stat(&st, "asi_core_yields");
	syncs = run_a(vcpus[0], seconds);
	refused = asi_stat(&st, "asi_stun_refused") - refused;
	yields = asi_stat(&st, "asi_core_yields") - yields;
	__atomic_store_n(&spin_stop, 1, __ATOMIC_RELEASE);
	pthread_join(spinner, NULL);
	asi_stats_close(&st);
	kvm_vm_free(vm);
	if (no_yield)
		asi_set_core_yield("Y");

	printf("CPUs %d and %d: A alone made %lu exits to user space in 1 s; ", a, b, alone);
	printf("%d s with B spinning in user space: %lu, ", seconds, syncs);
	printf("%lu entries refused, %lu cookies taken back\n", refused, yields);
	if (expect_held) {
		/* Held out, but for moments when B's CPU ran no thread of the VM. */
		TEST_ASSERT(syncs * 50 < alone * seconds && refused,
			    "A was not held out (%lu exits)", syncs);
		TEST_ASSERT(!yields, "a cookie was taken back");
		return 0;
	}
	TEST_ASSERT(yields, "A never took the cookie back");
	TEST_ASSERT(syncs * 10 >= alone * seconds, "A was held out: %lu exits in %d s",
		    syncs, seconds);
	return 0;
}

int main(int argc, char *argv[])
{
	int seconds = 20, ncpus = sysconf(_SC_NPROCESSORS_ONLN), opt, v, i, moves = 0;
	long mixed0, mixed1, violations0, violations1;
	struct kvm_vcpu *vcpus[NR_VCPUS];
	struct kvm_vm *vms[NR_VMS];
	bool expect_mixed = false, held = false, no_yield = false;
	char backend[32] = "?";
	struct timespec ts;
	time_t end;

	while ((opt = getopt(argc, argv, "ns:xy")) != -1) {
		switch (opt) {
		case 's':
			seconds = atoi(optarg);
			break;
		case 'x':
			expect_mixed = true;
			break;
		case 'y':
			held = true;
			break;
		case 'n':
			no_yield = true;
			break;
		default:
			exit(KSFT_FAIL);
		}
	}
	TEST_REQUIRE(ncpus >= 2);
	if (held)
		return held_out(seconds, expect_mixed, no_yield);
	mixed0 = stun_stat("mixed_guests", backend, sizeof(backend));
	violations0 = stun_stat("violations", NULL, 0);
	TEST_ASSERT(mixed0 >= 0, "no mixed_guests in " STUN_FILE);

	for (v = 0; v < NR_VMS; v++) {
		vms[v] = vm_create_with_vcpus(NR_VCPUS, guest_code, vcpus);
		for (i = 0; i < NR_VCPUS; i++)
			threads[v * NR_VCPUS + i].vcpu = vcpus[i];
	}
	/* The VMM's own cookie on the first vCPU thread: KVM's must win. */
	threads[0].own_cookie = true;
	running = NR_VMS * NR_VCPUS;
	for (i = 0; i < NR_VMS * NR_VCPUS; i++)
		TEST_ASSERT(!pthread_create(&threads[i].thread, NULL, vcpu_fn, &threads[i]),
			    "pthread_create");

	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = ts.tv_sec + seconds;
	srand(1);
	do {
		usleep(10000);
		for (i = 0; i < NR_VMS * NR_VCPUS; i++) {
			struct vcpu_thread *t = &threads[i];
			unsigned long c;

			if (!__atomic_load_n(&t->tid, __ATOMIC_ACQUIRE))
				continue;
			/* Mostly in KVM_RUN: the guest spins between exits. */
			c = cookie_of(t->tid);
			if (c != t->before) {
				TEST_ASSERT(!t->samples || c == t->cookie,
					    "VM %d vCPU %d ran with cookies %#lx and %#lx",
					    i / NR_VCPUS, i % NR_VCPUS, t->cookie, c);
				t->cookie = c;
				t->samples++;
			}
			if (rand() % 2) {
				move(t->tid, rand() % ncpus);
				moves++;
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
	} while (ts.tv_sec < end);

	for (v = 0; v < NR_VMS; v++)
		WRITE_ONCE(*(int *)addr_gva2hva(vms[v], (vm_vaddr_t)&stop), 1);
	while (__atomic_load_n(&running, __ATOMIC_ACQUIRE))
		usleep(1000);
	mixed1 = stun_stat("mixed_guests", NULL, 0);
	violations1 = stun_stat("violations", NULL, 0);

	printf("backend %s, %d s, %d moves; mixed guests sampled %ld times, %ld violations\n",
	       backend, seconds, moves, mixed1 - mixed0, violations1 - violations0);
	for (i = 0; i < NR_VMS * NR_VCPUS; i++) {
		printf("VM %d vCPU %d: %lu exits to user space, cookie %#lx in KVM_RUN ",
		       i / NR_VCPUS, i % NR_VCPUS, threads[i].syncs, threads[i].cookie);
		printf("(%lu samples), its own %#lx; kept that in user space %lu times\n",
		       threads[i].samples, threads[i].before, threads[i].kept);
	}
	for (v = 0; v < NR_VMS; v++)
		kvm_vm_free(vms[v]);
	__atomic_store_n(&vms_freed, 1, __ATOMIC_RELEASE);
	for (i = 0; i < NR_VMS * NR_VCPUS; i++) {
		pthread_join(threads[i].thread, NULL);
		printf("VM %d vCPU %d: cookie %#lx once the VMs are gone\n",
		       i / NR_VCPUS, i % NR_VCPUS, threads[i].final);
	}

	TEST_ASSERT_EQ(violations1, violations0);
	for (i = 0; i < NR_VMS * NR_VCPUS; i++) {
		TEST_ASSERT(threads[i].syncs, "VM %d vCPU %d made no progress",
			    i / NR_VCPUS, i % NR_VCPUS);
		TEST_ASSERT(threads[i].final == threads[i].before,
			    "VM %d vCPU %d has cookie %#lx after its VM, not its own %#lx",
			    i / NR_VCPUS, i % NR_VCPUS, threads[i].final, threads[i].before);
		TEST_ASSERT(!threads[i].other,
			    "VM %d vCPU %d returned from KVM_RUN with cookies %#lx and %#lx",
			    i / NR_VCPUS, i % NR_VCPUS, threads[i].after, threads[i].other);
	}
	if (expect_mixed) {
		TEST_ASSERT(mixed1 > mixed0,
			    "without core scheduling, two VMs' guests never shared a core");
		for (i = 0; i < NR_VMS * NR_VCPUS; i++)
			TEST_ASSERT(!threads[i].samples && !threads[i].after,
				    "a cookie without core scheduling");
		return 0;
	}
	TEST_ASSERT(!strcmp(backend, "coresched"), "backend %s, not coresched", backend);
	TEST_ASSERT(mixed1 == mixed0, "two VMs' guests ran on one core %ld times",
		    mixed1 - mixed0);
	for (i = 0; i < NR_VMS * NR_VCPUS; i++) {
		TEST_ASSERT(threads[i].samples && threads[i].cookie,
			    "VM %d vCPU %d was never seen with a cookie of its VM's",
			    i / NR_VCPUS, i % NR_VCPUS);
		TEST_ASSERT(threads[i].cookie == threads[i / NR_VCPUS * NR_VCPUS].cookie,
			    "the vCPU threads of VM %d have different cookies", i / NR_VCPUS);
		TEST_ASSERT(threads[i].kept && threads[i].after == threads[i].cookie,
			    "VM %d vCPU %d did not keep its VM's cookie %#lx in user space (%#lx)",
			    i / NR_VCPUS, i % NR_VCPUS, threads[i].cookie, threads[i].after);
	}
	TEST_ASSERT(threads[0].cookie != threads[NR_VCPUS].cookie,
		    "the two VMs' vCPU threads share a cookie");
	TEST_ASSERT(threads[0].before, "the VMM's own cookie is missing");
	return 0;
}
