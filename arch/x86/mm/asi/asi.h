/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the files of arch/x86/mm/asi. */
#ifndef _ARCH_X86_MM_ASI_ASI_H
#define _ARCH_X86_MM_ASI_ASI_H

#include <linux/spinlock.h>

struct asi;

extern spinlock_t asi_pgtable_lock;

int asi_arch_build_global_pgd(void);
pgd_t *asi_global_template(void);
pte_t *asi_template_lookup(unsigned long addr);
unsigned int asi_top_level(void);
unsigned long *asi_table_of(unsigned long entry);

/* A walk of an instance's restricted page table (asi_arch_walk()). */
struct asi_walk {
	void (*leaf)(struct asi_walk *w, unsigned long va, unsigned long *entry,
		     unsigned long t, unsigned int level);
};

void asi_arch_walk(struct asi *asi, struct asi_walk *w);
bool asi_arch_is_local_marker(struct asi *asi, unsigned long t);
pte_t asi_local_marker(struct asi *asi);
bool asi_arch_stun_maps(unsigned long va);

#endif
