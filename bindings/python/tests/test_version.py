# SPDX-License-Identifier: MIT
"""The version the package reports is the library's and the header's."""

import os

import pytest

import vpwr
from vpwr import _vpwr


def test_version_matches_header():
    header = (_vpwr.VPWR_VERSION_MAJOR, _vpwr.VPWR_VERSION_MINOR,
              _vpwr.VPWR_VERSION_PATCH)
    assert _vpwr.vpwr_version() == _vpwr.VPWR_VERSION
    assert vpwr.version() == header
    assert tuple(vpwr.version()) == header
    assert vpwr.__version__ == "%d.%d.%d" % header
    assert vpwr.__version__ == _vpwr.vpwr_version_string()
    assert str(vpwr.version()) == vpwr.__version__


def test_version_matches_project():
    expected = os.environ.get("VPWR_EXPECTED_VERSION")
    if not expected:
        pytest.skip("VPWR_EXPECTED_VERSION is set by CTest only")
    assert vpwr.__version__ == expected


def test_version_info_compares_like_a_tuple():
    v = vpwr.version()
    assert v.major == v[0] and v.minor == v[1] and v.patch == v[2]
    assert v >= (0, 0, 0)
