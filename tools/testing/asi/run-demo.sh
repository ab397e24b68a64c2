#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make run [EMU=qemu|bochs]": build the kernel and the initramfs, boot with
# kvm.asi=optin and the sibling stun's default backend, run the demo
# VMM's guest under KVM twice, without and with
# KVM_CAP_X86_ASI, and print what happened per exit reason, side by side.
#
# It boots the bench kernel (the test kernel without lockdep): lockdep's
# state, touched before every VM entry, is not mapped in any restricted
# space, so under lockdep every entry is unprotected and the table would
# show nothing of ASI at work.  QEMU runs kvm_amd (SVM), Bochs kvm_intel
# (VMX with EPT), slower.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
emu=${1:-qemu}
case $emu in
qemu)	args="asi=on kvm.asi=optin" ;;
bochs)	args="asi=on kvm.asi=optin indirect_target_selection=off" ;;
*)	asi_die "usage: $0 [qemu|bochs]" ;;
esac
t0=$(date +%s)
"$ASI_HARNESS/build-kernel.sh" bench || exit 1
"$ASI_HARNESS/build-userspace.sh" || exit 1
export ASI_BZIMAGE=$ASI_KOUT_BENCH/arch/x86/boot/bzImage
log=$ASI_LOGS/$emu-vmm-demo.log
"$ASI_HARNESS/$emu-run.sh" -t 600 -l "$log" -a "$args" vmm
rc=$?
echo
echo "== KVM guest in $emu, bench kernel ($(grep -am1 'smpboot: Total of\|smpboot: Allowing' "$log" | sed 's/^.*smpboot: //' | tr -d '\r')) =="
sed -n '/ASI off (no capability)/,/^asi-test: /p' "$log" | grep -av '^asi-test: \|^\[ *[0-9]' | tr -d '\r'
echo
echo "console log: $log; took $(( $(date +%s) - t0 )) s"
exit $rc
