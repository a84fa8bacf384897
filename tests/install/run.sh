#!/usr/bin/env bash
# Install test: `cmake --install` a build tree into a DESTDIR inside it,
# then use the result the way a user would:
#   - the installed headers are exactly the public ones (+ version.h) and
#     each compiles on its own with -std=c11 -pedantic -Werror;
#   - libvpwr.pc has jansson and yajl in Requires.private, and
#     `pkg-config --static --libs libvpwr` resolves them;
#   - consumer.c builds with `pkg-config --cflags --libs libvpwr` and with
#     find_package(libvpwr) + libvpwr::vpwr, and both binaries run against
#     the installed library (LD_LIBRARY_PATH) and print its version;
#   - with the Python bindings built: every module of bindings/python/vpwr
#     is installed, and `import vpwr, vpwr.experiment` works from there;
#   - with libvirt (VPWR_WITH_LIBVIRT): the installed libvpwr.so needs
#     neither libvirt nor libxml2 (readelf -d) and libvpwr.pc does not list
#     them; the libvirt resolver module is installed in LIBDIR/libvpwr-0/,
#     and a libvirt:test:///default resolver opens through it (consumer.c,
#     and Python when built); with the module gone, an empty module_dir or
#     a module of another build (tests/resolver_module_bogus.c), opening one
#     fails with -EPROTONOSUPPORT and a log line that says why and where.
#
# usage: tests/install/run.sh BUILD_DIR      (CTest test "install-consumer")
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
build=$(cd "$1" && pwd)
[ -f "$build/CMakeCache.txt" ] || { echo "install: $build is not a CMake build tree" >&2; exit 2; }

cc=${CC:-cc}
work=$build/install-test
dest=$work/destdir
log=$work/log
rm -rf "$work"
mkdir -p "$work"

fail() {
	echo "install: FAIL: $*"
	exit 1
}
step() {
	echo "install: $*"
}
# Run a command with its output in the log; show the log when it fails.
run() {
	if ! "$@" >"$log" 2>&1; then
		cat "$log"
		fail "$*"
	fi
}

step "cmake --install $build with DESTDIR=$dest"
DESTDIR=$dest run cmake --install "$build"

prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:[A-Z]*=//p' "$build/CMakeCache.txt")
sysroot=$dest$prefix
pcfile=$(find "$sysroot" -path '*/pkgconfig/libvpwr.pc' -print -quit)
[ -n "$pcfile" ] || fail "no libvpwr.pc installed under $sysroot"
libdir=$(dirname "$(dirname "$pcfile")")
umbrella=$(find "$sysroot" -path '*/libvpwr/libvpwr.h' -print -quit)
[ -n "$umbrella" ] || fail "no libvpwr/libvpwr.h installed under $sysroot"
incdir=$(dirname "$(dirname "$umbrella")")
for f in libvpwr.so.0 libvpwr.so cmake/libvpwr/libvpwrConfig.cmake \
	 cmake/libvpwr/libvpwrConfigVersion.cmake cmake/libvpwr/libvpwrTargets.cmake; do
	[ -e "$libdir/$f" ] || fail "$libdir/$f is not installed"
done

# -- headers: the public ones and the generated version.h, nothing else.
(cd "$root/include/libvpwr" && ls -- *.h; echo version.h) | LC_ALL=C sort >"$work/headers.want"
(cd "$incdir/libvpwr" && ls) | LC_ALL=C sort >"$work/headers.got"
if ! diff -u "$work/headers.want" "$work/headers.got" >"$work/headers.diff"; then
	cat "$work/headers.diff"
	fail "installed headers (+) differ from include/libvpwr/*.h + version.h (-)"
fi

# Each header on its own (twice, for the include guard).  Strict ISO C11
# is the promise; gnu11 is the fallback that keeps the other checks going.
strict_fail=
while read -r h; do
	src=$work/hdr_${h%.h}.c
	printf '#include <libvpwr/%s>\n#include <libvpwr/%s>\nint main(void) { return 0; }\n' "$h" "$h" >"$src"
	if ! "$cc" -std=c11 -pedantic -Wall -Wextra -Werror -I"$incdir" -c "$src" \
		-o "${src%.c}.o" >"$log" 2>&1; then
		cat "$log"
		strict_fail="$strict_fail $h"
		"$cc" -std=gnu11 -Wall -Wextra -Werror -I"$incdir" -c "$src" -o "${src%.c}.o" \
			>"$log" 2>&1 || { cat "$log"; fail "<libvpwr/$h> does not compile on its own (gnu11)"; }
	fi
done
if [ -n "$strict_fail" ]; then
	echo "install: WARNING: not strict ISO C11 (-std=c11 -pedantic), only gnu11:$strict_fail"
else
	step "$(wc -l <"$work/headers.got") headers compile on their own with -std=c11 -pedantic -Werror"
fi

# -- pkg-config
export PKG_CONFIG_PATH=$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export PKG_CONFIG_SYSROOT_DIR=$dest
for dep in jansson yajl; do
	grep -Eq "^Requires\.private:.*(^|[ ,:])$dep([ ,<>=]|\$)" "$pcfile" ||
		fail "libvpwr.pc does not list $dep in Requires.private: $(grep -i '^Requires' "$pcfile" || echo none)"
done
# What a static link of libvpwr needs, through Requires.private.
static_libs=$(pkg-config --static --libs libvpwr) || fail "pkg-config --static cannot resolve libvpwr's dependencies"
for lib in -ljansson -lyajl; do
	case " $static_libs " in
	*" $lib "*) ;;
	*) fail "pkg-config --static --libs libvpwr lacks $lib: $static_libs" ;;
	esac
done
version=$(pkg-config --modversion libvpwr) || fail "pkg-config cannot read $pcfile"
cflags=$(pkg-config --cflags libvpwr)
libs=$(pkg-config --libs libvpwr)
case "$cflags $libs" in
*"$dest"*) ;;
*) fail "pkg-config flags do not point into DESTDIR: $cflags $libs" ;;
esac
step "pkg-config: libvpwr $version: $cflags $libs"
# shellcheck disable=SC2086 # word splitting of the flags is intended
run "$cc" -std=c11 -Wall -Wextra -Werror $cflags "$here/consumer.c" -o "$work/consumer-pkgconfig" $libs

# -- CMake package
step "find_package(libvpwr) with CMAKE_PREFIX_PATH=$sysroot"
run cmake -S "$here" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$sysroot" \
	-DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS="-Wall -Wextra -Werror"
grep -q "libvpwr found in $libdir/cmake/libvpwr" "$log" ||
	{ cat "$log"; fail "find_package(libvpwr) did not pick the package in DESTDIR"; }
run cmake --build "$work/cmake-build"

# -- run both against the installed library
for exe in "$work/consumer-pkgconfig" "$work/cmake-build/consumer"; do
	loaded=$(LD_LIBRARY_PATH=$libdir ldd "$exe" | awk '$1 == "libvpwr.so.0" { print $3 }')
	[ "$loaded" = "$libdir/libvpwr.so.0" ] ||
		fail "$exe loads libvpwr.so.0 from '${loaded:-nowhere}', not $libdir"
	out=$(LD_LIBRARY_PATH=$libdir "$exe" 2>&1) || { echo "$out"; fail "$exe failed"; }
	[ "$out" = "libvpwr $version" ] || fail "$exe printed '$out', expected 'libvpwr $version'"
	step "${exe#"$work"/}: $out"
done

# -- the Python package, when the build has the bindings: every module of
# bindings/python/vpwr/ (and its type stub and py.typed) installed beside the
# extension, and importable from there (the experiment module included) by
# the interpreter it was built for.
pyinit=$(find "$sysroot" -path '*/vpwr/__init__.py' -print -quit)
if [ -n "$pyinit" ]; then
	pkgdir=$(dirname "$pyinit")
	for f in "$root"/bindings/python/vpwr/*.py "$root"/bindings/python/vpwr/*.pyi \
		 "$root"/bindings/python/vpwr/py.typed; do
		[ -e "$pkgdir/$(basename "$f")" ] || fail "vpwr/$(basename "$f") is not installed in $pkgdir"
	done
	[ -e "$pkgdir/_vpwr.py" ] || fail "vpwr/_vpwr.py (SWIG's proxy) is not installed"
	ls "$pkgdir"/_vpwr_c.*.so >/dev/null 2>&1 || fail "no vpwr/_vpwr_c.*.so installed in $pkgdir"
	py=$(sed -n 's/^Python3_EXECUTABLE:[A-Z]*=//p' "$build/CMakeCache.txt")
	out=$(cd "$work" && PYTHONPATH=$(dirname "$pkgdir") LD_LIBRARY_PATH=$libdir PYTHONDONTWRITEBYTECODE=1 \
		"${py:-python3}" -c 'import vpwr, vpwr.experiment; print(vpwr.__version__, vpwr.__file__)' 2>&1) ||
		{ echo "$out"; fail "the installed vpwr package does not import"; }
	case "$out" in
	"$version $pkgdir/__init__.py") ;;
	*) fail "import vpwr printed '$out', expected '$version $pkgdir/__init__.py'" ;;
	esac
	step "python: vpwr $version and vpwr.experiment import from ${pkgdir#"$dest"}"
fi
# -- the libvirt resolver, a module loaded on demand (docs/RESOLVERS.md)
with_libvirt=$(sed -n 's/^VPWR_WITH_LIBVIRT:[A-Z]*=//p' "$build/CMakeCache.txt")
case "$with_libvirt" in
ON | on | 1 | TRUE | true | YES | yes) with_libvirt=1 ;;
*) with_libvirt= ;;
esac
if [ -n "$with_libvirt" ]; then
	module_dir=$libdir/libvpwr-0
	module=$module_dir/libvpwr-resolver-libvirt.so
	[ -f "$module" ] || fail "the libvirt resolver module is not installed: $module"
	needed=$(readelf -d "$libdir/libvpwr.so.0" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
	case " $needed" in
	*" libvirt"* | *" libxml2"*) fail "the installed libvpwr.so.0 needs libvirt or libxml2: $needed" ;;
	esac
	step "libvpwr.so.0 needs: $needed"
	grep -Eq '^Requires.*(libvirt|libxml)' "$pcfile" &&
		fail "libvpwr.pc lists libvirt or libxml2: $(grep '^Requires' "$pcfile")"
	case " $static_libs " in
	*" -lvirt "* | *" -lxml2 "*) fail "pkg-config --static --libs libvpwr lists libvirt/libxml2: $static_libs" ;;
	esac
	readelf -d "$module" | grep -q 'NEEDED.*\[libvirt\.so' ||
		fail "$module does not link libvirt"

	consumer=$work/consumer-pkgconfig
	uri=libvirt:test:///default
	# expect_open WHAT [MODULE_DIR]: the consumer opens $uri, logging.
	expect_open() {
		local what=$1
		shift
		if ! out=$(LD_LIBRARY_PATH=$libdir "$consumer" "$uri" "$@" 2>&1); then
			echo "$out"
			fail "$what: $uri does not open"
		fi
	}
	# expect_refused WHAT PATTERN [MODULE_DIR]
	expect_refused() {
		local what=$1 pattern=$2
		shift 2
		if out=$(LD_LIBRARY_PATH=$libdir "$consumer" "$uri" "$@" 2>&1); then
			echo "$out"
			fail "$what: $uri opened"
		fi
		case "$out" in
		*"$uri: error -93 "*) ;;
		*) echo "$out"; fail "$what: not -EPROTONOSUPPORT (93)" ;;
		esac
		grep -qF -- "$pattern" <<<"$out" || { echo "$out"; fail "$what: no log line with \"$pattern\""; }
		step "$what: -EPROTONOSUPPORT, logged: $(grep -F -- "$pattern" <<<"$out" | head -n 1)"
	}

	expect_open "the installed module"
	grep -qF "resolver module $module (" <<<"$out" ||
		{ echo "$out"; fail "the resolver was not loaded from $module"; }
	grep -q "^$uri: 1 domains\$" <<<"$out" || { echo "$out"; fail "$uri: not 1 domain"; }
	step "consumer-pkgconfig $uri: 1 domain, through ${module#"$dest"}"

	mkdir "$work/empty-modules"
	expect_refused "module_dir without the module" \
		"no libvirt resolver module at $work/empty-modules/libvpwr-resolver-libvirt.so" \
		"$work/empty-modules"
	bogus=$build/tests/bogus-module
	if [ -f "$bogus/libvpwr-resolver-libvirt.so" ]; then
		expect_refused "a module of another build" \
			"refusing the libvirt resolver module $bogus/libvpwr-resolver-libvirt.so: it is from another libvpwr build" \
			"$bogus"
	fi
	# The package not installed: the module removed from the prefix.
	mv "$module" "$work/module.away"
	expect_refused "the module not installed" \
		"no libvirt resolver module at $module (No such file or directory): the libvirt resolver package is not installed"
	mv "$work/module.away" "$module"

	if [ -n "$pyinit" ]; then
		out=$(cd "$work" && PYTHONPATH=$(dirname "$pkgdir") LD_LIBRARY_PATH=$libdir PYTHONDONTWRITEBYTECODE=1 \
			"${py:-python3}" -c '
import sys, vpwr
with vpwr.Resolver(sys.argv[1]) as r:
    print(r.domains)
    print(sorted({l.split()[-1] for l in open("/proc/self/maps") if "libvpwr" in l}))
' "$uri" 2>&1) || { echo "$out"; fail "the installed vpwr package cannot open $uri"; }
		grep -qxF "['test']" <<<"$out" || { echo "$out"; fail "python: $uri did not list domain test"; }
		grep -qF "'$module'" <<<"$out" || { echo "$out"; fail "python: the module was not loaded from $module"; }
		step "python: vpwr.Resolver($uri) through ${module#"$dest"}"
	fi
fi
step "OK"
