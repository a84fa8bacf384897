# SPDX-License-Identifier: MIT
"""vpwr.experiment: traces, policies on the simulator behind the host,
metrics against the all-max baseline, JSON, PNGs, the command line."""

import json
import os
import random
import sys

import pytest

import vpwr
from vpwr import experiment as ex
from vpwr.decide import Level, TimeDecider, TrafficDecider

MIN, MED, MAX = 800000, 1600000, 3000000   # the default sim table's picks
NOM = 2400000           # where a simulated CPU starts (the highest nominal)
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..",
                                    ".."))
EXAMPLES = os.path.join(REPO, "examples")


def trace_of(rows, name="t"):
    """A trace from [(time_s, rate, rate, ...), ...]."""
    text = "\n".join(",".join(str(x) for x in row) for row in rows) + "\n"
    return ex.parse_trace(text, name)


def freqs_of(result, vcpu=0):
    return [f[vcpu] for f in result.freq_khz]


# ------------------------------------------------------------------ traces

def test_parse_with_header_comments_and_suffixes():
    tr = ex.parse_trace("# a comment\n"
                        "time_s, rx0, rx1\n"
                        "\n"
                        "0, 100k, 1.5M\n"
                        "10, 2e5, 0\n", "x")
    assert tr.name == "x"
    assert tr.columns == ("rx0", "rx1")
    assert tr.times_s == (0.0, 10.0)
    assert tr.rates == ((100000.0, 1500000.0), (200000.0, 0.0))
    assert tr.nr_vcpus == 2 and tr.steps == 2
    # The last row lasts as long as the step before it.
    assert tr.duration_s == 20.0
    assert tr.offered_units == pytest.approx(100000 * 10 + 1.5e6 * 10
                                             + 200000 * 10)


def test_parse_without_header():
    tr = ex.parse_trace("0,1\n1,2\n")
    assert tr.columns == ("vcpu0",)


@pytest.mark.parametrize("text, where, words", [
    ("", None, "no data rows"),
    ("time_s,vcpu0\n", None, "no data rows"),
    ("# only a comment\n\n", None, "no data rows"),
    ("0,1\n", 1, "at least 2 rows"),
    ("when,vcpu0\n0,1\n1,1\n", 1, "first column must be the time"),
    ("time_s\n0\n", 1, "at least one packets/s column"),
    ("0\n1\n", 1, "at least one packets/s column"),
    ("time_s,a,b\n0,1,2\n1,1\n", 3, "2 columns, expected 3"),
    ("0,1,2\n1,1,2,3\n", 2, "4 columns, expected 3"),
    ("time_s,a\n0,1\n1,abc\n", 3, "column 2 (a): 'abc' is not a number"),
    ("0,1\nx1,1\n", 2, "column 1 (time_s): 'x1' is not a number"),
    ("0,1\n1,-5\n", 2, "must be a finite number >= 0"),
    ("0,1\n1,nan\n", 2, "must be a finite number >= 0"),
    ("0,1\n1,inf\n", 2, "must be a finite number >= 0"),
    ("-1,1\n1,1\n", 1, "must be a finite number >= 0"),
    ("0,1\n60,1\n60,2\n", 3, "time 60 is not after 60 (line 2)"),
    ("0,1\n60,1\n30,2\n", 3, "is not after 60"),
])
def test_parse_errors_say_where_and_why(text, where, words):
    with pytest.raises(ex.TraceError) as ei:
        ex.parse_trace(text, "bad.csv")
    msg = str(ei.value)
    prefix = f"bad.csv:{where}: " if where else "bad.csv: "
    assert msg.startswith(prefix), msg
    assert words in msg, msg
    assert isinstance(ei.value, ValueError)


def test_load_errors_name_the_file(tmp_path):
    missing = tmp_path / "missing.csv"
    with pytest.raises(ex.TraceError, match="missing.csv: No such file"):
        ex.load_trace(missing)
    bad = tmp_path / "bad.csv"
    bad.write_text("0,1\n1,x\n")
    with pytest.raises(ex.TraceError) as ei:
        ex.load_trace(bad)
    assert str(ei.value).startswith(f"{bad}:2: ")
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"0,1\n\xff\xfe,1\n")
    with pytest.raises(ex.TraceError, match="not UTF-8"):
        ex.load_trace(binary)
    with pytest.raises(TypeError):
        ex.parse_trace(b"0,1\n1,1\n")


def test_cli_reports_trace_errors(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("time_s,a\n0,1\n5,1\n4,1\n")
    assert ex.main([str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:4: time 4 is not after 5 (line 3)" in err


# ---------------------------------------------------------------- policies

def test_traffic_decider_hysteresis():
    # The host's rule: up at once, down after 3 samples below the
    # threshold minus 10 % (540 to leave MEDIUM, 900 to leave MAX), to MIN
    # at once below min_pps.
    d = TrafficDecider(vpwr.Policy.traffic(300, 600, 1000))
    seq = [(100, Level.MIN), (700, Level.MEDIUM), (500, Level.MEDIUM),
           (550, Level.MEDIUM), (500, Level.MEDIUM), (500, Level.MEDIUM),
           (500, Level.MIN), (1200, Level.MAX), (950, Level.MAX),
           (800, Level.MAX), (800, Level.MAX), (800, Level.MEDIUM),
           (299, Level.MIN)]
    assert [d.decide(p) for p, _ in seq] == [lv for _, lv in seq]
    # First decisions with no history follow the rate alone.
    assert TrafficDecider(vpwr.Policy.traffic(3, 6, 10)).decide(7) == \
        Level.MEDIUM
    with pytest.raises(ValueError, match="ordered"):
        TrafficDecider(vpwr.Policy.traffic(5, 4, 10))


def test_traffic_decider_agrees_with_the_host(sim, resolver):
    """vpwr.decide's port and the host's own evaluator, fed the same
    rates (one a second on the host's clock), decide the same levels."""
    rnd = random.Random(7)
    pol = vpwr.Policy.traffic(200, 5000, 20000, vcpus=[0])
    rates = [rnd.choice((0, 150, 1000, 4600, 5000, 18500, 20000, 30000))
             for _ in range(300)]
    state = {"ms": 10**12, "packets": 0}
    levels = {800000: Level.MIN, 1600000: Level.MEDIUM, 3000000: Level.MAX}
    d = TrafficDecider(pol)
    with vpwr.Host(sim, resolver, now_fn=lambda: state["ms"],
                   traffic_fn=lambda dom, p: state["packets"]) as host:
        host.handle("vm1", vpwr.Message.policy_set(pol)).check()
        for pps in rates:
            state["ms"] += 1000
            state["packets"] += pps
            host.evaluate()
            assert levels[host.cpu_info(0).cur_khz] == d.decide(pps), pps


def test_time_decider():
    t = TimeDecider(vpwr.Policy.time(busy=[9], quiet=[0], traffic=[12],
                                     min_pps=3, avg_pps=6, max_pps=10))
    assert t.decide(9, 0) == Level.MAX
    assert t.decide(0, 10**6) == Level.MIN
    assert t.decide(5, 10**6) is None
    # In traffic hours the TRAFFIC rule carries on from the level set.
    t.decide(9, 0)
    assert t.decide(12, 7) == Level.MAX
    assert t.decide(12, 5) == Level.MAX       # down only after 3 samples
    assert t.decide(12, 5) == Level.MIN


def test_traffic_follows_thresholds_with_hysteresis():
    rates = [100e3, 700e3, 500e3, 200e3, 500e3, 1.2e6, 800e3, 500e3,
             1.5e6, 100e3, 100e3]
    tr = trace_of([(i, r) for i, r in enumerate(rates)])
    res = ex.run(tr, "traffic:min=300k:avg=600k:max=1M")
    # The host decides step i on what step i-1 measured; at step 0 it has
    # one count and no rate yet, so the CPU stays where it started.
    want = [NOM, MIN, MED, MED, MIN, MIN, MAX, MAX, MAX, MAX, MIN]
    assert freqs_of(res) == want
    assert res.policy.decided_by == "host"
    assert res.changes == 5       # start (2.4 GHz) -> min, then 4 moves


def test_traffic_is_decided_per_vcpu():
    """Each vCPU on its own rate: one domain per vCPU."""
    tr = trace_of([(i, 100e3, 2e6) for i in range(4)])
    res = ex.run(tr, "traffic:min=300k:avg=600k:max=1M")
    assert res.freq_khz[1:] == [(MIN, MAX)] * 3


def test_time_policy_hours():
    # Half-hour steps from midnight: hours 0,0,1,1,2,2,3,3,4,4.
    tr = trace_of([(1800 * i, 2e6) for i in range(10)])
    res = ex.run(tr, "time:busy=1:quiet=0,3:traffic=4:min=1:avg=2:max=3")
    # Hour 2 is none of them: TIME says nothing and the CPU goes back to
    # where it started; in traffic hour 4 the first step has no rate yet.
    assert freqs_of(res) == [MIN, MIN, MAX, MAX, NOM, NOM, MIN, MIN,
                             NOM, MAX]
    assert res.policy.kind == "time"
    assert res.policy.decided_by == "host"


def test_time_hours_are_the_traces_hours_of_day():
    """The host's clock is the trace's: day 2's hour 1 is hour 1."""
    tr = trace_of([(86400 + 1800 * i, 2e6) for i in range(4)])
    res = ex.run(tr, "time:busy=1:quiet=0:traffic=:min=1:avg=2:max=3")
    assert freqs_of(res) == [MIN, MIN, MAX, MAX]


@pytest.mark.parametrize("level, khz", [("low", MIN), ("medium", MED),
                                        ("high", MAX)])
def test_workload_is_decided_by_the_host(level, khz):
    tr = trace_of([(0, 1e5, 1e5), (1, 1e5, 1e5)])
    res = ex.run(tr, f"workload:{level}")
    assert res.policy.decided_by == "host"
    assert res.freq_khz == [(khz, khz), (khz, khz)]
    assert res.residency[khz] == 1.0


def test_policy_vcpus_govern_only_those():
    tr = trace_of([(0, 1e5, 1e5), (1, 1e5, 1e5)])
    res = ex.run(tr, "min:vcpus=1")
    assert res.freq_khz[0] == (2400000, MIN)   # vCPU 0 as the sim starts


@pytest.mark.parametrize("spec, words", [
    ("fastest", "unknown policy"),
    ("traffic:min=5:avg=4:max=10", "ordered"),
    ("traffic:min=x", "not a number"),
    ("traffic:foo=1", "unknown option 'foo'"),
    ("time:busy=8-10:quiet=10-12", "both busy and quiet"),
    ("time:busy=25", "outside 0..23"),
    ("workload:extreme", "must be one of"),
    ("func:nomodule", "func:MODULE:FUNCTION"),
    ("func:no_such_module_vpwr:f", "cannot import"),
    ("func:/nonexistent/x.py:f", "no such file"),
    ("func:os:no_such_function", "has no 'no_such_function'"),
    ("max:vcpus=a", "not a list"),
])
def test_bad_policies(spec, words):
    with pytest.raises(ex.ExperimentError, match=words):
        ex.parse_policy(spec)


# ----------------------------------------------------------------- metrics

def heavy_trace():
    """2.5 Mpackets/s on each of 2 vCPUs: 0.8 GHz cannot keep up, the top
    frequency (3.0 GHz) can."""
    return trace_of([(t, 2.5e6, 2.0e6) for t in range(0, 20)])


def test_baseline_uses_more_energy_than_min():
    c = ex.compare(heavy_trace(), ["min"])
    base, low = c.baseline, c.result("min")
    assert base.label == "max"
    assert base.energy_j > low.energy_j > 0
    assert base.avg_freq_khz == MAX and low.avg_freq_khz == MIN


def test_service_lost_by_min_but_not_by_max():
    c = ex.compare(heavy_trace(), ["min", "max"])
    assert [r.label for r in c.results] == ["max", "min"]  # max runs once
    base, low = c.baseline, c.result("min")
    assert base.dropped == 0 and base.backlog == 0 and base.lost == 0
    assert base.mean_wait_s == 0 and base.peak_backlog == 0
    assert base.served == pytest.approx(base.offered)
    assert low.lost > 0 and low.dropped > 0
    assert low.peak_backlog == pytest.approx(1e6)    # the sim's default
    assert low.mean_wait_s > 0
    assert low.served + low.dropped + low.backlog == pytest.approx(
        low.offered)
    assert low.pct(low.lost) > 50


def test_power_series_adds_up_to_energy():
    tr = heavy_trace()
    res = ex.run(tr, "traffic")
    assert len(res.power_w) == tr.steps
    assert sum(res.power_w) * 1.0 == pytest.approx(res.energy_j)
    assert sum(res.residency.values()) == pytest.approx(1.0)


def test_deterministic():
    tr = ex.load_trace(os.path.join(EXAMPLES, "traces", "bursty.csv"))
    short = ex.Trace(tr.name, tr.times_s[:300], tr.rates[:300], tr.columns)
    first = ex.to_json([ex.compare(short)])
    second = ex.to_json([ex.compare(short)])
    assert json.dumps(first) == json.dumps(second)


# ----------------------------------------------------------- user function

def test_user_function_sees_observations_and_sets_frequencies():
    tr = trace_of([(0, 1e5, 2e5), (10, 3e5, 4e5), (20, 5e5, 6e5)])
    seen = []

    def policy(step):
        seen.append(step)
        return [1000000, 1700000]   # the second rounds down to 1.6 GHz

    res = ex.run(tr, policy)
    assert res.policy.label == "func:policy"
    assert res.freq_khz == [(1000000, 1600000)] * 3
    assert [s.index for s in seen] == [0, 1, 2]
    assert seen[0].pps == (1e5, 2e5)            # step 0: the first rates
    assert seen[2].pps == pytest.approx((3e5, 4e5))   # measured
    assert seen[2].served_pps == pytest.approx((3e5, 4e5))
    assert seen[1].freq_khz == (1000000, 1600000)
    assert seen[0].freq_khz == (2400000, 2400000)
    assert seen[0].dt_s == 10 and seen[0].hour == 0
    assert seen[0].freqs_khz[0][0] == MIN and seen[0].nr_vcpus == 2
    assert seen[0].capacity(2000000) == 2e6


def test_user_function_forms():
    tr = trace_of([(0, 1e5, 1e5), (1, 1e5, 1e5)])
    assert ex.run(tr, lambda s: 1200000).freq_khz[0] == (1200000, 1200000)
    assert ex.run(tr, lambda s: ["max", None]).freq_khz[0] == (MAX, 2400000)

    class Stateful:
        """A class: a fresh instance per run."""

        def __init__(self):
            self.n = 0

        def __call__(self, step):
            self.n += 1
            return [MIN if self.n == 1 else MAX] * 2

    for _ in range(2):
        assert ex.run(tr, Stateful).freq_khz == [(MIN, MIN), (MAX, MAX)]


@pytest.mark.parametrize("fn, words", [
    (lambda s: [MIN], "1 values at step 0: expected one per vCPU"),
    (lambda s: object(), "expected one frequency"),
    (lambda s: [5000000, MIN], "5000000 kHz for vCPU 0 at step 0: outside"),
    (lambda s: [1.5, MIN], "expected a frequency in kHz"),
    (lambda s: ["up", MIN], "not a frequency, nor min"),
])
def test_user_function_mistakes_are_clear(fn, words):
    tr = trace_of([(0, 1e5, 1e5), (1, 1e5, 1e5)])
    with pytest.raises(ex.ExperimentError, match=words):
        ex.run(tr, fn)


def test_user_function_exception_propagates():
    tr = trace_of([(0, 1), (1, 1)])

    def broken(step):
        raise KeyError("mine")

    with pytest.raises(KeyError, match="mine"):
        ex.run(tr, broken)


def test_function_from_file_and_module(tmp_path, monkeypatch):
    f = tmp_path / "mypolicy_vpwr_test.py"
    f.write_text("def slow(step):\n    return [800000] * step.nr_vcpus\n")
    tr = trace_of([(0, 1), (1, 1)])
    res = ex.run(tr, f"func:{f}:slow")
    assert res.label == "func:slow" and res.freq_khz[0] == (MIN,)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert ex.run(tr, "func:mypolicy_vpwr_test:slow").freq_khz[0] == (MIN,)
    # The shipped example.
    res = ex.run(tr, "func:" + os.path.join(EXAMPLES, "policies",
                                            "headroom.py") + ":decide")
    assert res.freq_khz[0] == (MIN,)


# -------------------------------------------------------------- outputs

def run_cli(argv, capsys):
    rc = ex.main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_cli_table(tmp_path, capsys):
    p = tmp_path / "small.csv"
    p.write_text("time_s,vcpu0\n0,1e5\n60,2.5e6\n120,1e5\n")
    rc, out, err = run_cli([str(p)], capsys)
    assert rc == 0, err
    assert out.startswith("trace small: 1 vCPUs, 3 steps")
    for label in ex.DEFAULT_POLICIES:
        assert f"\n{label} " in out
    assert "residency" in out and "% of time" in out


def test_json_schema(tmp_path, capsys):
    p = tmp_path / "small.csv"
    p.write_text("time_s,a,b\n0,1e5,2e6\n60,2.5e6,0\n120,1e5,1e6\n")
    rc, out, err = run_cli([str(p), "--json", "-", "-p", "min", "-p",
                            "traffic", "-p", "workload:high"], capsys)
    assert rc == 0, err
    doc = json.loads(out)            # only JSON on stdout
    assert doc["schema"] == "vpwr.experiment/1"
    assert len(doc["traces"]) == 1
    t = doc["traces"][0]
    assert t["trace"] == {"name": "small", "nr_vcpus": 2,
                          "columns": ["a", "b"], "steps": 3,
                          "duration_s": 180.0,
                          "offered": pytest.approx(5.7e6 * 60)}
    assert t["baseline"] == "max"
    assert t["sim"]["freqs_khz"][0] == MIN
    labels = [r["policy"]["label"] for r in t["results"]]
    assert labels == ["max", "min", "traffic", "workload:high"]
    for r in t["results"]:
        assert set(r) == {"policy", "energy_j", "avg_freq_khz", "residency",
                          "changes", "service", "vs_baseline"}
        assert set(r["policy"]) >= {"label", "kind", "spec", "decided_by"}
        assert r["policy"]["decided_by"] in ("host", "python")
        assert set(r["service"]) == {"offered", "served", "dropped",
                                     "backlog", "peak_backlog",
                                     "mean_wait_s", "dropped_pct",
                                     "lost_pct"}
        assert set(r["vs_baseline"]) == {"energy_saved_j",
                                         "energy_saved_pct", "extra_dropped",
                                         "extra_lost_pct", "added_wait_s"}
        assert sum(r["residency"].values()) == pytest.approx(1.0)
        assert all(isinstance(v, (int, float)) for v in
                   r["service"].values())
    base = t["results"][0]
    assert base["vs_baseline"]["energy_saved_j"] == 0
    assert t["results"][1]["vs_baseline"]["energy_saved_pct"] > 0
    assert t["results"][2]["policy"]["thresholds_pps"]["max"] > 0


def test_json_file_and_bad_options(tmp_path, capsys):
    p = tmp_path / "small.csv"
    p.write_text("0,1\n1,1\n")
    out = tmp_path / "r.json"
    rc, stdout, _ = run_cli([str(p), "-q", "--json", str(out)], capsys)
    assert rc == 0 and stdout == ""
    assert json.loads(out.read_text())["schema"] == ex.SCHEMA
    rc, _, err = run_cli([str(p), "-p", "warp"], capsys)
    assert rc == 2 and "unknown policy 'warp'" in err
    rc, _, err = run_cli([str(p), "--work-per-ghz", "0"], capsys)
    assert rc == 2 and "--work-per-ghz must be a positive number" in err
    rc, _, err = run_cli([str(p), "--json", str(tmp_path / "no" / "x.json")],
                         capsys)
    assert rc == 1 and "No such file" in err


def test_png_plots(tmp_path, capsys):
    pytest.importorskip(
        "matplotlib",
        reason="matplotlib is not installed (apt-get install "
        "python3-matplotlib); the PNG plots are not tested")
    p = tmp_path / "small.csv"
    p.write_text("time_s,a\n0,1e5\n60,2.5e6\n120,1e5\n180,1e5\n")
    outputs = []
    for i in range(2):
        d = tmp_path / f"plots{i}"
        rc, out, err = run_cli([str(p), "--plots", str(d), "-p", "traffic"],
                               capsys)
        assert rc == 0, err
        files = sorted(os.listdir(d))
        assert files == ["small-energy.png", "small-timeline.png"]
        for f in files:
            data = (d / f).read_bytes()
            assert data.startswith(b"\x89PNG\r\n\x1a\n")
            assert 2000 < len(data) < 100_000
            assert b"Software" not in data
            assert f"wrote {d / f}" in out
        outputs.append([(d / f).read_bytes() for f in files])
    # Deterministic: the same inputs give identical files.
    assert outputs[0] == outputs[1]


def test_module_runs_as_main(tmp_path):
    import subprocess
    p = tmp_path / "small.csv"
    p.write_text("0,1\n1,1\n")
    r = subprocess.run([sys.executable, "-m", "vpwr.experiment", str(p),
                        "-p", "min", "--json", "-"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["traces"][0]["trace"]["steps"] == 2


# ------------------------------------------------------- shipped examples

def test_shipped_traces_come_from_the_generator(tmp_path):
    import subprocess
    r = subprocess.run([sys.executable, os.path.join(EXAMPLES, "traces",
                                                     "make_traces.py"),
                        str(tmp_path)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    for name in ("diurnal.csv", "bursty.csv"):
        with open(os.path.join(EXAMPLES, "traces", name), "rb") as f:
            assert (tmp_path / name).read_bytes() == f.read(), \
                f"examples/traces/{name} is stale: run make_traces.py"


def test_readme_results_are_current():
    """docs/experiment/results.txt (and the README's table) is what the
    README's command prints today."""
    traces = [ex.load_trace(os.path.join(EXAMPLES, "traces", n))
              for n in ("diurnal.csv", "bursty.csv")]
    policies = ["max", "min", "workload:medium", "time", "traffic",
                "func:" + os.path.join(EXAMPLES, "policies", "headroom.py")
                + ":decide"]
    got = ex.format_table([ex.compare(t, policies) for t in traces])
    with open(os.path.join(REPO, "docs", "experiment", "results.txt"),
              encoding="utf-8") as f:
        shipped = "".join(line for line in f
                          if not line.startswith("wrote "))
    assert got == shipped, "docs/experiment is stale: rerun the README's " \
        "command"
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    assert got.split("\nresidency")[0] in readme
