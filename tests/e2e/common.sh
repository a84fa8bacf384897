# shellcheck shell=bash
# What the end-to-end scripts share (run.sh: QEMU directly; libvirt.sh:
# QEMU under libvirtd).  Source it after setting
#
#   here      this directory
#   E2E_TAG   the prefix of every message ("e2e", "e2e-libvirt")
#
# with the build directory as "$1" of the sourcing script passed on:
#
#   . "$here/common.sh" "${1:-}"
#
# It sets root, build, e2e, cache, hostd, boot_timeout, wait_timeout,
# t_start and failures, and defines the messages, the checks, wait_for and
# e2e_prepare.  The sourcing script defines guest_alive (is the guest that
# wait_for watches still there?) and sets guest_ended=1 once it is gone.

root=$(cd "$here/../.." && pwd)
build=$(realpath -m "${1:-$root/build}")
e2e=$build/e2e
cache=$(realpath -m "${VPWR_E2E_CACHE:-$e2e/cache}")
hostd=$build/examples/vpwr-hostd
boot_timeout=${VPWR_E2E_BOOT_TIMEOUT:-120}
wait_timeout=60   # one marker, one request, one reconnection
t_start=$SECONDS
failures=0
guest_ended=

say() { printf '%s: %s\n' "$E2E_TAG" "$*"; }
elapsed() { echo "$((SECONDS - t_start))s"; }

# Cannot run here: a failure under CI, a skip elsewhere.
cannot() {
	if [ "${CI:-}" = true ]; then
		say "FAILED: $* (CI=true: the end-to-end test must run)"
		exit 1
	fi
	say "SKIPPED: $*"
	exit 77
}

ok() { say "ok     $*"; }
fail() {
	say "FAILED $*"
	failures=$((failures + 1))
}

# check DESCRIPTION CMD...: count a failure if CMD fails.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}

# The file without the serial console's carriage returns.
text() { [ ! -e "$1" ] || tr -d '\r' <"$1"; }

# count FILE ERE: lines matching.  (grep -q in a pipe would make tr die of
# SIGPIPE, and pipefail fail the pipe.)
count() { text "$1" | grep -cE -- "$2"; }
has_re() { [ "$(count "$1" "$2")" -gt 0 ]; }
# has FILE TEXT: a line of FILE contains TEXT (fixed string).
has() { [ "$(text "$1" | grep -cF -- "$2")" -gt 0 ]; }

guest_alive() { return 0; } # the sourcing script says better

# wait_for FILE ERE [N]: until N (default 1) lines match, at most
# wait_timeout seconds; gives up early once the running guest has powered
# off (its console, *.console, at once, a daemon's log 5 s later: what a
# daemon does when the VM goes comes soon after).
wait_for() {
	local file=$1 re=$2 n=${3:-1} i=0 dead=0 limit=$wait_timeout
	# After a guest's end, what is still to come follows from it at once.
	[ -n "$guest_ended" ] && limit=10
	while [ $i -lt $((limit * 10)) ]; do
		[ "$(count "$file" "$re")" -ge "$n" ] && return 0
		if ! guest_alive; then
			dead=$((dead + 1))
			if [ "${file%.console}" != "$file" ] || [ $dead -gt 50 ]; then
				[ "$(count "$file" "$re")" -ge "$n" ] && return 0
				say "the guest powered off before '$re' (x$n) in ${file##*/}"
				return 1
			fi
		fi
		sleep 0.1
		i=$((i + 1))
	done
	say "timed out after ${limit}s waiting for '$re' (x$n) in ${file##*/}"
	return 1
}

expect_reply() { # CONSOLE TEXT; any seq=N matches (guests start at random)
	local re
	re=$(printf '%s' "$2" | sed -e 's/[][\.*^$(){}+?|/]/\\&/g' \
		-e 's/seq=[0-9][0-9]*/seq=[0-9]+/')
	check "${1##*/}: reply '$2'" has_re "$1" "$re"
}
expect_line() { # LOG TEXT
	check "${1##*/}: '$2'" has "$1" "$2"
}

# pcpu LOG N: pCPU N as vpwr-hostd last reported it: "MHZ MIN-MAX TURBO"
# after a change, "MHZ restored" after a restore, "-" if never.
pcpu() {
	text "$1" | awk -v c="$2:" '
		$1 == "pCPU" && $2 == c {
			if ($7 == "(restored)") s = $5 " restored"
			else { t = $11; sub(/,$/, "", t); s = $5 " " $8 " " t }
		}
		END { print s == "" ? "-" : s }'
}

expect_pcpu() { # LOG N WANT
	local got
	got=$(pcpu "$1" "$2")
	check "${1##*/}: pCPU $2 is '$3' (got '$got')" [ "$got" = "$3" ]
}

# e2e_prepare: QEMU, busybox and the kernel (fetch.sh: cache in
# BUILD_DIR/e2e/cache or VPWR_E2E_CACHE; also installs the other packages
# of VPWR_E2E_DEPS), the static vpwr-guest, vpwr-hostd and vportprobe
# (BUILD_DIR/e2e/static), the initramfs (BUILD_DIR/e2e/initrd.gz).  Sets
# kernel (the directory of vmlinuz).  Exits on failure (77 via cannot()).
e2e_prepare() {
	[ -x "$hostd" ] || { say "FAILED: $hostd is not built (build with examples and tests)"; exit 1; }
	say "fetch (cache $cache)"
	bash "$here/fetch.sh" "$cache" 2>&1
	case $? in
	0) ;;
	77) cannot "the packages of VPWR_E2E_DEPS (tests/deps.sh) or the Debian kernel cannot be had (see above)" ;;
	*) say "FAILED: fetch.sh"; exit 1 ;;
	esac
	kernel=$cache/kernel

	say "static vpwr-guest and vpwr-hostd ($e2e/static)"
	mkdir -p "$e2e"
	if ! { cmake -S "$root" -B "$e2e/static" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DVPWR_STATIC_TOOLS=ON -DVPWR_WITH_LIBVIRT=OFF \
		-DVPWR_BUILD_TESTS=OFF -DVPWR_BUILD_PYTHON=OFF \
		-DVPWR_BUILD_EXAMPLES=ON -DVPWR_SANITIZE= &&
		cmake --build "$e2e/static" -j "${VPWR_JOBS:-$(nproc)}" \
			--target vpwr-guest vpwr-hostd; } >"$e2e/static-build.log" 2>&1; then
		tail -n 30 "$e2e/static-build.log"
		say "FAILED: the static build (log: $e2e/static-build.log)"
		exit 1
	fi

	mkdir -p "$e2e/tools"
	cp "$e2e/static/examples/vpwr-guest" "$e2e/static/examples/vpwr-hostd" "$e2e/tools/" || exit 1
	if ! "${CC:-cc}" -static -O2 -Wall -Wextra -o "$e2e/tools/vportprobe" \
		"$here/vportprobe.c" >"$e2e/vportprobe-build.log" 2>&1; then
		cat "$e2e/vportprobe-build.log"
		say "FAILED: building vportprobe"
		exit 1
	fi

	say "initramfs"
	if ! bash "$here/mkinitramfs.sh" "$e2e/initrd.gz" "$kernel" "$e2e/tools"; then
		say "FAILED: mkinitramfs.sh"
		exit 1
	fi
	say "prepared in $(elapsed)"
}
