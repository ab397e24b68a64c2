// SPDX-License-Identifier: GPL-2.0
/*
 * asi-vmm: a minimal VMM that runs a real-mode guest through a fixed set
 * of VM exits and prints, per exit reason, how many exits KVM counted and
 * what KVM-ASI did with them, for the same guest without and with ASI.
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
 *
 * The guest runs twice, in two VMs: the first never asks for ASI, the
 * second enables KVM_CAP_X86_ASI (with kvm.asi=optin; with force both
 * have it).  Both must see the same exits; the second's ASI statistics
 * say, per exit reason, how many exits were handled without leaving the
 * VM's restricted address space, how many ASI exits they caused and how
 * many flushes the re-entries cost.
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
enum kvm_stat {
	ST_EXITS, ST_IRQ_EXITS, ST_IO_EXITS, ST_HALT_EXITS, ST_PF_TAKEN,
	ST_L1D_FLUSH, ST_RESTRICTED, ST_LEFT, ST_UNPROT, ST_ASI_EXITS,
	ST_FLUSHES, ST_SKIPPED, ST_STUNS, ST_KICKS, NR_STATS
};

static const char * const stat_names[NR_STATS] = {
	"exits", "irq_exits", "io_exits", "halt_exits", "pf_taken",
	"l1d_flush", "asi_exits_restricted", "asi_exits_left",
	"asi_unprotected_entries", "asi_exits", "asi_flushes",
	"asi_flushes_skipped", "asi_stuns", "asi_stun_kicks",
};

struct phase {
	const char *reason;	/* the exit reason this phase exercises */
	unsigned int ops;	/* guest operations ... */
	unsigned int per_op;	/* ... and VM exits each one must cause */
	bool to_vmm;		/* exits reach this VMM through KVM_RUN */
};

/* What one VM's run of a phase cost. */
struct phase_result {
	uint64_t delta[NR_STATS];
	unsigned int vmm_exits;
};

/* Must match guest.S. */
static const struct phase phases[] = {
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

/* KVM's per-exit-reason ASI table of the VM with ASI, kept from debugfs. */
static char reasons[8192];

static void save_reasons(int vm)
{
	char path[96];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%d-%d/vcpu0/asi_exits",
		 getpid(), vm);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		snprintf(reasons, sizeof(reasons), "%s: %s\n", path, strerror(errno));
		return;
	}
	n = read(fd, reasons, sizeof(reasons) - 1);
	reasons[n > 0 ? n : 0] = 0;
	close(fd);
}

/* Run the guest in a new VM, with or without ASI; fill one result per phase. */
static void run_vm(int kvm, bool enable_asi, struct phase_result *res)
{
	int vm, vcpu, run_size, cur = -1;
	uint64_t before[NR_STATS], now[NR_STATS];
	struct kvm_userspace_memory_region region;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_run *run;
	struct stats st;
	uint8_t *mem;

	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	if (enable_asi) {
		struct kvm_enable_cap cap = { .cap = KVM_CAP_X86_ASI, .args = { 1 } };

		if (ioctl(vm, KVM_ENABLE_CAP, &cap))
			die("KVM_ENABLE_CAP(KVM_CAP_X86_ASI)");
	}

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
					res[cur].delta[s] = now[s] - before[s];
			}
			memcpy(before, now, sizeof(now));
			if (next == PHASE_DONE)
				break;
			if (next != cur + 2 || next > NR_PHASES) {
				fprintf(stderr, "asi-vmm: guest announced phase %u after %d\n",
					next, cur + 1);
				exit(2);
			}
			cur = next - 1;
			continue;
		}
		if (cur < 0) {
			fprintf(stderr, "asi-vmm: exit %u before the first phase\n",
				run->exit_reason);
			exit(2);
		}
		if (run->exit_reason == KVM_EXIT_HLT ||
		    (run->exit_reason == KVM_EXIT_IO && run->io.port == DATA_PORT)) {
			res[cur].vmm_exits++;
			continue;
		}
		fprintf(stderr, "asi-vmm: unexpected exit %u in phase %s\n",
			run->exit_reason, phases[cur].reason);
		exit(2);
	}
	if (enable_asi)
		save_reasons(vm);
	close(st.fd);
	munmap(run, run_size);
	close(vcpu);
	close(vm);
	munmap(mem, MEM_SIZE);
}

/*
 * Exactly the exits the guest's operations cause, no fewer and no
 * unexplained extra ones; the exits to this VMM must be the same ones.
 * With ASI, each exit is counted once at most, and every exit that
 * reaches this VMM left the restricted address space.
 */
static bool phase_ok(const struct phase *ph, const struct phase_result *r, bool asi)
{
	uint64_t want = (uint64_t)ph->ops * ph->per_op;
	/* One exit of the delta is the next phase's announcement. */
	uint64_t exits = r->delta[ST_EXITS] - 1;
	const uint64_t *d = r->delta;

	if (exits - d[ST_IRQ_EXITS] != want ||
	    r->vmm_exits != (ph->to_vmm ? want : 0))
		return false;
	if (!asi)
		return !d[ST_RESTRICTED] && !d[ST_LEFT] && !d[ST_UNPROT] &&
		       !d[ST_ASI_EXITS] && !d[ST_FLUSHES] && !d[ST_SKIPPED];
	if (d[ST_RESTRICTED] + d[ST_LEFT] + d[ST_UNPROT] > d[ST_EXITS])
		return false;
	return !ph->to_vmm || d[ST_LEFT] + d[ST_UNPROT] >= want;
}

int main(void)
{
	struct phase_result off[NR_PHASES] = {}, on[NR_PHASES] = {};
	int kvm, mode, failed = 0;
	bool asi;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("open /dev/kvm");
	/* 0: kvm.asi=off (or ASI off at boot), 1: optin, 2: force. */
	mode = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_X86_ASI);
	if (mode < 0 || mode > 2) {
		fprintf(stderr, "asi-vmm: KVM_CAP_X86_ASI reports %d\n", mode);
		return 2;
	}
	asi = mode == 1;
	run_vm(kvm, false, off);
	if (asi)
		run_vm(kvm, true, on);
	else
		printf("kvm.asi is %s: %s\n", mode ? "force" : "off",
		       mode ? "every VM has ASI, there is no VM without it to compare"
			    : "no VM has ASI; boot with kvm.asi=optin for the comparison");

	printf("\n%-16s %5s | %-24s | %-s\n", "", "", "ASI off (no capability)",
	       asi ? "ASI on (KVM_CAP_X86_ASI)" : "");
	printf("%-16s %5s | %6s %6s %5s %4s | %6s %6s %5s %5s %6s %6s %6s %4s %6s %6s  %s\n",
	       "exit reason", "ops", "exits", "to VMM", "other", "l1d",
	       "exits", "restr", "left", "unprt", "asi_ex", "flush", "skip",
	       "l1d", "stun/k", "kick/k", "check");
	for (unsigned int p = 0; p < NR_PHASES; p++) {
		const struct phase *ph = &phases[p];
		const uint64_t *a = off[p].delta, *b = on[p].delta;
		bool ok = phase_ok(ph, &off[p], mode == 2) &&
			  (!asi || phase_ok(ph, &on[p], true));

		failed += !ok;
		printf("%-16s %5u | %6llu %6u %5llu %4llu |", ph->reason, ph->ops,
		       (unsigned long long)a[ST_EXITS] - 1, off[p].vmm_exits,
		       (unsigned long long)a[ST_IRQ_EXITS],
		       (unsigned long long)a[ST_L1D_FLUSH]);
		if (asi)
			printf(" %6llu %6llu %5llu %5llu %6llu %6llu %6llu %4llu",
			       (unsigned long long)b[ST_EXITS] - 1,
			       (unsigned long long)b[ST_RESTRICTED],
			       (unsigned long long)b[ST_LEFT],
			       (unsigned long long)b[ST_UNPROT],
			       (unsigned long long)b[ST_ASI_EXITS],
			       (unsigned long long)b[ST_FLUSHES],
			       (unsigned long long)b[ST_SKIPPED],
			       (unsigned long long)b[ST_L1D_FLUSH]);
		if (asi)
			printf(" %6.1f %6.1f |", 1000.0 * b[ST_STUNS] / (b[ST_EXITS] ?: 1),
			       1000.0 * b[ST_KICKS] / (b[ST_EXITS] ?: 1));
		printf("  %s\n", ok ? "ok" : "FAIL");
	}
	/* Every first touch must have been a nested page fault KVM handled. */
	for (int v = 0; v < 1 + asi; v++) {
		const struct phase_result *r = v ? &on[4] : &off[4];

		if (r->delta[ST_PF_TAKEN] != phases[4].ops) {
			printf("first-touch NPF (ASI %s): FAIL, pf_taken rose by %llu\n",
			       v ? "on" : "off",
			       (unsigned long long)r->delta[ST_PF_TAKEN]);
			failed++;
		}
	}
	printf("\nexits: VM exits KVM counted in the phase ('exits'); to VMM: of those,\n"
	       "exits that reached this VMM; other: exits for host interrupts\n"
	       "('irq_exits'); l1d: L1D flushes at VM entry ('l1d_flush').\n"
	       "restr: exits handled entirely in the VM's restricted address space;\n"
	       "left: exits during whose handling the CPU left it; unprt: exits after\n"
	       "an entry made outside it; asi_ex: ASI exits (real switches to the full\n"
	       "kernel); flush/skip: re-entries of the VM that flushed CPU state after\n"
	       "an ASI exit, or skipped it because there was none; stun/k, kick/k:\n"
	       "per 1000 exits, the ASI exits that kicked the SMT sibling out of its\n"
	       "guest, and the kicks (a sibling in no guest costs none).\n"
	       "first-touch NPF: KVM's pf_taken rose by %llu (ASI off) and %llu (on)\n"
	       "for %u new pages.\n",
	       (unsigned long long)off[4].delta[ST_PF_TAKEN],
	       (unsigned long long)on[4].delta[ST_PF_TAKEN], phases[4].ops);
	if (asi)
		printf("\nPer exit reason, with ASI (KVM's debugfs vcpu0/asi_exits):\n%s",
		       reasons);
	return failed ? 1 : 0;
}
