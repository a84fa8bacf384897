# SPDX-License-Identifier: MIT
"""Python evaluators of the TIME and TRAFFIC policies.

The C host evaluates every policy kind itself, on its own timers and the
real clock, or on an embedder's clock and packet counts
(vpwr.Host(now_fn=..., traffic_fn=...) and Host.evaluate(); docs/POLICIES.md);
vpwr.experiment runs those.  This module is the same rules in Python, for
code that wants a decision without a host (a guest agent deciding for
itself, a notebook), ported sample for sample and checked against the
host's evaluator by the tests (test_experiment.py).  It differs from the
host where the host has state a sample alone does not: the host measures
a rate between two counts (its first count decides nothing), and it
forgets a TIME policy's traffic history outside traffic hours.

Each evaluator is a small object with one method, fed the same
vpwr.Policy the host would hold:

    d = TrafficDecider(vpwr.Policy.traffic(min_pps, avg_pps, max_pps))
    level = d.decide(pps)               # Level.MIN / MEDIUM / MAX

    t = TimeDecider(vpwr.Policy.time(busy=..., quiet=..., traffic=...))
    level = t.decide(hour, pps)         # None: no rule for this hour

TRAFFIC is the host's rule (docs/POLICIES.md), ported sample for sample:
the levels are DPDK's (>= max_pps: MAX, >= avg_pps: MEDIUM, else MIN), with
hysteresis:

  * up at once when a sample reaches a higher level's threshold;
  * down only after DOWN_SAMPLES samples in a row below the current level's
    threshold minus MARGIN (10 %), to the level the last of them asks for
    with that margin;
  * to MIN at once when a sample falls below min_pps.

The first sample decides without history.

TIME follows DPDK's vm_power_manager: in a busy hour MAX, in a quiet hour
MIN, in a traffic hour the TRAFFIC rule above with the policy's
thresholds; in any other hour nothing changes (None).  Hours are 0..23 of
the host's clock.
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

    __slots__ = ("min_pps", "avg_pps", "max_pps", "level", "below")

    #: Samples in a row below the margin before a step down (the host's).
    DOWN_SAMPLES = 3
    #: The step-down margin, in percent of the threshold (the host's).
    MARGIN_PCT = 10

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
        self.below = 0

    def _classify(self, pps: float, pct: int) -> Level:
        if pps * 100 >= self.max_pps * pct:
            return Level.MAX
        if pps * 100 >= self.avg_pps * pct:
            return Level.MEDIUM
        return Level.MIN

    def decide(self, pps: float) -> Level:
        """The level for a measured rate of `pps` packets/s."""
        up = self._classify(pps, 100)
        down = self._classify(pps, 100 - self.MARGIN_PCT)
        if self.level is None or up > self.level:
            self.level, self.below = up, 0
        elif pps < self.min_pps:
            self.level, self.below = Level.MIN, 0
        elif down >= self.level:
            self.below = 0
        else:
            self.below += 1
            if self.below >= self.DOWN_SAMPLES:
                self.level, self.below = down, 0
        return self.level

    def follow(self, level: Level) -> None:
        """Another rule set the level: carry on from there."""
        self.level = level
        self.below = 0


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
