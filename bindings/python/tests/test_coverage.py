# SPDX-License-Identifier: MIT
"""Every function libvpwr exports (src/libvpwr.map) reaches Python: it is
in the SWIG module itself, or one of vpwr.i's vpwr_py_* helpers calls it,
or it is listed below with the reason it is not wrapped.  A function added
to the library fails this test until the bindings cover it."""

import os
import re

import pytest

from vpwr import _vpwr

HERE = os.path.dirname(os.path.abspath(__file__))
MAP = os.path.join(HERE, "..", "..", "..", "src", "libvpwr.map")
INTERFACE = os.path.join(HERE, "..", "vpwr.i")

# Deliberately not wrapped (keep bindings/python/README.md in step).
NOT_WRAPPED = {
    "vpwr_host_add_listener":
        "Host.listen(domain, uri) opens and adds the listener in one call; "
        "handing over a vpwr.Listener would need the Python object to give "
        "up its handle",
    "vpwr_msg_init":
        "vpwr.Message builds messages in Python (Message.scale(), ...)",
}


def exported():
    with open(MAP, encoding="utf-8") as f:
        return re.findall(r"^\s+(vpwr_\w+);", f.read(), re.M)


def called_by_helpers():
    """The library functions the C code of vpwr.i calls."""
    with open(INTERFACE, encoding="utf-8") as f:
        text = f.read()
    code = "".join(re.findall(r"^%\{(.*?)^%\}", text, re.M | re.S))
    return set(re.findall(r"\b(vpwr_(?!py_)\w+)\s*\(", code))


@pytest.fixture(scope="module")
def symbols():
    if not os.path.isfile(MAP) or not os.path.isfile(INTERFACE):
        pytest.skip("not run from a source tree")
    return exported()


def test_every_exported_function_is_covered(symbols):
    assert len(symbols) > 100
    helpers = called_by_helpers()
    missing = [s for s in symbols if not hasattr(_vpwr, s)
               and s not in helpers and s not in NOT_WRAPPED]
    assert missing == []


def test_the_exceptions_are_still_exceptions(symbols):
    """An entry of NOT_WRAPPED that is exported no more, or has been
    wrapped since, must go."""
    helpers = called_by_helpers()
    for name in NOT_WRAPPED:
        assert name in symbols
        assert not hasattr(_vpwr, name) and name not in helpers, name


@pytest.mark.parametrize("name", [
    "vpwr_resolver_foreach_interface", "vpwr_resolver_domain_running",
    "vpwr_backend_policy_cpus", "vpwr_host_detach"])
def test_todays_functions(symbols, name):
    assert name in symbols
    assert hasattr(_vpwr, name) or name in called_by_helpers()
