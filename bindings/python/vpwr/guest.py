# SPDX-License-Identifier: MIT
"""The guest client: ask the host to change the frequency of this VM's vCPUs.

    with vpwr.Guest("unix:/run/vpwr/vm1.sock") as g:
        g.scale(0, "max")
        freqs, cur = g.query_freqs(0)
"""

import enum
import os
from dataclasses import dataclass

from . import _vpwr
from ._handle import (Handle, Ref, as_bool, as_str, as_timeout, as_uint,
                      fd_of)

__all__ = ["Guest", "ScaleOp", "Epp", "HostCaps", "HelloInfo", "VcpuState"]


class _NamedEnum(enum.IntEnum):
    """An IntEnum that also takes its member names, case-insensitively:
    ScaleOp("max") is ScaleOp.MAX."""

    @classmethod
    def _missing_(cls, value):
        if isinstance(value, str):
            return cls.__members__.get(value.strip().upper().replace("-", "_"))
        return None

    @classmethod
    def coerce(cls, value, what):
        """A member from a member, its name or its value; TypeError for
        other types, ValueError for unknown names and values."""
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise TypeError(f"{what} must be a {cls.__name__} or one of "
                            f"{cls.names()}, not {type(value).__name__}")
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"{what} must be one of {cls.names()}, "
                             f"not {value!r}") from None

    @classmethod
    def names(cls):
        return ", ".join(repr(m.name.lower()) for m in cls)


class ScaleOp(_NamedEnum):
    """How Guest.scale() moves a vCPU through its frequency table."""
    UP = _vpwr.VPWR_SCALE_UP          #: one step up
    DOWN = _vpwr.VPWR_SCALE_DOWN      #: one step down
    MIN = _vpwr.VPWR_SCALE_MIN        #: the lowest frequency
    MAX = _vpwr.VPWR_SCALE_MAX        #: the highest frequency
    MEDIUM = _vpwr.VPWR_SCALE_MEDIUM  #: the middle of the table


class Epp(_NamedEnum):
    """Named points of the energy-performance hint scale (0 ... 255);
    Guest.set_epp() takes any int of the scale too."""
    PERFORMANCE = _vpwr.VPWR_EPP_PERFORMANCE
    BALANCE_PERFORMANCE = _vpwr.VPWR_EPP_BALANCE_PERFORMANCE
    BALANCE_POWER = _vpwr.VPWR_EPP_BALANCE_POWER
    POWER = _vpwr.VPWR_EPP_POWER


class HostCaps(enum.IntFlag):
    """What a host supports, as its HELLO reply says."""
    TURBO = _vpwr.VPWR_CAP_TURBO
    EPP = _vpwr.VPWR_CAP_EPP
    POLICY = _vpwr.VPWR_CAP_POLICY
    RANGE = _vpwr.VPWR_CAP_RANGE
    NOTIFY = _vpwr.VPWR_CAP_NOTIFY


@dataclass(frozen=True)
class HelloInfo:
    """The host's answer to Guest.hello()."""
    version: int        #: the protocol version the host chose
    caps: HostCaps      #: what the host supports
    max_frame: int      #: largest frame the host accepts, in bytes
    nr_vcpus: int       #: vCPUs of this guest's domain
    rate_per_sec: int   #: requests per second allowed (0: no limit)


@dataclass(frozen=True)
class VcpuState:
    """One vCPU as the host sees it (Guest.query_state()); kHz."""
    cur_khz: int        #: the frequency its physical CPU(s) run at
    min_khz: int        #: the effective lower limit
    max_khz: int        #: the effective upper limit
    turbo: bool         #: turbo on
    req_min_khz: int    #: what this guest asked for (0: nothing)
    req_max_khz: int
    clamped: bool       #: another requester or the operator won
    epp: int            #: energy-performance hint


class Guest(Handle):
    """A client of the host's power service, over one channel.

    Guest(uri, timeout_ms=2000, codec=None) connects to `uri`
    ("unix:/run/vpwr/vm1.sock", "virtio-serial:/dev/virtio-ports/...",
    "vsock:2:5000"); Guest.from_socket() uses a socket you already have.

    Every request blocks until the host answers or `timeout_ms` passes
    (None: wait forever); the GIL is released meanwhile.  A refused request
    raises vpwr.Error with the host's status as errno and its explanation
    in .reason (also in last_reason).  Use it as a context manager, or call
    close(); the host then drops this channel's requests.

    One thread at a time uses a guest; other threads wait their turn.
    """

    _kind = "guest"

    def __init__(self, uri, timeout_ms=2000, *, codec=None):
        uri = as_str(uri, "uri")
        timeout, codec = self._opts(timeout_ms, codec)
        ref = Ref("guest", _vpwr.vpwr_guest_free)
        rc, ptr = _vpwr.vpwr_py_guest_open(uri, timeout, codec, ref.log)
        ref.check(rc)
        ref.ptr = ptr
        self._ref = ref

    @classmethod
    def from_socket(cls, sock, timeout_ms=2000, *, codec=None):
        """A guest on a connected stream socket (or its fd), e.g. one end
        of socket.socketpair().

        The guest uses its own duplicate of the fd and switches the
        connection to non-blocking mode, which the socket object shares: close
        the socket object (the connection stays up) rather than using it
        further.
        """
        fd = fd_of(sock)
        timeout, codec = cls._opts(timeout_ms, codec)
        self = cls.__new__(cls)
        ref = Ref("guest", _vpwr.vpwr_guest_free)
        # From here the duplicate is the library's, also on failure.
        rc, ptr = _vpwr.vpwr_py_guest_open_fd(os.dup(fd), timeout, codec,
                                              ref.log)
        ref.check(rc)
        ref.ptr = ptr
        self._ref = ref
        return self

    @staticmethod
    def _opts(timeout_ms, codec):
        timeout = as_timeout(timeout_ms)
        if timeout == 0:
            raise ValueError("timeout_ms must be > 0, or None to wait "
                             "forever")
        if codec is not None:
            codec = as_str(codec, "codec")
        return timeout, codec

    def _request(self, fn, *args):
        """Send one request; raise with the host's reason if refused."""
        ref = self._ref
        with ref.lock:
            ptr = self._use()
            ref.clear_log()
            res = fn(ptr, *args)
            rc = res[0] if isinstance(res, (list, tuple)) else res
            if rc < 0:
                ref.check(rc, _vpwr.vpwr_guest_last_reason(ptr))
            return res

    # -------------------------------------------------------- requests
    def hello(self):
        """Negotiate the protocol version; returns a HelloInfo."""
        info = _vpwr.vpwr_hello()
        self._request(_vpwr.vpwr_guest_hello, info)
        return HelloInfo(version=info.version_max, caps=HostCaps(info.caps),
                         max_frame=info.max_frame, nr_vcpus=info.nr_vcpus,
                         rate_per_sec=info.rate_per_sec)

    def scale(self, vcpu, op):
        """Move `vcpu` through its frequency table: `op` is a ScaleOp or
        one of "up", "down", "min", "max", "medium"."""
        vcpu = as_uint(vcpu, "vcpu")
        op = ScaleOp.coerce(op, "op")
        self._request(_vpwr.vpwr_guest_scale, vcpu, int(op))

    def set_freq(self, vcpu, khz):
        """Pin `vcpu` to the frequency `khz`."""
        vcpu = as_uint(vcpu, "vcpu")
        khz = as_uint(khz, "khz")
        self._request(_vpwr.vpwr_guest_set_freq, vcpu, khz)

    def set_range(self, vcpu, min_khz, max_khz):
        """Limit `vcpu` to [min_khz, max_khz]."""
        vcpu = as_uint(vcpu, "vcpu")
        min_khz = as_uint(min_khz, "min_khz")
        max_khz = as_uint(max_khz, "max_khz")
        self._request(_vpwr.vpwr_guest_set_range, vcpu, min_khz, max_khz)

    def set_turbo(self, vcpu, enable):
        """Turn turbo of `vcpu` on (True) or off (False)."""
        vcpu = as_uint(vcpu, "vcpu")
        enable = as_bool(enable, "enable")
        self._request(_vpwr.vpwr_guest_set_turbo, vcpu, int(enable))

    def set_epp(self, vcpu, hint):
        """Set the energy-performance hint of `vcpu`: an int from 0
        (performance) to 255 (power), an Epp, or an Epp name such as
        "balance_power"."""
        vcpu = as_uint(vcpu, "vcpu")
        if isinstance(hint, str):
            hint = Epp.coerce(hint, "hint")
        hint = as_uint(hint, "hint", 255)
        self._request(_vpwr.vpwr_guest_set_epp, vcpu, hint)

    def query_freqs(self, vcpu):
        """The frequencies `vcpu` can run at: (list of kHz ascending,
        current kHz)."""
        vcpu = as_uint(vcpu, "vcpu")
        _, khz, cur = self._request(_vpwr.vpwr_guest_query_freqs, vcpu,
                                    _vpwr.VPWR_MSG_MAX_FREQS)
        return khz, cur

    def query_state(self, vcpu):
        """What the host holds for `vcpu`, as a VcpuState."""
        vcpu = as_uint(vcpu, "vcpu")
        st = _vpwr.vpwr_vcpu_state()
        self._request(_vpwr.vpwr_guest_query_state, vcpu, st)
        return VcpuState(cur_khz=st.cur_khz, min_khz=st.min_khz,
                         max_khz=st.max_khz, turbo=bool(st.turbo),
                         req_min_khz=st.req_min_khz,
                         req_max_khz=st.req_max_khz,
                         clamped=bool(st.clamped), epp=st.epp)

    def release(self):
        """Drop every request this guest made; the host restores what it
        changed for them."""
        self._request(_vpwr.vpwr_guest_release)

    # ------------------------------------------------------ properties
    @property
    def last_reason(self):
        """The host's reason for the last refused request, or ""."""
        ref = self._ref
        with ref.lock:
            return _vpwr.vpwr_guest_last_reason(self._use())

    @property
    def fd(self):
        """The channel's fd (readable when the host sends a notification)."""
        return self.fileno()

    def fileno(self):
        """The channel's fd, so a guest can be given to select/selectors."""
        ref = self._ref
        with ref.lock:
            return ref.check(_vpwr.vpwr_guest_fd(self._use()))

    def __repr__(self):
        if self.closed:
            return self._repr("")
        return self._repr(f"fd={self.fileno()}")
