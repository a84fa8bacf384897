#!/usr/bin/env bash
# The one command that installs what is missing, builds and runs every test.
# Run it from anywhere, as root on a fresh Debian 12 machine (or as any user
# once the packages of tests/deps.sh are installed):
#
#   bash tests/run-all.sh
#
# Stages, each under a time limit; a failing stage does not stop the next:
#   deps      install the missing Debian packages (tests/deps.sh)
#   gcc       build/       gcc -Werror, everything ON; ctest: all tests
#             but the end-to-end one
#   e2e       build/       ctest -L e2e: a real guest under QEMU
#             (tests/e2e/run.sh), under one time limit; it fails, never
#             skips, when CI=true and QEMU or the kernel cannot be had
#   asan      build-asan/  clang ASan+UBSan; ctest -L unit
#   valgrind  the unit suites of build/ under memcheck (CK_FORK=no)
#   fuzz      build-fuzz/  clang libFuzzer + ASan/UBSan; every target of
#             tests/fuzz/ for VPWR_FUZZ_SECONDS (default 15) on a scratch
#             copy of its seed corpus, two at a time; one count per target
# The last line is "N passed, N failed": one count per test per stage, a
# failed step (package install, configure, build) counting as one failure.
# Exit status 0 only if nothing failed.
#
# Suites with randomised loops read VPWR_FUZZ_ITERS: the gcc stage runs
# their own default, the asan and valgrind stages fewer (they look for memory
# errors, not for coverage) unless VPWR_FUZZ_ITERS is set.  Likewise the
# host stress test reads VPWR_STRESS_FRAMES, fewer under valgrind.
#
# Environment: VPWR_JOBS (default: nproc) parallel build and test jobs;
# VPWR_CLEAN=1 removes the build directories first; VPWR_BUILD_DIR and
# VPWR_ASAN_BUILD_DIR, VPWR_FUZZ_BUILD_DIR (default build, build-asan,
# build-fuzz) move them elsewhere.
set -uo pipefail
exec </dev/null  # CI runs it without stdin; nothing here may prompt

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root" || exit 1

jobs=${VPWR_JOBS:-$(nproc)}
gcc_dir=$(realpath -m "${VPWR_BUILD_DIR:-$root/build}")
asan_dir=$(realpath -m "${VPWR_ASAN_BUILD_DIR:-$root/build-asan}")
fuzz_dir=$(realpath -m "${VPWR_FUZZ_BUILD_DIR:-$root/build-fuzz}")
logs=$gcc_dir/run-all
# Time limits, seconds.
t_deps=1200 t_configure=300 t_build=600 t_ctest=600 t_valgrind=600
t_valgrind_test=300  # one suite under memcheck; CK_DEFAULT_TIMEOUT does not apply
t_e2e=600           # the whole e2e stage (about 40 s when it passes)
t_fuzz_target=${VPWR_FUZZ_SECONDS:-15}  # libFuzzer -max_total_time per target
fuzz_targets="fuzz_native fuzz_dpdk fuzz_dpdk_guest fuzz_json fuzz_framer"

passed=0 failed=0 skipped=0
failures=()
t_all=$SECONDS

say() { printf '%s\n' "$*"; }
banner() { printf '\n======== %s\n' "$*"; }
fail_step() { # name
	failed=$((failed + 1))
	failures+=("$1")
}
pybin() { [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || echo python3; }

# run_logged LOG SECONDS CMD...: run with a time limit, output to LOG; on
# failure show the interesting part of it.
run_logged() {
	local log=$1 limit=$2 rc=0
	shift 2
	timeout -k 10 "$limit" "$@" >"$log" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ]; then
		[ "$rc" -eq 124 ] && say "TIMEOUT after ${limit}s: $*"
		say "---- errors (${log#"$root"/}):"
		grep -E 'error|Error [0-9]|undefined reference|CMake Error' "$log" | head -40
		say "---- last lines:"
		tail -n 20 "$log"
		say "----"
	fi
	return "$rc"
}

# count_junit STAGE FILE: add a ctest JUnit report to the totals.  A test
# CTest could not run (executable missing: not built) is a failure; only a
# SKIP_RETURN_CODE / SKIP_REGULAR_EXPRESSION skip counts as skipped.
count_junit() {
	local stage=$1 file=$2 verdict name p=0 f=0 s=0
	if [ ! -s "$file" ]; then
		say "$stage: no test report ($file)"
		fail_step "$stage: ctest (no report)"
		return
	fi
	while IFS=$'\t' read -r verdict name; do
		case "$verdict" in
		PASS) p=$((p + 1)) ;;
		SKIP) s=$((s + 1)); say "$stage: skipped $name" ;;
		*) f=$((f + 1)); failures+=("$stage: $name") ;;
		esac
	done < <("$(pybin)" - "$file" <<'PY'
import sys
import xml.etree.ElementTree as ET
for tc in ET.parse(sys.argv[1]).getroot().iter("testcase"):
    name, status = tc.get("name"), tc.get("status")
    skip = tc.find("skipped")
    if status == "run":
        print("PASS\t" + name)
    elif status == "fail":
        print("FAIL\t" + name)
    elif status == "disabled" or (skip is not None and
                                  skip.get("message", "").startswith("SKIP_")):
        print("SKIP\t" + name)
    else:
        print("FAIL\t%s (not run: %s)" % (name, skip.get("message") if skip is not None else status))
PY
)
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	say "$stage: $p passed, $f failed, $s skipped"
}

# configure_build STAGE DIR COMPILER CMAKE_ARGS...: returns 1 if configure
# failed (counted), 0 otherwise; a failed build is counted but the tests
# that were built still run (make -k).  The compiler is forced only when an
# existing cache holds another one (forcing it resets that cache).
configure_build() {
	local stage=$1 dir=$2 compiler=$3 cached want
	shift 3
	[ "${VPWR_CLEAN:-0}" = 1 ] && rm -rf "$dir"
	want=$(readlink -f "$(command -v "$compiler")")
	cached=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$dir/CMakeCache.txt" 2>/dev/null)
	if [ -n "$cached" ] && [ "$(readlink -f "$cached")" != "$want" ]; then
		set -- "$@" -DCMAKE_C_COMPILER="$compiler"
	fi
	export CC=$compiler
	mkdir -p "$logs"
	say "$stage: configure $dir"
	if ! run_logged "$logs/$stage-configure.log" "$t_configure" cmake -S "$root" -B "$dir" "$@"; then
		fail_step "$stage: configure"
		return 1
	fi
	say "$stage: build ($jobs jobs)"
	if ! run_logged "$logs/$stage-build.log" "$t_build" cmake --build "$dir" -j "$jobs" -- -k; then
		fail_step "$stage: build"
	fi
	return 0
}

# ctest_stage STAGE DIR CTEST_ARGS...
ctest_stage() {
	local stage=$1 dir=$2 rc=0
	shift 2
	rm -f "$logs/$stage.junit.xml"
	timeout -k 10 "$t_ctest" ctest --test-dir "$dir" --output-on-failure -j "$jobs" \
		--timeout 300 --output-junit "$logs/$stage.junit.xml" "$@" || rc=$?
	[ "$rc" -eq 124 ] && { say "$stage: ctest TIMEOUT after ${t_ctest}s"; fail_step "$stage: ctest timeout"; }
	count_junit "$stage" "$logs/$stage.junit.xml"
}

# ------------------------------------------------------------------ deps
banner "deps: Debian packages (tests/deps.sh)"
t0=$SECONDS
if ! timeout -k 10 "$t_deps" bash "$here/deps.sh"; then
	fail_step "deps: package installation"
fi
say "deps: $((SECONDS - t0))s"

# ------------------------------------------------------------------- gcc
banner "gcc: ${gcc_dir#"$root"/}/ (gcc, -Werror, examples and Python on), all tests"
t0=$SECONDS
gcc_ok=0
if configure_build gcc "$gcc_dir" gcc \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo -DVPWR_WERROR=ON -DVPWR_SANITIZE= \
	-DVPWR_BUILD_TESTS=ON -DVPWR_BUILD_EXAMPLES=ON -DVPWR_BUILD_PYTHON=ON \
	-DPython3_EXECUTABLE=/usr/bin/python3; then
	gcc_ok=1
	ctest_stage gcc "$gcc_dir" -LE e2e
fi
say "gcc: $((SECONDS - t0))s"

# ------------------------------------------------------------------- e2e
banner "e2e: a real guest under QEMU against ${gcc_dir#"$root"/}/ (tests/e2e/run.sh)"
t0=$SECONDS
if [ "$gcc_ok" = 1 ]; then
	t_ctest=$t_e2e ctest_stage e2e "$gcc_dir" -L e2e
else
	say "e2e: not run, ${gcc_dir#"$root"/}/ did not configure"
	fail_step "e2e: not run"
fi
say "e2e: $((SECONDS - t0))s"

# ------------------------------------------------------------------ asan
banner "asan: ${asan_dir#"$root"/}/ (clang, ASan+UBSan), unit suites"
t0=$SECONDS
if configure_build asan "$asan_dir" clang \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo -DVPWR_SANITIZE=address,undefined -DVPWR_WERROR=OFF \
	-DVPWR_BUILD_TESTS=ON -DVPWR_BUILD_EXAMPLES=ON -DVPWR_BUILD_PYTHON=OFF; then
	VPWR_FUZZ_ITERS=${VPWR_FUZZ_ITERS:-20000} \
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		ctest_stage asan "$asan_dir" -L unit
fi
say "asan: $((SECONDS - t0))s"

# -------------------------------------------------------------- valgrind
banner "valgrind: unit suites of ${gcc_dir#"$root"/}/ under memcheck"
t0=$SECONDS
if [ "$gcc_ok" = 1 ]; then
	mkdir -p "$logs/valgrind"
	vg_out=$(VPWR_FUZZ_ITERS=${VPWR_FUZZ_ITERS:-2000} \
		VPWR_STRESS_FRAMES=${VPWR_STRESS_FRAMES:-5000} \
		timeout -k 10 "$t_valgrind" "$(pybin)" - "$gcc_dir" "$logs/valgrind" \
		"$jobs" "$t_valgrind_test" <<'PY'
# Run every test labelled "unit" under valgrind, with the test's own
# environment and working directory, CK_FORK=no so that check runs the
# tests in the process valgrind watches.  Prints one verdict per test.
import concurrent.futures, json, os, subprocess, sys

build, logdir, jobs, limit = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
out = subprocess.run(["ctest", "--test-dir", build, "-L", "unit", "--show-only=json-v1"],
                     check=True, capture_output=True, text=True).stdout
tests = json.loads(out).get("tests", [])

def run(t):
    name = t["name"]
    props = {p["name"]: p["value"] for p in t.get("properties", [])}
    cmd = t.get("command") or []
    if not cmd or not os.path.isfile(cmd[0]):
        return ("FAIL", name, "not built: %s" % (cmd[0] if cmd else "no command"))
    env = dict(os.environ)
    for kv in props.get("ENVIRONMENT", []):
        k, _, v = kv.partition("=")
        env[k] = v
    env["CK_FORK"] = "no"
    log = os.path.join(logdir, name + ".log")
    vg = ["valgrind", "--error-exitcode=1", "--leak-check=full",
          "--errors-for-leak-kinds=definite", "--track-origins=yes"]
    with open(log, "w") as f:
        try:
            rc = subprocess.run(vg + cmd, env=env, stdout=f, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, timeout=limit,
                                cwd=props.get("WORKING_DIRECTORY") or build).returncode
        except subprocess.TimeoutExpired:
            return ("FAIL", name, "timeout after %ds (%s)" % (limit, log))
    return ("PASS" if rc == 0 else "FAIL", name, "exit %d (%s)" % (rc, log))

# Verdicts as they come, so that a stage timeout keeps the finished ones.
with concurrent.futures.ThreadPoolExecutor(max_workers=max(jobs, 1)) as ex:
    for done in concurrent.futures.as_completed([ex.submit(run, t) for t in tests]):
        print("%s\t%s\t%s" % done.result(), flush=True)
PY
	)
	vg_rc=$?
	p=0 f=0
	while IFS=$'\t' read -r verdict name why; do
		[ -n "$verdict" ] || continue
		if [ "$verdict" = PASS ]; then
			p=$((p + 1))
			say "valgrind: ok     $name"
		else
			f=$((f + 1))
			failures+=("valgrind: $name")
			say "valgrind: FAILED $name: $why"
			log=${why##*(}; log=${log%)}
			# valgrind's report and the suite's own failures, not the banner
			[ -f "$log" ] && grep -vE '^==[0-9]+== *($|Memcheck,|Copyright|Using Valgrind|Command:)' \
				"$log" | head -60
		fi
	done <<<"$vg_out"
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$vg_rc" -ne 0 ]; then
		say "valgrind: the runner failed (exit $vg_rc)"
		fail_step "valgrind: runner"
	fi
	say "valgrind: $p passed, $f failed"
else
	say "valgrind: not run, ${gcc_dir#"$root"/}/ did not configure"
fi
say "valgrind: $((SECONDS - t0))s"

# ------------------------------------------------------------------ fuzz
# fuzz_one TARGET: run one libFuzzer target for t_fuzz_target seconds on a
# scratch copy of its seed corpus (new inputs land there, not in the
# repository); crash/leak reproducers go to $logs/fuzz/.  Writes the exit
# status to $logs/fuzz/TARGET.rc.
fuzz_one() {
	local t=$1 bin=$fuzz_dir/tests/fuzz/$1 work rc=0 max_len=8192
	local out=$logs/fuzz/$t
	[ "$t" = fuzz_framer ] && max_len=9000  # just past the framer's 8 KiB
	rm -f "$out".rc "$out"-crash-* "$out"-leak-* "$out"-timeout-* "$out"-oom-*
	if [ ! -x "$bin" ]; then
		echo "not built: $bin" >"$out.log"
		echo 127 >"$out.rc"
		return
	fi
	work=$(mktemp -d "${TMPDIR:-/tmp}/vpwr-$t.XXXXXX")
	cp -R "$root/tests/fuzz/corpus/$t/." "$work/" 2>/dev/null
	(cd "$logs/fuzz" && ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
		UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		timeout -k 10 $((t_fuzz_target + 120)) "$bin" \
		-max_total_time="$t_fuzz_target" -rss_limit_mb=2048 -timeout=10 \
		-max_len="$max_len" -print_final_stats=1 \
		-artifact_prefix="$out-" "$work") >"$out.log" 2>&1 || rc=$?
	rm -rf "$work"
	echo "$rc" >"$out.rc"
}

banner "fuzz: ${fuzz_dir#"$root"/}/ (clang libFuzzer, ASan+UBSan), ${t_fuzz_target}s per target"
t0=$SECONDS
if configure_build fuzz "$fuzz_dir" clang \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo -DVPWR_BUILD_FUZZERS=ON -DVPWR_SANITIZE= \
	-DVPWR_BUILD_TESTS=OFF -DVPWR_BUILD_PYTHON=OFF -DVPWR_BUILD_EXAMPLES=OFF; then
	mkdir -p "$logs/fuzz"
	running=0
	for t in $fuzz_targets; do
		if [ "$running" -ge "$jobs" ]; then
			wait -n
			running=$((running - 1))
		fi
		fuzz_one "$t" &
		running=$((running + 1))
	done
	wait
	p=0 f=0
	for t in $fuzz_targets; do
		rc=$(cat "$logs/fuzz/$t.rc" 2>/dev/null || echo missing)
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/fuzz/$t.log" 2>/dev/null)
		if [ "$rc" = 0 ]; then
			p=$((p + 1))
			say "fuzz: ok     $t (${execs:-?} executions)"
		else
			f=$((f + 1))
			failures+=("fuzz: $t")
			say "fuzz: FAILED $t (exit $rc, ${execs:-?} executions; ${logs#"$root"/}/fuzz/$t.log)"
			ls "$logs/fuzz/$t"-* 2>/dev/null | sed 's/^/  reproducer: /'
			grep -E 'ERROR: |runtime error|^fuzz: |SUMMARY' "$logs/fuzz/$t.log" | head -20
		fi
	done
	passed=$((passed + p))
	failed=$((failed + f))
	say "fuzz: $p passed, $f failed"
fi
say "fuzz: $((SECONDS - t0))s"

# --------------------------------------------------------------- summary
banner "summary ($((SECONDS - t_all))s)"
[ "$skipped" -gt 0 ] && say "$skipped skipped (not counted)"
if [ ${#failures[@]} -gt 0 ]; then
	say "failed:"
	printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
