# SPDX-License-Identifier: MIT
"""Messages, policies and codecs: the protocol as Python values.

A Message is what every codec decodes to and encodes from, and what the
host engine and the guest client speak (libvpwr/message.h).  Its `body`
depends on the message type and on whether it is a request or a reply:

    ==============  ======================  =================================
    type            request body            reply body (status 0)
    ==============  ======================  =================================
    HELLO           Hello                   Hello
    SCALE           Scale                   VcpuState
    SET_FREQ        SetFreq                 VcpuState
    SET_RANGE       SetRange                VcpuState
    TURBO           Turbo                   VcpuState
    SET_EPP         SetEpp                  VcpuState
    POLICY_SET      Policy                  None
    POLICY_REMOVE   RemovePolicy            None
    QUERY_FREQS     None                    Freqs
    QUERY_STATE     None                    VcpuState
    QUERY_CAPS      None                    Hello
    RELEASE         None                    None
    LIMITS_CHANGED  VcpuState (a host notification)
    QUERY_VCPUS     VcpuList (only `want`)  VcpuList
    ==============  ======================  =================================

    msg = vpwr.Message.scale(0, "max")
    data = vpwr.Codec("json").encode(msg)     # b'{"v":1,"seq":0,...}\\n'
    back = vpwr.Codec("json").decode(data)    # == msg

Messages cross into C as the bytes of struct vpwr_msg, packed at offsets
the compiler computed (vpwr._vpwr.vpwr_py_layout()).
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from typing import ClassVar, FrozenSet, Iterable, Optional, Tuple, Union

from . import _vpwr
from ._errors import Error
from ._handle import as_bool, as_str, as_uint

__all__ = [
    "MsgType", "MsgFlags", "ScaleOp", "Epp", "HostCaps", "PolicyKind",
    "Workload", "VcpusWant",
    "Hello", "HelloInfo", "Scale", "SetFreq", "SetRange", "Turbo", "SetEpp",
    "Policy", "RemovePolicy", "Freqs", "VcpuState", "VcpuList", "Message",
    "Codec", "DecodeError",
]

_L = _vpwr.vpwr_py_layout()
MSG_SIZE: int = _L["sizeof.msg"]
POLICY_SIZE: int = _L["sizeof.policy"]
VCPU_LIST_SIZE: int = _L["sizeof.vcpu_list"]
_CPUSET_SIZE: int = _L["sizeof.cpuset"]
_POLICY = _L["u.policy"]
_VCPUS = _L["u.vcpus"]
VCPU_NONE = _vpwr.VPWR_VCPU_NONE
MAX_CPUS = _vpwr.VPWR_MAX_CPUS
MAX_FREQS = _vpwr.VPWR_MSG_MAX_FREQS
MAX_VCPUS = _vpwr.VPWR_MSG_MAX_VCPUS
MAX_MACS = _vpwr.VPWR_MSG_MAX_MACS
REASON_MAX = _vpwr.VPWR_REASON_MAX
_HOURS_MASK = (1 << 24) - 1


# ----------------------------------------------------------------- enums

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


class MsgType(_NamedEnum):
    """Message types (enum vpwr_msg_type; native wire numbers)."""
    HELLO = _vpwr.VPWR_MSG_HELLO                  #: version negotiation
    SCALE = _vpwr.VPWR_MSG_SCALE                  #: step a vCPU
    SET_FREQ = _vpwr.VPWR_MSG_SET_FREQ            #: pin a vCPU's frequency
    SET_RANGE = _vpwr.VPWR_MSG_SET_RANGE          #: min/max limits
    TURBO = _vpwr.VPWR_MSG_TURBO                  #: turbo on/off
    SET_EPP = _vpwr.VPWR_MSG_SET_EPP              #: energy-performance hint
    POLICY_SET = _vpwr.VPWR_MSG_POLICY_SET        #: hand the host a policy
    POLICY_REMOVE = _vpwr.VPWR_MSG_POLICY_REMOVE  #: withdraw one
    QUERY_FREQS = _vpwr.VPWR_MSG_QUERY_FREQS      #: the frequency table
    QUERY_STATE = _vpwr.VPWR_MSG_QUERY_STATE      #: a vCPU's state
    QUERY_CAPS = _vpwr.VPWR_MSG_QUERY_CAPS        #: the host's capabilities
    RELEASE = _vpwr.VPWR_MSG_RELEASE              #: drop every request
    LIMITS_CHANGED = _vpwr.VPWR_MSG_LIMITS_CHANGED  #: host notification
    QUERY_VCPUS = _vpwr.VPWR_MSG_QUERY_VCPUS      #: per-vCPU facts


class MsgFlags(enum.IntFlag):
    """Message.flags."""
    REPLY = _vpwr.VPWR_MSG_F_REPLY    #: a reply to the request with its seq
    NOTIFY = _vpwr.VPWR_MSG_F_NOTIFY  #: an unsolicited host notification


class ScaleOp(_NamedEnum):
    """How a SCALE request moves a vCPU through its frequency table."""
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


class PolicyKind(_NamedEnum):
    """Kinds of policy a guest hands its host (Policy.kind)."""
    TIME = _vpwr.VPWR_POLICY_TIME                  #: busy/quiet hours
    TRAFFIC = _vpwr.VPWR_POLICY_TRAFFIC            #: packet-rate thresholds
    WORKLOAD = _vpwr.VPWR_POLICY_WORKLOAD          #: a fixed level
    BRANCH_RATIO = _vpwr.VPWR_POLICY_BRANCH_RATIO  #: branch-miss ratio


class Workload(_NamedEnum):
    """Levels of a WORKLOAD policy: the lowest, middle or highest entry of
    the frequency table."""
    LOW = _vpwr.VPWR_WORKLOAD_LOW
    MEDIUM = _vpwr.VPWR_WORKLOAD_MEDIUM
    HIGH = _vpwr.VPWR_WORKLOAD_HIGH


class VcpusWant(enum.IntFlag):
    """What a QUERY_VCPUS asks for."""
    FREQS = _vpwr.VPWR_VCPUS_FREQS  #: current frequencies
    CAPS = _vpwr.VPWR_VCPUS_CAPS    #: turbo and priority capabilities


def _raw(cls, **values):
    """An instance of a frozen dataclass with these values, unchecked: what
    C hands back is shown as it is, even out of range (a partly decoded
    frame)."""
    obj = object.__new__(cls)
    for k, v in values.items():
        object.__setattr__(obj, k, v)
    return obj


def _enum_or_int(cls, value):
    try:
        return cls(value)
    except ValueError:
        return value


# --------------------------------------------------------------- packing

def _get(fmt, buf, off):
    return struct.unpack_from("=" + fmt, buf, off)[0]


def _put(fmt, buf, off, value):
    struct.pack_into("=" + fmt, buf, off, value)


def _u32s(buf, off, n):
    return list(struct.unpack_from(f"={n}I", buf, off))


def _hours(value, what):
    """A frozenset of hours 0..23 from an iterable of ints."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{what} must be a set of hours 0..23, not "
                        f"{type(value).__name__}")
    return frozenset(as_uint(h, f"each of {what}", 23) for h in value)


def _cpus(value, what):
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{what} must be a set of vCPU numbers, not "
                        f"{type(value).__name__}")
    return frozenset(as_uint(c, f"each of {what}", MAX_CPUS - 1)
                     for c in value)


def _mask(hours):
    m = 0
    for h in hours:
        m |= 1 << h
    return m


def _unmask(m, n=24):
    return frozenset(i for i in range(n) if (m >> i) & 1)


def _mac(value):
    """'aa:bb:cc:dd:ee:ff' (or 6 bytes) -> 6 bytes."""
    if isinstance(value, (bytes, bytearray)) and len(value) == 6:
        return bytes(value)
    if not isinstance(value, str):
        raise TypeError(f"a MAC must be a str 'aa:bb:cc:dd:ee:ff', not "
                        f"{type(value).__name__}")
    parts = value.split(":")
    try:
        if len(parts) != 6 or any(len(p) != 2 for p in parts):
            raise ValueError
        return bytes(int(p, 16) for p in parts)
    except ValueError:
        raise ValueError(f"not a MAC address: {value!r}") from None


def _mac_str(b):
    return ":".join(f"{x:02x}" for x in b)


# ------------------------------------------------------------------ bodies

@dataclass(frozen=True)
class Hello:
    """Body of HELLO (request and reply) and of the QUERY_CAPS reply."""
    version_min: int = 1       #: request: oldest version the guest speaks
    version_max: int = 1       #: request: newest; reply: the chosen one
    caps: HostCaps = HostCaps(0)  #: reply: what the host supports
    max_frame: int = 0         #: reply: largest frame the host accepts
    nr_vcpus: int = 0          #: reply: vCPUs of the guest's domain
    rate_per_sec: int = 0      #: reply: requests per second allowed

    _FIELDS: ClassVar = ("version_min", "version_max", "caps", "max_frame",
                         "nr_vcpus", "rate_per_sec")

    def __post_init__(self):
        for f in self._FIELDS:
            object.__setattr__(self, f, as_uint(getattr(self, f), f))
        object.__setattr__(self, "caps", HostCaps(self.caps))

    def _pack(self, buf):
        for f in self._FIELDS:
            _put("I", buf, _L["u.hello." + f], int(getattr(self, f)))

    @classmethod
    def _unpack(cls, buf):
        v = {f: _get("I", buf, _L["u.hello." + f]) for f in cls._FIELDS}
        v["caps"] = HostCaps(v["caps"])
        return _raw(cls, **v)


@dataclass(frozen=True)
class HelloInfo:
    """The host's answer to Guest.hello()."""
    version: int        #: the protocol version the host chose
    caps: HostCaps      #: what the host supports
    max_frame: int      #: largest frame the host accepts, in bytes
    nr_vcpus: int       #: vCPUs of this guest's domain
    rate_per_sec: int   #: requests per second allowed (0: no limit)


@dataclass(frozen=True)
class Scale:
    """Body of a SCALE request."""
    op: ScaleOp

    def __post_init__(self):
        object.__setattr__(self, "op", ScaleOp.coerce(self.op, "op"))

    def _pack(self, buf):
        _put("I", buf, _L["u.scale.op"], int(self.op))

    @classmethod
    def _unpack(cls, buf):
        return _raw(cls, op=_enum_or_int(ScaleOp,
                                         _get("I", buf, _L["u.scale.op"])))


@dataclass(frozen=True)
class SetFreq:
    """Body of a SET_FREQ request."""
    khz: int

    def __post_init__(self):
        object.__setattr__(self, "khz", as_uint(self.khz, "khz"))

    def _pack(self, buf):
        _put("I", buf, _L["u.freq.khz"], self.khz)

    @classmethod
    def _unpack(cls, buf):
        return _raw(cls, khz=_get("I", buf, _L["u.freq.khz"]))


@dataclass(frozen=True)
class SetRange:
    """Body of a SET_RANGE request."""
    min_khz: int
    max_khz: int

    def __post_init__(self):
        object.__setattr__(self, "min_khz", as_uint(self.min_khz, "min_khz"))
        object.__setattr__(self, "max_khz", as_uint(self.max_khz, "max_khz"))

    def _pack(self, buf):
        _put("I", buf, _L["u.range.min_khz"], self.min_khz)
        _put("I", buf, _L["u.range.max_khz"], self.max_khz)

    @classmethod
    def _unpack(cls, buf):
        return _raw(cls, min_khz=_get("I", buf, _L["u.range.min_khz"]),
                    max_khz=_get("I", buf, _L["u.range.max_khz"]))


@dataclass(frozen=True)
class Turbo:
    """Body of a TURBO request."""
    enable: bool

    def __post_init__(self):
        object.__setattr__(self, "enable", as_bool(self.enable, "enable"))

    def _pack(self, buf):
        _put("I", buf, _L["u.turbo.enable"], int(self.enable))

    @classmethod
    def _unpack(cls, buf):
        return _raw(cls, enable=bool(_get("I", buf, _L["u.turbo.enable"])))


@dataclass(frozen=True)
class SetEpp:
    """Body of a SET_EPP request: 0 (performance) .. 255 (power)."""
    hint: int

    def __post_init__(self):
        hint = self.hint
        if isinstance(hint, str):
            hint = Epp.coerce(hint, "hint")
        object.__setattr__(self, "hint", as_uint(hint, "hint", 255))

    def _pack(self, buf):
        _put("I", buf, _L["u.epp.hint"], self.hint)

    @classmethod
    def _unpack(cls, buf):
        return _raw(cls, hint=_get("I", buf, _L["u.epp.hint"]))


@dataclass(frozen=True)
class Policy:
    """A policy a guest hands its host to apply on its behalf.

    Build one with the class methods: Policy.time(busy=..., quiet=...),
    Policy.traffic(min_pps, avg_pps, max_pps), Policy.workload("high"),
    Policy.branch_ratio(ppm).  `vcpus` empty means every vCPU of the guest.
    Hours are 0..23; a host decides TIME by its own clock.
    """
    kind: PolicyKind
    vcpus: FrozenSet[int] = frozenset()       #: empty: every vCPU
    workload: Optional[Workload] = None       #: WORKLOAD: the level
    busy_hours: FrozenSet[int] = frozenset()  #: TIME: run at max
    quiet_hours: FrozenSet[int] = frozenset()  #: TIME: run at min
    traffic_hours: FrozenSet[int] = frozenset()  #: TIME: TRAFFIC rules apply
    min_pps: int = 0      #: TRAFFIC: below -> min frequency
    avg_pps: int = 0      #: TRAFFIC: below -> medium
    max_pps: int = 0      #: TRAFFIC: above -> max
    branch_ratio_ppm: int = 0  #: BRANCH_RATIO: misses per million branches
    macs: Tuple[str, ...] = ()  #: TRAFFIC: the guest's NICs ("aa:bb:...")

    def __post_init__(self):
        s = object.__setattr__
        s(self, "kind", PolicyKind.coerce(self.kind, "kind"))
        s(self, "vcpus", _cpus(self.vcpus, "vcpus"))
        if self.workload is not None:
            s(self, "workload", Workload.coerce(self.workload, "workload"))
        for h in ("busy_hours", "quiet_hours", "traffic_hours"):
            s(self, h, _hours(getattr(self, h), h))
        for n in ("min_pps", "avg_pps", "max_pps"):
            s(self, n, as_uint(getattr(self, n), n))
        s(self, "branch_ratio_ppm",
          as_uint(self.branch_ratio_ppm, "branch_ratio_ppm", 1000000))
        if isinstance(self.macs, (str, bytes)) or not hasattr(self.macs,
                                                               "__iter__"):
            raise TypeError("macs must be a sequence of MAC addresses")
        macs = tuple(_mac_str(_mac(m)) for m in self.macs)
        if len(macs) > MAX_MACS:
            raise ValueError(f"at most {MAX_MACS} MACs, not {len(macs)}")
        s(self, "macs", macs)

    # -------------------------------------------------------- builders
    @classmethod
    def time(cls, busy: Iterable[int] = (), quiet: Iterable[int] = (),
             traffic: Iterable[int] = (), *, min_pps: int = 0,
             avg_pps: int = 0, max_pps: int = 0,
             vcpus: Iterable[int] = ()) -> "Policy":
        """TIME: max frequency in `busy` hours, min in `quiet` hours, the
        TRAFFIC thresholds in `traffic` hours."""
        return cls(PolicyKind.TIME, vcpus=vcpus, busy_hours=busy,
                   quiet_hours=quiet, traffic_hours=traffic,
                   min_pps=min_pps, avg_pps=avg_pps, max_pps=max_pps)

    @classmethod
    def traffic(cls, min_pps: int, avg_pps: int, max_pps: int, *,
                macs: Iterable[str] = (),
                vcpus: Iterable[int] = ()) -> "Policy":
        """TRAFFIC: by packets/s, below min_pps the min frequency, below
        avg_pps medium, above max_pps the max."""
        return cls(PolicyKind.TRAFFIC, vcpus=vcpus, min_pps=min_pps,
                   avg_pps=avg_pps, max_pps=max_pps, macs=tuple(macs))

    @classmethod
    def workload_level(cls, level: Union[Workload, str, int], *,
                       vcpus: Iterable[int] = ()) -> "Policy":
        """WORKLOAD: a fixed level, "low", "medium" or "high"."""
        return cls(PolicyKind.WORKLOAD, vcpus=vcpus, workload=level)

    @classmethod
    def branch_ratio(cls, ppm: int, *, vcpus: Iterable[int] = ()) -> "Policy":
        """BRANCH_RATIO: branch misses per million branches."""
        return cls(PolicyKind.BRANCH_RATIO, vcpus=vcpus, branch_ratio_ppm=ppm)

    # ---------------------------------------------------------- bytes
    def _pack_at(self, buf, base):
        def off(name):
            return base + _L["u.policy." + name] - _POLICY
        _put("I", buf, off("kind"), int(self.kind))
        _put("I", buf, off("workload"),
             int(self.workload) if self.workload is not None else 0)
        bits = 0
        for c in self.vcpus:
            bits |= 1 << c
        buf[off("vcpus"):off("vcpus") + _CPUSET_SIZE] = bits.to_bytes(
            _CPUSET_SIZE, "little")
        _put("I", buf, off("busy_hours"), _mask(self.busy_hours))
        _put("I", buf, off("quiet_hours"), _mask(self.quiet_hours))
        _put("I", buf, off("traffic_hours"), _mask(self.traffic_hours))
        for n in ("min_pps", "avg_pps", "max_pps", "branch_ratio_ppm"):
            _put("I", buf, off(n), getattr(self, n))
        _put("I", buf, off("nr_macs"), len(self.macs))
        for i, m in enumerate(self.macs):
            o = off("macs") + 6 * i
            buf[o:o + 6] = _mac(m)

    @classmethod
    def _unpack_at(cls, buf, base, kind_ok=True):
        def off(name):
            return base + _L["u.policy." + name] - _POLICY
        kind = _get("I", buf, off("kind"))
        bits = int.from_bytes(buf[off("vcpus"):off("vcpus") + _CPUSET_SIZE],
                              "little")
        wl = _get("I", buf, off("workload"))
        nr_macs = min(_get("I", buf, off("nr_macs")), MAX_MACS)
        return _raw(
            cls,
            kind=_enum_or_int(PolicyKind, kind),
            vcpus=frozenset(i for i in range(bits.bit_length())
                            if (bits >> i) & 1),
            workload=_enum_or_int(Workload, wl) if wl else None,
            busy_hours=_unmask(_get("I", buf, off("busy_hours")), 32),
            quiet_hours=_unmask(_get("I", buf, off("quiet_hours")), 32),
            traffic_hours=_unmask(_get("I", buf, off("traffic_hours")), 32),
            min_pps=_get("I", buf, off("min_pps")),
            avg_pps=_get("I", buf, off("avg_pps")),
            max_pps=_get("I", buf, off("max_pps")),
            branch_ratio_ppm=_get("I", buf, off("branch_ratio_ppm")),
            macs=tuple(_mac_str(buf[off("macs") + 6 * i:
                                    off("macs") + 6 * i + 6])
                       for i in range(nr_macs)))

    def to_bytes(self) -> bytes:
        """The bytes of struct vpwr_policy."""
        buf = bytearray(POLICY_SIZE)
        self._pack_at(buf, 0)
        return bytes(buf)

    @classmethod
    def from_bytes(cls, data: bytes) -> "Policy":
        """A Policy from the bytes of struct vpwr_policy."""
        if len(data) != POLICY_SIZE:
            raise ValueError(f"a policy is {POLICY_SIZE} bytes, not "
                             f"{len(data)}")
        return cls._unpack_at(bytes(data), 0)

    def _pack(self, buf):
        self._pack_at(buf, _POLICY)

    @classmethod
    def _unpack(cls, buf):
        return cls._unpack_at(buf, _POLICY)


@dataclass(frozen=True)
class RemovePolicy:
    """Body of a POLICY_REMOVE request: the kind, or None for every kind."""
    kind: Optional[PolicyKind] = None

    def __post_init__(self):
        if self.kind is not None:
            object.__setattr__(self, "kind",
                               PolicyKind.coerce(self.kind, "kind"))

    def _pack(self, buf):
        _put("I", buf, _L["u.policy.kind"],
             int(self.kind) if self.kind is not None else 0)

    @classmethod
    def _unpack(cls, buf):
        k = _get("I", buf, _L["u.policy.kind"])
        return _raw(cls, kind=_enum_or_int(PolicyKind, k) if k else None)


@dataclass(frozen=True)
class Freqs:
    """Body of the QUERY_FREQS reply."""
    khz: Tuple[int, ...]   #: ascending, at most 64
    cur_khz: int

    def __post_init__(self):
        khz = tuple(as_uint(k, "each of khz") for k in self.khz)
        if len(khz) > MAX_FREQS:
            raise ValueError(f"at most {MAX_FREQS} frequencies")
        object.__setattr__(self, "khz", khz)
        object.__setattr__(self, "cur_khz", as_uint(self.cur_khz, "cur_khz"))

    def _pack(self, buf):
        _put("I", buf, _L["u.freqs.cur_khz"], self.cur_khz)
        _put("I", buf, _L["u.freqs.nr"], len(self.khz))
        struct.pack_into(f"={len(self.khz)}I", buf, _L["u.freqs.khz"],
                         *self.khz)

    @classmethod
    def _unpack(cls, buf):
        n = min(_get("I", buf, _L["u.freqs.nr"]), MAX_FREQS)
        return _raw(cls, khz=tuple(_u32s(buf, _L["u.freqs.khz"], n)),
                    cur_khz=_get("I", buf, _L["u.freqs.cur_khz"]))


@dataclass(frozen=True)
class VcpuState:
    """One vCPU as the host sees it (Guest.query_state(), the replies to
    changes, LIMITS_CHANGED); kHz."""
    cur_khz: int        #: the frequency its physical CPU(s) run at
    min_khz: int        #: the effective lower limit
    max_khz: int        #: the effective upper limit
    turbo: bool         #: turbo on
    req_min_khz: int    #: what this guest asked for (0: nothing)
    req_max_khz: int
    clamped: bool       #: another requester or the operator won
    epp: int            #: energy-performance hint

    _FIELDS: ClassVar = ("cur_khz", "min_khz", "max_khz", "turbo",
                         "req_min_khz", "req_max_khz", "clamped", "epp")

    def _pack(self, buf):
        for f in self._FIELDS:
            _put("I", buf, _L["u.state." + f], int(getattr(self, f)))

    @classmethod
    def _unpack(cls, buf):
        v = {f: _get("I", buf, _L["u.state." + f]) for f in cls._FIELDS}
        v["turbo"] = bool(v["turbo"])
        v["clamped"] = bool(v["clamped"])
        return cls(**v)


@dataclass(frozen=True)
class VcpuList:
    """Body of QUERY_VCPUS: per-vCPU facts from vCPU `first` on (a request
    carries only `want`)."""
    want: VcpusWant = VcpusWant.FREQS
    first: int = 0
    nr_vcpus: int = 0                #: vCPUs the domain has
    cur_khz: Tuple[int, ...] = ()    #: one entry per vCPU listed
    turbo: Tuple[bool, ...] = ()     #: entry i can use turbo
    priority: Tuple[bool, ...] = ()  #: entry i runs on a high-priority core

    def __post_init__(self):
        s = object.__setattr__
        s(self, "want", VcpusWant(as_uint(self.want, "want")))
        s(self, "first", as_uint(self.first, "first"))
        s(self, "nr_vcpus", as_uint(self.nr_vcpus, "nr_vcpus"))
        s(self, "cur_khz", tuple(as_uint(k, "each of cur_khz")
                                 for k in self.cur_khz))
        n = len(self.cur_khz)
        if n > MAX_VCPUS:
            raise ValueError(f"at most {MAX_VCPUS} vCPUs per list")
        for name in ("turbo", "priority"):
            v = tuple(as_bool(b, f"each of {name}")
                      for b in getattr(self, name))
            s(self, name, v + (False,) * (n - len(v)))

    @property
    def nr(self) -> int:
        """Entries listed."""
        return len(self.cur_khz)

    def _pack_at(self, buf, base):
        def off(name):
            return base + _L["u.vcpus." + name] - _VCPUS
        _put("I", buf, off("want"), int(self.want))
        _put("I", buf, off("first"), self.first)
        _put("I", buf, off("nr"), self.nr)
        _put("I", buf, off("nr_vcpus"), self.nr_vcpus)
        struct.pack_into(f"={self.nr}I", buf, off("cur_khz"), *self.cur_khz)
        _put("Q", buf, off("turbo_mask"),
             sum(1 << i for i, b in enumerate(self.turbo) if b))
        _put("Q", buf, off("priority_mask"),
             sum(1 << i for i, b in enumerate(self.priority) if b))

    @classmethod
    def _unpack_at(cls, buf, base):
        def off(name):
            return base + _L["u.vcpus." + name] - _VCPUS
        n = min(_get("I", buf, off("nr")), MAX_VCPUS)
        tm = _get("Q", buf, off("turbo_mask"))
        pm = _get("Q", buf, off("priority_mask"))
        return _raw(cls, want=VcpusWant(_get("I", buf, off("want"))),
                   first=_get("I", buf, off("first")),
                   nr_vcpus=_get("I", buf, off("nr_vcpus")),
                   cur_khz=tuple(_u32s(buf, off("cur_khz"), n)),
                   turbo=tuple(bool((tm >> i) & 1) for i in range(n)),
                   priority=tuple(bool((pm >> i) & 1) for i in range(n)))

    def _pack(self, buf):
        self._pack_at(buf, _VCPUS)

    @classmethod
    def _unpack(cls, buf):
        return cls._unpack_at(buf, _VCPUS)

    @classmethod
    def from_bytes(cls, data: bytes) -> "VcpuList":
        """From the bytes of struct vpwr_vcpu_list."""
        return cls._unpack_at(bytes(data), 0)


Body = Union[None, Hello, Scale, SetFreq, SetRange, Turbo, SetEpp, Policy,
             RemovePolicy, Freqs, VcpuState, VcpuList]

# type -> (request body, reply body)
_BODIES = {
    MsgType.HELLO: (Hello, Hello),
    MsgType.SCALE: (Scale, VcpuState),
    MsgType.SET_FREQ: (SetFreq, VcpuState),
    MsgType.SET_RANGE: (SetRange, VcpuState),
    MsgType.TURBO: (Turbo, VcpuState),
    MsgType.SET_EPP: (SetEpp, VcpuState),
    MsgType.POLICY_SET: (Policy, None),
    MsgType.POLICY_REMOVE: (RemovePolicy, None),
    MsgType.QUERY_FREQS: (None, Freqs),
    MsgType.QUERY_STATE: (None, VcpuState),
    MsgType.QUERY_CAPS: (None, Hello),
    MsgType.RELEASE: (None, None),
    MsgType.LIMITS_CHANGED: (VcpuState, VcpuState),
    MsgType.QUERY_VCPUS: (VcpuList, VcpuList),
}


# ---------------------------------------------------------------- message

@dataclass
class Message:
    """One protocol message (struct vpwr_msg).

    `vcpu` None means no vCPU (VPWR_VCPU_NONE).  `body` is the type's body
    (see the module's table), or None.  Build requests with the class
    methods (Message.scale(0, "max"), Message.policy_set(policy), ...).
    str(msg) is the library's one-line rendering.
    """
    type: Union[MsgType, int]
    vcpu: Optional[int] = None
    body: Body = None
    seq: int = 0
    flags: MsgFlags = MsgFlags(0)
    status: int = 0      #: replies: 0 or -errno / -ErrorCode
    reason: str = ""     #: replies: why

    def __post_init__(self):
        if isinstance(self.type, bool) or not isinstance(self.type,
                                                          (int, str)):
            raise TypeError(f"type must be a MsgType, not "
                            f"{type(self.type).__name__}")
        if isinstance(self.type, str):
            self.type = MsgType.coerce(self.type, "type")
        else:
            self.type = _enum_or_int(MsgType, as_uint(self.type, "type",
                                                      0xFFFF))
        if self.vcpu is not None:
            self.vcpu = as_uint(self.vcpu, "vcpu", VCPU_NONE)
            if self.vcpu == VCPU_NONE:
                self.vcpu = None
        self.seq = as_uint(self.seq, "seq")
        self.flags = MsgFlags(as_uint(self.flags, "flags", 0xFFFF))
        if isinstance(self.status, bool) or not isinstance(self.status, int):
            raise TypeError("status must be an int")
        if not -2**31 <= self.status <= 0:
            raise ValueError("status must be 0 or a negative error number")
        self.reason = as_str(self.reason, "reason")
        if len(self.reason.encode()) >= REASON_MAX:
            raise ValueError(f"reason must be shorter than {REASON_MAX} "
                             "bytes")
        if self.body is not None and not hasattr(self.body, "_pack"):
            raise TypeError(f"body must be one of the vpwr message bodies, "
                            f"not {type(self.body).__name__}")

    # -------------------------------------------------------- builders
    @classmethod
    def hello(cls, version_min: int = 1, version_max: int = 1) -> "Message":
        """A HELLO request for protocol versions version_min..version_max."""
        return cls(MsgType.HELLO, body=Hello(version_min, version_max))

    @classmethod
    def scale(cls, vcpu: int, op: Union[ScaleOp, str, int]) -> "Message":
        """A SCALE request: move `vcpu` up, down, to min, max or medium."""
        return cls(MsgType.SCALE, vcpu, Scale(op))

    @classmethod
    def set_freq(cls, vcpu: int, khz: int) -> "Message":
        """A SET_FREQ request: pin `vcpu` to `khz`."""
        return cls(MsgType.SET_FREQ, vcpu, SetFreq(khz))

    @classmethod
    def set_range(cls, vcpu: int, min_khz: int, max_khz: int) -> "Message":
        """A SET_RANGE request: limit `vcpu` to [min_khz, max_khz]."""
        return cls(MsgType.SET_RANGE, vcpu, SetRange(min_khz, max_khz))

    @classmethod
    def turbo(cls, vcpu: int, enable: bool) -> "Message":
        """A TURBO request: turbo of `vcpu` on or off."""
        return cls(MsgType.TURBO, vcpu, Turbo(enable))

    @classmethod
    def set_epp(cls, vcpu: int, hint: Union[int, str]) -> "Message":
        """A SET_EPP request: the energy-performance hint of `vcpu`."""
        return cls(MsgType.SET_EPP, vcpu, SetEpp(hint))

    @classmethod
    def policy_set(cls, policy: Policy) -> "Message":
        """A POLICY_SET request handing the host `policy`."""
        if not isinstance(policy, Policy):
            raise TypeError("policy must be a vpwr.Policy, not "
                            f"{type(policy).__name__}")
        return cls(MsgType.POLICY_SET, body=policy)

    @classmethod
    def policy_remove(cls, kind: Union[PolicyKind, str, None] = None
                      ) -> "Message":
        """A POLICY_REMOVE request for `kind` (None: every kind)."""
        return cls(MsgType.POLICY_REMOVE, body=RemovePolicy(kind))

    @classmethod
    def query_freqs(cls, vcpu: int) -> "Message":
        """A QUERY_FREQS request: the frequency table of `vcpu`."""
        return cls(MsgType.QUERY_FREQS, vcpu)

    @classmethod
    def query_state(cls, vcpu: int) -> "Message":
        """A QUERY_STATE request: what the host holds for `vcpu`."""
        return cls(MsgType.QUERY_STATE, vcpu)

    @classmethod
    def query_caps(cls) -> "Message":
        """A QUERY_CAPS request: the host's capabilities and limits."""
        return cls(MsgType.QUERY_CAPS)

    @classmethod
    def release(cls) -> "Message":
        """A RELEASE request: drop every request of this channel."""
        return cls(MsgType.RELEASE)

    @classmethod
    def query_vcpus(cls, want: VcpusWant = VcpusWant.FREQS,
                    vcpu: Optional[int] = None) -> "Message":
        """A QUERY_VCPUS request for `vcpu` (None: every vCPU from 0)."""
        return cls(MsgType.QUERY_VCPUS, vcpu, VcpuList(want=want))

    # ------------------------------------------------------ properties
    @property
    def is_reply(self) -> bool:
        """A reply to the request with the same seq."""
        return bool(self.flags & MsgFlags.REPLY)

    @property
    def is_notification(self) -> bool:
        """An unsolicited host notification."""
        return bool(self.flags & MsgFlags.NOTIFY)

    @property
    def ok(self) -> bool:
        """status == 0."""
        return self.status == 0

    @property
    def error(self) -> Optional[Error]:
        """The status as a vpwr.Error (with the reason), or None if 0."""
        return Error(-self.status, reason=self.reason) if self.status else None

    def reply(self, status: int = 0, reason: str = "") -> "Message":
        """The reply to this request (vpwr_msg_reply()): same type, seq
        and vCPU (and, for QUERY_VCPUS, `want`), the REPLY flag, `status`
        (0 or a negative error number) and `reason`; no body yet."""
        if isinstance(status, bool) or not isinstance(status, int):
            raise TypeError("status must be an int")
        if not -2**31 <= status <= 0:
            raise ValueError("status must be 0 or a negative error number")
        reason = as_str(reason, "reason")
        return Message.from_bytes(_vpwr.vpwr_py_msg_reply(
            self.to_bytes(), status, reason or None))

    def check(self) -> "Message":
        """Raise self.error if the status is negative; else return self:
        ``host.handle("vm1", Message.scale(0, "max")).check()``."""
        if self.status:
            raise self.error
        return self

    # ---------------------------------------------------------- bytes
    def to_bytes(self) -> bytes:
        """The bytes of struct vpwr_msg."""
        buf = bytearray(MSG_SIZE)
        _put("H", buf, _L["type"], int(self.type))
        _put("H", buf, _L["flags"], int(self.flags))
        _put("I", buf, _L["seq"], self.seq)
        _put("i", buf, _L["status"], self.status)
        _put("I", buf, _L["vcpu"], VCPU_NONE if self.vcpu is None
             else self.vcpu)
        if self.body is not None:
            self.body._pack(buf)
        reason = self.reason.encode()[:REASON_MAX - 1]
        buf[_L["reason"]:_L["reason"] + len(reason)] = reason
        return bytes(buf)

    @classmethod
    def from_bytes(cls, data: bytes) -> "Message":
        """A Message from the bytes of struct vpwr_msg."""
        if len(data) != MSG_SIZE:
            raise ValueError(f"a message is {MSG_SIZE} bytes, not "
                             f"{len(data)}")
        buf = bytes(data)
        mtype = _enum_or_int(MsgType, _get("H", buf, _L["type"]))
        flags = MsgFlags(_get("H", buf, _L["flags"]))
        status = _get("i", buf, _L["status"])
        vcpu = _get("I", buf, _L["vcpu"])
        reason = buf[_L["reason"]:_L["reason"] + REASON_MAX]
        reason = reason.split(b"\0", 1)[0].decode("utf-8", "replace")
        body = None
        kinds = _BODIES.get(mtype)
        if kinds is not None:
            reply = bool(flags & MsgFlags.REPLY)
            kind = kinds[1] if reply else kinds[0]
            if kind is not None and (status == 0 or kind is VcpuList):
                body = kind._unpack(buf)
        m = cls.__new__(cls)
        m.type, m.vcpu, m.body, m.seq = mtype, (
            None if vcpu == VCPU_NONE else vcpu), body, _get(
            "I", buf, _L["seq"])
        m.flags, m.status, m.reason = flags, status, reason
        return m

    def validate(self) -> None:
        """Check the message on its own (vpwr_msg_validate()); raises
        vpwr.Error (VPWR_E_PROTO) saying why."""
        rc, why = _vpwr.vpwr_msg_validate(self.to_bytes())
        if rc < 0:
            raise Error(-rc, reason=why or "")

    def __str__(self) -> str:
        return _vpwr.vpwr_py_msg_format(self.to_bytes())


# ----------------------------------------------------------------- codecs

class DecodeError(Error):
    """A frame a codec could not decode.

    Beside Error's attributes: `offset` (byte offset of the offending data
    in the frame), `line` and `column` (text codecs, 1-based; else 0), and
    `partial`, the Message as far as it could be read (type and seq, so
    that it can be answered with a NACK).
    """

    def __init__(self, errno, strerror=None, reason="", offset=0, line=0,
                 column=0, partial=None):
        super().__init__(errno, strerror, reason)
        self.offset = offset
        self.line = line
        self.column = column
        self.partial = partial

    def __reduce__(self):
        return (type(self), (self.errno, self.strerror, self.reason,
                             self.offset, self.line, self.column,
                             self.partial))


class Codec:
    """A wire format: turns Messages into bytes and back.

    Codec(name) with name "native", "json", "dpdk" (DPDK's guest channel,
    host role: decodes requests, encodes replies) or "dpdk-guest" (the
    guest role).  Codecs are stateless and thread-safe.

        n = codec.frame_len(buf)   # > 0 a whole frame, 0 need more bytes
        msg = codec.decode(buf[:n])
    """

    __slots__ = ("_ptr", "_name")

    def __init__(self, name: str = "native"):
        name = as_str(name, "name")
        ptr = _vpwr.vpwr_codec_by_name(name)
        if ptr is None:
            raise ValueError(f"unknown codec {name!r} (native, json, dpdk, "
                             "dpdk-guest)")
        self._ptr = ptr
        self._name = _vpwr.vpwr_codec_name(ptr)

    @classmethod
    def _of(cls, ptr):
        c = cls.__new__(cls)
        c._ptr = ptr
        c._name = _vpwr.vpwr_codec_name(ptr)
        return c

    @property
    def name(self) -> str:
        """"native", "json", "dpdk" or "dpdk-guest"."""
        return self._name

    @classmethod
    def detect(cls, data: bytes) -> Optional["Codec"]:
        """The codec a guest speaks, from the first bytes it sent: native,
        json, else dpdk.  None when more bytes are needed; vpwr.Error
        (VPWR_E_PROTO) when no codec matches."""
        res = _vpwr.vpwr_codec_detect(data)
        # SWIG drops a NULL result in front of the appended output.
        ptr, err = (None, res) if isinstance(res, int) else res
        if ptr is None:
            if err < 0:
                raise Error(-err, reason="no codec matches these bytes")
            return None
        return cls._of(ptr)

    def frame_len(self, data: bytes) -> int:
        """Length of the frame at the start of `data`: > 0 when a whole
        frame is there, 0 when more bytes are needed.  DecodeError when the
        stream cannot be framed (it must then be reset)."""
        rc, err = _vpwr.vpwr_codec_frame_len(self._ptr, data)
        if rc < 0:
            raise DecodeError(-rc, reason=err[3], offset=err[0],
                              line=err[1], column=err[2])
        return rc

    def decode(self, frame: bytes) -> Message:
        """Decode exactly one frame; DecodeError if it is not valid."""
        rc, raw, err = _vpwr.vpwr_codec_decode(self._ptr, frame)
        msg = Message.from_bytes(raw)
        if rc < 0:
            raise DecodeError(-rc, reason=err[3], offset=err[0],
                              line=err[1], column=err[2], partial=msg)
        return msg

    def encode(self, msg: Message) -> bytes:
        """The bytes of `msg` in this format; vpwr.Error if this codec
        cannot express it."""
        if not isinstance(msg, Message):
            raise TypeError("msg must be a vpwr.Message, not "
                            f"{type(msg).__name__}")
        rc, data = _vpwr.vpwr_codec_encode(self._ptr, msg.to_bytes())
        if rc < 0:
            raise Error(-rc, reason=f"the {self._name} codec cannot "
                        f"encode {msg}")
        return data

    def __eq__(self, other):
        return isinstance(other, Codec) and other._name == self._name

    def __hash__(self):
        return hash(self._name)

    def __repr__(self):
        return f"<vpwr.Codec {self._name!r}>"
