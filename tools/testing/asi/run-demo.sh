#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make run": build the kernel and the initramfs, boot under QEMU, run the
# demo VMM's guest under KVM and print what happened, per exit reason.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
t0=$(date +%s)
"$ASI_HARNESS/build-kernel.sh" gcc || exit 1
"$ASI_HARNESS/build-userspace.sh" || exit 1
log=$ASI_LOGS/qemu-vmm.log
"$ASI_HARNESS/qemu-run.sh" -t 300 -l "$log" vmm
rc=$?
echo
echo "== KVM guest in QEMU ($(grep -am1 'smpboot: Total of' "$log" | sed 's/^.*Total of/Total of/' | tr -d '\r')) =="
sed -n '/exit reason/,/pf_taken/p' "$log" | tr -d '\r'
echo
echo "console log: $log; took $(( $(date +%s) - t0 )) s"
exit $rc
