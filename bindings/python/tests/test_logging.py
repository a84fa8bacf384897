# SPDX-License-Identifier: MIT
"""What the library logs reaches Python's logging (logger "vpwr"), and
the small helpers: cpulists and replies."""

import logging
import socket

import pytest

import vpwr
from vpwr import Message


def test_errors_are_logged_and_explain_the_exception(tmp_path, caplog):
    pins = tmp_path / "pins.json"
    pins.write_text('{"domains": {"vm1": {"vcpus": ["0", "x"]}}}')
    with caplog.at_level(logging.WARNING, logger="vpwr"):
        with pytest.raises(vpwr.Error) as ei:
            vpwr.StaticResolver(pins)
    assert 'bad cpulist "x"' in ei.value.reason
    rec = [r for r in caplog.records if r.name == "vpwr"]
    assert rec and rec[-1].levelno == logging.ERROR
    assert rec[-1].getMessage() == ei.value.reason


def test_info_messages_follow_the_logger_level(sim, pins, caplog):
    def channel_cycle():
        with vpwr.StaticResolver(pins) as r, vpwr.Host(sim, r) as h:
            a, b = socket.socketpair()
            with a, b:
                h.add_channel("vm1", a)
            h.dispatch(200)

    with caplog.at_level(logging.INFO, logger="vpwr"):
        channel_cycle()
    infos = [r.getMessage() for r in caplog.records
             if r.name == "vpwr" and r.levelno == logging.INFO]
    assert any("channel 1 up" in m for m in infos), infos
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="vpwr"):
        channel_cycle()
    assert not [r for r in caplog.records if r.levelno < logging.WARNING]


def test_nothing_printed_without_logging_configured(tmp_path, capfd):
    import subprocess
    import sys
    pins = tmp_path / "pins.json"
    pins.write_text("{")
    code = ("import vpwr\ntry:\n    vpwr.StaticResolver(%r)\n"
            "except vpwr.Error:\n    pass\n" % str(pins))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and r.stderr == "" and r.stdout == ""


def test_cpulists():
    assert vpwr.cpuset_parse("0-3,8,10-11") == {0, 1, 2, 3, 8, 10, 11}
    assert vpwr.cpuset_format([11, 10, 8, 0, 1, 2, 3]) == "0-3,8,10-11"
    assert vpwr.cpuset_format([]) == ""
    with pytest.raises(vpwr.Error):
        vpwr.cpuset_parse("3-1")
    with pytest.raises(TypeError):
        vpwr.cpuset_parse(3)
    with pytest.raises(TypeError):
        vpwr.cpuset_format("0-3")
    with pytest.raises(TypeError):
        vpwr.cpuset_format([1.0])
    with pytest.raises(ValueError):
        vpwr.cpuset_format([1024])


def test_reply():
    req = Message.scale(2, "up")
    req.seq = 11
    r = req.reply()
    assert r.is_reply and r.ok and (r.type, r.seq, r.vcpu) == (
        vpwr.MsgType.SCALE, 11, 2)
    nack = req.reply(-vpwr.ErrorCode.VCPU_RANGE, "no such vCPU")
    assert nack.error.errno == vpwr.ErrorCode.VCPU_RANGE
    assert nack.reason == "no such vCPU"
    q = Message.query_vcpus(vpwr.VcpusWant.CAPS).reply(-22)
    assert q.body.want == vpwr.VcpusWant.CAPS   # kept, as DPDK needs
    with pytest.raises(ValueError):
        req.reply(5)
    with pytest.raises(TypeError):
        req.reply("0")
