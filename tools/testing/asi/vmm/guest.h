/* SPDX-License-Identifier: GPL-2.0 */
#ifndef ASI_VMM_GUEST_H
#define ASI_VMM_GUEST_H

#include <stdint.h>

/* The real-mode guest of guest.S, copied into guest memory at 0x1000. */
extern const uint8_t guest_code[], guest_code_end[];

#endif
