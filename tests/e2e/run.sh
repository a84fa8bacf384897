#!/usr/bin/env bash
# The end-to-end test: a real Linux guest under QEMU (TCG) asks a real
# vpwr-hostd on the host for frequency changes over virtio-serial.
#
#   bash tests/e2e/run.sh [BUILD_DIR]
#
# BUILD_DIR (default: build/) is a build of this repository with the
# examples and tests: its vpwr-hostd serves the guest, its mkfakesysfs makes
# the fake acpi-cpufreq tree.  The script itself
#   - fetches QEMU, busybox and a Debian kernel (fetch.sh; cache in
#     BUILD_DIR/e2e/cache, or VPWR_E2E_CACHE),
#   - builds vpwr-guest and vpwr-hostd statically (BUILD_DIR/e2e/static),
#   - packs the initramfs (mkinitramfs.sh; guest.sh holds the guest half),
#   - boots the guest four times:
#       1 sim      sim backend, vpwr-hostd listening and QEMU connecting
#                  (chardev server=off,reconnect=1): every kind of request,
#                  checked on the host at two pauses; vpwr-hostd restarted
#                  while the guest holds requests (the next one succeeds);
#                  then host and guest both in the guest over vsock_loopback
#       2 reboot   the same vpwr-hostd, the guest booted again
#       3 acpi     acpi-cpufreq on a fake sysfs tree, vpwr-hostd connecting
#                  to QEMU (server=on): the sysfs files at each pause, after
#                  the daemon stops and after the VM goes away; the daemon
#                  restarted while a request is on its way
#       4 reboot   that daemon reconnects to the next boot of the VM
# Pass/fail comes from the host side (vpwr-hostd's output, the sysfs files)
# and from the E2E-* markers the guest prints on its console; QEMU's own
# exit status says nothing.
#
# Exit status: 0 passed; 1 failed; 77 skipped (QEMU or the kernel cannot be
# had, and CI is not "true": under CI that is a failure).  Logs stay in the
# work directory when anything fails, and their interesting parts are
# printed.  Environment: VPWR_E2E_CACHE (kernel cache), VPWR_E2E_KEEP=1
# (keep the work directory), VPWR_E2E_BOOT_TIMEOUT (seconds one QEMU may
# live, default 120), VPWR_E2E_STALE=0 (skip the fifth boot: a late reply
# must not be taken by the next process on the port).
set -uo pipefail
exec </dev/null

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_TAG=e2e
# shellcheck source=common.sh
. "$here/common.sh" "${1:-}"
mkfakesysfs=$build/tests/e2e/mkfakesysfs
[ -x "$mkfakesysfs" ] || { say "FAILED: $mkfakesysfs is not built (build with examples and tests)"; exit 1; }

# ------------------------------------------------------------ prepare
e2e_prepare

# ------------------------------------------------------- the harness
# Sockets need short paths: the work directory is under /tmp.
W=$(mktemp -d "${TMPDIR:-/tmp}/vpwr-e2e.XXXXXX") || exit 1
declare -A hostd_pid=()
qemu_pid=
guest_alive() { [ -z "$qemu_pid" ] || kill -0 "$qemu_pid" 2>/dev/null; }

cleanup() {
	local p
	# QEMU runs under timeout(1), which passes SIGTERM on to it.
	for p in "${hostd_pid[@]}" $qemu_pid; do
		kill -TERM "$p" 2>/dev/null
	done
	sleep 0.5
	for p in "${hostd_pid[@]}" $qemu_pid; do
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	if [ "$failures" -eq 0 ] && [ "${VPWR_E2E_KEEP:-0}" != 1 ]; then
		rm -rf "$W"
	else
		say "logs kept in $W"
	fi
}
trap cleanup EXIT
trap 'say "interrupted"; failures=$((failures + 1)); exit 1' INT TERM

# A host daemon, NAME.log in the work directory.
start_hostd() { # NAME ARGS...
	local name=$1
	shift
	: >"$W/$name.log"
	# timeout(1) passes our SIGTERM on; it also ends a daemon this
	# script could not (killed itself with SIGKILL).
	timeout -k 5 "$((boot_timeout * 4))" "$hostd" --foreground "$@" >>"$W/$name.log" 2>&1 &
	hostd_pid[$name]=$!
	check "$name: vpwr-hostd started ($*)" \
		wait_for "$W/$name.log" 'listening on|connecting to'
}

# stop_hostd NAME: SIGTERM; it must restore, say so and exit 0 in time.
stop_hostd() {
	local name=$1 pid=${hostd_pid[$1]} i=0 rc
	kill -TERM "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		fail "$name: vpwr-hostd still running 10 s after SIGTERM"
	fi
	wait "$pid"
	rc=$?
	unset "hostd_pid[$name]"
	check "$name: vpwr-hostd exited 0 after SIGTERM (exit $rc)" [ "$rc" -eq 0 ]
	check "$name: vpwr-hostd restored every CPU" \
		grep -q 'restoring every CPU and exiting' "$W/$name.log"
}

# A guest: NAME.console is its console, NAME.ctl.in its control port.
# MODE: "listen" (vpwr-hostd listens, QEMU connects) or "connect" (QEMU
# listens, vpwr-hostd connects) on the socket SOCK.
start_qemu() { # NAME SCENARIO MODE SOCK
	local name=$1 scenario=$2 mode=$3 sock=$4 chardev
	if [ "$mode" = listen ]; then
		chardev=socket,id=c0,path=$sock,server=off,reconnect=1
	else
		chardev=socket,id=c0,path=$sock,server=on,wait=off
	fi
	mkfifo "$W/$name.ctl.in" "$W/$name.ctl.out" || return 1
	qemu_t0=$SECONDS
	timeout -k 5 "$boot_timeout" qemu-system-x86_64 \
		-name "$name,debug-threads=on" -accel tcg,thread=multi -cpu max \
		-m 256 -smp 2 -nographic -nodefaults -no-reboot \
		-serial "file:$W/$name.console" \
		-kernel "$kernel/vmlinuz" -initrd "$e2e/initrd.gz" \
		-append "console=ttyS0 panic=-1 quiet vpwr.e2e=$scenario vpwr.ports=virtio.serial.port.poweragent.0,e2e.control" \
		-device virtio-serial-pci \
		-chardev "$chardev" \
		-device virtserialport,chardev=c0,name=virtio.serial.port.poweragent.0 \
		-chardev "pipe,id=ctl,path=$W/$name.ctl" \
		-device virtserialport,chardev=ctl,name=e2e.control \
		>"$W/$name.qemu.log" 2>&1 &
	qemu_pid=$!
	qemu_name=$name
	guest_ended=
}

# go TOKEN: let the guest's pause TOKEN pass (after it reached it).
go() {
	if ! wait_for "$W/$qemu_name.console" "^E2E-PAUSE $1"; then
		fail "$qemu_name: the guest never reached pause $1"
		return 1
	fi
	timeout 10 sh -c 'echo "$1" >"$2"' - "$1" "$W/$qemu_name.ctl.in" ||
		fail "$qemu_name: cannot write to the control port"
}

# end_qemu: wait for the guest to power off; judge its markers: every step
# in WANT_OK is E2E-OK, nothing is E2E-FAIL, the scenario reached its end.
end_qemu() { # WANT_OK...
	local name=$qemu_name c=$W/$qemu_name.console i=0 s
	while kill -0 "$qemu_pid" 2>/dev/null && [ $i -lt $((boot_timeout * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	wait "$qemu_pid"
	[ $? -eq 124 ] && fail "$name: QEMU killed after ${boot_timeout}s"
	qemu_pid=
	guest_ended=1
	say "$name: guest ran $((SECONDS - qemu_t0))s"
	check "$name: the guest booted and saw its ports" \
		has_re "$c" '^E2E-READY .* ports: (e2e.control virtio.serial.port.poweragent.0|virtio.serial.port.poweragent.0 e2e.control) '
	for s in "$@"; do
		check "$name: step $s passed in the guest" has_re "$c" "^E2E-OK $s\$"
	done
	check "$name: no step failed in the guest" eval '! has_re "$c" "^E2E-FAIL"'
	check "$name: the scenario ran to its end" has_re "$c" '^E2E-END '
	check "$name: the guest powered off" has_re "$c" 'reboot: Power down'
}

# sysfs helpers: the fake tree is $W/sys.
sys() { cat "$W/sys/devices/system/cpu/$1" 2>/dev/null || echo "(missing)"; }
expect_sys() { # REL=VALUE...
	local kv got
	for kv in "$@"; do
		got=$(sys "${kv%%=*}")
		check "sysfs ${kv%%=*} = ${kv#*=} (got $got)" [ "$got" = "${kv#*=}" ]
	done
}
# Every file as rel=content.  scaling_setspeed shows "<unsupported>" under
# any governor but userspace in a real kernel; in a tree of plain files it
# keeps the last value written, so where it starts that way (the files
# listed in sys.skip) it is not compared.
snapshot() {
	(cd "$W/sys/devices/system/cpu" && find . -type f | sort | while read -r f; do
		if grep -qxF -- "$f" "$W/sys.skip"; then
			printf '%s=(not compared)\n' "$f"
		else
			printf '%s=%s\n' "$f" "$(cat "$f")"
		fi
	done)
}
expect_restored() { # WHEN
	snapshot >"$W/sys.now"
	if diff -u "$W/sys.before" "$W/sys.now" >"$W/sys.diff"; then
		ok "sysfs tree as it was before ($1)"
	else
		fail "sysfs tree not restored ($1):"
		cat "$W/sys.diff"
	fi
}

# Dump what explains a failure.
report() {
	local f
	for f in "$W"/*.console; do
		[ -e "$f" ] || continue
		say "---- ${f##*/} (guest console)"
		text "$f" | grep -v '^\[ *[0-9.]*\] ' | tail -n 80
	done
	for f in "$W"/hostd-*.log "$W"/*.qemu.log; do
		[ -s "$f" ] || continue
		say "---- ${f##*/}"
		tail -n 60 "$f"
	done
}

# -------------------------------------------------------- 1: sim
cat >"$W/pins.json" <<'EOF'
{"domains": {"vm0": {"vcpus": ["0", "1", "2", "3"]}}}
EOF
say "boot 1: sim backend, vpwr-hostd listening"
start_qemu sim sim listen "$W/sim.sock"
C=$W/sim.console
# The port with nobody on the host side, then with a daemon, then while
# that daemon is replaced (vportprobe prints the system calls' results).
check "probe: the guest looked at the port with no host daemon" \
	wait_for "$C" '^E2E-PAUSE probe-up'
start_hostd hostd-probe -r "static:$W/pins.json" -b sim \
	-c "vm0=virtio-serial-host:$W/sim.sock"
check "probe: QEMU connected to vpwr-hostd" \
	wait_for "$W/hostd-probe.log" '^\[vm0\] channel [0-9]+ connected'
go probe-up
check "probe: the guest looked at the port with a host daemon, and watches it" \
	wait_for "$C" '^vportprobe: read\(64\)' 3
stop_hostd hostd-probe
start_hostd hostd-sim1 -r "static:$W/pins.json" -b sim \
	-c "vm0=virtio-serial-host:$W/sim.sock"
H=$W/hostd-sim1.log
check "sim: QEMU connected to the next vpwr-hostd" wait_for "$H" '^\[vm0\] channel [0-9]+ connected'
go probe-watch
check "probe: done" wait_for "$C" '^E2E-(OK|FAIL) probe'
# What libvpwr's virtio-serial transport relies on.
text "$C" | sed -n '/^E2E-RUN probe/,/^E2E-.* probe$/p' | grep '^vportprobe' >"$W/probe.txt"
check "probe: host away: poll says POLLIN|POLLHUP (not POLLOUT)" \
	has_re "$W/probe.txt" '^vportprobe: revents = POLLIN\|POLLHUP$'
check "probe: host away: read() returns 0" has "$W/probe.txt" 'vportprobe: read(64) = 0'
check "probe: host away: write() fails with EAGAIN" \
	has "$W/probe.txt" 'vportprobe: write(1) = -1 EAGAIN'
check "probe: host there: poll says POLLOUT only" \
	has_re "$W/probe.txt" '^vportprobe: revents = POLLOUT$'
check "probe: host there: read() fails with EAGAIN" \
	has "$W/probe.txt" 'vportprobe: read(64) = -1 EAGAIN'
check "probe: the port saw the daemon leave and a new one come" \
	has "$W/probe.txt" 'vportprobe: watched' &&
	has "$W/probe.txt" 'host left and came back'
# Steps before the pause: caps 3 requests, auto 1, refused-vcpu 1,
# refused-freq 1, main 13.
if check "sim: 19 requests answered before the first pause" wait_for "$H" '^\[vm0\] (ok:|REFUSED) ' 19; then
	expect_pcpu "$H" 0 "1000 1000-1000 on"  # min, up
	expect_pcpu "$H" 1 "2200 2200-2200 on"  # max (3000 turbo), down, down
	expect_pcpu "$H" 2 "1600 1600-1600 on"  # 1700000 kHz: the entry below
	expect_pcpu "$H" 3 "2000 1200-2000 off" # range, turbo off
fi
go sim-a
if check "sim: release, a WORKLOAD policy and a query" wait_for "$H" '^\[vm0\] (ok:|REFUSED) ' 22; then
	for c in 0 1 2 3; do expect_pcpu "$H" $c "1600 1600-1600 on"; done  # medium
fi
go sim-b
# The restart step: scale 0 max, query; pause.
if check "sim: the restart step's first requests" wait_for "$H" '^\[vm0\] (ok:|REFUSED) ' 24; then
	expect_pcpu "$H" 0 "3000 3000-3000 on"
	# The process that set the WORKLOAD policy has exited, but over
	# virtio-serial the host cannot tell (QEMU's socket stays connected
	# whether or not a guest process has the port open): the policy
	# still holds pCPU 0 at 1600 MHz when the next process asks.
	expect_line "$H" "pCPU 0: 1600 -> 3000 MHz (limits 3000-3000 MHz, turbo on, set for vm0)"
	check "sim: one host channel while guest processes came and went" \
		[ "$(count "$H" '^\[vm0\] channel [0-9]+ (connected|closed)')" -eq 1 ]
fi
check "sim: the guest holds a request at pause sim-restart" \
	wait_for "$C" '^E2E-PAUSE sim-restart'
stop_hostd hostd-sim1
for c in 0 1 2 3; do expect_pcpu "$H" $c "2400 restored"; done
start_hostd hostd-sim2 -r "static:$W/pins.json" -b sim \
	-c "vm0=virtio-serial-host:$W/sim.sock"
H=$W/hostd-sim2.log
check "sim: QEMU reconnected to the new vpwr-hostd" \
	wait_for "$H" '^\[vm0\] channel [0-9]+ connected'
go sim-restart
if check "sim: the guest's next request reached the new daemon" \
	wait_for "$H" '^\[vm0\] (ok:|REFUSED) ' 2; then
	expect_pcpu "$H" 0 "800 800-800 on"
fi
end_qemu probe caps auto refused-vcpu refused-freq main restart vsock
check "sim: vpwr-hostd saw the VM go" wait_for "$H" '^\[vm0\] channel [0-9]+ closed'
expect_pcpu "$H" 0 "2400 restored"

check "sim.console: reply to hello: version 1, 4 vCPUs" \
	has_re "$C" '^  -> reply hello seq=[0-9]+ status=0 version=1 caps=0x[0-9a-f]+ nr_vcpus=4'
expect_reply "$C" "reply query_freqs seq=3 vcpu=0 status=0 cur=2400000kHz freqs=10(800000-3000000kHz)"
expect_reply "$C" "-> REFUSED reply scale seq=1 vcpu=4 status=-4004"
expect_reply "$C" "-> REFUSED reply set_freq seq=1 vcpu=0 status=-"
expect_reply "$C" "reply set_freq seq=6 vcpu=2 status=0 cur=1600000kHz limits=1600000-1600000kHz"
expect_reply "$C" "reply query_state seq=12 vcpu=3 status=0 cur=2000000kHz limits=1200000-2000000kHz turbo=0"
expect_reply "$C" "reply policy_set seq=15 status=0"
expect_reply "$C" "reply query_state seq=16 vcpu=0 status=0 cur=1600000kHz limits=1600000-1600000kHz"
# refused-vcpu, refused-freq, and in the vsock step one more vCPU 4.
check "sim: three refusals in all, the expected ones" [ "$(count "$C" '^ *-> REFUSED')" -eq 3 ]
check "vsock: vpwr-hostd in the guest bound the vsock peer (CID 1) to vm0" \
	has "$C" "vsock-hostd| [vm0] channel"

# ----------------------------------------------------- 2: reboot
say "boot 2: the guest again, the same vpwr-hostd"
start_qemu sim-reboot reboot listen "$W/sim.sock"
check "sim-reboot: QEMU connected again" wait_for "$H" '^\[vm0\] channel [0-9]+ connected' 2
# The guest powers off right after: the change, not the last state.
check "sim-reboot: the rebooted guest's requests" wait_for "$H" '^\[vm0\] (ok:|REFUSED) ' 5 &&
	expect_line "$H" "pCPU 1: 2400 -> 800 MHz (limits 800-800 MHz, turbo on, set for vm0)"
end_qemu reattach
check "sim-reboot: vpwr-hostd saw the VM go again" \
	wait_for "$H" '^\[vm0\] channel [0-9]+ closed' 2
expect_pcpu "$H" 1 "2400 restored"
stop_hostd hostd-sim2

# ------------------------------------------------------- 3: acpi
say "boot 3: acpi-cpufreq on a fake sysfs tree, vpwr-hostd connecting"
if ! "$mkfakesysfs" acpi-cpufreq "$W/sys"; then
	fail "mkfakesysfs acpi-cpufreq"
fi
(cd "$W/sys/devices/system/cpu" &&
	grep -lx '<unsupported>' ./cpu*/cpufreq/scaling_setspeed) >"$W/sys.skip"
snapshot >"$W/sys.before"
start_hostd hostd-acpi1 -r "static:$W/pins.json" -b acpi-cpufreq \
	--sysfs-root "$W/sys" -C "vm0=virtio-serial-host:$W/acpi.sock"
start_qemu acpi acpi connect "$W/acpi.sock"
C=$W/acpi.console H=$W/hostd-acpi1.log
check "acpi: vpwr-hostd connected to QEMU" wait_for "$H" '^\[vm0\] channel [0-9]+ connected'
# refused-offline 1 request, main 10.
if check "acpi: 11 requests answered before the first pause" wait_for "$H" '^\[vm0\] (ok:|REFUSED) ' 11; then
	expect_sys cpu0/cpufreq/scaling_governor=userspace \
		cpu0/cpufreq/scaling_min_freq=1200000 cpu0/cpufreq/scaling_max_freq=1200000 \
		cpu0/cpufreq/scaling_setspeed=1200000 \
		cpu1/cpufreq/scaling_governor=userspace \
		cpu1/cpufreq/scaling_min_freq=2000000 cpu1/cpufreq/scaling_max_freq=2000000 \
		cpu1/cpufreq/scaling_setspeed=2000000 \
		cpu2/cpufreq/scaling_governor=userspace \
		cpu2/cpufreq/scaling_min_freq=1200000 cpu2/cpufreq/scaling_max_freq=2000000 \
		cpu2/cpufreq/scaling_setspeed=2000000 \
		cpufreq/boost=0 cpu3/online=0
fi
go acpi-a
if check "acpi: release, a WORKLOAD policy and a query" wait_for "$H" '^\[vm0\] (ok:|REFUSED) ' 14; then
	for c in 0 1 2; do
		expect_sys cpu$c/cpufreq/scaling_governor=userspace \
			cpu$c/cpufreq/scaling_min_freq=1600000 \
			cpu$c/cpufreq/scaling_max_freq=1600000 \
			cpu$c/cpufreq/scaling_setspeed=1600000
	done
	expect_sys cpufreq/boost=1
fi
# The daemon goes (and restores) while the guest holds its requests; the
# guest sends its next request with nobody there; a new daemon connects a
# second later and must get it.
check "acpi: the guest holds its requests at pause acpi-b" \
	wait_for "$C" '^E2E-PAUSE acpi-b'
stop_hostd hostd-acpi1
expect_restored "after vpwr-hostd stopped"
go acpi-b
sleep 1
start_hostd hostd-acpi2 -r "static:$W/pins.json" -b acpi-cpufreq \
	--sysfs-root "$W/sys" -C "vm0=virtio-serial-host:$W/acpi.sock"
H=$W/hostd-acpi2.log
check "acpi: the new vpwr-hostd connected" wait_for "$H" '^\[vm0\] channel [0-9]+ connected'
if check "acpi: the request sent while no daemon was there got served" \
	wait_for "$H" '^\[vm0\] (ok:|REFUSED) ' 2; then
	expect_sys cpu0/cpufreq/scaling_governor=userspace \
		cpu0/cpufreq/scaling_min_freq=2401000 cpu0/cpufreq/scaling_max_freq=2401000 \
		cpu0/cpufreq/scaling_setspeed=2401000
fi
go acpi-c
end_qemu refused-offline main
check "acpi: vpwr-hostd saw the VM go" wait_for "$H" '^\[vm0\] channel [0-9]+ closed'
expect_restored "after the VM went away"
expect_reply "$C" "-> REFUSED reply set_range seq=1 vcpu=3 status=-19"
expect_reply "$C" "reply set_freq seq=6 vcpu=2 status=0 cur=1600000kHz limits=1600000-1600000kHz"
expect_reply "$C" "reply query_state seq=10 vcpu=2 status=0 cur=1600000kHz limits=1200000-2000000kHz turbo=0"
check "acpi: one refusal in all, the expected one" [ "$(count "$C" '^ *-> REFUSED')" -eq 1 ]

# ----------------------------------------------------- 4: reboot
say "boot 4: the guest again, vpwr-hostd reconnecting to it"
start_qemu acpi-reboot reboot connect "$W/acpi.sock"
check "acpi-reboot: vpwr-hostd reconnected to the new QEMU" \
	wait_for "$H" '^\[vm0\] channel [0-9]+ connected' 2
# scaling_cur_freq stays at 1600 MHz: no kernel moves it.
check "acpi-reboot: the rebooted guest's requests" wait_for "$H" '^\[vm0\] (ok:|REFUSED) ' 5 &&
	expect_line "$H" "pCPU 1: 1600 -> 1600 MHz (limits 800-800 MHz, turbo on, set for vm0)"
end_qemu reattach
check "acpi-reboot: vpwr-hostd saw the VM go again" \
	wait_for "$H" '^\[vm0\] channel [0-9]+ closed' 2
stop_hostd hostd-acpi2
expect_restored "at the end"

# ------------------------------------------------------ 5: stale
# The guest client tells a late reply from its own (each handle numbers
# its requests from a random start, and the type must match).
if [ "${VPWR_E2E_STALE:-1}" = 1 ]; then
	say "boot 5: a late reply and the next process on the port"
	start_hostd hostd-stale -r "static:$W/pins.json" -b sim \
		-c "vm0=virtio-serial-host:$W/stale.sock"
	start_qemu stale stale listen "$W/stale.sock"
	C=$W/stale.console H=$W/hostd-stale.log
	real=$(ps -o pid= --ppid "${hostd_pid[hostd-stale]}" | tr -d ' ')
	if wait_for "$C" '^E2E-PAUSE stale-stop'; then
		kill -STOP "$real"
		go stale-stop
		wait_for "$C" '^E2E-PAUSE stale-cont'
		kill -CONT "$real"
		wait_for "$H" 'asks:  scale seq=[0-9]+ vcpu=1 op=max'
		sleep 0.5
		go stale-cont
	fi
	end_qemu stale-timeout stale-next stale-after
	text "$C" | sed -n '/^E2E-RUN stale-next/,/^E2E-[A-Z]* stale-next/p' >"$W/stale-next.txt"
	text "$C" | sed -n '/^E2E-RUN stale-after/,/^E2E-[A-Z]* stale-after/p' >"$W/stale-after.txt"
	check "stale: the next process got the reply to its own request" \
		has_re "$W/stale-next.txt" '^  -> reply scale seq=[0-9]+ vcpu=0 status=0 cur=800000kHz'
	check "stale: and the one after it too" \
		has_re "$W/stale-after.txt" '^  -> reply query_state seq=[0-9]+ vcpu=0 status=0 cur=800000kHz'
	stop_hostd hostd-stale
fi

# ------------------------------------------------------------ verdict
if [ "$failures" -ne 0 ]; then
	report
	say "FAILED: $failures check(s) failed, $(elapsed)"
	exit 1
fi
say "PASSED in $(elapsed)"
exit 0
