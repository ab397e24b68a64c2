/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Address Space Isolation (ASI): run parts of the kernel in a restricted
 * address space that maps nothing secret.
 *
 * See Documentation/mm/asi.rst for the design, the threat model and the
 * rules every class must follow.
 */
#ifndef _LINUX_ASI_H
#define _LINUX_ASI_H

#include <linux/types.h>
#include <linux/asi_types.h>

#ifdef CONFIG_HAVE_ARCH_ADDRESS_SPACE_ISOLATION
#include <asm/asi.h>
#endif

struct kmem_cache;
struct page;
struct vm_struct;
struct pt_regs;
struct task_struct;

/**
 * struct asi_local_scope - a saved __GFP_LOCAL_NONSENSITIVE scope
 * @asi: the instance local allocations went to
 * @key: where that scope was opened (see &struct asi_task)
 *
 * Returned by asi_local_begin(), handed back to asi_local_end().
 */
struct asi_local_scope {
	struct asi *asi;
	unsigned long key;
};

/**
 * enum asi_exit_reason - why a CPU left its restricted address space
 * @ASI_EXIT_EXPLICIT: asi_exit() was called.
 * @ASI_EXIT_FAULT: a page fault; an ASI fault when the full address space
 *	maps the address, otherwise an ordinary fault that happened while
 *	restricted.
 * @ASI_EXIT_INTERRUPT: a device interrupt or a system vector (IPI, timer).
 * @ASI_EXIT_EXCEPTION: any other exception (#UD, #BP, #GP, ...).
 * @ASI_EXIT_NMI: an NMI or another paranoid entry (#MC, #DB, #DF).
 * @ASI_EXIT_CONTEXT_SWITCH: the scheduler switched away from a restricted
 *	task. Every path into the scheduler leaves ASI earlier, so this
 *	counts a safety net that should stay at zero.
 * @ASI_EXIT_NR: number of reasons.
 */
enum asi_exit_reason {
	ASI_EXIT_EXPLICIT,
	ASI_EXIT_FAULT,
	ASI_EXIT_INTERRUPT,
	ASI_EXIT_EXCEPTION,
	ASI_EXIT_NMI,
	ASI_EXIT_CONTEXT_SWITCH,
	ASI_EXIT_NR,
};

/**
 * struct asi_class_ops - what a class does on each transition
 * @post_asi_enter: called after the CPU switched to the restricted address
 *	space, before asi_enter() or the interrupt return that entered it
 *	returns. Typical use: flush CPU buffers that may hold secrets, then
 *	let the SMT sibling run untrusted code again.
 * @pre_asi_exit: called while the CPU is still restricted, right before
 *	it switches to the full address space. Typical use: make sure the
 *	SMT sibling runs nothing untrusted while this CPU can touch secrets.
 *
 * Both hooks may be NULL. They take no argument: they act on per-CPU
 * state. They run with interrupts disabled, in the restricted address
 * space, possibly from NMI context and from the outermost interrupt
 * return where RCU is not watching, so they must be noinstr, must not
 * sleep, lock, trace or touch anything the class does not map. They must
 * be built-in code or code of a module that has __asi_read_mostly data:
 * asi_register_class() refuses hooks elsewhere, since only that text is
 * mapped in restricted address spaces. A module unregisters its class
 * before it unloads.
 *
 * Each real transition runs its hook exactly once. A hook can itself be
 * interrupted by an NMI, and that NMI's own transitions run the hooks of
 * the same class (pre_asi_exit on the way in, post_asi_enter on the way
 * out) nested inside the interrupted hook, so a hook must be correct
 * when its effect is undone and redone by such a nested pair before it
 * finishes.
 */
struct asi_class_ops {
	void (*post_asi_enter)(void);
	void (*pre_asi_exit)(void);
};

#ifdef CONFIG_MITIGATION_ADDRESS_SPACE_ISOLATION

#include <linux/gfp_types.h>
#include <linux/jump_label.h>
#include <linux/percpu-defs.h>

/* A class handle. The registry owns the storage; never dereference it. */
struct asi_class;
/* A restricted address space of one class. */
struct asi;

#define ASI_MAX_CLASSES		16
#define ASI_CLASS_NAME_LEN	16

/*
 * Class flags for asi_register_class().
 * ASI_CLASS_LOCAL_KMALLOC: each instance gets kmalloc caches of its own,
 *	so kmalloc(__GFP_LOCAL_NONSENSITIVE) works in its scope.
 */
#define ASI_CLASS_LOCAL_KMALLOC	BIT(0)
#define ASI_CLASS_FLAGS		ASI_CLASS_LOCAL_KMALLOC

DECLARE_STATIC_KEY_FALSE(asi_enabled_key);

/**
 * asi_enabled() - is ASI on in this boot?
 *
 * Return: true when the ``asi=`` boot parameter, the Kconfig default and
 * the CPU allowed ASI and the core has not been switched off by an
 * internal inconsistency since. A patched-out branch when it is off.
 */
static __always_inline bool asi_enabled(void)
{
	return static_branch_likely(&asi_enabled_key);
}

struct asi_class *asi_register_class(const char *name,
				     const struct asi_class_ops *ops,
				     unsigned long flags);
int asi_unregister_class(struct asi_class *class);

struct asi *asi_create(struct asi_class *class, void *owner);
struct asi *asi_get(struct asi *asi);
void asi_put(struct asi *asi);
void *asi_owner(struct asi *asi);
struct asi_class *asi_class_of(struct asi *asi);
bool asi_maps(struct asi *asi, const void *addr);
long asi_audit(struct asi *asi, unsigned int *violations);

int asi_task_init(struct asi *asi);

void asi_enter(struct asi *asi);
void asi_exit(void);

void asi_critical_begin(void);
void asi_critical_end(void);

bool asi_is_restricted(void);
struct asi *asi_current(void);
void asi_check_cr3(void);
void asi_record_exits(struct asi_exit_record *rec);
unsigned long asi_take_exits(struct asi_exit_record *rec,
			     struct asi_exit_record *out);
unsigned long asi_cpu_enters(void);
void asi_sibling_unstun(void);
bool asi_sibling_enter_guest(void);
void asi_sibling_exit_guest(void);
void asi_stun_counts(struct asi_stun_counts *c);
#ifdef CONFIG_SCHED_CORE
int asi_core_cookie_init(struct asi *asi);
bool asi_task_in_core(struct asi *asi, struct task_struct *p);
unsigned long asi_task_share_core(struct asi *asi);
void asi_task_unshare_core(struct asi *asi, struct task_struct *p, unsigned long prev);
struct task_struct *asi_core_sibling_task(struct asi *asi);
#else
static inline int asi_core_cookie_init(struct asi *asi) { return 0; }
static inline bool asi_task_in_core(struct asi *asi, struct task_struct *p)
{
	return true;
}

static inline unsigned long asi_task_share_core(struct asi *asi) { return 0; }
static inline void asi_task_unshare_core(struct asi *asi, struct task_struct *p,
					 unsigned long prev) { }
static inline struct task_struct *asi_core_sibling_task(struct asi *asi)
{
	return NULL;
}
#endif
struct asi *asi_target(void);

unsigned long __asi_intr_enter(enum asi_exit_reason reason);
void __asi_intr_exit(unsigned long state);

/**
 * asi_intr_enter() - leave ASI at the start of an exception or interrupt
 * @reason: what kind of entry this is
 *
 * Called first thing by every x86 IDT entry point, before the handler
 * touches anything but its stack and this CPU's ASI state. If the
 * interrupted context was restricted, runs the class's pre_asi_exit hook
 * and loads the full page table.
 *
 * With ASI off at boot this is a patched-out branch. It is not
 * asi_enabled()'s static key: the int3 handler runs this before
 * poke_int3_handler(), so a static branch here would trap on its own
 * int3 while that key is being patched. asi_arch_boot_enabled() is
 * patched before the other CPUs run, when no int3 is involved.
 *
 * Return: a cookie for asi_intr_exit().
 */
static __always_inline unsigned long asi_intr_enter(enum asi_exit_reason reason)
{
	if (!asi_arch_boot_enabled())
		return 0;
	return __asi_intr_enter(reason);
}

/**
 * asi_intr_exit() - return to ASI at the end of an exception or interrupt
 * @state: the cookie asi_intr_enter() returned
 *
 * Called last by every x86 IDT entry point. When its entry left ASI and
 * the task still has a target (an ASI fault clears it), enters the target
 * again; the task may run on another CPU by now.
 */
static __always_inline void asi_intr_exit(unsigned long state)
{
	if (asi_arch_boot_enabled())
		__asi_intr_exit(state);
}

bool asi_handle_page_fault(struct pt_regs *regs, unsigned long error_code,
			   unsigned long address);

bool asi_idle_halt(void);
bool asi_idle_must_halt(void);

void asi_context_switch(struct task_struct *prev);
void asi_release_task(struct task_struct *tsk);
void asi_task_fork(struct task_struct *tsk);
unsigned int asi_task_struct_layout(unsigned int *align);

/*
 * Static and per-CPU data that every restricted address space maps
 * (globally nonsensitive), on pages of their own: see "Nonsensitive
 * memory" in Documentation/mm/asi.rst for what may go there. In a
 * module, static data marked so makes ASI map the module's text and
 * read-only data too, while it is loaded ("Modules" in asi.rst).
 */
#define __asi_global_nonsensitive	__section(".data..asi_global_nonsensitive")
/* Read-mostly data that is globally nonsensitive when ASI is built in. */
#define __asi_read_mostly		__asi_global_nonsensitive
#define DECLARE_PER_CPU_ASI_GLOBAL_NONSENSITIVE(type, name)		\
	DECLARE_PER_CPU_SECTION(type, name, "..asi_global_nonsensitive")
#ifdef MODULE
/*
 * A module's static per-CPU data shares pages with other modules': use
 * alloc_percpu_gfp(type, GFP_KERNEL | __GFP_GLOBAL_NONSENSITIVE) instead.
 */
#define DEFINE_PER_CPU_ASI_GLOBAL_NONSENSITIVE(type, name)		\
	static_assert(sizeof(type) && 0, "no nonsensitive per-CPU " #name " in a module")
#else
#define DEFINE_PER_CPU_ASI_GLOBAL_NONSENSITIVE(type, name)		\
	DEFINE_PER_CPU_SECTION(type, name, "..asi_global_nonsensitive")
#endif

struct alloc_context;
int asi_alloc_pages(struct page *page, unsigned int order, gfp_t gfp);
struct page *asi_reuse_page(unsigned int order, gfp_t gfp,
			    const struct alloc_context *ac);
bool __asi_free_pages(struct page *page, unsigned int order);
/* In mm/page_alloc.c: frees a block that free_pages_prepare() prepared. */
void asi_free_prepared_pages(struct page *page, unsigned int order);
void asi_flush_frees(void);

struct asi_local_scope asi_local_begin(struct asi *asi);
void asi_local_end(struct asi_local_scope prev);
gfp_t asi_local_gfp(void);
struct kmem_cache *asi_local_kmalloc_cache(unsigned int index);
struct kmem_cache *asi_kmem_cache_create(struct asi *asi, const char *name,
					 unsigned int size, unsigned int align,
					 slab_flags_t flags, void (*ctor)(void *));
struct kmem_cache *asi_kmem_cache_create_usercopy(struct asi *asi, const char *name,
						  unsigned int size, unsigned int align,
						  slab_flags_t flags,
						  unsigned int useroffset,
						  unsigned int usersize,
						  void (*ctor)(void *));
void asi_kmem_cache_destroy(struct kmem_cache *s);

void __asi_percpu_round(size_t *size, size_t *align, gfp_t gfp);
int __asi_percpu_map(void __percpu *ptr, size_t size, gfp_t gfp);
bool __asi_percpu_free(void __percpu *ptr);

/**
 * asi_percpu_round() - size a per-CPU allocation
 * @size: the size asked for, rounded up to whole pages if nonsensitive
 * @align: the alignment asked for, made PAGE_SIZE if nonsensitive
 * @gfp: the allocation's flags
 *
 * Called by pcpu_alloc() first: each CPU's copy of a nonsensitive area
 * gets pages of its own, which ASI can map without mapping its
 * neighbours.
 */
static __always_inline void asi_percpu_round(size_t *size, size_t *align,
					     gfp_t gfp)
{
	if (asi_enabled())
		__asi_percpu_round(size, align, gfp);
}

/**
 * asi_percpu_map() - pcpu_alloc() allocated an area
 * @ptr: the area
 * @size: its size, as asi_percpu_round() made it
 * @gfp: the allocation's flags
 *
 * Maps every CPU's copy of a nonsensitive area where @gfp says.
 *
 * Return: 0, or an error after which the caller frees the area.
 */
static __always_inline int asi_percpu_map(void __percpu *ptr, size_t size,
					  gfp_t gfp)
{
	if (!asi_enabled() || !(gfp & __GFP_NONSENSITIVE))
		return 0;
	return __asi_percpu_map(ptr, size, gfp);
}

/**
 * asi_percpu_free() - free_percpu() frees an area
 * @ptr: the area
 *
 * Return: true when the area was nonsensitive: ASI unmapped it and frees
 * it later, after a TLB flush. False when the caller frees it now.
 */
static __always_inline bool asi_percpu_free(void __percpu *ptr)
{
	if (!asi_enabled())
		return false;
	return __asi_percpu_free(ptr);
}

int asi_vmalloc_map(struct vm_struct *area, gfp_t gfp);
void __asi_vmalloc_free(struct vm_struct *area);

/**
 * asi_vmalloc_free() - vfree() releases an area
 * @area: the area
 *
 * Unmaps a nonsensitive area's vmalloc addresses from the restricted
 * address spaces before its pages are freed.
 */
static __always_inline void asi_vmalloc_free(struct vm_struct *area)
{
	if (asi_enabled())
		__asi_vmalloc_free(area);
}

/**
 * asi_free_pages() - the page allocator frees a block
 * @page: its first page
 * @order: its order
 *
 * Called last by free_pages_prepare(). A nonsensitive block is unmapped
 * from the restricted address spaces and flushed from every TLB before it
 * is freed, later, by ASI; or, an order-0 page, kept mapped for the next
 * allocation of the same kind (asi_reuse_page()).
 *
 * Return: true when the caller goes on freeing the block, false when ASI
 * took it.
 */
static __always_inline bool asi_free_pages(struct page *page, unsigned int order)
{
	if (!asi_enabled())
		return true;
	return __asi_free_pages(page, order);
}

#else /* !CONFIG_MITIGATION_ADDRESS_SPACE_ISOLATION */

#include <linux/cache.h>
#include <linux/err.h>

#define __asi_global_nonsensitive
#define __asi_read_mostly __read_mostly
#define DEFINE_PER_CPU_ASI_GLOBAL_NONSENSITIVE(type, name) DEFINE_PER_CPU(type, name)
#define DECLARE_PER_CPU_ASI_GLOBAL_NONSENSITIVE(type, name) DECLARE_PER_CPU(type, name)

struct asi_class;
struct asi;

static inline bool asi_enabled(void) { return false; }

static inline struct asi_class *asi_register_class(const char *name,
						   const struct asi_class_ops *ops,
						   unsigned long flags)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline int asi_unregister_class(struct asi_class *class) { return -EINVAL; }

static inline struct asi *asi_create(struct asi_class *class, void *owner)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline struct asi *asi_get(struct asi *asi) { return asi; }

static inline void asi_put(struct asi *asi) { }

static inline void *asi_owner(struct asi *asi) { return NULL; }

static inline struct asi_class *asi_class_of(struct asi *asi) { return NULL; }

static inline bool asi_maps(struct asi *asi, const void *addr) { return false; }

static inline long asi_audit(struct asi *asi, unsigned int *violations)
{
	*violations = 0;
	return 0;
}

static inline int asi_task_init(struct asi *asi) { return -EOPNOTSUPP; }

static inline void asi_enter(struct asi *asi) { }

static inline void asi_exit(void) { }

static inline void asi_critical_begin(void) { }

static inline void asi_critical_end(void) { }

static inline bool asi_is_restricted(void) { return false; }

static inline struct asi *asi_current(void) { return NULL; }

static __always_inline void asi_check_cr3(void) { }

static inline struct asi *asi_target(void) { return NULL; }

static inline void asi_record_exits(struct asi_exit_record *rec) { }

static inline unsigned long asi_take_exits(struct asi_exit_record *rec,
					   struct asi_exit_record *out)
{
	return 0;
}

static inline unsigned long asi_cpu_enters(void) { return 0; }

static inline void asi_sibling_unstun(void) { }

static inline bool asi_sibling_enter_guest(void) { return true; }

static inline void asi_sibling_exit_guest(void) { }

static inline void asi_stun_counts(struct asi_stun_counts *c)
{
	*c = (struct asi_stun_counts){ };
}

static inline int asi_core_cookie_init(struct asi *asi) { return 0; }

static inline bool asi_task_in_core(struct asi *asi, struct task_struct *p)
{
	return true;
}

static inline unsigned long asi_task_share_core(struct asi *asi) { return 0; }
static inline void asi_task_unshare_core(struct asi *asi, struct task_struct *p,
					 unsigned long prev) { }
static inline struct task_struct *asi_core_sibling_task(struct asi *asi)
{
	return NULL;
}

static __always_inline unsigned long asi_intr_enter(enum asi_exit_reason reason)
{
	return 0;
}

static __always_inline void asi_intr_exit(unsigned long state) { }

static inline bool asi_handle_page_fault(struct pt_regs *regs,
					 unsigned long error_code,
					 unsigned long address)
{
	return false;
}

static __always_inline bool asi_idle_halt(void) { return false; }

static inline bool asi_idle_must_halt(void) { return false; }

static inline void asi_context_switch(struct task_struct *prev) { }

static inline void asi_release_task(struct task_struct *tsk) { }
static inline void asi_task_fork(struct task_struct *tsk) { }

static inline unsigned int asi_task_struct_layout(unsigned int *align)
{
	return 0;
}

static inline int asi_alloc_pages(struct page *page, unsigned int order, gfp_t gfp)
{
	return 0;
}

static inline struct page *asi_reuse_page(unsigned int order, gfp_t gfp,
					  const struct alloc_context *ac)
{
	return NULL;
}

static inline bool asi_free_pages(struct page *page, unsigned int order)
{
	return true;
}

static inline void asi_flush_frees(void) { }

static inline struct asi_local_scope asi_local_begin(struct asi *asi)
{
	return (struct asi_local_scope){ };
}

static inline void asi_local_end(struct asi_local_scope prev) { }

static inline gfp_t asi_local_gfp(void) { return 0; }

static inline struct kmem_cache *asi_local_kmalloc_cache(unsigned int index)
{
	return NULL;
}

static inline int asi_vmalloc_map(struct vm_struct *area, gfp_t gfp)
{
	return 0;
}

static inline void asi_vmalloc_free(struct vm_struct *area) { }

static inline void asi_percpu_round(size_t *size, size_t *align, gfp_t gfp) { }

static inline int asi_percpu_map(void __percpu *ptr, size_t size, gfp_t gfp)
{
	return 0;
}

static inline bool asi_percpu_free(void __percpu *ptr) { return false; }

#endif /* CONFIG_MITIGATION_ADDRESS_SPACE_ISOLATION */

#endif /* _LINUX_ASI_H */
