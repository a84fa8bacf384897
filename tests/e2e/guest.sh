# The guest half of the end-to-end test (busybox sh), sourced by /init.
# tests/e2e/run.sh holds the host half: it boots the guest with
# vpwr.e2e=SCENARIO, follows the console, checks the host side at each
# pause and lets the guest go on through the control port.
#
# Markers, one a line on the console:
#   E2E-RUN NAME              a step starts
#   E2E-OK NAME               it ended as it should
#   E2E-FAIL NAME WHY         it did not
#   E2E-PAUSE TOKEN           waiting for the host's TOKEN on the control port
# A step is one vpwr-guest process: its exit status must be the expected one
# (0 every request succeeded, 1 the host refused one, 2 usage/connection)
# and its output (each request and its reply) is on the console for the
# host to check.  A "hold" is a vpwr-guest whose `wait` commands keep its
# requests in place until the host, having checked the CPUs, says go.

PORT=/dev/virtio-ports/virtio.serial.port.poweragent.0
URI=virtio-serial:$PORT
CTL=/dev/virtio-ports/e2e.control
TIMEOUT_MS=5000

verdict() { # NAME RC WANT
	if [ "$2" = "$3" ]; then
		echo "E2E-OK $1"
	else
		echo "E2E-FAIL $1 rc=$2 want=$3"
	fi
}

# one NAME WANT URI COMMAND...: one vpwr-guest run, exit status WANT.
one() {
	local name=$1 want=$2 rc
	shift 2
	echo "E2E-RUN $name"
	vpwr-guest -t "$TIMEOUT_MS" "$@" 2>&1
	rc=$?
	verdict "$name" "$rc" "$want"
}

# ctl_wait TOKEN: wait (at most 120 s) for the line TOKEN on the control
# port.  Lines that are not TOKEN are ignored.  The port reads end of file
# while the host side of it is not open: retry.
ctl_wait() {
	local line i=0
	echo "E2E-PAUSE $1"
	while [ $i -lt 1200 ]; do
		if read -r -t 1 line <"$CTL" 2>/dev/null; then
			[ "$line" = "$1" ] && return 0
		else
			sleep 0.1
		fi
		i=$((i + 1))
	done
	echo "E2E-FAIL pause-$1 no word from the host"
	return 1
}

# hold_start NAME WANT URI COMMAND...: vpwr-guest in the background, its
# `wait` commands reading /tmp/NAME.in; hold_go TOKEN lets one `wait` pass
# once the host sent TOKEN; hold_end waits for the process and judges it.
hold_start() {
	hold_name=$1 hold_want=$2
	shift 2
	mkfifo "/tmp/$hold_name.in"
	# A writer of our own: vpwr-guest's open of the FIFO does not block,
	# and it never sees end of file before we close this.
	exec 3<>"/tmp/$hold_name.in"
	echo "E2E-RUN $hold_name"
	vpwr-guest -t "$TIMEOUT_MS" "$@" <"/tmp/$hold_name.in" 2>&1 &
	hold_pid=$!
}

hold_go() {
	if ctl_wait "$1"; then
		echo go >&3
	else
		kill "$hold_pid" 2>/dev/null
	fi
}

hold_end() {
	local rc
	wait "$hold_pid"
	rc=$?
	exec 3>&-
	rm -f "/tmp/$hold_name.in"
	verdict "$hold_name" "$rc" "$hold_want"
}

# ------------------------------------------------------------ scenarios
# The host side of each is in run.sh, step for step; the numbers of
# requests between pauses matter to it.

# What the port itself does (vportprobe.c): with no host daemon yet, with
# one, and while the host restarts it.
probe() {
	local pid
	echo "E2E-RUN probe"
	vportprobe "$PORT"              # run.sh starts no daemon before this
	ctl_wait probe-up || return
	vportprobe "$PORT"              # connected
	vportprobe "$PORT" 20000 &      # the host restarts its daemon
	pid=$!
	ctl_wait probe-watch
	wait $pid
	verdict probe $? 0
}

# Boot 1: the sim backend, vpwr-hostd listening, QEMU connecting.
scenario_sim() {
	probe
	one caps 0 "$URI" hello query-caps query-freqs 0
	one auto 0 virtio-serial:auto query-state 1
	one refused-vcpu 1 "$URI" scale 4 max
	one refused-freq 1 "$URI" set-freq 0 9000000
	# 13 requests, pause, release + policy + query, pause, end.
	hold_start main 0 "$URI" \
		scale 0 min scale 0 up \
		scale 1 max scale 1 down scale 1 down \
		set-freq 2 1700000 \
		set-range 3 1200000 2000000 turbo 3 off \
		query-state 0 query-state 1 query-state 2 query-state 3 query-caps \
		wait release workload all medium query-state 0 wait
	hold_go sim-a
	hold_go sim-b
	hold_end
	# The host restarts vpwr-hostd at the pause; QEMU reconnects.
	hold_start restart 0 -v "$URI" scale 0 max query-state 0 \
		wait scale 0 min query-state 0
	hold_go sim-restart
	hold_end
	scenario_vsock
}

# Boot 2 (and 4): the same host daemon, a new boot of the guest.
scenario_reboot() {
	one reattach 0 "$URI" hello scale 1 min query-state 1
}

# Boot 3: a fake acpi-cpufreq tree (pCPU 3 offline), vpwr-hostd connecting
# to QEMU's listening socket.
scenario_acpi() {
	one refused-offline 1 "$URI" set-range 3 1200000 2000000
	# 10 requests, pause, 3, pause (the host restarts its daemon: the next
	# request is sent while no host is there), 2, pause.
	TIMEOUT_MS=30000
	hold_start main 0 -v "$URI" \
		scale 0 min scale 0 up \
		scale 1 max scale 1 down scale 1 down \
		set-freq 2 1700000 set-range 2 1200000 2000000 \
		turbo 0 off query-state 0 query-state 2 \
		wait release workload 0-2 medium query-state 0 \
		wait scale 0 max query-state 0 wait
	hold_go acpi-a
	hold_go acpi-b
	hold_go acpi-c
	hold_end
	TIMEOUT_MS=5000
}

# In the guest: vpwr-hostd and vpwr-guest over AF_VSOCK (vsock_loopback,
# CID 1); the domain is found by the peer's CID (guest-pins-vsock.json).
scenario_vsock() {
	local log=/tmp/vsock-hostd.log i=0 ok=1
	echo "E2E-RUN vsock"
	vpwr-hostd --foreground -r static:/e2e/guest-pins-vsock.json \
		--channel =vsock-listen:5555 >"$log" 2>&1 &
	local hpid=$!
	while ! grep -q listening "$log" && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	vpwr-guest -t "$TIMEOUT_MS" vsock:1:5555 hello scale 0 min \
		set-freq 1 1600000 query-state 1 2>&1 || ok=0
	vpwr-guest -t "$TIMEOUT_MS" vsock:1:5555 scale 4 max 2>&1
	[ $? = 1 ] || ok=0
	kill -TERM "$hpid"
	wait "$hpid" || ok=0
	sed 's/^/vsock-hostd| /' "$log"
	grep -q '^\[vm0\] channel [0-9]* connected' "$log" || ok=0
	grep -q 'pCPU 0: 2400 -> 800 MHz (limits 800-800 MHz, turbo on, set for vm0)' "$log" || ok=0
	grep -q 'pCPU 1: 2400 -> 1600 MHz (limits 1600-1600 MHz, turbo on, set for vm0)' "$log" || ok=0
	grep -q 'pCPU 0: 800 -> 2400 MHz (restored)' "$log" || ok=0
	grep -qE 'REFUSED reply scale seq=[0-9]+ vcpu=4 status=-4004' "$log" || ok=0
	if [ $ok = 1 ]; then
		echo "E2E-OK vsock"
	else
		echo "E2E-FAIL vsock (see vsock-hostd| lines)"
	fi
}

# Fifth boot (run.sh; VPWR_E2E_STALE=0 skips it): a request times out while the
# host daemon is stopped and its process exits; the late reply waits in
# QEMU while nobody has the port open and reaches the next process to open
# it.  That process's own request must get its own reply.
scenario_stale() {
	ctl_wait stale-stop || return
	TIMEOUT_MS=1000
	one stale-timeout 2 "$URI" scale 1 max
	TIMEOUT_MS=5000
	ctl_wait stale-cont || return
	one stale-next 0 "$URI" scale 0 min
	one stale-after 0 "$URI" query-state 0
}

# Under libvirtd (libvirt.sh): 2 vCPUs pinned to pCPUs 0 and 1, the port
# found by vpwr-hostd in the domain's XML.  At the first pause the host
# re-pins vCPU 0 to pCPU 1, at the second vCPU 1 to pCPU 0 (a swap): the
# requests after each must land where the vCPU now runs.  Then a process
# sets a request and exits (closes the port): the host, told by libvirt
# (QEMU's VSERPORT_CHANGE), must drop it while the port stays connected.
scenario_libvirt() {
	one lv-caps 0 "$URI" hello query-caps
	# 4 requests, pause, 2, pause, 2.
	hold_start lv-main 0 "$URI" \
		workload 1 medium scale 0 min query-state 0 query-state 1 \
		wait scale 0 max query-state 0 \
		wait scale 0 min query-state 1
	hold_go lv-a
	hold_go lv-b
	hold_end
	# The host has seen lv-main close the port; 1 request, exit.
	ctl_wait lv-gone || return
	one lv-gone 0 "$URI" scale 0 max
	ctl_wait lv-end
}

run_scenario() {
	case "$1" in
	sim | reboot | acpi | vsock | stale | libvirt) "scenario_$1" ;;
	*) echo "E2E-FAIL scenario unknown: '$1'" ;;
	esac
}
