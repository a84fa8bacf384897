# SPDX-License-Identifier: MIT
"""vpwr.Error: an OSError with errno, the library's message and a reason."""

import errno
import pickle

import pytest

import vpwr
from vpwr import _vpwr


def test_unknown_scheme_raises_oserror_with_errno():
    with pytest.raises(vpwr.Error) as ei:
        vpwr.Guest("bogus:x")
    e = ei.value
    assert isinstance(e, OSError)
    assert e.errno == errno.EPROTONOSUPPORT
    assert e.strerror == _vpwr.vpwr_strerror(-errno.EPROTONOSUPPORT)
    assert e.name == "EPROTONOSUPPORT"
    assert e.strerror in str(e)


def test_caught_as_oserror():
    with pytest.raises(OSError):
        vpwr.Guest("bogus:x")


def test_missing_socket_is_enoent(tmp_path):
    with pytest.raises(vpwr.Error) as ei:
        vpwr.Guest("unix:" + str(tmp_path / "nobody.sock"))
    assert ei.value.errno == errno.ENOENT


def test_library_codes_come_from_the_c_table():
    assert vpwr.ErrorCode.PROTO == _vpwr.VPWR_E_PROTO == 4000
    assert vpwr.ErrorCode.VCPU_RANGE == _vpwr.VPWR_E_VCPU_RANGE
    for code in vpwr.ErrorCode:
        e = vpwr.Error(code)
        assert e.errno == code
        assert e.strerror == _vpwr.vpwr_strerror(code)
        assert e.name == "VPWR_E_" + code.name


def test_error_from_negative_code_and_reason():
    e = vpwr.Error(-vpwr.ErrorCode.VCPU_RANGE, reason="vCPU 9 of vm1")
    assert e.errno == vpwr.ErrorCode.VCPU_RANGE
    assert e.strerror == "vCPU out of range for this domain"
    assert str(e) == ("[Errno 4004] vCPU out of range for this domain: "
                      "vCPU 9 of vm1")


def test_error_pickles():
    e = vpwr.Error(errno.EINVAL, reason="why")
    f = pickle.loads(pickle.dumps(e))
    assert type(f) is vpwr.Error
    assert (f.errno, f.strerror, f.reason) == (e.errno, e.strerror, "why")


def test_missing_pins_file(tmp_path):
    with pytest.raises(vpwr.Error) as ei:
        vpwr.StaticResolver(tmp_path / "absent.json")
    assert ei.value.errno == errno.ENOENT


def test_invalid_pins_file_says_why(tmp_path):
    path = tmp_path / "pins.json"
    path.write_text('{"domains": {"vm1": {"vcpus": [0, }}}')
    with pytest.raises(vpwr.Error) as ei:
        vpwr.StaticResolver(path)
    assert ei.value.errno == vpwr.ErrorCode.CONFIG
    # The library's log message explains where and why.
    assert ei.value.reason
    assert ei.value.reason in str(ei.value)


def test_unknown_backend():
    with pytest.raises(vpwr.Error) as ei:
        vpwr.Backend("no-such-backend")
    assert ei.value.errno == errno.ENOENT
