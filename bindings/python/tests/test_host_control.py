"""The host's connectors, operator bounds per domain, refresh and control
interface, from Python."""
import os
import socket

import pytest

import vpwr


@pytest.fixture
def host(tmp_path):
    pins = tmp_path / "pins.json"
    pins.write_text('{"domains": {"vm1": {"vcpus": ["0", "1"]},'
                    ' "vm2": {"vcpus": ["2"]}}}')
    with vpwr.SimBackend(4) as b, vpwr.Resolver(f"static:{pins}") as r, \
            vpwr.Host(b, r) as h:
        yield h


def test_control_cpus_and_bounds(host):
    rep = host.control({"cmd": "cpus"})
    assert rep["ok"] and rep["backend"] == "sim" and len(rep["cpus"]) == 4
    host.control({"cmd": "set-bounds", "pcpu": 1, "max_khz": 1600000})
    assert host.control('{"cmd":"cpus"}')["cpus"][1]["bounds"] == \
        {"min_khz": 0, "max_khz": 1600000}


def test_control_refusal_raises(host):
    with pytest.raises(vpwr.Error) as e:
        host.control({"cmd": "set-bounds", "domain": "nosuch"})
    assert "nosuch" in str(e.value) or e.value.errno
    with pytest.raises(vpwr.Error):
        host.control("not json")
    with pytest.raises(TypeError):
        host.control(42)


def test_domain_bounds(host):
    host.set_domain_bounds("vm2", 0, 1200000)
    doms = host.control({"cmd": "domains"})["domains"]
    assert [d["bounds"] for d in doms if d["name"] == "vm2"] == \
        [{"min_khz": 0, "max_khz": 1200000}]
    with pytest.raises(vpwr.Error):
        host.set_domain_bounds("nosuch", 0, 1)


def test_refresh_static_is_quiet(host):
    assert host.refresh() is False


def test_connect_waits_for_qemu(host, tmp_path):
    path = tmp_path / "vm1.0"
    host.connect("vm1", f"virtio-serial-host:{path}")
    assert host.nr_channels == 0
    qemu = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    qemu.bind(str(path))
    qemu.listen(1)
    for _ in range(200):
        host.dispatch(20)
        if host.nr_channels:
            break
    assert host.nr_channels == 1
    qemu.close()
    with pytest.raises(vpwr.Error):
        host.connect("vm1", "nope:x")


def test_control_listen(host, tmp_path):
    path = tmp_path / "ctl.sock"
    host.control_listen(f"unix-listen:{path}")
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"


def test_watch_dir(host, tmp_path):
    qemu = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    qemu.bind(str(tmp_path / "vm2.0"))
    qemu.listen(1)
    host.watch_dir(tmp_path)
    assert host.nr_channels == 1
    with pytest.raises(vpwr.Error):
        host.watch_dir(tmp_path / "missing")
    qemu.close()
