# SPDX-License-Identifier: MIT
"""Resolver.channels(), domain_cid(), change_fd and refresh() on libvirt's
test driver (tests/fixtures/libvirt/node.xml, and test:///default changed
through libvirt's C API with ctypes) and on static: pins; and
Host(auto_channels=True) following a domain's channel."""

import ctypes
import errno
import os
import select
import socket

import pytest

import vpwr
from vpwr import ChannelSourceMode as Mode, ResolverChannel

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))
FIXTURES = os.path.join(REPO, "tests", "fixtures")
NODE_XML = os.path.join(FIXTURES, "libvirt", "node.xml")


def open_libvirt(uri):
    try:
        return vpwr.Resolver("libvirt:" + uri)
    except vpwr.Error as e:
        if e.errno == errno.EPROTONOSUPPORT:
            pytest.skip("libvpwr built without libvirt")
        raise


@pytest.fixture
def node():
    with open_libvirt("test://" + NODE_XML) as r:
        yield r


def test_channels_of_the_fixture(node):
    pinned = [
        ResolverChannel("pinned", "/run/vpwr-test/pinned.agent0",
                        "virtio.serial.port.poweragent.0", Mode.BIND, True),
        ResolverChannel("pinned", "/run/vpwr-test/pinned.ctl",
                        "org.libvpwr.ctl", Mode.CONNECT, True)]
    off = [ResolverChannel("off", "/run/vpwr-test/off.0", "org.libvpwr.0",
                           Mode.CONNECT, False)]
    assert node.channels("pinned") == pinned
    assert node.channels("off") == off
    assert node.channels() == off + pinned       # domain order
    assert node.channels("floating") == []
    assert isinstance(node.channels()[0].source_mode, Mode)
    with pytest.raises(vpwr.Error) as e:
        node.channels("no-such-domain")
    assert e.value.errno == vpwr.ErrorCode.NO_DOMAIN
    with pytest.raises(TypeError):
        node.channels(3)


def test_domain_cid(node):
    assert node.domain_cid("pinned") == 5
    assert node.domain_cid("off") == 9
    assert node.domain_cid("floating") is None   # no fixed CID
    assert node.domain_cid("unpinned") is None   # auto: none fixed
    with pytest.raises(vpwr.Error) as e:
        node.domain_cid("no-such-domain")
    assert e.value.errno == vpwr.ErrorCode.NO_DOMAIN
    with pytest.raises(TypeError):
        node.domain_cid(None)


def test_change_fd_and_refresh_without_changes(node):
    fd = node.change_fd
    assert isinstance(fd, int) and fd >= 0 and node.fileno() == fd
    assert select.select([node], [], [], 0)[0] == []
    assert node.refresh() is False
    assert node.change_fd == fd                  # stays the same


def test_static_resolver(tmp_path):
    with vpwr.StaticResolver(os.path.join(FIXTURES, "pins",
                                          "good.json")) as r:
        assert r.domain_cid("web") == 5
        assert r.domain_cid("db") is None
        for call in (r.channels, lambda: r.change_fd, r.refresh, r.fileno):
            with pytest.raises(vpwr.Error) as e:
                call()
            assert e.value.errno in (errno.ENOTSUP, errno.EOPNOTSUPP)


# ---------------------------------------- changes through libvirt's C API

class Libvirt:
    """Just enough of libvirt's C API (ctypes) to change the shared
    test:///default driver under a resolver."""

    def __init__(self):
        try:
            lib = ctypes.CDLL("libvirt.so.0")
        except OSError:
            pytest.skip("no libvirt.so.0")
        p, s = ctypes.c_void_p, ctypes.c_char_p
        lib.virConnectOpen.restype = p
        lib.virConnectOpen.argtypes = [s]
        lib.virConnectClose.argtypes = [p]
        lib.virDomainDefineXML.restype = p
        lib.virDomainDefineXML.argtypes = [p, s]
        for f in ("virDomainCreate", "virDomainDestroy",
                  "virDomainUndefine", "virDomainFree"):
            getattr(lib, f).argtypes = [p]
        lib.virDomainPinVcpu.argtypes = [p, ctypes.c_uint, s, ctypes.c_int]
        self.lib = lib
        self.conn = lib.virConnectOpen(b"test:///default")
        assert self.conn
        self.domains = []

    def define_and_start(self, xml):
        dom = self.lib.virDomainDefineXML(self.conn, xml.encode())
        assert dom, "virDomainDefineXML failed"
        self.domains.append(dom)
        assert self.lib.virDomainCreate(dom) == 0
        return dom

    def pin(self, dom, vcpu, cpu):
        mask = bytes([1 << cpu])
        assert self.lib.virDomainPinVcpu(dom, vcpu, mask, 1) == 0

    def destroy(self, dom):
        assert self.lib.virDomainDestroy(dom) == 0

    def close(self):
        for dom in self.domains:
            self.lib.virDomainDestroy(dom)      # may be off already
            self.lib.virDomainUndefine(dom)
            self.lib.virDomainFree(dom)
        self.lib.virConnectClose(self.conn)


def domain_xml(name, path):
    return f"""<domain type='test'><name>{name}</name>
<memory>524288</memory><vcpu>2</vcpu>
<cputune><vcpupin vcpu='0' cpuset='2'/><vcpupin vcpu='1' cpuset='3'/>
</cputune><os><type>hvm</type></os>
<devices><channel type='unix'><source mode='bind' path='{path}'/>
<target type='virtio' name='org.libvpwr.0'/></channel>
<vsock model='virtio'><cid auto='no' address='7'/></vsock></devices>
</domain>"""


@pytest.fixture
def libvirt():
    lv = Libvirt()
    yield lv
    lv.close()


@pytest.fixture
def qemu_side(tmp_path):
    """What QEMU would listen on for a bind-mode channel."""
    path = str(tmp_path / "agent.sock")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(4)
    with srv:
        yield path, srv


def test_refresh_sees_a_repin_and_a_stop(libvirt, qemu_side):
    path, _ = qemu_side
    dom = libvirt.define_and_start(domain_xml("pyvm", path))
    with open_libvirt("test:///default") as r:
        assert "pyvm" in r.domains
        assert r.lookup("pyvm", 0) == {2}
        assert r.domain_cid("pyvm") == 7
        assert r.channels("pyvm") == [ResolverChannel(
            "pyvm", path, "org.libvpwr.0", Mode.BIND, True)]
        libvirt.pin(dom, 0, 4)
        assert r.lookup("pyvm", 0) == {2}        # the cache, until...
        assert r.refresh() is True
        assert r.lookup("pyvm", 0) == {4}
        assert r.refresh() is False
        libvirt.destroy(dom)
        assert r.refresh() is True
        assert r.channels("pyvm")[0].running is False


def test_host_auto_channels(libvirt, qemu_side, sim):
    path, srv = qemu_side
    libvirt.define_and_start(domain_xml("pyvm", path))
    with open_libvirt("test:///default") as r, \
            vpwr.SimBackend(nr_cpus=8) as sim8:
        for auto in (False, True):
            with vpwr.Host(sim8, r, auto_channels=auto) as host:
                assert host.auto_channels is auto
                for _ in range(10):
                    host.dispatch(20)
                connected = bool(select.select([srv], [], [], 0)[0])
                assert connected is auto
                assert host.nr_channels == int(auto)
                if connected:
                    conn, _ = srv.accept()
                    conn.close()
