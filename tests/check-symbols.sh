#!/usr/bin/env bash
# Checks that three lists of the public API agree:
#   1. the dynamic symbols libvpwr.so defines (nm -D --defined-only),
#   2. the names in the global: sections of the version script, and
#   3. the functions marked VPWR_API in the public headers (and version.h.in).
# Every exported symbol must carry the version node the map lists it in
# (name@@LIBVPWR_x.y); the node symbols themselves ("A LIBVPWR_0.1") are
# allowed.  Wildcards are refused in global: sections.
#
# usage: tests/check-symbols.sh LIBVPWR_SO MAP_FILE INCLUDE_DIR
# Registered as the CTest test "symbols".
set -euo pipefail

if [ $# -ne 3 ]; then
	echo "usage: $0 LIBVPWR_SO MAP_FILE INCLUDE_DIR" >&2
	exit 2
fi
lib=$1 map=$2 incdir=$3
for f in "$lib" "$map"; do
	[ -f "$f" ] || { echo "symbols: no such file: $f" >&2; exit 2; }
done
[ -d "$incdir" ] || { echo "symbols: no such directory: $incdir" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# -- the map: "name node" for every global name, plus the node names.
# Comments (/* */, #, //) are dropped, then the script is read as tokens.
perl -0777 -ne '
	s{/\*.*?\*/}{ }gs; s{(#|//)[^\n]*}{ }g;
	my ($node, $scope, $depth) = ("", "", 0);
	while (/\G\s*([^\s{};:]+|[{};:])/gc) {
		my $t = $1;
		if ($t eq "{") { $depth++; $scope = ""; next; }
		if ($t eq "}") { $depth--; $node = "" if !$depth; next; }
		if ($depth == 0) { $node = $t if $t ne ";"; next; }
		if ($t eq "global" || $t eq "local") { $scope = $t; next; }
		next if $t eq ":" || $t eq ";";
		next if $scope ne "global";
		if ($t =~ /[*?\[]/) { print STDERR "wildcard in $node global: $t\n"; $bad = 1; next; }
		print "$t $node\n";
	}
	exit($bad ? 1 : 0);
' "$map" | LC_ALL=C sort -u >"$tmp/map.pairs" || {
	echo "symbols: FAIL: $map has wildcards in a global: section (list every name)" >&2
	exit 1
}
LC_ALL=C sed -n 's/^[^ ]*[ ]\(.*\)$/\1/p' "$tmp/map.pairs" | LC_ALL=C sort -u >"$tmp/map.nodes"
perl -0777 -ne 's{/\*.*?\*/}{ }gs; print "$1\n" while /^\s*(LIBVPWR_[0-9]+\.[0-9]+)\s*\{/mg' \
	"$map" | LC_ALL=C sort -u >>"$tmp/map.nodes"
LC_ALL=C sort -u -o "$tmp/map.nodes" "$tmp/map.nodes"
cut -d' ' -f1 "$tmp/map.pairs" | LC_ALL=C sort -u >"$tmp/map.names"

# -- the library: "name node" per versioned symbol, default (@@) or not.
status=0
: >"$tmp/lib.pairs"
: >"$tmp/lib.default"
: >"$tmp/lib.unversioned"
while read -r _addr type sym; do
	case "$sym" in
	*@@*) echo "${sym%%@@*} ${sym#*@@}" >>"$tmp/lib.pairs"
	      echo "${sym%%@@*}" >>"$tmp/lib.default" ;;
	*@*)  echo "${sym%%@*} ${sym#*@}" >>"$tmp/lib.pairs" ;;
	*)    if [ "$type" = A ] && grep -qx -- "$sym" "$tmp/map.nodes"; then
		      continue  # a version node's own symbol
	      fi
	      echo "$type $sym" >>"$tmp/lib.unversioned" ;;
	esac
done < <(${NM:-nm} -D --defined-only "$lib" | awk 'NF == 2 { print "-", $1, $2; next } { print }')
LC_ALL=C sort -u -o "$tmp/lib.pairs" "$tmp/lib.pairs"
cut -d' ' -f1 "$tmp/lib.pairs" | LC_ALL=C sort -u >"$tmp/lib.names"

# -- the headers: the identifier before the "(" (or ";") that follows each
# VPWR_API, comments and preprocessor lines removed.
shopt -s nullglob
headers=("$incdir"/*.h "$incdir"/*.h.in)
shopt -u nullglob
[ ${#headers[@]} -gt 0 ] || { echo "symbols: no headers in $incdir" >&2; exit 2; }
perl -0777 -ne '
	s{/\*.*?\*/}{ }gs; s{//[^\n]*}{ }g;
	s{^\s*#(?:[^\n]*\\\n)*[^\n]*}{ }mg;
	while (/\bVPWR_API\b([^(;]*)[(;]/g) {
		my $decl = $1;
		if ($decl =~ /([A-Za-z_][A-Za-z0-9_]*)\s*$/) { print "$1\n"; }
		else { print STDERR "cannot read the name in: VPWR_API$decl\n"; }
	}
' "${headers[@]}" | LC_ALL=C sort -u >"$tmp/hdr.names"

report() { # title file
	if [ -s "$2" ]; then
		echo "  $1:"
		sed 's/^/    /' "$2"
		status=1
	fi
}

LC_ALL=C comm -23 "$tmp/map.names" "$tmp/lib.names" >"$tmp/d1"
LC_ALL=C comm -13 "$tmp/map.names" "$tmp/lib.names" >"$tmp/d2"
LC_ALL=C comm -23 "$tmp/map.pairs" "$tmp/lib.pairs" | LC_ALL=C join -v1 - "$tmp/d1" >"$tmp/d3" || true
LC_ALL=C comm -13 "$tmp/map.pairs" "$tmp/lib.pairs" | LC_ALL=C join -v1 - "$tmp/d2" >"$tmp/d4" || true
LC_ALL=C comm -23 "$tmp/map.names" "$tmp/hdr.names" >"$tmp/d5"
LC_ALL=C comm -13 "$tmp/map.names" "$tmp/hdr.names" >"$tmp/d6"
LC_ALL=C sort "$tmp/lib.default" | uniq -d >"$tmp/d7"
LC_ALL=C comm -23 "$tmp/lib.names" <(LC_ALL=C sort -u "$tmp/lib.default") >"$tmp/d8"

{
	echo "symbols: $(wc -l <"$tmp/map.names") names in $map," \
	     "$(wc -l <"$tmp/lib.names") versioned symbols in $lib," \
	     "$(wc -l <"$tmp/hdr.names") VPWR_API functions in $incdir"
	report "in the map but not defined by the library (not implemented yet?)" "$tmp/d1"
	report "exported by the library but not in the map" "$tmp/d2"
	report "exported without a symbol version (type name)" "$tmp/lib.unversioned"
	report "in the map under one node, exported under another (name node)" "$tmp/d3"
	report "exported under a node the map does not list them in (name node)" "$tmp/d4"
	report "in the map but not declared VPWR_API in the headers" "$tmp/d5"
	report "declared VPWR_API in the headers but not in the map" "$tmp/d6"
	report "exported as the default version (@@) more than once" "$tmp/d7"
	report "exported only as non-default versions (no @@)" "$tmp/d8"
} >"$tmp/out"

if [ "$status" -ne 0 ]; then
	cat "$tmp/out"
	echo "symbols: FAIL: the library, src/libvpwr.map and the VPWR_API declarations disagree"
	exit 1
fi
cat "$tmp/out"
echo "symbols: OK"
