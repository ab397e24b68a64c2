// SPDX-License-Identifier: GPL-2.0
/*
 * Local nonsensitive memory: memory that only one instance maps.
 *
 * The instance is named by the allocation context, not by the gfp flags,
 * which have no room for a pointer: asi_local_begin() names it for the
 * current task until asi_local_end(), the way memalloc_noio_save() scopes
 * a constraint. A scope belongs to the context that opened it: a child
 * that copied it at fork, or an interrupt that arrives inside it, does not
 * see it (see &struct asi_task). Without a scope, a local allocation
 * fails.
 *
 * Slab objects cannot share a slab page with another instance's, so each
 * instance of a class registered with ASI_CLASS_LOCAL_KMALLOC has its own
 * kmalloc caches, created with the instance, and any owner can make more
 * with asi_kmem_cache_create(). Such a cache maps its slabs in its
 * instance alone, whatever the context that allocates from it.
 */

#define pr_fmt(fmt) "asi: " fmt

#include <linux/asi.h>
#include <linux/hardirq.h>
#include <linux/sched.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>

#include "../slab.h"
#include "internal.h"

/* The object size of kmalloc cache @index (see __kmalloc_index()). */
static unsigned int asi_kmalloc_size(unsigned int index)
{
	if (index == 1)
		return 96;
	if (index == 2)
		return 192;
	return index >= KMALLOC_SHIFT_LOW ? 1U << index : 0;
}

/* Where a scope is opened: the task's stack and the interrupt level. */
static unsigned long asi_local_key(void)
{
	return (unsigned long)task_stack_page(current) | interrupt_context_level();
}

/**
 * asi_local_begin() - name the instance of local nonsensitive allocations
 * @asi: the instance, or NULL for none
 *
 * Until the matching asi_local_end(), __GFP_LOCAL_NONSENSITIVE memory this
 * context allocates is mapped in @asi only. Scopes nest. The caller holds
 * a reference on @asi for the whole scope.
 *
 * Return: the previous scope, for asi_local_end().
 */
struct asi_local_scope asi_local_begin(struct asi *asi)
{
	struct asi_local_scope prev = {
		.asi = current->asi.local,
		.key = current->asi.local_key,
	};

	current->asi.local = asi;
	current->asi.local_key = asi_local_key();
	return prev;
}
EXPORT_SYMBOL_GPL(asi_local_begin);

/**
 * asi_local_end() - close a scope opened by asi_local_begin()
 * @prev: what asi_local_begin() returned
 */
void asi_local_end(struct asi_local_scope prev)
{
	current->asi.local = prev.asi;
	current->asi.local_key = prev.key;
}
EXPORT_SYMBOL_GPL(asi_local_end);

/* The instance local allocations of this context go to, or NULL. */
struct asi *asi_local_current(void)
{
	if (current->asi.local_key != asi_local_key())
		return NULL;
	return current->asi.local;
}

/**
 * asi_local_gfp() - the flag for memory allocated on a scope's behalf
 *
 * For a subsystem that allocates, for its caller, memory that the
 * caller's restricted code will touch (SRCU's per-CPU read counters):
 * inside an asi_local_begin() scope that names an instance, such memory
 * is local to that instance.
 *
 * Return: __GFP_LOCAL_NONSENSITIVE in such a scope, 0 elsewhere.
 */
gfp_t asi_local_gfp(void)
{
	struct asi *asi = asi_local_current();

	return asi && asi != asi_idle_asi ? __GFP_LOCAL_NONSENSITIVE : 0;
}
EXPORT_SYMBOL_GPL(asi_local_gfp);

/* Called by kmalloc() for __GFP_LOCAL_NONSENSITIVE; NULL fails it. */
struct kmem_cache *asi_local_kmalloc_cache(unsigned int index)
{
	struct asi *asi = asi_local_current();

	if (!asi_enabled())
		return kmalloc_caches[KMALLOC_NORMAL][index];
	if (!asi || index >= ARRAY_SIZE(asi->kmalloc))
		return NULL;
	return asi->kmalloc[index];
}

/**
 * asi_kmem_cache_create_usercopy() - a slab cache local to one instance
 * @asi: the instance whose restricted address space maps the objects
 * @name: as for kmem_cache_create_usercopy()
 * @size: as for kmem_cache_create_usercopy()
 * @align: as for kmem_cache_create_usercopy()
 * @flags: as for kmem_cache_create_usercopy(); SLAB_LOCAL_NONSENSITIVE is
 *	added
 * @useroffset: as for kmem_cache_create_usercopy()
 * @usersize: as for kmem_cache_create_usercopy()
 * @ctor: as for kmem_cache_create_usercopy()
 *
 * The cache's slabs are zeroed and mapped in @asi only, whatever the
 * context that allocates from it, and it never merges with another. The
 * cache keeps a reference on @asi; destroy it with
 * asi_kmem_cache_destroy().
 *
 * Context: process context, may sleep.
 * Return: the cache, or NULL.
 */
struct kmem_cache *asi_kmem_cache_create_usercopy(struct asi *asi, const char *name,
						  unsigned int size, unsigned int align,
						  slab_flags_t flags,
						  unsigned int useroffset,
						  unsigned int usersize,
						  void (*ctor)(void *))
{
	struct kmem_cache *s;

	if (WARN_ON_ONCE(!asi || asi == asi_idle_asi ||
			 (flags & SLAB_GLOBAL_NONSENSITIVE)))
		return NULL;
	s = kmem_cache_create_usercopy(name, size, align, flags | SLAB_LOCAL_NONSENSITIVE,
				       useroffset, usersize, ctor);
	if (s)
		s->asi = asi_get(asi);
	return s;
}
EXPORT_SYMBOL_GPL(asi_kmem_cache_create_usercopy);

/**
 * asi_kmem_cache_create() - a local slab cache with no user copies
 * @asi: as for asi_kmem_cache_create_usercopy()
 * @name: as for kmem_cache_create()
 * @size: as for kmem_cache_create()
 * @align: as for kmem_cache_create()
 * @flags: as for kmem_cache_create()
 * @ctor: as for kmem_cache_create()
 *
 * Return: the cache, or NULL.
 */
struct kmem_cache *asi_kmem_cache_create(struct asi *asi, const char *name,
					 unsigned int size, unsigned int align,
					 slab_flags_t flags, void (*ctor)(void *))
{
	return asi_kmem_cache_create_usercopy(asi, name, size, align, flags,
					      0, 0, ctor);
}
EXPORT_SYMBOL_GPL(asi_kmem_cache_create);

/**
 * asi_kmem_cache_destroy() - destroy a cache of asi_kmem_cache_create()
 * @s: the cache, or NULL
 *
 * Context: process context, may sleep.
 */
void asi_kmem_cache_destroy(struct kmem_cache *s)
{
	struct asi *asi;

	if (!s)
		return;
	asi = s->asi;
	kmem_cache_destroy(s);
	asi_put(asi);
}
EXPORT_SYMBOL_GPL(asi_kmem_cache_destroy);

/*
 * The instance's kmalloc caches, one per kmalloc size. They hold no
 * reference on the instance: they die with it (asi_local_free()).
 */
int asi_local_init(struct asi *asi)
{
	unsigned int i;

	if (!(asi->class->flags & ASI_CLASS_LOCAL_KMALLOC))
		return 0;
	for (i = 0; i < ARRAY_SIZE(asi->kmalloc); i++) {
		char *name;
		unsigned int size = asi_kmalloc_size(i);

		if (!size)
			continue;
		name = kasprintf(GFP_KERNEL, "asi-%s-%llu-%u", asi->class->name,
				 asi->generation, size);
		if (!name)
			goto fail;
		/* Like kmalloc's own caches, copyable to and from user space. */
		asi->kmalloc[i] = kmem_cache_create_usercopy(name, size, 0,
							     SLAB_LOCAL_NONSENSITIVE,
							     0, size, NULL);
		kfree(name);
		if (!asi->kmalloc[i])
			goto fail;
		asi->kmalloc[i]->asi = asi;
	}
	return 0;
fail:
	asi_local_free(asi);
	return -ENOMEM;
}

void asi_local_free(struct asi *asi)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(asi->kmalloc); i++) {
		kmem_cache_destroy(asi->kmalloc[i]);
		asi->kmalloc[i] = NULL;
	}
}
