# SPDX-License-Identifier: MIT
"""Messages, policies and the three codecs from Python: every body type
round-trips through the C struct and through each codec that can carry
it; decode errors say where; wrong types raise, never crash."""

import pytest

import vpwr
from vpwr import Message, MsgType, Policy, PolicyKind, VcpusWant

NATIVE, JSON = vpwr.Codec("native"), vpwr.Codec("json")

REQUESTS = [
    Message.hello(1, 1),
    Message.scale(0, "up"),
    Message.scale(3, vpwr.ScaleOp.MEDIUM),
    Message.set_freq(1, 1600000),
    Message.set_range(2, 800000, 2400000),
    Message.turbo(0, True),
    Message.turbo(0, False),
    Message.set_epp(1, "balance_power"),
    Message.policy_set(Policy.workload_level("high", vcpus=[0, 1])),
    Message.policy_set(Policy.time(busy=[8, 9, 10], quiet=[0, 1, 2],
                                   traffic=[17], min_pps=1, avg_pps=2,
                                   max_pps=3, vcpus=range(4))),
    Message.policy_set(Policy.traffic(100, 200, 300,
                                      macs=["aa:bb:cc:dd:ee:ff",
                                            "02:00:00:00:00:01"])),
    Message.policy_set(Policy.branch_ratio(250000)),
    Message.policy_remove("traffic"),
    Message.policy_remove(None),
    Message.query_freqs(0),
    Message.query_state(1),
    Message.query_caps(),
    Message.release(),
    Message.query_vcpus(VcpusWant.FREQS | VcpusWant.CAPS),
    Message.query_vcpus(VcpusWant.FREQS, vcpu=2),
]


def reply_to(req, body, status=0, reason=""):
    return Message(req.type, req.vcpu, body, seq=req.seq,
                   flags=vpwr.MsgFlags.REPLY, status=status, reason=reason)


STATE = vpwr.VcpuState(cur_khz=2400000, min_khz=800000, max_khz=3000000,
                       turbo=True, req_min_khz=2400000, req_max_khz=2400000,
                       clamped=False, epp=128)
REPLIES = [
    reply_to(Message.hello(), vpwr.Hello(1, 1, vpwr.HostCaps.POLICY |
                                         vpwr.HostCaps.RANGE, 4096, 4, 0)),
    reply_to(Message.scale(0, "max"), STATE),
    reply_to(Message.query_freqs(0), vpwr.Freqs((800000, 1600000), 1600000)),
    reply_to(Message.query_vcpus(), vpwr.VcpuList(
        VcpusWant.FREQS | VcpusWant.CAPS, 0, 3, (800000, 900000, 1000000),
        (True, False, True), (False, False, True))),
    reply_to(Message.release(), None),
    reply_to(Message.scale(9, "up"), None, -vpwr.ErrorCode.VCPU_RANGE,
             "vCPU 9 out of range"),
    Message(MsgType.LIMITS_CHANGED, 0, STATE, flags=vpwr.MsgFlags.NOTIFY),
]


@pytest.mark.parametrize("msg", REQUESTS + REPLIES, ids=str)
def test_struct_round_trip(msg):
    raw = msg.to_bytes()
    assert len(raw) == 656
    assert Message.from_bytes(raw) == msg


@pytest.mark.parametrize("codec", [NATIVE, JSON], ids=lambda c: c.name)
@pytest.mark.parametrize("msg", REQUESTS + REPLIES, ids=str)
def test_codec_round_trip(codec, msg):
    msg.seq = 42
    data = codec.encode(msg)
    assert codec.frame_len(data) == len(data)
    assert codec.frame_len(data[:-1]) == 0        # needs more bytes
    assert codec.decode(data) == msg


def test_requests_are_valid():
    for msg in REQUESTS:
        msg.validate()
    bad = Message.set_range(0, 2000000, 1000000)
    with pytest.raises(vpwr.Error) as ei:
        bad.validate()
    assert ei.value.errno == vpwr.ErrorCode.PROTO
    assert ei.value.reason


def test_str_is_the_library_rendering():
    assert str(Message.scale(0, "max")) == "scale seq=0 vcpu=0 op=max"
    assert "status=-4004" in str(REPLIES[5])


def test_json_text():
    msg = Message.scale(0, "up")
    msg.seq = 7
    assert JSON.encode(msg) == \
        b'{"v":1,"seq":7,"type":"scale","vcpu":0,"op":"up"}\n'
    m = JSON.decode(b'{"seq":9,"type":"policy_set","kind":"time",'
                    b'"vcpus":"0-3","busy_hours":[8,9],"quiet_hours":[0]}\n')
    assert m.type is MsgType.POLICY_SET and m.seq == 9
    assert m.body.kind is PolicyKind.TIME
    assert m.body.vcpus == {0, 1, 2, 3}
    assert m.body.busy_hours == {8, 9} and m.body.quiet_hours == {0}
    # DPDK's JSON form decodes to the same message model.
    d = JSON.decode(b'{"instruction":{"name":"vm1","command":"power",'
                    b'"unit":"SCALE_MAX","resource_id":1}}\n')
    assert d.type is MsgType.SCALE and d.body.op is vpwr.ScaleOp.MAX


def test_dpdk_codecs():
    host, guest = vpwr.Codec("dpdk"), vpwr.Codec("dpdk-guest")
    pkt = guest.encode(Message.scale(1, "up"))
    assert len(pkt) == 464
    m = host.decode(pkt)
    assert m.type is MsgType.SCALE and m.vcpu == 1
    assert m.body.op is vpwr.ScaleOp.UP
    pol = Policy.traffic(10, 20, 30, vcpus=[0, 1])
    m = host.decode(guest.encode(Message.policy_set(pol)))
    assert m.body.kind is PolicyKind.TRAFFIC
    assert (m.body.min_pps, m.body.avg_pps, m.body.max_pps) == (10, 20, 30)
    assert m.body.vcpus == {0, 1}


def test_detect():
    assert vpwr.Codec.detect(NATIVE.encode(Message.release())) == NATIVE
    assert vpwr.Codec.detect(b'  {"type"') == JSON
    assert vpwr.Codec.detect(b"{") is None         # more bytes, please
    assert vpwr.Codec.detect(b"\x01\x00\x00\x00").name == "dpdk"
    assert repr(JSON) == "<vpwr.Codec 'json'>"
    with pytest.raises(ValueError, match="unknown codec"):
        vpwr.Codec("xml")


def test_decode_errors_say_where():
    with pytest.raises(vpwr.DecodeError) as ei:
        JSON.decode(b'{"seq":5,"type":"scale","vcpu":0,"op":"sideways"}\n')
    e = ei.value
    assert isinstance(e, vpwr.Error) and isinstance(e, OSError)
    assert e.errno == vpwr.ErrorCode.PROTO
    assert e.line == 1 and e.column > 1 and "sideways" in e.reason
    # What could be read, to NACK it with its own type and seq.
    assert e.partial.type is MsgType.SCALE and e.partial.seq == 5
    with pytest.raises(vpwr.DecodeError):
        NATIVE.frame_len(b"XXXXXXXXXXXXXXXXXXXX")     # bad magic
    with pytest.raises(vpwr.Error):
        vpwr.Codec("dpdk-guest").encode(Message.query_state(0))


def test_policy_values():
    p = Policy.time(busy=range(8, 20), quiet=[0, 23])
    assert p.kind is PolicyKind.TIME and 19 in p.busy_hours
    assert Policy.from_bytes(p.to_bytes()) == p
    assert Policy("workload", workload="low").workload is vpwr.Workload.LOW
    assert Policy.traffic(1, 2, 3, macs=[b"\x00\x01\x02\x03\x04\x05"]
                          ).macs == ("00:01:02:03:04:05",)


@pytest.mark.parametrize("call, exc", [
    (lambda: Message("scale", "0"), TypeError),
    (lambda: Message(1.0), TypeError),
    (lambda: Message("nonsense"), ValueError),
    (lambda: Message(MsgType.SCALE, status=5), ValueError),
    (lambda: Message(MsgType.SCALE, reason=b"x"), TypeError),
    (lambda: Message(MsgType.SCALE, reason="x" * 200), ValueError),
    (lambda: Message(MsgType.SCALE, body="up"), TypeError),
    (lambda: Message.scale(0, "sideways"), ValueError),
    (lambda: Message.scale(0, 2.0), TypeError),
    (lambda: Message.set_freq(0, -1), ValueError),
    (lambda: Message.set_epp(0, 256), ValueError),
    (lambda: Message.turbo(0, "yes"), TypeError),
    (lambda: Message.policy_set("workload"), TypeError),
    (lambda: Policy.time(busy=[24]), ValueError),
    (lambda: Policy.time(busy="8-9"), TypeError),
    (lambda: Policy.traffic(1, 2, 3, macs=["zz:00:00:00:00:00"]),
     ValueError),
    (lambda: Policy.traffic(1, 2, 3, macs=["0a"] * 11), ValueError),
    (lambda: Policy.traffic(-1, 2, 3), ValueError),
    (lambda: Policy.branch_ratio(2000000), ValueError),
    (lambda: Policy("nope"), ValueError),
    (lambda: Policy(PolicyKind.TIME, vcpus=[1024]), ValueError),
    (lambda: Message.from_bytes(b"short"), ValueError),
    (lambda: Policy.from_bytes(b"short"), ValueError),
    (lambda: NATIVE.encode(b"raw"), TypeError),
    (lambda: NATIVE.decode("text"), TypeError),
    (lambda: NATIVE.frame_len(None), TypeError),
    (lambda: vpwr.Codec(None), TypeError),
    (lambda: vpwr.VcpuList(cur_khz=[0] * 65), ValueError),
    (lambda: vpwr.Freqs([1] * 65, 0), ValueError),
])
def test_wrong_values_raise(call, exc):
    with pytest.raises(exc):
        call()


def test_low_level_layer_refuses_wrong_sizes():
    from vpwr import _vpwr
    with pytest.raises(ValueError, match="656 bytes"):
        _vpwr.vpwr_msg_validate(b"\0" * 10)
    with pytest.raises(TypeError):
        _vpwr.vpwr_msg_validate(12)
