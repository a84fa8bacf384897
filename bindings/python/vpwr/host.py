# SPDX-License-Identifier: MIT
"""The host side: frequency backends, vCPU resolvers and the host engine.

    with vpwr.SimBackend(nr_cpus=4) as sim, \\
         vpwr.StaticResolver("pins.json") as pins, \\
         vpwr.Host(sim, pins) as host:
        host.listen("vm1", "unix-listen:/run/vpwr/vm1.sock")
        host.run()          # until host.stop() from another thread
"""

import enum
import math
import os
import threading
import time
from dataclasses import dataclass

from . import _vpwr
from ._handle import (Handle, Locked, Ref, as_bool, as_float, as_path,
                      as_str, as_timeout, as_uint, fd_of)

__all__ = ["Backend", "SimBackend", "BackendCaps", "Resolver",
           "StaticResolver", "Host", "Arbitration", "CpuInfo"]

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

    Backend(name, sysfs_root=None) opens backend `name` ("sim", and the
    sysfs backends as the library grows them; see SimBackend for the
    simulator's options).  Closing it (or losing the last reference)
    restores every CPU it changed; a Host using it is closed first.
    Frequencies are in kHz.
    """

    _kind = "backend"

    def __init__(self, name, sysfs_root=None):
        name = as_str(name, "name")
        if sysfs_root is not None:
            sysfs_root = as_path(sysfs_root, "sysfs_root")
        ref = Ref("backend", _vpwr.vpwr_backend_free)
        rc, ptr = _vpwr.vpwr_py_backend_open(name, sysfs_root, ref.log)
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
    def name(self):
        """The backend's name ("sim", ...)."""
        with Locked(self) as ptr:
            return _vpwr.vpwr_backend_name(ptr)

    @property
    def nr_cpus(self):
        """Number of CPUs (ids 0 .. nr_cpus-1)."""
        return self._call(_vpwr.vpwr_backend_nr_cpus)

    def caps(self, cpu):
        """What the backend can do with `cpu`, as BackendCaps."""
        return BackendCaps(self._call(_vpwr.vpwr_backend_caps,
                                      self._cpu(cpu)))

    def freqs(self, cpu):
        """The available frequencies of `cpu`, ascending (turbo included
        only while turbo is on)."""
        cpu = self._cpu(cpu)
        n = self._call(_vpwr.vpwr_backend_get_freqs, cpu, 0)[0]
        while True:
            count, khz = self._call(_vpwr.vpwr_backend_get_freqs, cpu, n)
            if count <= n:
                return khz
            n = count

    def freq(self, cpu):
        """The current frequency of `cpu`."""
        return self._call(_vpwr.vpwr_backend_get_freq, self._cpu(cpu))[1]

    def set_freq(self, cpu, khz):
        """Set the target frequency of `cpu` (within its limits; rounded
        down to a table entry)."""
        self._call(_vpwr.vpwr_backend_set_freq, self._cpu(cpu),
                   as_uint(khz, "khz"))

    def limits(self, cpu):
        """The (min_khz, max_khz) limits of `cpu`."""
        _, lo, hi = self._call(_vpwr.vpwr_backend_get_limits,
                               self._cpu(cpu))
        return lo, hi

    def set_limits(self, cpu, min_khz, max_khz):
        """Set the limits of `cpu`; its frequency is clamped into them."""
        self._call(_vpwr.vpwr_backend_set_limits, self._cpu(cpu),
                   as_uint(min_khz, "min_khz"), as_uint(max_khz, "max_khz"))

    def turbo(self, cpu):
        """True if turbo is on for `cpu`."""
        return bool(self._call(_vpwr.vpwr_backend_get_turbo,
                               self._cpu(cpu)))

    def set_turbo(self, cpu, enable):
        """Turn turbo of `cpu` on or off."""
        self._call(_vpwr.vpwr_backend_set_turbo, self._cpu(cpu),
                   int(as_bool(enable, "enable")))

    def restore(self, cpu):
        """Put back what the backend changed on `cpu`."""
        self._call(_vpwr.vpwr_backend_restore, self._cpu(cpu))

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
    """

    _kind = "sim"

    def __init__(self, nr_cpus=None, freqs=None, turbo_khz=None, *,
                 static_w=None, dyn_w_per_ghz_v2=None, v_min=None,
                 v_max=None, idle_fraction=None, util=None, wallclock=False):
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
        ref = Ref("backend", _vpwr.vpwr_backend_free)
        rc, ptr = _vpwr.vpwr_py_backend_open_sim(n, freqs, turbo, *model,
                                                 *shares, int(wall), ref.log)
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

    def advance(self, ns):
        """Move the virtual clock forward by `ns` nanoseconds, accumulating
        energy and residency at the current frequencies."""
        self._call(_vpwr.vpwr_sim_advance,
                   as_uint(ns, "ns", 0xFFFFFFFFFFFFFFFF))

    @property
    def now(self):
        """Virtual time elapsed since open, in ns."""
        return self._call(_vpwr.vpwr_sim_now)[1]

    def set_util(self, cpu, util):
        """Set the utilisation (0 .. 1) of `cpu`."""
        util = as_float(util, "util")
        if not 0.0 <= util <= 1.0:
            raise ValueError(f"util must be within 0 .. 1, not {util}")
        self._call(_vpwr.vpwr_sim_set_util, self._cpu(cpu), util)

    def energy(self, cpu):
        """Energy `cpu` has used so far, in joules."""
        return self._call(_vpwr.vpwr_sim_energy, self._cpu(cpu))[1]

    def power(self, cpu, khz, util):
        """The model's power draw of `cpu` at `khz` and `util`, in watts."""
        return self._call(_vpwr.vpwr_sim_power, self._cpu(cpu),
                          as_uint(khz, "khz"), as_float(util, "util"))[1]

    def residency(self, cpu, khz):
        """Time `cpu` has spent at `khz`, in ns."""
        return self._call(_vpwr.vpwr_sim_residency, self._cpu(cpu),
                          as_uint(khz, "khz"))[1]


# ------------------------------------------------------------ resolvers

class Resolver(Handle):
    """Maps a domain's vCPUs to the physical CPUs they run on.

    Resolver(uri) opens any resolver URI ("static:/etc/vpwr/pins.json",
    later "libvirt:qemu:///system"); StaticResolver(path) is the usual way
    to the static one.  Closing it closes a Host using it first.
    """

    _kind = "resolver"

    def __init__(self, uri):
        uri = as_str(uri, "uri")
        ref = Ref("resolver", _vpwr.vpwr_resolver_free)
        rc, ptr = _vpwr.vpwr_py_resolver_open(uri, ref.log)
        ref.check(rc)
        ref.ptr = ptr
        self._ref = ref
        self._uri = uri

    @property
    def uri(self):
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
    def domains(self):
        """The names of the known domains, in a stable order."""
        return self._call(_vpwr.vpwr_py_resolver_domains)[1]

    def nr_vcpus(self, domain):
        """Number of vCPUs of `domain`."""
        return self._call(_vpwr.vpwr_resolver_nr_vcpus,
                          as_str(domain, "domain"))

    def lookup(self, domain, vcpu):
        """The physical CPUs vCPU `vcpu` of `domain` may run on, as a
        frozenset."""
        return frozenset(self._call(_vpwr.vpwr_resolver_lookup,
                                    as_str(domain, "domain"),
                                    as_uint(vcpu, "vcpu"))[1])

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

    Host(backend, resolver, mode=Arbitration.PERFORMANCE, *,
    max_channels=None, allow_shared=False).  `mode` may also be a name
    ("performance", "powersave", "exclusive").  The host keeps its backend
    and resolver alive, and is freed before them; freeing it restores every
    physical CPU it changed.

    Serve with dispatch() in your own loop (poll fd or fileno() for
    readability first, or give dispatch() a timeout), or with run() until
    stop().  The GIL is released while the host waits, so a guest in another
    thread of the same process is answered.

    One thread at a time uses a host, its backend and its resolver: a call
    from another thread waits its turn, and wakes a dispatch in progress so
    that its turn comes soon (such a wake-up counts as one event handled).
    """

    _kind = "host"

    def __init__(self, backend, resolver, mode=Arbitration.PERFORMANCE, *,
                 max_channels=None, allow_shared=False):
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

        ref = Ref("host", _vpwr.vpwr_host_free,
                  owners=(backend._ref, resolver._ref))
        # Held while creating, so that neither can be closed meanwhile.
        with Locked(backend) as b, Locked(resolver) as r:
            rc, ptr = _vpwr.vpwr_py_host_new(b, r, int(mode), channels,
                                             int(shared), ref.log)
            ref.check(rc)
            ref.ptr = ptr
            backend._ref.dependents.add(ref)
            resolver._ref.dependents.add(ref)
        self._ref = ref
        self._backend = backend
        self._resolver = resolver
        self._mode = mode

    # --------------------------------------------------------- helpers
    def _call(self, fn, *args):
        ref = self._ref
        with Locked(self) as ptr:
            ref.clear_log()
            res = fn(ptr, *args)
            ref.check(res[0] if isinstance(res, (list, tuple)) else res)
            return res

    def _dispatch(self, ptr, timeout):
        """vpwr_host_dispatch(), lock held.  In the main thread a long wait
        is cut into slices so that Ctrl-C is noticed."""
        ref = self._ref
        if timeout == 0 or threading.current_thread() is not \
                threading.main_thread():
            return ref.check(_vpwr.vpwr_host_dispatch(ptr, timeout))
        deadline = None if timeout < 0 else time.monotonic() + timeout / 1e3
        while True:
            if deadline is None:
                slice_ms = _SIGNAL_SLICE_MS
            else:
                left = math.ceil((deadline - time.monotonic()) * 1e3)
                slice_ms = max(0, min(_SIGNAL_SLICE_MS, left))
            n = ref.check(_vpwr.vpwr_host_dispatch(ptr, slice_ms))
            if n or slice_ms == 0 or ref.stop_requested and ref.running:
                return n
            # Back in Python: pending signal handlers run here.

    # ------------------------------------------------------ properties
    @property
    def backend(self):
        """The Backend this host drives."""
        return self._backend

    @property
    def resolver(self):
        """The Resolver this host asks for vCPU pinning."""
        return self._resolver

    @property
    def mode(self):
        """The arbitration mode, an Arbitration."""
        return self._mode

    @property
    def fd(self):
        """The fd to poll for readability before dispatch(0)."""
        return self.fileno()

    def fileno(self):
        """The host's fd, so a host can be given to select/selectors."""
        return self._call(_vpwr.vpwr_host_fd)

    @property
    def nr_channels(self):
        """Number of open channels."""
        return self._call(_vpwr.vpwr_host_nr_channels)

    # -------------------------------------------------------- channels
    def add_channel(self, domain, sock):
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

    def remove_channel(self, channel_id):
        """Close channel `channel_id` and drop its requests."""
        self._call(_vpwr.vpwr_host_remove_channel,
                   as_uint(channel_id, "channel_id", 0x7FFFFFFF))

    def listen(self, domain, uri):
        """Accept connections on `uri` ("unix-listen:/run/vpwr/vm1.sock");
        each becomes a channel of `domain`."""
        self._call(_vpwr.vpwr_host_listen, as_str(domain, "domain"),
                   as_str(uri, "uri"))

    # ---------------------------------------------------------- serving
    def dispatch(self, timeout_ms=0):
        """Wait up to `timeout_ms` (0: do not wait, None: forever) for
        events and handle them; returns how many were handled."""
        timeout = as_timeout(timeout_ms)
        with Locked(self) as ptr:
            self._ref.clear_log()
            return self._dispatch(ptr, timeout)

    def run(self):
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

    def stop(self):
        """Make run() return.  Never waits; any thread may call it."""
        self._ref.stop()

    # ------------------------------------------------------ inspection
    def cpu_info(self, pcpu):
        """What the host holds for physical CPU `pcpu`, as a CpuInfo."""
        info = _vpwr.vpwr_host_cpu_info_t()
        self._call(_vpwr.vpwr_host_cpu_info, as_uint(pcpu, "pcpu"), info)
        return CpuInfo(cur_khz=info.cur_khz, min_khz=info.min_khz,
                       max_khz=info.max_khz, turbo=bool(info.turbo),
                       nr_requests=info.nr_requests,
                       managed=bool(info.managed), winner=info.winner)

    def set_bounds(self, pcpu, min_khz, max_khz):
        """Operator bounds of physical CPU `pcpu`: no guest may push it
        outside [min_khz, max_khz].  (0, 0) removes them."""
        self._call(_vpwr.vpwr_host_set_bounds, as_uint(pcpu, "pcpu"),
                   as_uint(min_khz, "min_khz"), as_uint(max_khz, "max_khz"))

    def __repr__(self):
        if self.closed:
            return self._repr("")
        return self._repr(f"mode={self._mode.name.lower()} "
                          f"backend={self._backend.name!r}")
