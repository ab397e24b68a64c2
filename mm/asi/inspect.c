// SPDX-License-Identifier: GPL-2.0
/*
 * What a class may ask of one of its instances, to test and debug its own
 * use of ASI: is this address mapped there, and does the instance map
 * only what was declared for it (the audit, see arch/x86/mm/asi/audit.c).
 * Both walk page tables in software; neither is meant for a fast path.
 */
#include <linux/asi.h>
#include <linux/export.h>

#include "internal.h"

/**
 * asi_maps() - is an address mapped in an instance's restricted space?
 * @asi: the instance
 * @addr: a kernel virtual address
 *
 * A page-table walk, without the page-table lock: an instance's tables
 * live as long as the instance, so the walk is safe, but a page mapped or
 * unmapped meanwhile may be seen either way.
 *
 * Context: any; the caller holds a reference on @asi.
 * Return: true if @addr has a present translation in @asi.
 */
bool asi_maps(struct asi *asi, const void *addr)
{
	return asi_arch_maps(asi, (unsigned long)addr);
}
EXPORT_SYMBOL_GPL(asi_maps);

/**
 * asi_audit() - check everything an instance maps
 * @asi: the instance
 * @violations: set to the number of pages (or large pages) mapped that
 *	were not declared nonsensitive for @asi, or that are writable where
 *	they must not be; each range of them is also logged
 *
 * Safe while the instance is in use, by this CPU or any other: a page
 * mapped or unmapped meanwhile may be seen either way, never as a
 * violation it is not.
 *
 * Context: process context, may sleep.
 * Return: the number of pages mapped.
 */
long asi_audit(struct asi *asi, unsigned int *violations)
{
	return asi_arch_audit(asi, NULL, violations);
}
EXPORT_SYMBOL_GPL(asi_audit);
