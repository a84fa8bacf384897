# SPDX-License-Identifier: MIT
"""libvpwr for Python: guests in VMs ask their host to change CPU frequency.

The guest side:

    import vpwr
    with vpwr.Guest("unix:/run/vpwr/vm1.sock") as g:
        g.scale(0, "max")                 # or vpwr.ScaleOp.MAX
        khz, cur = g.query_freqs(0)

The host side, here on the simulator (a guest in the same process can talk
to it over socket.socketpair() while another thread dispatches):

    with vpwr.SimBackend(nr_cpus=4) as sim, \\
         vpwr.StaticResolver("pins.json") as pins, \\
         vpwr.Host(sim, pins) as host:
        host.add_channel("vm1", host_end_of_a_socketpair)
        host.dispatch(100)
        print(host.cpu_info(0))

Every failure the library reports raises vpwr.Error, an OSError whose errno
is a system errno value or a vpwr.ErrorCode.  Objects that own a C handle
are context managers; close() is idempotent, and the handle is also freed
when the object is garbage-collected.  Frequencies are in kHz.

This package is a thin layer over the SWIG module vpwr._vpwr, which mirrors
the C API (include/libvpwr/*.h).
"""

from typing import FrozenSet, Iterable, NamedTuple

from . import _vpwr
from ._errors import Error, ErrorCode
from .guest import Guest
from .host import (Arbitration, Backend, BackendCaps, ChannelSourceMode,
                   CpuInfo, Host, HostEvent, HostEventType, Meter, Resolver,
                   ResolverChannel, ResolverInterface, SimBackend,
                   StaticResolver, WorkStats)
from .transport import (Channel, Listener, Peer, VirtioPort,
                        discover_virtio_serial)
from .message import (Codec, DecodeError, Epp, Freqs, Hello, HelloInfo,
                      HostCaps, Message, MsgFlags, MsgType, Policy,
                      PolicyKind, RemovePolicy, Scale, ScaleOp, SetEpp,
                      SetFreq, SetRange, Turbo, VcpuList, VcpusWant,
                      VcpuState, Workload)

__all__ = [
    "__version__", "version", "VersionInfo", "cpuset_parse",
    "cpuset_format",
    "Error", "ErrorCode",
    "Guest", "ScaleOp", "Epp", "HostCaps", "HelloInfo", "VcpuState",
    "VcpuList", "VcpusWant",
    "Backend", "SimBackend", "BackendCaps", "WorkStats", "Meter",
    "Resolver", "StaticResolver",
    "Host", "Arbitration", "CpuInfo", "HostEvent", "HostEventType",
    "Message", "MsgType", "MsgFlags", "Policy", "PolicyKind", "Workload",
    "Hello", "Scale", "SetFreq", "SetRange", "Turbo", "SetEpp",
    "RemovePolicy", "Freqs",
    "Codec", "DecodeError",
    "Channel", "Listener", "Peer", "VirtioPort", "discover_virtio_serial",
    "ResolverChannel", "ResolverInterface", "ChannelSourceMode",
]


class VersionInfo(NamedTuple):
    """A libvpwr version, comparable like sys.version_info."""
    major: int
    minor: int
    patch: int

    def __str__(self):
        return f"{self.major}.{self.minor}.{self.patch}"


def cpuset_parse(cpulist: str) -> FrozenSet[int]:
    """The CPUs of a cpulist ("0-3,8,10-11", the kernel's and libvirt's
    syntax), as a frozenset; vpwr.Error (EINVAL) if it is not one."""
    if not isinstance(cpulist, str):
        raise TypeError(f"cpulist must be a str, not "
                        f"{type(cpulist).__name__}")
    rc, cpus = _vpwr.vpwr_cpuset_parse(cpulist)
    if rc < 0:
        raise Error(-rc, reason=f"not a cpulist: {cpulist!r}")
    return frozenset(cpus)


def cpuset_format(cpus: Iterable[int]) -> str:
    """A set of CPU numbers as a cpulist ("0-3,8")."""
    if isinstance(cpus, (str, bytes)):
        raise TypeError("cpus must be an iterable of ints, not a string")
    return _vpwr.vpwr_py_cpuset_format(cpus)


def version() -> VersionInfo:
    """The version of the libvpwr actually loaded, as a VersionInfo."""
    v = _vpwr.vpwr_version()
    return VersionInfo((v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF)


#: The version of the libvpwr actually loaded, "MAJOR.MINOR.PATCH".
__version__ = _vpwr.vpwr_version_string()
