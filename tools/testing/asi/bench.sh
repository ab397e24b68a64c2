#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench: the cost of an ASI round trip (asi_enter() + asi_exit())
# against a bare CR3 reload, and the throughput of allocating and freeing
# a globally nonsensitive page against a plain one, as ratios measured in
# one boot, twice:
#   - under "-icount shift=0,align=off", where the guest TSC counts
#     instructions (a CR3 write counts as one: a round trip has two, a
#     reload one);
#   - without icount, where it is emulated time (a ratio only).
# A benchmark, not a test: it prints figures and fails only if it could
# not run.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
asi_need_images

run() {	# run NAME QEMU_ARGS
	local log=$ASI_LOGS/bench-$1.log
	ASI_QEMU_ARGS=$2 "$ASI_HARNESS/qemu-run.sh" -t 600 -l "$log" -a asi=on asi-bench \
		>/dev/null || asi_die "the $1 benchmark run failed, see $log"
	tr -d '\r' <"$log" | sed -n 's/^asi-bench: //p' >"$ASI_LOGS/bench-$1.txt"
}

run instructions "-icount shift=0,align=off"
run time ""
printf '%-16s %14s %14s\n' "" instructions "time (TSC)"
for k in iterations round_trip_min round_trip_avg cr3_reload_min cr3_reload_avg \
	 ratio_min_x100 ratio_avg_x100 pcid page_iterations page_plain_per_op page_global_per_op \
	 page_global_throughput_x100 page_global_flushes page_clear_per_op; do
	printf '%-16s %14s %14s\n' "$k" \
		"$(awk -v k="$k" '$1 == k { print $2 }' "$ASI_LOGS/bench-instructions.txt")" \
		"$(awk -v k="$k" '$1 == k { print $2 }' "$ASI_LOGS/bench-time.txt")"
done
