// SPDX-License-Identifier: GPL-2.0
/*
 * Modules that run in restricted address spaces.
 *
 * A module that marks data __asi_read_mostly (KVM, built as modules)
 * runs code in restricted address spaces: while it is loaded, every
 * instance maps its text, its read-only and ro_after_init data, never
 * writable, and that data, on pages of its own (the loader sees to it).
 * That is what the core kernel's image gets too; see "Modules" in
 * Documentation/mm/asi.rst. Other modules are not mapped at all.
 */

#define pr_fmt(fmt) "asi: " fmt

#include <linux/mm.h>
#include <linux/module.h>
#include <linux/notifier.h>

#include "internal.h"

/* What of a module ASI maps, and how. */
static const struct {
	enum mod_mem_type type;
	bool exec;
	const char *what;
} asi_module_parts[] = {
	{ MOD_TEXT, true, "text" },
	{ MOD_RODATA, false, "read-only data" },
	{ MOD_RO_AFTER_INIT, false, "ro_after_init data" },
};

static bool asi_module_mapped(struct module *mod)
{
	return mod->asi_data_size;
}

static void asi_module_unmap(struct module *mod)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(asi_module_parts); i++) {
		struct module_memory *mem = &mod->mem[asi_module_parts[i].type];

		if (mem->size)
			asi_arch_unmap_global(mem->base, mem->size);
	}
	asi_arch_unmap_global(mod->asi_data, mod->asi_data_size);
}

static int asi_module_map(struct module *mod)
{
	int i, err = 0;

	/* The loader put nothing else on these pages. */
	if (WARN_ON(!PAGE_ALIGNED(mod->asi_data)))
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(asi_module_parts) && !err; i++) {
		struct module_memory *mem = &mod->mem[asi_module_parts[i].type];

		if (mem->size)
			err = asi_arch_map_global_ro(mem->base, mem->size,
						     asi_module_parts[i].exec);
	}
	if (!err)
		err = asi_fail_module_map() ? -ENOMEM :
		      asi_arch_map_global(mod->asi_data, mod->asi_data_size);
	if (err)
		asi_module_unmap(mod);
	return err;
}

/*
 * Mapped before the module's init runs (a class it registers there needs
 * its hooks mapped), unmapped after its exit, before its memory is freed.
 * A module that cannot be mapped does not load.
 */
static int asi_module_notify(struct notifier_block *nb, unsigned long action,
			     void *data)
{
	struct module *mod = data;
	int err;

	if (!asi_enabled() || !asi_module_mapped(mod))
		return NOTIFY_DONE;
	switch (action) {
	case MODULE_STATE_COMING:
		err = asi_module_map(mod);
		if (err) {
			pr_err("cannot map module %s in restricted address spaces (%pe): not loading it\n",
			       mod->name, ERR_PTR(err));
			return notifier_from_errno(err);
		}
		break;
	case MODULE_STATE_GOING:
		asi_module_unmap(mod);
		break;
	}
	return NOTIFY_OK;
}

static struct notifier_block asi_module_nb = {
	.notifier_call = asi_module_notify,
};

int __init asi_module_init(void)
{
	return register_module_notifier(&asi_module_nb);
}

/**
 * asi_module_text() - may a class hook live at @addr?
 * @addr: a function's address
 *
 * Return: true for the core kernel's text and the text of a loaded module
 * that every instance maps.
 */
bool asi_module_text(unsigned long addr)
{
	return core_kernel_text(addr) ||
	       (is_module_text_address(addr) && asi_arch_maps_global(addr));
}

/**
 * asi_module_declared() - is @va a page of a module ASI maps?
 * @va: a page's address in the module area
 * @writable: set to whether that page may be mapped writable
 * @what: where to name it
 * @len: size of @what
 *
 * For the audit: a module's pages are mapped in every instance while it
 * is loaded.
 *
 * Return: true when the page belongs to a module ASI maps.
 */
bool asi_module_declared(unsigned long va, bool *writable, char *what, size_t len)
{
	struct module *mod;
	bool ret = false;
	int i;

	preempt_disable();
	mod = __module_address(va);
	if (!mod || !asi_module_mapped(mod))
		goto out;
	if (va - (unsigned long)mod->asi_data < PAGE_ALIGN(mod->asi_data_size)) {
		snprintf(what, len, "nonsensitive data of module %s", mod->name);
		*writable = true;
		ret = true;
		goto out;
	}
	for (i = 0; i < ARRAY_SIZE(asi_module_parts); i++) {
		struct module_memory *mem = &mod->mem[asi_module_parts[i].type];

		if (va - (unsigned long)mem->base < mem->size) {
			snprintf(what, len, "%s of module %s",
				 asi_module_parts[i].what, mod->name);
			*writable = false;
			ret = true;
			break;
		}
	}
out:
	preempt_enable();
	return ret;
}
