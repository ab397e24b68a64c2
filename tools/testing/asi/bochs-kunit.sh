#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run KUnit suites in Bochs and parse their results with kunit.py, like
# kunit.sh does in QEMU.  Bochs cannot be driven by kunit.py itself (no
# bzImage boot, a console too slow for KTAP), so the guest reads the
# results back from debugfs (suites/kunit) and sends them over port 0xe9.
# The kvm_env expectations are the Bochs machine's: kvm_intel with EPT,
# PCID and INVPCID on, one CPU.  ASI is on, so asi_x86 runs its PCID path
# here (QEMU's TCG has no PCID).  The emulated Tiger Lake is affected by
# ITS, whose thunks ASI does not map yet (see Documentation/mm/asi.rst):
# the run turns that mitigation off.
# Usage: bochs-kunit.sh [GLOB]  (kunit.filter_glob, default: every suite)
# Writes one "pass|fail NAME" line per test case to $ASI_LOGS/bochs-kunit.results.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
glob=${1:-*}
log=$ASI_LOGS/bochs-kunit.log
res=$ASI_LOGS/bochs-kunit.results
json=$ASI_LOGS/bochs-kunit.json
rm -f "$res" "$json"

# idle=halt: MWAIT idle never enters Idle-ASI (see Documentation/mm/asi.rst);
# preempt=full: asi_x86_preemption_and_migration needs a preemptible kernel.
cmdline="kunit.enable=1 kunit.filter_glob=$glob asi=on preempt=full idle=halt"
cmdline="$cmdline indirect_target_selection=off"
cmdline="$cmdline kvm_env.vendor=intel kvm_env.cores=1 kvm_env.threads=1 kvm_env.pcid=1"
"$ASI_HARNESS/bochs-run.sh" -t 900 -l "$log" -a "$cmdline" kunit
brc=$?
rc=$brc

sed -n '/^--- port 0xe9 ---$/,$p' "$log" | sed -n '/^KTAP version 1/,/^asi-ktap-end/p' |
	grep -v '^asi-ktap-end' >"$log.ktap"
(cd "$ASI_TREE" && python3 tools/testing/kunit/kunit.py parse --json="$json" "$log.ktap") \
	>"$log.parse" 2>&1 || rc=1
python3 "$ASI_HARNESS/kunit-results.py" "$json" bochs/kunit/ >"$res" || rc=1
[ -s "$res" ] || { echo "fail bochs/kunit/no-results" >"$res"; rc=1; }
# The boot counts too: clean log, result reported, no timeout.
case $brc in
0|1)	echo "pass bochs/kunit/boot" >>"$res" ;;
*)	echo "fail bochs/kunit/boot (exit $brc)" >>"$res" ;;
esac
exit $rc
