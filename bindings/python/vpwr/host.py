# SPDX-License-Identifier: MIT
"""The host side: frequency backends, vCPU resolvers and the host engine.

    with vpwr.SimBackend(nr_cpus=4) as sim, \\
         vpwr.StaticResolver("pins.json") as pins, \\
         vpwr.Host(sim, pins) as host:
        host.listen("vm1", "unix-listen:/run/vpwr/vm1.sock")
        host.run()          # until host.stop() from another thread
"""

from __future__ import annotations

import enum
import errno
import json
import math
import os
import threading
import time
from dataclasses import dataclass
from typing import Callable, FrozenSet, List, Optional, Sequence, Tuple, Union

from . import _vpwr
from ._handle import (Handle, Locked, Ref, as_bool, as_float, as_path,
                      as_str, as_timeout, as_uint, fd_of)
from ._errors import Error
from .message import Epp, Message, Policy

__all__ = ["Backend", "SimBackend", "BackendCaps", "WorkStats", "Resolver",
           "StaticResolver", "ResolverChannel", "ResolverInterface",
           "ChannelSourceMode", "Host",
           "Arbitration", "CpuInfo", "HostEvent", "HostEventType", "Meter"]

# In the main thread, waits are cut into slices this long so that Python's
# signal handlers (Ctrl-C) run in between: the C library retries EINTR.
_SIGNAL_SLICE_MS = 200


class BackendCaps(enum.IntFlag):
    """What a backend can do with one CPU (Backend.caps())."""
    SET_FREQ = _vpwr.VPWR_BACKEND_CAP_SET_FREQ  #: a target frequency
    LIMITS = _vpwr.VPWR_BACKEND_CAP_LIMITS      #: min/max limits
    TURBO = _vpwr.VPWR_BACKEND_CAP_TURBO        #: turbo on/off
    EPP = _vpwr.VPWR_BACKEND_CAP_EPP            #: an EPP hint
    TABLE = _vpwr.VPWR_BACKEND_CAP_TABLE        #: a discrete table
    PER_CPU = _vpwr.VPWR_BACKEND_CAP_PER_CPU    #: no shared cpufreq policy


class Arbitration(enum.IntEnum):
    """How the requests of several domains on one physical CPU combine."""
    PERFORMANCE = _vpwr.VPWR_ARB_PERFORMANCE  #: the highest request wins
    POWERSAVE = _vpwr.VPWR_ARB_POWERSAVE      #: the lowest request wins
    EXCLUSIVE = _vpwr.VPWR_ARB_EXCLUSIVE      #: refuse shared CPUs

    @classmethod
    def _missing_(cls, value):
        if isinstance(value, str):
            return cls.__members__.get(value.strip().upper())
        return None


class HostEventType(enum.IntEnum):
    """What a HostEvent reports."""
    CHANNEL_UP = _vpwr.VPWR_HOST_EV_CHANNEL_UP      #: a channel opened
    CHANNEL_DOWN = _vpwr.VPWR_HOST_EV_CHANNEL_DOWN  #: a channel closed
    REQUEST = _vpwr.VPWR_HOST_EV_REQUEST            #: a request answered
    CPU_CHANGED = _vpwr.VPWR_HOST_EV_CPU_CHANGED    #: a pCPU was changed


@dataclass(frozen=True)
class HostEvent:
    """One event of a Host, passed to its on_event callback.

    CHANNEL_UP/DOWN: channel_id, domain (and status, DOWN).  REQUEST:
    channel_id, domain, request, reply, status.  CPU_CHANGED: pcpu,
    old_khz, new_khz, min_khz, max_khz, turbo, winner (None when
    restored).
    """
    type: Union[HostEventType, int]
    channel_id: int
    domain: Optional[str]
    status: int
    request: Optional[Message]
    reply: Optional[Message]
    pcpu: int
    old_khz: int
    new_khz: int
    min_khz: int
    max_khz: int
    turbo: bool
    winner: Optional[str]


class ChannelSourceMode(enum.IntEnum):
    """libvirt's <source mode=...> of a unix channel (ResolverChannel)."""
    BIND = _vpwr.VPWR_CHANNEL_SOURCE_BIND        #: QEMU listens; connect
    CONNECT = _vpwr.VPWR_CHANNEL_SOURCE_CONNECT  #: QEMU connects; listen


@dataclass(frozen=True)
class ResolverChannel:
    """A power-agent channel of a domain, as a resolver reports it
    (Resolver.channels())."""
    domain: str
    path: str                #: <source path=...>: the socket
    target_name: str         #: <target name=...>: the guest's port name
    source_mode: Union[ChannelSourceMode, int]
    running: bool            #: the domain runs (else: from its config)
    #: whether the guest has the port open: True, False, or None (libvirt
    #: does not say, or the domain does not run)
    guest_open: Optional[bool] = None
    #: VSERPORT_CHANGE events seen for the domain (Resolver(...,
    #: port_events=True)); a new report when it changes
    guest_port_events: int = 0


@dataclass(frozen=True)
class ResolverInterface:
    """A network interface of a domain, as a resolver reports it
    (Resolver.interfaces()).  libvirt: an <interface> of its XML, or a PCI
    <hostdev> (a VF passed without an <interface>: mac None, type
    "hostdev"; it may be any PCI device, not only a NIC)."""
    domain: str
    mac: Optional[str]         #: "52:54:00:12:34:56" (lower case); None:
                               #: unknown
    type: Optional[str]        #: libvirt's interface type ("network",
                               #: "bridge", "direct", "hostdev", ...);
                               #: None if the resolver does not say
    target_dev: Optional[str]  #: the host netdev (a tap, a macvtap),
                               #: running domains only; None if none
    pci_addr: Optional[str]    #: a passed-through PCI function
                               #: "dddd:bb:ss.f"; None if none
    running: bool              #: the domain runs (else: from its config)


@dataclass(frozen=True)
class WorkStats:
    """The simulator's work model for one CPU (SimBackend.work_stats()),
    accumulated over virtual time; units are the caller's (packets)."""
    offered: float      #: units offered so far
    served: float       #: units served so far
    dropped: float      #: units dropped (backlog full)
    backlog: float      #: units waiting now
    wait_unit_s: float  #: integral of the backlog over time (unit-seconds)

    @property
    def mean_wait_s(self) -> float:
        """Mean time a served unit waited, in seconds (0 if none served)."""
        return self.wait_unit_s / self.served if self.served > 0 else 0.0


@dataclass(frozen=True)
class CpuInfo:
    """What a host holds for one physical CPU (Host.cpu_info()); kHz."""
    cur_khz: int        #: current frequency, as the backend reports it
    min_khz: int        #: effective lower limit
    max_khz: int        #: effective upper limit
    turbo: bool         #: turbo on
    nr_requests: int    #: live requests on this CPU
    managed: bool       #: the host has changed this CPU
    winner: str         #: the domain whose request won, or ""


# ------------------------------------------------------------- backends

class Backend(Handle):
    """A frequency backend: the only thing that changes a physical CPU.

    Backend(name, sysfs_root=None, *, state_file=None) opens backend `name`:
    "acpi-cpufreq", "intel_pstate", "intel_cpufreq", "cppc_cpufreq",
    "amd-pstate", "auto" (whichever cpufreq driver sysfs reports) under
    `sysfs_root` (default /sys), or "sim" (see SimBackend for the
    simulator's options).  With `state_file`, the original settings are
    recorded there before any change, and put back by the next open with
    the same file if this process dies first.  Closing it (or losing the
    last reference) restores every CPU it changed; a Host using it is
    closed first.  Frequencies are in kHz.
    """

    _kind = "backend"

    def __init__(self, name: str, sysfs_root=None, *, state_file=None):
        name = as_str(name, "name")
        if sysfs_root is not None:
            sysfs_root = as_path(sysfs_root, "sysfs_root")
        if state_file is not None:
            state_file = as_path(state_file, "state_file")
        ref = Ref("backend", _vpwr.vpwr_backend_free)
        rc, ptr = _vpwr.vpwr_py_backend_open(name, sysfs_root, state_file,
                                             ref.log)
        self._adopt(ref, rc, ptr)

    def _adopt(self, ref, rc, ptr):
        ref.check(rc)
        ref.ptr = ptr
        self._ref = ref

    def _call(self, fn, *args):
        """fn(ptr, *args) with the lock held; Error for a negative rc."""
        ref = self._ref
        with Locked(self) as ptr:
            ref.clear_log()
            res = fn(ptr, *args)
            ref.check(res[0] if isinstance(res, (list, tuple)) else res)
            return res

    def _cpu(self, cpu):
        return as_uint(cpu, "cpu")

    @property
    def name(self) -> str:
        """The backend's name ("sim", ...)."""
        with Locked(self) as ptr:
            return _vpwr.vpwr_backend_name(ptr)

    @property
    def nr_cpus(self) -> int:
        """Number of CPUs (ids 0 .. nr_cpus-1)."""
        return self._call(_vpwr.vpwr_backend_nr_cpus)

    def caps(self, cpu: int) -> BackendCaps:
        """What the backend can do with `cpu`, as BackendCaps."""
        return BackendCaps(self._call(_vpwr.vpwr_backend_caps,
                                      self._cpu(cpu)))

    def freqs(self, cpu: int) -> List[int]:
        """The available frequencies of `cpu`, ascending (turbo included
        only while turbo is on)."""
        cpu = self._cpu(cpu)
        n = self._call(_vpwr.vpwr_backend_get_freqs, cpu, 0)[0]
        while True:
            count, khz = self._call(_vpwr.vpwr_backend_get_freqs, cpu, n)
            if count <= n:
                return khz
            n = count

    def freq(self, cpu: int) -> int:
        """The current frequency of `cpu`."""
        return self._call(_vpwr.vpwr_backend_get_freq, self._cpu(cpu))[1]

    def set_freq(self, cpu: int, khz: int) -> None:
        """Set the target frequency of `cpu` (within its limits; rounded
        down to a table entry)."""
        self._call(_vpwr.vpwr_backend_set_freq, self._cpu(cpu),
                   as_uint(khz, "khz"))

    def limits(self, cpu: int) -> Tuple[int, int]:
        """The (min_khz, max_khz) limits of `cpu`."""
        _, lo, hi = self._call(_vpwr.vpwr_backend_get_limits,
                               self._cpu(cpu))
        return lo, hi

    def set_limits(self, cpu: int, min_khz: int, max_khz: int) -> None:
        """Set the limits of `cpu`; its frequency is clamped into them."""
        self._call(_vpwr.vpwr_backend_set_limits, self._cpu(cpu),
                   as_uint(min_khz, "min_khz"), as_uint(max_khz, "max_khz"))

    def turbo(self, cpu: int) -> bool:
        """True if turbo is on for `cpu`."""
        return bool(self._call(_vpwr.vpwr_backend_get_turbo,
                               self._cpu(cpu)))

    def set_turbo(self, cpu: int, enable: bool) -> None:
        """Turn turbo of `cpu` on or off."""
        self._call(_vpwr.vpwr_backend_set_turbo, self._cpu(cpu),
                   int(as_bool(enable, "enable")))

    def epp(self, cpu: int) -> int:
        """The energy-performance preference of `cpu`, 0 (performance) ..
        255 (power); vpwr.Error (ErrorCode.UNSUPPORTED) where the driver has
        none."""
        return self._call(_vpwr.vpwr_backend_get_epp, self._cpu(cpu))

    def set_epp(self, cpu: int, hint: Union[int, str, Epp]) -> None:
        """Set the energy-performance preference of `cpu` (an int 0..255,
        an Epp or its name)."""
        if isinstance(hint, str):
            hint = Epp.coerce(hint, "hint")
        self._call(_vpwr.vpwr_backend_set_epp, self._cpu(cpu),
                   as_uint(hint, "hint", 255))

    def restore(self, cpu: int) -> None:
        """Put back what the backend changed on `cpu`."""
        self._call(_vpwr.vpwr_backend_restore, self._cpu(cpu))

    def policy_cpus(self, cpu: int) -> FrozenSet[int]:
        """The CPUs whose frequency changes whenever `cpu`'s does, `cpu`
        included, as a frozenset: the online CPUs sharing its cpufreq
        policy (sysfs related_cpus; the simulator's cpus_per_policy).
        Limits, frequency and EPP set on one of them apply to all.  A CPU
        with its own policy (BackendCaps.PER_CPU) gives {cpu}.  vpwr.Error:
        EINVAL (cpu out of range), ENODEV (offline, or no cpufreq
        policy)."""
        return frozenset(self._call(_vpwr.vpwr_backend_policy_cpus,
                                    self._cpu(cpu))[1])

    def __repr__(self):
        return self._repr("" if self.closed else repr(self.name))


class SimBackend(Backend):
    """The simulator backend: `nr_cpus` CPUs with a frequency table, limits,
    turbo and a power model, under a virtual clock that moves only when
    advance() says so (unless wallclock=True).  Deterministic.

    Arguments left as None take the library's defaults: 4 CPUs, the table
    800000 .. 2400000 kHz in 200 MHz steps with turbo 3000000 kHz (with your
    own `freqs`, no turbo unless `turbo_khz` is given), static_w 1.0 W,
    dyn_w_per_ghz_v2 3.0, v_min 0.7 V, v_max 1.2 V, idle_fraction 0.3 and
    util 1.0 (poll mode).  See libvpwr/sim.h for the power model.  With
    wallclock=True the virtual clock follows real time instead (demos).

    `cpus` gives each CPU its own table instead, as a list of one
    (freqs, turbo_khz) pair per CPU (turbo_khz 0: none), for
    heterogeneous cores.

    `cpus_per_policy` n models CPUs clocked together: CPUs k*n .. k*n+n-1
    share one cpufreq policy, so a change to one is a change to all, as on
    real hardware whose CPUs share a policy (the host then arbitrates each
    policy as one unit).  None or 1: every CPU is its own.

    The work model: set_offered(cpu, per_s) offers a CPU work (packets/s)
    that it serves at work_per_ghz * f (default 1e6 per GHz); what it
    cannot serve waits in a backlog, dropped past max_backlog (default 1e6
    units); work_stats(cpu) says what happened.  While work is offered a
    CPU's utilisation follows served / capacity.
    """

    _kind = "sim"

    def __init__(self, nr_cpus: Optional[int] = None,
                 freqs: Optional[Sequence[int]] = None,
                 turbo_khz: Optional[int] = None, *,
                 static_w: Optional[float] = None,
                 dyn_w_per_ghz_v2: Optional[float] = None,
                 v_min: Optional[float] = None, v_max: Optional[float] = None,
                 idle_fraction: Optional[float] = None,
                 util: Optional[float] = None, wallclock: bool = False,
                 cpus: Optional[Sequence[Tuple[Sequence[int], int]]] = None,
                 work_per_ghz: Optional[float] = None,
                 max_backlog: Optional[float] = None,
                 cpus_per_policy: Optional[int] = None):
        n = 0 if nr_cpus is None else as_uint(nr_cpus, "nr_cpus",
                                              _vpwr.VPWR_MAX_CPUS)
        if nr_cpus is not None and n == 0:
            raise ValueError("nr_cpus must be at least 1")
        if freqs is not None:
            if isinstance(freqs, (str, bytes)) or not hasattr(freqs,
                                                               "__iter__"):
                raise TypeError("freqs must be a sequence of ints (kHz), "
                                f"not {type(freqs).__name__}")
            freqs = [as_uint(f, "each of freqs") for f in freqs]
            if not freqs:
                raise ValueError("freqs must not be empty")
        turbo = 0 if turbo_khz is None else as_uint(turbo_khz, "turbo_khz")
        model = [self._positive(v, w) for v, w in (
            (static_w, "static_w"), (dyn_w_per_ghz_v2, "dyn_w_per_ghz_v2"),
            (v_min, "v_min"), (v_max, "v_max"))]
        # In C 0 means "default" and a negative value means 0.
        shares = [self._fraction(v, w) for v, w in (
            (idle_fraction, "idle_fraction"), (util, "util"))]
        wall = as_bool(wallclock, "wallclock")
        if cpus is not None:
            if isinstance(cpus, (str, bytes)) or not hasattr(cpus,
                                                             "__iter__"):
                raise TypeError("cpus must be a sequence of (freqs, "
                                "turbo_khz) pairs")
            tables = []
            for i, entry in enumerate(cpus):
                if not isinstance(entry, (tuple, list)) or len(entry) != 2:
                    raise TypeError(f"cpus[{i}] must be a (freqs, "
                                    "turbo_khz) pair")
                tbl, tk = entry
                if isinstance(tbl, (str, bytes)) or not hasattr(tbl,
                                                                "__iter__"):
                    raise TypeError(f"cpus[{i}] freqs must be a sequence "
                                    "of ints (kHz)")
                tbl = [as_uint(f, f"each of cpus[{i}] freqs") for f in tbl]
                if not tbl:
                    raise ValueError(f"cpus[{i}] freqs must not be empty")
                tables.append((tbl, as_uint(tk, f"cpus[{i}] turbo_khz")))
            if n == 0:
                n = len(tables)
            if len(tables) != n:
                raise ValueError(f"cpus has {len(tables)} entries for {n} "
                                 "CPUs")
            cpus = tables
        work = self._positive(work_per_ghz, "work_per_ghz")
        backlog = self._positive(max_backlog, "max_backlog")
        per_policy = 0 if cpus_per_policy is None else as_uint(
            cpus_per_policy, "cpus_per_policy", _vpwr.VPWR_MAX_CPUS)
        ref = Ref("backend", _vpwr.vpwr_backend_free)
        rc, ptr = _vpwr.vpwr_py_backend_open_sim(n, freqs, turbo, *model,
                                                 *shares, int(wall), cpus,
                                                 work, backlog, per_policy,
                                                 ref.log)
        self._adopt(ref, rc, ptr)

    @staticmethod
    def _positive(value, what):
        if value is None:
            return 0.0
        value = as_float(value, what)
        if not value > 0 or math.isinf(value):
            raise ValueError(f"{what} must be a positive number, not {value}")
        return value

    @staticmethod
    def _fraction(value, what):
        if value is None:
            return 0.0
        value = as_float(value, what)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{what} must be within 0 .. 1, not {value}")
        return -1.0 if value == 0.0 else value

    def advance(self, ns: int) -> None:
        """Move the virtual clock forward by `ns` nanoseconds, accumulating
        energy and residency at the current frequencies."""
        self._call(_vpwr.vpwr_sim_advance,
                   as_uint(ns, "ns", 0xFFFFFFFFFFFFFFFF))

    @property
    def now(self) -> int:
        """Virtual time elapsed since open, in ns."""
        return self._call(_vpwr.vpwr_sim_now)[1]

    def set_util(self, cpu: int, util: float) -> None:
        """Set the utilisation (0 .. 1) of `cpu`."""
        util = as_float(util, "util")
        if not 0.0 <= util <= 1.0:
            raise ValueError(f"util must be within 0 .. 1, not {util}")
        self._call(_vpwr.vpwr_sim_set_util, self._cpu(cpu), util)

    def energy(self, cpu: int) -> float:
        """Energy `cpu` has used so far, in joules."""
        return self._call(_vpwr.vpwr_sim_energy, self._cpu(cpu))[1]

    def power(self, cpu: int, khz: int, util: float) -> float:
        """The model's power draw of `cpu` at `khz` and `util`, in watts."""
        return self._call(_vpwr.vpwr_sim_power, self._cpu(cpu),
                          as_uint(khz, "khz"), as_float(util, "util"))[1]

    def residency(self, cpu: int, khz: int) -> int:
        """Time `cpu` has spent at `khz`, in ns."""
        return self._call(_vpwr.vpwr_sim_residency, self._cpu(cpu),
                          as_uint(khz, "khz"))[1]

    def set_offered(self, cpu: int, per_s: float) -> None:
        """Offer `cpu` work at `per_s` units per second from now on (0:
        none)."""
        per_s = as_float(per_s, "per_s")
        if not (per_s >= 0.0) or math.isinf(per_s):
            raise ValueError(f"per_s must be a finite number >= 0, not "
                             f"{per_s}")
        self._call(_vpwr.vpwr_sim_set_offered, self._cpu(cpu), per_s)

    def work_stats(self, cpu: int) -> WorkStats:
        """What the work model did on `cpu` so far, as WorkStats."""
        st = _vpwr.vpwr_sim_work_stats_t()
        self._call(_vpwr.vpwr_sim_work_stats, self._cpu(cpu), st)
        return WorkStats(offered=st.offered, served=st.served,
                         dropped=st.dropped, backlog=st.backlog,
                         wait_unit_s=st.wait_unit_s)


# ------------------------------------------------------------ resolvers

class Resolver(Handle):
    """Maps a domain's vCPUs to the physical CPUs they run on.

    Resolver(uri, *, module_dir=None, port_events=False) opens any
    resolver URI
    ("static:/etc/vpwr/pins.json", "libvirt:qemu:///system", which loads
    the libvirt resolver module and libvirt with it); StaticResolver(path)
    is the usual way to the static one.  Closing it closes a Host using it
    first.

    `module_dir` (libvirt: URIs only) is the directory holding
    libvpwr-resolver-libvirt.so; None: libvpwr-0/ beside the libvpwr.so in
    use, where the build tree and an install put it.  vpwr.Error
    EPROTONOSUPPORT when the module is not there or cannot be loaded (the
    reason says which and where), as for a scheme nobody handles.
    
    `port_events` (libvirt: URIs only) also subscribes, on a read-write
    libvirt connection of its own, to QEMU's VSERPORT_CHANGE, so that a
    guest closing its power-agent port is seen (ResolverChannel.guest_open);
    where that is refused the resolver logs why and works without it.
    """

    _kind = "resolver"

    def __init__(self, uri, *, module_dir=None, port_events=False):
        uri = as_str(uri, "uri")
        if module_dir is not None:
            module_dir = as_path(module_dir, "module_dir")
        if not isinstance(port_events, bool):
            raise TypeError("port_events must be a bool, not %s"
                            % type(port_events).__name__)
        ref = Ref("resolver", _vpwr.vpwr_resolver_free)
        rc, ptr = _vpwr.vpwr_py_resolver_open(uri, module_dir,
                                              int(port_events), ref.log)
        ref.check(rc)
        ref.ptr = ptr
        self._ref = ref
        self._uri = uri

    @property
    def uri(self) -> str:
        """The URI it was opened with."""
        return self._uri

    def _call(self, fn, *args):
        ref = self._ref
        with Locked(self) as ptr:
            ref.clear_log()
            res = fn(ptr, *args)
            ref.check(res[0] if isinstance(res, (list, tuple)) else res)
            return res

    @property
    def domains(self) -> List[str]:
        """The names of the known domains, in a stable order."""
        return self._call(_vpwr.vpwr_py_resolver_domains)[1]

    def nr_vcpus(self, domain: str) -> int:
        """Number of vCPUs of `domain`."""
        return self._call(_vpwr.vpwr_resolver_nr_vcpus,
                          as_str(domain, "domain"))

    def lookup(self, domain: str, vcpu: int) -> FrozenSet[int]:
        """The physical CPUs vCPU `vcpu` of `domain` may run on, as a
        frozenset."""
        return frozenset(self._call(_vpwr.vpwr_resolver_lookup,
                                    as_str(domain, "domain"),
                                    as_uint(vcpu, "vcpu"))[1])

    def domain_cid(self, domain: str) -> Optional[int]:
        """The vsock CID of `domain`, or None if it has no fixed one.
        vpwr.Error: ErrorCode.NO_DOMAIN, ENOTSUP (a scheme without CIDs)."""
        domain = as_str(domain, "domain")
        ref = self._ref
        with Locked(self) as ptr:
            ref.clear_log()
            rc, cid = _vpwr.vpwr_resolver_domain_cid(ptr, domain)
        if rc == -errno.ENOENT:
            return None
        ref.check(rc)
        return cid

    def channels(self, domain: Optional[str] = None) -> List[ResolverChannel]:
        """The power-agent channels of `domain` (None: of every domain, in
        domain order), as ResolverChannel values: the unix <channel>s of
        its libvirt XML whose target is virtio.serial.port.poweragent.N or
        org.libvpwr.*.  vpwr.Error: ErrorCode.NO_DOMAIN, ENOTSUP (static:
        knows no channels)."""
        if domain is not None:
            domain = as_str(domain, "domain")
        _, raw = self._call(_vpwr.vpwr_py_resolver_channels, domain)
        out = []
        for dom, path, target, mode, running, gopen, gevents in raw:
            try:
                mode = ChannelSourceMode(mode)
            except ValueError:
                pass
            out.append(ResolverChannel(dom, path, target, mode,
                                       bool(running),
                                       None if gopen < 0 else bool(gopen),
                                       gevents))
        return out

    def interfaces(self, domain: Optional[str] = None
                   ) -> List[ResolverInterface]:
        """The network interfaces of `domain` (None: of every domain, in
        domain order), in the order of its definition, as
        ResolverInterface values.  libvirt: every <interface> of the
        domain's XML (live when it runs, else its config, without
        target_dev), then every PCI <hostdev> not already an interface's.
        static: the domain's "interfaces" array.  vpwr.Error:
        ErrorCode.NO_DOMAIN, ENOTSUP (the scheme, or the static file for
        this domain, does not say)."""
        if domain is not None:
            domain = as_str(domain, "domain")
        _, raw = self._call(_vpwr.vpwr_py_resolver_interfaces, domain)
        return [ResolverInterface(dom, mac, kind, dev, pci, bool(running))
                for dom, mac, kind, dev, pci, running in raw]

    def domain_running(self, domain: str) -> Optional[bool]:
        """True if `domain` runs (libvirt: active or paused), False if it
        is known not to (libvirt: shut off; what the other lookups say of
        it then comes from its config), None where the scheme cannot tell
        (static:, whose domains a host takes for running).  vpwr.Error:
        ErrorCode.NO_DOMAIN."""
        domain = as_str(domain, "domain")
        ref = self._ref
        with Locked(self) as ptr:
            ref.clear_log()
            rc = _vpwr.vpwr_resolver_domain_running(ptr, domain)
            if rc == -errno.ENOTSUP:
                # A scheme without the answer (static:) says so before it
                # looks the domain up: an unknown one must not pass as
                # "cannot tell".
                known = _vpwr.vpwr_resolver_nr_vcpus(ptr, domain)
                if known != -_vpwr.VPWR_E_NO_DOMAIN:
                    return None
                rc = known
        return ref.check(rc) > 0

    @property
    def change_fd(self) -> int:
        """An fd that turns readable when the mapping may have changed
        (libvirt: a domain event, when the application runs a libvirt
        event loop; a lost connection).  Poll it, then call refresh(); the
        resolver owns it.  vpwr.Error ENOTSUP for static: (never
        changes)."""
        return self._call(_vpwr.vpwr_resolver_change_fd)

    def fileno(self) -> int:
        """change_fd, so that a resolver can be given to select."""
        return self.change_fd

    def refresh(self) -> bool:
        """Re-read the mapping (libvirt: reconnecting first if the
        connection was lost) and empty change_fd; True if anything changed.
        vpwr.Error: ENOTCONN (libvirt unreachable: try again later),
        ENOTSUP (static:).  A Host using this resolver is not told: call
        Host.refresh() instead to have it re-decide its CPUs too."""
        return self._call(_vpwr.vpwr_resolver_refresh) > 0

    def __repr__(self):
        return self._repr(repr(self._uri))


class StaticResolver(Resolver):
    """The static resolver: a JSON file that pins each vCPU,

        {"domains": {"vm1": {"vcpus": ["2", "3", "4-5"]}}}

    where element i of "vcpus" is the cpulist vCPU i may run on.
    """

    def __init__(self, path):
        super().__init__("static:" + as_path(path, "path"))


# ----------------------------------------------------------------- host

class Host(Handle):
    """The host engine: serves guests' channels, each bound by the host to
    one domain, and applies their requests through `backend` for the vCPU
    pinning `resolver` gives.

    Host(backend, resolver, mode=Arbitration.PERFORMANCE, *, ...).  `mode`
    may also be a name ("performance", "powersave", "exclusive").  The host
    keeps its backend and resolver alive, and is freed before them; freeing
    it restores every physical CPU it changed.

    Limits (None or 0: the library's default, as the properties of the
    same names then say):

    - `max_channels` (1024) open channels in all, `max_domain_channels`
      (64) per domain;
    - `rate_per_s` requests a second per channel (no limit), `rate_burst`
      at once above it (rate_per_s / 10, at least 1); a channel over its
      rate gets NACKs, one that keeps sending is reset;
    - `allow_shared`: apply requests to pCPUs other domains may run on too;
    - `auto_channels`: serve the power-agent channels the resolver reports
      (libvirt domain XML), following the domains as they start and stop;
    - `grace_ms` (0): how long a domain whose last channel went away keeps
      its requests and policies.

    Policies (docs/POLICIES.md), evaluated by the host on its timers while
    dispatching, or at once by evaluate():

    - `time_zone`: the zone of TIME policies' hours, None or "local", "UTC",
      "+05:30", "Europe/Berlin" (vpwr.Error EINVAL if unknown);
    - `now_fn()`: the wall clock, an int of Unix time in milliseconds, for
      simulations and tests that drive their own (rates are then measured
      on it too); default the real clock;
    - `traffic_fn(domain, policy)`: the cumulative packet count (an int >=
      0) of `domain`'s interfaces that `policy` (a vpwr.Policy, TRAFFIC or
      TIME) names, or None when there is none now (the sample is skipped);
      default the netdev statistics under `sysfs_root` (default "/sys")
      found by the policy's MACs; `traffic_period_ms` (1000) is how often
      it is sampled;
    - `branch_fn(pcpu)`: cumulative (branches, misses) of physical CPU
      `pcpu`, or None; default perf counters.

    The three functions run in the thread using the host, with the GIL,
    within dispatch(), run(), evaluate(), handle() and the calls that
    change policies; they must not call back into the host, its backend or
    its resolver (RuntimeError).  What they raise, and a TypeError for a
    result of the wrong type, propagates out of that call, as on_event's
    does; the host meanwhile sees a failed read (the sample is skipped) or
    the clock's last reading.  The host keeps them like on_event: only
    weakly from C, strongly from the Host object.

    `on_event(event)` is called with a HostEvent for each channel that
    opens or closes, each request answered and each physical CPU changed,
    from within dispatch(), run(), handle(), set_bounds() and close(), in
    the thread that called them.  What it raises propagates out of that
    call (the events after it in the same call are not delivered).  It must
    not call back into the host, its backend or its resolver
    (RuntimeError).

    Serve with dispatch() in your own loop (poll fd or fileno() for
    readability first, or give dispatch() a timeout), or with run() until
    stop().  The GIL is released while the host waits, so a guest in another
    thread of the same process is answered.

    One thread at a time uses a host, its backend and its resolver: a call
    from another thread waits its turn, and wakes a dispatch in progress so
    that its turn comes soon (such a wake-up counts as one event handled).
    """

    _kind = "host"

    def __init__(self, backend: Backend, resolver: Resolver,
                 mode: Union[Arbitration, str, int] = Arbitration.PERFORMANCE,
                 *, max_channels: Optional[int] = None,
                 allow_shared: bool = False,
                 on_event: Optional[Callable[[HostEvent], None]] = None,
                 max_domain_channels: Optional[int] = None,
                 rate_per_s: Optional[int] = None,
                 rate_burst: Optional[int] = None,
                 auto_channels: bool = False,
                 grace_ms: Optional[int] = None,
                 time_zone: Optional[str] = None,
                 now_fn: Optional[Callable[[], int]] = None,
                 traffic_fn: Optional[Callable[[str, Policy],
                                               Optional[int]]] = None,
                 traffic_period_ms: Optional[int] = None,
                 branch_fn: Optional[Callable[[int], Optional[
                     Tuple[int, int]]]] = None,
                 sysfs_root=None):
        if not isinstance(backend, Backend):
            raise TypeError("backend must be a vpwr.Backend, not "
                            f"{type(backend).__name__}")
        if not isinstance(resolver, Resolver):
            raise TypeError("resolver must be a vpwr.Resolver, not "
                            f"{type(resolver).__name__}")
        if isinstance(mode, bool) or not isinstance(mode, (int, str)):
            raise TypeError("mode must be an Arbitration or its name, not "
                            f"{type(mode).__name__}")
        try:
            mode = Arbitration(mode)
        except ValueError:
            raise ValueError(f"unknown arbitration mode {mode!r}") from None
        channels = 0 if max_channels is None else as_uint(
            max_channels, "max_channels")
        if max_channels is not None and channels == 0:
            raise ValueError("max_channels must be at least 1")
        shared = as_bool(allow_shared, "allow_shared")
        auto = as_bool(auto_channels, "auto_channels")
        limits = [0 if v is None else as_uint(v, what) for v, what in (
            (max_domain_channels, "max_domain_channels"),
            (rate_per_s, "rate_per_s"), (rate_burst, "rate_burst"),
            (traffic_period_ms, "traffic_period_ms"),
            (grace_ms, "grace_ms"))]
        if time_zone is not None:
            time_zone = as_str(time_zone, "time_zone")
        if sysfs_root is not None:
            sysfs_root = as_path(sysfs_root, "sysfs_root")
        callbacks = ((on_event, "on_event"), (now_fn, "now_fn"),
                     (traffic_fn, "traffic_fn"), (branch_fn, "branch_fn"))
        for fn, what in callbacks:
            if fn is not None and not callable(fn):
                raise TypeError(f"{what} must be callable, not "
                                f"{type(fn).__name__}")

        ref = Ref("host", _vpwr.vpwr_host_free,
                  owners=(backend._ref, resolver._ref))
        # The Host holds the callbacks' slots; C only weakly (see Ref).
        self._slots = {}
        for fn, what, kind, convert, result in (
                (on_event, "on_event", _vpwr.VPWR_PY_CB_EVENT, _host_event,
                 None),
                (now_fn, "now_fn", _vpwr.VPWR_PY_CB_NOW, _no_args,
                 _now_result),
                (traffic_fn, "traffic_fn", _vpwr.VPWR_PY_CB_TRAFFIC,
                 _traffic_args, _traffic_result),
                (branch_fn, "branch_fn", _vpwr.VPWR_PY_CB_BRANCH, _one_arg,
                 _branch_result)):
            if fn is not None:
                self._slots[what] = ref.set_callback(kind, fn, convert,
                                                     result)
        # Held while creating, so that neither can be closed meanwhile.
        with Locked(backend) as b, Locked(resolver) as r:
            rc, ptr = _vpwr.vpwr_py_host_new(
                b, r, int(mode), channels, int(shared), limits[0],
                limits[1], limits[2], int(auto), time_zone, sysfs_root,
                limits[3], limits[4], ref.cb, ref.callback_kinds, ref.log)
            if rc >= 0:
                ref.ptr = ptr
                backend._ref.dependents.add(ref)
                resolver._ref.dependents.add(ref)
        try:
            ref.raise_callback_error()
            ref.check(rc)
        except BaseException:
            ref.close()
            raise
        self._ref = ref
        self._backend = backend
        self._resolver = resolver
        self._mode = mode
        rate, burst = limits[1], limits[2]
        if rate and not burst:
            burst = max(rate // 10, 1)
        self._options = {
            "max_channels": channels or 1024, "allow_shared": shared,
            "max_domain_channels": limits[0] or 64, "rate_per_s": rate,
            "rate_burst": burst, "auto_channels": auto,
            "traffic_period_ms": limits[3] or 1000, "grace_ms": limits[4],
            "time_zone": time_zone or "local",
            "sysfs_root": sysfs_root or "/sys"}

    # --------------------------------------------------------- helpers
    def _call(self, fn, *args):
        ref = self._ref
        with Locked(self) as ptr:
            ref.clear_log()
            res = fn(ptr, *args)
            ref.raise_callback_error()
            ref.check(res[0] if isinstance(res, (list, tuple)) else res)
            return res

    def _dispatch(self, ptr, timeout):
        """vpwr_host_dispatch(), lock held.  In the main thread a long wait
        is cut into slices so that Ctrl-C is noticed."""
        ref = self._ref
        if timeout == 0 or threading.current_thread() is not \
                threading.main_thread():
            n = _vpwr.vpwr_host_dispatch(ptr, timeout)
            ref.raise_callback_error()
            return ref.check(n)
        deadline = None if timeout < 0 else time.monotonic() + timeout / 1e3
        while True:
            if deadline is None:
                slice_ms = _SIGNAL_SLICE_MS
            else:
                left = math.ceil((deadline - time.monotonic()) * 1e3)
                slice_ms = max(0, min(_SIGNAL_SLICE_MS, left))
            n = _vpwr.vpwr_host_dispatch(ptr, slice_ms)
            ref.raise_callback_error()
            n = ref.check(n)
            if n or slice_ms == 0 or ref.stop_requested and ref.running:
                return n
            # Back in Python: pending signal handlers run here.

    # ------------------------------------------------------ properties
    @property
    def backend(self) -> Backend:
        """The Backend this host drives."""
        return self._backend

    @property
    def resolver(self) -> Resolver:
        """The Resolver this host asks for vCPU pinning."""
        return self._resolver

    @property
    def mode(self) -> Arbitration:
        """The arbitration mode, an Arbitration."""
        return self._mode

    @property
    def max_channels(self) -> int:
        """Open channels allowed in all."""
        return self._options["max_channels"]

    @property
    def max_domain_channels(self) -> int:
        """Open channels allowed per domain."""
        return self._options["max_domain_channels"]

    @property
    def rate_per_s(self) -> int:
        """Requests a second allowed per channel (0: no limit)."""
        return self._options["rate_per_s"]

    @property
    def rate_burst(self) -> int:
        """Requests allowed at once above rate_per_s (0: no limit)."""
        return self._options["rate_burst"]

    @property
    def allow_shared(self) -> bool:
        """Whether requests apply to pCPUs other domains may run on."""
        return self._options["allow_shared"]

    @property
    def auto_channels(self) -> bool:
        """Whether the host serves the channels the resolver reports."""
        return self._options["auto_channels"]

    @property
    def grace_ms(self) -> int:
        """How long a domain without channels keeps its requests."""
        return self._options["grace_ms"]

    @property
    def time_zone(self) -> str:
        """The zone of TIME policies' hours, as given ("local" if not)."""
        return self._options["time_zone"]

    @property
    def traffic_period_ms(self) -> int:
        """How often TRAFFIC and BRANCH_RATIO counters are sampled."""
        return self._options["traffic_period_ms"]

    @property
    def sysfs_root(self) -> str:
        """Where netdev statistics are read when there is no traffic_fn."""
        return self._options["sysfs_root"]

    @property
    def now_fn(self) -> Optional[Callable[[], int]]:
        """The clock function given, or None (the real clock)."""
        slot = self._slots.get("now_fn")
        return slot.fn if slot is not None else None

    @property
    def traffic_fn(self) -> Optional[Callable]:
        """The packet count function given, or None (netdev statistics)."""
        slot = self._slots.get("traffic_fn")
        return slot.fn if slot is not None else None

    @property
    def branch_fn(self) -> Optional[Callable]:
        """The branch counter function given, or None (perf counters)."""
        slot = self._slots.get("branch_fn")
        return slot.fn if slot is not None else None

    @property
    def fd(self) -> int:
        """The fd to poll for readability before dispatch(0)."""
        return self.fileno()

    def fileno(self) -> int:
        """The host's fd, so a host can be given to select/selectors."""
        return self._call(_vpwr.vpwr_host_fd)

    @property
    def nr_channels(self) -> int:
        """Number of open channels."""
        return self._call(_vpwr.vpwr_host_nr_channels)

    # -------------------------------------------------------- channels
    def add_channel(self, domain: str, sock) -> int:
        """Serve the connected stream socket `sock` (or an fd) as a channel
        of `domain`; returns the channel id.

        The host uses its own duplicate of the fd and switches the
        connection to non-blocking mode, which the socket object shares:
        close the socket object (the connection stays up) rather than using
        it further.
        """
        domain = as_str(domain, "domain")
        fd = fd_of(sock)
        ref = self._ref
        with Locked(self) as ptr:
            ref.clear_log()
            # From here the duplicate is the library's, also on failure.
            return ref.check(_vpwr.vpwr_py_host_add_fd(ptr, domain,
                                                       os.dup(fd), ref.log))

    def remove_channel(self, channel_id: int) -> None:
        """Close channel `channel_id` and drop its requests."""
        self._call(_vpwr.vpwr_host_remove_channel,
                   as_uint(channel_id, "channel_id", 0x7FFFFFFF))

    def listen(self, domain: Optional[str], uri: str) -> None:
        """Accept connections on `uri` ("unix-listen:/run/vpwr/vm1.sock");
        each becomes a channel of `domain`.  With domain None (a
        "vsock-listen:PORT" serving every guest) each connection is bound
        to the domain whose vsock CID its peer has, and turned away when
        none has it (a unix peer has no CID)."""
        if domain is not None:
            domain = as_str(domain, "domain")
        self._call(_vpwr.vpwr_host_listen, domain, as_str(uri, "uri"))

    def connect(self, domain: str, uri: str) -> None:
        """Connect to `uri` ("virtio-serial-host:/run/vpwr/vm1.0", a QEMU
        chardev with server=on) for `domain`, and again with back-off
        whenever it goes away or is not there yet."""
        self._call(_vpwr.vpwr_host_connect, as_str(domain, "domain"),
                   as_str(uri, "uri"))

    def detach(self, uri: str) -> int:
        """Stop serving `uri`: close the listener listen() opened on it or
        the connector connect() made for it (also one the host attached
        itself: auto_channels, watch_dir()), and every channel it made,
        dropping their requests at once.  Returns how many listeners and
        connectors were closed (> 0).  vpwr.Error ENOENT if none serves
        `uri`, which must be spelled as it was given.  A channel the host
        discovered comes back at the next refresh() if the resolver still
        lists it."""
        return self._call(_vpwr.vpwr_host_detach, as_str(uri, "uri"))

    def refresh(self) -> bool:
        """Re-read the resolver and re-decide every CPU (a re-pinned vCPU's
        wish moves); True if anything changed."""
        return self._call(_vpwr.vpwr_host_refresh) > 0

    def evaluate(self) -> None:
        """Evaluate every policy now (vpwr_host_evaluate()): TIME by the
        hour of now_fn (or the real clock), and one sample of every
        TRAFFIC and BRANCH_RATIO counter, which counts towards their
        hysteresis like a sample on the period.  For simulations that
        drive their own clock; a dispatching host does this on its
        timers.  vpwr.Error for the first error the backend gave while
        applying a change."""
        self._call(_vpwr.vpwr_host_evaluate)

    def control(self, request: Union[dict, str]) -> dict:
        """One request of the operator's control interface
        (docs/CONTROL.md), e.g. {"cmd": "cpus"}; returns the reply as a
        dict.  A refused request raises vpwr.Error with the reply's
        message."""
        if isinstance(request, dict):
            request = json.dumps(request)
        request = as_str(request, "request")
        with Locked(self) as ptr:
            self._ref.clear_log()
            text = _vpwr.vpwr_py_host_control(ptr, request)
            self._ref.raise_callback_error()
        if text is None:
            raise MemoryError("vpwr_host_control")
        reply = json.loads(text)
        if not reply.get("ok"):
            raise Error(-int(reply.get("errno", 0)) or -1,
                        reason=reply.get("message", ""))
        return reply

    def watch_dir(self, path: str) -> None:
        """Connect to the QEMU sockets named DOMAIN.N or DOMAIN.sock in
        directory `path`, as they appear; detach those that go."""
        self._call(_vpwr.vpwr_host_watch_dir, as_str(os.fspath(path), "path"))

    def control_listen(self, uri: str) -> None:
        """Serve the control interface on `uri` ("unix-listen:PATH"):
        mode 0600, root and this process's user only."""
        self._call(_vpwr.vpwr_host_control_listen, as_str(uri, "uri"))

    # ---------------------------------------------------------- serving
    def dispatch(self, timeout_ms: Optional[int] = 0) -> int:
        """Wait up to `timeout_ms` (0: do not wait, None: forever) for
        events and handle them; returns how many were handled."""
        timeout = as_timeout(timeout_ms)
        with Locked(self) as ptr:
            self._ref.clear_log()
            return self._dispatch(ptr, timeout)

    def run(self) -> None:
        """Dispatch until stop() is called (from another thread or a signal
        handler) or the host is closed.  A stop() that came before run()
        makes it return at once.  Other threads can use the host between
        two dispatches: a call waiting for it wakes the dispatch up."""
        ref = self._ref
        ref.running = True
        try:
            while not ref.stop_requested:
                with Locked(self, closed_ok=True) as ptr:
                    if ptr is None or ref.stop_requested:
                        break
                    self._dispatch(ptr, -1)
        finally:
            ref.running = False
            ref.stop_requested = False

    def stop(self) -> None:
        """Make run() return.  Never waits; any thread may call it."""
        self._ref.stop()

    def handle(self, domain: str, request: Message) -> Message:
        """Handle one request of `domain` as if it had come over a channel
        (vpwr_host_handle()) and return the reply Message.  A refused
        request is not raised: look at reply.status, or reply.check()."""
        domain = as_str(domain, "domain")
        if not isinstance(request, Message):
            raise TypeError("request must be a vpwr.Message, not "
                            f"{type(request).__name__}")
        ref = self._ref
        with Locked(self) as ptr:
            ref.clear_log()
            _, raw = _vpwr.vpwr_host_handle(ptr, domain, request.to_bytes())
            ref.raise_callback_error()
            return Message.from_bytes(raw)

    # ------------------------------------------------------ inspection
    def cpu_info(self, pcpu: int) -> CpuInfo:
        """What the host holds for physical CPU `pcpu`, as a CpuInfo."""
        info = _vpwr.vpwr_host_cpu_info_t()
        self._call(_vpwr.vpwr_host_cpu_info, as_uint(pcpu, "pcpu"), info)
        return CpuInfo(cur_khz=info.cur_khz, min_khz=info.min_khz,
                       max_khz=info.max_khz, turbo=bool(info.turbo),
                       nr_requests=info.nr_requests,
                       managed=bool(info.managed), winner=info.winner)

    def set_bounds(self, pcpu: int, min_khz: int, max_khz: int) -> None:
        """Operator bounds of physical CPU `pcpu`: no guest may push it
        outside [min_khz, max_khz].  (0, 0) removes them."""
        self._call(_vpwr.vpwr_host_set_bounds, as_uint(pcpu, "pcpu"),
                   as_uint(min_khz, "min_khz"), as_uint(max_khz, "max_khz"))

    def set_domain_bounds(self, domain: str, min_khz: int,
                          max_khz: int) -> None:
        """Operator bounds of `domain`: none of its requests or policies
        pushes a CPU outside [min_khz, max_khz].  (0, 0) removes them."""
        self._call(_vpwr.vpwr_host_set_domain_bounds,
                   as_str(domain, "domain"), as_uint(min_khz, "min_khz"),
                   as_uint(max_khz, "max_khz"))

    def __repr__(self):
        if self.closed:
            return self._repr("")
        return self._repr(f"mode={self._mode.name.lower()} "
                          f"backend={self._backend.name!r}")


# Arguments and results of the host's callbacks (see Ref.set_callback).

def _no_args():
    return ()


def _one_arg(value):
    return (value,)


def _traffic_args(domain, policy):
    return (domain, Policy.from_bytes(policy))


def _now_result(value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("now_fn must return an int (Unix time in ms), not "
                        f"{type(value).__name__}")
    if not -2**63 <= value < 2**63:
        raise ValueError(f"now_fn returned {value}: outside 64 bits")
    return value


def _count(value, what):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int >= 0, not "
                        f"{type(value).__name__}")
    if not 0 <= value < 2**64:
        raise ValueError(f"{what} must be within 0 .. 2**64-1, not {value}")
    return value


def _traffic_result(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("traffic_fn must return a packet count (an int >= "
                        f"0) or None, not {type(value).__name__}")
    return _count(value, "traffic_fn's packet count")


def _branch_result(value):
    if value is None:
        return None
    if not isinstance(value, tuple) or len(value) != 2:
        raise TypeError("branch_fn must return a (branches, misses) tuple "
                        f"of ints or None, not {type(value).__name__}")
    return (_count(value[0], "branch_fn's branches"),
            _count(value[1], "branch_fn's misses"))


def _host_event(type_, channel_id, domain, status, request, reply, pcpu,
                old_khz, new_khz, min_khz, max_khz, turbo, winner):
    return (_make_host_event(type_, channel_id, domain, status, request,
                             reply, pcpu, old_khz, new_khz, min_khz, max_khz,
                             turbo, winner),)


def _make_host_event(type_, channel_id, domain, status, request, reply, pcpu,
                     old_khz, new_khz, min_khz, max_khz, turbo, winner):
    try:
        type_ = HostEventType(type_)
    except ValueError:
        pass
    return HostEvent(
        type=type_, channel_id=channel_id, domain=domain, status=status,
        request=Message.from_bytes(request) if request is not None else None,
        reply=Message.from_bytes(reply) if reply is not None else None,
        pcpu=pcpu, old_khz=old_khz, new_khz=new_khz, min_khz=min_khz,
        max_khz=max_khz, turbo=bool(turbo), winner=winner)


# ---------------------------------------------------------------- meters

class Meter(Handle):
    """An energy meter: how much energy has been used, counted by the
    hardware or integrated by the simulator.

    Meter("rapl", sysfs_root=None) reads Intel/AMD RAPL through powercap
    sysfs; Meter("sim", backend=sim) reads a SimBackend's energy counters
    (the meter keeps the backend alive and is closed before it).
    """

    _kind = "meter"

    def __init__(self, name: str, *, sysfs_root=None,
                 backend: Optional[Backend] = None):
        name = as_str(name, "name")
        if sysfs_root is not None:
            sysfs_root = as_path(sysfs_root, "sysfs_root")
        if backend is not None and not isinstance(backend, Backend):
            raise TypeError("backend must be a vpwr.Backend, not "
                            f"{type(backend).__name__}")
        owners = (backend._ref,) if backend is not None else ()
        ref = Ref("meter", _vpwr.vpwr_meter_free, owners=owners)
        if backend is not None:
            with Locked(backend) as b:
                rc, ptr = _vpwr.vpwr_py_meter_open(name, sysfs_root, b,
                                                   ref.log)
                ref.check(rc)
                ref.ptr = ptr
                backend._ref.dependents.add(ref)
        else:
            rc, ptr = _vpwr.vpwr_py_meter_open(name, sysfs_root, None,
                                               ref.log)
            ref.check(rc)
            ref.ptr = ptr
        self._ref = ref
        self._name = name

    def _call(self, fn, *args):
        ref = self._ref
        with Locked(self) as ptr:
            ref.clear_log()
            res = fn(ptr, *args)
            ref.check(res[0] if isinstance(res, (list, tuple)) else res)
            return res

    @property
    def name(self) -> str:
        """The meter's name ("rapl", "sim")."""
        return self._name

    @property
    def nr_domains(self) -> int:
        """Number of domains measured (RAPL packages, simulated CPUs)."""
        return self._call(_vpwr.vpwr_meter_nr_domains)

    @property
    def domains(self) -> List[str]:
        """The domains' names ("package-0", "cpu3", ...), by number."""
        with Locked(self) as ptr:
            n = self._ref.check(_vpwr.vpwr_meter_nr_domains(ptr))
            return [_vpwr.vpwr_meter_domain_name(ptr, i) for i in range(n)]

    def read(self, domain: int) -> float:
        """Energy used by `domain` since the meter was opened, in joules."""
        return self._call(_vpwr.vpwr_meter_read,
                          as_uint(domain, "domain"))[1]

    def __repr__(self):
        return self._repr(repr(self._name))
