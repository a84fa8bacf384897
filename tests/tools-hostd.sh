#!/usr/bin/env bash
# vpwr-hostd as a daemon: its configuration file and command-line
# overrides, refusals that name what is wrong, systemd's readiness
# protocol, SIGHUP reload (channels, bounds, a broken file), SIGTERM,
# journal-style logs, detaching with a pid file, and its systemd unit.
#
#   bash tests/tools-hostd.sh BUILD/examples
set -euo pipefail
bin=$(cd "$1" && pwd)
hostd=$bin/vpwr-hostd
ctl_bin=$bin/vpwr-ctl
guest=$bin/vpwr-guest
dir=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -s "$dir/pid" ] && kill "$(cat "$dir/pid")" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
fail() {
	echo "tools-hostd: FAIL: $*"
	for f in "$dir"/*.log "$dir"/*.txt; do
		[ -e "$f" ] && { echo "---- $f"; cat "$f"; }
	done
	exit 1
}
ctl() { "$ctl_bin" -s "$dir/ctl.sock" "$@"; }
wait_for() { # FILE PATTERN
	for _ in $(seq 100); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
# The datagrams systemd would get on $NOTIFY_SOCKET, one line each.
notify_listen() { # SOCKET OUT
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
with open(sys.argv[2], "w") as out:
    while True:
        m = s.recv(4096).decode()
        out.write(m.replace("\n", " ") + "\n")
        out.flush()
        if m.startswith("STOPPING=1"):
            break
' "$1" "$2" &
	pids+=($!)
	for _ in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.05; done
	fail "no notify socket"
}

echo '{"domains":{"vm1":{"vcpus":["0","1"]},"vm2":{"vcpus":["2"]}}}' >"$dir/pins.json"
conf() { # CHANNEL-DOMAIN MAX_KHZ [EXTRA]
	cat <<JSON
{
  "backend": "sim", "sim": { "cpus": 4 },
  "resolver": "static:$dir/pins.json",
  "mode": "powersave",
  "channels": [ { "domain": "$1", "listen": "unix-listen:$dir/$1.sock" } ],
  "bounds": [ { "cpus": "2-3", "max_khz": $2 },
              { "domain": "vm1", "min_khz": 1000000 } ],
  "control": "$dir/ctl.sock",
  "log": { "level": "info" }${3:-}
}
JSON
}
conf vm1 2000000 >"$dir/hostd.json"

# ---- the merged configuration: options win, channels add up
"$hostd" -f "$dir/hostd.json" --mode exclusive -c "vm2=unix-listen:$dir/x.sock" \
	--print-config >"$dir/merged.txt" || fail "--print-config"
grep -q '"mode": "exclusive"' "$dir/merged.txt" || fail "--mode overrides the file"
grep -q '"listen": "unix-listen:'"$dir"'/vm1.sock"' "$dir/merged.txt" &&
	grep -q '"listen": "unix-listen:'"$dir"'/x.sock"' "$dir/merged.txt" ||
	fail "channels of the file and the command line"
grep -q '"max_khz": 2000000' "$dir/merged.txt" || fail "bounds read"
grep -q '"level": "info"' "$dir/merged.txt" || fail "log level read"
# What --print-config writes reads back the same.
"$hostd" -f "$dir/merged.txt" --print-config | diff - "$dir/merged.txt" >/dev/null ||
	fail "--print-config output does not read back"
# port_events: off by default, on from the file or --port-events, and
# round-trips.
grep -q '"port_events": false' "$dir/merged.txt" || fail "port_events off by default"
conf vm1 2000000 ', "port_events": true' >"$dir/ports.json"
"$hostd" -f "$dir/ports.json" --print-config >"$dir/ports.txt" || fail "port_events read"
grep -q '"port_events": true' "$dir/ports.txt" || fail "port_events from the file"
"$hostd" -f "$dir/ports.txt" --print-config | diff - "$dir/ports.txt" >/dev/null ||
	fail "--print-config with port_events does not read back"
"$hostd" -f "$dir/hostd.json" --port-events --print-config | grep -q '"port_events": true' ||
	fail "--port-events"

# ---- refusals: exit 2, naming what is wrong
refuse() { # WHAT PATTERN JSON
	local rc=0
	printf '%s\n' "$3" >"$dir/bad.json"
	"$hostd" -F -f "$dir/bad.json" 2>"$dir/err.txt" || rc=$?
	[ "$rc" = 2 ] || fail "$1: exit $rc, not 2"
	grep -qF -- "$2" "$dir/err.txt" || fail "$1: '$(cat "$dir/err.txt")' does not say '$2'"
}
r="\"resolver\": \"static:$dir/pins.json\""
refuse "unknown key" 'unknown key "chanels"' "{$r, \"chanels\": []}"
refuse "unknown nested key" 'unknown key "limits.rate"' "{$r, \"limits\": {\"rate\": 5}}"
refuse "syntax" 'line 2, column' "{$r,
 \"mode\" \"powersave\"}"
refuse "duplicate key" 'duplicate' "{$r, $r}"
refuse "wrong type" '"grace_ms" must be an integer' "{$r, \"grace_ms\": \"5s\"}"
refuse "bad mode" '"mode" must be one of' "{$r, \"mode\": \"fastest\"}"
refuse "min above max" 'min_khz 3000000 is above max_khz' \
	"{$r, \"auto_channels\": true, \"bounds\": [{\"cpus\": \"0\", \"min_khz\": 3000000, \"max_khz\": 1000000}]}"
refuse "bad cpulist" 'is not a cpulist' \
	"{$r, \"auto_channels\": true, \"bounds\": [{\"cpus\": \"x-y\"}]}"
refuse "listen and connect" 'needs one of "listen"' \
	"{$r, \"channels\": [{\"domain\": \"vm1\", \"listen\": \"a:b\", \"connect\": \"c:d\"}]}"
refuse "no resolver" 'no resolver' '{"auto_channels": true}'
refuse "nothing to serve" 'nothing to serve' "{$r}"
rc=0; "$hostd" -F -f "$dir/nothere.json" 2>"$dir/err.txt" || rc=$?
[ "$rc" = 2 ] && grep -q 'nothere.json' "$dir/err.txt" || fail "missing file: exit $rc"

# ---- foreground under a notify socket: ready, reload, stop
notify_listen "$dir/notify.sock" "$dir/notify.txt"
NOTIFY_SOCKET=$dir/notify.sock "$hostd" -F -f "$dir/hostd.json" \
	>"$dir/out.log" 2>"$dir/err.log" &
hpid=$!
pids+=($hpid)
wait_for "$dir/notify.txt" "^READY=1 .*MAINPID=$hpid" || fail "READY=1 with MAINPID"
wait_for "$dir/out.log" '^control socket ' || fail "control socket"
# Bounds from the file: vm1's min, pCPUs 2-3 at most 2000 MHz.
ctl cpus | grep -E '^2 .*bounds 0-2000 MHz' >/dev/null || fail "pCPU bounds applied"
ctl --json domains | grep -q '"bounds":{"min_khz":1000000,"max_khz":0}' ||
	fail "domain bounds applied"
"$guest" "unix:$dir/vm1.sock" scale 0 min >"$dir/g1.txt" || fail "vm1 guest"
grep -q 'cur=1000000kHz' "$dir/g1.txt" || fail "vm1's min bound held"

# Reload: vm1's channel goes, vm2's comes, the pCPU bound changes, a
# setting that needs a restart is reported.
conf vm2 1800000 ', "grace_ms": 100' >"$dir/hostd.json"
kill -HUP "$hpid"
wait_for "$dir/err.log" 'reloaded .*hostd.json: 1 channels, 2 bounds' || fail "reloaded"
wait_for "$dir/notify.txt" '^RELOADING=1 MONOTONIC_USEC=[0-9]+' || fail "RELOADING=1"
[ "$(grep -c '^READY=1' "$dir/notify.txt")" = 2 ] || fail "READY=1 after the reload"
grep -q 'reload: grace_ms changed; it takes effect at the next start' "$dir/err.log" ||
	fail "fixed setting reported"
grep -q "no longer listening on unix-listen:$dir/vm1.sock" "$dir/out.log" || fail "vm1 detached"
[ ! -e "$dir/vm1.sock" ] || fail "vm1's socket left behind"
ctl cpus | grep -E '^2 .*bounds 0-1800 MHz' >/dev/null || fail "pCPU bounds reloaded"
"$guest" "unix:$dir/vm2.sock" scale 0 max >"$dir/g2.txt" || fail "vm2 guest"
grep -q 'cur=1800000kHz.*clamped' "$dir/g2.txt" || fail "vm2 clamped by the new bound"

# A bound that changes while a wish is under it goes straight to its new
# value: the cap is never lifted on the way (pCPU 2 never sees 3000 MHz).
"$guest" "unix:$dir/vm2.sock" scale 0 max sleep 30000 >"$dir/g3.txt" 2>&1 &
gpid=$!
pids+=($gpid)
for _ in $(seq 100); do
	[ "$(grep -c '^    pCPU 2: 2400 -> 1800 MHz' "$dir/out.log")" = 2 ] && break
	sleep 0.05
done
[ "$(grep -c '^    pCPU 2: 2400 -> 1800 MHz' "$dir/out.log")" = 2 ] || fail "held wish"
conf vm2 2000000 ', "grace_ms": 100' >"$dir/hostd.json"
kill -HUP "$hpid"
wait_for "$dir/out.log" '^    pCPU 2: 1800 -> 2000 MHz' || fail "bound moved on reload"
grep -q 'pCPU 2: 1800 -> 3000' "$dir/out.log" && fail "cap lifted during the reload"
kill "$gpid" 2>/dev/null || fail "the held guest ended early"
wait "$gpid" 2>/dev/null || true
# A channel that cannot be served yet is not remembered as served: the
# next reload tries it again.
conf vm2 2000000 ", \"grace_ms\": 100, \"channels\": [
  { \"domain\": \"vm2\", \"listen\": \"unix-listen:$dir/vm2.sock\" },
  { \"domain\": \"vm1\", \"listen\": \"unix-listen:$dir/later/vm1.sock\" } ]" |
	sed '/"channels": \[ { "domain": "vm2", "listen"/d' >"$dir/hostd.json"
kill -HUP "$hpid"
wait_for "$dir/err.log" "domain vm1 on unix-listen:$dir/later/vm1.sock: " || fail "unservable channel reported"
wait_for "$dir/err.log" 'reloaded .*: 1 channels' || fail "unserved channel not counted"
mkdir "$dir/later"
kill -HUP "$hpid"
wait_for "$dir/out.log" "listening on unix-listen:$dir/later/vm1.sock" || fail "channel tried again"
"$guest" "unix:$dir/later/vm1.sock" hello >/dev/null || fail "retried channel serves"

# A broken file on reload changes nothing; the daemon carries on.
echo '{ "resolver": ' >"$dir/hostd.json"
kill -HUP "$hpid"
wait_for "$dir/err.log" 'reload: .*hostd.json: line .*; the running configuration stays' ||
	fail "broken reload reported"
wait_for "$dir/notify.txt" '^READY=1' || true
"$guest" "unix:$dir/vm2.sock" scale 0 max >/dev/null || fail "serving after a broken reload"

kill -TERM "$hpid"
rc=0; wait "$hpid" || rc=$?
[ "$rc" = 0 ] || fail "exit $rc after SIGTERM"
wait_for "$dir/notify.txt" '^STOPPING=1' || fail "STOPPING=1"
grep -q '^restoring every CPU and exiting' "$dir/out.log" || fail "restore said"
grep -q '<5> signal 15: restoring every CPU' "$dir/err.log" || fail "signal logged"

# ---- a reader of its output that goes away does not end it (SIGPIPE)
conf vm1 2000000 >"$dir/hostd.json"
"$hostd" -F -f "$dir/hostd.json" 2>"$dir/pipe.log" > >(read -r _) &
ppid_=$!
pids+=($ppid_)
wait_for "$dir/pipe.log" 'ready: ' || fail "hostd with a short-lived reader"
sleep 0.2
for i in 1 2 3; do
	"$guest" "unix:$dir/vm1.sock" scale 0 max >/dev/null || fail "request $i with no reader"
done
kill -0 "$ppid_" || fail "killed by a broken pipe"
kill -TERM "$ppid_"
rc=0; wait "$ppid_" || rc=$?
[ "$rc" = 0 ] || fail "exit $rc with no reader"

# ---- journal: "<N>" priority prefixes when stderr is the journal's
conf vm1 2000000 >"$dir/hostd.json"
: >"$dir/journal.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$dir/journal.log") \
	"$hostd" -F -f "$dir/hostd.json" -r static:/nonexistent \
	>/dev/null 2>>"$dir/journal.log" || true
grep -q '^<3>resolver static:/nonexistent: ' "$dir/journal.log" || fail "journal prefix"
grep -q 'vpwr-hostd: <' "$dir/journal.log" && fail "stderr format in the journal"

# ---- detached with relative paths: they keep their meaning, on reload too
(cd "$dir" && "$hostd" -f hostd.json --pid-file rel.pid -r static:pins.json \
	--log-target syslog >/dev/null 2>"$dir/rel.log") || fail "detached, relative paths"
[ -s "$dir/rel.pid" ] || fail "relative pid file"
rpid=$(cat "$dir/rel.pid")
kill -HUP "$rpid"
sleep 0.3
"$guest" "unix:$dir/vm1.sock" hello >/dev/null || fail "detached daemon after a reload"
kill -TERM "$rpid"
for _ in $(seq 100); do kill -0 "$rpid" 2>/dev/null || break; sleep 0.05; done
[ ! -e "$dir/rel.pid" ] || fail "relative pid file left behind"

# ---- detached: exit 0 once ready, pid file, serves, SIGTERM cleans up
"$hostd" -f "$dir/hostd.json" --pid-file "$dir/pid" --log-target stderr \
	>"$dir/detach.log" 2>&1 || fail "detached start"
[ -s "$dir/pid" ] || fail "pid file"
dpid=$(cat "$dir/pid")
kill -0 "$dpid" || fail "daemon not running"
[ "$(ps -o ppid= -p "$dpid" | tr -d ' ')" != $$ ] || fail "not detached"
[ "$(ps -o sid= -p "$dpid" | tr -d ' ')" = "$dpid" ] && fail "still a session leader"
"$guest" "unix:$dir/vm1.sock" hello >/dev/null || fail "detached daemon serves"
kill -TERM "$dpid"
for _ in $(seq 100); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$dpid" 2>/dev/null && fail "detached daemon did not stop"
[ ! -e "$dir/pid" ] || fail "pid file left behind"
# A daemon that cannot start: its parent exits 1 and says why.
rc=0
"$hostd" -f "$dir/hostd.json" -r static:/nonexistent 2>"$dir/err.txt" || rc=$?
[ "$rc" = 1 ] && grep -q 'resolver static:/nonexistent' "$dir/err.txt" ||
	fail "failed detached start: exit $rc"

# ---- the systemd unit: its commands, run as systemd would
unit=$bin/vpwr-hostd.service
grep -qx 'Type=notify' "$unit" || fail "unit: Type=notify"
grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$unit" || fail "unit: ExecReload"
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
set -- $exec_start
[ "$(basename "$1")" = vpwr-hostd ] && [ "$2" = --foreground ] && [ "$3" = --config ] ||
	fail "unit: ExecStart '$exec_start'"
rm -f "$dir/notify.sock"
notify_listen "$dir/notify.sock" "$dir/unit-notify.txt"
NOTIFY_SOCKET=$dir/notify.sock "$hostd" "$2" "$3" "$dir/hostd.json" \
	>"$dir/unit.log" 2>&1 &
upid=$!
pids+=($upid)
wait_for "$dir/unit-notify.txt" "^READY=1 .*MAINPID=$upid" || fail "unit's command: READY=1"
/bin/kill -HUP "$upid"
wait_for "$dir/unit-notify.txt" '^RELOADING=1' || fail "unit's reload"
kill -TERM "$upid"
rc=0; wait "$upid" || rc=$?
[ "$rc" = 0 ] || fail "unit's command: exit $rc"
echo "tools-hostd: ok"
