# SPDX-License-Identifier: MIT
"""Replay a traffic trace through the simulator under a power policy, and
see the energy it saves and the service it costs.

    python3 -m vpwr.experiment TRACE.csv [TRACE.csv ...] [-p POLICY ...]
                               [--json FILE|-] [--plots DIR]

Each trace runs once per policy on libvpwr's own simulator backend (the C
"sim" backend through these bindings: its frequency tables, power model,
virtual clock and work model) behind libvpwr's host engine (vpwr.Host),
and every result is set against the all-max baseline.  The same inputs
give the same figures, byte for byte, in the table, the JSON and the
PNGs.

Trace
-----
CSV, one row per time step: ``time_s`` (seconds since midnight; the
hour of day TIME policies see is ``time_s // 3600 % 24``), then the
packets/s offered to each vCPU, one column per vCPU.  An optional header
row names the columns (its first must start with "time"); blank lines and
lines starting with ``#`` are skipped.  Times strictly increase; a row's
rates hold until the next row's time, and the last row for as long as the
step before it.  vCPU i of the trace is the one vCPU of domain
``trace.i``, pinned to simulated CPU i: the host holds one policy of each
kind per domain and counts a domain's packets as one, so one domain per
vCPU lets each vCPU be decided on its own rate.

Policies (-p, repeatable; default: max min workload:medium time traffic)
-------------------------------------------------------------------------
``max`` / ``min``
    every vCPU fixed at the highest / lowest frequency (SCALE max / min
    sent to the host once).  ``max`` is the baseline and always runs.
``workload:low|medium|high``
    a WORKLOAD policy (POLICY_SET) sent to the host once; **the C host
    decides** the frequency (lowest, middle or highest of the table).
``time[:busy=H:quiet=H:traffic=H:min=N:avg=N:max=N]``
    a TIME policy (POLICY_SET) sent to the host once; **the C host
    decides**: max in busy hours, min in quiet hours, the TRAFFIC rule on
    the policy's own thresholds in traffic hours, nothing in other hours
    (the CPU goes back to where it started).  Hours are cpulists ("8-19",
    "0-6,22-23").  Default busy=8-19, quiet=0-6,22-23, traffic=7,20-21,
    thresholds as for ``traffic``.
``traffic[:min=N:avg=N:max=N]``
    a TRAFFIC policy sent to the host once; **the C host decides** on
    each vCPU's packet rate, with hysteresis (docs/POLICIES.md): below
    min -> min frequency at once, at or above avg -> medium, at or above
    max -> max (up at once, down after 3 samples 10 % below).  N may end
    in k or M.  Default thresholds from the simulated table: avg = 0.9 x
    the capacity at the lowest frequency, max = 0.9 x the capacity at the
    medium one, min = 0.6 x the lowest.
``func:MODULE:NAME`` (MODULE a dotted module name or a path to a .py file)
    a Python function of yours, called once per step with a Step (the
    observations) and returning one frequency in kHz per vCPU (a list), or
    one int for all; an entry may also be None (no change) or "min",
    "medium", "max".  Frequencies go to the host as SET_FREQ requests
    (rounded down to a table entry; outside the table is an error).  If
    NAME is a class, a fresh instance is made for each run and called.

Every policy takes ``vcpus=CPULIST`` to govern only some vCPUs (the others
stay as the simulator starts them: at the highest nominal frequency).

Who decides what.  The C host engine evaluates WORKLOAD, TIME and
TRAFFIC itself (docs/POLICIES.md): the experiment gives the host the
trace's clock (Host(now_fn=...), Unix time in ms of 2024-01-01 plus the
trace's time_s, zone UTC) and each domain's packet count
(Host(traffic_fn=...): the packets offered to its vCPU so far), and calls
Host.evaluate() at the start of every step.  Fixed levels (SCALE) and user
functions (SET_FREQ) are decided by Python and go through the host.  Every
frequency change is made by the host through the simulator backend; the
"decided by" column says whose decision it was.

Timing.  At the start of each step the policy sees what was measured
during the step before (its packet rate, the backlog now), decides, and
the decision holds for the step: like a real governor, it reacts one step
late.  The host measures a rate between two counts, so TRAFFIC (and a
TIME policy's traffic hours) decide nothing during the first step after
they start (the CPU stays where it was, or goes back to where it started);
a user function sees the trace's first rates at step 0.

Metrics (per policy; "vs max" against the baseline)
----------------------------------------------------
energy (J, the simulator's power model integrated over virtual time, all
CPUs), average frequency (time-weighted over all vCPUs), residency (share
of vCPU time at each frequency), and service from the simulator's work
model (capacity = work_per_ghz x f): packets offered, served, dropped
(backlog full), left waiting at the end, the peak backlog, and the mean
wait of a served packet (backlog integrated over time / served).  "lost"
is dropped + left waiting, as a share of what was offered; "added wait"
is the mean wait minus the baseline's.

Outputs: a table on the terminal; --json FILE (or - for stdout) with the
schema "vpwr.experiment/1"; --plots DIR with, per trace, TRACE-timeline.png
(offered load, frequency and power over time per policy) and
TRACE-energy.png (energy per policy), drawn with matplotlib's Agg canvas
(Debian's python3-matplotlib) without pyplot or any global state.

From Python:

    from vpwr import experiment as ex
    trace = ex.load_trace("examples/traces/diurnal.csv")
    cmp = ex.compare(trace, ["max", "min", "traffic", my_function])
    print(ex.format_table([cmp]))
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import importlib
import importlib.util
import io
import json
import math
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from typing import (Any, Callable, Dict, List, Optional, Sequence, Tuple,
                    Union)

from ._errors import Error
from .decide import Level, check_thresholds
from .host import Host, SimBackend, StaticResolver
from .message import Message, Policy, ScaleOp, Workload

__all__ = [
    "Trace", "TraceError", "ExperimentError", "SimConfig", "Step",
    "ExperimentPolicy", "FixedPolicy", "WorkloadPolicy", "TimePolicy",
    "TrafficPolicy", "FunctionPolicy", "parse_policy", "RunResult",
    "Comparison", "parse_trace", "load_trace", "run", "compare",
    "format_table", "to_json", "plot", "main", "DEFAULT_POLICIES", "SCHEMA",
]

SCHEMA = "vpwr.experiment/1"
DEFAULT_POLICIES = ("max", "min", "workload:medium", "time", "traffic")
BASELINE = "max"
DOMAIN = "trace"
MAX_VCPUS = 1024
#: The host's clock at the trace's time 0: 2024-01-01 00:00 UTC, in ms.
EPOCH_MS = 1704067200000
#: The zone the host reads the trace's hours in.
TIME_ZONE = "UTC"


def domain_of(vcpu: int) -> str:
    """The domain whose one vCPU is the trace's vCPU `vcpu`."""
    return f"{DOMAIN}.{vcpu}"


class TraceError(ValueError):
    """A trace that cannot be used; the message says where and why
    ("trace.csv:7: time 60 is not after 60 (line 6)")."""


class ExperimentError(Exception):
    """A policy or an option that cannot be run (an unknown policy, a user
    function that returned something unusable, ...)."""


# ------------------------------------------------------------------ traces

@dataclass(frozen=True)
class Trace:
    """A traffic trace: times (s since midnight) and per-vCPU packets/s."""
    name: str
    times_s: Tuple[float, ...]
    rates: Tuple[Tuple[float, ...], ...]   #: rates[row][vcpu], packets/s
    columns: Tuple[str, ...]               #: the vCPU columns' names

    @property
    def nr_vcpus(self) -> int:
        """Number of vCPU columns."""
        return len(self.columns)

    @property
    def steps(self) -> int:
        """Number of rows (steps)."""
        return len(self.times_s)

    def step_ns(self) -> List[Tuple[int, int]]:
        """(start, length) of each step in ns from the first time."""
        t0 = self.times_s[0]
        ns = [round((t - t0) * 1e9) for t in self.times_s]
        out = []
        for i in range(len(ns)):
            length = (ns[i + 1] - ns[i]) if i + 1 < len(ns) else \
                (ns[i] - ns[i - 1])
            out.append((ns[i], length))
        return out

    @property
    def duration_s(self) -> float:
        """From the first row to the end of the last step, in seconds."""
        start, length = self.step_ns()[-1]
        return (start + length) / 1e9

    @property
    def offered_units(self) -> float:
        """Packets offered over the whole trace, all vCPUs."""
        return sum(sum(r) * length / 1e9
                   for r, (_, length) in zip(self.rates, self.step_ns()))


def _number(text):
    """A float from "1.5", "2e6", "800k", "1.2M"; ValueError otherwise."""
    t = text.strip()
    scale = 1.0
    if t[-1:] in ("k", "K"):
        t, scale = t[:-1], 1e3
    elif t[-1:] == "M":
        t, scale = t[:-1], 1e6
    return float(t) * scale


def parse_trace(text: str, name: str = "trace") -> Trace:
    """Parse a trace from CSV text (see the module); TraceError with
    "NAME:LINE: why" if it cannot be used."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")

    def fail(line, why):
        where = f"{name}:{line}: " if line else f"{name}: "
        raise TraceError(where + why)

    columns = None
    times: List[float] = []
    rates: List[Tuple[float, ...]] = []
    lines: List[int] = []
    reader = csv.reader(io.StringIO(text))
    for row in reader:
        lineno = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        if row[0].lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in row]
        if columns is None and not times:
            try:
                _number(cells[0])
            except ValueError:
                # A header.
                if not cells[0].lower().startswith("time"):
                    fail(lineno, f"the first column must be the time in "
                         f"seconds (time_s), not {cells[0]!r}")
                if len(cells) < 2:
                    fail(lineno, "needs a time column and at least one "
                         "packets/s column")
                columns = tuple(c or f"vcpu{i}" for i, c in
                                enumerate(cells[1:]))
                continue
        if len(cells) < 2:
            fail(lineno, "needs a time column and at least one packets/s "
                 "column")
        width = len(columns) + 1 if columns is not None else (
            len(rates[0]) + 1 if rates else len(cells))
        if len(cells) != width:
            fail(lineno, f"{len(cells)} columns, expected {width} (time_s "
                 f"and {width - 1} vCPU{'s' if width > 2 else ''})")
        values = []
        for col, cell in enumerate(cells):
            what = "time_s" if col == 0 else (
                columns[col - 1] if columns else f"vCPU {col - 1}")
            try:
                v = _number(cell)
            except (ValueError, IndexError):
                fail(lineno, f"column {col + 1} ({what}): {cell!r} is not "
                     "a number")
            if not math.isfinite(v) or v < 0:
                fail(lineno, f"column {col + 1} ({what}): {cell!r} must be "
                     "a finite number >= 0")
            values.append(v)
        if times and values[0] <= times[-1]:
            fail(lineno, f"time {cells[0]} is not after {times[-1]:g} "
                 f"(line {lines[-1]}): times must increase")
        times.append(values[0])
        rates.append(tuple(values[1:]))
        lines.append(lineno)
    if not times:
        fail(0, "no data rows (expected CSV rows: time_s, then packets/s "
             "per vCPU)")
    if len(times) < 2:
        fail(lines[0], "needs at least 2 rows: a row's rates hold until "
             "the next row's time")
    n = len(rates[0])
    if n > MAX_VCPUS:
        fail(lines[0], f"{n} vCPU columns, at most {MAX_VCPUS}")
    if columns is None:
        columns = tuple(f"vcpu{i}" for i in range(n))
    trace = Trace(name, tuple(times), tuple(rates), columns)
    steps = trace.step_ns()
    for i, (_, length) in enumerate(steps):
        if length <= 0:
            fail(lines[min(i + 1, len(lines) - 1)],
                 "times closer than 1 ns apart")
    return trace


def load_trace(path: Union[str, os.PathLike]) -> Trace:
    """Read a trace file (see parse_trace); its name is the file's stem."""
    path = os.fspath(path)
    name = os.path.splitext(os.path.basename(path))[0] or "trace"
    try:
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
    except UnicodeDecodeError as e:
        raise TraceError(f"{path}: not UTF-8 text ({e.reason} at byte "
                         f"{e.start})") from None
    except OSError as e:
        raise TraceError(f"{path}: {e.strerror}") from None
    try:
        return parse_trace(text, name)
    except TraceError as e:
        # Say the path, not just the name.
        msg = str(e)
        raise TraceError(path + msg[len(name):]) from None


# -------------------------------------------------------------- simulator

@dataclass(frozen=True)
class SimConfig:
    """The simulated machine (see vpwr.SimBackend; None: the library's
    default).  idle_util is the utilisation of a vCPU offered no work."""
    freqs_khz: Optional[Tuple[int, ...]] = None
    turbo_khz: Optional[int] = None
    work_per_ghz: float = 1e6
    max_backlog: float = 1e6
    static_w: Optional[float] = None
    dyn_w_per_ghz_v2: Optional[float] = None
    v_min: Optional[float] = None
    v_max: Optional[float] = None
    idle_fraction: Optional[float] = None
    idle_util: float = 0.0

    def open(self, nr_cpus: int) -> SimBackend:
        """A SimBackend of `nr_cpus` CPUs with these settings."""
        return SimBackend(
            nr_cpus=nr_cpus, freqs=self.freqs_khz, turbo_khz=self.turbo_khz,
            static_w=self.static_w, dyn_w_per_ghz_v2=self.dyn_w_per_ghz_v2,
            v_min=self.v_min, v_max=self.v_max,
            idle_fraction=self.idle_fraction, util=self.idle_util,
            work_per_ghz=self.work_per_ghz, max_backlog=self.max_backlog)

    def table(self) -> List[int]:
        """The frequency table a simulated CPU offers (turbo included)."""
        with self.open(1) as sim:
            return sim.freqs(0)

    def to_json(self) -> Dict[str, Any]:
        """The settings for the JSON report (None: the library's
        default)."""
        table = self.table()
        return {"freqs_khz": table, "work_per_ghz": self.work_per_ghz,
                "max_backlog": self.max_backlog,
                "static_w": self.static_w, "dyn_w_per_ghz_v2":
                self.dyn_w_per_ghz_v2, "v_min": self.v_min,
                "v_max": self.v_max, "idle_fraction": self.idle_fraction,
                "idle_util": self.idle_util}


# ---------------------------------------------------------------- policies

@dataclass(frozen=True)
class Step:
    """What a policy sees at the start of a step (one per vCPU in each
    tuple).  Rates are measured over the step before (at step 0: the
    trace's first rates, nothing served or dropped yet)."""
    index: int                      #: step number, from 0
    time_s: float                   #: the trace's time of the step
    hour: int                       #: hour of day, time_s // 3600 % 24
    dt_s: float                     #: how long this step lasts
    pps: Tuple[float, ...]          #: packets/s offered, step before
    served_pps: Tuple[float, ...]   #: packets/s served, step before
    dropped_pps: Tuple[float, ...]  #: packets/s dropped, step before
    backlog: Tuple[float, ...]      #: packets waiting now
    freq_khz: Tuple[int, ...]       #: current frequency
    freqs_khz: Tuple[Tuple[int, ...], ...]  #: each vCPU's table
    work_per_ghz: float             #: packets/s one vCPU serves per GHz

    @property
    def nr_vcpus(self) -> int:
        """Number of vCPUs."""
        return len(self.freq_khz)

    def capacity(self, khz: int) -> float:
        """Packets/s a vCPU serves at `khz`."""
        return self.work_per_ghz * khz / 1e6


class _Sources:
    """The host's clock and packet counts during a replay: the trace's
    time, and the packets offered to each vCPU so far (whole packets), set
    by the replay before each Host.evaluate().  The host calls these back
    while it holds the simulator, so they only read what was set."""

    def __init__(self, nr_vcpus: int):
        self.now_ms = EPOCH_MS
        self.packets = {domain_of(v): 0 for v in range(nr_vcpus)}

    def now(self) -> int:
        return self.now_ms

    def traffic(self, domain: str, policy: Policy) -> Optional[int]:
        return self.packets.get(domain)

    def at(self, time_s: float, offered: Sequence[float]) -> None:
        self.now_ms = EPOCH_MS + round(time_s * 1000)
        for v, units in enumerate(offered):
            self.packets[domain_of(v)] = int(units)


class _Run:
    """One simulation: the host, its simulator and what a policy may do."""

    def __init__(self, host, sim, trace, tables, work_per_ghz):
        self.host = host
        self.sim = sim
        self.trace = trace
        self.tables = tables
        self.work_per_ghz = work_per_ghz

    def request(self, vcpu: int, msg: Message, what: str) -> Message:
        """Send `msg` (about vCPU 0) for the trace's vCPU `vcpu`."""
        reply = self.host.handle(domain_of(vcpu), msg)
        if not reply.ok:
            raise ExperimentError(f"{what}: the host refused {msg}: "
                                  f"{reply.error}")
        return reply

    def set_level(self, vcpu: int, level: Level) -> None:
        self.request(vcpu, Message.scale(0, level.scale_op),
                     f"vCPU {vcpu} to {level.name.lower()}")

    def set_khz(self, vcpu: int, khz: int) -> None:
        self.request(vcpu, Message.set_freq(0, khz),
                     f"vCPU {vcpu} to {khz} kHz")

    def set_policy(self, vcpu: int, policy: Policy, what: str) -> None:
        """Hand the host `policy` for the trace's vCPU `vcpu`."""
        self.request(vcpu, Message.policy_set(
            dataclasses.replace(policy, vcpus=frozenset())), what)


class ExperimentPolicy:
    """A policy an experiment can run: begin() once, step() every step.

    `decided_by` is "host" when libvpwr's C host makes the decisions,
    "python" when Python does and hands them to the host.
    """
    kind = "policy"
    decided_by = "python"

    def __init__(self, label: str, spec: str):
        self.label = label
        self.spec = spec

    def begin(self, run: _Run) -> None:
        """Called once before the first step (send fixed requests)."""

    def step(self, run: _Run, obs: Step) -> None:
        """Called at the start of every step with its observations."""

    def _governed(self, n: int, vcpus) -> List[int]:
        if not vcpus:
            return list(range(n))
        out = sorted(v for v in vcpus if v < n)
        if not out:
            raise ExperimentError(f"{self.label}: vcpus={_cpulist(vcpus)} "
                                  f"names none of the trace's {n} vCPUs")
        return out

    def to_json(self) -> Dict[str, Any]:
        """The policy's description for the JSON report."""
        return {"label": self.label, "kind": self.kind, "spec": self.spec,
                "decided_by": self.decided_by}


class FixedPolicy(ExperimentPolicy):
    """Every governed vCPU at the highest or lowest frequency."""
    kind = "fixed"
    decided_by = "host"

    def __init__(self, level: Level, vcpus=frozenset(), label=None,
                 spec=None):
        name = level.name.lower()
        super().__init__(label or name, spec or name)
        self.level = level
        self.vcpus = frozenset(vcpus)

    def begin(self, run: _Run) -> None:
        """Sends SCALE min/max for every governed vCPU."""
        for v in self._governed(run.trace.nr_vcpus, self.vcpus):
            run.set_level(v, self.level)


class WorkloadPolicy(ExperimentPolicy):
    """A WORKLOAD policy, sent to the host once; the host decides."""
    kind = "workload"
    decided_by = "host"

    def __init__(self, policy: Policy, label=None, spec=None):
        name = f"workload:{policy.workload.name.lower()}"
        super().__init__(label or name, spec or name)
        self.policy = policy

    def begin(self, run: _Run) -> None:
        """Sends the WORKLOAD policy to the host."""
        for v in self._governed(run.trace.nr_vcpus, self.policy.vcpus):
            run.set_policy(v, self.policy, self.label)


class _HostPolicy(ExperimentPolicy):
    """TIME and TRAFFIC: sent to the host once per governed vCPU's
    domain; the host evaluates them on the trace's clock and packet
    counts (Host.evaluate() at every step)."""
    decided_by = "host"

    def __init__(self, policy, label, spec):
        super().__init__(label, spec)
        self.policy = policy

    def begin(self, run: _Run) -> None:
        """Sends the policy to the host (at the trace's first time)."""
        for v in self._governed(run.trace.nr_vcpus, self.policy.vcpus):
            run.set_policy(v, self.policy, self.label)

    def to_json(self) -> Dict[str, Any]:
        """With the TRAFFIC thresholds."""
        out = super().to_json()
        p = self.policy
        out["thresholds_pps"] = {"min": p.min_pps, "avg": p.avg_pps,
                                 "max": p.max_pps}
        return out


class TrafficPolicy(_HostPolicy):
    """TRAFFIC, decided per vCPU by the host."""
    kind = "traffic"


class TimePolicy(_HostPolicy):
    """TIME, decided per vCPU by the host."""
    kind = "time"

    def to_json(self) -> Dict[str, Any]:
        """With the hours."""
        out = super().to_json()
        p = self.policy
        out["hours"] = {"busy": _cpulist(p.busy_hours),
                        "quiet": _cpulist(p.quiet_hours),
                        "traffic": _cpulist(p.traffic_hours)}
        return out


class FunctionPolicy(ExperimentPolicy):
    """A user function: Step -> one frequency (kHz) per vCPU."""
    kind = "function"

    def __init__(self, fn: Callable, label=None, spec=None):
        if not callable(fn):
            raise TypeError(f"a policy function must be callable, not "
                            f"{type(fn).__name__}")
        name = getattr(fn, "__name__", type(fn).__name__)
        super().__init__(label or f"func:{name}", spec or f"func:{name}")
        self.fn = fn
        self._call = None
        self._last = {}

    def begin(self, run: _Run) -> None:
        """A class makes a fresh instance for this run."""
        # A class makes a fresh, stateful policy object for each run.
        self._call = self.fn() if isinstance(self.fn, type) else self.fn
        self._last = {}

    def step(self, run: _Run, obs: Step) -> None:
        """Calls the function; its frequencies go to the host."""
        out = self._call(obs)
        n = obs.nr_vcpus
        if isinstance(out, (int, str, ScaleOp)) and not isinstance(out,
                                                                   bool):
            out = [out] * n
        try:
            out = list(out)
        except TypeError:
            raise ExperimentError(
                f"{self.label} returned {type(out).__name__} at step "
                f"{obs.index}: expected one frequency (kHz) per vCPU") \
                from None
        if len(out) != n:
            raise ExperimentError(
                f"{self.label} returned {len(out)} values at step "
                f"{obs.index}: expected one per vCPU ({n})")
        for v, want in enumerate(out):
            if want is None or want == self._last.get(v):
                continue
            if isinstance(want, (str, ScaleOp)):
                try:
                    level = Level[ScaleOp.coerce(want, "level").name]
                except (ValueError, KeyError):
                    raise ExperimentError(
                        f"{self.label} returned {want!r} for vCPU {v} at "
                        f"step {obs.index}: not a frequency, nor min, "
                        "medium or max") from None
                run.set_level(v, level)
            elif isinstance(want, bool) or not isinstance(want, int):
                if isinstance(want, float) and want.is_integer():
                    want = int(want)
                else:
                    raise ExperimentError(
                        f"{self.label} returned {want!r} for vCPU {v} at "
                        f"step {obs.index}: expected a frequency in kHz "
                        "(an int)")
            if isinstance(want, int):
                table = obs.freqs_khz[v]
                if not table[0] <= want <= table[-1]:
                    raise ExperimentError(
                        f"{self.label} returned {want} kHz for vCPU {v} at "
                        f"step {obs.index}: outside its table "
                        f"{table[0]}..{table[-1]} kHz")
                run.set_khz(v, want)
            self._last[v] = out[v]


def _cpulist(items) -> str:
    """[0, 1, 2, 5] -> "0-2,5"."""
    items = sorted(set(items))
    out, i = [], 0
    while i < len(items):
        j = i
        while j + 1 < len(items) and items[j + 1] == items[j] + 1:
            j += 1
        out.append(str(items[i]) if i == j else f"{items[i]}-{items[j]}")
        i = j + 1
    return ",".join(out)


def _parse_cpulist(text, what, limit):
    out = set()
    if not text:
        return frozenset()
    for part in text.split(","):
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not m:
            raise ExperimentError(f"{what}: {text!r} is not a list like "
                                  "\"8-19\" or \"0-6,22-23\"")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) is not None else lo
        if lo > hi or hi >= limit:
            raise ExperimentError(f"{what}: {part.strip()!r} is outside "
                                  f"0..{limit - 1}")
        out.update(range(lo, hi + 1))
    return frozenset(out)


def default_thresholds(sim: SimConfig) -> Tuple[int, int, int]:
    """(min, avg, max) packets/s for TRAFFIC from the simulated table."""
    table = sim.table()
    lo = sim.work_per_ghz * table[0] / 1e6
    med = sim.work_per_ghz * table[(len(table) - 1) // 2] / 1e6
    return int(0.6 * lo), int(0.9 * lo), int(0.9 * med)


def parse_policy(spec: Union[str, Callable, ExperimentPolicy],
                 sim: SimConfig = SimConfig()) -> ExperimentPolicy:
    """An ExperimentPolicy from a spec string (see the module), a callable
    (a user function), or an ExperimentPolicy (returned as is)."""
    if isinstance(spec, ExperimentPolicy):
        return spec
    if callable(spec) and not isinstance(spec, str):
        return FunctionPolicy(spec)
    if not isinstance(spec, str):
        raise TypeError(f"a policy must be a str, a function or an "
                        f"ExperimentPolicy, not {type(spec).__name__}")
    text = spec.strip()
    kind, _, rest = text.partition(":")
    kind = kind.lower()
    if kind in ("func", "function"):
        module, sep, name = rest.rpartition(":")
        if not sep or not module or not name:
            raise ExperimentError(f"policy {spec!r}: expected "
                                  "func:MODULE:FUNCTION")
        return FunctionPolicy(_load_function(module, name, spec),
                              label=f"func:{name}", spec=text)
    opts = {}
    words = [w for w in rest.split(":") if w] if rest else []
    level = None
    for w in words:
        key, eq, value = w.partition("=")
        key = key.strip().lower()
        if not eq:
            if kind == "workload" and level is None:
                level = key
                continue
            raise ExperimentError(f"policy {spec!r}: {w!r} is not KEY=VALUE")
        if key in opts:
            raise ExperimentError(f"policy {spec!r}: {key} given twice")
        opts[key] = value.strip()

    def take(allowed):
        unknown = sorted(set(opts) - set(allowed))
        if unknown:
            raise ExperimentError(
                f"policy {spec!r}: unknown option {unknown[0]!r} for "
                f"{kind} (known: {', '.join(allowed) or 'none'})")
    vcpus = _parse_cpulist(opts.get("vcpus", ""), f"policy {spec!r} vcpus",
                           MAX_VCPUS)

    def pps(key, default):
        if key not in opts:
            return default
        try:
            v = _number(opts[key])
        except (ValueError, IndexError):
            raise ExperimentError(f"policy {spec!r}: {key}={opts[key]!r} "
                                  "is not a number") from None
        if not 0 <= v <= 0xFFFFFFFF:
            raise ExperimentError(f"policy {spec!r}: {key} must be within "
                                  "0 .. 4294967295 packets/s")
        return int(v)

    if kind in ("max", "min"):
        take(["vcpus"])
        return FixedPolicy(Level.MAX if kind == "max" else Level.MIN,
                           vcpus, label=text if vcpus else kind, spec=text)
    if kind == "workload":
        take(["vcpus"])
        try:
            wl = Workload.coerce(level or "medium", "workload")
        except ValueError as e:
            raise ExperimentError(f"policy {spec!r}: {e}") from None
        return WorkloadPolicy(Policy.workload_level(wl, vcpus=vcpus),
                              label=f"workload:{wl.name.lower()}",
                              spec=text)
    if kind in ("traffic", "time"):
        d_min, d_avg, d_max = default_thresholds(sim)
        thresholds = (pps("min", d_min), pps("avg", d_avg),
                      pps("max", d_max))
        try:
            check_thresholds(*thresholds)
        except ValueError as e:
            raise ExperimentError(f"policy {spec!r}: {e}") from None
        if kind == "traffic":
            take(["min", "avg", "max", "vcpus"])
            return TrafficPolicy(Policy.traffic(*thresholds, vcpus=vcpus),
                                 label="traffic", spec=text)
        take(["busy", "quiet", "traffic", "min", "avg", "max", "vcpus"])
        hours = {}
        for key, default in (("busy", "8-19"), ("quiet", "0-6,22-23"),
                             ("traffic", "7,20-21")):
            hours[key] = _parse_cpulist(opts.get(key, default),
                                        f"policy {spec!r} {key}", 24)
        both = hours["busy"] & hours["quiet"]
        if both:
            raise ExperimentError(f"policy {spec!r}: hours {_cpulist(both)}"
                                  " are both busy and quiet")
        pol = Policy.time(hours["busy"], hours["quiet"], hours["traffic"],
                          min_pps=thresholds[0], avg_pps=thresholds[1],
                          max_pps=thresholds[2], vcpus=vcpus)
        return TimePolicy(pol, label="time", spec=text)
    raise ExperimentError(f"unknown policy {spec!r}: expected max, min, "
                          "workload:LEVEL, time[:...], traffic[:...] or "
                          "func:MODULE:FUNCTION")


def _load_function(module, name, spec):
    try:
        if module.endswith(".py") or os.sep in module:
            path = os.path.abspath(module)
            modname = "vpwr_experiment_user_" + re.sub(
                r"\W", "_", os.path.splitext(os.path.basename(path))[0])
            mspec = importlib.util.spec_from_file_location(modname, path)
            if mspec is None or mspec.loader is None:
                raise ImportError(f"cannot load {path}")
            mod = importlib.util.module_from_spec(mspec)
            mspec.loader.exec_module(mod)
        else:
            mod = importlib.import_module(module)
    except FileNotFoundError:
        raise ExperimentError(f"policy {spec!r}: no such file: {module}") \
            from None
    except ImportError as e:
        raise ExperimentError(f"policy {spec!r}: cannot import {module}: "
                              f"{e}") from None
    fn = getattr(mod, name, None)
    if fn is None:
        raise ExperimentError(f"policy {spec!r}: {module} has no {name!r}")
    if not callable(fn):
        raise ExperimentError(f"policy {spec!r}: {module}.{name} is not "
                              "callable")
    return fn


# ----------------------------------------------------------------- running

@dataclass
class RunResult:
    """One policy on one trace."""
    policy: ExperimentPolicy
    energy_j: float
    avg_freq_khz: float
    residency: Dict[int, float]  #: kHz -> share of vCPU time (all vCPUs)
    offered: float
    served: float
    dropped: float
    backlog: float               #: packets left waiting at the end
    peak_backlog: float          #: the largest backlog of one vCPU
    wait_unit_s: float           #: backlog integrated over time, all vCPUs
    changes: int                 #: frequency changes, all vCPUs
    times_s: List[float] = field(repr=False)     #: step start times
    freq_khz: List[Tuple[int, ...]] = field(repr=False)  #: per step
    power_w: List[float] = field(repr=False)     #: mean power per step
    backlog_series: List[float] = field(repr=False)  #: at each step's end

    @property
    def label(self) -> str:
        """The policy's label."""
        return self.policy.label

    @property
    def mean_wait_s(self) -> float:
        """Mean wait of a served packet, in seconds."""
        return self.wait_unit_s / self.served if self.served > 0 else 0.0

    @property
    def lost(self) -> float:
        """Dropped + left waiting at the end."""
        return self.dropped + self.backlog

    def pct(self, units: float) -> float:
        """`units` as a percentage of what was offered."""
        return 100.0 * units / self.offered if self.offered > 0 else 0.0


def run(trace: Trace, policy, sim: SimConfig = SimConfig()) -> RunResult:
    """Replay `trace` under `policy` (a spec string, a function or an
    ExperimentPolicy) on a fresh simulator behind a fresh host."""
    if not isinstance(trace, Trace):
        raise TypeError(f"trace must be a Trace, not {type(trace).__name__}")
    policy = parse_policy(policy, sim)
    n = trace.nr_vcpus
    steps = trace.step_ns()
    sources = _Sources(n)
    sources.at(trace.times_s[0], [0.0] * n)
    with tempfile.TemporaryDirectory(prefix="vpwr-experiment-") as tmp:
        pins = os.path.join(tmp, "pins.json")
        with open(pins, "w", encoding="utf-8") as f:
            json.dump({"domains": {domain_of(v): {"vcpus": [str(v)]}
                                   for v in range(n)}}, f)
        with sim.open(n) as backend, StaticResolver(pins) as resolver, \
                Host(backend, resolver, time_zone=TIME_ZONE,
                     now_fn=sources.now,
                     traffic_fn=sources.traffic) as host:
            return _simulate(trace, policy, sim, backend, host, steps,
                             sources)


def _simulate(trace, policy, sim, backend, host, steps, sources):
    n = trace.nr_vcpus
    tables = [tuple(backend.freqs(v)) for v in range(n)]
    r = _Run(host, backend, trace, tables, sim.work_per_ghz)
    start_freq = tuple(backend.freq(v) for v in range(n))
    policy.begin(r)
    stats = [backend.work_stats(v) for v in range(n)]
    prev_stats = stats
    prev_freq = tuple(backend.freq(v) for v in range(n))
    # Changes from the simulator's start state, made at begin() included.
    changes = sum(a != b for a, b in zip(start_freq, prev_freq))
    peak = 0.0
    times, freqs, power, backlog = [], [], [], []
    for i, ((start, length), rates) in enumerate(zip(steps, trace.rates)):
        if i == 0:
            pps = tuple(trace.rates[0])
            served = dropped = (0.0,) * n
        else:
            dt = steps[i - 1][1] / 1e9
            pps = tuple((s.offered - p.offered) / dt
                        for s, p in zip(stats, prev_stats))
            served = tuple((s.served - p.served) / dt
                           for s, p in zip(stats, prev_stats))
            dropped = tuple((s.dropped - p.dropped) / dt
                            for s, p in zip(stats, prev_stats))
        t = trace.times_s[i]
        obs = Step(index=i, time_s=t, hour=int(t // 3600) % 24,
                   dt_s=length / 1e9, pps=pps, served_pps=served,
                   dropped_pps=dropped,
                   backlog=tuple(s.backlog for s in stats),
                   freq_khz=prev_freq, freqs_khz=tuple(tables),
                   work_per_ghz=sim.work_per_ghz)
        # The host's own evaluators (TIME, TRAFFIC) on the trace's clock
        # and the packets offered so far, then the Python-decided ones.
        sources.at(t, [s.offered for s in stats])
        host.evaluate()
        policy.step(r, obs)
        freq = tuple(backend.freq(v) for v in range(n))
        changes += sum(a != b for a, b in zip(freq, prev_freq))
        for v in range(n):
            backend.set_offered(v, rates[v])
        e0 = sum(backend.energy(v) for v in range(n))
        backend.advance(length)
        e1 = sum(backend.energy(v) for v in range(n))
        prev_stats = stats
        stats = [backend.work_stats(v) for v in range(n)]
        peak = max(peak, max(s.backlog for s in stats))
        times.append(t)
        freqs.append(freq)
        power.append((e1 - e0) / (length / 1e9))
        backlog.append(sum(s.backlog for s in stats))
        prev_freq = freq
    total_ns = sum(length for _, length in steps) * n
    residency = {}
    for khz in sorted({k for tbl in tables for k in tbl}):
        ns = sum(backend.residency(v, khz) for v in range(n)
                 if khz in tables[v])
        residency[khz] = ns / total_ns
    avg = sum(k * share for k, share in residency.items())
    return RunResult(
        policy=policy,
        energy_j=sum(backend.energy(v) for v in range(n)),
        avg_freq_khz=avg, residency=residency,
        offered=sum(s.offered for s in stats),
        served=sum(s.served for s in stats),
        dropped=sum(s.dropped for s in stats),
        backlog=sum(s.backlog for s in stats), peak_backlog=peak,
        wait_unit_s=sum(s.wait_unit_s for s in stats), changes=changes,
        times_s=times, freq_khz=freqs, power_w=power,
        backlog_series=backlog)


@dataclass
class Comparison:
    """Every policy on one trace, the baseline first."""
    trace: Trace
    sim: SimConfig
    results: List[RunResult]

    @property
    def baseline(self) -> RunResult:
        """The all-max run."""
        return self.results[0]

    def result(self, label: str) -> RunResult:
        """The run of the policy labelled `label` (KeyError if none)."""
        for r in self.results:
            if r.label == label:
                return r
        raise KeyError(label)


def compare(trace: Trace, policies: Optional[Sequence] = None,
            sim: SimConfig = SimConfig()) -> Comparison:
    """Run `trace` under each policy (default DEFAULT_POLICIES) and under
    the all-max baseline, which comes first (and runs once even if listed).
    Labels that repeat get "#2", "#3"."""
    parsed = [parse_policy(p, sim) for p in
              (DEFAULT_POLICIES if policies is None else policies)]
    base = [p for p in parsed if isinstance(p, FixedPolicy) and
            p.level == Level.MAX and not p.vcpus]
    if base:
        parsed.remove(base[0])
        parsed.insert(0, base[0])
    else:
        parsed.insert(0, parse_policy(BASELINE, sim))
    seen: Dict[str, int] = {}
    for p in parsed:
        seen[p.label] = seen.get(p.label, 0) + 1
        if seen[p.label] > 1:
            p.label = f"{p.label}#{seen[p.label]}"
    return Comparison(trace, sim, [run(trace, p, sim) for p in parsed])


# ----------------------------------------------------------------- reports

def _ghz(khz):
    return f"{khz / 1e6:.1f}"


def format_table(comparisons: Sequence[Comparison]) -> str:
    """The results as text tables, one block per trace."""
    out = []
    for c in comparisons:
        tr, base = c.trace, c.baseline
        out.append(f"trace {tr.name}: {tr.nr_vcpus} vCPUs, {tr.steps} "
                   f"steps, {tr.duration_s / 3600:.2f} h, "
                   f"{tr.offered_units:.4g} packets offered; "
                   f"baseline {base.label}")
        head = ("policy", "decided by", "energy J", "vs max", "avg GHz",
                "changes", "dropped", "lost", "peak backlog", "mean wait",
                "added wait")
        rows = []
        for r in c.results:
            saved = 100.0 * (r.energy_j - base.energy_j) / base.energy_j \
                if base.energy_j else 0.0
            rows.append((
                r.label, r.policy.decided_by, f"{r.energy_j:.1f}",
                f"{saved:+.1f}%", f"{r.avg_freq_khz / 1e6:.2f}",
                str(r.changes), f"{r.pct(r.dropped):.2f}%",
                f"{r.pct(r.lost):.2f}%", f"{r.peak_backlog:.4g}",
                f"{r.mean_wait_s * 1e3:.3f} ms",
                f"{(r.mean_wait_s - base.mean_wait_s) * 1e3:+.3f} ms"))
        out.append(_grid(head, rows, left=2))
        used = [k for k in sorted(base.residency) if
                any(r.residency.get(k, 0) > 0 for r in c.results)]
        head = ("residency",) + tuple(_ghz(k) for k in used) + ("GHz",)
        rows = [(r.label,) + tuple(
            f"{100 * r.residency.get(k, 0):.1f}" if r.residency.get(k, 0)
            else "-" for k in used) + ("% of time",) for r in c.results]
        out.append(_grid(head, rows, left=1))
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _grid(head, rows, left):
    """Columns: the first `left` left-aligned, the rest right-aligned."""
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    lines = []
    for row in (head,) + tuple(rows):
        cells = [str(x).ljust(w) if i < left else str(x).rjust(w)
                 for i, (x, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _r(x, digits=9):
    """Floats rounded for the JSON (stable, readable)."""
    return float(f"{x:.{digits}g}")


def to_json(comparisons: Sequence[Comparison]) -> Dict[str, Any]:
    """The results as a JSON-able dict (schema "vpwr.experiment/1")."""
    out = {"schema": SCHEMA, "traces": []}
    for c in comparisons:
        base = c.baseline
        tr = c.trace
        results = []
        for r in c.results:
            results.append({
                "policy": r.policy.to_json(),
                "energy_j": _r(r.energy_j),
                "avg_freq_khz": _r(r.avg_freq_khz),
                "residency": {str(k): _r(v) for k, v in r.residency.items()},
                "changes": r.changes,
                "service": {
                    "offered": _r(r.offered), "served": _r(r.served),
                    "dropped": _r(r.dropped), "backlog": _r(r.backlog),
                    "peak_backlog": _r(r.peak_backlog),
                    "mean_wait_s": _r(r.mean_wait_s),
                    "dropped_pct": _r(r.pct(r.dropped)),
                    "lost_pct": _r(r.pct(r.lost)),
                },
                "vs_baseline": {
                    "energy_saved_j": _r(base.energy_j - r.energy_j),
                    "energy_saved_pct": _r(
                        100.0 * (base.energy_j - r.energy_j) /
                        base.energy_j if base.energy_j else 0.0),
                    "extra_dropped": _r(r.dropped - base.dropped),
                    "extra_lost_pct": _r(r.pct(r.lost) -
                                         base.pct(base.lost)),
                    "added_wait_s": _r(r.mean_wait_s - base.mean_wait_s),
                },
            })
        out["traces"].append({
            "trace": {"name": tr.name, "nr_vcpus": tr.nr_vcpus,
                      "columns": list(tr.columns), "steps": tr.steps,
                      "duration_s": _r(tr.duration_s),
                      "offered": _r(tr.offered_units)},
            "sim": c.sim.to_json(),
            "baseline": base.label,
            "results": results,
        })
    return out


# ------------------------------------------------------------------- plots

# Fixed colours by position: the same policies get the same colours.
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
            "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def _safe(name):
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name) or "trace"


def plot(comparisons: Sequence[Comparison], outdir: Union[str, os.PathLike],
         dpi: int = 80) -> List[str]:
    """Write TRACE-timeline.png and TRACE-energy.png per trace into
    `outdir` (created if needed); returns the paths.  ImportError if
    matplotlib is missing."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        import matplotlib
    except ImportError as e:
        raise ImportError("the plots need matplotlib: apt-get install "
                          "python3-matplotlib") from e
    outdir = os.fspath(outdir)
    os.makedirs(outdir, exist_ok=True)
    paths = []
    # Explicit settings: a user's matplotlibrc does not change the files.
    rc = {"font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9,
          "legend.fontsize": 8, "xtick.labelsize": 8, "ytick.labelsize": 8,
          "lines.linewidth": 1.1, "svg.hashsalt": "vpwr",
          "path.simplify": True, "agg.path.chunksize": 0}
    with matplotlib.rc_context(rc):
        for c in comparisons:
            stem = os.path.join(outdir, _safe(c.trace.name))
            paths.append(_plot_timeline(c, stem + "-timeline.png", dpi,
                                        Figure, FigureCanvasAgg))
            paths.append(_plot_energy(c, stem + "-energy.png", dpi,
                                      Figure, FigureCanvasAgg))
    return paths


def _time_axis(trace):
    span = trace.duration_s
    t0 = trace.times_s[0]
    if span >= 3 * 3600:
        return [t / 3600 for t in trace.times_s], "time of day (h)", \
            (t0 + span) / 3600
    if span >= 180:
        return [(t - t0) / 60 for t in trace.times_s], "time (min)", \
            span / 60
    return [t - t0 for t in trace.times_s], "time (s)", span


def _save(fig, canvas_cls, path, dpi):
    canvas_cls(fig)
    # No "Software" or date entries: the bytes depend on the data only.
    fig.savefig(path, dpi=dpi, format="png",
                metadata={"Software": None})
    return path


def _plot_timeline(c, path, dpi, Figure, Canvas):
    tr = c.trace
    x, xlabel, xend = _time_axis(tr)
    xs = x + [xend]
    fig = Figure(figsize=(9, 6.4))
    ax_load, ax_f, ax_p = fig.subplots(3, 1, sharex=True)
    load = [sum(r) / 1e6 for r in tr.rates]
    ax_load.fill_between(xs, load + load[-1:], step="post", color="#999999",
                         alpha=0.5, linewidth=0)
    ax_load.set_ylabel("offered\n(Mpackets/s)")
    ax_load.set_title(f"{tr.name}: {tr.nr_vcpus} vCPUs, offered load, "
                      "mean frequency and power per policy")
    for i, r in enumerate(c.results):
        colour = _COLOURS[i % len(_COLOURS)]
        f = [sum(k) / len(k) / 1e6 for k in r.freq_khz]
        ax_f.step(xs, f + f[-1:], where="post", color=colour,
                  label=r.label)
        ax_p.step(xs, r.power_w + r.power_w[-1:], where="post",
                  color=colour, label=r.label)
    ax_f.set_ylabel("mean frequency\n(GHz)")
    ax_p.set_ylabel("power (W)")
    ax_p.set_xlabel(xlabel)
    ax_p.set_xlim(xs[0], xs[-1])
    ax_f.legend(loc="upper left", ncol=min(len(c.results), 4),
                frameon=False)
    for ax in (ax_load, ax_f, ax_p):
        ax.grid(True, linewidth=0.4, alpha=0.5)
    fig.tight_layout()
    return _save(fig, Canvas, path, dpi)


def _plot_energy(c, path, dpi, Figure, Canvas):
    base = c.baseline
    fig = Figure(figsize=(7, 3.6))
    ax = fig.subplots()
    labels = [r.label for r in c.results]
    energy = [r.energy_j / 1e3 for r in c.results]
    bars = ax.bar(range(len(labels)), energy,
                  color=[_COLOURS[i % len(_COLOURS)]
                         for i in range(len(labels))])
    for b, r in zip(bars, c.results):
        saved = 100.0 * (r.energy_j - base.energy_j) / base.energy_j \
            if base.energy_j else 0.0
        ax.annotate(f"{saved:+.1f}%\nlost {r.pct(r.lost):.2f}%",
                    (b.get_x() + b.get_width() / 2, b.get_height()),
                    ha="center", va="bottom", fontsize=7,
                    xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=15, ha="right")
    ax.set_ylabel("energy (kJ)")
    ax.set_ylim(0, max(energy) * 1.25 if energy and max(energy) > 0 else 1)
    ax.set_title(f"{c.trace.name}: energy per policy (vs {base.label}; "
                 "lost = dropped + left waiting)")
    ax.grid(True, axis="y", linewidth=0.4, alpha=0.5)
    fig.tight_layout()
    return _save(fig, Canvas, path, dpi)


# --------------------------------------------------------------------- CLI

def _build_parser():
    p = argparse.ArgumentParser(
        prog="python3 -m vpwr.experiment",
        description="Replay traffic traces through libvpwr's simulator "
        "under power policies; report energy, frequency, residency and "
        "service lost against the all-max baseline.",
        epilog="Policies: max, min, workload:low|medium|high, "
        "time[:busy=H:quiet=H:traffic=H:min=N:avg=N:max=N], "
        "traffic[:min=N:avg=N:max=N], func:MODULE:FUNCTION; any with "
        ":vcpus=LIST.  See pydoc vpwr.experiment.")
    p.add_argument("traces", nargs="+", metavar="TRACE",
                   help="CSV: time_s, then packets/s per vCPU")
    p.add_argument("-p", "--policy", action="append", metavar="POLICY",
                   help="a policy to run (repeatable; default: "
                   + " ".join(DEFAULT_POLICIES) + ")")
    p.add_argument("--json", metavar="FILE",
                   help="write the results as JSON to FILE (- for stdout)")
    p.add_argument("--plots", metavar="DIR",
                   help="write TRACE-timeline.png and TRACE-energy.png "
                   "into DIR")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no table on stdout")
    g = p.add_argument_group("simulated machine")
    g.add_argument("--freqs", metavar="KHZ,...",
                   help="frequency table in kHz (default 800000..2400000 "
                   "in 200 MHz steps, turbo 3000000)")
    g.add_argument("--turbo", type=int, metavar="KHZ",
                   help="turbo frequency (with --freqs; default none)")
    g.add_argument("--work-per-ghz", type=float, default=1e6, metavar="N",
                   help="packets/s one vCPU serves per GHz (default 1e6)")
    g.add_argument("--max-backlog", type=float, default=1e6, metavar="N",
                   help="packets a vCPU queues before dropping (default "
                   "1e6)")
    g.add_argument("--static-w", type=float, metavar="W",
                   help="static power per CPU (default 1.0)")
    g.add_argument("--idle-util", type=float, default=0.0, metavar="U",
                   help="utilisation of a vCPU offered nothing (default 0)")
    return p


def _sim_config(args):
    freqs = None
    if args.freqs:
        try:
            freqs = tuple(int(_number(f)) for f in args.freqs.split(","))
        except (ValueError, IndexError):
            raise ExperimentError(f"--freqs {args.freqs!r}: expected kHz "
                                  "values separated by commas") from None
    if args.turbo is not None and freqs is None:
        raise ExperimentError("--turbo needs --freqs")
    for name in ("work_per_ghz", "max_backlog"):
        v = getattr(args, name)
        if not v > 0 or not math.isfinite(v):
            raise ExperimentError(f"--{name.replace('_', '-')} must be a "
                                  "positive number")
    if not 0 <= args.idle_util <= 1:
        raise ExperimentError("--idle-util must be within 0 .. 1")
    return SimConfig(freqs_khz=freqs, turbo_khz=args.turbo,
                     work_per_ghz=args.work_per_ghz,
                     max_backlog=args.max_backlog, static_w=args.static_w,
                     idle_util=args.idle_util)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The command line; returns the exit status (0 ok, 1 failed, 2 bad
    input)."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    prog = parser.prog
    try:
        sim = _sim_config(args)
        traces = [load_trace(t) for t in args.traces]
        names = [t.name for t in traces]
        if len(set(names)) != len(names):
            raise ExperimentError("two traces have the same name: "
                                  + ", ".join(sorted(
                                      {n for n in names
                                       if names.count(n) > 1})))
        comparisons = [compare(t, args.policy, sim) for t in traces]
    except (TraceError, ExperimentError, ValueError, TypeError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    except Error as e:
        print(f"{prog}: libvpwr: {e}", file=sys.stderr)
        return 1
    if not args.quiet and args.json != "-":
        sys.stdout.write(format_table(comparisons))
    if args.json:
        text = json.dumps(to_json(comparisons), indent=1) + "\n"
        if args.json == "-":
            sys.stdout.write(text)
        else:
            try:
                with open(args.json, "w", encoding="utf-8") as f:
                    f.write(text)
            except OSError as e:
                print(f"{prog}: error: {args.json}: {e.strerror}",
                      file=sys.stderr)
                return 1
    if args.plots:
        try:
            paths = plot(comparisons, args.plots)
        except ImportError as e:
            print(f"{prog}: error: {e}", file=sys.stderr)
            return 1
        except OSError as e:
            print(f"{prog}: error: {e.filename or args.plots}: "
                  f"{e.strerror}", file=sys.stderr)
            return 1
        if not args.quiet and args.json != "-":
            for path in paths:
                print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
