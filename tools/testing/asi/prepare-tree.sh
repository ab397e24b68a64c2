#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Assemble the kernel tree: pristine Debian 6.12 source, patches/ applied in
# series order, and every new file of this repository linked in at its
# kernel path.  Idempotent; cheap when nothing changed.  A changed series is
# reverse-applied and applied again, so only the files it touches change.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$ASI_HARNESS/deps.sh" build

have=$(dpkg-query -W -f='${Version}' "$ASI_KERNEL_PKG")
[ "$have" = "$ASI_KERNEL_PKG_VERSION" ] ||
	asi_die "$ASI_KERNEL_PKG is $have, the harness is pinned to $ASI_KERNEL_PKG_VERSION"
asi_log "kernel source: $ASI_KERNEL_PKG $have"

mkdir -p "$ASI_BUILD"
stamp_base=$ASI_TREE/.asi-base
applied=$ASI_TREE/.asi-applied		# copies of the patches now applied
overlay=$ASI_TREE/.asi-overlay		# links this script made

extract() {
	asi_log "extracting $ASI_KERNEL_TARBALL"
	rm -rf "$ASI_TREE" "$ASI_BUILD/linux-source-6.12"
	tar -C "$ASI_BUILD" -xf "$ASI_KERNEL_TARBALL"
	mv "$ASI_BUILD/linux-source-6.12" "$ASI_TREE"
	echo "$ASI_KERNEL_PKG_VERSION" >"$stamp_base"
}

[ "$(cat "$stamp_base" 2>/dev/null)" = "$ASI_KERNEL_PKG_VERSION" ] || extract

# --- patches -------------------------------------------------------------
series=()
while read -r p _; do
	[[ -z "$p" || "$p" == \#* ]] && continue
	[ -f "$ASI_REPO/patches/$p" ] || asi_die "patches/series names $p, which does not exist"
	series+=("$p")
done <"$ASI_REPO/patches/series"

want_hash=$(cd "$ASI_REPO/patches" && cat series "${series[@]}" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$applied/hash" 2>/dev/null)" != "$want_hash" ]; then
	if [ -d "$applied" ]; then
		asi_log "patch series changed: reverting the old one"
		mapfile -t old <"$applied/order"
		# The files the old series touched, their hashes and mtimes:
		# a file the new series leaves as it was keeps its mtime, so
		# that make rebuilds only what really changed.
		(cd "$applied" && grep -h '^+++ b/' "${old[@]}" 2>/dev/null |
			sed 's|^+++ b/||; s|\t.*||' | sort -u) |
		while read -r f; do
			[ -f "$ASI_TREE/$f" ] || continue
			printf '%s %s %s\n' "$(sha256sum <"$ASI_TREE/$f" | cut -d' ' -f1)" \
				"$(stat -c %.9Y "$ASI_TREE/$f")" "$f"
		done >"$ASI_BUILD/.asi-mtimes"
		for ((i = ${#old[@]} - 1; i >= 0; i--)); do
			grep -q '^--- ' "$applied/${old[i]}" || continue
			if ! patch -d "$ASI_TREE" -p1 -R -s -f --no-backup-if-mismatch \
				<"$applied/${old[i]}" >/dev/null; then
				asi_log "cannot revert ${old[i]} cleanly: starting from a fresh extraction"
				extract
				break
			fi
		done
	fi
	rm -rf "$applied"
	mkdir -p "$applied.new"
	for p in "${series[@]}"; do
		# A description-only entry: its change is new files alone.
		grep -q '^--- ' "$ASI_REPO/patches/$p" || {
			cp "$ASI_REPO/patches/$p" "$applied.new/"
			echo "$p" >>"$applied.new/order"
			continue
		}
		if ! out=$(patch -d "$ASI_TREE" -p1 -N -s --fuzz=0 --no-backup-if-mismatch \
			<"$ASI_REPO/patches/$p" 2>&1); then
			printf '%s\n' "$out" >&2
			# Leave no half-applied tree behind.
			rm -rf "$stamp_base" "$applied.new"
			asi_die "patches/$p does not apply to $ASI_KERNEL_PKG $ASI_KERNEL_PKG_VERSION"
		fi
		cp "$ASI_REPO/patches/$p" "$applied.new/"
		echo "$p" >>"$applied.new/order"
		asi_log "applied $p"
	done
	touch "$applied.new/order"
	echo "$want_hash" >"$applied.new/hash"
	mv "$applied.new" "$applied"
	if [ -f "$ASI_BUILD/.asi-mtimes" ]; then
		kept=0
		while read -r sum when f; do
			[ -f "$ASI_TREE/$f" ] &&
			[ "$(sha256sum <"$ASI_TREE/$f" | cut -d' ' -f1)" = "$sum" ] || continue
			touch -d "@$when" "$ASI_TREE/$f" && kept=$((kept + 1))
		done <"$ASI_BUILD/.asi-mtimes"
		rm -f "$ASI_BUILD/.asi-mtimes"
		asi_log "$kept unchanged files keep their mtimes"
	fi
fi

# --- new files -----------------------------------------------------------
# Everything in the repository except its own scaffolding is a kernel file.
list_new_files() {
	if git -C "$ASI_REPO" rev-parse --git-dir >/dev/null 2>&1; then
		git -C "$ASI_REPO" ls-files --cached --others --exclude-standard
	else
		(cd "$ASI_REPO" && find . -path ./build -prune -o -type f -print | sed 's|^\./||')
	fi | grep -vE '^(Makefile|README\.md|\.gitignore|\.ci/|patches/|build/)' | sort -u
}

touch "$overlay"
mapfile -t now < <(list_new_files)
for f in "${now[@]}"; do
	[ -e "$ASI_REPO/$f" ] || continue	# deleted but still in the index
	dst=$ASI_TREE/$f
	if [ -e "$dst" ] && [ ! -L "$dst" ]; then
		asi_die "$f exists upstream: change it with a patch in patches/, not a copy"
	fi
	if [ "$(readlink "$dst" 2>/dev/null)" != "$ASI_REPO/$f" ]; then
		mkdir -p "$(dirname "$dst")"
		ln -sfn "$ASI_REPO/$f" "$dst"
	fi
done
# Drop links to files that left the repository.
comm -23 <(sort -u "$overlay") <(printf '%s\n' "${now[@]}") | while read -r f; do
	if [ -n "$f" ] && [ -L "$ASI_TREE/$f" ]; then
		rm -f "$ASI_TREE/$f"
	fi
done
printf '%s\n' "${now[@]}" >"$overlay"
asi_log "tree ready: $ASI_TREE (${#series[@]} patches, ${#now[@]} new files)"
