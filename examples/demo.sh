#!/usr/bin/env bash
# The quick-start demo: installs what is missing, builds, and runs the host
# daemon on the simulator with two guests on unix sockets.
#
#   bash examples/demo.sh
#
# Four simulated CPUs.  vm1 runs vCPU0 on pCPU0 and vCPU1 on pCPU1; vm2 runs
# vCPU0 on pCPU2, vCPU1 on pCPU1 (shared with vm1) and vCPU2 on pCPU3.
# The host prints what each guest asks, what each physical CPU is set to,
# and, when it stops, the simulated energy against an untouched host whose
# CPUs all stay at their maximum.
set -euo pipefail
exec </dev/null

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${VPWR_BUILD_DIR:-$root/build}
# shellcheck source=../tests/deps.sh
. "$root/tests/deps.sh"
vpwr_deps_install

cmake -S "$root" -B "$build" -DPython3_EXECUTABLE=/usr/bin/python3 >/dev/null
cmake --build "$build" -j"$(nproc)" --target vpwr-hostd vpwr-guest >/dev/null

tmp=$(mktemp -d)
hostd_pid=
cleanup() {
	[ -n "$hostd_pid" ] && kill "$hostd_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

hostd=$build/examples/vpwr-hostd
guest=$build/examples/vpwr-guest

echo "== host: vpwr-hostd on the sim backend (4 CPUs, 800-2400 MHz, turbo 3000 MHz)"
"$hostd" --foreground --backend sim --sim-cpus 4 --sim-wallclock \
	--resolver "static:$root/examples/demo-pins.json" \
	--channel "vm1=unix-listen:$tmp/vm1.sock" \
	--channel "vm2=unix-listen:$tmp/vm2.sock" &
hostd_pid=$!
for _ in $(seq 100); do
	[ -S "$tmp/vm1.sock" ] && [ -S "$tmp/vm2.sock" ] && break
	sleep 0.05
done

# vm1 keeps its requests in place for 2.5 s; vm2 arrives meanwhile, wins the
# shared pCPU1, is refused a vCPU it does not have, then lets go.
"$guest" -n vm1 "unix:$tmp/vm1.sock" \
	hello scale 0 min set-range 1 1200000 1600000 \
	sleep 2500 query-state 1 >"$tmp/vm1.out" &
vm1_pid=$!
sleep 0.5
"$guest" -n vm2 "unix:$tmp/vm2.sock" \
	hello query-freqs 0 scale 0 down scale 0 down set-freq 1 2000000 \
	turbo 2 off scale 5 max sleep 1000 release >"$tmp/vm2.out" || true
wait "$vm1_pid"

kill -TERM "$hostd_pid"
wait "$hostd_pid"
hostd_pid=
echo
echo "== what the guests saw"
cat "$tmp/vm1.out" "$tmp/vm2.out"
