# SPDX-License-Identifier: MIT
"""vpwr.Resolver on a libvirt: URI, through libvpwr.so, which loads the
libvirt resolver from its module (libvpwr-0/libvpwr-resolver-libvirt.so
beside itself) only when such a URI is opened.  Uses libvirt's built-in
test:///default driver: no daemon."""

import os
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

