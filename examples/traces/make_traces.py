#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the example traffic traces for `python3 -m vpwr.experiment`.

    python3 examples/traces/make_traces.py [OUTDIR]   (default: beside this file)

diurnal.csv  24 h in 1-minute steps, 4 vCPUs: a quiet night, a morning
             peak and a higher evening peak, the vCPUs unevenly loaded
             (RSS imbalance), +-8 % noise per minute.
bursty.csv   1 h (10:00-11:00) in 1-second steps, 2 vCPUs: a light base
             load with bursts of 1.5-2.8 Mpackets/s lasting 3-20 s, about
             every 90 s, partly shared between the vCPUs.

Columns: time_s (seconds since midnight), then packets/s per vCPU.  The
simulator serves 1e6 packets/s per GHz by default, so 3 Mpackets/s is what
one vCPU serves at the default table's top (3.0 GHz turbo).

Deterministic: a seeded random.Random using only random(), so the same
files come out on every run (and Python version).
"""

import math
import os
import random
import sys

SEED = 20240607


def bump(x, centre, width):
    return math.exp(-0.5 * ((x - centre) / width) ** 2)


def diurnal(rng):
    scale = (1.0, 0.85, 0.7, 0.5)
    rows = []
    for minute in range(24 * 60):
        h = minute / 60
        shape = (0.08 + 0.55 * bump(h, 10.5, 2.2) + 0.35 * bump(h, 14.5, 2.5)
                 + 0.85 * bump(h, 20.5, 1.8))
        rates = []
        for s in scale:
            noise = 1.0 + 0.08 * (2 * rng.random() - 1)
            rates.append(round(2.6e6 * s * shape * noise))
        rows.append((minute * 60, rates))
    return ["vcpu0", "vcpu1", "vcpu2", "vcpu3"], rows


def bursty(rng):
    start, seconds = 10 * 3600, 3600
    n = 2
    level = [[0.0] * seconds for _ in range(n)]
    t = 0.0
    while True:
        t += -90.0 * math.log(1.0 - rng.random())   # exponential gaps
        if t >= seconds:
            break
        length = 3 + int(18 * rng.random())
        height = 1.5e6 + 1.3e6 * rng.random()
        shared = rng.random() < 0.6
        first = int(2 * rng.random())
        for v in range(n):
            if v != first and not shared:
                continue
            h = height if v == first else height * (0.6 + 0.4 * rng.random())
            for s in range(int(t), min(int(t) + length, seconds)):
                level[v][s] = max(level[v][s], h)
    rows = []
    for s in range(seconds):
        rates = []
        for v in range(n):
            base = 0.25e6 * (1.0 + 0.2 * (2 * rng.random() - 1))
            rates.append(round(base + level[v][s]))
        rows.append((start + s, rates))
    return ["vcpu0", "vcpu1"], rows


def write(path, columns, rows):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("time_s," + ",".join(columns) + "\n")
        for t, rates in rows:
            f.write(f"{t}," + ",".join(str(r) for r in rates) + "\n")


def main(argv):
    outdir = argv[1] if len(argv) > 1 else os.path.dirname(
        os.path.abspath(__file__))
    os.makedirs(outdir, exist_ok=True)
    for name, make in (("diurnal", diurnal), ("bursty", bursty)):
        columns, rows = make(random.Random(f"{SEED}-{name}"))
        path = os.path.join(outdir, name + ".csv")
        write(path, columns, rows)
        print(f"wrote {path}: {len(rows)} rows, {len(columns)} vCPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
