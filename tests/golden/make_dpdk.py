#!/usr/bin/env python3
"""Write the DPDK golden cases (tests/golden/{valid,invalid}/dpdk-*).

Packets are packed here with struct.pack from DPDK's layout of
struct rte_power_channel_packet (x86-64, 464 bytes) and its two reply
lists (88 and 184 bytes), as docs/PROTOCOL.md "DPDK compatibility" gives
them, never with the library's encoder.  The expected lines are what
vpwr_msg_format() prints for the message each packet must decode to,
worked out here from that format's rules, so the runner
(tests/check_golden.c) checks the decoder against the contract.

Deterministic: the same files on every run.  Run from anywhere:
    python3 tests/golden/make_dpdk.py
"""
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# struct rte_power_channel_packet: resource_id, unit, command, vm_name[32],
# vfid[10], nb_mac_to_monitor, the three traffic thresholds,
# vcpu_to_control[8], num_vcpu, (3 bytes padding), busy_hours[24],
# quiet_hours[24], hours_to_use_traffic_profile[24], core_type, (3),
# workload, policy_to_use, t_boost_status, (7).
PKT = struct.Struct("<QII32s10QiIII8sB3x24i24i24iB3xIIB7x")
# ..._freq_list: the 48-byte head, freq_list[8], num_vcpu, (7)
FREQ_LIST = struct.Struct("<QII32s8IB7x")
# ..._caps_list: the head, turbo[8], priority[8], num_vcpu, (7)
CAPS_LIST = struct.Struct("<QII32s8Q8QB7x")
assert (PKT.size, FREQ_LIST.size, CAPS_LIST.size) == (464, 88, 184)

# commands, guest -> host
CPU_POWER, CONNECT, PKT_POLICY, PKT_POLICY_REMOVE = 1, 2, 3, 4
QUERY_FREQ_LIST, QUERY_FREQ, QUERY_CAPS_LIST, QUERY_CAPS = 7, 8, 9, 10
# commands, host -> guest
ACK, NACK, FREQ_LIST_CMD, CAPS_LIST_CMD = 1, 2, 3, 4
# units of CPU_POWER
UP, DOWN, MAX, MIN, TURBO_ON, TURBO_OFF = 1, 2, 3, 4, 5, 6
# enums
WL_HIGH, WL_MEDIUM, WL_LOW = 0, 1, 2
P_TRAFFIC, P_TIME, P_WORKLOAD, P_BRANCH_RATIO = 0, 1, 2, 3
VIRTUAL, PHYSICAL = 0, 1


def hours(lst, pad):
    """A timer_policy array: the hours, then `pad` (DPDK's guests leave 0)."""
    return list(lst) + [pad] * (24 - len(lst))


def packet(command, resource_id=0, unit=0, vm_name=b"", macs=(), nb_mac=None,
           thresholds=(0, 0, 0), vcpus=(), num_vcpu=None, busy=(), quiet=(),
           traffic=(), pad=0, core_type=VIRTUAL, workload=WL_LOW,
           policy=P_TIME, tboost=0):
    """A request as DPDK's guest library and guest_cli build it."""
    vfid = [int.from_bytes(bytes(m) + b"\0\0", "little") for m in macs]
    vfid += [0] * (10 - len(vfid))
    return PKT.pack(resource_id, unit, command, vm_name, *vfid,
                    len(macs) if nb_mac is None else nb_mac, *thresholds,
                    bytes(vcpus) + b"\0" * (8 - len(vcpus)),
                    len(vcpus) if num_vcpu is None else num_vcpu,
                    *hours(busy, pad), *hours(quiet, pad), *hours(traffic, pad),
                    core_type, workload, policy, tboost)


def freq_list(freqs, num_vcpu=None, junk=0):
    """DPDK's host leaves resource_id, unit, vm_name and unused slots
    uninitialised: `junk` stands in for its stack."""
    j32 = junk * 0x01010101
    vals = list(freqs) + [j32] * (8 - len(freqs))
    return FREQ_LIST.pack(junk * 0x0101010101010101, j32, FREQ_LIST_CMD,
                          bytes([junk]) * 32, *vals,
                          len(freqs) if num_vcpu is None else num_vcpu)


def caps_list(turbo, priority):
    return CAPS_LIST.pack(0, 0, CAPS_LIST_CMD, b"", *(list(turbo) + [0] * (8 - len(turbo))),
                          *(list(priority) + [0] * (8 - len(priority))), len(turbo))


# ------------------------------------------- vpwr_msg_format(), by its rules

def cpulist(cpus):
    """Runs of two or more as a-b, like vpwr_cpuset_format()."""
    cpus, out, i = sorted(set(cpus)), [], 0
    while i < len(cpus):
        j = i
        while j + 1 < len(cpus) and cpus[j + 1] == cpus[j] + 1:
            j += 1
        out.append(str(cpus[i]) if i == j else "%d-%d" % (cpus[i], cpus[j]))
        i = j + 1
    return ",".join(out)


def fmt_policy(kind, vcpus=(), busy=(), quiet=(), pps=None, workload=None,
               ratio=None):
    s = "policy_set seq=0 kind=" + kind
    if vcpus:
        s += " vcpus=" + cpulist(vcpus)
    if busy:
        s += " busy=" + cpulist(busy)
    if quiet:
        s += " quiet=" + cpulist(quiet)
    if kind == "traffic":
        s += " pps=%d/%d/%d" % pps
    if kind == "workload":
        s += " workload=%d" % workload   # 1 low, 2 medium, 3 high
    if kind == "branch_ratio":
        s += " ratio=%dppm" % ratio
    return s


# vpwr_msg_format() prints no body for QUERY_VCPUS (msgfmt.c knows none):
# the type, seq and vCPU only.  Update these two with msgfmt.c.
def fmt_query(vcpu=None, want="freqs"):
    return ("query_vcpus seq=0" + ("" if vcpu is None else " vcpu=%d" % vcpu)
            + " want=" + want)


def fmt_freq_list_reply(freqs, num_vcpu=None):
    """A list from vCPU 0: entries stop at 8, nr_vcpus keeps DPDK's count."""
    num = len(freqs) if num_vcpu is None else num_vcpu
    nr = min(num, 8)
    return ("reply query_vcpus seq=0 status=0 want=freqs first=0 nr=%d/%d khz=%s"
            % (nr, num, ",".join(str(f) for f in freqs[:nr])))


def fmt_caps_list_reply(turbo, priority):
    mask = lambda bits: sum(1 << i for i, b in enumerate(bits) if b)
    return ("reply query_vcpus seq=0 status=0 want=caps first=0 nr=%d/%d "
            "turbo=0x%x priority=0x%x" % (len(turbo), len(turbo), mask(turbo),
                                          mask(priority)))


REFUSED = ' status=-1 reason="refused by the host"'   # -EPERM


# ------------------------------------------------------------------ output

def write(kind, name, data, codec, text):
    d = os.path.join(HERE, kind, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "input.bin"), "wb") as f:
        f.write(data)
    with open(os.path.join(d, "codec"), "w") as f:
        f.write(codec + "\n")
    with open(os.path.join(d, "expected.txt" if kind == "valid" else "error"), "w") as f:
        f.write(text + "\n")


def valid(name, data, expected, codec="dpdk"):
    write("valid", "dpdk-" + name, data, codec, expected)


def invalid(name, data, error, substring=None, codec="dpdk"):
    write("invalid", "dpdk-" + name, data, codec,
          error + ("\n" + substring if substring else ""))


for kind in ("valid", "invalid"):
    for old in os.listdir(os.path.join(HERE, kind)):
        if old.startswith("dpdk-"):
            shutil.rmtree(os.path.join(HERE, kind, old))

# --- host role: every command and unit --------------------------------------
for unit, op in ((UP, "up"), (DOWN, "down"), (MAX, "max"), (MIN, "min")):
    # rte_power_freq_up() etc. in a VM: power_kvm_vm.c's zeroed packet
    valid("cpu-power-scale-" + op, packet(CPU_POWER, 3, unit),
          "scale seq=0 vcpu=3 op=" + op)
valid("cpu-power-turbo-on", packet(CPU_POWER, 2, TURBO_ON), "turbo seq=0 vcpu=2 turbo=on")
valid("cpu-power-turbo-off", packet(CPU_POWER, 2, TURBO_OFF), "turbo seq=0 vcpu=2 turbo=off")
# the largest vCPU number a u32 can name besides "none": the host judges it
valid("cpu-power-vcpu-4294967294", packet(CPU_POWER, 0xFFFFFFFE, UP),
      "scale seq=0 vcpu=4294967294 op=up")
# guest_channel.c sends CONNECT from an uninitialised struct: stack junk
junk = bytes((0xA5 + 37 * i) & 0xFF for i in range(464))
valid("connect-uninitialised", junk[:12] + struct.pack("<I", CONNECT) + junk[16:],
      "hello seq=0 versions=1-1")
# vm_name is never read: 32 bytes without a NUL change nothing
valid("vm-name-unterminated", packet(CPU_POWER, 1, MAX, vm_name=b"A" * 32),
      "scale seq=0 vcpu=1 op=max")

# guest_cli's set_policy_defaults(): busy 3-5, quiet 11-13, traffic 8 and
# 10, zero padding (which DPDK's host reads as midnight: slot 2 of the
# traffic hours names it first, so midnight runs the traffic profile).
MAC = (0x52, 0x54, 0x00, 0x12, 0x34, 0x56)
valid("policy-time-guest-cli",
      packet(PKT_POLICY, vm_name=b"ubuntu2", macs=[MAC], vcpus=(0, 1),
             thresholds=(96000, 1800000, 2000000), busy=(3, 4, 5),
             quiet=(11, 12, 13), traffic=(8, 10)),
      fmt_policy("time", vcpus=(0, 1), busy=(3, 4, 5), quiet=(11, 12, 13)))
# -1 padding names no hour; midnight given on purpose, busy in slot 1
# but quiet in slot 0 for hour 7: the earlier slot wins, as in DPDK.
valid("policy-time-unused-hours",
      packet(PKT_POLICY, vcpus=(3,), busy=(9, 0, 7), quiet=(7, 22), pad=-1),
      fmt_policy("time", vcpus=(3,), busy=(0, 9), quiet=(7, 22)))
valid("policy-traffic",
      packet(PKT_POLICY, policy=P_TRAFFIC, vcpus=(3, 0, 2), macs=[MAC, MAC[::-1]],
             thresholds=(1000, 50000, 100000), busy=(30,)),  # hours not read
      fmt_policy("traffic", vcpus=(0, 2, 3), pps=(1000, 50000, 100000)))
for wl, name, level in ((WL_HIGH, "high", 3), (WL_MEDIUM, "medium", 2), (WL_LOW, "low", 1)):
    valid("policy-workload-" + name,
          packet(PKT_POLICY, policy=P_WORKLOAD, workload=wl, vcpus=(1,), nb_mac=-7),
          fmt_policy("workload", vcpus=(1,), workload=level))
valid("policy-branch-ratio",
      packet(PKT_POLICY, policy=P_BRANCH_RATIO, workload=99, vcpus=range(8)),
      fmt_policy("branch_ratio", vcpus=range(8), ratio=0))
# DPDK keeps one policy per VM: remove means every kind (printed "?")
valid("policy-remove", packet(PKT_POLICY_REMOVE, 5, 5, b"ubuntu2", core_type=PHYSICAL),
      "policy_remove seq=0 kind=?")
valid("query-freq-list", packet(QUERY_FREQ_LIST, 0xFFFFFFFFFF), fmt_query())
valid("query-freq", packet(QUERY_FREQ, 5), fmt_query(5))
valid("query-caps-list", packet(QUERY_CAPS_LIST), fmt_query(want="caps"))
valid("query-caps", packet(QUERY_CAPS, 7), fmt_query(7, want="caps"))

# --- host role: refused ------------------------------------------------------
invalid("unknown-command-5", packet(5, 1), "EBADMSG", "unknown command 5")
invalid("unknown-command-0", packet(0, 1), "EBADMSG", "unknown command 0")
invalid("cpu-power-unit-0", packet(CPU_POWER, 1, 0), "VPWR_E_PROTO", "unit 0")
invalid("cpu-power-unit-7", packet(CPU_POWER, 1, 7), "VPWR_E_PROTO", "unit 7")
invalid("resource-id-none", packet(CPU_POWER, 0xFFFFFFFF, UP), "VPWR_E_PROTO",
        "resource_id 4294967295")
invalid("resource-id-2-32", packet(CPU_POWER, 1 << 32, UP), "VPWR_E_PROTO",
        "resource_id 4294967296")
# DPDK's host takes resource_id as a physical CPU number then
invalid("cpu-power-physical", packet(CPU_POWER, 0, MAX, core_type=PHYSICAL),
        "EPERM", "core_type PHYSICAL")
invalid("policy-physical",
        packet(PKT_POLICY, vcpus=(0,), busy=(1,), core_type=PHYSICAL),
        "EPERM", "core_type PHYSICAL")
invalid("core-type-2", packet(CPU_POWER, 0, MAX, core_type=2), "VPWR_E_PROTO",
        "core_type 2")
# DPDK's host walks num_vcpu entries of an 8-entry array
invalid("policy-num-vcpu-9", packet(PKT_POLICY, vcpus=range(8), num_vcpu=9),
        "VPWR_E_PROTO", "num_vcpu 9")
invalid("policy-kind-4", packet(PKT_POLICY, policy=4), "VPWR_E_PROTO", "policy_to_use 4")
invalid("policy-workload-3", packet(PKT_POLICY, policy=P_WORKLOAD, workload=3),
        "VPWR_E_PROTO", "workload 3")
invalid("policy-nb-mac-negative", packet(PKT_POLICY, policy=P_TRAFFIC, nb_mac=-1),
        "VPWR_E_PROTO", "nb_mac_to_monitor -1")
invalid("policy-nb-mac-11", packet(PKT_POLICY, policy=P_TRAFFIC, nb_mac=11),
        "VPWR_E_PROTO", "nb_mac_to_monitor 11")
invalid("policy-hour-24", packet(PKT_POLICY, busy=(1, 2, 24)), "VPWR_E_PROTO",
        "busy_hours[2] is 24")
invalid("policy-hour-negative", packet(PKT_POLICY, quiet=(-5,), pad=-1),
        "VPWR_E_PROTO", "quiet_hours[0] is -5")
invalid("policy-traffic-thresholds-reversed",
        packet(PKT_POLICY, policy=P_TRAFFIC, thresholds=(300, 200, 100)),
        "VPWR_E_PROTO", "min <= avg <= max")
# a one-vCPU answer sits at the vCPU's index of an 8-entry list
invalid("query-freq-vcpu-8", packet(QUERY_FREQ, 8), "VPWR_E_VCPU_RANGE", "0..7")
invalid("query-caps-resource-id-none", packet(QUERY_CAPS, 0xFFFFFFFF),
        "VPWR_E_PROTO", "resource_id")

# --- guest role: the three reply kinds ---------------------------------------
# libvpwr's host: command and resource_id, every other byte zero
valid("guest-ack", struct.pack("<QII", 3, 0, ACK) + b"\0" * 448,
      "reply type0 seq=0 status=0", codec="dpdk-guest")
# DPDK's host echoes the request with the command replaced
echo = packet(PKT_POLICY, vm_name=b"ubuntu2", vcpus=(0, 1), busy=(3,))
valid("guest-ack-dpdk-echo", echo[:12] + struct.pack("<I", ACK) + echo[16:],
      "reply type0 seq=0 status=0", codec="dpdk-guest")
valid("guest-nack", packet(NACK, 4, UP), "reply type0 seq=0" + REFUSED, codec="dpdk-guest")
valid("guest-freq-list", freq_list([1200000, 2400000, 1800000], junk=0x5A),
      fmt_freq_list_reply([1200000, 2400000, 1800000]), codec="dpdk-guest")
# DPDK's host sends the domain's vCPU count even above 8
valid("guest-freq-list-12-vcpus", freq_list([1000000] * 8, num_vcpu=12),
      fmt_freq_list_reply([1000000] * 8, num_vcpu=12), codec="dpdk-guest")
# libvpwr's host refusing a query: the list the guest waits for, empty
valid("guest-freq-list-refused", freq_list([], junk=0), "reply query_vcpus seq=0" + REFUSED,
      codec="dpdk-guest")
valid("guest-caps-list", caps_list([1, 0, 1, 1], [0, 0, 1, 0]),
      fmt_caps_list_reply([1, 0, 1, 1], [0, 0, 1, 0]),
      codec="dpdk-guest")

invalid("guest-unknown-command", packet(5), "VPWR_E_PROTO", "command 5", codec="dpdk-guest")
invalid("guest-command-0", FREQ_LIST.pack(0, 0, 0, b"", *[0] * 8, 0), "VPWR_E_PROTO",
        "not a DPDK reply", codec="dpdk-guest")
