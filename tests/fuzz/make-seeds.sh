#!/usr/bin/env bash
# Regenerate the seed corpora tests/fuzz/corpus/<target>/ from messages
# encoded by the library's own encoders (tests/fuzz/gen_seeds.c).  Run it
# after a codec changes its wire format, and commit the result:
#
#   bash tests/fuzz/make-seeds.sh [BUILD_DIR]     (default: build-fuzz)
#
# BUILD_DIR is configured with clang and VPWR_BUILD_FUZZERS=ON if it is not
# a CMake build directory yet.  The output depends only on the library.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(realpath -m "${1:-$root/build-fuzz}")

if [ ! -f "$build/CMakeCache.txt" ]; then
	CC=clang cmake -S "$root" -B "$build" -DVPWR_BUILD_FUZZERS=ON \
		-DVPWR_BUILD_TESTS=OFF -DVPWR_BUILD_PYTHON=OFF \
		-DVPWR_BUILD_EXAMPLES=OFF >/dev/null
fi
cmake --build "$build" --target fuzz_seeds -j "$(nproc)" >/dev/null

for t in fuzz_native fuzz_dpdk fuzz_dpdk_guest fuzz_json fuzz_framer; do
	rm -rf "${here:?}/corpus/$t"
done
ASAN_OPTIONS=detect_leaks=1 "$build/tests/fuzz/fuzz_seeds" "$here/corpus"
