#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Check the sibling-stun model (stun.pml) exhaustively with spin:
#   stun/isolated      the invariant, NMIs and interrupts unbounded
#   stun/deadlock      no state where neither CPU can move
#   stun/stun-ends-N   every wait in a stun ends (weak fairness)
#   stun/progress      no cycle without guest or host work (weak
#                      fairness, finitely many NMIs and interrupts)
#   stun/mutant-found  the mutant (check with interrupts on) breaks the
#                      invariant; its counterexample is kept
# One "pass NAME" or "fail NAME (why)" line each, into $1 (default
# stdout); the trails and spin's output go to $ASI_LOGS/model/.
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-/dev/stdout}
logs=${ASI_LOGS:-/tmp}/model
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$logs"
rm -f "$logs"/*

"$here/../deps.sh" model || { echo "fail model/stun (spin could not be installed)" >>"$out"; exit 1; }
cp "$here/stun.pml" "$work/"
cd "$work" || exit 1

rc=0
result() {	# result NAME OK WHY
	if [ "$2" = 1 ]; then
		echo "pass model/stun/$1" >>"$out"
	else
		echo "fail model/stun/$1 ($3)" >>"$out"
		rc=1
	fi
}

# build DEFINES PANFLAGS: generate and compile the verifier as ./pan
build() {
	rm -f pan pan.* ./*.trail
	spin $1 -a stun.pml >spin.out 2>&1 && gcc -O2 -w -DMEMLIM=4000 $2 -o pan pan.c >>spin.out 2>&1
}

# ok LOG: pan searched everything and found nothing
ok() {
	grep -q "errors: 0" "$1" && ! grep -q "max search depth too small\|aborted" "$1"
}

depth=-m20000000

build "" "-DSAFETY" && ./pan -N isolated $depth >"$logs/isolated.out" 2>&1
ok "$logs/isolated.out"
result isolated "$(ok "$logs/isolated.out" && echo 1)" "see $logs/isolated.out"
[ -f stun.pml.trail ] && cp stun.pml.trail "$logs/isolated.trail"

# Without a claim, pan reports states where no process can move.
build "-DNOCLAIM" "-DSAFETY -DNOCLAIM" && ./pan $depth >"$logs/deadlock.out" 2>&1
result deadlock "$(ok "$logs/deadlock.out" && echo 1)" "see $logs/deadlock.out"

build "" "" || true
for c in 0 1; do
	./pan -a -f -N "stun_ends_$c" $depth >"$logs/stun-ends-$c.out" 2>&1
	result "stun-ends-$c" "$(ok "$logs/stun-ends-$c.out" && echo 1)" \
		"see $logs/stun-ends-$c.out"
done

build "-DQUIET=1" "-DNP -DCOLLAPSE" && ./pan -l -f $depth >"$logs/progress.out" 2>&1
result progress "$(ok "$logs/progress.out" && echo 1)" "see $logs/progress.out"
[ -f stun.pml.trail ] && spin -DQUIET=1 -t -p stun.pml >"$logs/progress.trail.txt" 2>&1

# The mutant: breadth first, for the shortest counterexample.
build "-DMUTANT_IRQ_WINDOW" "-DSAFETY -DBFS" &&
	./pan -N isolated >"$logs/mutant.out" 2>&1
if grep -q "assertion violated" "$logs/mutant.out" && [ -f stun.pml.trail ]; then
	cp stun.pml.trail "$logs/mutant.trail"
	spin -DMUTANT_IRQ_WINDOW -t -p -g stun.pml >"$logs/mutant.trail.txt" 2>&1
	result mutant-found 1
else
	result mutant-found 0 "spin did not find the race in the mutant: see $logs/mutant.out"
fi
exit $rc
