# SPDX-License-Identifier: MIT
"""vpwr.Resolver on a libvirt: URI, through libvpwr.so, which loads the
libvirt resolver from its module (libvpwr-0/libvpwr-resolver-libvirt.so
beside itself) only when such a URI is opened.  Uses libvirt's built-in
test:///default driver: no daemon."""

import errno
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

import vpwr

pytestmark = pytest.mark.skipif(
    os.environ.get("VPWR_WITH_LIBVIRT") != "1",
    reason="libvpwr built without libvirt (VPWR_WITH_LIBVIRT)")


def test_libvirt_test_driver():
    with vpwr.Resolver("libvirt:test:///default") as r:
        assert r.domains == ["test"]
        assert r.nr_vcpus("test") >= 1


def test_libvirt_loaded_on_demand_beside_libvpwr():
    # A fresh interpreter: importing vpwr maps libvpwr.so but neither
    # libvirt nor libxml2; opening a libvirt: URI maps the module from
    # libvpwr-0/ in libvpwr.so's directory, and libvirt with it.
    code = textwrap.dedent("""
        import os, vpwr
        def mapped():
            with open("/proc/self/maps") as f:
                return {l.split()[-1] for l in f if "/" in l}
        def names(paths):
            return sorted({os.path.basename(p).split(".so")[0] for p in paths})
        before = mapped()
        with vpwr.Resolver("libvirt:test:///default") as r:
            assert r.domains == ["test"]
            after = mapped()
        lib = [p for p in before if "/libvpwr.so" in p]
        mod = [p for p in after if p.endswith("/libvpwr-resolver-libvirt.so")]
        print(names(p for p in before if "libvirt" in p or "libxml2" in p))
        print(names(p for p in after if "/libvirt.so" in p or "libxml2" in p))
        print(os.path.dirname(lib[0]) if len(lib) == 1 else lib)
        print(os.path.dirname(os.path.dirname(mod[0])) if len(mod) == 1 else mod)
        print(os.path.basename(os.path.dirname(mod[0])) if mod else None)
    """)
    out = subprocess.run([sys.executable, "-c", code], check=True,
                         capture_output=True, text=True).stdout.splitlines()
    assert out[0] == "[]"
    assert out[1] == "['libvirt', 'libxml2']"
    assert out[2] == out[3]
    assert out[4] == "libvpwr-0"



def _module_dir():
    """Where libvpwr.so loads the libvirt resolver from by default:
    libvpwr-0/ beside it."""
    import vpwr._vpwr  # noqa: F401 (maps libvpwr.so)
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "/libvpwr.so" in line}
    assert len(libs) == 1, libs
    return os.path.join(os.path.dirname(libs.pop()), "libvpwr-0")


def test_module_dir(tmp_path):
    # The default directory, given explicitly (str or PathLike), works.
    here = _module_dir()
    for d in (here, pathlib.Path(here)):
        with vpwr.Resolver("libvirt:test:///default", module_dir=d) as r:
            assert r.domains == ["test"]
    # An empty directory has no module: EPROTONOSUPPORT, saying where.
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(vpwr.Error) as e:
        vpwr.Resolver("libvirt:test:///default", module_dir=empty)
    assert e.value.errno == errno.EPROTONOSUPPORT
    assert str(empty) in e.value.reason
    # Ignored by the other schemes.
    pins = tmp_path / "pins.json"
    pins.write_text('{"domains": {"vm1": {"vcpus": ["0"]}}}')
    with vpwr.Resolver(f"static:{pins}", module_dir=empty) as r:
        assert r.domains == ["vm1"]
    for bad in (3, ["x"]):
        with pytest.raises(TypeError):
            vpwr.Resolver("libvirt:test:///default", module_dir=bad)
    with pytest.raises(TypeError):                 # keyword only
        vpwr.Resolver("libvirt:test:///default", here)
