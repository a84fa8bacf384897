# SPDX-License-Identifier: MIT
"""A guest and a host in one process: the guest's requests (main thread)
are answered by host.dispatch() in another thread, on the simulator."""

import errno
import select
import socket
import threading
import time

import pytest

import vpwr
from conftest import SIM_TABLE, SIM_TURBO


def test_scale_max_then_min(host, guest):
    khz, _ = guest.query_freqs(0)
    guest.scale(0, "max")
    info = host.cpu_info(0)
    assert info.cur_khz == max(khz)
    assert info.managed and info.winner == "vm1"
    assert info.nr_requests == 1

    guest.scale(0, "min")
    assert host.cpu_info(0).cur_khz == min(khz) == SIM_TABLE[0]
    # vCPU 1 (pCPU 1) was not touched.
    assert not host.cpu_info(1).managed


def test_scale_op_forms(host, guest):
    khz, _ = guest.query_freqs(0)
    guest.scale(0, vpwr.ScaleOp.MAX)
    assert host.cpu_info(0).cur_khz == khz[-1]
    guest.scale(0, "DOWN")
    assert host.cpu_info(0).cur_khz == khz[-2]
    guest.scale(0, int(vpwr.ScaleOp.MIN))
    assert host.cpu_info(0).cur_khz == khz[0]
    guest.scale(0, vpwr.ScaleOp("up"))
    assert host.cpu_info(0).cur_khz == khz[1]


def test_refused_request_raises_with_reason(host, guest):
    with pytest.raises(vpwr.Error) as ei:
        guest.scale(99, "up")
    e = ei.value
    assert e.errno == vpwr.ErrorCode.VCPU_RANGE
    assert guest.last_reason
    assert e.reason == guest.last_reason
    assert guest.last_reason in str(e)
    # The channel is still usable.
    guest.scale(0, "max")


def test_query_freqs_is_the_sim_table(sim, guest):
    khz, cur = guest.query_freqs(0)
    assert khz[:len(SIM_TABLE)] == SIM_TABLE
    assert khz[len(SIM_TABLE):] in ([], [SIM_TURBO])
    assert cur in khz


def test_hello(guest):
    info = guest.hello()
    assert isinstance(info, vpwr.HelloInfo)
    assert info.version == 1
    assert info.nr_vcpus == 2


def test_set_freq_and_query_state(host, guest):
    guest.set_freq(1, 1600000)
    st = guest.query_state(1)
    assert isinstance(st, vpwr.VcpuState)
    assert st.cur_khz == 1600000
    assert host.cpu_info(1).cur_khz == 1600000


def test_set_range(host, guest):
    guest.set_range(0, 1000000, 2000000)
    info = host.cpu_info(0)
    assert (info.min_khz, info.max_khz) == (1000000, 2000000)
    assert 1000000 <= info.cur_khz <= 2000000


def test_release_gives_the_cpu_back(host, guest):
    guest.scale(0, "min")
    assert host.cpu_info(0).managed
    guest.release()
    info = host.cpu_info(0)
    assert not info.managed
    assert info.nr_requests == 0


def test_host_close_restores_the_backend(sim, resolver):
    before = sim.freq(0)
    ours, theirs = socket.socketpair()
    with vpwr.Host(sim, resolver) as host:
        d = _dispatch_in_thread(host)
        with ours, theirs:
            host.add_channel("vm1", theirs)
            g = vpwr.Guest.from_socket(ours)
        g.scale(0, "min")
        d.stop()
        assert sim.freq(0) == SIM_TABLE[0]
    assert sim.freq(0) == before
    g.close()


def test_guest_close_drops_its_requests(host, guest, dispatcher):
    guest.scale(0, "min")
    assert host.cpu_info(0).managed
    guest.close()
    for _ in range(50):  # the dispatcher notices the hang-up
        if not host.cpu_info(0).managed:
            break
        threading.Event().wait(0.05)
    assert not host.cpu_info(0).managed
    assert host.nr_channels == 0


def test_run_and_stop(host):
    ours, theirs = socket.socketpair()
    with ours, theirs:
        host.add_channel("vm1", theirs)
        g = vpwr.Guest.from_socket(ours, timeout_ms=5000)
    with g:
        t = threading.Thread(target=host.run)
        t.start()
        try:
            g.scale(0, "max")
            g.scale(0, "min")
            assert g.query_state(0).cur_khz == SIM_TABLE[0]
        finally:
            host.stop()
            t.join(10)
        assert not t.is_alive()
        assert host.cpu_info(0).cur_khz == SIM_TABLE[0]


def test_stop_before_run_returns_at_once(host):
    host.stop()
    host.run()


def test_listen_and_connect(tmp_path, host, dispatcher):
    path = tmp_path / "vm1.sock"
    host.listen("vm1", f"unix-listen:{path}")
    with vpwr.Guest(f"unix:{path}", timeout_ms=5000) as g:
        g.scale(1, "max")
        khz, cur = g.query_freqs(1)
        assert cur == khz[-1]
        assert host.cpu_info(1).winner == "vm1"


def _wait_for(cond, timeout=5.0):
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            return False
        time.sleep(0.01)
    return True


def test_detach_a_listener(tmp_path, host, dispatcher):
    path = tmp_path / "vm1.sock"
    uri = f"unix-listen:{path}"
    host.listen("vm1", uri)
    with socket.socket(socket.AF_UNIX) as qemu:
        qemu.connect(str(path))
        qemu.settimeout(5)
        assert _wait_for(lambda: host.nr_channels == 1)
        assert host.detach(uri) == 1           # the listener
        assert qemu.recv(1) == b""             # its channel is closed too
        assert host.nr_channels == 0
        with pytest.raises(vpwr.Error) as e:
            host.detach(uri)
        assert e.value.errno == errno.ENOENT
        assert isinstance(e.value, OSError)
    with socket.socket(socket.AF_UNIX) as late, pytest.raises(OSError):
        late.connect(str(path))                # nobody listens any more
    with pytest.raises(vpwr.Error) as e:
        host.detach(f"unix-listen:{tmp_path}/other.sock")
    assert e.value.errno == errno.ENOENT
    for bad in (None, 3, b"unix-listen:x", path):
        with pytest.raises(TypeError):
            host.detach(bad)
    with pytest.raises(ValueError):
        host.detach("unix-listen:\0")


def test_listen_for_every_domain(tmp_path, host, dispatcher):
    """domain None: the peer's vsock CID picks the domain; a unix peer has
    none and is turned away."""
    path = tmp_path / "any.sock"
    uri = f"unix-listen:{path}"
    host.listen(None, uri)
    with socket.socket(socket.AF_UNIX) as peer:
        peer.connect(str(path))
        peer.settimeout(5)
        assert peer.recv(1) == b""             # turned away
    assert host.nr_channels == 0
    assert host.detach(uri) == 1
    with pytest.raises(TypeError):
        host.listen(3, uri)


def test_detach_a_connector(tmp_path, host, dispatcher):
    """What connect() made stops reconnecting once detached."""
    path = str(tmp_path / "vm1.0")
    uri = f"virtio-serial-host:{path}"
    with socket.socket(socket.AF_UNIX) as qemu:
        qemu.bind(path)
        qemu.listen(2)
        qemu.settimeout(5)
        host.connect("vm1", uri)
        conn, _ = qemu.accept()
        with conn:
            conn.settimeout(5)
            assert _wait_for(lambda: host.nr_channels == 1)
            assert host.detach(uri) == 1
            assert conn.recv(1) == b""
        assert host.nr_channels == 0
        qemu.settimeout(0.5)
        with pytest.raises(socket.timeout):  # no reconnection
            qemu.accept()


def test_dispatch_and_fd(host):
    assert host.dispatch(0) == 0
    assert host.fileno() == host.fd >= 0
    assert select.select([host], [], [], 0) == ([], [], [])
    ours, theirs = socket.socketpair()
    with ours, theirs:
        host.add_channel("vm1", theirs)
        assert host.nr_channels == 1


def test_unknown_domain_channel_is_refused(host):
    ours, theirs = socket.socketpair()
    with ours, theirs, pytest.raises(vpwr.Error) as ei:
        host.add_channel("nosuchvm", theirs)
    assert ei.value.errno == vpwr.ErrorCode.NO_DOMAIN
    assert host.nr_channels == 0


def test_resolver_and_backend_views(sim, resolver):
    assert resolver.domains == ["vm1"]
    assert resolver.nr_vcpus("vm1") == 2
    assert resolver.lookup("vm1", 1) == frozenset({1})
    assert sim.name == "sim"
    assert sim.nr_cpus == 4
    assert sim.freqs(0)[:len(SIM_TABLE)] == SIM_TABLE
    assert vpwr.BackendCaps.SET_FREQ in sim.caps(0)


def _dispatch_in_thread(host):
    from conftest import Dispatcher
    return Dispatcher(host).start()


def test_host_usable_while_running(host, sim):
    """run() lets other threads in between two dispatches."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        host.add_channel("vm1", theirs)
        g = vpwr.Guest.from_socket(ours, timeout_ms=5000)
    t = threading.Thread(target=host.run)
    t.start()
    try:
        with g:
            g.scale(0, "min")
            assert host.cpu_info(0).cur_khz == SIM_TABLE[0]
            assert sim.freq(0) == SIM_TABLE[0]
            g.scale(0, "up")
            assert host.cpu_info(0).cur_khz == SIM_TABLE[1]
    finally:
        host.stop()
        t.join(10)
    assert not t.is_alive()


def test_close_while_running(sim, resolver):
    host = vpwr.Host(sim, resolver)
    t = threading.Thread(target=host.run)
    t.start()
    host.close()
    t.join(10)
    assert not t.is_alive()
    assert host.closed


def test_main_thread_wait_notices_signals(host):
    """The C library retries EINTR; the main thread's long waits are cut so
    that Python's signal handlers (Ctrl-C) still run."""
    import signal

    class Interrupted(Exception):
        pass

    def handler(signum, frame):
        raise Interrupted

    old = signal.signal(signal.SIGUSR1, handler)
    timer = threading.Timer(0.3, signal.pthread_kill,
                            (threading.main_thread().ident, signal.SIGUSR1))
    try:
        timer.start()
        with pytest.raises(Interrupted):
            host.dispatch(None)
    finally:
        timer.cancel()
        signal.signal(signal.SIGUSR1, old)
    assert host.dispatch(0) == 0  # still usable
