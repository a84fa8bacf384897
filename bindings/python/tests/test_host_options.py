# SPDX-License-Identifier: MIT
"""The host's policy options and limits as Host(...) keywords: time zone,
clock, traffic and branch counters (Python callbacks), sampling period,
netdev statistics root, grace period, rate limits, channel limits, shared
CPUs, auto channels; and Host.evaluate()."""

import datetime
import errno
import gc
import json
import socket
import time
import weakref

import pytest

import vpwr
from vpwr import Message, Policy

NATIVE = vpwr.Codec("native")
MIN, MEDIUM, MAX = 800000, 1600000, 3000000     # the simulator's levels


def utc_ms(hour, minute=0, day=1):
    return int(datetime.datetime(2024, 1, day, hour, minute,
                                 tzinfo=datetime.timezone.utc)
               .timestamp() * 1000)


class Clock:
    """A now_fn the test moves."""

    def __init__(self, ms):
        self.ms = ms
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return self.ms


@pytest.fixture
def clock():
    return Clock(utc_ms(5, 30))


def time_policy(**kw):
    return Policy.time(busy=range(8, 20), quiet=range(0, 7), vcpus=[0],
                       **kw)


def set_policy(host, policy, domain="vm1"):
    return host.handle(domain, Message.policy_set(policy)).check()


# ------------------------------------------------------------------ TIME

def test_now_fn_decides_the_hour(sim, resolver, clock):
    with vpwr.Host(sim, resolver, time_zone="UTC", now_fn=clock) as host:
        assert host.now_fn is clock and host.time_zone == "UTC"
        set_policy(host, time_policy())       # 05:30 UTC: quiet
        assert clock.calls > 0
        assert host.cpu_info(0).cur_khz == MIN
        clock.ms = utc_ms(10)                 # busy, seen by evaluate()
        assert host.cpu_info(0).cur_khz == MIN
        host.evaluate()
        assert host.cpu_info(0).cur_khz == MAX
        clock.ms = utc_ms(23, 59)             # neither: the policy is
        host.evaluate()                       # silent, the CPU restored
        assert host.cpu_info(0).cur_khz == 2400000
        assert not host.cpu_info(0).managed


@pytest.mark.parametrize("zone, khz", [("UTC", MIN), ("+05:00", MAX),
                                       ("-08:00", MIN), ("+0300", MAX)])
def test_time_zone_shifts_the_hours(sim, resolver, clock, zone, khz):
    # 05:30 UTC is 10:30 at +05:00 (busy), 21:30 the day before at -08:00
    # (neither, so restored... but quiet hours 0-6 do not include 21), and
    # 08:30 at +03:00 (busy).
    if zone == "-08:00":
        khz = 2400000
    with vpwr.Host(sim, resolver, time_zone=zone, now_fn=clock) as host:
        set_policy(host, time_policy())
        assert host.cpu_info(0).cur_khz == khz


def test_iana_time_zone(sim, resolver, clock):
    # Asia/Kolkata is +05:30 all year: 05:30 UTC is 11:00 there.
    with vpwr.Host(sim, resolver, time_zone="Asia/Kolkata",
                   now_fn=clock) as host:
        set_policy(host, time_policy())
        assert host.cpu_info(0).cur_khz == MAX


def test_unknown_time_zone_is_an_error(sim, resolver):
    with pytest.raises(vpwr.Error) as e:
        vpwr.Host(sim, resolver, time_zone="Mars/Olympus_Mons")
    assert e.value.errno == errno.EINVAL
    assert "Mars/Olympus_Mons" in e.value.reason
    with pytest.raises(TypeError):
        vpwr.Host(sim, resolver, time_zone=5)


def test_default_clock_is_the_real_one(sim, resolver):
    hour = datetime.datetime.now(datetime.timezone.utc).hour
    busy = Policy.time(busy=[hour, (hour + 1) % 24], vcpus=[0])
    with vpwr.Host(sim, resolver, time_zone="UTC") as host:
        assert host.now_fn is None
        set_policy(host, busy)
        assert host.cpu_info(0).cur_khz == MAX


# --------------------------------------------------------------- TRAFFIC

class Counter:
    """A traffic_fn: cumulative packets per domain."""

    def __init__(self):
        self.packets = {"vm1": 0}
        self.calls = []

    def __call__(self, domain, policy):
        self.calls.append((domain, policy))
        return self.packets.get(domain)

    def add(self, domain, n):
        self.packets[domain] += n


def test_traffic_fn_drives_traffic_policies(sim, resolver, clock):
    c = Counter()
    pol = Policy.traffic(1000, 10000, 100000, vcpus=[0])
    with vpwr.Host(sim, resolver, now_fn=clock, traffic_fn=c) as host:
        assert host.traffic_fn is c
        set_policy(host, pol)
        domain, seen = c.calls[0]
        assert domain == "vm1" and seen == pol    # a vpwr.Policy
        assert host.cpu_info(0).cur_khz == 2400000  # no rate yet

        def second(pps):
            clock.ms += 1000
            c.add("vm1", pps)
            host.evaluate()
            return host.cpu_info(0).cur_khz
        assert second(200000) == MAX          # up at once
        assert second(50000) == MAX           # down only after 3 samples
        assert second(50000) == MAX
        assert second(50000) == MEDIUM
        assert second(500) == MIN             # below min_pps: at once
        assert host.cpu_info(1).cur_khz == 2400000   # vCPU 1 not governed


def test_traffic_fn_none_skips_a_sample(sim, resolver, clock):
    c = Counter()
    with vpwr.Host(sim, resolver, now_fn=clock, traffic_fn=c) as host:
        set_policy(host, Policy.traffic(1000, 10000, 100000))
        clock.ms += 1000
        c.packets["vm1"] = None               # no count now
        host.evaluate()
        assert host.cpu_info(0).cur_khz == 2400000
        clock.ms += 1000
        c.packets["vm1"] = 400000             # over the 2 s since the
        host.evaluate()                       # first count: 200000/s
        assert host.cpu_info(0).cur_khz == MAX


@pytest.mark.parametrize("bad, exc, text", [
    ("12", TypeError, "traffic_fn must return a packet count"),
    (1.5, TypeError, "not float"),
    (True, TypeError, "not bool"),
    (-1, ValueError, "0 .. 2\\*\\*64-1"),
    (2**64, ValueError, "0 .. 2\\*\\*64-1"),
])
def test_traffic_fn_wrong_result(sim, resolver, clock, bad, exc, text):
    c = Counter()
    with vpwr.Host(sim, resolver, now_fn=clock, traffic_fn=c) as host:
        set_policy(host, Policy.traffic(1000, 10000, 100000))
        c.packets["vm1"] = bad
        clock.ms += 1000
        with pytest.raises(exc, match=text):
            host.evaluate()
        # The host carries on, and the next good count works.
        c.packets["vm1"] = 10**6
        clock.ms += 1000
        host.evaluate()
        assert host.cpu_info(0).cur_khz == MAX


def test_traffic_fn_exception_propagates(sim, resolver, clock):
    fail = [False]

    def traffic(domain, policy):
        if fail[0]:
            raise KeyError("no such interface")
        return 0

    with vpwr.Host(sim, resolver, now_fn=clock,
                   traffic_fn=traffic) as host:
        set_policy(host, Policy.traffic(1000, 10000, 100000))
        fail[0] = True
        clock.ms += 1000
        with pytest.raises(KeyError, match="no such interface"):
            host.evaluate()
        fail[0] = False
        clock.ms += 1000
        host.evaluate()
        assert host.cpu_info(0).cur_khz == MIN


def test_traffic_fn_from_dispatch(sim, resolver):
    """Without now_fn the host samples on its own timer, every
    traffic_period_ms, from dispatch(); an exception comes out there."""
    for period, at_least, at_most in ((40, 5, 100), (None, 1, 1)):
        calls = []

        def traffic(domain, policy):
            calls.append(time.monotonic())
            return 0
        with vpwr.Host(sim, resolver, traffic_fn=traffic,
                       traffic_period_ms=period) as host:
            assert host.traffic_period_ms == (period or 1000)
            set_policy(host, Policy.traffic(1000, 10000, 100000))
            end = time.monotonic() + 0.4
            while time.monotonic() < end:
                host.dispatch(50)
            assert at_least <= len(calls) <= at_most, (period, calls)

    def boom(domain, policy):
        if boom.armed:
            raise ZeroDivisionError("from traffic_fn")
        return 0
    boom.armed = False
    with vpwr.Host(sim, resolver, traffic_fn=boom,
                   traffic_period_ms=20) as host:
        set_policy(host, Policy.traffic(1000, 10000, 100000))
        boom.armed = True
        with pytest.raises(ZeroDivisionError, match="from traffic_fn"):
            for _ in range(100):
                host.dispatch(50)


def test_traffic_fn_for_a_time_policys_own_thresholds(sim, resolver, clock):
    c = Counter()
    clock.ms = utc_ms(7, 10)                  # a traffic hour
    pol = Policy.time(busy=range(8, 20), quiet=range(0, 7), traffic=[7],
                      min_pps=1000, avg_pps=10000, max_pps=100000,
                      vcpus=[0])
    with vpwr.Host(sim, resolver, now_fn=clock, traffic_fn=c,
                   time_zone="UTC") as host:
        set_policy(host, pol)
        assert c.calls and c.calls[0][1].kind == vpwr.PolicyKind.TIME
        clock.ms += 1000
        c.add("vm1", 20000)
        host.evaluate()
        assert host.cpu_info(0).cur_khz == MEDIUM


def test_netdev_statistics_under_sysfs_root(sim, resolver, tmp_path,
                                            clock):
    mac = "52:54:00:12:34:56"
    net = tmp_path / "class" / "net" / "macvtap0"
    (net / "statistics").mkdir(parents=True)
    (net / "address").write_text(mac + "\n")

    def packets(n):
        (net / "statistics" / "rx_packets").write_text(f"{n}\n")
        (net / "statistics" / "tx_packets").write_text("0\n")
    packets(0)
    pol = Policy.traffic(1000, 10000, 100000, macs=[mac])
    with vpwr.Host(sim, resolver, now_fn=clock) as host:
        assert host.sysfs_root == "/sys"
        reply = host.handle("vm1", Message.policy_set(pol))
        assert reply.status == -errno.ENODEV
    with vpwr.Host(sim, resolver, now_fn=clock,
                   sysfs_root=tmp_path) as host:
        assert host.sysfs_root == str(tmp_path)
        set_policy(host, pol)
        packets(300000)
        clock.ms += 1000
        host.evaluate()
        assert host.cpu_info(0).cur_khz == MAX


# ------------------------------------------------------------ BRANCH_RATIO

def test_branch_fn(sim, resolver, clock):
    counts = {}
    calls = []

    def branches(pcpu):
        calls.append(pcpu)
        return counts.get(pcpu)

    with vpwr.Host(sim, resolver, now_fn=clock,
                   branch_fn=branches) as host:
        assert host.branch_fn is branches
        counts[0] = (0, 0)
        set_policy(host, Policy.branch_ratio(1000, vcpus=[0]))
        clock.ms += 1000
        counts[0] = (10**9, 10**7)            # 1 % misses: above 0.1 %
        host.evaluate()
        assert 0 in calls
        assert host.cpu_info(0).cur_khz == MAX
        for bad, exc in (([1, 2], TypeError), ((1,), TypeError),
                         (("1", 2), TypeError), ((1, -2), ValueError)):
            counts[0] = bad
            clock.ms += 1000
            with pytest.raises(exc, match="branch_fn"):
                host.evaluate()


def test_branch_ratio_refused_without_counters(sim, resolver):
    """Without branch_fn the host opens perf counters, which these VMs do
    not have: the policy is refused (and accepted with branch_fn)."""
    with vpwr.Host(sim, resolver) as host:
        reply = host.handle("vm1", Message.policy_set(
            Policy.branch_ratio(1000)))
        if reply.ok:
            pytest.skip("this machine has perf branch counters")
        assert reply.status == -vpwr.ErrorCode.UNSUPPORTED
    with vpwr.Host(sim, resolver, branch_fn=lambda cpu: (0, 0)) as host:
        set_policy(host, Policy.branch_ratio(1000))


# -------------------------------------------------------------- now_fn

@pytest.mark.parametrize("bad, exc", [(1.5e12, TypeError), ("now", TypeError),
                                      (None, TypeError), (2**70, ValueError)])
def test_now_fn_wrong_result(sim, resolver, bad, exc):
    ms = [utc_ms(10)]
    with vpwr.Host(sim, resolver, time_zone="UTC",
                   now_fn=lambda: ms[0]) as host:
        set_policy(host, time_policy())
        assert host.cpu_info(0).cur_khz == MAX
        ms[0] = bad
        with pytest.raises(exc, match="now_fn"):
            host.evaluate()
        assert host.cpu_info(0).cur_khz == MAX    # the last reading held
        ms[0] = utc_ms(3)
        host.evaluate()
        assert host.cpu_info(0).cur_khz == MIN


def test_now_fn_exception_comes_out_of_handle(sim, resolver):
    def now():
        raise OverflowError("clock broke")
    with vpwr.Host(sim, resolver, now_fn=now) as host:
        with pytest.raises(OverflowError, match="clock broke"):
            host.handle("vm1", Message.policy_set(time_policy()))
        # Later calls do not see it again.
        host.handle("vm1", Message.scale(1, "min")).check()


def test_callbacks_must_not_call_back(sim, resolver, clock):
    host = None

    def traffic(domain, policy):
        host.cpu_info(0)
        return 0
    host = vpwr.Host(sim, resolver, now_fn=clock, traffic_fn=traffic)
    with host:
        with pytest.raises(RuntimeError, match="must not call back"):
            host.handle("vm1", Message.policy_set(
                Policy.traffic(1000, 10000, 100000)))


@pytest.mark.parametrize("name", ["now_fn", "traffic_fn", "branch_fn"])
def test_callbacks_must_be_callable(sim, resolver, name):
    with pytest.raises(TypeError, match=name):
        vpwr.Host(sim, resolver, **{name: 3})


def test_callbacks_held_weakly(sim, resolver):
    """Bound methods of an object that owns the host make no cycle the
    garbage collector cannot free, and C does not keep them alive."""
    class Owner:
        def __init__(self):
            self.host = vpwr.Host(sim, resolver, now_fn=self.now,
                                  traffic_fn=self.traffic,
                                  branch_fn=self.branches,
                                  on_event=self.event)

        def now(self):
            return utc_ms(10)

        def traffic(self, domain, policy):
            return 0

        def branches(self, pcpu):
            return (0, 0)

        def event(self, ev):
            pass

    owner = Owner()
    owner.host.handle("vm1", Message.policy_set(time_policy())).check()
    ref = weakref.ref(owner.host)
    own = weakref.ref(owner)
    del owner
    gc.collect()
    assert ref() is None and own() is None
    assert sim.freq(0) == 2400000             # the host restored it


def test_evaluate_on_a_closed_host(sim, resolver):
    host = vpwr.Host(sim, resolver)
    host.evaluate()                           # nothing to evaluate
    host.close()
    with pytest.raises(ValueError, match="closed"):
        host.evaluate()


# ---------------------------------------------------------------- limits

def test_limit_properties(sim, resolver):
    with vpwr.Host(sim, resolver) as host:
        assert (host.max_channels, host.max_domain_channels,
                host.rate_per_s, host.rate_burst, host.grace_ms,
                host.allow_shared, host.auto_channels,
                host.traffic_period_ms, host.time_zone) == \
            (1024, 64, 0, 0, 0, False, False, 1000, "local")
    with vpwr.Host(sim, resolver, max_channels=5, max_domain_channels=2,
                   rate_per_s=50, grace_ms=300, allow_shared=True,
                   auto_channels=False) as host:
        assert (host.max_channels, host.max_domain_channels,
                host.rate_per_s, host.rate_burst, host.grace_ms,
                host.allow_shared) == (5, 2, 50, 5, 300, True)


@pytest.mark.parametrize("kw", [
    {"max_domain_channels": "2"}, {"rate_per_s": 1.0},
    {"rate_burst": True}, {"grace_ms": [1]}, {"traffic_period_ms": "1"},
    {"auto_channels": "yes"}, {"sysfs_root": 3}])
def test_wrong_types(sim, resolver, kw):
    with pytest.raises(TypeError):
        vpwr.Host(sim, resolver, **kw)


@pytest.mark.parametrize("kw", [{"grace_ms": -1}, {"rate_per_s": 2**32},
                                {"auto_channels": 2}])
def test_wrong_values(sim, resolver, kw):
    with pytest.raises(ValueError):
        vpwr.Host(sim, resolver, **kw)


def test_max_domain_channels(sim, resolver):
    with vpwr.Host(sim, resolver, max_domain_channels=1) as host:
        a, b = socket.socketpair()
        c, d = socket.socketpair()
        with a, b, c, d:
            host.add_channel("vm1", b)
            with pytest.raises(vpwr.Error) as e:
                host.add_channel("vm1", d)
            assert e.value.errno == vpwr.ErrorCode.LIMIT
            assert host.nr_channels == 1


def test_max_channels(tmp_path, sim):
    pins = tmp_path / "two.json"
    pins.write_text(json.dumps({"domains": {"vm1": {"vcpus": ["0"]},
                                            "vm2": {"vcpus": ["1"]}}}))
    with vpwr.StaticResolver(pins) as r, \
            vpwr.Host(sim, r, max_channels=1) as host:
        a, b = socket.socketpair()
        c, d = socket.socketpair()
        with a, b, c, d:
            host.add_channel("vm1", b)
            with pytest.raises(vpwr.Error) as e:
                host.add_channel("vm2", d)
            assert e.value.errno == vpwr.ErrorCode.LIMIT


def read_reply(sock):
    sock.settimeout(5)
    buf = b""
    while True:
        n = NATIVE.frame_len(buf) if buf else 0
        if n:
            return NATIVE.decode(buf[:n])
        chunk = sock.recv(4096)
        assert chunk, "peer closed"
        buf += chunk


def test_rate_limit(sim, resolver):
    for rate, refused in ((None, False), (1, True)):
        with vpwr.Host(sim, resolver, rate_per_s=rate,
                       rate_burst=1 if rate else None) as host:
            ours, theirs = socket.socketpair()
            with ours, theirs:
                host.add_channel("vm1", theirs)
                statuses = []
                for seq in range(1, 4):
                    msg = Message.query_state(0)
                    msg.seq = seq
                    ours.sendall(NATIVE.encode(msg))
                    while True:
                        host.dispatch(100)
                        try:
                            ours.setblocking(False)
                            peek = ours.recv(1, socket.MSG_PEEK)
                        except BlockingIOError:
                            continue
                        finally:
                            ours.setblocking(True)
                        if peek:
                            break
                    statuses.append(read_reply(ours).status)
            got = -vpwr.ErrorCode.RATE_LIMIT in statuses
            assert got == refused, statuses


def test_allow_shared(tmp_path, sim):
    pins = tmp_path / "shared.json"
    pins.write_text(json.dumps({"domains": {"vm1": {"vcpus": ["0-1"]},
                                            "vm2": {"vcpus": ["1"]}}}))
    with vpwr.StaticResolver(pins) as r:
        with vpwr.Host(sim, r) as host:
            reply = host.handle("vm1", Message.scale(0, "max"))
            assert reply.status == -vpwr.ErrorCode.SHARED_CPU
        with vpwr.Host(sim, r, allow_shared=True) as host:
            host.handle("vm1", Message.scale(0, "max")).check()
            assert sim.freq(1) == MAX


def test_grace_period(sim, resolver):
    for grace, kept in ((None, False), (60000, True)):
        with vpwr.Host(sim, resolver, grace_ms=grace) as host:
            ours, theirs = socket.socketpair()
            with theirs:
                host.add_channel("vm1", theirs)
            with ours:
                msg = Message.scale(0, "min")
                msg.seq = 1
                ours.sendall(NATIVE.encode(msg))
                while sim.freq(0) != MIN:
                    host.dispatch(100)
            while host.nr_channels:                  # the guest hung up
                host.dispatch(100)
            assert (sim.freq(0) == MIN) == kept, grace
            if kept:
                reply = host.control({"cmd": "domains"})
                dom = next(d for d in reply["domains"]
                           if d["name"] == "vm1")
                assert 0 < dom["grace_ms_left"] <= 60000
