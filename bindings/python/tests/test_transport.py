# SPDX-License-Identifier: MIT
"""vpwr.Channel, vpwr.Listener and vpwr.discover_virtio_serial() over real
unix sockets and a fake guest sysfs/dev tree."""

import errno
import os
import selectors
import socket
import threading

import pytest

import vpwr


def wait_readable(obj, timeout=5):
    with selectors.DefaultSelector() as sel:
        sel.register(obj, selectors.EVENT_READ)
        assert sel.select(timeout), "not readable in time"


def read_exactly(ch, n):
    out = b""
    while len(out) < n:
        wait_readable(ch)
        chunk = ch.read(n - len(out))
        assert chunk, "end of stream"
        out += chunk
    return out


# --------------------------------------------------------------- channels

def test_channel_from_socket_moves_bytes():
    a, b = socket.socketpair()
    with b:
        ch = vpwr.Channel.from_socket(b)     # the channel has its own fd
    with a, ch:
        assert ch.scheme == "unix" and not ch.blocking
        assert isinstance(ch.fileno(), int) and ch.fd == ch.fileno()
        assert ch.read() is None                 # nothing yet: None
        a.sendall(b"ping\x00\xff")
        assert read_exactly(ch, 6) == b"ping\x00\xff"
        assert ch.write(bytearray(b"pong")) == 4
        assert ch.write(memoryview(b"!")) == 1
        a.settimeout(5)
        assert a.recv(16) == b"pong!"
        a.close()
        wait_readable(ch)
        assert ch.read() == b""                  # end of stream
        with pytest.raises(vpwr.Error) as e:
            for _ in range(10):
                ch.write(b"x")
        assert e.value.errno in (vpwr.ErrorCode.CLOSED, errno.EPIPE,
                                 errno.ECONNRESET)
    assert ch.closed
    with pytest.raises(ValueError, match="closed"):
        ch.read()


def test_channel_peer_credentials():
    a, b = socket.socketpair()
    with a, b, vpwr.Channel.from_socket(b) as ch:
        peer = ch.peer
        assert isinstance(peer, vpwr.Peer)
        assert (peer.pid, peer.uid, peer.gid) == \
            (os.getpid(), os.getuid(), os.getgid())
        assert peer.cid is None


def test_write_would_block_returns_none():
    a, b = socket.socketpair()
    with a, b, vpwr.Channel.from_socket(b) as ch:
        total = 0
        while True:
            n = ch.write(b"x" * 65536)
            if n is None:
                break
            total += n
        assert total > 0


def test_blocking_channel_read_waits_without_the_gil():
    a, b = socket.socketpair()
    with a, b, vpwr.Channel.from_socket(b, blocking=True) as ch:
        assert ch.blocking
        # Another thread can run while this one waits in read().
        t = threading.Timer(0.1, a.sendall, (b"late",))
        t.start()
        assert ch.read(4) == b"late"
        t.join()


def test_channel_open_errors(tmp_path):
    with pytest.raises(vpwr.Error) as e:
        vpwr.Channel(f"unix:{tmp_path}/nobody-here")
    assert isinstance(e.value, OSError) and e.value.errno == errno.ENOENT
    with pytest.raises(vpwr.Error) as e:
        vpwr.Channel("carrier-pigeon:coop")
    assert e.value.errno == errno.EPROTONOSUPPORT


@pytest.mark.parametrize("call", [
    lambda: vpwr.Channel(42),
    lambda: vpwr.Channel("unix:/x", blocking="yes"),
    lambda: vpwr.Channel.from_socket("not a socket"),
    lambda: vpwr.Listener(b"unix-listen:/x"),
    lambda: vpwr.discover_virtio_serial(5),
])
def test_wrong_types(call):
    with pytest.raises(TypeError):
        call()


def test_read_write_wrong_arguments():
    a, b = socket.socketpair()
    with a, b, vpwr.Channel.from_socket(b) as ch:
        with pytest.raises(TypeError):
            ch.write("text")
        with pytest.raises(TypeError):
            ch.write(12)
        with pytest.raises(TypeError):
            ch.read("4")
        with pytest.raises(ValueError):
            ch.read(-1)


# -------------------------------------------------------------- listeners

def test_listener_accepts_channels(tmp_path):
    path = tmp_path / "l.sock"
    with vpwr.Listener(f"unix-listen:{path}") as lis:
        assert lis.uri == f"unix-listen:{path}" and path.exists()
        assert lis.accept() is None              # nobody waiting
        # A libvpwr channel connects; a plain socket too.
        with vpwr.Channel(f"unix:{path}", blocking=True) as client:
            wait_readable(lis)
            with lis.accept() as server:
                assert isinstance(server, vpwr.Channel)
                assert server.peer.pid == os.getpid()
                client.write(b"hello")
                assert read_exactly(server, 5) == b"hello"
                assert server.write(b"back") == 4
                assert client.read(4) == b"back"
                assert client.peer.uid == os.getuid()
        s = socket.socket(socket.AF_UNIX)
        with s:
            s.connect(str(path))
            wait_readable(lis)
            ch = lis.accept()
            s.sendall(b"z")
            assert read_exactly(ch, 1) == b"z"
            ch.close()
        # A live listener's path is in use.
        with pytest.raises(vpwr.Error) as e:
            vpwr.Listener(f"unix-listen:{path}")
        assert e.value.errno == errno.EADDRINUSE
    assert not path.exists()                     # removed on close


def test_host_serves_a_channel(sim, resolver):
    """A Channel is socket-like: Host.add_channel() takes it."""
    a, b = socket.socketpair()
    with a, b, vpwr.Channel.from_socket(b) as ch, \
            vpwr.Host(sim, resolver) as host:
        host.add_channel("vm1", ch)
        codec = vpwr.Codec("native")
        a.sendall(codec.encode(vpwr.Message.scale(0, "min")))
        while sim.freq(0) != 800000:
            host.dispatch(100)


# -------------------------------------------------------------- discovery

def fake_port(root, vport, name, dev_link):
    d = root / "sys" / "class" / "virtio-ports" / vport
    d.mkdir(parents=True, exist_ok=True)
    (d / "name").write_text(name + "\n")
    if dev_link:
        dev = root / "dev" / "virtio-ports"
        dev.mkdir(parents=True, exist_ok=True)
        (dev / name).write_text("")


def test_discover_virtio_serial(tmp_path):
    assert vpwr.discover_virtio_serial(tmp_path) == []
    fake_port(tmp_path, "vport0p1", "virtio.serial.port.poweragent.10", True)
    fake_port(tmp_path, "vport0p2", "virtio.serial.port.poweragent.2", False)
    fake_port(tmp_path, "vport0p3", "org.qemu.guest_agent.0", True)
    fake_port(tmp_path, "vport0p4", "org.libvpwr.ctl", False)
    fake_port(tmp_path, "vport0p5", "virtio.serial.port.poweragent.x", False)
    (tmp_path / "dev" / "virtio-ports" / "org.libvpwr.extra").write_text("")
    ports = vpwr.discover_virtio_serial(str(tmp_path))
    assert [p.name for p in ports] == [
        "org.libvpwr.ctl", "org.libvpwr.extra",
        "virtio.serial.port.poweragent.2",
        "virtio.serial.port.poweragent.10"]
    assert all(isinstance(p, vpwr.VirtioPort) for p in ports)
    assert ports[2].uri == (f"virtio-serial:{tmp_path}/dev/virtio-ports/"
                            "virtio.serial.port.poweragent.2")
    assert vpwr.discover_virtio_serial(tmp_path) == ports   # PathLike


def test_discover_on_this_machine():
    """No virtio-serial ports here (not a guest with ports): a list, maybe
    empty, never an error."""
    assert isinstance(vpwr.discover_virtio_serial(), list)


def test_virtio_serial_channel_on_a_character_device():
    with vpwr.Channel("virtio-serial:/dev/null") as ch:
        assert ch.scheme == "virtio-serial"
        assert ch.write(b"x") == 1


def test_the_swig_layer_refuses_null_handles():
    """The raw module answers None handles with -EINVAL, never a crash."""
    from vpwr import _vpwr
    einval = -errno.EINVAL
    assert _vpwr.vpwr_py_channel_read(None, 5) == (einval, None)
    assert _vpwr.vpwr_py_channel_write(None, b"x") == einval
    assert _vpwr.vpwr_py_channel_peer(None)[0] == einval
    assert _vpwr.vpwr_channel_fd(None) == einval
    assert _vpwr.vpwr_listener_fd(None) == einval
    assert list(_vpwr.vpwr_listener_accept(None)) == [einval, None]
    assert list(_vpwr.vpwr_resolver_domain_cid(None, "x")) == [einval, 0]
    assert _vpwr.vpwr_resolver_refresh(None) == einval
    assert _vpwr.vpwr_resolver_change_fd(None) == einval
    assert _vpwr.vpwr_py_resolver_channels(None, None) == (einval, [])
    assert _vpwr.vpwr_host_evaluate(None) == einval
    with pytest.raises(TypeError):
        _vpwr.vpwr_py_channel_write(None, "text")
    with pytest.raises(OverflowError):
        _vpwr.vpwr_py_channel_read(None, -1)
    with pytest.raises(ValueError):
        _vpwr.vpwr_py_channel_read(None, 1 << 30)
