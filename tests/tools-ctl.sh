#!/usr/bin/env bash
# vpwr-hostd with a control socket, driven by vpwr-ctl: tables, --json,
# a change that sticks, a refusal (exit 1) and no daemon (exit 2).
set -euo pipefail
bin=$1
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
echo '{"domains":{"vm1":{"vcpus":["0","1"]},"vm2":{"vcpus":["2"]}}}' >"$dir/pins.json"
"$bin/vpwr-hostd" --foreground -q -r "static:$dir/pins.json" -c "vm1=unix-listen:$dir/vm1.sock" \
	--control "$dir/ctl.sock" >"$dir/hostd.log" 2>&1 &
pid=$!
for _ in $(seq 50); do [ -S "$dir/ctl.sock" ] && break; sleep 0.1; done
ctl() { "$bin/vpwr-ctl" -s "$dir/ctl.sock" "$@"; }
fail() { echo "tools-ctl: FAIL: $*"; cat "$dir/hostd.log"; exit 1; }

[ "$(stat -c %a "$dir/ctl.sock")" = 600 ] || fail "control socket mode"
ctl cpus | grep -q '^backend sim' || fail "cpus table"
[ "$(ctl cpus | grep -c '^[0-9]')" = 4 ] || fail "4 pCPUs"
ctl domain-bounds vm1 0 1600000 >/dev/null || fail "domain-bounds"
ctl --json domains | grep -q '"bounds":{"min_khz":0,"max_khz":1600000}' || fail "bounds kept"
ctl bounds 3 800000 2000000 >/dev/null || fail "bounds"
ctl cpus | grep -E '^3 .*bounds 800-2000 MHz' >/dev/null || fail "pCPU bounds shown"
rc=0; ctl remove-channel 99 2>"$dir/err" || rc=$?
[ "$rc" = 1 ] && grep -q ENOENT "$dir/err" || fail "refusal exit 1 ($rc)"
rc=0; ctl domain-bounds nosuch 0 1 2>/dev/null || rc=$?
[ "$rc" = 1 ] || fail "unknown domain exit 1 ($rc)"
rc=0; "$bin/vpwr-ctl" -s "$dir/nothere.sock" cpus 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "no daemon exit 2 ($rc)"
rc=0; ctl bounds x 1 2 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "usage exit 2 ($rc)"
"$bin/vpwr-guest" "unix:$dir/vm1.sock" scale 0 max >/dev/null || fail "guest"
ctl stats | grep -qE '^requests +1$' || fail "stats"
echo "tools-ctl: ok"
