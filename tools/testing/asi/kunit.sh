#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run the KUnit suites of this repository through kunit.py in QEMU, with
# the harness's CPU and SMT topology (qemu_config.py), on the one test
# kernel build.  The raw console log is scanned like every other run: a
# WARNING inside a passing test case still fails.
# Usage: kunit.sh [kunit.py filter_glob]   (ASI_KUNIT_CMD=exec: no build)
# Writes one "pass|fail NAME" line per test case to $ASI_LOGS/kunit.results.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
"$ASI_HARNESS/deps.sh" build run

asi_kunit_args gcc
args=("${ASI_KUNIT_ARGS[@]}")
[ "${ASI_KUNIT_CMD:-run}" = run ] && args+=(--jobs "$ASI_JOBS")
mkdir -p "$ASI_LOGS"
json=$ASI_LOGS/kunit.json
# No stale console log may be scanned if kunit.py stops before booting.
rm -f "$json" "$ASI_LOGS/kunit.results" "$ASI_KOUT/test.log"

(cd "$ASI_TREE" && python3 tools/testing/kunit/kunit.py "${ASI_KUNIT_CMD:-run}" \
	--arch=x86_64 --qemu_config "$ASI_HARNESS/qemu_config.py" \
	--build_dir "$ASI_KOUT" --timeout 900 \
	--json="$json" "${args[@]}" "$@") 2>&1 | tee "$ASI_LOGS/kunit.log"
rc=${PIPESTATUS[0]}

# One line per test case, from kunit.py's own parse of the KTAP output.
python3 "$ASI_HARNESS/kunit-results.py" "$json" kunit/ >"$ASI_LOGS/kunit.results" || rc=1
[ -s "$ASI_LOGS/kunit.results" ] || { echo "fail kunit/no-results" >>"$ASI_LOGS/kunit.results"; rc=1; }

if [ -s "$ASI_KOUT/test.log" ] && "$ASI_HARNESS/scan-log.sh" "$ASI_KOUT/test.log"; then
	echo "pass kunit/log-clean" >>"$ASI_LOGS/kunit.results"
else
	echo "fail kunit/log-clean" >>"$ASI_LOGS/kunit.results"
	rc=1
fi
exit $rc
