# SPDX-License-Identifier: MIT
"""An example policy function for `python3 -m vpwr.experiment`:

    python3 -m vpwr.experiment examples/traces/bursty.csv \\
        -p max -p traffic -p func:examples/policies/headroom.py:decide

Each step, for each vCPU, pick the lowest frequency whose capacity covers
the packet rate measured over the last step with 25 % headroom, plus what
it takes to drain the backlog within this step.
"""

HEADROOM = 1.25


def decide(step):
    """vpwr.experiment.Step -> one frequency (kHz) per vCPU."""
    out = []
    for v in range(step.nr_vcpus):
        need = step.pps[v] * HEADROOM + step.backlog[v] / step.dt_s
        table = step.freqs_khz[v]
        out.append(next((khz for khz in table if step.capacity(khz) >= need),
                        table[-1]))
    return out
