#!/usr/bin/env python3
"""Write the native (vpwr/1) golden cases from docs/PROTOCOL.md alone.

The bytes are built here with struct.pack from the documented header and
attribute numbers, not with the library's encoder, so the golden runner
checks the decoder against the written contract.  Run from anywhere:
    python3 tests/golden/make_native.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# Attribute numbers, docs/PROTOCOL.md section 4.
STATUS, REASON, VCPU, OP, FREQ_KHZ, MIN_KHZ, MAX_KHZ, ENABLE = 1, 2, 3, 4, 5, 6, 7, 8
VERSION_MIN, VERSION_MAX, CAPS, MAX_FRAME, NR_VCPUS = 10, 11, 12, 13, 14
CUR_KHZ, FREQ_TABLE, TURBO, REQ_MIN, REQ_MAX, CLAMPED = 16, 17, 18, 19, 20, 21
POLICY_KIND, VCPU_SET, BUSY_HOURS, QUIET_HOURS, WORKLOAD = 22, 23, 24, 25, 30
MANDATORY = 0x8000
REPLY = 1


def attr(num, value):
    data = struct.pack("<HH", num, 4 + len(value)) + value
    return data + b"\0" * (-len(data) % 4)


def u32(num, v):
    return attr(num, struct.pack("<I", v))


def s32(num, v):
    return attr(num, struct.pack("<i", v))


def frame(mtype, seq, attrs=b"", flags=0, version=1, length=None):
    total = 16 + len(attrs) if length is None else length
    return b"VPWR" + struct.pack("<BBHII", version, mtype, flags, seq, total) + attrs


def write(kind, name, data, codec, text):
    d = os.path.join(HERE, kind, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "input.bin"), "wb") as f:
        f.write(data)
    with open(os.path.join(d, "codec"), "w") as f:
        f.write(codec + "\n")
    with open(os.path.join(d, "expected.txt" if kind == "valid" else "error"), "w") as f:
        f.write(text + "\n")


def valid(name, data, expected):
    write("valid", "native-" + name, data, "native", expected)


def invalid(name, data, error, substring=None):
    write("invalid", "native-" + name, data, "native",
          error + ("\n" + substring if substring else ""))


valid("hello", frame(1, 1, u32(VERSION_MIN, 1) + u32(VERSION_MAX, 1)),
      "hello seq=1 versions=1-1")
valid("scale-up", frame(2, 7, u32(VCPU, 0) + u32(OP, 1)),
      "scale seq=7 vcpu=0 op=up")
valid("scale-medium", frame(2, 8, u32(VCPU, 3) + u32(OP, 5)),
      "scale seq=8 vcpu=3 op=medium")
valid("set-freq", frame(3, 9, u32(VCPU, 1) + u32(FREQ_KHZ, 1800000)),
      "set_freq seq=9 vcpu=1 freq=1800000kHz")
valid("set-range", frame(4, 10, u32(VCPU, 2) + u32(MIN_KHZ, 1000000) + u32(MAX_KHZ, 2000000)),
      "set_range seq=10 vcpu=2 range=1000000-2000000kHz")
valid("turbo-off", frame(5, 11, u32(VCPU, 0) + u32(ENABLE, 0)),
      "turbo seq=11 vcpu=0 turbo=off")
valid("release", frame(12, 12), "release seq=12")
valid("unknown-optional-attr-skipped",
      frame(2, 13, u32(VCPU, 0) + u32(0x0777, 5) + u32(OP, 4)),
      "scale seq=13 vcpu=0 op=max")
valid("policy-workload",
      frame(7, 14, u32(POLICY_KIND, 3) + attr(VCPU_SET, bytes([0x05])) + u32(WORKLOAD, 3)),
      "policy_set seq=14 kind=workload vcpus=0,2 workload=3")
valid("reply-query-freqs",
      frame(9, 15, s32(STATUS, 0) + u32(VCPU, 0) + u32(CUR_KHZ, 800000)
            + attr(FREQ_TABLE, struct.pack("<3I", 800000, 1600000, 2400000)), flags=REPLY),
      "reply query_freqs seq=15 vcpu=0 status=0 cur=800000kHz freqs=3(800000-2400000kHz)")
valid("reply-nack",
      frame(2, 16, s32(STATUS, -4004) + attr(REASON, b"no such vCPU\0") + u32(VCPU, 9), flags=REPLY),
      "reply scale seq=16 vcpu=9 status=-4004 reason=\"no such vCPU\"")

invalid("bad-magic", b"VPWX" + frame(2, 1, u32(VCPU, 0) + u32(OP, 1))[4:], "VPWR_E_PROTO")
invalid("version-2", frame(2, 1, u32(VCPU, 0) + u32(OP, 1), version=2), "VPWR_E_VERSION")
invalid("length-over-4096", frame(2, 1, u32(VCPU, 0) + u32(OP, 1), length=8192), "VPWR_E_TOOBIG")
invalid("length-not-multiple-of-4", frame(2, 1, u32(VCPU, 0) + u32(OP, 1), length=30)[:30],
        "VPWR_E_PROTO")
invalid("unknown-type", frame(99, 1, u32(VCPU, 0)), "EBADMSG")
invalid("scale-without-op", frame(2, 1, u32(VCPU, 0)), "VPWR_E_PROTO", "OP")
invalid("scale-bad-op", frame(2, 1, u32(VCPU, 0) + u32(OP, 9)), "VPWR_E_PROTO")
invalid("mandatory-unknown-attr", frame(2, 1, u32(VCPU, 0) + u32(OP, 1) + u32(MANDATORY | 0x0777, 1)),
        "EPROTONOSUPPORT")
invalid("attr-past-frame",
        frame(2, 1, u32(VCPU, 0) + struct.pack("<HH", OP, 64) + struct.pack("<I", 1)),
        "VPWR_E_PROTO")
invalid("duplicate-vcpu", frame(2, 1, u32(VCPU, 0) + u32(VCPU, 1) + u32(OP, 1)), "VPWR_E_PROTO")
invalid("range-min-above-max",
        frame(4, 1, u32(VCPU, 0) + u32(MIN_KHZ, 2000000) + u32(MAX_KHZ, 1000000)), "VPWR_E_PROTO")
invalid("unknown-flag-bit", frame(2, 1, u32(VCPU, 0) + u32(OP, 1), flags=0x80), "VPWR_E_PROTO")
