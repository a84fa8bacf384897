#!/usr/bin/env bash
# The ABI gate: compares the ABI of a built libvpwr.so.0 with the committed
# baseline abi/libvpwr.abi, and fails on any difference other than added
# symbols.  It builds nothing: give it a build directory made with -g (the
# default RelWithDebInfo build type).  See docs/ABI.md.
#
# usage: tests/abi-check.sh [--update] [BUILD_DIR]     (BUILD_DIR: build)
#   --update   rewrite abi/libvpwr.abi from BUILD_DIR instead of comparing
#
# Exit: 0 same ABI (or baseline written), 1 ABI changed or tool failure,
# 2 usage/missing input, 77 abidw/abidiff not installed (CTest: skipped).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
baseline=$root/abi/libvpwr.abi

update=0
build=
for arg in "$@"; do
	case "$arg" in
	--update) update=1 ;;
	-h|--help) sed -n '2,12s/^# \{0,1\}//p' "$0"; exit 0 ;;
	-*) echo "abi-check: unknown option $arg" >&2; exit 2 ;;
	*) [ -z "$build" ] || { echo "abi-check: one build directory only" >&2; exit 2; }
	   build=$arg ;;
	esac
done
build=${build:-$root/build}

for tool in abidw abidiff; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "abi-check: SKIPPED: $tool is not installed (Debian: apt-get install abigail-tools)"
		exit 77
	fi
done

[ -d "$build" ] || { echo "abi-check: no build directory $build" >&2; exit 2; }
build=$(cd "$build" && pwd)
lib=$build/libvpwr.so.0
genhdr=$build/include/libvpwr
[ -f "$lib" ] || { echo "abi-check: $lib not found: build the library first" >&2; exit 2; }
[ -f "$genhdr/version.h" ] || { echo "abi-check: $genhdr/version.h not found" >&2; exit 2; }
# Not 'grep -q': it exits early, readelf dies of SIGPIPE and pipefail fails.
if ! readelf -S "$lib" | grep '\.debug_info' >/dev/null; then
	echo "abi-check: FAIL: $lib has no DWARF; build with -g (CMAKE_BUILD_TYPE RelWithDebInfo or Debug)" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The same flags for the baseline and the current dump, so that only the
# ABI differs.  The header directories make every type defined elsewhere
# (the insides of opaque handles) private, and --drop-private-types leaves
# them out.  --short-locs keeps file names only (header-based filtering
# matches on base names) and, with --no-corpus-path and --no-comp-dir-path,
# keeps absolute paths of this machine out of the committed file.
abidw_flags=(--drop-undefined-syms --drop-private-types
	     --no-corpus-path --no-comp-dir-path --short-locs
	     --headers-dir "$root/include/libvpwr" --headers-dir "$genhdr")
abidw "${abidw_flags[@]}" --out-file "$tmp/current.abi" "$lib"

for p in "$root" "$build"; do
	if grep -qF -- "$p" "$tmp/current.abi"; then
		echo "abi-check: FAIL: the dump contains the local path $p:" >&2
		grep -nF -- "$p" "$tmp/current.abi" | head -5 >&2
		exit 1
	fi
done

if [ "$update" -eq 1 ]; then
	mkdir -p "$(dirname "$baseline")"
	cp "$tmp/current.abi" "$baseline"
	echo "abi-check: wrote ${baseline#"$root"/} from $lib"
	echo "abi-check: commit it with the reason for the change (docs/ABI.md)"
	exit 0
fi

[ -f "$baseline" ] || {
	echo "abi-check: FAIL: no baseline ${baseline#"$root"/}; create it with $0 --update $build" >&2
	exit 1
}

# abidiff's exit status is a bit set: 1 error, 2 usage, 4 ABI change,
# 8 incompatible change.  A struct layout break sets only 4, so any
# non-zero status fails the gate.
rc=0
abidiff --no-added-syms \
	--hd1 "$root/include/libvpwr" --hd1 "$genhdr" \
	--hd2 "$root/include/libvpwr" --hd2 "$genhdr" \
	"$baseline" "$tmp/current.abi" >"$tmp/diff" 2>&1 || rc=$?
if [ "$rc" -ne 0 ]; then
	cat "$tmp/diff"
	what=
	[ $((rc & 1)) -ne 0 ] && what="$what error"
	[ $((rc & 2)) -ne 0 ] && what="$what usage-error"
	[ $((rc & 4)) -ne 0 ] && what="$what abi-change"
	[ $((rc & 8)) -ne 0 ] && what="$what incompatible-change"
	echo "abi-check: FAIL: abidiff exit $rc (${what# }) against ${baseline#"$root"/}"
	echo "abi-check: if the change is intended, read docs/ABI.md, then run: tests/abi-check.sh --update BUILD_DIR"
	exit 1
fi
echo "abi-check: OK: the ABI of $lib matches ${baseline#"$root"/} (added symbols allowed)"
