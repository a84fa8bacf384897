# SPDX-License-Identifier: MIT
"""Backends through Python: a real cpufreq driver on a sysfs root of our
own making, the state file, EPP, the simulator's per-CPU tables and work
model, and the energy meters."""

import errno
import os
import shutil

import pytest

import vpwr

TABLE = [800000, 1200000, 1600000, 2000000, 2400000]


def write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(f"{text}\n")


def read(root, rel):
    with open(os.path.join(root, rel)) as f:
        return f.read().strip()


@pytest.fixture
def acpi_root(tmp_path):
    """A static acpi-cpufreq tree for 2 CPUs (no kernel behind it: what
    the backend writes stays as written)."""
    root = str(tmp_path / "sys")
    cpu = "devices/system/cpu"
    write(root, f"{cpu}/present", "0-1")
    write(root, f"{cpu}/online", "0-1")
    write(root, f"{cpu}/cpufreq/boost", "1")
    for c in range(2):
        d = f"{cpu}/cpu{c}/cpufreq"
        write(root, f"{cpu}/cpu{c}/online", "1")
        for name, value in {
                "scaling_driver": "acpi-cpufreq",
                "scaling_available_governors":
                    "ondemand userspace performance powersave",
                "scaling_governor": "ondemand",
                "scaling_min_freq": 800000, "scaling_max_freq": 2400000,
                "scaling_cur_freq": 1600000,
                "scaling_setspeed": "<unsupported>",
                "cpuinfo_min_freq": 800000, "cpuinfo_max_freq": 2400000,
                "scaling_available_frequencies":
                    " ".join(str(f) for f in reversed(TABLE)),
                "related_cpus": c, "affected_cpus": c}.items():
            write(root, f"{d}/{name}", value)
    return root


def test_real_driver_on_a_sysfs_root(acpi_root):
    gov = "devices/system/cpu/cpu0/cpufreq/scaling_governor"
    with vpwr.Backend("acpi-cpufreq", sysfs_root=acpi_root) as b:
        assert b.name == "acpi-cpufreq" and b.nr_cpus == 2
        caps = b.caps(0)
        assert vpwr.BackendCaps.SET_FREQ in caps
        assert vpwr.BackendCaps.TABLE in caps
        assert b.freqs(0) == TABLE
        assert b.freq(0) == 1600000
        assert b.limits(1) == (800000, 2400000)
        assert b.turbo(0) is True
        b.set_freq(0, 1200000)
        assert read(acpi_root, gov) == "userspace"
        assert read(acpi_root, gov.replace("governor", "setspeed")) == \
            "1200000"
        with pytest.raises(vpwr.Error) as ei:
            b.epp(0)
        assert ei.value.errno == vpwr.ErrorCode.UNSUPPORTED
    assert read(acpi_root, gov) == "ondemand"      # restored on close


def test_auto_picks_the_driver(acpi_root):
    with vpwr.Backend("auto", sysfs_root=acpi_root) as b:
        assert b.name == "acpi-cpufreq"


def test_state_file(acpi_root, tmp_path):
    state = tmp_path / "vpwr.state"
    gov = "devices/system/cpu/cpu1/cpufreq/scaling_governor"
    b = vpwr.Backend("acpi-cpufreq", sysfs_root=acpi_root, state_file=state)
    b.set_freq(1, 2000000)
    assert state.exists() and state.stat().st_size > 0
    assert read(acpi_root, gov) == "userspace"
    # A process that dies without restoring: the next open with the same
    # state file puts the originals back.
    b._ref.ptr = None      # forget the handle without freeing it
    with vpwr.Backend("acpi-cpufreq", sysfs_root=acpi_root,
                      state_file=state):
        assert read(acpi_root, gov) == "ondemand"


def test_backend_errors(acpi_root, tmp_path):
    with pytest.raises(vpwr.Error) as ei:
        vpwr.Backend("no-such-driver")
    assert ei.value.errno == errno.ENOENT
    with pytest.raises(vpwr.Error) as ei:
        vpwr.Backend("intel_pstate", sysfs_root=acpi_root)
    assert ei.value.errno == errno.ENODEV
    with pytest.raises(vpwr.Error):
        vpwr.Backend("auto", sysfs_root=tmp_path / "empty")
    with pytest.raises(TypeError):
        vpwr.Backend("auto", state_file=3)


def test_policy_cpus_of_a_real_driver(acpi_root):
    # As the kernel shows a shared policy: cpu1/cpufreq is cpu0's, whose
    # related_cpus names both.
    cpu = os.path.join(acpi_root, "devices/system/cpu")
    with vpwr.Backend("acpi-cpufreq", sysfs_root=acpi_root) as b:
        assert b.policy_cpus(0) == {0} and b.policy_cpus(1) == {1}
    shutil.rmtree(os.path.join(cpu, "cpu1/cpufreq"))
    os.symlink("../cpu0/cpufreq", os.path.join(cpu, "cpu1/cpufreq"))
    write(acpi_root, "devices/system/cpu/cpu0/cpufreq/related_cpus", "0 1")
    write(acpi_root, "devices/system/cpu/cpu0/cpufreq/affected_cpus", "0 1")
    with vpwr.Backend("acpi-cpufreq", sysfs_root=acpi_root) as b:
        assert b.policy_cpus(0) == b.policy_cpus(1) == frozenset({0, 1})
        assert isinstance(b.policy_cpus(1), frozenset)
        assert vpwr.BackendCaps.PER_CPU not in b.caps(1)
        with pytest.raises(vpwr.Error) as e:
            b.policy_cpus(2)
        assert e.value.errno == errno.EINVAL


def test_sim_epp(sim):
    assert 0 <= sim.epp(0) <= 255
    sim.set_epp(0, "power")
    assert sim.epp(0) == 255
    sim.set_epp(0, 0)
    assert sim.epp(0) == 0
    with pytest.raises(ValueError):
        sim.set_epp(0, 256)
    with pytest.raises(ValueError):
        sim.set_epp(0, "fastest")
    with pytest.raises(TypeError):
        sim.set_epp(0, 1.0)


def test_sim_per_cpu_tables():
    with vpwr.SimBackend(cpus=[([1000000, 2000000], 0),
                               ([800000, 1600000, 2400000], 3000000)]) as s:
        assert s.nr_cpus == 2
        assert s.freqs(0) == [1000000, 2000000]
        assert s.freqs(1) == [800000, 1600000, 2400000, 3000000]
        assert vpwr.BackendCaps.TURBO not in s.caps(0)
    with pytest.raises(ValueError, match="2 entries for 3 CPUs"):
        vpwr.SimBackend(nr_cpus=3, cpus=[([1], 0), ([1], 0)])
    with pytest.raises(TypeError):
        vpwr.SimBackend(cpus=[[1000000]])
    with pytest.raises(TypeError):
        vpwr.SimBackend(cpus="x")
    with pytest.raises(ValueError):
        vpwr.SimBackend(cpus=[([], 0)])


def test_sim_work_model():
    with vpwr.SimBackend(nr_cpus=1, freqs=[1000000, 2000000],
                         work_per_ghz=1000, max_backlog=500, util=0) as s:
        s.set_freq(0, 1000000)                # capacity 1000 units/s
        s.set_offered(0, 1500)
        s.advance(2 * 10**9)
        st = s.work_stats(0)
        assert isinstance(st, vpwr.WorkStats)
        assert st.offered == pytest.approx(3000)
        assert st.served == pytest.approx(2000)
        assert st.backlog == pytest.approx(500)      # full after 1 s
        assert st.dropped == pytest.approx(500)
        assert st.wait_unit_s > 0 and st.mean_wait_s > 0
        s.set_freq(0, 2000000)                # capacity 2000: drains
        s.set_offered(0, 0)
        s.advance(10**9)
        assert s.work_stats(0).backlog == 0
        with pytest.raises(ValueError):
            s.set_offered(0, -1)
        with pytest.raises(ValueError):
            s.set_offered(0, float("nan"))
        with pytest.raises(TypeError):
            s.set_offered(0, "1")
    with pytest.raises(ValueError):
        vpwr.SimBackend(work_per_ghz=0)


def test_sim_meter(sim):
    with vpwr.Meter("sim", backend=sim) as m:
        assert m.name == "sim" and m.nr_domains == 4
        assert m.domains == ["cpu0", "cpu1", "cpu2", "cpu3"]
        sim.advance(10**9)
        assert m.read(2) == pytest.approx(sim.energy(2))
        with pytest.raises(vpwr.Error):
            m.read(4)
    m = vpwr.Meter("sim", backend=sim)
    sim.close()                     # closes the meter that borrows it first
    assert m.closed


def test_rapl_meter(tmp_path):
    zone = tmp_path / "class" / "powercap" / "intel-rapl:0"
    zone.mkdir(parents=True)
    (zone / "name").write_text("package-0\n")
    (zone / "max_energy_range_uj").write_text("1000000000\n")
    (zone / "energy_uj").write_text("5000000\n")
    with vpwr.Meter("rapl", sysfs_root=tmp_path) as m:
        assert m.domains == ["package-0"]
        assert m.read(0) == 0.0
        (zone / "energy_uj").write_text("7500000\n")
        assert m.read(0) == pytest.approx(2.5)
        (zone / "energy_uj").write_text("500000\n")        # wrapped
        assert m.read(0) == pytest.approx(2.5 + 993.0)


def test_meter_errors(tmp_path, sim):
    with pytest.raises(vpwr.Error) as ei:
        vpwr.Meter("geiger")
    assert ei.value.errno == errno.ENOENT
    with pytest.raises(vpwr.Error):
        vpwr.Meter("rapl", sysfs_root=tmp_path)
    with pytest.raises(vpwr.Error):
        vpwr.Meter("sim")                          # needs a backend
    with pytest.raises(TypeError):
        vpwr.Meter("sim", backend="sim")
    with pytest.raises(TypeError):
        vpwr.Meter(None)
