# SPDX-License-Identifier: MIT
"""Wrong argument types raise TypeError (bad values ValueError), never a
crash: checked in the Python layer, and SWIG checks the low-level one."""

import errno
import socket

import pytest

import vpwr
from vpwr import _vpwr


@pytest.fixture
def idle_guest(host):
    ours, theirs = socket.socketpair()
    with ours, theirs:
        host.add_channel("vm1", theirs)
        g = vpwr.Guest.from_socket(ours, timeout_ms=100)
    with g:
        yield g


@pytest.mark.parametrize("call", [
    lambda: vpwr.Guest(42),
    lambda: vpwr.Guest(b"unix:/x"),
    lambda: vpwr.Guest("unix:/x", timeout_ms="1000"),
    lambda: vpwr.Guest("unix:/x", timeout_ms=1.5),
    lambda: vpwr.Guest("unix:/x", codec=7),
    lambda: vpwr.Guest.from_socket("not a socket"),
    lambda: vpwr.Guest.from_socket(None),
    lambda: vpwr.SimBackend(nr_cpus="4"),
    lambda: vpwr.SimBackend(freqs="800000"),
    lambda: vpwr.SimBackend(freqs=[800000, 1.2e6]),
    lambda: vpwr.SimBackend(util="high"),
    lambda: vpwr.Backend(None),
    lambda: vpwr.StaticResolver(42),
    lambda: vpwr.Resolver(["static:/x"]),
])
def test_constructors(call):
    with pytest.raises(TypeError):
        call()


def test_host_constructor(sim, resolver):
    with pytest.raises(TypeError):
        vpwr.Host("sim", resolver)
    with pytest.raises(TypeError):
        vpwr.Host(sim, "static:/x")
    with pytest.raises(TypeError):
        vpwr.Host(sim, resolver, mode=1.0)
    with pytest.raises(ValueError):
        vpwr.Host(sim, resolver, mode="fastest")
    with vpwr.Host(sim, resolver, mode="powersave") as h:
        assert h.mode is vpwr.Arbitration.POWERSAVE


@pytest.mark.parametrize("method, args", [
    ("scale", ("0", "max")),
    ("scale", (0.0, "max")),
    ("scale", (None, "max")),
    ("scale", (True, "max")),
    ("scale", (0, 4.0)),
    ("scale", (0, None)),
    ("set_freq", (0, 1.6e6)),
    ("set_freq", (0, "1600000")),
    ("set_range", (0, 800000, None)),
    ("set_turbo", (0, "yes")),
    ("set_epp", (0, 1.5)),
    ("query_freqs", ("0",)),
    ("query_state", ([0],)),
])
def test_guest_methods(idle_guest, method, args):
    with pytest.raises(TypeError):
        getattr(idle_guest, method)(*args)


@pytest.mark.parametrize("method, args", [
    ("scale", (-1, "max")),
    ("scale", (2**32, "max")),
    ("scale", (0, "sideways")),
    ("scale", (0, 99)),
    ("set_epp", (0, 256)),
    ("set_epp", (0, "turbo")),
    ("set_turbo", (0, 2)),
])
def test_guest_bad_values(idle_guest, method, args):
    with pytest.raises(ValueError):
        getattr(idle_guest, method)(*args)


@pytest.mark.parametrize("method, args", [
    ("add_channel", (1, 0)),
    ("add_channel", ("vm1", "sock")),
    ("add_channel", ("vm1", 1.0)),
    ("listen", ("vm1", None)),
    ("listen", (3, "unix-listen:/tmp/x")),     # None: every domain
    ("detach", (None,)),
    ("detach", (b"unix-listen:/tmp/x",)),
    ("dispatch", (1.5,)),
    ("dispatch", ("100",)),
    ("cpu_info", ("0",)),
    ("set_bounds", (0, None, 0)),
    ("remove_channel", ("1",)),
])
def test_host_methods(host, method, args):
    with pytest.raises(TypeError):
        getattr(host, method)(*args)


def test_backend_and_resolver_methods(sim, resolver):
    with pytest.raises(TypeError):
        sim.freq("0")
    with pytest.raises(TypeError):
        sim.set_util(0, "busy")
    with pytest.raises(TypeError):
        resolver.lookup(1, 0)
    with pytest.raises(TypeError):
        resolver.nr_vcpus(None)
    for call in (lambda: sim.policy_cpus("0"),
                 lambda: sim.policy_cpus(None),
                 lambda: resolver.domain_running(None),
                 lambda: resolver.interfaces(0),
                 lambda: vpwr.Resolver(resolver.uri, module_dir=0)):
        with pytest.raises(TypeError):
            call()


def test_low_level_module_checks_types_too(host):
    with pytest.raises(TypeError):
        _vpwr.vpwr_host_dispatch("not a host", 0)
    with pytest.raises(TypeError):
        _vpwr.vpwr_guest_scale(42, 0, 1)
    with pytest.raises(TypeError):
        _vpwr.vpwr_strerror("EINVAL")
    with pytest.raises(TypeError):
        _vpwr.vpwr_host_detach("not a host", "unix-listen:/tmp/x")
    with pytest.raises(TypeError):
        _vpwr.vpwr_py_resolver_interfaces(3, None)
    with pytest.raises(TypeError):
        _vpwr.vpwr_backend_policy_cpus(None, "0")
    with pytest.raises(TypeError):
        _vpwr.vpwr_py_resolver_open("static:/x", 3, None)
    # NULL handles are refused by the library, not dereferenced
    assert _vpwr.vpwr_host_detach(None, "x") == -errno.EINVAL
    assert _vpwr.vpwr_resolver_domain_running(None, "x") == -errno.EINVAL
    assert _vpwr.vpwr_backend_policy_cpus(None, 0)[0] == -errno.EINVAL
    assert _vpwr.vpwr_py_resolver_interfaces(None, None)[0] == -errno.EINVAL
    with pytest.raises(TypeError):
        _vpwr.vpwr_py_backend_open_sim(0, ["x"], 0, 0.0, 0.0, 0.0, 0.0,
                                       0.0, 0.0, 0, None)
