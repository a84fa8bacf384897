# SPDX-License-Identifier: MIT
"""The simulator backend through Python: options, the virtual clock and
the power model."""

import errno

import pytest

import vpwr
from conftest import SIM_TABLE, SIM_TURBO


def test_defaults():
    with vpwr.SimBackend() as sim:
        assert sim.nr_cpus == 4
        assert sim.freqs(0)[:len(SIM_TABLE)] == SIM_TABLE
        assert sim.limits(0)[0] == SIM_TABLE[0]
        assert sim.limits(0)[1] in (SIM_TABLE[-1], SIM_TURBO)


def test_own_table_without_turbo():
    with vpwr.SimBackend(nr_cpus=2, freqs=[1000000, 2000000]) as sim:
        assert sim.nr_cpus == 2
        assert sim.freqs(1) == [1000000, 2000000]
        sim.set_freq(1, 1500000)          # rounded down to a table entry
        assert sim.freq(1) == 1000000
        sim.set_limits(1, 2000000, 2000000)
        assert sim.freq(1) == 2000000
        assert sim.limits(1) == (2000000, 2000000)


def test_cpus_per_policy():
    # CPUs 0-1 and 2-3 share a policy: a change to one moves its partner.
    with vpwr.SimBackend(nr_cpus=4, cpus_per_policy=2) as sim:
        sim.set_limits(1, SIM_TABLE[0], SIM_TABLE[2])
        assert sim.limits(0) == (SIM_TABLE[0], SIM_TABLE[2])
        assert sim.limits(2)[1] != SIM_TABLE[2]
    with pytest.raises(ValueError):
        vpwr.SimBackend(cpus_per_policy=-1)


def test_policy_cpus():
    with vpwr.SimBackend(nr_cpus=4, cpus_per_policy=2) as sim:
        assert [sim.policy_cpus(c) for c in range(4)] == [
            {0, 1}, {0, 1}, {2, 3}, {2, 3}]
        assert isinstance(sim.policy_cpus(0), frozenset)
    with vpwr.SimBackend(nr_cpus=3) as sim:        # every CPU its own
        assert [sim.policy_cpus(c) for c in range(3)] == [{0}, {1}, {2}]
        with pytest.raises(vpwr.Error) as e:
            sim.policy_cpus(3)
        assert e.value.errno == errno.EINVAL
        for bad in ("0", None, 1.0, True):
            with pytest.raises(TypeError):
                sim.policy_cpus(bad)
        with pytest.raises(ValueError):
            sim.policy_cpus(-1)
    with pytest.raises(ValueError):                # closed
        sim.policy_cpus(0)


def test_virtual_clock_energy_and_residency():
    with vpwr.SimBackend(nr_cpus=1) as sim:
        assert sim.now == 0
        sim.set_freq(0, SIM_TABLE[0])
        sim.advance(10**9)
        assert sim.now == 10**9
        assert sim.residency(0, SIM_TABLE[0]) == 10**9
        watts = sim.power(0, SIM_TABLE[0], 1.0)
        assert sim.energy(0) == pytest.approx(watts, rel=1e-6)
        # More frequency, more power; idle draws less than busy.
        assert sim.power(0, SIM_TABLE[-1], 1.0) > watts
        assert sim.power(0, SIM_TABLE[0], 0.0) < watts


def test_util_zero_means_zero():
    """In C util 0 means "default" (1.0); in Python 0 is 0."""
    with vpwr.SimBackend(nr_cpus=1, util=0) as idle, \
            vpwr.SimBackend(nr_cpus=1) as busy:
        for sim in (idle, busy):
            sim.set_freq(0, SIM_TABLE[0])
            sim.advance(10**9)
        assert idle.energy(0) < busy.energy(0)


def test_bad_options_raise():
    with pytest.raises(ValueError):
        vpwr.SimBackend(nr_cpus=0)
    with pytest.raises(ValueError):
        vpwr.SimBackend(util=1.5)
    with pytest.raises(ValueError):
        vpwr.SimBackend(static_w=-1)
    with pytest.raises(ValueError):
        vpwr.SimBackend(freqs=[])
    with pytest.raises(vpwr.Error):
        vpwr.SimBackend(freqs=[2000000, 1000000])  # not ascending


def test_bad_cpu_is_an_error():
    with vpwr.SimBackend(nr_cpus=2) as sim:
        with pytest.raises(vpwr.Error):
            sim.freq(2)


def test_wallclock():
    with vpwr.SimBackend(nr_cpus=1, wallclock=True) as sim:
        first = sim.now
        import time
        time.sleep(0.02)
        assert sim.now > first
