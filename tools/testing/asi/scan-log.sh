#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fail on any kernel splat in a console log: panic, oops, BUG, WARNING,
# lockdep and KASAN/UBSAN reports, RCU stalls, hung tasks.
# Usage: scan-log.sh LOG [ALLOWLIST]
# ALLOWLIST holds extended regexes, one per line, of report lines that a
# known emulator quirk causes (name the file and line of the WARN); a
# report line matching one is not counted.  Nothing is allowed by default.
set -uo pipefail
log=$1
allow=${2:-}
pattern='Kernel panic|Oops|BUG:|kernel BUG at|WARNING:|INFO: possible|INFO: task .* blocked|INFO: rcu_.* stall|rcu: INFO|KASAN|UBSAN|general protection fault|Unable to handle kernel|DEBUG_LOCKS_WARN_ON|turning off the locking correctness validator|RIP: 0010:|Call Trace:'

hits=$(grep -aE "$pattern" "$log" || true)
# A backtrace (Call Trace, RIP) belongs to the report above it: judge the
# report lines, and only count traces when no report line explains them.
reports=$(printf '%s\n' "$hits" | grep -aEv 'RIP: 0010:|Call Trace:' | grep . || true)
[ -z "$reports" ] && reports=$hits
if [ -n "$allow" ] && [ -n "$reports" ]; then
	reports=$(printf '%s\n' "$reports" | grep -aEvf <(grep -v '^#' "$allow" | grep .) || true)
fi
if [ -n "$reports" ]; then
	echo "scan-log: kernel reports in $log:" >&2
	printf '%s\n' "$reports" | head -n 10 | sed 's/^/  /' >&2
	exit 1
fi
exit 0
