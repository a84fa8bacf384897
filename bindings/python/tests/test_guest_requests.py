# SPDX-License-Identifier: MIT
"""The guest's requests beyond frequencies: policies of every kind,
per-vCPU queries, any Message, and the JSON and DPDK wire formats, each
against a host in the same process over a socketpair."""

import errno
import socket

import pytest

import vpwr
from vpwr import Message, Policy, PolicyKind


def connect(host, **kw):
    ours, theirs = socket.socketpair()
    with ours, theirs:
        host.add_channel("vm1", theirs)
        return vpwr.Guest.from_socket(ours, timeout_ms=5000, **kw)


def test_workload_policy_is_applied(host, guest):
    guest.send_policy(Policy.workload_level("high"))
    assert host.cpu_info(0).cur_khz == 3000000
    assert host.cpu_info(1).cur_khz == 3000000
    guest.send_policy(Policy.workload_level("low", vcpus=[1]))  # replaces
    assert host.cpu_info(1).cur_khz == 800000
    assert not host.cpu_info(0).managed
    guest.remove_policy("workload")
    assert not host.cpu_info(1).managed
    with pytest.raises(vpwr.Error) as ei:
        guest.remove_policy(PolicyKind.WORKLOAD)
    assert ei.value.errno == errno.ENOENT


def test_time_policy_is_evaluated(host, guest):
    policy = Policy.time(busy=[9, 10], quiet=[0, 1], traffic=[17], min_pps=1,
                         avg_pps=2, max_pps=3)
    reply = guest.request(Message.policy_set(policy))
    assert reply.ok and reply.type is vpwr.MsgType.POLICY_SET
    assert "not evaluate" not in reply.reason
    # Its own thresholds name no MAC: its traffic hours wait for a
    # TRAFFIC policy, and the reply says so.
    assert "traffic hours" in reply.reason
    guest.send_policy(policy)
    guest.remove_policy(policy.kind)
    guest.send_policy(policy)
    guest.remove_policy()                # every kind


@pytest.mark.parametrize("policy", [
    Policy.traffic(1000, 2000, 3000, macs=["02:00:00:00:00:01"]),
    Policy.branch_ratio(100000, vcpus=[0]),
], ids=lambda p: p.kind.name)
def test_policies_without_counters_are_refused(host, guest, policy):
    # No host interface has the MAC; these machines have no branch
    # counters (docs/POLICIES.md).  A host that has them accepts.
    reply = guest.request(Message.policy_set(policy))
    assert reply.type is vpwr.MsgType.POLICY_SET
    if reply.ok:
        guest.remove_policy()
        return
    assert reply.error.errno in (errno.ENODEV,
                                 vpwr.ErrorCode.UNSUPPORTED)
    assert "refused" in reply.reason


def test_policy_for_a_foreign_vcpu_is_refused(guest):
    with pytest.raises(vpwr.Error) as ei:
        guest.send_policy(Policy.workload_level("high", vcpus=[5]))
    assert ei.value.errno == vpwr.ErrorCode.VCPU_RANGE
    assert "5" in ei.value.reason


def test_query_vcpus(host, guest):
    guest.scale(1, "min")
    lst = guest.query_vcpus()
    assert isinstance(lst, vpwr.VcpuList)
    assert lst.first == 0 and lst.nr_vcpus == 2 and lst.nr == 2
    assert lst.cur_khz[1] == 800000
    assert lst.want == vpwr.VcpusWant.FREQS | vpwr.VcpusWant.CAPS
    one = guest.query_vcpus(1, want=vpwr.VcpusWant.FREQS)
    assert one.first == 1 and one.cur_khz == (800000,)


def test_request_any_message(host, guest):
    reply = guest.request(Message.scale(0, "max"))
    assert reply.ok and reply.is_reply
    assert reply.body.cur_khz == host.cpu_info(0).cur_khz == 3000000
    caps = guest.request(Message.query_caps()).check().body
    assert isinstance(caps, vpwr.Hello) and caps.nr_vcpus == 2
    assert vpwr.HostCaps.POLICY in caps.caps
    nack = guest.request(Message.scale(7, "up"))
    assert not nack.ok and nack.status == -vpwr.ErrorCode.VCPU_RANGE
    assert nack.reason and nack.error.errno == vpwr.ErrorCode.VCPU_RANGE
    with pytest.raises(vpwr.Error):
        nack.check()


def test_host_handle(host):
    reply = host.handle("vm1", Message.set_freq(1, 1200000)).check()
    assert reply.body.cur_khz == 1200000
    assert host.handle("nosuch", Message.release()).status == \
        -vpwr.ErrorCode.NO_DOMAIN
    with pytest.raises(TypeError):
        host.handle("vm1", b"raw")
    with pytest.raises(TypeError):
        host.handle(1, Message.release())


def test_json_guest(host, dispatcher):
    with connect(host, codec="json") as g:
        assert g.codec == "json"
        g.scale(0, "max")
        assert host.cpu_info(0).cur_khz == 3000000
        g.send_policy(Policy.workload_level("low"))
        assert host.cpu_info(1).cur_khz == 800000


def test_dpdk_guest(host, dispatcher):
    """A guest speaking DPDK's guest-channel protocol, as DPDK's own
    guest_cli would, to libvpwr's host."""
    with connect(host, codec="dpdk", dpdk_vm_name="vm1") as g:
        assert g.codec == "dpdk"
        g.scale(1, "max")
        assert host.cpu_info(1).cur_khz == 3000000
        g.scale(1, "down")
        assert host.cpu_info(1).cur_khz == 2400000
        g.send_policy(Policy.workload_level("low", vcpus=[0]))
        assert host.cpu_info(0).cur_khz == 800000
        g.remove_policy()
        lst = g.query_vcpus(want=vpwr.VcpusWant.FREQS)
        assert lst.cur_khz[1] == 2400000


@pytest.mark.parametrize("call", [
    lambda g: g.send_policy("workload:high"),
    lambda g: g.remove_policy(3.0),
    lambda g: g.query_vcpus("0"),
    lambda g: g.query_vcpus(0, want="freqs"),
    lambda g: g.request(b"raw"),
])
def test_wrong_types(guest, call):
    with pytest.raises(TypeError):
        call(guest)


def test_bad_codec_name(host):
    with pytest.raises(vpwr.Error):
        connect(host, codec="xml")
    with pytest.raises(TypeError):
        connect(host, dpdk_vm_name=1)


def test_host_in_an_asyncio_loop(host):
    """Embedding: the host's fd in asyncio's loop, dispatch(0) when it is
    readable; a guest in an executor thread is answered meanwhile."""
    import asyncio

    events = []

    async def main():
        loop = asyncio.get_running_loop()
        loop.add_reader(host.fd, lambda: events.append(host.dispatch(0)))
        try:
            g = connect(host)
            with g:
                await loop.run_in_executor(None, g.scale, 0, "max")
                state = await loop.run_in_executor(None, g.query_state, 0)
        finally:
            loop.remove_reader(host.fd)
        return state

    state = asyncio.run(main())
    assert state.cur_khz == 3000000 == host.cpu_info(0).cur_khz
    assert sum(events) >= 2
