# SPDX-License-Identifier: MIT
"""Python evaluators of the TIME and TRAFFIC policies.

The C host (libvpwr's host engine) holds every policy a guest sends, but
evaluates only WORKLOAD itself so far: TIME needs a clock and TRAFFIC a
packet counter, and their evaluators are not in the host yet.  Until they
are, vpwr.experiment decides TIME and TRAFFIC here, in Python, and hands
each decision to the host as an ordinary SCALE request (min, medium or
max), so that arbitration and the backend are still the library's.

Each evaluator is a small object with one method, fed the same
vpwr.Policy the host would hold, so that it can be swapped for the C one
when the host gains it:

    d = TrafficDecider(vpwr.Policy.traffic(min_pps, avg_pps, max_pps))
    level = d.decide(pps)               # Level.MIN / MEDIUM / MAX

    t = TimeDecider(vpwr.Policy.time(busy=..., quiet=..., traffic=...))
    level = t.decide(hour, pps)         # None: no rule for this hour

TRAFFIC, with the thresholds min_pps <= avg_pps <= max_pps, is a
three-level trigger with hysteresis that follows message.h's words:

  * at or above max_pps          -> MAX
  * below avg_pps                -> at most MEDIUM (MAX steps down)
  * below min_pps                -> MIN
  * at or above avg_pps from MIN -> MEDIUM

so between min_pps and avg_pps the level stays what it was (MIN or
MEDIUM), and between avg_pps and max_pps it stays MEDIUM or MAX.  With
min_pps == avg_pps this is DPDK's vm_power_manager rule without
hysteresis (>= max: max, >= avg: medium, else min).  The first decision,
with no history, takes the level the rate itself calls for: MAX at or
above max_pps, MEDIUM at or above avg_pps, else MIN.

TIME follows DPDK's vm_power_manager: in a busy hour MAX, in a quiet hour
MIN, in a traffic hour the TRAFFIC rule above with the policy's
thresholds; in any other hour nothing changes (None).  Hours are 0..23 of
the host's clock (in an experiment, of the trace's time).
"""

from __future__ import annotations

import enum
from typing import Optional

from .message import Policy, PolicyKind, ScaleOp

__all__ = ["Level", "TrafficDecider", "TimeDecider"]


class Level(enum.IntEnum):
    """A policy's decision: the lowest, middle or highest frequency of a
    vCPU's table (as ScaleOp MIN, MEDIUM, MAX pick them)."""
    MIN = 0
    MEDIUM = 1
    MAX = 2

    @property
    def scale_op(self) -> ScaleOp:
        """The SCALE request that asks the host for this level."""
        return (ScaleOp.MIN, ScaleOp.MEDIUM, ScaleOp.MAX)[self]


def check_thresholds(min_pps: int, avg_pps: int, max_pps: int) -> None:
    """ValueError unless 0 <= min_pps <= avg_pps <= max_pps."""
    if not 0 <= min_pps <= avg_pps <= max_pps:
        raise ValueError("TRAFFIC thresholds must be ordered min_pps <= "
                         f"avg_pps <= max_pps, not {min_pps}, {avg_pps}, "
                         f"{max_pps}")


class TrafficDecider:
    """The TRAFFIC rule with hysteresis for one vCPU (see the module)."""

    __slots__ = ("min_pps", "avg_pps", "max_pps", "level")

    def __init__(self, policy: Policy):
        if policy.kind not in (PolicyKind.TRAFFIC, PolicyKind.TIME):
            raise ValueError("a TrafficDecider needs a TRAFFIC or TIME "
                             f"policy, not {policy.kind!r}")
        check_thresholds(policy.min_pps, policy.avg_pps, policy.max_pps)
        self.min_pps = policy.min_pps
        self.avg_pps = policy.avg_pps
        self.max_pps = policy.max_pps
        #: The last decision, or None before the first.
        self.level: Optional[Level] = None

    def decide(self, pps: float) -> Level:
        """The level for a measured rate of `pps` packets/s."""
        prev = self.level
        if pps >= self.max_pps:
            level = Level.MAX
        elif prev is None:
            level = Level.MEDIUM if pps >= self.avg_pps else Level.MIN
        elif pps < self.min_pps:
            level = Level.MIN
        elif pps < self.avg_pps:
            level = min(prev, Level.MEDIUM)
        else:  # avg_pps <= pps < max_pps
            level = max(prev, Level.MEDIUM)
        self.level = level
        return level

    def follow(self, level: Level) -> None:
        """Another rule set the level: carry on from there."""
        self.level = level


class TimeDecider:
    """The TIME rule for one vCPU (see the module)."""

    __slots__ = ("busy", "quiet", "traffic_hours", "traffic")

    def __init__(self, policy: Policy):
        if policy.kind != PolicyKind.TIME:
            raise ValueError(f"a TimeDecider needs a TIME policy, not "
                             f"{policy.kind!r}")
        both = policy.busy_hours & policy.quiet_hours
        if both:
            raise ValueError(f"hours {sorted(both)} are both busy and quiet")
        self.busy = policy.busy_hours
        self.quiet = policy.quiet_hours
        self.traffic_hours = policy.traffic_hours
        self.traffic = TrafficDecider(policy)

    def decide(self, hour: int, pps: float) -> Optional[Level]:
        """The level at `hour` (0..23) with a measured rate of `pps`, or
        None when no rule covers the hour (keep the current one)."""
        if hour in self.busy:
            level = Level.MAX
        elif hour in self.quiet:
            level = Level.MIN
        elif hour in self.traffic_hours:
            return self.traffic.decide(pps)
        else:
            return None
        self.traffic.follow(level)
        return level
