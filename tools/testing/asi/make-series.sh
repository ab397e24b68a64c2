#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make series": export the whole work as a git format-patch series with a
# cover letter, against the pristine Debian 6.12 tree, ready for git am.
# One commit per line of patches/series: the patch's diff plus the new
# files that line claims.  A new file no line claims is an error.  The
# result is verified by applying it with git am to the pristine tree.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
"$ASI_HARNESS/deps.sh" build

top=$ASI_BUILD/series
git_s() { git -C "$top/linux" -c user.name="ASI developers" -c user.email=asi-dev@example.org "$@"; }

if ! git_s rev-parse -q --verify refs/tags/base >/dev/null 2>&1; then
	asi_log "making a git tree of the pristine source (once)"
	rm -rf "$top"
	mkdir -p "$top"
	tar -C "$top" -xf "$ASI_KERNEL_TARBALL"
	mv "$top/linux-source-6.12" "$top/linux"
	git_s init -q
	# Debian's top-level .gitignore ignores everything ("/*"): add by force.
	git_s add -A -f
	git_s commit -q -m "Linux $ASI_KERNEL_PKG_VERSION (Debian $ASI_KERNEL_PKG)"
	git_s tag base
fi
git_s checkout -q -f -B series base
git_s clean -q -fdx

claimed=()
while read -r p paths; do
	[[ -z "$p" || "$p" == \#* ]] && continue
	f=$ASI_REPO/patches/$p
	if grep -q '^--- ' "$f"; then
		git_s apply --index --whitespace=error-all "$f" || asi_die "$p does not apply"
	fi
	for d in $paths; do
		[ -e "$ASI_REPO/$d" ] || asi_die "patches/series: $p claims $d, which does not exist"
		mkdir -p "$top/linux/$(dirname "$d")"
		cp -r "$ASI_REPO/$d" "$top/linux/$(dirname "$d")/"
		git_s add -f "$d"
		claimed+=("$d")
	done
	author=$(sed -n 's/^From: //p' "$f" | head -n 1)
	subject=$(sed -n 's/^Subject: \(\[PATCH[^]]*\] \)\?//p' "$f" | head -n 1)
	body=$(sed -n '/^Subject:/,/^---$/p' "$f" | sed '1d;$d')
	git_s commit -q --author="$author" -F - <<<"$subject
$body"
done <"$ASI_REPO/patches/series"

# Every new file of the repository must belong to some commit.
unclaimed=$(cd "$ASI_REPO" && git ls-files --cached --others --exclude-standard |
	grep -vE '^(Makefile|README\.md|\.gitignore|\.ci/|patches/|build/)' |
	while read -r f; do
		hit=
		for c in "${claimed[@]}"; do [[ $f == "$c" || $f == "$c"/* ]] && hit=1; done
		[ -n "$hit" ] || echo "$f"
	done)
[ -z "$unclaimed" ] || asi_die "new files no line of patches/series claims: $unclaimed"

out=$top/out
rm -rf "$out"
git_s format-patch -q --cover-letter --base=base -o "$out" base..series
cover=$(ls "$out"/0000-*)
python3 - "$cover" "$ASI_REPO/patches/cover-letter" <<'PY'
import sys
cover, src = sys.argv[1], sys.argv[2]
subject, _, blurb = open(src).read().partition('\n\n')
text = open(cover).read()
text = text.replace('*** SUBJECT HERE ***', subject.strip())
text = text.replace('*** BLURB HERE ***', blurb.strip())
open(cover, 'w').write(text)
PY

# Prove it applies: git am onto the pristine base.
git_s checkout -q -f -B series-verify base
mapfile -t mails < <(ls "$out"/*.patch | grep -v '/0000-')
git_s am -q "${mails[@]}" || asi_die "the exported series does not apply with git am"
[ -z "$(git_s diff series series-verify --stat)" ] || asi_die "git am result differs from the series"
git_s checkout -q -f series
asi_log "series: $(ls "$out" | wc -l) files in $out (verified with git am)"
