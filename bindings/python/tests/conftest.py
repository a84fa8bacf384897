# SPDX-License-Identifier: MIT
"""Fixtures: a simulated host serving domain "vm1" (vCPU 0 on pCPU 0,
vCPU 1 on pCPU 1) and a guest connected to it over a socketpair, with a
background thread dispatching the host."""

import json
import socket
import threading

import pytest

import vpwr

# The simulator's default table (libvpwr/sim.h).
SIM_TABLE = list(range(800000, 2400001, 200000))
SIM_TURBO = 3000000


@pytest.fixture
def pins(tmp_path):
    path = tmp_path / "pins.json"
    path.write_text(json.dumps({"domains": {"vm1": {"vcpus": ["0", "1"]}}}))
    return path


@pytest.fixture
def sim():
    with vpwr.SimBackend(nr_cpus=4) as backend:
        yield backend


@pytest.fixture
def resolver(pins):
    with vpwr.StaticResolver(pins) as r:
        yield r


@pytest.fixture
def host(sim, resolver):
    with vpwr.Host(sim, resolver) as h:
        yield h


class Dispatcher:
    """host.dispatch(100) in a thread until stopped; keeps what it raised."""

    def __init__(self, host):
        self.host = host
        self.done = threading.Event()
        self.errors = []
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        try:
            while not self.done.is_set():
                self.host.dispatch(100)
        except BaseException as e:  # reported by stop()
            self.errors.append(e)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.done.set()
        self.thread.join(10)
        assert not self.thread.is_alive(), "dispatcher did not stop"
        assert not self.errors, self.errors


@pytest.fixture
def dispatcher(host):
    d = Dispatcher(host).start()
    yield d
    if not d.done.is_set():
        d.stop()


@pytest.fixture
def guest(host, dispatcher):
    """A guest of domain vm1, answered by the dispatcher thread."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        host.add_channel("vm1", theirs)
        g = vpwr.Guest.from_socket(ours, timeout_ms=5000)
    with g:
        yield g
