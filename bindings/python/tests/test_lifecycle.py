# SPDX-License-Identifier: MIT
"""Handles are freed once, in order (a host before its backend and
resolver), by close(), by `with`, or by the garbage collector."""

import gc
import socket

import pytest

import vpwr


def test_context_managers_close(pins):
    with vpwr.SimBackend() as sim, vpwr.StaticResolver(pins) as res:
        with vpwr.Host(sim, res) as host:
            assert not host.closed
        assert host.closed
        assert not sim.closed and not res.closed
    assert sim.closed and res.closed


def test_second_close_is_harmless(sim, resolver):
    host = vpwr.Host(sim, resolver)
    host.close()
    host.close()
    ours, theirs = socket.socketpair()
    with ours, theirs:
        g = vpwr.Guest.from_socket(ours)
    g.close()
    g.close()
    with pytest.raises(ValueError):
        with g:  # entering a closed handle is refused
            pass


def test_closed_handles_raise_valueerror(sim, resolver):
    host = vpwr.Host(sim, resolver)
    host.close()
    with pytest.raises(ValueError):
        host.cpu_info(0)
    with pytest.raises(ValueError):
        host.dispatch(0)
    with pytest.raises(ValueError):
        with host:
            pass
    host.stop()  # harmless on a closed host
    assert "closed" in repr(host)


def test_guest_closed_raises_valueerror():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        g = vpwr.Guest.from_socket(ours)
    g.close()
    with pytest.raises(ValueError):
        g.scale(0, "max")
    with pytest.raises(ValueError):
        g.last_reason


def test_from_socket_leaves_the_socket_to_the_caller(host):
    ours, theirs = socket.socketpair()
    host.add_channel("vm1", theirs)
    g = vpwr.Guest.from_socket(ours)
    # The library holds duplicates: both socket objects are still open.
    assert ours.fileno() >= 0 and theirs.fileno() >= 0
    ours.close()
    theirs.close()
    g.close()


def test_host_keeps_backend_and_resolver_alive(pins):
    host = vpwr.Host(vpwr.SimBackend(), vpwr.StaticResolver(pins))
    gc.collect()
    assert host.cpu_info(0).cur_khz > 0
    assert host.backend.nr_cpus == 4
    assert host.resolver.domains == ["vm1"]
    host.close()
    # Still referenced by the host: not closed.
    assert not host.backend.closed


def test_closing_the_backend_closes_its_host_first(sim, resolver):
    host = vpwr.Host(sim, resolver)
    sim.close()
    assert host.closed and sim.closed
    assert not resolver.closed
    with pytest.raises(ValueError):
        vpwr.Host(sim, resolver)


def test_closing_the_resolver_closes_its_host_first(sim, resolver):
    host = vpwr.Host(sim, resolver)
    resolver.close()
    assert host.closed and resolver.closed
    assert not sim.closed


def test_garbage_collection_frees_in_order(pins):
    for _ in range(20):
        sim = vpwr.SimBackend()
        res = vpwr.StaticResolver(pins)
        host = vpwr.Host(sim, res)
        # A reference cycle through all three: the collector finalizes its
        # members in any order, the C handles must still go host first.
        sim.peer = host
        res.peer = host
        host.peer = (sim, res)
        del sim, res, host
        gc.collect()


def test_two_hosts_share_a_backend(sim, resolver):
    with vpwr.Host(sim, resolver) as a, vpwr.Host(sim, resolver) as b:
        assert a.cpu_info(0) == b.cpu_info(0)
    assert not sim.closed
