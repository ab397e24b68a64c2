#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot the test kernel under QEMU TCG: -cpu max (AMD, SVM with nested
# paging), 2 cores x 2 SMT threads, qboot, serial console to a log file,
# a hard time limit.  The guest's /init runs one suite and reports its exit
# status; this script exits with it, or fails when the status is missing
# or the log scanner finds a kernel splat.
#
# Usage: qemu-run.sh [-t SECONDS] [-l LOG] [-a "EXTRA CMDLINE"] [-g] SUITE
#   SUITE   a script of tools/testing/asi/suites, or "shell" (interactive)
#   -g      wait for gdb on localhost:1234 (QEMU's gdbstub, -s -S)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

timeout=600 log= extra= gdb=()
while getopts t:l:a:g o; do
	case $o in
	t) timeout=$OPTARG ;;
	l) log=$OPTARG ;;
	a) extra=$OPTARG ;;
	g) gdb=(-s -S) ;;
	*) asi_die "usage: $0 [-t SECONDS] [-l LOG] [-a CMDLINE] [-g] SUITE" ;;
	esac
done
shift $((OPTIND - 1))
suite=${1:?suite name or shell}
"$ASI_HARNESS/deps.sh" run

asi_need_images
log=${log:-$ASI_LOGS/qemu-$suite.log}

# kunit.enable=0: the built-in KUnit suites run under kunit.py only.
cmdline="console=ttyS0 kunit.enable=0 panic=-1 asi_emu=qemu asi_test=$suite $extra"
# One TCG thread for all vCPUs: with one thread per vCPU, a vCPU could
# run a stale translation of code another vCPU had just patched, and the
# kernel's runtime patching of static keys (int3, then the new bytes) then
# died in "Oops: int3" about once in ten boots, with ASI on or off.
initrd=$ASI_LOGS/.initrd-$$
trap 'rm -f "$initrd"' EXIT
asi_initrd "$initrd"
qemu=(qemu-system-x86_64 -nodefaults -no-reboot -display none -accel tcg,thread=single
      -bios qboot.rom -cpu max -smp 4,sockets=1,cores=2,threads=2 -m 2048
      -kernel "$ASI_BZIMAGE" -initrd "$initrd" -append "$cmdline" "${gdb[@]}")
# Extra QEMU options, for example "-icount shift=0,align=off" (bench.sh).
read -ra extra_qemu <<<"${ASI_QEMU_ARGS:-}"
qemu+=("${extra_qemu[@]}")

if [ "$suite" = shell ]; then
	asi_log "shell in QEMU; the console is mirrored to $log; Ctrl-A X quits"
	"${qemu[@]}" -serial mon:stdio 2>&1 | tee "$log"
	exit 0
fi

asi_log "QEMU: $suite (limit ${timeout}s, log $log)"
# QEMU's own messages (the harmless "-smp ... topoext" warning of TCG)
# go beside the log, not on the terminal.
timeout --foreground -k 5 "$timeout" "${qemu[@]}" -serial "file:$log" </dev/null 2>"$log.qemu"
qrc=$?
[ $qrc -eq 124 ] && { asi_log "$suite: timed out after ${timeout}s"; exit 124; }

asi_guest_result "$suite" "$log"
