# SPDX-License-Identifier: MIT
"""Resolver.channels(), domain_cid(), change_fd and refresh() on libvirt's
test driver (tests/fixtures/libvirt/node.xml, and test:///default changed
through libvirt's C API with ctypes) and on static: pins; and
Host(auto_channels=True) following a domain's channel."""

import ctypes
import dataclasses
import errno
import os
import select
import socket

import pytest

import vpwr
from vpwr import ChannelSourceMode as Mode, ResolverChannel, \
    ResolverInterface

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


def test_interfaces_of_the_fixture(node):
    # A tap, a VF as an <interface type='hostdev'> and a bare PCI
    # <hostdev> (no MAC), in that order; the USB <hostdev> is not one.
    # The test driver makes up the live target devs of a running domain.
    pinned = node.interfaces("pinned")
    assert [(i.domain, i.mac, i.type, i.pci_addr, i.running)
            for i in pinned] == [
        ("pinned", "52:54:00:00:00:01", "network", None, True),
        ("pinned", "52:54:00:00:00:02", "hostdev", "0000:03:10.1", True),
        ("pinned", None, "hostdev", "0000:03:10.3", True)]
    assert isinstance(pinned[0].target_dev, str) and pinned[0].target_dev
    assert pinned[2].target_dev is None
    # Shut off: from its config, without the target dev.
    off = [ResolverInterface("off", "52:54:00:00:00:09", "direct", None,
                             None, False)]
    assert node.interfaces("off") == off
    assert node.interfaces("partial") == []
    assert node.interfaces() == off + pinned     # domain order
    with pytest.raises(dataclasses.FrozenInstanceError):
        off[0].mac = "x"
    with pytest.raises(vpwr.Error) as e:
        node.interfaces("no-such-domain")
    assert e.value.errno == vpwr.ErrorCode.NO_DOMAIN
    for bad in (3, b"pinned", ["pinned"]):
        with pytest.raises(TypeError):
            node.interfaces(bad)


def test_domain_running(node):
    assert node.domain_running("pinned") is True
    assert node.domain_running("off") is False
    assert {d: node.domain_running(d) for d in node.domains} == {
        "floating": True, "hotplug": True, "off": False, "partial": True,
        "pinned": True, "unpinned": True}
    with pytest.raises(vpwr.Error) as e:
        node.domain_running("no-such-domain")
    assert e.value.errno == vpwr.ErrorCode.NO_DOMAIN
    for bad in (None, 3, b"off"):
        with pytest.raises(TypeError):
            node.domain_running(bad)
    node.close()
    with pytest.raises(ValueError):
        node.domain_running("off")


def test_static_interfaces_and_running():
    with vpwr.StaticResolver(os.path.join(FIXTURES, "pins",
                                          "good-interfaces.json")) as r:
        assert r.interfaces("web") == [
            ResolverInterface("web", "52:54:00:12:34:56", "ethernet",
                              "tap0", None, True),
            ResolverInterface("web", "52:54:00:aa:bb:cc", "hostdev", None,
                              "0000:03:10.1", True),
            ResolverInterface("web", None, None, None, "0000:03:10.3",
                              True)]
        assert r.interfaces("db") == []          # says: none
        with pytest.raises(vpwr.Error) as e:
            r.interfaces("batch")                # does not say
        assert e.value.errno in (errno.ENOTSUP, errno.EOPNOTSUPP)
        # Every domain: those that say (batch < db < web)
        assert r.interfaces() == r.interfaces("web")
        with pytest.raises(vpwr.Error) as e:
            r.interfaces("nope")
        assert e.value.errno == vpwr.ErrorCode.NO_DOMAIN
        # static: cannot tell whether a domain runs
        assert r.domain_running("web") is None
        with pytest.raises(vpwr.Error) as e:
            r.domain_running("nope")
        assert e.value.errno == vpwr.ErrorCode.NO_DOMAIN


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
        assert r.domain_running("web") is None
        for call in (r.channels, r.interfaces, lambda: r.change_fd,
                     r.refresh, r.fileno):
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
        assert r.domain_running("pyvm") is True
        libvirt.destroy(dom)
        assert r.domain_running("pyvm") is True  # the cache, until...
        assert r.refresh() is True
        assert r.channels("pyvm")[0].running is False
        assert r.domain_running("pyvm") is False


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


def test_port_events_option(caplog):
    """port_events=True asks for QEMU's port events; the test driver
    refuses them, which is logged, and the resolver works on."""
    import logging
    with caplog.at_level(logging.WARNING, logger="vpwr"):
        try:
            r = vpwr.Resolver("libvirt:test://" + NODE_XML, port_events=True)
        except vpwr.Error as e:
            if e.errno == errno.EPROTONOSUPPORT:
                pytest.skip("libvpwr built without libvirt")
            raise
    with r:
        ch = r.channels("pinned")[0]
        assert ch.guest_open is None           # the test driver keeps none
        assert ch.guest_port_events == 0
    assert any("no port events" in rec.getMessage()
               for rec in caplog.records if rec.name == "vpwr")
    with pytest.raises(TypeError):
        vpwr.Resolver("libvirt:test://" + NODE_XML, port_events=1)
