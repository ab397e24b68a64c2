// SPDX-License-Identifier: GPL-2.0
/*
 * A benchmark, not a test: the cost of an asi_enter() + asi_exit() round
 * trip against a bare CR3 reload, measured on the same CPU in the same
 * run, with interrupts off.
 *
 *   echo 10000 > /sys/kernel/debug/asi/bench; cat /sys/kernel/debug/asi/bench
 *
 * Each operation is timed with rdtsc_ordered(). Under QEMU with
 * "-icount shift=0" the TSC advances by one per instruction executed, so
 * the figures are instruction counts, in which a CR3 write (and the TLB
 * flush it implies) counts as a single instruction: compare them as
 * instructions, and count the CR3 writes separately (two per round trip,
 * one per reload). Without icount they are emulated time, meaningful only
 * as a ratio.
 */

#include <linux/asi.h>
#include <linux/init.h>
#include <asm/msr.h>

#include "../../../../mm/asi/internal.h"

static struct asi_class *asi_bench_class;
static struct asi *asi_bench_asi;
static const struct asi_class_ops asi_bench_ops;

struct asi_bench_stat {
	u64 min, sum;
};

static void asi_bench_add(struct asi_bench_stat *s, u64 t)
{
	s->min = min(s->min, t);
	s->sum += t;
}

/* Runs under the bench file's mutex, which also guards the instance. */
static int asi_bench_run(unsigned long n, char *buf, size_t size)
{
	struct asi_bench_stat trip = { .min = U64_MAX }, reload = { .min = U64_MAX };
	unsigned long i, flags;
	u64 t0, t1;
	int err;

	if (!asi_bench_asi) {
		asi_bench_class = asi_register_class("bench", &asi_bench_ops, 0);
		if (IS_ERR(asi_bench_class))
			return PTR_ERR(asi_bench_class);
		asi_bench_asi = asi_create(asi_bench_class, NULL);
		if (IS_ERR(asi_bench_asi)) {
			err = PTR_ERR(asi_bench_asi);
			asi_bench_asi = NULL;
			asi_unregister_class(asi_bench_class);
			return err;
		}
	}
	err = asi_task_init(asi_bench_asi);
	if (err)
		return err;

	local_irq_save(flags);
	for (i = 0; i < n; i++) {
		t0 = rdtsc_ordered();
		asi_write_cr3(asi_read_cr3());
		t1 = rdtsc_ordered();
		asi_bench_add(&reload, t1 - t0);

		t0 = rdtsc_ordered();
		asi_enter(asi_bench_asi);
		asi_exit();
		t1 = rdtsc_ordered();
		asi_bench_add(&trip, t1 - t0);
	}
	local_irq_restore(flags);

	snprintf(buf, size,
		 "iterations %lu\nround_trip_min %llu\nround_trip_avg %llu\n"
		 "cr3_reload_min %llu\ncr3_reload_avg %llu\nratio_min_x100 %llu\n"
		 "ratio_avg_x100 %llu\npcid %d\n",
		 n, trip.min, trip.sum / n, reload.min, reload.sum / n,
		 reload.min ? trip.min * 100 / reload.min : 0,
		 reload.sum ? trip.sum * 100 / reload.sum : 0,
		 cpu_feature_enabled(X86_FEATURE_PCID));
	return 0;
}

static int __init asi_bench_init(void)
{
	if (asi_enabled())
		asi_debugfs_bench("bench", asi_bench_run);
	return 0;
}

/* After asi_debugfs_init(), a late_initcall. */
late_initcall_sync(asi_bench_init);
