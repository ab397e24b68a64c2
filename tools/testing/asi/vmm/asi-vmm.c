// SPDX-License-Identifier: GPL-2.0
/*
 * asi-vmm: a minimal VMM that runs a real-mode guest through a fixed set
 * of VM exits and prints, per exit reason, how many exits KVM counted.
 *
 * KVM reports in-kernel exits (CPUID, MSRs, nested page faults) only
 * through its statistics, not through KVM_RUN.  The guest therefore runs
 * in phases, one exit reason each, and announces every phase on port
 * 0xf0; at each announcement the VMM reads the vCPU's binary statistics,
 * and the difference between two reads belongs to one phase.  Every phase
 * is checked against what the guest is known to do: the exit status is
 * non-zero if any phase exited fewer times than its operations require.
 * Extra exits (host timer interrupts under emulation, for example) are
 * shown, not hidden.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define MEM_SIZE	0x100000	/* 1 MiB of real-mode memory */
#define CODE_GPA	0x1000
#define PHASE_PORT	0xf0
#define DATA_PORT	0xf1
#define PHASE_DONE	0xff

#include "guest.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The statistics each phase is judged by, read from KVM's stats fd. */
enum kvm_stat { ST_EXITS, ST_IRQ_EXITS, ST_IO_EXITS, ST_HALT_EXITS, ST_PF_TAKEN, NR_STATS };
static const char * const stat_names[NR_STATS] = {
	"exits", "irq_exits", "io_exits", "halt_exits", "pf_taken",
};

struct phase {
	const char *reason;	/* the exit reason this phase exercises */
	unsigned int ops;	/* guest operations ... */
	unsigned int per_op;	/* ... and VM exits each one must cause */
	bool to_vmm;		/* exits reach this VMM through KVM_RUN */
	uint64_t delta[NR_STATS];
	unsigned int vmm_exits;
};

/* Must match guest.S. */
static struct phase phases[] = {
	{ .reason = "CPUID",           .ops = 1000, .per_op = 1 },
	{ .reason = "RDMSR+WRMSR",     .ops = 500,  .per_op = 2 },
	{ .reason = "port I/O (VMM)",  .ops = 100,  .per_op = 1, .to_vmm = true },
	{ .reason = "HLT (VMM)",       .ops = 100,  .per_op = 1, .to_vmm = true },
	{ .reason = "first-touch NPF", .ops = 128,  .per_op = 1 },
};

#define NR_PHASES ARRAY_SIZE(phases)

static void die(const char *what)
{
	fprintf(stderr, "asi-vmm: %s: %s\n", what, strerror(errno));
	exit(2);
}

struct stats {
	int fd;
	off_t data_offset;
	uint32_t offset[NR_STATS];	/* of each value in the data block */
};

static void stats_open(struct stats *st, int vcpu)
{
	struct kvm_stats_header h;
	size_t desc_size;
	char *descs;
	unsigned int i, s, found = 0;

	st->fd = ioctl(vcpu, KVM_GET_STATS_FD, NULL);
	if (st->fd < 0)
		die("KVM_GET_STATS_FD");
	if (pread(st->fd, &h, sizeof(h), 0) != sizeof(h))
		die("read stats header");
	desc_size = sizeof(struct kvm_stats_desc) + h.name_size;
	descs = malloc(desc_size * h.num_desc);
	if (!descs)
		die("malloc");
	if (pread(st->fd, descs, desc_size * h.num_desc, h.desc_offset) !=
	    (ssize_t)(desc_size * h.num_desc))
		die("read stats descriptors");
	for (i = 0; i < h.num_desc; i++) {
		struct kvm_stats_desc *d = (void *)(descs + i * desc_size);

		for (s = 0; s < NR_STATS; s++) {
			if (!strcmp(d->name, stat_names[s])) {
				st->offset[s] = d->offset;
				found |= 1u << s;
			}
		}
	}
	free(descs);
	for (s = 0; s < NR_STATS; s++) {
		if (!(found & (1u << s))) {
			fprintf(stderr, "asi-vmm: KVM has no '%s' statistic\n", stat_names[s]);
			exit(2);
		}
	}
	st->data_offset = h.data_offset;
}

static void stats_read(struct stats *st, uint64_t *val)
{
	for (unsigned int s = 0; s < NR_STATS; s++)
		if (pread(st->fd, &val[s], sizeof(val[s]),
			  st->data_offset + st->offset[s]) != sizeof(val[s]))
			die("read stats");
}

int main(void)
{
	int kvm, vm, vcpu, run_size, cur = -1, failed = 0;
	uint64_t before[NR_STATS], now[NR_STATS];
	struct kvm_userspace_memory_region region;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_run *run;
	struct stats st;
	uint8_t *mem;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("open /dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");

	/*
	 * Guest memory: only the code page is touched here.  No huge pages,
	 * so that every page the guest touches first costs one nested fault.
	 */
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap guest memory");
	madvise(mem, MEM_SIZE, MADV_NOHUGEPAGE);
	memcpy(mem + CODE_GPA, guest_code, guest_code_end - guest_code);
	region = (struct kvm_userspace_memory_region) {
		.slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE,
		.userspace_addr = (uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region))
		die("KVM_SET_USER_MEMORY_REGION");

	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		die("KVM_CREATE_VCPU");
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(*run))
		die("KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");

	if (ioctl(vcpu, KVM_GET_SREGS, &sregs))
		die("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs))
		die("KVM_SET_SREGS");
	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE_GPA;
	regs.rflags = 2;
	if (ioctl(vcpu, KVM_SET_REGS, &regs))
		die("KVM_SET_REGS");

	stats_open(&st, vcpu);
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, NULL) && errno != EINTR)
			die("KVM_RUN");
		if (run->exit_reason == KVM_EXIT_IO &&
		    run->io.direction == KVM_EXIT_IO_OUT &&
		    run->io.port == PHASE_PORT) {
			uint8_t next = *((uint8_t *)run + run->io.data_offset);

			stats_read(&st, now);
			if (cur >= 0) {
				for (int s = 0; s < NR_STATS; s++)
					phases[cur].delta[s] = now[s] - before[s];
			}
			memcpy(before, now, sizeof(now));
			if (next == PHASE_DONE)
				break;
			if (next != cur + 2 || next > NR_PHASES) {
				fprintf(stderr, "asi-vmm: guest announced phase %u after %d\n",
					next, cur + 1);
				return 2;
			}
			cur = next - 1;
			continue;
		}
		if (cur < 0) {
			fprintf(stderr, "asi-vmm: exit %u before the first phase\n",
				run->exit_reason);
			return 2;
		}
		if (run->exit_reason == KVM_EXIT_HLT ||
		    (run->exit_reason == KVM_EXIT_IO && run->io.port == DATA_PORT)) {
			phases[cur].vmm_exits++;
			continue;
		}
		fprintf(stderr, "asi-vmm: unexpected exit %u in phase %s\n",
			run->exit_reason, phases[cur].reason);
		return 2;
	}

	printf("\n%-18s %6s %9s %9s %9s %10s  %s\n", "exit reason", "ops",
	       "expected", "KVM exits", "to VMM", "other", "check");
	for (unsigned int p = 0; p < NR_PHASES; p++) {
		struct phase *ph = &phases[p];
		uint64_t want = (uint64_t)ph->ops * ph->per_op;
		/* One exit of the delta is the next phase's announcement. */
		uint64_t exits = ph->delta[ST_EXITS] - 1;
		uint64_t other = ph->delta[ST_IRQ_EXITS];
		uint64_t mine = exits - other;
		/*
		 * Exactly the exits the guest's operations cause, no fewer and
		 * no unexplained extra ones; the exits to this VMM must be the
		 * same ones.
		 */
		bool ok = mine == want && ph->vmm_exits == (ph->to_vmm ? want : 0);

		failed += !ok;
		printf("%-18s %6u %9llu %9llu %9u %10llu  %s\n", ph->reason,
		       ph->ops, (unsigned long long)want,
		       (unsigned long long)exits, ph->vmm_exits,
		       (unsigned long long)other, ok ? "ok" : "FAIL");
	}
	/* Every first touch must have been a nested page fault KVM handled. */
	if (phases[4].delta[ST_PF_TAKEN] != phases[4].ops) {
		printf("first-touch NPF: FAIL, pf_taken rose by %llu\n",
		       (unsigned long long)phases[4].delta[ST_PF_TAKEN]);
		failed++;
	}
	printf("\nKVM exits: VM exits counted by KVM's 'exits' statistic during the phase;\n"
	       "other: of those, exits for host interrupts ('irq_exits').\n"
	       "first-touch NPF: KVM's pf_taken rose by %llu for %u new pages.\n",
	       (unsigned long long)phases[4].delta[ST_PF_TAKEN], phases[4].ops);
	return failed ? 1 : 0;
}
