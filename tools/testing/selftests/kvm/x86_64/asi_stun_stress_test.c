// SPDX-License-Identifier: GPL-2.0
/*
 * KVM-ASI: the sibling stun under load.
 *
 * Two vCPUs of one VM on the two threads of one core, for -s seconds
 * (default 60). vCPU A counts in its guest and never exits to user
 * space; vCPU B exits to user space all the time, so its thread leaves
 * ASI and stuns A again and again. Meanwhile the host loads both
 * threads with timer interrupts (a thread on each that sleeps 50 us at a
 * time), IPIs (membarrier(), which interrupts every CPU that runs a
 * thread of this process) and NMIs (debugfs asi/nmi_load, which sends
 * them to every other CPU). B's thread takes the VM's core-scheduling
 * cookie as its own when it has one (PR_SCHED_CORE_SHARE_FROM A's
 * thread), so that with core scheduling its user space shares the core
 * with A too.
 *
 * With -H, B's CPU also goes offline and online again, and SMT is
 * switched off and on (/sys/devices/system/cpu/smt/control), over and
 * over for the first seven tenths of the run; B's thread goes where the
 * scheduler puts it meanwhile and is pinned to its CPU again after each
 * round. In the last three tenths, with no more hotplug, the stun must
 * kick A again: the siblings' lists came back.
 *
 * It must end with: no new invariant violation (debugfs asi/stun),
 * stuns and NMIs that happened, A's counter grown in every tenth of the
 * run, and B's exits in every tenth too. A hang or a kernel report
 * fails the run around it.
 */
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
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

#define STUN_FILE	"/sys/kernel/debug/asi/stun"
#define NMI_FILE	"/sys/kernel/debug/asi/nmi_load"
#define SLICES		10
#define HOTPLUG_SLICES	7
#define SMT_CONTROL	"/sys/devices/system/cpu/smt/control"

#ifndef PR_SCHED_CORE
#define PR_SCHED_CORE			62
#define PR_SCHED_CORE_GET		0
#define PR_SCHED_CORE_SHARE_FROM	3
#endif
#define PIDTYPE_PID			0

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
		for (i = 0; i < 1000; i++)
			asm volatile("nop");
		GUEST_SYNC(0);
	}
}

static int cpu_a, cpu_b;
static pid_t tid_a, tid_b, tid_timer_b;
static int load_stop, hotplug_stop;

/* A number from one of ASI's debugfs files; -1 when the line is missing. */
static long debugfs_stat(const char *file, const char *name)
{
	char line[128];
	long val = -1;
	FILE *f = fopen(file, "r");

	TEST_ASSERT(f, "open %s (debugfs, an ASI debug kernel)", file);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, strlen(name)) && line[strlen(name)] == ':')
			val = strtol(line + strlen(name) + 1, NULL, 10);
	fclose(f);
	return val;
}

static struct kvm_vcpu *vcpu_a;

static void *run_a(void *arg)
{
	struct ucall uc;

	asi_pin(cpu_a);
	__atomic_store_n(&tid_a, syscall(SYS_gettid), __ATOMIC_RELEASE);
	vcpu_run(vcpu_a);
	TEST_ASSERT_EQ(get_ucall(vcpu_a, &uc), UCALL_DONE);
	return NULL;
}

/* Timer interrupts on @arg's CPU: wake up every 50 us. */
static void *timer_load(void *arg)
{
	struct timespec ts = { .tv_nsec = 50000 };

	if ((long)arg == cpu_b)
		__atomic_store_n(&tid_timer_b, syscall(SYS_gettid), __ATOMIC_RELEASE);
	asi_pin((long)arg);
	while (!READ_ONCE(load_stop))
		nanosleep(&ts, NULL);
	return NULL;
}

/* IPIs to every CPU that runs a thread of this process. */
static void *ipi_load(void *arg)
{
	TEST_ASSERT(!syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0),
		    "membarrier register");
	while (!READ_ONCE(load_stop)) {
		TEST_ASSERT(!syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0),
			    "membarrier");
		usleep(100);
	}
	return NULL;
}

/* NMIs to every other CPU, 100 rounds per write. */
static void *nmi_load(void *arg)
{
	while (!READ_ONCE(load_stop)) {
		FILE *f = fopen(NMI_FILE, "w");

		TEST_ASSERT(f, "open " NMI_FILE);
		fputs("100\n", f);
		TEST_ASSERT(!fclose(f), "write " NMI_FILE);
	}
	return NULL;
}

static void write_file(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");

	TEST_ASSERT(f, "open %s", path);
	fputs(val, f);
	TEST_ASSERT(!fclose(f), "write %s to %s", val, path);
}

/* Write @off then @on to @path, and pin B's threads back to B's CPU. */
static void cycle(const char *path, const char *off, const char *on)
{
	struct timespec ts = { .tv_nsec = 200000000 };

	write_file(path, off);
	nanosleep(&ts, NULL);
	write_file(path, on);
	asi_pin_tid(tid_b, cpu_b);
	asi_pin_tid(__atomic_load_n(&tid_timer_b, __ATOMIC_ACQUIRE), cpu_b);
	nanosleep(&ts, NULL);
}

/*
 * B's CPU offline and online, then SMT off and on, until told to stop.
 * The count of rounds in @arg.
 */
static void *hotplug(void *arg)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online", cpu_b);
	while (!READ_ONCE(hotplug_stop)) {
		cycle(path, "0\n", "1\n");
		cycle(SMT_CONTROL, "off\n", "on\n");
		(*(long *)arg)++;
	}
	return NULL;
}

/* Take the cookie A's thread has in KVM_RUN, if it gets one within 2 s. */
static bool share_vm_cookie(void)
{
	unsigned long cookie = 0;
	pid_t tid;
	int i;

	for (i = 0; i < 200 && !cookie; i++) {
		tid = __atomic_load_n(&tid_a, __ATOMIC_ACQUIRE);
		if (tid && prctl(PR_SCHED_CORE, PR_SCHED_CORE_GET, tid, PIDTYPE_PID, &cookie))
			return false;	/* no CONFIG_SCHED_CORE */
		if (!cookie)
			usleep(10000);
	}
	return cookie &&
	       !prctl(PR_SCHED_CORE, PR_SCHED_CORE_SHARE_FROM, tid_a, PIDTYPE_PID, 0);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int main(int argc, char *argv[])
{
	long v0, v1, stuns0, stuns1, kicks0, kicks1, kicks_after = 0, nmis0, nmis1, rounds = 0;
	uint64_t a_at[SLICES + 1], b_at[SLICES + 1], t0, slice_ns;
	pthread_t thread, loads[4], hotplugger;
	struct kvm_vcpu *vcpus[2];
	int seconds = 60, opt, i;
	bool hot = false;
	unsigned long b_exits = 0;
	uint64_t *hcounter;
	struct kvm_vm *vm;
	struct ucall uc;
	bool shared;

	while ((opt = getopt(argc, argv, "s:H")) != -1) {
		switch (opt) {
		case 's':
			seconds = atoi(optarg);
			break;
		case 'H':
			hot = true;
			break;
		default:
			exit(KSFT_FAIL);
		}
	}
	TEST_REQUIRE(asi_find_siblings(&cpu_a, &cpu_b));
	TEST_ASSERT(seconds > 0, "-s %d", seconds);
	if (hot)
		TEST_REQUIRE(!access(SMT_CONTROL, W_OK));
	slice_ns = seconds * 1000000000ull / SLICES;

	vm = vm_create_with_vcpus(2, guest_code, vcpus);
	vcpu_a = vcpus[0];
	vcpu_args_set(vcpus[0], 1, 0);
	vcpu_args_set(vcpus[1], 1, 1);
	hcounter = addr_gva2hva(vm, (vm_vaddr_t)&counter);

	v0 = debugfs_stat(STUN_FILE, "violations");
	stuns0 = debugfs_stat(STUN_FILE, "stuns");
	kicks0 = debugfs_stat(STUN_FILE, "kicks");
	nmis0 = debugfs_stat(NMI_FILE, "taken");
	TEST_ASSERT(v0 >= 0 && nmis0 >= 0, "no violations in " STUN_FILE " or no " NMI_FILE);

	asi_pin(cpu_b);
	tid_b = syscall(SYS_gettid);
	TEST_ASSERT(!pthread_create(&thread, NULL, run_a, NULL), "pthread_create");
	shared = share_vm_cookie();
	TEST_ASSERT(!pthread_create(&loads[0], NULL, timer_load, (void *)(long)cpu_a) &&
		    !pthread_create(&loads[1], NULL, timer_load, (void *)(long)cpu_b) &&
		    !pthread_create(&loads[2], NULL, ipi_load, NULL) &&
		    !pthread_create(&loads[3], NULL, nmi_load, NULL), "pthread_create");

	while (hot && !__atomic_load_n(&tid_timer_b, __ATOMIC_ACQUIRE))
		usleep(1000);
	if (hot)
		TEST_ASSERT(!pthread_create(&hotplugger, NULL, hotplug, &rounds), "pthread_create");

	t0 = now_ns();
	a_at[0] = READ_ONCE(*hcounter);
	b_at[0] = 0;
	for (i = 1; i <= SLICES; i++) {
		if (hot && i == HOTPLUG_SLICES + 1) {
			WRITE_ONCE(hotplug_stop, 1);
			pthread_join(hotplugger, NULL);
			kicks_after = debugfs_stat(STUN_FILE, "kicks");
		}
		while (now_ns() - t0 < i * slice_ns) {
			vcpu_run(vcpus[1]);
			TEST_ASSERT_EQ(get_ucall(vcpus[1], &uc), UCALL_SYNC);
			b_exits++;
		}
		a_at[i] = READ_ONCE(*hcounter);
		b_at[i] = b_exits;
	}

	WRITE_ONCE(load_stop, 1);
	for (i = 0; i < 4; i++)
		pthread_join(loads[i], NULL);
	WRITE_ONCE(*(int *)addr_gva2hva(vm, (vm_vaddr_t)&stop), 1);
	/* A finishes only while B is in KVM_RUN. */
	while (pthread_tryjoin_np(thread, NULL)) {
		vcpu_run(vcpus[1]);
		TEST_ASSERT_EQ(get_ucall(vcpus[1], &uc), UCALL_SYNC);
	}
	kvm_vm_free(vm);

	v1 = debugfs_stat(STUN_FILE, "violations");
	stuns1 = debugfs_stat(STUN_FILE, "stuns");
	kicks1 = debugfs_stat(STUN_FILE, "kicks");
	nmis1 = debugfs_stat(NMI_FILE, "taken");
	printf("CPUs %d+%d, %d s, B %s the VM's cookie: %lu exits to user space, ",
	       cpu_a, cpu_b, seconds, shared ? "with" : "without", b_exits);
	printf("A counted to %lu; %ld stuns, %ld kicks, %ld NMIs taken, %ld violations\n",
	       (unsigned long)a_at[SLICES], stuns1 - stuns0, kicks1 - kicks0,
	       nmis1 - nmis0, v1 - v0);
	if (hot)
		printf("%ld rounds of CPU %d offline and online, SMT off and on; %ld kicks after\n",
		       rounds, cpu_b, kicks1 - kicks_after);
	for (i = 1; i <= SLICES; i++)
		printf("slice %d: A +%lu, B +%lu exits\n", i,
		       (unsigned long)(a_at[i] - a_at[i - 1]),
		       (unsigned long)(b_at[i] - b_at[i - 1]));

	TEST_ASSERT(v1 == v0, "%ld invariant violations", v1 - v0);
	TEST_ASSERT(stuns1 > stuns0, "no stun: nothing was tested");
	TEST_ASSERT(nmis1 > nmis0, "no NMI taken");
	if (hot) {
		TEST_ASSERT(rounds > 0, "no hotplug round");
		TEST_ASSERT(kicks1 > kicks_after, "no kick after the hotplug rounds");
	}
	for (i = 1; i <= SLICES; i++) {
		TEST_ASSERT(a_at[i] > a_at[i - 1], "vCPU A made no progress in slice %d", i);
		TEST_ASSERT(b_at[i] > b_at[i - 1], "vCPU B made no progress in slice %d", i);
	}
	return 0;
}
