// SPDX-License-Identifier: GPL-2.0
/*
 * KVM-ASI: search VM A's restricted address space for secrets.
 *
 * Two VMs run exit loops on all vCPUs (A: 4 vCPUs, B: 2) while this test
 * plants distinctive 16-byte patterns where secrets live:
 *
 *   B's guest memory, B's vCPU registers (saved in B's struct kvm_vcpu,
 *   local to B), B's vCPU thread's kernel stack (its user registers,
 *   which KVM_RUN saves there), a host process's kernel stack (the array
 *   poll() copies there, in a child that never runs a VM and blocks in
 *   poll()), host user memory, a
 *   page-cache page, a plain kmalloc and vmalloc buffer, a page freed and
 *   then allocated again as nonsensitive memory, and another CPU's
 *   per-CPU data (the last four through /sys/kernel/debug/asi/scan_plant).
 *
 * Then it has the kernel read every page A's instance maps, through its
 * physical address, and search for them (the instance's debugfs file
 * "scan"), three times, a second apart. None may be found. Two controls
 * show that the scan can fail: a pattern in a page allocated globally
 * nonsensitive must be found in A and B; A's own vCPU registers (local
 * to A) must be found in A and not in B; B's registers and B's vCPU
 * thread stack in B and not in A. The child's stack is searched directly
 * too, to show the pattern it left is really there. Prints the bytes each
 * instance maps, shared and local.
 *
 * Needs kvm.asi=optin or force and a kernel with
 * CONFIG_ADDRESS_SPACE_ISOLATION_DEBUG (the scan file); skips otherwise.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"

#define ASI_DIR		"/sys/kernel/debug/asi"
#define A_VCPUS		4
#define B_VCPUS		2
#define MAX_INSTANCES	256

enum {
	P_CONTROL,	/* globally nonsensitive page: in every instance */
	P_A_REGS,	/* A's vCPU registers: in A only */
	P_B_REGS,	/* B's vCPU registers: in B only */
	P_B_GUEST,	/* B's guest memory */
	P_B_STACK,	/* B's vCPU thread's user registers on its kernel stack */
	P_HOST_STACK,	/* a host process's kernel stack */
	P_HOST_USER,	/* host user memory */
	P_PAGE_CACHE,	/* a page-cache page */
	P_KMALLOC,
	P_VMALLOC,
	P_REUSED,	/* freed, then allocated again as nonsensitive */
	P_PERCPU,	/* another CPU's per-CPU data */
	NR_PATTERNS,
};

static const char *const names[NR_PATTERNS] = {
	"control (global nonsensitive page)", "A's vCPU registers",
	"B's vCPU registers", "B's guest memory", "B's vCPU thread stack",
	"host process kernel stack", "host user memory", "page cache",
	"kmalloc buffer", "vmalloc buffer", "freed and reused page",
	"another CPU's per-CPU data",
};

static uint64_t pat[NR_PATTERNS][2];

/* Set per VM before it runs: what the guest keeps in R8/R9. */
static uint64_t guest_regs[2];
static uint64_t guest_secret[2];
static uint64_t guest_sink;

static void guest_code(void)
{
	uint32_t a, b, c, d;
	uint64_t i;

	WRITE_ONCE(guest_sink, guest_secret[0] ^ guest_secret[1]);
	for (i = 0;; i++) {
		/* R8 and R9 hold the pattern across every exit. */
		asm volatile("mov %[lo], %%r8\n\t"
			     "mov %[hi], %%r9\n\t"
			     "cpuid"
			     : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
			     : "a"(0), "c"(0), [lo] "m"(guest_regs[0]),
			       [hi] "m"(guest_regs[1])
			     : "r8", "r9", "memory");
		if (i % 256 == 0)
			GUEST_SYNC(i);
	}
}

struct vcpu_run {
	struct kvm_vcpu *vcpu;
	pthread_t thread;
	pthread_barrier_t *ready;
	bool plant_stack;
	uint64_t syncs;
};

static bool stop;

/*
 * Block in poll() with @p in the pollfd array, which poll() copies to
 * its stack frame: two entries whose negative fds it ignores. Their
 * revents, which it clears, are the pattern's zero bytes.
 */
static void block_with_secret_on_stack(const uint64_t *p)
{
	struct pollfd fds[2];

	memcpy(fds, p, sizeof(fds));
	for (;;)
		poll(fds, 2, -1);
}

/*
 * KVM_RUN with @p in R15 and R14: the syscall entry saves them at the top
 * of the thread's kernel stack (struct pt_regs), next to each other.
 */
static void run_with_secret_regs(struct kvm_vcpu *vcpu, const uint64_t *p)
{
	register uint64_t r15 asm("r15") = p[0];
	register uint64_t r14 asm("r14") = p[1];
	long ret;

	do {
		asm volatile("syscall"
			     : "=a"(ret)
			     : "0"((long)SYS_ioctl), "D"((long)vcpu->fd),
			       "S"((long)KVM_RUN), "d"(0L), "r"(r15), "r"(r14)
			     : "rcx", "r11", "memory");
	} while (ret == -EINTR);
	TEST_ASSERT(!ret, "KVM_RUN: %ld", ret);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu_run *r = arg;
	struct ucall uc;

	pthread_barrier_wait(r->ready);
	while (!READ_ONCE(stop)) {
		if (r->plant_stack)
			run_with_secret_regs(r->vcpu, pat[P_B_STACK]);
		else
			vcpu_run(r->vcpu);
		switch (get_ucall(r->vcpu, &uc)) {
		case UCALL_SYNC:
			r->syncs++;
			break;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
		default:
			TEST_FAIL("vCPU: unexpected exit %u", r->vcpu->run->exit_reason);
		}
	}
	return NULL;
}

/* The instances' debugfs directories, "kvm-<generation>". */
static int list_instances(char names_out[][64])
{
	DIR *d = opendir(ASI_DIR "/instances");
	struct dirent *e;
	int n = 0;

	TEST_ASSERT(d, "no %s/instances", ASI_DIR);
	while ((e = readdir(d)) && n < MAX_INSTANCES)
		if (!strncmp(e->d_name, "kvm-", 4))
			snprintf(names_out[n++], 64, "%s", e->d_name);
	closedir(d);
	return n;
}

/* The one instance in @after that was not in @before. */
static void new_instance(char before[][64], int nb, char after[][64], int na,
			 char *out)
{
	int i, j, found = 0;

	for (i = 0; i < na; i++) {
		for (j = 0; j < nb && strcmp(after[i], before[j]); j++)
			;
		if (j == nb) {
			snprintf(out, 64, "%s", after[i]);
			found++;
		}
	}
	TEST_ASSERT(found == 1, "%d new KVM instances, expected 1", found);
}

static struct kvm_vm *create_vm(unsigned int n, struct kvm_vcpu **vcpus,
				int mode, const uint64_t *regs,
				const uint64_t *secret, char *instance)
{
	static char before[MAX_INSTANCES][64], after[MAX_INSTANCES][64];
	int nb = list_instances(before), na;
	struct kvm_vm *vm = vm_create(n);
	unsigned int i;

	if (mode == 1)
		vm_enable_cap(vm, KVM_CAP_X86_ASI, 1);
	for (i = 0; i < n; i++)
		vcpus[i] = vm_vcpu_add(vm, i, guest_code);
	memcpy(guest_regs, regs, sizeof(guest_regs));
	memcpy(guest_secret, secret, sizeof(guest_secret));
	sync_global_to_guest(vm, guest_regs);
	sync_global_to_guest(vm, guest_secret);
	memset(guest_regs, 0, sizeof(guest_regs));
	memset(guest_secret, 0, sizeof(guest_secret));
	na = list_instances(after);
	new_instance(before, nb, after, na, instance);
	return vm;
}

static void hex(char *out, const uint64_t *p)
{
	const uint8_t *b = (const uint8_t *)p;
	int i;

	for (i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static void plant_kernel(void)
{
	int fd = open(ASI_DIR "/scan_plant", O_WRONLY);
	char buf[512], h[5][33];
	int n, cpu = sysconf(_SC_NPROCESSORS_ONLN) - 1;

	TEST_ASSERT(fd >= 0, "open scan_plant");
	hex(h[0], pat[P_CONTROL]);
	hex(h[1], pat[P_KMALLOC]);
	hex(h[2], pat[P_VMALLOC]);
	hex(h[3], pat[P_REUSED]);
	hex(h[4], pat[P_PERCPU]);
	/* Another CPU than this one, most of the time: the last one. */
	n = snprintf(buf, sizeof(buf),
		     "clear\ncontrol %s\nkmalloc %s\nvmalloc %s\nreused %s\npercpu %d %s\n",
		     h[0], h[1], h[2], h[3], cpu, h[4]);
	TEST_ASSERT(write(fd, buf, n) == n, "write scan_plant");
	close(fd);
}

struct scan {
	unsigned long shared, local, pages, unreadable;
	unsigned long hits[NR_PATTERNS], first[NR_PATTERNS];
	unsigned long stack_hits[NR_PATTERNS];
};

static void scan_instance(const char *instance, pid_t pid, struct scan *s)
{
	char path[128], buf[4096], *line, *save;
	int fd, n, i;
	unsigned int p;
	unsigned long v, w;

	snprintf(path, sizeof(path), ASI_DIR "/instances/%s/scan", instance);
	fd = open(path, O_RDWR);
	TEST_ASSERT(fd >= 0, "open %s", path);
	n = pid ? snprintf(buf, sizeof(buf), "pid %d\n", pid) : 0;
	for (i = 0; i < NR_PATTERNS; i++) {
		hex(buf + n, pat[i]);
		n += 32;
		buf[n++] = '\n';
	}
	TEST_ASSERT(write(fd, buf, n) == n, "write %s", path);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	TEST_ASSERT(n > 0, "read %s", path);
	buf[n] = 0;
	close(fd);

	memset(s, 0, sizeof(*s));
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "mapped_shared_bytes %lu", &v) == 1) {
			s->shared = v;
		} else if (sscanf(line, "mapped_local_bytes %lu", &v) == 1) {
			s->local = v;
		} else if (sscanf(line, "pages_searched %lu", &v) == 1) {
			s->pages = v;
		} else if (sscanf(line, "pages_unreadable %lu", &v) == 1) {
			s->unreadable = v;
		} else if (sscanf(line, "pattern %u hits %lu first 0x%lx", &p, &v, &w) == 3 &&
			   p < NR_PATTERNS) {
			s->hits[p] = v;
			s->first[p] = w;
		} else if (sscanf(line, "pid %*d stack pattern %u hits %lu", &p, &v) == 2 &&
			   p < NR_PATTERNS) {
			s->stack_hits[p] = v;
		}
	}
	TEST_ASSERT(s->pages > 1000, "%s: only %lu pages searched", instance, s->pages);
}

/* As a struct pollfd: a negative fd, any events, revents 0. */
static uint64_t pollfd_shaped(uint64_t v)
{
	return (v | 0x80000000ULL) & ~(0xffffULL << 48);
}

static void random_patterns(void)
{
	uint64_t prefix;
	int i;

	TEST_ASSERT(getrandom(&prefix, sizeof(prefix), 0) == sizeof(prefix),
		    "getrandom");
	prefix = pollfd_shaped(prefix);
	for (i = 0; i < NR_PATTERNS; i++) {
		pat[i][0] = prefix;
		while (!pat[i][1])
			TEST_ASSERT(getrandom(&pat[i][1], 8, 0) == 8, "getrandom");
	}
	pat[P_HOST_STACK][1] = pollfd_shaped(pat[P_HOST_STACK][1]);
}

/* A host process that never runs a VM: its secret is on its stack. */
static pid_t start_host_process(void)
{
	int ready[2];
	pid_t pid;
	char c;

	TEST_ASSERT(!pipe(ready), "pipe");
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork");
	if (!pid) {
		c = 1;
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		block_with_secret_on_stack(pat[P_HOST_STACK]);
	}
	TEST_ASSERT(read(ready[0], &c, 1) == 1, "host process");
	close(ready[0]);
	close(ready[1]);
	return pid;
}

int main(int argc, char *argv[])
{
	struct kvm_vcpu *a_vcpus[A_VCPUS], *b_vcpus[B_VCPUS];
	struct vcpu_run runs[A_VCPUS + B_VCPUS] = {};
	int mode = kvm_check_cap(KVM_CAP_X86_ASI);
	char inst_a[64], inst_b[64], path[64];
	static const uint64_t none[2];
	pthread_barrier_t ready;
	struct scan sa, sb;
	struct kvm_vm *a, *b;
	uint64_t *user;
	unsigned int i, round, bad = 0;
	pid_t host;
	int fd;

	TEST_REQUIRE(mode == 1 || mode == 2);
	TEST_REQUIRE(!access(ASI_DIR "/scan_plant", W_OK));

	ksft_print_header();
	ksft_set_plan(1);
	random_patterns();

	a = create_vm(A_VCPUS, a_vcpus, mode, pat[P_A_REGS], none, inst_a);
	b = create_vm(B_VCPUS, b_vcpus, mode, pat[P_B_REGS], pat[P_B_GUEST], inst_b);
	pr_info("VM A is instance %s, VM B %s\n", inst_a, inst_b);

	/* Secrets of the host. */
	host = start_host_process();
	user = mmap(NULL, getpagesize(), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	TEST_ASSERT(user != MAP_FAILED, "mmap");
	for (i = 0; i < getpagesize() / 8; i += 2)
		memcpy(user + i, pat[P_HOST_USER], 16);
	snprintf(path, sizeof(path), "/tmp/asi_scan_test.%d", getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	TEST_ASSERT(fd >= 0, "open %s", path);
	for (i = 0; i < 256; i++)
		TEST_ASSERT(write(fd, pat[P_PAGE_CACHE], 16) == 16, "write %s", path);
	plant_kernel();

	/* Both VMs run; B's first vCPU thread plants on its stack first. */
	pthread_barrier_init(&ready, NULL, A_VCPUS + B_VCPUS + 1);
	for (i = 0; i < A_VCPUS + B_VCPUS; i++) {
		runs[i].vcpu = i < A_VCPUS ? a_vcpus[i] : b_vcpus[i - A_VCPUS];
		runs[i].ready = &ready;
		runs[i].plant_stack = i == A_VCPUS;
		TEST_ASSERT(!pthread_create(&runs[i].thread, NULL, vcpu_thread, &runs[i]),
			    "pthread_create");
	}
	pthread_barrier_wait(&ready);

	for (round = 0; round < 3; round++) {
		sleep(1);
		scan_instance(inst_a, host, &sa);
		for (i = 0; i < NR_PATTERNS; i++) {
			bool want = i == P_CONTROL || i == P_A_REGS;

			if (!sa.hits[i] == !want)
				continue;
			pr_info("round %u: A: %s: %lu hits, the first at 0x%lx\n", round,
				names[i], sa.hits[i], sa.first[i]);
			bad++;
		}
	}
	scan_instance(inst_b, 0, &sb);
	for (i = 0; i < NR_PATTERNS; i++)
		pr_info("%-32s in A %3lu, in B %3lu%s\n", names[i], sa.hits[i],
			sb.hits[i], i == P_HOST_STACK ? " (A's scan)" : "");
	pr_info("the host process's stack holds its secret %lu times\n",
		sa.stack_hits[P_HOST_STACK]);
	pr_info("A maps %lu bytes shared by all instances and %lu local to it (%lu pages searched, %lu unreadable)\n",
		sa.shared, sa.local, sa.pages, sa.unreadable);
	pr_info("B maps %lu bytes shared by all instances and %lu local to it\n",
		sb.shared, sb.local);

	WRITE_ONCE(stop, true);
	for (i = 0; i < A_VCPUS + B_VCPUS; i++) {
		pthread_join(runs[i].thread, NULL);
		TEST_ASSERT(runs[i].syncs > 0, "vCPU thread %u did not run", i);
	}
	kill(host, SIGKILL);
	waitpid(host, NULL, 0);
	close(fd);
	unlink(path);
	kvm_vm_free(a);
	kvm_vm_free(b);

	TEST_ASSERT(!bad, "%u unexpected results in A's instance", bad);
	TEST_ASSERT(sa.stack_hits[P_HOST_STACK] > 0,
		    "the host process's secret is not on its stack: nothing was tested");
	TEST_ASSERT(sb.hits[P_CONTROL] && sb.hits[P_B_REGS] && sb.hits[P_B_STACK] &&
		    !sb.hits[P_A_REGS],
		    "B: control %lu, own registers %lu, own stack %lu, A's registers %lu",
		    sb.hits[P_CONTROL], sb.hits[P_B_REGS], sb.hits[P_B_STACK],
		    sb.hits[P_A_REGS]);
	TEST_ASSERT(sa.local > 0 && sa.shared > sa.local, "bytes mapped");
	ksft_test_result_pass("0 secrets in A's %lu mapped bytes, controls found\n",
			      sa.shared + sa.local);
	ksft_finished();
}
