/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The demo VMM's guest: 16-bit real mode, loaded at 0x1000, no data of its
 * own.  Each phase exercises one kind of VM exit a fixed number of times
 * and announces itself on port 0xf0 first, so the VMM can attribute
 * KVM's exit counters to the phase.  The counts are in asi-vmm.c.
 */
#define PHASE_PORT	0xf0
#define DATA_PORT	0xf1
#define MSR_MISC_ENABLE	0x1a0

	.section .rodata.guest, "a"
	.globl guest_code, guest_code_end
	.code16
guest_code:
	/* Phase 1: CPUID, handled by KVM in the kernel. */
	movb	$1, %al
	outb	%al, $PHASE_PORT
	movl	$1000, %esi
1:	xorl	%eax, %eax
	xorl	%ecx, %ecx
	cpuid
	decl	%esi
	jnz	1b

	/* Phase 2: RDMSR and WRMSR of an MSR KVM emulates in the kernel. */
	movb	$2, %al
	outb	%al, $PHASE_PORT
	movl	$500, %esi
2:	movl	$MSR_MISC_ENABLE, %ecx
	rdmsr
	wrmsr
	decl	%esi
	jnz	2b

	/* Phase 3: port I/O that the VMM (userspace) completes. */
	movb	$3, %al
	outb	%al, $PHASE_PORT
	movl	$100, %esi
3:	movl	%esi, %eax
	outb	%al, $DATA_PORT
	decl	%esi
	jnz	3b

	/* Phase 4: HLT; without an in-kernel irqchip it exits to the VMM. */
	movb	$4, %al
	outb	%al, $PHASE_PORT
	movl	$100, %esi
4:	hlt
	decl	%esi
	jnz	4b

	/* Phase 5: first touch of 128 pages (0x10000-0x8ffff) never used. */
	movb	$5, %al
	outb	%al, $PHASE_PORT
	movw	$0x1000, %bx
5:	movw	%bx, %es
	movb	$0xa5, %es:0
	addw	$0x100, %bx
	cmpw	$0x9000, %bx
	jne	5b

	/* Done. */
	movb	$0xff, %al
	outb	%al, $PHASE_PORT
	hlt
guest_code_end:
	.section .note.GNU-stack, "", @progbits
