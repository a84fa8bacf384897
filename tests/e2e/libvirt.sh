#!/usr/bin/env bash
# The end-to-end test under a real libvirtd: vpwr-hostd finds a guest and
# its power-agent channel through libvirt, and follows it when it is
# re-pinned, stopped and started.
#
#   bash tests/e2e/libvirt.sh [BUILD_DIR]       # default build/; as root
#
# BUILD_DIR is a build with the examples and libvirt (its vpwr-hostd and
# vpwr-ctl).  The script
#   - prepares what run.sh prepares (common.sh: the packages of
#     VPWR_E2E_DEPS, libvirt's among them, the kernel, the static guest
#     tools, the initramfs),
#   - runs in a private mount namespace of its own (unshare -m) where
#     /etc/libvirt, /run/libvirt, /var/lib/libvirt and /var/log/libvirt are
#     directories of the work directory, /var/cache/libvirt is
#     BUILD_DIR/e2e/libvirt-cache (QEMU's probed capabilities, kept between
#     runs) and /etc/passwd, /etc/group have the libvirt-qemu user libvirtd
#     insists on: nothing of the machine's own libvirt is read or written,
#     and a second libvirtd elsewhere on the machine does not matter,
#   - starts libvirtd (qemu:///system) with the workarounds this machine
#     needs (qemu.conf: root, no namespaces, no cgroups, no security
#     driver, stdio to a file), defines a domain (TCG, direct kernel boot,
#     2 vCPUs pinned to pCPUs 0 and 1, a power-agent channel with QEMU
#     listening, a control port), starts vpwr-hostd with
#     --resolver libvirt:qemu:///system --auto-channels on the sim backend
#     (2 pCPUs), and then
#       boot 1: starts the domain: vpwr-hostd attaches its channel; the
#               guest's requests and a WORKLOAD policy land on the pinned
#               pCPUs; `virsh vcpupin --live` moves vCPU 0 to pCPU 1 (the
#               old pCPU is restored, the next request lands on pCPU 1),
#               then vCPU 1 to pCPU 0 (its policy follows it); the
#               guest's process exits, closing its port (QEMU keeps the
#               socket; libvirt passes QEMU's VSERPORT_CHANGE, with
#               --port-events): its wishes go, the channel stays; another
#               process sets a request and exits: that goes too; the guest
#               powers off: vpwr-hostd detaches, every pCPU is restored;
#       boot 2: starts it again (the defined pinning again), and
#               `virsh destroy`s it while the guest holds its requests.
# The guest half is scenario_libvirt in guest.sh.
#
# Exit status: 0 passed; 1 failed; 77 skipped: libvirtd, QEMU or the
# kernel cannot be had or run here, or not root -- unless CI=true, where
# that is a failure.  Logs are printed and kept when anything fails;
# VPWR_E2E_KEEP=1 keeps them always.
set -uo pipefail
exec </dev/null

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_TAG=e2e-libvirt
# shellcheck source=common.sh
. "$here/common.sh" "${1:-}"
vpwr_ctl=$build/examples/vpwr-ctl
dom=vpwr-e2e
uri=qemu:///system

# ------------------------------------------------------ the namespace
if [ "${VPWR_E2E_LIBVIRT_NS:-}" != 1 ]; then
	[ "$(id -u)" -eq 0 ] || cannot "libvirtd with qemu:///system needs root"
	command -v unshare >/dev/null || cannot "no unshare(1)"
	if ! err=$(unshare --mount --propagation private true 2>&1); then
		cannot "no private mount namespace (unshare --mount: $err)"
	fi
	export VPWR_E2E_LIBVIRT_NS=1
	exec unshare --mount --propagation private -- bash "${BASH_SOURCE[0]}" "$@"
	cannot "exec unshare failed"
fi

for f in "$hostd" "$vpwr_ctl"; do
	[ -x "$f" ] || { say "FAILED: $f is not built (build with examples)"; exit 1; }
done
if [ "$(ldd "$hostd" | grep -c 'libvirt\.so')" -eq 0 ]; then
	say "FAILED: $hostd is built without libvirt (-DVPWR_WITH_LIBVIRT=ON)"
	exit 1
fi

# ------------------------------------------------------------ prepare
e2e_prepare
for t in libvirtd virsh qemu-system-x86_64; do
	command -v "$t" >/dev/null ||
		cannot "$t not found (libvirt-daemon, libvirt-daemon-driver-qemu, libvirt-clients of VPWR_E2E_DEPS)"
done

# Sockets need short paths: the work directory is under /tmp.
W=$(mktemp -d "${TMPDIR:-/tmp}/vpwr-e2e-lv.XXXXXX") || exit 1
H=$W/hostd.log C=$W/lv.console
libvirtd_pid= hostd_pid= qemu_pid=
lv_dirs="/etc/libvirt /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt"
mounted=()

guest_alive() { [ -z "$qemu_pid" ] || kill -0 "$qemu_pid" 2>/dev/null; }

# virsh, logged to virsh.log, under a time limit.
vsh() {
	echo "+ virsh $*" >>"$W/virsh.log"
	timeout -k 5 30 virsh -q -c "$uri" "$@" 2>>"$W/virsh.log"
}

# Dump what explains a failure.
report() {
	say "---- lv.console (guest console, kernel lines left out)"
	text "$C" | grep -v '^\[ *[0-9.]*\] ' | tail -n 80
	say "---- hostd.log"
	grep -v 'again in [0-9]* ms$' "$H" 2>/dev/null | tail -n 80
	say "---- libvirtd.log"
	tail -n 40 "$W/libvirtd.log" 2>/dev/null
	say "---- /var/log/libvirt/qemu/$dom.log"
	tail -n 15 "$W/fs/var/log/libvirt/qemu/$dom.log" 2>/dev/null
	say "---- virsh.log"
	tail -n 30 "$W/virsh.log" 2>/dev/null
}

cleanup() {
	local p i m
	# libvirtd leaves a running QEMU running when it goes: destroy first.
	if [ -n "$libvirtd_pid" ] && kill -0 "$libvirtd_pid" 2>/dev/null; then
		timeout -k 2 15 virsh -q -c "$uri" destroy "$dom" >/dev/null 2>&1
	fi
	for p in $hostd_pid $libvirtd_pid; do kill -TERM "$p" 2>/dev/null; done
	for i in $(seq 50); do
		kill -0 $hostd_pid $libvirtd_pid 2>/dev/null || break
		sleep 0.1
	done
	[ -z "$qemu_pid" ] && [ -r "$W/fs/run/libvirt/qemu/$dom.pid" ] &&
		qemu_pid=$(cat "$W/fs/run/libvirt/qemu/$dom.pid")
	for p in $hostd_pid $libvirtd_pid $qemu_pid; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		umount "${mounted[i]}" 2>/dev/null
	done
	if [ "$failures" -eq 0 ] && [ "${VPWR_E2E_KEEP:-0}" != 1 ]; then
		rm -rf "$W"
	else
		say "logs kept in $W"
	fi
}
trap cleanup EXIT
trap 'say "interrupted"; failures=$((failures + 1)); exit 1' INT TERM

# bind SRC DST: SRC mounted on DST in this namespace (directories made
# where missing).
bind() {
	{ [ -e "$1" ] || mkdir -p "$1"; } && { [ -e "$2" ] || mkdir -p "$2"; } &&
		mount --bind "$1" "$2" || return 1
	mounted+=("$2")
}

# ------------------------------------------------- libvirtd's world
for d in $lv_dirs; do
	src=$W/fs$d
	[ "$d" = /var/cache/libvirt ] && src=$e2e/libvirt-cache
	bind "$src" "$d" || cannot "cannot bind-mount $src on $d"
done
# libvirtd resolves the user it was built for (libvirt-qemu) before it
# reads qemu.conf, and fails without it: add it to this namespace's view.
if ! getent passwd libvirt-qemu >/dev/null; then
	cp /etc/passwd "$W/passwd" && cp /etc/group "$W/group" &&
		echo 'libvirt-qemu:x:64055:64055:libvirt-qemu (e2e):/var/lib/libvirt:/usr/sbin/nologin' >>"$W/passwd" &&
		echo 'libvirt-qemu:x:64055:' >>"$W/group" &&
		bind "$W/passwd" /etc/passwd && bind "$W/group" /etc/group ||
		cannot "cannot give this namespace a libvirt-qemu user"
fi
# Only root reaches these sockets ($W is 0700): no authentication.
cat >/etc/libvirt/libvirtd.conf <<'EOF'
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:stderr"
EOF
# QEMU as root (no per-domain user), with no mount namespace, cgroups or
# security driver of libvirt's (this machine is a container), its stdio
# to a file (no virtlogd), and no chown or xattrs on the kernel and
# initramfs.
cat >/etc/libvirt/qemu.conf <<'EOF'
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
namespaces = [ ]
cgroup_controllers = [ ]
stdio_handler = "file"
EOF

say "libvirtd (work directory $W)"
t_lv=$SECONDS
timeout -k 5 $((boot_timeout * 2 + 60)) libvirtd -f /etc/libvirt/libvirtd.conf \
	-p "$W/libvirtd.pid" >"$W/libvirtd.log" 2>&1 &
libvirtd_pid=$!
up=0
for i in $(seq 120); do
	kill -0 "$libvirtd_pid" 2>/dev/null || break
	if timeout -k 2 10 virsh -q -c "$uri" version >"$W/virsh-version.txt" 2>&1; then
		up=1
		break
	fi
	sleep 0.5
done
if [ $up = 0 ]; then
	say "---- libvirtd.log"
	tail -n 40 "$W/libvirtd.log"
	say "---- virsh version"
	cat "$W/virsh-version.txt"
	failures=1 # keep the logs
	cannot "libvirtd did not answer on $uri within 60 s (above)"
fi
ok "libvirtd answers on $uri after $((SECONDS - t_lv))s ($(grep -i 'hypervisor' "$W/virsh-version.txt"))"

# ------------------------------------------------------- the domain
mkfifo "$W/lv.ctl.in" "$W/lv.ctl.out" || exit 1
cat >"$W/dom.xml" <<EOF
<domain type='qemu'>
  <name>$dom</name>
  <memory unit='MiB'>256</memory>
  <vcpu placement='static'>2</vcpu>
  <cputune>
    <vcpupin vcpu='0' cpuset='0'/>
    <vcpupin vcpu='1' cpuset='1'/>
  </cputune>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$kernel/vmlinuz</kernel>
    <initrd>$e2e/initrd.gz</initrd>
    <cmdline>console=ttyS0 panic=-1 quiet vpwr.e2e=libvirt vpwr.ports=virtio.serial.port.poweragent.0,e2e.control</cmdline>
  </os>
  <features><acpi/></features>
  <cpu mode='maximum'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>$(command -v qemu-system-x86_64)</emulator>
    <controller type='usb' model='none'/>
    <controller type='virtio-serial' index='0'/>
    <serial type='file'>
      <source path='$C'/>
      <target port='0'/>
    </serial>
    <channel type='unix'>
      <source mode='bind' path='$W/pa.sock'/>
      <target type='virtio' name='virtio.serial.port.poweragent.0'/>
    </channel>
    <channel type='pipe'>
      <source path='$W/lv.ctl'/>
      <target type='virtio' name='e2e.control'/>
    </channel>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
check "virsh define: $dom" vsh define "$W/dom.xml"

# --------------------------------------------------------- vpwr-hostd
: >"$H"
timeout -k 5 $((boot_timeout * 2 + 60)) "$hostd" --foreground -v -r "libvirt:$uri" --auto-channels \
	--port-events -b sim --sim-cpus 2 --control "$W/ctl.sock" >>"$H" 2>&1 &
hostd_pid=$!
check "vpwr-hostd started (libvirt:$uri, --auto-channels, --port-events, sim, 2 pCPUs)" \
	wait_for "$H" '^control socket '
check "vpwr-hostd: libvirt events on, the domain known" \
	has_re "$H" "libvirt: $uri: 1 domains, events on"
check "vpwr-hostd: port events on (VSERPORT_CHANGE on a read-write connection)" \
	has_re "$H" "libvirt: $uri: port events on"
ctl() { timeout -k 2 10 "$vpwr_ctl" -s "$W/ctl.sock" "$@"; }
ctl_json() { ctl --json "$@" >"$W/ctl.json" 2>&1; cat "$W/ctl.json"; }
# vcpu_pcpus N: the pCPUs of vCPU N as vpwr-hostd sees them.
vcpu_pcpus() {
	ctl_json domains | grep -o "\"vcpu\":$1,\"pcpus\":\"[^\"]*\"" |
		sed 's/.*"pcpus":"\(.*\)"/\1/'
}
expect_vcpu() { # N PCPUS WHEN
	local got
	got=$(vcpu_pcpus "$1")
	check "vpwr-ctl: vCPU $1 on pCPU $2 $3 (got '$got')" [ "$got" = "$2" ]
}
# QEMU listens on a bind-mode channel only while the domain runs.
ctl_json channels >/dev/null
check "vpwr-ctl channels: none while the domain is shut off" has "$W/ctl.json" '"channels":[]'

# The affinity libvirt gave QEMU's thread of vCPU N ("CPU N/TCG").
thread_cpus() {
	local t
	for t in /proc/"$qemu_pid"/task/*; do
		if [ "$(cat "$t/comm" 2>/dev/null)" = "CPU $1/TCG" ]; then
			awk '/^Cpus_allowed_list:/ { print $2 }' "$t/status"
			return
		fi
	done
	echo "(no thread 'CPU $1/TCG')"
}
expect_thread() { # N PCPUS
	local got
	got=$(thread_cpus "$1")
	check "QEMU's vCPU $1 thread runs on pCPU $2 (got '$got')" [ "$got" = "$2" ]
}

replies() { count "$H" "^\\[$dom\\] (ok:|REFUSED) "; }
wait_replies() { wait_for "$H" "^\\[$dom\\] (ok:|REFUSED) " "$1"; }

# start_domain: virsh start; QEMU's pid.
qemu_runs() { [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; }
start_domain() {
	guest_ended=
	t_boot=$SECONDS
	: >"$C"
	if ! vsh start "$dom" >/dev/null; then
		fail "virsh start $dom"
		return 1
	fi
	qemu_pid=$(cat "$W/fs/run/libvirt/qemu/$dom.pid" 2>/dev/null)
	check "virsh start $dom: QEMU runs (pid ${qemu_pid:-?})" qemu_runs
}

# wait_off: until libvirt reports the domain shut off (at most
# boot_timeout); state: what it says last ("shut off (REASON)").
wait_off() {
	local i
	for i in $(seq $((boot_timeout * 2))); do
		state=$(vsh domstate --reason "$dom")
		case $state in "shut off"*) break ;; esac
		sleep 0.5
	done
	guest_ended=1
	qemu_pid=
	say "guest ran $((SECONDS - t_boot))s"
}

# go TOKEN: let the guest's pause TOKEN pass (after it reached it).
go() {
	if ! wait_for "$C" "^E2E-PAUSE $1"; then
		fail "the guest never reached pause $1"
		return 1
	fi
	timeout 10 sh -c 'echo "$1" >"$2"' - "$1" "$W/lv.ctl.in" ||
		fail "cannot write to the control port"
}

# repin VCPU PCPU: virsh vcpupin --live.
repin() {
	check "virsh vcpupin $dom $1 $2 --live" vsh vcpupin "$dom" "$1" "$2" --live
	vsh vcpupin "$dom" --live >"$W/vcpupin.txt"
	check "virsh vcpupin: libvirt reports vCPU $1 on pCPU $2" \
		has_re "$W/vcpupin.txt" "^ *$1 +$2\$"
}

# ------------------------------------------------------------ boot 1
say "boot 1: start, requests, re-pin twice, the guest powers off"
start_domain
check "vpwr-hostd attached the domain's channel (QEMU listening)" \
	wait_for "$H" "domain $dom: connecting to $W/pa.sock \\(guest port virtio.serial.port.poweragent.0\\)"
check "vpwr-hostd connected to it" wait_for "$H" "^\\[$dom\\] channel [0-9]+ connected"
expect_thread 0 0
expect_thread 1 1
# lv-caps: 2 requests; lv-main: 4 before its first pause.
if check "6 requests answered before the first pause" wait_replies 6; then
	expect_pcpu "$H" 0 "800 800-800 on"   # scale 0 min
	expect_pcpu "$H" 1 "1600 1600-1600 on" # WORKLOAD medium on vCPU 1
	expect_line "$H" "pCPU 0: 2400 -> 800 MHz (limits 800-800 MHz, turbo on, set for $dom)"
	expect_line "$H" "pCPU 1: 2400 -> 1600 MHz (limits 1600-1600 MHz, turbo on, set for $dom)"
fi
expect_vcpu 0 0 "(the defined pinning)"
expect_vcpu 1 1 "(the defined pinning)"
# vCPU 0 to pCPU 1, beside vCPU 1: pCPU 0 is nobody's now.
repin 0 1
check "re-pin 0->1: vpwr-hostd restored pCPU 0 at once" \
	wait_for "$H" "pCPU 0: 800 -> 2400 MHz \\(restored\\)"
expect_pcpu "$H" 1 "1600 1600-1600 on" # vCPU 0's 800 under vCPU 1's 1600
expect_vcpu 0 1 "(after the live re-pin)"
expect_thread 0 1
go lv-a
if check "2 more requests" wait_replies 8; then
	expect_line "$H" "pCPU 1: 1600 -> 3000 MHz (limits 3000-3000 MHz, turbo on, set for $dom)"
	expect_pcpu "$H" 1 "3000 3000-3000 on"
	expect_pcpu "$H" 0 "2400 restored" # not touched by vCPU 0's request
fi
# vCPU 1 to pCPU 0: a swap; vCPU 1's WORKLOAD policy follows it.
repin 1 0
check "re-pin 1->0: the policy of vCPU 1 now holds pCPU 0" \
	wait_for "$H" "pCPU 0: 2400 -> 1600 MHz \\(limits 1600-1600 MHz, turbo on, set for $dom\\)"
expect_pcpu "$H" 1 "3000 3000-3000 on"
expect_vcpu 1 0 "(after the second re-pin)"
expect_thread 1 0
go lv-b
if check "2 more requests" wait_replies 10; then
	expect_line "$H" "pCPU 1: 3000 -> 800 MHz (limits 800-800 MHz, turbo on, set for $dom)"
fi
now_ms() { date +%s%3N; }
closed_re="domain $dom: guest closed port virtio.serial.port.poweragent.0"
# lv-main exits: the guest closes its port, QEMU keeps the socket.  Its
# wishes go (no grace), the channel stays.
check "lv-main ended in the guest" wait_for "$C" '^E2E-PAUSE lv-gone'
t_exit=$(now_ms)
check "lv-main's port close: pCPU 1 restored" wait_for "$H" "pCPU 1: 800 -> 2400 MHz \\(restored\\)"
check "lv-main's port close: pCPU 0 restored" wait_for "$H" "pCPU 0: 1600 -> 2400 MHz \\(restored\\)"
t_restored=$(now_ms)
check "vpwr-hostd: '$closed_re'" has_re "$H" "$closed_re"
say "lv-main: console pause seen -> both pCPUs restored: $((t_restored - t_exit)) ms (0.1 s polling)"
check "the channel stayed connected" [ "$(count "$H" "^\\[$dom\\] channel [0-9]+ closed")" -eq 0 ]
ctl_json channels >/dev/null
check "vpwr-ctl channels: the guest closed its port" has "$W/ctl.json" '"guest_closed":true'
# A process of its own for QEMU's VSERPORT_CHANGE (at most one a second per
# port; within the window an open and a close fold into one "closed").
sleep 1.2
n_closed=$(count "$H" "$closed_re")
go lv-gone
if check "lv-gone: 1 request" wait_replies 11; then
	expect_line "$H" "pCPU 1: 2400 -> 3000 MHz (limits 3000-3000 MHz, turbo on, set for $dom)"
fi
check "lv-gone exited in the guest" wait_for "$C" '^E2E-OK lv-gone'
t_exit=$(now_ms)
check "lv-gone's port close seen by vpwr-hostd" wait_for "$H" "$closed_re" $((n_closed + 1))
check "lv-gone's port close: pCPU 1 restored" wait_for "$H" "pCPU 1: 3000 -> 2400 MHz \\(restored\\)"
t_restored=$(now_ms)
say "lv-gone: exit on the console -> pCPU 1 restored: $((t_restored - t_exit)) ms (0.1 s polling)"
check "the channel is still connected" [ "$(count "$H" "^\\[$dom\\] channel [0-9]+ closed")" -eq 0 ]
go lv-end
wait_off
check "boot 1: the guest's poweroff ended the domain ('$state')" [ "$state" = "shut off (shutdown)" ]
check "boot 1: the guest booted and saw its ports" \
	has_re "$C" '^E2E-READY .* ports: (e2e.control virtio.serial.port.poweragent.0|virtio.serial.port.poweragent.0 e2e.control) '
for s in lv-caps lv-main lv-gone; do
	check "boot 1: step $s passed in the guest" has_re "$C" "^E2E-OK $s\$"
done
check "boot 1: no step failed in the guest" eval '! has_re "$C" "^E2E-FAIL"'
check "boot 1: the scenario ran to its end" has_re "$C" '^E2E-END '
check "boot 1: the guest powered off" has_re "$C" 'reboot: Power down'
check "lv.console: reply to hello: 2 vCPUs" \
	has_re "$C" '^  -> reply hello seq=[0-9]+ status=0 version=1 caps=0x[0-9a-f]+ nr_vcpus=2'
expect_reply "$C" "reply query_state seq=5 vcpu=0 status=0 cur=800000kHz limits=800000-800000kHz"
expect_reply "$C" "reply query_state seq=6 vcpu=1 status=0 cur=1600000kHz limits=1600000-1600000kHz"
expect_reply "$C" "reply query_state seq=8 vcpu=0 status=0 cur=3000000kHz limits=3000000-3000000kHz"
expect_reply "$C" "reply query_state seq=10 vcpu=1 status=0 cur=1600000kHz limits=1600000-1600000kHz"
check "boot 1: no request refused" [ "$(count "$H" "^\\[$dom\\] REFUSED")" -eq 0 ]
check "vpwr-hostd saw the channel close" wait_for "$H" "^\\[$dom\\] channel [0-9]+ closed"
check "vpwr-hostd detached the channel when the domain stopped" \
	wait_for "$H" "domain $dom: virtio-serial-host:$W/pa.sock is gone; detaching"
# Six pCPU changes for the domain in boot 1, none after it stopped (shut
# off, it reads as its defined pinning: its wishes must not land there).
check "boot 1: 6 pCPU changes for $dom, none after it stopped" \
	[ "$(count "$H" "set for $dom\\)\$")" -eq 6 ]
expect_pcpu "$H" 0 "2400 restored"
expect_pcpu "$H" 1 "2400 restored"
ctl_json cpus >/dev/null
check "vpwr-ctl cpus: no pCPU managed" \
	[ "$(grep -o '"managed":false' "$W/ctl.json" | wc -l)" -eq 2 ]
ctl_json channels >/dev/null
check "vpwr-ctl channels: none" has "$W/ctl.json" '"channels":[]'

# ------------------------------------------------------------ boot 2
say "boot 2: start again, virsh destroy while the guest holds its requests"
start_domain
check "vpwr-hostd attached the channel again" \
	wait_for "$H" "domain $dom: connecting to $W/pa.sock \\(guest port" 2
check "vpwr-hostd connected to it again" wait_for "$H" "^\\[$dom\\] channel [0-9]+ connected" 2
# The live re-pins went with boot 1: the defined pinning again.
if check "6 requests answered before the first pause" wait_replies 17; then
	expect_pcpu "$H" 0 "800 800-800 on"
	expect_pcpu "$H" 1 "1600 1600-1600 on"
fi
expect_vcpu 0 0 "(boot 2: the defined pinning)"
expect_vcpu 1 1 "(boot 2: the defined pinning)"
check "the guest holds its requests at pause lv-a" wait_for "$C" '^E2E-PAUSE lv-a'
check "virsh destroy $dom" vsh destroy "$dom"
wait_off
check "boot 2: the domain is shut off ('$state')" [ "$state" = "shut off (destroyed)" ]
check "vpwr-hostd saw the channel close" wait_for "$H" "^\\[$dom\\] channel [0-9]+ closed" 2
check "vpwr-hostd detached it" \
	wait_for "$H" "domain $dom: virtio-serial-host:$W/pa.sock is gone; detaching" 2
check "boot 2: 2 pCPU changes for $dom, none after it was destroyed" \
	[ "$(count "$H" "set for $dom\\)\$")" -eq 8 ]
expect_pcpu "$H" 0 "2400 restored"
expect_pcpu "$H" 1 "2400 restored"
ctl_json cpus >/dev/null
check "vpwr-ctl cpus: no pCPU managed" \
	[ "$(grep -o '"managed":false' "$W/ctl.json" | wc -l)" -eq 2 ]

# ------------------------------------------------------------ the end
kill -TERM "$hostd_pid"
for i in $(seq 100); do kill -0 "$hostd_pid" 2>/dev/null || break; sleep 0.1; done
wait "$hostd_pid"
rc=$?
hostd_pid=
check "vpwr-hostd exited 0 after SIGTERM (exit $rc)" [ "$rc" -eq 0 ]
check "vpwr-hostd: no error logged" eval '! has_re "$H" "^vpwr-hostd: <[0-3]> "'
check "virsh undefine $dom" vsh undefine "$dom"
kill -TERM "$libvirtd_pid"
for i in $(seq 100); do kill -0 "$libvirtd_pid" 2>/dev/null || break; sleep 0.1; done
wait "$libvirtd_pid"
rc=$?
libvirtd_pid=
check "libvirtd exited 0 after SIGTERM (exit $rc)" [ "$rc" -eq 0 ]

if [ "$failures" -ne 0 ]; then
	report
	say "FAILED: $failures check(s) failed, $(elapsed)"
	exit 1
fi
say "PASSED in $(elapsed)"
exit 0
