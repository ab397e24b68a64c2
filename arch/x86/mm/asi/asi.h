/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the files of arch/x86/mm/asi. */
#ifndef _ARCH_X86_MM_ASI_ASI_H
#define _ARCH_X86_MM_ASI_ASI_H

int asi_arch_build_global_pgd(void);

#endif
