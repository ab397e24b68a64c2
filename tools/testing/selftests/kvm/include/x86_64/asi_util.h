/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the KVM-ASI selftests share: reading a vCPU's binary statistics by
 * name (this library reads only a VM's, __vm_get_stat()), checking that
 * the guest stopped at a GUEST_SYNC, the share of exits handled in the
 * kernel, and creating VMs of the benchmarks' flush-and-kick baseline
 * (arch/x86/kvm/asi_baseline.c).
 */
#ifndef SELFTEST_KVM_ASI_UTIL_H
#define SELFTEST_KVM_ASI_UTIL_H

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvm_util.h"
#include "ucall_common.h"

struct asi_vcpu_stats {
	int fd;
	struct kvm_stats_header header;
	struct kvm_stats_desc *desc;
};

static inline void asi_stats_open(struct asi_vcpu_stats *st, struct kvm_vcpu *vcpu)
{
	st->fd = vcpu_get_stats_fd(vcpu);
	read_stats_header(st->fd, &st->header);
	st->desc = read_stats_descriptors(st->fd, &st->header);
}

static inline void asi_stats_close(struct asi_vcpu_stats *st)
{
	free(st->desc);
	close(st->fd);
}

/* Read the statistics called @names[0..@n) into @out; each must exist. */
static inline void asi_stats_read(struct asi_vcpu_stats *st,
				  const char *const *names, unsigned int n,
				  uint64_t *out)
{
	unsigned int i, j;

	for (j = 0; j < n; j++) {
		for (i = 0; i < st->header.num_desc; i++)
			if (!strcmp(get_stats_descriptor(st->desc, i, &st->header)->name,
				    names[j]))
				break;
		TEST_ASSERT(i < st->header.num_desc, "no vCPU statistic %s", names[j]);
		read_stat_data(st->fd, &st->header,
			       get_stats_descriptor(st->desc, i, &st->header), &out[j], 1);
	}
}

static inline uint64_t asi_stat(struct asi_vcpu_stats *st, const char *name)
{
	uint64_t v;

	asi_stats_read(st, &name, 1, &v);
	return v;
}

/* The vCPU stopped at the guest's GUEST_SYNC: anything else fails. */
static inline void asi_expect_sync(struct kvm_vcpu *vcpu, struct ucall *uc)
{
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
	switch (get_ucall(vcpu, uc)) {
	case UCALL_SYNC:
		break;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(*uc);
		break;
	default:
		TEST_FAIL("unexpected ucall %lu", uc->cmd);
	}
}

/*
 * @n of @exits in percent, counting only those KVM completed in the
 * kernel: all but the @syncs to user space, which must leave. 0 if none.
 */
static inline double asi_in_kernel_share(uint64_t n, uint64_t exits,
					 uint64_t syncs)
{
	return exits > syncs ? 100.0 * n / (exits - syncs) : 0.0;
}

#define ASI_FLUSH_KICK_PARAM "/sys/module/kvm/parameters/asi_flush_kick"

/* Write @val (one character) to the module parameter file @path. */
static inline void asi_write_param(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);

	TEST_ASSERT(fd >= 0, "open %s", path);
	TEST_ASSERT(write(fd, val, 1) == 1, "write %s to %s", val, path);
	close(fd);
}

/* Set kvm.asi_flush_kick: "Y" for the VMs created next, "N" after. */
static inline void asi_set_flush_kick(const char *val)
{
	asi_write_param(ASI_FLUSH_KICK_PARAM, val);
}

#define ASI_CORE_YIELD_PARAM "/sys/module/kvm/parameters/asi_core_yield"

/*
 * Set kvm.asi_core_yield (debug builds): "N", a vCPU held out of its
 * guest by a thread of its VM on its sibling never takes the VM's
 * core-scheduling cookie back; "Y", the default, it does.
 */
static inline void asi_set_core_yield(const char *val)
{
	asi_write_param(ASI_CORE_YIELD_PARAM, val);
}

/* Pin the calling thread to @cpu. */
static inline void asi_pin_tid(pid_t tid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	TEST_ASSERT(!sched_setaffinity(tid, sizeof(set), &set),
		    "sched_setaffinity(%d, CPU %d)", tid, cpu);
}

static inline void asi_pin(int cpu)
{
	asi_pin_tid(0, cpu);
}

/* Two SMT siblings: false if no CPU has one. */
static inline bool asi_find_siblings(int *a, int *b)
{
	char path[128], buf[64];
	int cpu, x, y;
	FILE *f;

	for (cpu = 0; cpu < 64; cpu++) {
		snprintf(path, sizeof(path),
			 "/sys/devices/system/cpu/cpu%d/topology/thread_siblings_list", cpu);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) &&
		    sscanf(buf, "%d%*[,-]%d", &x, &y) == 2 && x != y) {
			fclose(f);
			*a = x;
			*b = y;
			return true;
		}
		fclose(f);
	}
	return false;
}

#endif /* SELFTEST_KVM_ASI_UTIL_H */
