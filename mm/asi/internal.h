/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the files of mm/asi share, and the hooks an architecture provides.
 */
#ifndef _MM_ASI_INTERNAL_H
#define _MM_ASI_INTERNAL_H

#include <linux/asi.h>
#include <linux/atomic.h>
#include <linux/gfp_types.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>

struct seq_file;

struct asi_class {
	char name[ASI_CLASS_NAME_LEN];
	const struct asi_class_ops *ops;
	unsigned long flags;
	unsigned int id;
	bool registered;
	atomic_t nr_instances;
};

/* Freed order-0 pages each CPU keeps mapped for reuse (mm/asi/pool.c). */
#define ASI_POOL_PCPU	16

struct asi {
	struct asi_class *class;
	refcount_t ref;
	void *owner;
	/* Never reused, unlike the address: tells PCID owners apart. */
	u64 generation;
	/* Pages mapped local to this instance (mm/asi/nonsensitive.c). */
	atomic_long_t local_pages;
	/* Its kmalloc caches, with ASI_CLASS_LOCAL_KMALLOC (local.c). */
	struct kmem_cache *kmalloc[KMALLOC_SHIFT_HIGH + 1];
	struct dentry *debugfs;
	struct list_head node;		/* on asi_instances */
#ifdef CONFIG_SCHED_CORE
	/* Its threads' core-scheduling cookie, or 0 (coresched.c). */
	unsigned long core_cookie;
#endif
	struct asi_arch arch;
};

/* Every instance, for debugfs; under asi_class_lock. */
extern struct list_head asi_instances;

/*
 * The per-CPU state the transitions read while the CPU is restricted.
 * It fills a page of its own, which every restricted address space maps:
 * nothing else lives in that page. Everything here is ASI bookkeeping;
 * the instance and class structures it points to are not mapped and are
 * only dereferenced in the full address space.
 *
 * @curr: the instance this CPU runs in or is switching into; NULL when
 *	the CPU is in the full address space.
 * @pre_asi_exit, @post_asi_enter, @class_id: copied from @curr's class at
 *	enter time, so a transition never reads the class structure.
 * @critical: asi_critical_begin() depth.
 * @intr_restricted: 1 when the innermost exception frame interrupted a
 *	restricted context; the page fault hook reads it.
 * @intr_left: the instance that frame left.
 * @hook_depth: class hooks running on this CPU; an NMI can nest one in
 *	another, anything deeper is a hook that faulted.
 * @hook_broken: a hook faulted; the next asi_enter() trips the safety valve.
 * @exiting: an exit is between its pre_asi_exit hook and its CR3 write;
 *	an NMI that lands there leaves too, but its return must not enter
 *	again (see __asi_intr_enter()).
 * @enters: real switches to a restricted space (each ran post_asi_enter).
 */
/* SMT siblings a CPU can stun: SMT8 at most. */
#define ASI_STUN_MAX_SIBLINGS	7

struct asi_cpu;

/*
 * A CPU's part in the sibling stun (mm/asi/stun.c): @safe, @guest,
 * @exits and @leaving are the protocol's; @sibling the CPU's online SMT
 * siblings (NULL slots are empty); @running (debug builds, for the
 * checker), the entry's check passed and the guest may run until its
 * exit; @window_stun, this CPU stunned while its @guest was set, so its
 * siblings may have gone on without its exit; @hold, a CPU is coming
 * online and its siblings do not know of it yet: no entry (set on every
 * CPU by the CPU that brings it up).
 * The counters are written by this CPU only: stuns that kicked a
 * sibling, kicks sent, entries refused, stun waits that timed out, the
 * cycles spent waiting, and the invariant checker's findings: violations
 * and exits that saw a sibling in another instance's guest (@mixed).
 */
struct asi_stun_cpu {
	u8 safe;
	u8 guest;
	u8 leaving;
	u8 running;
	u8 hold;
	bool timed_out;
	bool window_stun;
	bool violated;
	unsigned int exits;
	struct asi_cpu *sibling[ASI_STUN_MAX_SIBLINGS];
	unsigned long stuns;
	unsigned long kicks;
	unsigned long refused;
	unsigned long timeouts;
	unsigned long violations;
	unsigned long mixed;
	unsigned long violation_state;
	u64 wait_cycles;
};

struct asi_cpu {
	struct asi *curr;
	void (*pre_asi_exit)(void);
	void (*post_asi_enter)(void);
	unsigned int class_id;
	unsigned int critical;
	unsigned long intr_restricted;
	struct asi *intr_left;
	unsigned int hook_depth;
	bool hook_broken;
	bool exiting;
	unsigned long enters;
	struct asi_stun_cpu stun;
	struct asi_arch_cpu arch;
};

union asi_cpu_page {
	struct asi_cpu cpu;
	u8 pad[PAGE_SIZE];
};

DECLARE_PER_CPU_PAGE_ALIGNED(union asi_cpu_page, asi_cpu_page);

/* Per class and CPU; only ever written in the full address space. */
struct asi_stats {
	u64 enters;
	u64 exits[ASI_EXIT_NR];
	u64 faults;
	u64 critical_faults;
};

DECLARE_PER_CPU(struct asi_stats[ASI_MAX_CLASSES], asi_stats);

void asi_stats_sum(unsigned int class_id, struct asi_stats *sum);

/* Nonsensitive memory, for debugfs and the tests (mm/asi/nonsensitive.c). */
struct asi_ns_stats {
	atomic_long_t frees_pending;	/* freed, waiting for the flush */
	atomic_long_t flushes;		/* TLB flushes of every CPU */
	atomic_long_t local_flushes;	/* of the CPUs in an instance (flush.c) */
	atomic_long_t local_flush_cpus;	/* the CPUs those interrupted */
	atomic_long_t map_failures;	/* allocations failed for a mapping */
	atomic_long_t pooled;		/* freed pages kept mapped (pool.c) */
	atomic_long_t reused;		/* allocations served from a pool */
};

extern struct asi_ns_stats asi_ns_stats;

/*
 * asi_declared: what nonsensitive blocks the allocator handed out, by the
 * frame number of their first page. An xa_value() of the order, and for a
 * local block ASI_DECLARED_LOCAL and the owner's generation.
 */
extern struct xarray asi_declared;
#define ASI_DECLARED_ORDER_MASK	0x1fUL
#define ASI_DECLARED_LOCAL	0x20UL
#define ASI_DECLARED_GEN_SHIFT	6

void *asi_declared_entry(unsigned int size, struct asi *local);
int asi_gfp_owner(gfp_t gfp, struct asi **local, unsigned long ip);

/*
 * asi_percpu_areas: the nonsensitive per-CPU areas, by their __percpu
 * address in pages, with asi_declared's encoding of their size in pages
 * (mm/asi/percpu.c).
 */
bool asi_percpu_lookup(unsigned long addr, unsigned long *value);
void asi_percpu_wait_frees(void);

extern struct asi_class asi_classes[ASI_MAX_CLASSES];
extern struct mutex asi_class_lock;
extern const char *const asi_exit_reason_names[ASI_EXIT_NR];
extern bool asi_disabled_by_warn;
extern struct asi *asi_idle_asi;
extern struct dentry *asi_debugfs_dir;

void asi_disable(const char *why, unsigned long ip);

typedef int (*asi_bench_fn)(unsigned long n, char *buf, size_t size);
void asi_debugfs_bench(const char *name, asi_bench_fn run);

/*
 * ASI_WARN_ON() - the safety valve. An internal inconsistency switches ASI
 * off for the rest of the boot with one message: asi_enter() stops
 * entering, so every CPU runs in the full address space from its next
 * exit on. Nothing crashes. Returns the condition.
 */
#define ASI_WARN_ON(cond) ({						\
	bool __asi_cond = !!(cond);					\
	if (unlikely(__asi_cond))					\
		asi_disable(#cond, _THIS_IP_);				\
	__asi_cond;							\
})

#define ASI_FAULT_LOG_SIZE	32

struct asi_fault_record {
	unsigned long address;
	unsigned long ip;
	unsigned int class_id;
	int cpu;
	bool critical;
};

/*
 * Each CPU logs its own ASI faults, so that the fault path takes no lock
 * that other CPUs' faults take: written only by this CPU, interrupts off;
 * read racily by debugfs (see asi_fault_log_read()).
 */
struct asi_fault_log {
	/* One more than shown: the one the CPU may be writing. */
	struct asi_fault_record rec[ASI_FAULT_LOG_SIZE + 1];
	unsigned int next;		/* records written, ever */
	unsigned long window;		/* jiffies: start of the report window */
	unsigned int reported;		/* reports in that window */
};

DECLARE_PER_CPU(struct asi_fault_log, asi_fault_log);
bool asi_fault_log_read(int cpu, unsigned int i, struct asi_fault_record *out);

int asi_idle_init(void);

void asi_free_later(struct page *page, unsigned int order);
void asi_wait_frees(void);

void asi_pool_free(struct asi *asi);
bool asi_pool_keep(struct page *page, u64 owner);
void asi_pool_release_all(void);

size_t asi_task_head(struct task_struct *tsk, unsigned long *start);

struct asi *asi_local_current(void);
int asi_local_init(struct asi *asi);
void asi_local_free(struct asi *asi);
void asi_debugfs_add_instance(struct asi *asi);

#define ASI_SCAN_MAX_PATTERNS	16

/* A run of the secret scanner (mm/asi/scan.c). */
struct asi_scan {
	u64 pat[ASI_SCAN_MAX_PATTERNS][2];
	unsigned int nr;
	unsigned long hits[ASI_SCAN_MAX_PATTERNS];
	unsigned long first[ASI_SCAN_MAX_PATTERNS];
	unsigned long shared_bytes, local_bytes, pages, unreadable;
	unsigned long next_va;	/* a pattern may span two pages */
	void *buf;		/* ASI_SCAN_TAIL bytes, then the page searched */
};

#define ASI_SCAN_TAIL	16

#ifdef CONFIG_ADDRESS_SPACE_ISOLATION_DEBUG
void asi_scan_page(struct asi_scan *s, unsigned long va);
void asi_arch_scan(struct asi *asi, struct asi_scan *s);
void asi_debugfs_add_scan(struct asi *asi);
#else
static inline void asi_debugfs_add_scan(struct asi *asi) { }
#endif

/* The linker's bounds of the __asi_global_nonsensitive data. */
extern char __start_asi_global_nonsensitive[], __end_asi_global_nonsensitive[];
extern char __per_cpu_asi_start[], __per_cpu_asi_end[];

/* Fault injection of registration, module mapping, cookies (provoke.c). */
#if defined(CONFIG_ADDRESS_SPACE_ISOLATION_DEBUG) && defined(CONFIG_FAULT_INJECTION)
bool asi_fail_register(void);
bool asi_fail_module_map(void);
bool asi_fail_core_cookie(void);
#else
static inline bool asi_fail_register(void) { return false; }
static inline bool asi_fail_module_map(void) { return false; }
static inline bool asi_fail_core_cookie(void) { return false; }
#endif

/* Modules that run in restricted address spaces (module.c). */
#ifdef CONFIG_MODULES
int asi_module_init(void);
bool asi_module_text(unsigned long addr);
bool asi_module_declared(unsigned long va, bool *writable, char *what, size_t len);
#else
static inline int asi_module_init(void) { return 0; }

static inline bool asi_module_text(unsigned long addr)
{
	return core_kernel_text(addr);
}

static inline bool asi_module_declared(unsigned long va, bool *writable,
				       char *what, size_t len)
{
	return false;
}
#endif

/*
 * What an unmap took from which restricted spaces, for its TLB flush
 * (mm/asi/flush.c): every space when @global, else the @nr instances.
 */
struct asi_unmapped {
	bool global;
	unsigned int nr;
	struct asi *asi[4];
};

void asi_unmapped_add(struct asi_unmapped *u, struct asi *asi);
void asi_flush_unmapped(struct asi_unmapped *u);

/* Implemented by the architecture (arch/x86/mm/asi). */
int asi_arch_init(void);
void asi_arch_disable(void);
int asi_arch_map_global(const void *addr, size_t size);
int asi_arch_map_global_ro(const void *addr, size_t size, bool exec);
void asi_arch_unmap_global(const void *addr, size_t size);
int asi_arch_instance_init(struct asi *asi);
void asi_arch_instance_free(struct asi *asi);
unsigned long asi_arch_prepare_enter(struct asi *asi);
bool asi_arch_mapped_in_full(unsigned long address);
bool asi_arch_maps(struct asi *asi, unsigned long addr);
bool asi_arch_maps_global(unsigned long addr);
bool asi_arch_idle_allowed(void);
void asi_arch_halt(void);
/* Sibling stun: send the stun IPI, to a sibling or this CPU (stun.c). */
int asi_arch_stun_init(void);
void asi_arch_stun_cpu_init(unsigned int cpu);
void asi_arch_stun_kick(struct asi_arch_cpu *sibling);
void asi_arch_stun_self(void);
u64 asi_arch_stun_clock(void);
void asi_arch_flush_cpu_buffers(void);
void asi_stun_flush_unstun(void);
void asi_sibling_stun(void);
bool asi_stun_check_reported(void);
bool asi_stun_coresched(void);
#ifdef CONFIG_SCHED_CORE
void asi_core_cookie_free(struct asi *asi);
#else
static inline void asi_core_cookie_free(struct asi *asi) { }
#endif
int asi_arch_map_pages(struct page *page, unsigned int nr, gfp_t gfp);
int asi_arch_map_local_pages(struct asi *asi, struct page *page,
			     unsigned int nr, gfp_t gfp);
unsigned int asi_arch_unmap_pages(struct page *page, unsigned int nr,
				  unsigned int *local, struct asi_unmapped *u);
int asi_arch_map_area(struct asi *local, const void *addr, unsigned int nr,
		      gfp_t gfp);
void asi_arch_unmap_area(const void *addr, unsigned int nr,
			 struct asi_unmapped *u);
long asi_arch_private_tables(struct asi *asi);
long asi_arch_local_pages(struct asi *asi);
long asi_arch_global_pages(void);
enum asi_page_kind { ASI_PAGE_SENSITIVE, ASI_PAGE_GLOBAL, ASI_PAGE_LOCAL };
enum asi_page_kind asi_arch_page_kind(struct page *page);
long asi_arch_audit(struct asi *asi, struct seq_file *m, unsigned int *violations);
long asi_arch_table_pages(void);
void *asi_alloc_table(gfp_t gfp);

#endif /* _MM_ASI_INTERNAL_H */
